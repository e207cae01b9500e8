//! Publishing with the real binary: a crash (kill -9) between an upload and its publish
//! leaves the public answers as they were and the draft listed; the draft can still be
//! published after the restart, a restart serves the published version, and the
//! `dtmap round` commands work on the same data directory.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::admin::{master_list, multipart};

const TOKEN: &str = "process-token-0123456789";

/// A copy of the built-in Iraq data with an admin area, in a temporary folder.
fn iraq_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("geodata/iraq");
    for entry in std::fs::read_dir(&source).unwrap().flatten() {
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let mut config = std::fs::read_to_string(dir.path().join("dtmap.toml")).unwrap();
    config.push_str("\n[admin]\ndata_dir = \"published\"\n");
    std::fs::write(dir.path().join("dtmap.toml"), config).unwrap();
    dir
}

struct Running {
    child: Child,
    address: String,
}

/// A server a failed assertion leaves behind is stopped all the same.
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &Path) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dtmap"))
        .args(["--bind", "127.0.0.1:0", "--config"])
        .arg(dir.join("dtmap.toml"))
        .env("DTMAP_ADMIN_TOKEN", TOKEN)
        // Links (and so bodies and ETags) the same whatever port a run gets.
        .env("DTMAP_PUBLIC_URL", "http://dtmap.test")
        .env("DTMAP_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (address, log) = crate::common::serving_address(&mut child);
    std::thread::spawn(move || for _ in log.lines().map_while(Result::ok) {});
    Running { child, address }
}

/// One HTTP/1.0 exchange on loopback: status, headers (lower-case names) and body.
fn http(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.0\r\nHost: {address}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, response[split + 4..].to_vec())
}

/// The public answers a crash must not change: ETags and bodies (as text, so that a
/// failure prints readably).
fn public(address: &str) -> Vec<(String, String)> {
    [
        "/dashboard/summary",
        "/collections/sites/items?limit=5",
        "/collections/governorates/items/IQG01",
    ]
    .iter()
    .map(|uri| {
        let (status, headers, body) = http(address, "GET", uri, &[], b"");
        assert_eq!(status, 200, "{uri}");
        let etag = headers
            .iter()
            .find(|(k, _)| k == "etag")
            .map(|(_, v)| v.clone())
            .unwrap();
        (etag, String::from_utf8(body).unwrap())
    })
    .collect()
}

fn admin_json(address: &str, method: &str, path: &str) -> (u16, Value) {
    let bearer = format!("Bearer {TOKEN}");
    let (status, _, body) = http(address, method, path, &[("Authorization", &bearer)], b"");
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[test]
fn a_crash_between_upload_and_publish_leaves_the_public_data_untouched() {
    let dir = iraq_copy();
    let mut server = start(dir.path());
    let before = public(&server.address);
    let (content_type, body) = multipart(
        "master.csv",
        master_list(70).as_bytes(),
        &[("round", "2019-12-31"), ("label", "Round 113")],
    );
    let bearer = format!("Bearer {TOKEN}");
    let (status, _, reply) = http(
        &server.address,
        "POST",
        "/admin/rounds",
        &[("Authorization", &bearer), ("Content-Type", &content_type)],
        &body,
    );
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&reply));
    let draft: Value = serde_json::from_slice(&reply).unwrap();
    let id = draft["id"].as_str().unwrap().to_string();

    // kill -9: no shutdown, no flushing.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let mut server = start(dir.path());
    assert_eq!(
        public(&server.address),
        before,
        "a crash changed the public answers"
    );
    let (status, drafts) = admin_json(&server.address, "GET", "/admin/drafts");
    assert_eq!(status, 200);
    let listed: Vec<&str> = drafts["drafts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert_eq!(listed, [id.as_str()], "the draft survives the crash");
    let (_, health) = admin_json(&server.address, "GET", "/health");
    assert_eq!(health["publishedVersion"], Value::Null);

    // Still publishable after the restart; a restart then serves the published version.
    let (status, published) = admin_json(
        &server.address,
        "POST",
        &format!("/admin/rounds/{id}/publish"),
    );
    assert_eq!(status, 200, "{published}");
    let after = public(&server.address);
    assert_ne!(after, before);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let mut server = start(dir.path());
    assert_eq!(
        public(&server.address),
        after,
        "a restart must serve the published version"
    );
    let (_, health) = admin_json(&server.address, "GET", "/health");
    assert_eq!(health["publishedVersion"], 2);
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    // The command line, on the same directory: roll back, list, and a restart serves it.
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_dtmap"))
            .arg("--config")
            .arg(dir.path().join("dtmap.toml"))
            .args(args)
            .env("DTMAP_LOG", "warn")
            .output()
            .unwrap()
    };
    let rolled = cli(&["round", "rollback", "1", "--user", "ops"]);
    assert!(
        rolled.status.success(),
        "{}",
        String::from_utf8_lossy(&rolled.stderr)
    );
    let listed = String::from_utf8_lossy(&cli(&["round", "list"]).stdout).to_string();
    assert!(listed.contains("*1 ") && listed.contains(" 2 "), "{listed}");
    let mut server = start(dir.path());
    assert_eq!(
        public(&server.address),
        before,
        "the rollback restores the old answers"
    );
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let audit = std::fs::read_to_string(dir.path().join("published/audit.log")).unwrap();
    let actions: Vec<String> = audit
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(actions, ["upload", "publish", "rollback"]);
}

#[test]
fn round_add_reports_a_master_list_with_errors_and_exits_non_zero() {
    let dir = iraq_copy();
    let mut csv = master_list(100);
    csv.push_str("GN100050,-5,12\n");
    std::fs::write(dir.path().join("list.csv"), csv).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_dtmap"))
        .arg("--config")
        .arg(dir.path().join("dtmap.toml"))
        .args(["round", "add"])
        .arg(dir.path().join("list.csv"))
        .args(["--round", "2019-12-31"])
        .env("DTMAP_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stdout.contains("list.csv") && stdout.contains("negative"),
        "{stdout}"
    );
    assert!(stdout.contains("cannot be published"), "{stdout}");
}

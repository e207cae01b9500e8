//! Reloading a running server with SIGHUP: new data is swapped in whole; data with errors
//! is refused and what was served stays served.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CONFIG: &str = r#"
[[layer]]
id = "areas"
source = { path = "areas.geojson" }
id_field = "code"
[[layer.counts]]
path = "counts.csv"
key = "code"
round = "round"
columns = ["families"]
"#;

const AREAS: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"A1"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}]}"#;

/// A plain HTTP/1.0 GET on loopback; the body.
fn http_get(address: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

fn families(address: &str) -> serde_json::Value {
    let body = http_get(address, "/collections/areas/items/A1");
    let feature: serde_json::Value = serde_json::from_str(&body).unwrap();
    feature["properties"]["families"].clone()
}

fn hang_up(pid: u32) {
    let status = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Polls until `families` is `want`, for at most 20 s.
fn wait_for(address: &str, want: i64) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if families(address) == want {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn sighup_swaps_in_new_data_and_refuses_data_with_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dtmap.toml"), CONFIG).unwrap();
    std::fs::write(dir.path().join("areas.geojson"), AREAS).unwrap();
    std::fs::write(
        dir.path().join("counts.csv"),
        "code,round,families\nA1,R1,10\n",
    )
    .unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_dtmap"))
        .args(["--bind", "127.0.0.1:0", "--config"])
        .arg(dir.path().join("dtmap.toml"))
        .env("DTMAP_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (address, log) = crate::common::serving_address(&mut server);
    // Keep draining the log so the server never blocks on a full pipe.
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in log.lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });

    assert_eq!(families(&address), 10);
    std::fs::write(
        dir.path().join("counts.csv"),
        "code,round,families\nA1,R1,25\n",
    )
    .unwrap();
    hang_up(server.id());
    assert!(wait_for(&address, 25), "the new data was not swapped in");

    std::fs::write(
        dir.path().join("counts.csv"),
        "code,round,families\nA1,R1,lots\n",
    )
    .unwrap();
    hang_up(server.id());
    let started = Instant::now();
    while !lines
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("reload refused"))
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no refusal logged"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        families(&address),
        25,
        "the served data must survive a bad reload"
    );
    server.kill().unwrap();
    let _ = server.wait();
}

#[test]
fn with_watch_a_changed_data_file_is_reloaded_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dtmap.toml"),
        format!("[server]\nwatch = true\n{CONFIG}"),
    )
    .unwrap();
    std::fs::write(dir.path().join("areas.geojson"), AREAS).unwrap();
    std::fs::write(
        dir.path().join("counts.csv"),
        "code,round,families\nA1,R1,10\n",
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_dtmap"))
        .args(["--bind", &address, "--config"])
        .arg(dir.path().join("dtmap.toml"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while TcpStream::connect(&address).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "no server");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(families(&address), 10);
    std::fs::write(
        dir.path().join("counts.csv"),
        "code,round,families\nA1,R1,33\n",
    )
    .unwrap();
    let reloaded = wait_for(&address, 33);
    server.kill().unwrap();
    let _ = server.wait();
    assert!(reloaded, "the watcher did not reload the changed file");
}

//! FlatGeobuf sources over HTTP: a file written by GDAL (`ogr2ogr`, with its spatial index)
//! is served by a small range-answering server on 127.0.0.1 that logs every request. A
//! layer with `source.bbox` must read only the ranges it needs and hold exactly the
//! features a brute-force filter finds; without a bbox it must equal the same file read
//! from disk; servers that ignore ranges, answer 404 or cut the file short are load
//! errors, never a panic.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use dtmap::config::{Config, DataRoot};
use dtmap::model::Snapshot;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How the test server answers.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// 206 with the range asked, as web servers and object stores do.
    Ranges,
    /// 200 with the whole file, whatever the Range header says.
    IgnoresRanges,
    /// Every request: 404.
    Missing,
}

/// One request the server saw: method and Range header.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    range: Option<(u64, u64)>,
}

struct FileServer {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FileServer {
    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
    fn bytes_sent(&self, size: u64) -> u64 {
        self.requests()
            .iter()
            .filter(|r| r.method == "GET")
            .map(|r| match r.range {
                Some((first, last)) => last.min(size - 1) + 1 - first,
                None => size,
            })
            .sum()
    }
}

/// Serves `bytes` as /sites.fgb on a loopback port, one request per connection.
async fn serve(bytes: Vec<u8>, mode: Mode) -> FileServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sites.fgb", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let bytes = Arc::new(bytes);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let (log, bytes) = (Arc::clone(&log), Arc::clone(&bytes));
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16_384 {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).to_string();
                let method = head.split(' ').next().unwrap_or("").to_string();
                let range = head.lines().find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    if !name.eq_ignore_ascii_case("range") {
                        return None;
                    }
                    let (a, b) = value.trim().strip_prefix("bytes=")?.split_once('-')?;
                    Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?))
                });
                log.lock().unwrap().push(Seen {
                    method: method.clone(),
                    range,
                });
                let size = bytes.len() as u64;
                let (status, body, extra) = match (mode, range) {
                    (Mode::Missing, _) => ("404 Not Found", &b"not here"[..], String::new()),
                    (Mode::Ranges, Some((first, last))) if first < size => {
                        let last = last.min(size - 1);
                        (
                            "206 Partial Content",
                            &bytes[first as usize..=last as usize],
                            format!("Content-Range: bytes {first}-{last}/{size}\r\n"),
                        )
                    }
                    (Mode::Ranges, Some(_)) => (
                        "416 Range Not Satisfiable",
                        &b""[..],
                        format!("Content-Range: bytes */{size}\r\n"),
                    ),
                    _ => ("200 OK", &bytes[..], String::new()),
                };
                let body = if method == "HEAD" { &b""[..] } else { body };
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\n{extra}Connection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.write_all(body).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    FileServer { url, seen }
}

/// 20,000 points on a regular world grid (200 × 100), each with an id and a name, as
/// GeoJSON; and the same written to FlatGeobuf by GDAL, with its spatial index.
fn grid_fgb(dir: &Path) -> (Vec<(String, f64, f64)>, Vec<u8>) {
    let mut points = Vec::new();
    for i in 0..200 {
        for j in 0..100 {
            let lon = -179.5 + i as f64 * 1.8;
            let lat = -89.5 + j as f64 * 1.8;
            points.push((format!("P{i:03}-{j:03}"), lon, lat));
        }
    }
    let features: Vec<Value> = points
        .iter()
        .map(|(id, lon, lat)| {
            json!({"type": "Feature",
                   "properties": {"pcode": id, "name": format!("Site {id}"), "capacity": 7},
                   "geometry": {"type": "Point", "coordinates": [lon, lat]}})
        })
        .collect();
    let geojson = dir.join("grid.geojson");
    std::fs::write(
        &geojson,
        json!({"type": "FeatureCollection", "features": features}).to_string(),
    )
    .unwrap();
    let fgb = dir.join("grid.fgb");
    let status = Command::new("ogr2ogr")
        .args(["-f", "FlatGeobuf", "-lco", "SPATIAL_INDEX=YES"])
        .arg(&fgb)
        .arg(&geojson)
        .status()
        .expect("ogr2ogr (Debian gdal-bin) must be installed; scripts/test installs it");
    assert!(status.success());
    (points, std::fs::read(&fgb).unwrap())
}

fn config(dir: &Path, source: &str) -> Config {
    let text = format!(
        r#"
title = "Remote sites"
[[layer]]
id = "sites"
title = "Sites"
id_field = "pcode"
name_field = "name"
source = {source}
"#
    );
    Config::from_toml_str(&text, "remote.toml", DataRoot::Dir(dir.to_path_buf())).unwrap()
}

fn load(config: &Config) -> (Snapshot, dtmap::data::LoadReport) {
    // The loader blocks (it runs a runtime of its own for HTTP), as it does at start-up.
    let config = config.clone();
    std::thread::spawn(move || dtmap::data::load(&config))
        .join()
        .unwrap()
}

fn ids(snapshot: &Snapshot) -> Vec<String> {
    let mut ids: Vec<String> = snapshot.layers[0]
        .features
        .iter()
        .map(|f| f.id.to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bbox_limited_remote_load_reads_only_the_ranges_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    let (points, bytes) = grid_fgb(dir.path());
    let size = bytes.len() as u64;
    let server = serve(bytes, Mode::Ranges).await;
    let bbox = [40.0, 30.0, 50.0, 38.0];
    let config = config(
        dir.path(),
        &format!(
            r#"{{ path = "{}", bbox = [40.0, 30.0, 50.0, 38.0] }}"#,
            server.url
        ),
    );
    let (snapshot, report) = load(&config);
    assert!(report.is_ok(), "{report}");
    let mut expected: Vec<String> = points
        .iter()
        .filter(|(_, lon, lat)| {
            (bbox[0]..=bbox[2]).contains(lon) && (bbox[1]..=bbox[3]).contains(lat)
        })
        .map(|(id, _, _)| id.clone())
        .collect();
    expected.sort();
    assert!(expected.len() >= 20, "{} points in the box", expected.len());
    assert_eq!(ids(&snapshot), expected, "exactly the points in the box");
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.method != "GET" || r.range.is_some()),
        "every GET is a range request: {requests:?}"
    );
    let sent = server.bytes_sent(size);
    println!(
        "bbox load: {} features, {} requests, {sent} of {size} bytes",
        expected.len(),
        requests.len()
    );
    assert!(
        sent * 10 < size,
        "read {sent} of {size} bytes in {} requests: more than a tenth of the file",
        requests.len()
    );
    let note = report.to_string();
    assert!(
        note.contains(&format!("read {} features", expected.len())),
        "the report says what was read: {note}"
    );
    // The same file and box read again: the same data version (replicas agree).
    let (again, _) = load(&config);
    assert_eq!(again.version, snapshot.version);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_remote_file_loads_as_the_same_file_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (points, bytes) = grid_fgb(dir.path());
    let server = serve(bytes, Mode::Ranges).await;
    let (remote, report) = load(&config(
        dir.path(),
        &format!(r#"{{ path = "{}" }}"#, server.url),
    ));
    assert!(report.is_ok(), "{report}");
    let (local, report) = load(&config(dir.path(), r#"{ path = "grid.fgb" }"#));
    assert!(report.is_ok(), "{report}");
    assert_eq!(ids(&remote).len(), points.len());
    assert_eq!(ids(&remote), ids(&local));
    let by_id = |s: &Snapshot| -> Vec<(String, String, String)> {
        let mut out: Vec<_> = s.layers[0]
            .features
            .iter()
            .map(|f| {
                (
                    f.id.to_string(),
                    format!("{:?}", f.geometry()),
                    serde_json::to_string(&f.properties).unwrap(),
                )
            })
            .collect();
        out.sort();
        out
    };
    assert_eq!(by_id(&remote), by_id(&local), "geometries and properties");
    // The same box on disk and over HTTP: the same features.
    let boxed = |path: &str| {
        config(
            dir.path(),
            &format!(r#"{{ path = "{path}", bbox = [-10.0, -10.0, 10.0, 10.0] }}"#),
        )
    };
    let (remote_box, _) = load(&boxed(&server.url));
    let (local_box, _) = load(&boxed("grid.fgb"));
    assert!(!ids(&local_box).is_empty());
    assert_eq!(ids(&remote_box), ids(&local_box));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_that_ignore_ranges_lack_the_file_or_cut_it_short_give_load_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bytes) = grid_fgb(dir.path());
    let half = bytes[..bytes.len() / 2].to_vec();
    let cases = [
        (
            serve(bytes.clone(), Mode::IgnoresRanges).await,
            "range requests",
        ),
        (serve(bytes.clone(), Mode::Missing).await, "404"),
        (serve(half, Mode::Ranges).await, "cannot read"),
    ];
    for (server, expected) in cases {
        let (snapshot, report) = load(&config(
            dir.path(),
            &format!(r#"{{ path = "{}" }}"#, server.url),
        ));
        assert!(!report.is_ok(), "{}: no error", server.url);
        let text = report.to_string();
        assert!(
            text.contains(&server.url) && text.contains(expected),
            "{expected:?} in: {text}"
        );
        assert!(snapshot.layers[0].features.len() < 20_000);
    }
}

#[test]
fn a_url_must_be_flatgeobuf_and_a_bbox_must_be_a_box() {
    let dir = tempfile::tempdir().unwrap();
    let parse = |source: &str| {
        let text = format!(
            "[[layer]]\nid = \"sites\"\ntitle = \"Sites\"\nid_field = \"pcode\"\nsource = {source}\n"
        );
        Config::from_toml_str(&text, "t.toml", DataRoot::Dir(dir.path().to_path_buf()))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    assert!(
        parse(r#"{ path = "https://example.org/sites.csv", lat = "y", lon = "x" }"#)
            .contains("only FlatGeobuf")
    );
    assert!(
        parse(r#"{ path = "https://example.org/s.fgb", bbox = [50.0, 30.0, 40.0, 38.0] }"#)
            .contains("source.bbox")
    );
    assert!(
        parse(r#"{ path = "s.fgb", bbox = [40.0, 30.0, 50.0, 95.0] }"#).contains("source.bbox")
    );
    assert_eq!(
        parse(r#"{ path = "https://example.org/s.fgb", bbox = [40.0, 30.0, 50.0, 38.0] }"#),
        ""
    );
}

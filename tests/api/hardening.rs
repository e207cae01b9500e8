//! Bounded cost, tried as an attacker would: deadlines that fire, errors that are JSON,
//! links that clients cannot redirect, ETags and `Vary` that caches can trust, idle and
//! half-sent connections that cannot exhaust the server, and a reload that covers the
//! config as well as the data.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dtmap::api::{AppState, Settings};

use crate::common::{get, iraq_snapshot, iraq_state, send, settings, Server};

fn star_polygon(vertices: usize, lon: f64, lat: f64) -> serde_json::Value {
    let mut ring: Vec<[f64; 2]> = (0..vertices)
        .map(|i| {
            let angle = i as f64 / vertices as f64 * std::f64::consts::TAU;
            let radius = if i % 2 == 0 { 0.05 } else { 0.5 };
            [lon + radius * angle.cos(), lat + radius * angle.sin()]
        })
        .collect();
    ring.push(ring[0]);
    serde_json::json!({ "type": "Polygon", "coordinates": [ring] })
}

fn post_json(uri: &str, body: &serde_json::Value) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// The deadline is long here: quadratic work on 100,000 vertices takes hours in a debug
/// build, while the sweep takes about 3 s alone. The work runs on the heavy pool at the
/// lowest scheduling priority, which gets almost no CPU while the suite's other tests keep
/// both cores busy, so it may finish only when they do (the suite takes one to two
/// minutes); twice the request ran past a shorter deadline (then 60 s) under that load.
#[tokio::test]
async fn a_100k_vertex_star_is_totalled_not_stalled() {
    let state = AppState::new(
        iraq_snapshot(),
        Settings {
            request_timeout: Duration::from_secs(300),
            ..settings(None)
        },
    );
    let body = serde_json::json!({ "geometry": star_polygon(99_998, 44.0, 33.5) });
    let reply = send(&state, post_json("/collections/sites/totals", &body)).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert!(reply.json()["sites"].as_u64().is_some());
}

#[tokio::test]
async fn work_past_the_deadline_is_answered_503_with_retry_after() {
    let snapshot = iraq_snapshot();
    let state = AppState::new(
        snapshot,
        Settings {
            request_timeout: Duration::ZERO,
            ..settings(None)
        },
    );
    let body = serde_json::json!({ "geometry": star_polygon(10_000, 44.0, 33.5) });
    let reply = send(&state, post_json("/collections/sites/totals", &body)).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(reply.header("retry-after").is_some());
    assert_eq!(reply.json()["code"], "ServiceUnavailable");
    // Cheap requests are not on the compute pool and still answer.
    assert_eq!(get(&state, "/health").await.status, StatusCode::OK);
}

#[tokio::test]
async fn every_error_is_json_with_a_reason() {
    let state = iraq_state();
    let cases: Vec<(Request<Body>, StatusCode)> = vec![
        (
            Request::delete("/collections").body(Body::empty()).unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Request::post("/collections/sites/items")
                .body(Body::empty())
                .unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Request::get(format!(
                "/collections/sites/items?filter={}",
                "a".repeat(65_100)
            ))
            .body(Body::empty())
            .unwrap(),
            StatusCode::URI_TOO_LONG,
        ),
        (
            Request::get("/collections")
                .header("x-padding", "p".repeat(70 * 1024))
                .body(Body::empty())
                .unwrap(),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        ),
        (
            Request::get("/collections/%FF%FE/items")
                .body(Body::empty())
                .unwrap(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Request::post("/collections/sites/search")
                .header("content-type", "application/json")
                .body(Body::from("{\"geometry\": "))
                .unwrap(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (request, status) in cases {
        let label = format!(
            "{} {}",
            request.method(),
            &request.uri().to_string()[..40.min(request.uri().to_string().len())]
        );
        let reply = send(&state, request).await;
        assert_eq!(reply.status, status, "{label}");
        assert!(
            reply.header("content-type").unwrap_or("").contains("json"),
            "{label}: {:?}",
            reply.header("content-type")
        );
        let json = reply.json();
        assert!(
            json["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{label}: {json}"
        );
    }
}

#[tokio::test]
async fn negotiated_answers_vary_on_accept_and_each_encoding_has_its_own_etag() {
    let state = iraq_state();
    for uri in ["/", "/datasets", "/collections"] {
        let reply = get(&state, uri).await;
        let vary = reply.header("vary").unwrap_or("").to_ascii_lowercase();
        assert!(vary.contains("accept"), "{uri}: vary {vary:?}");
    }
    let fetch = |encoding: &'static str, tag: Option<String>| {
        let state = state.clone();
        async move {
            let mut request = Request::get("/collections/sites/items?limit=50")
                .header("host", "example.test")
                .header("accept-encoding", encoding);
            if let Some(tag) = tag {
                request = request.header("if-none-match", tag);
            }
            send(&state, request.body(Body::empty()).unwrap()).await
        }
    };
    let plain = fetch("identity", None).await;
    let gzip = fetch("gzip", None).await;
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    let plain_tag = plain.header("etag").unwrap().to_string();
    let gzip_tag = gzip.header("etag").unwrap().to_string();
    assert_ne!(
        plain_tag, gzip_tag,
        "different bytes, different strong tags"
    );
    let again = fetch("gzip", Some(gzip_tag.clone())).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.header("etag"), Some(gzip_tag.as_str()));
    let again = fetch("identity", Some(plain_tag)).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}

/// A raw HTTP/1.1 GET over loopback, with extra header lines; the whole response text.
fn raw_get(address: &str, path: &str, extra: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\n{extra}Accept-Encoding: identity\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_headers_are_ignored_unless_the_peer_is_a_trusted_proxy() {
    let untrusted = Server::start(iraq_state()).await;
    let address = untrusted.base.trim_start_matches("http://").to_string();
    let poisoned = tokio::task::spawn_blocking(move || {
        raw_get(
            &address,
            "/styles/default.json",
            "X-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: https\r\nForwarded: host=evil.example\r\n",
        )
    })
    .await
    .unwrap();
    assert!(poisoned.starts_with("HTTP/1.1 200"), "{}", &poisoned[..200]);
    assert!(
        !poisoned.contains("evil.example"),
        "links follow a forged header"
    );
    assert!(
        poisoned.contains(&untrusted.base),
        "links use the address connected to"
    );

    let trusting = AppState::new(
        iraq_snapshot(),
        Settings {
            trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()],
            ..settings(None)
        },
    );
    let proxied = Server::start(trusting).await;
    let address = proxied.base.trim_start_matches("http://").to_string();
    let forwarded = tokio::task::spawn_blocking(move || {
        raw_get(
            &address,
            "/collections",
            "X-Forwarded-Host: maps.example.org\r\nX-Forwarded-Proto: https\r\n",
        )
    })
    .await
    .unwrap();
    assert!(forwarded.contains("https://maps.example.org/collections"));
    assert!(
        forwarded.to_ascii_lowercase().contains("x-forwarded-host"),
        "vary names the proxy headers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eleven_hundred_idle_connections_do_not_stop_health_answering() {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let server = Server::start(iraq_state()).await;
    let address = server.base.trim_start_matches("http://").to_string();
    let health = tokio::task::spawn_blocking(move || {
        let mut idle = Vec::new();
        for i in 0..1_100 {
            let mut stream = TcpStream::connect(&address).expect("connect");
            if i % 2 == 1 {
                // Half a request head, never finished.
                let _ = stream.write_all(b"GET /collections HTTP/1.1\r\nHost: x\r\n");
            }
            idle.push(stream);
        }
        let answer = raw_get(&address, "/health", "");
        drop(idle);
        answer
    })
    .await
    .unwrap();
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
}

#[tokio::test]
async fn a_config_only_reload_changes_tiles_items_and_etags() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("areas.geojson"),
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"A1","name":"Alpha"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("counts.csv"),
        "code,round,fam,ind\nA1,1,10,50\n",
    )
    .unwrap();
    let config_text = |column: &str| {
        format!(
            r#"
[server]
admin_token = "secret"
[[layer]]
id = "areas"
source = {{ path = "areas.geojson" }}
id_field = "code"
[[layer.counts]]
path = "counts.csv"
key = "code"
round = "round"
columns = [{{ name = "people", column = "{column}" }}]
"#
        )
    };
    let path = dir.path().join("dtmap.toml");
    std::fs::write(&path, config_text("fam")).unwrap();
    let config = dtmap::config::Config::from_file(&path).unwrap();
    let (snapshot, report) = dtmap::data::load(&config);
    assert!(report.is_ok(), "{report}");
    let state = AppState::new(snapshot, Settings::from_config(&config));
    let reloader = dtmap::reload::FileReloader::new(Some(path.clone()), config, |_| {});
    let reloader = reloader.shared();
    let _ = state.reloader.set(reloader.clone());

    let people = |state: Arc<AppState>| async move {
        get(&state, "/collections/areas/items/A1").await.json()["properties"]["people"].clone()
    };
    assert_eq!(people(state.clone()).await, 10);
    let tile_before = get(&state, "/tiles/areas/0/0/0").await;
    assert_eq!(tile_before.status, StatusCode::OK);

    // The same data files, another column mapping.
    std::fs::write(&path, config_text("ind")).unwrap();
    let denied = send(
        &state,
        Request::post("/admin/reload")
            .header("authorization", "Bearer wrong")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
    assert_eq!(people(state.clone()).await, 10);
    let reloaded = send(
        &state,
        Request::post("/admin/reload")
            .header("authorization", "Bearer secret")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        reloaded.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reloaded.body)
    );
    assert_eq!(reloaded.json()["applied"], true);
    assert_eq!(people(state.clone()).await, 50);
    let tile_after = get(&state, "/tiles/areas/0/0/0").await;
    assert_ne!(
        tile_before.body, tile_after.body,
        "the tile carries the new figure"
    );
    assert_ne!(tile_before.header("etag"), tile_after.header("etag"));

    // A broken config is refused and the served data stays.
    std::fs::write(&path, "[[layer]]\nid = \"areas\"\n").unwrap();
    let refused = reloader.reload(state.clone()).await;
    assert!(!refused.applied);
    assert_eq!(people(state.clone()).await, 50);
}

#[tokio::test]
async fn without_a_token_there_is_no_admin_route() {
    let state = iraq_state();
    let reply = send(
        &state,
        Request::post("/admin/reload")
            .header("authorization", "Bearer anything")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[test]
fn check_takes_its_config_with_dash_c_too() {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/geodata/iraq/dtmap.toml");
    for args in [
        vec!["check", "-c", config],
        vec!["check", config],
        vec!["-c", config, "check"],
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_dtmap"))
            .args(&args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn a_half_sent_request_does_not_hold_shutdown_past_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("dtmap.toml");
    let builtin = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/geodata/iraq/dtmap.toml"
    ))
    .unwrap();
    for file in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/geodata/iraq")).unwrap() {
        let file = file.unwrap();
        std::fs::copy(file.path(), dir.path().join(file.file_name())).unwrap();
    }
    std::fs::write(
        &config,
        builtin.replace(
            "[server]\n",
            "[server]\nheader_read_timeout_secs = 120\nshutdown_timeout_secs = 1\n",
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dtmap"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let address = format!("127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..200 {
        if TcpStream::connect(&address).is_ok() {
            ready = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if !ready {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the server did not start");
    }
    let mut half = TcpStream::connect(&address).unwrap();
    half.write_all(b"GET /collections HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let stopped_at = std::time::Instant::now();
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let mut exited = false;
    while stopped_at.elapsed() < Duration::from_secs(60) {
        if child.try_wait().unwrap().is_some() {
            exited = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if !exited {
        let _ = child.kill();
    }
    let _ = child.wait();
    assert!(exited, "the half-sent request held shutdown for a minute");
    // The header-read timeout is 120 s: only the shutdown deadline can have ended it.
    assert!(stopped_at.elapsed() < Duration::from_secs(60));
    drop(half);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_hyper_cannot_parse_get_json_errors_too() {
    let server = Server::start(iraq_state()).await;
    let address = server.base.trim_start_matches("http://").to_string();
    let answers = tokio::task::spawn_blocking(move || {
        let long = raw_get(
            &address,
            &format!("/collections?x={}", "a".repeat(70_000)),
            "",
        );
        let malformed = raw_get(&address, "/collections", "Bad Header Line\r\n");
        (long, malformed)
    })
    .await
    .unwrap();
    for (answer, status) in [(answers.0, "414"), (answers.1, "400")] {
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{answer}"
        );
        assert!(
            answer.contains("content-type: application/json"),
            "{answer}"
        );
        let body = answer.split("\r\n\r\n").nth(1).unwrap();
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(json["description"].as_str().is_some_and(|d| !d.is_empty()));
    }
}

#[tokio::test]
async fn the_filter_length_limit_is_reachable_in_a_url_and_answered_413() {
    let state = iraq_state();
    let encoded = "%20".repeat(dtmap::config::MAX_FILTER_CHARS + 1);
    let reply = get(
        &state,
        &format!("/collections/sites/items?filter={encoded}"),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert!(reply.json()["description"]
        .as_str()
        .unwrap()
        .contains("filter"));
}

//! Replicas: two dtmap processes started on the same data and config give the same answer,
//! byte for byte, with the same ETag and data version, to the same request — for every kind
//! of endpoint — so any number of them can sit behind one load balancer or CDN.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

struct Replica {
    child: Child,
    address: String,
}

impl Replica {
    fn start() -> Replica {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dtmap"))
            // Behind one load balancer, replicas share the public URL their links use.
            .args([
                "--bind",
                "127.0.0.1:0",
                "--public-url",
                "https://maps.example.org",
            ])
            .env_remove("DTMAP_CONFIG")
            .env("DTMAP_LOG", "info")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (address, log) = crate::common::serving_address(&mut child);
        std::thread::spawn(move || for _ in log.lines().map_while(Result::ok) {});
        Replica { child, address }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// (status, ETag, Content-Type, body) of a GET, with the headers a CDN would forward.
async fn fetch(address: &str, path: &str, accept: &str) -> (u16, String, String, Bytes) {
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = hyper::Request::get(path)
        .header("host", "maps.example.org")
        .header("accept", accept)
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (status, etag, kind) = (
        response.status().as_u16(),
        header("etag"),
        header("content-type"),
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, etag, kind, body)
}

#[tokio::test]
async fn two_replicas_give_the_same_answers_and_etags() {
    let (a, b) = (Replica::start(), Replica::start());
    let requests = [
        ("/", "application/json"),
        ("/?f=html", "text/html"),
        ("/health", "application/json"),
        ("/api", "application/json"),
        ("/conformance", "application/json"),
        ("/collections", "application/json"),
        ("/collections/governorates", "application/json"),
        ("/collections/sites/queryables", "application/json"),
        ("/collections/sites/items?limit=50", "application/geo+json"),
        ("/collections/sites/items?f=csv&limit=500", "text/csv"),
        (
            "/collections/governorates/items/IQG15",
            "application/geo+json",
        ),
        (
            "/collections/governorates/items/IQG15/rounds",
            "application/json",
        ),
        (
            "/collections/sites/items?filter=idp_individuals%20%3E%201000",
            "application/geo+json",
        ),
        (
            "/collections/sites/search?area=governorates/IQG08",
            "application/geo+json",
        ),
        (
            "/collections/sites/near?lon=44.4&lat=33.3&radius=50000",
            "application/geo+json",
        ),
        (
            "/collections/governorates/contains?lon=44.4&lat=33.3",
            "application/geo+json",
        ),
        (
            "/collections/sites/totals?area=governorates/IQG01&rounds=all",
            "application/json",
        ),
        ("/tiles/governorates,sites/0/0/0.pbf", "*/*"),
        ("/tiles/governorates,sites/6/39/25.pbf", "*/*"),
        ("/tiles/sites/tilejson.json", "application/json"),
        ("/styles/default.json", "application/json"),
        ("/fonts/Noto%20Sans%20Regular/1536-1791.pbf", "*/*"),
        ("/dashboard/summary", "application/json"),
        ("/dashboard/ranking", "application/json"),
        ("/dashboard/trend?area=IQG15", "application/json"),
        ("/published?f=csv", "text/csv"),
        ("/datasets", "application/json"),
        ("/datasets/sites/latest.csv", "text/csv"),
        (
            "/datasets/governorates/latest.geojson",
            "application/geo+json",
        ),
        ("/datasets/sites/latest.xlsx", "*/*"),
        ("/embed", "text/html"),
        ("/dashboard", "text/html"),
    ];
    for (path, accept) in requests {
        let (one, two) = (
            fetch(&a.address, path, accept).await,
            fetch(&b.address, path, accept).await,
        );
        assert_eq!(one.0, 200, "{path}");
        assert_eq!(one.0, two.0, "{path}: status");
        assert_eq!(one.2, two.2, "{path}: content type");
        assert_eq!(one.1, two.1, "{path}: ETag");
        assert!(one.3 == two.3, "{path}: the bodies differ");
        if path != "/health" && !path.starts_with("/datasets/") && !one.2.contains("html") {
            assert!(!one.1.is_empty(), "{path}: no ETag");
        }
    }
    // Workbooks too, asked a second apart: nothing in them depends on when they are made.
    let first = fetch(&a.address, "/datasets/sites/latest.xlsx", "*/*").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let later = fetch(&b.address, "/datasets/sites/latest.xlsx", "*/*").await;
    assert!(first.3 == later.3, "the workbooks differ");
    let health = |body: &Bytes| -> serde_json::Value { serde_json::from_slice(body).unwrap() };
    let (one, two) = (
        fetch(&a.address, "/health", "application/json").await,
        fetch(&b.address, "/health", "application/json").await,
    );
    assert_eq!(health(&one.3)["version"], health(&two.3)["version"]);
}

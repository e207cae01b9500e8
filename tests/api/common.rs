//! Helpers shared by the API tests: the built-in dataset's app, requests through the router
//! without a socket, and a real server on a loopback port for external clients.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use dtmap::api::{AppState, Settings};
use dtmap::config::Config;
use dtmap::model::Snapshot;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// Settings as the built-in config gives them.
pub fn settings(public_url: Option<&str>) -> Settings {
    Settings {
        public_url: public_url.map(str::to_string),
        cache_max_age: 60,
        frame_ancestors: vec!["*".into()],
        ..Settings::default()
    }
}

/// The built-in Iraq snapshot, checked to load without errors.
pub fn iraq_snapshot() -> Snapshot {
    let (snapshot, report) = dtmap::data::load(&Config::builtin());
    assert!(report.is_ok(), "built-in data has errors:\n{report}");
    snapshot
}

/// Loads the config `toml`, its files read from `dir`: the snapshot and the load report.
pub fn load_toml(toml: &str, dir: &std::path::Path) -> (Snapshot, dtmap::data::LoadReport) {
    let root = dtmap::config::DataRoot::Dir(dir.to_path_buf());
    dtmap::data::load(&Config::from_toml_str(toml, "inline", root).unwrap())
}

/// App state serving the built-in data.
pub fn iraq_state() -> Arc<AppState> {
    AppState::new(iraq_snapshot(), settings(None))
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body[..self.body.len().min(500)])
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends a request through the router.
pub async fn send(state: &Arc<AppState>, request: Request<Body>) -> Reply {
    let response = dtmap::server::app(state.clone())
        .oneshot(request)
        .await
        .expect("the router never fails");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// GET through the router.
pub async fn get(state: &Arc<AppState>, uri: &str) -> Reply {
    send(
        state,
        Request::get(uri)
            .header("host", "example.test")
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// GET a JSON resource that must answer 200.
pub async fn get_json(state: &Arc<AppState>, uri: &str) -> Value {
    let reply = get(state, uri).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

/// The ids of a FeatureCollection's features, in order.
pub fn ids(collection: &Value) -> Vec<String> {
    collection["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["id"].as_str().expect("string id").to_string())
        .collect()
}

/// A real server on 127.0.0.1 with an OS-chosen port; stops when the guard drops.
pub struct Server {
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Server {
    pub async fn start(state: Arc<AppState>) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let limits = dtmap::server::ConnectionLimits::default();
        tokio::spawn(dtmap::server::run(listener, state, limits, async move {
            let _ = stopped.await;
        }));
        Server {
            base,
            stop: Some(stop),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Waits for a `dtmap` process spawned with its stderr piped to log
/// "serving on http://ADDR/"; its address and the rest of its log, which the caller must
/// keep reading (or drain) so the server never blocks on a full pipe.
pub fn serving_address(
    child: &mut std::process::Child,
) -> (String, std::io::BufReader<std::process::ChildStderr>) {
    use std::io::BufRead;
    let mut log = std::io::BufReader::new(child.stderr.take().expect("stderr piped"));
    let mut line = String::new();
    loop {
        line.clear();
        assert!(log.read_line(&mut line).unwrap() > 0, "the server stopped");
        if let Some(rest) = line.split("serving on http://").nth(1) {
            return (rest.trim().trim_end_matches('/').to_string(), log);
        }
    }
}

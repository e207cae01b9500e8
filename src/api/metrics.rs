//! `/metrics` (Prometheus text format) and `/health`, with the middleware that counts
//! requests by route and status and times them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;

use super::{json_response, AppState, JSON};

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Debug, Default, Clone)]
struct RouteStats {
    count: u64,
    seconds: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Request statistics. A `Mutex` is enough: it is held for a few map operations per
/// request, far below the cost of the request itself.
#[derive(Debug, Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<(String, u16), RouteStats>>,
    refused_connections: std::sync::atomic::AtomicU64,
}

impl Metrics {
    /// Counts a connection closed at accept because the connection cap was reached.
    pub fn connection_refused(&self) {
        self.refused_connections
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn record(&self, route: String, status: u16, seconds: f64) {
        let Ok(mut routes) = self.routes.lock() else {
            return;
        };
        let stats = routes.entry((route, status)).or_default();
        stats.count += 1;
        stats.seconds += seconds;
        for (bucket, bound) in stats.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP dtmap_refused_connections_total Connections closed at accept because the connection cap was reached.\n# TYPE dtmap_refused_connections_total counter\ndtmap_refused_connections_total {}",
            self.refused_connections
                .load(std::sync::atomic::Ordering::Relaxed)
        );
        out.push_str("# HELP dtmap_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE dtmap_http_requests_total counter\n");
        let routes = self.routes.lock().map(|r| r.clone()).unwrap_or_default();
        for ((route, status), stats) in &routes {
            let _ = writeln!(
                out,
                "dtmap_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {}",
                stats.count
            );
        }
        out.push_str("# HELP dtmap_http_request_duration_seconds Time to answer, by route.\n");
        out.push_str("# TYPE dtmap_http_request_duration_seconds histogram\n");
        let mut by_route: BTreeMap<&str, RouteStats> = BTreeMap::new();
        for ((route, _), stats) in &routes {
            let merged = by_route.entry(route).or_default();
            merged.count += stats.count;
            merged.seconds += stats.seconds;
            for (m, b) in merged.buckets.iter_mut().zip(stats.buckets) {
                *m += b;
            }
        }
        for (route, stats) in by_route {
            for (bound, count) in BUCKETS.iter().zip(stats.buckets) {
                let _ = writeln!(
                    out,
                    "dtmap_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "dtmap_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                stats.count
            );
            let _ = writeln!(
                out,
                "dtmap_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                stats.seconds
            );
            let _ = writeln!(
                out,
                "dtmap_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                stats.count
            );
        }
        out
    }
}

/// Middleware: times every request and records it under its route pattern.
pub async fn track(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.record(
        route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /metrics`
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let snapshot = state.current();
    let mut body = state.metrics.render();
    body.push_str(
        "# HELP dtmap_features Features served, by layer.\n# TYPE dtmap_features gauge\n",
    );
    for layer in &snapshot.layers {
        let _ = writeln!(
            body,
            "dtmap_features{{layer=\"{}\"}} {}",
            layer.id,
            layer.features.len()
        );
    }
    let mut response = Response::new(body.into());
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

/// `GET /health`
pub async fn health(State(state): State<Arc<AppState>>) -> Response {
    let snapshot = state.current();
    json_response(
        &json!({
            "status": "ok",
            "dataVersion": format!("{:016x}", snapshot.version),
            "publishedVersion": state.rounds.get().and_then(|r| r.current_version()),
            "layers": snapshot.layers.iter().map(|l| json!({"id": l.id, "features": l.features.len(), "rounds": l.rounds.len()})).collect::<Vec<_>>(),
        }),
        JSON,
    )
}

//! The HTTP server: `app(state)` builds the router (from the route table
//! [`crate::api::routes::ROUTES`], where routes are declared and nowhere else) with the
//! middleware applied once, and `run` serves it until shutdown with bounded connections: a cap on open connections, a deadline for each request head (which also
//! closes idle keep-alive connections), and a deadline on shutdown after which the
//! connections still open are dropped.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::Semaphore;
use tower::{Service, ServiceBuilder};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::trace::TraceLayer;

mod budget;
mod canned;

use crate::api::{self, metrics, AppState, Peer};
use crate::config::{MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_URI_BYTES};
use crate::error::ApiError;

/// The whole application as a router, ready to serve or to test with `oneshot`.
pub fn app(state: Arc<AppState>) -> Router {
    // The routes are declared once, in api::routes::ROUTES, with /api generated from them.
    let routes = api::routes::router()
        .fallback(api::not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), caching))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), timeout))
        .with_state(state);
    routes.layer(
        ServiceBuilder::new()
            .layer(TraceLayer::new_for_http())
            .layer(CatchPanicLayer::custom(|_| {
                ApiError::Internal("a handler panicked".into()).into_response()
            }))
            .layer(middleware::from_fn(errors_as_json))
            .layer(
                CorsLayer::new()
                    .allow_origin(Any)
                    .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::OPTIONS])
                    .allow_headers([header::CONTENT_TYPE, header::IF_NONE_MATCH])
                    .expose_headers([header::ETAG, header::CONTENT_LENGTH]),
            )
            .layer(middleware::from_fn(etag_per_encoding))
            .layer(CompressionLayer::new())
            .layer(middleware::from_fn_with_state(
                budget::ResponseBudget::new(crate::config::MAX_BUFFERED_RESPONSE_BYTES),
                budget::charge,
            ))
            .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
            .layer(middleware::from_fn(request_limits)),
    )
}

async fn method_not_allowed(State(state): State<Arc<AppState>>, request: Request) -> ApiError {
    // Without an admin area its routes do not exist, whatever the method.
    if is_admin(request.uri().path()) && !state.settings().admin_enabled() {
        return ApiError::not_found("no such resource; see /api for the endpoints");
    }
    ApiError::MethodNotAllowed(format!(
        "{} is not allowed on {}; see /api for the methods of each endpoint",
        request.method(),
        request.uri().path()
    ))
}

/// Refuses, as JSON, a request target or headers over the documented limits, and a path
/// that is not UTF-8 once percent-decoded.
async fn request_limits(request: Request, next: Next) -> Response {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if target > MAX_URI_BYTES {
        return ApiError::UriTooLong(format!(
            "the request target is {target} bytes; the limit is {MAX_URI_BYTES} (POST the geometry instead)"
        ))
        .into_response();
    }
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return ApiError::HeadersTooLarge(format!(
            "the request headers are {header_bytes} bytes; the limit is {MAX_HEADER_BYTES}"
        ))
        .into_response();
    }
    if percent_encoding::percent_decode_str(request.uri().path())
        .decode_utf8()
        .is_err()
    {
        return ApiError::bad_request("the path is not valid UTF-8 once percent-decoded")
            .into_response();
    }
    next.run(request).await
}

/// Every error is JSON with a reason: responses that come from axum's own rejections or
/// the fallbacks as plain text or empty get the same `{code, description}` body as
/// [`ApiError`]'s.
async fn errors_as_json(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Plain-text rejections are short; anything longer is cut, never buffered whole.
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let description = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    let body = serde_json::json!({
        "code": status.canonical_reason().unwrap_or("Error").replace(' ', ""),
        "description": description,
    });
    let mut out = Response::from_parts(parts, Body::from(body.to_string()));
    out.headers_mut().remove(header::CONTENT_LENGTH);
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    out
}

/// Answers 503 when a request's handler runs longer than the request timeout (work on the
/// compute pools has its own deadline, equal to it, that also stops the work).
async fn timeout(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let limit = state.settings().request_timeout + Duration::from_millis(250);
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Unavailable("the request took too long".into()).into_response(),
    }
}

/// Paths whose answers never change with the data, or that are operational.
fn never_cached(path: &str) -> bool {
    matches!(path, "/health" | "/metrics") || is_admin(path)
}

/// The admin area: never cached, never framed.
fn is_admin(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/")
}

/// Paths whose answers depend on `Accept` (HTML or JSON, CSV).
fn negotiated(path: &str) -> bool {
    !(path.starts_with("/tiles/")
        || path.starts_with("/fonts/")
        || path.starts_with("/assets/")
        || path.starts_with("/styles/")
        || path.contains("/tiles/WebMercatorQuad/"))
}

/// A strong ETag for every successful GET, computed from what determines the answer — the
/// data version (which covers the whole config), the request target, `Accept` and the base
/// URL of links — so that no body is buffered to hash it, and identical across replicas
/// serving the same data. `If-None-Match` → 304 before the handler runs. `Cache-Control`
/// and `Vary` on every answer.
async fn caching(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let cacheable = matches!(*request.method(), Method::GET | Method::HEAD) && !never_cached(&path);
    if !cacheable {
        let mut response = next.run(request).await;
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if is_admin(&path) {
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("frame-ancestors 'none'"),
            );
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
        }
        return response;
    }
    let settings = state.settings();
    let version = state.current().version;
    let base = api::base_url(
        request.headers(),
        request.extensions().get::<Peer>(),
        &settings,
    )
    .unwrap_or_default();
    let accept = if negotiated(&path) {
        request
            .headers()
            .get(header::ACCEPT)
            .map(|v| v.as_bytes().to_vec())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(&version.to_le_bytes());
    hasher.update(request.uri().to_string().as_bytes());
    hasher.update(b"\0");
    hasher.update(&accept);
    hasher.update(b"\0");
    hasher.update(base.as_bytes());
    let etag = format!("\"{:032x}\"", hasher.digest128());
    let vary = vary_value(&path, &settings);
    let cache_control = format!("public, max-age={}", settings.cache_max_age);
    let matched = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| matching_tag(v, &etag));
    if let Some(tag) = matched {
        let mut not_modified = Response::new(Body::empty());
        *not_modified.status_mut() = StatusCode::NOT_MODIFIED;
        let headers = not_modified.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&tag) {
            headers.insert(header::ETAG, v);
        }
        if let Ok(v) = HeaderValue::from_str(&cache_control) {
            headers.insert(header::CACHE_CONTROL, v);
        }
        headers.insert(header::VARY, HeaderValue::from_static(vary));
        return not_modified;
    }
    let mut response = next.run(request).await;
    // A reload during the request may have served other data than the tag names.
    let same_data = state.current().version == version;
    let status = response.status();
    let headers = response.headers_mut();
    if !headers.contains_key(header::VARY) {
        headers.insert(header::VARY, HeaderValue::from_static(vary));
    }
    if status == StatusCode::OK && same_data {
        if let Ok(v) = HeaderValue::from_str(&etag) {
            headers.insert(header::ETAG, v);
        }
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        let value = if status.is_success() || status == StatusCode::NOT_FOUND {
            cache_control.as_str()
        } else {
            "no-store"
        };
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(header::CACHE_CONTROL, v);
        }
    }
    response
}

/// `Vary` of an answer: `Accept` where it is negotiated, and the proxy headers when they
/// are believed for links (`Accept-Encoding` is added by the compression layer).
fn vary_value(path: &str, settings: &api::Settings) -> &'static str {
    let proxied = settings.public_url.is_none() && !settings.trusted_proxies.is_empty();
    match (negotiated(path), proxied) {
        (true, true) => {
            "accept, forwarded, x-forwarded-host, x-forwarded-proto, x-forwarded-prefix"
        }
        (true, false) => "accept",
        (false, true) => "forwarded, x-forwarded-host, x-forwarded-proto, x-forwarded-prefix",
        (false, false) => "origin",
    }
}

/// The tag of `If-None-Match` that names `etag` (with or without an encoding suffix).
fn matching_tag(if_none_match: &str, etag: &str) -> Option<String> {
    let bare = etag.trim_end_matches('"');
    if_none_match
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .find(|t| {
            *t == etag
                || t.strip_prefix(bare)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|rest| {
                        rest.len() > 1
                            && rest.ends_with('"')
                            && rest[..rest.len() - 1]
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric())
                    })
        })
        .map(str::to_string)
}

/// Different bytes need different strong ETags: a compressed answer's tag gets the
/// encoding as a suffix (`"…-gzip"`).
async fn etag_per_encoding(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let encoding = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let (Some(encoding), Some(etag)) = (
        encoding,
        response
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    ) {
        if let Some(bare) = etag.strip_suffix('"') {
            if let Ok(v) = HeaderValue::from_str(&format!("{bare}-{encoding}\"")) {
                response.headers_mut().insert(header::ETAG, v);
            }
        }
    }
    response
}

/// Bounds on the connections `run` serves.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Open connections served at once; more are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Time a client has to send a request head (and that an idle connection is kept).
    pub header_read_timeout: Duration,
    /// Time shutdown waits for open requests before dropping their connections.
    pub shutdown_timeout: Duration,
}

impl ConnectionLimits {
    /// The limits a config gives, with the connection cap lowered below the open-files
    /// limit of the process (`open_files`).
    pub fn from_config(config: &crate::config::Config, open_files: Option<u64>) -> Self {
        let fit = open_files.map_or(usize::MAX, |limit| {
            (limit as usize)
                .saturating_sub(crate::config::RESERVED_FILE_DESCRIPTORS)
                .max(1)
        });
        ConnectionLimits {
            max_connections: config.server.max_connections.min(fit),
            header_read_timeout: Duration::from_secs(config.server.header_read_timeout_secs),
            shutdown_timeout: Duration::from_secs(config.server.shutdown_timeout_secs),
        }
    }
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits::from_config(&crate::config::Config::builtin(), None)
    }
}

/// Raises the soft open-files limit to the hard one, so the connection cap can be high;
/// returns the soft limit in force.
pub fn raise_open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(limit) => Some(limit),
            Err(_) => rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft),
        }
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Serves `app(state)` on `listener` until `shutdown` completes, then waits at most the
/// shutdown timeout for open requests.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = app(state.clone());
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_URI_BYTES + MAX_HEADER_BYTES + 8192);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors or a connection reset before accept: wait a
                    // little rather than spin, and keep serving those already open.
                    tracing::warn!("accept error: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            state.metrics.connection_refused();
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let peer = Peer {
            remote,
            local: stream
                .local_addr()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0))),
        };
        let router = router.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(peer);
                let mut router = router.clone();
                async move { router.call(request.map(Body::new)).await }
            },
        );
        let io = TokioIo::new(canned::JsonCannedErrors::new(stream));
        let connection = builder.serve_connection(io, service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = connection.await {
                tracing::debug!("connection from {remote}: {e}");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("every connection closed"),
        () = tokio::time::sleep(limits.shutdown_timeout) => tracing::warn!(
            "shutdown timeout of {} s passed; dropping the connections still open",
            limits.shutdown_timeout.as_secs()
        ),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_matches_the_tag_with_or_without_an_encoding_suffix() {
        let etag = "\"abc\"";
        assert_eq!(matching_tag("\"abc\"", etag).as_deref(), Some("\"abc\""));
        assert_eq!(
            matching_tag("\"x\", W/\"abc-gzip\"", etag).as_deref(),
            Some("\"abc-gzip\"")
        );
        assert_eq!(matching_tag("\"abcd\"", etag), None);
        assert_eq!(matching_tag("\"abc-\"", etag), None);
        assert_eq!(matching_tag("\"ab\"", etag), None);
    }
}

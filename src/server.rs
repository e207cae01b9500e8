//! The HTTP server: `app(state)` builds the router (routes are declared here and nowhere
//! else), the middleware is applied once, and `run` serves until shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::api::{
    self, collections, dashboard, datasets, items, landing, metrics, openapi, queries, styles,
    tiles, AppState,
};
use crate::config::{MAX_BODY_BYTES, REQUEST_TIMEOUT_SECS};
use crate::error::ApiError;

/// The whole application as a router, ready to serve or to test with `oneshot`.
pub fn app(state: Arc<AppState>) -> Router {
    let routes = Router::new()
        .route("/", get(api::web::root))
        .route("/embed", get(api::web::embed))
        .route("/assets/{version}/{*path}", get(api::web::versioned_asset))
        .route("/conformance", get(landing::conformance))
        .route("/api", get(openapi::document))
        .route("/collections", get(collections::list))
        .route("/collections/{id}", get(collections::one))
        .route("/collections/{id}/queryables", get(collections::queryables))
        .route("/collections/{id}/items", get(items::list))
        .route("/collections/{id}/items/{fid}", get(items::one))
        .route("/collections/{id}/items/{fid}/rounds", get(items::rounds))
        .route(
            "/collections/{id}/search",
            get(queries::search_get).post(queries::search_post),
        )
        .route("/collections/{id}/near", get(queries::near))
        .route("/collections/{id}/contains", get(queries::contains))
        .route(
            "/collections/{id}/totals",
            get(queries::totals_get).post(queries::totals_post),
        )
        .route("/collections/{id}/tiles", get(tiles::tilesets))
        .route(
            "/collections/{id}/tiles/WebMercatorQuad",
            get(tiles::tileset_one),
        )
        .route(
            "/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}",
            get(tiles::ogc_tile),
        )
        .route("/tiles/{layers}", get(tiles::tilejson))
        .route("/tiles/{layers}/tilejson.json", get(tiles::tilejson_named))
        .route("/tiles/{layers}/{z}/{x}/{y}", get(tiles::tile))
        .route("/styles/{name}", get(styles::style))
        .route("/fonts/{fontstack}/{range}", get(styles::glyph_range))
        .route("/dashboard", get(api::web::dashboard))
        .route("/dashboard/summary", get(dashboard::summary))
        .route("/dashboard/ranking", get(dashboard::ranking))
        .route("/dashboard/trend", get(dashboard::trend))
        .route("/dashboard/origins", get(dashboard::origins))
        .route("/published", get(dashboard::published))
        .route("/datasets", get(datasets::list))
        .route("/datasets/{layer}/{file}", get(datasets::download))
        .route("/health", get(metrics::health))
        .route("/metrics", get(metrics::metrics))
        .fallback(api::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), caching))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state);
    routes.layer(
        ServiceBuilder::new()
            .layer(TraceLayer::new_for_http())
            .layer(CatchPanicLayer::custom(|_| {
                ApiError::Internal("a handler panicked".into()).into_response()
            }))
            .layer(
                CorsLayer::new()
                    .allow_origin(Any)
                    .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::OPTIONS])
                    .allow_headers([header::CONTENT_TYPE, header::IF_NONE_MATCH])
                    .expose_headers([header::ETAG, header::CONTENT_LENGTH]),
            )
            .layer(CompressionLayer::new())
            .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
            .layer(middleware::from_fn(timeout)),
    )
}

/// Answers 503 when a request runs longer than [`REQUEST_TIMEOUT_SECS`].
async fn timeout(request: Request, next: Next) -> Response {
    match tokio::time::timeout(Duration::from_secs(REQUEST_TIMEOUT_SECS), next.run(request)).await {
        Ok(response) => response,
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"code":"Timeout","description":"the request took too long"}"#,
        )
            .into_response(),
    }
}

/// Strong ETag (a hash of the body), `If-None-Match` → 304, and `Cache-Control` on every
/// successful GET; operational endpoints are never cached.
async fn caching(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let cacheable = matches!(*request.method(), Method::GET | Method::HEAD)
        && !matches!(request.uri().path(), "/health" | "/metrics");
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let response = next.run(request).await;
    if !cacheable || response.status() != StatusCode::OK {
        let mut response = response;
        response
            .headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => return ApiError::Internal(format!("reading response body: {e}")).into_response(),
    };
    let etag = format!("\"{:032x}\"", xxhash_rust::xxh3::xxh3_128(&bytes));
    let etag_value = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\""));
    parts.headers.insert(header::ETAG, etag_value.clone());
    if !parts.headers.contains_key(header::CACHE_CONTROL) {
        let value = format!("public, max-age={}", state.settings.cache_max_age);
        if let Ok(v) = HeaderValue::from_str(&value) {
            parts.headers.insert(header::CACHE_CONTROL, v);
        }
    }
    let matches = if_none_match
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim() == "*"
                || v.split(',')
                    .map(|t| t.trim().trim_start_matches("W/"))
                    .any(|t| t == etag)
        });
    if matches {
        let mut not_modified = Response::new(Body::empty());
        *not_modified.status_mut() = StatusCode::NOT_MODIFIED;
        for name in [header::ETAG, header::CACHE_CONTROL, header::VARY] {
            if let Some(v) = parts.headers.get(&name) {
                not_modified.headers_mut().insert(name, v.clone());
            }
        }
        return not_modified;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Serves `app(state)` on `listener` until `shutdown` completes.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}

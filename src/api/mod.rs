//! The HTTP resources, one file each, and what they share: the application state, the
//! typed extractors (base URL, query strings that fail as JSON 400s) and the response
//! helpers. Handlers read the current [`Snapshot`] and never touch files.

pub mod collections;
pub mod dashboard;
pub mod datasets;
pub mod items;
pub mod landing;
pub mod metrics;
pub mod openapi;
pub mod queries;
pub mod render;
pub mod styles;
pub mod tiles;
pub mod web;

use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::header::{self, HeaderValue};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::model::{Layer, Snapshot};

/// Media type of GeoJSON.
pub const GEOJSON: &str = "application/geo+json";
/// Media type of JSON.
pub const JSON: &str = "application/json";
/// Media type of the OpenAPI document.
pub const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";
/// Media type of CSV.
pub const CSV: &str = "text/csv; charset=utf-8";

/// Settings the handlers need, fixed at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Public base URL (no trailing slash), when configured.
    pub public_url: Option<String>,
    /// `Cache-Control: max-age` of data responses.
    pub cache_max_age: u32,
    /// Origins allowed to frame embed pages.
    pub frame_ancestors: Vec<String>,
    /// How tiles are cut.
    pub tile_options: crate::tiles::TileOptions,
    /// Bound of the tile cache in bytes.
    pub tile_cache_bytes: usize,
}

impl Settings {
    /// The settings a config gives.
    pub fn from_config(config: &crate::config::Config) -> Settings {
        Settings {
            public_url: config.server.public_url.clone(),
            cache_max_age: config.server.cache_max_age,
            frame_ancestors: config.server.frame_ancestors.clone(),
            tile_options: config.tiles.options(),
            tile_cache_bytes: config.tiles.cache_bytes(),
        }
    }
}

impl Default for Settings {
    /// The defaults of an empty config.
    fn default() -> Self {
        let tiles = crate::config::TilesConfig::default();
        Settings {
            public_url: None,
            cache_max_age: crate::config::DEFAULT_CACHE_MAX_AGE,
            frame_ancestors: vec!["*".to_string()],
            tile_options: tiles.options(),
            tile_cache_bytes: tiles.cache_bytes(),
        }
    }
}

/// Shared state: the current snapshot (swapped whole on reload), the settings and metrics.
#[derive(Debug)]
pub struct AppState {
    /// The data being served. `ArcSwap` because readers must never wait for a reload, and
    /// a reload replaces everything at once.
    pub snapshot: ArcSwap<Snapshot>,
    /// Fixed settings.
    pub settings: Settings,
    /// Request counters and timings for `/metrics`.
    pub metrics: metrics::Metrics,
    /// Encoded hot tiles and prepared tile geometry (locks inside, held only briefly).
    pub tile_cache: crate::tiles::TileCache,
}

impl AppState {
    /// State serving `snapshot`.
    pub fn new(snapshot: Snapshot, settings: Settings) -> Arc<AppState> {
        let tile_cache =
            crate::tiles::TileCache::new(settings.tile_cache_bytes, settings.tile_options);
        Arc::new(AppState {
            snapshot: ArcSwap::from_pointee(snapshot),
            settings,
            metrics: metrics::Metrics::default(),
            tile_cache,
        })
    }

    /// The snapshot in force now; held for the whole request.
    pub fn current(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }
}

/// Looks a layer up, or answers 404.
pub fn layer<'a>(snapshot: &'a Snapshot, id: &str) -> Result<&'a Arc<Layer>, ApiError> {
    snapshot.layer(id).ok_or_else(|| {
        let known: Vec<&str> = snapshot.layers.iter().map(|l| l.id.as_str()).collect();
        ApiError::not_found(format!(
            "no collection {id:?}; the collections are {}",
            known.join(", ")
        ))
    })
}

/// The base URL for links in responses: the configured public URL, or the scheme and host
/// the request came with (honouring `X-Forwarded-Proto`, `-Host` and `-Prefix`).
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

impl FromRequestParts<Arc<AppState>> for BaseUrl {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        if let Some(url) = &state.settings.public_url {
            return Ok(BaseUrl(url.trim_end_matches('/').to_string()));
        }
        let header_text = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.split(',').next().unwrap_or("").trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let scheme = header_text("x-forwarded-proto").unwrap_or_else(|| "http".into());
        let host = header_text("x-forwarded-host")
            .or_else(|| header_text("host"))
            .or_else(|| parts.uri.authority().map(|a| a.to_string()))
            .unwrap_or_else(|| "localhost".into());
        let prefix = header_text("x-forwarded-prefix").unwrap_or_default();
        let safe = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~:/[]@%".contains(c))
        };
        if !(scheme == "http" || scheme == "https") || !safe(&host) || !safe(&prefix) {
            return Err(ApiError::bad_request(
                "malformed Host or X-Forwarded-* header",
            ));
        }
        Ok(BaseUrl(format!(
            "{scheme}://{host}{}",
            prefix.trim_end_matches('/')
        )))
    }
}

/// A query string deserialized into `T`; a malformed one is a JSON 400, not axum's text.
#[derive(Debug, Clone)]
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(QueryParams)
            .map_err(|e| ApiError::bad_request(format!("bad query string: {e}")))
    }
}

/// Output formats a client can ask for with `f=` or `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON / GeoJSON.
    Json,
    /// HTML (for browsers).
    Html,
    /// CSV.
    Csv,
}

/// The format asked for: `?f=` wins over `Accept`; JSON when neither says.
#[derive(Debug, Clone, Copy)]
pub struct Negotiated(pub Format);

impl<S: Send + Sync> FromRequestParts<S> for Negotiated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let f = parts.uri.query().and_then(|q| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(q)
                .ok()?
                .into_iter()
                .find(|(k, _)| k == "f")
                .map(|(_, v)| v)
        });
        if let Some(f) = f {
            return match f.as_str() {
                "json" | "geojson" | "application/json" | "application/geo+json" => {
                    Ok(Negotiated(Format::Json))
                }
                "html" | "text/html" => Ok(Negotiated(Format::Html)),
                "csv" | "text/csv" => Ok(Negotiated(Format::Csv)),
                other => Err(ApiError::bad_request(format!(
                    "f={other:?} is not a format dtmap produces; use json, html or csv"
                ))),
            };
        }
        let accept = parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let json_first = accept.find("json");
        let html_first = accept.find("text/html");
        let format = match (html_first, json_first) {
            (Some(h), Some(j)) if h < j => Format::Html,
            (Some(_), None) => Format::Html,
            _ if accept.starts_with("text/csv") => Format::Csv,
            _ => Format::Json,
        };
        Ok(Negotiated(format))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Negotiated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        <Negotiated as FromRequestParts<S>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

/// A data response: body and media type; ETag and Cache-Control are added by the
/// caching middleware in [`crate::server`].
pub fn data_response(body: impl Into<axum::body::Body>, media_type: &'static str) -> Response {
    let mut response = Response::new(body.into());
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    response
}

/// A JSON value as a data response.
pub fn json_response(value: &serde_json::Value, media_type: &'static str) -> Response {
    data_response(value.to_string(), media_type)
}

/// Answers for the fallback route.
pub async fn not_found() -> impl IntoResponse {
    ApiError::not_found("no such resource; see /api for the endpoints")
}

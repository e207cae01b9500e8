//! The HTTP resources, one file each, and what they share: the application state, the
//! typed extractors (base URL, query strings that fail as JSON 400s) and the response
//! helpers. Handlers read the current [`Snapshot`] and never touch files.

pub mod admin;
pub mod apidoc;
pub mod auth;
pub mod collections;
pub mod compute;
pub mod dashboard;
pub mod datasets;
pub mod fgb;
pub mod flights;
pub mod items;
pub mod landing;
pub mod metrics;
pub mod openapi;
pub mod params;
pub mod queries;
pub mod render;
pub mod rounds;
pub mod routes;
pub mod series;
pub mod stream;
pub mod styles;
pub mod tiles;
pub mod totals;
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
/// Media type of FlatGeobuf.
pub const FGB: &str = "application/flatgeobuf";

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
    /// Peers whose `Forwarded` / `X-Forwarded-*` headers are believed for links.
    pub trusted_proxies: Vec<crate::net::IpBlock>,
    /// How long one request's work may run.
    pub request_timeout: std::time::Duration,
    /// Threads of the compute pool (0: one per core).
    pub compute_threads: usize,
    /// Waiting places of the compute pool.
    pub compute_queue: usize,
    /// Bearer token of the admin routes (for scripts).
    pub admin_token: Option<String>,
    /// The admin users: name and argon2 password hash. With neither users nor a token
    /// there are no admin routes.
    pub admin_users: Vec<(String, String)>,
    /// Secret signing the session cookies; a random key per process when none.
    pub session_secret: Option<String>,
    /// How long a session lasts, in seconds.
    pub session_secs: u64,
    /// Whether session cookies carry `Secure`.
    pub secure_cookies: bool,
    /// Largest upload body, in bytes.
    pub max_upload_bytes: usize,
}

impl Settings {
    /// Whether there is an admin area (a token or a user configured).
    pub fn admin_enabled(&self) -> bool {
        self.admin_token.is_some() || !self.admin_users.is_empty()
    }
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
            trusted_proxies: config
                .server
                .trusted_proxies
                .iter()
                .filter_map(|p| p.parse().ok())
                .collect(),
            request_timeout: std::time::Duration::from_secs(config.server.request_timeout_secs),
            compute_threads: config.server.compute_threads,
            compute_queue: config.server.compute_queue,
            admin_token: config.server.admin_token.clone(),
            admin_users: config
                .admin
                .users
                .iter()
                .map(|u| (u.name.clone(), u.password_hash.clone()))
                .collect(),
            session_secret: config.admin.session_secret.clone(),
            session_secs: config.admin.session_hours.saturating_mul(3600),
            secure_cookies: config.admin.secure_cookies.unwrap_or_else(|| {
                config
                    .server
                    .public_url
                    .as_deref()
                    .is_some_and(|u| u.starts_with("https://"))
            }),
            max_upload_bytes: config.admin.max_upload_mb.saturating_mul(1024 * 1024),
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
            trusted_proxies: Vec::new(),
            request_timeout: std::time::Duration::from_secs(crate::config::REQUEST_TIMEOUT_SECS),
            compute_threads: 0,
            compute_queue: crate::config::DEFAULT_COMPUTE_QUEUE,
            admin_token: None,
            admin_users: Vec::new(),
            session_secret: None,
            session_secs: crate::config::DEFAULT_SESSION_HOURS * 3600,
            secure_cookies: false,
            max_upload_bytes: crate::config::DEFAULT_MAX_UPLOAD_MB * 1024 * 1024,
        }
    }
}

/// Requests that may wait for a light thread: each is a few milliseconds of work, so a long
/// queue still drains quickly.
const LIGHT_QUEUE: usize = 1024;

/// Shared state: the current snapshot, settings and tile cache (each swapped whole on
/// reload), the compute pools and the metrics.
pub struct AppState {
    /// The data being served with its settings and tile cache, swapped whole on reload.
    /// `ArcSwap` because readers must never wait for a reload; one value so that a request
    /// never pairs the snapshot of one version with the tile cache of another.
    pub served: ArcSwap<Served>,
    /// Request counters and timings for `/metrics`.
    pub metrics: metrics::Metrics,
    /// Threads at normal priority for cheap CPU work: tiles, queries over the data's own
    /// areas, small query polygons.
    pub light: compute::ComputePool,
    /// Threads at background priority for heavy work: large query polygons, workbooks,
    /// filters over large layers.
    pub heavy: compute::ComputePool,
    /// How `POST /admin/reload` reloads (set by the binary; none in tests without files).
    pub reloader: std::sync::OnceLock<Arc<dyn admin::Reloader>>,
    /// Drafts, published versions and the audit log (set by the binary when a data
    /// directory is configured).
    pub rounds: std::sync::OnceLock<Arc<dyn rounds::RoundStore>>,
    /// The session key and the login limiter of the admin area.
    pub auth: auth::AuthState,
    /// Held by every change of the data served (a reload, a publish, a rollback) from
    /// reading the files to the swap, so that a reload that read the version published
    /// before can never swap it back in after a newer publish.
    pub data_change: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("version", &self.served.load().snapshot.version)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State serving `snapshot`.
    pub fn new(snapshot: Snapshot, settings: Settings) -> Arc<AppState> {
        let tile_cache =
            crate::tiles::TileCache::new(settings.tile_cache_bytes, settings.tile_options);
        let light = compute::ComputePool::new(
            "light",
            0,
            LIGHT_QUEUE,
            settings.request_timeout,
            compute::Priority::Normal,
        );
        let heavy = compute::ComputePool::new(
            "heavy",
            settings.compute_threads,
            settings.compute_queue,
            settings.request_timeout,
            compute::Priority::Background,
        );
        Arc::new(AppState {
            served: ArcSwap::from_pointee(Served {
                snapshot: Arc::new(snapshot),
                settings: Arc::new(settings),
                tile_cache: Arc::new(tile_cache),
                tile_flights: flights::Flights::default(),
            }),
            metrics: metrics::Metrics::default(),
            light,
            heavy,
            reloader: std::sync::OnceLock::new(),
            rounds: std::sync::OnceLock::new(),
            auth: auth::AuthState::new(),
            data_change: tokio::sync::Mutex::new(()),
        })
    }

    /// The snapshot in force now; held for the whole request.
    pub fn current(&self) -> Arc<Snapshot> {
        self.served.load().snapshot.clone()
    }

    /// The settings in force now.
    pub fn settings(&self) -> Arc<Settings> {
        self.served.load().settings.clone()
    }

    /// The snapshot, settings and tile cache in force now, as one consistent set.
    pub fn served(&self) -> Arc<Served> {
        self.served.load_full()
    }

    /// Swaps in a new snapshot with its settings and a fresh tile cache, all at once for
    /// every request that starts after this.
    pub fn install(&self, snapshot: Snapshot, settings: Settings) {
        let tile_cache = AppState::tile_cache_for(&snapshot, &settings);
        self.install_prepared(snapshot, settings, tile_cache);
    }

    /// A tile cache for `snapshot` with its tile geometry already prepared, so the first
    /// tiles after a reload do not pay for it (slow on large layers: call it off the async
    /// workers).
    pub fn tile_cache_for(snapshot: &Snapshot, settings: &Settings) -> crate::tiles::TileCache {
        let tile_cache =
            crate::tiles::TileCache::new(settings.tile_cache_bytes, settings.tile_options);
        tile_cache.prepared(snapshot);
        tile_cache
    }

    /// [`AppState::install`] with a tile cache made by [`AppState::tile_cache_for`].
    pub fn install_prepared(
        &self,
        snapshot: Snapshot,
        settings: Settings,
        tile_cache: crate::tiles::TileCache,
    ) {
        self.served.store(Arc::new(Served {
            snapshot: Arc::new(snapshot),
            settings: Arc::new(settings),
            tile_cache: Arc::new(tile_cache),
            tile_flights: flights::Flights::default(),
        }));
    }
}

/// What one version of the service serves: its data, its settings and its tile cache.
#[derive(Debug)]
pub struct Served {
    /// The data.
    pub snapshot: Arc<Snapshot>,
    /// The settings loaded with it.
    pub settings: Arc<Settings>,
    /// Encoded hot tiles and the prepared tile geometry of `snapshot` (locks inside, held
    /// only briefly).
    pub tile_cache: Arc<crate::tiles::TileCache>,
    /// The tiles being made now, so that concurrent requests for one make it once.
    pub tile_flights: flights::Flights<crate::tiles::cache::TileKey, axum::body::Bytes>,
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

/// The two ends of the connection a request came on (set by [`crate::server::run`]).
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    /// The client, or the proxy in front of the server.
    pub remote: std::net::SocketAddr,
    /// The server's address the client connected to.
    pub local: std::net::SocketAddr,
}

/// The base URL for links in responses: the configured public URL; else, for a request
/// from a trusted proxy, the scheme, host and prefix it forwards (`Forwarded` or
/// `X-Forwarded-Proto`, `-Host`, `-Prefix`); else the address the client connected to.
/// Nothing a client sends directly can point links elsewhere. Without a connection (a
/// request built in-process), the `Host` header.
pub fn base_url(
    headers: &axum::http::HeaderMap,
    peer: Option<&Peer>,
    settings: &Settings,
) -> Result<String, ApiError> {
    if let Some(url) = &settings.public_url {
        return Ok(url.trim_end_matches('/').to_string());
    }
    let header_text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.split(',').next().unwrap_or("").trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let trusted = peer.is_some_and(|p| {
        settings
            .trusted_proxies
            .iter()
            .any(|block| block.contains(p.remote.ip()))
    });
    let (scheme, host, prefix) = if trusted {
        let forwarded = header_text("forwarded").map(|f| parse_forwarded(&f));
        let from_forwarded = |key: &str| {
            forwarded
                .as_ref()
                .and_then(|pairs| pairs.iter().find(|(k, _)| k == key))
                .map(|(_, v)| v.clone())
        };
        (
            from_forwarded("proto")
                .or_else(|| header_text("x-forwarded-proto"))
                .unwrap_or_else(|| "http".into()),
            from_forwarded("host")
                .or_else(|| header_text("x-forwarded-host"))
                .or_else(|| header_text("host"))
                .unwrap_or_else(|| peer.map_or("localhost".into(), |p| p.local.to_string())),
            header_text("x-forwarded-prefix").unwrap_or_default(),
        )
    } else if let Some(peer) = peer {
        ("http".to_string(), peer.local.to_string(), String::new())
    } else {
        (
            "http".to_string(),
            header_text("host").unwrap_or_else(|| "localhost".into()),
            String::new(),
        )
    };
    let safe = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:/[]@%".contains(c))
    };
    if !(scheme == "http" || scheme == "https") || !safe(&host) || !safe(&prefix) {
        return Err(ApiError::bad_request("malformed Host or forwarded header"));
    }
    Ok(format!("{scheme}://{host}{}", prefix.trim_end_matches('/')))
}

/// The first element of a `Forwarded` header as (lower-case key, unquoted value) pairs.
fn parse_forwarded(value: &str) -> Vec<(String, String)> {
    value
        .split(',')
        .next()
        .unwrap_or("")
        .split(';')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_string(),
            ))
        })
        .collect()
}

/// The base URL for links, as an extractor (see [`base_url`]).
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

impl FromRequestParts<Arc<AppState>> for BaseUrl {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        base_url(
            &parts.headers,
            parts.extensions.get::<Peer>(),
            &state.settings(),
        )
        .map(BaseUrl)
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
    /// FlatGeobuf (features only: see [`NegotiatedFeatures`]).
    Fgb,
}

/// The format asked for: `?f=` wins over `Accept`; JSON when neither says. FlatGeobuf is
/// not among the formats of this extractor: `f=fgb` is a 400 naming the endpoints that
/// give it, and `Accept: application/flatgeobuf` is answered with JSON.
#[derive(Debug, Clone, Copy)]
pub struct Negotiated(pub Format);

/// [`Negotiated`] for the endpoints that answer with features (items, search, near,
/// contains), which can also give FlatGeobuf (`f=fgb`, `Accept: application/flatgeobuf`).
#[derive(Debug, Clone, Copy)]
pub struct NegotiatedFeatures(pub Format);

/// The format a request asks for; FlatGeobuf only when `features`.
fn negotiate(parts: &Parts, features: bool) -> Result<Format, ApiError> {
    let f = parts.uri.query().and_then(|q| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .ok()?
            .into_iter()
            .find(|(k, _)| k == "f")
            .map(|(_, v)| v)
    });
    if let Some(f) = f {
        return match f.as_str() {
            "json" | "geojson" | "application/json" | "application/geo+json" => Ok(Format::Json),
            "html" | "text/html" => Ok(Format::Html),
            "csv" | "text/csv" => Ok(Format::Csv),
            "fgb" | "flatgeobuf" | FGB if features => Ok(Format::Fgb),
            "fgb" | "flatgeobuf" | FGB => Err(ApiError::bad_request(format!(
                "f={f:?}: FlatGeobuf is given for features only (items, search, near, \
                 contains and the /datasets downloads); use json, html or csv here"
            ))),
            other => Err(ApiError::bad_request(format!(
                "f={other:?} is not a format dtmap produces; use json, html or csv{}",
                if features {
                    ", or fgb (FlatGeobuf)"
                } else {
                    ""
                }
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
        _ if features && accept.starts_with(FGB) => Format::Fgb,
        _ => Format::Json,
    };
    Ok(format)
}

impl<S: Send + Sync> FromRequestParts<S> for Negotiated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        negotiate(parts, false).map(Negotiated)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for NegotiatedFeatures {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        negotiate(parts, true).map(NegotiatedFeatures)
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

//! The configuration: the TOML file that declares the layers and their count tables, the
//! server settings, and the limits. Every default and every limit is a named constant here,
//! so the README can document them from one place.
//!
//! Precedence: command-line flags > `DTMAP_*` environment variables > the config file >
//! the defaults below. With no config file, the built-in Iraq configuration is used. The
//! types of a `[[layer]]` table are in `config/layer.rs`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::builtin;

mod admin;
mod layer;
pub use admin::{AdminConfig, AdminUser};
pub use admin::{
    DATA_DIR_ENV, DEFAULT_MAX_UPLOAD_MB, DEFAULT_SESSION_HOURS, LOGIN_LIMITER_ENTRIES,
    LOGIN_WINDOW_SECS, MAX_FAILED_LOGINS_PER_ADDRESS, MAX_FAILED_LOGINS_PER_USER,
    SESSION_SECRET_ENV,
};
use layer::check_encoding;
pub use layer::{
    CoordinateAction, CoordinatesConfig, CountColumnConfig, CountTableConfig, LayerConfig,
    SourceConfig, SourceFormat,
};

/// Address the server binds to when neither the CLI, the environment nor the file says.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Items returned by `/collections/{id}/items` when the request gives no `limit`.
pub const DEFAULT_ITEMS_LIMIT: usize = 100;
/// Largest `limit` accepted by the items and query endpoints.
pub const MAX_ITEMS_LIMIT: usize = 10_000;
/// How far (km) outside every area a site is still snapped to the nearest one, when a
/// layer's `coordinates.action` is `snap` and it gives no `snap_km`.
pub const DEFAULT_SNAP_KM: f64 = 5.0;
/// `Cache-Control: max-age` (seconds) of data responses.
pub const DEFAULT_CACHE_MAX_AGE: u32 = 60;
/// Largest request body accepted (bytes), e.g. a polygon posted to a query endpoint: room
/// for [`MAX_QUERY_VERTICES`] positions written with full precision.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Largest number of vertices of a geometry given in a query.
pub const MAX_QUERY_VERTICES: usize = 100_000;
/// Largest radius (metres) of a distance query.
pub const MAX_RADIUS_METRES: f64 = 2_000_000.0;
/// Largest `k` of a nearest-sites query.
pub const MAX_NEAREST_K: usize = 1_000;
/// Longest time one request may run before the server answers 503 (`request_timeout_secs`).
pub const REQUEST_TIMEOUT_SECS: u64 = 30;
/// Requests waiting for a compute thread beyond the running ones; more are shed with 503.
pub const DEFAULT_COMPUTE_QUEUE: usize = 64;
/// Open connections served at once (further ones are closed at accept), unless the
/// open-files limit is lower.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// File descriptors kept free for data files, logs and the listener when the connection
/// cap is derived from the open-files limit.
pub const RESERVED_FILE_DESCRIPTORS: usize = 64;
/// Seconds a client has to send a whole request head; a keep-alive connection idle for
/// that long between requests is closed too.
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
/// Seconds shutdown waits for open requests before closing every connection.
pub const DEFAULT_SHUTDOWN_TIMEOUT_SECS: u64 = 10;
/// Longest request target (path and query) accepted, in bytes (HTTP's `Uri` cannot hold
/// more than 65,534).
pub const MAX_URI_BYTES: usize = 65_000;
/// Largest total size of the request headers, in bytes.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Largest body of one page of features (GeoJSON or CSV); a page stops early at it and
/// its `next` link continues from there.
pub const MAX_PAGE_BYTES: usize = 16 * 1024 * 1024;
/// Largest FlatGeobuf download (`/datasets/{layer}/{round}.fgb`), in bytes, counted as
/// its features are written to a temporary file; a larger one is a 413.
pub const MAX_FGB_DOWNLOAD_BYTES: usize = 1024 * 1024 * 1024;
/// Bytes of built answers waiting to be sent, over every connection; an answer that would
/// go over it is a 503 (`Retry-After`), so clients that do not read cannot pile up memory.
pub const MAX_BUFFERED_RESPONSE_BYTES: usize = 256 * 1024 * 1024;
/// Seconds between two looks at the watched config and data files.
pub const WATCH_INTERVAL_SECS: u64 = 2;
/// Longest CQL2 filter text accepted (characters): so many fit in the longest request
/// target ([`MAX_URI_BYTES`]) even percent-encoded at 3 bytes each, so the limit is
/// reachable and answered as a 413 rather than the request being refused as a 414.
pub const MAX_FILTER_CHARS: usize = 20_000;

// Limits on the shape of untrusted text, checked by a linear scan before any recursive
// parser sees it, so that no input can overflow a worker's stack.

pub use crate::geometry::MAX_GEOMETRY_NESTING;
/// Deepest nesting of a CQL2 filter: parentheses and `NOT`s in cql2-text, `and`/`or`/`not`
/// operators in cql2-json. A filter nested exactly this deep is accepted.
pub const MAX_FILTER_DEPTH: usize = 64;
/// Deepest nesting of brackets and braces in cql2-json text: each filter level is an object
/// and its `args` array, then the predicate's own object and array and a geometry literal.
pub const MAX_FILTER_JSON_NESTING: usize = 2 * MAX_FILTER_DEPTH + 2 + MAX_GEOMETRY_NESTING;
/// Deepest nesting of parentheses in cql2-text: the filter's levels, a function's
/// parentheses and a `MULTIPOLYGON`'s three.
pub const MAX_FILTER_TEXT_NESTING: usize = MAX_FILTER_DEPTH + 4;
/// Most names `properties=` may list (repeats are dropped, keeping the first).
pub const MAX_PROPERTY_NAMES: usize = 256;
/// Most comma-separated parts `bbox=` may have (4 numbers, or 6 with heights).
pub const MAX_BBOX_PARTS: usize = 6;

/// The whole configuration, as read from TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Title of the service (landing page, OpenAPI).
    #[serde(default = "default_title")]
    pub title: String,
    /// Description of the service.
    #[serde(default)]
    pub description: String,
    /// Server settings.
    #[serde(default)]
    pub server: ServerConfig,
    /// The layers, in display order.
    #[serde(rename = "layer", default)]
    pub layers: Vec<LayerConfig>,
    /// How vector tiles are cut and cached.
    #[serde(default)]
    pub tiles: TilesConfig,
    /// The dashboard: which layers it sums, and the published figures it shows.
    #[serde(default)]
    pub dashboard: Option<DashboardConfig>,
    /// The languages the web client offers, in the order of its language menu. When
    /// absent: English, then every language some layer has names, words or labels in.
    #[serde(rename = "language", default)]
    pub languages: Vec<LanguageConfig>,
    /// The admin area: users, sessions, the data directory of published versions.
    #[serde(default)]
    pub admin: AdminConfig,
    /// Where relative paths in this config are resolved: the config file's folder.
    #[serde(skip)]
    pub base: DataRoot,
}

/// Where the files named by a config live.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DataRoot {
    /// The datasets compiled into the binary (the built-in Iraq data).
    #[default]
    Builtin,
    /// A folder on disk.
    Dir(PathBuf),
}

fn default_title() -> String {
    "dtmap".to_string()
}

/// The `[server]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on.
    #[serde(default = "default_bind")]
    pub bind: String,
    /// Public base URL (scheme, host and path prefix) used in every link, for a server
    /// behind a reverse proxy. Without it, links are built from the request's Host header.
    #[serde(default)]
    pub public_url: Option<String>,
    /// `Cache-Control: max-age` of data responses, in seconds.
    #[serde(default = "default_cache_max_age")]
    pub cache_max_age: u32,
    /// Origins allowed to frame the embed pages (`Content-Security-Policy: frame-ancestors`).
    #[serde(default = "default_frame_ancestors")]
    pub frame_ancestors: Vec<String>,
    /// Addresses (IPs or CIDR blocks) of reverse proxies whose `Forwarded` /
    /// `X-Forwarded-*` headers are believed for links. Empty: those headers are ignored.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Seconds a request may run before it is answered 503 and its work abandoned.
    #[serde(default = "default_request_timeout")]
    pub request_timeout_secs: u64,
    /// Threads for CPU-heavy work (queries, totals, exports); 0: one per core.
    #[serde(default)]
    pub compute_threads: usize,
    /// Requests that may wait for a compute thread; beyond it, 503 with `Retry-After`.
    #[serde(default = "default_compute_queue")]
    pub compute_queue: usize,
    /// Connections served at once (lowered to fit the open-files limit).
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Seconds a client has to send a whole request head (and that an idle keep-alive
    /// connection is kept open).
    #[serde(default = "default_header_read_timeout")]
    pub header_read_timeout_secs: u64,
    /// Seconds shutdown waits for open requests.
    #[serde(default = "default_shutdown_timeout")]
    pub shutdown_timeout_secs: u64,
    /// Bearer token of `POST /admin/reload`; no admin route exists without one
    /// (`DTMAP_ADMIN_TOKEN` overrides it).
    #[serde(default)]
    pub admin_token: Option<String>,
    /// Reload by itself when the config file or a data file changes.
    #[serde(default)]
    pub watch: bool,
}

fn default_request_timeout() -> u64 {
    REQUEST_TIMEOUT_SECS
}
fn default_compute_queue() -> usize {
    DEFAULT_COMPUTE_QUEUE
}
fn default_max_connections() -> usize {
    DEFAULT_MAX_CONNECTIONS
}
fn default_header_read_timeout() -> u64 {
    DEFAULT_HEADER_READ_TIMEOUT_SECS
}
fn default_shutdown_timeout() -> u64 {
    DEFAULT_SHUTDOWN_TIMEOUT_SECS
}

fn default_bind() -> String {
    DEFAULT_BIND.to_string()
}
fn default_cache_max_age() -> u32 {
    DEFAULT_CACHE_MAX_AGE
}
fn default_frame_ancestors() -> Vec<String> {
    vec!["*".to_string()]
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: default_bind(),
            public_url: None,
            cache_max_age: DEFAULT_CACHE_MAX_AGE,
            frame_ancestors: default_frame_ancestors(),
            trusted_proxies: Vec::new(),
            request_timeout_secs: REQUEST_TIMEOUT_SECS,
            compute_threads: 0,
            compute_queue: DEFAULT_COMPUTE_QUEUE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_read_timeout_secs: DEFAULT_HEADER_READ_TIMEOUT_SECS,
            shutdown_timeout_secs: DEFAULT_SHUTDOWN_TIMEOUT_SECS,
            admin_token: None,
            watch: false,
        }
    }
}

/// The `[tiles]` table; every key has a default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TilesConfig {
    /// Tile units drawn beyond each side of a tile (extent 4096).
    #[serde(default = "default_tile_buffer")]
    pub buffer: u32,
    /// Douglas–Peucker tolerance in tile units; 0 keeps every vertex.
    #[serde(default = "default_simplify_tolerance")]
    pub simplify_tolerance: f64,
    /// Points are aggregated on a grid up to this zoom (inclusive); -1 never.
    #[serde(default = "default_cluster_max_zoom")]
    pub cluster_max_zoom: i8,
    /// Side of an aggregation cell in tile units.
    #[serde(default = "default_cluster_cell")]
    pub cluster_cell: u32,
    /// Bound of the in-memory tile cache in MiB (0 turns it off); `DTMAP_TILE_CACHE_MB`
    /// overrides it.
    #[serde(default = "default_tile_cache_mb")]
    pub cache_mb: usize,
}

fn default_tile_buffer() -> u32 {
    crate::tiles::DEFAULT_BUFFER
}
fn default_simplify_tolerance() -> f64 {
    crate::tiles::DEFAULT_SIMPLIFY_TOLERANCE
}
fn default_cluster_max_zoom() -> i8 {
    crate::tiles::DEFAULT_CLUSTER_MAX_ZOOM as i8
}
fn default_cluster_cell() -> u32 {
    crate::tiles::DEFAULT_CLUSTER_CELL
}
fn default_tile_cache_mb() -> usize {
    crate::tiles::cache::DEFAULT_TILE_CACHE_BYTES / (1024 * 1024)
}

impl Default for TilesConfig {
    fn default() -> Self {
        TilesConfig {
            buffer: default_tile_buffer(),
            simplify_tolerance: default_simplify_tolerance(),
            cluster_max_zoom: default_cluster_max_zoom(),
            cluster_cell: default_cluster_cell(),
            cache_mb: default_tile_cache_mb(),
        }
    }
}

impl TilesConfig {
    /// The options the tile cutter takes.
    pub fn options(&self) -> crate::tiles::TileOptions {
        crate::tiles::TileOptions {
            buffer: self.buffer,
            simplify_tolerance: self.simplify_tolerance,
            cluster_max_zoom: u8::try_from(self.cluster_max_zoom).ok(),
            cluster_cell: self.cluster_cell,
            ..Default::default()
        }
    }

    /// The cache bound in bytes (`DTMAP_TILE_CACHE_MB` wins).
    pub fn cache_bytes(&self) -> usize {
        std::env::var(crate::tiles::cache::TILE_CACHE_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(self.cache_mb)
            .saturating_mul(1024 * 1024)
    }
}

/// The `[dashboard]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardConfig {
    /// The admin-area layer whose counts make the headline figures (e.g. states).
    pub areas: String,
    /// The site layer counted in "sites" (e.g. sites).
    #[serde(default)]
    pub sites: Option<String>,
    /// The count column the ranking and trend use (e.g. persons).
    pub main_count: String,
    /// The published table's column naming the area of a figure, when not `area`.
    #[serde(default)]
    pub published_area_column: Option<String>,
    /// A table of published figures (columns as_of, dtm_round, scope, area, metric,
    /// value, source_url, notes), served exactly as published.
    #[serde(default)]
    pub published_figures: Option<String>,
}

/// One `[[language]]` of the web client.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageConfig {
    /// Language code (BCP 47), the key of `names`, `admin_word` and `count_labels`:
    /// `en`, `ar`, `ckb`, `fr`, `uk`…
    pub code: String,
    /// The language's name in itself, for the language menu ("کوردی"); the browser's
    /// name for the code when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// Writing direction, `ltr` or `rtl`; guessed from the code when absent.
    #[serde(default)]
    pub dir: Option<String>,
    /// Locale for numbers and dates (`fr-CA`); the code when absent. Use it where
    /// browsers have no number formats for the language itself.
    #[serde(default)]
    pub locale: Option<String>,
    /// Language whose names to show where a feature has none in this one (before the
    /// default name).
    #[serde(default)]
    pub fallback: Option<String>,
    /// A JSON file of interface strings (`{"search": "…"}`) for a language the client has
    /// no translation of, or to change some of its strings; English where a key is absent.
    #[serde(default)]
    pub strings: Option<String>,
}

/// Problems with the configuration itself.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown keys.
    #[error("invalid config {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What the parser said.
        message: String,
    },
    /// The content is inconsistent.
    #[error("invalid config: {0}")]
    Invalid(String),
}

impl Config {
    /// The built-in Iraq configuration, reading the datasets compiled into the binary.
    pub fn builtin() -> Config {
        Config::from_toml_str(
            builtin::BUILTIN_CONFIG,
            "<built-in iraq config>",
            DataRoot::Builtin,
        )
        .expect("the built-in config is valid (checked by tests)")
    }

    /// Reads a config file; relative paths in it resolve against its folder.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        Config::from_toml_str(&text, &path.display().to_string(), DataRoot::Dir(dir))
    }

    /// Parses config text; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &str, base: DataRoot) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        config.base = base;
        config.validate()?;
        Ok(config)
    }

    /// Overrides from the environment (`DTMAP_BIND`, `DTMAP_PUBLIC_URL`).
    pub fn apply_env(&mut self) {
        if let Ok(bind) = std::env::var("DTMAP_BIND") {
            self.server.bind = bind;
        }
        if let Ok(url) = std::env::var("DTMAP_PUBLIC_URL") {
            self.server.public_url = Some(url);
        }
        if let Ok(token) = std::env::var("DTMAP_ADMIN_TOKEN") {
            self.server.admin_token = Some(token).filter(|t| !t.is_empty());
        }
        if let Ok(dir) = std::env::var(DATA_DIR_ENV) {
            self.admin.data_dir = Some(dir).filter(|d| !d.is_empty());
        }
        if let Ok(secret) = std::env::var(SESSION_SECRET_ENV) {
            self.admin.session_secret = Some(secret).filter(|s| !s.is_empty());
        }
    }

    /// Whether the admin area exists: a bearer token or a user is configured.
    pub fn admin_enabled(&self) -> bool {
        self.server.admin_token.is_some() || !self.admin.users.is_empty()
    }

    /// The data directory of published versions and drafts, resolved against the config
    /// file's folder (the working directory for the built-in config); none when unset.
    pub fn data_dir(&self) -> Option<PathBuf> {
        let dir = PathBuf::from(self.admin.data_dir.as_ref()?);
        Some(match &self.base {
            DataRoot::Dir(base) if dir.is_relative() => base.join(dir),
            _ => dir,
        })
    }

    /// The data files this config names, on disk (none for the built-in data).
    pub fn data_files(&self) -> Vec<PathBuf> {
        let DataRoot::Dir(dir) = &self.base else {
            return Vec::new();
        };
        let mut names: Vec<&str> = Vec::new();
        for layer in &self.layers {
            if !is_remote(&layer.source.path) {
                names.push(&layer.source.path);
            }
            names.extend(layer.counts.iter().map(|c| c.path.as_str()));
        }
        if let Some(path) = self
            .dashboard
            .as_ref()
            .and_then(|d| d.published_figures.as_deref())
        {
            names.push(path);
        }
        names.into_iter().map(|n| dir.join(n)).collect()
    }

    /// A hash of the whole effective configuration (not where its files live), so that a
    /// change to any setting — a column mapping, a tile option — changes the data version.
    pub fn fingerprint(&self) -> u64 {
        let mut without_base = self.clone();
        without_base.base = DataRoot::Builtin;
        xxhash_rust::xxh3::xxh3_64(format!("{without_base:?}").as_bytes())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.layers.is_empty() {
            return Err(ConfigError::Invalid("no [[layer]] is declared".into()));
        }
        let mut seen = std::collections::HashSet::new();
        for layer in &self.layers {
            if !is_valid_id(&layer.id) {
                return Err(ConfigError::Invalid(format!(
                    "layer id {:?} must be 1-64 characters of a-z, A-Z, 0-9, '_' or '-'",
                    layer.id
                )));
            }
            if !seen.insert(layer.id.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "layer id {:?} is declared twice",
                    layer.id
                )));
            }
            let format = layer
                .source
                .format
                .or_else(|| SourceFormat::from_path(&layer.source.path));
            match format {
                None => {
                    return Err(ConfigError::Invalid(format!(
                        "layer {:?}: cannot tell the format of {:?}; set source.format",
                        layer.id, layer.source.path
                    )))
                }
                Some(SourceFormat::Csv | SourceFormat::Xlsx)
                    if layer.source.lat.is_none() || layer.source.lon.is_none() =>
                {
                    return Err(ConfigError::Invalid(format!(
                        "layer {:?}: a table source needs source.lat and source.lon columns",
                        layer.id
                    )))
                }
                _ => {}
            }
            if is_remote(&layer.source.path) && format != Some(SourceFormat::Flatgeobuf) {
                return Err(ConfigError::Invalid(format!(
                    "layer {:?}: {:?} is a URL; only FlatGeobuf sources are read over HTTP(S) \
                     (set source.format = \"flatgeobuf\" if the URL does not end in .fgb)",
                    layer.id, layer.source.path
                )));
            }
            if let Some([w, s, e, n]) = layer.source.bbox {
                let lon = |v: f64| v.is_finite() && (-180.0..=180.0).contains(&v);
                let lat = |v: f64| v.is_finite() && (-90.0..=90.0).contains(&v);
                if !(lon(w) && lon(e) && lat(s) && lat(n) && w <= e && s <= n) {
                    return Err(ConfigError::Invalid(format!(
                        "layer {:?}: source.bbox must be [west, south, east, north] in degrees, \
                         west <= east and south <= north",
                        layer.id
                    )));
                }
            }
            check_encoding(
                &layer.id,
                "source.encoding",
                &layer.source.path,
                format,
                layer.source.encoding.as_deref(),
            )?;
            for table in &layer.counts {
                if is_remote(&table.path) {
                    return Err(ConfigError::Invalid(format!(
                        "layer {:?}: the count table {:?} is a URL; count tables are read \
                         from files",
                        layer.id, table.path
                    )));
                }
                let format = SourceFormat::from_path(&table.path).or(Some(SourceFormat::Csv));
                let setting = format!("encoding of the count table {:?}", table.path);
                check_encoding(
                    &layer.id,
                    &setting,
                    &table.path,
                    format,
                    table.encoding.as_deref(),
                )?;
                match (&table.round, &table.round_id) {
                    (Some(_), None) => {}
                    (None, Some(id)) if !id.trim().is_empty() => {}
                    (Some(_), Some(_)) => {
                        return Err(ConfigError::Invalid(format!(
                            "layer {:?}: the count table {:?} gives both round (a column) and \
                             round_id (one round for every row); keep one",
                            layer.id, table.path
                        )))
                    }
                    _ => {
                        return Err(ConfigError::Invalid(format!(
                            "layer {:?}: the count table {:?} needs round (the column holding \
                             each row's round) or round_id (the round of every row)",
                            layer.id, table.path
                        )))
                    }
                }
            }
            let coordinates = layer.coordinates;
            if !(coordinates.snap_km.is_finite() && coordinates.snap_km > 0.0) {
                return Err(ConfigError::Invalid(format!(
                    "layer {:?}: coordinates.snap_km must be a distance in km above 0",
                    layer.id
                )));
            }
            let mut names = std::collections::HashSet::new();
            for table in &layer.counts {
                for column in &table.columns {
                    if !is_valid_id(column.name()) {
                        return Err(ConfigError::Invalid(format!(
                            "layer {:?}: count column name {:?} must be 1-64 characters of a-z, A-Z, 0-9, '_' or '-'",
                            layer.id,
                            column.name()
                        )));
                    }
                    names.insert(column.name().to_string());
                }
            }
            for reserved in RESERVED_PROPERTIES {
                if names.contains(*reserved) {
                    return Err(ConfigError::Invalid(format!(
                        "layer {:?}: {reserved:?} is reserved and cannot name a count column",
                        layer.id
                    )));
                }
            }
        }
        self.admin.validate()?;
        let tiles = &self.tiles;
        if tiles.buffer > 1024
            || !(0.0..=256.0).contains(&tiles.simplify_tolerance)
            || tiles.cluster_max_zoom > 22
            || !(1..=4096).contains(&tiles.cluster_cell)
        {
            return Err(ConfigError::Invalid(
                "tiles: buffer 0-1024, simplify_tolerance 0-256, cluster_max_zoom -1-22, cluster_cell 1-4096".into(),
            ));
        }
        if let Some(dashboard) = &self.dashboard {
            for id in std::iter::once(&dashboard.areas).chain(dashboard.sites.as_ref()) {
                if !self.layers.iter().any(|l| &l.id == id) {
                    return Err(ConfigError::Invalid(format!("dashboard: no layer {id:?}")));
                }
            }
        }
        for proxy in &self.server.trusted_proxies {
            proxy
                .parse::<crate::net::IpBlock>()
                .map_err(|e| ConfigError::Invalid(format!("server.trusted_proxies: {e}")))?;
        }
        let server = &self.server;
        for (name, value) in [
            ("request_timeout_secs", server.request_timeout_secs),
            ("header_read_timeout_secs", server.header_read_timeout_secs),
            ("shutdown_timeout_secs", server.shutdown_timeout_secs),
            ("max_connections", server.max_connections as u64),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid(format!(
                    "server.{name} must be more than 0"
                )));
            }
        }
        if let Some(url) = &self.server.public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError::Invalid(format!(
                    "server.public_url {url:?} must start with http:// or https://"
                )));
            }
        }
        Ok(())
    }

    /// Where a data file is on disk; `None` for a built-in one.
    pub fn path_on_disk(&self, path: &str) -> Option<std::path::PathBuf> {
        match &self.base {
            DataRoot::Builtin if Path::new(path).is_absolute() => Some(path.into()),
            DataRoot::Builtin => None,
            DataRoot::Dir(dir) => Some(dir.join(path)),
        }
    }

    /// Reads a file named by this config (relative to it), from disk or from the binary.
    pub fn read_file(&self, path: &str) -> std::io::Result<std::borrow::Cow<'static, [u8]>> {
        match &self.base {
            // A path of its own (a published round's file) is read from disk.
            DataRoot::Builtin if Path::new(path).is_absolute() => {
                std::fs::read(path).map(std::borrow::Cow::Owned)
            }
            DataRoot::Builtin => builtin::file(path)
                .map(std::borrow::Cow::Borrowed)
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("no built-in file {path:?}"),
                    )
                }),
            DataRoot::Dir(dir) => std::fs::read(dir.join(path)).map(std::borrow::Cow::Owned),
        }
    }
}

/// Whether a source path names a file on a web server (`http://`, `https://`) rather than
/// one on disk.
pub fn is_remote(path: &str) -> bool {
    let scheme = path.get(..8).unwrap_or(path).to_ascii_lowercase();
    scheme.starts_with("http://") || scheme.starts_with("https://")
}

/// Most bytes an XLSX workbook (a source, a count table or an uploaded round) may unpack
/// to: a 20 MB workbook of a million rows unpacks to about 190 MB, while a crafted one of
/// a few MB can unpack to many GB.
pub const MAX_WORKBOOK_UNPACKED_BYTES: u64 = 512 * 1024 * 1024;

/// Most bytes read over HTTP for one remote FlatGeobuf source.
pub const MAX_REMOTE_BYTES: u64 = 4 * 1024 * 1024 * 1024;
/// Longest single range request when reading a remote FlatGeobuf source (a feature, or a
/// level of its spatial index, larger than this is refused).
pub const MAX_REMOTE_REQUEST_BYTES: u64 = 256 * 1024 * 1024;
/// Deadline of reading one remote FlatGeobuf source, and of each of its requests.
pub const REMOTE_READ_TIMEOUT_SECS: u64 = 300;

/// Property names dtmap adds to every feature with counts.
pub const RESERVED_PROPERTIES: &[&str] =
    &["round", "round_label", "synthetic", "provenance", "source"];

/// Layer ids and count names are used in URLs and as property names.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

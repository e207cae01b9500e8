//! Every route, once: its path (the same text for axum and for OpenAPI), its handlers, the
//! query-parameter type of each, and what the OpenAPI document says of its operations.
//! [`crate::server::app`] builds the router from [`ROUTES`], and [`super::openapi`] the
//! document, so neither can list a route the other lacks.

use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::routing::{get, post, MethodRouter};
use axum::Router;

use super::params::{
    DashboardPageParams, DatasetsParams, EmbedParams, FormatParams, NoParams, Query, RootParams,
};
use super::{
    admin, apidoc, collections, dashboard, datasets, items, landing, metrics, openapi, queries,
    rounds, series, styles, tiles, totals, web, AppState,
};
use crate::error::ApiError;

/// Media types of answers.
pub mod media {
    pub use crate::api::{CSV, FGB, GEOJSON, JSON, OPENAPI};
    /// HTML pages.
    pub const HTML: &str = "text/html";
    /// JSON Schema (queryables).
    pub const SCHEMA: &str = "application/schema+json";
    /// Mapbox Vector Tiles.
    pub const MVT: &str = crate::tiles::MEDIA_TYPE;
    /// Glyph ranges.
    pub const PROTOBUF: &str = "application/x-protobuf";
    /// Spreadsheets.
    pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    /// Prometheus metrics.
    pub const TEXT: &str = "text/plain";
    /// Any file.
    pub const ANY: &str = "application/octet-stream";
}

/// One operation (a method on a route) as the OpenAPI document describes it.
#[derive(Clone, Copy)]
pub struct Op {
    /// `operationId`.
    pub id: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Group in the document.
    pub tag: &'static str,
    /// Media types of a 200.
    pub media: &'static [&'static str],
    /// Whether a JSON body (an area) is taken.
    pub body: bool,
    /// Parameters of the route's query type this operation refuses (given in the body).
    pub except: &'static [&'static str],
}

/// A route: path, the query parameters its handlers accept, its operations and handlers.
pub struct Route {
    /// The path as axum matches it; `{*rest}` is a catch-all (`{rest}` in OpenAPI).
    pub path: &'static str,
    /// The query parameters every method of the route accepts; others are a 400.
    pub query: Query,
    /// `GET` (and `HEAD`).
    pub get: Option<Op>,
    /// `POST`.
    pub post: Option<Op>,
    /// The handlers.
    pub handlers: fn() -> MethodRouter<Arc<AppState>>,
}

const fn op(
    id: &'static str,
    tag: &'static str,
    summary: &'static str,
    media: &'static [&'static str],
) -> Option<Op> {
    Some(Op {
        id,
        summary,
        tag,
        media,
        body: false,
        except: &[],
    })
}

const fn op_with_body(
    id: &'static str,
    tag: &'static str,
    summary: &'static str,
    media: &'static [&'static str],
) -> Option<Op> {
    Some(Op {
        id,
        summary,
        tag,
        media,
        body: true,
        except: IN_THE_BODY,
    })
}

use media::*;

/// What a POST of an area takes in its body rather than its query string.
const IN_THE_BODY: &[&str] = &["geometry", "area", "relation", "lon", "lat", "radius"];

/// Every route of the server.
pub const ROUTES: &[Route] = &[
    Route {
        path: "/",
        query: Query::of::<RootParams>(),
        get: op("getLandingPage", "Capabilities", "Landing page (JSON; the map for browsers, whose page reads lang, round, metric and layers)", &[JSON, HTML]),
        post: None,
        handlers: || get(web::root),
    },
    Route {
        path: "/conformance",
        query: Query::of::<FormatParams>(),
        get: op("getConformance", "Capabilities", "Conformance classes", &[JSON]),
        post: None,
        handlers: || get(landing::conformance),
    },
    Route {
        path: "/api",
        query: Query::of::<FormatParams>(),
        get: op("getApi", "Capabilities", "This document (OpenAPI 3.0)", &[OPENAPI]),
        post: None,
        handlers: || get(openapi::document),
    },
    Route {
        path: "/api.html",
        query: Query::of::<NoParams>(),
        get: op("getApiDocumentation", "Capabilities", "This document as an HTML page", &[HTML]),
        post: None,
        handlers: || get(apidoc::page),
    },
    Route {
        path: "/collections",
        query: Query::of::<FormatParams>(),
        get: op("getCollections", "Data", "The collections (layers)", &[JSON]),
        post: None,
        handlers: || get(collections::list),
    },
    Route {
        path: "/collections/{collectionId}",
        query: Query::of::<FormatParams>(),
        get: op("describeCollection", "Data", "One collection", &[JSON]),
        post: None,
        handlers: || get(collections::one),
    },
    Route {
        path: "/collections/{collectionId}/queryables",
        query: Query::of::<FormatParams>(),
        get: op("getQueryables", "Data", "Properties that filters and sortby can use (JSON Schema)", &[SCHEMA]),
        post: None,
        handlers: || get(collections::queryables),
    },
    Route {
        path: "/collections/{collectionId}/items",
        query: Query::open::<items::ItemsStandard>(),
        get: op("getFeatures", "Data", "Features with the counts of one round", &[GEOJSON, CSV, FGB]),
        post: None,
        handlers: || get(items::list),
    },
    Route {
        path: "/collections/{collectionId}/items/{featureId}",
        query: Query::of::<items::ItemParams>(),
        get: op("getFeature", "Data", "One feature", &[GEOJSON, CSV, FGB]),
        post: None,
        handlers: || get(items::one),
    },
    Route {
        path: "/collections/{collectionId}/items/{featureId}/rounds",
        query: Query::of::<NoParams>(),
        get: op("getFeatureRounds", "Data", "One feature's counts in every round, with their source", &[JSON]),
        post: None,
        handlers: || get(series::rounds),
    },
    Route {
        path: "/collections/{collectionId}/series",
        query: Query::of::<NoParams>(),
        get: op("getSeries", "Data", "Every feature's counts in every round, in one answer", &[JSON]),
        post: None,
        handlers: || get(series::all),
    },
    Route {
        path: "/collections/{collectionId}/search",
        query: Query::of::<queries::AreaParams>(),
        get: op("searchArea", "Queries", "Features in an area", &[GEOJSON, CSV, FGB]),
        post: op_with_body("searchAreaPost", "Queries", "Features in an area given in the body", &[GEOJSON, CSV, FGB]),
        handlers: || get(queries::search_get).post(queries::search_post),
    },
    Route {
        path: "/collections/{collectionId}/near",
        query: Query::of::<queries::NearParams>(),
        get: op("near", "Queries", "Features within a distance of a point, or the k nearest, nearest first", &[GEOJSON, CSV, FGB]),
        post: None,
        handlers: || get(queries::near),
    },
    Route {
        path: "/collections/{collectionId}/contains",
        query: Query::of::<queries::PointParams>(),
        get: op("contains", "Queries", "The features containing a point (e.g. which area)", &[GEOJSON, CSV, FGB]),
        post: None,
        handlers: || get(queries::contains),
    },
    Route {
        path: "/collections/{collectionId}/totals",
        query: Query::of::<queries::AreaParams>(),
        get: op("totals", "Queries", "Totals of every count column over an area or a circle", &[JSON, CSV]),
        post: op_with_body("totalsPost", "Queries", "Totals over an area or circle given in the body", &[JSON, CSV]),
        handlers: || get(totals::totals_get).post(totals::totals_post),
    },
    Route {
        path: "/collections/{collectionId}/tiles",
        query: Query::of::<FormatParams>(),
        get: op("getTilesets", "Tiles", "The vector tilesets of a collection (OGC API – Tiles)", &[JSON]),
        post: None,
        handlers: || get(tiles::tilesets),
    },
    Route {
        path: "/collections/{collectionId}/tiles/{tileMatrixSetId}",
        query: Query::of::<FormatParams>(),
        get: op("getTileset", "Tiles", "One tileset (WebMercatorQuad)", &[JSON]),
        post: None,
        handlers: || get(tiles::tileset_one),
    },
    Route {
        path: "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
        query: Query::of::<tiles::TileParams>(),
        get: op("getCollectionTile", "Tiles", "A vector tile of one collection (OGC API – Tiles)", &[MVT]),
        post: None,
        handlers: || get(tiles::ogc_tile),
    },
    Route {
        path: "/tiles/{layers}",
        query: Query::of::<tiles::TileParams>(),
        get: op("getTileJsonShort", "Tiles", "TileJSON 3.0 of one layer or several, as /tiles/{layers}.json", &[JSON]),
        post: None,
        handlers: || get(tiles::tilejson),
    },
    Route {
        path: "/tiles/{layers}/tilejson.json",
        query: Query::of::<tiles::TileParams>(),
        get: op("getTileJson", "Tiles", "TileJSON 3.0 of one layer or several", &[JSON]),
        post: None,
        handlers: || get(tiles::tilejson_named),
    },
    Route {
        path: "/tiles/{layers}/{z}/{x}/{y}",
        query: Query::of::<tiles::TileParams>(),
        get: op("getTile", "Tiles", "A Mapbox Vector Tile of one layer or several (comma-separated)", &[MVT]),
        post: None,
        handlers: || get(tiles::tile),
    },
    Route {
        path: "/styles/{styleId}",
        query: Query::of::<tiles::TileParams>(),
        get: op("getStyle", "Tiles", "A MapLibre style (default.json: the displacement map, offline basemap included)", &[JSON]),
        post: None,
        handlers: || get(styles::style),
    },
    Route {
        path: "/fonts/{fontstack}/{range}",
        query: Query::of::<NoParams>(),
        get: op("getGlyphs", "Tiles", "Glyphs (SDF protobuf) for the style's labels", &[PROTOBUF]),
        post: None,
        handlers: || get(styles::glyph_range),
    },
    Route {
        path: "/dashboard",
        // Pages people share: a link with tracking parameters still opens.
        query: Query::open::<DashboardPageParams>(),
        get: op("dashboardPage", "Web", "The dashboard page: headline figures, ranking, trend, origins (embed=1 for iframes)", &[HTML]),
        post: None,
        handlers: || get(web::dashboard),
    },
    Route {
        path: "/dashboard/summary",
        query: Query::of::<dashboard::DashboardParams>(),
        get: op("dashboardSummary", "Dashboard", "Headline figures of a round, with change against the previous round and provenance", &[JSON, CSV]),
        post: None,
        handlers: || get(dashboard::summary),
    },
    Route {
        path: "/dashboard/ranking",
        query: Query::of::<dashboard::DashboardParams>(),
        get: op("dashboardRanking", "Dashboard", "Areas ranked by the main count, with share of the total", &[JSON, CSV]),
        post: None,
        handlers: || get(dashboard::ranking),
    },
    Route {
        path: "/dashboard/trend",
        query: Query::of::<dashboard::DashboardParams>(),
        get: op("dashboardTrend", "Dashboard", "The main count over every round, nationally and for one area", &[JSON, CSV]),
        post: None,
        handlers: || get(dashboard::trend),
    },
    Route {
        path: "/dashboard/origins",
        query: Query::of::<FormatParams>(),
        get: op("dashboardOrigins", "Dashboard", "Published figures by area of origin", &[JSON, CSV]),
        post: None,
        handlers: || get(dashboard::origins),
    },
    Route {
        path: "/published",
        query: Query::of::<FormatParams>(),
        get: op("published", "Dashboard", "Every published figure, exactly as published, with its source", &[JSON, CSV]),
        post: None,
        handlers: || get(dashboard::published),
    },
    Route {
        path: "/datasets",
        query: Query::of::<DatasetsParams>(),
        get: op("datasets", "Datasets", "The downloadable datasets: every layer per round and all rounds, with source and licence (JSON, or a page for browsers in the language of lang)", &[JSON, HTML]),
        post: None,
        handlers: || get(datasets::list),
    },
    Route {
        path: "/datasets/{layer}/{file}",
        query: Query::of::<NoParams>(),
        get: op("dataset", "Datasets", "One layer with the counts of one round ({round}.ext, latest.ext) or of every round (all.csv, all.xlsx: a time series), as GeoJSON, CSV (UTF-8 with BOM), XLSX or FlatGeobuf (with its spatial index)", &[GEOJSON, CSV, XLSX, FGB]),
        post: None,
        handlers: || get(datasets::download),
    },
    Route {
        path: "/embed",
        query: Query::open::<EmbedParams>(),
        get: op("embed", "Web", "The map with minimal chrome, for iframes (framing allowed by server.frame_ancestors)", &[HTML]),
        post: None,
        handlers: || get(web::embed),
    },
    Route {
        path: "/assets/{version}/{*path}",
        // Static files: a query string (MapLibre adds `?v=` to its worker) changes nothing.
        query: Query::open::<NoParams>(),
        get: op("asset", "Web", "The web client's files (MapLibre GL JS and its licence, scripts, styles), cached for a year", &[ANY]),
        post: None,
        handlers: || get(web::versioned_asset),
    },
    Route {
        path: "/health",
        query: Query::of::<NoParams>(),
        get: op("getHealth", "Operations", "Liveness and the data version", &[JSON]),
        post: None,
        handlers: || get(metrics::health),
    },
    Route {
        path: "/metrics",
        query: Query::of::<NoParams>(),
        get: op("getMetrics", "Operations", "Prometheus metrics", &[TEXT]),
        post: None,
        handlers: || get(metrics::metrics),
    },
    Route {
        path: "/admin/reload",
        query: Query::of::<NoParams>(),
        get: None,
        post: op("reload", "Operations", "Reload the data from the files (bearer token; only when server.admin_token is set)", &[JSON]),
        handlers: || post(admin::reload),
    },
    Route {
        path: "/admin",
        query: Query::open::<NoParams>(),
        get: op("adminPage", "Admin", "The admin page: log in, upload a round, review, publish, roll back (only when an admin user or token is configured)", &[HTML]),
        post: None,
        handlers: || get(admin::page),
    },
    Route {
        path: "/admin/login",
        query: Query::of::<NoParams>(),
        get: None,
        post: op("adminLogin", "Admin", "Log in with {user, password}: sets the session cookie, answers the CSRF token (rate-limited)", &[JSON]),
        handlers: || post(admin::login),
    },
    Route {
        path: "/admin/logout",
        query: Query::of::<NoParams>(),
        get: None,
        post: op("adminLogout", "Admin", "End the session", &[JSON]),
        handlers: || post(admin::logout),
    },
    Route {
        path: "/admin/session",
        query: Query::of::<NoParams>(),
        get: op("adminSession", "Admin", "Who is logged in, and the CSRF token their changes carry in X-CSRF-Token", &[JSON]),
        post: None,
        handlers: || get(admin::session),
    },
    Route {
        path: "/admin/rounds",
        query: Query::of::<NoParams>(),
        get: None,
        post: op("uploadRound", "Admin", "Upload a master list (multipart: file, round, label, date, source, illustrative, skipBadRows): answers the draft with its load report and its diff against the latest round", &[JSON]),
        handlers: || post(rounds::upload).layer(axum::extract::DefaultBodyLimit::disable()),
    },
    Route {
        path: "/admin/drafts",
        query: Query::of::<NoParams>(),
        get: op("listDrafts", "Admin", "The drafts waiting to be published", &[JSON]),
        post: None,
        handlers: || get(rounds::drafts),
    },
    Route {
        path: "/admin/drafts/{draft}",
        query: Query::of::<NoParams>(),
        get: op("getDraft", "Admin", "A draft: its load report and its diff against the latest round", &[JSON]),
        post: None,
        handlers: || get(rounds::draft),
    },
    Route {
        path: "/admin/drafts/{draft}/preview",
        query: Query::of::<NoParams>(),
        get: op("previewDraft", "Admin", "The draft's figures as GeoJSON, for the preview map", &[GEOJSON]),
        post: None,
        handlers: || get(rounds::preview),
    },
    Route {
        path: "/admin/drafts/{draft}/discard",
        query: Query::of::<NoParams>(),
        get: None,
        post: op("discardDraft", "Admin", "Throw a draft away", &[JSON]),
        handlers: || post(rounds::discard),
    },
    Route {
        path: "/admin/rounds/{draft}/publish",
        query: Query::of::<NoParams>(),
        get: None,
        post: op("publishRound", "Admin", "Publish a draft: a new version, served at once (409 when the draft has errors)", &[JSON]),
        handlers: || post(rounds::publish),
    },
    Route {
        path: "/admin/versions",
        query: Query::of::<NoParams>(),
        get: op("listVersions", "Admin", "The published versions: who, when, the rounds and totals; which one is served", &[JSON]),
        post: None,
        handlers: || get(rounds::versions),
    },
    Route {
        path: "/admin/rollback/{number}",
        query: Query::of::<NoParams>(),
        get: None,
        post: op("rollback", "Admin", "Serve an earlier published version again", &[JSON]),
        handlers: || post(rounds::rollback),
    },
    Route {
        path: "/admin/audit",
        query: Query::of::<NoParams>(),
        get: op("getAudit", "Admin", "The last lines of the audit log, newest first", &[JSON]),
        post: None,
        handlers: || get(rounds::audit),
    },
];

/// The routes of [`ROUTES`], each refusing query parameters its type does not know.
pub fn router() -> Router<Arc<AppState>> {
    ROUTES.iter().fold(Router::new(), |router, route| {
        let check = route.query.check;
        let handlers = (route.handlers)().route_layer(middleware::from_fn(
            move |request: Request, next: Next| async move {
                if let Err(why) = check(request.uri().query().unwrap_or("")) {
                    return ApiError::bad_request(why).into_response();
                }
                next.run(request).await
            },
        ));
        router.route(route.path, handlers)
    })
}

/// The path as OpenAPI writes it (`{*rest}` → `{rest}`).
pub fn openapi_path(path: &str) -> String {
    path.replace("{*", "{")
}

/// The names of a path's parameters, in order.
pub fn path_parameters(path: &str) -> Vec<&str> {
    path.split('{')
        .skip(1)
        .filter_map(|part| {
            part.split_once('}')
                .map(|(name, _)| name.trim_start_matches('*'))
        })
        .collect()
}

//! `/` (the landing page: JSON for clients, the map for browsers) and `/conformance`.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::{json_response, AppState, BaseUrl, Format, Negotiated, JSON};

/// The conformance classes dtmap implements.
pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landing-page",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/array-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
    "http://www.opengis.net/spec/cql2/1.0/conf/functions",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
];

/// `GET /`
pub async fn landing(
    State(state): State<Arc<AppState>>,
    BaseUrl(base): BaseUrl,
    Negotiated(format): Negotiated,
) -> Response {
    let snapshot = state.current();
    if format == Format::Html {
        return Html(crate::web::index_html(&super::web::map_bootstrap(
            &snapshot, &base,
        )))
        .into_response();
    }
    json_response(
        &json!({
            "title": snapshot.title,
            "description": snapshot.description,
            "links": [
                { "href": format!("{base}/"), "rel": "self", "type": JSON, "title": "this document" },
                { "href": format!("{base}/?f=html"), "rel": "alternate", "type": "text/html", "title": "the map" },
                { "href": format!("{base}/api"), "rel": "service-desc", "type": super::OPENAPI, "title": "the API definition (OpenAPI 3.0)" },
                { "href": format!("{base}/api.html"), "rel": "service-doc", "type": "text/html", "title": "the API documentation" },
                { "href": format!("{base}/conformance"), "rel": "conformance", "type": JSON, "title": "conformance classes" },
                { "href": format!("{base}/collections"), "rel": "data", "type": JSON, "title": "the collections" },
            ],
        }),
        JSON,
    )
}

/// `GET /conformance`
pub async fn conformance() -> Response {
    json_response(&json!({ "conformsTo": CONFORMANCE }), JSON)
}

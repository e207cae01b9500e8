//! `/api`: the OpenAPI 3.0 document of every endpoint, with the collection ids, rounds and
//! limits of the data being served, and examples that run against it.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};

use super::{json_response, AppState, BaseUrl};
use crate::config::{DEFAULT_ITEMS_LIMIT, MAX_ITEMS_LIMIT};
use crate::model::Snapshot;

/// `GET /api`
pub async fn document(State(state): State<Arc<AppState>>, BaseUrl(base): BaseUrl) -> Response {
    let snapshot = state.current();
    json_response(&build(&snapshot, &base), super::OPENAPI)
}

fn param(name: &str, location: &str, description: &str, schema: Value, example: Value) -> Value {
    let mut p = json!({
        "name": name,
        "in": location,
        "description": description,
        "required": location == "path",
        "schema": schema,
    });
    if !example.is_null() {
        p["example"] = example;
    }
    p
}

fn ok(description: &str, media: &str) -> Value {
    json!({
        "200": { "description": description, "content": { media: { "schema": { "type": "object" } } } },
        "400": { "$ref": "#/components/responses/BadRequest" },
        "404": { "$ref": "#/components/responses/NotFound" },
    })
}

/// The OpenAPI document for a snapshot served at `base`.
pub fn build(snapshot: &Snapshot, base: &str) -> Value {
    let ids: Vec<&str> = snapshot.layers.iter().map(|l| l.id.as_str()).collect();
    let data_layer = snapshot
        .layers
        .iter()
        .find(|l| !l.count_columns.is_empty())
        .or_else(|| snapshot.layers.first());
    let example_id = data_layer.map(|l| l.id.as_str()).unwrap_or("");
    let example_fid = data_layer
        .and_then(|l| l.features.first())
        .map(|f| f.id.as_str())
        .unwrap_or("");
    let example_round = data_layer
        .and_then(|l| l.latest_round().map(|r| l.rounds[r].id.clone()))
        .unwrap_or_default();
    let example_bbox = data_layer
        .and_then(|l| l.extent)
        .map(|r| {
            let (cx, cy) = (r.center().x, r.center().y);
            format!("{},{},{},{}", cx - 1.0, cy - 1.0, cx + 1.0, cy + 1.0)
        })
        .unwrap_or_else(|| "-180,-90,180,90".into());
    let collection_id = param(
        "collectionId",
        "path",
        "Collection (layer) id.",
        json!({ "type": "string", "enum": ids }),
        json!(example_id),
    );
    let round = param(
        "round",
        "query",
        "Round whose counts are joined (`latest` by default).",
        json!({ "type": "string" }),
        json!(example_round),
    );
    let datetime = param(
        "datetime",
        "query",
        "Instant or interval (RFC 3339): selects the latest round dated on or before the instant, or within the interval.",
        json!({ "type": "string" }),
        Value::Null,
    );
    let properties = param(
        "properties",
        "query",
        "Comma-separated properties to include.",
        json!({ "type": "string" }),
        Value::Null,
    );
    let f = param(
        "f",
        "query",
        "Output format.",
        json!({ "type": "string", "enum": ["json", "csv", "html"] }),
        Value::Null,
    );
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": snapshot.title,
            "description": snapshot.description,
            "version": env!("CARGO_PKG_VERSION"),
            "license": { "name": "Data: see each collection's attribution" },
        },
        "servers": [{ "url": base }],
        "paths": {
            "/": { "get": { "summary": "Landing page (JSON; the map for browsers)", "operationId": "getLandingPage", "tags": ["Capabilities"], "parameters": [f], "responses": ok("Links to the API", "application/json") } },
            "/conformance": { "get": { "summary": "Conformance classes", "operationId": "getConformance", "tags": ["Capabilities"], "responses": ok("The conformance classes", "application/json") } },
            "/api": { "get": { "summary": "This document", "operationId": "getApi", "tags": ["Capabilities"], "responses": ok("OpenAPI 3.0", super::OPENAPI) } },
            "/collections": { "get": { "summary": "The collections (layers)", "operationId": "getCollections", "tags": ["Data"], "responses": ok("Collections with extent, rounds and count columns", "application/json") } },
            "/collections/{collectionId}": { "get": { "summary": "One collection", "operationId": "describeCollection", "tags": ["Data"], "parameters": [collection_id], "responses": ok("The collection", "application/json") } },
            "/collections/{collectionId}/queryables": { "get": { "summary": "Properties that filters and sortby can use", "operationId": "getQueryables", "tags": ["Data"], "parameters": [collection_id], "responses": ok("JSON Schema of the queryables", "application/schema+json") } },
            "/collections/{collectionId}/items": { "get": {
                "summary": "Features with the counts of one round",
                "description": format!("Paged with limit/offset (next/prev links). Any other parameter named after a property is an equality filter, e.g. `?governorate=IQG15`. Default limit {DEFAULT_ITEMS_LIMIT}, maximum {MAX_ITEMS_LIMIT}."),
                "operationId": "getFeatures", "tags": ["Data"],
                "parameters": [
                    collection_id,
                    param("bbox", "query", "west,south,east,north in WGS84 lon/lat; west > east crosses the antimeridian.", json!({"type": "string"}), json!(example_bbox)),
                    param("bbox-crs", "query", "Only CRS84.", json!({"type": "string"}), Value::Null),
                    param("limit", "query", "Page size.", json!({"type": "integer", "minimum": 1, "maximum": MAX_ITEMS_LIMIT, "default": DEFAULT_ITEMS_LIMIT}), Value::Null),
                    param("offset", "query", "Features to skip.", json!({"type": "integer", "minimum": 0, "default": 0}), Value::Null),
                    round, datetime, properties,
                    param("sortby", "query", "Comma-separated properties; prefix `-` for descending.", json!({"type": "string"}), json!("-idp_individuals")),
                    param("filter", "query", "CQL2 filter (OGC API – Features Part 3).", json!({"type": "string"}), Value::Null),
                    param("filter-lang", "query", "cql2-text (default) or cql2-json.", json!({"type": "string", "enum": ["cql2-text", "cql2-json"]}), Value::Null),
                    f,
                ],
                "responses": ok("A GeoJSON FeatureCollection (or CSV with f=csv)", super::GEOJSON),
            } },
            "/collections/{collectionId}/items/{featureId}": { "get": {
                "summary": "One feature", "operationId": "getFeature", "tags": ["Data"],
                "parameters": [collection_id, param("featureId", "path", "Feature id.", json!({"type": "string"}), json!(example_fid)), round, datetime, properties],
                "responses": ok("A GeoJSON Feature", super::GEOJSON),
            } },
            "/health": { "get": { "summary": "Liveness and the data version", "operationId": "getHealth", "tags": ["Operations"], "responses": ok("Status", "application/json") } },
            "/metrics": { "get": { "summary": "Prometheus metrics", "operationId": "getMetrics", "tags": ["Operations"], "responses": { "200": { "description": "Prometheus text format", "content": { "text/plain": { "schema": { "type": "string" } } } } } } },
        },
        "components": {
            "responses": {
                "BadRequest": { "description": "A parameter or body is wrong; the body says which and why.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Exception" } } } },
                "NotFound": { "description": "No such collection, feature or resource.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Exception" } } } },
            },
            "schemas": {
                "Exception": { "type": "object", "required": ["code"], "properties": { "code": { "type": "string" }, "description": { "type": "string" } } },
            },
        },
    })
}

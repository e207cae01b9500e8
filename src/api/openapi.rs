//! `/api`: the OpenAPI 3.0 document of every endpoint, with the collection ids, rounds and
//! limits of the data being served, and examples that run against it.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};

use super::{json_response, AppState, BaseUrl};
use crate::config::{
    DEFAULT_ITEMS_LIMIT, MAX_ITEMS_LIMIT, MAX_NEAREST_K, MAX_QUERY_VERTICES, MAX_RADIUS_METRES,
};
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
    let limit = param(
        "limit",
        "query",
        "Page size.",
        json!({"type": "integer", "minimum": 1, "maximum": MAX_ITEMS_LIMIT, "default": DEFAULT_ITEMS_LIMIT}),
        Value::Null,
    );
    let offset = param(
        "offset",
        "query",
        "Features to skip.",
        json!({"type": "integer", "minimum": 0, "default": 0}),
        Value::Null,
    );
    let point_layer = snapshot
        .layers
        .iter()
        .find(|l| l.points.is_some() && !l.count_columns.is_empty());
    let polygon_layer = snapshot
        .layers
        .iter()
        .find(|l| l.kind == crate::model::GeometryKind::Polygon && !l.basemap);
    let point_collection = param(
        "collectionId",
        "path",
        "Collection (layer) id; totals need a point layer.",
        json!({ "type": "string", "enum": ids }),
        json!(point_layer.map(|l| l.id.as_str()).unwrap_or(example_id)),
    );
    let area_collection = param(
        "collectionId",
        "path",
        "Collection (layer) id.",
        json!({ "type": "string", "enum": ids }),
        json!(polygon_layer.map(|l| l.id.as_str()).unwrap_or(example_id)),
    );
    let example_area = polygon_layer
        .and_then(|l| l.features.first().map(|f| format!("{}/{}", l.id, f.id)))
        .unwrap_or_default();
    let center = data_layer
        .and_then(|l| l.extent)
        .map(|r| r.center())
        .unwrap_or(geo::coord! { x: 0.0, y: 0.0 });
    let example_center = (
        (center.x * 100.0).round() / 100.0,
        (center.y * 100.0).round() / 100.0,
    );
    let (cx, cy) = example_center;
    let example_polygon = format!(
        "POLYGON(({} {},{} {},{} {},{} {},{} {}))",
        cx - 1.0,
        cy - 1.0,
        cx + 1.0,
        cy - 1.0,
        cx + 1.0,
        cy + 1.0,
        cx - 1.0,
        cy + 1.0,
        cx - 1.0,
        cy - 1.0
    );
    let example_polygon_json = json!({ "type": "Polygon", "coordinates": [[[cx - 1.0, cy - 1.0], [cx + 1.0, cy - 1.0], [cx + 1.0, cy + 1.0], [cx - 1.0, cy + 1.0], [cx - 1.0, cy - 1.0]]] });
    let example_tile = {
        let z = 5u32;
        let n = f64::from(1u32 << z);
        let x = ((cx + 180.0) / 360.0 * n).floor() as u32;
        let lat = cy.to_radians();
        let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n)
            .floor() as u32;
        (z, x, y)
    };
    let example_tile_layers = snapshot
        .layers
        .iter()
        .filter(|l| !l.basemap)
        .map(|l| l.id.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let f = param(
        "f",
        "query",
        "Output format.",
        json!({ "type": "string", "enum": ["json", "csv", "html"] }),
        Value::Null,
    );
    // Split into several json! calls: one would exceed the macro recursion limit.
    let mut paths = serde_json::Map::new();
    if let Value::Object(part) = json!({
            "/": { "get": { "summary": "Landing page (JSON; the map for browsers)", "operationId": "getLandingPage", "tags": ["Capabilities"], "parameters": [f], "responses": ok("Links to the API", "application/json") } },
            "/conformance": { "get": { "summary": "Conformance classes", "operationId": "getConformance", "tags": ["Capabilities"], "responses": ok("The conformance classes", "application/json") } },
            "/api": { "get": { "summary": "This document", "operationId": "getApi", "tags": ["Capabilities"], "responses": ok("OpenAPI 3.0", super::OPENAPI) } },
            "/collections": { "get": { "summary": "The collections (layers)", "operationId": "getCollections", "tags": ["Data"], "responses": ok("Collections with extent, rounds and count columns", "application/json") } },
            "/collections/{collectionId}": { "get": { "summary": "One collection", "operationId": "describeCollection", "tags": ["Data"], "parameters": [collection_id], "responses": ok("The collection", "application/json") } },
            "/collections/{collectionId}/queryables": { "get": { "summary": "Properties that filters and sortby can use", "operationId": "getQueryables", "tags": ["Data"], "parameters": [collection_id], "responses": ok("JSON Schema of the queryables", "application/schema+json") } },
    }) {
        paths.extend(part);
    }
    if let Value::Object(part) = json!({
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
            "/collections/{collectionId}/items/{featureId}/rounds": { "get": {
                "summary": "One feature's counts in every round, with their source",
                "operationId": "getFeatureRounds", "tags": ["Data"],
                "parameters": [collection_id, param("featureId", "path", "Feature id.", json!({"type": "string"}), json!(example_fid))],
                "responses": ok("The series", "application/json"),
            } },
            "/collections/{collectionId}/search": {
                "get": {
                    "summary": "Features in an area",
                    "description": format!("The area is a WKT or GeoJSON Polygon/MultiPolygon (`geometry`), or a polygon feature of another layer (`area=layer/featureId`). At most {MAX_QUERY_VERTICES} vertices; invalid polygons (crossing rings, holes outside, overlapping parts) are refused with the reason."),
                    "operationId": "searchArea", "tags": ["Queries"],
                    "parameters": [
                        point_collection,
                        param("geometry", "query", "WKT or GeoJSON Polygon or MultiPolygon (lon/lat).", json!({"type": "string"}), json!(example_polygon)),
                        param("area", "query", "A polygon feature of another layer, `layer/featureId`.", json!({"type": "string"}), Value::Null),
                        param("relation", "query", "intersects (boundary included, default) or within.", json!({"type": "string", "enum": ["intersects", "within"]}), Value::Null),
                        round, datetime, limit, offset, properties, f,
                    ],
                    "responses": ok("A GeoJSON FeatureCollection (or CSV)", super::GEOJSON),
                },
                "post": {
                    "summary": "Features in an area given in the body",
                    "operationId": "searchAreaPost", "tags": ["Queries"],
                    "parameters": [point_collection, round, datetime, limit, offset, properties, f],
                    "requestBody": { "required": true, "content": { "application/json": {
                        "schema": { "$ref": "#/components/schemas/AreaBody" },
                        "example": { "geometry": example_polygon_json, "relation": "intersects" },
                    } } },
                    "responses": ok("A GeoJSON FeatureCollection (or CSV)", super::GEOJSON),
                },
            },
            "/collections/{collectionId}/near": { "get": {
                "summary": "Features within a distance of a point, or the k nearest, nearest first",
                "description": format!("Distances are geodesic metres on WGS84, returned as `distance_m`. Radius at most {MAX_RADIUS_METRES} m; k at most {MAX_NEAREST_K}."),
                "operationId": "near", "tags": ["Queries"],
                "parameters": [
                    point_collection,
                    param("lon", "query", "Longitude.", json!({"type": "number"}), json!(example_center.0)),
                    param("lat", "query", "Latitude.", json!({"type": "number"}), json!(example_center.1)),
                    param("radius", "query", "Metres.", json!({"type": "number", "maximum": MAX_RADIUS_METRES}), json!(50000)),
                    param("k", "query", "How many nearest.", json!({"type": "integer", "minimum": 1, "maximum": MAX_NEAREST_K}), Value::Null),
                    round, datetime, limit, offset, properties, f,
                ],
                "responses": ok("A GeoJSON FeatureCollection with distance_m (or CSV)", super::GEOJSON),
            } },
            "/collections/{collectionId}/contains": { "get": {
                "summary": "The features containing a point (e.g. which governorate)",
                "operationId": "contains", "tags": ["Queries"],
                "parameters": [
                    area_collection,
                    param("lon", "query", "Longitude.", json!({"type": "number"}), json!(example_center.0)),
                    param("lat", "query", "Latitude.", json!({"type": "number"}), json!(example_center.1)),
                    round, datetime, properties, f,
                ],
                "responses": ok("A GeoJSON FeatureCollection", super::GEOJSON),
            } },
    }) {
        paths.extend(part);
    }
    if let Value::Object(part) = json!({
            "/collections/{collectionId}/totals": {
                "get": {
                    "summary": "Totals of every count column over an area or a circle",
                    "description": "The number of sites inside, the sum of each count column, and the breakdown by group (e.g. governorate); for one round, or every round with rounds=all.",
                    "operationId": "totals", "tags": ["Queries"],
                    "parameters": [
                        point_collection,
                        param("geometry", "query", "WKT or GeoJSON Polygon or MultiPolygon.", json!({"type": "string"}), Value::Null),
                        param("area", "query", "A polygon feature of another layer, `layer/featureId`.", json!({"type": "string"}), json!(example_area)),
                        param("lon", "query", "Circle centre longitude.", json!({"type": "number"}), Value::Null),
                        param("lat", "query", "Circle centre latitude.", json!({"type": "number"}), Value::Null),
                        param("radius", "query", "Circle radius, metres.", json!({"type": "number"}), Value::Null),
                        param("relation", "query", "intersects or within.", json!({"type": "string", "enum": ["intersects", "within"]}), Value::Null),
                        param("rounds", "query", "`all` for a series over every round.", json!({"type": "string", "enum": ["all"]}), Value::Null),
                        param("group", "query", "Break down by group (default true where configured).", json!({"type": "boolean"}), Value::Null),
                        round, datetime, f,
                    ],
                    "responses": ok("Totals (JSON, or CSV)", "application/json"),
                },
                "post": {
                    "summary": "Totals over an area or circle given in the body",
                    "operationId": "totalsPost", "tags": ["Queries"],
                    "parameters": [point_collection, round, datetime, f],
                    "requestBody": { "required": true, "content": { "application/json": {
                        "schema": { "$ref": "#/components/schemas/AreaBody" },
                        "example": { "lon": example_center.0, "lat": example_center.1, "radius": 50000 },
                    } } },
                    "responses": ok("Totals", "application/json"),
                },
            },
            "/tiles/{layers}/{z}/{x}/{y}": { "get": {
                "summary": "A Mapbox Vector Tile of one layer or several (comma-separated)",
                "description": "Web Mercator tiles, extent 4096; 204 when the tile is empty. Accepts a .pbf or .mvt suffix on y.",
                "operationId": "getTile", "tags": ["Tiles"],
                "parameters": [
                    param("layers", "path", "Layer id, or ids joined with commas.", json!({"type": "string"}), json!(example_tile_layers)),
                    param("z", "path", "Zoom.", json!({"type": "integer", "minimum": 0, "maximum": 22}), json!(example_tile.0)),
                    param("x", "path", "Column.", json!({"type": "integer"}), json!(example_tile.1)),
                    param("y", "path", "Row.", json!({"type": "string"}), json!(example_tile.2.to_string())),
                    round, datetime,
                ],
                "responses": { "200": { "description": "MVT", "content": { "application/vnd.mapbox-vector-tile": { "schema": { "type": "string", "format": "binary" } } } }, "204": { "description": "Empty tile" }, "400": { "$ref": "#/components/responses/BadRequest" }, "404": { "$ref": "#/components/responses/NotFound" } },
            } },
            "/tiles/{layers}/tilejson.json": { "get": {
                "summary": "TileJSON 3.0 of one layer or several",
                "operationId": "getTileJson", "tags": ["Tiles"],
                "parameters": [param("layers", "path", "Layer id(s).", json!({"type": "string"}), json!(example_tile_layers)), round, datetime],
                "responses": ok("TileJSON", "application/json"),
            } },
            "/collections/{collectionId}/tiles/WebMercatorQuad/{z}/{y}/{x}": { "get": {
                "summary": "The same tiles by the OGC API – Tiles path",
                "operationId": "getCollectionTile", "tags": ["Tiles"],
                "parameters": [
                    collection_id,
                    param("z", "path", "Zoom.", json!({"type": "integer"}), json!(example_tile.0)),
                    param("y", "path", "Row.", json!({"type": "integer"}), json!(example_tile.2)),
                    param("x", "path", "Column.", json!({"type": "integer"}), json!(example_tile.1)),
                    round, datetime,
                ],
                "responses": { "200": { "description": "MVT", "content": { "application/vnd.mapbox-vector-tile": { "schema": { "type": "string", "format": "binary" } } } }, "204": { "description": "Empty tile" }, "400": { "$ref": "#/components/responses/BadRequest" } },
            } },
            "/collections/{collectionId}/tiles": { "get": {
                "summary": "The tilesets of a collection (OGC API – Tiles)",
                "operationId": "getTilesets", "tags": ["Tiles"],
                "parameters": [collection_id],
                "responses": ok("Tileset list", "application/json"),
            } },
            "/styles/{styleId}": { "get": {
                "summary": "A MapLibre style (default.json: the displacement map, offline basemap included)",
                "operationId": "getStyle", "tags": ["Tiles"],
                "parameters": [param("styleId", "path", "Style.", json!({"type": "string"}), json!("default.json")), round],
                "responses": ok("MapLibre style", "application/json"),
            } },
    }) {
        paths.extend(part);
    }
    if let Value::Object(part) = json!({
            "/fonts/{fontstack}/{range}": { "get": {
                "summary": "Glyphs (SDF protobuf) for the style's labels",
                "operationId": "getGlyphs", "tags": ["Tiles"],
                "parameters": [
                    param("fontstack", "path", "Font stack.", json!({"type": "string"}), json!(crate::tiles::glyphs::FONT_STACK)),
                    param("range", "path", "Unicode range, e.g. 0-255.pbf.", json!({"type": "string"}), json!("0-255.pbf")),
                ],
                "responses": { "200": { "description": "Glyph protobuf", "content": { "application/x-protobuf": { "schema": { "type": "string", "format": "binary" } } } }, "404": { "$ref": "#/components/responses/NotFound" } },
            } },
            "/dashboard/summary": { "get": {
                "summary": "Headline figures of a round, with change against the previous round and provenance",
                "operationId": "dashboardSummary", "tags": ["Dashboard"],
                "parameters": [
                    param("round", "query", "Round id (latest by default).", json!({"type": "string"}), Value::Null),
                    param("area", "query", "Restrict to one area (e.g. a governorate p-code).", json!({"type": "string"}), Value::Null),
                    f,
                ],
                "responses": ok("Figures (JSON or CSV)", "application/json"),
            } },
            "/dashboard/ranking": { "get": {
                "summary": "Areas ranked by the main count, with share of the total",
                "operationId": "dashboardRanking", "tags": ["Dashboard"],
                "parameters": [param("round", "query", "Round id.", json!({"type": "string"}), Value::Null), f],
                "responses": ok("Ranking (JSON or CSV)", "application/json"),
            } },
            "/dashboard/trend": { "get": {
                "summary": "The main count over every round, nationally and for one area",
                "operationId": "dashboardTrend", "tags": ["Dashboard"],
                "parameters": [param("area", "query", "An area id.", json!({"type": "string"}), Value::Null), f],
                "responses": ok("Trend (JSON or CSV)", "application/json"),
            } },
            "/dashboard/origins": { "get": {
                "summary": "Published figures by governorate of origin",
                "operationId": "dashboardOrigins", "tags": ["Dashboard"],
                "parameters": [f],
                "responses": ok("Figures (JSON or CSV)", "application/json"),
            } },
            "/published": { "get": {
                "summary": "Every published figure, exactly as published, with its source",
                "operationId": "published", "tags": ["Dashboard"],
                "parameters": [f],
                "responses": ok("Figures (JSON or CSV)", "application/json"),
            } },
    }) {
        paths.extend(part);
    }
    if let Value::Object(part) = json!({
            "/datasets": { "get": {
                "summary": "The downloadable datasets: every layer per round, with source and licence",
                "operationId": "datasets", "tags": ["Datasets"],
                "parameters": [f],
                "responses": ok("The list (JSON, or HTML for browsers)", "application/json"),
            } },
            "/datasets/{layer}/{file}": { "get": {
                "summary": "One layer with the counts of one round, as GeoJSON, CSV (UTF-8 with BOM) or XLSX",
                "operationId": "dataset", "tags": ["Datasets"],
                "parameters": [
                    param("layer", "path", "Layer id.", json!({"type": "string", "enum": ids}), json!(example_id)),
                    param("file", "path", "`{round}.{geojson|csv|xlsx}`; `latest` for the newest round, `all` for layers without rounds.", json!({"type": "string"}), json!("latest.csv")),
                ],
                "responses": ok("The file", super::CSV),
            } },
            "/embed": { "get": {
                "summary": "The map with minimal chrome, for iframes (framing allowed by server.frame_ancestors)",
                "operationId": "embed", "tags": ["Web"],
                "parameters": [
                    param("layers", "query", "Layers to show, comma-separated.", json!({"type": "string"}), json!(example_tile_layers)),
                    param("round", "query", "Round id.", json!({"type": "string"}), Value::Null),
                    param("lang", "query", "en or ar.", json!({"type": "string", "enum": ["en", "ar"]}), json!("ar")),
                ],
                "responses": { "200": { "description": "HTML page; the view is kept in the URL hash #zoom/lat/lon", "content": { "text/html": {} } } },
            } },
            "/dashboard": { "get": {
                "summary": "The dashboard page: headline figures, ranking, trend, origins (embed=1 for iframes)",
                "operationId": "dashboardPage", "tags": ["Web"],
                "parameters": [
                    param("round", "query", "Round id.", json!({"type": "string"}), Value::Null),
                    param("area", "query", "An area id.", json!({"type": "string"}), Value::Null),
                    param("lang", "query", "en or ar.", json!({"type": "string", "enum": ["en", "ar"]}), Value::Null),
                    param("embed", "query", "1 for the embeddable variant.", json!({"type": "string"}), Value::Null),
                ],
                "responses": { "200": { "description": "HTML page", "content": { "text/html": {} } } },
            } },
            "/assets/{version}/{path}": { "get": {
                "summary": "The web client's files (MapLibre GL JS and its licence, scripts, styles), cached for a year",
                "operationId": "asset", "tags": ["Web"],
                "parameters": [
                    param("version", "path", "Hash of the bundled files.", json!({"type": "string"}), json!(crate::web::version())),
                    param("path", "path", "File.", json!({"type": "string"}), json!("style.css")),
                ],
                "responses": { "200": { "description": "The file" }, "404": { "$ref": "#/components/responses/NotFound" } },
            } },
            "/health": { "get": { "summary": "Liveness and the data version", "operationId": "getHealth", "tags": ["Operations"], "responses": ok("Status", "application/json") } },
            "/metrics": { "get": { "summary": "Prometheus metrics", "operationId": "getMetrics", "tags": ["Operations"], "responses": { "200": { "description": "Prometheus text format", "content": { "text/plain": { "schema": { "type": "string" } } } } } } },

    }) {
        paths.extend(part);
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": snapshot.title,
            "description": snapshot.description,
            "version": env!("CARGO_PKG_VERSION"),
            "license": { "name": "Data: see each collection's attribution" },
        },
        "servers": [{ "url": base }],
        "paths": paths,
        "components": {
            "responses": {
                "BadRequest": { "description": "A parameter or body is wrong; the body says which and why.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Exception" } } } },
                "NotFound": { "description": "No such collection, feature or resource.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Exception" } } } },
            },
            "schemas": {
                "AreaBody": { "type": "object", "properties": {
                    "geometry": { "type": "object", "description": "GeoJSON Polygon or MultiPolygon (or a WKT string)" },
                    "area": { "type": "string", "description": "layer/featureId" },
                    "relation": { "type": "string", "enum": ["intersects", "within"] },
                    "lon": { "type": "number" }, "lat": { "type": "number" }, "radius": { "type": "number", "description": "metres (totals only)" },
                } },
                "Exception": { "type": "object", "required": ["code"], "properties": { "code": { "type": "string" }, "description": { "type": "string" } } },
            },
        },
    })
}

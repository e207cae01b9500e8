//! `/api`: the OpenAPI 3.0 document, generated from the route table
//! ([`super::routes::ROUTES`]: paths, methods, media types) and the query-parameter types of
//! the handlers ([`super::params`]: names), so that it lists exactly what the router serves
//! and what each handler accepts. What is said of each parameter (description, schema) and
//! the examples, which run against the data being served, are looked up by name here.
//! Each collection also gets its own items path with one parameter per queryable property,
//! as OGC API – Features servers do, so that clients (GDAL) can send equality filters.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::routes::{self, media, Op, Route, ROUTES};
use super::{json_response, AppState, BaseUrl};
use crate::config::{
    DEFAULT_ITEMS_LIMIT, MAX_ITEMS_LIMIT, MAX_NEAREST_K, MAX_QUERY_VERTICES, MAX_RADIUS_METRES,
};
use crate::model::{GeometryKind, Layer, Snapshot};

/// `GET /api`
pub async fn document(State(state): State<Arc<AppState>>, BaseUrl(base): BaseUrl) -> Response {
    let snapshot = state.current();
    json_response(&build(&snapshot, &base), super::OPENAPI)
}

/// Examples drawn from the data being served.
struct Examples<'a> {
    ids: Vec<&'a str>,
    data_layer: Option<&'a Layer>,
    point_layer: Option<&'a Layer>,
    polygon_layer: Option<&'a Layer>,
    feature: String,
    round: String,
    area: String,
    center: (f64, f64),
    tile: (u32, u32, u32),
    tile_layers: String,
}

impl<'a> Examples<'a> {
    fn new(snapshot: &'a Snapshot) -> Self {
        let layers = || snapshot.layers.iter().map(|l| &**l);
        let data_layer = layers()
            .find(|l| !l.count_columns.is_empty())
            .or_else(|| layers().next());
        let point_layer = layers().find(|l| l.points().is_some() && !l.count_columns.is_empty());
        let polygon_layer = layers().find(|l| l.kind == GeometryKind::Polygon && !l.basemap);
        let center = data_layer
            .and_then(|l| l.extent)
            .map(|r| r.center())
            .unwrap_or(geo::coord! { x: 0.0, y: 0.0 });
        let (cx, cy) = (
            (center.x * 100.0).round() / 100.0,
            (center.y * 100.0).round() / 100.0,
        );
        let z = 5u32;
        let n = f64::from(1u32 << z);
        let x = ((cx + 180.0) / 360.0 * n).floor() as u32;
        let lat = cy.to_radians();
        let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n)
            .floor() as u32;
        Examples {
            ids: layers().map(|l| l.id.as_str()).collect(),
            data_layer,
            point_layer,
            polygon_layer,
            feature: data_layer
                .and_then(|l| l.features.first())
                .map(|f| f.id.to_string())
                .unwrap_or_default(),
            round: data_layer
                .and_then(|l| l.latest_round().map(|r| l.rounds[r].id.clone()))
                .unwrap_or_default(),
            area: polygon_layer
                .and_then(|l| l.features.first().map(|f| format!("{}/{}", l.id, f.id)))
                .unwrap_or_default(),
            center: (cx, cy),
            tile: (z, x, y),
            tile_layers: layers()
                .filter(|l| !l.basemap)
                .map(|l| l.id.as_str())
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    fn square(&self) -> [[f64; 2]; 5] {
        let (cx, cy) = self.center;
        [
            [cx - 1.0, cy - 1.0],
            [cx + 1.0, cy - 1.0],
            [cx + 1.0, cy + 1.0],
            [cx - 1.0, cy + 1.0],
            [cx - 1.0, cy - 1.0],
        ]
    }

    fn polygon_wkt(&self) -> String {
        let ring: Vec<String> = self
            .square()
            .iter()
            .map(|[x, y]| format!("{x} {y}"))
            .collect();
        format!("POLYGON(({}))", ring.join(","))
    }

    /// The example of parameter `name` of `path`, if it has one.
    fn of(&self, path: &str, name: &str) -> Option<Value> {
        let id = |layer: Option<&Layer>| {
            layer
                .or(self.data_layer)
                .map(|l| json!(l.id))
                .unwrap_or(json!(""))
        };
        let (cx, cy) = self.center;
        let (z, x, y) = self.tile;
        let items = path == "/collections/{collectionId}/items";
        Some(match name {
            "collectionId" if path.ends_with("/contains") => id(self.polygon_layer),
            "collectionId"
                if path.ends_with("/search")
                    || path.ends_with("/near")
                    || path.ends_with("/totals") =>
            {
                id(self.point_layer)
            }
            "collectionId" | "layer" => id(None),
            "featureId" => json!(self.feature),
            "tileMatrixSetId" => json!("WebMercatorQuad"),
            "tileMatrix" | "z" => json!(z),
            "tileRow" => json!(y),
            "tileCol" | "x" => json!(x),
            "y" => json!(y.to_string()),
            "layers" if path == "/tiles/{layers}" => json!(format!("{}.json", self.tile_layers)),
            "layers" => json!(self.tile_layers),
            "styleId" => json!("default.json"),
            "fontstack" => json!(crate::tiles::glyphs::FONT_STACK),
            "range" => json!("0-255.pbf"),
            "file" => json!("latest.csv"),
            "version" => json!(crate::web::version()),
            "path" => json!("style.css"),
            "bbox" if items => json!([cx - 1.0, cy - 1.0, cx + 1.0, cy + 1.0]),
            "sortby" if items => json!(self
                .data_layer
                .and_then(|l| l.count_columns.first())
                .map(|c| format!("-{c}"))
                .unwrap_or_else(|| "-id".into())),
            "round" if path.ends_with("/{featureId}") => json!(self.round),
            "geometry" if path.ends_with("/search") => json!(self.polygon_wkt()),
            "lon" if path.ends_with("/near") || path.ends_with("/contains") => json!(cx),
            "lat" if path.ends_with("/near") || path.ends_with("/contains") => json!(cy),
            "radius" if path.ends_with("/near") => json!(50000),
            "area" if path.ends_with("/totals") => json!(self.area),
            "lang" if path == "/embed" => json!("ar"),
            _ => return None,
        })
    }
}

/// Description and schema of a parameter, by name (and path where the meaning differs).
fn describe(ex: &Examples, path: &str, name: &str, formats: Vec<&str>) -> (String, Value) {
    let text = |s: &str| s.to_string();
    let string = json!({ "type": "string" });
    let crs = json!({ "type": "string", "enum": [super::collections::CRS84], "default": super::collections::CRS84 });
    match name {
        "collectionId" => (text("Collection (layer) id."), json!({ "type": "string", "enum": ex.ids })),
        "layer" => (text("Layer id."), json!({ "type": "string", "enum": ex.ids })),
        "featureId" => (text("Feature id."), string),
        "tileMatrixSetId" => (text("Tile matrix set: WebMercatorQuad only."), json!({ "type": "string", "enum": ["WebMercatorQuad"] })),
        "tileMatrix" => (text("Zoom level."), json!({ "type": "integer", "minimum": 0, "maximum": 22 })),
        "tileRow" => (text("Row (y) in the tile matrix."), json!({ "type": "integer", "minimum": 0 })),
        "tileCol" => (text("Column (x) in the tile matrix; may end in .pbf."), json!({ "type": "integer", "minimum": 0 })),
        "layers" if path == "/tiles/{layers}" => (text("Layer id, or ids joined with commas, followed by .json."), string),
        "layers" if path.starts_with("/tiles/") => (text("Layer id, or ids joined with commas."), string),
        "layers" => (text("Layers the map shows, comma-separated (read by the page)."), string),
        "z" => (text("Zoom."), json!({ "type": "integer", "minimum": 0, "maximum": 22 })),
        "x" => (text("Column."), json!({ "type": "integer", "minimum": 0 })),
        "y" => (text("Row; may end in .pbf or .mvt."), string),
        "styleId" => (text("Style: default.json."), string),
        "fontstack" => (text("Font stack."), string),
        "range" => (text("Unicode range, e.g. 0-255.pbf."), string),
        "draft" => (text("Draft id, as POST /admin/rounds answered it."), string),
        "number" => (text("Version number, as GET /admin/versions lists it."), json!({ "type": "integer", "minimum": 1 })),
        "file" => (text("`{round}.{geojson|csv|xlsx|fgb}`; `latest` for the newest round, `all` for layers without rounds."), string),
        "version" => (text("Hash of the bundled files."), string),
        "path" => (text("File."), string),
        "f" => (text("Output format (wins over Accept)."), json!({ "type": "string", "enum": formats })),
        "lang" => (text("Language of the page: en or ar."), json!({ "type": "string", "enum": ["en", "ar"] })),
        "metric" => (text("Count column the map colours by (read by the page)."), string),
        "embed" => (text("1 for the embeddable variant."), json!({ "type": "string", "enum": ["1", "true"] })),
        "round" => (text("Round whose counts are joined: a round id, or `latest` (the default)."), string),
        "datetime" => (text("Instant or interval (RFC 3339, `..` for an open end): the latest round dated on or before the instant, or within the interval. No round matching is an empty result; a layer without dated rounds ignores it."), string),
        "limit" => (format!("Page size; larger values are capped at {MAX_ITEMS_LIMIT}."), json!({ "type": "integer", "minimum": 1, "default": DEFAULT_ITEMS_LIMIT })),
        "offset" => (text("Features to skip."), json!({ "type": "integer", "minimum": 0, "default": 0 })),
        "bbox" => (text("west,south,east,north in WGS84 lon/lat (6 numbers with heights); west > east crosses the antimeridian."), json!({ "type": "array", "minItems": 4, "maxItems": 6, "items": { "type": "number" } })),
        "bbox-crs" => (text("CRS of bbox: CRS84 only."), crs),
        "crs" => (text("CRS of the answer: CRS84 only."), crs),
        "filter-crs" => (text("CRS of the filter's geometries: CRS84 only."), crs),
        "properties" => (text("Comma-separated properties to include."), string),
        "sortby" => (text("Comma-separated properties; prefix `-` for descending."), string),
        "filter" => (text("CQL2 filter (OGC API – Features Part 3)."), string),
        "filter-lang" => (text("Language of filter."), json!({ "type": "string", "enum": ["cql2-text", "cql2-json"], "default": "cql2-text" })),
        "geometry" => (format!("WKT or GeoJSON Polygon or MultiPolygon (lon/lat), at most {MAX_QUERY_VERTICES} vertices."), string),
        "area" if path.starts_with("/dashboard") => (text("Restrict to one area, by its id in the dashboard's area layer."), string),
        "area" => (text("A polygon feature of another layer, `layer/featureId`."), string),
        "relation" => (text("intersects (boundary included, default) or within."), json!({ "type": "string", "enum": ["intersects", "within"], "default": "intersects" })),
        "lon" => (text("Longitude."), json!({ "type": "number", "minimum": -180, "maximum": 180 })),
        "lat" => (text("Latitude."), json!({ "type": "number", "minimum": -90, "maximum": 90 })),
        "radius" => (format!("Metres, at most {MAX_RADIUS_METRES}."), json!({ "type": "number", "minimum": 0, "maximum": MAX_RADIUS_METRES })),
        "k" => (format!("How many nearest, at most {MAX_NEAREST_K}."), json!({ "type": "integer", "minimum": 1, "maximum": MAX_NEAREST_K })),
        "rounds" => (text("`all` for a series over every round."), json!({ "type": "string", "enum": ["all"] })),
        "group" => (text("Break down by group (default true where configured)."), json!({ "type": "boolean" })),
        _ => (String::new(), string),
    }
}

/// The values of `f` for a list of media types.
fn formats(media_types: &[&str]) -> Vec<&'static str> {
    let mut out = vec!["json"];
    if media_types.contains(&media::CSV) {
        out.push("csv");
    }
    if media_types.contains(&media::HTML) {
        out.push("html");
    }
    if media_types.contains(&media::FGB) {
        out.push("fgb");
    }
    out
}

fn parameter(ex: &Examples, path: &str, name: &str, location: &str, formats: Vec<&str>) -> Value {
    let (description, schema) = describe(ex, path, name, formats);
    let array = schema["type"] == "array";
    let mut p = json!({
        "name": name,
        "in": location,
        "description": description,
        "required": location == "path",
        "schema": schema,
    });
    if array {
        p["style"] = json!("form");
        p["explode"] = json!(false);
    }
    if let Some(example) = ex.of(path, name) {
        p["example"] = example;
    }
    p
}

/// A longer description of some operations.
fn description(id: &str) -> Option<String> {
    Some(match id {
        "getFeatures" => format!("Paged with limit/offset (next/prev links). Any other parameter named after a property is an equality filter, e.g. `?region=R01` (see each collection's own path). Default limit {DEFAULT_ITEMS_LIMIT}, maximum {MAX_ITEMS_LIMIT}."),
        "searchArea" | "searchAreaPost" => format!("The area is a WKT or GeoJSON Polygon/MultiPolygon (`geometry`), or a polygon feature of another layer (`area=layer/featureId`). At most {MAX_QUERY_VERTICES} vertices; invalid polygons (crossing rings, holes outside, overlapping parts) are refused with the reason."),
        "near" => format!("Distances are geodesic metres on WGS84, returned as `distance_m`. Radius at most {MAX_RADIUS_METRES} m; k at most {MAX_NEAREST_K}."),
        "totals" | "totalsPost" => "The number of sites inside, the sum of each count column, and the breakdown by the layer's group_by field; for one round, or every round with rounds=all.".into(),
        "getTile" | "getCollectionTile" => "Web Mercator tiles, extent 4096; 204 when the tile is empty.".into(),
        _ => return None,
    })
}

fn schema_of(media_type: &str) -> Value {
    match media_type {
        media::JSON | media::GEOJSON | media::OPENAPI | media::SCHEMA => {
            json!({ "type": "object" })
        }
        media::CSV | media::HTML | media::TEXT => json!({ "type": "string" }),
        _ => json!({ "type": "string", "format": "binary" }),
    }
}

fn responses(path: &str, method: &str, op: &Op) -> Value {
    let content: Map<String, Value> = op
        .media
        .iter()
        .map(|m| (m.to_string(), json!({ "schema": schema_of(m) })))
        .collect();
    let mut out = json!({
        "200": { "description": op.summary, "content": content },
        "400": { "$ref": "#/components/responses/BadRequest" },
        "404": { "$ref": "#/components/responses/NotFound" },
        "414": { "$ref": "#/components/responses/UriTooLong" },
        "503": { "$ref": "#/components/responses/Unavailable" },
    });
    let operational =
        matches!(path, "/health" | "/metrics" | "/admin") || path.starts_with("/admin/");
    if method == "get" && !operational {
        out["304"] = json!({ "$ref": "#/components/responses/NotModified" });
    }
    if op.media.contains(&media::FGB) {
        out["413"] = json!({ "$ref": "#/components/responses/TooLarge" });
    }
    if op.media.contains(&media::MVT) {
        out["204"] = json!({ "description": "The tile is empty" });
    }
    if path.starts_with("/admin/") {
        out["401"] = json!({ "$ref": "#/components/responses/Unauthorized" });
        out["422"] = json!({ "description": "The new data was refused; the body is the report", "content": { media::JSON: { "schema": { "type": "object" } } } });
    }
    out
}

fn operation(ex: &Examples, route: &Route, path: &str, method: &str, op: &Op) -> Value {
    let formats = formats(op.media);
    let mut parameters: Vec<Value> = routes::path_parameters(path)
        .into_iter()
        .map(|name| parameter(ex, path, name, "path", formats.clone()))
        .collect();
    parameters.extend(
        (route.query.fields)()
            .into_iter()
            .filter(|name| !op.except.contains(name))
            .map(|name| parameter(ex, path, name, "query", formats.clone())),
    );
    let mut out = json!({
        "summary": op.summary,
        "operationId": op.id,
        "tags": [op.tag],
        "parameters": parameters,
        "responses": responses(path, method, op),
    });
    if let Some(text) = description(op.id) {
        out["description"] = json!(text);
    }
    if op.body {
        let example = if path.ends_with("/totals") {
            json!({ "lon": ex.center.0, "lat": ex.center.1, "radius": 50000 })
        } else {
            json!({ "geometry": { "type": "Polygon", "coordinates": [ex.square()] }, "relation": "intersects" })
        };
        out["requestBody"] = json!({ "required": true, "content": { media::JSON: {
            "schema": { "$ref": "#/components/schemas/AreaBody" },
            "example": example,
        } } });
    }
    if path.starts_with("/admin/") && path != "/admin/login" {
        out["security"] = json!([{ "bearer": [] }, { "session": [] }]);
    }
    out
}

/// `/collections/{id}/items` of one collection: the items parameters and one equality
/// filter per queryable property.
fn collection_items(ex: &Examples, route: &Route, op: &Op, layer: &Layer) -> Value {
    let path = format!("/collections/{}/items", layer.id);
    let mut operation = operation(ex, route, &path, "get", op);
    operation["operationId"] = json!(format!("getFeatures.{}", layer.id));
    operation["summary"] = json!(format!("Features of {}", layer.title));
    let standard = (route.query.fields)();
    let mut names = vec!["id".to_string()];
    names.extend(super::render::all_property_names(layer));
    if let Some(parameters) = operation["parameters"].as_array_mut() {
        for name in names {
            if standard.contains(&name.as_str())
                || crate::query::FieldRef::resolve(layer, &name).is_none()
            {
                continue;
            }
            let kind = super::collections::property_type(layer, &name);
            parameters.push(json!({
                "name": name,
                "in": "query",
                "description": format!("Features whose {name} equals this value."),
                "required": false,
                "schema": { "type": kind },
            }));
        }
    }
    operation
}

/// The OpenAPI document for a snapshot served at `base`.
pub fn build(snapshot: &Snapshot, base: &str) -> Value {
    let ex = Examples::new(snapshot);
    let mut paths = Map::new();
    let mut tags: Vec<&str> = Vec::new();
    for route in ROUTES {
        let path = routes::openapi_path(route.path);
        let mut item = Map::new();
        for (method, op) in [("get", &route.get), ("post", &route.post)] {
            if let Some(op) = op {
                if !tags.contains(&op.tag) {
                    tags.push(op.tag);
                }
                item.insert(method.into(), operation(&ex, route, &path, method, op));
                if route.path == "/collections/{collectionId}/items" {
                    for layer in &snapshot.layers {
                        paths.insert(
                            format!("/collections/{}/items", layer.id),
                            json!({ "get": collection_items(&ex, route, op, layer) }),
                        );
                    }
                }
            }
        }
        paths.insert(path, Value::Object(item));
    }
    let exception =
        json!({ "application/json": { "schema": { "$ref": "#/components/schemas/Exception" } } });
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": snapshot.title,
            "description": snapshot.description,
            "version": env!("CARGO_PKG_VERSION"),
            "license": { "name": "Data: see each collection's attribution" },
        },
        "servers": [{ "url": base }],
        "tags": tags.iter().map(|t| json!({ "name": t })).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "responses": {
                "BadRequest": { "description": "A parameter or body is wrong; the body says which and why.", "content": exception },
                "NotFound": { "description": "No such collection, feature or resource.", "content": exception },
                "NotModified": { "description": "The answer has not changed since the ETag given in If-None-Match." },
                "TooLarge": { "description": "The answer (a CSV or FlatGeobuf page, or a download) would be over its size limit; ask for fewer features.", "content": exception },
                "UriTooLong": { "description": "The request target is over the limit; POST the geometry instead.", "content": exception },
                "Unauthorized": { "description": "Valid credentials are needed: the bearer token or a session.", "content": exception },
                "Unavailable": { "description": "The server is busy or the request took too long; try again.", "content": exception },
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
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "server.admin_token (DTMAP_ADMIN_TOKEN), for scripts" },
                "session": { "type": "apiKey", "in": "cookie", "name": "dtmap_admin", "description": "The session cookie POST /admin/login sets; a change (POST) also carries the session's CSRF token in X-CSRF-Token" },
            },
        },
    })
}

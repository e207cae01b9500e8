//! `/collections` and `/collections/{id}`: the layers as OGC API – Features collections,
//! with their extent, rounds and count columns.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{json, Value};

use super::{json_response, layer, AppState, BaseUrl, JSON};
use crate::error::ApiError;
use crate::model::{FieldValue, Layer, Snapshot};

/// CRS84, the only CRS dtmap serves.
pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// `GET /collections`
pub async fn list(State(state): State<Arc<AppState>>, BaseUrl(base): BaseUrl) -> Response {
    let snapshot = state.current();
    let collections: Vec<Value> = snapshot
        .layers
        .iter()
        .map(|l| collection_json(&snapshot, l, &base))
        .collect();
    json_response(
        &json!({
            "links": [
                { "href": format!("{base}/collections"), "rel": "self", "type": JSON, "title": "the collections" },
            ],
            "crs": [CRS84],
            "languages": snapshot.languages,
            "collections": collections,
        }),
        JSON,
    )
}

/// `GET /collections/{id}`
pub async fn one(
    State(state): State<Arc<AppState>>,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let snapshot = state.current();
    let layer = layer(&snapshot, &id)?;
    Ok(json_response(
        &collection_json(&snapshot, layer, &base),
        JSON,
    ))
}

/// The JSON description of one collection: OGC's members, and what a client needs to show
/// the layer (`nameField`, `names` and `adminWord` by language, `countColumns` and the
/// `mainCount` to show first, `classBreaks` of each count column (as the style colours
/// them), `altNames` (the property of other names, for search), `groupBy` and `groupLayer`).
pub fn collection_json(snapshot: &Snapshot, layer: &Layer, base: &str) -> Value {
    let main_count = snapshot.main_count(layer);
    let href = format!("{base}/collections/{}", layer.id);
    let bbox = layer
        .extent
        .map(|r| vec![r.min().x, r.min().y, r.max().x, r.max().y]);
    let dates: Vec<&str> = layer
        .rounds
        .iter()
        .filter_map(|r| r.date.as_deref())
        .collect();
    let temporal = match (dates.first(), dates.last()) {
        (Some(first), Some(last)) => json!({
            "interval": [[format!("{first}T00:00:00Z"), format!("{last}T00:00:00Z")]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }),
        _ => Value::Null,
    };
    let mut extent = json!({ "spatial": { "bbox": [bbox], "crs": CRS84 } });
    if !temporal.is_null() {
        extent["temporal"] = temporal;
    }
    // Each round's totals over every feature, with their provenance: the one answer the
    // map's legend, the dashboard and any client give for "the total of this round".
    let rounds: Vec<Value> = layer
        .rounds
        .iter()
        .enumerate()
        .map(|(r, round)| {
            let totals: serde_json::Map<String, Value> = (0..layer.count_columns.len())
                .map(|c| {
                    let figure = crate::dashboard::total(snapshot, layer, r, c, None);
                    (
                        layer.count_columns[c].clone(),
                        json!({
                            "value": figure.value,
                            "provenance": figure.provenance,
                            "breakdown": figure.breakdown,
                            "sources": figure.sources,
                        }),
                    )
                })
                .collect();
            json!({ "id": round.id, "label": round.label, "date": round.date, "totals": totals })
        })
        .collect();
    json!({
        "id": layer.id,
        "title": layer.title,
        "description": layer.description,
        "attribution": layer.attribution,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": extent,
        "geometryType": layer.kind.as_str(),
        "basemap": layer.basemap,
        "featureCount": layer.features.len(),
        "fields": layer.fields,
        "countColumns": layer.count_columns,
        "mainCount": main_count,
        "nameField": layer.name_field,
        "names": by_language(&layer.names),
        "adminWord": by_language(&layer.admin_word),
        "adminWords": by_language(&layer.admin_words),
        "countLabels": layer
            .count_labels
            .iter()
            .map(|(column, labels)| (column.clone(), by_language(labels)))
            .collect::<serde_json::Map<String, Value>>(),
        "altNames": layer.alt_names,
        "classBreaks": layer
            .count_columns
            .iter()
            .map(|column| (column.clone(), json!(crate::tiles::style::class_breaks(layer, column))))
            .collect::<serde_json::Map<String, Value>>(),
        "groupBy": layer.group_by.as_ref().map(|g| g.field.clone()),
        "groupLayer": layer.group_by.as_ref().and_then(|g| g.layer.clone()),
        "rounds": rounds,
        "latestRound": layer.latest_round().map(|r| layer.rounds[r].id.clone()),
        "synthetic": layer.has_synthetic(),
        "links": [
            { "href": href, "rel": "self", "type": JSON, "title": "this collection" },
            { "href": format!("{href}/items"), "rel": "items", "type": super::GEOJSON, "title": "the features" },
            { "href": format!("{href}/items?f=csv"), "rel": "items", "type": super::CSV, "title": "the features as CSV" },
            { "href": format!("{href}/items?f=fgb"), "rel": "items", "type": super::FGB, "title": "the features as FlatGeobuf" },
            { "href": format!("{href}/queryables"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables", "type": "application/schema+json", "title": "queryable properties" },
            { "href": format!("{href}/tiles"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "type": JSON, "title": "vector tilesets" },
        ],
    })
}

/// Pairs of language code and text as a JSON object.
fn by_language(pairs: &[(String, String)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(language, text)| (language.clone(), Value::from(text.as_str())))
            .collect(),
    )
}

/// `GET /collections/{id}/queryables`: JSON Schema of what filters and sortby accept.
pub async fn queryables(
    State(state): State<Arc<AppState>>,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let snapshot = state.current();
    let layer = layer(&snapshot, &id)?;
    let mut properties = serde_json::Map::new();
    properties.insert(
        "geometry".into(),
        json!({ "title": "geometry", "x-ogc-role": "primary-geometry", "format": format!("geometry-{}", match layer.kind {
            crate::model::GeometryKind::Point => "point-or-multipoint",
            crate::model::GeometryKind::Line => "linestring-or-multilinestring",
            crate::model::GeometryKind::Polygon => "polygon-or-multipolygon",
            crate::model::GeometryKind::Mixed => "any",
        }) }),
    );
    properties.insert(
        "id".into(),
        json!({ "type": "string", "title": "feature id", "x-ogc-role": "id" }),
    );
    for field in &layer.fields {
        let kind = property_type(layer, field);
        properties.insert(field.clone(), json!({ "title": field, "type": kind }));
    }
    for column in &layer.count_columns {
        properties.insert(
            column.clone(),
            json!({ "title": column, "type": "integer", "minimum": 0, "description": "count in the selected round" }),
        );
    }
    if crate::query::FieldRef::resolve(layer, crate::query::filter::ROUND_DATE).is_some() {
        properties.insert(
            crate::query::filter::ROUND_DATE.into(),
            json!({ "title": "round date", "type": "string", "format": "date", "x-ogc-role": "primary-instant", "description": "date of the selected round (temporal: T_AFTER(round_date, DATE('2019-01-01')))" }),
        );
    }
    if !layer.count_columns.is_empty() {
        properties.insert(
            "synthetic".into(),
            json!({ "title": "synthetic", "type": "boolean", "description": "the round's counts are synthetic (illustrative)" }),
        );
    }
    Ok(json_response(
        &json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": format!("{base}/collections/{}/queryables", layer.id),
            "type": "object",
            "title": layer.title,
            "properties": properties,
            "additionalProperties": false,
        }),
        "application/schema+json",
    ))
}

/// The JSON Schema type of a property: of its first non-null value for a field, `integer`
/// for a count column, `boolean` for `synthetic`, `string` otherwise (and for `id`).
pub fn property_type(layer: &Layer, name: &str) -> &'static str {
    if layer.count_column(name).is_some() {
        return "integer";
    }
    if name == "synthetic" && !layer.count_columns.is_empty() {
        return "boolean";
    }
    let sample = layer
        .features
        .iter()
        .filter_map(|f| f.properties.get(name))
        .find(|v| !v.is_null());
    match sample.map(FieldValue::json).as_deref() {
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => "integer",
        Some(Value::Number(_)) => "number",
        Some(Value::Bool(_)) => "boolean",
        _ => "string",
    }
}

//! TileJSON 3.0.0 of one layer or of a composite of layers: the tile URL template,
//! `vector_layers` with their fields, bounds, centre, zooms and attribution. URLs are
//! absolute, built on the base URL the caller gives (the configured public URL or the
//! request's host). Routing and round selection are left to [`crate::api::tiles`].

use serde_json::{json, Map, Value};

use super::render::label_layer_name;
use super::{ADVERTISED_MAX_ZOOM, MAX_LATITUDE};
use crate::model::{GeometryKind, Layer};

/// The TileJSON of `layers` (in tile order), whose tiles are at
/// `{base}/tiles/{ids}/{z}/{x}/{y}`, with `query` (already encoded, no `?`) appended.
pub fn tilejson(layers: &[&Layer], base: &str, query: Option<&str>) -> Value {
    let ids: Vec<&str> = layers.iter().map(|l| l.id.as_str()).collect();
    let ids = ids.join(",");
    let query = query
        .filter(|q| !q.is_empty())
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let tiles = format!("{base}/tiles/{ids}/{{z}}/{{x}}/{{y}}{query}");
    let bounds = bounds(layers);
    let center = center(bounds);
    let mut attributions: Vec<&str> = Vec::new();
    for layer in layers {
        if !layer.attribution.is_empty() && !attributions.contains(&layer.attribution.as_str()) {
            attributions.push(&layer.attribution);
        }
    }
    let (name, description) = match layers {
        [only] => (only.title.clone(), only.description.clone()),
        _ => (
            layers
                .iter()
                .map(|l| l.title.as_str())
                .collect::<Vec<_>>()
                .join(" + "),
            format!("The layers {ids} in one tile."),
        ),
    };
    json!({
        "tilejson": "3.0.0",
        "name": name,
        "description": description,
        "version": "1.0.0",
        "attribution": attributions.join(" · "),
        "scheme": "xyz",
        "tiles": [tiles],
        "minzoom": 0,
        "maxzoom": ADVERTISED_MAX_ZOOM,
        "bounds": bounds,
        "center": center,
        "vector_layers": layers.iter().flat_map(|l| vector_layers(l)).collect::<Vec<_>>(),
    })
}

/// The `vector_layers` entries of one layer: the layer, and for polygons its label points.
fn vector_layers(layer: &Layer) -> Vec<Value> {
    let mut entries = vec![json!({
        "id": layer.id,
        "description": layer.description,
        "minzoom": 0,
        "maxzoom": ADVERTISED_MAX_ZOOM,
        "fields": fields(layer),
    })];
    if layer.kind == GeometryKind::Polygon {
        entries.push(json!({
            "id": label_layer_name(&layer.id),
            "description": format!("One point inside each feature of {}, to label it once.", layer.id),
            "minzoom": 0,
            "maxzoom": ADVERTISED_MAX_ZOOM,
            "fields": fields(layer),
        }));
    }
    entries
}

/// The properties a layer's tile features can have, with their types.
pub fn fields(layer: &Layer) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("id".into(), json!("String"));
    for name in &layer.tile_fields {
        if name == "id" || layer.count_column(name).is_some() {
            continue;
        }
        let kind = layer
            .features
            .iter()
            .filter_map(|f| f.properties.get(name))
            .find_map(|v| match v.json().as_ref() {
                Value::String(_) => Some("String"),
                Value::Number(_) => Some("Number"),
                Value::Bool(_) => Some("Boolean"),
                _ => None,
            })
            .unwrap_or("String");
        fields.insert(name.clone(), json!(kind));
    }
    for column in &layer.count_columns {
        fields.insert(column.clone(), json!("Number"));
    }
    if !layer.count_columns.is_empty() {
        fields.insert("synthetic".into(), json!("Boolean"));
        fields.insert("provenance".into(), json!("String"));
    }
    if layer.kind == GeometryKind::Point {
        fields.insert("point_count".into(), json!("Number"));
    }
    fields
}

/// `[west, south, east, north]` of the layers, within Web Mercator's square.
pub fn bounds(layers: &[&Layer]) -> [f64; 4] {
    let extent = layers
        .iter()
        .filter_map(|l| l.extent)
        .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
        .reduce(|a, b| {
            [
                a[0].min(b[0]),
                a[1].min(b[1]),
                a[2].max(b[2]),
                a[3].max(b[3]),
            ]
        })
        .unwrap_or([-180.0, -MAX_LATITUDE, 180.0, MAX_LATITUDE]);
    [
        extent[0].max(-180.0),
        extent[1].max(-MAX_LATITUDE),
        extent[2].min(180.0),
        extent[3].min(MAX_LATITUDE),
    ]
}

/// `[lon, lat, zoom]`: the middle of `bounds`, at the zoom where they fill about a tile.
/// The zoom is a whole number, as TileJSON asks.
fn center(bounds: [f64; 4]) -> Value {
    let span = (bounds[2] - bounds[0]).max(bounds[3] - bounds[1]).max(1e-6);
    let zoom = (360.0 / span)
        .log2()
        .floor()
        .clamp(0.0, f64::from(ADVERTISED_MAX_ZOOM)) as u8;
    let round = |v: f64| (v * 1e6).round() / 1e6;
    json!([
        round((bounds[0] + bounds[2]) / 2.0),
        round((bounds[1] + bounds[3]) / 2.0),
        zoom,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_centre_zoom_is_a_whole_number() {
        let centre = center([38.0, 29.0, 49.0, 37.5]);
        assert_eq!(centre, json!([43.5, 33.25, 5]));
        assert!(centre[2].is_u64(), "{centre}");
        assert_eq!(center([-180.0, -85.0, 180.0, 85.0])[2], json!(0));
        assert_eq!(
            center([44.0, 33.0, 44.0, 33.0])[2],
            json!(ADVERTISED_MAX_ZOOM)
        );
    }
}

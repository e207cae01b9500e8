//! The default MapLibre style (`/styles/default.json`): an offline basemap from the
//! basemap layers (countries filled, rivers and lakes in blue), each polygon layer with
//! counts as a choropleth of its main count, each point layer as circles sized by its main
//! count, and labels in English and Arabic with the embedded font stack.
//!
//! Polygons are labelled from their `{id}_label` points, so each is labelled once.
//! Everything comes from one vector source, the composite of all layers, so one tile
//! request draws the whole map. Class breaks ([`class_breaks`]) are taken from every round
//! of the data, so a colour means the same in each round; the collection metadata publishes
//! the same breaks (`classBreaks`) for the web legend and the dashboard. Both show the
//! layer's main count ([`Snapshot::main_count`]).

use serde_json::{json, Value};

use super::glyphs::FONT_STACK;
use super::render::label_layer_name;
use crate::model::{GeometryKind, Layer, Snapshot};

/// The id of the one vector source.
pub const SOURCE: &str = "dtmap";
/// Choropleth colours, light to dark (ColorBrewer YlOrRd, 5 classes).
const CHOROPLETH: [&str; 5] = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"];
const NO_DATA: &str = "#d9d9d9";
const WATER: &str = "#aad3df";
const LAND: &str = "#f2efe9";

/// The style for `snapshot`, with absolute URLs on `base`; `query` (encoded, no `?`) is
/// passed on to the TileJSON URL (e.g. `round=…`).
pub fn default_style(snapshot: &Snapshot, base: &str, query: Option<&str>) -> Value {
    // The TileJSON is inlined in the source, so a map can request tiles as soon as it has
    // the style, one round trip sooner than through the TileJSON URL.
    let all: Vec<&Layer> = snapshot.layers.iter().map(|l| l.as_ref()).collect();
    let tilejson = super::tilejson::tilejson(&all, base, query);
    let mut source = json!({ "type": "vector", "promoteId": "id" });
    for key in ["tiles", "minzoom", "maxzoom", "bounds", "attribution"] {
        source[key] = tilejson[key].clone();
    }
    let mut layers = vec![json!({
        "id": "background",
        "type": "background",
        "paint": { "background-color": WATER },
    })];
    let (basemap, data): (Vec<&Layer>, Vec<&Layer>) = snapshot
        .layers
        .iter()
        .map(|l| &**l)
        .partition(|l| l.basemap);
    for layer in &basemap {
        layers.extend(basemap_layers(layer));
    }
    for layer in data.iter().filter(|l| l.kind != GeometryKind::Point) {
        layers.extend(choropleth_layers(snapshot, layer));
    }
    for layer in data.iter().filter(|l| l.kind == GeometryKind::Point) {
        layers.extend(circle_layers(snapshot, layer));
    }
    // Labels last, so they are drawn above everything.
    for layer in data.iter().filter(|l| l.kind != GeometryKind::Point) {
        layers.extend(label_layer(layer, 4.0, 12.0));
    }
    for layer in data.iter().filter(|l| l.kind == GeometryKind::Point) {
        layers.extend(label_layer(layer, 8.0, 11.0));
    }
    for layer in basemap.iter().filter(|l| l.kind == GeometryKind::Polygon) {
        if let Some(mut label) = label_layer(layer, 0.0, 13.0) {
            label["maxzoom"] = json!(5);
            layers.push(label);
        }
    }
    let center = snapshot
        .layers
        .iter()
        .filter(|l| !l.basemap)
        .filter_map(|l| l.extent)
        .map(|r| r.center())
        .next()
        .map(|c| [c.x, c.y])
        .unwrap_or([0.0, 0.0]);
    json!({
        "version": 8,
        "name": snapshot.title,
        "metadata": { "dtmap:description": snapshot.description },
        "center": center,
        "zoom": 5,
        "glyphs": format!("{base}/fonts/{{fontstack}}/{{range}}.pbf"),
        "sources": { SOURCE: source },
        "layers": layers,
    })
}

/// Values of a count column in the latest round, ascending.
fn latest_values(layer: &Layer, column: &str) -> Vec<i64> {
    let (Some(round), Some(c)) = (layer.latest_round(), layer.count_column(column)) else {
        return Vec::new();
    };
    let mut values: Vec<i64> = (0..layer.features.len() as u32)
        .filter_map(|f| layer.count(round, f)?.value(c))
        .collect();
    values.sort_unstable();
    values
}

/// The class breaks of a count column: the quintiles of its positive values over every
/// round. The one source of the breaks of the style, the legend and the dashboard.
pub fn class_breaks(layer: &Layer, column: &str) -> Vec<i64> {
    let Some(c) = layer.count_column(column) else {
        return Vec::new();
    };
    let mut values: Vec<i64> = layer
        .counts
        .iter()
        .flat_map(|round| round.rows())
        .filter_map(|(_, record)| record.value(c))
        .filter(|&v| v > 0)
        .collect();
    values.sort_unstable();
    breaks(&values)
}

/// Four increasing class breaks at the quintiles of `values` (rounded to two significant
/// figures, so the legend reads well).
fn breaks(values: &[i64]) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::new();
    for q in 1..5 {
        let Some(&v) = values.get(values.len() * q / 5) else {
            continue;
        };
        let v = round_to_two_figures(v.max(1));
        if out.last().is_none_or(|&last| v > last) {
            out.push(v);
        }
    }
    out
}

fn round_to_two_figures(v: i64) -> i64 {
    let mut scale = 1;
    while v / scale >= 100 {
        scale *= 10;
    }
    (v / scale) * scale
}

fn basemap_layers(layer: &Layer) -> Vec<Value> {
    let id = &layer.id;
    match layer.kind {
        GeometryKind::Polygon => vec![
            json!({
                "id": format!("{id}-fill"), "type": "fill", "source": SOURCE, "source-layer": id,
                "paint": { "fill-color": LAND },
            }),
            json!({
                "id": format!("{id}-line"), "type": "line", "source": SOURCE, "source-layer": id,
                "paint": { "line-color": "#9e9cab", "line-width": 1, "line-dasharray": [3, 2] },
            }),
        ],
        _ => vec![
            json!({
                "id": format!("{id}-water"), "type": "fill", "source": SOURCE, "source-layer": id,
                "filter": ["==", ["geometry-type"], "Polygon"],
                "paint": { "fill-color": WATER },
            }),
            json!({
                "id": format!("{id}-line"), "type": "line", "source": SOURCE, "source-layer": id,
                "filter": ["==", ["geometry-type"], "LineString"],
                "paint": {
                    "line-color": WATER,
                    "line-width": ["interpolate", ["linear"], ["zoom"], 3, 0.8, 10, 3],
                },
            }),
        ],
    }
}

fn choropleth_layers(snapshot: &Snapshot, layer: &Layer) -> Vec<Value> {
    let id = &layer.id;
    let color = match snapshot.main_count(layer) {
        Some(column) => {
            let mut step = vec![
                json!("step"),
                json!(["coalesce", ["get", column], 0]),
                json!(CHOROPLETH[0]),
            ];
            for (b, color) in class_breaks(layer, column)
                .into_iter()
                .zip(CHOROPLETH.iter().skip(1))
            {
                step.push(json!(b));
                step.push(json!(color));
            }
            json!(["case", ["has", column], Value::Array(step), NO_DATA])
        }
        None => json!(NO_DATA),
    };
    vec![
        json!({
            "id": format!("{id}-fill"), "type": "fill", "source": SOURCE, "source-layer": id,
            "paint": { "fill-color": color, "fill-opacity": 0.8 },
        }),
        json!({
            "id": format!("{id}-line"), "type": "line", "source": SOURCE, "source-layer": id,
            "paint": { "line-color": "#ffffff", "line-width": 1 },
        }),
    ]
}

fn circle_layers(snapshot: &Snapshot, layer: &Layer) -> Vec<Value> {
    let id = &layer.id;
    let radius = match snapshot.main_count(layer) {
        Some(column) => {
            let largest = latest_values(layer, column)
                .last()
                .copied()
                .unwrap_or(1)
                .max(1);
            json!([
                "interpolate",
                ["linear"],
                ["sqrt", ["coalesce", ["get", column], 0]],
                0,
                2,
                (largest as f64).sqrt(),
                20
            ])
        }
        None => json!(4),
    };
    vec![json!({
        "id": format!("{id}-circle"), "type": "circle", "source": SOURCE, "source-layer": id,
        "paint": {
            "circle-radius": radius,
            "circle-color": ["case", ["has", "point_count"], "#6a51a3", "#2171b5"],
            "circle-opacity": 0.7,
            "circle-stroke-color": "#ffffff",
            "circle-stroke-width": 1,
        },
    })]
}

/// The default name over the first name in another language, where the layer has them.
fn label_layer(layer: &Layer, minzoom: f64, size: f64) -> Option<Value> {
    let name = |field: &Option<String>| -> Option<Value> {
        field
            .as_ref()
            .filter(|f| layer.tile_fields.contains(f))
            .map(|f| json!(["coalesce", ["get", f], ""]))
    };
    let other = layer
        .names
        .iter()
        .map(|(_, field)| field)
        .find(|field| Some(*field) != layer.name_field.as_ref())
        .cloned();
    let text = match (name(&layer.name_field), name(&other)) {
        (Some(en), Some(ar)) => json!(["format", en, {}, "\n", {}, ar, { "font-scale": 0.9 }]),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => return None,
    };
    let id = &layer.id;
    // Polygons are labelled from their label points, once per feature.
    let source_layer = if layer.kind == GeometryKind::Polygon {
        label_layer_name(id)
    } else {
        id.clone()
    };
    let mut label = json!({
        "id": format!("{id}-label"), "type": "symbol", "source": SOURCE,
        "source-layer": source_layer,
        "minzoom": minzoom,
        "layout": {
            "text-field": text,
            "text-font": [FONT_STACK],
            "text-size": size,
            "text-max-width": 8,
        },
        "paint": {
            "text-color": "#333333",
            "text-halo-color": "#ffffff",
            "text-halo-width": 1.2,
        },
    });
    if layer.kind == GeometryKind::Point {
        label["filter"] = json!(["!", ["has", "point_count"]]);
        label["layout"]["text-offset"] = json!([0, 1.2]);
        label["layout"]["text-anchor"] = json!("top");
    }
    Some(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_breaks_rise_and_read_well() {
        let values: Vec<i64> = (1..=100).map(|v| v * 1234).collect();
        assert_eq!(breaks(&values), vec![25000, 50000, 75000, 99000]);
        assert!(breaks(&[]).is_empty());
        assert_eq!(breaks(&[5, 5, 5, 5, 5]), vec![5]);
    }
}

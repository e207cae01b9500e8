//! One tile from the snapshot: for each requested layer, the R-tree candidates, their
//! prepared shapes at the tile's zoom clipped to the tile and its buffer (or the points
//! aggregated into cells), with their properties, encoded as one MVT.
//!
//! A polygon layer comes with a second MVT layer, `{id}_label`: one point per feature,
//! inside it, with the same id and properties, so that a map labels a feature once.
//!
//! Properties of a feature: `id` (the feature id; the MVT id is its position + 1), the
//! layer's `tile_fields`, and, when the layer has counts for the chosen round, each count
//! column and `synthetic`. A cluster has `id` (`cluster/{z}/{column}/{row}`), `point_count`,
//! the summed count columns and `synthetic` (true if any member's counts are). HTTP, round
//! selection and caching are left to the callers.

use std::sync::Arc;

use super::clip::{clip_line, clip_ring, ClipBox};
use super::cluster::{aggregate, CellRef, Summed};
use super::encode::{LayerBuilder, PropertyValue, TileGeometry};
use super::prepare::{PreparedLayer, Shape};
use super::repair::repair_clipped;
use super::simplify::WorldPoint;
use super::{TileId, TileOptions, EXTENT};
use crate::model::{GeometryKind, Layer, PropertyTable};

/// One layer of a tile request.
#[derive(Debug, Clone, Copy)]
pub struct LayerRequest<'a> {
    /// The layer.
    pub layer: &'a Layer,
    /// Its prepared geometry.
    pub prepared: &'a PreparedLayer,
    /// The round whose counts are written, if the layer has counts.
    pub round: Option<usize>,
}

impl<'a> LayerRequest<'a> {
    /// Each of `layers` with its prepared geometry (`prepared`, in the same order) and
    /// its latest round, the round a map first shows.
    pub fn latest_of(
        layers: &'a [Arc<Layer>],
        prepared: &'a [PreparedLayer],
    ) -> Vec<LayerRequest<'a>> {
        layers
            .iter()
            .zip(prepared)
            .map(|(layer, prepared)| LayerRequest {
                layer,
                prepared,
                round: layer.latest_round(),
            })
            .collect()
    }
}

/// The encoded tile; empty when no layer has a feature in it.
///
/// An MVT tile is its layers one after the other, so each request's layers are encoded on
/// their own and appended. At the shallowest zooms (up to [`LOW_ZOOM_KEPT`]) a layer's part
/// of a tile is made once per round and kept with its prepared geometry: those tiles hold
/// every feature of the layer, cost the most, and are few.
pub fn render_tile(requests: &[LayerRequest<'_>], tile: TileId, options: &TileOptions) -> Vec<u8> {
    let mut out = Vec::new();
    for request in requests {
        let kept = (request.prepared.options() == options)
            .then(|| request.prepared.low_zoom_slot(request.round, tile))
            .flatten();
        match kept {
            Some(slot) => out.extend_from_slice(slot.get_or_init(|| {
                let mut part = Vec::new();
                layers_of(request, tile, options, &mut part);
                part.into()
            })),
            None => layers_of(request, tile, options, &mut out),
        }
    }
    out
}

/// Cuts every layer's kept part of each tile of zooms 0 to [`LOW_ZOOM_KEPT`] for its
/// latest round, the round a map first shows: the first requests for them then find them
/// made (the z0 tile of the world's admin-1 areas and a million sites took 0.1-0.2 s, and
/// every request for it meanwhile waited).
pub fn render_low_zooms(prepared: &[PreparedLayer], layers: &[Arc<Layer>]) {
    for request in LayerRequest::latest_of(layers, prepared) {
        for z in 0..=LOW_ZOOM_KEPT {
            for x in 0..1u64 << z {
                for y in 0..1u64 << z {
                    if let Ok(tile) = TileId::new(u64::from(z), x, y) {
                        render_tile(&[request], tile, request.prepared.options());
                    }
                }
            }
        }
    }
}

/// A tile of point layers with at most this many points around it (per layer) is cut in
/// a few tens of microseconds: less than handing it to another thread and back.
pub const LIGHT_TILE_POINTS: usize = 256;

/// Whether cutting the tile costs little and has a bound: every layer is a layer of
/// points with at most [`LIGHT_TILE_POINTS`] points in reach of the tile (what the count
/// stops at bounds the check itself).
pub fn is_light(requests: &[LayerRequest<'_>], tile: TileId, options: &TileOptions) -> bool {
    let cell = f64::from(options.cluster_cell.clamp(1, EXTENT));
    let reach = tile.bounds_lonlat(f64::from(options.buffer) + cell + 4.0);
    requests.iter().all(|request| {
        request.prepared.points_only()
            && request.prepared.options() == options
            && request
                .layer
                .index
                .point_tree()
                .is_some_and(|tree| tree.at_most_in_rect(&reach, LIGHT_TILE_POINTS))
    })
}

/// Deepest zoom whose tiles each layer keeps once made (per round): 341 tiles of z0–z4.
pub const LOW_ZOOM_KEPT: u8 = 4;

/// One request's layers (features and labels) of a tile, appended to `out` as tile bytes.
fn layers_of(request: &LayerRequest<'_>, tile: TileId, options: &TileOptions, out: &mut Vec<u8>) {
    render_layer(request, tile, options).finish_into(out);
    if let Some(labels) = render_label_layer(request, tile, options) {
        labels.finish_into(out);
    }
}

/// One MVT layer, with no features when nothing of the layer is in the tile.
pub fn render_layer(
    request: &LayerRequest<'_>,
    tile: TileId,
    options: &TileOptions,
) -> LayerBuilder {
    let layer = request.layer;
    let clip = ClipBox::around(tile, options.buffer);
    let origin = tile.origin();
    if layer.index.is_points() && options.clusters_at(tile.z) {
        let mut builder = LayerBuilder::new(&layer.id);
        add_cells(&mut builder, request, tile, &clip, options);
        return builder;
    }
    let shapes = request.prepared.at_zoom(layer, tile.z);
    // Simplified and tiny shapes may stray a unit or two from the source bounding box.
    let margin = f64::from(options.buffer) + 4.0;
    let mut candidates = Vec::new();
    layer
        .index
        .for_each_candidate(&tile.bounds_lonlat(margin), |i| candidates.push(i));
    candidates.sort_unstable();
    let mut builder = LayerBuilder::with_capacity(&layer.id, candidates.len());
    let fields = TileFields::of(layer);
    let mut properties = Vec::new();
    for position in candidates {
        let Some(shape) = shapes.get(position as usize) else {
            continue;
        };
        let Some(geometry) = clip_shape(&shape, &clip, origin) else {
            continue;
        };
        fields.properties_of(request.round, position, &mut properties);
        builder.add(u64::from(position) + 1, &geometry, &properties);
    }
    builder
}

/// The MVT layer name of a polygon layer's label points.
pub fn label_layer_name(layer_id: &str) -> String {
    format!("{layer_id}{LABEL_LAYER_SUFFIX}")
}

/// Appended to a polygon layer's id to name the layer of its label points.
pub const LABEL_LAYER_SUFFIX: &str = "_label";

/// One point per polygon feature, inside it, with the feature's id and properties: a map
/// labels each feature once instead of once per tile its polygon crosses. `None` for
/// layers that are not polygon layers; no features when no label point is in the tile and
/// its buffer.
pub fn render_label_layer(
    request: &LayerRequest<'_>,
    tile: TileId,
    options: &TileOptions,
) -> Option<LayerBuilder> {
    let layer = request.layer;
    if layer.kind != GeometryKind::Polygon {
        return None;
    }
    let clip = ClipBox::around(tile, options.buffer);
    let origin = tile.origin();
    let mut candidates = Vec::new();
    layer
        .index
        .for_each_candidate(&tile.bounds_lonlat(f64::from(options.buffer) + 1.0), |i| {
            candidates.push(i)
        });
    candidates.sort_unstable();
    let mut builder = LayerBuilder::with_capacity(&label_layer_name(&layer.id), candidates.len());
    let fields = TileFields::of(layer);
    let mut properties = Vec::new();
    for position in candidates {
        let Some(point) = request.prepared.label_point_at(position, tile.z) else {
            continue;
        };
        if !clip.contains(point) {
            continue;
        }
        fields.properties_of(request.round, position, &mut properties);
        builder.add_point(u64::from(position) + 1, local(point, origin), &properties);
    }
    Some(builder)
}

/// Points of a point layer aggregated into cells: every cell of the tile and its buffer,
/// whole, so that a cell looks the same from every tile that shows it.
fn add_cells(
    builder: &mut LayerBuilder,
    request: &LayerRequest<'_>,
    tile: TileId,
    clip: &ClipBox,
    options: &TileOptions,
) {
    let layer = request.layer;
    let cell = i64::from(options.cluster_cell.clamp(1, EXTENT));
    let columns = (clip.min[0].div_euclid(cell), clip.max[0].div_euclid(cell));
    let rows = (clip.min[1].div_euclid(cell), clip.max[1].div_euclid(cell));
    let cells_per_side = (tile.world_size() as i64 / cell).max(1);
    let origin = tile.origin();
    let fields = TileFields::of(layer);
    let mut properties = Vec::new();
    let mut cluster_id = String::new();
    let mut add = |builder: &mut LayerBuilder, cell: CellRef<'_>| {
        if !clip.contains(cell.position) {
            return;
        }
        let at = local(cell.position, origin);
        if let [only] = cell.members {
            fields.properties_of(request.round, *only, &mut properties);
            builder.add_point(u64::from(*only) + 1, at, &properties);
        } else {
            use std::fmt::Write;
            cluster_id.clear();
            let _ = write!(
                cluster_id,
                "cluster/{}/{}/{}",
                tile.z, cell.column, cell.row
            );
            let properties = cluster_properties(layer, request.round, &cell, &cluster_id);
            builder.add_point(cell.cluster_id(cells_per_side), at, &properties);
        }
    };
    if let Some(index) = request.prepared.cells_for(tile) {
        let cells: Vec<CellRef<'_>> = index.cells(columns, rows).collect();
        builder.reserve(cells.len());
        for cell in cells {
            add(builder, cell);
        }
        return;
    }
    // Whole cells reach up to one cell beyond the buffer.
    let margin = f64::from(options.buffer) + cell as f64 + 1.0;
    let shapes = request.prepared.at_zoom(layer, tile.z);
    let mut points: Vec<(u32, WorldPoint)> = Vec::new();
    layer
        .index
        .for_each_candidate(&tile.bounds_lonlat(margin), |position| {
            if let Some(shape) = shapes.get(position as usize) {
                if let Shape::Points(ps) = shape.as_ref() {
                    points.extend(ps.iter().map(|p| (position, *p)));
                }
            }
        });
    let cells = aggregate(points, cell, columns, rows);
    builder.reserve(cells.len());
    for cell in &cells {
        add(builder, cell.as_ref());
    }
}

fn local(p: WorldPoint, origin: WorldPoint) -> WorldPoint {
    [p[0] - origin[0], p[1] - origin[1]]
}

/// A shape clipped to the box, in tile coordinates; `None` when nothing is left.
pub fn clip_shape(shape: &Shape, clip: &ClipBox, origin: WorldPoint) -> Option<TileGeometry> {
    let to_local = |points: Vec<WorldPoint>| -> Vec<WorldPoint> {
        points.into_iter().map(|p| local(p, origin)).collect()
    };
    match shape {
        Shape::Empty => None,
        Shape::Points(points) => {
            let kept: Vec<WorldPoint> = points
                .iter()
                .filter(|p| clip.contains(**p))
                .map(|p| local(*p, origin))
                .collect();
            (!kept.is_empty()).then_some(TileGeometry::Points(kept))
        }
        Shape::Lines(lines) => {
            let kept: Vec<Vec<WorldPoint>> = lines
                .iter()
                .flat_map(|line| clip_line(line, clip))
                .map(to_local)
                .collect();
            (!kept.is_empty()).then_some(TileGeometry::Lines(kept))
        }
        Shape::Polygons(polygons) => {
            let mut kept: Vec<Vec<Vec<WorldPoint>>> = Vec::new();
            let (lo, hi) = (local(clip.min, origin), local(clip.max, origin));
            for part in polygons.iter().flat_map(|p| p.valid_parts()) {
                let Some((exterior, holes)) = part.split_first() else {
                    continue;
                };
                if part.iter().all(|ring| ring.is_within(clip)) {
                    // Valid already, and nothing to cut.
                    kept.push(part.iter().map(|r| to_local(r.to_vec())).collect());
                    continue;
                }
                let exterior = clip_ring(exterior, clip);
                if exterior.is_empty() {
                    continue;
                }
                let mut rings = vec![to_local(exterior)];
                rings.extend(
                    holes
                        .iter()
                        .map(|hole| clip_ring(hole, clip))
                        .filter(|hole| !hole.is_empty())
                        .map(to_local),
                );
                // Clipping can make rings overlap themselves along the box's sides, or
                // touch where a crossing point was rounded.
                kept.extend(repair_clipped(rings, lo, hi));
            }
            (!kept.is_empty()).then_some(TileGeometry::Polygons(kept))
        }
    }
}

/// Whether a tile field is written by the counts instead (so it is not written twice).
fn is_reserved(layer: &Layer, name: &str) -> bool {
    name == "id"
        || name == "synthetic"
        || name == "provenance"
        || name == "point_count"
        || layer.count_column(name).is_some()
}

/// A layer's tile fields that the counts do not write, each with its position in the
/// layer's property table, found once per tile instead of once per feature and field.
struct TileFields<'a> {
    layer: &'a Layer,
    /// The property table the positions are of (the layer's features share one).
    table: Option<&'a Arc<PropertyTable>>,
    fields: Vec<(&'a str, Option<usize>)>,
}

impl<'a> TileFields<'a> {
    fn of(layer: &'a Layer) -> TileFields<'a> {
        let table = layer.features.first().map(|f| f.properties.table());
        let fields = layer
            .tile_fields
            .iter()
            .filter(|name| !is_reserved(layer, name))
            .map(|name| (name.as_str(), table.and_then(|t| t.position(name))))
            .collect();
        TileFields {
            layer,
            table,
            fields,
        }
    }

    /// The properties of the feature at `position`, written over `out`.
    fn properties_of(
        &self,
        round: Option<usize>,
        position: u32,
        out: &mut Vec<(&'a str, PropertyValue<'a>)>,
    ) {
        out.clear();
        let layer = self.layer;
        let Some(feature) = layer.features.get(position as usize) else {
            return;
        };
        out.push(("id", PropertyValue::Text(&feature.id)));
        let properties = &feature.properties;
        let shared = self
            .table
            .is_some_and(|t| Arc::ptr_eq(t, properties.table()));
        for &(name, at) in &self.fields {
            let value = if shared {
                at.and_then(|at| properties.get_at(at))
            } else {
                properties.get(name)
            };
            if let Some(value) = value.and_then(PropertyValue::from_field) {
                out.push((name, value));
            }
        }
        if let Some(record) = round.and_then(|r| layer.count(r, position)) {
            for (column, value) in layer.count_columns.iter().zip(record.values()) {
                if let Some(value) = value {
                    out.push((column.as_str(), PropertyValue::Int(value)));
                }
            }
            out.push(("synthetic", PropertyValue::Bool(record.synthetic())));
            out.push((
                "provenance",
                PropertyValue::Text(record.provenance().as_str()),
            ));
        }
    }
}

/// The properties of a cluster: its id, `point_count`, summed counts and `synthetic`.
fn cluster_properties<'a>(
    layer: &'a Layer,
    round: Option<usize>,
    cell: &CellRef<'_>,
    id: &'a str,
) -> Vec<(&'a str, PropertyValue<'a>)> {
    let mut properties = Vec::with_capacity(layer.count_columns.len() + 4);
    properties.extend([
        ("id", PropertyValue::Text(id)),
        ("point_count", PropertyValue::Int(cell.points as i64)),
    ]);
    let Some(round) = round else {
        return properties;
    };
    let Summed { sums, synthetic } = cell.summed(layer, round);
    for (column, sum) in layer.count_columns.iter().zip(sums) {
        if let Some(sum) = sum {
            properties.push((column.as_str(), PropertyValue::Int(sum)));
        }
    }
    if let Some(synthetic) = synthetic {
        properties.push(("synthetic", PropertyValue::Bool(synthetic)));
        properties.push((
            "provenance",
            PropertyValue::Text(crate::provenance::Provenance::of_sum(synthetic).as_str()),
        ));
    }
    properties
}

//! Each feature's geometry in integer world coordinates of a zoom, simplified, made once
//! per layer and zoom and shared by every tile of that zoom.
//!
//! [`PreparedSnapshot::build`] reads a snapshot's geometries into a [`Topology`] per layer
//! (cheap, once per data version); [`PreparedLayer::at_zoom`] projects and simplifies them
//! for one zoom on first use and keeps the result. Clipping to a tile is left to
//! [`super::clip`].

use std::sync::{Arc, OnceLock};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use geo::{Area, Geometry, InteriorPoint, LineString, Polygon};

use super::clip::Chain;
use super::cluster::CellIndex;
use super::repair::{repair_polygon, Ring};
use super::simplify::{SourcePoint, Topology, WorldPoint};
use super::{lonlat_to_world, TileId, TileOptions, EXTENT, MAX_ZOOM};
use crate::model::{Layer, Snapshot};

/// Tiles of zooms 0 to [`super::render::LOW_ZOOM_KEPT`].
const LOW_ZOOM_TILES: usize =
    ((1usize << (2 * (super::render::LOW_ZOOM_KEPT as usize + 1))) - 1) / 3;

/// Half the side of the square drawn for a polygon that collapsed at a zoom, in tile units.
pub const TINY_POLYGON_HALF_SIDE: i64 = 1;

/// A geometry in world coordinates of one zoom (tile units, y down).
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Nothing to draw at this zoom.
    Empty,
    /// One or more points.
    Points(Vec<WorldPoint>),
    /// One or more lines of two or more vertices.
    Lines(Vec<Chain>),
    /// Polygons, each an exterior ring then its holes; rings do not repeat their first
    /// vertex and their winding is not yet fixed.
    Polygons(Vec<PolygonRings>),
}

/// One polygon of a [`Shape`]: its exterior ring then its holes as simplified, and, made on
/// first use, the same polygon made valid ([`repair_polygon`]) when it is not: tiles clip
/// the valid form, so a tile only has to look at the edges its clipping makes.
#[derive(Debug, Clone, PartialEq)]
pub struct PolygonRings {
    rings: Vec<Chain>,
    /// `None` when `rings` are valid as they are; else the valid polygons.
    repaired: OnceLock<Option<Vec<Vec<Chain>>>>,
}

impl PolygonRings {
    /// A polygon of `rings`: exterior first, then holes.
    pub fn new(rings: Vec<Chain>) -> PolygonRings {
        PolygonRings {
            rings,
            repaired: OnceLock::new(),
        }
    }

    /// The rings as simplified: exterior first, then holes.
    pub fn rings(&self) -> &[Chain] {
        &self.rings
    }

    /// The polygon as valid polygons, each an exterior ring then holes, every ring simple
    /// and with area: usually just its own rings; none when it collapsed to nothing.
    pub fn valid_parts(&self) -> impl Iterator<Item = &[Chain]> {
        let repaired = self.repaired.get_or_init(|| {
            let rings: Vec<Ring> = self.rings.iter().map(Chain::to_vec).collect();
            let valid = repair_polygon(rings.clone());
            if valid.len() == 1 && valid[0] == rings {
                None
            } else {
                Some(
                    valid
                        .into_iter()
                        .map(|polygon| polygon.into_iter().map(Chain::new).collect())
                        .collect(),
                )
            }
        });
        let own = repaired.is_none().then_some(&self.rings[..]);
        own.into_iter()
            .chain(repaired.iter().flatten().map(Vec::as_slice))
    }
}

/// A feature's geometry as paths of the layer's topology.
#[derive(Debug, Clone)]
enum SourceShape {
    Empty,
    /// One point, kept inline: a layer of a million sites makes no allocation per site.
    Point(SourcePoint),
    Points(Vec<SourcePoint>),
    Lines(Vec<usize>),
    Polygons(Vec<Vec<usize>>),
}

/// The geometries of one layer, ready to be cut into tiles.
#[derive(Debug)]
pub struct PreparedLayer {
    shapes: Vec<SourceShape>,
    /// Every shape is points (or nothing): shapes are projected when asked, never kept.
    points_only: bool,
    /// Centre of each feature's bounding box (lon/lat), where a collapsed polygon is drawn;
    /// empty for a layer of points.
    centres: Vec<SourcePoint>,
    /// Where each polygon feature's label goes (a point inside it), lon/lat; empty for a
    /// layer without polygons.
    label_points: Vec<Option<SourcePoint>>,
    topology: Topology,
    tolerance: f64,
    /// Per zoom, each feature's simplified shape, made when a tile first needs it: the
    /// first tile of a zoom once simplified every outline of the layer (150 ms for the
    /// world's admin-1 areas), and every request of that zoom waited for it.
    zooms: Vec<OnceLock<Box<[OnceLock<Shape>]>>>,
    /// For a point layer, its grid cells at each clustered zoom where some tile holds
    /// many points (by zoom; `None` where tiles group their own points).
    cells: Vec<Option<CellIndex>>,
    /// The options the layer was prepared with.
    options: TileOptions,
    /// The layer's encoded part of each tile of zooms 0 to
    /// [`super::render::LOW_ZOOM_KEPT`], per round (no round first), made on first use.
    low_zoom: Vec<OnceLock<Arc<[u8]>>>,
}

impl Drop for PreparedLayer {
    fn drop(&mut self) {
        if self.shapes.len() >= crate::background::LARGE {
            crate::background::drop_in_background((
                std::mem::take(&mut self.shapes),
                std::mem::take(&mut self.zooms),
                std::mem::take(&mut self.cells),
                std::mem::take(&mut self.label_points),
            ));
        }
    }
}

impl PreparedLayer {
    /// Reads a layer's geometries.
    pub fn build(layer: &Layer, options: &TileOptions) -> PreparedLayer {
        let mut paths: Vec<(Vec<SourcePoint>, bool)> = Vec::new();
        let mut shapes = Vec::with_capacity(layer.features.len());
        for feature in &layer.features {
            shapes.push(source_shape(&feature.geometry(), &mut paths));
        }
        let points_only = shapes.iter().all(|s| {
            matches!(
                s,
                SourceShape::Empty | SourceShape::Point(_) | SourceShape::Points(_)
            )
        });
        let centres = if points_only {
            Vec::new()
        } else {
            layer
                .features
                .iter()
                .map(|f| {
                    let c = f.bbox().center();
                    [c.x, c.y]
                })
                .collect()
        };
        let label_points = if shapes.iter().any(|s| matches!(s, SourceShape::Polygons(_))) {
            layer
                .features
                .iter()
                .zip(&shapes)
                .map(|(feature, shape)| match shape {
                    SourceShape::Polygons(_) => label_point(&feature.geometry()),
                    _ => None,
                })
                .collect()
        } else {
            Vec::new()
        };
        let cells = if layer.index.is_points() {
            cell_indexes(layer, &shapes, options)
        } else {
            Vec::new()
        };
        PreparedLayer {
            points_only,
            // A layer of points reads its points from the layer when a tile needs them (a
            // copy took 32 bytes a site).
            shapes: if points_only { Vec::new() } else { shapes },
            centres,
            label_points,
            topology: Topology::build(paths),
            tolerance: options.simplify_tolerance,
            zooms: (0..=MAX_ZOOM).map(|_| OnceLock::new()).collect(),
            cells,
            options: *options,
            low_zoom: (0..(layer.rounds.len() + 1) * LOW_ZOOM_TILES)
                .map(|_| OnceLock::new())
                .collect(),
        }
    }

    /// Whether every shape is points (or nothing): nothing is kept per zoom.
    pub fn points_only(&self) -> bool {
        self.points_only
    }

    /// The options the layer was prepared with.
    pub fn options(&self) -> &TileOptions {
        &self.options
    }

    /// Where the layer's encoded part of a shallow tile is kept for `round`; `None` for a
    /// deeper tile or a round the layer does not have.
    pub fn low_zoom_slot(
        &self,
        round: Option<usize>,
        tile: TileId,
    ) -> Option<&OnceLock<Arc<[u8]>>> {
        if tile.z > super::render::LOW_ZOOM_KEPT {
            return None;
        }
        let side = 1usize << tile.z;
        let before = ((1usize << (2 * tile.z)) - 1) / 3;
        let at = before + tile.y as usize * side + tile.x as usize;
        let round_slot = round.map_or(0, |r| r + 1);
        self.low_zoom.get(round_slot * LOW_ZOOM_TILES + at)
    }

    /// The grid cells of a point layer at `zoom`, where they were made.
    pub fn cells_at(&self, zoom: u8) -> Option<&CellIndex> {
        self.cells.get(usize::from(zoom))?.as_ref()
    }

    /// The grid cells `tile` reads, where they were made for it; `None` where the tile
    /// groups its own points.
    pub fn cells_for(&self, tile: TileId) -> Option<&CellIndex> {
        self.cells_at(tile.z)
            .filter(|index| index.serves(tile.x, tile.y))
    }

    /// The label point of feature `position` at `zoom` (world coordinates), for polygons.
    pub fn label_point_at(&self, position: u32, zoom: u8) -> Option<WorldPoint> {
        let point = (*self.label_points.get(position as usize)?)?;
        Some(project(point, zoom))
    }

    /// Every feature's shape at `zoom` (by feature position): lines and polygons simplified
    /// once per zoom and feature, when a tile first needs it, and kept; points projected
    /// when asked, as that costs less than keeping a million of them per zoom.
    pub fn at_zoom<'a>(&'a self, layer: &'a Layer, zoom: u8) -> ZoomShapes<'a> {
        let kept = if self.points_only {
            None
        } else {
            self.zooms.get(usize::from(zoom)).map(|slot| {
                &**slot.get_or_init(|| self.shapes.iter().map(|_| OnceLock::new()).collect())
            })
        };
        ZoomShapes {
            prepared: self,
            layer,
            zoom,
            kept,
        }
    }

    fn shape_at(&self, position: usize, shape: &SourceShape, zoom: u8) -> Shape {
        match shape {
            SourceShape::Empty => Shape::Empty,
            SourceShape::Point(p) => Shape::Points(vec![project(*p, zoom)]),
            SourceShape::Points(points) => {
                Shape::Points(points.iter().map(|&p| project(p, zoom)).collect())
            }
            SourceShape::Lines(ids) => {
                let lines: Vec<Chain> = ids
                    .iter()
                    .map(|&id| self.topology.simplify(id, zoom, self.tolerance))
                    .filter(|line| line.len() >= 2)
                    .map(Chain::new)
                    .collect();
                if lines.is_empty() {
                    Shape::Empty
                } else {
                    Shape::Lines(lines)
                }
            }
            SourceShape::Polygons(polygons) => {
                let kept: Vec<PolygonRings> = polygons
                    .iter()
                    .filter_map(|rings| {
                        let mut rings = rings
                            .iter()
                            .map(|&id| self.topology.simplify(id, zoom, self.tolerance));
                        let exterior = rings.next().filter(|r| is_area(r))?;
                        let mut polygon = vec![Chain::new(exterior)];
                        polygon.extend(rings.filter(|r| is_area(r)).map(Chain::new));
                        Some(PolygonRings::new(polygon))
                    })
                    .collect();
                let collapsed = kept.is_empty() && !polygons.is_empty();
                if let Some(&centre) = self.centres.get(position).filter(|_| collapsed) {
                    let [x, y] = project(centre, zoom);
                    let h = TINY_POLYGON_HALF_SIDE;
                    Shape::Polygons(vec![PolygonRings::new(vec![Chain::new(vec![
                        [x - h, y - h],
                        [x + h, y - h],
                        [x + h, y + h],
                        [x - h, y + h],
                    ])])])
                } else if kept.is_empty() {
                    Shape::Empty
                } else {
                    Shape::Polygons(kept)
                }
            }
        }
    }
}

/// The cell indexes of a point layer, by zoom: from zoom 0 up while some tile of the zoom
/// holds [`TileOptions::cell_index_min_points`] points or more, and only at clustered zooms;
/// each for the tiles that hold that many.
fn cell_indexes(
    layer: &Layer,
    shapes: &[SourceShape],
    options: &TileOptions,
) -> Vec<Option<CellIndex>> {
    // Projected once at zoom 0, unrounded: a zoom's world coordinates are these times a
    // power of two, which is exact, so rounding them gives what `project` gives.
    let points: Vec<(u32, (f64, f64))> = shapes
        .iter()
        .enumerate()
        .flat_map(|(position, shape)| {
            let points = match shape {
                SourceShape::Point(point) => std::slice::from_ref(point),
                SourceShape::Points(points) => points.as_slice(),
                _ => &[],
            };
            points
                .iter()
                .map(move |p| (position as u32, lonlat_to_world(p[0], p[1], 0)))
        })
        .collect();
    let cell = i64::from(options.cluster_cell.clamp(1, EXTENT));
    let mut indexes = Vec::new();
    for zoom in 0..=MAX_ZOOM {
        if !options.clusters_at(zoom) {
            break;
        }
        let scale = f64::from(1u32 << zoom);
        let at_zoom = |(position, (x, y)): &(u32, (f64, f64))| {
            (
                *position,
                [(x * scale).round() as i64, (y * scale).round() as i64],
            )
        };
        let tile_side = i64::from(EXTENT);
        let tile_of = |p: WorldPoint| (p[0].div_euclid(tile_side), p[1].div_euclid(tile_side));
        let mut per_tile: HashMap<(i64, i64), usize> = HashMap::default();
        for (_, p) in points.iter().map(at_zoom) {
            *per_tile.entry(tile_of(p)).or_default() += 1;
        }
        let dense: Vec<(i64, i64)> = per_tile
            .iter()
            .filter(|&(_, &n)| n >= options.cell_index_min_points)
            .map(|(&tile, _)| tile)
            .collect();
        if dense.is_empty() {
            break;
        }
        // Only the dense tiles read cells (the rest group their few points as quickly), so
        // only the points of those tiles and of the tiles in their reach are indexed: at
        // the deeper clustered zooms nearly every cell is one point, and indexing them all
        // took 18 MB a zoom for 1 M sites.
        let reach = ((i64::from(options.buffer) + cell + tile_side - 1) / tile_side).max(1);
        let mut reached: HashSet<(i64, i64)> = HashSet::default();
        for &(x, y) in &dense {
            for dx in -reach..=reach {
                for dy in -reach..=reach {
                    if per_tile.contains_key(&(x + dx, y + dy)) {
                        reached.insert((x + dx, y + dy));
                    }
                }
            }
        }
        let served: Option<Vec<[i32; 2]>> = dense
            .iter()
            .map(|&(x, y)| Some([i32::try_from(x).ok()?, i32::try_from(y).ok()?]))
            .collect::<Option<_>>()
            // Cells that straddle tiles (a side not dividing a tile's) need every point.
            .filter(|_| reached.len() < per_tile.len() && tile_side % cell == 0);
        let indexed = points
            .iter()
            .map(at_zoom)
            .filter(|&(_, p)| served.is_none() || reached.contains(&tile_of(p)));
        let index = CellIndex::build(indexed, cell).map(|mut index| {
            if let Some(served) = served {
                index = index.serving_only(served);
            }
            index.sum_large_cells(layer);
            tracing::debug!(
                "layer {}: cells of zoom {zoom}: {} bytes",
                layer.id,
                index.heap_bytes()
            );
            index
        });
        indexes.push(index);
    }
    indexes
}

/// A point inside a polygon geometry, where one label for the whole feature goes (the
/// interior point of its largest part).
fn label_point(geometry: &Geometry<f64>) -> Option<SourcePoint> {
    let largest = match geometry {
        Geometry::MultiPolygon(parts) => parts
            .iter()
            .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))?
            .interior_point()?,
        other => other.interior_point()?,
    };
    Some([largest.x(), largest.y()])
}

/// Whether a ring encloses any area.
fn is_area(ring: &[WorldPoint]) -> bool {
    ring.len() >= 3 && doubled_area(ring) != 0
}

/// Twice the signed area of a ring (surveyor's formula), positive when clockwise in y-down
/// coordinates. Exact in i128.
pub fn doubled_area(ring: &[WorldPoint]) -> i128 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i128::from(a[0]) * i128::from(b[1]) - i128::from(b[0]) * i128::from(a[1])
        })
        .sum()
}

/// A lon/lat position on the integer world grid of `zoom`.
pub fn project(point: SourcePoint, zoom: u8) -> WorldPoint {
    let (x, y) = lonlat_to_world(point[0], point[1], zoom);
    [x.round() as i64, y.round() as i64]
}

fn coords(line: &LineString<f64>) -> Vec<SourcePoint> {
    line.0.iter().map(|c| [c.x, c.y]).collect()
}

fn add_polygon(polygon: &Polygon<f64>, paths: &mut Vec<(Vec<SourcePoint>, bool)>) -> Vec<usize> {
    std::iter::once(polygon.exterior())
        .chain(polygon.interiors())
        .map(|ring| {
            paths.push((coords(ring), true));
            paths.len() - 1
        })
        .collect()
}

/// The shape of one geometry, its rings and lines appended to `paths`. A geometry
/// collection keeps its parts of the highest dimension (an MVT feature has one type).
fn source_shape(
    geometry: &Geometry<f64>,
    paths: &mut Vec<(Vec<SourcePoint>, bool)>,
) -> SourceShape {
    let mut points = Vec::new();
    let mut lines = Vec::new();
    let mut polygons = Vec::new();
    collect(geometry, paths, &mut points, &mut lines, &mut polygons);
    if !polygons.is_empty() {
        SourceShape::Polygons(polygons)
    } else if !lines.is_empty() {
        SourceShape::Lines(lines)
    } else if points.len() == 1 {
        SourceShape::Point(points[0])
    } else if !points.is_empty() {
        SourceShape::Points(points)
    } else {
        SourceShape::Empty
    }
}

fn collect(
    geometry: &Geometry<f64>,
    paths: &mut Vec<(Vec<SourcePoint>, bool)>,
    points: &mut Vec<SourcePoint>,
    lines: &mut Vec<usize>,
    polygons: &mut Vec<Vec<usize>>,
) {
    let mut add_line = |line: &LineString<f64>, paths: &mut Vec<(Vec<SourcePoint>, bool)>| {
        paths.push((coords(line), false));
        lines.push(paths.len() - 1);
    };
    match geometry {
        Geometry::Point(p) => points.push([p.x(), p.y()]),
        Geometry::MultiPoint(mp) => points.extend(mp.iter().map(|p| [p.x(), p.y()])),
        Geometry::Line(l) => add_line(&LineString::from(vec![l.start, l.end]), paths),
        Geometry::LineString(l) => add_line(l, paths),
        Geometry::MultiLineString(ml) => ml.iter().for_each(|l| add_line(l, paths)),
        Geometry::Polygon(p) => polygons.push(add_polygon(p, paths)),
        Geometry::MultiPolygon(mp) => {
            for p in mp {
                polygons.push(add_polygon(p, paths));
            }
        }
        Geometry::Rect(r) => polygons.push(add_polygon(&r.to_polygon(), paths)),
        Geometry::Triangle(t) => polygons.push(add_polygon(&t.to_polygon(), paths)),
        Geometry::GeometryCollection(gc) => {
            for g in gc {
                collect(g, paths, points, lines, polygons);
            }
        }
    }
}

/// The shapes of a layer's features at one zoom.
#[derive(Debug)]
pub struct ZoomShapes<'a> {
    prepared: &'a PreparedLayer,
    /// The layer prepared, whose features a layer of points reads its points from.
    layer: &'a Layer,
    zoom: u8,
    /// The zoom's kept shapes; `None` for a layer of points, or a zoom past the deepest.
    kept: Option<&'a [OnceLock<Shape>]>,
}

impl ZoomShapes<'_> {
    /// The shape of the feature at `position`, if there is one.
    pub fn get(&self, position: usize) -> Option<std::borrow::Cow<'_, Shape>> {
        let layer = self.prepared;
        if layer.points_only {
            let feature = self.layer.features.get(position)?;
            let shape = source_shape(&feature.geometry(), &mut Vec::new());
            return Some(std::borrow::Cow::Owned(
                layer.shape_at(position, &shape, self.zoom),
            ));
        }
        let shape = layer.shapes.get(position)?;
        match self.kept {
            Some(kept) => {
                let slot = kept.get(position)?;
                Some(std::borrow::Cow::Borrowed(
                    slot.get_or_init(|| layer.shape_at(position, shape, self.zoom)),
                ))
            }
            None => Some(std::borrow::Cow::Owned(
                layer.shape_at(position, shape, self.zoom),
            )),
        }
    }
}

/// The prepared layers of one snapshot, by position in [`Snapshot::layers`].
#[derive(Debug)]
pub struct PreparedSnapshot {
    /// The [`Snapshot::version`] these were made from.
    pub version: u64,
    /// One per layer, in snapshot order.
    pub layers: Vec<PreparedLayer>,
}

/// Deepest zoom whose outlines are simplified and made valid ahead of its tiles
/// ([`PreparedSnapshot::make_outlines_ahead`]).
pub const OUTLINES_AHEAD: u8 = 12;

impl PreparedSnapshot {
    /// Simplifies every outline at zooms 0 to [`OUTLINES_AHEAD`] and makes it valid, on
    /// every core, so that no tile request does. A z0 tile of the world's admin-1 areas
    /// took 200 ms the first time; deeper, the first tile of a large area simplified and
    /// repaired it while other requests waited for the thread (the first pass over 7,336
    /// z9-z12 tiles of the world data, one connection: p99 5.2 ms, 0.5 ms with the
    /// outlines made ahead). Deeper zooms are made feature by feature as tiles need them.
    pub fn make_outlines_ahead(&self, snapshot: &Snapshot) {
        let layers = self.layers.iter().zip(&snapshot.layers);
        for (layer, source) in layers.filter(|(l, _)| !l.points_only) {
            let zooms: Vec<ZoomShapes<'_>> = (0..=OUTLINES_AHEAD)
                .map(|zoom| layer.at_zoom(source, zoom))
                .collect();
            // One feature at a time to each thread: outlines differ in size by thousands.
            crate::parallel::in_order(
                layer.shapes.len(),
                |position| {
                    for shapes in &zooms {
                        if let Some(shape) = shapes.get(position) {
                            if let Shape::Polygons(polygons) = shape.as_ref() {
                                polygons.iter().for_each(|p| {
                                    p.valid_parts().for_each(drop);
                                });
                            }
                        }
                    }
                },
                drop,
            );
        }
    }

    /// Prepares every layer of `snapshot`.
    pub fn build(snapshot: &Snapshot, options: &TileOptions) -> PreparedSnapshot {
        PreparedSnapshot {
            version: snapshot.version,
            layers: crate::parallel::map(&snapshot.layers, |layer| {
                let _step = crate::progress::Step::start(format!(
                    "preparing the tiles of layer {}",
                    layer.id
                ));
                PreparedLayer::build(layer, options)
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clockwise_rings_in_y_down_coordinates_have_positive_area() {
        let clockwise = [[0, 0], [10, 0], [10, 10], [0, 10]];
        assert_eq!(doubled_area(&clockwise), 200);
        let mut counter = clockwise.to_vec();
        counter.reverse();
        assert_eq!(doubled_area(&counter), -200);
    }
}

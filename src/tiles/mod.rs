//! Mapbox Vector Tiles of the served layers: tile maths ([`TileId`], Web Mercator), the
//! options every step shares ([`TileOptions`]), and the pipeline, one step per module.
//!
//! ```text
//! Snapshot ─▶ prepare (per layer, once per data version; per zoom, ahead or lazily)
//!             topology: arcs between junctions ─▶ project ─▶ quantize ─▶ simplify arcs
//!          ─▶ render (per tile): R-tree candidates ─▶ clip ─▶ repair ─▶ cluster ─▶ encode
//!          ─▶ cache (LRU of encoded tiles, bounded in bytes)
//! ```
//!
//! - [`simplify`]: the topology of a layer (shared arcs) and Douglas–Peucker per arc.
//! - [`prepare`]: each feature's geometry in integer world coordinates of one zoom.
//! - [`clip`]: clipping to the tile plus its buffer.
//! - [`repair`]: every polygon ring written valid (simple, with area, holes inside).
//! - [`cluster`]: grid aggregation of points at low zooms.
//! - [`encode`]: the MVT 2.1 protobuf (commands, winding, keys and values), written with
//!   the varints and field numbers of `wire`.
//! - [`render`]: one tile from the snapshot, the steps above in order.
//! - [`cache`]: the in-memory cache of encoded tiles and of prepared geometry.
//! - [`tilejson`], [`style`], [`glyphs`]: TileJSON 3.0, the MapLibre style and its fonts.
//!
//! **Coordinates.** The snapshot is WGS84 lon/lat. Web Mercator exists only here: a
//! position is projected to *world coordinates* of zoom `z`, a square of
//! `EXTENT · 2^z` units with y pointing down (north at 0), and a tile's coordinates are the
//! world coordinates minus the tile's origin (`x · EXTENT`, `y · EXTENT`). Latitudes beyond
//! ±85.0511° are clamped to the edge of the square.
//!
//! **Why the simplification keeps neighbours together.** Two areas share a border
//! as the same run of vertices, walked in opposite directions. The geometry of a zoom is
//! made in three steps that each give a shared border the same result in both polygons:
//! 1. *Topology.* A vertex is a junction where the neighbours it has differ between the
//!    rings passing through it (where three areas meet, or where a border meets the
//!    outline). Rings are cut at junctions into arcs, as in TopoJSON.
//! 2. *Quantize.* Every vertex is snapped to the integer grid of the zoom, the same grid as
//!    the tile's 4096 units, so one vertex lands on one grid point in every polygon.
//! 3. *Simplify each arc alone* with Douglas–Peucker, walked in a canonical direction (from
//!    its lesser end), keeping its end junctions. Douglas–Peucker depends only on the
//!    sequence it is given, so a shared arc simplifies to the same vertices in both
//!    polygons, and no sliver can open or overlap between them at any zoom.
//!
//! Clipping keeps this property too: the point where a shared edge crosses the tile border
//! is computed from the edge's end points in canonical order and rounded once. Snap-rounding
//! would also keep topology, but needs a noding step over all segments of a layer per zoom;
//! arcs plus Douglas–Peucker need only a hash map over vertices, once per data version.
//!
//! **Valid rings.** Simplification, snapping and clipping can make a ring of a valid source
//! polygon cross or touch itself, which MVT 2.1 forbids. Each polygon is checked once per
//! zoom and, only if it fails, rebuilt into valid parts ([`repair`]); a tile checks just the
//! edges its clipping made, so a border shared by two polygons stays identical wherever
//! neither needed rebuilding.
//!
//! **Tiny features.** A polygon whose every part collapses at a zoom is drawn as a small
//! square at its centre, so it stays visible and queryable; lines that collapse to a point
//! are left out. Points are aggregated on a grid up to [`TileOptions::cluster_max_zoom`]
//! (cells aligned to tiles, counts summed, `point_count` set), so a low-zoom tile holds at
//! most one feature per cell.

pub mod cache;
pub mod clip;
pub mod cluster;
pub mod encode;
pub mod glyphs;
pub mod prepare;
pub mod render;
pub mod repair;
pub mod simplify;
pub mod style;
pub mod tilejson;
mod wire;

pub use cache::TileCache;

use geo::Rect;

/// Tile coordinate units along one side of a tile (the MVT `extent`).
pub const EXTENT: u32 = 4096;
/// Units drawn beyond each side of a tile, so lines and symbols join across tiles.
pub const DEFAULT_BUFFER: u32 = 64;
/// Douglas–Peucker tolerance, in tile units (a 512-pixel tile has 8 units per pixel).
pub const DEFAULT_SIMPLIFY_TOLERANCE: f64 = 2.0;
/// Highest zoom at which points are aggregated into grid cells.
pub const DEFAULT_CLUSTER_MAX_ZOOM: u8 = 10;
/// Side of an aggregation cell, in tile units (a power of two dividing [`EXTENT`]).
pub const DEFAULT_CLUSTER_CELL: u32 = 128;
/// Highest zoom served; above it a request is a 400.
pub const MAX_ZOOM: u8 = 22;
/// Default of [`TileOptions::cell_index_min_points`]: below it, grouping a tile's own
/// points is as quick as looking its cells up.
pub const DEFAULT_CELL_INDEX_MIN_POINTS: usize = 1_000;
/// The `maxzoom` announced in TileJSON: clients over-zoom beyond it.
pub const ADVERTISED_MAX_ZOOM: u8 = 14;
/// Media type of a vector tile.
pub const MEDIA_TYPE: &str = "application/vnd.mapbox-vector-tile";
/// The latitude where Web Mercator's square ends.
pub const MAX_LATITUDE: f64 = 85.051_128_779_806_59;

/// How tiles are cut and simplified. The defaults are the `DEFAULT_*` constants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TileOptions {
    /// Units drawn beyond each side of a tile.
    pub buffer: u32,
    /// Douglas–Peucker tolerance in tile units; 0 keeps every (quantized) vertex.
    pub simplify_tolerance: f64,
    /// Points are aggregated into cells up to this zoom (inclusive); `None` never.
    pub cluster_max_zoom: Option<u8>,
    /// Side of an aggregation cell in tile units.
    pub cluster_cell: u32,
    /// A point layer's cells are made once, when tiles are prepared, at each clustered
    /// zoom where a tile holds at least this many points (see [`cluster::CellIndex`]).
    pub cell_index_min_points: usize,
}

impl Default for TileOptions {
    fn default() -> Self {
        TileOptions {
            buffer: DEFAULT_BUFFER,
            simplify_tolerance: DEFAULT_SIMPLIFY_TOLERANCE,
            cluster_max_zoom: Some(DEFAULT_CLUSTER_MAX_ZOOM),
            cluster_cell: DEFAULT_CLUSTER_CELL,
            cell_index_min_points: DEFAULT_CELL_INDEX_MIN_POINTS,
        }
    }
}

impl TileOptions {
    /// Whether points are aggregated at `zoom`.
    pub fn clusters_at(&self, zoom: u8) -> bool {
        self.cluster_max_zoom.is_some_and(|max| zoom <= max)
    }
}

/// Why a tile address is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileIdError {
    /// A part is not a whole number.
    #[error("{name}: {text:?} is not a whole number")]
    NotANumber {
        /// `z`, `x` or `y`.
        name: &'static str,
        /// What was given.
        text: String,
    },
    /// The zoom is above [`MAX_ZOOM`].
    #[error("z: {0} is above the highest zoom served, {MAX_ZOOM}")]
    ZoomTooHigh(u64),
    /// `x` or `y` is not in `0..2^z`. The message gives the range inclusively,
    /// `0..2^z − 1`.
    #[error("{name}: {value} is outside 0..{last} at zoom {z}", last = .limit - 1)]
    OutOfRange {
        /// `x` or `y`.
        name: &'static str,
        /// What was given.
        value: u64,
        /// `2^z`.
        limit: u64,
        /// The zoom.
        z: u8,
    },
}

/// A tile of the WebMercatorQuad grid (XYZ scheme: y = 0 at the north).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Zoom, `0..=MAX_ZOOM`.
    pub z: u8,
    /// Column, `0..2^z`.
    pub x: u32,
    /// Row, `0..2^z`, from the north.
    pub y: u32,
}

impl TileId {
    /// A checked tile address.
    pub fn new(z: u64, x: u64, y: u64) -> Result<TileId, TileIdError> {
        if z > u64::from(MAX_ZOOM) {
            return Err(TileIdError::ZoomTooHigh(z));
        }
        let z = z as u8;
        let limit = 1u64 << z;
        for (name, value) in [("x", x), ("y", y)] {
            if value >= limit {
                return Err(TileIdError::OutOfRange {
                    name,
                    value,
                    limit,
                    z,
                });
            }
        }
        Ok(TileId {
            z,
            x: x as u32,
            y: y as u32,
        })
    }

    /// Parses path segments; the last one may end in `.pbf` or `.mvt`.
    pub fn parse(z: &str, x: &str, y: &str) -> Result<TileId, TileIdError> {
        Self::parse_with_suffix_on(z, x, y, "y")
    }

    /// Parses OGC API – Tiles segments (`{z}/{y}/{x}`): the suffix, if any, is on `x`.
    pub fn parse_ogc(z: &str, y: &str, x: &str) -> Result<TileId, TileIdError> {
        Self::parse_with_suffix_on(z, x, y, "x")
    }

    fn parse_with_suffix_on(z: &str, x: &str, y: &str, last: &str) -> Result<TileId, TileIdError> {
        let number = |name: &'static str, text: &str| {
            let digits = if name == last {
                strip_tile_suffix(text)
            } else {
                text
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(TileIdError::NotANumber {
                    name,
                    text: text.to_string(),
                });
            }
            // Too many digits is out of range rather than not a number.
            Ok(digits.parse::<u64>().unwrap_or(u64::MAX))
        };
        TileId::new(number("z", z)?, number("x", x)?, number("y", y)?)
    }

    /// Side of the world square at this zoom, in tile units.
    pub fn world_size(&self) -> f64 {
        world_size(self.z)
    }

    /// World coordinates of the tile's top-left corner.
    pub fn origin(&self) -> [i64; 2] {
        [
            i64::from(self.x) * i64::from(EXTENT),
            i64::from(self.y) * i64::from(EXTENT),
        ]
    }

    /// The tile grown by `margin` tile units on each side, in WGS84 lon/lat.
    pub fn bounds_lonlat(&self, margin: f64) -> Rect<f64> {
        let [ox, oy] = self.origin();
        let (ox, oy, extent) = (ox as f64, oy as f64, f64::from(EXTENT));
        let (west, north) = world_to_lonlat(ox - margin, oy - margin, self.z);
        let (east, south) = world_to_lonlat(ox + extent + margin, oy + extent + margin, self.z);
        Rect::new((west, south), (east, north))
    }
}

/// `text` without a trailing `.pbf` or `.mvt`.
pub fn strip_tile_suffix(text: &str) -> &str {
    text.strip_suffix(".pbf")
        .or_else(|| text.strip_suffix(".mvt"))
        .unwrap_or(text)
}

/// Side of the world square at `zoom`, in tile units.
pub fn world_size(zoom: u8) -> f64 {
    f64::from(EXTENT) * f64::from(1u32 << zoom.min(31))
}

/// WGS84 lon/lat to world coordinates of `zoom` (Web Mercator, y down, not rounded).
pub fn lonlat_to_world(lon: f64, lat: f64, zoom: u8) -> (f64, f64) {
    let size = world_size(zoom);
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians();
    let x = (lon + 180.0) / 360.0 * size;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * size;
    (x, y)
}

/// World coordinates of `zoom` back to WGS84 lon/lat.
pub fn world_to_lonlat(x: f64, y: f64, zoom: u8) -> (f64, f64) {
    let size = world_size(zoom);
    let lon = x / size * 360.0 - 180.0;
    let n = std::f64::consts::PI * (1.0 - 2.0 * y / size);
    let lat = n.sinh().atan().to_degrees();
    (lon, lat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tile_address_accepts_pbf_and_mvt_suffixes() {
        let plain = TileId::parse("3", "5", "2").unwrap();
        assert_eq!(TileId::parse("3", "5", "2.pbf").unwrap(), plain);
        assert_eq!(TileId::parse("3", "5", "2.mvt").unwrap(), plain);
        assert_eq!(TileId::parse_ogc("3", "2", "5.pbf").unwrap(), plain);
    }

    #[test]
    fn a_tile_outside_the_grid_or_too_deep_is_an_error() {
        assert!(matches!(
            TileId::parse("2", "4", "0"),
            Err(TileIdError::OutOfRange { name: "x", .. })
        ));
        assert_eq!(
            TileId::parse("2", "4", "0").unwrap_err().to_string(),
            "x: 4 is outside 0..3 at zoom 2"
        );
        assert_eq!(
            TileId::parse("0", "0", "1").unwrap_err().to_string(),
            "y: 1 is outside 0..0 at zoom 0"
        );
        assert!(TileId::parse("2", "3", "3").is_ok());
        assert!(matches!(
            TileId::parse("23", "0", "0"),
            Err(TileIdError::ZoomTooHigh(23))
        ));
        assert!(matches!(
            TileId::parse("1", "-1", "0"),
            Err(TileIdError::NotANumber { .. })
        ));
        assert!(matches!(
            TileId::parse("1", "0", "0.png"),
            Err(TileIdError::NotANumber { .. })
        ));
        assert!(TileId::parse("99999999999999999999999", "0", "0").is_err());
    }

    #[test]
    fn projecting_to_the_world_and_back_returns_the_position() {
        for (lon, lat) in [(44.4, 33.3), (-179.0, -80.0), (0.0, 0.0), (179.9, 85.0)] {
            let (x, y) = lonlat_to_world(lon, lat, 12);
            let (lon2, lat2) = world_to_lonlat(x, y, 12);
            assert!((lon - lon2).abs() < 1e-9 && (lat - lat2).abs() < 1e-9);
        }
    }

    #[test]
    fn tile_bounds_contain_the_positions_projected_into_the_tile() {
        let (x, y) = lonlat_to_world(44.4, 33.3, 8);
        let tile = TileId::new(
            8,
            (x / f64::from(EXTENT)) as u64,
            (y / f64::from(EXTENT)) as u64,
        )
        .unwrap();
        let bounds = tile.bounds_lonlat(0.0);
        assert!(bounds.min().x <= 44.4 && 44.4 <= bounds.max().x);
        assert!(bounds.min().y <= 33.3 && 33.3 <= bounds.max().y);
    }
}

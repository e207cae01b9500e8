//! Geometry at the edges: GeoJSON in (checked, never trusted) and GeoJSON text out.
//!
//! Coordinates are WGS84 longitude/latitude everywhere outside the tile encoder. Input is
//! converted here rather than with `geojson`'s own `TryFrom`, because that conversion
//! indexes positions without checking their length and so can panic on `[1]`.
//!
//! Polygonal areas prepared for many point tests, and their validity sweep, are here too
//! ([`area`], [`sweep`], [`bands`]): queries test sites against them, and loading checks
//! admin areas with the same sweep.

use std::fmt::Write as _;

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use geojson::{GeometryValue, Position};

/// Deepest nesting of brackets in a query geometry: WKT parentheses, GeoJSON brackets and
/// braces. A WKT polygon needs 3, a multipolygon 4; a GeoJSON multipolygon Feature 6.
/// Deeper text (a `GEOMETRYCOLLECTION` nested in itself) is a 400 before it is parsed.
/// (Kept here, below the config, which lists it with the other limits.)
pub const MAX_GEOMETRY_NESTING: usize = 16;

pub mod area;
pub mod bands;
pub mod sweep;
pub mod validity;

/// Why a geometry was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeometryError {
    /// A position has fewer than two numbers.
    #[error("a position needs at least 2 numbers (longitude, latitude)")]
    ShortPosition,
    /// NaN or infinite.
    #[error("coordinate is not a finite number")]
    NotFinite,
    /// Longitude outside -180..180 or latitude outside -90..90.
    #[error("coordinate ({lon}, {lat}) is outside longitude -180..180 / latitude -90..90")]
    OutOfRange {
        /// Longitude.
        lon: f64,
        /// Latitude.
        lat: f64,
    },
    /// A line with fewer than two positions.
    #[error("a line string needs at least 2 positions")]
    ShortLine,
    /// A polygon ring with fewer than four positions.
    #[error("a polygon ring needs at least 4 positions")]
    ShortRing,
    /// First and last positions of a ring differ.
    #[error("polygon ring is not closed (first and last positions differ)")]
    UnclosedRing,
    /// A polygon without an exterior ring.
    #[error("a polygon needs an exterior ring")]
    NoExterior,
    /// More vertices than the limit.
    #[error("geometry has more than {limit} vertices")]
    TooManyVertices {
        /// The limit.
        limit: usize,
    },
    /// Nested geometry collections are not supported.
    #[error("geometry collections are not supported here")]
    Collection,
}

/// Converts a GeoJSON geometry into a `geo` geometry, checking every position.
/// `max_vertices` bounds the work done on untrusted input.
pub fn from_geojson(
    value: &GeometryValue,
    max_vertices: usize,
) -> Result<Geometry<f64>, GeometryError> {
    let mut budget = VertexBudget {
        left: max_vertices,
        limit: max_vertices,
    };
    convert(value, &mut budget)
}

struct VertexBudget {
    left: usize,
    limit: usize,
}

impl VertexBudget {
    fn take(&mut self, n: usize) -> Result<(), GeometryError> {
        if n > self.left {
            return Err(GeometryError::TooManyVertices { limit: self.limit });
        }
        self.left -= n;
        Ok(())
    }
}

fn convert(
    value: &GeometryValue,
    budget: &mut VertexBudget,
) -> Result<Geometry<f64>, GeometryError> {
    Ok(match value {
        GeometryValue::Point { coordinates } => {
            budget.take(1)?;
            Geometry::Point(Point(coord(coordinates)?))
        }
        GeometryValue::MultiPoint { coordinates } => {
            budget.take(coordinates.len())?;
            Geometry::MultiPoint(MultiPoint(
                coordinates
                    .iter()
                    .map(|p| coord(p).map(Point))
                    .collect::<Result<_, _>>()?,
            ))
        }
        GeometryValue::LineString { coordinates } => {
            Geometry::LineString(line(coordinates, budget)?)
        }
        GeometryValue::MultiLineString { coordinates } => {
            Geometry::MultiLineString(MultiLineString(
                coordinates
                    .iter()
                    .map(|l| line(l, budget))
                    .collect::<Result<_, _>>()?,
            ))
        }
        GeometryValue::Polygon { coordinates } => Geometry::Polygon(polygon(coordinates, budget)?),
        GeometryValue::MultiPolygon { coordinates } => Geometry::MultiPolygon(MultiPolygon(
            coordinates
                .iter()
                .map(|p| polygon(p, budget))
                .collect::<Result<_, _>>()?,
        )),
        GeometryValue::GeometryCollection { .. } => return Err(GeometryError::Collection),
    })
}

fn coord(position: &Position) -> Result<Coord<f64>, GeometryError> {
    let numbers = position.as_slice();
    if numbers.len() < 2 {
        return Err(GeometryError::ShortPosition);
    }
    check_lon_lat(numbers[0], numbers[1])?;
    Ok(Coord {
        x: numbers[0],
        y: numbers[1],
    })
}

/// Checks one WGS84 position.
pub fn check_lon_lat(lon: f64, lat: f64) -> Result<(), GeometryError> {
    if !lon.is_finite() || !lat.is_finite() {
        return Err(GeometryError::NotFinite);
    }
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(GeometryError::OutOfRange { lon, lat });
    }
    Ok(())
}

fn line(
    positions: &[Position],
    budget: &mut VertexBudget,
) -> Result<LineString<f64>, GeometryError> {
    budget.take(positions.len())?;
    if positions.len() < 2 {
        return Err(GeometryError::ShortLine);
    }
    Ok(LineString(
        positions.iter().map(coord).collect::<Result<_, _>>()?,
    ))
}

fn ring(
    positions: &[Position],
    budget: &mut VertexBudget,
) -> Result<LineString<f64>, GeometryError> {
    budget.take(positions.len())?;
    if positions.len() < 4 {
        return Err(GeometryError::ShortRing);
    }
    let coords: Vec<Coord<f64>> = positions.iter().map(coord).collect::<Result<_, _>>()?;
    if coords.first() != coords.last() {
        return Err(GeometryError::UnclosedRing);
    }
    Ok(LineString(coords))
}

fn polygon(
    rings: &[Vec<Position>],
    budget: &mut VertexBudget,
) -> Result<Polygon<f64>, GeometryError> {
    let (exterior, holes) = rings.split_first().ok_or(GeometryError::NoExterior)?;
    let exterior = ring(exterior, budget)?;
    let holes = holes
        .iter()
        .map(|h| ring(h, budget))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, holes))
}

/// Writes a geometry as GeoJSON text (RFC 7946), coordinates as given.
pub fn write_geojson(out: &mut String, geometry: &Geometry<f64>) {
    match geometry {
        Geometry::Point(p) => {
            out.push_str(r#"{"type":"Point","coordinates":"#);
            write_coord(out, p.0);
        }
        Geometry::MultiPoint(mp) => {
            out.push_str(r#"{"type":"MultiPoint","coordinates":"#);
            write_list(out, mp.0.iter(), |out, p| write_coord(out, p.0));
        }
        Geometry::LineString(l) => {
            out.push_str(r#"{"type":"LineString","coordinates":"#);
            write_line(out, l);
        }
        Geometry::MultiLineString(ml) => {
            out.push_str(r#"{"type":"MultiLineString","coordinates":"#);
            write_list(out, ml.0.iter(), write_line);
        }
        Geometry::Polygon(p) => {
            out.push_str(r#"{"type":"Polygon","coordinates":"#);
            write_polygon(out, p);
        }
        Geometry::MultiPolygon(mp) => {
            out.push_str(r#"{"type":"MultiPolygon","coordinates":"#);
            write_list(out, mp.0.iter(), write_polygon);
        }
        Geometry::Line(l) => {
            out.push_str(r#"{"type":"LineString","coordinates":"#);
            write_line(out, &LineString(vec![l.start, l.end]));
        }
        Geometry::Rect(r) => {
            out.push_str(r#"{"type":"Polygon","coordinates":"#);
            write_polygon(out, &r.to_polygon());
        }
        Geometry::Triangle(t) => {
            out.push_str(r#"{"type":"Polygon","coordinates":"#);
            write_polygon(out, &t.to_polygon());
        }
        Geometry::GeometryCollection(gc) => {
            out.push_str(r#"{"type":"GeometryCollection","geometries":"#);
            write_list(out, gc.0.iter(), write_geojson);
        }
    }
    out.push('}');
}

fn write_list<'a, T: 'a>(
    out: &mut String,
    items: impl Iterator<Item = &'a T>,
    mut write: impl FnMut(&mut String, &'a T),
) {
    out.push('[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write(out, item);
    }
    out.push(']');
}

fn write_coord(out: &mut String, c: Coord<f64>) {
    // `{}` on f64 prints the shortest text that reads back to the same number.
    let _ = write!(out, "[{},{}]", c.x, c.y);
}

fn write_line(out: &mut String, line: &LineString<f64>) {
    write_list(out, line.0.iter(), |out, c| write_coord(out, *c));
}

fn write_polygon(out: &mut String, polygon: &Polygon<f64>) {
    out.push('[');
    write_line(out, polygon.exterior());
    for hole in polygon.interiors() {
        out.push(',');
        write_line(out, hole);
    }
    out.push(']');
}

/// The bracket syntax a nesting scan follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Brackets {
    /// WKT: parentheses; WKT has no strings.
    Wkt,
    /// JSON: `[` and `{`, outside `"strings"` (with `\` escapes).
    Json,
    /// cql2-text: parentheses outside `'text'` and `"names"` (a doubled quote is a quote).
    Cql2Text,
}

/// Whether brackets in `text` nest deeper than `limit`. One pass, no allocation, and it
/// stops at the first bracket over the limit: run it before any recursive parser sees
/// untrusted text. Unbalanced closing brackets are left for the parser to report.
pub fn nests_deeper_than(text: &str, syntax: Brackets, limit: usize) -> bool {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    for &b in text.as_bytes() {
        if let Some(q) = quote {
            // Inside a string: only its end matters. In JSON a backslash escapes the next
            // byte; in cql2-text a doubled quote closes and reopens, which comes to the same.
            if escaped {
                escaped = false;
            } else if b == b'\\' && syntax == Brackets::Json {
                escaped = true;
            } else if b == q {
                quote = None;
            }
            continue;
        }
        match (syntax, b) {
            (Brackets::Json, b'"') | (Brackets::Cql2Text, b'"' | b'\'') => quote = Some(b),
            (Brackets::Json, b'[' | b'{') | (Brackets::Wkt | Brackets::Cql2Text, b'(') => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            (Brackets::Json, b']' | b'}') | (Brackets::Wkt | Brackets::Cql2Text, b')') => {
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    false
}

/// The message of geometry text nested deeper than [`MAX_GEOMETRY_NESTING`].
fn too_deep(what: &str) -> String {
    format!(
        "the {what} nests brackets more than {MAX_GEOMETRY_NESTING} deep; a polygon needs 3 \
         (WKT) and geometry collections are not supported"
    )
}

/// Refuses geometry text — GeoJSON when it starts with `{`, WKT otherwise, as the query
/// endpoints read it — nested deeper than [`MAX_GEOMETRY_NESTING`], by the linear scan
/// alone: callers can run it before queuing the text for a parser.
pub fn check_text_nesting(text: &str) -> Result<(), String> {
    let (syntax, what) = if text.trim_start().starts_with('{') {
        (Brackets::Json, "GeoJSON")
    } else {
        (Brackets::Wkt, "WKT")
    };
    if nests_deeper_than(text, syntax, MAX_GEOMETRY_NESTING) {
        return Err(too_deep(what));
    }
    Ok(())
}

/// The byte just after the parenthesis that closes the first `(`, if it is closed.
fn outer_parentheses_end(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' if depth == 1 => return Some(i + 1),
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Parses GeoJSON geometry text (a bare geometry, or a Feature whose geometry is taken).
/// Text nested deeper than [`MAX_GEOMETRY_NESTING`] is refused before it is parsed.
pub fn parse_geojson_text(text: &str, max_vertices: usize) -> Result<Geometry<f64>, String> {
    if nests_deeper_than(text, Brackets::Json, MAX_GEOMETRY_NESTING) {
        return Err(too_deep("GeoJSON"));
    }
    let parsed: geojson::GeoJson = text
        .parse()
        .map_err(|e: geojson::Error| format!("not valid GeoJSON: {e}"))?;
    let value = match parsed {
        geojson::GeoJson::Geometry(g) => g.value,
        geojson::GeoJson::Feature(f) => {
            f.geometry
                .ok_or_else(|| "the Feature has no geometry".to_string())?
                .value
        }
        geojson::GeoJson::FeatureCollection(_) => {
            return Err("expected a GeoJSON geometry or Feature, got a FeatureCollection".into())
        }
    };
    from_geojson(&value, max_vertices).map_err(|e| e.to_string())
}

/// Parses WKT text (2D) into a checked geometry: ranges, closed rings, at most
/// `max_vertices` positions. Text nested deeper than [`MAX_GEOMETRY_NESTING`] is refused
/// before the (recursive) WKT parser sees it.
pub fn parse_wkt(text: &str, max_vertices: usize) -> Result<Geometry<f64>, String> {
    use std::str::FromStr;
    if nests_deeper_than(text, Brackets::Wkt, MAX_GEOMETRY_NESTING) {
        return Err(too_deep("WKT"));
    }
    // The wkt crate stops at the end of the geometry and ignores whatever follows.
    if let Some(end) = outer_parentheses_end(text.trim()) {
        let rest = text.trim()[end..].trim();
        if !rest.is_empty() {
            return Err(format!("not valid WKT: {rest:?} follows the geometry"));
        }
    }
    let parsed =
        wkt::Wkt::<f64>::from_str(text.trim()).map_err(|e| format!("not valid WKT: {e}"))?;
    // Converting closes open rings silently; an open ring is an input error, so look first.
    let polygons: Vec<&wkt::types::Polygon<f64>> = match &parsed {
        wkt::Wkt::Polygon(p) => vec![p],
        wkt::Wkt::MultiPolygon(mp) => mp.polygons().iter().collect(),
        _ => vec![],
    };
    for ring in polygons.iter().flat_map(|p| p.rings()) {
        let coords = ring.coords();
        if coords.len() < 4 {
            return Err(GeometryError::ShortRing.to_string());
        }
        let (first, last) = (&coords[0], &coords[coords.len() - 1]);
        if first.x != last.x || first.y != last.y {
            return Err(GeometryError::UnclosedRing.to_string());
        }
    }
    let geometry: Geometry<f64> = parsed
        .try_into()
        .map_err(|e: wkt::conversion::Error| format!("unsupported WKT: {e}"))?;
    check_geometry(&geometry, max_vertices).map_err(|e| e.to_string())?;
    Ok(geometry)
}

/// Checks a geometry built elsewhere as [`from_geojson`] checks its input.
pub fn check_geometry(geometry: &Geometry<f64>, max_vertices: usize) -> Result<(), GeometryError> {
    use geo::CoordsIter;
    if geometry.coords_count() > max_vertices {
        return Err(GeometryError::TooManyVertices {
            limit: max_vertices,
        });
    }
    for c in geometry.coords_iter() {
        check_lon_lat(c.x, c.y)?;
    }
    let rings_ok = |p: &Polygon<f64>| {
        std::iter::once(p.exterior())
            .chain(p.interiors())
            .all(|r| r.0.len() >= 4)
    };
    let ok = match geometry {
        Geometry::Polygon(p) => rings_ok(p),
        Geometry::MultiPolygon(mp) => mp.0.iter().all(rings_ok),
        Geometry::LineString(l) => l.0.len() >= 2,
        Geometry::GeometryCollection(_) => return Err(GeometryError::Collection),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(GeometryError::ShortRing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_number_position_is_refused_not_a_panic() {
        let value: GeometryValue =
            serde_json::from_str(r#"{"type":"Point","coordinates":[1]}"#).unwrap();
        assert_eq!(from_geojson(&value, 10), Err(GeometryError::ShortPosition));
    }

    #[test]
    fn an_unclosed_ring_is_refused() {
        let value: GeometryValue =
            serde_json::from_str(r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}"#)
                .unwrap();
        assert_eq!(from_geojson(&value, 10), Err(GeometryError::UnclosedRing));
    }

    #[test]
    fn the_vertex_budget_counts_every_ring() {
        let value: GeometryValue = serde_json::from_str(
            r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,5]]]]}"#,
        )
        .unwrap();
        assert!(from_geojson(&value, 8).is_ok());
        assert_eq!(
            from_geojson(&value, 7),
            Err(GeometryError::TooManyVertices { limit: 7 })
        );
    }

    #[test]
    fn written_geojson_reads_back_to_the_same_geometry() {
        let text = r#"{"type":"Polygon","coordinates":[[[0.1,0],[10,0],[10,10],[0.1,0]],[[1,1],[2,1],[2,2],[1,1]]]}"#;
        let geometry = parse_geojson_text(text, 100).unwrap();
        let mut out = String::new();
        write_geojson(&mut out, &geometry);
        assert_eq!(out, text);
    }

    fn collection(levels: usize) -> String {
        format!(
            "{}POINT(44 33){}",
            "GEOMETRYCOLLECTION(".repeat(levels),
            ")".repeat(levels)
        )
    }

    #[test]
    fn nesting_is_counted_outside_strings_and_stops_at_the_limit() {
        assert!(!nests_deeper_than("((()))", Brackets::Wkt, 3));
        assert!(nests_deeper_than("(((())))", Brackets::Wkt, 3));
        assert!(!nests_deeper_than(r#"{"a":"[[[[\"[["}"#, Brackets::Json, 1));
        assert!(nests_deeper_than(r#"{"a":[[]]}"#, Brackets::Json, 2));
        assert!(!nests_deeper_than(
            "name = '((((' AND \"((\" = 1",
            Brackets::Cql2Text,
            0
        ));
        assert!(!nests_deeper_than(")))(((", Brackets::Wkt, 3));
        assert!(nests_deeper_than(
            &"(".repeat(10_000_000),
            Brackets::Wkt,
            16
        ));
    }

    #[test]
    fn wkt_nested_past_the_limit_is_refused_before_parsing() {
        assert_eq!(MAX_GEOMETRY_NESTING, 16);
        // The crash input: 1,600 collections deep overflowed the stack in the wkt crate.
        let message = parse_wkt(&collection(1_600), 100).unwrap_err();
        assert!(message.contains("more than 16 deep"), "{message}");
        assert!(parse_wkt(&collection(16), 100)
            .unwrap_err()
            .contains("more than 16 deep"));
        // 15 collections and the point's parentheses: 16 deep, parsed, then refused.
        assert!(parse_wkt(&collection(15), 100)
            .unwrap_err()
            .contains("not supported"));
        assert!(parse_wkt("MULTIPOLYGON(((40 30, 41 30, 41 31, 40 30)))", 100).is_ok());
    }

    #[test]
    fn text_after_a_wkt_geometry_is_refused() {
        assert!(parse_wkt("  POINT(44 33)  ", 100).is_ok());
        for text in [
            "POINT(44 33) POINT(1 1)",
            "POINT(44 33))",
            "POINT(44 33);drop",
        ] {
            let message = parse_wkt(text, 100).unwrap_err();
            assert!(
                message.contains("follows the geometry"),
                "{text}: {message}"
            );
        }
    }

    #[test]
    fn geojson_nested_past_the_limit_is_refused_before_parsing() {
        let mut deep = r#"{"type":"Point","coordinates":[44,33]}"#.to_string();
        for _ in 0..1_600 {
            deep = format!(r#"{{"type":"GeometryCollection","geometries":[{deep}]}}"#);
        }
        let message = parse_geojson_text(&deep, 100).unwrap_err();
        assert!(message.contains("more than 16 deep"), "{message}");
        let array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_geojson_text(&array, 100)
            .unwrap_err()
            .contains("more than 16 deep"));
        let feature = r#"{"type":"Feature","properties":{},"geometry":{"type":"MultiPolygon","coordinates":[[[[40,30],[41,30],[41,31],[40,30]]]]}}"#;
        assert!(parse_geojson_text(feature, 100).is_ok());
    }
}

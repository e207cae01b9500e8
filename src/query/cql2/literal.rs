//! Literals both encodings share: positions (lon, lat; a third number, the height, is read
//! and ignored), the vertex budget of a filter, `BBOX` boxes, GeoJSON geometries (cql2-json,
//! and object-valued properties), and folding text for `ACCENTI`. The text encoding's WKT
//! grammar is in `text.rs`; it builds its geometries with [`Budget::coord`] too.

use geo::{
    Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon,
    Point, Polygon,
};
use serde_json::Value as Json;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::config::MAX_GEOMETRY_NESTING;
use crate::query::bbox::Bbox;

use super::Fault;

/// Text without diacritics (canonical decomposition, combining marks dropped).
pub fn fold_accents(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .nfc()
        .collect()
}

/// The vertices a filter's geometry literals may still use, and whether positions must be
/// WGS84 longitudes and latitudes.
pub struct Budget {
    /// Vertices left.
    pub left: usize,
    /// The limit, for messages.
    pub max: usize,
    /// Refuse longitudes outside -180..180 and latitudes outside -90..90.
    pub check_range: bool,
}

impl Budget {
    /// Takes `n` vertices.
    pub fn take(&mut self, n: usize) -> Result<(), Fault> {
        if n > self.left {
            return Err(Fault::TooLarge(format!(
                "the geometries of a filter may have at most {} vertices in all",
                self.max
            )));
        }
        self.left -= n;
        Ok(())
    }

    /// A checked, counted position.
    pub fn coord(&mut self, lon: f64, lat: f64) -> Result<Coord<f64>, Fault> {
        self.take(1)?;
        if self.check_range {
            crate::geometry::check_lon_lat(lon, lat).map_err(|e| Fault::bad(e.to_string()))?;
        } else if !lon.is_finite() || !lat.is_finite() {
            return Err(Fault::bad("coordinate is not a finite number"));
        }
        Ok(Coord { x: lon, y: lat })
    }
}

/// A `BBOX(w, s, e, n)` (or 6 numbers with heights, ignored) as a polygon, or two across
/// the antimeridian.
pub fn bbox_geometry(numbers: &[f64], budget: &Budget) -> Result<Geometry<f64>, Fault> {
    let (w, s, e, n) = match numbers {
        [w, s, e, n] | [w, s, _, e, n, _] => (*w, *s, *e, *n),
        _ => {
            return Err(Fault::bad(format!(
                "a bbox needs 4 numbers (west, south, east, north), got {}",
                numbers.len()
            )))
        }
    };
    if !budget.check_range {
        if [w, s, e, n].iter().any(|v| !v.is_finite()) {
            return Err(Fault::bad("the bbox has a number that is not finite"));
        }
        return Ok(Geometry::Polygon(
            geo::Rect::new(Coord { x: w, y: s }, Coord { x: e, y: n }).to_polygon(),
        ));
    }
    let bbox = Bbox::new(w, s, e, n).map_err(Fault::bad)?;
    let mut polygons: Vec<Polygon<f64>> = bbox.rects().iter().map(|r| r.to_polygon()).collect();
    Ok(if polygons.len() == 1 {
        Geometry::Polygon(polygons.remove(0))
    } else {
        Geometry::MultiPolygon(MultiPolygon(polygons))
    })
}

/// A closed ring of at least 4 positions.
pub fn check_ring(coords: &[Coord<f64>]) -> Result<(), Fault> {
    if coords.len() < 4 {
        return Err(Fault::bad("a polygon ring needs at least 4 positions"));
    }
    if coords.first() != coords.last() {
        return Err(Fault::bad(
            "the polygon ring is not closed (its first and last positions differ)",
        ));
    }
    Ok(())
}

/// A GeoJSON geometry object; positions may carry a height (ignored).
pub fn geojson_geometry(
    value: &Json,
    max_vertices: usize,
    check_range: bool,
) -> Result<Geometry<f64>, Fault> {
    let mut budget = Budget {
        left: max_vertices,
        max: max_vertices,
        check_range,
    };
    geojson_with(value, &mut budget, 0)
}

/// [`geojson_geometry`] drawing on a filter's budget.
pub fn geojson_in(value: &Json, budget: &mut Budget) -> Result<Geometry<f64>, Fault> {
    geojson_with(value, budget, 0)
}

fn geojson_with(value: &Json, budget: &mut Budget, depth: usize) -> Result<Geometry<f64>, Fault> {
    if depth > MAX_GEOMETRY_NESTING {
        return Err(Fault::bad(format!(
            "the geometry nests more than {MAX_GEOMETRY_NESTING} levels deep"
        )));
    }
    let kind = value
        .get("type")
        .and_then(Json::as_str)
        .ok_or_else(|| Fault::bad("a GeoJSON geometry needs a \"type\""))?;
    if kind == "GeometryCollection" {
        let parts = value
            .get("geometries")
            .and_then(Json::as_array)
            .ok_or_else(|| Fault::bad("a GeometryCollection needs \"geometries\""))?;
        let parts = parts
            .iter()
            .map(|g| geojson_with(g, budget, depth + 1))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Geometry::GeometryCollection(GeometryCollection(parts)));
    }
    let c = value
        .get("coordinates")
        .ok_or_else(|| Fault::bad(format!("the {kind} needs \"coordinates\"")))?;
    Ok(match kind {
        "Point" => Geometry::Point(Point(position(c, budget)?)),
        "LineString" => Geometry::LineString(line(c, budget)?),
        "Polygon" => Geometry::Polygon(polygon(c, budget)?),
        "MultiPoint" => Geometry::MultiPoint(MultiPoint(
            items(c)?
                .iter()
                .map(|p| position(p, budget).map(Point))
                .collect::<Result<_, _>>()?,
        )),
        "MultiLineString" => Geometry::MultiLineString(MultiLineString(
            items(c)?
                .iter()
                .map(|l| line(l, budget))
                .collect::<Result<_, _>>()?,
        )),
        "MultiPolygon" => Geometry::MultiPolygon(MultiPolygon(
            items(c)?
                .iter()
                .map(|p| polygon(p, budget))
                .collect::<Result<_, _>>()?,
        )),
        other => {
            return Err(Fault::bad(format!(
                "{other:?} is not a GeoJSON geometry type"
            )))
        }
    })
}

fn items(value: &Json) -> Result<&Vec<Json>, Fault> {
    value
        .as_array()
        .ok_or_else(|| Fault::bad("expected an array of coordinates"))
}

fn position(value: &Json, budget: &mut Budget) -> Result<Coord<f64>, Fault> {
    let numbers = items(value)?;
    let n: Vec<f64> = numbers.iter().filter_map(Json::as_f64).collect();
    if n.len() != numbers.len() || !(2..=3).contains(&n.len()) {
        return Err(Fault::bad(
            "a position is 2 numbers (longitude, latitude), or 3 with a height",
        ));
    }
    budget.coord(n[0], n[1])
}

fn line(value: &Json, budget: &mut Budget) -> Result<LineString<f64>, Fault> {
    let coords = items(value)?
        .iter()
        .map(|p| position(p, budget))
        .collect::<Result<Vec<_>, _>>()?;
    if coords.len() < 2 {
        return Err(Fault::bad("a line string needs at least 2 positions"));
    }
    Ok(LineString(coords))
}

fn polygon(value: &Json, budget: &mut Budget) -> Result<Polygon<f64>, Fault> {
    let mut rings = Vec::new();
    for ring in items(value)? {
        let coords = items(ring)?
            .iter()
            .map(|p| position(p, budget))
            .collect::<Result<Vec<_>, _>>()?;
        check_ring(&coords)?;
        rings.push(LineString(coords));
    }
    if rings.is_empty() {
        return Err(Fault::bad("a polygon needs at least one ring"));
    }
    let exterior = rings.remove(0);
    Ok(Polygon::new(exterior, rings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_fold_to_their_base_letters() {
        assert_eq!(fold_accents("débárquér"), "debarquer");
        assert_eq!(fold_accents("äöüéáí"), "aoueai");
        assert_eq!(fold_accents("Straße"), "Straße");
    }
}

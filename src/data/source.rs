//! What every geometry reader produces: features with a position in their file, an id if
//! the file gave one, a checked WGS84 geometry and their raw properties; and what the load
//! report calls such a feature.

use geo::Geometry;
use serde_json::{Map, Value};

/// A feature as read from a geometry source, before ids are chosen and counts joined.
#[derive(Debug, Clone)]
pub struct SourceFeature {
    /// 1-based position in the file (for a table, the spreadsheet row number).
    pub row: usize,
    /// The file's own feature id (GeoJSON `id`), if any.
    pub native_id: Option<String>,
    /// Lon/lat geometry, already checked for range and finiteness.
    pub geometry: Geometry<f64>,
    /// All properties of the feature.
    pub properties: Map<String, Value>,
}

impl SourceFeature {
    /// Whether the feature's envelope meets `bbox` (what a source's `bbox` keeps).
    pub fn meets(&self, bbox: geo::Rect<f64>) -> bool {
        use geo::{BoundingRect, Intersects};
        self.geometry
            .bounding_rect()
            .is_some_and(|envelope| envelope.intersects(&bbox))
    }
}

/// A property value as the text used for ids and join keys.
pub fn key_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty()).then(|| t.to_string())
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

/// What one feature of a layer is called in the load report: a site, an area, or a place
/// (lines, or a mix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Noun {
    /// Every feature is a point.
    Site,
    /// Every feature is a polygon.
    Area,
    /// Anything else.
    Place,
}

impl Noun {
    /// The noun for a layer of these features.
    pub fn of(features: &[SourceFeature]) -> Noun {
        let all = |f: fn(&Geometry<f64>) -> bool| features.iter().all(|s| f(&s.geometry));
        if features.is_empty() {
            Noun::Place
        } else if all(|g| matches!(g, Geometry::Point(_) | Geometry::MultiPoint(_))) {
            Noun::Site
        } else if all(|g| matches!(g, Geometry::Polygon(_) | Geometry::MultiPolygon(_))) {
            Noun::Area
        } else {
            Noun::Place
        }
    }

    /// "site", "area" or "place".
    pub fn one(self) -> &'static str {
        match self {
            Noun::Site => "site",
            Noun::Area => "area",
            Noun::Place => "place",
        }
    }
}

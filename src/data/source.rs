//! What every geometry reader produces: features with a position in their file, an id if
//! the file gave one, a checked WGS84 geometry and their raw properties.

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

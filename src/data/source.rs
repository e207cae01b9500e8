//! What every geometry reader produces: features with a position in their file, an id if
//! the file gave one, a checked WGS84 geometry and their raw properties; and what the load
//! report calls such a feature.

use std::sync::Arc;

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
    pub properties: SourceProperties,
}

/// A source feature's properties: a JSON object (GeoJSON, FlatGeobuf), or one row of a
/// table whose rows share its column names. A map per row cost a tree node and a copy of
/// every name for each of a million sites, more than the rest of the load together.
#[derive(Debug, Clone)]
pub enum SourceProperties {
    /// Named values.
    Object(Map<String, Value>),
    /// A table row: `values[i]` is the value of `names.names[i]`.
    Row {
        /// The table's column names.
        names: Arc<RowNames>,
        /// The row's values, in the order of `names`.
        values: Vec<Value>,
    },
}

/// The property names of a table's rows, sorted (as a JSON object's keys are), each with
/// the column it is read from; where two columns have one name, the later one's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowNames {
    names: Vec<String>,
    columns: Vec<usize>,
}

impl RowNames {
    /// The names of columns `(position, name)`, later positions winning a repeated name.
    pub fn new<'a>(columns: impl IntoIterator<Item = (usize, &'a str)>) -> RowNames {
        let mut named: Vec<(&str, usize)> = columns.into_iter().map(|(i, n)| (n, i)).collect();
        named.sort_by(|a, b| a.0.cmp(b.0).then(b.1.cmp(&a.1)));
        named.dedup_by(|later, earlier| later.0 == earlier.0);
        RowNames {
            names: named.iter().map(|(n, _)| n.to_string()).collect(),
            columns: named.iter().map(|&(_, c)| c).collect(),
        }
    }

    /// The column each value of a row is read from, in the order of the names.
    pub fn columns(&self) -> &[usize] {
        &self.columns
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.names.binary_search_by(|n| n.as_str().cmp(name)).ok()
    }
}

impl Default for SourceProperties {
    fn default() -> Self {
        SourceProperties::Object(Map::new())
    }
}

impl From<Map<String, Value>> for SourceProperties {
    fn from(map: Map<String, Value>) -> Self {
        SourceProperties::Object(map)
    }
}

impl SourceProperties {
    /// The value of a property.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            SourceProperties::Object(map) => map.get(name),
            SourceProperties::Row { names, values } => values.get(names.position(name)?),
        }
    }

    /// Whether the feature has a property of this name.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The property names, sorted.
    pub fn keys(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        match self {
            SourceProperties::Object(map) => Box::new(map.keys().map(String::as_str)),
            SourceProperties::Row { names, .. } => Box::new(names.names.iter().map(String::as_str)),
        }
    }

    /// Takes a property's value out; a row keeps the name, with null in its place.
    pub fn take(&mut self, name: &str) -> Option<Value> {
        match self {
            SourceProperties::Object(map) => map.remove(name),
            SourceProperties::Row { names, values } => {
                let at = names.position(name)?;
                values.get_mut(at).map(std::mem::take)
            }
        }
    }
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

pub use crate::model::key_text;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_reads_as_the_object_of_its_names_would() {
        let header = ["code", "", "name", "lat", "code", "zone"];
        let names = Arc::new(RowNames::new(
            header
                .iter()
                .enumerate()
                .filter(|(i, n)| *i != 3 && !n.is_empty())
                .map(|(i, n)| (i, *n)),
        ));
        let cells = ["A1", "x", "Alpha", "33.1", "A2", "north"];
        let values: Vec<Value> = names.columns().iter().map(|&c| cells[c].into()).collect();
        let mut row = SourceProperties::Row { names, values };
        let mut object = Map::new();
        for (i, name) in header.iter().enumerate() {
            if i != 3 && !name.is_empty() {
                object.insert(name.to_string(), cells[i].into());
            }
        }
        let mut object = SourceProperties::from(object);
        assert_eq!(
            row.keys().collect::<Vec<_>>(),
            object.keys().collect::<Vec<_>>()
        );
        assert_eq!(row.keys().collect::<Vec<_>>(), ["code", "name", "zone"]);
        for name in ["code", "name", "zone", "lat", "", "other"] {
            assert_eq!(row.get(name), object.get(name), "{name}");
            assert_eq!(row.contains_key(name), object.contains_key(name), "{name}");
        }
        assert_eq!(row.get("code"), Some(&Value::from("A2")));
        assert_eq!(row.take("name"), Some(Value::from("Alpha")));
        assert_eq!(object.take("name"), Some(Value::from("Alpha")));
        assert_eq!(row.take("missing"), None);
    }
}

//! What every geometry reader produces: features with a position in their file, an id if
//! the file gave one, a checked WGS84 geometry and their raw properties; and what the load
//! report calls such a feature.

use std::sync::Arc;

use geo::Geometry;
use serde_json::{Map, Value};

use crate::model::FieldValue;

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
/// every name for each of a million sites, more than the rest of the load together; a
/// JSON value per cell, an allocation per cell.
#[derive(Debug, Clone)]
pub enum SourceProperties {
    /// Named values.
    Object(Map<String, Value>),
    /// A table row with typed cells (a workbook's): `values[i]` is the value of
    /// `names.names[i]`.
    Row {
        /// The table's column names.
        names: Arc<RowNames>,
        /// The row's values, in the order of `names`.
        values: Vec<Value>,
    },
    /// A table row of text (a CSV file's), in one allocation rather than one per cell.
    TextRow {
        /// The table's column names.
        names: Arc<RowNames>,
        /// The cells' texts, trimmed, one after the other, in the order of `names`.
        text: Box<str>,
        /// Where each cell's text ends; an empty cell is null.
        ends: Box<[u32]>,
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

/// What an empty cell of a text row reads as.
static NULL: Value = Value::Null;

impl SourceProperties {
    /// A row of text cells in the order of `names` (`None` for an empty one); a row of
    /// more than 4 GiB of text keeps a JSON value per cell instead.
    pub fn text_row<'a>(
        names: Arc<RowNames>,
        cells: impl Iterator<Item = Option<&'a str>> + Clone,
    ) -> SourceProperties {
        let length: usize = cells.clone().map(|cell| cell.map_or(0, str::len)).sum();
        if u32::try_from(length).is_err() {
            let values = cells
                .map(|cell| cell.map_or(Value::Null, Value::from))
                .collect();
            return SourceProperties::Row { names, values };
        }
        let mut text = String::with_capacity(length);
        let mut ends = Vec::with_capacity(names.names.len());
        for cell in cells {
            text.push_str(cell.unwrap_or_default());
            ends.push(text.len() as u32);
        }
        SourceProperties::TextRow {
            names,
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
        }
    }

    /// The value of a property.
    pub fn get(&self, name: &str) -> Option<FieldValue<'_>> {
        match self {
            SourceProperties::Object(map) => map.get(name).map(FieldValue::Json),
            SourceProperties::Row { names, values } => {
                values.get(names.position(name)?).map(FieldValue::Json)
            }
            SourceProperties::TextRow { names, text, ends } => {
                let at = names.position(name)?;
                let end = *ends.get(at)? as usize;
                let start = at.checked_sub(1).map_or(0, |before| ends[before] as usize);
                match text.get(start..end)? {
                    "" => Some(FieldValue::Json(&NULL)),
                    cell => Some(FieldValue::Text(cell)),
                }
            }
        }
    }

    /// The column names of a table row (shared by every row of its table).
    pub fn row_names(&self) -> Option<&Arc<RowNames>> {
        match self {
            SourceProperties::Object(_) => None,
            SourceProperties::Row { names, .. } | SourceProperties::TextRow { names, .. } => {
                Some(names)
            }
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
            SourceProperties::Row { names, .. } | SourceProperties::TextRow { names, .. } => {
                Box::new(names.names.iter().map(String::as_str))
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
    fn rows_read_as_the_object_of_their_names_would() {
        let header = ["code", "", "name", "lat", "code", "zone", "note"];
        let names = Arc::new(RowNames::new(
            header
                .iter()
                .enumerate()
                .filter(|(i, n)| *i != 3 && !n.is_empty())
                .map(|(i, n)| (i, *n)),
        ));
        let cells = ["A1", "x", "Alpha", "33.1", "A2", "شمال", ""];
        let json = |cell: &str| match cell {
            "" => Value::Null,
            text => Value::from(text),
        };
        let values: Vec<Value> = names.columns().iter().map(|&c| json(cells[c])).collect();
        let row = SourceProperties::Row {
            names: names.clone(),
            values,
        };
        let texts = names
            .columns()
            .iter()
            .map(|&c| Some(cells[c]).filter(|t| !t.is_empty()));
        let text_row = SourceProperties::text_row(names.clone(), texts);
        assert!(matches!(text_row, SourceProperties::TextRow { .. }));
        let mut object = Map::new();
        for (i, name) in header.iter().enumerate() {
            if i != 3 && !name.is_empty() {
                object.insert(name.to_string(), json(cells[i]));
            }
        }
        let object = SourceProperties::from(object);
        for properties in [&row, &text_row] {
            assert_eq!(
                properties.keys().collect::<Vec<_>>(),
                object.keys().collect::<Vec<_>>()
            );
            for name in ["code", "name", "zone", "note", "lat", "", "other"] {
                assert_eq!(properties.get(name), object.get(name), "{name}");
                assert_eq!(
                    properties.contains_key(name),
                    object.contains_key(name),
                    "{name}"
                );
            }
            assert!(Arc::ptr_eq(properties.row_names().unwrap(), &names));
        }
        assert_eq!(
            row.keys().collect::<Vec<_>>(),
            ["code", "name", "note", "zone"]
        );
        assert_eq!(text_row.get("code"), Some(FieldValue::Text("A2")));
        assert_eq!(text_row.get("zone"), Some(FieldValue::Text("شمال")));
        assert!(text_row.get("note").is_some_and(FieldValue::is_null));
        assert!(object.row_names().is_none());
    }
}

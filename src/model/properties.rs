//! The published properties of a layer's features, stored once per layer: the field names
//! once, and each field as a column of codes into its distinct values. A million sites
//! naming a few thousand areas hold each area code once; a feature keeps only its row.

use std::collections::HashMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

/// A layer's properties: every feature's value of every published field.
#[derive(Debug, Default)]
pub struct PropertyTable {
    fields: Vec<String>,
    /// Field position by name, for layers with many fields.
    positions: HashMap<String, usize>,
    columns: Vec<Column>,
}

/// One field: its distinct values, and each row's position among them.
#[derive(Debug, Default)]
struct Column {
    distinct: Vec<Value>,
    rows: Vec<u32>,
}

/// Fields with fewer names than this are found by comparing names in order.
const LINEAR_LOOKUP: usize = 8;

impl PropertyTable {
    /// The published field names, in order.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// The position of a field.
    pub fn position(&self, name: &str) -> Option<usize> {
        if self.fields.len() < LINEAR_LOOKUP {
            self.fields.iter().position(|f| f == name)
        } else {
            self.positions.get(name).copied()
        }
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.rows.len())
    }

    /// A field's distinct values, and each row's position among them.
    pub fn column(&self, field: &str) -> Option<(&[Value], &[u32])> {
        let column = self.columns.get(self.position(field)?)?;
        Some((&column.distinct, &column.rows))
    }

    fn value(&self, field: usize, row: u32) -> Option<&Value> {
        let column = self.columns.get(field)?;
        column
            .distinct
            .get(*column.rows.get(row as usize)? as usize)
    }
}

/// Builds a [`PropertyTable`] row by row.
#[derive(Debug)]
pub struct PropertyTableBuilder {
    table: PropertyTable,
    /// Per field, where its distinct values are in `distinct`.
    seen: Vec<Seen>,
    rows: u32,
}

impl PropertyTableBuilder {
    /// A table of these fields, with no rows yet.
    pub fn new(fields: &[String]) -> PropertyTableBuilder {
        let positions = if fields.len() < LINEAR_LOOKUP {
            HashMap::new()
        } else {
            fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.clone(), i))
                .collect()
        };
        PropertyTableBuilder {
            table: PropertyTable {
                fields: fields.to_vec(),
                positions,
                columns: fields.iter().map(|_| Column::default()).collect(),
            },
            seen: fields.iter().map(|_| Seen::default()).collect(),
            rows: 0,
        }
    }

    /// Adds a row: `value(field)` gives each field's value (null when missing); returns
    /// the row's position.
    pub fn push(&mut self, mut value: impl FnMut(&str) -> Option<Value>) -> u32 {
        let row = self.rows;
        self.rows += 1;
        if row == SAMPLE_ROWS {
            for seen in &mut self.seen {
                if seen.text.len() as u32 > SAMPLE_ROWS / 2 {
                    seen.all_distinct = true;
                    seen.text = FxHashMap::default();
                }
            }
        }
        let fields = &self.table.fields;
        for ((column, seen), field) in self
            .table
            .columns
            .iter_mut()
            .zip(&mut self.seen)
            .zip(fields)
        {
            let value = value(field).unwrap_or(Value::Null);
            let next = column.distinct.len() as u32;
            let at = match value {
                Value::String(text) if seen.all_distinct => {
                    column.distinct.push(Value::String(text));
                    next
                }
                Value::String(text) => match seen.text.get(text.as_str()) {
                    Some(&at) => at,
                    None => {
                        seen.text.insert(text.as_str().into(), next);
                        column.distinct.push(Value::String(text));
                        next
                    }
                },
                Value::Null => *seen.null.get_or_insert_with(|| {
                    column.distinct.push(Value::Null);
                    next
                }),
                other => {
                    column.distinct.push(other);
                    next
                }
            };
            column.rows.push(at);
        }
        row
    }

    /// The finished table.
    pub fn finish(mut self) -> Arc<PropertyTable> {
        for column in &mut self.table.columns {
            column.distinct.shrink_to_fit();
            column.rows.shrink_to_fit();
        }
        Arc::new(self.table)
    }
}

/// Where a column's null and each distinct text are among its distinct values.
#[derive(Debug, Default)]
struct Seen {
    null: Option<u32>,
    text: FxHashMap<Box<str>, u32>,
    /// A column of mostly distinct texts (names, ids) is not looked up: each row keeps
    /// its own.
    all_distinct: bool,
}

/// After this many rows, a column with more distinct texts than half of them stops being
/// looked up.
const SAMPLE_ROWS: u32 = 4096;

/// One feature's properties: its row of its layer's [`PropertyTable`].
#[derive(Debug, Clone)]
pub struct Properties {
    table: Arc<PropertyTable>,
    row: u32,
}

impl Properties {
    /// The properties of `row` of `table`.
    pub fn new(table: Arc<PropertyTable>, row: u32) -> Properties {
        Properties { table, row }
    }

    /// The table the row is of.
    pub fn table(&self) -> &Arc<PropertyTable> {
        &self.table
    }

    /// The row.
    pub fn row(&self) -> u32 {
        self.row
    }

    /// The value of a published field (null where the feature has none); `None` for a
    /// field that is not published.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.table.value(self.table.position(name)?, self.row)
    }

    /// Whether `name` is a published field.
    pub fn contains_key(&self, name: &str) -> bool {
        self.table.position(name).is_some()
    }

    /// The field names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> + '_ {
        self.table.fields.iter()
    }

    /// Every field with its value, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> + '_ {
        self.table
            .fields
            .iter()
            .enumerate()
            .filter_map(|(i, f)| Some((f, self.table.value(i, self.row)?)))
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.table.fields.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.table.fields.is_empty()
    }

    /// The properties as a JSON object.
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

impl std::ops::Index<&str> for Properties {
    type Output = Value;

    /// The value of a field; null for a field that is not published (as JSON indexing).
    fn index(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.get(name).unwrap_or(&NULL)
    }
}

impl serde::Serialize for Properties {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_column_of_distinct_texts_reads_back_past_the_sample() {
        let fields = vec!["name".to_string(), "area".to_string()];
        let mut builder = PropertyTableBuilder::new(&fields);
        let n = SAMPLE_ROWS * 3;
        for i in 0..n {
            builder.push(|f| match f {
                "name" => Some(json!(format!("site {i}"))),
                _ => Some(json!(format!("area {}", i % 7))),
            });
        }
        let table = builder.finish();
        assert_eq!(table.columns[1].distinct.len(), 7);
        for i in [0, SAMPLE_ROWS - 1, SAMPLE_ROWS, n - 1] {
            let properties = Properties::new(table.clone(), i);
            assert_eq!(properties["name"], json!(format!("site {i}")));
            assert_eq!(properties["area"], json!(format!("area {}", i % 7)));
        }
    }

    #[test]
    fn rows_read_back_in_field_order_with_shared_values_stored_once() {
        for width in [3, LINEAR_LOOKUP + 2] {
            let fields: Vec<String> = (0..width).map(|i| format!("f{i}")).collect();
            let mut builder = PropertyTableBuilder::new(&fields);
            let rows = [
                json!({"f0": "Ninewa", "f1": 3, "f2": null}),
                json!({"f0": "Ninewa", "f1": 3.5, "f2": [1, 2]}),
                json!({"f0": "نينوى", "f2": "x"}),
            ];
            let tables: Vec<u32> = rows
                .iter()
                .map(|row| builder.push(|f| row.get(f).cloned()))
                .collect();
            let table = builder.finish();
            assert_eq!(table.rows(), 3);
            assert_eq!(table.columns[0].distinct.len(), 2, "Ninewa once");
            for (row, expected) in tables.iter().zip(&rows) {
                let properties = Properties::new(table.clone(), *row);
                assert_eq!(properties.len(), width);
                for field in &fields {
                    let want = expected.get(field).cloned().unwrap_or(Value::Null);
                    assert_eq!(properties.get(field), Some(&want), "{field}");
                }
                assert_eq!(properties.get("nope"), None);
                assert!(!properties.contains_key("nope") && properties.contains_key("f1"));
                let keys: Vec<&String> = properties.keys().collect();
                assert_eq!(keys, fields.iter().collect::<Vec<_>>());
                let text = serde_json::to_string(&properties).unwrap();
                assert!(text.starts_with("{\"f0\":"), "{text}");
            }
        }
    }
}

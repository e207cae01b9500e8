//! The published properties of a layer's features, stored once per layer: the field names
//! once, and each field as a column of codes into its distinct values. A million sites
//! naming a few thousand areas hold each area code once; a feature keeps only its row.
//! A column of texts that are almost all distinct (ids, names) keeps them in one string
//! (a JSON string value and its allocation took 40 to 60 bytes a site, the text itself
//! 8 to 20), which is why a value is read as a [`FieldValue`], not a `&Value`.

use std::borrow::Cow;
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

/// One field: its distinct values, and each row's code: a position among them, or with
/// [`IN_TEXTS`] set, a position in `texts`.
#[derive(Debug, Default)]
struct Column {
    distinct: Vec<Value>,
    texts: Texts,
    rows: Codes,
}

/// Each row's code, in the least room that holds them: a million sites' codes took 4 MB a
/// field, 2 MB as `u16`s (a field of a few thousand areas), none where each row has a
/// value of its own in order (ids, names).
#[derive(Debug)]
enum Codes {
    Wide(Vec<u32>),
    Narrow(Vec<u16>),
    /// Row `i` has code `i` for `i < distinct`, then the text `i - distinct`.
    Counting {
        rows: u32,
        distinct: u32,
    },
}

impl Default for Codes {
    fn default() -> Self {
        Codes::Wide(Vec::new())
    }
}

/// The code of `row` in [`Codes::Counting`]: `row` for the first `distinct` rows, then
/// the text `row - distinct`.
fn counting_code(row: u32, distinct: u32) -> u32 {
    if row < distinct {
        row
    } else {
        (row - distinct) | IN_TEXTS
    }
}

impl Codes {
    /// `codes` as compactly as they go, for a column of `distinct` distinct values.
    fn compact(mut codes: Vec<u32>, distinct: usize) -> Codes {
        // A table has at most 2^32 rows and codes (the builder counts them in `u32`).
        let (rows, distinct) = (codes.len() as u32, distinct as u32);
        if (0..rows)
            .zip(&codes)
            .all(|(row, &code)| code == counting_code(row, distinct))
        {
            return Codes::Counting { rows, distinct };
        }
        if codes.iter().all(|&code| code <= u32::from(u16::MAX)) {
            return Codes::Narrow(codes.iter().map(|&code| code as u16).collect());
        }
        codes.shrink_to_fit();
        Codes::Wide(codes)
    }

    fn get(&self, row: usize) -> Option<u32> {
        match self {
            Codes::Wide(codes) => codes.get(row).copied(),
            Codes::Narrow(codes) => codes.get(row).map(|&code| u32::from(code)),
            Codes::Counting { rows, distinct } => {
                let row = u32::try_from(row).ok().filter(|row| row < rows)?;
                Some(counting_code(row, *distinct))
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Codes::Wide(codes) => codes.len(),
            Codes::Narrow(codes) => codes.len(),
            Codes::Counting { rows, .. } => *rows as usize,
        }
    }
}

/// Marks a row's code as a position in its column's [`Texts`].
const IN_TEXTS: u32 = 1 << 31;

/// Texts one after the other in one string, each ending where `ends` says.
#[derive(Debug, Default)]
struct Texts {
    text: String,
    ends: Vec<u32>,
}

impl Texts {
    /// Adds a text; `None` when the column has no room left (4 GiB of text, or 2^31 texts).
    fn push(&mut self, text: &str) -> Option<u32> {
        let end = u32::try_from(self.text.len() + text.len()).ok()?;
        let at = u32::try_from(self.ends.len())
            .ok()
            .filter(|&at| at < IN_TEXTS)?;
        self.text.push_str(text);
        self.ends.push(end);
        Some(at)
    }

    fn get(&self, at: usize) -> Option<&str> {
        let end = *self.ends.get(at)? as usize;
        let start = if at == 0 {
            0
        } else {
            self.ends[at - 1] as usize
        };
        self.text.get(start..end)
    }
}

impl Column {
    fn value(&self, code: u32) -> Option<FieldValue<'_>> {
        if code & IN_TEXTS != 0 {
            self.texts
                .get((code & !IN_TEXTS) as usize)
                .map(FieldValue::Text)
        } else {
            self.distinct.get(code as usize).map(FieldValue::Json)
        }
    }
}

/// A property value read from a [`PropertyTable`]: a JSON value, or text kept in a column
/// of distinct texts (a JSON string either way to a client).
#[derive(Debug, Clone, Copy)]
pub enum FieldValue<'a> {
    /// A JSON value.
    Json(&'a Value),
    /// Text.
    Text(&'a str),
}

impl<'a> FieldValue<'a> {
    /// The text of a string value.
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            FieldValue::Text(text) => Some(text),
            FieldValue::Json(value) => value.as_str(),
        }
    }

    /// Whether it is null.
    pub fn is_null(self) -> bool {
        matches!(self, FieldValue::Json(Value::Null))
    }

    /// The value as JSON, borrowed where it is kept as JSON.
    pub fn json(self) -> Cow<'a, Value> {
        match self {
            FieldValue::Json(value) => Cow::Borrowed(value),
            FieldValue::Text(text) => Cow::Owned(Value::String(text.to_string())),
        }
    }

    /// The value as JSON.
    pub fn to_value(self) -> Value {
        self.json().into_owned()
    }

    /// The value as the text of an id or join key: trimmed, `None` when null or empty.
    pub fn key_text(self) -> Option<String> {
        match self {
            FieldValue::Text(text) => trimmed_key(text),
            FieldValue::Json(value) => key_text(value),
        }
    }

    /// [`FieldValue::key_text`] as a feature's id, kept inline when short (no allocation
    /// for most ids).
    pub fn key_id(self) -> Option<compact_str::CompactString> {
        match self.as_str() {
            Some(text) => trimmed(text).map(compact_str::CompactString::new),
            None => self.key_text().map(Into::into),
        }
    }
}

/// A JSON value as the text used for ids and join keys: trimmed, `None` when null or empty.
pub fn key_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => trimmed_key(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

/// Text as a key: trimmed, `None` when nothing is left.
fn trimmed_key(text: &str) -> Option<String> {
    trimmed(text).map(str::to_string)
}

/// Text trimmed, `None` when nothing is left.
fn trimmed(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

impl PartialEq for FieldValue<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self.as_str(), other.as_str()) {
            (Some(a), Some(b)) => a == b,
            _ => self.json() == other.json(),
        }
    }
}

impl PartialEq<Value> for FieldValue<'_> {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (FieldValue::Text(text), Value::String(s)) => text == s,
            (FieldValue::Text(_), _) => false,
            (FieldValue::Json(value), other) => *value == other,
        }
    }
}

impl serde::Serialize for FieldValue<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Json(value) => value.serialize(serializer),
            FieldValue::Text(text) => serializer.serialize_str(text),
        }
    }
}

impl std::fmt::Display for FieldValue<'_> {
    /// The value as JSON text.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldValue::Json(value) => write!(f, "{value}"),
            FieldValue::Text(text) => write!(f, "{}", Value::from(*text)),
        }
    }
}

/// A field's values as [`PropertyTable::column`] gives them.
#[derive(Debug, Clone, Copy)]
pub struct ColumnView<'a> {
    column: &'a Column,
}

impl<'a> ColumnView<'a> {
    /// The code of a row.
    pub fn code(self, row: u32) -> Option<u32> {
        self.column.rows.get(row as usize)
    }

    /// The value a code stands for.
    pub fn value(self, code: u32) -> Option<FieldValue<'a>> {
        self.column.value(code)
    }

    /// Every distinct code there is (a column of distinct texts: one per row that has one).
    pub fn distinct_codes(self) -> impl Iterator<Item = u32> + 'a {
        let texts = self.column.texts.ends.len() as u32;
        (0..self.column.distinct.len() as u32).chain((0..texts).map(|at| at | IN_TEXTS))
    }
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

    /// A field's column: its values and each row's code.
    pub fn column(&self, field: &str) -> Option<ColumnView<'_>> {
        Some(ColumnView {
            column: self.columns.get(self.position(field)?)?,
        })
    }

    fn value(&self, field: usize, row: u32) -> Option<FieldValue<'_>> {
        let column = self.columns.get(field)?;
        column.value(column.rows.get(row as usize)?)
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
    /// the row's position. A value is copied only where the table keeps it.
    pub fn push<'v>(&mut self, mut value: impl FnMut(&str) -> Option<FieldValue<'v>>) -> u32 {
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
            let next = column.distinct.len() as u32;
            let value = value(field).unwrap_or(FieldValue::Json(&Value::Null));
            let at = match value.as_str() {
                Some(text) if seen.all_distinct => match column.texts.push(text) {
                    Some(at) => at | IN_TEXTS,
                    None => {
                        column.distinct.push(Value::from(text));
                        next
                    }
                },
                Some(text) => match seen.text.get(text) {
                    Some(&at) => at,
                    None => {
                        seen.text.insert(text.into(), next);
                        column.distinct.push(Value::from(text));
                        next
                    }
                },
                None if value.is_null() => *seen.null.get_or_insert_with(|| {
                    column.distinct.push(Value::Null);
                    next
                }),
                None => {
                    column.distinct.push(value.to_value());
                    next
                }
            };
            seen.codes.push(at);
        }
        row
    }

    /// The finished table.
    pub fn finish(mut self) -> Arc<PropertyTable> {
        for (column, seen) in self.table.columns.iter_mut().zip(self.seen) {
            column.distinct.shrink_to_fit();
            column.texts.text.shrink_to_fit();
            column.texts.ends.shrink_to_fit();
            column.rows = Codes::compact(seen.codes, column.distinct.len());
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
    /// Each row's code so far.
    codes: Vec<u32>,
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
    pub fn get(&self, name: &str) -> Option<FieldValue<'_>> {
        self.table.value(self.table.position(name)?, self.row)
    }

    /// The value of the field at `position` of the table's fields (null where the feature
    /// has none); `None` past the last field.
    pub fn get_at(&self, position: usize) -> Option<FieldValue<'_>> {
        self.table.value(position, self.row)
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
    pub fn iter(&self) -> impl Iterator<Item = (&String, FieldValue<'_>)> + '_ {
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
        self.iter()
            .map(|(k, v)| (k.clone(), v.to_value()))
            .collect()
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

    /// Pushes the row of `value(field)`, giving the builder texts as text on odd rows and
    /// as JSON strings on even ones (a CSV row's and a GeoJSON feature's way).
    fn push_row(builder: &mut PropertyTableBuilder, value: impl Fn(&str) -> Value) -> u32 {
        let fields = builder.table.fields.clone();
        let values: Vec<Value> = fields.iter().map(|f| value(f)).collect();
        let as_text = builder.rows % 2 == 1;
        builder.push(|f| {
            let value = &values[fields.iter().position(|g| g == f)?];
            match value.as_str() {
                Some(text) if as_text => Some(FieldValue::Text(text)),
                _ => Some(FieldValue::Json(value)),
            }
        })
    }

    #[test]
    fn a_column_of_distinct_texts_reads_back_past_the_sample() {
        let fields = vec!["name".to_string(), "area".to_string()];
        let mut builder = PropertyTableBuilder::new(&fields);
        let n = SAMPLE_ROWS * 3;
        for i in 0..n {
            push_row(&mut builder, |f| match f {
                "name" => json!(format!("site {i}")),
                _ => json!(format!("area {}", i % 7)),
            });
        }
        let table = builder.finish();
        assert_eq!(table.columns[1].distinct.len(), 7);
        assert_eq!(
            table.columns[0].texts.ends.len() as u32,
            n - SAMPLE_ROWS,
            "the names past the sample are kept as one text"
        );
        for i in [0, SAMPLE_ROWS - 1, SAMPLE_ROWS, SAMPLE_ROWS + 1, n - 1] {
            let properties = Properties::new(table.clone(), i);
            let name = properties.get("name").unwrap();
            assert_eq!(name, json!(format!("site {i}")));
            assert_eq!(name.as_str(), Some(format!("site {i}").as_str()));
            assert_eq!(name.to_string(), format!("\"site {i}\""));
            assert_eq!(
                properties.get("area").unwrap(),
                json!(format!("area {}", i % 7))
            );
            let text = serde_json::to_string(&properties).unwrap();
            assert_eq!(
                text,
                format!(r#"{{"name":"site {i}","area":"area {}"}}"#, i % 7)
            );
        }
    }

    /// Each kind of column keeps its codes in its own form, and every row reads back what
    /// was pushed: ids in order (no codes kept), a few areas (`u16`), numbers with nulls
    /// among them past 65,536 rows (`u32`), names with a repeat and a null after the sample.
    #[test]
    fn codes_kept_compactly_read_back_every_row() {
        let fields: Vec<String> = ["id", "area", "n", "name"].map(String::from).to_vec();
        let rows = 70_000u32;
        let value = |field: &str, i: u32| -> Value {
            match field {
                "id" => json!(format!("S{i:07}")),
                "area" => json!(format!("area {}", i % 7)),
                "n" if i == 100 || i == 200 => Value::Null,
                "n" => json!(i),
                _ if i == 9_000 => Value::Null,
                _ if i == 9_001 => json!("name 5"),
                _ => json!(format!("name {i}")),
            }
        };
        let mut builder = PropertyTableBuilder::new(&fields);
        for i in 0..rows {
            push_row(&mut builder, |f| value(f, i));
        }
        let table = builder.finish();
        let kinds: Vec<&str> = table
            .columns
            .iter()
            .map(|c| match c.rows {
                Codes::Counting { .. } => "counting",
                Codes::Narrow(_) => "narrow",
                Codes::Wide(_) => "wide",
            })
            .collect();
        assert_eq!(kinds, ["counting", "narrow", "wide", "wide"]);
        assert_eq!(table.rows(), rows as usize);
        for i in 0..rows {
            let properties = Properties::new(table.clone(), i);
            for field in &fields {
                assert_eq!(
                    properties.get(field).unwrap(),
                    value(field, i),
                    "{field} {i}"
                );
            }
        }
        assert!(Properties::new(table.clone(), rows).get("id").is_none());
        let area = table.column("area").unwrap();
        assert_eq!(area.value(area.code(12).unwrap()).unwrap(), json!("area 5"));
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
                .map(|row| push_row(&mut builder, |f| row.get(f).cloned().unwrap_or_default()))
                .collect();
            let table = builder.finish();
            assert_eq!(table.rows(), 3);
            assert_eq!(table.columns[0].distinct.len(), 2, "Ninewa once");
            for (row, expected) in tables.iter().zip(&rows) {
                let properties = Properties::new(table.clone(), *row);
                assert_eq!(properties.len(), width);
                for field in &fields {
                    let want = expected.get(field).cloned().unwrap_or(Value::Null);
                    assert_eq!(properties.get(field).unwrap(), want, "{field}");
                }
                assert!(properties.get("nope").is_none());
                assert!(!properties.contains_key("nope") && properties.contains_key("f1"));
                let keys: Vec<&String> = properties.keys().collect();
                assert_eq!(keys, fields.iter().collect::<Vec<_>>());
                let text = serde_json::to_string(&properties).unwrap();
                assert!(text.starts_with("{\"f0\":"), "{text}");
            }
        }
    }
}

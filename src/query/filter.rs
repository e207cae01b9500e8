//! Property filters: a small expression tree (comparisons, `IN`, `BETWEEN`, `IS NULL`,
//! `AND`/`OR`/`NOT`) evaluated per feature against its properties and the counts of the
//! selected round. Query parameters like `?region=R01` and CQL2 both compile to it;
//! what CQL2 says beyond these variants is a general [`Condition`] (`query::cql2::eval`).
//!
//! Logic has three values (SQL's and CQL2's): a comparison with a NULL (a missing property,
//! an empty count) is neither TRUE nor FALSE but NULL; `NOT NULL` is NULL; `AND` is FALSE if
//! one part is FALSE, `OR` TRUE if one part is TRUE, NULL otherwise when a part is NULL. A
//! feature matches only when its filter is TRUE.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::ops::Bound;

use serde_json::Value as Json;

use crate::model::{FieldValue, Layer};
use crate::query::cql2::eval::{Condition, Row};

/// The name of the temporal queryable: the date of the selected round.
pub const ROUND_DATE: &str = "round_date";

/// A field a filter or sort can refer to.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldRef {
    /// The feature id.
    Id,
    /// A published property, by name.
    Property(String),
    /// A count column of the selected round, by position.
    Count(usize),
    /// Whether the round's counts are synthetic.
    Synthetic,
    /// The date of the selected round (`YYYY-MM-DD`), a temporal queryable.
    RoundDate,
}

impl FieldRef {
    /// Resolves a name: a property, then a count column, then `id` / `synthetic`.
    pub fn resolve(layer: &Layer, name: &str) -> Option<FieldRef> {
        if layer.fields.iter().any(|f| f == name) {
            Some(FieldRef::Property(name.to_string()))
        } else if let Some(at) = layer.count_column(name) {
            Some(FieldRef::Count(at))
        } else if name == "id" {
            Some(FieldRef::Id)
        } else if name == "synthetic" && !layer.count_columns.is_empty() {
            Some(FieldRef::Synthetic)
        } else if name == ROUND_DATE && layer.rounds.iter().any(|r| r.date.is_some()) {
            Some(FieldRef::RoundDate)
        } else {
            None
        }
    }

    /// Whether the field holds numbers (counts), so literals must be numbers.
    pub fn is_count(&self) -> bool {
        matches!(self, FieldRef::Count(_))
    }

    /// The field's value for one feature.
    pub fn value<'a>(&self, layer: &'a Layer, round: Option<usize>, feature: u32) -> Value<'a> {
        match self {
            FieldRef::Id => Value::Text(Cow::Borrowed(&layer.features[feature as usize].id)),
            FieldRef::Property(name) => {
                let value = match layer.features[feature as usize].properties.get(name) {
                    Some(FieldValue::Text(text)) => return Value::Text(Cow::Borrowed(text)),
                    Some(FieldValue::Json(json)) => Some(json),
                    None => None,
                };
                match value {
                    None | Some(Json::Null) => Value::Null,
                    Some(Json::Bool(b)) => Value::Bool(*b),
                    Some(Json::Number(n)) => n.as_f64().map(Value::Number).unwrap_or(Value::Null),
                    Some(Json::String(s)) => Value::Text(Cow::Borrowed(s)),
                    Some(other) => Value::Text(Cow::Owned(other.to_string())),
                }
            }
            FieldRef::Count(at) => round
                .and_then(|r| layer.count(r, feature))
                .and_then(|record| record.value(*at))
                .map(|v| Value::Number(v as f64))
                .unwrap_or(Value::Null),
            FieldRef::Synthetic => round
                .and_then(|r| layer.count(r, feature))
                .map(|record| Value::Bool(record.synthetic()))
                .unwrap_or(Value::Null),
            FieldRef::RoundDate => round
                .and_then(|r| layer.rounds.get(r))
                .and_then(|r| r.date.as_deref())
                .map(|d| Value::Text(Cow::Borrowed(d)))
                .unwrap_or(Value::Null),
        }
    }
}

/// A feature's value of a field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// Absent.
    Null,
    /// Boolean.
    Bool(bool),
    /// Number.
    Number(f64),
    /// Text.
    Text(Cow<'a, str>),
}

/// A constant in a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// Text.
    Text(String),
    /// Number.
    Number(f64),
    /// Boolean.
    Bool(bool),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// All must hold.
    And(Vec<Filter>),
    /// One must hold.
    Or(Vec<Filter>),
    /// Must not hold.
    Not(Box<Filter>),
    /// `field op value`.
    Compare(FieldRef, CompareOp, Literal),
    /// `field IN (values)`.
    In(FieldRef, Vec<Literal>),
    /// `field BETWEEN low AND high` (inclusive).
    Between(FieldRef, Literal, Literal),
    /// `field IS NULL`.
    IsNull(FieldRef),
    /// `field LIKE pattern`: `%` any run of characters, `_` one character, `\\` escapes.
    Like(FieldRef, String),
    /// A spatial predicate on the feature's geometry.
    Spatial(crate::query::spatial::SpatialPredicate),
    /// A CQL2 condition the variants above cannot express.
    Cql2(Box<Condition>),
}

impl Filter {
    /// Whether a feature passes (its filter is TRUE), with the counts of `round`.
    pub fn matches(&self, layer: &Layer, round: Option<usize>, feature: u32) -> bool {
        self.eval(layer, round, feature) == Some(true)
    }

    /// TRUE, FALSE or NULL (`None`) for one feature, with the counts of `round`.
    pub fn eval(&self, layer: &Layer, round: Option<usize>, feature: u32) -> Option<bool> {
        match self {
            Filter::And(all) => {
                let mut result = Some(true);
                for f in all {
                    match f.eval(layer, round, feature) {
                        Some(false) => return Some(false),
                        None => result = None,
                        Some(true) => {}
                    }
                }
                result
            }
            Filter::Or(any) => {
                let mut result = Some(false);
                for f in any {
                    match f.eval(layer, round, feature) {
                        Some(true) => return Some(true),
                        None => result = None,
                        Some(false) => {}
                    }
                }
                result
            }
            Filter::Not(inner) => inner.eval(layer, round, feature).map(|b| !b),
            Filter::Compare(field, op, literal) => {
                let value = field.value(layer, round, feature);
                crate::query::cql2::eval::apply(*op, compare(&value, literal))
            }
            Filter::In(field, literals) => {
                let value = field.value(layer, round, feature);
                if value == Value::Null {
                    return None;
                }
                crate::query::cql2::eval::kleene_in(literals.iter().map(|l| compare(&value, l)))
            }
            Filter::Between(field, low, high) => {
                let value = field.value(layer, round, feature);
                let above = compare(&value, low).map(|o| o != Ordering::Less);
                if above == Some(false) {
                    return above;
                }
                let below = compare(&value, high).map(|o| o != Ordering::Greater);
                crate::query::cql2::eval::and3(above, below)
            }
            Filter::IsNull(field) => Some(field.value(layer, round, feature) == Value::Null),
            Filter::Like(field, pattern) => match field.value(layer, round, feature) {
                Value::Text(text) => Some(like(&text, pattern)),
                Value::Number(n) => Some(like(&n.to_string(), pattern)),
                Value::Bool(b) => Some(like(&b.to_string(), pattern)),
                Value::Null => None,
            },
            Filter::Spatial(predicate) => {
                Some(predicate.matches(&layer.features[feature as usize].geometry()))
            }
            Filter::Cql2(condition) => condition.eval(Row {
                layer,
                round,
                feature,
            }),
        }
    }
}

impl Filter {
    /// A range of one count column outside which no feature can pass, when the filter
    /// implies one (a comparison or `BETWEEN` of a count with a number, alone or inside an
    /// `AND`), so the layer's ordered counts can narrow the scan: `(column, lower, upper)`.
    pub fn count_range(&self) -> Option<(usize, Bound<f64>, Bound<f64>)> {
        match self {
            Filter::Compare(FieldRef::Count(column), op, Literal::Number(n)) => {
                let (lower, upper) = match op {
                    CompareOp::Eq => (Bound::Included(*n), Bound::Included(*n)),
                    CompareOp::Lt => (Bound::Unbounded, Bound::Excluded(*n)),
                    CompareOp::Le => (Bound::Unbounded, Bound::Included(*n)),
                    CompareOp::Gt => (Bound::Excluded(*n), Bound::Unbounded),
                    CompareOp::Ge => (Bound::Included(*n), Bound::Unbounded),
                    CompareOp::Ne => return None,
                };
                Some((*column, lower, upper))
            }
            Filter::Between(FieldRef::Count(column), Literal::Number(a), Literal::Number(b)) => {
                Some((*column, Bound::Included(*a), Bound::Included(*b)))
            }
            Filter::And(all) => all.iter().find_map(Filter::count_range),
            _ => None,
        }
    }

    /// Whether the filter is exactly the range [`Filter::count_range`] gives (a lone
    /// comparison or `BETWEEN` of a count with a number): the features in that range are
    /// the matches, with no need to test each.
    pub fn is_count_range(&self) -> bool {
        matches!(self, Filter::Compare(..) | Filter::Between(..)) && self.count_range().is_some()
    }

    /// A box outside which no feature can pass, when the filter implies one (a spatial
    /// predicate, alone or inside an `AND`), so the R-tree can narrow the scan.
    pub fn candidate_box(&self) -> Option<geo::Rect<f64>> {
        match self {
            Filter::Spatial(predicate) => predicate.candidate_box(),
            Filter::Cql2(condition) => condition.candidate_box(),
            Filter::And(all) => all.iter().find_map(Filter::candidate_box),
            _ => None,
        }
    }
}

/// SQL LIKE matching on characters.
pub fn like(text: &str, pattern: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let mut tokens: Vec<Option<char>> = Vec::new(); // None = '_'; Some('%') handled below
    let mut percent: Vec<bool> = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                tokens.push(Some(chars.next().unwrap_or('\\')));
                percent.push(false);
            }
            '%' => {
                tokens.push(None);
                percent.push(true);
            }
            '_' => {
                tokens.push(None);
                percent.push(false);
            }
            other => {
                tokens.push(Some(other));
                percent.push(false);
            }
        }
    }
    // Dynamic programming over (pattern position, text position).
    let mut reachable = vec![false; text.len() + 1];
    reachable[0] = true;
    for (token, is_percent) in tokens.iter().zip(&percent) {
        let mut next = vec![false; text.len() + 1];
        for i in 0..=text.len() {
            if !reachable[i] {
                continue;
            }
            if *is_percent {
                for slot in next.iter_mut().skip(i) {
                    *slot = true;
                }
                break;
            }
            if i < text.len() && token.is_none_or(|c| c == text[i]) {
                next[i + 1] = true;
            }
        }
        reachable = next;
    }
    reachable[text.len()]
}

/// Compares a value with a literal; `None` when they cannot be compared (null, or text
/// against a number that the text does not spell).
pub fn compare(value: &Value<'_>, literal: &Literal) -> Option<Ordering> {
    match (value, literal) {
        (Value::Null, _) => None,
        (Value::Number(a), Literal::Number(b)) => a.partial_cmp(b),
        (Value::Number(a), Literal::Text(b)) => a.partial_cmp(&b.trim().parse::<f64>().ok()?),
        (Value::Text(a), Literal::Text(b)) => Some(a.as_ref().cmp(b.as_str())),
        (Value::Text(a), Literal::Number(b)) => a.trim().parse::<f64>().ok()?.partial_cmp(b),
        (Value::Bool(a), Literal::Bool(b)) => Some(a.cmp(b)),
        (Value::Bool(a), Literal::Text(b)) => match b.as_str() {
            "true" => Some(a.cmp(&true)),
            "false" => Some(a.cmp(&false)),
            _ => None,
        },
        _ => None,
    }
}

/// Total order for sorting: nulls last, numbers before text.
pub fn compare_for_sort(a: &Value<'_>, b: &Value<'_>) -> Ordering {
    fn rank(v: &Value<'_>) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::Bool(_) => 1,
            Value::Text(_) => 2,
            Value::Null => 3,
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.total_cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Text(x), Value::Text(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

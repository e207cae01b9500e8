//! The general CQL2 expressions: values computed per feature (properties, arithmetic,
//! `CASEI`/`ACCENTI`, dates and intervals, arrays, geometries) and the conditions over them
//! (comparisons of any two expressions, `LIKE`, `BETWEEN`, `IN`, spatial, temporal and
//! array functions). Compiled filters use these only where the fast, simple [`Filter`]
//! variants cannot say it. Every condition has three values: `Some(true)`, `Some(false)`
//! and `None` (NULL, unknown): a NULL or a value of the wrong type makes a condition NULL,
//! and a feature matches only when its filter is TRUE.
//!
//! [`Filter`]: crate::query::Filter

use std::borrow::Cow;
use std::cmp::Ordering;

use geo::{BoundingRect, Geometry, Intersects, Relate};
use serde_json::Value as Json;

use crate::model::{FieldValue, Layer};
use crate::query::filter::{like, CompareOp, FieldRef, Value};

use super::temporal::{self, Period, TemporalOp};

/// A value of an expression for one feature.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    /// NULL: absent or unknown.
    Null,
    /// Boolean.
    Bool(bool),
    /// Number.
    Num(f64),
    /// Text.
    Text(Cow<'a, str>),
    /// A date, a timestamp or an interval.
    Time(Period),
    /// A geometry.
    Geom(Cow<'a, Geometry<f64>>),
    /// An array.
    Array(Vec<Val<'a>>),
}

impl Val<'_> {
    /// A copy that borrows what `self` owns.
    fn borrowed(&self) -> Val<'_> {
        match self {
            Val::Null => Val::Null,
            Val::Bool(b) => Val::Bool(*b),
            Val::Num(n) => Val::Num(*n),
            Val::Text(t) => Val::Text(Cow::Borrowed(t.as_ref())),
            Val::Time(p) => Val::Time(*p),
            Val::Geom(g) => Val::Geom(Cow::Borrowed(g.as_ref())),
            Val::Array(items) => Val::Array(items.iter().map(Val::borrowed).collect()),
        }
    }
}

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `div`: integer division (towards zero).
    IntDiv,
    /// `^`
    Pow,
}

/// An expression that gives a value per feature.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A property, a count column, `id`, `synthetic` or `round_date`.
    Field(FieldRef),
    /// The feature geometry.
    Geometry,
    /// A constant.
    Const(Val<'static>),
    /// Arithmetic.
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    /// `CASEI(x)`: lower case.
    CaseI(Box<Expr>),
    /// `ACCENTI(x)`: without diacritics.
    AccentI(Box<Expr>),
    /// An array.
    Array(Vec<Expr>),
    /// `INTERVAL(start, end)`; `'..'` bounds are open.
    Interval(Box<Expr>, Box<Expr>),
    /// A declared function dtmap does not implement: always NULL.
    Opaque(String, Vec<Expr>),
}

/// The spatial relations (DE-9IM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpatialRel {
    /// `S_INTERSECTS`
    Intersects,
    /// `S_EQUALS`
    Equals,
    /// `S_DISJOINT`
    Disjoint,
    /// `S_TOUCHES`
    Touches,
    /// `S_WITHIN`
    Within,
    /// `S_OVERLAPS`
    Overlaps,
    /// `S_CROSSES`
    Crosses,
    /// `S_CONTAINS`
    Contains,
}

impl SpatialRel {
    /// Whether the relation implies that the two geometries meet.
    pub fn implies_intersection(self) -> bool {
        !matches!(self, SpatialRel::Disjoint)
    }

    fn holds(self, a: &Geometry<f64>, b: &Geometry<f64>) -> bool {
        match self {
            SpatialRel::Intersects => a.intersects(b),
            SpatialRel::Disjoint => !a.intersects(b),
            _ => {
                let m = a.relate(b);
                match self {
                    SpatialRel::Equals => m.is_equal_topo(),
                    SpatialRel::Touches => m.is_touches(),
                    SpatialRel::Within => m.is_within(),
                    SpatialRel::Overlaps => m.is_overlaps(),
                    SpatialRel::Crosses => m.is_crosses(),
                    SpatialRel::Contains => m.is_contains(),
                    SpatialRel::Intersects | SpatialRel::Disjoint => unreachable!(),
                }
            }
        }
    }
}

/// The array functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayOp {
    /// `A_EQUALS`: the same elements (as sets).
    Equals,
    /// `A_CONTAINS`: the first holds every element of the second.
    Contains,
    /// `A_CONTAINEDBY`: the second holds every element of the first.
    ContainedBy,
    /// `A_OVERLAPS`: an element in common.
    Overlaps,
}

/// A condition the simple filter variants cannot express.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `a op b`.
    Compare(Expr, CompareOp, Expr),
    /// `a LIKE pattern`.
    Like(Expr, Expr),
    /// `a BETWEEN low AND high`.
    Between(Expr, Expr, Expr),
    /// `a IN (list)`.
    In(Expr, Vec<Expr>),
    /// `a IS NULL`.
    IsNull(Expr),
    /// A spatial function.
    Spatial(SpatialRel, Expr, Expr),
    /// A temporal function.
    Temporal(TemporalOp, Expr, Expr),
    /// An array function.
    Array(ArrayOp, Expr, Expr),
    /// A boolean expression as a condition (a boolean property, a declared function).
    Truth(Expr),
}

/// What an expression is evaluated against.
#[derive(Clone, Copy)]
pub struct Row<'a> {
    /// The layer.
    pub layer: &'a Layer,
    /// The round whose counts are seen.
    pub round: Option<usize>,
    /// The feature.
    pub feature: u32,
}

impl Expr {
    /// The expression's value for one feature.
    pub fn eval<'a>(&'a self, row: Row<'a>) -> Val<'a> {
        match self {
            Expr::Field(field) => field_value(field, row),
            Expr::Geometry => Val::Geom(row.layer.features[row.feature as usize].geometry()),
            Expr::Const(v) => v.borrowed(),
            Expr::Arith(op, a, b) => match (a.eval(row), b.eval(row)) {
                (Val::Num(x), Val::Num(y)) => arith(*op, x, y),
                _ => Val::Null,
            },
            Expr::CaseI(inner) => map_text(inner.eval(row), &|t| t.to_lowercase()),
            Expr::AccentI(inner) => map_text(inner.eval(row), &super::literal::fold_accents),
            Expr::Array(items) => Val::Array(items.iter().map(|e| e.eval(row)).collect()),
            Expr::Interval(a, b) => {
                match (
                    temporal::bound(&a.eval(row), true),
                    temporal::bound(&b.eval(row), false),
                ) {
                    (Some(start), Some(end)) => Val::Time(Period { start, end }),
                    _ => Val::Null,
                }
            }
            Expr::Opaque(..) => Val::Null,
        }
    }

    /// The constant geometry, when the expression is one.
    pub fn constant_geometry(&self) -> Option<&Geometry<f64>> {
        match self {
            Expr::Const(Val::Geom(g)) => Some(g),
            _ => None,
        }
    }
}

fn arith(op: ArithOp, x: f64, y: f64) -> Val<'static> {
    let r = match op {
        ArithOp::Add => x + y,
        ArithOp::Sub => x - y,
        ArithOp::Mul => x * y,
        ArithOp::Div if y == 0.0 => return Val::Null,
        ArithOp::Div => x / y,
        ArithOp::Rem if y == 0.0 => return Val::Null,
        ArithOp::Rem => x % y,
        ArithOp::IntDiv if y == 0.0 => return Val::Null,
        ArithOp::IntDiv => (x / y).trunc(),
        ArithOp::Pow => x.powf(y),
    };
    if r.is_finite() {
        Val::Num(r)
    } else {
        Val::Null
    }
}

fn map_text<'a>(v: Val<'a>, f: &dyn Fn(&str) -> String) -> Val<'a> {
    match v {
        Val::Text(t) => Val::Text(Cow::Owned(f(&t))),
        Val::Array(items) => Val::Array(items.into_iter().map(|v| map_text(v, f)).collect()),
        other => other,
    }
}

/// A field's value: properties as they are (arrays stay arrays, GeoJSON objects are
/// geometries), counts as numbers, `round_date` as a date.
fn field_value<'a>(field: &'a FieldRef, row: Row<'a>) -> Val<'a> {
    match field {
        FieldRef::Property(name) => {
            match row.layer.features[row.feature as usize]
                .properties
                .get(name)
            {
                Some(FieldValue::Json(json)) => json_value(json),
                Some(FieldValue::Text(text)) => Val::Text(Cow::Borrowed(text)),
                None => Val::Null,
            }
        }
        FieldRef::RoundDate => row
            .round
            .and_then(|r| row.layer.rounds.get(r))
            .and_then(|r| r.date.as_deref())
            .and_then(temporal::parse_date)
            .map(Val::Time)
            .unwrap_or(Val::Null),
        other => match other.value(row.layer, row.round, row.feature) {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(b),
            Value::Number(n) => Val::Num(n),
            Value::Text(t) => Val::Text(t),
        },
    }
}

fn json_value(json: &Json) -> Val<'_> {
    match json {
        Json::Null => Val::Null,
        Json::Bool(b) => Val::Bool(*b),
        Json::Number(n) => n.as_f64().map(Val::Num).unwrap_or(Val::Null),
        Json::String(s) => Val::Text(Cow::Borrowed(s)),
        Json::Array(items) => Val::Array(items.iter().map(json_value).collect()),
        Json::Object(_) => super::literal::geojson_geometry(json, usize::MAX, false)
            .map(|g| Val::Geom(Cow::Owned(g)))
            .unwrap_or(Val::Null),
    }
}

/// Compares two values; `None` when either is NULL or they cannot be compared. Text
/// compares with numbers it spells, with dates and timestamps it spells, and with booleans
/// `true`/`false`; dates and timestamps compare by their first instant.
pub fn compare_vals(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Null, _) | (_, Val::Null) => None,
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
        (Val::Text(x), Val::Text(y)) => Some(x.as_ref().cmp(y.as_ref())),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        (Val::Time(x), Val::Time(y)) => Some(x.start.cmp(&y.start)),
        (Val::Num(x), Val::Text(t)) => x.partial_cmp(&t.trim().parse::<f64>().ok()?),
        (Val::Text(t), Val::Num(y)) => t.trim().parse::<f64>().ok()?.partial_cmp(y),
        (Val::Time(x), Val::Text(t)) => Some(x.start.cmp(&temporal::parse_instant(t)?.start)),
        (Val::Text(t), Val::Time(y)) => Some(temporal::parse_instant(t)?.start.cmp(&y.start)),
        (Val::Bool(x), Val::Text(t)) => Some(x.cmp(&text_bool(t)?)),
        (Val::Text(t), Val::Bool(y)) => Some(text_bool(t)?.cmp(y)),
        (Val::Geom(x), Val::Geom(y)) => {
            (x.relate(y.as_ref()).is_equal_topo()).then_some(Ordering::Equal)
        }
        (Val::Array(x), Val::Array(y)) => (x.len() == y.len()
            && x.iter().zip(y).all(|(p, q)| equal(p, q)))
        .then_some(Ordering::Equal),
        _ => None,
    }
}

fn text_bool(t: &str) -> Option<bool> {
    match t {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn equal(a: &Val<'_>, b: &Val<'_>) -> bool {
    compare_vals(a, b) == Some(Ordering::Equal)
}

/// `op` applied to an ordering; NULL stays NULL.
pub fn apply(op: CompareOp, ord: Option<Ordering>) -> Option<bool> {
    let ord = ord?;
    Some(match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
    })
}

/// Kleene's `IN`: TRUE on a match, NULL when there is none but a NULL took part.
pub fn in_list(value: &Val<'_>, list: impl Iterator<Item = Option<Ordering>>) -> Option<bool> {
    if matches!(value, Val::Null) {
        return None;
    }
    kleene_in(list)
}

/// TRUE when one comparison is equal, NULL when none is but one could not be made, else
/// FALSE: the list part of `IN`, for this evaluator and the simple filters alike.
pub fn kleene_in(list: impl Iterator<Item = Option<Ordering>>) -> Option<bool> {
    let mut unknown = false;
    for ord in list {
        match ord {
            Some(Ordering::Equal) => return Some(true),
            None => unknown = true,
            Some(_) => {}
        }
    }
    if unknown {
        None
    } else {
        Some(false)
    }
}

impl Condition {
    /// TRUE, FALSE or NULL (`None`) for one feature.
    pub fn eval(&self, row: Row<'_>) -> Option<bool> {
        match self {
            Condition::Compare(a, op, b) => apply(*op, compare_vals(&a.eval(row), &b.eval(row))),
            Condition::Like(a, pattern) => match (a.eval(row), pattern.eval(row)) {
                (Val::Text(t), Val::Text(p)) => Some(like(&t, &p)),
                (Val::Num(n), Val::Text(p)) => Some(like(&n.to_string(), &p)),
                (Val::Bool(b), Val::Text(p)) => Some(like(&b.to_string(), &p)),
                _ => None,
            },
            Condition::Between(a, low, high) => {
                let v = a.eval(row);
                let above = apply(CompareOp::Ge, compare_vals(&v, &low.eval(row)));
                let below = apply(CompareOp::Le, compare_vals(&v, &high.eval(row)));
                and3(above, below)
            }
            Condition::In(a, list) => {
                let v = a.eval(row);
                in_list(&v, list.iter().map(|e| compare_vals(&v, &e.eval(row))))
            }
            Condition::IsNull(a) => Some(matches!(a.eval(row), Val::Null)),
            Condition::Spatial(rel, a, b) => match (a.eval(row), b.eval(row)) {
                (Val::Geom(x), Val::Geom(y)) => Some(rel.holds(&x, &y)),
                _ => None,
            },
            Condition::Temporal(op, a, b) => {
                let x = temporal::period(&a.eval(row))?;
                let y = temporal::period(&b.eval(row))?;
                Some(op.holds(x, y))
            }
            Condition::Array(op, a, b) => match (a.eval(row), b.eval(row)) {
                (Val::Array(x), Val::Array(y)) => Some(array_holds(*op, &x, &y)),
                _ => None,
            },
            Condition::Truth(e) => match e.eval(row) {
                Val::Bool(b) => Some(b),
                Val::Text(t) => text_bool(&t),
                _ => None,
            },
        }
    }

    /// A box outside which no feature can pass, when the condition implies one.
    pub fn candidate_box(&self) -> Option<geo::Rect<f64>> {
        match self {
            Condition::Spatial(rel, a, b) if rel.implies_intersection() => match (a, b) {
                (Expr::Geometry, other) | (other, Expr::Geometry) => {
                    other.constant_geometry()?.bounding_rect()
                }
                _ => None,
            },
            _ => None,
        }
    }
}

fn array_holds(op: ArrayOp, a: &[Val<'_>], b: &[Val<'_>]) -> bool {
    let within = |x: &[Val<'_>], y: &[Val<'_>]| x.iter().all(|v| y.iter().any(|w| equal(v, w)));
    match op {
        ArrayOp::Equals => within(a, b) && within(b, a),
        ArrayOp::Contains => within(b, a),
        ArrayOp::ContainedBy => within(a, b),
        ArrayOp::Overlaps => a.iter().any(|v| b.iter().any(|w| equal(v, w))),
    }
}

/// Kleene's AND of two.
pub fn and3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

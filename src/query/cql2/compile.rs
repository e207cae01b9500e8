//! From the syntax tree to a [`Filter`]: names are checked against the layer (its
//! queryables), functions against the ones dtmap implements or the caller declared, and
//! literals against count columns (numbers only). What the simple filter variants can say
//! (a property against a constant, a spatial function of the feature geometry and a
//! literal) compiles to them, which keeps the R-tree narrowing and the fast comparisons;
//! everything else compiles to a general [`Condition`].

use std::borrow::Cow;

use super::ast::{Kind, Node, Place};
use super::eval::{ArrayOp, Condition, Expr, SpatialRel, Val};
use super::temporal::{self, TemporalOp};
use super::{Fault, GEOMETRY_NAME};
use crate::config::MAX_RADIUS_METRES;
use crate::model::{FieldValue, Layer};
use crate::query::filter::CompareOp;
use crate::query::spatial::{SpatialOp, SpatialPredicate};
use crate::query::{FieldRef, Filter, Literal, QueryError};

const FUNCTIONS: &str = "S_INTERSECTS, S_EQUALS, S_DISJOINT, S_TOUCHES, S_WITHIN, S_OVERLAPS, S_CROSSES, S_CONTAINS, S_DWITHIN, T_AFTER, T_BEFORE, T_CONTAINS, T_DISJOINT, T_DURING, T_EQUALS, T_FINISHEDBY, T_FINISHES, T_INTERSECTS, T_MEETS, T_METBY, T_OVERLAPPEDBY, T_OVERLAPS, T_STARTEDBY, T_STARTS, A_EQUALS, A_CONTAINS, A_CONTAINEDBY, A_OVERLAPS, CASEI and ACCENTI";

/// Checks a tree against a layer and compiles it.
pub struct Compiler<'a> {
    /// The layer whose queryables names must be.
    pub layer: &'a Layer,
    /// Functions the caller declared beyond the standard's (they evaluate to NULL).
    pub functions: &'a [String],
}

fn fail(at: &Place, message: impl Into<String>) -> QueryError {
    Fault::bad(message).located(at)
}

/// `TRUE` and `FALSE` as filters.
fn constant(value: bool) -> Filter {
    if value {
        Filter::And(Vec::new())
    } else {
        Filter::Or(Vec::new())
    }
}

fn general(condition: Condition) -> Filter {
    Filter::Cql2(Box::new(condition))
}

/// `a op b` flipped to `b op' a`.
fn flipped(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::Le => CompareOp::Ge,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::Ge => CompareOp::Le,
        same => same,
    }
}

fn spatial_rel(name: &str) -> Option<SpatialRel> {
    Some(match name {
        "s_intersects" => SpatialRel::Intersects,
        "s_equals" => SpatialRel::Equals,
        "s_disjoint" => SpatialRel::Disjoint,
        "s_touches" => SpatialRel::Touches,
        "s_within" => SpatialRel::Within,
        "s_overlaps" => SpatialRel::Overlaps,
        "s_crosses" => SpatialRel::Crosses,
        "s_contains" => SpatialRel::Contains,
        _ => return None,
    })
}

fn array_op(name: &str) -> Option<ArrayOp> {
    Some(match name {
        "a_equals" => ArrayOp::Equals,
        "a_contains" => ArrayOp::Contains,
        "a_containedby" => ArrayOp::ContainedBy,
        "a_overlaps" => ArrayOp::Overlaps,
        _ => return None,
    })
}

/// A plain literal node as a [`Literal`].
fn plain_literal(node: &Node) -> Option<Literal> {
    match &node.kind {
        Kind::Text(t) => Some(Literal::Text(t.clone())),
        Kind::Number(n) => Some(Literal::Number(*n)),
        Kind::Bool(b) => Some(Literal::Bool(*b)),
        _ => None,
    }
}

impl Compiler<'_> {
    /// The node as a condition.
    pub fn filter(&self, node: &Node) -> Result<Filter, QueryError> {
        let at = &node.at;
        Ok(match &node.kind {
            Kind::And(parts) => Filter::And(self.filters(parts)?),
            Kind::Or(parts) => Filter::Or(self.filters(parts)?),
            Kind::Not(inner) => Filter::Not(Box::new(self.filter(inner)?)),
            Kind::Bool(b) => constant(*b),
            Kind::Compare(op, a, b) => self.compare(*op, a, b)?,
            Kind::Like(a, pattern) => self.like(a, pattern)?,
            Kind::Between(a, low, high) => {
                if let (Some((field, name)), Some(l), Some(h)) =
                    (self.simple_field(a)?, plain_literal(low), plain_literal(high))
                {
                    Filter::Between(
                        field.clone(),
                        self.literal_for(&field, &name, l, &low.at)?,
                        self.literal_for(&field, &name, h, &high.at)?,
                    )
                } else {
                    general(Condition::Between(
                        self.expr(a)?,
                        self.expr(low)?,
                        self.expr(high)?,
                    ))
                }
            }
            Kind::In(a, list) => self.in_list(a, list, at)?,
            Kind::IsNull(a) => match self.simple_field(a)? {
                Some((field, _)) => Filter::IsNull(field),
                None => general(Condition::IsNull(self.expr(a)?)),
            },
            Kind::Call(name, args) => self.call(name, args, at)?,
            Kind::Property(_) | Kind::Null => general(Condition::Truth(self.expr(node)?)),
            _ => {
                return Err(fail(
                    at,
                    "expected a condition (a comparison, LIKE, BETWEEN, IN, IS NULL, a function or a boolean), not a value",
                ))
            }
        })
    }

    fn filters(&self, parts: &[Node]) -> Result<Vec<Filter>, QueryError> {
        parts.iter().map(|p| self.filter(p)).collect()
    }

    /// A property other than `geometry`, checked: the fast paths compare these.
    fn simple_field(&self, node: &Node) -> Result<Option<(FieldRef, String)>, QueryError> {
        match &node.kind {
            Kind::Property(name) if name != GEOMETRY_NAME => {
                Ok(Some((self.field(name, &node.at)?, name.clone())))
            }
            _ => Ok(None),
        }
    }

    fn compare(&self, op: CompareOp, a: &Node, b: &Node) -> Result<Filter, QueryError> {
        if let (Some((field, name)), Some(literal)) = (self.simple_field(a)?, plain_literal(b)) {
            let literal = self.literal_for(&field, &name, literal, &b.at)?;
            return Ok(Filter::Compare(field, op, literal));
        }
        if let (Some(literal), Some((field, name))) = (plain_literal(a), self.simple_field(b)?) {
            let literal = self.literal_for(&field, &name, literal, &a.at)?;
            return Ok(Filter::Compare(field, flipped(op), literal));
        }
        Ok(general(Condition::Compare(
            self.expr(a)?,
            op,
            self.expr(b)?,
        )))
    }

    fn like(&self, a: &Node, pattern: &Node) -> Result<Filter, QueryError> {
        if let (Some((field, _)), Kind::Text(p)) = (self.simple_field(a)?, &pattern.kind) {
            return Ok(Filter::Like(field, p.clone()));
        }
        if matches!(pattern.kind, Kind::Number(_) | Kind::Bool(_)) {
            return Err(fail(&pattern.at, "expected a quoted pattern after LIKE"));
        }
        Ok(general(Condition::Like(self.expr(a)?, self.expr(pattern)?)))
    }

    fn in_list(&self, a: &Node, list: &[Node], at: &Place) -> Result<Filter, QueryError> {
        if list.is_empty() {
            return Err(fail(at, "expected a non-empty list of values after IN"));
        }
        if let Some((field, name)) = self.simple_field(a)? {
            if let Some(literals) = list.iter().map(plain_literal).collect::<Option<Vec<_>>>() {
                let literals = literals
                    .into_iter()
                    .zip(list)
                    .map(|(l, n)| self.literal_for(&field, &name, l, &n.at))
                    .collect::<Result<Vec<_>, _>>()?;
                return Ok(Filter::In(field, literals));
            }
        }
        let values = list
            .iter()
            .map(|n| self.expr(n))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(general(Condition::In(self.expr(a)?, values)))
    }

    fn call(&self, name: &str, args: &[Node], at: &Place) -> Result<Filter, QueryError> {
        let lower = name.to_ascii_lowercase();
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(fail(
                    at,
                    format!("{name} takes {n} arguments, not {}", args.len()),
                ))
            }
        };
        if lower == "in" {
            return match args {
                [a, list] if matches!(list.kind, Kind::Array(_)) => {
                    let Kind::Array(items) = &list.kind else {
                        unreachable!()
                    };
                    self.in_list(a, items, at)
                }
                [a, rest @ ..] => self.in_list(a, rest, at),
                [] => Err(fail(at, "IN needs a value and a list")),
            };
        }
        if lower == "like" {
            arity(2)?;
            return self.like(&args[0], &args[1]);
        }
        if lower == "s_dwithin" {
            arity(3)?;
            return self.dwithin(args, at);
        }
        if let Some(rel) = spatial_rel(&lower) {
            arity(2)?;
            return self.spatial(rel, &args[0], &args[1]);
        }
        if let Some(op) = TemporalOp::from_name(&lower) {
            arity(2)?;
            return Ok(general(Condition::Temporal(
                op,
                self.expr(&args[0])?,
                self.expr(&args[1])?,
            )));
        }
        if let Some(op) = array_op(&lower) {
            arity(2)?;
            return Ok(general(Condition::Array(
                op,
                self.expr(&args[0])?,
                self.expr(&args[1])?,
            )));
        }
        let node = Node::new(Kind::Call(name.to_string(), args.to_vec()), at.clone());
        Ok(general(Condition::Truth(self.expr(&node)?)))
    }

    fn spatial(&self, rel: SpatialRel, a: &Node, b: &Node) -> Result<Filter, QueryError> {
        for arg in [a, b] {
            self.check_geometry_arg(arg)?;
        }
        let feature = |n: &Node| matches!(&n.kind, Kind::Property(p) if p == GEOMETRY_NAME);
        let literal = |n: &Node| match &n.kind {
            Kind::Geometry(g) => Some(g.clone()),
            _ => None,
        };
        let fast = match (feature(a), literal(b), literal(a), feature(b)) {
            (true, Some(g), _, _) => Some((g, false)),
            (_, _, Some(g), true) => Some((g, true)),
            _ => None,
        };
        if let Some((geometry, literal_first)) = fast {
            let op = match rel {
                SpatialRel::Intersects => Some(SpatialOp::Intersects),
                SpatialRel::Disjoint => Some(SpatialOp::Disjoint),
                SpatialRel::Within if literal_first => Some(SpatialOp::Contains),
                SpatialRel::Within => Some(SpatialOp::Within),
                SpatialRel::Contains if literal_first => Some(SpatialOp::Within),
                SpatialRel::Contains => Some(SpatialOp::Contains),
                _ => None,
            };
            if let Some(op) = op {
                return Ok(Filter::Spatial(SpatialPredicate { op, geometry }));
            }
        }
        Ok(general(Condition::Spatial(
            rel,
            self.expr(a)?,
            self.expr(b)?,
        )))
    }

    /// A property as a spatial argument must hold geometries: `geometry`, or a property
    /// whose values are GeoJSON objects (or that has no values).
    fn check_geometry_arg(&self, node: &Node) -> Result<(), QueryError> {
        let Kind::Property(name) = &node.kind else {
            return Ok(());
        };
        if name == GEOMETRY_NAME {
            return Ok(());
        }
        let holds_geometries = match self.field(name, &node.at)? {
            FieldRef::Property(p) => self
                .layer
                .features
                .iter()
                .filter_map(|f| f.properties.get(&p))
                .find(|v| !v.is_null())
                .is_none_or(|v| matches!(v, FieldValue::Json(json) if json.is_object())),
            _ => false,
        };
        if holds_geometries {
            Ok(())
        } else {
            Err(fail(
                &node.at,
                format!("{name} is not a geometry; spatial functions take the feature geometry `{GEOMETRY_NAME}`"),
            ))
        }
    }

    /// `S_DWITHIN(geometry, POINT(…), metres)`, a dtmap extension.
    fn dwithin(&self, args: &[Node], at: &Place) -> Result<Filter, QueryError> {
        let point = match (&args[0].kind, &args[1].kind) {
            (Kind::Property(p), Kind::Geometry(g)) | (Kind::Geometry(g), Kind::Property(p))
                if p == GEOMETRY_NAME =>
            {
                g
            }
            _ => {
                return Err(fail(
                    at,
                    format!("S_DWITHIN compares the feature geometry `{GEOMETRY_NAME}` with a POINT literal"),
                ))
            }
        };
        if !matches!(point, geo::Geometry::Point(_)) {
            return Err(fail(at, "S_DWITHIN takes a POINT literal"));
        }
        let metres = match args[2].kind {
            Kind::Number(m) if m.is_finite() && m > 0.0 && m <= MAX_RADIUS_METRES => m,
            Kind::Number(m) => {
                return Err(fail(
                    &args[2].at,
                    format!("the distance of S_DWITHIN must be more than 0 and at most {MAX_RADIUS_METRES} metres, not {m}"),
                ))
            }
            _ => return Err(fail(&args[2].at, "S_DWITHIN needs a distance in metres")),
        };
        Ok(Filter::Spatial(SpatialPredicate {
            op: SpatialOp::DWithin(metres),
            geometry: point.clone(),
        }))
    }

    /// The node as a value.
    pub fn expr(&self, node: &Node) -> Result<Expr, QueryError> {
        let at = &node.at;
        let constant = |v: Val<'static>| Ok(Expr::Const(v));
        match &node.kind {
            Kind::Property(name) if name == GEOMETRY_NAME => Ok(Expr::Geometry),
            Kind::Property(name) => Ok(Expr::Field(self.field(name, at)?)),
            Kind::Text(t) => constant(Val::Text(Cow::Owned(t.clone()))),
            Kind::Number(n) => constant(Val::Num(*n)),
            Kind::Bool(b) => constant(Val::Bool(*b)),
            Kind::Null => constant(Val::Null),
            Kind::Date(d) => constant(
                temporal::parse_date(d)
                    .map(Val::Time)
                    .ok_or_else(|| fail(at, format!("{d:?} is not a date")))?,
            ),
            Kind::Timestamp(t) => constant(
                temporal::parse_instant(t)
                    .map(Val::Time)
                    .ok_or_else(|| fail(at, format!("{t:?} is not a timestamp")))?,
            ),
            Kind::Interval(a, b) => {
                for bound in [a, b] {
                    if let Kind::Text(t) = &bound.kind {
                        if t != ".." && temporal::parse_instant(t).is_none() {
                            return Err(fail(
                                &bound.at,
                                format!("{t:?} is neither a date, a timestamp nor '..'"),
                            ));
                        }
                    }
                }
                let bound = |n: &Node| match &n.kind {
                    // Text bounds are read once, here: equal instants compile equal.
                    Kind::Text(t) if t != ".." => Ok(Expr::Const(Val::Time(
                        temporal::parse_instant(t).expect("checked above"),
                    ))),
                    _ => self.expr(n),
                };
                Ok(Expr::Interval(Box::new(bound(a)?), Box::new(bound(b)?)))
            }
            Kind::Geometry(g) => constant(Val::Geom(Cow::Owned(g.clone()))),
            Kind::Array(items) => Ok(Expr::Array(
                items
                    .iter()
                    .map(|i| self.expr(i))
                    .collect::<Result<_, _>>()?,
            )),
            Kind::Arith(op, a, b) => Ok(Expr::Arith(
                *op,
                Box::new(self.expr(a)?),
                Box::new(self.expr(b)?),
            )),
            Kind::Call(name, args) => {
                let lower = name.to_ascii_lowercase();
                match (lower.as_str(), args.as_slice()) {
                    ("casei", [x]) => Ok(Expr::CaseI(Box::new(self.expr(x)?))),
                    ("accenti", [x]) => Ok(Expr::AccentI(Box::new(self.expr(x)?))),
                    ("casei" | "accenti", _) => Err(fail(
                        at,
                        format!("{name} takes 1 argument, not {}", args.len()),
                    )),
                    _ if self.functions.iter().any(|f| f.eq_ignore_ascii_case(name)) => {
                        Ok(Expr::Opaque(
                            name.clone(),
                            args.iter()
                                .map(|a| self.expr(a))
                                .collect::<Result<_, _>>()?,
                        ))
                    }
                    _ => Err(fail(
                        at,
                        format!("the function {name} is not supported; the supported functions are {FUNCTIONS}"),
                    )),
                }
            }
            _ => Err(fail(at, "expected a value here, not a condition")),
        }
    }

    /// A field by name, or why not.
    fn field(&self, name: &str, at: &Place) -> Result<FieldRef, QueryError> {
        FieldRef::resolve(self.layer, name).ok_or_else(|| {
            fail(
                at,
                format!(
                    "unknown property {name:?}; the queryable properties of {} are {}",
                    self.layer.id,
                    super::queryable_names(self.layer).join(", ")
                ),
            )
        })
    }

    /// A literal fit to compare with `field`: counts take numbers (or text spelling one).
    fn literal_for(
        &self,
        field: &FieldRef,
        name: &str,
        literal: Literal,
        at: &Place,
    ) -> Result<Literal, QueryError> {
        if !field.is_count() {
            return Ok(literal);
        }
        match literal {
            Literal::Number(n) => Ok(Literal::Number(n)),
            Literal::Text(text) => match text.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(Literal::Number(n)),
                _ => Err(fail(
                    at,
                    format!(
                        "{name} is a count, so it compares with numbers, not the text {text:?}"
                    ),
                )),
            },
            Literal::Bool(b) => Err(fail(
                at,
                format!(
                    "{name} is a count, so it compares with numbers, not {}",
                    if b { "TRUE" } else { "FALSE" }
                ),
            )),
        }
    }
}

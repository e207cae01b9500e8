//! The cql2-json reader: JSON text (read by the bounded `json_text.rs`) to the syntax tree
//! (`ast.rs`). `{"op": …, "args": […]}` objects, `{"property": …}`, `{"date": …}`,
//! `{"timestamp": …}`, `{"interval": [a, b]}`, `{"bbox": […]}`, GeoJSON geometries, arrays
//! and plain values. Errors name the place with a JSON pointer.

use serde_json::Value as Json;

use super::ast::{Kind, Node, Place};
use super::eval::ArithOp;
use super::literal::{bbox_geometry, geojson_in, Budget};
use super::{json_text, Fault, MAX_FILTER_DEPTH};
use crate::config::MAX_FILTER_JSON_NESTING;
use crate::query::filter::CompareOp;
use crate::query::QueryError;

/// Parses cql2-json into a tree; geometry literals draw on `budget`.
pub fn parse(text: &str, budget: &mut Budget) -> Result<Node, QueryError> {
    // Not serde_json::from_str: it stops at 127 brackets, short of 64 filter levels.
    let value: Json = json_text::parse(text, MAX_FILTER_JSON_NESTING)
        .map_err(|e| QueryError::bad(format!("filter: not valid cql2-json (JSON): {e}")))?;
    if !matches!(value, Json::Object(_) | Json::Bool(_)) {
        return Err(bad(
            "",
            format!(
                "expected a filter (an object with \"op\" and \"args\", or true/false) but found {}",
                kind_of(&value)
            ),
        ));
    }
    Reader { budget }.node(&value, "", 0)
}

struct Reader<'b> {
    budget: &'b mut Budget,
}

fn bad(path: &str, message: impl Into<String>) -> QueryError {
    Fault::bad(message).located(&Place::Pointer(path.to_string()))
}

/// "a string", "an array", … for messages.
pub fn kind_of(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

impl Reader<'_> {
    fn node(&mut self, value: &Json, path: &str, depth: usize) -> Result<Node, QueryError> {
        let at = Place::Pointer(path.to_string());
        let kind = match value {
            Json::Null => Kind::Null,
            Json::Bool(b) => Kind::Bool(*b),
            Json::String(s) => Kind::Text(s.clone()),
            Json::Number(n) => match n.as_f64() {
                Some(f) if f.is_finite() => Kind::Number(f),
                _ => return Err(bad(path, "the number is not a finite number")),
            },
            Json::Array(items) => Kind::Array(self.list(items, path, depth)?),
            Json::Object(object) => {
                if object.contains_key("op") {
                    return self.operation(value, path, depth);
                }
                if let Some(name) = object.get("property") {
                    match name {
                        Json::String(n) => Kind::Property(n.clone()),
                        other => {
                            return Err(bad(
                                &format!("{path}/property"),
                                format!("expected a property name but found {}", kind_of(other)),
                            ))
                        }
                    }
                } else if let Some(date) = object.get("date") {
                    match date.as_str() {
                        Some(d) if super::temporal::is_date(d) => Kind::Date(d.to_string()),
                        _ => {
                            return Err(bad(
                                &format!("{path}/date"),
                                "expected a date (YYYY-MM-DD)",
                            ))
                        }
                    }
                } else if let Some(ts) = object.get("timestamp") {
                    match ts.as_str() {
                        Some(t) if super::temporal::is_timestamp(t) => {
                            Kind::Timestamp(t.to_string())
                        }
                        _ => {
                            return Err(bad(
                                &format!("{path}/timestamp"),
                                "expected an RFC 3339 timestamp (YYYY-MM-DDThh:mm:ssZ)",
                            ))
                        }
                    }
                } else if let Some(interval) = object.get("interval") {
                    let ipath = format!("{path}/interval");
                    match interval.as_array().map(Vec::as_slice) {
                        Some([a, b]) => Kind::Interval(
                            Box::new(self.node(a, &format!("{ipath}/0"), depth + 1)?),
                            Box::new(self.node(b, &format!("{ipath}/1"), depth + 1)?),
                        ),
                        _ => return Err(bad(&ipath, "expected an array of 2 bounds")),
                    }
                } else if let Some(bbox) = object.get("bbox") {
                    let bpath = format!("{path}/bbox");
                    let numbers = match bbox {
                        Json::Array(items) => {
                            items.iter().map(Json::as_f64).collect::<Option<Vec<f64>>>()
                        }
                        _ => None,
                    }
                    .ok_or_else(|| bad(&bpath, "expected an array of 4 numbers"))?;
                    Kind::Geometry(
                        bbox_geometry(&numbers, self.budget)
                            .map_err(|f| f.located(&Place::Pointer(bpath)))?,
                    )
                } else if object.contains_key("type") {
                    Kind::Geometry(geojson_in(value, self.budget).map_err(|f| {
                        let f = match f {
                            Fault::Bad(m) => {
                                Fault::Bad(format!("not a valid GeoJSON geometry: {m}"))
                            }
                            other => other,
                        };
                        f.located(&at)
                    })?)
                } else {
                    return Err(bad(
                        path,
                        "expected a filter: an object with \"op\" and \"args\", a property, a date, a timestamp, an interval, a bbox or a GeoJSON geometry",
                    ));
                }
            }
        };
        Ok(Node::new(kind, at))
    }

    fn list(&mut self, items: &[Json], path: &str, depth: usize) -> Result<Vec<Node>, QueryError> {
        items
            .iter()
            .enumerate()
            .map(|(i, v)| self.node(v, &format!("{path}/{i}"), depth + 1))
            .collect()
    }

    fn operation(&mut self, value: &Json, path: &str, depth: usize) -> Result<Node, QueryError> {
        let at = Place::Pointer(path.to_string());
        if depth > MAX_FILTER_DEPTH {
            return Err(bad(
                path,
                format!("the filter nests deeper than {MAX_FILTER_DEPTH} levels"),
            ));
        }
        let op = match value.get("op") {
            Some(Json::String(op)) => op.as_str(),
            Some(other) => {
                return Err(bad(
                    &format!("{path}/op"),
                    format!(
                        "expected the operator as a string but found {}",
                        kind_of(other)
                    ),
                ))
            }
            None => unreachable!("operation() is called on objects with \"op\""),
        };
        let args_path = format!("{path}/args");
        let raw: &[Json] = match value.get("args") {
            Some(Json::Array(args)) => args,
            Some(other) => {
                return Err(bad(
                    &args_path,
                    format!(
                        "expected an array of arguments but found {}",
                        kind_of(other)
                    ),
                ))
            }
            None => return Err(bad(path, format!("the operator {op:?} needs \"args\""))),
        };
        let arity = |n: usize| -> Result<(), QueryError> {
            if raw.len() == n {
                Ok(())
            } else {
                Err(bad(
                    &args_path,
                    format!("{op:?} takes {n} arguments, not {}", raw.len()),
                ))
            }
        };
        let lower = op.to_ascii_lowercase();
        let compare = match lower.as_str() {
            "=" => Some(CompareOp::Eq),
            "<>" => Some(CompareOp::Ne),
            "<" => Some(CompareOp::Lt),
            "<=" => Some(CompareOp::Le),
            ">" => Some(CompareOp::Gt),
            ">=" => Some(CompareOp::Ge),
            _ => None,
        };
        let arith = match lower.as_str() {
            "+" => Some(ArithOp::Add),
            "-" => Some(ArithOp::Sub),
            "*" => Some(ArithOp::Mul),
            "/" => Some(ArithOp::Div),
            "%" => Some(ArithOp::Rem),
            "div" => Some(ArithOp::IntDiv),
            "^" => Some(ArithOp::Pow),
            _ => None,
        };
        match lower.as_str() {
            "and" | "or" | "not" | "like" | "between" | "isnull" => {}
            _ if compare.is_some() => arity(2)?,
            _ => {}
        }
        let mut args = self.list(raw, &args_path, depth)?;
        let kind = if let Some(op) = compare {
            let b = args.pop().expect("2 arguments");
            let a = args.pop().expect("2 arguments");
            Kind::Compare(op, Box::new(a), Box::new(b))
        } else if let Some(op) = arith {
            if args.len() < 2 {
                return Err(bad(&args_path, format!("{op:?} takes 2 arguments or more")));
            }
            let mut items = args.into_iter();
            let first = items.next().expect("2 arguments");
            return Ok(items.fold(first, |left, right| {
                Node::new(Kind::Arith(op, Box::new(left), Box::new(right)), at.clone())
            }));
        } else {
            match lower.as_str() {
                "and" | "or" => {
                    if args.is_empty() {
                        return Err(bad(
                            &args_path,
                            format!("{op:?} needs at least one argument"),
                        ));
                    }
                    if args.len() == 1 {
                        return Ok(args.remove(0));
                    }
                    if lower == "and" {
                        Kind::And(args)
                    } else {
                        Kind::Or(args)
                    }
                }
                "not" => {
                    arity(1)?;
                    Kind::Not(Box::new(args.remove(0)))
                }
                "like" => {
                    arity(2)?;
                    let pattern = args.pop().expect("2 arguments");
                    Kind::Like(Box::new(args.remove(0)), Box::new(pattern))
                }
                "between" => {
                    arity(3)?;
                    let high = args.pop().expect("3 arguments");
                    let low = args.pop().expect("3 arguments");
                    Kind::Between(Box::new(args.remove(0)), Box::new(low), Box::new(high))
                }
                "isnull" => {
                    arity(1)?;
                    Kind::IsNull(Box::new(args.remove(0)))
                }
                // `in` and the functions: the compiler checks their arguments.
                _ => Kind::Call(op.to_string(), args),
            }
        };
        Ok(Node::new(kind, at))
    }
}

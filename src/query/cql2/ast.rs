//! The syntax tree both encodings read into, before names are checked against a layer and
//! the tree is compiled (`compile.rs`). Each node remembers where it came from: a
//! character position in cql2-text, a JSON pointer in cql2-json.

use geo::Geometry;

use super::eval::ArithOp;
use crate::query::filter::CompareOp;

/// Where a node is in the filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    /// 1-based character position in cql2-text.
    Char(usize),
    /// JSON pointer in cql2-json (empty: the top level).
    Pointer(String),
}

/// A node and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What it is.
    pub kind: Kind,
    /// Where.
    pub at: Place,
}

/// The nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// `a AND b AND …`
    And(Vec<Node>),
    /// `a OR b OR …`
    Or(Vec<Node>),
    /// `NOT a`
    Not(Box<Node>),
    /// `a op b`
    Compare(CompareOp, Box<Node>, Box<Node>),
    /// `a LIKE b`
    Like(Box<Node>, Box<Node>),
    /// `a BETWEEN b AND c`
    Between(Box<Node>, Box<Node>, Box<Node>),
    /// `a IN (list)`
    In(Box<Node>, Vec<Node>),
    /// `a IS NULL`
    IsNull(Box<Node>),
    /// `a + b` and the other arithmetic operators.
    Arith(ArithOp, Box<Node>, Box<Node>),
    /// A function call by name (spatial, temporal, array, `CASEI`, `ACCENTI`, others).
    Call(String, Vec<Node>),
    /// A property (or `geometry`).
    Property(String),
    /// Text.
    Text(String),
    /// Number.
    Number(f64),
    /// Boolean.
    Bool(bool),
    /// `NULL`.
    Null,
    /// `DATE('…')`, checked.
    Date(String),
    /// `TIMESTAMP('…')`, checked.
    Timestamp(String),
    /// `INTERVAL(a, b)`.
    Interval(Box<Node>, Box<Node>),
    /// A geometry literal (WKT, GeoJSON or BBOX).
    Geometry(Geometry<f64>),
    /// An array `(a, b, …)`.
    Array(Vec<Node>),
}

impl Node {
    /// A node.
    pub fn new(kind: Kind, at: Place) -> Node {
        Node { kind, at }
    }
}

//! The cql2-text parser: tokens (`lex.rs`) to a syntax tree (`ast.rs`), by recursive
//! descent with the precedence of the standard's BNF (OR < AND < NOT < predicates <
//! `+ -` < `* / % div` < `^` < unary minus). Names are not checked here; the compiler does
//! that. Nesting is bounded ([`MAX_FILTER_DEPTH`]) and every error says what was expected
//! and at which character.

use geo::{Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon};
use geo::{Point, Polygon};

use super::ast::{Kind, Node, Place};
use super::eval::ArithOp;
use super::lex::{op_text, tokenize, Tok, Token};
use super::literal::{bbox_geometry, check_ring, Budget};
use super::{Fault, MAX_FILTER_DEPTH};
use crate::config::MAX_GEOMETRY_NESTING;
use crate::query::QueryError;

/// Words that cannot name a property unless double-quoted.
const KEYWORDS: &[&str] = &[
    "AND", "OR", "NOT", "BETWEEN", "IN", "IS", "NULL", "LIKE", "TRUE", "FALSE", "DIV",
];

/// The WKT geometry keywords, and `BBOX`.
const GEOMETRY_KEYWORDS: &[&str] = &[
    "POINT",
    "LINESTRING",
    "POLYGON",
    "MULTIPOINT",
    "MULTILINESTRING",
    "MULTIPOLYGON",
    "GEOMETRYCOLLECTION",
    "BBOX",
];

const GEOMETRIES: &str =
    "POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON, GEOMETRYCOLLECTION or BBOX";

/// Parses cql2-text into a tree; geometry literals draw on `budget`.
pub fn parse(text: &str, budget: &mut Budget) -> Result<Node, QueryError> {
    let mut parser = Parser {
        tokens: tokenize(text),
        next: 0,
        depth: 0,
        collections: 0,
        budget,
    };
    if parser.peek() == &Tok::End {
        return Err(parser.fail("expected a filter but the filter is empty"));
    }
    let node = parser.or_expr()?;
    if parser.peek() != &Tok::End {
        return Err(parser.fail_found("expected AND, OR or the end of the filter"));
    }
    Ok(node)
}

struct Parser<'b> {
    tokens: Vec<Token>,
    next: usize,
    depth: usize,
    /// Geometry collections open around the current literal.
    collections: usize,
    budget: &'b mut Budget,
}

impl Parser<'_> {
    // --- token access ---

    fn token(&self) -> &Token {
        // The last token is always End or Bad, and the parser never moves past it.
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[self.next.min(last)]
    }

    fn peek(&self) -> &Tok {
        &self.token().tok
    }

    fn peek_second(&self) -> &Tok {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[(self.next + 1).min(last)].tok
    }

    fn at(&self) -> usize {
        self.token().at
    }

    fn here(&self) -> Place {
        Place::Char(self.at())
    }

    fn advance(&mut self) {
        if !matches!(self.peek(), Tok::End | Tok::Bad(_)) {
            self.next += 1;
        }
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Tok::Word(w) if w.eq_ignore_ascii_case(keyword))
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let found = self.is_keyword(keyword);
        if found {
            self.advance();
        }
        found
    }

    // --- errors ---

    fn fail(&self, message: impl Into<String>) -> QueryError {
        fault_at(self.at(), Fault::Bad(message.into()))
    }

    fn fail_found(&self, expected: &str) -> QueryError {
        match self.peek() {
            Tok::Bad(why) => self.fail(why.clone()),
            found => self.fail(format!("{expected} but found {found}")),
        }
    }

    fn expect(&mut self, tok: Tok, expected: &str) -> Result<(), QueryError> {
        if self.peek() == &tok {
            self.advance();
            Ok(())
        } else {
            Err(self.fail_found(expected))
        }
    }

    fn enter(&mut self) -> Result<(), QueryError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(self.fail(format!(
                "the filter nests deeper than {MAX_FILTER_DEPTH} levels"
            )));
        }
        Ok(())
    }

    // --- boolean structure ---

    fn or_expr(&mut self) -> Result<Node, QueryError> {
        let at = self.here();
        let mut parts = vec![self.and_expr()?];
        while self.eat_keyword("OR") {
            parts.push(self.and_expr()?);
        }
        Ok(joined(parts, Kind::Or, at))
    }

    fn and_expr(&mut self) -> Result<Node, QueryError> {
        let at = self.here();
        let mut parts = vec![self.not_expr()?];
        while self.eat_keyword("AND") {
            parts.push(self.not_expr()?);
        }
        Ok(joined(parts, Kind::And, at))
    }

    fn not_expr(&mut self) -> Result<Node, QueryError> {
        let at = self.here();
        if self.eat_keyword("NOT") {
            self.enter()?;
            let inner = self.not_expr()?;
            self.depth -= 1;
            return Ok(Node::new(Kind::Not(Box::new(inner)), at));
        }
        self.predicate()
    }

    /// An expression and what may follow it: a comparison, LIKE, BETWEEN, IN, IS NULL.
    fn predicate(&mut self) -> Result<Node, QueryError> {
        let at = self.here();
        let left = self.additive("expected a property name, a value, NOT or '('")?;
        if let Tok::Compare(op) = *self.peek() {
            self.advance();
            let right = self.additive(&format!("expected a value after '{}'", op_text(op)))?;
            return Ok(Node::new(
                Kind::Compare(op, Box::new(left), Box::new(right)),
                at,
            ));
        }
        let negated = self.eat_keyword("NOT");
        let node = if self.eat_keyword("LIKE") {
            if matches!(self.peek(), Tok::Number(_)) || self.is_keyword("TRUE") {
                return Err(self.fail_found("expected a quoted pattern after LIKE"));
            }
            let pattern = self.additive("expected a quoted pattern after LIKE")?;
            Kind::Like(Box::new(left), Box::new(pattern))
        } else if self.eat_keyword("BETWEEN") {
            let low = self.additive("expected a value after BETWEEN")?;
            if !self.eat_keyword("AND") {
                return Err(self.fail_found("expected AND between the two bounds of BETWEEN"));
            }
            let high = self.additive("expected a value after AND")?;
            Kind::Between(Box::new(left), Box::new(low), Box::new(high))
        } else if self.eat_keyword("IN") {
            self.expect(Tok::Open, "expected '(' and a list of values after IN")?;
            let mut values = vec![self.additive("expected a value in the IN list")?];
            while self.peek() == &Tok::Comma {
                self.advance();
                values.push(self.additive("expected a value after ','")?);
            }
            self.expect(Tok::Close, "expected ',' or ')' in the IN list")?;
            Kind::In(Box::new(left), values)
        } else if !negated && self.eat_keyword("IS") {
            let not_null = self.eat_keyword("NOT");
            if !self.eat_keyword("NULL") {
                return Err(self.fail_found(if not_null {
                    "expected NULL after IS NOT"
                } else {
                    "expected NULL or NOT NULL after IS"
                }));
            }
            let is_null = Node::new(Kind::IsNull(Box::new(left)), at.clone());
            return Ok(if not_null {
                Node::new(Kind::Not(Box::new(is_null)), at)
            } else {
                is_null
            });
        } else if negated {
            return Err(self.fail_found("expected BETWEEN, IN or LIKE after NOT"));
        } else {
            return Ok(left);
        };
        let node = Node::new(node, at.clone());
        Ok(if negated {
            Node::new(Kind::Not(Box::new(node)), at)
        } else {
            node
        })
    }

    // --- arithmetic ---

    fn additive(&mut self, expected: &str) -> Result<Node, QueryError> {
        let at = self.here();
        let mut left = self.multiplicative(expected)?;
        // Each operator of a chain is one level more of the tree the compiler walks.
        let mut levels = 0;
        while let Tok::Arith(op @ (ArithOp::Add | ArithOp::Sub)) = *self.peek() {
            self.advance();
            self.enter()?;
            levels += 1;
            let right = self.multiplicative("expected a value after the operator")?;
            left = Node::new(Kind::Arith(op, Box::new(left), Box::new(right)), at.clone());
        }
        self.depth -= levels;
        Ok(left)
    }

    fn multiplicative(&mut self, expected: &str) -> Result<Node, QueryError> {
        let at = self.here();
        let mut left = self.power(expected)?;
        let mut levels = 0;
        loop {
            let op = match self.peek() {
                Tok::Arith(op @ (ArithOp::Mul | ArithOp::Div | ArithOp::Rem)) => *op,
                Tok::Word(w) if w.eq_ignore_ascii_case("div") => ArithOp::IntDiv,
                _ => {
                    self.depth -= levels;
                    return Ok(left);
                }
            };
            self.advance();
            self.enter()?;
            levels += 1;
            let right = self.power("expected a value after the operator")?;
            left = Node::new(Kind::Arith(op, Box::new(left), Box::new(right)), at.clone());
        }
    }

    fn power(&mut self, expected: &str) -> Result<Node, QueryError> {
        let at = self.here();
        let base = self.unary(expected)?;
        if self.peek() == &Tok::Arith(ArithOp::Pow) {
            self.advance();
            self.enter()?;
            let exponent = self.power("expected a value after '^'")?;
            self.depth -= 1;
            return Ok(Node::new(
                Kind::Arith(ArithOp::Pow, Box::new(base), Box::new(exponent)),
                at,
            ));
        }
        Ok(base)
    }

    fn unary(&mut self, expected: &str) -> Result<Node, QueryError> {
        let at = self.here();
        match self.peek() {
            Tok::Arith(ArithOp::Sub) => {
                self.advance();
                self.enter()?;
                let inner = self.unary(expected)?;
                self.depth -= 1;
                Ok(match inner.kind {
                    Kind::Number(n) => Node::new(Kind::Number(-n), at),
                    _ => Node::new(
                        Kind::Arith(
                            ArithOp::Mul,
                            Box::new(Node::new(Kind::Number(-1.0), at.clone())),
                            Box::new(inner),
                        ),
                        at,
                    ),
                })
            }
            Tok::Arith(ArithOp::Add) => {
                self.advance();
                self.unary(expected)
            }
            _ => self.primary(expected),
        }
    }

    // --- primaries ---

    fn primary(&mut self, expected: &str) -> Result<Node, QueryError> {
        let at = self.here();
        let node = match self.peek().clone() {
            Tok::Open => {
                let open_at = self.at();
                self.enter()?;
                self.advance();
                if self.peek() == &Tok::Close {
                    self.advance();
                    self.depth -= 1;
                    return Ok(Node::new(Kind::Array(Vec::new()), at));
                }
                let first = self.or_expr()?;
                let node = if self.peek() == &Tok::Comma {
                    let mut items = vec![first];
                    while self.peek() == &Tok::Comma {
                        self.advance();
                        items.push(self.or_expr()?);
                    }
                    Node::new(Kind::Array(items), at)
                } else {
                    first
                };
                self.expect(
                    Tok::Close,
                    &format!("expected ')' to close the '(' at character {open_at}"),
                )?;
                self.depth -= 1;
                return Ok(node);
            }
            Tok::Text(t) => Kind::Text(t),
            Tok::Number(n) => Kind::Number(n),
            Tok::Word(w) if GEOMETRY_KEYWORDS.iter().any(|k| w.eq_ignore_ascii_case(k)) => {
                let geometry = self.geometry_literal()?;
                return Ok(Node::new(Kind::Geometry(geometry), at));
            }
            Tok::Word(w) if self.peek_second() == &Tok::Open => {
                let is_keyword = KEYWORDS.iter().any(|k| w.eq_ignore_ascii_case(k));
                if is_keyword && !(w.eq_ignore_ascii_case("IN") || w.eq_ignore_ascii_case("LIKE")) {
                    return Err(self.fail_found(expected));
                }
                return self.call(&w);
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("TRUE") => Kind::Bool(true),
            Tok::Word(w) if w.eq_ignore_ascii_case("FALSE") => Kind::Bool(false),
            Tok::Word(w) if w.eq_ignore_ascii_case("NULL") => Kind::Null,
            Tok::Word(w) if KEYWORDS.iter().any(|k| w.eq_ignore_ascii_case(k)) => {
                return Err(self.fail_found(expected))
            }
            Tok::Word(w) | Tok::Quoted(w) => Kind::Property(w),
            _ => return Err(self.fail_found(expected)),
        };
        self.advance();
        Ok(Node::new(node, at))
    }

    /// `name(args)`: DATE, TIMESTAMP and INTERVAL literals, or a function call.
    fn call(&mut self, name: &str) -> Result<Node, QueryError> {
        let at = self.here();
        let upper = name.to_ascii_uppercase();
        self.advance();
        self.expect(Tok::Open, &format!("expected '(' after {name}"))?;
        let node = match upper.as_str() {
            "DATE" | "TIMESTAMP" => {
                let text_at = self.at();
                let Tok::Text(text) = self.peek().clone() else {
                    return Err(self.fail_found(&format!("expected a quoted {upper} in {name}(")));
                };
                let valid = if upper == "DATE" {
                    super::temporal::is_date(&text)
                } else {
                    super::temporal::is_timestamp(&text)
                };
                if !valid {
                    return Err(fault_at(
                        text_at,
                        Fault::bad(format!(
                            "{text:?} is not a valid {}",
                            if upper == "DATE" {
                                "date (YYYY-MM-DD)"
                            } else {
                                "RFC 3339 timestamp (YYYY-MM-DDThh:mm:ssZ)"
                            }
                        )),
                    ));
                }
                self.advance();
                if upper == "DATE" {
                    Kind::Date(text)
                } else {
                    Kind::Timestamp(text)
                }
            }
            "INTERVAL" => {
                let start = self.additive("expected the start of the interval")?;
                self.expect(Tok::Comma, "expected ',' between the ends of the interval")?;
                let end = self.additive("expected the end of the interval")?;
                Kind::Interval(Box::new(start), Box::new(end))
            }
            _ => {
                let mut args = Vec::new();
                if self.peek() != &Tok::Close {
                    args.push(self.or_expr()?);
                    while self.peek() == &Tok::Comma {
                        self.advance();
                        args.push(self.or_expr()?);
                    }
                }
                Kind::Call(name.to_string(), args)
            }
        };
        self.expect(Tok::Close, &format!("expected ')' to close {name}("))?;
        Ok(Node::new(node, at))
    }

    // --- geometry literals (WKT, BBOX) ---

    fn geometry_literal(&mut self) -> Result<Geometry<f64>, QueryError> {
        let Tok::Word(keyword) = self.peek().clone() else {
            return Err(self.fail_found(&format!("expected {GEOMETRIES}")));
        };
        let kind = keyword.to_ascii_uppercase();
        let at = self.at();
        self.advance();
        if let Tok::Word(w) = self.peek() {
            match w.to_ascii_uppercase().as_str() {
                "Z" => self.advance(),
                "M" | "ZM" => {
                    return Err(self.fail("M coordinates are not supported (Z heights are ignored)"))
                }
                "EMPTY" => return Err(self.fail("empty geometries are not supported")),
                _ => {}
            }
        }
        let geometry = match kind.as_str() {
            "POINT" => {
                self.expect(Tok::Open, "expected '(' after POINT")?;
                let c = self.coord()?;
                self.expect(
                    Tok::Close,
                    "expected ')' after the coordinates of the POINT",
                )?;
                Geometry::Point(Point(c))
            }
            "LINESTRING" => Geometry::LineString(self.line()?),
            "POLYGON" => Geometry::Polygon(self.polygon()?),
            "MULTIPOINT" => {
                let points = self.list(|p| {
                    if p.peek() == &Tok::Open {
                        p.advance();
                        let c = p.coord()?;
                        p.expect(Tok::Close, "expected ')' after the point")?;
                        Ok(Point(c))
                    } else {
                        Ok(Point(p.coord()?))
                    }
                })?;
                Geometry::MultiPoint(MultiPoint(points))
            }
            "MULTILINESTRING" => Geometry::MultiLineString(MultiLineString(self.list(Self::line)?)),
            "MULTIPOLYGON" => Geometry::MultiPolygon(MultiPolygon(self.list(Self::polygon)?)),
            "GEOMETRYCOLLECTION" => {
                self.collections += 1;
                if self.collections > MAX_GEOMETRY_NESTING {
                    return Err(fault_at(
                        at,
                        Fault::bad(format!(
                            "geometry collections nest more than {MAX_GEOMETRY_NESTING} levels deep"
                        )),
                    ));
                }
                let parts = self.list(Self::geometry_literal)?;
                self.collections -= 1;
                Geometry::GeometryCollection(GeometryCollection(parts))
            }
            "BBOX" => {
                let numbers = self.list(|p| p.signed_number("expected a number in BBOX"))?;
                bbox_geometry(&numbers, self.budget).map_err(|f| fault_at(at, f))?
            }
            _ => return Err(fault_at(at, Fault::bad(format!("use {GEOMETRIES}")))),
        };
        Ok(geometry)
    }

    /// `( item, item, ... )`
    fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<T, QueryError>,
    ) -> Result<Vec<T>, QueryError> {
        self.expect(Tok::Open, "expected '('")?;
        let mut items = vec![item(self)?];
        while self.peek() == &Tok::Comma {
            self.advance();
            items.push(item(self)?);
        }
        self.expect(Tok::Close, "expected ',' or ')'")?;
        Ok(items)
    }

    /// `lon lat [height]`, checked and counted; the height is ignored.
    fn coord(&mut self) -> Result<geo::Coord<f64>, QueryError> {
        let at = self.at();
        let lon = self.signed_number("expected a longitude")?;
        let lat = self.signed_number("expected a latitude after the longitude")?;
        if matches!(self.peek(), Tok::Number(_) | Tok::Arith(ArithOp::Sub)) {
            self.signed_number("expected a height")?;
        }
        self.budget.coord(lon, lat).map_err(|f| fault_at(at, f))
    }

    fn signed_number(&mut self, expected: &str) -> Result<f64, QueryError> {
        let sign = match self.peek() {
            Tok::Arith(ArithOp::Sub) => {
                self.advance();
                -1.0
            }
            Tok::Arith(ArithOp::Add) => {
                self.advance();
                1.0
            }
            _ => 1.0,
        };
        match *self.peek() {
            Tok::Number(n) => {
                self.advance();
                Ok(sign * n)
            }
            _ => Err(self.fail_found(expected)),
        }
    }

    fn line(&mut self) -> Result<LineString<f64>, QueryError> {
        let at = self.at();
        let coords = self.list(Self::coord)?;
        if coords.len() < 2 {
            return Err(fault_at(
                at,
                Fault::bad("a line string needs at least 2 positions"),
            ));
        }
        Ok(LineString(coords))
    }

    fn polygon(&mut self) -> Result<Polygon<f64>, QueryError> {
        let mut rings = self.list(|p| {
            let at = p.at();
            let coords = p.list(Self::coord)?;
            check_ring(&coords).map_err(|f| fault_at(at, f))?;
            Ok(LineString(coords))
        })?;
        let exterior = rings.remove(0);
        Ok(Polygon::new(exterior, rings))
    }
}

fn fault_at(at: usize, fault: Fault) -> QueryError {
    fault.located(&Place::Char(at))
}

/// One node of several parts.
fn joined(mut parts: Vec<Node>, make: fn(Vec<Node>) -> Kind, at: Place) -> Node {
    if parts.len() == 1 {
        parts.remove(0)
    } else {
        Node::new(make(parts), at)
    }
}

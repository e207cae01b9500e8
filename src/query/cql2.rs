//! CQL2 filters (OGC API – Features Part 3, OGC 21-065): the `filter` parameter in its text
//! (`cql2-text`, the default) and JSON (`cql2-json`) encodings, checked against a layer and
//! compiled into a [`Filter`]. This module owns the CQL2 grammar, its error messages (each
//! says what was expected and where: the 1-based character in text, a JSON pointer in JSON),
//! the WKT and GeoJSON geometry literals of filters, and the limits on untrusted filters
//! (length, nesting depth, vertices). Evaluation is [`Filter::matches`]'s business.
//!
//! The supported subset, in cql2-text (keywords and WKT/function names case-insensitive):
//!
//! ```text
//! filter     := or
//! or         := and { OR and }
//! and        := not { AND not }
//! not        := NOT not | primary
//! primary    := '(' or ')' | spatial | TRUE | FALSE | operand tail
//! tail       := ( '=' | '<>' | '<' | '<=' | '>' | '>=' ) operand
//!             | [NOT] BETWEEN literal AND literal
//!             | [NOT] IN '(' literal { ',' literal } ')'
//!             | [NOT] LIKE 'pattern'                      (% any run, _ one character, \ escapes)
//!             | IS [NOT] NULL
//! operand    := property | literal                        (one side must be a property)
//! property   := identifier | "double-quoted name"         (a property, count column, id, synthetic)
//! literal    := 'text' ('' is a quote) | number (-1, 2.5, 1e3) | TRUE | FALSE
//! spatial    := (S_INTERSECTS | S_WITHIN | S_CONTAINS | S_DISJOINT) '(' garg ',' garg ')'
//!             | S_DWITHIN '(' garg ',' garg ',' metres ')'   (dtmap extension; a POINT literal)
//! garg       := geometry | wkt | BBOX '(' w ',' s ',' e ',' n ')'
//!                                                         (6 numbers: heights ignored;
//!                                                          west > east crosses 180°)
//! wkt        := POINT | LINESTRING | POLYGON | MULTIPOINT | MULTILINESTRING | MULTIPOLYGON,
//!               2D only (lon lat, WGS84): Z, M and EMPTY geometries are refused
//! ```
//!
//! One argument of a spatial function is the feature geometry `geometry`, the other a
//! literal, in either order; with the literal first, `S_WITHIN` and `S_CONTAINS` swap
//! (`S_WITHIN(POINT(44 33), geometry)` holds where the feature contains the point).
//!
//! cql2-json: `{"op": "and"|"or"|"not"|"="|"<>"|"<"|"<="|">"|">="|"between"|"in"|"like"|
//! "isNull"|"s_intersects"|"s_within"|"s_contains"|"s_disjoint"|"s_dwithin", "args": [...]}`,
//! `{"property": "name"}`, string/number/boolean literals, `true`/`false` as filters,
//! `{"bbox": [w, s, e, n]}` and GeoJSON geometry objects.
//!
//! Not supported (a 400 says so): comparing two properties, arithmetic, `CASEI`/`ACCENTI`,
//! temporal and array functions, `S_TOUCHES`/`S_OVERLAPS`/`S_CROSSES`/`S_EQUALS`,
//! geometry collections.

use std::fmt;

use geo::{
    Coord, CoordsIter, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point,
    Polygon,
};
use serde_json::Value as Json;

pub use crate::config::MAX_FILTER_DEPTH;
use crate::config::{
    MAX_FILTER_CHARS, MAX_FILTER_JSON_NESTING, MAX_FILTER_TEXT_NESTING, MAX_GEOMETRY_NESTING,
    MAX_QUERY_VERTICES, MAX_RADIUS_METRES,
};
use crate::error::ApiError;
use crate::geometry::{nests_deeper_than, Brackets};
use crate::model::Layer;
use crate::query::bbox::Bbox;
use crate::query::filter::CompareOp;
use crate::query::spatial::{SpatialOp, SpatialPredicate};
use crate::query::{FieldRef, Filter, Literal};

mod json_text;

/// The `filter-lang` values accepted.
const LANGUAGES: &str = "cql2-text (the default) or cql2-json";

/// Parses a `filter` parameter in `cql2-text` (default) or `cql2-json`.
pub fn parse_filter(layer: &Layer, text: &str, lang: Option<&str>) -> Result<Filter, ApiError> {
    parse_with_limits(layer, text, lang, MAX_QUERY_VERTICES)
}

/// [`parse_filter`] with a vertex budget shared by all the geometry literals of the filter.
fn parse_with_limits(
    layer: &Layer,
    text: &str,
    lang: Option<&str>,
    max_vertices: usize,
) -> Result<Filter, ApiError> {
    let json = match lang.map(str::trim) {
        None => false,
        Some(l) if l.eq_ignore_ascii_case("cql2-text") => false,
        Some(l) if l.eq_ignore_ascii_case("cql2-json") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "filter-lang: {other:?} is not supported; use {LANGUAGES}"
            )))
        }
    };
    // Nesting first: the scan stops at the first bracket too deep, so a deeply nested
    // filter is refused for what is wrong with it, however long it is.
    let (brackets, limit) = if json {
        (Brackets::Json, MAX_FILTER_JSON_NESTING)
    } else {
        (Brackets::Cql2Text, MAX_FILTER_TEXT_NESTING)
    };
    if nests_deeper_than(text, brackets, limit) {
        return Err(ApiError::bad_request(format!(
            "filter: the filter nests deeper than {MAX_FILTER_DEPTH} levels (more than {limit} {} deep)",
            if json { "brackets and braces" } else { "parentheses" }
        )));
    }
    if text.len() > MAX_FILTER_CHARS && text.chars().count() > MAX_FILTER_CHARS {
        return Err(ApiError::TooLarge(format!(
            "filter: longer than {MAX_FILTER_CHARS} characters"
        )));
    }
    let rules = Rules {
        layer,
        vertices_left: max_vertices,
        max_vertices,
    };
    if json {
        JsonParser { rules }.parse(text)
    } else {
        TextParser::new(text, rules).parse()
    }
}

// ---------------------------------------------------------------------------------------
// What both encodings share: names, literal types, spatial predicates, the vertex budget.
// ---------------------------------------------------------------------------------------

/// Why a piece of a filter was refused, before the encoding adds where.
#[derive(Debug)]
enum Fault {
    /// A 400.
    Bad(String),
    /// A 413: over a size limit.
    TooLarge(String),
}

impl Fault {
    fn bad(message: impl Into<String>) -> Fault {
        Fault::Bad(message.into())
    }

    /// The API error, with the location in front of the message.
    fn located(self, location: &str) -> ApiError {
        match self {
            Fault::Bad(m) => ApiError::BadRequest(format!("filter: {location}: {m}")),
            Fault::TooLarge(m) => ApiError::TooLarge(format!("filter: {location}: {m}")),
        }
    }
}

/// The feature geometry or a geometry literal, as a spatial function's argument.
enum GeometryArg {
    /// The feature's own geometry (`geometry`).
    Feature,
    /// A constant geometry.
    Literal(Geometry<f64>),
}

/// The spatial functions.
#[derive(Debug, Clone, Copy, PartialEq)]
enum SpatialFunction {
    Intersects,
    Within,
    Contains,
    Disjoint,
    DWithin,
}

impl SpatialFunction {
    fn from_name(name: &str) -> Option<SpatialFunction> {
        Some(match name.to_ascii_lowercase().as_str() {
            "s_intersects" => SpatialFunction::Intersects,
            "s_within" => SpatialFunction::Within,
            "s_contains" => SpatialFunction::Contains,
            "s_disjoint" => SpatialFunction::Disjoint,
            "s_dwithin" => SpatialFunction::DWithin,
            _ => return None,
        })
    }
}

const SPATIAL_FUNCTIONS: &str = "S_INTERSECTS, S_WITHIN, S_CONTAINS, S_DISJOINT and S_DWITHIN";

/// The name of the feature geometry in spatial functions.
const GEOMETRY_NAME: &str = "geometry";

/// Checks names, literals and geometries against a layer; holds the vertex budget.
struct Rules<'a> {
    layer: &'a Layer,
    vertices_left: usize,
    max_vertices: usize,
}

impl Rules<'_> {
    /// A field by name, or why not.
    fn field(&self, name: &str) -> Result<FieldRef, Fault> {
        if let Some(field) = FieldRef::resolve(self.layer, name) {
            return Ok(field);
        }
        if name == GEOMETRY_NAME {
            return Err(Fault::bad(format!(
                "{GEOMETRY_NAME} can only be used in a spatial function such as S_INTERSECTS({GEOMETRY_NAME}, POLYGON((...)))"
            )));
        }
        Err(Fault::bad(format!(
            "unknown property {name:?}; the queryable properties of {} are {}",
            self.layer.id,
            self.queryable_names().join(", ")
        )))
    }

    /// Every name a filter can use, `geometry` last.
    fn queryable_names(&self) -> Vec<String> {
        let mut names: Vec<String> = crate::api::render::all_property_names(self.layer)
            .into_iter()
            .filter(|n| FieldRef::resolve(self.layer, n).is_some())
            .collect();
        if !names.iter().any(|n| n == "id") && FieldRef::resolve(self.layer, "id").is_some() {
            names.push("id".to_string());
        }
        names.push(GEOMETRY_NAME.to_string());
        names
    }

    /// A literal fit to compare with `field`: counts take numbers (or text spelling one).
    fn literal_for(
        &self,
        field: &FieldRef,
        name: &str,
        literal: Literal,
    ) -> Result<Literal, Fault> {
        if !field.is_count() {
            return Ok(literal);
        }
        match literal {
            Literal::Number(n) => Ok(Literal::Number(n)),
            Literal::Text(text) => match text.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(Literal::Number(n)),
                _ => Err(Fault::bad(format!(
                    "{name} is a count, so it compares with numbers, not the text {text:?}"
                ))),
            },
            Literal::Bool(b) => Err(Fault::bad(format!(
                "{name} is a count, so it compares with numbers, not {}",
                if b { "TRUE" } else { "FALSE" }
            ))),
        }
    }

    /// Takes `n` vertices from the filter's budget.
    fn take_vertices(&mut self, n: usize) -> Result<(), Fault> {
        if n > self.vertices_left {
            return Err(Fault::TooLarge(format!(
                "the geometries of a filter may have at most {} vertices in all",
                self.max_vertices
            )));
        }
        self.vertices_left -= n;
        Ok(())
    }

    /// A checked position.
    fn coord(&mut self, lon: f64, lat: f64) -> Result<Coord<f64>, Fault> {
        self.take_vertices(1)?;
        crate::geometry::check_lon_lat(lon, lat).map_err(|e| Fault::bad(e.to_string()))?;
        Ok(Coord { x: lon, y: lat })
    }
}

/// A `BBOX(w, s, e, n)` literal (6 numbers: heights ignored) as a polygon, or two across
/// the antimeridian.
fn bbox_geometry(numbers: &[f64]) -> Result<Geometry<f64>, Fault> {
    let (w, s, e, n) = match numbers {
        [w, s, e, n] | [w, s, _, e, n, _] => (*w, *s, *e, *n),
        _ => {
            return Err(Fault::bad(format!(
                "a bbox needs 4 numbers (west, south, east, north), got {}",
                numbers.len()
            )))
        }
    };
    let bbox = Bbox::new(w, s, e, n).map_err(Fault::bad)?;
    let mut polygons: Vec<Polygon<f64>> = bbox.rects().iter().map(|r| r.to_polygon()).collect();
    Ok(if polygons.len() == 1 {
        Geometry::Polygon(polygons.remove(0))
    } else {
        Geometry::MultiPolygon(MultiPolygon(polygons))
    })
}

/// The predicate of a spatial function applied to two arguments (one the feature geometry,
/// in either order) and, for `S_DWITHIN`, a distance.
fn spatial_filter(
    function: SpatialFunction,
    first: GeometryArg,
    second: GeometryArg,
    metres: Option<f64>,
) -> Result<Filter, Fault> {
    let (geometry, literal_first) = match (first, second) {
        (GeometryArg::Feature, GeometryArg::Literal(g)) => (g, false),
        (GeometryArg::Literal(g), GeometryArg::Feature) => (g, true),
        _ => {
            return Err(Fault::bad(format!(
                "a spatial function compares the feature geometry `{GEOMETRY_NAME}` with one geometry literal"
            )))
        }
    };
    let op = match function {
        SpatialFunction::Intersects => SpatialOp::Intersects,
        SpatialFunction::Disjoint => SpatialOp::Disjoint,
        SpatialFunction::Within if literal_first => SpatialOp::Contains,
        SpatialFunction::Within => SpatialOp::Within,
        SpatialFunction::Contains if literal_first => SpatialOp::Within,
        SpatialFunction::Contains => SpatialOp::Contains,
        SpatialFunction::DWithin => {
            if !matches!(geometry, Geometry::Point(_)) {
                return Err(Fault::bad("S_DWITHIN takes a POINT literal"));
            }
            SpatialOp::DWithin(check_distance(metres)?)
        }
    };
    Ok(Filter::Spatial(SpatialPredicate { op, geometry }))
}

fn check_distance(metres: Option<f64>) -> Result<f64, Fault> {
    match metres {
        Some(m) if m.is_finite() && m > 0.0 && m <= MAX_RADIUS_METRES => Ok(m),
        Some(m) => Err(Fault::bad(format!(
            "the distance of S_DWITHIN must be more than 0 and at most {MAX_RADIUS_METRES} metres, not {m}"
        ))),
        None => Err(Fault::bad("S_DWITHIN needs a distance in metres")),
    }
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

fn op_text(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "=",
        CompareOp::Ne => "<>",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
    }
}

/// `TRUE` and `FALSE` as filters.
fn constant(value: bool) -> Filter {
    if value {
        Filter::And(Vec::new())
    } else {
        Filter::Or(Vec::new())
    }
}

/// One combined filter of several parts.
fn joined(mut parts: Vec<Filter>, make: fn(Vec<Filter>) -> Filter) -> Filter {
    if parts.len() == 1 {
        parts.remove(0)
    } else {
        make(parts)
    }
}

// ---------------------------------------------------------------------------------------
// cql2-text
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// An unquoted identifier or keyword.
    Word(String),
    /// A "double-quoted" identifier: never a keyword.
    Quoted(String),
    /// A 'single-quoted' string.
    Text(String),
    Number(f64),
    Open,
    Close,
    Comma,
    Compare(CompareOp),
    /// What the lexer could not read; the parser reports it when it gets there.
    Bad(String),
    End,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Word(w) => write!(f, "'{w}'"),
            Tok::Quoted(q) => write!(f, "the name \"{q}\""),
            Tok::Text(t) => write!(f, "the text {t:?}"),
            Tok::Number(n) => write!(f, "the number {n}"),
            Tok::Open => f.write_str("'('"),
            Tok::Close => f.write_str("')'"),
            Tok::Comma => f.write_str("','"),
            Tok::Compare(op) => write!(f, "'{}'", op_text(*op)),
            Tok::Bad(_) => f.write_str("an unreadable character"),
            Tok::End => f.write_str("end of input"),
        }
    }
}

struct Token {
    tok: Tok,
    /// 1-based character position.
    at: usize,
}

/// Splits the text into tokens; stops at the first unreadable one (a [`Tok::Bad`]).
fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).copied();
        let starts_number = |k: usize| {
            chars.get(k).is_some_and(char::is_ascii_digit)
                || (chars.get(k) == Some(&'.')
                    && chars.get(k + 1).is_some_and(char::is_ascii_digit))
        };
        let (tok, len) = match c {
            '(' => (Tok::Open, 1),
            ')' => (Tok::Close, 1),
            ',' => (Tok::Comma, 1),
            '=' => (Tok::Compare(CompareOp::Eq), 1),
            '<' if next == Some('>') => (Tok::Compare(CompareOp::Ne), 2),
            '<' if next == Some('=') => (Tok::Compare(CompareOp::Le), 2),
            '<' => (Tok::Compare(CompareOp::Lt), 1),
            '>' if next == Some('=') => (Tok::Compare(CompareOp::Ge), 2),
            '>' => (Tok::Compare(CompareOp::Gt), 1),
            '!' if next == Some('=') => (Tok::Bad("'!=' is not CQL2; use '<>'".into()), 2),
            '\'' | '"' => match quoted(&chars, i) {
                Some((content, len)) if c == '\'' => (Tok::Text(content), len),
                Some((content, len)) => (Tok::Quoted(content), len),
                None => (
                    Tok::Bad(format!("the {c} opened here is never closed")),
                    chars.len() - i,
                ),
            },
            _ if starts_number(i) || ((c == '-' || c == '+') && starts_number(i + 1)) => {
                number(&chars, i)
            }
            _ if c.is_alphabetic() || c == '_' => {
                let len = chars[i..]
                    .iter()
                    .take_while(|ch| ch.is_alphanumeric() || matches!(ch, '_' | '.' | ':'))
                    .count();
                (Tok::Word(chars[i..i + len].iter().collect()), len)
            }
            other => (Tok::Bad(format!("unexpected character {other:?}")), 1),
        };
        let stop = matches!(tok, Tok::Bad(_));
        tokens.push(Token { tok, at });
        if stop {
            return tokens;
        }
        i += len;
    }
    tokens.push(Token {
        tok: Tok::End,
        at: chars.len() + 1,
    });
    tokens
}

/// The content of a quoted string or name starting at `start` (doubled quotes are one
/// quote), and its length with the quotes; `None` when it is never closed.
fn quoted(chars: &[char], start: usize) -> Option<(String, usize)> {
    let quote = chars[start];
    let mut content = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == quote {
            if chars.get(i + 1) == Some(&quote) {
                content.push(quote);
                i += 2;
                continue;
            }
            return Some((content, i + 1 - start));
        }
        content.push(chars[i]);
        i += 1;
    }
    None
}

/// A number starting at `start`: sign, digits, fraction, exponent.
fn number(chars: &[char], start: usize) -> (Tok, usize) {
    let mut i = start;
    if matches!(chars.get(i), Some('-' | '+')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        while chars.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
    };
    digits(&mut i);
    if chars.get(i) == Some(&'.') {
        i += 1;
        digits(&mut i);
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        let mut j = i + 1;
        if matches!(chars.get(j), Some('-' | '+')) {
            j += 1;
        }
        if chars.get(j).is_some_and(char::is_ascii_digit) {
            i = j;
            digits(&mut i);
        }
    }
    let text: String = chars[start..i].iter().collect();
    let tok = match text.parse::<f64>() {
        Ok(n) if n.is_finite() => Tok::Number(n),
        _ => Tok::Bad(format!("{text} is not a finite number")),
    };
    (tok, i - start)
}

/// Words that cannot name a property unless double-quoted.
const KEYWORDS: &[&str] = &[
    "AND", "OR", "NOT", "BETWEEN", "IN", "IS", "NULL", "LIKE", "TRUE", "FALSE",
];

/// The left side of a predicate, or the right side of a comparison.
enum Operand {
    Field { field: FieldRef, name: String },
    Value(Literal),
}

struct TextParser<'a> {
    tokens: Vec<Token>,
    next: usize,
    depth: usize,
    rules: Rules<'a>,
}

impl<'a> TextParser<'a> {
    fn new(text: &str, rules: Rules<'a>) -> TextParser<'a> {
        TextParser {
            tokens: tokenize(text),
            next: 0,
            depth: 0,
            rules,
        }
    }

    fn parse(mut self) -> Result<Filter, ApiError> {
        if self.peek() == &Tok::End {
            return Err(self.fail("expected a filter but the filter is empty"));
        }
        let filter = self.or_expr()?;
        if self.peek() != &Tok::End {
            return Err(self.fail_found("expected AND, OR or the end of the filter"));
        }
        Ok(filter)
    }

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

    /// An error at the current token.
    fn fail(&self, message: impl Into<String>) -> ApiError {
        self.fault_at(self.at(), Fault::Bad(message.into()))
    }

    /// "expected X but found Y" at the current token; an unreadable token says why.
    fn fail_found(&self, expected: &str) -> ApiError {
        match self.peek() {
            Tok::Bad(why) => self.fail(why.clone()),
            found => self.fail(format!("{expected} but found {found}")),
        }
    }

    fn fault_at(&self, at: usize, fault: Fault) -> ApiError {
        fault.located(&format!("at character {at}"))
    }

    fn expect(&mut self, tok: Tok, expected: &str) -> Result<(), ApiError> {
        if self.peek() == &tok {
            self.advance();
            Ok(())
        } else {
            Err(self.fail_found(expected))
        }
    }

    fn enter(&mut self) -> Result<(), ApiError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(self.fail(format!(
                "the filter nests deeper than {MAX_FILTER_DEPTH} levels"
            )));
        }
        Ok(())
    }

    // --- boolean structure ---

    fn or_expr(&mut self) -> Result<Filter, ApiError> {
        let mut parts = vec![self.and_expr()?];
        while self.eat_keyword("OR") {
            parts.push(self.and_expr()?);
        }
        Ok(joined(parts, Filter::Or))
    }

    fn and_expr(&mut self) -> Result<Filter, ApiError> {
        let mut parts = vec![self.not_expr()?];
        while self.eat_keyword("AND") {
            parts.push(self.not_expr()?);
        }
        Ok(joined(parts, Filter::And))
    }

    fn not_expr(&mut self) -> Result<Filter, ApiError> {
        if self.eat_keyword("NOT") {
            self.enter()?;
            let inner = self.not_expr()?;
            self.depth -= 1;
            return Ok(Filter::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Filter, ApiError> {
        if self.peek() == &Tok::Open {
            let open_at = self.at();
            self.enter()?;
            self.advance();
            let inner = self.or_expr()?;
            self.expect(
                Tok::Close,
                &format!("expected ')' to close the '(' at character {open_at}"),
            )?;
            self.depth -= 1;
            return Ok(inner);
        }
        if let (Tok::Word(name), Tok::Open) = (self.peek(), self.peek_second()) {
            let name = name.clone();
            return self.function(&name);
        }
        let start = self.at();
        let left = self.operand("expected a property name, a value, NOT or '('")?;
        self.predicate(left, start)
    }

    // --- predicates ---

    /// What follows the left operand: a comparison, BETWEEN, IN, LIKE or IS NULL.
    fn predicate(&mut self, left: Operand, start: usize) -> Result<Filter, ApiError> {
        if let Tok::Compare(op) = *self.peek() {
            self.advance();
            let value_at = self.at();
            let right = self.operand(&format!("expected a value after '{}'", op_text(op)))?;
            let (field, name, op, literal) = match (left, right) {
                (Operand::Field { field, name }, Operand::Value(literal)) => {
                    (field, name, op, literal)
                }
                (Operand::Value(literal), Operand::Field { field, name }) => {
                    (field, name, flipped(op), literal)
                }
                (Operand::Field { .. }, Operand::Field { .. }) => {
                    return Err(self.fault_at(
                        value_at,
                        Fault::bad("comparing two properties is not supported; compare a property with a value"),
                    ))
                }
                (Operand::Value(_), Operand::Value(_)) => {
                    return Err(self.fault_at(
                        start,
                        Fault::bad("a comparison needs a property on one side"),
                    ))
                }
            };
            let literal = self
                .rules
                .literal_for(&field, &name, literal)
                .map_err(|f| self.fault_at(value_at, f))?;
            return Ok(Filter::Compare(field, op, literal));
        }
        let negated = self.eat_keyword("NOT");
        let filter = if self.eat_keyword("BETWEEN") {
            let (field, name) = self.left_field(left, start, "BETWEEN")?;
            let low = self.checked_literal(&field, &name, "expected a value after BETWEEN")?;
            if !self.eat_keyword("AND") {
                return Err(self.fail_found("expected AND between the two bounds of BETWEEN"));
            }
            let high = self.checked_literal(&field, &name, "expected a value after AND")?;
            Filter::Between(field, low, high)
        } else if self.eat_keyword("IN") {
            let (field, name) = self.left_field(left, start, "IN")?;
            self.expect(Tok::Open, "expected '(' and a list of values after IN")?;
            let mut values =
                vec![self.checked_literal(&field, &name, "expected a value in the IN list")?];
            while self.peek() == &Tok::Comma {
                self.advance();
                values.push(self.checked_literal(&field, &name, "expected a value after ','")?);
            }
            self.expect(Tok::Close, "expected ',' or ')' in the IN list")?;
            Filter::In(field, values)
        } else if self.eat_keyword("LIKE") {
            let (field, _) = self.left_field(left, start, "LIKE")?;
            let Tok::Text(pattern) = self.peek().clone() else {
                return Err(self.fail_found("expected a quoted pattern after LIKE"));
            };
            self.advance();
            Filter::Like(field, pattern)
        } else if !negated && self.eat_keyword("IS") {
            let (field, _) = self.left_field(left, start, "IS NULL")?;
            let not_null = self.eat_keyword("NOT");
            if !self.eat_keyword("NULL") {
                return Err(self.fail_found(if not_null {
                    "expected NULL after IS NOT"
                } else {
                    "expected NULL or NOT NULL after IS"
                }));
            }
            let is_null = Filter::IsNull(field);
            if not_null {
                Filter::Not(Box::new(is_null))
            } else {
                is_null
            }
        } else if negated {
            return Err(self.fail_found("expected BETWEEN, IN or LIKE after NOT"));
        } else {
            return match left {
                Operand::Value(Literal::Bool(b)) => Ok(constant(b)),
                _ => Err(self.fail_found(
                    "expected a comparison (=, <>, <, <=, >, >=), BETWEEN, IN, LIKE or IS NULL",
                )),
            };
        };
        Ok(if negated {
            Filter::Not(Box::new(filter))
        } else {
            filter
        })
    }

    /// The left operand of BETWEEN, IN, LIKE or IS, which must be a property.
    fn left_field(
        &self,
        left: Operand,
        start: usize,
        what: &str,
    ) -> Result<(FieldRef, String), ApiError> {
        match left {
            Operand::Field { field, name } => Ok((field, name)),
            Operand::Value(_) => Err(self.fault_at(
                start,
                Fault::bad(format!("{what} needs a property on its left")),
            )),
        }
    }

    /// A literal, fit for `field`.
    fn checked_literal(
        &mut self,
        field: &FieldRef,
        name: &str,
        expected: &str,
    ) -> Result<Literal, ApiError> {
        let at = self.at();
        let literal = self.literal(expected)?;
        self.rules
            .literal_for(field, name, literal)
            .map_err(|f| self.fault_at(at, f))
    }

    fn literal(&mut self, expected: &str) -> Result<Literal, ApiError> {
        let literal = match self.peek() {
            Tok::Text(t) => Literal::Text(t.clone()),
            Tok::Number(n) => Literal::Number(*n),
            Tok::Word(w) if w.eq_ignore_ascii_case("TRUE") => Literal::Bool(true),
            Tok::Word(w) if w.eq_ignore_ascii_case("FALSE") => Literal::Bool(false),
            _ => return Err(self.fail_found(expected)),
        };
        self.advance();
        Ok(literal)
    }

    /// A property or a literal.
    fn operand(&mut self, expected: &str) -> Result<Operand, ApiError> {
        let at = self.at();
        let name = match self.peek().clone() {
            Tok::Word(w) if KEYWORDS.iter().any(|k| w.eq_ignore_ascii_case(k)) => {
                if w.eq_ignore_ascii_case("TRUE") || w.eq_ignore_ascii_case("FALSE") {
                    return Ok(Operand::Value(self.literal(expected)?));
                }
                return Err(self.fail_found(expected));
            }
            Tok::Word(w) if self.peek_second() == &Tok::Open => {
                return Err(self.fail(format!(
                    "the function {w} is not supported here; the supported functions are {SPATIAL_FUNCTIONS}"
                )))
            }
            Tok::Word(w) | Tok::Quoted(w) => w,
            Tok::Text(_) | Tok::Number(_) => return Ok(Operand::Value(self.literal(expected)?)),
            _ => return Err(self.fail_found(expected)),
        };
        let field = self.rules.field(&name).map_err(|f| self.fault_at(at, f))?;
        self.advance();
        Ok(Operand::Field { field, name })
    }

    // --- spatial functions and geometry literals ---

    fn function(&mut self, name: &str) -> Result<Filter, ApiError> {
        let at = self.at();
        let Some(function) = SpatialFunction::from_name(name) else {
            return Err(self.fail(format!(
                "the function {name} is not supported; the supported functions are {SPATIAL_FUNCTIONS}"
            )));
        };
        self.advance();
        self.expect(Tok::Open, &format!("expected '(' after {name}"))?;
        let first = self.geometry_arg()?;
        self.expect(
            Tok::Comma,
            &format!("expected ',' between the arguments of {name}"),
        )?;
        let second = self.geometry_arg()?;
        let metres = if function == SpatialFunction::DWithin {
            self.expect(
                Tok::Comma,
                "expected ',' and a distance in metres after the geometries of S_DWITHIN",
            )?;
            Some(self.number("expected a distance in metres")?)
        } else {
            None
        };
        self.expect(Tok::Close, &format!("expected ')' to close {name}("))?;
        spatial_filter(function, first, second, metres).map_err(|f| self.fault_at(at, f))
    }

    fn geometry_arg(&mut self) -> Result<GeometryArg, ApiError> {
        let at = self.at();
        let expected = "expected the feature geometry `geometry` or a geometry (POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON or BBOX)";
        match self.peek().clone() {
            Tok::Word(w) if is_geometry_keyword(&w) => {
                let geometry = self.geometry_literal(&w)?;
                Ok(GeometryArg::Literal(geometry))
            }
            Tok::Word(w) if self.peek_second() == &Tok::Open => Err(self.fail(format!(
                "{w} is not a supported geometry; use POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON or BBOX"
            ))),
            Tok::Word(w) | Tok::Quoted(w) if w == GEOMETRY_NAME => {
                self.advance();
                Ok(GeometryArg::Feature)
            }
            Tok::Word(w) | Tok::Quoted(w) => {
                let fault = match self.rules.field(&w) {
                    Ok(_) => Fault::bad(format!(
                        "{w} is not a geometry; spatial functions take the feature geometry `{GEOMETRY_NAME}`"
                    )),
                    Err(f) => f,
                };
                Err(self.fault_at(at, fault))
            }
            _ => Err(self.fail_found(expected)),
        }
    }

    fn geometry_literal(&mut self, keyword: &str) -> Result<Geometry<f64>, ApiError> {
        let kind = keyword.to_ascii_uppercase();
        let at = self.at();
        self.advance();
        if let Tok::Word(w) = self.peek() {
            let w = w.to_ascii_uppercase();
            if matches!(w.as_str(), "Z" | "M" | "ZM") {
                return Err(self.fail("only 2D geometries (lon lat) are supported, not Z or M"));
            }
            if w == "EMPTY" {
                return Err(self.fail("empty geometries are not supported"));
            }
        }
        let geometry = match kind.as_str() {
            "POINT" => {
                self.expect(Tok::Open, "expected '(' after POINT")?;
                let c = self.coord()?;
                self.expect(Tok::Close, "expected ')' after the coordinates of the POINT")?;
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
            "BBOX" => {
                let numbers = self.list(|p| p.number("expected a number in BBOX"))?;
                bbox_geometry(&numbers).map_err(|f| self.fault_at(at, f))?
            }
            _ => {
                return Err(self.fault_at(
                    at,
                    Fault::bad(format!("{kind} is not supported; use POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON or BBOX")),
                ))
            }
        };
        Ok(geometry)
    }

    /// `( item, item, ... )`
    fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<T, ApiError>,
    ) -> Result<Vec<T>, ApiError> {
        self.expect(Tok::Open, "expected '('")?;
        let mut items = vec![item(self)?];
        while self.peek() == &Tok::Comma {
            self.advance();
            items.push(item(self)?);
        }
        self.expect(Tok::Close, "expected ',' or ')'")?;
        Ok(items)
    }

    /// `lon lat`, checked and counted.
    fn coord(&mut self) -> Result<Coord<f64>, ApiError> {
        let at = self.at();
        let lon = self.number("expected a longitude")?;
        let lat = self.number("expected a latitude after the longitude")?;
        if let Tok::Number(_) = self.peek() {
            return Err(
                self.fail("only 2D coordinates (lon lat) are supported; found a third number")
            );
        }
        self.rules.coord(lon, lat).map_err(|f| self.fault_at(at, f))
    }

    fn number(&mut self, expected: &str) -> Result<f64, ApiError> {
        match *self.peek() {
            Tok::Number(n) => {
                self.advance();
                Ok(n)
            }
            _ => Err(self.fail_found(expected)),
        }
    }

    fn line(&mut self) -> Result<LineString<f64>, ApiError> {
        let at = self.at();
        let coords = self.list(Self::coord)?;
        if coords.len() < 2 {
            return Err(self.fault_at(at, Fault::bad("a line string needs at least 2 positions")));
        }
        Ok(LineString(coords))
    }

    fn ring(&mut self) -> Result<LineString<f64>, ApiError> {
        let at = self.at();
        let coords = self.list(Self::coord)?;
        if coords.len() < 4 {
            return Err(self.fault_at(at, Fault::bad("a polygon ring needs at least 4 positions")));
        }
        if coords.first() != coords.last() {
            return Err(self.fault_at(
                at,
                Fault::bad("the polygon ring is not closed (its first and last positions differ)"),
            ));
        }
        Ok(LineString(coords))
    }

    fn polygon(&mut self) -> Result<Polygon<f64>, ApiError> {
        let mut rings = self.list(Self::ring)?;
        let exterior = rings.remove(0);
        Ok(Polygon::new(exterior, rings))
    }
}

fn is_geometry_keyword(word: &str) -> bool {
    [
        "POINT",
        "LINESTRING",
        "POLYGON",
        "MULTIPOINT",
        "MULTILINESTRING",
        "MULTIPOLYGON",
        "GEOMETRYCOLLECTION",
        "BBOX",
        "ENVELOPE",
    ]
    .iter()
    .any(|k| word.eq_ignore_ascii_case(k))
}

// ---------------------------------------------------------------------------------------
// cql2-json
// ---------------------------------------------------------------------------------------

struct JsonParser<'a> {
    rules: Rules<'a>,
}

/// A JSON pointer to where a problem is, for messages.
fn located_json(path: &str, fault: Fault) -> ApiError {
    let place = if path.is_empty() {
        "cql2-json at the top level".to_string()
    } else {
        format!("cql2-json at {path}")
    };
    fault.located(&place)
}

fn json_bad(path: &str, message: impl Into<String>) -> ApiError {
    located_json(path, Fault::bad(message))
}

/// Whether arrays and objects in `value` nest deeper than `limit`; no recursion.
fn json_nests_deeper_than(value: &Json, limit: usize) -> bool {
    let mut stack = vec![(value, 0usize)];
    while let Some((value, depth)) = stack.pop() {
        let children: Vec<&Json> = match value {
            Json::Array(items) => items.iter().collect(),
            Json::Object(object) => object.values().collect(),
            _ => continue,
        };
        if depth + 1 > limit {
            return true;
        }
        stack.extend(children.into_iter().map(|c| (c, depth + 1)));
    }
    false
}

fn kind_of(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

impl JsonParser<'_> {
    fn parse(mut self, text: &str) -> Result<Filter, ApiError> {
        // Not serde_json::from_str: it stops at 127 brackets, short of 64 filter levels.
        let value: Json = json_text::parse(text, MAX_FILTER_JSON_NESTING).map_err(|e| {
            ApiError::bad_request(format!("filter: not valid cql2-json (JSON): {e}"))
        })?;
        self.boolean(&value, "", 0)
    }

    fn boolean(&mut self, value: &Json, path: &str, depth: usize) -> Result<Filter, ApiError> {
        if depth > MAX_FILTER_DEPTH {
            return Err(json_bad(
                path,
                format!("the filter nests deeper than {MAX_FILTER_DEPTH} levels"),
            ));
        }
        let object = match value {
            Json::Bool(b) => return Ok(constant(*b)),
            Json::Object(o) => o,
            other => {
                return Err(json_bad(
                    path,
                    format!("expected a filter (an object with \"op\" and \"args\", or true/false) but found {}", kind_of(other)),
                ))
            }
        };
        let op = match object.get("op") {
            Some(Json::String(op)) => op.as_str(),
            Some(other) => {
                return Err(json_bad(
                    &format!("{path}/op"),
                    format!(
                        "expected the operator as a string but found {}",
                        kind_of(other)
                    ),
                ))
            }
            None => {
                return Err(json_bad(
                    path,
                    "expected a filter: an object with \"op\" and \"args\"",
                ))
            }
        };
        let args_path = format!("{path}/args");
        let args: &[Json] = match object.get("args") {
            Some(Json::Array(args)) => args,
            Some(other) => {
                return Err(json_bad(
                    &args_path,
                    format!(
                        "expected an array of arguments but found {}",
                        kind_of(other)
                    ),
                ))
            }
            None => {
                return Err(json_bad(
                    path,
                    format!("the operator {op:?} needs \"args\""),
                ))
            }
        };
        let arity = |n: usize| -> Result<(), ApiError> {
            if args.len() == n {
                Ok(())
            } else {
                Err(json_bad(
                    &args_path,
                    format!("{op:?} takes {n} arguments, not {}", args.len()),
                ))
            }
        };
        let arg_path = |i: usize| format!("{args_path}/{i}");
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
        if let Some(op) = compare {
            arity(2)?;
            let (field, name, op, literal, literal_at) = match (
                self.operand(&args[0], &arg_path(0))?,
                self.operand(&args[1], &arg_path(1))?,
            ) {
                (Operand::Field { field, name }, Operand::Value(l)) => {
                    (field, name, op, l, arg_path(1))
                }
                (Operand::Value(l), Operand::Field { field, name }) => {
                    (field, name, flipped(op), l, arg_path(0))
                }
                (Operand::Field { .. }, Operand::Field { .. }) => return Err(json_bad(
                    &args_path,
                    "comparing two properties is not supported; compare a property with a value",
                )),
                (Operand::Value(_), Operand::Value(_)) => {
                    return Err(json_bad(
                        &args_path,
                        "a comparison needs a property on one side",
                    ))
                }
            };
            let literal = self
                .rules
                .literal_for(&field, &name, literal)
                .map_err(|f| located_json(&literal_at, f))?;
            return Ok(Filter::Compare(field, op, literal));
        }
        if let Some(function) = SpatialFunction::from_name(&lower) {
            let metres = if function == SpatialFunction::DWithin {
                arity(3)?;
                match &args[2] {
                    Json::Number(n) => n.as_f64(),
                    other => {
                        return Err(json_bad(
                            &arg_path(2),
                            format!("expected a distance in metres but found {}", kind_of(other)),
                        ))
                    }
                }
            } else {
                arity(2)?;
                None
            };
            let first = self.geometry_arg(&args[0], &arg_path(0))?;
            let second = self.geometry_arg(&args[1], &arg_path(1))?;
            return spatial_filter(function, first, second, metres)
                .map_err(|f| located_json(&args_path, f));
        }
        Ok(match lower.as_str() {
            "and" | "or" => {
                if args.is_empty() {
                    return Err(json_bad(&args_path, format!("{op:?} needs at least one argument")));
                }
                let parts = args
                    .iter()
                    .enumerate()
                    .map(|(i, a)| self.boolean(a, &arg_path(i), depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                joined(parts, if lower == "and" { Filter::And } else { Filter::Or })
            }
            "not" => {
                arity(1)?;
                Filter::Not(Box::new(self.boolean(&args[0], &arg_path(0), depth + 1)?))
            }
            "between" => {
                arity(3)?;
                let (field, name) = self.field(&args[0], &arg_path(0))?;
                let low = self.checked_literal(&field, &name, &args[1], &arg_path(1))?;
                let high = self.checked_literal(&field, &name, &args[2], &arg_path(2))?;
                Filter::Between(field, low, high)
            }
            "in" => {
                arity(2)?;
                let (field, name) = self.field(&args[0], &arg_path(0))?;
                let list = match &args[1] {
                    Json::Array(list) if !list.is_empty() => list,
                    other => {
                        return Err(json_bad(
                            &arg_path(1),
                            format!("expected a non-empty array of values but found {}", if other.is_array() { "an empty array" } else { kind_of(other) }),
                        ))
                    }
                };
                let values = list
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        self.checked_literal(&field, &name, v, &format!("{}/{i}", arg_path(1)))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Filter::In(field, values)
            }
            "like" => {
                arity(2)?;
                let (field, _) = self.field(&args[0], &arg_path(0))?;
                match &args[1] {
                    Json::String(pattern) => Filter::Like(field, pattern.clone()),
                    other => {
                        return Err(json_bad(
                            &arg_path(1),
                            format!("expected a pattern string but found {}", kind_of(other)),
                        ))
                    }
                }
            }
            "isnull" => {
                arity(1)?;
                let (field, _) = self.field(&args[0], &arg_path(0))?;
                Filter::IsNull(field)
            }
            _ => {
                return Err(json_bad(
                    &format!("{path}/op"),
                    format!("the operator {op:?} is not supported; use and, or, not, =, <>, <, <=, >, >=, between, in, like, isNull, s_intersects, s_within, s_contains, s_disjoint or s_dwithin"),
                ))
            }
        })
    }

    fn operand(&self, value: &Json, path: &str) -> Result<Operand, ApiError> {
        match value {
            Json::Object(o) if o.contains_key("property") => {
                let (field, name) = self.field(value, path)?;
                Ok(Operand::Field { field, name })
            }
            other => Ok(Operand::Value(self.literal(other, path)?)),
        }
    }

    fn field(&self, value: &Json, path: &str) -> Result<(FieldRef, String), ApiError> {
        match value.get("property") {
            Some(Json::String(name)) => {
                let field = self.rules.field(name).map_err(|f| located_json(path, f))?;
                Ok((field, name.clone()))
            }
            _ => Err(json_bad(
                path,
                format!(
                    "expected a property ({{\"property\": \"name\"}}) but found {}",
                    kind_of(value)
                ),
            )),
        }
    }

    fn literal(&self, value: &Json, path: &str) -> Result<Literal, ApiError> {
        match value {
            Json::String(s) => Ok(Literal::Text(s.clone())),
            Json::Bool(b) => Ok(Literal::Bool(*b)),
            Json::Number(n) => match n.as_f64() {
                Some(f) if f.is_finite() => Ok(Literal::Number(f)),
                _ => Err(json_bad(path, "the number is not a finite number")),
            },
            other => Err(json_bad(
                path,
                format!(
                    "expected a value (a string, number or boolean) but found {}",
                    kind_of(other)
                ),
            )),
        }
    }

    fn checked_literal(
        &self,
        field: &FieldRef,
        name: &str,
        value: &Json,
        path: &str,
    ) -> Result<Literal, ApiError> {
        let literal = self.literal(value, path)?;
        self.rules
            .literal_for(field, name, literal)
            .map_err(|f| located_json(path, f))
    }

    fn geometry_arg(&mut self, value: &Json, path: &str) -> Result<GeometryArg, ApiError> {
        let Json::Object(object) = value else {
            return Err(json_bad(
                path,
                format!("expected {{\"property\": \"geometry\"}}, {{\"bbox\": [...]}} or a GeoJSON geometry but found {}", kind_of(value)),
            ));
        };
        if let Some(name) = object.get("property") {
            return match name {
                Json::String(n) if n == GEOMETRY_NAME => Ok(GeometryArg::Feature),
                Json::String(n) => {
                    let fault = match self.rules.field(n) {
                        Ok(_) => Fault::bad(format!(
                            "{n} is not a geometry; spatial functions take the feature geometry `{GEOMETRY_NAME}`"
                        )),
                        Err(f) => f,
                    };
                    Err(located_json(path, fault))
                }
                other => Err(json_bad(
                    &format!("{path}/property"),
                    format!("expected a property name but found {}", kind_of(other)),
                )),
            };
        }
        if let Some(bbox) = object.get("bbox") {
            let bbox_path = format!("{path}/bbox");
            let numbers = match bbox {
                Json::Array(items) => items.iter().map(Json::as_f64).collect::<Option<Vec<f64>>>(),
                _ => None,
            }
            .ok_or_else(|| json_bad(&bbox_path, "expected an array of 4 numbers"))?;
            return bbox_geometry(&numbers)
                .map(GeometryArg::Literal)
                .map_err(|f| located_json(&bbox_path, f));
        }
        if object.contains_key("type") {
            if json_nests_deeper_than(value, MAX_GEOMETRY_NESTING) {
                return Err(json_bad(
                    path,
                    format!("the geometry nests arrays and objects more than {MAX_GEOMETRY_NESTING} deep; geometry collections are not supported"),
                ));
            }
            let geometry: geojson::GeometryValue = serde_json::from_value(value.clone())
                .map_err(|e| json_bad(path, format!("not a valid GeoJSON geometry: {e}")))?;
            let geometry = crate::geometry::from_geojson(&geometry, self.rules.vertices_left)
                .map_err(|e| match e {
                    crate::geometry::GeometryError::TooManyVertices { .. } => located_json(
                        path,
                        Fault::TooLarge(format!(
                            "the geometries of a filter may have at most {} vertices in all",
                            self.rules.max_vertices
                        )),
                    ),
                    other => json_bad(path, other.to_string()),
                })?;
            self.rules
                .take_vertices(geometry.coords_count())
                .map_err(|f| located_json(path, f))?;
            return Ok(GeometryArg::Literal(geometry));
        }
        Err(json_bad(
            path,
            "expected {\"property\": \"geometry\"}, {\"bbox\": [...]} or a GeoJSON geometry",
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::model::Snapshot;

    fn snapshot() -> &'static Snapshot {
        static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
        SNAPSHOT.get_or_init(|| {
            let (snapshot, report) = crate::data::load(&crate::config::Config::builtin());
            assert!(report.is_ok(), "{report}");
            snapshot
        })
    }

    fn sites() -> &'static Layer {
        snapshot().layer("sites").expect("sites")
    }

    fn text(filter: &str) -> Result<Filter, ApiError> {
        parse_filter(sites(), filter, None)
    }

    fn message(result: Result<Filter, ApiError>) -> String {
        match result {
            Ok(f) => panic!("expected an error, got {f:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn keywords_are_case_insensitive_and_in_and_between_compile() {
        let f = text("idp_individuals between 10 and 20 and governorate in ('IQG15', 'IQG09')")
            .unwrap();
        assert_eq!(
            f,
            Filter::And(vec![
                Filter::Between(
                    FieldRef::Count(1),
                    Literal::Number(10.0),
                    Literal::Number(20.0)
                ),
                Filter::In(
                    FieldRef::Property("governorate".into()),
                    vec![Literal::Text("IQG15".into()), Literal::Text("IQG09".into())]
                ),
            ])
        );
    }

    #[test]
    fn a_missing_value_says_what_was_expected_and_where() {
        assert_eq!(
            message(text("idp_individuals=")),
            "filter: at character 17: expected a value after '=' but found end of input"
        );
        assert!(message(text("name_en = 'x' AND")).contains("at character 18"));
        assert!(message(text("(name_en = 'x'"))
            .contains("expected ')' to close the '(' at character 1"));
        assert!(message(text("name_en = 'x"))
            .contains("at character 11: the ' opened here is never closed"));
        assert!(message(text("name_en != 'x'")).contains("use '<>'"));
    }

    #[test]
    fn text_literals_unescape_doubled_quotes_and_read_every_number_form() {
        assert_eq!(
            text("name_en = 'Al ''Amarah'").unwrap(),
            Filter::Compare(
                FieldRef::Property("name_en".into()),
                CompareOp::Eq,
                Literal::Text("Al 'Amarah".into())
            )
        );
        for (spelled, value) in [
            ("-5", -5.0),
            ("2.5", 2.5),
            ("1e3", 1000.0),
            (".5", 0.5),
            ("-1.5E-1", -0.15),
        ] {
            assert_eq!(
                text(&format!("idp_individuals > {spelled}")).unwrap(),
                Filter::Compare(FieldRef::Count(1), CompareOp::Gt, Literal::Number(value)),
                "{spelled}"
            );
        }
        assert_eq!(
            text("\"name_en\" IS NOT NULL").unwrap(),
            Filter::Not(Box::new(Filter::IsNull(FieldRef::Property(
                "name_en".into()
            ))))
        );
    }

    #[test]
    fn a_literal_on_the_left_flips_the_comparison() {
        assert_eq!(
            text("5 < idp_individuals").unwrap(),
            Filter::Compare(FieldRef::Count(1), CompareOp::Gt, Literal::Number(5.0))
        );
    }

    #[test]
    fn counts_refuse_text_that_is_not_a_number() {
        assert!(message(text("idp_individuals = 'many'")).contains("is a count"));
        assert_eq!(
            text("idp_individuals = '12'").unwrap(),
            Filter::Compare(FieldRef::Count(1), CompareOp::Eq, Literal::Number(12.0))
        );
    }

    #[test]
    fn the_literal_first_swaps_within_and_contains() {
        let Filter::Spatial(p) = text("S_WITHIN(POINT(44 33), geometry)").unwrap() else {
            panic!()
        };
        assert_eq!(p.op, SpatialOp::Contains);
        let Filter::Spatial(p) =
            text("s_contains(POLYGON((40 30, 41 30, 41 31, 40 30)), geometry)").unwrap()
        else {
            panic!()
        };
        assert_eq!(p.op, SpatialOp::Within);
        let Filter::Spatial(p) = text("S_DWITHIN(geometry, POINT(44.4 33.3), 5e4)").unwrap() else {
            panic!()
        };
        assert_eq!(p.op, SpatialOp::DWithin(50_000.0));
    }

    #[test]
    fn geometry_literals_are_checked() {
        for (filter, needle) in [
            (
                "S_INTERSECTS(geometry, POLYGON((40 30, 41 30, 41 31, 40 31)))",
                "not closed",
            ),
            (
                "S_INTERSECTS(geometry, POLYGON((40 30, 41 30, 40 30)))",
                "at least 4",
            ),
            ("S_INTERSECTS(geometry, POINT(200 30))", "outside"),
            ("S_INTERSECTS(geometry, POINT Z(40 30 1))", "2D"),
            ("S_INTERSECTS(geometry, POINT(40 30 1))", "2D"),
            ("S_INTERSECTS(geometry, POINT EMPTY)", "empty"),
            ("S_INTERSECTS(geometry, LINESTRING(40 30))", "at least 2"),
            (
                "S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(1 1)))",
                "not supported",
            ),
            ("S_INTERSECTS(geometry, BBOX(40, 35, 45, 30))", "south"),
            ("S_INTERSECTS(name_en, POINT(40 30))", "not a geometry"),
            (
                "S_INTERSECTS(POINT(40 31), POINT(40 30))",
                "one geometry literal",
            ),
            ("S_DWITHIN(geometry, POINT(40 30), 0)", "more than 0"),
            ("S_DWITHIN(geometry, POINT(40 30), 3000000)", "at most"),
            ("S_DWITHIN(geometry, LINESTRING(40 30, 41 31), 10)", "POINT"),
            ("S_TOUCHES(geometry, POINT(40 30))", "not supported"),
            (
                "S_INTERSECTS(geometry, CIRCLE(40 30))",
                "not a supported geometry",
            ),
        ] {
            assert!(
                message(text(filter)).contains(needle),
                "{filter}: {}",
                message(text(filter))
            );
        }
        assert!(text("S_INTERSECTS(geometry, MULTIPOINT(40 30, (41 31)))").is_ok());
        assert!(
            text("S_INTERSECTS(geometry, MULTILINESTRING((40 30, 41 31), (42 30, 43 31)))").is_ok()
        );
        assert!(text("S_INTERSECTS(geometry, MULTIPOLYGON(((40 30, 41 30, 41 31, 40 30)), ((42 30, 43 30, 43 31, 42 30))))").is_ok());
        assert!(text("S_INTERSECTS(geometry, BBOX(170, -10, -170, 10))").is_ok());
    }

    #[test]
    fn the_vertex_budget_is_shared_by_every_literal_and_over_it_is_413() {
        let ring = "POLYGON((40 30, 41 30, 41 31, 40 30))";
        let one = format!("S_INTERSECTS(geometry, {ring})");
        let two = format!("{one} OR {one}");
        assert!(parse_with_limits(sites(), &two, None, 8).is_ok());
        assert!(matches!(
            parse_with_limits(sites(), &two, None, 7),
            Err(ApiError::TooLarge(_))
        ));
        let json = r#"{"op":"or","args":[
            {"op":"s_intersects","args":[{"property":"geometry"},{"type":"Polygon","coordinates":[[[40,30],[41,30],[41,31],[40,30]]]}]},
            {"op":"s_intersects","args":[{"property":"geometry"},{"type":"Polygon","coordinates":[[[40,30],[41,30],[41,31],[40,30]]]}]}]}"#;
        assert!(parse_with_limits(sites(), json, Some("cql2-json"), 8).is_ok());
        assert!(matches!(
            parse_with_limits(sites(), json, Some("cql2-json"), 7),
            Err(ApiError::TooLarge(_))
        ));
        let long = "x".repeat(MAX_FILTER_CHARS + 1);
        assert!(matches!(text(&long), Err(ApiError::TooLarge(_))));
    }

    #[test]
    fn the_languages_are_text_and_json_only() {
        assert!(parse_filter(sites(), "name_en = 'x'", Some("cql2-text")).is_ok());
        assert!(
            message(parse_filter(sites(), "name_en = 'x'", Some("ecql"))).contains("cql2-json")
        );
        assert!(
            message(parse_filter(sites(), "{", Some("cql2-json"))).contains("not valid cql2-json")
        );
    }

    #[test]
    fn json_and_text_compile_to_the_same_filter() {
        let pairs = [
            (
                "idp_individuals > 50000 AND governorate IN ('IQG15','IQG09')",
                r#"{"op":"and","args":[{"op":">","args":[{"property":"idp_individuals"},50000]},{"op":"in","args":[{"property":"governorate"},["IQG15","IQG09"]]}]}"#,
            ),
            (
                "NOT (name_en LIKE 'Al%') OR population IS NULL",
                r#"{"op":"or","args":[{"op":"not","args":[{"op":"like","args":[{"property":"name_en"},"Al%"]}]},{"op":"isNull","args":[{"property":"population"}]}]}"#,
            ),
            (
                "S_INTERSECTS(geometry, BBOX(40, 30, 45, 35)) AND idp_families BETWEEN 1 AND 100",
                r#"{"op":"and","args":[{"op":"s_intersects","args":[{"property":"geometry"},{"bbox":[40,30,45,35]}]},{"op":"between","args":[{"property":"idp_families"},1,100]}]}"#,
            ),
            (
                "S_WITHIN(POLYGON((40 30, 41 30, 41 31, 40 30)), geometry)",
                r#"{"op":"s_within","args":[{"type":"Polygon","coordinates":[[[40,30],[41,30],[41,31],[40,30]]]},{"property":"geometry"}]}"#,
            ),
            (
                "S_DWITHIN(geometry, POINT(44.4 33.3), 50000)",
                r#"{"op":"s_dwithin","args":[{"property":"geometry"},{"type":"Point","coordinates":[44.4,33.3]},50000]}"#,
            ),
        ];
        for (text_filter, json_filter) in pairs {
            assert_eq!(
                text(text_filter).unwrap(),
                parse_filter(sites(), json_filter, Some("cql2-json")).unwrap(),
                "{text_filter}"
            );
        }
    }

    #[test]
    fn json_errors_point_at_the_argument() {
        let m = message(parse_filter(
            sites(),
            r#"{"op":"and","args":[{"op":"=","args":[{"property":"colour"},"red"]}, true]}"#,
            Some("cql2-json"),
        ));
        assert!(
            m.contains("/args/0/args/0") && m.contains("unknown property"),
            "{m}"
        );
        let m = message(parse_filter(
            sites(),
            r#"{"op":"=","args":[{"property":"idp_families"},"lots"]}"#,
            Some("cql2-json"),
        ));
        assert!(m.contains("/args/1") && m.contains("is a count"), "{m}");
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = format!("{}name_en = 'x'{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(message(text(&deep)).contains("deeper than 64"));
        let nots = format!("{}name_en = 'x'", "NOT ".repeat(4_000));
        assert!(message(text(&nots)).contains("deeper than 64"));
        let ok = format!("{}name_en = 'x'{}", "(".repeat(60), ")".repeat(60));
        assert!(text(&ok).is_ok());
        let mut json = r#"{"op":"=","args":[{"property":"name_en"},"x"]}"#.to_string();
        for _ in 0..100 {
            json = format!(r#"{{"op":"not","args":[{json}]}}"#);
        }
        assert!(parse_filter(sites(), &json, Some("cql2-json")).is_err());
    }

    fn parens(levels: usize, inner: &str) -> String {
        format!("{}{inner}{}", "(".repeat(levels), ")".repeat(levels))
    }

    fn json_nots(levels: usize, inner: &str) -> String {
        let mut json = inner.to_string();
        for _ in 0..levels {
            json = format!(r#"{{"op":"not","args":[{json}]}}"#);
        }
        json
    }

    fn json_ands(levels: usize, inner: &str) -> String {
        let mut json = inner.to_string();
        for _ in 0..levels {
            json = format!(r#"{{"op":"and","args":[true,{json}]}}"#);
        }
        json
    }

    #[test]
    fn a_filter_nested_exactly_64_levels_is_accepted_and_65_refused_in_both_encodings() {
        assert_eq!(MAX_FILTER_DEPTH, 64);
        let compare = "name_en = 'x'";
        let multipolygon = "S_INTERSECTS(geometry, MULTIPOLYGON(((40 30, 41 30, 41 31, 40 30))))";
        for inner in [compare, multipolygon] {
            assert!(text(&parens(64, inner)).is_ok(), "{inner}");
            assert!(message(text(&parens(65, inner))).contains("deeper than 64"));
            let nots = format!("{}{inner}", "NOT ".repeat(64));
            assert!(text(&nots).is_ok());
            let nots = format!("{}{inner}", "NOT ".repeat(65));
            assert!(message(text(&nots)).contains("deeper than 64"));
        }
        let json = |filter: &str| parse_filter(sites(), filter, Some("cql2-json"));
        let compare = r#"{"op":"=","args":[{"property":"name_en"},"x"]}"#;
        let multipolygon = r#"{"op":"s_intersects","args":[{"property":"geometry"},{"type":"MultiPolygon","coordinates":[[[[40,30],[41,30],[41,31],[40,30]]]]}]}"#;
        let within = r#"{"op":"in","args":[{"property":"name_en"},["x","y"]]}"#;
        for inner in [compare, multipolygon, within] {
            for nest in [json_nots, json_ands] {
                assert!(json(&nest(64, inner)).is_ok(), "{inner}");
                let m = message(json(&nest(65, inner)));
                assert!(m.contains("deeper than 64"), "{m}");
            }
        }
    }

    #[test]
    fn nesting_100000_deep_is_a_400_about_nesting_in_both_encodings() {
        let deep_text = [
            parens(100_000, "name_en = 'x'"),
            "(".repeat(100_000),
            format!("S_INTERSECTS(geometry, {})", "POLYGON(".repeat(100_000)),
        ];
        for filter in &deep_text {
            let result = text(filter);
            assert!(matches!(result, Err(ApiError::BadRequest(_))), "{result:?}");
            assert!(message(result).contains("deeper than 64"));
        }
        let deep_json = [
            json_nots(100_000, r#"{"op":"=","args":[{"property":"name_en"},"x"]}"#),
            "[".repeat(100_000),
            format!(
                r#"{{"op":"s_intersects","args":[{{"property":"geometry"}},{}"#,
                r#"{"type":"GeometryCollection","geometries":["#.repeat(100_000)
            ),
        ];
        for filter in &deep_json {
            let result = parse_filter(sites(), filter, Some("cql2-json"));
            assert!(matches!(result, Err(ApiError::BadRequest(_))), "{result:?}");
            assert!(message(result).contains("deeper than 64"));
        }
    }

    #[test]
    fn geometry_collections_in_filters_are_refused_however_they_nest() {
        let collection = format!(
            "S_INTERSECTS(geometry, {}POINT(44 33){})",
            "GEOMETRYCOLLECTION(".repeat(20),
            ")".repeat(20)
        );
        assert!(message(text(&collection)).contains("not supported"));
        let mut geometry = r#"{"type":"Point","coordinates":[44,33]}"#.to_string();
        for _ in 0..20 {
            geometry = format!(r#"{{"type":"GeometryCollection","geometries":[{geometry}]}}"#);
        }
        let filter =
            format!(r#"{{"op":"s_intersects","args":[{{"property":"geometry"}},{geometry}]}}"#);
        let m = message(parse_filter(sites(), &filter, Some("cql2-json")));
        assert!(m.contains("more than 16 deep"), "{m}");
        let shallow = r#"{"op":"s_intersects","args":[{"property":"geometry"},{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[44,33]}]}]}"#;
        let m = message(parse_filter(sites(), shallow, Some("cql2-json")));
        assert!(m.contains("not supported"), "{m}");
    }

    /// Random bytes and random soups of CQL2 words: every one is Ok or Err, never a panic,
    /// and whatever parses can be evaluated on every site.
    #[test]
    fn garbage_never_panics() {
        let words = [
            "(",
            ")",
            ",",
            "=",
            "<>",
            "<",
            "<=",
            ">",
            ">=",
            "AND",
            "OR",
            "NOT",
            "BETWEEN",
            "IN",
            "IS",
            "NULL",
            "LIKE",
            "TRUE",
            "FALSE",
            "'Al%'",
            "'",
            "\"",
            "\"name_en\"",
            "name_en",
            "idp_individuals",
            "population",
            "governorate",
            "geometry",
            "id",
            "synthetic",
            "S_INTERSECTS",
            "S_WITHIN",
            "S_CONTAINS",
            "S_DISJOINT",
            "S_DWITHIN",
            "POINT",
            "POLYGON",
            "LINESTRING",
            "MULTIPOINT",
            "MULTIPOLYGON",
            "MULTILINESTRING",
            "BBOX",
            "EMPTY",
            "Z",
            "44",
            "33",
            "-1",
            "1e999",
            "0.5",
            ".",
            "-",
            "!",
            "é",
            "\u{0}",
            "((",
            "44 33",
            "40 30, 41 30, 41 31, 40 30",
            "50000",
        ];
        let layer = sites();
        let round = layer.latest_round();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(2024);
        let mut parsed = 0;
        for case in 0..4000 {
            let input = if case % 3 == 0 {
                let bytes: Vec<u8> = (0..rng.gen_range(0..60)).map(|_| rng.gen()).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                (0..rng.gen_range(1..25))
                    .map(|_| words[rng.gen_range(0..words.len())])
                    .collect::<Vec<_>>()
                    .join(if case % 2 == 0 { " " } else { "" })
            };
            let lang = if case % 5 == 0 {
                Some("cql2-json")
            } else {
                None
            };
            if let Ok(filter) = parse_filter(layer, &input, lang) {
                parsed += 1;
                for f in 0..layer.features.len() as u32 {
                    filter.matches(layer, round, f);
                }
            }
        }
        // Most soups are nonsense; enough must parse for the evaluation to be exercised.
        assert!(parsed >= 5, "only {parsed} random filters parsed");
        let json_words = [
            r#"{"op":"and","args":["#,
            r#"{"op":"s_intersects","args":["#,
            r#"{"property":"geometry"}"#,
            r#"{"type":"Point","coordinates":[44]}"#,
            r#"{"type":"Polygon","coordinates":[[[1,1],[1,1],[1,1],[1,1]]]}"#,
            r#"{"bbox":[1,2,3]}"#,
            "]}",
            ",",
            "[",
            "]",
            "1",
            "\"x\"",
            "null",
            "true",
            r#"{"op":"in","args":["#,
            r#"{"property":"idp_families"}"#,
            r#"{"op":"s_dwithin","args":["#,
        ];
        for _ in 0..3000 {
            let input: String = (0..rng.gen_range(1..12))
                .map(|_| json_words[rng.gen_range(0..json_words.len())])
                .collect();
            if let Ok(filter) = parse_filter(layer, &input, Some("cql2-json")) {
                for f in 0..layer.features.len() as u32 {
                    filter.matches(layer, round, f);
                }
            }
        }
    }

    /// Degenerate but well-formed literals (zero-area rings, bow ties, duplicate parts,
    /// the whole world) evaluate against every layer without panicking.
    #[test]
    fn degenerate_geometry_literals_evaluate_on_every_layer() {
        let literals = [
            "POLYGON((44 33, 44 33, 44 33, 44 33))",
            "POLYGON((40 30, 45 35, 45 30, 40 35, 40 30))",
            "POLYGON((40 30, 45 30, 45 35, 40 35, 40 30),(40 30, 45 30, 45 35, 40 35, 40 30))",
            "POLYGON((40 30, 45 30, 45 35, 40 35, 40 30),(30 20, 50 20, 50 40, 30 20))",
            "MULTIPOLYGON(((40 30, 45 30, 45 35, 40 35, 40 30)),((40 30, 45 30, 45 35, 40 35, 40 30)))",
            "LINESTRING(44 33, 44 33)",
            "MULTIPOINT(44 33, 44 33)",
            "POLYGON((40 30, 50 30, 40 30, 50 30, 40 30))",
            "BBOX(44,33,44,33)",
            "POLYGON((-180 -90, 180 -90, 180 90, -180 90, -180 -90))",
        ];
        for layer in &snapshot().layers {
            for function in ["S_INTERSECTS", "S_WITHIN", "S_CONTAINS", "S_DISJOINT"] {
                for lit in literals {
                    for order in [0, 1] {
                        let text = if order == 0 {
                            format!("{function}(geometry, {lit})")
                        } else {
                            format!("{function}({lit}, geometry)")
                        };
                        let filter = parse_filter(layer, &text, None).unwrap();
                        for i in 0..layer.features.len() as u32 {
                            filter.matches(layer, layer.latest_round(), i);
                        }
                    }
                }
            }
            for lit in ["POINT(44 33)", "POINT(180 90)", "POINT(-180 -90)"] {
                let filter =
                    parse_filter(layer, &format!("S_DWITHIN(geometry, {lit}, 2000000)"), None)
                        .unwrap();
                for i in 0..layer.features.len() as u32 {
                    filter.matches(layer, layer.latest_round(), i);
                }
            }
        }
    }
}

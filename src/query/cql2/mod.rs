//! CQL2 filters (OGC API – Features Part 3, OGC 21-065): the `filter` parameter in its text
//! (`cql2-text`, the default) and JSON (`cql2-json`) encodings, checked against a layer and
//! compiled into a [`Filter`]. All the conformance classes of CQL2 1.0 are implemented:
//! basic CQL2, advanced comparison operators (`LIKE`, `BETWEEN`, `IN`), case- and
//! accent-insensitive comparison (`CASEI`, `ACCENTI`), basic spatial functions (plus, with
//! every WKT type and `GEOMETRYCOLLECTION`), spatial functions (`S_*`, DE-9IM), temporal
//! functions (`DATE`, `TIMESTAMP`, `INTERVAL` with open `'..'` ends, `T_*`, Allen's
//! relations), array functions (`A_*`), property-property comparisons, arithmetic
//! (`+ - * / % div ^`) and functions. dtmap adds `S_DWITHIN(geometry, POINT(…), metres)`.
//!
//! The layers:
//! - `lex.rs` and `text.rs` read cql2-text, `json_text.rs` and `json.rs` read cql2-json, into
//!   one syntax tree (`ast.rs`); `literal.rs` holds the geometry literals both share and the
//!   vertex budget; `temporal.rs` reads dates and times and relates periods.
//! - `compile.rs` checks names and functions against the layer and builds a [`Filter`]:
//!   the simple variants where they can say it (so comparisons stay fast and spatial
//!   predicates narrow the R-tree scan), a general [`eval::Condition`] otherwise.
//! - `eval.rs` evaluates the general conditions with three-valued logic.
//!
//! Why a parser of its own rather than the `cql2` crate's: measured on the bench's filter
//! (a count threshold and a 64-vertex polygon), the crate's `parse_text` alone took 260 µs,
//! dtmap's parse, name check and compilation 23 µs; the crate would also bring pest,
//! sqlparser, jsonschema and second copies of geojson and geozero into the server, turn on
//! serde_json's `preserve_order` for the whole build, and report errors without dtmap's
//! positions and limits. The crate's package still serves as the test oracle.
//!
//! Errors are [`QueryError`]s: 400 (each says what was expected and where: the 1-based
//! character in text, a JSON pointer in JSON) or 413 (over the vertex budget or the
//! length limit). The limits on untrusted filters (length, nesting depth, vertices) are
//! checked before and while parsing.
//!
//! Names: the layer's properties, its count columns (numbers of the selected round), `id`,
//! `synthetic`, `round_date` (the date of the selected round) and `geometry` (the feature
//! geometry). Functions other than the standard's are errors unless the caller declares them
//! in [`Options::functions`]; a declared function evaluates to NULL (dtmap declares none).
//! Positions are WGS84 (lon, lat); a third number (a height) is ignored.

pub use crate::config::MAX_FILTER_DEPTH;
use crate::config::{
    MAX_FILTER_CHARS, MAX_FILTER_JSON_NESTING, MAX_FILTER_TEXT_NESTING, MAX_QUERY_VERTICES,
};
use crate::geometry::{nests_deeper_than, Brackets};
use crate::model::Layer;
use crate::query::{Filter, QueryError};

mod ast;
mod compile;
pub mod eval;
mod json;
mod json_text;
mod lex;
pub mod literal;
pub mod temporal;
#[cfg(test)]
mod tests;
mod text;

/// The `filter-lang` values accepted.
const LANGUAGES: &str = "cql2-text (the default) or cql2-json";

/// The name of the feature geometry.
pub const GEOMETRY_NAME: &str = "geometry";

/// How a filter is read beyond the standard.
#[derive(Debug, Clone)]
pub struct Options {
    /// Vertices all geometry literals of a filter may have together.
    pub max_vertices: usize,
    /// Refuse positions outside longitude -180..180 and latitude -90..90 (the API does;
    /// the standard's test data lies on a plane beyond them).
    pub check_range: bool,
    /// Functions accepted beyond the standard's; they evaluate to NULL.
    pub functions: Vec<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_vertices: MAX_QUERY_VERTICES,
            check_range: true,
            functions: Vec::new(),
        }
    }
}

/// Parses a `filter` parameter in `cql2-text` (default) or `cql2-json`.
pub fn parse_filter(layer: &Layer, text: &str, lang: Option<&str>) -> Result<Filter, QueryError> {
    parse_filter_with(layer, text, lang, &Options::default())
}

/// [`parse_filter`] with [`Options`].
pub fn parse_filter_with(
    layer: &Layer,
    text: &str,
    lang: Option<&str>,
    options: &Options,
) -> Result<Filter, QueryError> {
    let json = match lang.map(str::trim) {
        None => false,
        Some(l) if l.eq_ignore_ascii_case("cql2-text") => false,
        Some(l) if l.eq_ignore_ascii_case("cql2-json") => true,
        Some(other) => {
            return Err(QueryError::bad(format!(
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
        return Err(QueryError::bad(format!(
            "filter: the filter nests deeper than {MAX_FILTER_DEPTH} levels (more than {limit} {} deep)",
            if json { "brackets and braces" } else { "parentheses" }
        )));
    }
    if text.len() > MAX_FILTER_CHARS && text.chars().count() > MAX_FILTER_CHARS {
        return Err(QueryError::too_large(format!(
            "filter: longer than {MAX_FILTER_CHARS} characters"
        )));
    }
    let mut budget = literal::Budget {
        left: options.max_vertices,
        max: options.max_vertices,
        check_range: options.check_range,
    };
    let tree = if json {
        json::parse(text, &mut budget)?
    } else {
        text::parse(text, &mut budget)?
    };
    compile::Compiler {
        layer,
        functions: &options.functions,
    }
    .filter(&tree)
}

/// Why a piece of a filter was refused, before the encoding adds where.
#[derive(Debug)]
pub enum Fault {
    /// A 400.
    Bad(String),
    /// A 413: over a size limit.
    TooLarge(String),
}

impl Fault {
    fn bad(message: impl Into<String>) -> Fault {
        Fault::Bad(message.into())
    }

    /// The error, with the place in front of the message.
    fn located(self, place: &ast::Place) -> QueryError {
        let (location, position) = match place {
            ast::Place::Char(at) => (format!("at character {at}"), Some(*at)),
            ast::Place::Pointer(p) if p.is_empty() => {
                ("cql2-json at the top level".to_string(), None)
            }
            ast::Place::Pointer(p) => (format!("cql2-json at {p}"), None),
        };
        let mut error = match self {
            Fault::Bad(m) => QueryError::bad(format!("filter: {location}: {m}")),
            Fault::TooLarge(m) => QueryError::too_large(format!("filter: {location}: {m}")),
        };
        error.position = position;
        error
    }
}

/// Every name a filter can use, `geometry` last.
pub fn queryable_names(layer: &Layer) -> Vec<String> {
    let mut names: Vec<String> = layer.fields.clone();
    names.extend(layer.count_columns.iter().cloned());
    for extra in ["id", "synthetic", "round_date"] {
        if !names.iter().any(|n| n == extra)
            && crate::query::FieldRef::resolve(layer, extra).is_some()
        {
            names.push(extra.to_string());
        }
    }
    names.push(GEOMETRY_NAME.to_string());
    names
}

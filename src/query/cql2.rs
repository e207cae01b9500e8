//! CQL2 filters (OGC API – Features Part 3): text and JSON encodings compiled into a
//! [`Filter`] over a layer's properties and geometry.

use crate::error::ApiError;
use crate::model::Layer;
use crate::query::Filter;

/// Parses a `filter` parameter in `cql2-text` (default) or `cql2-json`.
pub fn parse_filter(_layer: &Layer, _text: &str, _lang: Option<&str>) -> Result<Filter, ApiError> {
    Err(ApiError::bad_request("filter: CQL2 is not available yet"))
}

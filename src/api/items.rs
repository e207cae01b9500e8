//! `/collections/{id}/items` and `/collections/{id}/items/{fid}`: features with the counts
//! of one round, selected by bbox, property equality and CQL2 filters, sorted and paged.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};

use super::render::{self, FeaturePage, PropertyChoice};
use super::{data_response, layer, AppState, BaseUrl, NegotiatedFeatures, QueryParams};
use crate::config::{DEFAULT_ITEMS_LIMIT, MAX_ITEMS_LIMIT};
use crate::error::ApiError;
use crate::model::Layer;
use crate::query::{self, Bbox, FieldRef, Filter, Literal, Selection, SortKey};

/// The query parameters of the items endpoint, as given: the standard ones, and any other
/// as an equality filter on a property (`?region=R01`).
#[derive(Debug, Default, Deserialize)]
pub struct ItemsParams {
    /// The standard parameters.
    #[serde(flatten)]
    pub standard: ItemsStandard,
    /// Property equality filters.
    #[serde(flatten)]
    pub equals: BTreeMap<String, String>,
}

impl std::ops::Deref for ItemsParams {
    type Target = ItemsStandard;

    fn deref(&self) -> &ItemsStandard {
        &self.standard
    }
}

/// The standard query parameters of the items endpoint.
#[derive(Debug, Default, Deserialize)]
pub struct ItemsStandard {
    /// Page size.
    pub limit: Option<String>,
    /// Features to skip.
    pub offset: Option<String>,
    /// `west,south,east,north`.
    pub bbox: Option<String>,
    /// CRS of `bbox` (CRS84 only).
    #[serde(rename = "bbox-crs")]
    pub bbox_crs: Option<String>,
    /// Instant or interval selecting the round.
    pub datetime: Option<String>,
    /// Round id.
    pub round: Option<String>,
    /// Properties to include.
    pub properties: Option<String>,
    /// Sort keys, `-` for descending.
    pub sortby: Option<String>,
    /// CQL2 filter.
    pub filter: Option<String>,
    /// `cql2-text` or `cql2-json`.
    #[serde(rename = "filter-lang")]
    pub filter_lang: Option<String>,
    /// CRS of the filter's geometries (CRS84 only).
    #[serde(rename = "filter-crs")]
    pub filter_crs: Option<String>,
    /// Response CRS (CRS84 only).
    pub crs: Option<String>,
    /// Output format.
    pub f: Option<String>,
}

/// `GET /collections/{id}/items`
pub async fn list(
    State(state): State<Arc<AppState>>,
    BaseUrl(base): BaseUrl,
    NegotiatedFeatures(format): NegotiatedFeatures,
    Path(id): Path<String>,
    QueryParams(params): QueryParams<ItemsParams>,
    raw_query: axum::extract::RawQuery,
) -> Result<Response, ApiError> {
    let snapshot = state.current();
    let layer = layer(&snapshot, &id)?;
    let request = ItemsRequest::new(layer, &params)?;
    // A filter may hold a geometry as large as the vertex limit, whatever the layer's
    // size; sorting and full scans cost in proportion to the layer.
    let large = layer.features.len() > INLINE_SCAN_FEATURES;
    let filtered = request.selection.filter.is_some();
    // FlatGeobuf is sorted and indexed as it is written, through a temporary file.
    let costly = filtered
        || format == super::Format::Fgb
        || (large && (!request.selection.sort.is_empty() || request.selection.bbox.is_none()));
    let heavy = (filtered
        && params
            .filter
            .as_ref()
            .is_some_and(|f| f.len() > LIGHT_FILTER_CHARS))
        || (large && !request.selection.sort.is_empty())
        || layer.features.len() > HEAVY_SCAN_FEATURES;
    let href = format!("{base}/collections/{}/items", layer.id);
    let answer = move |layer: &Layer| {
        let (matched, page) = if request.no_round {
            (0, Vec::new())
        } else {
            query::select_page(layer, &request.selection, request.offset, request.limit)
        };
        let page = FeaturePage {
            layer,
            round: request.selection.round,
            features: &page,
            choice: &request.properties,
            distances: None,
        };
        let links = |returned| {
            page_links(
                &href,
                raw_query.0.as_deref(),
                request.offset,
                request.limit,
                matched,
                returned,
            )
        };
        page.respond(format, matched, &links, None)
    };
    if !costly {
        return Ok(answer(layer));
    }
    let layer = layer.clone();
    let pool = if heavy { &state.heavy } else { &state.light };
    pool.run(move || Ok(answer(&layer))).await
}

/// Filters longer than this (a large geometry literal) run on the heavy pool.
const LIGHT_FILTER_CHARS: usize = 4_000;
/// Scans of layers larger than this run on the heavy pool.
const HEAVY_SCAN_FEATURES: usize = 200_000;

/// Layers up to this size are scanned and sorted on the async workers; filters, and
/// scans or sorting of larger layers, run on the compute pool.
const INLINE_SCAN_FEATURES: usize = 10_000;

/// The parameters of `/items/{fid}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemParams {
    /// Instant or interval selecting the round.
    pub datetime: Option<String>,
    /// Round id.
    pub round: Option<String>,
    /// Properties to include.
    pub properties: Option<String>,
    /// Response CRS (CRS84 only).
    pub crs: Option<String>,
    /// Output format.
    pub f: Option<String>,
}

/// `GET /collections/{id}/items/{fid}`
pub async fn one(
    State(state): State<Arc<AppState>>,
    BaseUrl(base): BaseUrl,
    NegotiatedFeatures(format): NegotiatedFeatures,
    Path((id, fid)): Path<(String, String)>,
    QueryParams(params): QueryParams<ItemParams>,
) -> Result<Response, ApiError> {
    let snapshot = state.current();
    let layer = layer(&snapshot, &id)?;
    check_crs(params.crs.as_deref(), "crs")?;
    let feature = layer
        .position(&fid)
        .ok_or_else(|| ApiError::not_found(format!("no feature {fid:?} in {}", layer.id)))?;
    let round = select_round(layer, params.round.as_deref(), params.datetime.as_deref())?;
    let properties = property_choice(layer, params.properties.as_deref())?;
    if matches!(format, super::Format::Csv | super::Format::Fgb) {
        let page = FeaturePage {
            layer,
            round,
            features: &[feature],
            choice: &properties,
            distances: None,
        };
        return Ok(page.respond(format, 1, &|_| Value::Null, None));
    }
    let mut body = String::new();
    render::write_feature(&mut body, layer, round, feature, &properties, None);
    // Add links after the fact: the feature is a JSON object ending with '}'.
    body.pop();
    let collection = format!("{base}/collections/{}", layer.id);
    let item = format!("{collection}/items/{}", percent_encode(&fid));
    let links = json!([
        { "href": item, "rel": "self", "type": super::GEOJSON, "title": "this feature" },
        { "href": format!("{item}?f=csv"), "rel": "alternate", "type": "text/csv", "title": "this feature as CSV" },
        { "href": format!("{item}?f=fgb"), "rel": "alternate", "type": super::FGB, "title": "this feature as FlatGeobuf" },
        { "href": collection, "rel": "collection", "type": super::JSON, "title": "the collection" },
    ]);
    body.push_str(r#","links":"#);
    body.push_str(&links.to_string());
    body.push('}');
    Ok(data_response(body, super::GEOJSON))
}

/// A checked items request.
#[derive(Debug)]
pub struct ItemsRequest {
    /// What to select.
    pub selection: Selection,
    /// `datetime` matched no round: the answer is empty.
    pub no_round: bool,
    /// Page start.
    pub offset: usize,
    /// Page size.
    pub limit: usize,
    /// Properties to write.
    pub properties: PropertyChoice,
}

impl ItemsRequest {
    /// Checks every parameter against the layer; the first problem is the 400.
    pub fn new(layer: &Layer, params: &ItemsParams) -> Result<ItemsRequest, ApiError> {
        check_crs(params.bbox_crs.as_deref(), "bbox-crs")?;
        check_crs(params.crs.as_deref(), "crs")?;
        check_crs(params.filter_crs.as_deref(), "filter-crs")?;
        let limit = parse_limit(params.limit.as_deref())?;
        let offset = match params.offset.as_deref() {
            None => 0,
            Some(text) => text.trim().parse::<usize>().map_err(|_| {
                ApiError::bad_request(format!(
                    "offset: {text:?} is not a whole number of 0 or more"
                ))
            })?,
        };
        let bbox = params
            .bbox
            .as_deref()
            .map(Bbox::parse)
            .transpose()
            .map_err(ApiError::BadRequest)?;
        let matched = match_round(layer, params.round.as_deref(), params.datetime.as_deref())?;
        let no_round = matched.is_none();
        let round = matched.unwrap_or(None);
        let mut filters = Vec::new();
        for (name, value) in &params.equals {
            let field = FieldRef::resolve(layer, name).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown parameter {name:?}: it is neither a standard parameter nor a property of {}; its properties are {}",
                    layer.id,
                    render::all_property_names(layer).join(", ")
                ))
            })?;
            let literal = if field.is_count() {
                Literal::Number(value.trim().parse::<f64>().map_err(|_| {
                    ApiError::bad_request(format!("{name}: {value:?} is not a number"))
                })?)
            } else {
                Literal::Text(value.clone())
            };
            filters.push(Filter::Compare(
                field,
                query::filter::CompareOp::Eq,
                literal,
            ));
        }
        if let Some(text) = &params.filter {
            filters.push(crate::query::cql2::parse_filter(
                layer,
                text,
                params.filter_lang.as_deref(),
            )?);
        } else if params.filter_lang.is_some() {
            return Err(ApiError::bad_request("filter-lang given without filter"));
        }
        let filter = match filters.len() {
            0 => None,
            1 => filters.pop(),
            _ => Some(Filter::And(filters)),
        };
        let sort = parse_sortby(layer, params.sortby.as_deref())?;
        let properties = property_choice(layer, params.properties.as_deref())?;
        Ok(ItemsRequest {
            selection: Selection {
                bbox,
                round,
                filter,
                sort,
            },
            no_round,
            offset,
            limit,
            properties,
        })
    }
}

/// `limit`: default [`DEFAULT_ITEMS_LIMIT`]; a whole number above [`MAX_ITEMS_LIMIT`] is
/// capped to it (OGC API – Features, /req/core/fc-limit-response-1); 0, negative or not a
/// number is a 400.
pub fn parse_limit(text: Option<&str>) -> Result<usize, ApiError> {
    let Some(text) = text else {
        return Ok(DEFAULT_ITEMS_LIMIT);
    };
    let digits = text.trim();
    let digits = digits.strip_prefix('+').unwrap_or(digits);
    let whole = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    let significant = digits.trim_start_matches('0');
    if !whole || significant.is_empty() {
        return Err(ApiError::bad_request(format!(
            "limit: {text:?} must be a whole number of 1 or more (at most {MAX_ITEMS_LIMIT} are returned)"
        )));
    }
    // Longer than the maximum's digits: above it, however large (no overflow).
    Ok(significant
        .parse::<usize>()
        .map_or(MAX_ITEMS_LIMIT, |n| n.min(MAX_ITEMS_LIMIT)))
}

fn check_crs(crs: Option<&str>, name: &str) -> Result<(), ApiError> {
    match crs {
        None => Ok(()),
        Some(c)
            if c == super::collections::CRS84
                || c == "http://www.opengis.net/def/crs/OGC/1.3/CRS84h"
                || c == "[OGC:CRS84]" =>
        {
            Ok(())
        }
        Some(c) => Err(ApiError::bad_request(format!(
            "{name}: only {} (WGS84 lon/lat) is supported, not {c:?}",
            super::collections::CRS84
        ))),
    }
}

/// The properties to write: all, or those named in `properties=`.
pub fn property_choice(layer: &Layer, names: Option<&str>) -> Result<PropertyChoice, ApiError> {
    match names {
        None => Ok(PropertyChoice::all(layer)),
        Some(text) => {
            let names: Vec<&str> = text
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            PropertyChoice::named(layer, &names).map_err(ApiError::BadRequest)
        }
    }
}

/// The round of a request: `round=` by id, or `datetime=` (the latest round dated on or
/// before the instant, or within the interval); the latest round when neither is given.
/// A `datetime` that no round matches is a 400 here; the items endpoint answers it with an
/// empty page instead (see [`match_round`]).
pub fn select_round(
    layer: &Layer,
    round: Option<&str>,
    datetime: Option<&str>,
) -> Result<Option<usize>, ApiError> {
    match_round(layer, round, datetime)?.ok_or_else(|| {
        ApiError::bad_request(format!(
            "datetime: no round of {} falls in {:?}; the rounds are {}",
            layer.id,
            datetime.unwrap_or_default(),
            known_rounds(layer)
        ))
    })
}

fn known_rounds(layer: &Layer) -> String {
    layer
        .rounds
        .iter()
        .map(|r| r.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`select_round`] with the semantics of OGC API – Features for `datetime`: `None` when
/// the layer has dated rounds and none of them matches (an empty result), and a
/// `datetime` on a layer without any dated round (no temporal dimension) is ignored once
/// checked to be valid. `round=` keeps its own rules: an unknown round is a 400.
pub fn match_round(
    layer: &Layer,
    round: Option<&str>,
    datetime: Option<&str>,
) -> Result<Option<Option<usize>>, ApiError> {
    match (round, datetime) {
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "give either round or datetime, not both",
        )),
        (Some(id), None) => {
            if layer.rounds.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "round: {} has no counts, so no rounds",
                    layer.id
                )));
            }
            let id = id.trim();
            if id == "latest" {
                return Ok(Some(layer.latest_round()));
            }
            layer
                .round_position(id)
                .map(|r| Some(Some(r)))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "round: no round {id:?} in {}; the rounds are {}",
                        layer.id,
                        known_rounds(layer)
                    ))
                })
        }
        (None, Some(text)) => {
            let (start, end) = parse_datetime(text)?;
            if layer.rounds.iter().all(|r| r.date.is_none()) {
                // No temporal dimension: the parameter does not apply.
                return Ok(Some(layer.latest_round()));
            }
            Ok(layer
                .rounds
                .iter()
                .enumerate()
                .rev()
                .find(|(_, r)| match r.date.as_deref() {
                    None => false,
                    Some(date) => {
                        start.as_deref().is_none_or(|s| date >= s)
                            && end.as_deref().is_none_or(|e| date <= e)
                    }
                })
                .map(|(i, _)| Some(i)))
        }
        (None, None) => Ok(Some(layer.latest_round())),
    }
}

/// `datetime` as (start, end) dates; an instant is (None, instant): "in force at that time".
/// An instant is an RFC 3339 date or date-time; an interval is two of them separated by `/`,
/// either end (not both) open as `..` or empty. The dates compared with rounds are the
/// dates as written.
fn parse_datetime(text: &str) -> Result<(Option<String>, Option<String>), ApiError> {
    let date_of = |part: &str| -> Result<Option<String>, ApiError> {
        let part = part.trim();
        if part == ".." || part.is_empty() {
            return Ok(None);
        }
        rfc3339_date(part)
            .map(|date| Some(date.to_string()))
            .map_err(|why| ApiError::bad_request(format!("datetime: {part:?} {why}")))
    };
    match text.split_once('/') {
        None => match date_of(text)? {
            None => Err(ApiError::bad_request(format!(
                "datetime: {:?} is neither a date nor a date-time; '..' may only open one end of an interval",
                text.trim()
            ))),
            instant => Ok((None, instant)),
        },
        Some((start, end)) => {
            let (start, end) = (date_of(start)?, date_of(end)?);
            match (&start, &end) {
                (None, None) => Err(ApiError::bad_request(format!(
                    "datetime: {text:?} is open at both ends; give a start, an end or both (2019-01-01/.., ../2019-01-01)"
                ))),
                (Some(s), Some(e)) if s > e => Err(ApiError::bad_request(
                    "datetime: the interval ends before it starts",
                )),
                _ => Ok((start, end)),
            }
        }
    }
}

/// Checks an RFC 3339 `full-date` (`2019-10-31`) or `date-time`
/// (`2019-10-31T12:00:00Z`, `2019-10-31t12:00:00.5+03:00`) and returns its date part.
/// Days must exist (leap years included), hours are 00-23, minutes 00-59, seconds 00-60
/// (60 for a leap second), offsets `Z` or ±hh:mm. A space where the offset's `+` belongs is
/// read as `+`, since an unencoded `+` in a query string arrives as a space.
pub fn rfc3339_date(text: &str) -> Result<&str, String> {
    const EXPECTED: &str =
        "is not an RFC 3339 date (2019-10-31) or date-time (2019-10-31T12:00:00Z)";
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let (Some(year), Some(month), Some(day)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return Err(EXPECTED.into());
    };
    if b[4] != b'-' || b[7] != b'-' {
        return Err(EXPECTED.into());
    }
    if !(1..=12).contains(&month) {
        return Err(format!("has no month {month:02}; months are 01 to 12"));
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=days).contains(&day) {
        return Err(format!(
            "is not a day: {year:04}-{month:02} has {days} days"
        ));
    }
    let date = &text[..10];
    if b.len() == 10 {
        return Ok(date);
    }
    // full-time = hh:mm:ss[.frac] offset
    if !matches!(b[10], b'T' | b't') {
        return Err(EXPECTED.into());
    }
    let (Some(hour), Some(minute), Some(second)) = (digits(11..13), digits(14..16), digits(17..19))
    else {
        return Err(EXPECTED.into());
    };
    if b[13] != b':' || b[16] != b':' {
        return Err(EXPECTED.into());
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(format!(
            "is not a time of day: hours are 00-23, minutes 00-59, seconds 00-60 (found {hour:02}:{minute:02}:{second:02})"
        ));
    }
    let mut at = 19;
    if b.get(at) == Some(&b'.') {
        let fraction = b[at + 1..]
            .iter()
            .take_while(|d| d.is_ascii_digit())
            .count();
        if fraction == 0 {
            return Err("has a '.' with no fraction of a second after it".into());
        }
        at += 1 + fraction;
    }
    match b.get(at) {
        Some(b'Z' | b'z') if b.len() == at + 1 => Ok(date),
        Some(b'+' | b'-' | b' ') => {
            let (Some(hours), Some(minutes)) = (digits(at + 1..at + 3), digits(at + 4..at + 6))
            else {
                return Err("has an offset that is not Z or ±hh:mm".into());
            };
            if b.get(at + 3) != Some(&b':') || b.len() != at + 6 {
                return Err("has an offset that is not Z or ±hh:mm".into());
            }
            if hours > 23 || minutes > 59 {
                return Err(format!(
                    "has an offset of {hours:02}:{minutes:02}, out of range"
                ));
            }
            Ok(date)
        }
        None => Err("has a time but no offset; add Z (UTC) or ±hh:mm".into()),
        Some(_) => Err(EXPECTED.into()),
    }
}

/// `sortby=-persons,+name`
pub fn parse_sortby(layer: &Layer, text: Option<&str>) -> Result<Vec<SortKey>, ApiError> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|key| {
            let (descending, name) = match key.as_bytes()[0] {
                b'-' => (true, &key[1..]),
                b'+' => (false, &key[1..]),
                _ => (false, key),
            };
            let (name, descending) = match name.rsplit_once(' ') {
                Some((n, "DESC")) => (n.trim(), true),
                Some((n, "ASC")) => (n.trim(), descending),
                _ => (name, descending),
            };
            FieldRef::resolve(layer, name)
                .map(|field| SortKey { field, descending })
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "sortby: {name:?} is not a property of {}; its properties are {}",
                        layer.id,
                        render::all_property_names(layer).join(", ")
                    ))
                })
        })
        .collect()
}

/// `self`, `next` and `prev` links of a page, keeping every other parameter as given.
pub fn page_links(
    href: &str,
    raw_query: Option<&str>,
    offset: usize,
    limit: usize,
    matched: usize,
    returned: usize,
) -> Value {
    let params: Vec<(String, String)> = raw_query
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let with_offset = |new_offset: usize| {
        let mut kept: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| k != "offset" && k != "limit")
            .cloned()
            .collect();
        kept.push(("limit".into(), limit.to_string()));
        if new_offset > 0 {
            kept.push(("offset".into(), new_offset.to_string()));
        }
        format!(
            "{href}?{}",
            serde_urlencoded::to_string(&kept).unwrap_or_default()
        )
    };
    let as_format = |f: &str| {
        let mut kept: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| k != "offset" && k != "limit" && k != "f")
            .cloned()
            .collect();
        kept.push(("limit".into(), limit.to_string()));
        if offset > 0 {
            kept.push(("offset".into(), offset.to_string()));
        }
        kept.push(("f".into(), f.into()));
        format!(
            "{href}?{}",
            serde_urlencoded::to_string(&kept).unwrap_or_default()
        )
    };
    let mut links = vec![
        json!({
            "href": with_offset(offset), "rel": "self", "type": super::GEOJSON, "title": "this page"
        }),
        json!({
            "href": as_format("csv"), "rel": "alternate", "type": "text/csv", "title": "this page as CSV"
        }),
        json!({
            "href": as_format("fgb"), "rel": "alternate", "type": super::FGB, "title": "this page as FlatGeobuf"
        }),
    ];
    if offset.saturating_add(returned) < matched {
        links.push(json!({
            "href": with_offset(offset + returned), "rel": "next", "type": super::GEOJSON, "title": "next page"
        }));
    }
    if offset > 0 {
        links.push(json!({
            "href": with_offset(offset.saturating_sub(limit)), "rel": "prev", "type": super::GEOJSON, "title": "previous page"
        }));
    }
    Value::Array(links)
}

/// Percent-encodes a path segment.
pub fn percent_encode(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_calendar_dates_and_times_pass_and_their_date_is_returned() {
        for (text, date) in [
            ("2019-10-31", "2019-10-31"),
            ("2020-02-29", "2020-02-29"),
            ("2000-02-29", "2000-02-29"),
            ("2019-01-01T00:00:00Z", "2019-01-01"),
            ("2019-01-01t23:59:59z", "2019-01-01"),
            ("2016-12-31T23:59:60Z", "2016-12-31"),
            ("2019-01-01T12:00:00.123456+03:00", "2019-01-01"),
            ("2019-01-01T12:00:00-05:30", "2019-01-01"),
            ("2019-01-01T12:00:00 03:00", "2019-01-01"),
            ("0000-01-01", "0000-01-01"),
        ] {
            assert_eq!(rfc3339_date(text), Ok(date), "{text}");
        }
    }

    #[test]
    fn impossible_dates_times_and_offsets_are_refused_with_the_reason() {
        for (text, why) in [
            ("2019-02-30", "has 28 days"),
            ("2019-02-29", "has 28 days"),
            ("1900-02-29", "has 28 days"),
            ("2019-04-31", "has 30 days"),
            ("2019-01-00", "has 31 days"),
            ("9999-99-99", "no month 99"),
            ("2016-13-01", "no month 13"),
            ("2016-00-01", "no month 00"),
            ("2019-01-01T25:00:00Z", "not a time of day"),
            ("2019-01-01T23:60:00Z", "not a time of day"),
            ("2019-01-01T23:59:61Z", "not a time of day"),
            ("2019-01-01T12:00:00", "no offset"),
            ("2019-01-01T12:00:00+24:00", "out of range"),
            ("2019-01-01T12:00:00+03:60", "out of range"),
            ("2019-01-01T12:00:00+0300", "not Z or"),
            ("2019-01-01T12:00:00.Z", "no fraction"),
            ("2019-01-01T12:00:00Zjunk", "not an RFC 3339"),
            ("2019-01-01T12:00Z", "not an RFC 3339"),
            ("2019-01-01X", "not an RFC 3339"),
            ("2019-1-01", "not an RFC 3339"),
            ("19-01-01", "not an RFC 3339"),
            ("2019/01/01", "not an RFC 3339"),
            ("yesterday", "not an RFC 3339"),
            ("２０１９-01-01", "not an RFC 3339"),
            ("", "not an RFC 3339"),
        ] {
            let message = rfc3339_date(text).unwrap_err();
            assert!(message.contains(why), "{text}: {message}");
        }
    }

    #[test]
    fn intervals_may_be_open_at_one_end_but_not_both() {
        let ok = |text: &str| parse_datetime(text).unwrap();
        let date = |d: &str| Some(d.to_string());
        assert_eq!(ok("2019-01-01"), (None, date("2019-01-01")));
        assert_eq!(ok("../2019-01-01"), (None, date("2019-01-01")));
        assert_eq!(ok("2019-01-01/.."), (date("2019-01-01"), None));
        assert_eq!(ok("/2019-01-01"), (None, date("2019-01-01")));
        assert_eq!(
            ok("2018-01-01T00:00:00Z/2019-01-01"),
            (date("2018-01-01"), date("2019-01-01"))
        );
        for bad in [
            "../..",
            "/",
            "../",
            "..",
            "",
            "2019-01-01/2018-01-01",
            "2019-01-01/2019-02-30",
            "2019-01-01/2019-01-02/2019-01-03",
        ] {
            let message = parse_datetime(bad).unwrap_err().to_string();
            assert!(message.starts_with("datetime: "), "{bad}: {message}");
        }
        assert!(parse_datetime("../..")
            .unwrap_err()
            .to_string()
            .contains("open at both ends"));
    }
}

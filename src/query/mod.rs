//! Selecting features of a layer: by bounding box (R-tree, then exact test), by property
//! filters, sorted and ready to page. No HTTP here: the API turns requests into a
//! [`Selection`] and the matches back into responses, and a [`QueryError`] into its
//! status (`From<QueryError> for ApiError` in `crate::error`).

pub mod bbox;
pub mod cql2;
pub mod distance;
pub mod filter;
pub mod search;
pub mod spatial;

use std::cmp::Ordering;

use geo::Intersects;

pub use crate::geometry::{area, bands, sweep};
pub use bbox::Bbox;
pub use filter::{FieldRef, Filter, Literal};

use crate::model::Layer;

/// What kind of error a query is, for the API to answer with the right status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryErrorKind {
    /// The request is wrong (400).
    BadRequest,
    /// Over a documented size limit (413).
    TooLarge,
}

/// A query the client got wrong: a message that says what and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    /// 400 or 413.
    pub kind: QueryErrorKind,
    /// What is wrong, and where (the message names the character or JSON pointer).
    pub message: String,
    /// The 1-based character of a cql2-text filter where the problem is, when known.
    pub position: Option<usize>,
}

impl QueryError {
    /// A 400.
    pub fn bad(message: impl Into<String>) -> QueryError {
        QueryError {
            kind: QueryErrorKind::BadRequest,
            message: message.into(),
            position: None,
        }
    }

    /// A 413.
    pub fn too_large(message: impl Into<String>) -> QueryError {
        QueryError {
            kind: QueryErrorKind::TooLarge,
            message: message.into(),
            position: None,
        }
    }
}

/// A sort key: a field and a direction.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    /// The field.
    pub field: FieldRef,
    /// Largest first.
    pub descending: bool,
}

/// What to select from a layer.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only features intersecting this box.
    pub bbox: Option<Bbox>,
    /// The round whose counts filters and sorting see (`None`: the layer has no counts).
    pub round: Option<usize>,
    /// Only features for which this holds.
    pub filter: Option<Filter>,
    /// Order; file order when empty (and to break ties).
    pub sort: Vec<SortKey>,
}

/// Positions of the selected features, in order.
pub fn select(layer: &Layer, selection: &Selection) -> Vec<u32> {
    let implied_box = selection.filter.as_ref().and_then(Filter::candidate_box);
    let implied_range = || {
        let (column, lower, upper) = selection.filter.as_ref()?.count_range()?;
        layer.features_in_count_range(selection.round?, column, lower, upper)
    };
    // The candidates are the matches, when they come from the range that is the filter.
    let mut exact = false;
    let mut matches: Vec<u32> = match (&selection.bbox, implied_box) {
        (Some(bbox), _) => features_in_bbox(layer, bbox),
        (None, Some(rect)) => candidates_in_rect(layer, &rect),
        (None, None) => match implied_range() {
            Some(in_range) => {
                exact = selection
                    .filter
                    .as_ref()
                    .is_some_and(Filter::is_count_range);
                in_range
            }
            None => (0..layer.features.len() as u32).collect(),
        },
    };
    if let Some(filter) = selection.filter.as_ref().filter(|_| !exact) {
        let mut ticker = crate::deadline::Ticker::every(64);
        matches.retain(|&f| !ticker.expired() && filter.matches(layer, selection.round, f));
    }
    if !selection.sort.is_empty() {
        matches.sort_by(|&a, &b| {
            for key in &selection.sort {
                let va = key.field.value(layer, selection.round, a);
                let vb = key.field.value(layer, selection.round, b);
                let ord = filter::compare_for_sort(&va, &vb);
                let ord = if key.descending { ord.reverse() } else { ord };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            a.cmp(&b)
        });
    }
    matches
}

/// How many features `selection` selects, and the `limit` of them from `offset`, in
/// order: [`select`] paged. A filter that is a range of a count, with no box and no sort,
/// is answered from the count's order without putting every match in file order.
pub fn select_page(
    layer: &Layer,
    selection: &Selection,
    offset: usize,
    limit: usize,
) -> (usize, Vec<u32>) {
    let ranged = match (&selection.bbox, &selection.filter, selection.round) {
        (None, Some(filter), Some(round))
            if selection.sort.is_empty()
                && filter.is_count_range()
                && filter.candidate_box().is_none() =>
        {
            filter.count_range().and_then(|(column, lower, upper)| {
                layer.count_range_page(round, column, (lower, upper), offset, limit)
            })
        }
        _ => None,
    };
    ranged.unwrap_or_else(|| {
        let matches = select(layer, selection);
        (matches.len(), paged(&matches, offset, limit).to_vec())
    })
}

/// The `limit` items from `offset` (fewer at the end, none past it).
pub fn paged<T>(matches: &[T], offset: usize, limit: usize) -> &[T] {
    let start = offset.min(matches.len());
    let end = start.saturating_add(limit).min(matches.len());
    &matches[start..end]
}

/// Features whose bounding box meets `rect` (a superset of the exact matches), in file order.
fn candidates_in_rect(layer: &Layer, rect: &geo::Rect<f64>) -> Vec<u32> {
    let mut out = Vec::new();
    layer.index.for_each_candidate(rect, |f| out.push(f));
    out.sort_unstable();
    out
}

/// Features whose geometry intersects the box (boundary included), in file order.
pub fn features_in_bbox(layer: &Layer, bbox: &Bbox) -> Vec<u32> {
    let mut out = Vec::new();
    for rect in bbox.rects() {
        let exact = !layer.index.is_points();
        layer.index.for_each_candidate(&rect, |f| {
            if !exact || layer.features[f as usize].geometry().intersects(&rect) {
                out.push(f);
            }
        });
    }
    out.sort_unstable();
    out.dedup();
    out
}

//! A count table's rows turned into records, a part of the table at a time (parts are
//! joined on every core when the table is a plain CSV file): each row is checked (the
//! code, the round, every figure, the synthetic flag) and matched to its feature. What a
//! part cannot know — whether an earlier part already gave the same code and round — is
//! left to the merge in [`super`].

use std::collections::HashMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::Keys;
use crate::config::CountTableConfig;
use crate::data::cells::{CellRef, Cells};
use crate::data::report::{Group, LoadReport, Place, Problem, Severity};

/// Where a table's columns are.
pub(super) struct ColumnPositions {
    pub key: usize,
    /// None when the table gives one round for every row (`round_id`).
    pub round: Option<usize>,
    pub label: Option<usize>,
    pub synthetic: Option<usize>,
    pub source: Option<usize>,
    /// (position among the layer's count columns, position in the table, header)
    pub counts: Vec<(usize, usize, String)>,
}

/// Finds a table's columns by header; `None` (each missing one reported) when one is
/// missing.
pub(super) fn locate_columns(
    config: &CountTableConfig,
    headers: &[String],
    place: Place<'_>,
    all_columns: &[String],
    report: &mut LoadReport,
) -> Option<ColumnPositions> {
    let mut ok = true;
    let mut find = |name: &str| -> Option<usize> {
        let found = headers.iter().position(|h| h == name);
        if found.is_none() {
            report.add(place.missing_column(name, headers));
            ok = false;
        }
        found
    };
    let key = find(&config.key);
    let round = config.round.as_deref().map(&mut find);
    let label = config.round_label.as_deref().and_then(&mut find);
    let synthetic = config.synthetic_column.as_deref().and_then(&mut find);
    let source = config.source_column.as_deref().and_then(&mut find);
    let mut counts = Vec::new();
    for column in &config.columns {
        if let Some(at) = find(column.column()) {
            let name_at = all_columns
                .iter()
                .position(|n| n == column.name())
                .unwrap_or_default();
            counts.push((name_at, at, column.column().to_string()));
        }
    }
    if !ok {
        return None;
    }
    Some(ColumnPositions {
        key: key?,
        round: match round {
            Some(found) => Some(found?),
            None => None,
        },
        label,
        synthetic,
        source,
        counts,
    })
}

/// What every part of one table shares.
pub(super) struct TableContext<'a> {
    pub config: &'a CountTableConfig,
    pub columns: &'a ColumnPositions,
    pub keys: &'a Keys<'a>,
    pub place: Place<'a>,
    /// Of a row in error: an error, or a warning when the table skips bad rows.
    pub row_severity: Severity,
    /// How many count columns the layer has.
    pub width: usize,
    /// The table's own source (`source`), one copy for every part: a round recognises
    /// the source of the previous record by address.
    pub table_source: Option<Arc<str>>,
}

/// A row that gave figures for a feature.
pub(super) struct JoinedRow {
    pub line: usize,
    pub feature: u32,
    /// The round's position in [`JoinedPart::rounds`].
    pub round: u32,
    /// The source's position in [`JoinedPart::sources`], or [`NO_SOURCE`].
    pub source: u32,
    pub synthetic: bool,
}

/// A row with no source.
pub(super) const NO_SOURCE: u32 = u32::MAX;

/// What a part of a table gave: its rows' problems and records, in row order.
#[derive(Default)]
pub(super) struct JoinedPart {
    pub problems: Vec<Problem>,
    /// Each round's id and label (from its first row that gave figures), in order of
    /// first appearance.
    pub rounds: Vec<(String, Option<String>)>,
    pub rows: Vec<JoinedRow>,
    /// The figures of each row of `rows`, [`TableContext::width`] at a time.
    pub values: Vec<Option<i64>>,
    pub sources: Vec<Arc<str>>,
    /// Rows read (given figures or not).
    pub read: usize,
}

/// Tables with up to this many rounds find a round by comparing ids in order.
const LINEAR_ROUNDS: usize = 16;

/// Turns rows into a [`JoinedPart`].
pub(super) struct PartJoiner<'a> {
    context: &'a TableContext<'a>,
    part: JoinedPart,
    round_at: FxHashMap<String, u32>,
    source_at: HashMap<String, u32>,
    /// The table's own source, once a row used it.
    table_source: Option<u32>,
    /// The feature of the previous row that named one: long tables list a site's rounds
    /// together, often in the order of the sites, and finding a code in the table of ids
    /// costs a few cache misses.
    last_feature: Option<u32>,
    values: Vec<Option<i64>>,
}

impl<'a> PartJoiner<'a> {
    pub fn new(context: &'a TableContext<'a>) -> PartJoiner<'a> {
        PartJoiner {
            context,
            part: JoinedPart::default(),
            round_at: FxHashMap::default(),
            source_at: HashMap::new(),
            table_source: None,
            last_feature: None,
            values: Vec::with_capacity(context.width),
        }
    }

    /// Rows taken so far that gave figures.
    pub fn joined_rows(&self) -> usize {
        self.part.rows.len()
    }

    /// What the rows gave; the joiner starts a new part.
    pub fn take(&mut self) -> JoinedPart {
        self.round_at.clear();
        self.source_at.clear();
        self.table_source = None;
        std::mem::take(&mut self.part)
    }

    fn bad(&mut self, number: usize, field: &str, reason: String, group: &'static Group) {
        let context = self.context;
        self.part.problems.push(
            context
                .place
                .problem(context.row_severity, Some(number), Some(field), reason)
                .grouped(group),
        );
    }

    /// Takes one row.
    pub fn row(&mut self, row: &impl Cells) {
        let context = self.context;
        let (config, columns, keys) = (context.config, context.columns, context.keys);
        self.part.read += 1;
        let number = row.number();
        let key_cell = row.get(columns.key);
        let key_text;
        let key = match key_cell.trimmed() {
            Some(text) => text,
            None => match key_cell.text() {
                Some(text) => {
                    key_text = text;
                    key_text.as_str()
                }
                None => {
                    let reason =
                        format!("the code is empty, so the row names no {}", keys.noun.one());
                    self.bad(number, &config.key, reason, &NO_KEY);
                    return;
                }
            },
        };
        let round_text;
        let round = match (columns.round.map(|at| row.get(at)), &config.round_id) {
            (Some(cell), _) => match cell.trimmed() {
                Some(text) => Some(text),
                None => {
                    round_text = cell.text();
                    round_text.as_deref()
                }
            },
            (None, fixed) => fixed.as_deref(),
        };
        let Some(round) = round else {
            let column = config.round.as_deref().unwrap_or("round");
            self.bad(number, column, "the round is empty".into(), &NO_ROUND);
            return;
        };
        let mut values = std::mem::take(&mut self.values);
        values.clear();
        values.resize(context.width, None);
        let mut row_ok = true;
        for (name_at, column_at, header) in &columns.counts {
            match parse_count(row.get(*column_at)) {
                Ok(v) => values[*name_at] = v,
                Err(e) => {
                    self.bad(number, header, e.reason, e.group);
                    row_ok = false;
                }
            }
        }
        let synthetic = match columns.synthetic {
            None => config.synthetic,
            Some(at) => match parse_flag(row.get(at)) {
                Ok(flag) => flag || config.synthetic,
                Err(reason) => {
                    let column = config.synthetic_column.as_deref().unwrap_or("");
                    self.bad(number, column, reason, &BAD_FLAG);
                    row_ok = false;
                    false
                }
            },
        };
        if row_ok {
            self.accept(row, key, round, &values, synthetic);
        }
        self.values = values;
    }

    /// Keeps the figures of a row whose cells are all good, if its code names a feature.
    fn accept(
        &mut self,
        row: &impl Cells,
        key: &str,
        round: &str,
        values: &[Option<i64>],
        synthetic: bool,
    ) {
        let context = self.context;
        let (config, columns, keys) = (context.config, context.columns, context.keys);
        let is = |feature: u32| keys.ids.get(feature as usize) == Some(&key);
        let found = match self.last_feature {
            Some(last) if is(last) => Some(last),
            Some(last) if is(last + 1) => Some(last + 1),
            _ => keys.by_id.find(key, |at| keys.ids[at as usize]),
        };
        let Some(feature) = found else {
            if !keys.left_out.contains(key) {
                let reason = format!(
                    "no {} has the code {key:?}; the row is left out",
                    keys.noun.one()
                );
                self.part.problems.push(
                    context
                        .place
                        .problem(
                            Severity::Warning,
                            Some(row.number()),
                            Some(&config.key),
                            reason,
                        )
                        .grouped(&UNMATCHED),
                );
            }
            return;
        };
        self.last_feature = Some(feature);
        let source = match columns.source.and_then(|at| row.get(at).text()) {
            Some(text) => match self.source_at.get(&text) {
                Some(&at) => at,
                None => {
                    let at = self.part.sources.len() as u32;
                    self.part.sources.push(Arc::from(text.as_str()));
                    self.source_at.insert(text, at);
                    at
                }
            },
            None => match (&context.table_source, self.table_source) {
                (None, _) => NO_SOURCE,
                (Some(_), Some(at)) => at,
                (Some(source), None) => {
                    let at = self.part.sources.len() as u32;
                    self.part.sources.push(source.clone());
                    self.table_source = Some(at);
                    at
                }
            },
        };
        let rounds = &mut self.part.rounds;
        let found_round = if rounds.len() <= LINEAR_ROUNDS {
            rounds.iter().position(|(id, _)| id == round)
        } else {
            self.round_at.get(round).map(|&at| at as usize)
        };
        let at = match found_round {
            Some(at) => at,
            None => {
                self.round_at.insert(round.to_string(), rounds.len() as u32);
                rounds.push((round.to_string(), None));
                rounds.len() - 1
            }
        };
        if rounds[at].1.is_none() {
            rounds[at].1 = columns
                .label
                .and_then(|column| row.get(column).text())
                .or_else(|| config.label.clone());
        }
        self.part.rows.push(JoinedRow {
            line: row.number(),
            feature,
            round: at as u32,
            source,
            synthetic,
        });
        self.part.values.extend_from_slice(values);
    }
}

/// Rows with no code.
static NO_KEY: Group = Group::new("have no code, so they name no site or area");
/// Rows with no round.
static NO_ROUND: Group = Group::new("have no round");
/// Rows whose code no feature has.
static UNMATCHED: Group = Group::new("have a code that no site or area has; they are left out");
/// Rows with a synthetic flag that is not one.
static BAD_FLAG: Group = Group::new("have a synthetic flag that is not true or false");

/// Figures that are not numbers.
static NOT_A_NUMBER: Group = Group::new("have a figure that is not a number");
/// Negative figures.
static NEGATIVE: Group = Group::new("have a negative figure");
/// Figures with a fraction.
static NOT_WHOLE: Group = Group::new("have a figure that is not a whole number");
/// Figures too large to be a count.
static TOO_LARGE: Group = Group::new("have a figure too large to be a count of people");

/// Why a cell is not a count, and its kind.
#[derive(Debug, PartialEq)]
pub struct BadCount {
    /// Said of this cell.
    pub reason: String,
    /// The kind, for the grouped line.
    pub group: &'static Group,
}

fn bad_count(group: &'static Group, reason: String) -> BadCount {
    BadCount { reason, group }
}

/// A count: empty is `None`; otherwise a whole, non-negative number.
pub fn parse_count(cell: CellRef<'_>) -> Result<Option<i64>, BadCount> {
    match cell {
        CellRef::Empty => Ok(None),
        CellRef::Number(n) => whole(n).map(Some),
        CellRef::Bool(b) => Err(bad_count(&NOT_A_NUMBER, format!("not a number: {b}"))),
        CellRef::Text(text) => {
            let t = crate::data::cells::trim(text);
            if t.is_empty() {
                return Ok(None);
            }
            if let Some(v) = plain_digits(t) {
                return Ok(Some(v));
            }
            let plain = strip_thousands(t);
            match plain.parse::<i64>() {
                Ok(v) if v >= 0 => Ok(Some(v)),
                Ok(v) => Err(bad_count(&NEGATIVE, format!("negative figure: {v}"))),
                Err(_) => match plain.parse::<f64>() {
                    Ok(f) => whole(f).map(Some),
                    Err(_) => Err(bad_count(&NOT_A_NUMBER, format!("not a number: {t:?}"))),
                },
            }
        }
    }
}

/// Up to 15 ASCII digits, the usual count, read without the general parser.
fn plain_digits(t: &str) -> Option<i64> {
    if t.len() > 15 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(t.bytes().fold(0i64, |n, b| n * 10 + i64::from(b - b'0')))
}

fn whole(n: f64) -> Result<i64, BadCount> {
    if !n.is_finite() {
        Err(bad_count(&NOT_A_NUMBER, format!("not a number: {n}")))
    } else if n < 0.0 {
        Err(bad_count(&NEGATIVE, format!("negative figure: {n}")))
    } else if n.fract() != 0.0 {
        Err(bad_count(&NOT_WHOLE, format!("not a whole number: {n}")))
    } else if n > 9.0e15 {
        Err(bad_count(
            &TOO_LARGE,
            format!("too large to be a count: {n}"),
        ))
    } else {
        Ok(n as i64)
    }
}

/// `1,234,567` → `1234567`; anything else unchanged.
fn strip_thousands(t: &str) -> std::borrow::Cow<'_, str> {
    let groups: Vec<&str> = t.split(',').collect();
    let grouped = groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_digit()))
        && groups[1..].iter().all(|g| g.len() == 3);
    if grouped {
        std::borrow::Cow::Owned(groups.concat())
    } else {
        std::borrow::Cow::Borrowed(t)
    }
}

fn parse_flag(cell: CellRef<'_>) -> Result<bool, String> {
    match cell {
        CellRef::Empty => Ok(false),
        CellRef::Bool(b) => Ok(b),
        CellRef::Number(0.0) => Ok(false),
        CellRef::Number(1.0) => Ok(true),
        other => {
            let text = other.text().unwrap_or_default().to_ascii_lowercase();
            match text.as_str() {
                "" | "false" | "no" | "n" | "0" => Ok(false),
                "true" | "yes" | "y" | "1" => Ok(true),
                _ => Err(format!(
                    "not a true/false flag: {:?}",
                    other.text().unwrap_or_default()
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_accept_whole_numbers_and_thousands_separators_only() {
        let text = |t: &'static str| parse_count(CellRef::Text(t));
        assert_eq!(text("1,234"), Ok(Some(1234)));
        assert_eq!(text(" 12 "), Ok(Some(12)));
        assert_eq!(text("007"), Ok(Some(7)));
        assert_eq!(text("999999999999999"), Ok(Some(999_999_999_999_999)));
        assert_eq!(text("9999999999999999"), Ok(Some(9_999_999_999_999_999)));
        assert_eq!(parse_count(CellRef::Number(7.0)), Ok(Some(7)));
        assert_eq!(text(""), Ok(None));
        assert!(text("12a").is_err());
        assert!(text("-3").is_err());
        assert!(text("+3").is_ok());
        assert!(text("1.5").is_err());
        assert!(text("NaN").is_err());
        assert!(text("1,23").is_err());
    }
}

//! The join of count tables onto a layer's features by id, round by round, with every row
//! checked: a key that matches no feature, a duplicate (key, round), a missing key or round,
//! a count that is not a whole non-negative number, a bad synthetic flag. Rows in error are
//! skipped and reported, grouped by kind in the printed report; features left without
//! counts in a round are reported as warnings.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::config::{CountTableConfig, SourceFormat};
use crate::data::report::{thousands, Group, LoadReport, Place, Severity};
use crate::data::source::Noun;
use crate::data::table::{self, Cell, Table};
use crate::model::{FeatureIds, Round, RoundCounts};
use crate::progress;
use rustc_hash::FxHashMap;

/// The counts of one layer, ready to be put into it.
#[derive(Debug, Default)]
pub struct JoinedCounts {
    /// Count column names, in order of first appearance across tables.
    pub columns: Vec<String>,
    /// Rounds, sorted.
    pub rounds: Vec<Round>,
    /// The figures of each round, in the order of `rounds`.
    pub counts: Vec<RoundCounts>,
}

/// A table's bytes, already read by the caller (which owns file access).
pub struct CountFile<'a> {
    /// The table's configuration.
    pub config: &'a CountTableConfig,
    /// The file's content, or `None` if it could not be read (already reported).
    pub bytes: Option<&'a [u8]>,
}

/// The ids a count table's keys are matched against.
pub struct Keys<'a> {
    /// Feature position by id.
    pub by_id: &'a FeatureIds,
    /// Feature ids by position.
    pub ids: &'a [&'a str],
    /// Ids of sites left out for their coordinates: their rows are skipped quietly, the
    /// sites having been reported already.
    pub left_out: &'a HashSet<String>,
    /// What a feature is called in the report.
    pub noun: Noun,
}

/// Joins every count table of a layer onto its features.
pub fn join(files: &[CountFile<'_>], keys: &Keys<'_>, report: &mut LoadReport) -> JoinedCounts {
    let feature_ids = keys.ids;
    let mut columns: Vec<String> = Vec::new();
    for file in files {
        for column in &file.config.columns {
            if !columns.iter().any(|c| c == column.name()) {
                columns.push(column.name().to_string());
            }
        }
    }
    // round id -> (label, record of each feature)
    let mut by_round = RoundTable::default();
    // Each table as the report names it: the file, and the sheet of a workbook.
    let mut places: Vec<(&str, Option<String>)> = Vec::with_capacity(files.len());
    for file in files {
        let Some(bytes) = file.bytes else {
            places.push((file.config.path.as_str(), None));
            continue;
        };
        let sheet = join_table(file.config, bytes, keys, &columns, &mut by_round, report);
        places.push((file.config.path.as_str(), sheet));
    }
    let place = match places.as_slice() {
        [(file, sheet)] => Place {
            file,
            sheet: sheet.as_deref(),
        },
        _ => Place::file(""),
    };
    let several: String = places
        .iter()
        .map(|(file, sheet)| match sheet {
            Some(sheet) => format!("{file} (sheet {sheet:?})"),
            None => file.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let place = if place.file.is_empty() {
        Place::file(&several)
    } else {
        place
    };
    let mut sorted = by_round.rounds;
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rounds = Vec::with_capacity(sorted.len());
    let mut counts = Vec::with_capacity(sorted.len());
    for (key, label, row) in sorted {
        let missing: Vec<&str> = feature_ids
            .iter()
            .enumerate()
            .filter(|(f, _)| !row.has(*f))
            .map(|(_, id)| *id)
            .collect();
        if !missing.is_empty() {
            let shown: Vec<&str> = missing.iter().take(10).copied().collect();
            let noun = keys.noun.one();
            let (count, nouns) = match missing.len() {
                1 => ("1".to_string(), format!("{noun} has")),
                n => (thousands(n), format!("{noun}s have")),
            };
            report.add(place.problem(
                Severity::Warning,
                None,
                None,
                format!(
                    "round {}: {count} {nouns} no figures: {}{}",
                    key.0,
                    shown.join(", "),
                    if missing.len() > shown.len() {
                        ", …"
                    } else {
                        ""
                    }
                ),
            ));
        }
        let date = is_iso_date(&key.0).then(|| key.0.clone());
        rounds.push(Round {
            id: key.0,
            label,
            date,
        });
        counts.push(row);
    }
    JoinedCounts {
        columns,
        rounds,
        counts,
    }
}

/// Round id -> (label, the record of each feature by position).
#[derive(Default)]
struct RoundTable {
    /// Position in `rounds` by round id.
    at: FxHashMap<String, usize>,
    /// Each round with its label and figures, in order of first appearance.
    rounds: Vec<(RoundKey, Option<String>, RoundCounts)>,
}

/// Tables with up to this many rounds find a round by comparing ids in order.
const LINEAR_ROUNDS: usize = 16;

impl RoundTable {
    /// The position of a round, without allocating.
    fn position(&self, round: &str) -> Option<usize> {
        if self.rounds.len() <= LINEAR_ROUNDS {
            self.rounds.iter().position(|(key, _, _)| key.0 == round)
        } else {
            self.at.get(round).copied()
        }
    }
}

/// Rows with no code.
static NO_KEY: Group = Group::new("have no code, so they name no site or area");
/// Rows with no round.
static NO_ROUND: Group = Group::new("have no round");
/// Rows whose code no feature has.
static UNMATCHED: Group = Group::new("have a code that no site or area has; they are left out");
/// Rows that repeat a (code, round).
static REPEATED: Group =
    Group::new("repeat a code and round that an earlier row already gave figures for");
/// Rows with a synthetic flag that is not one.
static BAD_FLAG: Group = Group::new("have a synthetic flag that is not true or false");

fn join_table(
    config: &CountTableConfig,
    bytes: &[u8],
    keys: &Keys<'_>,
    all_columns: &[String],
    by_round: &mut RoundTable,
    report: &mut LoadReport,
) -> Option<String> {
    let file = config.path.as_str();
    let format = SourceFormat::from_path(file).unwrap_or(SourceFormat::Csv);
    let options = table::ReadOptions {
        sheet: config.sheet.as_deref(),
        encoding: config.encoding(),
    };
    // Read row by row: a table of millions of rows is never held whole.
    let reader = match table::rows_with(bytes, format, options) {
        Ok(reader) => reader,
        Err(e) => {
            report.error(file, None, None, e.to_string());
            return None;
        }
    };
    let table = &reader.head;
    let place = Place {
        file,
        sheet: table.sheet.as_deref(),
    };
    for (severity, remark) in &table.remarks {
        report.add(place.problem(*severity, None, None, remark.clone()));
    }
    let Some(columns) = locate_columns(config, table, place, all_columns, report) else {
        return table.sheet.clone();
    };
    let row_severity = if config.skip_bad_rows {
        Severity::Warning
    } else {
        Severity::Error
    };
    let table_source: Option<Arc<str>> = config.source.as_deref().map(Arc::from);
    let mut sources: HashMap<String, Arc<str>> = HashMap::new();
    let progress = progress::Step::counted(
        format!("reading and joining {file}"),
        reader.estimated_rows,
        "rows",
    );
    // The code of the previous row and its feature: long tables list a site's rounds
    // together, and finding a code in the table of ids costs a few cache misses.
    let mut last_key = String::new();
    let mut last_feature: Option<u32> = None;
    let mut values: Vec<Option<i64>> = Vec::with_capacity(all_columns.len());
    // A large CSV table's rows are read and parsed on a second thread meanwhile.
    let pipelined = reader.estimated_rows >= table::PIPELINED_ROWS;
    let mut read = 0usize;
    let join_row = |row: &mut table::Row| {
        read += 1;
        if read % 4096 == 0 {
            progress.inc(4096);
        }
        let mut bad = |field: &str, reason: String, group: &'static Group| {
            report.add(
                place
                    .problem(row_severity, Some(row.number), Some(field), reason)
                    .grouped(group),
            );
        };
        let key_cell = row.cell(columns.key);
        let key = match key_cell.trimmed() {
            Some(text) => Some(std::borrow::Cow::Borrowed(text)),
            None => key_cell.text().map(std::borrow::Cow::Owned),
        };
        let Some(key) = key else {
            let reason = format!("the code is empty, so the row names no {}", keys.noun.one());
            bad(&config.key, reason, &NO_KEY);
            return;
        };
        let round_cell = columns.round.map(|at| row.cell(at));
        let round: Option<Cow<'_, str>> = match (round_cell, &config.round_id) {
            (Some(cell), _) => match cell.trimmed() {
                Some(text) => Some(Cow::Borrowed(text)),
                None => cell.text().map(Cow::Owned),
            },
            (None, fixed) => fixed.as_deref().map(Cow::Borrowed),
        };
        let Some(round) = round else {
            let column = config.round.as_deref().unwrap_or("round");
            bad(column, "the round is empty".into(), &NO_ROUND);
            return;
        };
        values.clear();
        values.resize(all_columns.len(), None);
        let mut row_ok = true;
        for (name_at, column_at, header) in &columns.counts {
            match parse_count(row.cell(*column_at)) {
                Ok(v) => values[*name_at] = v,
                Err(e) => {
                    bad(header, e.reason, e.group);
                    row_ok = false;
                }
            }
        }
        let synthetic = match columns.synthetic {
            None => config.synthetic,
            Some(at) => match parse_flag(row.cell(at)) {
                Ok(flag) => flag || config.synthetic,
                Err(reason) => {
                    bad(
                        config.synthetic_column.as_deref().unwrap_or(""),
                        reason,
                        &BAD_FLAG,
                    );
                    row_ok = false;
                    false
                }
            },
        };
        if !row_ok {
            return;
        }
        let found = match last_feature {
            Some(feature) if last_key == key.as_ref() => Some(feature),
            _ => keys.by_id.find(key.as_ref(), |at| keys.ids[at as usize]),
        };
        if let Some(feature) = found {
            last_key.clear();
            last_key.push_str(&key);
            last_feature = Some(feature);
        }
        let Some(feature) = found else {
            if !keys.left_out.contains(key.as_ref()) {
                let reason = format!(
                    "no {} has the code {key:?}; the row is left out",
                    keys.noun.one()
                );
                report.add(
                    place
                        .problem(
                            Severity::Warning,
                            Some(row.number),
                            Some(&config.key),
                            reason,
                        )
                        .grouped(&UNMATCHED),
                );
            }
            return;
        };
        let source = match columns.source.and_then(|at| row.cell(at).text()) {
            Some(text) => Some(
                sources
                    .entry(text.clone())
                    .or_insert_with(|| Arc::from(text.as_str()))
                    .clone(),
            ),
            None => table_source.clone(),
        };
        let at = match by_round.position(&round) {
            Some(at) => at,
            None => {
                let at = by_round.rounds.len();
                by_round.at.insert(round.to_string(), at);
                let figures = RoundCounts::new(keys.ids.len(), all_columns.len());
                by_round
                    .rounds
                    .push((RoundKey(round.to_string()), None, figures));
                at
            }
        };
        let entry = &mut by_round.rounds[at];
        if entry.1.is_none() {
            entry.1 = columns
                .label
                .and_then(|at| row.cell(at).text())
                .or_else(|| config.label.clone());
        }
        if entry.2.has(feature as usize) {
            let reason =
                format!("{key:?} already has figures for round {round:?} in an earlier row");
            bad(&config.key, reason, &REPEATED);
            return;
        }
        entry
            .2
            .set(feature as usize, &values, synthetic, false, source.as_ref());
    };
    if let Some(e) = reader.rows.for_each(pipelined, join_row) {
        report.error(file, None, None, e.to_string());
    }
    drop(progress);
    reader.head.sheet
}

struct ColumnPositions {
    key: usize,
    /// None when the table gives one round for every row (`round_id`).
    round: Option<usize>,
    label: Option<usize>,
    synthetic: Option<usize>,
    source: Option<usize>,
    /// (position among the layer's count columns, position in the table, header)
    counts: Vec<(usize, usize, String)>,
}

fn locate_columns(
    config: &CountTableConfig,
    table: &Table,
    place: Place<'_>,
    all_columns: &[String],
    report: &mut LoadReport,
) -> Option<ColumnPositions> {
    let mut ok = true;
    let mut find = |name: &str| -> Option<usize> {
        let found = table.column(name);
        if found.is_none() {
            report.add(place.problem(
                Severity::Error,
                Some(1),
                Some(name),
                format!("no such column; the columns are {:?}", table.headers),
            ));
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
pub fn parse_count(cell: &Cell) -> Result<Option<i64>, BadCount> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Number(n) => whole(*n).map(Some),
        Cell::Bool(b) => Err(bad_count(&NOT_A_NUMBER, format!("not a number: {b}"))),
        Cell::Text(text) => {
            let t = text.trim();
            if t.is_empty() {
                return Ok(None);
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

fn parse_flag(cell: &Cell) -> Result<bool, String> {
    match cell {
        Cell::Empty => Ok(false),
        Cell::Bool(b) => Ok(*b),
        Cell::Number(n) if *n == 0.0 => Ok(false),
        Cell::Number(n) if *n == 1.0 => Ok(true),
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

/// Whether text is a `YYYY-MM-DD` date.
pub fn is_iso_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Round ids sort as numbers when both are numbers, otherwise as text (ISO dates sort right).
#[derive(Debug, Clone, PartialEq, Eq)]
struct RoundKey(String);

impl Ord for RoundKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.0.parse::<f64>(), other.0.parse::<f64>()) {
            (Ok(a), Ok(b)) => a
                .partial_cmp(&b)
                .unwrap_or(Ordering::Equal)
                .then_with(|| self.0.cmp(&other.0)),
            _ => self.0.cmp(&other.0),
        }
    }
}

impl PartialOrd for RoundKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_accept_whole_numbers_and_thousands_separators_only() {
        assert_eq!(parse_count(&Cell::Text("1,234".into())), Ok(Some(1234)));
        assert_eq!(parse_count(&Cell::Text(" 12 ".into())), Ok(Some(12)));
        assert_eq!(parse_count(&Cell::Number(7.0)), Ok(Some(7)));
        assert_eq!(parse_count(&Cell::Text("".into())), Ok(None));
        assert!(parse_count(&Cell::Text("12a".into())).is_err());
        assert!(parse_count(&Cell::Text("-3".into())).is_err());
        assert!(parse_count(&Cell::Text("1.5".into())).is_err());
        assert!(parse_count(&Cell::Text("NaN".into())).is_err());
        assert!(parse_count(&Cell::Text("1,23".into())).is_err());
    }

    #[test]
    fn numeric_rounds_sort_as_numbers_and_dates_as_text() {
        let mut keys = [
            RoundKey("107".into()),
            RoundKey("78".into()),
            RoundKey("112".into()),
        ];
        keys.sort();
        assert_eq!(keys[0].0, "78");
        assert_eq!(keys[2].0, "112");
        assert!(RoundKey("2015-11-05".into()) < RoundKey("2019-10-31".into()));
    }
}

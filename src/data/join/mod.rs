//! The join of count tables onto a layer's features by id, round by round, with every row
//! checked: a key that matches no feature, a duplicate (key, round), a missing key or round,
//! a count that is not a whole non-negative number, a bad synthetic flag. Rows in error are
//! skipped and reported, grouped by kind in the printed report; features left without
//! counts in a round are reported as warnings.

mod rows;

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;

use crate::config::{CountTableConfig, SourceFormat};
use crate::data::plain::PlainCsv;
use crate::data::report::{thousands, Group, LoadReport, Place, Severity};
use crate::data::source::Noun;
use crate::data::table;
use crate::model::{FeatureIds, Round, RoundCounts};
use crate::progress;
use rows::{locate_columns, JoinedPart, PartJoiner, TableContext};
pub use rows::{parse_count, BadCount};
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

/// A count table as the caller (which owns file access) read it.
pub enum CountInput<'a> {
    /// The file's bytes.
    Bytes(Cow<'a, [u8]>),
    /// A plain CSV file, scanned, to be read in parts.
    Plain(PlainCsv),
}

/// A count table and its configuration.
pub struct CountFile<'a> {
    /// The table's configuration.
    pub config: &'a CountTableConfig,
    /// The table, or `None` if it could not be read (already reported).
    pub input: Option<&'a CountInput<'a>>,
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
        let Some(input) = file.input else {
            places.push((file.config.path.as_str(), None));
            continue;
        };
        let sheet = join_table(file.config, input, keys, &columns, &mut by_round, report);
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

impl RoundTable {
    /// The position of a round, added (with no figures) if new.
    fn position(&mut self, round: &str, features: usize, width: usize) -> usize {
        if let Some(&at) = self.at.get(round) {
            return at;
        }
        let at = self.rounds.len();
        self.at.insert(round.to_string(), at);
        let figures = RoundCounts::new(features, width);
        self.rounds
            .push((RoundKey(round.to_string()), None, figures));
        at
    }
}

/// Rows that repeat a (code, round).
static REPEATED: Group =
    Group::new("repeat a code and round that an earlier row already gave figures for");

/// Rows joined before their records are merged (a table that is not read in parts).
const ROWS_PER_PART: usize = 1 << 16;

fn join_table(
    config: &CountTableConfig,
    input: &CountInput<'_>,
    keys: &Keys<'_>,
    all_columns: &[String],
    by_round: &mut RoundTable,
    report: &mut LoadReport,
) -> Option<String> {
    let file = config.path.as_str();
    let reader = match input {
        CountInput::Plain(_) => None,
        CountInput::Bytes(bytes) => {
            let format = SourceFormat::from_path(file).unwrap_or(SourceFormat::Csv);
            let options = table::ReadOptions {
                sheet: config.sheet.as_deref(),
                encoding: config.encoding(),
            };
            // Read row by row: a table of millions of rows is never held whole.
            match table::rows_with(bytes, format, options) {
                Ok(reader) => Some(reader),
                Err(e) => {
                    report.error(file, None, None, e.to_string());
                    return None;
                }
            }
        }
    };
    let (headers, sheet, estimated_rows) = match (&reader, input) {
        (Some(reader), _) => (
            reader.head.headers.as_slice(),
            reader.head.sheet.clone(),
            reader.estimated_rows,
        ),
        (None, CountInput::Plain(plain)) => (plain.headers.as_slice(), None, plain.lines),
        (None, CountInput::Bytes(_)) => return None,
    };
    let place = Place {
        file,
        sheet: sheet.as_deref(),
    };
    if let Some(reader) = &reader {
        for (severity, remark) in &reader.head.remarks {
            report.add(place.problem(*severity, None, None, remark.clone()));
        }
    }
    let columns = locate_columns(config, headers, place, all_columns, report)?;
    let context = TableContext {
        config,
        columns: &columns,
        keys,
        place,
        row_severity: if config.skip_bad_rows {
            Severity::Warning
        } else {
            Severity::Error
        },
        width: all_columns.len(),
        table_source: config.source.as_deref().map(Arc::from),
    };
    let progress = progress::Step::counted(
        format!("reading and joining {file}"),
        estimated_rows,
        "rows",
    );
    let mut merge = |part: JoinedPart, report: &mut LoadReport| {
        progress.inc(part.read as u64);
        merge_part(part, &context, by_round, report);
    };
    match (reader, input) {
        (Some(reader), _) => {
            // A large CSV table's rows are read and parsed on a second thread meanwhile.
            let pipelined = reader.estimated_rows >= table::PIPELINED_ROWS;
            let mut joiner = PartJoiner::new(&context);
            let failed = reader.rows.for_each(pipelined, |row| {
                joiner.row(row);
                if joiner.joined_rows() >= ROWS_PER_PART {
                    merge(joiner.take(), report);
                }
            });
            merge(joiner.take(), report);
            if let Some(e) = failed {
                report.error(file, None, None, e.to_string());
            }
        }
        (None, CountInput::Plain(plain)) => {
            let read = plain.read_in_parts(
                || PartJoiner::new(&context),
                |joiner, row| joiner.row(row),
                |mut joiner| merge(joiner.take(), report),
            );
            if let Err(e) = read {
                report.error(file, None, None, e.to_string());
            }
        }
        (None, CountInput::Bytes(_)) => {}
    }
    drop(progress);
    sheet
}

/// Puts a part's records into the rounds, in row order: a row whose code and round an
/// earlier row (of this part or one before) gave figures for is reported instead. The
/// part's own problems are reported in row order among those.
fn merge_part(
    part: JoinedPart,
    context: &TableContext<'_>,
    by_round: &mut RoundTable,
    report: &mut LoadReport,
) {
    let features = context.keys.ids.len();
    let width = context.width;
    let rounds: Vec<usize> = part
        .rounds
        .iter()
        .map(|(id, label)| {
            let at = by_round.position(id, features, width);
            if by_round.rounds[at].1.is_none() {
                by_round.rounds[at].1.clone_from(label);
            }
            at
        })
        .collect();
    let mut problems = part.problems.into_iter().peekable();
    for (row, values) in part.rows.iter().zip(part.values.chunks_exact(width.max(1))) {
        while let Some(problem) = problems.next_if(|p| p.row.is_some_and(|r| r < row.line)) {
            report.add(problem);
        }
        let (key, _, figures) = &mut by_round.rounds[rounds[row.round as usize]];
        let feature = row.feature as usize;
        if figures.has(feature) {
            let reason = format!(
                "{:?} already has figures for round {:?} in an earlier row",
                context.keys.ids[feature], key.0
            );
            report.add(
                context
                    .place
                    .problem(
                        context.row_severity,
                        Some(row.line),
                        Some(&context.config.key),
                        reason,
                    )
                    .grouped(&REPEATED),
            );
            continue;
        }
        let source = part.sources.get(row.source as usize);
        figures.set(feature, values, row.synthetic, false, source);
    }
    problems.for_each(|problem| report.add(problem));
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
    use proptest::prelude::*;

    /// The rounds, each feature's record in each round, and the problems reported.
    type Outcome = (
        Vec<(Round, Vec<Option<crate::model::CountRecord>>)>,
        Vec<String>,
    );

    fn join_of(input: &CountInput<'_>, config: &CountTableConfig, ids: &[&str]) -> Outcome {
        let mut by_id = FeatureIds::with_capacity(ids.len());
        for at in 0..ids.len() as u32 {
            by_id.insert(at, |at| ids[at as usize]);
        }
        let left_out = HashSet::from(["L1".to_string()]);
        let keys = Keys {
            by_id: &by_id,
            ids,
            left_out: &left_out,
            noun: Noun::Site,
        };
        let mut report = LoadReport::default();
        let files = [CountFile {
            config,
            input: Some(input),
        }];
        let joined = join(&files, &keys, &mut report);
        let rounds = joined
            .rounds
            .into_iter()
            .zip(&joined.counts)
            .map(|(round, counts)| {
                let records = (0..ids.len())
                    .map(|f| counts.row(f).map(|r| r.to_record()))
                    .collect();
                (round, records)
            })
            .collect();
        let problems = report.problems.iter().map(|p| format!("{p:?}")).collect();
        (rounds, problems)
    }

    /// A row of a random count table: codes known, unknown, left out or empty; rounds;
    /// figures good and bad; sources and labels.
    fn count_row() -> impl Strategy<Value = String> {
        let code = prop_oneof![
            "S[1-4]",
            Just("X9".into()),
            Just("L1".into()),
            Just(" ".into()),
            Just("\"S2\"".into())
        ];
        let round = prop_oneof![Just("1"), Just("2"), Just("10"), Just("")];
        let figure = prop_oneof![
            Just("3"),
            Just(" 12 "),
            Just("1.5"),
            Just("-1"),
            Just("x"),
            Just(""),
            Just("4000000000"),
            Just("\"7\""),
            Just("\"1,5\"")
        ];
        let source = prop_oneof![Just("a"), Just("b"), Just("")];
        let flag = prop_oneof![Just(""), Just("yes"), Just("0"), Just("maybe")];
        (
            code,
            round,
            figure.clone(),
            figure,
            source,
            flag,
            "[LR]?[0-9]?|\"R, [0-9]\"",
        )
            .prop_map(
                |(code, round, families, individuals, source, flag, label)| {
                    format!("{code},{round},{label},{families},{individuals},{source},{flag}")
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// A plain CSV table joined in parts (of any size, on every core) gives the
        /// rounds, records and problems, in the same order, that it gives read whole by
        /// the CSV reader: repeats across parts, labels, sources, quoted cells and bad
        /// rows included.
        #[test]
        fn a_table_joined_in_parts_gives_what_it_gives_read_whole(
            rows in proptest::collection::vec(count_row(), 0..60),
            part_bytes in 1u64..200,
            skip_bad_rows: bool,
        ) {
            let text = format!(
                "code,round,label,families,individuals,source,synthetic\n{}\n",
                rows.join("\n")
            );
            let config: CountTableConfig = toml::from_str(&format!(
                "path = \"counts.csv\"\nkey = \"code\"\nround = \"round\"\n\
                 round_label = \"label\"\ncolumns = [\"families\", \"individuals\"]\n\
                 source_column = \"source\"\nsource = \"table\"\n\
                 synthetic_column = \"synthetic\"\nskip_bad_rows = {skip_bad_rows}\n"
            ))
            .unwrap();
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("counts.csv");
            std::fs::write(&path, &text).unwrap();
            let plain = PlainCsv::scan_in_parts_of(&path, part_bytes).unwrap().unwrap();
            // A part ends at the first line end `part_bytes` after its start: with a second
            // row after it, the first row's end cuts the table.
            let cut_after_first = rows.len() >= 2 && rows[0].len() + 1 >= part_bytes as usize;
            prop_assert!(!cut_after_first || plain.parts() > 1);
            let ids = ["S1", "S2", "S3", "S4"];
            let whole = join_of(&CountInput::Bytes(Cow::Owned(text.into_bytes())), &config, &ids);
            prop_assert_eq!(join_of(&CountInput::Plain(plain), &config, &ids), whole);
        }
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

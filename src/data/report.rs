//! The load report: every problem found while reading sources and joining counts, each
//! naming the file, the worksheet of a workbook, the row (as a spreadsheet shows it: the
//! header is row 1), the column and the reason. Errors stop `serve` and make `dtmap check`
//! exit non-zero; warnings do not; notes say what was done that a data manager may want
//! to know (an encoding guessed, say).
//!
//! Every row's problem is kept in [`LoadReport::problems`] (the JSON report has them all);
//! the printed report groups problems of one kind in one place into one line with their
//! count and first rows, so a master list with one shifted column reads as one line, not
//! two thousand.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

/// How many row numbers a grouped line names.
const ROWS_NAMED: usize = 5;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The dataset cannot be served as configured.
    Error,
    /// Served, but worth a look.
    Warning,
    /// Served as is; something was decided that the reader may want to know.
    Note,
}

/// A kind of row problem: what the rows have in common, said after their count ("12 rows
/// …"), and what to do about it.
#[derive(Debug, PartialEq, Eq)]
pub struct Group {
    /// Follows "N rows", e.g. "repeat an id that an earlier row already used".
    pub summary: &'static str,
    /// What to do, when there is something to say.
    pub hint: Option<&'static str>,
}

impl Group {
    /// A group without a hint.
    pub const fn new(summary: &'static str) -> Group {
        Group {
            summary,
            hint: None,
        }
    }
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// Error, warning or note.
    pub severity: Severity,
    /// The file, as named in the config.
    pub file: String,
    /// The worksheet, for a workbook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// Row number as a spreadsheet shows it (header = 1), or the entry's position (1-based)
    /// in a geometry file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    /// The column or property concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What is wrong.
    pub reason: String,
    /// The kind of row problem, when rows with the same one are printed as one line.
    #[serde(skip_serializing_if = "Option::is_none", rename = "kind")]
    pub group: Option<&'static str>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<&'static str>,
}

impl Problem {
    /// The same problem, printed with the others of its kind in one line.
    pub fn grouped(mut self, group: &'static Group) -> Problem {
        self.group = Some(group.summary);
        self.hint = group.hint;
        self
    }

    /// Whether the file is a table, whose fields are called columns.
    fn in_table(&self) -> bool {
        let lower = self.file.to_ascii_lowercase();
        [".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods"]
            .iter()
            .any(|ext| lower.ends_with(ext))
    }

    /// `file, sheet "S"` and, unless `grouped`, `, row N`; then `, column "c"`.
    fn write_place(&self, f: &mut fmt::Formatter<'_>, grouped: bool) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(sheet) = &self.sheet {
            write!(f, ", sheet {sheet:?}")?;
        }
        if let (Some(row), false) = (self.row, grouped) {
            write!(f, ", row {row}")?;
        }
        if let Some(field) = &self.field {
            let word = if self.in_table() { "column" } else { "field" };
            write!(f, ", {word} {field:?}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        })
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.severity)?;
        self.write_place(f, false)?;
        write!(f, ": {}", self.reason)?;
        if let Some(hint) = self.hint {
            write!(f, ". {hint}")?;
        }
        Ok(())
    }
}

/// Where in a file a problem is: the file as the config names it, and the worksheet of a
/// workbook.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// The file, as named in the config.
    pub file: &'a str,
    /// The worksheet, for a workbook.
    pub sheet: Option<&'a str>,
}

impl<'a> Place<'a> {
    /// A file that is not a workbook (or a problem with the whole workbook).
    pub fn file(file: &'a str) -> Place<'a> {
        Place { file, sheet: None }
    }

    /// A problem at this place.
    pub fn problem(
        &self,
        severity: Severity,
        row: Option<usize>,
        field: Option<&str>,
        reason: impl Into<String>,
    ) -> Problem {
        Problem {
            severity,
            file: self.file.to_string(),
            sheet: self.sheet.map(str::to_string),
            row,
            field: field.map(str::to_string),
            reason: reason.into(),
            group: None,
            hint: None,
        }
    }

    /// The error of a table that lacks a column its configuration names.
    pub fn missing_column(&self, column: &str, headers: &[String]) -> Problem {
        let reason = format!("no such column; the columns are {headers:?}");
        self.problem(Severity::Error, Some(1), Some(column), reason)
    }
}

/// All problems of one load.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadReport {
    /// In the order found, one per row.
    pub problems: Vec<Problem>,
}

impl LoadReport {
    /// Records an error.
    pub fn error(
        &mut self,
        file: &str,
        row: Option<usize>,
        field: Option<&str>,
        reason: impl Into<String>,
    ) {
        self.push(Severity::Error, file, row, field, reason.into());
    }

    /// Records a warning.
    pub fn warning(
        &mut self,
        file: &str,
        row: Option<usize>,
        field: Option<&str>,
        reason: impl Into<String>,
    ) {
        self.push(Severity::Warning, file, row, field, reason.into());
    }

    /// Records a note about a whole file.
    pub fn note(&mut self, file: &str, reason: impl Into<String>) {
        self.push(Severity::Note, file, None, None, reason.into());
    }

    /// Records a problem whose severity the caller chose.
    pub fn push(
        &mut self,
        severity: Severity,
        file: &str,
        row: Option<usize>,
        field: Option<&str>,
        reason: String,
    ) {
        self.add(Place::file(file).problem(severity, row, field, reason));
    }

    /// Records a problem made with [`Place::problem`].
    pub fn add(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.count(Severity::Error)
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity == severity)
            .count()
    }

    /// True when the dataset may be served.
    pub fn is_ok(&self) -> bool {
        self.error_count() == 0
    }

    /// The printed lines: one per problem, except that problems of one kind in one place
    /// (same severity, file, sheet and column) make one line with their count and first
    /// rows. In the order the first of each was found.
    pub fn lines(&self) -> Vec<String> {
        type Key<'a> = (
            Severity,
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
            &'static str,
        );
        let mut groups: Vec<Vec<&Problem>> = Vec::new();
        let mut by_key: HashMap<Key<'_>, usize> = HashMap::new();
        for problem in &self.problems {
            let Some(group) = problem.group else {
                groups.push(vec![problem]);
                continue;
            };
            let key = (
                problem.severity,
                problem.file.as_str(),
                problem.sheet.as_deref(),
                problem.field.as_deref(),
                group,
            );
            match by_key.get(&key) {
                Some(&at) => groups[at].push(problem),
                None => {
                    by_key.insert(key, groups.len());
                    groups.push(vec![problem]);
                }
            }
        }
        groups.iter().map(|group| group_line(group)).collect()
    }
}

/// One problem as it is, or several of one kind as one line.
fn group_line(problems: &[&Problem]) -> String {
    let first = problems[0];
    let (Some(summary), true) = (first.group, problems.len() > 1) else {
        return first.to_string();
    };
    struct Place<'a>(&'a Problem);
    impl fmt::Display for Place<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.write_place(f, true)
        }
    }
    let rows: Vec<String> = problems
        .iter()
        .filter_map(|p| p.row)
        .take(ROWS_NAMED)
        .map(|r| r.to_string())
        .collect();
    let more = if problems.len() > rows.len() {
        ", …"
    } else {
        ""
    };
    let noun = if first.in_table() { "rows" } else { "entries" };
    let mut line = format!(
        "{}: {}: {} {noun} {summary} ({noun} {}{more})",
        first.severity,
        Place(first),
        thousands(problems.len()),
        rows.join(", ")
    );
    if let Some(hint) = first.hint {
        line.push_str(". ");
        line.push_str(hint);
    }
    line
}

/// `1858` → `1,858`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in self.lines() {
            writeln!(f, "{line}")?;
        }
        write!(
            f,
            "{} error(s), {} warning(s)",
            self.error_count(),
            self.warning_count()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPEATED: Group = Group {
        summary: "repeat an id",
        hint: Some("give each its own"),
    };

    #[test]
    fn problems_of_one_kind_in_one_place_are_one_line_with_count_and_first_rows() {
        let mut report = LoadReport::default();
        let sheet = Place {
            file: "master.xlsx",
            sheet: Some("Round 12"),
        };
        for row in 3..1861 {
            report.add(
                sheet
                    .problem(Severity::Error, Some(row), Some("ID"), format!("row {row}"))
                    .grouped(&REPEATED),
            );
        }
        report.add(
            sheet
                .problem(Severity::Error, Some(9), Some("Name"), "once")
                .grouped(&REPEATED),
        );
        report.warning("a.csv", Some(4), Some("x"), "alone");
        assert_eq!(
            report.lines(),
            [
                "error: master.xlsx, sheet \"Round 12\", column \"ID\": 1,858 rows repeat an id \
                 (rows 3, 4, 5, 6, 7, …). give each its own",
                "error: master.xlsx, sheet \"Round 12\", row 9, column \"Name\": once. give each its own",
                "warning: a.csv, row 4, column \"x\": alone",
            ]
        );
        assert_eq!(report.error_count(), 1859);
        assert_eq!(report.warning_count(), 1);
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(1858), "1,858");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}

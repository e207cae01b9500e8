//! The load report: every problem found while reading sources and joining counts, each
//! naming the file, the row (as a spreadsheet shows it: the header is row 1), the field and
//! the reason. Errors stop `serve` and make `dtmap check` exit non-zero; warnings do not.

use std::fmt;

use serde::Serialize;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The dataset cannot be served as configured.
    Error,
    /// Served, but worth a look.
    Warning,
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// The file, as named in the config.
    pub file: String,
    /// Row number as a spreadsheet shows it (header = 1), or the feature's position (1-based)
    /// in a geometry file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    /// The column or property concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{severity}: {}", self.file)?;
        if let Some(row) = self.row {
            write!(f, ", row {row}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field {field:?}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// All problems of one load.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadReport {
    /// In the order found.
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

    /// Records a problem whose severity the caller chose.
    pub fn push(
        &mut self,
        severity: Severity,
        file: &str,
        row: Option<usize>,
        field: Option<&str>,
        reason: String,
    ) {
        self.problems.push(Problem {
            severity,
            file: file.to_string(),
            row,
            field: field.map(str::to_string),
            reason,
        });
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count()
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.problems.len() - self.error_count()
    }

    /// True when the dataset may be served.
    pub fn is_ok(&self) -> bool {
        self.error_count() == 0
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in &self.problems {
            writeln!(f, "{problem}")?;
        }
        write!(
            f,
            "{} error(s), {} warning(s)",
            self.error_count(),
            self.warning_count()
        )
    }
}

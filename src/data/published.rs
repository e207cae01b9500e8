//! The table of published figures (national and area totals with their sources):
//! read as given, every value checked, and "(same … URL)" references resolved to the URL
//! given for the same date, so each figure carries a usable source.

use crate::config::SourceFormat;
use crate::data::report::{LoadReport, Place};
use crate::data::table;
use crate::model::PublishedFigure;

/// The columns, in the order below; the area column may have another name
/// (`[dashboard] published_area_column`).
const COLUMNS: [&str; 8] = [
    "as_of",
    "dtm_round",
    "scope",
    "area",
    "metric",
    "value",
    "source_url",
    "notes",
];

/// Reads the table; bad rows are reported and left out.
pub fn read(
    bytes: &[u8],
    file: &str,
    area_column: Option<&str>,
    report: &mut LoadReport,
) -> Vec<PublishedFigure> {
    let table = match table::read(
        bytes,
        SourceFormat::from_path(file).unwrap_or(SourceFormat::Csv),
        None,
    ) {
        Ok(t) => t,
        Err(e) => {
            report.error(file, None, None, e.to_string());
            return Vec::new();
        }
    };
    let mut at = [0usize; 8];
    for (i, name) in COLUMNS.iter().enumerate() {
        let name = match (*name, area_column) {
            ("area", Some(area)) => area,
            (name, _) => name,
        };
        match table.column(name) {
            Some(c) => at[i] = c,
            None => {
                report.add(Place::file(file).missing_column(name, &table.headers));
                return Vec::new();
            }
        }
    }
    let mut figures = Vec::new();
    for row in &table.rows {
        let text = |i: usize| row.cell(at[i]).text().unwrap_or_default();
        let value = match crate::data::join::parse_count(row.cell(at[5]).view()) {
            Ok(Some(v)) => v,
            Ok(None) => {
                report.error(file, Some(row.number), Some("value"), "empty value");
                continue;
            }
            Err(bad) => {
                report.error(file, Some(row.number), Some("value"), bad.reason);
                continue;
            }
        };
        figures.push(PublishedFigure {
            as_of: text(0),
            dtm_round: text(1),
            scope: text(2),
            area: text(3),
            metric: text(4),
            value,
            source_url: text(6),
            source: String::new(),
            notes: text(7),
        });
    }
    let urls: Vec<(String, String)> = figures
        .iter()
        .filter(|f| f.source_url.starts_with("http"))
        .map(|f| (f.as_of.clone(), f.source_url.clone()))
        .collect();
    for figure in &mut figures {
        figure.source = if figure.source_url.starts_with("http") {
            figure.source_url.clone()
        } else {
            urls.iter()
                .find(|(date, _)| *date == figure.as_of)
                .map(|(_, url)| url.clone())
                .unwrap_or_else(|| figure.source_url.clone())
        };
    }
    figures
}

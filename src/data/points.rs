//! Point features from a table (CSV or XLSX) with latitude and longitude columns, as DTM
//! master lists come. Every other column becomes a property; a row of text (a CSV file's)
//! keeps its cells' texts together. Bad positions are reported grouped by kind. A plain
//! CSV file on disk ([`super::plain`]) is read in parts on every core; any other table row
//! by row.

use std::sync::Arc;

use geo::{Geometry, Point};

use crate::data::cells::{trim, CellRef, Cells};
use crate::data::plain::PlainCsv;
use crate::data::report::{Group, LoadReport, Place, Problem, Severity};
use crate::data::source::{RowNames, SourceFeature, SourceProperties};
use crate::data::table::{RowReader, Table};
use crate::geometry;

/// Rows with an empty latitude or longitude.
static EMPTY: Group = Group::new("have no coordinate, so the site cannot be placed");
/// Coordinates that are not numbers.
static NOT_A_NUMBER: Group = Group::new("have a coordinate that is not a number");
/// Coordinates out of range.
static OFF_THE_MAP: Group = Group::new(
    "have a latitude or longitude out of range (latitude -90 to 90, longitude -180 to 180)",
);

/// A table of sites: read row by row, or a plain CSV file read in parts.
pub enum PointTable<'a> {
    /// Rows from a reader (no table of every cell is held for a CSV file).
    Rows(RowReader<'a>),
    /// A plain CSV file, scanned.
    Plain(&'a PlainCsv),
}

/// Point features of a table; rows with a bad position are reported and skipped.
pub fn read(
    table: PointTable<'_>,
    lat_column: &str,
    lon_column: &str,
    file: &str,
    report: &mut LoadReport,
) -> Option<Vec<SourceFeature>> {
    let (head, estimated_rows, rows) = match table {
        PointTable::Rows(reader) => (reader.head, reader.estimated_rows, Ok(reader.rows)),
        PointTable::Plain(plain) => {
            let head = Table {
                headers: plain.headers.clone(),
                ..Table::default()
            };
            (head, plain.lines, Err(plain))
        }
    };
    let headers = head.headers.as_slice();
    let place = Place {
        file,
        sheet: head.sheet.as_deref(),
    };
    for (severity, remark) in &head.remarks {
        report.add(place.problem(*severity, None, None, remark.clone()));
    }
    let column = |name: &str| headers.iter().position(|h| h == name);
    let mut missing = false;
    for name in [lat_column, lon_column] {
        if column(name).is_none() {
            report.add(place.missing_column(name, headers));
            missing = true;
        }
    }
    if missing {
        return None;
    }
    let sites = Sites {
        place,
        lat: (column(lat_column)?, lat_column),
        lon: (column(lon_column)?, lon_column),
        names: Arc::new(RowNames::new(
            headers
                .iter()
                .enumerate()
                .filter(|&(i, header)| {
                    Some(i) != column(lat_column)
                        && Some(i) != column(lon_column)
                        && !header.is_empty()
                })
                .map(|(i, header)| (i, header.as_str())),
        )),
    };
    let mut out = Vec::with_capacity(estimated_rows);
    let failed = match rows {
        Ok(rows) => {
            let pipelined = estimated_rows >= crate::data::table::PIPELINED_ROWS;
            let mut problems = Vec::new();
            let failed = rows.for_each(pipelined, |row| sites.push(row, &mut out, &mut problems));
            problems.into_iter().for_each(|p| report.add(p));
            failed.map(|e| e.to_string())
        }
        Err(plain) => {
            out.reserve(plain.lines);
            let read = plain.read_in_parts(
                || (Vec::new(), Vec::new()),
                |(part, problems), row| sites.push(row, part, problems),
                |(mut part, problems)| {
                    out.append(&mut part);
                    problems.into_iter().for_each(|p| report.add(p));
                },
            );
            read.err().map(|e| e.to_string())
        }
    };
    if let Some(e) = failed {
        report.add(place.problem(Severity::Error, None, None, e));
        return None;
    }
    out.shrink_to_fit();
    Some(out)
}

/// How a table's rows become sites.
struct Sites<'a> {
    place: Place<'a>,
    /// The latitude and longitude columns: position and header.
    lat: (usize, &'a str),
    lon: (usize, &'a str),
    names: Arc<RowNames>,
}

impl Sites<'_> {
    /// The site of a row, or the problem with its position.
    fn push(
        &self,
        row: &mut impl Cells,
        out: &mut Vec<SourceFeature>,
        problems: &mut Vec<Problem>,
    ) {
        let number = row.number();
        let mut read = |name: &str, cell: CellRef<'_>| -> Option<f64> {
            let parsed = match cell {
                CellRef::Number(n) => Some(Ok(n)),
                _ => cell.text().map(|t| t.parse::<f64>().map_err(|_| t)),
            };
            let (reason, group) = match parsed {
                Some(Ok(v)) => return Some(v),
                Some(Err(text)) => (format!("not a number: {text:?}"), &NOT_A_NUMBER),
                None => ("empty coordinate".to_string(), &EMPTY),
            };
            problems.push(
                self.place
                    .problem(Severity::Error, Some(number), Some(name), reason)
                    .grouped(group),
            );
            None
        };
        let lat = read(self.lat.1, row.get(self.lat.0));
        let lon = read(self.lon.1, row.get(self.lon.0));
        let (Some(lat), Some(lon)) = (lat, lon) else {
            return;
        };
        if let Err(e) = geometry::check_lon_lat(lon, lat) {
            problems.push(
                self.place
                    .problem(
                        Severity::Error,
                        Some(number),
                        Some(self.lat.1),
                        e.to_string(),
                    )
                    .grouped(&OFF_THE_MAP),
            );
            return;
        }
        let columns = self.names.columns();
        let properties = if columns.iter().all(|&at| text_of(row.get(at)).is_some()) {
            let cells = columns.iter().map(|&at| text_of(row.get(at)).flatten());
            SourceProperties::text_row(self.names.clone(), cells)
        } else {
            SourceProperties::Row {
                names: self.names.clone(),
                values: columns.iter().map(|&at| row.take_json(at)).collect(),
            }
        };
        out.push(SourceFeature {
            row: number,
            native_id: None,
            geometry: Geometry::Point(Point::new(lon, lat)),
            properties,
        });
    }
}

/// A text cell's text, trimmed (`Some(None)` when empty); `None` for a number or a
/// boolean (a workbook's typed cells, kept as JSON values).
fn text_of(cell: CellRef<'_>) -> Option<Option<&str>> {
    match cell {
        CellRef::Text(text) => Some(Some(trim(text)).filter(|t| !t.is_empty())),
        CellRef::Empty => Some(None),
        CellRef::Number(_) | CellRef::Bool(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SourceFormat;
    use crate::data::table::{self, ReadOptions};
    use proptest::prelude::*;

    /// The sites and problems of a table, as their debug text.
    fn sites_of(table: PointTable<'_>) -> (Option<Vec<String>>, Vec<String>) {
        let mut report = LoadReport::default();
        let sites = read(table, "lat", "lon", "sites.csv", &mut report)
            .map(|sites| sites.iter().map(|s| format!("{s:?}")).collect());
        let problems = report.problems.iter().map(|p| format!("{p:?}")).collect();
        (sites, problems)
    }

    /// A row of a random table of sites: coordinates good, empty, not numbers or off
    /// the map; names in two scripts, some quoted with commas inside.
    fn site_row() -> impl Strategy<Value = String> {
        let lat = prop_oneof![
            Just("33.3"),
            Just(" -1.5 "),
            Just(""),
            Just("x"),
            Just("95")
        ];
        let lon = prop_oneof![
            Just("44.4"),
            Just("0"),
            Just(""),
            Just("1e400"),
            Just("-181")
        ];
        (lat, lon, "[a-c]{0,2}|عر|é|\"[a-c, ]{0,3}\"", "[0-9]{0,2}")
            .prop_map(|(lat, lon, name, code)| format!("{code},{lat},{name},{lon}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// A plain CSV file read in parts (of any size, on every core) gives the sites
        /// and problems, in the same order, that the CSV reader's rows give.
        #[test]
        fn sites_read_in_parts_are_the_sites_read_row_by_row(
            rows in proptest::collection::vec(site_row(), 0..50),
            part_bytes in 1u64..100,
        ) {
            let text = format!("id,lat,name,lon,lat\n{}\n", rows.join("\n"));
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("sites.csv");
            std::fs::write(&path, &text).unwrap();
            let plain = PlainCsv::scan_in_parts_of(&path, part_bytes).unwrap().unwrap();
            let reader =
                table::rows_with(text.as_bytes(), SourceFormat::Csv, ReadOptions::default())
                    .unwrap();
            let whole = sites_of(PointTable::Rows(reader));
            prop_assert!(whole.0.is_some());
            prop_assert_eq!(sites_of(PointTable::Plain(&plain)), whole);
        }
    }
}

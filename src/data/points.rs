//! Point features from a table (CSV or XLSX) with latitude and longitude columns, as DTM
//! master lists come. Every other column becomes a property. Bad positions are reported
//! grouped by kind.

use std::sync::Arc;

use geo::{Geometry, Point};
use serde_json::Value;

use crate::data::report::{Group, LoadReport, Place, Severity};
use crate::data::source::{RowNames, SourceFeature, SourceProperties};
use crate::data::table::{Cell, Row, RowReader};
use crate::geometry;

/// Rows with an empty latitude or longitude.
static EMPTY: Group = Group::new("have no coordinate, so the site cannot be placed");
/// Coordinates that are not numbers.
static NOT_A_NUMBER: Group = Group::new("have a coordinate that is not a number");
/// Coordinates out of range.
static OFF_THE_MAP: Group = Group::new(
    "have a latitude or longitude out of range (latitude -90 to 90, longitude -180 to 180)",
);

/// Point features of a table read row by row (no table of every cell is held); rows with
/// a bad position are reported and skipped.
pub fn read(
    table: RowReader<'_>,
    lat_column: &str,
    lon_column: &str,
    file: &str,
    report: &mut LoadReport,
) -> Option<Vec<SourceFeature>> {
    let RowReader {
        head,
        estimated_rows,
        rows,
    } = table;
    let place = Place {
        file,
        sheet: head.sheet.as_deref(),
    };
    for (severity, remark) in &head.remarks {
        report.add(place.problem(*severity, None, None, remark.clone()));
    }
    let mut missing = false;
    for column in [lat_column, lon_column] {
        if head.column(column).is_none() {
            report.add(place.problem(
                Severity::Error,
                Some(1),
                Some(column),
                format!("no such column; the columns are {:?}", head.headers),
            ));
            missing = true;
        }
    }
    if missing {
        return None;
    }
    let lat_at = head.column(lat_column)?;
    let lon_at = head.column(lon_column)?;
    let names = Arc::new(RowNames::new(
        head.headers
            .iter()
            .enumerate()
            .filter(|&(i, header)| i != lat_at && i != lon_at && !header.is_empty())
            .map(|(i, header)| (i, header.as_str())),
    ));
    let mut out = Vec::with_capacity(estimated_rows);
    let pipelined = estimated_rows >= crate::data::table::PIPELINED_ROWS;
    let read_row = |row: &mut Row| {
        let mut coordinate = |at: usize, name: &str| -> Option<f64> {
            let cell = row.cell(at);
            let parsed = match cell {
                Cell::Number(n) => Some(Ok(*n)),
                _ => cell.text().map(|t| t.parse::<f64>().map_err(|_| t)),
            };
            let (reason, group) = match parsed {
                Some(Ok(v)) => return Some(v),
                Some(Err(text)) => (format!("not a number: {text:?}"), &NOT_A_NUMBER),
                None => ("empty coordinate".to_string(), &EMPTY),
            };
            report.add(
                place
                    .problem(Severity::Error, Some(row.number), Some(name), reason)
                    .grouped(group),
            );
            None
        };
        let (Some(lat), Some(lon)) = (
            coordinate(lat_at, lat_column),
            coordinate(lon_at, lon_column),
        ) else {
            return;
        };
        if let Err(e) = geometry::check_lon_lat(lon, lat) {
            report.add(
                place
                    .problem(
                        Severity::Error,
                        Some(row.number),
                        Some(lat_column),
                        e.to_string(),
                    )
                    .grouped(&OFF_THE_MAP),
            );
            return;
        }
        let values = names
            .columns()
            .iter()
            .map(|&at| match row.cells.get_mut(at) {
                Some(cell) => std::mem::replace(cell, Cell::Empty).into_json(),
                None => Value::Null,
            })
            .collect();
        out.push(SourceFeature {
            row: row.number,
            native_id: None,
            geometry: Geometry::Point(Point::new(lon, lat)),
            properties: SourceProperties::Row {
                names: names.clone(),
                values,
            },
        });
    };
    if let Some(e) = rows.for_each(pipelined, read_row) {
        report.add(place.problem(Severity::Error, None, None, e.to_string()));
        return None;
    }
    out.shrink_to_fit();
    Some(out)
}

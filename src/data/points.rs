//! Point features from a table (CSV or XLSX) with latitude and longitude columns, as DTM
//! master lists come. Every other column becomes a property. Bad positions are reported
//! grouped by kind.

use geo::{Geometry, Point};
use serde_json::Map;

use crate::data::report::{Group, LoadReport, Place, Severity};
use crate::data::source::SourceFeature;
use crate::data::table::Table;
use crate::geometry;

/// Rows with an empty latitude or longitude.
static EMPTY: Group = Group::new("have no coordinate, so the site cannot be placed");
/// Coordinates that are not numbers.
static NOT_A_NUMBER: Group = Group::new("have a coordinate that is not a number");
/// Coordinates out of range.
static OFF_THE_MAP: Group = Group::new(
    "have a latitude or longitude out of range (latitude -90 to 90, longitude -180 to 180)",
);

/// Point features of a table; rows with a bad position are reported and skipped.
pub fn read(
    table: &Table,
    lat_column: &str,
    lon_column: &str,
    file: &str,
    report: &mut LoadReport,
) -> Option<Vec<SourceFeature>> {
    let place = Place {
        file,
        sheet: table.sheet.as_deref(),
    };
    for (severity, remark) in &table.remarks {
        report.add(place.problem(*severity, None, None, remark.clone()));
    }
    let mut missing = false;
    for column in [lat_column, lon_column] {
        if table.column(column).is_none() {
            report.add(place.problem(
                Severity::Error,
                Some(1),
                Some(column),
                format!("no such column; the columns are {:?}", table.headers),
            ));
            missing = true;
        }
    }
    if missing {
        return None;
    }
    let lat_at = table.column(lat_column)?;
    let lon_at = table.column(lon_column)?;
    let mut out = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let mut coordinate = |at: usize, name: &str| -> Option<f64> {
            let text = row.cell(at).text();
            let (reason, group) = match text.as_deref().map(str::parse::<f64>) {
                Some(Ok(v)) => return Some(v),
                Some(Err(_)) => (
                    format!("not a number: {:?}", text.unwrap_or_default()),
                    &NOT_A_NUMBER,
                ),
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
            continue;
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
            continue;
        }
        let mut properties = Map::new();
        for (i, header) in table.headers.iter().enumerate() {
            if i != lat_at && i != lon_at && !header.is_empty() {
                properties.insert(header.clone(), row.cell(i).to_json());
            }
        }
        out.push(SourceFeature {
            row: row.number,
            native_id: None,
            geometry: Geometry::Point(Point::new(lon, lat)),
            properties,
        });
    }
    Some(out)
}

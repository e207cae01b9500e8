//! Making a draft from an upload: the master list is stored, added to the config served
//! now as one more count table (one round, `round_id`), and loaded with the same loader as
//! `dtmap check`. When the sites' area layer has count tables of its own, the area figures
//! of the new round are the sums of the master list's sites, by the area the master list
//! names (its column named like the layer's `group_by`) or else the area the site is in —
//! written as a second table, so the dashboard has the round too. The draft keeps the load
//! report, the diff against the latest round served and a GeoJSON preview.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use super::diff::{self, Moved};
use super::store::write_atomic;
use super::{now_rfc3339, round_dir, valid_round_id, with_round, AddedRound, AddedTable, Store};
use crate::api::rounds::{RoundsError, Upload};
use crate::config::{Config, SourceFormat};
use crate::data::{LoadReport, Severity};
use crate::model::{GeometryKind, Snapshot};

/// Problems of the upload named in a draft (all are counted).
const PROBLEMS_NAMED: usize = 500;
/// File name of the area sums in a round's folder.
pub const AREAS_FILE: &str = "areas.csv";

/// The layer a master list gives figures to: `admin.layer`, else the dashboard's sites,
/// else the first point layer with figures.
pub fn upload_layer(config: &Config, snapshot: &Snapshot) -> Option<String> {
    let point_with_counts = |id: &str| {
        snapshot
            .layer(id)
            .is_some_and(|l| l.kind == GeometryKind::Point && !l.count_columns.is_empty())
    };
    config
        .admin
        .layer
        .clone()
        .or_else(|| config.dashboard.as_ref().and_then(|d| d.sites.clone()))
        .filter(|id| point_with_counts(id))
        .or_else(|| {
            snapshot
                .layers
                .iter()
                .find(|l| !l.basemap && point_with_counts(&l.id))
                .map(|l| l.id.clone())
        })
}

fn invalid(message: impl Into<String>) -> RoundsError {
    RoundsError::Invalid(message.into())
}

/// Checks the form, stores the file, loads the draft against `current` (the config
/// served, whose data is `before`) and writes `draft.json`; answers it.
pub fn make(
    store: &Store,
    current: &Config,
    before: &Snapshot,
    base_version: Option<u64>,
    upload: Upload,
    user: &str,
) -> Result<Value, RoundsError> {
    let round = upload.round.trim().to_string();
    if !valid_round_id(&round) {
        return Err(invalid(format!(
            "round {round:?}: give a round id of 1-64 letters, digits, '-', '_' or '.' \
             (a date such as 2020-01-31, or a number)"
        )));
    }
    for (name, value) in [
        ("label", &upload.label),
        ("date", &upload.date),
        ("source", &upload.source),
    ] {
        if value
            .as_ref()
            .is_some_and(|v| v.chars().count() > 200 || v.chars().any(char::is_control))
        {
            return Err(invalid(format!(
                "{name}: at most 200 characters, on one line"
            )));
        }
    }
    if let Some(date) = &upload.date {
        let ok = date.len() == 10
            && date.chars().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if !ok {
            return Err(invalid(format!("date {date:?}: write it as YYYY-MM-DD")));
        }
    }
    let Some(layer_id) = upload_layer(current, before) else {
        return Err(invalid("no layer of sites with figures to add a round to"));
    };
    let layer = before
        .layer(&layer_id)
        .ok_or_else(|| invalid("no such layer"))?;
    if layer.round_position(&round).is_some() {
        return Err(RoundsError::Conflict(format!(
            "round {round:?} is already published in layer {layer_id}; roll back first, or \
             give the new round another id"
        )));
    }
    let extension = upload
        .file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let format = match extension.as_str() {
        "csv" => SourceFormat::Csv,
        "xlsx" | "xlsm" | "xls" | "ods" => SourceFormat::Xlsx,
        _ => {
            return Err(invalid(format!(
                "{:?}: send the master list as .xlsx or .csv",
                upload.file_name
            )))
        }
    };
    let layer_config = current
        .layers
        .iter()
        .find(|l| l.id == layer_id)
        .ok_or_else(|| invalid("no such layer in the config"))?;
    let key = layer_config
        .counts
        .first()
        .map(|t| t.key.clone())
        .unwrap_or_else(|| layer_config.id_field.clone());
    let id = draft_id();
    let dir = store
        .draft_dir(&id)
        .ok_or_else(|| RoundsError::Failed("bad draft id".into()))?;
    let files = dir.join("files");
    let folder = round_dir(&files, &round);
    let file = format!("master-list.{extension}");
    let failed = |e: std::io::Error| RoundsError::Failed(format!("cannot store the upload: {e}"));
    std::fs::create_dir_all(&folder).map_err(failed)?;
    std::fs::write(folder.join(&file), &upload.bytes).map_err(failed)?;
    let mut added = AddedRound {
        round: round.clone(),
        label: upload.label.clone(),
        date: upload.date.clone(),
        source: upload.source.clone(),
        illustrative: upload.illustrative,
        file_name: upload.file_name.chars().take(200).collect(),
        uploaded_by: user.to_string(),
        uploaded_at: now_rfc3339(),
        tables: vec![AddedTable {
            layer: layer_id.clone(),
            file: file.clone(),
            key: key.clone(),
            columns: layer.count_columns.clone(),
            synthetic: upload.illustrative,
            source: upload.source.clone(),
            skip_bad_rows: upload.skip_bad_rows,
        }],
    };
    // The master list alone first: its sites' figures make the area sums.
    let (sites_only, _) = crate::data::load(&with_round(current.clone(), &added, &folder));
    let group = layer_config.group_by.clone();
    let area_layer = layer_config.group_layer.clone();
    let area_counts = area_layer
        .as_deref()
        .and_then(|id| current.layers.iter().find(|l| l.id == id))
        .is_some_and(|l| !l.counts.is_empty());
    let mut moved = Vec::new();
    if let (Some(group), Some(area_layer), true) = (&group, &area_layer, area_counts) {
        let named = areas_named(&upload.bytes, format, &key, group);
        let (csv, columns, found) = area_sums(&sites_only, &layer_id, &round, group, &named);
        moved = found;
        let area_columns: Vec<String> = before
            .layer(area_layer)
            .map(|l| {
                columns
                    .iter()
                    .filter(|c| l.count_column(c).is_some())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if !area_columns.is_empty() {
            std::fs::write(folder.join(AREAS_FILE), csv).map_err(failed)?;
            added.tables.push(AddedTable {
                layer: area_layer.clone(),
                file: AREAS_FILE.into(),
                key: "area".into(),
                columns: area_columns,
                synthetic: upload.illustrative,
                source: Some(format!(
                    "sum of the sites of the master list of round {round}"
                )),
                skip_bad_rows: false,
            });
        }
    }
    let config = with_round(current.clone(), &added, &folder);
    let (after, report) = crate::data::load(&config);
    let master_path = folder.join(&file).to_string_lossy().into_owned();
    let areas_path = folder.join(AREAS_FILE).to_string_lossy().into_owned();
    let diff = diff::diff(before, &after, &report, &layer_id, &round, moved);
    let preview = preview(
        &after,
        &layer_id,
        diff.as_ref().and_then(|d| d.area_layer.as_deref()),
        &round,
    );
    write_atomic(&dir.join("preview.geojson"), preview.to_string().as_bytes()).map_err(failed)?;
    let shown = report_of_upload(&report, &master_path, &areas_path, &upload.file_name);
    let draft = json!({
        "id": id,
        "createdAt": now_rfc3339(),
        "user": user,
        "baseVersion": base_version,
        "layer": layer_id,
        "round": added,
        "publishable": report.is_ok(),
        "errors": report.error_count(),
        "warnings": shown.warning_count(),
        "report": {
            "text": shown.to_string(),
            "problems": shown.problems.iter().take(PROBLEMS_NAMED).collect::<Vec<_>>(),
        },
        "diff": diff,
    });
    write_atomic(&dir.join("draft.json"), draft.to_string().as_bytes()).map_err(failed)?;
    store.audit(
        "upload",
        user,
        json!({ "draft": id, "round": round, "file": added.file_name, "errors": report.error_count(), "warnings": shown.warning_count() }),
    );
    Ok(draft)
}

/// A new draft id: the time and random digits.
fn draft_id() -> String {
    let mut random = [0u8; 4];
    let _ = getrandom::getrandom(&mut random);
    let stamp: String = now_rfc3339().chars().filter(char::is_ascii_digit).collect();
    format!("d{stamp}-{}", crate::api::auth::hex(&random))
}

/// The problems about the uploaded files (named as uploaded), and every error anywhere.
fn report_of_upload(report: &LoadReport, master: &str, areas: &str, name: &str) -> LoadReport {
    let mut shown = LoadReport::default();
    for problem in &report.problems {
        let mut problem = problem.clone();
        if problem.file == master {
            problem.file = name.to_string();
        } else if problem.file == areas {
            problem.file = format!("{name} (area sums)");
        } else if problem.severity != Severity::Error {
            continue;
        }
        shown.add(problem);
    }
    shown
}

/// Key → area code, from the master list's column `group` when it has one.
fn areas_named(
    bytes: &[u8],
    format: SourceFormat,
    key: &str,
    group: &str,
) -> BTreeMap<String, String> {
    let Ok(table) = crate::data::table::read(bytes, format, None) else {
        return BTreeMap::new();
    };
    let (Some(k), Some(g)) = (table.column(key), table.column(group)) else {
        return BTreeMap::new();
    };
    table
        .rows
        .iter()
        .filter_map(|row| Some((row.cell(k).text()?, row.cell(g).text()?)))
        .collect()
}

/// The area sums of `round` as CSV (`area,<columns>`), the columns, and the sites the
/// master list puts in another area than the map.
fn area_sums(
    snapshot: &Snapshot,
    layer_id: &str,
    round: &str,
    group: &str,
    named: &BTreeMap<String, String>,
) -> (String, Vec<String>, Vec<Moved>) {
    let Some(layer) = snapshot.layer(layer_id) else {
        return (String::new(), Vec::new(), Vec::new());
    };
    let columns = layer.count_columns.clone();
    let mut sums: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut moved = Vec::new();
    if let Some(r) = layer.round_position(round) {
        for (at, feature) in layer.features.iter().enumerate() {
            let Some(record) = layer.count(r, at as u32) else {
                continue;
            };
            let mapped = feature
                .properties
                .get(group)
                .and_then(crate::model::FieldValue::key_text);
            let area = match (named.get(feature.id.as_str()), &mapped) {
                (Some(to), Some(from)) if to != from => {
                    moved.push(Moved {
                        id: feature.id.to_string(),
                        from: from.clone(),
                        to: to.clone(),
                    });
                    to.clone()
                }
                (Some(to), _) => to.clone(),
                (None, Some(from)) => from.clone(),
                (None, None) => continue,
            };
            let sum = sums.entry(area).or_insert_with(|| vec![0; columns.len()]);
            for (s, v) in sum.iter_mut().zip(record.values()) {
                *s = s.saturating_add(v.unwrap_or(0));
            }
        }
    }
    let mut csv = format!("area,{}\n", columns.join(","));
    for (area, values) in sums {
        let values: Vec<String> = values.iter().map(i64::to_string).collect();
        csv.push_str(&format!("{},{}\n", csv_field(&area), values.join(",")));
    }
    (csv, columns, moved)
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The draft's figures for the preview map: the sites with their figures of `round`
/// (`kind: "site"`) and the areas with theirs (`kind: "area"`).
pub fn preview(
    snapshot: &Snapshot,
    layer_id: &str,
    area_layer: Option<&str>,
    round: &str,
) -> Value {
    let mut features = Vec::new();
    for (id, kind) in [(Some(layer_id), "site"), (area_layer, "area")] {
        let Some(layer) = id.and_then(|id| snapshot.layer(id)) else {
            continue;
        };
        let Some(r) = layer.round_position(round) else {
            continue;
        };
        for (at, feature) in layer.features.iter().enumerate() {
            let Some(record) = layer.count(r, at as u32) else {
                continue;
            };
            let mut properties = serde_json::Map::new();
            properties.insert("id".into(), json!(feature.id));
            properties.insert("kind".into(), json!(kind));
            if let Some(name) = layer
                .name_field
                .as_deref()
                .and_then(|f| feature.properties.get(f))
            {
                properties.insert("name".into(), name.to_value());
            }
            for (column, value) in layer.count_columns.iter().zip(record.values()) {
                properties.insert(column.clone(), json!(value));
            }
            let geometry: Value = {
                let mut text = String::new();
                feature.push_geometry_json(&mut text);
                serde_json::from_str(&text).unwrap_or(Value::Null)
            };
            features.push(json!({ "type": "Feature", "id": feature.id, "geometry": geometry, "properties": properties }));
        }
    }
    json!({ "type": "FeatureCollection", "round": round, "features": features })
}

/// Totals of the latest round of the dashboard's areas (or of `layer`), for a version.
pub fn totals(snapshot: &Snapshot, layer: Option<&str>) -> Value {
    let id = snapshot
        .dashboard
        .as_ref()
        .map(|d| d.areas.as_str())
        .or(layer);
    let Some(layer) = id.and_then(|id| snapshot.layer(id)) else {
        return Value::Null;
    };
    let Some(r) = layer.latest_round() else {
        return Value::Null;
    };
    let mut values = serde_json::Map::new();
    for (c, column) in layer.count_columns.iter().enumerate() {
        let sum: i64 = (0..layer.features.len() as u32)
            .filter_map(|f| layer.count(r, f)?.value(c))
            .sum();
        values.insert(column.clone(), json!(sum));
    }
    json!({ "layer": layer.id, "round": layer.rounds[r].id, "label": layer.rounds[r].label, "values": values })
}

/// The files of a draft's round, as (path below `files/`, source) pairs.
pub fn round_files(
    files: &Path,
    round: &AddedRound,
) -> Vec<(std::path::PathBuf, std::path::PathBuf)> {
    round
        .tables
        .iter()
        .map(|t| {
            (
                Path::new(&round.round).join(&t.file),
                round_dir(files, &round.round).join(&t.file),
            )
        })
        .collect()
}

//! Dataset downloads: every layer with its counts, per round, as GeoJSON, CSV (UTF-8 with a
//! BOM so spreadsheet programs show Arabic), XLSX and FlatGeobuf (with its spatial index),
//! at stable URLs (`/datasets/{layer}/{round}.{geojson|csv|xlsx|fgb}`, `latest` for the
//! newest round; `all` for layers without rounds, and for layers with rounds the time
//! series of every round as `all.csv` or `all.xlsx`), and `/datasets`, the list of them
//! with source, licence and attribution (JSON, or an HTML page for browsers).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header::{HeaderValue, CONTENT_DISPOSITION};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{json, Value};

/// The boundary disclaimer every map and export carries.
pub const DISCLAIMER: &str = "The boundaries and names shown and the designations used on \
     this map do not imply official endorsement or acceptance.";

use super::items::{percent_encode, select_round};
use super::render::{self, CollectionHeader, PropertyChoice};
use super::stream::{self, StreamFormat};
use super::{data_response, json_response, layer, AppState, BaseUrl, Format, Negotiated};
use crate::error::ApiError;
use crate::model::Layer;

/// Media type of XLSX.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const FORMATS: [&str; 4] = ["geojson", "csv", "xlsx", "fgb"];

/// The round names a layer's files are published under.
fn file_rounds(layer: &Layer) -> Vec<String> {
    if layer.rounds.is_empty() {
        vec!["all".into()]
    } else {
        let mut names: Vec<String> = layer.rounds.iter().rev().map(|r| r.id.clone()).collect();
        names.insert(0, "latest".into());
        names
    }
}

fn listing(snapshot: &crate::model::Snapshot, base: &str) -> Value {
    let layers: Vec<Value> = snapshot
        .layers
        .iter()
        .map(|l| {
            let files: Vec<Value> = file_rounds(l)
                .iter()
                .map(|round| {
                    let mut links = serde_json::Map::new();
                    for ext in FORMATS {
                        links.insert(
                            ext.into(),
                            json!(format!(
                                "{base}/datasets/{}/{}.{ext}",
                                l.id,
                                percent_encode(round)
                            )),
                        );
                    }
                    let label = l
                        .round_position(round)
                        .and_then(|r| l.rounds[r].label.clone());
                    json!({ "round": round, "label": label, "files": links })
                })
                .collect();
            json!({
                "layer": l.id,
                "title": l.title,
                "description": l.description,
                "attribution": l.attribution,
                "licence": l.licence,
                "synthetic": l.has_synthetic(),
                "features": l.features.len(),
                "rounds": files,
                "allRounds": (!l.rounds.is_empty()).then(|| json!({
                    "csv": format!("{base}/datasets/{}/all.csv", l.id),
                    "xlsx": format!("{base}/datasets/{}/all.xlsx", l.id),
                })),
            })
        })
        .collect();
    json!({ "title": snapshot.title, "datasets": layers })
}

/// `GET /datasets`
pub async fn list(
    State(state): State<Arc<AppState>>,
    BaseUrl(base): BaseUrl,
    Negotiated(format): Negotiated,
) -> Response {
    let snapshot = state.current();
    let listing = listing(&snapshot, &base);
    if format == Format::Html {
        let head = crate::web::datasets_head(&super::web::bootstrap(&snapshot));
        return Html(listing_html(&listing, &head)).into_response();
    }
    json_response(&listing, super::JSON)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page browsers get: the list in English and Arabic, readable without scripts, which
/// `datasets.js` (in `head`) rewrites in the page's language (`?lang=`).
fn listing_html(listing: &Value, head: &str) -> String {
    let mut body = String::new();
    for dataset in listing["datasets"].as_array().into_iter().flatten() {
        let text = |key: &str| escape(dataset[key].as_str().unwrap_or(""));
        body.push_str(&format!(
            "<section><h2>{}</h2><p>{}</p><p class=\"meta\"><b>Source / المصدر:</b> {}<br><b>Licence / الترخيص:</b> {}</p>{}<table><thead><tr><th>Round / الجولة</th><th>GeoJSON</th><th>CSV</th><th>XLSX</th><th>FlatGeobuf</th></tr></thead><tbody>",
            text("title"),
            text("description"),
            text("attribution"),
            escape(dataset["licence"].as_str().unwrap_or("see source")),
            if dataset["synthetic"] == true {
                "<p class=\"badge\">Contains illustrative (synthetic) figures — بيانات توضيحية</p>"
            } else {
                ""
            },
        ));
        for round in dataset["rounds"].as_array().into_iter().flatten() {
            let link = |ext: &str| {
                let href = escape(round["files"][ext].as_str().unwrap_or(""));
                format!("<td><a href=\"{href}\">{ext}</a></td>")
            };
            body.push_str(&format!(
                "<tr><td>{}{}</td>{}{}{}{}</tr>",
                escape(round["round"].as_str().unwrap_or("")),
                round["label"]
                    .as_str()
                    .map(|l| format!(" (round {})", escape(l)))
                    .unwrap_or_default(),
                link("geojson"),
                link("csv"),
                link("xlsx"),
                link("fgb"),
            ));
        }
        body.push_str("</tbody></table></section>");
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Datasets — {title}</title>{head}<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.25rem .6rem;text-align:start}}.badge{{background:#fff3cd;display:inline-block;padding:.2rem .5rem;border-radius:.3rem}}.meta{{color:#444}}</style></head><body><main id=\"datasets\"><h1>Datasets / مجموعات البيانات</h1><p><a href=\"./\">Map / الخريطة</a></p>{body}</main></body></html>",
        title = escape(listing["title"].as_str().unwrap_or("dtmap")),
    )
}

/// `GET /datasets/{layer}/{file}` with file `{round}.{geojson|csv|xlsx|fgb}`.
pub async fn download(
    State(state): State<Arc<AppState>>,
    BaseUrl(base): BaseUrl,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let snapshot = state.current();
    let layer = layer(&snapshot, &id)?;
    let (round_name, ext) = file.rsplit_once('.').ok_or_else(|| {
        ApiError::not_found(format!(
            "{file:?}: name a round and a format, e.g. latest.csv"
        ))
    })?;
    if !FORMATS.contains(&ext) {
        return Err(ApiError::not_found(format!(
            "{ext:?} is not a download format; use geojson, csv, xlsx or fgb"
        )));
    }
    if round_name == "all" && !layer.rounds.is_empty() {
        return time_series(&state, layer, ext).await;
    }
    let round = match round_name {
        "all" if layer.rounds.is_empty() => None,
        "latest" => layer.latest_round(),
        other => Some(layer.round_position(other).ok_or_else(|| {
            ApiError::not_found(format!(
                "{} has no round {other:?}; see {base}/datasets",
                layer.id
            ))
        })?),
    };
    // The same check items use, for its error message on a layer without rounds.
    if round.is_some() {
        select_round(layer, round.map(|r| layer.rounds[r].id.as_str()), None)?;
    }
    let choice = PropertyChoice::all(layer);
    let round_part = round
        .map(|r| layer.rounds[r].id.clone())
        .unwrap_or_else(|| "all".into());
    let filename = format!("dtmap-{}-{}.{ext}", layer.id, round_part);
    let layer = layer.clone();
    let mut response = match ext {
        "geojson" => {
            let mut extra = serde_json::Map::new();
            extra.insert("attribution".into(), json!(layer.attribution));
            extra.insert("licence".into(), json!(layer.licence));
            let mut head = String::new();
            render::write_collection_head(
                &mut head,
                &CollectionHeader {
                    number_matched: layer.features.len(),
                    round: round.map(|r| &layer.rounds[r]),
                    links: json!([]),
                    extra: Some(extra),
                },
                layer.features.len(),
            );
            let body = stream::layer_body(layer, round, choice, StreamFormat::GeoJson, Some(head));
            data_response(body, super::GEOJSON)
        }
        "csv" => data_response(
            stream::layer_body(layer, round, choice, StreamFormat::Csv, None),
            super::CSV,
        ),
        "fgb" => {
            // Sorted along a Hilbert curve and indexed once every feature is known: written
            // whole to a temporary file on the compute pool, then streamed from it.
            let file = state
                .heavy
                .run(move || {
                    let features: Vec<u32> = (0..layer.features.len() as u32).collect();
                    let page = render::FeaturePage {
                        layer: &layer,
                        round,
                        features: &features,
                        choice: &choice,
                        distances: None,
                    };
                    super::fgb::page_file(&page, crate::config::MAX_FGB_DOWNLOAD_BYTES)
                })
                .await?;
            data_response(super::fgb::file_body(file), super::FGB)
        }
        _ => {
            // A workbook is a zip written at the end: built whole, on the compute pool.
            let bytes = state
                .heavy
                .run(move || {
                    let features: Vec<u32> = (0..layer.features.len() as u32).collect();
                    let csv = render::write_csv(&layer, round, &features, &choice, None);
                    let round = round
                        .map(|r| layer.rounds[r].id.clone())
                        .unwrap_or_default();
                    xlsx(&layer, &round, csv, &choice)
                })
                .await?;
            data_response(bytes, XLSX)
        }
    };
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        response.headers_mut().insert(CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// `all.csv` / `all.xlsx` of a layer with rounds: every round's rows, one after another.
async fn time_series(
    state: &Arc<AppState>,
    layer: &Arc<Layer>,
    ext: &str,
) -> Result<Response, ApiError> {
    let filename = format!("dtmap-{}-all-rounds.{ext}", layer.id);
    let mut response = match ext {
        "csv" => data_response(super::series::time_series_csv(layer), super::CSV),
        "xlsx" => {
            let layer = layer.clone();
            let bytes = state
                .heavy
                .run(move || {
                    let choice = PropertyChoice::all(&layer);
                    let csv = super::series::time_series_csv(&layer);
                    xlsx(&layer, "all rounds", csv, &choice)
                })
                .await?;
            data_response(bytes, XLSX)
        }
        _ => {
            return Err(ApiError::not_found(format!(
                "every round of {} comes as all.csv or all.xlsx; GeoJSON is one round a file",
                layer.id
            )))
        }
    };
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        response.headers_mut().insert(CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// CSV rows as a workbook: sheet "data" with the rows (numbers as numbers), sheet "about"
/// with source, licence and attribution.
fn xlsx(
    layer: &Layer,
    round: &str,
    csv_bytes: Vec<u8>,
    choice: &PropertyChoice,
) -> Result<Vec<u8>, ApiError> {
    let text = String::from_utf8_lossy(
        csv_bytes
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(&csv_bytes),
    )
    .to_string();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let internal = |e: rust_xlsxwriter::XlsxError| ApiError::Internal(format!("writing XLSX: {e}"));
    let mut workbook = rust_xlsxwriter::Workbook::new();
    // A fixed creation time (the round's date when it is one): the same data gives the same
    // bytes from every replica, at any time.
    // The round's position, when the workbook is one round (not the time series).
    let position = layer.round_position(round);
    let created = position
        .or(layer.latest_round())
        .and_then(|r| layer.rounds[r].date.as_deref())
        .and_then(|date| {
            let mut parts = date.split('-').map(|p| p.parse::<u16>().ok());
            let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
            rust_xlsxwriter::ExcelDateTime::from_ymd(y, m as u8, d as u8).ok()
        })
        .or_else(|| rust_xlsxwriter::ExcelDateTime::from_ymd(2000, 1, 1).ok());
    if let Some(created) = created {
        workbook
            .set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created));
    }
    // Rows go to a temporary file as they are written, not into memory.
    let sheet = workbook.add_worksheet_with_constant_memory();
    sheet.set_name("data").map_err(internal)?;
    // Numbers go in as numbers: counts, numeric fields, distance and lon/lat, known by the
    // header of their column.
    let _ = choice;
    let mut numeric: Vec<bool> = Vec::new();
    let mut ticker = crate::deadline::Ticker::every(256);
    for (r, record) in reader.records().enumerate() {
        if ticker.expired() {
            return Err(ApiError::Unavailable(
                "the workbook took too long to write".into(),
            ));
        }
        let record = record.map_err(|e| ApiError::Internal(format!("re-reading CSV: {e}")))?;
        if r == 0 {
            numeric = record
                .iter()
                .map(|header| {
                    layer.count_column(header).is_some()
                        || matches!(header, "lon" | "lat" | "distance_m")
                        || (layer.fields.iter().any(|f| f == header)
                            && matches!(
                                super::collections::property_type(layer, header),
                                "integer" | "number"
                            ))
                })
                .collect();
        }
        for (c, cell) in record.iter().enumerate() {
            let (row, col) = (r as u32, c as u16);
            let as_number = r > 0 && numeric.get(c).copied().unwrap_or(false);
            match cell.parse::<f64>() {
                Ok(n) if as_number => sheet.write_number(row, col, n).map(|_| ()),
                _ => sheet.write_string(row, col, cell).map(|_| ()),
            }
            .map_err(internal)?;
        }
    }
    let about = workbook.add_worksheet();
    about.set_name("about").map_err(internal)?;
    let lines = [
        ("layer", layer.id.clone()),
        ("title", layer.title.clone()),
        ("round", round.to_string()),
        (
            "data as of",
            position
                .map(|r| {
                    let info = &layer.rounds[r];
                    match (&info.date, &info.label) {
                        (Some(date), Some(label)) => format!("{date} (round {label})"),
                        (Some(date), None) => date.clone(),
                        (None, Some(label)) => format!("round {label}"),
                        (None, None) => info.id.clone(),
                    }
                })
                .unwrap_or_else(|| {
                    // The time series: from the first round to the last.
                    let name = |r: &crate::model::Round| r.date.clone().unwrap_or(r.id.clone());
                    match (layer.rounds.first(), layer.rounds.last()) {
                        (Some(first), Some(last)) => format!("{} – {}", name(first), name(last)),
                        _ => String::new(),
                    }
                }),
        ),
        ("attribution", layer.attribution.clone()),
        ("licence", layer.licence.clone().unwrap_or_default()),
        (
            "synthetic",
            if layer.has_synthetic() {
                "Rows with synthetic = true are illustrative, not published figures.".into()
            } else {
                String::new()
            },
        ),
        (
            "provenance",
            "Each row's provenance: published (with its source), computed_from_published, \
             illustrative, or computed_from_illustrative."
                .into(),
        ),
        ("disclaimer", DISCLAIMER.into()),
    ];
    for (i, (key, value)) in lines.iter().enumerate() {
        about.write_string(i as u32, 0, *key).map_err(internal)?;
        about.write_string(i as u32, 1, value).map_err(internal)?;
    }
    workbook.save_to_buffer().map_err(internal)
}

//! Writing features out: GeoJSON (text assembled from the geometry prepared at load, so a
//! response is mostly copying) and CSV (UTF-8 with a BOM, so spreadsheet programs show
//! Arabic names correctly); FlatGeobuf is in [`super::fgb`]. Used by the items and query
//! endpoints alike.

use std::fmt::Write as _;

use geo::InteriorPoint;
use serde_json::Value;

use crate::config::{MAX_PAGE_BYTES, MAX_PROPERTY_NAMES};
use crate::model::{FieldValue, Layer, Round};

/// Which properties go out.
#[derive(Debug, Clone)]
pub struct PropertyChoice {
    /// Published fields to write, in order.
    pub fields: Vec<String>,
    /// Count columns to write, by position.
    pub counts: Vec<usize>,
    /// Whether to write `round`, `round_label`, `synthetic`, `provenance`, `source`.
    pub round_info: bool,
}

impl PropertyChoice {
    /// Every property of the layer.
    pub fn all(layer: &Layer) -> PropertyChoice {
        PropertyChoice {
            fields: layer.fields.clone(),
            counts: (0..layer.count_columns.len()).collect(),
            round_info: !layer.count_columns.is_empty(),
        }
    }

    /// The properties named in `properties=a,b,c`, each once, in the order first named;
    /// unknown names, or more than [`MAX_PROPERTY_NAMES`] names, are an error message.
    pub fn named(layer: &Layer, names: &[&str]) -> Result<PropertyChoice, String> {
        if names.len() > MAX_PROPERTY_NAMES {
            return Err(format!(
                "properties: {} names given; at most {MAX_PROPERTY_NAMES} may be listed",
                names.len()
            ));
        }
        let mut choice = PropertyChoice {
            fields: Vec::new(),
            counts: Vec::new(),
            round_info: false,
        };
        let mut seen = std::collections::HashSet::new();
        for name in names {
            if !seen.insert(*name) {
                continue;
            }
            if layer.fields.iter().any(|f| f == name) {
                choice.fields.push(name.to_string());
            } else if let Some(at) = layer.count_column(name) {
                choice.counts.push(at);
            } else if crate::config::RESERVED_PROPERTIES.contains(name)
                && !layer.count_columns.is_empty()
            {
                choice.round_info = true;
            } else {
                return Err(format!(
                    "properties: {name:?} is not a property of {}; its properties are {}",
                    layer.id,
                    all_property_names(layer).join(", ")
                ));
            }
        }
        Ok(choice)
    }
}

/// Every property name a feature of the layer can carry.
pub fn all_property_names(layer: &Layer) -> Vec<String> {
    let mut names = layer.fields.clone();
    names.extend(layer.count_columns.iter().cloned());
    if !layer.count_columns.is_empty() {
        names.extend(
            crate::config::RESERVED_PROPERTIES
                .iter()
                .map(|s| s.to_string()),
        );
    }
    names
}

fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut plain = 0;
    for (at, byte) in s.bytes().enumerate() {
        let escaped = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[plain..at]);
        if escaped.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escaped);
        }
        plain = at + 1;
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

/// Appends a property value as JSON, writing text without copying it first.
fn push_field_value(out: &mut String, value: FieldValue<'_>) {
    match value.as_str() {
        Some(text) => push_json_string(out, text),
        None => {
            let _ = write!(out, "{value}");
        }
    }
}

/// Writes one GeoJSON Feature.
pub fn write_feature(
    out: &mut String,
    layer: &Layer,
    round: Option<usize>,
    feature: u32,
    choice: &PropertyChoice,
    distance_m: Option<f64>,
) {
    let f = &layer.features[feature as usize];
    out.push_str(r#"{"type":"Feature","id":"#);
    push_json_string(out, &f.id);
    out.push_str(r#","geometry":"#);
    f.push_geometry_json(out);
    out.push_str(r#","properties":{"#);
    let mut first = true;
    let mut key = |out: &mut String, name: &str| {
        if !first {
            out.push(',');
        }
        first = false;
        push_json_string(out, name);
        out.push(':');
    };
    for field in &choice.fields {
        key(out, field);
        match f.properties.get(field) {
            Some(value) => push_field_value(out, value),
            None => out.push_str("null"),
        }
    }
    let record = round.and_then(|r| layer.count(r, feature));
    for &column in &choice.counts {
        key(out, &layer.count_columns[column]);
        match record.and_then(|r| r.value(column)) {
            Some(v) => {
                let _ = write!(out, "{v}");
            }
            None => out.push_str("null"),
        }
    }
    if choice.round_info {
        let round_info = round.map(|r| &layer.rounds[r]);
        key(out, "round");
        write_opt_str(out, round_info.map(|r| r.id.as_str()));
        key(out, "round_label");
        write_opt_str(out, round_info.and_then(|r| r.label.as_deref()));
        key(out, "synthetic");
        match record {
            Some(r) => out.push_str(if r.synthetic() { "true" } else { "false" }),
            None => out.push_str("null"),
        }
        key(out, "provenance");
        write_opt_str(out, record.map(|r| r.provenance().as_str()));
        key(out, "source");
        write_opt_str(out, record.and_then(|r| r.source().map(|s| &**s)));
    }
    if let Some(d) = distance_m {
        key(out, "distance_m");
        out.push_str(&format!("{:.1}", d));
    }
    out.push_str("}}");
}

fn write_opt_str(out: &mut String, value: Option<&str>) {
    match value {
        Some(s) => push_json_string(out, s),
        None => out.push_str("null"),
    }
}

/// Header fields of a FeatureCollection besides the features.
pub struct CollectionHeader<'a> {
    /// All matches (before paging).
    pub number_matched: usize,
    /// The round whose counts are in the properties.
    pub round: Option<&'a Round>,
    /// Links, already as JSON.
    pub links: Value,
    /// Extra members (e.g. totals of a query), written as they are.
    pub extra: Option<serde_json::Map<String, Value>>,
}

/// Writes a whole FeatureCollection.
pub fn write_collection(
    layer: &Layer,
    round: Option<usize>,
    features: &[u32],
    choice: &PropertyChoice,
    header: &CollectionHeader<'_>,
    distances: Option<&[f64]>,
) -> String {
    let mut out = String::with_capacity(256 + features.len() * 512);
    write_collection_head(&mut out, header, features.len());
    write_features(&mut out, layer, round, features, choice, distances, true);
    out.push_str(COLLECTION_TAIL);
    out
}

/// What closes a FeatureCollection after its features.
pub const COLLECTION_TAIL: &str = "]}";

/// A FeatureCollection up to and including `"features":[`.
pub fn write_collection_head(out: &mut String, header: &CollectionHeader<'_>, returned: usize) {
    out.push_str(r#"{"type":"FeatureCollection","numberMatched":"#);
    out.push_str(&header.number_matched.to_string());
    out.push_str(r#","numberReturned":"#);
    out.push_str(&returned.to_string());
    if let Some(r) = header.round {
        out.push_str(r#","round":"#);
        push_json_string(out, &r.id);
    }
    if let Some(extra) = &header.extra {
        for (k, v) in extra {
            out.push(',');
            push_json_string(out, k);
            out.push(':');
            out.push_str(&v.to_string());
        }
    }
    out.push_str(r#","links":"#);
    out.push_str(&header.links.to_string());
    out.push_str(r#","features":["#);
}

/// Features as members of a FeatureCollection's array, comma-separated; `first` when they
/// open the array.
pub fn write_features(
    out: &mut String,
    layer: &Layer,
    round: Option<usize>,
    features: &[u32],
    choice: &PropertyChoice,
    distances: Option<&[f64]>,
    first: bool,
) {
    for (i, &f) in features.iter().enumerate() {
        if i > 0 || !first {
            out.push(',');
        }
        write_feature(out, layer, round, f, choice, distances.map(|d| d[i]));
    }
}

/// Writes features as CSV with a BOM: id, the chosen properties, and the lon/lat of the
/// point (of an interior point for lines and polygons).
pub fn write_csv(
    layer: &Layer,
    round: Option<usize>,
    features: &[u32],
    choice: &PropertyChoice,
    distances: Option<&[f64]>,
) -> Vec<u8> {
    write_csv_part(layer, round, features, choice, distances, true)
}

/// CSV rows of `features`, after the BOM and the header row when `with_header`.
pub fn write_csv_part(
    layer: &Layer,
    round: Option<usize>,
    features: &[u32],
    choice: &PropertyChoice,
    distances: Option<&[f64]>,
    with_header: bool,
) -> Vec<u8> {
    let start: &[u8] = if with_header { b"\xEF\xBB\xBF" } else { b"" };
    let mut writer = csv::Writer::from_writer(start.to_vec());
    if with_header {
        let _ = writer.write_record(csv_header(layer, choice, distances.is_some()));
    }
    for (i, &feature) in features.iter().enumerate() {
        let _ = writer.write_record(csv_row(
            layer,
            round,
            feature,
            choice,
            distances.map(|d| d[i]),
        ));
    }
    writer.into_inner().unwrap_or_default()
}

fn csv_header(layer: &Layer, choice: &PropertyChoice, with_distance: bool) -> Vec<String> {
    let mut header: Vec<String> = vec!["id".into()];
    header.extend(choice.fields.iter().cloned());
    header.extend(
        choice
            .counts
            .iter()
            .map(|&c| layer.count_columns[c].clone()),
    );
    if choice.round_info {
        header.extend(
            crate::config::RESERVED_PROPERTIES
                .iter()
                .map(|s| s.to_string()),
        );
    }
    if with_distance {
        header.push("distance_m".to_string());
    }
    header.extend(["lon".to_string(), "lat".to_string()]);
    header
}

fn csv_row(
    layer: &Layer,
    round: Option<usize>,
    feature: u32,
    choice: &PropertyChoice,
    distance: Option<f64>,
) -> Vec<String> {
    let f = &layer.features[feature as usize];
    let record = round.and_then(|r| layer.count(r, feature));
    let mut row: Vec<String> = vec![f.id.to_string()];
    for field in &choice.fields {
        row.push(match f.properties.get(field) {
            None => String::new(),
            Some(value) if value.is_null() => String::new(),
            Some(value) => match value.as_str() {
                Some(text) => text.to_string(),
                None => value.to_string(),
            },
        });
    }
    for &column in &choice.counts {
        row.push(
            record
                .and_then(|r| r.value(column))
                .map(|v| v.to_string())
                .unwrap_or_default(),
        );
    }
    if choice.round_info {
        let round_info = round.map(|r| &layer.rounds[r]);
        row.push(round_info.map(|r| r.id.clone()).unwrap_or_default());
        row.push(round_info.and_then(|r| r.label.clone()).unwrap_or_default());
        row.push(
            record
                .map(|r| r.synthetic().to_string())
                .unwrap_or_default(),
        );
        row.push(
            record
                .map(|r| r.provenance().as_str().to_string())
                .unwrap_or_default(),
        );
        row.push(
            record
                .and_then(|r| r.source().map(|s| &**s).map(str::to_string))
                .unwrap_or_default(),
        );
    }
    if let Some(d) = distance {
        row.push(format!("{d:.1}"));
    }
    let point = f.point().or_else(|| f.geometry().interior_point());
    row.push(point.map(|p| p.x().to_string()).unwrap_or_default());
    row.push(point.map(|p| p.y().to_string()).unwrap_or_default());
    row
}

/// One page of features to answer a request with.
pub struct FeaturePage<'a> {
    /// The layer.
    pub layer: &'a Layer,
    /// The round whose counts go out.
    pub round: Option<usize>,
    /// The features, in order.
    pub features: &'a [u32],
    /// The properties to write.
    pub choice: &'a PropertyChoice,
    /// Each feature's distance in metres, for distance queries.
    pub distances: Option<&'a [f64]>,
}

impl FeaturePage<'_> {
    /// CSV or FlatGeobuf when the client asked for it, otherwise a GeoJSON
    /// FeatureCollection with the number matched, the links (given the number of features
    /// actually returned) and any extra members. A page stops at [`MAX_PAGE_BYTES`]:
    /// GeoJSON returns the features that fit and links the next page from there; CSV and
    /// FlatGeobuf, which have no links, are a 413.
    pub fn respond(
        &self,
        format: super::Format,
        number_matched: usize,
        links: &dyn Fn(usize) -> Value,
        extra: Option<serde_json::Map<String, Value>>,
    ) -> axum::response::Response {
        self.respond_capped(format, number_matched, links, extra, MAX_PAGE_BYTES)
    }

    /// [`FeaturePage::respond`] with another byte cap.
    pub fn respond_capped(
        &self,
        format: super::Format,
        number_matched: usize,
        links: &dyn Fn(usize) -> Value,
        extra: Option<serde_json::Map<String, Value>>,
        max_bytes: usize,
    ) -> axum::response::Response {
        use axum::response::IntoResponse;
        if format == super::Format::Fgb {
            return match super::fgb::page_bytes(self, max_bytes) {
                Ok(body) => super::data_response(body, super::FGB),
                Err(e) => e.into_response(),
            };
        }
        if format == super::Format::Csv {
            let body = write_csv(
                self.layer,
                self.round,
                self.features,
                self.choice,
                self.distances,
            );
            if body.len() > max_bytes {
                return crate::error::ApiError::TooLarge(format!(
                    "this page is over {max_bytes} bytes of CSV; ask for a smaller limit"
                ))
                .into_response();
            }
            return super::data_response(body, super::CSV);
        }
        let mut features = String::with_capacity(256 + self.features.len() * 512);
        let mut returned = 0;
        for (i, &f) in self.features.iter().enumerate() {
            let before = features.len();
            if i > 0 {
                features.push(',');
            }
            write_feature(
                &mut features,
                self.layer,
                self.round,
                f,
                self.choice,
                self.distances.map(|d| d[i]),
            );
            if features.len() > max_bytes && i > 0 {
                features.truncate(before);
                break;
            }
            returned += 1;
        }
        let header = CollectionHeader {
            number_matched,
            round: self.round.map(|r| &self.layer.rounds[r]),
            links: links(returned),
            extra,
        };
        let mut out = String::with_capacity(features.len() + 1024);
        write_collection_head(&mut out, &header, returned);
        out.push_str(&features);
        out.push_str(COLLECTION_TAIL);
        super::data_response(out, super::GEOJSON)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Text is written as serde_json writes it, control characters, quotes,
        /// backslashes and any script included.
        #[test]
        fn strings_are_escaped_as_serde_json_escapes_them(text in "(\\PC|[\\x00-\\x1f\"\\\\])*") {
            let mut out = String::new();
            push_json_string(&mut out, &text);
            prop_assert_eq!(out, serde_json::to_string(&text).unwrap());
        }
    }

    #[test]
    fn every_ascii_character_is_escaped_as_serde_json_escapes_it() {
        let mut text: String = (0u8..=0x7f).map(char::from).collect();
        text.push_str("ناحية الموصل ✓ \u{2028}");
        let mut out = String::new();
        push_json_string(&mut out, &text);
        assert_eq!(out, serde_json::to_string(&text).unwrap());
    }

    #[tokio::test]
    async fn a_page_over_the_byte_cap_returns_what_fits_and_links_on_from_there() {
        let (snapshot, _) = crate::data::load(&crate::config::Config::builtin());
        let layer = snapshot.layer("sites").unwrap();
        let features: Vec<u32> = (0..100).collect();
        let choice = PropertyChoice::all(layer);
        let page = FeaturePage {
            layer,
            round: layer.latest_round(),
            features: &features,
            choice: &choice,
            distances: None,
        };
        let links = |returned: usize| {
            crate::api::items::page_links("http://x/items", None, 0, 100, 169, returned)
        };
        let response = page.respond_capped(crate::api::Format::Json, 169, &links, None, 20_000);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(body.len() < 20_000 + 2_000, "{} bytes", body.len());
        let json: Value = serde_json::from_slice(&body).unwrap();
        let returned = json["numberReturned"].as_u64().unwrap() as usize;
        assert!(returned > 0 && returned < 100);
        assert_eq!(json["features"].as_array().unwrap().len(), returned);
        let next = json["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .unwrap();
        assert!(next["href"]
            .as_str()
            .unwrap()
            .contains(&format!("offset={returned}")));
        let csv = page.respond_capped(crate::api::Format::Csv, 169, &links, None, 2_000);
        assert_eq!(csv.status(), axum::http::StatusCode::PAYLOAD_TOO_LARGE);
    }
}

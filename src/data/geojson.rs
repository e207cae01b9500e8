//! Reads a GeoJSON FeatureCollection. Each feature's geometry is checked (positions,
//! ranges, closed rings); a feature that fails is reported with its position and skipped.

use crate::data::report::LoadReport;
use crate::data::source::SourceFeature;
use crate::geometry;

/// Features of a GeoJSON file, or `None` when the file cannot be parsed at all.
pub fn read(bytes: &[u8], file: &str, report: &mut LoadReport) -> Option<Vec<SourceFeature>> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.strip_prefix('\u{feff}').unwrap_or(text),
        Err(e) => {
            report.error(file, None, None, format!("not UTF-8 text: {e}"));
            return None;
        }
    };
    let parsed: geojson::GeoJson = match text.parse() {
        Ok(parsed) => parsed,
        Err(e) => {
            report.error(file, None, None, format!("not valid GeoJSON: {e}"));
            return None;
        }
    };
    let features = match parsed {
        geojson::GeoJson::FeatureCollection(fc) => fc.features,
        geojson::GeoJson::Feature(f) => vec![f],
        geojson::GeoJson::Geometry(_) => {
            report.error(
                file,
                None,
                None,
                "expected a FeatureCollection, found a bare geometry",
            );
            return None;
        }
    };
    let mut out = Vec::with_capacity(features.len());
    for (i, feature) in features.into_iter().enumerate() {
        let row = i + 1;
        let Some(geom) = feature.geometry else {
            report.error(
                file,
                Some(row),
                None,
                "this entry has no shape (no geometry)",
            );
            continue;
        };
        let geometry = match geometry::from_geojson(&geom.value, usize::MAX) {
            Ok(g) => g,
            Err(e) => {
                report.error(file, Some(row), Some("geometry"), e.to_string());
                continue;
            }
        };
        let native_id = feature.id.map(|id| match id {
            geojson::feature::Id::String(s) => s,
            geojson::feature::Id::Number(n) => n.to_string(),
        });
        out.push(SourceFeature {
            row,
            native_id,
            geometry,
            properties: feature.properties.unwrap_or_default().into(),
        });
    }
    Some(out)
}

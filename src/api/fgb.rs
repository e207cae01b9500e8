//! Writing features out as FlatGeobuf (`application/flatgeobuf`): the same properties as
//! the GeoJSON and CSV answers, typed (counts as Long, `synthetic` as Bool, text as
//! String), the geometry type of the features written, CRS EPSG:4326, and the packed
//! Hilbert R-tree index, so that clients can read just a bbox. Used by pages of features
//! (written in memory, capped like CSV) and by whole-layer downloads (written to a
//! temporary file and streamed from it, so a large layer is never held in memory).

use std::io::{Seek, Write};

use axum::body::{Body, Bytes};
use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
use geo::{CoordsIter, Geometry};
use geozero::{ColumnValue, GeomProcessor, GeozeroGeometry, PropertyProcessor};
use serde_json::Value;

use super::render::FeaturePage;
use crate::error::ApiError;
use crate::model::{FieldValue, GeometryKind, Layer};

/// Bytes read from a written file per chunk of a streamed download.
const FILE_CHUNK_BYTES: usize = 64 * 1024;

/// Features written between two looks at the request's deadline.
const TICK_FEATURES: u32 = 256;

/// The type of a published field's column, from the values written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldType {
    Long,
    Double,
    Bool,
    String,
    Json,
}

impl FieldType {
    fn of(value: &Value) -> Option<FieldType> {
        Some(match value {
            Value::Null => return None,
            Value::Number(n) if n.is_i64() => FieldType::Long,
            Value::Number(_) => FieldType::Double,
            Value::Bool(_) => FieldType::Bool,
            Value::String(_) => FieldType::String,
            Value::Array(_) | Value::Object(_) => FieldType::Json,
        })
    }

    /// The type that holds values of both.
    fn join(self, other: FieldType) -> FieldType {
        use FieldType::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Long, Double) | (Double, Long) => Double,
            _ => String,
        }
    }

    fn column(self) -> ColumnType {
        match self {
            FieldType::Long => ColumnType::Long,
            FieldType::Double => ColumnType::Double,
            FieldType::Bool => ColumnType::Bool,
            FieldType::String => ColumnType::String,
            FieldType::Json => ColumnType::Json,
        }
    }
}

/// The column type of `field` over the features written; when none has a value, the type
/// the collection's schema gives it.
fn field_type(layer: &Layer, features: &[u32], field: &str) -> FieldType {
    let found = features
        .iter()
        .filter_map(|&f| layer.features[f as usize].properties.get(field))
        .filter_map(|value| FieldType::of(&value.json()))
        .reduce(FieldType::join);
    found.unwrap_or_else(|| match super::collections::property_type(layer, field) {
        "integer" => FieldType::Long,
        "number" => FieldType::Double,
        "boolean" => FieldType::Bool,
        _ => FieldType::String,
    })
}

/// The FlatGeobuf type of one geometry (before promotion to multi).
fn type_of(geometry: &Geometry<f64>) -> GeometryType {
    match geometry {
        Geometry::Point(_) => GeometryType::Point,
        Geometry::MultiPoint(_) => GeometryType::MultiPoint,
        Geometry::Line(_) | Geometry::LineString(_) => GeometryType::LineString,
        Geometry::MultiLineString(_) => GeometryType::MultiLineString,
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => GeometryType::Polygon,
        Geometry::MultiPolygon(_) => GeometryType::MultiPolygon,
        Geometry::GeometryCollection(_) => GeometryType::GeometryCollection,
    }
}

/// The geometry type of the file from its features' types, and whether single geometries
/// are promoted to multi: one type when every feature has it; polygons with multipolygons
/// (lines with multilines) as the multi type; `Unknown` (each feature its own type) when
/// mixed.
/// Without features, the layer's kind says.
fn geometry_type(
    kind: GeometryKind,
    mut types: impl Iterator<Item = GeometryType>,
) -> (GeometryType, bool) {
    let Some(first) = types.next() else {
        return match kind {
            GeometryKind::Point => (GeometryType::Point, false),
            GeometryKind::Line => (GeometryType::MultiLineString, true),
            GeometryKind::Polygon => (GeometryType::MultiPolygon, true),
            GeometryKind::Mixed => (GeometryType::Unknown, false),
        };
    };
    let multi_of = |t: GeometryType| match t {
        GeometryType::Polygon => GeometryType::MultiPolygon,
        GeometryType::LineString => GeometryType::MultiLineString,
        other => other,
    };
    let mut single = first;
    let mut promote = false;
    for t in types {
        if t == single {
            continue;
        }
        if multi_of(t) == multi_of(single) {
            single = multi_of(t);
            promote = true;
        } else {
            return (GeometryType::Unknown, false);
        }
    }
    (single, promote)
}

/// A borrowed geometry for the writer, which takes its geometry by value.
struct Borrowed<'a>(&'a Geometry<f64>);

impl GeozeroGeometry for Borrowed<'_> {
    fn process_geom<P: GeomProcessor>(&self, processor: &mut P) -> geozero::error::Result<()> {
        geozero::geo_types::process_geom(self.0, processor)
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("writing FlatGeobuf: {e}"))
}

/// Writes `page` as a FlatGeobuf file to `out`. Over `max_bytes` (counted as features are
/// added, before the file is assembled) is a 413; past the request's deadline a 503.
pub fn write(page: &FeaturePage<'_>, max_bytes: usize, out: impl Write) -> Result<(), ApiError> {
    let layer = page.layer;
    let choice = page.choice;
    let round = page.round.map(|r| &layer.rounds[r]);
    let (geometry_type, promote) = geometry_type(
        layer.kind,
        page.features
            .iter()
            .map(|&f| type_of(&layer.features[f as usize].geometry())),
    );
    let metadata = serde_json::json!({
        "attribution": layer.attribution,
        "licence": layer.licence,
        "round": round.map(|r| &r.id),
        "round_label": round.and_then(|r| r.label.as_ref()),
        "round_date": round.and_then(|r| r.date.as_ref()),
        "disclaimer": super::datasets::DISCLAIMER,
    })
    .to_string();
    let mut fgb = FgbWriter::create_with_options(
        &layer.id,
        geometry_type,
        FgbWriterOptions {
            // An index of nothing is not a valid index: readers refuse it.
            write_index: !page.features.is_empty(),
            detect_type: false,
            promote_to_multi: promote,
            crs: FgbCrs {
                org: Some("EPSG"),
                code: 4326,
                ..Default::default()
            },
            title: Some(&layer.title),
            description: Some(layer.description.as_str()).filter(|d| !d.is_empty()),
            metadata: Some(&metadata),
            ..Default::default()
        },
    )
    .map_err(internal)?;

    fgb.add_column("id", ColumnType::String, |_, column| {
        column.nullable = false
    });
    let field_types: Vec<FieldType> = choice
        .fields
        .iter()
        .map(|field| field_type(layer, page.features, field))
        .collect();
    for (field, kind) in choice.fields.iter().zip(&field_types) {
        fgb.add_column(field, kind.column(), |_, _| {});
    }
    for &column in &choice.counts {
        fgb.add_column(&layer.count_columns[column], ColumnType::Long, |_, _| {});
    }
    if choice.round_info {
        for name in crate::config::RESERVED_PROPERTIES {
            let kind = if *name == "synthetic" {
                ColumnType::Bool
            } else {
                ColumnType::String
            };
            fgb.add_column(name, kind, |_, _| {});
        }
    }
    if page.distances.is_some() {
        fgb.add_column("distance_m", ColumnType::Double, |_, _| {});
    }

    let mut ticker = crate::deadline::Ticker::every(TICK_FEATURES);
    let mut estimate = 0usize;
    for (i, &feature) in page.features.iter().enumerate() {
        if ticker.expired() {
            return Err(ApiError::Unavailable(
                "the FlatGeobuf answer took too long to write".into(),
            ));
        }
        let f = &layer.features[feature as usize];
        let record = page.round.and_then(|r| layer.count(r, feature));
        let mut written = 0usize;
        let mut property_error = None;
        fgb.add_feature_geom(Borrowed(&f.geometry()), |w| {
            let mut props = Properties {
                writer: w,
                at: 0,
                bytes: 0,
                error: None,
            };
            props.put(ColumnValue::String(&f.id));
            for (field, kind) in choice.fields.iter().zip(&field_types) {
                let value = f.properties.get(field).map(FieldValue::json);
                match value.as_deref() {
                    None | Some(Value::Null) => props.skip(),
                    Some(value) => {
                        let text;
                        let column_value = match (kind, value) {
                            (FieldType::Long, Value::Number(n)) => {
                                ColumnValue::Long(n.as_i64().unwrap_or_default())
                            }
                            (FieldType::Double, Value::Number(n)) => {
                                ColumnValue::Double(n.as_f64().unwrap_or(f64::NAN))
                            }
                            (FieldType::Bool, Value::Bool(b)) => ColumnValue::Bool(*b),
                            (_, Value::String(s)) => ColumnValue::String(s),
                            (FieldType::Json, other) => {
                                text = other.to_string();
                                ColumnValue::Json(&text)
                            }
                            (_, other) => {
                                text = other.to_string();
                                ColumnValue::String(&text)
                            }
                        };
                        props.put(column_value);
                    }
                }
            }
            for &column in &choice.counts {
                match record.and_then(|r| r.value(column)) {
                    Some(v) => props.put(ColumnValue::Long(v)),
                    None => props.skip(),
                }
            }
            if choice.round_info {
                props.put_text(round.map(|r| r.id.as_str()));
                props.put_text(round.and_then(|r| r.label.as_deref()));
                match record {
                    Some(r) => props.put(ColumnValue::Bool(r.synthetic())),
                    None => props.skip(),
                }
                props.put_text(record.map(|r| r.provenance().as_str()));
                props.put_text(record.and_then(|r| r.source().map(|s| &**s)));
            }
            if let Some(distances) = page.distances {
                // As the GeoJSON answer gives it: to the decimetre.
                props.put(ColumnValue::Double((distances[i] * 10.0).round() / 10.0));
            }
            written = props.bytes;
            property_error = props.error;
        })
        .map_err(internal)?;
        if let Some(e) = property_error {
            return Err(internal(e));
        }
        estimate += FEATURE_OVERHEAD_BYTES + written + 16 * f.geometry().coords_count();
        if estimate > max_bytes {
            return Err(ApiError::TooLarge(format!(
                "these features are over {max_bytes} bytes of FlatGeobuf; ask for fewer \
                 (a smaller limit, bbox or area)"
            )));
        }
    }
    fgb.write(out).map_err(internal)
}

/// The properties of one feature, written in column order; a missing value is skipped.
struct Properties<'w, P: PropertyProcessor> {
    writer: &'w mut P,
    at: usize,
    bytes: usize,
    error: Option<geozero::error::GeozeroError>,
}

impl<P: PropertyProcessor> Properties<'_, P> {
    fn put(&mut self, value: ColumnValue<'_>) {
        self.bytes += 2 + value_bytes(&value);
        if let Err(e) = self.writer.property(self.at, "", &value) {
            self.error.get_or_insert(e);
        }
        self.at += 1;
    }

    fn put_text(&mut self, value: Option<&str>) {
        match value {
            Some(s) => self.put(ColumnValue::String(s)),
            None => self.skip(),
        }
    }

    fn skip(&mut self) {
        self.at += 1;
    }
}

/// Bytes of a feature besides its coordinates and properties (its table, its index node).
const FEATURE_OVERHEAD_BYTES: usize = 80;

fn value_bytes(value: &ColumnValue<'_>) -> usize {
    match value {
        ColumnValue::Byte(_) | ColumnValue::UByte(_) | ColumnValue::Bool(_) => 1,
        ColumnValue::Short(_) | ColumnValue::UShort(_) => 2,
        ColumnValue::Int(_) | ColumnValue::UInt(_) | ColumnValue::Float(_) => 4,
        ColumnValue::Long(_) | ColumnValue::ULong(_) | ColumnValue::Double(_) => 8,
        ColumnValue::String(s) | ColumnValue::Json(s) | ColumnValue::DateTime(s) => 4 + s.len(),
        ColumnValue::Binary(b) => 4 + b.len(),
    }
}

/// `page` as FlatGeobuf bytes, at most `max_bytes` (else a 413).
pub fn page_bytes(page: &FeaturePage<'_>, max_bytes: usize) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    write(page, max_bytes, &mut out)?;
    if out.len() > max_bytes {
        return Err(ApiError::TooLarge(format!(
            "this page is over {max_bytes} bytes of FlatGeobuf; ask for a smaller limit"
        )));
    }
    Ok(out)
}

/// `page` written to a temporary file (gone once closed), rewound to its start.
pub fn page_file(page: &FeaturePage<'_>, max_bytes: usize) -> Result<std::fs::File, ApiError> {
    let mut file = tempfile::tempfile().map_err(internal)?;
    {
        let mut out = std::io::BufWriter::new(&mut file);
        write(page, max_bytes, &mut out)?;
        out.flush().map_err(internal)?;
    }
    file.rewind().map_err(internal)?;
    Ok(file)
}

/// A written file as a streamed body, read a chunk at a time as the client reads.
pub fn file_body(file: std::fs::File) -> Body {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::from_std(file);
    let stream = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buffer = vec![0u8; FILE_CHUNK_BYTES];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok(Bytes::from(buffer)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    Body::from_stream(stream)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::render::PropertyChoice;
    use geo::{line_string, point, polygon, MultiPolygon};

    #[test]
    fn the_file_type_is_the_features_type_promoted_to_multi_or_unknown_when_mixed() {
        let p = Geometry::Point(point!(x: 1.0, y: 2.0));
        let square =
            polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)];
        let poly = Geometry::Polygon(square.clone());
        let multi = Geometry::MultiPolygon(MultiPolygon(vec![square]));
        let line = Geometry::LineString(line_string![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0)]);
        let of = |geometries: &[&Geometry<f64>]| {
            geometry_type(GeometryKind::Mixed, geometries.iter().map(|g| type_of(g)))
        };
        assert_eq!(of(&[&p, &p]), (GeometryType::Point, false));
        assert_eq!(of(&[&poly, &poly]), (GeometryType::Polygon, false));
        assert_eq!(of(&[&multi]), (GeometryType::MultiPolygon, false));
        assert_eq!(
            of(&[&poly, &multi, &poly]),
            (GeometryType::MultiPolygon, true)
        );
        assert_eq!(of(&[&multi, &poly]), (GeometryType::MultiPolygon, true));
        assert_eq!(of(&[&p, &poly]), (GeometryType::Unknown, false));
        assert_eq!(of(&[&line, &poly]), (GeometryType::Unknown, false));
        assert_eq!(
            geometry_type(GeometryKind::Point, std::iter::empty()),
            (GeometryType::Point, false)
        );
    }

    #[test]
    fn mixed_values_of_a_field_widen_to_a_type_that_holds_them_all() {
        use serde_json::json;
        let join = |values: &[Value]| {
            values
                .iter()
                .filter_map(FieldType::of)
                .reduce(FieldType::join)
        };
        assert_eq!(
            join(&[json!(1), json!(null), json!(2)]),
            Some(FieldType::Long)
        );
        assert_eq!(join(&[json!(1), json!(2.5)]), Some(FieldType::Double));
        assert_eq!(join(&[json!(1), json!("a")]), Some(FieldType::String));
        assert_eq!(join(&[json!(true), json!(false)]), Some(FieldType::Bool));
        assert_eq!(join(&[json!({"a": 1})]), Some(FieldType::Json));
        assert_eq!(join(&[json!(null)]), None);
    }

    fn sites() -> std::sync::Arc<Layer> {
        let (snapshot, _) = crate::data::load(&crate::config::Config::builtin());
        snapshot.layer("sites").unwrap().clone()
    }

    #[test]
    fn over_the_byte_cap_is_a_413_and_past_the_deadline_a_503() {
        let layer = sites();
        let features: Vec<u32> = (0..layer.features.len() as u32).collect();
        let choice = PropertyChoice::all(&layer);
        let page = FeaturePage {
            layer: &layer,
            round: layer.latest_round(),
            features: &features,
            choice: &choice,
            distances: None,
        };
        let whole = page_bytes(&page, usize::MAX).unwrap();
        assert!(whole.starts_with(b"fgb\x03fgb"));
        let capped = page_bytes(&page, whole.len() / 2).unwrap_err();
        assert!(matches!(capped, ApiError::TooLarge(_)), "{capped:?}");
        // Enough features for the deadline to be looked at.
        let many: Vec<u32> = features.iter().cycle().take(1_000).copied().collect();
        let page = FeaturePage {
            features: &many,
            ..page
        };
        let late = crate::deadline::Deadline::after(std::time::Duration::ZERO)
            .enter(|| page_bytes(&page, usize::MAX))
            .unwrap_err();
        assert!(matches!(late, ApiError::Unavailable(_)), "{late:?}");
    }

    #[tokio::test]
    async fn a_written_file_streams_back_byte_for_byte() {
        let layer = sites();
        let features: Vec<u32> = (0..layer.features.len() as u32).collect();
        let choice = PropertyChoice::all(&layer);
        let page = FeaturePage {
            layer: &layer,
            round: layer.latest_round(),
            features: &features,
            choice: &choice,
            distances: None,
        };
        let in_memory = page_bytes(&page, usize::MAX).unwrap();
        let file = page_file(&page, usize::MAX).unwrap();
        let streamed = axum::body::to_bytes(file_body(file), usize::MAX)
            .await
            .unwrap();
        assert_eq!(streamed.as_ref(), in_memory.as_slice());
    }
}

//! Reads a FlatGeobuf file: geometries through geozero into `geo`, typed properties into
//! JSON values. Geometries are checked like GeoJSON ones.

use std::io::Cursor;

use flatgeobuf::{FallibleStreamingIterator, FgbReader};
use geo::CoordsIter;
use geozero::{ColumnValue, FeatureProperties, PropertyProcessor, ToGeo};
use serde_json::{Map, Value};

use crate::data::report::LoadReport;
use crate::data::source::SourceFeature;
use crate::geometry;

/// Features of a FlatGeobuf file, or `None` when it cannot be opened at all.
pub fn read(bytes: &[u8], file: &str, report: &mut LoadReport) -> Option<Vec<SourceFeature>> {
    let reader = match FgbReader::open(Cursor::new(bytes)) {
        Ok(reader) => reader,
        Err(e) => {
            report.error(file, None, None, format!("not a FlatGeobuf file: {e}"));
            return None;
        }
    };
    let mut features = match reader.select_all() {
        Ok(features) => features,
        Err(e) => {
            report.error(file, None, None, format!("cannot read features: {e}"));
            return None;
        }
    };
    let mut out = Vec::new();
    let mut row = 0;
    loop {
        row += 1;
        let feature = match features.next() {
            Ok(Some(feature)) => feature,
            Ok(None) => break,
            Err(e) => {
                report.error(file, Some(row), None, format!("cannot read feature: {e}"));
                break;
            }
        };
        let geometry = match feature.to_geo() {
            Ok(g) => g,
            Err(e) => {
                report.error(file, Some(row), Some("geometry"), e.to_string());
                continue;
            }
        };
        if let Some(problem) = geometry
            .coords_iter()
            .find_map(|c| geometry::check_lon_lat(c.x, c.y).err())
        {
            report.error(file, Some(row), Some("geometry"), problem.to_string());
            continue;
        }
        let mut collector = JsonProperties::default();
        if let Err(e) = feature.process_properties(&mut collector) {
            report.error(
                file,
                Some(row),
                None,
                format!("cannot read properties: {e}"),
            );
            continue;
        }
        out.push(SourceFeature {
            row,
            native_id: None,
            geometry,
            properties: collector.0,
        });
    }
    Some(out)
}

#[derive(Default)]
struct JsonProperties(Map<String, Value>);

impl PropertyProcessor for JsonProperties {
    fn property(
        &mut self,
        _idx: usize,
        name: &str,
        value: &ColumnValue,
    ) -> geozero::error::Result<bool> {
        let json = match value {
            ColumnValue::Byte(v) => Value::from(*v),
            ColumnValue::UByte(v) => Value::from(*v),
            ColumnValue::Bool(v) => Value::from(*v),
            ColumnValue::Short(v) => Value::from(*v),
            ColumnValue::UShort(v) => Value::from(*v),
            ColumnValue::Int(v) => Value::from(*v),
            ColumnValue::UInt(v) => Value::from(*v),
            ColumnValue::Long(v) => Value::from(*v),
            ColumnValue::ULong(v) => Value::from(*v),
            ColumnValue::Float(v) => serde_json::Number::from_f64(f64::from(*v))
                .map(Value::Number)
                .unwrap_or(Value::Null),
            ColumnValue::Double(v) => serde_json::Number::from_f64(*v)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            ColumnValue::String(v) | ColumnValue::DateTime(v) => Value::from(*v),
            ColumnValue::Json(v) => serde_json::from_str(v).unwrap_or_else(|_| Value::from(*v)),
            ColumnValue::Binary(_) => Value::Null,
        };
        self.0.insert(name.to_string(), json);
        Ok(false)
    }
}

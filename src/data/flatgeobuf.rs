//! Reads a FlatGeobuf file: geometries through geozero into `geo`, typed properties into
//! JSON values. Geometries are checked like GeoJSON ones.
//!
//! The `flatgeobuf` crate trusts what a file declares: sizes (it allocates them before
//! reading), coordinate offsets and property lengths (it indexes with them and panics when
//! they are wrong). So this module checks every size, offset and length first, and decodes
//! properties itself, with bounds checks: a malformed file is an error in the report.

use std::io::Cursor;

use flatgeobuf::{ColumnType, FallibleStreamingIterator, FgbFeature, FgbReader, GeometryType};
use geo::CoordsIter;
use geozero::ToGeo;
use serde_json::{Map, Value};

use crate::data::report::LoadReport;
use crate::data::source::SourceFeature;
use crate::geometry;

/// Features of a FlatGeobuf file, or `None` when it cannot be opened at all.
pub fn read(bytes: &[u8], file: &str, report: &mut LoadReport) -> Option<Vec<SourceFeature>> {
    // The reader trusts the sizes the file declares (it allocates a feature's declared
    // size, up to 4 GiB, before reading it, and asserts on an index node size of 1), so
    // check every size against the bytes first and give it only what is sound.
    let layout = match check_layout(bytes) {
        Ok(layout) => layout,
        Err(e) => {
            report.error(file, None, None, format!("not a FlatGeobuf file: {e}"));
            return None;
        }
    };
    if let Some((row, problem)) = &layout.problem {
        report.error(file, Some(*row), None, problem.clone());
    }
    let reader = match FgbReader::open(Cursor::new(&bytes[..layout.end])) {
        Ok(reader) => reader,
        Err(e) => {
            report.error(file, None, None, format!("not a FlatGeobuf file: {e}"));
            return None;
        }
    };
    let header = reader.header();
    let geometry_type = header.geometry_type();
    let columns = header_columns(&header);
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
        if let Some(feature) = convert(feature, geometry_type, &columns, row, file, report) {
            out.push(feature);
        }
    }
    Some(out)
}

/// The column names and types a file's header declares.
pub(crate) fn header_columns(header: &flatgeobuf::Header<'_>) -> Vec<(String, ColumnType)> {
    header
        .columns()
        .map(|columns| {
            columns
                .iter()
                .map(|c| (c.name().to_string(), c.type_()))
                .collect()
        })
        .unwrap_or_default()
}

/// One feature as a [`SourceFeature`], its geometry and properties checked first; `None`
/// (with the problem in the report) when it cannot be read.
pub(crate) fn convert(
    feature: &FgbFeature,
    geometry_type: GeometryType,
    columns: &[(String, ColumnType)],
    row: usize,
    file: &str,
    report: &mut LoadReport,
) -> Option<SourceFeature> {
    if let Err(e) = check_feature_geometry(feature, geometry_type) {
        report.error(file, Some(row), Some("geometry"), e);
        return None;
    }
    let geometry = match feature.to_geo() {
        Ok(g) => g,
        Err(e) => {
            report.error(file, Some(row), Some("geometry"), e.to_string());
            return None;
        }
    };
    if let Some(problem) = geometry
        .coords_iter()
        .find_map(|c| geometry::check_lon_lat(c.x, c.y).err())
    {
        report.error(file, Some(row), Some("geometry"), problem.to_string());
        return None;
    }
    match read_properties(feature, columns) {
        Ok(properties) => Some(SourceFeature {
            row,
            native_id: None,
            geometry,
            properties: properties.into(),
        }),
        Err(e) => {
            report.error(
                file,
                Some(row),
                None,
                format!("cannot read properties: {e}"),
            );
            None
        }
    }
}

/// Where the sound part of a FlatGeobuf file ends, and what is wrong after it.
#[derive(Debug, PartialEq)]
struct Layout {
    /// Bytes from the start that hold the header, the index and whole features.
    end: usize,
    /// The 1-based feature whose declared size runs past the end of the file, and why.
    problem: Option<(usize, String)>,
}

/// Checks the sizes a FlatGeobuf file declares (header, index, each feature) against its
/// length, without trusting any of them: one pass over the size prefixes.
fn check_layout(bytes: &[u8]) -> Result<Layout, String> {
    let u32_at = |at: usize| -> Option<usize> {
        let b = bytes.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let header_len = u32_at(8).ok_or("shorter than a FlatGeobuf header")?;
    let header_end = 12usize.saturating_add(header_len);
    if header_end > bytes.len() {
        return Err(format!(
            "the header declares {header_len} bytes but the file has {}",
            bytes.len()
        ));
    }
    let reader = FgbReader::open(Cursor::new(&bytes[..header_end])).map_err(|e| e.to_string())?;
    let header = reader.header();
    let (count, node_size) = (header.features_count(), header.index_node_size());
    let index_len = if node_size > 0 && count > 0 {
        if node_size < 2 {
            return Err(format!(
                "index node size {node_size} is invalid (at least 2)"
            ));
        }
        index_len(count, node_size).ok_or("the spatial index is larger than any file")?
    } else {
        0
    };
    let mut at = header_end
        .checked_add(index_len)
        .filter(|&end| end <= bytes.len())
        .ok_or_else(|| {
            format!(
                "the spatial index of {count} features declares {index_len} bytes, past the end of the file"
            )
        })?;
    let mut row = 0;
    // As the reader does, a tail too short for a size prefix ends the features.
    while let Some(size) = u32_at(at) {
        row += 1;
        let end = at + 4 + size;
        if end > bytes.len() {
            let problem = format!(
                "the feature declares {size} bytes but {} remain (a truncated file?)",
                bytes.len() - at - 4
            );
            return Ok(Layout {
                end: at,
                problem: Some((row, problem)),
            });
        }
        at = end;
    }
    Ok(Layout {
        end: bytes.len(),
        problem: None,
    })
}

/// Bytes of a packed R-tree of `count` items and nodes of `node_size` (at least 2), as
/// FlatGeobuf lays it out; `None` if it overflows.
fn index_len(count: u64, node_size: u16) -> Option<usize> {
    let node_size = u64::from(node_size);
    let (mut n, mut nodes) = (count, count);
    while n > 1 {
        n = n.div_ceil(node_size);
        nodes = nodes.checked_add(n)?;
    }
    // A tree of one item still has its root level: the reader counts it twice.
    if count == 1 {
        nodes = nodes.checked_add(1)?;
    }
    usize::try_from(nodes.checked_mul(40)?).ok()
}

/// Checks what the geometry reader indexes with: an even number of xy values, at least one
/// position for a point, ring and line ends in order and within the positions, z/m/t/tm as
/// long as the positions, and the same of every part. Parts nest no deeper than the
/// FlatBuffers verifier allows (64), so the recursion is bounded.
fn check_feature_geometry(feature: &FgbFeature, header_type: GeometryType) -> Result<(), String> {
    let geometry = feature.geometry().ok_or("the feature has no geometry")?;
    let kind = if header_type == GeometryType::Unknown {
        geometry.type_()
    } else {
        header_type
    };
    check_part(&geometry, kind)
}

fn check_part(geometry: &flatgeobuf::Geometry<'_>, kind: GeometryType) -> Result<(), String> {
    let values = geometry.xy().map_or(0, |xy| xy.len());
    if values % 2 != 0 {
        return Err(format!("{values} xy values: not whole positions"));
    }
    let positions = values / 2;
    if kind == GeometryType::Point && positions == 0 {
        return Err("a point without a position".into());
    }
    let lengths = [
        geometry.z().map(|v| v.len()),
        geometry.m().map(|v| v.len()),
        geometry.t().map(|v| v.len()),
        geometry.tm().map(|v| v.len()),
    ];
    if lengths.iter().flatten().any(|&n| n < positions) {
        return Err("z, m, t or tm values are fewer than the positions".into());
    }
    if let Some(ends) = geometry.ends() {
        let mut previous = 0;
        for end in ends.iter() {
            if end < previous || end as usize > positions {
                return Err(format!(
                    "a part ends at position {end}, out of order or past the {positions} positions"
                ));
            }
            previous = end;
        }
    }
    if let Some(parts) = geometry.parts() {
        for part in parts.iter() {
            // A multipolygon's parts are read as polygons, a collection's by their own type.
            let kind = if kind == GeometryType::MultiPolygon {
                GeometryType::Polygon
            } else {
                part.type_()
            };
            check_part(&part, kind)?;
        }
    }
    Ok(())
}

/// A feature's properties as JSON, decoded from FlatGeobuf's property encoding (column index,
/// then the value; strings and blobs length-prefixed) with every length checked.
fn read_properties(
    feature: &FgbFeature,
    columns: &[(String, ColumnType)],
) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    let Some(properties) = feature.fbs_feature().properties() else {
        return Ok(out);
    };
    let mut bytes = Bytes {
        bytes: properties.bytes(),
        at: 0,
    };
    // As the crate's reader does, a single trailing byte is ignored.
    while bytes.at + 1 < bytes.bytes.len() {
        let column = usize::from(u16::from_le_bytes(bytes.take()?));
        let (name, kind) = columns.get(column).ok_or_else(|| {
            format!(
                "a value for column {column}, but the file has {} columns",
                columns.len()
            )
        })?;
        let value = match *kind {
            ColumnType::Byte => Value::from(i8::from_le_bytes(bytes.take()?)),
            ColumnType::UByte => Value::from(u8::from_le_bytes(bytes.take()?)),
            ColumnType::Bool => Value::from(bytes.take::<1>()?[0] != 0),
            ColumnType::Short => Value::from(i16::from_le_bytes(bytes.take()?)),
            ColumnType::UShort => Value::from(u16::from_le_bytes(bytes.take()?)),
            ColumnType::Int => Value::from(i32::from_le_bytes(bytes.take()?)),
            ColumnType::UInt => Value::from(u32::from_le_bytes(bytes.take()?)),
            ColumnType::Long => Value::from(i64::from_le_bytes(bytes.take()?)),
            ColumnType::ULong => Value::from(u64::from_le_bytes(bytes.take()?)),
            ColumnType::Float => number(f64::from(f32::from_le_bytes(bytes.take()?))),
            ColumnType::Double => number(f64::from_le_bytes(bytes.take()?)),
            ColumnType::String | ColumnType::DateTime | ColumnType::Json => {
                let text = std::str::from_utf8(bytes.sized()?)
                    .map_err(|_| format!("{name}: the text is not UTF-8"))?;
                if *kind == ColumnType::Json {
                    serde_json::from_str(text).unwrap_or_else(|_| Value::from(text))
                } else {
                    Value::from(text)
                }
            }
            ColumnType::Binary => {
                bytes.sized()?;
                Value::Null
            }
            // A type this reader does not know: nothing more can be read safely.
            _ => return Err(format!("{name}: unknown column type {}", kind.0)),
        };
        out.insert(name.clone(), value);
    }
    Ok(out)
}

fn number(v: f64) -> Value {
    serde_json::Number::from_f64(v)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// Property bytes read front to back, never past their end.
struct Bytes<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Bytes<'a> {
    fn slice(&mut self, n: usize) -> Result<&'a [u8], String> {
        let slice = self
            .at
            .checked_add(n)
            .and_then(|end| self.bytes.get(self.at..end))
            .ok_or_else(|| format!("a value of {n} bytes runs past the end of the properties"))?;
        self.at += n;
        Ok(slice)
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0; N];
        out.copy_from_slice(self.slice(N)?);
        Ok(out)
    }

    /// A value prefixed by its length (u32).
    fn sized(&mut self) -> Result<&'a [u8], String> {
        let len = u32::from_le_bytes(self.take()?) as usize;
        self.slice(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two squares written by `flatgeobuf`'s own writer (see `fuzz/README.md`).
    const DISTRICTS: &[u8] = include_bytes!("../../fuzz/corpus/flatgeobuf/districts.fgb");

    fn first_feature_at(bytes: &[u8]) -> usize {
        let header_len = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
        let reader = FgbReader::open(Cursor::new(bytes)).unwrap();
        let header = reader.header();
        12 + header_len + index_len(header.features_count(), header.index_node_size()).unwrap()
    }

    #[test]
    fn a_sound_file_is_read_whole() {
        let layout = check_layout(DISTRICTS).unwrap();
        assert_eq!(
            layout,
            Layout {
                end: DISTRICTS.len(),
                problem: None
            }
        );
        let mut report = LoadReport::default();
        assert_eq!(read(DISTRICTS, "d.fgb", &mut report).unwrap().len(), 2);
        assert!(report.is_ok(), "{report}");
    }

    #[test]
    fn a_feature_declaring_more_bytes_than_the_file_has_is_reported_not_allocated() {
        let mut bytes = DISTRICTS.to_vec();
        let at = first_feature_at(&bytes);
        bytes[at..at + 4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        let layout = check_layout(&bytes).unwrap();
        assert_eq!(layout.end, at);
        let (row, problem) = layout.problem.unwrap();
        assert_eq!(row, 1);
        assert!(problem.contains("4294967280 bytes"), "{problem}");
        let mut report = LoadReport::default();
        assert_eq!(read(&bytes, "d.fgb", &mut report).unwrap().len(), 0);
        assert!(!report.is_ok());
    }

    #[test]
    fn malformed_properties_are_reported_not_a_panic() {
        // Found by the fuzz harness: the crate's property reader indexed past the end.
        let crash =
            include_bytes!("../../fuzz/corpus/flatgeobuf/crash-property-length-past-the-end.fgb");
        let mut report = LoadReport::default();
        read(crash, "crash.fgb", &mut report);
        assert!(
            report.to_string().contains("cannot read properties"),
            "{report}"
        );
        let mut report = LoadReport::default();
        let sites = include_bytes!("../../fuzz/corpus/flatgeobuf/sites.fgb");
        assert_eq!(read(sites, "sites.fgb", &mut report).unwrap().len(), 2);
        assert!(report.is_ok(), "{report}");
    }

    #[test]
    fn truncated_headers_and_indexes_are_refused() {
        for cut in [0, 7, 11, 20, first_feature_at(DISTRICTS) - 1] {
            assert!(check_layout(&DISTRICTS[..cut]).is_err(), "cut at {cut}");
        }
        assert_eq!(index_len(1, 16), Some(80));
        assert_eq!(index_len(2, 16), Some(120));
        assert_eq!(index_len(u64::MAX, 2), None);
    }
}

//! The MVT 2.1 encoding: geometry commands, ring winding, and one layer's keys and values.
//!
//! Input is already clipped integer tile coordinates. Exterior rings are written with a
//! positive surveyor's area in tile coordinates (clockwise on screen, y down) and holes
//! negative, as the spec requires; rings that enclose nothing are left out. Keys and values
//! are interned in the order they are first used, so the same features always give the
//! same bytes. A layer with no features is never written.

use std::collections::HashMap;

use geozero::mvt::tile::{Feature, GeomType, Layer, Value};

use super::prepare::doubled_area;
use super::simplify::WorldPoint;
use super::EXTENT;

const MOVE_TO: u32 = 1;
const LINE_TO: u32 = 2;
const CLOSE_PATH: u32 = 7;

/// A clipped geometry in tile coordinates.
#[derive(Debug, Clone, PartialEq)]
pub enum TileGeometry {
    /// Points.
    Points(Vec<WorldPoint>),
    /// Lines of two or more vertices.
    Lines(Vec<Vec<WorldPoint>>),
    /// Polygons: exterior ring, then holes; rings without their closing vertex.
    Polygons(Vec<Vec<Vec<WorldPoint>>>),
}

/// A property value written into a tile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PropertyValue<'a> {
    /// Text.
    Text(&'a str),
    /// A whole number.
    Int(i64),
    /// A whole number above `i64::MAX`.
    UInt(u64),
    /// A number with a fraction.
    Double(f64),
    /// True or false.
    Bool(bool),
}

impl<'a> PropertyValue<'a> {
    /// The tile value of a JSON value; `None` for null, arrays and objects (MVT values are
    /// scalars).
    pub fn from_json(value: &'a serde_json::Value) -> Option<PropertyValue<'a>> {
        match value {
            serde_json::Value::Null => None,
            serde_json::Value::Bool(b) => Some(PropertyValue::Bool(*b)),
            serde_json::Value::Number(n) => Some(if let Some(i) = n.as_i64() {
                PropertyValue::Int(i)
            } else if let Some(u) = n.as_u64() {
                PropertyValue::UInt(u)
            } else {
                PropertyValue::Double(n.as_f64().unwrap_or(0.0))
            }),
            serde_json::Value::String(s) => Some(PropertyValue::Text(s)),
            serde_json::Value::Array(_) | serde_json::Value::Object(_) => None,
        }
    }
}

/// A value other than text as a hashable key (doubles by their bits). Text has its own
/// map, looked up by `&str` without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ValueKey {
    Int(i64),
    UInt(u64),
    Double(u64),
    Bool(bool),
}

/// FNV-1a: the keys and values hashed here are property names and values of the loaded
/// data, never request input, so a keyed hash buys nothing; SipHash took about a tenth of
/// the time of a tile.
#[derive(Debug, Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;

/// Builds one MVT layer.
#[derive(Debug)]
pub struct LayerBuilder {
    name: String,
    keys: Vec<String>,
    key_index: FastMap<String, u32>,
    values: Vec<Value>,
    value_index: FastMap<ValueKey, u32>,
    text_index: FastMap<String, u32>,
    features: Vec<Feature>,
}

impl LayerBuilder {
    /// An empty layer named `name`.
    pub fn new(name: &str) -> LayerBuilder {
        LayerBuilder {
            name: name.to_string(),
            keys: Vec::new(),
            key_index: FastMap::default(),
            values: Vec::new(),
            value_index: FastMap::default(),
            text_index: FastMap::default(),
            features: Vec::new(),
        }
    }

    /// Adds a feature; one whose geometry encodes to nothing is skipped (returns false).
    pub fn add(
        &mut self,
        id: u64,
        geometry: &TileGeometry,
        properties: &[(&str, PropertyValue<'_>)],
    ) -> bool {
        let (kind, commands) = encode_geometry(geometry);
        if commands.is_empty() {
            return false;
        }
        let mut tags = Vec::with_capacity(properties.len() * 2);
        for (name, value) in properties {
            tags.push(self.key(name));
            tags.push(self.value(*value));
        }
        self.features.push(Feature {
            id: Some(id),
            tags,
            r#type: Some(kind as i32),
            geometry: commands,
        });
        true
    }

    fn key(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.key_index.get(name) {
            return i;
        }
        let i = self.keys.len() as u32;
        self.keys.push(name.to_string());
        self.key_index.insert(name.to_string(), i);
        i
    }

    fn value(&mut self, value: PropertyValue<'_>) -> u32 {
        let key = match value {
            PropertyValue::Text(s) => {
                if let Some(&i) = self.text_index.get(s) {
                    return i;
                }
                None
            }
            PropertyValue::Int(i) => Some(ValueKey::Int(i)),
            PropertyValue::UInt(u) => Some(ValueKey::UInt(u)),
            PropertyValue::Double(d) => Some(ValueKey::Double(d.to_bits())),
            PropertyValue::Bool(b) => Some(ValueKey::Bool(b)),
        };
        if let Some(&i) = key.as_ref().and_then(|k| self.value_index.get(k)) {
            return i;
        }
        let mut encoded = Value::default();
        match value {
            PropertyValue::Text(s) => encoded.string_value = Some(s.to_string()),
            PropertyValue::Int(i) if i < 0 => encoded.sint_value = Some(i),
            PropertyValue::Int(i) => encoded.int_value = Some(i),
            PropertyValue::UInt(u) => encoded.uint_value = Some(u),
            PropertyValue::Double(d) => encoded.double_value = Some(d),
            PropertyValue::Bool(b) => encoded.bool_value = Some(b),
        }
        let i = self.values.len() as u32;
        self.values.push(encoded);
        match (key, value) {
            (Some(key), _) => {
                self.value_index.insert(key, i);
            }
            (None, PropertyValue::Text(s)) => {
                self.text_index.insert(s.to_string(), i);
            }
            (None, _) => {}
        }
        i
    }

    /// Number of features added.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// Whether no feature was added.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// The finished layer, or `None` when it has no features.
    pub fn finish(self) -> Option<Layer> {
        if self.features.is_empty() {
            return None;
        }
        Some(Layer {
            version: 2,
            name: self.name,
            features: self.features,
            keys: self.keys,
            values: self.values,
            extent: Some(EXTENT),
        })
    }
}

fn command(id: u32, count: usize) -> u32 {
    (id & 0x7) | ((count as u32) << 3)
}

fn zigzag(n: i64) -> u32 {
    ((n << 1) ^ (n >> 63)) as u32
}

/// Writes MoveTo/LineTo commands for `points`, relative to the cursor, and moves it.
fn write_path(commands: &mut Vec<u32>, cursor: &mut WorldPoint, points: &[WorldPoint]) {
    let Some((first, rest)) = points.split_first() else {
        return;
    };
    commands.push(command(MOVE_TO, 1));
    commands.push(zigzag(first[0] - cursor[0]));
    commands.push(zigzag(first[1] - cursor[1]));
    *cursor = *first;
    if rest.is_empty() {
        return;
    }
    commands.push(command(LINE_TO, rest.len()));
    for p in rest {
        commands.push(zigzag(p[0] - cursor[0]));
        commands.push(zigzag(p[1] - cursor[1]));
        *cursor = *p;
    }
}

/// The geometry type and command integers of a geometry; empty commands if nothing drawable.
pub fn encode_geometry(geometry: &TileGeometry) -> (GeomType, Vec<u32>) {
    let mut commands = Vec::new();
    let mut cursor = [0i64, 0];
    match geometry {
        TileGeometry::Points(points) => {
            if !points.is_empty() {
                commands.push(command(MOVE_TO, points.len()));
                for p in points {
                    commands.push(zigzag(p[0] - cursor[0]));
                    commands.push(zigzag(p[1] - cursor[1]));
                    cursor = *p;
                }
            }
            (GeomType::Point, commands)
        }
        TileGeometry::Lines(lines) => {
            for line in lines {
                let mut line = line.clone();
                line.dedup();
                if line.len() >= 2 {
                    write_path(&mut commands, &mut cursor, &line);
                }
            }
            (GeomType::Linestring, commands)
        }
        TileGeometry::Polygons(polygons) => {
            for polygon in polygons {
                let mut rings = polygon.iter();
                let Some(exterior) = rings.next() else {
                    continue;
                };
                if !write_ring(&mut commands, &mut cursor, exterior, true) {
                    continue;
                }
                for hole in rings {
                    write_ring(&mut commands, &mut cursor, hole, false);
                }
            }
            (GeomType::Polygon, commands)
        }
    }
}

/// Writes a ring wound as an exterior (positive area) or a hole; false if it has no area.
fn write_ring(
    commands: &mut Vec<u32>,
    cursor: &mut WorldPoint,
    ring: &[WorldPoint],
    exterior: bool,
) -> bool {
    let mut ring = ring.to_vec();
    ring.dedup();
    if ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    let area = doubled_area(&ring);
    if ring.len() < 3 || area == 0 {
        return false;
    }
    if (area > 0) != exterior {
        ring.reverse();
    }
    write_path(commands, cursor, &ring);
    commands.push(command(CLOSE_PATH, 1));
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_maps_signed_to_unsigned_as_the_spec_says() {
        assert_eq!(
            [0, -1, 1, -2, 2].map(zigzag),
            [0, 1, 2, 3, 4],
            "0, -1, 1, -2, 2"
        );
    }

    #[test]
    fn a_counter_clockwise_exterior_is_written_clockwise() {
        // The spec's example polygon, given the other way round.
        let ring = vec![[20, 34], [8, 12], [3, 6]];
        let (_, commands) = encode_geometry(&TileGeometry::Polygons(vec![vec![ring]]));
        assert_eq!(commands, vec![9, 6, 12, 18, 10, 12, 24, 44, 15]);
    }

    #[test]
    fn an_empty_layer_is_not_written() {
        assert!(LayerBuilder::new("empty").finish().is_none());
    }

    #[test]
    fn repeated_values_are_stored_once() {
        let mut layer = LayerBuilder::new("l");
        let point = TileGeometry::Points(vec![[1, 1]]);
        layer.add(1, &point, &[("name", PropertyValue::Text("a"))]);
        layer.add(2, &point, &[("name", PropertyValue::Text("a"))]);
        let layer = layer.finish().unwrap();
        assert_eq!(layer.keys.len(), 1);
        assert_eq!(layer.values.len(), 1);
    }
}

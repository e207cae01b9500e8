//! The MVT 2.1 encoding: geometry commands, ring winding, and one layer's keys and values.
//!
//! Input is already clipped integer tile coordinates. Exterior rings are written with a
//! positive surveyor's area in tile coordinates (clockwise on screen, y down) and holes
//! negative, as the spec requires; rings that enclose nothing are left out. Keys and values
//! are interned in the order they are first used, so the same features always give the
//! same bytes. A layer with no features is never written.

use std::collections::HashMap;

use rustc_hash::FxHasher;

use geozero::mvt::tile::GeomType;

use super::prepare::doubled_area;
use super::simplify::WorldPoint;
use super::wire::{
    field, key_byte, packed_field_len, put_bytes, put_packed, put_value, put_varint, varint_len,
    FIXED64, LENGTH, VARINT,
};
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
    /// The tile value of a property value; `None` for null, arrays and objects.
    pub fn from_field(value: crate::model::FieldValue<'a>) -> Option<PropertyValue<'a>> {
        match value {
            crate::model::FieldValue::Text(text) => Some(PropertyValue::Text(text)),
            crate::model::FieldValue::Json(json) => PropertyValue::from_json(json),
        }
    }

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

/// A text value of a layer: its number and where its bytes are in the layer's values.
#[derive(Debug, Clone, Copy)]
struct TextValue {
    number: u32,
    start: u32,
    len: u32,
}

impl TextValue {
    fn text<'v>(&self, values: &'v [u8]) -> &'v [u8] {
        &values[self.start as usize..(self.start + self.len) as usize]
    }
}

fn text_hash(text: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut hasher = FxHasher::default();
    hasher.write(text);
    hasher.finish()
}

/// The keys and values hashed here are property names and values of the loaded data,
/// never request input, so a keyed hash buys nothing: FxHash reads eight bytes a step
/// (SipHash took about a tenth of a tile's time, byte-wise FNV a twentieth).
type FastMap<K, V> = HashMap<K, V, rustc_hash::FxBuildHasher>;

/// Builds one MVT layer, writing its protobuf as features are added: no message structs
/// per feature and no second pass to size them (that took a fifth of a tile's time).
#[derive(Debug)]
pub struct LayerBuilder {
    name: String,
    keys: Vec<String>,
    key_index: FastMap<String, u32>,
    /// Each value as its `values` field of the layer (tag, length, `Value` message).
    values: Vec<u8>,
    value_count: u32,
    value_index: FastMap<ValueKey, u32>,
    /// Each text value written: its value number and where its bytes are in `values`, so
    /// a text is looked up by `&str` and kept once, in the layer's own bytes.
    text_index: hashbrown::HashTable<TextValue>,
    /// Each feature as its `features` field of the layer.
    features: Vec<u8>,
    feature_count: usize,
    tags: Vec<u32>,
    commands: Vec<u32>,
}

/// Keys of a layer looked up by comparing names in order, up to this many.
const LINEAR_KEYS: usize = 16;

impl LayerBuilder {
    /// An empty layer named `name`.
    pub fn new(name: &str) -> LayerBuilder {
        LayerBuilder::with_capacity(name, 0)
    }

    /// An empty layer named `name`, with room for about `features` features.
    pub fn with_capacity(name: &str, features: usize) -> LayerBuilder {
        let mut builder = LayerBuilder {
            name: name.to_string(),
            keys: Vec::new(),
            key_index: FastMap::default(),
            values: Vec::new(),
            value_count: 0,
            value_index: FastMap::default(),
            text_index: hashbrown::HashTable::new(),
            features: Vec::new(),
            feature_count: 0,
            tags: Vec::new(),
            commands: Vec::new(),
        };
        builder.reserve(features);
        builder
    }

    /// Makes room for about `features` more features of a few values each: growing the
    /// value tables feature by feature took a twentieth of the time of a tile of many
    /// points.
    pub fn reserve(&mut self, features: usize) {
        self.values.reserve(features * 16);
        self.value_index.reserve(features * 2);
        let values = &self.values;
        self.text_index
            .reserve(features * 2, |t| text_hash(t.text(values)));
        self.features.reserve(features * 24);
    }

    /// Adds a feature; one whose geometry encodes to nothing is skipped (returns false).
    pub fn add(
        &mut self,
        id: u64,
        geometry: &TileGeometry,
        properties: &[(&str, PropertyValue<'_>)],
    ) -> bool {
        let mut commands = std::mem::take(&mut self.commands);
        commands.clear();
        let kind = write_geometry(&mut commands, geometry);
        self.add_commands(id, kind, commands, properties)
    }

    /// Adds a feature of one point, as [`Self::add`] with `TileGeometry::Points` of it.
    pub fn add_point(
        &mut self,
        id: u64,
        point: WorldPoint,
        properties: &[(&str, PropertyValue<'_>)],
    ) -> bool {
        let mut commands = std::mem::take(&mut self.commands);
        commands.clear();
        commands.extend([command(MOVE_TO, 1), zigzag(point[0]), zigzag(point[1])]);
        self.add_commands(id, GeomType::Point, commands, properties)
    }

    fn add_commands(
        &mut self,
        id: u64,
        kind: GeomType,
        commands: Vec<u32>,
        properties: &[(&str, PropertyValue<'_>)],
    ) -> bool {
        if commands.is_empty() {
            self.commands = commands;
            return false;
        }
        // Still the previous feature's tags: features of a layer mostly name the same keys
        // in the same order, so the key there is tried first.
        let mut tags = std::mem::take(&mut self.tags);
        for (i, (name, value)) in properties.iter().enumerate() {
            let key = match tags.get(2 * i) {
                Some(&k) if self.keys.get(k as usize).is_some_and(|known| known == name) => k,
                _ => self.key(name),
            };
            let value = self.value(*value);
            if 2 * i < tags.len() {
                tags[2 * i] = key;
                tags[2 * i + 1] = value;
            } else {
                tags.extend([key, value]);
            }
        }
        tags.truncate(2 * properties.len());
        let length = 1
            + varint_len(id)
            + packed_field_len(field::FEATURE_TAGS, &tags)
            + 2
            + packed_field_len(field::FEATURE_GEOMETRY, &commands);
        let out = &mut self.features;
        put_varint(out, key_byte(field::LAYER_FEATURES, LENGTH));
        put_varint(out, length as u64);
        put_varint(out, key_byte(field::FEATURE_ID, VARINT));
        put_varint(out, id);
        put_packed(out, field::FEATURE_TAGS, &tags);
        put_varint(out, key_byte(field::FEATURE_TYPE, VARINT));
        put_varint(out, kind as u64);
        put_packed(out, field::FEATURE_GEOMETRY, &commands);
        self.feature_count += 1;
        self.tags = tags;
        self.commands = commands;
        true
    }

    fn key(&mut self, name: &str) -> u32 {
        // A layer has a few keys, used by every feature: comparing costs less than hashing.
        if self.keys.len() <= LINEAR_KEYS {
            if let Some(i) = self.keys.iter().position(|k| k == name) {
                return i as u32;
            }
        } else if let Some(&i) = self.key_index.get(name) {
            return i;
        }
        let i = self.keys.len() as u32;
        self.keys.push(name.to_string());
        self.key_index.insert(name.to_string(), i);
        i
    }

    fn value(&mut self, value: PropertyValue<'_>) -> u32 {
        let key = match value {
            PropertyValue::Text(s) => return self.text_value(s),
            PropertyValue::Int(i) => ValueKey::Int(i),
            PropertyValue::UInt(u) => ValueKey::UInt(u),
            PropertyValue::Double(d) => ValueKey::Double(d.to_bits()),
            PropertyValue::Bool(b) => ValueKey::Bool(b),
        };
        if let Some(&i) = self.value_index.get(&key) {
            return i;
        }
        let out = &mut self.values;
        match key {
            ValueKey::Int(i) if i < 0 => {
                let n = ((i << 1) ^ (i >> 63)) as u64;
                put_value(out, field::VALUE_SINT, VARINT, varint_len(n), |out| {
                    put_varint(out, n)
                });
            }
            ValueKey::Int(i) => {
                let n = i as u64;
                put_value(out, field::VALUE_INT, VARINT, varint_len(n), |out| {
                    put_varint(out, n)
                });
            }
            ValueKey::UInt(u) => {
                put_value(out, field::VALUE_UINT, VARINT, varint_len(u), |out| {
                    put_varint(out, u)
                });
            }
            ValueKey::Double(bits) => {
                put_value(out, field::VALUE_DOUBLE, FIXED64, 8, |out| {
                    out.extend_from_slice(&bits.to_le_bytes())
                });
            }
            ValueKey::Bool(b) => {
                let n = u64::from(b);
                put_value(out, field::VALUE_BOOL, VARINT, 1, |out| put_varint(out, n));
            }
        }
        let i = self.value_count;
        self.value_count += 1;
        self.value_index.insert(key, i);
        i
    }

    /// The number of a text value, written the first time it is used.
    fn text_value(&mut self, text: &str) -> u32 {
        let bytes = text.as_bytes();
        let hash = text_hash(bytes);
        let values = &self.values;
        if let Some(found) = self.text_index.find(hash, |t| t.text(values) == bytes) {
            return found.number;
        }
        let len = bytes.len();
        let body_len = varint_len(len as u64) + len;
        put_value(
            &mut self.values,
            field::VALUE_STRING,
            LENGTH,
            body_len,
            |out| {
                put_varint(out, len as u64);
                out.extend_from_slice(bytes);
            },
        );
        let number = self.value_count;
        self.value_count += 1;
        let start = u32::try_from(self.values.len() - len);
        // A layer past 4 GiB of values (never a tile's) writes its later texts again.
        if let (Ok(start), Ok(len)) = (start, u32::try_from(len)) {
            let values = &self.values;
            let written = TextValue { number, start, len };
            self.text_index
                .insert_unique(hash, written, |t| text_hash(t.text(values)));
        }
        number
    }

    /// Number of features added.
    pub fn len(&self) -> usize {
        self.feature_count
    }

    /// Whether no feature was added.
    pub fn is_empty(&self) -> bool {
        self.feature_count == 0
    }

    /// Appends the encoded layer to a tile's bytes as one of its `layers` fields, written
    /// there directly; nothing when it has no features (returns false).
    pub fn finish_into(self, tile: &mut Vec<u8>) -> bool {
        if self.feature_count == 0 {
            return false;
        }
        let len = self.encoded_len();
        tile.reserve(len + 12);
        put_varint(tile, key_byte(field::TILE_LAYERS, LENGTH));
        put_varint(tile, len as u64);
        self.write_layer(tile);
        true
    }

    /// The length of the `Layer` message [`Self::write_layer`] writes.
    fn encoded_len(&self) -> usize {
        let bytes_field = |len: usize| 1 + varint_len(len as u64) + len;
        bytes_field(self.name.len())
            + self.features.len()
            + self
                .keys
                .iter()
                .map(|k| bytes_field(k.len()))
                .sum::<usize>()
            + self.values.len()
            + 1
            + varint_len(u64::from(EXTENT))
            + 2
    }

    fn write_layer(&self, out: &mut Vec<u8>) {
        put_bytes(out, field::LAYER_NAME, self.name.as_bytes());
        out.extend_from_slice(&self.features);
        for key in &self.keys {
            put_bytes(out, field::LAYER_KEYS, key.as_bytes());
        }
        out.extend_from_slice(&self.values);
        put_varint(out, key_byte(field::LAYER_EXTENT, VARINT));
        put_varint(out, u64::from(EXTENT));
        put_varint(out, key_byte(field::LAYER_VERSION, VARINT));
        put_varint(out, 2);
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
    let kind = write_geometry(&mut commands, geometry);
    (kind, commands)
}

/// Appends the command integers of a geometry to `commands`; returns its type.
fn write_geometry(commands: &mut Vec<u32>, geometry: &TileGeometry) -> GeomType {
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
            GeomType::Point
        }
        TileGeometry::Lines(lines) => {
            for line in lines {
                let mut line = line.clone();
                line.dedup();
                if line.len() >= 2 {
                    write_path(commands, &mut cursor, &line);
                }
            }
            GeomType::Linestring
        }
        TileGeometry::Polygons(polygons) => {
            for polygon in polygons {
                let mut rings = polygon.iter();
                let Some(exterior) = rings.next() else {
                    continue;
                };
                if !write_ring(commands, &mut cursor, exterior, true) {
                    continue;
                }
                for hole in rings {
                    write_ring(commands, &mut cursor, hole, false);
                }
            }
            GeomType::Polygon
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

    /// The layer as a `Layer` message of its own, or `None` when it has no features.
    fn finish(builder: LayerBuilder) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        (builder.feature_count > 0).then(|| {
            builder.write_layer(&mut out);
            out
        })
    }

    /// Appends a `Layer` message to a tile's bytes, its length taken from the bytes.
    fn push_layer(tile: &mut Vec<u8>, layer: &[u8]) {
        put_bytes(tile, field::TILE_LAYERS, layer);
    }

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
        assert!(finish(LayerBuilder::new("empty")).is_none());
        let mut tile = vec![7u8];
        assert!(!LayerBuilder::new("empty").finish_into(&mut tile));
        assert_eq!(tile, [7]);
    }

    fn decoded(builder: LayerBuilder) -> geozero::mvt::tile::Layer {
        use geozero::mvt::Message;
        let mut tile = Vec::new();
        push_layer(&mut tile, &finish(builder).unwrap());
        let mut layers = geozero::mvt::Tile::decode(tile.as_slice()).unwrap().layers;
        assert_eq!(layers.len(), 1);
        layers.remove(0)
    }

    #[test]
    fn repeated_values_are_stored_once() {
        let mut layer = LayerBuilder::new("l");
        let point = TileGeometry::Points(vec![[1, 1]]);
        layer.add(1, &point, &[("name", PropertyValue::Text("a"))]);
        layer.add(2, &point, &[("name", PropertyValue::Text("a"))]);
        let layer = decoded(layer);
        assert_eq!(layer.keys.len(), 1);
        assert_eq!(layer.values.len(), 1);
    }

    /// The bytes written here, read by prost's decoder of the spec's messages, give every
    /// field back: ids past one varint byte, each kind of value, long geometries and tags.
    #[test]
    fn a_layer_decodes_with_every_field_it_was_given() {
        use geozero::mvt::tile::{Feature, Value};
        let mut builder = LayerBuilder::new("sites ☂");
        let line: Vec<WorldPoint> = (0..300).map(|i| [i * 7, (i * i) % 4096 - 2000]).collect();
        let values = [
            PropertyValue::Text("Ninawa نينوى"),
            PropertyValue::Int(-3),
            PropertyValue::Int(1 << 40),
            PropertyValue::UInt(u64::MAX),
            PropertyValue::Double(2.5),
            PropertyValue::Bool(true),
        ];
        let properties: Vec<(&str, PropertyValue<'_>)> = ["a", "b", "c", "d", "e", "f"]
            .into_iter()
            .zip(values)
            .collect();
        let long = TileGeometry::Lines(vec![line.clone()]);
        assert!(builder.add(u64::MAX, &long, &properties));
        assert!(builder.add(300, &TileGeometry::Points(vec![[5, -5]]), &properties[..2]));
        assert!(!builder.add(9, &TileGeometry::Points(vec![]), &properties));
        assert_eq!(builder.len(), 2);
        let layer = decoded(builder);
        assert_eq!(layer.name, "sites ☂");
        assert_eq!(layer.version, 2);
        assert_eq!(layer.extent, Some(EXTENT));
        assert_eq!(layer.keys, ["a", "b", "c", "d", "e", "f"]);
        let expected_values = vec![
            Value {
                string_value: Some("Ninawa نينوى".into()),
                ..Value::default()
            },
            Value {
                sint_value: Some(-3),
                ..Value::default()
            },
            Value {
                int_value: Some(1 << 40),
                ..Value::default()
            },
            Value {
                uint_value: Some(u64::MAX),
                ..Value::default()
            },
            Value {
                double_value: Some(2.5),
                ..Value::default()
            },
            Value {
                bool_value: Some(true),
                ..Value::default()
            },
        ];
        assert_eq!(layer.values, expected_values);
        let expected_features = vec![
            Feature {
                id: Some(u64::MAX),
                tags: vec![0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5],
                r#type: Some(GeomType::Linestring as i32),
                geometry: encode_geometry(&long).1,
            },
            Feature {
                id: Some(300),
                tags: vec![0, 0, 1, 1],
                r#type: Some(GeomType::Point as i32),
                geometry: vec![9, 10, 9],
            },
        ];
        assert_eq!(layer.features, expected_features);
    }

    /// Features with more keys than are compared in order, keys in other places than in
    /// the feature before, and texts repeated among many distinct ones (some equal to a
    /// number's text, some empty), decode to exactly their properties; a layer written
    /// into a tile is its message, written on its own and pushed with the length it has.
    #[test]
    fn every_feature_decodes_to_its_own_properties() {
        use geozero::mvt::Message;
        let texts: Vec<String> = (0..500).map(|i| format!("{}", i % 170)).collect();
        let keys: Vec<String> = (0..LINEAR_KEYS + 9).map(|k| format!("k{k}")).collect();
        let feature = |i: usize| -> Vec<(&str, PropertyValue<'_>)> {
            let mut properties = vec![("id", PropertyValue::Text(&texts[i]))];
            for (k, key) in keys.iter().enumerate().filter(|(k, _)| (i + k) % 3 != 0) {
                let value = match (i * 7 + k) % 4 {
                    0 => PropertyValue::Text(&texts[(i * 31 + k) % texts.len()]),
                    1 => PropertyValue::Int((i % 50) as i64 - 25),
                    2 => PropertyValue::Text(""),
                    _ => PropertyValue::Double(i as f64 / 8.0),
                };
                properties.push((key.as_str(), value));
            }
            properties
        };
        // Half the features as one point, the other half as points; with and without
        // room made ahead.
        let build = |capacity: usize| {
            let mut builder = LayerBuilder::with_capacity("l", capacity);
            for i in 0..texts.len() {
                if i % 2 == 0 {
                    assert!(builder.add_point(i as u64, [1, 2], &feature(i)));
                } else {
                    let points = TileGeometry::Points(vec![[1, 2]]);
                    assert!(builder.add(i as u64, &points, &feature(i)));
                }
            }
            builder
        };
        let mut direct = vec![7u8];
        assert!(build(0).finish_into(&mut direct));
        let mut pushed = vec![7u8];
        push_layer(&mut pushed, &finish(build(texts.len())).unwrap());
        assert_eq!(direct, pushed);

        let layer = geozero::mvt::Tile::decode(&direct[1..])
            .unwrap()
            .layers
            .remove(0);
        let value_of = |v: &geozero::mvt::tile::Value| -> PropertyValue<'static> {
            if let Some(s) = &v.string_value {
                PropertyValue::Text(Box::leak(s.clone().into_boxed_str()))
            } else if let Some(i) = v.sint_value.or(v.int_value) {
                PropertyValue::Int(i)
            } else {
                PropertyValue::Double(v.double_value.unwrap())
            }
        };
        assert_eq!(
            layer.values.len(),
            {
                let mut all: Vec<String> = layer.values.iter().map(|v| format!("{v:?}")).collect();
                all.sort();
                all.dedup();
                all.len()
            },
            "each value is written once"
        );
        for (i, decoded) in layer.features.iter().enumerate() {
            let got: Vec<(&str, PropertyValue<'_>)> = decoded
                .tags
                .chunks(2)
                .map(|t| {
                    (
                        layer.keys[t[0] as usize].as_str(),
                        value_of(&layer.values[t[1] as usize]),
                    )
                })
                .collect();
            assert_eq!(got, feature(i), "feature {i}");
            assert_eq!(decoded.geometry, [9, 2, 4], "feature {i}");
        }
    }
}

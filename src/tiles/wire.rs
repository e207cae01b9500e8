//! The protobuf wire format as vector tiles use it: varints, packed and length-delimited
//! fields, and the field numbers of vector_tile.proto 2.1. [`super::encode`] writes tiles
//! with these, straight into bytes, without message structs.

/// Protobuf wire types.
pub(super) const VARINT: u32 = 0;
pub(super) const FIXED64: u32 = 1;
pub(super) const LENGTH: u32 = 2;

pub(super) fn key_byte(field: u32, wire: u32) -> u64 {
    u64::from((field << 3) | wire)
}

pub(super) fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

pub(super) fn varint_len(n: u64) -> usize {
    (64 - (n | 1).leading_zeros() as usize).div_ceil(7)
}

pub(super) fn packed_len(values: &[u32]) -> usize {
    values.iter().map(|&v| varint_len(u64::from(v))).sum()
}

pub(super) fn put_packed(out: &mut Vec<u8>, field: u32, values: &[u32]) {
    if values.is_empty() {
        return;
    }
    put_varint(out, key_byte(field, LENGTH));
    put_varint(out, packed_len(values) as u64);
    for &v in values {
        put_varint(out, u64::from(v));
    }
}

pub(super) fn packed_field_len(field: u32, values: &[u32]) -> usize {
    if values.is_empty() {
        return 0;
    }
    let len = packed_len(values);
    varint_len(key_byte(field, LENGTH)) + varint_len(len as u64) + len
}

pub(super) fn put_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_varint(out, key_byte(field, LENGTH));
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Appends a `Value` message as a layer's `values` field: its one field, of `wire` type,
/// whose body `body_len` bytes long `write` appends.
pub(super) fn put_value(
    out: &mut Vec<u8>,
    field: u32,
    wire: u32,
    body_len: usize,
    write: impl FnOnce(&mut Vec<u8>),
) {
    let key = key_byte(field, wire);
    let message_len = varint_len(key) + body_len;
    put_varint(out, key_byte(field::LAYER_VALUES, LENGTH));
    put_varint(out, message_len as u64);
    put_varint(out, key);
    write(out);
}

/// The fields of `Tile`, `Layer`, `Feature` and `Value` (vector_tile.proto 2.1).
pub(super) mod field {
    pub const TILE_LAYERS: u32 = 3;
    pub const LAYER_NAME: u32 = 1;
    pub const LAYER_FEATURES: u32 = 2;
    pub const LAYER_KEYS: u32 = 3;
    pub const LAYER_VALUES: u32 = 4;
    pub const LAYER_EXTENT: u32 = 5;
    pub const LAYER_VERSION: u32 = 15;
    pub const FEATURE_ID: u32 = 1;
    pub const FEATURE_TAGS: u32 = 2;
    pub const FEATURE_TYPE: u32 = 3;
    pub const FEATURE_GEOMETRY: u32 = 4;
    pub const VALUE_STRING: u32 = 1;
    pub const VALUE_DOUBLE: u32 = 3;
    pub const VALUE_INT: u32 = 4;
    pub const VALUE_UINT: u32 = 5;
    pub const VALUE_SINT: u32 = 6;
    pub const VALUE_BOOL: u32 = 7;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_lengths_match_what_is_written() {
        for n in [
            0u64,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, n);
            assert_eq!(out.len(), varint_len(n), "{n}");
        }
    }
}

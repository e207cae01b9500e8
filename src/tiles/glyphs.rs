//! The SDF glyphs that the default style's labels need, compiled into the binary so that
//! labels render with no internet (`/fonts/{fontstack}/{range}.pbf`).
//!
//! One font stack, [`FONT_STACK`]: Noto Sans for Latin and Noto Sans Arabic (Noto Naskh
//! Arabic for the presentation forms Noto Sans Arabic lacks), rendered to signed distance
//! fields by `scripts/build-glyphs` from Debian's `fonts-noto-core` (SIL OFL 1.1, see
//! `web/glyphs/OFL.txt`). Only the ranges place names use are embedded: Latin, Latin
//! Extended-A and Additional, general punctuation, Cyrillic and Cyrillic Supplement,
//! Arabic (with the letters Kurdish Sorani and Persian add, such as ڕ ڵ ێ ۆ ە ک ی), and
//! the Arabic presentation forms that MapLibre's right-to-left plugin shapes text into.
//! Sorani's ڕ ڵ ێ ە have no presentation forms in Unicode, so they are drawn in their
//! nominal shape. Any other range of the stack is answered with a valid glyph set that
//! has no glyphs.

/// The font stack served, as a style's `text-font` names it.
pub const FONT_STACK: &str = "Noto Sans Regular";
/// Media type of a glyph set.
pub const MEDIA_TYPE: &str = "application/x-protobuf";

/// The embedded ranges: (first code point, bytes).
const RANGES: &[(u32, &[u8])] = &[
    (
        0,
        include_bytes!("../../web/glyphs/noto-sans-regular/0-255.pbf"),
    ),
    (
        256,
        include_bytes!("../../web/glyphs/noto-sans-regular/256-511.pbf"),
    ),
    (
        1024,
        include_bytes!("../../web/glyphs/noto-sans-regular/1024-1279.pbf"),
    ),
    (
        1280,
        include_bytes!("../../web/glyphs/noto-sans-regular/1280-1535.pbf"),
    ),
    (
        1536,
        include_bytes!("../../web/glyphs/noto-sans-regular/1536-1791.pbf"),
    ),
    (
        7680,
        include_bytes!("../../web/glyphs/noto-sans-regular/7680-7935.pbf"),
    ),
    (
        8192,
        include_bytes!("../../web/glyphs/noto-sans-regular/8192-8447.pbf"),
    ),
    (
        64256,
        include_bytes!("../../web/glyphs/noto-sans-regular/64256-64511.pbf"),
    ),
    (
        64512,
        include_bytes!("../../web/glyphs/noto-sans-regular/64512-64767.pbf"),
    ),
    (
        64768,
        include_bytes!("../../web/glyphs/noto-sans-regular/64768-65023.pbf"),
    ),
    (
        65024,
        include_bytes!("../../web/glyphs/noto-sans-regular/65024-65279.pbf"),
    ),
];

/// Why a glyph request is not answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlyphError {
    /// No font of the stack is served.
    #[error("no font in {0:?} is served; the font stack is {FONT_STACK:?}")]
    UnknownFontStack(String),
    /// The range is not `{start}-{start + 255}` with `start` a multiple of 256.
    #[error("range {0:?} is not N-M with N a multiple of 256 and M = N + 255, up to 65535")]
    BadRange(String),
}

/// The glyph set for `fontstack` (comma-separated names; served if any is ours) and
/// `range` (`0-255`, with or without `.pbf`).
pub fn glyph_range(fontstack: &str, range: &str) -> Result<Vec<u8>, GlyphError> {
    let start = parse_range(range)?;
    if !fontstack.split(',').any(|name| name.trim() == FONT_STACK) {
        return Err(GlyphError::UnknownFontStack(fontstack.to_string()));
    }
    Ok(RANGES
        .iter()
        .find(|(first, _)| *first == start)
        .map(|(_, bytes)| bytes.to_vec())
        .unwrap_or_else(|| empty_range(start)))
}

/// The first code point of a range `N-M`.
fn parse_range(range: &str) -> Result<u32, GlyphError> {
    let bad = || GlyphError::BadRange(range.to_string());
    let text = range.strip_suffix(".pbf").unwrap_or(range);
    let (start, end) = text.split_once('-').ok_or_else(bad)?;
    let start: u32 = start.parse().map_err(|_| bad())?;
    let end: u32 = end.parse().map_err(|_| bad())?;
    if start % 256 != 0 || end != start + 255 || end > 65535 {
        return Err(bad());
    }
    Ok(start)
}

/// A glyph set with the stack's name and range but no glyphs (protobuf by hand: it is
/// three strings).
fn empty_range(start: u32) -> Vec<u8> {
    let range = format!("{start}-{}", start + 255);
    let mut stack = Vec::new();
    for (field, text) in [(1u8, FONT_STACK), (2u8, range.as_str())] {
        stack.push(field << 3 | 2);
        stack.push(text.len() as u8);
        stack.extend_from_slice(text.as_bytes());
    }
    let mut glyphs = vec![1u8 << 3 | 2, stack.len() as u8];
    glyphs.extend(stack);
    glyphs
}

/// The ranges embedded, as `N-M` strings.
pub fn embedded_ranges() -> Vec<String> {
    RANGES
        .iter()
        .map(|(start, _)| format!("{start}-{}", start + 255))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_range_names_our_font_stack_and_its_range() {
        for (start, bytes) in RANGES {
            let range = format!("{start}-{}", start + 255);
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(64)]);
            assert!(
                text.contains(FONT_STACK) && text.contains(&range),
                "{range}"
            );
        }
    }

    /// A protobuf message's fields, `(number, varint or bytes)`, read by hand so that the
    /// test does not rely on the code that wrote them.
    fn fields(mut bytes: &[u8]) -> Vec<(u64, Field<'_>)> {
        fn varint(bytes: &mut &[u8]) -> u64 {
            let mut value = 0u64;
            for shift in (0..64).step_by(7) {
                let (byte, rest) = bytes.split_first().expect("truncated varint");
                *bytes = rest;
                value |= u64::from(byte & 0x7f) << shift;
                if byte & 0x80 == 0 {
                    break;
                }
            }
            value
        }
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let key = varint(&mut bytes);
            let field = match key & 7 {
                0 => Field::Varint(varint(&mut bytes)),
                2 => {
                    let len = varint(&mut bytes) as usize;
                    let (payload, rest) = bytes.split_at(len);
                    bytes = rest;
                    Field::Bytes(payload)
                }
                wire => panic!("unexpected wire type {wire}"),
            };
            out.push((key >> 3, field));
        }
        out
    }

    #[derive(Debug, Clone, Copy)]
    enum Field<'a> {
        Varint(u64),
        Bytes(&'a [u8]),
    }

    /// A glyph as served: its code point, bitmap bytes, width, height and advance.
    struct Glyph {
        id: u32,
        bitmap: usize,
        width: u64,
        height: u64,
        advance: u64,
    }

    /// The glyphs of the range served for `start`, through [`glyph_range`]; checks that
    /// the set names our stack and its range and holds only code points of that range.
    fn served_glyphs(start: u32) -> Vec<Glyph> {
        let range = format!("{start}-{}", start + 255);
        let bytes = glyph_range(FONT_STACK, &format!("{range}.pbf")).unwrap();
        let mut glyphs = Vec::new();
        for (number, stack) in fields(&bytes) {
            let Field::Bytes(stack) = stack else {
                panic!("glyphs.stacks is a message")
            };
            assert_eq!(number, 1);
            for (number, field) in fields(stack) {
                match (number, field) {
                    (1, Field::Bytes(name)) => assert_eq!(name, FONT_STACK.as_bytes()),
                    (2, Field::Bytes(text)) => assert_eq!(text, range.as_bytes()),
                    (3, Field::Bytes(glyph)) => {
                        let mut g = Glyph {
                            id: u32::MAX,
                            bitmap: 0,
                            width: 0,
                            height: 0,
                            advance: 0,
                        };
                        for (number, field) in fields(glyph) {
                            match (number, field) {
                                (1, Field::Varint(v)) => g.id = v as u32,
                                (2, Field::Bytes(b)) => g.bitmap = b.len(),
                                (3, Field::Varint(v)) => g.width = v,
                                (4, Field::Varint(v)) => g.height = v,
                                (7, Field::Varint(v)) => g.advance = v,
                                _ => {}
                            }
                        }
                        assert!((start..=start + 255).contains(&g.id), "{} in {range}", g.id);
                        glyphs.push(g);
                    }
                    other => panic!("unexpected field {other:?} in {range}"),
                }
            }
        }
        glyphs
    }

    #[test]
    fn embedded_glyphs_draw_sorani_arabic_cyrillic_and_latin_with_diacritics() {
        let letters = [
            // Sorani letters, and the presentation forms Unicode has for some of them
            // (ۆ final, ی medial, ک initial).
            "ڕ ڵ ێ ۆ ە ک ی گ ھ پ چ ژ ڤ \u{fbda}\u{fbff}\u{fb90}",
            // Arabic letters, and shaped forms (lam-alef, beh initial, yeh final).
            "ا ب ت ح ع غ ق ك ي ة ء أ ئ \u{fefb}\u{fe91}\u{fef2}",
            // Cyrillic, including Kurdish Cyrillic's Ԛ and Ԝ from the supplement.
            "Д ж Ї ї Ё я Ԛ ԛ Ԝ",
            // Latin with diacritics and typographic quotes from GeoNames transliterations.
            "ā ī ū ṟ ḩ ţ ş ḑ ẓ ê é ł ‘ ’",
        ];
        let mut by_range = std::collections::BTreeMap::new();
        for c in letters.iter().flat_map(|l| l.chars()).filter(|c| *c != ' ') {
            let code = u32::from(c);
            let glyphs = by_range
                .entry(code / 256 * 256)
                .or_insert_with(|| served_glyphs(code / 256 * 256));
            let glyph = glyphs
                .iter()
                .find(|g| g.id == code)
                .unwrap_or_else(|| panic!("no glyph for {c} (U+{code:04X})"));
            assert!(glyph.advance > 0, "{c} advances");
            assert!(glyph.width > 0 && glyph.height > 0, "{c} has a shape");
            // A signed distance field with a 3-pixel buffer on each side.
            let expected = ((glyph.width + 6) * (glyph.height + 6)) as usize;
            assert_eq!(glyph.bitmap, expected, "{c} bitmap size");
        }
        assert!(by_range.contains_key(&1024) && by_range.contains_key(&1280));
    }

    #[test]
    fn every_embedded_range_decodes_to_glyphs_of_that_range() {
        for (start, _) in RANGES {
            assert!(!served_glyphs(*start).is_empty(), "{start}");
        }
        assert!(served_glyphs(512).is_empty());
    }

    #[test]
    fn a_range_that_is_not_embedded_is_an_empty_glyph_set() {
        let bytes = glyph_range("Noto Sans Regular", "512-767.pbf").unwrap();
        assert_eq!(bytes[0], 0x0a);
        assert!(String::from_utf8_lossy(&bytes).contains("512-767"));
    }

    #[test]
    fn a_malformed_range_or_unknown_font_is_refused() {
        assert!(glyph_range(FONT_STACK, "1-256").is_err());
        assert!(glyph_range(FONT_STACK, "65280-65535").is_ok());
        assert!(glyph_range(FONT_STACK, "65536-65791").is_err());
        assert!(glyph_range("Comic Sans", "0-255").is_err());
        assert!(glyph_range("Open Sans Regular,Noto Sans Regular", "0-255").is_ok());
    }
}

//! The SDF glyphs that the default style's labels need, compiled into the binary so that
//! labels render with no internet (`/fonts/{fontstack}/{range}.pbf`).
//!
//! One font stack, [`FONT_STACK`]: Noto Sans for Latin and Noto Sans Arabic (Noto Naskh
//! Arabic for the presentation forms Noto Sans Arabic lacks), rendered to signed distance
//! fields by `scripts/build-glyphs` from Debian's `fonts-noto-core` (SIL OFL 1.1, see
//! `web/glyphs/OFL.txt`). Only the ranges the place names use are embedded: Latin, Latin
//! Extended-A and Additional, general punctuation, Arabic, and the Arabic presentation
//! forms that MapLibre's right-to-left plugin shapes text into. Any other range of the
//! stack is answered with a valid glyph set that has no glyphs.

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

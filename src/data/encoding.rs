//! The text encoding of CSV files. Declared in the config (`encoding`, any WHATWG label),
//! it is used as declared. Otherwise a byte order mark decides (UTF-8, UTF-16LE/BE); else
//! UTF-16 is recognised by its zero bytes; else text that is valid UTF-8 is UTF-8; else
//! the encoding is guessed from the bytes by Mozilla's detector (chardetng), and the load
//! report says which was used and how to declare another.

use std::borrow::Cow;

use encoding_rs::Encoding;

/// How the encoding of a file was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Declared in the config.
    Declared,
    /// Valid UTF-8 (with or without a byte order mark).
    Utf8,
    /// A UTF-16 byte order mark.
    ByteOrderMark,
    /// UTF-16 told by its zero bytes, with no byte order mark.
    ZeroBytes,
    /// Guessed from the bytes.
    Guessed,
}

/// A file's text and how it was read.
#[derive(Debug)]
pub struct Decoded<'a> {
    /// The text, without a byte order mark.
    pub text: Cow<'a, str>,
    /// The encoding used.
    pub encoding: &'static Encoding,
    /// How it was chosen.
    pub found: Found,
    /// Whether some bytes were not valid in it (each became U+FFFD).
    pub had_errors: bool,
}

impl Decoded<'_> {
    /// What the load report should say about how the file was read, if anything: nothing
    /// for UTF-8 or a declared encoding.
    pub fn note(&self) -> Option<String> {
        let name = self.encoding.name();
        let why = match self.found {
            Found::Declared | Found::Utf8 => return None,
            Found::ByteOrderMark => "it starts with a byte order mark that says so".to_string(),
            Found::ZeroBytes => "its zero bytes say so; it has no byte order mark".to_string(),
            Found::Guessed => "a guess from its bytes, as it is not UTF-8".to_string(),
        };
        Some(format!(
            "read as {name} ({why}); if names look wrong, declare the file's encoding in the \
             config, e.g. encoding = \"{}\"",
            name.to_ascii_lowercase()
        ))
    }
}

/// The encoding a WHATWG label names (`"windows-1256"`, `"utf-16le"`, `"latin1"`…).
pub fn for_label(label: &str) -> Option<&'static Encoding> {
    Encoding::for_label(label.trim().as_bytes())
}

/// Decodes a file: with `declared` when given, else as found out (see the module doc).
pub fn decode<'a>(bytes: &'a [u8], declared: Option<&'static Encoding>) -> Decoded<'a> {
    if let Some(encoding) = declared {
        let (text, had_errors) = encoding.decode_with_bom_removal(bytes);
        return Decoded {
            text,
            encoding,
            found: Found::Declared,
            had_errors,
        };
    }
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom..]);
        let found = if encoding == encoding_rs::UTF_8 {
            Found::Utf8
        } else {
            Found::ByteOrderMark
        };
        return Decoded {
            text,
            encoding,
            found,
            had_errors,
        };
    }
    // Zero bytes are valid UTF-8, but no text file has them unless it is UTF-16.
    let (encoding, found) = match utf16_by_zero_bytes(bytes) {
        Some(encoding) => (encoding, Found::ZeroBytes),
        None => {
            if let Ok(text) = std::str::from_utf8(bytes) {
                return Decoded {
                    text: Cow::Borrowed(text),
                    encoding: encoding_rs::UTF_8,
                    found: Found::Utf8,
                    had_errors: false,
                };
            }
            let mut detector =
                chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
            detector.feed(bytes, true);
            let guess = detector.guess(None, chardetng::Utf8Detection::Deny);
            (guess, Found::Guessed)
        }
    };
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    Decoded {
        text,
        encoding,
        found,
        had_errors,
    }
}

/// UTF-16 without a byte order mark: most ASCII characters (headers, digits, commas) have
/// a zero byte beside them, on the odd side for little-endian, the even side for big.
fn utf16_by_zero_bytes(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    let pairs = sample.len() / 2;
    if pairs < 4 {
        return None;
    }
    let zeros_at = |side: usize| {
        sample
            .iter()
            .skip(side)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros_at(0), zeros_at(1));
    if odd * 2 > pairs && even * 10 < pairs {
        Some(encoding_rs::UTF_16LE)
    } else if even * 2 > pairs && odd * 10 < pairs {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    #[test]
    fn a_byte_order_mark_wins_and_utf16_without_one_is_told_by_its_zero_bytes() {
        let text = "id,name\n1,مخيم\n";
        let with_bom = utf16le(text, true);
        let decoded = decode(&with_bom, None);
        assert_eq!(decoded.text, text);
        assert_eq!(decoded.found, Found::ByteOrderMark);
        assert!(decoded.note().unwrap().starts_with("read as UTF-16LE"));
        let without = utf16le(text, false);
        let decoded = decode(&without, None);
        assert_eq!(decoded.text, text);
        assert_eq!(decoded.found, Found::ZeroBytes);
    }

    #[test]
    fn utf8_is_read_as_is_and_says_nothing() {
        let decoded = decode("a,b\né,ü\n".as_bytes(), None);
        assert_eq!(decoded.found, Found::Utf8);
        assert!(matches!(decoded.text, Cow::Borrowed(_)));
        assert_eq!(decoded.note(), None);
        let decoded = decode(b"\xEF\xBB\xBFa,b\n", None);
        assert_eq!(decoded.text, "a,b\n");
    }

    #[test]
    fn a_declared_encoding_is_used_even_when_utf8_would_do() {
        let latin1 = for_label("latin1").unwrap();
        let decoded = decode("é".as_bytes(), Some(latin1));
        assert_eq!(decoded.text, "Ã©");
        assert_eq!(for_label("no-such-encoding"), None);
    }
}

//! JSON text to a `serde_json::Value` for cql2-json filters, nested as deep as the caller
//! allows. `serde_json` refuses anything nested more than 127 brackets deep, which cuts a
//! filter off at 62 levels; the documented 64 levels (each an object and its `args` array,
//! plus the predicate and a geometry literal) need up to
//! [`MAX_FILTER_JSON_NESTING`](crate::config::MAX_FILTER_JSON_NESTING) brackets.
//!
//! Only the structure (objects, arrays, nesting) is read here; every string, number and
//! keyword is handed to `serde_json`, so what is valid and what it means is exactly
//! `serde_json`'s. The recursion is bounded by `max_depth`, checked before going deeper.

use serde_json::{Map, Value};

/// Parses one JSON value; arrays and objects nested deeper than `max_depth` are an error.
pub(super) fn parse(text: &str, max_depth: usize) -> Result<Value, String> {
    let mut reader = Reader {
        text,
        at: 0,
        max_depth,
    };
    let value = reader.value(0)?;
    reader.skip_whitespace();
    if reader.at < text.len() {
        return Err(reader.error("trailing characters after the JSON value"));
    }
    Ok(value)
}

struct Reader<'a> {
    text: &'a str,
    /// Byte offset of the next unread byte; always on a character boundary between tokens.
    at: usize,
    max_depth: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
    }

    /// An error at the current position, as a 1-based character number.
    fn error(&self, message: &str) -> String {
        let character = self.text[..self.at].chars().count() + 1;
        format!("{message} at character {character}")
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'[') => {
                self.enter(depth)?;
                let mut items = Vec::new();
                if self.close(b']') {
                    return Ok(Value::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    if self.separator(b']', "expected ',' or ']' in the array")? {
                        return Ok(Value::Array(items));
                    }
                }
            }
            Some(b'{') => {
                self.enter(depth)?;
                let mut object = Map::new();
                if self.close(b'}') {
                    return Ok(Value::Object(object));
                }
                loop {
                    self.skip_whitespace();
                    if self.peek() != Some(b'"') {
                        return Err(self.error("expected a quoted key in the object"));
                    }
                    let key = self.string()?;
                    self.skip_whitespace();
                    if self.peek() != Some(b':') {
                        return Err(self.error("expected ':' after the key"));
                    }
                    self.at += 1;
                    let value = self.value(depth + 1)?;
                    object.insert(key, value);
                    if self.separator(b'}', "expected ',' or '}' in the object")? {
                        return Ok(Value::Object(object));
                    }
                }
            }
            Some(b'"') => self.string().map(Value::String),
            Some(_) => self.scalar(),
            None => Err(self.error("expected a JSON value but the text ends")),
        }
    }

    /// Steps into an array or object at `depth`, unless that would be too deep.
    fn enter(&mut self, depth: usize) -> Result<(), String> {
        if depth >= self.max_depth {
            return Err(self.error(&format!(
                "arrays and objects nest more than {} deep",
                self.max_depth
            )));
        }
        self.at += 1;
        Ok(())
    }

    /// Consumes `close` if it comes next (an empty array or object).
    fn close(&mut self, close: u8) -> bool {
        self.skip_whitespace();
        if self.peek() == Some(close) {
            self.at += 1;
            return true;
        }
        false
    }

    /// After an item: `,` (false: more follow) or `close` (true: done).
    fn separator(&mut self, close: u8, expected: &str) -> Result<bool, String> {
        self.skip_whitespace();
        match self.peek() {
            Some(b',') => {
                self.at += 1;
                Ok(false)
            }
            Some(b) if b == close => {
                self.at += 1;
                Ok(true)
            }
            _ => Err(self.error(expected)),
        }
    }

    /// A quoted string, decoded by `serde_json`.
    fn string(&mut self) -> Result<String, String> {
        let bytes = self.text.as_bytes();
        let start = self.at;
        let mut i = start + 1;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'"' => {
                    // Both quotes are ASCII, so the slice is on character boundaries.
                    let token = &self.text[start..=i];
                    return match serde_json::from_str::<String>(token) {
                        Ok(s) => {
                            self.at = i + 1;
                            Ok(s)
                        }
                        Err(e) => Err(self.error(&format!("invalid string ({e})"))),
                    };
                }
                _ => i += 1,
            }
        }
        Err(self.error("the string is never closed"))
    }

    /// A number, `true`, `false` or `null`, read by `serde_json`.
    fn scalar(&mut self) -> Result<Value, String> {
        let start = self.at;
        let len = self.text.as_bytes()[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.'))
            .count();
        if len == 0 {
            return Err(self.error("expected a JSON value"));
        }
        match serde_json::from_str::<Value>(&self.text[start..start + len]) {
            Ok(value) => {
                self.at = start + len;
                Ok(value)
            }
            Err(e) => Err(self.error(&format!("invalid value ({e})"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;

    #[test]
    fn what_serde_json_reads_is_read_the_same_and_what_it_refuses_is_refused() {
        let cases = [
            r#"{"op":"not","args":[{"op":"=","args":[{"property":"a"},"x\"y\\u00e9"]}]}"#,
            r#" [1, -2.5e3, true, false, null, "", {}, [], {"a":{"b":[]}}] "#,
            r#"{"a":1,"a":2}"#,
            "\"\\ud83d\\ude00\"",
            "1e309",
            "01",
            "[1,]",
            "{\"a\" 1}",
            "[1 2]",
            "\"\\x\"",
            "\"tab\there\"",
            "tru",
            "nul",
            "-",
            "[",
            "{",
            "\"",
            "",
            "   ",
            "[] []",
            "é",
            "\"é\"",
            "[\"\\\"]",
            "{\"a\":}",
            "NaN",
            "+1",
            ".5",
            "1.",
        ];
        for case in cases {
            let ours = parse(case, 100);
            let theirs = serde_json::from_str::<Value>(case);
            assert_eq!(
                ours.as_ref().ok(),
                theirs.as_ref().ok(),
                "{case:?}: {ours:?}"
            );
        }
    }

    #[test]
    fn random_soups_agree_with_serde_json() {
        let words = [
            "[", "]", "{", "}", ",", ":", "\"a\"", "\"\\\"\"", "1", "-0.5e2", "true", "null", " ",
            "\"", "\\", "x", "1e999", "é",
        ];
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        for _ in 0..20_000 {
            let text: String = (0..rng.gen_range(1..16))
                .map(|_| words[rng.gen_range(0..words.len())])
                .collect();
            let ours = parse(&text, 100);
            let theirs = serde_json::from_str::<Value>(&text);
            assert_eq!(
                ours.as_ref().ok(),
                theirs.as_ref().ok(),
                "{text:?}: {ours:?}"
            );
        }
    }

    #[test]
    fn nesting_beyond_serde_jsons_limit_is_read_up_to_the_given_depth_and_no_further() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(serde_json::from_str::<Value>(&deep(140)).is_err());
        assert!(parse(&deep(140), 140).is_ok());
        let message = parse(&deep(141), 140).unwrap_err();
        assert!(message.contains("more than 140 deep"), "{message}");
        assert!(parse(&"[".repeat(1_000_000), 140).is_err());
    }
}

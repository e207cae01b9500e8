//! The languages the clients offer: the `[[language]]` entries of the config (with their
//! strings files read and checked), or, when there are none, English followed by every
//! language the layers have names, admin words or count labels in. Writing direction and
//! number locale are settled here, once, so every client shows a language the same way.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::Config;
use crate::model::{Language, Layer};

use super::report::LoadReport;

/// Longest strings file accepted, in bytes.
const MAX_STRINGS_BYTES: usize = 256 * 1024;
/// Longest interface string accepted, in characters.
const MAX_STRING_CHARS: usize = 2_000;

/// Scripts written right to left (ISO 15924), for codes with a script subtag.
const RTL_SCRIPTS: &[&str] = &["arab", "hebr", "syrc", "thaa", "nkoo", "adlm", "rohg"];
/// Languages written right to left when no script is named.
const RTL_LANGUAGES: &[&str] = &[
    "ar", "arc", "ckb", "dv", "fa", "he", "ks", "ku-arab", "lrc", "mzn", "pnb", "ps", "sd", "syr",
    "ug", "ur", "yi",
];

/// The languages of a config, each checked; problems go to `report` under `[[language]]`.
pub fn languages(config: &Config, layers: &[Layer], report: &mut LoadReport) -> Vec<Language> {
    if config.languages.is_empty() {
        return implied(layers);
    }
    let codes: BTreeSet<String> = config.languages.iter().map(|l| l.code.clone()).collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(config.languages.len());
    for entry in &config.languages {
        let at = format!("[[language]] {}", entry.code);
        if !is_language_code(&entry.code) {
            report.error(
                &at,
                None,
                Some("code"),
                format!(
                    "code = {:?} is not a language code (two or three letters, then optional \
                     subtags: \"en\", \"ckb\", \"ku-Arab\")",
                    entry.code
                ),
            );
            continue;
        }
        if !seen.insert(entry.code.to_ascii_lowercase()) {
            report.error(&at, None, Some("code"), "this language is listed twice");
            continue;
        }
        let dir = match entry.dir.as_deref() {
            None => guess_dir(&entry.code),
            Some("ltr") => "ltr",
            Some("rtl") => "rtl",
            Some(other) => {
                report.error(
                    &at,
                    None,
                    Some("dir"),
                    format!("dir = {other:?} must be \"ltr\" or \"rtl\""),
                );
                guess_dir(&entry.code)
            }
        };
        if let Some(fallback) = &entry.fallback {
            if !codes.contains(fallback) || fallback == &entry.code {
                report.error(
                    &at,
                    None,
                    Some("fallback"),
                    format!(
                        "fallback = {fallback:?} is not another language of this config{}",
                        super::semantics::suggestion(fallback, codes.iter().map(String::as_str))
                    ),
                );
            }
        }
        let locale = entry.locale.clone().unwrap_or_else(|| entry.code.clone());
        if !is_language_code(&locale) {
            report.error(
                &at,
                None,
                Some("locale"),
                format!("locale = {locale:?} is not a locale such as \"fr-CA\""),
            );
        }
        let strings = match &entry.strings {
            None => BTreeMap::new(),
            Some(path) => read_strings(config, path, report),
        };
        out.push(Language {
            code: entry.code.clone(),
            name: entry.name.clone(),
            dir,
            locale,
            fallback: entry.fallback.clone(),
            strings,
        });
    }
    for layer in layers {
        let used = codes_of(layer);
        let missing: BTreeSet<&String> = used.filter(|code| !codes.contains(*code)).collect();
        if !missing.is_empty() {
            let list: Vec<&str> = missing.iter().map(|c| c.as_str()).collect();
            report.warning(
                &format!("layer {}", layer.id),
                None,
                None,
                format!(
                    "has names, words or labels in {} but no [[language]] offers {}: \
                     readers cannot choose {}",
                    list.join(", "),
                    if list.len() == 1 { "it" } else { "them" },
                    if list.len() == 1 { "it" } else { "them" },
                ),
            );
        }
    }
    if out.is_empty() {
        return implied(layers);
    }
    out
}

/// English, then every language the layers use, in code order.
fn implied(layers: &[Layer]) -> Vec<Language> {
    let mut codes: BTreeSet<String> = layers.iter().flat_map(codes_of).cloned().collect();
    codes.remove("en");
    std::iter::once("en".to_string())
        .chain(codes.into_iter().filter(|c| is_language_code(c)))
        .map(|code| Language {
            dir: guess_dir(&code),
            locale: code.clone(),
            code,
            name: None,
            fallback: None,
            strings: BTreeMap::new(),
        })
        .collect()
}

/// Every language code a layer has names, an admin word or count labels in.
fn codes_of(layer: &Layer) -> impl Iterator<Item = &String> {
    let names = layer.names.iter().map(|(code, _)| code);
    let words = layer
        .admin_word
        .iter()
        .chain(&layer.admin_words)
        .map(|(code, _)| code);
    let labels = layer
        .count_labels
        .iter()
        .flat_map(|(_, labels)| labels.iter().map(|(code, _)| code));
    names.chain(words).chain(labels)
}

fn read_strings(config: &Config, path: &str, report: &mut LoadReport) -> BTreeMap<String, String> {
    let bytes = match config.read_file(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            report.error(path, None, None, format!("cannot read: {e}"));
            return BTreeMap::new();
        }
    };
    if bytes.len() > MAX_STRINGS_BYTES {
        report.error(
            path,
            None,
            None,
            format!(
                "is {} bytes; a strings file may have at most {MAX_STRINGS_BYTES}",
                bytes.len()
            ),
        );
        return BTreeMap::new();
    }
    let value: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(value) => value,
        Err(e) => {
            report.error(path, None, None, format!("is not valid JSON: {e}"));
            return BTreeMap::new();
        }
    };
    let Some(object) = value.as_object() else {
        report.error(
            path,
            None,
            None,
            "must be one JSON object of strings, {\"search\": \"…\"}",
        );
        return BTreeMap::new();
    };
    let mut strings = BTreeMap::new();
    for (key, value) in object {
        match value.as_str() {
            Some(text) if text.chars().count() <= MAX_STRING_CHARS => {
                strings.insert(key.clone(), text.to_string());
            }
            Some(_) => report.error(
                path,
                None,
                Some(key),
                format!("is longer than {MAX_STRING_CHARS} characters"),
            ),
            None => report.error(path, None, Some(key), "must be a string"),
        }
    }
    strings
}

/// A BCP 47 tag in the shape browsers accept: a 2–3 letter language, then subtags of
/// 1–8 letters or digits.
fn is_language_code(code: &str) -> bool {
    let mut parts = code.split('-');
    let first = parts.next().unwrap_or("");
    (2..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn guess_dir(code: &str) -> &'static str {
    let lower = code.to_ascii_lowercase();
    let mut parts = lower.split('-');
    let language = parts.next().unwrap_or("");
    let script = parts.find(|p| p.len() == 4);
    let rtl = match script {
        Some(script) => RTL_SCRIPTS.contains(&script),
        None => RTL_LANGUAGES.contains(&language),
    };
    if rtl {
        "rtl"
    } else {
        "ltr"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_follows_the_script() {
        assert_eq!(guess_dir("ar"), "rtl");
        assert_eq!(guess_dir("ckb"), "rtl");
        assert_eq!(guess_dir("ku"), "ltr");
        assert_eq!(guess_dir("ku-Arab"), "rtl");
        assert_eq!(guess_dir("uz-Arab-AF"), "rtl");
        assert_eq!(guess_dir("ar-Latn"), "ltr");
        assert_eq!(guess_dir("uk"), "ltr");
        assert_eq!(guess_dir("ha"), "ltr");
    }

    #[test]
    fn language_codes() {
        for good in ["en", "ckb", "ar-IQ", "ku-Arab", "zh-Hant-TW"] {
            assert!(is_language_code(good), "{good}");
        }
        for bad in [
            "",
            "e",
            "english",
            "en_GB",
            "ar-",
            "<b>",
            "en-toolongsubtag",
        ] {
            assert!(!is_language_code(bad), "{bad}");
        }
    }
}

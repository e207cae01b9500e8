//! Nothing in the server or the web client knows the built-in dataset: no Iraq field,
//! word, place or code appears in `src/` or `web/` outside the files that embed the
//! built-in data (`src/builtin.rs`), tests, and sentences about the built-in dataset
//! itself ("with no config file, the built-in Iraq dataset is served"). Everything the
//! clients show about a country comes from its config and data.

use std::path::{Path, PathBuf};

/// Words of the built-in dataset: its country, admin level, places, codes, field names,
/// count columns and number locale (matched case-insensitively).
const FORBIDDEN: &[&str] = &[
    "iraq",
    "governorate",
    "ninewa",
    "baghdad",
    "erbil",
    "dahuk",
    "duhok",
    "kirkuk",
    "anbar",
    "basrah",
    "mosul",
    "idp_individuals",
    "idp_families",
    "\"name_ar\"",
    "'name_ar'",
    "\"name_en\"",
    "'name_en'",
    "ar-iq",
    "site_counts",
    "sites.geojson",
];

fn files(dir: &Path, extensions: &[&str], out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            if !matches!(name.as_str(), "vendor" | "glyphs" | "node_modules") {
                files(&path, extensions, out);
            }
        } else if extensions.iter().any(|e| name.ends_with(e)) {
            out.push(path);
        }
    }
}

/// A code for an Iraqi governorate (`IQG01`…`IQG18`) anywhere in the line.
fn has_pcode(line: &str) -> bool {
    line.as_bytes()
        .windows(4)
        .any(|w| w[..3].eq_ignore_ascii_case(b"iqg") && w[3].is_ascii_digit())
}

#[test]
fn no_word_of_the_built_in_dataset_is_in_the_server_or_the_client() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    files(&root.join("src"), &[".rs"], &mut all);
    files(&root.join("web"), &[".js", ".html", ".css"], &mut all);
    assert!(all.len() > 40, "found only {} files", all.len());
    let mut found = Vec::new();
    for path in &all {
        let relative = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .to_string();
        if relative == "src/builtin.rs" || relative.ends_with("/tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        for (number, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("#[cfg(test)]") {
                break;
            }
            let lower = line.to_lowercase();
            if lower.contains("built-in") {
                continue;
            }
            let hit = FORBIDDEN.iter().find(|w| lower.contains(*w)).copied();
            if let Some(word) = hit.or(has_pcode(line).then_some("IQG code")) {
                found.push(format!(
                    "{relative}:{}: {word}: {}",
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_check_finds_what_it_looks_for() {
    assert!(has_pcode("area=governorates/IQG15"));
    assert!(!has_pcode("IQ-BG, IQG, iq"));
    let line = "// e.g. ?governorate=IQG15".to_lowercase();
    assert!(FORBIDDEN.iter().any(|w| line.contains(w)));
}

//! dtmap's CQL2 against the standard's own test material (OGC 21-065), as the `cql2` crate
//! (0.6, a dev-dependency that is fetched but never compiled; see Cargo.toml) ships it: the 120 cql2-text and 109 cql2-json examples of the
//! standard, the expressions of its Abstract Test Suite (by conformance class), and the
//! operator cases with their expected matches on the 112-feature test dataset. The files
//! are found through `cargo metadata` at test time (nothing is copied into this
//! repository); without the crate the tests fail.
//!
//! The test layer is built from `cql2testdata.ndjson` directly, not through dtmap's loader:
//! some of its longitudes lie beyond ±180 (the dataset lives on a plane), which the loader
//! rightly refuses. The feature geometry is `geom`; every property (including `geom`, as a
//! GeoJSON object) is a queryable, and so are the property names the examples use. Filters
//! are read with [`Options::check_range`] off for the same reason, and with the functions the
//! examples call (`avg`, `Buffer`, `Foo`, `Bar`) declared: dtmap itself declares none.
//!
//! [`EXCEPTIONS`] lists what cannot pass, with the reason; the README repeats it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use dtmap::model::{Feature, FieldValue, GeometryKind, Layer, Properties, PropertyTableBuilder};
use dtmap::query::cql2::{parse_filter, parse_filter_with, Options};
use dtmap::query::{select, Filter, Selection};
use serde_json::Value;

/// Example files (by name) and operator cases (by expression) that are known not to pass,
/// with the reason. Keep it short: each entry is a gap in dtmap's CQL2.
const EXCEPTIONS: &[(&str, &str)] = &[];

/// Functions the examples call that are not the standard's.
const EXAMPLE_FUNCTIONS: &[&str] = &["avg", "Buffer", "Foo", "Bar"];

/// Where the `cql2` crate's package sits, from `cargo metadata`.
fn material() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let output = std::process::Command::new(cargo)
            .args(["metadata", "--format-version", "1"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cargo metadata runs");
        assert!(
            output.status.success(),
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata is JSON");
        let package = metadata["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .find(|p| {
                p["name"] == "cql2" && p["version"].as_str().is_some_and(|v| v.starts_with("0.6"))
            })
            .expect("the cql2 0.6 crate is a dev-dependency: run `cargo fetch`");
        let manifest = PathBuf::from(package["manifest_path"].as_str().expect("manifest_path"));
        let dir = manifest.parent().expect("package directory").to_path_buf();
        assert!(
            dir.join("tests/cql2testdata.ndjson").is_file(),
            "the cql2 package at {} has no test data",
            dir.display()
        );
        dir
    })
}

fn read(relative: &str) -> String {
    let path = material().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The example files of one encoding, by stem, in order.
fn examples(kind: &str) -> BTreeMap<String, String> {
    let dir = material().join("examples").join(kind);
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let extension = if kind == "json" { "json" } else { "txt" };
        if path.extension().is_none_or(|e| e != extension) {
            continue;
        }
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        out.insert(stem, std::fs::read_to_string(&path).unwrap());
    }
    out
}

/// Property names in a cql2-json filter.
fn property_names(json: &Value, out: &mut BTreeSet<String>) {
    match json {
        Value::Object(o) => {
            if let Some(Value::String(name)) = o.get("property") {
                out.insert(name.clone());
            }
            o.values().for_each(|v| property_names(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| property_names(v, out)),
        _ => {}
    }
}

/// Words of cql2-text that are not property names.
const WORDS: &[&str] = &[
    "AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL", "TRUE", "FALSE", "DIV", "Z",
];

/// The names a cql2-text filter may use as properties: words and "quoted names" that are
/// neither keywords nor followed by `(` (functions and geometry literals), outside 'text'.
/// A superset is fine: the names only become queryables of the test layer.
fn text_names(text: &str, out: &mut BTreeSet<String>) {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
            continue;
        }
        let (name, end) = if c == '"' {
            let end = (i + 1..chars.len())
                .find(|&j| chars[j] == '"')
                .unwrap_or(chars.len());
            (chars[i + 1..end].iter().collect::<String>(), end + 1)
        } else if c.is_alphabetic() || c == '_' {
            let end = (i..chars.len())
                .find(|&j| !(chars[j].is_alphanumeric() || matches!(chars[j], '_' | ':' | '.')))
                .unwrap_or(chars.len());
            (chars[i..end].iter().collect::<String>(), end)
        } else {
            i += 1;
            continue;
        };
        let called = chars[end..].iter().find(|c| !c.is_whitespace()) == Some(&'(');
        if !called && !WORDS.iter().any(|w| w.eq_ignore_ascii_case(&name)) {
            out.insert(name);
        }
        i = end;
    }
}

/// The 112 features of the test dataset, with every name the examples use as a queryable.
fn layer() -> &'static Layer {
    static LAYER: OnceLock<Layer> = OnceLock::new();
    LAYER.get_or_init(|| {
        let mut fields: Vec<String> = Vec::new();
        let mut rows = Vec::new();
        for line in read("tests/cql2testdata.ndjson").lines() {
            if line.trim().is_empty() {
                continue;
            }
            let Value::Object(properties) = serde_json::from_str::<Value>(line).unwrap() else {
                panic!("a feature is an object")
            };
            for key in properties.keys() {
                if !fields.contains(key) {
                    fields.push(key.clone());
                }
            }
            let geometry = dtmap::query::cql2::literal::geojson_geometry(
                &properties["geom"],
                usize::MAX,
                false,
            )
            .unwrap_or_else(|e| panic!("geom: {e:?}"));
            rows.push((properties, geometry));
        }
        let mut table = PropertyTableBuilder::new(&fields);
        let row_numbers: Vec<u32> = rows
            .iter()
            .map(|(properties, _)| table.push(|f| properties.get(f).map(FieldValue::Json)))
            .collect();
        let table = table.finish();
        let features: Vec<Feature> = rows
            .into_iter()
            .zip(row_numbers)
            .map(|((properties, geometry), row)| Feature {
                id: properties["intfield"].to_string().into(),
                shape: geometry.into(),
                properties: Properties::new(table.clone(), row),
            })
            .collect();
        // The names the examples use.
        let mut names = BTreeSet::new();
        for (name, text) in examples("json") {
            let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            property_names(&json, &mut names);
        }
        for text in examples("text").values() {
            text_names(text, &mut names);
        }
        for name in names {
            if name != "geometry" && !fields.contains(&name) {
                fields.push(name);
            }
        }
        let by_id = dtmap::model::FeatureIds::of(&features);
        let extent = features.iter().map(|f| f.bbox()).reduce(|a, b| {
            geo::Rect::new(
                geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
            )
        });
        Layer {
            id: "cql2testdata".into(),
            title: "CQL2 test data".into(),
            description: String::new(),
            attribution: String::new(),
            basemap: false,
            kind: GeometryKind::Polygon,
            tile_fields: fields.clone(),
            fields,
            licence: None,
            name_field: None,
            names: Vec::new(),
            admin_word: Vec::new(),
            admin_words: Vec::new(),
            alt_names: None,
            count_labels: Vec::new(),
            index: dtmap::index::SpatialIndex::build(&features),
            features,
            by_id,
            count_columns: Vec::new(),
            rounds: Vec::new(),
            counts: Vec::new(),
            synthetic: false,
            count_order: Vec::new(),
            prepared_areas: Vec::new(),
            round_totals: Vec::new(),
            group_by: None,
            extent,
        }
    })
}

fn options() -> Options {
    Options {
        check_range: false,
        functions: EXAMPLE_FUNCTIONS.iter().map(|f| f.to_string()).collect(),
        ..Options::default()
    }
}

fn parse(text: &str, lang: &str) -> Result<Filter, String> {
    parse_filter_with(layer(), text, Some(lang), &options()).map_err(|e| e.to_string())
}

fn excepted(name: &str) -> bool {
    EXCEPTIONS.iter().any(|(n, _)| *n == name)
}

/// Fails with every failure listed, and with exceptions that now pass.
fn report(what: &str, failures: Vec<String>, passed_exceptions: Vec<String>) {
    assert!(
        failures.is_empty() && passed_exceptions.is_empty(),
        "{what}: {} failures:\n{}\nexceptions that now pass (remove them): {:?}",
        failures.len(),
        failures.join("\n"),
        passed_exceptions
    );
}

fn check_examples(kind: &str, lang: &str, expected_count: usize) {
    let all = examples(kind);
    assert_eq!(all.len(), expected_count, "{kind} examples");
    let mut failures = Vec::new();
    let mut passed_exceptions = Vec::new();
    for (name, text) in &all {
        match (parse(text, lang), excepted(name)) {
            (Err(e), false) => failures.push(format!("{name}: {e}\n    {}", text.trim())),
            (Ok(_), true) => passed_exceptions.push(name.clone()),
            _ => {}
        }
    }
    report(&format!("{kind} examples"), failures, passed_exceptions);
}

#[test]
fn every_text_example_of_the_standard_parses() {
    check_examples("text", "cql2-text", 120);
}

#[test]
fn every_json_example_of_the_standard_parses() {
    // 110 files, one of which is the package's `validate.sh`.
    check_examples("json", "cql2-json", 109);
}

#[test]
fn text_and_json_versions_of_an_example_compile_to_the_same_filter() {
    let text = examples("text");
    let json = examples("json");
    let mut compared = 0;
    let mut failures = Vec::new();
    for (name, j) in &json {
        let Some(t) = text.get(name) else { continue };
        if excepted(name) {
            continue;
        }
        compared += 1;
        match (parse(t, "cql2-text"), parse(j, "cql2-json")) {
            (Ok(a), Ok(b)) if a == b => {}
            (a, b) => failures.push(format!("{name}:\n  text {a:?}\n  json {b:?}")),
        }
    }
    assert!(compared >= 100, "only {compared} pairs");
    report("text/json pairs", failures, Vec::new());
}

#[test]
fn every_expression_of_the_abstract_test_suite_parses() {
    let mut by_class: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for line in read("tests/ats/expressions.txt").lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (class, expression) = line.split_once('|').expect("class|expression");
        let entry = by_class.entry(class.to_string()).or_default();
        entry.1 += 1;
        match parse(expression, "cql2-text") {
            Ok(_) => entry.0 += 1,
            Err(e) if !excepted(expression) => failures.push(format!("{class}: {expression}: {e}")),
            Err(_) => {}
        }
    }
    for (class, (ok, all)) in &by_class {
        eprintln!("{class}: {ok}/{all}");
    }
    assert!(by_class.len() >= 10, "{by_class:?}");
    report("ATS expressions", failures, Vec::new());
}

#[test]
fn every_operator_case_selects_exactly_the_expected_features() {
    let text = read("tests/operators_expected.txt");
    let mut lines = text.lines();
    let mut cases = 0;
    let mut failures = Vec::new();
    let mut passed_exceptions = Vec::new();
    while let Some(query) = lines.next() {
        let expected = lines.next().expect("an expected line after each query");
        cases += 1;
        let got = match parse(query, "cql2-text") {
            Ok(filter) => {
                let selection = Selection {
                    filter: Some(filter),
                    ..Selection::default()
                };
                let mut ids: Vec<i64> = select(layer(), &selection)
                    .into_iter()
                    .map(|f| layer().features[f as usize].id.parse().unwrap())
                    .collect();
                ids.sort_unstable();
                ids.iter().map(i64::to_string).collect::<Vec<_>>().join(" ")
            }
            Err(e) => format!("error: {e}"),
        };
        match (got == expected, excepted(query)) {
            (false, false) => {
                failures.push(format!("{query}\n  expected {expected}\n  got      {got}"))
            }
            (true, true) => passed_exceptions.push(query.to_string()),
            _ => {}
        }
    }
    assert_eq!(cases, 159, "operator cases");
    report("operator cases", failures, passed_exceptions);
}

#[test]
fn functions_that_are_not_the_standards_are_errors_unless_declared() {
    for filter in ["avg(windSpeed) < 4", "Foo(\"geometry\") = TRUE"] {
        let error = parse_filter(layer(), filter, None).unwrap_err();
        assert!(error.message.contains("not supported"), "{error}");
        assert!(parse(filter, "cql2-text").is_ok(), "{filter}");
    }
}

//! The load report as a data manager reads it, on the second test dataset: CSV files in
//! other encodings (found out and noted, or declared), the worksheet of a workbook named
//! on every line about it, and repeated problems grouped into one line with their count,
//! first rows and what to do.

use std::path::{Path, PathBuf};

use dtmap::config::Config;
use dtmap::data::{LoadReport, Severity};
use dtmap::model::Snapshot;

use crate::loading::other_with_locations;

pub(crate) fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/other")
}

pub(crate) fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_dir().join(name)).unwrap()
}

/// The Arabic name given to each location: "camp N" and its state.
pub(crate) fn arabic_name(row: usize, adm1: &str) -> String {
    let state = match adm1 {
        "NG001" => "كانو",
        "NG002" => "بورنو",
        _ => "لاغوس",
    };
    format!("مخيم النازحين رقم {row} في ولاية {state}")
}

/// The fixture's locations with a `loc_name_ar` column of Arabic names, and a Latin name
/// with an accent on the first location.
pub(crate) fn locations_with_arabic_names() -> String {
    let mut out = String::new();
    for (i, line) in fixture("locations.csv").lines().enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let arabic = if i == 0 {
            "loc_name_ar".to_string()
        } else {
            arabic_name(i, cells[3])
        };
        // The Cyrillic names give way to Latin ones: Windows-1256 has no Cyrillic.
        let mut cells: Vec<String> = cells.iter().map(|c| c.to_string()).collect();
        if i > 0 {
            let last = cells.len() - 1;
            cells[last] = format!("Tabir {i}");
        }
        let line = cells
            .join(",")
            .replacen("Camp 1 Kano", "Camp 1 Kano (Côte)", 1);
        out.push_str(&format!("{line},{arabic}\n"));
    }
    out
}

/// Loads a copy of the second dataset whose locations file holds `bytes`, with the
/// config changed by `edit`.
fn load_with(bytes: &[u8], edit: impl Fn(String) -> String) -> (Snapshot, LoadReport) {
    let copy = other_with_locations("");
    std::fs::write(copy.path().join("locations.csv"), bytes).unwrap();
    let config = edit(fixture("dtmap.toml"));
    std::fs::write(copy.path().join("dtmap.toml"), config).unwrap();
    let config = Config::from_file(&copy.path().join("dtmap.toml")).unwrap();
    dtmap::data::load(&config)
}

/// Every location's Arabic and Latin name as loaded.
fn names(snapshot: &Snapshot) -> Vec<(String, String, String)> {
    let layer = snapshot.layer("locations").unwrap();
    layer
        .features
        .iter()
        .map(|f| {
            let text = |k: &str| {
                let value = f.properties.get(k).and_then(|v| v.as_str());
                value.unwrap_or_default().to_string()
            };
            (f.id.to_string(), text("loc_name"), text("loc_name_ar"))
        })
        .collect()
}

fn expected_names() -> Vec<(String, String, String)> {
    locations_with_arabic_names()
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (
                cells[0].into(),
                cells[1].into(),
                cells[cells.len() - 1].into(),
            )
        })
        .collect()
}

fn notes(report: &LoadReport) -> Vec<String> {
    report
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Note)
        .map(|p| p.to_string())
        .collect()
}

#[test]
fn a_windows_1256_table_is_guessed_read_right_and_noted() {
    let text = locations_with_arabic_names();
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1256.encode(&text);
    assert!(!unmappable, "every character has a windows-1256 byte");
    assert!(std::str::from_utf8(&bytes).is_err(), "not UTF-8 any more");
    let (snapshot, report) = load_with(&bytes, |c| c);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.warning_count(), 0, "no knock-on warnings:\n{report}");
    assert_eq!(names(&snapshot), expected_names());
    assert_eq!(
        notes(&report),
        [
            "note: locations.csv: read as windows-1256 (a guess from its bytes, as it is not \
          UTF-8); if names look wrong, declare the file's encoding in the config, e.g. \
          encoding = \"windows-1256\""
        ]
    );
}

#[test]
fn a_utf16_table_with_a_byte_order_mark_is_read_right_and_noted() {
    let text = locations_with_arabic_names();
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let (snapshot, report) = load_with(&bytes, |c| c);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.warning_count(), 0, "{report}");
    assert_eq!(names(&snapshot), expected_names());
    let notes = notes(&report);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with(
            "note: locations.csv: read as UTF-16LE (it starts with a byte order mark that says so)"
        ),
        "{notes:?}"
    );
}

#[test]
fn a_declared_encoding_is_honoured_even_when_wrong() {
    let text = locations_with_arabic_names();
    let declare = |c: String| {
        c.replacen(
            "source = { path = \"locations.csv\", lon = \"x\", lat = \"y\" }",
            "source = { path = \"locations.csv\", lon = \"x\", lat = \"y\", encoding = \"windows-1252\" }",
            1,
        )
    };
    assert_ne!(declare(fixture("dtmap.toml")), fixture("dtmap.toml"));
    let (snapshot, report) = load_with(text.as_bytes(), declare);
    assert!(report.is_ok(), "{report}");
    assert!(
        notes(&report).is_empty(),
        "a declared encoding is not noted"
    );
    // UTF-8 bytes read as windows-1252: what the data manager asked for.
    let misread = |s: &str| {
        encoding_rs::WINDOWS_1252
            .decode(s.as_bytes())
            .0
            .into_owned()
    };
    let expected: Vec<(String, String, String)> = expected_names()
        .into_iter()
        .map(|(id, latin, arabic)| (id, misread(&latin), misread(&arabic)))
        .collect();
    assert_eq!(names(&snapshot), expected);
    assert_eq!(names(&snapshot)[0].1, "Camp 1 Kano (CÃ´te)");
}

#[test]
fn an_unknown_encoding_is_a_config_error_naming_the_setting() {
    let source = fixture("dtmap.toml").replacen(
        "lon = \"x\", lat = \"y\" }",
        "lon = \"x\", lat = \"y\", encoding = \"arabic-ish\" }",
        1,
    );
    let err = Config::from_toml_str(
        &source,
        "test.toml",
        dtmap::config::DataRoot::Dir(fixture_dir()),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("layer \"locations\": source.encoding = \"arabic-ish\" is not an encoding"),
        "{err}"
    );
    let table = fixture("dtmap.toml").replacen(
        "path = \"location_counts.csv\"\n",
        "path = \"location_counts.csv\"\nencoding = \"utf-9\"\n",
        1,
    );
    let err = Config::from_toml_str(
        &table,
        "test.toml",
        dtmap::config::DataRoot::Dir(fixture_dir()),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("encoding of the count table \"location_counts.csv\" = \"utf-9\""),
        "{err}"
    );
}

/// Writes rows of text (numbers where they parse) as a worksheet named `name`.
pub(crate) fn write_sheet(
    workbook: &mut rust_xlsxwriter::Workbook,
    name: &str,
    rows: &[Vec<&str>],
) {
    let sheet = workbook.add_worksheet();
    sheet.set_name(name).unwrap();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            if cell.is_empty() {
                continue;
            }
            match cell.parse::<f64>() {
                Ok(n) if r > 0 => sheet.write_number(r, c, n).map(|_| ()),
                _ => sheet.write_string(r, c, *cell).map(|_| ()),
            }
            .unwrap();
        }
    }
}

fn csv_rows(text: &str) -> Vec<Vec<&str>> {
    text.lines().map(|l| l.split(',').collect()).collect()
}

#[test]
fn every_line_about_a_workbook_names_its_sheet_and_an_unknown_sheet_lists_the_sheets() {
    let copy = other_with_locations(&fixture("locations.csv"));
    let dir = copy.path();
    // The sites in a workbook, on its first sheet (not named in the config), with a
    // repeated id on row 4 and latitudes in words on rows 5 and 6.
    let locations = fixture("locations.csv")
        .replacen("NG001L03,", "NG001L01,", 1)
        .replacen(",11.49707,", ",twelve,", 1)
        .replacen(",11.28617,", ",twelve,", 1);
    let mut sites = rust_xlsxwriter::Workbook::new();
    write_sheet(&mut sites, "Sites 2024", &csv_rows(&locations));
    write_sheet(&mut sites, "Notes", &[vec!["nothing here"]]);
    sites.save(dir.join("sites.xlsx")).unwrap();
    // The counts on a named sheet that is not the first, with words for two figures.
    let counts = fixture("location_counts.csv")
        .replacen(",2444,", ",n/a,", 1)
        .replacen(",1617,", ",about 1600,", 1);
    let mut master = rust_xlsxwriter::Workbook::new();
    write_sheet(&mut master, "Notes", &[vec!["read me"]]);
    write_sheet(&mut master, "Round 12", &csv_rows(&counts));
    master.save(dir.join("master.xlsx")).unwrap();
    let config = fixture("dtmap.toml")
        .replacen("path = \"locations.csv\"", "path = \"sites.xlsx\"", 1)
        .replacen(
            "path = \"location_counts.csv\"\n",
            "path = \"master.xlsx\"\nsheet = \"Round 12\"\n",
            1,
        );
    std::fs::write(dir.join("dtmap.toml"), &config).unwrap();
    let (_, report) = dtmap::data::load(&Config::from_file(&dir.join("dtmap.toml")).unwrap());
    let text = report.to_string();
    for expected in [
        "error: sites.xlsx, sheet \"Sites 2024\", row 4, column \"loc_pcode\": id \"NG001L01\" \
         is already used by row 2. A layer's source needs one row per location",
        "error: sites.xlsx, sheet \"Sites 2024\", column \"y\": 2 rows have a coordinate that \
         is not a number (rows 5, 6)",
        "error: master.xlsx, sheet \"Round 12\", column \"persons\": 2 rows have a figure that \
         is not a number (rows 2, 3)",
        // NG001L03 was renamed, NG001L04 and L05 could not be placed: their nine rows.
        "warning: master.xlsx, sheet \"Round 12\", column \"loc_pcode\": 9 rows have a code \
         that no site or area has; they are left out (rows 8, 9, 10, 11, 12, …)",
        "warning: master.xlsx, sheet \"Round 12\": round 1: 1 site has no figures: NG001L01",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // Each row is still in the detailed report.
    let rows: Vec<(Option<&str>, Option<usize>, &str)> = report
        .problems
        .iter()
        .filter(|p| p.file == "master.xlsx")
        .map(|p| (p.sheet.as_deref(), p.row, p.reason.as_str()))
        .collect();
    assert!(
        rows.contains(&(Some("Round 12"), Some(2), "not a number: \"n/a\"")),
        "{rows:?}"
    );
    assert!(rows.contains(&(Some("Round 12"), Some(3), "not a number: \"about 1600\"")));

    let wrong = config.replacen("sheet = \"Round 12\"", "sheet = \"Round 13\"", 1);
    std::fs::write(dir.join("dtmap.toml"), wrong).unwrap();
    let (_, report) = dtmap::data::load(&Config::from_file(&dir.join("dtmap.toml")).unwrap());
    assert!(
        report.to_string().contains(
            "error: master.xlsx: there is no sheet \"Round 13\" in the workbook; its sheets \
             are \"Notes\", \"Round 12\""
        ),
        "{report}"
    );
}

#[test]
fn a_long_format_master_list_as_a_source_is_one_grouped_line_with_the_hint() {
    // One row per location and round, as a master list comes: the source repeats each id.
    let locations = fixture("locations.csv");
    let mut long = String::from(locations.lines().next().unwrap());
    long.push('\n');
    for line in locations.lines().skip(1) {
        for _ in 0..3 {
            long.push_str(line);
            long.push('\n');
        }
    }
    let (snapshot, report) = load_with(long.as_bytes(), |c| c);
    assert_eq!(snapshot.layer("locations").unwrap().features.len(), 24);
    let lines = report.lines();
    let repeated: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("repeat an id"))
        .collect();
    assert_eq!(
        repeated,
        [
            &"error: locations.csv, column \"loc_pcode\": 48 rows repeat an id that an earlier \
           row already used (rows 3, 4, 6, 7, 9, …). A layer's source needs one row per \
           location; a long-format master list (one row per location and round) belongs in \
           [[layer.counts]] instead, with a source that lists each location once"
                .to_string()
        ]
    );
    assert_eq!(report.error_count(), 48, "each row is kept in the details");
    assert_eq!(lines.len(), 1, "{lines:#?}");
}

#[test]
fn rows_of_a_count_table_that_match_nothing_or_lack_a_code_are_grouped_in_plain_words() {
    let counts = fixture("location_counts.csv")
        .replace("NG003L0", "NG009L0")
        .replacen("NG001L02,", ",", 3);
    let copy = other_with_locations(&fixture("locations.csv"));
    std::fs::write(copy.path().join("location_counts.csv"), counts).unwrap();
    let config = Config::from_file(&copy.path().join("dtmap.toml")).unwrap();
    let (_, report) = dtmap::data::load(&config);
    let text = report.to_string();
    for expected in [
        "warning: location_counts.csv, column \"loc_pcode\": 24 rows have a code that no site \
         or area has; they are left out (rows 50, 51, 52, 53, 54, …)",
        "error: location_counts.csv, column \"loc_pcode\": 3 rows have no code, so they name no \
         site or area (rows 5, 6, 7)",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(!text.contains("joined"), "{text}");
    assert!(!text.contains("feature"), "{text}");
}

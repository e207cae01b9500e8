//! Loading and joining: the load report on a fixture with one of each kind of bad row, the
//! `check` and `serve` commands on it, and another country's data in other formats
//! (FlatGeobuf, CSV points, an XLSX count table) loaded by configuration alone.

use std::path::Path;
use std::process::Command;

use dtmap::config::Config;
use dtmap::data::{LoadReport, Severity};
use flatgeobuf::{ColumnType, FgbWriter, GeometryType};
use geozero::{ColumnValue, PropertyProcessor};

use crate::common::*;

fn bad_fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad/dtmap.toml")
}

fn find<'a>(
    report: &'a LoadReport,
    severity: Severity,
    file: &str,
    row: Option<usize>,
    field: Option<&str>,
) -> &'a str {
    report
        .problems
        .iter()
        .find(|p| {
            p.severity == severity && p.file == file && p.row == row && p.field.as_deref() == field
        })
        .map(|p| p.reason.as_str())
        .unwrap_or_else(|| {
            panic!("no {severity:?} for {file} row {row:?} field {field:?} in:\n{report}")
        })
}

#[test]
fn the_load_report_names_file_row_and_field_of_every_bad_row() {
    let config = Config::from_file(&bad_fixture()).unwrap();
    let (snapshot, report) = dtmap::data::load(&config);
    use Severity::{Error, Warning};
    let geo = "areas.geojson";
    let csv = "counts.csv";
    assert!(find(&report, Warning, geo, Some(3), None).contains("outline of \"A3\" is not valid"));
    assert!(find(&report, Error, geo, Some(4), Some("geometry")).contains("outside"));
    assert!(find(&report, Error, geo, Some(5), Some("code"))
        .contains("id \"A1\" is already used by row 1"));
    assert!(find(&report, Error, geo, Some(6), Some("code")).contains("has no id"));
    assert!(find(&report, Error, geo, Some(7), Some("geometry")).contains("not closed"));
    assert!(find(&report, Error, csv, Some(3), Some("individuals")).contains("not a number"));
    assert!(find(&report, Warning, csv, Some(4), Some("code"))
        .contains("no place has the code \"ZZ\"; the row is left out"));
    assert!(find(&report, Error, csv, Some(5), Some("code"))
        .contains("\"A1\" already has figures for round \"R1\""));
    assert!(find(&report, Error, csv, Some(6), Some("code")).contains("the code is empty"));
    assert!(find(&report, Error, csv, Some(7), Some("round")).contains("the round is empty"));
    assert!(find(&report, Error, csv, Some(8), Some("families")).contains("negative"));
    let without_counts: Vec<&str> = report
        .problems
        .iter()
        .filter(|p| p.reason.contains("no figures"))
        .map(|p| p.reason.as_str())
        .collect();
    assert_eq!(
        without_counts,
        [
            "round R1: 1 place has no figures: A2",
            "round R2: 2 places have no figures: A1, A2"
        ]
    );
    assert_eq!(report.error_count(), 9, "{report}");
    assert_eq!(report.warning_count(), 4, "{report}");

    // What was good is still loaded: A1, A2, A3, with "1,200" read as 1200.
    let layer = snapshot.layer("areas").unwrap();
    let ids: Vec<&str> = layer.features.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["A1", "A2", "A3"]);
    let r1 = layer.round_position("R1").unwrap();
    let a3 = layer.position("A3").unwrap();
    assert_eq!(
        layer.count(r1, a3).unwrap().values().collect::<Vec<_>>(),
        [Some(1200), Some(7200)]
    );
    assert_eq!(
        layer
            .count(r1, layer.position("A1").unwrap())
            .unwrap()
            .values()
            .collect::<Vec<_>>(),
        [Some(10), Some(60)]
    );
}

#[test]
fn skip_bad_rows_turns_row_errors_into_warnings() {
    let text = std::fs::read_to_string(bad_fixture())
        .unwrap()
        .replace("columns = [", "skip_bad_rows = true\ncolumns = [");
    let dir = bad_fixture().parent().unwrap().to_path_buf();
    let (_, report) = load_toml(&text, &dir);
    let csv_errors = report
        .problems
        .iter()
        .filter(|p| p.file == "counts.csv" && p.severity == Severity::Error)
        .count();
    assert_eq!(csv_errors, 0, "{report}");
}

/// Sites left out for their id (none, or one already used) in the middle of a table: every
/// site after them keeps its own properties and figures, and the report names the rows.
#[test]
fn sites_after_rows_left_out_for_their_id_keep_their_own_properties() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sites.csv"),
        "ref,nom,lat,lon\nK1,Kayes,14.4,-11.4\n,sans code,14.0,-11.0\nK1,Kayes bis,14.5,-11.5\n\
         K2,Mopti,14.5,-4.2\n,,13.0,-5.0\nK3,Gao,16.3,-0.04\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("counts.csv"),
        "ref,periode,menages\nK1,2024,10\nK2,2024,20\nK3,2024,30\n",
    )
    .unwrap();
    let toml = r#"
[[layer]]
id = "sites"
source = { path = "sites.csv", lon = "lon", lat = "lat" }
id_field = "ref"
name_field = "nom"
[[layer.counts]]
path = "counts.csv"
key = "ref"
round = "periode"
columns = ["menages"]
"#;
    let (snapshot, report) = load_toml(toml, dir.path());
    assert!(find(&report, Severity::Error, "sites.csv", Some(3), Some("ref")).contains("no id"));
    assert!(
        find(&report, Severity::Error, "sites.csv", Some(4), Some("ref"))
            .contains("id \"K1\" is already used by row 2")
    );
    assert!(find(&report, Severity::Error, "sites.csv", Some(6), Some("ref")).contains("no id"));
    let layer = snapshot.layer("sites").unwrap();
    let round = layer.round_position("2024").unwrap();
    let sites: Vec<(String, String, Option<i64>)> = layer
        .features
        .iter()
        .enumerate()
        .map(|(position, f)| {
            let name = f.properties.get("nom").and_then(|v| v.as_str()).unwrap();
            let figure = layer.count(round, position as u32).unwrap().value(0);
            (f.id.to_string(), name.to_string(), figure)
        })
        .collect();
    assert_eq!(
        sites,
        [
            ("K1".into(), "Kayes".into(), Some(10)),
            ("K2".into(), "Mopti".into(), Some(20)),
            ("K3".into(), "Gao".into(), Some(30)),
        ]
    );
    // Looked up by id, each is at its place among the features kept.
    for (position, id) in ["K1", "K2", "K3"].into_iter().enumerate() {
        assert_eq!(layer.position(id), Some(position as u32), "{id}");
    }
    assert_eq!(layer.position("K4"), None);
}

#[test]
fn check_prints_the_report_and_fails_on_errors() {
    let output = Command::new(env!("CARGO_BIN_EXE_dtmap"))
        .arg("check")
        .arg(bad_fixture())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("error: counts.csv, row 3, column \"individuals\": not a number: \"abc\""),
        "{stdout}"
    );
    assert!(stdout.contains("9 error(s), 4 warning(s)"), "{stdout}");
}

#[test]
fn check_passes_on_the_built_in_data() {
    let output = Command::new(env!("CARGO_BIN_EXE_dtmap"))
        .arg("check")
        .env_remove("DTMAP_CONFIG")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("0 error(s)"), "{stdout}");
    assert!(
        stdout.contains("layer sites: 169 sites, 12 rounds"),
        "{stdout}"
    );
}

#[test]
fn serve_refuses_to_start_on_data_errors() {
    let output = Command::new(env!("CARGO_BIN_EXE_dtmap"))
        .args(["--bind", "127.0.0.1:0", "--config"])
        .arg(bad_fixture())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("refusing to serve: 9 error(s)"), "{stderr}");
}

#[test]
fn help_describes_the_commands() {
    let output = Command::new(env!("CARGO_BIN_EXE_dtmap"))
        .arg("--help")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success());
    for word in ["serve", "check", "--config", "--bind", "--public-url"] {
        assert!(stdout.contains(word), "{word} missing from:\n{stdout}");
    }
}

#[test]
fn a_config_with_an_unknown_key_is_refused_with_its_name() {
    let err = Config::from_toml_str(
        "[[layer]]\nid = \"x\"\nsource = { path = \"x.geojson\" }\nid_field = \"id\"\ncolour = 1\n",
        "test.toml",
        dtmap::config::DataRoot::Builtin,
    )
    .unwrap_err();
    assert!(err.to_string().contains("colour"), "{err}");
}

/// Writes another country's data, in formats other than the built-in ones, and its config.
fn write_other_country(dir: &Path) {
    let mut fgb = FgbWriter::create("districts", GeometryType::Polygon).unwrap();
    fgb.add_column("code", ColumnType::String, |_, _| {});
    fgb.add_column("name", ColumnType::String, |_, _| {});
    fgb.add_column("area", ColumnType::Double, |_, _| {});
    let squares = [("D1", "North", 0.0), ("D2", "South", -1.0)];
    for (code, name, y) in squares {
        let polygon: geo::Geometry<f64> = geo::Geometry::Polygon(geo::Polygon::new(
            geo::LineString::from(vec![
                (10.0, y),
                (11.0, y),
                (11.0, y + 1.0),
                (10.0, y + 1.0),
                (10.0, y),
            ]),
            vec![],
        ));
        fgb.add_feature_geom(polygon, |feature| {
            feature
                .property(0, "code", &ColumnValue::String(code))
                .unwrap();
            feature
                .property(1, "name", &ColumnValue::String(name))
                .unwrap();
            feature
                .property(2, "area", &ColumnValue::Double(12.5))
                .unwrap();
        })
        .unwrap();
    }
    let mut file = std::fs::File::create(dir.join("districts.fgb")).unwrap();
    fgb.write(&mut file).unwrap();

    std::fs::write(
        dir.join("camps.csv"),
        "Camp ID,Camp name,Latitude,Longitude\nC-1,Camp One,0.5,10.5\nC-2,Camp Two,-0.5,10.2\n",
    )
    .unwrap();

    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Master list").unwrap();
    let rows: [(&str, &str, f64, f64); 4] = [
        ("C-1", "Round 1", 100.0, 520.0),
        ("C-2", "Round 1", 40.0, 210.0),
        ("C-1", "Round 2", 90.0, 470.0),
        ("C-2", "Round 2", 55.0, 300.0),
    ];
    for (col, header) in ["Camp ID", "Round", "HH", "Ind"].iter().enumerate() {
        sheet.write_string(0, col as u16, *header).unwrap();
    }
    for (i, (id, round, hh, ind)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, *id).unwrap();
        sheet.write_string(r, 1, *round).unwrap();
        sheet.write_number(r, 2, *hh).unwrap();
        sheet.write_number(r, 3, *ind).unwrap();
    }
    workbook.save(dir.join("master.xlsx")).unwrap();

    std::fs::write(
        dir.join("dtmap.toml"),
        r#"
title = "Another country"
[[layer]]
id = "districts"
source = { path = "districts.fgb" }
id_field = "code"
name_field = "name"

[[layer]]
id = "camps"
source = { path = "camps.csv", lat = "Latitude", lon = "Longitude" }
id_field = "Camp ID"

[[layer.counts]]
path = "master.xlsx"
sheet = "Master list"
key = "Camp ID"
round = "Round"
columns = [{ name = "idp_families", column = "HH" }, { name = "idp_individuals", column = "Ind" }]
synthetic = true
source = "test fixture"
"#,
    )
    .unwrap();
}

#[tokio::test]
async fn another_country_loads_from_flatgeobuf_csv_and_xlsx_by_configuration_alone() {
    let dir = tempfile::tempdir().unwrap();
    write_other_country(dir.path());
    let config = Config::from_file(&dir.path().join("dtmap.toml")).unwrap();
    let (snapshot, report) = dtmap::data::load(&config);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.warning_count(), 0, "{report}");
    let state = dtmap::api::AppState::new(snapshot, settings(None));

    let districts = get_json(
        &state,
        "/collections/districts/items?bbox=10.2,0.2,10.4,0.4",
    )
    .await;
    assert_eq!(ids(&districts), ["D1"]);
    assert_eq!(districts["features"][0]["properties"]["area"], 12.5);

    let camps = get_json(&state, "/collections/camps/items?round=Round%201").await;
    assert_eq!(camps["round"], "Round 1");
    assert_eq!(ids(&camps), ["C-1", "C-2"]);
    assert_eq!(camps["features"][0]["properties"]["idp_families"], 100);
    assert_eq!(camps["features"][0]["properties"]["Camp name"], "Camp One");
    assert_eq!(camps["features"][0]["properties"]["synthetic"], true);
    assert_eq!(camps["features"][0]["geometry"]["coordinates"][0], 10.5);
    let latest = get_json(&state, "/collections/camps/items/C-2").await;
    assert_eq!(latest["properties"]["idp_individuals"], 300);
}

/// The second test dataset (its states have no count table: their figures are rolled up
/// from the locations), optionally without the locations' grouping.
fn other_without_state_counts(
    keep_grouping: bool,
) -> (dtmap::model::Snapshot, dtmap::data::LoadReport) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/other");
    let text = std::fs::read_to_string(dir.join("dtmap.toml")).unwrap();
    assert!(
        !text.contains("ADM1_PCODE\"\nround"),
        "the states have no count table"
    );
    let text = if keep_grouping {
        text
    } else {
        let without = text.replace("group_by = \"adm1\"\ngroup_layer = \"states\"\n", "");
        assert_ne!(without, text, "the grouping was taken out");
        without
    };
    load_toml(&text, &dir)
}

#[test]
fn an_area_layer_without_counts_gets_the_sums_of_its_sites_flagged_as_computed() {
    for keep_grouping in [true, false] {
        let (snapshot, report) = other_without_state_counts(keep_grouping);
        assert!(report.is_ok(), "{report}");
        let states = snapshot.layer("states").unwrap();
        let sites = snapshot.layer("locations").unwrap();
        assert_eq!(states.count_columns, sites.count_columns);
        assert_eq!(states.rounds, sites.rounds);
        assert!(
            states.has_synthetic(),
            "the sites' figures are synthetic, so the sums are"
        );
        // Independently: sum the location rows of the CSV by their adm1 code.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/other");
        let state_of: std::collections::HashMap<String, String> =
            std::fs::read_to_string(dir.join("locations.csv"))
                .unwrap()
                .lines()
                .skip(1)
                .map(|l| {
                    let cells: Vec<&str> = l.split(',').collect();
                    (cells[0].to_string(), cells[3].to_string())
                })
                .collect();
        let mut expected: std::collections::BTreeMap<(String, String), i64> = Default::default();
        for line in std::fs::read_to_string(dir.join("location_counts.csv"))
            .unwrap()
            .lines()
            .skip(1)
        {
            let cells: Vec<&str> = line.split(',').collect();
            *expected
                .entry((state_of[cells[0]].clone(), cells[1].to_string()))
                .or_default() += cells[3].parse::<i64>().unwrap();
        }
        let persons = states.count_column("persons").unwrap();
        for ((state, period), sum) in &expected {
            let round = states.round_position(period).unwrap();
            let record = states
                .count(round, states.position(state).unwrap())
                .unwrap();
            assert_eq!(
                record.value(persons),
                Some(*sum),
                "{state} in round {period}"
            );
            assert!(record.synthetic());
            let how = if keep_grouping {
                "by their adm1 code"
            } else {
                "by position"
            };
            assert!(
                record.source().map(|s| &**s).unwrap().contains(how),
                "{:?}",
                record.source()
            );
        }
        assert_eq!(expected.len(), 3 * 3, "three states, three rounds");
    }
}

/// A copy of the second test dataset whose locations table is `locations`.
pub(crate) fn other_with_locations(locations: &str) -> tempfile::TempDir {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/other");
    let copy = tempfile::tempdir().unwrap();
    for file in [
        "states.geojson",
        "location_counts.csv",
        "strings_ha.json",
        "strings_uk.json",
        "dtmap.toml",
    ] {
        std::fs::copy(dir.join(file), copy.path().join(file)).unwrap();
    }
    std::fs::write(copy.path().join("locations.csv"), locations).unwrap();
    copy
}

#[test]
fn config_mistakes_are_errors_that_name_the_setting_and_what_was_meant() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/other");
    let text = std::fs::read_to_string(dir.join("dtmap.toml")).unwrap();
    // A mistyped name field, an unknown group layer, and a dashboard with a mistyped
    // main count.
    let messy = text
        .replacen("name_field = \"ADM1_EN\"", "name_field = \"ADM1_NE\"", 1)
        .replacen("group_layer = \"states\"", "group_layer = \"stats\"", 1)
        .replacen("main_count = \"persons\"", "main_count = \"person\"", 1);
    let (_, report) = load_toml(&messy, &dir);
    let text = report.to_string();
    assert!(!report.is_ok());
    assert!(
        text.contains(
            "name_field = \"ADM1_NE\": no area has this property; did you mean \"ADM1_EN\"?"
        ),
        "{text}"
    );
    assert!(
        text.contains("group_layer = \"stats\": there is no such layer; did you mean \"states\"?"),
        "{text}"
    );
    assert!(text.contains("main_count = \"person\": layer states has no such count column; did you mean \"persons\"?"), "{text}");

    // group_by holding the states' names instead of their ids.
    let sites = std::fs::read_to_string(dir.join("locations.csv")).unwrap();
    let by_name = sites
        .replace(",NG001,", ",Kano Test,")
        .replace(",NG002,", ",Borno Test,")
        .replace(",NG003,", ",Lagos Test,");
    let copy = other_with_locations(&by_name);
    let config = Config::from_file(&copy.path().join("dtmap.toml")).unwrap();
    let (_, report) = dtmap::data::load(&config);
    let text = report.to_string();
    assert!(!report.is_ok());
    assert!(
        text.contains(
            "24 of 24 sites have a adm1 that is a name of an area of layer states, not its id"
        ),
        "{text}"
    );
}

#[test]
fn suspicious_site_coordinates_are_grouped_warnings_that_name_the_first_sites() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/other");
    // Rewrite the positions of five Kano (NG001) locations.
    let moved = [
        ("NG001L01", "0,0"), // an empty position read as zero
        ("NG001L02", "0,0"),
        ("NG001L03", "12.0,8.0"), // (8.0, 12.0) is in Kano: latitude and longitude swapped
        ("NG001L04", "20.0,20.0"), // in no state at all
        ("NG001L05", "3.5,6.7"),  // in Lagos (NG003), though its code says NG001
    ];
    let sites: String = std::fs::read_to_string(dir.join("locations.csv"))
        .unwrap()
        .lines()
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            match moved.iter().find(|(id, _)| *id == cells[0]) {
                Some((_, position)) => format!("{},{position}\n", cells[..4].join(",")),
                None => format!("{line}\n"),
            }
        })
        .collect();
    let copy = other_with_locations(&sites);
    let config = Config::from_file(&copy.path().join("dtmap.toml")).unwrap();
    let (_, report) = dtmap::data::load(&config);
    assert!(report.is_ok(), "warnings only: {report}");
    let text = report.to_string();
    for expected in [
        "2 of 24 sites are at 0,0, which usually means an empty latitude and longitude: NG001L01, NG001L02",
        "1 of 24 sites lie outside every area of layer states, but would not with latitude and longitude swapped: NG001L03",
        "1 of 24 sites lie outside every area of layer states: NG001L04",
        "1 of 24 sites lie in another area of layer states than their adm1 code names: NG001L05",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert_eq!(report.problems.len(), 4, "one line per kind:\n{text}");
}

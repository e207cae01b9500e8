//! What loading does with sites whose coordinates look wrong (`coordinates.action`: warn,
//! snap, reject) on the second test dataset, and `dtmap check` on a deliberately messy
//! master list and site table, asserting each grouped, plain line a data manager reads.

use std::process::Command;

use dtmap::config::Config;
use dtmap::data::LoadReport;
use dtmap::model::Snapshot;
use geo::Point;

use crate::load_report::{arabic_name, fixture, write_sheet};
use crate::loading::other_with_locations;

/// The fixture's locations with some positions (`x,y`) rewritten.
fn moved(positions: &[(&str, &str)]) -> String {
    fixture("locations.csv")
        .lines()
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            match positions.iter().find(|(id, _)| *id == cells[0]) {
                Some((_, position)) => format!("{},{position}\n", cells[..4].join(",")),
                None => format!("{line}\n"),
            }
        })
        .collect()
}

/// Loads the second dataset with `locations` and the locations layer's `coordinates`.
fn load(locations: &str, coordinates: Option<&str>) -> (Snapshot, LoadReport) {
    let copy = other_with_locations(locations);
    let mut config = fixture("dtmap.toml");
    if let Some(setting) = coordinates {
        let with = config.replacen(
            "group_layer = \"states\"\n",
            &format!("group_layer = \"states\"\ncoordinates = {setting}\n"),
            1,
        );
        assert_ne!(with, config);
        config = with;
    }
    std::fs::write(copy.path().join("dtmap.toml"), config).unwrap();
    dtmap::data::load(&Config::from_file(&copy.path().join("dtmap.toml")).unwrap())
}

fn position(snapshot: &Snapshot, id: &str) -> Point<f64> {
    let layer = snapshot.layer("locations").unwrap();
    match *layer.features[layer.position(id).unwrap() as usize].geometry() {
        geo::Geometry::Point(p) => p,
        ref other => panic!("{id} is {other:?}"),
    }
}

fn state_of(snapshot: &Snapshot, p: Point<f64>) -> Option<String> {
    let states = snapshot.layer("states").unwrap();
    states
        .feature_at(p)
        .map(|i| states.features[i].id.to_string())
}

// Kano (NG001) is the box 7.5..9.5 east, 11.0..12.6 north. NG001L04 is put 0.03° east of
// its east edge (3.3 km at 11.8° N), NG001L06 0.2° west of its west edge (21.8 km).
const NEAR: (&str, &str) = ("NG001L04", "9.53,11.8");
const FAR: (&str, &str) = ("NG001L06", "7.3,11.4");

#[test]
fn warn_leaves_every_site_where_it_is() {
    let (snapshot, report) = load(&moved(&[NEAR, FAR]), Some("{ action = \"warn\" }"));
    assert!(report.is_ok(), "{report}");
    assert_eq!(position(&snapshot, "NG001L04"), Point::new(9.53, 11.8));
    assert_eq!(position(&snapshot, "NG001L06"), Point::new(7.3, 11.4));
    assert!(
        report
            .to_string()
            .contains("2 of 24 sites lie outside every area of layer states: NG001L04, NG001L06"),
        "{report}"
    );
}

#[test]
fn snap_moves_a_site_within_the_tolerance_into_the_nearest_area_and_warns_about_the_rest() {
    let (snapshot, report) = load(
        &moved(&[NEAR, FAR]),
        Some("{ action = \"snap\", snap_km = 5 }"),
    );
    assert!(report.is_ok(), "{report}");
    // Moved to the nearest point of Kano: its east edge at the same latitude, just inside.
    let near = position(&snapshot, "NG001L04");
    assert!(near.x() < 9.5 && near.x() > 9.5 - 1e-4, "{near:?}");
    assert!((near.y() - 11.8).abs() < 1e-9, "{near:?}");
    assert_eq!(state_of(&snapshot, near).as_deref(), Some("NG001"));
    // Beyond 5 km: left where it was, and warned about.
    assert_eq!(position(&snapshot, "NG001L06"), Point::new(7.3, 11.4));
    let text = report.to_string();
    for expected in [
        "warning: layer locations: 1 of 24 sites lay outside every area of layer states but \
         within 5 km of one, and were moved to its nearest point (coordinates.action = \
         \"snap\"): NG001L04 (3.3 km)",
        "1 of 24 sites lie outside every area of layer states: NG001L06",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // The rest did not move.
    assert_eq!(
        position(&snapshot, "NG001L01"),
        Point::new(8.62852, 11.70044)
    );

    // A wider tolerance takes the far one too, to Kano's west edge.
    let (snapshot, report) = load(
        &moved(&[NEAR, FAR]),
        Some("{ action = \"snap\", snap_km = 25 }"),
    );
    let far = position(&snapshot, "NG001L06");
    assert!(far.x() > 7.5 && far.x() < 7.5 + 1e-4, "{far:?}");
    assert_eq!(state_of(&snapshot, far).as_deref(), Some("NG001"));
    assert!(
        report
            .to_string()
            .contains("2 of 24 sites lay outside every area"),
        "{report}"
    );
}

#[test]
fn reject_leaves_out_sites_at_zero_swapped_or_outside_and_lists_them() {
    let locations = moved(&[
        ("NG001L01", "0,0"),
        ("NG001L02", "0,0"),
        ("NG001L03", "12.0,8.0"),  // (8.0, 12.0) is in Kano: swapped
        ("NG001L04", "20.0,20.0"), // in no state at all
        ("NG001L05", "3.5,6.7"),   // in Lagos though its code says Kano: kept, warned
    ]);
    let (snapshot, report) = load(&locations, Some("{ action = \"reject\" }"));
    assert!(report.is_ok(), "{report}");
    let layer = snapshot.layer("locations").unwrap();
    let mut expected: Vec<String> = fixture("locations.csv")
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .filter(|id| !["NG001L01", "NG001L02", "NG001L03", "NG001L04"].contains(&id.as_str()))
        .collect();
    expected.sort();
    let mut ids: Vec<String> = layer.features.iter().map(|f| f.id.to_string()).collect();
    ids.sort();
    assert_eq!(ids, expected);
    assert_eq!(position(&snapshot, "NG001L05"), Point::new(3.5, 6.7));
    let text = report.to_string();
    for expected in [
        "2 of 24 sites are at 0,0, and were left out (coordinates.action = \"reject\"): \
         NG001L01, NG001L02",
        "1 of 24 sites have latitude and longitude swapped (they lie outside every area of \
         layer states), and were left out (coordinates.action = \"reject\"): NG001L03",
        "1 of 24 sites lie outside every area of layer states, and were left out \
         (coordinates.action = \"reject\"): NG001L04",
        "1 of 20 sites lie in another area of layer states than their adm1 code names: NG001L05",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // The count rows of the sites left out are not reported again as matching nothing.
    assert!(!text.contains("no site"), "{text}");
    assert_eq!(report.problems.len(), 4, "{text}");
}

#[test]
fn check_on_a_messy_master_list_prints_one_plain_line_per_kind_of_problem() {
    let copy = other_with_locations("");
    let dir = copy.path();
    // Sites in windows-1256 with Arabic names: two ids repeated, one site at 0,0, one with
    // latitude and longitude swapped, one in no state, one in a state its code does not name.
    let mut sites = String::from("loc_pcode,loc_name,loc_name_ha,adm1,x,y,loc_name_ar\n");
    for (i, line) in fixture("locations.csv").lines().skip(1).enumerate() {
        let c: Vec<&str> = line.split(',').collect();
        let (x, y) = match c[0] {
            "NG001L01" => ("0", "0"),
            "NG001L02" => ("12.0", "8.0"),
            "NG001L03" => ("20.0", "20.0"),
            "NG001L04" => ("3.5", "6.7"),
            _ => (c[4], c[5]),
        };
        let row = format!(
            "{},{x},{y},{}\n",
            c[..4].join(","),
            arabic_name(i + 1, c[3])
        );
        sites.push_str(&row);
        if c[0] == "NG002L01" || c[0] == "NG002L02" {
            sites.push_str(&row);
        }
    }
    let (bytes, _, _) = encoding_rs::WINDOWS_1256.encode(&sites);
    std::fs::write(dir.join("locations.csv"), &bytes).unwrap();
    // The master list on a sheet named "Round 12": codes missing on two rows, figures in
    // words on three.
    let mut rows: Vec<Vec<String>> = fixture("location_counts.csv")
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    for row in [10, 11] {
        rows[row - 1][0] = String::new();
    }
    for row in [20, 21, 22] {
        rows[row - 1][3] = "unknown".into();
    }
    let rows: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    let mut master = rust_xlsxwriter::Workbook::new();
    write_sheet(&mut master, "Round 12", &rows);
    master.save(dir.join("master.xlsx")).unwrap();
    let config = fixture("dtmap.toml").replacen(
        "path = \"location_counts.csv\"",
        "path = \"master.xlsx\"",
        1,
    );
    std::fs::write(dir.join("dtmap.toml"), config).unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_dtmap"))
        .arg("check")
        .arg(dir.join("dtmap.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(!output.status.success(), "{stdout}");
    for expected in [
        "note: locations.csv: read as windows-1256 (a guess from its bytes, as it is not UTF-8)",
        "error: locations.csv, column \"loc_pcode\": 2 rows repeat an id that an earlier row \
         already used (rows 11, 13). A layer's source needs one row per location; a \
         long-format master list (one row per location and round) belongs in [[layer.counts]] \
         instead",
        "error: master.xlsx, sheet \"Round 12\", column \"loc_pcode\": 2 rows have no code, so \
         they name no site or area (rows 10, 11)",
        "error: master.xlsx, sheet \"Round 12\", column \"persons\": 3 rows have a figure that \
         is not a number (rows 20, 21, 22)",
        "warning: layer locations: 1 of 24 sites are at 0,0, which usually means an empty \
         latitude and longitude: NG001L01",
        "warning: layer locations: 1 of 24 sites lie outside every area of layer states, but \
         would not with latitude and longitude swapped: NG001L02",
        "warning: layer locations: 1 of 24 sites lie outside every area of layer states: \
         NG001L03",
        "warning: layer locations: 1 of 24 sites lie in another area of layer states than their \
         adm1 code names: NG001L04",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in\n{stdout}"
        );
    }
    let problem_lines = stdout
        .lines()
        .filter(|l| l.starts_with("error:") || l.starts_with("warning:") || l.starts_with("note:"))
        .count();
    assert!(
        problem_lines <= 12,
        "grouped, not one line per row:\n{stdout}"
    );
    assert!(
        stdout.contains("layer locations: 24 sites, 3 rounds"),
        "the names were read, the sites loaded:\n{stdout}"
    );
    for jargon in ["feature has", "row not joined", "geometry"] {
        assert!(!stdout.contains(jargon), "{jargon:?} in\n{stdout}");
    }
}

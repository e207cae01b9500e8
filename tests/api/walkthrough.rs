//! The README's "your own data" walk-through, as written: the config block between its
//! `walkthrough:config` markers is loaded over a master list and boundaries made here in
//! its shape (one sheet per round, one row per location), and the answers the map and the
//! dashboard need are checked against the rows.

use dtmap::api::AppState;
use dtmap::config::Config;

use crate::common::{get_json, settings};
use crate::load_report::write_sheet;

/// The README's walk-through config.
fn readme_config() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("<!-- walkthrough:config -->")
        .expect("the start marker");
    let end = readme
        .find("<!-- /walkthrough:config -->")
        .expect("the end marker");
    let block = &readme[start..end];
    let body = &block[block.find("```toml\n").unwrap() + 8..];
    body[..body.find("```").unwrap()].to_string()
}

/// (id, name, Arabic name, state, lat, lon, families per round 12 and 13).
type Location = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    f64,
    f64,
    [i64; 2],
);

const LOCATIONS: [Location; 5] = [
    (
        "L001",
        "Camp One",
        "المخيم الأول",
        "NG001",
        11.7,
        8.6,
        [120, 100],
    ),
    (
        "L002",
        "Camp Two",
        "المخيم الثاني",
        "NG001",
        12.0,
        9.1,
        [80, 95],
    ),
    (
        "L003",
        "Host Town",
        "البلدة المضيفة",
        "NG002",
        12.2,
        13.0,
        [300, 280],
    ),
    (
        "L004",
        "Riverside",
        "ضفة النهر",
        "NG002",
        11.0,
        12.1,
        [45, 60],
    ),
    (
        "L005",
        "Coast Site",
        "موقع الساحل",
        "NG003",
        6.6,
        3.4,
        [10, 12],
    ),
];

#[tokio::test]
async fn the_readme_walkthrough_loads_and_serves_a_master_list() {
    let dir = tempfile::tempdir().unwrap();
    // The boundaries, with OCHA's field names (from the second test dataset's states).
    let states: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/other/states.geojson"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut states = states;
    for feature in states["features"].as_array_mut().unwrap() {
        let p = feature["properties"].as_object_mut().unwrap();
        let arabic = format!("ولاية {}", p["ADM1_PCODE"].as_str().unwrap());
        p.insert("ADM1_AR".into(), arabic.into());
    }
    std::fs::write(dir.path().join("admin1.geojson"), states.to_string()).unwrap();
    // The master list: one sheet per round.
    let mut workbook = rust_xlsxwriter::Workbook::new();
    for (r, sheet) in ["Round 12", "Round 13"].iter().enumerate() {
        let header = [
            "Location ID",
            "Location name",
            "Location name (Arabic)",
            "State pcode",
            "Latitude",
            "Longitude",
            "IDP Families",
            "IDP Individuals",
        ];
        let rows: Vec<Vec<String>> = std::iter::once(header.map(String::from).to_vec())
            .chain(LOCATIONS.iter().map(|l| {
                vec![
                    l.0.into(),
                    l.1.into(),
                    l.2.into(),
                    l.3.into(),
                    l.4.to_string(),
                    l.5.to_string(),
                    l.6[r].to_string(),
                    (l.6[r] * 5).to_string(),
                ]
            }))
            .collect();
        let rows: Vec<Vec<&str>> = rows
            .iter()
            .map(|r| r.iter().map(String::as_str).collect())
            .collect();
        write_sheet(&mut workbook, sheet, &rows);
    }
    workbook.save(dir.path().join("master_list.xlsx")).unwrap();
    std::fs::write(dir.path().join("dtmap.toml"), readme_config()).unwrap();

    let config = Config::from_file(&dir.path().join("dtmap.toml")).unwrap();
    let (snapshot, report) = dtmap::data::load(&config);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.warning_count(), 0, "{report}");
    let state = AppState::new(snapshot, settings(None));

    let states = get_json(&state, "/collections/states").await;
    assert_eq!(states["mainCount"], "individuals");
    assert_eq!(states["adminWords"]["ar"], "الولايات");
    let rounds: Vec<&str> = states["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(rounds, ["12", "13"]);
    // Each state's figure is the sum of its locations, marked computed from published.
    for (r, round) in ["12", "13"].iter().enumerate() {
        let items = get_json(
            &state,
            &format!("/collections/states/items?round={round}&limit=10"),
        )
        .await;
        for feature in items["features"].as_array().unwrap() {
            let id = feature["id"].as_str().unwrap();
            let expected: i64 = LOCATIONS
                .iter()
                .filter(|l| l.3 == id)
                .map(|l| l.6[r] * 5)
                .sum();
            assert_eq!(
                feature["properties"]["individuals"], expected,
                "{id} {round}"
            );
            assert_eq!(
                feature["properties"]["provenance"], "computed_from_published",
                "{id}"
            );
        }
    }
    let location = get_json(&state, "/collections/locations/items/L003").await;
    assert_eq!(
        location["properties"]["Location name (Arabic)"],
        "البلدة المضيفة"
    );
    assert_eq!(location["properties"]["families"], 280);
    let ranking = get_json(&state, "/dashboard/ranking?round=13").await;
    assert_eq!(ranking["ranking"][0]["id"], "NG002");
    assert_eq!(ranking["ranking"][0]["names"]["ar"], "ولاية NG002");
    let summary = get_json(&state, "/dashboard/summary").await;
    assert_eq!(summary["round"], "13");
    let individuals: i64 = LOCATIONS.iter().map(|l| l.6[1] * 5).sum();
    assert_eq!(summary["figures"][0]["value"], individuals);
}

#[test]
fn a_count_table_names_its_round_one_way() {
    let config = readme_config();
    let both = config.replacen(
        "round_id = \"12\"",
        "round_id = \"12\"\nround = \"Round\"",
        1,
    );
    let error = Config::from_toml_str(&both, "inline", dtmap::config::DataRoot::Builtin)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("gives both round (a column) and round_id"),
        "{error}"
    );
    let neither = config.replacen("round_id = \"12\"\n", "", 1);
    let error = Config::from_toml_str(&neither, "inline", dtmap::config::DataRoot::Builtin)
        .unwrap_err()
        .to_string();
    assert!(error.contains("needs round (the column"), "{error}");
}

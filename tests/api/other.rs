//! The API on the second dataset (tests/fixtures/other: OCHA-style fields, three languages
//! including one in Cyrillic script, counts on the locations only, numeric rounds): the
//! languages the clients offer, the dashboard over rolled-up figures, and the checks of the
//! `[[language]]` settings.

use std::sync::Arc;

use dtmap::api::AppState;
use dtmap::config::Config;
use serde_json::Value;

use crate::common::{get, get_json, load_toml, settings};
use crate::load_report::fixture_dir;

fn other_state() -> Arc<AppState> {
    let config = Config::from_file(&fixture_dir().join("dtmap.toml")).unwrap();
    let (snapshot, report) = dtmap::data::load(&config);
    assert!(report.is_ok(), "{report}");
    AppState::new(snapshot, settings(None))
}

/// Location id → state code.
type StateOf = std::collections::HashMap<String, String>;
/// (location id, period, persons) rows.
type PersonRows = Vec<(String, String, i64)>;

/// The fixture's CSV files, read without dtmap.
fn fixture_rows() -> (StateOf, PersonRows) {
    let dir = fixture_dir();
    let state_of = std::fs::read_to_string(dir.join("locations.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0].to_string(), cells[3].to_string())
        })
        .collect();
    let rows = std::fs::read_to_string(dir.join("location_counts.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (
                cells[0].to_string(),
                cells[1].to_string(),
                cells[3].parse().unwrap(),
            )
        })
        .collect();
    (state_of, rows)
}

/// The bootstrap JSON of a page.
fn bootstrap(html: &str) -> Value {
    let start = html
        .find("id=\"dtmap-bootstrap\"")
        .expect("a bootstrap element");
    let body = &html[start..];
    let json = &body[body.find('>').unwrap() + 1..body.find("</script>").unwrap()];
    serde_json::from_str(json).expect("the bootstrap is JSON")
}

#[tokio::test]
async fn the_languages_of_the_config_reach_the_collections_and_every_page() {
    let state = other_state();
    let collections = get_json(&state, "/collections").await;
    let languages = &collections["languages"];
    let codes: Vec<&str> = languages
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["en", "ha", "uk"]);
    assert_eq!(languages[2]["name"], "Українська");
    assert_eq!(languages[2]["dir"], "ltr");
    assert_eq!(languages[2]["strings"]["search"], "Пошук");
    assert_eq!(languages[1]["strings"]["round"], "Zagaye");
    let states = get_json(&state, "/collections/states").await;
    assert_eq!(states["names"]["uk"], "ADM1_UK");
    assert_eq!(states["adminWords"]["ha"], "jihohi");
    assert_eq!(states["countLabels"]["persons"]["uk"], "Особи");
    for page in ["/?f=html", "/embed", "/dashboard"] {
        let reply = get(&state, page).await;
        let html = String::from_utf8(reply.body).unwrap();
        let boot = bootstrap(&html);
        assert_eq!(&boot["languages"], languages, "{page}");
        assert_eq!(boot["title"], "Test country (synthetic test data)");
        // The map pages come with the collections' metadata, as /collections gives it.
        if page != "/dashboard" {
            assert_eq!(boot["collections"], collections["collections"], "{page}");
        }
    }
}

#[tokio::test]
async fn the_built_in_map_offers_english_arabic_and_kurdish_right_to_left() {
    let state = crate::common::iraq_state();
    let collections = get_json(&state, "/collections").await;
    let languages = collections["languages"].as_array().unwrap();
    let summary: Vec<(&str, &str)> = languages
        .iter()
        .map(|l| (l["code"].as_str().unwrap(), l["dir"].as_str().unwrap()))
        .collect();
    assert_eq!(summary, [("en", "ltr"), ("ar", "rtl"), ("ckb", "rtl")]);
    assert_eq!(languages[2]["fallback"], "ar");
    assert_eq!(languages[2]["locale"], "ar-IQ");
    let governorates = get_json(&state, "/collections/governorates").await;
    assert_eq!(governorates["adminWord"]["ckb"], "پارێزگا");
    assert_eq!(
        governorates["countLabels"]["idp_individuals"]["ar"],
        "الأفراد النازحون"
    );
}

#[tokio::test]
async fn the_dashboard_works_on_rolled_up_figures_with_the_datas_own_names() {
    let state = other_state();
    let (state_of, rows) = fixture_rows();
    let trend = get_json(&state, "/dashboard/trend").await;
    assert_eq!(trend["areasLayer"], "states");
    assert_eq!(trend["sitesLayer"], "locations");
    assert_eq!(trend["mainCount"], "persons");
    let periods: Vec<&str> = trend["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["round"].as_str().unwrap())
        .collect();
    assert_eq!(periods, ["1", "2", "3"]);
    for point in trend["trend"].as_array().unwrap() {
        let period = point["round"].as_str().unwrap();
        let expected: i64 = rows
            .iter()
            .filter(|(_, p, _)| p == period)
            .map(|r| r.2)
            .sum();
        assert_eq!(point["national"], expected, "round {period}");
        assert_eq!(point["synthetic"], true);
    }

    let ranking = get_json(&state, "/dashboard/ranking?round=3").await;
    let ranked = ranking["ranking"].as_array().unwrap();
    assert_eq!(ranked.len(), 3);
    for row in ranked {
        let id = row["id"].as_str().unwrap();
        let expected: i64 = rows
            .iter()
            .filter(|(loc, p, _)| p == "3" && state_of[loc] == id)
            .map(|r| r.2)
            .sum();
        assert_eq!(row["value"], expected, "{id}");
        let uk = row["names"]["uk"].as_str().unwrap();
        assert!(uk.ends_with("(тест)"), "{uk}");
        assert!(row["names"]["ha"].as_str().unwrap().ends_with("Gwaji"));
    }
    let values: Vec<i64> = ranked
        .iter()
        .map(|r| r["value"].as_i64().unwrap())
        .collect();
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "largest first");

    let summary = get_json(&state, "/dashboard/summary?round=3&area=NG002").await;
    let figure = |metric: &str| {
        summary["figures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["metric"] == metric)
            .cloned()
            .unwrap_or_else(|| panic!("no {metric} in {summary}"))
    };
    let persons = figure("persons");
    let expected: i64 = rows
        .iter()
        .filter(|(loc, p, _)| p == "3" && state_of[loc] == "NG002")
        .map(|r| r.2)
        .sum();
    assert_eq!(persons["value"], expected);
    assert_eq!(persons["synthetic"], true);
    assert_eq!(figure("sites")["value"], 8, "eight locations in NG002");
    assert_eq!(figure("states_affected")["value"], 1);

    let origins = get_json(&state, "/dashboard/origins").await;
    assert_eq!(
        origins["origins"],
        serde_json::json!([]),
        "no origin figures"
    );
}

#[tokio::test]
async fn totals_by_group_carry_the_group_names_in_every_language() {
    let state = other_state();
    let totals = get_json(
        &state,
        "/collections/locations/totals?geometry=POLYGON((0%200,20%200,20%2020,0%2020,0%200))&round=3",
    )
    .await;
    let groups = totals["byGroup"]["groups"]
        .as_array()
        .unwrap_or_else(|| panic!("{totals}"));
    assert_eq!(groups.len(), 3);
    for group in groups {
        assert!(group["names"]["uk"].as_str().unwrap().contains("(тест)"));
        assert_eq!(
            group["name"].as_str().unwrap().replace(" Test", ""),
            group["names"]["ha"]
                .as_str()
                .unwrap()
                .replace(" Gwaji", "")
                .replace("Legas", "Lagos")
        );
    }
}

fn load_with(text: &str, files: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture_dir()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    let (_, report) = load_toml(text, dir.path());
    report.to_string()
}

#[test]
fn language_settings_are_checked_and_name_what_is_wrong() {
    let text = std::fs::read_to_string(fixture_dir().join("dtmap.toml")).unwrap();
    let messy = text
        .replacen("code = \"ha\"", "code = \"hausa_NG\"", 1)
        .replacen(
            "name = \"Українська\"",
            "name = \"Українська\"\nfallback = \"ux\"\ndir = \"down\"",
            1,
        )
        .replacen("strings_uk.json", "broken.json", 1)
        + "\n[[language]]\ncode = \"en\"\n";
    let report = load_with(&messy, &[("broken.json", "{\"search\": 3, ")]);
    for expected in [
        "code = \"hausa_NG\" is not a language code",
        "fallback = \"ux\" is not another language of this config; did you mean \"uk\"?",
        "dir = \"down\" must be \"ltr\" or \"rtl\"",
        "broken.json: is not valid JSON",
        "this language is listed twice",
        "has names, words or labels in ha but no [[language]] offers it",
    ] {
        assert!(report.contains(expected), "{expected:?} not in\n{report}");
    }
}

#[test]
fn without_language_settings_the_languages_are_english_and_those_of_the_names() {
    let text = std::fs::read_to_string(fixture_dir().join("dtmap.toml")).unwrap();
    let start = text.find("[[language]]").unwrap();
    let end = text.find("[[layer]]").unwrap();
    let without = format!("{}{}", &text[..start], &text[end..]);
    let (snapshot, report) = load_toml(&without, &fixture_dir());
    assert!(report.is_ok(), "{report}");
    let codes: Vec<&str> = snapshot.languages.iter().map(|l| l.code.as_str()).collect();
    assert_eq!(codes, ["en", "ha", "uk"]);
    assert!(snapshot.languages.iter().all(|l| l.dir == "ltr"));
}

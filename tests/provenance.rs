//! One provenance per figure, everywhere: for every round of the built-in data, each
//! governorate's figure says the same provenance in its item, its series, the ranking, the
//! CSV download and its vector tile; the national totals say the same in the collection
//! metadata, the dashboard summary and the trend; figures equal the published table
//! wherever it has one; area totals over each governorate equal its figure; and a change
//! is only real between two real figures.

use std::collections::HashMap;

use serde_json::Value;

mod tiles_support;
use tiles_support::{app, decode, get};

async fn json(uri: &str) -> Value {
    let answer = get(&app(), uri).await;
    assert_eq!(answer.status, 200, "{uri}");
    answer.json()
}

/// The published table, read without dtmap: (date, scope, area, metric) → value.
fn published() -> HashMap<(String, String, String, String), i64> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/geodata/iraq/published_dtm_figures.csv"
    );
    let mut reader = csv::Reader::from_path(path).unwrap();
    reader
        .deserialize::<HashMap<String, String>>()
        .map(Result::unwrap)
        .map(|row| {
            (
                (
                    row["as_of"].clone(),
                    row["scope"].clone(),
                    row["governorate"].clone(),
                    row["metric"].clone(),
                ),
                row["value"].parse().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_surface_gives_the_same_figure_the_same_provenance_in_every_round() {
    let table = published();
    let collection = json("/collections/governorates").await;
    let rounds = collection["rounds"].as_array().unwrap().clone();
    assert_eq!(rounds.len(), 12);
    let items = json("/collections/governorates/items?limit=100").await;
    let names: HashMap<String, String> = items["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["properties"]["name_en"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let dtm_name = |id: &str| -> &'static str {
        // The spelling of the published table, for the p-codes it names.
        match id {
            "IQG01" => "Anbar",
            "IQG08" => "Baghdad",
            "IQG09" => "Dahuk",
            "IQG11" => "Erbil",
            "IQG13" => "Kirkuk",
            "IQG15" => "Ninewa",
            "IQG06" => "Sulaymaniyah",
            _ => "",
        }
    };
    let mut series: HashMap<String, Value> = HashMap::new();
    for id in names.keys() {
        series.insert(
            id.clone(),
            json(&format!("/collections/governorates/items/{id}/rounds")).await,
        );
    }
    let mut published_seen = 0;
    for (r, round) in rounds.iter().enumerate() {
        let round_id = round["id"].as_str().unwrap();
        let date = round["date"].as_str().unwrap();
        // National totals: collection metadata, dashboard summary and trend agree, and
        // equal the published table where it has the figure.
        let summary = json(&format!("/dashboard/summary?round={round_id}")).await;
        let trend = json("/dashboard/trend").await;
        for metric in ["idp_individuals", "idp_families"] {
            let meta = &round["totals"][metric];
            let headline = summary["figures"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["metric"] == metric)
                .unwrap();
            assert_eq!(headline["value"], meta["value"], "{round_id} {metric}");
            assert_eq!(
                headline["provenance"], meta["provenance"],
                "{round_id} {metric}"
            );
            let key = (
                date.to_string(),
                "national".to_string(),
                String::new(),
                metric.to_string(),
            );
            if let Some(value) = table.get(&key) {
                assert_eq!(meta["value"], *value, "{round_id} {metric} as published");
                assert_eq!(meta["provenance"], "published", "{round_id} {metric}");
                assert!(meta["sources"][0].as_str().unwrap().starts_with("http"));
                published_seen += 1;
            } else {
                assert_ne!(meta["provenance"], "published", "{round_id} {metric}");
            }
            if metric == "idp_individuals" {
                let point = &trend["trend"][r];
                assert_eq!(point["national"], meta["value"]);
                assert_eq!(point["national_provenance"], meta["provenance"]);
            }
        }
        // Every governorate: item, series, ranking, CSV and tile agree.
        let items = json(&format!(
            "/collections/governorates/items?round={round_id}&limit=100"
        ))
        .await;
        let ranking = json(&format!("/dashboard/ranking?round={round_id}")).await;
        let csv_answer = get(&app(), &format!("/datasets/governorates/{round_id}.csv")).await;
        let mut reader = csv::Reader::from_reader(&csv_answer.body[3..]);
        let csv_rows: HashMap<String, HashMap<String, String>> = reader
            .deserialize::<HashMap<String, String>>()
            .map(Result::unwrap)
            .map(|row| (row["id"].clone(), row))
            .collect();
        let tile = get(
            &app(),
            &format!("/tiles/governorates/0/0/0?round={round_id}"),
        )
        .await;
        let decoded = decode(&tile.body);
        for feature in items["features"].as_array().unwrap() {
            let id = feature["id"].as_str().unwrap();
            let p = &feature["properties"];
            let provenance = p["provenance"].as_str().unwrap();
            let value = p["idp_individuals"].as_i64().unwrap();
            let from_series = &series[id]["rounds"][r];
            assert_eq!(from_series["provenance"], provenance, "{id} {round_id}");
            let ranked = ranking["ranking"]
                .as_array()
                .unwrap()
                .iter()
                .find(|row| row["id"] == id)
                .unwrap();
            assert_eq!(ranked["provenance"], provenance, "{id} {round_id}");
            assert_eq!(csv_rows[id]["provenance"], provenance, "{id} {round_id}");
            let in_tile = decoded["governorates"]
                .iter()
                .find(|f| f.text("id") == Some(id))
                .unwrap();
            assert_eq!(in_tile.text("provenance"), Some(provenance), "{id} tile");
            // As published where the table has the governorate's figure; illustrative
            // otherwise.
            let key = (
                date.to_string(),
                "governorate_of_displacement".to_string(),
                dtm_name(id).to_string(),
                "idp_individuals".to_string(),
            );
            match table.get(&key) {
                Some(published) => {
                    assert_eq!(value, *published, "{id} {round_id}");
                    assert_eq!(provenance, "published", "{id} {round_id}");
                    published_seen += 1;
                }
                None => assert_eq!(provenance, "illustrative", "{id} {round_id}"),
            }
            // The sites inside the governorate add up to its figure, and say so.
            let totals = json(&format!(
                "/collections/sites/totals?area=governorates/{id}&round={round_id}"
            ))
            .await;
            assert_eq!(
                totals["totals"]["idp_individuals"], value,
                "{id} {round_id}"
            );
            let expected = if provenance == "published" {
                "published"
            } else {
                "computed_from_illustrative"
            };
            assert_eq!(totals["provenance"], expected, "{id} {round_id}");
        }
    }
    assert!(
        published_seen >= 30,
        "{published_seen} published figures checked"
    );
}

#[tokio::test]
async fn a_change_involving_an_illustrative_figure_is_never_presented_as_real() {
    let collection = json("/collections/governorates").await;
    for round in collection["rounds"].as_array().unwrap().iter().skip(1) {
        let id = round["id"].as_str().unwrap();
        let summary = json(&format!("/dashboard/summary?round={id}")).await;
        for figure in summary["figures"].as_array().unwrap() {
            let (Some(now), Some(before)) = (
                figure["provenance"].as_str(),
                figure["previous_provenance"].as_str(),
            ) else {
                continue;
            };
            let change = figure["change_provenance"].as_str().unwrap();
            let real = now == "published" && before == "published";
            assert_eq!(
                change == "computed_from_published",
                real || (!now.contains("illustrative") && !before.contains("illustrative")),
                "{id} {}: {now} vs {before} gives {change}",
                figure["metric"]
            );
            if now.contains("illustrative") || before.contains("illustrative") {
                assert_eq!(change, "computed_from_illustrative");
            }
        }
    }
    // Ninewa between November 2017 (published) and December 2018 (illustrative).
    let summary = json("/dashboard/summary?round=2018-12-31&area=IQG15").await;
    let individuals = &summary["figures"][0];
    assert_eq!(individuals["previous_provenance"], "published");
    assert_eq!(individuals["provenance"], "illustrative");
    assert_eq!(
        individuals["change_provenance"],
        "computed_from_illustrative"
    );
}

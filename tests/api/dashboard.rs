//! The dashboard's data endpoints and the dataset downloads: figures checked against sums
//! computed independently from the count tables themselves, published figures against the
//! published table, and downloads read back (CSV, XLSX, GeoJSON) with every row and the
//! Arabic names intact.

use std::collections::BTreeMap;
use std::path::Path;

use axum::http::StatusCode;
use calamine::Reader;
use serde_json::Value;

use crate::common::*;

fn geodata(file: &str) -> csv::Reader<std::fs::File> {
    csv::Reader::from_path(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("geodata/iraq")
            .join(file),
    )
    .unwrap()
}

/// (round -> (individuals, families, governorates with individuals > 0)) from the CSV.
fn governorate_sums() -> BTreeMap<String, (i64, i64, i64)> {
    let mut sums = BTreeMap::new();
    for row in geodata("governorate_counts.csv").deserialize::<BTreeMap<String, String>>() {
        let row = row.unwrap();
        let entry = sums.entry(row["round"].clone()).or_insert((0, 0, 0));
        let individuals: i64 = row["idp_individuals"].parse().unwrap();
        entry.0 += individuals;
        entry.1 += row["idp_families"].parse::<i64>().unwrap();
        entry.2 += i64::from(individuals > 0);
    }
    sums
}

fn figure(summary: &Value, metric: &str) -> Value {
    summary["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["metric"] == metric)
        .unwrap_or_else(|| panic!("no {metric} in {summary}"))
        .clone()
}

#[tokio::test]
async fn headline_figures_equal_independent_sums_for_every_round() {
    let state = iraq_state();
    let sums = governorate_sums();
    let mut sites_with_idps: BTreeMap<String, i64> = BTreeMap::new();
    for row in geodata("site_counts.csv").deserialize::<BTreeMap<String, String>>() {
        let row = row.unwrap();
        let n = sites_with_idps.entry(row["round"].clone()).or_default();
        *n += i64::from(row["idp_individuals"].parse::<i64>().unwrap() > 0);
    }
    assert_eq!(sums.len(), 12);
    let mut previous: Option<i64> = None;
    for (round, (individuals, families, affected)) in &sums {
        let summary = get_json(&state, &format!("/dashboard/summary?round={round}")).await;
        let idps = figure(&summary, "idp_individuals");
        assert_eq!(idps["value"], *individuals, "{round}");
        assert_eq!(
            figure(&summary, "idp_families")["value"],
            *families,
            "{round}"
        );
        assert_eq!(
            figure(&summary, "governorates_affected")["value"],
            *affected
        );
        assert_eq!(figure(&summary, "sites")["value"], sites_with_idps[round]);
        assert_eq!(
            idps["change"],
            previous.map_or(Value::Null, |p| Value::from(individuals - p))
        );
        // Every round's national total is a published figure, so it carries its source.
        assert_eq!(idps["synthetic"], false, "{round}");
        assert!(idps["sources"][0].as_str().unwrap().starts_with("https://"));
        previous = Some(*individuals);
    }
}

#[tokio::test]
async fn a_governorate_summary_carries_its_published_figure_and_source() {
    let state = iraq_state();
    let summary = get_json(&state, "/dashboard/summary?round=2015-11-05&area=IQG09").await;
    let idps = figure(&summary, "idp_individuals");
    assert_eq!(idps["value"], 418152);
    assert_eq!(idps["synthetic"], false);
    let synthetic = get_json(&state, "/dashboard/summary?round=2015-11-05&area=IQG02").await;
    assert_eq!(figure(&synthetic, "idp_individuals")["synthetic"], true);
    let reply = get(&state, "/dashboard/summary?area=IQG99").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_ranking_orders_governorates_and_their_shares_make_the_whole() {
    let state = iraq_state();
    let sums = governorate_sums();
    for round in sums.keys() {
        let ranking = get_json(&state, &format!("/dashboard/ranking?round={round}")).await;
        let rows = ranking["ranking"].as_array().unwrap();
        assert_eq!(rows.len(), 18);
        let values: Vec<i64> = rows.iter().map(|r| r["value"].as_i64().unwrap()).collect();
        assert!(values.windows(2).all(|w| w[0] >= w[1]));
        assert_eq!(values.iter().sum::<i64>(), sums[round].0);
        let shares: f64 = rows.iter().map(|r| r["share"].as_f64().unwrap()).sum();
        assert!((shares - 1.0).abs() < 1e-9);
    }
}

#[tokio::test]
async fn the_trend_follows_the_published_national_totals() {
    let state = iraq_state();
    let trend = get_json(&state, "/dashboard/trend?area=IQG15").await;
    let points = trend["trend"].as_array().unwrap();
    assert_eq!(points.len(), 12);
    let mut national: BTreeMap<String, i64> = BTreeMap::new();
    for row in geodata("published_dtm_figures.csv").deserialize::<BTreeMap<String, String>>() {
        let row = row.unwrap();
        if row["scope"] == "national" && row["metric"] == "idp_individuals" {
            national.insert(row["as_of"].clone(), row["value"].parse().unwrap());
        }
    }
    for point in points {
        let date = point["date"].as_str().unwrap();
        assert_eq!(point["national"], national[date], "{date}");
        assert!(point["area"].as_i64().unwrap() > 0);
    }
}

#[tokio::test]
async fn published_figures_come_back_exactly_as_published() {
    let state = iraq_state();
    let published = get_json(&state, "/published").await;
    let figures = published["figures"].as_array().unwrap();
    let rows: Vec<BTreeMap<String, String>> = geodata("published_dtm_figures.csv")
        .deserialize()
        .map(Result::unwrap)
        .collect();
    assert_eq!(figures.len(), rows.len());
    for (figure, row) in figures.iter().zip(&rows) {
        for key in [
            "as_of",
            "dtm_round",
            "scope",
            "metric",
            "source_url",
            "notes",
        ] {
            assert_eq!(figure[key], row[key].as_str(), "{key}");
        }
        // The table's `governorate` column is the figure's area.
        assert_eq!(figure["area"], row["governorate"].as_str());
        assert_eq!(figure["value"].to_string(), row["value"]);
        assert!(
            figure["source"].as_str().unwrap().starts_with("https://"),
            "{figure}"
        );
    }
    let origins = get_json(&state, "/dashboard/origins").await;
    assert_eq!(origins["origins"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_dataset_list_gives_stable_urls_with_source_and_licence() {
    let state = iraq_state();
    let list = get_json(&state, "/datasets").await;
    let sites = list["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["layer"] == "sites")
        .unwrap();
    assert!(sites["licence"].as_str().unwrap().contains("CC BY 4.0"));
    assert_eq!(sites["synthetic"], true);
    let rounds = sites["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 13, "latest + 12 rounds");
    assert_eq!(
        rounds[1]["files"]["csv"],
        "http://example.test/datasets/sites/2019%2D10%2D31.csv"
    );
    let page = send(
        &state,
        axum::http::Request::get("/datasets")
            .header("accept", "text/html")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    let html = String::from_utf8(page.body).unwrap();
    assert!(html.contains("/datasets/governorates/2015%2D11%2D05.xlsx"));
}

#[tokio::test]
async fn csv_and_xlsx_downloads_round_trip_with_every_row_and_arabic_names() {
    let state = iraq_state();
    let snapshot = state.current();
    let sites = snapshot.layer("sites").unwrap();
    let names_ar: Vec<String> = sites
        .features
        .iter()
        .map(|f| {
            let name = f.properties.get("name_ar").and_then(|v| v.as_str());
            name.unwrap_or("").to_string()
        })
        .collect();

    let csv_reply = get(&state, "/datasets/sites/2017-08-31.csv").await;
    assert_eq!(csv_reply.status, StatusCode::OK);
    assert_eq!(
        csv_reply.header("content-disposition"),
        Some("attachment; filename=\"dtmap-sites-2017-08-31.csv\"")
    );
    assert!(csv_reply.body.starts_with(b"\xEF\xBB\xBF"));
    let mut reader = csv::Reader::from_reader(&csv_reply.body[3..]);
    let headers = reader.headers().unwrap().clone();
    let name_ar = headers.iter().position(|h| h == "name_ar").unwrap();
    let families = headers.iter().position(|h| h == "idp_families").unwrap();
    let csv_rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(csv_rows.len(), 169);
    let from_csv: Vec<String> = csv_rows.iter().map(|r| r[name_ar].to_string()).collect();
    assert_eq!(from_csv, names_ar);

    let xlsx_reply = get(&state, "/datasets/sites/2017-08-31.xlsx").await;
    assert_eq!(xlsx_reply.status, StatusCode::OK);
    let mut workbook =
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(xlsx_reply.body)).unwrap();
    let range = workbook.worksheet_range("data").unwrap();
    let rows: Vec<_> = range.rows().collect();
    assert_eq!(rows.len(), 170, "header + 169 sites");
    let from_xlsx: Vec<String> = rows[1..].iter().map(|r| r[name_ar].to_string()).collect();
    assert_eq!(from_xlsx, names_ar);
    for (xlsx_row, csv_row) in rows[1..].iter().zip(&csv_rows) {
        let value = match &xlsx_row[families] {
            calamine::Data::Float(f) => *f as i64,
            other => panic!("families should be a number, got {other:?}"),
        };
        assert_eq!(value.to_string(), csv_row[families]);
    }
    // Positions and numeric fields are numbers too, equal to the CSV's.
    for column in ["lon", "lat", "population"] {
        let at = headers.iter().position(|h| h == column).unwrap();
        for (xlsx_row, csv_row) in rows[1..].iter().zip(&csv_rows) {
            match &xlsx_row[at] {
                calamine::Data::Float(f) => {
                    assert_eq!(*f, csv_row[at].parse::<f64>().unwrap(), "{column}")
                }
                other => panic!("{column} should be a number, got {other:?}"),
            }
        }
    }
    let provenance = headers.iter().position(|h| h == "provenance").unwrap();
    assert!(csv_rows.iter().all(|r| &r[provenance] == "illustrative"));
    let about = workbook.worksheet_range("about").unwrap();
    assert!(about.rows().any(|r| r[1].to_string().contains("GeoNames")));
    let about_value = |key: &str| {
        about
            .rows()
            .find(|r| r[0] == key)
            .map(|r| r[1].to_string())
            .unwrap_or_default()
    };
    assert_eq!(about_value("data as of"), "2017-08-31");
    assert!(about_value("disclaimer").contains("do not imply official endorsement"));

    let geojson = get_json(&state, "/datasets/governorates/latest.geojson").await;
    assert_eq!(geojson["features"].as_array().unwrap().len(), 18);
    assert_eq!(geojson["round"], "2019-10-31");
}

#[tokio::test]
async fn unknown_downloads_are_404_with_a_reason() {
    let state = iraq_state();
    for uri in [
        "/datasets/sites/1999-01-01.csv",
        "/datasets/sites/latest.pdf",
        "/datasets/sites/latest",
        "/datasets/nowhere/latest.csv",
    ] {
        let reply = get(&state, uri).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(reply.json()["description"].is_string());
    }
    assert_eq!(
        get(&state, "/datasets/countries/all.csv").await.status,
        StatusCode::OK
    );
}

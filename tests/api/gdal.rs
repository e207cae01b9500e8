//! GDAL's real OGC API – Features client (`ogrinfo`, `ogr2ogr` with the OAPIF driver)
//! against a real dtmap server on a loopback port.

use std::process::Command;

use crate::common::*;

fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .env("GDAL_HTTP_TIMEOUT", "60")
        .output()
        .unwrap_or_else(|e| panic!("{program} is needed for this test (Debian gdal-bin): {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        output.status.success(),
        "{program} {args:?} failed:\n{stdout}\n{stderr}"
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ogrinfo_lists_every_collection_with_its_feature_count() {
    let state = iraq_state();
    let expected: Vec<(String, usize)> = state
        .current()
        .layers
        .iter()
        .map(|l| (l.id.clone(), l.features.len()))
        .collect();
    let server = Server::start(state).await;
    let url = format!("OAPIF:{}/", server.base);
    let out = tokio::task::spawn_blocking(move || run("ogrinfo", &[&url, "-al", "-so", "-ro"]))
        .await
        .unwrap();
    let mut found: Vec<(String, usize)> = Vec::new();
    let mut name = None;
    for line in out.lines() {
        if let Some(n) = line.strip_prefix("Layer name: ") {
            name = Some(n.trim().to_string());
        }
        if let Some(c) = line.strip_prefix("Feature Count: ") {
            found.push((name.take().unwrap(), c.trim().parse().unwrap()));
        }
    }
    assert_eq!(found, expected, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ogr2ogr_with_spat_returns_exactly_the_sites_the_rtree_finds() {
    let state = iraq_state();
    let snapshot = state.current();
    let sites = snapshot.layer("sites").unwrap();
    let bbox = dtmap::query::Bbox::new(43.0, 33.0, 45.0, 35.0).unwrap();
    let mut expected: Vec<String> = dtmap::query::features_in_bbox(sites, &bbox)
        .into_iter()
        .map(|f| sites.features[f as usize].id.to_string())
        .collect();
    expected.sort();
    assert!(expected.len() > 10, "the box should hold a good sample");

    let server = Server::start(state.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("sites.geojson");
    let out = out_path.to_str().unwrap().to_string();
    let url = format!("OAPIF:{}/", server.base);
    tokio::task::spawn_blocking(move || {
        run(
            "ogr2ogr",
            &[
                "-f", "GeoJSON", &out, &url, "sites", "-spat", "43", "33", "45", "35",
            ],
        )
    })
    .await
    .unwrap();
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    let mut got: Vec<String> = written["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["id"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got, expected);
    // GDAL kept the joined counts.
    assert!(written["features"][0]["properties"]["idp_families"].is_i64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ogr2ogr_pushes_a_simple_where_to_the_server_as_a_property_parameter() {
    let state = iraq_state();
    let expected = get_json(
        &state,
        "/collections/sites/items?governorate=IQG15&limit=10000",
    )
    .await;
    let mut expected: Vec<String> = ids(&expected);
    expected.sort();
    assert!(expected.len() > 5, "IQG15 should hold a good sample");

    let server = Server::start(state.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("sites.geojson");
    let out = out_path.to_str().unwrap().to_string();
    let url = format!("OAPIF:{}/", server.base);
    let output = tokio::task::spawn_blocking(move || {
        Command::new("ogr2ogr")
            .args([
                "-f",
                "GeoJSON",
                &out,
                &url,
                "sites",
                "-where",
                "governorate = 'IQG15'",
            ])
            .env("GDAL_HTTP_TIMEOUT", "60")
            .env("CPL_DEBUG", "ON")
            .output()
            .expect("ogr2ogr is needed for this test (Debian gdal-bin)")
    })
    .await
    .unwrap();
    let log = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{log}");
    // GDAL found the parameter in the collection's own items path of /api and sent it:
    // the server did the filtering.
    assert!(
        log.lines().any(|l| l.contains("HTTP: Fetch(")
            && l.contains("/collections/sites/items?")
            && l.contains("governorate=IQG15")),
        "the filter was not sent to the server:\n{log}"
    );
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    let mut got: Vec<String> = written["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["id"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got, expected);
}

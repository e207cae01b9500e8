//! FlatGeobuf out (`f=fgb`, `/datasets/{layer}/{round}.fgb`): every answer read back by
//! GDAL (`ogr2ogr`, `ogrinfo`, Debian gdal-bin) from a file and compared with the GeoJSON
//! answer of the same request, on the built-in data and on the second dataset (OCHA field
//! names, Cyrillic names); and read by the `flatgeobuf` crate, whose bbox read goes
//! through the file's packed R-tree.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dtmap::api::AppState;
use dtmap::config::Config;
use flatgeobuf::{FallibleStreamingIterator, FeatureProperties, FgbReader, GeometryType};
use serde_json::Value;

use crate::common::*;

const FGB: &str = "application/flatgeobuf";

fn other_state() -> Arc<AppState> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/other");
    let config = Config::from_file(&dir.join("dtmap.toml")).unwrap();
    let (snapshot, report) = dtmap::data::load(&config);
    assert!(report.is_ok(), "{report}");
    AppState::new(snapshot, settings(None))
}

/// A FlatGeobuf answer's body, checked to be one.
async fn get_fgb(state: &Arc<AppState>, uri: &str) -> Vec<u8> {
    let reply = get(state, uri).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.header("content-type"), Some(FGB), "{uri}");
    assert!(
        reply.body.starts_with(b"fgb\x03fgb"),
        "{uri}: not FlatGeobuf"
    );
    reply.body
}

/// Runs a GDAL program; its standard output.
fn gdal(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} is needed for this test (Debian gdal-bin): {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{program} {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The bytes as GDAL reads them: its GeoJSON of the file, and its `ogrinfo -so` summary.
fn read_with_gdal(bytes: &[u8]) -> (Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("answer.fgb");
    std::fs::write(&path, bytes).unwrap();
    let path = path.to_str().unwrap();
    let geojson = gdal("ogr2ogr", &["-f", "GeoJSON", "/vsistdout/", path]);
    let summary = gdal("ogrinfo", &["-so", "-al", "-ro", path]);
    (serde_json::from_str(&geojson).unwrap(), summary)
}

/// Every coordinate of a GeoJSON geometry, in order.
fn coordinates(geometry: &Value) -> Vec<f64> {
    fn walk(value: &Value, out: &mut Vec<f64>) {
        match value {
            Value::Number(n) => out.push(n.as_f64().unwrap()),
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&geometry["coordinates"], &mut out);
    out
}

fn same_number(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
        _ => false,
    }
}

/// GDAL's reading of the FlatGeobuf answer has exactly the features of the GeoJSON answer
/// (as a set: FlatGeobuf orders them along its Hilbert curve), each with the same
/// properties (the id as the `id` property) and coordinates. Returns the features by id.
fn assert_same_features(geojson: &Value, from_gdal: &Value) -> BTreeMap<String, Value> {
    let expected = geojson["features"].as_array().unwrap();
    let got = from_gdal["features"].as_array().unwrap();
    assert_eq!(got.len(), expected.len(), "feature count");
    let by_id: BTreeMap<String, Value> = got
        .iter()
        .map(|f| {
            (
                f["properties"]["id"].as_str().unwrap().to_string(),
                f.clone(),
            )
        })
        .collect();
    assert_eq!(by_id.len(), got.len(), "ids are unique");
    for feature in expected {
        let id = feature["id"].as_str().unwrap();
        let read = by_id
            .get(id)
            .unwrap_or_else(|| panic!("{id} missing from the FlatGeobuf"));
        let props = feature["properties"].as_object().unwrap();
        let read_props = read["properties"].as_object().unwrap();
        for (name, value) in props {
            let read_value = read_props.get(name).unwrap_or(&Value::Null);
            let same = match value {
                Value::Number(_) => same_number(value, read_value),
                _ => value == read_value,
            };
            assert!(
                same,
                "{id}.{name}: GeoJSON {value}, FlatGeobuf {read_value}"
            );
        }
        for name in read_props.keys() {
            assert!(
                name == "id" || props.contains_key(name),
                "{id}: {name} is not in the GeoJSON"
            );
        }
        let (a, b) = (
            coordinates(&feature["geometry"]),
            coordinates(&read["geometry"]),
        );
        assert_eq!(a.len(), b.len(), "{id}: coordinates");
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-9, "{id}: {x} vs {y}");
        }
    }
    by_id
}

/// The field lines of `ogrinfo -so` (`name: Type (w.p)`, `NOT NULL` after) as name → type.
fn field_types(summary: &str) -> BTreeMap<String, String> {
    summary
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(": ")?;
            let (kind, width) = rest.split_once(" (")?;
            width.split_once(')')?;
            Some((name.trim().to_string(), kind.to_string()))
        })
        .collect()
}

/// Fetches `uri` as GeoJSON and as FlatGeobuf, reads the FlatGeobuf with GDAL and checks
/// they hold the same features; returns the GeoJSON and GDAL's summary.
async fn compare(state: &Arc<AppState>, uri: &str) -> (Value, String) {
    let separator = if uri.contains('?') { '&' } else { '?' };
    let geojson = get_json(state, uri).await;
    let bytes = get_fgb(state, &format!("{uri}{separator}f=fgb")).await;
    let (from_gdal, summary) = read_with_gdal(&bytes);
    assert_same_features(&geojson, &from_gdal);
    (geojson, summary)
}

#[tokio::test]
async fn sites_and_governorates_as_flatgeobuf_read_back_by_gdal_equal_the_geojson() {
    let state = iraq_state();
    let (sites, summary) = compare(
        &state,
        "/collections/sites/items?limit=10000&round=2017-08-31",
    )
    .await;
    assert_eq!(sites["features"].as_array().unwrap().len(), 169);
    assert!(summary.contains("Geometry: Point"), "{summary}");
    assert!(summary.contains("Feature Count: 169"), "{summary}");
    assert!(summary.contains("ID[\"EPSG\",4326]"), "{summary}");
    let types = field_types(&summary);
    assert_eq!(types["id"], "String");
    assert_eq!(types["name_ar"], "String");
    assert_eq!(types["idp_families"], "Integer64");
    assert_eq!(types["idp_individuals"], "Integer64");
    assert_eq!(types["synthetic"], "Integer(Boolean)");
    for text in ["round", "round_label", "provenance", "source"] {
        assert_eq!(types[text], "String", "{text}");
    }

    let (governorates, summary) = compare(&state, "/collections/governorates/items").await;
    assert_eq!(governorates["features"].as_array().unwrap().len(), 18);
    let shapes: std::collections::BTreeSet<&str> = governorates["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["geometry"]["type"].as_str().unwrap())
        .collect();
    let expected = if shapes.len() == 1 && shapes.contains("Polygon") {
        "Geometry: Polygon"
    } else {
        "Geometry: Multi Polygon"
    };
    assert!(summary.contains(expected), "{shapes:?}: {summary}");

    // A filtered, sorted page with chosen properties.
    let (page, summary) = compare(
        &state,
        "/collections/sites/items?filter=idp_individuals%20%3E%201000&sortby=-idp_individuals&properties=name_en,idp_individuals&limit=20",
    )
    .await;
    assert!(!page["features"].as_array().unwrap().is_empty());
    let types = field_types(&summary);
    assert!(types.contains_key("name_en") && !types.contains_key("name_ar"));

    // One feature.
    let one = get_fgb(&state, "/collections/sites/items/GN98182?f=fgb").await;
    let (read, _) = read_with_gdal(&one);
    assert_eq!(read["features"][0]["properties"]["id"], "GN98182");
}

#[tokio::test]
async fn search_and_near_as_flatgeobuf_equal_their_geojson_with_distances() {
    let state = iraq_state();
    let (found, _) = compare(
        &state,
        "/collections/sites/search?geometry=POLYGON((43%2033,45%2033,45%2035,43%2035,43%2033))&limit=10000",
    )
    .await;
    assert!(found["features"].as_array().unwrap().len() > 10);
    let (by_area, _) = compare(
        &state,
        "/collections/sites/search?area=governorates/IQG15&limit=10000",
    )
    .await;
    assert!(!by_area["features"].as_array().unwrap().is_empty());

    let (near, summary) = compare(
        &state,
        "/collections/sites/near?lon=44.4&lat=33.3&radius=200000&limit=10000",
    )
    .await;
    assert!(near["features"].as_array().unwrap().len() > 5);
    assert_eq!(field_types(&summary)["distance_m"], "Real");
    let (nearest, _) = compare(&state, "/collections/sites/near?lon=44.4&lat=33.3&k=7").await;
    assert_eq!(nearest["features"].as_array().unwrap().len(), 7);

    let (containing, _) = compare(
        &state,
        "/collections/governorates/contains?lon=43.13&lat=36.34",
    )
    .await;
    assert_eq!(containing["features"].as_array().unwrap().len(), 1);

    // A POST search answers FlatGeobuf too.
    let reply = send(
        &state,
        Request::post("/collections/sites/search?f=fgb&limit=10000")
            .header("host", "example.test")
            .header("content-type", "application/json")
            .body(Body::from(
                r#"{"geometry":{"type":"Polygon","coordinates":[[[43,33],[45,33],[45,35],[43,35],[43,33]]]}}"#,
            ))
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let (read, _) = read_with_gdal(&reply.body);
    assert_eq!(
        read["features"].as_array().unwrap().len(),
        found["features"].as_array().unwrap().len()
    );
}

#[tokio::test]
async fn an_empty_answer_is_a_valid_flatgeobuf_without_features() {
    let state = iraq_state();
    let bytes = get_fgb(&state, "/collections/sites/items?bbox=0,0,1,1&f=fgb").await;
    let (read, summary) = read_with_gdal(&bytes);
    assert_eq!(read["features"].as_array().unwrap().len(), 0);
    assert!(summary.contains("Feature Count: 0"), "{summary}");
    assert!(summary.contains("Geometry: Point"), "{summary}");
}

#[tokio::test]
async fn the_second_dataset_keeps_its_field_names_and_cyrillic_names_in_flatgeobuf() {
    let state = other_state();
    let (locations, summary) = compare(&state, "/collections/locations/items?limit=10000").await;
    let features = locations["features"].as_array().unwrap();
    assert!(!features.is_empty());
    let types = field_types(&summary);
    for text in ["loc_name", "loc_name_uk", "loc_name_ha", "adm1"] {
        assert_eq!(types[text], "String", "{text}");
    }
    assert_eq!(types["persons"], "Integer64");
    assert_eq!(types["hh"], "Integer64");
    let bytes = get_fgb(&state, "/collections/locations/items?limit=10000&f=fgb").await;
    let (read, _) = read_with_gdal(&bytes);
    let cyrillic = read["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["id"] == "NG001L01")
        .unwrap();
    assert_eq!(cyrillic["properties"]["loc_name_uk"], "Табір 1 Кано");

    let (states, summary) = compare(&state, "/collections/states/items").await;
    assert!(!states["features"].as_array().unwrap().is_empty());
    assert!(field_types(&summary).contains_key("ADM1_UK"), "{summary}");
    let (near, _) = compare(
        &state,
        "/collections/locations/near?lon=8.6&lat=11.7&k=3&round=1",
    )
    .await;
    assert_eq!(near["features"].as_array().unwrap().len(), 3);

    let download = get_fgb(&state, "/datasets/locations/latest.fgb").await;
    let geojson = get(&state, "/datasets/locations/latest.geojson")
        .await
        .json();
    let (read, _) = read_with_gdal(&download);
    assert_same_features(&geojson, &read);
}

#[tokio::test]
async fn dataset_downloads_as_flatgeobuf_hold_every_feature_with_a_file_name() {
    let state = iraq_state();
    for (layer, round) in [("sites", "2017-08-31"), ("governorates", "latest")] {
        let uri = format!("/datasets/{layer}/{round}.fgb");
        let reply = get(&state, &uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}");
        assert_eq!(reply.header("content-type"), Some(FGB));
        let round_id = if round == "latest" {
            let snapshot = state.current();
            let l = snapshot.layer(layer).unwrap();
            l.rounds[l.latest_round().unwrap()].id.clone()
        } else {
            round.to_string()
        };
        assert_eq!(
            reply.header("content-disposition"),
            Some(format!("attachment; filename=\"dtmap-{layer}-{round_id}.fgb\"").as_str())
        );
        let geojson = get(&state, &format!("/datasets/{layer}/{round}.geojson"))
            .await
            .json();
        let (read, summary) = read_with_gdal(&reply.body);
        assert_same_features(&geojson, &read);
        let count = state.current().layer(layer).unwrap().features.len();
        assert!(
            summary.contains(&format!("Feature Count: {count}")),
            "{summary}"
        );
    }
    let missing = get(&state, "/datasets/sites/1999-01-01.fgb").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

/// Ids of the features the `flatgeobuf` crate reads through the index within a box.
fn ids_in_box(bytes: &[u8], bbox: [f64; 4]) -> Vec<String> {
    let reader = FgbReader::open(std::io::Cursor::new(bytes)).unwrap();
    assert!(reader.header().index_node_size() > 0, "no spatial index");
    let mut features = reader
        .select_bbox(bbox[0], bbox[1], bbox[2], bbox[3])
        .unwrap();
    let mut ids = Vec::new();
    while let Some(feature) = features.next().unwrap() {
        ids.push(feature.property::<String>("id").unwrap());
    }
    ids.sort();
    ids
}

/// The GeoJSON features whose bounding box meets `bbox`, found by looking at every one.
fn ids_meeting_box(geojson: &Value, bbox: [f64; 4]) -> Vec<String> {
    let mut ids: Vec<String> = geojson["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            let c = coordinates(&f["geometry"]);
            let xs = c.iter().step_by(2);
            let ys = c.iter().skip(1).step_by(2);
            let (min_x, max_x) = xs.fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
            let (min_y, max_y) = ys.fold((f64::MAX, f64::MIN), |(a, b), &y| (a.min(y), b.max(y)));
            min_x <= bbox[2] && max_x >= bbox[0] && min_y <= bbox[3] && max_y >= bbox[1]
        })
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn the_spatial_index_finds_exactly_the_features_a_brute_force_bbox_filter_finds() {
    let state = iraq_state();
    for layer in ["sites", "governorates"] {
        let bytes = get_fgb(&state, &format!("/datasets/{layer}/latest.fgb")).await;
        let geojson = get(&state, &format!("/datasets/{layer}/latest.geojson"))
            .await
            .json();
        let reader = FgbReader::open(std::io::Cursor::new(&bytes)).unwrap();
        let header = reader.header();
        assert_eq!(header.crs().unwrap().code(), 4326);
        assert_eq!(
            header.features_count() as usize,
            geojson["features"].as_array().unwrap().len()
        );
        if layer == "sites" {
            assert_eq!(header.geometry_type(), GeometryType::Point);
        }
        let mut checked = 0;
        for bbox in [
            [43.0, 33.0, 45.0, 35.0],
            [44.0, 36.0, 44.5, 36.5],
            [38.0, 29.0, 49.0, 38.0],
            [40.0, 30.0, 41.0, 31.0],
            [0.0, 0.0, 1.0, 1.0],
        ] {
            let expected = ids_meeting_box(&geojson, bbox);
            checked += expected.len();
            assert_eq!(ids_in_box(&bytes, bbox), expected, "{layer} {bbox:?}");
        }
        assert!(checked > 10, "{layer}: the boxes should hold features");
    }
    // The same on a page of items and on the second dataset.
    let page = get_fgb(&state, "/collections/sites/items?limit=10000&f=fgb").await;
    let geojson = get_json(&state, "/collections/sites/items?limit=10000").await;
    let bbox = [43.5, 33.0, 44.5, 34.0];
    assert_eq!(ids_in_box(&page, bbox), ids_meeting_box(&geojson, bbox));
    let other = other_state();
    let page = get_fgb(&other, "/collections/locations/items?limit=10000&f=fgb").await;
    let geojson = get_json(&other, "/collections/locations/items?limit=10000").await;
    let bbox = [8.0, 11.0, 9.0, 12.5];
    let expected = ids_meeting_box(&geojson, bbox);
    assert!(!expected.is_empty());
    assert_eq!(ids_in_box(&page, bbox), expected);
}

#[tokio::test]
async fn flatgeobuf_is_negotiated_linked_and_advertised() {
    let state = iraq_state();
    // Accept.
    let reply = send(
        &state,
        Request::get("/collections/sites/items?limit=3")
            .header("host", "example.test")
            .header("accept", FGB)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some(FGB));
    assert!(reply
        .header("vary")
        .unwrap_or("")
        .to_ascii_lowercase()
        .contains("accept"));
    // Bad values stay 400s; endpoints without features refuse fgb.
    for uri in [
        "/collections/sites/items?f=shapefile",
        "/collections/sites/near?lon=44&lat=33&k=3&f=gpkg",
        "/dashboard/summary?f=fgb",
        "/collections/sites/totals?area=governorates/IQG15&f=fgb",
        "/published?f=fgb",
    ] {
        let reply = get(&state, uri).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(reply.json()["description"].as_str().unwrap().contains("f="));
    }
    // Links.
    let collection = get_json(&state, "/collections/sites").await;
    let fgb_link = collection["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "items" && l["type"] == FGB)
        .expect("an items link of type application/flatgeobuf");
    assert!(fgb_link["href"].as_str().unwrap().ends_with("/items?f=fgb"));
    let page = get_json(&state, "/collections/sites/items?limit=5&offset=5").await;
    let alternate = page["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "alternate" && l["type"] == FGB)
        .expect("a FlatGeobuf alternate");
    let href = alternate["href"].as_str().unwrap();
    let local = href.trim_start_matches("http://example.test");
    let bytes = get_fgb(&state, local).await;
    let (read, _) = read_with_gdal(&bytes);
    let mut got: Vec<String> = read["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["id"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    let mut expected = ids(&page);
    expected.sort();
    assert_eq!(got, expected);
    // The dataset list, as JSON and HTML.
    let list = get_json(&state, "/datasets").await;
    let sites = list["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["layer"] == "sites")
        .unwrap();
    assert_eq!(
        sites["rounds"][0]["files"]["fgb"],
        "http://example.test/datasets/sites/latest.fgb"
    );
    // The OpenAPI document.
    let doc = get_json(&state, "/api").await;
    for (path, method) in [
        ("/collections/{collectionId}/items", "get"),
        ("/collections/{collectionId}/items/{featureId}", "get"),
        ("/collections/{collectionId}/search", "get"),
        ("/collections/{collectionId}/search", "post"),
        ("/collections/{collectionId}/near", "get"),
        ("/collections/{collectionId}/contains", "get"),
        ("/datasets/{layer}/{file}", "get"),
    ] {
        let op = &doc["paths"][path][method];
        assert!(
            op["responses"]["200"]["content"][FGB].is_object(),
            "{method} {path}"
        );
        if let Some(f) = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "f")
        {
            assert!(
                f["schema"]["enum"]
                    .as_array()
                    .unwrap()
                    .contains(&Value::from("fgb")),
                "{path}"
            );
        }
    }
}

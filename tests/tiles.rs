//! Vector tiles, TileJSON, the style and its glyphs, over HTTP, in-process (`oneshot`, no
//! socket) on the built-in Iraq data.
//!
//! Tiles are decoded three ways: geozero's MVT protobuf types here (every tile of z0–z8
//! over Iraq), GDAL's MVT driver (`ogr2ogr`, from Debian's `gdal-bin`), and PyPI's
//! `mapbox-vector-tile` (in a venv under the target dir, made on first use, or the Python
//! named by `DTMAP_TEST_PYTHON`). Their features are checked against the source data
//! clipped to the tile.
//!
//! The shared server, decoder and source checks are in `tiles_support`; the external
//! decoders are in `tiles_external.rs`.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use dtmap::api::{AppState, Settings};
use dtmap::tiles::EXTENT;
use geo::{Area, BooleanOps, Coord, Intersects, LineString, MultiPolygon, Polygon};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

mod tiles_support;
use tiles_support::*;

// ---------------------------------------------------------------------------------------
// The walk over z0–z8
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn every_tile_of_z0_to_z8_over_iraq_decodes_and_holds_the_data_it_covers() {
    let app = app();
    let snapshot = snapshot();
    let all: Vec<&str> = snapshot.layers.iter().map(|l| l.id.as_str()).collect();
    let composite = all.join(",");
    let mut tiles_seen = 0;
    let mut largest = 0;
    for zoom in 0..=8u8 {
        for tile in tiles_over(iraq(), zoom) {
            let path = format!("{}/{}/{}", tile.z, tile.x, tile.y);
            for id in &all {
                let answer = get(&app, &format!("/tiles/{id}/{path}")).await;
                let layer = layer(id);
                let decoded = match answer.status {
                    StatusCode::OK => decode(&answer.body),
                    StatusCode::NO_CONTENT => BTreeMap::new(),
                    other => panic!("/tiles/{id}/{path} answered {other}"),
                };
                largest = largest.max(answer.body.len());
                assert!(
                    answer.body.len() <= 500 * 1024,
                    "{id} {path} is over 500 KB"
                );
                check_against_source(&layer, tile, decoded.get(*id));
                tiles_seen += 1;
            }
            let answer = get(&app, &format!("/tiles/{composite}/{path}")).await;
            assert_eq!(
                answer.status,
                StatusCode::OK,
                "every tile over Iraq has data"
            );
            assert!(answer.body.len() <= 500 * 1024);
            let decoded = decode(&answer.body);
            for id in &all {
                check_against_source(&layer(id), tile, decoded.get(*id));
            }
        }
    }
    assert!(tiles_seen > 300, "walked {tiles_seen} tiles");
    assert!(largest > 0);
}

#[tokio::test]
async fn neighbouring_governorates_leave_no_gap_and_no_overlap_at_any_zoom() {
    let app = app();
    for zoom in 0..=8u8 {
        for tile in tiles_over(iraq(), zoom) {
            let uri = format!("/tiles/governorates/{}/{}/{}", tile.z, tile.x, tile.y);
            let answer = get(&app, &uri).await;
            if answer.status != StatusCode::OK {
                continue;
            }
            let decoded = decode(&answer.body);
            let mut parts: Vec<MultiPolygon<f64>> = Vec::new();
            for feature in decoded.get("governorates").into_iter().flatten() {
                let Geometry::Polygons(polygons) = &feature.geometry else {
                    panic!("governorates are polygons");
                };
                parts.push(MultiPolygon(
                    polygons.iter().map(|p| to_polygon(p)).collect(),
                ));
            }
            let sum: f64 = parts.iter().map(|p| p.unsigned_area()).sum();
            let union = parts
                .iter()
                .fold(MultiPolygon::<f64>::new(vec![]), |acc, p| acc.union(p));
            let overlap = sum - union.unsigned_area();
            assert!(
                overlap.abs() < 1.0,
                "{uri}: governorates overlap by {overlap} units²"
            );
            let gaps: f64 = union
                .0
                .iter()
                .flat_map(|p| p.interiors())
                .map(|ring| Polygon::new(ring.clone(), vec![]).unsigned_area())
                .sum();
            assert!(
                gaps < 1.0,
                "{uri}: {gaps} units² of gaps between governorates"
            );
        }
    }
}

fn to_polygon(rings: &[Vec<[i64; 2]>]) -> Polygon<f64> {
    let ring = |r: &Vec<[i64; 2]>| {
        LineString::from(
            r.iter()
                .map(|p| Coord {
                    x: p[0] as f64,
                    y: p[1] as f64,
                })
                .collect::<Vec<_>>(),
        )
    };
    Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
}

#[tokio::test]
async fn each_governorate_has_one_label_point_at_every_zoom_inside_it() {
    let app = app();
    let governorates = layer("governorates");
    for zoom in 0..=8u8 {
        let mut labelled: BTreeMap<String, usize> = BTreeMap::new();
        for tile in tiles_over(iraq(), zoom) {
            let uri = format!("/tiles/governorates/{}/{}/{}", tile.z, tile.x, tile.y);
            let answer = get(&app, &uri).await;
            if answer.status != StatusCode::OK {
                continue;
            }
            let decoded = decode(&answer.body);
            for label in decoded.get("governorates_label").into_iter().flatten() {
                let Geometry::Points(points) = &label.geometry else {
                    panic!("labels are points");
                };
                if !in_tile(points[0]) {
                    continue; // in the buffer: the neighbouring tile has it
                }
                let id = label.text("id").unwrap().to_string();
                let source = &governorates.features[(label.mvt_id - 1) as usize];
                assert_eq!(source.id, id);
                let [ox, oy] = tile.origin();
                let (lon, lat) = dtmap::tiles::world_to_lonlat(
                    (points[0][0] + ox) as f64,
                    (points[0][1] + oy) as f64,
                    zoom,
                );
                let tolerance = 360.0 / f64::from(EXTENT) / f64::from(1u32 << zoom);
                let near = geo::Rect::new(
                    (lon - tolerance, lat - tolerance),
                    (lon + tolerance, lat + tolerance),
                );
                assert!(
                    source.geometry().intersects(&near),
                    "{id}'s label is inside it"
                );
                *labelled.entry(id).or_default() += 1;
            }
        }
        assert_eq!(labelled.len(), governorates.features.len(), "z{zoom}");
        assert!(labelled.values().all(|&n| n == 1), "z{zoom}: {labelled:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Addresses, errors and HTTP behaviour
// ---------------------------------------------------------------------------------------

/// The z6 tile over Baghdad.
const BAGHDAD_Z6: &str = "6/39/25";

#[tokio::test]
async fn the_ogc_path_and_the_suffixed_paths_give_the_same_tile() {
    let app = app();
    let plain = get(&app, &format!("/tiles/governorates/{BAGHDAD_Z6}")).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(
        plain.headers[header::CONTENT_TYPE],
        "application/vnd.mapbox-vector-tile"
    );
    for uri in [
        format!("/tiles/governorates/{BAGHDAD_Z6}.pbf"),
        format!("/tiles/governorates/{BAGHDAD_Z6}.mvt"),
        "/collections/governorates/tiles/WebMercatorQuad/6/25/39".to_string(),
        "/collections/governorates/tiles/WebMercatorQuad/6/25/39.pbf".to_string(),
    ] {
        let other = get(&app, &uri).await;
        assert_eq!(other.status, StatusCode::OK, "{uri}");
        assert_eq!(other.body, plain.body, "{uri}");
    }
}

#[tokio::test]
async fn a_tile_outside_the_grid_or_too_deep_or_malformed_is_a_400() {
    let app = app();
    for uri in [
        "/tiles/governorates/23/0/0",
        "/tiles/governorates/3/8/0",
        "/tiles/governorates/3/0/8",
        "/tiles/governorates/-1/0/0",
        "/tiles/governorates/3/0/1.png",
        "/tiles/governorates/x/0/0",
        "/tiles/governorates/99999999999999999999/0/0",
        "/tiles/governorates,governorates/1/1/0",
        "/tiles/governorates,/1/1/0",
        "/collections/governorates/tiles/WebMercatorQuad/2/0/4",
    ] {
        let answer = get(&app, uri).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(answer.json()["code"], "InvalidParameterValue", "{uri}");
    }
    // The message gives the columns and rows there are, 0 to 2^z − 1.
    let answer = get(&app, "/tiles/governorates/2/4/0").await;
    let description = answer.json()["description"].to_string();
    assert!(
        description.contains("x: 4 is outside 0..3 at zoom 2"),
        "{description}"
    );
    let answer = get(
        &app,
        "/collections/governorates/tiles/WebMercatorQuad/2/0/4",
    )
    .await;
    let description = answer.json()["description"].to_string();
    assert!(
        description.contains("x: 4 is outside 0..3 at zoom 2"),
        "{description}"
    );
}

#[tokio::test]
async fn an_unknown_layer_is_a_404() {
    let app = app();
    for uri in [
        "/tiles/camps/1/1/0",
        "/tiles/governorates,camps/1/1/0",
        "/collections/camps/tiles/WebMercatorQuad/1/0/1",
        "/tiles/camps.json",
        "/tiles/governorates.xml",
    ] {
        assert_eq!(get(&app, uri).await.status, StatusCode::NOT_FOUND, "{uri}");
    }
}

#[tokio::test]
async fn a_tile_with_nothing_in_it_is_an_empty_204() {
    let app = app();
    // The Pacific.
    let answer = get(&app, "/tiles/governorates,sites/4/0/8").await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert!(answer.body.is_empty());
    assert!(answer.headers[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .contains("max-age=60"));
}

#[tokio::test]
async fn tiles_carry_a_strong_etag_and_answer_304_when_it_matches() {
    let app = app();
    let uri = format!("/tiles/governorates/{BAGHDAD_Z6}");
    let first = get(&app, &uri).await;
    let etag = first.headers[header::ETAG].to_str().unwrap().to_string();
    assert!(etag.starts_with('"'), "a strong ETag: {etag}");
    assert_eq!(first.headers[header::CACHE_CONTROL], "public, max-age=60");
    let again = get_with(&app, &uri, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let other_round = get_with(
        &app,
        &format!("{uri}?round=2014-08-26"),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(
        other_round.status,
        StatusCode::OK,
        "another round is another tile"
    );
}

#[tokio::test]
async fn tiles_are_gzipped_when_the_client_accepts_gzip() {
    let app = app();
    let uri = format!("/tiles/countries,rivers,governorates,sites/{BAGHDAD_Z6}");
    let plain = get(&app, &uri).await;
    let zipped = get_with(&app, &uri, &[("accept-encoding", "gzip")]).await;
    assert_eq!(zipped.status, StatusCode::OK);
    assert_eq!(zipped.headers[header::CONTENT_ENCODING], "gzip");
    assert!(zipped.body.len() < plain.body.len());
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&zipped.body[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, plain.body);
}

#[tokio::test]
async fn a_tile_is_the_same_bytes_from_a_fresh_server_as_from_the_cache() {
    let cached = app();
    let uri = format!("/tiles/countries,rivers,governorates,sites/{BAGHDAD_Z6}");
    let first = get(&cached, &uri).await;
    let second = get(&cached, &uri).await;
    let fresh = dtmap::server::app(AppState::new(load_builtin(), settings(None)));
    let third = get(&fresh, &uri).await;
    assert_eq!(first.body, second.body);
    assert_eq!(first.body, third.body);
    assert_eq!(first.headers[header::ETAG], third.headers[header::ETAG]);
}

#[tokio::test]
async fn the_round_parameter_chooses_the_counts_in_the_tile() {
    let app = app();
    let governorates = layer("governorates");
    let first_round = &governorates.rounds[0].id;
    let latest = get(&app, &format!("/tiles/governorates/{BAGHDAD_Z6}")).await;
    let early = get(
        &app,
        &format!("/tiles/governorates/{BAGHDAD_Z6}?round={first_round}"),
    )
    .await;
    let count_of = |answer: &Answer, round: usize| {
        let decoded = decode(&answer.body);
        let baghdad = decoded["governorates"]
            .iter()
            .find(|f| f.text("name_en") == Some("Baghdad"))
            .expect("Baghdad is in its tile")
            .clone();
        let position = (baghdad.mvt_id - 1) as u32;
        let column = governorates.count_column("idp_individuals").unwrap();
        let expected = governorates.count(round, position).unwrap().value(column);
        assert_eq!(baghdad.properties["idp_individuals"].as_i64(), expected);
        baghdad.properties["idp_individuals"].clone()
    };
    let latest_count = count_of(&latest, governorates.latest_round().unwrap());
    let early_count = count_of(&early, 0);
    assert_ne!(latest_count, early_count);
    let unknown = get(
        &app,
        &format!("/tiles/governorates/{BAGHDAD_Z6}?round=1900-01-01"),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn feature_ids_are_positions_plus_one_and_the_id_property_is_the_feature_id() {
    let app = app();
    let answer = get(&app, &format!("/tiles/governorates/{BAGHDAD_Z6}")).await;
    let governorates = layer("governorates");
    for feature in &decode(&answer.body)["governorates"] {
        let source = &governorates.features[(feature.mvt_id - 1) as usize];
        assert_eq!(feature.text("id"), Some(source.id.as_str()));
        assert_eq!(feature.text("pcode"), Some(source.id.as_str()));
        assert!(feature.text("name_ar").is_some());
        assert!(feature.properties.contains_key("synthetic"));
        assert!(
            !feature.properties.contains_key("area_sqkm"),
            "not a tile field"
        );
    }
}

#[tokio::test]
async fn points_at_low_zoom_are_clustered_with_their_counts_summed() {
    let app = app();
    let answer = get(&app, "/tiles/sites/2/2/1").await;
    let sites = layer("sites");
    let decoded = decode(&answer.body);
    let features = &decoded["sites"];
    assert!(
        features.len() < sites.features.len(),
        "fewer features than sites"
    );
    let clusters: Vec<&Feature> = features
        .iter()
        .filter(|f| f.properties.contains_key("point_count"))
        .collect();
    assert!(!clusters.is_empty());
    let total_count: i64 = features
        .iter()
        .map(|f| {
            f.properties
                .get("point_count")
                .and_then(Value::as_i64)
                .unwrap_or(1)
        })
        .sum();
    assert_eq!(
        total_count,
        sites.features.len() as i64,
        "every site is counted once"
    );
    let latest = sites.latest_round().unwrap();
    let column = sites.count_column("idp_families").unwrap();
    let expected: i64 = (0..sites.features.len() as u32)
        .filter_map(|f| sites.count(latest, f)?.value(column))
        .sum();
    let summed: i64 = features
        .iter()
        .filter_map(|f| f.properties.get("idp_families").and_then(Value::as_i64))
        .sum();
    assert_eq!(summed, expected, "families add up over the clusters");
    for cluster in clusters {
        assert!(cluster.mvt_id >= 1 << 52);
        assert!(cluster.text("id").unwrap().starts_with("cluster/2/"));
    }
}

// ---------------------------------------------------------------------------------------
// TileJSON, the style, the glyphs
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn tilejson_of_one_layer_has_absolute_urls_bounds_and_fields() {
    let app = app();
    for uri in [
        "/tiles/governorates.json",
        "/tiles/governorates/tilejson.json",
    ] {
        let answer = get_with(&app, uri, &[("host", "maps.example.org")]).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}");
        let doc = answer.json();
        assert_eq!(doc["tilejson"], "3.0.0");
        assert_eq!(
            doc["tiles"][0],
            "http://maps.example.org/tiles/governorates/{z}/{x}/{y}"
        );
        let bounds: Vec<f64> = serde_json::from_value(doc["bounds"].clone()).unwrap();
        assert!(bounds[0] > 38.0 && bounds[2] < 49.0 && bounds[1] > 29.0 && bounds[3] < 38.0);
        assert_eq!(doc["center"].as_array().unwrap().len(), 3);
        assert!(
            doc["center"][2].is_u64(),
            "the centre zoom is a whole number"
        );
        assert_eq!(doc["minzoom"], 0);
        assert!(doc["attribution"]
            .as_str()
            .unwrap()
            .contains("Natural Earth"));
        let layer = &doc["vector_layers"][0];
        assert_eq!(layer["id"], "governorates");
        for field in [
            "id",
            "pcode",
            "name_en",
            "name_ar",
            "idp_individuals",
            "synthetic",
        ] {
            assert!(layer["fields"].get(field).is_some(), "{field}");
        }
    }
}

#[tokio::test]
async fn tilejson_honours_forwarded_headers_and_the_public_url() {
    // Forwarded headers count only from a trusted proxy.
    let behind_proxy = dtmap::server::app(AppState::new(
        load_builtin(),
        Settings {
            trusted_proxies: vec!["10.0.0.0/8".parse().expect("a block")],
            ..settings(None)
        },
    ));
    let mut request = Request::builder()
        .uri("/tiles/governorates,sites.json?round=latest")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "proxy.example.org")
        .header("x-forwarded-prefix", "/dtmap")
        .body(Body::empty())
        .expect("a request");
    request.extensions_mut().insert(dtmap::api::Peer {
        remote: "10.1.2.3:40000".parse().expect("an address"),
        local: "10.9.9.9:8080".parse().expect("an address"),
    });
    let response = behind_proxy.oneshot(request).await.expect("an answer");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    let doc: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(
        doc["tiles"][0],
        "https://proxy.example.org/dtmap/tiles/governorates,sites/{z}/{x}/{y}?round=latest"
    );
    let ids: Vec<&str> = doc["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["governorates", "governorates_label", "sites"]);
    let public = dtmap::server::app(AppState::new(
        load_builtin(),
        settings(Some("https://dtm.example.org/map/")),
    ));
    let doc = get(&public, "/tiles/sites.json").await.json();
    assert_eq!(
        doc["tiles"][0],
        "https://dtm.example.org/map/tiles/sites/{z}/{x}/{y}"
    );
}

#[tokio::test]
async fn the_default_style_uses_only_sources_layers_and_glyphs_that_are_served() {
    let app = app();
    let style = get_with(&app, "/styles/default.json", &[("host", "localhost:8080")])
        .await
        .json();
    assert_eq!(style["version"], 8);
    let template = style["sources"]["dtmap"]["tiles"][0].as_str().unwrap();
    let path = template
        .strip_prefix("http://localhost:8080")
        .unwrap()
        .replace("/{z}/{x}/{y}", "/tilejson.json");
    let path = path.as_str();
    let tilejson = get(&app, path).await;
    assert_eq!(tilejson.status, StatusCode::OK, "{path}");
    let tilejson = tilejson.json();
    let served: BTreeSet<&str> = tilejson["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    let mut fonts = BTreeSet::new();
    let mut kinds = BTreeSet::new();
    for layer in style["layers"].as_array().unwrap() {
        kinds.insert(layer["type"].as_str().unwrap().to_string());
        if let Some(source_layer) = layer["source-layer"].as_str() {
            assert!(served.contains(source_layer), "{source_layer}");
        }
        if let Some(stack) = layer["layout"]["text-font"].as_array() {
            fonts.extend(stack.iter().map(|f| f.as_str().unwrap().to_string()));
        }
    }
    for kind in ["fill", "line", "circle", "symbol"] {
        assert!(kinds.contains(kind), "the style draws {kind}");
    }
    let glyphs = style["glyphs"].as_str().unwrap();
    assert!(glyphs.starts_with("http://localhost:8080/fonts/"));
    for font in fonts {
        // Latin, Cyrillic, Arabic, and the Arabic presentation forms that shaped text uses.
        for range in [
            "0-255",
            "256-511",
            "1024-1279",
            "1280-1535",
            "1536-1791",
            "65024-65279",
            "64256-64511",
        ] {
            let uri = format!("/fonts/{}/{range}.pbf", font.replace(' ', "%20"));
            let answer = get(&app, &uri).await;
            assert_eq!(answer.status, StatusCode::OK, "{uri}");
            assert!(answer.body.len() > 1000, "{uri} has glyphs");
        }
    }
}

#[tokio::test]
async fn glyphs_of_an_unknown_font_or_a_malformed_range_are_refused() {
    let app = app();
    let missing = get(&app, "/fonts/Comic%20Sans/0-255.pbf").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let malformed = get(&app, "/fonts/Noto%20Sans%20Regular/1-255.pbf").await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let empty = get(&app, "/fonts/Noto%20Sans%20Regular/12288-12543.pbf").await;
    assert_eq!(
        empty.status,
        StatusCode::OK,
        "a range without glyphs is still a glyph set"
    );
}

#[tokio::test]
async fn the_ogc_tileset_links_to_its_tiles_and_tilejson() {
    let app = app();
    let list = get(&app, "/collections/sites/tiles").await;
    assert_eq!(list.status, StatusCode::OK);
    let tileset = get(&app, "/collections/sites/tiles/WebMercatorQuad")
        .await
        .json();
    let links = tileset["links"].as_array().unwrap();
    assert!(links.iter().any(|l| l["rel"] == "item"
        && l["href"].as_str().unwrap().ends_with(
            "/collections/sites/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}"
        )));
}

// ---------------------------------------------------------------------------------------
// Snapshots of decoded tiles
// ---------------------------------------------------------------------------------------

/// A decoded tile as readable JSON: properties in full, points in full, lines and rings
/// as vertex counts, bounding boxes and areas.
fn readable(decoded: &BTreeMap<String, Vec<Feature>>) -> Value {
    let mut out = serde_json::Map::new();
    for (name, features) in decoded {
        let features: Vec<Value> = features
            .iter()
            .map(|f| {
                let geometry = match &f.geometry {
                    Geometry::Points(points) => json!({ "points": points }),
                    Geometry::Lines(lines) => json!({
                        "lines": lines.iter().map(|l| json!({
                            "vertices": l.len(), "from": l[0], "to": l[l.len() - 1],
                        })).collect::<Vec<_>>()
                    }),
                    Geometry::Polygons(polygons) => json!({
                        "polygons": polygons.iter().map(|rings| rings.iter().map(|r| {
                            let xs = r.iter().map(|p| p[0]);
                            let ys = r.iter().map(|p| p[1]);
                            json!({
                                "vertices": r.len(),
                                "doubled_area": doubled_area(r) as i64,
                                "bbox": [xs.clone().min(), ys.clone().min(), xs.max(), ys.max()],
                            })
                        }).collect::<Vec<_>>()).collect::<Vec<_>>()
                    }),
                };
                json!({ "mvt_id": f.mvt_id, "properties": f.properties, "geometry": geometry })
            })
            .collect();
        out.insert(name.clone(), json!(features));
    }
    Value::Object(out)
}

#[tokio::test]
async fn decoded_tiles_match_their_snapshots() {
    let app = app();
    for (name, uri) in [
        (
            "governorates_z6_baghdad",
            format!("/tiles/governorates/{BAGHDAD_Z6}?round=2019-10-31"),
        ),
        (
            "sites_z2_clustered",
            "/tiles/sites/2/2/1?round=2019-10-31".to_string(),
        ),
        (
            "sites_z9_baghdad",
            "/tiles/sites/9/319/205?round=2019-10-31".to_string(),
        ),
        ("basemap_z4", "/tiles/countries,rivers/4/9/6".to_string()),
    ] {
        let answer = get(&app, &uri).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}");
        insta::assert_json_snapshot!(name, readable(&decode(&answer.body)));
    }
}

// ---------------------------------------------------------------------------------------
// The second dataset (tests/fixtures/other): other field names, languages and scripts
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn every_tile_of_the_second_dataset_decodes_with_its_own_fields_and_rolled_up_counts() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/other");
    let config = dtmap::config::Config::from_file(&dir.join("dtmap.toml")).expect("config");
    let (snapshot, report) = dtmap::data::load(&config);
    assert!(report.is_ok(), "{report}");
    let state = AppState::new(snapshot, settings(None));
    let app = dtmap::server::app(state.clone());
    let snapshot = state.current();
    let states = snapshot.layer("states").unwrap().clone();
    let locations = snapshot.layer("locations").unwrap().clone();
    let bounds = states
        .features
        .iter()
        .map(|f| f.bbox())
        .reduce(|a, b| {
            geo::Rect::new(
                geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
            )
        })
        .unwrap();
    let round = states.rounds.last().unwrap().id.clone();
    let persons = states.count_column("persons").unwrap();
    let mut names_seen = BTreeSet::new();
    let mut tiles_seen = 0;
    for zoom in 0..=10u8 {
        for tile in tiles_over(bounds, zoom) {
            let uri = format!(
                "/tiles/states,locations/{}/{}/{}?round={round}",
                tile.z, tile.x, tile.y
            );
            let answer = get(&app, &uri).await;
            let decoded = match answer.status {
                StatusCode::OK => decode(&answer.body),
                StatusCode::NO_CONTENT => BTreeMap::new(),
                other => panic!("{uri} answered {other}"),
            };
            tiles_seen += 1;
            check_against_source(&states, tile, decoded.get("states"));
            check_against_source(&locations, tile, decoded.get("locations"));
            for feature in decoded.get("states").into_iter().flatten() {
                let id = feature.text("ADM1_PCODE").expect("the state's p-code");
                let position = states.position(id).unwrap();
                let record = states.count(states.rounds.len() - 1, position).unwrap();
                assert_eq!(
                    feature.properties.get("persons").and_then(|v| v.as_i64()),
                    record.value(persons),
                    "{uri}: {id} carries its rolled-up count"
                );
                let cyrillic = feature.text("ADM1_UK").expect("the Ukrainian name");
                assert!(cyrillic
                    .chars()
                    .any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)));
                names_seen.insert(cyrillic.to_string());
            }
        }
    }
    assert!(tiles_seen > 20, "walked {tiles_seen} tiles");
    assert_eq!(
        names_seen.len(),
        3,
        "every state's Cyrillic name: {names_seen:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Static publishing: `dtmap export` writes the same tiles into one PMTiles archive
// ---------------------------------------------------------------------------------------

/// A PMTiles v3 tile id: the tiles of all lower zooms, then the Hilbert index in the zoom.
fn pmtiles_id(z: u8, x: u64, y: u64) -> u64 {
    let base: u64 = (0..z).map(|zoom| 1u64 << (2 * zoom)).sum();
    let n = 1u64 << z;
    let (mut x, mut y, mut d) = (x, y, 0u64);
    let mut s = n / 2;
    while s > 0 {
        let rx = u64::from(x & s > 0);
        let ry = u64::from(y & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                // Only the bits below `s` matter from here on.
                x = (s - 1).wrapping_sub(x);
                y = (s - 1).wrapping_sub(y);
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    base + d
}

fn varint(bytes: &[u8], at: &mut usize) -> u64 {
    let (mut value, mut shift) = (0u64, 0);
    loop {
        let b = bytes[*at];
        *at += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return value;
        }
        shift += 7;
    }
}

/// Every (tile id → tile bytes) of a PMTiles v3 archive, read by the spec (not by the
/// writer's crate): header, gzip'd directories, leaf directories, run lengths.
fn read_pmtiles(archive: &[u8]) -> BTreeMap<u64, Vec<u8>> {
    use std::io::Read;
    assert_eq!(&archive[..7], b"PMTiles");
    assert_eq!(archive[7], 3, "version 3");
    let u64_at = |at: usize| u64::from_le_bytes(archive[at..at + 8].try_into().unwrap());
    let (root_offset, root_length) = (u64_at(8), u64_at(16));
    let (leaf_offset, data_offset) = (u64_at(40), u64_at(56));
    let internal = archive[97];
    let inflate = |bytes: &[u8]| -> Vec<u8> {
        match internal {
            1 => bytes.to_vec(),
            2 => {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(bytes)
                    .read_to_end(&mut out)
                    .unwrap();
                out
            }
            other => panic!("internal compression {other}"),
        }
    };
    let mut tiles = BTreeMap::new();
    let mut pending = vec![(root_offset, root_length, true)];
    while let Some((offset, length, root)) = pending.pop() {
        let start = if root { offset } else { leaf_offset + offset } as usize;
        let dir = inflate(&archive[start..start + length as usize]);
        let mut at = 0;
        let n = varint(&dir, &mut at) as usize;
        let mut ids = Vec::with_capacity(n);
        let mut last = 0;
        for _ in 0..n {
            last += varint(&dir, &mut at);
            ids.push(last);
        }
        let runs: Vec<u64> = (0..n).map(|_| varint(&dir, &mut at)).collect();
        let lengths: Vec<u64> = (0..n).map(|_| varint(&dir, &mut at)).collect();
        let mut offsets = Vec::with_capacity(n);
        for i in 0..n {
            let v = varint(&dir, &mut at);
            // 0: right after the previous entry (the start, for the first one).
            offsets.push(match (v, i) {
                (0, 0) => 0,
                (0, _) => offsets[i - 1] + lengths[i - 1],
                _ => v - 1,
            });
        }
        for i in 0..n {
            if runs[i] == 0 {
                pending.push((offsets[i], lengths[i], false));
                continue;
            }
            let at = (data_offset + offsets[i]) as usize;
            let bytes = archive[at..at + lengths[i] as usize].to_vec();
            for k in 0..runs[i] {
                tiles.insert(ids[i] + k, bytes.clone());
            }
        }
    }
    tiles
}

#[tokio::test]
async fn an_exported_archive_holds_exactly_the_tiles_the_server_answers() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = snapshot();
    let round = snapshot.layer("governorates").unwrap().rounds[3]
        .id
        .to_string();
    let options = dtmap::export::ExportOptions {
        round: Some(round.clone()),
        min_zoom: 0,
        max_zoom: 8,
        out: dir.path().to_path_buf(),
        base_url: Some("https://cdn.example.org/map/".into()),
    };
    let tile_options = dtmap::config::Config::builtin().tiles.options();
    let summary = dtmap::export::export(&snapshot, &tile_options, &options).unwrap();
    let archive = std::fs::read(dir.path().join("map.pmtiles")).unwrap();
    assert_eq!(summary.bytes, archive.len() as u64);
    let tiles = read_pmtiles(&archive);
    assert_eq!(tiles.len(), summary.tiles);
    let app = app();
    let all: Vec<&str> = snapshot.layers.iter().map(|l| l.id.as_str()).collect();
    let composite = all.join(",");
    // Over the bounds of every layer (the basemap's countries reach beyond Iraq).
    let bounds = snapshot
        .layers
        .iter()
        .filter_map(|l| l.extent)
        .reduce(|a, b| {
            geo::Rect::new(
                geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
            )
        })
        .unwrap();
    let mut compared = 0;
    for zoom in 0..=8u8 {
        for tile in tiles_over(bounds, zoom) {
            let answer = get(
                &app,
                &format!(
                    "/tiles/{composite}/{}/{}/{}?round={round}",
                    tile.z, tile.x, tile.y
                ),
            )
            .await;
            let id = pmtiles_id(zoom, u64::from(tile.x), u64::from(tile.y));
            match answer.status {
                StatusCode::OK => {
                    assert_eq!(
                        tiles.get(&id).map(Vec::as_slice),
                        Some(&answer.body[..]),
                        "{tile:?}"
                    );
                    compared += 1;
                }
                StatusCode::NO_CONTENT => assert!(!tiles.contains_key(&id), "{tile:?}"),
                other => panic!("{tile:?}: {other}"),
            }
        }
    }
    assert_eq!(
        compared, summary.tiles,
        "every tile of the archive compared"
    );
    // The style reads the archive and the glyphs from where the folder is published.
    let style: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("style.json")).unwrap()).unwrap();
    assert_eq!(
        style["sources"]["dtmap"]["url"],
        "pmtiles://https://cdn.example.org/map/map.pmtiles"
    );
    assert_eq!(
        style["glyphs"],
        "https://cdn.example.org/map/fonts/{fontstack}/{range}.pbf"
    );
    assert!(dir
        .path()
        .join("fonts/Noto Sans Regular/1536-1791.pbf")
        .exists());
    // Bad zooms are refused.
    let too_deep = dtmap::export::ExportOptions {
        max_zoom: 15,
        ..options
    };
    assert!(dtmap::export::export(&snapshot, &tile_options, &too_deep).is_err());
}

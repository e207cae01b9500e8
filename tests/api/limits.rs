//! The limits on the shape of untrusted input over HTTP: geometry and filter nesting (each a
//! 400 before a recursive parser runs, never a stack overflow), `datetime` validation, and
//! `properties=` deduplicated and capped.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dtmap::config::{MAX_FILTER_DEPTH, MAX_PROPERTY_NAMES};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{json, Value};

use crate::common::*;

fn encode(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

fn post(uri: &str, body: &Value) -> Request<Body> {
    Request::post(uri)
        .header("host", "example.test")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// The input that aborted the server: a WKT geometry collection nested 1,600 deep (30 KB).
fn deep_wkt(levels: usize) -> String {
    format!(
        "{}POINT(44 33){}",
        "GEOMETRYCOLLECTION(".repeat(levels),
        ")".repeat(levels)
    )
}

fn deep_geojson(levels: usize) -> Value {
    let mut geometry = json!({"type": "Point", "coordinates": [44, 33]});
    for _ in 0..levels {
        geometry = json!({"type": "GeometryCollection", "geometries": [geometry]});
    }
    geometry
}

fn assert_400(reply: &Reply, needle: &str, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "{what}: {}",
        String::from_utf8_lossy(&reply.body[..reply.body.len().min(500)])
    );
    let description = reply.json()["description"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(description.contains(needle), "{what}: {description}");
}

#[tokio::test]
async fn a_geometry_collection_nested_1600_deep_is_a_400_on_get_and_post_for_search_and_totals() {
    let state = iraq_state();
    let wkt = deep_wkt(1_600);
    assert!(wkt.len() > 30_000);
    for endpoint in ["search", "totals"] {
        let uri = format!("/collections/sites/{endpoint}?geometry={}", encode(&wkt));
        assert_400(&get(&state, &uri).await, "more than 16 deep", &uri[..40]);
        let uri = format!("/collections/sites/{endpoint}");
        let reply = send(&state, post(&uri, &json!({ "geometry": wkt }))).await;
        assert_400(&reply, "more than 16 deep", "POST WKT");
        // GeoJSON text in the query string, and GeoJSON text or objects in the body.
        let text = deep_geojson(300).to_string();
        let reply = get(
            &state,
            &format!("/collections/sites/{endpoint}?geometry={}", encode(&text)),
        )
        .await;
        assert_400(&reply, "more than 16 deep", "GET GeoJSON");
        let reply = send(&state, post(&uri, &json!({ "geometry": text }))).await;
        assert_400(&reply, "more than 16 deep", "POST GeoJSON text");
        let reply = send(&state, post(&uri, &json!({ "geometry": deep_geojson(20) }))).await;
        assert_400(&reply, "more than 16 deep", "POST GeoJSON object");
        let body = format!(r#"{{"geometry":{}}}"#, "[".repeat(1_600));
        let reply = send(
            &state,
            Request::post(uri.as_str())
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "POST deep body");
    }
    // A geometry as deep as a polygon needs is still answered.
    let polygon = "POLYGON((43 33,45 33,45 35,43 35,43 33))";
    get_json(
        &state,
        &format!("/collections/sites/totals?geometry={}", encode(polygon)),
    )
    .await;
}

#[tokio::test]
async fn cql2_filters_nested_deeply_are_a_400_in_text_and_json() {
    let state = iraq_state();
    let compare = "name_en = 'x'";
    // Query strings are bounded at 64 KiB by the HTTP layer; 100,000 levels are tested on
    // the parser itself (src/query/cql2.rs).
    let text = format!("{}{compare}{}", "(".repeat(10_000), ")".repeat(10_000));
    let json_not = |levels: usize| {
        let mut filter = r#"{"op":"=","args":[{"property":"name_en"},"x"]}"#.to_string();
        for _ in 0..levels {
            filter = format!(r#"{{"op":"not","args":[{filter}]}}"#);
        }
        filter
    };
    for (filter, lang) in [
        (text.as_str(), "cql2-text"),
        (&"(".repeat(20_000), "cql2-text"),
        (&json_not(1_000), "cql2-json"),
        (&"[".repeat(20_000), "cql2-json"),
    ] {
        let uri = format!(
            "/collections/sites/items?filter-lang={lang}&filter={}",
            encode(filter)
        );
        assert_400(&get(&state, &uri).await, "deeper than 64", lang);
    }
    // Exactly at the documented limit, and one above.
    assert_eq!(MAX_FILTER_DEPTH, 64);
    for (levels, ok) in [(64, true), (65, false)] {
        let text = format!("{}{compare}{}", "(".repeat(levels), ")".repeat(levels));
        for (filter, lang) in [(text, "cql2-text"), (json_not(levels), "cql2-json")] {
            let uri = format!(
                "/collections/sites/items?filter-lang={lang}&filter={}",
                encode(&filter)
            );
            let reply = get(&state, &uri).await;
            if ok {
                assert_eq!(reply.status, StatusCode::OK, "{lang} at {levels} levels");
            } else {
                assert_400(&reply, "deeper than 64", lang);
            }
        }
    }
}

#[tokio::test]
async fn impossible_dates_and_doubly_open_intervals_are_a_400_that_says_why() {
    let state = iraq_state();
    for (datetime, why) in [
        ("2019-02-30", "has 28 days"),
        ("9999-99-99", "no month 99"),
        ("2016-13-01", "no month 13"),
        ("2019-01-01T25:00:00Z", "not a time of day"),
        ("2019-01-01T12:00:00", "no offset"),
        ("../..", "open at both ends"),
        ("..", "'..' may only open one end"),
    ] {
        let uri = format!("/collections/sites/items?datetime={}", encode(datetime));
        assert_400(&get(&state, &uri).await, why, datetime);
        let uri = format!(
            "/collections/sites/totals?area=governorates/IQG15&datetime={}",
            encode(datetime)
        );
        assert_400(&get(&state, &uri).await, why, datetime);
    }
    for (datetime, round) in [
        ("2020-02-29", "2019-10-31"),
        ("2017-08-31T23:59:60Z", "2017-08-31"),
        ("2017-08-31T12:00:00.5+03:00", "2017-08-31"),
        ("../2019-01-01", "2018-12-31"),
        ("2019-01-01/..", "2019-10-31"),
    ] {
        let page = get_json(
            &state,
            &format!(
                "/collections/governorates/items?limit=1&datetime={}",
                encode(datetime)
            ),
        )
        .await;
        assert_eq!(page["round"], round, "{datetime}");
    }
}

#[tokio::test]
async fn repeated_properties_are_written_once_and_too_many_names_are_a_400() {
    let state = iraq_state();
    let page = get_json(
        &state,
        "/collections/sites/items?limit=1&properties=name_en,idp_individuals,name_en,%20name_en,idp_individuals",
    )
    .await;
    let properties = page["features"][0]["properties"]
        .as_object()
        .expect("properties");
    assert_eq!(
        properties.keys().collect::<Vec<_>>(),
        ["idp_individuals", "name_en"],
        "each once (serde_json sorts keys when reading back)"
    );
    let feature = String::from_utf8(
        get(
            &state,
            "/collections/sites/items?limit=1&properties=name_en,governorate,name_en,governorate",
        )
        .await
        .body,
    )
    .unwrap();
    assert_eq!(feature.matches("\"name_en\":").count(), 1);
    assert_eq!(feature.matches("\"governorate\":").count(), 1);
    let (name, governorate) = (
        feature.find("\"name_en\":"),
        feature.find("\"governorate\":"),
    );
    assert!(name < governorate, "first named, first written");
    // Exactly at the cap: accepted; one more: refused. 56 KB of repeats: refused, not 30 MB.
    let names = |n: usize| vec!["name_en"; n].join(",");
    for endpoint in [
        "items?limit=1&".to_string(),
        "search?area=governorates/IQG15&limit=1&".to_string(),
    ] {
        let uri = format!(
            "/collections/sites/{endpoint}properties={}",
            names(MAX_PROPERTY_NAMES)
        );
        let reply = get(&state, &uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{endpoint}");
        // One feature, and links (self, next, the CSV and FlatGeobuf alternates) that
        // each repeat the query string once.
        assert!(reply.body.len() < 16_000, "{}", reply.body.len());
        let uri = format!(
            "/collections/sites/{endpoint}properties={}",
            names(MAX_PROPERTY_NAMES + 1)
        );
        assert_400(&get(&state, &uri).await, "at most 256", &endpoint);
        let uri = format!("/collections/sites/{endpoint}properties={}", names(7_000));
        assert!(uri.len() > 56_000);
        assert_400(&get(&state, &uri).await, "at most 256", &endpoint);
    }
}

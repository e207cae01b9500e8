//! The query endpoints over HTTP: search in an area, near, contains, totals — results
//! checked against the snapshot, and every bad input answered with a 4xx that says why.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::{Distance, Geodesic, Geometry, Intersects, Point};
use serde_json::{json, Value};

use crate::common::*;

const SQUARE_WKT: &str = "POLYGON((43%2033,45%2033,45%2035,43%2035,43%2033))";

fn post(uri: &str, body: Value) -> Request<Body> {
    Request::post(uri)
        .header("host", "example.test")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn search_by_wkt_and_by_posted_geojson_give_the_same_sites() {
    let state = iraq_state();
    let by_wkt = get_json(
        &state,
        &format!("/collections/sites/search?geometry={SQUARE_WKT}&limit=1000"),
    )
    .await;
    let polygon =
        json!({"type": "Polygon", "coordinates": [[[43,33],[45,33],[45,35],[43,35],[43,33]]]});
    let by_post = send(
        &state,
        post(
            "/collections/sites/search?limit=1000",
            json!({ "geometry": polygon }),
        ),
    )
    .await;
    assert_eq!(by_post.status, StatusCode::OK);
    assert_eq!(ids(&by_wkt), ids(&by_post.json()));
    let items = get_json(
        &state,
        "/collections/sites/items?bbox=43,33,45,35&limit=1000",
    )
    .await;
    assert_eq!(
        ids(&by_wkt),
        ids(&items),
        "a square search equals the bbox items"
    );
}

#[tokio::test]
async fn search_within_a_governorate_returns_the_sites_inside_it() {
    let state = iraq_state();
    let snapshot = state.current();
    let ninewa = &snapshot.layer("governorates").unwrap().features[snapshot
        .layer("governorates")
        .unwrap()
        .position("IQG15")
        .unwrap() as usize];
    let expected: Vec<String> = snapshot
        .layer("sites")
        .unwrap()
        .features
        .iter()
        .filter(|f| f.geometry().intersects(&*ninewa.geometry()))
        .map(|f| f.id.to_string())
        .collect();
    assert!(!expected.is_empty());
    let page = get_json(
        &state,
        "/collections/sites/search?area=governorates/IQG15&limit=1000",
    )
    .await;
    assert_eq!(ids(&page), expected);
    assert_eq!(page["area"]["id"], "IQG15");
}

#[tokio::test]
async fn near_lists_sites_by_geodesic_distance_with_their_distance() {
    let state = iraq_state();
    let page = get_json(
        &state,
        "/collections/sites/near?lon=44.4&lat=33.3&radius=60000",
    )
    .await;
    let center = Point::new(44.4, 33.3);
    let snapshot = state.current();
    let sites = snapshot.layer("sites").unwrap();
    let mut expected: Vec<(f64, String)> = sites
        .features
        .iter()
        .filter_map(|f| match *f.geometry() {
            Geometry::Point(p) => Some((Geodesic.distance(p, center), f.id.to_string())),
            _ => None,
        })
        .filter(|(d, _)| *d <= 60000.0)
        .collect();
    expected.sort_by(|a, b| a.0.total_cmp(&b.0));
    let got: Vec<String> = ids(&page);
    assert_eq!(
        got,
        expected
            .iter()
            .map(|(_, id)| id.clone())
            .collect::<Vec<_>>()
    );
    for (feature, (d, _)) in page["features"].as_array().unwrap().iter().zip(&expected) {
        let reported = feature["properties"]["distance_m"].as_f64().unwrap();
        assert!((reported - d).abs() <= 0.05, "{reported} vs {d}");
    }
    let three = get_json(&state, "/collections/sites/near?lon=44.4&lat=33.3&k=3").await;
    assert_eq!(ids(&three), got[..3]);
}

#[tokio::test]
async fn contains_tells_which_governorate_a_point_is_in() {
    let state = iraq_state();
    let mosul = get_json(
        &state,
        "/collections/governorates/contains?lon=43.13&lat=36.34",
    )
    .await;
    assert_eq!(ids(&mosul), ["IQG15"]);
    let basra = get_json(
        &state,
        "/collections/governorates/contains?lon=47.78&lat=30.51",
    )
    .await;
    assert_eq!(ids(&basra), ["IQG02"]);
    let sea = get_json(&state, "/collections/governorates/contains?lon=50&lat=27").await;
    assert_eq!(sea["numberReturned"], 0);
}

#[tokio::test]
async fn totals_for_a_governorate_equal_the_sum_of_its_sites_for_every_round() {
    let state = iraq_state();
    let snapshot = state.current();
    let sites = snapshot.layer("sites").unwrap();
    let governorates = snapshot.layer("governorates").unwrap();
    let ninewa =
        &*governorates.features[governorates.position("IQG15").unwrap() as usize].geometry();
    let inside: Vec<u32> = (0..sites.features.len() as u32)
        .filter(|&f| sites.features[f as usize].geometry().intersects(ninewa))
        .collect();
    let series = get_json(
        &state,
        "/collections/sites/totals?area=governorates/IQG15&rounds=all",
    )
    .await;
    assert_eq!(series["sites"], inside.len());
    let rounds = series["series"].as_array().unwrap();
    assert_eq!(rounds.len(), sites.rounds.len());
    for (r, entry) in rounds.iter().enumerate() {
        for (c, column) in sites.count_columns.iter().enumerate() {
            let expected: i64 = inside
                .iter()
                .filter_map(|&f| sites.count(r, f))
                .filter_map(|record| record.value(c))
                .sum();
            assert_eq!(entry["totals"][column], expected, "round {r} {column}");
        }
    }
    // The sites of Ninewa carry the governorate's own total (the allocation sums exactly).
    let latest = get_json(&state, "/collections/sites/totals?area=governorates/IQG15").await;
    let governorate = get_json(&state, "/collections/governorates/items/IQG15").await;
    assert_eq!(
        latest["totals"]["idp_individuals"],
        governorate["properties"]["idp_individuals"]
    );
    assert_eq!(latest["byGroup"]["groups"][0]["id"], "IQG15");
    assert_eq!(latest["byGroup"]["groups"][0]["name"], "Ninewa");
}

#[tokio::test]
async fn totals_for_a_circle_break_down_by_governorate() {
    let state = iraq_state();
    let reply = send(
        &state,
        post(
            "/collections/sites/totals",
            json!({ "lon": 44.0, "lat": 33.5, "radius": 150000 }),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let totals = reply.json();
    let groups = totals["byGroup"]["groups"].as_array().unwrap();
    assert!(groups.len() > 1, "{totals}");
    let sum: i64 = groups
        .iter()
        .map(|g| g["totals"]["idp_families"].as_i64().unwrap())
        .sum();
    assert_eq!(totals["totals"]["idp_families"], sum);
    let sites: u64 = groups.iter().map(|g| g["sites"].as_u64().unwrap()).sum();
    assert_eq!(totals["sites"], sites);
}

#[tokio::test]
async fn query_results_come_as_csv_on_request() {
    let state = iraq_state();
    let reply = get(
        &state,
        "/collections/sites/near?lon=44.4&lat=33.3&k=5&f=csv",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let text = String::from_utf8(reply.body[3..].to_vec()).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert!(reader.headers().unwrap().iter().any(|h| h == "distance_m"));
    assert_eq!(reader.records().count(), 5);
    let totals = get(
        &state,
        "/collections/sites/totals?area=governorates/IQG08&rounds=all&f=csv",
    )
    .await;
    let text = String::from_utf8(totals.body[3..].to_vec()).unwrap();
    assert!(text.starts_with("round,group,group_name,sites,idp_families,idp_individuals"));
}

#[tokio::test]
async fn bad_query_input_gets_a_4xx_that_says_what_is_wrong() {
    let state = iraq_state();
    let bow_tie = "POLYGON((43%2033,45%2035,45%2033,43%2035,43%2033))";
    let cases: Vec<(String, u16, &str)> = vec![
        (
            format!("/collections/sites/search?geometry={bow_tie}"),
            400,
            "crosses itself",
        ),
        (
            "/collections/sites/search?geometry=POLYGON((43%2033,45%2033,45%2035))".into(),
            400,
            "geometry",
        ),
        (
            "/collections/sites/search?geometry=POINT(44%2033)".into(),
            400,
            "Polygon",
        ),
        (
            "/collections/sites/search?geometry=POLYGON((43%2033,245%2033,45%2035,43%2033))".into(),
            400,
            "outside",
        ),
        (
            "/collections/sites/search?geometry=nonsense".into(),
            400,
            "WKT",
        ),
        (
            format!("/collections/sites/search?geometry={SQUARE_WKT}&relation=near"),
            400,
            "relation",
        ),
        ("/collections/sites/search".into(), 400, "exactly one"),
        (
            "/collections/sites/search?area=governorates".into(),
            400,
            "layer/featureId",
        ),
        (
            "/collections/sites/search?area=governorates/IQG99".into(),
            400,
            "IQG99",
        ),
        (
            "/collections/sites/search?area=nowhere/IQG01".into(),
            400,
            "nowhere",
        ),
        ("/collections/sites/near?lon=44".into(), 400, "lon and lat"),
        (
            "/collections/sites/near?lon=44&lat=33".into(),
            400,
            "radius",
        ),
        (
            "/collections/sites/near?lon=44&lat=33&radius=-5".into(),
            400,
            "radius",
        ),
        (
            "/collections/sites/near?lon=44&lat=33&radius=99999999".into(),
            400,
            "radius",
        ),
        (
            "/collections/sites/near?lon=44&lat=33&radius=NaN".into(),
            400,
            "finite",
        ),
        ("/collections/sites/near?lon=44&lat=33&k=0".into(), 400, "k"),
        (
            "/collections/sites/near?lon=44&lat=33&k=5000".into(),
            400,
            "k",
        ),
        (
            "/collections/sites/near?lon=200&lat=33&k=5".into(),
            400,
            "outside",
        ),
        (
            "/collections/sites/near?lon=44&lat=33&k=5&colour=red".into(),
            400,
            "colour",
        ),
        (
            "/collections/governorates/contains?lon=44".into(),
            400,
            "lon and lat",
        ),
        (
            "/collections/governorates/totals?area=governorates/IQG01".into(),
            400,
            "point layer",
        ),
        (
            "/collections/sites/totals?area=governorates/IQG01&rounds=some".into(),
            400,
            "rounds",
        ),
        (
            "/collections/sites/totals?lon=44&lat=33".into(),
            400,
            "radius",
        ),
        (
            "/collections/nowhere/near?lon=44&lat=33&k=1".into(),
            404,
            "nowhere",
        ),
    ];
    for (uri, status, needle) in cases {
        let reply = get(&state, &uri).await;
        assert_eq!(
            reply.status.as_u16(),
            status,
            "{uri}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        let description = reply.json()["description"].as_str().unwrap().to_string();
        assert!(
            description.contains(needle),
            "{uri}: {description:?} lacks {needle:?}"
        );
    }
}

#[tokio::test]
async fn bodies_that_are_not_json_or_too_large_are_refused() {
    let state = iraq_state();
    let reply = send(
        &state,
        Request::post("/collections/sites/search")
            .body(Body::from("{not json"))
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    // A polygon of 10 million vertices is far over the body limit: 413, not a long parse.
    let huge = vec![b' '; dtmap::config::MAX_BODY_BYTES + 10];
    let reply = send(
        &state,
        Request::post("/collections/sites/search")
            .header("content-type", "application/json")
            .body(Body::from(huge))
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.json()["code"], "PayloadTooLarge");
    // Under the body limit but over the vertex limit: 413 too.
    let ring: Vec<[f64; 2]> = (0..=dtmap::config::MAX_QUERY_VERTICES + 1)
        .map(|i| {
            let a =
                std::f64::consts::TAU * i as f64 / (dtmap::config::MAX_QUERY_VERTICES + 1) as f64;
            [44.0 + a.cos(), 33.0 + a.sin()]
        })
        .collect();
    let mut ring = ring;
    let first = ring[0];
    ring.push(first);
    let reply = send(
        &state,
        post(
            "/collections/sites/search",
            json!({ "geometry": { "type": "Polygon", "coordinates": [ring] } }),
        ),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
}

//! OGC API – Features over the built-in data: landing, collections, items, paging, rounds,
//! filters, caching headers and every error path.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dtmap::api::AppState;
use geo::Intersects;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn the_landing_page_links_to_the_api_conformance_and_collections() {
    let state = iraq_state();
    let landing = get_json(&state, "/?f=json").await;
    let rels: Vec<&str> = landing["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap())
        .collect();
    for rel in ["self", "service-desc", "conformance", "data"] {
        assert!(rels.contains(&rel), "missing {rel} in {rels:?}");
    }
    let conformance = get_json(&state, "/conformance").await;
    let classes = conformance["conformsTo"].as_array().unwrap();
    assert!(classes
        .iter()
        .any(|c| c == "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"));
}

#[tokio::test]
async fn browsers_get_html_at_the_root_and_clients_json() {
    let state = iraq_state();
    let html = send(
        &state,
        Request::get("/")
            .header("accept", "text/html,application/xhtml+xml")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(html
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let json = send(
        &state,
        Request::get("/")
            .header("accept", "application/json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(json.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let state = iraq_state();
    let reply = get(&state, "/api").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("application/vnd.oai.openapi+json"));
    let doc = reply.json();
    assert_eq!(doc["openapi"], "3.0.3");
    for path in [
        "/",
        "/conformance",
        "/api",
        "/collections",
        "/collections/{collectionId}",
        "/collections/{collectionId}/items",
        "/collections/{collectionId}/items/{featureId}",
        "/collections/{collectionId}/queryables",
        "/health",
        "/metrics",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "no GET {path}");
    }
    // The examples of the items endpoint run.
    let params = doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let example = |name: &str| {
        let value = &params.iter().find(|p| p["name"] == name).unwrap()["example"];
        match value {
            Value::Array(items) => items
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(","),
            other => other.as_str().unwrap().to_string(),
        }
    };
    let uri = format!(
        "/collections/{}/items?bbox={}&sortby={}",
        example("collectionId"),
        example("bbox"),
        example("sortby")
    );
    get_json(&state, &uri).await;
}

#[tokio::test]
async fn collections_list_every_layer_with_its_extent_and_rounds() {
    let state = iraq_state();
    let collections = get_json(&state, "/collections").await;
    let list = collections["collections"].as_array().unwrap();
    let ids: Vec<&str> = list.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["governorates", "sites", "countries", "rivers"]);
    let governorates = &list[0];
    assert_eq!(governorates["featureCount"], 18);
    assert_eq!(governorates["rounds"].as_array().unwrap().len(), 12);
    assert_eq!(governorates["latestRound"], "2019-10-31");
    let bbox = governorates["extent"]["spatial"]["bbox"][0]
        .as_array()
        .unwrap();
    assert!((bbox[0].as_f64().unwrap() - 38.77).abs() < 0.01);
    assert!((bbox[3].as_f64().unwrap() - 37.38).abs() < 0.01);
    let one = get_json(&state, "/collections/sites").await;
    assert_eq!(one["featureCount"], 169);
    assert_eq!(one["synthetic"], true);
}

#[tokio::test]
async fn links_honour_the_configured_public_url() {
    let state = AppState::new(
        iraq_snapshot(),
        settings(Some("https://maps.example.org/dtmap/")),
    );
    let page = get_json(&state, "/collections/sites/items?limit=5").await;
    for link in page["links"].as_array().unwrap() {
        assert!(
            link["href"]
                .as_str()
                .unwrap()
                .starts_with("https://maps.example.org/dtmap/collections/sites/items?"),
            "{link}"
        );
    }
}

#[tokio::test]
async fn links_follow_forwarded_headers_behind_a_trusted_proxy() {
    let state = dtmap::api::AppState::new(
        iraq_snapshot(),
        dtmap::api::Settings {
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
            ..settings(None)
        },
    );
    let mut request = Request::get("/collections")
        .header("host", "internal:8080")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "maps.example.org")
        .header("x-forwarded-prefix", "/dtm")
        .body(Body::empty())
        .unwrap();
    request.extensions_mut().insert(dtmap::api::Peer {
        remote: "10.1.2.3:40000".parse().unwrap(),
        local: "10.9.9.9:8080".parse().unwrap(),
    });
    let reply = send(&state, request).await;
    assert_eq!(
        reply.json()["links"][0]["href"],
        "https://maps.example.org/dtm/collections"
    );
}

/// Every feature of a layer, straight from the snapshot (the independent side of the
/// bbox comparison).
fn brute_force_bbox(
    snapshot: &dtmap::model::Snapshot,
    layer: &str,
    rect: geo::Rect<f64>,
) -> Vec<String> {
    let layer = snapshot.layer(layer).unwrap();
    let mut ids: Vec<String> = layer
        .features
        .iter()
        .filter(|f| f.geometry().intersects(&rect))
        .map(|f| f.id.to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn bbox_results_equal_a_brute_force_scan_for_sites_and_governorates() {
    let state = iraq_state();
    let snapshot = state.current();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
    for layer in ["sites", "governorates"] {
        for _ in 0..60 {
            let w = rng.gen_range(38.0..49.0);
            let s = rng.gen_range(29.0..37.5);
            let e = w + rng.gen_range(0.01..4.0);
            let n = s + rng.gen_range(0.01..4.0);
            let (e, n) = (f64::min(e, 180.0), f64::min(n, 90.0));
            let page = get_json(
                &state,
                &format!("/collections/{layer}/items?bbox={w},{s},{e},{n}&limit=10000"),
            )
            .await;
            let mut got = ids(&page);
            got.sort();
            let expected = brute_force_bbox(&snapshot, layer, geo::Rect::new((w, s), (e, n)));
            assert_eq!(got, expected, "{layer} bbox {w},{s},{e},{n}");
            assert_eq!(page["numberMatched"], expected.len());
        }
    }
}

#[tokio::test]
async fn a_site_exactly_on_the_bbox_edge_is_included() {
    let state = iraq_state();
    let snapshot = state.current();
    let site = &snapshot.layer("sites").unwrap().features[0];
    let geo::Geometry::Point(p) = *site.geometry() else {
        panic!("sites are points")
    };
    let page = get_json(
        &state,
        &format!(
            "/collections/sites/items?bbox={},{},{},{}",
            p.x(),
            p.y() - 0.5,
            p.x() + 0.5,
            p.y()
        ),
    )
    .await;
    assert!(ids(&page).contains(&site.id.to_string()));
}

#[tokio::test]
async fn paging_to_the_end_returns_every_feature_once() {
    let state = iraq_state();
    let mut uri = "/collections/sites/items?limit=7&sortby=-idp_individuals".to_string();
    let mut seen: Vec<String> = Vec::new();
    let mut pages = 0;
    loop {
        let page = get_json(&state, &uri).await;
        assert_eq!(page["numberMatched"], 169);
        assert_eq!(
            page["numberReturned"].as_u64().unwrap() as usize,
            page["features"].as_array().unwrap().len()
        );
        seen.extend(ids(&page));
        pages += 1;
        let next = page["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .map(|l| l["href"].as_str().unwrap().to_string());
        match next {
            Some(href) => uri = href.replace("http://example.test", ""),
            None => break,
        }
    }
    assert_eq!(pages, 169usize.div_ceil(7));
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(seen.len(), 169);
    assert_eq!(unique.len(), 169);
}

#[tokio::test]
async fn a_page_past_the_end_is_empty_with_a_prev_link() {
    let state = iraq_state();
    let page = get_json(&state, "/collections/governorates/items?offset=100").await;
    assert_eq!(page["numberReturned"], 0);
    assert_eq!(page["numberMatched"], 18);
    assert!(page["links"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["rel"] == "prev"));
}

fn feature<'a>(collection: &'a Value, id: &str) -> &'a Value {
    collection["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id}"))
}

#[tokio::test]
async fn a_round_brings_its_published_figures_with_their_source() {
    let state = iraq_state();
    let page = get_json(&state, "/collections/governorates/items?round=2015-11-05").await;
    assert_eq!(page["round"], "2015-11-05");
    let anbar = feature(&page, "IQG01");
    assert_eq!(anbar["properties"]["idp_individuals"], 573450);
    assert_eq!(anbar["properties"]["synthetic"], false);
    assert!(anbar["properties"]["source"]
        .as_str()
        .unwrap()
        .starts_with("https://www.uniraq.org/"));
    let latest = get_json(&state, "/collections/governorates/items").await;
    assert_eq!(latest["round"], "2019-10-31");
    let total: i64 = latest["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["idp_individuals"].as_i64().unwrap())
        .sum();
    assert_eq!(
        total, 1_444_500,
        "the national total published for round 112"
    );
}

#[tokio::test]
async fn datetime_selects_the_round_in_force_at_that_time() {
    let state = iraq_state();
    for (datetime, round) in [
        ("2016-01-01", "2015-11-05"),
        ("2017-08-31T12:00:00Z", "2017-08-31"),
        ("2015-01-01/2016-01-01", "2015-11-05"),
        ("../2014-12-31", "2014-08-26"),
        ("2019-05-01/..", "2019-10-31"),
    ] {
        let page = get_json(
            &state,
            &format!("/collections/governorates/items?datetime={datetime}&limit=1"),
        )
        .await;
        assert_eq!(page["round"], round, "datetime={datetime}");
    }
}

#[tokio::test]
async fn one_feature_is_served_with_the_counts_of_the_chosen_round() {
    let state = iraq_state();
    let feature = get_json(
        &state,
        "/collections/governorates/items/IQG08?round=2016-12-08",
    )
    .await;
    assert_eq!(feature["type"], "Feature");
    assert_eq!(feature["id"], "IQG08");
    assert_eq!(feature["properties"]["name_en"], "Baghdad");
    assert_eq!(feature["properties"]["idp_individuals"], 412836);
    assert!(feature["links"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["rel"] == "collection"));
}

#[tokio::test]
async fn equality_filters_select_sites_of_one_governorate() {
    let state = iraq_state();
    let snapshot = state.current();
    let expected = snapshot
        .layer("sites")
        .unwrap()
        .features
        .iter()
        .filter(|f| f.properties.get("governorate").and_then(|v| v.as_str()) == Some("IQG15"))
        .count();
    assert!(expected > 0);
    let page = get_json(
        &state,
        "/collections/sites/items?governorate=IQG15&limit=1000",
    )
    .await;
    assert_eq!(page["numberMatched"], expected);
    for f in page["features"].as_array().unwrap() {
        assert_eq!(f["properties"]["governorate"], "IQG15");
    }
}

#[tokio::test]
async fn sortby_orders_by_counts_descending() {
    let state = iraq_state();
    let page = get_json(
        &state,
        "/collections/governorates/items?sortby=-idp_individuals",
    )
    .await;
    let values: Vec<i64> = page["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["idp_individuals"].as_i64().unwrap())
        .collect();
    assert_eq!(values.len(), 18);
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "{values:?}");
}

#[tokio::test]
async fn properties_limits_what_each_feature_carries() {
    let state = iraq_state();
    let page = get_json(
        &state,
        "/collections/governorates/items?properties=name_ar,idp_families&limit=1",
    )
    .await;
    let properties = page["features"][0]["properties"].as_object().unwrap();
    let mut keys: Vec<&str> = properties.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["idp_families", "name_ar"]);
}

#[tokio::test]
async fn sites_carry_their_kurdish_name_where_geonames_has_one() {
    let state = iraq_state();
    let meta = get_json(&state, "/collections/sites").await;
    assert_eq!(meta["names"]["ar"], "name_ar");
    assert_eq!(meta["names"]["ckb"], "name_ckb");
    let page = get_json(
        &state,
        "/collections/sites/items?properties=name_en,name_ckb&limit=10000",
    )
    .await;
    let features = page["features"].as_array().unwrap();
    assert_eq!(features.len(), 169);
    let ckb = |id: &str| {
        let feature = features.iter().find(|f| f["id"] == id).unwrap();
        feature["properties"]["name_ckb"].clone()
    };
    assert_eq!(ckb("GN95446"), "هەولێر", "Erbil");
    assert_eq!(
        ckb("GN94787"),
        "کەرکووک",
        "Kirkuk, with Kurdish ک rather than ك"
    );
    assert!(
        ckb("GN100050").is_null(),
        "Abī al Khaşīb has no Sorani alternate"
    );
    let names: Vec<&str> = features
        .iter()
        .filter_map(|f| f["properties"]["name_ckb"].as_str())
        .collect();
    assert_eq!(names.len(), 63);
    for name in names {
        assert!(name.chars().any(|c| "ڕڵێۆە".contains(c)), "{name}");
        assert!(
            name.chars()
                .all(|c| c == ' ' || ('\u{0621}'..='\u{06FF}').contains(&c)),
            "{name}"
        );
    }
}

#[tokio::test]
async fn csv_output_starts_with_a_bom_and_keeps_arabic_names() {
    let state = iraq_state();
    let reply = get(&state, "/collections/governorates/items?f=csv").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("text/csv"));
    assert!(reply.body.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(reply.body[3..].to_vec()).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "id");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 18);
    let name_ar = headers.iter().position(|h| h == "name_ar").unwrap();
    assert!(rows.iter().any(|r| &r[name_ar] == "محافظة بغداد"));
}

#[tokio::test]
async fn every_bad_request_gets_a_json_400_or_404_saying_what_is_wrong() {
    let state = iraq_state();
    let cases = [
        ("/collections/nowhere", 404, "nowhere"),
        ("/collections/nowhere/items", 404, "nowhere"),
        ("/collections/sites/items/GN0", 404, "GN0"),
        ("/no/such/route", 404, "/api"),
        ("/collections/sites/items?bbox=1,2,3", 400, "4 numbers"),
        ("/collections/sites/items?bbox=a,b,c,d", 400, "not a number"),
        ("/collections/sites/items?bbox=40,30,45,91", 400, "latitude"),
        (
            "/collections/sites/items?bbox=-200,30,45,35",
            400,
            "longitude",
        ),
        ("/collections/sites/items?bbox=40,35,45,30", 400, "south"),
        ("/collections/sites/items?bbox=40,NaN,45,35", 400, "finite"),
        ("/collections/sites/items?limit=0", 400, "limit"),
        ("/collections/sites/items?limit=-5", 400, "limit"),
        ("/collections/sites/items?limit=ten", 400, "limit"),
        ("/collections/sites/items?offset=-1", 400, "offset"),
        ("/collections/sites/items?round=1999-01-01", 400, "no round"),
        (
            "/collections/countries/items?round=2019-10-31",
            400,
            "no rounds",
        ),
        (
            "/collections/sites/items?datetime=yesterday",
            400,
            "datetime",
        ),
        (
            "/collections/sites/items?datetime=2019-01-01/2018-01-01",
            400,
            "ends before",
        ),
        (
            "/collections/sites/items?round=2019-10-31&datetime=2019-10-31",
            400,
            "either",
        ),
        ("/collections/sites/items?colour=red", 400, "colour"),
        (
            "/collections/sites/items?idp_families=many",
            400,
            "not a number",
        ),
        ("/collections/sites/items?sortby=colour", 400, "sortby"),
        ("/collections/sites/items?properties=colour", 400, "colour"),
        ("/collections/sites/items?bbox-crs=EPSG:3857", 400, "CRS84"),
        ("/collections/sites/items?crs=EPSG:4326", 400, "CRS84"),
        ("/collections/sites/items?f=xml", 400, "xml"),
        ("/collections/sites/items/GN98182?colour=red", 400, "colour"),
    ];
    for (uri, status, needle) in cases {
        let reply = get(&state, uri).await;
        assert_eq!(reply.status.as_u16(), status, "{uri}");
        assert_eq!(
            reply.header("content-type"),
            Some("application/json"),
            "{uri}"
        );
        let body = reply.json();
        let description = body["description"].as_str().unwrap_or_default();
        assert!(body["code"].is_string(), "{uri}: {body}");
        assert!(
            description.contains(needle),
            "{uri}: {description:?} should mention {needle:?}"
        );
    }
}

#[tokio::test]
async fn a_repeated_request_with_its_etag_gets_304() {
    let state = iraq_state();
    let first = get(&state, "/collections/sites/items?limit=3").await;
    let etag = first.header("etag").unwrap().to_string();
    assert!(etag.starts_with('"'));
    assert_eq!(first.header("cache-control"), Some("public, max-age=60"));
    let again = send(
        &state,
        Request::get("/collections/sites/items?limit=3")
            .header("host", "example.test")
            .header("if-none-match", &etag)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    let other = get(&state, "/collections/sites/items?limit=4").await;
    assert_ne!(other.header("etag").unwrap(), etag);
}

#[tokio::test]
async fn responses_are_compressed_and_open_to_other_origins() {
    let state = iraq_state();
    let reply = send(
        &state,
        Request::get("/collections/governorates/items")
            .header("accept-encoding", "gzip")
            .header("origin", "https://partner.example.org")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    let mut decoded = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&reply.body[..]),
        &mut decoded,
    )
    .unwrap();
    let collection: Value = serde_json::from_str(&decoded).unwrap();
    assert_eq!(collection["numberReturned"], 18);
}

#[tokio::test]
async fn queryables_list_properties_and_counts() {
    let state = iraq_state();
    let queryables = get_json(&state, "/collections/sites/queryables").await;
    let properties = queryables["properties"].as_object().unwrap();
    for name in [
        "site_id",
        "governorate",
        "idp_families",
        "idp_individuals",
        "geometry",
    ] {
        assert!(properties.contains_key(name), "{name}");
    }
    assert_eq!(properties["idp_families"]["type"], "integer");
}

#[tokio::test]
async fn metrics_count_requests_by_route() {
    let state = iraq_state();
    get(&state, "/collections/sites/items?limit=1").await;
    get(&state, "/collections/nowhere").await;
    let reply = get(&state, "/metrics").await;
    let text = String::from_utf8(reply.body).unwrap();
    assert!(
        text.contains(
            r#"dtmap_http_requests_total{route="/collections/{collectionId}/items",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(
        r#"dtmap_http_requests_total{route="/collections/{collectionId}",status="404"} 1"#
    ));
    assert!(text.contains(r#"dtmap_features{layer="sites"} 169"#));
}

#[tokio::test]
async fn a_feature_series_lists_its_counts_in_every_round_with_sources() {
    let state = iraq_state();
    let series = get_json(&state, "/collections/governorates/items/IQG01/rounds").await;
    let rounds = series["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 12);
    let november_2015 = rounds.iter().find(|r| r["round"] == "2015-11-05").unwrap();
    assert_eq!(november_2015["counts"]["idp_individuals"], 573450);
    assert_eq!(november_2015["synthetic"], false);
    for round in rounds {
        let one = get_json(
            &state,
            &format!(
                "/collections/governorates/items/IQG01?round={}",
                round["round"].as_str().unwrap()
            ),
        )
        .await;
        assert_eq!(
            one["properties"]["idp_families"],
            round["counts"]["idp_families"]
        );
    }
    assert_eq!(
        get(&state, "/collections/governorates/items/IQG99/rounds")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// A URL for an OpenAPI path, filled with the examples of its parameters.
fn example_url(path: &str, parameters: &[Value]) -> String {
    let mut url = path.to_string();
    let mut query: Vec<String> = Vec::new();
    for p in parameters {
        let Some(example) = p.get("example") else {
            continue;
        };
        let text = match example {
            Value::String(s) => s.clone(),
            // Arrays are form style, not exploded: comma-separated.
            Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        let name = p["name"].as_str().unwrap();
        if p["in"] == "path" {
            let encoded =
                percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC)
                    .to_string();
            url = url.replace(&format!("{{{name}}}"), &encoded);
        } else {
            query.push(format!(
                "{name}={}",
                percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC)
            ));
        }
    }
    if query.is_empty() {
        url
    } else {
        format!("{url}?{}", query.join("&"))
    }
}

#[tokio::test]
async fn every_get_example_in_the_openapi_document_runs() {
    let state = iraq_state();
    let doc = get_json(&state, "/api").await;
    let mut ran = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(get_op) = item.get("get") else {
            continue;
        };
        // The admin area exists only when configured (tests/api/admin.rs covers it).
        if path.starts_with("/admin") {
            continue;
        }
        let parameters = get_op["parameters"].as_array().cloned().unwrap_or_default();
        let url = example_url(path, &parameters);
        assert!(
            !url.contains('{'),
            "{path}: a path parameter has no example: {url}"
        );
        let reply = get(&state, &url).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{url}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        ran += 1;
    }
    assert!(ran >= 20, "only {ran} examples");
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(post_op) = item.get("post") else {
            continue;
        };
        if post_op.get("security").is_some() || path.starts_with("/admin") {
            // The admin area (credentials, and only when configured): tests/api/admin.rs.
            continue;
        }
        let parameters = post_op["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let url = example_url(path, &parameters);
        let body = &post_op["requestBody"]["content"]["application/json"]["example"];
        let reply = send(
            &state,
            Request::post(url.as_str())
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "POST {url}: {}",
            String::from_utf8_lossy(&reply.body)
        );
    }
}

#[tokio::test]
async fn the_series_of_a_layer_gives_every_feature_its_rounds_in_one_answer() {
    let state = iraq_state();
    let all = get_json(&state, "/collections/governorates/series").await;
    let features = all["features"].as_array().unwrap();
    assert_eq!(features.len(), 18);
    for feature in features {
        let id = feature["id"].as_str().unwrap();
        let one = get_json(
            &state,
            &format!("/collections/governorates/items/{id}/rounds"),
        )
        .await;
        assert_eq!(feature["rounds"], one["rounds"], "{id}");
    }
    assert_eq!(all["countColumns"][0], "idp_individuals");
    assert_eq!(
        get(&state, "/collections/nowhere/series").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn collections_publish_the_class_breaks_of_the_style_and_the_property_of_other_names() {
    let state = iraq_state();
    let meta = get_json(&state, "/collections/governorates").await;
    assert_eq!(meta["altNames"], "name_ne");
    let style = get_json(&state, "/styles/default.json").await;
    let fill = style["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "governorates-fill")
        .unwrap();
    let step = fill["paint"]["fill-color"][2].as_array().unwrap();
    let style_breaks: Vec<Value> = step[3..].iter().step_by(2).cloned().collect();
    let breaks = meta["classBreaks"]["idp_individuals"].as_array().unwrap();
    assert_eq!(&style_breaks, breaks);
    assert_eq!(breaks.len(), 4);
    let values: Vec<i64> = breaks.iter().map(|b| b.as_i64().unwrap()).collect();
    assert!(values.windows(2).all(|w| w[0] < w[1]), "{values:?}");
    // Over every round: the lowest class holds a fifth of all positive figures, or fewer.
    let mut all = Vec::new();
    for round in meta["rounds"].as_array().unwrap() {
        let page = get_json(
            &state,
            &format!(
                "/collections/governorates/items?round={}&limit=100",
                round["id"].as_str().unwrap()
            ),
        )
        .await;
        for f in page["features"].as_array().unwrap() {
            if let Some(v) = f["properties"]["idp_individuals"]
                .as_i64()
                .filter(|&v| v > 0)
            {
                all.push(v);
            }
        }
    }
    let below = all.iter().filter(|&&v| v < values[0]).count();
    assert!(below * 5 <= all.len() + 5, "{below} of {}", all.len());
    assert!(
        meta["classBreaks"]["idp_families"]
            .as_array()
            .unwrap()
            .len()
            >= 3
    );
    let sites = get_json(&state, "/collections/sites").await;
    assert_eq!(sites["altNames"], "alt_names");
    let place = get_json(&state, "/collections/sites/items/GN90393").await;
    let others: Vec<&str> = place["properties"]["alt_names"]
        .as_str()
        .unwrap()
        .split("; ")
        .collect();
    assert!(others.contains(&"Tal Afar"), "{others:?}");
    let countries = get_json(&state, "/collections/countries").await;
    assert!(
        countries["altNames"].is_null(),
        "none where none is configured"
    );
}

#[tokio::test]
async fn all_rounds_download_as_one_time_series() {
    let state = iraq_state();
    let reply = get(&state, "/datasets/governorates/all.csv").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply
        .header("content-disposition")
        .unwrap()
        .contains("dtmap-governorates-all-rounds.csv"));
    let text = String::from_utf8(reply.body).unwrap();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header = reader.headers().unwrap().clone();
    let round_col = header.iter().position(|h| h == "round").unwrap();
    let id_col = header.iter().position(|h| h == "id").unwrap();
    let count_col = header.iter().position(|h| h == "idp_individuals").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 18 * 12);
    let series = get_json(&state, "/collections/governorates/items/IQG01/rounds").await;
    for r in series["rounds"].as_array().unwrap() {
        let row = rows
            .iter()
            .find(|row| &row[id_col] == "IQG01" && row[round_col] == r["round"])
            .unwrap();
        assert_eq!(
            row[count_col].parse::<i64>().ok(),
            r["counts"]["idp_individuals"].as_i64()
        );
    }
    let xlsx = get(&state, "/datasets/sites/all.xlsx").await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.body.starts_with(b"PK"));
    assert_eq!(
        get(&state, "/datasets/sites/all.geojson").await.status,
        StatusCode::NOT_FOUND
    );
    let list = get_json(&state, "/datasets").await;
    let governorates = list["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["layer"] == "governorates")
        .unwrap();
    assert_eq!(
        governorates["allRounds"]["csv"],
        "http://example.test/datasets/governorates/all.csv"
    );
}

//! The requirements of OGC API – Features Part 1 (core) and Part 3 (queryables) that the
//! abstract test suite checks, and the OpenAPI document: generated from the route table the
//! router is built from, valid OpenAPI 3.0, every route in it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dtmap::api::routes::{openapi_path, path_parameters, ROUTES};
use dtmap::config::MAX_ITEMS_LIMIT;
use serde_json::Value;

use crate::common::*;

fn link<'a>(doc: &'a Value, rel: &str) -> Option<&'a Value> {
    doc["links"].as_array()?.iter().find(|l| l["rel"] == rel)
}

/// The path and query of a link (the tests send requests without a host).
fn local(href: &str) -> String {
    let rest = href.split_once("://").map_or(href, |(_, rest)| rest);
    rest.find('/')
        .map_or("/".into(), |at| rest[at..].to_string())
}

#[tokio::test]
async fn a_limit_above_the_maximum_is_capped_not_refused() {
    let state = iraq_state();
    for uri in [
        "/collections/sites/items?limit=100001",
        "/collections/sites/items?limit=99999999999999999999999999",
        "/collections/sites/near?lon=44.4&lat=33.3&radius=500000&limit=100001",
    ] {
        let page = get_json(&state, uri).await;
        let this = link(&page, "self").expect("self link");
        assert!(
            this["href"]
                .as_str()
                .unwrap()
                .contains(&format!("limit={MAX_ITEMS_LIMIT}")),
            "{uri}: {this}"
        );
        assert!(page["numberReturned"].as_u64().unwrap() <= MAX_ITEMS_LIMIT as u64);
    }
    let all = get_json(&state, "/collections/sites/items?limit=20000").await;
    assert_eq!(all["numberReturned"], 169);
    for bad in ["0", "-1", "ten", "", "1.5", "00"] {
        let reply = get(&state, &format!("/collections/sites/items?limit={bad}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "limit={bad}");
        assert!(reply.json()["description"]
            .as_str()
            .unwrap()
            .starts_with("limit"));
    }
}

#[tokio::test]
async fn items_and_single_items_link_their_csv_alternate() {
    let state = iraq_state();
    let page = get_json(&state, "/collections/sites/items?limit=5&offset=5&f=json").await;
    assert_eq!(link(&page, "self").unwrap()["type"], "application/geo+json");
    assert_eq!(link(&page, "next").unwrap()["type"], "application/geo+json");
    let alternate = link(&page, "alternate").expect("alternate link");
    assert_eq!(alternate["type"], "text/csv");
    let href = alternate["href"].as_str().unwrap();
    assert!(href.contains("f=csv") && !href.contains("f=json"), "{href}");
    let csv = get(&state, &local(href)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    // A header and the same 5 features as the page.
    let text = String::from_utf8_lossy(&csv.body).to_string();
    assert_eq!(text.lines().count(), 6, "{text}");
    for id in ids(&page) {
        assert!(text.contains(&id), "{id} not in the CSV");
    }

    let one = get_json(&state, "/collections/sites/items/GN98182").await;
    assert_eq!(link(&one, "self").unwrap()["type"], "application/geo+json");
    let alternate = link(&one, "alternate").expect("alternate link of an item");
    assert_eq!(alternate["type"], "text/csv");
    let csv = get(&state, &local(alternate["href"].as_str().unwrap())).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = String::from_utf8_lossy(&csv.body).to_string();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("GN98182"));
}

#[tokio::test]
async fn a_datetime_no_round_matches_is_an_empty_result() {
    let state = iraq_state();
    for uri in [
        "/collections/sites/items?datetime=2010-01-01",
        "/collections/sites/items?datetime=2030-01-01/..",
        "/collections/governorates/items?datetime=1990-01-01T00:00:00Z/2000-01-01T00:00:00Z",
    ] {
        let page = get_json(&state, uri).await;
        assert_eq!(page["numberMatched"], 0, "{uri}");
        assert_eq!(page["numberReturned"], 0, "{uri}");
        assert_eq!(page["features"].as_array().unwrap().len(), 0, "{uri}");
    }
    // A round that matches still selects its counts.
    let dated = get_json(
        &state,
        "/collections/governorates/items?datetime=2019-10-31&limit=1",
    )
    .await;
    assert_eq!(dated["numberMatched"], 18);
    // Invalid dates and round= keep their 400s.
    for uri in [
        "/collections/sites/items?datetime=yesterday",
        "/collections/sites/items?datetime=2019-02-30",
        "/collections/sites/items?round=1999-01-01",
        "/collections/sites/items?round=2019-10-31&datetime=2019-10-31",
    ] {
        assert_eq!(
            get(&state, uri).await.status,
            StatusCode::BAD_REQUEST,
            "{uri}"
        );
    }
}

#[tokio::test]
async fn a_datetime_on_a_layer_without_a_temporal_dimension_is_ignored() {
    let state = iraq_state();
    let countries = get_json(&state, "/collections/countries").await;
    assert!(
        countries["extent"]["temporal"].is_null(),
        "countries have no dates"
    );
    let all = get_json(&state, "/collections/countries/items?limit=1000").await;
    for datetime in [
        "2019-01-01",
        "2010-01-01/2011-01-01",
        "../2000-01-01T00:00:00Z",
    ] {
        let page = get_json(
            &state,
            &format!("/collections/countries/items?limit=1000&datetime={datetime}"),
        )
        .await;
        assert_eq!(page["numberMatched"], all["numberMatched"], "{datetime}");
        assert_eq!(ids(&page), ids(&all), "{datetime}");
    }
    assert_eq!(
        get(&state, "/collections/countries/items?datetime=not-a-date")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

/// A URL for an OpenAPI path filled with the examples of its parameters (arrays as
/// comma-separated values).
fn example_url(path: &str, parameters: &[Value]) -> String {
    let encode = |text: &str| {
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let mut url = path.to_string();
    let mut query = Vec::new();
    for p in parameters {
        let Some(example) = p.get("example") else {
            continue;
        };
        let text = match example {
            Value::String(s) => s.clone(),
            Value::Array(items) => items
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        let name = p["name"].as_str().unwrap();
        if p["in"] == "path" {
            url = url.replace(&format!("{{{name}}}"), &encode(&text));
        } else {
            query.push(format!("{name}={}", encode(&text)));
        }
    }
    if query.is_empty() {
        url
    } else {
        format!("{url}?{}", query.join("&"))
    }
}

#[tokio::test]
async fn every_endpoint_refuses_an_unknown_parameter_and_names_it() {
    let state = iraq_state();
    let doc = get_json(&state, "/api").await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            // The admin area needs credentials (and exists only when configured); the pages people share (the dashboard and the
            // embed) open whatever tracking parameters a link carries; static assets ignore
            // query strings (MapLibre asks for its worker with `?v=`).
            if op.get("security").is_some()
                || path.starts_with("/admin")
                || path == "/dashboard"
                || path == "/embed"
                || path.starts_with("/assets/")
            {
                continue;
            }
            let url = example_url(path, op["parameters"].as_array().unwrap());
            let separator = if url.contains('?') { '&' } else { '?' };
            let url = format!("{url}{separator}zz_unknown=1");
            let request = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(url.as_str())
                .header("content-type", "application/json")
                .body(Body::from(
                    op["requestBody"]["content"]["application/json"]["example"].to_string(),
                ))
                .unwrap();
            let reply = send(&state, request).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{method} {url}");
            let description = reply.json()["description"].as_str().unwrap().to_string();
            assert!(
                description.contains("zz_unknown"),
                "{method} {url}: {description}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 32, "only {checked} operations");
    for page in ["/dashboard?utm_source=x", "/embed?utm_source=x"] {
        assert_eq!(get(&state, page).await.status, StatusCode::OK, "{page}");
    }
    // f= stays wherever formats are negotiated, and what the web client sends still works.
    for uri in [
        "/?f=json",
        "/conformance?f=json",
        "/collections?f=json",
        "/collections/sites?f=json",
        "/collections/sites/queryables?f=json",
        "/api?f=json",
        "/datasets?f=json",
        "/published?f=csv",
        "/dashboard/origins?f=csv",
        "/collections/sites/tiles?f=json",
        "/styles/default.json?round=2019-10-31",
        "/tiles/governorates,sites/tilejson.json?round=2019-10-31",
        "/tiles/governorates.json?round=latest",
        "/collections/sites/items?properties=name_en,name_ar&limit=10000",
        "/collections/sites/items?round=2019-10-31&properties=idp_families,synthetic,source&limit=10000",
        "/dashboard?embed=1&lang=ar&round=2019-10-31&area=IQG15",
        "/embed?layers=governorates&round=2019-10-31&lang=ar&metric=idp_families",
        "/?lang=ar&round=2019-10-31&metric=idp_families&layers=governorates,sites",
    ] {
        let reply = get(&state, uri).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{uri}: {}",
            String::from_utf8_lossy(&reply.body)
        );
    }
    // Tile URLs carry round=.
    let tile = get(&state, "/tiles/governorates/5/20/12?round=2019-10-31").await;
    assert!(tile.status.is_success(), "{}", tile.status);
    let tile = get(&state, "/tiles/governorates/5/20/12?round=2019-10-31&v=2").await;
    assert_eq!(tile.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_landing_page_links_service_desc_and_an_html_service_doc() {
    let state = iraq_state();
    let landing = get_json(&state, "/").await;
    let desc = link(&landing, "service-desc").expect("service-desc");
    assert_eq!(desc["type"], "application/vnd.oai.openapi+json;version=3.0");
    assert_eq!(local(desc["href"].as_str().unwrap()), "/api");
    let doc_link = link(&landing, "service-doc").expect("service-doc");
    assert_eq!(doc_link["type"], "text/html");
    assert_eq!(local(doc_link["href"].as_str().unwrap()), "/api.html");
    let page = get(&state, "/api.html").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let html = String::from_utf8(page.body).unwrap();
    assert!(!html.contains("<script"), "the page is self-contained");
    assert!(
        !html.contains("src=\"http"),
        "nothing is fetched from elsewhere"
    );
    let doc = get_json(&state, "/api").await;
    for path in doc["paths"].as_object().unwrap().keys() {
        assert!(
            html.contains(&format!("{}</code>", path.replace('&', "&amp;"))),
            "{path} is not on the page"
        );
    }
    assert!(html.contains("<table>") && html.contains("governorate"));
}

#[tokio::test]
async fn queryables_are_json_schema_2020_12() {
    let state = iraq_state();
    for id in ["sites", "governorates", "countries"] {
        let reply = get(&state, &format!("/collections/{id}/queryables")).await;
        assert_eq!(
            reply.header("content-type"),
            Some("application/schema+json")
        );
        let schema = reply.json();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(
            local(schema["$id"].as_str().unwrap()),
            format!("/collections/{id}/queryables")
        );
        assert_eq!(schema["type"], "object");
        let properties = schema["properties"].as_object().unwrap();
        for (name, property) in properties {
            assert!(property["title"].is_string(), "{id}.{name} has no title");
            assert!(
                property["type"].is_string() || property["format"].is_string(),
                "{id}.{name} has neither type nor format"
            );
        }
        let geometry = &properties["geometry"];
        assert_eq!(geometry["x-ogc-role"], "primary-geometry");
        assert!(geometry["format"]
            .as_str()
            .unwrap()
            .starts_with("geometry-"));
    }
}

#[tokio::test]
async fn collections_link_their_vector_tilesets() {
    let state = iraq_state();
    let collections = get_json(&state, "/collections").await;
    for collection in collections["collections"].as_array().unwrap() {
        let tiles = link(
            collection,
            "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
        )
        .unwrap_or_else(|| panic!("{} has no tilesets-vector link", collection["id"]));
        let href = local(tiles["href"].as_str().unwrap());
        assert_eq!(
            href,
            format!("/collections/{}/tiles", collection["id"].as_str().unwrap())
        );
        let tilesets = get_json(&state, &href).await;
        assert_eq!(tilesets["tilesets"][0]["dataType"], "vector");
    }
    // The tile matrix set is a path parameter: only WebMercatorQuad exists.
    let other = get(&state, "/collections/sites/tiles/WorldCRS84Quad/0/0/0").await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&state, "/collections/sites/tiles/WorldCRS84Quad")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn every_route_of_the_router_is_in_the_openapi_document() {
    let state = iraq_state();
    let doc = get_json(&state, "/api").await;
    let paths = doc["paths"].as_object().unwrap();
    let mut documented: BTreeSet<String> = BTreeSet::new();
    for route in ROUTES {
        let path = openapi_path(route.path);
        documented.insert(path.clone());
        let item = paths
            .get(&path)
            .unwrap_or_else(|| panic!("{path} is routed but not in /api"));
        let methods: Vec<&str> = [("get", route.get.is_some()), ("post", route.post.is_some())]
            .into_iter()
            .filter(|(_, has)| *has)
            .map(|(m, _)| m)
            .collect();
        let listed: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(listed, methods, "{path}");
        // The router has the route: a method it lacks is a 405, not the fallback's 404.
        let concrete: String = path_parameters(route.path)
            .iter()
            .fold(route.path.replace("{*", "{"), |p, name| {
                p.replace(&format!("{{{name}}}"), "x")
            });
        let wrong = if route.get.is_some() { "DELETE" } else { "GET" };
        let reply = send(
            &state,
            Request::builder()
                .method(wrong)
                .uri(concrete.as_str())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        // Without an admin area configured, its routes do not exist at all.
        let expected = if path.starts_with("/admin") {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::METHOD_NOT_ALLOWED
        };
        assert_eq!(reply.status, expected, "{wrong} {concrete}");
    }
    // Every documented path is routed: the table's, and one items path per collection.
    let collections: BTreeSet<String> = state
        .current()
        .layers
        .iter()
        .map(|l| format!("/collections/{}/items", l.id))
        .collect();
    for path in paths.keys() {
        assert!(
            documented.contains(path) || collections.contains(path),
            "{path} is in /api but not routed"
        );
    }
    assert!(ROUTES.len() >= 35, "{} routes", ROUTES.len());
}

/// Every `$ref` in `value` (recursively).
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "$ref" {
                    out.extend(v.as_str());
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_document_is_valid_openapi_3_0() {
    let state = iraq_state();
    let reply = get(&state, "/api").await;
    assert_eq!(
        reply.header("content-type"),
        Some("application/vnd.oai.openapi+json;version=3.0")
    );
    let doc = reply.json();
    assert_eq!(doc["openapi"], "3.0.3");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let mut operation_ids = BTreeSet::new();
    let mut parameters_total = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(path.starts_with('/'), "{path}");
        let in_path: BTreeSet<&str> = path
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(n, _)| n))
            .collect();
        for (method, op) in item.as_object().unwrap() {
            assert!(
                ["get", "post"].contains(&method.as_str()),
                "{path} {method}"
            );
            let id = op["operationId"].as_str().expect("operationId");
            assert!(
                operation_ids.insert(id.to_string()),
                "operationId {id} twice"
            );
            assert!(op["summary"].is_string(), "{path}");
            let responses = op["responses"].as_object().expect("responses");
            assert!(responses.contains_key("200"), "{path} {method}");
            let mut seen = BTreeSet::new();
            let mut declared_path = BTreeSet::new();
            for p in op["parameters"].as_array().unwrap() {
                parameters_total += 1;
                let name = p["name"].as_str().expect("name");
                let location = p["in"].as_str().expect("in");
                assert!(
                    ["path", "query", "header", "cookie"].contains(&location),
                    "{path} {name}: in {location}"
                );
                assert!(p["schema"]["type"].is_string(), "{path} {name}: schema");
                assert!(
                    p["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{path} {name}: no description"
                );
                assert!(seen.insert((name, location)), "{path} {name} twice");
                if location == "path" {
                    assert_eq!(p["required"], true, "{path} {name}");
                    declared_path.insert(name);
                }
                if p["schema"]["type"] == "array" {
                    assert_eq!(p["style"], "form", "{path} {name}");
                    assert_eq!(p["explode"], false, "{path} {name}");
                }
            }
            assert_eq!(declared_path, in_path, "{path} {method}: path parameters");
        }
    }
    let mut all_refs = Vec::new();
    refs(&doc, &mut all_refs);
    assert!(!all_refs.is_empty());
    for reference in all_refs {
        let pointer = reference.strip_prefix('#').expect("local reference");
        assert!(
            doc.pointer(pointer).is_some(),
            "{reference} does not resolve"
        );
    }
    assert!(parameters_total > 200, "{parameters_total} parameters");

    // What the old, hand-written document got wrong.
    let items = &doc["paths"]["/collections/{collectionId}/items"]["get"];
    let param = |op: &Value, name: &str| {
        op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no parameter {name}"))
    };
    let bbox = param(items, "bbox");
    assert_eq!(bbox["schema"]["type"], "array");
    assert_eq!(bbox["schema"]["minItems"], 4);
    assert_eq!(bbox["schema"]["maxItems"], 6);
    assert_eq!(bbox["schema"]["items"]["type"], "number");
    assert_eq!(
        param(items, "filter-lang")["schema"]["default"],
        "cql2-text"
    );
    for status in ["200", "304", "400", "404", "414"] {
        assert!(items["responses"][status].is_object(), "items: no {status}");
    }
    let media: BTreeSet<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .flat_map(|op| {
            op["responses"]["200"]["content"]
                .as_object()
                .unwrap()
                .keys()
        })
        .map(String::as_str)
        .collect();
    for needed in [
        "text/csv; charset=utf-8",
        "text/html",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/geo+json",
        "application/vnd.mapbox-vector-tile",
    ] {
        assert!(media.contains(needed), "no {needed} in {media:?}");
    }
    assert!(doc["paths"]
        ["/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"]
        ["get"]
        .is_object());
    // One items path per collection, with a parameter per queryable property.
    let sites = &doc["paths"]["/collections/sites/items"]["get"];
    assert_eq!(param(sites, "governorate")["schema"]["type"], "string");
    assert_eq!(param(sites, "idp_families")["schema"]["type"], "integer");
    assert_eq!(param(sites, "limit")["in"], "query");
    let queryables = get_json(&state, "/collections/sites/queryables").await;
    // The geometry and the round's date are for filters (`bbox`, `datetime`, CQL2), not
    // property parameters.
    for name in queryables["properties"].as_object().unwrap().keys() {
        if name != "geometry" && name != "round_date" {
            param(sites, name);
        }
    }
    let filtered = get_json(
        &state,
        "/collections/sites/items?governorate=IQG15&limit=1000",
    )
    .await;
    assert!(filtered["numberMatched"].as_u64().unwrap() > 0);
}

/// A Python with `openapi_spec_validator`: `DTMAP_TEST_PYTHON` (set by scripts/test, with
/// tests/requirements.txt installed), or a venv made under the target dir on first use.
fn python_with_openapi_spec_validator() -> PathBuf {
    let works = |python: &Path| {
        Command::new(python)
            .args(["-c", "import openapi_spec_validator"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if let Ok(python) = std::env::var("DTMAP_TEST_PYTHON") {
        let python = PathBuf::from(python);
        if works(&python) {
            return python;
        }
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi-venv");
    let python = venv.join("bin").join("python");
    if works(&python) {
        return python;
    }
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "python3 -m venv {} failed", venv.display());
    let requirement = include_str!("../requirements.txt")
        .lines()
        .find(|l| l.starts_with("openapi-spec-validator"))
        .expect("openapi-spec-validator in tests/requirements.txt");
    let installed = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", requirement])
        .status()
        .is_ok_and(|s| s.success());
    assert!(installed, "pip install {requirement} failed");
    python
}

#[tokio::test]
async fn openapi_spec_validator_accepts_the_document() {
    let state = iraq_state();
    let reply = get(&state, "/api").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, &reply.body).unwrap();
    let python = tokio::task::spawn_blocking(python_with_openapi_spec_validator)
        .await
        .unwrap();
    let output = Command::new(python)
        .args([
            "-c",
            "import json, sys\nfrom openapi_spec_validator import validate\nfrom openapi_spec_validator.validation import OpenAPIV30SpecValidator\nvalidate(json.load(open(sys.argv[1])), cls=OpenAPIV30SpecValidator)\nprint('valid')",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

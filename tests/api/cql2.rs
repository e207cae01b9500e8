//! CQL2 filters (`filter`, `filter-lang`) through the router on the built-in data: text and
//! JSON encodings select exactly what a brute-force scan of the snapshot selects, alone and
//! with bbox and paging; every malformed filter is a JSON 400 (or 413) saying what is wrong.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use dtmap::error::ApiError;
use dtmap::model::{Feature, Layer};
use geo::{Contains, Distance, Geodesic, Intersects, Point};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use crate::common::*;

/// The items URI of a layer with a filter (and more parameters, already encoded).
fn filter_uri(layer: &str, filter: &str, lang: Option<&str>, more: &str) -> String {
    let mut uri = format!(
        "/collections/{layer}/items?limit=10000&filter={}",
        utf8_percent_encode(filter, NON_ALPHANUMERIC)
    );
    if let Some(lang) = lang {
        uri.push_str(&format!("&filter-lang={lang}"));
    }
    uri.push_str(more);
    uri
}

/// The ids a filter selects through the API, sorted, checked against numberMatched.
async fn selected(
    state: &std::sync::Arc<dtmap::api::AppState>,
    layer: &str,
    filter: &str,
    lang: Option<&str>,
) -> BTreeSet<String> {
    let page = get_json(state, &filter_uri(layer, filter, lang, "")).await;
    let got: BTreeSet<String> = ids(&page).into_iter().collect();
    assert_eq!(page["numberMatched"], got.len(), "{filter}");
    got
}

/// The ids of the features for which `keep` holds, straight from the snapshot.
fn brute_force(layer: &Layer, keep: impl Fn(u32, &Feature) -> bool) -> BTreeSet<String> {
    layer
        .features
        .iter()
        .enumerate()
        .filter(|(i, f)| keep(*i as u32, f))
        .map(|(_, f)| f.id.to_string())
        .collect()
}

/// A count of the latest round, read without the query module.
fn latest_count(layer: &Layer, feature: u32, column: &str) -> Option<i64> {
    let round = layer.rounds.len().checked_sub(1)?;
    let at = layer.count_columns.iter().position(|c| c == column)?;
    layer.counts[round].row(feature as usize)?.value(at)
}

fn text_property<'a>(feature: &'a Feature, name: &str) -> Option<&'a str> {
    feature.properties.get(name).and_then(|v| v.as_str())
}

/// Asserts that the text and JSON spellings of a filter both select `expected`, and that
/// it is a real test (neither empty nor everything).
async fn assert_both_select(layer: &Layer, text: &str, json: &str, expected: &BTreeSet<String>) {
    assert!(
        !expected.is_empty() && expected.len() < layer.features.len(),
        "{text}: the brute force selects {} of {} features; choose a sharper filter",
        expected.len(),
        layer.features.len()
    );
    let state = iraq_state();
    assert_eq!(
        &selected(&state, &layer.id, text, None).await,
        expected,
        "{text}"
    );
    assert_eq!(
        &selected(&state, &layer.id, text, Some("cql2-text")).await,
        expected,
        "{text} (filter-lang=cql2-text)"
    );
    assert_eq!(
        &selected(&state, &layer.id, json, Some("cql2-json")).await,
        expected,
        "{json}"
    );
}

#[tokio::test]
async fn a_count_threshold_and_a_governorate_list_select_what_a_scan_selects() {
    let snapshot = iraq_snapshot();
    let sites = snapshot.layer("sites").unwrap();
    let expected = brute_force(sites, |i, f| {
        latest_count(sites, i, "idp_individuals").is_some_and(|n| n > 20_000)
            && matches!(text_property(f, "governorate"), Some("IQG15" | "IQG09"))
    });
    assert_both_select(
        sites,
        "idp_individuals > 20000 AND governorate IN ('IQG15','IQG09')",
        r#"{"op":"and","args":[
            {"op":">","args":[{"property":"idp_individuals"},20000]},
            {"op":"in","args":[{"property":"governorate"},["IQG15","IQG09"]]}]}"#,
        &expected,
    )
    .await;
}

/// A lone comparison of a count is answered from the layer's ordered counts without
/// testing each feature: its matches, their number and their file order must be a scan's.
#[tokio::test]
async fn a_lone_count_comparison_selects_what_a_scan_selects_in_file_order() {
    let snapshot = iraq_snapshot();
    let sites = snapshot.layer("sites").unwrap();
    let count = |f: u32| latest_count(sites, f, "idp_individuals");
    let mut values: Vec<i64> = (0..sites.features.len() as u32).filter_map(count).collect();
    values.sort_unstable();
    let at = |percent: usize| values[values.len() * percent / 100];
    let (low, mid, high) = (at(20), at(50), at(80));
    type Keep = Box<dyn Fn(i64) -> bool>;
    let cases: Vec<(String, Keep)> = vec![
        (
            format!("idp_individuals > {mid}"),
            Box::new(move |n| n > mid),
        ),
        (
            format!("idp_individuals >= {mid}"),
            Box::new(move |n| n >= mid),
        ),
        (
            format!("idp_individuals < {low}"),
            Box::new(move |n| n < low),
        ),
        (
            format!("idp_individuals <= {low}"),
            Box::new(move |n| n <= low),
        ),
        (
            format!("idp_individuals = {high}"),
            Box::new(move |n| n == high),
        ),
        (
            format!("idp_individuals BETWEEN {low} AND {high}"),
            Box::new(move |n| (low..=high).contains(&n)),
        ),
        (
            format!("idp_individuals > {mid}.5"),
            Box::new(move |n| n > mid),
        ),
    ];
    let state = iraq_state();
    for (text, keep) in cases {
        let expected: Vec<String> = sites
            .features
            .iter()
            .enumerate()
            .filter(|(i, _)| count(*i as u32).is_some_and(&keep))
            .map(|(_, f)| f.id.to_string())
            .collect();
        assert!(
            !expected.is_empty() && expected.len() < sites.features.len(),
            "{text}: {} of {}",
            expected.len(),
            sites.features.len()
        );
        let page = get_json(&state, &filter_uri("sites", &text, None, "")).await;
        assert_eq!(ids(&page), expected, "{text}");
        assert_eq!(page["numberMatched"], expected.len(), "{text}");
    }
}

#[tokio::test]
async fn like_selects_names_by_prefix() {
    let snapshot = iraq_snapshot();
    let sites = snapshot.layer("sites").unwrap();
    let expected = brute_force(sites, |_, f| {
        text_property(f, "name_en").is_some_and(|n| n.starts_with("Al"))
    });
    assert_both_select(
        sites,
        "name_en LIKE 'Al%'",
        r#"{"op":"like","args":[{"property":"name_en"},"Al%"]}"#,
        &expected,
    )
    .await;
}

#[tokio::test]
async fn s_intersects_with_a_polygon_equals_a_brute_force_intersects() {
    let snapshot = iraq_snapshot();
    let sites = snapshot.layer("sites").unwrap();
    let polygon = geo::Polygon::new(
        geo::LineString::from(vec![
            (43.0, 32.0),
            (46.0, 32.5),
            (45.5, 35.0),
            (43.5, 34.5),
            (43.0, 32.0),
        ]),
        vec![],
    );
    let expected = brute_force(sites, |_, f| f.geometry().intersects(&polygon));
    assert_both_select(
        sites,
        "S_INTERSECTS(geometry, POLYGON((43 32, 46 32.5, 45.5 35, 43.5 34.5, 43 32)))",
        r#"{"op":"s_intersects","args":[{"property":"geometry"},
            {"type":"Polygon","coordinates":[[[43,32],[46,32.5],[45.5,35],[43.5,34.5],[43,32]]]}]}"#,
        &expected,
    )
    .await;
    // The literal first means the same.
    let state = iraq_state();
    assert_eq!(
        selected(
            &state,
            "sites",
            "s_intersects(polygon((43 32, 46 32.5, 45.5 35, 43.5 34.5, 43 32)), geometry)",
            None
        )
        .await,
        expected
    );
}

#[tokio::test]
async fn s_dwithin_equals_a_brute_force_geodesic_distance() {
    let snapshot = iraq_snapshot();
    let sites = snapshot.layer("sites").unwrap();
    let center = Point::new(44.4, 33.3);
    let expected = brute_force(sites, |_, f| match *f.geometry() {
        geo::Geometry::Point(p) => Geodesic.distance(p, center) <= 50_000.0,
        _ => panic!("sites are points"),
    });
    assert_both_select(
        sites,
        "S_DWITHIN(geometry, POINT(44.4 33.3), 50000)",
        r#"{"op":"s_dwithin","args":[{"property":"geometry"},{"type":"Point","coordinates":[44.4,33.3]},50000]}"#,
        &expected,
    )
    .await;
}

#[tokio::test]
async fn not_excludes_one_governorate_and_sites_without_one_under_three_valued_logic() {
    let snapshot = iraq_snapshot();
    let sites = snapshot.layer("sites").unwrap();
    // `governorate = 'IQG08'` is NULL, not FALSE, where a site has no governorate, and
    // NOT NULL is NULL: such sites do not match (CQL2's three-valued logic).
    let expected = brute_force(sites, |_, f| {
        text_property(f, "governorate").is_some_and(|g| g != "IQG08")
    });
    assert_both_select(
        sites,
        "NOT (governorate = 'IQG08')",
        r#"{"op":"not","args":[{"op":"=","args":[{"property":"governorate"},"IQG08"]}]}"#,
        &expected,
    )
    .await;
}

#[tokio::test]
async fn is_null_selects_sites_without_a_population() {
    let snapshot = iraq_snapshot();
    let sites = snapshot.layer("sites").unwrap();
    let expected = brute_force(sites, |_, f| {
        f.properties.get("population").is_none_or(|v| v.is_null())
    });
    let state = iraq_state();
    // The built-in data may have no site without a population: compare, whatever the size.
    assert_eq!(
        selected(&state, "sites", "population IS NULL", None).await,
        expected
    );
    assert_eq!(
        selected(
            &state,
            "sites",
            r#"{"op":"isNull","args":[{"property":"population"}]}"#,
            Some("cql2-json")
        )
        .await,
        expected
    );
    let not_null = brute_force(sites, |_, f| {
        f.properties.get("population").is_some_and(|v| !v.is_null())
    });
    assert_eq!(
        selected(&state, "sites", "population is not null", None).await,
        not_null
    );
}

#[tokio::test]
async fn s_contains_with_a_point_finds_the_governorate_around_it() {
    let snapshot = iraq_snapshot();
    let governorates = snapshot.layer("governorates").unwrap();
    let baghdad = Point::new(44.4, 33.3);
    let expected = brute_force(governorates, |_, f| f.geometry().contains(&baghdad));
    assert_eq!(expected.iter().collect::<Vec<_>>(), ["IQG08"]);
    let state = iraq_state();
    assert_eq!(
        selected(
            &state,
            "governorates",
            "S_CONTAINS(geometry, POINT(44.4 33.3))",
            None
        )
        .await,
        expected
    );
    // With the literal first, S_WITHIN is the same relation seen from the point.
    assert_eq!(
        selected(
            &state,
            "governorates",
            "S_WITHIN(POINT(44.4 33.3), geometry)",
            None
        )
        .await,
        expected
    );
}

#[tokio::test]
async fn a_filter_with_bbox_pages_through_exactly_the_brute_force_matches() {
    let state = iraq_state();
    let snapshot = state.current();
    let sites = snapshot.layer("sites").unwrap();
    let rect = geo::Rect::new((42.0, 32.0), (46.0, 37.0));
    let expected = brute_force(sites, |i, f| {
        f.geometry().intersects(&rect)
            && latest_count(sites, i, "idp_families").is_some_and(|n| n >= 100)
    });
    assert!(expected.len() > 7, "the case must need several pages");
    let mut uri = format!(
        "/collections/sites/items?limit=7&bbox=42,32,46,37&filter={}",
        utf8_percent_encode("idp_families >= 100", NON_ALPHANUMERIC)
    );
    let mut seen = Vec::new();
    loop {
        let page = get_json(&state, &uri).await;
        assert_eq!(page["numberMatched"], expected.len());
        seen.extend(ids(&page));
        let next = page["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .map(|l| {
                l["href"]
                    .as_str()
                    .unwrap()
                    .replace("http://example.test", "")
            });
        match next {
            Some(href) => uri = href,
            None => break,
        }
    }
    assert_eq!(seen.len(), expected.len(), "each match once");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), expected);
}

#[tokio::test]
async fn a_bbox_literal_and_the_bbox_parameter_agree() {
    let state = iraq_state();
    let from_filter = selected(
        &state,
        "sites",
        "S_INTERSECTS(geometry, BBOX(43, 33, 45, 35))",
        None,
    )
    .await;
    let page = get_json(
        &state,
        "/collections/sites/items?limit=10000&bbox=43,33,45,35",
    )
    .await;
    let from_bbox: BTreeSet<String> = ids(&page).into_iter().collect();
    assert!(!from_bbox.is_empty());
    assert_eq!(from_filter, from_bbox);
}

/// The description of an error reply, after checking its status.
async fn error_description(uri: &str, status: StatusCode) -> String {
    let state = iraq_state();
    let reply = get(&state, uri).await;
    assert_eq!(
        reply.status,
        status,
        "{uri}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply.json()["description"]
        .as_str()
        .expect("a description")
        .to_string()
}

#[tokio::test]
async fn syntax_errors_are_400s_that_say_what_was_expected_and_where() {
    for (filter, needle) in [
        (
            "idp_individuals=",
            "at character 17: expected a value after '=' but found end of input",
        ),
        ("name_en = 'Mosul' AND", "at character 22"),
        ("(name_en = 'Mosul'", "at character 19: expected ')'"),
        (
            "name_en LIKE 5",
            "at character 14: expected a quoted pattern",
        ),
        (
            "governorate IN ()",
            "at character 17: expected a value in the IN list",
        ),
        (
            "idp_families BETWEEN 1 OR 5",
            "at character 24: expected AND",
        ),
        (
            "S_INTERSECTS(geometry, POINT(44))",
            "at character 32: expected a latitude",
        ),
        ("name_en = 'x' name_en", "expected AND, OR or the end"),
    ] {
        let description = error_description(
            &filter_uri("sites", filter, None, ""),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(
            description.contains(needle),
            "{filter}: {description:?} should contain {needle:?}"
        );
        assert!(description.starts_with("filter: "), "{description}");
    }
}

#[tokio::test]
async fn an_unknown_property_is_a_400_listing_the_queryables() {
    let description = error_description(
        &filter_uri("sites", "colour = 'red'", None, ""),
        StatusCode::BAD_REQUEST,
    )
    .await;
    for needle in ["\"colour\"", "governorate", "idp_individuals", "geometry"] {
        assert!(description.contains(needle), "{description}");
    }
    let description = error_description(
        &filter_uri(
            "sites",
            r#"{"op":"=","args":[{"property":"colour"},"red"]}"#,
            Some("cql2-json"),
            "",
        ),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(description.contains("colour") && description.contains("/args/0"));
}

#[tokio::test]
async fn a_count_compared_with_words_is_a_400() {
    let description = error_description(
        &filter_uri("sites", "idp_families > 'many'", None, ""),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(description.contains("is a count"), "{description}");
}

#[tokio::test]
async fn bad_json_and_unknown_languages_are_400s() {
    for (filter, lang, needle) in [
        ("{\"op\":", "cql2-json", "not valid cql2-json"),
        ("name_en = 'x'", "cql2-json", "not valid cql2-json"),
        (
            r#"{"op":"matches","args":[]}"#,
            "cql2-json",
            "not supported",
        ),
        (
            r#"{"op":"=","args":[{"property":"name_en"}]}"#,
            "cql2-json",
            "2 arguments",
        ),
        (r#"[1,2]"#, "cql2-json", "expected a filter"),
        ("name_en = 'x'", "ecql", "cql2-text"),
    ] {
        let description = error_description(
            &filter_uri("sites", filter, Some(lang), ""),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(
            description.contains(needle),
            "{filter}: {description:?} should contain {needle:?}"
        );
    }
}

#[tokio::test]
async fn geometry_literals_out_of_range_or_unclosed_are_400s() {
    for (filter, needle) in [
        ("S_INTERSECTS(geometry, POINT(44 95))", "latitude"),
        (
            "S_INTERSECTS(geometry, POLYGON((43 32, 46 32, 46 35, 43 35)))",
            "not closed",
        ),
        ("S_DWITHIN(geometry, POINT(44 33), -5)", "more than 0"),
    ] {
        let description = error_description(
            &filter_uri("sites", filter, None, ""),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(description.contains(needle), "{filter}: {description}");
    }
}

/// A GET URI cannot carry a polygon over the vertex limit (the http crate refuses URIs over
/// 64 KiB), so this one goes to the parser the items endpoint calls. Such a polygon is also
/// longer than `MAX_FILTER_CHARS`, which answers 413 first; the unit tests of `query::cql2`
/// check the vertex budget itself with a small limit.
#[test]
fn a_polygon_literal_over_the_vertex_limit_is_413() {
    let snapshot = iraq_snapshot();
    let sites = snapshot.layer("sites").unwrap();
    let n = dtmap::config::MAX_QUERY_VERTICES;
    let mut ring: Vec<String> = (0..n)
        .map(|i| format!("{} 33", 40.0 + 5.0 * i as f64 / n as f64))
        .collect();
    ring.push("40 33".into());
    let filter = format!("S_INTERSECTS(geometry, POLYGON(({})))", ring.join(","));
    match dtmap::query::cql2::parse_filter(sites, &filter, None).map_err(ApiError::from) {
        Err(ApiError::TooLarge(message)) => assert!(message.starts_with("filter:"), "{message}"),
        other => panic!("expected 413, got {other:?}"),
    }
}

#[tokio::test]
async fn not_over_a_missing_value_is_null_so_not_equal_and_not_select_the_same_sites() {
    let snapshot = iraq_snapshot();
    let sites = snapshot.layer("sites").unwrap();
    let state = iraq_state();
    let negated = selected(&state, "sites", "NOT (name_ar = 'x')", None).await;
    let unequal = selected(&state, "sites", "name_ar <> 'x'", None).await;
    assert_eq!(negated, unequal);
    let expected = brute_force(sites, |_, f| {
        text_property(f, "name_ar").is_some_and(|n| n != "x")
    });
    assert_eq!(negated, expected);
    assert!(
        expected.len() < sites.features.len(),
        "some sites have no Arabic name"
    );
    let json = r#"{"op":"not","args":[{"op":"=","args":[{"property":"name_ar"},"x"]}]}"#;
    assert_eq!(
        selected(&state, "sites", json, Some("cql2-json")).await,
        expected
    );
}

#[tokio::test]
async fn round_date_is_a_temporal_queryable_holding_the_date_of_the_selected_round() {
    let snapshot = iraq_snapshot();
    let sites = snapshot.layer("sites").unwrap();
    let latest = sites.rounds.last().unwrap().date.clone().unwrap();
    let state = iraq_state();
    let every_site = brute_force(sites, |_, _| true);
    assert_eq!(
        selected(
            &state,
            "sites",
            &format!("T_EQUALS(round_date, DATE('{latest}'))"),
            None
        )
        .await,
        every_site
    );
    assert!(selected(
        &state,
        "sites",
        &format!("T_AFTER(round_date, DATE('{latest}'))"),
        None
    )
    .await
    .is_empty());
    let json = r#"{"op":"t_before","args":[{"property":"round_date"},{"date":"2100-01-01"}]}"#;
    assert_eq!(
        selected(&state, "sites", json, Some("cql2-json")).await,
        every_site
    );
    let queryables = get_json(&state, "/collections/sites/queryables").await;
    assert_eq!(
        queryables["properties"]["round_date"]["format"], "date",
        "{queryables}"
    );
    let conformance = get_json(&state, "/conformance").await;
    for class in [
        "basic-cql2",
        "temporal-functions",
        "arithmetic",
        "functions",
    ] {
        let uri = format!("http://www.opengis.net/spec/cql2/1.0/conf/{class}");
        assert!(
            conformance["conformsTo"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == &uri),
            "{class}"
        );
    }
}

//! Unit tests of the CQL2 parsers and compiler on the built-in layers.
use std::sync::OnceLock;

use rand::{Rng, SeedableRng};

use super::*;
use crate::model::Snapshot;
use crate::query::filter::CompareOp;
use crate::query::spatial::SpatialOp;
use crate::query::{FieldRef, Literal, QueryErrorKind};

fn snapshot() -> &'static Snapshot {
    static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
    SNAPSHOT.get_or_init(|| {
        let (snapshot, report) = crate::data::load(&crate::config::Config::builtin());
        assert!(report.is_ok(), "{report}");
        snapshot
    })
}

fn sites() -> &'static Layer {
    snapshot().layer("sites").expect("sites")
}

fn text(filter: &str) -> Result<Filter, QueryError> {
    parse_filter(sites(), filter, None)
}

fn message(result: Result<Filter, QueryError>) -> String {
    match result {
        Ok(f) => panic!("expected an error, got {f:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn keywords_are_case_insensitive_and_in_and_between_compile() {
    let f =
        text("idp_individuals between 10 and 20 and governorate in ('IQG15', 'IQG09')").unwrap();
    assert_eq!(
        f,
        Filter::And(vec![
            Filter::Between(
                FieldRef::Count(1),
                Literal::Number(10.0),
                Literal::Number(20.0)
            ),
            Filter::In(
                FieldRef::Property("governorate".into()),
                vec![Literal::Text("IQG15".into()), Literal::Text("IQG09".into())]
            ),
        ])
    );
}

#[test]
fn a_missing_value_says_what_was_expected_and_where() {
    assert_eq!(
        message(text("idp_individuals=")),
        "filter: at character 17: expected a value after '=' but found end of input"
    );
    assert!(message(text("name_en = 'x' AND")).contains("at character 18"));
    assert!(
        message(text("(name_en = 'x'")).contains("expected ')' to close the '(' at character 1")
    );
    assert!(message(text("name_en = 'x"))
        .contains("at character 11: the ' opened here is never closed"));
    assert!(message(text("name_en != 'x'")).contains("use '<>'"));
}

#[test]
fn text_literals_unescape_doubled_quotes_and_read_every_number_form() {
    assert_eq!(
        text("name_en = 'Al ''Amarah'").unwrap(),
        Filter::Compare(
            FieldRef::Property("name_en".into()),
            CompareOp::Eq,
            Literal::Text("Al 'Amarah".into())
        )
    );
    for (spelled, value) in [
        ("-5", -5.0),
        ("2.5", 2.5),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("-1.5E-1", -0.15),
    ] {
        assert_eq!(
            text(&format!("idp_individuals > {spelled}")).unwrap(),
            Filter::Compare(FieldRef::Count(1), CompareOp::Gt, Literal::Number(value)),
            "{spelled}"
        );
    }
    assert_eq!(
        text("\"name_en\" IS NOT NULL").unwrap(),
        Filter::Not(Box::new(Filter::IsNull(FieldRef::Property(
            "name_en".into()
        ))))
    );
}

#[test]
fn a_literal_on_the_left_flips_the_comparison() {
    assert_eq!(
        text("5 < idp_individuals").unwrap(),
        Filter::Compare(FieldRef::Count(1), CompareOp::Gt, Literal::Number(5.0))
    );
}

#[test]
fn counts_refuse_text_that_is_not_a_number() {
    assert!(message(text("idp_individuals = 'many'")).contains("is a count"));
    assert_eq!(
        text("idp_individuals = '12'").unwrap(),
        Filter::Compare(FieldRef::Count(1), CompareOp::Eq, Literal::Number(12.0))
    );
}

#[test]
fn the_literal_first_swaps_within_and_contains() {
    let Filter::Spatial(p) = text("S_WITHIN(POINT(44 33), geometry)").unwrap() else {
        panic!()
    };
    assert_eq!(p.op, SpatialOp::Contains);
    let Filter::Spatial(p) =
        text("s_contains(POLYGON((40 30, 41 30, 41 31, 40 30)), geometry)").unwrap()
    else {
        panic!()
    };
    assert_eq!(p.op, SpatialOp::Within);
    let Filter::Spatial(p) = text("S_DWITHIN(geometry, POINT(44.4 33.3), 5e4)").unwrap() else {
        panic!()
    };
    assert_eq!(p.op, SpatialOp::DWithin(50_000.0));
}

#[test]
fn geometry_literals_are_checked() {
    for (filter, needle) in [
        (
            "S_INTERSECTS(geometry, POLYGON((40 30, 41 30, 41 31, 40 31)))",
            "not closed",
        ),
        (
            "S_INTERSECTS(geometry, POLYGON((40 30, 41 30, 40 30)))",
            "at least 4",
        ),
        ("S_INTERSECTS(geometry, POINT(200 30))", "outside"),
        ("S_INTERSECTS(geometry, POINT M(40 30 1))", "M coordinates"),
        ("S_INTERSECTS(geometry, POINT EMPTY)", "empty"),
        ("S_INTERSECTS(geometry, LINESTRING(40 30))", "at least 2"),
        ("S_INTERSECTS(geometry, BBOX(40, 35, 45, 30))", "south"),
        ("S_INTERSECTS(name_en, POINT(40 30))", "not a geometry"),
        ("S_DWITHIN(geometry, POINT(40 30), 0)", "more than 0"),
        ("S_DWITHIN(geometry, POINT(40 30), 3000000)", "at most"),
        ("S_DWITHIN(geometry, LINESTRING(40 30, 41 31), 10)", "POINT"),
        ("S_INTERSECTS(geometry, CIRCLE(40 30))", "CIRCLE("),
    ] {
        assert!(
            message(text(filter)).contains(needle),
            "{filter}: {}",
            message(text(filter))
        );
    }
    assert!(text("S_INTERSECTS(geometry, MULTIPOINT(40 30, (41 31)))").is_ok());
    assert!(
        text("S_INTERSECTS(geometry, MULTILINESTRING((40 30, 41 31), (42 30, 43 31)))").is_ok()
    );
    assert!(text("S_INTERSECTS(geometry, MULTIPOLYGON(((40 30, 41 30, 41 31, 40 30)), ((42 30, 43 30, 43 31, 42 30))))").is_ok());
    assert!(text("S_INTERSECTS(geometry, BBOX(170, -10, -170, 10))").is_ok());
    // Heights are read and ignored; collections and the other DE-9IM relations compile.
    for filter in [
        "S_INTERSECTS(geometry, POINT Z(40 30 1))",
        "S_INTERSECTS(geometry, POINT(40 30 1))",
        "S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(1 1), LINESTRING(1 1, 2 2)))",
        "S_TOUCHES(geometry, POINT(40 30))",
        "S_INTERSECTS(POINT(40 31), POINT(40 30))",
    ] {
        assert!(text(filter).is_ok(), "{filter}: {:?}", text(filter));
    }
}

#[test]
fn the_vertex_budget_is_shared_by_every_literal_and_over_it_is_413() {
    let ring = "POLYGON((40 30, 41 30, 41 31, 40 30))";
    let one = format!("S_INTERSECTS(geometry, {ring})");
    let two = format!("{one} OR {one}");
    assert!(parse_filter_with(
        sites(),
        &two,
        None,
        &Options {
            max_vertices: 8,
            ..Options::default()
        }
    )
    .is_ok());
    assert!(matches!(
        parse_filter_with(
            sites(),
            &two,
            None,
            &Options {
                max_vertices: 7,
                ..Options::default()
            }
        ),
        Err(QueryError {
            kind: QueryErrorKind::TooLarge,
            ..
        })
    ));
    let json = r#"{"op":"or","args":[
        {"op":"s_intersects","args":[{"property":"geometry"},{"type":"Polygon","coordinates":[[[40,30],[41,30],[41,31],[40,30]]]}]},
        {"op":"s_intersects","args":[{"property":"geometry"},{"type":"Polygon","coordinates":[[[40,30],[41,30],[41,31],[40,30]]]}]}]}"#;
    assert!(parse_filter_with(
        sites(),
        json,
        Some("cql2-json"),
        &Options {
            max_vertices: 8,
            ..Options::default()
        }
    )
    .is_ok());
    assert!(matches!(
        parse_filter_with(
            sites(),
            json,
            Some("cql2-json"),
            &Options {
                max_vertices: 7,
                ..Options::default()
            }
        ),
        Err(QueryError {
            kind: QueryErrorKind::TooLarge,
            ..
        })
    ));
    let long = "x".repeat(MAX_FILTER_CHARS + 1);
    assert!(matches!(
        text(&long),
        Err(QueryError {
            kind: QueryErrorKind::TooLarge,
            ..
        })
    ));
}

#[test]
fn the_languages_are_text_and_json_only() {
    assert!(parse_filter(sites(), "name_en = 'x'", Some("cql2-text")).is_ok());
    assert!(message(parse_filter(sites(), "name_en = 'x'", Some("ecql"))).contains("cql2-json"));
    assert!(message(parse_filter(sites(), "{", Some("cql2-json"))).contains("not valid cql2-json"));
}

#[test]
fn json_and_text_compile_to_the_same_filter() {
    let pairs = [
        (
            "idp_individuals > 50000 AND governorate IN ('IQG15','IQG09')",
            r#"{"op":"and","args":[{"op":">","args":[{"property":"idp_individuals"},50000]},{"op":"in","args":[{"property":"governorate"},["IQG15","IQG09"]]}]}"#,
        ),
        (
            "NOT (name_en LIKE 'Al%') OR population IS NULL",
            r#"{"op":"or","args":[{"op":"not","args":[{"op":"like","args":[{"property":"name_en"},"Al%"]}]},{"op":"isNull","args":[{"property":"population"}]}]}"#,
        ),
        (
            "S_INTERSECTS(geometry, BBOX(40, 30, 45, 35)) AND idp_families BETWEEN 1 AND 100",
            r#"{"op":"and","args":[{"op":"s_intersects","args":[{"property":"geometry"},{"bbox":[40,30,45,35]}]},{"op":"between","args":[{"property":"idp_families"},1,100]}]}"#,
        ),
        (
            "S_WITHIN(POLYGON((40 30, 41 30, 41 31, 40 30)), geometry)",
            r#"{"op":"s_within","args":[{"type":"Polygon","coordinates":[[[40,30],[41,30],[41,31],[40,30]]]},{"property":"geometry"}]}"#,
        ),
        (
            "S_DWITHIN(geometry, POINT(44.4 33.3), 50000)",
            r#"{"op":"s_dwithin","args":[{"property":"geometry"},{"type":"Point","coordinates":[44.4,33.3]},50000]}"#,
        ),
    ];
    for (text_filter, json_filter) in pairs {
        assert_eq!(
            text(text_filter).unwrap(),
            parse_filter(sites(), json_filter, Some("cql2-json")).unwrap(),
            "{text_filter}"
        );
    }
}

#[test]
fn json_errors_point_at_the_argument() {
    let m = message(parse_filter(
        sites(),
        r#"{"op":"and","args":[{"op":"=","args":[{"property":"colour"},"red"]}, true]}"#,
        Some("cql2-json"),
    ));
    assert!(
        m.contains("/args/0/args/0") && m.contains("unknown property"),
        "{m}"
    );
    let m = message(parse_filter(
        sites(),
        r#"{"op":"=","args":[{"property":"idp_families"},"lots"]}"#,
        Some("cql2-json"),
    ));
    assert!(m.contains("/args/1") && m.contains("is a count"), "{m}");
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let deep = format!("{}name_en = 'x'{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(message(text(&deep)).contains("deeper than 64"));
    let nots = format!("{}name_en = 'x'", "NOT ".repeat(4_000));
    let m = message(text(&nots));
    assert!(m.contains("deeper than 64"), "{m}");
    let ok = format!("{}name_en = 'x'{}", "(".repeat(60), ")".repeat(60));
    assert!(text(&ok).is_ok());
    let mut json = r#"{"op":"=","args":[{"property":"name_en"},"x"]}"#.to_string();
    for _ in 0..100 {
        json = format!(r#"{{"op":"not","args":[{json}]}}"#);
    }
    assert!(parse_filter(sites(), &json, Some("cql2-json")).is_err());
}

fn parens(levels: usize, inner: &str) -> String {
    format!("{}{inner}{}", "(".repeat(levels), ")".repeat(levels))
}

fn json_nots(levels: usize, inner: &str) -> String {
    let mut json = inner.to_string();
    for _ in 0..levels {
        json = format!(r#"{{"op":"not","args":[{json}]}}"#);
    }
    json
}

fn json_ands(levels: usize, inner: &str) -> String {
    let mut json = inner.to_string();
    for _ in 0..levels {
        json = format!(r#"{{"op":"and","args":[true,{json}]}}"#);
    }
    json
}

#[test]
fn a_filter_nested_exactly_64_levels_is_accepted_and_65_refused_in_both_encodings() {
    assert_eq!(MAX_FILTER_DEPTH, 64);
    let compare = "name_en = 'x'";
    let multipolygon = "S_INTERSECTS(geometry, MULTIPOLYGON(((40 30, 41 30, 41 31, 40 30))))";
    for inner in [compare, multipolygon] {
        assert!(text(&parens(64, inner)).is_ok(), "{inner}");
        assert!(message(text(&parens(65, inner))).contains("deeper than 64"));
        let nots = format!("{}{inner}", "NOT ".repeat(64));
        assert!(text(&nots).is_ok());
        let nots = format!("{}{inner}", "NOT ".repeat(65));
        assert!(message(text(&nots)).contains("deeper than 64"));
    }
    let json = |filter: &str| parse_filter(sites(), filter, Some("cql2-json"));
    let compare = r#"{"op":"=","args":[{"property":"name_en"},"x"]}"#;
    let multipolygon = r#"{"op":"s_intersects","args":[{"property":"geometry"},{"type":"MultiPolygon","coordinates":[[[[40,30],[41,30],[41,31],[40,30]]]]}]}"#;
    let within = r#"{"op":"in","args":[{"property":"name_en"},["x","y"]]}"#;
    for inner in [compare, multipolygon, within] {
        for nest in [json_nots, json_ands] {
            assert!(json(&nest(64, inner)).is_ok(), "{inner}");
            let m = message(json(&nest(65, inner)));
            assert!(m.contains("deeper than 64"), "{m}");
        }
    }
}

#[test]
fn nesting_100000_deep_is_a_400_about_nesting_in_both_encodings() {
    let deep_text = [
        parens(100_000, "name_en = 'x'"),
        "(".repeat(100_000),
        format!("S_INTERSECTS(geometry, {})", "POLYGON(".repeat(100_000)),
    ];
    for filter in &deep_text {
        let result = text(filter);
        assert!(
            matches!(
                result,
                Err(QueryError {
                    kind: QueryErrorKind::BadRequest,
                    ..
                })
            ),
            "{result:?}"
        );
        assert!(message(result).contains("deeper than 64"));
    }
    let deep_json = [
        json_nots(100_000, r#"{"op":"=","args":[{"property":"name_en"},"x"]}"#),
        "[".repeat(100_000),
        format!(
            r#"{{"op":"s_intersects","args":[{{"property":"geometry"}},{}"#,
            r#"{"type":"GeometryCollection","geometries":["#.repeat(100_000)
        ),
    ];
    for filter in &deep_json {
        let result = parse_filter(sites(), filter, Some("cql2-json"));
        assert!(
            matches!(
                result,
                Err(QueryError {
                    kind: QueryErrorKind::BadRequest,
                    ..
                })
            ),
            "{result:?}"
        );
        assert!(message(result).contains("deeper than 64"));
    }
}

#[test]
fn geometry_collections_nested_more_than_16_deep_are_refused_in_both_encodings() {
    let collection = format!(
        "S_INTERSECTS(geometry, {}POINT(44 33){})",
        "GEOMETRYCOLLECTION(".repeat(20),
        ")".repeat(20)
    );
    let m = message(text(&collection));
    assert!(m.contains("more than 16"), "{m}");
    let mut geometry = r#"{"type":"Point","coordinates":[44,33]}"#.to_string();
    for _ in 0..20 {
        geometry = format!(r#"{{"type":"GeometryCollection","geometries":[{geometry}]}}"#);
    }
    let filter =
        format!(r#"{{"op":"s_intersects","args":[{{"property":"geometry"}},{geometry}]}}"#);
    let m = message(parse_filter(sites(), &filter, Some("cql2-json")));
    assert!(m.contains("more than 16"), "{m}");
    let shallow = r#"{"op":"s_intersects","args":[{"property":"geometry"},{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[44,33]}]}]}"#;
    assert!(parse_filter(sites(), shallow, Some("cql2-json")).is_ok());
}

/// Random bytes and random soups of CQL2 words: every one is Ok or Err, never a panic,
/// and whatever parses can be evaluated on every site.
#[test]
fn garbage_never_panics() {
    let words = [
        "(",
        ")",
        ",",
        "=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "AND",
        "OR",
        "NOT",
        "BETWEEN",
        "IN",
        "IS",
        "NULL",
        "LIKE",
        "TRUE",
        "FALSE",
        "'Al%'",
        "'",
        "\"",
        "\"name_en\"",
        "name_en",
        "idp_individuals",
        "population",
        "governorate",
        "geometry",
        "id",
        "synthetic",
        "S_INTERSECTS",
        "S_WITHIN",
        "S_CONTAINS",
        "S_DISJOINT",
        "S_DWITHIN",
        "POINT",
        "POLYGON",
        "LINESTRING",
        "MULTIPOINT",
        "MULTIPOLYGON",
        "MULTILINESTRING",
        "BBOX",
        "EMPTY",
        "Z",
        "44",
        "33",
        "-1",
        "1e999",
        "0.5",
        ".",
        "-",
        "!",
        "é",
        "\u{0}",
        "((",
        "44 33",
        "40 30, 41 30, 41 31, 40 30",
        "50000",
    ];
    let layer = sites();
    let round = layer.latest_round();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(2024);
    let mut parsed = 0;
    for case in 0..4000 {
        let input = if case % 3 == 0 {
            let bytes: Vec<u8> = (0..rng.gen_range(0..60)).map(|_| rng.gen()).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            (0..rng.gen_range(1..25))
                .map(|_| words[rng.gen_range(0..words.len())])
                .collect::<Vec<_>>()
                .join(if case % 2 == 0 { " " } else { "" })
        };
        let lang = if case % 5 == 0 {
            Some("cql2-json")
        } else {
            None
        };
        if let Ok(filter) = parse_filter(layer, &input, lang) {
            parsed += 1;
            for f in 0..layer.features.len() as u32 {
                filter.matches(layer, round, f);
            }
        }
    }
    // Most soups are nonsense; enough must parse for the evaluation to be exercised.
    assert!(parsed >= 5, "only {parsed} random filters parsed");
    let json_words = [
        r#"{"op":"and","args":["#,
        r#"{"op":"s_intersects","args":["#,
        r#"{"property":"geometry"}"#,
        r#"{"type":"Point","coordinates":[44]}"#,
        r#"{"type":"Polygon","coordinates":[[[1,1],[1,1],[1,1],[1,1]]]}"#,
        r#"{"bbox":[1,2,3]}"#,
        "]}",
        ",",
        "[",
        "]",
        "1",
        "\"x\"",
        "null",
        "true",
        r#"{"op":"in","args":["#,
        r#"{"property":"idp_families"}"#,
        r#"{"op":"s_dwithin","args":["#,
    ];
    for _ in 0..3000 {
        let input: String = (0..rng.gen_range(1..12))
            .map(|_| json_words[rng.gen_range(0..json_words.len())])
            .collect();
        if let Ok(filter) = parse_filter(layer, &input, Some("cql2-json")) {
            for f in 0..layer.features.len() as u32 {
                filter.matches(layer, round, f);
            }
        }
    }
}

/// Degenerate but well-formed literals (zero-area rings, bow ties, duplicate parts,
/// the whole world) evaluate against every layer without panicking.
#[test]
fn degenerate_geometry_literals_evaluate_on_every_layer() {
    let literals = [
        "POLYGON((44 33, 44 33, 44 33, 44 33))",
        "POLYGON((40 30, 45 35, 45 30, 40 35, 40 30))",
        "POLYGON((40 30, 45 30, 45 35, 40 35, 40 30),(40 30, 45 30, 45 35, 40 35, 40 30))",
        "POLYGON((40 30, 45 30, 45 35, 40 35, 40 30),(30 20, 50 20, 50 40, 30 20))",
        "MULTIPOLYGON(((40 30, 45 30, 45 35, 40 35, 40 30)),((40 30, 45 30, 45 35, 40 35, 40 30)))",
        "LINESTRING(44 33, 44 33)",
        "MULTIPOINT(44 33, 44 33)",
        "POLYGON((40 30, 50 30, 40 30, 50 30, 40 30))",
        "BBOX(44,33,44,33)",
        "POLYGON((-180 -90, 180 -90, 180 90, -180 90, -180 -90))",
    ];
    for layer in &snapshot().layers {
        for function in ["S_INTERSECTS", "S_WITHIN", "S_CONTAINS", "S_DISJOINT"] {
            for lit in literals {
                for order in [0, 1] {
                    let text = if order == 0 {
                        format!("{function}(geometry, {lit})")
                    } else {
                        format!("{function}({lit}, geometry)")
                    };
                    let filter = parse_filter(layer, &text, None).unwrap();
                    for i in 0..layer.features.len() as u32 {
                        filter.matches(layer, layer.latest_round(), i);
                    }
                }
            }
        }
        for lit in ["POINT(44 33)", "POINT(180 90)", "POINT(-180 -90)"] {
            let filter =
                parse_filter(layer, &format!("S_DWITHIN(geometry, {lit}, 2000000)"), None).unwrap();
            for i in 0..layer.features.len() as u32 {
                filter.matches(layer, layer.latest_round(), i);
            }
        }
    }
}

#[test]
fn a_long_chain_of_arithmetic_is_refused_not_a_stack_overflow() {
    for op in ["%", "+", "*", "-", " div "] {
        let chain = format!("name_en = 'a'{}", format!("{op}'b'").repeat(2_000));
        let m = message(text(&chain));
        assert!(m.contains("deeper than 64"), "{op}: {m}");
    }
    let fine = format!("idp_families = 1{}", "+1".repeat(60));
    assert!(text(&fine).is_ok());
}

/// Count comparisons take their candidates from the layer's ordered counts: the selection
/// must be exactly the features a scan of every feature with the filter finds, for every
/// operator, thresholds on and between figures, and every round.
#[test]
fn count_ranges_select_what_a_scan_selects() {
    let layer = sites();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(11);
    let column = layer
        .count_column("idp_individuals")
        .expect("a count column");
    for round in 0..layer.rounds.len() {
        let figures: Vec<i64> = (0..layer.features.len() as u32)
            .filter_map(|f| layer.count(round, f)?.value(column))
            .collect();
        for _ in 0..20 {
            let at = figures[rng.gen_range(0..figures.len())];
            let threshold = if rng.gen_bool(0.5) {
                at as f64
            } else {
                at as f64 + 0.5
            };
            for op in ["<", "<=", "=", ">=", ">", "<>"] {
                let text = format!("idp_individuals {op} {threshold} and id <> 'none'");
                let filter = parse_filter(layer, &text, None).unwrap();
                let selection = crate::query::Selection {
                    round: Some(round),
                    filter: Some(filter.clone()),
                    ..Default::default()
                };
                let scanned: Vec<u32> = (0..layer.features.len() as u32)
                    .filter(|&f| filter.matches(layer, Some(round), f))
                    .collect();
                assert_eq!(crate::query::select(layer, &selection), scanned, "{text}");
            }
        }
    }
}

/// A page of a count range is taken from the ordered counts (reading in file order
/// until the page is full, or ordering every match when they are rare): it must be the
/// page of what a scan finds, with the scan's number of matches, for every operator,
/// offsets near the start and past the end, and ranges matching most, few or no sites.
#[test]
fn pages_of_count_ranges_are_pages_of_what_a_scan_selects() {
    let layer = sites();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(12);
    let column = layer
        .count_column("idp_individuals")
        .expect("a count column");
    let (mut read_in_order, mut ordered_all) = (0, 0);
    for round in 0..layer.rounds.len() {
        let mut figures: Vec<i64> = (0..layer.features.len() as u32)
            .filter_map(|f| layer.count(round, f)?.value(column))
            .collect();
        figures.sort_unstable();
        for _ in 0..40 {
            // Thresholds anywhere, and near the ends where few sites match.
            let at = match rng.gen_range(0..3) {
                0 => figures[rng.gen_range(0..figures.len())],
                1 => figures[figures.len() - 1 - rng.gen_range(0..5.min(figures.len()))],
                _ => figures[rng.gen_range(0..5.min(figures.len()))],
            };
            for op in ["<", "<=", "=", ">=", ">"] {
                let text = format!("idp_individuals {op} {at}");
                let filter = parse_filter(layer, &text, None).unwrap();
                let scanned: Vec<u32> = (0..layer.features.len() as u32)
                    .filter(|&f| filter.matches(layer, Some(round), f))
                    .collect();
                let selection = crate::query::Selection {
                    round: Some(round),
                    filter: Some(filter),
                    ..Default::default()
                };
                let offset = rng.gen_range(0..scanned.len() + 3);
                let limit = rng.gen_range(1..60);
                let end = (offset + limit).min(scanned.len());
                let page = scanned.get(offset..end).unwrap_or_default().to_vec();
                let (matched, got) = crate::query::select_page(layer, &selection, offset, limit);
                assert_eq!(
                    (matched, got),
                    (scanned.len(), page),
                    "{text} from {offset}"
                );
                let wanted = end as u128;
                if offset < end {
                    let scan = wanted * layer.features.len() as u128 / scanned.len() as u128;
                    if scan > (scanned.len() + layer.features.len() / 64) as u128 * 4 {
                        ordered_all += 1;
                    } else {
                        read_in_order += 1;
                    }
                }
            }
        }
    }
    assert!(
        read_in_order > 50 && ordered_all > 5,
        "{read_in_order} {ordered_all}"
    );
}

//! Property tests of the spatial queries against independent methods: every query type is
//! compared with a brute-force scan using `geo`'s own predicates on random sites and random
//! polygons (concave, with holes, multipart, with sites exactly on edges and vertices), and
//! distances with Vincenty's formulae.

use dtmap::config::Config;
use dtmap::data::join::{CountFile, CountInput};
use dtmap::data::source::SourceFeature;
use dtmap::data::LoadReport;
use dtmap::model::Layer;
use dtmap::query::area::IndexedArea;
use dtmap::query::search::{self, AreaRegion, CircleRegion, Relation};
use geo::{
    coord, Distance, Geodesic, Geometry, Intersects, LineString, MultiPolygon, Point, Polygon,
    Relate,
};
use proptest::prelude::*;
use serde_json::Map;

const LAYER_TOML: &str = r#"
[[layer]]
id = "sites"
source = { path = "sites.geojson" }
id_field = "id"
group_by = "group"
[[layer.counts]]
path = "counts.csv"
key = "id"
round = "round"
columns = ["families", "individuals"]
"#;

/// A point layer of `sites` with two rounds of counts derived from each site's position.
fn layer_of(sites: &[(f64, f64)]) -> Layer {
    let config =
        Config::from_toml_str(LAYER_TOML, "test", dtmap::config::DataRoot::Builtin).unwrap();
    let layer_config = &config.layers[0];
    let features: Vec<SourceFeature> = sites
        .iter()
        .enumerate()
        .map(|(i, &(x, y))| {
            let mut properties = Map::new();
            properties.insert("id".into(), format!("S{i}").into());
            properties.insert("group".into(), format!("G{}", i % 3).into());
            SourceFeature {
                row: i + 1,
                native_id: None,
                geometry: Geometry::Point(Point::new(x, y)),
                properties: properties.into(),
            }
        })
        .collect();
    let mut csv = String::from("id,round,families,individuals\n");
    for i in 0..sites.len() {
        csv.push_str(&format!("S{i},R1,{},{}\n", i % 17, (i % 17) * 6));
        if i % 4 != 0 {
            csv.push_str(&format!("S{i},R2,{},{}\n", i % 5, i % 5 * 6 + 1));
        }
    }
    let table = CountInput::Bytes(csv.as_bytes().into());
    let files = [CountFile {
        config: &layer_config.counts[0],
        input: Some(&table),
    }];
    let mut report = LoadReport::default();
    let layer = dtmap::data::build_layer(layer_config, features, &files, &mut report);
    assert!(report.is_ok(), "{report}");
    layer
}

/// Site coordinates: half on a 0.5 grid (so they fall exactly on grid polygons' edges and
/// vertices), half anywhere.
fn sites() -> impl Strategy<Value = Vec<(f64, f64)>> {
    let on_grid = (0u8..=20, 0u8..=20).prop_map(|(x, y)| (f64::from(x) * 0.5, f64::from(y) * 0.5));
    let anywhere = (0.0..10.0f64, 0.0..10.0f64);
    prop::collection::vec(prop_oneof![on_grid, anywhere], 1..250)
}

/// A concave star-shaped polygon around (cx, cy), optionally with a hole.
fn star(cx: f64, cy: f64, radii: &[f64], hole: bool) -> Polygon<f64> {
    let n = radii.len();
    let ring = |scale: f64| -> LineString<f64> {
        let mut coords: Vec<_> = radii
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let angle = std::f64::consts::TAU * i as f64 / n as f64;
                coord! { x: cx + r * scale * angle.cos(), y: cy + r * scale * angle.sin() }
            })
            .collect();
        coords.push(coords[0]);
        LineString(coords)
    };
    let min_r = radii.iter().cloned().fold(f64::INFINITY, f64::min);
    let max_r = radii.iter().cloned().fold(0.0, f64::max);
    let holes = if hole {
        // Well inside the smallest radius (the star holds the disc of min_r · cos(π/n)).
        let scale = 0.5 * min_r * (std::f64::consts::PI / n as f64).cos() / max_r;
        let mut h = ring(scale);
        h.0.reverse();
        vec![h]
    } else {
        vec![]
    };
    Polygon::new(ring(1.0), holes)
}

/// Random query areas: stars (concave, with or without a hole), grid rectangles with a
/// rectangular hole (edges through grid sites), and multipolygons of two separate parts.
fn areas() -> impl Strategy<Value = Geometry<f64>> {
    let star_area = (
        2.0..8.0f64,
        2.0..8.0f64,
        prop::collection::vec(0.5..3.0f64, 5..24),
        any::<bool>(),
    )
        .prop_map(|(cx, cy, radii, hole)| Geometry::Polygon(star(cx, cy, &radii, hole)));
    let grid_rect =
        (0u8..10, 0u8..10, 2u8..10, 2u8..10, any::<bool>()).prop_map(|(x, y, w, h, hole)| {
            let (x0, y0) = (f64::from(x) * 0.5, f64::from(y) * 0.5);
            let (x1, y1) = (x0 + f64::from(w) * 0.5, y0 + f64::from(h) * 0.5);
            let exterior = LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]);
            let holes = if hole && w >= 4 && h >= 4 {
                vec![LineString::from(vec![
                    (x0 + 0.5, y0 + 0.5),
                    (x0 + 0.5, y1 - 0.5),
                    (x1 - 0.5, y1 - 0.5),
                    (x1 - 0.5, y0 + 0.5),
                    (x0 + 0.5, y0 + 0.5),
                ])]
            } else {
                vec![]
            };
            Geometry::Polygon(Polygon::new(exterior, holes))
        });
    let two_parts = (
        prop::collection::vec(0.3..1.5f64, 5..12),
        prop::collection::vec(0.3..1.5f64, 5..12),
    )
        .prop_map(|(a, b)| {
            Geometry::MultiPolygon(MultiPolygon(vec![
                star(2.5, 2.5, &a, false),
                star(7.0, 7.0, &b, true),
            ]))
        });
    prop_oneof![star_area, grid_rect, two_parts]
}

fn ids(layer: &Layer, positions: &[u32]) -> Vec<String> {
    let mut ids: Vec<String> = positions
        .iter()
        .map(|&f| layer.features[f as usize].id.to_string())
        .collect();
    ids.sort();
    ids
}

fn brute(layer: &Layer, test: impl Fn(&Geometry<f64>) -> bool) -> Vec<u32> {
    (0..layer.features.len() as u32)
        .filter(|&f| test(&layer.features[f as usize].geometry()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn sites_in_an_area_equal_a_brute_force_scan(sites in sites(), area in areas()) {
        let layer = layer_of(&sites);
        let indexed = IndexedArea::new(&area).unwrap();
        let intersecting = search::in_area(&layer, &indexed, &area, Relation::Intersects);
        let expected = brute(&layer, |g| g.intersects(&area));
        prop_assert_eq!(ids(&layer, &intersecting), ids(&layer, &expected));
        let within = search::in_area(&layer, &indexed, &area, Relation::Within);
        let expected = brute(&layer, |g| g.relate(&area).is_within());
        prop_assert_eq!(ids(&layer, &within), ids(&layer, &expected));
    }

    #[test]
    fn area_totals_equal_sums_over_a_brute_force_scan(sites in sites(), area in areas()) {
        let layer = layer_of(&sites);
        let indexed = IndexedArea::new(&area).unwrap();
        let region = AreaRegion { area: &indexed, relation: Relation::Intersects };
        let sums = search::totals(&layer, &region, true).unwrap();
        let inside = brute(&layer, |g| g.intersects(&area));
        prop_assert_eq!(sums.points, inside.len() as u64);
        let columns = layer.count_columns.len();
        for round in 0..layer.rounds.len() {
            for column in 0..columns {
                let expected: i64 = inside
                    .iter()
                    .filter_map(|&f| layer.count(round, f))
                    .filter_map(|r| r.value(column))
                    .sum();
                prop_assert_eq!(sums.sums[round * columns + column], expected);
            }
        }
        let group = layer.group_by.as_ref().unwrap();
        for (g, (points, _)) in &sums.by_group {
            let name = &group.values[*g as usize];
            let expected = inside
                .iter()
                .filter(|&&f| {
                    let group = layer.features[f as usize].properties.get("group");
                    group.and_then(|v| v.as_str()) == Some(name.as_str())
                })
                .count() as u64;
            prop_assert_eq!(*points, expected);
        }
        let grouped: u64 = sums.by_group.values().map(|(p, _)| p).sum();
        prop_assert_eq!(grouped, sums.points);
    }
}

/// Sites over Iraq in lon/lat, for the distance queries.
fn lon_lat_sites() -> impl Strategy<Value = Vec<(f64, f64)>> {
    prop::collection::vec((38.8..48.5f64, 29.1..37.3f64), 1..300)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, .. ProptestConfig::default() })]

    #[test]
    fn sites_within_a_radius_equal_a_geodesic_brute_force(
        sites in lon_lat_sites(),
        lon in 38.8..48.5f64,
        lat in 29.1..37.3f64,
        metres in 1_000.0..400_000.0f64,
    ) {
        let layer = layer_of(&sites);
        let center = Point::new(lon, lat);
        let found = search::within_distance(&layer, center, metres);
        let got: Vec<u32> = found.iter().map(|(f, _)| *f).collect();
        let expected = brute(&layer, |g| match g {
            Geometry::Point(p) => Geodesic.distance(*p, center) <= metres,
            _ => false,
        });
        prop_assert_eq!(ids(&layer, &got), ids(&layer, &expected));
        prop_assert!(found.windows(2).all(|w| w[0].1 <= w[1].1), "sorted by distance");
        // Distances agree with an independent geodesic method (Karney's) to the millimetre.
        for (f, d) in &found {
            let Geometry::Point(p) = *layer.features[*f as usize].geometry() else { unreachable!() };
            let karney = Geodesic.distance(p, center);
            prop_assert!((d - karney).abs() < 0.001, "{} vs {}", d, karney);
        }
        let circle = CircleRegion::new(center, metres);
        let sums = search::totals(&layer, &circle, false).unwrap();
        prop_assert_eq!(sums.points, expected.len() as u64);
    }

    #[test]
    fn the_k_nearest_equal_a_geodesic_sort_of_every_site(
        sites in lon_lat_sites(),
        lon in 38.8..48.5f64,
        lat in 29.1..37.3f64,
        k in 1usize..20,
    ) {
        let layer = layer_of(&sites);
        let center = Point::new(lon, lat);
        let found = search::nearest(&layer, center, k, None);
        let mut all: Vec<(u32, f64)> = (0..layer.features.len() as u32)
            .map(|f| match *layer.features[f as usize].geometry() {
                Geometry::Point(p) => (f, Geodesic.distance(p, center)),
                _ => unreachable!(),
            })
            .collect();
        all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        all.truncate(k);
        prop_assert_eq!(found.len(), all.len());
        for ((f, d), (ef, ed)) in found.iter().zip(&all) {
            prop_assert!((d - ed).abs() < 1e-3, "{} vs {}", d, ed);
            prop_assert_eq!(f, ef);
        }
    }
}

#[test]
fn which_governorate_agrees_with_a_brute_force_scan_on_a_grid_over_iraq() {
    let snapshot = crate::common::iraq_snapshot();
    let governorates = snapshot.layer("governorates").unwrap();
    let mut checked = 0;
    for i in 0..60 {
        for j in 0..50 {
            let point = Point::new(38.7 + f64::from(i) * 0.17, 29.0 + f64::from(j) * 0.17);
            let found = search::containing(governorates, point);
            let expected = brute(governorates, |g| g.intersects(&point));
            assert_eq!(found, expected, "at {point:?}");
            checked += usize::from(!expected.is_empty());
        }
    }
    assert!(checked > 1000, "most grid points fall in Iraq: {checked}");
}

#[test]
fn a_governorate_as_the_area_finds_exactly_its_sites_by_position() {
    let snapshot = crate::common::iraq_snapshot();
    let governorates = snapshot.layer("governorates").unwrap();
    let sites = snapshot.layer("sites").unwrap();
    for feature in &governorates.features {
        let indexed = IndexedArea::new(&feature.geometry()).unwrap();
        let found = search::in_area(sites, &indexed, &feature.geometry(), Relation::Intersects);
        let expected = brute(sites, |g| g.intersects(&*feature.geometry()));
        assert_eq!(found, expected, "{}", feature.id);
    }
}

/// A real boundary can be a MultiPolygon whose parts touch at a point (Natural Earth has
/// such areas). Loading accepts it (`geo`'s rules), so totals over it must answer, and
/// count the sites of both parts and none outside.
/// Loads `areas.geojson` (ids in `code`) and `sites.csv` (`id`, `lon`, `lat`, `round`,
/// `individuals`) from `dir`, as a layer of areas and a layer of sites with counts.
fn load_areas_and_sites(dir: &std::path::Path) -> dtmap::model::Snapshot {
    let toml = r#"
[[layer]]
id = "areas"
source = { path = "areas.geojson" }
id_field = "code"
[[layer]]
id = "sites"
source = { path = "sites.csv", lon = "lon", lat = "lat" }
id_field = "id"
[[layer.counts]]
path = "sites.csv"
key = "id"
round = "round"
columns = ["individuals"]
"#;
    let (snapshot, report) = super::common::load_toml(toml, dir);
    assert!(report.is_ok(), "{report}");
    snapshot
}

#[tokio::test]
async fn totals_over_a_detailed_area_equal_a_scan_and_its_preparation_is_kept() {
    // A star of 4,800 vertices (above KEPT_AREA_MIN_VERTICES), and sites on a grid.
    let dir = tempfile::tempdir().unwrap();
    let n = 4_800;
    let ring: Vec<[f64; 2]> = (0..=n)
        .map(|i| {
            let angle = std::f64::consts::TAU * (i % n) as f64 / n as f64;
            let radius = if i % 2 == 0 { 1.0 } else { 0.8 };
            [radius * angle.cos(), radius * angle.sin()]
        })
        .collect();
    let star = geo::Polygon::new(
        geo::LineString::from(ring.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>()),
        vec![],
    );
    let area = serde_json::json!({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"code": "STAR"},
        "geometry": {"type": "Polygon", "coordinates": [ring]}}]});
    std::fs::write(dir.path().join("areas.geojson"), area.to_string()).unwrap();
    let mut csv = String::from("id,lon,lat,round,individuals\n");
    let mut expected = (0, 0);
    for i in 0..41 {
        for j in 0..41 {
            let (lon, lat) = (-1.0 + 0.05 * i as f64, -1.0 + 0.05 * j as f64 + 0.0123);
            let people = 1 + i * 41 + j;
            csv.push_str(&format!("s{i}_{j},{lon},{lat},2024-01-01,{people}\n"));
            if geo::Contains::contains(&star, &geo::Point::new(lon, lat)) {
                expected.0 += 1;
                expected.1 += people;
            }
        }
    }
    assert!(expected.0 > 100 && expected.0 < 41 * 41, "{expected:?}");
    std::fs::write(dir.path().join("sites.csv"), csv).unwrap();
    let snapshot = load_areas_and_sites(dir.path());
    let areas = snapshot.layer("areas").unwrap().clone();
    let state = dtmap::api::AppState::new(snapshot, super::common::settings(None));
    for _ in 0..2 {
        let totals =
            super::common::get_json(&state, "/collections/sites/totals?area=areas/STAR").await;
        assert_eq!(totals["sites"], expected.0, "{totals}");
        assert_eq!(totals["totals"]["individuals"], expected.1, "{totals}");
    }
    let (first, second) = (
        areas.prepared_area(0).unwrap(),
        areas.prepared_area(0).unwrap(),
    );
    assert!(
        std::sync::Arc::ptr_eq(&first, &second),
        "kept, not prepared again"
    );
}

#[tokio::test]
async fn totals_over_a_loaded_area_whose_parts_touch_at_a_point_answer() {
    let dir = tempfile::tempdir().unwrap();
    let area = serde_json::json!({"type": "FeatureCollection", "features": [{
    "type": "Feature", "properties": {"code": "A1"},
    "geometry": {"type": "MultiPolygon", "coordinates": [
        [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]],
        [[[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 2.0], [1.0, 1.0]]]
    ]}}]});
    std::fs::write(dir.path().join("areas.geojson"), area.to_string()).unwrap();
    let sites = [
        ("s1", 0.5, 0.5, 10),
        ("s2", 1.5, 1.5, 20),
        ("s3", 1.5, 0.5, 40),
        ("s4", 0.5, 1.5, 80),
    ];
    let mut csv = String::from("id,lon,lat,round,individuals\n");
    for (id, lon, lat, n) in sites {
        csv.push_str(&format!("{id},{lon},{lat},2024-01-01,{n}\n"));
    }
    std::fs::write(dir.path().join("sites.csv"), csv).unwrap();
    let snapshot = load_areas_and_sites(dir.path());
    let state = dtmap::api::AppState::new(snapshot, super::common::settings(None));
    let totals = super::common::get_json(&state, "/collections/sites/totals?area=areas/A1").await;
    assert_eq!(totals["sites"], 2, "{totals}");
    assert_eq!(totals["totals"]["individuals"], 30, "{totals}");
    // A query geometry with touching parts is still refused with the reason.
    let reply = super::common::get(
        &state,
        &"/collections/sites/totals?geometry=MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)),((1 1,2 1,2 2,1 2,1 1)))"
            .replace(' ', "%20"),
    )
    .await;
    assert_eq!(reply.status, 400);
}

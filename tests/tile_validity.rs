//! Every polygon ring in a vector tile is valid as MVT 2.1 asks, checked independently of
//! the production code: tiles are decoded here from geozero's protobuf types, rings are
//! rebuilt per feature (an exterior has a positive area by the spec's formula, a hole a
//! negative one) and checked by brute force: closed by a ClosePath, three or more distinct
//! vertices, non-zero area, no two non-adjacent edges touching or crossing, consecutive
//! edges not folding back, every hole inside its exterior.
//!
//! Three sources of tiles: every tile of z0–z10 over the built-in governorates (z9 and z10
//! only where the data is), the two tiles where invalid rings were first found, and random
//! star-shaped polygons with holes around tile edges, through the real pipeline. Last, the
//! outlines made ahead at start give the tiles that outlines made on request give.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dtmap::api::{AppState, Settings};
use dtmap::config::Config;
use dtmap::model::Snapshot;
use dtmap::tiles::clip::{Chain, ClipBox};
use dtmap::tiles::encode::{encode_geometry, TileGeometry};
use dtmap::tiles::prepare::{PolygonRings, PreparedSnapshot, Shape};
use dtmap::tiles::render::{clip_shape, render_tile, LayerRequest};
use dtmap::tiles::simplify::{SourcePoint, Topology};
use dtmap::tiles::{lonlat_to_world, world_to_lonlat, TileId, TileOptions, EXTENT};
use geo::Intersects;
use geozero::mvt::{tile, Message, Tile};
use http_body_util::BodyExt;
use proptest::prelude::*;
use tower::ServiceExt;

type Point = [i64; 2];

// ---------------------------------------------------------------------------------------
// Decoding rings
// ---------------------------------------------------------------------------------------

fn unzigzag(n: u32) -> i64 {
    i64::from(n >> 1) ^ -i64::from(n & 1)
}

/// The rings of a polygon feature's commands: vertices (without a closing repeat) and
/// whether a ClosePath ended the ring.
fn rings_of(commands: &[u32]) -> Vec<(Vec<Point>, bool)> {
    let mut rings: Vec<(Vec<Point>, bool)> = Vec::new();
    let mut cursor = [0i64, 0];
    let mut i = 0;
    while i < commands.len() {
        let (id, count) = (commands[i] & 7, (commands[i] >> 3) as usize);
        i += 1;
        match id {
            1 | 2 => {
                for _ in 0..count {
                    cursor = [
                        cursor[0] + unzigzag(commands[i]),
                        cursor[1] + unzigzag(commands[i + 1]),
                    ];
                    i += 2;
                    if id == 1 {
                        rings.push((vec![cursor], false));
                    } else {
                        rings
                            .last_mut()
                            .expect("LineTo after MoveTo")
                            .0
                            .push(cursor);
                    }
                }
            }
            7 => rings.last_mut().expect("ClosePath after MoveTo").1 = true,
            other => panic!("unknown command {other}"),
        }
    }
    rings
}

/// Twice the area by the spec's formula: positive for an exterior ring.
fn area2(ring: &[Point]) -> i128 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i128::from(a[0]) * i128::from(b[1]) - i128::from(b[0]) * i128::from(a[1])
        })
        .sum()
}

fn cross(o: Point, a: Point, b: Point) -> i128 {
    i128::from(a[0] - o[0]) * i128::from(b[1] - o[1])
        - i128::from(a[1] - o[1]) * i128::from(b[0] - o[0])
}

fn within(a: Point, b: Point, p: Point) -> bool {
    a[0].min(b[0]) <= p[0]
        && p[0] <= a[0].max(b[0])
        && a[1].min(b[1]) <= p[1]
        && p[1] <= a[1].max(b[1])
}

/// Whether closed segments a–b and c–d share any point.
fn touch(a: Point, b: Point, c: Point, d: Point) -> bool {
    let (d1, d2, d3, d4) = (
        cross(a, b, c),
        cross(a, b, d),
        cross(c, d, a),
        cross(c, d, b),
    );
    if d1.signum() * d2.signum() < 0 && d3.signum() * d4.signum() < 0 {
        return true;
    }
    (d1 == 0 && within(a, b, c))
        || (d2 == 0 && within(a, b, d))
        || (d3 == 0 && within(c, d, a))
        || (d4 == 0 && within(c, d, b))
}

/// Whether segments a–b and c–d cross at a point interior to both.
fn cross_properly(a: Point, b: Point, c: Point, d: Point) -> bool {
    let (d1, d2, d3, d4) = (
        cross(a, b, c),
        cross(a, b, d),
        cross(c, d, a),
        cross(c, d, b),
    );
    d1.signum() * d2.signum() < 0 && d3.signum() * d4.signum() < 0
}

/// -1 outside, 0 on the boundary, 1 inside.
fn locate(p: Point, ring: &[Point]) -> i8 {
    let n = ring.len();
    let mut inside = false;
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + 1) % n]);
        if cross(a, b, p) == 0 && within(a, b, p) {
            return 0;
        }
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x =
                a[0] as f64 + (p[1] - a[1]) as f64 * (b[0] - a[0]) as f64 / (b[1] - a[1]) as f64;
            if (p[0] as f64) < x {
                inside = !inside;
            }
        }
    }
    if inside {
        1
    } else {
        -1
    }
}

/// What is wrong with one ring, if anything.
fn ring_problem(ring: &[Point], closed: bool) -> Option<String> {
    if !closed {
        return Some("not closed by a ClosePath".into());
    }
    let mut distinct = ring.to_vec();
    distinct.sort();
    distinct.dedup();
    if distinct.len() < 3 {
        return Some(format!("{} distinct vertices", distinct.len()));
    }
    if area2(ring) == 0 {
        return Some("no area".into());
    }
    let n = ring.len();
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + 1) % n]);
        if a == b {
            return Some(format!("a repeated vertex {a:?}"));
        }
        for j in i + 1..n {
            let (c, d) = (ring[j], ring[(j + 1) % n]);
            let adjacent = j == i + 1 || (i == 0 && j == n - 1);
            if adjacent {
                // Consecutive edges meet at their common vertex only: no folding back.
                let (p, q, r) = if j == i + 1 { (a, b, d) } else { (c, a, b) };
                let dot = (q[0] - p[0]) * (r[0] - q[0]) + (q[1] - p[1]) * (r[1] - q[1]);
                if cross(p, q, r) == 0 && dot < 0 {
                    return Some(format!("edges fold back at {q:?}"));
                }
            } else if touch(a, b, c, d) {
                return Some(format!("edges {a:?}–{b:?} and {c:?}–{d:?} meet"));
            }
        }
    }
    None
}

/// Every problem of one polygon feature's rings, described.
fn feature_problems(commands: &[u32]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut exterior: Option<Vec<Point>> = None;
    for (ring, closed) in rings_of(commands) {
        if let Some(problem) = ring_problem(&ring, closed) {
            problems.push(format!("{problem} in ring {ring:?}"));
            continue;
        }
        if area2(&ring) > 0 {
            exterior = Some(ring);
            continue;
        }
        let Some(outer) = &exterior else {
            problems.push("a hole before any exterior".into());
            continue;
        };
        if ring.iter().any(|p| locate(*p, outer) < 0) {
            problems.push(format!("a hole outside its exterior: {ring:?}"));
        }
        let (n, m) = (ring.len(), outer.len());
        for i in 0..n {
            for j in 0..m {
                if cross_properly(ring[i], ring[(i + 1) % n], outer[j], outer[(j + 1) % m]) {
                    problems.push(format!("a hole crosses its exterior at {:?}", ring[i]));
                }
            }
        }
    }
    problems
}

/// Problems of every polygon feature of an encoded tile: (layer, feature id, problem).
fn tile_problems(bytes: &[u8]) -> Vec<(String, u64, String)> {
    let tile = Tile::decode(bytes).expect("a valid protobuf");
    let mut problems = Vec::new();
    for layer in &tile.layers {
        for feature in &layer.features {
            if feature.r#type != Some(tile::GeomType::Polygon as i32) {
                continue;
            }
            for problem in feature_problems(&feature.geometry) {
                problems.push((layer.name.clone(), feature.id.unwrap_or(0), problem));
            }
        }
    }
    problems
}

#[test]
fn the_checker_finds_the_faults_it_looks_for() {
    let square = [[0, 0], [10, 0], [10, 10], [0, 10]];
    assert_eq!(ring_problem(&square, true), None);
    assert!(ring_problem(&square, false).is_some());
    // A bridge along y = 0, walked both ways.
    let bridge = [
        [0, 0],
        [10, 0],
        [10, 4],
        [6, 4],
        [6, 0],
        [4, 0],
        [4, 4],
        [0, 4],
    ];
    assert!(ring_problem(&bridge, true).is_some());
    // Touching itself at (4, 4).
    let touching = [
        [0, 0],
        [4, 0],
        [4, 4],
        [8, 4],
        [8, 8],
        [4, 8],
        [4, 4],
        [0, 4],
    ];
    assert!(ring_problem(&touching, true).is_some());
    assert!(ring_problem(&[[0, 0], [10, 10], [10, 0], [0, 10]], true).is_some());
    assert!(ring_problem(&[[0, 0], [5, 0], [10, 0]], true).is_some());
    assert!(ring_problem(&[[0, 0], [10, 0], [10, 10], [10, 5]], true).is_some());
}

// ---------------------------------------------------------------------------------------
// The built-in data
// ---------------------------------------------------------------------------------------

fn snapshot() -> &'static Snapshot {
    static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
    SNAPSHOT.get_or_init(|| {
        let (snapshot, report) = dtmap::data::load(&Config::builtin());
        assert!(report.is_ok(), "the built-in data loads: {report}");
        snapshot
    })
}

fn prepared() -> &'static PreparedSnapshot {
    static PREPARED: OnceLock<PreparedSnapshot> = OnceLock::new();
    PREPARED.get_or_init(|| PreparedSnapshot::build(snapshot(), &TileOptions::default()))
}

fn requests(ids: &[&str]) -> Vec<LayerRequest<'static>> {
    let snapshot = snapshot();
    ids.iter()
        .map(|id| {
            let position = snapshot
                .layers
                .iter()
                .position(|l| l.id == *id)
                .expect("a built-in layer");
            let layer = &snapshot.layers[position];
            LayerRequest {
                layer,
                prepared: &prepared().layers[position],
                round: layer.latest_round(),
            }
        })
        .collect()
}

/// Every tile of `zoom` over a lon/lat box.
fn tiles_over(bounds: geo::Rect<f64>, zoom: u8) -> Vec<TileId> {
    let size = f64::from(EXTENT);
    let (x0, y0) = lonlat_to_world(bounds.min().x, bounds.max().y, zoom);
    let (x1, y1) = lonlat_to_world(bounds.max().x, bounds.min().y, zoom);
    let mut tiles = Vec::new();
    for x in (x0 / size) as u64..=(x1 / size) as u64 {
        for y in (y0 / size) as u64..=(y1 / size) as u64 {
            tiles.push(TileId::new(u64::from(zoom), x, y).expect("a tile of the grid"));
        }
    }
    tiles
}

#[test]
fn every_polygon_ring_of_z0_to_z10_over_the_governorates_is_valid() {
    let started = Instant::now();
    let snapshot = snapshot();
    let governorates = snapshot.layer("governorates").expect("governorates");
    let extent = governorates.extent.expect("an extent");
    let all: Vec<&str> = snapshot.layers.iter().map(|l| l.id.as_str()).collect();
    let (single, composite) = (requests(&["governorates"]), requests(&all));
    let options = TileOptions::default();
    let (mut checked, mut rings_seen) = (0usize, 0usize);
    let mut problems = Vec::new();
    for zoom in 0..=10u8 {
        for tile in tiles_over(extent, zoom) {
            if zoom >= 9 {
                // Only where the data is: a governorate reaches into the tile's buffer.
                let near = tile
                    .bounds_lonlat(f64::from(options.buffer) + 8.0)
                    .to_polygon();
                if !governorates
                    .features
                    .iter()
                    .any(|f| f.geometry().intersects(&near))
                {
                    continue;
                }
            }
            for (name, requests) in [("governorates", &single), ("all layers", &composite)] {
                let bytes = render_tile(requests, tile, &options);
                checked += 1;
                if bytes.is_empty() {
                    continue;
                }
                rings_seen += Tile::decode(&bytes[..])
                    .expect("a tile")
                    .layers
                    .iter()
                    .flat_map(|l| &l.features)
                    .map(|f| rings_of(&f.geometry).iter().filter(|r| r.1).count())
                    .sum::<usize>();
                for (layer, id, problem) in tile_problems(&bytes) {
                    problems.push(format!(
                        "{name} {}/{}/{} {layer} #{id}: {problem}",
                        tile.z, tile.x, tile.y
                    ));
                }
            }
        }
    }
    eprintln!(
        "checked {checked} tiles, {rings_seen} rings, in {:.1?}",
        started.elapsed()
    );
    assert!(checked > 1200, "only {checked} tiles");
    assert!(
        problems.is_empty(),
        "{} invalid rings:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn settings() -> Settings {
    Settings {
        public_url: None,
        cache_max_age: 60,
        frame_ancestors: Vec::new(),
        ..Settings::default()
    }
}

async fn fetch(uri: &str) -> (StatusCode, Vec<u8>) {
    static STATE: OnceLock<Arc<AppState>> = OnceLock::new();
    let state =
        STATE.get_or_init(|| AppState::new(dtmap::data::load(&Config::builtin()).0, settings()));
    let response = dtmap::server::app(state.clone())
        .oneshot(
            Request::builder()
                .uri(uri)
                .body(Body::empty())
                .expect("a request"),
        )
        .await
        .expect("an answer");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (status, body.to_vec())
}

#[tokio::test]
async fn the_tiles_where_invalid_rings_were_found_are_valid() {
    for uri in [
        "/tiles/governorates/4/9/6",
        "/tiles/governorates/5/20/12",
        "/tiles/governorates,sites,countries,rivers/4/9/6",
    ] {
        let (status, body) = fetch(uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        let problems = tile_problems(&body);
        assert!(problems.is_empty(), "{uri}: {problems:#?}");
    }
}

#[tokio::test]
async fn erbil_on_z5_keeps_its_area_along_the_buffer_line() {
    // Erbil leaves and re-enters tile 5/20/12 across the left buffer line; it is still
    // drawn there, as separate valid rings.
    let (status, body) = fetch("/tiles/governorates/5/20/12").await;
    assert_eq!(status, StatusCode::OK);
    let tile = Tile::decode(&body[..]).expect("a tile");
    let layer = tile
        .layers
        .iter()
        .find(|l| l.name == "governorates")
        .expect("a layer");
    let erbil = snapshot()
        .layer("governorates")
        .expect("governorates")
        .features
        .iter()
        .position(|f| f.properties.get("name_en").and_then(|v| v.as_str()) == Some("Erbil"))
        .expect("Erbil");
    let feature = layer
        .features
        .iter()
        .find(|f| f.id == Some(erbil as u64 + 1))
        .expect("Erbil is in the tile");
    let rings = rings_of(&feature.geometry);
    let area: i128 = rings.iter().map(|(r, _)| area2(r)).sum();
    assert!(area > 0, "{rings:?}");
    assert!(feature_problems(&feature.geometry).is_empty());
}

// ---------------------------------------------------------------------------------------
// Random polygons through the pipeline
// ---------------------------------------------------------------------------------------

/// A star-shaped ring round `centre` (world units of `zoom`), one vertex per radius, as
/// lon/lat; simple because its angles increase.
fn star(centre: (f64, f64), radii: &[f64], turn: f64, zoom: u8) -> Vec<SourcePoint> {
    let n = radii.len() as f64;
    let mut ring: Vec<SourcePoint> = radii
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let angle = (i as f64 + turn) / n * std::f64::consts::TAU;
            let (lon, lat) =
                world_to_lonlat(centre.0 + r * angle.cos(), centre.1 + r * angle.sin(), zoom);
            [lon, lat]
        })
        .collect();
    ring.push(ring[0]);
    ring
}

/// Renders polygons (each exterior then holes, lon/lat) into `tile` at `data_zoom` detail
/// through topology, simplification, clipping, repair and encoding, as a tile does.
fn render_polygons(polygons: &[Vec<Vec<SourcePoint>>], tile: TileId) -> Vec<u32> {
    let options = TileOptions::default();
    let mut paths = Vec::new();
    let mut ids = Vec::new();
    for polygon in polygons {
        let mut ring_ids = Vec::new();
        for ring in polygon {
            paths.push((ring.clone(), true));
            ring_ids.push(paths.len() - 1);
        }
        ids.push(ring_ids);
    }
    let topology = Topology::build(paths);
    let kept: Vec<PolygonRings> = ids
        .iter()
        .filter_map(|rings| {
            let mut rings = rings
                .iter()
                .map(|&id| topology.simplify(id, tile.z, options.simplify_tolerance))
                .filter(|r| r.len() >= 3);
            let exterior = rings.next()?;
            let mut polygon = vec![Chain::new(exterior)];
            polygon.extend(rings.map(Chain::new));
            Some(PolygonRings::new(polygon))
        })
        .collect();
    let clip = ClipBox::around(tile, options.buffer);
    match clip_shape(&Shape::Polygons(kept), &clip, tile.origin()) {
        Some(geometry @ TileGeometry::Polygons(_)) => encode_geometry(&geometry).1,
        Some(_) => panic!("polygons stay polygons"),
        None => Vec::new(),
    }
}

prop_compose! {
    /// A polygon with up to two holes near a corner or side of a tile, its radii spread
    /// from a few units to a few tiles, so that it crosses the buffer line many times.
    fn polygon_near_a_tile()(
        zoom in 0u8..=14,
        cell in (0.0f64..1.0, 0.0f64..1.0),
        offset in (-200.0f64..200.0, -200.0f64..200.0),
        on_corner in any::<bool>(),
        scale in prop_oneof![2.0f64..20.0, 20.0f64..400.0, 400.0f64..6000.0],
        outer in proptest::collection::vec(0.35f64..1.0, 3..80),
        holes in proptest::collection::vec((proptest::collection::vec(0.3f64..1.0, 3..12), 0.0f64..1.0), 0..3),
        turn in 0.0f64..1.0,
    ) -> (TileId, Vec<Vec<Vec<SourcePoint>>>) {
        let tiles = 1u64 << zoom;
        let x = ((cell.0 * tiles as f64) as u64).min(tiles - 1);
        let y = ((cell.1 * tiles as f64) as u64).min(tiles - 1);
        let tile = TileId::new(u64::from(zoom), x, y).expect("a tile");
        let [ox, oy] = tile.origin();
        // On the buffer line of the left side (and of the top when on a corner).
        let cx = ox as f64 - 64.0 + offset.0;
        let cy = if on_corner { oy as f64 - 64.0 + offset.1 } else { oy as f64 + 2048.0 + offset.1 * 8.0 };
        let size = tile.world_size();
        let scale = scale.min(size / 4.0);
        let centre = (cx.clamp(scale, size - scale), cy.clamp(scale, size - scale));
        let radii: Vec<f64> = outer.iter().map(|r| r * scale).collect();
        let mut rings = vec![star(centre, &radii, turn, zoom)];
        for (i, (hole, hole_turn)) in holes.iter().enumerate() {
            // Holes of radius 0.1 at ±0.2 from the centre: inside the exterior (radius
            // 0.35 or more) and apart from each other.
            let side = if i == 0 { 0.2 } else { -0.2 };
            let radii: Vec<f64> = hole.iter().map(|r| r * 0.1 * scale).collect();
            rings.push(star((centre.0 + side * scale, centre.1), &radii, *hole_turn, zoom));
        }
        (tile, vec![rings])
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_polygons_near_tile_edges_give_valid_rings(
        (tile, polygons) in polygon_near_a_tile()
    ) {
        for (dx, dy) in [(0i64, 0i64), (-1, 0), (0, -1), (-1, -1), (1, 0), (0, 1)] {
            let limit = 1i64 << tile.z;
            let (x, y) = (i64::from(tile.x) + dx, i64::from(tile.y) + dy);
            if !(0..limit).contains(&x) || !(0..limit).contains(&y) {
                continue;
            }
            let here = TileId::new(u64::from(tile.z), x as u64, y as u64).expect("a tile");
            let commands = render_polygons(&polygons, here);
            let problems = feature_problems(&commands);
            prop_assert!(problems.is_empty(), "{here:?}: {problems:#?}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Outlines made ahead
// ---------------------------------------------------------------------------------------

/// Outlines simplified and made valid ahead, on every core, give byte for byte the tiles
/// of outlines made as each tile asks, at every zoom made ahead and the one after it: on
/// the built-in governorates and on the second dataset (other fields, three small states).
#[test]
fn tiles_of_outlines_made_ahead_are_the_tiles_made_on_request() {
    use dtmap::tiles::prepare::OUTLINES_AHEAD;
    let other = {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/other");
        let config = Config::from_file(&dir.join("dtmap.toml")).expect("config");
        let (snapshot, report) = dtmap::data::load(&config);
        assert!(report.is_ok(), "{report}");
        snapshot
    };
    let options = TileOptions::default();
    for (snapshot, areas) in [(snapshot(), "governorates"), (&other, "states")] {
        let ahead = PreparedSnapshot::build(snapshot, &options);
        ahead.make_outlines_ahead(snapshot);
        let asked = PreparedSnapshot::build(snapshot, &options);
        let (from_ahead, from_asked) = (
            LayerRequest::latest_of(&snapshot.layers, &ahead.layers),
            LayerRequest::latest_of(&snapshot.layers, &asked.layers),
        );
        let extent = snapshot
            .layer(areas)
            .expect("areas")
            .extent
            .expect("extent");
        let (mut compared, mut with_areas) = (0, 0);
        for zoom in 0..=OUTLINES_AHEAD + 1 {
            let tiles = tiles_over(extent, zoom);
            // Deeper, a spread of about 60 tiles of the zoom.
            let step = (tiles.len() / 60).max(1);
            for tile in tiles.into_iter().step_by(step) {
                let made = render_tile(&from_asked, tile, &options);
                assert_eq!(
                    render_tile(&from_ahead, tile, &options),
                    made,
                    "{areas} {tile:?}"
                );
                compared += 1;
                let decoded = Tile::decode(&made[..]).expect("a tile");
                with_areas += usize::from(decoded.layers.iter().any(|l| l.name == areas));
            }
        }
        eprintln!("{areas}: {compared} tiles compared, {with_areas} with areas");
        assert!(
            compared > 300 && with_areas > 80,
            "{areas}: {compared} tiles, {with_areas} with areas"
        );
    }
}

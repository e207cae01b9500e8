//! Tile encoding on the built-in Iraq data (repeatable: compiled into the binary): every
//! layer in one tile over Baghdad at z4, z8 and z12, with the zoom's geometry already
//! prepared (as on a warm server, tile cache not involved), and the preparation of one
//! zoom from scratch; and tiles of clustered sites: 100,000 generated sites with counts
//! (a fixed seed) in the tiles over Baghdad at z6, z8 and z10, hundreds of clusters each.
//! Run: `cargo bench --bench tiles`.

use std::fmt::Write as _;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use dtmap::config::{Config, DataRoot};
use dtmap::tiles::prepare::PreparedSnapshot;
use dtmap::tiles::render::{render_tile, LayerRequest};
use dtmap::tiles::{lonlat_to_world, TileId, TileOptions, EXTENT};
use rand::{Rng, SeedableRng};

/// Baghdad.
const LON: f64 = 44.4;
const LAT: f64 = 33.3;

fn tile_over_baghdad(zoom: u8) -> TileId {
    let (x, y) = lonlat_to_world(LON, LAT, zoom);
    let size = f64::from(EXTENT);
    TileId::new(u64::from(zoom), (x / size) as u64, (y / size) as u64)
        .expect("Baghdad is on the grid")
}

fn encoding(c: &mut Criterion) {
    let (snapshot, report) = dtmap::data::load(&Config::builtin());
    assert!(report.is_ok(), "{report}");
    let options = TileOptions::default();
    let prepared = PreparedSnapshot::build(&snapshot, &options);
    let requests: Vec<LayerRequest<'_>> = snapshot
        .layers
        .iter()
        .zip(&prepared.layers)
        .map(|(layer, prepared)| LayerRequest {
            layer,
            prepared,
            round: layer.latest_round(),
        })
        .collect();
    let mut group = c.benchmark_group("encode all layers");
    for zoom in [4u8, 8, 12] {
        let tile = tile_over_baghdad(zoom);
        // Every outline simplified at the zoom first, as a served zoom soon has them.
        for (layer, source) in prepared.layers.iter().zip(&snapshot.layers) {
            let shapes = layer.at_zoom(source, zoom);
            for position in 0..source.features.len() {
                shapes.get(position);
            }
        }
        let bytes = render_tile(&requests, tile, &options);
        assert!(!bytes.is_empty(), "z{zoom} has data");
        group.bench_function(format!("z{zoom} ({} bytes)", bytes.len()), |b| {
            b.iter(|| render_tile(black_box(&requests), black_box(tile), &options))
        });
    }
    group.finish();
    c.bench_function("prepare z8 of every layer", |b| {
        b.iter(|| {
            let fresh = PreparedSnapshot::build(&snapshot, &options);
            for (layer, source) in fresh.layers.iter().zip(&snapshot.layers) {
                let shapes = layer.at_zoom(source, 8);
                for position in 0..source.features.len() {
                    black_box(shapes.get(position));
                }
            }
        })
    });
}

/// `n` random sites over Iraq's extent as CSV, with 2 rounds of counts; the config.
fn generated_sites(dir: &std::path::Path, n: usize) -> Config {
    let mut rng = rand::rngs::SmallRng::seed_from_u64(42);
    let mut sites = String::from("site,name,gov,lon,lat\n");
    let mut counts = String::from("site,round,families,individuals\n");
    for i in 0..n {
        let lon: f64 = rng.gen_range(38.8..48.5);
        let lat: f64 = rng.gen_range(29.1..37.3);
        let _ = writeln!(
            sites,
            "S{i},Site {i},IQG{:02},{lon:.5},{lat:.5}",
            i % 18 + 1
        );
        for round in ["2024-06-30", "2024-12-31"] {
            let families = rng.gen_range(0..500);
            let _ = writeln!(counts, "S{i},{round},{families},{}", families * 6);
        }
    }
    std::fs::write(dir.join("sites.csv"), sites).unwrap();
    std::fs::write(dir.join("counts.csv"), counts).unwrap();
    let toml = r#"
[[layer]]
id = "sites"
source = { path = "sites.csv", lon = "lon", lat = "lat" }
id_field = "site"
[[layer.counts]]
path = "counts.csv"
key = "site"
round = "round"
columns = ["families", "individuals"]
synthetic = true
"#;
    Config::from_toml_str(toml, "bench", DataRoot::Dir(dir.to_path_buf())).unwrap()
}

fn clusters(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (snapshot, report) = dtmap::data::load(&generated_sites(dir.path(), 100_000));
    assert!(report.is_ok(), "{report}");
    let options = TileOptions::default();
    let prepared = PreparedSnapshot::build(&snapshot, &options);
    let layer = &snapshot.layers[0];
    let requests = [LayerRequest {
        layer,
        prepared: &prepared.layers[0],
        round: layer.latest_round(),
    }];
    let mut group = c.benchmark_group("clustered sites");
    for zoom in [6u8, 8, 10] {
        let tile = tile_over_baghdad(zoom);
        let bytes = render_tile(&requests, tile, &options);
        assert!(!bytes.is_empty(), "z{zoom} has sites");
        group.bench_function(format!("z{zoom} ({} bytes)", bytes.len()), |b| {
            b.iter(|| render_tile(black_box(&requests), black_box(tile), &options))
        });
    }
    group.finish();
}

criterion_group!(benches, encoding, clusters);
criterion_main!(benches);

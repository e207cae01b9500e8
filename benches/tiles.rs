//! Tile encoding on the built-in Iraq data (repeatable: compiled into the binary): every
//! layer in one tile over Baghdad at z4, z8 and z12, with the zoom's geometry already
//! prepared (as on a warm server, tile cache not involved), and the preparation of one
//! zoom from scratch; and tiles of clustered sites: 100,000 generated sites with counts
//! (`support::generated_sites_as`, a fixed seed) in the tiles over Baghdad at z6, z8 and z10,
//! hundreds of clusters each.
//! Run: `cargo bench --bench tiles`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use dtmap::config::Config;
use dtmap::tiles::prepare::PreparedSnapshot;
use dtmap::tiles::render::{render_tile, LayerRequest};
use dtmap::tiles::{lonlat_to_world, TileId, TileOptions, EXTENT};

mod support;

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
    let requests = LayerRequest::latest_of(&snapshot.layers, &prepared.layers);
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

fn clusters(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    // Enough sites for the deepest tile to hold some when `cargo test` runs it once.
    let sites = support::sites_for_run(100_000, 20_000);
    let config = support::generated_sites_as(dir.path(), sites, support::SitesFile::Geojson);
    let (snapshot, report) = dtmap::data::load(&config);
    assert!(report.is_ok(), "{report}");
    let options = TileOptions::default();
    let prepared = PreparedSnapshot::build(&snapshot, &options);
    let requests = LayerRequest::latest_of(&snapshot.layers, &prepared.layers);
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

//! Load + join + index: the built-in Iraq data, and a generated layer of 100,000 sites with
//! three rounds of counts (GeoJSON points + a CSV count table), as `dtmap serve` loads them.

use std::fmt::Write as _;

use criterion::{criterion_group, criterion_main, Criterion};
use dtmap::config::{Config, DataRoot};
use rand::{Rng, SeedableRng};

fn builtin(c: &mut Criterion) {
    let config = Config::builtin();
    c.bench_function("load_join_index/builtin_iraq", |b| {
        b.iter(|| {
            let (snapshot, report) = dtmap::data::load(&config);
            assert!(report.is_ok());
            snapshot
        })
    });
}

/// Writes `n` random sites over Iraq's extent and 3 rounds of counts; returns the config.
fn generated(dir: &std::path::Path, n: usize) -> Config {
    let mut rng = rand::rngs::SmallRng::seed_from_u64(42);
    let mut geojson = String::from(r#"{"type":"FeatureCollection","features":["#);
    let mut counts = String::from("site,round,families,individuals\n");
    for i in 0..n {
        let lon = rng.gen_range(38.8..48.5);
        let lat = rng.gen_range(29.1..37.3);
        if i > 0 {
            geojson.push(',');
        }
        let _ = write!(
            geojson,
            r#"{{"type":"Feature","properties":{{"site":"S{i}","name":"Site {i}","gov":"IQG{:02}"}},"geometry":{{"type":"Point","coordinates":[{lon:.5},{lat:.5}]}}}}"#,
            i % 18 + 1
        );
        for round in ["2024-01-31", "2024-06-30", "2024-12-31"] {
            let families = rng.gen_range(0..500);
            let _ = writeln!(counts, "S{i},{round},{families},{}", families * 6);
        }
    }
    geojson.push_str("]}");
    std::fs::write(dir.join("sites.geojson"), geojson).unwrap();
    std::fs::write(dir.join("counts.csv"), counts).unwrap();
    let toml = r#"
[[layer]]
id = "sites"
source = { path = "sites.geojson" }
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

fn hundred_thousand_sites(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    // `cargo test` runs each bench once as a smoke test: a small layer is enough there.
    let n = if std::env::args().any(|a| a == "--bench") {
        100_000
    } else {
        5_000
    };
    let config = generated(dir.path(), n);
    let mut group = c.benchmark_group("load_join_index");
    group.sample_size(10);
    group.bench_function("generated_100k_sites_3_rounds", |b| {
        b.iter(|| {
            let (snapshot, report) = dtmap::data::load(&config);
            assert!(report.is_ok());
            snapshot
        })
    });
    group.finish();
}

criterion_group!(benches, builtin, hundred_thousand_sites);
criterion_main!(benches);

//! Load + join + index: the built-in Iraq data, and a generated layer of 100,000 sites with
//! three rounds of counts (GeoJSON points, or a CSV table of sites, and a CSV count table),
//! as `dtmap serve` loads them.

use criterion::{criterion_group, criterion_main, Criterion};
use dtmap::config::Config;

mod support;

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

fn hundred_thousand_sites(c: &mut Criterion) {
    let mut group = c.benchmark_group("load_join_index");
    group.sample_size(10);
    for (name, file) in [
        ("generated_100k_sites_3_rounds", support::SitesFile::Geojson),
        ("generated_100k_sites_csv_3_rounds", support::SitesFile::Csv),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let sites = support::sites_for_run(100_000, 5_000);
        let config = support::generated_sites_as(dir.path(), sites, file);
        group.bench_function(name, |b| {
            b.iter(|| {
                let (snapshot, report) = dtmap::data::load(&config);
                assert!(report.is_ok(), "{report}");
                assert_eq!(snapshot.layers[0].features.len(), sites);
                snapshot
            })
        });
    }
    group.finish();
}

criterion_group!(benches, builtin, hundred_thousand_sites);
criterion_main!(benches);

//! What the benches share: a generated layer of sites with counts, and how many sites a
//! run needs.

use std::fmt::Write as _;

use dtmap::config::{Config, DataRoot};
use rand::{Rng, SeedableRng};

/// `full` when the bench is measured (`cargo bench`); `smoke` when `cargo test` runs each
/// bench once to see that it works.
pub fn sites_for_run(full: usize, smoke: usize) -> usize {
    if std::env::args().any(|a| a == "--bench") {
        full
    } else {
        smoke
    }
}

/// Writes `n` random sites over Iraq's extent and 3 rounds of counts; returns the config.
pub fn generated_sites(dir: &std::path::Path, n: usize) -> Config {
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

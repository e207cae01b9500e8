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

/// The file the sites of [`generated_sites_as`] are written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)] // Each bench compiles this module; the tiles bench writes GeoJSON only.
pub enum SitesFile {
    /// `sites.geojson`, a feature per site.
    Geojson,
    /// `sites.csv`, a row per site with `lon` and `lat` columns; every tenth name is
    /// quoted, with a comma inside, as master lists have them.
    Csv,
}

/// Writes `n` random sites over Iraq's extent as `file` (the same sites either way) and 3
/// rounds of counts; returns the config.
pub fn generated_sites_as(dir: &std::path::Path, n: usize, file: SitesFile) -> Config {
    let mut rng = rand::rngs::SmallRng::seed_from_u64(42);
    let mut geojson = String::from(r#"{"type":"FeatureCollection","features":["#);
    let mut csv = String::from("site,name,gov,lon,lat\n");
    let mut counts = String::from("site,round,families,individuals\n");
    for i in 0..n {
        let lon = rng.gen_range(38.8..48.5);
        let lat = rng.gen_range(29.1..37.3);
        let gov = i % 18 + 1;
        match file {
            SitesFile::Geojson => {
                if i > 0 {
                    geojson.push(',');
                }
                let _ = write!(
                    geojson,
                    r#"{{"type":"Feature","properties":{{"site":"S{i}","name":"Site {i}","gov":"IQG{gov:02}"}},"geometry":{{"type":"Point","coordinates":[{lon:.5},{lat:.5}]}}}}"#,
                );
            }
            SitesFile::Csv if i % 10 == 0 => {
                let _ = writeln!(csv, "S{i},\"Site {i}, camp\",IQG{gov:02},{lon:.5},{lat:.5}");
            }
            SitesFile::Csv => {
                let _ = writeln!(csv, "S{i},Site {i},IQG{gov:02},{lon:.5},{lat:.5}");
            }
        }
        for round in ["2024-01-31", "2024-06-30", "2024-12-31"] {
            let families = rng.gen_range(0..500);
            let _ = writeln!(counts, "S{i},{round},{families},{}", families * 6);
        }
    }
    geojson.push_str("]}");
    let source = match file {
        SitesFile::Geojson => {
            std::fs::write(dir.join("sites.geojson"), geojson).unwrap();
            r#"{ path = "sites.geojson" }"#
        }
        SitesFile::Csv => {
            std::fs::write(dir.join("sites.csv"), csv).unwrap();
            r#"{ path = "sites.csv", lon = "lon", lat = "lat" }"#
        }
    };
    std::fs::write(dir.join("counts.csv"), counts).unwrap();
    let toml = format!(
        r#"
[[layer]]
id = "sites"
source = {source}
id_field = "site"
[[layer.counts]]
path = "counts.csv"
key = "site"
round = "round"
columns = ["families", "individuals"]
synthetic = true
"#
    );
    Config::from_toml_str(&toml, "bench", DataRoot::Dir(dir.to_path_buf())).unwrap()
}

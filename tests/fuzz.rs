//! A fuzz harness on stable Rust over every parser of outside input: WKT and GeoJSON query
//! geometries, CQL2 text and JSON filters, `bbox`, `datetime`, `properties`, and the
//! loaders of CSV, XLSX, GeoJSON and FlatGeobuf sources (each with the layer built from what
//! it read, counts joined). See `fuzz/README.md`.
//!
//! Each target replays every file of `fuzz/corpus/<target>/`, then mutates them (bit flips,
//! inserted, deleted and duplicated slices, splices of two entries, interesting tokens, deep
//! repetition) for `DTMAP_FUZZ_SECS` seconds (default 2), seeded by `DTMAP_FUZZ_SEED`.
//! Accepted inputs join the pool, so mutation climbs towards valid structure. A panic writes
//! the input to `<target dir>/fuzz-crashes/<target>-<hash>` and fails with its path; an
//! abort (a stack overflow cannot be caught) leaves the input in
//! `<target dir>/fuzz-crashes/<target>-in-flight`. An input slower than `DTMAP_FUZZ_SLOW_MS`
//! (default 5000) is written as `<target>-slow-<hash>` and fails too: every parser of
//! outside input must have a bounded cost.

use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{Seek, SeekFrom, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use dtmap::config::{Config, DataRoot, LayerConfig, SourceFormat, MAX_QUERY_VERTICES};
use dtmap::data::{
    self,
    join::{CountFile, CountInput},
    LoadReport,
};
use dtmap::model::{Layer, Snapshot};
use dtmap::query::area::IndexedArea;
use dtmap::query::search::{self, Relation};
use geo::Geometry;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Inputs grow no larger than this under mutation.
const MAX_INPUT: usize = 64 * 1024;
/// Accepted inputs kept for further mutation, per target.
const MAX_POOL: usize = 2_000;

/// Tokens worth inserting into any input.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"",
    "'",
    "\\",
    "/",
    "..",
    "-",
    "+",
    ".",
    " ",
    "\n",
    "\r\n",
    "\0",
    "é",
    "\u{feff}",
    "NaN",
    "inf",
    "-0",
    "1e309",
    "-1e309",
    "1e-400",
    "180.0000001",
    "90",
    "-90",
    "9007199254740993",
    "18446744073709551616",
    "0.5",
    "44 33",
    "GEOMETRYCOLLECTION",
    "GEOMETRYCOLLECTION(",
    "POINT(44 33)",
    "EMPTY",
    "Z",
    "M",
    "POLYGON((",
    "MULTIPOLYGON(((",
    "BBOX(",
    "S_INTERSECTS(geometry,",
    "NOT ",
    " AND ",
    " OR ",
    "LIKE",
    "'%'",
    "IN (",
    "BETWEEN",
    "IS NULL",
    "null",
    "true",
    "false",
    r#"{"type":"GeometryCollection","geometries":["#,
    r#"{"op":"not","args":["#,
    r#""coordinates":"#,
    r#""type":"Polygon""#,
    r#"{"property":"geometry"}"#,
    "T",
    "Z",
    "T25:00:00Z",
    "-02-30",
    "+03:00",
    "60",
    "99",
    "0000",
    "2019-02-29",
];

type Run = fn(&[u8]) -> bool;

fn text(input: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(input)
}

fn snapshot() -> &'static Snapshot {
    static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
    SNAPSHOT.get_or_init(|| {
        let (snapshot, report) = data::load(&Config::builtin());
        assert!(report.is_ok(), "{report}");
        snapshot
    })
}

fn layer(id: &str) -> &'static Layer {
    snapshot().layer(id).expect("built-in layer")
}

/// What a query does with an accepted geometry: index it and search the sites with it.
fn query_with(geometry: &Geometry<f64>) {
    let mut out = String::new();
    dtmap::geometry::write_geojson(&mut out, geometry);
    if let Ok(area) = IndexedArea::new(geometry) {
        let sites = layer("sites");
        for relation in [Relation::Intersects, Relation::Within] {
            search::in_area(sites, &area, geometry, relation);
        }
    }
}

fn wkt(input: &[u8]) -> bool {
    match dtmap::geometry::parse_wkt(&text(input), MAX_QUERY_VERTICES) {
        Ok(geometry) => {
            query_with(&geometry);
            true
        }
        Err(_) => false,
    }
}

fn geojson(input: &[u8]) -> bool {
    match dtmap::geometry::parse_geojson_text(&text(input), MAX_QUERY_VERTICES) {
        Ok(geometry) => {
            query_with(&geometry);
            true
        }
        Err(_) => false,
    }
}

fn filter(input: &[u8], lang: Option<&str>) -> bool {
    let mut accepted = false;
    for id in ["sites", "governorates"] {
        let layer = layer(id);
        if let Ok(filter) = dtmap::query::cql2::parse_filter(layer, &text(input), lang) {
            accepted = true;
            for f in 0..layer.features.len().min(40) as u32 {
                filter.matches(layer, layer.latest_round(), f);
            }
        }
    }
    accepted
}

fn cql2_text(input: &[u8]) -> bool {
    filter(input, None)
}

fn cql2_json(input: &[u8]) -> bool {
    filter(input, Some("cql2-json"))
}

fn bbox(input: &[u8]) -> bool {
    match dtmap::query::Bbox::parse(&text(input)) {
        Ok(b) => !b.rects().is_empty(),
        Err(_) => false,
    }
}

fn datetime(input: &[u8]) -> bool {
    let text = text(input);
    let _ = dtmap::api::items::rfc3339_date(&text);
    dtmap::api::items::select_round(layer("governorates"), None, Some(&text)).is_ok()
}

fn properties(input: &[u8]) -> bool {
    dtmap::api::items::property_choice(layer("sites"), Some(&text(input))).is_ok()
}

/// The layer the loader targets build: its id, group and counts come from the same file.
fn loader_config(format: &str) -> &'static LayerConfig {
    static CONFIGS: OnceLock<Vec<(String, Config)>> = OnceLock::new();
    let configs = CONFIGS.get_or_init(|| {
        ["csv", "xlsx", "geojson", "fgb"]
            .iter()
            .map(|format| {
                let counts = if matches!(*format, "csv" | "xlsx") {
                    format!(
                        r#"
[[layer.counts]]
path = "fuzz.{format}"
key = "id"
round = "round"
round_label = "label"
columns = ["idp_individuals", {{ name = "idp_families", column = "families" }}]
synthetic_column = "synthetic"
source_column = "source"
"#
                    )
                } else {
                    String::new()
                };
                let toml = format!(
                    r#"
[[layer]]
id = "fuzz"
id_field = "id"
group_by = "governorate"
source = {{ path = "fuzz.{format}", lat = "lat", lon = "lon" }}
{counts}"#
                );
                let config = Config::from_toml_str(&toml, "fuzz.toml", DataRoot::Builtin)
                    .expect("the fuzz config is valid");
                (format.to_string(), config)
            })
            .collect()
    });
    let (_, config) = configs
        .iter()
        .find(|(f, _)| f == format)
        .expect("a loader config");
    &config.layers[0]
}

/// Builds the layer from what a reader read, joining the same bytes as its count table.
fn build(format: &str, input: &[u8], features: Option<Vec<data::source::SourceFeature>>) -> bool {
    let Some(features) = features else {
        return false;
    };
    let config = loader_config(format);
    let mut report = LoadReport::default();
    let table = CountInput::Bytes(input.into());
    let files: Vec<CountFile<'_>> = config
        .counts
        .iter()
        .map(|c| CountFile {
            config: c,
            input: Some(&table),
        })
        .collect();
    let layer = data::build_layer(config, features, &files, &mut report);
    !layer.features.is_empty()
}

fn table(input: &[u8], format: SourceFormat, name: &str) -> bool {
    let mut report = LoadReport::default();
    let features = match data::table::rows_with(input, format, Default::default()) {
        Ok(table) => {
            let table = data::points::PointTable::Rows(table);
            data::points::read(table, "lat", "lon", name, &mut report)
        }
        Err(_) => None,
    };
    build(name, input, features)
}

fn csv(input: &[u8]) -> bool {
    table(input, SourceFormat::Csv, "csv")
}

fn xlsx(input: &[u8]) -> bool {
    table(input, SourceFormat::Xlsx, "xlsx")
}

fn geojson_file(input: &[u8]) -> bool {
    let mut report = LoadReport::default();
    let features = data::geojson::read(input, "fuzz.geojson", &mut report);
    build("geojson", input, features)
}

fn flatgeobuf(input: &[u8]) -> bool {
    let mut report = LoadReport::default();
    let features = data::flatgeobuf::read(input, "fuzz.fgb", &mut report);
    build("fgb", input, features)
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn crash_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target dir>/tmp.
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.parent().unwrap_or(tmp).join("fuzz-crashes");
    std::fs::create_dir_all(&dir).expect("create the crash folder");
    dir
}

fn corpus(name: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(name);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("corpus entry").path())
        .collect();
    paths.sort();
    let seeds: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| std::fs::read(p).expect("corpus file"))
        .collect();
    assert!(!seeds.is_empty(), "{} is empty", dir.display());
    seeds
}

/// One random change to `input`; `pool` gives splices.
fn mutate(rng: &mut SmallRng, input: &mut Vec<u8>, pool: &[Vec<u8>]) {
    let len = input.len();
    let at = |rng: &mut SmallRng| rng.gen_range(0..=len);
    match rng.gen_range(0..12) {
        0 if len > 0 => {
            let i = rng.gen_range(0..len);
            input[i] ^= 1 << rng.gen_range(0..8);
        }
        1 if len > 0 => {
            let i = rng.gen_range(0..len);
            input[i] = rng.gen();
        }
        2 => {
            let i = at(rng);
            let bytes: Vec<u8> = (0..rng.gen_range(1..8)).map(|_| rng.gen()).collect();
            input.splice(i..i, bytes);
        }
        3 if len > 0 => {
            let start = rng.gen_range(0..len);
            let end = (start + rng.gen_range(1..=16usize.min(len - start).max(1))).min(len);
            input.drain(start..end);
        }
        4 if len > 0 => {
            // Duplicate a slice somewhere else.
            let start = rng.gen_range(0..len);
            let end = (start + rng.gen_range(1..=64)).min(len);
            let slice = input[start..end].to_vec();
            let i = at(rng);
            input.splice(i..i, slice);
        }
        5 if !pool.is_empty() => {
            // Splice: a head of this input and a tail of another.
            let other = &pool[rng.gen_range(0..pool.len())];
            let cut = at(rng);
            let from = rng.gen_range(0..=other.len());
            input.truncate(cut);
            input.extend_from_slice(&other[from..]);
        }
        6 | 7 => {
            let token = TOKENS[rng.gen_range(0..TOKENS.len())];
            let i = at(rng);
            input.splice(i..i, token.bytes());
        }
        8 => {
            // Deep repetition: a token or a slice of the input, many times over.
            let unit: Vec<u8> = if len > 0 && rng.gen_bool(0.5) {
                let start = rng.gen_range(0..len);
                input[start..(start + rng.gen_range(1..24)).min(len)].to_vec()
            } else {
                TOKENS[rng.gen_range(0..TOKENS.len())].bytes().collect()
            };
            let times = [2, 16, 17, 63, 64, 65, 128, 150, 1_000, 5_000][rng.gen_range(0..10)];
            let i = at(rng);
            input.splice(i..i, unit.repeat(times));
        }
        9 if len > 0 => input.truncate(rng.gen_range(0..len)),
        10 if len > 0 => {
            // Change a digit by a little, to walk numbers across their limits.
            let digits: Vec<usize> = (0..len).filter(|&i| input[i].is_ascii_digit()).collect();
            if let Some(&i) = digits.get(rng.gen_range(0..digits.len().max(1))) {
                input[i] = b'0' + (input[i] - b'0' + rng.gen_range(1..10)) % 10;
            }
        }
        _ => {
            // Swap two slices' worth of bytes.
            if len > 1 {
                let (a, b) = (rng.gen_range(0..len), rng.gen_range(0..len));
                input.swap(a, b);
            }
        }
    }
    input.truncate(MAX_INPUT);
}

fn hash(input: &[u8]) -> String {
    let mut hasher = DefaultHasher::new();
    input.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// Replays the corpus, then mutates it for the configured time; panics name the input file.
fn fuzz(name: &str, run: Run) {
    let seconds = env_number("DTMAP_FUZZ_SECS", 2);
    let slow = Duration::from_millis(env_number("DTMAP_FUZZ_SLOW_MS", 5_000));
    let mut seed = DefaultHasher::new();
    (name, env_number("DTMAP_FUZZ_SEED", 0x5EED)).hash(&mut seed);
    let mut rng = SmallRng::seed_from_u64(seed.finish());
    let dir = crash_dir();
    let in_flight_path = dir.join(format!("{name}-in-flight"));
    let in_flight = File::create(&in_flight_path).expect("in-flight file");
    // Loading the built-in data is not part of any execution's time.
    snapshot();

    let execute = |input: &[u8]| -> bool {
        // Kept on disk while it runs: a stack overflow aborts, and this is what is left.
        (&in_flight)
            .seek(SeekFrom::Start(0))
            .and_then(|_| (&in_flight).write_all(input))
            .and_then(|()| in_flight.set_len(input.len() as u64))
            .expect("write the in-flight input");
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| run(input)));
        let took = started.elapsed();
        match outcome {
            Ok(accepted) if took <= slow => accepted,
            Ok(_) => {
                let path = dir.join(format!("{name}-slow-{}", hash(input)));
                std::fs::write(&path, input).expect("write slow input");
                panic!(
                    "{name}: an input took {took:?} (over {slow:?}); it is in {}",
                    path.display()
                );
            }
            Err(_) => {
                let path = dir.join(format!("{name}-{}", hash(input)));
                std::fs::write(&path, input).expect("write crash input");
                panic!("{name}: an input panicked; it is in {}", path.display());
            }
        }
    };

    let seeds = corpus(name);
    let mut pool = seeds.clone();
    for seed in &seeds {
        execute(seed);
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let (mut executions, mut accepted) = (seeds.len() as u64, 0u64);
    while Instant::now() < deadline {
        let mut input = pool[rng.gen_range(0..pool.len())].clone();
        for _ in 0..rng.gen_range(1..=4) {
            mutate(&mut rng, &mut input, &pool);
        }
        executions += 1;
        if execute(&input) {
            accepted += 1;
            if pool.len() < MAX_POOL {
                pool.push(input);
            } else {
                let i = rng.gen_range(seeds.len()..MAX_POOL);
                pool[i] = input;
            }
        }
    }
    let _ = std::fs::remove_file(&in_flight_path);
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    println!(
        "fuzz {name:>13}: {executions:>9} executions in {secs:.0} s ({:.0}/s), {accepted} accepted, {} seeds, 0 crashes",
        executions as f64 / secs,
        seeds.len()
    );
}

#[test]
fn wkt_geometries_never_panic() {
    fuzz("wkt", wkt);
}

#[test]
fn geojson_geometries_never_panic() {
    fuzz("geojson", geojson);
}

#[test]
fn cql2_text_filters_never_panic() {
    fuzz("cql2_text", cql2_text);
}

#[test]
fn cql2_json_filters_never_panic() {
    fuzz("cql2_json", cql2_json);
}

#[test]
fn bbox_parameters_never_panic() {
    fuzz("bbox", bbox);
}

#[test]
fn datetime_parameters_never_panic() {
    fuzz("datetime", datetime);
}

#[test]
fn properties_parameters_never_panic() {
    fuzz("properties", properties);
}

#[test]
fn csv_sources_never_panic() {
    fuzz("csv", csv);
}

#[test]
fn xlsx_sources_never_panic() {
    fuzz("xlsx", xlsx);
}

#[test]
fn geojson_sources_never_panic() {
    fuzz("geojson_file", geojson_file);
}

#[test]
fn flatgeobuf_sources_never_panic() {
    fuzz("flatgeobuf", flatgeobuf);
}

/// Regenerates the binary seeds (XLSX and FlatGeobuf) with the writers the project uses:
/// `cargo test --test fuzz -- --ignored the_binary_seeds_are_written`.
#[test]
#[ignore = "writes fuzz/corpus; run by hand when the seeds should change"]
fn the_binary_seeds_are_written() {
    use flatgeobuf::{ColumnType, FgbWriter, GeometryType};
    use geozero::{ColumnValue, PropertyProcessor};

    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    /// id, name, governorate, lat, lon, round, individuals, families
    type Row = (
        &'static str,
        &'static str,
        &'static str,
        f64,
        f64,
        &'static str,
        f64,
        f64,
    );
    let rows: [Row; 4] = [
        (
            "S1",
            "Camp One",
            "IQG15",
            36.34,
            43.13,
            "2019-10-31",
            520.0,
            100.0,
        ),
        (
            "S2",
            "Camp Two",
            "IQG15",
            36.2,
            43.0,
            "2019-10-31",
            210.0,
            40.0,
        ),
        (
            "S1",
            "Camp One",
            "IQG15",
            36.34,
            43.13,
            "2019-04-30",
            470.0,
            90.0,
        ),
        (
            "S3",
            "Camp Three",
            "IQG09",
            33.3,
            44.4,
            "2019-04-30",
            300.0,
            55.0,
        ),
    ];
    let headers = [
        "id",
        "name",
        "governorate",
        "lat",
        "lon",
        "round",
        "idp_individuals",
        "families",
    ];
    for (file, count) in [("sites.xlsx", 4), ("one-row.xlsx", 1)] {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        for (col, header) in headers.iter().enumerate() {
            sheet.write_string(0, col as u16, *header).unwrap();
        }
        for (i, row) in rows.iter().take(count).enumerate() {
            let r = i as u32 + 1;
            sheet.write_string(r, 0, row.0).unwrap();
            sheet.write_string(r, 1, row.1).unwrap();
            sheet.write_string(r, 2, row.2).unwrap();
            sheet.write_number(r, 3, row.3).unwrap();
            sheet.write_number(r, 4, row.4).unwrap();
            sheet.write_string(r, 5, row.5).unwrap();
            sheet.write_number(r, 6, row.6).unwrap();
            sheet.write_number(r, 7, row.7).unwrap();
        }
        workbook.save(corpus.join("xlsx").join(file)).unwrap();
    }
    // Invalid on purpose: a workbook cut in half, a FlatGeobuf cut after its header.
    let whole = std::fs::read(corpus.join("xlsx/sites.xlsx")).unwrap();
    std::fs::write(
        corpus.join("xlsx/truncated.xlsx"),
        &whole[..whole.len() / 2],
    )
    .unwrap();

    let square = |x: f64, y: f64| {
        Geometry::Polygon(geo::Polygon::new(
            geo::LineString::from(vec![(x, y), (x + 1.0, y), (x + 1.0, y + 1.0), (x, y)]),
            vec![],
        ))
    };
    let mut fgb = FgbWriter::create("districts", GeometryType::Polygon).unwrap();
    fgb.add_column("id", ColumnType::String, |_, _| {});
    fgb.add_column("governorate", ColumnType::String, |_, _| {});
    fgb.add_column("area", ColumnType::Double, |_, _| {});
    for (id, governorate, x) in [("D1", "IQG15", 43.0), ("D2", "IQG09", 44.0)] {
        fgb.add_feature_geom(square(x, 33.0), |feature| {
            feature.property(0, "id", &ColumnValue::String(id)).unwrap();
            feature
                .property(1, "governorate", &ColumnValue::String(governorate))
                .unwrap();
            feature
                .property(2, "area", &ColumnValue::Double(12.5))
                .unwrap();
        })
        .unwrap();
    }
    let mut bytes = Vec::new();
    fgb.write(&mut bytes).unwrap();
    std::fs::write(corpus.join("flatgeobuf/districts.fgb"), &bytes).unwrap();
    std::fs::write(
        corpus.join("flatgeobuf/truncated.fgb"),
        &bytes[..bytes.len() * 2 / 3],
    )
    .unwrap();

    let mut fgb = FgbWriter::create("sites", GeometryType::Point).unwrap();
    fgb.add_column("id", ColumnType::String, |_, _| {});
    for (id, x, y) in [("S1", 43.13, 36.34), ("S2", 44.4, 33.3)] {
        fgb.add_feature_geom(Geometry::Point(geo::Point::new(x, y)), |feature| {
            feature.property(0, "id", &ColumnValue::String(id)).unwrap();
        })
        .unwrap();
    }
    let mut bytes = Vec::new();
    fgb.write(&mut bytes).unwrap();
    std::fs::write(corpus.join("flatgeobuf/sites.fgb"), &bytes).unwrap();
}

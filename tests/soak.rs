//! Soak test of the running server, loopback only and bounded in time.
//!
//! Writes a generated dataset (a grid of area polygons and N point sites with counts for 3
//! rounds), starts the `dtmap` binary on a free 127.0.0.1 port and, for
//! `DTMAP_SOAK_SECS`, runs at once:
//!
//! - cheap traffic on `DTMAP_SOAK_CONNECTIONS` keep-alive connections (health, collections,
//!   items by bbox and by id, near, tiles, totals over an area), every latency recorded;
//! - 4 clients sending worst-case requests: totals over a 99,999-vertex star polygon, a WKT
//!   GEOMETRYCOLLECTION nested 1,600 deep, the XLSX and CSV downloads of the site layer read
//!   to the end, and 10,000 items with one property name repeated 5,000 times;
//! - `DTMAP_SOAK_IDLE` idle connections, half silent and half stopped in the middle of a
//!   request header, reopened when the server closes them;
//! - 50 reloads by SIGHUP, every 5th with corrupt data (a bad count row, or a truncated
//!   GeoJSON file), checked by the served figure of one site.
//!
//! It then checks the process is alive and never restarted, reads its peak RSS, stops it
//! with SIGTERM, prints a report and writes it to `<target dir>/soak-report.json`. It
//! asserts behaviour only (no failed cheap request, every worst-case request answered with
//! 200, 4xx or 503, corrupt reloads refused and good ones applied, the process alive and
//! stopping on SIGTERM); the latency targets (cheap p99 under 100 ms, worst case within
//! the deadline) are printed, not asserted.
//!
//! Defaults are the short CI run (8 s, 32 connections, 200 idle, 20,000 sites);
//! `scripts/soak` runs the full one against the release binary. Settings:
//! `DTMAP_BINARY`, `DTMAP_SOAK_SECS`, `DTMAP_SOAK_CONNECTIONS`, `DTMAP_SOAK_IDLE`,
//! `DTMAP_SOAK_SITES`, `DTMAP_SOAK_RELOADS`, `DTMAP_SOAK_DEADLINE_SECS`.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// The data lie in an 8° × 8° square, split into GRID × GRID one-degree areas.
const WEST: f64 = 40.0;
const SOUTH: f64 = 29.0;
const GRID: usize = 8;
const ROUNDS: [&str; 3] = ["2025-01-31", "2025-02-28", "2025-03-31"];
/// The site whose latest `families` tells which data is served: 1000 + version (0 or 1).
const WATCHED: &str = "S0000001";
const CHEAP_TIMEOUT: Duration = Duration::from_secs(10);
/// A worst-case request not answered by then counts as unanswered.
const WORST_TIMEOUT: Duration = Duration::from_secs(120);
const CHEAP_KINDS: [&str; 7] = [
    "health",
    "collections",
    "items_bbox",
    "item",
    "near",
    "tile",
    "totals_area",
];
const WORST_KINDS: [&str; 5] = [
    "totals_star_99999",
    "search_nested_gc_1600",
    "download_xlsx",
    "download_csv",
    "items_properties_x5000",
];

struct Settings {
    secs: u64,
    connections: usize,
    idle: usize,
    sites: usize,
    reloads: usize,
    deadline_secs: u64,
    /// The worst-case kinds sent (`DTMAP_SOAK_WORST`, names comma-separated; default all).
    worst: Vec<usize>,
}

fn env_or(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("{name}={v:?}")),
        Err(_) => default,
    }
}

impl Settings {
    fn from_env() -> Settings {
        Settings {
            secs: env_or("DTMAP_SOAK_SECS", 8).max(1),
            connections: env_or("DTMAP_SOAK_CONNECTIONS", 32) as usize,
            idle: env_or("DTMAP_SOAK_IDLE", 200) as usize,
            sites: env_or("DTMAP_SOAK_SITES", 20_000).max(10) as usize,
            reloads: env_or("DTMAP_SOAK_RELOADS", 50) as usize,
            deadline_secs: env_or("DTMAP_SOAK_DEADLINE_SECS", 30),
            worst: match std::env::var("DTMAP_SOAK_WORST") {
                Ok(names) => names
                    .split(',')
                    .map(|n| WORST_KINDS.iter().position(|k| *k == n.trim()).expect(n))
                    .collect(),
                Err(_) => (0..WORST_KINDS.len()).collect(),
            },
        }
    }
}

// ---------------------------------------------------------------- the dataset

struct Dataset {
    dir: PathBuf,
    areas: String,
    /// Every count row but the watched site's latest one.
    counts_rest: String,
}

const CONFIG: &str = r#"title = "dtmap soak"
[[layer]]
id = "areas"
source = { path = "areas.geojson" }
id_field = "code"
name_field = "name"

[[layer]]
id = "sites"
source = { path = "sites.csv", lat = "lat", lon = "lon" }
id_field = "site_id"
name_field = "name"
group_by = "area"
group_layer = "areas"

[[layer.counts]]
path = "counts.csv"
key = "site_id"
round = "round"
columns = ["families", "individuals"]
"#;

fn area_code(col: usize, row: usize) -> String {
    format!("A{row}{col}")
}

impl Dataset {
    fn write(dir: &Path, sites: usize) -> Dataset {
        let mut features = Vec::new();
        for row in 0..GRID {
            for col in 0..GRID {
                let (x0, y0) = (WEST + col as f64, SOUTH + row as f64);
                // Densified edges: 25 positions a side.
                let mut ring = Vec::new();
                for (ax, ay, bx, by) in [(0., 0., 1., 0.), (1., 0., 1., 1.), (1., 1., 0., 1.)]
                    .into_iter()
                    .chain([(0., 1., 0., 0.)])
                {
                    for i in 0..25 {
                        let t = i as f64 / 25.0;
                        ring.push(json!([x0 + ax + (bx - ax) * t, y0 + ay + (by - ay) * t]));
                    }
                }
                ring.push(json!([x0, y0]));
                let code = area_code(col, row);
                features.push(json!({"type": "Feature",
                    "properties": {"code": code, "name": format!("Area {code}")},
                    "geometry": {"type": "Polygon", "coordinates": [ring]}}));
            }
        }
        let areas = json!({"type": "FeatureCollection", "features": features}).to_string();
        let mut rng = SmallRng::seed_from_u64(7);
        let mut csv = String::from("site_id,name,area,lon,lat\n");
        let mut counts_rest = String::new();
        for i in 1..=sites {
            let lon = WEST + rng.gen_range(0.0..GRID as f64);
            let lat = SOUTH + rng.gen_range(0.0..GRID as f64);
            let area = area_code((lon - WEST) as usize, (lat - SOUTH) as usize);
            csv.push_str(&format!("S{i:07},Site {i},{area},{lon:.6},{lat:.6}\n"));
            for (r, round) in ROUNDS.iter().enumerate() {
                if i == 1 && r == ROUNDS.len() - 1 {
                    continue;
                }
                let families: u32 = rng.gen_range(1..500);
                let individuals = families * rng.gen_range(3..8);
                counts_rest.push_str(&format!("S{i:07},{round},{families},{individuals}\n"));
            }
        }
        std::fs::write(dir.join("dtmap.toml"), CONFIG).unwrap();
        std::fs::write(dir.join("sites.csv"), csv).unwrap();
        let data = Dataset {
            dir: dir.to_path_buf(),
            areas,
            counts_rest,
        };
        data.write_good(0);
        data
    }

    fn counts(&self, version: u32) -> String {
        let latest = ROUNDS[ROUNDS.len() - 1];
        format!(
            "site_id,round,families,individuals\n{WATCHED},{latest},{},5000\n{}",
            1000 + version,
            self.counts_rest
        )
    }

    /// Good data of `version` (0 or 1): the files differ in one count only.
    fn write_good(&self, version: u32) {
        std::fs::write(self.dir.join("areas.geojson"), &self.areas).unwrap();
        std::fs::write(self.dir.join("counts.csv"), self.counts(version)).unwrap();
    }

    /// Corrupt data beside `version`: a count row with no key and counts that are not
    /// numbers (`kind` 0), or the area GeoJSON cut in the middle (`kind` 1).
    fn write_corrupt(&self, version: u32, kind: usize) {
        let mut counts = self.counts(version);
        let mut areas = self.areas.as_str();
        if kind == 0 {
            counts.push_str(&format!(",{},lots,many\n", ROUNDS[2]));
        } else {
            areas = &areas[..areas.len() / 2];
        }
        std::fs::write(self.dir.join("areas.geojson"), areas).unwrap();
        std::fs::write(self.dir.join("counts.csv"), counts).unwrap();
    }
}

// ---------------------------------------------------------------- the server

/// The server process; killed when dropped (a failed test never leaves it running).
struct Server {
    child: Child,
    pid: u32,
    addr: String,
    applied: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
    log_tail: Arc<Mutex<VecDeque<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Server {
    fn start(binary: &Path, config: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let mut child = Command::new(binary)
            .arg("--config")
            .arg(config)
            .args(["--bind", &addr])
            .env("DTMAP_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let (applied, refused) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let log_tail = Arc::new(Mutex::new(VecDeque::new()));
        let stderr = child.stderr.take().unwrap();
        let (a, r, tail) = (applied.clone(), refused.clone(), log_tail.clone());
        // Drains the log (the server never blocks on a full pipe) and counts the reloads.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("reloaded") {
                    a.fetch_add(1, Relaxed);
                } else if line.contains("reload refused") || line.contains("reload failed") {
                    r.fetch_add(1, Relaxed);
                }
                let mut tail = tail.lock().unwrap();
                tail.push_back(line);
                if tail.len() > 40 {
                    tail.pop_front();
                }
            }
        });
        let pid = child.id();
        Server {
            child,
            pid,
            addr,
            applied,
            refused,
            log_tail,
        }
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn log_tail(&self) -> String {
        let tail = self.log_tail.lock().unwrap();
        tail.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

/// Whether `pid` is a live process (not gone, not a zombie), without waiting for it.
fn pid_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

/// A `/proc/<pid>/status` field in MB (`VmHWM`: peak RSS; `VmRSS`: now).
fn proc_mb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kb / 1024.0 * 10.0).round() / 10.0)
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} {pid} failed");
}

// ---------------------------------------------------------------- the HTTP client

/// One keep-alive HTTP/1.1 connection, reopened when the server has closed it.
struct Conn {
    addr: String,
    sender: Option<SendRequest<Full<Bytes>>>,
    opened: usize,
}

struct Answer {
    status: u16,
    bytes: usize,
    body: Vec<u8>,
}

impl Conn {
    fn new(addr: &str) -> Conn {
        Conn {
            addr: addr.to_string(),
            sender: None,
            opened: 0,
        }
    }

    async fn ready(&mut self) -> Result<(), String> {
        if let Some(sender) = &mut self.sender {
            if !sender.is_closed() && sender.ready().await.is_ok() {
                return Ok(());
            }
        }
        self.sender = None;
        let stream = TcpStream::connect(&self.addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        self.sender = Some(sender);
        self.opened += 1;
        Ok(())
    }

    /// Sends a request and reads the answer to its end; keeps the body when `keep`.
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
        keep: bool,
    ) -> Result<Answer, String> {
        self.ready().await?;
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.addr);
        if !body.is_empty() {
            request = request.header("content-type", "application/json");
        }
        let request = request.body(Full::new(body)).map_err(|e| e.to_string())?;
        let sender = self.sender.as_mut().expect("ready");
        let result = async {
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| format!("request: {e}"))?;
            let status = response.status().as_u16();
            let mut incoming = response.into_body();
            let (mut bytes, mut kept) = (0, Vec::new());
            while let Some(frame) = incoming.frame().await {
                let frame = frame.map_err(|e| format!("body: {e}"))?;
                if let Ok(data) = frame.into_data() {
                    bytes += data.len();
                    if keep {
                        kept.extend_from_slice(&data);
                    }
                }
            }
            Ok(Answer {
                status,
                bytes,
                body: kept,
            })
        }
        .await;
        if result.is_err() {
            self.sender = None;
        }
        result
    }

    /// `send` within `limit`; a timed-out connection is dropped.
    async fn send_within(
        &mut self,
        limit: Duration,
        method: Method,
        path: &str,
        body: Bytes,
        keep: bool,
    ) -> Result<Answer, String> {
        match tokio::time::timeout(limit, self.send(method, path, body, keep)).await {
            Ok(result) => result,
            Err(_) => {
                self.sender = None;
                Err(format!("no answer within {} s", limit.as_secs()))
            }
        }
    }
}

// ---------------------------------------------------------------- the traffic

fn stopped(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow()
}

/// A random position inside the data.
fn somewhere(rng: &mut SmallRng) -> (f64, f64) {
    (
        WEST + rng.gen_range(0.0..GRID as f64),
        SOUTH + rng.gen_range(0.0..GRID as f64),
    )
}

fn tile_of(lon: f64, lat: f64, z: u32) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let lat = lat.to_radians();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    (x as u32, y as u32)
}

fn cheap_path(kind: usize, rng: &mut SmallRng) -> String {
    let (lon, lat) = somewhere(rng);
    let area = area_code(rng.gen_range(0..GRID), rng.gen_range(0..GRID));
    match kind {
        0 => "/health".into(),
        1 => "/collections".into(),
        2 => format!(
            "/collections/sites/items?limit=10&bbox={lon:.4},{lat:.4},{:.4},{:.4}",
            lon + 0.05,
            lat + 0.05
        ),
        3 => format!("/collections/areas/items/{area}"),
        4 => format!("/collections/sites/near?lon={lon:.5}&lat={lat:.5}&k=5"),
        5 => {
            let z = rng.gen_range(0..=10);
            let (x, y) = tile_of(lon, lat, z);
            let layers = ["sites", "areas", "areas,sites"][rng.gen_range(0..3)];
            format!("/tiles/{layers}/{z}/{x}/{y}")
        }
        _ => format!("/collections/sites/totals?area=areas/{area}"),
    }
}

#[derive(Default)]
struct CheapStats {
    /// (kind, microseconds) of every answered request.
    latencies: Vec<(u8, u32)>,
    statuses: BTreeMap<u16, usize>,
    failed: usize,
    samples: Vec<String>,
    opened: usize,
}

async fn cheap_client(seed: u64, addr: String, stop: watch::Receiver<bool>) -> CheapStats {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut conn = Conn::new(&addr);
    let mut stats = CheapStats::default();
    let mut kind = seed as usize % CHEAP_KINDS.len();
    while !stopped(&stop) {
        kind = (kind + 1) % CHEAP_KINDS.len();
        let path = cheap_path(kind, &mut rng);
        let started = Instant::now();
        let result = conn
            .send_within(CHEAP_TIMEOUT, Method::GET, &path, Bytes::new(), false)
            .await;
        let micros = started.elapsed().as_micros().min(u32::MAX as u128) as u32;
        let problem = match result {
            Ok(answer) => {
                *stats.statuses.entry(answer.status).or_default() += 1;
                stats.latencies.push((kind as u8, micros));
                (![200, 204, 304].contains(&answer.status))
                    .then(|| format!("{path}: status {}", answer.status))
            }
            Err(e) => Some(format!("{path}: {e}")),
        };
        if let Some(problem) = problem {
            stats.failed += 1;
            if stats.samples.len() < 3 {
                stats.samples.push(problem);
            }
            // A dead or refusing server must not turn this into a busy loop.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    stats.opened = conn.opened;
    stats
}

/// The worst-case requests, built once.
struct WorstCase {
    kinds: Vec<usize>,
    star: Bytes,
    nested: String,
    properties: String,
}

impl WorstCase {
    fn new(kinds: Vec<usize>) -> WorstCase {
        // 99,998 corners alternating radius r and 10 r, closed: 99,999 positions. Five
        // decimals keep the body under the 2 MiB limit.
        let (n, cx, cy, r) = (99_998usize, 44.0, 33.0, 0.3);
        let mut ring = String::with_capacity(2_100_000);
        for i in 0..=n {
            let angle = std::f64::consts::TAU * (i % n) as f64 / n as f64;
            let radius = if i % 2 == 0 { r } else { 10.0 * r };
            if i > 0 {
                ring.push(',');
            }
            ring.push_str(&format!(
                "[{:.5},{:.5}]",
                cx + radius * angle.cos(),
                cy + radius * angle.sin()
            ));
        }
        let star = format!(r#"{{"geometry":{{"type":"Polygon","coordinates":[[{ring}]]}}}}"#);
        let nested = format!(
            "/collections/sites/search?geometry={}POINT(44%2033){}",
            "GEOMETRYCOLLECTION(".repeat(1600),
            ")".repeat(1600)
        );
        let properties = format!(
            "/collections/sites/items?limit=10000&properties={}",
            vec!["name"; 5000].join(",")
        );
        WorstCase {
            kinds,
            star: Bytes::from(star),
            nested,
            properties,
        }
    }
}

/// (kind, status or error, seconds to the full answer, bytes)
type WorstRecord = (usize, Result<u16, String>, f64, usize);

async fn worst_client(
    client: usize,
    addr: String,
    stop: watch::Receiver<bool>,
    cases: Arc<WorstCase>,
) -> Vec<WorstRecord> {
    let mut conn = Conn::new(&addr);
    let mut records = Vec::new();
    let mut n = client;
    while !stopped(&stop) {
        let kind = cases.kinds[n % cases.kinds.len()];
        n += 1;
        let (method, path, body) = match kind {
            0 => (
                Method::POST,
                "/collections/sites/totals",
                cases.star.clone(),
            ),
            1 => (Method::GET, cases.nested.as_str(), Bytes::new()),
            2 => (Method::GET, "/datasets/sites/latest.xlsx", Bytes::new()),
            3 => (Method::GET, "/datasets/sites/latest.csv", Bytes::new()),
            _ => (Method::GET, cases.properties.as_str(), Bytes::new()),
        };
        let started = Instant::now();
        let result = conn
            .send_within(WORST_TIMEOUT, method, path, body, false)
            .await;
        let secs = started.elapsed().as_secs_f64();
        let failed = result.is_err();
        let bytes = result.as_ref().map(|a| a.bytes).unwrap_or(0);
        records.push((kind, result.map(|a| a.status), secs, bytes));
        if failed {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    records
}

#[derive(Default)]
struct IdleStats {
    held: AtomicUsize,
    closed_by_server: AtomicUsize,
    connect_failures: AtomicUsize,
}

/// Holds one idle connection open until `stop`: silent (even `i`) or stopped halfway
/// through a request header (odd `i`); reopened a second after the server closes it.
async fn idle_connection(
    i: usize,
    addr: String,
    mut stop: watch::Receiver<bool>,
    stats: Arc<IdleStats>,
) {
    while !stopped(&stop) {
        let connect = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(&addr));
        let mut stream = match connect.await {
            Ok(Ok(stream)) => stream,
            _ => {
                stats.connect_failures.fetch_add(1, Relaxed);
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if i % 2 == 1 {
            let half = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nX-Soak-Idle: ");
            if stream.write_all(half.as_bytes()).await.is_err() {
                continue;
            }
        }
        stats.held.fetch_add(1, Relaxed);
        let mut buffer = [0u8; 1024];
        // End of stream, an error, or an answer such as 408: the server let go.
        let let_go = tokio::select! {
            _ = stream.read(&mut buffer) => true,
            _ = async { let _ = stop.wait_for(|s| *s).await; } => false,
        };
        stats.held.fetch_sub(1, Relaxed);
        if !let_go {
            return;
        }
        stats.closed_by_server.fetch_add(1, Relaxed);
        drop(stream);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[derive(Debug, Clone, PartialEq)]
enum ReloadOutcome {
    Applied,
    Refused,
    Unanswered,
}

struct ReloadRecord {
    corrupt: bool,
    outcome: ReloadOutcome,
    /// Whether the served figure was the expected one (changed after a good reload,
    /// unchanged after a corrupt one).
    figure_ok: bool,
    secs: f64,
}

/// The watched site's latest `families`, as served.
async fn watched_figure(conn: &mut Conn) -> Option<i64> {
    let path = format!("/collections/sites/items/{WATCHED}");
    let answer = conn
        .send_within(CHEAP_TIMEOUT, Method::GET, &path, Bytes::new(), true)
        .await
        .ok()?;
    let feature: Value = serde_json::from_slice(&answer.body).ok()?;
    feature["properties"]["families"].as_i64()
}

struct ReloadPlan {
    data: Arc<Dataset>,
    pid: u32,
    applied: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
    count: usize,
    interval: Duration,
}

/// Every `interval` a reload (each 5th corrupt), each waited for (up to 60 s) before
/// the next and checked by the served figure (polling up to 5 s).
async fn reloads(
    plan: ReloadPlan,
    addr: String,
    stop: watch::Receiver<bool>,
    start: Instant,
) -> Vec<ReloadRecord> {
    let mut conn = Conn::new(&addr);
    let mut served = 0u32;
    let mut records = Vec::new();
    for n in 1..=plan.count {
        let at = start + plan.interval.mul_f64(n as f64 - 0.5);
        tokio::time::sleep_until(at.into()).await;
        if stopped(&stop) {
            break;
        }
        let corrupt = n % 5 == 0;
        let next = if corrupt { served } else { 1 - served };
        let data = plan.data.clone();
        tokio::task::spawn_blocking(move || {
            if corrupt {
                data.write_corrupt(next, (n / 5) % 2);
            } else {
                data.write_good(next);
            }
        })
        .await
        .unwrap();
        let (applied, refused) = (plan.applied.load(Relaxed), plan.refused.load(Relaxed));
        let sent = Instant::now();
        signal(plan.pid, "HUP");
        let outcome = loop {
            if plan.applied.load(Relaxed) > applied {
                break ReloadOutcome::Applied;
            }
            if plan.refused.load(Relaxed) > refused {
                break ReloadOutcome::Refused;
            }
            if sent.elapsed() > Duration::from_secs(60) || stopped(&stop) {
                break ReloadOutcome::Unanswered;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let secs = sent.elapsed().as_secs_f64();
        let mut figure_ok = false;
        while sent.elapsed() < Duration::from_secs_f64(secs + 5.0) {
            if watched_figure(&mut conn).await == Some(1000 + i64::from(next)) {
                figure_ok = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if outcome == ReloadOutcome::Applied {
            served = next;
        }
        records.push(ReloadRecord {
            corrupt,
            outcome,
            figure_ok,
            secs,
        });
    }
    records
}

// ---------------------------------------------------------------- the run

struct Run {
    secs: f64,
    cheap: CheapStats,
    worst: Vec<WorstRecord>,
    reloads: Vec<ReloadRecord>,
    idle: Arc<IdleStats>,
    idle_min_held: usize,
    idle_held_before_stop: usize,
    died: bool,
}

async fn drive(settings: &Settings, server: &Server, data: Arc<Dataset>) -> Run {
    let addr = server.addr.clone();
    let (stop_tx, stop) = watch::channel(false);
    let idle = Arc::new(IdleStats::default());
    let mut idle_tasks = Vec::new();
    for i in 0..settings.idle {
        idle_tasks.push(tokio::spawn(idle_connection(
            i,
            addr.clone(),
            stop.clone(),
            idle.clone(),
        )));
    }
    let ramp = Instant::now();
    while idle.held.load(Relaxed) < settings.idle && ramp.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let start = Instant::now();
    let cheap: Vec<_> = (0..settings.connections)
        .map(|i| tokio::spawn(cheap_client(i as u64 + 1, addr.clone(), stop.clone())))
        .collect();
    let cases = Arc::new(WorstCase::new(settings.worst.clone()));
    let worst: Vec<_> = (0..4)
        .map(|i| tokio::spawn(worst_client(i, addr.clone(), stop.clone(), cases.clone())))
        .collect();
    let plan = ReloadPlan {
        data,
        pid: server.pid,
        applied: server.applied.clone(),
        refused: server.refused.clone(),
        count: settings.reloads,
        interval: Duration::from_secs(settings.secs).div_f64(settings.reloads.max(1) as f64),
    };
    let reloader = tokio::spawn(reloads(plan, addr.clone(), stop.clone(), start));
    // Runs for the time asked, longer only while reloads are still due, never past the cap.
    let cap = Duration::from_secs(settings.secs * 3 + 60);
    let (mut died, mut idle_min_held) = (false, settings.idle);
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        idle_min_held = idle_min_held.min(idle.held.load(Relaxed));
        if !pid_alive(server.pid) {
            died = true;
            break;
        }
        let elapsed = start.elapsed();
        if (elapsed >= Duration::from_secs(settings.secs) && reloader.is_finished())
            || elapsed >= cap
        {
            break;
        }
    }
    let idle_held_before_stop = idle.held.load(Relaxed);
    let secs = start.elapsed().as_secs_f64();
    stop_tx.send(true).unwrap();
    let mut stats = CheapStats::default();
    for task in cheap {
        let s = task.await.unwrap();
        stats.latencies.extend(s.latencies);
        for (status, n) in s.statuses {
            *stats.statuses.entry(status).or_default() += n;
        }
        stats.failed += s.failed;
        stats.opened += s.opened;
        stats
            .samples
            .extend(s.samples.into_iter().take(10 - stats.samples.len().min(10)));
    }
    let mut records = Vec::new();
    for task in worst {
        records.extend(task.await.unwrap());
    }
    for task in idle_tasks {
        task.await.unwrap();
    }
    Run {
        secs,
        cheap: stats,
        worst: records,
        reloads: reloader.await.unwrap(),
        idle,
        idle_min_held,
        idle_held_before_stop,
        died,
    }
}

fn percentile_ms(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * q) as usize).min(sorted.len() - 1);
    (f64::from(sorted[i]) / 100.0).round() / 10.0
}

fn report_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
    }
}

#[test]
fn soak() {
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    rlimit::setrlimit(rlimit::Resource::NOFILE, hard, hard).unwrap();
    let settings = Settings::from_env();
    let binary = std::env::var_os("DTMAP_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_dtmap")));
    println!(
        "soak: {} s, {} connections, {} idle, {} sites, {} reloads; binary {}; open files {soft} -> {hard}",
        settings.secs, settings.connections, settings.idle, settings.sites, settings.reloads,
        binary.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let data = Arc::new(Dataset::write(dir.path(), settings.sites));
    let mut server = Server::start(&binary, &dir.path().join("dtmap.toml"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    // Up: /health answers, within 3 minutes of the start.
    let loading = Instant::now();
    runtime.block_on(async {
        let mut conn = Conn::new(&server.addr);
        loop {
            let health =
                conn.send_within(CHEAP_TIMEOUT, Method::GET, "/health", Bytes::new(), false);
            if matches!(health.await, Ok(Answer { status: 200, .. })) {
                break;
            }
            assert!(
                pid_alive(server.pid),
                "the server stopped:\n{}",
                server.log_tail()
            );
            assert!(
                loading.elapsed() < Duration::from_secs(180),
                "no /health in 3 minutes"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let load_secs = loading.elapsed().as_secs_f64();
    let rss_loaded = proc_mb(server.pid, "VmRSS");
    println!(
        "soak: serving on {} after {load_secs:.1} s, RSS {rss_loaded:?} MB",
        server.addr
    );

    let run = runtime.block_on(drive(&settings, &server, data));
    runtime.shutdown_timeout(Duration::from_secs(5));

    // The process: the one started, alive, then stopped by SIGTERM within 15 s.
    let alive = !run.died && server.alive() && pid_alive(server.pid);
    let peak_rss = proc_mb(server.pid, "VmHWM");
    let mut exit_secs = None;
    if alive {
        signal(server.pid, "TERM");
        let asked = Instant::now();
        while asked.elapsed() < Duration::from_secs(15) {
            if let Ok(Some(_)) = server.child.try_wait() {
                exit_secs = Some(asked.elapsed().as_secs_f64());
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    // The report.
    let mut failures = Vec::new();
    let mut all: Vec<u32> = run.cheap.latencies.iter().map(|&(_, us)| us).collect();
    all.sort_unstable();
    let p99 = percentile_ms(&all, 0.99);
    let mut per_kind = serde_json::Map::new();
    for (k, name) in CHEAP_KINDS.iter().enumerate() {
        let mut mine: Vec<u32> = run
            .cheap
            .latencies
            .iter()
            .filter(|l| l.0 as usize == k)
            .map(|l| l.1)
            .collect();
        mine.sort_unstable();
        per_kind.insert(
            name.to_string(),
            json!({"count": mine.len(),
            "p50_ms": percentile_ms(&mine, 0.5), "p99_ms": percentile_ms(&mine, 0.99),
            "max_ms": percentile_ms(&mine, 1.0)}),
        );
    }
    let total = run.cheap.latencies.len() + run.cheap.failed
        - run
            .cheap
            .statuses
            .iter()
            .filter(|(s, _)| ![200, 204, 304].contains(*s))
            .map(|(_, n)| n)
            .sum::<usize>();
    println!("\n== dtmap soak report ({:.1} s of traffic) ==", run.secs);
    println!(
        "cheap: {total} requests on {} connections ({} opened), {} failed; p50 {} ms, p90 {} ms, p99 {p99} ms, max {} ms — p99 target < 100 ms: {}",
        settings.connections, run.cheap.opened, run.cheap.failed,
        percentile_ms(&all, 0.5), percentile_ms(&all, 0.9), percentile_ms(&all, 1.0),
        if p99 < 100.0 { "met" } else { "NOT met" }
    );
    for (name, k) in &per_kind {
        println!("  {name:<12} {k}");
    }
    if run.cheap.failed > 0 {
        failures.push(format!(
            "{} failed cheap requests, e.g. {:?}",
            run.cheap.failed, run.cheap.samples
        ));
    }
    let mut worst = serde_json::Map::new();
    for (k, name) in WORST_KINDS.iter().enumerate() {
        let mine: Vec<_> = run.worst.iter().filter(|r| r.0 == k).collect();
        let mut statuses = BTreeMap::new();
        let mut errors = Vec::new();
        for (_, result, _, _) in &mine {
            match result {
                Ok(s) => *statuses.entry(s.to_string()).or_insert(0usize) += 1,
                Err(e) => errors.push(e.clone()),
            }
        }
        let max_s = mine.iter().map(|r| r.2).fold(0.0, f64::max);
        let max_mb = mine.iter().map(|r| r.3).max().unwrap_or(0) as f64 / 1e6;
        let bad: Vec<_> = mine
            .iter()
            .filter_map(|r| match &r.1 {
                // The nested collection is no answer to a search: it must be refused.
                Ok(s) if k == 1 => (!(400..500).contains(s) && *s != 503).then(|| s.to_string()),
                Ok(s) => (*s != 200 && !(400..500).contains(s) && *s != 503).then(|| s.to_string()),
                Err(e) => Some(e.clone()),
            })
            .collect();
        let in_time = max_s <= settings.deadline_secs as f64;
        println!(
            "worst {name:<24} {} requests, statuses {statuses:?}, errors {}, max {max_s:.2} s, largest {max_mb:.1} MB — within the {} s deadline: {}",
            mine.len(), errors.len(), settings.deadline_secs, if in_time { "met" } else { "NOT met" }
        );
        if !bad.is_empty() {
            failures.push(format!(
                "{name}: {} bad answers, e.g. {:?}",
                bad.len(),
                &bad[..bad.len().min(3)]
            ));
        }
        worst.insert(
            name.to_string(),
            json!({"count": mine.len(), "statuses": statuses,
            "errors": errors.len(), "error_samples": &errors[..errors.len().min(3)],
            "max_s": (max_s * 100.0).round() / 100.0, "largest_mb": (max_mb * 10.0).round() / 10.0,
            "within_deadline": in_time}),
        );
    }
    let count = |corrupt: bool, outcome: ReloadOutcome, figure_ok: bool| {
        run.reloads
            .iter()
            .filter(|r| r.corrupt == corrupt && r.outcome == outcome && r.figure_ok == figure_ok)
            .count()
    };
    let good = run.reloads.iter().filter(|r| !r.corrupt).count();
    let corrupt = run.reloads.len() - good;
    let (good_ok, corrupt_ok) = (
        count(false, ReloadOutcome::Applied, true),
        count(true, ReloadOutcome::Refused, true),
    );
    let reload_max = run.reloads.iter().map(|r| r.secs).fold(0.0, f64::max);
    println!(
        "reloads: {} of {} done; good {good_ok} of {good} applied and served; corrupt {corrupt_ok} of {corrupt} refused with the data kept; slowest {reload_max:.2} s",
        run.reloads.len(), settings.reloads
    );
    if run.reloads.len() < settings.reloads || good_ok < good || corrupt_ok < corrupt {
        let odd: Vec<_> = run
            .reloads
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                !(r.figure_ok
                    && r.outcome
                        == if r.corrupt {
                            ReloadOutcome::Refused
                        } else {
                            ReloadOutcome::Applied
                        })
            })
            .map(|(i, r)| {
                format!(
                    "#{} corrupt={} {:?} figure_ok={}",
                    i + 1,
                    r.corrupt,
                    r.outcome,
                    r.figure_ok
                )
            })
            .collect();
        failures.push(format!(
            "reloads: {} done of {}; wrong: {odd:?}",
            run.reloads.len(),
            settings.reloads
        ));
    }
    let closed = run.idle.closed_by_server.load(Relaxed);
    println!(
        "idle: {} asked, {} held at the end (fewest {}), {closed} closed by the server and reopened, {} connect failures",
        settings.idle, run.idle_held_before_stop, run.idle_min_held, run.idle.connect_failures.load(Relaxed)
    );
    println!(
        "process: pid {} {}; RSS after load {rss_loaded:?} MB, peak RSS {peak_rss:?} MB; exit after SIGTERM: {}",
        server.pid, if alive { "alive throughout, never restarted" } else { "DIED" },
        exit_secs.map_or("none within 15 s".into(), |s| format!("{s:.2} s"))
    );
    if !alive {
        failures.push(format!(
            "the server process died; its log ends:\n{}",
            server.log_tail()
        ));
    } else if exit_secs.is_none() {
        failures.push("the server did not exit within 15 s of SIGTERM".into());
    }
    let report = json!({
        "settings": {"secs": settings.secs, "connections": settings.connections, "idle": settings.idle,
            "sites": settings.sites, "reloads": settings.reloads, "deadline_s": settings.deadline_secs,
            "binary": binary.display().to_string()},
        "traffic_s": (run.secs * 10.0).round() / 10.0,
        "load_s": (load_secs * 10.0).round() / 10.0,
        "cheap": {"total": total, "failed": run.cheap.failed, "failure_samples": run.cheap.samples,
            "statuses": run.cheap.statuses.iter().map(|(s, n)| (s.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "connections_opened": run.cheap.opened,
            "p50_ms": percentile_ms(&all, 0.5), "p90_ms": percentile_ms(&all, 0.9), "p99_ms": p99,
            "max_ms": percentile_ms(&all, 1.0), "p99_under_100ms": p99 < 100.0, "by_kind": per_kind},
        "worst_case": worst,
        "reloads": {"done": run.reloads.len(), "good": good, "good_applied": good_ok,
            "corrupt": corrupt, "corrupt_refused": corrupt_ok, "slowest_s": (reload_max * 100.0).round() / 100.0},
        "idle": {"asked": settings.idle, "held_at_end": run.idle_held_before_stop, "fewest_held": run.idle_min_held,
            "closed_by_server": closed, "connect_failures": run.idle.connect_failures.load(Relaxed)},
        "process": {"pid": server.pid, "alive_throughout": alive, "rss_after_load_mb": rss_loaded,
            "peak_rss_mb": peak_rss, "exit_after_sigterm_s": exit_secs},
        "failures": failures,
    });
    let path = std::env::var_os("DTMAP_SOAK_REPORT")
        .map(PathBuf::from)
        .unwrap_or_else(|| report_dir().join("soak-report.json"));
    let _ = std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")));
    std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("report: {}", path.display());
    assert!(failures.is_empty(), "soak failed:\n{}", failures.join("\n"));
}

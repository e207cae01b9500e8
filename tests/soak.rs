//! Soak test of the running server, loopback only and bounded in time.
//!
//! Writes a generated dataset (a grid of 64 area polygons and N point sites with counts for
//! 3 rounds), starts the `dtmap` binary on a free 127.0.0.1 port and, for
//! `DTMAP_SOAK_SECS`, runs at once:
//!
//! - cheap traffic on `DTMAP_SOAK_CONNECTIONS` keep-alive connections (health, collections,
//!   items by bbox and by id, near, tiles, totals over an area), every latency recorded;
//! - 4 clients sending worst-case requests: totals over a 99,999-vertex star polygon, a WKT
//!   GEOMETRYCOLLECTION nested 1,600 deep, the XLSX and CSV downloads of the site layer read
//!   to the end, and 10,000 items with one property name repeated 5,000 times;
//! - `DTMAP_SOAK_IDLE` idle connections, half silent and half stopped in the middle of a
//!   request header, reopened when the server closes them;
//! - `DTMAP_SOAK_RELOADS` reloads by SIGHUP, evenly spread, every 5th with corrupt data (a
//!   count row with no key and counts that are not numbers, or a truncated GeoJSON file),
//!   each checked by the served figure of one site, which the two good versions alternate.
//!
//! It then checks the process is the one it started and alive, reads its peak RSS, stops
//! it with SIGTERM, prints a report and writes it to `<target dir>/soak-report.json`. It
//! asserts behaviour only: no failed cheap request (connection error, no answer within
//! 10 s, or a status other than 200, 204, 304), every worst-case request answered within
//! 120 s with 200, 4xx or 503 (the nested collection: 4xx or 503), every corrupt reload
//! refused and every good one applied, the process alive throughout and exiting within
//! 15 s of SIGTERM. The targets (cheap p99 under 100 ms, worst case within the deadline,
//! all reloads done within the run) are printed as met or not, never asserted. The run
//! goes on past `DTMAP_SOAK_SECS` while reloads are due, never past 3 × that + 60 s.
//!
//! The defaults are the short CI run (8 s, 32 connections, 200 idle, 20,000 sites, 10
//! reloads); `scripts/soak` runs the full one against the release binary (60 s, 256, 1,000,
//! 200,000 and 50). Settings: `DTMAP_BINARY`, `DTMAP_SOAK_SECS`, `DTMAP_SOAK_CONNECTIONS`,
//! `DTMAP_SOAK_IDLE`, `DTMAP_SOAK_SITES`, `DTMAP_SOAK_RELOADS`, `DTMAP_SOAK_PAUSE_MS` (50: each
//! cheap connection's pause between requests), `DTMAP_SOAK_DEADLINE_SECS`
//! (30), `DTMAP_SOAK_REPORT` (the report's path) and `DTMAP_SOAK_WORST`, the worst-case
//! kinds to send, comma-separated (default all of `star_totals`, `nested_search`, `xlsx`,
//! `csv`, `properties_x5000`; empty: none).

use std::collections::BTreeMap;
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
use serde_json::{json, Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// The data lie in an 8° × 8° square from (WEST, SOUTH), split into one-degree areas.
const WEST: f64 = 40.0;
const SOUTH: f64 = 29.0;
const GRID: usize = 8;
const ROUNDS: [&str; 3] = ["2025-01-31", "2025-02-28", "2025-03-31"];
/// The site whose latest `families` tells which data is served: 1000 + version (0 or 1).
const WATCHED: &str = "S0000001";
const CHEAP_TIMEOUT: Duration = Duration::from_secs(10);
/// A worst-case request not answered by then counts as unanswered.
const WORST_TIMEOUT: Duration = Duration::from_secs(120);
const CHEAP: [&str; 7] = [
    "health",
    "collections",
    "items_bbox",
    "item",
    "near",
    "tile",
    "totals",
];
const WORST: [&str; 5] = [
    "star_totals",
    "nested_search",
    "xlsx",
    "csv",
    "properties_x5000",
];

struct Settings {
    secs: u64,
    connections: usize,
    idle: usize,
    sites: usize,
    reloads: usize,
    deadline_secs: u64,
    pause_ms: u64,
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
        let kind = |n: &str| WORST.iter().position(|k| *k == n.trim());
        Settings {
            secs: env_or("DTMAP_SOAK_SECS", 8).max(1),
            connections: env_or("DTMAP_SOAK_CONNECTIONS", 32) as usize,
            idle: env_or("DTMAP_SOAK_IDLE", 200) as usize,
            sites: env_or("DTMAP_SOAK_SITES", 20_000).max(10) as usize,
            reloads: env_or("DTMAP_SOAK_RELOADS", 10) as usize,
            deadline_secs: env_or("DTMAP_SOAK_DEADLINE_SECS", 30),
            pause_ms: env_or("DTMAP_SOAK_PAUSE_MS", 50),
            worst: match std::env::var("DTMAP_SOAK_WORST") {
                Ok(names) => names
                    .split(',')
                    .filter(|n| !n.trim().is_empty())
                    .map(|n| kind(n).expect(n))
                    .collect(),
                Err(_) => (0..WORST.len()).collect(),
            },
        }
    }
}

// ---------------------------------------------------------------- the dataset

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

struct Dataset {
    dir: PathBuf,
    areas: String,
    /// Every count row but the watched site's latest one.
    counts_rest: String,
}

fn area_code(col: usize, row: usize) -> String {
    format!("A{row}{col}")
}

impl Dataset {
    fn create(dir: &Path, sites: usize) -> Dataset {
        let mut features = Vec::new();
        for (row, col) in (0..GRID).flat_map(|r| (0..GRID).map(move |c| (r, c))) {
            let (x0, y0) = (WEST + col as f64, SOUTH + row as f64);
            let corners = [(0., 0.), (1., 0.), (1., 1.), (0., 1.), (0., 0.)];
            let ring = corners.map(|(dx, dy)| [x0 + dx, y0 + dy]);
            let code = area_code(col, row);
            features.push(json!({"type": "Feature",
                "properties": {"code": code, "name": format!("Area {code}")},
                "geometry": {"type": "Polygon", "coordinates": [ring]}}));
        }
        let areas = json!({"type": "FeatureCollection", "features": features}).to_string();
        let mut rng = SmallRng::seed_from_u64(7);
        let mut csv = String::from("site_id,name,area,lon,lat\n");
        let mut counts_rest = String::new();
        for i in 1..=sites {
            let (lon, lat) = somewhere(&mut rng);
            let area = area_code((lon - WEST) as usize, (lat - SOUTH) as usize);
            csv.push_str(&format!("S{i:07},Site {i},{area},{lon:.6},{lat:.6}\n"));
            for round in &ROUNDS[..if i == 1 { 2 } else { 3 }] {
                let families: u32 = rng.gen_range(1..500);
                let individuals = families * rng.gen_range(3..8);
                counts_rest.push_str(&format!("S{i:07},{round},{families},{individuals}\n"));
            }
        }
        std::fs::write(dir.join("dtmap.toml"), CONFIG).unwrap();
        std::fs::write(dir.join("sites.csv"), csv).unwrap();
        let data = Dataset {
            dir: dir.into(),
            areas,
            counts_rest,
        };
        data.write(0, None);
        data
    }

    /// Data of `version` (0 or 1: the two differ in one count), good, or corrupt: a count
    /// row with no key and counts that are not numbers (`Some(0)`), or the area GeoJSON
    /// cut in the middle (`Some(1)`).
    fn write(&self, version: u32, corrupt: Option<usize>) {
        let mut counts = format!(
            "site_id,round,families,individuals\n{WATCHED},{},{},5000\n{}",
            ROUNDS[2],
            1000 + version,
            self.counts_rest
        );
        let mut areas = self.areas.as_str();
        match corrupt {
            Some(0) => counts.push_str(&format!(",{},lots,many\n", ROUNDS[2])),
            Some(_) => areas = &areas[..areas.len() / 2],
            None => {}
        }
        std::fs::write(self.dir.join("areas.geojson"), areas).unwrap();
        std::fs::write(self.dir.join("counts.csv"), counts).unwrap();
    }
}

// ---------------------------------------------------------------- the server

/// The server process; killed when dropped, so a failed test never leaves it running.
struct Server {
    child: Child,
    pid: u32,
    addr: String,
    /// Its standard error: the log.
    log: PathBuf,
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
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = free.local_addr().unwrap().to_string();
        drop(free);
        let log = config.with_file_name("server.log");
        let child = Command::new(binary)
            .arg("--config")
            .arg(config)
            .args(["--bind", &addr])
            .env("DTMAP_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        Server {
            pid: child.id(),
            child,
            addr,
            log,
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// The server's log read as it grows, for the reloads it tells of.
struct LogReader {
    file: std::fs::File,
    /// The last line, until it is whole.
    partial: Vec<u8>,
    applied: usize,
    refused: usize,
}

impl LogReader {
    fn open(path: &Path) -> LogReader {
        let file = std::fs::File::open(path).unwrap();
        let (partial, applied, refused) = (Vec::new(), 0, 0);
        LogReader {
            file,
            partial,
            applied,
            refused,
        }
    }

    /// Reads what the log gained; how many reloads it told were applied, and refused.
    fn poll(&mut self) -> (usize, usize) {
        let _ = std::io::Read::read_to_end(&mut self.file, &mut self.partial);
        if let Some(end) = self.partial.iter().rposition(|&b| b == b'\n') {
            let lines: Vec<u8> = self.partial.drain(..=end).collect();
            let text = String::from_utf8_lossy(&lines);
            self.applied += text.matches("reloaded").count();
            self.refused += text.matches("reload refused").count();
            self.refused += text.matches("reload failed").count();
        }
        (self.applied, self.refused)
    }
}

/// Whether `pid` is a live process (not gone, not a zombie), without waiting for it.
fn pid_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

/// A `/proc/<pid>/status` figure in MB (`VmHWM`: peak RSS; `VmRSS`: now).
fn proc_mb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(round(kb / 1024.0))
}

fn signal(pid: u32, name: &str) {
    let kill = Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status();
    assert!(kill.unwrap().success(), "kill -{name} {pid} failed");
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

// ---------------------------------------------------------------- the HTTP client

/// One keep-alive HTTP/1.1 connection, reopened when the server has closed it.
struct Conn {
    addr: String,
    sender: Option<SendRequest<Full<Bytes>>>,
    opened: usize,
    /// GETs sent again on a new connection after the server closed a reused one under them.
    retried: usize,
}

struct Answer {
    status: u16,
    bytes: usize,
    /// The first 64 KiB of the body.
    body: Vec<u8>,
}

impl Conn {
    fn new(addr: &str) -> Conn {
        Conn {
            addr: addr.to_string(),
            sender: None,
            opened: 0,
            retried: 0,
        }
    }

    /// Whether the connection is new.
    async fn ready(&mut self) -> Result<bool, String> {
        let reuse = match &mut self.sender {
            Some(sender) => !sender.is_closed() && sender.ready().await.is_ok(),
            None => false,
        };
        if !reuse {
            self.sender = None;
            let stream = TcpStream::connect(&self.addr)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            let _ = stream.set_nodelay(true);
            let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| format!("handshake: {e}"))?;
            tokio::spawn(connection);
            self.sender = Some(sender);
            self.opened += 1;
        }
        Ok(!reuse)
    }

    /// Sends a request and reads the answer to its end, within `limit`; a connection that
    /// failed or timed out is dropped.
    async fn send(
        &mut self,
        limit: Duration,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<Answer, String> {
        let exchange = async {
            let response = loop {
                let fresh = self.ready().await?;
                let request = Request::builder()
                    .method(method.clone())
                    .uri(path)
                    .header("host", &self.addr)
                    .header("content-type", "application/json")
                    .body(Full::new(body.clone()))
                    .map_err(|e| e.to_string())?;
                let sender = self.sender.as_mut().expect("ready");
                match sender.send_request(request).await {
                    Ok(response) => break response,
                    // The keep-alive race: the server closed a reused connection as the
                    // request went out. A GET is sent again, once, as browsers do.
                    Err(e)
                        if !fresh
                            && method == Method::GET
                            && (e.is_canceled() || e.is_closed() || e.is_incomplete_message()) =>
                    {
                        self.sender = None;
                        self.retried += 1;
                    }
                    Err(e) => return Err(format!("request: {e}")),
                }
            };
            let status = response.status().as_u16();
            let mut incoming = response.into_body();
            let (mut bytes, mut body) = (0, Vec::new());
            while let Some(frame) = incoming.frame().await {
                let frame = frame.map_err(|e| format!("body: {e}"))?;
                if let Ok(data) = frame.into_data() {
                    bytes += data.len();
                    if body.len() < 65_536 {
                        body.extend_from_slice(&data);
                    }
                }
            }
            Ok(Answer {
                status,
                bytes,
                body,
            })
        };
        let result = tokio::time::timeout(limit, exchange)
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {} s", limit.as_secs())));
        if result.is_err() {
            self.sender = None;
        }
        result
    }
}

/// Every request's time and answer, by kind.
#[derive(Default)]
struct Kind {
    micros: Vec<u32>,
    statuses: BTreeMap<String, usize>,
    failed: usize,
    samples: Vec<String>,
    largest: usize,
}

/// What the clients saw: requests by kind, connections opened, idle connections.
#[derive(Default)]
struct Tally {
    kinds: Mutex<BTreeMap<&'static str, Kind>>,
    opened: AtomicUsize,
    retried: AtomicUsize,
    idle_held: AtomicUsize,
    idle_closed_by_server: AtomicUsize,
    idle_connect_failures: AtomicUsize,
}

/// Whether an answer is acceptable: cheap requests must succeed; worst-case ones may be
/// refused (4xx) or shed (503), and the nested collection, no area to search, must be.
fn acceptable(kind: &str, status: u16) -> bool {
    match kind {
        _ if CHEAP.contains(&kind) => matches!(status, 200 | 204 | 304),
        "nested_search" => (400..500).contains(&status) || status == 503,
        _ => status == 200 || (400..500).contains(&status) || status == 503,
    }
}

impl Tally {
    /// Records a request; whether its answer was acceptable.
    fn record(
        &self,
        kind: &'static str,
        path: &str,
        started: Instant,
        result: &Result<Answer, String>,
    ) -> bool {
        let micros = started.elapsed().as_micros().min(u32::MAX as u128) as u32;
        let (key, ok) = match result {
            Ok(answer) => (answer.status.to_string(), acceptable(kind, answer.status)),
            Err(e) => (e.clone(), false),
        };
        let mut kinds = self.kinds.lock().unwrap();
        let entry = kinds.entry(kind).or_default();
        entry.micros.push(micros);
        entry.largest = entry.largest.max(result.as_ref().map_or(0, |a| a.bytes));
        if !ok {
            entry.failed += 1;
            if entry.samples.len() < 3 {
                let path: String = path.chars().take(120).collect();
                entry.samples.push(format!("{path}: {key}"));
            }
        }
        *entry.statuses.entry(key).or_default() += 1;
        ok
    }
}

// ---------------------------------------------------------------- the traffic

/// What every client task shares: where to go, when to stop, where to count.
#[derive(Clone)]
struct Ctx {
    addr: String,
    stop: watch::Receiver<bool>,
    tally: Arc<Tally>,
}

impl Ctx {
    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }
}

/// A random position inside the data.
fn somewhere(rng: &mut SmallRng) -> (f64, f64) {
    let span = 0.0..GRID as f64;
    (
        WEST + rng.gen_range(span.clone()),
        SOUTH + rng.gen_range(span),
    )
}

fn cheap_path(kind: usize, rng: &mut SmallRng) -> String {
    let (lon, lat) = somewhere(rng);
    let area = area_code(rng.gen_range(0..GRID), rng.gen_range(0..GRID));
    let (east, north) = (lon + 0.05, lat + 0.05);
    match kind {
        0 => "/health".into(),
        1 => "/collections".into(),
        2 => {
            format!("/collections/sites/items?limit=10&bbox={lon:.4},{lat:.4},{east:.4},{north:.4}")
        }
        3 => format!("/collections/areas/items/{area}"),
        4 => format!("/collections/sites/near?lon={lon:.5}&lat={lat:.5}&k=5"),
        5 => {
            let z = rng.gen_range(0..=10);
            let n = f64::from(1u32 << z);
            let x = ((lon + 180.0) / 360.0 * n) as u32;
            let phi = lat.to_radians();
            let y = ((1.0 - phi.tan().asinh() / std::f64::consts::PI) / 2.0 * n) as u32;
            let layers = ["sites", "areas", "areas,sites"][rng.gen_range(0..3)];
            format!("/tiles/{layers}/{z}/{x}/{y}")
        }
        _ => format!("/collections/sites/totals?area=areas/{area}"),
    }
}

/// The worst-case requests of each kind, built once.
fn worst_requests() -> Vec<(Method, String, Bytes)> {
    // 99,998 corners alternating radius r and 10 r, closed: 99,999 positions. Five
    // decimals keep the body under the 2 MiB limit and the corners distinct.
    let (n, cx, cy, r) = (99_998usize, 44.0, 33.0, 0.3);
    let mut ring = String::with_capacity(2_100_000);
    for i in 0..=n {
        let angle = std::f64::consts::TAU * (i % n) as f64 / n as f64;
        let radius = if i % 2 == 0 { r } else { 10.0 * r };
        let comma = if i > 0 { "," } else { "" };
        let (x, y) = (cx + radius * angle.cos(), cy + radius * angle.sin());
        ring.push_str(&format!("{comma}[{x:.5},{y:.5}]"));
    }
    let star = format!(r#"{{"geometry":{{"type":"Polygon","coordinates":[[{ring}]]}}}}"#);
    let deep = ("GEOMETRYCOLLECTION(".repeat(1600), ")".repeat(1600));
    let names = vec!["name"; 5000].join(",");
    let get = |path: String| (Method::GET, path, Bytes::new());
    vec![
        (
            Method::POST,
            "/collections/sites/totals".into(),
            star.into(),
        ),
        get(format!(
            "/collections/sites/search?geometry={}POINT(44%2033){}",
            deep.0, deep.1
        )),
        // `all.*` is only for layers without rounds: `latest` is the whole layer.
        get("/datasets/sites/latest.xlsx".into()),
        get("/datasets/sites/latest.csv".into()),
        get(format!(
            "/collections/sites/items?limit=10000&properties={names}"
        )),
    ]
}

/// How late after the deadline an answer may arrive and still count as in time.
const DEADLINE_GRACE_SECS: f64 = 1.0;

/// One client on one keep-alive connection, sending what `next` gives until stopped.
async fn client<F>(ctx: Ctx, limit: Duration, pause: Duration, mut next: F)
where
    F: FnMut() -> (&'static str, Method, String, Bytes),
{
    let mut conn = Conn::new(&ctx.addr);
    while !ctx.stopped() {
        let (kind, method, path, body) = next();
        let started = Instant::now();
        let result = conn.send(limit, method, &path, body).await;
        if !ctx.tally.record(kind, &path, started, &result) {
            // A dead or refusing server must not turn this into a busy loop.
            tokio::time::sleep(Duration::from_millis(50)).await;
        } else if !pause.is_zero() {
            // A user's think time: traffic at a rate, not the machine's saturation point.
            tokio::time::sleep(pause).await;
        }
    }
    ctx.tally.opened.fetch_add(conn.opened, Relaxed);
    ctx.tally.retried.fetch_add(conn.retried, Relaxed);
}

/// Holds one idle connection until stopped: silent (even `i`) or stopped halfway through
/// a request header (odd `i`); reopened when the server lets it go (a second later when
/// that was at once).
async fn idle_connection(i: usize, mut ctx: Ctx) {
    let tally = ctx.tally.clone();
    while !ctx.stopped() {
        let connect = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(&ctx.addr));
        let Ok(Ok(mut stream)) = connect.await else {
            tally.idle_connect_failures.fetch_add(1, Relaxed);
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        let half = format!(
            "GET /health HTTP/1.1\r\nHost: {}\r\nX-Soak-Idle: ",
            ctx.addr
        );
        if i % 2 == 1 && stream.write_all(half.as_bytes()).await.is_err() {
            continue;
        }
        tally.idle_held.fetch_add(1, Relaxed);
        let opened = Instant::now();
        let mut buffer = [0u8; 1024];
        // End of stream, an error, or an answer such as 408: the server let go.
        let let_go = tokio::select! {
            _ = stream.read(&mut buffer) => true,
            _ = ctx.stop.wait_for(|s| *s) => false,
        };
        tally.idle_held.fetch_sub(1, Relaxed);
        if !let_go {
            return;
        }
        tally.idle_closed_by_server.fetch_add(1, Relaxed);
        drop(stream);
        if opened.elapsed() < Duration::from_secs(1) {
            tokio::time::sleep(Duration::from_secs(1)).await; // refused at once: no busy loop
        }
    }
}

struct Reload {
    corrupt: bool,
    /// Applied (good) or refused (corrupt), and the served figure the expected one after.
    ok: bool,
    secs: f64,
    note: String,
}

/// The watched site's latest `families`, as served.
async fn watched_figure(conn: &mut Conn) -> Option<i64> {
    let path = format!("/collections/sites/items/{WATCHED}");
    let answer = conn
        .send(CHEAP_TIMEOUT, Method::GET, &path, Bytes::new())
        .await
        .ok()?;
    let feature: Value = serde_json::from_slice(&answer.body).ok()?;
    feature["properties"]["families"].as_i64()
}

/// `count` reloads every `interval` from `start` (each 5th corrupt, alternately a bad
/// count row and a cut GeoJSON file), each waited for (up to 60 s) and then checked by the
/// served figure (polling up to 5 s).
async fn reloads(
    ctx: Ctx,
    (pid, log): (u32, PathBuf),
    data: Arc<Dataset>,
    (count, interval, start): (usize, Duration, Instant),
) -> Vec<Reload> {
    let (mut conn, mut log) = (Conn::new(&ctx.addr), LogReader::open(&log));
    let (mut served, mut done) = (0u32, Vec::new());
    for n in 1..=count {
        tokio::time::sleep_until((start + interval.mul_f64(n as f64 - 0.5)).into()).await;
        if ctx.stopped() {
            break;
        }
        let corrupt = n % 5 == 0;
        let next = if corrupt { served } else { 1 - served };
        let (writer, kind) = (data.clone(), corrupt.then_some((n / 5) % 2));
        tokio::task::spawn_blocking(move || writer.write(next, kind))
            .await
            .unwrap();
        let before = log.poll();
        let sent = Instant::now();
        signal(pid, "HUP");
        let outcome = loop {
            let (applied, refused) = log.poll();
            if applied > before.0 {
                break "applied";
            }
            if refused > before.1 {
                break "refused";
            }
            if ctx.stopped() {
                return done; // cut short by the end of the run: not counted
            }
            if sent.elapsed() > Duration::from_secs(60) {
                break "unanswered";
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let secs = sent.elapsed().as_secs_f64();
        let want = 1000 + i64::from(next);
        let mut figure = None;
        while figure != Some(want) && sent.elapsed().as_secs_f64() < secs + 5.0 {
            figure = watched_figure(&mut conn).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if outcome == "applied" {
            served = next;
        }
        done.push(Reload {
            corrupt,
            ok: outcome == ["applied", "refused"][corrupt as usize] && figure == Some(want),
            secs,
            note: format!("#{n} corrupt={corrupt}: {outcome}, serves {figure:?}, want {want}"),
        });
    }
    done
}

// ---------------------------------------------------------------- the run

struct Run {
    secs: f64,
    tally: Arc<Tally>,
    reloads: Vec<Reload>,
    idle_fewest: usize,
    idle_at_end: usize,
    died: bool,
}

async fn drive(settings: &Settings, server: &Server, data: Arc<Dataset>) -> Run {
    let (stop_tx, stop) = watch::channel(false);
    let tally = Arc::new(Tally::default());
    let ctx = Ctx {
        addr: server.addr.clone(),
        stop,
        tally: tally.clone(),
    };
    let mut tasks: Vec<_> = (0..settings.idle)
        .map(|i| tokio::spawn(idle_connection(i, ctx.clone())))
        .collect();
    let ramp = Instant::now();
    while tally.idle_held.load(Relaxed) < settings.idle && ramp.elapsed().as_secs() < 10 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let start = Instant::now();
    for i in 0..settings.connections {
        let (mut rng, mut kind) = (SmallRng::seed_from_u64(i as u64), i);
        let next = move || {
            kind = (kind + 1) % CHEAP.len();
            (
                CHEAP[kind],
                Method::GET,
                cheap_path(kind, &mut rng),
                Bytes::new(),
            )
        };
        let pause = Duration::from_millis(settings.pause_ms);
        tasks.push(tokio::spawn(client(
            ctx.clone(),
            CHEAP_TIMEOUT,
            pause,
            next,
        )));
    }
    let requests = Arc::new(worst_requests());
    for mut n in (0..4).filter(|_| !settings.worst.is_empty()) {
        let (kinds, requests) = (settings.worst.clone(), requests.clone());
        let next = move || {
            let kind = kinds[n % kinds.len()];
            n += 1;
            let (method, path, body) = requests[kind].clone();
            (WORST[kind], method, path, body)
        };
        tasks.push(tokio::spawn(client(
            ctx.clone(),
            WORST_TIMEOUT,
            Duration::ZERO,
            next,
        )));
    }
    let interval = Duration::from_secs(settings.secs).div_f64(settings.reloads.max(1) as f64);
    let plan = (settings.reloads, interval, start);
    let reloader = tokio::spawn(reloads(
        ctx.clone(),
        (server.pid, server.log.clone()),
        data,
        plan,
    ));
    // Runs for the time asked, longer only while reloads are due, never past the cap.
    let cap = Duration::from_secs(settings.secs * 3 + 60);
    let mut idle_fewest = settings.idle;
    let died = loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        idle_fewest = idle_fewest.min(tally.idle_held.load(Relaxed));
        let elapsed = start.elapsed();
        let due = elapsed < Duration::from_secs(settings.secs) || !reloader.is_finished();
        if !pid_alive(server.pid) || !due || elapsed >= cap {
            break !pid_alive(server.pid);
        }
    };
    let (idle_at_end, secs) = (tally.idle_held.load(Relaxed), start.elapsed().as_secs_f64());
    stop_tx.send(true).unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    let reloads = reloader.await.unwrap();
    Run {
        secs,
        tally,
        reloads,
        idle_fewest,
        idle_at_end,
        died,
    }
}

/// Count, statuses and latency percentiles (ms) of `micros`.
fn summary(mut micros: Vec<u32>) -> Map<String, Value> {
    micros.sort_unstable();
    let at = |q: f64| {
        let i = ((micros.len() as f64 * q) as usize).min(micros.len().saturating_sub(1));
        round(f64::from(micros.get(i).copied().unwrap_or(0)) / 1000.0)
    };
    let figures = json!({"count": micros.len(), "p50_ms": at(0.5), "p90_ms": at(0.9),
        "p99_ms": at(0.99), "max_ms": at(1.0)});
    figures.as_object().unwrap().clone()
}

fn met(yes: bool) -> &'static str {
    ["NOT met", "met"][yes as usize]
}

#[test]
fn soak() {
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    rlimit::setrlimit(rlimit::Resource::NOFILE, hard, hard).unwrap();
    let settings = Settings::from_env();
    let binary = std::env::var_os("DTMAP_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_dtmap")));
    let s = &settings;
    let (secs, conns, idle, sites) = (s.secs, s.connections, s.idle, s.sites);
    println!(
        "soak: {secs} s, {conns} connections, {idle} idle, {sites} sites, {} reloads",
        s.reloads
    );
    println!(
        "soak: open files {soft} -> {hard}; server {}",
        binary.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let data = Arc::new(Dataset::create(dir.path(), settings.sites));
    let mut server = Server::start(&binary, &dir.path().join("dtmap.toml"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    // Up when /health answers, within 3 minutes.
    let loading = Instant::now();
    runtime.block_on(async {
        let mut conn = Conn::new(&server.addr);
        loop {
            let health = conn.send(CHEAP_TIMEOUT, Method::GET, "/health", Bytes::new());
            if matches!(health.await, Ok(Answer { status: 200, .. })) {
                break;
            }
            let log = server.log_tail();
            assert!(pid_alive(server.pid), "the server stopped:\n{log}");
            assert!(loading.elapsed().as_secs() < 180, "no /health in 3 minutes");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let load_secs = loading.elapsed().as_secs_f64();
    let rss_loaded = proc_mb(server.pid, "VmRSS");
    let addr = &server.addr;
    println!("soak: up on {addr} after {load_secs:.1} s, RSS {rss_loaded:?} MB");

    let run = runtime.block_on(drive(&settings, &server, data));
    runtime.shutdown_timeout(Duration::from_secs(5));

    // The process: the one started, alive, then stopped by SIGTERM within 15 s.
    let alive = !run.died && matches!(server.child.try_wait(), Ok(None));
    let peak_rss = proc_mb(server.pid, "VmHWM");
    let mut exit_secs = None;
    if alive {
        signal(server.pid, "TERM");
        let asked = Instant::now();
        while exit_secs.is_none() && asked.elapsed() < Duration::from_secs(15) {
            std::thread::sleep(Duration::from_millis(50));
            if let Ok(Some(_)) = server.child.try_wait() {
                exit_secs = Some(round(asked.elapsed().as_secs_f64()));
            }
        }
    }

    // The report.
    let (mut failures, mut targets, mut all, mut failed) = (vec![], vec![], vec![], 0);
    let (mut by_kind, mut worst) = (Map::new(), Map::new());
    for (name, kind) in std::mem::take(&mut *run.tally.kinds.lock().unwrap()) {
        let is_cheap = CHEAP.contains(&name);
        if is_cheap {
            all.extend_from_slice(&kind.micros);
            failed += kind.failed;
        }
        let mut figures = summary(kind.micros);
        figures.insert("statuses".into(), json!(kind.statuses));
        figures.insert("failed".into(), json!(kind.failed));
        if kind.failed > 0 {
            failures.push(format!(
                "{name}: {} failed, e.g. {:?}",
                kind.failed, kind.samples
            ));
        }
        if is_cheap {
            by_kind.insert(name.into(), json!(figures));
            continue;
        }
        let (max_s, limit) = (
            figures["max_ms"].as_f64().unwrap() / 1000.0,
            settings.deadline_secs,
        );
        // Met when every one was answered acceptably, and in time: a 503 is sent when the
        // deadline fires, so allow the time it takes to reach the client.
        let in_time = kind.failed == 0 && max_s <= limit as f64 + DEADLINE_GRACE_SECS;
        let (slowest, bad) = (format!("slowest {max_s:.2} s"), kind.failed);
        let verdict = met(in_time);
        targets.push(format!(
            "{name}: {slowest}, {bad} bad (deadline {limit} s): {verdict}"
        ));
        figures.insert("largest_mb".into(), json!(round(kind.largest as f64 / 1e6)));
        figures.insert("within_deadline".into(), json!(in_time));
        worst.insert(name.into(), json!(figures));
    }
    let mut cheap = summary(all);
    let p99 = cheap["p99_ms"].as_f64().unwrap();
    targets.insert(
        0,
        format!("cheap p99 {p99} ms (target < 100 ms): {}", met(p99 < 100.0)),
    );
    cheap.insert("failed".into(), json!(failed));
    cheap.insert("by_kind".into(), json!(by_kind));
    let reloads = &run.reloads;
    let good = reloads.iter().filter(|r| !r.corrupt).count();
    let ok = |corrupt: bool| {
        reloads
            .iter()
            .filter(|r| r.corrupt == corrupt && r.ok)
            .count()
    };
    let wrong: Vec<_> = reloads.iter().filter(|r| !r.ok).map(|r| &r.note).collect();
    let (done, asked) = (reloads.len(), settings.reloads);
    targets.push(format!(
        "reloads: {done} of {asked} done in the run: {}",
        met(done == asked)
    ));
    if !wrong.is_empty() {
        failures.push(format!(
            "reloads: {} of {done} wrong: {wrong:?}",
            wrong.len()
        ));
    }
    if !alive {
        failures.push(format!(
            "the server died; its log ends:\n{}",
            server.log_tail()
        ));
    } else if exit_secs.is_none() {
        failures.push("the server did not exit within 15 s of SIGTERM".into());
    }
    let report = json!({
        "settings": {"secs": settings.secs, "connections": settings.connections,
            "idle": settings.idle, "sites": settings.sites, "reloads": settings.reloads,
            "deadline_s": settings.deadline_secs, "binary": binary.display().to_string(),
            "worst_case_kinds": settings.worst.iter().map(|&k| WORST[k]).collect::<Vec<_>>()},
        "load_s": round(load_secs),
        "traffic_s": round(run.secs),
        "cheap": cheap,
        "clients": {"connections_opened": run.tally.opened.load(Relaxed),
            "keep_alive_retries": run.tally.retried.load(Relaxed)},
        "worst_case": worst,
        "reloads": {"done": reloads.len(), "good": good, "good_applied": ok(false),
            "corrupt": reloads.len() - good, "corrupt_refused": ok(true),
            "slowest_s": round(reloads.iter().map(|r| r.secs).fold(0.0, f64::max))},
        "idle": {"asked": settings.idle, "held_at_end": run.idle_at_end,
            "fewest_held": run.idle_fewest,
            "closed_by_server": run.tally.idle_closed_by_server.load(Relaxed),
            "connect_failures": run.tally.idle_connect_failures.load(Relaxed)},
        "process": {"pid": server.pid, "alive_throughout": alive,
            "rss_after_load_mb": rss_loaded, "peak_rss_mb": peak_rss,
            "exit_after_sigterm_s": exit_secs},
        "targets": targets,
        "failures": failures,
    });
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from);
    let target = target.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let path = std::env::var_os("DTMAP_SOAK_REPORT")
        .map_or(target.join("soak-report.json"), PathBuf::from);
    let text = serde_json::to_string_pretty(&report).unwrap();
    let _ = std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")));
    std::fs::write(&path, &text).unwrap();
    println!(
        "\n== dtmap soak report ==\n{text}\n(written to {})",
        path.display()
    );
    for target in &targets {
        println!("target: {target}");
    }
    assert!(failures.is_empty(), "soak failed:\n{}", failures.join("\n"));
}

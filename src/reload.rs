//! Reloading a running server: re-reads the config file and every data file, and swaps the
//! new snapshot and settings in whole — or refuses them and keeps serving what it had. One
//! path for every trigger: SIGHUP, `POST /admin/reload` and the optional file watcher.
//! Settings that only a restart can change (the bind address, connection and pool limits)
//! are reported when they differ. When rounds were published (`[admin] data_dir`), the
//! data is the current published version's (see [`crate::publish`]).

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::api::admin::{ReloadOutcome, Reloader};
use crate::api::{AppState, Settings};
use crate::config::Config;

/// Reloads from the config file the server was started with (or the built-in config).
pub struct FileReloader {
    path: Option<PathBuf>,
    apply_overrides: Box<dyn Fn(&mut Config) + Send + Sync>,
    running: tokio::sync::Mutex<Config>,
}

impl FileReloader {
    /// A reloader for `path` (none: the built-in config), applying the command line's
    /// overrides to every config it reads; `running` is the config in force.
    pub fn new(
        path: Option<PathBuf>,
        running: Config,
        apply_overrides: impl Fn(&mut Config) + Send + Sync + 'static,
    ) -> FileReloader {
        FileReloader {
            path,
            apply_overrides: Box::new(apply_overrides),
            running: tokio::sync::Mutex::new(running),
        }
    }

    /// This reloader as the API's [`Reloader`], for `POST /admin/reload`.
    pub fn shared(self) -> Arc<dyn Reloader> {
        Arc::new(Shared(Arc::new(self)))
    }

    fn read(&self) -> Result<Config, String> {
        let mut config = match &self.path {
            Some(path) => Config::from_file(path).map_err(|e| e.to_string())?,
            None => Config::builtin(),
        };
        config.apply_env();
        (self.apply_overrides)(&mut config);
        // The published version's data when one was published.
        crate::publish::served_config(config)
    }

    /// The files a reload reads: the config file, every data file it names, and the
    /// pointer to the published version served.
    fn watched_files(&self, config: &Config) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = self.path.iter().cloned().collect();
        files.extend(config.data_files());
        if let Some(dir) = config.data_dir() {
            files.push(crate::publish::Store::new(dir).current_file());
        }
        files
    }

    async fn run(&self, state: Arc<AppState>) -> ReloadOutcome {
        // Held for the whole reload: two reloads never interleave, nor a reload and a
        // publish or rollback.
        let mut running = self.running.lock().await;
        let _change = state.data_change.lock().await;
        let current_version = format!("{:016x}", state.current().version);
        let config = match self.read() {
            Ok(config) => config,
            Err(report) => {
                tracing::error!("reload refused: {report}");
                return ReloadOutcome {
                    applied: false,
                    data_version: current_version,
                    errors: 1,
                    warnings: 0,
                    report,
                    needs_restart: Vec::new(),
                };
            }
        };
        let for_loading = config.clone();
        let loaded = load_in_background(for_loading).await;
        let Ok((snapshot, report, tile_cache)) = loaded else {
            return ReloadOutcome {
                applied: false,
                data_version: current_version,
                errors: 1,
                warnings: 0,
                report: "the loader stopped unexpectedly".into(),
                needs_restart: Vec::new(),
            };
        };
        for line in report.lines() {
            tracing::warn!("{line}");
        }
        let errors = report.error_count();
        let warnings = report.warning_count();
        if !report.is_ok() {
            tracing::error!("reload refused: {errors} error(s); still serving the previous data");
            return ReloadOutcome {
                applied: false,
                data_version: current_version,
                errors,
                warnings,
                report: report.to_string(),
                needs_restart: Vec::new(),
            };
        }
        let needs_restart = restart_only_changes(&running, &config);
        for setting in &needs_restart {
            tracing::warn!("server.{setting} changed; it takes effect after a restart");
        }
        let version = format!("{:016x}", snapshot.version);
        // Prepared whenever the report is clean, which it is here.
        let settings = Settings::from_config(&config);
        let tile_cache =
            tile_cache.unwrap_or_else(|| AppState::tile_cache_for(&snapshot, &settings));
        state.install_prepared(snapshot, settings, tile_cache);
        tracing::info!("reloaded: data version {version}");
        *running = config;
        ReloadOutcome {
            applied: true,
            data_version: version,
            errors,
            warnings,
            report: report.to_string(),
            needs_restart,
        }
    }
}

/// Loads a config's data, and prepares its tiles when it loaded cleanly, on a thread of
/// lowered priority ([`reload_priority`]): below the requests, above the background pool
/// of heavy requests, so that a reload finishes under load.
async fn load_in_background(
    config: Config,
) -> Result<
    (
        crate::model::Snapshot,
        crate::data::LoadReport,
        Option<crate::tiles::TileCache>,
    ),
    (),
> {
    let (done, result) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("dtmap-reload".into())
        .spawn(move || {
            let _ = thread_priority::set_current_thread_priority(reload_priority());
            let _returning = crate::background::ReturnFreedMemory::start();
            let (snapshot, report) = crate::data::load(&config);
            let tile_cache = report
                .is_ok()
                .then(|| AppState::tile_cache_for(&snapshot, &Settings::from_config(&config)));
            let _ = done.send((snapshot, report, tile_cache));
        });
    if spawned.is_err() {
        return Err(());
    }
    result.await.map_err(|_| ())
}

/// The priority of a reload's threads: nice 10 on Linux (a tenth of a request thread's
/// share of a busy core). At the lowest (nice 19, as the background pool of heavy
/// requests) a reload got under 1 % of the CPU while requests kept both cores busy, and
/// took minutes.
fn reload_priority() -> thread_priority::ThreadPriority {
    match thread_priority::ThreadPriorityValue::try_from(24u8) {
        Ok(value) => thread_priority::ThreadPriority::Crossplatform(value),
        Err(_) => thread_priority::ThreadPriority::Min,
    }
}

/// A [`FileReloader`] shared by every trigger.
#[derive(Clone)]
struct Shared(Arc<FileReloader>);

impl Reloader for Shared {
    fn reload(
        &self,
        state: Arc<AppState>,
    ) -> Pin<Box<dyn Future<Output = ReloadOutcome> + Send + 'static>> {
        let reloader = self.0.clone();
        Box::pin(async move { reloader.run(state).await })
    }
}

/// Settings of `[server]` that a reload cannot change, named when they differ.
fn restart_only_changes(old: &Config, new: &Config) -> Vec<String> {
    let (a, b) = (&old.server, &new.server);
    let mut changed = Vec::new();
    let mut check = |name: &str, same: bool| {
        if !same {
            changed.push(name.to_string());
        }
    };
    check("bind", a.bind == b.bind);
    check("max_connections", a.max_connections == b.max_connections);
    check(
        "header_read_timeout_secs",
        a.header_read_timeout_secs == b.header_read_timeout_secs,
    );
    check(
        "shutdown_timeout_secs",
        a.shutdown_timeout_secs == b.shutdown_timeout_secs,
    );
    check("compute_threads", a.compute_threads == b.compute_threads);
    check("compute_queue", a.compute_queue == b.compute_queue);
    check(
        "request_timeout_secs",
        a.request_timeout_secs == b.request_timeout_secs,
    );
    check("watch", a.watch == b.watch);
    changed
}

/// Installs `reloader` on `state`, then reloads on SIGHUP and, when the config asks,
/// whenever a watched file changes (debounced: after the files stop changing).
pub async fn serve_reloads(state: Arc<AppState>, reloader: FileReloader, watch: bool) {
    let reloader = Arc::new(reloader);
    let _ = state.reloader.set(Arc::new(Shared(reloader.clone())));
    if watch {
        tokio::spawn(watch_files(state.clone(), reloader.clone()));
    }
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            return;
        };
        while hangups.recv().await.is_some() {
            reloader.run(state.clone()).await;
        }
    }
}

type Stamps = Vec<Option<(SystemTime, u64)>>;

fn stamps(files: &[PathBuf]) -> Stamps {
    files
        .iter()
        .map(|f| {
            std::fs::metadata(f)
                .ok()
                .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()))
        })
        .collect()
}

/// Looks at the watched files every [`crate::config::WATCH_INTERVAL_SECS`]; a change
/// reloads once two looks in a row agree (so a file still being written is not read).
async fn watch_files(state: Arc<AppState>, reloader: Arc<FileReloader>) {
    let interval = Duration::from_secs(crate::config::WATCH_INTERVAL_SECS);
    let files = |r: &FileReloader| {
        let config = r.running.try_lock().map(|c| c.clone()).ok();
        config.map(|c| r.watched_files(&c)).unwrap_or_default()
    };
    let mut watched = files(&reloader);
    let mut last = stamps(&watched);
    loop {
        tokio::time::sleep(interval).await;
        let now = stamps(&watched);
        if now == last {
            continue;
        }
        // Changed: wait until it settles.
        let mut settled = now;
        loop {
            tokio::time::sleep(interval).await;
            let again = stamps(&watched);
            if again == settled {
                break;
            }
            settled = again;
        }
        tracing::info!("watched files changed; reloading");
        reloader.run(state.clone()).await;
        watched = files(&reloader);
        last = stamps(&watched);
    }
}

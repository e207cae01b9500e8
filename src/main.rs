//! The `dtmap` command: `serve` (the default), `check`, `export`, `round` (publish rounds
//! from the command line) and `admin` (helpers of the admin area).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dtmap::api::{AppState, Settings};
use dtmap::config::Config;
use dtmap::reload::FileReloader;
use dtmap::server::ConnectionLimits;

/// mimalloc: loading a large dataset makes and frees millions of small values, and glibc's
/// allocator keeps the freed memory resident (a 1 M site load left twice its data in RSS).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its position in `mi_option_t`, the same in mimalloc
/// 2 and 3; the bindings name no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc's purge delay: how long freed pages stay resident for reuse (ms; 0: none).
fn purge_delay() -> std::os::raw::c_long {
    // SAFETY: reads one of mimalloc's integer options, which mimalloc reads atomically.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY)
    }
}

fn set_purge_delay(ms: std::os::raw::c_long) {
    // SAFETY: sets one of mimalloc's integer options; any value is valid for it.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, ms);
    }
}

/// mimalloc's purge delay while serving, as it was at start.
static SERVING_PURGE_DELAY: std::sync::OnceLock<std::os::raw::c_long> = std::sync::OnceLock::new();

/// Freed pages go back to the system at once (`true`: also every page already freed and
/// waiting for its delay) or after mimalloc's delay. At once while a reload loads, once
/// the start-up load is done, and while old data is freed: a load frees most of what it
/// builds on threads that then end or go idle, where a delayed purge may never come (1 M
/// sites: 0.50 GB resident after start-up, and at times 0.65-0.69 GB without; after a
/// reload 1.12 GB, and 0.67 GB purging only once it has loaded). Not during the start-up
/// load, which reuses what it frees and which nothing is served beside: purged at once,
/// its pages were faulted in and zeroed again (1 M sites: 0.2-0.5 s more system CPU).
/// Serving keeps the delay: purging at once there made every large answer fault its pages
/// in (a z0 tile 1.2 -> 2.6 ms).
fn return_freed_memory_at_once(at_once: bool) {
    let serving = *SERVING_PURGE_DELAY.get_or_init(purge_delay);
    set_purge_delay(if at_once { 0 } else { serving });
    if at_once {
        return_this_threads_freed_memory();
    }
}

/// Returns the pages this thread has freed (and every page freed and waiting for the
/// purge delay) to the system now.
fn return_this_threads_freed_memory() {
    // SAFETY: asks mimalloc to purge what is freed; callable from any thread.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}

/// A map tile and query server for humanitarian displacement data.
///
/// With no config file, serves the built-in Iraq dataset.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Config file (TOML) declaring the layers and count tables.
    #[arg(short, long, env = "DTMAP_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Address to listen on (overrides the config file).
    #[arg(long, env = "DTMAP_BIND", global = true)]
    bind: Option<String>,
    /// Public base URL for links, when behind a reverse proxy.
    #[arg(long, env = "DTMAP_PUBLIC_URL", global = true)]
    public_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the map, the features and the queries (the default).
    Serve,
    /// Load the data, print the load report, exit non-zero on errors.
    Check {
        /// Config file to check (default: --config, or the built-in one).
        #[arg(value_name = "CONFIG")]
        file: Option<PathBuf>,
    },
    /// Write the map as static files: every layer's tiles for one round as one PMTiles
    /// archive (map.pmtiles), with style.json, tilejson.json, the glyphs (fonts/) and a
    /// viewer page (index.html).
    Export {
        /// Folder to write into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Round id (default: the latest).
        #[arg(long)]
        round: Option<String>,
        /// Shallowest zoom.
        #[arg(long, default_value_t = 0)]
        min_zoom: u8,
        /// Deepest zoom (at most 14).
        #[arg(long, default_value_t = 10)]
        max_zoom: u8,
        /// URL the folder will be published at (the style's URLs are relative without it).
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
    },
    /// Add, publish and roll back rounds in the data directory (`[admin] data_dir` or
    /// DTMAP_DATA_DIR), as the admin page does. A running server serves a change after
    /// SIGHUP or `POST /admin/reload` (or by itself with `server.watch`).
    Round {
        #[command(subcommand)]
        action: RoundCommand,
        /// Name written in the audit log (default: $USER).
        #[arg(long, env = "USER", default_value = "cli", global = true)]
        user: String,
    },
    /// Helpers of the admin area.
    Admin {
        #[command(subcommand)]
        action: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
enum RoundCommand {
    /// Upload a master list (XLSX or CSV) of a new round as a draft: prints its load
    /// report and its diff against the latest round; exits non-zero when it has errors.
    Add {
        /// The master list: the layer's id column and its count columns, and optionally
        /// the area column (named like the layer's group_by).
        file: PathBuf,
        /// Round id, e.g. 2020-01-31 or 113.
        #[arg(long)]
        round: String,
        /// Label of the round, e.g. "Round 113".
        #[arg(long)]
        label: Option<String>,
        /// Date of the figures (YYYY-MM-DD).
        #[arg(long)]
        date: Option<String>,
        /// Source of the figures.
        #[arg(long)]
        source: Option<String>,
        /// The figures are illustrative (synthetic).
        #[arg(long)]
        illustrative: bool,
        /// Skip rows in error with a warning instead of refusing the list.
        #[arg(long)]
        skip_bad_rows: bool,
    },
    /// Publish a draft as a new version and make it current.
    Publish {
        /// Draft id, as `round add` or `round list` printed it.
        draft: String,
    },
    /// Make an earlier version current again.
    Rollback {
        /// Version number, as `round list` printed it.
        version: u64,
    },
    /// Throw a draft away.
    Discard {
        /// Draft id.
        draft: String,
    },
    /// List the published versions and the drafts.
    List,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Read a password from standard input (its first line) and print an argon2 hash of it
    /// for `[[admin.user]] password_hash`.
    HashPassword,
}

/// Turns transparent huge pages off for this process, unless `MIMALLOC_ALLOW_THP` is set
/// (mimalloc then follows it). Where the system makes every large allocation a huge page,
/// each first touch zeroes 2 MB and a purge splits one: loading 1 M sites spent 2.6-4.1 s
/// of system CPU on it, 1.2-1.4 s without (start-up 7.2-8.7 -> 5.4-6.6 s, 3 runs each),
/// resident memory once the tiles were prepared was 0.48-0.49 GB against 0.42-0.43 GB,
/// and tiles at 64 connections were no slower.
fn without_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: prctl(PR_SET_THP_DISABLE) takes integers only and touches no memory of
        // ours; on failure (an old kernel) nothing changes.
        #[allow(unsafe_code)]
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
}

fn main() -> ExitCode {
    without_transparent_huge_pages();
    // With `MIMALLOC_PURGE_DELAY` set, mimalloc follows it throughout.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        SERVING_PURGE_DELAY.get_or_init(purge_delay);
        dtmap::background::on_return_freed_memory(return_freed_memory_at_once);
        dtmap::background::on_idle(return_this_threads_freed_memory);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DTMAP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let config_path = match &cli.command {
        Some(Command::Check { file: Some(path) }) => Some(path.clone()),
        _ => cli.config.clone(),
    };
    let mut config = match read_config(config_path.as_ref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let overrides = Overrides {
        bind: cli.bind.clone(),
        public_url: cli.public_url.clone(),
    };
    config.apply_env();
    overrides.apply(&mut config);
    // check and export see what is served: the published version, when there is one.
    let served = || match dtmap::publish::served_config(config.clone()) {
        Ok(served) => Some(served),
        Err(e) => {
            eprintln!("cannot read the published version: {e}");
            None
        }
    };
    match cli.command {
        Some(Command::Check { .. }) => match served() {
            Some(served) => check(&served),
            None => ExitCode::from(2),
        },
        Some(Command::Export {
            out,
            round,
            min_zoom,
            max_zoom,
            base_url,
        }) => export(
            &match served() {
                Some(served) => served,
                None => return ExitCode::from(2),
            },
            &dtmap::export::ExportOptions {
                round,
                min_zoom,
                max_zoom,
                out,
                base_url: base_url.map(|u| if u.ends_with('/') { u } else { format!("{u}/") }),
            },
        ),
        Some(Command::Round { action, user }) => round(action, &user, config, config_path),
        Some(Command::Admin {
            action: AdminCommand::HashPassword,
        }) => hash_password(),
        None | Some(Command::Serve) => serve(config, config_path, overrides),
    }
}

fn round(action: RoundCommand, user: &str, config: Config, path: Option<PathBuf>) -> ExitCode {
    use dtmap::publish::cli;
    let context = match cli::Context::new(config, path.as_deref()) {
        Ok(context) => context,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let done = match action {
        RoundCommand::Add {
            file,
            round,
            label,
            date,
            source,
            illustrative,
            skip_bad_rows,
        } => context.add(
            &file,
            dtmap::api::rounds::Upload {
                round,
                label,
                date,
                source,
                illustrative,
                skip_bad_rows,
                ..Default::default()
            },
            user,
        ),
        RoundCommand::Publish { draft } => context.publish(&draft, user),
        RoundCommand::Rollback { version } => context.rollback(version, user),
        RoundCommand::Discard { draft } => context.discard(&draft, user),
        RoundCommand::List => context.list(),
    };
    match done {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn hash_password() -> ExitCode {
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line).is_err()
        || line.trim_end_matches(['\r', '\n']).is_empty()
    {
        eprintln!("give the password on standard input, e.g. `dtmap admin hash-password < file`");
        return ExitCode::from(2);
    }
    match dtmap::api::auth::hash_password(line.trim_end_matches(['\r', '\n'])) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot hash: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What the command line sets over any config file, on start and on every reload.
#[derive(Debug, Clone)]
struct Overrides {
    bind: Option<String>,
    public_url: Option<String>,
}

impl Overrides {
    fn apply(&self, config: &mut Config) {
        if let Some(bind) = &self.bind {
            config.server.bind = bind.clone();
        }
        if let Some(url) = &self.public_url {
            config.server.public_url = Some(url.clone());
        }
    }
}

fn read_config(path: Option<&PathBuf>) -> Result<Config, dtmap::config::ConfigError> {
    match path {
        Some(path) => Config::from_file(path),
        None => Ok(Config::builtin()),
    }
}

fn check(config: &Config) -> ExitCode {
    let (snapshot, report) = dtmap::data::load(config);
    println!("{report}");
    for layer in &snapshot.layers {
        let noun = match layer.kind {
            dtmap::model::GeometryKind::Point => "sites",
            dtmap::model::GeometryKind::Polygon => "areas",
            _ => "places",
        };
        println!(
            "layer {}: {} {noun}, {} rounds, counts: {}",
            layer.id,
            layer.features.len(),
            layer.rounds.len(),
            layer.count_columns.join(", ")
        );
    }
    if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn export(config: &Config, options: &dtmap::export::ExportOptions) -> ExitCode {
    let (snapshot, report) = dtmap::data::load(config);
    if !report.is_ok() {
        println!("{report}");
        eprintln!("refusing to export: the data has errors");
        return ExitCode::FAILURE;
    }
    match dtmap::export::export(&snapshot, &config.tiles.options(), options) {
        Ok(summary) => {
            println!(
                "wrote {} tiles ({} bytes) to {}",
                summary.tiles,
                summary.bytes,
                options.out.join(dtmap::export::ARCHIVE).display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("export failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Loads the data, prepares the tiles in the background and serves; from the end of the
/// load until the tiles are prepared, freed memory goes back to the system at once.
fn serve(base: Config, config_path: Option<PathBuf>, overrides: Overrides) -> ExitCode {
    // The data of the published version, when rounds were published.
    let config = match dtmap::publish::served_config(base.clone()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("cannot read the published version: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (snapshot, report) = dtmap::data::load(&config);
    let loaded = dtmap::background::ReturnFreedMemory::start();
    for line in report.lines() {
        tracing::warn!("{line}");
    }
    if !report.is_ok() {
        eprintln!(
            "refusing to serve: {} error(s) in the data (run `dtmap check` for the report)",
            report.error_count()
        );
        return ExitCode::FAILURE;
    }
    let open_files = dtmap::server::raise_open_files_limit();
    let limits = ConnectionLimits::from_config(&config, open_files);
    let settings = Settings::from_config(&config);
    let state = AppState::new(snapshot, settings);
    // Tile geometry prepared in the background from the start rather than by the first
    // tile request, which waits for it; every other request is answered meanwhile.
    let served = state.served();
    let prepare = std::thread::Builder::new()
        .name("dtmap-prepare-tiles".into())
        .spawn(move || {
            let prepared = served.tile_cache.prepared(&served.snapshot);
            tracing::info!("tiles prepared");
            prepared.make_outlines_ahead(&served.snapshot);
            tracing::debug!(
                "outlines made for zooms 0 to {}",
                dtmap::tiles::prepare::OUTLINES_AHEAD
            );
            dtmap::tiles::render::render_low_zooms(&prepared.layers, &served.snapshot.layers);
            tracing::debug!("tiles of zooms 0 to 4 made");
            drop(loaded);
        });
    if let Err(e) = prepare {
        tracing::warn!("cannot prepare the tiles in the background ({e}); tiles prepare them");
    }
    if let (Some(dir), true) = (base.data_dir(), base.admin_enabled()) {
        let path = config_path.clone();
        let flags = overrides.clone();
        let read_base: dtmap::publish::server::ReadBase = std::sync::Arc::new(move || {
            let mut config = read_config(path.as_ref()).map_err(|e| e.to_string())?;
            config.apply_env();
            flags.apply(&mut config);
            let text = dtmap::publish::base_text(path.as_deref())?;
            Ok(dtmap::publish::ops::Base { config, text })
        });
        match dtmap::publish::server::Publisher::new(dir.clone(), read_base) {
            Ok(publisher) => {
                let _ = state.rounds.set(dtmap::publish::server::shared(publisher));
                tracing::info!("rounds are published in {}", dir.display());
            }
            Err(e) => {
                eprintln!("cannot use the data directory {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(&config.server.bind).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("cannot listen on {}: {e}", config.server.bind);
                return ExitCode::FAILURE;
            }
        };
        let address = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| config.server.bind.clone());
        tracing::info!(
            "at most {} connections (open-files limit {:?})",
            limits.max_connections,
            open_files
        );
        tracing::info!("serving on http://{address}/");
        let watch = config.server.watch;
        let reloader = FileReloader::new(config_path, config, move |c| overrides.apply(c));
        tokio::spawn(dtmap::reload::serve_reloads(state.clone(), reloader, watch));
        match dtmap::server::run(listener, state, limits, shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("server error: {e}");
                ExitCode::FAILURE
            }
        }
    });
    // Work abandoned at its deadline may still be stopping; do not wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    code
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

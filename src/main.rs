//! The `dtmap` command: `serve` (the default) and `check`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dtmap::api::{AppState, Settings};
use dtmap::config::Config;
use dtmap::reload::FileReloader;
use dtmap::server::ConnectionLimits;

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
}

fn main() -> ExitCode {
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
    match cli.command {
        Some(Command::Check { .. }) => check(&config),
        Some(Command::Export {
            out,
            round,
            min_zoom,
            max_zoom,
            base_url,
        }) => export(
            &config,
            &dtmap::export::ExportOptions {
                round,
                min_zoom,
                max_zoom,
                out,
                base_url: base_url.map(|u| if u.ends_with('/') { u } else { format!("{u}/") }),
            },
        ),
        None | Some(Command::Serve) => serve(config, config_path, overrides),
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

fn serve(config: Config, config_path: Option<PathBuf>, overrides: Overrides) -> ExitCode {
    let (snapshot, report) = dtmap::data::load(&config);
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
    // Tile geometry prepared before the first request rather than by it.
    let served = state.served();
    served.tile_cache.prepared(&served.snapshot);
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

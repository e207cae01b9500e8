//! `dtmap round …`: the admin page's operations from the command line, on the same data
//! directory with the same code. The command works on files only: a running server serves
//! the change after SIGHUP or `POST /admin/reload` (or by itself with `server.watch`,
//! which watches the data directory's `current` pointer).

use std::path::Path;

use serde_json::Value;

use super::ops::{self, Base};
use super::{draft, Store};
use crate::api::rounds::{RoundsError, Upload};
use crate::config::Config;

/// The config in force and its data directory.
pub struct Context {
    base: Base,
    store: Store,
}

const RUNNING: &str = "a running server serves it after SIGHUP or POST /admin/reload \
                       (or by itself with server.watch)";

impl Context {
    /// The context of `config` (read from `path`, or the built-in one).
    pub fn new(config: Config, path: Option<&Path>) -> Result<Context, String> {
        let dir = config
            .data_dir()
            .ok_or("no data directory: set [admin] data_dir in the config, or DTMAP_DATA_DIR")?;
        let store = Store::open(dir.clone())
            .map_err(|e| format!("cannot use the data directory {}: {e}", dir.display()))?;
        let text = super::base_text(path)?;
        Ok(Context {
            base: Base { config, text },
            store,
        })
    }

    /// `round add`: makes a draft and prints it; false when it has errors.
    pub fn add(&self, file: &Path, mut upload: Upload, user: &str) -> Result<bool, String> {
        upload.bytes =
            std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        upload.file_name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "master-list.csv".into());
        let (current, version) = ops::current(&self.store, &self.base).map_err(text)?;
        let (before, report) = crate::data::load(&current);
        if !report.is_ok() {
            return Err(format!("the data served now has errors:\n{report}"));
        }
        let draft =
            draft::make(&self.store, &current, &before, version, upload, user).map_err(text)?;
        print_draft(&draft);
        Ok(draft["publishable"] == Value::Bool(true))
    }

    /// `round publish`.
    pub fn publish(&self, id: &str, user: &str) -> Result<bool, String> {
        let served = ops::publish(&self.store, &self.base, id, user).map_err(text)?;
        println!(
            "published version {} (data version {:016x}); {RUNNING}",
            served.manifest.number, served.snapshot.version
        );
        Ok(true)
    }

    /// `round rollback`.
    pub fn rollback(&self, number: u64, user: &str) -> Result<bool, String> {
        let served = ops::rollback(&self.store, &self.base, number, user).map_err(text)?;
        println!(
            "version {} is current again (data version {:016x}); {RUNNING}",
            served.manifest.number, served.snapshot.version
        );
        Ok(true)
    }

    /// `round discard`.
    pub fn discard(&self, id: &str, user: &str) -> Result<bool, String> {
        ops::discard(&self.store, id, user).map_err(text)?;
        println!("draft {id} discarded");
        Ok(true)
    }

    /// `round list`.
    pub fn list(&self) -> Result<bool, String> {
        let versions = ops::versions(&self.store);
        println!("versions (newest first):");
        for v in versions["versions"].as_array().into_iter().flatten() {
            let rounds: Vec<&str> = v["rounds"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["round"].as_str())
                .collect();
            println!(
                "  {}{} {} by {} ({}) rounds added: {} totals: {}",
                if v["current"] == Value::Bool(true) {
                    "*"
                } else {
                    " "
                },
                v["number"],
                v["createdAt"].as_str().unwrap_or(""),
                v["user"].as_str().unwrap_or(""),
                v["action"].as_str().unwrap_or(""),
                if rounds.is_empty() {
                    "none".into()
                } else {
                    rounds.join(", ")
                },
                v["totals"]["values"],
            );
        }
        println!("drafts:");
        for d in ops::drafts(&self.store)["drafts"]
            .as_array()
            .into_iter()
            .flatten()
        {
            println!(
                "   {} round {} from {} by {}: {} error(s), {} warning(s)",
                d["id"].as_str().unwrap_or(""),
                d["round"].as_str().unwrap_or(""),
                d["fileName"].as_str().unwrap_or(""),
                d["user"].as_str().unwrap_or(""),
                d["errors"],
                d["warnings"],
            );
        }
        Ok(true)
    }
}

fn text(e: RoundsError) -> String {
    e.to_string()
}

fn print_draft(draft: &Value) {
    println!("draft {}", draft["id"].as_str().unwrap_or(""));
    println!("{}", draft["report"]["text"].as_str().unwrap_or(""));
    let diff = &draft["diff"];
    if !diff.is_null() {
        println!(
            "round {} against {}: {} sites (before {}), {} added, {} gone, {} moved to another area",
            diff["round"].as_str().unwrap_or(""),
            diff["previousRound"].as_str().unwrap_or("nothing"),
            diff["sitesAfter"],
            diff["sitesBefore"],
            diff["addedCount"],
            diff["goneCount"],
            diff["moved"].as_array().map_or(0, Vec::len),
        );
        for (column, pair) in diff["national"].as_object().into_iter().flatten() {
            println!("  {column}: {} → {}", pair[0], pair[1]);
        }
    }
    if draft["publishable"] == Value::Bool(true) {
        println!(
            "publish it with: dtmap round publish {}",
            draft["id"].as_str().unwrap_or("")
        );
    } else {
        println!("it has errors and cannot be published");
    }
}

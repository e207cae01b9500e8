//! The operations on the data directory that change what is served — publish a draft,
//! roll back to a version — and the listings, shared by the server and the `dtmap round`
//! commands. Each change holds the directory's lock from start to end, so publishes and
//! rollbacks never interleave, and version numbers are handed out in order.

use std::path::Path;

use serde_json::{json, Value};

use super::draft::{round_files, totals};
use super::{effective_text, parse_effective, AddedRound, Manifest, Store};
use crate::api::rounds::RoundsError;
use crate::config::Config;
use crate::data::LoadReport;
use crate::model::Snapshot;

/// The config in force (file or built-in, with the environment and flags applied) and
/// its text.
#[derive(Debug, Clone)]
pub struct Base {
    /// The config.
    pub config: Config,
    /// Its text, kept verbatim as a version's `base.toml`.
    pub text: String,
}

/// What a publish or a rollback leaves served.
pub struct Served {
    /// The effective config.
    pub config: Config,
    /// Its data, loaded without errors.
    pub snapshot: Snapshot,
    /// The version.
    pub manifest: Manifest,
}

fn failed(e: impl std::fmt::Display) -> RoundsError {
    RoundsError::Failed(e.to_string())
}

/// The config served now and its version (none before the first publish).
pub fn current(store: &Store, base: &Base) -> Result<(Config, Option<u64>), RoundsError> {
    match store.current() {
        None => Ok((base.config.clone(), None)),
        Some(n) => {
            let path = store.version_dir(n).join("config.toml");
            let text = std::fs::read_to_string(&path).map_err(failed)?;
            let config = parse_effective(&text, &path.display().to_string(), &base.config)
                .map_err(failed)?;
            Ok((config, Some(n)))
        }
    }
}

fn refuse(report: &LoadReport) -> RoundsError {
    RoundsError::Conflict(format!(
        "the data would have {} error(s); nothing was changed:\n{report}",
        report.error_count()
    ))
}

/// Publishes draft `id`: a new version with every round of the version served plus the
/// draft's, loaded and checked, then made current. The draft is removed.
pub fn publish(store: &Store, base: &Base, id: &str, user: &str) -> Result<Served, RoundsError> {
    let draft = store
        .draft(id)
        .ok_or_else(|| RoundsError::NotFound(format!("no draft {id:?}")))?;
    if draft["publishable"] != json!(true) {
        return Err(RoundsError::Conflict(format!(
            "draft {id} has {} error(s) in its load report; correct the master list and \
             upload it again",
            draft["errors"]
        )));
    }
    let round: AddedRound = serde_json::from_value(draft["round"].clone()).map_err(failed)?;
    let _lock = store.lock().map_err(RoundsError::Failed)?;
    let served = store.current();
    let (mut rounds, base_text, mut files) =
        match served.and_then(|n| Some((n, store.manifest(n)?))) {
            Some((n, manifest)) => {
                let dir = store.version_dir(n);
                let text = std::fs::read_to_string(dir.join("base.toml")).map_err(failed)?;
                let files: Vec<_> = manifest
                    .rounds
                    .iter()
                    .flat_map(|r| round_files(&dir.join("files"), r))
                    .collect();
                (manifest.rounds, text, files)
            }
            None => (Vec::new(), base.text.clone(), Vec::new()),
        };
    if rounds.iter().any(|r| r.round == round.round) {
        return Err(RoundsError::Conflict(format!(
            "round {:?} is already published",
            round.round
        )));
    }
    if store.versions().is_empty() {
        // The data before the first publish, kept so that it can be rolled back to.
        let (snapshot, _) = crate::data::load(&base.config);
        let initial = Manifest {
            number: 1,
            created_at: super::now_rfc3339(),
            user: user.to_string(),
            action: "initial".into(),
            rounds: Vec::new(),
            data_version: format!("{:016x}", snapshot.version),
            totals: totals(&snapshot, None),
        };
        store
            .write_version(&initial, &base.text, &base.text, &[])
            .map_err(failed)?;
    }
    let number = store.versions().last().copied().unwrap_or(0) + 1;
    let draft_files = store
        .draft_dir(id)
        .ok_or_else(|| RoundsError::NotFound(format!("no draft {id:?}")))?
        .join("files");
    files.extend(round_files(&draft_files, &round));
    rounds.push(round.clone());
    let target = store.version_dir(number).join("files");
    let text = effective_text(&base_text, &rounds, &target).map_err(failed)?;
    let mut manifest = Manifest {
        number,
        created_at: super::now_rfc3339(),
        user: user.to_string(),
        action: "publish".into(),
        rounds,
        data_version: String::new(),
        totals: Value::Null,
    };
    let dir = store
        .write_version(&manifest, &base_text, &text, &files)
        .map_err(failed)?;
    let loaded = load_version(&dir, &text, base);
    let (config, snapshot) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            store.remove_unserved(number);
            return Err(e);
        }
    };
    manifest.data_version = format!("{:016x}", snapshot.version);
    manifest.totals = totals(&snapshot, None);
    let manifest_text = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    super::store::write_atomic(&dir.join("manifest.json"), &manifest_text).map_err(failed)?;
    store.set_current(number).map_err(failed)?;
    if let Some(dir) = store.draft_dir(id) {
        let _ = std::fs::remove_dir_all(dir);
    }
    store.audit(
        "publish",
        user,
        json!({ "draft": id, "version": number, "round": round.round, "dataVersion": manifest.data_version, "totals": manifest.totals }),
    );
    Ok(Served {
        config,
        snapshot,
        manifest,
    })
}

fn load_version(dir: &Path, text: &str, base: &Base) -> Result<(Config, Snapshot), RoundsError> {
    let origin = dir.join("config.toml").display().to_string();
    let config = parse_effective(text, &origin, &base.config).map_err(failed)?;
    let (snapshot, report) = crate::data::load(&config);
    if !report.is_ok() {
        return Err(refuse(&report));
    }
    Ok((config, snapshot))
}

/// Makes version `number` current again, after loading it without errors.
pub fn rollback(
    store: &Store,
    base: &Base,
    number: u64,
    user: &str,
) -> Result<Served, RoundsError> {
    let _lock = store.lock().map_err(RoundsError::Failed)?;
    let manifest = store
        .manifest(number)
        .ok_or_else(|| RoundsError::NotFound(format!("no version {number}")))?;
    let dir = store.version_dir(number);
    let text = std::fs::read_to_string(dir.join("config.toml")).map_err(failed)?;
    let from = store.current();
    let (config, snapshot) = load_version(&dir, &text, base)?;
    store.set_current(number).map_err(failed)?;
    store.audit(
        "rollback",
        user,
        json!({ "from": from, "version": number, "dataVersion": format!("{:016x}", snapshot.version) }),
    );
    Ok(Served {
        config,
        snapshot,
        manifest,
    })
}

/// Removes a draft.
pub fn discard(store: &Store, id: &str, user: &str) -> Result<Value, RoundsError> {
    let dir = store
        .draft_dir(id)
        .filter(|d| d.join("draft.json").is_file())
        .ok_or_else(|| RoundsError::NotFound(format!("no draft {id:?}")))?;
    std::fs::remove_dir_all(dir).map_err(failed)?;
    store.audit("discard", user, json!({ "draft": id }));
    Ok(json!({ "discarded": id }))
}

/// Every version, newest first, with the one served marked.
pub fn versions(store: &Store) -> Value {
    let current = store.current();
    let list: Vec<Value> = store
        .versions()
        .into_iter()
        .rev()
        .filter_map(|n| store.manifest(n))
        .map(|m| {
            json!({
                "number": m.number,
                "createdAt": m.created_at,
                "user": m.user,
                "action": m.action,
                "rounds": m.rounds.iter().map(|r| json!({ "round": r.round, "label": r.label, "date": r.date, "uploadedBy": r.uploaded_by, "fileName": r.file_name })).collect::<Vec<_>>(),
                "dataVersion": m.data_version,
                "totals": m.totals,
                "current": Some(m.number) == current,
            })
        })
        .collect();
    json!({ "current": current, "versions": list })
}

/// The drafts waiting, newest first, without their reports.
pub fn drafts(store: &Store) -> Value {
    let list: Vec<Value> = store
        .drafts()
        .into_iter()
        .map(|d| {
            json!({
                "id": d["id"], "createdAt": d["createdAt"], "user": d["user"],
                "round": d["round"]["round"], "label": d["round"]["label"],
                "fileName": d["round"]["fileName"], "publishable": d["publishable"],
                "errors": d["errors"], "warnings": d["warnings"],
            })
        })
        .collect();
    json!({ "drafts": list })
}

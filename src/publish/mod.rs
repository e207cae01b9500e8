//! Publishing rounds: the data directory of drafts, immutable published versions and the
//! audit log, and the operations on it — upload a master list as a draft, publish it,
//! roll back to an earlier version — shared by the admin routes ([`server`]) and the
//! `dtmap round` commands.
//!
//! ```text
//! data_dir/
//!   current                 the number of the version served (replaced atomically)
//!   audit.log               JSON lines, appended
//!   lock                    held (with the holder's pid) while a publish or rollback runs
//!   drafts/{id}/draft.json  the draft: round, load report, diff (written last)
//!   drafts/{id}/preview.geojson
//!   drafts/{id}/files/{round}/…   the uploaded master list and the area sums made from it
//!   versions/{n}/base.toml  the config the first round was added to (verbatim)
//!   versions/{n}/config.toml      the effective config: base.toml plus every added round
//!   versions/{n}/manifest.json    who, when, the rounds, the totals, the data version
//!   versions/{n}/files/{round}/…  every added round's files
//! ```
//!
//! A version is written in a temporary folder and renamed into place; `current` is
//! switched after it is complete and loads without errors, so a crash at any point leaves
//! either the old version or the new one served, never a mix. A version's config freezes
//! the data (layers, dashboard, languages, tiles); `[server]` and `[admin]` always come
//! from the config file in force.

pub mod audit;
pub mod cli;
pub mod diff;
pub mod draft;
pub mod ops;
pub mod server;
mod store;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{Config, CountColumnConfig, CountTableConfig};
pub use store::{Lock, Store};

/// A count table a round added to a layer, as a version records it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AddedTable {
    /// The layer it gives figures to.
    pub layer: String,
    /// File name inside the round's folder.
    pub file: String,
    /// Column holding the feature id.
    pub key: String,
    /// Count columns (same header in the file as in the API).
    pub columns: Vec<String>,
    /// Whether every figure is illustrative.
    pub synthetic: bool,
    /// Source of the figures.
    pub source: Option<String>,
    /// Whether rows in error were skipped with a warning.
    pub skip_bad_rows: bool,
}

/// One round added by an upload.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AddedRound {
    /// Round id.
    pub round: String,
    /// Round label.
    pub label: Option<String>,
    /// Date of the figures.
    pub date: Option<String>,
    /// Source of the figures.
    pub source: Option<String>,
    /// Whether the figures are illustrative.
    pub illustrative: bool,
    /// The uploaded file's name, as sent.
    pub file_name: String,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When (RFC 3339, UTC).
    pub uploaded_at: String,
    /// The count tables: the master list, and the area sums made from it.
    pub tables: Vec<AddedTable>,
}

/// What a published version records about itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Version number (1, 2, …).
    pub number: u64,
    /// When it was published.
    pub created_at: String,
    /// Who published it.
    pub user: String,
    /// `initial` (the data before the first publish) or `publish`.
    pub action: String,
    /// Every round added since the base config, oldest first.
    pub rounds: Vec<AddedRound>,
    /// The data version it serves (hex).
    pub data_version: String,
    /// Totals of the latest round: `{round, layer, values: {column: total}}`.
    pub totals: serde_json::Value,
}

/// The count table `table` of a round whose files are in `dir`.
pub fn table_config(table: &AddedTable, round: &AddedRound, dir: &Path) -> CountTableConfig {
    CountTableConfig {
        path: dir.join(&table.file).to_string_lossy().into_owned(),
        sheet: None,
        encoding: None,
        key: table.key.clone(),
        round: None,
        round_id: Some(round.round.clone()),
        round_label: None,
        label: round.label.clone(),
        columns: table
            .columns
            .iter()
            .map(|c| CountColumnConfig::Same(c.clone()))
            .collect(),
        synthetic_column: None,
        synthetic: table.synthetic,
        source_column: None,
        source: table.source.clone(),
        skip_bad_rows: table.skip_bad_rows,
    }
}

/// `config` with the tables of `round` (files in `dir`) added to their layers.
pub fn with_round(mut config: Config, round: &AddedRound, dir: &Path) -> Config {
    for table in &round.tables {
        if let Some(layer) = config.layers.iter_mut().find(|l| l.id == table.layer) {
            layer.counts.push(table_config(table, round, dir));
        }
    }
    config
}

/// The folder of a round's files below a `files/` folder.
pub fn round_dir(files: &Path, round: &str) -> PathBuf {
    files.join(round)
}

/// The effective config text: `base_text` with the tables of every round (files below
/// `files`) appended to their layers' `[[layer.counts]]`.
pub fn effective_text(
    base_text: &str,
    rounds: &[AddedRound],
    files: &Path,
) -> Result<String, String> {
    let mut doc: toml::Table = toml::from_str(base_text).map_err(|e| e.to_string())?;
    if rounds.is_empty() {
        return Ok(base_text.to_string());
    }
    let layers = doc
        .get_mut("layer")
        .and_then(|l| l.as_array_mut())
        .ok_or("the config has no [[layer]]")?;
    for round in rounds {
        for table in &round.tables {
            let t = table_config(table, round, &round_dir(files, &round.round));
            let layer = layers
                .iter_mut()
                .filter_map(|l| l.as_table_mut())
                .find(|l| l.get("id").and_then(|v| v.as_str()) == Some(table.layer.as_str()))
                .ok_or_else(|| format!("the config has no layer {:?}", table.layer))?;
            let mut entry = toml::Table::new();
            entry.insert("path".into(), t.path.into());
            entry.insert("key".into(), t.key.into());
            entry.insert("round_id".into(), round.round.clone().into());
            if let Some(label) = &round.label {
                entry.insert("label".into(), label.clone().into());
            }
            entry.insert(
                "columns".into(),
                toml::Value::Array(table.columns.iter().map(|c| c.clone().into()).collect()),
            );
            entry.insert("synthetic".into(), t.synthetic.into());
            if let Some(source) = t.source {
                entry.insert("source".into(), source.into());
            }
            entry.insert("skip_bad_rows".into(), t.skip_bad_rows.into());
            let counts = layer
                .entry("counts")
                .or_insert_with(|| toml::Value::Array(Vec::new()));
            if let Some(counts) = counts.as_array_mut() {
                counts.push(toml::Value::Table(entry));
            }
        }
    }
    Ok(format!(
        "# The effective config of a published version: the base config and every round\n\
         # added since. Written by dtmap; [server] and [admin] come from the config in force.\n{}",
        toml::to_string(&doc).map_err(|e| e.to_string())?
    ))
}

/// Parses an effective config: its data from `text`, its `[server]` and `[admin]` and its
/// file root from `base` (the config in force).
pub fn parse_effective(text: &str, origin: &str, base: &Config) -> Result<Config, String> {
    let mut config =
        Config::from_toml_str(text, origin, base.base.clone()).map_err(|e| e.to_string())?;
    config.server = base.server.clone();
    config.admin = base.admin.clone();
    Ok(config)
}

/// The config to serve: the current published version's when `base` names a data
/// directory that has one, else `base` itself.
pub fn served_config(base: Config) -> Result<Config, String> {
    let Some(dir) = base.data_dir() else {
        return Ok(base);
    };
    let store = Store::new(dir);
    match store.current() {
        None => Ok(base),
        Some(n) => {
            let path = store.version_dir(n).join("config.toml");
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            parse_effective(&text, &path.display().to_string(), &base)
        }
    }
}

/// The text of the config in force: the file, or the built-in one.
pub fn base_text(path: Option<&Path>) -> Result<String, String> {
    match path {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config {}: {e}", path.display())),
        None => Ok(crate::builtin::BUILTIN_CONFIG.to_string()),
    }
}

/// Now, as RFC 3339 in UTC (`2026-01-31T12:00:00Z`).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// A round id, label or date is short printable text; ids also name folders.
pub fn valid_round_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_is_rfc3339() {
        let now = now_rfc3339();
        assert_eq!(now.len(), 20, "{now}");
        assert!(now.starts_with("20") && now.ends_with('Z'));
    }

    #[test]
    fn round_ids_cannot_leave_their_folder() {
        assert!(valid_round_id("2020-01-31"));
        assert!(valid_round_id("113"));
        for bad in ["", "..", "../x", "a/b", ".hidden", "a b"] {
            assert!(!valid_round_id(bad), "{bad}");
        }
    }

    #[test]
    fn the_effective_config_of_no_round_is_the_base_and_loads_as_it() {
        let base = Config::builtin();
        let text = effective_text(crate::builtin::BUILTIN_CONFIG, &[], Path::new("/x")).unwrap();
        let parsed = parse_effective(&text, "t", &base).unwrap();
        assert_eq!(parsed.fingerprint(), base.fingerprint());
    }

    #[test]
    fn an_added_round_lands_in_its_layer() {
        let round = AddedRound {
            round: "2020-01-31".into(),
            label: Some("Round 113".into()),
            date: None,
            source: None,
            illustrative: true,
            file_name: "m.csv".into(),
            uploaded_by: "amina".into(),
            uploaded_at: now_rfc3339(),
            tables: vec![AddedTable {
                layer: "sites".into(),
                file: "m.csv".into(),
                key: "site_id".into(),
                columns: vec!["idp_families".into()],
                synthetic: true,
                source: Some("DTM".into()),
                skip_bad_rows: false,
            }],
        };
        let base = Config::builtin();
        let text = effective_text(
            crate::builtin::BUILTIN_CONFIG,
            &[round],
            Path::new("/v/files"),
        )
        .unwrap();
        let parsed = parse_effective(&text, "t", &base).unwrap();
        let sites = parsed.layers.iter().find(|l| l.id == "sites").unwrap();
        let added = sites.counts.last().unwrap();
        assert_eq!(added.path, "/v/files/2020-01-31/m.csv");
        assert_eq!(added.round_id.as_deref(), Some("2020-01-31"));
        assert_eq!(added.label.as_deref(), Some("Round 113"));
        assert_eq!(sites.counts.len(), 2);
    }
}

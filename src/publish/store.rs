//! The data directory's files: the `current` pointer, the version and draft folders, the
//! lock, each written so that a crash leaves the old state or the new one. See the layout
//! in [`super`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Manifest;

/// How long a publish waits for another one (in this process or another) to finish.
pub const LOCK_WAIT: Duration = Duration::from_secs(120);

/// The data directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// The data directory's lock, released when dropped.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Store {
    /// The store at `dir` (nothing is read or written yet).
    pub fn new(dir: PathBuf) -> Store {
        Store { dir }
    }

    /// Creates the folders, and removes what a crash left half written (drafts without
    /// their `draft.json`, versions not renamed into place).
    pub fn open(dir: PathBuf) -> std::io::Result<Store> {
        let store = Store::new(dir);
        std::fs::create_dir_all(store.dir.join("versions"))?;
        std::fs::create_dir_all(store.dir.join("drafts"))?;
        for entry in std::fs::read_dir(store.dir.join("versions"))?.flatten() {
            if entry.file_name().to_string_lossy().starts_with(".tmp-") {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        for entry in std::fs::read_dir(store.dir.join("drafts"))?.flatten() {
            if !entry.path().join("draft.json").is_file() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        Ok(store)
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The audit log.
    pub fn audit_file(&self) -> PathBuf {
        self.dir.join("audit.log")
    }

    /// The `current` pointer, the file a running server's watcher looks at.
    pub fn current_file(&self) -> PathBuf {
        self.dir.join("current")
    }

    /// The folder of version `n`.
    pub fn version_dir(&self, n: u64) -> PathBuf {
        self.dir.join("versions").join(format!("{n:06}"))
    }

    /// The folder of a draft; none for an id that is not one dtmap makes.
    pub fn draft_dir(&self, id: &str) -> Option<PathBuf> {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        ok.then(|| self.dir.join("drafts").join(id))
    }

    /// The version served, when one was published.
    pub fn current(&self) -> Option<u64> {
        std::fs::read_to_string(self.current_file())
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Points `current` at version `n`: written beside and renamed over, so a reader sees
    /// the old number or the new one.
    pub fn set_current(&self, n: u64) -> std::io::Result<()> {
        let tmp = self.dir.join(".current.tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(format!("{n}\n").as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, self.current_file())?;
        sync_dir(&self.dir);
        Ok(())
    }

    /// The numbers of the published versions, ascending.
    pub fn versions(&self) -> Vec<u64> {
        let mut numbers: Vec<u64> = std::fs::read_dir(self.dir.join("versions"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        numbers.sort_unstable();
        numbers
    }

    /// Version `n`'s manifest.
    pub fn manifest(&self, n: u64) -> Option<Manifest> {
        let text = std::fs::read_to_string(self.version_dir(n).join("manifest.json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Writes version `manifest.number`: `files` copied to `files/` (pairs of path below
    /// `files/` and source), the texts, the manifest; in a temporary folder renamed into
    /// place at the end.
    pub fn write_version(
        &self,
        manifest: &Manifest,
        base_text: &str,
        config_text: &str,
        files: &[(PathBuf, PathBuf)],
    ) -> std::io::Result<PathBuf> {
        let final_dir = self.version_dir(manifest.number);
        let tmp = self
            .dir
            .join("versions")
            .join(format!(".tmp-{}", manifest.number));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(tmp.join("files"))?;
        for (below, source) in files {
            let target = tmp.join("files").join(below);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(source, &target)?;
        }
        write_synced(&tmp.join("base.toml"), base_text.as_bytes())?;
        write_synced(&tmp.join("config.toml"), config_text.as_bytes())?;
        let manifest_text = serde_json::to_vec_pretty(manifest).unwrap_or_default();
        write_synced(&tmp.join("manifest.json"), &manifest_text)?;
        std::fs::rename(&tmp, &final_dir)?;
        sync_dir(&self.dir.join("versions"));
        Ok(final_dir)
    }

    /// Removes a version that was written but never served (it did not load).
    pub fn remove_unserved(&self, n: u64) {
        if self.current() != Some(n) {
            let _ = std::fs::remove_dir_all(self.version_dir(n));
        }
    }

    /// Every draft's `draft.json`, newest first.
    pub fn drafts(&self) -> Vec<Value> {
        let mut drafts: Vec<Value> = std::fs::read_dir(self.dir.join("drafts"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path().join("draft.json")).ok())
            .filter_map(|t| serde_json::from_str(&t).ok())
            .collect();
        drafts.sort_by(|a: &Value, b: &Value| {
            b["createdAt"]
                .as_str()
                .cmp(&a["createdAt"].as_str())
                .then(b["id"].as_str().cmp(&a["id"].as_str()))
        });
        drafts
    }

    /// One draft's `draft.json`.
    pub fn draft(&self, id: &str) -> Option<Value> {
        let text = std::fs::read_to_string(self.draft_dir(id)?.join("draft.json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Takes the lock of the data directory, waiting up to [`LOCK_WAIT`] for its holder;
    /// a lock whose process is gone (a crash) is taken over.
    pub fn lock(&self) -> Result<Lock, String> {
        let path = self.dir.join("lock");
        let started = Instant::now();
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let _ = f.write_all(std::process::id().to_string().as_bytes());
                    let _ = f.sync_all();
                    return Ok(Lock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&path).unwrap_or_default();
                    let alive = holder
                        .trim()
                        .parse::<u32>()
                        .is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
                    if !alive && !holder.trim().is_empty() {
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
                    if started.elapsed() > LOCK_WAIT {
                        return Err(format!(
                            "another publish or rollback holds {} (process {})",
                            path.display(),
                            holder.trim()
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(format!("cannot lock {}: {e}", path.display())),
            }
        }
    }

    /// Appends to the audit log.
    pub fn audit(&self, action: &str, user: &str, details: Value) {
        super::audit::append(&self.audit_file(), action, user, details);
    }
}

/// Writes a file and flushes it to disk.
pub fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Writes a file beside `path` and renames it over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    write_synced(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent() {
        sync_dir(parent);
    }
    Ok(())
}

/// Flushes a folder's entries (a rename) to disk, where the platform can.
fn sync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

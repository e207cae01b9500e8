//! The running server's [`RoundStore`]: the operations of [`super::ops`] and
//! [`super::draft`] on the data directory, run off the async workers, with the result of a
//! publish or rollback swapped in whole (snapshot, settings and a tile cache prepared
//! before the swap) while the publish lock is still held, so that the order of the swaps
//! is the order of the versions.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{json, Value};

use super::ops::{self, Base, Served};
use super::{draft, Store};
use crate::api::rounds::{Pending, RoundStore, RoundsError, Upload};
use crate::api::{AppState, Settings};

/// Reads the config in force (the file or the built-in one, with the environment and the
/// command line's flags applied) and its text.
pub type ReadBase = Arc<dyn Fn() -> Result<Base, String> + Send + Sync>;

/// The server's data directory.
pub struct Publisher {
    store: Store,
    read_base: ReadBase,
    /// Held by every publish and rollback from start to swap.
    lock: tokio::sync::Mutex<()>,
}

impl Publisher {
    /// A publisher over the data directory `dir` (created if missing).
    pub fn new(dir: PathBuf, read_base: ReadBase) -> std::io::Result<Arc<Publisher>> {
        Ok(Arc::new(Publisher {
            store: Store::open(dir)?,
            read_base,
            lock: tokio::sync::Mutex::new(()),
        }))
    }

    /// The `current` pointer file, for the reload watcher.
    pub fn current_file(&self) -> PathBuf {
        self.store.current_file()
    }

    fn base(&self) -> Result<Base, RoundsError> {
        (self.read_base)().map_err(RoundsError::Failed)
    }

    /// Runs `work` on a blocking thread.
    fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Publisher) -> Result<T, RoundsError> + Send + 'static,
    ) -> Pending<T> {
        let me = self.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || work(&me))
                .await
                .map_err(|e| RoundsError::Failed(format!("stopped: {e}")))?
        })
    }

    /// Runs a change under the lock and swaps its result in before releasing it.
    fn change(
        self: &Arc<Self>,
        state: Arc<AppState>,
        work: impl FnOnce(&Publisher) -> Result<Served, RoundsError> + Send + 'static,
    ) -> Pending<Value> {
        let me = self.clone();
        Box::pin(async move {
            let _held = me.lock.lock().await;
            let _change = state.data_change.lock().await;
            let worker = me.clone();
            let (served, settings, tile_cache) = tokio::task::spawn_blocking(move || {
                let served = work(&worker)?;
                let settings = Settings::from_config(&served.config);
                let tile_cache = AppState::tile_cache_for(&served.snapshot, &settings);
                Ok::<_, RoundsError>((served, settings, tile_cache))
            })
            .await
            .map_err(|e| RoundsError::Failed(format!("stopped: {e}")))??;
            let answer = json!({
                "version": served.manifest.number,
                "dataVersion": format!("{:016x}", served.snapshot.version),
                "rounds": served.manifest.rounds.iter().map(|r| &r.round).collect::<Vec<_>>(),
                "totals": served.manifest.totals,
            });
            state.install_prepared(served.snapshot, settings, tile_cache);
            Ok(answer)
        })
    }
}

/// Wraps the publisher for the API.
pub fn shared(publisher: Arc<Publisher>) -> Arc<dyn RoundStore> {
    Arc::new(Handle(publisher))
}

struct Handle(Arc<Publisher>);

impl RoundStore for Handle {
    fn upload(&self, state: Arc<AppState>, upload: Upload, user: String) -> Pending<Value> {
        let me = self.0.clone();
        Box::pin(async move {
            // One upload or publish at a time: drafts are loaded against what is served.
            let _held = me.lock.lock().await;
            let before = state.current();
            me.blocking(move |p| {
                let base = p.base()?;
                let (current, version) = ops::current(&p.store, &base)?;
                draft::make(&p.store, &current, &before, version, upload, &user)
            })
            .await
        })
    }

    fn drafts(&self) -> Pending<Value> {
        self.0.blocking(|p| Ok(ops::drafts(&p.store)))
    }

    fn draft(&self, id: String) -> Pending<Value> {
        self.0.blocking(move |p| {
            p.store
                .draft(&id)
                .ok_or_else(|| RoundsError::NotFound(format!("no draft {id:?}")))
        })
    }

    fn preview(&self, id: String) -> Pending<Vec<u8>> {
        self.0.blocking(move |p| {
            p.store
                .draft_dir(&id)
                .and_then(|d| std::fs::read(d.join("preview.geojson")).ok())
                .ok_or_else(|| RoundsError::NotFound(format!("no draft {id:?}")))
        })
    }

    fn discard(&self, id: String, user: String) -> Pending<Value> {
        self.0.blocking(move |p| ops::discard(&p.store, &id, &user))
    }

    fn publish(&self, state: Arc<AppState>, id: String, user: String) -> Pending<Value> {
        self.0.change(state, move |p| {
            let base = p.base()?;
            ops::publish(&p.store, &base, &id, &user)
        })
    }

    fn versions(&self) -> Pending<Value> {
        self.0.blocking(|p| Ok(ops::versions(&p.store)))
    }

    fn rollback(&self, state: Arc<AppState>, number: u64, user: String) -> Pending<Value> {
        self.0.change(state, move |p| {
            let base = p.base()?;
            ops::rollback(&p.store, &base, number, &user)
        })
    }

    fn audit_tail(&self, lines: usize) -> Pending<Value> {
        self.0.blocking(move |p| {
            Ok(json!({ "lines": super::audit::tail(&p.store.audit_file(), lines) }))
        })
    }

    fn audit(&self, action: &str, user: &str, details: Value) {
        self.0.store.audit(action, user, details);
    }

    fn current_version(&self) -> Option<u64> {
        self.0.store.current()
    }
}

//! What tiles keep in memory between requests: the encoded bytes of hot tiles (an LRU
//! bounded in bytes) and the prepared geometry of the snapshot being served.
//!
//! Every reload brings a fresh cache whose geometry is prepared before it is swapped in
//! with its snapshot (at start-up it is prepared in the background, and the first tiles
//! wait for it rather than prepare it again); entries are keyed by the snapshot's data version all the same, so
//! nothing of another version is ever served. The bound is [`DEFAULT_TILE_CACHE_BYTES`], or
//! `DTMAP_TILE_CACHE_MB` megabytes from the environment (`0` turns the tile cache off, e.g.
//! to measure uncached tiles). Locks are held only to look up or insert, never while a tile
//! is made; two requests for the same cold tile may both make it, which is harmless.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;

use super::prepare::PreparedSnapshot;
use super::{TileId, TileOptions};
use crate::model::Snapshot;

/// Default bound of the encoded-tile cache.
pub const DEFAULT_TILE_CACHE_BYTES: usize = 64 * 1024 * 1024;
/// Environment variable overriding the bound, in megabytes.
pub const TILE_CACHE_ENV: &str = "DTMAP_TILE_CACHE_MB";

/// What identifies an encoded tile.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TileKey {
    /// Layer ids as requested, comma-separated.
    pub layers: String,
    /// The tile.
    pub tile: TileId,
    /// The round of each layer (`None` for layers without counts).
    pub rounds: Vec<Option<usize>>,
    /// [`Snapshot::version`].
    pub version: u64,
}

impl TileKey {
    fn weight(&self, bytes: &Bytes) -> usize {
        // The bytes, the key, and the bookkeeping of both maps.
        bytes.len() + self.layers.len() + self.rounds.len() * 16 + 128
    }
}

#[derive(Debug, Default)]
struct Lru {
    entries: HashMap<TileKey, (Bytes, u64)>,
    order: BTreeMap<u64, TileKey>,
    tick: u64,
    bytes: usize,
}

/// The tile caches of one server (held in [`crate::api::AppState`]).
#[derive(Debug)]
pub struct TileCache {
    max_bytes: usize,
    encoded: Mutex<Lru>,
    prepared: OnceLock<Arc<PreparedSnapshot>>,
    options: TileOptions,
}

impl Default for TileCache {
    /// The default options and bound, or the bound from `DTMAP_TILE_CACHE_MB`.
    fn default() -> Self {
        let max_bytes = std::env::var(TILE_CACHE_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .map(|mb| mb.saturating_mul(1024 * 1024))
            .unwrap_or(DEFAULT_TILE_CACHE_BYTES);
        TileCache::new(max_bytes, TileOptions::default())
    }
}

impl TileCache {
    /// A cache holding at most `max_bytes` of tiles (0: none), cutting with `options`.
    pub fn new(max_bytes: usize, options: TileOptions) -> TileCache {
        TileCache {
            max_bytes,
            encoded: Mutex::new(Lru::default()),
            prepared: OnceLock::new(),
            options,
        }
    }

    /// How tiles are cut.
    pub fn options(&self) -> &TileOptions {
        &self.options
    }

    /// The bound in bytes.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Bytes held now.
    pub fn used_bytes(&self) -> usize {
        self.encoded.lock().map(|lru| lru.bytes).unwrap_or(0)
    }

    /// A cached tile (an empty one for a tile with no features), marked as recently used.
    pub fn get(&self, key: &TileKey) -> Option<Bytes> {
        if self.max_bytes == 0 {
            return None;
        }
        let mut lru = self.encoded.lock().ok()?;
        let lru = &mut *lru;
        lru.tick += 1;
        let tick = lru.tick;
        let (bytes, last_used) = lru.entries.get_mut(key)?;
        let bytes = bytes.clone();
        let previous = std::mem::replace(last_used, tick);
        if let Some(key) = lru.order.remove(&previous) {
            lru.order.insert(tick, key);
        }
        Some(bytes)
    }

    /// Keeps a tile, evicting the least recently used ones beyond the bound. A tile larger
    /// than the whole bound is not kept.
    pub fn insert(&self, key: TileKey, bytes: Bytes) {
        let weight = key.weight(&bytes);
        if weight > self.max_bytes {
            return;
        }
        let Ok(mut lru) = self.encoded.lock() else {
            return;
        };
        let lru = &mut *lru;
        lru.tick += 1;
        let tick = lru.tick;
        if let Some((old, last_used)) = lru.entries.remove(&key) {
            lru.order.remove(&last_used);
            lru.bytes -= key.weight(&old);
        }
        while lru.bytes + weight > self.max_bytes {
            let Some((_, oldest)) = lru.order.pop_first() else {
                break;
            };
            if let Some((old, _)) = lru.entries.remove(&oldest) {
                lru.bytes -= oldest.weight(&old);
            }
        }
        lru.bytes += weight;
        lru.order.insert(tick, key.clone());
        lru.entries.insert(key, (bytes, tick));
    }

    /// The prepared geometry of `snapshot` if it is kept already, without waiting.
    pub fn prepared_if_ready(&self, snapshot: &Snapshot) -> Option<Arc<PreparedSnapshot>> {
        self.prepared
            .get()
            .filter(|kept| kept.version == snapshot.version)
            .cloned()
    }

    /// The prepared geometry of `snapshot`: the one kept, else made now and kept (a
    /// caller that comes while it is being made waits for it). Only the first version
    /// prepared is kept: a cache serves one snapshot, and a request still holding an older
    /// one gets geometry of its own rather than evict the current one.
    pub fn prepared(&self, snapshot: &Snapshot) -> Arc<PreparedSnapshot> {
        let kept = self
            .prepared
            .get_or_init(|| Arc::new(PreparedSnapshot::build(snapshot, &self.options)));
        if kept.version == snapshot.version {
            kept.clone()
        } else {
            Arc::new(PreparedSnapshot::build(snapshot, &self.options))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(x: u32) -> TileKey {
        TileKey {
            layers: "sites".into(),
            tile: TileId { z: 4, x, y: 0 },
            rounds: vec![Some(1)],
            version: 7,
        }
    }

    #[test]
    fn the_least_recently_used_tile_is_evicted_first() {
        let tile = Bytes::from(vec![0u8; 1000]);
        let weight = key(0).weight(&tile);
        let cache = TileCache::new(weight * 2, TileOptions::default());
        cache.insert(key(0), tile.clone());
        cache.insert(key(1), tile.clone());
        assert!(cache.get(&key(0)).is_some());
        cache.insert(key(2), tile.clone());
        assert!(cache.get(&key(0)).is_some());
        assert!(cache.get(&key(1)).is_none());
        assert!(cache.get(&key(2)).is_some());
        assert!(cache.used_bytes() <= cache.max_bytes());
    }

    #[test]
    fn a_cache_of_zero_bytes_keeps_nothing() {
        let cache = TileCache::new(0, TileOptions::default());
        cache.insert(key(0), Bytes::from_static(b"tile"));
        assert!(cache.get(&key(0)).is_none());
    }

    #[test]
    fn callers_during_preparation_wait_for_it_and_share_it_and_another_version_gets_its_own() {
        let (snapshot, _) = crate::data::load(&crate::config::Config::builtin());
        let cache = TileCache::new(0, TileOptions::default());
        let prepared: Vec<Arc<PreparedSnapshot>> = std::thread::scope(|scope| {
            let callers: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| cache.prepared(&snapshot)))
                .collect();
            callers.into_iter().map(|c| c.join().unwrap()).collect()
        });
        assert!(prepared.iter().all(|p| Arc::ptr_eq(p, &prepared[0])));
        assert_eq!(prepared[0].version, snapshot.version);
        let mut older = snapshot;
        older.version ^= 1;
        let own = cache.prepared(&older);
        assert_eq!(own.version, older.version);
        assert!(Arc::ptr_eq(
            &cache.prepared(&crate::data::load(&crate::config::Config::builtin()).0),
            &prepared[0]
        ));
    }
}

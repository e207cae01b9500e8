//! Single flight: many requests for the same missing result wait for one computation of
//! it instead of each making it. Without it, the first seconds after a reload send every
//! request for a popular cold tile (a low-zoom tile of a large layer costs ~100 ms) to
//! the compute pool at once, and the queue behind them holds up every other request.
//!
//! A flight lives only while it is computed: the result is kept elsewhere (the tile
//! cache), not here. If the computation fails or its request goes away, the next waiter
//! computes it.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

/// The computations under way, by key.
#[derive(Debug)]
pub struct Flights<K, V> {
    under_way: Mutex<HashMap<K, Arc<OnceCell<V>>>>,
}

impl<K, V> Default for Flights<K, V> {
    fn default() -> Self {
        Flights {
            under_way: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Flights<K, V> {
    /// The value of `key`: the one being computed by another request when there is one,
    /// else what `compute` gives.
    pub async fn run<E, F, Fut>(&self, key: &K, compute: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let cell = {
            let Ok(mut under_way) = self.under_way.lock() else {
                return compute().await;
            };
            under_way.entry(key.clone()).or_default().clone()
        };
        let _leave = Leave {
            flights: self,
            key,
            cell: &cell,
        };
        cell.get_or_try_init(compute).await.cloned()
    }

    /// How many computations are under way (or abandoned and not yet cleared).
    pub fn len(&self) -> usize {
        self.under_way.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether nothing is under way.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Clears a flight when its last waiter leaves, however it leaves (done, failed or
/// dropped with its request).
struct Leave<'a, K: Hash + Eq, V> {
    flights: &'a Flights<K, V>,
    key: &'a K,
    cell: &'a Arc<OnceCell<V>>,
}

impl<K: Hash + Eq, V> Drop for Leave<'_, K, V> {
    fn drop(&mut self) {
        let Ok(mut under_way) = self.flights.under_way.lock() else {
            return;
        };
        // The map's reference and ours: nobody else waits on this flight.
        let last = Arc::strong_count(self.cell) <= 2;
        if last
            && under_way
                .get(self.key)
                .is_some_and(|c| Arc::ptr_eq(c, self.cell))
        {
            under_way.remove(self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_for_one_key_compute_it_once() {
        let flights = Arc::new(Flights::<u32, u64>::default());
        let computed = Arc::new(AtomicUsize::new(0));
        let mut waiters = Vec::new();
        for _ in 0..50 {
            let (flights, computed) = (flights.clone(), computed.clone());
            waiters.push(tokio::spawn(async move {
                flights
                    .run(&7, || async {
                        computed.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        Ok::<_, ()>(49)
                    })
                    .await
            }));
        }
        for waiter in waiters {
            assert_eq!(waiter.await.unwrap(), Ok(49));
        }
        assert_eq!(computed.load(Ordering::SeqCst), 1);
        assert!(flights.is_empty(), "a finished flight is cleared");
    }

    #[tokio::test]
    async fn a_failed_computation_is_not_kept_and_the_next_request_computes_again() {
        let flights = Flights::<&str, u32>::default();
        let first = flights.run(&"k", || async { Err::<u32, _>("busy") }).await;
        assert_eq!(first, Err("busy"));
        assert!(flights.is_empty());
        let second = flights.run(&"k", || async { Ok::<_, &str>(3) }).await;
        assert_eq!(second, Ok(3));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_waiter_takes_over_when_the_computing_request_goes_away() {
        let flights = Arc::new(Flights::<u32, u32>::default());
        let first = {
            let flights = flights.clone();
            tokio::spawn(async move {
                flights
                    .run(&1, || async {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        Ok::<_, ()>(0)
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let second = {
            let flights = flights.clone();
            tokio::spawn(async move { flights.run(&1, || async { Ok::<_, ()>(2) }).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        first.abort();
        assert_eq!(second.await.unwrap(), Ok(2));
        assert!(flights.is_empty());
    }
}

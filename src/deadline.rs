//! The deadline of the work being done on this thread (a leaf module: the index, queries
//! and exports read it, the API's compute pool sets it). The compute pool sets it before it
//! runs a request's work and clears it after; long loops in queries and exports ask
//! [`Ticker::expired`] now and then and stop early once it has passed. Work stopped early
//! returns a partial result, which the pool discards: it answers 503 for any work that
//! finished after its deadline.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// When work must stop, and a flag to stop it sooner.
#[derive(Debug, Clone)]
pub struct Deadline {
    at: Instant,
    cancelled: Arc<AtomicBool>,
}

impl Deadline {
    /// A deadline `timeout` from now.
    pub fn after(timeout: Duration) -> Deadline {
        Deadline {
            at: Instant::now() + timeout,
            cancelled: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The instant it passes.
    pub fn instant(&self) -> Instant {
        self.at
    }

    /// Asks the work to stop now.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Whether it has passed or the work was cancelled.
    pub fn expired(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed) || Instant::now() >= self.at
    }

    /// Runs `work` with this deadline in force on the current thread.
    pub fn enter<T>(&self, work: impl FnOnce() -> T) -> T {
        struct Restore(Option<Deadline>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                CURRENT.with(|c| c.replace(previous));
            }
        }
        let previous = CURRENT.with(|c| c.replace(Some(self.clone())));
        let _restore = Restore(previous);
        work()
    }
}

thread_local! {
    static CURRENT: Cell<Option<Deadline>> = const { Cell::new(None) };
}

/// Whether the deadline in force on this thread (if any) has passed.
pub fn expired() -> bool {
    CURRENT.with(|c| {
        let current = c.take();
        let expired = current.as_ref().is_some_and(Deadline::expired);
        c.set(current);
        expired
    })
}

/// A cheap check for tight loops: looks at the clock once every `every` calls.
#[derive(Debug)]
pub struct Ticker {
    calls: u32,
    every: u32,
    expired: bool,
}

impl Default for Ticker {
    fn default() -> Self {
        Ticker::every(Ticker::EVERY)
    }
}

impl Ticker {
    /// Calls between two looks at the clock, for loops of cheap steps.
    pub const EVERY: u32 = 1024;

    /// A ticker for loops of cheap steps.
    pub fn new() -> Ticker {
        Ticker::default()
    }

    /// A ticker that looks at the clock every `every` calls (for costlier steps).
    pub fn every(every: u32) -> Ticker {
        Ticker {
            calls: 0,
            every: every.max(1),
            expired: false,
        }
    }

    /// Whether the deadline has passed (sticky once true).
    pub fn expired(&mut self) -> bool {
        if !self.expired {
            self.calls = self.calls.wrapping_add(1);
            if self.calls % self.every == 0 {
                self.expired = expired();
            }
        }
        self.expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticker_sees_a_cancelled_deadline_only_inside_enter() {
        let deadline = Deadline::after(Duration::from_secs(3600));
        deadline.cancel();
        let mut outside = Ticker::new();
        assert!(!(0..5000).any(|_| outside.expired()));
        let seen = deadline.enter(|| {
            let mut ticker = Ticker::new();
            (0..5000).any(|_| ticker.expired())
        });
        assert!(seen);
        assert!(!expired(), "the deadline is gone after enter");
    }

    #[test]
    fn a_passed_deadline_is_expired() {
        let deadline = Deadline::after(Duration::ZERO);
        assert!(deadline.expired());
        assert!(deadline.enter(expired));
    }
}

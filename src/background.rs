//! Freeing large values on a thread of their own. A snapshot of 200,000 sites is millions
//! of small allocations and takes up to a second to free; whichever thread drops its last
//! reference would pay for it, and that is usually an async worker serving requests (the
//! last request that used the old data, or the reload that replaced it), so every
//! connection on that worker would stall for that second.
//!
//! While a large value is freed, while data reloads, and from the end of the start-up load
//! until the tiles are prepared, freed memory goes back to the
//! system at once ([`ReturnFreedMemory`]): the allocator otherwise keeps freed pages for
//! reuse until the thread that freed them allocates again, and these threads end or go
//! idle (a reload of 1 M sites left 1.12 GB resident where 0.50 GB was live).

use std::sync::{Mutex, OnceLock, PoisonError};

/// Values with at least this many parts (features, shapes) are freed in the background.
pub const LARGE: usize = 10_000;

/// Whether freed memory is returned at once: how the allocator is told (`true`: at once,
/// `false`: its default), and how many guards live.
#[derive(Debug)]
struct Gate {
    set: OnceLock<fn(bool)>,
    living: Mutex<usize>,
}

impl Gate {
    const fn new() -> Gate {
        Gate {
            set: OnceLock::new(),
            living: Mutex::new(0),
        }
    }

    fn start(&'static self) -> ReturnFreedMemory {
        let mut living = self.living.lock().unwrap_or_else(PoisonError::into_inner);
        if *living == 0 {
            if let Some(set) = self.set.get() {
                set(true);
            }
        }
        *living += 1;
        ReturnFreedMemory(self)
    }

    #[cfg(test)]
    fn active(&self) -> bool {
        *self.living.lock().unwrap_or_else(PoisonError::into_inner) > 0
    }
}

/// The process's gate; the binary, which owns the allocator, says how to set it.
static GATE: Gate = Gate::new();

/// Sets how the allocator is told to return freed memory at once or not (the first call
/// wins). Without it, [`ReturnFreedMemory`] changes nothing.
pub fn on_return_freed_memory(set: fn(bool)) {
    let _ = GATE.set.set(set);
}

/// While one lives (a load, a reload, a large value being freed), freed memory goes back
/// to the system at once; when the last one ends, the allocator's default comes back.
#[derive(Debug)]
pub struct ReturnFreedMemory(&'static Gate);

impl ReturnFreedMemory {
    /// Starts returning freed memory at once, until the value is dropped.
    pub fn start() -> ReturnFreedMemory {
        GATE.start()
    }
}

impl Drop for ReturnFreedMemory {
    fn drop(&mut self) {
        let gate = self.0;
        let mut living = gate.living.lock().unwrap_or_else(PoisonError::into_inner);
        *living = living.saturating_sub(1);
        if *living == 0 {
            if let Some(set) = gate.set.get() {
                set(false);
            }
        }
    }
}

/// How a thread returns the memory it has freed and kept for reuse; the binary, which owns
/// the allocator, says how (the first call wins). Without it, [`return_idle_memory`] does
/// nothing.
static IDLE: OnceLock<fn()> = OnceLock::new();

/// Sets how an idle thread returns the memory it has freed (see [`return_idle_memory`]).
pub fn on_idle(return_memory: fn()) {
    let _ = IDLE.set(return_memory);
}

/// Returns what this thread has freed and kept for reuse to the system, for a thread that
/// has gone idle: the allocator purges a thread's freed pages when that thread allocates
/// again, which an idle thread does not (1 M sites: 0.1 GB stayed resident on the threads
/// that cut tiles once the requests stopped).
pub fn return_idle_memory() {
    if let Some(return_memory) = IDLE.get() {
        return_memory();
    }
}

/// Drops `value` on a new thread of the lowest scheduling priority, returning what it
/// frees to the system at once; in place when no thread can be started.
pub fn drop_in_background<T: Send + 'static>(value: T) {
    let returning = ReturnFreedMemory::start();
    let spawned = std::thread::Builder::new()
        .name("dtmap-free".into())
        .spawn(move || {
            let _ =
                thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min);
            drop(value);
            drop(returning);
        });
    // On failure the closure, and `value` with it, was dropped here: nothing leaks.
    let _ = spawned;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    struct Announce(mpsc::Sender<String>);

    impl Drop for Announce {
        fn drop(&mut self) {
            let name = std::thread::current().name().unwrap_or("").to_string();
            let _ = self.0.send(name);
        }
    }

    /// The allocator is told once when the first guard starts and once when the last one
    /// ends, however they nest and whichever thread ends them (a gate of the test's own,
    /// so that other tests' guards do not count).
    #[test]
    fn freed_memory_is_returned_at_once_while_any_guard_lives() {
        static GATE: Gate = Gate::new();
        static CALLS: Mutex<Vec<bool>> = Mutex::new(Vec::new());
        GATE.set
            .set(|at_once| CALLS.lock().unwrap().push(at_once))
            .unwrap();
        let calls = || CALLS.lock().unwrap().clone();
        assert!(!GATE.active());
        let outer = GATE.start();
        assert_eq!(calls(), [true]);
        let inner = GATE.start();
        std::thread::spawn(move || drop(inner)).join().unwrap();
        assert_eq!(calls(), [true], "an inner guard's end changes nothing");
        assert!(GATE.active());
        drop(outer);
        assert_eq!(calls(), [true, false]);
        assert!(!GATE.active());
        drop(GATE.start());
        assert_eq!(calls(), [true, false, true, false]);
    }

    #[test]
    fn the_value_is_dropped_on_another_thread() {
        let (sender, dropped_on) = mpsc::channel();
        drop_in_background(Announce(sender));
        let name = dropped_on
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap();
        assert_eq!(name, "dtmap-free");
    }
}

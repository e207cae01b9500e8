//! Freeing large values on a thread of their own. A snapshot of 200,000 sites is millions
//! of small allocations and takes up to a second to free; whichever thread drops its last
//! reference would pay for it, and that is usually an async worker serving requests (the
//! last request that used the old data, or the reload that replaced it), so every
//! connection on that worker would stall for that second.

/// Values with at least this many parts (features, shapes) are freed in the background.
pub const LARGE: usize = 10_000;

/// Drops `value` on a new thread of the lowest scheduling priority; in place when no thread
/// can be started.
pub fn drop_in_background<T: Send + 'static>(value: T) {
    let spawned = std::thread::Builder::new()
        .name("dtmap-free".into())
        .spawn(move || {
            let _ =
                thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min);
            drop(value);
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

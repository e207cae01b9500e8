//! Work spread over the machine's cores while loading and preparing tiles: one contiguous
//! share of the items per thread, results in the items' order ([`map`]), work handed out
//! piece by piece with its results taken in order as they come ([`in_order`]), or a sort
//! ([`sort`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// `f` of every item, computed on every core, in the items' order. A panic in `f` is a
/// panic here, as it would be in a loop.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || items.len() < 2 {
        return items.iter().map(f).collect();
    }
    let share = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(share)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for handle in handles {
            match handle.join() {
                Ok(part) => out.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

/// `work` of every index in `0..count`, computed on every core, each result handed to
/// `take` on this thread in index order as soon as it and those before it are done. At
/// most two results per thread are computed ahead of `take`, so a long run of large
/// results is never held whole. A panic in `work` or `take` is a panic here.
pub fn in_order<R: Send>(count: usize, work: impl Fn(usize) -> R + Sync, mut take: impl FnMut(R)) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || count < 2 {
        (0..count).map(&work).for_each(take);
        return;
    }
    let ahead = 2 * threads;
    // (results taken so far, stopped) and the signal that either changed.
    let progress = (Mutex::new((0usize, false)), Condvar::new());
    let next = AtomicUsize::new(0);
    let (work, progress, next) = (&work, &progress, &next);
    std::thread::scope(|scope| {
        let (done, results) = std::sync::mpsc::channel();
        for _ in 0..threads.min(count) {
            let done = done.clone();
            scope.spawn(move || loop {
                let at = next.fetch_add(1, Ordering::Relaxed);
                if at >= count {
                    return;
                }
                {
                    let mut state = lock(&progress.0);
                    while !state.1 && at >= state.0 + ahead {
                        state = progress.1.wait(state).unwrap_or_else(|e| e.into_inner());
                    }
                    if state.1 {
                        return;
                    }
                }
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(at)));
                if done.send((at, result)).is_err() {
                    return;
                }
            });
        }
        drop(done);
        // Stops the threads however this thread leaves (a panic in `take` included).
        let _stop = Stop(progress);
        let mut waiting = std::collections::BTreeMap::new();
        let mut taken = 0;
        for (at, result) in results {
            waiting.insert(at, result);
            while let Some(result) = waiting.remove(&taken) {
                match result {
                    Ok(result) => take(result),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
                taken += 1;
                lock(&progress.0).0 = taken;
                progress.1.notify_all();
            }
            if taken == count {
                break;
            }
        }
    });
}

/// Below this many items a sort stays on one thread.
const SORT_ALONE: usize = 1 << 14;

/// Sorts `items` on every core: each thread sorts a contiguous share, and the shares are
/// merged two by two. The order is `sort_unstable`'s, which for distinct items is the
/// only one.
pub fn sort<T: Ord + Copy + Send>(items: &mut [T]) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    sort_on(items, threads);
}

/// [`sort`] on `threads` threads; the recursion halves `threads`, so it is as deep as
/// the machine's core count's logarithm.
fn sort_on<T: Ord + Copy + Send>(items: &mut [T], threads: usize) {
    if threads < 2 || items.len() < SORT_ALONE {
        items.sort_unstable();
        return;
    }
    let middle = items.len() / 2;
    let (left, right) = items.split_at_mut(middle);
    std::thread::scope(|scope| {
        let sorting = scope.spawn(|| sort_on(left, threads / 2));
        sort_on(right, threads - threads / 2);
        if let Err(panic) = sorting.join() {
            std::panic::resume_unwind(panic);
        }
    });
    let mut merged = Vec::with_capacity(items.len());
    let (left, right) = items.split_at(middle);
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if right[j] < left[i] {
            merged.push(right[j]);
            j += 1;
        } else {
            merged.push(left[i]);
            i += 1;
        }
    }
    merged.extend_from_slice(&left[i..]);
    merged.extend_from_slice(&right[j..]);
    items.copy_from_slice(&merged);
}

/// Tells the threads of [`in_order`] to stop when dropped.
struct Stop<'a>(&'a (Mutex<(usize, bool)>, Condvar));

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        lock(&self.0 .0).1 = true;
        self.0 .1.notify_all();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_come_in_the_order_of_the_items() {
        for n in [0, 1, 2, 3, 1001] {
            let items: Vec<u32> = (0..n).collect();
            let squares = super::map(&items, |x| x * x);
            assert_eq!(squares, items.iter().map(|x| x * x).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_sort_on_every_core_is_the_sort_on_one() {
        let mut seed = 7u64;
        for n in [0, 1, 2, super::SORT_ALONE - 1, super::SORT_ALONE, 100_003] {
            let items: Vec<(u64, u32)> = (0..n as u32)
                .map(|i| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (seed >> 54, i)
                })
                .collect();
            let mut expected = items.clone();
            expected.sort_unstable();
            for threads in [2, 3, 4] {
                let mut sorted = items.clone();
                super::sort_on(&mut sorted, threads);
                assert_eq!(sorted, expected, "{n} items on {threads} threads");
            }
        }
    }

    #[test]
    fn results_in_order_are_taken_in_order_and_each_once() {
        for n in [0, 1, 2, 3, 57] {
            let mut taken = Vec::new();
            super::in_order(
                n,
                |at| {
                    // Later pieces finish first, so results arrive out of order.
                    std::thread::sleep(std::time::Duration::from_micros(((n - at) * 50) as u64));
                    at * 3
                },
                |r| taken.push(r),
            );
            assert_eq!(taken, (0..n).map(|at| at * 3).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_panic_in_the_work_is_a_panic_of_the_caller_and_no_thread_is_left_waiting() {
        let outcome = std::panic::catch_unwind(|| {
            super::in_order(
                100,
                |at| {
                    assert!(at != 3, "piece 3 fails");
                    at
                },
                |_| {},
            )
        });
        assert!(outcome.is_err());
        let taking = std::panic::catch_unwind(|| {
            super::in_order(100, |at| at, |at| assert!(at != 5, "taking 5 fails"))
        });
        assert!(taking.is_err());
    }
}

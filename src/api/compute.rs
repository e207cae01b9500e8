//! CPU work off the async workers. A [`ComputePool`] is a set of threads of its own that
//! runs a request's work, at most `queue` more waiting; any request beyond that is shed at
//! once with 503 (`Retry-After`) rather than queued without bound. Every piece of work has a
//! deadline: when it passes, the request is answered 503 and the work is cancelled
//! cooperatively (loops in the index, queries and exports watch [`crate::deadline`]); it
//! keeps its thread until it stops, so abandoned work still counts against the bound.
//!
//! A tile of a few points is the one exception: its cost is bounded by a count of its
//! points that stops at the bound, and it is cut where the request is read (see
//! [`crate::tiles::render::is_light`]).
//!
//! The server has two pools. The light one (tiles, queries over the data's own areas,
//! small query polygons) runs at normal priority. The heavy one (large query polygons,
//! workbooks, scans of large layers) runs its threads at the lowest scheduling priority,
//! so that however much heavy work arrives, the cheap requests get the CPU first.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{oneshot, Semaphore};

use crate::deadline::Deadline;
use crate::error::ApiError;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// How long a pool thread waits for work before it returns the memory its work freed
/// ([`crate::background::return_idle_memory`]).
#[cfg(not(test))]
const IDLE_AFTER: Duration = Duration::from_secs(2);
#[cfg(test)]
const IDLE_AFTER: Duration = Duration::from_millis(50);

/// A bounded pool of threads for CPU work, with a deadline per piece of work.
#[derive(Debug, Clone)]
pub struct ComputePool {
    name: &'static str,
    jobs: mpsc::Sender<Job>,
    admitted: Arc<Semaphore>,
    timeout: Duration,
}

/// How a pool's threads are scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Like the async workers.
    Normal,
    /// Only what the CPU has left over once everything else has run.
    Background,
}

impl ComputePool {
    /// A pool of `threads` (0: one per core) with `queue` waiting places and `timeout` per
    /// piece of work; `name` names its threads and appears in its 503 messages.
    pub fn new(
        name: &'static str,
        threads: usize,
        queue: usize,
        timeout: Duration,
        priority: Priority,
    ) -> Self {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            threads
        };
        let (jobs, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("dtmap-{name}-{i}"))
                .spawn(move || {
                    if priority == Priority::Background {
                        // Best effort: where it cannot be lowered, the bound still holds.
                        let _ = thread_priority::set_current_thread_priority(
                            thread_priority::ThreadPriority::Min,
                        );
                    }
                    let mut returned = true;
                    loop {
                        // The lock is let go at least every IDLE_AFTER, so that every idle
                        // thread, not only the one waiting on the queue, returns once
                        // what its work freed.
                        let job = match receiver.lock() {
                            Ok(receiver) => receiver.recv_timeout(IDLE_AFTER),
                            Err(_) => return,
                        };
                        match job {
                            Err(mpsc::RecvTimeoutError::Timeout) => {
                                if !returned {
                                    crate::background::return_idle_memory();
                                    returned = true;
                                }
                            }
                            Err(mpsc::RecvTimeoutError::Disconnected) => return, // pool gone
                            // A panic drops the job's answer channel (the request gets a
                            // 500) and leaves the thread serving.
                            Ok(job) => {
                                returned = false;
                                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                            }
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!("cannot start a {name} thread: {e}");
            }
        }
        ComputePool {
            name,
            jobs,
            admitted: Arc::new(Semaphore::new(threads + queue)),
            timeout,
        }
    }

    /// Runs `work` on a pool thread with the deadline in force; 503 when the pool is full,
    /// or when the work does not finish before the deadline.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    {
        let deadline = Deadline::after(self.timeout);
        let Ok(admitted) = self.admitted.clone().try_acquire_owned() else {
            return Err(ApiError::Unavailable(format!(
                "the server is busy ({} work is queued to its limit); try again shortly",
                self.name
            )));
        };
        let (done, result) = oneshot::channel();
        let inside = deadline.clone();
        let job: Job = Box::new(move || {
            // Work still waiting when its deadline passed is not started at all.
            let outcome = if inside.expired() {
                None
            } else {
                let result = inside.enter(work);
                // Work that stopped early at its deadline returns a partial result.
                (!inside.expired()).then_some(result)
            };
            // The place is free before the answer goes out, so a client that sends its next
            // request as soon as it has the answer finds it free.
            drop(admitted);
            let _ = done.send(outcome);
        });
        if self.jobs.send(job).is_err() {
            return Err(ApiError::Internal(format!(
                "the {} pool has stopped",
                self.name
            )));
        }
        match tokio::time::timeout_at(deadline.instant().into(), result).await {
            Ok(Ok(Some(result))) => result,
            Ok(Ok(None)) => Err(self.timed_out()),
            Ok(Err(_)) => Err(ApiError::Internal(format!(
                "{} work stopped without an answer (a panic?)",
                self.name
            ))),
            Err(_) => {
                deadline.cancel();
                Err(self.timed_out())
            }
        }
    }

    fn timed_out(&self) -> ApiError {
        ApiError::Unavailable(format!(
            "the request did not finish within {} s and was stopped; try a smaller area or page",
            self.timeout.as_secs_f64()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pool thread returns its freed memory once when it has been idle after work, not
    /// again until it has worked again, and not before its first piece of work.
    #[tokio::test]
    async fn a_thread_returns_its_memory_once_each_time_it_goes_idle() {
        static IDLE: Mutex<Vec<String>> = Mutex::new(Vec::new());
        crate::background::on_idle(|| {
            let name = std::thread::current().name().unwrap_or("").to_string();
            IDLE.lock().unwrap().push(name);
        });
        let times = || {
            let names = IDLE.lock().unwrap();
            ["dtmap-idle-test-0", "dtmap-idle-test-1"]
                .map(|t| names.iter().filter(|n| *n == t).count())
        };
        let pool = ComputePool::new("idle-test", 2, 0, Duration::from_secs(5), Priority::Normal);
        tokio::time::sleep(IDLE_AFTER * 4).await;
        assert_eq!(times(), [0, 0], "no work, nothing to return");
        for round in 1..=2 {
            // Both threads busy at once, then both idle.
            let work = || {
                std::thread::sleep(IDLE_AFTER * 2);
                Ok(vec![0u8; 1 << 20].len())
            };
            let (a, b) = tokio::join!(pool.run(work), pool.run(work));
            assert!(a.is_ok() && b.is_ok());
            for _ in 0..500 {
                if times() == [round, round] {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            tokio::time::sleep(IDLE_AFTER * 4).await;
            assert_eq!(times(), [round, round], "each thread once per idle spell");
        }
    }

    #[tokio::test]
    async fn work_past_its_deadline_is_answered_503_and_cancelled() {
        let pool = ComputePool::new("test", 1, 0, Duration::from_millis(50), Priority::Normal);
        let stopped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = stopped.clone();
        let result = pool
            .run(move || {
                while !crate::deadline::expired() {
                    std::thread::sleep(Duration::from_millis(1));
                }
                seen.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            })
            .await;
        assert!(
            matches!(result, Err(ApiError::Unavailable(_))),
            "{result:?}"
        );
        // The work saw its deadline and stopped by itself.
        for _ in 0..200 {
            if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(stopped.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_full_pool_sheds_work_at_once() {
        let pool = ComputePool::new("test", 1, 0, Duration::from_secs(5), Priority::Background);
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let busy = pool.clone();
        let first = tokio::spawn(async move {
            busy.run(move || {
                let _ = wait.recv_timeout(Duration::from_secs(5));
                Ok(1)
            })
            .await
        });
        while pool.admitted.available_permits() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let shed = pool.run(|| Ok(2)).await;
        assert!(matches!(shed, Err(ApiError::Unavailable(_))), "{shed:?}");
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), 1);
        assert_eq!(pool.run(|| Ok(3)).await.unwrap(), 3);
    }

    #[tokio::test]
    async fn a_panic_in_the_work_is_an_error_and_the_thread_survives() {
        let pool = ComputePool::new("test", 1, 4, Duration::from_secs(5), Priority::Normal);
        let failed: Result<(), ApiError> = pool.run(|| panic!("boom")).await;
        assert!(matches!(failed, Err(ApiError::Internal(_))), "{failed:?}");
        assert_eq!(pool.run(|| Ok(7)).await.unwrap(), 7);
    }
}

//! CPU-heavy work off the async workers. A [`ComputePool`] runs a request's work on a
//! blocking thread, at most `threads` at once; at most `queue` more wait, and any request
//! beyond that is shed at once with 503 (`Retry-After`) rather than queued without bound.
//! Every piece of work has a deadline: when it passes, the request is answered 503 and the
//! work is cancelled cooperatively (loops in the index, queries and exports watch
//! [`crate::deadline`]); it keeps its thread until it stops, so abandoned work still counts
//! against the bound.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::deadline::Deadline;
use crate::error::ApiError;

/// A bounded pool of threads for CPU work, with a deadline per piece of work.
#[derive(Debug, Clone)]
pub struct ComputePool {
    name: &'static str,
    running: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
    timeout: Duration,
}

impl ComputePool {
    /// A pool of `threads` (0: one per core) with `queue` waiting places and `timeout` per
    /// piece of work; `name` appears in its 503 messages.
    pub fn new(name: &'static str, threads: usize, queue: usize, timeout: Duration) -> Self {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            threads
        };
        ComputePool {
            name,
            running: Arc::new(Semaphore::new(threads)),
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
        let running = match tokio::time::timeout_at(
            deadline.instant().into(),
            self.running.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(ApiError::Internal("the compute pool is closed".into())),
            Err(_) => return Err(self.timed_out()),
        };
        let inside = deadline.clone();
        let handle = tokio::task::spawn_blocking(move || {
            let _permits = (admitted, running);
            let result = inside.enter(work);
            // Work that stopped early at its deadline returns a partial result: discard it.
            if inside.expired() {
                None
            } else {
                Some(result)
            }
        });
        match tokio::time::timeout_at(deadline.instant().into(), handle).await {
            Ok(Ok(Some(result))) => result,
            Ok(Ok(None)) => Err(self.timed_out()),
            Ok(Err(e)) if e.is_panic() => {
                Err(ApiError::Internal(format!("{} work panicked", self.name)))
            }
            Ok(Err(e)) => Err(ApiError::Internal(format!(
                "{} work failed: {e}",
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

    #[tokio::test]
    async fn work_past_its_deadline_is_answered_503_and_cancelled() {
        let pool = ComputePool::new("test", 1, 0, Duration::from_millis(50));
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
        let pool = ComputePool::new("test", 1, 0, Duration::from_secs(5));
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
}

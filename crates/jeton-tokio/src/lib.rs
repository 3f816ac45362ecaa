//! A bounded blocking pool for [`jeton`]'s slow secret verification, on tokio.
//!
//! [`BlockingPool`] implements [`VerifyExecutor`]: each job runs on tokio's blocking threads
//! ([`tokio::task::spawn_blocking`]), never on an async worker, and at most `capacity` jobs run
//! at once (by default one per core: PBKDF2 is pure CPU, so more would only share the same
//! cores more slowly). When every slot is busy a job is refused at once with [`Overloaded`],
//! which the engine answers `503 temporarily_unavailable` with `Retry-After`; nothing waits in
//! a queue, so a flood of slow verifications costs a bounded amount of CPU and no memory.
//!
//! jeton-hyper, jeton-axum and jeton-actix (actix-web 4 runs on tokio, so `spawn_blocking` works
//! there) and the `jeton` server all use it. It must be called from within a tokio runtime;
//! outside one it refuses every job rather than panic.
//!
//! ```
//! use jeton::VerifyExecutor;
//! use jeton_tokio::BlockingPool;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let pool = BlockingPool::per_core();
//! let exec: &dyn VerifyExecutor = &pool;
//! assert_eq!(exec.execute(|| 6 * 7).await, Ok(42));
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use jeton;

use jeton::{Overloaded, VerifyExecutor, VerifyJob};
use std::num::NonZeroUsize;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Runs verification jobs on tokio's blocking threads, at most `capacity` at once, refusing
/// the rest at once.
#[derive(Debug, Clone)]
pub struct BlockingPool {
    slots: Arc<Semaphore>,
    capacity: usize,
}

impl BlockingPool {
    /// A pool running at most `capacity` jobs at once.
    pub fn new(capacity: NonZeroUsize) -> Self {
        // Semaphore::MAX_PERMITS is far above any core count; clamp rather than panic.
        let capacity = capacity.get().min(Semaphore::MAX_PERMITS);
        Self {
            slots: Arc::new(Semaphore::new(capacity)),
            capacity,
        }
    }

    /// A pool with one slot per core ([`std::thread::available_parallelism`], one if unknown).
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN))
    }

    /// How many jobs may run at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many more jobs could start now.
    pub fn available(&self) -> usize {
        self.slots.available_permits()
    }
}

impl Default for BlockingPool {
    fn default() -> Self {
        Self::per_core()
    }
}

#[async_trait::async_trait]
impl VerifyExecutor for BlockingPool {
    async fn run(&self, job: VerifyJob) -> Result<(), Overloaded> {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return Err(Overloaded::new());
        };
        let permit = Arc::clone(&self.slots)
            .try_acquire_owned()
            .map_err(|_| Overloaded::new())?;
        // The permit moves into the job: it is released when the work ends, not when the
        // request does, so a client that hangs up cannot free a slot its job still occupies.
        let task = handle.spawn_blocking(move || {
            let _slot = permit;
            job.run();
        });
        match task.await {
            Ok(()) => Ok(()),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Cancelled: the runtime is shutting down.
            Err(_) => Err(Overloaded::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn pool(n: usize) -> BlockingPool {
        BlockingPool::new(NonZeroUsize::new(n).unwrap())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_job_after_capacity_is_refused_at_once() {
        let pool = Arc::new(pool(3));
        let (started_tx, started_rx) = mpsc::channel();
        let mut releases = Vec::new();
        let mut running = Vec::new();
        for _ in 0..3 {
            let (release_tx, release_rx) = mpsc::channel::<()>();
            releases.push(release_tx);
            let started = started_tx.clone();
            let p = Arc::clone(&pool);
            running.push(tokio::spawn(async move {
                let exec: &dyn VerifyExecutor = &*p;
                exec.execute(move || {
                    started.send(()).unwrap();
                    release_rx.recv().is_ok()
                })
                .await
            }));
        }
        for _ in 0..3 {
            tokio::task::block_in_place(|| started_rx.recv()).unwrap();
        }
        assert_eq!(pool.available(), 0);
        // The fourth is refused without waiting for any of the three to finish.
        let exec: &dyn VerifyExecutor = &*pool;
        assert_eq!(exec.execute(|| true).await, Err(Overloaded::new()));

        for r in releases {
            r.send(()).unwrap();
        }
        for t in running {
            assert_eq!(t.await.unwrap(), Ok(true));
        }
        assert_eq!(pool.available(), 3);
        assert_eq!(exec.execute(|| 1 + 1).await, Ok(2));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn jobs_run_off_the_calling_thread() {
        let pool = pool(1);
        let exec: &dyn VerifyExecutor = &pool;
        let caller = std::thread::current().id();
        let worker = exec.execute(|| std::thread::current().id()).await.unwrap();
        assert_ne!(worker, caller);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn results_come_back_to_their_own_caller() {
        let pool = Arc::new(pool(2));
        let tasks: Vec<_> = (0..50u64)
            .map(|i| {
                let p = Arc::clone(&pool);
                tokio::spawn(async move {
                    let exec: &dyn VerifyExecutor = &*p;
                    // Retry refusals: this test is about results, not about the bound.
                    loop {
                        if let Ok(v) = exec.execute(move || i * i).await {
                            return (i, v);
                        }
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        for t in tasks {
            let (i, v) = t.await.unwrap();
            assert_eq!(v, i * i);
        }
        assert_eq!(pool.available(), 2);
    }

    #[test]
    fn outside_a_runtime_every_job_is_refused() {
        let pool = pool(1);
        let exec: &dyn VerifyExecutor = &pool;
        let refused = poll_without_runtime(exec.execute(|| true));
        assert_eq!(refused, Err(Overloaded::new()));
    }

    #[test]
    fn capacity_defaults_to_the_cores() {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        assert_eq!(BlockingPool::default().capacity(), cores);
        assert_eq!(pool(5).capacity(), 5);
    }

    /// Polls a future on this thread with no runtime at all.
    fn poll_without_runtime<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }
}

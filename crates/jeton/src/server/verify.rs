//! The verification seam: where slow secret verification runs.
//!
//! A PBKDF2 verification (the decoy of an unknown id included) takes about 0.3 s of CPU. Run
//! inline on an async worker thread, a few of them stall every other request on that thread,
//! health checks included. The core has no runtime, so it hands such work to a
//! [`VerifyExecutor`] the embedder supplies: the adapters and the server use a bounded blocking
//! pool (`jeton-tokio`'s `BlockingPool`), tests and deployments with only fast HMAC verifiers
//! can use [`Inline`].
//!
//! An executor that is full refuses at once with [`Overloaded`] instead of queueing: a queue
//! without a bound is memory an attacker fills, and a bounded one only delays the refusal while
//! the caller's connection is held. The engine answers `Overloaded` with
//! `503 temporarily_unavailable` and its [`RetryAfter`].
//!
//! The trait takes a job that returns nothing, so that it stays object-safe (`Arc<dyn
//! VerifyExecutor>` in the engine, no type parameters in adapter signatures); the typed
//! result travels back through `<dyn VerifyExecutor>::execute`, which every caller uses.

use super::limiter::RetryAfter;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// A unit of verification work, sent to a [`VerifyExecutor`].
pub struct VerifyJob(Box<dyn FnOnce() + Send + 'static>);

impl VerifyJob {
    /// Wraps the work.
    pub fn new(work: impl FnOnce() + Send + 'static) -> Self {
        Self(Box::new(work))
    }

    /// Does the work, on the calling thread.
    pub fn run(self) {
        (self.0)()
    }
}

impl fmt::Debug for VerifyJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerifyJob")
    }
}

/// The executor had no room for the job: answer `503` with [`Overloaded::retry_after`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overloaded {
    retry_after: RetryAfter,
}

impl Overloaded {
    /// Refused, with the default hint of one second (a verification lasts well under that).
    pub const fn new() -> Self {
        Self {
            retry_after: RetryAfter::ONE_SECOND,
        }
    }

    /// Refused, asking the caller to wait `retry_after`.
    pub const fn with_retry_after(retry_after: RetryAfter) -> Self {
        Self { retry_after }
    }

    /// How long the caller should wait.
    pub const fn retry_after(&self) -> RetryAfter {
        self.retry_after
    }
}

impl Default for Overloaded {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for Overloaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("verification capacity exhausted")
    }
}

impl std::error::Error for Overloaded {}

/// Runs slow secret verification somewhere the async reactor does not wait on.
///
/// PBKDF2 (the decoy of an unknown id included) takes about 0.3 s of CPU: run inline on an
/// async worker, a few such requests stall everything else on that thread. The core has no
/// runtime, so the embedder supplies this: a bounded blocking pool in the adapters and the
/// server (`jeton_tokio::BlockingPool`), [`Inline`] for tests and HMAC-only deployments.
/// The job returns nothing so the trait stays object-safe; callers get a typed result through
/// [`execute`](#method.execute).
///
/// `run` either completes the job (it has run when `run` returns `Ok`) or refuses it at once
/// with [`Overloaded`]; it must never queue without bound. A job that panics may propagate its
/// panic: it is a bug, not an input.
#[async_trait::async_trait]
pub trait VerifyExecutor: Send + Sync + fmt::Debug {
    /// Runs `job` to completion, or refuses it.
    async fn run(&self, job: VerifyJob) -> Result<(), Overloaded>;
}

impl dyn VerifyExecutor {
    /// Runs `work` through this executor and returns its result.
    ///
    /// An executor that reports `Ok` without having run the job (a broken one) yields
    /// [`Overloaded`]: the request then fails closed with a `503`, never authenticates.
    pub async fn execute<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Overloaded> {
        let slot = Arc::new(Mutex::new(None));
        let out = Arc::clone(&slot);
        self.run(VerifyJob::new(move || {
            let value = work();
            *out.lock().unwrap_or_else(PoisonError::into_inner) = Some(value);
        }))
        .await?;
        let value = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
        value.ok_or(Overloaded::new())
    }
}

/// Runs every job on the calling thread, never refusing: for tests, and for deployments whose
/// verifiers are all fast (HMAC of generated secrets, about a microsecond).
#[derive(Clone, Copy, Debug, Default)]
pub struct Inline;

#[async_trait::async_trait]
impl VerifyExecutor for Inline {
    async fn run(&self, job: VerifyJob) -> Result<(), Overloaded> {
        job.run();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jeton_testkit::block_on;

    #[derive(Debug)]
    struct Full;
    #[async_trait::async_trait]
    impl VerifyExecutor for Full {
        async fn run(&self, _: VerifyJob) -> Result<(), Overloaded> {
            Err(Overloaded::with_retry_after(RetryAfter::from_secs(3)))
        }
    }

    /// Claims success without running the job.
    #[derive(Debug)]
    struct Liar;
    #[async_trait::async_trait]
    impl VerifyExecutor for Liar {
        async fn run(&self, _: VerifyJob) -> Result<(), Overloaded> {
            Ok(())
        }
    }

    #[test]
    fn inline_runs_the_job_on_the_calling_thread_and_returns_its_result() {
        let exec: &dyn VerifyExecutor = &Inline;
        let caller = std::thread::current().id();
        let (value, thread) =
            block_on(exec.execute(|| (6 * 7, std::thread::current().id()))).unwrap();
        assert_eq!(value, 42);
        assert_eq!(thread, caller);
    }

    #[test]
    fn a_full_executor_refuses_with_its_retry_after() {
        let exec: &dyn VerifyExecutor = &Full;
        let err = block_on(exec.execute(|| true)).unwrap_err();
        assert_eq!(err.retry_after().as_secs(), 3);
        assert_eq!(Overloaded::default().retry_after(), RetryAfter::ONE_SECOND);
    }

    #[test]
    fn an_executor_that_skips_the_job_fails_closed() {
        let exec: &dyn VerifyExecutor = &Liar;
        assert_eq!(block_on(exec.execute(|| true)), Err(Overloaded::new()));
    }
}

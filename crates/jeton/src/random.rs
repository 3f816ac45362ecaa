//! Randomness: the [`RandomSource`] contract the core draws through, and two sources of the
//! operating system's generator.
//!
//! The core never reaches for randomness itself (tests inject deterministic sources). Tokens,
//! `jti`s, salts and nonces all come from the source given to the engine and issuers.

use std::cell::RefCell;
use zeroize::Zeroize;

/// A source of cryptographically secure random bytes, injected into the parts of jeton that
/// need randomness so that the core never reaches for one itself and tests can be
/// deterministic.
pub trait RandomSource: Send + Sync {
    /// Fills `dest` with random bytes.
    fn fill(&self, dest: &mut [u8]) -> Result<(), RandomError>;
}

/// The random source failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("random source failed")]
pub struct RandomError;

/// The operating system's CSPRNG, read on every call (no user-space buffer, so no state to
/// duplicate across a `fork`).
///
/// It goes through the C library's `getrandom` (the `getrandom` crate), not a raw system call:
/// with Linux 6.11+ and glibc 2.41+ that is the vDSO generator, which costs a few tens of
/// nanoseconds instead of a system call per token.
#[derive(Clone, Debug, Default)]
pub struct SystemRandom(());

impl SystemRandom {
    /// A handle to the OS random source.
    pub fn new() -> Self {
        Self(())
    }
}

impl RandomSource for SystemRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
        getrandom::fill(dest).map_err(|_| RandomError)
    }
}

/// The most bytes [`BatchedRandom`] keeps per thread; larger draws go to the OS directly.
const BATCH_BYTES: usize = 1024;

/// The operating system's CSPRNG, read 1 KiB at a time into a per-thread buffer from which
/// each draw is served once and wiped: one system call per 32 opaque tokens instead of one per
/// token, where the C library has no vDSO generator (glibc before 2.41). `jeton serve` uses it.
///
/// **Not fork-safe.** A process that forks after drawing keeps the unserved bytes in both
/// parent and child, which would then hand out the same bytes. Use it only in a process that
/// never forks while serving (a tokio server does not: its worker threads would not survive a
/// fork); a library embedded in an application that may fork (a pre-forking web server, a
/// Python extension) should use [`SystemRandom`].
#[derive(Clone, Debug, Default)]
pub struct BatchedRandom(());

impl BatchedRandom {
    /// A handle to the batched OS random source (the buffers are per thread, shared by all
    /// handles).
    pub fn new() -> Self {
        Self(())
    }
}

/// One thread's unserved bytes: `bytes[next..]`; served bytes are zero.
struct Batch {
    bytes: [u8; BATCH_BYTES],
    next: usize,
}

impl Drop for Batch {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

thread_local! {
    static BATCH: RefCell<Batch> = const {
        RefCell::new(Batch {
            bytes: [0; BATCH_BYTES],
            next: BATCH_BYTES,
        })
    };
}

impl RandomSource for BatchedRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
        if dest.len() > BATCH_BYTES / 4 {
            return getrandom::fill(dest).map_err(|_| RandomError);
        }
        BATCH.with(|batch| {
            let mut batch = batch.borrow_mut();
            if BATCH_BYTES - batch.next < dest.len() {
                getrandom::fill(&mut batch.bytes).map_err(|_| RandomError)?;
                batch.next = 0;
            }
            let served = batch.next..batch.next + dest.len();
            dest.copy_from_slice(&batch.bytes[served.clone()]);
            // Served once: a byte handed out is wiped, never handed out again, and does not
            // linger in memory beside the token it became.
            batch.bytes[served].zeroize();
            batch.next += dest.len();
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn batched_draws_never_repeat_and_cross_refills() {
        let rng = BatchedRandom::new();
        let mut seen = HashSet::new();
        // 200 draws of 32 bytes: more than six refills of the 1 KiB batch.
        for _ in 0..200 {
            let mut d = [0u8; 32];
            rng.fill(&mut d).unwrap();
            assert!(seen.insert(d), "a draw repeated");
        }
    }

    #[test]
    fn served_bytes_are_wiped_from_the_batch() {
        let rng = BatchedRandom::new();
        let mut d = [0u8; 32];
        rng.fill(&mut d).unwrap();
        BATCH.with(|b| {
            let b = b.borrow();
            assert!(b.next >= 32);
            assert!(b.bytes[..b.next].iter().all(|&x| x == 0));
        });
    }

    #[test]
    fn large_and_uneven_draws_are_filled() {
        let rng = BatchedRandom::new();
        let mut big = [0u8; 4096];
        rng.fill(&mut big).unwrap();
        assert!(big.iter().any(|&x| x != 0));
        for len in [1, 7, 33, 255, 256] {
            let mut d = vec![0u8; len];
            rng.fill(&mut d).unwrap();
        }
    }
}

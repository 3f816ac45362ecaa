//! A store that is full: the one [`StoreError`] the engine tells apart from a failure.
//!
//! A bounded store refuses a new token past its caps rather than grow until the process is
//! killed. That is not a fault of the back end, and the caller can do something about it (wait
//! for tokens to expire, reuse the one it has), so the engine answers it differently from a
//! broken store: `503 temporarily_unavailable` with `Retry-After`, where a broken store gets
//! `500 server_error`. The kind travels as the error's source, so [`StoreError`] stays opaque
//! and unchanged for every other use.

use crate::error::StoreError;
use std::error::Error as _;
use std::fmt;

/// Which cap a store reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CapacityExceeded {
    /// The store holds as many live tokens as it may, all clients together.
    Global,
    /// This client holds as many live tokens as one client may.
    PerClient,
}

impl fmt::Display for CapacityExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Global => "token store full: global cap of live tokens reached",
            Self::PerClient => "token store full: per-client cap of live tokens reached",
        })
    }
}

impl std::error::Error for CapacityExceeded {}

impl StoreError {
    /// The error a bounded store returns when it refuses a write past `cap`.
    pub fn capacity_exceeded(cap: CapacityExceeded) -> Self {
        Self::new(cap)
    }

    /// Which cap was reached, if this error is a refusal of a full store; `None` for any other
    /// store failure.
    pub fn capacity(&self) -> Option<CapacityExceeded> {
        self.source()?.downcast_ref::<CapacityExceeded>().copied()
    }
}

/// The cap a full store reached, if `error` or any error in its source chain is a
/// [`CapacityExceeded`] (an issuer wraps the store's error in its own).
pub(crate) fn capacity_in_chain(
    error: &(dyn std::error::Error + 'static),
) -> Option<CapacityExceeded> {
    let mut e = Some(error);
    while let Some(cur) = e {
        if let Some(c) = cur.downcast_ref::<CapacityExceeded>() {
            return Some(*c);
        }
        e = cur.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capacity_refusal_is_told_apart_from_a_failure() {
        let full = StoreError::capacity_exceeded(CapacityExceeded::PerClient);
        assert_eq!(full.capacity(), Some(CapacityExceeded::PerClient));
        // Still opaque on the outside.
        assert_eq!(full.to_string(), "storage back end failed");
        assert_eq!(StoreError::msg("connection lost").capacity(), None);
        assert_eq!(StoreError::new(std::io::Error::other("x")).capacity(), None);
    }
}

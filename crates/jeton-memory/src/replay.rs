//! The bounded in-memory [`ReplayStore`].

use jeton::time::OffsetDateTime;
use jeton::{ReplayKey, ReplayStore, StoreError};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// The default capacity of a [`MemoryReplayStore`]: 100 000 live entries (about 6 MB).
pub const DEFAULT_REPLAY_CAPACITY: usize = 100_000;

/// Single-use values (client-assertion and DPoP `jti`s) in memory, with a fixed capacity.
///
/// Fail closed: when every slot holds a live entry, [`ReplayStore::insert_if_absent`] returns
/// an error (the request is refused) rather than evicting one, because an evicted `jti` could be
/// replayed. Expired entries are purged when the store is full and the earliest expiry has
/// passed, so a full store of live entries refuses in constant time.
#[derive(Debug)]
pub struct MemoryReplayStore {
    capacity: usize,
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    by_key: HashMap<ReplayKey, OffsetDateTime>,
    /// The earliest expiry held (`None` when empty): no purge can free a slot before it.
    earliest: Option<OffsetDateTime>,
}

impl Entries {
    fn purge(&mut self, now: OffsetDateTime) {
        self.by_key.retain(|_, exp| *exp > now);
        self.earliest = self.by_key.values().min().copied();
    }
}

impl Default for MemoryReplayStore {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_REPLAY_CAPACITY)
    }
}

impl MemoryReplayStore {
    /// A store of [`DEFAULT_REPLAY_CAPACITY`] entries.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding at most `capacity` live entries (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Entries::default()),
        }
    }

    /// How many entries are held (live or not yet purged).
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_key
            .len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait::async_trait]
impl ReplayStore for MemoryReplayStore {
    async fn insert_if_absent(
        &self,
        key: &ReplayKey,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut e = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(exp) = e.by_key.get_mut(key) {
            if *exp > now {
                return Ok(false);
            }
            // Seen, but its window has closed: the value is fresh again.
            *exp = expires_at;
            e.earliest = e.earliest.map(|t| t.min(expires_at));
            return Ok(true);
        }
        if e.by_key.len() >= self.capacity {
            if e.earliest.is_some_and(|t| t <= now) {
                e.purge(now);
            }
            if e.by_key.len() >= self.capacity {
                return Err(StoreError::msg(
                    "replay store full of live entries: refusing rather than evicting",
                ));
            }
        }
        e.by_key.insert(*key, expires_at);
        e.earliest = Some(e.earliest.map_or(expires_at, |t| t.min(expires_at)));
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jeton::time::Duration;
    use jeton_testkit::{block_on, now};

    fn key(jti: &str) -> ReplayKey {
        ReplayKey::new(ReplayKey::CLIENT_ASSERTION, "svc", jti)
    }

    #[test]
    fn rfc7523_3_7_a_jti_is_accepted_once_until_it_expires() {
        let s = MemoryReplayStore::new();
        let t = now();
        let exp = t + Duration::minutes(1);
        assert!(block_on(s.insert_if_absent(&key("a"), exp, t)).unwrap());
        assert!(!block_on(s.insert_if_absent(&key("a"), exp, t + Duration::seconds(59))).unwrap());
        // After its window it is fresh again (the assertion itself is refused as expired).
        assert!(block_on(s.insert_if_absent(&key("a"), exp + Duration::minutes(1), exp)).unwrap());
    }

    #[test]
    fn replay_keys_are_namespaced_by_kind_and_client() {
        let a = ReplayKey::new(ReplayKey::CLIENT_ASSERTION, "svc", "j");
        assert_ne!(a, ReplayKey::new(ReplayKey::DPOP_PROOF, "svc", "j"));
        assert_ne!(a, ReplayKey::new(ReplayKey::CLIENT_ASSERTION, "svd", "j"));
        assert_ne!(
            ReplayKey::new("n", "ab", "c"),
            ReplayKey::new("n", "a", "bc")
        );
        let s = MemoryReplayStore::new();
        let exp = now() + Duration::minutes(1);
        assert!(block_on(s.insert_if_absent(&a, exp, now())).unwrap());
        let other = ReplayKey::new(ReplayKey::CLIENT_ASSERTION, "other", "j");
        assert!(block_on(s.insert_if_absent(&other, exp, now())).unwrap());
    }

    #[test]
    fn full_of_live_entries_it_refuses_and_never_evicts() {
        let s = MemoryReplayStore::with_capacity(3);
        let t = now();
        for (i, secs) in [10, 20, 30].into_iter().enumerate() {
            let exp = t + Duration::seconds(secs);
            assert!(block_on(s.insert_if_absent(&key(&i.to_string()), exp, t)).unwrap());
        }
        let exp = t + Duration::minutes(1);
        assert!(block_on(s.insert_if_absent(&key("x"), exp, t)).is_err());
        // Every live entry is still there: each is still a replay.
        for i in 0..3 {
            assert!(!block_on(s.insert_if_absent(&key(&i.to_string()), exp, t)).unwrap());
        }
        // Once the earliest has expired, its slot is purged and reused.
        let later = t + Duration::seconds(15);
        assert!(block_on(s.insert_if_absent(&key("x"), exp, later)).unwrap());
        assert_eq!(s.len(), 3);
        assert!(!block_on(s.insert_if_absent(&key("1"), exp, later)).unwrap());
    }
}

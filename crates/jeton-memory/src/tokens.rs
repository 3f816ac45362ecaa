//! Opaque-token records in memory: sharded, capped, purged in bounded steps.
//!
//! Records live in 32 shards chosen by digest, each behind its own `Mutex`, so concurrent
//! issuers rarely meet on one lock. Each shard also keeps its records ordered by expiry, so
//! finding the expired ones never scans the live ones:
//!
//! - every insert first drops up to [`PURGE_PER_INSERT`] expired records of its shard (using the
//!   new record's `issued_at` as the clock: the store never reads one), which keeps up with
//!   expiry under any steady load, so memory follows the tokens *alive* at once;
//! - [`MemoryTokenStore::purge_expired`], for a periodic task, drops the rest shard by shard,
//!   at most [`PURGE_CHUNK`] records per lock hold, so a sweep of a million records never makes
//!   a token request wait more than one chunk.
//!
//! ## Caps
//!
//! [`TokenLimits`] bounds the live tokens of the whole store and of each client. An insert past
//! a cap first purges what has expired, then, if still full, is refused with
//! [`StoreError::capacity_exceeded`] (the engine answers `503` with `Retry-After`, not `500`).
//! One authenticated client can mint tens of thousands of tokens a second; without a cap the
//! store would grow until the process is killed.
//!
//! ## Memory per token
//!
//! One stored token costs its [`TokenRecord`] (about 150 bytes inline on x86-64: a 32-byte
//! digest, three `Vec`/`String` headers, two 16-byte timestamps and the client id's header),
//! its hash-table slot (the 32-byte key, the record, one control byte), its expiry-index entry
//! (a 16-byte instant and the 32-byte digest in a B-tree node) and the heap data of its client
//! id, subject, scope tokens and audience: with a 10-byte client id, two scope tokens and one
//! audience URI, about **450 bytes per token**, so the default global cap of one million live
//! tokens bounds the store near 450 MB. [`MemoryTokenStore::approx_bytes`] computes the figure
//! for the records actually held.

use jeton::time::OffsetDateTime;
use jeton::{CapacityExceeded, ClientId, StoreError, TokenDigest, TokenRecord, TokenStore};
use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

const SHARDS: usize = 32;
/// Shards of the per-client counters: their lock is taken once per insert.
const COUNTER_SHARDS: usize = 16;
/// Expired records an insert drops from its shard before adding its own. More than one, so
/// that purging outpaces expiry even when inserts are uneven across shards.
pub const PURGE_PER_INSERT: usize = 4;
/// The most records [`MemoryTokenStore::purge_expired`] drops per shard lock hold.
pub const PURGE_CHUNK: usize = 256;

/// Caps on the live tokens of a [`MemoryTokenStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenLimits {
    /// Live tokens of all clients together. Default 1 000 000 (about 450 MB).
    pub max_tokens: usize,
    /// Live tokens of one client. Default 100 000: a client that caches its token, as RFC 6749
    /// §4.4 clients do, holds a handful.
    pub max_per_client: usize,
}

impl Default for TokenLimits {
    fn default() -> Self {
        Self {
            max_tokens: 1_000_000,
            max_per_client: 100_000,
        }
    }
}

#[derive(Debug, Default)]
struct Shard {
    records: HashMap<TokenDigest, TokenRecord>,
    /// The same records, by expiry: the front is the next to expire.
    by_expiry: BTreeSet<(OffsetDateTime, TokenDigest)>,
}

impl Shard {
    fn remove(&mut self, digest: &TokenDigest) -> Option<TokenRecord> {
        let r = self.records.remove(digest)?;
        self.by_expiry.remove(&(r.claims.expires_at, *digest));
        Some(r)
    }

    /// Drops up to `max` records expired at `now` (`!is_active(now)`: `expires_at <= now`).
    fn purge(&mut self, now: OffsetDateTime, max: usize, dropped: &mut Vec<ClientId>) {
        for _ in 0..max {
            match self.by_expiry.first() {
                Some(&(expires_at, digest)) if expires_at <= now => {
                    self.by_expiry.pop_first();
                    if let Some(r) = self.records.remove(&digest) {
                        dropped.push(r.claims.client_id);
                    }
                }
                _ => break,
            }
        }
    }
}

/// Opaque-token records in memory, sharded by digest, with caps (see the
/// [module docs](crate::tokens)).
#[derive(Debug)]
pub struct MemoryTokenStore {
    shards: Vec<Mutex<Shard>>,
    limits: TokenLimits,
    live: AtomicUsize,
    per_client: Vec<Mutex<HashMap<ClientId, usize>>>,
}

impl Default for MemoryTokenStore {
    fn default() -> Self {
        Self::with_limits(TokenLimits::default())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MemoryTokenStore {
    /// An empty store with the default [`TokenLimits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store with these caps.
    pub fn with_limits(limits: TokenLimits) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            limits,
            live: AtomicUsize::new(0),
            per_client: (0..COUNTER_SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    /// Its caps.
    pub fn limits(&self) -> TokenLimits {
        self.limits
    }

    fn shard(&self, digest: &TokenDigest) -> &Mutex<Shard> {
        // The digest is SHA-256 of a random value: any byte is uniformly distributed.
        &self.shards[usize::from(digest.as_bytes()[0]) % SHARDS]
    }

    fn counters(&self, client: &ClientId) -> &Mutex<HashMap<ClientId, usize>> {
        // Fixed hasher keys are fine: only authenticated clients' ids get here.
        let h = BuildHasherDefault::<DefaultHasher>::default().hash_one(client);
        &self.per_client[(h as usize) % COUNTER_SHARDS]
    }

    /// How many records are held (expired ones not yet purged included).
    pub fn len(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many records of `client` are held (expired ones not yet purged included).
    pub fn client_len(&self, client: &ClientId) -> usize {
        lock(self.counters(client))
            .get(client)
            .copied()
            .unwrap_or(0)
    }

    /// Drops every record expired at `now`; returns how many. Holds one shard lock at a time,
    /// for at most [`PURGE_CHUNK`] records, and only visits expired records.
    pub fn purge_expired(&self, now: OffsetDateTime) -> usize {
        let mut total = 0;
        let mut dropped = Vec::with_capacity(PURGE_CHUNK);
        for shard in &self.shards {
            loop {
                lock(shard).purge(now, PURGE_CHUNK, &mut dropped);
                let n = dropped.len();
                self.forget(dropped.drain(..));
                total += n;
                if n < PURGE_CHUNK {
                    break;
                }
            }
        }
        total
    }

    /// An estimate of the bytes the held records use: inline size plus heap data plus the
    /// hash-table overhead of one key and one control byte each, plus the expiry index.
    pub fn approx_bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let s = lock(s);
                let slots = s.records.capacity();
                let slot = size_of::<TokenDigest>() + size_of::<TokenRecord>() + 1;
                let heap: usize = s.records.values().map(record_heap_bytes).sum();
                let index = s.by_expiry.len() * size_of::<(OffsetDateTime, TokenDigest)>();
                slots * slot + heap + index
            })
            .sum()
    }

    /// Takes one live-token slot for `client`, or says which cap is reached.
    fn reserve(&self, client: &ClientId) -> Result<(), CapacityExceeded> {
        self.live
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.limits.max_tokens).then_some(n + 1)
            })
            .map_err(|_| CapacityExceeded::Global)?;
        let mut counts = lock(self.counters(client));
        let count = counts.entry(client.clone()).or_insert(0);
        if *count >= self.limits.max_per_client {
            drop(counts);
            self.live.fetch_sub(1, Ordering::Relaxed);
            return Err(CapacityExceeded::PerClient);
        }
        *count += 1;
        Ok(())
    }

    /// Gives back the slots of removed records.
    fn forget(&self, clients: impl IntoIterator<Item = ClientId>) {
        for client in clients {
            self.live.fetch_sub(1, Ordering::Relaxed);
            let mut counts = lock(self.counters(&client));
            if let Some(c) = counts.get_mut(&client) {
                *c -= 1;
                // Entries go with the client's last token: the map holds only clients with
                // live tokens, so it is bounded by the caps above.
                if *c == 0 {
                    counts.remove(&client);
                }
            }
        }
    }
}

fn record_heap_bytes(r: &TokenRecord) -> usize {
    r.claims.client_id.as_str().len()
        + r.claims.subject.capacity()
        + r.claims
            .scope
            .iter()
            .map(|t| t.as_str().len() + 24)
            .sum::<usize>()
        + r.claims
            .audience
            .iter()
            .map(|a| a.as_str().len() + 24)
            .sum::<usize>()
}

#[async_trait::async_trait]
impl TokenStore for MemoryTokenStore {
    async fn insert(&self, record: TokenRecord) -> Result<(), StoreError> {
        let now = record.claims.issued_at;
        let mut dropped = Vec::new();
        lock(self.shard(&record.digest)).purge(now, PURGE_PER_INSERT, &mut dropped);
        self.forget(dropped);
        if let Err(cap) = self.reserve(&record.claims.client_id) {
            // Full: what has expired may still be counted; drop it and try once more. The
            // sweep visits expired records only, each once, so repeated refusals stay cheap.
            self.purge_expired(now);
            self.reserve(&record.claims.client_id)
                .map_err(|_| StoreError::capacity_exceeded(cap))?;
        }
        let replaced = {
            let mut shard = lock(self.shard(&record.digest));
            let replaced = shard.remove(&record.digest);
            shard
                .by_expiry
                .insert((record.claims.expires_at, record.digest));
            shard.records.insert(record.digest, record);
            replaced
        };
        // A digest seen twice (a caller re-inserting a record) keeps one slot, not two.
        self.forget(replaced.map(|r| r.claims.client_id));
        Ok(())
    }

    async fn get(&self, digest: &TokenDigest) -> Result<Option<TokenRecord>, StoreError> {
        Ok(lock(self.shard(digest)).records.get(digest).cloned())
    }

    async fn revoke(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
        let removed = lock(self.shard(digest)).remove(digest);
        let found = removed.is_some();
        self.forget(removed.map(|r| r.claims.client_id));
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jeton::time::Duration;
    use jeton::{Scope, TokenClaims, TokenStore};
    use jeton_testkit::{block_on, now};

    fn record(n: u64, client: &str, issued_at: OffsetDateTime, life: Duration) -> TokenRecord {
        TokenRecord::new(
            TokenDigest::of(&format!("token-{n}")),
            TokenClaims::new(
                ClientId::new(client).unwrap(),
                client.to_owned(),
                Scope::parse("read").unwrap(),
                vec![],
                issued_at,
                issued_at + life,
            ),
        )
    }

    fn capped(max_tokens: usize, max_per_client: usize) -> MemoryTokenStore {
        MemoryTokenStore::with_limits(TokenLimits {
            max_tokens,
            max_per_client,
        })
    }

    #[test]
    fn the_per_client_cap_refuses_that_client_only() {
        let s = capped(100, 3);
        for n in 0..3 {
            block_on(s.insert(record(n, "a", now(), Duration::minutes(5)))).unwrap();
        }
        let e = block_on(s.insert(record(3, "a", now(), Duration::minutes(5)))).unwrap_err();
        assert_eq!(e.capacity(), Some(CapacityExceeded::PerClient));
        block_on(s.insert(record(4, "b", now(), Duration::minutes(5)))).unwrap();
        assert_eq!(s.client_len(&ClientId::new("a").unwrap()), 3);
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn the_global_cap_refuses_every_client() {
        let s = capped(4, 10);
        for n in 0..4 {
            let client = if n % 2 == 0 { "a" } else { "b" };
            block_on(s.insert(record(n, client, now(), Duration::minutes(5)))).unwrap();
        }
        let e = block_on(s.insert(record(9, "c", now(), Duration::minutes(5)))).unwrap_err();
        assert_eq!(e.capacity(), Some(CapacityExceeded::Global));
        assert_eq!(s.len(), 4);
        assert_eq!(s.client_len(&ClientId::new("c").unwrap()), 0);
    }

    #[test]
    fn a_full_store_takes_new_tokens_once_old_ones_expire() {
        let s = capped(4, 2);
        for n in 0..2 {
            block_on(s.insert(record(n, "a", now(), Duration::seconds(10)))).unwrap();
        }
        assert!(block_on(s.insert(record(2, "a", now(), Duration::seconds(10)))).is_err());
        // Ten seconds on, both have expired: the refused insert's purge frees their slots.
        let later = now() + Duration::seconds(10);
        block_on(s.insert(record(3, "a", later, Duration::seconds(10)))).unwrap();
        assert_eq!(s.client_len(&ClientId::new("a").unwrap()), 1);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn revoking_gives_the_slot_back() {
        let s = capped(10, 1);
        let r = record(1, "a", now(), Duration::minutes(5));
        block_on(s.insert(r.clone())).unwrap();
        assert!(block_on(s.insert(record(2, "a", now(), Duration::minutes(5)))).is_err());
        assert!(block_on(s.revoke(&r.digest)).unwrap());
        block_on(s.insert(record(2, "a", now(), Duration::minutes(5)))).unwrap();
    }

    #[test]
    fn reinserting_a_digest_keeps_one_slot() {
        let s = capped(10, 10);
        let r = record(1, "a", now(), Duration::minutes(5));
        block_on(s.insert(r.clone())).unwrap();
        block_on(s.insert(r)).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s.client_len(&ClientId::new("a").unwrap()), 1);
    }

    #[test]
    fn purge_works_in_chunks_and_visits_only_expired_records() {
        let s = MemoryTokenStore::new();
        let n = (SHARDS * PURGE_CHUNK * 3) as u64;
        for i in 0..n {
            let life = if i % 2 == 0 { 10 } else { 3600 };
            block_on(s.insert(record(i, "a", now(), Duration::seconds(life)))).unwrap();
        }
        // A chunk's worth of expired records per lock hold: more than one chunk per shard here.
        let dropped = s.purge_expired(now() + Duration::seconds(10));
        assert_eq!(dropped as u64, n / 2);
        assert_eq!(s.len() as u64, n / 2);
        assert_eq!(s.client_len(&ClientId::new("a").unwrap()) as u64, n / 2);
        // Nothing expired is left to visit; the index and the map agree.
        assert_eq!(s.purge_expired(now() + Duration::seconds(10)), 0);
        for shard in &s.shards {
            let shard = lock(shard);
            assert_eq!(shard.records.len(), shard.by_expiry.len());
        }
    }

    #[test]
    fn the_counter_map_forgets_clients_without_tokens() {
        let s = MemoryTokenStore::new();
        for i in 0..100u64 {
            let r = record(i, &format!("c{i}"), now(), Duration::seconds(1));
            block_on(s.insert(r)).unwrap();
        }
        s.purge_expired(now() + Duration::seconds(1));
        let entries: usize = s.per_client.iter().map(|m| lock(m).len()).sum();
        assert_eq!(entries, 0);
        assert!(s.is_empty());
    }
}

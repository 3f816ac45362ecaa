//! Opaque-token records in memory: compact, sharded, capped, purged in bounded steps.
//!
//! Records live in 32 shards chosen by digest, each behind its own `Mutex`, so concurrent
//! issuers rarely meet on one lock. Each shard also keeps its records ordered by expiry (in a
//! FIFO lane per token lifetime, as tokens of one lifetime expire in the order they were
//! issued, and a heap for the rest), so finding the expired ones never scans the live ones:
//!
//! - every insert also drops up to [`PURGE_PER_INSERT`] expired records of its shard (using the
//!   new record's `issued_at` as the clock: the store never reads one), which keeps up with
//!   expiry under any steady load, so memory follows the tokens *alive* at once;
//! - [`MemoryTokenStore::purge_expired`], for a periodic task, drops the rest shard by shard,
//!   looking at most at [`PURGE_CHUNK`] index entries per lock hold, so a sweep of a million
//!   records never makes a token request wait more than one chunk; the exception is the one
//!   hold in which a shard that has fallen below half full is rebuilt at its live size, linear
//!   in what it still holds, like a hash-table resize.
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
//! A record is not kept as a [`TokenRecord`]. What the tokens of one client share (client id,
//! subject, scope, audience) is kept once, in a grant behind an `Arc`, found again by hash on
//! insert (compared with the borrowed claims in place, so that only the first token of its
//! kind copies their strings) and freed with the last token that uses it; per token the store
//! keeps a fixed 72-byte entry (the 32-byte digest, both instants as seconds and nanoseconds,
//! the grant pointer, and for a DPoP-bound token a pointer to the 32 bytes its `cnf.jkt`
//! thumbprint encodes), a 4-byte slot number in a hash index and a 16-byte entry in the expiry
//! index.
//! Lookups rebuild the record, equal to the one inserted to the nanosecond. With growth slack,
//! a live opaque token costs **about 120 bytes of heap** (`tests/memory.rs` measures 100 000 of
//! them from four clients, a quarter DPoP-bound, with a counting allocator, and holds the store
//! to at most 200), so the default global cap of one million live tokens bounds the store near
//! 120 MB. When tokens go, so does their memory: a shard less than half full is rebuilt at its
//! live size, and the index entries of revoked tokens are dropped once they outnumber the live
//! ones. [`MemoryTokenStore::approx_bytes`] estimates the figure for the records actually held.
//!
//! A record with a `jti` (which opaque tokens from the engine never have) or with a
//! confirmation that is not a SHA-256 thumbprint shares its grant only with identical ones.

mod compact;
mod expiry;
mod shard;

use compact::{Entry, Grant, GrantKey, Split, instant};
use hashbrown::{DefaultHashBuilder, HashMap, HashTable};
use jeton::time::OffsetDateTime;
use jeton::{
    CapacityExceeded, ClientId, StoreError, TokenClaims, TokenDigest, TokenRecord, TokenStore,
};
use shard::Shard;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Shards of the token records, chosen by the digest's first byte, each growing on its own
/// under its own lock. More shards make each growth step smaller but more frequent: 128 halved
/// the slowest insert of a 3-million-token store and not that of a 10-million one, where twice
/// as many inserts waited 0.5 ms or more (`examples/insert_stalls.rs`, `BENCHMARKS.md`).
const SHARDS: usize = 32;
/// Shards of the per-client counters and grants: their lock is taken once per insert.
const COUNTER_SHARDS: usize = 16;
/// Expired records an insert drops from its shard before adding its own. More than one, so
/// that purging outpaces expiry even when inserts are uneven across shards.
pub const PURGE_PER_INSERT: usize = 4;
/// The most expiry-index entries [`MemoryTokenStore::purge_expired`] looks at per shard lock
/// hold (each drops a record, unless its token was already revoked).
pub const PURGE_CHUNK: usize = 256;
/// Live tokens a store holds at most, whatever [`TokenLimits::max_tokens`] says: a shard
/// numbers its slots with `u32`. That many tokens would take about 500 GB.
pub const MAX_TOKENS: usize = u32::MAX as usize;

/// Caps on the live tokens of a [`MemoryTokenStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenLimits {
    /// Live tokens of all clients together. Default 1 000 000 (about 120 MB); at most
    /// [`MAX_TOKENS`] take effect.
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

/// The live-token counts and the shared grants of the clients that hash to one counter shard.
#[derive(Default)]
struct Clients {
    /// Tokens held per client; a client goes with its last token.
    live: HashMap<ClientId, usize>,
    /// One of each distinct grant in use, shared by its tokens' entries; a grant goes with the
    /// last token that uses it, so there are never more grants than tokens.
    grants: HashTable<Arc<Grant>>,
}

/// Opaque-token records in memory, sharded by digest, with caps (see the
/// [module docs](crate::tokens)).
pub struct MemoryTokenStore {
    shards: Vec<Mutex<Shard>>,
    limits: TokenLimits,
    live: AtomicUsize,
    clients: Vec<Mutex<Clients>>,
    /// Seeded per store: grants and client ids are hashed with it.
    hasher: DefaultHashBuilder,
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTokenStore")
            .field("limits", &self.limits)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
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
            clients: (0..COUNTER_SHARDS).map(|_| Mutex::default()).collect(),
            hasher: DefaultHashBuilder::default(),
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

    fn clients_of(&self, client: &ClientId) -> &Mutex<Clients> {
        &self.clients[(self.hasher.hash_one(client) as usize) % COUNTER_SHARDS]
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
        lock(self.clients_of(client))
            .live
            .get(client)
            .copied()
            .unwrap_or(0)
    }

    /// Drops every record expired at `now`; returns how many. Holds one shard lock at a time,
    /// looking at no more than [`PURGE_CHUNK`] index entries in each, and only at entries
    /// that have come due.
    pub fn purge_expired(&self, now: OffsetDateTime) -> usize {
        let now = instant(now);
        let mut total = 0;
        let mut dropped = Vec::with_capacity(PURGE_CHUNK);
        for shard in &self.shards {
            loop {
                let more = lock(shard).purge(now, PURGE_CHUNK, &mut dropped);
                total += dropped.len();
                self.forget(dropped.drain(..));
                if !more {
                    break;
                }
            }
        }
        total
    }

    /// An estimate of the heap bytes the store uses: each shard's slots, index, expiry index
    /// and thumbprints, and each distinct grant with its strings, once.
    pub fn approx_bytes(&self) -> usize {
        let shards: usize = self.shards.iter().map(|s| lock(s).approx_bytes()).sum();
        let grants: usize = self
            .clients
            .iter()
            .map(|c| {
                let c = lock(c);
                let live = c.live.capacity() * (size_of::<(ClientId, usize)>() + 1)
                    + c.live.keys().map(|k| k.as_str().len()).sum::<usize>();
                let table = c.grants.capacity() * (size_of::<Arc<Grant>>() + 1);
                live + table + c.grants.iter().map(|g| g.heap_bytes()).sum::<usize>()
            })
            .sum();
        shards + grants
    }

    /// The global cap in force: [`TokenLimits::max_tokens`], at most [`MAX_TOKENS`].
    fn max_tokens(&self) -> usize {
        self.limits.max_tokens.min(MAX_TOKENS)
    }

    /// Takes one live-token slot for `client`, or says which cap is reached. Returns the
    /// client's counter shard still locked, for [`share`] to find the token's grant in.
    fn reserve(&self, client: &ClientId) -> Result<MutexGuard<'_, Clients>, CapacityExceeded> {
        let max = self.max_tokens();
        self.live
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < max).then_some(n + 1)
            })
            .map_err(|_| CapacityExceeded::Global)?;
        let mut clients = lock(self.clients_of(client));
        let held = clients.live.get(client).copied().unwrap_or(0);
        if held >= self.limits.max_per_client {
            drop(clients);
            self.live.fetch_sub(1, Ordering::Relaxed);
            return Err(CapacityExceeded::PerClient);
        }
        match clients.live.get_mut(client) {
            Some(n) => *n += 1,
            // The id is copied once per client, not once per token.
            None => {
                clients.live.insert(client.clone(), 1);
            }
        }
        Ok(clients)
    }

    /// Gives back the slots of removed records, and frees each grant with its last token.
    fn forget(&self, removed: impl IntoIterator<Item = Entry>) {
        for entry in removed {
            self.live.fetch_sub(1, Ordering::Relaxed);
            let grant = entry.grant;
            let mut clients = lock(self.clients_of(&grant.client_id));
            let c = &mut *clients;
            if let Some(n) = c.live.get_mut(&grant.client_id) {
                *n -= 1;
                // Entries go with the client's last token: the map holds only clients with
                // live tokens, so it is bounded by the caps above.
                if *n == 0 {
                    c.live.remove(&grant.client_id);
                }
            }
            // Counts of a grant change only under this lock (`share` clones, this drops, and
            // nothing else clones it): 2 is this token's reference and the table's.
            let mut last = None;
            if Arc::strong_count(&grant) == 2
                && let Ok(found) = c.grants.find_entry(grant.hash, |g| Arc::ptr_eq(g, &grant))
            {
                last = Some(found.remove().0);
            }
            shrink_clients(c);
            // The grant's strings, if this was its last token, are freed after the lock.
            drop(clients);
            drop(last);
        }
    }
}

/// The shared copy of the grant `key` names, from its client's counter shard (locked by
/// [`MemoryTokenStore::reserve`]), added if it is the first of its kind: only then are the
/// claims' strings copied.
fn share(mut clients: MutexGuard<'_, Clients>, key: &GrantKey<'_>) -> Arc<Grant> {
    if let Some(shared) = clients.grants.find(key.hash, |g| key.matches(g)) {
        return shared.clone();
    }
    // Copied under the lock, but once per kind of token, not per token. Two probes on this
    // path (`find`, then `insert_unique`): `entry` would probe once, but it makes room before
    // it looks, so a full table would grow for a grant it already holds, on the path nearly
    // every insert takes.
    let shared = Arc::new(key.to_grant());
    clients
        .grants
        .insert_unique(shared.hash, shared.clone(), |g| g.hash);
    shared
}

/// Gives a counter shard's tables back their room once they are a quarter full (small ones
/// only once empty), so that a burst of clients or grants holds no memory after their tokens
/// are gone.
fn shrink_clients(c: &mut Clients) {
    let worth = |len: usize, capacity: usize| len * 4 < capacity && (capacity > 16 || len == 0);
    if worth(c.live.len(), c.live.capacity()) {
        c.live.shrink_to(c.live.len() * 2);
    }
    if worth(c.grants.len(), c.grants.capacity()) {
        c.grants.shrink_to(c.grants.len() * 2, |g| g.hash);
    }
}

#[async_trait::async_trait]
impl TokenStore for MemoryTokenStore {
    async fn insert(&self, digest: &TokenDigest, claims: &TokenClaims) -> Result<(), StoreError> {
        let Split { grant, own } = Split::new(digest, claims, &self.hasher);
        let now = own.issued_at;
        let clients = match self.reserve(grant.client_id) {
            Ok(clients) => clients,
            Err(cap) => {
                // Full: what has expired may still be counted; drop it and try once more. The
                // sweep visits expired records only, each once, so repeated refusals stay cheap.
                self.purge_expired(now);
                self.reserve(grant.client_id)
                    .map_err(|_| StoreError::capacity_exceeded(cap))?
            }
        };
        let grant = share(clients, &grant);
        let entry = own.into_entry(grant);
        #[cfg(debug_assertions)]
        debug_assert_round_trip(&entry, digest, claims);
        let mut dropped = Vec::new();
        {
            let mut shard = lock(self.shard(&entry.digest));
            shard.purge(instant(now), PURGE_PER_INSERT, &mut dropped);
            // A digest seen twice (a caller re-inserting a record) keeps one slot, not two.
            dropped.extend(shard.insert(entry));
        }
        self.forget(dropped);
        Ok(())
    }

    async fn get(&self, digest: &TokenDigest) -> Result<Option<TokenRecord>, StoreError> {
        let found = lock(self.shard(digest)).get(digest).map(Entry::found);
        Ok(found.map(compact::Found::into_record))
    }

    async fn revoke(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
        let removed = lock(self.shard(digest)).remove(digest);
        let found = removed.is_some();
        self.forget(removed);
        Ok(found)
    }
}

/// Every record must come back as it went in: a field added to `TokenClaims` that the compact
/// form does not carry fails here, in every debug test run.
#[cfg(debug_assertions)]
fn debug_assert_round_trip(entry: &Entry, digest: &TokenDigest, claims: &TokenClaims) {
    let back = entry.found().into_record();
    debug_assert_eq!(&back.digest, digest);
    debug_assert_eq!(&back.claims, claims);
    debug_assert_eq!(
        (
            back.claims.issued_at.offset(),
            back.claims.expires_at.offset()
        ),
        (claims.issued_at.offset(), claims.expires_at.offset())
    );
}

#[cfg(test)]
mod tests;

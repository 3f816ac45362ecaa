//! In-memory stores for [`jeton`]: the reference implementation of [`ClientStore`] and
//! [`TokenStore`], and the test double every other crate uses.
//!
//! - [`MemoryClientStore`]: clients behind a `RwLock` (reads share it; the hot path never
//!   waits on another reader).
//! - [`MemoryReplayStore`]: single-use `jti`s (client assertions, DPoP proofs), with a fixed
//!   capacity; full of live entries, it refuses rather than evicts.
//! - [`MemoryTokenStore`]: token records in 32 shards chosen by digest, each behind its own
//!   `Mutex`, so concurrent issuers rarely meet on one lock. Expired records are purged as new
//!   ones arrive, using the new record's `issued_at` as the clock (the store never reads one),
//!   so memory stays bounded by the number of tokens *alive* at once.
//!
//! ## Memory per token
//!
//! One stored token costs its [`TokenRecord`] (about 150 bytes inline on x86-64: a 32-byte
//! digest, three `Vec`/`String` headers, two 16-byte timestamps and the client id's header),
//! its hash-table slot (the 32-byte key, the record, one control byte) and the heap data of
//! its client id, subject, scope tokens and audience: with a 10-byte client id, two scope tokens
//! and one audience URI, about **400 bytes per token**. [`MemoryTokenStore::approx_bytes`]
//! computes the figure for the records actually held.
//!
//! Nothing here survives a restart; for several nodes use `jeton-postgres`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use jeton;

mod replay;
pub use replay::{DEFAULT_REPLAY_CAPACITY, MemoryReplayStore};

use jeton::{
    ClientId, ClientRecord, ClientStore, RevocationList, SecretVerifier, StoreError, TokenDigest,
    TokenRecord, TokenStore,
};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError, RwLock};

/// Clients in memory.
#[derive(Debug, Default)]
pub struct MemoryClientStore {
    clients: RwLock<HashMap<ClientId, ClientRecord>>,
}

impl MemoryClientStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding these clients.
    pub fn with_clients(clients: impl IntoIterator<Item = ClientRecord>) -> Self {
        let s = Self::new();
        for c in clients {
            s.put(c);
        }
        s
    }

    /// Adds or replaces a client.
    pub fn put(&self, client: ClientRecord) {
        self.clients
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(client.id.clone(), client);
    }

    /// Removes a client; returns whether it was there.
    pub fn remove(&self, id: &ClientId) -> bool {
        self.clients
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id)
            .is_some()
    }

    /// How many clients are registered.
    pub fn len(&self) -> usize {
        self.clients
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no client is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait::async_trait]
impl ClientStore for MemoryClientStore {
    async fn client(&self, id: &ClientId) -> Result<Option<ClientRecord>, StoreError> {
        Ok(self
            .clients
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned())
    }

    async fn upgrade_verifier(
        &self,
        id: &ClientId,
        old: &SecretVerifier,
        new: SecretVerifier,
    ) -> Result<(), StoreError> {
        let mut clients = self.clients.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = clients.get_mut(id)
            && let Some(s) = c.secrets.iter_mut().find(|s| &s.verifier == old)
        {
            s.verifier = new;
        }
        Ok(())
    }
}

/// Revoked JWT ids in memory, purged as their tokens expire.
#[derive(Debug, Default)]
pub struct MemoryRevocationList {
    entries: Mutex<RevokedSet>,
}

#[derive(Debug, Default)]
struct RevokedSet {
    by_jti: HashMap<String, jeton::time::OffsetDateTime>,
    next_purge_at: usize,
}

impl MemoryRevocationList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many entries are held.
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_jti
            .len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait::async_trait]
impl RevocationList for MemoryRevocationList {
    async fn revoke_jti(
        &self,
        jti: &str,
        expires_at: jeton::time::OffsetDateTime,
        now: jeton::time::OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut set = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if set.by_jti.len() >= set.next_purge_at {
            set.by_jti.retain(|_, exp| *exp > now);
            set.next_purge_at = (set.by_jti.len() * 2).max(64);
        }
        if expires_at > now {
            set.by_jti.insert(jti.to_owned(), expires_at);
        }
        Ok(())
    }

    async fn is_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        Ok(self
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_jti
            .contains_key(jti))
    }
}

const SHARDS: usize = 32;

#[derive(Debug, Default)]
struct Shard {
    records: HashMap<TokenDigest, TokenRecord>,
    /// Purge when the shard reaches this size; then set to twice the live size.
    next_purge_at: usize,
}

/// Opaque-token records in memory, sharded by digest.
#[derive(Debug)]
pub struct MemoryTokenStore {
    shards: Vec<Mutex<Shard>>,
}

impl Default for MemoryTokenStore {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        records: HashMap::new(),
                        next_purge_at: 64,
                    })
                })
                .collect(),
        }
    }
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn shard(&self, digest: &TokenDigest) -> &Mutex<Shard> {
        // The digest is SHA-256 of a random value: any byte is uniformly distributed.
        &self.shards[usize::from(digest.as_bytes()[0]) % SHARDS]
    }

    /// How many records are held (expired ones not yet purged included).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                s.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .records
                    .len()
            })
            .sum()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every record expired at `now`; returns how many.
    pub fn purge_expired(&self, now: jeton::time::OffsetDateTime) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let mut s = s.lock().unwrap_or_else(PoisonError::into_inner);
                let before = s.records.len();
                s.records.retain(|_, r| r.is_active(now));
                before - s.records.len()
            })
            .sum()
    }

    /// An estimate of the bytes the held records use: inline size plus heap data plus the
    /// hash-table overhead of one key and one control byte each.
    pub fn approx_bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let s = s.lock().unwrap_or_else(PoisonError::into_inner);
                let slots = s.records.capacity();
                let slot = size_of::<TokenDigest>() + size_of::<TokenRecord>() + 1;
                let heap: usize = s.records.values().map(record_heap_bytes).sum();
                slots * slot + heap
            })
            .sum()
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
        let mut shard = self
            .shard(&record.digest)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if shard.records.len() >= shard.next_purge_at {
            let now = record.claims.issued_at;
            shard.records.retain(|_, r| r.is_active(now));
            // Amortised O(1): the next sweep waits until the live set has doubled.
            shard.next_purge_at = (shard.records.len() * 2).max(64);
        }
        shard.records.insert(record.digest, record);
        Ok(())
    }

    async fn get(&self, digest: &TokenDigest) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self
            .shard(digest)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .records
            .get(digest)
            .cloned())
    }

    async fn revoke(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
        Ok(self
            .shard(digest)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .records
            .remove(digest)
            .is_some())
    }
}

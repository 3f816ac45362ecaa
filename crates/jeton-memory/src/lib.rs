//! In-memory stores for [`jeton`]: the reference implementation of [`ClientStore`] and
//! [`TokenStore`], and the test double every other crate uses.
//!
//! - [`MemoryClientStore`]: clients behind a `RwLock` (reads share it; the hot path never
//!   waits on another reader). It also implements [`ClientRegistry`], the reference behaviour
//!   of client management that the SQL stores match (`jeton_testkit::store_conformance`).
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
//! Nothing here survives a restart: for one node that must, use `jeton-sqlite`; for several
//! nodes, `jeton-postgres`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use jeton;

use jeton::time::OffsetDateTime;
use jeton::{
    ClientId, ClientRecord, ClientRegistry, ClientStore, MAX_LIST_CLIENTS, RegisteredSecret,
    RevocationList, SecretId, SecretVerifier, StoreError, TokenDigest, TokenRecord, TokenStore,
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

// The reference behaviour of client management: the SQL stores pass the same conformance table.
#[async_trait::async_trait]
impl ClientRegistry for MemoryClientStore {
    async fn create_client(&self, client: ClientRecord) -> Result<bool, StoreError> {
        let mut clients = self.clients.write().unwrap_or_else(PoisonError::into_inner);
        if clients.contains_key(&client.id) {
            return Ok(false);
        }
        clients.insert(client.id.clone(), client);
        Ok(true)
    }

    async fn put_client(&self, client: ClientRecord) -> Result<(), StoreError> {
        self.put(client);
        Ok(())
    }

    async fn update_settings(&self, mut client: ClientRecord) -> Result<bool, StoreError> {
        self.with_client(&client.id.clone(), |c| {
            client.secrets = std::mem::take(&mut c.secrets);
            *c = client;
            true
        })
    }

    async fn add_secret(
        &self,
        id: &ClientId,
        secret: RegisteredSecret,
    ) -> Result<bool, StoreError> {
        self.with_client(id, |c| {
            match c.secrets.iter_mut().find(|s| s.verifier == secret.verifier) {
                Some(s) => s.expires_at = secret.expires_at,
                None => c.secrets.push(secret),
            }
            true
        })
    }

    async fn retire_secret(
        &self,
        id: &ClientId,
        secret: &SecretId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.with_client(id, |c| {
            match c
                .secrets
                .iter_mut()
                .find(|s| &SecretId::of(&s.verifier) == secret)
            {
                Some(s) => {
                    s.expires_at = Some(at);
                    true
                }
                None => false,
            }
        })
    }

    async fn remove_secret(&self, id: &ClientId, secret: &SecretId) -> Result<bool, StoreError> {
        self.with_client(id, |c| {
            let before = c.secrets.len();
            c.secrets.retain(|s| &SecretId::of(&s.verifier) != secret);
            c.secrets.len() != before
        })
    }

    async fn set_enabled(&self, id: &ClientId, enabled: bool) -> Result<bool, StoreError> {
        self.with_client(id, |c| {
            c.enabled = enabled;
            true
        })
    }

    async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError> {
        Ok(self.remove(id))
    }

    async fn list_clients(
        &self,
        after: Option<&ClientId>,
        limit: usize,
    ) -> Result<Vec<ClientRecord>, StoreError> {
        let clients = self.clients.read().unwrap_or_else(PoisonError::into_inner);
        let mut page: Vec<&ClientRecord> = clients
            .values()
            .filter(|c| after.is_none_or(|a| c.id.as_str() > a.as_str()))
            .collect();
        page.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        page.truncate(limit.min(MAX_LIST_CLIENTS));
        Ok(page.into_iter().cloned().collect())
    }
}

impl MemoryClientStore {
    /// Runs `f` on client `id` under the write lock; `Ok(false)` when there is no such client.
    fn with_client(
        &self,
        id: &ClientId,
        f: impl FnOnce(&mut ClientRecord) -> bool,
    ) -> Result<bool, StoreError> {
        let mut clients = self.clients.write().unwrap_or_else(PoisonError::into_inner);
        Ok(clients.get_mut(id).is_some_and(f))
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

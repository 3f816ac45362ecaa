//! In-memory stores for [`jeton`]: the reference implementation of [`ClientStore`] and
//! [`TokenStore`](jeton::TokenStore), and the test double every other crate uses.
//!
//! - [`MemoryClientStore`]: clients behind a `RwLock` (reads share it; the hot path never
//!   waits on another reader). It also implements [`ClientRegistry`], the reference behaviour
//!   of client management that the SQL stores match (`jeton_testkit::store_conformance`).
//! - [`MemoryReplayStore`]: single-use `jti`s (client assertions, DPoP proofs), with a fixed
//!   capacity; full of live entries, it refuses rather than evicts.
//! - [`MemoryTokenStore`]: token records in 32 shards chosen by digest, capped globally and per
//!   client ([`TokenLimits`]), purged in bounded steps; see [`tokens`] for the design and the
//!   memory per token.
//!
//! Nothing here survives a restart: for one node that must, use `jeton-sqlite`; for several
//! nodes, `jeton-postgres`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use jeton;

mod replay;
pub use replay::{DEFAULT_REPLAY_CAPACITY, MemoryReplayStore};

pub mod tokens;
pub use tokens::{MemoryTokenStore, TokenLimits};

use jeton::time::OffsetDateTime;
use jeton::{
    ClientId, ClientRecord, ClientRegistry, ClientStore, MAX_LIST_CLIENTS, RegisteredSecret,
    RevocationList, SecretId, SecretVerifier, StoreError,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// Clients in memory.
#[derive(Debug, Default)]
pub struct MemoryClientStore {
    // Shared records: a lookup hands out a reference count, not a copy of the record (issue 13);
    // a change replaces the record (copy-on-write), so a request in flight keeps what it read.
    clients: RwLock<HashMap<ClientId, Arc<ClientRecord>>>,
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
            .insert(client.id.clone(), Arc::new(client));
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
    async fn client(&self, id: &ClientId) -> Result<Option<Arc<ClientRecord>>, StoreError> {
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
            && let Some(i) = c.secrets.iter().position(|s| &s.verifier == old)
        {
            Arc::make_mut(c).secrets[i].verifier = new;
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
        clients.insert(client.id.clone(), Arc::new(client));
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
            .map(|c| &**c)
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
        Ok(clients.get_mut(id).is_some_and(|c| f(Arc::make_mut(c))))
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

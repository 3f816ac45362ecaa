//! Every storage contract: clients, client management, opaque tokens, revoked JWT ids,
//! single-use values.

use crate::client::{ClientRecord, RegisteredSecret};
use crate::error::StoreError;
use crate::secret::SecretVerifier;
use crate::tokens::claims::{TokenClaims, TokenDigest, TokenRecord};
use crate::types::ClientId;
use std::fmt::Write as _;
use std::sync::Arc;
use time::OffsetDateTime;

/// Where registered clients live.
///
/// Implementations: `jeton-memory` (in process), a database of your own (shared by several nodes), or
/// your own. Methods take `&self`; a store owns its interior mutability.
#[async_trait::async_trait]
pub trait ClientStore: Send + Sync {
    /// Looks a client up by id.
    ///
    /// Already validated by the engine: `id` is 1 to 255 `VSCHAR` characters. An unknown id is
    /// `Ok(None)`; `Err` is for infrastructure failure only, and becomes `500 server_error`.
    ///
    /// The record comes back shared: a store that keeps records in memory hands out a
    /// reference count instead of copying the record on every request.
    async fn client(&self, id: &ClientId) -> Result<Option<Arc<ClientRecord>>, StoreError>;

    /// Replaces the verifier `old` of client `id` with `new`, after `old` has just verified a
    /// presented secret and is weaker than the engine's current policy (hash upgrade on login,
    /// RFC 9700 §2.5).
    ///
    /// Already validated by the engine: the secret verified against `old` at this instant. A
    /// store that cannot update returns `Ok(())` (the default); an error is reported as a
    /// diagnostic and does not fail the token request.
    async fn upgrade_verifier(
        &self,
        id: &ClientId,
        old: &SecretVerifier,
        new: SecretVerifier,
    ) -> Result<(), StoreError> {
        let _ = (id, old, new);
        Ok(())
    }
}

/// A short, stable name for one registered secret, so that an operator can point at the secret
/// to retire without holding it: 16 hex characters of SHA-256 over the verifier's string form.
///
/// The verifier is already one-way and salted, so this reveals nothing about the secret; two
/// verifiers of the same secret (different salts) have different ids.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretId(String);

impl SecretId {
    /// The id of a verifier.
    pub fn of(verifier: &SecretVerifier) -> Self {
        let d = ring::digest::digest(&ring::digest::SHA256, verifier.to_string().as_bytes());
        let mut s = String::with_capacity(16);
        for b in &d.as_ref()[..8] {
            // Writing to a String cannot fail.
            let _ = write!(s, "{b:02x}");
        }
        Self(s)
    }

    /// Reads an id as [`SecretId::as_str`] prints it: 16 lowercase hex characters.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 16
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| Self(s.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretId({})", self.0)
    }
}

impl std::fmt::Display for SecretId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The most clients one [`ClientRegistry::list_clients`] call returns, whatever the caller asks:
/// listing pages through the registry instead of loading it whole.
pub const MAX_LIST_CLIENTS: usize = 1000;

/// Client management on top of a [`ClientStore`]: what an operator (or `jeton client …`) does.
///
/// Every method takes effect for every handle on the same backing store at once: a secret
/// added through one node is accepted by all, without a restart, because the stores keep no
/// client cache. `Ok(false)` means "no such client" (or, for [`create_client`], "already
/// exists"); `Err` is for infrastructure failure only.
///
/// Secrets live apart from the other settings, so that rotating a secret never races with a
/// settings change: [`update_settings`] keeps the stored secrets, and the secret methods touch
/// one secret each.
///
/// [`create_client`]: ClientRegistry::create_client
/// [`update_settings`]: ClientRegistry::update_settings
#[async_trait::async_trait]
pub trait ClientRegistry: ClientStore {
    /// Registers a new client with its secrets. `Ok(false)`, and nothing changed, when the id is
    /// taken.
    async fn create_client(&self, client: ClientRecord) -> Result<bool, StoreError>;

    /// Creates the client or replaces it whole, secrets included: for declarative clients,
    /// where a configuration file is the truth.
    async fn put_client(&self, client: ClientRecord) -> Result<(), StoreError>;

    /// Replaces every setting of client `client.id` (enabled, scopes, grant types, lifetimes,
    /// resources, introspection) with `client`'s, keeping the stored secrets; `client.secrets`
    /// is ignored. Two concurrent updates: the last one wins.
    async fn update_settings(&self, client: ClientRecord) -> Result<bool, StoreError>;

    /// Adds a secret (the first step of a rotation). Adding a verifier that is already there
    /// updates its expiry.
    async fn add_secret(&self, id: &ClientId, secret: RegisteredSecret)
    -> Result<bool, StoreError>;

    /// Gives secret `secret` of client `id` an expiry: it keeps working until `at`, so clients
    /// can move to the new secret meanwhile (rotation with overlap). `at` in the past retires
    /// it at once. `Ok(false)` if the client or the secret is unknown.
    async fn retire_secret(
        &self,
        id: &ClientId,
        secret: &SecretId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Removes secret `secret` of client `id` for good. `Ok(false)` if either is unknown.
    async fn remove_secret(&self, id: &ClientId, secret: &SecretId) -> Result<bool, StoreError>;

    /// Enables or disables a client; a disabled client fails authentication like a wrong
    /// secret.
    async fn set_enabled(&self, id: &ClientId, enabled: bool) -> Result<bool, StoreError>;

    /// Deletes a client and its secrets. Tokens already issued to it stay valid until they
    /// expire or are revoked.
    async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError>;

    /// Up to `limit` clients (at most [`MAX_LIST_CLIENTS`]) whose ids sort after `after`, in
    /// byte order of their ids: pass the last id of one page to get the next.
    async fn list_clients(
        &self,
        after: Option<&ClientId>,
        limit: usize,
    ) -> Result<Vec<ClientRecord>, StoreError>;
}

/// Where opaque tokens live, by digest.
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores a freshly issued token: its `claims`, found again by `digest`.
    ///
    /// Already validated by the engine: the digest is of a new 256-bit random value, so a
    /// collision means a broken RNG. The claims' `issued_at` is the current time, which a store
    /// may use to purge expired records without reading a clock.
    ///
    /// Both are borrowed (from the engine's grant), so that a store copies only what it keeps:
    /// a store that shares what many tokens have in common, as `jeton-memory` does, copies no
    /// string at all for a token like one it already holds.
    async fn insert(&self, digest: &TokenDigest, claims: &TokenClaims) -> Result<(), StoreError>;

    /// Looks a token up by digest. Returns the record even if expired; callers check
    /// [`TokenRecord::is_active`]. A revoked token is `Ok(None)`.
    async fn get(&self, digest: &TokenDigest) -> Result<Option<TokenRecord>, StoreError>;

    /// Revokes a token. Returns whether it was present.
    ///
    /// Already validated by the engine: the caller authenticated as the client the token was
    /// issued to.
    async fn revoke(&self, digest: &TokenDigest) -> Result<bool, StoreError>;
}

/// Revoked JWT ids, kept until the token they name expires (so the list stays bounded by the
/// number of revoked tokens still alive).
#[async_trait::async_trait]
pub trait RevocationList: Send + Sync {
    /// Records `jti` as revoked until `expires_at`.
    ///
    /// Already validated by the engine: the caller authenticated as the client the token was
    /// issued to, and the token's signature verified. `now` is the request time, which a store
    /// may use to purge entries whose token has expired.
    async fn revoke_jti(
        &self,
        jti: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Whether `jti` is revoked.
    async fn is_revoked(&self, jti: &str) -> Result<bool, StoreError>;
}

/// The key of one single-use value in a [`ReplayStore`]: the SHA-256 digest of a namespace, the
/// client id and the `jti`, each length-prefixed.
///
/// Namespaced so a client assertion's `jti` and a DPoP proof's `jti`, or the same `jti` from two
/// clients, never collide (RFC 7523 §3 (7) makes `jti` unique per issuer only; RFC 9449 §11.1
/// per key). Fixed size, so a store's memory per entry does not depend on the client's input.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplayKey([u8; 32]);

impl ReplayKey {
    /// The namespace of client-assertion `jti`s (RFC 7523 §3 (7)).
    pub const CLIENT_ASSERTION: &'static str = "client-assertion";
    /// The namespace of DPoP proof `jti`s (RFC 9449 §11.1).
    pub const DPOP_PROOF: &'static str = "dpop-proof";

    /// The key of `jti` from `client` (a client id, or a DPoP key thumbprint) in `namespace`.
    pub fn new(namespace: &str, client: &str, jti: &str) -> Self {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        for part in [namespace, client, jti] {
            // Length prefixes: ("a", "bc") and ("ab", "c") must not digest alike.
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part.as_bytes());
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        Self(out)
    }

    /// Rebuilds a key from its bytes (as a store keeps them).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for ReplayKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReplayKey(")?;
        for b in self.0.iter().take(4) {
            write!(f, "{b:02x}")?;
        }
        write!(f, "..)")
    }
}

/// Single-use values seen recently: client-assertion `jti`s (RFC 7523 §3 (7), RFC-CHECKLIST item
/// 35) and DPoP proof `jti`s (RFC 9449 §11.1), each kept until it could no longer be accepted.
#[async_trait::async_trait]
pub trait ReplayStore: Send + Sync {
    /// Records `key` until `expires_at` unless it is already recorded and not yet expired.
    /// Returns `Ok(true)` if it was recorded now (first use), `Ok(false)` if it was there
    /// (a replay).
    ///
    /// Must be atomic: of two concurrent calls with one key, at most one gets `Ok(true)`.
    /// Already validated by the engine: the assertion or proof verified at `now`, and
    /// `expires_at` is the first instant from which it is refused anyway (past its `exp` plus
    /// leeway, or its `iat` window), so a store may forget `key` once `expires_at <= now`, and
    /// may round to whole seconds. `now` is the request time, which a store may use to purge
    /// expired entries.
    /// A store that cannot record (full of live entries, back end down) returns `Err`, and the
    /// request is refused: never `Ok(true)` without recording, which would allow a replay.
    async fn insert_if_absent(
        &self,
        key: &ReplayKey,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
}

/// Resolves a client's registered `jwks_uri` (RFC 7591 §2) to its public keys, for
/// `private_key_jwt`. The core never fetches: the embedder implements this with its HTTP client,
/// SSRF guards (no private addresses unless intended), a size cap and a cache (RFC-CHECKLIST
/// item 37), and gives it to [`EngineBuilder::client_keys_resolver`](crate::EngineBuilder::client_keys_resolver).
///
/// The engine asks it only for a registered client whose record has a `jwks_uri` and no inline
/// [`keys`](crate::ClientRecord::keys), once per client assertion, after the store read.
#[async_trait::async_trait]
pub trait ClientKeysResolver: Send + Sync {
    /// The keys published at `jwks_uri` for `client`, pinned to the client's algorithm
    /// ([`ClientKeys::from_json`](crate::ClientKeys::from_json)).
    ///
    /// - `Ok(Some(keys))`: the assertion is verified with them; one whose `kid` names none of
    ///   them is `401 invalid_client`, like every other failed authentication.
    /// - `Ok(None)`: no usable keys; the assertion is `401 invalid_client` (audit reason
    ///   `unknown_key`).
    /// - `Err`: the fetch failed. The request is answered `500 server_error` with the generic
    ///   description and nothing of the error; the error goes to the outcome's diagnostic (stage
    ///   `jwks_uri`) for the logs. A 500 rather than `invalid_client`: the client's key may be
    ///   fine, and an outage should page someone, not look like a wrong key.
    async fn client_keys(
        &self,
        client: &crate::ClientRecord,
        jwks_uri: &str,
    ) -> Result<Option<crate::ClientKeys>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SystemRandom;

    #[test]
    fn secret_ids_are_short_stable_and_per_verifier() {
        let rng = SystemRandom::new();
        let a = SecretVerifier::hmac_sha256("same-secret", &rng).unwrap();
        let b = SecretVerifier::hmac_sha256("same-secret", &rng).unwrap();
        let id = SecretId::of(&a);
        assert_eq!(id.as_str().len(), 16);
        assert_eq!(SecretId::of(&a), id, "stable");
        assert_ne!(SecretId::of(&b), id, "another salt, another id");
        assert_eq!(SecretId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(SecretId::parse("ABCDEF0123456789"), None);
        assert_eq!(SecretId::parse("0123"), None);
        assert!(!format!("{id:?}").contains(&a.to_string()));
    }
}

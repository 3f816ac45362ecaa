//! Every storage contract: clients, opaque tokens, revoked JWT ids, single-use values.

use crate::client::ClientRecord;
use crate::error::StoreError;
use crate::secret::SecretVerifier;
use crate::tokens::claims::{TokenDigest, TokenRecord};
use crate::types::ClientId;
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
    async fn client(&self, id: &ClientId) -> Result<Option<ClientRecord>, StoreError>;

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

/// Where opaque tokens live, by digest.
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores a freshly issued token.
    ///
    /// Already validated by the engine: the digest is of a new 256-bit random value, so a
    /// collision means a broken RNG. The record's `issued_at` is the current time, which a store
    /// may use to purge expired records without reading a clock.
    async fn insert(&self, record: TokenRecord) -> Result<(), StoreError>;

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
    /// `expires_at` is the last instant it would still be accepted (its `exp` or `iat` window
    /// plus leeway). `now` is the request time, which a store may use to purge expired entries.
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
#[async_trait::async_trait]
pub trait ClientKeysResolver: Send + Sync {
    /// The keys published at `jwks_uri` for `client`, pinned to the client's algorithm
    /// ([`ClientKeys::from_json`](crate::ClientKeys::from_json)). `Ok(None)`: none usable (the
    /// assertion then fails as `invalid_client`); `Err`: the fetch failed (`500`).
    async fn client_keys(
        &self,
        client: &crate::ClientRecord,
        jwks_uri: &str,
    ) -> Result<Option<crate::ClientKeys>, StoreError>;
}

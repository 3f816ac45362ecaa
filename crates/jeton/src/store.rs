//! Every storage contract: clients, opaque tokens, revoked JWT ids.

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

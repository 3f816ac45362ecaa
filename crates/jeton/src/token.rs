//! Opaque access tokens: format, digest, the token-store contract and the opaque issuer.
//!
//! An opaque token is `jt_` + base64url(256 random bits) + a 6-character checksum (52 characters
//! in all). Only its SHA-256 digest is stored, so a leaked database does not leak usable tokens;
//! the checksum lets scanners find leaked tokens and lets jeton reject garbage without a store
//! hit.

use crate::error::{IssueError, StoreError};
use crate::issuer::{AccessToken, Grant, TokenHandle, TokenInfo, TokenIssuer, TokenType};
use crate::secret::{RandomSource, TOKEN_PREFIX, is_well_formed, prefixed_random};
use crate::types::{ClientId, Resource, Scope};
use ring::digest;
use std::fmt;
use std::sync::Arc;
use time::OffsetDateTime;

/// The SHA-256 digest of a token value: the only form in which opaque tokens are stored.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    /// Digests a token value.
    pub fn of(token: &str) -> Self {
        let mut out = [0u8; 32];
        out.copy_from_slice(digest::digest(&digest::SHA256, token.as_bytes()).as_ref());
        Self(out)
    }

    /// Rebuilds a digest from its bytes (as a store keeps them).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenDigest(")?;
        for b in &self.0[..4] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "..)")
    }
}

/// Whether `token` has the shape and checksum of an opaque jeton token; if so, its digest.
pub fn opaque_token_digest(token: &str) -> Option<TokenDigest> {
    is_well_formed(TOKEN_PREFIX, token).then(|| TokenDigest::of(token))
}

/// What is stored for one opaque token.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenRecord {
    /// Digest of the token value.
    pub digest: TokenDigest,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// Its subject.
    pub subject: String,
    /// Granted scope.
    pub scope: Scope,
    /// Audience.
    pub audience: Vec<Resource>,
    /// Issue instant.
    pub issued_at: OffsetDateTime,
    /// Expiry instant.
    pub expires_at: OffsetDateTime,
}

impl TokenRecord {
    /// Builds a record.
    pub fn new(
        digest: TokenDigest,
        client_id: ClientId,
        subject: String,
        scope: Scope,
        audience: Vec<Resource>,
        issued_at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Self {
        Self {
            digest,
            client_id,
            subject,
            scope,
            audience,
            issued_at,
            expires_at,
        }
    }

    /// Whether the token is still valid at `now`.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        now < self.expires_at
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

/// Issues opaque tokens and stores their digests.
pub struct OpaqueIssuer {
    store: Arc<dyn TokenStore>,
    rng: Arc<dyn RandomSource>,
}

impl fmt::Debug for OpaqueIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpaqueIssuer").finish_non_exhaustive()
    }
}

impl OpaqueIssuer {
    /// An issuer writing to `store`, drawing randomness from `rng`
    /// (normally [`crate::SystemRandom`]).
    pub fn new(store: Arc<dyn TokenStore>, rng: Arc<dyn RandomSource>) -> Self {
        Self { store, rng }
    }
}

#[async_trait::async_trait]
impl TokenIssuer for OpaqueIssuer {
    async fn issue(&self, grant: &Grant) -> Result<AccessToken, IssueError> {
        let value = prefixed_random(TOKEN_PREFIX, &*self.rng).map_err(IssueError::new)?;
        let record = TokenRecord::new(
            TokenDigest::of(&value),
            grant.client_id().clone(),
            grant.subject().to_owned(),
            grant.scope().clone(),
            grant.audience().to_vec(),
            grant.issued_at(),
            grant.expires_at(),
        );
        self.store.insert(record).await.map_err(IssueError::new)?;
        Ok(AccessToken::new(value, TokenType::Bearer, grant.lifetime()))
    }

    async fn inspect(
        &self,
        token: &str,
        _now: OffsetDateTime,
    ) -> Result<Option<TokenInfo>, IssueError> {
        // The checksum rejects garbage before any store hit.
        let Some(digest) = opaque_token_digest(token) else {
            return Ok(None);
        };
        let record = self.store.get(&digest).await.map_err(IssueError::new)?;
        Ok(record.map(|r| {
            TokenInfo::new(
                r.client_id,
                r.subject,
                r.scope,
                r.audience,
                r.issued_at,
                r.expires_at,
                None,
                TokenHandle::Digest(r.digest),
            )
        }))
    }

    async fn revoke(&self, info: &TokenInfo, _now: OffsetDateTime) -> Result<(), IssueError> {
        match &info.handle {
            TokenHandle::Digest(d) => {
                self.store.revoke(d).await.map_err(IssueError::new)?;
                Ok(())
            }
            TokenHandle::Jti(_) => Err(IssueError::msg("not an opaque token")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SystemRandom;

    #[test]
    fn rfc6749_10_10_opaque_tokens_are_checked_before_any_lookup() {
        let t = prefixed_random(TOKEN_PREFIX, &SystemRandom::new()).unwrap();
        assert_eq!(t.len(), 52);
        assert_eq!(opaque_token_digest(&t), Some(TokenDigest::of(&t)));
        assert_eq!(opaque_token_digest("jt_garbage"), None);
        let mut flipped = t.clone().into_bytes();
        flipped[20] = if flipped[20] == b'a' { b'b' } else { b'a' };
        assert_eq!(
            opaque_token_digest(&String::from_utf8(flipped).unwrap()),
            None
        );
    }

    #[test]
    fn digest_debug_is_short() {
        let d = TokenDigest::of("x");
        assert!(format!("{d:?}").ends_with("..)"));
    }
}

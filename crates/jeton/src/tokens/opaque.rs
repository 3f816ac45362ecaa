//! Opaque access tokens: format, digest, the token-store contract and the opaque issuer.
//!
//! An opaque token is `jt_` + base64url(256 random bits) + a 6-character checksum (52 characters
//! in all). Only its SHA-256 digest is stored, so a leaked database does not leak usable tokens;
//! the checksum lets scanners find leaked tokens and lets jeton reject garbage without a store
//! hit.

use crate::error::IssueError;
use crate::random::RandomSource;
use crate::secret::{TOKEN_PREFIX, is_well_formed, prefixed_random};
use crate::store::TokenStore;
use crate::tokens::claims::TokenDigest;
use crate::tokens::issuer::{
    AccessToken, Grant, LocalValidation, TokenHandle, TokenInfo, TokenIssuer,
};
use std::fmt;
use std::sync::Arc;
use time::OffsetDateTime;

/// Whether `token` has the shape and checksum of an opaque jeton token; if so, its digest.
pub fn opaque_token_digest(token: &str) -> Option<TokenDigest> {
    is_well_formed(TOKEN_PREFIX, token).then(|| TokenDigest::of(token))
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
        // The grant's claims, borrowed: the store copies what it keeps.
        self.store
            .insert(&TokenDigest::of(&value), grant.claims())
            .await
            .map_err(IssueError::new)?;
        Ok(AccessToken::new(
            value,
            grant.token_type(),
            grant.lifetime(),
        ))
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
        Ok(record.map(|r| TokenInfo::new(r.claims, TokenHandle::Digest(r.digest))))
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

    fn local_validation(&self) -> Option<LocalValidation> {
        Some(LocalValidation::Opaque {
            store: self.store.clone(),
        })
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

//! Resource-server validation of opaque tokens through an introspector.

use crate::error::StoreError;
use crate::store::TokenStore;
use crate::tokens::TokenClaims;
use crate::tokens::opaque::opaque_token_digest;
use std::fmt;
use std::sync::Arc;

/// Looks an opaque token up: in a local [`TokenStore`] ([`StoreIntrospector`]) or at a remote
/// RFC 7662 endpoint (the application's own I/O).
#[async_trait::async_trait]
pub trait Introspector: Send + Sync {
    /// What is known about `token`: `Ok(None)` for an unknown, revoked, malformed or otherwise
    /// inactive token; `Err` only when the back end failed (answered with 500).
    ///
    /// Already validated by the caller: `token` is one `b64token` from a single `Authorization:
    /// Bearer` header, within the length limit. Expiry, audience and scope are checked after.
    async fn introspect(&self, token: &str) -> Result<Option<TokenClaims>, StoreError>;
}

/// An [`Introspector`] over jeton's own token store: checks the token's shape and checksum,
/// then looks its digest up.
pub struct StoreIntrospector(Arc<dyn TokenStore>);

impl fmt::Debug for StoreIntrospector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreIntrospector").finish_non_exhaustive()
    }
}

impl StoreIntrospector {
    /// Looks tokens up in `store`.
    pub fn new(store: Arc<dyn TokenStore>) -> Self {
        Self(store)
    }
}

#[async_trait::async_trait]
impl Introspector for StoreIntrospector {
    async fn introspect(&self, token: &str) -> Result<Option<TokenClaims>, StoreError> {
        let Some(digest) = opaque_token_digest(token) else {
            return Ok(None);
        };
        Ok(self.0.get(&digest).await?.map(|r| r.claims))
    }
}

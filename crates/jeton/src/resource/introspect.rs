//! Resource-server validation of opaque tokens through an introspector.

use crate::error::StoreError;
use crate::store::{ClientStore, TokenStore};
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
/// then looks its digest up; with [`StoreIntrospector::with_clients`], a token whose client is
/// disabled or removed is inactive.
pub struct StoreIntrospector {
    tokens: Arc<dyn TokenStore>,
    clients: Option<Arc<dyn ClientStore>>,
}

impl fmt::Debug for StoreIntrospector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreIntrospector").finish_non_exhaustive()
    }
}

impl StoreIntrospector {
    /// Looks tokens up in `store`.
    pub fn new(store: Arc<dyn TokenStore>) -> Self {
        Self {
            tokens: store,
            clients: None,
        }
    }

    /// Also asks `clients` about each token's client: a token of a client that is disabled or
    /// no longer registered is inactive (issue 9), as at the engine's introspection endpoint.
    pub fn with_clients(mut self, clients: Arc<dyn ClientStore>) -> Self {
        self.clients = Some(clients);
        self
    }
}

#[async_trait::async_trait]
impl Introspector for StoreIntrospector {
    async fn introspect(&self, token: &str) -> Result<Option<TokenClaims>, StoreError> {
        let Some(digest) = opaque_token_digest(token) else {
            return Ok(None);
        };
        let Some(claims) = self.tokens.get(&digest).await?.map(|r| r.claims) else {
            return Ok(None);
        };
        if let Some(clients) = &self.clients {
            let owner = clients.client(&claims.client_id).await?;
            if !owner.is_some_and(|c| c.enabled) {
                return Ok(None);
            }
        }
        Ok(Some(claims))
    }
}

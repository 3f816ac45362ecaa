//! Resource-server validation of opaque tokens through an introspector.

use crate::error::StoreError;
use crate::store::TokenStore;
use crate::tokens::TokenRecord;
use crate::tokens::opaque::opaque_token_digest;
use crate::types::Scope;
use std::fmt;
use std::sync::Arc;
use time::OffsetDateTime;

/// What an [`Introspector`] knows about an active token.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IntrospectedToken {
    /// `sub`.
    pub subject: String,
    /// `client_id`.
    pub client_id: String,
    /// `aud`.
    pub audience: Vec<String>,
    /// `scope`.
    pub scope: Scope,
    /// `iat`, when known.
    pub issued_at: Option<OffsetDateTime>,
    /// `exp`.
    pub expires_at: OffsetDateTime,
}

impl IntrospectedToken {
    /// An introspection result.
    pub fn new(
        subject: String,
        client_id: String,
        audience: Vec<String>,
        scope: Scope,
        expires_at: OffsetDateTime,
    ) -> Self {
        Self {
            subject,
            client_id,
            audience,
            scope,
            issued_at: None,
            expires_at,
        }
    }
}

impl From<TokenRecord> for IntrospectedToken {
    fn from(r: TokenRecord) -> Self {
        Self {
            subject: r.subject,
            client_id: r.client_id.into(),
            audience: r.audience.into_iter().map(String::from).collect(),
            scope: r.scope,
            issued_at: Some(r.issued_at),
            expires_at: r.expires_at,
        }
    }
}

/// Looks an opaque token up: in a local [`TokenStore`] ([`StoreIntrospector`]) or at a remote
/// RFC 7662 endpoint (the application's own I/O).
#[async_trait::async_trait]
pub trait Introspector: Send + Sync {
    /// What is known about `token`: `Ok(None)` for an unknown, revoked, malformed or otherwise
    /// inactive token; `Err` only when the back end failed (answered with 500).
    ///
    /// Already validated by the caller: `token` is one `b64token` from a single `Authorization:
    /// Bearer` header, within the length limit. Expiry, audience and scope are checked after.
    async fn introspect(&self, token: &str) -> Result<Option<IntrospectedToken>, StoreError>;
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
    async fn introspect(&self, token: &str) -> Result<Option<IntrospectedToken>, StoreError> {
        let Some(digest) = opaque_token_digest(token) else {
            return Ok(None);
        };
        Ok(self.0.get(&digest).await?.map(IntrospectedToken::from))
    }
}

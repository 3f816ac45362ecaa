//! The token issuer contract and what it is handed.

use crate::client::ClientRecord;
use crate::error::IssueError;
use crate::types::{ClientId, Resource, Scope};
use std::fmt;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroize;

/// What the engine decided to grant. Only the engine builds one, after authenticating the client
/// and applying its policy; an issuer can trust every field.
#[derive(Clone, Debug)]
pub struct Grant {
    pub(crate) client: ClientRecord,
    pub(crate) subject: String,
    pub(crate) scope: Scope,
    pub(crate) requested_scope: Option<Scope>,
    pub(crate) audience: Vec<Resource>,
    pub(crate) issued_at: OffsetDateTime,
    pub(crate) expires_at: OffsetDateTime,
}

impl Grant {
    /// The authenticated client's record.
    pub fn client(&self) -> &ClientRecord {
        &self.client
    }

    /// The authenticated client's id.
    pub fn client_id(&self) -> &ClientId {
        &self.client.id
    }

    /// The token subject: the client id, behind the engine's configured subject prefix if any
    /// (RFC 9068 §2.2, RFC 9700 §4.15).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The granted scope, within the client's allowed scopes.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The scope the client asked for, if it sent one.
    pub fn requested_scope(&self) -> Option<&Scope> {
        self.requested_scope.as_ref()
    }

    /// The audience: the requested resources, or the client's (or engine's) default audience.
    /// Never the client id.
    pub fn audience(&self) -> &[Resource] {
        &self.audience
    }

    /// The instant of issue (the request's `now`).
    pub fn issued_at(&self) -> OffsetDateTime {
        self.issued_at
    }

    /// When the token must stop working.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    /// `expires_at - issued_at`.
    pub fn lifetime(&self) -> Duration {
        self.expires_at - self.issued_at
    }
}

/// The `token_type` of an issued token (RFC 6749 §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenType {
    /// `Bearer` (RFC 6750).
    Bearer,
}

impl TokenType {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "Bearer",
        }
    }
}

/// An issued access token. Its `Debug` prints `***`; its memory is wiped on drop.
#[derive(Clone)]
pub struct AccessToken {
    value: String,
    token_type: TokenType,
    expires_in: Duration,
}

impl AccessToken {
    /// Wraps an issued token value.
    pub fn new(value: String, token_type: TokenType, expires_in: Duration) -> Self {
        Self {
            value,
            token_type,
            expires_in,
        }
    }

    /// The token value. Never log it.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Its type.
    pub fn token_type(&self) -> TokenType {
        self.token_type
    }

    /// Its lifetime from issue.
    pub fn expires_in(&self) -> Duration {
        self.expires_in
    }
}

impl Drop for AccessToken {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &"***")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Mints access tokens.
///
/// Implementations: [`crate::OpaqueIssuer`] (random tokens kept in a [`crate::TokenStore`]),
/// the JWT issuer, or your own.
#[async_trait::async_trait]
pub trait TokenIssuer: Send + Sync {
    /// Issues a token for `grant`.
    ///
    /// Already validated by the engine: the client authenticated with a registered method and an
    /// active secret, may use `client_credentials`, and the scope and audience are within its
    /// policy; `issued_at` is the request's `now`. `Err` becomes `500 server_error`.
    async fn issue(&self, grant: &Grant) -> Result<AccessToken, IssueError>;
}

//! The token issuer contract and what it is handed.

use crate::client::ClientRecord;
use crate::error::IssueError;
use crate::issuer_id::IssuerId;
use crate::store::{RevocationList, TokenStore};
use crate::tokens::claims::{Confirmation, TokenClaims};
use crate::tokens::key_set::LiveKeys;
use crate::types::{ClientId, Resource, Scope};
use std::fmt;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroize;

/// What the engine decided to grant. Only the engine builds one, after authenticating the client
/// and applying its policy; an issuer can trust every field.
///
/// It holds the claims of the token it becomes, built once by the engine: an issuer borrows
/// them ([`Grant::claims`]) instead of copying the grant's strings per token.
#[derive(Clone, Debug)]
pub struct Grant {
    pub(crate) client: Arc<ClientRecord>,
    /// `client_id` is `client.id`, and `jti` is `None`.
    pub(crate) claims: TokenClaims,
    /// Whether the client sent a scope. The engine grants a requested scope exactly or refuses
    /// the request, so the requested scope is `claims.scope` and is not kept twice.
    pub(crate) scope_requested: bool,
}

impl Grant {
    /// The key the token is bound to (`cnf.jkt`, RFC 9449 §6), when the request carried a
    /// valid DPoP proof; `None` for a bearer token.
    pub fn confirmation(&self) -> Option<&Confirmation> {
        self.claims.confirmation.as_ref()
    }

    /// `DPoP` when the token is bound to a key, else `Bearer` (RFC 9449 §5).
    pub fn token_type(&self) -> TokenType {
        if self.claims.confirmation.is_some() {
            TokenType::Dpop
        } else {
            TokenType::Bearer
        }
    }

    /// The authenticated client's record.
    pub fn client(&self) -> &ClientRecord {
        &self.client
    }

    /// The authenticated client's id.
    pub fn client_id(&self) -> &ClientId {
        &self.claims.client_id
    }

    /// The token subject: the client id, behind the engine's configured subject prefix if any
    /// (RFC 9068 §2.2, RFC 9700 §4.15).
    pub fn subject(&self) -> &str {
        &self.claims.subject
    }

    /// The granted scope, within the client's allowed scopes.
    pub fn scope(&self) -> &Scope {
        &self.claims.scope
    }

    /// The scope the client asked for, if it sent one.
    pub fn requested_scope(&self) -> Option<&Scope> {
        self.scope_requested.then_some(&self.claims.scope)
    }

    /// The audience: the requested resources, or the client's (or engine's) default audience.
    /// Never the client id.
    pub fn audience(&self) -> &[Resource] {
        &self.claims.audience
    }

    /// The instant of issue (the request's `now`).
    pub fn issued_at(&self) -> OffsetDateTime {
        self.claims.issued_at
    }

    /// When the token must stop working.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.claims.expires_at
    }

    /// The claims of the token this grant becomes (no `jti`; a JWT issuer adds its own).
    ///
    /// Borrowed: an issuer that keeps them, as [`crate::OpaqueIssuer`] hands them to its
    /// [`TokenStore`], copies only what it keeps.
    pub fn claims(&self) -> &TokenClaims {
        &self.claims
    }

    /// `expires_at - issued_at`.
    pub fn lifetime(&self) -> Duration {
        self.claims.expires_at - self.claims.issued_at
    }
}

/// The `token_type` of an issued token (RFC 6749 §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenType {
    /// `Bearer` (RFC 6750).
    Bearer,
    /// `DPoP`: bound to the key of the DPoP proof that asked for it (RFC 9449 §5).
    Dpop,
}

impl TokenType {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "Bearer",
            Self::Dpop => "DPoP",
        }
    }
}

/// An issued access token. Its `Debug` prints `***`; its memory is wiped on drop.
#[derive(Clone)]
pub struct AccessToken {
    value: String,
    token_type: TokenType,
    expires_in: Duration,
    jti: Option<String>,
}

impl AccessToken {
    /// Wraps an issued token value.
    pub fn new(value: String, token_type: TokenType, expires_in: Duration) -> Self {
        Self {
            value,
            token_type,
            expires_in,
            jti: None,
        }
    }

    /// The same token with its identifier (`jti`): not a secret, it names the token in logs.
    pub fn with_jti(mut self, jti: impl Into<String>) -> Self {
        self.jti = Some(jti.into());
        self
    }

    /// Its identifier, when the format has one (JWTs).
    pub fn jti(&self) -> Option<&str> {
        self.jti.as_deref()
    }

    /// Takes its identifier out (for the audit event), leaving `None`: no copy of the string.
    pub fn take_jti(&mut self) -> Option<String> {
        self.jti.take()
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
            .field("jti", &self.jti)
            .finish()
    }
}

/// What an issuer knows about one of its tokens, for introspection (RFC 7662) and revocation
/// (RFC 7009): its claims and how to find it again.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenInfo {
    /// What the token grants.
    pub claims: TokenClaims,
    /// Its type.
    pub token_type: TokenType,
    /// How the issuer finds it again to revoke it.
    pub handle: TokenHandle,
}

impl TokenInfo {
    /// Describes a token with these claims (`DPoP` when they carry a confirmation, else bearer), found again by `handle`.
    pub fn new(claims: TokenClaims, handle: TokenHandle) -> Self {
        let token_type = if claims.confirmation.is_some() {
            TokenType::Dpop
        } else {
            TokenType::Bearer
        };
        Self {
            claims,
            token_type,
            handle,
        }
    }
}

/// How an issuer locates one of its tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenHandle {
    /// An opaque token, by the digest of its value.
    Digest(crate::tokens::claims::TokenDigest),
    /// A JWT, by its `jti` (revocation adds it to a revocation list until it expires).
    Jti(String),
}

/// Mints access tokens, and finds and revokes the tokens it minted.
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

    /// Finds a token this issuer minted and that has not been revoked. `Ok(None)` for anything
    /// else: unknown, malformed, forged, revoked. Expiry is the engine's check.
    ///
    /// Already validated by the engine: the caller authenticated and may introspect or revoke;
    /// `token` is the raw `token` parameter, untrusted, non-empty. The default finds nothing.
    async fn inspect(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<Option<TokenInfo>, IssueError> {
        let _ = (token, now);
        Ok(None)
    }

    /// Revokes a token found by [`TokenIssuer::inspect`], so that `inspect` no longer finds it.
    ///
    /// Already validated by the engine: the caller authenticated as `info.claims.client_id`; `now` is
    /// the request time. The default cannot revoke and says so with an error.
    async fn revoke(&self, info: &TokenInfo, now: OffsetDateTime) -> Result<(), IssueError> {
        let _ = (info, now);
        Err(IssueError::msg("this issuer cannot revoke tokens"))
    }

    /// The public keys that verify this issuer's tokens, as an RFC 7517 JWK Set, if it signs
    /// tokens. The engine serves it and advertises `jwks_uri` only when this is `Some`. The
    /// default is `None` (opaque tokens).
    fn jwks(&self) -> Option<serde_json::Value> {
        None
    }

    /// How a resource server in the same process checks this issuer's tokens without a
    /// network round trip: [`Engine::validator`](crate::Engine::validator)
    /// builds from it. The default is `None` (such an engine's validator needs an
    /// [`Introspector`](crate::Introspector) of its own).
    fn local_validation(&self) -> Option<LocalValidation> {
        None
    }
}

/// What a validator in the issuer's process shares with it ([`TokenIssuer::local_validation`]):
/// live state, never a copy, so a rotation or a revocation is seen at once.
#[derive(Clone)]
#[non_exhaustive]
pub enum LocalValidation {
    /// JWTs: verified offline with the issuer's live keys, their `jti` checked against its
    /// revocation list.
    Jwt {
        /// The `iss` the issuer signs.
        issuer: IssuerId,
        /// The issuer's key set, live.
        keys: LiveKeys,
        /// The issuer's revocation list, if it has one.
        revocations: Option<Arc<dyn RevocationList>>,
    },
    /// Opaque tokens: looked up in the store the issuer writes.
    Opaque {
        /// The issuer's token store.
        store: Arc<dyn TokenStore>,
    },
}

impl fmt::Debug for LocalValidation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Jwt {
                issuer,
                keys,
                revocations,
            } => f
                .debug_struct("Jwt")
                .field("issuer", issuer)
                .field("keys", keys)
                .field("revocation_list", &revocations.is_some())
                .finish(),
            Self::Opaque { .. } => f.debug_struct("Opaque").finish_non_exhaustive(),
        }
    }
}

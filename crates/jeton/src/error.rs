//! The one table from failure to wire, and the opaque infrastructure errors.

use std::error::Error as StdError;
use std::fmt;

/// An OAuth 2.0 error code, as sent in the `error` member of an error response.
///
/// This enum is the **only** map from a failure to the wire: [`ErrorCode::as_str`] gives the
/// registered code (RFC 6749 §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1, RFC 8707 §2) and
/// [`ErrorCode::http_status`] the status it is sent with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `invalid_request`: malformed request, missing or repeated parameter (400).
    InvalidRequest,
    /// `invalid_client`: client authentication failed (401).
    InvalidClient,
    /// `invalid_grant`: the grant is invalid (400). Not produced by client credentials today.
    InvalidGrant,
    /// `unauthorized_client`: the client may not use this grant type (400).
    UnauthorizedClient,
    /// `unsupported_grant_type`: the grant type is not supported by this server (400).
    UnsupportedGrantType,
    /// `invalid_scope`: the requested scope is invalid, unknown or not allowed (400).
    InvalidScope,
    /// `invalid_target`: a `resource` is invalid or not allowed (RFC 8707 §2, 400).
    InvalidTarget,
    /// `unsupported_token_type`: revocation of this token type is not supported (RFC 7009, 400).
    UnsupportedTokenType,
    /// `invalid_token`: the bearer token is invalid, expired or revoked (RFC 6750 §3.1, 401).
    InvalidToken,
    /// `insufficient_scope`: the bearer token lacks a required scope (RFC 6750 §3.1, 403).
    InsufficientScope,
    /// `invalid_dpop_proof`: the DPoP proof is missing, invalid or replayed (RFC 9449 §5 at the
    /// token endpoint, 400; §7.1 at a resource server, which answers 401 with a
    /// `WWW-Authenticate: DPoP` challenge).
    InvalidDpopProof,
    /// `use_dpop_nonce`: the proof must carry the server's current nonce, sent in the
    /// `DPoP-Nonce` response header (RFC 9449 §8, 400; §9 at a resource server, 401).
    UseDpopNonce,
    /// `temporarily_unavailable` (RFC 6749 §4.1.2.1): no capacity now, retry later. Sent with
    /// `503` and `Retry-After` when the verification pool or the token store is full, and with
    /// `429` and `Retry-After` when failed authentications from one source exceed their budget
    /// (RFC 6585 §4). Chosen over `invalid_client`, which would tell a client its secret is
    /// wrong, and over `slow_down`, which only the device flow defines: every OAuth client
    /// library knows this code means "try again later".
    TemporarilyUnavailable,
    /// `server_error`: an infrastructure failure (500). Not in RFC 6749 §5.2 for the token
    /// endpoint; jeton answers it with 500 and no internal detail, a documented choice.
    ServerError,
}

impl ErrorCode {
    /// The registered error code string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidTarget => "invalid_target",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::ServerError => "server_error",
        }
    }

    /// The HTTP status this code is sent with.
    pub const fn http_status(self) -> u16 {
        match self {
            Self::InvalidClient | Self::InvalidToken => 401,
            Self::InsufficientScope => 403,
            Self::ServerError => 500,
            Self::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }

    /// Every code, for tests and documentation tables.
    pub const ALL: [ErrorCode; 14] = [
        Self::InvalidRequest,
        Self::InvalidClient,
        Self::InvalidGrant,
        Self::UnauthorizedClient,
        Self::UnsupportedGrantType,
        Self::InvalidScope,
        Self::InvalidTarget,
        Self::UnsupportedTokenType,
        Self::InvalidToken,
        Self::InsufficientScope,
        Self::InvalidDpopProof,
        Self::UseDpopNonce,
        Self::TemporarilyUnavailable,
        Self::ServerError,
    ];
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

macro_rules! opaque_error {
    ($(#[$doc:meta])* $name:ident, $msg:literal) => {
        $(#[$doc])*
        ///
        /// It is opaque on purpose: the engine answers `500 server_error` with no detail, and
        /// hands this error to the adapter as a diagnostic for the application's own logs.
        /// [`std::error::Error::source`] gives the boxed cause.
        pub struct $name(BoxError);

        impl $name {
            /// Wraps any error as the cause.
            pub fn new(source: impl Into<BoxError>) -> Self {
                Self(source.into())
            }

            /// Builds one from a static message, for causes that are not errors themselves.
            pub fn msg(message: &'static str) -> Self {
                Self(message.into())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.0).finish()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str($msg)
            }
        }

        impl StdError for $name {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&*self.0)
            }
        }
    };
}

opaque_error!(
    /// A storage back end failed (connection lost, timeout, corrupt row, ...).
    StoreError,
    "storage back end failed"
);
opaque_error!(
    /// A token issuer failed (signing key unavailable, RNG failure, store write failed, ...).
    IssueError,
    "token issuer failed"
);

/// An engine setting was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The realm must be printable ASCII without `"` or `\`.
    #[error("realm must be printable ASCII without '\"' or '\\'")]
    BadRealm,
    /// Lifetimes must be positive and the default within the maximum.
    #[error("token lifetimes must be positive, and the default at most the maximum")]
    BadLifetime,
    /// The body limit must be at least 64 bytes.
    #[error("max_body_bytes must be at least 64")]
    BadBodyLimit,
    /// The subject prefix must be `VSCHAR`.
    #[error("subject prefix must be printable ASCII")]
    BadSubjectPrefix,
    /// The issuer must be an `https` URL (or `http` on a loopback host) with no query, no
    /// fragment and no trailing `/` (RFC 8414 §2).
    #[error(
        "issuer must be an https URL (http only for localhost/127.0.0.1/[::1]) with no query, no fragment and no trailing '/'"
    )]
    BadIssuer,
    /// An endpoint URL must be absolute `http(s)` without fragment (RFC 6749 §3.1, §3.2).
    #[error("endpoint URLs must be absolute http(s) URLs without fragment")]
    BadEndpoint,
    /// A JWT issuer needs the engine's default audience: RFC 9068 §2.2 requires `aud`, and
    /// without a default a client that names no `resource` would get `500` on every request.
    #[error(
        "JWT access tokens need an audience (RFC 9068 §2.2): set the engine's default_audience"
    )]
    NoAudience,
    /// The default limiter, or a choice between several cost profiles, needs a secret key, and
    /// the core reads no RNG: give the builder a random source (`EngineBuilder::random`), or
    /// your own limiter.
    #[error(
        "a random source is required for the default limiter and for several cost profiles (EngineBuilder::random)"
    )]
    RandomSourceRequired,
    /// private_key_jwt (a replay store) needs the issuer identifier and the token endpoint
    /// URL: they are the audiences an assertion may name (RFC 7523 §3, rfc7523bis).
    #[error("private_key_jwt needs the issuer identifier (EngineBuilder::issuer)")]
    IssuerRequired,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6749_5_2_codes_use_the_error_charset() {
        for code in ErrorCode::ALL {
            assert!(code.as_str().bytes().all(|b| b == 0x20
                || b == 0x21
                || (0x23..=0x5b).contains(&b)
                || (0x5d..=0x7e).contains(&b)));
        }
    }

    #[test]
    fn rfc6749_5_2_statuses() {
        assert_eq!(ErrorCode::InvalidRequest.http_status(), 400);
        assert_eq!(ErrorCode::InvalidClient.http_status(), 401);
        assert_eq!(ErrorCode::InvalidScope.http_status(), 400);
        assert_eq!(ErrorCode::InsufficientScope.http_status(), 403);
        assert_eq!(ErrorCode::ServerError.http_status(), 500);
        assert_eq!(ErrorCode::TemporarilyUnavailable.http_status(), 503);
    }

    #[test]
    fn rfc9449_5_dpop_errors_are_400_at_the_token_endpoint() {
        assert_eq!(ErrorCode::InvalidDpopProof.as_str(), "invalid_dpop_proof");
        assert_eq!(ErrorCode::InvalidDpopProof.http_status(), 400);
        assert_eq!(ErrorCode::UseDpopNonce.as_str(), "use_dpop_nonce");
        assert_eq!(ErrorCode::UseDpopNonce.http_status(), 400);
    }

    #[test]
    fn opaque_errors_hide_their_source_in_display() {
        let e = StoreError::new(std::io::Error::other("password=hunter2 host=db"));
        assert_eq!(e.to_string(), "storage back end failed");
        assert!(e.source().is_some());
    }
}

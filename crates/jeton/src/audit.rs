//! Secret-free audit events, one per response.

use crate::client::AuthMethod;
use crate::error::ErrorCode;
use crate::server::limiter::RetryAfter;
use crate::types::{ClientId, Resource, Scope};
use std::net::IpAddr;
use time::OffsetDateTime;

/// Why client authentication failed. For logs only: the client always gets the same
/// `invalid_client` answer (RFC 6749 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthFailure {
    /// No client authentication in the request.
    MissingCredentials,
    /// Credentials present but unreadable (bad Basic encoding, characters outside `VSCHAR`).
    MalformedCredentials,
    /// A method jeton does not support for this endpoint (another `Authorization` scheme,
    /// a client assertion).
    UnsupportedMethod,
    /// No client with this id.
    UnknownClient,
    /// The secret matched none of the client's secrets.
    WrongSecret,
    /// The secret matched only an expired secret.
    ExpiredSecret,
    /// The client is disabled.
    ClientDisabled,
    /// The client is public (no secret, or registered with `none`).
    PublicClient,
    /// The client may not use the method it used.
    MethodNotAllowed,
    /// The client authenticated but may not use this endpoint (introspection).
    NotPermitted,
    /// A `private_key_jwt` client assertion was refused, and why.
    Assertion(AssertionFailure),
}

impl AuthFailure {
    /// A stable snake_case word for log fields: `missing_credentials`, `wrong_secret`, ...
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MissingCredentials => "missing_credentials",
            Self::MalformedCredentials => "malformed_credentials",
            Self::UnsupportedMethod => "unsupported_method",
            Self::UnknownClient => "unknown_client",
            Self::WrongSecret => "wrong_secret",
            Self::ExpiredSecret => "expired_secret",
            Self::ClientDisabled => "client_disabled",
            Self::PublicClient => "public_client",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::NotPermitted => "not_permitted",
            Self::Assertion(f) => f.as_str(),
        }
    }
}

/// Why a client assertion was refused: for the audit event only. On the wire every one is
/// [`ErrorCode::InvalidClient`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AssertionFailure {
    /// `client_assertion_type` is not `JWT_BEARER_ASSERTION_TYPE`.
    WrongAssertionType,
    /// Longer than `MAX_ASSERTION_BYTES`.
    TooLarge,
    /// Not one compact JWS with JSON header and claims, or a claim of the wrong type.
    Malformed,
    /// `typ` present and not `client-authentication+jwt` or `JWT`.
    WrongType,
    /// A header the verifier never trusts (`jku`, `x5u`, `jwk`, `x5c`) or does not understand
    /// (`crit`).
    ForbiddenHeader,
    /// `alg` is not the client's registered algorithm.
    DisallowedAlgorithm,
    /// No registered key matches the `kid` (or no `kid` with several keys).
    UnknownKey,
    /// The signature does not verify.
    BadSignature,
    /// `iss` and `sub` differ, are not the client id, or differ from the `client_id` parameter.
    WrongClient,
    /// `aud` is not this authorization server's issuer identifier, alone.
    WrongAudience,
    /// `iss`, `sub`, `aud`, `exp` or `jti` is missing.
    MissingClaim,
    /// `exp` has passed (beyond the leeway).
    Expired,
    /// `exp - now` or `exp - iat` exceeds the cap.
    TooLongLived,
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    IssuedInFuture,
    /// The `jti` was used before (RFC 7523 §3 (7)).
    Replayed,
}

impl AssertionFailure {
    /// A stable name for logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::WrongAssertionType => "wrong_assertion_type",
            Self::TooLarge => "too_large",
            Self::Malformed => "malformed",
            Self::WrongType => "wrong_type",
            Self::ForbiddenHeader => "forbidden_header",
            Self::DisallowedAlgorithm => "disallowed_algorithm",
            Self::UnknownKey => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::WrongClient => "wrong_client",
            Self::WrongAudience => "wrong_audience",
            Self::MissingClaim => "missing_claim",
            Self::Expired => "expired",
            Self::TooLongLived => "too_long_lived",
            Self::NotYetValid => "not_yet_valid",
            Self::IssuedInFuture => "issued_in_future",
            Self::Replayed => "replayed_assertion",
        }
    }

    /// The wire answer: always `invalid_client` (RFC 6749 §5.2), the same as a wrong secret.
    pub const fn error_code(self) -> ErrorCode {
        ErrorCode::InvalidClient
    }
}

/// An [`AuditEvent`] as flat, secret-free values for structured log fields: what every log line
/// of jeton (the adapters' and the standalone server's) renders, so that the field names and
/// values are defined here once. Absent values are `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditFields<'a> {
    /// The client the event is about ([`AuditEvent::client_id`]).
    pub client_id: Option<&'a str>,
    /// The outcome word ([`AuditEvent::outcome`]).
    pub outcome: &'static str,
    /// Why, as a stable word: the [`AuthFailure`] of a failed authentication, the error code of
    /// a rejection, the failed stage of a server error, `active`/`inactive` for introspection,
    /// `found`/`not_found` for revocation; `None` for an issued token.
    pub reason: Option<&'static str>,
    /// The authentication method attempted, for failed authentication.
    pub method: Option<&'static str>,
    /// The granted scope of an issued token, space-separated.
    pub scope: Option<String>,
    /// The audience of an issued token, space-separated.
    pub audience: Option<String>,
    /// The client the introspected token belongs to.
    pub token_client_id: Option<&'a str>,
    /// The token's identifier (JWT `jti`), for issued, introspected and revoked tokens that
    /// have one.
    pub jti: Option<&'a str>,
    /// The source address a throttled request was counted against (the peer, or the client
    /// address a trusted proxy forwarded).
    pub source: Option<IpAddr>,
    /// The `Retry-After` seconds of a throttled or overloaded answer.
    pub retry_after: Option<u32>,
}

/// How loud an [`AuditEvent`] is in the application's logs ([`AuditEvent::severity`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Severity {
    /// The protocol at work: a token issued, introspected or revoked, a request refused.
    Info,
    /// Failed client authentication: worth watching (RFC 6749 §2.3.1: brute force; §10.3).
    Warn,
    /// An infrastructure failure answered `500 server_error`.
    Error,
}

/// What happened, for the application's logs. Never holds a secret, a token or an
/// `Authorization` value; adapters add the peer address when they emit it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditEvent {
    /// An access token was issued.
    TokenIssued {
        /// To whom.
        client_id: ClientId,
        /// Granted scope.
        scope: Scope,
        /// Audience.
        audience: Vec<Resource>,
        /// Expiry.
        expires_at: OffsetDateTime,
        /// The token's identifier, when its format has one (JWT `jti`); never the token.
        jti: Option<String>,
    },
    /// A token was introspected (RFC 7662).
    TokenIntrospected {
        /// The caller.
        caller: ClientId,
        /// Whether the answer was `active: true`.
        active: bool,
        /// The client the token belongs to, when active.
        token_client_id: Option<ClientId>,
        /// The token's identifier (JWT `jti`), when active and known.
        jti: Option<String>,
    },
    /// A revocation request was answered with success (RFC 7009).
    TokenRevoked {
        /// The caller (and owner of the token, when found).
        client_id: ClientId,
        /// Whether a token was found and revoked (unknown tokens also answer 200).
        found: bool,
        /// The revoked token's identifier (JWT `jti`), when known.
        jti: Option<String>,
    },
    /// Client authentication failed.
    ClientAuthenticationFailed {
        /// The claimed client id, when it was a well-formed one.
        client_id: Option<ClientId>,
        /// The method attempted, when recognisable.
        method: Option<AuthMethod>,
        /// Why.
        reason: AuthFailure,
    },
    /// The request was refused for another reason.
    RequestRejected {
        /// The authenticated client, if authentication got that far.
        client_id: Option<ClientId>,
        /// The error sent.
        error: ErrorCode,
        /// The description sent.
        reason: &'static str,
    },
    /// Refused with `429` before any verification: too many failed authentications from this
    /// source, or for this client id from this source.
    Throttled {
        /// The claimed client id.
        client_id: ClientId,
        /// The connection's peer.
        peer: Option<IpAddr>,
        /// The source address counted (the peer, or a trusted proxy's forwarded address).
        source: IpAddr,
        /// The wait sent in `Retry-After`.
        retry_after: RetryAfter,
    },
    /// Refused with `503`: no capacity (`stage` `verify`: the verification pool is full;
    /// `issue_token`: the token store is full).
    Overloaded {
        /// The client, if known.
        client_id: Option<ClientId>,
        /// Which step had no capacity.
        stage: &'static str,
        /// The wait sent in `Retry-After`.
        retry_after: RetryAfter,
    },
    /// An infrastructure failure answered `500 server_error`; the diagnostic has the cause.
    ServerError {
        /// The client, if known.
        client_id: Option<ClientId>,
        /// Which step failed.
        stage: &'static str,
    },
}

impl AuditEvent {
    /// The client id the event is about, if any.
    pub fn client_id(&self) -> Option<&ClientId> {
        match self {
            Self::TokenIssued { client_id, .. } | Self::TokenRevoked { client_id, .. } => {
                Some(client_id)
            }
            Self::TokenIntrospected { caller, .. } => Some(caller),
            Self::Throttled { client_id, .. } => Some(client_id),
            Self::Overloaded { client_id, .. } => client_id.as_ref(),
            Self::ClientAuthenticationFailed { client_id, .. }
            | Self::RequestRejected { client_id, .. }
            | Self::ServerError { client_id, .. } => client_id.as_ref(),
        }
    }

    /// A short outcome word for log lines: `issued`, `introspected`, `revoked`, `auth_failed`,
    /// `rejected`, `throttled`, `overloaded`, `server_error`.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::TokenIssued { .. } => "issued",
            Self::TokenIntrospected { .. } => "introspected",
            Self::TokenRevoked { .. } => "revoked",
            Self::ClientAuthenticationFailed { .. } => "auth_failed",
            Self::RequestRejected { .. } => "rejected",
            Self::Throttled { .. } => "throttled",
            Self::Overloaded { .. } => "overloaded",
            Self::ServerError { .. } => "server_error",
        }
    }

    /// The event as structured log fields (see [`AuditFields`]).
    pub fn fields(&self) -> AuditFields<'_> {
        let mut f = AuditFields {
            client_id: self.client_id().map(ClientId::as_str),
            outcome: self.outcome(),
            reason: None,
            method: None,
            scope: None,
            audience: None,
            token_client_id: None,
            jti: None,
            source: None,
            retry_after: None,
        };
        match self {
            Self::TokenIssued {
                scope,
                audience,
                jti,
                ..
            } => {
                f.jti = jti.as_deref();
                f.scope = (!scope.is_empty()).then(|| scope.to_string());
                f.audience = (!audience.is_empty()).then(|| {
                    let all: Vec<&str> = audience.iter().map(Resource::as_str).collect();
                    all.join(" ")
                });
            }
            Self::TokenIntrospected {
                active,
                token_client_id,
                jti,
                ..
            } => {
                f.jti = jti.as_deref();
                f.reason = Some(if *active { "active" } else { "inactive" });
                f.token_client_id = token_client_id.as_ref().map(ClientId::as_str);
            }
            Self::TokenRevoked { found, jti, .. } => {
                f.jti = jti.as_deref();
                f.reason = Some(if *found { "found" } else { "not_found" });
            }
            Self::ClientAuthenticationFailed { method, reason, .. } => {
                f.reason = Some(reason.as_str());
                f.method = method.map(AuthMethod::as_str);
            }
            Self::RequestRejected { error, .. } => f.reason = Some(error.as_str()),
            Self::ServerError { stage, .. } => f.reason = Some(stage),
            Self::Throttled {
                source,
                retry_after,
                ..
            } => {
                f.reason = Some("too_many_failures");
                f.source = Some(*source);
                f.retry_after = Some(retry_after.as_secs());
            }
            Self::Overloaded {
                stage, retry_after, ..
            } => {
                f.reason = Some(stage);
                f.retry_after = Some(retry_after.as_secs());
            }
        }
        f
    }

    /// The log level adapters emit this event at: [`Severity::Warn`] for failed client
    /// authentication, throttled and overloaded requests, [`Severity::Error`] for a server error, [`Severity::Info`] otherwise
    /// (issued, introspected, revoked, rejected).
    pub fn severity(&self) -> Severity {
        match self {
            Self::ClientAuthenticationFailed { .. }
            | Self::Throttled { .. }
            | Self::Overloaded { .. } => Severity::Warn,
            Self::ServerError { .. } => Severity::Error,
            Self::TokenIssued { .. }
            | Self::TokenIntrospected { .. }
            | Self::TokenRevoked { .. }
            | Self::RequestRejected { .. } => Severity::Info,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6749_10_3_failed_authentication_warns_and_server_errors_are_errors() {
        let id = ClientId::new("billing").unwrap();
        let failed = AuditEvent::ClientAuthenticationFailed {
            client_id: Some(id.clone()),
            method: None,
            reason: AuthFailure::WrongSecret,
        };
        assert_eq!(failed.severity(), Severity::Warn);
        let server = AuditEvent::ServerError {
            client_id: None,
            stage: "issue_token",
        };
        assert_eq!(server.severity(), Severity::Error);
        let info = [
            AuditEvent::TokenRevoked {
                client_id: id.clone(),
                found: true,
                jti: None,
            },
            AuditEvent::TokenIntrospected {
                caller: id.clone(),
                active: false,
                token_client_id: None,
                jti: None,
            },
            AuditEvent::RequestRejected {
                client_id: Some(id),
                error: ErrorCode::InvalidScope,
                reason: "scope",
            },
        ];
        for event in info {
            assert_eq!(event.severity(), Severity::Info, "{event:?}");
        }
    }

    #[test]
    fn log_fields_are_flat_words_not_debug_text() {
        let issued = AuditEvent::TokenIssued {
            client_id: ClientId::new("billing").unwrap(),
            scope: Scope::parse("a b").unwrap(),
            audience: vec![
                Resource::new("https://a.example/").unwrap(),
                Resource::new("https://b.example/").unwrap(),
            ],
            expires_at: OffsetDateTime::UNIX_EPOCH,
            jti: Some("j-1".into()),
        };
        let f = issued.fields();
        assert_eq!(f.jti, Some("j-1"));
        assert_eq!(f.client_id, Some("billing"));
        assert_eq!(f.outcome, "issued");
        assert_eq!(f.scope.as_deref(), Some("a b"));
        assert_eq!(
            f.audience.as_deref(),
            Some("https://a.example/ https://b.example/")
        );
        let failed = AuditEvent::ClientAuthenticationFailed {
            client_id: None,
            method: Some(AuthMethod::ClientSecretBasic),
            reason: AuthFailure::WrongSecret,
        };
        let f = failed.fields();
        assert_eq!(f.reason, Some("wrong_secret"));
        assert_eq!(f.method, Some("client_secret_basic"));
        assert_eq!(f.client_id, None);
    }
}

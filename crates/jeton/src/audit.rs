//! Secret-free audit events, one per response.

use crate::client::AuthMethod;
use crate::error::ErrorCode;
use crate::types::{ClientId, Resource, Scope};
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
    },
    /// A token was introspected (RFC 7662).
    TokenIntrospected {
        /// The caller.
        caller: ClientId,
        /// Whether the answer was `active: true`.
        active: bool,
        /// The client the token belongs to, when active.
        token_client_id: Option<ClientId>,
    },
    /// A revocation request was answered with success (RFC 7009).
    TokenRevoked {
        /// The caller (and owner of the token, when found).
        client_id: ClientId,
        /// Whether a token was found and revoked (unknown tokens also answer 200).
        found: bool,
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
            Self::ClientAuthenticationFailed { client_id, .. }
            | Self::RequestRejected { client_id, .. }
            | Self::ServerError { client_id, .. } => client_id.as_ref(),
        }
    }

    /// A short outcome word for log lines: `issued`, `introspected`, `revoked`, `auth_failed`,
    /// `rejected`, `server_error`.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::TokenIssued { .. } => "issued",
            Self::TokenIntrospected { .. } => "introspected",
            Self::TokenRevoked { .. } => "revoked",
            Self::ClientAuthenticationFailed { .. } => "auth_failed",
            Self::RequestRejected { .. } => "rejected",
            Self::ServerError { .. } => "server_error",
        }
    }

    /// The log level adapters emit this event at: [`Severity::Warn`] for failed client
    /// authentication, [`Severity::Error`] for a server error, [`Severity::Info`] otherwise
    /// (issued, introspected, revoked, rejected).
    pub fn severity(&self) -> Severity {
        match self {
            Self::ClientAuthenticationFailed { .. } => Severity::Warn,
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
            },
            AuditEvent::TokenIntrospected {
                caller: id.clone(),
                active: false,
                token_client_id: None,
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
}

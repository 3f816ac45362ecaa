//! A refusal on its way to becoming a response and an audit event.

use crate::audit::{AuditEvent, AuthFailure};
use crate::error::ErrorCode;
use crate::response::{Diagnostic, Outcome, Response, desc};
use crate::server::limiter::RetryAfter;
use crate::types::ClientId;
use std::net::IpAddr;

/// How long a caller refused by a full token store should wait: tokens expire over minutes,
/// and a shorter hint would only bring the same refusal back.
const STORE_FULL_RETRY_AFTER: u32 = 10;

/// A refusal on its way to becoming a response.
pub(crate) struct Rejection {
    pub(crate) code: ErrorCode,
    pub(crate) description: &'static str,
    pub(crate) kind: RejectionKind,
    /// A `DPoP-Nonce` header value to send with the refusal (RFC 9449 §8: `use_dpop_nonce`).
    pub(crate) dpop_nonce: Option<String>,
}

pub(crate) enum RejectionKind {
    Plain,
    MethodNotAllowed,
    Auth {
        client_id: Option<ClientId>,
        method: Option<crate::client::AuthMethod>,
        reason: AuthFailure,
    },
    Policy(ClientId),
    Infrastructure {
        client_id: Option<ClientId>,
        stage: &'static str,
        cause: Diagnostic,
    },
    /// Too many failed authentications for this key: `429`, refused before any work.
    Throttled {
        client_id: ClientId,
        peer: Option<IpAddr>,
        source: IpAddr,
        retry_after: RetryAfter,
    },
    /// No capacity (verification pool full, token store full): `503`.
    Overloaded {
        client_id: Option<ClientId>,
        stage: &'static str,
        retry_after: RetryAfter,
    },
}

impl Rejection {
    pub(crate) fn request(description: &'static str) -> Self {
        Self {
            dpop_nonce: None,
            code: ErrorCode::InvalidRequest,
            description,
            kind: RejectionKind::Plain,
        }
    }

    pub(crate) fn plain(code: ErrorCode, description: &'static str) -> Self {
        Self {
            dpop_nonce: None,
            code,
            description,
            kind: RejectionKind::Plain,
        }
    }

    pub(crate) fn auth(
        client_id: Option<ClientId>,
        method: Option<crate::client::AuthMethod>,
        reason: AuthFailure,
    ) -> Self {
        Self {
            dpop_nonce: None,
            code: ErrorCode::InvalidClient,
            description: desc::CLIENT_AUTH_FAILED,
            kind: RejectionKind::Auth {
                client_id,
                method,
                reason,
            },
        }
    }

    pub(crate) fn policy(client: &ClientId, code: ErrorCode, description: &'static str) -> Self {
        Self {
            dpop_nonce: None,
            code,
            description,
            kind: RejectionKind::Policy(client.clone()),
        }
    }

    pub(crate) fn infra(
        client_id: Option<ClientId>,
        stage: &'static str,
        cause: impl Into<Diagnostic>,
    ) -> Self {
        Self {
            dpop_nonce: None,
            code: ErrorCode::ServerError,
            description: desc::SERVER_ERROR,
            kind: RejectionKind::Infrastructure {
                client_id,
                stage,
                cause: cause.into(),
            },
        }
    }

    pub(crate) fn throttled(
        client_id: ClientId,
        peer: Option<IpAddr>,
        source: IpAddr,
        retry_after: RetryAfter,
    ) -> Self {
        Self {
            dpop_nonce: None,
            code: ErrorCode::TemporarilyUnavailable,
            description: desc::THROTTLED,
            kind: RejectionKind::Throttled {
                client_id,
                peer,
                source,
                retry_after,
            },
        }
    }

    pub(crate) fn overloaded(
        client_id: Option<ClientId>,
        stage: &'static str,
        retry_after: RetryAfter,
    ) -> Self {
        Self {
            dpop_nonce: None,
            code: ErrorCode::TemporarilyUnavailable,
            description: desc::OVERLOADED,
            kind: RejectionKind::Overloaded {
                client_id,
                stage,
                retry_after,
            },
        }
    }

    /// Renders the response and the audit event.
    pub(crate) fn into_outcome(mut self, realm: &str) -> Outcome {
        // A full store is not a fault: the caller can wait for tokens to expire (503, not 500).
        if let RejectionKind::Infrastructure {
            client_id,
            stage,
            cause,
        } = &self.kind
            && crate::capacity::capacity_in_chain(&**cause).is_some()
        {
            self = Rejection::overloaded(
                client_id.clone(),
                stage,
                RetryAfter::from_secs(STORE_FULL_RETRY_AFTER),
            );
        }
        let mut response = Response::error(self.code, self.description);
        if let Some(nonce) = self.dpop_nonce.take() {
            response = response.with_header("dpop-nonce", nonce);
        }
        if self.code == ErrorCode::InvalidClient {
            // RFC 6749 §5.2: 401 with the scheme the client used; Basic is the only header
            // scheme jeton accepts, and an HTTP 401 always needs a challenge (RFC 9110 §15.5.2).
            response = response.with_header("www-authenticate", format!("Basic realm=\"{realm}\""));
        }
        let (event, diagnostic) = match self.kind {
            RejectionKind::Plain => (
                AuditEvent::RequestRejected {
                    client_id: None,
                    error: self.code,
                    reason: self.description,
                },
                None,
            ),
            RejectionKind::MethodNotAllowed => {
                response = response.with_status(405).with_header("allow", "POST");
                (
                    AuditEvent::RequestRejected {
                        client_id: None,
                        error: self.code,
                        reason: self.description,
                    },
                    None,
                )
            }
            RejectionKind::Auth {
                client_id,
                method,
                reason,
            } => (
                AuditEvent::ClientAuthenticationFailed {
                    client_id,
                    method,
                    reason,
                },
                None,
            ),
            RejectionKind::Policy(client_id) => (
                AuditEvent::RequestRejected {
                    client_id: Some(client_id),
                    error: self.code,
                    reason: self.description,
                },
                None,
            ),
            RejectionKind::Infrastructure {
                client_id,
                stage,
                cause,
            } => (AuditEvent::ServerError { client_id, stage }, Some(cause)),
            RejectionKind::Throttled {
                client_id,
                peer,
                source,
                retry_after,
            } => {
                // RFC 6585 §4: 429, "MAY include a Retry-After header".
                response = response
                    .with_status(429)
                    .with_header("retry-after", retry_after.header_value());
                (
                    AuditEvent::Throttled {
                        client_id,
                        peer,
                        source,
                        retry_after,
                    },
                    None,
                )
            }
            RejectionKind::Overloaded {
                client_id,
                stage,
                retry_after,
            } => {
                response = response.with_header("retry-after", retry_after.header_value());
                (
                    AuditEvent::Overloaded {
                        client_id,
                        stage,
                        retry_after,
                    },
                    None,
                )
            }
        };
        Outcome {
            response,
            event,
            diagnostic,
        }
    }
}

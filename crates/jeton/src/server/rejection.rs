//! A refusal on its way to becoming a response and an audit event.

use crate::audit::{AuditEvent, AuthFailure};
use crate::error::ErrorCode;
use crate::response::{Diagnostic, Outcome, Response, desc};
use crate::types::ClientId;

/// A refusal on its way to becoming a response.
pub(crate) struct Rejection {
    pub(crate) code: ErrorCode,
    pub(crate) description: &'static str,
    pub(crate) kind: RejectionKind,
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
}

impl Rejection {
    pub(crate) fn request(description: &'static str) -> Self {
        Self {
            code: ErrorCode::InvalidRequest,
            description,
            kind: RejectionKind::Plain,
        }
    }

    pub(crate) fn plain(code: ErrorCode, description: &'static str) -> Self {
        Self {
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
            code: ErrorCode::ServerError,
            description: desc::SERVER_ERROR,
            kind: RejectionKind::Infrastructure {
                client_id,
                stage,
                cause: cause.into(),
            },
        }
    }

    /// Renders the response and the audit event.
    pub(crate) fn into_outcome(self, realm: &str) -> Outcome {
        let mut response = Response::error(self.code, self.description);
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
                response = response
                    .with_status(405)
                    .with_header("allow", "POST".to_owned());
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
        };
        Outcome {
            response,
            event,
            diagnostic,
        }
    }
}

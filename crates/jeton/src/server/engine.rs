//! The engine and the token endpoint (RFC 6749 §4.4.2).

use crate::audit::AuditEvent;
use crate::client::GrantType;
use crate::error::ErrorCode;
use crate::request::RawRequest;
use crate::response::{Outcome, Response, desc};
use crate::server::authn;
use crate::server::builder::Config;
use crate::server::intake::{parse_post_form, parse_resources};
use crate::server::rejection::Rejection;
use crate::store::ClientStore;
use crate::tokens::{Grant, TokenIssuer};
use crate::transport::Transport;
use crate::types::Scope;
use std::fmt;
use std::sync::Arc;

/// The jeton engine: a client store, a token issuer and the policy that joins them.
///
/// Cheap to share: wrap it in an `Arc` and hand it to every adapter.
pub struct Engine {
    pub(crate) clients: Arc<dyn ClientStore>,
    pub(crate) issuer: Arc<dyn TokenIssuer>,
    pub(crate) config: Config,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// The largest request body the engine accepts; adapters stop reading past it.
    pub fn max_body_bytes(&self) -> usize {
        self.config.max_body_bytes
    }

    /// The transport setting the engine decides TLS by.
    pub fn transport(&self) -> &Transport {
        &self.config.transport
    }

    /// The realm used in `WWW-Authenticate` challenges.
    pub fn realm(&self) -> &str {
        &self.config.realm
    }

    /// Handles a token request (RFC 6749 §4.4.2) and returns the response, the audit event and,
    /// for infrastructure failures, a diagnostic.
    ///
    /// Deterministic given the stores, the issuer and `req.now`: the engine reads no clock, no
    /// RNG and no socket of its own.
    pub async fn handle_token_request(&self, req: &RawRequest<'_>) -> Outcome {
        match self.token(req).await {
            Ok(outcome) => outcome,
            Err(rejection) => rejection.into_outcome(&self.config.realm),
        }
    }

    async fn token(&self, req: &RawRequest<'_>) -> Result<Outcome, Rejection> {
        let form = parse_post_form(&self.config, req, &["resource"])?;

        // RFC 6749 §5.2: missing → invalid_request; present but unsupported →
        // unsupported_grant_type.
        match form.get("grant_type") {
            None => return Err(Rejection::request(desc::MISSING_GRANT_TYPE)),
            Some(g) if g == GrantType::ClientCredentials.as_str() => {}
            Some(_) => {
                return Err(Rejection::plain(
                    ErrorCode::UnsupportedGrantType,
                    desc::UNSUPPORTED_GRANT_TYPE,
                ));
            }
        }
        // RFC 6749 §3.3 syntax, checked before authentication: it reveals nothing.
        let requested_scope = form
            .get("scope")
            .map(Scope::parse)
            .transpose()
            .map_err(|_| Rejection::plain(ErrorCode::InvalidScope, desc::MALFORMED_SCOPE))?;
        let resources = parse_resources(&form, self.config.max_resources)?;

        let credentials =
            authn::extract_credentials(req, &form, self.config.keyauth.accept_raw_basic)?;
        let (client, upgrade_diag) = self.authenticate_client(credentials, req).await?;
        drop(form);
        // RFC 9449 §5: a client registered to use DPoP-bound tokens gets none without a proof.
        // DPoP proofs are not read at this endpoint yet, so such a client is refused (fail
        // closed) rather than given a bearer token.
        if client.record.require_dpop {
            return Err(Rejection::policy(
                &client.record.id,
                ErrorCode::InvalidDpopProof,
                desc::DPOP_REQUIRED,
            ));
        }

        let grant = self.authorize(client, requested_scope, resources, req.now)?;
        let token = self
            .issuer
            .issue(&grant)
            .await
            .map_err(|e| Rejection::infra(Some(grant.client_id().clone()), "issue_token", e))?;

        #[derive(serde::Serialize)]
        struct Body<'a> {
            access_token: &'a str,
            token_type: &'static str,
            expires_in: i64,
            #[serde(skip_serializing_if = "Option::is_none")]
            scope: Option<String>,
        }
        // RFC 6749 §3.3, §5.1: the granted scope is always returned when not empty, which covers
        // "MUST include if it differs from the requested one".
        let body = Body {
            access_token: token.expose(),
            token_type: token.token_type().as_str(),
            expires_in: token.expires_in().whole_seconds(),
            scope: (!grant.scope.is_empty()).then(|| grant.scope.to_string()),
        };
        let body = serde_json::to_vec(&body)
            .map_err(|e| Rejection::infra(Some(grant.client_id().clone()), "render", e))?;
        let jti = token.jti().map(str::to_owned);
        let Grant {
            client,
            scope,
            audience,
            expires_at,
            ..
        } = grant;
        Ok(Outcome {
            response: Response::json(200, body),
            event: AuditEvent::TokenIssued {
                client_id: client.id,
                scope,
                audience,
                expires_at,
                jti,
            },
            diagnostic: upgrade_diag,
        })
    }
}

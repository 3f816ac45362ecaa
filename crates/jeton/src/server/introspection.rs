//! Introspection (RFC 7662).
//!
//! The endpoint authenticates the caller exactly as the token endpoint does (same code path,
//! same enumeration resistance) before looking at the token.

use crate::audit::{AuditEvent, AuthFailure};
use crate::error::ErrorCode;
use crate::request::RawRequest;
use crate::response::{Outcome, Response, desc};
use crate::server::authn;
use crate::server::engine::Engine;
use crate::server::intake::parse_post_form;
use crate::server::rejection::Rejection;
use crate::server::routes::RouteKind;
use crate::tokens::TokenInfo;
use crate::types::Resource;
use serde::Serialize;

/// An `aud` claim: a single string when there is one audience, else an array (RFC 7519 §4.1.3).
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Audience<'a> {
    One(&'a str),
    Many(Vec<&'a str>),
}

impl<'a> Audience<'a> {
    pub(crate) fn of(aud: &'a [Resource]) -> Option<Self> {
        match aud {
            [] => None,
            [one] => Some(Self::One(one.as_str())),
            many => Some(Self::Many(many.iter().map(Resource::as_str).collect())),
        }
    }
}

#[derive(Serialize)]
struct Active<'a> {
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    client_id: &'a str,
    token_type: &'static str,
    exp: i64,
    iat: i64,
    sub: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<Audience<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jti: Option<&'a str>,
    /// RFC 9449 §6.2: a DPoP-bound token's `cnf` (`{"jkt": ...}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<serde_json::Value>,
}

/// RFC 7662 §2.2: "If the introspection call is properly authorized but the token is not
/// active, does not exist on this server, or the protected resource is not allowed to
/// introspect this particular token, then the authorization server MUST return an
/// introspection response with the "active" field set to "false" [...] SHOULD NOT include any
/// additional information".
const INACTIVE: &[u8] = br#"{"active":false}"#;

impl Engine {
    /// Handles an introspection request (RFC 7662 §2).
    ///
    /// The caller authenticates as a client that may introspect (otherwise `401
    /// invalid_client`, the same answer as a failed authentication); an active token answers
    /// `active: true` with its claims, anything else exactly `{"active":false}`.
    pub async fn handle_introspection_request(&self, req: &RawRequest<'_>) -> Outcome {
        match self.introspect(req).await {
            Ok(o) => o,
            Err(r) => r.into_outcome(&self.config.realm),
        }
    }

    async fn introspect(&self, req: &RawRequest<'_>) -> Result<Outcome, Rejection> {
        let limit = self.max_body_bytes_for(RouteKind::Introspection);
        let form = parse_post_form(&self.config, req, limit, &[])?;
        let creds = authn::extract_credentials(req, &form, self.config.keyauth.accept_raw_basic)?;
        let method = creds.method();
        let (caller, diagnostic) = self.authenticate_client(creds, req).await?;
        let caller = caller.record;
        // RFC 7662 §2.1: "the endpoint MUST also require some form of authorization".
        if !caller.may_introspect {
            return Err(Rejection::auth(
                Some(caller.id.clone()),
                Some(method),
                AuthFailure::NotPermitted,
            ));
        }
        let token = form.get("token").ok_or_else(|| {
            Rejection::policy(&caller.id, ErrorCode::InvalidRequest, desc::TOKEN_REQUIRED)
        })?;
        // `token_type_hint` is optional and only an optimisation; every issuer is searched.
        let info = self
            .issuer
            .inspect(token, req.now)
            .await
            .map_err(|e| Rejection::infra(Some(caller.id.clone()), "inspect_token", e))?;
        let visible = |i: &TokenInfo| {
            i.claims.is_active(req.now)
                && (caller.introspect_audiences.is_empty()
                    || i.claims
                        .audience
                        .iter()
                        .any(|a| caller.introspect_audiences.contains(a)))
        };
        let mut info = info.filter(visible);
        // Issue 9: a token of a client that was disabled or removed since is inactive. A client
        // stops being trusted as a whole, whatever tokens it holds.
        if let Some(i) = &info {
            let owner = self
                .clients
                .client(&i.claims.client_id)
                .await
                .map_err(|e| Rejection::infra(Some(caller.id.clone()), "client_store", e))?;
            if !owner.is_some_and(|c| c.enabled) {
                info = None;
            }
        }
        let (body, token_client_id, jti) = match info {
            None => (INACTIVE.to_vec(), None, None),
            Some(i) => {
                let scope = (!i.claims.scope.is_empty()).then(|| i.claims.scope.to_string());
                let body = serde_json::to_vec(&Active {
                    active: true,
                    scope,
                    client_id: i.claims.client_id.as_str(),
                    token_type: i.token_type.as_str(),
                    exp: i.claims.expires_at.unix_timestamp(),
                    iat: i.claims.issued_at.unix_timestamp(),
                    sub: &i.claims.subject,
                    aud: Audience::of(&i.claims.audience),
                    iss: self.config.issuer.as_ref().map(|u| u.as_str()),
                    jti: i.claims.jti.as_deref(),
                    cnf: i.claims.confirmation.as_ref().map(|c| c.to_value()),
                })
                .map_err(|e| Rejection::infra(Some(caller.id.clone()), "render", e))?;
                (body, Some(i.claims.client_id), i.claims.jti)
            }
        };
        Ok(Outcome {
            response: Response::json(200, body),
            event: AuditEvent::TokenIntrospected {
                caller: caller.id.clone(),
                active: token_client_id.is_some(),
                token_client_id,
                jti,
            },
            diagnostic,
        })
    }
}

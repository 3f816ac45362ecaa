//! Revocation (RFC 7009): the caller authenticates exactly as at the token endpoint, then may
//! revoke only its own tokens.

use crate::audit::AuditEvent;
use crate::error::ErrorCode;
use crate::request::RawRequest;
use crate::response::{Outcome, Response, desc};
use crate::server::authn;
use crate::server::engine::Engine;
use crate::server::intake::parse_post_form;
use crate::server::rejection::Rejection;
use crate::server::routes::RouteKind;

impl Engine {
    /// Handles a revocation request (RFC 7009 §2).
    ///
    /// The caller authenticates first (failure: `401 invalid_client`, never a silent 200). An
    /// unknown or invalid token answers `200` with an empty body; a token issued to another
    /// client is refused with `400 unauthorized_client` and stays active.
    pub async fn handle_revocation_request(&self, req: &RawRequest<'_>) -> Outcome {
        match self.revoke(req).await {
            Ok(o) => o,
            Err(r) => r.into_outcome(&self.config.realm),
        }
    }

    async fn revoke(&self, req: &RawRequest<'_>) -> Result<Outcome, Rejection> {
        let limit = self.max_body_bytes_for(RouteKind::Revocation);
        let form = parse_post_form(&self.config, req, limit, &[])?;
        let creds = authn::extract_credentials(req, &form, self.config.keyauth.accept_raw_basic)?;
        let (caller, diagnostic) = self.authenticate_client(creds, req).await?;
        let caller = caller.record.id.clone();
        let token = form.get("token").ok_or_else(|| {
            Rejection::policy(&caller, ErrorCode::InvalidRequest, desc::TOKEN_REQUIRED)
        })?;
        // RFC 7009 §2.1: `token_type_hint` may be ignored; an unknown hint changes nothing, and
        // every token type this server has is searched. `unsupported_token_type` is never
        // needed: jeton issues only access tokens, and revokes them all.
        let info = self
            .issuer
            .inspect(token, req.now)
            .await
            .map_err(|e| Rejection::infra(Some(caller.clone()), "inspect_token", e))?;
        let jti = info.as_ref().and_then(|i| i.claims.jti.clone());
        let found = match info {
            // RFC 7009 §2.2: "invalid tokens do not cause an error response".
            None => false,
            // RFC 7009 §2.1: the server "verifies whether the token was issued to the client
            // making the revocation request. If this validation fails, the request is refused".
            Some(i) if i.claims.client_id != caller => {
                return Err(Rejection::policy(
                    &caller,
                    ErrorCode::UnauthorizedClient,
                    desc::NOT_YOUR_TOKEN,
                ));
            }
            Some(i) => {
                self.issuer
                    .revoke(&i, req.now)
                    .await
                    .map_err(|e| Rejection::infra(Some(caller.clone()), "revoke_token", e))?;
                true
            }
        };
        Ok(Outcome {
            response: Response::empty(200),
            event: AuditEvent::TokenRevoked {
                client_id: caller,
                found,
                jti,
            },
            diagnostic,
        })
    }
}

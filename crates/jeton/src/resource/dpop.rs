//! DPoP at the resource server (RFC 9449 §7): a token presented with the `DPoP` scheme, its
//! proof checked against the request, the token's hash (`ath`) and its binding (`cnf.jkt`);
//! and the `DPoP` challenge of a refusal (§7.1, §9).
//!
//! The request URL the proof's `htu` is compared with is the one the API is reached at, as
//! the server knows it (scheme, host and path; query and fragment ignored, §4.3): the adapters
//! take it from their configured external base URL, or from the `Host` header and a
//! configured scheme. The core compares what it is given.
//!
//! A token presented with `DPoP` that is not DPoP-bound (no `cnf.jkt`) is refused
//! (`invalid_token`): the proof's key could not be checked against a binding, and a client
//! that holds a bearer token sends it as `Bearer`. A bound token presented as `Bearer` is
//! refused too (§7.2).

use crate::request::HeaderValues;
use crate::resource::authorization::Scheme;
use crate::resource::errors::{BearerError, BearerFailure};
use crate::resource::validator::BearerValidator;
use crate::tokens::AccessTokenClaims;
use crate::tokens::Algorithm;
use crate::tokens::dpop::{DpopCheck, DpopFailure, verify_dpop_proof};
use crate::types::Scope;
use time::OffsetDateTime;

/// What a resource server reads from a request to validate its access token: the
/// `Authorization` header values, every `DPoP` header value, the method and the URL the API is
/// reached at. One value the adapters fill and pass to
/// [`BearerValidator::validate_request`].
#[derive(Clone, Copy, Default)]
pub struct RequestParts<'a> {
    /// Every `Authorization` header value.
    pub authorization: HeaderValues<'a>,
    /// Every `DPoP` header value (RFC 9449 §4.1).
    pub dpop: HeaderValues<'a>,
    /// The request method, compared with a proof's `htm`.
    pub method: &'a str,
    /// The URL the request was made to as the server knows itself (scheme, host, path),
    /// compared with a proof's `htu` without query and fragment.
    pub url: &'a str,
}

impl std::fmt::Debug for RequestParts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestParts")
            .field("authorization", &self.authorization.count())
            .field("dpop", &self.dpop.count())
            .field("method", &self.method)
            .field("url", &self.url)
            .finish()
    }
}

impl BearerValidator {
    /// Validates the access token of a request at `now` and that it grants every token of
    /// `required`: a `Bearer` token as [`BearerValidator::validate`] does (a DPoP-bound one is
    /// refused, RFC 9449 §7.2), a `DPoP` token (§7.1) only if it is DPoP-bound and comes with
    /// one valid proof for this method and URL, signed with the bound key (`cnf.jkt`), whose
    /// `ath` is the token's hash, and whose `jti` is new to the replay store if the validator
    /// has one. A refusal of a `DPoP` token carries the `DPoP` challenge.
    pub async fn validate_request(
        &self,
        request: &RequestParts<'_>,
        now: OffsetDateTime,
        required: &Scope,
    ) -> Result<AccessTokenClaims, BearerError> {
        match self.credentials(&request.authorization, true)? {
            (Scheme::Bearer, token) => self.validate_token(token, now, required).await,
            (Scheme::Dpop, token) => self
                .validate_dpop(token, request, now, required)
                .await
                .map_err(|e| self.in_scheme(Scheme::Dpop, e)),
        }
    }

    async fn validate_dpop(
        &self,
        token: &str,
        request: &RequestParts<'_>,
        now: OffsetDateTime,
        required: &Scope,
    ) -> Result<AccessTokenClaims, BearerError> {
        let claims = self.token_claims(token, now).await?;
        let Some(jkt) = claims.claims.confirmation.as_ref().map(|c| c.jkt.as_str()) else {
            return Err(self.fail(BearerFailure::NotDpopBound));
        };
        let check = DpopCheck {
            algorithms: &self.dpop_algorithms,
            iat_window: self.dpop_iat_window,
            access_token: Some((token, jkt)),
            ..DpopCheck::new(request.method, request.url)
        };
        let proof = verify_dpop_proof(&request.dpop, &check, now)
            .map_err(|f| self.fail(BearerFailure::DpopProof(f)))?;
        // RFC 9449 §11.1: each proof once, until it would be refused as stale anyway.
        if let Some(replay) = &self.replay {
            let until = proof.replay_until(self.dpop_iat_window);
            match replay
                .insert_if_absent(&proof.replay_key(), until, now)
                .await
            {
                Ok(true) => {}
                Ok(false) => return Err(self.fail(BearerFailure::DpopReplayed)),
                Err(e) => return Err(self.unavailable(e)),
            }
        }
        self.check_client(&claims).await?;
        self.check_scope(claims, required)
    }
}

impl DpopFailure {
    /// The `WWW-Authenticate` challenge a resource server answers with, status 401 (RFC 9449
    /// §7.1: `DPoP error="invalid_dpop_proof", algs="ES256 EdDSA"`; §9: `use_dpop_nonce`, sent
    /// with a `DPoP-Nonce` header). Static text only: no input is echoed. `algs` lists the
    /// algorithms accepted.
    pub fn www_authenticate(self, algs: &[Algorithm]) -> String {
        let names: Vec<&str> = algs.iter().map(|a| a.as_str()).collect();
        format!(
            r#"DPoP error="{}", algs="{}""#,
            self.error_code().as_str(),
            names.join(" ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9449_7_1_challenge_names_the_error_and_the_algorithms() {
        assert_eq!(
            DpopFailure::BadSignature.www_authenticate(&[Algorithm::Es256, Algorithm::Ps256]),
            r#"DPoP error="invalid_dpop_proof", algs="ES256 PS256""#
        );
        assert_eq!(
            DpopFailure::UseNonce.www_authenticate(&[Algorithm::EdDsa]),
            r#"DPoP error="use_dpop_nonce", algs="EdDSA""#
        );
    }
}

//! The checks a bearer token goes through once it is taken from its request: a JWT offline
//! (RFC 9068 §4) then against the revocation list, any other token through the introspector;
//! then its binding, its client and the scope the route requires.
//!
//! Which path a token takes: one that looks like a JWS compact serialization (three
//! dot-separated parts) is verified offline when the validator has keys; every other token
//! (jeton's opaque `jt_…` tokens have no dot) goes to the introspector. A validator with keys
//! only refuses opaque tokens as `invalid_token`; one with an introspector only sends every
//! token there (a remote authorization server may introspect its JWTs too).

use crate::request::HeaderValues;
use crate::resource::errors::{BearerError, BearerFailure};
use crate::resource::introspect::Introspector;
use crate::resource::validator::BearerValidator;
use crate::tokens::jwt_verify::{AccessTokenClaims, JwtCheck, check_expiry, verify_jwt};
use crate::types::Scope;
use time::OffsetDateTime;

/// RFC 7515 §7.1: the compact serialization is three base64url parts joined by `.`.
fn looks_like_jws(token: &str) -> bool {
    token.bytes().filter(|&b| b == b'.').count() == 2
}

impl BearerValidator {
    /// Validates the access token in a request's `Authorization` header at `now`, JWT or
    /// opaque, and that it grants every token of `required` (pass an empty scope to require
    /// none). The one entry point the adapters' middleware and extractors use.
    pub async fn validate(
        &self,
        authorization: &HeaderValues<'_>,
        now: OffsetDateTime,
        required: &Scope,
    ) -> Result<AccessTokenClaims, BearerError> {
        let token = self.bearer_token(authorization)?;
        self.validate_token(token, now, required).await
    }

    /// Validates an access token already taken from its request at `now`: a JWT offline
    /// (RFC 9068 §4) and then against the revocation list if there is one, anything else
    /// through the introspector (active, for this audience, not expired); a DPoP-bound token
    /// (`cnf`) is refused, since it came as a bearer token (RFC 9449 §7.2); then the client
    /// store if there is one (the token's client still registered and enabled); then the scope.
    pub async fn validate_token(
        &self,
        token: &str,
        now: OffsetDateTime,
        required: &Scope,
    ) -> Result<AccessTokenClaims, BearerError> {
        let claims = self.token_claims(token, now).await?;
        // RFC 9449 §7.2: a DPoP-bound token is refused as a bearer token, whatever else is
        // right (`validate_request` reads the `DPoP` scheme).
        if claims.claims.confirmation.is_some() {
            return Err(self.fail(BearerFailure::DpopBound));
        }
        self.check_client(&claims).await?;
        self.check_scope(claims, required)
    }

    /// The claims of a token, offline or through the introspector, checked against the
    /// revocation list: everything but its binding, its client and its scope.
    pub(crate) async fn token_claims(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<AccessTokenClaims, BearerError> {
        if token.len() > self.max_token_bytes {
            return Err(self.fail(BearerFailure::TooLong));
        }
        let offline = self.keys.is_some() && (looks_like_jws(token) || self.introspector.is_none());
        let claims = match (&self.introspector, offline) {
            (Some(introspector), false) => self.introspect(&**introspector, token, now).await?,
            _ => {
                let claims = self.verify_offline(token, now)?;
                self.check_revoked(&claims).await?;
                claims
            }
        };
        Ok(claims)
    }

    /// Validates a JWT access token offline at `now` (RFC 9068 §4), synchronously: signature,
    /// `typ`, `iss`, `aud`, times, then the scope. It returns a DPoP-bound token's claims
    /// (`confirmation`) instead of refusing it as a bearer token. It does NOT consult the revocation list, the
    /// client store or the introspector: for benchmarks, fuzzing and callers that have neither; a server uses
    /// [`BearerValidator::validate`].
    pub fn validate_jwt(
        &self,
        token: &str,
        now: OffsetDateTime,
        required: &Scope,
    ) -> Result<AccessTokenClaims, BearerError> {
        if token.len() > self.max_token_bytes {
            return Err(self.fail(BearerFailure::TooLong));
        }
        let claims = self.verify_offline(token, now)?;
        self.check_scope(claims, required)
    }

    fn verify_offline(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<AccessTokenClaims, BearerError> {
        let keys = self.keys();
        let check = JwtCheck {
            issuer: &self.issuer,
            audience: Some(&self.audience),
            algorithms: &self.algorithms,
            keys: &keys,
            leeway: self.leeway,
            now: Some(now),
        };
        verify_jwt(token, &check).map_err(|f| self.fail(f.into()))
    }

    /// RFC 7009 §2: a revoked token must stop working; in the issuer's process it does at once.
    async fn check_revoked(&self, claims: &AccessTokenClaims) -> Result<(), BearerError> {
        let (Some(list), Some(jti)) = (&self.revocations, &claims.jti) else {
            return Ok(());
        };
        match list.is_revoked(jti).await {
            Ok(false) => Ok(()),
            Ok(true) => Err(self.fail(BearerFailure::Inactive)),
            Err(e) => Err(self.unavailable(e)),
        }
    }

    /// A token of a client that is disabled or no longer registered is inactive, as at the
    /// engine's introspection endpoint (issue 9).
    pub(crate) async fn check_client(&self, claims: &AccessTokenClaims) -> Result<(), BearerError> {
        let Some(clients) = &self.clients else {
            return Ok(());
        };
        match clients.client(&claims.client_id).await {
            Ok(Some(c)) if c.enabled => Ok(()),
            Ok(_) => Err(self.fail(BearerFailure::Inactive)),
            Err(e) => Err(self.unavailable(e)),
        }
    }

    async fn introspect(
        &self,
        introspector: &dyn Introspector,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<AccessTokenClaims, BearerError> {
        let found = introspector
            .introspect(token)
            .await
            .map_err(|e| self.unavailable(e))?;
        let t = found.ok_or_else(|| self.fail(BearerFailure::Inactive))?;
        if !t.audience.iter().any(|a| a.as_str() == self.audience) {
            return Err(self.fail(BearerFailure::WrongAudience));
        }
        check_expiry(t.expires_at, now, self.leeway).map_err(|f| self.fail(f.into()))?;
        Ok(AccessTokenClaims::new(self.issuer.clone(), t))
    }

    /// RFC 6750 §3.1 insufficient_scope: "The request requires higher privileges than provided
    /// by the access token", answered with 403 and the `scope` needed.
    pub(crate) fn check_scope(
        &self,
        claims: AccessTokenClaims,
        required: &Scope,
    ) -> Result<AccessTokenClaims, BearerError> {
        if required.is_subset_of(&claims.scope) {
            Ok(claims)
        } else {
            Err(BearerError {
                scope: Some(required.clone()),
                ..self.fail(BearerFailure::InsufficientScope)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::builder::MAX_LEEWAY;
    use crate::tokens::jwt_verify::numeric_date;
    use serde_json::json;

    #[test]
    fn rfc7515_7_1_only_three_part_tokens_are_verified_offline() {
        assert!(looks_like_jws("a.b.c"));
        for other in ["jt_abc", "a.b", "a.b.c.d.e", ""] {
            assert!(!looks_like_jws(other), "{other}");
        }
    }

    #[test]
    fn rfc7519_2_numeric_date_is_total() {
        assert_eq!(
            numeric_date(&json!(1_767_225_600))
                .unwrap()
                .unix_timestamp(),
            1_767_225_600
        );
        assert_eq!(
            numeric_date(&json!(1_767_225_600.9))
                .unwrap()
                .unix_timestamp(),
            1_767_225_600
        );
        for bad in [
            json!(1e300),
            json!(-1e300),
            json!(i64::MAX),
            json!(u64::MAX),
            json!("1767225600"),
            json!(null),
            json!([1]),
        ] {
            assert_eq!(
                numeric_date(&bad).map_err(BearerFailure::from),
                Err(BearerFailure::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn rfc7519_4_1_4_expiry_arithmetic_never_overflows() {
        let max = OffsetDateTime::from_unix_timestamp(253_402_300_799).unwrap();
        assert_eq!(check_expiry(max, max, MAX_LEEWAY), Ok(()));
        assert_eq!(
            check_expiry(OffsetDateTime::UNIX_EPOCH, max, MAX_LEEWAY).map_err(BearerFailure::from),
            Err(BearerFailure::Expired)
        );
    }
}

//! The resource-server half: reading a bearer token from a request (RFC 6750) and validating
//! it, whatever its format: a JWT access token offline (RFC 9068 §4), an opaque one through an
//! [`Introspector`].
//!
//! Pure: no clock (`now` is an argument), no network of its own (keys come as a [`Jwks`] the
//! application fetched, or live from the issuer in the same process; header keys such as `jku`
//! are never followed; a remote introspector is the application's I/O), no panics on any input.
//!
//! Every failure is a [`BearerError`] whose [`response`](BearerError::response) the adapter
//! sends as it is (RFC 6750 §3):
//!
//! | failure | status | challenge |
//! |---|---|---|
//! | no `Authorization` header, or another scheme | 401 | `Bearer realm="…"` (no error code, §3.1) |
//! | several `Authorization` headers, malformed `Bearer` credentials | 400 | `error="invalid_request"` |
//! | bad, expired, revoked, foreign or unverifiable token | 401 | `error="invalid_token"` |
//! | valid token without the required scope | 403 | `error="insufficient_scope", scope="…"` |
//! | the introspection or revocation back end failed | 500 | none |
//!
//! Tokens are read from the `Authorization` header only (RFC 6750 §2.1). The form-body method
//! (§2.2) is not offered and the URI query method (§2.3, "SHOULD NOT") never will be. The
//! scheme is parsed in one place, [`BearerValidator::bearer_token`].
//!
//! Which path a token takes: one that looks like a JWS compact serialization (three
//! dot-separated parts) is verified offline when the validator has keys; every other token
//! (jeton's opaque `jt_…` tokens have no dot) goes to the introspector. A validator with keys
//! only refuses opaque tokens as `invalid_token`; one with an introspector only sends every
//! token there (a remote authorization server may introspect its JWTs too).

use crate::error::StoreError;
use crate::request::HeaderValues;
use crate::resource::errors::{BearerError, BearerFailure};
use crate::resource::introspect::Introspector;
use crate::store::{ClientStore, ReplayStore, RevocationList};
use crate::tokens::algorithm::Algorithm;
use crate::tokens::jwt_verify::{AccessTokenClaims, JwtCheck, check_expiry, verify_jwt};
use crate::tokens::key_set::{Jwks, LiveKeys, Swap};
use crate::types::Scope;
use std::fmt;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

#[cfg(test)]
use crate::resource::builder::MAX_LEEWAY;

/// Where a validator's verification keys come from.
pub(crate) enum Keys {
    /// A copy: a remote issuer's JWKS, refreshed with [`BearerValidator::replace_keys`].
    Fixed(Swap<Jwks>),
    /// The issuer's own key set in this process, live: a rotation is seen at once.
    Live(LiveKeys),
}

impl Keys {
    fn load(&self) -> Arc<Jwks> {
        match self {
            Self::Fixed(swap) => swap.load(),
            Self::Live(live) => Arc::new(live.jwks()),
        }
    }
}

/// Validates bearer tokens for one resource server: its issuer, its audience, its keys, its
/// revocation list and its introspector.
///
/// Made from the engine it protects ([`Engine::validator`](crate::Engine::validator): live keys,
/// revocations, issuer, audience and realm from its configuration), from a remote issuer's JWKS
/// ([`BearerValidator::builder`]) or introspection endpoint ([`BearerValidator::introspecting`]).
/// Cheap to share behind an `Arc`.
///
/// ```
/// use jeton::{Algorithm, BearerValidator, HeaderValues, KeySet, Scope, SigningKey, sign_jwt};
/// use jeton::time::OffsetDateTime;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
///
/// // The authorization server's keys; a resource server would parse its JWKS with
/// // `Jwks::from_json`.
/// let keys = KeySet::new(SigningKey::generate(Algorithm::Es256).unwrap());
/// let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
/// let token = sign_jwt(keys.active(), "at+jwt", &serde_json::json!({
///     "iss": "https://as.example.com", "aud": "https://api.example.com/",
///     "sub": "billing", "client_id": "billing", "jti": "1", "scope": "invoices:read",
///     "iat": now.unix_timestamp(), "exp": now.unix_timestamp() + 300,
/// })).unwrap();
///
/// let validator =
///     BearerValidator::builder("https://as.example.com", "https://api.example.com/", keys.jwks())
///         .realm("invoices")
///         .build()
///         .unwrap();
/// let header = format!("Bearer {token}");
/// let mut authorization = HeaderValues::default();
/// authorization.push(header.as_bytes());
///
/// let read = Scope::parse("invoices:read").unwrap();
/// let claims = block_on(validator.validate(&authorization, now, &read)).unwrap();
/// assert_eq!(claims.client_id, "billing");
///
/// let write = Scope::parse("invoices:write").unwrap();
/// let refused = block_on(validator.validate(&authorization, now, &write)).unwrap_err();
/// assert_eq!(refused.status(), 403);
/// assert_eq!(
///     refused.www_authenticate().unwrap(),
///     "Bearer realm=\"invoices\", error=\"insufficient_scope\", \
///      error_description=\"the access token lacks a required scope\", scope=\"invoices:write\""
/// );
/// ```
pub struct BearerValidator {
    pub(crate) realm: Arc<str>,
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) keys: Option<Keys>,
    pub(crate) revocations: Option<Arc<dyn RevocationList>>,
    pub(crate) introspector: Option<Arc<dyn Introspector>>,
    /// Asked about each valid token's client: a disabled or removed client's tokens are
    /// inactive (issue 9). Set by `Engine::validator`.
    pub(crate) clients: Option<Arc<dyn ClientStore>>,
    pub(crate) leeway: Duration,
    pub(crate) max_token_bytes: usize,
    /// The `alg` values accepted in DPoP proofs (RFC 9449 §7.1 `algs`).
    pub(crate) dpop_algorithms: Arc<[Algorithm]>,
    /// How far a proof's `iat` may be from `now`.
    pub(crate) dpop_iat_window: Duration,
    /// Where DPoP proofs' `jti`s are recorded once (RFC 9449 §11.1), if anywhere.
    pub(crate) replay: Option<Arc<dyn ReplayStore>>,
}

/// The authentication scheme a token was presented with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// `Bearer` (RFC 6750 §2.1).
    Bearer,
    /// `DPoP` (RFC 9449 §7.1).
    Dpop,
}

impl fmt::Debug for BearerValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerValidator")
            .field("realm", &self.realm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("algorithms", &self.algorithms)
            .field("keys", &self.keys.as_ref().map(Keys::load))
            .field("live_keys", &matches!(self.keys, Some(Keys::Live(_))))
            .field("revocation_list", &self.revocations.is_some())
            .field("introspector", &self.introspector.is_some())
            .field("clients", &self.clients.is_some())
            .field("leeway", &self.leeway)
            .field("dpop_algorithms", &self.dpop_algorithms)
            .field("replay_store", &self.replay.is_some())
            .finish_non_exhaustive()
    }
}

/// RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

/// RFC 7515 §7.1: the compact serialization is three base64url parts joined by `.`.
fn looks_like_jws(token: &str) -> bool {
    token.bytes().filter(|&b| b == b'.').count() == 2
}

impl BearerValidator {
    /// The current verification keys (empty for a validator without any).
    pub fn keys(&self) -> Arc<Jwks> {
        self.keys
            .as_ref()
            .map_or_else(|| Arc::new(Jwks::default()), Keys::load)
    }

    /// Swaps in a refreshed key set (after fetching a remote issuer's JWKS again). Returns
    /// `false`, changing nothing, for a validator whose keys are live from an issuer in this
    /// process (rotate through [`JwtIssuer::replace_keys`](crate::JwtIssuer::replace_keys)) or
    /// that has no keys.
    pub fn replace_keys(&self, keys: Jwks) -> bool {
        match &self.keys {
            Some(Keys::Fixed(swap)) => {
                swap.store(keys);
                true
            }
            _ => false,
        }
    }

    /// The realm in challenges.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The issuer identifier tokens must come from.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience tokens must be meant for.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    pub(crate) fn fail(&self, failure: BearerFailure) -> BearerError {
        BearerError {
            failure,
            realm: self.realm.clone(),
            scope: None,
            diagnostic: None,
            dpop_algs: None,
        }
    }

    /// A back end (introspection, revocation list) failed: `500`, its error for the logs.
    pub(crate) fn unavailable(&self, e: StoreError) -> BearerError {
        BearerError {
            diagnostic: Some(e),
            ..self.fail(BearerFailure::Unavailable)
        }
    }

    /// The bearer token of a request, from its `Authorization` header values (RFC 6750 §2.1).
    ///
    /// No header, or a header with another scheme, is [`BearerFailure::MissingToken`] (RFC 6750
    /// §3.1: a request that "attempted using an unsupported authentication method" gets no
    /// error code). The scheme is case-insensitive (RFC 9110 §11.1).
    pub fn bearer_token<'a>(
        &self,
        authorization: &HeaderValues<'a>,
    ) -> Result<&'a str, BearerError> {
        self.credentials(authorization, false)
            .map(|(_, token)| token)
    }

    /// The scheme and token of a request's `Authorization` header: `Bearer` (RFC 6750 §2.1)
    /// always, `DPoP` (RFC 9449 §7.1, the same `token68` syntax) when `dpop` is set. The one
    /// place the header is parsed. A refusal after the scheme was read as `DPoP` carries the
    /// `DPoP` challenge.
    pub(crate) fn credentials<'a>(
        &self,
        authorization: &HeaderValues<'a>,
        dpop: bool,
    ) -> Result<(Scheme, &'a str), BearerError> {
        // RFC 6750 §3.1 invalid_request: "repeats the same parameter, uses more than one method
        // for including an access token, or is otherwise malformed".
        let raw = match (authorization.count(), authorization.single()) {
            (0, _) => return Err(self.fail(BearerFailure::MissingToken)),
            (1, Some(raw)) => raw,
            _ => return Err(self.fail(BearerFailure::MultipleAuthorization)),
        };
        let value = std::str::from_utf8(raw)
            .map_err(|_| self.fail(BearerFailure::MalformedAuthorization))?
            .trim_matches([' ', '\t']);
        let (name, rest) = value.split_once(' ').unwrap_or((value, ""));
        let scheme = if name.eq_ignore_ascii_case("Bearer") {
            Scheme::Bearer
        } else if dpop && name.eq_ignore_ascii_case("DPoP") {
            Scheme::Dpop
        } else {
            return Err(self.fail(BearerFailure::MissingToken));
        };
        let fail = |f| self.fail_as(scheme, f);
        // RFC 6750 §2.1: `credentials = "Bearer" 1*SP b64token`; RFC 9449 §7.1: the same with
        // `DPoP`.
        let token = rest.trim_start_matches(' ');
        if !is_b64token(token) {
            return Err(fail(BearerFailure::MalformedAuthorization));
        }
        if token.len() > self.max_token_bytes {
            return Err(fail(BearerFailure::TooLong));
        }
        Ok((scheme, token))
    }

    /// A refusal answered in `scheme`'s challenge.
    pub(crate) fn fail_as(&self, scheme: Scheme, failure: BearerFailure) -> BearerError {
        self.in_scheme(scheme, self.fail(failure))
    }

    /// `error` answered in `scheme`'s challenge (RFC 9449 §7.1 for `DPoP`).
    pub(crate) fn in_scheme(&self, scheme: Scheme, error: BearerError) -> BearerError {
        match scheme {
            Scheme::Bearer => error,
            Scheme::Dpop => BearerError {
                dpop_algs: Some(self.dpop_algorithms.clone()),
                ..error
            },
        }
    }

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
    use crate::error::ErrorCode;
    use crate::resource::errors::BearerConfigError;
    use crate::tokens::jwt_verify::numeric_date;
    use serde_json::json;

    const ALL: [BearerFailure; 19] = [
        BearerFailure::MissingToken,
        BearerFailure::MultipleAuthorization,
        BearerFailure::MalformedAuthorization,
        BearerFailure::TooLong,
        BearerFailure::Malformed,
        BearerFailure::WrongType,
        BearerFailure::ForbiddenHeader,
        BearerFailure::DisallowedAlgorithm,
        BearerFailure::WrongIssuer,
        BearerFailure::WrongAudience,
        BearerFailure::UnknownKey,
        BearerFailure::BadSignature,
        BearerFailure::Expired,
        BearerFailure::NotYetValid,
        BearerFailure::IssuedInFuture,
        BearerFailure::MissingClaim,
        BearerFailure::Inactive,
        BearerFailure::InsufficientScope,
        BearerFailure::Unavailable,
    ];

    #[test]
    fn rfc6750_3_1_codes_and_statuses() {
        for f in ALL {
            let expected = match f {
                BearerFailure::MissingToken => (None, 401),
                BearerFailure::Unavailable => (None, 500),
                BearerFailure::MultipleAuthorization | BearerFailure::MalformedAuthorization => {
                    (Some(ErrorCode::InvalidRequest), 400)
                }
                BearerFailure::InsufficientScope => (Some(ErrorCode::InsufficientScope), 403),
                _ => (Some(ErrorCode::InvalidToken), 401),
            };
            assert_eq!((f.code(), f.status()), expected, "{f:?}");
        }
    }

    #[test]
    fn rfc6750_3_challenge_attributes_need_no_escaping() {
        // RFC 6750 §3: error_description uses %x20-21 / %x23-5B / %x5D-7E (no `"` or `\`).
        for f in ALL {
            if let Some(d) = f.description() {
                assert!(
                    d.bytes()
                        .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'),
                    "{d}"
                );
            }
        }
    }

    #[test]
    fn rfc6750_3_error_body_is_json_with_code_and_description() {
        for f in ALL {
            let e = BearerError {
                failure: f,
                realm: Arc::from("api"),
                scope: None,
                diagnostic: None,
                dpop_algs: None,
            };
            let Some(code) = f.code() else {
                assert_eq!(e.body(), None, "{f:?}");
                continue;
            };
            let body = e.body().unwrap_or_else(|| panic!("{f:?}"));
            let expected = match f.description() {
                Some(d) => format!(r#"{{"error":"{code}","error_description":"{d}"}}"#),
                None => format!(r#"{{"error":"{code}"}}"#),
            };
            assert_eq!(body, expected, "{f:?}");
        }
    }

    #[test]
    fn rfc6750_3_realm_must_be_quotable() {
        for bad in ["", "a\"b", "a\\b", "caf\u{e9}", "a\nb"] {
            let b =
                BearerValidator::builder("https://as", "https://api", Jwks::default()).realm(bad);
            assert_eq!(
                b.build().unwrap_err(),
                BearerConfigError::BadRealm,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn rfc7515_7_1_only_three_part_tokens_are_verified_offline() {
        assert!(looks_like_jws("a.b.c"));
        for other in ["jt_abc", "a.b", "a.b.c.d.e", ""] {
            assert!(!looks_like_jws(other), "{other}");
        }
    }

    #[test]
    fn rfc6750_2_1_b64token_grammar() {
        for ok in ["a", "a.b.c", "AZaz09-._~+/", "abc==", "a="] {
            assert!(is_b64token(ok), "{ok}");
        }
        for bad in ["", "=", "==a", "a=b", "a b", "a,b", "a\"", "é"] {
            assert!(!is_b64token(bad), "{bad}");
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

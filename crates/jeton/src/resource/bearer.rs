//! The resource-server half: reading a bearer token from a request (RFC 6750) and validating a
//! JWT access token (RFC 9068 §4) or, through an [`Introspector`], an opaque one.
//!
//! Pure: no clock (`now` is an argument), no network (keys come as a [`Jwks`] the application
//! fetched or built; header keys such as `jku` are never followed), no panics on any input.
//!
//! Every failure is a [`BearerError`] whose [`status`](BearerError::status) and
//! [`www_authenticate`](BearerError::www_authenticate) value the adapter sends as they are
//! (RFC 6750 §3):
//!
//! | failure | status | challenge |
//! |---|---|---|
//! | no `Authorization` header, or another scheme | 401 | `Bearer realm="…"` (no error code, §3.1) |
//! | several `Authorization` headers, malformed `Bearer` credentials | 400 | `error="invalid_request"` |
//! | bad, expired, foreign or unverifiable token | 401 | `error="invalid_token"` |
//! | valid token without the required scope | 403 | `error="insufficient_scope", scope="…"` |
//! | the introspection back end failed | 500 | none |
//!
//! Tokens are read from the `Authorization` header only (RFC 6750 §2.1). The form-body method
//! (§2.2) is not offered and the URI query method (§2.3, "SHOULD NOT") never will be.

use crate::request::HeaderValues;
use crate::resource::errors::{BearerConfigError, BearerError, BearerFailure};
use crate::resource::introspect::Introspector;
use crate::tokens::algorithm::Algorithm;
use crate::tokens::jwt_verify::{
    AccessTokenClaims, DEFAULT_MAX_TOKEN_BYTES, JwtCheck, check_expiry, verify_jwt,
};
use crate::tokens::key_set::{Jwks, Swap};
use crate::types::Scope;
use std::fmt;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// The default clock-skew leeway for `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::seconds(30);
/// The largest leeway a validator accepts.
pub const MAX_LEEWAY: Duration = Duration::minutes(5);

/// Validates bearer tokens for one resource server: its issuer, its audience, its keys.
///
/// Cheap to share behind an `Arc`; [`BearerValidator::replace_keys`] swaps in a refreshed JWKS.
///
/// ```
/// use jeton::{Algorithm, BearerValidator, HeaderValues, KeySet, Scope, SigningKey, sign_jwt};
/// use jeton::time::OffsetDateTime;
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
/// let claims = validator
///     .validate(&authorization, now, &Scope::parse("invoices:read").unwrap())
///     .unwrap();
/// assert_eq!(claims.client_id, "billing");
///
/// let refused = validator
///     .validate(&authorization, now, &Scope::parse("invoices:write").unwrap())
///     .unwrap_err();
/// assert_eq!(refused.status(), 403);
/// assert_eq!(
///     refused.www_authenticate().unwrap(),
///     "Bearer realm=\"invoices\", error=\"insufficient_scope\", \
///      error_description=\"the access token lacks a required scope\", scope=\"invoices:write\""
/// );
/// ```
pub struct BearerValidator {
    realm: Arc<str>,
    issuer: String,
    audience: String,
    algorithms: Vec<Algorithm>,
    keys: Swap<Jwks>,
    leeway: Duration,
    max_token_bytes: usize,
}

impl fmt::Debug for BearerValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerValidator")
            .field("realm", &self.realm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("algorithms", &self.algorithms)
            .field("keys", &self.keys.load())
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

/// Builds a [`BearerValidator`].
#[derive(Debug)]
pub struct BearerValidatorBuilder {
    realm: String,
    issuer: String,
    audience: String,
    algorithms: Vec<Algorithm>,
    keys: Jwks,
    leeway: Duration,
    max_token_bytes: usize,
}

impl BearerValidatorBuilder {
    /// The realm in challenges. Default `api`.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// The accepted algorithms. Default all of [`Algorithm::ALL`]: each key is also pinned to
    /// its own algorithm, so the list can only narrow what the key set allows.
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algs.into_iter().collect();
        self
    }

    /// Clock-skew leeway for `exp`, `nbf` and `iat`. Default [`DEFAULT_LEEWAY`], at most
    /// [`MAX_LEEWAY`].
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The longest token accepted, in bytes. Default [`DEFAULT_MAX_TOKEN_BYTES`].
    pub fn max_token_bytes(mut self, n: usize) -> Self {
        self.max_token_bytes = n;
        self
    }

    /// Checks the settings and builds the validator.
    pub fn build(self) -> Result<BearerValidator, BearerConfigError> {
        let realm_ok = !self.realm.is_empty()
            && self
                .realm
                .bytes()
                .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\');
        if !realm_ok {
            return Err(BearerConfigError::BadRealm);
        }
        if self.leeway < Duration::ZERO || self.leeway > MAX_LEEWAY {
            return Err(BearerConfigError::BadLeeway);
        }
        if self.algorithms.is_empty() {
            return Err(BearerConfigError::NoAlgorithms);
        }
        if self.issuer.is_empty() || self.audience.is_empty() {
            return Err(BearerConfigError::Empty);
        }
        if self.max_token_bytes < 256 {
            return Err(BearerConfigError::BadTokenLimit);
        }
        Ok(BearerValidator {
            realm: self.realm.into(),
            issuer: self.issuer,
            audience: self.audience,
            algorithms: self.algorithms,
            keys: Swap::new(self.keys),
            leeway: self.leeway,
            max_token_bytes: self.max_token_bytes,
        })
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

impl BearerValidator {
    /// Starts building a validator for tokens from `issuer` (compared exactly with `iss`) meant
    /// for `audience` (which `aud` must contain), verified with `keys`.
    pub fn builder(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        keys: Jwks,
    ) -> BearerValidatorBuilder {
        BearerValidatorBuilder {
            realm: "api".to_owned(),
            issuer: issuer.into(),
            audience: audience.into(),
            algorithms: Algorithm::ALL.to_vec(),
            keys,
            leeway: DEFAULT_LEEWAY,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
        }
    }

    /// The current keys.
    pub fn keys(&self) -> Arc<Jwks> {
        self.keys.load()
    }

    /// Swaps in a refreshed key set (after fetching the issuer's JWKS again).
    pub fn replace_keys(&self, keys: Jwks) {
        self.keys.store(keys);
    }

    /// The realm in challenges.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    fn fail(&self, failure: BearerFailure) -> BearerError {
        BearerError {
            failure,
            realm: self.realm.clone(),
            scope: None,
            diagnostic: None,
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
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("Bearer") {
            return Err(self.fail(BearerFailure::MissingToken));
        }
        // RFC 6750 §2.1: `credentials = "Bearer" 1*SP b64token`.
        let token = rest.trim_start_matches(' ');
        if !is_b64token(token) {
            return Err(self.fail(BearerFailure::MalformedAuthorization));
        }
        if token.len() > self.max_token_bytes {
            return Err(self.fail(BearerFailure::TooLong));
        }
        Ok(token)
    }

    /// Validates the JWT access token in a request's `Authorization` header at `now`, and that
    /// it grants every token of `required` (pass an empty scope to require none).
    pub fn validate(
        &self,
        authorization: &HeaderValues<'_>,
        now: OffsetDateTime,
        required: &Scope,
    ) -> Result<AccessTokenClaims, BearerError> {
        let token = self.bearer_token(authorization)?;
        self.validate_token(token, now, required)
    }

    /// Validates a JWT access token (already taken from its request) at `now` (RFC 9068 §4).
    pub fn validate_token(
        &self,
        token: &str,
        now: OffsetDateTime,
        required: &Scope,
    ) -> Result<AccessTokenClaims, BearerError> {
        if token.len() > self.max_token_bytes {
            return Err(self.fail(BearerFailure::TooLong));
        }
        let keys = self.keys.load();
        let check = JwtCheck {
            issuer: &self.issuer,
            audience: Some(&self.audience),
            algorithms: &self.algorithms,
            keys: &keys,
            leeway: self.leeway,
            now: Some(now),
        };
        let claims = verify_jwt(token, &check).map_err(|f| self.fail(f.into()))?;
        self.check_scope(claims, required)
    }

    /// Validates an opaque token from a request's `Authorization` header through
    /// `introspector`: active, for this audience, not expired, with every `required` scope.
    pub async fn validate_opaque(
        &self,
        authorization: &HeaderValues<'_>,
        now: OffsetDateTime,
        required: &Scope,
        introspector: &dyn Introspector,
    ) -> Result<AccessTokenClaims, BearerError> {
        let token = self.bearer_token(authorization)?;
        let found = introspector
            .introspect(token)
            .await
            .map_err(|e| BearerError {
                diagnostic: Some(e),
                ..self.fail(BearerFailure::Unavailable)
            })?;
        let t = found.ok_or_else(|| self.fail(BearerFailure::Inactive))?;
        if !t.audience.iter().any(|a| a.as_str() == self.audience) {
            return Err(self.fail(BearerFailure::WrongAudience));
        }
        check_expiry(t.expires_at, now, self.leeway).map_err(|f| self.fail(f.into()))?;
        let claims = AccessTokenClaims::new(self.issuer.clone(), t);
        self.check_scope(claims, required)
    }

    /// RFC 6750 §3.1 insufficient_scope: "The request requires higher privileges than provided
    /// by the access token", answered with 403 and the `scope` needed.
    fn check_scope(
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

/// A validator and the scope a protected route requires: what the adapters' bearer extractors
/// hold (in axum state, actix app data, or your own handler). Cheap to clone.
#[derive(Clone, Debug)]
pub struct BearerAuth {
    validator: std::sync::Arc<BearerValidator>,
    required: Scope,
}

impl BearerAuth {
    /// Requires a valid token granting every token of `required` (an empty scope requires
    /// none).
    pub fn new(validator: std::sync::Arc<BearerValidator>, required: Scope) -> Self {
        Self {
            validator,
            required,
        }
    }

    /// The validator.
    pub fn validator(&self) -> &BearerValidator {
        &self.validator
    }

    /// The required scope.
    pub fn required(&self) -> &Scope {
        &self.required
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
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

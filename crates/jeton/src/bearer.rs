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

use crate::error::{ErrorCode, StoreError};
use crate::jws::{self, Algorithm};
use crate::jwt::AT_JWT_TYPE;
use crate::keys::{Jwks, Swap};
use crate::request::HeaderValues;
use crate::token::{TokenRecord, TokenStore, opaque_token_digest};
use crate::types::Scope;
use serde_json::{Map, Value};
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// The default clock-skew leeway for `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::seconds(30);
/// The largest leeway a validator accepts.
pub const MAX_LEEWAY: Duration = Duration::minutes(5);
/// The default limit on a token's length, in bytes.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Why a request's bearer token was refused. For logs and tests; the wire shows only the
/// RFC 6750 code ([`BearerError::code`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BearerFailure {
    /// No `Authorization` header, or one with another scheme.
    MissingToken,
    /// More than one `Authorization` header.
    MultipleAuthorization,
    /// `Bearer` credentials that are not `1*SP b64token`.
    MalformedAuthorization,
    /// Longer than the validator's limit.
    TooLong,
    /// Not a JWS compact serialization, or a claim of the wrong JSON type.
    Malformed,
    /// The header `typ` is not `at+jwt` (RFC 9068 §4 step 1).
    WrongType,
    /// The header names a key by reference or value (`jku`, `x5u`, `jwk`, `x5c`) or has `crit`.
    ForbiddenHeader,
    /// `alg` is not on the allow-list (`none` and HMAC never are).
    DisallowedAlgorithm,
    /// `iss` is not the expected issuer.
    WrongIssuer,
    /// `aud` does not contain this resource server.
    WrongAudience,
    /// No key in the set matches `kid` and `alg`.
    UnknownKey,
    /// The signature does not verify.
    BadSignature,
    /// `exp` has passed (beyond the leeway).
    Expired,
    /// `nbf` is still ahead (beyond the leeway).
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    IssuedInFuture,
    /// A claim RFC 9068 §2.2 requires (`sub`, `client_id`, `iat`, `jti`, `exp`) is missing.
    MissingClaim,
    /// Introspection found no active token.
    Inactive,
    /// The token is valid but lacks a required scope.
    InsufficientScope,
    /// The introspection back end failed.
    Unavailable,
}

impl BearerFailure {
    /// The RFC 6750 §3.1 error code, if one is sent.
    pub const fn code(self) -> Option<ErrorCode> {
        match self {
            Self::MissingToken | Self::Unavailable => None,
            Self::MultipleAuthorization | Self::MalformedAuthorization => {
                Some(ErrorCode::InvalidRequest)
            }
            Self::InsufficientScope => Some(ErrorCode::InsufficientScope),
            _ => Some(ErrorCode::InvalidToken),
        }
    }

    /// The HTTP status.
    pub const fn status(self) -> u16 {
        match self {
            Self::MissingToken => 401,
            Self::Unavailable => 500,
            _ => match self.code() {
                Some(c) => c.http_status(),
                None => 401,
            },
        }
    }

    /// The `error_description`: static text only, never input.
    pub const fn description(self) -> Option<&'static str> {
        Some(match self {
            Self::MissingToken | Self::Unavailable => return None,
            Self::MultipleAuthorization => "more than one Authorization header",
            Self::MalformedAuthorization => "the Authorization header is malformed",
            Self::Expired => "the access token expired",
            Self::InsufficientScope => "the access token lacks a required scope",
            _ => "the access token is invalid",
        })
    }
}

/// A refused bearer request: what to answer (status and `WWW-Authenticate`) and why.
pub struct BearerError {
    failure: BearerFailure,
    realm: Arc<str>,
    scope: Option<Scope>,
    diagnostic: Option<StoreError>,
}

impl fmt::Debug for BearerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerError")
            .field("failure", &self.failure)
            .field("scope", &self.scope)
            .field("diagnostic", &self.diagnostic)
            .finish()
    }
}

impl fmt::Display for BearerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code(), self.description()) {
            (Some(c), Some(d)) => write!(f, "{c}: {d}"),
            _ if self.failure == BearerFailure::Unavailable => {
                f.write_str("token introspection failed")
            }
            _ => f.write_str("no bearer token"),
        }
    }
}

impl StdError for BearerError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.diagnostic.as_ref().map(|d| d as _)
    }
}

impl BearerError {
    /// Why.
    pub fn failure(&self) -> BearerFailure {
        self.failure
    }

    /// The RFC 6750 error code; `None` when the request had no bearer token (§3.1) or the
    /// introspection back end failed.
    pub fn code(&self) -> Option<ErrorCode> {
        self.failure.code()
    }

    /// The HTTP status: 400, 401, 403, or 500 for a failed introspection back end.
    pub fn status(&self) -> u16 {
        self.failure.status()
    }

    /// The `error_description`, if any.
    pub fn description(&self) -> Option<&'static str> {
        self.failure.description()
    }

    /// The scope that was needed, for `insufficient_scope`.
    pub fn required_scope(&self) -> Option<&Scope> {
        self.scope.as_ref()
    }

    /// The back-end error behind [`BearerFailure::Unavailable`], for the application's logs.
    pub fn diagnostic(&self) -> Option<&StoreError> {
        self.diagnostic.as_ref()
    }

    /// The `WWW-Authenticate` value to send (RFC 6750 §3), or `None` for a 500.
    ///
    /// RFC 6750 §3.1: "If the request lacks any authentication information [...], the resource
    /// server SHOULD NOT include an error code or other error information": a missing token
    /// gives `Bearer realm="…"` alone. Values need no escaping: the realm is checked when the
    /// validator is built, descriptions are static and scope tokens are `NQCHAR`.
    pub fn www_authenticate(&self) -> Option<String> {
        if self.failure == BearerFailure::Unavailable {
            return None;
        }
        let mut v = format!("Bearer realm=\"{}\"", self.realm);
        if let Some(code) = self.code() {
            v.push_str(&format!(", error=\"{code}\""));
        }
        if let Some(d) = self.description() {
            v.push_str(&format!(", error_description=\"{d}\""));
        }
        if let Some(s) = &self.scope {
            v.push_str(&format!(", scope=\"{s}\""));
        }
        Some(v)
    }

    /// The JSON body to send with [`BearerError::status`], content type `application/json`:
    /// `{"error":"…","error_description":"…"}` (RFC 6750 §3, with the RFC 6749 §5.2 members).
    /// `None` when there is no error code (no bearer token, §3.1; or a failed introspection
    /// back end): the answer then has no body.
    pub fn body(&self) -> Option<String> {
        #[derive(serde::Serialize)]
        struct Body {
            error: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            error_description: Option<&'static str>,
        }
        let body = Body {
            error: self.code()?.as_str(),
            error_description: self.description(),
        };
        serde_json::to_string(&body).ok()
    }
}

/// The claims of a validated access token.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct AccessTokenClaims {
    /// `iss`: the expected issuer.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `client_id`.
    pub client_id: String,
    /// `aud`, as a list (it contains this resource server).
    pub audience: Vec<String>,
    /// `exp`.
    pub expires_at: OffsetDateTime,
    /// `iat` (always present for JWTs; from introspection when known).
    pub issued_at: Option<OffsetDateTime>,
    /// `nbf`, when present.
    pub not_before: Option<OffsetDateTime>,
    /// `jti` (always present for JWTs; `None` for opaque tokens).
    pub jti: Option<String>,
    /// `scope` (empty when absent).
    pub scope: Scope,
    /// Every other claim (custom claims), unverified in meaning.
    pub extra: Map<String, Value>,
}

/// What an [`Introspector`] knows about an active token.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IntrospectedToken {
    /// `sub`.
    pub subject: String,
    /// `client_id`.
    pub client_id: String,
    /// `aud`.
    pub audience: Vec<String>,
    /// `scope`.
    pub scope: Scope,
    /// `iat`, when known.
    pub issued_at: Option<OffsetDateTime>,
    /// `exp`.
    pub expires_at: OffsetDateTime,
}

impl IntrospectedToken {
    /// An introspection result.
    pub fn new(
        subject: String,
        client_id: String,
        audience: Vec<String>,
        scope: Scope,
        expires_at: OffsetDateTime,
    ) -> Self {
        Self {
            subject,
            client_id,
            audience,
            scope,
            issued_at: None,
            expires_at,
        }
    }
}

impl From<TokenRecord> for IntrospectedToken {
    fn from(r: TokenRecord) -> Self {
        Self {
            subject: r.subject,
            client_id: r.client_id.into(),
            audience: r.audience.into_iter().map(String::from).collect(),
            scope: r.scope,
            issued_at: Some(r.issued_at),
            expires_at: r.expires_at,
        }
    }
}

/// Looks an opaque token up: in a local [`TokenStore`] ([`StoreIntrospector`]) or at a remote
/// RFC 7662 endpoint (the application's own I/O).
#[async_trait::async_trait]
pub trait Introspector: Send + Sync {
    /// What is known about `token`: `Ok(None)` for an unknown, revoked, malformed or otherwise
    /// inactive token; `Err` only when the back end failed (answered with 500).
    ///
    /// Already validated by the caller: `token` is one `b64token` from a single `Authorization:
    /// Bearer` header, within the length limit. Expiry, audience and scope are checked after.
    async fn introspect(&self, token: &str) -> Result<Option<IntrospectedToken>, StoreError>;
}

/// An [`Introspector`] over jeton's own token store: checks the token's shape and checksum,
/// then looks its digest up.
pub struct StoreIntrospector(Arc<dyn TokenStore>);

impl fmt::Debug for StoreIntrospector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreIntrospector").finish_non_exhaustive()
    }
}

impl StoreIntrospector {
    /// Looks tokens up in `store`.
    pub fn new(store: Arc<dyn TokenStore>) -> Self {
        Self(store)
    }
}

#[async_trait::async_trait]
impl Introspector for StoreIntrospector {
    async fn introspect(&self, token: &str) -> Result<Option<IntrospectedToken>, StoreError> {
        let Some(digest) = opaque_token_digest(token) else {
            return Ok(None);
        };
        Ok(self.0.get(&digest).await?.map(IntrospectedToken::from))
    }
}

/// A validator setting was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BearerConfigError {
    /// The realm must be 1 or more printable ASCII characters without `"` or `\`.
    #[error("realm must be printable ASCII without '\"' or '\\'")]
    BadRealm,
    /// The leeway must be between zero and [`MAX_LEEWAY`].
    #[error("leeway must be between 0 and 5 minutes")]
    BadLeeway,
    /// At least one algorithm must be accepted.
    #[error("no algorithm accepted")]
    NoAlgorithms,
    /// The issuer and audience must be non-empty.
    #[error("issuer and audience must be non-empty")]
    Empty,
    /// The token limit must be at least 256 bytes.
    #[error("max_token_bytes must be at least 256")]
    BadTokenLimit,
}

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

/// A NumericDate claim (RFC 7519 §2): seconds since the epoch, possibly fractional.
fn numeric_date(v: &Value) -> Result<OffsetDateTime, BearerFailure> {
    let secs = match v.as_i64() {
        Some(s) => s,
        None => {
            let f = v.as_f64().ok_or(BearerFailure::Malformed)?;
            // Out-of-range and non-finite values fail the range check below.
            if !f.is_finite() || f.abs() > 1e15 {
                return Err(BearerFailure::Malformed);
            }
            f.floor() as i64
        }
    };
    OffsetDateTime::from_unix_timestamp(secs).map_err(|_| BearerFailure::Malformed)
}

/// Takes a required string claim out of `claims` (what is left becomes
/// [`AccessTokenClaims::extra`]).
fn string_claim(claims: &mut Map<String, Value>, name: &str) -> Result<String, BearerFailure> {
    match claims.remove(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(BearerFailure::Malformed),
        None => Err(BearerFailure::MissingClaim),
    }
}

/// Takes an optional NumericDate claim out of `claims`.
fn date_claim(
    claims: &mut Map<String, Value>,
    name: &str,
) -> Result<Option<OffsetDateTime>, BearerFailure> {
    claims.remove(name).as_ref().map(numeric_date).transpose()
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
        let claims = verify_jwt(token, &check).map_err(|f| self.fail(f))?;
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
        if !t.audience.contains(&self.audience) {
            return Err(self.fail(BearerFailure::WrongAudience));
        }
        check_expiry(t.expires_at, now, self.leeway).map_err(|f| self.fail(f))?;
        let claims = AccessTokenClaims {
            issuer: self.issuer.clone(),
            subject: t.subject,
            client_id: t.client_id,
            audience: t.audience,
            expires_at: t.expires_at,
            issued_at: t.issued_at,
            not_before: None,
            jti: None,
            scope: t.scope,
            extra: Map::new(),
        };
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

/// RFC 7519 §4.1.4: "the current date/time MUST be before the expiration date/time", with
/// "some small leeway, usually no more than a few minutes, to account for clock skew".
fn check_expiry(
    exp: OffsetDateTime,
    now: OffsetDateTime,
    leeway: Duration,
) -> Result<(), BearerFailure> {
    match exp.checked_add(leeway) {
        Some(limit) if now >= limit => Err(BearerFailure::Expired),
        _ => Ok(()),
    }
}

/// What [`verify_jwt`] checks a token against.
pub(crate) struct JwtCheck<'a> {
    /// `iss` must equal this.
    pub(crate) issuer: &'a str,
    /// `aud` must contain this; `None` skips the check (the issuer inspecting its own tokens).
    pub(crate) audience: Option<&'a str>,
    /// The `alg` allow-list.
    pub(crate) algorithms: &'a [Algorithm],
    /// The keys.
    pub(crate) keys: &'a Jwks,
    /// Leeway for the time checks.
    pub(crate) leeway: Duration,
    /// The time to check `exp`, `nbf` and `iat` against; `None` skips those checks.
    pub(crate) now: Option<OffsetDateTime>,
}

/// The RFC 9068 §4 checks, in its order; any failure is `invalid_token`.
pub(crate) fn verify_jwt(
    token: &str,
    check: &JwtCheck<'_>,
) -> Result<AccessTokenClaims, BearerFailure> {
    let jws = jws::parse(token).map_err(|_| BearerFailure::Malformed)?;
    let header = &jws.header;

    // RFC 9068 §4 step 1 (and §2.1): "Resource servers MUST verify that the "typ" header
    // value is "at+jwt" or "application/at+jwt" and reject tokens carrying any other
    // value." Media types compare case-insensitively (RFC 7515 §4.1.9).
    let typ_ok = header.get("typ").and_then(Value::as_str).is_some_and(|t| {
        t.eq_ignore_ascii_case(AT_JWT_TYPE) || t.eq_ignore_ascii_case("application/at+jwt")
    });
    if !typ_ok {
        return Err(BearerFailure::WrongType);
    }
    // RFC 8725 §3.10 and RFC-CHECKLIST item 37: keys come only from the configured set;
    // `jku`, `x5u`, `jwk` and `x5c` are never fetched or trusted, so a token naming one is
    // refused. RFC 7515 §4.1.11: a `crit` extension jeton does not understand (it
    // understands none) "MUST" make the JWS invalid.
    if ["jku", "x5u", "jwk", "x5c", "crit"]
        .iter()
        .any(|k| header.contains_key(*k))
    {
        return Err(BearerFailure::ForbiddenHeader);
    }
    // RFC 9068 §4 step 4 and RFC 8725 §3.1: the algorithm must be on the allow-list;
    // `none` and `HS*` are not algorithms jeton knows.
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(Algorithm::from_name)
        .filter(|a| check.algorithms.contains(a))
        .ok_or(BearerFailure::DisallowedAlgorithm)?;
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.as_str()),
        Some(_) => return Err(BearerFailure::Malformed),
    };

    let mut claims = jws::object(&jws.payload).ok_or(BearerFailure::Malformed)?;
    // RFC 9068 §4 step 2: "The issuer identifier for the authorization server [...] MUST
    // exactly match the value of the "iss" claim."
    let issuer = string_claim(&mut claims, "iss")?;
    if issuer != check.issuer {
        return Err(BearerFailure::WrongIssuer);
    }
    // RFC 9068 §4 step 3: "The resource server MUST validate that the "aud" claim contains
    // a resource indicator value corresponding to an identifier the resource server expects
    // for itself."
    let audience = match claims.remove("aud") {
        Some(Value::String(a)) => vec![a],
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(a) => Ok(a),
                _ => Err(BearerFailure::Malformed),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(BearerFailure::Malformed),
        None => return Err(BearerFailure::MissingClaim),
    };
    if let Some(ours) = check.audience
        && !audience.iter().any(|a| a == ours)
    {
        return Err(BearerFailure::WrongAudience);
    }
    // RFC 9068 §4 step 4: "The resource server MUST validate the signature of all incoming
    // JWT access tokens according to [RFC7515] using the algorithm specified in the JWT
    // "alg" Header Parameter." The key must be in the set, and of that algorithm.
    let mut candidates = check
        .keys
        .iter()
        .filter(|k| k.algorithm() == alg && kid.is_none_or(|kid| k.kid() == kid))
        .peekable();
    if candidates.peek().is_none() {
        return Err(BearerFailure::UnknownKey);
    }
    let message = jws.signing_input.as_bytes();
    if !candidates.any(|k| k.verify(message, &jws.signature)) {
        return Err(BearerFailure::BadSignature);
    }
    // RFC 9068 §4 step 5: "The current time MUST be before the time represented by the
    // "exp" claim. Implementers MAY provide for some small leeway".
    let expires_at = date_claim(&mut claims, "exp")?.ok_or(BearerFailure::MissingClaim)?;
    let not_before = date_claim(&mut claims, "nbf")?;
    let issued_at = date_claim(&mut claims, "iat")?.ok_or(BearerFailure::MissingClaim)?;
    if let Some(now) = check.now {
        check_expiry(expires_at, now, check.leeway)?;
        // RFC 7519 §4.1.5: not accepted before `nbf`, with the same leeway.
        if let Some(nbf) = not_before
            && nbf.checked_sub(check.leeway).is_some_and(|t| now < t)
        {
            return Err(BearerFailure::NotYetValid);
        }
        // A token issued in the future (beyond the leeway) is refused too.
        if now.checked_add(check.leeway).is_some_and(|t| issued_at > t) {
            return Err(BearerFailure::IssuedInFuture);
        }
    }
    // RFC 9068 §2.2: `iat`, `sub`, `client_id` and `jti` are REQUIRED.
    let subject = string_claim(&mut claims, "sub")?;
    let client_id = string_claim(&mut claims, "client_id")?;
    let jti = string_claim(&mut claims, "jti")?;
    // RFC 9068 §2.2.3: `scope` is a space-delimited string (RFC 8693 §4.2).
    let scope = match claims.remove("scope") {
        None => Scope::default(),
        Some(Value::String(s)) if s.is_empty() => Scope::default(),
        Some(Value::String(s)) => Scope::parse(&s).map_err(|_| BearerFailure::Malformed)?,
        Some(_) => return Err(BearerFailure::Malformed),
    };
    Ok(AccessTokenClaims {
        issuer,
        subject,
        client_id,
        audience,
        expires_at,
        issued_at: Some(issued_at),
        not_before,
        jti: Some(jti),
        scope,
        extra: claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
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
            assert_eq!(numeric_date(&bad), Err(BearerFailure::Malformed), "{bad}");
        }
    }

    #[test]
    fn rfc7519_4_1_4_expiry_arithmetic_never_overflows() {
        let max = OffsetDateTime::from_unix_timestamp(253_402_300_799).unwrap();
        assert_eq!(check_expiry(max, max, MAX_LEEWAY), Ok(()));
        assert_eq!(
            check_expiry(OffsetDateTime::UNIX_EPOCH, max, MAX_LEEWAY),
            Err(BearerFailure::Expired)
        );
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

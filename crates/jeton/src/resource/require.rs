//! [`RequireScope`]: a validator and the scope a group of routes requires, what every adapter's
//! middleware and extractor is built from.

use crate::request::HeaderValues;
use crate::resource::dpop::RequestParts;
use crate::resource::errors::BearerError;
use crate::resource::validator::BearerValidator;
use crate::tokens::AccessTokenClaims;
use crate::types::Scope;
use std::sync::Arc;
use time::OffsetDateTime;

/// A validator and the scope a protected route (or group of routes) requires: what the
/// adapters' middleware (`AccessTokenLayer` for tower/axum/hyper, `AccessTokenMiddleware` for
/// actix-web) and `ValidatedToken` extractors are built from. Cheap to clone.
///
/// ```
/// # fn demo(validator: jeton::BearerValidator) -> Result<(), jeton::InvalidValue> {
/// use jeton::{RequireScope, Scope};
/// use std::sync::Arc;
/// let orders = RequireScope::new(Arc::new(validator), Scope::parse("orders:read")?);
/// # let _ = orders; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RequireScope {
    validator: Arc<BearerValidator>,
    required: Scope,
    external_url: Option<Arc<str>>,
}

impl RequireScope {
    /// Requires a valid token granting every token of `required` (an empty scope requires
    /// none).
    pub fn new(validator: Arc<BearerValidator>, required: Scope) -> Self {
        Self {
            validator,
            required,
            external_url: None,
        }
    }

    /// The base URL the API is reached at by its clients (scheme and host, maybe a path
    /// prefix, e.g. `https://api.example.com`): a DPoP proof's `htu` must be this followed by
    /// the request path (RFC 9449 §7.1). Set it whenever the server knows it, and always
    /// behind a proxy that rewrites `Host`. Without it the URL is `https://` + the request's
    /// `Host` + path ([`RequireScope::request_url`]).
    pub fn external_url(mut self, base: impl AsRef<str>) -> Self {
        self.external_url = Some(Arc::from(base.as_ref().trim_end_matches('/')));
        self
    }

    /// The URL a request for `path` was made to, as compared with a DPoP proof's `htu`: the
    /// [`external_url`](RequireScope::external_url) followed by `path`, or, without one,
    /// `https://` + the host + `path` (an API reached over plain HTTP sets its external URL).
    /// The host is the request's `Host` header value when it is visible ASCII (as
    /// `http::HeaderValue::to_str` requires), else the request URI's
    /// authority: decided here once, so every adapter compares the same URL. Empty when no
    /// host is known: every proof is then refused as for another URL.
    pub fn request_url(
        &self,
        host_header: Option<&[u8]>,
        authority: Option<&str>,
        path: &str,
    ) -> String {
        let host = host_header
            .filter(|h| h.iter().all(|&b| (32..127).contains(&b) || b == b'\t'))
            .and_then(|h| std::str::from_utf8(h).ok())
            .or(authority);
        match (&self.external_url, host) {
            (Some(base), _) => format!("{base}{path}"),
            (None, Some(host)) => format!("https://{host}{path}"),
            (None, None) => String::new(),
        }
    }

    /// The validator.
    pub fn validator(&self) -> &Arc<BearerValidator> {
        &self.validator
    }

    /// The required scope.
    pub fn required(&self) -> &Scope {
        &self.required
    }

    /// The same validator requiring another scope (for a sub-group of routes).
    pub fn with_scope(&self, required: Scope) -> Self {
        Self {
            required,
            ..self.clone()
        }
    }

    /// Validates the token in a request's `Authorization` header values at `now` and checks
    /// the required scope ([`BearerValidator::validate`]).
    pub async fn check(
        &self,
        authorization: &HeaderValues<'_>,
        now: OffsetDateTime,
    ) -> Result<AccessTokenClaims, BearerError> {
        self.validator
            .validate(authorization, now, &self.required)
            .await
    }

    /// Validates the token of a request (`Bearer` or `DPoP`, RFC 9449 §7) at `now` and checks
    /// the required scope ([`BearerValidator::validate_request`]): what the adapters call.
    pub async fn check_request(
        &self,
        request: &RequestParts<'_>,
        now: OffsetDateTime,
    ) -> Result<AccessTokenClaims, BearerError> {
        self.validator
            .validate_request(request, now, &self.required)
            .await
    }

    /// Checks the required scope against claims already validated (by middleware that ran
    /// before): `403 insufficient_scope` when one is missing.
    pub fn check_claims(&self, claims: &AccessTokenClaims) -> Result<(), BearerError> {
        self.validator
            .check_scope(claims.clone(), &self.required)
            .map(drop)
    }
}

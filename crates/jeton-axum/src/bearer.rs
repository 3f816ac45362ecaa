//! Bearer-token protection for resource servers built on axum (RFC 6750).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use jeton::time::OffsetDateTime;
use jeton::{AccessTokenClaims, BearerError, BearerValidator, HeaderValues, Scope};

/// What the [`Bearer`] extractor checks against: a validator and the scope a route requires.
/// Put it in the router's state (directly, or through [`FromRef`] from your own state); give
/// routes that need another scope their own sub-router with their own `BearerAuth`.
pub use jeton::BearerAuth;

/// The validated claims of a request's `Authorization: Bearer` token: an extractor for
/// handlers of a resource server whose state provides a [`BearerAuth`].
///
/// A refused request never reaches the handler: it is answered with the core's RFC 6750
/// status and challenge (see [`BearerRejection`]).
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use jeton_axum::{Bearer, BearerAuth, jeton::{BearerValidator, Scope}};
/// use std::sync::Arc;
///
/// async fn invoices(Bearer(claims): Bearer) -> String {
///     format!("invoices for {}", claims.client_id)
/// }
///
/// # fn app(validator: BearerValidator) -> Result<Router, Box<dyn std::error::Error>> {
/// let auth = BearerAuth::new(Arc::new(validator), Scope::parse("invoices:read")?);
/// Ok(Router::new().route("/invoices", get(invoices)).with_state(auth))
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Bearer(pub AccessTokenClaims);

impl<S> FromRequestParts<S> for Bearer
where
    BearerAuth: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = BearerRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, BearerRejection> {
        let auth = BearerAuth::from_ref(state);
        authorize_bearer(auth.validator(), &parts.headers, auth.required()).map(Bearer)
    }
}

/// Checks the `Authorization: Bearer` token in `headers` against `validator` at the current
/// time, requiring `required` scopes: the claims, or the answer to send. Tokens are read from
/// the header only (RFC 6750 §2.1; the query method is never used).
#[allow(clippy::result_large_err)]
pub fn authorize_bearer(
    validator: &BearerValidator,
    headers: &HeaderMap,
    required: &Scope,
) -> Result<AccessTokenClaims, BearerRejection> {
    let auth = headers.get_all(AUTHORIZATION).iter();
    let auth: HeaderValues<'_> = auth.map(HeaderValue::as_bytes).collect();
    validator
        .validate(&auth, OffsetDateTime::now_utc(), required)
        .map_err(BearerRejection)
}

/// A refused bearer request. As a response: `401` with `WWW-Authenticate: Bearer realm="…"`
/// (and `error="invalid_token"` when a token was presented), `400 invalid_request` for a
/// malformed or repeated header, `403 insufficient_scope` with the `scope` needed (RFC 6750
/// §3, §3.1); never cached.
#[derive(Debug)]
pub struct BearerRejection(BearerError);

impl BearerRejection {
    /// The core's error: why, for logs.
    pub fn error(&self) -> &BearerError {
        &self.0
    }
}

impl IntoResponse for BearerRejection {
    /// The core's RFC 6750 answer ([`BearerError::response`]), copied verbatim.
    fn into_response(self) -> Response {
        jeton_http::to_http(&self.0.response())
    }
}

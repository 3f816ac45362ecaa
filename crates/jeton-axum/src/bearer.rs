//! Access-token protection for resource servers built on axum (RFC 6750): the
//! [`AccessTokenLayer`] middleware for a group of routes, and the [`ValidatedToken`] extractor.
//!
//! Both check DPoP proofs (RFC 9449 §4.3 `htu`) against the URI the client sent, which axum's
//! router keeps as [`OriginalUri`]: under `Router::nest` the request's own URI has lost the
//! prefix.

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{Extensions, Uri};
use axum::response::{IntoResponse, Response};
use jeton::{AccessTokenClaims, BearerError, RequireScope};
use jeton_http::{AccessTokenService, check_access_token};

/// The URI the client sent, as axum's router keeps it.
fn original_uri(extensions: &Extensions) -> Option<&Uri> {
    extensions.get::<OriginalUri>().map(|OriginalUri(uri)| uri)
}

/// A tower layer that lets a request through only with a valid access token granting the
/// [`RequireScope`]'s scope, and puts the validated [`AccessTokenClaims`] into the request's
/// extensions for the handler ([`ValidatedToken`]). Every other request is answered with the
/// core's RFC 6750 response. It is jeton-http's
/// [`AccessTokenLayer`](jeton_http::AccessTokenLayer) reading the URL of DPoP proofs from
/// axum's [`OriginalUri`], so a nested group checks the URL the client called. Use it with
/// `route_layer`, so unmatched paths stay `404`.
#[derive(Clone, Debug)]
pub struct AccessTokenLayer(jeton_http::AccessTokenLayer);

impl AccessTokenLayer {
    /// Protects with `require`: its validator and the scope every request must carry.
    pub fn new(require: RequireScope) -> Self {
        Self(jeton_http::AccessTokenLayer::new(require).original_uri(original_uri))
    }
}

impl<S> tower_layer::Layer<S> for AccessTokenLayer {
    type Service = AccessTokenService<S>;

    fn layer(&self, inner: S) -> AccessTokenService<S> {
        self.0.layer(inner)
    }
}

/// The validated claims of a request's access token: an extractor for handlers, with any router
/// state.
///
/// It reads the claims an [`AccessTokenLayer`] left in the request's
/// extensions (checking them against a [`RequireScope`] in the extensions too, if there is one,
/// for a handler that needs more than its group). Without the layer it validates the token
/// itself against the [`RequireScope`] in the extensions (add it with
/// `.layer(Extension(require))`); with neither, the route is misconfigured: `500`, logged on
/// target `jeton::diagnostic`. A refused request never reaches the handler.
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use jeton_axum::{AccessTokenLayer, ValidatedToken};
/// use jeton_axum::jeton::{BearerValidator, RequireScope, Scope};
/// use std::sync::Arc;
///
/// async fn orders(ValidatedToken(claims): ValidatedToken) -> String {
///     format!("orders for {}", claims.client_id)
/// }
///
/// # fn app(validator: BearerValidator) -> Result<Router, Box<dyn std::error::Error>> {
/// let read = RequireScope::new(Arc::new(validator), Scope::parse("orders:read")?);
/// Ok(Router::new()
///     .route("/api/orders", get(orders))
///     .route_layer(AccessTokenLayer::new(read)))
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ValidatedToken(pub AccessTokenClaims);

impl<S> FromRequestParts<S> for ValidatedToken
where
    S: Send + Sync,
{
    type Rejection = TokenRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, TokenRejection> {
        let require = parts.extensions.get::<RequireScope>().cloned();
        if let Some(claims) = parts.extensions.get::<AccessTokenClaims>() {
            if let Some(require) = &require {
                require.check_claims(claims).map_err(TokenRejection::from)?;
            }
            return Ok(Self(claims.clone()));
        }
        let Some(require) = require else {
            tracing::error!(
                target: "jeton::diagnostic",
                "ValidatedToken without an AccessTokenLayer or a RequireScope extension"
            );
            return Err(TokenRejection(None));
        };
        let uri = original_uri(&parts.extensions).unwrap_or(&parts.uri);
        check_access_token(&require, &parts.method, uri, &parts.headers)
            .await
            .map(Self)
            .map_err(TokenRejection::from)
    }
}

/// A refused request. As a response: the core's RFC 6750 answer ([`BearerError::response`]):
/// `401` with `WWW-Authenticate: Bearer realm="…"` (and `error="invalid_token"` when a token was
/// presented), `400 invalid_request` for a malformed or repeated header, `403
/// insufficient_scope` with the `scope` needed; never cached. A [`ValidatedToken`] with nothing
/// to check against is `500 server_error`.
#[derive(Debug)]
pub struct TokenRejection(Option<BearerError>);

impl TokenRejection {
    /// The core's error (why, for logs); `None` when the extractor was not configured.
    pub fn error(&self) -> Option<&BearerError> {
        self.0.as_ref()
    }
}

impl From<BearerError> for TokenRejection {
    fn from(e: BearerError) -> Self {
        Self(Some(e))
    }
}

impl IntoResponse for TokenRejection {
    /// The core's answer, copied verbatim.
    fn into_response(self) -> Response {
        match &self.0 {
            Some(e) => jeton_http::to_http(&e.response()),
            None => jeton_http::to_http(&jeton::Response::server_error()),
        }
    }
}

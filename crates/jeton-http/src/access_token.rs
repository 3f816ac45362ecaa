//! Protecting routes with an access token: [`AccessTokenLayer`], a tower middleware for hyper
//! services and axum routers, and [`check_access_token`], the one check the layer and the
//! extractors make.

use crate::Chain;
use http::header::{AUTHORIZATION, HOST};
use http::{HeaderMap, HeaderValue, Method, Request, Response, Uri};
use jeton::time::OffsetDateTime;
use jeton::{
    AccessTokenClaims, BearerError, BearerFailure, HeaderValues, RequestParts, RequireScope,
};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower_layer::Layer;
use tower_service::Service;

/// Checks the access token of a request (`Authorization`, RFC 6750 §2.1, never the query;
/// `Bearer`, or `DPoP` with its `DPoP` proofs, RFC 9449 §7.1) against `require` at the current
/// time: the validated claims, or the refusal to answer with ([`BearerError::response`]). The
/// URL a proof's `htu` is compared with is [`RequireScope::request_url`] of the `Host` header
/// (or the URI's authority) and the path. A back-end failure (`500`) is logged on
/// `jeton::diagnostic`.
pub async fn check_access_token(
    require: &RequireScope,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<AccessTokenClaims, BearerError> {
    check_request_headers(
        require,
        method.as_str(),
        headers.get(HOST).map(HeaderValue::as_bytes),
        uri.authority().map(|a| a.as_str()),
        uri.path(),
        |name| {
            headers
                .get_all(name)
                .iter()
                .map(HeaderValue::as_bytes)
                .collect()
        },
    )
    .await
}

/// [`check_access_token`] for a framework on other `http` types (actix-web's): the method, the
/// `Host` header, the request URI's authority and path, and `values(lower-case name)` listing
/// a header's values in order. The one place the proof URL and the [`RequestParts`] are made.
pub async fn check_request_headers<'a>(
    require: &RequireScope,
    method: &str,
    host: Option<&[u8]>,
    authority: Option<&str>,
    path: &str,
    values: impl Fn(&'static str) -> HeaderValues<'a>,
) -> Result<AccessTokenClaims, BearerError> {
    let url = require.request_url(host, authority, path);
    let parts = RequestParts {
        authorization: values(AUTHORIZATION.as_str()),
        dpop: values("dpop"),
        method,
        url: &url,
    };
    check_authorization(require, &parts).await
}

/// [`check_access_token`] from a request already read into [`RequestParts`] (for a framework
/// on other header types, such as actix-web's): reads the clock, checks, logs a `500`'s cause.
pub async fn check_authorization(
    require: &RequireScope,
    request: &RequestParts<'_>,
) -> Result<AccessTokenClaims, BearerError> {
    // The clock is read here, at the edge; the core takes `now` as an argument.
    let result = require
        .check_request(request, OffsetDateTime::now_utc())
        .await;
    if let Err(e) = &result {
        log_refusal(e);
    }
    result
}

/// Logs what an operator must see about a refusal: the cause of a `500` (the introspection or
/// revocation back end failed) on target `jeton::diagnostic`. Ordinary refusals are the
/// caller's business and are not logged.
pub fn log_refusal(error: &BearerError) {
    if error.failure() == BearerFailure::Unavailable {
        match error.diagnostic() {
            Some(d) => tracing::error!(
                target: "jeton::diagnostic", error = %Chain(d), "access token check failed"
            ),
            None => tracing::error!(target: "jeton::diagnostic", "access token check failed"),
        }
    }
}

/// Finds, in a request's extensions, the URI the client sent when the framework rewrote
/// `Request::uri` before the middleware ran (axum's `Router::nest` strips its prefix and keeps
/// the original as `OriginalUri`): DPoP's `htu` names the URL the client called (RFC 9449
/// §4.3), not the rewritten one. `None`: the request's own URI is the client's.
pub type FindOriginalUri = for<'a> fn(&'a http::Extensions) -> Option<&'a Uri>;

/// A tower [`Layer`] that lets a request through only with a valid access token granting the
/// [`RequireScope`]'s scope, and puts the validated [`AccessTokenClaims`] into the request's
/// extensions for the handler (read them with the adapters' `ValidatedToken` extractor, or
/// axum's `Extension<AccessTokenClaims>`). Every other request is answered with the core's
/// RFC 6750 response and never reaches the inner service.
///
/// The tower-http `ValidateRequestHeaderLayer` of jeton: use it with axum's `route_layer` (so
/// unmatched paths stay `404`), or around any hyper `Service`.
#[derive(Clone, Debug)]
pub struct AccessTokenLayer {
    require: RequireScope,
    original_uri: Option<FindOriginalUri>,
}

impl AccessTokenLayer {
    /// Protects with `require`: its validator and the scope every request must carry.
    pub fn new(require: RequireScope) -> Self {
        Self {
            require,
            original_uri: None,
        }
    }

    /// Checks DPoP proofs against the URI `find` returns from the request's extensions, where
    /// the framework keeps the one the client sent (jeton-axum's layer sets axum's).
    pub fn original_uri(mut self, find: FindOriginalUri) -> Self {
        self.original_uri = Some(find);
        self
    }
}

impl<S> Layer<S> for AccessTokenLayer {
    type Service = AccessTokenService<S>;

    fn layer(&self, inner: S) -> AccessTokenService<S> {
        AccessTokenService {
            inner,
            require: self.require.clone(),
            original_uri: self.original_uri,
        }
    }
}

/// The service [`AccessTokenLayer`] wraps around `S`.
#[derive(Clone, Debug)]
pub struct AccessTokenService<S> {
    inner: S,
    require: RequireScope,
    original_uri: Option<FindOriginalUri>,
}

impl<S, B, ResBody> Service<Request<B>> for AccessTokenService<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    ResBody: From<Vec<u8>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResBody>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        // The clone that was driven to readiness serves this request (tower's rule for services
        // that are called from a future); the fresh clone waits for the next `poll_ready`.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let require = self.require.clone();
        let original_uri = self.original_uri;
        Box::pin(async move {
            let uri = original_uri
                .and_then(|find| find(req.extensions()))
                .unwrap_or(req.uri());
            let checked = check_access_token(&require, req.method(), uri, req.headers()).await;
            match checked {
                Ok(claims) => {
                    req.extensions_mut().insert(claims);
                    inner.call(req).await
                }
                Err(refused) => Ok(crate::to_http(&refused.response())),
            }
        })
    }
}

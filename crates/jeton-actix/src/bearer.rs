//! Access-token protection for resource servers built on actix-web (RFC 6750): the
//! [`AccessTokenMiddleware`] for a scope of routes, and the [`ValidatedToken`] extractor.

use actix_web::body::EitherBody;
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use actix_web::http::header::{HOST, HeaderMap, HeaderValue};
use actix_web::http::{Method, Uri};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use jeton::{AccessTokenClaims, BearerError, RequireScope};
use std::fmt;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;

/// Checks the access token of a request (`Authorization`, RFC 6750 §2.1, never the query;
/// `Bearer`, or `DPoP` with its `DPoP` proofs, RFC 9449 §7.1) against `require` at the current
/// time: the validated claims, or the refusal. The URL a proof's `htu` is compared with is
/// [`RequireScope::request_url`] of the `Host` header (or the URI's authority) and the path.
/// The one check [`AccessTokenMiddleware`] and [`ValidatedToken`] make; a back-end failure
/// (`500`) is logged on `jeton::diagnostic`.
pub async fn check_access_token(
    require: &RequireScope,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<AccessTokenClaims, BearerError> {
    jeton_http::check_request_headers(
        require,
        method.as_str(),
        headers.get(HOST).map(HeaderValue::as_bytes),
        uri.authority().map(|a| a.as_str()),
        uri.path(),
        |name| headers.get_all(name).map(HeaderValue::as_bytes).collect(),
    )
    .await
}

/// actix-web middleware (a [`Transform`]) that lets a request through only with a valid access
/// token granting the [`RequireScope`]'s scope, and puts the validated [`AccessTokenClaims`]
/// into the request's extensions (read them with [`ValidatedToken`], or
/// `web::ReqData<AccessTokenClaims>`). Every other request is answered with the core's RFC 6750
/// response and never reaches the handler. The jeton counterpart of actix-web-httpauth's
/// `HttpAuthentication::bearer`.
///
/// ```no_run
/// use actix_web::{App, web};
/// use jeton_actix::{AccessTokenMiddleware, ValidatedToken};
/// use jeton_actix::jeton::{BearerValidator, RequireScope, Scope};
/// use std::sync::Arc;
///
/// async fn orders(ValidatedToken(claims): ValidatedToken) -> String {
///     format!("orders for {}", claims.client_id)
/// }
///
/// # fn app(validator: BearerValidator) -> Result<(), Box<dyn std::error::Error>> {
/// let read = RequireScope::new(Arc::new(validator), Scope::parse("orders:read")?);
/// let app = App::new().service(
///     web::scope("/api")
///         .wrap(AccessTokenMiddleware::new(read))
///         .route("/orders", web::get().to(orders)),
/// );
/// # let _ = app;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct AccessTokenMiddleware {
    require: RequireScope,
}

impl AccessTokenMiddleware {
    /// Protects with `require`: its validator and the scope every request must carry.
    pub fn new(require: RequireScope) -> Self {
        Self { require }
    }
}

impl<S, B> Transform<S, ServiceRequest> for AccessTokenMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = AccessTokenService<S>;
    type InitError = ();
    type Future = Ready<Result<AccessTokenService<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AccessTokenService {
            service: Rc::new(service),
            require: self.require.clone(),
        }))
    }
}

/// The service [`AccessTokenMiddleware`] wraps around `S`.
#[derive(Debug)]
pub struct AccessTokenService<S> {
    service: Rc<S>,
    require: RequireScope,
}

impl<S, B> Service<ServiceRequest> for AccessTokenService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, actix_web::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        let require = self.require.clone();
        Box::pin(async move {
            let checked =
                check_access_token(&require, req.method(), req.uri(), req.headers()).await;
            match checked {
                Ok(claims) => {
                    req.extensions_mut().insert(claims);
                    let res = service.call(req).await?;
                    Ok(res.map_into_left_body())
                }
                Err(refused) => {
                    let answer = crate::to_actix(&refused.response());
                    Ok(req.into_response(answer).map_into_right_body())
                }
            }
        })
    }
}

/// The validated claims of a request's access token: an extractor for handlers.
///
/// It reads the claims an [`AccessTokenMiddleware`] left in the request's extensions
/// (checking them against a [`RequireScope`] in app data too, if there is one, for a handler
/// that needs more than its scope of routes). Without the middleware it validates the token
/// itself against the [`RequireScope`] in app data (`.app_data(require)` on the `App`, a
/// `Scope` or a `Resource`: the innermost wins); with neither, the route is misconfigured:
/// `500`, logged on target `jeton::diagnostic`. A refused request never reaches the handler.
#[derive(Clone, Debug)]
pub struct ValidatedToken(pub AccessTokenClaims);

impl FromRequest for ValidatedToken {
    type Error = TokenRejection;
    type Future = Pin<Box<dyn Future<Output = Result<Self, TokenRejection>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let require = req.app_data::<RequireScope>().cloned();
        let claims = req.extensions().get::<AccessTokenClaims>().cloned();
        let headers = req.headers().clone();
        let (method, uri) = (req.method().clone(), req.uri().clone());
        Box::pin(async move {
            if let Some(claims) = claims {
                if let Some(require) = &require {
                    require
                        .check_claims(&claims)
                        .map_err(TokenRejection::from)?;
                }
                return Ok(Self(claims));
            }
            let Some(require) = require else {
                tracing::error!(
                    target: "jeton::diagnostic",
                    "ValidatedToken without an AccessTokenMiddleware or a RequireScope in app data"
                );
                return Err(TokenRejection(None));
            };
            check_access_token(&require, &method, &uri, &headers)
                .await
                .map(Self)
                .map_err(TokenRejection::from)
        })
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

impl fmt::Display for TokenRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(e) => fmt::Display::fmt(e, f),
            None => f.write_str("access-token protection is not configured"),
        }
    }
}

impl ResponseError for TokenRejection {
    fn status_code(&self) -> StatusCode {
        let status = self.0.as_ref().map_or(500, BearerError::status);
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        match &self.0 {
            // The core's RFC 6750 answer, copied verbatim.
            Some(e) => crate::to_actix(&e.response()),
            None => crate::to_actix(&jeton::Response::server_error()),
        }
    }
}

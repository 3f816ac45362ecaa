//! Bearer-token protection for resource servers built on actix-web (RFC 6750).

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError};
use jeton::time::OffsetDateTime;
use jeton::{AccessTokenClaims, BearerError, BearerValidator, HeaderValues, Scope};
use std::fmt;
use std::future::{Ready, ready};

/// What the [`Bearer`] extractor checks against: a validator and the scope required. Register
/// it with `.app_data(auth)` on the `App`, a `Scope` or a `Resource`: the innermost one wins,
/// so each route can require its own scope.
pub use jeton::BearerAuth;

/// The validated claims of a request's `Authorization: Bearer` token: an extractor (the guard
/// of a resource server's handlers) checking against the [`BearerAuth`] in app data.
///
/// A refused request never reaches the handler: it is answered with the core's RFC 6750
/// status and challenge (see [`BearerRejection`]).
///
/// ```no_run
/// use actix_web::{App, web};
/// use jeton_actix::{Bearer, BearerAuth, jeton::{BearerValidator, Scope}};
/// use std::sync::Arc;
///
/// async fn invoices(Bearer(claims): Bearer) -> String {
///     format!("invoices for {}", claims.client_id)
/// }
///
/// # fn app(validator: BearerValidator) -> Result<(), Box<dyn std::error::Error>> {
/// let auth = BearerAuth::new(Arc::new(validator), Scope::parse("invoices:read")?);
/// let app = App::new().service(web::resource("/invoices").app_data(auth).to(invoices));
/// # let _ = app;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Bearer(pub AccessTokenClaims);

impl FromRequest for Bearer {
    type Error = BearerRejection;
    type Future = Ready<Result<Self, BearerRejection>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.app_data::<BearerAuth>() {
            Some(auth) => {
                authorize_bearer(auth.validator(), req.headers(), auth.required()).map(Bearer)
            }
            None => {
                tracing::error!(target: "jeton::diagnostic", "no BearerAuth in app data");
                Err(BearerRejection(None))
            }
        })
    }
}

/// Checks the `Authorization: Bearer` token in `headers` against `validator` at the current
/// time, requiring `required` scopes: the claims, or the answer to send. Tokens are read from
/// the header only (RFC 6750 §2.1; the query method is never used).
pub fn authorize_bearer(
    validator: &BearerValidator,
    headers: &HeaderMap,
    required: &Scope,
) -> Result<AccessTokenClaims, BearerRejection> {
    let auth = headers.get_all(AUTHORIZATION);
    let auth: HeaderValues<'_> = auth.map(HeaderValue::as_bytes).collect();
    validator
        .validate(&auth, OffsetDateTime::now_utc(), required)
        .map_err(|e| BearerRejection(Some(e)))
}

/// A refused bearer request. As a response: `401` with `WWW-Authenticate: Bearer realm="…"`
/// (and `error="invalid_token"` when a token was presented), `400 invalid_request` for a
/// malformed or repeated header, `403 insufficient_scope` with the `scope` needed (RFC 6750
/// §3, §3.1); never cached. A [`Bearer`] extractor without a [`BearerAuth`] in app data is a
/// configuration error: `500 server_error`, logged on target `jeton::diagnostic`.
#[derive(Debug)]
pub struct BearerRejection(Option<BearerError>);

impl BearerRejection {
    /// The core's error (why, for logs); `None` when no [`BearerAuth`] was configured.
    pub fn error(&self) -> Option<&BearerError> {
        self.0.as_ref()
    }
}

impl fmt::Display for BearerRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(e) => fmt::Display::fmt(e, f),
            None => f.write_str("bearer protection is not configured"),
        }
    }
}

impl ResponseError for BearerRejection {
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

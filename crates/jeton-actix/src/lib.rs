//! # jeton-actix — the jeton endpoints for actix-web 4
//!
//! A thin translator between actix-web and the [`jeton`] engine. [`configure`] adds every
//! endpoint the engine is configured with to an [`App`](actix_web::App) or
//! [`ServiceConfig`], on the paths of its URLs (the core's route table, [`Engine::routes`]),
//! exactly as jeton-hyper's `Router` does:
//!
//! | path (fixture layout)                        | answered by                                  |
//! |----------------------------------------------|----------------------------------------------|
//! | `/token`                                     | [`Engine::handle_token_request`]             |
//! | `/introspect`                                | [`Engine::handle_introspection_request`]     |
//! | `/revoke`                                    | [`Engine::handle_revocation_request`]        |
//! | `/.well-known/oauth-authorization-server`    | [`Engine::metadata_document`] (RFC 8414 §3)  |
//! | `/jwks.json`                                 | [`Engine::jwks_document`]                    |
//!
//! [`token_endpoint`] is the token endpoint alone, to mount on a path of your own.
//!
//! For the API the tokens are for: [`AccessTokenMiddleware`] protects a scope of routes
//! (`web::scope("/api").wrap(AccessTokenMiddleware::new(require))`) and [`ValidatedToken`]
//! hands the validated claims to a handler. Both take a [`RequireScope`](jeton::RequireScope):
//! a validator ([`Engine::validator`] for the engine in this process) and a scope.
//!
//! For the three form endpoints the handler reads the clock, the method, the raw query, every
//! `Content-Type` and `Authorization` value and the body — streamed from [`web::Payload`] with
//! a byte cap of [`Engine::max_body_bytes`], and not read at all when `Content-Length` declares
//! more (actix's `PayloadConfig` limit applies only to its buffering extractors, which are not
//! used) — the peer address ([`HttpRequest::peer_addr`]) and every `X-Forwarded-Proto` value
//! (the engine decides TLS by its [`Transport`]), hands it all to the engine, copies the core's
//! status and headers verbatim and hands the core's [`Outcome`](jeton::Outcome) to the
//! [`OnOutcome`] hook ([`Jeton::on_outcome`]; by default [`log_outcome`], the same structured
//! line as jeton-hyper and jeton-axum). actix-web is on `http` 0.2, so the type conversions
//! here are its own; every decision and body is the core's. Every OAuth decision
//! is the core's: a body that is too large or cannot be read (broken chunked framing, a
//! dropped connection) reaches it as [`RawRequest::body_too_large`](jeton::RawRequest::body_too_large) /
//! [`RawRequest::body_unreadable`](jeton::RawRequest::body_unreadable), so a `GET` with an oversize body is still `405`. The
//! metadata and JWKS documents answer `GET` and `HEAD` only (`405` with `Allow: GET, HEAD`
//! otherwise; `404` when the engine has no such document).
//!
//! What it never does: buffer more than [`Engine::max_body_bytes`] of a body, trust
//! `X-Forwarded-Proto` from a peer you did not list, answer `500` to a malformed request, or
//! log a secret, a token or an `Authorization` value.
//!
//! ```no_run
//! use actix_web::{App, HttpServer};
//! use jeton_actix::jeton::{self, ClientId, ClientRecord, Engine, IssuerId, OpaqueIssuer, Scope,
//!                          SystemRandom};
//! use jeton_actix::Transport;
//! use jeton_memory::{MemoryClientStore, MemoryTokenStore};
//! use std::sync::{Arc, LazyLock};
//!
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let rng = Arc::new(SystemRandom::new());
//! let (secret, verifier) = jeton::generate_secret(&*rng)?;
//! # let _ = secret;
//! let clients = Arc::new(MemoryClientStore::with_clients([
//!     ClientRecord::builder(ClientId::new("billing")?)
//!         .secret(verifier)
//!         .scopes(Scope::parse("invoices:read")?)
//!         .build(),
//! ]));
//! let issuer = Arc::new(OpaqueIssuer::new(Arc::new(MemoryTokenStore::new()), rng));
//! let engine = Arc::new(
//!     Engine::builder(clients, issuer).random(std::sync::Arc::new(jeton::SystemRandom::new()))
//!         .issuer(IssuerId::new("https://as.example.com")?)
//!         // TLS is terminated by a proxy on 10.0.0.5, which sets `X-Forwarded-Proto: https`.
//!         .transport(Transport::BehindProxy { trusted: vec!["10.0.0.5".parse()?] })
//!         .build()?,
//! );
//!
//! let endpoints = jeton_actix::configure(engine.clone());
//! actix_web::rt::System::new().block_on(
//!     HttpServer::new(move || {
//!         App::new()
//!             .configure(endpoints.clone())
//!             // Or the token endpoint alone, on a path of your own:
//!             .route("/oauth/token", jeton_actix::token_endpoint(engine.clone()))
//!     })
//!     .bind(("0.0.0.0", 8080))?
//!     .run(),
//! )?;
//! # Ok(())
//! # }
//! ```
//!
//! Each path is a resource guarded by an exact comparison with the raw request path, so a
//! configured path needs no escaping in actix's pattern syntax; the first of two equal paths
//! wins. Register [`configure`] before catch-all resources of your own.
//!
//! ## Logs
//!
//! By default ([`log_outcome`]), one event per token, introspection or revocation request on
//! target `jeton::audit` with the core's secret-free audit event as structured fields
//! (endpoint, client id, outcome word, status, reason, method, scope, audience, peer) at the
//! core's [`severity`](jeton::AuditEvent::severity):
//! `info` for issued, introspected, revoked and rejected, `warn` for failed client
//! authentication, `error` for server errors. A diagnostic from the core (the cause of
//! a `500`, or a failed best-effort hash upgrade) is logged at `error` on target
//! `jeton::diagnostic` with its sources: it may name hosts of your infrastructure, so it goes
//! to your logs only, never to the client.
//!
//! ## Limits this adapter does not set
//!
//! Header size and timeouts belong to the server: `HttpServer::client_request_timeout` (for the
//! request head, 5 s by default), `client_disconnect_timeout` and `max_connections`. Reading a
//! body has no time limit of its own here; bound slow clients there or at a proxy.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use jeton;
/// The transport setting, re-exported from the core: [`jeton::Transport`]. It is the engine's
/// ([`jeton::EngineBuilder::transport`]); the peer address it checks against `trusted` is
/// [`HttpRequest::peer_addr`] (actix's `ConnectionInfo` is not consulted, since it believes
/// forwarded headers from anyone).
pub use jeton::Transport;
pub use jeton_http::{Jeton, OnOutcome, log_outcome};

mod bearer;
pub use bearer::{
    AccessTokenMiddleware, AccessTokenService, TokenRejection, ValidatedToken, check_access_token,
};

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue};
use actix_web::web::{self, Bytes, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse, Route, guard};
#[cfg(doc)]
use jeton::Engine;
use jeton::{RawRequest, RouteKind};
use std::borrow::Cow;
use std::error::Error as StdError;
use std::sync::{Arc, LazyLock};

/// What [`configure`] and [`token_endpoint`] are built from.
#[derive(Clone, Debug)]
struct Adapter(Jeton);

impl Adapter {
    fn configure(self) -> impl Fn(&mut ServiceConfig) + Clone + Send + Sync + 'static {
        let this = Arc::new(self);
        move |cfg| {
            for route in this.0.engine().routes() {
                let (path, kind) = (route.path, route.kind);
                let resource = web::resource("/{jeton_path:.*}")
                    .guard(guard::fn_guard(move |ctx| ctx.head().uri.path() == path));
                cfg.service(resource.route(this.route(kind)));
            }
        }
    }

    fn token_endpoint(self) -> Route {
        Arc::new(self).route(RouteKind::Token)
    }

    /// Every method goes to the engine, which answers `405` itself.
    fn route(self: &Arc<Self>, kind: RouteKind) -> Route {
        let this = self.clone();
        // The handler's future is `answer`'s own, with no `async` block around it: actix moves
        // it into a box whole, and a wrapper would hold a second copy of its state.
        web::route().to(move |req: HttpRequest, payload: web::Payload| {
            this.clone().answer(kind, req, payload)
        })
    }

    /// One request: a form endpoint through the engine (the only code path for all three), or
    /// a document the engine renders for the method.
    async fn answer(
        self: Arc<Self>,
        kind: RouteKind,
        req: HttpRequest,
        payload: web::Payload,
    ) -> HttpResponse {
        if !kind.is_form() {
            // actix answers `HEAD` itself from the full response (it drops the body and keeps
            // its length), so `HEAD` asks the engine for what `GET` gets.
            let method = match req.method().as_str() {
                "HEAD" => "GET",
                other => other,
            };
            return to_actix(&self.0.engine().answer_document(kind, method));
        }
        let peer = req.peer_addr();
        let headers = req.headers();
        let engine = self.0.engine();
        let body = read_body(headers, payload, engine.max_body_bytes_for(kind)).await;
        // The request time is read once the body is complete (issue 9 point 5).
        let now = self.0.now();
        let mut raw = RawRequest::new(req.method().as_str(), body.as_deref().unwrap_or(&[]), now)
            .query(req.uri().query())
            .peer(peer.map(|p| p.ip()))
            .verify_executor(self.0.verify_executor());
        raw = match &body {
            Ok(_) => raw,
            Err(BodyFault::TooLarge) => raw.body_too_large(),
            Err(BodyFault::Unreadable) => raw.body_unreadable(),
        };
        raw = with_headers(raw, headers);
        let outcome = engine.handle(kind, &raw).await;
        self.0.report(kind, &outcome, peer);
        to_actix(&outcome.response)
    }
}

/// Adds every endpoint of `engine` to an app, on the paths of its configured URLs (see the
/// [crate docs](crate)): token, and introspection, revocation and JWKS where configured
/// (`/token` alone for an engine without endpoints), plus the metadata path
/// [`jeton::IssuerId::metadata_path`] when an issuer is configured: the core's table,
/// [`Engine::routes`]. Paths compare exactly; the query of a configured URL reaches the
/// engine, which ignores it (RFC 6749 §3.2).
///
/// For [`App::configure`](actix_web::App::configure) or
/// [`ServiceConfig::configure`]; cheap to clone into each worker's app factory.
///
/// Pass an `Arc<Engine>` (outcomes go to [`log_outcome`]) or a
/// [`Jeton`]`::new(engine).on_outcome(hook)`.
pub fn configure(
    jeton: impl Into<Jeton>,
) -> impl Fn(&mut ServiceConfig) + Clone + Send + Sync + 'static {
    Adapter(jeton.into()).configure()
}

/// The token endpoint (RFC 6749 §4.4.2) alone, answering every method (the engine refuses all
/// but `POST` with `405`), for a path of your own: `.route("/oauth/token", token_endpoint(..))`.
pub fn token_endpoint(jeton: impl Into<Jeton>) -> Route {
    Adapter(jeton.into()).token_endpoint()
}

/// Every value of the headers the engine reads, from actix's own header map.
fn with_headers<'a>(raw: RawRequest<'a>, headers: &'a HeaderMap) -> RawRequest<'a> {
    jeton_http::add_headers(raw, |header| {
        ENGINE_HEADER_NAMES
            .get(header.name)
            .into_iter()
            .flat_map(|name| headers.get_all(name))
            .map(HeaderValue::as_bytes)
    })
}

/// The engine's request headers ([`jeton_http::ENGINE_HEADERS`]) as actix names.
static ENGINE_HEADER_NAMES: LazyLock<ReadyNames> =
    LazyLock::new(|| ReadyNames::of(jeton_http::ENGINE_HEADERS.iter().map(|h| h.name)));

/// The core's response headers ([`jeton::Response::HEADER_NAMES`]) as actix names.
static RESPONSE_HEADER_NAMES: LazyLock<ReadyNames> =
    LazyLock::new(|| ReadyNames::of(jeton::Response::HEADER_NAMES.iter().copied()));

/// Header names as actix's (`http` 0.2) names, made once: a lookup by a `&str`, or an append by
/// a name parsed from one, parses the name again on every request.
struct ReadyNames(Vec<(&'static str, HeaderName)>);

impl ReadyNames {
    fn of(names: impl Iterator<Item = &'static str>) -> Self {
        Self(names.map(|n| (n, HeaderName::from_static(n))).collect())
    }

    fn get(&self, name: &str) -> Option<&HeaderName> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, ready)| ready)
    }
}

/// The actix name of a core response header: one of [`jeton::Response::HEADER_NAMES`] is
/// taken from a table made once; any other is parsed.
fn response_header_name(name: &'static str) -> Result<HeaderName, Box<dyn StdError>> {
    match RESPONSE_HEADER_NAMES.get(name) {
        Some(ready) => Ok(ready.clone()),
        None => Ok(HeaderName::from_bytes(name.as_bytes())?),
    }
}

/// Why a body did not reach the engine.
enum BodyFault {
    TooLarge,
    Unreadable,
}

/// Reads at most `limit` bytes, stopping as soon as more arrive; a declared `Content-Length`
/// above it is refused without reading a byte.
async fn read_body(
    headers: &HeaderMap,
    payload: web::Payload,
    limit: usize,
) -> Result<Bytes, BodyFault> {
    let declared = headers.get(CONTENT_LENGTH).map(HeaderValue::as_bytes);
    if jeton_http::declared_too_large(declared, limit) {
        return Err(BodyFault::TooLarge);
    }
    match payload.to_bytes_limited(limit).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(BodyFault::Unreadable),
        Err(_) => Err(BodyFault::TooLarge),
    }
}

/// Copies a core response verbatim (actix's own `http` 0.2 types). Its statuses and header
/// values are always valid; should one not be, the answer is the core's bare `500
/// server_error` and the cause is logged.
pub(crate) fn to_actix(resp: &jeton::Response) -> HttpResponse {
    fn copy(resp: &jeton::Response) -> Result<HttpResponse, Box<dyn StdError>> {
        let mut out = HttpResponse::build(StatusCode::from_u16(resp.status())?);
        for (name, value) in resp.headers() {
            let name = response_header_name(name)?;
            // A fixed value is handed on without a copy, as jeton-http's `to_http` does; both
            // paths check the bytes.
            let value = match value {
                Cow::Borrowed(fixed) => {
                    HeaderValue::from_maybe_shared(Bytes::from_static(fixed.as_bytes()))?
                }
                Cow::Owned(made) => HeaderValue::try_from(made.as_str())?,
            };
            out.append_header((name, value));
        }
        Ok(out.body(resp.body().to_vec()))
    }
    copy(resp).unwrap_or_else(|e| {
        tracing::error!(target: "jeton::diagnostic", error = %e, "invalid core response");
        copy(&jeton::Response::server_error())
            .unwrap_or_else(|_| HttpResponse::InternalServerError().finish())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_header_names_are_the_parsed_ones() {
        for header in &jeton_http::ENGINE_HEADERS {
            let parsed = HeaderName::from_bytes(header.name.as_bytes()).unwrap();
            assert_eq!(ENGINE_HEADER_NAMES.get(header.name), Some(&parsed));
        }
        for &name in jeton::Response::HEADER_NAMES.iter().chain(&["x-other"]) {
            let parsed = HeaderName::from_bytes(name.as_bytes()).unwrap();
            assert_eq!(response_header_name(name).unwrap(), parsed, "{name}");
        }
    }

    #[actix_web::test]
    async fn core_responses_are_copied_verbatim() {
        for outcome in jeton_testkit::Fixture::new().issued_and_refused() {
            let core = &outcome.response;
            assert_eq!(core.header("cache-control"), Some("no-store"));
            let resp = to_actix(core);
            assert_eq!(resp.status().as_u16(), core.status());
            // Fixed values (`Cache-Control`) and made ones (the 401's `WWW-Authenticate`) alike.
            for (name, value) in core.headers() {
                let got: Vec<_> = resp.headers().get_all(*name).collect();
                assert_eq!(got, [HeaderValue::from_str(value).unwrap()], "{name}");
            }
            let body = actix_web::body::to_bytes(resp.into_body()).await;
            assert_eq!(body.ok().as_deref(), Some(core.body()));
        }
    }

    #[test]
    fn rfc9700_4_13_forwarded_proto_trusted_only_from_listed_proxies() {
        jeton_testkit::http::forwarded_proto_decides_as_the_core(|transport, peer, values| {
            let mut headers = HeaderMap::new();
            let name = HeaderName::from_static(Transport::FORWARDED_PROTO);
            for v in values {
                headers.append(name.clone(), HeaderValue::from_static(v));
            }
            let now = jeton::time::OffsetDateTime::UNIX_EPOCH;
            let raw = RawRequest::new("POST", b"", now).peer(peer.map(|p| p.ip()));
            transport.admits(&with_headers(raw, &headers))
        });
    }
}

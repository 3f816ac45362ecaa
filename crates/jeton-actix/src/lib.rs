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
//! [`token_endpoint`] is the token endpoint alone, to mount on a path of your own. [`Bearer`] is
//! an extractor for resource servers (RFC 6750), configured by a [`BearerAuth`] in app data.
//!
//! For the three form endpoints the handler reads the clock, the method, the raw query, every
//! `Content-Type` and `Authorization` value and the body — streamed from [`web::Payload`] with
//! a byte cap of [`Engine::max_body_bytes`], and not read at all when `Content-Length` declares
//! more (actix's `PayloadConfig` limit applies only to its buffering extractors, which are not
//! used) — decides whether the request arrived over TLS ([`Transport`], with the peer address
//! of [`HttpRequest::peer_addr`]), hands it all to the engine, copies the core's status and
//! headers verbatim and emits the core's audit event through [`tracing`]. Every OAuth decision
//! is the core's: a body that is too large or cannot be read (broken chunked framing, a
//! dropped connection) reaches it as [`RawRequest::body_too_large`] /
//! [`RawRequest::body_unreadable`], so a `GET` with an oversize body is still `405`. The
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
//! use std::sync::Arc;
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
//!     Engine::builder(clients, issuer)
//!         .issuer(IssuerId::new("https://as.example.com")?)
//!         .build()?,
//! );
//!
//! // TLS is terminated by a proxy on 10.0.0.5, which sets `X-Forwarded-Proto: https`.
//! let transport = Transport::BehindProxy { trusted: vec!["10.0.0.5".parse()?] };
//! let endpoints = jeton_actix::configure(engine.clone(), transport.clone());
//! actix_web::rt::System::new().block_on(
//!     HttpServer::new(move || {
//!         App::new()
//!             .configure(endpoints.clone())
//!             // Or the token endpoint alone, on a path of your own:
//!             .route("/oauth/token", jeton_actix::token_endpoint(engine.clone(), transport.clone()))
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
//! One event per token, introspection or revocation request on target `jeton::audit`
//! (endpoint, client id, outcome word, status, peer, and the core's secret-free
//! [`AuditEvent`](jeton::AuditEvent)) at the core's [`severity`](jeton::AuditEvent::severity):
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
/// The transport setting, re-exported from the core: [`jeton::Transport`]. The peer address it
/// checks against `trusted` is [`HttpRequest::peer_addr`]; actix's `ConnectionInfo` is not
/// consulted, since it believes forwarded headers from anyone.
pub use jeton::Transport;

mod bearer;
pub use bearer::{Bearer, BearerAuth, BearerRejection, authorize_bearer};

use actix_web::http::StatusCode;
use actix_web::http::header::{
    ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderName,
    HeaderValue, PRAGMA,
};
use actix_web::web::{self, Bytes, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse, Route, guard};
use jeton::time::OffsetDateTime;
use jeton::{ClientId, Engine, Outcome, RawRequest, RouteKind, Severity};
use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;

/// What every handler holds.
#[derive(Debug)]
struct Shared {
    engine: Arc<Engine>,
    transport: Transport,
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
pub fn configure(
    engine: Arc<Engine>,
    transport: Transport,
) -> impl Fn(&mut ServiceConfig) + Clone + Send + Sync + 'static {
    let shared = Arc::new(Shared { engine, transport });
    move |cfg| shared.configure(cfg)
}

/// The token endpoint (RFC 6749 §4.4.2) alone, answering every method (the engine refuses all
/// but `POST` with `405`), for a path of your own: `.route("/oauth/token", token_endpoint(..))`.
pub fn token_endpoint(engine: Arc<Engine>, transport: Transport) -> Route {
    Arc::new(Shared { engine, transport }).form_route(RouteKind::Token)
}

impl Shared {
    fn configure(self: &Arc<Self>, cfg: &mut ServiceConfig) {
        for route in self.engine.routes() {
            let (path, kind) = (route.path, route.kind);
            let resource = web::resource("/{jeton_path:.*}")
                .guard(guard::fn_guard(move |ctx| ctx.head().uri.path() == path));
            if kind.is_form() {
                cfg.service(resource.route(self.form_route(kind)));
                continue;
            }
            let shared = self.clone();
            let get = move || {
                let resp = shared
                    .engine
                    .document(kind)
                    .map_or_else(not_found, to_actix);
                async move { resp }
            };
            cfg.service(
                resource
                    .route(web::get().to(get.clone()))
                    .route(web::head().to(get))
                    .default_service(web::to(|| async {
                        let mut resp = small_json(StatusCode::METHOD_NOT_ALLOWED, NOT_ALLOWED);
                        let allow = HeaderValue::from_static("GET, HEAD");
                        resp.headers_mut().insert(ALLOW, allow);
                        resp
                    })),
            );
        }
    }

    fn form_route(self: &Arc<Self>, kind: RouteKind) -> Route {
        let shared = self.clone();
        web::route().to(move |req: HttpRequest, payload: web::Payload| {
            let shared = shared.clone();
            async move { shared.form(kind, req, payload).await }
        })
    }

    /// One token, introspection or revocation request: the only code path for all three.
    async fn form(&self, kind: RouteKind, req: HttpRequest, payload: web::Payload) -> HttpResponse {
        let now = OffsetDateTime::now_utc();
        let peer = req.peer_addr();
        let headers = req.headers();
        let body = read_body(headers, payload, self.engine.max_body_bytes()).await;
        let mut raw = RawRequest::new(req.method().as_str(), body.as_deref().unwrap_or(&[]), now)
            .query(req.uri().query())
            .secure(is_secure(&self.transport, peer, headers));
        raw = match &body {
            Ok(_) => raw,
            Err(BodyFault::TooLarge) => raw.body_too_large(),
            Err(BodyFault::Unreadable) => raw.body_unreadable(),
        };
        for value in headers.get_all(CONTENT_TYPE) {
            raw = raw.content_type(value.as_bytes());
        }
        for value in headers.get_all(AUTHORIZATION) {
            raw = raw.authorization(value.as_bytes());
        }
        let outcome = self.engine.handle(kind, &raw).await;
        audit(kind, &outcome, peer);
        to_actix(outcome.response)
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
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return Err(BodyFault::TooLarge);
    }
    match payload.to_bytes_limited(limit).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(BodyFault::Unreadable),
        Err(_) => Err(BodyFault::TooLarge),
    }
}

const NOT_FOUND: &[u8] = br#"{"error":"not_found"}"#;
const NOT_ALLOWED: &[u8] = br#"{"error":"method_not_allowed"}"#;
const SERVER_ERROR: &[u8] = br#"{"error":"server_error"}"#;

/// A fixed JSON answer of the adapter's own, not cached.
fn small_json(status: StatusCode, body: &'static [u8]) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"))
        .body(body)
}

fn not_found() -> HttpResponse {
    small_json(StatusCode::NOT_FOUND, NOT_FOUND)
}

/// Copies the core's response verbatim. Its statuses and header values are always valid;
/// should one not be, the answer is a bare `500 server_error` and the cause is logged.
fn to_actix(resp: jeton::Response) -> HttpResponse {
    let (status, headers, body) = resp.into_parts();
    let copy = || -> Result<HttpResponse, Box<dyn StdError>> {
        let mut out = HttpResponse::build(StatusCode::from_u16(status)?);
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes())?;
            out.append_header((name, HeaderValue::try_from(value)?));
        }
        Ok(out.body(body))
    };
    copy().unwrap_or_else(|e| {
        tracing::error!(target: "jeton::diagnostic", error = %e, "invalid core response");
        small_json(StatusCode::INTERNAL_SERVER_ERROR, SERVER_ERROR)
    })
}

/// Whether a request from `peer` with these headers arrived over TLS: the core's rule
/// ([`Transport::is_secure`]) over every `X-Forwarded-Proto` value.
fn is_secure(transport: &Transport, peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
    let forwarded = headers.get_all(Transport::FORWARDED_PROTO);
    let forwarded = forwarded.map(HeaderValue::as_bytes).collect();
    transport.is_secure(peer.map(|p| p.ip()), &forwarded)
}

/// Emits the core's audit event at its [`Severity`], and its diagnostic if any.
fn audit(kind: RouteKind, outcome: &Outcome, peer: Option<SocketAddr>) {
    let (event, status) = (&outcome.event, outcome.response.status());
    let endpoint = kind.name();
    let client_id = event.client_id().map(ClientId::as_str);
    let word = event.outcome();
    let peer = peer.map(tracing::field::display);
    macro_rules! audit {
        ($level:expr) => {
            tracing::event!(
                target: "jeton::audit", $level, endpoint, client_id, outcome = word, status, peer,
                ?event, "{endpoint} request"
            )
        };
    }
    match event.severity() {
        Severity::Warn => audit!(tracing::Level::WARN),
        Severity::Error => audit!(tracing::Level::ERROR),
        _ => audit!(tracing::Level::INFO),
    }
    if let Some(diagnostic) = &outcome.diagnostic {
        let error: &(dyn StdError + 'static) = &**diagnostic;
        tracing::error!(target: "jeton::diagnostic", client_id, peer, error, "endpoint failure");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9700_4_13_forwarded_proto_trusted_only_from_listed_proxies() {
        jeton_testkit::http::forwarded_proto_decides_as_the_core(|transport, peer, values| {
            let mut headers = HeaderMap::new();
            let name = HeaderName::from_static(Transport::FORWARDED_PROTO);
            for v in values {
                headers.append(name.clone(), HeaderValue::from_static(v));
            }
            is_secure(transport, peer, &headers)
        });
    }

    #[test]
    fn core_responses_are_copied_verbatim() {
        let outcome = jeton_testkit::Fixture::new().token("grant_type=client_credentials", None);
        let resp = to_actix(outcome.response);
        assert_eq!(resp.status(), 401);
        let header = |name| resp.headers().get(name).and_then(|v| v.to_str().ok());
        assert_eq!(header(CACHE_CONTROL), Some("no-store"));
        assert_eq!(header(PRAGMA), Some("no-cache"));
        assert!(
            header(actix_web::http::header::WWW_AUTHENTICATE)
                .is_some_and(|c| c.starts_with("Basic"))
        );
    }
}

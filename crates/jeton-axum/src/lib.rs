//! # jeton-axum — the jeton endpoints for axum 0.8
//!
//! A thin translator between axum and the [`jeton`] engine. [`router`] mounts every endpoint
//! the engine is configured with on the paths of its URLs (the core's route table,
//! [`Engine::routes`]), exactly as jeton-hyper's `Router` does:
//!
//! | path (fixture layout)                        | answered by                                  |
//! |----------------------------------------------|----------------------------------------------|
//! | `/token`                                     | [`Engine::handle_token_request`]             |
//! | `/introspect`                                | [`Engine::handle_introspection_request`]     |
//! | `/revoke`                                    | [`Engine::handle_revocation_request`]        |
//! | `/.well-known/oauth-authorization-server`    | [`Engine::metadata_document`] (RFC 8414 §3)  |
//! | `/jwks.json`                                 | [`Engine::jwks_document`]                    |
//!
//! [`token_endpoint`] is the token endpoint alone, to mount on a route of your own. [`Bearer`]
//! is an extractor for resource servers (RFC 6750), configured by a [`BearerAuth`] in state.
//!
//! For the three form endpoints the handler reads the clock, the method, the raw query, every
//! `Content-Type` and `Authorization` value and the body (size-limited *while reading*; the
//! handler takes the raw [`Request`], so axum's `DefaultBodyLimit` plays no part), decides
//! whether the request arrived over TLS ([`Transport`]), hands it all to the engine, copies the
//! core's status and headers verbatim and emits the core's audit event through [`tracing`].
//! Every OAuth decision is the core's: a body that is too large or cannot be read reaches it as
//! [`RawRequest::body_too_large`] / [`RawRequest::body_unreadable`], so a `GET` with an
//! oversize body is still `405`. The metadata and JWKS documents answer `GET` and `HEAD` only
//! (`405` with `Allow: GET, HEAD` otherwise; `404` when the engine has no such document).
//!
//! The peer address comes from axum's [`ConnectInfo`]: serve with
//! [`Router::into_make_service_with_connect_info`]`::<SocketAddr>()`, as below. Without it the
//! peer is unknown, which [`Transport::BehindProxy`] treats as untrusted.
//!
//! What it never does: buffer more than [`Engine::max_body_bytes`] of a body, trust
//! `X-Forwarded-Proto` from a peer you did not list, answer `500` to a malformed request, or
//! log a secret, a token or an `Authorization` value.
//!
//! ```no_run
//! use jeton_axum::jeton::{self, ClientId, ClientRecord, Engine, IssuerId, OpaqueIssuer, Scope,
//!                         SystemRandom};
//! use jeton_axum::Transport;
//! use jeton_memory::{MemoryClientStore, MemoryTokenStore};
//! use std::net::SocketAddr;
//! use std::sync::Arc;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
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
//! let app = jeton_axum::router(engine.clone(), transport.clone())
//!     // Or the token endpoint alone, on a route of your own:
//!     .route("/oauth/token", jeton_axum::token_endpoint(engine, transport));
//!
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
//! # Ok(())
//! # }
//! ```
//!
//! To add these routes to an application router with state, give that router its state first
//! (`app.with_state(state).merge(jeton_axum::router(..))`). Paths are mounted literally (`{`
//! and `}` escaped, axum's checks for 0.7 syntax off, so a segment may start with `:` or `*`;
//! merging into a router with those checks on panics for such a path, as axum does); the first
//! of two equal paths wins.
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
//! Header size and read timeouts belong to the server. `axum::serve` does not expose them;
//! where a slow client must be cut off, serve the router (a tower `Service`) with hyper-util's
//! connection builder (`http1::Builder::header_read_timeout`, `max_buf_size`) or behind a
//! proxy that enforces them.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use jeton;
/// The transport setting, re-exported from the core: [`jeton::Transport`]. The peer address it
/// checks against `trusted` is the one [`ConnectInfo`] shows.
pub use jeton::Transport;

mod bearer;
pub use bearer::{Bearer, BearerAuth, BearerRejection, authorize_bearer};

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::header::{ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{MethodRouter, any, get};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use jeton::time::OffsetDateTime;
use jeton::{ClientId, Engine, Outcome, RawRequest, RouteKind, Severity};
use std::net::SocketAddr;
use std::sync::Arc;

/// What every handler holds.
#[derive(Debug)]
struct Shared {
    engine: Arc<Engine>,
    transport: Transport,
}

/// Every endpoint of `engine` on the paths of its configured URLs (see the [crate docs](crate)),
/// as the core's table [`Engine::routes`] lists them: token, and introspection, revocation and
/// JWKS where configured (`/token` alone for an engine without endpoints), plus the metadata
/// path [`jeton::IssuerId::metadata_path`] when an issuer is configured. Paths compare exactly;
/// the query of a configured URL reaches the engine, which ignores it (RFC 6749 §3.2).
pub fn router(engine: Arc<Engine>, transport: Transport) -> Router {
    let shared = Arc::new(Shared { engine, transport });
    let mut router = Router::new().without_v07_checks();
    for route in shared.engine.routes() {
        let kind = route.kind;
        let answer = if kind.is_form() {
            form(&shared, kind)
        } else {
            document(&shared, kind)
        };
        let path = route.path.replace('{', "{{").replace('}', "}}");
        router = router.route(&path, answer);
    }
    router
}

/// The token endpoint (RFC 6749 §4.4.2) alone, answering every method (the engine refuses all
/// but `POST` with `405`), for a route of your own: `.route("/oauth/token", token_endpoint(..))`.
pub fn token_endpoint<S>(engine: Arc<Engine>, transport: Transport) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    form(&Arc::new(Shared { engine, transport }), RouteKind::Token)
}

fn form<S>(shared: &Arc<Shared>, kind: RouteKind) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    let shared = shared.clone();
    any(move |req: Request| async move { shared.form(kind, req).await })
}

/// A read-only document: `GET` (and `HEAD`, which axum answers from `GET` without the body),
/// `404` when the engine has none, `405` for other methods.
fn document<S>(shared: &Arc<Shared>, kind: RouteKind) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    let shared = shared.clone();
    get(move || async move { shared.engine.document(kind).map_or_else(not_found, to_axum) })
        .fallback(|| async {
            let mut resp = small_json(StatusCode::METHOD_NOT_ALLOWED, METHOD_NOT_ALLOWED);
            resp.headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            resp
        })
}

/// Why a body did not reach the engine.
enum BodyFault {
    TooLarge,
    Unreadable,
}

impl Shared {
    /// One token, introspection or revocation request: the only code path for all three.
    async fn form(&self, kind: RouteKind, req: Request) -> Response {
        let now = OffsetDateTime::now_utc();
        let (mut parts, body) = req.into_parts();
        let peer = ConnectInfo::<SocketAddr>::from_request_parts(&mut parts, &())
            .await
            .ok()
            .map(|ConnectInfo(addr)| addr);
        let body = read_body(body, self.engine.max_body_bytes()).await;
        let mut raw = RawRequest::new(parts.method.as_str(), body.as_deref().unwrap_or(&[]), now)
            .query(parts.uri.query())
            .secure(is_secure(&self.transport, peer, &parts.headers));
        raw = match &body {
            Ok(_) => raw,
            Err(BodyFault::TooLarge) => raw.body_too_large(),
            Err(BodyFault::Unreadable) => raw.body_unreadable(),
        };
        for value in parts.headers.get_all(CONTENT_TYPE) {
            raw = raw.content_type(value.as_bytes());
        }
        for value in parts.headers.get_all(AUTHORIZATION) {
            raw = raw.authorization(value.as_bytes());
        }
        let outcome = self.engine.handle(kind, &raw).await;
        audit(kind, &outcome, peer);
        to_axum(outcome.response)
    }
}

/// Reads at most `limit` bytes. A declared length above it (hyper's size hint carries
/// `Content-Length`) is refused without reading a byte.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, BodyFault> {
    if body.size_hint().lower() > u64::try_from(limit).unwrap_or(u64::MAX) {
        return Err(BodyFault::TooLarge);
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(BodyFault::TooLarge),
        Err(_) => Err(BodyFault::Unreadable),
    }
}

const NOT_FOUND: &[u8] = br#"{"error":"not_found"}"#;
const METHOD_NOT_ALLOWED: &[u8] = br#"{"error":"method_not_allowed"}"#;
const SERVER_ERROR: &[u8] = br#"{"error":"server_error"}"#;

/// A fixed JSON answer of the adapter's own, not cached.
fn small_json(status: StatusCode, body: &'static [u8]) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

fn not_found() -> Response {
    small_json(StatusCode::NOT_FOUND, NOT_FOUND)
}

/// Copies the core's response verbatim. Its statuses and header values are always valid;
/// should one not be, the answer is a bare `500 server_error` and the cause is logged.
fn to_axum(resp: jeton::Response) -> Response {
    let (status, headers, body) = resp.into_parts();
    let mut out = Response::new(Body::from(body));
    let copied = StatusCode::from_u16(status)
        .map(|s| *out.status_mut() = s)
        .map_err(axum::http::Error::from)
        .and_then(|()| {
            headers.into_iter().try_for_each(|(name, value)| {
                let name = HeaderName::from_bytes(name.as_bytes())?;
                out.headers_mut()
                    .append(name, HeaderValue::try_from(value)?);
                Ok(())
            })
        });
    match copied {
        Ok(()) => out,
        Err(e) => {
            tracing::error!(target: "jeton::diagnostic", error = %e, "invalid core response");
            small_json(StatusCode::INTERNAL_SERVER_ERROR, SERVER_ERROR)
        }
    }
}

/// Whether a request from `peer` with these headers arrived over TLS: the core's rule
/// ([`Transport::is_secure`]) over every `X-Forwarded-Proto` value.
fn is_secure(transport: &Transport, peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
    let forwarded = headers.get_all(Transport::FORWARDED_PROTO).iter();
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
        let error: &(dyn std::error::Error + 'static) = &**diagnostic;
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
            for v in values {
                headers.append(Transport::FORWARDED_PROTO, HeaderValue::from_static(v));
            }
            is_secure(transport, peer, &headers)
        });
    }

    #[test]
    fn core_responses_are_copied_verbatim() {
        let outcome = jeton_testkit::Fixture::new().token("grant_type=client_credentials", None);
        let resp = to_axum(outcome.response);
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(resp.headers()[PRAGMA], "no-cache");
        assert!(
            resp.headers()["www-authenticate"]
                .to_str()
                .is_ok_and(|c| c.starts_with("Basic"))
        );
    }
}

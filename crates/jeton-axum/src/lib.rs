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
//! [`token_endpoint`] is the token endpoint alone, to mount on a route of your own.
//!
//! For the API the tokens are for: [`AccessTokenLayer`] protects a group of routes
//! (`.route_layer(AccessTokenLayer::new(require))`) and [`ValidatedToken`] hands the validated
//! claims to a handler, with any router state. Both take a [`RequireScope`](jeton::RequireScope):
//! a validator ([`Engine::validator`] for the engine in this process) and a scope.
//!
//! For the three form endpoints the route (a tower service, not a handler) reads the clock,
//! the method, the raw query, every `Content-Type` and `Authorization` value and the body
//! (size-limited *while reading*; it takes the raw [`Request`], so axum's `DefaultBodyLimit`
//! plays no part), the peer address and every `X-Forwarded-Proto` value (the engine decides
//! TLS by its [`Transport`]), hands it all to the engine, copies the core's status and headers
//! verbatim and hands the core's [`Outcome`](jeton::Outcome) to the [`OnOutcome`] hook
//! ([`Jeton::on_outcome`]; by default [`log_outcome`], structured fields through [`tracing`]).
//! The shared pieces are [`jeton_http`]'s; this crate is axum glue only.
//! Every OAuth decision is the core's: a body that is too large or cannot be read reaches it as
//! [`RawRequest::body_too_large`](jeton::RawRequest::body_too_large) / [`RawRequest::body_unreadable`](jeton::RawRequest::body_unreadable), so a `GET` with an
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
//!     Engine::builder(clients, issuer).random(std::sync::Arc::new(jeton::SystemRandom::new()))
//!         .issuer(IssuerId::new("https://as.example.com")?)
//!         // TLS is terminated by a proxy on 10.0.0.5, which sets `X-Forwarded-Proto: https`.
//!         .transport(Transport::BehindProxy { trusted: vec!["10.0.0.5".parse()?] })
//!         .build()?,
//! );
//!
//! let app = jeton_axum::router(engine.clone())
//!     // Or the token endpoint alone, on a route of your own:
//!     .route("/oauth/token", jeton_axum::token_endpoint(engine));
//!
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
//! # Ok(())
//! # }
//! ```
//!
//! [`router`] returns a `Router<S>` for any state, so it merges into an application router
//! with state (`app.merge(jeton_axum::router(engine))`). Paths are mounted literally (`{`
//! and `}` escaped, axum's checks for 0.7 syntax off, so a segment may start with `:` or `*`;
//! merging into a router with those checks on panics for such a path, as axum does); the first
//! of two equal paths wins.
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
//! Header size and read timeouts belong to the server. `axum::serve` does not expose them;
//! where a slow client must be cut off, serve the router (a tower `Service`) with hyper-util's
//! connection builder (`http1::Builder::header_read_timeout`, `max_buf_size`) or behind a
//! proxy that enforces them.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use jeton;
/// The transport setting, re-exported from the core: [`jeton::Transport`]. It is the engine's
/// ([`jeton::EngineBuilder::transport`]); the peer address it checks against `trusted` is the
/// one [`ConnectInfo`] shows.
pub use jeton::Transport;
pub use jeton_http::{Jeton, OnOutcome, log_outcome};

mod bearer;
pub use bearer::{AccessTokenLayer, TokenRejection, ValidatedToken};
pub use jeton_http::{AccessTokenService, check_access_token};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::response::Response;
use axum::routing::{MethodRouter, any_service};
#[cfg(doc)]
use jeton::Engine;
use jeton::RouteKind;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower_service::Service;

/// What [`router`] and [`token_endpoint`] are built from.
#[derive(Clone, Debug)]
struct Adapter(Jeton);

impl Adapter {
    fn router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let mut router = Router::new().without_v07_checks();
        for route in self.0.engine().routes() {
            let path = route.path.replace('{', "{{").replace('}', "}}");
            router = router.route(&path, self.endpoint(route.kind));
        }
        router
    }

    fn token_endpoint<S>(&self) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        self.endpoint(RouteKind::Token)
    }

    /// Every method of one route goes to the engine, which answers `405` itself.
    ///
    /// A tower service rather than a handler: a handler goes through axum's extractor and
    /// response-mapping layers on every request, which the engine, taking the whole request
    /// and answering a whole response, has no use for (issue 13: 380 fewer user-space
    /// instructions a token request in the axum example, of 53 800).
    fn endpoint<S>(&self, kind: RouteKind) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        any_service(Endpoint {
            adapter: self.clone(),
            kind,
        })
    }

    /// One request: a form endpoint through the engine (the only code path for all three), or
    /// a document the engine renders for the method.
    async fn answer(self, kind: RouteKind, req: Request) -> Result<Response, Infallible> {
        let engine = self.0.engine();
        if !kind.is_form() {
            let method = req.method().as_str();
            return Ok(jeton_http::to_http(&engine.answer_document(kind, method)));
        }
        let (mut parts, body) = req.into_parts();
        let peer = ConnectInfo::<SocketAddr>::from_request_parts(&mut parts, &())
            .await
            .ok()
            .map(|ConnectInfo(addr)| addr);
        let limit = engine.max_body_bytes_for(kind);
        let body = jeton_http::read_body(body, &parts.headers, limit).await;
        // The request time is read once the body is complete (issue 9 point 5).
        let now = self.0.now();
        let raw = jeton_http::raw_request(&parts, &body, peer, now)
            .verify_executor(self.0.verify_executor());
        let outcome = engine.handle(kind, &raw).await;
        self.0.report(kind, &outcome, peer);
        Ok(jeton_http::to_http::<Body>(&outcome.response))
    }
}

/// One route of the engine as a tower service (see [`Adapter::endpoint`]).
#[derive(Clone, Debug)]
struct Endpoint {
    adapter: Adapter,
    kind: RouteKind,
}

impl Service<Request> for Endpoint {
    type Response = Response;
    type Error = Infallible;
    // `answer`'s future, boxed once, with no `async` block around it: a wrapper would hold a
    // second copy of its state.
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        Box::pin(self.adapter.clone().answer(self.kind, req))
    }
}

/// Every endpoint of `engine` on the paths of its configured URLs (see the [crate docs](crate)),
/// as the core's table [`Engine::routes`] lists them: token, and introspection, revocation and
/// JWKS where configured (`/token` alone for an engine without endpoints), plus the metadata
/// path [`jeton::IssuerId::metadata_path`] when an issuer is configured. Paths compare exactly;
/// the query of a configured URL reaches the engine, which ignores it (RFC 6749 §3.2).
///
/// Pass an `Arc<Engine>` (outcomes go to [`log_outcome`]) or a
/// [`Jeton`]`::new(engine).on_outcome(hook)`.
pub fn router<S>(jeton: impl Into<Jeton>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Adapter(jeton.into()).router()
}

/// The token endpoint (RFC 6749 §4.4.2) alone, answering every method (the engine refuses all
/// but `POST` with `405`), for a route of your own: `.route("/oauth/token", token_endpoint(..))`.
pub fn token_endpoint<S>(jeton: impl Into<Jeton>) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    Adapter(jeton.into()).token_endpoint()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::{CACHE_CONTROL, PRAGMA};

    #[test]
    fn rfc9700_4_13_forwarded_proto_trusted_only_from_listed_proxies() {
        // The adapter's conversion is the shared one; the engine decides on what it passed.
        jeton_testkit::http::forwarded_proto_decides_as_the_core(jeton_http::admits_headers);
    }

    #[test]
    fn core_responses_are_copied_verbatim() {
        let outcome = jeton_testkit::Fixture::new().token("grant_type=client_credentials", None);
        let resp: Response = jeton_http::to_http(&outcome.response);
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

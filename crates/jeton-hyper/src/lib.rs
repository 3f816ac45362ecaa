//! # jeton-hyper — the jeton endpoints for hyper 1.x and plain `http` types
//!
//! A thin translator between [`http::Request`] / [`http::Response`] and the [`jeton`] engine.
//! [`Router`] serves every endpoint the engine is configured with, on the paths of its URLs
//! (the core's route table, [`Engine::routes`]):
//!
//! | path (fixture layout)                        | answered by                                  |
//! |----------------------------------------------|----------------------------------------------|
//! | `/token`                                     | [`Engine::handle_token_request`]             |
//! | `/introspect`                                | [`Engine::handle_introspection_request`]     |
//! | `/revoke`                                    | [`Engine::handle_revocation_request`]        |
//! | `/.well-known/oauth-authorization-server`    | [`Engine::metadata_document`] (RFC 8414 §3)  |
//! | `/jwks.json`                                 | [`Engine::jwks_document`]                    |
//! | a liveness path, if set ([`Router::with_health`]) | `200 {"status":"ok"}`                   |
//! | anything else                                | `404 {"error":"not_found"}`                  |
//!
//! For the three form endpoints it reads the clock, the method, the raw query, every
//! `Content-Type`, `Authorization` and `X-Forwarded-Proto` value, the peer address and the body
//! (size-limited *while reading*), hands all of it to the engine (which decides TLS by its
//! [`Transport`]), copies the core's status and headers verbatim, and hands the core's
//! [`Outcome`] to the [`OnOutcome`] hook ([`Router::on_outcome`]; by default
//! [`log_outcome`]), or back to the caller ([`Router::handle_with_outcome`]). The pieces it
//! shares with jeton-axum are [`jeton_http`]'s; this crate is hyper glue only. Every OAuth
//! decision is the core's: a body that is too large or cannot be read is passed on as an empty
//! body plus [`RawRequest::body_too_large`](jeton::RawRequest::body_too_large) /
//! [`RawRequest::body_unreadable`](jeton::RawRequest::body_unreadable), so the core answers it
//! after its own method and TLS checks. The metadata and JWKS documents, their `405` (with
//! `Allow: GET, HEAD`) and the `404` of an unrouted path are the core's too
//! ([`Engine::answer_document`], [`jeton::Response::not_found`]).
//!
//! [`token_endpoint`] is the token endpoint alone, on every path, for apps that route by hand.
//!
//! What it never does: buffer more than [`Engine::max_body_bytes`] (+ one read chunk) of a
//! body, trust `X-Forwarded-Proto` from a peer you did not list, answer `500` to a malformed
//! request, or log a secret, a token or an `Authorization` value.
//!
//! ```no_run
//! use jeton_hyper::jeton::{self, ClientId, ClientRecord, Engine, IssuerId, OpaqueIssuer, Scope,
//!                          SystemRandom};
//! use jeton_hyper::{Router, Transport};
//! use jeton_memory::{MemoryClientStore, MemoryTokenStore};
//! use std::sync::Arc;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let rng = Arc::new(SystemRandom::new());
//! let (secret, verifier) = jeton::generate_secret(&*rng)?;
//! let clients = Arc::new(MemoryClientStore::with_clients([
//!     ClientRecord::builder(ClientId::new("billing")?)
//!         .secret(verifier)
//!         .scopes(Scope::parse("invoices:read")?)
//!         .build(),
//! ]));
//! # let _ = secret;
//! let issuer = Arc::new(OpaqueIssuer::new(Arc::new(MemoryTokenStore::new()), rng));
//! let engine = Arc::new(
//!     Engine::builder(clients, issuer).random(std::sync::Arc::new(jeton::SystemRandom::new()))
//!         // Endpoints `/token`, `/introspect`, `/revoke`; metadata at
//!         // `/.well-known/oauth-authorization-server`.
//!         .issuer(IssuerId::new("https://as.example.com")?)
//!         // TLS is terminated by a proxy on 10.0.0.5, which sets `X-Forwarded-Proto: https`.
//!         .transport(Transport::BehindProxy { trusted: vec!["10.0.0.5".parse()?] })
//!         .build()?,
//! );
//!
//! let router = Router::new(engine).with_health("/healthz");
//!
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! loop {
//!     let (stream, peer) = listener.accept().await?;
//!     let service = router.service(Some(peer));
//!     tokio::spawn(async move {
//!         let io = hyper_util::rt::TokioIo::new(stream);
//!         let _ = hyper::server::conn::http1::Builder::new()
//!             .serve_connection(io, service)
//!             .await;
//!     });
//! }
//! # }
//! ```
//!
//! ## Logs
//!
//! By default ([`log_outcome`]), one event per token, introspection or revocation request on
//! target `jeton::audit` with the core's secret-free audit event as structured fields
//! (endpoint, client id, outcome word, status, reason, method, scope, audience, peer) at the
//! core's [`severity`](jeton::AuditEvent::severity):
//! `info` for issued, introspected, revoked and rejected, `warn` for failed client
//! authentication, `error` for server errors. When the core returns a diagnostic (the
//! cause of a `500`, or a failed best-effort hash upgrade) it is logged at `error` on target
//! `jeton::diagnostic`, with its source chain: that may name hosts of your infrastructure, so
//! it goes to your logs only, never to the client. The public documents (metadata, JWKS), the
//! liveness path and `404`s are not audited.
//!
//! ## Limits this adapter does not set
//!
//! Header size and read timeouts belong to the hyper connection builder
//! (`http1::Builder::header_read_timeout`, `max_buf_size`); set them in your server.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use jeton;
/// The transport setting, re-exported from the core: [`jeton::Transport`]. It is the engine's
/// ([`jeton::EngineBuilder::transport`]); the router passes the peer address and the
/// `X-Forwarded-Proto` values, and the engine decides.
pub use jeton::Transport;
pub use jeton_http::{Jeton, OnOutcome, log_outcome};

mod bearer;
pub use bearer::authorize_request;
pub use jeton_http::{AccessTokenLayer, AccessTokenService, check_access_token};

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body::Body;
use http_body_util::Full;
use jeton::{Engine, Outcome, RouteKind};
use jeton_http::BoxError;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

/// What a path is served by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    /// A route of [`Engine::routes`].
    Engine(RouteKind),
    /// The liveness path of [`Router::with_health`].
    Health,
}

/// One answered request: the response, and for a token, introspection or revocation request
/// the endpoint and the core's [`Outcome`] (its audit event and diagnostic), to log or count.
#[derive(Debug)]
#[non_exhaustive]
pub struct Handled {
    /// Send this.
    pub response: Response<Full<Bytes>>,
    /// The endpoint and the core's outcome, for the three form endpoints; `None` for
    /// documents, the liveness path and unrouted paths (not audited).
    pub outcome: Option<(RouteKind, Outcome)>,
}

/// Every endpoint of an [`Engine`], routed on the paths of its configured URLs (see the
/// [crate docs](crate)). Cheap to clone.
///
/// Paths compare exactly (no trailing-slash or case folding); the query of a configured URL
/// is not part of its route, and reaches the engine, which ignores it (RFC 6749 §3.2).
#[derive(Clone, Debug)]
pub struct Router {
    jeton: Jeton,
    routes: Arc<Vec<(String, Route)>>,
    /// Where a path without a route goes: `None` answers `404`.
    fallback: Option<Route>,
}

impl Router {
    /// A router answering with an engine (which decides TLS by its [`Transport`]): an
    /// `Arc<Engine>` (outcomes go to [`log_outcome`]) or a [`Jeton`]`::new(engine).on_outcome(hook)`.
    ///
    /// Routes the core's table, [`Engine::routes`]: the paths of the engine's endpoints
    /// (token, and introspection, revocation and JWKS where configured) and the metadata path
    /// [`jeton::IssuerId::metadata_path`] (RFC 8414 §3) when an issuer is configured. An engine
    /// without endpoints gets `/token` only.
    pub fn new(jeton: impl Into<Jeton>) -> Self {
        let jeton = jeton.into();
        let routes = jeton.engine().routes().into_iter();
        let routes = routes.map(|r| (r.path, Route::Engine(r.kind))).collect();
        Self {
            jeton,
            routes: Arc::new(routes),
            fallback: None,
        }
    }

    /// Adds a liveness path answering `GET` and `HEAD` with `200 {"status":"ok"}` (for load
    /// balancers and orchestrators; it checks nothing but that the process answers). A path
    /// that is already routed keeps its route.
    pub fn with_health(mut self, path: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.routes).push((path.into(), Route::Health));
        self
    }

    /// Replaces what [`Router::handle`] does with each answered form request (default:
    /// [`log_outcome`]).
    pub fn on_outcome(mut self, hook: OnOutcome) -> Self {
        self.jeton = self.jeton.on_outcome(hook);
        self
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        self.jeton.engine()
    }

    /// The routed paths, in matching order (the first route for a path wins).
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.routes.iter().map(|(path, _)| path.as_str())
    }

    /// A [`hyper::service::Service`] answering every request on one connection from `peer`.
    pub fn service(&self, peer: Option<SocketAddr>) -> RouterService {
        RouterService {
            router: self.clone(),
            peer,
        }
    }

    /// Answers one request, and hands the outcome of a form request to the
    /// [`on_outcome`](Router::on_outcome) hook. `peer` is the connection's remote address
    /// (what [`Transport::BehindProxy`] checks, and logged).
    ///
    /// For the form endpoints the body is read with [`Engine::max_body_bytes`] as the limit
    /// ([`jeton_http::read_body`]); the engine then gets an empty body flagged
    /// [`RawRequest::body_too_large`](jeton::RawRequest::body_too_large)(jeton::RawRequest::body_too_large) (or
    /// [`RawRequest::body_unreadable`](jeton::RawRequest::body_unreadable)(jeton::RawRequest::body_unreadable)) and answers it in
    /// its own order: a `GET` with an oversize body is still `405`. Other routes never read the
    /// body. Never answers `500` except for the core's `server_error`.
    pub fn handle<B>(
        &self,
        req: Request<B>,
        peer: Option<SocketAddr>,
    ) -> impl Future<Output = Response<Full<Bytes>>>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        Reported {
            handled: self.handle_with_outcome(req, peer),
            router: self,
            peer,
        }
    }

    /// Answers one request like [`Router::handle`], but returns the outcome instead of handing
    /// it to the hook: for a server that writes its own line per request.
    pub async fn handle_with_outcome<B>(&self, req: Request<B>, peer: Option<SocketAddr>) -> Handled
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let path = req.uri().path();
        let route = self
            .routes
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, route)| *route)
            .or(self.fallback);
        let plain = |r: &jeton::Response| Handled {
            response: jeton_http::to_http(r),
            outcome: None,
        };
        match route {
            Some(Route::Engine(kind)) if kind.is_form() => {
                let (parts, body) = req.into_parts();
                let engine = self.engine();
                let limit = engine.max_body_bytes_for(kind);
                let body = jeton_http::read_body(body, &parts.headers, limit).await;
                // Issue 9 point 5: the request time is read once the body is complete, so a
                // slowly sent body is judged at its arrival (a secret that expired meanwhile
                // no longer authenticates).
                let now = self.jeton.now();
                let raw = jeton_http::raw_request(&parts, &body, peer, now)
                    .verify_executor(self.jeton.verify_executor());
                let outcome = engine.handle(kind, &raw).await;
                Handled {
                    response: jeton_http::to_http(&outcome.response),
                    outcome: Some((kind, outcome)),
                }
            }
            Some(Route::Engine(kind)) => {
                plain(&self.engine().answer_document(kind, req.method().as_str()))
            }
            Some(Route::Health) => plain(&health(req.method())),
            None => plain(&jeton::Response::not_found()),
        }
    }
}

pin_project_lite::pin_project! {
    /// [`Router::handle`]'s future: the request's, then the hook. A struct rather than an
    /// `async fn`: an `async fn` awaiting [`Router::handle_with_outcome`] keeps that future's
    /// state beside copies of its own arguments, and every service future is moved (into a
    /// box, by hyper) whole.
    struct Reported<'r, F> {
        #[pin]
        handled: F,
        router: &'r Router,
        peer: Option<SocketAddr>,
    }
}

impl<F: Future<Output = Handled>> Future for Reported<'_, F> {
    type Output = Response<Full<Bytes>>;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let handled = std::task::ready!(this.handled.poll(cx));
        if let Some((kind, outcome)) = &handled.outcome {
            this.router.jeton.report(*kind, outcome, *this.peer);
        }
        Poll::Ready(handled.response)
    }
}

/// The liveness answer: `GET` and `HEAD` only, like the documents.
fn health(method: &Method) -> jeton::Response {
    jeton::Response::healthy().for_read_only(method.as_str())
}

/// [`Router`] as a [`hyper::service::Service`] for one connection (it carries the peer
/// address).
#[derive(Clone, Debug)]
pub struct RouterService {
    router: Router,
    peer: Option<SocketAddr>,
}

impl<B> hyper::service::Service<Request<B>> for RouterService
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, req: Request<B>) -> Self::Future {
        let router = self.router.clone();
        let peer = self.peer;
        Box::pin(async move { Ok(router.handle(req, peer).await) })
    }
}

/// The token endpoint (RFC 6749 §4.4.2) alone, on **every** path: for apps that mount it on
/// their own route. A [`Router`] whose every path is the token endpoint. Cheap to clone.
#[derive(Clone, Debug)]
pub struct TokenEndpoint {
    router: Router,
}

/// The token endpoint alone, answering with an engine on every path (an `Arc<Engine>` or a
/// [`Jeton`]): the same name, `token_endpoint`, as in `jeton-axum` and `jeton-actix`.
pub fn token_endpoint(jeton: impl Into<Jeton>) -> TokenEndpoint {
    let mut router = Router::new(jeton);
    router.routes = Arc::default();
    router.fallback = Some(Route::Engine(RouteKind::Token));
    TokenEndpoint { router }
}

impl TokenEndpoint {
    /// Replaces what is done with each outcome (default: [`log_outcome`]).
    pub fn on_outcome(mut self, hook: OnOutcome) -> Self {
        self.router = self.router.on_outcome(hook);
        self
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        self.router.engine()
    }

    /// A [`hyper::service::Service`] answering every request on one connection from `peer`.
    pub fn service(&self, peer: Option<SocketAddr>) -> TokenService {
        self.router.service(peer)
    }

    /// Answers one token request, whatever its path; see [`Router::handle`].
    pub async fn handle<B>(
        &self,
        req: Request<B>,
        peer: Option<SocketAddr>,
    ) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        self.router.handle(req, peer).await
    }
}

/// [`TokenEndpoint`] as a [`hyper::service::Service`] for one connection: serves every path
/// as the token endpoint.
pub type TokenService = RouterService;

#[cfg(test)]
mod tests {
    use super::*;
    use jeton::{Endpoints, IssuerId, OpaqueIssuer};
    use jeton_memory::{MemoryClientStore, MemoryTokenStore};

    #[test]
    fn rfc9700_4_13_forwarded_proto_trusted_only_from_listed_proxies() {
        // The router's conversion is the shared one; the engine decides on what it passed.
        jeton_testkit::http::forwarded_proto_decides_as_the_core(jeton_http::admits_headers);
    }

    #[test]
    fn adapter_answers_are_json_and_not_cached() {
        use http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
        let r: Response<Full<Bytes>> = jeton_http::to_http(&jeton::Response::not_found());
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(r.headers()[PRAGMA], "no-cache");
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
    }

    #[test]
    fn diagnostic_chain_lists_sources() {
        let e = jeton::StoreError::new(std::io::Error::other("db down"));
        assert_eq!(
            jeton_http::Chain(&e).to_string(),
            "storage back end failed: db down"
        );
    }

    fn router(f: impl FnOnce(jeton::EngineBuilder) -> jeton::EngineBuilder) -> Router {
        let tokens = Arc::new(MemoryTokenStore::new());
        let rng = Arc::new(jeton_testkit::SeqRandom::new(1));
        let builder = Engine::builder(
            Arc::new(MemoryClientStore::new()),
            Arc::new(OpaqueIssuer::new(tokens, rng)),
        )
        .random(std::sync::Arc::new(jeton::SystemRandom::new()));
        Router::new(Arc::new(
            f(builder).transport(Transport::Tls).build().unwrap(),
        ))
    }

    #[test]
    fn rfc8414_3_routes_follow_the_configured_endpoints_and_issuer_path() {
        let issuer = IssuerId::new("https://as.example.com/tenant/a").unwrap();
        let r = router(|b| {
            b.endpoints(Endpoints::new(
                "https://as.example.com/tenant/a/token?x=1".into(),
                Some("https://as.example.com/tenant/a/introspect".into()),
                None,
                None,
            ))
            .issuer(issuer)
        })
        .with_health("/healthz");
        assert_eq!(
            r.paths().collect::<Vec<_>>(),
            [
                "/tenant/a/token",
                "/tenant/a/introspect",
                "/.well-known/oauth-authorization-server/tenant/a",
                "/healthz",
            ]
        );
    }

    #[test]
    fn outcomes_come_back_as_values_and_go_to_the_hook() {
        use jeton_testkit::{BASIC, Fixture, block_on};
        use std::sync::Mutex;
        let engine = Fixture::new().engine;
        type Seen = Vec<(RouteKind, &'static str, u16)>;
        let seen: Arc<Mutex<Seen>> = Arc::default();
        let sink = seen.clone();
        let hook: OnOutcome = Arc::new(move |kind, outcome, _peer| {
            let word = outcome.event.outcome();
            let status = outcome.response.status();
            sink.lock().unwrap().push((kind, word, status));
        });
        let router = Router::new(Jeton::new(engine).on_outcome(hook)).with_health("/healthz");
        let request = |path: &str| {
            Request::post(path)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("authorization", jeton::encode_basic(BASIC.id, BASIC.secret))
                .body(Full::new(Bytes::from_static(
                    b"grant_type=client_credentials&scope=read",
                )))
                .unwrap()
        };
        // The value: the endpoint and the core's outcome beside the response; no hook call.
        let handled = block_on(router.handle_with_outcome(request("/token"), None));
        let (kind, outcome) = handled.outcome.expect("a token request is audited");
        assert_eq!(
            (kind, outcome.event.outcome()),
            (RouteKind::Token, "issued")
        );
        assert_eq!(handled.response.status(), outcome.response.status());
        assert!(seen.lock().unwrap().is_empty());
        // The hook: once per form request; never for unrouted paths or liveness.
        assert_eq!(
            block_on(router.handle(request("/token"), None)).status(),
            200
        );
        assert_eq!(
            block_on(router.handle(request("/nope"), None)).status(),
            404
        );
        assert_eq!(
            block_on(router.handle(request("/healthz"), None)).status(),
            405
        );
        assert_eq!(*seen.lock().unwrap(), [(RouteKind::Token, "issued", 200)]);
    }

    #[test]
    fn an_engine_without_endpoints_is_routed_on_token_only() {
        assert_eq!(router(|b| b).paths().collect::<Vec<_>>(), ["/token"]);
    }
}

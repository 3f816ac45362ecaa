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
//! `Content-Type` and `Authorization` value and the body (size-limited *while reading*),
//! decides whether the request arrived over TLS (see [`Transport`]), hands all of it to the
//! engine, copies the core's status and headers verbatim, and emits the core's audit event
//! through [`tracing`]. Every OAuth decision is the core's: a body that is too large or cannot
//! be read is passed on as an empty body plus [`RawRequest::body_too_large`] /
//! [`RawRequest::body_unreadable`], so the core answers it after its own method and TLS checks.
//! The metadata and JWKS documents are the core's too; the adapter only restricts them to `GET`
//! and `HEAD` (`405` with `Allow: GET, HEAD` otherwise).
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
//!     Engine::builder(clients, issuer)
//!         // Endpoints `/token`, `/introspect`, `/revoke`; metadata at
//!         // `/.well-known/oauth-authorization-server`.
//!         .issuer(IssuerId::new("https://as.example.com")?)
//!         .build()?,
//! );
//!
//! // TLS is terminated by a proxy on 10.0.0.5, which sets `X-Forwarded-Proto: https`.
//! let router = Router::new(
//!     engine,
//!     Transport::BehindProxy { trusted: vec!["10.0.0.5".parse()?] },
//! )
//! .with_health("/healthz");
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
//! One event per token, introspection or revocation request on target `jeton::audit`
//! (endpoint, client id, outcome word, status, peer, and the core's secret-free
//! [`AuditEvent`]) at the core's [`severity`](jeton::AuditEvent::severity):
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
/// The transport setting, re-exported from the core: [`jeton::Transport`].
pub use jeton::Transport;

mod bearer;
pub use bearer::authorize_bearer;

use bytes::Bytes;
use http::header::{ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, PRAGMA};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use jeton::time::OffsetDateTime;
use jeton::{AuditEvent, ClientId, Diagnostic, Engine, RawRequest, RouteKind, Severity};
use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What a path is served by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    /// A route of [`Engine::routes`].
    Engine(RouteKind),
    /// The liveness path of [`Router::with_health`].
    Health,
}

/// Every endpoint of an [`Engine`], routed on the paths of its configured URLs (see the
/// [crate docs](crate)). Cheap to clone.
///
/// Paths compare exactly (no trailing-slash or case folding); the query of a configured URL
/// is not part of its route, and reaches the engine, which ignores it (RFC 6749 §3.2).
#[derive(Clone, Debug)]
pub struct Router {
    engine: Arc<Engine>,
    transport: Arc<Transport>,
    routes: Arc<Vec<(String, Route)>>,
    /// Where a path without a route goes: `None` answers `404`.
    fallback: Option<Route>,
}

impl Router {
    /// A router answering with `engine`, deciding TLS by `transport`.
    ///
    /// Routes the core's table, [`Engine::routes`]: the paths of the engine's endpoints
    /// (token, and introspection, revocation and JWKS where configured) and the metadata path
    /// [`jeton::IssuerId::metadata_path`] (RFC 8414 §3) when an issuer is configured. An engine
    /// without endpoints gets `/token` only.
    pub fn new(engine: Arc<Engine>, transport: Transport) -> Self {
        let routes = engine.routes().into_iter();
        let routes = routes.map(|r| (r.path, Route::Engine(r.kind))).collect();
        Self {
            engine,
            transport: Arc::new(transport),
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

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The transport setting.
    pub fn transport(&self) -> &Transport {
        &self.transport
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

    /// Answers one request. `peer` is the connection's remote address (needed for
    /// [`Transport::BehindProxy`], logged otherwise).
    ///
    /// For the form endpoints the body is read through [`Limited`] at
    /// [`Engine::max_body_bytes`], and a `Content-Length` above it is not read at all; the
    /// engine then gets an empty body flagged [`RawRequest::body_too_large`] (or
    /// [`RawRequest::body_unreadable`] when reading fails) and answers it in its own order:
    /// a `GET` with an oversize body is still `405`. Other routes never read the body. Never
    /// answers `500` except for the core's `server_error`.
    pub async fn handle<B>(
        &self,
        req: Request<B>,
        peer: Option<SocketAddr>,
    ) -> Response<Full<Bytes>>
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
        match route {
            Some(Route::Engine(kind)) if kind.is_form() => self.form(kind, req, peer).await,
            Some(Route::Engine(kind)) => {
                let doc = self.engine.document(kind);
                read_only(req.method(), doc.map(|r| to_http(r, None, peer)))
            }
            Some(Route::Health) => read_only(req.method(), Some(small_json(200, HEALTHY))),
            None => small_json(404, NOT_FOUND),
        }
    }

    /// One token, introspection or revocation request: the only code path for all three.
    async fn form<B>(
        &self,
        kind: RouteKind,
        req: Request<B>,
        peer: Option<SocketAddr>,
    ) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let now = OffsetDateTime::now_utc();
        let (parts, body) = req.into_parts();
        let body = read_body(body, &parts.headers, self.engine.max_body_bytes()).await;
        let mut raw = RawRequest::new(parts.method.as_str(), body.bytes(), now)
            .query(parts.uri.query())
            .secure(is_secure(&self.transport, peer, &parts.headers));
        raw = match body {
            ReadBody::Complete(_) => raw,
            ReadBody::TooLarge => raw.body_too_large(),
            ReadBody::Unreadable => raw.body_unreadable(),
        };
        for value in parts.headers.get_all(CONTENT_TYPE) {
            raw = raw.content_type(value.as_bytes());
        }
        for value in parts.headers.get_all(AUTHORIZATION) {
            raw = raw.authorization(value.as_bytes());
        }
        let outcome = self.engine.handle(kind, &raw).await;
        let client_id = outcome.event.client_id();
        emit(kind, &outcome.event, outcome.response.status(), peer);
        if let Some(diagnostic) = &outcome.diagnostic {
            log_diagnostic(client_id, diagnostic, peer);
        }
        to_http(outcome.response, client_id, peer)
    }
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

/// The token endpoint alone, answering with `engine` on every path, deciding TLS by
/// `transport`: the same name, `token_endpoint`, as in `jeton-axum` and `jeton-actix`.
pub fn token_endpoint(engine: Arc<Engine>, transport: Transport) -> TokenEndpoint {
    TokenEndpoint::new(engine, transport)
}

impl TokenEndpoint {
    fn new(engine: Arc<Engine>, transport: Transport) -> Self {
        Self {
            router: Router {
                engine,
                transport: Arc::new(transport),
                routes: Arc::default(),
                fallback: Some(Route::Engine(RouteKind::Token)),
            },
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        self.router.engine()
    }

    /// The transport setting.
    pub fn transport(&self) -> &Transport {
        self.router.transport()
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

/// A request body, as far as it was read.
enum ReadBody {
    Complete(Bytes),
    TooLarge,
    Unreadable,
}

impl ReadBody {
    /// The bytes the engine gets: none unless the body was read completely.
    fn bytes(&self) -> &[u8] {
        match self {
            Self::Complete(b) => b,
            Self::TooLarge | Self::Unreadable => &[],
        }
    }
}

/// Reads at most `limit` bytes; stops at a larger declared or actual body.
async fn read_body<B>(body: B, headers: &HeaderMap, limit: usize) -> ReadBody
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
        .unwrap_or(0)
        .max(body.size_hint().lower());
    if declared > limit_u64 {
        return ReadBody::TooLarge;
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => ReadBody::Complete(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => ReadBody::TooLarge,
        Err(_) => ReadBody::Unreadable,
    }
}

const HEALTHY: &[u8] = br#"{"status":"ok"}"#;
const NOT_FOUND: &[u8] = br#"{"error":"not_found"}"#;
const METHOD_NOT_ALLOWED: &[u8] = br#"{"error":"method_not_allowed"}"#;
const SERVER_ERROR: &[u8] = br#"{"error":"server_error"}"#;

/// A fixed JSON answer of the adapter's own (routing, liveness), not cached.
fn small_json(status: u16, body: &'static [u8]) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from_static(body)));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// A read-only document: `404` if there is none, `405` unless `GET` or `HEAD`; `HEAD` gets
/// the headers (with the `Content-Length` of the body) and no body (RFC 9110 §9.3.2).
fn read_only(method: &Method, doc: Option<Response<Full<Bytes>>>) -> Response<Full<Bytes>> {
    let Some(mut resp) = doc else {
        return small_json(404, NOT_FOUND);
    };
    if method == Method::HEAD {
        let len = resp.body().size_hint().exact().unwrap_or(0);
        resp.headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(len));
        *resp.body_mut() = Full::new(Bytes::new());
    } else if method != Method::GET {
        resp = small_json(405, METHOD_NOT_ALLOWED);
        resp.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    resp
}

/// Copies the core's response verbatim. The core's statuses and header values are always
/// valid; should one not be, the answer is a bare `500 server_error` and the cause is logged.
fn to_http(
    resp: jeton::Response,
    client_id: Option<&ClientId>,
    peer: Option<SocketAddr>,
) -> Response<Full<Bytes>> {
    fn copy(resp: jeton::Response) -> Result<Response<Full<Bytes>>, http::Error> {
        let (status, headers, body) = resp.into_parts();
        let mut out = Response::new(Full::new(Bytes::from(body)));
        *out.status_mut() = StatusCode::from_u16(status)?;
        for (name, value) in headers {
            out.headers_mut().append(
                HeaderName::from_bytes(name.as_bytes())?,
                HeaderValue::try_from(value)?,
            );
        }
        Ok(out)
    }
    copy(resp).unwrap_or_else(|e| {
        log_diagnostic(client_id, &BoxError::from(e), peer);
        small_json(500, SERVER_ERROR)
    })
}

/// Whether a request from `peer` with these headers arrived over TLS: the core's rule
/// ([`Transport::is_secure`]) over every `X-Forwarded-Proto` value.
fn is_secure(transport: &Transport, peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
    let forwarded = headers.get_all(Transport::FORWARDED_PROTO).iter();
    let forwarded = forwarded.map(HeaderValue::as_bytes).collect();
    transport.is_secure(peer.map(|p| p.ip()), &forwarded)
}

/// Emits the core's audit event at its [`Severity`].
fn emit(kind: RouteKind, event: &AuditEvent, status: u16, peer: Option<SocketAddr>) {
    let endpoint = kind.name();
    let client_id = event.client_id().map(ClientId::as_str);
    let outcome = event.outcome();
    let peer = peer.map(tracing::field::display);
    macro_rules! audit {
        ($level:expr) => {
            tracing::event!(
                target: "jeton::audit", $level, endpoint, client_id, outcome, status, peer, ?event,
                "{endpoint} request"
            )
        };
    }
    match event.severity() {
        Severity::Warn => audit!(tracing::Level::WARN),
        Severity::Error => audit!(tracing::Level::ERROR),
        _ => audit!(tracing::Level::INFO),
    }
}

fn log_diagnostic(client_id: Option<&ClientId>, diagnostic: &Diagnostic, peer: Option<SocketAddr>) {
    tracing::error!(
        target: "jeton::diagnostic",
        client_id = client_id.map(ClientId::as_str),
        peer = peer.map(tracing::field::display),
        error = %Chain(&**diagnostic),
        "endpoint failure"
    );
}

/// An error and its sources, `: `-separated.
struct Chain<'a>(&'a (dyn StdError + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jeton::{Endpoints, IssuerId, OpaqueIssuer};
    use jeton_memory::{MemoryClientStore, MemoryTokenStore};

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
    fn adapter_answers_are_json_and_not_cached() {
        let r = small_json(404, NOT_FOUND);
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(r.headers()[PRAGMA], "no-cache");
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
    }

    #[test]
    fn diagnostic_chain_lists_sources() {
        let e = jeton::StoreError::new(std::io::Error::other("db down"));
        assert_eq!(Chain(&e).to_string(), "storage back end failed: db down");
    }

    fn router(f: impl FnOnce(jeton::EngineBuilder) -> jeton::EngineBuilder) -> Router {
        let tokens = Arc::new(MemoryTokenStore::new());
        let rng = Arc::new(jeton_testkit::SeqRandom::new(1));
        let builder = Engine::builder(
            Arc::new(MemoryClientStore::new()),
            Arc::new(OpaqueIssuer::new(tokens, rng)),
        );
        Router::new(Arc::new(f(builder).build().unwrap()), Transport::Tls)
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
    fn an_engine_without_endpoints_is_routed_on_token_only() {
        assert_eq!(router(|b| b).paths().collect::<Vec<_>>(), ["/token"]);
    }
}

//! # jeton-hyper — the jeton token endpoint for hyper 1.x and plain `http` types
//!
//! A thin translator between [`http::Request`] / [`http::Response`] and the [`jeton`] engine.
//! [`TokenEndpoint::handle`] reads the clock, the method, the raw query, every `Content-Type`
//! and `Authorization` value and the body (size-limited *while reading*), decides whether the
//! request arrived over TLS (see [`Transport`]), hands all of it to
//! [`Engine::handle_token_request`], copies the core's status and headers verbatim, and emits
//! the core's audit event through [`tracing`]. Every OAuth decision is the core's.
//!
//! Mount it on your own route; [`TokenService`] is a [`hyper::service::Service`] for apps that
//! give the token endpoint its own listener or route by hand.
//!
//! What it never does: buffer more than [`Engine::max_body_bytes`] (+ one read chunk) of a
//! body, trust `X-Forwarded-Proto` from a peer you did not list, answer `500` to a malformed
//! request, or log a secret, a token or an `Authorization` value.
//!
//! ```no_run
//! use jeton_hyper::jeton::{self, ClientId, ClientRecord, Engine, OpaqueIssuer, Scope,
//!                          SystemRandom};
//! use jeton_hyper::{TokenEndpoint, Transport};
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
//! let engine = Arc::new(Engine::builder(clients, issuer).build()?);
//!
//! // TLS is terminated by a proxy on 10.0.0.5, which sets `X-Forwarded-Proto: https`.
//! let endpoint = TokenEndpoint::new(
//!     engine,
//!     Transport::BehindProxy { trusted: vec!["10.0.0.5".parse()?] },
//! );
//!
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! loop {
//!     let (stream, peer) = listener.accept().await?;
//!     let service = endpoint.service(Some(peer));
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
//! One event per request on target `jeton::audit` (client id, outcome word, status, peer, and
//! the core's secret-free [`AuditEvent`]): `info` for issued and rejected, `warn` for failed
//! client authentication, `error` for server errors. When the core returns a diagnostic (the
//! cause of a `500`, or a failed best-effort hash upgrade) it is logged at `error` on target
//! `jeton::diagnostic`, with its source chain: that may name hosts of your infrastructure, so
//! it goes to your logs only, never to the client.
//!
//! ## Limits this adapter does not set
//!
//! Header size and read timeouts belong to the hyper connection builder
//! (`http1::Builder::header_read_timeout`, `max_buf_size`); set them in your server.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use jeton;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, PRAGMA};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use jeton::time::OffsetDateTime;
use jeton::{AuditEvent, ClientId, Diagnostic, Engine, ErrorCode, RawRequest};
use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// How requests reach this process, which decides whether a request counts as sent over TLS
/// (RFC 6749 §2.3.1, §3.2: the token endpoint MUST require TLS; RFC 9700 §4.13: forwarded
/// headers are trusted only from configured proxies). RFC-CHECKLIST item 4.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// The application terminates TLS itself (for example hyper behind `tokio-rustls`): every
    /// request is secure.
    Tls,
    /// A TLS-terminating reverse proxy forwards plain HTTP. A request is secure only if its
    /// peer is one of `trusted` **and** it carries exactly one `X-Forwarded-Proto` whose value
    /// is `https` (case-insensitive). Configure the proxy to overwrite, not append to, that
    /// header. `X-Forwarded-*` from any other peer is ignored.
    BehindProxy {
        /// The proxies' addresses, as the peer address of the connection shows them
        /// (IPv4-mapped IPv6 addresses match their IPv4 form).
        trusted: Vec<IpAddr>,
    },
    /// Plain HTTP for loopback development. No request is marked secure, so an engine that
    /// requires TLS (the default) refuses everything with `400 invalid_request`: build the
    /// engine with [`jeton::EngineBuilder::require_tls`]`(false)` to use this, and never in
    /// production.
    Plaintext,
}

impl Transport {
    /// Whether a request from `peer` with these headers arrived over TLS, by this setting.
    pub fn is_secure(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
        match self {
            Self::Tls => true,
            Self::Plaintext => false,
            Self::BehindProxy { trusted } => {
                let Some(peer) = peer else { return false };
                let ip = peer.ip().to_canonical();
                if !trusted.iter().any(|t| t.to_canonical() == ip) {
                    return false;
                }
                let mut proto = headers.get_all("x-forwarded-proto").iter();
                match (proto.next(), proto.next()) {
                    (Some(v), None) => v.as_bytes().trim_ascii().eq_ignore_ascii_case(b"https"),
                    _ => false,
                }
            }
        }
    }
}

/// The token endpoint (RFC 6749 §4.4.2) for `http` requests: an engine plus the transport
/// setting. Cheap to clone.
#[derive(Clone, Debug)]
pub struct TokenEndpoint {
    engine: Arc<Engine>,
    transport: Arc<Transport>,
}

impl TokenEndpoint {
    /// An endpoint answering with `engine`, deciding TLS by `transport`.
    pub fn new(engine: Arc<Engine>, transport: Transport) -> Self {
        Self {
            engine,
            transport: Arc::new(transport),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The transport setting.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// A [`hyper::service::Service`] answering every request on one connection from `peer`.
    pub fn service(&self, peer: Option<SocketAddr>) -> TokenService {
        TokenService {
            endpoint: self.clone(),
            peer,
        }
    }

    /// Answers one token request. `peer` is the connection's remote address (needed for
    /// [`Transport::BehindProxy`], logged otherwise).
    ///
    /// The body is read through [`Limited`] at [`Engine::max_body_bytes`], and a
    /// `Content-Length` above it is refused before reading: both give
    /// `400 invalid_request`, as does a body that cannot be read. The core never sees such a
    /// body, so these refusals are rendered here in the core's error shape (same JSON, same
    /// no-store headers, one audit event) and come before the core's method and TLS checks.
    /// Never answers `500` except for the core's `server_error`.
    pub async fn handle<B>(
        &self,
        req: Request<B>,
        peer: Option<SocketAddr>,
    ) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let now = OffsetDateTime::now_utc();
        let (parts, body) = req.into_parts();
        let body = match read_body(body, &parts.headers, self.engine.max_body_bytes()).await {
            Ok(body) => body,
            Err(description) => {
                return refuse(ErrorCode::InvalidRequest, description, peer);
            }
        };
        let mut raw = RawRequest::new(parts.method.as_str(), &body, now)
            .query(parts.uri.query())
            .secure(self.transport.is_secure(peer, &parts.headers));
        for value in parts.headers.get_all(CONTENT_TYPE) {
            raw = raw.content_type(value.as_bytes());
        }
        for value in parts.headers.get_all(AUTHORIZATION) {
            raw = raw.authorization(value.as_bytes());
        }
        let outcome = self.engine.handle_token_request(&raw).await;
        let status = outcome.response.status();
        emit(&outcome.event, status, peer);
        if let Some(diagnostic) = &outcome.diagnostic {
            log_diagnostic(outcome.event.client_id(), diagnostic, peer);
        }
        to_http(outcome.response).unwrap_or_else(|e| {
            let e: BoxError = e.into();
            log_diagnostic(outcome.event.client_id(), &e, peer);
            refusal(
                ErrorCode::ServerError,
                "the server could not process the request",
            )
        })
    }
}

/// [`TokenEndpoint`] as a [`hyper::service::Service`] for one connection (it carries the
/// peer address). Serves every path: route to it yourself if the listener serves more.
#[derive(Clone, Debug)]
pub struct TokenService {
    endpoint: TokenEndpoint,
    peer: Option<SocketAddr>,
}

impl<B> hyper::service::Service<Request<B>> for TokenService
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, req: Request<B>) -> Self::Future {
        let endpoint = self.endpoint.clone();
        let peer = self.peer;
        Box::pin(async move { Ok(endpoint.handle(req, peer).await) })
    }
}

// Same texts as the core's descriptions for these refusals.
const TOO_LARGE: &str = "the request body is too large";
const UNREADABLE: &str = "the request body could not be read";

/// Reads at most `limit` bytes; refuses a larger declared or actual body.
async fn read_body<B>(body: B, headers: &HeaderMap, limit: usize) -> Result<Bytes, &'static str>
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
        return Err(TOO_LARGE);
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(TOO_LARGE),
        Err(_) => Err(UNREADABLE),
    }
}

/// A refusal the adapter renders itself, because the core never saw the body: the same
/// shape as the core's error responses (RFC 6749 §5.2, no-store headers), one audit event.
fn refuse(
    code: ErrorCode,
    description: &'static str,
    peer: Option<SocketAddr>,
) -> Response<Full<Bytes>> {
    let event = AuditEvent::RequestRejected {
        client_id: None,
        error: code,
        reason: description,
    };
    emit(&event, code.http_status(), peer);
    refusal(code, description)
}

fn refusal(code: ErrorCode, description: &'static str) -> Response<Full<Bytes>> {
    let body = format!(
        "{{\"error\":\"{}\",\"error_description\":\"{description}\"}}",
        code.as_str()
    );
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() =
        StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// Copies the core's response verbatim.
fn to_http(resp: jeton::Response) -> Result<Response<Full<Bytes>>, http::Error> {
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

fn emit(event: &AuditEvent, status: u16, peer: Option<SocketAddr>) {
    let client_id = event.client_id().map(ClientId::as_str);
    let outcome = event.outcome();
    let peer = peer.map(tracing::field::display);
    match event {
        AuditEvent::ClientAuthenticationFailed { .. } => tracing::warn!(
            target: "jeton::audit", client_id, outcome, status, peer, ?event, "token request"
        ),
        AuditEvent::ServerError { .. } => tracing::error!(
            target: "jeton::audit", client_id, outcome, status, peer, ?event, "token request"
        ),
        _ => tracing::info!(
            target: "jeton::audit", client_id, outcome, status, peer, ?event, "token request"
        ),
    }
}

fn log_diagnostic(client_id: Option<&ClientId>, diagnostic: &Diagnostic, peer: Option<SocketAddr>) {
    tracing::error!(
        target: "jeton::diagnostic",
        client_id = client_id.map(ClientId::as_str),
        peer = peer.map(tracing::field::display),
        error = %Chain(&**diagnostic),
        "token endpoint failure"
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

    fn headers(xfp: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xfp {
            h.append("x-forwarded-proto", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn peer(s: &str) -> Option<SocketAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn rfc9700_4_13_forwarded_proto_trusted_only_from_listed_proxies() {
        let t = Transport::BehindProxy {
            trusted: vec!["10.0.0.5".parse().unwrap()],
        };
        assert!(t.is_secure(peer("10.0.0.5:4000"), &headers(&["https"])));
        assert!(t.is_secure(peer("10.0.0.5:4000"), &headers(&[" HTTPS "])));
        assert!(t.is_secure(peer("[::ffff:10.0.0.5]:4000"), &headers(&["https"])));
        assert!(!t.is_secure(peer("10.0.0.6:4000"), &headers(&["https"])));
        assert!(!t.is_secure(None, &headers(&["https"])));
        assert!(!t.is_secure(peer("10.0.0.5:4000"), &headers(&[])));
        assert!(!t.is_secure(peer("10.0.0.5:4000"), &headers(&["http"])));
        assert!(!t.is_secure(peer("10.0.0.5:4000"), &headers(&["https", "https"])));
        assert!(!t.is_secure(peer("10.0.0.5:4000"), &headers(&["http, https"])));
    }

    #[test]
    fn rfc6749_3_2_tls_and_plaintext_settings() {
        assert!(Transport::Tls.is_secure(None, &headers(&[])));
        assert!(!Transport::Plaintext.is_secure(peer("127.0.0.1:1"), &headers(&["https"])));
    }

    #[test]
    fn adapter_refusals_have_the_core_shape() {
        let r = refusal(ErrorCode::InvalidRequest, TOO_LARGE);
        assert_eq!(r.status(), 400);
        assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(r.headers()[PRAGMA], "no-cache");
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
    }

    #[test]
    fn diagnostic_chain_lists_sources() {
        let e = jeton::StoreError::new(std::io::Error::other("db down"));
        assert_eq!(Chain(&e).to_string(), "storage back end failed: db down");
    }
}

//! # jeton-http — what the jeton adapters built on `http` 1.x share
//!
//! In the spirit of `axum-core`: the pieces `jeton-hyper` and `jeton-axum` would otherwise each
//! write, none of them framework-specific, and none of them an OAuth decision (those are the
//! core's: TLS, routing, every body). An adapter built on `http` 1.x types is then framework
//! glue only:
//!
//! 1. [`read_body`]: read the body with the engine's limit, *while reading*;
//! 2. [`raw_request`]: the core's [`RawRequest`] from the request parts (method, query,
//!    `Content-Type`, `Authorization`, `X-Forwarded-Proto`, the peer address, the clock);
//! 3. hand it to [`Engine::handle`](jeton::Engine::handle) and [`to_http`] the answer;
//! 4. hand the [`Outcome`] to the application's [`OnOutcome`] hook, by default [`log_outcome`].
//!
//! For resource servers, [`AccessTokenLayer`] is the tower middleware hyper services and axum
//! routers share, and [`check_access_token`] the one check it and the extractors make.
//!
//! `jeton-actix` (actix-web is on `http` 0.2) converts its own types but logs through
//! [`log_outcome`] too, so every adapter writes the same log line.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use jeton;

mod access_token;
pub use access_token::{
    AccessTokenLayer, AccessTokenService, FindOriginalUri, check_access_token, check_authorization,
    check_request_headers, log_refusal,
};

use bytes::{Buf, Bytes, BytesMut};
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use jeton::time::OffsetDateTime;
use jeton::{
    Diagnostic, Engine, Outcome, RawRequest, RouteKind, Severity, Transport, VerifyExecutor,
};
pub use jeton_tokio::BlockingPool;
use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};

/// The error type of the bodies adapters accept.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What an adapter does with each answered token, introspection or revocation request: the
/// endpoint, the core's [`Outcome`] (response, audit event, diagnostic) and the peer address.
/// The default is [`log_outcome`]; an application that keeps metrics, or a server that writes
/// its own request line, passes its own.
pub type OnOutcome = Arc<dyn Fn(RouteKind, &Outcome, Option<SocketAddr>) + Send + Sync>;

/// Where an adapter reads the request time (once the body is complete): the system clock by
/// default; tests and simulations pass their own with [`Jeton::clock`].
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// The default [`OnOutcome`]: [`log_outcome`].
pub fn default_on_outcome() -> OnOutcome {
    Arc::new(log_outcome)
}

/// An engine and what to do with each request's outcome: what every adapter's entry points take
/// (`impl Into<Jeton>`, so an `Arc<Engine>` alone will do, with [`log_outcome`]).
#[derive(Clone)]
pub struct Jeton {
    engine: Arc<Engine>,
    on_outcome: OnOutcome,
    pool: Arc<dyn VerifyExecutor>,
    clock: Clock,
}

impl fmt::Debug for Jeton {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jeton")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl Jeton {
    /// Answers with `engine`, logging each outcome with [`log_outcome`].
    pub fn new(engine: Arc<Engine>) -> Self {
        Self {
            engine,
            on_outcome: default_on_outcome(),
            pool: Arc::new(BlockingPool::per_core()),
            clock: Arc::new(OffsetDateTime::now_utc),
        }
    }

    /// Reads the request time from `clock` instead of the system clock (for tests: a body that
    /// completes after a secret's expiry must be judged after it).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The request time, read by every adapter once the request body is complete (issue 9: a
    /// slowly sent body is judged at its arrival, so a secret that expired meanwhile no longer
    /// authenticates).
    pub fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }

    /// Runs slow verification (PBKDF2) on `pool` instead of the default
    /// [`BlockingPool::per_core`] (one job per core at once, the rest refused with `503`). The
    /// engine's own executor, if its builder set one, takes precedence.
    pub fn verify_pool(mut self, pool: Arc<dyn VerifyExecutor>) -> Self {
        self.pool = pool;
        self
    }

    /// The executor the adapter offers the engine on every request
    /// ([`RawRequest::verify_executor`](jeton::RawRequest::verify_executor)).
    pub fn verify_executor(&self) -> &(dyn VerifyExecutor + 'static) {
        &*self.pool
    }

    /// Hands each token, introspection or revocation outcome to `hook` instead.
    pub fn on_outcome(mut self, hook: OnOutcome) -> Self {
        self.on_outcome = hook;
        self
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Hands one outcome to the hook.
    pub fn report(&self, endpoint: RouteKind, outcome: &Outcome, peer: Option<SocketAddr>) {
        (self.on_outcome)(endpoint, outcome, peer);
    }
}

impl From<Arc<Engine>> for Jeton {
    fn from(engine: Arc<Engine>) -> Self {
        Self::new(engine)
    }
}

/// Whether a declared `Content-Length` (raw header value) is above `limit`: such a body is
/// refused without reading a byte. An unreadable value declares nothing.
pub fn declared_too_large(content_length: Option<&[u8]>, limit: usize) -> bool {
    declared(content_length) > u64::try_from(limit).unwrap_or(u64::MAX)
}

fn declared(content_length: Option<&[u8]>) -> u64 {
    content_length
        .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<u64>().ok())
        .unwrap_or(0)
}

/// A request body, as far as it was read.
#[derive(Debug)]
pub enum ReadBody {
    /// Read completely, within the limit.
    Complete(Bytes),
    /// Larger than the limit (declared or actual): reading stopped.
    TooLarge,
    /// The body could not be read (the connection failed mid-body, bad framing).
    Unreadable,
}

impl ReadBody {
    /// The bytes the engine gets: none unless the body was read completely.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Self::Complete(b) => b,
            Self::TooLarge | Self::Unreadable => &[],
        }
    }
}

/// Reads at most `limit` bytes ([`Engine::max_body_bytes`](jeton::Engine::max_body_bytes)).
/// A declared `Content-Length` (or size hint) above it is refused without reading a byte, and
/// reading stops as soon as the body passes it, so no more than the limit plus one read chunk
/// is ever buffered.
pub async fn read_body<B>(body: B, headers: &HeaderMap, limit: usize) -> ReadBody
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    let declared = declared(headers.get(CONTENT_LENGTH).map(HeaderValue::as_bytes))
        .max(body.size_hint().lower());
    if declared > limit_u64 {
        return ReadBody::TooLarge;
    }
    // Frame by frame rather than `collect()`: a body that arrives in one frame (nearly every
    // token request) is handed on as it came, with no queue of frames and no copy.
    let mut body = std::pin::pin!(Limited::new(body, limit));
    let mut whole: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    while let Some(frame) = body.frame().await {
        let mut data = match frame.map(http_body::Frame::into_data) {
            Ok(Ok(data)) => data,
            // Trailers carry nothing the engine reads.
            Ok(Err(_)) => continue,
            Err(e) if e.is::<LengthLimitError>() => return ReadBody::TooLarge,
            Err(_) => return ReadBody::Unreadable,
        };
        let chunk = data.copy_to_bytes(data.remaining());
        match (&mut joined, whole.take()) {
            (Some(joined), _) => joined.extend_from_slice(&chunk),
            (None, Some(first)) => {
                let mut both = BytesMut::with_capacity(first.len() + chunk.len());
                both.extend_from_slice(&first);
                both.extend_from_slice(&chunk);
                joined = Some(both);
            }
            (None, None) => whole = Some(chunk),
        }
    }
    ReadBody::Complete(joined.map_or_else(|| whole.unwrap_or_default(), BytesMut::freeze))
}

/// The core's request from `http` parts, the body as read, the peer and the time: every value
/// of `Content-Type`, `Authorization`, `X-Forwarded-Proto`, `X-Forwarded-For` and `DPoP` (the engine decides what a
/// repeated header means), the raw query, and a body that did not fit flagged as such.
// Inlined into the adapter, so that the request's builder calls, each taking and returning the
// 224-byte `RawRequest`, can be built in place instead of copied call by call.
#[inline]
pub fn raw_request<'a>(
    parts: &'a http::request::Parts,
    body: &'a ReadBody,
    peer: Option<SocketAddr>,
    now: OffsetDateTime,
) -> RawRequest<'a> {
    let mut raw = RawRequest::new(parts.method.as_str(), body.bytes(), now)
        .query(parts.uri.query())
        .peer(peer.map(|p| p.ip()));
    raw = match body {
        ReadBody::Complete(_) => raw,
        ReadBody::TooLarge => raw.body_too_large(),
        ReadBody::Unreadable => raw.body_unreadable(),
    };
    // One pass over the request's headers rather than a map lookup per engine header: a
    // lookup hashes the name and probes, five times a request; comparing a ready
    // `HeaderName` is a tag compare for the standard ones (issue 13). `iter` yields every
    // value of a name in order, which is all the engine's reading of a repeat depends on.
    for (name, value) in &parts.headers {
        if let Some(which) = ENGINE_HEADERS.iter().position(|h| h.http == name) {
            raw = add_value(raw, which, value.as_bytes());
        }
    }
    raw
}

/// One request header the engine reads: its lower-case name, and the same as an `http` 1.x
/// [`HeaderName`] (a map lookup by a ready name skips parsing the name on every request).
#[derive(Clone, Debug)]
pub struct EngineHeader {
    /// The lower-case name.
    pub name: &'static str,
    /// The name as an `http` 1.x header name.
    pub http: HeaderName,
}

/// The headers the engine reads, in the order [`add_headers`] hands them over.
pub static ENGINE_HEADERS: [EngineHeader; 5] = [
    EngineHeader {
        name: "content-type",
        http: CONTENT_TYPE,
    },
    EngineHeader {
        name: "authorization",
        http: AUTHORIZATION,
    },
    EngineHeader {
        name: Transport::FORWARDED_PROTO,
        http: HeaderName::from_static(Transport::FORWARDED_PROTO),
    },
    EngineHeader {
        name: Transport::FORWARDED_FOR,
        http: HeaderName::from_static(Transport::FORWARDED_FOR),
    },
    EngineHeader {
        name: "dpop",
        http: HeaderName::from_static("dpop"),
    },
];

/// Adds to `raw` every value of the headers the engine reads ([`ENGINE_HEADERS`]:
/// `Content-Type`, `Authorization`, `X-Forwarded-Proto`, `X-Forwarded-For`, `DPoP`), as
/// `values(header)` lists them in order: the engine decides what a repeated header means.
/// Adapters on other `http` versions look the values up by [`EngineHeader::name`].
#[inline]
pub fn add_headers<'a, I>(
    mut raw: RawRequest<'a>,
    values: impl Fn(&'static EngineHeader) -> I,
) -> RawRequest<'a>
where
    I: Iterator<Item = &'a [u8]>,
{
    for (which, header) in ENGINE_HEADERS.iter().enumerate() {
        for value in values(header) {
            raw = add_value(raw, which, value);
        }
    }
    raw
}

/// Adds one value of the engine header at `which` in [`ENGINE_HEADERS`].
#[inline]
fn add_value<'a>(raw: RawRequest<'a>, which: usize, value: &'a [u8]) -> RawRequest<'a> {
    match which {
        0 => raw.content_type(value),
        1 => raw.authorization(value),
        2 => raw.forwarded_proto(value),
        3 => raw.forwarded_for(value),
        _ => raw.dpop(value),
    }
}

/// Copies a core response verbatim into an `http` response with body type `B`. The core's
/// statuses and header values are always valid; should one not be, the answer is the core's
/// bare [`jeton::Response::server_error`] and the cause is logged on `jeton::diagnostic`.
pub fn to_http<B: From<Vec<u8>>>(resp: &jeton::Response) -> http::Response<B> {
    fn copy<B: From<Vec<u8>>>(resp: &jeton::Response) -> Result<http::Response<B>, http::Error> {
        let mut out = http::Response::new(B::from(resp.body().to_vec()));
        *out.status_mut() = StatusCode::from_u16(resp.status())?;
        let headers = out.headers_mut();
        // One more than the core's headers: axum's route adds `Content-Length` to the map,
        // which would otherwise grow it again (issue 13: a reallocation a request).
        headers.reserve(resp.headers().len() + 1);
        for (name, value) in resp.headers() {
            // A fixed value is handed on without a copy; both paths check the bytes.
            let value = match value {
                Cow::Borrowed(fixed) => {
                    HeaderValue::from_maybe_shared(Bytes::from_static(fixed.as_bytes()))?
                }
                Cow::Owned(made) => HeaderValue::try_from(made.as_str())?,
            };
            headers.append(header_name(name)?, value);
        }
        Ok(out)
    }
    copy(resp).unwrap_or_else(|e| {
        tracing::error!(target: "jeton::diagnostic", error = %e, "invalid core response");
        let fallback = jeton::Response::server_error();
        copy(&fallback).unwrap_or_else(|_| http::Response::new(B::from(Vec::new())))
    })
}

/// The `http` name of a core response header: one of [`jeton::Response::HEADER_NAMES`] is
/// taken from a table made once instead of parsed on every response (parsing a name costs more
/// than the rest of the copy); any other is parsed.
fn header_name(name: &'static str) -> Result<HeaderName, http::Error> {
    static READY: LazyLock<Vec<(&str, HeaderName)>> = LazyLock::new(|| {
        jeton::Response::HEADER_NAMES
            .iter()
            .map(|&n| (n, HeaderName::from_static(n)))
            .collect()
    });
    match READY.iter().find(|(n, _)| *n == name) {
        Some((_, ready)) => Ok(ready.clone()),
        None => Ok(HeaderName::from_bytes(name.as_bytes())?),
    }
}

/// Emits the core's audit event on target `jeton::audit` at its
/// [`severity`](jeton::AuditEvent::severity), as structured fields
/// (`endpoint`, then [`AuditEvent::fields`](jeton::AuditEvent::fields) with the status:
/// `client_id`, `outcome`, `status`, `reason`, `method`, `scope`, `audience`,
/// `token_client_id`, `jti`, and `peer`), and
/// the diagnostic, if any, at `error` on target `jeton::diagnostic` with its source chain (it
/// may name hosts of your infrastructure: your logs only, never the client).
pub fn log_outcome(endpoint: RouteKind, outcome: &Outcome, peer: Option<SocketAddr>) {
    let event = &outcome.event;
    let peer = peer.map(tracing::field::display);
    let client_id = event.client_id().map(jeton::ClientId::as_str);
    let level = tracing_level(event.severity());
    // The audit fields (scope and audience are built strings) only when the line is written
    // at all: with `RUST_LOG=warn` a successful request builds nothing (issue 13).
    if tracing::level_enabled!(level) {
        let f = event.fields();
        let endpoint = endpoint.name();
        let status = outcome.response.status();
        let (word, reason, method) = (f.outcome, f.reason, f.method);
        let (scope, audience) = (f.scope.as_deref(), f.audience.as_deref());
        let (token_client_id, jti) = (f.token_client_id, f.jti);
        macro_rules! audit {
            ($level:expr) => {
                tracing::event!(
                    target: "jeton::audit", $level, endpoint, client_id, outcome = word, status,
                    reason, method, scope, audience, token_client_id, jti, peer,
                    "{endpoint} request"
                )
            };
        }
        match level {
            tracing::Level::WARN => audit!(tracing::Level::WARN),
            tracing::Level::ERROR => audit!(tracing::Level::ERROR),
            _ => audit!(tracing::Level::INFO),
        }
    }
    if let Some(diagnostic) = &outcome.diagnostic {
        log_diagnostic(client_id, diagnostic, peer);
    }
}

/// The level an audit event of `severity` is logged at: the one mapping for every adapter's
/// line ([`log_outcome`]) and the `jeton` server's request line.
pub fn tracing_level(severity: Severity) -> tracing::Level {
    match severity {
        Severity::Warn => tracing::Level::WARN,
        Severity::Error => tracing::Level::ERROR,
        _ => tracing::Level::INFO,
    }
}

/// Logs a diagnostic with its sources, `: `-separated, on target `jeton::diagnostic`.
pub fn log_diagnostic(
    client_id: Option<&str>,
    diagnostic: &Diagnostic,
    peer: Option<tracing::field::DisplayValue<SocketAddr>>,
) {
    tracing::error!(
        target: "jeton::diagnostic",
        client_id,
        peer,
        error = %Chain(&**diagnostic),
        "endpoint failure"
    );
}

/// An error and its sources, `: `-separated.
pub struct Chain<'a>(pub &'a (dyn StdError + 'static));

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

/// Whether an engine with `transport` admits a request from `peer` carrying these
/// `X-Forwarded-Proto` values, going through [`raw_request`]: what the adapters' tests check
/// against the core's table (`jeton_testkit::http::forwarded_proto_decides_as_the_core`).
#[doc(hidden)]
pub fn admits_headers(transport: &Transport, peer: Option<SocketAddr>, values: &[&str]) -> bool {
    let mut req = http::Request::post("/token");
    for v in values {
        req = req.header(Transport::FORWARDED_PROTO, *v);
    }
    let Ok(req) = req.body(()) else {
        return false;
    };
    let (parts, ()) = req.into_parts();
    let body = ReadBody::Complete(Bytes::new());
    transport.admits(&raw_request(
        &parts,
        &body,
        peer,
        OffsetDateTime::UNIX_EPOCH,
    ))
}

#[cfg(test)]
mod tests;

//! The raw request an adapter hands to the engine.

use crate::server::verify::VerifyExecutor;
use std::fmt;
use std::net::IpAddr;
use time::OffsetDateTime;

/// The values of one header field as received: how many times it occurred and the first value.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct HeaderValues<'a> {
    first: Option<&'a [u8]>,
    count: usize,
}

impl<'a> HeaderValues<'a> {
    /// Adds one occurrence.
    #[inline]
    pub fn push(&mut self, value: &'a [u8]) {
        if self.first.is_none() {
            self.first = Some(value);
        }
        self.count += 1;
    }

    /// The only value, if the field occurred exactly once.
    #[inline]
    pub fn single(&self) -> Option<&'a [u8]> {
        if self.count == 1 { self.first } else { None }
    }

    /// How many times the field occurred.
    #[inline]
    pub fn count(&self) -> usize {
        self.count
    }
}

/// Every occurrence, in order: `headers.get_all(name).iter().map(|v| v.as_bytes()).collect()`.
impl<'a> FromIterator<&'a [u8]> for HeaderValues<'a> {
    fn from_iter<I: IntoIterator<Item = &'a [u8]>>(values: I) -> Self {
        let mut out = Self::default();
        for value in values {
            out.push(value);
        }
        out
    }
}

/// One HTTP request to a jeton endpoint, as raw as the adapter received it.
///
/// The engine reads nothing else: no clock (`now` is here), no socket. Build one with
/// [`RawRequest::new`] and the setters. Its `Debug` prints neither the `Authorization` value nor
/// the body.
#[derive(Clone)]
pub struct RawRequest<'a> {
    pub(crate) method: &'a str,
    pub(crate) query: Option<&'a str>,
    pub(crate) content_type: HeaderValues<'a>,
    pub(crate) authorization: HeaderValues<'a>,
    pub(crate) body: &'a [u8],
    pub(crate) now: OffsetDateTime,
    pub(crate) secure: bool,
    pub(crate) peer: Option<IpAddr>,
    pub(crate) forwarded_proto: HeaderValues<'a>,
    pub(crate) forwarded_for: HeaderValues<'a>,
    pub(crate) dpop: HeaderValues<'a>,
    pub(crate) executor: Option<&'a (dyn VerifyExecutor + 'static)>,
    pub(crate) body_state: BodyState,
}

/// Whether the adapter could read the whole body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyState {
    Complete,
    TooLarge,
    Unreadable,
}

impl fmt::Debug for RawRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawRequest")
            .field("method", &self.method)
            .field("has_query", &self.query.is_some())
            .field(
                "content_type",
                &self.content_type.first.map(String::from_utf8_lossy),
            )
            .field("authorization_headers", &self.authorization.count)
            .field("body_len", &self.body.len())
            .field("now", &self.now)
            .field("secure", &self.secure)
            .field("peer", &self.peer)
            .field("forwarded_proto", &self.forwarded_proto.count)
            .field("forwarded_for", &self.forwarded_for.count)
            .field("dpop", &self.dpop.count)
            .field("executor", &self.executor)
            .field("body_state", &self.body_state)
            .finish()
    }
}

impl<'a> RawRequest<'a> {
    /// A request with this method, body and time; no query, no headers, not secure.
    #[inline]
    pub fn new(method: &'a str, body: &'a [u8], now: OffsetDateTime) -> Self {
        Self {
            method,
            query: None,
            content_type: HeaderValues::default(),
            authorization: HeaderValues::default(),
            body,
            now,
            secure: false,
            peer: None,
            forwarded_proto: HeaderValues::default(),
            forwarded_for: HeaderValues::default(),
            dpop: HeaderValues::default(),
            executor: None,
            body_state: BodyState::Complete,
        }
    }

    /// Marks the body as larger than [`crate::Engine::max_body_bytes`]: the adapter stopped
    /// reading at the limit (or refused a larger `Content-Length`) and passes an empty body. The
    /// engine answers `400 invalid_request`, after its method and transport checks, exactly as
    /// for an oversize body it sees itself.
    #[inline]
    pub fn body_too_large(mut self) -> Self {
        self.body_state = BodyState::TooLarge;
        self
    }

    /// Marks the body as unreadable (the connection failed mid-body, bad chunked framing): the
    /// engine answers `400 invalid_request`.
    #[inline]
    pub fn body_unreadable(mut self) -> Self {
        self.body_state = BodyState::Unreadable;
        self
    }

    /// Sets the raw query component of the request URI (after `?`), if any.
    #[inline]
    pub fn query(mut self, query: Option<&'a str>) -> Self {
        self.query = query;
        self
    }

    /// Adds one `Content-Type` header value (call once per occurrence).
    #[inline]
    pub fn content_type(mut self, value: &'a [u8]) -> Self {
        self.content_type.push(value);
        self
    }

    /// Adds one `Authorization` header value (call once per occurrence).
    #[inline]
    pub fn authorization(mut self, value: &'a [u8]) -> Self {
        self.authorization.push(value);
        self
    }

    /// Marks the connection itself as TLS (a listener that terminates TLS knows this). Whether
    /// that, or a trusted proxy's forwarded scheme, is required is the engine's
    /// [`Transport`](crate::Transport) setting.
    #[inline]
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// Sets the connection's peer address (`None` when unknown): the engine checks it against
    /// trusted proxies, and it is the source address for per-source limits.
    #[inline]
    pub fn peer(mut self, peer: Option<IpAddr>) -> Self {
        self.peer = peer;
        self
    }

    /// Adds one `X-Forwarded-Proto` value (call once per occurrence, or per list element as
    /// received: the engine trusts only a single value).
    #[inline]
    pub fn forwarded_proto(mut self, value: &'a [u8]) -> Self {
        self.forwarded_proto.push(value);
        self
    }

    /// Adds one `X-Forwarded-For` value (call once per occurrence). The engine uses it for the
    /// source address of per-source limits only when the peer is a trusted proxy
    /// ([`Transport::source`](crate::Transport::source)).
    #[inline]
    pub fn forwarded_for(mut self, value: &'a [u8]) -> Self {
        self.forwarded_for.push(value);
        self
    }

    /// Adds one `DPoP` header value (RFC 9449 §4.1; call once per occurrence: the engine
    /// refuses more than one, §4.3).
    #[inline]
    pub fn dpop(mut self, value: &'a [u8]) -> Self {
        self.dpop.push(value);
        self
    }

    /// The `DPoP` header values received.
    #[inline]
    pub fn dpop_values(&self) -> &HeaderValues<'a> {
        &self.dpop
    }

    /// The executor the adapter offers for slow verification (a bounded blocking pool), used
    /// unless the engine was built with its own
    /// ([`EngineBuilder::verify_executor`](crate::EngineBuilder::verify_executor)).
    #[inline]
    pub fn verify_executor(mut self, executor: &'a (dyn VerifyExecutor + 'static)) -> Self {
        self.executor = Some(executor);
        self
    }

    /// The peer address, if the adapter knows it.
    #[inline]
    pub fn peer_addr(&self) -> Option<IpAddr> {
        self.peer
    }

    /// The request time.
    #[inline]
    pub fn now(&self) -> OffsetDateTime {
        self.now
    }
}

//! The `token_request` fuzz target: a whole token request through the engine, judged by
//! [`check_token_outcome`].

use super::{header_value, is_error_char};
use crate::{Fixture, block_on, now};
use jeton::internal::opaque_token_digest;
use jeton::{ErrorCode, RawRequest, TokenStore};
use std::sync::OnceLock;

/// The request [`token_request`] reads from its input, HTTP-like so seeds stay readable:
///
/// ```text
/// POST                                           the method (first line)
/// ?tenant=acme                                   the URI query, if any
/// content-type: application/x-www-form-urlencoded   one line per occurrence
/// authorization: Basic YTpi                      one line per occurrence
/// secure                                         the request came over TLS
/// peer: 192.0.2.7                                the peer address (default 127.0.0.1)
/// x-forwarded-for: 198.51.100.1                  one line per occurrence
/// full                                           the verification pool refuses every job
///                                                a blank line, then the body
/// grant_type=client_credentials&scope=read
/// ```
///
/// Other head lines are ignored; without a blank line the body is empty.
#[derive(Debug, Default)]
pub struct FuzzRequest<'a> {
    /// The method, lossily decoded.
    pub method: String,
    /// The query (last `?` line wins), lossily decoded.
    pub query: Option<String>,
    /// Every `content-type:` value.
    pub content_type: Vec<&'a [u8]>,
    /// Every `authorization:` value.
    pub authorization: Vec<&'a [u8]>,
    /// Whether a `secure` line was present.
    pub secure: bool,
    /// The `peer:` address, if one parsed.
    pub peer: Option<std::net::IpAddr>,
    /// Every `x-forwarded-for:` value.
    pub forwarded_for: Vec<&'a [u8]>,
    /// Whether a `full` line was present: the request is offered a pool that refuses.
    pub full: bool,
    /// The body.
    pub body: &'a [u8],
}

impl<'a> FuzzRequest<'a> {
    /// Reads a request from fuzz input (total: every byte string is some request).
    pub fn parse(data: &'a [u8]) -> Self {
        let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
            Some(i) => (&data[..i], &data[i + 2..]),
            None => (data, &b""[..]),
        };
        let mut req = FuzzRequest {
            body,
            ..Self::default()
        };
        for (n, line) in head.split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if n == 0 {
                req.method = String::from_utf8_lossy(line).into_owned();
            } else if let Some(q) = line.strip_prefix(b"?") {
                req.query = Some(String::from_utf8_lossy(q).into_owned());
            } else if let Some(v) = header_value(line, b"content-type:") {
                req.content_type.push(v);
            } else if let Some(v) = header_value(line, b"authorization:") {
                req.authorization.push(v);
            } else if let Some(v) = header_value(line, b"x-forwarded-for:") {
                req.forwarded_for.push(v);
            } else if let Some(v) = header_value(line, b"peer:") {
                req.peer = std::str::from_utf8(v).ok().and_then(|v| v.parse().ok());
            } else if line == b"secure" {
                req.secure = true;
            } else if line == b"full" {
                req.full = true;
            }
        }
        req
    }

    /// The engine's view of it, at the testkit's fixed [`now`].
    pub fn raw(&self) -> RawRequest<'_> {
        let mut raw = RawRequest::new(&self.method, self.body, now())
            .query(self.query.as_deref())
            .secure(self.secure);
        for v in &self.content_type {
            raw = raw.content_type(v);
        }
        for v in &self.authorization {
            raw = raw.authorization(v);
        }
        for v in &self.forwarded_for {
            raw = raw.forwarded_for(v);
        }
        raw = raw.peer(Some(
            self.peer.unwrap_or(std::net::IpAddr::from([127, 0, 0, 1])),
        ));
        if self.full {
            raw = raw.verify_executor(&Refusing);
        }
        raw
    }
}

/// A verification pool with no room: every job refused (the `full` line).
#[derive(Debug)]
struct Refusing;

#[async_trait::async_trait]
impl jeton::VerifyExecutor for Refusing {
    async fn run(&self, _: jeton::VerifyJob) -> Result<(), jeton::Overloaded> {
        Err(jeton::Overloaded::new())
    }
}

/// The fixture every [`token_request`] run shares: built once, so a fuzzer stays fast. TLS is
/// required, so the `secure` line matters.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        use jeton::{BoundedLimiter, Budget, CostProfile, LimiterConfig};
        use std::num::{NonZeroU32, NonZeroUsize};
        let n = |v: u32| NonZeroU32::new(v).expect("nonzero");
        // Small tables so collisions happen; budgets large enough that most inputs still reach
        // authentication, small enough that a fuzzer sees `429` (the time is fixed, so nothing
        // leaks between runs).
        let limits = LimiterConfig::default()
            .per_source(Budget::new(n(400), jeton::time::Duration::MINUTE))
            .per_client_source(Budget::new(n(100), jeton::time::Duration::MINUTE))
            .slots(NonZeroUsize::new(64).expect("nonzero"));
        Fixture::with(|b| {
            b.transport(jeton::Transport::BehindProxy {
                trusted: vec![std::net::IpAddr::from([10, 0, 0, 1])],
            })
            .limiter(std::sync::Arc::new(BoundedLimiter::new([7; 32], limits)))
            .cost_profiles([CostProfile::hmac(), CostProfile::pbkdf2(n(1_000))])
        })
    })
}

/// The errors a token request may answer with (RFC 6749 §5.2, RFC 8707 §2); `server_error` is
/// not among them, since the memory stores never fail.
pub const TOKEN_ERRORS: &[ErrorCode] = &[
    ErrorCode::InvalidRequest,
    ErrorCode::InvalidClient,
    ErrorCode::UnauthorizedClient,
    ErrorCode::UnsupportedGrantType,
    ErrorCode::InvalidScope,
    ErrorCode::InvalidTarget,
];

/// A whole token request through the engine (memory stores, opaque tokens): see
/// [`FuzzRequest`] for how the input is read and [`check_token_outcome`] for what is asserted.
pub fn token_request(data: &[u8]) {
    let req = FuzzRequest::parse(data);
    let f = fixture();
    let outcome = block_on(f.engine.handle_token_request(&req.raw()));
    check_token_outcome(f, &req.method, &outcome);
}

/// The invariants of every token endpoint answer:
///
/// - status in {200, 400, 401, 405, 429, 503}; 405 only for a method other than `POST`, with
///   `Allow: POST`; 429 (limiter) and 503 (verification pool full, the `full` line) are
///   `temporarily_unavailable` with a `Retry-After` of at least one second and a `throttled` /
///   `overloaded` audit event;
/// - `Cache-Control: no-store`, `Pragma: no-cache`, `Content-Type: application/json` (RFC 6749
///   §5.1, errors included);
/// - 200: the body has a well-formed opaque `access_token` whose digest is in the token store,
///   `token_type` `Bearer`, a positive `expires_in`, no `refresh_token` (§4.4.3), and the audit
///   event is `TokenIssued` for the stored client. The token is then revoked, so the store stays
///   small over millions of runs;
/// - otherwise: exactly `error` (from [`TOKEN_ERRORS`]) and `error_description` (RFC 6749 §5.2
///   charset), no token; `invalid_client` comes with 401, a `WWW-Authenticate: Basic realm=…`
///   challenge and an `auth_failed` audit event, and every other error with 400 (405 for a
///   method other than `POST`) and a `rejected` audit event.
pub fn check_token_outcome(f: &Fixture, method: &str, outcome: &jeton::Outcome) {
    let r = &outcome.response;
    let status = r.status();
    assert!(
        [200, 400, 401, 405, 429, 503].contains(&status),
        "status {status}"
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(r.body()).expect("the body is JSON");
    let body = body.as_object().expect("the body is a JSON object");
    if status == 200 {
        let token = body["access_token"].as_str().expect("access_token");
        let digest = opaque_token_digest(token).expect("a well-formed opaque token");
        assert_eq!(body["token_type"], "Bearer");
        assert!(body["expires_in"].as_i64().is_some_and(|e| e > 0));
        assert!(!body.contains_key("refresh_token"));
        assert_eq!(outcome.event.outcome(), "issued");
        let record = block_on(f.tokens.get(&digest))
            .expect("memory store")
            .expect("the issued token is stored");
        assert_eq!(Some(&record.claims.client_id), outcome.event.client_id());
        if let Some(scope) = body.get("scope") {
            assert_eq!(
                scope.as_str(),
                Some(record.claims.scope.to_string().as_str())
            );
        }
        assert!(block_on(f.tokens.revoke(&digest)).expect("memory store"));
        return;
    }
    let error = body["error"].as_str().expect("error member");
    if status == 429 || status == 503 {
        // Throttled (before any verification) or no verification capacity.
        assert_eq!(error, "temporarily_unavailable");
        let wait: u32 = r
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .expect("Retry-After in whole seconds");
        assert!(wait >= 1);
        let expected = if status == 429 {
            "throttled"
        } else {
            "overloaded"
        };
        assert_eq!(outcome.event.outcome(), expected);
        return;
    }
    let code = TOKEN_ERRORS
        .iter()
        .find(|c| c.as_str() == error)
        .unwrap_or_else(|| panic!("error {error} is not a token endpoint error"));
    assert!(
        body.keys()
            .all(|k| k == "error" || k == "error_description"),
        "unexpected members: {:?}",
        body.keys().collect::<Vec<_>>()
    );
    let description = body
        .get("error_description")
        .map_or("", |d| d.as_str().expect("string description"));
    assert!(description.bytes().all(is_error_char), "{description:?}");
    assert!(error.bytes().all(is_error_char));
    if *code == ErrorCode::InvalidClient {
        assert_eq!(status, 401);
        assert!(
            r.header("www-authenticate")
                .is_some_and(|h| h.starts_with("Basic realm=\"")),
            "401 without a Basic challenge"
        );
        assert_eq!(outcome.event.outcome(), "auth_failed");
    } else {
        assert_eq!(code.http_status(), 400);
        assert!(status == 400 || status == 405, "{error} with {status}");
        assert_eq!(outcome.event.outcome(), "rejected");
    }
    if status == 405 {
        assert_ne!(method, "POST");
        assert_eq!(r.header("allow"), Some("POST"));
    }
}

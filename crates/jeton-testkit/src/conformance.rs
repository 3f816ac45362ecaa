//! The raw-HTTP conformance tables every adapter runs against a live server.
//!
//! Framework-neutral: each [`Case`] is raw HTTP/1.1 request bytes, the expected status, the
//! expected outcome (a token, an `error` code, `{"active":false}` or an empty body) and header
//! rules. [`run_for`] sends every case of one endpoint's table over its own blocking
//! [`TcpStream`] (connect, read and write timeouts; `Connection: close`) and returns the
//! failures, so a test only asserts that the list is empty.
//!
//! The server under test must answer the [`Endpoint`] at `path` with an engine built like
//! [`crate::Fixture::new`] (the fixture clients, TLS not required) and its transport set to
//! plain HTTP. The tables cover what a typed HTTP client refuses to build: repeated
//! `Authorization`, `Content-Type` or `token`, non-UTF-8 bodies, oversize bodies (with
//! `Content-Length` and chunked), credentials or a token in the query, other methods.
//!
//! ```no_run
//! use jeton_testkit::Endpoint;
//! # let addr: std::net::SocketAddr = "127.0.0.1:8080".parse().unwrap();
//! for (endpoint, path) in [
//!     (Endpoint::Token, "/token"),
//!     (Endpoint::Introspection, "/introspect"),
//!     (Endpoint::Revocation, "/revoke"),
//! ] {
//!     let failures = jeton_testkit::conformance::run_for(endpoint, addr, path, 8 * 1024);
//!     assert!(failures.is_empty(), "{failures:#?}");
//! }
//! ```

use crate::{BASIC, DISABLED, Endpoint, FixtureClient, INTROSPECTOR, NO_CC, POST, VECTOR_HEADER};
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How long one case may take (connect, write, read), in total.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(10);

/// The most response bytes read before giving up.
const MAX_RESPONSE: usize = 1 << 20;

/// What the response body must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expect {
    /// A token response (RFC 6749 §5.1): `access_token`, `token_type` `Bearer`, a positive
    /// `expires_in`, and no `refresh_token` (§4.4.3).
    Token,
    /// Like [`Expect::Token`] with `token_type` `DPoP` (RFC 9449 §5).
    DpopToken,
    /// An error response (RFC 6749 §5.2) with this `error` code, no `access_token`, and an
    /// `error_description` (if any) in the allowed charset.
    Error(&'static str),
    /// An inactive introspection answer: exactly `{"active":false}`, no other member
    /// (RFC 7662 §2.2).
    Inactive,
    /// An empty body (RFC 7009 §2.2: the revocation success).
    Empty,
}

impl Expect {
    /// Whether the body is JSON (and so must be labelled `application/json`).
    fn is_json(self) -> bool {
        !matches!(self, Self::Empty)
    }
}

/// A rule about one response header (names compare case-insensitively).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderRule {
    /// Present exactly once with this value (compared case-sensitively).
    Equals(&'static str, &'static str),
    /// Present exactly once and starting with this prefix.
    StartsWith(&'static str, &'static str),
    /// Absent.
    Absent(&'static str),
}

/// One row of the table.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Case {
    /// The rule the case pins, named as tests are.
    pub name: &'static str,
    /// The endpoint the case is sent to.
    pub endpoint: Endpoint,
    /// The complete HTTP/1.1 request.
    pub request: Vec<u8>,
    /// The expected status.
    pub status: u16,
    /// The expected body.
    pub expect: Expect,
    /// Header rules, besides the ones every response obeys (`Cache-Control: no-store`,
    /// `Pragma: no-cache`; RFC 6749 §5.1) and `Content-Type: application/json` on every JSON
    /// body.
    pub headers: Vec<HeaderRule>,
}

/// Checks every response of a token, introspection or revocation endpoint obeys (RFC 6749
/// §5.1, errors included).
const ALWAYS: [HeaderRule; 2] = [
    HeaderRule::Equals("cache-control", "no-store"),
    HeaderRule::Equals("pragma", "no-cache"),
];

const JSON: HeaderRule = HeaderRule::Equals("content-type", "application/json");

const FORM: &str = "application/x-www-form-urlencoded";

/// A request being described.
struct Req {
    method: &'static str,
    query: Option<&'static str>,
    headers: Vec<(&'static str, String)>,
    body: Body,
}

enum Body {
    Fixed(Vec<u8>),
    /// Sent with `Transfer-Encoding: chunked`, in these chunks.
    Chunked(Vec<Vec<u8>>),
    /// `Content-Length` only, no body bytes sent after it (refusals must not wait for them).
    Declared(usize),
}

impl Req {
    fn post(body: impl Into<Vec<u8>>) -> Self {
        Self {
            method: "POST",
            query: None,
            headers: Vec::new(),
            body: Body::Fixed(body.into()),
        }
    }

    /// A form POST (`Content-Type` set).
    fn form(body: impl Into<Vec<u8>>) -> Self {
        Self::post(body).header("Content-Type", FORM)
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn basic(self, client: FixtureClient) -> Self {
        self.header(
            "Authorization",
            jeton::encode_basic(client.id, client.secret),
        )
    }

    fn method(mut self, method: &'static str) -> Self {
        self.method = method;
        self
    }

    fn query(mut self, query: &'static str) -> Self {
        self.query = Some(query);
        self
    }

    fn build(self, path: &str, host: &str) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(path.as_bytes());
        if let Some(q) = self.query {
            out.push(if path.contains('?') { b'&' } else { b'?' });
            out.extend_from_slice(q.as_bytes());
        }
        out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        out.extend_from_slice(host.as_bytes());
        out.extend_from_slice(b"\r\nConnection: close\r\n");
        for (name, value) in &self.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        match self.body {
            Body::Fixed(body) => {
                out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
                out.extend_from_slice(&body);
            }
            Body::Declared(len) => {
                out.extend_from_slice(format!("Content-Length: {len}\r\n\r\n").as_bytes());
            }
            Body::Chunked(chunks) => {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                for chunk in chunks {
                    out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(&chunk);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
            }
        }
        out
    }
}

/// The token endpoint's table; see [`cases_for`].
pub fn cases(path: &str, host: &str, max_body_bytes: usize) -> Vec<Case> {
    cases_for(Endpoint::Token, path, host, max_body_bytes)
}

/// A row before its request is built: name, request, status, body, extra header rules.
type Row = (&'static str, Req, u16, Expect, Vec<HeaderRule>);

const CC: &str = "grant_type=client_credentials";
const CC_READ: &str = "grant_type=client_credentials&scope=read";
/// A well-formed token this server never issued.
const UNKNOWN_TOKEN: &str = "token=jt_never-issued-by-this-server";

/// What the rows shared by every endpoint are built from.
struct Profile {
    /// A request body the endpoint answers with `success` when `client` authenticates with
    /// Basic (no credentials in it).
    body: &'static str,
    /// The same request as JSON, for the content-type row.
    json: &'static str,
    /// A client that may use the endpoint, registered for `client_secret_basic`.
    client: FixtureClient,
    /// The successful answer to `body`.
    success: Expect,
}

impl Profile {
    fn of(endpoint: Endpoint) -> Self {
        match endpoint {
            Endpoint::Token => Self {
                body: CC_READ,
                json: r#"{"grant_type":"client_credentials"}"#,
                client: BASIC,
                success: Expect::Token,
            },
            Endpoint::Introspection => Self {
                body: UNKNOWN_TOKEN,
                json: r#"{"token":"jt_never-issued-by-this-server"}"#,
                client: INTROSPECTOR,
                success: Expect::Inactive,
            },
            Endpoint::Revocation => Self {
                body: UNKNOWN_TOKEN,
                json: r#"{"token":"jt_never-issued-by-this-server"}"#,
                client: BASIC,
                success: Expect::Empty,
            },
        }
    }
}

fn bad(name: &'static str, req: Req) -> Row {
    error(name, req, 400, "invalid_request")
}

fn error(name: &'static str, req: Req, status: u16, code: &'static str) -> Row {
    (name, req, status, Expect::Error(code), vec![])
}

fn invalid_client(name: &'static str, req: Req) -> Row {
    (
        name,
        req,
        401,
        Expect::Error("invalid_client"),
        vec![HeaderRule::StartsWith("www-authenticate", "Basic realm=\"")],
    )
}

/// The table for `endpoint`, built for `path` (which may carry a configured query, RFC 6749
/// §3.2) and `Host`, against a server whose engine accepts at most `max_body_bytes` (at least
/// 64).
///
/// Every endpoint gets the same HTTP framing and client authentication rows (RFC 7662 §2.1 and
/// RFC 7009 §2.1 require the POST, form encoding and client authentication rules of the token
/// endpoint, so those rows keep their RFC 6749 names), with a request the endpoint answers with
/// success: a token request for the token endpoint, an unknown token for introspection
/// (`{"active":false}`) and revocation (`200`, empty body). Then come the endpoint's own rows.
/// The table is stateless: rows about live tokens need a token first and belong to the
/// adapter's own tests.
pub fn cases_for(endpoint: Endpoint, path: &str, host: &str, max_body_bytes: usize) -> Vec<Case> {
    let mut rows = shared_rows(&Profile::of(endpoint), max_body_bytes);
    rows.extend(match endpoint {
        Endpoint::Token => token_rows(),
        Endpoint::Introspection => introspection_rows(),
        Endpoint::Revocation => revocation_rows(),
    });
    rows.into_iter()
        .map(|(name, req, status, expect, headers)| Case {
            name,
            endpoint,
            request: req.build(path, host),
            status,
            expect,
            headers,
        })
        .collect()
}

/// HTTP framing and client authentication.
fn shared_rows(p: &Profile, max_body_bytes: usize) -> Vec<Row> {
    let success = |name, req: Req| (name, req, 200, p.success, vec![]);
    let client = p.client;
    let basic = jeton::encode_basic(client.id, client.secret);
    let token68 = basic.strip_prefix("Basic ").unwrap_or_default().to_owned();
    // A valid request padded with an unknown parameter (ignored, RFC 6749 §3.2) to `len` bytes.
    let padded = |len: usize| {
        let mut body = format!("{}&pad=", p.body).into_bytes();
        body.resize(len.max(body.len() + 1), b'x');
        body
    };
    let with = |extra: &[u8]| [p.body.as_bytes(), extra].concat();
    let (head, tail) = p.body.split_at(p.body.len() / 2);
    let method_not_allowed = |name, req| {
        (
            name,
            req,
            405,
            Expect::Error("invalid_request"),
            vec![HeaderRule::Equals("allow", "POST")],
        )
    };
    vec![
        // Successes.
        success(
            "rfc9110_11_1_auth_scheme_is_case_insensitive",
            Req::form(p.body).header("Authorization", format!("bAsIc {token68}")),
        ),
        success(
            "rfc6749_3_2_configured_query_is_not_request_parameters",
            Req::form(p.body).basic(client).query("tenant=acme"),
        ),
        success(
            "rfc6749_3_2_form_content_type_with_utf8_charset_is_accepted",
            Req::post(p.body)
                .header(
                    "Content-Type",
                    "application/x-www-form-urlencoded; charset=UTF-8",
                )
                .basic(client),
        ),
        success("rfc9112_7_1_chunked_body_is_read", {
            let mut r = Req::form(Vec::new()).basic(client);
            r.body = Body::Chunked(vec![head.into(), tail.into()]);
            r
        }),
        success(
            "rfc6749_3_2_body_at_the_limit_is_accepted",
            Req::form(padded(max_body_bytes)).basic(client),
        ),
        // Transport and HTTP framing.
        method_not_allowed(
            "rfc6749_3_2_get_is_refused_with_405",
            Req::post(Vec::new()).method("GET").basic(client),
        ),
        method_not_allowed(
            "rfc6749_3_2_put_is_refused_with_405",
            Req::form(p.body).method("PUT").basic(client),
        ),
        method_not_allowed("rfc6749_3_2_get_with_oversize_declared_body_is_405", {
            let mut r = Req::post(Vec::new()).method("GET").basic(client);
            r.body = Body::Declared(max_body_bytes.saturating_mul(1024));
            r
        }),
        bad(
            "rfc6749_2_3_1_credentials_in_query_are_refused",
            Req::form(p.body).query("client_id=post-client&client_secret=post-secret-0123456789"),
        ),
        bad(
            "rfc6749_3_2_json_content_type_is_refused",
            Req::post(p.json)
                .header("Content-Type", "application/json")
                .basic(client),
        ),
        bad(
            "rfc6749_3_2_missing_content_type_is_refused",
            Req::post(p.body).basic(client),
        ),
        bad(
            "rfc6749_3_2_repeated_content_type_is_refused",
            Req::form(p.body).header("Content-Type", FORM).basic(client),
        ),
        bad(
            "rfc6749_5_2_oversize_body_with_content_length_is_refused",
            Req::form(padded(max_body_bytes + 1)).basic(client),
        ),
        bad(
            "rfc6749_5_2_oversize_declared_length_is_refused_before_reading",
            {
                let mut r = Req::form(Vec::new()).basic(client);
                r.body = Body::Declared(max_body_bytes.saturating_mul(1024));
                r
            },
        ),
        bad("rfc6749_5_2_oversize_chunked_body_is_refused", {
            let mut r = Req::form(Vec::new()).basic(client);
            let body = padded(max_body_bytes + 1);
            r.body = Body::Chunked(
                body.chunks(max_body_bytes / 4)
                    .map(<[u8]>::to_vec)
                    .collect(),
            );
            r
        }),
        bad(
            "rfc6749_appendix_b_raw_non_utf8_body_is_refused",
            Req::form(with(b"&pad=r\xffd")).basic(client),
        ),
        bad(
            "rfc6749_appendix_b_escaped_non_utf8_is_refused",
            Req::form(with(b"&pad=r%FFd")).basic(client),
        ),
        bad(
            "rfc6749_appendix_b_bad_percent_escape_is_refused",
            Req::form(with(b"&pad=r%zzd")).basic(client),
        ),
        // Client authentication.
        bad(
            "rfc9110_11_6_2_repeated_authorization_is_invalid_request",
            Req::form(p.body).basic(client).basic(client),
        ),
        bad(
            "rfc6749_2_3_basic_plus_body_secret_is_invalid_request",
            Req::form(with(format!("&client_secret={}", client.secret).as_bytes())).basic(client),
        ),
        invalid_client(
            "rfc6749_5_2_wrong_secret_is_401_with_basic_challenge",
            Req::form(p.body).basic(FixtureClient {
                id: client.id,
                secret: "wrong-secret-0123456789",
            }),
        ),
        invalid_client(
            "rfc6749_5_2_unknown_client_is_401_with_basic_challenge",
            Req::form(p.body).basic(FixtureClient {
                id: "no-such-client",
                secret: client.secret,
            }),
        ),
        invalid_client(
            "rfc6749_5_2_disabled_client_is_401_with_basic_challenge",
            Req::form(p.body).basic(DISABLED),
        ),
        invalid_client(
            "rfc6749_5_2_invalid_base64_is_invalid_client",
            Req::form(p.body).header("Authorization", "Basic %%%not-base64%%%"),
        ),
        invalid_client(
            "rfc6749_5_2_bearer_scheme_is_invalid_client",
            Req::form(p.body).header("Authorization", "Bearer abc.def"),
        ),
        invalid_client(
            "rfc6749_4_4_no_client_authentication_is_invalid_client",
            Req::form(p.body),
        ),
    ]
}

/// The token endpoint's own rows.
fn token_rows() -> Vec<Row> {
    let token = |name, req: Req| (name, req, 200, Expect::Token, vec![]);
    let post_body = format!(
        "{CC_READ}&client_id={}&client_secret={}",
        POST.id, POST.secret
    );
    vec![
        token(
            "rfc6749_4_4_2_client_secret_basic_succeeds",
            Req::form(CC_READ).basic(BASIC),
        ),
        token(
            "rfc6749_2_3_1_client_secret_post_succeeds",
            Req::form(post_body),
        ),
        token(
            "rfc6749_2_3_1_appendix_b_basic_vector_authenticates",
            Req::form(CC).header("Authorization", VECTOR_HEADER),
        ),
        bad(
            "rfc6749_3_2_grant_type_in_query_is_refused",
            Req::form("scope=read")
                .basic(BASIC)
                .query("grant_type=client_credentials"),
        ),
        bad(
            "rfc6749_3_2_repeated_grant_type_is_invalid_request",
            Req::form(format!("{CC_READ}&{CC}")).basic(BASIC),
        ),
        bad(
            "rfc6749_5_2_missing_grant_type_is_invalid_request",
            Req::form("scope=read").basic(BASIC),
        ),
        error(
            "rfc6749_5_2_unknown_grant_type_is_unsupported_grant_type",
            Req::form("grant_type=password&scope=read").basic(BASIC),
            400,
            "unsupported_grant_type",
        ),
        error(
            "rfc6749_3_3_double_space_in_scope_is_invalid_scope",
            Req::form("grant_type=client_credentials&scope=read++write").basic(BASIC),
            400,
            "invalid_scope",
        ),
        error(
            "rfc6749_3_3_scope_outside_allow_list_is_invalid_scope",
            Req::form("grant_type=client_credentials&scope=admin").basic(BASIC),
            400,
            "invalid_scope",
        ),
        error(
            "rfc6749_5_2_grant_not_allowed_is_unauthorized_client",
            Req::form(CC).basic(NO_CC),
            400,
            "unauthorized_client",
        ),
    ]
}

/// The rows introspection and revocation share, about the `token` parameter, named for each:
/// `[unknown token, missing, repeated, in the query, unknown token_type_hint]`.
fn token_param_rows(endpoint: Endpoint, names: [&'static str; 5]) -> Vec<Row> {
    let p = Profile::of(endpoint);
    let [unknown, missing, repeated, in_query, unknown_hint] = names;
    vec![
        (
            unknown,
            Req::form(p.body).basic(p.client),
            200,
            p.success,
            vec![],
        ),
        bad(
            missing,
            Req::form("token_type_hint=access_token").basic(p.client),
        ),
        bad(
            repeated,
            Req::form(format!("{}&token=jt_another", p.body)).basic(p.client),
        ),
        bad(
            in_query,
            Req::form("token_type_hint=access_token")
                .basic(p.client)
                .query("token=jt_never-issued-by-this-server"),
        ),
        (
            unknown_hint,
            Req::form(format!("{}&token_type_hint=no_such_type", p.body)).basic(p.client),
            200,
            p.success,
            vec![],
        ),
    ]
}

/// Introspection's own rows.
fn introspection_rows() -> Vec<Row> {
    let mut rows = token_param_rows(
        Endpoint::Introspection,
        [
            "rfc7662_2_2_unknown_token_is_exactly_active_false",
            "rfc7662_2_1_missing_token_is_invalid_request",
            "rfc7662_2_1_repeated_token_is_invalid_request",
            "rfc7662_2_1_token_in_query_is_refused",
            "rfc7662_2_1_unknown_token_type_hint_is_ignored",
        ],
    );
    rows.push(invalid_client(
        "rfc7662_2_1_caller_not_allowed_to_introspect_is_401",
        Req::form(UNKNOWN_TOKEN).basic(BASIC),
    ));
    rows
}

/// Revocation's own rows.
fn revocation_rows() -> Vec<Row> {
    let mut rows = token_param_rows(
        Endpoint::Revocation,
        [
            "rfc7009_2_2_unknown_token_is_200_with_empty_body",
            "rfc7009_2_1_missing_token_is_invalid_request",
            "rfc7009_2_1_repeated_token_is_invalid_request",
            "rfc7009_2_1_token_in_query_is_refused",
            "rfc7009_2_1_unknown_token_type_hint_is_ignored",
        ],
    );
    rows.push((
        "rfc7009_2_1_client_secret_post_caller_is_answered",
        Req::form(format!(
            "{UNKNOWN_TOKEN}&client_id={}&client_secret={}",
            POST.id, POST.secret
        )),
        200,
        Expect::Empty,
        vec![],
    ));
    rows
}

/// A parsed HTTP/1.1 response.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct RawResponse {
    /// The status code.
    pub status: u16,
    /// The headers in order, names lower-cased.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl RawResponse {
    /// Every value of a header (name compared case-insensitively).
    pub fn header_values(&self, name: &str) -> Vec<&[u8]> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .collect()
    }

    /// The only value of a header, as text, if it occurs exactly once and is UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        match self.header_values(name).as_slice() {
            [one] => std::str::from_utf8(one).ok(),
            _ => None,
        }
    }

    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Sends `request` on a new connection to `addr` and reads one response, all within `timeout`.
/// A write refused because the server already answered and closed is not an error: the
/// response is still read.
pub fn exchange(addr: SocketAddr, request: &[u8], timeout: Duration) -> io::Result<RawResponse> {
    let deadline = Instant::now() + timeout;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(timeout))?;
    if let Err(e) = stream.write_all(request)
        && !matches!(
            e.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        )
    {
        return Err(e);
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(resp) = parse_response(&buf, false)? {
            return Ok(resp);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no complete response",
            ));
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut chunk) {
            Ok(0) => {
                return parse_response(&buf, true)?.ok_or_else(|| {
                    io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed early")
                });
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            // The server may reset after answering a request whose body it did not read; what
            // it sent before is still in `buf`.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                return parse_response(&buf, true)?.ok_or(e);
            }
            Err(e) => return Err(e),
        }
        if buf.len() > MAX_RESPONSE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "response too large",
            ));
        }
    }
}

fn invalid(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// Parses a response from `buf`; `Ok(None)` if more bytes are needed (unless `eof`).
pub(crate) fn parse_response(buf: &[u8], eof: bool) -> io::Result<Option<RawResponse>> {
    let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if eof {
            Err(invalid("truncated head"))
        } else {
            Ok(None)
        };
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| invalid("head not UTF-8"))?;
    let rest = &buf[head_end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| invalid("bad status line"))?;
    let mut resp = RawResponse {
        status,
        ..RawResponse::default()
    };
    for line in lines {
        let (name, value) = line.split_once(':').ok_or_else(|| invalid("bad header"))?;
        resp.headers.push((
            name.trim().to_ascii_lowercase(),
            value.trim().as_bytes().to_vec(),
        ));
    }
    let chunked = resp
        .header("transfer-encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"));
    if chunked {
        return match dechunk(rest)? {
            Some(body) => {
                resp.body = body;
                Ok(Some(resp))
            }
            None if eof => Err(invalid("truncated chunked body")),
            None => Ok(None),
        };
    }
    if let Some(len) = resp.header("content-length") {
        let len: usize = len.parse().map_err(|_| invalid("bad content-length"))?;
        return match rest.get(..len) {
            Some(body) => {
                resp.body = body.to_vec();
                Ok(Some(resp))
            }
            None if eof => Err(invalid("truncated body")),
            None => Ok(None),
        };
    }
    if eof {
        resp.body = rest.to_vec();
        Ok(Some(resp))
    } else {
        Ok(None)
    }
}

/// Decodes a complete chunked body; `Ok(None)` if incomplete. Trailers are skipped.
fn dechunk(mut rest: &[u8]) -> io::Result<Option<Vec<u8>>> {
    let mut body = Vec::new();
    loop {
        let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let size_text =
            std::str::from_utf8(&rest[..line_end]).map_err(|_| invalid("chunk size"))?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| invalid("chunk size"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(rest.windows(2).any(|w| w == b"\r\n").then_some(body));
        }
        let Some(data) = rest.get(..size) else {
            return Ok(None);
        };
        body.extend_from_slice(data);
        match rest.get(size..size + 2) {
            Some(b"\r\n") => rest = &rest[size + 2..],
            Some(_) => return Err(invalid("chunk not terminated")),
            None => return Ok(None),
        }
    }
}

impl Case {
    /// Checks a response against the case; the error says what differed.
    pub fn check(&self, resp: &RawResponse) -> Result<(), String> {
        let mut problems = Vec::new();
        if resp.status != self.status {
            problems.push(format!("status {} (expected {})", resp.status, self.status));
        }
        let json = self.expect.is_json().then_some(&JSON);
        for rule in ALWAYS.iter().chain(json).chain(&self.headers) {
            if let Err(p) = check_header(resp, *rule) {
                problems.push(p);
            }
        }
        if let Err(p) = check_body(resp, self.expect) {
            problems.push(p);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

/// Checks one header rule.
pub fn check_header(resp: &RawResponse, rule: HeaderRule) -> Result<(), String> {
    let (name, ok) = match rule {
        HeaderRule::Equals(name, value) => (name, resp.header(name) == Some(value)),
        HeaderRule::StartsWith(name, prefix) => (
            name,
            resp.header(name).is_some_and(|v| v.starts_with(prefix)),
        ),
        HeaderRule::Absent(name) => (name, resp.header_values(name).is_empty()),
    };
    if ok {
        Ok(())
    } else {
        let got: Vec<_> = resp
            .header_values(name)
            .into_iter()
            .map(String::from_utf8_lossy)
            .collect();
        Err(format!("header rule {rule:?} failed (got {got:?})"))
    }
}

/// Checks a body against [`Expect`].
pub fn check_body(resp: &RawResponse, expect: Expect) -> Result<(), String> {
    if expect == Expect::Empty {
        return if resp.body.is_empty() {
            Ok(())
        } else {
            Err(format!("body is not empty ({} bytes)", resp.body.len()))
        };
    }
    let Some(json) = resp.json() else {
        return Err(format!(
            "body is not JSON: {:?}",
            String::from_utf8_lossy(&resp.body)
        ));
    };
    let ok = match expect {
        Expect::Token | Expect::DpopToken => {
            let token_type = if expect == Expect::Token {
                "Bearer"
            } else {
                "DPoP"
            };
            json["access_token"].as_str().is_some_and(|t| !t.is_empty())
                && json["token_type"] == token_type
                && json["expires_in"].as_i64().is_some_and(|s| s > 0)
                && json.get("refresh_token").is_none()
                && json.get("error").is_none()
        }
        Expect::Error(code) => {
            json["error"] == code
                && json.get("access_token").is_none()
                && json.get("error_description").is_none_or(|d| {
                    d.as_str().is_some_and(|d| {
                        d.bytes()
                            .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\')
                    })
                })
        }
        Expect::Inactive => json == serde_json::json!({ "active": false }),
        Expect::Empty => resp.body.is_empty(),
    };
    if ok {
        Ok(())
    } else {
        // Never print a token: say only which members were present.
        let members: Vec<_> = json
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        Err(format!(
            "body does not match {expect:?} (error {:?}, members {members:?})",
            json.get("error")
        ))
    }
}

/// A case that failed, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failure {
    /// The endpoint of the case.
    pub endpoint: Endpoint,
    /// The case name.
    pub case: &'static str,
    /// What went wrong.
    pub problem: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} {}: {}", self.endpoint, self.case, self.problem)
    }
}

/// Runs the token endpoint's table; see [`run_for`].
pub fn run(addr: SocketAddr, path: &str, max_body_bytes: usize) -> Vec<Failure> {
    run_for(Endpoint::Token, addr, path, max_body_bytes)
}

/// Runs every case of [`cases_for`] `endpoint` against the server at `addr`, one connection
/// each and at most [`CASE_TIMEOUT`] per case, and returns the failures. Blocking: from async
/// code, call it in `spawn_blocking` (or on a thread) so the server under test keeps running.
pub fn run_for(
    endpoint: Endpoint,
    addr: SocketAddr,
    path: &str,
    max_body_bytes: usize,
) -> Vec<Failure> {
    let host = addr.to_string();
    cases_for(endpoint, path, &host, max_body_bytes)
        .into_iter()
        .filter_map(|case| {
            let result = exchange(addr, &case.request, CASE_TIMEOUT)
                .map_err(|e| format!("exchange failed: {e}"))
                .and_then(|resp| case.check(&resp));
            result.err().map(|problem| Failure {
                endpoint,
                case: case.name,
                problem,
            })
        })
        .collect()
}

/// The private_key_jwt and DPoP rows of the token endpoint (RFC 7523 §2.2 and §3,
/// draft-ietf-oauth-rfc7523bis), for a server whose engine is built like
/// [`crate::Fixture::keyed`]: a valid assertion is `200`, the same assertion again is the
/// `401 invalid_client` (with the Basic challenge) of a wrong secret, an assertion whose `aud`
/// is the token endpoint URL is refused the same way while the legacy setting is off, and an
/// assertion sent with Basic credentials is `400 invalid_request` (one method per request);
/// a DPoP proof (RFC 9449 §5) gets a `DPoP` token, and the same proof again is
/// `400 invalid_dpop_proof` (§11.1).
///
/// Stateful, unlike [`cases_for`]: the replay row must follow the valid row, and assertions
/// carry the current time, so build the table right before running it ([`run_keyed`]).
pub fn key_cases(path: &str, host: &str) -> Vec<Case> {
    use crate::{ISSUER, assertion_form, client_assertion};
    let iat = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let jti = |n: &str| format!("{n}-{iat}-{nonce}");
    let valid = assertion_form(&client_assertion(ISSUER, &jti("valid"), iat));
    let token_url = format!("{ISSUER}/token");
    let legacy_aud = assertion_form(&client_assertion(&token_url, &jti("aud"), iat));
    let with_basic = assertion_form(&client_assertion(ISSUER, &jti("basic"), iat));
    let proof = crate::dpop_proof("POST", &token_url, &jti("proof"), iat);
    let rows: Vec<Row> = vec![
        (
            "rfc7523_2_2_valid_assertion_issues_a_token",
            Req::form(valid.clone()),
            200,
            Expect::Token,
            vec![],
        ),
        invalid_client(
            "rfc7523_3_7_replayed_assertion_is_401_like_a_wrong_secret",
            Req::form(valid),
        ),
        invalid_client(
            "rfc7523bis_token_endpoint_audience_is_401_without_the_legacy_setting",
            Req::form(legacy_aud),
        ),
        bad(
            "rfc6749_2_3_assertion_with_basic_credentials_is_400",
            Req::form(with_basic).basic(BASIC),
        ),
        (
            "rfc9449_5_dpop_proof_binds_the_token",
            Req::form(CC_READ)
                .basic(BASIC)
                .header("DPoP", proof.clone()),
            200,
            Expect::DpopToken,
            vec![],
        ),
        error(
            "rfc9449_11_1_replayed_dpop_proof_is_400_invalid_dpop_proof",
            Req::form(CC_READ).basic(BASIC).header("DPoP", proof),
            400,
            "invalid_dpop_proof",
        ),
    ];
    rows.into_iter()
        .map(|(name, req, status, expect, headers)| Case {
            name,
            endpoint: Endpoint::Token,
            request: req.build(path, host),
            status,
            expect,
            headers,
        })
        .collect()
}

/// Builds [`key_cases`] now and runs them in order against the server at `addr`, like
/// [`run_for`]; returns the failures.
pub fn run_keyed(addr: SocketAddr, path: &str) -> Vec<Failure> {
    key_cases(path, &addr.to_string())
        .into_iter()
        .filter_map(|case| {
            let result = exchange(addr, &case.request, CASE_TIMEOUT)
                .map_err(|e| format!("exchange failed: {e}"))
                .and_then(|resp| case.check(&resp));
            result.err().map(|problem| Failure {
                endpoint: Endpoint::Token,
                case: case.name,
                problem,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_unique_and_requests_well_framed() {
        for (endpoint, path) in [
            (Endpoint::Token, "/token"),
            (Endpoint::Introspection, "/introspect"),
            (Endpoint::Revocation, "/revoke"),
        ] {
            let cases = cases_for(endpoint, path, "127.0.0.1:1", 8 * 1024);
            assert!(cases.len() >= 30, "{endpoint:?}");
            let mut names: Vec<_> = cases.iter().map(|c| c.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), cases.len(), "{endpoint:?}");
            for c in &cases {
                assert_eq!(c.endpoint, endpoint);
                assert!(c.request.windows(4).any(|w| w == b"\r\n\r\n"), "{}", c.name);
                assert!(
                    ["POST ", "GET ", "PUT "]
                        .iter()
                        .any(|m| c.request.starts_with(format!("{m}{path}").as_bytes())),
                    "{}",
                    c.name
                );
            }
        }
    }

    #[test]
    fn rfc7662_2_2_inactive_means_exactly_active_false() {
        let resp = |body: &str| RawResponse {
            status: 200,
            body: body.as_bytes().to_vec(),
            ..RawResponse::default()
        };
        assert!(check_body(&resp(r#"{"active":false}"#), Expect::Inactive).is_ok());
        assert!(check_body(&resp(r#"{ "active" : false }"#), Expect::Inactive).is_ok());
        for wrong in [
            r#"{"active":false,"client_id":"x"}"#,
            r#"{"active":true}"#,
            r#"{"active":"false"}"#,
            "",
        ] {
            assert!(
                check_body(&resp(wrong), Expect::Inactive).is_err(),
                "{wrong}"
            );
        }
        assert!(check_body(&resp(""), Expect::Empty).is_ok());
        assert!(check_body(&resp("{}"), Expect::Empty).is_err());
    }

    #[test]
    fn configured_query_is_appended_with_ampersand() {
        let r = Req::form("x").query("a=b").build("/t?tenant=acme", "h");
        assert!(r.starts_with(b"POST /t?tenant=acme&a=b HTTP/1.1\r\n"));
    }

    #[test]
    fn parses_content_length_and_chunked_responses() {
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX: y\r\n\r\nhi",
            false,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (r.status, r.body.as_slice(), r.header("x")),
            (200, &b"hi"[..], Some("y"))
        );
        assert!(
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nhi", false)
                .unwrap()
                .is_none()
        );
        let r = parse_response(
            b"HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n",
            false,
        )
        .unwrap()
        .unwrap();
        assert_eq!(r.body, b"abc");
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n", true).is_err());
        assert!(parse_response(b"garbage\r\n\r\n", true).is_err());
    }
}

//! Scenarios every HTTP adapter's integration tests run over real sockets (feature `http`):
//! reqwest requests, and the raw-byte [`conformance`] tables run from a blocking thread.
//!
//! Framework-neutral: each scenario takes the address of a server the adapter's test started
//! on 127.0.0.1, and asserts. Unless a scenario says otherwise the server serves an engine
//! built like [`Fixture::new`] (TLS not required) with every endpoint on the engine's paths,
//! over plain HTTP. Every request has a timeout ([`IO_TIMEOUT`]) and [`bounded`] limits a whole
//! test. Needs a tokio runtime (actix-web's runtime is one).

use crate::conformance::{self, HeaderRule};
use crate::{
    BASIC, Endpoint, FORWARDED_PROTO_CASES, FailingClientStore, Fixture, FixtureClient,
    INTERNAL_DETAIL, INTROSPECTOR, ISSUER, SeqRandom, TRUSTED_PROXY,
};
use jeton::time::OffsetDateTime;
use jeton::{Endpoints, Engine, OpaqueIssuer, Transport, encode_basic};
use jeton_memory::MemoryTokenStore;
use serde_json::{Value, json};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The longest one request may take.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest one test may take.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The metadata path of the fixture issuer (RFC 8414 §3).
pub const METADATA: &str = "/.well-known/oauth-authorization-server";

const FORM: &str = "application/x-www-form-urlencoded";

/// Runs `test` for at most [`TEST_TIMEOUT`]; panics when time runs out.
pub async fn bounded<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(TEST_TIMEOUT, test)
        .await
        .expect("test timed out")
}

/// Runs blocking client code (raw exchanges) off the runtime, so the server keeps answering.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("client thread")
}

fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

/// A reqwest client with [`IO_TIMEOUT`] and no proxy.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(IO_TIMEOUT)
        .build()
        .expect("client")
}

/// A `GET` of `path` on `addr`.
async fn get(addr: SocketAddr, path: &str) -> reqwest::Response {
    client().get(url(addr, path)).send().await.expect("send")
}

/// A form POST of `body` to `url` (`Content-Type: application/x-www-form-urlencoded`, sent
/// through [`client`]), with Basic credentials of `who` if any.
pub async fn post_form(url: &str, who: Option<FixtureClient>, body: &str) -> reqwest::Response {
    let mut req = client()
        .post(url)
        .header("content-type", FORM)
        .body(body.to_owned());
    if let Some(c) = who {
        req = req.header("authorization", encode_basic(c.id, c.secret));
    }
    req.send().await.expect("send")
}

/// Status and JSON body of a response that must not be cached (RFC 6749 §5.1): asserts
/// `Cache-Control: no-store`, `Pragma: no-cache` and `Content-Type: application/json`.
pub async fn no_store_json(resp: reqwest::Response) -> (u16, Value) {
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["pragma"], "no-cache");
    assert_eq!(resp.headers()["content-type"], "application/json");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

/// Runs `endpoint`'s raw-HTTP conformance table ([`conformance::run_for`]) against `path` on
/// `addr`, and asserts that no case failed.
pub async fn conformance_table_passes(addr: SocketAddr, endpoint: Endpoint, path: &'static str) {
    let max = Fixture::new().engine.max_body_bytes_for(endpoint.route());
    let failures = blocking(move || conformance::run_for(endpoint, addr, path, max)).await;
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The tables of all three form endpoints, on the fixture engine's paths (`/token`,
/// `/introspect`, `/revoke`).
pub async fn conformance_tables_pass(addr: SocketAddr) {
    conformance_table_passes(addr, Endpoint::Token, "/token").await;
    conformance_table_passes(addr, Endpoint::Introspection, "/introspect").await;
    conformance_table_passes(addr, Endpoint::Revocation, "/revoke").await;
}

/// The private_key_jwt rows ([`conformance::run_keyed`]) against `/token` on `addr`, a server
/// whose engine is built like [`Fixture::keyed`]; asserts that no case failed.
pub async fn key_table_passes(addr: SocketAddr) {
    let failures = blocking(move || conformance::run_keyed(addr, "/token")).await;
    assert!(failures.is_empty(), "{failures:#?}");
}

/// RFC 9449 §8 through the adapter, at `/token` of a server whose engine is built like
/// [`Fixture::keyed_with_nonces`]: a proof without a nonce is `400 use_dpop_nonce` with a
/// `DPoP-Nonce` header; the same request with a proof carrying that nonce is a `200` `DPoP`
/// token whose response carries the next `DPoP-Nonce` (§8.2).
pub async fn dpop_nonce_round_trip(addr: SocketAddr) {
    let htu = format!("{ISSUER}/token");
    let iat = OffsetDateTime::now_utc().unix_timestamp();
    let send = |proof: String| {
        client()
            .post(url(addr, "/token"))
            .header("content-type", FORM)
            .header("authorization", encode_basic(BASIC.id, BASIC.secret))
            .header("dpop", proof)
            .body("grant_type=client_credentials&scope=read")
            .send()
    };
    let resp = send(crate::dpop_proof("POST", &htu, &format!("n1-{iat}"), iat))
        .await
        .expect("send");
    let nonce = resp
        .headers()
        .get("dpop-nonce")
        .map(|v| v.to_str().map(str::to_owned));
    let (status, body) = no_store_json(resp).await;
    assert_eq!((status, &body["error"]), (400, &json!("use_dpop_nonce")));
    let nonce = nonce
        .expect("DPoP-Nonce with use_dpop_nonce")
        .expect("ASCII");
    assert!(!nonce.is_empty());

    let proof = crate::dpop_proof_with_nonce("POST", &htu, &format!("n2-{iat}"), iat, &nonce);
    let resp = send(proof).await.expect("send");
    let next = resp.headers().get("dpop-nonce").cloned();
    let (status, body) = no_store_json(resp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    assert!(
        next.is_some_and(|n| !n.is_empty()),
        "DPoP-Nonce on the success"
    );
}

/// RFC 8414 §3 and RFC 7662/7009 through the advertised paths: fetches the metadata, gets a
/// token at the advertised token endpoint, introspects it (active), revokes it (`200`, empty
/// body) and introspects it again (exactly `{"active":false}`).
pub async fn metadata_and_round_trip(addr: SocketAddr) {
    let resp = get(addr, METADATA).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let meta: Value = resp.json().await.expect("json");
    assert_eq!(meta["issuer"], ISSUER);
    assert_eq!(meta["grant_types_supported"], json!(["client_credentials"]));
    let advertised = |key: &str| {
        let advertised = meta[key].as_str().unwrap_or_else(|| panic!("{key}"));
        url(addr, Endpoints::path_of(advertised))
    };
    let token_url = advertised("token_endpoint");
    let introspect = advertised("introspection_endpoint");
    let revoke = advertised("revocation_endpoint");

    let resp = post_form(
        &token_url,
        Some(BASIC),
        "grant_type=client_credentials&scope=read",
    );
    let (status, json) = no_store_json(resp.await).await;
    assert_eq!(status, 200, "{}", json["error"]);
    assert_eq!(json["token_type"], "Bearer");
    let token = json["access_token"].as_str().expect("access_token");

    let body = format!("token={token}");
    let resp = post_form(&introspect, Some(INTROSPECTOR), &body).await;
    let (status, active) = no_store_json(resp).await;
    assert_eq!(status, 200);
    assert_eq!(active["active"], true);
    assert_eq!(active["client_id"], BASIC.id);
    assert_eq!(active["scope"], "read");
    assert_eq!(active["iss"], ISSUER);

    let revoked = post_form(&revoke, Some(BASIC), &body).await;
    assert_eq!(revoked.status(), 200);
    assert_eq!(revoked.headers()["cache-control"], "no-store");
    assert!(revoked.bytes().await.expect("body").is_empty());

    let resp = post_form(&introspect, Some(INTROSPECTOR), &body).await;
    let (status, inactive) = no_store_json(resp).await;
    assert_eq!((status, inactive), (200, json!({ "active": false })));
}

/// RFC 8414 §3, RFC 9110 §9.3.2: the metadata answers `GET` and `HEAD` (same `Content-Length`,
/// no body) and nothing else (`405`, `Allow: GET, HEAD`); the fixture's JWKS path is `404`
/// (opaque tokens have no keys).
pub async fn documents_are_read_only(addr: SocketAddr) {
    let http = client();
    let metadata = url(addr, METADATA);
    let full = get(addr, METADATA).await;
    assert_eq!(full.headers()["cache-control"], "public, max-age=300");
    let len = full.bytes().await.expect("body").len();
    assert!(len > 0);
    let head = http.head(&metadata).send().await.expect("send");
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], len.to_string().as_str());
    assert!(head.bytes().await.expect("body").is_empty());
    for method in [reqwest::Method::POST, reqwest::Method::DELETE] {
        let resp = http
            .request(method.clone(), &metadata)
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 405, "{method}");
        assert_eq!(resp.headers()["allow"], "GET, HEAD", "{method}");
        let json: Value = resp.json().await.expect("json");
        assert_eq!(json, json!({ "error": "method_not_allowed" }));
    }
    let jwks = get(addr, "/jwks.json").await;
    assert_eq!(jwks.status(), 404);
    let json: Value = jwks.json().await.expect("json");
    assert_eq!(json, json!({ "error": "not_found" }));
}

/// RFC 6749 §3.2: a `GET` to the token endpoint at `path` whose body (sent in full) is over the
/// engine's limit is `405` with `Allow: POST`: the method is checked before the size.
pub async fn get_with_oversize_body_is_405(addr: SocketAddr, path: &str) {
    let max = Fixture::new().engine.max_body_bytes();
    let resp = client()
        .get(url(addr, path))
        .header("content-type", FORM)
        .body(vec![b'x'; max + 1])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.headers()["allow"], "POST");
    let (status, json) = no_store_json(resp).await;
    let error = json["error"].as_str();
    assert_eq!((status, error), (405, Some("invalid_request")));
}

/// RFC 6749 §5.2: a form POST to `path` whose chunked framing is broken is the core's `400
/// invalid_request` (an unreadable body), not cached: never a `500` or a framework's page.
pub async fn malformed_chunked_body_is_400(addr: SocketAddr, path: &str) {
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {FORM}\r\n\
         Authorization: {}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnot a chunk\r\n0\r\n\r\n",
        encode_basic(BASIC.id, BASIC.secret)
    );
    let resp = blocking(move || conformance::exchange(addr, request.as_bytes(), IO_TIMEOUT))
        .await
        .expect("exchange");
    let rules = [
        HeaderRule::Equals("cache-control", "no-store"),
        HeaderRule::Equals("content-type", "application/json"),
    ];
    for rule in rules {
        conformance::check_header(&resp, rule).unwrap_or_else(|e| panic!("{e}"));
    }
    let error = resp
        .json()
        .and_then(|j| j["error"].as_str().map(str::to_owned));
    assert_eq!(
        (resp.status, error.as_deref()),
        (400, Some("invalid_request"))
    );
}

/// An engine whose client store always fails ([`FailingClientStore`]), TLS not required.
pub fn failing_store_engine() -> Arc<Engine> {
    let issuer = OpaqueIssuer::new(
        Arc::new(MemoryTokenStore::new()),
        Arc::new(SeqRandom::new(1)),
    );
    let engine = Engine::builder(Arc::new(FailingClientStore), Arc::new(issuer))
        .random(std::sync::Arc::new(jeton::SystemRandom::new()))
        .transport(jeton::Transport::Plaintext)
        .build()
        .expect("engine");
    Arc::new(engine)
}

/// RFC 6749 §5.2 (jeton's `server_error`): the token endpoint at `path` of a
/// [`failing_store_engine`] answers `500 server_error`, not cached, with nothing of the cause
/// in the body.
pub async fn failing_store_is_500_without_detail(addr: SocketAddr, path: &str) {
    let body = "grant_type=client_credentials&scope=read";
    let resp = post_form(&url(addr, path), Some(BASIC), body).await;
    assert_eq!(resp.status(), 500);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["pragma"], "no-cache");
    let body = resp.text().await.expect("body");
    for leak in [INTERNAL_DETAIL, "hunter2", "db-primary", "5432", "storage"] {
        assert!(!body.contains(leak), "{leak} in {body}");
    }
    let json: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(json["error"], "server_error");
}

/// RFC 9700 §4.13: `serve(engine)` starts the adapter on 127.0.0.1 with `engine` at `/token`
/// and returns its address and whatever keeps it running; the engine trusts one proxy to set
/// `X-Forwarded-Proto` (the adapter passes the peer and the header, the engine decides). A form POST with `X-Forwarded-Proto: https` is
/// `200` when the proxy is the peer (127.0.0.1), and `400 invalid_request` from any other peer.
pub async fn forwarded_proto_counts_only_from_a_trusted_proxy<G>(
    mut serve: impl FnMut(Arc<Engine>) -> (SocketAddr, G),
) {
    for (proxy, expected) in [([127, 0, 0, 1], 200), ([192, 0, 2, 10], 400)] {
        let trusted = vec![IpAddr::from(proxy)];
        let engine = Fixture::with(|b| b.transport(Transport::BehindProxy { trusted })).engine;
        let (addr, _server) = serve(engine);
        let resp = client()
            .post(url(addr, "/token"))
            .header("content-type", FORM)
            .header("x-forwarded-proto", "https")
            .header("authorization", encode_basic(BASIC.id, BASIC.secret))
            .body("grant_type=client_credentials&scope=read")
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), expected, "proxy {proxy:?}");
    }
}

/// Formatted log output of the process-wide subscriber that [`capture_logs`] installs.
#[derive(Clone, Debug, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Takes what was logged so far, checking it has one line per `(level, text)` pair, in
    /// order, each at that level and containing that text.
    pub fn take(&self, expected: &[(&str, &str)]) -> String {
        let bytes = std::mem::take(&mut *self.0.lock().expect("lock"));
        let text = String::from_utf8_lossy(&bytes).into_owned();
        assert_eq!(text.lines().count(), expected.len(), "{text}");
        for (line, (level, needle)) in text.lines().zip(expected) {
            assert!(line.contains(&format!(" {level} ")), "{level}: {text}");
            assert!(line.contains(needle), "{needle}: {text}");
        }
        text
    }
}

/// Installs a process-wide `tracing` subscriber that formats every event of the `jeton`
/// targets (plain text) into the returned [`Logs`]. Once per process: `tracing` caches callsite
/// interest process-wide, so a log test lives alone in its own test binary.
pub fn capture_logs() -> Logs {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_env_filter("jeton=trace")
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("global subscriber");
    logs
}

/// RFC 6749 §10.3, and the adapter's audit duty: over [`capture_logs`], requests to a fixture
/// server at `addr` log one `jeton::audit` line each (issued and introspected and revoked at
/// `INFO`, failed authentication at `WARN`) with endpoint, client id, outcome, status and peer,
/// and no secret, token or `Authorization` value; the metadata document is not audited. A
/// token request to `failing` (a [`failing_store_engine`]) logs the audit line and the
/// diagnostic with its cause at `ERROR`.
pub async fn one_audit_event_per_request_and_no_secret_in_logs(
    addr: SocketAddr,
    failing: SocketAddr,
    logs: &Logs,
) {
    let cc = "grant_type=client_credentials&scope=read";
    let resp = post_form(&url(addr, "/token"), Some(BASIC), cc).await;
    let (status, json) = no_store_json(resp).await;
    assert_eq!(status, 200);
    let token = json["access_token"].as_str().expect("token").to_owned();
    let guess = FixtureClient {
        id: BASIC.id,
        secret: "guess-0123456789",
    };
    let resp = post_form(&url(addr, "/token"), Some(guess), cc).await;
    assert_eq!(resp.status(), 401);
    let body = format!("token={token}");
    let resp = post_form(&url(addr, "/introspect"), Some(INTROSPECTOR), &body).await;
    assert_eq!(resp.status(), 200);
    let resp = post_form(&url(addr, "/revoke"), Some(BASIC), &body).await;
    assert_eq!(resp.status(), 200);
    let resp = get(addr, METADATA).await;
    assert_eq!(resp.status(), 200);

    let text = logs.take(&[
        ("INFO", "endpoint=\"token\""),
        ("WARN", "endpoint=\"token\""),
        ("INFO", "endpoint=\"introspection\""),
        ("INFO", "endpoint=\"revocation\""),
    ]);
    let outcomes = [
        "issued\" status=200",
        "auth_failed\" status=401",
        "introspected\" status=200",
    ];
    let outcomes = outcomes.iter().chain(&["revoked\" status=200"]);
    for (line, outcome) in text.lines().zip(outcomes) {
        assert!(line.contains("jeton::audit"), "{line}");
        assert!(line.contains(&format!("outcome=\"{outcome}")), "{line}");
        assert!(line.contains("client_id=\""), "{line}");
        assert!(line.contains("peer=127.0.0.1:"), "{line}");
    }
    assert!(text.contains("reason=\"wrong_secret\""), "{text}");
    assert!(!text.contains("WrongSecret"), "Debug text in logs: {text}");
    let (good, bad) = (
        encode_basic(BASIC.id, BASIC.secret),
        encode_basic(BASIC.id, guess.secret),
    );
    let secrets = [
        BASIC.secret,
        guess.secret,
        INTROSPECTOR.secret,
        &token,
        &good[6..],
        &bad[6..],
    ];
    for secret in secrets {
        assert!(!text.contains(secret), "secret in logs: {text}");
    }

    let resp = post_form(&url(failing, "/token"), Some(BASIC), cc).await;
    assert_eq!(resp.status(), 500);
    let text = logs.take(&[
        ("ERROR", "outcome=\"server_error\" status=500"),
        ("ERROR", "jeton::diagnostic"),
    ]);
    assert!(text.contains(INTERNAL_DETAIL), "{text}");
    assert!(!text.contains(BASIC.secret), "{text}");
}

/// RFC 9700 §4.13 through an adapter's header handling. `is_secure(transport, peer, values)`
/// builds a request with one `X-Forwarded-Proto` line per value, turns it into the core's
/// `RawRequest` with the adapter's own conversion, and returns `transport.admits(&raw)`: the
/// engine's decision on what the adapter passed. This checks [`FORWARDED_PROTO_CASES`] behind
/// `Transport::BehindProxy { trusted: [TRUSTED_PROXY] }`, an unknown peer (never secure),
/// `Transport::Tls` (always), `Transport::Direct` (never from forwarded headers, even from a
/// loopback peer with `https`) and `Transport::Plaintext` (TLS not required).
pub fn forwarded_proto_decides_as_the_core(
    is_secure: impl Fn(&Transport, Option<SocketAddr>, &[&'static str]) -> bool,
) {
    let proxy = Transport::BehindProxy {
        trusted: vec![IpAddr::from(TRUSTED_PROXY)],
    };
    for &(peer, values, secure) in FORWARDED_PROTO_CASES {
        let decided = is_secure(&proxy, peer.parse().ok(), values);
        assert_eq!(decided, secure, "{peer} {values:?}");
    }
    assert!(!is_secure(&proxy, None, &["https"]));
    assert!(is_secure(&Transport::Tls, None, &[]));
    let loopback = "127.0.0.1:1".parse().ok();
    // The default trusts no forwarded header, whatever the peer.
    assert!(!is_secure(&Transport::Direct, loopback, &["https"]));
    // Plain HTTP for development: TLS is not required at all.
    assert!(is_secure(&Transport::Plaintext, loopback, &[]));
}

/// A clock a test moves by hand: what adapters' `Jeton::clock` reads in
/// [`slow_body_is_judged_when_complete`].
#[derive(Clone, Debug)]
pub struct HandClock(Arc<std::sync::atomic::AtomicI64>);

impl HandClock {
    /// A clock showing `at`.
    pub fn at(at: OffsetDateTime) -> Self {
        Self(Arc::new(std::sync::atomic::AtomicI64::new(
            at.unix_timestamp(),
        )))
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: OffsetDateTime) {
        self.0
            .store(at.unix_timestamp(), std::sync::atomic::Ordering::SeqCst);
    }

    /// What the clock shows.
    pub fn now(&self) -> OffsetDateTime {
        let secs = self.0.load(std::sync::atomic::Ordering::SeqCst);
        OffsetDateTime::from_unix_timestamp(secs).expect("valid timestamp")
    }
}

/// Issue 9 point 5: the request time is read once the body is complete. `serve(engine, clock)`
/// starts the adapter on 127.0.0.1 with every endpoint of `engine` on its paths, reading the
/// request time from `clock`, and returns its address and whatever keeps it running.
///
/// [`ROTATING`]'s old secret expires an hour before [`crate::now`]; the clock starts two hours
/// before. A request sent at once authenticates with it (`200`: the adapter reads `clock`);
/// then a request whose headers and first half of the body are sent, the clock moved past the
/// expiry, then the rest of the body sent, is `401 invalid_client`: it is judged at the time
/// its body completed, not when its headers arrived.
pub async fn slow_body_is_judged_when_complete<G, F>(
    serve: impl FnOnce(Arc<Engine>, HandClock) -> F,
) where
    F: Future<Output = (SocketAddr, G)>,
{
    let clock = HandClock::at(crate::now() - jeton::time::Duration::hours(2));
    let (addr, _guard) = serve(Fixture::new().engine, clock.clone()).await;
    let auth = encode_basic(crate::ROTATING.id, crate::ROTATING_OLD_SECRET);
    let body = "grant_type=client_credentials&scope=read";
    let request = |body_len: usize| {
        format!(
            "POST /token HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {FORM}\r\n\
             Authorization: {auth}\r\nContent-Length: {body_len}\r\n\r\n"
        )
    };
    let whole = format!("{}{body}", request(body.len()));
    let at_once = blocking(move || conformance::exchange(addr, whole.as_bytes(), IO_TIMEOUT))
        .await
        .expect("exchange");
    assert_eq!(at_once.status, 200, "the secret works before its expiry");

    let head = request(body.len());
    let slow = blocking(move || -> std::io::Result<conformance::RawResponse> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        let (first, rest) = body.split_at(body.len() / 2);
        stream.write_all(format!("{head}{first}").as_bytes())?;
        stream.flush()?;
        // Give the server time to start the request (headers in, body pending): were the clock
        // read now, the old secret would still authenticate.
        std::thread::sleep(Duration::from_millis(300));
        clock.set(crate::now());
        stream.write_all(rest.as_bytes())?;
        let mut buf = Vec::new();
        stream.read_to_end(&mut buf)?;
        conformance::parse_response(&buf, true)?
            .ok_or_else(|| std::io::Error::other("incomplete response"))
    })
    .await
    .expect("slow exchange");
    let error = slow
        .json()
        .and_then(|j| j["error"].as_str().map(str::to_owned));
    assert_eq!(
        (slow.status, error.as_deref()),
        (401, Some("invalid_client"))
    );
}

/// Issue 9 point 6 (RFC 7662 §2.2, RFC 7009 §2.2): an over-long token (8 KiB and more) sent to
/// the introspection and revocation endpoints of a fixture engine on `addr` is judged, not
/// refused for its size: `200 {"active":false}` and `200` with an empty body.
pub async fn over_long_token_is_inactive_not_too_large(addr: SocketAddr) {
    for len in [8 * 1024, jeton::DEFAULT_MAX_TOKEN_BYTES + 1, 12 * 1024] {
        let body = format!("token={}", "A".repeat(len));
        let resp = post_form(&url(addr, "/introspect"), Some(INTROSPECTOR), &body).await;
        let (status, json) = no_store_json(resp).await;
        assert_eq!((status, json), (200, json!({"active": false})), "{len}");
        let resp = post_form(&url(addr, "/revoke"), Some(INTROSPECTOR), &body).await;
        assert_eq!(resp.status(), 200, "{len}");
        assert!(resp.bytes().await.expect("body").is_empty());
    }
}

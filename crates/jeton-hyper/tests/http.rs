//! jeton-hyper over real sockets: a hyper server on 127.0.0.1:0, driven by reqwest and by raw
//! TCP bytes (the shared conformance tables of the three form endpoints and the adapter's own
//! transport and body-reading rules).

mod support;

use bytes::Bytes;
use jeton_hyper::jeton::{Engine, OpaqueIssuer};
use jeton_hyper::{Router, Transport, token_endpoint};
use jeton_memory::MemoryTokenStore;
use jeton_testkit::conformance;
use jeton_testkit::{
    BASIC, Endpoint, FailingClientStore, FailingIssuer, Fixture, INTERNAL_DETAIL, POST,
};
use std::net::SocketAddr;
use std::sync::Arc;
use support::{FORM, Server, basic, bounded, client};

/// The fixture engine (TLS not required) behind a [`Router`], over plain HTTP.
async fn fixture_server() -> (Server, Fixture) {
    let fixture = Fixture::new();
    let server = Server::router(Router::new(fixture.engine.clone())).await;
    (server, fixture)
}

/// A reqwest form POST `grant_type=client_credentials&scope=read` to `/token` as [`BASIC`]
/// with `secret`.
async fn basic_post(server: &Server, secret: &str) -> reqwest::Response {
    client()
        .post(server.url("/token"))
        .basic_auth(BASIC.id, Some(secret))
        .header("content-type", FORM)
        .body("grant_type=client_credentials&scope=read")
        .send()
        .await
        .expect("send")
}

fn raw_post(addr: SocketAddr, extra_headers: &str, body: &str) -> String {
    format!(
        "POST /token HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {FORM}\r\n\
         {extra_headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Runs `endpoint`'s shared table against `server` (a fixture engine) at `path`.
async fn run_table(server: &Server, endpoint: Endpoint, path: &'static str) {
    let max = Fixture::new().engine.max_body_bytes_for(endpoint.route());
    let addr = server.addr;
    let failures =
        tokio::task::spawn_blocking(move || conformance::run_for(endpoint, addr, path, max))
            .await
            .expect("runner");
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Runs `endpoint`'s shared table against a fixture [`Router`] at `path`.
async fn table_passes(endpoint: Endpoint, path: &'static str) {
    bounded(async {
        let (server, _fixture) = fixture_server().await;
        run_table(&server, endpoint, path).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_table_passes() {
    table_passes(Endpoint::Token, "/token").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc7662_2_1_introspection_conformance_table_passes() {
    table_passes(Endpoint::Introspection, "/introspect").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc7009_2_1_revocation_conformance_table_passes() {
    table_passes(Endpoint::Revocation, "/revoke").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc6749_3_2_token_endpoint_alone_serves_any_path_and_ignores_a_configured_query() {
    bounded(async {
        let fixture = Fixture::new();
        let server = Server::token_endpoint(token_endpoint(fixture.engine)).await;
        run_table(&server, Endpoint::Token, "/oauth/token?tenant=acme").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc6749_5_1_reqwest_basic_and_post_succeed_with_no_store() {
    bounded(async {
        let (server, _fixture) = fixture_server().await;
        let http = client();
        let basic = basic_post(&server, BASIC.secret).await;
        let post = http
            .post(server.url("/token"))
            .header("content-type", FORM)
            .body(format!(
                "grant_type=client_credentials&client_id={}&client_secret={}",
                POST.id, POST.secret
            ))
            .send()
            .await
            .expect("send");
        for (resp, scope) in [(basic, "read"), (post, "read")] {
            assert_eq!(resp.status(), 200);
            assert_eq!(resp.headers()["cache-control"], "no-store");
            assert_eq!(resp.headers()["pragma"], "no-cache");
            assert_eq!(resp.headers()["content-type"], "application/json");
            let json: serde_json::Value = resp.json().await.expect("json");
            assert_eq!(json["token_type"], "Bearer");
            assert_eq!(json["scope"], scope);
            assert!(json["access_token"].as_str().is_some_and(|t| !t.is_empty()));
            assert!(json.get("refresh_token").is_none());
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc6749_5_2_reqwest_wrong_secret_is_401_with_basic_challenge_and_no_store() {
    bounded(async {
        let (server, _fixture) = fixture_server().await;
        let resp = basic_post(&server, "not-the-secret").await;
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.headers()["www-authenticate"], "Basic realm=\"jeton\"");
        assert_eq!(resp.headers()["cache-control"], "no-store");
        assert_eq!(resp.headers()["pragma"], "no-cache");
        let json: serde_json::Value = resp.json().await.expect("json");
        assert_eq!(json["error"], "invalid_client");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc6749_3_2_reqwest_get_is_405_with_allow_post() {
    bounded(async {
        let (server, _fixture) = fixture_server().await;
        let resp = client()
            .get(server.url("/token"))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 405);
        assert_eq!(resp.headers()["allow"], "POST");
        assert_eq!(resp.headers()["cache-control"], "no-store");
    })
    .await;
}

/// A server whose engine uses a failing store or issuer.
async fn failing_server(store_fails: bool) -> Server {
    let tokens = Arc::new(MemoryTokenStore::new());
    let fixture = Fixture::new();
    let engine = if store_fails {
        Engine::builder(
            Arc::new(FailingClientStore),
            Arc::new(OpaqueIssuer::new(
                tokens,
                Arc::new(jeton_testkit::SeqRandom::new(1)),
            )),
        )
        .random(std::sync::Arc::new(jeton::SystemRandom::new()))
    } else {
        Engine::builder(fixture.clients.clone(), Arc::new(FailingIssuer))
            .random(std::sync::Arc::new(jeton::SystemRandom::new()))
    }
    .transport(jeton::Transport::Plaintext)
    .build()
    .expect("engine");
    Server::token_endpoint(token_endpoint(Arc::new(engine))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc6749_5_2_failing_store_or_issuer_is_500_server_error_without_detail() {
    bounded(async {
        for store_fails in [true, false] {
            let server = failing_server(store_fails).await;
            let resp = basic_post(&server, BASIC.secret).await;
            assert_eq!(resp.status(), 500);
            assert_eq!(resp.headers()["cache-control"], "no-store");
            assert_eq!(resp.headers()["pragma"], "no-cache");
            let body = resp.text().await.expect("body");
            assert!(!body.contains(INTERNAL_DETAIL), "{body}");
            for leak in ["hunter2", "db-primary", "5432", "storage", "issuer"] {
                assert!(!body.contains(leak), "{leak} in {body}");
            }
            let json: serde_json::Value = serde_json::from_str(&body).expect("json");
            assert_eq!(json["error"], "server_error");
        }
    })
    .await;
}

/// An engine that requires TLS, by the given transport.
async fn tls_server(transport: Transport) -> Server {
    let fixture = Fixture::with(|b| b.transport(transport));
    Server::token_endpoint(token_endpoint(fixture.engine)).await
}

async fn status_and_error(server: &Server, extra_headers: &str) -> (u16, String) {
    let resp = server
        .raw(raw_post(
            server.addr,
            &format!("{extra_headers}{}", basic(BASIC)),
            "grant_type=client_credentials&scope=read",
        ))
        .await;
    let error = resp
        .json()
        .and_then(|j| j["error"].as_str().map(str::to_owned))
        .unwrap_or_default();
    (resp.status, error)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9700_4_13_forwarded_proto_counts_only_from_a_trusted_proxy() {
    bounded(async {
        let https = "X-Forwarded-Proto: https\r\n";
        let trusted = tls_server(Transport::BehindProxy {
            trusted: vec!["127.0.0.1".parse().expect("ip")],
        })
        .await;
        assert_eq!(
            status_and_error(&trusted, https).await,
            (200, String::new())
        );
        let refused = (400, "invalid_request".to_owned());
        assert_eq!(status_and_error(&trusted, "").await, refused);
        assert_eq!(
            status_and_error(&trusted, "X-Forwarded-Proto: http\r\n").await,
            refused
        );
        assert_eq!(
            status_and_error(&trusted, &format!("{https}{https}")).await,
            refused
        );

        // The peer (127.0.0.1) is not the listed proxy: its X-Forwarded-Proto is ignored.
        let untrusted = tls_server(Transport::BehindProxy {
            trusted: vec!["192.0.2.10".parse().expect("ip")],
        })
        .await;
        assert_eq!(status_and_error(&untrusted, https).await, refused);

        // The default (no proxy, no TLS connection reported) never claims TLS, whatever the
        // headers say.
        let direct = tls_server(Transport::Direct).await;
        assert_eq!(status_and_error(&direct, https).await, refused);

        // The app terminates TLS itself.
        let tls = tls_server(Transport::Tls).await;
        assert_eq!(status_and_error(&tls, "").await, (200, String::new()));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc6749_5_2_malformed_chunked_framing_is_400_never_500() {
    bounded(async {
        let (server, _fixture) = fixture_server().await;
        let request = format!(
            "POST /token HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: {FORM}\r\n\
             {}Transfer-Encoding: chunked\r\n\r\nzz\r\nnot a chunk\r\n0\r\n\r\n",
            server.addr,
            basic(BASIC)
        );
        let resp = server.raw(request).await;
        assert_eq!(resp.status, 400);
    })
    .await;
}

mod direct {
    //! Calls `TokenEndpoint::handle` without a socket, for bodies no client can send.
    use super::*;
    use http_body::{Frame, SizeHint};
    use std::collections::VecDeque;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// A body that yields `chunks`, then fails (`fail`) or never ends, with a chosen size hint.
    struct OddBody {
        chunks: VecDeque<Bytes>,
        fail: bool,
        hint: SizeHint,
    }

    impl http_body::Body for OddBody {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            if let Some(chunk) = self.chunks.pop_front() {
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            } else if self.fail {
                Poll::Ready(Some(Err(std::io::Error::other("connection reset"))))
            } else {
                Poll::Pending
            }
        }
        fn size_hint(&self) -> SizeHint {
            self.hint
        }
    }

    /// Sends a form POST with this body to the fixture engine; returns status, no-store header
    /// and `error`.
    async fn answer(body: OddBody) -> (u16, bool, String) {
        let (status, no_store, json) = send(Fixture::new(), http::Method::POST, body).await;
        let error = json["error"].as_str().unwrap_or_default().to_owned();
        (status, no_store, error)
    }

    /// Sends a form request with this method and body to `fixture`'s token endpoint; returns
    /// status, no-store header and the JSON body.
    async fn send(
        fixture: Fixture,
        method: http::Method,
        body: OddBody,
    ) -> (u16, bool, serde_json::Value) {
        use http_body_util::BodyExt;
        let ep = token_endpoint(fixture.engine);
        let req = http::Request::builder()
            .method(method)
            .uri("/token")
            .header("content-type", FORM)
            .body(body)
            .expect("request");
        let resp = bounded(ep.handle(req, None)).await;
        let status = resp.status().as_u16();
        let no_store = resp.headers()["cache-control"] == "no-store";
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        (
            status,
            no_store,
            serde_json::from_slice(&body).expect("json"),
        )
    }

    /// A body declaring more than the limit that never yields a byte.
    fn declared_oversize() -> OddBody {
        OddBody {
            chunks: VecDeque::new(),
            fail: false,
            hint: SizeHint::with_exact(max() as u64 + 1),
        }
    }

    #[tokio::test]
    async fn rfc6749_3_2_get_with_oversize_body_is_405_without_reading() {
        let (status, no_store, json) =
            send(Fixture::new(), http::Method::GET, declared_oversize()).await;
        assert_eq!((status, no_store), (405, true));
        assert_eq!(json["error"], "invalid_request");
    }

    #[tokio::test]
    async fn rfc6749_3_2_tls_is_checked_before_body_size() {
        let fixture = Fixture::with(|b| b.transport(jeton::Transport::Direct));
        let (status, _, json) = send(fixture, http::Method::POST, declared_oversize()).await;
        assert_eq!(status, 400);
        assert_eq!(json["error_description"], "TLS is required");
    }

    fn max() -> usize {
        Fixture::new().engine.max_body_bytes()
    }

    const REFUSED: (u16, bool, &str) = (400, true, "invalid_request");

    fn refused(got: (u16, bool, String)) {
        assert_eq!((got.0, got.1, got.2.as_str()), REFUSED);
    }

    #[tokio::test]
    async fn rfc6749_5_2_body_read_error_is_invalid_request_not_500() {
        refused(
            answer(OddBody {
                chunks: VecDeque::from([Bytes::from_static(b"grant_type=")]),
                fail: true,
                hint: SizeHint::default(),
            })
            .await,
        );
    }

    #[tokio::test]
    async fn rfc6749_5_2_declared_oversize_body_is_refused_without_reading() {
        // The body never yields: only an answer given before reading can arrive.
        refused(answer(declared_oversize()).await);
    }

    #[tokio::test]
    async fn rfc6749_5_2_reading_stops_at_the_limit() {
        // More than the limit arrives without a declared length, then the body stalls: only an
        // adapter that stops reading at the limit can answer.
        let chunk = Bytes::from(vec![b'x'; max() / 2 + 1]);
        refused(
            answer(OddBody {
                chunks: VecDeque::from([chunk.clone(), chunk]),
                fail: false,
                hint: SizeHint::default(),
            })
            .await,
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc7523_rfc9449_key_and_dpop_rows_pass_over_http() {
    bounded(async {
        let server = Server::router(Router::new(Fixture::keyed().engine)).await;
        let addr = server.addr;
        let failures = tokio::task::spawn_blocking(move || conformance::run_keyed(addr, "/token"))
            .await
            .expect("runner");
        assert!(failures.is_empty(), "{failures:#?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9449_8_dpop_nonce_on_the_refusal_and_on_the_success() {
    bounded(async {
        let server = Server::router(Router::new(Fixture::keyed_with_nonces().engine)).await;
        jeton_testkit::http::dpop_nonce_round_trip(server.addr).await;
    })
    .await;
}

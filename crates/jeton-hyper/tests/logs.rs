//! What jeton-hyper logs. One test in its own binary: `tracing` caches callsite interest
//! process-wide, so a thread-local subscriber races with other tests hitting the same
//! callsites; a global subscriber in a single-test process does not.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use jeton_hyper::jeton::{Engine, encode_basic};
use jeton_hyper::{Router, TokenEndpoint, token_endpoint};
use jeton_testkit::http::Logs;
use jeton_testkit::{BASIC, FailingIssuer, Fixture, FixtureClient, INTERNAL_DETAIL, INTROSPECTOR};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Sends one form POST with this Basic secret for [`BASIC`]; returns status and JSON body.
async fn post(
    ep: &TokenEndpoint,
    secret: &str,
    peer: Option<SocketAddr>,
) -> (u16, serde_json::Value) {
    let req = http::Request::post("/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", encode_basic(BASIC.id, secret))
        .body(Full::new(Bytes::from_static(
            b"grant_type=client_credentials&scope=read",
        )))
        .expect("request");
    let resp = tokio::time::timeout(Duration::from_secs(30), ep.handle(req, peer))
        .await
        .expect("timed out");
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&body).expect("json"))
}

/// Sends `method` to `path` through `router` with `body` and Basic credentials of `client`;
/// returns the status.
async fn call(
    router: &Router,
    method: &str,
    path: &str,
    client: FixtureClient,
    body: String,
    peer: Option<SocketAddr>,
) -> u16 {
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", encode_basic(client.id, client.secret))
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    let resp = tokio::time::timeout(Duration::from_secs(30), router.handle(req, peer))
        .await
        .expect("timed out");
    resp.status().as_u16()
}

#[tokio::test]
async fn rfc6749_10_3_one_audit_event_per_request_and_no_secret_in_logs() {
    let logs = Logs::default();
    let writer = logs.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .finish(),
    )
    .expect("global subscriber");

    // Issued (info) and failed authentication (warn): one audit line each, with client id,
    // outcome word, status and peer; no secret, token or Authorization value.
    let fixture = Fixture::new();
    let ep = token_endpoint(fixture.engine.clone());
    let peer: SocketAddr = "127.0.0.1:40000".parse().expect("addr");
    let (status, json) = post(&ep, BASIC.secret, Some(peer)).await;
    assert_eq!(status, 200);
    let token = json["access_token"].as_str().expect("token").to_owned();
    let (status, _) = post(&ep, "guess-0123456789", Some(peer)).await;
    assert_eq!(status, 401);

    let text = logs.take(&[
        ("INFO", "outcome=\"issued\" status=200"),
        ("WARN", "outcome=\"auth_failed\" status=401"),
    ]);
    assert!(text.contains("reason=\"wrong_secret\""), "{text}");
    assert!(!text.contains("WrongSecret"), "Debug text in logs: {text}");
    for line in text.lines() {
        assert!(line.contains("jeton::audit"), "{line}");
        assert!(
            line.contains(&format!("client_id=\"{}\"", BASIC.id)),
            "{line}"
        );
        assert!(line.contains("peer=127.0.0.1:40000"), "{line}");
    }
    let good = encode_basic(BASIC.id, BASIC.secret);
    let bad = encode_basic(BASIC.id, "guess-0123456789");
    for secret in [
        BASIC.secret,
        "guess-0123456789",
        token.as_str(),
        good.trim_start_matches("Basic "),
        bad.trim_start_matches("Basic "),
    ] {
        assert!(!text.contains(secret), "secret in logs: {text}");
    }

    // Introspection and revocation through the router: one audit line each, naming the
    // endpoint, never the token. Public documents and unrouted paths are not audited.
    let router = Router::new(fixture.engine.clone());
    let form = |t: &str| format!("token={t}");
    let intro = call(
        &router,
        "POST",
        "/introspect",
        INTROSPECTOR,
        form(&token),
        Some(peer),
    );
    assert_eq!(intro.await, 200);
    let revoke = call(&router, "POST", "/revoke", BASIC, form(&token), Some(peer));
    assert_eq!(revoke.await, 200);
    let meta = "/.well-known/oauth-authorization-server";
    assert_eq!(
        call(&router, "GET", meta, BASIC, String::new(), None).await,
        200
    );
    assert_eq!(
        call(&router, "GET", "/nope", BASIC, String::new(), None).await,
        404
    );
    let text = logs.take(&[
        ("INFO", "endpoint=\"introspection\""),
        ("INFO", "endpoint=\"revocation\""),
    ]);
    assert!(
        text.contains("outcome=\"introspected\" status=200"),
        "{text}"
    );
    assert!(text.contains("outcome=\"revoked\" status=200"), "{text}");
    for secret in [BASIC.secret, INTROSPECTOR.secret, token.as_str()] {
        assert!(!text.contains(secret), "secret in logs: {text}");
    }

    // A server error: the audit event at error level, and the diagnostic with its cause (for
    // the application's logs only; the body has none of it).
    let fixture = Fixture::new(); // fresh clients for the failing issuer
    let engine = Engine::builder(fixture.clients.clone(), Arc::new(FailingIssuer))
        .random(std::sync::Arc::new(jeton::SystemRandom::new()))
        .transport(jeton::Transport::Plaintext)
        .build()
        .expect("engine");
    let ep = token_endpoint(Arc::new(engine));
    let (status, json) = post(&ep, BASIC.secret, None).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (500, Some("server_error"))
    );
    assert!(!json.to_string().contains(INTERNAL_DETAIL));
    let text = logs.take(&[
        ("ERROR", "outcome=\"server_error\" status=500"),
        ("ERROR", "jeton::diagnostic"),
    ]);
    assert!(text.contains(INTERNAL_DETAIL), "{text}");
    assert!(!text.contains(BASIC.secret), "{text}");
}

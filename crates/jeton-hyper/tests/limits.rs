//! Issue 9 over real HTTP: failed-authentication limits (429 for one key only) and a full
//! verification pool (503), each with `Retry-After` and a JSON `temporarily_unavailable` body.

mod support;

use jeton_hyper::jeton::{
    BoundedLimiter, LimiterConfig, Overloaded, Transport, VerifyExecutor, VerifyJob,
};
use jeton_hyper::{Jeton, Router};
use jeton_testkit::{BASIC, Fixture, FixtureClient, PBKDF2};
use std::sync::Arc;
use support::{FORM, Server, bounded, client};

/// POSTs a token request as `who` with `secret`, as if from `source` behind the trusted proxy.
async fn from(
    server: &Server,
    source: &str,
    who: FixtureClient,
    secret: &str,
) -> reqwest::Response {
    client()
        .post(server.url("/token"))
        .basic_auth(who.id, Some(secret))
        .header("content-type", FORM)
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-for", source)
        .body("grant_type=client_credentials&scope=read")
        .send()
        .await
        .expect("send")
}

async fn refusal(resp: reqwest::Response, status: u16) {
    assert_eq!(resp.status().as_u16(), status);
    let wait: u32 = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .expect("Retry-After in seconds");
    assert!(wait >= 1);
    let body: serde_json::Value = resp.json().await.expect("JSON body");
    assert_eq!(body["error"], "temporarily_unavailable");
}

#[tokio::test]
async fn rfc6749_2_3_1_one_key_is_throttled_and_nobody_else_is() {
    bounded(async {
        let fixture = Fixture::with(|b| {
            b.transport(Transport::BehindProxy {
                trusted: vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
            })
            .limiter(Arc::new(BoundedLimiter::new(
                [3; 32],
                LimiterConfig::default(),
            )))
        });
        let server = Server::router(Router::new(fixture.engine.clone())).await;
        let attacker = "198.51.100.1";
        // The default budget: 5 failures per (client id, source) per minute.
        for _ in 0..5 {
            let r = from(&server, attacker, BASIC, "wrong-guess-0123").await;
            assert_eq!(r.status().as_u16(), 401);
        }
        // The sixth, even with the right secret, is refused before any verification.
        refusal(
            from(&server, attacker, BASIC, "wrong-guess-0123").await,
            429,
        )
        .await;
        refusal(from(&server, attacker, BASIC, BASIC.secret).await, 429).await;
        // The same client from another address is not slowed: no lockout by knowing an id.
        let other = from(&server, "198.51.100.2", BASIC, BASIC.secret).await;
        assert_eq!(other.status().as_u16(), 200);
        // Another client from the attacker's address is not limited either (5 < 20 per source).
        let pbkdf2 = from(&server, attacker, PBKDF2, PBKDF2.secret).await;
        assert_eq!(pbkdf2.status().as_u16(), 200);
    })
    .await;
}

/// A verification pool with no room.
#[derive(Debug)]
struct Full;

#[async_trait::async_trait]
impl VerifyExecutor for Full {
    async fn run(&self, _: VerifyJob) -> Result<(), Overloaded> {
        Err(Overloaded::new())
    }
}

#[tokio::test]
async fn a_full_verification_pool_is_503_and_hmac_clients_are_not_affected() {
    bounded(async {
        let fixture = Fixture::with(|b| {
            b.transport(Transport::BehindProxy {
                trusted: vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
            })
        });
        let jeton = Jeton::new(fixture.engine.clone()).verify_pool(Arc::new(Full));
        let server = Server::router(Router::new(jeton)).await;
        // PBKDF2 verification needs the pool: refused at once.
        refusal(
            from(&server, "198.51.100.9", PBKDF2, PBKDF2.secret).await,
            503,
        )
        .await;
        // HMAC verification stays inline.
        let ok = from(&server, "198.51.100.9", BASIC, BASIC.secret).await;
        assert_eq!(ok.status().as_u16(), 200);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_9_5_a_slow_body_is_judged_when_it_completes() {
    bounded(jeton_testkit::http::slow_body_is_judged_when_complete(
        |engine, clock| async move {
            let jeton = Jeton::new(engine).clock(Arc::new(move || clock.now()));
            let server = Server::router(Router::new(jeton)).await;
            (server.addr, server)
        },
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc7662_rfc7009_an_over_long_token_is_judged_not_refused_for_its_size() {
    bounded(async {
        let server = Server::router(Router::new(Fixture::new().engine)).await;
        jeton_testkit::http::over_long_token_is_inactive_not_too_large(server.addr).await;
    })
    .await;
}

//! Every endpoint behind one `Router`, over real HTTP on 127.0.0.1: the metadata document is
//! fetched first, and every capability it advertises is exercised through the path of the URL
//! it advertises (issue 4; RFC 8414 §2, RFC 7662, RFC 7009). Malformed raw requests to the
//! introspection and revocation endpoints are in the shared conformance tables (`http.rs`).

mod support;

use jeton_hyper::Router;
use jeton_hyper::jeton::{
    AuthMethod, ClientId, ClientRecord, Endpoints, IssuerId, Scope, SecretVerifier, encode_basic,
};
use jeton_testkit::http::{no_store_json, post_form};
use jeton_testkit::{BASIC, Fixture, FixtureClient, INTROSPECTOR, ISSUER, POST, SeqRandom};
use serde_json::{Value, json};
use support::{FORM, Server, bounded, client};

const METADATA: &str = "/.well-known/oauth-authorization-server";

/// May introspect, with `client_secret_basic` or `client_secret_post` (the fixture's
/// [`INTROSPECTOR`] has Basic only).
const AUDITOR: FixtureClient = FixtureClient {
    id: "auditor",
    secret: "auditor-secret-0123456789",
};

/// The fixture engine, plus [`AUDITOR`], behind a router over plain HTTP.
async fn server() -> (Server, Fixture) {
    let fixture = Fixture::new();
    let verifier = SecretVerifier::hmac_sha256(AUDITOR.secret, &SeqRandom::new(9)).expect("rng");
    fixture.clients.put(
        ClientRecord::builder(ClientId::new(AUDITOR.id).expect("id"))
            .secret(verifier)
            .auth_methods([AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost])
            .scopes(Scope::parse("read").expect("scope"))
            .may_introspect(true)
            .build(),
    );
    let router = Router::new(fixture.engine.clone()).with_health("/healthz");
    (Server::router(router).await, fixture)
}

/// The metadata document, fetched over HTTP from `path`.
async fn metadata(server: &Server, path: &str) -> Value {
    let resp = client().get(server.url(path)).send().await.expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    resp.json().await.expect("json")
}

/// The path of the URL the metadata member `key` advertises.
fn advertised_path(meta: &Value, key: &str) -> String {
    let url = meta[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} not advertised"));
    Endpoints::path_of(url).to_owned()
}

/// The auth methods the metadata member `key` lists.
fn methods(meta: &Value, key: &str) -> Vec<String> {
    let list = meta[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} missing"));
    assert!(!list.is_empty(), "{key} is empty");
    list.iter()
        .map(|m| m.as_str().expect("method name").to_owned())
        .collect()
}

/// A form POST of `body` to `path`, authenticated as `as_client` with the RFC 8414 method
/// name `method`. A method this test cannot perform fails the test: an advertised method
/// must have a test.
async fn post(
    server: &Server,
    path: &str,
    method: &str,
    as_client: FixtureClient,
    body: &str,
) -> reqwest::Response {
    let req = client().post(server.url(path)).header("content-type", FORM);
    let req = match method {
        "client_secret_basic" => req
            .header(
                "authorization",
                encode_basic(as_client.id, as_client.secret),
            )
            .body(body.to_owned()),
        "client_secret_post" => req.body(format!(
            "{body}&client_id={}&client_secret={}",
            as_client.id, as_client.secret
        )),
        other => panic!("{other} is advertised but this test cannot exercise it"),
    };
    req.send().await.expect("send")
}

/// Status and JSON body.
async fn answer(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

/// Introspects `token` at `/introspect` as [`INTROSPECTOR`] (Basic).
async fn introspect_basic(server: &Server, token: &str) -> Value {
    introspect(
        server,
        "/introspect",
        "client_secret_basic",
        INTROSPECTOR,
        token,
    )
    .await
}

/// Asserts a 200 with an empty body and the no-store headers (RFC 7009 §2.2).
async fn assert_empty_200(resp: reqwest::Response) {
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["pragma"], "no-cache");
    assert!(resp.bytes().await.expect("body").is_empty());
}

/// Gets a `read` token for `as_client` at `path` with `method`.
async fn token(server: &Server, path: &str, method: &str, as_client: FixtureClient) -> String {
    let resp = post(
        server,
        path,
        method,
        as_client,
        "grant_type=client_credentials&scope=read",
    )
    .await;
    let (status, json) = no_store_json(resp).await;
    assert_eq!(status, 200, "{method}: {}", json["error"]);
    assert_eq!(json["token_type"], "Bearer");
    assert!(json.get("refresh_token").is_none());
    json["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// Introspects `token` at `path` as `as_client` with `method`; returns the JSON answer.
async fn introspect(
    server: &Server,
    path: &str,
    method: &str,
    as_client: FixtureClient,
    token: &str,
) -> Value {
    let resp = post(server, path, method, as_client, &format!("token={token}")).await;
    let (status, json) = no_store_json(resp).await;
    assert_eq!(status, 200, "{method}: {json}");
    json
}

/// The metadata members this test knows how to exercise. A new member fails the test until a
/// test exercises it (issue 4: every advertised capability has a test).
const KNOWN_MEMBERS: &[&str] = &[
    "issuer",
    "token_endpoint",
    "grant_types_supported",
    "response_types_supported",
    "token_endpoint_auth_methods_supported",
    "introspection_endpoint",
    "introspection_endpoint_auth_methods_supported",
    "revocation_endpoint",
    "revocation_endpoint_auth_methods_supported",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc8414_2_every_advertised_capability_works_through_its_advertised_path() {
    bounded(async {
        let (server, _fixture) = server().await;
        let meta = metadata(&server, METADATA).await;
        for key in meta.as_object().expect("object").keys() {
            assert!(
                KNOWN_MEMBERS.contains(&key.as_str()),
                "untested member {key}"
            );
        }
        assert_eq!(meta["issuer"], ISSUER);
        assert_eq!(meta["grant_types_supported"], json!(["client_credentials"]));
        assert_eq!(meta["response_types_supported"], json!([]));

        let token_path = advertised_path(&meta, "token_endpoint");
        let introspection_path = advertised_path(&meta, "introspection_endpoint");
        let revocation_path = advertised_path(&meta, "revocation_endpoint");
        let token_methods = methods(&meta, "token_endpoint_auth_methods_supported");
        let introspection_methods = methods(&meta, "introspection_endpoint_auth_methods_supported");
        let revocation_methods = methods(&meta, "revocation_endpoint_auth_methods_supported");

        // A fresh token for each pair of (token method, revocation method), so every
        // revocation method revokes a live token.
        for token_method in &token_methods {
            for revocation_method in &revocation_methods {
                let t = token(&server, &token_path, token_method, POST).await;

                // RFC 7662 §2.2: active, with the token's claims.
                for method in &introspection_methods {
                    let j = introspect(&server, &introspection_path, method, AUDITOR, &t).await;
                    assert_eq!(j["active"], true, "{method}");
                    assert_eq!(j["client_id"], POST.id);
                    assert_eq!(j["sub"], POST.id);
                    assert_eq!(j["scope"], "read");
                    assert_eq!(j["token_type"], "Bearer");
                    assert_eq!(j["iss"], ISSUER);
                    let (exp, iat) = (j["exp"].as_i64(), j["iat"].as_i64());
                    assert!(exp.zip(iat).is_some_and(|(e, i)| e > i), "{j}");
                }

                // RFC 7009 §2.2: revoked by its owner, 200 with an empty body.
                let resp = post(
                    &server,
                    &revocation_path,
                    revocation_method,
                    POST,
                    &format!("token={t}&token_type_hint=access_token"),
                )
                .await;
                assert_empty_200(resp).await;

                // RFC 7662 §2.2: a revoked token is exactly {"active":false}.
                for method in &introspection_methods {
                    let j = introspect(&server, &introspection_path, method, AUDITOR, &t).await;
                    assert_eq!(j, json!({ "active": false }), "{method}");
                }
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc7662_2_1_unauthenticated_or_unpermitted_introspection_is_401() {
    bounded(async {
        let (server, _fixture) = server().await;
        let t = token(&server, "/token", "client_secret_basic", BASIC).await;
        let wrong = FixtureClient {
            id: INTROSPECTOR.id,
            secret: "wrong-secret-0123456789",
        };
        for caller in [None, Some(wrong), Some(BASIC)] {
            let resp = post_form(&server.url("/introspect"), caller, &format!("token={t}")).await;
            assert!(
                resp.headers()["www-authenticate"]
                    .to_str()
                    .is_ok_and(|v| v.starts_with("Basic realm=")),
                "{caller:?}"
            );
            let (status, json) = no_store_json(resp).await;
            assert_eq!(
                (status, json["error"].as_str()),
                (401, Some("invalid_client"))
            );
            assert!(json.get("active").is_none(), "{json}");
        }
        // Still active for a caller that may introspect.
        let j = introspect_basic(&server, &t).await;
        assert_eq!(j["active"], true);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc7009_2_1_another_clients_token_is_refused_and_stays_active() {
    bounded(async {
        let (server, _fixture) = server().await;
        let t = token(&server, "/token", "client_secret_basic", BASIC).await;
        let resp = post_form(&server.url("/revoke"), Some(POST), &format!("token={t}")).await;
        let (status, json) = no_store_json(resp).await;
        assert_eq!(
            (status, json["error"].as_str()),
            (400, Some("unauthorized_client"))
        );
        let j = introspect_basic(&server, &t).await;
        assert_eq!(j["active"], true);
        assert_eq!(j["client_id"], BASIC.id);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc7009_2_2_unknown_token_is_200_empty_and_failed_authentication_is_401() {
    bounded(async {
        let (server, _fixture) = server().await;
        let body = "token=jt_never-issued-by-this-server";
        assert_empty_200(post_form(&server.url("/revoke"), Some(BASIC), body).await).await;
        // RFC 7009 §2.2.1: failed client authentication is invalid_client, not the 200.
        let resp = post_form(&server.url("/revoke"), None, body).await;
        let (status, json) = no_store_json(resp).await;
        assert_eq!(
            (status, json["error"].as_str()),
            (401, Some("invalid_client"))
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc8414_2_no_jwks_uri_for_opaque_tokens_and_the_jwks_path_is_404() {
    bounded(async {
        let (server, fixture) = server().await;
        let meta = metadata(&server, METADATA).await;
        assert!(meta.get("jwks_uri").is_none(), "{meta}");
        // The configured JWKS URL is routed, but the opaque issuer has no keys.
        let jwks = fixture.engine.endpoints().and_then(|e| e.jwks.clone());
        let path = Endpoints::path_of(jwks.as_deref().expect("jwks URL configured")).to_owned();
        assert_eq!(path, "/jwks.json");
        let resp = client().get(server.url(&path)).send().await.expect("send");
        assert_eq!(answer(resp).await, (404, json!({"error": "not_found"})));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc8414_3_metadata_answers_get_and_head_only() {
    bounded(async {
        let (server, _fixture) = server().await;
        let http = client();
        let get = http.get(server.url(METADATA)).send().await.expect("send");
        assert_eq!(get.headers()["cache-control"], "public, max-age=300");
        let len = get.bytes().await.expect("body").len();
        assert!(len > 0);

        // RFC 9110 §9.3.2: HEAD is GET without the content.
        let head = http.head(server.url(METADATA)).send().await.expect("send");
        assert_eq!(head.status(), 200);
        assert_eq!(head.headers()["content-length"], len.to_string().as_str());
        assert!(head.bytes().await.expect("body").is_empty());

        for method in [reqwest::Method::POST, reqwest::Method::DELETE] {
            let resp = http
                .request(method.clone(), server.url(METADATA))
                .send()
                .await
                .expect("send");
            assert_eq!(resp.headers()["allow"], "GET, HEAD", "{method}");
            let expected = (405, json!({"error": "method_not_allowed"}));
            assert_eq!(answer(resp).await, expected, "{method}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unrouted_paths_are_404_and_the_health_path_is_200() {
    bounded(async {
        let (server, _fixture) = server().await;
        let http = client();
        for path in [
            "/",
            "/nope",
            "/token/",
            "/TOKEN",
            "/.well-known/openid-configuration",
        ] {
            let resp = http.post(server.url(path)).send().await.expect("send");
            let expected = (404, json!({"error": "not_found"}));
            assert_eq!(answer(resp).await, expected, "{path}");
        }
        let resp = http.get(server.url("/healthz")).send().await.expect("send");
        assert_eq!(resp.headers()["content-type"], "application/json");
        assert_eq!(answer(resp).await, (200, json!({"status": "ok"})));
        let resp = http
            .post(server.url("/healthz"))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 405);

        // No health path unless asked for.
        let fixture = Fixture::new();
        let plain = Server::router(Router::new(fixture.engine)).await;
        let resp = http.get(plain.url("/healthz")).send().await.expect("send");
        assert_eq!(resp.status(), 404);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc8414_3_well_known_path_is_inserted_before_the_issuer_path() {
    bounded(async {
        let issuer = IssuerId::new("https://as.example.com/tenant/a").expect("issuer");
        let fixture = Fixture::with(|b| {
            b.transport(jeton::Transport::Plaintext)
                .endpoints(Endpoints::under(&issuer))
                .issuer(issuer)
        });
        let server = Server::router(Router::new(fixture.engine)).await;
        let meta = metadata(&server, &format!("{METADATA}/tenant/a")).await;
        assert_eq!(meta["issuer"], "https://as.example.com/tenant/a");
        let token_path = advertised_path(&meta, "token_endpoint");
        assert_eq!(token_path, "/tenant/a/token");
        token(&server, &token_path, "client_secret_basic", BASIC).await;
        // The root metadata path belongs to another issuer.
        let resp = client()
            .get(server.url(METADATA))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 404);
    })
    .await;
}

//! A JWT-issuing engine behind the Router over real HTTP: metadata advertises `jwks_uri`, the
//! JWKS is served, issued tokens verify against the served keys, and introspection and
//! revocation work for JWTs (RFC 9068, RFC 8414, RFC 7662, RFC 7009).

mod support;

use jeton::{
    Algorithm, BearerValidator, Engine, IssuerId, JwtIssuer, KeySet, Resource, Scope, SigningKey,
};
use jeton_hyper::Router;
use jeton_testkit::{ALL, FixtureClient, INTROSPECTOR, ISSUER, fixture_clients};
use std::sync::Arc;
use support::{FORM, Server, bounded, client};

const AUD: &str = "https://api.example.com/";

fn jwt_router(alg: Algorithm) -> Router {
    let clients =
        Arc::new(jeton_testkit::jeton_memory::MemoryClientStore::with_clients(fixture_clients()));
    let issuer = IssuerId::new(ISSUER).unwrap();
    let keys = KeySet::new(SigningKey::generate(alg).unwrap());
    let jwt = JwtIssuer::builder(issuer.clone(), keys, Arc::new(jeton::SystemRandom::new()))
        .revocation_list(Arc::new(
            jeton_testkit::jeton_memory::MemoryRevocationList::new(),
        ))
        .build()
        .unwrap();
    let engine = Engine::builder(clients, Arc::new(jwt))
        .default_audience([Resource::new(AUD).unwrap()])
        .random(std::sync::Arc::new(jeton::SystemRandom::new()))
        .issuer(issuer)
        .transport(jeton::Transport::Plaintext)
        .build()
        .unwrap();
    Router::new(Arc::new(engine))
}

async fn form(server: &Server, path: &str, who: FixtureClient, body: String) -> reqwest::Response {
    client()
        .post(server.url(path))
        .header("authorization", jeton::encode_basic(who.id, who.secret))
        .header("content-type", FORM)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn rfc9068_jwt_engine_over_http_end_to_end() {
    bounded(async {
        for alg in [Algorithm::Es256, Algorithm::EdDsa] {
            let server = Server::router(jwt_router(alg)).await;
            let http = client();
            let meta: serde_json::Value = http
                .get(server.url("/.well-known/oauth-authorization-server"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(meta["issuer"], ISSUER);
            let jwks_uri = meta["jwks_uri"]
                .as_str()
                .expect("jwks_uri advertised for JWTs");
            let path = jeton::Endpoints::path_of(jwks_uri).to_owned();
            let r = http.get(server.url(&path)).send().await.unwrap();
            assert_eq!(r.status(), 200);
            let jwks = jeton::Jwks::from_json(&r.bytes().await.unwrap()).unwrap();
            assert_eq!(jwks.len(), 1);

            let r = form(
                &server,
                "/token",
                ALL,
                "grant_type=client_credentials".into(),
            )
            .await;
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers()["cache-control"], "no-store");
            let body: serde_json::Value = r.json().await.unwrap();
            let token = body["access_token"].as_str().unwrap().to_owned();
            assert_eq!(token.split('.').count(), 3);

            // Verifies offline against the served key set.
            let v = BearerValidator::builder(ISSUER, AUD, jwks).build().unwrap();
            let claims = v
                .validate_jwt(
                    &token,
                    jeton::time::OffsetDateTime::now_utc(),
                    &Scope::parse("read").unwrap(),
                )
                .expect("valid JWT");
            assert_eq!(claims.client_id, "all-client");
            let jti = claims.jti.clone().expect("jti");

            // Introspection sees it active with its jti; revocation makes it inactive.
            let r = form(
                &server,
                "/introspect",
                INTROSPECTOR,
                format!("token={token}"),
            )
            .await;
            let i: serde_json::Value = r.json().await.unwrap();
            assert_eq!(i["active"], true, "{alg:?}");
            assert_eq!(i["jti"], jti.as_str());
            assert_eq!(i["aud"], AUD);
            let r = form(&server, "/revoke", ALL, format!("token={token}")).await;
            assert_eq!(r.status(), 200);
            let r = form(
                &server,
                "/introspect",
                INTROSPECTOR,
                format!("token={token}"),
            )
            .await;
            assert_eq!(r.text().await.unwrap(), r#"{"active":false}"#);
        }
    })
    .await;
}

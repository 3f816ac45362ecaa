//! The remote API over real HTTP against a jeton in another server (jeton-axum on 127.0.0.1:0):
//! the resource-server rows that apply to a remote resource server, for both token formats,
//! and `RemoteIntrospector` against the jeton's real introspection endpoint.

use axum::Router;
use example_remote_api::{Settings, app};
use jeton_axum::jeton::time::Duration;
use jeton_axum::jeton::{
    Algorithm, Engine, Introspector, IssuerId, JwtIssuer, KeySet, OpaqueIssuer, Resource,
    SigningKey, TokenIssuer, Transport,
};
use jeton_introspect::RemoteIntrospector;
use jeton_memory::{MemoryClientStore, MemoryRevocationList, MemoryTokenStore};
use jeton_testkit::{BASIC, FixtureClient, INTROSPECTOR, RESOURCE, SeqRandom, fixture_clients};
use std::net::SocketAddr;
use std::sync::Arc;

const API: &str = "https://api.example.com/";

struct Jeton {
    base: String,
    jwt: Option<Arc<JwtIssuer>>,
    server: tokio::task::JoinHandle<()>,
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        // No pooled connections: a stopped jeton must look stopped.
        .pool_max_idle_per_host(0)
        .timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn serve(app: Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let make = app.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, make).await.unwrap();
    });
    (base, server)
}

/// A jeton issuing `jwt` or opaque tokens, its issuer identifier its real address.
async fn jeton(jwt: bool) -> Jeton {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let rng = Arc::new(SeqRandom::new(if jwt { 21 } else { 22 }));
    let (issuer, jwt): (Arc<dyn TokenIssuer>, _) = if jwt {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let jwt = JwtIssuer::builder(IssuerId::new(&base).unwrap(), KeySet::new(key), rng)
            .revocation_list(Arc::new(MemoryRevocationList::new()))
            .build()
            .unwrap();
        let jwt = Arc::new(jwt);
        (jwt.clone(), Some(jwt))
    } else {
        let store = Arc::new(MemoryTokenStore::new());
        (Arc::new(OpaqueIssuer::new(store, rng)), None)
    };
    let clients = Arc::new(MemoryClientStore::with_clients(fixture_clients()));
    let engine = Engine::builder(clients, issuer)
        .random(Arc::new(SeqRandom::new(23)))
        .issuer(IssuerId::new(&base).unwrap())
        .default_audience([Resource::new(API).unwrap()])
        .transport(Transport::Plaintext)
        .build()
        .unwrap();
    let app: Router = jeton_axum::router(Arc::new(engine));
    let server = tokio::spawn(async move {
        let make = app.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, make).await.unwrap();
    });
    Jeton { base, jwt, server }
}

fn settings(jeton: &Jeton, secret: &str, cache_ttl: Duration) -> Settings {
    Settings {
        issuer: jeton.base.clone(),
        audience: API.to_owned(),
        client_id: INTROSPECTOR.id.to_owned(),
        client_secret: secret.to_owned(),
        cache_ttl,
        scope: "read".to_owned(),
    }
}

async fn token(jeton: &Jeton, client: FixtureClient, scope: Option<&str>) -> String {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend(scope.map(|s| ("scope", s)));
    let resp = http()
        .post(format!("{}/token", jeton.base))
        .basic_auth(client.id, Some(client.secret))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn revoke(jeton: &Jeton, token: &str) {
    let resp = http()
        .post(format!("{}/revoke", jeton.base))
        .basic_auth(RESOURCE.id, Some(RESOURCE.secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// The status, `WWW-Authenticate` and body of `GET /api/orders` with `token`.
async fn orders(api: &str, token: Option<&str>) -> (u16, String, String) {
    let mut req = http().get(format!("{api}/api/orders"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, challenge, resp.text().await.unwrap())
}

/// The rows every format answers alike: valid, no token, wrong scope, unknown token.
async fn rows(jeton: &Jeton, api: &str) {
    let format = if jeton.jwt.is_some() { "jwt" } else { "opaque" };
    let valid = token(jeton, RESOURCE, None).await;
    let (status, _, body) = orders(api, Some(&valid)).await;
    assert_eq!(status, 200, "{format}");
    assert!(body.contains(RESOURCE.id), "{body}");
    let (status, challenge, body) = orders(api, None).await;
    assert_eq!(
        (status, challenge.as_str()),
        (401, "Bearer realm=\"jeton\""),
        "{format}"
    );
    assert!(body.is_empty());
    let write = token(jeton, BASIC, Some("write")).await;
    let (status, challenge, _) = orders(api, Some(&write)).await;
    assert_eq!(status, 403, "{format}");
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"read\""), "{challenge}");
    let (status, challenge, _) = orders(api, Some("jt_not-a-token")).await;
    assert_eq!(status, 401, "{format}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opaque_tokens_are_introspected_and_revocations_seen() {
    let jeton = jeton(false).await;
    let settings = settings(&jeton, INTROSPECTOR.secret, Duration::seconds(30));
    let (api, api_server) = serve(app(&settings, http()).await.unwrap()).await;
    rows(&jeton, &api).await;
    // revoked before its first use, so not cached: 401 at once.
    let fresh = token(&jeton, RESOURCE, None).await;
    revoke(&jeton, &fresh).await;
    let (status, challenge, _) = orders(&api, Some(&fresh)).await;
    assert_eq!(status, 401);
    assert!(challenge.contains("error=\"invalid_token\""));
    api_server.abort();

    // Cache off: a token seen active, then revoked, is refused at the next request.
    let settings = self::settings(&jeton, INTROSPECTOR.secret, Duration::ZERO);
    let (api, api_server) = serve(app(&settings, http()).await.unwrap()).await;
    let t = token(&jeton, RESOURCE, None).await;
    assert_eq!(orders(&api, Some(&t)).await.0, 200);
    revoke(&jeton, &t).await;
    assert_eq!(orders(&api, Some(&t)).await.0, 401);
    api_server.abort();
    jeton.server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwts_are_verified_with_the_remote_jwks_and_rotations_picked_up() {
    let jeton = jeton(true).await;
    let settings = settings(&jeton, INTROSPECTOR.secret, Duration::seconds(30));
    let (api, api_server) = serve(app(&settings, http()).await.unwrap()).await;
    rows(&jeton, &api).await;

    // Rotation at the jeton: a token signed with the new key names an unknown kid, the API
    // refetches the JWKS once and accepts it.
    let jwt = jeton.jwt.as_ref().unwrap();
    let old = jwt.keys().active().verifying_key().clone();
    let next = SigningKey::generate(Algorithm::Es256).unwrap();
    jwt.replace_keys(KeySet::new(next).with_verification_key(old).unwrap());
    let rotated = token(&jeton, RESOURCE, None).await;
    assert_eq!(orders(&api, Some(&rotated)).await.0, 200);

    // A revoked JWT is verified offline: a remote API does not see the revocation before the
    // token's `exp` (documented; introspect JWTs too if that matters).
    revoke(&jeton, &rotated).await;
    assert_eq!(orders(&api, Some(&rotated)).await.0, 200);

    // The jeton down: JWTs still verify offline (keys already held).
    jeton.server.abort();
    let _ = jeton.server.await;
    assert_eq!(orders(&api, Some(&rotated)).await.0, 200);
    api_server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_introspector_against_a_real_jeton() {
    let jeton = jeton(false).await;
    let url = format!("{}/introspect", jeton.base);
    let remote = RemoteIntrospector::new(http(), &url, INTROSPECTOR.id, INTROSPECTOR.secret);
    let t = token(&jeton, RESOURCE, None).await;
    let claims = remote.introspect(&t).await.unwrap().expect("active");
    assert_eq!(claims.client_id.as_str(), RESOURCE.id);
    assert_eq!(
        remote.introspect("jt_unknown").await.unwrap(),
        None,
        "inactive"
    );

    // Wrong introspection credentials: an error, and the API answers 500 with nothing inside.
    let wrong = RemoteIntrospector::new(http(), &url, INTROSPECTOR.id, "wrong-secret-0123");
    assert!(wrong.introspect(&t).await.is_err());
    let bad = settings(&jeton, "wrong-secret-0123", Duration::seconds(30));
    let (api, api_server) = serve(app(&bad, http()).await.unwrap()).await;
    let (status, challenge, body) = orders(&api, Some(&t)).await;
    assert_eq!((status, challenge.as_str(), body.as_str()), (500, "", ""));

    // The jeton down: the same 500, nothing inside.
    jeton.server.abort();
    let _ = jeton.server.await;
    assert!(remote.introspect("jt_other").await.is_err());
    let (status, challenge, body) = orders(&api, Some(&t)).await;
    assert_eq!((status, challenge.as_str(), body.as_str()), (500, "", ""));
    api_server.abort();
}

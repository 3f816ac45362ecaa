//! The shared resource-server table over real HTTP: a protected route behind
//! `AccessTokenLayer` and one with the `ValidatedToken` extractor alone, for JWTs and opaque
//! tokens from the engine in the same process; the `oauth2` crate's token accepted; a router
//! with state.

use axum::extract::State;
use axum::routing::get;
use axum::{Extension, Router};
use jeton_axum::{AccessTokenLayer, ValidatedToken, router, token_endpoint};
use jeton_testkit::http::bounded;
use jeton_testkit::resource::{self, EXTRACTED, PROTECTED, ResourceFixture};
use std::net::SocketAddr;
use tokio::task::JoinHandle;

struct Server(JoinHandle<()>);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn serve(app: Router) -> (String, Server) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local addr");
    listener.set_nonblocking(true).expect("nonblocking");
    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, service).await;
    });
    (format!("http://{addr}"), Server(task))
}

async fn whoami(ValidatedToken(claims): ValidatedToken) -> String {
    claims.client_id.to_string()
}

/// The app of the table, with a state of its own (a `&'static str`) to show the extractor and
/// `router` work with any state.
fn app(fixture: &ResourceFixture) -> Router {
    let protected = Router::new()
        .route(PROTECTED, get(whoami))
        .route_layer(AccessTokenLayer::new(fixture.require.clone()));
    let extracted = Router::new()
        .route(EXTRACTED, get(whoami))
        .layer(Extension(fixture.require.clone()));
    Router::new()
        .route(
            "/state",
            get(|State(s): State<&'static str>| async move { s }),
        )
        .route("/oauth/token", token_endpoint(fixture.engine.clone()))
        .merge(protected)
        .merge(extracted)
        // The engine's endpoints (`/token` among them) merged into a router with state.
        .merge(router(fixture.engine.clone()))
        .with_state("app state")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc6750_resource_table_through_the_layer_and_the_extractor() {
    bounded(async {
        resource::resource_tables_pass(|fixture| serve(app(fixture))).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_routes_are_closed_and_the_app_keeps_its_state() {
    bounded(async {
        let fixture = ResourceFixture::new(jeton_axum::jeton::TokenFormat::Jwt);
        let (base, _server) = serve(app(&fixture));
        resource::protected_route_is_closed(&base).await;
        let state = jeton_testkit::http::client()
            .get(format!("{base}/state"))
            .send()
            .await
            .expect("send");
        assert_eq!(state.text().await.expect("body"), "app state");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interop_a_token_from_the_oauth2_crate_is_accepted() {
    bounded(async {
        for format in [
            jeton_axum::jeton::TokenFormat::Jwt,
            jeton_axum::jeton::TokenFormat::Opaque,
        ] {
            let fixture = ResourceFixture::new(format);
            let (base, _server) = serve(app(&fixture));
            resource::oauth2_crate_token_is_accepted(&base).await;
        }
    })
    .await;
}

/// The issuer of [`nested_app`]'s engine: its token endpoint is `…/auth/token`.
const AUTH_ISSUER: &str = "https://as.example.com/auth";

/// An app whose routes live under `Router::nest`, which strips the prefix from the request URI
/// the inner routers see: the token endpoint at `/auth/token`, a route behind the layer at
/// `/api/orders`, one with the extractor alone at `/ext/orders`.
fn nested_app() -> Router {
    use jeton_axum::jeton::{Endpoints, IssuerId, RequireScope, Resource, Scope, Transport};
    let issuer = IssuerId::new(AUTH_ISSUER).expect("issuer");
    let engine = jeton_testkit::Fixture::with(|b| {
        b.issuer(issuer.clone())
            .endpoints(Endpoints::under(&issuer))
            .transport(Transport::Plaintext)
            .default_audience([Resource::new(resource::API).expect("api")])
            .replay_store(std::sync::Arc::new(
                jeton_testkit::jeton_memory::MemoryReplayStore::with_capacity(64),
            ))
    })
    .engine;
    let validator = engine.validator().build().expect("validator");
    let require = RequireScope::new(
        std::sync::Arc::new(validator),
        Scope::parse(resource::API_SCOPE).expect("scope"),
    )
    .external_url(resource::API_BASE);
    let layered = Router::new()
        .route("/orders", get(whoami))
        .route_layer(AccessTokenLayer::new(require.clone()));
    let extracted = Router::new()
        .route("/orders", get(whoami))
        .layer(Extension(require));
    Router::new()
        .nest(
            "/auth",
            Router::new().route("/token", token_endpoint(engine)),
        )
        .nest("/api", layered)
        .nest("/ext", extracted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9449_4_3_under_a_nested_router_proofs_name_the_url_the_client_called() {
    use jeton_testkit::{RESOURCE, dpop_proof, dpop_proof_for_token};
    bounded(async {
        let (base, _server) = serve(nested_app());
        let http = jeton_testkit::http::client();
        let now = jeton_axum::jeton::time::OffsetDateTime::now_utc().unix_timestamp();
        let token_request = |htu: &str, jti: &str| {
            http.post(format!("{base}/auth/token"))
                .basic_auth(RESOURCE.id, Some(RESOURCE.secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("dpop", dpop_proof("POST", htu, jti, now))
                .body("grant_type=client_credentials")
                .send()
        };
        // The token endpoint's htu is its configured URL, the one the client called.
        let stripped = token_request("https://as.example.com/token", "t-stripped")
            .await
            .expect("send");
        assert_eq!(stripped.status(), 400);
        let resp = token_request(&format!("{AUTH_ISSUER}/token"), "t-full")
            .await
            .expect("send");
        assert_eq!(resp.status(), 200);
        let json: serde_json::Value = resp.json().await.expect("json");
        assert_eq!(json["token_type"], "DPoP", "{json}");
        let token = json["access_token"].as_str().expect("token");

        // At the API: the URL the client called, prefix included, through the layer and
        // through the extractor alone; a proof for the URL the nested router sees is refused.
        for group in ["/api", "/ext"] {
            let call = |htu: String, jti: String| {
                http.get(format!("{base}{group}/orders"))
                    .header("authorization", format!("DPoP {token}"))
                    .header("dpop", dpop_proof_for_token("GET", &htu, &jti, now, token))
                    .send()
            };
            let inner = format!("{}/orders", resource::API_BASE);
            let resp = call(inner, format!("{group}-inner")).await.expect("send");
            assert_eq!(resp.status(), 401, "{group}: the stripped URL");
            let full = format!("{}{group}/orders", resource::API_BASE);
            let resp = call(full, format!("{group}-full")).await.expect("send");
            assert_eq!(resp.status(), 200, "{group}: the URL the client called");
            assert_eq!(resp.text().await.expect("body"), RESOURCE.id);
        }
    })
    .await;
}

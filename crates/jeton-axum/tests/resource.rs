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

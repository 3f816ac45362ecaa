//! jeton-axum over real sockets: `axum::serve` on 127.0.0.1:0 with connect info, driven by the
//! shared raw-HTTP conformance tables of the three form endpoints and the shared scenarios of
//! `jeton_testkit::http`. Each test is bounded by `http::bounded` (60 s).

use axum::Router;
use jeton_axum::jeton::Engine;
use jeton_axum::{router, token_endpoint};
use jeton_testkit::http::{self as scenario, bounded};
use jeton_testkit::{Endpoint, Fixture};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// `app` served on an ephemeral loopback port (peer addresses from `ConnectInfo`); stops when
/// dropped.
struct Server {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    fn start(app: Router) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, service).await;
        });
        Self { addr, task }
    }

    /// Every endpoint of `engine` over plain HTTP.
    fn router(engine: Arc<Engine>) -> Self {
        Self::start(router(engine))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc6749_rfc7662_rfc7009_conformance_tables_pass_on_the_engines_paths() {
    bounded(async {
        let server = Server::router(Fixture::new().engine);
        scenario::conformance_tables_pass(server.addr).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc6749_3_2_token_endpoint_on_an_app_route_ignores_a_configured_query() {
    bounded(async {
        let endpoint = token_endpoint(Fixture::new().engine);
        let server = Server::start(Router::new().route("/oauth/token", endpoint));
        let path = "/oauth/token?tenant=acme";
        scenario::conformance_table_passes(server.addr, Endpoint::Token, path).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc8414_3_metadata_then_token_introspect_revoke_introspect() {
    bounded(async {
        let server = Server::router(Fixture::new().engine);
        scenario::metadata_and_round_trip(server.addr).await;
        scenario::documents_are_read_only(server.addr).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc6749_5_2_bodies_refused_in_the_cores_order_never_500() {
    bounded(async {
        let server = Server::router(Fixture::new().engine);
        scenario::get_with_oversize_body_is_405(server.addr, "/token").await;
        scenario::malformed_chunked_body_is_400(server.addr, "/token").await;
        let failing = Server::router(scenario::failing_store_engine());
        scenario::failing_store_is_500_without_detail(failing.addr, "/token").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9700_4_13_forwarded_proto_counts_only_from_a_trusted_proxy() {
    bounded(scenario::forwarded_proto_counts_only_from_a_trusted_proxy(
        |engine| {
            let server = Server::start(router(engine));
            (server.addr, server)
        },
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_9_5_a_slow_body_is_judged_when_it_completes() {
    bounded(scenario::slow_body_is_judged_when_complete(
        |engine, clock| async move {
            let jeton = jeton_axum::Jeton::new(engine).clock(Arc::new(move || clock.now()));
            let server = Server::start(router(jeton));
            (server.addr, server)
        },
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc7662_rfc7009_an_over_long_token_is_judged_not_refused_for_its_size() {
    bounded(async {
        let server = Server::router(Fixture::new().engine);
        scenario::over_long_token_is_inactive_not_too_large(server.addr).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc7523_rfc9449_key_and_dpop_rows_pass_over_http() {
    bounded(async {
        let server = Server::router(Fixture::keyed().engine);
        scenario::key_table_passes(server.addr).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9449_8_dpop_nonce_on_the_refusal_and_on_the_success() {
    bounded(async {
        let server = Server::router(Fixture::keyed_with_nonces().engine);
        scenario::dpop_nonce_round_trip(server.addr).await;
    })
    .await;
}

//! jeton-actix over real sockets: an actix-web `HttpServer` on 127.0.0.1:0 (one worker),
//! driven by the shared raw-HTTP conformance tables of the three form endpoints and the shared
//! scenarios of `jeton_testkit::http`. Each test is bounded by `http::bounded` (60 s).

use actix_web::dev::ServerHandle;
use actix_web::web::ServiceConfig;
use actix_web::{App, HttpServer};
use jeton_actix::jeton::Engine;
use jeton_actix::{configure, token_endpoint};
use jeton_testkit::http::{self as scenario, bounded};
use jeton_testkit::{Endpoint, Fixture};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

/// An actix-web server on an ephemeral loopback port, one worker, no signal handling; told to
/// stop when dropped (and gone with the test's runtime in any case).
struct Server {
    addr: SocketAddr,
    handle: ServerHandle,
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl Server {
    /// Serves the app that `app` configures.
    fn start(app: impl Fn(&mut ServiceConfig) + Clone + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let server = HttpServer::new(move || App::new().configure(app.clone()))
            .workers(1)
            .disable_signals()
            .shutdown_timeout(1)
            .listen(listener)
            .expect("listen")
            .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self { addr, handle }
    }

    /// Every endpoint of `engine` over plain HTTP.
    fn router(engine: Arc<Engine>) -> Self {
        Self::start(configure(engine))
    }
}

#[actix_web::test]
async fn rfc6749_rfc7662_rfc7009_conformance_tables_pass_on_the_engines_paths() {
    bounded(async {
        let server = Server::router(Fixture::new().engine);
        scenario::conformance_tables_pass(server.addr).await;
    })
    .await;
}

#[actix_web::test]
async fn rfc6749_3_2_token_endpoint_on_an_app_path_ignores_a_configured_query() {
    bounded(async {
        let engine = Fixture::new().engine;
        let server = Server::start(move |cfg: &mut ServiceConfig| {
            let route = token_endpoint(engine.clone());
            cfg.route("/oauth/token", route);
        });
        let path = "/oauth/token?tenant=acme";
        scenario::conformance_table_passes(server.addr, Endpoint::Token, path).await;
    })
    .await;
}

#[actix_web::test]
async fn rfc8414_3_metadata_then_token_introspect_revoke_introspect() {
    bounded(async {
        let server = Server::router(Fixture::new().engine);
        scenario::metadata_and_round_trip(server.addr).await;
        scenario::documents_are_read_only(server.addr).await;
    })
    .await;
}

#[actix_web::test]
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

#[actix_web::test]
async fn rfc9700_4_13_forwarded_proto_counts_only_from_a_trusted_proxy() {
    bounded(scenario::forwarded_proto_counts_only_from_a_trusted_proxy(
        |engine| {
            let server = Server::start(configure(engine));
            (server.addr, server)
        },
    ))
    .await;
}

#[actix_web::test]
async fn issue_9_5_a_slow_body_is_judged_when_it_completes() {
    bounded(scenario::slow_body_is_judged_when_complete(
        |engine, clock| async move {
            let jeton = jeton_actix::Jeton::new(engine).clock(Arc::new(move || clock.now()));
            let server = Server::start(configure(jeton));
            (server.addr, server)
        },
    ))
    .await;
}

#[actix_web::test]
async fn rfc7662_rfc7009_an_over_long_token_is_judged_not_refused_for_its_size() {
    bounded(async {
        let server = Server::router(Fixture::new().engine);
        scenario::over_long_token_is_inactive_not_too_large(server.addr).await;
    })
    .await;
}

#[actix_web::test]
async fn rfc7523_rfc9449_key_and_dpop_rows_pass_over_http() {
    bounded(async {
        let server = Server::router(Fixture::keyed().engine);
        scenario::key_table_passes(server.addr).await;
    })
    .await;
}

#[actix_web::test]
async fn rfc9449_8_dpop_nonce_on_the_refusal_and_on_the_success() {
    bounded(async {
        let server = Server::router(Fixture::keyed_with_nonces().engine);
        scenario::dpop_nonce_round_trip(server.addr).await;
    })
    .await;
}

//! What jeton-actix logs, over real HTTP. One test in its own binary: `tracing` caches callsite
//! interest process-wide, so the capturing subscriber is global.

use actix_web::{App, HttpServer};
use jeton_actix::configure;
use jeton_actix::jeton::Engine;
use jeton_testkit::Fixture;
use jeton_testkit::http::{self as scenario, bounded};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

/// Serves every endpoint of `engine` on one worker until the test's runtime ends.
fn serve(engine: Arc<Engine>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let app = configure(engine);
    let server = HttpServer::new(move || App::new().configure(app.clone()))
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
    actix_web::rt::spawn(server);
    addr
}

#[actix_web::test]
async fn rfc6749_10_3_one_audit_event_per_request_and_no_secret_in_logs() {
    let logs = scenario::capture_logs();
    bounded(async {
        let addr = serve(Fixture::new().engine);
        let failing = serve(scenario::failing_store_engine());
        scenario::one_audit_event_per_request_and_no_secret_in_logs(addr, failing, &logs).await;
    })
    .await;
}

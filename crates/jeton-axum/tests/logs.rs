//! What jeton-axum logs, over real HTTP. One test in its own binary: `tracing` caches callsite
//! interest process-wide, so the capturing subscriber is global.

use jeton_axum::router;
use jeton_testkit::Fixture;
use jeton_testkit::http::{self as scenario, bounded};
use std::net::SocketAddr;

fn serve(app: axum::Router) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local addr");
    listener.set_nonblocking(true).expect("nonblocking");
    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc6749_10_3_one_audit_event_per_request_and_no_secret_in_logs() {
    let logs = scenario::capture_logs();
    bounded(async {
        let addr = serve(router(Fixture::new().engine));
        let engine = scenario::failing_store_engine();
        let failing = serve(router(engine));
        scenario::one_audit_event_per_request_and_no_secret_in_logs(addr, failing, &logs).await;
    })
    .await;
}

//! What the HTTP test binaries share: a hyper server on 127.0.0.1:0, clients with timeouts.
#![allow(dead_code)] // each test binary uses a part of it

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use jeton_hyper::{Router, RouterService, TokenEndpoint};
use jeton_testkit::FixtureClient;
use jeton_testkit::conformance::{self, RawResponse};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Every test finishes within this, or fails.
pub(crate) const TEST_TIMEOUT: Duration = Duration::from_secs(60);
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const FORM: &str = "application/x-www-form-urlencoded";

pub(crate) async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(TEST_TIMEOUT, f)
        .await
        .expect("test timed out")
}

/// A hyper server on an ephemeral loopback port; stops accepting when dropped.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Serves each connection with the service `make` builds for its peer.
    async fn start(make: impl Fn(Option<SocketAddr>) -> RouterService + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                let service = make(Some(peer));
                tokio::spawn(async move {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, task }
    }

    pub(crate) async fn router(router: Router) -> Self {
        Self::start(move |peer| router.service(peer)).await
    }

    pub(crate) async fn token_endpoint(endpoint: TokenEndpoint) -> Self {
        Self::start(move |peer| endpoint.service(peer)).await
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends raw bytes (blocking client on a blocking thread).
    pub(crate) async fn raw(&self, request: String) -> RawResponse {
        let addr = self.addr;
        tokio::task::spawn_blocking(move || {
            conformance::exchange(addr, request.as_bytes(), IO_TIMEOUT)
        })
        .await
        .expect("client thread")
        .expect("exchange")
    }
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(IO_TIMEOUT)
        .build()
        .expect("client")
}

/// An `Authorization` header line for `client`.
pub(crate) fn basic(client: FixtureClient) -> String {
    format!(
        "Authorization: {}\r\n",
        jeton_hyper::jeton::encode_basic(client.id, client.secret)
    )
}

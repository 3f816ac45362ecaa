//! The shared resource-server table over real HTTP: a protected route behind the tower
//! `AccessTokenLayer` and one checked by `authorize_request` inside the service, for JWTs and
//! opaque tokens from the engine in the same process; the `oauth2` crate's token accepted.

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use jeton_hyper::jeton::{AccessTokenClaims, TokenFormat};
use jeton_hyper::{AccessTokenLayer, authorize_request, token_endpoint};
use jeton_testkit::http::bounded;
use jeton_testkit::resource::{self, EXTRACTED, PROTECTED, ResourceFixture};
use std::convert::Infallible;
use std::future::{Ready, ready};
use std::task::{Context, Poll};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower_layer::Layer;
use tower_service::Service;

/// The protected handler: answers with the client id the layer left in the extensions.
#[derive(Clone)]
struct WhoAmI;

impl Service<Request<Incoming>> for WhoAmI {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Response<Full<Bytes>>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Incoming>) -> Self::Future {
        let claims = req.extensions().get::<AccessTokenClaims>();
        let body = claims.map_or_else(String::new, |c| c.client_id.to_string());
        ready(Ok(Response::new(Full::from(body))))
    }
}

struct Server(JoinHandle<()>);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn serve(fixture: &ResourceFixture) -> (String, Server) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let protected = AccessTokenLayer::new(fixture.require.clone()).layer(WhoAmI);
    let require = fixture.require.clone();
    let tokens = token_endpoint(fixture.engine.clone());
    let task = tokio::spawn(async move {
        while let Ok((stream, peer)) = listener.accept().await {
            let (protected, require, tokens) = (protected.clone(), require.clone(), tokens.clone());
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let (mut protected, require, tokens) =
                    (protected.clone(), require.clone(), tokens.clone());
                async move {
                    let resp = match req.uri().path() {
                        PROTECTED => protected.call(req).await?,
                        EXTRACTED => match authorize_request(&require, &req).await {
                            Ok(claims) => Response::new(Full::from(claims.client_id.to_string())),
                            Err(refused) => refused,
                        },
                        _ => tokens.handle(req, Some(peer)).await,
                    };
                    Ok::<_, Infallible>(resp)
                }
            });
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (format!("http://{addr}"), Server(task))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc6750_resource_table_through_the_layer_and_authorize_request() {
    bounded(async {
        let mut ran = 0;
        for format in [TokenFormat::Jwt, TokenFormat::Opaque] {
            let fixture = ResourceFixture::new(format);
            let (base, _server) = serve(&fixture).await;
            for path in [PROTECTED, EXTRACTED] {
                ran += resource::resource_table_passes(&format!("{base}{path}"), &fixture).await;
            }
        }
        assert_eq!(ran, 44);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_route_is_closed_and_oauth2_crate_token_is_accepted() {
    bounded(async {
        for format in [TokenFormat::Jwt, TokenFormat::Opaque] {
            let fixture = ResourceFixture::new(format);
            let (base, _server) = serve(&fixture).await;
            resource::protected_route_is_closed(&base).await;
            resource::oauth2_crate_token_is_accepted(&base).await;
        }
    })
    .await;
}

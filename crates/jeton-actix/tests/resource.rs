//! The shared resource-server table over real HTTP: a scope of routes behind
//! `AccessTokenMiddleware` and a resource with the `ValidatedToken` extractor alone, for JWTs
//! and opaque tokens from the engine in the same process; the `oauth2` crate's token accepted.

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use jeton_actix::jeton::TokenFormat;
use jeton_actix::{AccessTokenMiddleware, ValidatedToken, token_endpoint};
use jeton_testkit::http::bounded;
use jeton_testkit::resource::{self, ResourceFixture};
use std::net::TcpListener;

struct Server(ServerHandle);

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.0.stop(false));
    }
}

async fn whoami(ValidatedToken(claims): ValidatedToken) -> String {
    claims.client_id.to_string()
}

fn serve(fixture: &ResourceFixture) -> (String, Server) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (require, engine) = (fixture.require.clone(), fixture.engine.clone());
    let server = HttpServer::new(move || {
        App::new()
            .route("/token", token_endpoint(engine.clone()))
            // `/api/orders` (resource::PROTECTED): the whole scope behind the middleware.
            .service(
                web::scope("/api")
                    .wrap(AccessTokenMiddleware::new(require.clone()))
                    .default_service(web::to(whoami)),
            )
            // `/ext/orders` (resource::EXTRACTED): the extractor alone, with app data.
            .service(
                web::resource("/ext/orders")
                    .app_data(require.clone())
                    .to(whoami),
            )
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)
    .expect("listen")
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (format!("http://{addr}"), Server(handle))
}

#[actix_web::test]
async fn rfc6750_resource_table_through_the_middleware_and_the_extractor() {
    bounded(async {
        resource::resource_tables_pass(serve).await;
    })
    .await;
}

#[actix_web::test]
async fn protected_route_is_closed_and_oauth2_crate_token_is_accepted() {
    bounded(async {
        for format in [TokenFormat::Jwt, TokenFormat::Opaque] {
            let fixture = ResourceFixture::new(format);
            let (base, _server) = serve(&fixture);
            resource::protected_route_is_closed(&base).await;
            resource::oauth2_crate_token_is_accepted(&base).await;
        }
    })
    .await;
}

#[actix_web::test]
async fn validated_token_without_configuration_is_500_server_error() {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let server = HttpServer::new(|| App::new().route("/orders", web::get().to(whoami)))
            .workers(1)
            .disable_signals()
            .listen(listener)
            .expect("listen")
            .run();
        let _server = Server(server.handle());
        actix_web::rt::spawn(server);
        let resp = jeton_testkit::http::client()
            .get(format!("http://{addr}/orders"))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 500);
        assert_eq!(resp.headers()["cache-control"], "no-store");
        let json: serde_json::Value = resp.json().await.expect("json");
        assert_eq!(json, serde_json::json!({ "error": "server_error" }));
    })
    .await;
}

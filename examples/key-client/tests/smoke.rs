//! The example against an in-process jeton (jeton-axum on 127.0.0.1:0) with a key client and a
//! replay store: a client assertion gets a Bearer token, with `--dpop` a DPoP token.

use jeton_axum::jeton::{
    Algorithm, AuthMethod, ClientId, ClientKeys, ClientRecord, DefaultScope, Engine, IssuerId,
    OpaqueIssuer, SigningKey, Transport,
};
use jeton_memory::{MemoryClientStore, MemoryReplayStore, MemoryTokenStore};
use jeton_testkit::SeqRandom;
use key_client::{ClientKey, Request, request_token};
use std::net::SocketAddr;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assertion_gives_bearer_and_dpop_gives_dpop() {
    for alg in [Algorithm::Es256, Algorithm::EdDsa] {
        let signing = SigningKey::generate(alg).unwrap();
        let pem = signing.to_pkcs8_pem();
        let key = ClientKey::from_pkcs8_pem(&pem).unwrap();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let client = ClientRecord::builder(ClientId::new("svc").unwrap())
            .auth_methods([AuthMethod::PrivateKeyJwt])
            .keys(ClientKeys::new(alg, [signing.verifying_key().clone()]).unwrap())
            .default_scope(DefaultScope::Empty)
            .build();
        let clients = Arc::new(MemoryClientStore::with_clients([client]));
        let tokens = Arc::new(MemoryTokenStore::new());
        let issuer = Arc::new(OpaqueIssuer::new(tokens, Arc::new(SeqRandom::new(31))));
        let engine = Engine::builder(clients, issuer)
            .random(Arc::new(SeqRandom::new(32)))
            .issuer(IssuerId::new(&base).unwrap())
            .transport(Transport::Plaintext)
            .replay_store(Arc::new(MemoryReplayStore::new()))
            .build()
            .unwrap();
        let app: axum::Router = jeton_axum::router(Arc::new(engine));
        let server = tokio::spawn(async move {
            let make = app.into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, make).await.unwrap();
        });

        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        for (dpop, token_type) in [(false, "Bearer"), (true, "DPoP")] {
            let req = Request {
                token_url: format!("{base}/token"),
                issuer: base.clone(),
                client_id: "svc".into(),
                dpop,
                scope: None,
            };
            let answer = request_token(&http, &key, &req).await.unwrap();
            assert_eq!(answer.status, 200, "{alg} dpop={dpop}: {}", answer.body);
            assert_eq!(answer.body["token_type"], token_type, "{alg}");
            assert!(answer.body["access_token"].is_string());
        }
        server.abort();
    }
}

//! The example against an in-process jeton (jeton-axum on 127.0.0.1:0) with a key client and a
//! replay store: a client assertion gets a Bearer token, with `--dpop` a DPoP token; against a
//! server that requires DPoP nonces the client retries once with the nonce it was given.

use jeton_axum::jeton::{
    Algorithm, AuthMethod, ClientId, ClientKeys, ClientRecord, DefaultScope, Engine,
    HmacDpopNonces, IssuerId, OpaqueIssuer, SigningKey, Transport,
};
use jeton_memory::{MemoryClientStore, MemoryReplayStore, MemoryTokenStore};
use jeton_testkit::SeqRandom;
use key_client::{ClientKey, Request, request_token};
use std::net::SocketAddr;
use std::sync::Arc;

/// Serves a jeton token endpoint on 127.0.0.1:0 for one key client `svc` with `signing`'s
/// public key; with `nonces`, DPoP proofs need server nonces. Returns the base URL and the task.
async fn serve(signing: &SigningKey, nonces: bool) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let client = ClientRecord::builder(ClientId::new("svc").unwrap())
        .auth_methods([AuthMethod::PrivateKeyJwt])
        .keys(ClientKeys::new(signing.algorithm(), [signing.verifying_key().clone()]).unwrap())
        .default_scope(DefaultScope::Empty)
        .build();
    let clients = Arc::new(MemoryClientStore::with_clients([client]));
    let tokens = Arc::new(MemoryTokenStore::new());
    let issuer = Arc::new(OpaqueIssuer::new(tokens, Arc::new(SeqRandom::new(31))));
    let mut builder = Engine::builder(clients, issuer)
        .random(Arc::new(SeqRandom::new(32)))
        .issuer(IssuerId::new(&base).unwrap())
        .transport(Transport::Plaintext)
        .replay_store(Arc::new(MemoryReplayStore::new()));
    if nonces {
        let period = jeton_axum::jeton::time::Duration::minutes(5);
        builder = builder.dpop_nonces(Arc::new(HmacDpopNonces::new(&[3; 32], period)));
    }
    let app: axum::Router = jeton_axum::router(Arc::new(builder.build().unwrap()));
    let server = tokio::spawn(async move {
        let make = app.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, make).await.unwrap();
    });
    (base, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assertion_gives_bearer_and_dpop_gives_dpop() {
    for (alg, nonces) in [
        (Algorithm::Es256, false),
        (Algorithm::EdDsa, false),
        (Algorithm::Es256, true),
    ] {
        let signing = SigningKey::generate(alg).unwrap();
        let key = ClientKey::from_pkcs8_pem(&signing.to_pkcs8_pem()).unwrap();
        let (base, server) = serve(&signing, nonces).await;
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
            let what = format!("{alg} nonces={nonces} dpop={dpop}");
            assert_eq!(answer.status, 200, "{what}: {}", answer.body);
            assert_eq!(answer.body["token_type"], token_type, "{what}");
            assert!(answer.body["access_token"].is_string());
            // RFC 9449 §8.2: with nonces, the success carries the next one.
            assert_eq!(answer.dpop_nonce.is_some(), nonces, "{what}");
        }
        server.abort();
    }
}

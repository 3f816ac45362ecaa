//! RFC 9449 §8 through `jeton serve` with `[dpop] nonces = true`: a proof without the server's
//! nonce is `400 use_dpop_nonce` with a `DPoP-Nonce` header; the retry with it gets a DPoP
//! token, and every success carries the next nonce (§8.2).

use super::{ISSUER, key_client_entry};
use crate::common::*;

#[tokio::test]
async fn rfc9449_8_use_dpop_nonce_then_the_retry_with_the_nonce_is_a_dpop_token() {
    let dir = TempDir::new("nonces");
    let client = KeyClient::new(&dir, "svc", ISSUER, "ES256");
    let config = dir.path("jeton.toml");
    std::fs::write(
        &config,
        format!(
            "issuer = \"{ISSUER}\"\n{}\n[dpop]\nnonces = true\n",
            key_client_entry(&client, "ES256")
        ),
    )
    .unwrap();
    let server = Server::start(&[
        "--config",
        config.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    let meta = metadata(&server).await;
    assert!(
        meta["dpop_signing_alg_values_supported"].is_array(),
        "{meta}"
    );

    let first = client
        .post(&server, &client.form(None), Some(&client.proof(None)))
        .await;
    assert_eq!(first.status, 400, "{}", first.body);
    assert_eq!(first.body["error"], "use_dpop_nonce");
    let nonce = first.dpop_nonce.expect("DPoP-Nonce with use_dpop_nonce");

    // The assertion of the refused request was used up: the retry signs a fresh one.
    let retry = client
        .post(
            &server,
            &client.form(None),
            Some(&client.proof(Some(&nonce))),
        )
        .await;
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert_eq!(retry.body["token_type"], "DPoP");
    assert!(retry.dpop_nonce.is_some_and(|n| !n.is_empty()), "§8.2");

    // A stale or foreign nonce is refused the same way, with a nonce to use.
    let foreign = client
        .post(
            &server,
            &client.form(None),
            Some(&client.proof(Some("not-this-servers"))),
        )
        .await;
    assert_eq!(foreign.status, 400, "{}", foreign.body);
    assert_eq!(foreign.body["error"], "use_dpop_nonce");
    assert!(foreign.dpop_nonce.is_some());
    // A bearer request learns the nonce too.
    let bearer = client.token(&server, None, false).await;
    assert_eq!(bearer.status, 200, "{}", bearer.body);
    assert_eq!(bearer.body["token_type"], "Bearer");
    assert!(bearer.dpop_nonce.is_some());
}

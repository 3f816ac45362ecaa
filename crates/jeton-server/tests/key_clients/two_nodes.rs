//! Two `jeton serve` nodes on one PostgreSQL database: a single-use value used on one is
//! refused on the other (the replay store is the database), and nodes sharing one
//! `[dpop] nonce_key_file` accept each other's nonces while a node with its own key does not.

use super::{ISSUER, key_client_entry};
use crate::common::*;

/// A deployment of the key client `svc` on a fresh schema `schema`, with `extra` TOML at the
/// end of the file; `None` without `DATABASE_URL`.
async fn deployment(schema: &str, extra: &str) -> Option<(TempDir, KeyClient, String)> {
    let url = database_url()?;
    let url = fresh_schema(&url, schema).await;
    let dir = TempDir::new(schema);
    let client = KeyClient::new(&dir, "svc", ISSUER, "ES256");
    let text = format!(
        "issuer = \"{ISSUER}\"\n[store]\nurl = \"{url}\"\nmax_connections = 4\n{}{extra}",
        key_client_entry(&client, "ES256")
    );
    std::fs::write(dir.path("jeton.toml"), text).unwrap();
    Some((dir, client, url))
}

fn node(dir: &TempDir, file: &str) -> Server {
    let config = dir.path(file);
    Server::start(&[
        "--config",
        config.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ])
}

#[tokio::test]
async fn rfc7523_3_7_rfc9449_11_1_a_value_used_on_one_node_is_a_replay_on_the_other() {
    let Some((dir, client, _)) = deployment("jeton_key_replay", "").await else {
        return;
    };
    let (a, b) = (node(&dir, "jeton.toml"), node(&dir, "jeton.toml"));

    // RFC 7523 §3 (7): one assertion, accepted by A, is a replay at B.
    let form = client.form(None);
    let first = client.post(&a, &form, None).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let again = client.post(&b, &form, None).await;
    assert_eq!(
        (again.status, &again.body["error"]),
        (401, &"invalid_client".into())
    );

    // RFC 9449 §11.1: one DPoP proof (each request with a fresh assertion).
    let proof = client.proof(None);
    let first = client.post(&a, &client.form(None), Some(&proof)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["token_type"], "DPoP");
    let again = client.post(&b, &client.form(None), Some(&proof)).await;
    assert_eq!(
        (again.status, &again.body["error"]),
        (400, &"invalid_dpop_proof".into())
    );
}

#[tokio::test]
async fn rfc9449_8_nodes_with_one_nonce_key_file_accept_each_others_nonces() {
    let nonces = "\n[dpop]\nnonces = true\nnonce_key_file = \"nonce.key\"\n";
    let Some((dir, client, _)) = deployment("jeton_key_nonces", nonces).await else {
        return;
    };
    std::fs::write(dir.path("nonce.key"), "0f".repeat(32)).unwrap();
    // A third node on the same database, without the key file: a key of its own.
    let shared = std::fs::read_to_string(dir.path("jeton.toml")).unwrap();
    std::fs::write(
        dir.path("own-key.toml"),
        shared.replace("nonce_key_file = \"nonce.key\"\n", ""),
    )
    .unwrap();
    let (a, b) = (node(&dir, "jeton.toml"), node(&dir, "jeton.toml"));
    let c = node(&dir, "own-key.toml");

    let asked = client
        .post(&a, &client.form(None), Some(&client.proof(None)))
        .await;
    assert_eq!(asked.body["error"], "use_dpop_nonce", "{}", asked.body);
    let nonce = asked.dpop_nonce.expect("DPoP-Nonce");
    let on_b = client
        .post(&b, &client.form(None), Some(&client.proof(Some(&nonce))))
        .await;
    assert_eq!(on_b.status, 200, "B accepts A's nonce: {}", on_b.body);
    assert_eq!(on_b.body["token_type"], "DPoP");
    let on_c = client
        .post(&c, &client.form(None), Some(&client.proof(Some(&nonce))))
        .await;
    assert_eq!(
        (on_c.status, &on_c.body["error"]),
        (400, &"use_dpop_nonce".into()),
        "C has its own key"
    );
}

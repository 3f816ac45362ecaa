//! A key client created through the CLI while the server runs: on a SQL store the server has
//! its replay store from the start (clients live in the database and may gain keys at any
//! moment), so `jeton client create --jwks` against a running SQLite-backed server gives a
//! client that authenticates at once, with and without DPoP; `update` turns on require-DPoP
//! and rotates its keys, again without a restart.

use super::ISSUER;
use crate::common::*;

#[tokio::test]
async fn rfc7523_2_2_a_key_client_created_by_cli_authenticates_without_a_restart() {
    let dir = TempDir::new("runtime-key-client");
    let (_, snippet) = client_new(&["--id", "app", "--scope", "read"]);
    let config = dir.path("jeton.toml");
    std::fs::write(
        &config,
        format!(
            "issuer = \"{ISSUER}\"\n[store]\nurl = \"sqlite://{}\"\n{snippet}",
            dir.path("jeton.db").display()
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let server = Server::start(&["--config", cfg, "--listen", "127.0.0.1:0"]);
    let meta = metadata(&server).await;
    let methods = meta["token_endpoint_auth_methods_supported"].to_string();
    assert!(methods.contains("private_key_jwt"), "SQL store: {meta}");

    let client = KeyClient::new(&dir, "svc", ISSUER, "ES256");
    let cli = |args: &[&str]| {
        let mut full = vec!["client"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--config", cfg]);
        let out = run(&full, "");
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        out
    };
    let jwks = client.jwks.to_str().unwrap();
    let out = cli(&[
        "create",
        "--id",
        "svc",
        "--jwks",
        jwks,
        "--scope",
        "read",
        "--default-scope",
        "all",
    ]);
    assert!(out.stdout.is_empty(), "no secret for a key client");
    assert!(text(&out.stderr).contains("a key client (private_key_jwt, ES256)"));
    let list = text(&cli(&["list"]).stdout);
    assert!(
        list.contains("svc: scopes \"read\", private_key_jwt ES256 (1 key(s))"),
        "{list}"
    );

    let bearer = client.token(&server, None, false).await;
    assert_eq!(bearer.status, 200, "{}", bearer.body);
    assert_eq!(
        (&bearer.body["token_type"], &bearer.body["scope"]),
        (&"Bearer".into(), &"read".into())
    );
    let bound = client.token(&server, None, true).await;
    assert_eq!(bound.status, 200, "{}", bound.body);
    assert_eq!(bound.body["token_type"], "DPoP");

    // require-DPoP, at once: a bearer request is refused, a proof still works.
    cli(&["update", "--id", "svc", "--require-dpop"]);
    let refused = client.token(&server, None, false).await;
    assert_eq!(
        (refused.status, &refused.body["error"]),
        (400, &"invalid_dpop_proof".into())
    );
    assert_eq!(client.token(&server, None, true).await.status, 200);

    // A key rotation through the CLI: the old key is refused like a wrong secret.
    let next_dir = TempDir::new("runtime-key-client-next");
    let next = KeyClient::new(&next_dir, "svc", ISSUER, "EdDSA");
    cli(&[
        "update",
        "--id",
        "svc",
        "--jwks",
        next.jwks.to_str().unwrap(),
    ]);
    let old = client.token(&server, None, true).await;
    assert_eq!(
        (old.status, &old.body["error"]),
        (401, &"invalid_client".into())
    );
    let new = next.token(&server, None, true).await;
    assert_eq!(new.status, 200, "{}", new.body);
}

//! The admin commands' output, used the way an operator uses it: `jeton key new --print-jwks`
//! (a public JWK Set a key client registers), `jeton client new --jwks` (a `[[clients]]`
//! entry that serves a working key client), and what `jeton config check` warns about and
//! reports. Real processes, HTTP on 127.0.0.1, every wait bounded.

mod common;
use common::*;

use serde_json::Value;

const ISSUER: &str = "http://127.0.0.1:8080";

/// A memory deployment: `issuer`, the plain-HTTP loopback default, and `clients` (TOML).
fn write_config(dir: &TempDir, clients: &str) -> std::path::PathBuf {
    let config = dir.path("jeton.toml");
    std::fs::write(&config, format!("issuer = \"{ISSUER}\"\n{clients}")).unwrap();
    config
}

fn serve(config: &std::path::Path) -> Server {
    Server::start(&[
        "--config",
        config.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ])
}

#[test]
fn key_new_print_jwks_prints_the_public_jwk_set_and_the_kid() {
    let dir = TempDir::new("print-jwks");
    for (alg, kty) in [("ES256", "EC"), ("EdDSA", "OKP")] {
        let pem = dir.path(&format!("{alg}.pem"));
        let out = key_new_print_jwks(&pem, alg);
        let jwks: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
        let keys = jwks["keys"].as_array().expect("a JWK Set");
        assert_eq!(keys.len(), 1, "{jwks}");
        let jwk = &keys[0];
        assert_eq!(
            (jwk["kty"].as_str(), jwk["alg"].as_str()),
            (Some(kty), Some(alg))
        );
        assert!(jwk.get("d").is_none(), "public only: {jwk}");
        let kid = jwk["kid"].as_str().expect("kid");
        assert!(
            text(&out.stderr).contains(&format!("kid {kid} ")),
            "{}",
            text(&out.stderr)
        );
        // The same key, loaded from the file, has that public JWK.
        let key =
            jeton::SigningKey::from_pkcs8_pem(&std::fs::read_to_string(&pem).unwrap()).unwrap();
        assert_eq!(jwk, &key.verifying_key().to_jwk());
        assert!(!text(&out.stdout).contains("[signing]"));
    }
    // Without the flag: the [signing] snippet, as before.
    let pem = dir.path("signing.pem");
    let out = run(&["key", "new", "--out", pem.to_str().unwrap()], "");
    assert!(
        text(&out.stdout).contains("[signing]"),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test]
async fn rfc7591_2_a_printed_jwks_is_accepted_as_a_clients_inline_jwks() {
    let dir = TempDir::new("inline-jwks");
    let client = KeyClient::new(&dir, "svc", ISSUER, "EdDSA");
    let jwks = std::fs::read_to_string(&client.jwks).unwrap();
    let config = write_config(
        &dir,
        &format!(
            "[[clients]]\nid = \"svc\"\nauth_methods = [\"private_key_jwt\"]\n\
             token_endpoint_auth_signing_alg = \"EdDSA\"\ndefault_scope = {{ fixed = [] }}\n\
             jwks = '''{jwks}'''\n"
        ),
    );
    let out = run(&["config", "check", config.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let server = serve(&config);
    let answer = client.token(&server, None, false).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["token_type"], "Bearer");
}

#[tokio::test]
async fn rfc7523_2_2_client_new_jwks_prints_an_entry_that_serves_a_key_client() {
    let dir = TempDir::new("client-new-jwks");
    let client = KeyClient::new(&dir, "svc", ISSUER, "ES256");
    let out = run(
        &[
            "client",
            "new",
            "--id",
            "svc",
            "--jwks",
            client.jwks.to_str().unwrap(),
            "--scope",
            "read",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("client secret"), "no secret");
    // The entry is TOML naming the keys' algorithm and the file, and nothing secret.
    let snippet = text(&out.stdout);
    let table: toml::Table = snippet.parse().expect("the snippet is TOML");
    let entry = &table["clients"][0];
    assert_eq!(entry["id"].as_str(), Some("svc"));
    assert_eq!(entry["auth_methods"][0].as_str(), Some("private_key_jwt"));
    assert_eq!(
        entry["token_endpoint_auth_signing_alg"].as_str(),
        Some("ES256")
    );
    assert_eq!(entry["jwks_file"].as_str(), client.jwks.to_str());
    assert_eq!(entry["scopes"][0].as_str(), Some("read"));
    assert!(entry.get("secrets").is_none(), "{snippet}");

    let config = write_config(&dir, &snippet);
    let server = serve(&config);
    let answer = client.token(&server, Some("read"), false).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["token_type"], "Bearer");
    assert_eq!(answer.body["scope"], "read");
    let answer = client.token(&server, Some("read"), true).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["token_type"], "DPoP");
    // A key it never registered is refused like a wrong secret.
    let elsewhere = TempDir::new("client-new-jwks-stranger");
    let stranger = KeyClient::new(&elsewhere, "svc", ISSUER, "ES256");
    let answer = stranger.token(&server, Some("read"), false).await;
    assert_eq!(
        (answer.status, &answer.body["error"]),
        (401, &"invalid_client".into())
    );
}

#[test]
fn rfc6749_2_3_1_config_check_warns_about_client_ids_basic_encoding_changes() {
    let dir = TempDir::new("check-basic-ids");
    let (_, snippet) = client_new(&["--id", "plain"]);
    let verifier = snippet
        .lines()
        .find_map(|l| l.strip_prefix("secrets = "))
        .expect("secrets line")
        .to_owned();
    let key = KeyClient::new(&dir, "keyed", ISSUER, "ES256");
    let mut clients = snippet.clone();
    for id in ["a+b", "50%off", "x y"] {
        clients.push_str(&format!(
            "\n[[clients]]\nid = \"{id}\"\nsecrets = {verifier}\n"
        ));
    }
    // A `+` in a client that never uses Basic needs no warning.
    clients.push_str(&format!(
        "\n[[clients]]\nid = \"k+ey\"\nauth_methods = [\"private_key_jwt\"]\n\
         token_endpoint_auth_signing_alg = \"ES256\"\njwks_file = \"{}\"\n",
        key.jwks.display()
    ));
    let config = write_config(&dir, &clients);
    let out = run(&["config", "check", config.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for id in ["a+b", "50%off"] {
        assert!(
            stdout.contains(&format!(
                "warning: client id \"{id}\" holds '+' or '%', which Basic form-decoding changes"
            )),
            "{id}: {stdout}"
        );
    }
    for id in ["plain", "x y", "k+ey"] {
        assert!(
            !stdout.contains(&format!("warning: client id \"{id}\"")),
            "{id}: {stdout}"
        );
    }
    assert!(
        stdout.contains("accept_raw_basic_credentials = true"),
        "{stdout}"
    );
}

#[test]
fn rfc9449_8_config_check_reports_key_auth_and_dpop_nonces() {
    let dir = TempDir::new("check-dpop");
    let (_, snippet) = client_new(&["--id", "app"]);
    let config = write_config(&dir, &snippet);
    let out = run(&["config", "check", config.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("key auth:        private_key_jwt and DPoP off"),
        "{}",
        text(&out.stdout)
    );

    std::fs::write(dir.path("nonce.key"), format!("{}\n", "ab".repeat(32))).unwrap();
    let config = write_config(
        &dir,
        &format!(
            "{snippet}\n[dpop]\nnonces = true\nnonce_period = \"2m\"\nnonce_key_file = \"nonce.key\"\n"
        ),
    );
    let out = run(&["config", "check", config.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("key auth:        private_key_jwt and DPoP on ([dpop] nonces = true)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("dpop nonces:     required, new every 2m (key from nonce.key)"),
        "{stdout}"
    );
    assert!(
        !stdout.contains(&"ab".repeat(32)),
        "the key is never printed"
    );

    std::fs::write(dir.path("nonce.key"), "not a key").unwrap();
    let out = run(&["config", "check", config.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("dpop.nonce_key_file: nonce.key: must hold 32 random bytes"),
        "{}",
        text(&out.stderr)
    );
}

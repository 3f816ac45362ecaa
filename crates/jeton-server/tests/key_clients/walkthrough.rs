//! examples/key-client/README.md against the real `jeton serve`, command by command: the key
//! pair and its JWK Set (`jeton key new --print-jwks`), the `[[clients]]` entry
//! (`jeton client new --jwks`) appended to a copy of examples/jeton.toml, the server, then the
//! key client's two requests: a Bearer token by client assertion, and a DPoP-bound token. The
//! README must hold each command the test runs, so the two cannot drift apart.

use crate::common::*;
use key_client::{ClientKey, Request, request_token};

/// The README's commands, as it writes them (after `cargo run -p …  --`), in order.
const README_COMMANDS: &[&str] = &[
    "cargo run -p jeton-server -- key new --alg ES256 --out client.pem --print-jwks > client.jwks.json",
    "cp examples/jeton.toml jeton.toml",
    "cargo run -p jeton-server -- client new --id worker --jwks client.jwks.json --scope invoices:read >> jeton.toml",
    "cargo run -p jeton-server -- serve --config jeton.toml",
    "cargo run -p key-client -- --token-url http://127.0.0.1:8080/token \\\n  --issuer http://127.0.0.1:8080 --client-id worker --key client.pem --scope invoices:read\n",
    "--issuer http://127.0.0.1:8080 --client-id worker --key client.pem --scope invoices:read --dpop",
    "cargo run -p key-client -- --print-jwks --key client.pem",
];

fn repo_file(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

#[tokio::test]
async fn the_key_client_readme_runs_against_jeton_serve() {
    let readme = std::fs::read_to_string(repo_file("examples/key-client/README.md")).unwrap();
    for command in README_COMMANDS {
        assert!(readme.contains(command), "the README lost: {command}");
    }
    let dir = TempDir::new("walkthrough");
    let cwd = Some(dir.0.as_path());

    // 1. key new … --print-jwks > client.jwks.json
    let out = run_in(
        cwd,
        &[
            "key",
            "new",
            "--alg",
            "ES256",
            "--out",
            "client.pem",
            "--print-jwks",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::write(dir.path("client.jwks.json"), &out.stdout).unwrap();
    let key = ClientKey::from_pkcs8_pem(&std::fs::read_to_string(dir.path("client.pem")).unwrap())
        .unwrap();
    // key-client --print-jwks prints the same set for the key.
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, key.public_jwks());

    // 2. cp examples/jeton.toml jeton.toml; client new … >> jeton.toml
    let mut config = std::fs::read_to_string(repo_file("examples/jeton.toml")).unwrap();
    let out = run_in(
        cwd,
        &[
            "client",
            "new",
            "--id",
            "worker",
            "--jwks",
            "client.jwks.json",
            "--scope",
            "invoices:read",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    config.push_str(&text(&out.stdout));

    // 3. serve --config jeton.toml: the example's issuer and listen address name port 8080;
    // here a free port stands in for it in both.
    assert!(config.contains("issuer = \"http://127.0.0.1:8080\""));
    assert!(config.contains("listen = \"127.0.0.1:8080\""));
    let server = start_on_free_port(|port| {
        let file = dir.path("jeton.toml");
        std::fs::write(
            &file,
            config.replace("127.0.0.1:8080", &format!("127.0.0.1:{port}")),
        )
        .unwrap();
        file
    });
    let base = format!("http://{}", server.addr);

    // 4. The key client, without and with --dpop.
    for (dpop, token_type) in [(false, "Bearer"), (true, "DPoP")] {
        let req = Request {
            token_url: format!("{base}/token"),
            issuer: base.clone(),
            client_id: "worker".into(),
            dpop,
            scope: Some("invoices:read".into()),
        };
        let answer = request_token(&http(), &key, &req).await.unwrap();
        assert_eq!(answer.status, 200, "dpop={dpop}: {}", answer.body);
        let body = &answer.body;
        assert_eq!(body["token_type"], token_type, "{body}");
        assert_eq!(body["scope"], "invoices:read", "{body}");
        assert_eq!(body["expires_in"], 900, "{body}");
        assert!(
            body["access_token"]
                .as_str()
                .is_some_and(|t| t.starts_with("jt_")),
            "{body}"
        );
    }
}

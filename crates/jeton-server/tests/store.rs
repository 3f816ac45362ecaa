//! `jeton serve` and `jeton client` on durable stores: real processes, real databases, HTTP on
//! 127.0.0.1.
//!
//! - SQLite (a temporary file): one node keeps issued tokens, revocations (opaque and JWT) and
//!   clients across a restart; the file is the truth for the clients it declares; the client
//!   commands end to end; a newer schema is refused.
//! - PostgreSQL: two `jeton serve` processes on one database, each on its own port. They need
//!   `DATABASE_URL`; `.ci/run` starts a throwaway cluster and sets it. Outside CI, without it,
//!   those tests print how to run them and pass; with `CI` set they fail instead of skipping.
//!   Locally: `bash -c 'source scripts/ci-postgres.sh && cargo test -p jeton-server --test store'`.
//!
//! Every wait is bounded (process start, HTTP timeouts); nothing is timed.

mod common;
use common::*;

use serde_json::Value;
use std::path::{Path, PathBuf};

const ISSUER: &str = "http://127.0.0.1:8080";
const API: &str = "https://api.example.com";

/// One node's config: the file client `app` (may introspect), the store, the format.
struct Deployment {
    dir: TempDir,
    config: PathBuf,
    app_secret: String,
}

impl Deployment {
    fn new(name: &str, store_url: &str, format: &str) -> Self {
        let dir = TempDir::new(name);
        let (app_secret, snippet) =
            client_new(&["--id", "app", "--scope", "read", "--may-introspect"]);
        let mut toml = format!(
            "issuer = \"{ISSUER}\"\ntoken_format = \"{format}\"\ndefault_audience = [\"{API}\"]\n\n\
             [store]\nurl = \"{store_url}\"\nmax_connections = 4\nacquire_timeout = \"5s\"\n"
        );
        if format == "jwt" {
            let key = dir.path("signing.pem");
            let out = run(&["key", "new", "--out", key.to_str().unwrap()], "");
            assert!(out.status.success(), "{}", text(&out.stderr));
            toml.push_str(&format!(
                "\n[signing]\n[[signing.keys]]\npath = \"{}\"\n",
                key.display()
            ));
        }
        toml.push_str(&snippet);
        let config = dir.path("jeton.toml");
        std::fs::write(&config, toml).unwrap();
        Self {
            dir,
            config,
            app_secret,
        }
    }

    fn start(&self) -> Server {
        Server::start(&["--config", self.cfg(), "--listen", "127.0.0.1:0"])
    }

    fn cfg(&self) -> &str {
        self.config.to_str().unwrap()
    }

    /// `jeton client <args> --config FILE`; stdout on success, panics otherwise.
    fn cli(&self, args: &[&str]) -> String {
        let out = self.cli_output(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    }

    fn cli_output(&self, args: &[&str]) -> std::process::Output {
        let mut full = vec!["client"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--config", self.cfg()]);
        run(&full, "")
    }
}

/// A token for `id`/`secret` from `server`: `Some(access_token)` on 200, `None` on 401.
async fn token(server: &Server, id: &str, secret: &str) -> Option<String> {
    let resp = http()
        .post(server.url("/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "read")])
        .send()
        .await
        .unwrap();
    match resp.status().as_u16() {
        200 => {
            let v: Value = resp.json().await.unwrap();
            Some(v["access_token"].as_str().unwrap().to_owned())
        }
        401 => None,
        other => panic!("token: status {other}: {}", resp.text().await.unwrap()),
    }
}

/// POSTs `token=<token>` to `path` as `app` (to whom the tokens are issued, and who may
/// introspect).
async fn as_app(d: &Deployment, server: &Server, path: &str, token: &str) -> reqwest::Response {
    let resp = http()
        .post(server.url(path))
        .basic_auth("app", Some(&d.app_secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    resp
}

/// Whether `server` says `token` is active.
async fn active(d: &Deployment, server: &Server, token: &str) -> bool {
    let v: Value = as_app(d, server, "/introspect", token)
        .await
        .json()
        .await
        .unwrap();
    v["active"].as_bool().unwrap()
}

/// Revokes `token` through `server`.
async fn revoke(d: &Deployment, server: &Server, token: &str) {
    as_app(d, server, "/revoke", token).await;
}

/// The ids of `client`'s secrets, in `jeton client list` order.
fn secret_ids(d: &Deployment, client: &str) -> Vec<String> {
    let list = d.cli(&["list"]);
    let mut ids = Vec::new();
    let mut inside = false;
    for line in list.lines() {
        if !line.starts_with(' ') {
            inside =
                line.starts_with(&format!("{client}:")) || line.starts_with(&format!("{client} "));
        } else if inside && let Some(rest) = line.trim().strip_prefix("secret ") {
            ids.push(rest.split(' ').next().unwrap().to_owned());
        }
    }
    ids
}

// ---------------------------------------------------------------------------------------------
// SQLite: one node across restarts
// ---------------------------------------------------------------------------------------------

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("jeton.db").display())
}

/// Issue two tokens, revoke one, create a client by CLI; restart; all of it still holds.
async fn restart_keeps_state(format: &str) {
    let tmp = TempDir::new("sqlite-db");
    let d = Deployment::new("sqlite", &sqlite_url(&tmp.0), format);
    let mut node = d.start();
    let kept = token(&node, "app", &d.app_secret).await.expect("token");
    let revoked = token(&node, "app", &d.app_secret).await.expect("token");
    revoke(&d, &node, &revoked).await;
    assert!(active(&d, &node, &kept).await);
    assert!(!active(&d, &node, &revoked).await);
    let cli_secret = d.cli(&["create", "--id", "svc", "--scope", "read"]);
    assert!(token(&node, "svc", cli_secret.trim()).await.is_some());

    assert!(node.stop().success());
    let node = d.start();
    assert!(active(&d, &node, &kept).await, "issued stays active");
    assert!(!active(&d, &node, &revoked).await, "revoked stays revoked");
    assert!(
        token(&node, "svc", cli_secret.trim()).await.is_some(),
        "CLI client kept"
    );
    drop(d.dir);
}

#[tokio::test]
async fn rfc7009_2_sqlite_node_keeps_opaque_tokens_and_revocations_across_a_restart() {
    restart_keeps_state("opaque").await;
}

#[tokio::test]
async fn rfc7009_2_sqlite_node_keeps_jwt_revocations_across_a_restart() {
    restart_keeps_state("jwt").await;
}

#[tokio::test]
async fn client_commands_end_to_end_on_sqlite() {
    let tmp = TempDir::new("cli-db");
    let d = Deployment::new("cli", &sqlite_url(&tmp.0), "opaque");
    // create: the secret alone on stdout, once.
    let s1 = d.cli(&[
        "create",
        "--id",
        "svc",
        "--scope",
        "read write",
        "--default-scope",
        "read",
    ]);
    let s1 = s1.trim().to_owned();
    assert!(s1.starts_with("jcs_"), "{s1}");
    let dup = d.cli_output(&["create", "--id", "svc"]);
    assert_eq!(dup.status.code(), Some(1));
    assert!(text(&dup.stderr).contains("already exists"));
    // list: ids and expiries, never a secret or a verifier.
    let list = d.cli(&["list"]);
    assert!(list.contains("svc: scopes \"read write\""), "{list}");
    assert!(!list.contains("jcs_") && !list.contains("$hmac"), "{list}");
    let [first] = &secret_ids(&d, "svc")[..] else {
        panic!("{list}")
    };
    let first = first.clone();
    // update keeps secrets.
    d.cli(&[
        "update",
        "--id",
        "svc",
        "--scope",
        "read",
        "--may-introspect",
        "--token-lifetime",
        "5m",
    ]);
    let list = d.cli(&["list"]);
    assert!(
        list.contains("svc: scopes \"read\", may introspect, lifetime 5m"),
        "{list}"
    );
    assert_eq!(secret_ids(&d, "svc"), vec![first.clone()]);
    // add-secret, then retire the first with an overlap: both listed, the old one expiring.
    let s2 = d.cli(&["add-secret", "--id", "svc"]).trim().to_owned();
    assert_ne!(s1, s2);
    d.cli(&[
        "retire-secret",
        "--id",
        "svc",
        "--secret-id",
        &first,
        "--overlap",
        "1h",
    ]);
    let list = d.cli(&["list"]);
    assert!(list.contains(&format!("secret {first} expires ")), "{list}");
    assert_eq!(secret_ids(&d, "svc").len(), 2);

    let node = d.start();
    assert!(
        token(&node, "svc", &s1).await.is_some(),
        "overlap: old still works"
    );
    assert!(token(&node, "svc", &s2).await.is_some());
    d.cli(&["retire-secret", "--id", "svc", "--secret-id", &first]);
    assert!(
        token(&node, "svc", &s1).await.is_none(),
        "retired without overlap"
    );
    assert!(token(&node, "svc", &s2).await.is_some());
    d.cli(&["disable", "--id", "svc"]);
    assert!(d.cli(&["list"]).contains("svc (disabled)"));
    assert!(token(&node, "svc", &s2).await.is_none(), "disabled");
    d.cli(&["enable", "--id", "svc"]);
    assert!(token(&node, "svc", &s2).await.is_some(), "enabled again");
    let second = secret_ids(&d, "svc")
        .into_iter()
        .find(|i| *i != first)
        .unwrap();
    d.cli(&["remove-secret", "--id", "svc", "--secret-id", &second]);
    assert!(token(&node, "svc", &s2).await.is_none(), "removed");
    d.cli(&["delete", "--id", "svc"]);
    assert!(!d.cli(&["list"]).contains("svc"));
    let gone = d.cli_output(&["disable", "--id", "svc"]);
    assert_eq!(gone.status.code(), Some(1));
    assert!(text(&gone.stderr).contains("no client \"svc\""));

    // The file is the truth for the clients it declares: a secret added by CLI to `app` is
    // gone after a restart, with a warning; changing `app` by CLI warns at once.
    let extra = d.cli_output(&["add-secret", "--id", "app"]);
    assert!(text(&extra.stderr).contains("declared in the config file"));
    let extra = text(&extra.stdout).trim().to_owned();
    assert!(token(&node, "app", &extra).await.is_some());
    let mut node = node;
    assert!(node.stop().success());
    let node = d.start();
    assert!(
        token(&node, "app", &extra).await.is_none(),
        "file secrets are the truth"
    );
    assert!(token(&node, "app", &d.app_secret).await.is_some());
    assert!(
        node.logs().contains("declared in the config file"),
        "{}",
        node.logs()
    );

    // A memory store cannot be managed from outside the server.
    let mem = d.dir.path("memory.toml");
    let file = std::fs::read_to_string(&d.config).unwrap();
    let (_, clients) = file.split_once("[[clients]]").unwrap();
    let text_mem =
        format!("issuer = \"{ISSUER}\"\n[store]\nurl = \"memory\"\n[[clients]]{clients}");
    std::fs::write(&mem, text_mem).unwrap();
    let out = run(&["client", "list", "--config", mem.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("the store is memory"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn a_newer_schema_is_refused_and_a_password_is_never_printed() {
    let tmp = TempDir::new("newer-db");
    let url = sqlite_url(&tmp.0);
    let store = jeton_sqlite::SqliteStore::connect(&url, &Default::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    jeton_sqlite::sqlx::query("INSERT INTO jeton_schema_version (version, name) VALUES (99, 'x')")
        .execute(store.pool())
        .await
        .unwrap();
    store.close().await;
    let d = Deployment::new("newer", &url, "opaque");
    let out = run(
        &["serve", "--config", d.cfg(), "--listen", "127.0.0.1:0"],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("version 99, newer than"), "{err}");

    // Nothing listens on port 1: the connection fails, and the message hides the password.
    let d = Deployment::new(
        "pw",
        "postgres://jeton:hunter2-pw@127.0.0.1:1/jeton",
        "opaque",
    );
    let text_cfg = std::fs::read_to_string(&d.config).unwrap();
    std::fs::write(
        &d.config,
        text_cfg.replace("acquire_timeout = \"5s\"", "acquire_timeout = \"1s\""),
    )
    .unwrap();
    let out = run(
        &["serve", "--config", d.cfg(), "--listen", "127.0.0.1:0"],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot open the store postgres://jeton:***@127.0.0.1:1/jeton"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    let out = run(&["config", "check", d.cfg()], "");
    assert!(!text(&out.stdout).contains("hunter2") && !text(&out.stderr).contains("hunter2"));
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: two nodes on one database
// ---------------------------------------------------------------------------------------------

async fn two_nodes(format: &str) {
    let Some(url) = database_url() else { return };
    let url = fresh_schema(&url, &format!("jeton_two_nodes_{format}")).await;
    let d = Deployment::new("pg", &url, format);
    let a = d.start();
    let mut b = d.start();
    assert_ne!(a.addr, b.addr);

    // Issued by one, active on the other.
    let t1 = token(&a, "app", &d.app_secret).await.expect("token");
    assert!(active(&d, &b, &t1).await, "issued on A, active on B");
    // Revoked on one, inactive on both.
    let t2 = token(&b, "app", &d.app_secret).await.expect("token");
    assert!(active(&d, &a, &t2).await);
    revoke(&d, &a, &t2).await;
    assert!(!active(&d, &a, &t2).await && !active(&d, &b, &t2).await);

    // After a restart of either, issued stays active and revoked stays revoked.
    assert!(b.stop().success());
    let b = d.start();
    for n in [&a, &b] {
        assert!(active(&d, n, &t1).await, "issued stays active");
        assert!(!active(&d, n, &t2).await, "revoked stays revoked");
    }

    // A secret rotated through the CLI on the same database works on both, no restart.
    let s1 = d
        .cli(&["create", "--id", "rot", "--scope", "read"])
        .trim()
        .to_owned();
    assert!(token(&a, "rot", &s1).await.is_some() && token(&b, "rot", &s1).await.is_some());
    let [old] = &secret_ids(&d, "rot")[..] else {
        panic!("one secret")
    };
    let old = old.clone();
    let s2 = d.cli(&["add-secret", "--id", "rot"]).trim().to_owned();
    assert!(token(&a, "rot", &s2).await.is_some() && token(&b, "rot", &s2).await.is_some());
    d.cli(&[
        "retire-secret",
        "--id",
        "rot",
        "--secret-id",
        &old,
        "--overlap",
        "1h",
    ]);
    assert!(
        token(&b, "rot", &s1).await.is_some(),
        "overlap: the old secret still works"
    );
    d.cli(&["retire-secret", "--id", "rot", "--secret-id", &old]);
    for n in [&a, &b] {
        assert!(
            token(n, "rot", &s1).await.is_none(),
            "old secret retired everywhere"
        );
        assert!(
            token(n, "rot", &s2).await.is_some(),
            "new secret works everywhere"
        );
    }
}

#[tokio::test]
async fn rfc7009_2_two_nodes_on_one_postgresql_share_opaque_tokens_revocations_and_clients() {
    two_nodes("opaque").await;
}

#[tokio::test]
async fn rfc7009_2_two_nodes_on_one_postgresql_share_jwt_revocations_and_clients() {
    two_nodes("jwt").await;
}

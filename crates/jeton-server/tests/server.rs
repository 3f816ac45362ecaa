//! End-to-end tests of the `jeton` binary: the real process, real config files, real HTTP on
//! 127.0.0.1. Every wait is bounded, and every child process is killed when its handle drops.

use jeton::time::OffsetDateTime;
use jeton::{BearerValidator, Endpoints, Jwks, Scope};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

mod common;
use common::*;

async fn token(
    http: &reqwest::Client,
    server: &Server,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> (u16, Value) {
    let mut req = http.post(server.url("/token")).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    assert_eq!(
        resp.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
    (status, resp.json().await.unwrap())
}

/// A token request with the credentials in the body (`client_secret_post`).
async fn token_with_body(
    http: &reqwest::Client,
    server: &Server,
    id: &str,
    secret: &str,
) -> (u16, Value) {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
    ];
    token(http, server, &form, None).await
}

async fn get_json(http: &reqwest::Client, url: String) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

async fn post_form(
    http: &reqwest::Client,
    url: String,
    form: &[(&str, &str)],
    basic: (&str, &str),
) -> reqwest::Response {
    http.post(url)
        .form(form)
        .basic_auth(basic.0, Some(basic.1))
        .send()
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// The server from a config file
// ---------------------------------------------------------------------------------------------

const ISSUER: &str = "http://127.0.0.1:8080";
const API: &str = "https://api.example.com";
const HUMAN_SECRET: &str = "correct horse battery staple";

/// A JWT deployment made with the admin commands: `key new`, `client new`, `secret hash`.
fn jwt_config(dir: &TempDir) -> (String, String) {
    let key = dir.path("signing.pem");
    let out = run(&["key", "new", "--out", key.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("[[signing.keys]]"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "key file mode");
    }
    // A second `key new` to the same file is refused: keys are never overwritten silently.
    let again = run(&["key", "new", "--out", key.to_str().unwrap()], "");
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("--force"));

    let (billing_secret, billing) = client_new(&[
        "--id",
        "billing",
        "--scope",
        "invoices:read invoices:write",
        "--resource",
        API,
        "--may-introspect",
    ]);
    let hashed = run(&["secret", "hash", "--iterations", "1000"], HUMAN_SECRET);
    assert!(hashed.status.success(), "{}", text(&hashed.stderr));
    let verifier = text(&hashed.stdout).trim().to_owned();
    assert!(verifier.starts_with("$pbkdf2-sha256$i=1000$"), "{verifier}");

    let config = format!(
        r#"issuer = "{ISSUER}"
token_format = "jwt"
default_audience = ["{API}"]

[signing]
[[signing.keys]]
path = "signing.pem"
kid = "test-key"
{billing}
[[clients]]
id = "reports"
secrets = ["{verifier}"]
scopes = ["reports:read"]
default_scope = "all"
auth_methods = ["client_secret_post"]
"#
    );
    std::fs::write(dir.path("jeton.toml"), config).unwrap();
    let check = run(
        &["config", "check", dir.path("jeton.toml").to_str().unwrap()],
        "",
    );
    assert!(check.status.success(), "{}", text(&check.stderr));
    assert!(text(&check.stdout).contains("OK"));
    (
        billing_secret,
        dir.path("jeton.toml").to_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn serves_every_endpoint_from_a_config_file_and_logs_without_secrets() {
    let dir = TempDir::new("jwt");
    let (billing_secret, config) = jwt_config(&dir);
    let mut server = Server::start(&["--config", &config, "--listen", "127.0.0.1:0"]);
    let http = http();

    // RFC 8414: the metadata document at the well-known path, for the configured issuer.
    let meta = get_json(&http, server.url("/.well-known/oauth-authorization-server")).await;
    assert_eq!(meta["issuer"], ISSUER);
    let path = |key: &str| Endpoints::path_of(meta[key].as_str().unwrap()).to_owned();
    let (token_path, introspect_path, revoke_path, jwks_path) = (
        path("token_endpoint"),
        path("introspection_endpoint"),
        path("revocation_endpoint"),
        path("jwks_uri"),
    );
    assert_eq!(token_path, "/token");

    // RFC 6749 §2.3.1: client_secret_basic.
    let basic = ("billing", billing_secret.as_str());
    let (status, body) = token(
        &http,
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "invoices:read"),
        ],
        Some(basic),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "invoices:read");
    let access_token = body["access_token"].as_str().unwrap().to_owned();

    // RFC 6749 §2.3.1: client_secret_post, for the client that allows it (PBKDF2 verifier).
    let (status, body) = token_with_body(&http, &server, "reports", HUMAN_SECRET).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "reports:read");
    let reports_token = body["access_token"].as_str().unwrap().to_owned();
    // ... and body credentials are refused for the client that does not allow them.
    let (status, body) = token_with_body(&http, &server, "billing", &billing_secret).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    // RFC 9068 / RFC 7517: the JWT verifies against the published JWKS.
    let jwks = http
        .get(server.url(&jwks_path))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let jwks = Jwks::from_json(&jwks).unwrap();
    assert!(
        jwks.get("test-key").is_some(),
        "configured kid is published"
    );
    let validator = BearerValidator::builder(ISSUER, API, jwks).build().unwrap();
    let claims = validator
        .validate_jwt(
            &access_token,
            OffsetDateTime::now_utc(),
            &Scope::parse("invoices:read").unwrap(),
        )
        .expect("the JWT validates against the JWKS");
    assert_eq!(claims.client_id, "billing");

    // RFC 7662: introspection by a client allowed to introspect.
    let introspect_url = server.url(&introspect_path);
    let introspect = async |t: &str| -> Value {
        post_form(&http, introspect_url.clone(), &[("token", t)], basic)
            .await
            .json()
            .await
            .unwrap()
    };
    let info = introspect(&access_token).await;
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["client_id"], "billing");
    assert_eq!(info["aud"], API);
    assert_eq!(info["iss"], ISSUER);
    // ... and refused (401) for one that is not.
    let resp = http
        .post(server.url(&introspect_path))
        .form(&[
            ("token", access_token.as_str()),
            ("client_id", "reports"),
            ("client_secret", HUMAN_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // RFC 7009: revocation, after which introspection answers exactly {"active":false}.
    let resp = post_form(
        &http,
        server.url(&revoke_path),
        &[("token", &access_token)],
        basic,
    )
    .await;
    assert_eq!(resp.status(), 200);
    let info = introspect(&access_token).await;
    assert_eq!(info, serde_json::json!({"active": false}));

    // Liveness, and a malformed request answered 400 (never 500).
    let health = http.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let resp = http
        .post(server.url(&token_path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&grant_type=x&%zz")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    assert!(server.stop().success());
    let logs = server.logs();
    // One structured line per request, with client id, outcome, status and latency.
    let issued = logs
        .lines()
        .find(|l| l.contains("jeton::request") && l.contains("outcome=issued"))
        .unwrap_or_else(|| panic!("no request line:\n{logs}"));
    for field in [
        "client_id=\"billing\"",
        "status=200",
        "latency_ms=",
        "path=/token",
    ] {
        assert!(issued.contains(field), "{field} missing in {issued}");
    }
    assert!(logs.contains("outcome=auth_failed"), "{logs}");
    // Never a secret or a token.
    for secret in [
        billing_secret.as_str(),
        HUMAN_SECRET,
        &access_token,
        &reports_token,
    ] {
        assert!(!logs.contains(secret), "a secret or token reached the logs");
    }
    let jwt_body = access_token.split('.').nth(1).unwrap();
    assert!(!logs.contains(jwt_body));
}

/// `jeton serve` on `config`, written to `dir`, on a free port.
fn start_with(dir: &TempDir, config: &str) -> Server {
    std::fs::write(dir.path("jeton.toml"), config).unwrap();
    let config = dir.path("jeton.toml");
    Server::start(&[
        "--config",
        config.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ])
}

#[tokio::test]
async fn opaque_tokens_introspect_and_revoke_and_json_logs() {
    let dir = TempDir::new("opaque");
    let (secret, snippet) = client_new(&["--id", "svc", "--scope", "a", "--may-introspect"]);
    let config = format!(
        "issuer = \"{ISSUER}\"\ntoken_format = \"opaque\"\n[server]\nlog_format = \"json\"\n{snippet}default_scope = \"all\"\n"
    );
    let mut server = start_with(&dir, &config);
    let http = http();
    let basic = ("svc", secret.as_str());
    let (status, body) = token(
        &http,
        &server,
        &[("grant_type", "client_credentials")],
        Some(basic),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let t = body["access_token"].as_str().unwrap().to_owned();
    assert!(t.starts_with("jt_"));
    let info: Value = post_form(&http, server.url("/introspect"), &[("token", &t)], basic)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["active"], true);
    let resp = post_form(&http, server.url("/revoke"), &[("token", &t)], basic).await;
    assert_eq!(resp.status(), 200);
    let info: Value = post_form(&http, server.url("/introspect"), &[("token", &t)], basic)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info, serde_json::json!({"active": false}));
    // No JWKS for opaque tokens, and metadata does not advertise one.
    let meta = get_json(&http, server.url("/.well-known/oauth-authorization-server")).await;
    assert!(meta.get("jwks_uri").is_none(), "{meta}");
    assert_eq!(
        http.get(server.url("/jwks.json"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert!(server.stop().success());
    let logs = server.logs();
    let line = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["fields"]["outcome"] == "issued")
        .unwrap_or_else(|| panic!("no JSON request line:\n{logs}"));
    assert_eq!(line["fields"]["client_id"], "svc");
    assert_eq!(line["fields"]["status"], 200);
    assert!(line["fields"]["latency_ms"].is_number());
    assert!(!logs.contains(&secret) && !logs.contains(&t));
}

/// Issue 13: request lines are buffered (logging.rs), but a line reaches stderr within the
/// flush interval while the server keeps running, not only at shutdown.
#[tokio::test]
async fn a_request_line_is_written_while_the_server_runs() {
    let dir = TempDir::new("flush");
    let (secret, snippet) = client_new(&["--id", "svc", "--scope", "a"]);
    let config = format!(
        "issuer = \"{ISSUER}\"\ntoken_format = \"opaque\"\n{snippet}default_scope = \"all\"\n"
    );
    let mut server = start_with(&dir, &config);
    let http = http();
    let form = [("grant_type", "client_credentials")];
    let (status, _) = token(&http, &server, &form, Some(("svc", secret.as_str()))).await;
    assert_eq!(status, 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.logs().contains("outcome=issued") {
        assert!(
            Instant::now() < deadline,
            "no request line yet:\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(server.stop().success());
}

// ---------------------------------------------------------------------------------------------
// Refused configurations
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_config_is_refused_naming_key_and_line_and_never_binds() {
    let dir = TempDir::new("bad");
    let (_, snippet) = client_new(&["--id", "svc"]);
    // Line 5 (issuer, `[[clients]]`, id, secrets, then the typo).
    let config = format!("issuer = \"{ISSUER}\"{snippet}scopez = [\"a\"]\n");
    assert_eq!(
        config.lines().position(|l| l.starts_with("scopez")),
        Some(4)
    );
    let file = dir.path("bad.toml");
    std::fs::write(&file, config).unwrap();
    let file = file.to_str().unwrap();
    let expected = format!("{file}:5:1: clients[0].scopez: unknown field `scopez`");

    let out = run(&["serve", "--config", file, "--listen", "127.0.0.1:0"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&expected),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stdout).contains("listening"), "never binds");

    let out = run(&["config", "check", file], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&expected),
        "{}",
        text(&out.stderr)
    );

    // A plaintext secret is refused, and not echoed back.
    let plain = "issuer = \"http://127.0.0.1:8080\"\n[[clients]]\nid = \"a\"\nsecrets = [\"s3cret-pa55word\"]\n";
    std::fs::write(dir.path("plain.toml"), plain).unwrap();
    let out = run(
        &["config", "check", dir.path("plain.toml").to_str().unwrap()],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("plain.toml:4:12: clients[0].secrets[0]: this looks like a plaintext secret"),
        "{err}"
    );
    assert!(!err.contains("s3cret-pa55word"));

    // Plain HTTP on a non-loopback address is refused before binding.
    let ok = dir.path("ok.toml");
    std::fs::write(&ok, format!("issuer = \"{ISSUER}\"{snippet}")).unwrap();
    let out = run(
        &[
            "serve",
            "--config",
            ok.to_str().unwrap(),
            "--listen",
            "0.0.0.0:0",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--listen: plain HTTP on a non-loopback address"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn shipped_example_config_is_valid() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/jeton.toml");
    let out = run(&["config", "check", example.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("clients:         3"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn rs256_key_generation_is_refused_with_an_openssl_recipe() {
    let dir = TempDir::new("rsa");
    let out = dir.path("rsa.pem");
    let res = run(
        &[
            "key",
            "new",
            "--alg",
            "RS256",
            "--out",
            out.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(res.status.code(), Some(1));
    assert!(text(&res.stderr).contains("openssl genpkey -algorithm RSA"));
    assert!(!out.exists());
}

// ---------------------------------------------------------------------------------------------
// The development default and graceful shutdown
// ---------------------------------------------------------------------------------------------

/// The credentials and URL of the banner's curl line.
fn curl_line(banner: &str) -> (String, String, String) {
    let line = banner
        .lines()
        .find(|l| l.trim_start().starts_with("curl ") && l.contains("grant_type"))
        .expect("curl line");
    let words: Vec<&str> = line.split_whitespace().collect();
    let user = words[words.iter().position(|w| *w == "-u").unwrap() + 1];
    let (id, secret) = user.split_once(':').unwrap();
    (
        id.to_owned(),
        secret.to_owned(),
        words.last().unwrap().to_string(),
    )
}

#[tokio::test]
async fn dev_default_prints_a_working_curl_line() {
    let mut server = Server::start(&["--listen", "127.0.0.1:0"]);
    assert!(server.banner.contains("DEVELOPMENT DEFAULT"));
    let (id, secret, url) = curl_line(&server.banner);
    assert_eq!(url, server.url("/token"));
    let resp = http()
        .post(&url)
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "read")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["scope"], "read");
    assert!(server.stop().success());
    assert!(!server.logs().contains(&secret));
}

#[test]
fn sigterm_drains_a_request_in_flight() {
    let mut server = Server::start(&["--listen", "127.0.0.1:0"]);
    let (id, secret, _) = curl_line(&server.banner);
    let body = "grant_type=client_credentials&scope=read";
    let auth = jeton::encode_basic(&id, &secret);
    let mut conn = TcpStream::connect(server.addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // `Expect: 100-continue`: the server answers `100 Continue` once the request is in its
    // handler, waiting for the body. That is the request in flight.
    write!(
        conn,
        "POST /token HTTP/1.1\r\nHost: {}\r\nAuthorization: {auth}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Expect: 100-continue\r\n\r\n",
        server.addr,
        body.len()
    )
    .unwrap();
    let mut interim = [0u8; 25];
    conn.read_exact(&mut interim).unwrap();
    assert!(
        text(&interim).starts_with("HTTP/1.1 100 Continue"),
        "{}",
        text(&interim)
    );

    server.signal("TERM");
    // The listener closes at once: new connections are refused while ours is still open.
    let deadline = Instant::now() + PROCESS_TIMEOUT;
    while TcpStream::connect_timeout(&server.addr, Duration::from_secs(1)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "listener still open after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "exited with a request in flight"
    );

    // Finish the body slowly; the response still arrives, then the process exits 0.
    let (first, rest) = body.split_at(10);
    conn.write_all(first.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    conn.write_all(rest.as_bytes()).unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.contains("\"access_token\""), "{response}");
    let status = server.wait();
    assert!(status.success(), "{status:?}");
}

#[test]
fn header_read_timeout_closes_idle_and_trickling_connections() {
    let dir = TempDir::new("idle");
    let (_, snippet) = client_new(&["--id", "svc"]);
    let config =
        format!("issuer = \"{ISSUER}\"\n[server]\nheader_read_timeout = \"1s\"\n{snippet}");
    let server = start_with(&dir, &config);
    // Silent after connecting, and headers that never finish: both closed by the server
    // (read returns end of stream) within the limit plus the watchdog's quarter, well before
    // the client's own 10 s read timeout.
    for first_bytes in ["", "POST /token HTTP/1.1\r\nHost: x\r\n"] {
        let mut conn = TcpStream::connect(server.addr).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        conn.write_all(first_bytes.as_bytes()).unwrap();
        let started = std::time::Instant::now();
        let mut rest = Vec::new();
        let read = conn.read_to_end(&mut rest);
        let waited = started.elapsed();
        assert!(
            read.is_ok(),
            "closed, not timed out: {read:?} after {waited:?}"
        );
        assert!(waited >= Duration::from_millis(900), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
    }
}

#[test]
fn a_body_that_never_ends_gets_408_not_a_hang() {
    let dir = TempDir::new("slow");
    let (_, snippet) = client_new(&["--id", "svc"]);
    let config = format!("issuer = \"{ISSUER}\"\n[server]\nrequest_timeout = 1\n{snippet}");
    let server = start_with(&dir, &config);
    let mut conn = TcpStream::connect(server.addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // Promise 100 bytes, send 10, then nothing.
    write!(
        conn,
        "POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 100\r\n\r\ngrant_type"
    )
    .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 408 "), "{response}");
    assert!(response.contains("invalid_request"), "{response}");
}

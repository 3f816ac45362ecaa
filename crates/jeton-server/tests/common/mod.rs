//! Helpers shared by the end-to-end tests of the `jeton` binary: temporary directories, a
//! bounded run of the binary, a running `jeton serve` killed on drop, an HTTP client.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_jeton");
/// How long the server may take to start or stop (a debug build on a busy 2-core machine).
pub(crate) const PROCESS_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A temporary directory, removed on drop.
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "jeton-server-test-{}-{name}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub(crate) fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the binary to completion (with stdin), bounded in time.
pub(crate) fn run(args: &[&str], stdin: &str) -> Output {
    run_in(None, args, stdin)
}

/// [`run`] in the working directory `dir` (relative paths in `args` are relative to it, as in
/// a shell), or this process's.
pub(crate) fn run_in(dir: Option<&Path>, args: &[&str], stdin: &str) -> Output {
    let mut command = Command::new(BIN);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn jeton");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let deadline = Instant::now() + PROCESS_TIMEOUT;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("jeton {args:?} did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A running `jeton serve`: killed on drop.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
    /// Everything printed on stdout up to and including the `listening` line.
    pub(crate) banner: String,
    pub(crate) stderr: Arc<Mutex<String>>,
}

impl Server {
    pub(crate) fn start(args: &[&str]) -> Self {
        Self::try_start(args).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts `jeton serve ARGS`; an error with its output if it exits (or stays silent) before
    /// printing its `listening` line.
    pub(crate) fn try_start(args: &[&str]) -> Result<Self, String> {
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn jeton serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + PROCESS_TIMEOUT;
        let mut banner = String::new();
        let mut server = None;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(line) => {
                    banner.push_str(&line);
                    banner.push('\n');
                    if let Some(addr) = line.strip_prefix("jeton listening on http://") {
                        server = Some(addr.parse().expect("bound address"));
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        let Some(addr) = server else {
            let _ = child.kill();
            let _ = child.wait();
            // Let the stderr reader catch the last bytes.
            std::thread::sleep(Duration::from_millis(100));
            return Err(format!(
                "jeton serve did not start.\nstdout:\n{banner}\nstderr:\n{}",
                stderr.lock().unwrap()
            ));
        };
        Ok(Self {
            child,
            addr,
            banner,
            stderr,
        })
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn pid(&self) -> String {
        self.child.id().to_string()
    }

    pub(crate) fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.pid()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits (bounded) for the process to exit.
    pub(crate) fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PROCESS_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "jeton serve did not exit in time"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, and the exit status. The logs are then complete.
    pub(crate) fn stop(&mut self) -> ExitStatus {
        self.signal("TERM");
        let status = self.wait();
        // Let the stderr reader catch the last bytes.
        std::thread::sleep(Duration::from_millis(100));
        status
    }

    pub(crate) fn logs(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .unwrap()
}

/// `jeton client new`, returning (secret, TOML snippet).
pub(crate) fn client_new(args: &[&str]) -> (String, String) {
    let mut full = vec!["client", "new"];
    full.extend_from_slice(args);
    let out = run(&full, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let secret = stderr
        .lines()
        .find_map(|l| l.strip_prefix("client secret: "))
        .expect("secret on stderr")
        .trim()
        .to_owned();
    assert!(secret.starts_with("jcs_"));
    let snippet = text(&out.stdout);
    assert!(
        !snippet.contains(&secret),
        "the snippet holds only the verifier"
    );
    (secret, snippet)
}

/// A port free on 127.0.0.1 a moment ago, for a config whose issuer must name the port the
/// server listens on (DPoP's `htu` is the issuer's token endpoint URL). Another process may
/// take it meanwhile: callers retry with a fresh one ([`start_on_free_port`]).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts `jeton serve --config FILE`, FILE being what `config(port)` writes for a free port
/// (its issuer and listen address naming the port): at most three ports are tried.
pub(crate) fn start_on_free_port(config: impl Fn(u16) -> PathBuf) -> Server {
    let mut last = String::new();
    for _ in 0..3 {
        let file = config(free_port());
        match Server::try_start(&["--config", file.to_str().unwrap()]) {
            Ok(server) => return server,
            Err(e) => last = e,
        }
    }
    panic!("{last}")
}

// ---------------------------------------------------------------------------------------------
// Key clients (private_key_jwt, DPoP)
// ---------------------------------------------------------------------------------------------

/// A key client of a server with issuer `issuer`: its key pair made by
/// `jeton key new --print-jwks` in a directory (the public JWK Set file is the command's
/// stdout), and its assertions and DPoP proofs made by the key-client example.
pub(crate) struct KeyClient {
    /// The client id.
    pub(crate) id: String,
    /// The issuer identifier: the assertions' `aud`, and the base of the token endpoint URL
    /// that DPoP proofs name (`htu`), wherever the server listens.
    pub(crate) issuer: String,
    /// The public JWK Set file.
    pub(crate) jwks: PathBuf,
    /// The private key file (PKCS#8 PEM).
    pub(crate) pem: PathBuf,
    /// The private key, loaded for signing.
    pub(crate) key: key_client::ClientKey,
}

/// `jeton key new --alg ALG --out PEM --print-jwks`, which must succeed: the key in `pem`, its
/// public JWK Set on stdout, its kid on stderr.
pub(crate) fn key_new_print_jwks(pem: &Path, alg: &str) -> Output {
    let pem = pem.to_str().unwrap();
    let out = run(
        &["key", "new", "--alg", alg, "--out", pem, "--print-jwks"],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    out
}

/// The metadata document (RFC 8414) of `server`, whose issuer has no path.
pub(crate) async fn metadata(server: &Server) -> serde_json::Value {
    http()
        .get(server.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

impl KeyClient {
    /// Makes `ID.pem` and `ID.jwks.json` in `dir` with `jeton key new --alg ALG --print-jwks`.
    pub(crate) fn new(dir: &TempDir, id: &str, issuer: &str, alg: &str) -> Self {
        let pem = dir.path(&format!("{id}.pem"));
        let out = key_new_print_jwks(&pem, alg);
        let jwks = dir.path(&format!("{id}.jwks.json"));
        std::fs::write(&jwks, &out.stdout).unwrap();
        let key = key_client::ClientKey::from_pkcs8_pem(&std::fs::read_to_string(&pem).unwrap())
            .expect("the written key loads");
        Self {
            id: id.to_owned(),
            issuer: issuer.to_owned(),
            jwks,
            pem,
            key,
        }
    }

    /// A token request form with a fresh client assertion, asking for `scope` if given.
    pub(crate) fn form(&self, scope: Option<&str>) -> String {
        let assertion = key_client::client_assertion(&self.key, &self.id, &self.issuer).unwrap();
        key_client::token_form(&assertion, scope)
    }

    /// A fresh DPoP proof for the token endpoint, carrying `nonce` if given.
    pub(crate) fn proof(&self, nonce: Option<&str>) -> String {
        let htu = format!("{}/token", self.issuer);
        key_client::dpop_proof_with_nonce(&self.key, &htu, nonce).unwrap()
    }

    /// POSTs `form` (with the `DPoP` header `proof`, if given) to `server`'s token endpoint.
    pub(crate) async fn post(
        &self,
        server: &Server,
        form: &str,
        proof: Option<&str>,
    ) -> key_client::Answer {
        key_client::post_token(&http(), &server.url("/token"), form, proof)
            .await
            .unwrap()
    }

    /// A token from `server` with a fresh assertion, and a fresh DPoP proof with `dpop`.
    pub(crate) async fn token(
        &self,
        server: &Server,
        scope: Option<&str>,
        dpop: bool,
    ) -> key_client::Answer {
        let proof = dpop.then(|| self.proof(None));
        self.post(server, &self.form(scope), proof.as_deref()).await
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

/// `DATABASE_URL`, or `None` (with how to run) outside CI; in CI its absence fails the test.
pub(crate) fn database_url() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI is set but DATABASE_URL is not: .ci/run starts PostgreSQL and sets it")
        }
        _ => {
            eprintln!(
                "skipped: no DATABASE_URL. Run: bash -c 'source scripts/ci-postgres.sh && \
                 cargo test -p jeton-server'"
            );
            None
        }
    }
}

/// A fresh schema `name` on the database; the URL that puts jeton's tables in it.
pub(crate) async fn fresh_schema(url: &str, name: &str) -> String {
    let store = jeton_postgres::PostgresStore::connect(url, &Default::default())
        .await
        .unwrap();
    jeton_postgres::sqlx::raw_sql(jeton_postgres::sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
    )))
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{name}")
}

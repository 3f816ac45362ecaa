//! A development authorization server: jeton-hyper with the in-memory store, over **plain
//! HTTP**.
//!
//! Listens on `127.0.0.1:8080` (or the address given as the first argument or in `JETON_ADDR`),
//! serves every endpoint through `jeton_hyper::Router` (token, introspection, revocation,
//! RFC 8414 metadata, and `/healthz`), registers one demo client whose secret is generated at
//! start and printed once (only its verifier is stored), and stops on Ctrl-C.
//!
//! The engine is built with `transport(jeton::Transport::Plaintext)` and the adapter with `Transport::Plaintext`:
//! a development setting, never one for production (RFC 6749 §3.2 requires TLS).

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use jeton_hyper::jeton::{
    BatchedRandom, ClientId, ClientRecord, Endpoints, Engine, IssuerId, OpaqueIssuer, Scope,
    generate_secret,
};
use jeton_hyper::{Router, Transport};
use jeton_memory::{MemoryClientStore, MemoryTokenStore, TokenLimits};
use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

const DEFAULT_ADDR: &str = "127.0.0.1:8080";
const CLIENT_ID: &str = "demo-client";
const SCOPES: &str = "read write";

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let addr: SocketAddr = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("JETON_ADDR").ok())
        .unwrap_or_else(|| DEFAULT_ADDR.to_owned())
        .parse()?;

    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;

    // One demo client: the secret is shown once below; the store keeps only its verifier.
    // Token randomness in per-thread batches of the OS generator: fine for a server that never
    // forks (a library that may be forked uses SystemRandom).
    let rng = Arc::new(BatchedRandom::new());
    let (secret, verifier) = generate_secret(&*rng)?;
    let client = ClientRecord::builder(ClientId::new(CLIENT_ID)?)
        .secret(verifier)
        .scopes(Scope::parse(SCOPES)?)
        .may_introspect(true)
        .build();
    let engine = Engine::builder(
        Arc::new(MemoryClientStore::with_clients([client])),
        Arc::new(OpaqueIssuer::new(
            Arc::new(MemoryTokenStore::with_limits(
                // scripts/load.sh raises the caps (a run issues more live tokens than a demo needs).
                std::env::var("JETON_MAX_TOKENS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .map_or_else(TokenLimits::default, |n| TokenLimits {
                        max_tokens: n,
                        max_per_client: n,
                    }),
            )),
            rng,
        )),
    )
    .random(std::sync::Arc::new(jeton_hyper::jeton::SystemRandom::new()))
    // DEVELOPMENT ONLY: accept requests over plain HTTP.
    .transport(Transport::Plaintext);
    // The issuer is this server's own URL. RFC 8414 wants https; jeton accepts http for a
    // loopback host only, so on any other address the endpoints are served without an issuer
    // (and without the metadata document).
    let base = format!("http://{local}");
    let (engine, issuer) = match IssuerId::new(base.as_str()) {
        Ok(issuer) => (engine.issuer(issuer.clone()), Some(issuer)),
        Err(_) => {
            let url = |path: &str| format!("{base}{path}");
            let endpoints = Endpoints::new(
                url("/token"),
                Some(url("/introspect")),
                Some(url("/revoke")),
                None,
            );
            (engine.endpoints(endpoints), None)
        }
    };
    let engine = Arc::new(engine.build()?);
    let endpoints = engine
        .endpoints()
        .cloned()
        .ok_or("no endpoints configured")?;
    let router = Router::new(engine).with_health("/healthz");

    println!("=====================================================================");
    println!(" DEVELOPMENT SETTING: TLS is NOT required (transport(jeton::Transport::Plaintext),");
    println!(" Transport::Plaintext). Never run a token endpoint like this in");
    println!(" production: RFC 6749 section 3.2 requires TLS.");
    if !local.ip().is_loopback() {
        println!(" WARNING: {local} is not a loopback address; secrets and tokens");
        println!(" will cross the network in clear text.");
    }
    println!("=====================================================================");
    println!("token endpoint:         {}", endpoints.token);
    if let Some(url) = &endpoints.introspection {
        println!("introspection endpoint: {url}");
    }
    if let Some(url) = &endpoints.revocation {
        println!("revocation endpoint:    {url}");
    }
    match &issuer {
        Some(issuer) => println!("metadata:               {base}{}", issuer.metadata_path()),
        None => println!("metadata:               off (an http issuer must be a loopback host)"),
    }
    println!("client id:              {CLIENT_ID}");
    println!(
        "client secret:          {} (shown once, not stored)",
        secret.expose()
    );
    println!("get a token:");
    println!(
        "  curl -s -u {CLIENT_ID}:{} -d grant_type=client_credentials -d scope=read {}",
        secret.expose(),
        endpoints.token
    );
    if let Some(url) = &endpoints.introspection {
        println!("introspect it (replace ACCESS_TOKEN):");
        println!(
            "  curl -s -u {CLIENT_ID}:{} -d token=ACCESS_TOKEN {url}",
            secret.expose()
        );
    }
    drop(secret);

    let graceful = GracefulShutdown::new();
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        eprintln!("accept failed: {e}");
                        continue;
                    }
                };
                let service = router.service(Some(peer));
                let conn = http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(10))
                    .serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = &mut ctrl_c => {
                println!("shutting down");
                break;
            }
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(5)) => {
            eprintln!("connections still open after 5 s; exiting anyway");
        }
    }
    Ok(())
}

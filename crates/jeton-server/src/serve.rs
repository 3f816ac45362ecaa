//! `jeton serve`: the listener, graceful shutdown, and one log line per request.
//!
//! Order of start: read and check everything (config file, key files, engine), then bind, then
//! print `jeton listening on http://ADDR` on stdout and serve. A refused configuration never
//! binds. (The development default binds first, because its issuer is the bound address.)
//!
//! Shutdown: on SIGINT or SIGTERM the listener closes at once; requests in flight finish
//! (hyper-util's graceful shutdown), idle keep-alive connections close, and after
//! `drain_timeout` whatever is left is dropped. Exit status 0.
//!
//! Logging: one line per request on target `jeton::request` (method, path, status, latency,
//! peer, and for the token, introspection and revocation endpoints the core's secret-free audit
//! event as structured fields: client id, outcome, reason, method, scope, audience), never a
//! query string, header, body, secret or token. The router hands each request's
//! [`Outcome`](jeton::Outcome) back as a value ([`Router::handle_with_outcome`]), so the line is
//! written from it, at the event's own severity.

use crate::cli::ServeArgs;
use crate::config::{self, ServerOptions, Settings, is_loopback};
use crate::min_rate::{MinRate, Paced};
use crate::peers::PeerSlots;
use crate::store::{Backend, StoreSettings, spawn_purge};
use crate::watchdog::{self, ConnClock};
use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use jeton::time::Duration;
use jeton::{
    Algorithm, AuthMethod, ClientId, ClientRecord, ClientSecret, IssuerId, KeySet, Resource, Scope,
    SigningKey, SystemRandom, TokenFormat,
};
use jeton_hyper::{Router, Transport};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::Level;

/// Where the development default listens.
const DEV_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);
/// The development default's demo client.
const DEMO_CLIENT: &str = "demo";
/// Its scopes.
const DEMO_SCOPES: &str = "read write";
/// Its (only) resource and default audience: JWT access tokens need one (RFC 9068 §2.2).
const DEMO_AUDIENCE: &str = "https://api.example.com";

/// Runs `jeton serve` to completion on a multi-threaded runtime.
pub(crate) fn run(args: &ServeArgs) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let result = runtime.block_on(serve(args));
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    // The last log lines (logging.rs buffers them).
    crate::logging::STDERR.flush();
    result
}

async fn serve(args: &ServeArgs) -> Result<(), String> {
    // 1. Everything that can be refused, before binding (config mode).
    let (early, mut settings, demo) = match &args.config {
        Some(path) => (
            None,
            config::load(path, args.listen).map_err(|e| e.to_string())?,
            None,
        ),
        None => {
            let listen = args.listen.unwrap_or(DEV_LISTEN);
            if !is_loopback(&listen) {
                return Err(format!(
                    "--listen {listen}: the development default serves plain HTTP and listens on \
                     loopback only; write a config file for anything else (examples/jeton.toml)"
                ));
            }
            let listener = bind(listen).await?;
            let local = listener
                .local_addr()
                .map_err(|e| format!("cannot read the bound address: {e}"))?;
            let (settings, secret) = dev_default(local)?;
            (Some(listener), settings, Some(secret))
        }
    };
    crate::logging::init(args.log_format.unwrap_or(settings.server.log_format));
    tokio::spawn(async {
        let mut every = tokio::time::interval(crate::logging::FLUSH_EVERY);
        loop {
            every.tick().await;
            crate::logging::STDERR.flush();
        }
    });
    let store = Backend::open(&settings.store, settings.token_limits()).await?;
    store.upsert_declared(&settings.clients).await?;
    if settings.store.url.is_memory() && settings.format == TokenFormat::Jwt && demo.is_none() {
        tracing::warn!(
            "store is memory and tokens are JWTs: revocations do not survive a restart (a \
             revoked JWT is active again after one, until it expires); set [store] url to a \
             SQLite or PostgreSQL database to keep them"
        );
    }
    let engine = Arc::new(
        settings
            .build_engine(&store)
            .map_err(|e| format!("cannot build the engine: {e}"))?,
    );
    match &store {
        Backend::Memory { tokens, .. } => crate::purge::spawn_purge(
            tokens.clone(),
            settings.limits.purge_interval,
            jeton::time::OffsetDateTime::now_utc,
        ),
        sql => spawn_purge(
            sql.clone(),
            settings.limits.purge_interval,
            settings.store.purge_batch,
        ),
    }
    // 2. Bind.
    let listener = match early {
        Some(l) => l,
        None => bind(settings.listen).await?,
    };
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;

    // 3. Announce.
    if let Some(secret) = demo {
        print_dev_banner(&settings, local, &secret);
    } else if settings.transport == Transport::Plaintext {
        tracing::warn!(
            "transport is plaintext: TLS is not required; use this for development or a \
             loopback-only deployment"
        );
    }
    tracing::info!(
        issuer = %settings.issuer,
        token_format = %settings.format,
        store = %settings.store.url,
        clients = settings.clients.len(),
        transport = ?settings.transport,
        listen = %local,
        "jeton started"
    );
    let signal = shutdown_signal();
    // What start-up logged (warnings above all) is on stderr before anyone is told to connect.
    crate::logging::STDERR.flush();
    println!("jeton listening on http://{local}");

    // 4. Serve until a signal.
    let pool = jeton_http::BlockingPool::new(
        std::num::NonZeroUsize::new(settings.limits.verify_pool as usize)
            .unwrap_or(std::num::NonZeroUsize::MIN),
    );
    let jeton = jeton_http::Jeton::new(engine).verify_pool(Arc::new(pool));
    let router = Router::new(jeton).with_health(settings.server.health_path.clone());
    serve_until_signal(listener, router, &settings.server, &settings.limits, signal).await;
    Ok(())
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))
}

/// The development default: a demo client with a fresh secret, a fresh ES256 key, JWTs,
/// in-memory stores, plain HTTP, issuer `http://<bound address>`.
fn dev_default(local: SocketAddr) -> Result<(Settings, ClientSecret), String> {
    let issuer = IssuerId::new(format!("http://{local}")).map_err(|_| {
        format!("the development default needs 127.0.0.1 or [::1] to listen on, not {local}")
    })?;
    let key = SigningKey::generate(Algorithm::Es256)
        .map_err(|e| format!("cannot generate a signing key: {e}"))?;
    let (secret, verifier) = jeton::generate_secret(&SystemRandom::new())
        .map_err(|e| format!("cannot generate a secret: {e}"))?;
    let invalid = |e: jeton::InvalidValue| e.to_string();
    let audience = Resource::new(DEMO_AUDIENCE).map_err(invalid)?;
    let scopes = Scope::parse(DEMO_SCOPES).map_err(invalid)?;
    let client = ClientRecord::builder(ClientId::new(DEMO_CLIENT).map_err(invalid)?)
        .secret(verifier)
        .scopes(scopes.clone())
        .auth_methods([AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost])
        .allowed_resources([audience.clone()])
        .default_audience([audience.clone()])
        .may_introspect(true)
        .build();
    let settings = Settings {
        issuer,
        listen: local,
        transport: Transport::Plaintext,
        format: TokenFormat::Jwt,
        keys: Some(KeySet::new(key)),
        token_lifetime: Duration::minutes(15),
        max_token_lifetime: Duration::hours(24),
        default_audience: vec![audience],
        scopes_supported: Some(scopes),
        subject_prefix: None,
        allow_client_secret_post: true,
        accept_token_endpoint_audience: false,
        accept_raw_basic: false,
        clients: vec![client],
        limits: Default::default(),
        server: ServerOptions::default(),
        store: StoreSettings::default(),
        dpop: Default::default(),
    };
    Ok((settings, secret))
}

fn print_dev_banner(settings: &Settings, local: SocketAddr, secret: &ClientSecret) {
    let base = settings.issuer.as_str();
    let s = secret.expose();
    println!("======================================================================");
    println!(" jeton DEVELOPMENT DEFAULT (no --config given)");
    println!("  - plain HTTP, TLS not required: for this machine only; RFC 6749 3.2");
    println!("    requires TLS in production");
    println!("  - in-memory store and a fresh ES256 signing key: every client, token");
    println!("    and key is gone when the process exits");
    println!("  For real use, write a config file: see examples/jeton.toml");
    println!("======================================================================");
    println!("demo client id:     {DEMO_CLIENT} (scopes \"{DEMO_SCOPES}\", may introspect)");
    println!("demo client secret: {s}");
    println!("                    (shown once; jeton keeps only its verifier)");
    println!();
    println!("get a token:");
    println!(
        "  curl -s -u {DEMO_CLIENT}:{s} -d grant_type=client_credentials -d scope=read {base}/token"
    );
    println!("introspect it:");
    println!("  curl -s -u {DEMO_CLIENT}:{s} -d token=ACCESS_TOKEN {base}/introspect");
    println!(
        "metadata: {base}{}   keys: {base}/jwks.json   liveness: http://{local}{}",
        settings.issuer.metadata_path(),
        settings.server.health_path
    );
}

// ---------------------------------------------------------------------------------------------
// The accept loop and graceful shutdown
// ---------------------------------------------------------------------------------------------

async fn serve_until_signal(
    listener: TcpListener,
    router: Router,
    opts: &ServerOptions,
    limits: &crate::config::LimitOptions,
    signal: ShutdownSignal,
) {
    let per_peer = limits.max_connections_per_peer as usize;
    let graceful = GracefulShutdown::new();
    let peers = Arc::new(PeerSlots::default());
    let slots = Arc::new(Semaphore::new(opts.max_connections));
    let limits_of_time = watchdog::Limits {
        request: opts.request_timeout,
        header_read: opts.header_read_timeout,
    };
    let handler = Arc::new(Handler {
        router,
        health_path: opts.health_path.clone(),
        min_rate: MinRate {
            bytes_per_second: u64::from(limits.min_body_rate.max(1)),
            grace: limits.body_grace,
        },
    });
    let mut signal = signal;
    let signal_name = loop {
        let slot = tokio::select! {
            biased;
            name = &mut signal => break name,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break "semaphore closed",
            },
        };
        let (stream, peer) = tokio::select! {
            biased;
            name = &mut signal => break name,
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        // One peer may hold at most `per_peer` connections: past it, close at once, before any
        // byte is read, so a single address cannot take every slot.
        let Some(peer_slot) = peers.try_take(peer.ip().to_canonical(), per_peer) else {
            tracing::warn!(%peer, per_peer, "connection refused: too many from this peer");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        // The connection's time limits: one timer for the connection, none per request.
        let clock = Arc::new(ConnClock::default());
        let requests_clock = clock.clone();
        let requests_peer = Arc::new(Peer::new(peer));
        // The request's future is hyper's service future itself, with no wrapper around it:
        // hyper moves it by value, so every layer's state would be copied with it.
        let service = service_fn(move |req: Request<Incoming>| {
            handler
                .clone()
                .handle(req, requests_peer.clone(), requests_clock.clone())
        });
        let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            match watchdog::watch(conn, &clock, limits_of_time).await {
                Some(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                Some(Ok(())) => {}
                None => {
                    tracing::debug!(%peer, "connection closed: no request within header_read_timeout")
                }
            }
            drop(slot);
            drop(peer_slot);
        });
    };
    drop(listener);
    tracing::info!(
        signal = signal_name,
        connections = graceful.count(),
        drain_timeout_s = opts.drain_timeout.as_secs(),
        "shutting down: listener closed, finishing requests in flight"
    );
    match tokio::time::timeout(opts.drain_timeout, graceful.shutdown()).await {
        Ok(()) => tracing::info!("all connections closed; bye"),
        Err(_) => tracing::warn!(
            drain_timeout_s = opts.drain_timeout.as_secs(),
            "drain timeout reached with connections still open; closing them"
        ),
    }
}

/// Resolves when the server should stop, with the signal's name.
type ShutdownSignal = Pin<Box<dyn Future<Output = &'static str> + Send>>;

/// Watches SIGINT and SIGTERM from now on (so a signal that arrives before the accept loop
/// starts is not lost), resolving with the name of the first one.
fn shutdown_signal() -> ShutdownSignal {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => Box::pin(async move {
                tokio::select! {
                    _ = int.recv() => "SIGINT",
                    _ = term.recv() => "SIGTERM",
                }
            }),
            _ => {
                tracing::warn!("cannot watch SIGTERM; only Ctrl-C stops the server");
                Box::pin(async {
                    let _ = tokio::signal::ctrl_c().await;
                    "SIGINT"
                })
            }
        }
    }
    #[cfg(not(unix))]
    {
        Box::pin(async {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        })
    }
}

// ---------------------------------------------------------------------------------------------
// One request: timeout, routing, the log line
// ---------------------------------------------------------------------------------------------

struct Handler {
    router: Router,
    health_path: String,
    /// The slowest pace a body may arrive at: one peer trickling bytes must not hold a
    /// connection for the whole request timeout.
    min_rate: MinRate,
}

/// A connection's peer, with its address as logged: formatted at the connection's first log
/// line and kept, since formatting a socket address costs as much as the rest of the line's
/// fields.
#[derive(Debug)]
struct Peer {
    addr: SocketAddr,
    text: OnceLock<Box<str>>,
}

impl Peer {
    fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            text: OnceLock::new(),
        }
    }

    fn text(&self) -> &str {
        self.text.get_or_init(|| self.addr.to_string().into())
    }
}

/// The longest path logged, in characters.
const MAX_LOGGED_PATH: usize = 200;

impl Handler {
    async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        peer: Arc<Peer>,
        clock: Arc<ConnClock>,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        let started = Instant::now();
        let method = req.method().clone();
        // Kept for the log line (a reference count, not a copy).
        let uri = req.uri().clone();
        let req = req.map(|body| Paced::new(body, self.min_rate));
        // `request_timeout`: the connection's watchdog expires the request (watchdog.rs).
        let handled = clock
            .begin()
            .run(self.router.handle_with_outcome(req, Some(peer.addr)))
            .await;
        let (response, outcome) = match handled {
            Some(h) => (h.response, h.outcome),
            None => (request_timeout(), None),
        };
        let status = response.status().as_u16();
        let event = outcome.as_ref().map(|(_, o)| &o.event);
        // The path only: a query string may carry credentials sent by mistake.
        let path = truncate_chars(uri.path(), MAX_LOGGED_PATH);
        // The core's severity for audited requests; by status for the others.
        let level = match event.map(jeton::AuditEvent::severity) {
            _ if path == self.health_path && status == 200 => Level::DEBUG,
            Some(severity) => jeton_http::tracing_level(severity),
            None if status >= 500 => Level::ERROR,
            None => Level::INFO,
        };
        if tracing::level_enabled!(level) {
            Self::log_line(level, &method, path, status, event, started, peer.text());
        }
        if let Some(diagnostic) = outcome.as_ref().and_then(|(_, o)| o.diagnostic.as_ref()) {
            let client_id = event
                .and_then(|e| e.client_id())
                .map(jeton::ClientId::as_str);
            let peer = Some(tracing::field::display(peer.addr));
            jeton_http::log_diagnostic(client_id, diagnostic, peer);
        }
        Ok(response)
    }

    /// The request's one log line at `level` (when logs at that level are on at all: building
    /// its fields is skipped otherwise).
    #[allow(clippy::too_many_arguments)]
    fn log_line(
        level: Level,
        method: &http::Method,
        path: &str,
        status: u16,
        event: Option<&jeton::AuditEvent>,
        started: Instant,
        peer: &str,
    ) {
        let fields = event.map(jeton::AuditEvent::fields);
        let word = fields.as_ref().map_or_else(
            || match status {
                200..=299 => "ok",
                404 => "not_found",
                405 => "method_not_allowed",
                408 => "timeout",
                _ => "error",
            },
            |f| f.outcome,
        );
        let latency_ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3;
        let f = fields.as_ref();
        let client_id = f.and_then(|f| f.client_id);
        let reason = f.and_then(|f| f.reason);
        let auth_method = f.and_then(|f| f.method);
        let scope = f.and_then(|f| f.scope.as_deref());
        let audience = f.and_then(|f| f.audience.as_deref());
        let jti = f.and_then(|f| f.jti);
        macro_rules! line {
            ($mac:ident) => {
                tracing::$mac!(
                    target: "jeton::request",
                    method = %method,
                    path = %path,
                    status,
                    outcome = %word,
                    client_id,
                    reason,
                    auth_method,
                    scope,
                    audience,
                    jti,
                    latency_ms,
                    peer = %peer,
                    "request"
                )
            };
        }
        match level {
            Level::ERROR => line!(error),
            Level::WARN => line!(warn),
            Level::INFO => line!(info),
            _ => line!(debug),
        }
    }
}

/// At most `max` characters of `s`, cut at a character boundary.
fn truncate_chars(s: &str, max: usize) -> &str {
    s.char_indices().nth(max).map_or(s, |(i, _)| &s[..i])
}

/// `408` in the core's error shape: the client took longer than `request_timeout` (a body
/// that never finishes, for example).
fn request_timeout() -> Response<Full<Bytes>> {
    let body = br#"{"error":"invalid_request","error_description":"the request took too long"}"#;
    let mut resp = Response::new(Full::new(Bytes::from_static(body)));
    *resp.status_mut() = StatusCode::REQUEST_TIMEOUT;
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(http::header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_paths_are_cut_at_a_character_boundary() {
        assert_eq!(truncate_chars("/token", 200), "/token");
        assert_eq!(truncate_chars("/tökén", 3), "/tö");
        assert_eq!(truncate_chars(&"é".repeat(300), 200), "é".repeat(200));
        assert_eq!(truncate_chars("", 2), "");
    }
}

//! The TOML configuration file: its schema, its checks, and the [`Settings`] the server runs on.
//!
//! Reading a file goes in two passes, and the server starts only if both pass:
//!
//! 1. **Shape**: `serde` + `toml` with `deny_unknown_fields` on every table. Unknown keys,
//!    missing required keys, wrong types and malformed values (an issuer that is not a valid
//!    RFC 8414 identifier, a scope token with a space, a plaintext secret) stop here.
//! 2. **Meaning**: cross-field rules (the active key exists, client ids are unique, a JWT
//!    deployment has an audience for every client, plain HTTP only on loopback, ...) and the
//!    signing-key files, loaded and parsed.
//!
//! Every error names the file, the line and column, the key path, and what is wrong:
//! `jeton.toml:12:5: clients[0].scopez: unknown field `scopez`, expected one of ...`. An error
//! never quotes the offending line, so a secret pasted by mistake is not echoed back.

mod client_keys;
mod errors;
mod file;
mod key_auth;
mod resolve;
mod store_section;
#[cfg(test)]
mod store_tests;
mod summary;

pub(crate) use errors::ConfigError;
use errors::{Problem, Source};
use file::FileConfig;
pub(crate) use file::{DurationValue, parse_duration, parse_listen};
pub(crate) use key_auth::DpopOptions;
pub(crate) use resolve::default_iterations;
use resolve::resolve;

use crate::store::{Backend, StoreSettings, StoreUrl};
use jeton::time::format_description::well_known::Rfc3339;
use jeton::time::{Duration, OffsetDateTime};
use jeton::{
    AuthMethod, BatchedRandom, ClientId, ClientRecord, DefaultScope, Endpoints, Engine, GrantType,
    IssuerId, JwtIssuer, KeySet, RegisteredSecret, Resource, Scope, ScopeToken, SecretVerifier,
    SigningKey, TokenFormat,
};
use jeton_hyper::Transport;
use serde::Deserialize;
use std::fmt;
use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The largest configuration file read, in bytes.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// The largest key file read, in bytes (an RSA-8192 PKCS#8 PEM is under 7 KiB).
const MAX_KEY_BYTES: u64 = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Resolved settings
// ---------------------------------------------------------------------------------------------

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    /// `key=value` text, one line per event.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Listener settings that are not the engine's.
#[derive(Clone, Debug)]
pub(crate) struct ServerOptions {
    /// The liveness path (`GET` answers `200 ok`).
    pub(crate) health_path: String,
    /// How long shutdown waits for in-flight requests before closing connections.
    pub(crate) drain_timeout: std::time::Duration,
    /// How long one request (headers to response) may take; past it the answer is `408`.
    pub(crate) request_timeout: std::time::Duration,
    /// How long a client may take to send its request headers.
    pub(crate) header_read_timeout: std::time::Duration,
    /// The most connections served at once; more wait in the listen backlog.
    pub(crate) max_connections: usize,
    /// Log line format.
    pub(crate) log_format: LogFormat,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            health_path: "/healthz".to_owned(),
            drain_timeout: std::time::Duration::from_secs(10),
            request_timeout: std::time::Duration::from_secs(30),
            header_read_timeout: std::time::Duration::from_secs(10),
            max_connections: 1024,
            log_format: LogFormat::Text,
        }
    }
}

/// Everything the server needs, checked: what a configuration file (or the development
/// default) resolves to.
pub(crate) struct Settings {
    /// The issuer identifier (RFC 8414 §2).
    pub(crate) issuer: IssuerId,
    /// Where to listen.
    pub(crate) listen: SocketAddr,
    /// How requests reach the process, which decides what counts as TLS.
    pub(crate) transport: Transport,
    /// Opaque or JWT access tokens.
    pub(crate) format: TokenFormat,
    /// The signing keys (JWT only).
    pub(crate) keys: Option<KeySet>,
    /// Lifetime of tokens of clients without their own.
    pub(crate) token_lifetime: Duration,
    /// The longest lifetime any client gets.
    pub(crate) max_token_lifetime: Duration,
    /// Audience of tokens whose client has no default audience and requests no resource.
    pub(crate) default_audience: Vec<Resource>,
    /// `scopes_supported` in metadata, if advertised.
    pub(crate) scopes_supported: Option<Scope>,
    /// A prefix for `sub`.
    pub(crate) subject_prefix: Option<String>,
    /// Whether `client_secret_post` may be used at all.
    pub(crate) allow_client_secret_post: bool,
    /// Accept the token endpoint URL as an assertion audience (legacy, off by default).
    pub(crate) accept_token_endpoint_audience: bool,
    /// Also accept Basic credentials that are not form-encoded.
    pub(crate) accept_raw_basic: bool,
    /// The registered clients.
    pub(crate) clients: Vec<ClientRecord>,
    /// Listener settings.
    pub(crate) server: ServerOptions,
    /// The `[store]` table.
    pub(crate) store: StoreSettings,
    /// What an attacker may cost: failed-authentication budgets, verification pool, token caps,
    /// connections per peer.
    pub(crate) limits: LimitOptions,
    /// The `[dpop]` table: server nonces.
    pub(crate) dpop: DpopOptions,
}

/// `[limits]` resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LimitOptions {
    /// Failed authentications per source address (IPv6: per /64) per window. Default 20.
    pub(crate) failures_per_source: u32,
    /// Failed authentications per (client id, source address) per window. Default 5.
    pub(crate) failures_per_client_source: u32,
    /// The window those budgets leak over. Default 1 minute.
    pub(crate) failure_window: std::time::Duration,
    /// PBKDF2 verifications running at once; more are refused with `503`. Default: the cores.
    pub(crate) verify_pool: u32,
    /// Live tokens in the memory store, all clients together. Default 1 000 000.
    pub(crate) max_tokens: u32,
    /// Live tokens of one client. Default 100 000.
    pub(crate) max_tokens_per_client: u32,
    /// How often expired tokens are purged. Default 5 seconds.
    pub(crate) purge_interval: std::time::Duration,
    /// Connections one peer address may hold at once. Default 64.
    pub(crate) max_connections_per_peer: u32,
    /// The slowest pace a request body may arrive at once `body_grace` has passed, in bytes per
    /// second; slower bodies are cut (`400`, connection closed). Default 1024.
    pub(crate) min_body_rate: u32,
    /// How long a request body may take before its pace counts. Default 5 seconds.
    pub(crate) body_grace: std::time::Duration,
}

impl Default for LimitOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            failures_per_source: 20,
            failures_per_client_source: 5,
            failure_window: std::time::Duration::from_secs(60),
            verify_pool: u32::try_from(cores).unwrap_or(1),
            max_tokens: 1_000_000,
            max_tokens_per_client: 100_000,
            purge_interval: std::time::Duration::from_secs(5),
            max_connections_per_peer: 64,
            min_body_rate: 1024,
            body_grace: std::time::Duration::from_secs(5),
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("issuer", &self.issuer)
            .field("listen", &self.listen)
            .field("transport", &self.transport)
            .field("format", &self.format)
            .field("keys", &self.keys)
            .field("clients", &self.clients)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// The memory token store's caps, from `[limits]`.
    pub(crate) fn token_limits(&self) -> jeton_memory::TokenLimits {
        jeton_memory::TokenLimits {
            max_tokens: self.limits.max_tokens as usize,
            max_per_client: self.limits.max_tokens_per_client as usize,
        }
    }

    /// Builds the engine (issuer, policy, limits) on `store`'s clients, tokens and
    /// revocations. Consumes the keys.
    pub(crate) fn build_engine(&mut self, store: &Backend) -> Result<Engine, String> {
        // This process never forks while serving, so token and `jti` randomness may come from
        // per-thread batches of the OS generator: one system call per 32 tokens (issue 13).
        let rng = Arc::new(BatchedRandom::new());
        let nonces = self.dpop_nonces(&*rng)?;
        let l = &self.limits;
        let jwt = match self.keys.take() {
            Some(keys) => Some(
                JwtIssuer::builder(self.issuer.clone(), keys, rng.clone())
                    .revocation_list(store.revocations()),
            ),
            None => None,
        };
        let issuer = jeton::internal::build_issuer(self.format, store.tokens(), rng.clone(), jwt)
            .map_err(|e| e.to_string())?;
        let window = jeton::time::Duration::seconds(
            i64::try_from(l.failure_window.as_secs()).unwrap_or(i64::MAX),
        );
        let nz = |n: u32| std::num::NonZeroU32::new(n).unwrap_or(std::num::NonZeroU32::MIN);
        let budgets = jeton::LimiterConfig::default()
            .per_source(jeton::Budget::new(nz(l.failures_per_source), window))
            .per_client_source(jeton::Budget::new(nz(l.failures_per_client_source), window));
        // RFC 6749 §10.10: every failure costs the same; the server knows its file clients, so
        // it declares their cost profiles and pads to its largest client's number of secrets.
        // (Clients created with `jeton client` get generated secrets: HMAC, the cheap profile.)
        let most_secrets = self.clients.iter().map(|c| c.secrets.len()).max();
        let mut b = Engine::builder(store.clients(), issuer)
            .random(rng)
            .limits(budgets)
            .cost_profiles(self.clients.iter().map(jeton::CostProfile::of))
            .verifications_per_request(most_secrets.unwrap_or(1).max(2))
            .issuer(self.issuer.clone())
            .transport(self.transport.clone())
            .default_token_lifetime(self.token_lifetime)
            .max_token_lifetime(self.max_token_lifetime)
            .default_audience(self.default_audience.iter().cloned())
            .allow_client_secret_post(self.allow_client_secret_post)
            .accept_raw_basic(self.accept_raw_basic)
            .accept_token_endpoint_audience(self.accept_token_endpoint_audience);
        // private_key_jwt and DPoP: single-use jtis in the store, shared by every node on an
        // SQL store, in bounded memory (one node; fails closed when full) on `memory`. The
        // replay store is what turns both on (jeton::Engine::dpop_enabled); when, is decided
        // in key_auth.rs.
        if self.key_auth().is_some() {
            b = b.replay_store(store.replays());
        }
        if let Some(nonces) = nonces {
            b = b.dpop_nonces(nonces);
        }
        if let Some(warning) = self.nonce_key_warning() {
            tracing::warn!("{warning}");
        }
        if self.format == TokenFormat::Opaque {
            // No JWKS to point at: leave `jwks_uri` out of the endpoints entirely.
            let mut e = Endpoints::under(&self.issuer);
            e.jwks = None;
            b = b.endpoints(e);
        }
        if let Some(scopes) = &self.scopes_supported {
            b = b.scopes_supported(scopes.clone());
        }
        if let Some(prefix) = &self.subject_prefix {
            b = b.subject_prefix(prefix.clone());
        }
        b.build().map_err(|e| e.to_string())
    }
}

fn join(r: &[Resource]) -> String {
    r.iter()
        .map(Resource::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `90` → `1m30s`.
pub(crate) fn fmt_duration(d: Duration) -> String {
    let mut secs = d.whole_seconds();
    if secs <= 0 {
        return format!("{secs}s");
    }
    let mut out = String::new();
    for (unit, n) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= n {
            out.push_str(&format!("{}{unit}", secs / n));
            secs %= n;
        }
    }
    out
}

/// Whether plain HTTP on `addr` stays on this machine.
pub(crate) fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().to_canonical().is_loopback()
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

/// Reads, checks and resolves a configuration file. `listen` (from `--listen`) overrides the
/// file's. Key files are read relative to the file's directory. Nothing is bound.
pub(crate) fn load(path: &Path, listen: Option<SocketAddr>) -> Result<Settings, ConfigError> {
    let text = read_bounded(path, MAX_CONFIG_BYTES)
        .map_err(|e| ConfigError::plain(format!("{}: {e}", path.display())))?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse(path, &text, &base, listen)
}

/// Reads a UTF-8 file of at most `max` bytes.
pub(crate) fn read_bounded(path: &Path, max: u64) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut buf = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read: {e}"))?;
    if buf.len() as u64 > max {
        return Err(format!("file larger than {max} bytes"));
    }
    String::from_utf8(buf).map_err(|_| "not UTF-8 text".to_owned())
}

/// Parses and checks configuration text (`name` is used in messages, `base` for key paths).
fn parse(
    name: &Path,
    text: &str,
    base: &Path,
    listen_override: Option<SocketAddr>,
) -> Result<Settings, ConfigError> {
    let source = Source::new(name, text);
    let file: FileConfig =
        toml::from_str(text).map_err(|e| ConfigError(vec![source.render_toml(&e)]))?;
    let mut problems = Vec::new();
    let settings = resolve(file, base, listen_override, &mut problems);
    match settings {
        Some(s) if problems.is_empty() => Ok(s),
        _ => Err(ConfigError(
            problems.iter().map(|p| source.render(p)).collect(),
        )),
    }
}

#[cfg(test)]
mod key_auth_tests;
#[cfg(test)]
mod limits_tests;

#[cfg(test)]
mod tests {
    use super::file::parse_duration;
    use super::*;

    pub(super) const VERIFIER: &str =
        "$hmac-sha256$AAECAwQFBgcICQoLDA0ODw$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

    fn check(text: &str) -> Result<Settings, String> {
        parse(Path::new("jeton.toml"), text, Path::new("."), None).map_err(|e| e.to_string())
    }

    fn minimal(extra_client: &str) -> String {
        format!(
            "issuer = \"http://127.0.0.1:8080\"\n\n[[clients]]\nid = \"billing\"\nsecrets = [\"{VERIFIER}\"]\n{extra_client}"
        )
    }

    #[test]
    fn minimal_config_resolves_with_safe_defaults() {
        let s = check(&minimal("scopes = [\"a\"]\n")).unwrap();
        assert_eq!(s.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(s.transport, Transport::Plaintext);
        assert_eq!(s.format, TokenFormat::Opaque);
        assert_eq!(s.token_lifetime, Duration::minutes(15));
        let c = &s.clients[0];
        assert_eq!(c.auth_methods, vec![AuthMethod::ClientSecretBasic]);
        assert_eq!(c.grant_types, vec![GrantType::ClientCredentials]);
        assert_eq!(c.default_scope, DefaultScope::Deny);
        assert!(!c.may_introspect);
    }

    #[test]
    fn unknown_key_is_refused_with_line_column_and_path() {
        let e = check(&minimal("scopez = [\"a\"]\n")).unwrap_err();
        assert!(
            e.starts_with("jeton.toml:6:1: clients[0].scopez: unknown field `scopez`"),
            "{e}"
        );
    }

    #[test]
    fn bad_value_names_the_key_and_line() {
        let e = check(&minimal("token_lifetime = \"soon\"\n")).unwrap_err();
        assert!(
            e.starts_with("jeton.toml:6:18: clients[0].token_lifetime: invalid duration"),
            "{e}"
        );
        let e = check(&minimal("scopes = [\"a\", \"b\\\\c\"]\n")).unwrap_err();
        assert!(
            e.starts_with("jeton.toml:6:10: clients[0].scopes: invalid scope token \"b\\c\""),
            "{e}"
        );
    }

    #[test]
    fn missing_required_key_is_named() {
        let e =
            check("issuer = \"http://127.0.0.1:8080\"\n[[clients]]\nsecrets = []\n").unwrap_err();
        assert!(e.contains("missing field `id`"), "{e}");
        let e = check("[[clients]]\nid = \"a\"\nsecrets = []\n").unwrap_err();
        assert!(e.contains("missing field `issuer`"), "{e}");
    }

    #[test]
    fn rfc6819_5_1_4_1_3_plaintext_secret_is_refused_without_echo() {
        let text = "issuer = \"http://127.0.0.1:8080\"\n[[clients]]\nid = \"a\"\nsecrets = [\"hunter2-hunter2\"]\n";
        let e = check(text).unwrap_err();
        assert!(
            e.starts_with(
                "jeton.toml:4:12: clients[0].secrets[0]: this looks like a plaintext secret"
            ),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "{e}");
        let table = "issuer = \"http://127.0.0.1:8080\"\n[[clients]]\nid = \"a\"\nsecrets = [{ verifier = \"hunter2\" }]\n";
        let e = check(table).unwrap_err();
        assert!(
            e.contains("clients[0].secrets[0].verifier: this looks like"),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn secret_expiry_accepts_toml_and_string_datetimes() {
        for at in ["2030-01-01T00:00:00Z", "\"2030-01-01T00:00:00+01:00\""] {
            let s = check(&format!(
                "issuer = \"http://127.0.0.1:8080\"\n[[clients]]\nid = \"a\"\nsecrets = [{{ verifier = \"{VERIFIER}\", expires_at = {at} }}]\n"
            ))
            .unwrap();
            assert!(s.clients[0].secrets[0].expires_at.is_some());
        }
        let e = check(&format!(
            "issuer = \"http://127.0.0.1:8080\"\n[[clients]]\nid = \"a\"\nsecrets = [{{ verifier = \"{VERIFIER}\", expires_at = 2030-01-01T00:00:00 }}]\n"
        ))
        .unwrap_err();
        assert!(e.contains("expires_at: invalid date-time"), "{e}");
    }

    #[test]
    fn rfc6749_3_2_plaintext_refuses_non_loopback_unless_allowed() {
        let text = format!("listen = \"0.0.0.0:8080\"\n{}", minimal(""));
        let e = check(&text).unwrap_err();
        assert!(e.starts_with("jeton.toml:1:10: listen: plain HTTP"), "{e}");
        let text = format!(
            "listen = \"0.0.0.0:8080\"\n{}\n[transport]\nallow_insecure = true\n",
            minimal("")
        );
        assert!(check(&text).is_ok());
    }

    #[test]
    fn rfc9700_4_13_behind_proxy_needs_trusted_proxies() {
        let text = format!("{}\n[transport]\nmode = \"behind_proxy\"\n", minimal(""));
        let e = check(&text).unwrap_err();
        assert!(
            e.contains("transport.mode: behind_proxy needs trusted_proxies"),
            "{e}"
        );
        let text = format!(
            "listen = \"0.0.0.0:8080\"\n{}\n[transport]\nmode = \"behind_proxy\"\ntrusted_proxies = [\"10.0.0.5\"]\n",
            minimal("")
        );
        let s = check(&text).unwrap();
        assert_eq!(
            s.transport,
            Transport::BehindProxy {
                trusted: vec!["10.0.0.5".parse().unwrap()]
            }
        );
        let text = format!("{}\n[transport]\nmode = \"tls\"\n", minimal(""));
        assert!(check(&text).unwrap_err().contains("no TLS listener"));
    }

    #[test]
    fn rfc9068_2_2_jwt_needs_keys_and_an_audience() {
        let text = format!("token_format = \"jwt\"\n{}", minimal(""));
        let e = check(&text).unwrap_err();
        assert!(
            e.contains("token_format: token_format = \"jwt\" needs a [signing] section"),
            "{e}"
        );
        assert!(
            e.contains("default_audience: JWT access tokens need a top-level default_audience"),
            "{e}"
        );
    }

    #[test]
    fn duplicate_client_ids_are_refused_at_the_second() {
        let text = format!(
            "{}\n[[clients]]\nid = \"billing\"\nsecrets = [\"{VERIFIER}\"]\n",
            minimal("")
        );
        let e = check(&text).unwrap_err();
        assert!(
            e.starts_with(
                "jeton.toml:8:6: clients[1].id: client id \"billing\" is registered twice"
            ),
            "{e}"
        );
    }

    #[test]
    fn rfc6749_4_4_public_clients_and_bad_default_scope_are_refused() {
        let e = check(&minimal("auth_methods = [\"none\"]\n")).unwrap_err();
        assert!(e.contains("public client"), "{e}");
        let e = check(&minimal(
            "scopes = [\"a\"]\ndefault_scope = { fixed = [\"b\"] }\n",
        ))
        .unwrap_err();
        assert!(
            e.contains("default scope \"b\" is not in this client's scopes"),
            "{e}"
        );
        let s = check(&minimal("scopes = [\"a\"]\ndefault_scope = \"all\"\n")).unwrap();
        assert_eq!(s.clients[0].default_scope, DefaultScope::AllAllowed);
        let e = check(&minimal("default_scope = \"some\"\n")).unwrap_err();
        assert!(
            e.contains("clients[0].default_scope: unknown variant `some`"),
            "{e}"
        );
    }

    #[test]
    fn durations_parse_in_seconds_or_units() {
        assert_eq!(parse_duration("15m"), Ok(Duration::minutes(15)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::minutes(90)));
        assert_eq!(parse_duration("2d"), Ok(Duration::days(2)));
        for bad in [
            "",
            "m",
            "15",
            "15x",
            "-5m",
            "0s",
            "99999999999999999999s",
            "500d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(fmt_duration(Duration::seconds(5430)), "1h30m30s");
        let s = check(&format!("token_lifetime = 300\n{}", minimal(""))).unwrap();
        assert_eq!(s.token_lifetime, Duration::minutes(5));
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let e = check("issuer = \n").unwrap_err();
        assert!(e.starts_with("jeton.toml:1:"), "{e}");
    }
}

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

use jeton::time::format_description::well_known::Rfc3339;
use jeton::time::{Duration, OffsetDateTime};
use jeton::{
    AuthMethod, ClientId, ClientRecord, DecoyKind, DefaultScope, Endpoints, Engine, GrantType,
    IssuerId, JwtIssuer, KeySet, RegisteredSecret, Resource, Scope, ScopeToken, SecretVerifier,
    SigningKey, SystemRandom, TokenFormat,
};
use jeton_hyper::Transport;
use jeton_memory::{MemoryRevocationList, MemoryTokenStore};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::fmt;
use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::ops::Range;
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
    /// The registered clients.
    pub(crate) clients: Vec<ClientRecord>,
    /// Listener settings.
    pub(crate) server: ServerOptions,
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
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Builds the engine (stores, issuer, policy) from these settings. Consumes the keys.
    pub(crate) fn build_engine(&mut self) -> Result<Engine, String> {
        let rng = Arc::new(SystemRandom::new());
        let jwt = match self.keys.take() {
            Some(keys) => Some(
                JwtIssuer::builder(self.issuer.clone(), keys, rng.clone())
                    .default_audience(self.default_audience.iter().cloned())
                    .revocation_list(Arc::new(MemoryRevocationList::new())),
            ),
            None => None,
        };
        let issuer =
            jeton::internal::build_issuer(self.format, Arc::new(MemoryTokenStore::new()), rng, jwt)
                .map_err(|e| e.to_string())?;
        let clients = Arc::new(jeton_memory::MemoryClientStore::with_clients(
            self.clients.iter().cloned(),
        ));
        let mut b = Engine::builder(clients, issuer)
            .issuer(self.issuer.clone())
            .transport(self.transport.clone())
            .default_token_lifetime(self.token_lifetime)
            .max_token_lifetime(self.max_token_lifetime)
            .default_audience(self.default_audience.iter().cloned())
            .allow_client_secret_post(self.allow_client_secret_post);
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
        // RFC 6749 §10.10: an unknown client must cost what a known one costs, so
        // the decoy imitates the slowest verifier in use.
        if let Some(n) = self
            .clients
            .iter()
            .flat_map(|c| &c.secrets)
            .filter_map(|s| match &s.verifier {
                SecretVerifier::Pbkdf2Sha256 { iterations, .. } => Some(*iterations),
                _ => None,
            })
            .max()
        {
            b = b.decoy(DecoyKind::Pbkdf2Sha256(n));
        }
        b.build().map_err(|e| e.to_string())
    }

    /// A human summary (no secret, no verifier), for `config check` and the start banner.
    pub(crate) fn summary(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(s, "issuer:          {}", self.issuer);
        let _ = writeln!(s, "listen:          {}", self.listen);
        let transport = match &self.transport {
            Transport::Plaintext => "plaintext (no TLS; development only)".to_owned(),
            Transport::BehindProxy { trusted } => format!(
                "behind_proxy (trusted: {})",
                trusted
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            other => format!("{other:?}"),
        };
        let _ = writeln!(s, "transport:       {transport}");
        let _ = write!(s, "token format:    {}", self.format);
        if let Some(keys) = &self.keys {
            let active = keys.active();
            let _ = write!(
                s,
                " (signing with {} key \"{}\"; {} key(s) published)",
                active.algorithm(),
                active.kid(),
                keys.jwks().len()
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "token lifetime:  {} (max {})",
            fmt_duration(self.token_lifetime),
            fmt_duration(self.max_token_lifetime)
        );
        if !self.default_audience.is_empty() {
            let _ = writeln!(s, "default aud:     {}", join(&self.default_audience));
        }
        let e = Endpoints::under(&self.issuer);
        let _ = write!(
            s,
            "paths:           token {}, introspection {}, revocation {}",
            Endpoints::path_of(&e.token),
            e.introspection.as_deref().map_or("-", Endpoints::path_of),
            e.revocation.as_deref().map_or("-", Endpoints::path_of),
        );
        if self.format == TokenFormat::Jwt {
            let _ = write!(
                s,
                ", jwks {}",
                e.jwks.as_deref().map_or("-", Endpoints::path_of)
            );
        }
        let _ = writeln!(
            s,
            ", metadata {}, health {}",
            self.issuer.metadata_path(),
            self.server.health_path
        );
        let _ = writeln!(s, "clients:         {}", self.clients.len());
        for c in &self.clients {
            let methods: Vec<&str> = c.auth_methods.iter().map(|m| m.as_str()).collect();
            let default = match &c.default_scope {
                DefaultScope::Fixed(s) => format!("fixed \"{s}\""),
                DefaultScope::AllAllowed => "all".to_owned(),
                _ => "deny".to_owned(),
            };
            let _ = writeln!(
                s,
                "  {}{}: scopes \"{}\", default {default}, auth {}, {} secret(s){}{}",
                c.id,
                if c.enabled { "" } else { " (disabled)" },
                c.allowed_scopes,
                methods.join("+"),
                c.secrets.len(),
                if c.may_introspect {
                    ", may introspect"
                } else {
                    ""
                },
                c.token_lifetime
                    .map(|d| format!(", lifetime {}", fmt_duration(d)))
                    .unwrap_or_default(),
            );
        }
        s
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
// Errors
// ---------------------------------------------------------------------------------------------

/// A configuration was refused. Its `Display` is one line per problem, ready for stderr.
#[derive(Debug)]
pub(crate) struct ConfigError(Vec<String>);

impl ConfigError {
    /// An error not tied to a place in the file.
    pub(crate) fn plain(msg: impl Into<String>) -> Self {
        Self(vec![msg.into()])
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

impl std::error::Error for ConfigError {}

/// One problem found while checking meaning, at a key path such as `clients[1].secrets[0]`.
struct Problem {
    path: String,
    message: String,
}

/// The file being read: its name (as given) and text.
struct Source<'a> {
    name: String,
    text: &'a str,
    tree: Option<toml::Spanned<toml::de::DeTable<'a>>>,
}

impl<'a> Source<'a> {
    fn new(name: &Path, text: &'a str) -> Self {
        Self {
            name: name.display().to_string(),
            text,
            tree: toml::de::DeTable::parse(text).ok(),
        }
    }

    /// `file:line:col` for a byte offset.
    fn position(&self, offset: usize) -> String {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        format!("{}:{line}:{col}", self.name)
    }

    /// Renders a `toml` deserialization error: position, key path, message.
    fn render_toml(&self, e: &toml::de::Error) -> String {
        let message = e.message().trim_end();
        match e.span() {
            Some(span) => match self.path_at(span.start) {
                Some(path) => format!("{}: {path}: {message}", self.position(span.start)),
                None => format!("{}: {message}", self.position(span.start)),
            },
            None => format!("{}: {message}", self.name),
        }
    }

    /// Renders a problem found while checking meaning.
    fn render(&self, p: &Problem) -> String {
        match self.span_of(&p.path) {
            Some(span) => format!("{}: {}: {}", self.position(span.start), p.path, p.message),
            None => format!("{}: {}: {}", self.name, p.path, p.message),
        }
    }

    /// The key path of the smallest key or value whose span holds `offset`.
    fn path_at(&self, offset: usize) -> Option<String> {
        fn walk(
            table: &toml::de::DeTable<'_>,
            prefix: &str,
            offset: usize,
            best: &mut Option<(usize, String)>,
        ) {
            for (k, v) in table {
                let path = if prefix.is_empty() {
                    k.get_ref().to_string()
                } else {
                    format!("{prefix}.{}", k.get_ref())
                };
                consider(k.span(), &path, offset, best);
                walk_value(v, &path, offset, best);
            }
        }
        fn walk_value(
            v: &toml::Spanned<toml::de::DeValue<'_>>,
            path: &str,
            offset: usize,
            best: &mut Option<(usize, String)>,
        ) {
            consider(v.span(), path, offset, best);
            match v.get_ref() {
                toml::de::DeValue::Table(t) => walk(t, path, offset, best),
                toml::de::DeValue::Array(a) => {
                    for (i, item) in a.iter().enumerate() {
                        walk_value(item, &format!("{path}[{i}]"), offset, best);
                    }
                }
                _ => {}
            }
        }
        fn consider(
            span: Range<usize>,
            path: &str,
            offset: usize,
            best: &mut Option<(usize, String)>,
        ) {
            if span.contains(&offset) || (span.is_empty() && span.start == offset) {
                let len = span.len();
                if best.as_ref().is_none_or(|(l, _)| len <= *l) {
                    *best = Some((len, path.to_owned()));
                }
            }
        }
        let tree = self.tree.as_ref()?;
        let mut best = None;
        walk(tree.get_ref(), "", offset, &mut best);
        best.map(|(_, p)| p)
    }

    /// The span of the value at a key path (`a.b[2].c`).
    fn span_of(&self, path: &str) -> Option<Range<usize>> {
        let tree = self.tree.as_ref()?;
        let mut table = tree.get_ref();
        let mut span = None;
        let mut segments = path.split('.').peekable();
        while let Some(seg) = segments.next() {
            let (key, indices) = match seg.find('[') {
                Some(i) => (&seg[..i], &seg[i..]),
                None => (seg, ""),
            };
            let (_, mut value) = table.iter().find(|(k, _)| k.get_ref() == key)?;
            for idx in indices
                .split(['[', ']'])
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<usize>())
            {
                let toml::de::DeValue::Array(a) = value.get_ref() else {
                    return None;
                };
                value = a.get(idx.ok()?)?;
            }
            span = Some(value.span());
            if segments.peek().is_some() {
                let toml::de::DeValue::Table(t) = value.get_ref() else {
                    return span;
                };
                table = t;
            }
        }
        span
    }
}

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

/// The whole file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(deserialize_with = "de_issuer")]
    issuer: IssuerId,
    #[serde(default, deserialize_with = "de_listen")]
    listen: Option<SocketAddr>,
    #[serde(default)]
    token_format: TokenFormat,
    #[serde(default)]
    token_lifetime: Option<DurationValue>,
    #[serde(default)]
    max_token_lifetime: Option<DurationValue>,
    #[serde(default)]
    default_audience: Vec<Item<Resource>>,
    #[serde(default)]
    scopes_supported: Option<Vec<Item<ScopeToken>>>,
    #[serde(default)]
    subject_prefix: Option<String>,
    #[serde(default = "yes")]
    allow_client_secret_post: bool,
    #[serde(default)]
    transport: TransportSection,
    #[serde(default)]
    server: ServerSection,
    #[serde(default)]
    signing: Option<SigningSection>,
    clients: Vec<ClientSection>,
}

fn yes() -> bool {
    true
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TransportSection {
    #[serde(default)]
    mode: TransportMode,
    #[serde(default)]
    trusted_proxies: Vec<IpAddr>,
    #[serde(default)]
    allow_insecure: bool,
}

#[derive(Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum TransportMode {
    #[default]
    Plaintext,
    BehindProxy,
    Tls,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSection {
    #[serde(default)]
    health_path: Option<String>,
    #[serde(default)]
    drain_timeout: Option<DurationValue>,
    #[serde(default)]
    request_timeout: Option<DurationValue>,
    #[serde(default)]
    header_read_timeout: Option<DurationValue>,
    #[serde(default)]
    max_connections: Option<u32>,
    #[serde(default)]
    log_format: LogFormat,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SigningSection {
    #[serde(default)]
    active: Option<String>,
    keys: Vec<KeyEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    path: PathBuf,
    #[serde(default)]
    kid: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientSection {
    id: ClientId,
    secrets: Vec<SecretEntry>,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    scopes: Vec<Item<ScopeToken>>,
    #[serde(default)]
    default_scope: DefaultScopeValue,
    #[serde(default)]
    grant_types: Option<Vec<GrantType>>,
    #[serde(default)]
    auth_methods: Option<Vec<AuthMethod>>,
    #[serde(default)]
    resources: Vec<Item<Resource>>,
    #[serde(default)]
    default_audience: Vec<Item<Resource>>,
    #[serde(default)]
    may_introspect: bool,
    #[serde(default)]
    introspect_audiences: Vec<Item<Resource>>,
    #[serde(default)]
    token_lifetime: Option<DurationValue>,
}

/// `"deny"`, `"all"` or `{ fixed = ["a", "b"] }`.
#[derive(Default, Deserialize)]
#[serde(rename_all = "snake_case")]
enum DefaultScopeValue {
    #[default]
    Deny,
    All,
    Fixed(Vec<Item<ScopeToken>>),
}

/// A protocol word read from a string, whose error quotes the value (scopes and resource URIs
/// are not secret) since `toml` reports an array item's error at the whole array.
struct Item<T>(T);

/// What an [`Item`] holds, for its error message.
trait Described: TryFrom<String, Error = jeton::InvalidValue> {
    /// The noun for the value.
    const WHAT: &'static str;
}

impl Described for ScopeToken {
    const WHAT: &'static str = "scope token";
}

impl Described for Resource {
    const WHAT: &'static str = "resource URI";
}

impl<'de, T: Described> Deserialize<'de> for Item<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        T::try_from(s.clone())
            .map(Item)
            .map_err(|e| de::Error::custom(format!("invalid {} \"{s}\": {e}", T::WHAT)))
    }
}

/// Unwraps a list of [`Item`]s.
fn items<T>(v: Vec<Item<T>>) -> Vec<T> {
    v.into_iter().map(|i| i.0).collect()
}

/// A duration: an integer number of seconds, or a string of `<n><unit>` parts with units `s`,
/// `m`, `h`, `d` (`"90s"`, `"15m"`, `"1h30m"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DurationValue(pub(crate) Duration);

/// Parses `"1h30m"`-style durations; positive, at most 400 days.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "invalid duration \"{s}\": expected seconds (900) or a string like \"15m\", \"1h30m\" (units s, m, h, d)"
        )
    };
    let mut total: i64 = 0;
    let mut digits = String::new();
    let mut any = false;
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: i64 = digits.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        digits.clear();
        any = true;
    }
    if !digits.is_empty() || !any {
        return Err(bad());
    }
    check_duration(total)
}

fn check_duration(secs: i64) -> Result<Duration, String> {
    if secs <= 0 {
        return Err("a duration must be positive".to_owned());
    }
    if secs > 400 * 86_400 {
        return Err("a duration must be at most 400 days".to_owned());
    }
    Ok(Duration::seconds(secs))
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DurationValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration: seconds as an integer, or a string like \"15m\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DurationValue, E> {
                check_duration(v).map(DurationValue).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DurationValue, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationValue, E> {
                parse_duration(v).map(DurationValue).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// One client secret: a verifier string, or `{ verifier = "...", expires_at = ... }`.
struct SecretEntry(RegisteredSecret);

/// Reads a verifier string, refusing what looks like a plaintext secret. The value is never
/// quoted in the error.
pub(crate) fn parse_verifier(s: &str) -> Result<SecretVerifier, String> {
    if !s.starts_with('$') {
        let what = if jeton::is_generated_secret(s) {
            "this is a plaintext client secret (jcs_...)"
        } else {
            "this looks like a plaintext secret, not a verifier"
        };
        return Err(format!(
            "{what}: the config file holds only secret verifiers ($hmac-sha256$... or \
             $pbkdf2-sha256$...). Make one with `jeton secret hash` (or register a new client \
             with `jeton client new`), and remove the plaintext from this file"
        ));
    }
    s.parse::<SecretVerifier>().map_err(|e| e.to_string())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretTable {
    #[serde(deserialize_with = "de_verifier")]
    verifier: SecretVerifier,
    #[serde(default, deserialize_with = "de_datetime")]
    expires_at: Option<OffsetDateTime>,
}

impl<'de> Deserialize<'de> for SecretEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SecretEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a verifier string or a table { verifier = \"...\", expires_at = ... }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SecretEntry, E> {
                parse_verifier(v)
                    .map(|v| SecretEntry(RegisteredSecret::new(v)))
                    .map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SecretEntry, A::Error> {
                let t = SecretTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(SecretEntry(match t.expires_at {
                    Some(at) => RegisteredSecret::expiring(t.verifier, at),
                    None => RegisteredSecret::new(t.verifier),
                }))
            }
        }
        d.deserialize_any(V)
    }
}

fn de_verifier<'de, D: Deserializer<'de>>(d: D) -> Result<SecretVerifier, D::Error> {
    let s = String::deserialize(d)?;
    parse_verifier(&s).map_err(de::Error::custom)
}

fn de_issuer<'de, D: Deserializer<'de>>(d: D) -> Result<IssuerId, D::Error> {
    let s = String::deserialize(d)?;
    IssuerId::new(s).map_err(de::Error::custom)
}

fn de_listen<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
    let s = String::deserialize(d)?;
    parse_listen(&s).map(Some).map_err(de::Error::custom)
}

/// Parses a listen address (`IP:port`; host names are not resolved).
pub(crate) fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    s.parse().map_err(|_| {
        format!(
            "invalid listen address \"{s}\": expected IP:port, such as 127.0.0.1:8080 or [::1]:8080"
        )
    })
}

/// An RFC 3339 date-time with an offset: a TOML offset date-time or a string.
fn de_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = OffsetDateTime;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an RFC 3339 date-time with offset, such as 2026-01-31T00:00:00Z")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<OffsetDateTime, E> {
            OffsetDateTime::parse(v, &Rfc3339).map_err(|_| {
                E::custom(format!(
                    "invalid date-time \"{v}\": expected RFC 3339 with an offset, such as 2026-01-31T00:00:00Z"
                ))
            })
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<OffsetDateTime, A::Error> {
            let dt =
                toml::value::Datetime::deserialize(de::value::MapAccessDeserializer::new(map))?;
            self.visit_str(&dt.to_string())
        }
    }
    d.deserialize_any(V).map(Some)
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

/// Pass 2: cross-field rules and key files. Pushes every problem found; `None` if any.
fn resolve(
    file: FileConfig,
    base: &Path,
    listen_override: Option<SocketAddr>,
    problems: &mut Vec<Problem>,
) -> Option<Settings> {
    let mut bad = |path: &str, message: String| {
        problems.push(Problem {
            path: path.to_owned(),
            message,
        });
    };

    // Listener and transport.
    let listen = listen_override
        .or(file.listen)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    let t = &file.transport;
    let transport = match t.mode {
        TransportMode::Tls => {
            bad(
                "transport.mode",
                "this binary has no TLS listener: terminate TLS at a reverse proxy and use \
                 mode = \"behind_proxy\" with its address in trusted_proxies"
                    .to_owned(),
            );
            Transport::Plaintext
        }
        TransportMode::BehindProxy => {
            if t.trusted_proxies.is_empty() {
                bad(
                    "transport.mode",
                    "behind_proxy needs trusted_proxies = [\"<proxy IP>\", ...]".to_owned(),
                );
            }
            if t.allow_insecure {
                bad(
                    "transport.allow_insecure",
                    "allow_insecure applies to mode = \"plaintext\" only".to_owned(),
                );
            }
            Transport::BehindProxy {
                trusted: t.trusted_proxies.clone(),
            }
        }
        TransportMode::Plaintext => {
            if !t.trusted_proxies.is_empty() {
                bad(
                    "transport.trusted_proxies",
                    "trusted_proxies applies to mode = \"behind_proxy\" only".to_owned(),
                );
            }
            if !is_loopback(&listen) && !t.allow_insecure {
                let msg = format!(
                    "plain HTTP on a non-loopback address ({listen}) would send secrets and tokens \
                     in clear text: use mode = \"behind_proxy\" behind a TLS-terminating proxy, \
                     or set allow_insecure = true in [transport] if the network is protected \
                     otherwise"
                );
                if listen_override.is_some() {
                    bad("--listen", msg);
                } else if file.listen.is_some() {
                    bad("listen", msg);
                } else {
                    bad("transport", msg);
                }
            }
            Transport::Plaintext
        }
    };

    // Lifetimes.
    let token_lifetime = file.token_lifetime.map_or(Duration::minutes(15), |d| d.0);
    let max_token_lifetime = file
        .max_token_lifetime
        .map_or(Duration::hours(24).max(token_lifetime), |d| d.0);
    if token_lifetime > max_token_lifetime {
        bad(
            "token_lifetime",
            format!(
                "token_lifetime ({}) is longer than max_token_lifetime ({})",
                fmt_duration(token_lifetime),
                fmt_duration(max_token_lifetime)
            ),
        );
    }

    if let Some(p) = &file.subject_prefix
        && (p.is_empty() || !p.bytes().all(|b| (0x21..=0x7e).contains(&b)))
    {
        bad(
            "subject_prefix",
            "must be printable ASCII without spaces".to_owned(),
        );
    }

    // Server options.
    let defaults = ServerOptions::default();
    let sv = &file.server;
    let health_path = sv.health_path.clone().unwrap_or(defaults.health_path);
    let endpoint_paths = endpoint_paths(&file.issuer);
    if !health_path.starts_with('/')
        || health_path.contains(['?', '#'])
        || !health_path.bytes().all(|b| (0x21..=0x7e).contains(&b))
    {
        bad(
            "server.health_path",
            "must be a path starting with '/', without query or fragment".to_owned(),
        );
    } else if endpoint_paths.iter().any(|p| p == &health_path) {
        bad(
            "server.health_path",
            format!("\"{health_path}\" is already an OAuth endpoint path"),
        );
    }
    let std_dur = |d: Option<DurationValue>, default: std::time::Duration| {
        d.map_or(default, |d| {
            std::time::Duration::from_secs(d.0.whole_seconds().unsigned_abs())
        })
    };
    let max_connections = match sv.max_connections {
        Some(0) => {
            bad("server.max_connections", "must be at least 1".to_owned());
            1
        }
        Some(n) => n as usize,
        None => defaults.max_connections,
    };
    let server = ServerOptions {
        health_path,
        drain_timeout: std_dur(sv.drain_timeout, defaults.drain_timeout),
        request_timeout: std_dur(sv.request_timeout, defaults.request_timeout),
        header_read_timeout: std_dur(sv.header_read_timeout, defaults.header_read_timeout),
        max_connections,
        log_format: sv.log_format,
    };

    // Signing keys.
    let keys = match (file.token_format, &file.signing) {
        (TokenFormat::Jwt, None) => {
            bad(
                "token_format",
                "token_format = \"jwt\" needs a [signing] section with at least one key \
                 (make one with `jeton key new --out FILE`)"
                    .to_owned(),
            );
            None
        }
        (TokenFormat::Jwt, Some(s)) => load_keys(s, base, &mut bad),
        (_, Some(_)) => {
            bad(
                "signing",
                "signing keys are used only with token_format = \"jwt\"; remove [signing] or \
                 set token_format = \"jwt\""
                    .to_owned(),
            );
            None
        }
        (_, None) => None,
    };

    // Clients.
    if file.clients.is_empty() {
        bad(
            "clients",
            "at least one [[clients]] entry is needed".to_owned(),
        );
    }
    let mut clients: Vec<ClientRecord> = Vec::with_capacity(file.clients.len());
    for (i, c) in file.clients.into_iter().enumerate() {
        let at = |k: &str| format!("clients[{i}].{k}");
        if clients.iter().any(|o| o.id == c.id) {
            bad(
                &at("id"),
                format!("client id \"{}\" is registered twice", c.id),
            );
        }
        if c.secrets.is_empty() {
            bad(
                &at("secrets"),
                "a client needs at least one secret verifier (client credentials is for \
                 confidential clients only, RFC 6749 §4.4)"
                    .to_owned(),
            );
        }
        let methods = c
            .auth_methods
            .unwrap_or_else(|| vec![AuthMethod::ClientSecretBasic]);
        if methods.is_empty() {
            bad(
                &at("auth_methods"),
                "must list at least one method".to_owned(),
            );
        }
        if methods.contains(&AuthMethod::None) {
            bad(
                &at("auth_methods"),
                "\"none\" is a public client, which can never use the client credentials grant \
                 (RFC 6749 §4.4)"
                    .to_owned(),
            );
        }
        if methods.contains(&AuthMethod::ClientSecretPost) && !file.allow_client_secret_post {
            bad(
                &at("auth_methods"),
                "client_secret_post is turned off by allow_client_secret_post = false".to_owned(),
            );
        }
        let grants = c
            .grant_types
            .unwrap_or_else(|| vec![GrantType::ClientCredentials]);
        if grants.is_empty() {
            bad(
                &at("grant_types"),
                "must list at least one grant type".to_owned(),
            );
        }
        let scopes = Scope::from_tokens(items(c.scopes));
        let resources = items(c.resources);
        let client_audience = items(c.default_audience);
        let default_scope = match c.default_scope {
            DefaultScopeValue::Deny => DefaultScope::Deny,
            DefaultScopeValue::All => DefaultScope::AllAllowed,
            DefaultScopeValue::Fixed(tokens) => {
                let tokens = items(tokens);
                if tokens.is_empty() {
                    bad(
                        &at("default_scope"),
                        "fixed needs at least one scope (or use \"deny\")".to_owned(),
                    );
                }
                for t in tokens.iter().filter(|t| !scopes.contains(t)) {
                    bad(
                        &at("default_scope"),
                        format!("default scope \"{t}\" is not in this client's scopes"),
                    );
                }
                DefaultScope::Fixed(Scope::from_tokens(tokens))
            }
        };
        for r in client_audience
            .iter()
            .filter(|r| !resources.is_empty() && !resources.contains(r))
        {
            bad(
                &at("default_audience"),
                format!("default audience \"{r}\" is not in this client's resources"),
            );
        }
        if file.token_format == TokenFormat::Jwt
            && client_audience.is_empty()
            && file.default_audience.is_empty()
        {
            bad(
                &at("default_audience"),
                "JWT access tokens need an audience (RFC 9068 §2.2): set default_audience for \
                 this client, or a top-level default_audience"
                    .to_owned(),
            );
        }
        if let Some(d) = c.token_lifetime
            && d.0 > max_token_lifetime
        {
            bad(
                &at("token_lifetime"),
                format!(
                    "{} is longer than max_token_lifetime ({})",
                    fmt_duration(d.0),
                    fmt_duration(max_token_lifetime)
                ),
            );
        }
        let mut b = ClientRecord::builder(c.id)
            .enabled(c.enabled)
            .grant_types(grants)
            .auth_methods(methods)
            .scopes(scopes)
            .default_scope(default_scope)
            .allowed_resources(resources)
            .default_audience(client_audience)
            .may_introspect(c.may_introspect)
            .introspect_audiences(items(c.introspect_audiences));
        if let Some(d) = c.token_lifetime {
            b = b.token_lifetime(d.0);
        }
        for s in c.secrets {
            b = match s.0.expires_at {
                Some(at) => b.secret_expiring(s.0.verifier, at),
                None => b.secret(s.0.verifier),
            };
        }
        clients.push(b.build());
    }

    let now = OffsetDateTime::now_utc();
    for c in &clients {
        let expired = c.secrets.iter().filter(|s| !s.is_active(now)).count();
        if expired == c.secrets.len() && expired > 0 {
            eprintln!(
                "warning: every secret of client \"{}\" has expired: it cannot authenticate",
                c.id
            );
        } else if expired > 0 {
            eprintln!(
                "warning: client \"{}\" has {expired} expired secret(s); remove them from the file",
                c.id
            );
        }
    }
    let pbkdf2_low = clients
        .iter()
        .flat_map(|c| &c.secrets)
        .any(|s| matches!(&s.verifier, SecretVerifier::Pbkdf2Sha256 { iterations, .. } if iterations.get() < 100_000));
    if pbkdf2_low {
        eprintln!(
            "warning: some PBKDF2 verifiers use fewer than 100000 iterations; re-hash those \
             secrets with `jeton secret hash --pbkdf2` ({} iterations)",
            jeton::PBKDF2_DEFAULT_ITERATIONS
        );
    }

    if !problems.is_empty() {
        return None;
    }
    Some(Settings {
        issuer: file.issuer,
        listen,
        transport,
        format: file.token_format,
        keys,
        token_lifetime,
        max_token_lifetime,
        default_audience: items(file.default_audience),
        scopes_supported: file.scopes_supported.map(|s| Scope::from_tokens(items(s))),
        subject_prefix: file.subject_prefix,
        allow_client_secret_post: file.allow_client_secret_post,
        clients,
        server,
    })
}

/// The paths the OAuth endpoints and the metadata document are served on.
fn endpoint_paths(issuer: &IssuerId) -> Vec<String> {
    let e = Endpoints::under(issuer);
    std::iter::once(e.token)
        .chain(e.introspection)
        .chain(e.revocation)
        .chain(e.jwks)
        .map(|u| Endpoints::path_of(&u).to_owned())
        .chain(std::iter::once(issuer.metadata_path()))
        .collect()
}

/// Loads the key files of `[signing]` and builds the key set.
fn load_keys(
    s: &SigningSection,
    base: &Path,
    bad: &mut impl FnMut(&str, String),
) -> Option<KeySet> {
    if s.keys.is_empty() {
        bad("signing.keys", "at least one key is needed".to_owned());
        return None;
    }
    let mut loaded: Vec<SigningKey> = Vec::new();
    let mut ok = true;
    for (i, k) in s.keys.iter().enumerate() {
        let at = |f: &str| format!("signing.keys[{i}].{f}");
        let path = if k.path.is_absolute() {
            k.path.clone()
        } else {
            base.join(&k.path)
        };
        let key = read_bounded(&path, MAX_KEY_BYTES)
            .map_err(|e| format!("{}: {e}", path.display()))
            .and_then(|pem| {
                SigningKey::from_pkcs8_pem(&pem).map_err(|e| format!("{}: {e}", path.display()))
            })
            .and_then(|key| match &k.kid {
                Some(kid) => key.with_kid(kid.clone()).map_err(|e| e.to_string()),
                None => Ok(key),
            });
        match key {
            Ok(key) => {
                warn_if_readable_by_others(&path);
                if loaded.iter().any(|o| o.kid() == key.kid()) {
                    bad(&at("path"), format!("kid \"{}\" appears twice", key.kid()));
                    ok = false;
                }
                loaded.push(key);
            }
            Err(e) => {
                let field = if e.contains("kid") && k.kid.is_some() {
                    "kid"
                } else {
                    "path"
                };
                bad(&at(field), e);
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    let active_index = match &s.active {
        Some(kid) => match loaded.iter().position(|k| k.kid() == kid) {
            Some(i) => i,
            None => {
                let kids: Vec<&str> = loaded.iter().map(SigningKey::kid).collect();
                bad(
                    "signing.active",
                    format!("no key has kid \"{kid}\" (kids: {})", kids.join(", ")),
                );
                return None;
            }
        },
        None if loaded.len() == 1 => 0,
        None => {
            bad(
                "signing.active",
                "several keys are listed: name the one that signs with active = \"<kid>\"; the \
                 others are published for verification only"
                    .to_owned(),
            );
            return None;
        }
    };
    let active = loaded.remove(active_index);
    let mut set = KeySet::new(active);
    for other in loaded {
        match set.with_verification_key(other.verifying_key().clone()) {
            Ok(s) => set = s,
            Err(e) => {
                bad("signing.keys", e.to_string());
                return None;
            }
        }
    }
    Some(set)
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        eprintln!(
            "warning: private key {} is readable by group or others; chmod 600 it",
            path.display()
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}

/// The PBKDF2 iteration count `secret hash --pbkdf2` uses unless told otherwise.
pub(crate) fn default_iterations() -> NonZeroU32 {
    NonZeroU32::new(jeton::PBKDF2_DEFAULT_ITERATIONS).unwrap_or(NonZeroU32::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str =
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
            e.contains("clients[0].default_audience: JWT access tokens need an audience"),
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

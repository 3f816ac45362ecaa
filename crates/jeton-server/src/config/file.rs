//! Pass 1: the file's shape, as `serde` reads it (`deny_unknown_fields` everywhere), and the
//! value parsers its fields use.

use super::*;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

/// The whole file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    #[serde(deserialize_with = "de_issuer")]
    pub(super) issuer: IssuerId,
    #[serde(default, deserialize_with = "de_listen")]
    pub(super) listen: Option<SocketAddr>,
    #[serde(default)]
    pub(super) token_format: TokenFormat,
    #[serde(default)]
    pub(super) token_lifetime: Option<DurationValue>,
    #[serde(default)]
    pub(super) max_token_lifetime: Option<DurationValue>,
    #[serde(default)]
    pub(super) default_audience: Vec<Item<Resource>>,
    #[serde(default)]
    pub(super) scopes_supported: Option<Vec<Item<ScopeToken>>>,
    #[serde(default)]
    pub(super) subject_prefix: Option<String>,
    #[serde(default = "yes")]
    pub(super) allow_client_secret_post: bool,
    /// Accept the token endpoint URL as a client assertion's `aud` (legacy; rfc7523bis).
    #[serde(default)]
    pub(super) accept_token_endpoint_audience: bool,
    /// Also accept Basic credentials that are not form-encoded.
    #[serde(default)]
    pub(super) accept_raw_basic_credentials: bool,
    #[serde(default)]
    pub(super) transport: TransportSection,
    #[serde(default)]
    pub(super) server: ServerSection,
    #[serde(default)]
    pub(super) signing: Option<SigningSection>,
    #[serde(default)]
    pub(super) limits: LimitsSection,
    #[serde(default)]
    pub(super) store: StoreSection,
    #[serde(default)]
    pub(super) dpop: DpopSection,
    #[serde(default)]
    pub(super) clients: Vec<ClientSection>,
}

/// `[dpop]`: DPoP server nonces (RFC 9449 §8). Resolved in `key_auth.rs`.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DpopSection {
    /// Require a server nonce in DPoP proofs at the token endpoint.
    #[serde(default)]
    pub(super) nonces: bool,
    /// How often the nonce changes.
    #[serde(default)]
    pub(super) nonce_period: Option<DurationValue>,
    /// The HMAC key of the nonces, shared by every node (64 hex digits).
    #[serde(default)]
    pub(super) nonce_key_file: Option<PathBuf>,
}

/// `[limits]`: what an attacker may cost (issue 9). Every key optional; defaults in
/// [`super::LimitOptions::default`].
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LimitsSection {
    #[serde(default)]
    pub(super) failures_per_source: Option<u32>,
    #[serde(default)]
    pub(super) failures_per_client_source: Option<u32>,
    #[serde(default)]
    pub(super) failure_window: Option<DurationValue>,
    #[serde(default)]
    pub(super) verify_pool: Option<u32>,
    #[serde(default)]
    pub(super) max_tokens: Option<u32>,
    #[serde(default)]
    pub(super) max_tokens_per_client: Option<u32>,
    #[serde(default)]
    pub(super) purge_interval: Option<DurationValue>,
    #[serde(default)]
    pub(super) max_connections_per_peer: Option<u32>,
    #[serde(default)]
    pub(super) min_body_rate: Option<u32>,
    #[serde(default)]
    pub(super) body_grace: Option<DurationValue>,
}

/// `[store]`: where clients, tokens and revocations live, and the pool's bounds.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StoreSection {
    #[serde(default, deserialize_with = "de_store_url")]
    pub(super) url: StoreUrl,
    #[serde(default)]
    pub(super) max_connections: Option<u32>,
    #[serde(default)]
    pub(super) min_connections: Option<u32>,
    #[serde(default)]
    pub(super) acquire_timeout: Option<DurationValue>,
    #[serde(default)]
    pub(super) idle_timeout: Option<DurationValue>,
    #[serde(default)]
    pub(super) max_lifetime: Option<DurationValue>,
    #[serde(default)]
    pub(super) purge_batch: Option<u32>,
}

pub(super) fn de_store_url<'de, D: Deserializer<'de>>(d: D) -> Result<StoreUrl, D::Error> {
    let s = String::deserialize(d)?;
    StoreUrl::parse(&s).map_err(de::Error::custom)
}

pub(super) fn yes() -> bool {
    true
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TransportSection {
    #[serde(default)]
    pub(super) mode: TransportMode,
    #[serde(default)]
    pub(super) trusted_proxies: Vec<IpAddr>,
    #[serde(default)]
    pub(super) allow_insecure: bool,
}

#[derive(Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum TransportMode {
    #[default]
    Plaintext,
    BehindProxy,
    Tls,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ServerSection {
    #[serde(default)]
    pub(super) health_path: Option<String>,
    #[serde(default)]
    pub(super) drain_timeout: Option<DurationValue>,
    #[serde(default)]
    pub(super) request_timeout: Option<DurationValue>,
    #[serde(default)]
    pub(super) header_read_timeout: Option<DurationValue>,
    #[serde(default)]
    pub(super) max_connections: Option<u32>,
    #[serde(default)]
    pub(super) log_format: LogFormat,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SigningSection {
    #[serde(default)]
    pub(super) active: Option<String>,
    pub(super) keys: Vec<KeyEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct KeyEntry {
    pub(super) path: PathBuf,
    #[serde(default)]
    pub(super) kid: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClientSection {
    pub(super) id: ClientId,
    #[serde(default)]
    pub(super) secrets: Vec<SecretEntry>,
    /// private_key_jwt: the public JWK Set, inline (a JSON string or a TOML table).
    #[serde(default)]
    pub(super) jwks: Option<toml::Value>,
    /// private_key_jwt: the public JWK Set in a file (relative to the config file).
    #[serde(default)]
    pub(super) jwks_file: Option<std::path::PathBuf>,
    /// private_key_jwt: the one algorithm the client signs with.
    #[serde(default)]
    pub(super) token_endpoint_auth_signing_alg: Option<String>,
    /// DPoP-bound tokens only.
    #[serde(default)]
    pub(super) require_dpop: bool,
    #[serde(default = "yes")]
    pub(super) enabled: bool,
    #[serde(default)]
    pub(super) scopes: Vec<Item<ScopeToken>>,
    #[serde(default)]
    pub(super) default_scope: DefaultScopeValue,
    #[serde(default)]
    pub(super) grant_types: Option<Vec<GrantType>>,
    #[serde(default)]
    pub(super) auth_methods: Option<Vec<AuthMethod>>,
    #[serde(default)]
    pub(super) resources: Vec<Item<Resource>>,
    #[serde(default)]
    pub(super) default_audience: Vec<Item<Resource>>,
    #[serde(default)]
    pub(super) may_introspect: bool,
    #[serde(default)]
    pub(super) introspect_audiences: Vec<Item<Resource>>,
    #[serde(default)]
    pub(super) token_lifetime: Option<DurationValue>,
}

/// `"deny"`, `"all"` or `{ fixed = ["a", "b"] }`.
#[derive(Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum DefaultScopeValue {
    #[default]
    Deny,
    All,
    Fixed(Vec<Item<ScopeToken>>),
}

/// A protocol word read from a string, whose error quotes the value (scopes and resource URIs
/// are not secret) since `toml` reports an array item's error at the whole array.
pub(super) struct Item<T>(T);

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
pub(super) fn items<T>(v: Vec<Item<T>>) -> Vec<T> {
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

pub(super) fn check_duration(secs: i64) -> Result<Duration, String> {
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
pub(super) struct SecretEntry(pub(super) RegisteredSecret);

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
pub(super) struct SecretTable {
    #[serde(deserialize_with = "de_verifier")]
    pub(super) verifier: SecretVerifier,
    #[serde(default, deserialize_with = "de_datetime")]
    pub(super) expires_at: Option<OffsetDateTime>,
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

pub(super) fn de_verifier<'de, D: Deserializer<'de>>(d: D) -> Result<SecretVerifier, D::Error> {
    let s = String::deserialize(d)?;
    parse_verifier(&s).map_err(de::Error::custom)
}

pub(super) fn de_issuer<'de, D: Deserializer<'de>>(d: D) -> Result<IssuerId, D::Error> {
    let s = String::deserialize(d)?;
    IssuerId::new(s).map_err(de::Error::custom)
}

pub(super) fn de_listen<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
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
pub(super) fn de_datetime<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<OffsetDateTime>, D::Error> {
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

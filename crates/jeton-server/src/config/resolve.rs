//! Pass 2: the meaning of a file that has the right shape: cross-field rules and key files,
//! one function per section, each reporting every problem it finds.

use super::file::{
    ClientSection, DefaultScopeValue, SigningSection, TransportMode, TransportSection, items,
};
use super::store_section::store_settings;
use super::*;

/// Where each section reports a problem: the key path and what is wrong.
pub(super) type Bad<'a> = dyn FnMut(&str, String) + 'a;

/// Pass 2: cross-field rules and key files. Pushes every problem found; `None` if any.
pub(super) fn resolve(
    mut file: FileConfig,
    base: &Path,
    listen_override: Option<SocketAddr>,
    problems: &mut Vec<Problem>,
) -> Option<Settings> {
    let mut push = |path: &str, message: String| {
        problems.push(Problem {
            path: path.to_owned(),
            message,
        });
    };
    let bad: &mut Bad<'_> = &mut push;
    let (listen, transport) = listener(file.listen, listen_override, &file.transport, bad);
    let (token_lifetime, max_token_lifetime) = lifetimes(&file, bad);
    let server = server_options(&file, bad);
    let limits = limit_options(&file, bad);
    let keys = signing_keys(&file, base, bad);
    let store = store_settings(&file.store, bad);
    let dpop = super::key_auth::dpop_options(&file.dpop, base, bad);
    let sections = std::mem::take(&mut file.clients);
    if sections.is_empty() && file.store.url.is_memory() {
        bad(
            "clients",
            "at least one [[clients]] entry is needed with the memory store (with a SQL store, \
             clients may also be created with `jeton client create`)"
                .to_owned(),
        );
    }
    let clients = clients(sections, &file, base, max_token_lifetime, bad);

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
        accept_token_endpoint_audience: file.accept_token_endpoint_audience,
        accept_raw_basic: file.accept_raw_basic_credentials,
        clients,
        server,
        store,
        limits,
        dpop,
    })
}

/// `[limits]`, each count checked to be at least 1 and each duration at least 1 second.
fn limit_options(file: &FileConfig, bad: &mut Bad<'_>) -> LimitOptions {
    fn count(bad: &mut Bad<'_>, key: &str, v: Option<u32>, default: u32) -> u32 {
        match v {
            Some(0) => {
                bad(key, "must be at least 1".to_owned());
                default
            }
            Some(n) => n,
            None => default,
        }
    }
    fn seconds(
        bad: &mut Bad<'_>,
        key: &str,
        v: Option<DurationValue>,
        default: std::time::Duration,
    ) -> std::time::Duration {
        match v {
            Some(v) if v.0.whole_seconds() < 1 => {
                bad(key, "must be at least 1 second".to_owned());
                default
            }
            Some(v) => std::time::Duration::from_secs(v.0.whole_seconds().unsigned_abs()),
            None => default,
        }
    }
    let d = LimitOptions::default();
    let l = &file.limits;
    LimitOptions {
        failures_per_source: count(
            bad,
            "limits.failures_per_source",
            l.failures_per_source,
            d.failures_per_source,
        ),
        failures_per_client_source: count(
            bad,
            "limits.failures_per_client_source",
            l.failures_per_client_source,
            d.failures_per_client_source,
        ),
        failure_window: seconds(
            bad,
            "limits.failure_window",
            l.failure_window,
            d.failure_window,
        ),
        verify_pool: count(bad, "limits.verify_pool", l.verify_pool, d.verify_pool),
        max_tokens: count(bad, "limits.max_tokens", l.max_tokens, d.max_tokens),
        max_tokens_per_client: count(
            bad,
            "limits.max_tokens_per_client",
            l.max_tokens_per_client,
            d.max_tokens_per_client,
        ),
        purge_interval: seconds(
            bad,
            "limits.purge_interval",
            l.purge_interval,
            d.purge_interval,
        ),
        max_connections_per_peer: count(
            bad,
            "limits.max_connections_per_peer",
            l.max_connections_per_peer,
            d.max_connections_per_peer,
        ),
        min_body_rate: count(
            bad,
            "limits.min_body_rate",
            l.min_body_rate,
            d.min_body_rate,
        ),
        body_grace: seconds(bad, "limits.body_grace", l.body_grace, d.body_grace),
    }
}

/// The listen address (`--listen` over the file's) and the transport, with its rules.
fn listener(
    file_listen: Option<SocketAddr>,
    listen_override: Option<SocketAddr>,
    t: &TransportSection,
    bad: &mut Bad<'_>,
) -> (SocketAddr, Transport) {
    let listen = listen_override
        .or(file_listen)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
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
                } else if file_listen.is_some() {
                    bad("listen", msg);
                } else {
                    bad("transport", msg);
                }
            }
            Transport::Plaintext
        }
    };
    (listen, transport)
}

/// Token lifetimes and the subject prefix.
fn lifetimes(file: &FileConfig, bad: &mut Bad<'_>) -> (Duration, Duration) {
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
    (token_lifetime, max_token_lifetime)
}

/// The `[server]` table.
fn server_options(file: &FileConfig, bad: &mut Bad<'_>) -> ServerOptions {
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
    ServerOptions {
        health_path,
        drain_timeout: std_dur(sv.drain_timeout, defaults.drain_timeout),
        request_timeout: std_dur(sv.request_timeout, defaults.request_timeout),
        header_read_timeout: std_dur(sv.header_read_timeout, defaults.header_read_timeout),
        max_connections,
        log_format: sv.log_format,
    }
}

/// The `[signing]` keys, loaded from their files, for a JWT deployment.
fn signing_keys(file: &FileConfig, base: &Path, bad: &mut Bad<'_>) -> Option<KeySet> {
    // The engine refuses a JWT issuer without its own default audience (RFC 9068 §2.2 `aud`),
    // so say so here, with the setting's name, rather than at start-up.
    if file.token_format == TokenFormat::Jwt && file.default_audience.is_empty() {
        bad(
            "default_audience",
            "JWT access tokens need a top-level default_audience (RFC 9068 §2.2): the audience \
             of tokens for clients that name no resource and have none of their own"
                .to_owned(),
        );
    }
    match (file.token_format, &file.signing) {
        (TokenFormat::Jwt, None) => {
            bad(
                "token_format",
                "token_format = \"jwt\" needs a [signing] section with at least one key \
                 (make one with `jeton key new --out FILE`)"
                    .to_owned(),
            );
            None
        }
        (TokenFormat::Jwt, Some(s)) => load_keys(s, base, bad),
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
    }
}

/// The `[[clients]]` entries, as records.
fn clients(
    sections: Vec<ClientSection>,
    file: &FileConfig,
    base: &Path,
    max_token_lifetime: Duration,
    bad: &mut Bad<'_>,
) -> Vec<ClientRecord> {
    let mut clients: Vec<ClientRecord> = Vec::with_capacity(sections.len());
    for (i, c) in sections.into_iter().enumerate() {
        let at = |k: &str| format!("clients[{i}].{k}");
        if clients.iter().any(|o| o.id == c.id) {
            bad(
                &at("id"),
                format!("client id \"{}\" is registered twice", c.id),
            );
        }
        let methods_named = c.auth_methods.clone().unwrap_or_default();
        let key_client = methods_named.contains(&AuthMethod::PrivateKeyJwt);
        let keys = crate::config::client_keys::resolve(&c, base, key_client, &at, bad);
        if c.secrets.is_empty() && !(key_client && methods_named.len() == 1) {
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
                for t in tokens.iter().filter(|t| !scopes.contains(t)) {
                    bad(
                        &at("default_scope"),
                        format!("default scope \"{t}\" is not in this client's scopes"),
                    );
                }
                // `fixed = []`: an audience-only token, no scope at all.
                if tokens.is_empty() {
                    DefaultScope::Empty
                } else {
                    DefaultScope::Fixed(Scope::from_tokens(tokens))
                }
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
            .introspect_audiences(items(c.introspect_audiences))
            .require_dpop(c.require_dpop);
        if let Some(k) = keys {
            b = b.keys(k);
        }
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
    clients
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
fn load_keys(s: &SigningSection, base: &Path, bad: &mut Bad<'_>) -> Option<KeySet> {
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
pub(super) fn warn_if_readable_by_others(path: &Path) {
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
pub(super) fn warn_if_readable_by_others(_: &Path) {}

/// The PBKDF2 iteration count `secret hash --pbkdf2` uses unless told otherwise.
pub(crate) fn default_iterations() -> NonZeroU32 {
    NonZeroU32::new(jeton::PBKDF2_DEFAULT_ITERATIONS).unwrap_or(NonZeroU32::MIN)
}

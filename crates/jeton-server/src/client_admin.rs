//! `jeton client create|update|add-secret|retire-secret|remove-secret|disable|enable|delete|list`:
//! client management against the store a configuration file names.
//!
//! Every command opens the store (applying migrations, like `jeton serve`), makes one change
//! through [`ClientRegistry`], and exits. Servers keep no client cache, so the change applies
//! to every node on the store at its next request, without a restart.
//!
//! A new secret is printed once, alone on stdout (`SECRET=$(jeton client create …)`); the store
//! keeps only its verifier. `list` shows secret ids (16 hex characters of a hash of the
//! verifier) and expiries, never a secret or a verifier.
//!
//! A client that is also declared in the file's `[[clients]]` is rewritten from the file at
//! every `jeton serve` start (the file is the truth for it): changing it here warns so.

use crate::cli::{
    AddSecretArgs, ClientCreateArgs, ClientRefArgs, ClientSettingsArgs, ClientUpdateArgs,
    RetireSecretArgs, SecretRefArgs, StoreArgs,
};
use crate::config::{self, Settings, fmt_duration};
use crate::store::{Backend, describe};
use jeton::time::format_description::well_known::Rfc3339;
use jeton::time::{Duration, OffsetDateTime};
use jeton::{
    AuthMethod, ClientId, ClientRecord, ClientRegistry, DefaultScope, MAX_LIST_CLIENTS,
    RegisteredSecret, Resource, Scope, SecretId, StoreError, SystemRandom,
};
use std::future::Future;
use std::sync::Arc;

/// The configured store, opened, and what the file declares.
struct Target {
    registry: Arc<dyn ClientRegistry>,
    settings: Settings,
}

/// Loads the file, opens its store on a one-thread runtime, and runs `f` on it.
fn with_store<F, Fut>(args: &StoreArgs, f: F) -> Result<(), String>
where
    F: FnOnce(Target) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let settings = config::load(&args.config, None).map_err(|e| e.to_string())?;
    if settings.store.url.is_memory() {
        return Err(format!(
            "{}: the store is memory (inside one `jeton serve` process), which these commands \
             cannot reach: set [store] url = \"postgres://…\" or \"sqlite://…\", or register \
             clients in the file with `jeton client new`",
            args.config.display()
        ));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let backend = Backend::open(&settings.store, settings.token_limits()).await?;
        let registry = backend.registry();
        f(Target { registry, settings }).await
    })
}

fn client_id(s: &str) -> Result<ClientId, String> {
    ClientId::new(s).map_err(|e| format!("--id: {e}"))
}

fn failed(e: StoreError) -> String {
    format!("the store failed: {}", describe(&e))
}

impl Target {
    /// Warns when `id` is declared in the file, where a server start rewrites it.
    fn warn_if_declared(&self, id: &ClientId) {
        if self.settings.clients.iter().any(|c| &c.id == id) {
            eprintln!(
                "warning: client \"{id}\" is declared in the config file, which is the truth for \
                 it: the next `jeton serve` start replaces its settings and secrets with the \
                 file's. Change the file instead, or remove the client from it."
            );
        }
    }

    async fn existing(&self, id: &ClientId) -> Result<ClientRecord, String> {
        self.registry
            .client(id)
            .await
            .map_err(failed)?
            .map(std::sync::Arc::unwrap_or_clone)
            .ok_or_else(|| format!("no client \"{id}\" in the store"))
    }
}

/// Applies the settings given on the command line to `c`.
fn apply(c: &mut ClientRecord, a: &ClientSettingsArgs, max: Duration) -> Result<(), String> {
    if !a.scopes.is_empty() {
        let mut scope = Scope::default();
        for s in &a.scopes {
            let parsed = Scope::parse(s).map_err(|e| format!("--scope \"{s}\": {e}"))?;
            for t in parsed.iter() {
                scope.insert(t.clone());
            }
        }
        c.allowed_scopes = scope;
    }
    if let Some(d) = &a.default_scope {
        c.default_scope = match d.as_str() {
            "deny" => DefaultScope::Deny,
            "all" => DefaultScope::AllAllowed,
            s => DefaultScope::Fixed(
                Scope::parse(s).map_err(|e| format!("--default-scope \"{s}\": {e}"))?,
            ),
        };
    }
    if let DefaultScope::Fixed(s) = &c.default_scope
        && let Some(t) = s.iter().find(|t| !c.allowed_scopes.contains(t))
    {
        return Err(format!(
            "default scope \"{t}\" is not in the client's scopes"
        ));
    }
    if !a.resources.is_empty() {
        let resources = a
            .resources
            .iter()
            .map(|r| Resource::new(r.as_str()).map_err(|e| format!("--resource \"{r}\": {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        c.default_audience = resources.first().cloned().into_iter().collect();
        c.allowed_resources = resources;
    }
    if let Some(yes) = a.may_introspect {
        c.may_introspect = yes;
    }
    if let Some(file) = &a.jwks {
        c.keys = Some(crate::admin::client_keys_file(file)?);
        if !c.auth_methods.contains(&AuthMethod::PrivateKeyJwt) {
            c.auth_methods.push(AuthMethod::PrivateKeyJwt);
        }
    }
    if let Some(yes) = a.require_dpop {
        c.require_dpop = yes;
    }
    if let Some(d) = a.token_lifetime {
        if d.0 > max {
            return Err(format!(
                "--token-lifetime {} is longer than the file's max_token_lifetime ({})",
                fmt_duration(d.0),
                fmt_duration(max)
            ));
        }
        c.token_lifetime = Some(d.0);
    }
    Ok(())
}

/// A fresh generated secret: the secret (to print once) and its registration.
fn new_secret(expires_in: Option<Duration>) -> Result<(String, RegisteredSecret), String> {
    let (secret, verifier) = jeton::generate_secret(&SystemRandom::new())
        .map_err(|e| format!("cannot generate a secret: {e}"))?;
    let reg = match expires_in {
        Some(d) => RegisteredSecret::expiring(verifier, OffsetDateTime::now_utc() + d),
        None => RegisteredSecret::new(verifier),
    };
    Ok((secret.expose().to_owned(), reg))
}

/// Prints a new secret once: the secret alone on stdout, the rest on stderr.
fn print_secret(id: &ClientId, secret: &str, reg: &RegisteredSecret) {
    eprintln!(
        "client \"{id}\": new secret {} (shown once on stdout; the store keeps only its verifier)",
        SecretId::of(&reg.verifier)
    );
    println!("{secret}");
}

/// `jeton client create`.
pub(crate) fn create(args: &ClientCreateArgs) -> Result<(), String> {
    let id = client_id(&args.client.id)?;
    with_store(&args.client.store, |t| async move {
        t.warn_if_declared(&id);
        let mut record = ClientRecord::builder(id.clone()).build();
        // A key client (--jwks) authenticates with assertions only: no secret to hand out.
        let key_client = args.settings.jwks.is_some();
        if key_client {
            record.auth_methods = vec![AuthMethod::PrivateKeyJwt];
        }
        apply(&mut record, &args.settings, t.settings.max_token_lifetime)?;
        let secret = if key_client {
            None
        } else {
            let (secret, reg) = new_secret(None)?;
            record.secrets = vec![reg.clone()];
            Some((secret, reg))
        };
        let alg = record.keys.as_ref().map(|k| k.algorithm());
        if !t.registry.create_client(record).await.map_err(failed)? {
            return Err(format!("client \"{id}\" already exists"));
        }
        match (secret, alg) {
            (Some((secret, reg)), _) => print_secret(&id, &secret, &reg),
            (None, alg) => eprintln!(
                "client \"{id}\" created: a key client (private_key_jwt, {}), no secret",
                alg.map_or("-", |a| a.as_str())
            ),
        }
        Ok(())
    })
}

/// `jeton client update`.
pub(crate) fn update(args: &ClientUpdateArgs) -> Result<(), String> {
    let id = client_id(&args.client.id)?;
    with_store(&args.client.store, |t| async move {
        t.warn_if_declared(&id);
        let mut record = t.existing(&id).await?;
        apply(&mut record, &args.settings, t.settings.max_token_lifetime)?;
        if !t.registry.update_settings(record).await.map_err(failed)? {
            return Err(format!("no client \"{id}\" in the store"));
        }
        eprintln!("client \"{id}\" updated");
        Ok(())
    })
}

/// `jeton client add-secret`.
pub(crate) fn add_secret(args: &AddSecretArgs) -> Result<(), String> {
    let id = client_id(&args.client.id)?;
    with_store(&args.client.store, |t| async move {
        t.warn_if_declared(&id);
        let (secret, reg) = new_secret(args.expires_in.map(|d| d.0))?;
        if !t
            .registry
            .add_secret(&id, reg.clone())
            .await
            .map_err(failed)?
        {
            return Err(format!("no client \"{id}\" in the store"));
        }
        print_secret(&id, &secret, &reg);
        Ok(())
    })
}

fn secret_id(s: &str) -> Result<SecretId, String> {
    SecretId::parse(s).ok_or_else(|| {
        "--secret-id: expected 16 lowercase hex characters, as `jeton client list` shows".to_owned()
    })
}

/// `jeton client retire-secret`.
pub(crate) fn retire_secret(args: &RetireSecretArgs) -> Result<(), String> {
    let id = client_id(&args.secret.client.id)?;
    let sid = secret_id(&args.secret.secret_id)?;
    with_store(&args.secret.client.store, |t| async move {
        t.warn_if_declared(&id);
        let overlap = args.overlap.map_or(Duration::ZERO, |d| d.0);
        let at = OffsetDateTime::now_utc() + overlap;
        if !t
            .registry
            .retire_secret(&id, &sid, at)
            .await
            .map_err(failed)?
        {
            return Err(format!("client \"{id}\" has no secret {sid}"));
        }
        eprintln!("client \"{id}\": secret {sid} works until {}", rfc3339(at));
        Ok(())
    })
}

/// `jeton client remove-secret`.
pub(crate) fn remove_secret(args: &SecretRefArgs) -> Result<(), String> {
    let id = client_id(&args.client.id)?;
    let sid = secret_id(&args.secret_id)?;
    with_store(&args.client.store, |t| async move {
        t.warn_if_declared(&id);
        if !t.registry.remove_secret(&id, &sid).await.map_err(failed)? {
            return Err(format!("client \"{id}\" has no secret {sid}"));
        }
        eprintln!("client \"{id}\": secret {sid} removed");
        Ok(())
    })
}

/// `jeton client disable` and `enable`.
pub(crate) fn set_enabled(args: &ClientRefArgs, enabled: bool) -> Result<(), String> {
    let id = client_id(&args.id)?;
    with_store(&args.store, |t| async move {
        t.warn_if_declared(&id);
        if !t.registry.set_enabled(&id, enabled).await.map_err(failed)? {
            return Err(format!("no client \"{id}\" in the store"));
        }
        let word = if enabled { "enabled" } else { "disabled" };
        eprintln!("client \"{id}\" {word}");
        Ok(())
    })
}

/// `jeton client delete`.
pub(crate) fn delete(args: &ClientRefArgs) -> Result<(), String> {
    let id = client_id(&args.id)?;
    with_store(&args.store, |t| async move {
        t.warn_if_declared(&id);
        if !t.registry.delete_client(&id).await.map_err(failed)? {
            return Err(format!("no client \"{id}\" in the store"));
        }
        eprintln!("client \"{id}\" deleted");
        Ok(())
    })
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// One client as `list` prints it.
fn describe_client(c: &ClientRecord, now: OffsetDateTime, declared: bool) -> String {
    use std::fmt::Write as _;
    let mut s = format!(
        "{}{}{}: scopes \"{}\"",
        c.id,
        if c.enabled { "" } else { " (disabled)" },
        if declared {
            " (declared in the file)"
        } else {
            ""
        },
        c.allowed_scopes
    );
    if c.may_introspect {
        s.push_str(", may introspect");
    }
    if !c.allowed_resources.is_empty() {
        let r: Vec<&str> = c.allowed_resources.iter().map(Resource::as_str).collect();
        let _ = write!(s, ", resources {}", r.join(" "));
    }
    if let Some(d) = c.token_lifetime {
        let _ = write!(s, ", lifetime {}", fmt_duration(d));
    }
    if let Some(k) = &c.keys {
        let _ = write!(
            s,
            ", private_key_jwt {} ({} key(s))",
            k.algorithm(),
            k.keys().len()
        );
    }
    if c.require_dpop {
        s.push_str(", requires DPoP");
    }
    for secret in &c.secrets {
        let when = match secret.expires_at {
            None => "no expiry".to_owned(),
            Some(at) if at <= now => format!("expired {}", rfc3339(at)),
            Some(at) => format!("expires {}", rfc3339(at)),
        };
        let _ = write!(s, "\n  secret {} {when}", SecretId::of(&secret.verifier));
    }
    s
}

/// `jeton client list`.
pub(crate) fn list(args: &StoreArgs) -> Result<(), String> {
    with_store(args, |t| async move {
        let now = OffsetDateTime::now_utc();
        let mut after: Option<ClientId> = None;
        loop {
            let page = t
                .registry
                .list_clients(after.as_ref(), MAX_LIST_CLIENTS)
                .await
                .map_err(failed)?;
            for c in &page {
                let declared = t.settings.clients.iter().any(|d| d.id == c.id);
                println!("{}", describe_client(c, now, declared));
            }
            match page.last() {
                Some(last) if page.len() == MAX_LIST_CLIENTS => after = Some(last.id.clone()),
                _ => break,
            }
        }
        Ok(())
    })
}

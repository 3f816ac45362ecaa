//! The `[store]` table resolved, and the store it names: memory, SQLite or PostgreSQL.
//!
//! - [`StoreUrl`] is the parsed `url`; its `Display` and `Debug` hide a PostgreSQL password, and
//!   its parse errors never quote the value.
//! - [`Backend::open`] connects and applies the embedded migrations (a schema newer than this
//!   build is refused), for `jeton serve` and the `jeton client` commands alike.
//! - [`Backend::upsert_declared`] writes the file's `[[clients]]` into the store at start: for a
//!   client declared in the file, **the file is the truth**, secrets included, so a secret added
//!   to such a client with `jeton client add-secret` is replaced at the next start (with a
//!   warning naming the client). Clients created with `jeton client create` are not in the file
//!   and are never touched by a start.
//! - [`Backend::replays`] is the single-use (`jti`) store of private_key_jwt and DPoP: the
//!   database on a SQL store (shared by every node), bounded memory on `memory`.
//! - [`spawn_purge`] deletes expired tokens, revocation and single-use entries every `[limits]
//!   purge_interval`: from a SQL store in batches of `[store] purge_batch`, at most
//!   [`MAX_PURGE_ROUNDS`] batches per tick, so one tick is bounded whatever the backlog; from
//!   the memory store in its own bounded steps, on the blocking pool.

use jeton::time::OffsetDateTime;
use jeton::{
    ClientRecord, ClientRegistry, ClientStore, ReplayStore, RevocationList, SecretId, StoreError,
    TokenStore,
};
use jeton_memory::{
    MemoryClientStore, MemoryReplayStore, MemoryRevocationList, MemoryTokenStore, TokenLimits,
};
use jeton_postgres::{PoolSettings, PostgresStore, SchemaError};
use jeton_sqlite::SqliteStore;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The most purge batches one tick runs; what is left waits for the next tick.
pub(crate) const MAX_PURGE_ROUNDS: u32 = 10;

/// Where the server keeps clients, tokens and revocations: `[store] url`.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) enum StoreUrl {
    /// In this process only (`"memory"`, the default): nothing survives a restart.
    #[default]
    Memory,
    /// `postgres://…` or `postgresql://…`: shared by every node on the database.
    Postgres(String),
    /// `sqlite://…` or `sqlite:…`: one node's file.
    Sqlite(String),
}

impl StoreUrl {
    /// Reads a `[store] url`. The error never repeats the value (it may hold a password).
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        if s == "memory" {
            Ok(Self::Memory)
        } else if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Ok(Self::Postgres(s.to_owned()))
        } else if s.starts_with("sqlite:") {
            Ok(Self::Sqlite(s.to_owned()))
        } else {
            Err("expected \"memory\", \"postgres://user@host:5432/db\" or \
                 \"sqlite:///path/to/jeton.db\""
                .to_owned())
        }
    }

    /// Whether this is the in-process store.
    pub(crate) fn is_memory(&self) -> bool {
        *self == Self::Memory
    }
}

/// `user:password@` becomes `user:***@`; nothing else changes.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Memory => f.write_str("memory"),
            Self::Postgres(u) | Self::Sqlite(u) => f.write_str(&redact(u)),
        }
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({self})")
    }
}

/// The `[store]` table, resolved.
#[derive(Clone, Debug)]
pub(crate) struct StoreSettings {
    /// Which store.
    pub(crate) url: StoreUrl,
    /// Connection-pool bounds (SQL stores).
    pub(crate) pool: PoolSettings,
    /// Rows deleted per purge batch (default 1000, at most 10 000).
    pub(crate) purge_batch: u32,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            url: StoreUrl::Memory,
            pool: PoolSettings::default(),
            purge_batch: 1000,
        }
    }
}

/// An opened store. Clones share it.
#[derive(Clone)]
pub(crate) enum Backend {
    /// In-process stores.
    Memory {
        /// Clients.
        clients: Arc<MemoryClientStore>,
        /// Opaque tokens.
        tokens: Arc<MemoryTokenStore>,
        /// Revoked JWT ids.
        revocations: Arc<MemoryRevocationList>,
    },
    /// PostgreSQL.
    Postgres(PostgresStore),
    /// SQLite.
    Sqlite(SqliteStore),
}

/// A store error with its cause (which never holds the URL's password: the drivers do not
/// print it).
pub(crate) fn describe(e: &StoreError) -> String {
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

fn schema_error(e: SchemaError) -> String {
    match e {
        SchemaError::Store(e) => format!("cannot migrate the store: {}", describe(&e)),
        other => other.to_string(),
    }
}

impl Backend {
    /// Fresh in-memory stores, the token store capped by `limits`.
    pub(crate) fn memory(limits: TokenLimits) -> Self {
        Self::Memory {
            clients: Arc::new(MemoryClientStore::new()),
            tokens: Arc::new(MemoryTokenStore::with_limits(limits)),
            revocations: Arc::new(MemoryRevocationList::new()),
        }
    }

    /// Opens the store `settings` names and brings its schema up to date (idempotent; several
    /// nodes may start at once). A schema newer than this build is refused. `limits` caps a
    /// memory token store (the SQL stores have no caps: they hold what the database holds).
    pub(crate) async fn open(
        settings: &StoreSettings,
        limits: TokenLimits,
    ) -> Result<Self, String> {
        let shown = settings.url.to_string();
        let backend = match &settings.url {
            StoreUrl::Memory => return Ok(Self::memory(limits)),
            StoreUrl::Postgres(url) => PostgresStore::connect(url, &settings.pool)
                .await
                .map(Self::Postgres),
            StoreUrl::Sqlite(url) => SqliteStore::connect(url, &settings.pool)
                .await
                .map(Self::Sqlite),
        }
        .map_err(|e| format!("cannot open the store {shown}: {}", describe(&e)))?;
        let report = match &backend {
            Self::Postgres(s) => s.migrate().await,
            Self::Sqlite(s) => s.migrate().await,
            Self::Memory { .. } => unreachable!("returned above"),
        }
        .map_err(|e| format!("store {shown}: {}", schema_error(e)))?;
        if report.from != report.to {
            tracing::info!(
                store = %shown,
                from = report.from,
                to = report.to,
                "store schema migrated"
            );
        }
        Ok(backend)
    }

    /// Client lookups and management.
    pub(crate) fn registry(&self) -> Arc<dyn ClientRegistry> {
        match self {
            Self::Memory { clients, .. } => clients.clone(),
            Self::Postgres(s) => Arc::new(s.clone()),
            Self::Sqlite(s) => Arc::new(s.clone()),
        }
    }

    /// The engine's client store.
    pub(crate) fn clients(&self) -> Arc<dyn ClientStore> {
        match self {
            Self::Memory { clients, .. } => clients.clone(),
            Self::Postgres(s) => Arc::new(s.clone()),
            Self::Sqlite(s) => Arc::new(s.clone()),
        }
    }

    /// The opaque-token store.
    pub(crate) fn tokens(&self) -> Arc<dyn TokenStore> {
        match self {
            Self::Memory { tokens, .. } => tokens.clone(),
            Self::Postgres(s) => Arc::new(s.clone()),
            Self::Sqlite(s) => Arc::new(s.clone()),
        }
    }

    /// The JWT revocation list.
    pub(crate) fn revocations(&self) -> Arc<dyn RevocationList> {
        match self {
            Self::Memory { revocations, .. } => revocations.clone(),
            Self::Postgres(s) => Arc::new(s.clone()),
            Self::Sqlite(s) => Arc::new(s.clone()),
        }
    }

    /// The single-use (`jti`) store for private_key_jwt and DPoP: the database itself on an
    /// SQL store, so every node sharing it refuses a replay seen by another; a fresh bounded
    /// memory store (this node only) on `memory`.
    pub(crate) fn replays(&self) -> Arc<dyn ReplayStore> {
        match self {
            Self::Memory { .. } => Arc::new(MemoryReplayStore::new()),
            Self::Postgres(s) => Arc::new(s.clone()),
            Self::Sqlite(s) => Arc::new(s.clone()),
        }
    }

    /// Writes the file's clients into the store, each replacing any stored client of the same
    /// id whole (settings and secrets). Warns when that drops secrets the store had (added
    /// with `jeton client add-secret`).
    pub(crate) async fn upsert_declared(&self, clients: &[ClientRecord]) -> Result<(), String> {
        let registry = self.registry();
        for c in clients {
            let before = registry
                .client(&c.id)
                .await
                .map_err(|e| format!("cannot read client \"{}\": {}", c.id, describe(&e)))?;
            if let Some(before) = before {
                let ids = |r: &ClientRecord| -> BTreeSet<SecretId> {
                    r.secrets
                        .iter()
                        .map(|s| SecretId::of(&s.verifier))
                        .collect()
                };
                let dropped = ids(&before).difference(&ids(c)).count();
                if dropped > 0 {
                    tracing::warn!(
                        client_id = %c.id,
                        dropped,
                        "client is declared in the config file, which is the truth for its \
                         settings and secrets: secrets added with `jeton client` were removed; \
                         add them to the file, or manage this client with `jeton client` only"
                    );
                }
            }
            registry
                .put_client(c.clone())
                .await
                .map_err(|e| format!("cannot store client \"{}\": {}", c.id, describe(&e)))?;
        }
        Ok(())
    }

    /// Deletes up to `batch` expired rows of a SQL store (the memory store: every expired
    /// token, in its own bounded steps); the number deleted.
    pub(crate) async fn purge(&self, now: OffsetDateTime, batch: u32) -> Result<u64, StoreError> {
        Ok(match self {
            Self::Memory { tokens, .. } => {
                let tokens = tokens.clone();
                tokio::task::spawn_blocking(move || tokens.purge_expired(now))
                    .await
                    .map_err(StoreError::new)? as u64
            }
            Self::Postgres(s) => s.purge_expired(now, batch).await?.total(),
            Self::Sqlite(s) => s.purge_expired(now, batch).await?.total(),
        })
    }
}

/// Runs the periodic purge until the runtime stops: every `interval`, batches of `batch` rows
/// while a batch comes back full, at most [`MAX_PURGE_ROUNDS`] per tick (memory: one pass).
pub(crate) fn spawn_purge(backend: Backend, interval: Duration, batch: u32) {
    let rounds = match backend {
        Backend::Memory { .. } => 1,
        _ => MAX_PURGE_ROUNDS,
    };
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let mut deleted = 0;
            for _ in 0..rounds {
                match backend.purge(OffsetDateTime::now_utc(), batch).await {
                    Ok(n) => {
                        deleted += n;
                        if n < u64::from(batch) {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %describe(&e), "purge of expired rows failed");
                        break;
                    }
                }
            }
            if deleted > 0 {
                tracing::debug!(deleted, "purged expired tokens and revocations");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_never_show_a_password() {
        assert_eq!(StoreUrl::parse("memory"), Ok(StoreUrl::Memory));
        let pg = StoreUrl::parse("postgres://jeton:s3cret@db.internal:5432/jeton?sslmode=disable")
            .unwrap();
        assert_eq!(
            pg.to_string(),
            "postgres://jeton:***@db.internal:5432/jeton?sslmode=disable"
        );
        assert!(!format!("{pg:?}").contains("s3cret"));
        let no_pw = StoreUrl::parse("postgresql://jeton@127.0.0.1/j").unwrap();
        assert_eq!(no_pw.to_string(), "postgresql://jeton@127.0.0.1/j");
        let lite = StoreUrl::parse("sqlite:///var/lib/jeton/jeton.db").unwrap();
        assert_eq!(lite.to_string(), "sqlite:///var/lib/jeton/jeton.db");
        let e = StoreUrl::parse("mysql://root:hunter2@x/db").unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
    }

    /// Issue 12: on a SQL store a single-use value seen through one node is a replay on every
    /// node of the database; on `memory` each node has its own bounded store.
    #[tokio::test]
    async fn the_replay_store_is_the_database_on_sql_and_per_node_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("replay.db").display());
        let settings = StoreSettings {
            url: StoreUrl::parse(&url).unwrap(),
            ..StoreSettings::default()
        };
        let limits = TokenLimits::default();
        let (a, b) = (
            Backend::open(&settings, limits).await.unwrap(),
            Backend::open(&settings, limits).await.unwrap(),
        );
        let now = OffsetDateTime::now_utc();
        let exp = now + jeton::time::Duration::seconds(60);
        let key = jeton::ReplayKey::new(jeton::ReplayKey::CLIENT_ASSERTION, "c", "jti");
        assert!(a.replays().insert_if_absent(&key, exp, now).await.unwrap());
        assert!(
            !b.replays().insert_if_absent(&key, exp, now).await.unwrap(),
            "a replay through another node"
        );
        let purged = a.purge(exp, 100).await.unwrap();
        assert_eq!(purged, 1, "expired single-use entries are purged");

        let m = Backend::memory(limits);
        assert!(m.replays().insert_if_absent(&key, exp, now).await.unwrap());
    }
}

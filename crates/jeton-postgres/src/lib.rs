//! PostgreSQL storage for [`jeton`]: registered clients, opaque tokens and revoked JWT ids in
//! one database that any number of jeton nodes share.
//!
//! [`PostgresStore`] is a cheaply cloneable handle (a bounded connection pool) implementing
//! [`ClientStore`](jeton::ClientStore), [`ClientRegistry`](jeton::ClientRegistry),
//! [`TokenStore`](jeton::TokenStore), [`RevocationList`](jeton::RevocationList) and
//! [`ReplayStore`](jeton::ReplayStore) (the single-use `jti`s of client assertions and DPoP
//! proofs, one atomic `INSERT … ON CONFLICT` per use, shared by every handle on the database).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use jeton_postgres::{PoolSettings, PostgresStore};
//! let store = PostgresStore::connect("postgres://jeton@127.0.0.1/jeton", &PoolSettings::default())
//!     .await?;
//! store.migrate().await?; // explicit; idempotent; refuses a schema newer than this build
//! // Hand `store.clone()` to the engine as client store, token store and revocation list, and
//! // run `store.purge_expired(now, 1000)` every minute or so.
//! # Ok(()) }
//! ```
//!
//! ## Behaviour
//!
//! - **Issuance is one round trip**: one `INSERT` whose data-modifying `WITH` also deletes up
//!   to [`PURGE_ON_WRITE`](jeton_sql::PURGE_ON_WRITE) expired tokens (`FOR UPDATE SKIP LOCKED`,
//!   so concurrent issuers never wait on each other's purge). Under steady load the table holds
//!   the live tokens plus a bounded backlog, without a background job. A JWT revocation purges
//!   expired revocation entries the same way.
//! - **Introspection is one indexed lookup**: by the digest, the primary key.
//! - [`PostgresStore::purge_expired`] deletes at most a given number of expired rows per call,
//!   for a periodic task on a node that went idle with a backlog.
//! - **No cache**: every client lookup reads the database, so a secret rotated through one node
//!   is accepted by every node at once. A lookup is one indexed join.
//! - **Failures** of the driver or connection become opaque [`StoreError`]s (the engine answers
//!   `500 server_error`; the cause is the error's `source()`, for the log). The pool tests a
//!   connection before handing it out, so after an outage the next calls reconnect.
//! - **Bounds**: the pool opens at most [`PoolSettings::max_connections`] connections and a
//!   call waits at most [`PoolSettings::acquire_timeout`] for one; sqlx keeps at most 100
//!   prepared statements per connection.
//!
//! ## Schema
//!
//! Embedded in the crate (`migrations/`), applied by [`PostgresStore::migrate`] in one
//! transaction under an advisory lock (two nodes starting at once migrate once), recorded in
//! `jeton_schema_version`. To keep jeton's tables in their own schema, name it in the URL:
//! `postgres://…/db?options=-c%20search_path%3Djeton`.
//!
//! Clients are normalized where it matters and JSON where it does not: one row per secret
//! (`jeton_client_secrets`), so adding or retiring a secret is a one-row write that cannot
//! lose a concurrent rotation, and the other settings as one `JSONB` document in jeton's own
//! serialized form, read and replaced whole, so a new client setting needs no migration.
//!
//! TLS to the database is not compiled in: connect over a trusted network or a local socket.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod clients;
mod replay;
mod tokens;

pub use jeton_sql::{MigrationReport, PoolSettings, Purged, RowCounts, SchemaError};
/// The driver, re-exported so an application can build [`sqlx::postgres::PgConnectOptions`]
/// or share a [`sqlx::PgPool`] without naming a second version of it.
pub use sqlx;

use jeton::StoreError;
use jeton::time::OffsetDateTime;
use jeton_sql::{MAX_PURGE_BATCH, Migration, VERSION_TABLE, micros, pending, store_error};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::fmt;

/// The embedded migrations, oldest first.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "dpop_replay",
        sql: include_str!("../migrations/0002_dpop_replay.sql"),
    },
];

/// Key of the transaction-scoped advisory lock that serializes migrations ("jeton" in ASCII).
const MIGRATION_LOCK: i64 = 0x006a_6574_6f6e;

/// What `purge_expired` runs, in order (tokens, revocations, single-use entries): each deletes
/// the oldest expired rows of one table, at most the budget left (`$1` now, `$2` the budget).
const PURGE_SQL: [&str; 3] = [
    "WITH doomed AS (
         SELECT digest FROM jeton_tokens WHERE expires_at_us <= $1
         ORDER BY expires_at_us LIMIT $2 FOR UPDATE SKIP LOCKED)
     DELETE FROM jeton_tokens WHERE digest IN (SELECT digest FROM doomed)",
    "WITH doomed AS (
         SELECT jti FROM jeton_revoked_jtis WHERE expires_at_us <= $1
         ORDER BY expires_at_us LIMIT $2 FOR UPDATE SKIP LOCKED)
     DELETE FROM jeton_revoked_jtis WHERE jti IN (SELECT jti FROM doomed)",
    "WITH doomed AS (
         SELECT key FROM jeton_replay WHERE expires_at_us <= $1
         ORDER BY expires_at_us LIMIT $2 FOR UPDATE SKIP LOCKED)
     DELETE FROM jeton_replay WHERE key IN (SELECT key FROM doomed)",
];

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// A handle on jeton's tables in one PostgreSQL database. Clones share the pool.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the pool: its connect options hold the database password.
        f.debug_struct("PostgresStore")
            .field("connections", &self.pool.size())
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Opens a pool on `url` (`postgres://user:password@host:port/db?…`) and checks that one
    /// connection can be made, so a wrong URL fails here and not at the first request.
    ///
    /// The error never repeats the URL (it may hold a password).
    pub async fn connect(url: &str, pool: &PoolSettings) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|_| StoreError::msg("invalid PostgreSQL URL"))?;
        Self::connect_with(options, pool).await
    }

    /// Opens a pool with explicit connect options.
    pub async fn connect_with(
        options: PgConnectOptions,
        pool: &PoolSettings,
    ) -> Result<Self, StoreError> {
        let pool = pool
            .apply(PgPoolOptions::new())
            .connect_with(options)
            .await
            .map_err(store_error)?;
        Ok(Self { pool })
    }

    /// A store on an existing pool (the application's own, say). Its bounds are the pool's.
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the pool: waits for calls in flight, then refuses new ones.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Brings the schema to [`SCHEMA_VERSION`]: idempotent, all or nothing, safe to run from
    /// several nodes at once. A database migrated by a newer jeton is refused with
    /// [`SchemaError::TooNew`] and left untouched.
    pub async fn migrate(&self) -> Result<MigrationReport, SchemaError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await?;
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS jeton_schema_version (
                 version    BIGINT PRIMARY KEY,
                 name       TEXT NOT NULL,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .execute(&mut *tx)
        .await?;
        let from: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM jeton_schema_version")
                .fetch_one(&mut *tx)
                .await?;
        let todo = pending(MIGRATIONS, from)?;
        for m in todo {
            sqlx::raw_sql(m.sql).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO jeton_schema_version (version, name) VALUES ($1, $2)")
                .bind(m.version)
                .bind(m.name)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(MigrationReport {
            from,
            to: from.max(SCHEMA_VERSION),
        })
    }

    /// The schema version of the database: 0 when it was never migrated.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(VERSION_TABLE)
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)?;
        if !exists {
            return Ok(0);
        }
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM jeton_schema_version")
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)
    }

    /// Deletes tokens, revocation entries and single-use entries expired at `now`, oldest first, at most
    /// `max_rows` (capped at [`MAX_PURGE_BATCH`]) in all. Call it periodically; while it
    /// returns a full batch there is more to delete.
    pub async fn purge_expired(
        &self,
        now: OffsetDateTime,
        max_rows: u32,
    ) -> Result<Purged, StoreError> {
        let now = micros(now);
        let budget = i64::from(max_rows.min(MAX_PURGE_BATCH));
        // Oldest first within each table, tokens before revocations before single-use
        // entries, until the budget is spent.
        let mut deleted = [0u64; 3];
        let mut left = budget;
        for (n, sql) in PURGE_SQL.into_iter().enumerate() {
            if left <= 0 {
                break;
            }
            deleted[n] = sqlx::query(sql)
                .bind(now)
                .bind(left)
                .execute(&self.pool)
                .await
                .map_err(store_error)?
                .rows_affected();
            left = left.saturating_sub(i64::try_from(deleted[n]).unwrap_or(i64::MAX));
        }
        let [tokens, revocations, replays] = deleted;
        Ok(Purged {
            tokens,
            revocations,
            replays,
        })
    }

    /// How many rows each table holds (an exact count: for tests and occasional metrics, not
    /// for every request).
    pub async fn row_counts(&self) -> Result<RowCounts, StoreError> {
        let (clients, tokens, revocations, replays): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM jeton_clients),
                    (SELECT count(*) FROM jeton_tokens),
                    (SELECT count(*) FROM jeton_revoked_jtis),
                    (SELECT count(*) FROM jeton_replay)",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(RowCounts {
            clients: n(clients),
            tokens: n(tokens),
            revocations: n(revocations),
            replays: n(replays),
        })
    }
}

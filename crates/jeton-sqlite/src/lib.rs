//! SQLite storage for [`jeton`]: registered clients, opaque tokens and revoked JWT ids in one
//! file, so a single-node deployment survives restarts without a database server.
//!
//! [`SqliteStore`] is a cheaply cloneable handle (a bounded connection pool) implementing
//! [`ClientStore`](jeton::ClientStore), [`ClientRegistry`](jeton::ClientRegistry),
//! [`TokenStore`](jeton::TokenStore), [`RevocationList`](jeton::RevocationList) and
//! [`ReplayStore`](jeton::ReplayStore) (the single-use `jti`s of client assertions and DPoP
//! proofs, one atomic `INSERT … ON CONFLICT` per use, shared by every handle on the database),
//! with the same API and the same behaviour as `jeton-postgres`' `PostgresStore`; both map rows
//! through `jeton-sql` and pass the same conformance table.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use jeton_sqlite::{PoolSettings, SqliteStore};
//! let store = SqliteStore::connect("sqlite:///var/lib/jeton/jeton.db", &PoolSettings::default())
//!     .await?;
//! store.migrate().await?; // explicit; idempotent; refuses a schema newer than this build
//! # Ok(()) }
//! ```
//!
//! ## Behaviour
//!
//! - The file is created if missing, in WAL mode (readers never wait for the writer) with
//!   `synchronous = FULL`: a revocation that was answered `200` is on disk, as RFC 7009 §2
//!   wants it to stay revoked, even across a power cut.
//! - SQLite has one writer at a time. Every write transaction starts with `BEGIN IMMEDIATE`,
//!   so it queues for the write lock (up to [`BUSY_TIMEOUT`]) instead of failing on a lock
//!   upgrade; a write that waited longer fails with a [`StoreError`].
//! - **Issuance** is one transaction: the insert and the removal of up to
//!   [`PURGE_ON_WRITE`](jeton_sql::PURGE_ON_WRITE) expired tokens (one `fsync`). Under steady
//!   load the table holds the live tokens plus a bounded backlog, without a background job. A
//!   JWT revocation purges expired revocation entries the same way.
//!   [`SqliteStore::purge_expired`] is for a node that went idle with a backlog.
//! - **Introspection** is one lookup on the digest primary key (a `WITHOUT ROWID` table: one
//!   B-tree descent).
//! - **No cache**: a client lookup reads the file, so every handle on it (another process
//!   included) sees a rotation at once.
//! - **Bounds**: at most [`PoolSettings::max_connections`] connections; sqlx keeps at most 100
//!   prepared statements per connection.
//!
//! ## Schema
//!
//! The same tables as `jeton-postgres` (SQLite types), embedded (`migrations/`) and applied by
//! [`SqliteStore::migrate`] in one transaction, recorded in `jeton_schema_version`. Clients are
//! one row each with their settings as JSON, plus one row per secret: see `jeton-sql` for why.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod clients;
mod replay;
mod tokens;

pub use jeton_sql::{MigrationReport, PoolSettings, Purged, RowCounts, SchemaError};
/// The driver, re-exported so an application can build
/// [`sqlx::sqlite::SqliteConnectOptions`] without naming a second version of it.
pub use sqlx;

use jeton::StoreError;
use jeton::time::OffsetDateTime;
use jeton_sql::{MAX_PURGE_BATCH, Migration, VERSION_TABLE, micros, pending, store_error};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::fmt;
use std::path::Path;
use std::time::Duration;

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

/// What `purge_expired` runs, in order (tokens, revocations, single-use entries): each deletes
/// the oldest expired rows of one table, at most the budget left (`?1` now, `?2` the budget).
const PURGE_SQL: [&str; 3] = [
    "DELETE FROM jeton_tokens WHERE digest IN (
         SELECT digest FROM jeton_tokens WHERE expires_at_us <= ?1
         ORDER BY expires_at_us LIMIT ?2)",
    "DELETE FROM jeton_revoked_jtis WHERE jti IN (
         SELECT jti FROM jeton_revoked_jtis WHERE expires_at_us <= ?1
         ORDER BY expires_at_us LIMIT ?2)",
    "DELETE FROM jeton_replay WHERE key IN (
         SELECT key FROM jeton_replay WHERE expires_at_us <= ?1
         ORDER BY expires_at_us LIMIT ?2)",
];

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long a write waits for another writer before failing (SQLite `busy_timeout`), unless
/// the connect options say otherwise.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A handle on jeton's tables in one SQLite file. Clones share the pool.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("connections", &self.pool.size())
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating it if missing) the database at `url`: `sqlite:///abs/path.db`,
    /// `sqlite:relative.db`, or a plain path.
    pub async fn connect(url: &str, pool: &PoolSettings) -> Result<Self, StoreError> {
        let options: SqliteConnectOptions = url
            .parse()
            .map_err(|_| StoreError::msg("invalid SQLite URL"))?;
        Self::connect_with(Self::defaults(options), pool).await
    }

    /// Opens (creating it if missing) the database file at `path`.
    pub async fn open(path: impl AsRef<Path>, pool: &PoolSettings) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new().filename(path);
        Self::connect_with(Self::defaults(options), pool).await
    }

    /// The options [`connect`](Self::connect) and [`open`](Self::open) add: create if
    /// missing, WAL, `synchronous = FULL`, foreign keys, [`BUSY_TIMEOUT`].
    pub fn defaults(options: SqliteConnectOptions) -> SqliteConnectOptions {
        options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
    }

    /// Opens a pool with explicit connect options, used as given (see
    /// [`defaults`](Self::defaults)). Checks that one connection can be made.
    pub async fn connect_with(
        options: SqliteConnectOptions,
        pool: &PoolSettings,
    ) -> Result<Self, StoreError> {
        let pool = pool
            .apply(SqlitePoolOptions::new())
            .connect_with(options)
            .await
            .map_err(store_error)?;
        Ok(Self { pool })
    }

    /// A store on an existing pool. Its bounds and pragmas are the pool's.
    pub fn from_pool(pool: SqlitePool) -> Self {
        Self { pool }
    }

    /// The pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes the pool: waits for calls in flight, then refuses new ones.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A write transaction that holds the write lock from its start.
    pub(crate) async fn write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(store_error)
    }

    /// Brings the schema to [`SCHEMA_VERSION`]: idempotent, all or nothing. A database
    /// migrated by a newer jeton is refused with [`SchemaError::TooNew`] and left untouched.
    pub async fn migrate(&self) -> Result<MigrationReport, SchemaError> {
        let mut tx = self.write().await?;
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS jeton_schema_version (
                 version    INTEGER PRIMARY KEY,
                 name       TEXT NOT NULL,
                 applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
             )",
        )
        .execute(&mut *tx)
        .await?;
        let from: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM jeton_schema_version")
                .fetch_one(&mut *tx)
                .await?;
        for m in pending(MIGRATIONS, from)? {
            sqlx::raw_sql(m.sql).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO jeton_schema_version (version, name) VALUES (?1, ?2)")
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
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        )
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
    /// `max_rows` (capped at [`MAX_PURGE_BATCH`]) in all, in one short write transaction.
    /// While it returns a full batch there is more to delete.
    pub async fn purge_expired(
        &self,
        now: OffsetDateTime,
        max_rows: u32,
    ) -> Result<Purged, StoreError> {
        let now = micros(now);
        let budget = i64::from(max_rows.min(MAX_PURGE_BATCH));
        let mut tx = self.write().await?;
        // Oldest first within each table, tokens before revocations before single-use
        // entries, until the budget is spent.
        let mut deleted = [0u64; 3];
        let mut left = budget;
        for (n, sql) in PURGE_SQL.into_iter().enumerate() {
            deleted[n] = sqlx::query(sql)
                .bind(now)
                .bind(left)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?
                .rows_affected();
            left = left.saturating_sub(i64::try_from(deleted[n]).unwrap_or(i64::MAX));
        }
        let [tokens, revocations, replays] = deleted;
        tx.commit().await.map_err(store_error)?;
        Ok(Purged {
            tokens,
            revocations,
            replays,
        })
    }

    /// How many rows each table holds (exact counts: for tests and occasional metrics).
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

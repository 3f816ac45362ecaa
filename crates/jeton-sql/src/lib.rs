//! What `jeton-postgres` and `jeton-sqlite` share, and nothing more: the mapping between
//! jeton's records and table rows, the schema-version rule, pool bounds and purge counts.
//!
//! It is deliberately **not** a SQL abstraction: each store writes its own SQL for its own
//! database (PostgreSQL's `FOR UPDATE SKIP LOCKED` and `JSONB`, SQLite's single writer), and
//! both map rows through the functions here, so that a change to a record touches one place.
//!
//! ## Row forms
//!
//! - Instants are `BIGINT` microseconds since the Unix epoch ([`micros`], [`from_micros`]):
//!   the same integer in both databases, exact round trips, and plain integer indexes for the
//!   expiry purge.
//! - A scope is its wire form (space-separated tokens); an audience is its resource URIs joined
//!   by single spaces, which cannot occur inside a resource indicator.
//! - A client is one row (`id`, `enabled`, `settings` as JSON) plus one row per secret. Secrets
//!   are rows, not JSON, so that rotation (add one, retire one) is a one-row write that never
//!   loses a concurrent change; the other settings are read and replaced whole, so JSON keeps
//!   them in jeton's own serialized form and a new setting needs no schema migration.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod rows;
mod schema;

pub use rows::{
    ClientJoinRow, NewTokenRow, SecretRow, TokenRow, TokenTuple, client_settings,
    clients_from_rows, from_micros, micros, secret_row,
};
pub use schema::{Migration, MigrationReport, SchemaError, VERSION_TABLE, pending};

use jeton::StoreError;
use std::time::Duration;

/// How many expired rows a write removes on its way (an issuance purges expired tokens, a JWT
/// revocation purges expired revocations).
///
/// Each write adds at most one row that will later expire and removes up to two that have, so
/// under any steady load the expired backlog shrinks instead of growing, without a background
/// job; `purge_expired` on either store is for nodes that go idle with a backlog.
pub const PURGE_ON_WRITE: i64 = 2;

/// The most rows one `purge_expired` call deletes, whatever the caller asks, so one call holds
/// locks briefly and a periodic task never runs an unbounded `DELETE`.
pub const MAX_PURGE_BATCH: u32 = 10_000;

/// What one `purge_expired` call removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Expired opaque-token records deleted.
    pub tokens: u64,
    /// Revocation entries deleted because the JWT they name has expired.
    pub revocations: u64,
    /// Single-use (`jti`) entries deleted because their acceptance window has closed.
    pub replays: u64,
}

impl Purged {
    /// Rows deleted in all.
    pub fn total(&self) -> u64 {
        self.tokens + self.revocations + self.replays
    }
}

/// Row counts, for metrics and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RowCounts {
    /// Registered clients.
    pub clients: u64,
    /// Opaque-token records (expired ones not yet purged included).
    pub tokens: u64,
    /// Revoked JWT ids.
    pub revocations: u64,
    /// Single-use (`jti`) entries (expired ones not yet purged included).
    pub replays: u64,
}

/// Bounds of a store's connection pool. Every field has a finite default, so a store never
/// opens connections or waits without limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolSettings {
    /// Most connections open at once (default 10). Requests beyond it wait for one.
    pub max_connections: u32,
    /// Connections kept open when idle (default 0).
    pub min_connections: u32,
    /// Longest a call waits for a connection, including connecting (default 5 s); then it
    /// fails with a `StoreError` (a `500` for the client) instead of piling up.
    pub acquire_timeout: Duration,
    /// An idle connection is closed after this (default 10 min).
    pub idle_timeout: Duration,
    /// A connection is replaced after this, so a failed-over server is left in time
    /// (default 30 min).
    pub max_lifetime: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(600),
            max_lifetime: Duration::from_secs(1800),
        }
    }
}

impl PoolSettings {
    /// These bounds applied to sqlx pool options. A zero `max_connections` is taken as 1.
    pub fn apply<DB: sqlx::Database>(
        &self,
        options: sqlx::pool::PoolOptions<DB>,
    ) -> sqlx::pool::PoolOptions<DB> {
        let max = self.max_connections.max(1);
        options
            .max_connections(max)
            .min_connections(self.min_connections.min(max))
            .acquire_timeout(self.acquire_timeout)
            .idle_timeout(Some(self.idle_timeout))
            .max_lifetime(Some(self.max_lifetime))
            // A pooled connection the server dropped (restart, pg_terminate_backend) is found
            // out before use, so one outage costs failed calls only while it lasts.
            .test_before_acquire(true)
    }
}

/// A driver or connection failure as the engine's opaque error. The cause stays attached for
/// the application's log; nothing of it reaches an HTTP body.
pub fn store_error(e: sqlx::Error) -> StoreError {
    StoreError::new(e)
}

/// A row that cannot be read back as a record (edited by hand, or written by a newer jeton).
pub(crate) fn corrupt(what: &'static str) -> StoreError {
    StoreError::msg(what)
}

//! The shared single-use store: client-assertion and DPoP proof `jti`s.

use crate::PostgresStore;
use jeton::time::OffsetDateTime;
use jeton::{ReplayKey, ReplayStore, StoreError};
use jeton_sql::{micros, store_error};

#[async_trait::async_trait]
impl ReplayStore for PostgresStore {
    /// One statement: the key is inserted, or an expired entry of it replaced; a live entry
    /// is left alone and the call answers `false`. Atomic in the database, so of concurrent
    /// calls with one key on any node sharing the database, exactly one gets `true`.
    async fn insert_if_absent(
        &self,
        key: &ReplayKey,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        // Rows affected: 1 when inserted or when an expired entry was replaced (the `WHERE`
        // held); 0 when a live entry was there (conflict, `WHERE` false, nothing written).
        let done = sqlx::query(
            "INSERT INTO jeton_replay (key, expires_at_us) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET expires_at_us = EXCLUDED.expires_at_us
                 WHERE jeton_replay.expires_at_us <= $3",
        )
        .bind(&key.as_bytes()[..])
        .bind(micros(expires_at))
        .bind(micros(now))
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(done.rows_affected() == 1)
    }
}

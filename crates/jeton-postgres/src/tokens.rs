//! Opaque tokens by digest, and revoked JWT ids.

use crate::PostgresStore;
use jeton::time::OffsetDateTime;
use jeton::{RevocationList, StoreError, TokenClaims, TokenDigest, TokenRecord, TokenStore};
use jeton_sql::{NewTokenRow, PURGE_ON_WRITE, TokenRow, TokenTuple, micros, store_error};

#[async_trait::async_trait]
impl TokenStore for PostgresStore {
    async fn insert(&self, digest: &TokenDigest, claims: &TokenClaims) -> Result<(), StoreError> {
        // The columns borrow from the claims: only the scope and audience are written out.
        let row = NewTokenRow::new(digest, claims);
        // One statement, one round trip: the insert, and on its way the removal of a few
        // expired records, using the new record's issue time as the clock.
        sqlx::query(
            "WITH doomed AS (
                 SELECT digest FROM jeton_tokens WHERE expires_at_us <= $6
                 ORDER BY expires_at_us LIMIT $9 FOR UPDATE SKIP LOCKED),
             purged AS (
                 DELETE FROM jeton_tokens WHERE digest IN (SELECT digest FROM doomed))
             INSERT INTO jeton_tokens
                 (digest, client_id, subject, scope, audience, issued_at_us, expires_at_us, jti,
                  cnf_jkt)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10)",
        )
        .bind(row.digest)
        .bind(row.client_id)
        .bind(row.subject)
        .bind(row.scope)
        .bind(row.audience)
        .bind(row.issued_at_us)
        .bind(row.expires_at_us)
        .bind(row.jti)
        .bind(PURGE_ON_WRITE)
        .bind(row.cnf_jkt)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn get(&self, digest: &TokenDigest) -> Result<Option<TokenRecord>, StoreError> {
        let row: Option<TokenTuple> = sqlx::query_as(
            "SELECT digest, client_id, subject, scope, audience, issued_at_us, expires_at_us, jti,
                    cnf_jkt
             FROM jeton_tokens WHERE digest = $1",
        )
        .bind(&digest.as_bytes()[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(|t| TokenRow::from(t).into_record()).transpose()
    }

    async fn revoke(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM jeton_tokens WHERE digest = $1")
            .bind(&digest.as_bytes()[..])
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected() > 0)
    }
}

#[async_trait::async_trait]
impl RevocationList for PostgresStore {
    async fn revoke_jti(
        &self,
        jti: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        // An already expired token needs no entry (it fails on expiry); the purge still runs.
        // `jti <> $1`: the statement must not both delete and upsert the same row.
        sqlx::query(
            "WITH doomed AS (
                 SELECT jti FROM jeton_revoked_jtis WHERE expires_at_us <= $3 AND jti <> $1
                 ORDER BY expires_at_us LIMIT $4 FOR UPDATE SKIP LOCKED),
             purged AS (
                 DELETE FROM jeton_revoked_jtis WHERE jti IN (SELECT jti FROM doomed))
             INSERT INTO jeton_revoked_jtis (jti, expires_at_us)
             SELECT $1, $2 WHERE $2 > $3
             ON CONFLICT (jti) DO UPDATE
                 SET expires_at_us = GREATEST(jeton_revoked_jtis.expires_at_us,
                                              EXCLUDED.expires_at_us)",
        )
        .bind(jti)
        .bind(micros(expires_at))
        .bind(micros(now))
        .bind(PURGE_ON_WRITE)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn is_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM jeton_revoked_jtis WHERE jti = $1)")
            .bind(jti)
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)
    }
}

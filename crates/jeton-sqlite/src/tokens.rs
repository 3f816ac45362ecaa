//! Opaque tokens by digest, and revoked JWT ids.

use crate::SqliteStore;
use jeton::time::OffsetDateTime;
use jeton::{RevocationList, StoreError, TokenClaims, TokenDigest, TokenRecord, TokenStore};
use jeton_sql::{NewTokenRow, PURGE_ON_WRITE, TokenRow, TokenTuple, micros, store_error};

#[async_trait::async_trait]
impl TokenStore for SqliteStore {
    async fn insert(&self, digest: &TokenDigest, claims: &TokenClaims) -> Result<(), StoreError> {
        // The columns borrow from the claims: only the scope and audience are written out.
        let row = NewTokenRow::new(digest, claims);
        // One transaction (one fsync): a few expired records out, using the new record's
        // issue time as the clock, then the new one in.
        let mut tx = self.write().await?;
        sqlx::query(
            "DELETE FROM jeton_tokens WHERE digest IN (
                 SELECT digest FROM jeton_tokens WHERE expires_at_us <= ?1
                 ORDER BY expires_at_us LIMIT ?2)",
        )
        .bind(row.issued_at_us)
        .bind(PURGE_ON_WRITE)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        sqlx::query(
            "INSERT INTO jeton_tokens
                 (digest, client_id, subject, scope, audience, issued_at_us, expires_at_us, jti,
                  cnf_jkt)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(row.digest)
        .bind(row.client_id)
        .bind(row.subject)
        .bind(row.scope)
        .bind(row.audience)
        .bind(row.issued_at_us)
        .bind(row.expires_at_us)
        .bind(row.jti)
        .bind(row.cnf_jkt)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)
    }

    async fn get(&self, digest: &TokenDigest) -> Result<Option<TokenRecord>, StoreError> {
        let row: Option<TokenTuple> = sqlx::query_as(
            "SELECT digest, client_id, subject, scope, audience, issued_at_us, expires_at_us, jti,
                    cnf_jkt
             FROM jeton_tokens WHERE digest = ?1",
        )
        .bind(&digest.as_bytes()[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(|t| TokenRow::from(t).into_record()).transpose()
    }

    async fn revoke(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM jeton_tokens WHERE digest = ?1")
            .bind(&digest.as_bytes()[..])
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected() > 0)
    }
}

#[async_trait::async_trait]
impl RevocationList for SqliteStore {
    async fn revoke_jti(
        &self,
        jti: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let (exp, now) = (micros(expires_at), micros(now));
        let mut tx = self.write().await?;
        sqlx::query(
            "DELETE FROM jeton_revoked_jtis WHERE jti IN (
                 SELECT jti FROM jeton_revoked_jtis WHERE expires_at_us <= ?1
                 ORDER BY expires_at_us LIMIT ?2)",
        )
        .bind(now)
        .bind(PURGE_ON_WRITE)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        // An already expired token needs no entry: it fails on expiry.
        if exp > now {
            sqlx::query(
                "INSERT INTO jeton_revoked_jtis (jti, expires_at_us) VALUES (?1, ?2)
                 ON CONFLICT (jti) DO UPDATE
                     SET expires_at_us = max(expires_at_us, excluded.expires_at_us)",
            )
            .bind(jti)
            .bind(exp)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)
    }

    async fn is_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM jeton_revoked_jtis WHERE jti = ?1)")
            .bind(jti)
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)
    }
}

//! Registered clients: lookup for the engine, management for operators.

use crate::SqliteStore;
use jeton::time::OffsetDateTime;
use jeton::{
    ClientId, ClientRecord, ClientRegistry, ClientStore, MAX_LIST_CLIENTS, RegisteredSecret,
    SecretId, SecretVerifier, StoreError,
};
use jeton_sql::{
    ClientJoinRow, client_settings, clients_from_rows, micros, secret_row, store_error,
};
use sqlx::SqliteConnection;
use std::sync::Arc;

#[async_trait::async_trait]
impl ClientStore for SqliteStore {
    async fn client(&self, id: &ClientId) -> Result<Option<Arc<ClientRecord>>, StoreError> {
        // One indexed join, no cache: a rotation through any handle is seen at the next request.
        let rows: Vec<ClientJoinRow> = sqlx::query_as(
            "SELECT c.id, c.enabled, c.settings, s.verifier, s.expires_at_us
             FROM jeton_clients c LEFT JOIN jeton_client_secrets s ON s.client_id = c.id
             WHERE c.id = ?1 ORDER BY s.position, s.secret_id",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(clients_from_rows(rows)?.pop().map(Arc::new))
    }

    async fn upgrade_verifier(
        &self,
        id: &ClientId,
        old: &SecretVerifier,
        new: SecretVerifier,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jeton_client_secrets SET verifier = ?3, secret_id = ?4
             WHERE client_id = ?1 AND verifier = ?2",
        )
        .bind(id.as_str())
        .bind(old.to_string())
        .bind(new.to_string())
        .bind(SecretId::of(&new).to_string())
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}

/// Writes every secret of `client` after its current ones.
async fn insert_secrets(
    tx: &mut SqliteConnection,
    client: &ClientRecord,
) -> Result<(), StoreError> {
    for (position, secret) in client.secrets.iter().enumerate() {
        let row = secret_row(secret);
        sqlx::query(
            "INSERT INTO jeton_client_secrets
                 (client_id, secret_id, position, verifier, expires_at_us)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (client_id, secret_id) DO UPDATE SET expires_at_us = ?5",
        )
        .bind(client.id.as_str())
        .bind(row.secret_id)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(row.verifier)
        .bind(row.expires_at_us)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl ClientRegistry for SqliteStore {
    async fn create_client(&self, client: ClientRecord) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let created = sqlx::query(
            "INSERT INTO jeton_clients (id, enabled, settings) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(client.id.as_str())
        .bind(client.enabled)
        .bind(client_settings(&client)?)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?
        .rows_affected()
            > 0;
        if created {
            insert_secrets(&mut tx, &client).await?;
            tx.commit().await.map_err(store_error)?;
        }
        Ok(created)
    }

    async fn put_client(&self, client: ClientRecord) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO jeton_clients (id, enabled, settings) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET enabled = EXCLUDED.enabled,
                                            settings = EXCLUDED.settings",
        )
        .bind(client.id.as_str())
        .bind(client.enabled)
        .bind(client_settings(&client)?)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        sqlx::query("DELETE FROM jeton_client_secrets WHERE client_id = ?1")
            .bind(client.id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        insert_secrets(&mut tx, &client).await?;
        tx.commit().await.map_err(store_error)
    }

    async fn update_settings(&self, client: ClientRecord) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE jeton_clients SET enabled = ?2, settings = ?3 WHERE id = ?1")
                .bind(client.id.as_str())
                .bind(client.enabled)
                .bind(client_settings(&client)?)
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn add_secret(
        &self,
        id: &ClientId,
        secret: RegisteredSecret,
    ) -> Result<bool, StoreError> {
        let row = secret_row(&secret);
        // Selecting from jeton_clients makes an unknown client insert nothing (0 rows), where a
        // bare VALUES would fail on the foreign key.
        let done = sqlx::query(
            "INSERT INTO jeton_client_secrets
                 (client_id, secret_id, position, verifier, expires_at_us)
             SELECT c.id, ?2,
                    COALESCE((SELECT MAX(position) + 1 FROM jeton_client_secrets
                              WHERE client_id = c.id), 0),
                    ?3, ?4
             FROM jeton_clients c WHERE c.id = ?1
             ON CONFLICT (client_id, secret_id) DO UPDATE SET expires_at_us = ?4",
        )
        .bind(id.as_str())
        .bind(row.secret_id)
        .bind(row.verifier)
        .bind(row.expires_at_us)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn retire_secret(
        &self,
        id: &ClientId,
        secret: &SecretId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE jeton_client_secrets SET expires_at_us = ?3
             WHERE client_id = ?1 AND secret_id = ?2",
        )
        .bind(id.as_str())
        .bind(secret.as_str())
        .bind(micros(at))
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn remove_secret(&self, id: &ClientId, secret: &SecretId) -> Result<bool, StoreError> {
        let done =
            sqlx::query("DELETE FROM jeton_client_secrets WHERE client_id = ?1 AND secret_id = ?2")
                .bind(id.as_str())
                .bind(secret.as_str())
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_enabled(&self, id: &ClientId, enabled: bool) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE jeton_clients SET enabled = ?2 WHERE id = ?1")
            .bind(id.as_str())
            .bind(enabled)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError> {
        // Its secrets go with it (ON DELETE CASCADE).
        let done = sqlx::query("DELETE FROM jeton_clients WHERE id = ?1")
            .bind(id.as_str())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_clients(
        &self,
        after: Option<&ClientId>,
        limit: usize,
    ) -> Result<Vec<ClientRecord>, StoreError> {
        let limit = i64::try_from(limit.min(MAX_LIST_CLIENTS)).unwrap_or(0);
        let rows: Vec<ClientJoinRow> = sqlx::query_as(
            "SELECT c.id, c.enabled, c.settings, s.verifier, s.expires_at_us
             FROM (SELECT * FROM jeton_clients WHERE ?1 IS NULL OR id > ?1
                   ORDER BY id LIMIT ?2) c
             LEFT JOIN jeton_client_secrets s ON s.client_id = c.id
             ORDER BY c.id, s.position, s.secret_id",
        )
        .bind(after.map(ClientId::as_str))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        clients_from_rows(rows)
    }
}

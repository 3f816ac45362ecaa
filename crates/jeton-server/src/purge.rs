//! The periodic purge of expired tokens from the memory store (issue 9 point 4).

use std::sync::Arc;

/// Purges expired tokens from the memory store every `every` (issue 9 point 4): without it a
/// shard only drops records when a new token lands in it. The sweep runs on a blocking thread
/// and holds one shard lock at a time, for a bounded chunk of records (`purge_expired`).
/// `clock` tells the task the time (the system clock in the server; a test's own in tests).
pub(crate) fn spawn_purge(
    tokens: Arc<jeton_memory::MemoryTokenStore>,
    every: std::time::Duration,
    clock: fn() -> jeton::time::OffsetDateTime,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let tokens = tokens.clone();
            let now = clock();
            match tokio::task::spawn_blocking(move || tokens.purge_expired(now)).await {
                Ok(n) if n > 0 => tracing::debug!(purged = n, "expired tokens purged"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "token purge failed"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use jeton::time::{Duration, OffsetDateTime};
    use jeton::{ClientId, Scope, TokenClaims, TokenDigest, TokenRecord, TokenStore};
    use jeton_memory::MemoryTokenStore;

    /// A record issued now (the store purges by the inserted record's issue time).
    fn record(n: u8, expires_at: OffsetDateTime) -> TokenRecord {
        let claims = TokenClaims::new(
            ClientId::new("svc").unwrap(),
            "svc".to_owned(),
            Scope::default(),
            Vec::new(),
            OffsetDateTime::now_utc(),
            expires_at,
        );
        TokenRecord::new(TokenDigest::from_bytes([n; 32]), claims)
    }

    #[tokio::test]
    async fn the_purge_task_drops_expired_tokens_and_keeps_live_ones() {
        let tokens = Arc::new(MemoryTokenStore::new());
        // Ten tokens expiring in an hour, one in three hours; the task's clock is two hours
        // ahead (the store drops expired records on insert too, so they are inserted live).
        let now = OffsetDateTime::now_utc();
        let live = (0..10).map(|n| record(n, now + Duration::hours(1)));
        for r in live.chain([record(99, now + Duration::hours(3))]) {
            tokens.insert(&r.digest, &r.claims).await.unwrap();
        }
        assert_eq!(tokens.len(), 11);
        let later = || OffsetDateTime::now_utc() + Duration::hours(2);
        spawn_purge(tokens.clone(), std::time::Duration::from_millis(20), later);
        // Bounded wait for the task's first sweeps; what is asserted is what it left.
        for _ in 0..500 {
            if tokens.len() == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(tokens.len(), 1, "only the live token is left");
        let live = TokenDigest::from_bytes([99; 32]);
        assert!(tokens.get(&live).await.unwrap().is_some());
    }
}

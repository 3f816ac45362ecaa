//! The SQLite store against the shared store conformance table, each test on its own
//! temporary file.

use jeton::{ClientStore, ReplayStore, TokenStore};
use jeton_sqlite::{PoolSettings, SqliteStore};
use jeton_testkit::store_conformance as table;
use std::sync::Arc;
use tempfile::TempDir;

/// A migrated store on a new file; keep the directory alive as long as the store.
async fn fresh() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("jeton.db"), &PoolSettings::default())
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    (dir, store)
}

fn counts(s: &SqliteStore) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = (u64, u64)>>> {
    let s = s.clone();
    move || {
        let s = s.clone();
        Box::pin(async move {
            let c = s.row_counts().await.expect("counts");
            (c.tokens, c.revocations)
        })
    }
}

#[tokio::test]
async fn token_store() {
    let (_d, s) = fresh().await;
    table::token_store(&s).await;
}

#[tokio::test]
async fn revocation_list() {
    let (_d, s) = fresh().await;
    table::revocation_list(&s).await;
}

#[tokio::test]
async fn client_registry() {
    let (_d, s) = fresh().await;
    table::client_registry(&s).await;
}

#[tokio::test]
async fn client_listing() {
    let (_d, s) = fresh().await;
    table::client_listing(&s).await;
}

#[tokio::test]
async fn rotation_across_handles() {
    // Two pools on one file: as two processes would be.
    let (d, admin) = fresh().await;
    let other = SqliteStore::open(d.path().join("jeton.db"), &PoolSettings::default())
        .await
        .expect("second handle");
    table::rotation_across_handles(&admin, Arc::new(other) as Arc<dyn ClientStore>).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_issuance() {
    let (_d, s) = fresh().await;
    table::concurrent_issuance(Arc::new(s.clone()) as Arc<dyn TokenStore>, 32, 50).await;
    assert_eq!(s.row_counts().await.unwrap().tokens, 32 * 50);
}

#[tokio::test]
async fn steady_load_stays_bounded() {
    let (_d, s) = fresh().await;
    table::steady_load_stays_bounded(&s, &s, counts(&s), 1000, 3).await;
}

#[tokio::test]
async fn bounded_purge() {
    let (_d, s) = fresh().await;
    let p = s.clone();
    let purge = move |now, max| {
        let p = p.clone();
        async move { p.purge_expired(now, max).await.expect("purge").total() }
    };
    table::bounded_purge(&s, &s, purge, counts(&s)).await;
}

#[tokio::test]
async fn replay_store() {
    let (_d, s) = fresh().await;
    table::replay_store(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_replay() {
    // 16 tasks over two pools on one file: as two processes would be.
    let (d, s) = fresh().await;
    let other = SqliteStore::open(d.path().join("jeton.db"), &PoolSettings::default())
        .await
        .expect("second handle");
    table::concurrent_replay(&[Arc::new(s) as Arc<dyn ReplayStore>, Arc::new(other)], 16).await;
}

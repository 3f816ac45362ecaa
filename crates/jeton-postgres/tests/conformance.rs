//! The PostgreSQL store against the shared store conformance table, each test in its own
//! schema (see `common`).

mod common;

use jeton::{ClientStore, ReplayStore, TokenStore};
use jeton_postgres::PostgresStore;
use jeton_testkit::store_conformance as table;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

fn counts(s: &PostgresStore) -> impl Fn() -> Pin<Box<dyn Future<Output = (u64, u64)>>> {
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
    let Some(db) = common::db("token_store").await else {
        return;
    };
    table::token_store(&db.migrated().await).await;
    db.drop().await;
}

#[tokio::test]
async fn revocation_list() {
    let Some(db) = common::db("revocation_list").await else {
        return;
    };
    table::revocation_list(&db.migrated().await).await;
    db.drop().await;
}

#[tokio::test]
async fn client_registry() {
    let Some(db) = common::db("client_registry").await else {
        return;
    };
    table::client_registry(&db.migrated().await).await;
    db.drop().await;
}

#[tokio::test]
async fn client_listing() {
    let Some(db) = common::db("client_listing").await else {
        return;
    };
    table::client_listing(&db.migrated().await).await;
    db.drop().await;
}

#[tokio::test]
async fn rotation_across_handles() {
    let Some(db) = common::db("rotation").await else {
        return;
    };
    // Two pools on one database: as two nodes would be.
    let admin = db.migrated().await;
    let other = db.store().await;
    table::rotation_across_handles(&admin, Arc::new(other) as Arc<dyn ClientStore>).await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_issuance() {
    let Some(db) = common::db("concurrent").await else {
        return;
    };
    let s = db.migrated().await;
    table::concurrent_issuance(Arc::new(s.clone()) as Arc<dyn TokenStore>, 32, 50).await;
    assert_eq!(s.row_counts().await.unwrap().tokens, 32 * 50);
    db.drop().await;
}

#[tokio::test]
async fn steady_load_stays_bounded() {
    let Some(db) = common::db("steady").await else {
        return;
    };
    let s = db.migrated().await;
    table::steady_load_stays_bounded(&s, &s, counts(&s), 1000, 3).await;
    db.drop().await;
}

#[tokio::test]
async fn bounded_purge() {
    let Some(db) = common::db("purge").await else {
        return;
    };
    let s = db.migrated().await;
    let p = s.clone();
    let purge = move |now, max| {
        let p = p.clone();
        async move { p.purge_expired(now, max).await.expect("purge").total() }
    };
    table::bounded_purge(&s, &s, purge, counts(&s)).await;
    db.drop().await;
}

#[tokio::test]
async fn replay_store() {
    let Some(db) = common::db("replay").await else {
        return;
    };
    table::replay_store(&db.migrated().await).await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_replay() {
    let Some(db) = common::db("concurrent_replay").await else {
        return;
    };
    // 16 tasks over two pools on one database: as two nodes would be.
    let a = db.migrated().await;
    let b = db.store().await;
    table::concurrent_replay(&[Arc::new(a) as Arc<dyn ReplayStore>, Arc::new(b)], 16).await;
    db.drop().await;
}

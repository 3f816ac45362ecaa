//! The memory stores against the shared store conformance table (the reference behaviour the
//! SQL stores must match).

use jeton::{ClientStore, ReplayStore, RevocationList, TokenStore};
use jeton_memory::{MemoryClientStore, MemoryReplayStore, MemoryRevocationList, MemoryTokenStore};
use jeton_testkit::store_conformance as table;
use std::sync::Arc;

#[tokio::test]
async fn token_store() {
    table::token_store(&MemoryTokenStore::new()).await;
}

#[tokio::test]
async fn revocation_list() {
    table::revocation_list(&MemoryRevocationList::new()).await;
}

#[tokio::test]
async fn client_registry() {
    table::client_registry(&MemoryClientStore::new()).await;
}

#[tokio::test]
async fn client_listing() {
    table::client_listing(&MemoryClientStore::new()).await;
}

#[tokio::test]
async fn rotation_across_handles() {
    // In memory, "another handle" is another reference to the same store.
    let store = Arc::new(MemoryClientStore::new());
    table::rotation_across_handles(&*store, store.clone() as Arc<dyn ClientStore>).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_issuance() {
    table::concurrent_issuance(
        Arc::new(MemoryTokenStore::new()) as Arc<dyn TokenStore>,
        32,
        50,
    )
    .await;
}

#[tokio::test]
async fn steady_load_stays_bounded() {
    // The memory store sweeps a shard when it has doubled (at least 64 records in each of its
    // 32 shards), so its bound is looser than the SQL stores' few rows.
    let (tokens, revoked) = (MemoryTokenStore::new(), MemoryRevocationList::new());
    let counts = || std::future::ready((tokens.len() as u64, revoked.len() as u64));
    table::steady_load_stays_bounded(
        &tokens,
        &revoked as &dyn RevocationList,
        counts,
        5000,
        32 * 64 * 2,
    )
    .await;
}

#[tokio::test]
async fn replay_store() {
    table::replay_store(&MemoryReplayStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_replay() {
    let store = Arc::new(MemoryReplayStore::new()) as Arc<dyn ReplayStore>;
    table::concurrent_replay(&[store], 16).await;
}

//! The token store's caps, purge, grant sharing and bounds, from inside.

use super::*;
use jeton::time::Duration;
use jeton::{Scope, TokenClaims, TokenStore};
use jeton_testkit::{block_on, now};

fn record(n: u64, client: &str, issued_at: OffsetDateTime, life: Duration) -> TokenRecord {
    TokenRecord::new(
        TokenDigest::of(&format!("token-{n}")),
        TokenClaims::new(
            ClientId::new(client).unwrap(),
            client.to_owned(),
            Scope::parse("read").unwrap(),
            vec![],
            issued_at,
            issued_at + life,
        ),
    )
}

/// Inserts `r` as the opaque issuer does: its digest and claims, borrowed.
fn insert(s: &MemoryTokenStore, r: &TokenRecord) -> Result<(), StoreError> {
    block_on(s.insert(&r.digest, &r.claims))
}

fn capped(max_tokens: usize, max_per_client: usize) -> MemoryTokenStore {
    MemoryTokenStore::with_limits(TokenLimits {
        max_tokens,
        max_per_client,
    })
}

#[test]
fn the_per_client_cap_refuses_that_client_only() {
    let s = capped(100, 3);
    for n in 0..3 {
        insert(&s, &record(n, "a", now(), Duration::minutes(5))).unwrap();
    }
    let e = insert(&s, &record(3, "a", now(), Duration::minutes(5))).unwrap_err();
    assert_eq!(e.capacity(), Some(CapacityExceeded::PerClient));
    insert(&s, &record(4, "b", now(), Duration::minutes(5))).unwrap();
    assert_eq!(s.client_len(&ClientId::new("a").unwrap()), 3);
    assert_eq!(s.len(), 4);
}

#[test]
fn the_global_cap_refuses_every_client() {
    let s = capped(4, 10);
    for n in 0..4 {
        let client = if n % 2 == 0 { "a" } else { "b" };
        insert(&s, &record(n, client, now(), Duration::minutes(5))).unwrap();
    }
    let e = insert(&s, &record(9, "c", now(), Duration::minutes(5))).unwrap_err();
    assert_eq!(e.capacity(), Some(CapacityExceeded::Global));
    assert_eq!(s.len(), 4);
    assert_eq!(s.client_len(&ClientId::new("c").unwrap()), 0);
}

#[test]
fn a_full_store_takes_new_tokens_once_old_ones_expire() {
    let s = capped(4, 2);
    for n in 0..2 {
        insert(&s, &record(n, "a", now(), Duration::seconds(10))).unwrap();
    }
    assert!(insert(&s, &record(2, "a", now(), Duration::seconds(10))).is_err());
    // Ten seconds on, both have expired: the refused insert's purge frees their slots.
    let later = now() + Duration::seconds(10);
    insert(&s, &record(3, "a", later, Duration::seconds(10))).unwrap();
    assert_eq!(s.client_len(&ClientId::new("a").unwrap()), 1);
    assert_eq!(s.len(), 1);
}

#[test]
fn revoking_gives_the_slot_back() {
    let s = capped(10, 1);
    let r = record(1, "a", now(), Duration::minutes(5));
    insert(&s, &r).unwrap();
    assert!(insert(&s, &record(2, "a", now(), Duration::minutes(5))).is_err());
    assert!(block_on(s.revoke(&r.digest)).unwrap());
    insert(&s, &record(2, "a", now(), Duration::minutes(5))).unwrap();
}

#[test]
fn reinserting_a_digest_keeps_one_slot() {
    let s = capped(10, 10);
    let r = record(1, "a", now(), Duration::minutes(5));
    insert(&s, &r).unwrap();
    insert(&s, &r).unwrap();
    assert_eq!(s.len(), 1);
    assert_eq!(s.client_len(&ClientId::new("a").unwrap()), 1);
}

#[test]
fn purge_works_in_chunks_and_visits_only_expired_records() {
    let s = MemoryTokenStore::new();
    let n = (SHARDS * PURGE_CHUNK * 3) as u64;
    for i in 0..n {
        let life = if i % 2 == 0 { 10 } else { 3600 };
        insert(&s, &record(i, "a", now(), Duration::seconds(life))).unwrap();
    }
    // A chunk's worth of expired records per lock hold: more than one chunk per shard here.
    let dropped = s.purge_expired(now() + Duration::seconds(10));
    assert_eq!(dropped as u64, n / 2);
    assert_eq!(s.len() as u64, n / 2);
    assert_eq!(s.client_len(&ClientId::new("a").unwrap()) as u64, n / 2);
    // Nothing expired is left to visit; the index and the map agree.
    assert_eq!(s.purge_expired(now() + Duration::seconds(10)), 0);
    let held: usize = s.shards.iter().map(|shard| lock(shard).check()).sum();
    assert_eq!(held as u64, n / 2);
}

#[test]
fn the_counter_map_forgets_clients_without_tokens() {
    let s = MemoryTokenStore::new();
    for i in 0..100u64 {
        let r = record(i, &format!("c{i}"), now(), Duration::seconds(1));
        insert(&s, &r).unwrap();
    }
    s.purge_expired(now() + Duration::seconds(1));
    assert_eq!(client_entries(&s), (0, 0));
    assert!(s.is_empty());
}

/// Clients with a count, and shared grants, over all counter shards.
fn client_entries(s: &MemoryTokenStore) -> (usize, usize) {
    s.clients.iter().fold((0, 0), |(l, g), c| {
        let c = lock(c);
        (l + c.live.len(), g + c.grants.len())
    })
}

fn check(s: &MemoryTokenStore) -> usize {
    s.shards.iter().map(|shard| lock(shard).check()).sum()
}

#[test]
fn tokens_of_one_grant_share_it_and_it_goes_with_their_last() {
    let s = MemoryTokenStore::new();
    for i in 0..1000 {
        insert(&s, &record(i, "a", now(), Duration::minutes(5))).unwrap();
    }
    assert_eq!(client_entries(&s), (1, 1));
    let mut other = record(1000, "a", now(), Duration::minutes(5));
    other.claims.scope = Scope::parse("write").unwrap();
    insert(&s, &other).unwrap();
    insert(&s, &record(1001, "b", now(), Duration::minutes(5))).unwrap();
    assert_eq!(client_entries(&s), (2, 3));
    assert!(block_on(s.revoke(&other.digest)).unwrap());
    assert_eq!(client_entries(&s), (2, 2));
    for i in (0..1000).chain([1001]) {
        assert!(block_on(s.revoke(&TokenDigest::of(&format!("token-{i}")))).unwrap());
    }
    assert_eq!(client_entries(&s), (0, 0));
    assert!(s.is_empty());
}

#[test]
fn only_the_first_token_of_its_kind_copies_the_claims_strings() {
    let s = MemoryTokenStore::new();
    let built = || compact::GRANTS_BUILT.with(std::cell::Cell::get);
    let start = built();
    for i in 0..100 {
        insert(&s, &record(i, "a", now(), Duration::minutes(5))).unwrap();
    }
    assert_eq!(
        built() - start,
        1,
        "one copy for a hundred tokens of one kind"
    );
    let mut other = record(100, "a", now(), Duration::minutes(5));
    other.claims.scope = Scope::parse("write").unwrap();
    insert(&s, &other).unwrap();
    other.digest = TokenDigest::of("token-101");
    insert(&s, &other).unwrap();
    assert_eq!(built() - start, 2, "one more for another kind, once");
    // Refused inserts copy nothing; a kind whose last token went is copied again.
    let full = capped(1, 1);
    insert(&full, &record(0, "a", now(), Duration::minutes(5))).unwrap();
    assert!(insert(&full, &other).is_err());
    assert_eq!(built() - start, 3);
    assert!(block_on(full.revoke(&TokenDigest::of("token-0"))).unwrap());
    insert(&full, &record(1, "a", now(), Duration::minutes(5))).unwrap();
    assert_eq!(built() - start, 4);
}

#[test]
fn grants_are_freed_under_concurrent_inserts_and_revocations() {
    let s = std::sync::Arc::new(MemoryTokenStore::new());
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in 0..2_000 {
                    let r = record(t * 1_000_000 + i, "a", now(), Duration::minutes(5));
                    insert(&s, &r).unwrap();
                    assert_eq!(block_on(s.get(&r.digest)).unwrap(), Some(r.clone()));
                    assert!(block_on(s.revoke(&r.digest)).unwrap());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(client_entries(&s), (0, 0));
    assert!(s.is_empty());
}

#[test]
fn revoked_tokens_leave_a_bounded_number_of_stale_index_entries() {
    let s = MemoryTokenStore::new();
    // A thousand live tokens, and fifty thousand issued and revoked beside them: without
    // the rebuild, fifty thousand stale expiry entries.
    for i in 0..1000 {
        insert(&s, &record(i, "a", now(), Duration::hours(1))).unwrap();
    }
    for i in 1000..51_000 {
        let r = record(i, "a", now(), Duration::hours(1));
        insert(&s, &r).unwrap();
        assert!(block_on(s.revoke(&r.digest)).unwrap());
    }
    // `check` asserts at most one stale entry per live token plus the slack, per shard.
    assert_eq!(check(&s), 1000);
    let stale: usize = s.shards.iter().map(|sh| lock(sh).due_len()).sum();
    assert!(stale <= 2 * 1000 + SHARDS * shard::STALE_SLACK, "{stale}");
}

#[test]
fn purge_counts_stale_entries_against_its_chunk_and_still_finishes() {
    let s = MemoryTokenStore::new();
    let n = (SHARDS * PURGE_CHUNK * 3) as u64;
    for i in 0..n {
        insert(&s, &record(i, "a", now(), Duration::seconds(10))).unwrap();
    }
    // Revoke a third: their expiry entries stay (fewer than the live ones) and come due.
    for i in (0..n).step_by(3) {
        assert!(block_on(s.revoke(&TokenDigest::of(&format!("token-{i}")))).unwrap());
    }
    let left = s.len();
    assert_eq!(s.purge_expired(now() + Duration::seconds(10)), left);
    assert!(s.is_empty());
    assert_eq!(check(&s), 0);
}

#[test]
fn memory_goes_back_as_tokens_go() {
    let s = MemoryTokenStore::new();
    let empty = s.approx_bytes();
    for i in 0..20_000 {
        let life = if i % 10 == 0 { 3600 } else { 10 };
        insert(&s, &record(i, "a", now(), Duration::seconds(life))).unwrap();
    }
    let full = s.approx_bytes();
    assert_eq!(s.purge_expired(now() + Duration::seconds(10)), 18_000);
    // Each shard rebuilt at its live size: a tenth of the tokens, well under a fifth of
    // the bytes.
    assert_eq!(check(&s), 2_000);
    let tenth = s.approx_bytes();
    assert!(tenth * 5 < full, "{tenth} of {full}");
    s.purge_expired(now() + Duration::hours(1));
    assert_eq!(check(&s), 0);
    assert_eq!(s.approx_bytes(), empty);
}

#[test]
fn no_store_holds_more_than_max_tokens() {
    let s = capped(usize::MAX, usize::MAX);
    assert_eq!(s.max_tokens(), MAX_TOKENS);
    assert_eq!(
        s.limits().max_tokens,
        usize::MAX,
        "the limits are kept as given"
    );
    assert_eq!(capped(7, 1).max_tokens(), 7);
}

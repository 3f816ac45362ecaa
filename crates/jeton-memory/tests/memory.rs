//! Heap bytes per live opaque token in [`MemoryTokenStore`], counted by a counting global
//! allocator (`stats_alloc`), and the memory given back after purge and revocation.
//!
//! One test function only: the allocator counts the whole process, so nothing else may run
//! beside the measurement (this file is its own test binary).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jeton::time::{Duration, OffsetDateTime};
use jeton::{
    ClientId, Confirmation, Resource, Scope, TokenClaims, TokenDigest, TokenRecord, TokenStore,
};
use jeton_memory::MemoryTokenStore;
use jeton_testkit::{block_on, now};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// How many live tokens the figure is measured over.
const TOKENS: u64 = 100_000;
/// The figure the store must hold a live opaque token in (issue 13).
const MAX_BYTES_PER_TOKEN: i64 = 200;
/// What may stay allocated once every token is gone: the empty shards' and counters' fixed
/// parts, never anything that grows with the tokens once held.
const MAX_BYTES_WHEN_EMPTY: i64 = 16 * 1024;

/// A few clients, each with the scope, audience and lifetime it always gets, as the engine
/// grants them (the subject is the client id).
const CLIENTS: [(&str, &str, &str, i64); 4] = [
    (
        "billing-service",
        "invoices:read invoices:write",
        "https://billing.example.com/",
        900,
    ),
    (
        "orders-api",
        "orders:read orders:write inventory:read",
        "https://api.example.com/",
        3600,
    ),
    (
        "reports-worker",
        "reports:read",
        "https://reports.example.com/",
        600,
    ),
    (
        "inventory-sync",
        "inventory:read inventory:write",
        "urn:example:inventory",
        300,
    ),
];

/// The RFC 7638 thumbprint shape: base64url of a SHA-256, 43 characters.
fn thumbprint(n: u64) -> String {
    URL_SAFE_NO_PAD.encode(TokenDigest::of(&format!("dpop-key-{n}")).as_bytes())
}

/// Token `n`: issued 10 ms after token `n - 1` (sub-second instants, as a real clock gives), to
/// one of the clients in turn; one in four bound to one of a hundred DPoP keys.
fn record(n: u64, t0: OffsetDateTime, keys: &[String]) -> TokenRecord {
    let (client, scope, audience, life) = CLIENTS[(n % 4) as usize];
    let issued_at = t0 + Duration::milliseconds(10 * n as i64);
    let claims = TokenClaims::new(
        ClientId::new(client).unwrap(),
        client.to_owned(),
        Scope::parse(scope).unwrap(),
        vec![Resource::new(audience).unwrap()],
        issued_at,
        // Every lifetime outlasts the run: all the tokens are live when measured.
        issued_at + Duration::seconds(life) + Duration::hours(1),
    );
    let claims = if n % 4 == 1 {
        claims.with_confirmation(Confirmation::jkt(keys[(n / 4 % 100) as usize].clone()))
    } else {
        claims
    };
    TokenRecord::new(TokenDigest::of(&format!("jt_token-{n}")), claims)
}

/// Bytes allocated and not freed since the region began (`stats_alloc` counts a reallocation's
/// growth or shrinkage in these two already).
fn net(region: &Region<'_, System>) -> i64 {
    let c = region.change();
    c.bytes_allocated as i64 - c.bytes_deallocated as i64
}

#[test]
fn a_live_opaque_token_costs_at_most_200_heap_bytes_and_memory_returns() {
    let t0 = now() + Duration::nanoseconds(123_456_789);
    let keys: Vec<String> = (0..100).map(thumbprint).collect();
    let region = Region::new(GLOBAL);
    let store = MemoryTokenStore::new();

    // Tables grow in steps, so the figure depends on where the count falls between two: it is
    // checked every 5 000 tokens on the way, not only at the end.
    let mut worst = (0, 0);
    for n in 0..TOKENS {
        let r = record(n, t0, &keys);
        block_on(store.insert(&r.digest, &r.claims)).unwrap();
        if (n + 1) % 5_000 == 0 {
            let per_token = net(&region) / (n + 1) as i64;
            worst = worst.max((per_token, n + 1));
        }
    }
    assert_eq!(store.len() as u64, TOKENS);
    let per_token = net(&region) / TOKENS as i64;
    println!("{per_token} heap bytes per live opaque token ({TOKENS} tokens, 4 clients)");
    println!("at most {} bytes per token, at {} tokens", worst.0, worst.1);

    // Lookups hand out copies and keep nothing.
    let held = net(&region);
    for n in (0..TOKENS).step_by(97) {
        let r = record(n, t0, &keys);
        assert_eq!(block_on(store.get(&r.digest)).unwrap(), Some(r));
    }
    assert_eq!(net(&region), held, "a lookup leaves nothing allocated");

    // Everything expired and purged: the memory goes back, whatever the store once held.
    let end = t0 + Duration::days(1);
    assert_eq!(store.purge_expired(end), TOKENS as usize);
    let after_purge = net(&region);
    println!("{after_purge} heap bytes held after purging them all");

    // Again, and this time every token revoked instead.
    for n in 0..TOKENS {
        let r = record(n, t0, &keys);
        block_on(store.insert(&r.digest, &r.claims)).unwrap();
    }
    for n in 0..TOKENS {
        let digest = TokenDigest::of(&format!("jt_token-{n}"));
        assert!(block_on(store.revoke(&digest)).unwrap());
    }
    assert!(store.is_empty());
    let after_revoke = net(&region);
    println!("{after_revoke} heap bytes held after revoking them all");

    assert!(
        worst.0 <= MAX_BYTES_PER_TOKEN,
        "{} bytes per token at {} tokens",
        worst.0,
        worst.1
    );
    assert!(after_purge <= MAX_BYTES_WHEN_EMPTY, "{after_purge} bytes");
    assert!(after_revoke <= MAX_BYTES_WHEN_EMPTY, "{after_revoke} bytes");
    drop(store);
}

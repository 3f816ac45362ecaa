//! How long the slowest inserts into a growing memory token store take: the moments a shard's
//! index or slot table grows, under that shard's lock. Not a test (timings belong to no
//! assertion on a shared machine): `cargo run --release -p jeton-memory --example
//! insert_stalls [TOKENS]` (default 5 000 000) prints the total, the slowest insert and how
//! many took 0.5 ms or more. Figures are in `BENCHMARKS.md`.

use jeton::time::Duration;
use jeton::{ClientId, Resource, Scope, TokenClaims, TokenDigest, TokenStore};
use jeton_memory::{MemoryTokenStore, TokenLimits};
use jeton_testkit::{block_on, now};
use std::time::Instant;

fn main() {
    let tokens: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000_000);
    let cap = usize::try_from(tokens).unwrap_or(usize::MAX);
    let store = MemoryTokenStore::with_limits(TokenLimits {
        max_tokens: cap,
        max_per_client: cap,
    });
    let t0 = now();
    let claims = TokenClaims::new(
        ClientId::new("load").expect("client id"),
        "load".into(),
        Scope::parse("read").expect("scope"),
        vec![Resource::new("https://api.example.com").expect("resource")],
        t0,
        t0 + Duration::minutes(10),
    );
    let (mut slowest, mut slow) = (std::time::Duration::ZERO, 0u64);
    let start = Instant::now();
    for n in 0..tokens {
        let digest = TokenDigest::of(&format!("jt_token-{n}"));
        let begun = Instant::now();
        block_on(store.insert(&digest, &claims)).expect("insert");
        let took = begun.elapsed();
        slowest = slowest.max(took);
        slow += u64::from(took.as_micros() >= 500);
    }
    println!(
        "{tokens} inserts in {:.2?}: slowest {:.2?}, {slow} of 0.5 ms or more",
        start.elapsed(),
        slowest
    );
}

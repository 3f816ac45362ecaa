//! The in-memory token store's hot paths: insert (issuance) and get (introspection, bearer
//! validation) with 100 000 live tokens, single-threaded and with two threads on one store.
//! Run with `cargo bench -p jeton-memory --bench tokens`; figures are in
//! `crates/jeton-memory/BENCHMARKS.md`. Times are CPU time, not wall time (see [`cpu_time`]).
//!
//! The clock moves 1 ms per inserted token and every token lives 100 s, so the store holds a
//! steady ~100 000 live tokens however many the benchmark inserts: each insert also purges the
//! expired ones, as in production, and that work is in the figure.

use cpu_time::{ProcessTime, ThreadTime};
use criterion::{Criterion, criterion_group, criterion_main};
use jeton::time::{Duration, OffsetDateTime};
use jeton::{
    ClientId, Confirmation, Resource, Scope, TokenClaims, TokenDigest, TokenRecord, TokenStore,
};
use jeton_memory::MemoryTokenStore;
use jeton_testkit::{block_on, now};
use std::hint::black_box;
use std::sync::Arc;

const LIVE: u64 = 100_000;
const CLIENTS: [&str; 4] = [
    "billing-service",
    "orders-api",
    "reports-worker",
    "inventory-sync",
];

fn digest(n: u64) -> TokenDigest {
    TokenDigest::of(&format!("jt_bench-token-{n}"))
}

/// Token `n`, as the engine builds it: issued 1 ms after token `n - 1`, living 100 s, one of
/// four clients in turn, two scope tokens and one audience; one in four DPoP-bound.
fn record(n: u64, t0: OffsetDateTime) -> TokenRecord {
    let client = CLIENTS[(n % 4) as usize];
    let issued_at = t0 + Duration::milliseconds(n as i64);
    let claims = TokenClaims::new(
        ClientId::new(client).unwrap(),
        client.to_owned(),
        Scope::parse("orders:read orders:write").unwrap(),
        vec![Resource::new("https://api.example.com/").unwrap()],
        issued_at,
        issued_at + Duration::seconds(100),
    );
    let claims = if n % 4 == 1 {
        claims.with_confirmation(Confirmation::jkt(
            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
        ))
    } else {
        claims
    };
    TokenRecord::new(digest(n), claims)
}

/// A store holding tokens `0..LIVE`, all live at the time of the last.
fn filled(t0: OffsetDateTime) -> MemoryTokenStore {
    let store = MemoryTokenStore::new();
    for n in 0..LIVE {
        let r = record(n, t0);
        block_on(store.insert(&r.digest, &r.claims)).unwrap();
    }
    store
}

/// Runs `op` `iters` times and returns the CPU time this thread spent: on a machine shared with
/// other work, wall time measures the neighbours as much as the store.
fn cpu_time(iters: u64, mut op: impl FnMut(u64)) -> std::time::Duration {
    let start = ThreadTime::now();
    for i in 0..iters {
        op(i);
    }
    start.elapsed()
}

fn single_thread(c: &mut Criterion) {
    let t0 = now();
    let mut group = c.benchmark_group("memory_token_store");

    let store = filled(t0);
    let mut next = LIVE;
    group.bench_function("insert_100k_live", |b| {
        b.iter_custom(|iters| {
            // Built beforehand, as the engine builds them before the store sees them.
            let mut records: Vec<_> = (next..next + iters).map(|n| record(n, t0)).collect();
            next += iters;
            records.reverse();
            cpu_time(iters, |_| {
                let r = records.pop().unwrap();
                block_on(store.insert(&r.digest, &r.claims)).unwrap()
            })
        })
    });
    drop(store);

    let store = filled(t0);
    let digests: Vec<TokenDigest> = (0..LIVE).map(digest).collect();
    let mut i = 0;
    group.bench_function("get_hit_100k_live", |b| {
        b.iter_custom(|iters| {
            cpu_time(iters, |_| {
                // A stride through the table: each lookup lands on another cache line.
                i = (i + 7919) % digests.len();
                black_box(block_on(store.get(black_box(&digests[i]))).unwrap());
            })
        })
    });
    let unknown = digest(u64::MAX);
    group.bench_function("get_miss_100k_live", |b| {
        b.iter_custom(|iters| {
            cpu_time(iters, |_| {
                black_box(block_on(store.get(black_box(&unknown))).unwrap());
            })
        })
    });
    group.finish();
}

/// Two threads (the machine's cores), each inserting a token and reading it back, on one
/// store: the figure is the process's CPU time per pair (one insert and one get), waiting on
/// each other's locks included.
fn two_threads(c: &mut Criterion) {
    let t0 = now();
    let store = Arc::new(filled(t0));
    let mut next = LIVE;
    let mut group = c.benchmark_group("memory_token_store");
    group.bench_function("insert_get_2_threads", |b| {
        b.iter_custom(|iters| {
            let batches: Vec<Vec<TokenRecord>> = (0..2)
                .map(|_| {
                    let batch = (next..next + iters).map(|n| record(n, t0)).collect();
                    next += iters;
                    batch
                })
                .collect();
            let start = ProcessTime::now();
            let threads: Vec<_> = batches
                .into_iter()
                .map(|batch| {
                    let store = store.clone();
                    std::thread::spawn(move || {
                        for r in batch {
                            block_on(store.insert(&r.digest, &r.claims)).unwrap();
                            black_box(block_on(store.get(&r.digest)).unwrap());
                        }
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
            start.elapsed() / 2
        })
    });
    group.finish();
}

criterion_group!(benches, single_thread, two_threads);
criterion_main!(benches);

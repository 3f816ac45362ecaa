//! Equal cost of failed authentication (issue 9 point 3, RFC 6749 §10.10): a failed token
//! request must cost the same whether the id is unknown, names an HMAC client, a PBKDF2 client,
//! or a client with several secrets, so that timing tells an attacker nothing about which
//! clients exist or how they are verified.
//!
//! `cargo bench -p jeton --bench equal_cost` runs one criterion group, `failed_auth`, on a
//! deployment that mixes verifier kinds (so the decoy is PBKDF2 600 000, as `jeton serve`
//! chooses), then prints the median of each path side by side with its ratio to the unknown-id
//! path. Equal cost means every ratio near 1.0. This is a benchmark, not a test: it reports.

use criterion::{Criterion, criterion_group, criterion_main};
use jeton::{
    AuthMethod, ClientId, ClientRecord, CostProfile, Engine, OpaqueIssuer,
    PBKDF2_DEFAULT_ITERATIONS, RawRequest, Scope, SecretVerifier, encode_basic,
};
use jeton_testkit::jeton_memory::{MemoryClientStore, MemoryTokenStore};
use jeton_testkit::{SeqRandom, block_on, now};
use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

const FORM: &[u8] = b"application/x-www-form-urlencoded";
const BODY: &[u8] = b"grant_type=client_credentials&scope=read";
const WRONG: &str = "a-wrong-secret-of-ordinary-length";

fn client(id: &str, secrets: Vec<SecretVerifier>) -> ClientRecord {
    secrets
        .into_iter()
        .fold(ClientRecord::builder(ClientId::new(id).unwrap()), |b, v| {
            b.secret(v)
        })
        .scopes(Scope::parse("read").unwrap())
        .auth_methods([AuthMethod::ClientSecretBasic])
        .build()
}

fn engine() -> Engine {
    let rng = Arc::new(SeqRandom::new(9));
    let iterations = NonZeroU32::new(PBKDF2_DEFAULT_ITERATIONS).unwrap();
    let hmac = |s: &str| SecretVerifier::hmac_sha256(s, &*rng).unwrap();
    let clients = MemoryClientStore::with_clients([
        client("hmac-client", vec![hmac("hmac-secret-0123456789")]),
        client(
            "pbkdf2-client",
            vec![SecretVerifier::pbkdf2_sha256("correct-horse", iterations, &*rng).unwrap()],
        ),
        client(
            "three-secrets",
            vec![
                hmac("first-secret-0123"),
                hmac("second-secret-0123"),
                hmac("third-secret-0123"),
            ],
        ),
    ]);
    let issuer = OpaqueIssuer::new(Arc::new(MemoryTokenStore::new()), rng.clone());
    Engine::builder(Arc::new(clients), Arc::new(issuer))
        .random(std::sync::Arc::new(jeton::SystemRandom::new()))
        .cost_profiles([CostProfile::hmac(), CostProfile::pbkdf2(iterations)])
        // The bench measures verification work; the limiter would answer 429 after 5 failures.
        .limiter(Arc::new(jeton::NoLimiter))
        .build()
        .unwrap()
}

const PATHS: [(&str, &str); 5] = [
    ("unknown_id", "no-such-client"),
    ("unknown_id_2", "nobody-at-all"),
    ("hmac_wrong_secret", "hmac-client"),
    ("pbkdf2_wrong_secret", "pbkdf2-client"),
    ("three_secrets_wrong_secret", "three-secrets"),
];

fn fail_once(engine: &Engine, authorization: &str) {
    let req = RawRequest::new("POST", BODY, now())
        .content_type(FORM)
        .authorization(authorization.as_bytes())
        .secure(true);
    let status = block_on(engine.handle_token_request(black_box(&req)))
        .response
        .status();
    assert_eq!(status, 401);
}

fn failed_auth(c: &mut Criterion) {
    let engine = engine();
    let mut group = c.benchmark_group("failed_auth");
    // A PBKDF2 path takes ~0.3 s: ten samples is what criterion allows at least.
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    for (name, id) in PATHS {
        let auth = encode_basic(id, WRONG);
        group.bench_function(name, |b| b.iter(|| fail_once(&engine, &auth)));
    }
    group.finish();

    // The side-by-side table: medians of a few timed runs per path.
    let medians: Vec<(&str, Duration)> = PATHS
        .iter()
        .map(|&(name, id)| {
            let auth = encode_basic(id, WRONG);
            let mut times: Vec<Duration> = (0..7)
                .map(|_| {
                    let start = Instant::now();
                    fail_once(&engine, &auth);
                    start.elapsed()
                })
                .collect();
            times.sort();
            (name, times[times.len() / 2])
        })
        .collect();
    let reference = medians[0].1.as_secs_f64();
    println!("\nfailed authentication, median of 7 (ratio to unknown_id; equal cost = 1.0):");
    for (name, m) in &medians {
        println!(
            "  {name:<28} {:>12.3?}  {:>12.6}",
            m,
            m.as_secs_f64() / reference
        );
    }
}

criterion_group!(benches, failed_auth);
criterion_main!(benches);

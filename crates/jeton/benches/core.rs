//! The core's hot paths: form and Basic parsing, secret verification, and whole token requests
//! through the engine with memory stores and opaque tokens. Run with
//! `cargo bench -p jeton --bench core`; figures are in `crates/jeton/BENCHMARKS.md`.
//!
//! `token_request/{wrong_secret,unknown_client}` are there to be compared with each other: an
//! unknown client verifies against a decoy, so it must cost what a wrong secret costs
//! (RFC 6749 §10.10).

use criterion::{Criterion, criterion_group, criterion_main};
use jeton::internal::basic::parse_authorization;
use jeton::internal::form::{self, FormLimits};
use jeton::time::Duration;
use jeton::{
    ClientSecret, Engine, RawRequest, RegisteredSecret, Scope, SecretVerifier, encode_basic,
};
use jeton_testkit::{BASIC, Fixture, SeqRandom, VECTOR_HEADER, block_on, now};
use std::cell::Cell;
use std::hint::black_box;
use std::num::NonZeroU32;

const BODY: &[u8] =
    b"grant_type=client_credentials&scope=read+write&resource=https%3A%2F%2Fapi.example.com%2F";
const FORM: &[u8] = b"application/x-www-form-urlencoded";

fn parsing(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group.bench_function("form_typical_body", |b| {
        b.iter(|| form::parse(black_box(BODY), FormLimits::default()).unwrap())
    });
    group.bench_function("basic_rfc6749_vector", |b| {
        b.iter(|| parse_authorization(black_box(VECTOR_HEADER.as_bytes())).unwrap())
    });
    group.bench_function("scope_three_tokens", |b| {
        b.iter(|| Scope::parse(black_box("read write invoices:read")).unwrap())
    });
    group.finish();
}

fn verification(c: &mut Criterion) {
    let rng = SeqRandom::new(1);
    let secret = ClientSecret::new(BASIC.secret).unwrap();
    let mut group = c.benchmark_group("verify");

    let hmac = SecretVerifier::hmac_sha256(BASIC.secret, &rng).unwrap();
    group.bench_function("hmac_sha256", |b| {
        b.iter(|| assert!(black_box(&hmac).verify(black_box(&secret))))
    });
    // What the engine runs per verification: the HMAC key prepared once, at registration.
    let registered = RegisteredSecret::new(hmac.clone());
    group.bench_function("hmac_sha256_registered", |b| {
        b.iter(|| assert!(black_box(&registered).verify(black_box(&secret))))
    });

    let iterations = NonZeroU32::new(jeton::PBKDF2_DEFAULT_ITERATIONS).unwrap();
    let pbkdf2 = SecretVerifier::pbkdf2_sha256(BASIC.secret, iterations, &rng).unwrap();
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(10));
    group.bench_function("pbkdf2_sha256_600000", |b| {
        b.iter(|| assert!(black_box(&pbkdf2).verify(black_box(&secret))))
    });
    group.finish();
}

/// The body of the token requests: what a Basic-authenticated client typically sends.
const TOKEN_BODY: &[u8] = b"grant_type=client_credentials&scope=read+write";

/// Sends one Basic-authenticated token request. `tick` moves the clock an hour per call, so the
/// memory token store purges earlier tokens as it would in production instead of growing for
/// the whole run.
fn request(engine: &Engine, authorization: &str, tick: &Cell<i64>) -> u16 {
    tick.set(tick.get() + 1);
    let req = RawRequest::new("POST", TOKEN_BODY, now() + Duration::hours(tick.get()))
        .content_type(FORM)
        .authorization(authorization.as_bytes())
        .secure(true);
    block_on(engine.handle_token_request(black_box(&req)))
        .response
        .status()
}

fn token_requests(c: &mut Criterion) {
    let f = Fixture::new();
    let tick = Cell::new(0);
    let ok = encode_basic(BASIC.id, BASIC.secret);
    let wrong = encode_basic(BASIC.id, "basic-secret-wrong-4567");
    let unknown = encode_basic("no-such-client", BASIC.secret);

    let mut group = c.benchmark_group("token_request");
    for (name, authorization, status) in [
        ("success_basic_opaque", &ok, 200),
        ("wrong_secret", &wrong, 401),
        ("unknown_client", &unknown, 401),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| assert_eq!(request(&f.engine, authorization, &tick), status))
        });
    }
    group.finish();
}

criterion_group!(benches, parsing, verification, token_requests);
criterion_main!(benches);

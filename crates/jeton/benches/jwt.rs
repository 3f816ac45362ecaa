//! JWT access tokens: signing, issuing through the engine, and resource-server validation, per
//! algorithm. Run with `cargo bench -p jeton --bench jwt`.
//!
//! `sign` is the JWS work of `JwtIssuer::issue` on typical claims (a `Grant` has no public
//! constructor, so `issue` itself is measured inside `token_request`, which adds the engine's
//! form parsing, Basic authentication and policy: compare it with `sign` to see that issuing
//! costs little more than the signature).

#[path = "../tests/jwt_common/mod.rs"]
mod jwt_common;

use criterion::{Criterion, criterion_group, criterion_main};
use jeton::{Algorithm, HeaderValues, KeySet, Scope, sign_jwt};
use jeton_testkit::now;
use jwt_common::{check, engine, issue, issuer, key, validator};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("jwt");
    for alg in Algorithm::ALL {
        let k = key(alg);
        let claims = serde_json::json!({
            "iss": jwt_common::ISSUER, "sub": "basic-client", "aud": jwt_common::AUDIENCE,
            "exp": now().unix_timestamp() + 900, "iat": now().unix_timestamp(),
            "jti": "AAAAAAAAAAAAAAAAAAAAAAAAAAA", "client_id": "basic-client", "scope": "read",
        });
        group.bench_function(format!("sign/{alg}"), |b| {
            b.iter(|| sign_jwt(black_box(&k), "at+jwt", black_box(&claims)).unwrap())
        });

        let iss = issuer(KeySet::new(key(alg)));
        let eng = engine(iss.clone());
        group.bench_function(format!("token_request/{alg}"), |b| {
            b.iter(|| issue(black_box(&eng), now()))
        });

        let v = validator(iss.jwk_set());
        let token = issue(&eng, now());
        let value = format!("Bearer {token}");
        let read = Scope::parse("read").unwrap();
        assert!(check(&v, &token, now(), "read").is_ok());
        group.bench_function(format!("validate/{alg}"), |b| {
            b.iter(|| {
                let mut h = HeaderValues::default();
                h.push(black_box(value.as_bytes()));
                let token = v.bearer_token(&h).unwrap();
                v.validate_jwt(token, now(), &read).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! A validator made from the engine it protects: settings taken from the engine, live keys and
//! revocations, and configurations that cannot work refused when built.

use jeton::{
    Algorithm, BearerConfigError, BearerValidator, ConfigError, Engine, IssuerId, JwtIssuer,
    KeySet, OpaqueIssuer, Resource, SigningKey, StoreIntrospector,
};
use jeton_testkit::jeton_memory::{MemoryClientStore, MemoryTokenStore};
use jeton_testkit::{ISSUER, SeqRandom, fixture_clients};
use std::sync::Arc;

const API: &str = "https://api.example.com/";

fn jwt_issuer() -> Arc<JwtIssuer> {
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    Arc::new(
        JwtIssuer::builder(
            IssuerId::new(ISSUER).unwrap(),
            KeySet::new(key),
            Arc::new(SeqRandom::new(1)),
        )
        .build()
        .unwrap(),
    )
}

fn clients() -> Arc<MemoryClientStore> {
    Arc::new(MemoryClientStore::with_clients(fixture_clients()))
}

#[test]
fn rfc9068_2_2_jwt_engine_without_default_audience_refuses_to_build() {
    let err = Engine::builder(clients(), jwt_issuer())
        .random(Arc::new(SeqRandom::new(5)))
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::NoAudience);
    // Opaque tokens may go without an audience: nothing requires `aud` there.
    let opaque = OpaqueIssuer::new(
        Arc::new(MemoryTokenStore::new()),
        Arc::new(SeqRandom::new(2)),
    );
    assert!(
        Engine::builder(clients(), Arc::new(opaque))
            .random(Arc::new(SeqRandom::new(5)))
            .build()
            .is_ok()
    );
}

#[test]
fn validator_takes_issuer_audience_and_realm_from_the_engine() {
    let engine = Engine::builder(clients(), jwt_issuer())
        .random(Arc::new(SeqRandom::new(5)))
        .issuer(IssuerId::new(ISSUER).unwrap())
        .default_audience([Resource::new(API).unwrap()])
        .realm("orders")
        .build()
        .unwrap();
    let v = engine.validator().build().unwrap();
    assert_eq!(
        (v.issuer(), v.audience(), v.realm()),
        (ISSUER, API, "orders")
    );
    // Live keys cannot be replaced behind the issuer's back.
    assert!(!v.replace_keys(jeton::Jwks::default()));
}

#[test]
fn validator_without_audience_or_way_to_check_refuses_to_build() {
    let opaque = OpaqueIssuer::new(
        Arc::new(MemoryTokenStore::new()),
        Arc::new(SeqRandom::new(3)),
    );
    let engine = Engine::builder(clients(), Arc::new(opaque))
        .random(Arc::new(SeqRandom::new(5)))
        .issuer(IssuerId::new(ISSUER).unwrap())
        .build()
        .unwrap();
    assert_eq!(
        engine.validator().build().unwrap_err(),
        BearerConfigError::NoAudience
    );
    assert!(engine.validator().audience(API).build().is_ok());

    let custom = Engine::builder(clients(), Arc::new(jeton_testkit::FailingIssuer))
        .random(Arc::new(SeqRandom::new(5)))
        .issuer(IssuerId::new(ISSUER).unwrap())
        .default_audience([Resource::new(API).unwrap()])
        .build()
        .unwrap();
    assert_eq!(
        custom.validator().build().unwrap_err(),
        BearerConfigError::NoTokenSource
    );
    let store = Arc::new(StoreIntrospector::new(Arc::new(MemoryTokenStore::new())));
    assert!(custom.validator().introspector(store).build().is_ok());
}

#[test]
fn default_realm_is_the_engines() {
    let v = BearerValidator::builder(ISSUER, API, jeton::Jwks::default())
        .build()
        .unwrap();
    assert_eq!(v.realm(), jeton::DEFAULT_REALM);
    let engine = Engine::builder(clients(), jwt_issuer())
        .random(Arc::new(SeqRandom::new(5)))
        .default_audience([Resource::new(API).unwrap()])
        .build()
        .unwrap();
    assert_eq!(engine.realm(), jeton::DEFAULT_REALM);
}

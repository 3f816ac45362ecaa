//! Properties of JWT signing and validation (proptest):
//!
//! - sign → verify round-trips for every algorithm, with arbitrary claim values;
//! - any single-byte change to a valid token makes it invalid;
//! - validation, JWK(S) parsing and key loading never panic, on arbitrary bytes and on
//!   structured near-JWTs (every header/claim shape, right and wrong).

mod jwt_common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use jeton::internal::sign_compact;
use jeton::time::{Duration, OffsetDateTime};
use jeton::{
    Algorithm, BearerValidator, HeaderValues, Jwks, KeySet, Scope, SigningKey, VerifyingKey,
    sign_jwt,
};
use jwt_common::*;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::sync::LazyLock;

static KEYS: LazyLock<Vec<SigningKey>> =
    LazyLock::new(|| Algorithm::ALL.into_iter().map(key).collect());

static VALIDATOR: LazyLock<BearerValidator> = LazyLock::new(|| {
    let mut set = KeySet::new(key(Algorithm::Es256));
    for alg in [Algorithm::EdDsa, Algorithm::Rs256] {
        set = set
            .with_verification_key(key(alg).verifying_key().clone())
            .expect("distinct kids");
    }
    validator(set.jwks())
});

fn now() -> OffsetDateTime {
    jeton_testkit::now()
}

fn header(value: &[u8]) -> HeaderValues<'_> {
    let mut h = HeaderValues::default();
    h.push(value);
    h
}

fn scope_token() -> impl Strategy<Value = String> {
    "[!#-\\[\\]-~]{1,8}"
}

prop_compose! {
    fn claims()(
        sub in "[ -~]{1,40}",
        client_id in "[ -~]{1,40}",
        scope in proptest::collection::vec(scope_token(), 0..5),
        lifetime in 1i64..86_400,
        age in 0i64..30,
        jti in "[A-Za-z0-9_-]{1,40}",
        extra in proptest::collection::btree_map("x[a-z]{0,6}", any::<i32>(), 0..3),
    ) -> Value {
        let iat = now() - Duration::seconds(age);
        let mut c = json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": sub, "client_id": client_id,
            "iat": iat.unix_timestamp(), "exp": (iat + Duration::seconds(lifetime)).unix_timestamp(),
            "jti": jti, "scope": scope.join(" "),
        });
        for (k, v) in extra {
            c[k] = json!(v);
        }
        c
    }
}

fn any_key() -> impl Strategy<Value = &'static SigningKey> {
    (0..3usize).prop_map(|i| &KEYS[i])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn rfc7515_sign_then_verify_round_trips_for_every_alg(k in any_key(), c in claims()) {
        let token = sign_jwt(k, "at+jwt", &c).unwrap();
        let got = check(&VALIDATOR, &token, now(), "").unwrap();
        prop_assert_eq!(&got.subject, c["sub"].as_str().unwrap());
        prop_assert_eq!(&got.client_id, c["client_id"].as_str().unwrap());
        prop_assert_eq!(got.jti.as_deref(), c["jti"].as_str());
        prop_assert_eq!(got.expires_at.unix_timestamp(), c["exp"].as_i64().unwrap());
        let scope = c["scope"].as_str().unwrap();
        let want = if scope.is_empty() { Scope::default() } else { Scope::parse(scope).unwrap() };
        prop_assert_eq!(&got.scope, &want);
        for (k, v) in c.as_object().unwrap().iter().filter(|(k, _)| k.starts_with('x')) {
            prop_assert_eq!(got.extra.get(k), Some(v));
        }
    }

    #[test]
    fn rfc7515_any_single_byte_change_invalidates_the_token(
        k in any_key(),
        c in claims(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let token = sign_jwt(k, "at+jwt", &c).unwrap();
        let mut bytes = format!("Bearer {token}").into_bytes();
        let i = 7 + at.index(token.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        let result = jeton_testkit::block_on(VALIDATOR.validate(&header(&bytes), now(), &Scope::default()));
        prop_assert!(result.is_err(), "changed byte {} to {:#04x}", i - 7, byte);
    }

    #[test]
    fn validation_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = jeton_testkit::block_on(VALIDATOR.validate(&header(&bytes), now(), &Scope::default()));
        let mut prefixed = b"Bearer ".to_vec();
        prefixed.extend_from_slice(&bytes);
        let _ = jeton_testkit::block_on(VALIDATOR.validate(&header(&prefixed), now(), &Scope::default()));
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = VALIDATOR.validate_jwt(s, now(), &Scope::default());
            let _ = SigningKey::from_pkcs8_pem(s);
        }
        let _ = Jwks::from_json(&bytes);
        let _ = SigningKey::from_pkcs8_der(&bytes);
    }
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!(1e300)),
        Just(json!(-1e300)),
        Just(json!(u64::MAX)),
        "[ -~]{0,12}".prop_map(Value::String),
        Just(json!(ISSUER)),
        Just(json!(AUDIENCE)),
        Just(json!("at+jwt")),
        Just(json!("read write")),
        Just(json!(now().unix_timestamp())),
        Just(json!(now().unix_timestamp() + 600)),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn member_map(names: &'static [&'static str]) -> impl Strategy<Value = Map<String, Value>> {
    proptest::collection::vec(
        (prop::sample::select(names), json_value()),
        0..names.len() + 2,
    )
    .prop_map(|pairs| pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

const HEADER_NAMES: &[&str] = &[
    "alg", "typ", "kid", "jku", "jwk", "x5u", "x5c", "crit", "cty", "zz",
];
const CLAIM_NAMES: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "client_id",
    "scope",
    "zz",
];

prop_compose! {
    /// A header that is mostly right: right `alg`/`typ`/`kid` for one key, then some members
    /// replaced or added at random.
    fn near_header()(k in any_key(), noise in member_map(HEADER_NAMES), keep in any::<bool>())
        -> (Map<String, Value>, &'static SigningKey)
    {
        let mut h = Map::new();
        if keep {
            h.insert("alg".into(), json!(k.algorithm().as_str()));
            h.insert("typ".into(), json!("at+jwt"));
            h.insert("kid".into(), json!(k.kid()));
        }
        h.extend(noise);
        (h, k)
    }
}

prop_compose! {
    fn near_claims()(base in claims(), noise in member_map(CLAIM_NAMES)) -> Value {
        let mut c = base;
        if let Some(m) = c.as_object_mut() {
            m.extend(noise);
        }
        c
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn validation_never_panics_on_near_jwts(
        (h, k) in near_header(),
        c in near_claims(),
        sig in proptest::collection::vec(any::<u8>(), 0..300),
        really_sign in any::<bool>(),
    ) {
        let h_b64 = B64URL.encode(Value::Object(h.clone()).to_string());
        let c_b64 = B64URL.encode(c.to_string());
        let token = if really_sign {
            // Correctly signed by a trusted key, whatever the header and claims say.
            let header = Value::Object(h.clone()).to_string();
            sign_compact(k, header.as_bytes(), c.to_string().as_bytes()).unwrap()
        } else {
            format!("{h_b64}.{c_b64}.{}", B64URL.encode(&sig))
        };
        if let Ok(claims) = check(&VALIDATOR, &token, now(), "") {
            // Whatever got through really is for us, from our issuer, and unexpired.
            prop_assert_eq!(claims.issuer.as_str(), ISSUER);
            prop_assert!(claims.audience.iter().any(|a| a == AUDIENCE));
            prop_assert!(now() < claims.expires_at + Duration::seconds(30));
            let typ = h.get("typ").and_then(Value::as_str).map(str::to_ascii_lowercase);
            prop_assert!(matches!(typ.as_deref(), Some("at+jwt" | "application/at+jwt")));
        }
    }

    #[test]
    fn jwk_parsing_never_panics(v in json_value(), kty in prop::sample::select(&["EC", "OKP", "RSA", "oct"][..])) {
        let _ = VerifyingKey::from_jwk(&v);
        if let Value::Object(mut m) = v {
            m.insert("kty".into(), json!(kty));
            m.insert("crv".into(), json!(if kty == "EC" { "P-256" } else { "Ed25519" }));
            let jwk = Value::Object(m);
            let _ = VerifyingKey::from_jwk(&jwk);
            let _ = Jwks::from_json(json!({ "keys": [jwk] }).to_string().as_bytes());
        }
    }
}

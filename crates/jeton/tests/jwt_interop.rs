//! Interoperability of jeton's JWT access tokens with an independent implementation, the
//! `jsonwebtoken` crate (RustCrypto back end), and the RFC 6750 / RFC 9068 §4 rejections.
//!
//! - tokens jeton issues verify with `jsonwebtoken`, using keys read from jeton's JWKS;
//! - tokens `jsonwebtoken` signs with the same keys validate in jeton;
//! - tampered, expired, foreign, `alg: none`, HMAC-confused and wrongly typed tokens are
//!   refused with the right RFC 6750 answer.

mod jwt_common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use jeton::time::{Duration, OffsetDateTime};
use jeton::{
    Algorithm, BearerFailure, BearerValidator, ErrorCode, HeaderValues, Jwks, KeySet, Scope,
    SigningKey, StoreIntrospector, TokenFormat,
};
use jsonwebtoken as jwt;
use jwt_common::*;
use serde_json::{Value, json};
use std::sync::Arc;

/// Claims jeton accepts at `now`.
fn good_claims(now: OffsetDateTime) -> Value {
    json!({
        "iss": ISSUER,
        "sub": "client:svc",
        "client_id": "svc",
        "aud": AUDIENCE,
        "iat": now.unix_timestamp(),
        "exp": (now + Duration::minutes(5)).unix_timestamp(),
        "jti": "j-1",
        "scope": "read write",
    })
}

/// A `jsonwebtoken` header for jeton's key of `alg`, `typ: at+jwt`.
fn header(alg: Algorithm) -> jwt::Header {
    let mut h = jwt::Header::new(jsonwebtoken_alg(alg));
    h.typ = Some("at+jwt".into());
    h.kid = Some(key(alg).kid().to_owned());
    h
}

fn sign(h: &jwt::Header, claims: &Value, alg: Algorithm) -> String {
    jwt::encode(h, claims, &encoding_key(alg)).expect("jsonwebtoken signs")
}

fn validator_for(alg: Algorithm) -> BearerValidator {
    validator(KeySet::new(key(alg)).jwks())
}

fn failure(v: &BearerValidator, token: &str, now: OffsetDateTime) -> BearerFailure {
    check(v, token, now, "")
        .expect_err("token must be refused")
        .failure()
}

fn now() -> OffsetDateTime {
    jeton_testkit::now()
}

#[test]
fn rfc9068_jeton_tokens_verify_with_jsonwebtoken_using_jeton_jwks() {
    for alg in Algorithm::ALL {
        let issuer = issuer(KeySet::new(key(alg)));
        let engine = engine(issuer.clone());
        // jsonwebtoken checks `exp` against the wall clock, so issue at the wall clock.
        let token = issue(&engine, wall_clock());

        let jwks: jwt::jwk::JwkSet =
            serde_json::from_slice(&issuer.jwk_set().to_json()).expect("JWKS parses");
        let header = jwt::decode_header(&token).expect("header");
        assert_eq!(header.typ.as_deref(), Some("at+jwt"), "{alg}");
        assert_eq!(header.alg, jsonwebtoken_alg(alg));
        let kid = header.kid.expect("kid");
        let jwk = jwks.find(&kid).expect("kid is in the JWKS");
        let key = jwt::DecodingKey::from_jwk(jwk).expect("decoding key from JWK");

        let mut validation = jwt::Validation::new(jsonwebtoken_alg(alg));
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let data = jwt::decode::<Value>(&token, &key, &validation).expect("verifies");
        let c = data.claims;
        assert_eq!(c["sub"], "basic-client", "{alg}");
        assert_eq!(c["client_id"], "basic-client");
        assert_eq!(c["scope"], "read");
        assert!(c["jti"].as_str().is_some_and(|j| j.len() >= 22));
    }
}

#[test]
fn rfc9068_jsonwebtoken_tokens_validate_in_jeton() {
    for alg in Algorithm::ALL {
        let token = sign(&header(alg), &good_claims(now()), alg);
        let claims = check(&validator_for(alg), &token, now(), "read")
            .unwrap_or_else(|e| panic!("{alg}: {e:?}"));
        assert_eq!(claims.subject, "client:svc");
        assert_eq!(claims.client_id, "svc");
        assert_eq!(claims.audience, [AUDIENCE]);
        assert_eq!(claims.jti.as_deref(), Some("j-1"));
        assert_eq!(claims.scope, Scope::parse("read write").unwrap());
    }
}

#[test]
fn rfc9068_jeton_round_trip_through_the_engine_for_every_alg() {
    for alg in Algorithm::ALL {
        let issuer = issuer(KeySet::new(key(alg)));
        let engine = engine(issuer.clone());
        let v = validator(issuer.jwk_set());
        let claims = check(&v, &issue_resource(&engine, now()), now(), "read").expect("valid");
        assert_eq!(claims.issuer, ISSUER);
        assert_eq!(claims.audience, [AUDIENCE]);
        assert_eq!(claims.issued_at, now());
    }
}

#[test]
fn rfc9068_4_tampered_payload_is_invalid_token() {
    for alg in Algorithm::ALL {
        let token = sign(&header(alg), &good_claims(now()), alg);
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut claims = good_claims(now());
        claims["scope"] = json!("read write admin");
        parts[1] = B64URL.encode(claims.to_string());
        let forged = parts.join(".");
        let err = check(&validator_for(alg), &forged, now(), "").unwrap_err();
        assert_eq!(err.failure(), BearerFailure::BadSignature, "{alg}");
        assert_eq!(err.status(), 401);
        assert_eq!(err.code(), Some(ErrorCode::InvalidToken));
    }
}

#[test]
fn rfc9068_4_expired_token_is_invalid_token_with_challenge() {
    let alg = Algorithm::Es256;
    let mut c = good_claims(now() - Duration::hours(1));
    c["exp"] = json!((now() - Duration::minutes(1)).unix_timestamp());
    let err = check(&validator_for(alg), &sign(&header(alg), &c, alg), now(), "").unwrap_err();
    assert_eq!(err.failure(), BearerFailure::Expired);
    assert_eq!(err.status(), 401);
    assert_eq!(
        err.www_authenticate().as_deref(),
        Some(
            r#"Bearer realm="jeton", error="invalid_token", error_description="the access token expired""#
        )
    );
}

#[test]
fn rfc7519_4_1_4_exp_leeway_is_small_and_configurable() {
    let alg = Algorithm::EdDsa;
    let mut c = good_claims(now() - Duration::hours(1));
    c["exp"] = json!((now() - Duration::seconds(10)).unix_timestamp());
    let token = sign(&header(alg), &c, alg);
    // Default leeway 30 s: 10 s past `exp` is still accepted.
    assert!(check(&validator_for(alg), &token, now(), "").is_ok());
    let strict = BearerValidator::builder(ISSUER, AUDIENCE, KeySet::new(key(alg)).jwks())
        .leeway(Duration::seconds(5))
        .build()
        .unwrap();
    assert_eq!(failure(&strict, &token, now()), BearerFailure::Expired);
    // Exactly at `exp` with no leeway: "MUST be before".
    let none = BearerValidator::builder(ISSUER, AUDIENCE, KeySet::new(key(alg)).jwks())
        .leeway(Duration::ZERO)
        .build()
        .unwrap();
    let exp = now() - Duration::seconds(10);
    assert_eq!(failure(&none, &token, exp), BearerFailure::Expired);
    assert!(check(&none, &token, exp - Duration::seconds(1), "").is_ok());
    assert!(
        BearerValidator::builder(ISSUER, AUDIENCE, Jwks::default())
            .leeway(Duration::minutes(10))
            .build()
            .is_err()
    );
}

#[test]
fn rfc7519_4_1_5_token_before_nbf_is_invalid() {
    let alg = Algorithm::Es256;
    let mut c = good_claims(now());
    c["nbf"] = json!((now() + Duration::minutes(2)).unix_timestamp());
    assert_eq!(
        failure(&validator_for(alg), &sign(&header(alg), &c, alg), now()),
        BearerFailure::NotYetValid
    );
    let mut c = good_claims(now());
    c["iat"] = json!((now() + Duration::minutes(2)).unix_timestamp());
    assert_eq!(
        failure(&validator_for(alg), &sign(&header(alg), &c, alg), now()),
        BearerFailure::IssuedInFuture
    );
}

#[test]
fn rfc9068_4_wrong_audience_is_invalid_token() {
    for aud in [
        json!("https://other.example.com/"),
        json!(["https://x/", "https://y/"]),
        json!([]),
    ] {
        let alg = Algorithm::Rs256;
        let mut c = good_claims(now());
        c["aud"] = aud;
        let err = check(&validator_for(alg), &sign(&header(alg), &c, alg), now(), "").unwrap_err();
        assert_eq!(err.failure(), BearerFailure::WrongAudience);
        assert_eq!(err.code(), Some(ErrorCode::InvalidToken));
    }
    // An array that contains ours is fine.
    let alg = Algorithm::Es256;
    let mut c = good_claims(now());
    c["aud"] = json!(["https://x/", AUDIENCE]);
    assert!(check(&validator_for(alg), &sign(&header(alg), &c, alg), now(), "").is_ok());
}

#[test]
fn rfc9068_4_issuer_must_match_exactly() {
    let alg = Algorithm::Es256;
    for iss in [
        "https://evil.example.com",
        "https://as.example.com/",
        "HTTPS://AS.EXAMPLE.COM",
    ] {
        let mut c = good_claims(now());
        c["iss"] = json!(iss);
        assert_eq!(
            failure(&validator_for(alg), &sign(&header(alg), &c, alg), now()),
            BearerFailure::WrongIssuer,
            "{iss}"
        );
    }
}

fn unsigned(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        B64URL.encode(header.to_string()),
        B64URL.encode(claims.to_string())
    )
}

#[test]
fn rfc8725_3_1_alg_none_is_invalid_token() {
    let v = validator_for(Algorithm::Es256);
    let kid = key(Algorithm::Es256).kid().to_owned();
    for alg in ["none", "None", "NONE"] {
        let h = json!({ "alg": alg, "typ": "at+jwt", "kid": kid });
        // Empty signature, as `none` prescribes, and a non-empty one.
        for sig in ["", "AA"] {
            let err = check(&v, &unsigned(&h, &good_claims(now()), sig), now(), "").unwrap_err();
            assert_eq!(err.code(), Some(ErrorCode::InvalidToken), "{alg} {sig:?}");
            assert_eq!(err.status(), 401);
        }
        let err = check(&v, &unsigned(&h, &good_claims(now()), "AA"), now(), "").unwrap_err();
        assert_eq!(err.failure(), BearerFailure::DisallowedAlgorithm);
    }
}

#[test]
fn rfc8725_3_1_hmac_signed_with_the_public_key_is_invalid_token() {
    // The classic confusion attack: HS256 keyed with the RSA public key (PEM, as a naive
    // verifier would load it), or with the raw public key bytes of the EC/Ed key.
    let rsa_pub = include_bytes!("data/rsa2048-test-key.pub.pem");
    let jwks = KeySet::new(key(Algorithm::Rs256)).jwks().to_value();
    let n = jwks["keys"][0]["n"].as_str().unwrap().to_owned();
    for (alg, secret) in [
        (Algorithm::Rs256, rsa_pub.to_vec()),
        (Algorithm::Rs256, n.into_bytes()),
        (
            Algorithm::Es256,
            key(Algorithm::Es256)
                .verifying_key()
                .to_jwk()
                .to_string()
                .into_bytes(),
        ),
    ] {
        for hs in [
            jwt::Algorithm::HS256,
            jwt::Algorithm::HS384,
            jwt::Algorithm::HS512,
        ] {
            let mut h = header(alg);
            h.alg = hs;
            let token = jwt::encode(
                &h,
                &good_claims(now()),
                &jwt::EncodingKey::from_secret(&secret),
            )
            .unwrap();
            let err = check(&validator_for(alg), &token, now(), "").unwrap_err();
            assert_eq!(err.failure(), BearerFailure::DisallowedAlgorithm);
            assert_eq!(err.code(), Some(ErrorCode::InvalidToken));
        }
    }
}

#[test]
fn rfc8725_3_1_key_is_pinned_to_its_alg() {
    // An EdDSA header pointing at the ES256 key's kid: the key never verifies another alg.
    let es = key(Algorithm::Es256);
    let set = KeySet::new(key(Algorithm::EdDsa))
        .with_verification_key(es.verifying_key().clone())
        .unwrap();
    let mut h = header(Algorithm::EdDsa);
    h.kid = Some(es.kid().to_owned());
    let token = sign(&h, &good_claims(now()), Algorithm::EdDsa);
    assert_eq!(
        failure(&validator(set.jwks()), &token, now()),
        BearerFailure::UnknownKey
    );
}

#[test]
fn rfc9068_2_1_wrong_typ_is_invalid_token() {
    let alg = Algorithm::Es256;
    for typ in [
        Some("JWT"),
        Some("jwt"),
        Some("at+JWT+x"),
        Some("application/jwt"),
        None,
    ] {
        let mut h = header(alg);
        h.typ = typ.map(str::to_owned);
        let err = check(
            &validator_for(alg),
            &sign(&h, &good_claims(now()), alg),
            now(),
            "",
        )
        .unwrap_err();
        assert_eq!(err.failure(), BearerFailure::WrongType, "{typ:?}");
        assert_eq!(err.code(), Some(ErrorCode::InvalidToken));
    }
    for typ in [
        "at+jwt",
        "application/at+jwt",
        "AT+JWT",
        "Application/At+Jwt",
    ] {
        let mut h = header(alg);
        h.typ = Some(typ.into());
        assert!(
            check(
                &validator_for(alg),
                &sign(&h, &good_claims(now()), alg),
                now(),
                ""
            )
            .is_ok(),
            "{typ}"
        );
    }
}

#[test]
fn rfc8725_3_10_header_keys_are_never_trusted() {
    let alg = Algorithm::Es256;
    let jwk: jwt::jwk::Jwk =
        serde_json::from_value(key(alg).verifying_key().to_jwk()).expect("jwk");
    let mut cases = Vec::new();
    let mut h = header(alg);
    h.jku = Some("https://evil.example/jwks".into());
    cases.push(h);
    let mut h = header(alg);
    h.x5u = Some("https://evil.example/cert".into());
    cases.push(h);
    let mut h = header(alg);
    h.jwk = Some(jwk);
    cases.push(h);
    let mut h = header(alg);
    h.x5c = Some(vec!["MIIB".into()]);
    cases.push(h);
    let mut h = header(alg);
    h.crit = Some(vec!["exp".into()]);
    cases.push(h);
    for h in cases {
        let token = sign(&h, &good_claims(now()), alg);
        assert_eq!(
            failure(&validator_for(alg), &token, now()),
            BearerFailure::ForbiddenHeader
        );
    }
}

#[test]
fn rfc9068_4_unknown_kid_or_foreign_key_is_invalid_token() {
    let alg = Algorithm::Es256;
    let mut h = header(alg);
    h.kid = Some("no-such-key".into());
    assert_eq!(
        failure(
            &validator_for(alg),
            &sign(&h, &good_claims(now()), alg),
            now()
        ),
        BearerFailure::UnknownKey
    );
    // Signed by another P-256 key that claims our kid.
    let other = SigningKey::generate(Algorithm::Es256).unwrap();
    let other_pem = other.to_pkcs8_pem();
    let token = jwt::encode(
        &header(alg),
        &good_claims(now()),
        &jwt::EncodingKey::from_ec_pem(other_pem.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        failure(&validator_for(alg), &token, now()),
        BearerFailure::BadSignature
    );
}

#[test]
fn rfc9068_2_2_required_claims_missing_is_invalid_token() {
    let alg = Algorithm::EdDsa;
    for claim in ["sub", "client_id", "iat", "jti", "exp", "iss", "aud"] {
        let mut c = good_claims(now());
        c.as_object_mut().unwrap().remove(claim);
        let err = check(&validator_for(alg), &sign(&header(alg), &c, alg), now(), "").unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::InvalidToken), "{claim}");
        assert_eq!(err.failure(), BearerFailure::MissingClaim, "{claim}");
    }
}

#[test]
fn rfc6750_3_1_insufficient_scope_is_403_with_scope() {
    let alg = Algorithm::Es256;
    let token = sign(&header(alg), &good_claims(now()), alg);
    let err = check(&validator_for(alg), &token, now(), "read admin").unwrap_err();
    assert_eq!(err.failure(), BearerFailure::InsufficientScope);
    assert_eq!(err.status(), 403);
    assert_eq!(err.code(), Some(ErrorCode::InsufficientScope));
    assert_eq!(
        err.www_authenticate().as_deref(),
        Some(
            r#"Bearer realm="jeton", error="insufficient_scope", error_description="the access token lacks a required scope", scope="read admin""#
        )
    );
    assert!(check(&validator_for(alg), &token, now(), "write read").is_ok());
}

fn headers<'a>(values: &[&'a [u8]]) -> HeaderValues<'a> {
    let mut h = HeaderValues::default();
    for v in values {
        h.push(v);
    }
    h
}

#[test]
fn rfc6750_3_1_missing_token_is_401_without_error_code() {
    let v = validator_for(Algorithm::Es256);
    for values in [&[][..], &[&b"Basic YTpi"[..]], &[&b"Bearer"[..]][..0]] {
        let err = jeton_testkit::block_on(v.validate(&headers(values), now(), &Scope::default()))
            .unwrap_err();
        assert_eq!(err.failure(), BearerFailure::MissingToken);
        assert_eq!(err.status(), 401);
        assert_eq!(err.code(), None);
        assert_eq!(
            err.www_authenticate().as_deref(),
            Some(r#"Bearer realm="jeton""#)
        );
    }
}

#[test]
fn rfc6750_3_1_two_authorization_headers_are_invalid_request() {
    let alg = Algorithm::Es256;
    let token = format!("Bearer {}", sign(&header(alg), &good_claims(now()), alg));
    let err = jeton_testkit::block_on(validator_for(alg).validate(
        &headers(&[token.as_bytes(), token.as_bytes()]),
        now(),
        &Scope::default(),
    ))
    .unwrap_err();
    assert_eq!(err.failure(), BearerFailure::MultipleAuthorization);
    assert_eq!(err.status(), 400);
    assert_eq!(
        err.www_authenticate().as_deref(),
        Some(
            r#"Bearer realm="jeton", error="invalid_request", error_description="more than one Authorization header""#
        )
    );
}

#[test]
fn rfc6750_2_1_malformed_bearer_credentials_are_invalid_request() {
    let v = validator_for(Algorithm::Es256);
    for bad in [
        &b"Bearer"[..],
        b"Bearer ",
        b"Bearer a b",
        b"Bearer a\"b",
        b"Bearer =abc",
        b"Bearer \xff",
    ] {
        let err = jeton_testkit::block_on(v.validate(&headers(&[bad]), now(), &Scope::default()))
            .unwrap_err();
        assert_eq!(
            err.failure(),
            BearerFailure::MalformedAuthorization,
            "{bad:?}"
        );
        assert_eq!(err.status(), 400);
        assert_eq!(err.code(), Some(ErrorCode::InvalidRequest));
    }
    // Syntactically a b64token but not a JWT: invalid_token, not invalid_request.
    let err =
        jeton_testkit::block_on(v.validate(&headers(&[b"Bearer abc=="]), now(), &Scope::default()))
            .unwrap_err();
    assert_eq!(err.failure(), BearerFailure::Malformed);
    assert_eq!(err.status(), 401);
}

#[test]
fn rfc9110_11_1_bearer_scheme_is_case_insensitive() {
    let alg = Algorithm::Es256;
    let token = sign(&header(alg), &good_claims(now()), alg);
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        for sep in [" ", "   "] {
            let value = format!("{scheme}{sep}{token}");
            assert!(
                jeton_testkit::block_on(validator_for(alg).validate(
                    &headers(&[value.as_bytes()]),
                    now(),
                    &Scope::default()
                ))
                .is_ok(),
                "{value:.20}"
            );
        }
    }
}

#[test]
fn token_longer_than_the_limit_is_invalid_token() {
    let v = BearerValidator::builder(ISSUER, AUDIENCE, Jwks::default())
        .max_token_bytes(256)
        .build()
        .unwrap();
    let long = "a".repeat(257);
    assert_eq!(failure(&v, &long, now()), BearerFailure::TooLong);
}

#[test]
fn rfc9700_2_6_rotation_old_tokens_valid_until_old_key_retired() {
    let old = key(Algorithm::Es256);
    let next = key(Algorithm::EdDsa);
    // Step 1: the next key is published before use.
    let issuer = issuer(
        KeySet::new(old)
            .with_verification_key(next.verifying_key().clone())
            .unwrap(),
    );
    let engine = engine(issuer.clone());
    let old_token = issue(&engine, now());
    assert!(issuer.jwk_set().get(next.kid()).is_some());
    // Step 2: rotate; new tokens use the new key, old tokens still validate.
    let rotated = || {
        KeySet::new(key(Algorithm::Es256))
            .with_verification_key(next.verifying_key().clone())
            .unwrap()
            .rotate(key(Algorithm::EdDsa))
            .unwrap()
    };
    issuer.replace_keys(rotated());
    let new_token = issue(&engine, now());
    let v = validator(issuer.jwk_set());
    assert!(check(&v, &old_token, now(), "read").is_ok());
    assert!(check(&v, &new_token, now(), "read").is_ok());
    let h = jwt::decode_header(&new_token).unwrap();
    assert_eq!(h.kid.as_deref(), Some(next.kid()));
    // Step 3: retire the old key; its tokens stop validating.
    let mut retired = rotated();
    assert!(retired.retire(key(Algorithm::Es256).kid()));
    issuer.replace_keys(retired);
    v.replace_keys(issuer.jwk_set());
    assert_eq!(failure(&v, &old_token, now()), BearerFailure::UnknownKey);
    assert!(check(&v, &new_token, now(), "read").is_ok());
}

#[test]
fn rfc9068_token_format_is_a_configuration_switch() {
    let fixture = jeton_testkit::Fixture::new();
    let rng = Arc::new(jeton_testkit::SeqRandom::new(9));
    for name in ["opaque", "jwt"] {
        let format: TokenFormat = name.parse().unwrap();
        let jwt_settings =
            jeton::JwtIssuer::builder(issuer_id(), KeySet::new(key(Algorithm::Es256)), rng.clone());
        let issuer = jeton::internal::build_issuer(
            format,
            fixture.tokens.clone(),
            rng.clone(),
            Some(jwt_settings),
        )
        .unwrap();
        let engine = jeton::Engine::builder(fixture.clients.clone(), issuer)
            .default_audience([jeton::Resource::new(AUDIENCE).unwrap()])
            .random(std::sync::Arc::new(jeton::SystemRandom::new()))
            .transport(jeton::Transport::Plaintext)
            .build()
            .unwrap();
        let token = issue_resource(&engine, now());
        let v = validator(KeySet::new(key(Algorithm::Es256)).jwks());
        let auth = format!("Bearer {token}");
        let h = headers(&[auth.as_bytes()]);
        let read = Scope::parse("read").unwrap();
        match format {
            TokenFormat::Jwt => {
                assert_eq!(token.split('.').count(), 3);
                assert!(jeton_testkit::block_on(v.validate(&h, now(), &read)).is_ok());
            }
            _ => {
                assert!(token.starts_with("jt_"));
                assert_eq!(
                    jeton_testkit::block_on(v.validate(&h, now(), &read))
                        .unwrap_err()
                        .failure(),
                    BearerFailure::Malformed
                );
                let store = Arc::new(StoreIntrospector::new(fixture.tokens.clone()));
                let v = BearerValidator::introspecting(ISSUER, AUDIENCE, store)
                    .build()
                    .unwrap();
                let claims = jeton_testkit::block_on(v.validate(&h, now(), &read))
                    .expect("opaque token introspected");
                assert_eq!(claims.client_id, "resource-client");
                assert_eq!(claims.audience, [AUDIENCE]);
                let late = now() + Duration::hours(2);
                let err = jeton_testkit::block_on(v.validate(&h, late, &read)).unwrap_err();
                assert_eq!(err.failure(), BearerFailure::Expired);
                let bogus = headers(&[b"Bearer jt_nope"]);
                let err = jeton_testkit::block_on(v.validate(&bogus, now(), &read)).unwrap_err();
                assert_eq!(err.failure(), BearerFailure::Inactive);
            }
        }
    }
    assert!(
        jeton::internal::build_issuer(TokenFormat::Jwt, fixture.tokens.clone(), rng, None).is_err()
    );
}

#[test]
fn rfc7517_openssl_pkcs8_keys_load_and_match_jsonwebtoken() {
    // The committed keys come from `openssl genpkey` (Ed25519 as PKCS#8 v1, without the public
    // key): jeton loads each and derives the same public key jsonwebtoken does.
    for alg in Algorithm::ALL {
        let k = key(alg);
        assert_eq!(k.algorithm(), alg);
        assert_eq!(k.kid(), k.verifying_key().thumbprint());
        let token = jeton::sign_jwt(&k, "at+jwt", &good_claims(now())).unwrap();
        assert!(check(&validator_for(alg), &token, now(), "").is_ok());
    }
}

#[test]
fn rfc7662_jwt_issuer_inspects_its_own_tokens_only() {
    use jeton::{TokenHandle, TokenIssuer};
    let issuer = issuer(KeySet::new(key(Algorithm::Es256)));
    let engine = engine(issuer.clone());
    let token = issue(&engine, now());
    let info = jeton_testkit::block_on(issuer.inspect(&token, now()))
        .unwrap()
        .expect("our token is found");
    assert_eq!(info.claims.client_id.as_str(), "basic-client");
    assert_eq!(info.claims.audience[0].as_str(), AUDIENCE);
    assert!(matches!(&info.handle, TokenHandle::Jti(j) if Some(j) == info.claims.jti.as_ref()));
    // Someone else's key, a tampered token, garbage: not found.
    let foreign = jeton::sign_jwt(
        &SigningKey::generate(Algorithm::Es256).unwrap(),
        "at+jwt",
        &good_claims(now()),
    )
    .unwrap();
    for t in [foreign.as_str(), &token[..token.len() - 2], "x", "a.b.c"] {
        assert!(
            jeton_testkit::block_on(issuer.inspect(t, now()))
                .unwrap()
                .is_none()
        );
    }
    // Without a revocation list, revoking fails (the engine reports it).
    assert!(jeton_testkit::block_on(issuer.revoke(&info, now())).is_err());
}

#[test]
fn rfc7009_revoked_jwt_is_no_longer_found_by_its_issuer() {
    use jeton::TokenIssuer;
    let list = Arc::new(Revoked::default());
    let issuer = Arc::new(
        jeton::JwtIssuer::builder(
            issuer_id(),
            KeySet::new(key(Algorithm::EdDsa)),
            Arc::new(jeton_testkit::SeqRandom::new(3)),
        )
        .revocation_list(list.clone())
        .build()
        .unwrap(),
    );
    let engine = engine(issuer.clone());
    let token = issue(&engine, now());
    let other = issue(&engine, now());
    let info = jeton_testkit::block_on(issuer.inspect(&token, now()))
        .unwrap()
        .unwrap();
    jeton_testkit::block_on(issuer.revoke(&info, now())).unwrap();
    assert!(
        jeton_testkit::block_on(issuer.inspect(&token, now()))
            .unwrap()
            .is_none()
    );
    assert!(
        jeton_testkit::block_on(issuer.inspect(&other, now()))
            .unwrap()
            .is_some()
    );
}

#[test]
fn rfc8414_engine_serves_the_jwt_issuer_jwks() {
    let issuer = issuer(KeySet::new(key(Algorithm::Rs256)));
    let engine = engine(issuer.clone());
    let doc = engine.jwks_document().expect("a JWT issuer publishes keys");
    let body: Value = serde_json::from_slice(doc.body()).unwrap();
    assert_eq!(body, issuer.jwk_set().to_value());
    assert_eq!(body["keys"][0]["kty"], "RSA");
    assert_eq!(body["keys"][0]["use"], "sig");
    assert_eq!(body["keys"][0]["alg"], "RS256");
    assert!(body["keys"][0].get("d").is_none());
    assert_eq!(Jwks::from_json(doc.body()).unwrap(), issuer.jwk_set());
}

/// `Grant::requested_scope` is the scope the client sent (granted exactly, or the request is
/// refused), and `None` when it sent none and got its default: what a custom-claims hook sees.
#[test]
fn rfc6749_3_3_hook_sees_the_requested_scope_only_when_one_was_sent() {
    let hooked = Arc::new(
        jeton::JwtIssuer::builder(issuer_id(), KeySet::new(key(Algorithm::Es256)), {
            Arc::new(jeton_testkit::SeqRandom::new(7))
        })
        .custom_claims(|_: &jeton::ClientRecord, g: &jeton::Grant| {
            let mut m = serde_json::Map::new();
            let asked = g.requested_scope().map(|s| s.to_string());
            m.insert("asked".into(), json!(asked));
            m.insert("granted".into(), json!(g.scope().to_string()));
            m
        })
        .build()
        .unwrap(),
    );
    let engine = engine(hooked);
    let claims = |body: &str| -> Value {
        let token = issue_at(&engine, jeton_testkit::POST, body, wall_clock());
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&B64URL.decode(payload).unwrap()).unwrap()
    };
    let asked = claims("grant_type=client_credentials&scope=write+read");
    assert_eq!(asked["asked"], "write read");
    assert_eq!(asked["granted"], "write read");
    let defaulted = claims("grant_type=client_credentials");
    assert_eq!(defaulted["asked"], Value::Null);
    assert_eq!(defaulted["granted"], "read");
}

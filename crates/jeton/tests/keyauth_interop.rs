//! private_key_jwt client assertions (RFC 7523, draft-ietf-oauth-rfc7523bis) and DPoP proofs
//! (RFC 9449) made with an independent implementation, the `jsonwebtoken` crate: accepted when
//! right, refused for every rule; and properties over fuzzed inputs (no panic, one error shape).

mod jwt_common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use jeton::internal::assertion::{
    AssertionFailure, AssertionPolicy, ClientAssertion, JWT_BEARER_ASSERTION_TYPE,
    VerifiedAssertion, peek_client_id, verify_client_assertion,
};
use jeton::time::OffsetDateTime;
use jeton::{
    Algorithm, ClientKeys, DpopCheck, DpopFailure, DpopProof, ErrorCode, HeaderValues, Jwks,
    access_token_hash, verify_dpop_proof,
};
use jsonwebtoken as jwt;
use jwt_common::{ISSUER, check, encoding_key, jsonwebtoken_alg, key, validator};
use proptest::prelude::*;
use serde_json::{Value, json};

const TOKEN_URL: &str = "https://as.example.com/token";
const CLIENT: &str = "svc";
const ALL: [Algorithm; 4] = [
    Algorithm::Es256,
    Algorithm::EdDsa,
    Algorithm::Rs256,
    Algorithm::Ps256,
];

fn now() -> OffsetDateTime {
    jeton_testkit::now()
}

/// The client's registration: its public key, pinned to `alg`.
fn client_keys(alg: Algorithm) -> ClientKeys {
    ClientKeys::new(alg, [key(alg).verifying_key().clone()]).expect("client keys")
}

fn kid(alg: Algorithm) -> String {
    key(alg).kid().to_owned()
}

fn assertion_claims() -> Value {
    let t = now().unix_timestamp();
    json!({ "iss": CLIENT, "sub": CLIENT, "aud": ISSUER, "iat": t, "exp": t + 60, "jti": "a-1" })
}

fn assertion_header(alg: Algorithm) -> jwt::Header {
    let mut h = jwt::Header::new(jsonwebtoken_alg(alg));
    h.kid = Some(kid(alg));
    h.typ = Some("client-authentication+jwt".into());
    h
}

fn sign(h: &jwt::Header, claims: &Value, alg: Algorithm) -> String {
    jwt::encode(h, claims, &encoding_key(alg)).expect("jsonwebtoken signs")
}

fn verify_assertion(
    token: &str,
    alg: Algorithm,
    legacy: bool,
) -> Result<VerifiedAssertion, AssertionFailure> {
    let a = ClientAssertion {
        assertion_type: JWT_BEARER_ASSERTION_TYPE,
        assertion: token,
        client_id: Some(CLIENT),
    };
    let mut policy = AssertionPolicy::new(ISSUER, TOKEN_URL);
    policy.accept_token_endpoint_audience = legacy;
    let client = peek_client_id(&a)?;
    verify_client_assertion(&a, &client, &client_keys(alg), &policy, now())
}

fn with(mut v: Value, name: &str, value: Value) -> Value {
    if value.is_null() {
        v.as_object_mut().expect("object").remove(name);
    } else {
        v[name] = value;
    }
    v
}

#[test]
fn rfc7523_jsonwebtoken_assertions_are_accepted_for_every_alg() {
    for alg in ALL {
        let t = sign(&assertion_header(alg), &assertion_claims(), alg);
        let ok = verify_assertion(&t, alg, false).unwrap_or_else(|e| panic!("{alg}: {e:?}"));
        assert_eq!(ok.client_id.as_str(), CLIENT);
        assert_eq!(ok.jti, "a-1");
        // The algorithm is pinned: the same key's assertion under the other RSA padding fails.
        if alg.is_rsa() {
            let other = if alg == Algorithm::Rs256 {
                Algorithm::Ps256
            } else {
                Algorithm::Rs256
            };
            let t = sign(&assertion_header(other), &assertion_claims(), other);
            assert_eq!(
                verify_assertion(&t, alg, false).unwrap_err(),
                AssertionFailure::DisallowedAlgorithm
            );
        }
    }
}

#[test]
fn rfc7523_3_aud_must_be_the_issuer_identifier() {
    let alg = Algorithm::Es256;
    let h = assertion_header(alg);
    let t = sign(&h, &with(assertion_claims(), "aud", json!(TOKEN_URL)), alg);
    assert_eq!(
        verify_assertion(&t, alg, false).unwrap_err(),
        AssertionFailure::WrongAudience
    );
    // rfc7523bis legacy setting: the token endpoint URL, alone, only when switched on.
    assert!(verify_assertion(&t, alg, true).is_ok());
    let two = sign(
        &h,
        &with(
            assertion_claims(),
            "aud",
            json!([ISSUER, "https://rs.example"]),
        ),
        alg,
    );
    assert_eq!(
        verify_assertion(&two, alg, true).unwrap_err(),
        AssertionFailure::WrongAudience
    );
    let one = sign(&h, &with(assertion_claims(), "aud", json!([ISSUER])), alg);
    assert!(verify_assertion(&one, alg, false).is_ok());
}

#[test]
fn rfc7523_3_every_refusal_is_refused() {
    let alg = Algorithm::EdDsa;
    let t0 = now().unix_timestamp();
    let h = assertion_header(alg);
    let claims = assertion_claims();
    let cases: Vec<(&str, jwt::Header, Value, AssertionFailure)> = vec![
        (
            "expired",
            h.clone(),
            with(
                with(claims.clone(), "exp", json!(t0 - 120)),
                "iat",
                json!(t0 - 180),
            ),
            AssertionFailure::Expired,
        ),
        (
            "too long-lived",
            h.clone(),
            with(claims.clone(), "exp", json!(t0 + 3600)),
            AssertionFailure::TooLongLived,
        ),
        (
            "future iat",
            h.clone(),
            with(claims.clone(), "iat", json!(t0 + 120)),
            AssertionFailure::IssuedInFuture,
        ),
        (
            "future nbf",
            h.clone(),
            with(claims.clone(), "nbf", json!(t0 + 120)),
            AssertionFailure::NotYetValid,
        ),
        (
            "missing jti",
            h.clone(),
            with(claims.clone(), "jti", Value::Null),
            AssertionFailure::MissingClaim,
        ),
        (
            "missing exp",
            h.clone(),
            with(claims.clone(), "exp", Value::Null),
            AssertionFailure::MissingClaim,
        ),
        (
            "iss != sub",
            h.clone(),
            with(claims.clone(), "iss", json!("other")),
            AssertionFailure::WrongClient,
        ),
        (
            "wrong typ",
            jwt::Header {
                typ: Some("at+jwt".into()),
                ..h.clone()
            },
            claims.clone(),
            AssertionFailure::WrongType,
        ),
        (
            "dpop typ",
            jwt::Header {
                typ: Some("dpop+jwt".into()),
                ..h.clone()
            },
            claims.clone(),
            AssertionFailure::WrongType,
        ),
        (
            "unknown kid",
            jwt::Header {
                kid: Some("nope".into()),
                ..h.clone()
            },
            claims.clone(),
            AssertionFailure::UnknownKey,
        ),
    ];
    for (name, h, c, want) in cases {
        assert_eq!(
            verify_assertion(&sign(&h, &c, alg), alg, false).unwrap_err(),
            want,
            "{name}"
        );
    }
}

#[test]
fn rfc7515_tampered_assertion_is_refused() {
    let alg = Algorithm::Es256;
    let t = sign(&assertion_header(alg), &assertion_claims(), alg);
    let (head, rest) = t.split_once('.').unwrap();
    let (_, sig) = rest.split_once('.').unwrap();
    let forged = B64URL.encode(
        with(
            assertion_claims(),
            "exp",
            json!(now().unix_timestamp() + 120),
        )
        .to_string(),
    );
    let tampered = format!("{head}.{forged}.{sig}");
    assert_eq!(
        verify_assertion(&tampered, alg, false).unwrap_err(),
        AssertionFailure::BadSignature
    );
}

#[test]
fn rfc8725_3_1_alg_none_and_hmac_with_the_public_key_are_refused() {
    let body = B64URL.encode(assertion_claims().to_string());
    let none = format!("{}.{body}.", B64URL.encode(r#"{"alg":"none"}"#));
    assert_eq!(
        verify_assertion(&none, Algorithm::Rs256, false).unwrap_err(),
        AssertionFailure::Malformed
    );
    let none_sig = format!("{}.{body}.AA", B64URL.encode(r#"{"alg":"none"}"#));
    assert_eq!(
        verify_assertion(&none_sig, Algorithm::Rs256, false).unwrap_err(),
        AssertionFailure::DisallowedAlgorithm
    );
    // CVE-2024-37568 style: HS256 keyed with the client's RSA public key.
    let public = include_bytes!("data/rsa2048-test-key.pub.pem");
    let mut h = jwt::Header::new(jwt::Algorithm::HS256);
    h.kid = Some(kid(Algorithm::Rs256));
    let t = jwt::encode(
        &h,
        &assertion_claims(),
        &jwt::EncodingKey::from_secret(public),
    )
    .unwrap();
    assert_eq!(
        verify_assertion(&t, Algorithm::Rs256, false).unwrap_err(),
        AssertionFailure::DisallowedAlgorithm
    );
}

// ---- DPoP ----

fn proof_claims() -> Value {
    json!({ "jti": "p-1", "htm": "POST", "htu": TOKEN_URL, "iat": now().unix_timestamp() })
}

/// The public JWK of `alg`'s test key, as `jsonwebtoken` puts it in a header.
fn public_jwk(alg: Algorithm) -> Value {
    let mut jwk = key(alg).verifying_key().to_jwk();
    let m = jwk.as_object_mut().unwrap();
    m.remove("alg");
    m.remove("kid");
    jwk
}

fn proof(alg: Algorithm, claims: &Value) -> String {
    let mut h = jwt::Header::new(jsonwebtoken_alg(alg));
    h.typ = Some("dpop+jwt".into());
    h.jwk = Some(serde_json::from_value(public_jwk(alg)).expect("jsonwebtoken reads the JWK"));
    sign(&h, claims, alg)
}

fn verify_proof(token: &str, check: &DpopCheck<'_>) -> Result<DpopProof, DpopFailure> {
    let values: HeaderValues<'_> = std::iter::once(token.as_bytes()).collect();
    verify_dpop_proof(&values, check, now())
}

#[test]
fn rfc9449_jsonwebtoken_proofs_are_accepted_for_every_alg() {
    for alg in ALL {
        let p = verify_proof(
            &proof(alg, &proof_claims()),
            &DpopCheck::new("POST", TOKEN_URL),
        )
        .unwrap_or_else(|e| panic!("{alg}: {e:?}"));
        assert_eq!(p.jkt, key(alg).verifying_key().thumbprint(), "{alg}");
    }
}

#[test]
fn rfc9449_4_3_every_refusal_is_refused() {
    let alg = Algorithm::Es256;
    let check = DpopCheck::new("POST", TOKEN_URL);
    assert_eq!(
        verify_proof(
            &proof(alg, &proof_claims()),
            &DpopCheck::new("PUT", TOKEN_URL)
        )
        .unwrap_err(),
        DpopFailure::WrongMethod
    );
    let other = with(proof_claims(), "htu", json!("https://as.example.com/other"));
    assert_eq!(
        verify_proof(&proof(alg, &other), &check).unwrap_err(),
        DpopFailure::WrongUrl
    );
    let query = with(proof_claims(), "htu", json!(format!("{TOKEN_URL}?a=b#c")));
    assert!(
        verify_proof(&proof(alg, &query), &check).is_ok(),
        "query and fragment ignored"
    );
    // A private key in the header: made with jeton's signer, as jsonwebtoken cannot write one.
    let k = key(alg);
    let mut jwk = public_jwk(alg);
    jwk["d"] = json!(B64URL.encode([1u8; 32]));
    let header = json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": jwk });
    let private = jeton::internal::sign_compact(
        &k,
        header.to_string().as_bytes(),
        proof_claims().to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(
        verify_proof(&private, &check).unwrap_err(),
        DpopFailure::PrivateKey
    );
}

#[test]
fn rfc9449_4_3_12_ath_and_jkt_bind_the_token_at_the_resource_server() {
    let alg = Algorithm::EdDsa;
    let jkt = key(alg).verifying_key().thumbprint();
    let rs = "https://rs.example.com/invoices";
    let base = with(with(proof_claims(), "htm", json!("GET")), "htu", json!(rs));
    let good = with(base.clone(), "ath", json!(access_token_hash("the-token")));
    let bound = DpopCheck {
        access_token: Some(("the-token", &jkt)),
        ..DpopCheck::new("GET", rs)
    };
    assert!(verify_proof(&proof(alg, &good), &bound).is_ok());
    assert_eq!(
        verify_proof(&proof(alg, &base), &bound).unwrap_err(),
        DpopFailure::MissingClaim
    );
    let wrong = with(base, "ath", json!(access_token_hash("another")));
    assert_eq!(
        verify_proof(&proof(alg, &wrong), &bound).unwrap_err(),
        DpopFailure::WrongTokenHash
    );
    let other_key = key(Algorithm::Es256).verifying_key().thumbprint();
    let mismatch = DpopCheck {
        access_token: Some(("the-token", &other_key)),
        ..bound
    };
    assert_eq!(
        verify_proof(&proof(alg, &good), &mismatch).unwrap_err(),
        DpopFailure::WrongKey
    );
    assert_eq!(
        DpopFailure::WrongKey.www_authenticate(&[alg]),
        r#"DPoP error="invalid_dpop_proof", algs="EdDSA""#
    );
}

#[test]
fn rfc9449_6_1_cnf_jkt_is_read_from_jwt_access_tokens() {
    let alg = Algorithm::Es256;
    let jkt = key(Algorithm::EdDsa).verifying_key().thumbprint();
    let t = now().unix_timestamp();
    let claims = json!({
        "iss": ISSUER, "sub": "svc", "client_id": "svc", "aud": jwt_common::AUDIENCE,
        "iat": t, "exp": t + 300, "jti": "j", "cnf": { "jkt": jkt },
    });
    let mut h = jwt::Header::new(jwt::Algorithm::ES256);
    h.typ = Some("at+jwt".into());
    h.kid = Some(kid(alg));
    let token = sign(&h, &claims, alg);
    let v = validator(Jwks::new([key(alg).verifying_key().clone()]).unwrap());
    // Read offline (the claims a DPoP-scheme check would bind to)...
    let got = v
        .validate_jwt(&token, now(), &jeton::Scope::default())
        .expect("valid");
    assert_eq!(got.confirmation, Some(jeton::Confirmation::jkt(jkt)));
    assert!(!got.extra.contains_key("cnf"));
    // ...and refused when presented as a bearer token (RFC 9449 §7.2).
    let refused = check(&v, &token, now(), "").unwrap_err();
    assert_eq!(refused.failure(), jeton::BearerFailure::DpopBound);
}

// ---- properties ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any string as an assertion: no panic, and every refusal is `invalid_client`.
    #[test]
    fn assertion_parser_is_total_with_one_error_shape(s in ".{0,400}", id in proptest::option::of("[a-z]{1,8}")) {
        let a = ClientAssertion { assertion_type: JWT_BEARER_ASSERTION_TYPE, assertion: &s, client_id: id.as_deref() };
        if let Err(e) = peek_client_id(&a) {
            prop_assert_eq!(e.error_code(), ErrorCode::InvalidClient);
        }
        let client = jeton::ClientId::new(CLIENT).unwrap();
        let r = verify_client_assertion(&a, &client, &client_keys(Algorithm::Es256), &AssertionPolicy::new(ISSUER, TOKEN_URL), now());
        prop_assert!(r.is_err());
    }

    /// A good assertion with one byte changed is refused (or, if the change is invisible
    /// after decoding, accepted unchanged).
    #[test]
    fn mutated_assertions_are_refused(i in 0usize..2000, b in any::<u8>()) {
        let alg = Algorithm::Es256;
        let good = sign(&assertion_header(alg), &assertion_claims(), alg);
        let mut bytes = good.clone().into_bytes();
        let n = bytes.len();
        bytes[i % n] = b;
        if let Ok(s) = String::from_utf8(bytes) && s != good {
            prop_assert!(verify_assertion(&s, alg, false).is_err());
        }
    }

    /// Any bytes as a DPoP header: no panic, and the error is `invalid_dpop_proof` (or
    /// `use_dpop_nonce`).
    #[test]
    fn dpop_parser_is_total_with_one_error_shape(raw in proptest::collection::vec(any::<u8>(), 0..600)) {
        let values: HeaderValues<'_> = std::iter::once(&raw[..]).collect();
        let e = verify_dpop_proof(&values, &DpopCheck::new("POST", TOKEN_URL), now()).unwrap_err();
        prop_assert!(matches!(e.error_code(), ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce));
    }

    /// A good proof with one byte changed is refused unless unchanged.
    #[test]
    fn mutated_proofs_are_refused(i in 0usize..2000, b in any::<u8>()) {
        let good = proof(Algorithm::EdDsa, &proof_claims());
        let mut bytes = good.clone().into_bytes();
        let n = bytes.len();
        bytes[i % n] = b;
        if bytes != good.as_bytes() {
            let values: HeaderValues<'_> = std::iter::once(&bytes[..]).collect();
            prop_assert!(verify_dpop_proof(&values, &DpopCheck::new("POST", TOKEN_URL), now()).is_err());
        }
    }
}

//! The RFC 7523 / rfc7523bis rules, one test each, with assertions jeton signs itself (the
//! interop tests in `tests/keyauth_interop.rs` use an independent JOSE implementation).

use super::*;
use crate::tokens::algorithm::Algorithm;
use crate::tokens::jws::sign_compact;
use crate::tokens::keys::SigningKey;
use serde_json::json;

const ISS: &str = "https://as.example.com";
const TOKEN_URL: &str = "https://as.example.com/token";

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap()
}

fn claims() -> Value {
    let t = now().unix_timestamp();
    json!({ "iss": "svc", "sub": "svc", "aud": ISS, "exp": t + 60, "iat": t, "jti": "j1" })
}

struct Setup {
    key: SigningKey,
    keys: ClientKeys,
}

fn setup() -> Setup {
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let keys = ClientKeys::new(Algorithm::Es256, [key.verifying_key().clone()]).unwrap();
    Setup { key, keys }
}

fn sign(key: &SigningKey, header: &Value, claims: &Value) -> String {
    sign_compact(
        key,
        header.to_string().as_bytes(),
        claims.to_string().as_bytes(),
    )
    .unwrap()
}

fn header(s: &Setup) -> Value {
    json!({ "alg": "ES256", "kid": s.key.kid(), "typ": "JWT" })
}

fn verify_with(
    s: &Setup,
    token: &str,
    policy: &AssertionPolicy<'_>,
) -> Result<VerifiedAssertion, AssertionFailure> {
    let a = ClientAssertion {
        assertion_type: JWT_BEARER_ASSERTION_TYPE,
        assertion: token,
        client_id: None,
    };
    let client = peek_client_id(&a)?;
    verify_client_assertion(&a, &client, &s.keys, policy, now())
}

fn verify(s: &Setup, token: &str) -> Result<VerifiedAssertion, AssertionFailure> {
    verify_with(s, token, &AssertionPolicy::new(ISS, TOKEN_URL))
}

fn with(mut v: Value, name: &str, value: Value) -> Value {
    if value.is_null() {
        v.as_object_mut().unwrap().remove(name);
    } else {
        v[name] = value;
    }
    v
}

#[test]
fn rfc7523_3_a_good_assertion_gives_client_jti_and_exp() {
    let s = setup();
    let ok = verify(&s, &sign(&s.key, &header(&s), &claims())).unwrap();
    assert_eq!(ok.client_id.as_str(), "svc");
    assert_eq!(ok.jti, "j1");
    assert_eq!(ok.expires_at, now() + Duration::seconds(60));
    assert_eq!(
        ok.replay_until(Duration::seconds(30)),
        now() + Duration::seconds(90)
    );
}

#[test]
fn rfc7523_2_2_assertion_type_must_be_exactly_jwt_bearer() {
    let s = setup();
    let token = sign(&s.key, &header(&s), &claims());
    for t in [
        "",
        "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
        "URN:IETF:PARAMS:OAUTH:CLIENT-ASSERTION-TYPE:JWT-BEARER",
    ] {
        let a = ClientAssertion {
            assertion_type: t,
            assertion: &token,
            client_id: None,
        };
        assert_eq!(
            peek_client_id(&a),
            Err(AssertionFailure::WrongAssertionType)
        );
    }
}

#[test]
fn rfc7523_3_aud_must_be_the_issuer_identifier() {
    let s = setup();
    let good = [json!(ISS), json!([ISS])];
    for aud in good {
        assert!(verify(&s, &sign(&s.key, &header(&s), &with(claims(), "aud", aud))).is_ok());
    }
    let wrong = [
        (json!(TOKEN_URL), AssertionFailure::WrongAudience),
        (
            json!([ISS, "https://other.example"]),
            AssertionFailure::WrongAudience,
        ),
        (json!([]), AssertionFailure::WrongAudience),
        (
            json!("https://as.example.com/"),
            AssertionFailure::WrongAudience,
        ),
        (json!(1), AssertionFailure::Malformed),
        (Value::Null, AssertionFailure::MissingClaim),
    ];
    for (aud, why) in wrong {
        let t = sign(&s.key, &header(&s), &with(claims(), "aud", aud.clone()));
        assert_eq!(verify(&s, &t), Err(why), "{aud}");
    }
}

#[test]
fn rfc7523bis_token_endpoint_audience_only_behind_the_legacy_flag() {
    let s = setup();
    let t = sign(
        &s.key,
        &header(&s),
        &with(claims(), "aud", json!(TOKEN_URL)),
    );
    let mut legacy = AssertionPolicy::new(ISS, TOKEN_URL);
    legacy.accept_token_endpoint_audience = true;
    assert!(verify_with(&s, &t, &legacy).is_ok());
    let two = sign(
        &s.key,
        &header(&s),
        &with(claims(), "aud", json!([ISS, TOKEN_URL])),
    );
    assert_eq!(
        verify_with(&s, &two, &legacy),
        Err(AssertionFailure::WrongAudience)
    );
}

#[test]
fn rfc7523_3_iss_and_sub_must_both_be_the_client_id() {
    let s = setup();
    let t = sign(&s.key, &header(&s), &with(claims(), "iss", json!("other")));
    assert_eq!(verify(&s, &t), Err(AssertionFailure::WrongClient));
    let t = sign(&s.key, &header(&s), &with(claims(), "sub", Value::Null));
    assert_eq!(verify(&s, &t), Err(AssertionFailure::MissingClaim));
    // RFC 7521 §4.2: a `client_id` parameter must name the same client.
    let t = sign(&s.key, &header(&s), &claims());
    let a = ClientAssertion {
        assertion_type: JWT_BEARER_ASSERTION_TYPE,
        assertion: &t,
        client_id: Some("other"),
    };
    assert_eq!(peek_client_id(&a), Err(AssertionFailure::WrongClient));
    let a = ClientAssertion {
        client_id: Some("svc"),
        ..a
    };
    assert!(peek_client_id(&a).is_ok());
    // The record loaded must be the client claimed.
    let other = ClientId::new("other").unwrap();
    let policy = AssertionPolicy::new(ISS, TOKEN_URL);
    assert_eq!(
        verify_client_assertion(&a, &other, &s.keys, &policy, now()),
        Err(AssertionFailure::WrongClient)
    );
}

#[test]
fn rfc7523_3_exp_is_required_and_checked_with_leeway() {
    let s = setup();
    let t0 = now().unix_timestamp();
    let cases = [
        (
            with(claims(), "exp", Value::Null),
            Err(AssertionFailure::MissingClaim),
        ),
        (
            with(with(claims(), "exp", json!(t0 - 31)), "iat", json!(t0 - 60)),
            Err(AssertionFailure::Expired),
        ),
        (
            with(with(claims(), "exp", json!(t0 - 29)), "iat", json!(t0 - 60)),
            Ok(()),
        ),
        (
            with(claims(), "exp", json!("soon")),
            Err(AssertionFailure::Malformed),
        ),
    ];
    for (c, want) in cases {
        assert_eq!(
            verify(&s, &sign(&s.key, &header(&s), &c)).map(|_| ()),
            want,
            "{c}"
        );
    }
}

#[test]
fn rfc_checklist_34_assertion_lifetime_is_capped() {
    let s = setup();
    let t0 = now().unix_timestamp();
    let long = with(claims(), "exp", json!(t0 + 3600));
    assert_eq!(
        verify(&s, &sign(&s.key, &header(&s), &long)),
        Err(AssertionFailure::TooLongLived)
    );
    // exp - iat counts too, even when exp - now is short.
    let old = with(
        with(claims(), "iat", json!(t0 - 3600)),
        "exp",
        json!(t0 + 10),
    );
    assert_eq!(
        verify(&s, &sign(&s.key, &header(&s), &old)),
        Err(AssertionFailure::TooLongLived)
    );
}

#[test]
fn rfc7523_3_nbf_and_iat_in_the_future_are_refused() {
    let s = setup();
    let t0 = now().unix_timestamp();
    let nbf = with(claims(), "nbf", json!(t0 + 45));
    assert_eq!(
        verify(&s, &sign(&s.key, &header(&s), &nbf)),
        Err(AssertionFailure::NotYetValid)
    );
    let iat = with(claims(), "iat", json!(t0 + 45));
    assert_eq!(
        verify(&s, &sign(&s.key, &header(&s), &iat)),
        Err(AssertionFailure::IssuedInFuture)
    );
    let skew = with(claims(), "iat", json!(t0 + 10));
    assert!(verify(&s, &sign(&s.key, &header(&s), &skew)).is_ok());
}

#[test]
fn rfc7523bis_typ_when_present_is_client_authentication_jwt_or_jwt() {
    let s = setup();
    for typ in ["client-authentication+jwt", "JWT", "jwt"] {
        let h = with(header(&s), "typ", json!(typ));
        assert!(verify(&s, &sign(&s.key, &h, &claims())).is_ok(), "{typ}");
    }
    assert!(
        verify(
            &s,
            &sign(&s.key, &with(header(&s), "typ", Value::Null), &claims())
        )
        .is_ok()
    );
    for typ in [json!("at+jwt"), json!("dpop+jwt"), json!(1)] {
        let h = with(header(&s), "typ", typ);
        assert_eq!(
            verify(&s, &sign(&s.key, &h, &claims())),
            Err(AssertionFailure::WrongType)
        );
    }
}

#[test]
fn rfc_checklist_35_jti_is_required() {
    let s = setup();
    let t = sign(&s.key, &header(&s), &with(claims(), "jti", Value::Null));
    assert_eq!(verify(&s, &t), Err(AssertionFailure::MissingClaim));
    for bad in [json!(""), json!(7), json!("x".repeat(257))] {
        let t = sign(&s.key, &header(&s), &with(claims(), "jti", bad));
        assert_eq!(verify(&s, &t), Err(AssertionFailure::Malformed));
    }
}

#[test]
fn rfc8725_3_1_alg_is_pinned_per_client() {
    let s = setup();
    for alg in ["none", "HS256", "EdDSA", "RS256", "es256"] {
        let h = with(header(&s), "alg", json!(alg));
        assert_eq!(
            verify(&s, &sign(&s.key, &h, &claims())),
            Err(AssertionFailure::DisallowedAlgorithm)
        );
    }
}

#[test]
fn rfc8725_3_10_keys_come_only_from_the_registration() {
    let s = setup();
    for member in ["jwk", "jku", "x5u", "x5c", "crit"] {
        let h = with(header(&s), member, json!("x"));
        assert_eq!(
            verify(&s, &sign(&s.key, &h, &claims())),
            Err(AssertionFailure::ForbiddenHeader)
        );
    }
    let h = with(header(&s), "kid", json!("unknown"));
    assert_eq!(
        verify(&s, &sign(&s.key, &h, &claims())),
        Err(AssertionFailure::UnknownKey)
    );
    // Another key of the right algorithm, not registered.
    let stranger = SigningKey::generate(Algorithm::Es256).unwrap();
    let h = with(header(&s), "kid", Value::Null);
    assert_eq!(
        verify(&s, &sign(&stranger, &h, &claims())),
        Err(AssertionFailure::BadSignature)
    );
}

#[test]
fn rfc7515_7_1_assertion_is_one_bounded_compact_jws() {
    let s = setup();
    let good = sign(&s.key, &header(&s), &claims());
    let two = format!("{good} {good}");
    let big = "a".repeat(MAX_ASSERTION_BYTES + 1);
    for (t, why) in [
        (two.as_str(), AssertionFailure::Malformed),
        ("a.b", AssertionFailure::Malformed),
        (big.as_str(), AssertionFailure::TooLarge),
    ] {
        assert_eq!(verify(&s, t), Err(why));
    }
    let mut tampered = good.clone().into_bytes();
    let i = good.find('.').unwrap() + 3;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    assert!(verify(&s, std::str::from_utf8(&tampered).unwrap()).is_err());
}

#[test]
fn every_failure_is_invalid_client() {
    for f in [
        AssertionFailure::WrongAudience,
        AssertionFailure::BadSignature,
        AssertionFailure::Expired,
    ] {
        assert_eq!(f.error_code(), crate::ErrorCode::InvalidClient);
        assert!(!f.as_str().is_empty());
    }
}

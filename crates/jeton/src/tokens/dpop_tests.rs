//! The RFC 9449 §4.3 checks, one test each, with proofs jeton signs itself (the interop tests
//! in `tests/keyauth_interop.rs` use an independent JOSE implementation).

use super::*;
use crate::tokens::dpop_nonce::HmacDpopNonces;
use crate::tokens::jws::sign_compact;
use crate::tokens::keys::SigningKey;
use serde_json::json;

const URL: &str = "https://as.example.com/token";

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap()
}

fn proof(key: &SigningKey, header: Value, claims: Value) -> String {
    sign_compact(
        key,
        header.to_string().as_bytes(),
        claims.to_string().as_bytes(),
    )
    .unwrap()
}

fn header(key: &SigningKey) -> Value {
    let mut jwk = key.verifying_key().to_jwk();
    jwk.as_object_mut().unwrap().remove("kid");
    json!({ "typ": "dpop+jwt", "alg": key.algorithm().as_str(), "jwk": jwk })
}

fn claims() -> Value {
    json!({ "jti": "p1", "htm": "POST", "htu": URL, "iat": now().unix_timestamp() })
}

fn run(token: &str, check: &DpopCheck<'_>) -> Result<DpopProof, DpopFailure> {
    let values: HeaderValues<'_> = std::iter::once(token.as_bytes()).collect();
    verify_dpop_proof(&values, check, now())
}

fn set(mut v: Value, k: &str, x: Value) -> Value {
    if x.is_null() {
        v.as_object_mut().unwrap().remove(k);
    } else {
        v[k] = x;
    }
    v
}

#[test]
fn rfc9449_4_3_a_good_proof_gives_the_jwk_thumbprint() {
    for alg in [Algorithm::Es256, Algorithm::EdDsa] {
        let k = SigningKey::generate(alg).unwrap();
        let p = run(
            &proof(&k, header(&k), claims()),
            &DpopCheck::new("POST", URL),
        )
        .unwrap();
        assert_eq!(p.jkt, k.verifying_key().thumbprint());
        assert_eq!(p.jti, "p1");
        assert_eq!(
            p.replay_key(),
            ReplayKey::new(ReplayKey::DPOP_PROOF, &p.jkt, "p1")
        );
        assert_eq!(
            p.replay_until(Duration::seconds(60)),
            now() + Duration::seconds(61)
        );
    }
}

#[test]
fn rfc9449_4_3_1_exactly_one_dpop_header() {
    let k = SigningKey::generate(Algorithm::Es256).unwrap();
    let t = proof(&k, header(&k), claims());
    let check = DpopCheck::new("POST", URL);
    assert_eq!(
        verify_dpop_proof(&HeaderValues::default(), &check, now()),
        Err(DpopFailure::Missing)
    );
    let two: HeaderValues<'_> = [t.as_bytes(), t.as_bytes()].into_iter().collect();
    assert_eq!(
        verify_dpop_proof(&two, &check, now()),
        Err(DpopFailure::Multiple)
    );
    assert_eq!(
        run(&"a".repeat(MAX_DPOP_PROOF_BYTES + 1), &check),
        Err(DpopFailure::TooLarge)
    );
    assert_eq!(run("a.b", &check), Err(DpopFailure::Malformed));
}

#[test]
fn rfc9449_4_3_4_typ_must_be_dpop_jwt() {
    let k = SigningKey::generate(Algorithm::Es256).unwrap();
    for typ in [json!("JWT"), json!("at+jwt"), Value::Null] {
        let t = proof(&k, set(header(&k), "typ", typ), claims());
        assert_eq!(
            run(&t, &DpopCheck::new("POST", URL)),
            Err(DpopFailure::WrongType)
        );
    }
}

#[test]
fn rfc9449_4_3_5_alg_is_asymmetric_and_allowed() {
    let k = SigningKey::generate(Algorithm::Es256).unwrap();
    for alg in ["none", "HS256", "EdDSA"] {
        let t = proof(&k, set(header(&k), "alg", json!(alg)), claims());
        let want = if alg == "EdDSA" {
            DpopFailure::BadKey
        } else {
            DpopFailure::DisallowedAlgorithm
        };
        assert_eq!(run(&t, &DpopCheck::new("POST", URL)), Err(want), "{alg}");
    }
    let only_ed = DpopCheck {
        algorithms: &[Algorithm::EdDsa],
        ..DpopCheck::new("POST", URL)
    };
    assert_eq!(
        run(&proof(&k, header(&k), claims()), &only_ed),
        Err(DpopFailure::DisallowedAlgorithm)
    );
}

#[test]
fn rfc9449_4_3_7_jwk_must_be_public() {
    let k = SigningKey::generate(Algorithm::Es256).unwrap();
    let mut h = header(&k);
    h["jwk"]["d"] = json!("AAAA");
    assert_eq!(
        run(&proof(&k, h, claims()), &DpopCheck::new("POST", URL)),
        Err(DpopFailure::PrivateKey)
    );
    let t = proof(&k, set(header(&k), "jwk", Value::Null), claims());
    assert_eq!(
        run(&t, &DpopCheck::new("POST", URL)),
        Err(DpopFailure::BadKey)
    );
    for member in ["jku", "x5u", "x5c", "crit"] {
        let t = proof(&k, set(header(&k), member, json!("x")), claims());
        assert_eq!(
            run(&t, &DpopCheck::new("POST", URL)),
            Err(DpopFailure::ForbiddenHeader)
        );
    }
}

#[test]
fn rfc9449_4_3_6_signature_verifies_with_the_header_jwk() {
    let k = SigningKey::generate(Algorithm::Es256).unwrap();
    let other = SigningKey::generate(Algorithm::Es256).unwrap();
    let t = proof(&other, header(&k), claims());
    assert_eq!(
        run(&t, &DpopCheck::new("POST", URL)),
        Err(DpopFailure::BadSignature)
    );
}

#[test]
fn rfc9449_4_3_3_required_claims() {
    let k = SigningKey::generate(Algorithm::EdDsa).unwrap();
    for c in ["jti", "htm", "htu", "iat"] {
        let t = proof(&k, header(&k), set(claims(), c, Value::Null));
        assert_eq!(
            run(&t, &DpopCheck::new("POST", URL)),
            Err(DpopFailure::MissingClaim),
            "{c}"
        );
    }
}

#[test]
fn rfc9449_4_3_8_htm_matches_the_method() {
    let k = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let t = proof(&k, header(&k), claims());
    assert_eq!(
        run(&t, &DpopCheck::new("GET", URL)),
        Err(DpopFailure::WrongMethod)
    );
    let lower = proof(&k, header(&k), set(claims(), "htm", json!("post")));
    assert_eq!(
        run(&lower, &DpopCheck::new("POST", URL)),
        Err(DpopFailure::WrongMethod)
    );
}

#[test]
fn rfc9449_4_3_9_htu_ignores_query_and_fragment() {
    let k = SigningKey::generate(Algorithm::EdDsa).unwrap();
    for htu in [
        "https://as.example.com/token?x=1",
        "https://AS.example.com:443/token#f",
        "HTTPS://as.example.com/token",
    ] {
        let t = proof(&k, header(&k), set(claims(), "htu", json!(htu)));
        assert!(run(&t, &DpopCheck::new("POST", URL)).is_ok(), "{htu}");
    }
    for htu in [
        "https://as.example.com/token/",
        "https://as.example.com:8443/token",
        "http://as.example.com/token",
        "https://evil.example/token",
        "https://u@as.example.com/token",
        "/token",
    ] {
        let t = proof(&k, header(&k), set(claims(), "htu", json!(htu)));
        assert_eq!(
            run(&t, &DpopCheck::new("POST", URL)),
            Err(DpopFailure::WrongUrl),
            "{htu}"
        );
    }
    assert_eq!(
        htu_normal("https://[::1]:443/x").as_deref(),
        Some("https://[::1]/x")
    );
    assert_eq!(htu_normal("http://h:80").as_deref(), Some("http://h/"));
    assert_eq!(htu_normal("http://h:x/"), None);
}

#[test]
fn rfc9449_4_3_11_iat_within_the_window() {
    let k = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let t0 = now().unix_timestamp();
    for (iat, ok) in [
        (t0 - 60, true),
        (t0 + 60, true),
        (t0 - 61, false),
        (t0 + 61, false),
    ] {
        let t = proof(&k, header(&k), set(claims(), "iat", json!(iat)));
        let got = run(&t, &DpopCheck::new("POST", URL));
        assert_eq!(got.is_ok(), ok, "{iat}");
        if !ok {
            assert_eq!(got, Err(DpopFailure::Stale));
        }
    }
}

#[test]
fn rfc9449_8_server_nonce_is_required_when_configured() {
    let k = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let nonces = HmacDpopNonces::new(&[9; 32], Duration::minutes(5));
    let check = DpopCheck {
        nonces: Some(&nonces),
        ..DpopCheck::new("POST", URL)
    };
    let none = proof(&k, header(&k), claims());
    assert_eq!(run(&none, &check), Err(DpopFailure::UseNonce));
    assert_eq!(DpopFailure::UseNonce.error_code(), ErrorCode::UseDpopNonce);
    let wrong = proof(&k, header(&k), set(claims(), "nonce", json!("stale")));
    assert_eq!(run(&wrong, &check), Err(DpopFailure::UseNonce));
    let good = proof(
        &k,
        header(&k),
        set(claims(), "nonce", json!(nonces.current(now()))),
    );
    assert!(run(&good, &check).is_ok());
}

#[test]
fn rfc9449_4_3_12_ath_and_key_binding_at_the_resource_server() {
    let k = SigningKey::generate(Algorithm::Es256).unwrap();
    let jkt = k.verifying_key().thumbprint();
    let with_ath = set(claims(), "ath", json!(access_token_hash("tok")));
    let check = DpopCheck {
        access_token: Some(("tok", &jkt)),
        ..DpopCheck::new("POST", URL)
    };
    assert!(run(&proof(&k, header(&k), with_ath.clone()), &check).is_ok());
    assert_eq!(
        run(&proof(&k, header(&k), claims()), &check),
        Err(DpopFailure::MissingClaim)
    );
    let other_token = DpopCheck {
        access_token: Some(("tok2", &jkt)),
        ..check
    };
    assert_eq!(
        run(&proof(&k, header(&k), with_ath.clone()), &other_token),
        Err(DpopFailure::WrongTokenHash)
    );
    let other_key = DpopCheck {
        access_token: Some(("tok", "not-the-jkt")),
        ..check
    };
    assert_eq!(
        run(&proof(&k, header(&k), with_ath), &other_key),
        Err(DpopFailure::WrongKey)
    );
    // RFC 9449 §4.2 example: ath of the example token.
    assert_eq!(
        access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    );
}

#[test]
fn rfc9449_5_every_other_failure_is_invalid_dpop_proof() {
    for f in [
        DpopFailure::Missing,
        DpopFailure::BadSignature,
        DpopFailure::WrongKey,
    ] {
        assert_eq!(f.error_code(), ErrorCode::InvalidDpopProof);
        assert!(!f.as_str().is_empty());
    }
}

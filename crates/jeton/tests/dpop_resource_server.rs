//! DPoP at the resource server (RFC 9449 §7) through the engine's own validator, with proofs
//! made by an independent implementation (the `jsonwebtoken` crate): a DPoP-bound token with a
//! fresh proof for the request is accepted; a missing, replayed or foreign proof, a wrong
//! `ath`, a key other than `cnf.jkt`, another method or URL are `401 invalid_dpop_proof` with
//! the `DPoP` challenge; a bound token presented as `Bearer` and an unbound one presented as
//! `DPoP` are `invalid_token`.

mod jwt_common;

use jeton::{
    AccessTokenClaims, Algorithm, BearerError, BearerFailure, DpopFailure, Engine, ErrorCode,
    HeaderValues, RawRequest, RequestParts, Scope, access_token_hash,
};
use jeton_testkit::{BASIC, block_on, now};
use jsonwebtoken as jwt;
use jwt_common::{dpop_jwt_engine, encoding_key, key, proof_with, public_jwk_of};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};

const API_URL: &str = "https://api.example.com/orders";
const CC: &str = "grant_type=client_credentials&scope=read";
const ALGS: &str = r#"algs="ES256 EdDSA RS256 PS256""#;

/// A token from `engine`'s token endpoint: DPoP-bound to the ES256 test key when `bound`.
fn issue(engine: &Engine, bound: bool) -> String {
    let auth = jeton::encode_basic(BASIC.id, BASIC.secret);
    static N: AtomicUsize = AtomicUsize::new(0);
    let jti = format!("token-request-{}", N.fetch_add(1, Ordering::Relaxed));
    let p = proof_with(&json!({
        "jti": jti, "htm": "POST", "htu": "https://as.example.com/token",
        "iat": now().unix_timestamp(),
    }));
    let mut req = RawRequest::new("POST", CC.as_bytes(), now())
        .content_type(b"application/x-www-form-urlencoded")
        .authorization(auth.as_bytes());
    if bound {
        req = req.dpop(p.as_bytes());
    }
    let o = block_on(engine.handle_token_request(&req));
    let body: Value = serde_json::from_slice(o.response.body()).expect("json");
    assert_eq!(o.response.status(), 200, "{body}");
    assert_eq!(body["token_type"], if bound { "DPoP" } else { "Bearer" });
    body["access_token"].as_str().expect("token").to_owned()
}

/// The claims of a resource-server proof for `GET` [`API_URL`] carrying `token`'s hash.
fn api_claims(jti: &str, token: &str) -> Value {
    json!({
        "jti": jti, "htm": "GET", "htu": API_URL, "iat": now().unix_timestamp(),
        "ath": access_token_hash(token),
    })
}

/// Validates a `GET` [`API_URL`] request with `authorization` and these `DPoP` values.
fn call(
    engine: &Engine,
    authorization: &str,
    proofs: &[&str],
    method: &str,
) -> Result<AccessTokenClaims, BearerError> {
    let v = engine.validator().build().expect("validator");
    let mut parts = RequestParts {
        method,
        url: API_URL,
        ..RequestParts::default()
    };
    parts.authorization.push(authorization.as_bytes());
    let mut dpop = HeaderValues::default();
    for p in proofs {
        dpop.push(p.as_bytes());
    }
    parts.dpop = dpop;
    block_on(v.validate_request(&parts, now(), &Scope::default()))
}

fn dpop_call(
    engine: &Engine,
    token: &str,
    proofs: &[&str],
) -> Result<AccessTokenClaims, BearerError> {
    call(engine, &format!("DPoP {token}"), proofs, "GET")
}

/// Asserts a `401 invalid_dpop_proof` for `why`, with the `DPoP` challenge.
fn assert_bad_proof(e: &BearerError, why: BearerFailure) {
    assert_eq!(e.failure(), why);
    assert_eq!(e.status(), 401);
    assert_eq!(e.code(), Some(ErrorCode::InvalidDpopProof));
    let challenge = e.www_authenticate().expect("challenge");
    assert!(challenge.starts_with("DPoP realm="), "{challenge}");
    assert!(
        challenge.contains(r#"error="invalid_dpop_proof""#),
        "{challenge}"
    );
    assert!(challenge.ends_with(ALGS), "{challenge}");
}

#[test]
fn rfc9449_7_1_a_bound_token_with_a_fresh_proof_is_accepted() {
    let engine = dpop_jwt_engine();
    let token = issue(&engine, true);
    let claims =
        dpop_call(&engine, &token, &[&proof_with(&api_claims("a-1", &token))]).expect("accepted");
    assert_eq!(claims.client_id, BASIC.id);
    assert_eq!(
        claims.claims.confirmation.map(|c| c.jkt),
        Some(jwt_common::thumbprint())
    );
}

#[test]
fn rfc9449_7_1_a_missing_proof_is_invalid_dpop_proof_with_the_dpop_challenge() {
    let engine = dpop_jwt_engine();
    let token = issue(&engine, true);
    let e = dpop_call(&engine, &token, &[]).unwrap_err();
    assert_bad_proof(&e, BearerFailure::DpopProof(DpopFailure::Missing));
    assert_eq!(
        e.www_authenticate().unwrap(),
        format!(
            r#"DPoP realm="jeton", error="invalid_dpop_proof", error_description="the DPoP proof is invalid", {ALGS}"#
        )
    );
    let p = proof_with(&api_claims("two", &token));
    let e = dpop_call(&engine, &token, &[&p, &p]).unwrap_err();
    assert_bad_proof(&e, BearerFailure::DpopProof(DpopFailure::Multiple));
}

#[test]
fn rfc9449_7_1_a_proof_whose_ath_is_not_the_tokens_hash_is_refused() {
    let engine = dpop_jwt_engine();
    let token = issue(&engine, true);
    let other = issue(&engine, true);
    let e = dpop_call(&engine, &token, &[&proof_with(&api_claims("ath", &other))]).unwrap_err();
    assert_bad_proof(&e, BearerFailure::DpopProof(DpopFailure::WrongTokenHash));
    let mut no_ath = api_claims("no-ath", &token);
    no_ath.as_object_mut().unwrap().remove("ath");
    let e = dpop_call(&engine, &token, &[&proof_with(&no_ath)]).unwrap_err();
    assert_bad_proof(&e, BearerFailure::DpopProof(DpopFailure::MissingClaim));
}

#[test]
fn rfc9449_7_1_a_proof_signed_with_a_key_other_than_cnf_jkt_is_refused() {
    let engine = dpop_jwt_engine();
    let token = issue(&engine, true);
    // A valid proof, by another key (the Ed25519 test key).
    let mut h = jwt::Header::new(jwt::Algorithm::EdDSA);
    h.typ = Some("dpop+jwt".into());
    h.jwk = Some(serde_json::from_value(public_jwk_of(Algorithm::EdDsa)).unwrap());
    let ed = encoding_key(Algorithm::EdDsa);
    let p = jwt::encode(&h, &api_claims("other-key", &token), &ed).unwrap();
    let e = dpop_call(&engine, &token, &[&p]).unwrap_err();
    assert_bad_proof(&e, BearerFailure::DpopProof(DpopFailure::WrongKey));
    let _ = key(Algorithm::EdDsa);
}

#[test]
fn rfc9449_11_1_a_replayed_proof_at_the_api_is_refused() {
    let engine = dpop_jwt_engine();
    let token = issue(&engine, true);
    let p = proof_with(&api_claims("once", &token));
    dpop_call(&engine, &token, &[&p]).expect("first use");
    let e = dpop_call(&engine, &token, &[&p]).unwrap_err();
    assert_bad_proof(&e, BearerFailure::DpopReplayed);
}

#[test]
fn rfc9449_4_3_a_proof_for_another_method_or_url_is_refused() {
    let engine = dpop_jwt_engine();
    let token = issue(&engine, true);
    let p = proof_with(&api_claims("post", &token));
    let e = call(&engine, &format!("DPoP {token}"), &[&p], "POST").unwrap_err();
    assert_bad_proof(&e, BearerFailure::DpopProof(DpopFailure::WrongMethod));
    let mut elsewhere = api_claims("elsewhere", &token);
    elsewhere["htu"] = json!("https://api.example.com/invoices");
    let e = dpop_call(&engine, &token, &[&proof_with(&elsewhere)]).unwrap_err();
    assert_bad_proof(&e, BearerFailure::DpopProof(DpopFailure::WrongUrl));
    // §4.3: the query is not compared.
    let mut query = api_claims("query", &token);
    query["htu"] = json!(format!("{API_URL}?page=2"));
    dpop_call(&engine, &token, &[&proof_with(&query)]).expect("query ignored");
}

#[test]
fn rfc9449_7_2_a_bound_token_presented_as_bearer_is_refused_with_the_bearer_challenge() {
    let engine = dpop_jwt_engine();
    let token = issue(&engine, true);
    let p = proof_with(&api_claims("bearer", &token));
    let e = call(&engine, &format!("Bearer {token}"), &[&p], "GET").unwrap_err();
    assert_eq!(e.failure(), BearerFailure::DpopBound);
    assert_eq!(e.status(), 401);
    assert_eq!(e.code(), Some(ErrorCode::InvalidToken));
    assert!(e.www_authenticate().unwrap().starts_with("Bearer realm="));
}

#[test]
fn rfc9449_7_1_an_unbound_token_presented_as_dpop_is_invalid_token() {
    let engine = dpop_jwt_engine();
    let token = issue(&engine, false);
    let e = dpop_call(
        &engine,
        &token,
        &[&proof_with(&api_claims("unbound", &token))],
    )
    .unwrap_err();
    assert_eq!(e.failure(), BearerFailure::NotDpopBound);
    assert_eq!((e.status(), e.code()), (401, Some(ErrorCode::InvalidToken)));
    let challenge = e.www_authenticate().unwrap();
    assert!(challenge.starts_with("DPoP realm="), "{challenge}");
    assert!(challenge.ends_with(ALGS), "{challenge}");
    // The same token as Bearer is fine.
    call(&engine, &format!("Bearer {token}"), &[], "GET").expect("bearer");
}

#[test]
fn rfc9449_7_1_a_bad_token_with_the_dpop_scheme_gets_the_dpop_challenge() {
    let engine = dpop_jwt_engine();
    let e = dpop_call(&engine, "not.a.token", &[]).unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::InvalidToken));
    assert!(e.www_authenticate().unwrap().starts_with("DPoP realm="));
    let e = dpop_call(&engine, "", &[]).unwrap_err();
    assert_eq!(
        (e.status(), e.code()),
        (400, Some(ErrorCode::InvalidRequest))
    );
    assert!(e.is_dpop());
}

//! DPoP at the token endpoint (RFC 9449 §5, §6, §8, §11.1) through the engine, with proofs made
//! by an independent implementation (the `jsonwebtoken` crate): a valid proof binds the token
//! (`token_type` `DPoP`, `cnf.jkt` in the JWT, the opaque record and introspection), a bad or
//! replayed proof is `invalid_dpop_proof`, server nonces answer `use_dpop_nonce` with a
//! `DPoP-Nonce` header, `require_dpop` refuses a bearer request, and DPoP is on (and advertised)
//! only with a replay store.

mod jwt_common;

use jeton::time::Duration;
use jeton::{
    ClientId, ClientRecord, DefaultScope, Engine, HmacDpopNonces, Outcome, RawRequest, Resource,
    SecretVerifier,
};
use jeton_testkit::jeton_memory::MemoryReplayStore;
use jeton_testkit::{
    BASIC, Endpoint, Fixture, INTROSPECTOR, ISSUER, SeqRandom, block_on, error_code, json, now,
};
use jwt_common::{dpop_jwt_engine as jwt_engine, proof_with, thumbprint};
use serde_json::{Value, json};
use std::sync::Arc;

const TOKEN_URL: &str = "https://as.example.com/token";
const CC: &str = "grant_type=client_credentials&scope=read";

/// A proof for `POST` the token endpoint, with `jti`, made at [`now`].
fn proof(jti: &str) -> String {
    proof_with(
        &json!({ "jti": jti, "htm": "POST", "htu": TOKEN_URL, "iat": now().unix_timestamp() }),
    )
}

fn keyed(f: impl FnOnce(jeton::EngineBuilder) -> jeton::EngineBuilder) -> Fixture {
    Fixture::with(|b| {
        f(b.transport(jeton::Transport::Plaintext)
            .replay_store(Arc::new(MemoryReplayStore::with_capacity(64))))
    })
}

/// A token request as [`BASIC`] carrying these `DPoP` header values.
fn token(engine: &Engine, proofs: &[&str]) -> Outcome {
    let auth = jeton::encode_basic(BASIC.id, BASIC.secret);
    let mut req = RawRequest::new("POST", CC.as_bytes(), now())
        .content_type(b"application/x-www-form-urlencoded")
        .authorization(auth.as_bytes());
    for p in proofs {
        req = req.dpop(p.as_bytes());
    }
    block_on(engine.handle_token_request(&req))
}

fn introspect(fx: &Fixture, token: &str) -> Value {
    let auth = jeton::encode_basic(INTROSPECTOR.id, INTROSPECTOR.secret);
    json(&fx.call(
        Endpoint::Introspection,
        &format!("token={token}"),
        Some(&auth),
    ))
}

#[test]
fn rfc9449_5_a_valid_proof_gives_a_dpop_token_bound_to_its_key() {
    let fx = keyed(|b| b);
    let o = token(&fx.engine, &[&proof("p-1")]);
    assert_eq!(o.response.status(), 200, "{:?}", json(&o));
    let body = json(&o);
    assert_eq!(body["token_type"], "DPoP");
    let access = body["access_token"].as_str().unwrap();

    // RFC 9449 §6.2: introspection shows the binding and the type.
    let info = introspect(&fx, access);
    assert_eq!(info["active"], true);
    assert_eq!(info["token_type"], "DPoP");
    assert_eq!(info["cnf"], json!({ "jkt": thumbprint() }));
}

#[test]
fn rfc9449_5_without_a_proof_the_token_is_a_bearer_token() {
    let fx = keyed(|b| b);
    let o = token(&fx.engine, &[]);
    assert_eq!(json(&o)["token_type"], "Bearer");
    let info = introspect(&fx, json(&o)["access_token"].as_str().unwrap());
    assert_eq!(info["token_type"], "Bearer");
    assert!(info.get("cnf").is_none());
}

#[test]
fn rfc9449_6_1_a_jwt_access_token_carries_cnf_jkt() {
    let engine = jwt_engine();
    let o = token(&engine, &[&proof("jwt-1")]);
    assert_eq!(o.response.status(), 200, "{:?}", json(&o));
    assert_eq!(json(&o)["token_type"], "DPoP");
    let access = json(&o)["access_token"].as_str().unwrap().to_owned();
    let payload = access.split('.').nth(1).unwrap();
    use base64::Engine as _;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["cnf"], json!({ "jkt": thumbprint() }));
}

#[test]
fn rfc9449_11_1_a_replayed_proof_is_invalid_dpop_proof() {
    let fx = keyed(|b| b);
    let p = proof("once");
    assert_eq!(token(&fx.engine, &[&p]).response.status(), 200);
    let again = token(&fx.engine, &[&p]);
    assert_eq!(again.response.status(), 400);
    assert_eq!(error_code(&again).as_deref(), Some("invalid_dpop_proof"));
}

#[test]
fn rfc9449_4_3_proofs_for_another_request_are_invalid_dpop_proof() {
    let fx = keyed(|b| b);
    let t = now().unix_timestamp();
    let cases = [
        (
            "wrong htu",
            proof_with(
                &json!({ "jti": "u", "htm": "POST", "htu": "https://evil.example/token", "iat": t }),
            ),
        ),
        (
            "wrong htm",
            proof_with(&json!({ "jti": "m", "htm": "GET", "htu": TOKEN_URL, "iat": t })),
        ),
        (
            "stale iat",
            proof_with(&json!({ "jti": "s", "htm": "POST", "htu": TOKEN_URL, "iat": t - 3600 })),
        ),
        ("not a JWT", "a.b.c".to_owned()),
    ];
    for (name, p) in cases {
        let o = token(&fx.engine, &[&p]);
        assert_eq!(o.response.status(), 400, "{name}");
        assert_eq!(
            error_code(&o).as_deref(),
            Some("invalid_dpop_proof"),
            "{name}"
        );
    }
    // §4.3 point 1: two `DPoP` headers.
    let (a, b) = (proof("two-a"), proof("two-b"));
    let o = token(&fx.engine, &[&a, &b]);
    assert_eq!(error_code(&o).as_deref(), Some("invalid_dpop_proof"));
}

#[test]
fn rfc9449_8_nonces_missing_or_stale_answer_use_dpop_nonce_with_a_nonce() {
    let nonces = Arc::new(HmacDpopNonces::new(&[7u8; 32], Duration::minutes(5)));
    let fx = keyed(|b| b.dpop_nonces(nonces.clone()));
    let o = token(&fx.engine, &[&proof("no-nonce")]);
    assert_eq!(o.response.status(), 400);
    assert_eq!(error_code(&o).as_deref(), Some("use_dpop_nonce"));
    let nonce = o
        .response
        .header("dpop-nonce")
        .expect("DPoP-Nonce")
        .to_owned();
    assert_eq!(nonce, jeton::DpopNonces::current(&*nonces, now()));

    let stale = proof_with(&json!({
        "jti": "stale-nonce", "htm": "POST", "htu": TOKEN_URL,
        "iat": now().unix_timestamp(), "nonce": "not-a-nonce-of-this-server",
    }));
    let o = token(&fx.engine, &[&stale]);
    assert_eq!(error_code(&o).as_deref(), Some("use_dpop_nonce"));
    assert!(o.response.header("dpop-nonce").is_some());

    let good = proof_with(&json!({
        "jti": "with-nonce", "htm": "POST", "htu": TOKEN_URL,
        "iat": now().unix_timestamp(), "nonce": nonce,
    }));
    let o = token(&fx.engine, &[&good]);
    assert_eq!(o.response.status(), 200, "{:?}", json(&o));
    assert_eq!(json(&o)["token_type"], "DPoP");
}

#[test]
fn rfc9449_8_2_a_successful_token_response_carries_the_next_nonce() {
    let nonces = Arc::new(HmacDpopNonces::new(&[9u8; 32], Duration::minutes(5)));
    let fx = keyed(|b| b.dpop_nonces(nonces.clone()));
    let current = jeton::DpopNonces::current(&*nonces, now());
    let good = proof_with(&json!({
        "jti": "success-nonce", "htm": "POST", "htu": TOKEN_URL,
        "iat": now().unix_timestamp(), "nonce": current,
    }));
    let o = token(&fx.engine, &[&good]);
    assert_eq!(o.response.status(), 200, "{:?}", json(&o));
    assert_eq!(o.response.header("dpop-nonce"), Some(current.as_str()));
    // A bearer request of the same engine learns the nonce too, for its next DPoP request.
    let o = token(&fx.engine, &[]);
    assert_eq!(o.response.status(), 200, "{:?}", json(&o));
    assert_eq!(o.response.header("dpop-nonce"), Some(current.as_str()));

    // Without server nonces, or with nonces but DPoP off (no replay store), no header.
    let plain = keyed(|b| b);
    let o = token(&plain.engine, &[&proof("no-nonces-engine")]);
    assert_eq!(o.response.status(), 200, "{:?}", json(&o));
    assert_eq!(o.response.header("dpop-nonce"), None);
    let off = Fixture::with(|b| {
        b.transport(jeton::Transport::Plaintext)
            .dpop_nonces(nonces.clone())
    });
    let o = token(&off.engine, &[]);
    assert_eq!(o.response.status(), 200, "{:?}", json(&o));
    assert_eq!(o.response.header("dpop-nonce"), None);
}

fn dpop_client() -> ClientRecord {
    ClientRecord::builder(ClientId::new("dpop-only").unwrap())
        .secret(SecretVerifier::hmac_sha256("dpop-only-secret-0123", &SeqRandom::new(3)).unwrap())
        .default_scope(DefaultScope::Empty)
        .require_dpop(true)
        .build()
}

fn dpop_client_request(engine: &Engine, proofs: &[&str]) -> Outcome {
    let auth = jeton::encode_basic("dpop-only", "dpop-only-secret-0123");
    let mut req = RawRequest::new("POST", b"grant_type=client_credentials", now())
        .content_type(b"application/x-www-form-urlencoded")
        .authorization(auth.as_bytes());
    for p in proofs {
        req = req.dpop(p.as_bytes());
    }
    block_on(engine.handle_token_request(&req))
}

#[test]
fn rfc9449_5_require_dpop_refuses_a_bearer_request_and_accepts_a_proof() {
    let fx = keyed(|b| b);
    fx.clients.put(dpop_client());
    let o = dpop_client_request(&fx.engine, &[]);
    assert_eq!(o.response.status(), 400);
    assert_eq!(error_code(&o).as_deref(), Some("invalid_dpop_proof"));
    let o = dpop_client_request(&fx.engine, &[&proof("req-1")]);
    assert_eq!(o.response.status(), 200, "{:?}", json(&o));
    assert_eq!(json(&o)["token_type"], "DPoP");

    // Without a replay store DPoP is off: such a client is refused even with a proof.
    let off = Fixture::new();
    off.clients.put(dpop_client());
    let o = dpop_client_request(&off.engine, &[&proof("req-2")]);
    assert_eq!(error_code(&o).as_deref(), Some("invalid_dpop_proof"));
}

#[test]
fn rfc9449_5_1_metadata_advertises_dpop_only_when_it_is_on() {
    let meta = |fx: &Fixture| -> Value {
        let doc = fx.engine.metadata_document().expect("metadata");
        serde_json::from_slice(doc.body()).unwrap()
    };
    let on = meta(&keyed(|b| b));
    assert_eq!(
        on["dpop_signing_alg_values_supported"],
        json!(["ES256", "EdDSA", "RS256", "PS256"])
    );
    assert!(keyed(|b| b).engine.dpop_enabled());
    let off = Fixture::new();
    assert!(
        meta(&off)
            .get("dpop_signing_alg_values_supported")
            .is_none()
    );
    assert!(!off.engine.dpop_enabled());
    // Off, a proof is ignored: the token is a bearer token.
    let o = token(&off.engine, &[&proof("ignored")]);
    assert_eq!(json(&o)["token_type"], "Bearer");
    let _ = ISSUER;
}

/// Validates `token` as a bearer token with `engine`'s own validator.
fn as_bearer(engine: &Engine, token: &str) -> Result<(), jeton::BearerError> {
    let v = engine.validator().build().expect("validator");
    let header = format!("Bearer {token}");
    let mut authorization = jeton::HeaderValues::default();
    authorization.push(header.as_bytes());
    block_on(v.validate(&authorization, now(), &jeton::Scope::default())).map(|_| ())
}

#[test]
fn rfc9449_7_2_a_bound_token_presented_as_bearer_is_refused() {
    let opaque =
        keyed(|b| b.default_audience([Resource::new("https://api.example.com/").unwrap()]));
    for engine in [jwt_engine(), Arc::into_inner(opaque.engine).unwrap()] {
        let bearer = json(&token(&engine, &[]))["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        as_bearer(&engine, &bearer).expect("a bearer token is accepted");
        let bound = json(&token(&engine, &[&proof("bound")]))["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let refused = as_bearer(&engine, &bound).unwrap_err();
        assert_eq!(refused.failure(), jeton::BearerFailure::DpopBound);
        assert_eq!(refused.status(), 401);
        assert_eq!(refused.code(), Some(jeton::ErrorCode::InvalidToken));
    }
}

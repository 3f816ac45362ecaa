//! Audience-only tokens (issue 12): a client whose omitted scope is granted nothing
//! (`DefaultScope::Empty`, or a fixed default that is empty) gets a token with no scope, and
//! nothing claims otherwise: no `scope` in the token response (RFC 6749 §5.1: OPTIONAL when it
//! is what was requested), none in the JWT (RFC 9068 §2.2.3 ties the claim to a requested
//! scope), none in introspection (RFC 7662 §2.2: OPTIONAL; never `"scope":""`, which would read
//! as one empty scope token); a resource server requiring no scope accepts the token, one
//! requiring a scope refuses it with `403 insufficient_scope`.

mod jwt_common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use jeton::{
    Algorithm, BearerValidator, ClientId, ClientRecord, DefaultScope, Engine, ErrorCode, KeySet,
    RawRequest, Resource, Scope, SecretVerifier, encode_basic,
};
use jeton_testkit::{FixtureClient, INTROSPECTOR, SeqRandom, block_on, now};
use jwt_common::{AUDIENCE, check, engine_with, issuer, key};
use serde_json::Value;

const AUD_ONLY: FixtureClient = FixtureClient {
    id: "audience-only",
    secret: "audience-only-secret-01",
};

/// The two ways to configure "grant no scope when none is asked for".
fn no_scope_defaults() -> [DefaultScope; 2] {
    [DefaultScope::Empty, DefaultScope::Fixed(Scope::default())]
}

/// A client allowed `read` (so a scope could have been granted) whose omitted scope gets
/// `default`, with the API as its audience.
fn audience_only(default: DefaultScope) -> ClientRecord {
    let verifier = SecretVerifier::hmac_sha256(AUD_ONLY.secret, &SeqRandom::new(3)).unwrap();
    ClientRecord::builder(ClientId::new(AUD_ONLY.id).unwrap())
        .secret(verifier)
        .scopes(Scope::parse("read").unwrap())
        .default_scope(default)
        .default_audience([Resource::new(AUDIENCE).unwrap()])
        .build()
}

/// A form POST to `engine`'s token or introspection endpoint as `client` (Basic), at [`now`];
/// the status and the JSON body.
fn post(engine: &Engine, introspect: bool, client: FixtureClient, body: &str) -> (u16, Value) {
    let auth = encode_basic(client.id, client.secret);
    let req = RawRequest::new("POST", body.as_bytes(), now())
        .content_type(b"application/x-www-form-urlencoded")
        .authorization(auth.as_bytes());
    let o = if introspect {
        block_on(engine.handle_introspection_request(&req))
    } else {
        block_on(engine.handle_token_request(&req))
    };
    let body = serde_json::from_slice(o.response.body()).expect("JSON body");
    (o.response.status(), body)
}

/// An audience-only token from `engine`, checked to come without `scope`.
fn token_without_scope(engine: &Engine) -> String {
    let (status, body) = post(engine, false, AUD_ONLY, "grant_type=client_credentials");
    assert_eq!(status, 200, "{body}");
    assert!(body.get("scope").is_none(), "{body}");
    body["access_token"].as_str().expect("token").to_owned()
}

/// Introspection of an audience-only `token`: active, for its client and audience, no `scope`.
fn assert_introspected_without_scope(engine: &Engine, token: &str) {
    let (status, body) = post(engine, true, INTROSPECTOR, &format!("token={token}"));
    assert_eq!(status, 200);
    assert_eq!(body["active"], true, "{body}");
    assert_eq!(body["client_id"], AUD_ONLY.id);
    assert_eq!(body["aud"], AUDIENCE);
    assert!(body.get("scope").is_none(), "{body}");
}

/// A resource server requiring nothing accepts an audience-only `token`; one requiring `read`
/// refuses it with `403 insufficient_scope` naming `read`.
fn assert_audience_only_at_the_api(v: &BearerValidator, token: &str) {
    let claims = check(v, token, now(), "").expect("no scope required");
    assert_eq!(claims.client_id.as_str(), AUD_ONLY.id);
    assert!(claims.scope.is_empty());
    let e = check(v, token, now(), "read").unwrap_err();
    assert_eq!(
        (e.status(), e.code()),
        (403, Some(ErrorCode::InsufficientScope))
    );
    let challenge = e.www_authenticate().expect("challenge");
    assert!(challenge.ends_with(r#"scope="read""#), "{challenge}");
}

#[test]
fn rfc7662_2_2_rfc6750_3_1_an_audience_only_opaque_token_has_no_scope_anywhere() {
    for default in no_scope_defaults() {
        let fx = jeton_testkit::Fixture::new();
        fx.clients.put(audience_only(default.clone()));
        let token = token_without_scope(&fx.engine);
        assert_introspected_without_scope(&fx.engine, &token);
        let v = fx.engine.validator().audience(AUDIENCE).build().unwrap();
        assert_audience_only_at_the_api(&v, &token);
    }
}

#[test]
fn rfc9068_2_2_3_rfc7662_2_2_an_audience_only_jwt_has_no_scope_claim_anywhere() {
    for default in no_scope_defaults() {
        let issuer = issuer(KeySet::new(key(Algorithm::Es256)));
        let engine = engine_with(issuer, [audience_only(default.clone())]);
        let token = token_without_scope(&engine);
        let payload = token.split('.').nth(1).expect("three parts");
        let claims: Value = serde_json::from_slice(&B64URL.decode(payload).unwrap()).unwrap();
        assert!(claims.get("scope").is_none(), "{claims}");
        assert_eq!(claims["client_id"], AUD_ONLY.id);
        assert_eq!(claims["aud"], AUDIENCE);
        assert_introspected_without_scope(&engine, &token);
        let v = engine.validator().build().unwrap();
        assert_audience_only_at_the_api(&v, &token);
    }
}

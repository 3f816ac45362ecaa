//! private_key_jwt through the engine (RFC 7523 §2.2, §3; RFC 7521 §4.2;
//! draft-ietf-oauth-rfc7523bis) at the token, introspection and revocation endpoints, with
//! inline keys and with keys an embedder's `ClientKeysResolver` finds at a `jwks_uri`; plus the
//! two client gaps of issue 12 (audience-only clients, raw Basic credentials).

mod jwt_common;

use jeton::{
    Algorithm, AuthFailure, AuthMethod, ClientId, ClientKeys, ClientKeysResolver, ClientRecord,
    DefaultScope, SecretVerifier, StoreError, SystemRandom, sign_jwt,
};
use jeton_testkit::jeton_memory::MemoryReplayStore;
use jeton_testkit::{Endpoint, Fixture, INTERNAL_DETAIL, ISSUER, error_code, json, now};
use jwt_common::{encoding_key, jsonwebtoken_alg, key};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const TYPE: &str = "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer";
const SVC: &str = "key-svc";

fn key_client(id: &str, alg: Algorithm) -> ClientRecord {
    ClientRecord::builder(ClientId::new(id).unwrap())
        .auth_methods([AuthMethod::PrivateKeyJwt])
        .keys(ClientKeys::new(alg, [key(alg).verifying_key().clone()]).unwrap())
        .default_scope(DefaultScope::Empty)
        .may_introspect(true)
        .build()
}

fn fixture_with(f: impl FnOnce(jeton::EngineBuilder) -> jeton::EngineBuilder) -> Fixture {
    let fx = Fixture::with(|b| {
        f(b.transport(jeton::Transport::Plaintext)
            .replay_store(Arc::new(MemoryReplayStore::with_capacity(64))))
    });
    for alg in Algorithm::VERIFY {
        fx.clients
            .put(key_client(&format!("{SVC}-{}", alg.as_str()), alg));
    }
    fx.clients.put(key_client(SVC, Algorithm::Es256));
    fx
}

fn fixture() -> Fixture {
    fixture_with(|b| b)
}

fn claims(client: &str, aud: Value, jti: &str) -> Value {
    let t = now().unix_timestamp();
    json!({ "iss": client, "sub": client, "aud": aud, "iat": t, "exp": t + 60, "jti": jti })
}

fn assertion_as(alg: Algorithm, claims: &Value) -> String {
    sign_jwt(&key(alg), "client-authentication+jwt", claims).unwrap()
}

fn assertion(jti: &str) -> String {
    assertion_as(Algorithm::Es256, &claims(SVC, json!(ISSUER), jti))
}

fn form(assertion: &str) -> String {
    format!(
        "grant_type=client_credentials&client_assertion_type={TYPE}&client_assertion={assertion}"
    )
}

fn auth_reason(o: &jeton::Outcome) -> Option<&'static str> {
    o.event.fields().reason
}

#[test]
fn rfc7523_2_2_private_key_jwt_issues_a_token_for_every_algorithm() {
    let fx = fixture();
    // jeton signs RS256 with RSA keys; PS256 assertions come from jsonwebtoken
    // (rfc7523_2_2_rfc8725_3_1_a_ps256_client_accepts_ps256_and_refuses_rs256_with_the_same_key).
    for alg in [Algorithm::Es256, Algorithm::EdDsa, Algorithm::Rs256] {
        let id = format!("{SVC}-{}", alg.as_str());
        let a = assertion_as(alg, &claims(&id, json!(ISSUER), "one"));
        let o = fx.token(&form(&a), None);
        assert_eq!(o.response.status(), 200, "{alg:?}: {:?}", json(&o));
    }
}

/// A client assertion made by `jsonwebtoken` (jeton signs no PS256), with the `kid` of `alg`'s
/// committed test key.
fn jsonwebtoken_assertion(alg: Algorithm, claims: &Value) -> String {
    let mut h = jsonwebtoken::Header::new(jsonwebtoken_alg(alg));
    h.typ = Some("client-authentication+jwt".into());
    h.kid = Some(key(alg).kid().to_owned());
    jsonwebtoken::encode(&h, claims, &encoding_key(alg)).unwrap()
}

/// Asserts the answer to a failed client authentication: `401 invalid_client` with the Basic
/// challenge, `reason` in the audit event only.
fn assert_invalid_client(o: &jeton::Outcome, reason: &str) {
    assert_eq!(o.response.status(), 401, "{reason}: {:?}", json(o));
    assert_eq!(error_code(o).as_deref(), Some("invalid_client"), "{reason}");
    assert!(
        o.response
            .header("www-authenticate")
            .is_some_and(|c| c.starts_with("Basic realm=")),
        "{reason}"
    );
    assert_eq!(auth_reason(o), Some(reason));
}

#[test]
fn rfc7523_2_2_rfc8725_3_1_a_ps256_client_accepts_ps256_and_refuses_rs256_with_the_same_key() {
    let fx = fixture();
    let ps = format!("{SVC}-PS256");
    let a = jsonwebtoken_assertion(Algorithm::Ps256, &claims(&ps, json!(ISSUER), "ps-1"));
    let o = fx.token(&form(&a), None);
    assert_eq!(o.response.status(), 200, "{:?}", json(&o));
    assert_eq!(json(&o)["token_type"], "Bearer");
    // The same RSA key, the same claims, RS256: the algorithm is the client's, not the
    // assertion's (RFC 8725 §3.1).
    let a = jsonwebtoken_assertion(Algorithm::Rs256, &claims(&ps, json!(ISSUER), "rs-1"));
    assert_invalid_client(&fx.token(&form(&a), None), "disallowed_algorithm");
    // And the other way round: an RS256 client refuses PS256 by the same key.
    let rs = format!("{SVC}-RS256");
    let a = jsonwebtoken_assertion(Algorithm::Ps256, &claims(&rs, json!(ISSUER), "ps-2"));
    assert_invalid_client(&fx.token(&form(&a), None), "disallowed_algorithm");
}

#[test]
fn rfc7523_3_7_a_replayed_assertion_is_invalid_client() {
    let fx = fixture();
    let a = assertion("once");
    assert_eq!(fx.token(&form(&a), None).response.status(), 200);
    let again = fx.token(&form(&a), None);
    assert_eq!(error_code(&again).as_deref(), Some("invalid_client"));
    assert_eq!(auth_reason(&again), Some("replayed_assertion"));
}

#[test]
fn rfc7523bis_only_the_issuer_is_the_audience_unless_the_legacy_flag_is_on() {
    let token_url = format!("{ISSUER}/token");
    let fx = fixture();
    let a = assertion_as(Algorithm::Es256, &claims(SVC, json!(token_url), "aud-1"));
    let o = fx.token(&form(&a), None);
    assert_eq!(error_code(&o).as_deref(), Some("invalid_client"));
    assert_eq!(auth_reason(&o), Some("wrong_audience"));
    let arr = assertion_as(
        Algorithm::Es256,
        &claims(SVC, json!([ISSUER, "x"]), "aud-2"),
    );
    assert_eq!(
        error_code(&fx.token(&form(&arr), None)).as_deref(),
        Some("invalid_client")
    );

    let legacy = fixture_with(|b| b.accept_token_endpoint_audience(true));
    assert_eq!(legacy.token(&form(&a), None).response.status(), 200);
}

#[test]
fn rfc6749_5_2_every_assertion_failure_answers_like_a_wrong_secret() {
    let fx = fixture();
    let wrong_secret = fx.token(
        "grant_type=client_credentials",
        Some(&jeton::encode_basic("basic-client", "nope-nope-nope")),
    );
    let forged = assertion_as(Algorithm::EdDsa, &claims(SVC, json!(ISSUER), "f"));
    let unknown = assertion_as(Algorithm::Es256, &claims("nobody", json!(ISSUER), "u"));
    let cases = [
        (form(&forged), "disallowed_algorithm"),
        (form(&unknown), "unknown_client"),
        (form("a.b.c"), "malformed"),
        (
            form(&assertion("t")).replace("jwt-bearer", "saml2-bearer"),
            "wrong_assertion_type",
        ),
    ];
    for (body, reason) in cases {
        let o = fx.token(&body, None);
        assert_eq!(o.response.status(), 401, "{reason}");
        assert_eq!(o.response.body(), wrong_secret.response.body(), "{reason}");
        assert_eq!(
            o.response.header("www-authenticate"),
            wrong_secret.response.header("www-authenticate")
        );
        assert_eq!(auth_reason(&o), Some(reason));
    }
}

#[test]
fn rfc6749_2_3_one_authentication_method_per_request() {
    let fx = fixture();
    let both = format!("{}&client_secret=x", form(&assertion("m1")));
    assert_eq!(
        error_code(&fx.token(&both, None)).as_deref(),
        Some("invalid_request")
    );
    let basic = jeton::encode_basic("basic-client", "basic-secret-0123456789");
    let o = fx.token(&form(&assertion("m2")), Some(&basic));
    assert_eq!(error_code(&o).as_deref(), Some("invalid_request"));
}

#[test]
fn rfc7523_private_key_jwt_needs_the_client_to_register_the_method() {
    let fx = fixture();
    let mut record = key_client(SVC, Algorithm::Es256);
    record.auth_methods = vec![AuthMethod::ClientSecretBasic];
    fx.clients.put(record);
    let o = fx.token(&form(&assertion("nm")), None);
    assert_eq!(
        o.event.fields().reason,
        Some(AuthFailure::MethodNotAllowed.as_str())
    );
}

#[test]
fn rfc7662_rfc7009_introspection_and_revocation_accept_private_key_jwt() {
    let fx = fixture();
    let token = json(&fx.token(&form(&assertion("i0")), None))["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = format!(
        "token={token}&client_assertion_type={TYPE}&client_assertion={}",
        assertion("i1")
    );
    let o = fx.call(Endpoint::Introspection, &body, None);
    assert_eq!(json(&o)["active"], true);
    assert_eq!(json(&o)["client_id"], SVC);
    let body = format!(
        "token={token}&client_assertion_type={TYPE}&client_assertion={}",
        assertion("r1")
    );
    assert_eq!(
        fx.call(Endpoint::Revocation, &body, None).response.status(),
        200
    );
}

#[test]
fn rfc8414_2_metadata_advertises_private_key_jwt_only_when_configured() {
    let on = fixture();
    let doc: Value = serde_json::from_slice(on.engine.metadata_document().unwrap().body()).unwrap();
    for m in ["token", "introspection", "revocation"] {
        let methods = &doc[format!("{m}_endpoint_auth_methods_supported")];
        assert!(
            methods
                .as_array()
                .unwrap()
                .contains(&json!("private_key_jwt")),
            "{m}"
        );
        let algs = &doc[format!("{m}_endpoint_auth_signing_alg_values_supported")];
        assert_eq!(algs, &json!(["ES256", "EdDSA", "RS256", "PS256"]), "{m}");
    }
    let off = Fixture::new();
    let doc: Value =
        serde_json::from_slice(off.engine.metadata_document().unwrap().body()).unwrap();
    assert!(!doc.to_string().contains("private_key_jwt"));
    assert!(
        doc.get("token_endpoint_auth_signing_alg_values_supported")
            .is_none()
    );
}

#[test]
fn rfc7523_without_a_replay_store_assertions_are_an_unsupported_method() {
    let fx = Fixture::new();
    fx.clients.put(key_client(SVC, Algorithm::Es256));
    let o = fx.token(&form(&assertion("x")), None);
    assert_eq!(error_code(&o).as_deref(), Some("invalid_client"));
    assert_eq!(auth_reason(&o), Some("unsupported_method"));
}

#[test]
fn rfc6749_3_3_default_scope_empty_gives_an_audience_only_token_without_scope() {
    let fx = fixture();
    let o = fx.token(&form(&assertion("s")), None);
    let body = json(&o);
    assert_eq!(o.response.status(), 200);
    assert!(body.get("scope").is_none(), "{body}");
}

fn raw_basic(id: &str, secret: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

fn secret_client(fx: &Fixture, id: &str, secret: &str) {
    let v = SecretVerifier::hmac_sha256(secret, &SystemRandom::new()).unwrap();
    fx.clients.put(
        ClientRecord::builder(ClientId::new(id).unwrap())
            .secret(v)
            .default_scope(DefaultScope::Empty)
            .build(),
    );
}

#[test]
fn rfc6749_2_3_1_raw_basic_is_refused_by_default_and_accepted_when_opted_in() {
    let strict = fixture();
    secret_client(&strict, "a+b", "s%cr+t-0123456789");
    let raw = raw_basic("a+b", "s%cr+t-0123456789");
    let body = "grant_type=client_credentials";
    assert_eq!(strict.token(body, Some(&raw)).response.status(), 401);
    let lax = fixture_with(|b| b.accept_raw_basic(true));
    secret_client(&lax, "a+b", "s%cr+t-0123456789");
    assert_eq!(lax.token(body, Some(&raw)).response.status(), 200);
    // The RFC form still works.
    let encoded = jeton::encode_basic("a+b", "s%cr+t-0123456789");
    assert_eq!(lax.token(body, Some(&encoded)).response.status(), 200);
}

#[test]
fn rfc6749_2_3_1_raw_basic_naming_two_registered_clients_is_invalid_client() {
    let lax = fixture_with(|b| b.accept_raw_basic(true));
    secret_client(&lax, "a+b", "secret-0123456789");
    secret_client(&lax, "a%2Bb", "secret-0123456789");
    let o = lax.token(
        "grant_type=client_credentials",
        Some(&raw_basic("a%2Bb", "secret-0123456789")),
    );
    assert_eq!(error_code(&o).as_deref(), Some("invalid_client"));
}

#[test]
fn rfc9449_5_a_client_that_requires_dpop_gets_no_bearer_token() {
    let fx = fixture();
    let mut record = key_client(SVC, Algorithm::Es256);
    record.require_dpop = true;
    fx.clients.put(record);
    let o = fx.token(&form(&assertion("d")), None);
    assert_eq!(o.response.status(), 400);
    assert_eq!(error_code(&o).as_deref(), Some("invalid_dpop_proof"));
}

const JWKS_URI: &str = "https://svc.example.com/jwks.json";
const URI_CLIENT: &str = "uri-svc";

/// What a test resolver answers for `jwks_uri` clients.
enum Resolves {
    /// The ES256 test key's JWK Set, as a fetch would return it.
    TheKeys,
    /// Nothing usable.
    Nothing,
    /// A failed fetch, whose error names an internal host.
    Fails,
}

/// A [`ClientKeysResolver`] that counts its calls and remembers what it was asked.
struct Resolver {
    answer: Resolves,
    calls: AtomicUsize,
    asked: Mutex<Vec<(String, String)>>,
}

impl Resolver {
    fn new(answer: Resolves) -> Arc<Self> {
        Arc::new(Self {
            answer,
            calls: AtomicUsize::new(0),
            asked: Mutex::new(Vec::new()),
        })
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl ClientKeysResolver for Resolver {
    async fn client_keys(
        &self,
        client: &ClientRecord,
        jwks_uri: &str,
    ) -> Result<Option<ClientKeys>, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.asked
            .lock()
            .unwrap()
            .push((client.id.as_str().to_owned(), jwks_uri.to_owned()));
        match self.answer {
            Resolves::TheKeys => {
                let jwks = json!({ "keys": [key(Algorithm::Es256).verifying_key().to_jwk()] });
                let keys = ClientKeys::from_json(jwks.to_string().as_bytes(), Algorithm::Es256)
                    .map_err(StoreError::new)?;
                Ok(Some(keys))
            }
            Resolves::Nothing => Ok(None),
            Resolves::Fails => Err(StoreError::new(std::io::Error::other(INTERNAL_DETAIL))),
        }
    }
}

/// [`fixture`] plus a resolver and a client registered by `jwks_uri` only.
fn resolving(resolver: Arc<Resolver>) -> Fixture {
    let fx = fixture_with(|b| b.client_keys_resolver(resolver));
    fx.clients.put(
        ClientRecord::builder(ClientId::new(URI_CLIENT).unwrap())
            .auth_methods([AuthMethod::PrivateKeyJwt])
            .jwks_uri(JWKS_URI)
            .default_scope(DefaultScope::Empty)
            .build(),
    );
    fx
}

fn uri_assertion(jti: &str) -> String {
    assertion_as(Algorithm::Es256, &claims(URI_CLIENT, json!(ISSUER), jti))
}

#[test]
fn rfc7591_2_jwks_uri_keys_from_the_resolver_authenticate_the_client() {
    let resolver = Resolver::new(Resolves::TheKeys);
    let fx = resolving(resolver.clone());
    let o = fx.token(&form(&uri_assertion("u-1")), None);
    assert_eq!(o.response.status(), 200, "{:?}", json(&o));
    assert_eq!(o.event.client_id().map(ClientId::as_str), Some(URI_CLIENT));
    assert_eq!(resolver.calls(), 1);
    assert_eq!(
        resolver.asked.lock().unwrap().as_slice(),
        [(URI_CLIENT.to_owned(), JWKS_URI.to_owned())]
    );
}

#[test]
fn rfc7591_2_an_assertion_naming_a_kid_the_resolved_set_lacks_is_invalid_client() {
    let fx = resolving(Resolver::new(Resolves::TheKeys));
    let h = json!({ "alg": "ES256", "typ": "client-authentication+jwt", "kid": "rotated-away" });
    let a = jeton::internal::sign_compact(
        &key(Algorithm::Es256),
        &serde_json::to_vec(&h).unwrap(),
        &serde_json::to_vec(&claims(URI_CLIENT, json!(ISSUER), "u-2")).unwrap(),
    )
    .unwrap();
    assert_invalid_client(&fx.token(&form(&a), None), "unknown_key");
    // Resolved to nothing usable: the same answer.
    let fx = resolving(Resolver::new(Resolves::Nothing));
    assert_invalid_client(&fx.token(&form(&uri_assertion("u-3")), None), "unknown_key");
}

#[test]
fn rfc6749_5_2_a_failing_resolver_is_server_error_without_detail() {
    let fx = resolving(Resolver::new(Resolves::Fails));
    let o = fx.token(&form(&uri_assertion("u-4")), None);
    assert_eq!(o.response.status(), 500);
    assert_eq!(o.response.header("cache-control"), Some("no-store"));
    assert_eq!(o.response.header("www-authenticate"), None);
    let body = json(&o);
    assert_eq!(body["error"], "server_error");
    let raw = String::from_utf8_lossy(o.response.body()).into_owned();
    assert!(
        !raw.contains("db-primary") && !raw.contains("hunter2") && !raw.contains(JWKS_URI),
        "{raw}"
    );
    // The cause is for the logs only.
    let diag = o.diagnostic.as_ref().expect("a diagnostic for the logs");
    let chain = format!("{diag} / {:?}", std::error::Error::source(&**diag));
    assert!(chain.contains("db-primary"), "{chain}");
    assert!(matches!(
        o.event,
        jeton::AuditEvent::ServerError {
            stage: "jwks_uri",
            ..
        }
    ));
}

#[test]
fn rfc7591_2_the_resolver_is_asked_only_for_jwks_uri_clients() {
    let resolver = Resolver::new(Resolves::Fails);
    let fx = resolving(resolver.clone());
    // Inline keys: accepted without a fetch (a failing resolver would have made it a 500).
    assert_eq!(
        fx.token(&form(&assertion("i-1")), None).response.status(),
        200
    );
    // Unknown client: nothing to resolve.
    let unknown = assertion_as(Algorithm::Es256, &claims("nobody", json!(ISSUER), "i-2"));
    assert_invalid_client(&fx.token(&form(&unknown), None), "unknown_client");
    assert_eq!(resolver.calls(), 0);
}

//! Issue 9 point 6, through the engine: every token jeton issues can be introspected and
//! revoked (a client granted more than 64 scopes); a JWT without `kid` is refused when more
//! than one key of its algorithm could match; a token of a disabled or removed client is
//! inactive at introspection and through `StoreIntrospector::with_clients`. (The over-long
//! token and the slow body are tested over real HTTP in every adapter.)

mod jwt_common;

use jeton::internal::sign_compact;
use jeton::time::OffsetDateTime;
use jeton::{
    Algorithm, ClientId, ClientRecord, ClientStore, DefaultScope, Engine, Introspector, JwtIssuer,
    KeySet, RawRequest, Scope, ScopeToken, SecretVerifier, SigningKey, StoreError,
    StoreIntrospector, TokenStore,
};
use jeton_testkit::{BASIC, FixtureClient, INTROSPECTOR, SeqRandom, block_on, fixture_clients};
use jwt_common::{AUDIENCE, ISSUER, Revoked, check, issue_at, issuer_id, key, validator};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

fn now() -> OffsetDateTime {
    jeton_testkit::now()
}

/// The fixture clients and the extra ones a test registers.
struct Clients(Mutex<Vec<ClientRecord>>);

impl Clients {
    fn with(extra: impl IntoIterator<Item = ClientRecord>) -> Arc<Self> {
        let mut all = fixture_clients();
        all.extend(extra);
        Arc::new(Self(Mutex::new(all)))
    }

    fn disable(&self, id: &str) {
        let mut all = self.0.lock().unwrap();
        all.iter_mut()
            .filter(|c| c.id.as_str() == id)
            .for_each(|c| c.enabled = false);
    }
}

#[async_trait::async_trait]
impl ClientStore for Clients {
    async fn client(&self, id: &ClientId) -> Result<Option<Arc<ClientRecord>>, StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .iter()
            .find(|c| &c.id == id)
            .cloned()
            .map(Arc::new))
    }
}

fn engine(clients: Arc<Clients>, issuer: Arc<dyn jeton::TokenIssuer>) -> Engine {
    Engine::builder(clients, issuer)
        .default_audience([jeton::Resource::new(AUDIENCE).unwrap()])
        .random(Arc::new(jeton::SystemRandom::new()))
        .transport(jeton::Transport::Plaintext)
        .build()
        .expect("engine")
}

fn form(engine: &Engine, kind: jeton::RouteKind, who: FixtureClient, body: &str) -> (u16, Value) {
    let auth = jeton::encode_basic(who.id, who.secret);
    let req = RawRequest::new("POST", body.as_bytes(), now())
        .content_type(b"application/x-www-form-urlencoded")
        .authorization(auth.as_bytes());
    let outcome = block_on(engine.handle(kind, &req));
    let body = outcome.response.body();
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body).expect("json")
    };
    (outcome.response.status(), json)
}

fn introspect(engine: &Engine, token: &str) -> Value {
    let (status, json) = form(
        engine,
        jeton::RouteKind::Introspection,
        INTROSPECTOR,
        &format!("token={token}"),
    );
    assert_eq!(status, 200);
    json
}

const WIDE: FixtureClient = FixtureClient {
    id: "wide-client",
    secret: "wide-secret-0123456789",
};

#[test]
fn issue_9_a_client_granted_more_than_64_scopes_gets_tokens_jeton_can_introspect_and_revoke() {
    let tokens: Vec<ScopeToken> = (0..Scope::MAX_TOKENS + 6)
        .map(|i| ScopeToken::new(format!("s{i}")).unwrap())
        .collect();
    let verifier = SecretVerifier::hmac_sha256(WIDE.secret, &SeqRandom::new(3)).unwrap();
    let wide = ClientRecord::builder(ClientId::new(WIDE.id).unwrap())
        .secret(verifier)
        .scopes(Scope::from_tokens(tokens))
        .default_scope(DefaultScope::AllAllowed)
        .build();
    let revoked = Arc::new(Revoked::default());
    let issuer = JwtIssuer::builder(
        issuer_id(),
        KeySet::new(key(Algorithm::Es256)),
        Arc::new(SeqRandom::new(1)),
    )
    .revocation_list(revoked.clone())
    .build()
    .unwrap();
    let engine = engine(Clients::with([wide]), Arc::new(issuer));
    let token = issue_at(&engine, WIDE, "grant_type=client_credentials", now());
    let active = introspect(&engine, &token);
    assert_eq!(active["active"], true, "{active}");
    let granted = active["scope"].as_str().unwrap().split(' ').count();
    assert_eq!(granted, Scope::MAX_TOKENS + 6);
    let (status, _) = form(
        &engine,
        jeton::RouteKind::Revocation,
        WIDE,
        &format!("token={token}"),
    );
    assert_eq!(status, 200);
    assert_eq!(
        revoked.0.lock().unwrap().len(),
        1,
        "the revocation revoked something"
    );
    assert_eq!(introspect(&engine, &token), json!({"active": false}));
}

/// A token signed by `key` with `header`, with valid claims.
fn signed(key: &SigningKey, header: Value) -> String {
    let iat = now().unix_timestamp();
    let claims = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "svc", "client_id": BASIC.id, "scope": "read",
        "iat": iat, "exp": iat + 300, "jti": "kidless-1",
    });
    sign_compact(
        key,
        header.to_string().as_bytes(),
        claims.to_string().as_bytes(),
    )
    .unwrap()
}

#[test]
fn issue_9_a_jwt_without_kid_is_refused_when_several_keys_could_match() {
    let one = key(Algorithm::Es256);
    let two = SigningKey::generate(Algorithm::Es256).unwrap();
    let no_kid = json!({"alg": "ES256", "typ": "at+jwt"});
    let named = json!({"alg": "ES256", "typ": "at+jwt", "kid": one.kid()});

    // One key of the algorithm: a token without `kid` has one candidate, and verifies.
    let alone = validator(KeySet::new(key(Algorithm::Es256)).jwks());
    assert!(check(&alone, &signed(&one, no_kid.clone()), now(), "").is_ok());

    // Two: without `kid` it is refused (not tried against both); with it, accepted.
    let set = KeySet::new(key(Algorithm::Es256))
        .with_verification_key(two.verifying_key().clone())
        .unwrap();
    let both = validator(set.jwks());
    let err = check(&both, &signed(&one, no_kid.clone()), now(), "").unwrap_err();
    assert_eq!(err.failure(), jeton::BearerFailure::UnknownKey, "{err:?}");
    assert!(check(&both, &signed(&one, named.clone()), now(), "").is_ok());

    // The issuer's own inspection follows the same rule.
    let issuer = jwt_common::issuer(set);
    let engine = engine(Clients::with([]), issuer);
    assert_eq!(
        introspect(&engine, &signed(&one, no_kid)),
        json!({"active": false})
    );
    assert_eq!(introspect(&engine, &signed(&one, named))["active"], true);
}

#[test]
fn issue_9_a_token_of_a_disabled_or_removed_client_is_inactive() {
    let fixture = jeton_testkit::Fixture::new();
    let engine = &fixture.engine;
    let store: Arc<dyn TokenStore> = fixture.tokens.clone();
    let clients: Arc<dyn ClientStore> = fixture.clients.clone();
    let introspector = StoreIntrospector::new(store.clone()).with_clients(clients);
    let first = fixture.issue(BASIC, "&scope=read");
    let second = fixture.issue(BASIC, "&scope=read");
    assert_eq!(introspect(engine, &first)["active"], true);
    assert!(block_on(introspector.introspect(&first)).unwrap().is_some());

    let id = ClientId::new(BASIC.id).unwrap();
    let mut record = Arc::unwrap_or_clone(block_on(fixture.clients.client(&id)).unwrap().unwrap());
    record.enabled = false;
    fixture.clients.put(record);
    assert_eq!(introspect(engine, &first), json!({"active": false}));
    assert!(block_on(introspector.introspect(&first)).unwrap().is_none());
    // Without a client store, the introspector knows nothing of clients.
    let bare = StoreIntrospector::new(store);
    assert!(block_on(bare.introspect(&first)).unwrap().is_some());

    assert!(fixture.clients.remove(&id));
    assert_eq!(introspect(engine, &second), json!({"active": false}));
    assert!(
        block_on(introspector.introspect(&second))
            .unwrap()
            .is_none()
    );
}

#[test]
fn issue_9_the_engines_validator_refuses_a_token_of_a_disabled_client() {
    let clients = Clients::with([]);
    let engine = engine(
        clients.clone(),
        jwt_common::issuer(KeySet::new(key(Algorithm::Es256))),
    );
    let validator = engine.validator().build().expect("validator");
    let token = jwt_common::issue(&engine, now());
    let none = Scope::default();
    assert!(block_on(validator.validate_token(&token, now(), &none)).is_ok());
    clients.disable(BASIC.id);
    let err = block_on(validator.validate_token(&token, now(), &none)).unwrap_err();
    assert_eq!(err.failure(), jeton::BearerFailure::Inactive, "{err:?}");
}

//! Shared set-up for the JWT tests: committed test keys, an engine issuing JWTs, a validator.
#![allow(dead_code, unreachable_pub)]

use jeton::time::{Duration, OffsetDateTime};
use jeton::{
    AccessTokenClaims, Algorithm, BearerError, BearerValidator, ClientId, ClientRecord,
    ClientStore, Engine, HeaderValues, IssuerId, Jwks, JwtIssuer, KeySet, RawRequest, Resource,
    Scope, SigningKey, StoreError,
};
use jeton_testkit::{BASIC, FixtureClient, RESOURCE, SeqRandom, block_on, fixture_clients};
use std::sync::Arc;

pub const ISSUER: &str = "https://as.example.com";
pub const AUDIENCE: &str = "https://api.example.com/";

/// The committed PKCS#8 test key for `alg` (tests/data/README.md: test keys only).
pub fn pem(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::Es256 => include_str!("../data/es256-test-key.pem"),
        Algorithm::EdDsa => include_str!("../data/ed25519-test-key.pem"),
        _ => include_str!("../data/rsa2048-test-key.pem"),
    }
}

pub fn key(alg: Algorithm) -> SigningKey {
    SigningKey::from_pkcs8_pem(pem(alg)).expect("test key loads")
}

struct Clients(Vec<ClientRecord>);

#[async_trait::async_trait]
impl ClientStore for Clients {
    async fn client(&self, id: &ClientId) -> Result<Option<Arc<ClientRecord>>, StoreError> {
        Ok(self.0.iter().find(|c| &c.id == id).cloned().map(Arc::new))
    }
}

pub fn issuer_id() -> IssuerId {
    IssuerId::new(ISSUER).expect("issuer")
}

/// A JWT issuer over `keys`, with a deterministic `jti` source and a default audience.
pub fn issuer(keys: KeySet) -> Arc<JwtIssuer> {
    Arc::new(
        JwtIssuer::builder(issuer_id(), keys, Arc::new(SeqRandom::new(1)))
            .build()
            .expect("issuer"),
    )
}

/// An engine over the testkit's fixture clients issuing with `issuer`.
pub fn engine(issuer: Arc<JwtIssuer>) -> Engine {
    engine_with(issuer, [])
}

/// [`engine`] with `extra` clients registered beside the fixture clients.
pub fn engine_with(
    issuer: Arc<JwtIssuer>,
    extra: impl IntoIterator<Item = ClientRecord>,
) -> Engine {
    let clients = fixture_clients().into_iter().chain(extra).collect();
    Engine::builder(Arc::new(Clients(clients)), issuer)
        .default_audience([Resource::new(AUDIENCE).expect("aud")])
        .random(std::sync::Arc::new(jeton::SystemRandom::new()))
        .transport(jeton::Transport::Plaintext)
        .build()
        .expect("engine")
}

/// Asks `engine` for a token as `client` at `now`; returns the `access_token`.
pub fn issue_at(engine: &Engine, client: FixtureClient, body: &str, now: OffsetDateTime) -> String {
    let auth = jeton::encode_basic(client.id, client.secret);
    let req = RawRequest::new("POST", body.as_bytes(), now)
        .content_type(b"application/x-www-form-urlencoded")
        .authorization(auth.as_bytes());
    let outcome = block_on(engine.handle_token_request(&req));
    assert_eq!(outcome.response.status(), 200, "{outcome:?}");
    let v: serde_json::Value = serde_json::from_slice(outcome.response.body()).expect("json");
    v["access_token"].as_str().expect("access_token").to_owned()
}

/// A token for the `read` scope from the `BASIC` fixture client, at `now`.
pub fn issue(engine: &Engine, now: OffsetDateTime) -> String {
    issue_at(
        engine,
        BASIC,
        "grant_type=client_credentials&scope=read",
        now,
    )
}

/// A token whose audience comes from the client's own default (`RESOURCE`).
pub fn issue_resource(engine: &Engine, now: OffsetDateTime) -> String {
    issue_at(engine, RESOURCE, "grant_type=client_credentials", now)
}

pub fn validator(keys: Jwks) -> BearerValidator {
    BearerValidator::builder(ISSUER, AUDIENCE, keys)
        .build()
        .expect("validator")
}

/// Validates `Authorization: Bearer <token>` at `now`, requiring `scope` (space-separated, or
/// empty for none).
pub fn check(
    v: &BearerValidator,
    token: &str,
    now: OffsetDateTime,
    scope: &str,
) -> Result<AccessTokenClaims, BearerError> {
    let header = format!("Bearer {token}");
    let mut h = HeaderValues::default();
    h.push(header.as_bytes());
    let required = if scope.is_empty() {
        Scope::default()
    } else {
        Scope::parse(scope).expect("scope")
    };
    jeton_testkit::block_on(v.validate(&h, now, &required))
}

/// The current time, whole seconds, for tests that a verifier reading the clock checks.
pub fn wall_clock() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now - Duration::nanoseconds(i64::from(now.nanosecond()))
}

/// Revoked `jti`s, for the revocation tests.
#[derive(Default)]
pub struct Revoked(pub std::sync::Mutex<Vec<String>>);

#[async_trait::async_trait]
impl jeton::RevocationList for Revoked {
    async fn revoke_jti(
        &self,
        jti: &str,
        _expires_at: OffsetDateTime,
        _now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.0.lock().unwrap().push(jti.to_owned());
        Ok(())
    }
    async fn is_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        Ok(self.0.lock().unwrap().iter().any(|j| j == jti))
    }
}

/// `alg` as `jsonwebtoken` names it.
pub fn jsonwebtoken_alg(alg: Algorithm) -> jsonwebtoken::Algorithm {
    match alg {
        Algorithm::Es256 => jsonwebtoken::Algorithm::ES256,
        Algorithm::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        Algorithm::Ps256 => jsonwebtoken::Algorithm::PS256,
        _ => jsonwebtoken::Algorithm::RS256,
    }
}

/// The committed test key of `alg`'s type as `jsonwebtoken` signs with it (tokens, assertions
/// and proofs made by an implementation that is not jeton); RS256 and PS256 share the RSA key.
pub fn encoding_key(alg: Algorithm) -> jsonwebtoken::EncodingKey {
    let pem = pem(alg).as_bytes();
    match alg {
        Algorithm::Es256 => jsonwebtoken::EncodingKey::from_ec_pem(pem),
        Algorithm::EdDsa => jsonwebtoken::EncodingKey::from_ed_pem(pem),
        _ => jsonwebtoken::EncodingKey::from_rsa_pem(pem),
    }
    .expect("jsonwebtoken loads the test key")
}

/// The public JWK of `alg`'s committed test key, as a proof header carries it.
pub fn public_jwk_of(alg: Algorithm) -> serde_json::Value {
    let mut jwk = key(alg).verifying_key().to_jwk();
    let m = jwk.as_object_mut().expect("object");
    m.remove("alg");
    m.remove("kid");
    jwk
}

/// The RFC 7638 thumbprint of the ES256 proof key, as jeton computes it for a `cnf.jkt`.
pub fn thumbprint() -> String {
    key(Algorithm::Es256).verifying_key().thumbprint()
}

/// A DPoP proof by `jsonwebtoken` with these claims, signed with the ES256 test key.
pub fn proof_with(claims: &serde_json::Value) -> String {
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    h.typ = Some("dpop+jwt".into());
    h.jwk = Some(
        serde_json::from_value(public_jwk_of(Algorithm::Es256)).expect("jsonwebtoken reads it"),
    );
    jsonwebtoken::encode(&h, claims, &encoding_key(Algorithm::Es256)).expect("signs")
}

/// An engine issuing JWTs for [`AUDIENCE`], with DPoP on (a memory replay store).
pub fn dpop_jwt_engine() -> Engine {
    let keys = KeySet::new(key(Algorithm::Es256));
    let issuer = Arc::new(
        JwtIssuer::builder(issuer_id(), keys, Arc::new(SeqRandom::new(1)))
            .build()
            .expect("issuer"),
    );
    Engine::builder(
        Arc::new(jeton_testkit::jeton_memory::MemoryClientStore::with_clients(fixture_clients())),
        issuer,
    )
    .default_audience([Resource::new(AUDIENCE).unwrap()])
    .random(Arc::new(jeton::SystemRandom::new()))
    .transport(jeton::Transport::Plaintext)
    .issuer(issuer_id())
    .replay_store(Arc::new(
        jeton_testkit::jeton_memory::MemoryReplayStore::with_capacity(64),
    ))
    .build()
    .expect("engine")
}

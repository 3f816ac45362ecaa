//! Test support for jeton: fixtures, deterministic doubles, proptest strategies and the raw-HTTP
//! conformance table every adapter runs. Not published.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use jeton_memory;

pub mod conformance;
pub mod fuzzing;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "http")]
pub mod resource;
pub mod resource_check;
#[cfg(feature = "http")]
mod resource_dpop;
#[cfg(feature = "store")]
pub mod store_conformance;
pub mod strategies;

use jeton::time::{Duration, OffsetDateTime};
use jeton::{
    AccessToken, AuthMethod, ClientId, ClientRecord, ClientStore, DefaultScope, Engine,
    EngineBuilder, Grant, IssueError, OpaqueIssuer, Outcome, RandomError, RandomSource, RawRequest,
    Resource, Scope, SecretVerifier, StoreError, TokenIssuer,
};
use jeton_memory::{MemoryClientStore, MemoryTokenStore};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

/// Runs a future to completion on the current thread (no runtime needed: the core and the
/// memory stores never wait on I/O).
pub fn block_on<F: Future>(f: F) -> F::Output {
    struct ThreadWaker(Thread);
    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// A deterministic "random" source: a counter run through SHA-256-free mixing (splitmix64).
/// Same seed, same bytes. Never use outside tests.
#[derive(Debug)]
pub struct SeqRandom(AtomicU64);

impl SeqRandom {
    /// A source starting at `seed`.
    pub fn new(seed: u64) -> Self {
        Self(AtomicU64::new(seed))
    }
}

impl RandomSource for SeqRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
        for chunk in dest.chunks_mut(8) {
            let mut z = self
                .0
                .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
                .wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

/// A fixed "now" for deterministic tests: 2026-01-01T00:00:00Z.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).expect("valid timestamp")
}

/// The RFC 6749 Appendix B test vector's client id.
pub const VECTOR_ID: &str = "1PpG/Q 1";
/// The RFC 6749 Appendix B test vector's secret.
pub const VECTOR_SECRET: &str = "z/tZ9VwFZqApmIQ+ZH1I5pLk/uB4ud:X2/8bL+wfFTt1rFw=";
/// The `Authorization` value for the vector.
pub const VECTOR_HEADER: &str = "Basic MVBwRyUyRlErMTp6JTJGdFo5VndGWnFBcG1JUSUyQlpIMUk1cExrJTJGdUI0dWQlM0FYMiUyRjhiTCUyQndmRlR0MXJGdyUzRA==";

/// A registered fixture client and its plaintext secret.
#[derive(Debug, Clone, Copy)]
pub struct FixtureClient {
    /// Client id.
    pub id: &'static str,
    /// Plaintext secret (tests only).
    pub secret: &'static str,
}

/// `client_secret_basic` only; scopes `read write`; scope required.
pub const BASIC: FixtureClient = FixtureClient {
    id: "basic-client",
    secret: "basic-secret-0123456789",
};
/// Basic and `client_secret_post`; scopes `read write`; default scope `read`.
pub const POST: FixtureClient = FixtureClient {
    id: "post-client",
    secret: "post-secret-0123456789",
};
/// Scopes `read write admin`; an omitted scope grants all of them.
pub const ALL: FixtureClient = FixtureClient {
    id: "all-client",
    secret: "all-secret-0123456789",
};
/// Disabled.
pub const DISABLED: FixtureClient = FixtureClient {
    id: "disabled-client",
    secret: "disabled-secret-0123",
};
/// Two secrets: `OLD` expired an hour before [`now`], the other active.
pub const ROTATING: FixtureClient = FixtureClient {
    id: "rotating-client",
    secret: "rotating-new-secret-01",
};
/// The expired secret of [`ROTATING`].
pub const ROTATING_OLD_SECRET: &str = "rotating-old-secret-01";
/// No secret at all (a public client).
pub const PUBLIC: FixtureClient = FixtureClient {
    id: "public-client",
    secret: "anything-at-all",
};
/// Registered with grant types that exclude `client_credentials`.
pub const NO_CC: FixtureClient = FixtureClient {
    id: "no-cc-client",
    secret: "no-cc-secret-012345",
};
/// Allowed resources `https://api.example.com/` and `https://other.example.com/`; default
/// audience `https://api.example.com/`; scope `read`, default all.
pub const RESOURCE: FixtureClient = FixtureClient {
    id: "resource-client",
    secret: "resource-secret-0123",
};
/// PBKDF2 (1 000 iterations), for the hash-upgrade test.
pub const PBKDF2: FixtureClient = FixtureClient {
    id: "pbkdf2-client",
    secret: "correct horse battery",
};
/// The RFC 6749 vector client, basic auth, scope `read`, default all.
pub const VECTOR: FixtureClient = FixtureClient {
    id: VECTOR_ID,
    secret: VECTOR_SECRET,
};
/// May introspect; scope `read`, default all.
pub const INTROSPECTOR: FixtureClient = FixtureClient {
    id: "introspector",
    secret: "introspector-secret-01",
};

fn scope(s: &str) -> Scope {
    Scope::parse(s).expect("fixture scope")
}

fn id(s: &str) -> ClientId {
    ClientId::new(s).expect("fixture id")
}

fn hmac(secret: &str, rng: &SeqRandom) -> SecretVerifier {
    SecretVerifier::hmac_sha256(secret, rng).expect("seq random never fails")
}

/// The fixture clients above, with verifiers made from a deterministic RNG.
pub fn fixture_clients() -> Vec<ClientRecord> {
    let rng = SeqRandom::new(7);
    let api = Resource::new("https://api.example.com/").expect("fixture resource");
    let other = Resource::new("https://other.example.com/").expect("fixture resource");
    vec![
        ClientRecord::builder(id(BASIC.id))
            .secret(hmac(BASIC.secret, &rng))
            .scopes(scope("read write"))
            .build(),
        ClientRecord::builder(id(POST.id))
            .secret(hmac(POST.secret, &rng))
            .auth_methods([AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost])
            .scopes(scope("read write"))
            .default_scope(DefaultScope::Fixed(scope("read")))
            .build(),
        ClientRecord::builder(id(ALL.id))
            .secret(hmac(ALL.secret, &rng))
            .scopes(scope("read write admin"))
            .default_scope(DefaultScope::AllAllowed)
            .token_lifetime(Duration::minutes(5))
            .build(),
        ClientRecord::builder(id(DISABLED.id))
            .secret(hmac(DISABLED.secret, &rng))
            .scopes(scope("read"))
            .enabled(false)
            .build(),
        ClientRecord::builder(id(ROTATING.id))
            .secret_expiring(hmac(ROTATING_OLD_SECRET, &rng), now() - Duration::hours(1))
            .secret(hmac(ROTATING.secret, &rng))
            .scopes(scope("read"))
            .default_scope(DefaultScope::AllAllowed)
            .build(),
        ClientRecord::builder(id(PUBLIC.id))
            .auth_methods([AuthMethod::None])
            .scopes(scope("read"))
            .default_scope(DefaultScope::AllAllowed)
            .build(),
        ClientRecord::builder(id(NO_CC.id))
            .secret(hmac(NO_CC.secret, &rng))
            .grant_types([])
            .scopes(scope("read"))
            .default_scope(DefaultScope::AllAllowed)
            .build(),
        ClientRecord::builder(id(RESOURCE.id))
            .secret(hmac(RESOURCE.secret, &rng))
            .scopes(scope("read"))
            .default_scope(DefaultScope::AllAllowed)
            .allowed_resources([api.clone(), other])
            .default_audience([api])
            .build(),
        ClientRecord::builder(id(PBKDF2.id))
            .secret(
                SecretVerifier::pbkdf2_sha256(
                    PBKDF2.secret,
                    std::num::NonZeroU32::new(1_000).expect("nonzero"),
                    &rng,
                )
                .expect("seq random never fails"),
            )
            .scopes(scope("read"))
            .default_scope(DefaultScope::AllAllowed)
            .build(),
        ClientRecord::builder(id(VECTOR.id))
            .secret(hmac(VECTOR.secret, &rng))
            .scopes(scope("read"))
            .default_scope(DefaultScope::AllAllowed)
            .build(),
        ClientRecord::builder(id(INTROSPECTOR.id))
            .secret(hmac(INTROSPECTOR.secret, &rng))
            .scopes(scope("read"))
            .default_scope(DefaultScope::AllAllowed)
            .may_introspect(true)
            .build(),
    ]
}

/// The engine's form endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// RFC 6749 token endpoint.
    Token,
    /// RFC 7662 introspection endpoint.
    Introspection,
    /// RFC 7009 revocation endpoint.
    Revocation,
}

impl Endpoint {
    /// The engine's route of this endpoint.
    pub fn route(self) -> jeton::RouteKind {
        match self {
            Self::Token => jeton::RouteKind::Token,
            Self::Introspection => jeton::RouteKind::Introspection,
            Self::Revocation => jeton::RouteKind::Revocation,
        }
    }
}

/// The proxy of [`FORWARDED_PROTO_CASES`].
pub const TRUSTED_PROXY: [u8; 4] = [10, 0, 0, 5];

/// RFC 9700 §4.13 for `Transport::BehindProxy { trusted: [TRUSTED_PROXY] }`: peer address,
/// the `X-Forwarded-Proto` values sent (one header line each), and whether the request is
/// secure. The core's `Transport` tests run it, and each adapter's through its header handling
/// (`http::forwarded_proto_decides_as_the_core`, feature `http`).
pub const FORWARDED_PROTO_CASES: &[(&str, &[&str], bool)] = &[
    ("10.0.0.5:4000", &["https"], true),
    ("10.0.0.5:4000", &[" HTTPS "], true),
    ("[::ffff:10.0.0.5]:4000", &["https"], true),
    ("10.0.0.6:4000", &["https"], false),
    ("10.0.0.5:4000", &[], false),
    ("10.0.0.5:4000", &["http"], false),
    ("10.0.0.5:4000", &["https", "https"], false),
    ("10.0.0.5:4000", &["http, https"], false),
];

/// The issuer identifier the fixture engine is configured with.
pub const ISSUER: &str = "https://as.example.com";

/// An engine over memory stores holding [`fixture_clients`], issuing opaque tokens from a
/// deterministic RNG.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The client store.
    pub clients: Arc<MemoryClientStore>,
    /// The token store.
    pub tokens: Arc<MemoryTokenStore>,
    /// The engine.
    pub engine: Arc<Engine>,
}

impl Fixture {
    /// The default fixture: TLS not required (tests mark requests as they like).
    pub fn new() -> Self {
        Self::with(|b| b.transport(jeton::Transport::Plaintext))
    }

    /// A fixture whose engine builder is adjusted by `f`.
    pub fn with(f: impl FnOnce(EngineBuilder) -> EngineBuilder) -> Self {
        Self::seeded(42, f)
    }

    /// Like [`Fixture::with`], with the issuer's RNG seeded with `seed`.
    pub fn seeded(seed: u64, f: impl FnOnce(EngineBuilder) -> EngineBuilder) -> Self {
        let clients = Arc::new(MemoryClientStore::with_clients(fixture_clients()));
        let tokens = Arc::new(MemoryTokenStore::new());
        let issuer = Arc::new(OpaqueIssuer::new(
            tokens.clone(),
            Arc::new(SeqRandom::new(seed)),
        ));
        let builder = Engine::builder(clients.clone(), issuer)
            .random(std::sync::Arc::new(jeton::SystemRandom::new()))
            // Conformance cases send many failures from one address at one instant; the
            // limiter has its own tests.
            .limiter(std::sync::Arc::new(jeton::NoLimiter))
            .issuer(jeton::IssuerId::new(ISSUER).expect("fixture issuer"));
        let engine = f(builder).build().expect("fixture engine");
        Self {
            clients,
            tokens,
            engine: Arc::new(engine),
        }
    }

    /// Sends a form POST with an optional `Authorization` value, at [`now`].
    pub fn token(&self, body: &str, authorization: Option<&str>) -> Outcome {
        self.call(Endpoint::Token, body, authorization)
    }

    /// Two client credentials token requests, as adapters' response-conversion tests want
    /// them: one the engine issues (`200`, with the RFC 6749 §5.1 body) and one it refuses for
    /// want of credentials (`401`, with a `WWW-Authenticate` value it builds). Checks both
    /// statuses, so a test using them starts from the two shapes it means to cover.
    pub fn issued_and_refused(&self) -> [Outcome; 2] {
        let issued = self.token("grant_type=client_credentials", Some(VECTOR_HEADER));
        let refused = self.token("grant_type=client_credentials", None);
        assert_eq!(issued.response.status(), 200, "issued");
        assert_eq!(refused.response.status(), 401, "refused");
        assert!(issued.response.header("www-authenticate").is_none());
        assert!(refused.response.header("www-authenticate").is_some());
        [issued, refused]
    }

    /// Sends a form POST to `endpoint` with an optional `Authorization` value, at [`now`].
    pub fn call(&self, endpoint: Endpoint, body: &str, authorization: Option<&str>) -> Outcome {
        let mut req = RawRequest::new("POST", body.as_bytes(), now())
            .content_type(b"application/x-www-form-urlencoded");
        if let Some(a) = authorization {
            req = req.authorization(a.as_bytes());
        }
        match endpoint {
            Endpoint::Token => block_on(self.engine.handle_token_request(&req)),
            Endpoint::Introspection => block_on(self.engine.handle_introspection_request(&req)),
            Endpoint::Revocation => block_on(self.engine.handle_revocation_request(&req)),
        }
    }

    /// Gets a token for `client` (Basic) with the given extra form parameters; panics unless
    /// issued.
    pub fn issue(&self, client: FixtureClient, extra: &str) -> String {
        let o = self.token_basic(client, &format!("grant_type=client_credentials{extra}"));
        assert_eq!(
            o.response.status(),
            200,
            "{}",
            String::from_utf8_lossy(o.response.body())
        );
        json(&o)["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// Sends a form POST authenticated with Basic as `client`.
    pub fn token_basic(&self, client: FixtureClient, body: &str) -> Outcome {
        let auth = jeton::encode_basic(client.id, client.secret);
        self.token(body, Some(&auth))
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

/// The id of the private_key_jwt client of [`Fixture::keyed`] (EdDSA, audience-only tokens).
pub const KEY_CLIENT: &str = "key-client";

/// The `client_assertion_type` of RFC 7523 §2.2, form-encoded.
pub const JWT_BEARER_FORM: &str =
    "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer";

/// The private key of [`KEY_CLIENT`]: generated once per test process (Ed25519).
pub fn key_client_key() -> &'static jeton::SigningKey {
    static KEY: std::sync::OnceLock<jeton::SigningKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        jeton::SigningKey::generate(jeton::Algorithm::EdDsa).expect("Ed25519 key generation")
    })
}

/// The client record of [`KEY_CLIENT`]: `private_key_jwt` only, keys = [`key_client_key`].
pub fn key_client_record() -> ClientRecord {
    let alg = jeton::Algorithm::EdDsa;
    ClientRecord::builder(id(KEY_CLIENT))
        .auth_methods([AuthMethod::PrivateKeyJwt])
        .keys(
            jeton::ClientKeys::new(alg, [key_client_key().verifying_key().clone()])
                .expect("fixture keys"),
        )
        .default_scope(DefaultScope::Empty)
        .build()
}

/// A client assertion (RFC 7523 §3) by [`KEY_CLIENT`] for `aud`, with `jti`, issued at `iat`
/// (Unix seconds) and valid for 60 seconds.
pub fn client_assertion(aud: &str, jti: &str, iat: i64) -> String {
    let claims = serde_json::json!({
        "iss": KEY_CLIENT, "sub": KEY_CLIENT, "aud": aud,
        "iat": iat, "exp": iat + 60, "jti": jti,
    });
    jeton::sign_jwt(key_client_key(), "client-authentication+jwt", &claims).expect("signs")
}

/// A DPoP proof (RFC 9449 §4.2) for `htm` `htu` with `jti`, made at `iat` (Unix seconds) with
/// [`key_client_key`] (its public JWK in the header).
pub fn dpop_proof(htm: &str, htu: &str, jti: &str, iat: i64) -> String {
    sign_dpop_proof(&serde_json::json!({ "jti": jti, "htm": htm, "htu": htu, "iat": iat }))
}

/// [`dpop_proof`] carrying the server nonce `nonce` (RFC 9449 §8).
pub fn dpop_proof_with_nonce(htm: &str, htu: &str, jti: &str, iat: i64, nonce: &str) -> String {
    sign_dpop_proof(&serde_json::json!({
        "jti": jti, "htm": htm, "htu": htu, "iat": iat, "nonce": nonce,
    }))
}

/// A DPoP proof for a resource request (RFC 9449 §7.1): [`dpop_proof`] with `ath`, the hash
/// of the access token `token` it is sent with.
pub fn dpop_proof_for_token(htm: &str, htu: &str, jti: &str, iat: i64, token: &str) -> String {
    sign_dpop_proof(&serde_json::json!({
        "jti": jti, "htm": htm, "htu": htu, "iat": iat, "ath": jeton::access_token_hash(token),
    }))
}

fn sign_dpop_proof(claims: &serde_json::Value) -> String {
    let key = key_client_key();
    let header = serde_json::json!({
        "typ": "dpop+jwt", "alg": key.algorithm().as_str(), "jwk": key.verifying_key().to_jwk(),
    });
    jeton::internal::sign_compact(
        key,
        &serde_json::to_vec(&header).expect("JSON"),
        &serde_json::to_vec(claims).expect("JSON"),
    )
    .expect("signs")
}

/// The token request body (form-encoded) of a client assertion.
pub fn assertion_form(assertion: &str) -> String {
    format!(
        "grant_type=client_credentials&client_assertion_type={JWT_BEARER_FORM}&client_assertion={assertion}"
    )
}

impl Fixture {
    /// [`Fixture::new`] plus a bounded replay store and [`KEY_CLIENT`] (private_key_jwt), with
    /// the legacy token-endpoint audience off. The key table
    /// ([`conformance::key_cases`]) runs against it.
    pub fn keyed() -> Self {
        let fx = Self::with(|b| {
            b.transport(jeton::Transport::Plaintext)
                .replay_store(Arc::new(jeton_memory::MemoryReplayStore::with_capacity(
                    1024,
                )))
        });
        fx.clients.put(key_client_record());
        fx
    }
}

/// The key of the server nonces of [`Fixture::keyed_with_nonces`].
pub const DPOP_NONCE_KEY: [u8; 32] = [0x5a; 32];

impl Fixture {
    /// [`Fixture::keyed`] whose token endpoint requires DPoP server nonces (RFC 9449 §8):
    /// [`jeton::HmacDpopNonces`] keyed with [`DPOP_NONCE_KEY`], changing every 5 minutes.
    pub fn keyed_with_nonces() -> Self {
        let nonces = jeton::HmacDpopNonces::new(&DPOP_NONCE_KEY, Duration::minutes(5));
        let fx = Self::with(|b| {
            b.transport(jeton::Transport::Plaintext)
                .replay_store(Arc::new(jeton_memory::MemoryReplayStore::with_capacity(
                    1024,
                )))
                .dpop_nonces(Arc::new(nonces))
        });
        fx.clients.put(key_client_record());
        fx
    }
}

/// The parsed JSON body of an outcome.
pub fn json(outcome: &Outcome) -> serde_json::Value {
    serde_json::from_slice(outcome.response.body()).expect("JSON body")
}

/// The `error` member of an outcome's body, if any.
pub fn error_code(outcome: &Outcome) -> Option<String> {
    json(outcome)
        .get("error")
        .and_then(|e| e.as_str())
        .map(str::to_owned)
}

/// A client store whose every call fails, with a cause that must never reach a response body.
#[derive(Debug, Default)]
pub struct FailingClientStore;

/// The text inside [`FailingClientStore`] and [`FailingIssuer`] errors.
pub const INTERNAL_DETAIL: &str =
    "connection to db-primary.internal:5432 refused (password=hunter2)";

#[async_trait::async_trait]
impl ClientStore for FailingClientStore {
    async fn client(
        &self,
        _: &ClientId,
    ) -> Result<Option<std::sync::Arc<ClientRecord>>, StoreError> {
        Err(StoreError::new(std::io::Error::other(INTERNAL_DETAIL)))
    }
}

/// An issuer whose every call fails.
#[derive(Debug, Default)]
pub struct FailingIssuer;

#[async_trait::async_trait]
impl TokenIssuer for FailingIssuer {
    async fn issue(&self, _: &Grant) -> Result<AccessToken, IssueError> {
        Err(IssueError::new(std::io::Error::other(INTERNAL_DETAIL)))
    }
}

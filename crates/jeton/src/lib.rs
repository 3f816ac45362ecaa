//! # jeton — an embeddable OAuth 2.0 client-credentials authorization engine
//!
//! `jeton` is the no-I/O core: it turns a raw token request (method, `Content-Type`,
//! `Authorization`, body, and the current time) into a response, following RFC 6749 §4.4 to
//! the letter. It has no HTTP crate and no async runtime, and it never reads a clock, an RNG or a
//! socket of its own: time is an argument, randomness is injected, and storage sits behind the
//! [`ClientStore`] and [`TokenStore`] traits (all in one module of storage contracts). Adapters (`jeton-hyper`, ...) bind it to a
//! framework.
//!
//! What it never does: log or echo a secret or token, store a secret in plaintext, tell an
//! unauthenticated caller why authentication failed, panic on input, or put internal detail in
//! an error body.
//!
//! ```
//! use jeton::{ClientId, ClientRecord, Engine, OpaqueIssuer, RawRequest, Scope, SecretVerifier,
//!             SystemRandom, ClientStore, TokenStore, TokenClaims, TokenRecord, TokenDigest,
//!             StoreError, encode_basic};
//! use std::sync::{Arc, Mutex};
//!
//! // A toy store; use jeton-memory in real code.
//! struct Clients(Arc<ClientRecord>);
//! #[async_trait::async_trait]
//! impl ClientStore for Clients {
//!     async fn client(&self, id: &ClientId) -> Result<Option<Arc<ClientRecord>>, StoreError> {
//!         Ok((id == &self.0.id).then(|| self.0.clone()))
//!     }
//! }
//! #[derive(Default)]
//! struct Tokens(Mutex<Vec<TokenRecord>>);
//! #[async_trait::async_trait]
//! impl TokenStore for Tokens {
//!     async fn insert(&self, d: &TokenDigest, c: &TokenClaims) -> Result<(), StoreError> {
//!         self.0.lock().unwrap().push(TokenRecord::new(*d, c.clone()));
//!         Ok(())
//!     }
//!     async fn get(&self, d: &TokenDigest) -> Result<Option<TokenRecord>, StoreError> {
//!         Ok(self.0.lock().unwrap().iter().find(|r| &r.digest == d).cloned())
//!     }
//!     async fn revoke(&self, d: &TokenDigest) -> Result<bool, StoreError> {
//!         let mut v = self.0.lock().unwrap();
//!         let n = v.len();
//!         v.retain(|r| &r.digest != d);
//!         Ok(v.len() != n)
//!     }
//! }
//!
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let mut f = std::pin::pin!(f);
//! #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//! let rng = Arc::new(SystemRandom::new());
//! let verifier = SecretVerifier::hmac_sha256("s3cret-s3cret", &*rng).unwrap();
//! let client = ClientRecord::builder(ClientId::new("billing").unwrap())
//!     .secret(verifier)
//!     .scopes(Scope::parse("invoices:read").unwrap())
//!     .build();
//! let engine = Engine::builder(
//!     Arc::new(Clients(Arc::new(client))),
//!     Arc::new(OpaqueIssuer::new(Arc::new(Tokens::default()), rng)),
//! ).random(std::sync::Arc::new(jeton::SystemRandom::new()))
//! .build()
//! .unwrap();
//!
//! let auth = encode_basic("billing", "s3cret-s3cret");
//! let req = RawRequest::new(
//!     "POST",
//!     b"grant_type=client_credentials&scope=invoices%3Aread",
//!     time::OffsetDateTime::UNIX_EPOCH,
//! )
//! .content_type(b"application/x-www-form-urlencoded")
//! .authorization(auth.as_bytes())
//! .secure(true);
//! let outcome = block_on(engine.handle_token_request(&req));
//! assert_eq!(outcome.response.status(), 200);
//! assert_eq!(outcome.response.header("cache-control"), Some("no-store"));
//! ```
//!
//! ## One request through the engine
//!
//! method, transport, `Content-Type`, size and query checks → form parse (Appendix B, repeats
//! refused) → `grant_type`, `scope`, `resource` syntax → one client authentication method
//! (Basic, form-decoded; or body, if the client allows it) → [`ClientStore::client`] →
//! verification, a pure function of the credentials and the record (a decoy for unknown
//! clients) → policy → [`TokenIssuer::issue`] → a JSON response with `no-store`, and an
//! [`AuditEvent`]. The code is in three folders: `server/` (the endpoints), `tokens/` (token
//! formats and keys) and `resource/` (the resource server's checks), over a shared model; see
//! `ARCHITECTURE.md` in the repository.
//!
//! Errors map through one table, [`ErrorCode`]. `server_error` with status 500 is not in
//! RFC 6749 §5.2; jeton uses it for infrastructure failure, with no detail in the body.
//!
//! ## For adapter authors
//!
//! An adapter translates and decides nothing: every rule that is not about its framework's
//! types lives here, once, so the adapters cannot drift apart.
//!
//! - Routing: [`Engine::route`] finds what answers a path ([`Engine::routes`] is the table);
//!   a [`RouteKind`] that [`is_form`](RouteKind::is_form) is answered by [`Engine::handle`],
//!   the others by [`Engine::answer_document`] (the document, `HEAD`, `405`), and an unrouted
//!   path by [`Response::not_found`].
//! - TLS: the engine's [`Transport`] decides, from what the adapter puts on the request:
//!   [`RawRequest::peer`] and every [`RawRequest::forwarded_proto`] value.
//! - Logs: each form request returns an [`Outcome`]: the response to send, the
//!   [`AuditEvent`] (its [`fields`](AuditEvent::fields) are the structured log fields, its
//!   [`severity`](AuditEvent::severity) the level, [`RouteKind::name`] the `endpoint`), and a
//!   diagnostic for the application's logs.
//! - Resource servers: [`Engine::validator`] (or [`BearerValidator::builder`] for a remote
//!   issuer) makes the validator, [`RequireScope`] pairs it with the scope a group of routes
//!   requires, [`RequireScope::check`] is the one async check for JWTs and opaque tokens, and
//!   [`BearerError::response`] is the whole RFC 6750 answer.
//!
//! The shared pieces of adapters on `http` 1.x (body reading, the request from `http` parts,
//! response conversion, outcome logging) are in the `jeton-http` crate.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

// The shared model: protocol words, clients, secrets, the request and response, the error table,
// audit events, the transport rule and the storage contracts. It imports none of the three parts
// below (`store` names the token record, which lives with the token formats).
mod audit;
mod basic;
mod capacity;
mod client;
mod error;
mod form;
mod issuer_id;
mod random;
mod request;
mod response;
mod secret;
mod store;
mod transport;
mod types;

// The three jobs. `tokens` imports neither `server` nor `resource`; `resource` does not import
// `server`; `server` may use both.
mod resource;
mod server;
mod tokens;

pub use audit::{AssertionFailure, AuditEvent, AuditFields, AuthFailure, Severity};
pub use basic::encode_basic;
pub use capacity::CapacityExceeded;
pub use client::{
    AuthMethod, ClientRecord, ClientRecordBuilder, DefaultScope, GrantType, RegisteredSecret,
};
pub use error::{ConfigError, ErrorCode, IssueError, StoreError};
pub use issuer_id::IssuerId;
pub use random::{BatchedRandom, RandomError, RandomSource, SystemRandom};
pub use request::{HeaderValues, RawRequest};
pub use resource::{
    BearerConfigError, BearerError, BearerFailure, BearerValidator, BearerValidatorBuilder,
    DEFAULT_LEEWAY, DEFAULT_REALM, Introspector, MAX_LEEWAY, RequestParts, RequireScope,
    StoreIntrospector,
};
pub use response::{Diagnostic, Header, Outcome, Response};
pub use secret::{
    DecoyKind, PBKDF2_DEFAULT_ITERATIONS, PBKDF2_MIN_ITERATIONS, SECRET_PREFIX, SecretVerifier,
    TOKEN_PREFIX, VerifierParseError, generate_secret, is_generated_secret,
};
pub use server::{
    AuthLimiter, BoundedLimiter, Budget, CostProfile, Endpoints, Engine, EngineBuilder, Inline,
    LimiterConfig, NoLimiter, Overloaded, RetryAfter, Route, RouteKind, TOKEN_ROUTE_BODY_BYTES,
    VerifyExecutor, VerifyJob,
};
pub use store::{
    ClientKeysResolver, ClientRegistry, ClientStore, MAX_LIST_CLIENTS, ReplayKey, ReplayStore,
    RevocationList, SecretId, TokenStore,
};
pub use tokens::{
    AT_JWT_TYPE, AccessToken, AccessTokenClaims, Algorithm, ClientKeys, Confirmation, CustomClaims,
    DEFAULT_MAX_TOKEN_BYTES, Grant, Jwks, JwtConfigError, JwtIssuer, JwtIssuerBuilder, KeyError,
    KeySet, LiveKeys, LocalValidation, OpaqueIssuer, REGISTERED_CLAIMS, SignError, SigningKey,
    TokenClaims, TokenDigest, TokenFormat, TokenHandle, TokenInfo, TokenIssuer, TokenRecord,
    TokenType, UnknownAlgorithm, UnknownTokenFormat, VerifyingKey, sign_jwt,
};
pub use tokens::{
    DEFAULT_DPOP_IAT_WINDOW, DPOP_JWT_TYPE, DpopCheck, DpopFailure, DpopNonces, DpopProof,
    HmacDpopNonces, MAX_DPOP_PROOF_BYTES, access_token_hash, verify_dpop_proof,
};
pub use transport::Transport;
pub use types::{ClientId, ClientSecret, InvalidValue, Resource, Scope, ScopeToken};

/// Re-exported so adapters and users name one `time`.
pub use time;

/// Parsers and constructors that fuzz targets, benchmarks, the test kit and the standalone
/// server reach into. Not part of the stable API: no semver promise, may change in any release.
#[doc(hidden)]
pub mod internal {
    /// The `application/x-www-form-urlencoded` parser (RFC 6749 Appendix B).
    pub mod form {
        pub use crate::form::*;
    }
    /// The `Authorization: Basic` parser (RFC 7617, RFC 6749 §2.3.1).
    pub mod basic {
        pub use crate::basic::*;
    }
    /// private_key_jwt client assertions (RFC 7523), until the engine's token endpoint uses
    /// them.
    pub mod assertion {
        pub use crate::server::assertion::*;
    }
    pub use crate::server::internal::build_issuer;
    pub use crate::tokens::internal::{opaque_token_digest, sign_compact};
}

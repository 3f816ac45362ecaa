//! The resource-server half: reading a bearer token from a request (RFC 6750) and validating
//! it, whatever its format: a JWT access token offline (RFC 9068 §4), an opaque one through an
//! [`Introspector`].
//!
//! Pure: no clock (`now` is an argument), no network of its own (keys come as a [`Jwks`] the
//! application fetched, or live from the issuer in the same process; header keys such as `jku`
//! are never followed; a remote introspector is the application's I/O), no panics on any input.
//!
//! Every failure is a [`BearerError`] whose [`response`](BearerError::response) the adapter
//! sends as it is (RFC 6750 §3):
//!
//! | failure | status | challenge |
//! |---|---|---|
//! | no `Authorization` header, or another scheme | 401 | `Bearer realm="…"` (no error code, §3.1) |
//! | several `Authorization` headers, malformed `Bearer` credentials | 400 | `error="invalid_request"` |
//! | bad, expired, revoked, foreign or unverifiable token | 401 | `error="invalid_token"` |
//! | valid token without the required scope | 403 | `error="insufficient_scope", scope="…"` |
//! | a `DPoP` token whose proof is missing, bad, replayed or for another request (RFC 9449 §7.1) | 401 | `DPoP realm="…", error="invalid_dpop_proof", …, algs="…"` |
//! | the introspection or revocation back end failed | 500 | none |
//!
//! Tokens are read from the `Authorization` header only (RFC 6750 §2.1). The form-body method
//! (§2.2) is not offered and the URI query method (§2.3, "SHOULD NOT") never will be. The
//! scheme is parsed in one place (`authorization.rs`).
//!
//! This file is the validator and what it holds; reading the `Authorization` header is in
//! `authorization.rs`, the checks a token goes through in `token_checks.rs`, the `DPoP` scheme
//! in `dpop.rs`, building one in `builder.rs`.

use crate::error::StoreError;
use crate::resource::errors::{BearerError, BearerFailure};
use crate::resource::introspect::Introspector;
use crate::store::{ClientStore, ReplayStore, RevocationList};
use crate::tokens::algorithm::Algorithm;
use crate::tokens::key_set::{Jwks, LiveKeys, Swap};
use std::fmt;
use std::sync::Arc;
use time::Duration;

/// Where a validator's verification keys come from.
pub(crate) enum Keys {
    /// A copy: a remote issuer's JWKS, refreshed with [`BearerValidator::replace_keys`].
    Fixed(Swap<Jwks>),
    /// The issuer's own key set in this process, live: a rotation is seen at once.
    Live(LiveKeys),
}

impl Keys {
    fn load(&self) -> Arc<Jwks> {
        match self {
            Self::Fixed(swap) => swap.load(),
            Self::Live(live) => Arc::new(live.jwks()),
        }
    }
}

/// Validates bearer tokens for one resource server: its issuer, its audience, its keys, its
/// revocation list and its introspector.
///
/// Made from the engine it protects ([`Engine::validator`](crate::Engine::validator): live keys,
/// revocations, issuer, audience and realm from its configuration), from a remote issuer's JWKS
/// ([`BearerValidator::builder`]) or introspection endpoint ([`BearerValidator::introspecting`]).
/// Cheap to share behind an `Arc`.
///
/// ```
/// use jeton::{Algorithm, BearerValidator, HeaderValues, KeySet, Scope, SigningKey, sign_jwt};
/// use jeton::time::OffsetDateTime;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
///
/// // The authorization server's keys; a resource server would parse its JWKS with
/// // `Jwks::from_json`.
/// let keys = KeySet::new(SigningKey::generate(Algorithm::Es256).unwrap());
/// let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
/// let token = sign_jwt(keys.active(), "at+jwt", &serde_json::json!({
///     "iss": "https://as.example.com", "aud": "https://api.example.com/",
///     "sub": "billing", "client_id": "billing", "jti": "1", "scope": "invoices:read",
///     "iat": now.unix_timestamp(), "exp": now.unix_timestamp() + 300,
/// })).unwrap();
///
/// let validator =
///     BearerValidator::builder("https://as.example.com", "https://api.example.com/", keys.jwks())
///         .realm("invoices")
///         .build()
///         .unwrap();
/// let header = format!("Bearer {token}");
/// let mut authorization = HeaderValues::default();
/// authorization.push(header.as_bytes());
///
/// let read = Scope::parse("invoices:read").unwrap();
/// let claims = block_on(validator.validate(&authorization, now, &read)).unwrap();
/// assert_eq!(claims.client_id, "billing");
///
/// let write = Scope::parse("invoices:write").unwrap();
/// let refused = block_on(validator.validate(&authorization, now, &write)).unwrap_err();
/// assert_eq!(refused.status(), 403);
/// assert_eq!(
///     refused.www_authenticate().unwrap(),
///     "Bearer realm=\"invoices\", error=\"insufficient_scope\", \
///      error_description=\"the access token lacks a required scope\", scope=\"invoices:write\""
/// );
/// ```
pub struct BearerValidator {
    pub(crate) realm: Arc<str>,
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) keys: Option<Keys>,
    pub(crate) revocations: Option<Arc<dyn RevocationList>>,
    pub(crate) introspector: Option<Arc<dyn Introspector>>,
    /// Asked about each valid token's client: a disabled or removed client's tokens are
    /// inactive (issue 9). Set by `Engine::validator`.
    pub(crate) clients: Option<Arc<dyn ClientStore>>,
    pub(crate) leeway: Duration,
    pub(crate) max_token_bytes: usize,
    /// The `alg` values accepted in DPoP proofs (RFC 9449 §7.1 `algs`).
    pub(crate) dpop_algorithms: Arc<[Algorithm]>,
    /// How far a proof's `iat` may be from `now`.
    pub(crate) dpop_iat_window: Duration,
    /// Where DPoP proofs' `jti`s are recorded once (RFC 9449 §11.1), if anywhere.
    pub(crate) replay: Option<Arc<dyn ReplayStore>>,
}

impl fmt::Debug for BearerValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerValidator")
            .field("realm", &self.realm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("algorithms", &self.algorithms)
            .field("keys", &self.keys.as_ref().map(Keys::load))
            .field("live_keys", &matches!(self.keys, Some(Keys::Live(_))))
            .field("revocation_list", &self.revocations.is_some())
            .field("introspector", &self.introspector.is_some())
            .field("clients", &self.clients.is_some())
            .field("leeway", &self.leeway)
            .field("dpop_algorithms", &self.dpop_algorithms)
            .field("replay_store", &self.replay.is_some())
            .finish_non_exhaustive()
    }
}

impl BearerValidator {
    /// The current verification keys (empty for a validator without any).
    pub fn keys(&self) -> Arc<Jwks> {
        self.keys
            .as_ref()
            .map_or_else(|| Arc::new(Jwks::default()), Keys::load)
    }

    /// Swaps in a refreshed key set (after fetching a remote issuer's JWKS again). Returns
    /// `false`, changing nothing, for a validator whose keys are live from an issuer in this
    /// process (rotate through [`JwtIssuer::replace_keys`](crate::JwtIssuer::replace_keys)) or
    /// that has no keys.
    pub fn replace_keys(&self, keys: Jwks) -> bool {
        match &self.keys {
            Some(Keys::Fixed(swap)) => {
                swap.store(keys);
                true
            }
            _ => false,
        }
    }

    /// The realm in challenges.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The issuer identifier tokens must come from.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience tokens must be meant for.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    pub(crate) fn fail(&self, failure: BearerFailure) -> BearerError {
        BearerError {
            failure,
            realm: self.realm.clone(),
            scope: None,
            diagnostic: None,
            dpop_algs: None,
        }
    }

    /// A back end (introspection, revocation list) failed: `500`, its error for the logs.
    pub(crate) fn unavailable(&self, e: StoreError) -> BearerError {
        BearerError {
            diagnostic: Some(e),
            ..self.fail(BearerFailure::Unavailable)
        }
    }
}

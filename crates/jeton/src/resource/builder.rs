//! Building a [`BearerValidator`]: from a remote issuer's JWKS, from an introspector, or from
//! what an issuer in the same process shares ([`LocalValidation`]).

use crate::resource::errors::BearerConfigError;
use crate::resource::introspect::{Introspector, StoreIntrospector};
use crate::resource::validator::{BearerValidator, Keys};
use crate::store::{ClientStore, ReplayStore, RevocationList};
use crate::tokens::LocalValidation;
use crate::tokens::algorithm::Algorithm;
use crate::tokens::dpop::DEFAULT_DPOP_IAT_WINDOW;
use crate::tokens::jwt_verify::DEFAULT_MAX_TOKEN_BYTES;
use crate::tokens::key_set::{Jwks, Swap};
use std::fmt;
use std::sync::Arc;
use time::Duration;

/// The default clock-skew leeway for `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::seconds(30);
/// The largest leeway a validator accepts.
pub const MAX_LEEWAY: Duration = Duration::minutes(5);

/// The default realm of bearer challenges: the same as the engine's default
/// ([`EngineBuilder::realm`](crate::EngineBuilder::realm)), so a token endpoint and the API it
/// protects answer alike.
pub const DEFAULT_REALM: &str = "jeton";

/// Builds a [`BearerValidator`].
pub struct BearerValidatorBuilder {
    realm: String,
    issuer: String,
    audience: String,
    algorithms: Vec<Algorithm>,
    keys: Option<Keys>,
    revocations: Option<Arc<dyn RevocationList>>,
    introspector: Option<Arc<dyn Introspector>>,
    clients: Option<Arc<dyn ClientStore>>,
    leeway: Duration,
    max_token_bytes: usize,
    dpop_algorithms: Vec<Algorithm>,
    dpop_iat_window: Duration,
    replay: Option<Arc<dyn ReplayStore>>,
}

impl fmt::Debug for BearerValidatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerValidatorBuilder")
            .field("realm", &self.realm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("keys", &self.keys.is_some())
            .field("revocation_list", &self.revocations.is_some())
            .field("introspector", &self.introspector.is_some())
            .field("replay_store", &self.replay.is_some())
            .finish_non_exhaustive()
    }
}

impl BearerValidatorBuilder {
    pub(crate) fn new(issuer: String, audience: String, keys: Option<Keys>) -> Self {
        Self {
            realm: DEFAULT_REALM.to_owned(),
            issuer,
            audience,
            algorithms: Algorithm::ALL.to_vec(),
            keys,
            revocations: None,
            introspector: None,
            clients: None,
            leeway: DEFAULT_LEEWAY,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            dpop_algorithms: Algorithm::VERIFY.to_vec(),
            dpop_iat_window: DEFAULT_DPOP_IAT_WINDOW,
            replay: None,
        }
    }

    /// Starts from what an issuer in this process shares ([`LocalValidation`]), for tokens
    /// meant for `audience`: its live keys and revocation list (JWTs), or its token store
    /// (opaque tokens). [`Engine::validator`](crate::Engine::validator) calls this with the
    /// engine's settings.
    pub fn from_local(local: LocalValidation, issuer: &str, audience: &str) -> Self {
        match local {
            LocalValidation::Jwt {
                issuer,
                keys,
                revocations,
            } => {
                let mut b = Self::new(
                    issuer.to_string(),
                    audience.to_owned(),
                    Some(Keys::Live(keys)),
                );
                b.revocations = revocations;
                b
            }
            LocalValidation::Opaque { store } => {
                let mut b = Self::new(issuer.to_owned(), audience.to_owned(), None);
                b.introspector = Some(Arc::new(StoreIntrospector::new(store)));
                b
            }
        }
    }

    /// The realm in challenges. Default [`DEFAULT_REALM`] (or the engine's realm for
    /// [`Engine::validator`](crate::Engine::validator)).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// The audience tokens must be meant for (`aud` must contain it), replacing the one given
    /// or taken from the engine.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// The accepted algorithms. Default all of [`Algorithm::ALL`]: each key is also pinned to
    /// its own algorithm, so the list can only narrow what the key set allows.
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algs.into_iter().collect();
        self
    }

    /// Where revoked JWT ids are kept: a JWT whose `jti` is on it is refused (`invalid_token`).
    /// Set from the issuer by [`Engine::validator`](crate::Engine::validator).
    pub fn revocation_list(mut self, list: Arc<dyn RevocationList>) -> Self {
        self.revocations = Some(list);
        self
    }

    /// Where tokens that are not JWTs (or every token, for a validator without keys) are
    /// looked up: a [`StoreIntrospector`] in process, or a remote RFC 7662 endpoint.
    pub fn introspector(mut self, introspector: Arc<dyn Introspector>) -> Self {
        self.introspector = Some(introspector);
        self
    }

    /// Where each valid token's client is looked up: a token of a disabled or removed client
    /// is refused as inactive (`invalid_token`). Set to the engine's client store by
    /// [`Engine::validator`](crate::Engine::validator).
    pub fn clients(mut self, clients: Arc<dyn ClientStore>) -> Self {
        self.clients = Some(clients);
        self
    }

    /// Clock-skew leeway for `exp`, `nbf` and `iat`. Default [`DEFAULT_LEEWAY`], at most
    /// [`MAX_LEEWAY`].
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The longest token accepted, in bytes. Default [`DEFAULT_MAX_TOKEN_BYTES`].
    pub fn max_token_bytes(mut self, n: usize) -> Self {
        self.max_token_bytes = n;
        self
    }

    /// Records each DPoP proof's `jti` in `store` until it would be stale anyway, so a proof
    /// is accepted once (RFC 9449 §11.1); a replay is `401 invalid_dpop_proof`. Without a
    /// replay store a proof is still checked (signature, `htm`, `htu`, `iat`, `ath`, `cnf.jkt`)
    /// but may be replayed within its `iat` window. [`Engine::validator`](crate::Engine::validator)
    /// sets the engine's.
    pub fn replay_store(mut self, store: Arc<dyn ReplayStore>) -> Self {
        self.replay = Some(store);
        self
    }

    /// The `alg` values accepted in DPoP proofs, and listed in the `DPoP` challenge's `algs`
    /// (default: [`Algorithm::VERIFY`]).
    pub fn dpop_algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.dpop_algorithms = algs.into_iter().collect();
        self
    }

    /// How far a DPoP proof's `iat` may be from `now`, either way (default
    /// [`DEFAULT_DPOP_IAT_WINDOW`](crate::DEFAULT_DPOP_IAT_WINDOW); at most
    /// [`MAX_LEEWAY`]).
    pub fn dpop_iat_window(mut self, window: Duration) -> Self {
        self.dpop_iat_window = window;
        self
    }

    /// Checks the settings and builds the validator: a configuration that cannot work (no
    /// audience, no issuer, neither keys nor an introspector) is an error here, never a
    /// refusal per request.
    pub fn build(self) -> Result<BearerValidator, BearerConfigError> {
        let realm_ok = !self.realm.is_empty()
            && self
                .realm
                .bytes()
                .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\');
        if !realm_ok {
            return Err(BearerConfigError::BadRealm);
        }
        if self.leeway < Duration::ZERO || self.leeway > MAX_LEEWAY {
            return Err(BearerConfigError::BadLeeway);
        }
        if self.dpop_iat_window <= Duration::ZERO || self.dpop_iat_window > MAX_LEEWAY {
            return Err(BearerConfigError::BadLeeway);
        }
        if self.algorithms.is_empty() || self.dpop_algorithms.is_empty() {
            return Err(BearerConfigError::NoAlgorithms);
        }
        if self.audience.is_empty() {
            return Err(BearerConfigError::NoAudience);
        }
        if self.issuer.is_empty() {
            return Err(BearerConfigError::Empty);
        }
        if self.keys.is_none() && self.introspector.is_none() {
            return Err(BearerConfigError::NoTokenSource);
        }
        if self.max_token_bytes < 256 {
            return Err(BearerConfigError::BadTokenLimit);
        }
        Ok(BearerValidator {
            realm: self.realm.into(),
            issuer: self.issuer,
            audience: self.audience,
            algorithms: self.algorithms,
            keys: self.keys,
            revocations: self.revocations,
            introspector: self.introspector,
            clients: self.clients,
            leeway: self.leeway,
            max_token_bytes: self.max_token_bytes,
            dpop_algorithms: self.dpop_algorithms.into(),
            dpop_iat_window: self.dpop_iat_window,
            replay: self.replay,
        })
    }
}

impl BearerValidator {
    /// Starts building a validator for JWTs from `issuer` (compared exactly with `iss`) meant
    /// for `audience` (which `aud` must contain), verified offline with `keys` (a remote
    /// issuer's JWKS; refresh with [`BearerValidator::replace_keys`]). Add an
    /// [`introspector`](BearerValidatorBuilder::introspector) to accept opaque tokens too.
    pub fn builder(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        keys: Jwks,
    ) -> BearerValidatorBuilder {
        BearerValidatorBuilder::new(
            issuer.into(),
            audience.into(),
            Some(Keys::Fixed(Swap::new(keys))),
        )
    }

    /// Starts building a validator that looks every token up through `introspector` (opaque
    /// tokens of a remote authorization server, through its RFC 7662 endpoint), for tokens of
    /// `issuer` meant for `audience`.
    pub fn introspecting(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        introspector: Arc<dyn Introspector>,
    ) -> BearerValidatorBuilder {
        BearerValidatorBuilder::new(issuer.into(), audience.into(), None).introspector(introspector)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6750_3_realm_must_be_quotable() {
        for bad in ["", "a\"b", "a\\b", "caf\u{e9}", "a\nb"] {
            let b =
                BearerValidator::builder("https://as", "https://api", Jwks::default()).realm(bad);
            assert_eq!(
                b.build().unwrap_err(),
                BearerConfigError::BadRealm,
                "{bad:?}"
            );
        }
    }
}

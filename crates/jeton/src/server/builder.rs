//! Building an [`Engine`]: its settings and their checks.

use crate::error::ConfigError;
use crate::form::FormLimits;
use crate::issuer_id::IssuerId;
use crate::random::RandomSource;
use crate::secret::DecoyKind;
use crate::server::authn_key::KeyAuthConfig;
use crate::server::cost::{CostModel, CostProfile};
use crate::server::engine::Engine;
use crate::server::limiter::{AuthLimiter, BoundedLimiter, LimiterConfig};
use crate::server::metadata::Endpoints;
use crate::server::verify::VerifyExecutor;
use crate::store::{ClientKeysResolver, ClientStore, ReplayStore};
use crate::tokens::{LocalValidation, TokenIssuer};
use crate::transport::Transport;
use crate::types::{Resource, Scope};
use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use time::Duration;

pub(crate) struct Config {
    pub(crate) realm: String,
    pub(crate) transport: Transport,
    pub(crate) max_body_bytes: usize,
    pub(crate) form_limits: FormLimits,
    pub(crate) max_resources: usize,
    pub(crate) default_token_lifetime: Duration,
    pub(crate) max_token_lifetime: Duration,
    pub(crate) subject_prefix: String,
    pub(crate) default_audience: Vec<Resource>,
    pub(crate) cost: Arc<CostModel>,
    pub(crate) profiles: Vec<CostProfile>,
    pub(crate) verifications: usize,
    pub(crate) limiter: Option<Arc<dyn AuthLimiter>>,
    pub(crate) limits: LimiterConfig,
    pub(crate) executor: Option<Arc<dyn VerifyExecutor>>,
    pub(crate) pbkdf2_target: Option<NonZeroU32>,
    pub(crate) rng: Option<Arc<dyn RandomSource>>,
    pub(crate) allow_client_secret_post: bool,
    pub(crate) issuer: Option<IssuerId>,
    pub(crate) endpoints: Option<Endpoints>,
    pub(crate) scopes_supported: Option<Scope>,
    pub(crate) keyauth: KeyAuthConfig,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("realm", &self.realm)
            .field("transport", &self.transport)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("default_token_lifetime", &self.default_token_lifetime)
            .field("max_token_lifetime", &self.max_token_lifetime)
            .field("subject_prefix", &self.subject_prefix)
            .field("default_audience", &self.default_audience)
            .field("cost", &self.cost)
            .field("limiter", &self.limiter)
            .field("executor", &self.executor)
            .field("allow_client_secret_post", &self.allow_client_secret_post)
            .field("issuer", &self.issuer)
            .field("endpoints", &self.endpoints)
            .field("keyauth", &self.keyauth)
            .finish_non_exhaustive()
    }
}

/// Builds an [`Engine`].
pub struct EngineBuilder {
    clients: Arc<dyn ClientStore>,
    issuer: Arc<dyn TokenIssuer>,
    config: Config,
}

impl fmt::Debug for EngineBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl EngineBuilder {
    /// The realm in `WWW-Authenticate: Basic realm="…"`. Default `jeton`.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.config.realm = realm.into();
        self
    }

    /// How requests reach the process, which decides whether each one arrived over TLS (RFC
    /// 6749 §2.3.1, §3.2 require it). Default [`Transport::Direct`]: only connections reported
    /// as TLS. [`Transport::Plaintext`] is for loopback development only.
    pub fn transport(mut self, transport: Transport) -> Self {
        self.config.transport = transport;
        self
    }

    /// The largest body accepted. Default 8 KiB. Adapters enforce the same limit while reading.
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.config.max_body_bytes = n;
        self
    }

    /// The most form parameters accepted. Default 64.
    pub fn max_form_pairs(mut self, n: usize) -> Self {
        self.config.form_limits.max_pairs = n;
        self
    }

    /// Token lifetime for clients without their own. Default 15 minutes.
    pub fn default_token_lifetime(mut self, d: Duration) -> Self {
        self.config.default_token_lifetime = d;
        self
    }

    /// The longest lifetime any client gets, whatever its record says. Default 24 hours.
    pub fn max_token_lifetime(mut self, d: Duration) -> Self {
        self.config.max_token_lifetime = d;
        self
    }

    /// A prefix for the `sub` of issued tokens, so client subjects never collide with user
    /// subjects at APIs that also accept user tokens (RFC 9700 §4.15). Default none: `sub` is
    /// the client id (RFC 9068 §2.2).
    pub fn subject_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.subject_prefix = prefix.into();
        self
    }

    /// The audience of tokens for clients that request no resource and have no default audience
    /// of their own. Default empty (no `aud`); never the client id.
    ///
    /// The one audience rule: a token's `aud` is the requested `resource`s (RFC 8707), else the
    /// client's [`default_audience`](crate::ClientRecordBuilder::default_audience), else this.
    /// Required with a JWT issuer ([`ConfigError::NoAudience`]): JWTs must carry `aud`
    /// (RFC 9068 §2.2). It is also the audience a validator made with
    /// [`Engine::validator`](crate::Engine::validator) checks (the first,
    /// if there are several).
    pub fn default_audience(mut self, aud: impl IntoIterator<Item = Resource>) -> Self {
        self.config.default_audience = aud.into_iter().collect();
        self
    }

    /// Declares one cost profile in use, of this kind (kept for compatibility; see
    /// [`cost_profiles`](Self::cost_profiles)). A deployment with PBKDF2 clients passes their
    /// iteration count so that an unknown client costs the same as a known one.
    pub fn decoy(self, kind: DecoyKind) -> Self {
        self.cost_profiles([CostProfile::from(kind)])
    }

    /// Declares the cost profiles of the clients in use (RFC 6749 §10.10): every failed
    /// authentication then costs the same whether the id exists, whatever its verifier kind and
    /// number of secrets. Each request makes one PBKDF2 verification per entry of the client's
    /// profile and pads with HMAC-SHA256 decoys to
    /// [`verifications_per_request`](Self::verifications_per_request); an unknown id imitates one
    /// of the declared profiles, chosen by a keyed hash of the id (the key is drawn from the
    /// builder's [`random`](Self::random) source when there are two profiles or more). Default:
    /// one all-HMAC profile. Declare [`CostProfile::of`] each registered client.
    pub fn cost_profiles(mut self, profiles: impl IntoIterator<Item = CostProfile>) -> Self {
        self.config.profiles.extend(profiles);
        self
    }

    /// How many verifications every authentication makes at least (padding with HMAC decoys).
    /// Default 2 (a client in the middle of a secret rotation); set it to the most secrets any
    /// client has, or a client with more costs more than the rest.
    pub fn verifications_per_request(mut self, n: usize) -> Self {
        self.config.verifications = n.max(1);
        self
    }

    /// The random source for keys the engine needs: the default limiter's slot placement and
    /// the choice of an unknown id's cost profile. The core never reads an RNG itself, so
    /// [`build`](Self::build) refuses a default limiter without one
    /// ([`ConfigError::RandomSourceRequired`]); pass `Arc::new(SystemRandom::new())`.
    pub fn random(mut self, rng: Arc<dyn RandomSource>) -> Self {
        self.config.rng = Some(rng);
        self
    }

    /// The failed-authentication limiter (RFC 6749 §2.3.1: protect against brute force), asked
    /// before any verification work at the token, introspection and revocation endpoints.
    /// Default: a [`BoundedLimiter`] with [`limits`](Self::limits), keyed from
    /// [`random`](Self::random). [`NoLimiter`](crate::NoLimiter) turns limiting off.
    pub fn limiter(mut self, limiter: Arc<dyn AuthLimiter>) -> Self {
        self.config.limiter = Some(limiter);
        self
    }

    /// The budgets of the default [`BoundedLimiter`]. Default [`LimiterConfig::default`]: 20
    /// failures per source address per minute, 5 per (client id, source) per minute.
    pub fn limits(mut self, limits: LimiterConfig) -> Self {
        self.config.limits = limits;
        self
    }

    /// Where slow verification (PBKDF2, its decoys, verifier upgrades) runs. Default: the
    /// executor the adapter puts on each request (jeton-hyper, jeton-axum, jeton-actix and the
    /// server offer a bounded blocking pool), or inline when it offers none. A full executor
    /// answers `503 temporarily_unavailable` with `Retry-After`.
    pub fn verify_executor(mut self, executor: Arc<dyn VerifyExecutor>) -> Self {
        self.config.executor = Some(executor);
        self
    }

    /// Upgrade PBKDF2 verifiers below this iteration count after a successful verification,
    /// using `rng` for the new salt (the re-hash runs on the verification executor). Off by
    /// default. `rng` also becomes the builder's [`random`](Self::random) source.
    pub fn upgrade_pbkdf2_to(mut self, iterations: NonZeroU32, rng: Arc<dyn RandomSource>) -> Self {
        self.config.pbkdf2_target = Some(iterations);
        self.config.rng = Some(rng);
        self
    }

    /// Whether `client_secret_post` may be used at all (still opt-in per client). Default
    /// `true`; `false` refuses body credentials for every client and drops the method from
    /// metadata (RFC 6749 §2.3.1: NOT RECOMMENDED).
    pub fn allow_client_secret_post(mut self, yes: bool) -> Self {
        self.config.allow_client_secret_post = yes;
        self
    }

    /// The issuer identifier (RFC 8414 §2), the `iss` of introspection answers and the base of
    /// the metadata document. Endpoints default to [`Endpoints::under`] the issuer.
    pub fn issuer(mut self, issuer: IssuerId) -> Self {
        if self.config.endpoints.is_none() {
            self.config.endpoints = Some(Endpoints::under(&issuer));
        }
        self.config.issuer = Some(issuer);
        self
    }

    /// The endpoint URLs advertised in metadata.
    pub fn endpoints(mut self, endpoints: Endpoints) -> Self {
        self.config.endpoints = Some(endpoints);
        self
    }

    /// The `scopes_supported` advertised in metadata (RFC 8414 §2). Not advertised by default.
    pub fn scopes_supported(mut self, scope: Scope) -> Self {
        self.config.scopes_supported = Some(scope);
        self
    }

    /// Turns on `private_key_jwt` client authentication (RFC 7523) with this store for the
    /// single-use `jti`s (RFC-CHECKLIST item 35). It also turns on DPoP at the token endpoint
    /// (RFC 9449 §5): a proof's `jti` must be single-use too, so without a store a `DPoP` header
    /// is ignored (the token is a bearer token) and clients that `require_dpop` are refused. Without a replay store
    /// assertions are refused (as an unsupported method) and metadata does not advertise
    /// `private_key_jwt`: the core keeps no memory table of its own, so the choice of store
    /// (bounded memory for one node, a shared database for several) is the embedder's. Needs
    /// [`issuer`](Self::issuer): the only audience an assertion may name.
    pub fn replay_store(mut self, store: Arc<dyn ReplayStore>) -> Self {
        self.config.keyauth.replay = Some(store);
        self
    }

    /// Requires DPoP proofs at the token endpoint to carry one of these server nonces
    /// (RFC 9449 §8): a proof without a current one is refused with `400 use_dpop_nonce` and a
    /// `DPoP-Nonce` header holding the nonce to use. Only meaningful with DPoP on, that is with
    /// a [`replay_store`](Self::replay_store). [`HmacDpopNonces`](crate::HmacDpopNonces) needs
    /// no storage.
    pub fn dpop_nonces(mut self, nonces: Arc<dyn crate::DpopNonces>) -> Self {
        self.config.keyauth.dpop_nonces = Some(nonces);
        self
    }

    /// Resolves clients' `jwks_uri` registrations (the core never fetches).
    pub fn client_keys_resolver(mut self, resolver: Arc<dyn ClientKeysResolver>) -> Self {
        self.config.keyauth.resolver = Some(resolver);
        self
    }

    /// Also accept the token endpoint URL as an assertion's `aud` (off by default). Most
    /// client libraries still send it (RFC 7523 §3 allowed it); draft-ietf-oauth-rfc7523bis
    /// allows only the issuer identifier, which closes the audience-injection attacks
    /// (CVE-2025-27370/27371). Turn on only for clients that cannot be changed yet.
    pub fn accept_token_endpoint_audience(mut self, yes: bool) -> Self {
        self.config.keyauth.accept_token_endpoint_audience = yes;
        self
    }

    /// The clock-skew leeway for assertions' `exp`, `nbf`, `iat` (default 30 s).
    pub fn assertion_leeway(mut self, leeway: Duration) -> Self {
        self.config.keyauth.leeway = leeway;
        self
    }

    /// The longest assertion lifetime accepted (default 5 minutes).
    pub fn max_assertion_lifetime(mut self, max: Duration) -> Self {
        self.config.keyauth.max_lifetime = max;
        self
    }

    /// Also accept `Basic` credentials that were not form-encoded (off by default; RFC 6749
    /// §2.3.1 decoding stays the rule). One secret is still verified per request; see
    /// `server/raw_basic.rs` for how the reading is chosen.
    pub fn accept_raw_basic(mut self, yes: bool) -> Self {
        self.config.keyauth.accept_raw_basic = yes;
        self
    }

    /// Checks the settings and builds the engine.
    pub fn build(mut self) -> Result<Engine, ConfigError> {
        let c = &mut self.config;
        let key = |rng: &Option<Arc<dyn RandomSource>>| -> Result<[u8; 32], ConfigError> {
            let rng = rng.as_ref().ok_or(ConfigError::RandomSourceRequired)?;
            let mut key = [0u8; 32];
            rng.fill(&mut key)
                .map_err(|_| ConfigError::RandomSourceRequired)?;
            Ok(key)
        };
        if c.limiter.is_none() {
            c.limiter = Some(Arc::new(BoundedLimiter::new(key(&c.rng)?, c.limits)));
        }
        let mut profiles = c.profiles.clone();
        profiles.sort();
        profiles.dedup();
        let cost_key = if profiles.len() > 1 {
            Some(key(&c.rng)?)
        } else {
            None
        };
        c.cost = Arc::new(
            CostModel::new(profiles, c.verifications, cost_key)
                .ok_or(ConfigError::RandomSourceRequired)?,
        );
        let c = &self.config;
        if c.realm.is_empty()
            || !c
                .realm
                .bytes()
                .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\')
        {
            return Err(ConfigError::BadRealm);
        }
        if c.default_token_lifetime <= Duration::ZERO
            || c.max_token_lifetime < c.default_token_lifetime
        {
            return Err(ConfigError::BadLifetime);
        }
        if c.max_body_bytes < 64 {
            return Err(ConfigError::BadBodyLimit);
        }
        if !c.subject_prefix.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(ConfigError::BadSubjectPrefix);
        }
        if let Some(e) = &c.endpoints {
            e.validate()?;
        }
        if c.keyauth.replay.is_some() && (c.issuer.is_none() || c.endpoints.is_none()) {
            return Err(ConfigError::IssuerRequired);
        }
        // Checked here rather than per token request: a JWT engine without a default audience
        // would answer 500 to every client that names no resource.
        if matches!(
            self.issuer.local_validation(),
            Some(LocalValidation::Jwt { .. })
        ) && c.default_audience.is_empty()
        {
            return Err(ConfigError::NoAudience);
        }
        Ok(Engine {
            clients: self.clients,
            issuer: self.issuer,
            config: self.config,
        })
    }
}

impl Engine {
    /// Starts building an engine over a client store and a token issuer.
    pub fn builder(clients: Arc<dyn ClientStore>, issuer: Arc<dyn TokenIssuer>) -> EngineBuilder {
        EngineBuilder {
            clients,
            issuer,
            config: Config {
                realm: "jeton".to_owned(),
                transport: Transport::default(),
                max_body_bytes: 8 * 1024,
                form_limits: FormLimits::default(),
                max_resources: 16,
                default_token_lifetime: Duration::minutes(15),
                max_token_lifetime: Duration::hours(24),
                subject_prefix: String::new(),
                default_audience: Vec::new(),
                cost: Arc::new(CostModel::hmac_only(2)),
                profiles: Vec::new(),
                verifications: 2,
                limiter: None,
                limits: LimiterConfig::default(),
                executor: None,
                pbkdf2_target: None,
                rng: None,
                allow_client_secret_post: true,
                issuer: None,
                endpoints: None,
                scopes_supported: None,
                keyauth: KeyAuthConfig::default(),
            },
        }
    }
}

//! JWT access tokens (RFC 9068): the issuer, its custom-claims hook, and the per-engine choice
//! between opaque and JWT tokens.
//!
//! A token looks like this (header, then claims):
//!
//! ```text
//! {"alg":"ES256","typ":"at+jwt","kid":"<RFC 7638 thumbprint>"}
//! {"iss":"https://as.example.com","sub":"billing","aud":"https://api.example.com/",
//!  "exp":1767226500,"iat":1767225600,"jti":"<160 random bits>","client_id":"billing",
//!  "scope":"invoices:read", ...custom claims}
//! ```
//!
//! Decisions where RFC 9068 leaves room:
//! - `aud` is required (RFC 9068 §2.2). It is the grant's audience, decided by the engine's one
//!   rule: the requested resources, else the client's default audience, else the engine's
//!   ([`EngineBuilder::default_audience`](crate::EngineBuilder::default_audience), which the
//!   engine builder requires for a JWT issuer). The issuer has no default of its own; a grant
//!   with no audience (only possible outside an engine) fails to issue with an [`IssueError`]
//!   rather than minting a token any API would accept. One audience is a JSON string, several
//!   an array (RFC 7519 §4.1.3).
//! - `scope` is omitted when the granted scope is empty (RFC 9068 §2.2.3 ties it to a requested
//!   scope).
//! - A custom-claims hook that returns a registered claim ([`REGISTERED_CLAIMS`]) makes issuing
//!   fail with an [`IssueError`]: silently dropping the claim would hide a configuration
//!   mistake, and overriding it would let the hook forge `sub`, `aud` or `exp`.
//! - Issuing is stateless: nothing is written per token.
//! - Introspection and revocation ([`TokenIssuer::inspect`], [`TokenIssuer::revoke`]): the
//!   issuer recognises a JWT by verifying it against its own key set (`typ`, `iss`, signature,
//!   required claims; expiry is the engine's check), and remembers the last 4096 tokens it
//!   verified under the current key set, so introspecting a token again skips the signature
//!   (replacing the keys forgets them all). Revoking puts the `jti` on an optional
//!   [`RevocationList`] until the token expires; without one, revoking a JWT fails.
//! - Keys can be rotated at run time with [`JwtIssuer::replace_keys`]; see [`KeySet`] for the
//!   publish-before-use order.

use crate::client::ClientRecord;
use crate::error::IssueError;
use crate::issuer_id::IssuerId;
use crate::random::RandomSource;
use crate::store::{RevocationList, TokenStore};
use crate::tokens::algorithm::Algorithm;
use crate::tokens::issuer::{
    AccessToken, Grant, LocalValidation, TokenHandle, TokenInfo, TokenIssuer,
};
use crate::tokens::jws;
use crate::tokens::jwt_verify::{DEFAULT_MAX_TOKEN_BYTES, JwtCheck, verify_jwt};
use crate::tokens::key_set::{Jwks, KeySet, LiveKeys, Swap};
use crate::tokens::keys::SignError;
use crate::tokens::opaque::OpaqueIssuer;
use crate::tokens::verified::{TokenKey, VerifiedTokens};
use crate::types::{Resource, Scope};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::{Map, Value};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// The `typ` header of JWT access tokens (RFC 9068 §2.1).
pub const AT_JWT_TYPE: &str = "at+jwt";

/// The claims a [`CustomClaims`] hook may not set: jeton owns them (RFC 9068 §2.2, RFC 7519
/// §4.1), and `cnf` (RFC 7800) binds a token to a key.
pub const REGISTERED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "client_id",
    "aud",
    "exp",
    "iat",
    "jti",
    "scope",
    "nbf",
    "typ",
    "cnf",
];

/// The bytes of randomness in a `jti`: 160 bits.
const JTI_BYTES: usize = 20;

/// Adds claims to a client's JWT access tokens, for example `roles` or a tenant id
/// (RFC 9068 §2.2.3.1).
///
/// A pure function of the client record and the grant: no I/O (issuing must stay fast and
/// stateless). Any closure `Fn(&ClientRecord, &Grant) -> serde_json::Map<String, Value>` is one.
/// Returning a key from [`REGISTERED_CLAIMS`] makes issuing fail.
pub trait CustomClaims: Send + Sync {
    /// The extra claims for a token issued under `grant` to `client`.
    fn claims(&self, client: &ClientRecord, grant: &Grant) -> Map<String, Value>;
}

impl<F> CustomClaims for F
where
    F: Fn(&ClientRecord, &Grant) -> Map<String, Value> + Send + Sync,
{
    fn claims(&self, client: &ClientRecord, grant: &Grant) -> Map<String, Value> {
        self(client, grant)
    }
}

/// A JWT issuer setting was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtConfigError {
    /// [`TokenFormat::Jwt`] was chosen but no JWT issuer settings were given.
    #[error("token format is jwt but no JWT issuer is configured")]
    MissingJwtIssuer,
}

/// Issues JWT access tokens (RFC 9068) signed with the active key of a [`KeySet`].
///
/// The key set can be swapped at run time ([`JwtIssuer::replace_keys`]) for rotation without a
/// restart; tokens being issued finish with the set they started with.
pub struct JwtIssuer {
    issuer: IssuerId,
    keys: LiveKeys,
    rng: Arc<dyn RandomSource>,
    hook: Option<Arc<dyn CustomClaims>>,
    revocations: Option<Arc<dyn RevocationList>>,
    /// Tokens already verified under the current key set (introspection asks about the same
    /// token again and again; see `tokens/verified.rs`).
    verified: VerifiedTokens,
}

impl fmt::Debug for JwtIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtIssuer")
            .field("issuer", &self.issuer)
            .field("keys", &self.keys)
            .field("custom_claims", &self.hook.is_some())
            .field("revocation_list", &self.revocations.is_some())
            .finish_non_exhaustive()
    }
}

/// Builds a [`JwtIssuer`].
pub struct JwtIssuerBuilder {
    issuer: IssuerId,
    keys: KeySet,
    rng: Arc<dyn RandomSource>,
    hook: Option<Arc<dyn CustomClaims>>,
    revocations: Option<Arc<dyn RevocationList>>,
}

impl fmt::Debug for JwtIssuerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtIssuerBuilder")
            .field("issuer", &self.issuer)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl JwtIssuerBuilder {
    /// A hook adding claims per client. Default none.
    pub fn custom_claims(mut self, hook: impl CustomClaims + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// Where revoked `jti`s are kept, so that revocation (RFC 7009) and introspection work for
    /// JWTs: a revoked token is inactive at introspection until it expires, and refused at once
    /// by a validator in the same process built from this issuer
    /// ([`Engine::validator`](crate::Engine::validator)). Resource servers
    /// that validate offline do not see it; keep JWT lifetimes short. Default none: revoking a
    /// JWT fails.
    pub fn revocation_list(mut self, list: Arc<dyn RevocationList>) -> Self {
        self.revocations = Some(list);
        self
    }

    /// Builds the issuer.
    pub fn build(self) -> Result<JwtIssuer, JwtConfigError> {
        Ok(JwtIssuer {
            issuer: self.issuer,
            keys: LiveKeys(Arc::new(Swap::new(self.keys))),
            rng: self.rng,
            hook: self.hook,
            revocations: self.revocations,
            verified: VerifiedTokens::new(),
        })
    }
}

impl JwtIssuer {
    /// Starts building an issuer for the issuer identifier `issuer` (the `iss` claim: give the
    /// engine the same [`IssuerId`] so metadata and introspection agree), signing with `keys`'
    /// active key and drawing `jti` values from `rng` (normally [`crate::SystemRandom`]).
    pub fn builder(issuer: IssuerId, keys: KeySet, rng: Arc<dyn RandomSource>) -> JwtIssuerBuilder {
        JwtIssuerBuilder {
            issuer,
            keys,
            rng,
            hook: None,
            revocations: None,
        }
    }

    /// The issuer identifier (`iss`).
    pub fn issuer(&self) -> &IssuerId {
        &self.issuer
    }

    /// The current key set.
    pub fn keys(&self) -> Arc<KeySet> {
        self.keys.0.load()
    }

    /// Replaces the key set (rotation at run time). Publish a new key in the old set before it
    /// becomes active in a new one; see [`KeySet`]. Every [`LiveKeys`] of this issuer sees the
    /// new set at once.
    pub fn replace_keys(&self, keys: KeySet) {
        self.keys.0.store(keys);
    }

    /// The public keys, for the `jwks_uri` (also served by the engine through
    /// [`TokenIssuer::jwks`]).
    pub fn jwk_set(&self) -> Jwks {
        self.keys.jwks()
    }

    /// A live view of this issuer's keys (shared, not copied: rotation is seen at once).
    pub fn live_keys(&self) -> LiveKeys {
        self.keys.clone()
    }

    /// The revocation list, if one was configured.
    pub fn revocation_list(&self) -> Option<Arc<dyn RevocationList>> {
        self.revocations.clone()
    }

    /// Verifies a token as one of ours: signature with a key of the current set, `typ`, `iss`
    /// and the claims RFC 9068 §2.2 requires. No audience or time check.
    fn verify_own(&self, token: &str) -> Option<TokenInfo> {
        if token.len() > DEFAULT_MAX_TOKEN_BYTES {
            return None;
        }
        let set = self.keys.0.load();
        let key = TokenKey::of(token);
        if let Some(info) = self.verified.get(&key, &set) {
            return Some(info);
        }
        let keys = set.jwks();
        let check = JwtCheck {
            issuer: self.issuer.as_str(),
            audience: None,
            algorithms: &Algorithm::ALL,
            keys: &keys,
            leeway: Duration::ZERO,
            now: None,
        };
        let c = verify_jwt(token, &check).ok()?;
        let jti = c.claims.jti.clone()?;
        let info = TokenInfo::new(c.claims, TokenHandle::Jti(jti));
        self.verified.put(key, &set, &info);
        Some(info)
    }

    /// Builds the claims and signs them.
    ///
    /// Every token pays for this besides its signature, so it allocates only what it returns
    /// and one payload buffer: the claims borrow from the grant (no `serde_json::Value`), the
    /// header comes encoded from the key set, and the token is written into one `String` of
    /// its final size ([`jws::compact`]).
    fn mint(&self, grant: &Grant) -> Result<(String, String), IssueError> {
        // RFC 9068 §2.2: `aud` is REQUIRED. never the client id.
        let audience = grant.audience();
        if audience.is_empty() {
            return Err(IssueError::msg(
                "no audience for a JWT access token (RFC 9068 §2.2): configure the engine's default audience",
            ));
        }
        let extra = match &self.hook {
            Some(hook) => {
                let extra = hook.claims(grant.client(), grant);
                if extra
                    .keys()
                    .any(|k| REGISTERED_CLAIMS.contains(&k.as_str()))
                {
                    return Err(IssueError::msg(
                        "custom claims hook returned a registered claim",
                    ));
                }
                Some(extra)
            }
            None => None,
        };
        // RFC 9068 §2.2 `jti`; RFC 6749 §10.10: unguessable, at least 128 bits.
        let mut jti = [0u8; JTI_BYTES];
        self.rng.fill(&mut jti).map_err(IssueError::new)?;
        let jti = B64URL.encode(jti);

        let claims = Claims {
            iss: self.issuer.as_str(),
            sub: grant.subject(),
            aud: Audience(audience),
            exp: grant.expires_at().unix_timestamp(),
            iat: grant.issued_at().unix_timestamp(),
            jti: &jti,
            client_id: grant.client_id().as_str(),
            scope: (!grant.scope().is_empty()).then_some(ScopeClaim(grant.scope())),
            cnf: grant.confirmation().map(|c| Cnf { jkt: &c.jkt }),
            extra: extra.as_ref(),
        };
        let mut payload = Vec::with_capacity(claims.size_hint());
        serde_json::to_writer(&mut payload, &claims).map_err(IssueError::new)?;
        // RFC 9068 §2.1: `typ` MUST be `at+jwt`; `kid` names a key in the published JWKS.
        let keys = self.keys.0.load();
        let header = keys.at_jwt_header().map_err(IssueError::new)?;
        let token = jws::compact(keys.active(), header, &payload)
            .map_err(|e: SignError| IssueError::new(e))?;
        Ok((token, jti))
    }
}

/// The claims of a JWT access token, borrowed from the grant (RFC 9068 §2.2), serialized as
/// one JSON object in this order.
#[derive(serde::Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: Audience<'a>,
    exp: i64,
    iat: i64,
    jti: &'a str,
    client_id: &'a str,
    // RFC 9068 §2.2.3: "scope" as a space-delimited string (RFC 8693 §4.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<ScopeClaim<'a>>,
    // RFC 9449 §6.1: a DPoP-bound token's key thumbprint.
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<Cnf<'a>>,
    #[serde(flatten)]
    extra: Option<&'a Map<String, Value>>,
}

impl Claims<'_> {
    /// About the length of the JSON: the strings plus the names, punctuation and numbers
    /// around them (under 160 bytes), so the payload buffer is allocated once.
    fn size_hint(&self) -> usize {
        let aud: usize = self.aud.0.iter().map(|r| r.as_str().len() + 3).sum();
        let scope = self
            .scope
            .as_ref()
            .map_or(0, |s| s.0.iter().map(|t| t.as_str().len() + 1).sum());
        let cnf = self.cnf.as_ref().map_or(0, |c| c.jkt.len() + 16);
        // Custom claims are not measured: their buffer just grows past this.
        let extra = if self.extra.is_some() { 128 } else { 0 };
        160 + self.iss.len()
            + self.sub.len()
            + self.jti.len()
            + self.client_id.len()
            + aud
            + scope
            + cnf
            + extra
    }
}

/// `aud` (RFC 7519 §4.1.3): one audience is a JSON string, several an array of strings.
struct Audience<'a>(&'a [Resource]);

impl serde::Serialize for Audience<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            [one] => s.serialize_str(one.as_str()),
            many => s.collect_seq(many.iter().map(Resource::as_str)),
        }
    }
}

/// `scope`: the granted scope's wire form (RFC 6749 §3.3), written straight into the JSON
/// string rather than first into a `String` of its own.
struct ScopeClaim<'a>(&'a Scope);

impl serde::Serialize for ScopeClaim<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self.0)
    }
}

/// `cnf` (RFC 7800 §3.1) of a DPoP-bound token: `{"jkt": ...}` (RFC 9449 §6.1), as
/// [`Confirmation::to_value`](crate::Confirmation::to_value) gives it.
#[derive(serde::Serialize)]
struct Cnf<'a> {
    jkt: &'a str,
}

#[async_trait::async_trait]
impl TokenIssuer for JwtIssuer {
    async fn issue(&self, grant: &Grant) -> Result<AccessToken, IssueError> {
        let (token, jti) = self.mint(grant)?;
        Ok(AccessToken::new(token, grant.token_type(), grant.lifetime()).with_jti(jti))
    }

    /// A JWT this issuer signed (with a key still in its set) and that is not on the revocation
    /// list.
    async fn inspect(
        &self,
        token: &str,
        _now: OffsetDateTime,
    ) -> Result<Option<TokenInfo>, IssueError> {
        let Some(info) = self.verify_own(token) else {
            return Ok(None);
        };
        if let (Some(list), TokenHandle::Jti(jti)) = (&self.revocations, &info.handle)
            && list.is_revoked(jti).await.map_err(IssueError::new)?
        {
            return Ok(None);
        }
        Ok(Some(info))
    }

    /// Puts the token's `jti` on the revocation list until it expires; without a list, fails.
    async fn revoke(&self, info: &TokenInfo, now: OffsetDateTime) -> Result<(), IssueError> {
        let (Some(list), TokenHandle::Jti(jti)) = (&self.revocations, &info.handle) else {
            return Err(IssueError::msg("this JWT issuer has no revocation list"));
        };
        list.revoke_jti(jti, info.claims.expires_at, now)
            .await
            .map_err(IssueError::new)
    }

    fn jwks(&self) -> Option<Value> {
        Some(self.jwk_set().to_value())
    }

    fn local_validation(&self) -> Option<LocalValidation> {
        Some(LocalValidation::Jwt {
            issuer: self.issuer.clone(),
            keys: self.live_keys(),
            revocations: self.revocations.clone(),
        })
    }
}

/// Which kind of access token an engine issues: a deployment setting (`"opaque"` or `"jwt"`).
///
/// Opaque tokens are random strings kept (as digests) in a [`TokenStore`]: revocable, and
/// checked by introspection. JWT access tokens are self-contained and checked offline with the
/// JWKS, but cannot be revoked before they expire.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TokenFormat {
    /// Random tokens stored by digest ([`OpaqueIssuer`]). The default.
    #[default]
    Opaque,
    /// RFC 9068 JWT access tokens ([`JwtIssuer`]).
    Jwt,
}

impl TokenFormat {
    /// The configuration name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Opaque => "opaque",
            Self::Jwt => "jwt",
        }
    }

    /// Builds the issuer for this format, for [`crate::Engine::builder`].
    ///
    /// `Opaque` uses `store` and `rng`; `Jwt` builds `jwt`, which must then be given
    /// (otherwise [`JwtConfigError::MissingJwtIssuer`]).
    pub(crate) fn build_issuer(
        self,
        store: Arc<dyn TokenStore>,
        rng: Arc<dyn RandomSource>,
        jwt: Option<JwtIssuerBuilder>,
    ) -> Result<Arc<dyn TokenIssuer>, JwtConfigError> {
        match self {
            Self::Opaque => Ok(Arc::new(OpaqueIssuer::new(store, rng))),
            Self::Jwt => {
                let builder = jwt.ok_or(JwtConfigError::MissingJwtIssuer)?;
                Ok(Arc::new(builder.build()?))
            }
        }
    }
}

impl fmt::Display for TokenFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name was neither `opaque` nor `jwt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown token format (expected `opaque` or `jwt`)")]
pub struct UnknownTokenFormat;

impl FromStr for TokenFormat {
    type Err = UnknownTokenFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "opaque" => Ok(Self::Opaque),
            "jwt" => Ok(Self::Jwt),
            _ => Err(UnknownTokenFormat),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SystemRandom;
    use crate::tokens::algorithm::Algorithm;
    use crate::tokens::claims::Confirmation;
    use crate::tokens::keys::SigningKey;
    use crate::types::{ClientId, Resource, Scope};
    use time::{Duration, OffsetDateTime};

    fn grant(audience: &[&str], scope: &str) -> Grant {
        let client = ClientRecord::builder(ClientId::new("svc").unwrap()).build();
        let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
        Grant {
            subject: "client:svc".into(),
            client: Arc::new(client),
            scope: if scope.is_empty() {
                Scope::default()
            } else {
                Scope::parse(scope).unwrap()
            },
            requested_scope: None,
            audience: audience
                .iter()
                .map(|a| Resource::new(*a).unwrap())
                .collect(),
            issued_at: now,
            expires_at: now + Duration::minutes(5),
            confirmation: None,
        }
    }

    fn issuer() -> JwtIssuerBuilder {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        JwtIssuer::builder(
            IssuerId::new("https://as.example.com").unwrap(),
            KeySet::new(key),
            Arc::new(SystemRandom::new()),
        )
    }

    fn parts(token: &str) -> (Value, Value) {
        let mut it = token.split('.');
        let mut next = || -> Value {
            serde_json::from_slice(&B64URL.decode(it.next().unwrap()).unwrap()).unwrap()
        };
        (next(), next())
    }

    #[test]
    fn rfc9068_2_1_header_has_typ_alg_and_kid() {
        let i = issuer().build().unwrap();
        let (t, jti) = i
            .mint(&grant(&["https://api.example.com/"], "read"))
            .unwrap();
        let (h, c) = parts(&t);
        // The jti the issuer reports (for the audit trail) is the one it signed.
        assert_eq!(c["jti"], jti.as_str());
        assert_eq!(h["typ"], "at+jwt");
        assert_eq!(h["alg"], "ES256");
        assert_eq!(h["kid"], i.keys().active().kid());
        assert!(i.jwk_set().get(h["kid"].as_str().unwrap()).is_some());
        assert_eq!(TokenIssuer::jwks(&i), Some(i.jwk_set().to_value()));
    }

    /// The header and claims as serde_json writes them from `Value`s: what `mint` wrote
    /// before it borrowed from the grant and took the header from the key set.
    fn reference_parts(i: &JwtIssuer, g: &Grant, jti: &str) -> (Vec<u8>, Vec<u8>) {
        #[derive(serde::Serialize)]
        struct Header<'a> {
            alg: &'static str,
            typ: &'a str,
            kid: &'a str,
        }
        #[derive(serde::Serialize)]
        struct Claims<'a> {
            iss: &'a str,
            sub: &'a str,
            aud: Value,
            exp: i64,
            iat: i64,
            jti: &'a str,
            client_id: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            scope: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            cnf: Option<Value>,
            #[serde(flatten)]
            extra: &'a Map<String, Value>,
        }
        let keys = i.keys();
        let header = Header {
            alg: keys.active().algorithm().as_str(),
            typ: AT_JWT_TYPE,
            kid: keys.active().kid(),
        };
        let aud = match g.audience() {
            [one] => Value::String(one.as_str().to_owned()),
            many => Value::Array(
                many.iter()
                    .map(|r| Value::String(r.as_str().to_owned()))
                    .collect(),
            ),
        };
        let extra = i
            .hook
            .as_ref()
            .map(|h| h.claims(g.client(), g))
            .unwrap_or_default();
        let claims = Claims {
            iss: i.issuer.as_str(),
            sub: g.subject(),
            aud,
            exp: g.expires_at().unix_timestamp(),
            iat: g.issued_at().unix_timestamp(),
            jti,
            client_id: g.client_id().as_str(),
            scope: (!g.scope().is_empty()).then(|| g.scope().to_string()),
            cnf: g.confirmation().map(Confirmation::to_value),
            extra: &extra,
        };
        (
            serde_json::to_vec(&header).unwrap(),
            serde_json::to_vec(&claims).unwrap(),
        )
    }

    /// Issue 13: the precomputed header and the borrowed claims are byte for byte what
    /// serde_json writes from owned values, for every shape of `aud`, `scope`, `cnf` and custom
    /// claims, with every algorithm, and the key set's header follows a rotation.
    #[test]
    fn minted_header_and_claims_are_the_serde_json_bytes() {
        let with_hook = |b: JwtIssuerBuilder| {
            b.custom_claims(|c: &ClientRecord, _: &Grant| {
                let mut m = Map::new();
                m.insert("tenant".into(), Value::String(format!("t\"{}\n", c.id)));
                m.insert("a_roles".into(), serde_json::json!(["x", 1, null]));
                m
            })
        };
        let mut dpop = grant(&["https://api.example.com/"], "read");
        dpop.confirmation = Some(Confirmation::jkt(
            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
        ));
        let grants = [
            grant(&["https://api.example.com/"], "read write"),
            grant(&["https://a.example/", "https://b.example/?q=\"x\""], ""),
            dpop,
        ];
        for alg in [Algorithm::Es256, Algorithm::EdDsa] {
            let key = || SigningKey::generate(alg).unwrap();
            let rng: Arc<dyn RandomSource> = Arc::new(SystemRandom::new());
            let iss = IssuerId::new("https://as.example.com/tenant-1").unwrap();
            let plain = JwtIssuer::builder(iss.clone(), KeySet::new(key()), rng.clone());
            let hooked = with_hook(JwtIssuer::builder(iss, KeySet::new(key()), rng));
            for i in [plain.build().unwrap(), hooked.build().unwrap()] {
                for round in 0..2 {
                    for g in &grants {
                        let (token, jti) = i.mint(g).unwrap();
                        let (header, claims) = reference_parts(&i, g, &jti);
                        let mut it = token.split('.');
                        assert_eq!(B64URL.decode(it.next().unwrap()).unwrap(), header);
                        assert_eq!(B64URL.decode(it.next().unwrap()).unwrap(), claims);
                        let set = i.keys();
                        assert_eq!(set.at_jwt_header().unwrap(), B64URL.encode(&header));
                        let signing_input = token.rsplit_once('.').unwrap().0;
                        let signature = B64URL.decode(it.next().unwrap()).unwrap();
                        assert!(
                            set.active()
                                .verifying_key()
                                .verify(signing_input.as_bytes(), &signature)
                        );
                        assert_eq!(token.len(), token.capacity(), "sized once");
                    }
                    if round == 0 {
                        // A rotated set encodes its new active key's header, not the old one's.
                        let old = i.keys().active().kid().to_owned();
                        let rotated = KeySet::new(key())
                            .with_verification_key(i.keys().active().verifying_key().clone())
                            .unwrap();
                        i.replace_keys(rotated);
                        assert_ne!(i.keys().active().kid(), old);
                    }
                }
            }
        }
        // `KeySet::rotate` on a set whose header was already encoded forgets it.
        let (a, b) = (
            SigningKey::generate(Algorithm::Es256).unwrap(),
            SigningKey::generate(Algorithm::EdDsa).unwrap(),
        );
        let set = KeySet::new(a);
        let first = set.at_jwt_header().unwrap().to_owned();
        let set = set.rotate(b).unwrap();
        assert_eq!(
            set.at_jwt_header().unwrap(),
            jws::encoded_header(set.active(), AT_JWT_TYPE).unwrap()
        );
        assert_ne!(set.at_jwt_header().unwrap(), first);
    }

    #[test]
    fn rfc9068_2_2_required_claims_are_present() {
        let i = issuer().build().unwrap();
        let g = grant(&["https://api.example.com/"], "read write");
        let (_, c) = parts(&i.mint(&g).unwrap().0);
        assert_eq!(c["iss"], "https://as.example.com");
        assert_eq!(c["sub"], "client:svc");
        assert_eq!(c["client_id"], "svc");
        assert_eq!(c["aud"], "https://api.example.com/");
        assert_eq!(c["iat"], g.issued_at().unix_timestamp());
        assert_eq!(c["exp"], g.expires_at().unix_timestamp());
        assert_eq!(c["scope"], "read write");
        // 160 random bits, base64url.
        assert_eq!(c["jti"].as_str().unwrap().len(), 27);
    }

    #[test]
    fn rfc9068_2_2_jti_is_unique_per_token() {
        let i = issuer().build().unwrap();
        let g = grant(&["https://api.example.com/"], "read");
        let (_, a) = parts(&i.mint(&g).unwrap().0);
        let (_, b) = parts(&i.mint(&g).unwrap().0);
        assert_ne!(a["jti"], b["jti"]);
    }

    #[test]
    fn rfc7519_4_1_3_several_audiences_are_an_array() {
        let i = issuer().build().unwrap();
        let g = grant(&["https://a.example/", "https://b.example/"], "");
        let (_, c) = parts(&i.mint(&g).unwrap().0);
        assert_eq!(
            c["aud"],
            serde_json::json!(["https://a.example/", "https://b.example/"])
        );
        assert!(c.get("scope").is_none(), "empty scope is omitted");
    }

    #[test]
    fn rfc9068_2_2_aud_is_required() {
        let g = grant(&[], "read");
        assert!(issuer().build().unwrap().mint(&g).is_err());
    }

    #[test]
    fn live_keys_see_a_rotation_at_once() {
        let i = issuer().build().unwrap();
        let live = i.live_keys();
        let next = SigningKey::generate(Algorithm::Es256).unwrap();
        let kid = next.kid().to_owned();
        assert!(live.jwks().get(&kid).is_none());
        i.replace_keys(KeySet::new(next));
        assert!(live.jwks().get(&kid).is_some());
    }

    /// Issue 13: introspection remembers verified tokens, but only under the key set that
    /// verified them: once the signing key is retired, a token it signed is unknown at once
    /// even though it was just introspected, and one still published keeps verifying.
    #[test]
    fn a_remembered_token_is_forgotten_when_its_key_leaves_the_set() {
        jeton_testkit::block_on(remembered_token_is_forgotten());
    }

    async fn remembered_token_is_forgotten() {
        let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
        let i = issuer().build().unwrap();
        let token = i.issue(&grant(&["https://api.example.com/"], "read")).await;
        let token = token.unwrap().expose().to_owned();
        let first = i.inspect(&token, now).await.unwrap().expect("our token");
        assert_eq!(i.inspect(&token, now).await.unwrap(), Some(first.clone()));
        // Rotation keeping the old key published: still ours (verified again, same answer).
        let next = SigningKey::generate(Algorithm::Es256).unwrap();
        let old_kid = i.keys().active().kid().to_owned();
        let old = i.keys().active().verifying_key().clone();
        let rotated = KeySet::new(next).with_verification_key(old).unwrap();
        i.replace_keys(rotated);
        assert_eq!(i.inspect(&token, now).await.unwrap(), Some(first));
        // The old key retired: not ours any more, at once.
        i.replace_keys(KeySet::new(SigningKey::generate(Algorithm::Es256).unwrap()));
        assert!(!i.keys().contains(&old_kid));
        assert_eq!(i.inspect(&token, now).await.unwrap(), None);
        // A token changed by one character is never taken for the remembered one.
        let mut forged = token.clone();
        forged.pop();
        assert_eq!(i.inspect(&forged, now).await.unwrap(), None);
    }

    #[test]
    fn rfc9068_2_2_custom_claims_cannot_override_registered_claims() {
        let g = grant(&["https://api.example.com/"], "read");
        let i = issuer()
            .custom_claims(|c: &ClientRecord, _: &Grant| {
                let mut m = Map::new();
                m.insert("tenant".into(), Value::String(c.id.to_string()));
                m
            })
            .build()
            .unwrap();
        let (_, c) = parts(&i.mint(&g).unwrap().0);
        assert_eq!(c["tenant"], "svc");
        for reserved in REGISTERED_CLAIMS {
            let i = issuer()
                .custom_claims(move |_: &ClientRecord, _: &Grant| {
                    let mut m = Map::new();
                    m.insert((*reserved).to_owned(), Value::String("forged".into()));
                    m
                })
                .build()
                .unwrap();
            assert!(i.mint(&g).is_err(), "{reserved}");
        }
    }

    #[test]
    fn token_format_is_chosen_by_name() {
        assert_eq!("jwt".parse::<TokenFormat>(), Ok(TokenFormat::Jwt));
        assert_eq!("opaque".parse::<TokenFormat>(), Ok(TokenFormat::Opaque));
        assert!("JWT".parse::<TokenFormat>().is_err());
        assert_eq!(TokenFormat::default(), TokenFormat::Opaque);
        assert_eq!(serde_json::to_string(&TokenFormat::Jwt).unwrap(), "\"jwt\"");
    }
}

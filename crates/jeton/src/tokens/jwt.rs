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
use crate::tokens::json::{is_plain, is_plain_scope, push_plain, push_plain_scope};
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
            scope: (!grant.scope().is_empty()).then_some(grant.scope()),
            cnf: grant.confirmation().map(|c| Cnf { jkt: &c.jkt }),
            extra: extra.as_ref(),
        };
        let payload = claims.to_json().map_err(IssueError::new)?;
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
    scope: Option<&'a Scope>,
    // RFC 9449 §6.1: a DPoP-bound token's key thumbprint.
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<Cnf<'a>>,
    #[serde(flatten)]
    extra: Option<&'a Map<String, Value>>,
}

impl Claims<'_> {
    /// The claims' JSON, the bytes serde_json writes for them (`jwt_tests.rs` holds the two to
    /// the same bytes). Written directly when there are no custom claims and no string needs
    /// escaping, nearly always: serde_json's per-byte escaping was the claims' whole cost.
    fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut out = Vec::with_capacity(self.size_hint());
        let plain = self.extra.is_none()
            && [self.iss, self.sub, self.jti, self.client_id]
                .into_iter()
                .all(is_plain)
            && self.aud.0.iter().all(|r| is_plain(r.as_str()))
            && self.scope.is_none_or(is_plain_scope)
            && self.cnf.as_ref().is_none_or(|c| is_plain(c.jkt));
        if !plain {
            serde_json::to_writer(&mut out, self)?;
            return Ok(out);
        }
        out.extend_from_slice(b"{\"iss\":");
        push_plain(&mut out, self.iss);
        out.extend_from_slice(b",\"sub\":");
        push_plain(&mut out, self.sub);
        out.extend_from_slice(b",\"aud\":");
        match self.aud.0 {
            [one] => push_plain(&mut out, one.as_str()),
            many => {
                out.push(b'[');
                for (i, r) in many.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    push_plain(&mut out, r.as_str());
                }
                out.push(b']');
            }
        }
        out.extend_from_slice(b",\"exp\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.exp).as_bytes());
        out.extend_from_slice(b",\"iat\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.iat).as_bytes());
        out.extend_from_slice(b",\"jti\":");
        push_plain(&mut out, self.jti);
        out.extend_from_slice(b",\"client_id\":");
        push_plain(&mut out, self.client_id);
        if let Some(scope) = self.scope {
            out.extend_from_slice(b",\"scope\":");
            push_plain_scope(&mut out, scope);
        }
        if let Some(cnf) = &self.cnf {
            out.extend_from_slice(b",\"cnf\":{\"jkt\":");
            push_plain(&mut out, cnf.jkt);
            out.push(b'}');
        }
        out.push(b'}');
        Ok(out)
    }

    /// About the length of the JSON: the strings plus the names, punctuation and numbers
    /// around them (under 160 bytes), so the payload buffer is allocated once.
    fn size_hint(&self) -> usize {
        let aud: usize = self.aud.0.iter().map(|r| r.as_str().len() + 3).sum();
        let scope = self
            .scope
            .as_ref()
            .map_or(0, |s| s.iter().map(|t| t.as_str().len() + 1).sum());
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
#[path = "jwt_tests.rs"]
mod tests;

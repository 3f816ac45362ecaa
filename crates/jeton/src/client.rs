//! Registered clients and their policy.

use crate::secret::{PreparedKey, SecretVerifier};
use crate::tokens::ClientKeys;
use crate::types::{ClientId, ClientSecret, Resource, Scope};
use std::fmt;
use time::{Duration, OffsetDateTime};

/// A token-endpoint client authentication method (RFC 7591 §2 `token_endpoint_auth_method`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuthMethod {
    /// `client_secret_basic`: the secret in `Authorization: Basic`. Always the recommended one.
    ClientSecretBasic,
    /// `client_secret_post`: the secret in the form body. NOT RECOMMENDED by RFC 6749 §2.3.1,
    /// so opt-in per client.
    ClientSecretPost,
    /// `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9): a JWT assertion signed with the client's
    /// private key, checked against its registered public keys. Nothing secret is sent or stored.
    PrivateKeyJwt,
    /// `none`: a public client. Such a client can never use the client credentials grant
    /// (RFC 6749 §4.4); the engine refuses it.
    None,
}

impl AuthMethod {
    /// The registered name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }
}

/// A grant type a client may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GrantType {
    /// `client_credentials` (RFC 6749 §4.4), the one grant jeton serves.
    ClientCredentials,
}

impl GrantType {
    /// The registered name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
        }
    }
}

/// What happens when a request omits `scope` (RFC 6749 §3.3: "the authorization server MUST
/// either process the request using a pre-defined default value or fail the request indicating
/// an invalid scope").
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode", content = "scope")]
#[non_exhaustive]
pub enum DefaultScope {
    /// Fail with `invalid_scope`. The default: a client states what it needs.
    #[default]
    Deny,
    /// Grant this fixed set (which must be within the allowed scopes).
    Fixed(Scope),
    /// Grant every allowed scope.
    AllAllowed,
    /// Grant no scope: an audience-only token, for APIs that authorize by audience and client
    /// id. The token response then omits `scope` (RFC 6749 §5.1 makes it OPTIONAL when it is
    /// what was requested, and nothing was), the JWT has no `scope` claim and introspection no
    /// `scope` member.
    Empty,
}

/// One registered secret: its verifier and an optional expiry, so that secrets can rotate with
/// overlap (register the new one, move clients over, let the old one expire).
///
/// It also keeps the HMAC key of an HMAC-SHA256 verifier, prepared when the secret is built
/// ([`new`](Self::new), [`expiring`](Self::expiring), deserialization), so that
/// [`verify`](Self::verify) makes two SHA-256 compressions where [`SecretVerifier::verify`]
/// makes four. The key is derived from the verifier alone: it takes no part in equality,
/// `Debug` or serialization. Replacing `verifier` in place keeps answers right (a key made for
/// another salt is never used) but loses the saving; build a new `RegisteredSecret` instead.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(from = "StoredSecret")]
#[non_exhaustive]
pub struct RegisteredSecret {
    /// The verifier.
    pub verifier: SecretVerifier,
    /// After this instant the secret fails exactly like a wrong one.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// `verifier.prepare()`, made once here rather than on every request: records of memory
    /// stores live for the process, and the engine's decoys are `RegisteredSecret`s too, so
    /// real secrets and decoys do the same work per verification (RFC 6749 §10.10).
    #[serde(skip_serializing)]
    prepared: Option<PreparedKey>,
}

/// The serialized form of a [`RegisteredSecret`]: what deserialization reads before preparing
/// the key (the key is never stored).
#[derive(serde::Deserialize)]
struct StoredSecret {
    verifier: SecretVerifier,
    #[serde(default, with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
}

impl From<StoredSecret> for RegisteredSecret {
    fn from(s: StoredSecret) -> Self {
        Self::with_expiry(s.verifier, s.expires_at)
    }
}

impl RegisteredSecret {
    /// A secret with no expiry.
    pub fn new(verifier: SecretVerifier) -> Self {
        Self::with_expiry(verifier, None)
    }

    /// A secret that stops working at `expires_at`.
    pub fn expiring(verifier: SecretVerifier, expires_at: OffsetDateTime) -> Self {
        Self::with_expiry(verifier, Some(expires_at))
    }

    /// The one constructor, so that every `RegisteredSecret` has its key prepared.
    fn with_expiry(verifier: SecretVerifier, expires_at: Option<OffsetDateTime>) -> Self {
        Self {
            prepared: verifier.prepare(),
            verifier,
            expires_at,
        }
    }

    /// Whether the secret may be used at `now`.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_none_or(|e| now < e)
    }

    /// Checks a presented secret against [`verifier`](Self::verifier), in constant time with
    /// respect to the secret's content: the answer of [`SecretVerifier::verify`], with the HMAC
    /// key prepared when this secret was built. The expiry is not looked at (see
    /// [`is_active`](Self::is_active)).
    pub fn verify(&self, secret: &ClientSecret) -> bool {
        self.verifier
            .verify_prepared(self.prepared.as_ref(), secret)
    }

    /// Whether [`verify`](Self::verify) uses a key prepared for the current verifier (an
    /// HMAC-SHA256 one). For the equal-cost tests: decoys must be prepared like real secrets.
    #[cfg(test)]
    pub(crate) fn is_prepared(&self) -> bool {
        self.prepared
            .as_ref()
            .is_some_and(|p| p.is_for(&self.verifier))
    }
}

// By hand, not derived: the prepared key is a cache of `verifier`, so two secrets with the same
// verifier and expiry are equal whether or not either key is prepared, and `Debug` shows what
// it showed before the key existed. Destructuring makes a new field a compile error here.
impl PartialEq for RegisteredSecret {
    fn eq(&self, other: &Self) -> bool {
        let Self {
            verifier,
            expires_at,
            prepared: _,
        } = self;
        *verifier == other.verifier && *expires_at == other.expires_at
    }
}

impl Eq for RegisteredSecret {}

impl fmt::Debug for RegisteredSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            verifier,
            expires_at,
            prepared: _,
        } = self;
        f.debug_struct("RegisteredSecret")
            .field("verifier", verifier)
            .field("expires_at", expires_at)
            .finish()
    }
}

/// A registered client, as a [`crate::ClientStore`] returns it.
///
/// Build one with [`ClientRecord::builder`]. The defaults are the safe ones: enabled,
/// `client_credentials` allowed, `client_secret_basic` only, no scopes, `scope` required, the
/// engine's token lifetime, no resources.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct ClientRecord {
    /// The client identifier.
    pub id: ClientId,
    /// Its secrets; more than one while rotating.
    pub secrets: Vec<RegisteredSecret>,
    /// A disabled client fails authentication exactly like a wrong secret.
    pub enabled: bool,
    /// Grant types it may use.
    pub grant_types: Vec<GrantType>,
    /// Token-endpoint authentication methods it may use.
    pub auth_methods: Vec<AuthMethod>,
    /// Scopes it may be granted.
    pub allowed_scopes: Scope,
    /// What an omitted `scope` means.
    pub default_scope: DefaultScope,
    /// Token lifetime for this client; the engine default when `None`.
    #[serde(default, with = "duration_secs")]
    pub token_lifetime: Option<Duration>,
    /// Resources (RFC 8707) it may request.
    pub allowed_resources: Vec<Resource>,
    /// The audience of its tokens when it requests no resource. Never the client id.
    pub default_audience: Vec<Resource>,
    /// Whether it may call the introspection endpoint.
    pub may_introspect: bool,
    /// When not empty, introspection by this client reports a token as active only if the
    /// token's audience includes one of these (RFC 7662 §4: a resource server sees only tokens
    /// meant for it).
    pub introspect_audiences: Vec<Resource>,
    /// Its registered public keys for `private_key_jwt` (RFC 7591 §2 `jwks`), pinned to its
    /// `token_endpoint_auth_signing_alg`.
    #[serde(default)]
    pub keys: Option<ClientKeys>,
    /// Its registered `jwks_uri` (RFC 7591 §2), for `private_key_jwt` when `keys` is `None`.
    /// The core never fetches it: the embedder resolves it through a
    /// [`ClientKeysResolver`](crate::ClientKeysResolver) given to the engine builder.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// Whether its tokens must be DPoP-bound (RFC 9449 §5): a token request without a valid
    /// `DPoP` proof is refused with `invalid_dpop_proof`.
    #[serde(default)]
    pub require_dpop: bool,
}

mod duration_secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Duration;

    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.whole_seconds()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<i64>::deserialize(d)?.map(Duration::seconds))
    }
}

impl fmt::Debug for ClientRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientRecord")
            .field("id", &self.id)
            .field("secrets", &self.secrets.len())
            .field("enabled", &self.enabled)
            .field("grant_types", &self.grant_types)
            .field("auth_methods", &self.auth_methods)
            .field("allowed_scopes", &self.allowed_scopes)
            .field("default_scope", &self.default_scope)
            .field("token_lifetime", &self.token_lifetime)
            .field("allowed_resources", &self.allowed_resources)
            .field("default_audience", &self.default_audience)
            .field("may_introspect", &self.may_introspect)
            .field("introspect_audiences", &self.introspect_audiences)
            .field("keys", &self.keys.as_ref().map(|k| k.keys().len()))
            .field("jwks_uri", &self.jwks_uri)
            .field("require_dpop", &self.require_dpop)
            .finish()
    }
}

impl ClientRecord {
    /// Starts a record with the safe defaults.
    pub fn builder(id: ClientId) -> ClientRecordBuilder {
        ClientRecordBuilder(ClientRecord {
            id,
            secrets: Vec::new(),
            enabled: true,
            grant_types: vec![GrantType::ClientCredentials],
            auth_methods: vec![AuthMethod::ClientSecretBasic],
            allowed_scopes: Scope::default(),
            default_scope: DefaultScope::Deny,
            token_lifetime: None,
            allowed_resources: Vec::new(),
            default_audience: Vec::new(),
            may_introspect: false,
            introspect_audiences: Vec::new(),
            keys: None,
            jwks_uri: None,
            require_dpop: false,
        })
    }

    /// Whether the client is confidential: it has at least one secret or registered public
    /// keys (inline or a `jwks_uri`), and is not registered with `none`.
    pub fn is_confidential(&self) -> bool {
        let credentials =
            !self.secrets.is_empty() || self.keys.is_some() || self.jwks_uri.is_some();
        credentials && !self.auth_methods.contains(&AuthMethod::None)
    }
}

/// Builds a [`ClientRecord`].
#[derive(Debug)]
pub struct ClientRecordBuilder(ClientRecord);

impl ClientRecordBuilder {
    /// Adds a secret with no expiry.
    pub fn secret(mut self, verifier: SecretVerifier) -> Self {
        self.0.secrets.push(RegisteredSecret::new(verifier));
        self
    }

    /// Adds a secret that expires.
    pub fn secret_expiring(mut self, verifier: SecretVerifier, at: OffsetDateTime) -> Self {
        self.0
            .secrets
            .push(RegisteredSecret::expiring(verifier, at));
        self
    }

    /// Enables or disables the client.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.0.enabled = enabled;
        self
    }

    /// Sets the allowed grant types.
    pub fn grant_types(mut self, g: impl IntoIterator<Item = GrantType>) -> Self {
        self.0.grant_types = g.into_iter().collect();
        self
    }

    /// Sets the allowed authentication methods.
    pub fn auth_methods(mut self, m: impl IntoIterator<Item = AuthMethod>) -> Self {
        self.0.auth_methods = m.into_iter().collect();
        self
    }

    /// Sets the allowed scopes.
    pub fn scopes(mut self, scope: Scope) -> Self {
        self.0.allowed_scopes = scope;
        self
    }

    /// Sets what an omitted `scope` means.
    pub fn default_scope(mut self, d: DefaultScope) -> Self {
        self.0.default_scope = d;
        self
    }

    /// Sets the token lifetime.
    pub fn token_lifetime(mut self, d: Duration) -> Self {
        self.0.token_lifetime = Some(d);
        self
    }

    /// Sets the resources the client may request.
    pub fn allowed_resources(mut self, r: impl IntoIterator<Item = Resource>) -> Self {
        self.0.allowed_resources = r.into_iter().collect();
        self
    }

    /// Sets the audience used when no resource is requested.
    pub fn default_audience(mut self, r: impl IntoIterator<Item = Resource>) -> Self {
        self.0.default_audience = r.into_iter().collect();
        self
    }

    /// Allows or forbids introspection.
    pub fn may_introspect(mut self, yes: bool) -> Self {
        self.0.may_introspect = yes;
        self
    }

    /// Restricts introspection to tokens for these audiences.
    pub fn introspect_audiences(mut self, r: impl IntoIterator<Item = Resource>) -> Self {
        self.0.introspect_audiences = r.into_iter().collect();
        self
    }

    /// Registers public keys for `private_key_jwt`.
    pub fn keys(mut self, keys: ClientKeys) -> Self {
        self.0.keys = Some(keys);
        self
    }

    /// Registers a `jwks_uri` for `private_key_jwt`, resolved by the embedder.
    pub fn jwks_uri(mut self, uri: impl Into<String>) -> Self {
        self.0.jwks_uri = Some(uri.into());
        self
    }

    /// Requires DPoP-bound tokens.
    pub fn require_dpop(mut self, yes: bool) -> Self {
        self.0.require_dpop = yes;
        self
    }

    /// Finishes the record.
    pub fn build(self) -> ClientRecord {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SystemRandom;

    fn secret(s: &str) -> ClientSecret {
        ClientSecret::new(s).unwrap()
    }

    fn hmac(s: &str) -> SecretVerifier {
        SecretVerifier::hmac_sha256(s, &SystemRandom::new()).unwrap()
    }

    #[test]
    fn rfc6819_5_1_4_1_3_every_constructor_prepares_the_key() {
        let v: SecretVerifier = hmac("x-secret-0123").to_string().parse().unwrap();
        let at = OffsetDateTime::UNIX_EPOCH;
        let json = serde_json::to_string(&RegisteredSecret::expiring(v.clone(), at)).unwrap();
        let read: RegisteredSecret = serde_json::from_str(&json).unwrap();
        for s in [
            RegisteredSecret::new(v.clone()),
            RegisteredSecret::expiring(v.clone(), at),
            read,
        ] {
            assert!(s.is_prepared(), "{s:?}");
            assert!(s.verify(&secret("x-secret-0123")));
            assert!(!s.verify(&secret("x-secret-0124")));
            // The same answers as the unprepared verifier.
            assert!(s.verifier.verify(&secret("x-secret-0123")));
            assert!(!s.verifier.verify(&secret("x-secret-0124")));
        }
        // PBKDF2 has nothing to prepare and verifies as before.
        let it = std::num::NonZeroU32::new(1000).unwrap();
        let p = RegisteredSecret::new(
            SecretVerifier::pbkdf2_sha256("pw", it, &SystemRandom::new()).unwrap(),
        );
        assert!(!p.is_prepared());
        assert!(p.verify(&secret("pw")) && !p.verify(&secret("pW")));
    }

    #[test]
    fn the_prepared_key_is_not_part_of_equality_debug_or_serde() {
        let v = hmac("x-secret-0123");
        let mut a = RegisteredSecret::new(v.clone());
        let b = RegisteredSecret::new(v.clone());
        assert_eq!(a, b);
        assert_eq!(
            format!("{a:?}"),
            "RegisteredSecret { verifier: SecretVerifier(hmac-sha256), expires_at: None }"
        );
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "verifier": v.to_string(), "expires_at": null })
        );
        assert_eq!(serde_json::from_value::<RegisteredSecret>(json).unwrap(), a);
        // Without the key (replaced in place below, then restored) it is still equal.
        a.verifier = hmac("other-secret-0123");
        assert_ne!(a, b);
        a.verifier = v;
        assert_eq!(a, b);
    }

    #[test]
    fn a_verifier_replaced_in_place_is_verified_by_its_own_salt() {
        // The field is public: a key prepared for the old salt must not decide for the new one.
        let mut s = RegisteredSecret::new(hmac("old-secret-0123"));
        s.verifier = hmac("new-secret-0123");
        assert!(!s.is_prepared());
        assert!(s.verify(&secret("new-secret-0123")));
        assert!(!s.verify(&secret("old-secret-0123")));
    }
}

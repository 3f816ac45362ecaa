//! Key sets: the public keys as a JSON Web Key Set (RFC 7517 §5), and the signing set that
//! rotates with overlap (RFC 9700 §2.6).

use crate::tokens::jws;
use crate::tokens::jwt::AT_JWT_TYPE;
use crate::tokens::keys::{
    KeyError, MAX_JWKS_BYTES, MAX_JWKS_KEYS, SignError, SigningKey, VerifyingKey,
};
use serde_json::{Value, json};
use std::fmt;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

/// A JSON Web Key Set of public keys (RFC 7517 §5), unique by `kid`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Jwks {
    keys: Vec<VerifyingKey>,
}

impl Jwks {
    /// A set of these keys; a repeated `kid` gives [`KeyError::DuplicateKid`].
    pub fn new(keys: impl IntoIterator<Item = VerifyingKey>) -> Result<Self, KeyError> {
        let mut set = Self::default();
        for k in keys {
            set.insert(k)?;
        }
        Ok(set)
    }

    pub(crate) fn insert(&mut self, key: VerifyingKey) -> Result<(), KeyError> {
        if self.get(key.kid()).is_some() {
            return Err(KeyError::DuplicateKid);
        }
        self.keys.push(key);
        Ok(())
    }

    /// The key with this `kid`.
    pub fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.iter().find(|k| k.kid() == kid)
    }

    /// The keys, in order.
    pub fn iter(&self) -> impl Iterator<Item = &VerifyingKey> {
        self.keys.iter()
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The JWK Set document, `{"keys": [...]}`.
    pub fn to_value(&self) -> Value {
        json!({ "keys": self.keys.iter().map(VerifyingKey::to_jwk).collect::<Vec<_>>() })
    }

    /// The JWK Set document as JSON bytes, to serve at a `jwks_uri` with
    /// `Content-Type: application/jwk-set+json` (RFC 7517 §8.5.1) or `application/json`.
    pub fn to_json(&self) -> Vec<u8> {
        self.to_value().to_string().into_bytes()
    }

    /// Parses a JWK Set document (at most 256 KiB and 64 keys).
    ///
    /// RFC 7517 §5: "Implementations SHOULD ignore JWKs within a JWK Set that use "kty" values
    /// that are not understood by them, that are missing required members, or for which values
    /// are out of the supported ranges": such keys, and keys with `use` other than `sig`, are
    /// skipped. A key holding private material, a repeated `kid`, or a document that is not an
    /// object with a `keys` array is an error.
    pub fn from_json(json: &[u8]) -> Result<Self, KeyError> {
        let mut set = Self::default();
        for jwk in &jwk_members(json)? {
            match VerifyingKey::from_jwk(jwk) {
                Ok(k) => set.insert(k)?,
                Err(KeyError::PrivateJwk) => return Err(KeyError::PrivateJwk),
                Err(_) => {}
            }
        }
        Ok(set)
    }
}

/// The `keys` member of a JWK Set document (RFC 7517 §5): the bounds every parsed set shares,
/// at most 256 KiB and 64 keys, and an object without duplicate members.
pub(crate) fn jwk_members(json: &[u8]) -> Result<Vec<Value>, KeyError> {
    if json.len() > MAX_JWKS_BYTES {
        return Err(KeyError::BadJwks);
    }
    let mut doc = crate::tokens::json::object(json).ok_or(KeyError::BadJwks)?;
    match doc.remove("keys") {
        Some(Value::Array(keys)) if keys.len() <= MAX_JWKS_KEYS => Ok(keys),
        _ => Err(KeyError::BadJwks),
    }
}

/// One active signing key plus verification-only keys, for rotation with overlap.
///
/// RFC 9700 §2.6, RFC 8414 §2: publish the next key before it signs,
/// keep the old one until every token it signed has expired. With jeton:
///
/// 1. `KeySet::new(current).with_verification_key(next.verifying_key().clone())` — the next
///    key is in the JWKS; wait for resource servers' JWKS caches to refresh.
/// 2. `set.rotate(next)` — `next` signs; `current` stays as verification-only.
/// 3. After the longest token lifetime (plus leeway) has passed, `set.retire(old_kid)`.
///
/// `Debug` prints the `kid`s only.
pub struct KeySet {
    active: SigningKey,
    others: Vec<VerifyingKey>,
    /// The active key's JWT access token header, base64url ([`KeySet::at_jwt_header`]): the
    /// same for every token it signs, so encoded at the first one rather than for each. Reset
    /// whenever `active` changes.
    at_jwt_header: OnceLock<String>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySet")
            .field("active", &self.active)
            .field("others", &self.others)
            .finish()
    }
}

impl KeySet {
    /// A set whose only key is `active`.
    pub fn new(active: SigningKey) -> Self {
        Self {
            active,
            others: Vec::new(),
            at_jwt_header: OnceLock::new(),
        }
    }

    /// Adds a verification-only key (an old key still within its tokens' lifetime, or the next
    /// key, published ahead of use). A `kid` already in the set gives
    /// [`KeyError::DuplicateKid`].
    pub fn with_verification_key(mut self, key: VerifyingKey) -> Result<Self, KeyError> {
        if self.contains(key.kid()) {
            return Err(KeyError::DuplicateKid);
        }
        self.others.push(key);
        Ok(self)
    }

    /// Makes `next` the active key and keeps the previous active key for verification only.
    /// If `next`'s public key was published already (same `kid`), that entry becomes the active
    /// key. Another key with the same `kid` gives [`KeyError::DuplicateKid`].
    pub fn rotate(mut self, next: SigningKey) -> Result<Self, KeyError> {
        if let Some(i) = self.others.iter().position(|k| k.kid() == next.kid()) {
            if self.others.get(i) != Some(next.verifying_key()) {
                return Err(KeyError::DuplicateKid);
            }
            self.others.remove(i);
        } else if self.active.kid() == next.kid() {
            return Err(KeyError::DuplicateKid);
        }
        let old = std::mem::replace(&mut self.active, next);
        self.at_jwt_header = OnceLock::new();
        self.others.insert(0, old.verifying_key().clone());
        Ok(self)
    }

    /// Removes a verification-only key. Returns whether it was there; the active key cannot be
    /// retired (rotate first).
    pub fn retire(&mut self, kid: &str) -> bool {
        let before = self.others.len();
        self.others.retain(|k| k.kid() != kid);
        self.others.len() != before
    }

    /// The key that signs.
    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    /// The protected header of the JWT access tokens the active key signs,
    /// `{"alg","typ":"at+jwt","kid"}` base64url-encoded (RFC 9068 §2.1): encoded at the first
    /// call and kept, since it never changes for one key.
    pub(crate) fn at_jwt_header(&self) -> Result<&str, SignError> {
        if let Some(header) = self.at_jwt_header.get() {
            return Ok(header);
        }
        let header = jws::encoded_header(&self.active, AT_JWT_TYPE)?;
        Ok(self.at_jwt_header.get_or_init(|| header))
    }

    /// Whether a key with this `kid` is in the set.
    pub fn contains(&self, kid: &str) -> bool {
        self.active.kid() == kid || self.others.iter().any(|k| k.kid() == kid)
    }

    /// Every public key, the active one first: what to publish at the `jwks_uri`.
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: std::iter::once(self.active.verifying_key().clone())
                .chain(self.others.iter().cloned())
                .collect(),
        }
    }
}

/// A live view of a [`JwtIssuer`](crate::JwtIssuer)'s key set ([`JwtIssuer::live_keys`](crate::JwtIssuer::live_keys)):
/// it shares the issuer's slot rather than copying it, so a rotation through
/// [`JwtIssuer::replace_keys`](crate::JwtIssuer::replace_keys) is seen by every holder at once.
/// A validator in the same process holds one. Cheap to clone.
#[derive(Clone)]
pub struct LiveKeys(pub(crate) Arc<Swap<KeySet>>);

impl LiveKeys {
    /// The public keys of the issuer's current set.
    pub fn jwks(&self) -> Jwks {
        self.0.load().jwks()
    }
}

impl std::fmt::Debug for LiveKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("LiveKeys").field(&self.0.load()).finish()
    }
}

/// A value that can be swapped while readers hold the old one (keys rotated at run time).
pub(crate) struct Swap<T>(RwLock<Arc<T>>);

impl<T> Swap<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(RwLock::new(Arc::new(value)))
    }

    pub(crate) fn load(&self) -> Arc<T> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn store(&self, value: T) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(value);
    }
}

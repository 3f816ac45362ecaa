//! The facts about one issued token, shared by the opaque store, the JWT issuer, introspection
//! and the validators.

use crate::types::{ClientId, Resource, Scope};
use ring::digest;
use std::fmt;
use time::OffsetDateTime;

/// The SHA-256 digest of a token value: the only form in which opaque tokens are stored.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    /// Digests a token value.
    pub fn of(token: &str) -> Self {
        let mut out = [0u8; 32];
        out.copy_from_slice(digest::digest(&digest::SHA256, token.as_bytes()).as_ref());
        Self(out)
    }

    /// Rebuilds a digest from its bytes (as a store keeps them).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenDigest(")?;
        for b in &self.0[..4] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "..)")
    }
}

/// What is stored for one opaque token.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenRecord {
    /// Digest of the token value.
    pub digest: TokenDigest,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// Its subject.
    pub subject: String,
    /// Granted scope.
    pub scope: Scope,
    /// Audience.
    pub audience: Vec<Resource>,
    /// Issue instant.
    pub issued_at: OffsetDateTime,
    /// Expiry instant.
    pub expires_at: OffsetDateTime,
}

impl TokenRecord {
    /// Builds a record.
    pub fn new(
        digest: TokenDigest,
        client_id: ClientId,
        subject: String,
        scope: Scope,
        audience: Vec<Resource>,
        issued_at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Self {
        Self {
            digest,
            client_id,
            subject,
            scope,
            audience,
            issued_at,
            expires_at,
        }
    }

    /// Whether the token is still valid at `now`.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        now < self.expires_at
    }
}

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

/// The facts about one issued access token: who it was issued to, for what, and when it is
/// valid. The one description shared by the opaque store ([`TokenRecord`]), the JWT issuer,
/// introspection and both bearer-validation paths.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenClaims {
    /// The client it was issued to (`client_id`).
    pub client_id: ClientId,
    /// Its subject (`sub`).
    pub subject: String,
    /// Granted scope (`scope`).
    pub scope: Scope,
    /// Audience (`aud`): resource indicators (RFC 8707), never the client id.
    pub audience: Vec<Resource>,
    /// Issue instant (`iat`).
    pub issued_at: OffsetDateTime,
    /// Expiry instant (`exp`).
    pub expires_at: OffsetDateTime,
    /// Its `jti`: always present for JWTs, `None` for opaque tokens.
    pub jti: Option<String>,
    /// The key it is bound to (`cnf`, RFC 7800 §3.1), for a DPoP-bound token (RFC 9449 §6);
    /// `None` for a bearer token.
    pub confirmation: Option<Confirmation>,
}

/// A token's confirmation (`cnf`, RFC 7800 §3.1): the key its presenter must prove it holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Confirmation {
    /// `jkt`: the RFC 7638 SHA-256 thumbprint of the DPoP key, base64url (RFC 9449 §6.1).
    pub jkt: String,
}

impl Confirmation {
    /// A confirmation by DPoP key thumbprint (`{"jkt": ...}`).
    pub fn jkt(thumbprint: impl Into<String>) -> Self {
        Self {
            jkt: thumbprint.into(),
        }
    }

    /// The `cnf` claim value, `{"jkt": "..."}` (RFC 9449 §6.1), for JWTs and introspection
    /// (RFC 9449 §6.2).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::json!({ "jkt": self.jkt })
    }
}

impl TokenClaims {
    /// The claims of a token without a `jti` (add one with [`TokenClaims::with_jti`]).
    pub fn new(
        client_id: ClientId,
        subject: String,
        scope: Scope,
        audience: Vec<Resource>,
        issued_at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Self {
        Self {
            client_id,
            subject,
            scope,
            audience,
            issued_at,
            expires_at,
            jti: None,
            confirmation: None,
        }
    }

    /// The same claims bound to a key (`cnf`, RFC 9449 §6).
    pub fn with_confirmation(mut self, confirmation: Confirmation) -> Self {
        self.confirmation = Some(confirmation);
        self
    }

    /// The same claims with this `jti`.
    pub fn with_jti(mut self, jti: impl Into<String>) -> Self {
        self.jti = Some(jti.into());
        self
    }

    /// Whether the token is within its lifetime at `now`: issued at or before `now`, and not yet
    /// expired (RFC 7662 §2.2: an expired token is inactive). The one rule for the authorization
    /// server, which judges by its own clock; a resource server's validator, judging a token from
    /// another host's clock, adds its configured leeway to `exp`, `nbf` and `iat` instead.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.issued_at <= now && now < self.expires_at
    }
}

/// What is stored for one opaque token: the digest of its value (never the value) and its
/// claims.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenRecord {
    /// Digest of the token value.
    pub digest: TokenDigest,
    /// What the token grants.
    pub claims: TokenClaims,
}

impl TokenRecord {
    /// Builds a record.
    pub fn new(digest: TokenDigest, claims: TokenClaims) -> Self {
        Self { digest, claims }
    }

    /// Whether the token is within its lifetime at `now` ([`TokenClaims::is_active`]).
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.claims.is_active(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    #[test]
    fn rfc7662_2_2_active_only_between_issue_and_expiry() {
        let iat = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
        let claims = TokenClaims::new(
            ClientId::new("c").unwrap(),
            "c".into(),
            Scope::default(),
            Vec::new(),
            iat,
            iat + Duration::minutes(5),
        );
        assert!(!claims.is_active(iat - Duration::seconds(1)));
        assert!(claims.is_active(iat));
        assert!(!claims.is_active(iat + Duration::minutes(5)));
        let record = TokenRecord::new(TokenDigest::of("t"), claims.clone());
        assert_eq!(
            record.is_active(iat - Duration::seconds(1)),
            claims.is_active(iat - Duration::seconds(1))
        );
    }
}

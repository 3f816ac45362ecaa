//! The JWS signature algorithms jeton signs and verifies with.

use std::fmt;
use std::str::FromStr;

/// A JWS signature algorithm jeton signs and verifies with (RFC 7518 §3.1, RFC 8037 §3.1).
///
/// Asymmetric only. RFC 8725 §3.1-3.2: "libraries MUST enable the caller to specify a supported
/// set of algorithms and MUST NOT use any other algorithms"; there is no `none` and no HMAC
/// variant, so neither can be named, configured, issued or accepted.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[non_exhaustive]
pub enum Algorithm {
    /// `ES256`: ECDSA with P-256 and SHA-256 (RFC 7518 §3.4). The default: small and fast.
    #[default]
    #[serde(rename = "ES256")]
    Es256,
    /// `EdDSA` with Ed25519 (RFC 8037 §3.1).
    #[serde(rename = "EdDSA")]
    EdDsa,
    /// `RS256`: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), for verifiers that know no
    /// other. Keys of 2048 to 8192 bits; jeton loads RSA keys but cannot generate them.
    #[serde(rename = "RS256")]
    Rs256,
    /// `PS256`: RSASSA-PSS with SHA-256 and MGF1 with SHA-256 (RFC 7518 §3.5). Verification
    /// only: clients sign their assertions and DPoP proofs with it (RFC 7523, RFC 9449); jeton
    /// never signs with it, so it is not in [`Algorithm::ALL`].
    #[serde(rename = "PS256")]
    Ps256,
}

impl Algorithm {
    /// Every algorithm jeton signs with (and verifies its own tokens with), the default first.
    pub const ALL: [Algorithm; 3] = [Self::Es256, Self::EdDsa, Self::Rs256];

    /// Every algorithm jeton verifies a client's signature with (client assertions, RFC 7523;
    /// DPoP proofs, RFC 9449): [`Algorithm::ALL`] and `PS256`.
    pub const VERIFY: [Algorithm; 4] = [Self::Es256, Self::EdDsa, Self::Rs256, Self::Ps256];

    /// The registered `alg` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
            Self::Rs256 => "RS256",
            Self::Ps256 => "PS256",
        }
    }

    /// Whether the key type is RSA (RS256 and PS256 share one key type, RFC 7518 §6.3).
    pub const fn is_rsa(self) -> bool {
        matches!(self, Self::Rs256 | Self::Ps256)
    }

    /// The algorithm with this registered `alg` name. RFC 7515 §4.1.1: the value is
    /// case-sensitive, so `es256` is not `ES256`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::VERIFY.into_iter().find(|a| a.as_str() == name)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name was not one of [`Algorithm::VERIFY`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unsupported JWS algorithm (expected ES256, EdDSA, RS256 or PS256)")]
pub struct UnknownAlgorithm;

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or(UnknownAlgorithm)
    }
}

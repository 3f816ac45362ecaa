//! JWS compact serialization (RFC 7515 §3.1, §7.1) with ring: the algorithms, the encoder and a
//! total parser.
//!
//! Only what JWT access tokens need: three asymmetric algorithms, one signature, no unprotected
//! header, no detached or unencoded payload. The parser never panics and never allocates more
//! than a constant factor of its input; callers bound the input (the bearer validator refuses
//! tokens longer than its configured limit before parsing).

use crate::keys::SigningKey;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
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
}

impl Algorithm {
    /// Every algorithm jeton implements, the default first.
    pub const ALL: [Algorithm; 3] = [Self::Es256, Self::EdDsa, Self::Rs256];

    /// The registered `alg` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
            Self::Rs256 => "RS256",
        }
    }

    /// The algorithm with this registered `alg` name. RFC 7515 §4.1.1: the value is
    /// case-sensitive, so `es256` is not `ES256`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name was not one of [`Algorithm::ALL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unsupported JWS algorithm (expected ES256, EdDSA or RS256)")]
pub struct UnknownAlgorithm;

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or(UnknownAlgorithm)
    }
}

/// Signing failed (the key or the platform's random source refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("JWS signing failed")]
pub struct SignError;

/// Signs `claims` as a JWT with the header `{"alg", "typ", "kid"}` taken from `key` and `typ`
/// (RFC 7515 §5.1, RFC 7519 §7.1).
///
/// [`crate::JwtIssuer`] uses this with `typ` = `at+jwt`. It is public so that tests and tools
/// can mint tokens with chosen claims; nothing checks the claims here.
pub fn sign_jwt(key: &SigningKey, typ: &str, claims: &Value) -> Result<String, SignError> {
    let claims = serde_json::to_vec(claims).map_err(|_| SignError)?;
    encode_jwt(key, typ, &claims)
}

/// Signs `payload` under the header `{"alg", "typ", "kid"}`.
pub(crate) fn encode_jwt(key: &SigningKey, typ: &str, payload: &[u8]) -> Result<String, SignError> {
    #[derive(serde::Serialize)]
    struct Header<'a> {
        alg: &'static str,
        typ: &'a str,
        kid: &'a str,
    }
    let header = Header {
        alg: key.algorithm().as_str(),
        typ,
        kid: key.kid(),
    };
    let header = serde_json::to_vec(&header).map_err(|_| SignError)?;
    sign_compact(key, &header, payload)
}

/// Signs `payload` under exactly these `header` bytes and returns the compact serialization
/// `base64url(header) . base64url(payload) . base64url(signature)` (RFC 7515 §7.1).
///
/// Nothing is checked: the header need not even be JSON. For tests and fuzzing, which need
/// correctly signed tokens with wrong contents; use [`sign_jwt`] otherwise.
pub fn sign_compact(key: &SigningKey, header: &[u8], payload: &[u8]) -> Result<String, SignError> {
    let mut out = String::with_capacity((header.len() + payload.len()) * 4 / 3 + 400);
    B64URL.encode_string(header, &mut out);
    out.push('.');
    B64URL.encode_string(payload, &mut out);
    let signature = key.sign(out.as_bytes())?;
    out.push('.');
    B64URL.encode_string(signature, &mut out);
    Ok(out)
}

/// A JWS in compact serialization, split and decoded but not verified.
pub(crate) struct Compact<'a> {
    /// `ASCII(BASE64URL(header) || '.' || BASE64URL(payload))`, what the signature covers.
    pub(crate) signing_input: &'a str,
    /// The protected header, a JSON object without duplicate members.
    pub(crate) header: Map<String, Value>,
    /// The decoded payload bytes.
    pub(crate) payload: Vec<u8>,
    /// The decoded signature.
    pub(crate) signature: Vec<u8>,
}

/// The token is not a well-formed JWS compact serialization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Malformed;

/// Splits and decodes a compact JWS. Total: any input gives `Ok` or `Err(Malformed)`.
pub(crate) fn parse(token: &str) -> Result<Compact<'_>, Malformed> {
    // RFC 7515 §7.1: exactly three parts separated by two periods.
    let (signing_input, signature) = token.rsplit_once('.').ok_or(Malformed)?;
    let (header, payload) = signing_input.split_once('.').ok_or(Malformed)?;
    if payload.contains('.') {
        return Err(Malformed);
    }
    // RFC 7515 §2: BASE64URL without padding. The decoder also refuses non-canonical trailing
    // bits, so no two encodings decode to the same bytes and any changed character is seen.
    let header = B64URL.decode(header).map_err(|_| Malformed)?;
    let payload = B64URL.decode(payload).map_err(|_| Malformed)?;
    let signature = B64URL.decode(signature).map_err(|_| Malformed)?;
    // RFC 7515 §5.2 step 4: the header must be a completely valid JSON object; step 8 of §4:
    // duplicate header parameter names are rejected (never "last one wins").
    let header = object(&header).ok_or(Malformed)?;
    if signature.is_empty() {
        return Err(Malformed);
    }
    Ok(Compact {
        signing_input,
        header,
        payload,
        signature,
    })
}

/// Parses a JSON object whose top-level member names are all distinct (RFC 7515 §5.2 step 4,
/// RFC 7519 §7.2 step 10: "the JWT MUST be rejected" on duplicate names, or an attacker could
/// pick which copy a verifier reads).
pub(crate) fn object(bytes: &[u8]) -> Option<Map<String, Value>> {
    serde_json::from_slice::<UniqueObject>(bytes)
        .ok()
        .map(|o| o.0)
}

struct UniqueObject(Map<String, Value>);

impl<'de> Deserialize<'de> for UniqueObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UniqueObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object with distinct member names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<UniqueObject, A::Error> {
                let mut m = Map::new();
                while let Some(k) = a.next_key::<String>()? {
                    if m.contains_key(&k) {
                        return Err(de::Error::custom("duplicate member"));
                    }
                    let v: Value = a.next_value()?;
                    m.insert(k, v);
                }
                Ok(UniqueObject(m))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7515_4_1_1_alg_names_are_case_sensitive() {
        assert_eq!(Algorithm::from_name("ES256"), Some(Algorithm::Es256));
        assert_eq!(Algorithm::from_name("EdDSA"), Some(Algorithm::EdDsa));
        assert_eq!(Algorithm::from_name("RS256"), Some(Algorithm::Rs256));
        for bad in ["es256", "none", "HS256", "", "ES256 "] {
            assert_eq!(Algorithm::from_name(bad), None, "{bad}");
        }
        assert_eq!(Algorithm::default(), Algorithm::Es256);
    }

    #[test]
    fn rfc8725_3_1_no_none_and_no_hmac_can_be_named() {
        for a in Algorithm::ALL {
            assert!(!a.as_str().starts_with("HS") && a.as_str() != "none");
        }
        assert!("none".parse::<Algorithm>().is_err());
        assert!(serde_json::from_str::<Algorithm>("\"HS256\"").is_err());
    }

    #[test]
    fn rfc7515_7_1_compact_has_exactly_three_parts() {
        for bad in [
            "",
            ".",
            "..",
            "a.b",
            "a.b.c.d",
            "e30.e30.",
            ".e30.AA",
            "e30.e30.AA.AA",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse("e30.e30.AA").is_ok());
        // An empty payload is a valid JWS; the JWT claims check refuses it later.
        assert!(parse("e30..AA").is_ok());
    }

    #[test]
    fn rfc7515_2_base64url_is_unpadded_and_canonical() {
        // `e30` is `{}`; `e31` has non-zero trailing bits and must not decode to the same bytes.
        assert!(parse("e30.e30.AA").is_ok());
        assert!(parse("e31.e30.AA").is_err());
        assert!(parse("e30=.e30.AA").is_err());
        assert!(parse("e30.e30.AB").is_err());
        assert!(parse("e30.e30.A+").is_err());
    }

    #[test]
    fn rfc7515_5_2_duplicate_header_members_are_rejected() {
        let h = B64URL.encode(br#"{"alg":"ES256","alg":"none"}"#);
        assert!(parse(&format!("{h}.e30.AA")).is_err());
        assert!(object(br#"{"a":1,"b":{"c":1}}"#).is_some());
        assert!(object(br#"{"a":1,"a":1}"#).is_none());
        assert!(object(b"[]").is_none());
        assert!(object(b"{} x").is_none());
    }
}

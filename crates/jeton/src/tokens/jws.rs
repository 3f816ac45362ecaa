//! JWS compact serialization (RFC 7515 §3.1, §7.1) with ring: the algorithms, the encoder and a
//! total parser.
//!
//! Only what JWT access tokens need: three asymmetric algorithms, one signature, no unprotected
//! header, no detached or unencoded payload. The parser never panics and never allocates more
//! than a constant factor of its input; callers bound the input (the bearer validator refuses
//! tokens longer than its configured limit before parsing).

use crate::tokens::json::object;
use crate::tokens::keys::{SignError, SigningKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::{Map, Value};

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
    compact(key, &encoded_header(key, typ)?, payload)
}

/// The protected header `{"alg", "typ", "kid"}` of a JWT signed by `key` (RFC 7515 §4.1.1,
/// §4.1.4, §4.1.9), base64url-encoded: the first part of every such JWS, the same bytes for
/// every token of one key and `typ`, so [`crate::JwtIssuer`] computes it once per key set
/// ([`KeySet::at_jwt_header`](crate::tokens::key_set::KeySet::at_jwt_header)).
pub(crate) fn encoded_header(key: &SigningKey, typ: &str) -> Result<String, SignError> {
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
    Ok(B64URL.encode(header))
}

/// Signs `payload` under exactly these `header` bytes and returns the compact serialization
/// `base64url(header) . base64url(payload) . base64url(signature)` (RFC 7515 §7.1).
///
/// Nothing is checked: the header need not even be JSON. For tests and fuzzing, which need
/// correctly signed tokens with wrong contents; use [`sign_jwt`] otherwise.
pub fn sign_compact(key: &SigningKey, header: &[u8], payload: &[u8]) -> Result<String, SignError> {
    compact(key, &B64URL.encode(header), payload)
}

/// Signs `payload` under a header already base64url-encoded (`encoded_header`): the compact
/// serialization, written into one `String` allocated once at its final size.
pub(crate) fn compact(
    key: &SigningKey,
    encoded_header: &str,
    payload: &[u8],
) -> Result<String, SignError> {
    // Only a capacity: an overflow (impossible for a token) would merely let the String grow.
    let b64_len = |n: usize| base64::encoded_len(n, false).unwrap_or(0);
    let mut out = String::with_capacity(
        encoded_header.len() + 1 + b64_len(payload.len()) + 1 + b64_len(key.signature_len()),
    );
    out.push_str(encoded_header);
    out.push('.');
    B64URL.encode_string(payload, &mut out);
    let signature = key.sign(out.as_bytes())?;
    out.push('.');
    B64URL.encode_string(signature, &mut out);
    Ok(out)
}

/// Header parameters a verifier of jeton's never honours, so a JWS naming one is refused:
/// RFC 8725 §3.10 and RFC-CHECKLIST item 37, keys come only from configuration, never from
/// `jku`, `x5u`, `jwk` or `x5c`; RFC 7515 §4.1.11, a `crit` extension jeton does not
/// understand (it understands none) "MUST" make the JWS invalid. (DPoP proofs carry their key
/// in `jwk` by design, RFC 9449 §4.2, and check the others themselves.)
pub(crate) const UNTRUSTED_HEADERS: [&str; 5] = ["jku", "x5u", "jwk", "x5c", "crit"];

/// Whether `header` names one of [`UNTRUSTED_HEADERS`].
pub(crate) fn has_untrusted_header(header: &Map<String, Value>) -> bool {
    UNTRUSTED_HEADERS.iter().any(|k| header.contains_key(*k))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::algorithm::Algorithm;

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

//! A client's registered public keys (RFC 7591 §2 `jwks`), pinned to the one algorithm the
//! client registered (`token_endpoint_auth_signing_alg`), for private_key_jwt (RFC 7523).
//!
//! Stricter than a resource server's [`Jwks::from_json`]: a client registers its keys once, so a
//! key jeton cannot use is a registration mistake to report, not something to skip.

use crate::tokens::algorithm::Algorithm;
use crate::tokens::key_set::{Jwks, jwk_members};
use crate::tokens::keys::{KeyError, MAX_JWKS_KEYS, VerifyingKey};

/// A client's public keys, every one pinned to the client's signing algorithm.
///
/// RFC-CHECKLIST item 31 (RFC 8725 §3.1): the algorithm is the client's, never the token's;
/// it is one of [`Algorithm::VERIFY`], so never `none` or HMAC, and a public key is never an
/// HMAC secret. Item 37: keys come only from here, never from a token's `jku`, `x5u` or `jwk`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientKeys {
    alg: Algorithm,
    keys: Jwks,
}

/// Why a key set was refused, as [`KeyError`]s:
///
/// - [`KeyError::PrivateJwk`]: a key holds private members (`d`, `p`, `q`, ...);
/// - [`KeyError::BadJwk`]: a key of unknown `kty` or `crv`, malformed, with `use` other than
///   `sig`, an RSA modulus outside 2048-8192 bits, or an `alg` (or key type) other than the
///   client's algorithm;
/// - [`KeyError::BadJwks`]: not a `{"keys": [...]}` object, larger than 256 KiB, no key, or
///   more than 64;
/// - [`KeyError::DuplicateKid`]: two keys share a `kid`.
impl ClientKeys {
    /// These keys, pinned to `alg`. An RSA key serves RS256 or PS256; any other key only its own
    /// algorithm.
    pub fn new(
        alg: Algorithm,
        keys: impl IntoIterator<Item = VerifyingKey>,
    ) -> Result<Self, KeyError> {
        let mut set = Jwks::default();
        for key in keys {
            if set.len() >= MAX_JWKS_KEYS {
                return Err(KeyError::BadJwks);
            }
            set.insert(key.with_algorithm(alg)?)?;
        }
        if set.is_empty() {
            return Err(KeyError::BadJwks);
        }
        Ok(Self { alg, keys: set })
    }

    /// Parses a client's JWK Set document (RFC 7517 §5) and pins every key to `alg`.
    ///
    /// A key whose own `alg` member names another algorithm is refused (RFC 7517 §4.4: the
    /// key is "intended for use with" that algorithm only).
    pub fn from_json(json: &[u8], alg: Algorithm) -> Result<Self, KeyError> {
        let jwks = jwk_members(json)?;
        let mut keys = Vec::with_capacity(jwks.len());
        for jwk in &jwks {
            let key = VerifyingKey::from_jwk(jwk)?;
            let named = jwk.get("alg").is_some();
            if named && key.algorithm() != alg {
                return Err(KeyError::BadJwk);
            }
            keys.push(key);
        }
        Self::new(alg, keys)
    }

    /// The client's algorithm: the only `alg` its assertions may use.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The keys.
    pub fn keys(&self) -> &Jwks {
        &self.keys
    }

    /// The key an assertion's `kid` names. Without a `kid` only a set of one key can answer:
    /// with several keys of the one algorithm, trying each would let the client choose.
    pub(crate) fn select(&self, kid: Option<&str>) -> Option<&VerifyingKey> {
        match kid {
            Some(kid) => self.keys.get(kid),
            None if self.keys.len() == 1 => self.keys.iter().next(),
            None => None,
        }
    }
}

/// Stored as `{"alg": "ES256", "keys": [...]}`: the algorithm and the public JWKs, read back
/// through [`ClientKeys::from_json`] with every check.
impl serde::Serialize for ClientKeys {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut doc = self.keys.to_value();
        if let Some(m) = doc.as_object_mut() {
            m.insert("alg".to_owned(), self.alg.as_str().into());
        }
        doc.serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for ClientKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut doc = serde_json::Value::deserialize(d)?;
        let alg = doc
            .as_object_mut()
            .and_then(|m| m.remove("alg"))
            .and_then(|a| a.as_str().and_then(Algorithm::from_name))
            .ok_or_else(|| D::Error::custom("client keys need an `alg`"))?;
        Self::from_json(doc.to_string().as_bytes(), alg).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::keys::SigningKey;
    use serde_json::{Value, json};

    fn jwks(keys: &[Value]) -> Vec<u8> {
        json!({ "keys": keys }).to_string().into_bytes()
    }

    #[test]
    fn rfc7517_5_client_jwks_pins_every_key_to_the_client_alg() {
        let ec = SigningKey::generate(Algorithm::Es256).unwrap();
        let set =
            ClientKeys::from_json(&jwks(&[ec.verifying_key().to_jwk()]), Algorithm::Es256).unwrap();
        assert_eq!(set.algorithm(), Algorithm::Es256);
        assert_eq!(set.keys().len(), 1);
        // An EC key cannot serve an EdDSA client.
        assert_eq!(
            ClientKeys::from_json(&jwks(&[ec.verifying_key().to_jwk()]), Algorithm::EdDsa)
                .unwrap_err(),
            KeyError::BadJwk
        );
    }

    #[test]
    fn rfc7517_4_4_jwk_alg_must_equal_the_client_alg() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let rsa = json!({ "kty": "RSA", "n": n, "e": "AQAB" });
        // Without `alg`, an RSA key serves either RSA algorithm.
        for alg in [Algorithm::Rs256, Algorithm::Ps256] {
            let set = ClientKeys::from_json(&jwks(std::slice::from_ref(&rsa)), alg).unwrap();
            assert_eq!(set.keys().iter().next().unwrap().algorithm(), alg);
        }
        let mut named = rsa.clone();
        named["alg"] = json!("RS256");
        assert_eq!(
            ClientKeys::from_json(&jwks(&[named]), Algorithm::Ps256).unwrap_err(),
            KeyError::BadJwk
        );
        assert!(
            ClientKeys::new(Algorithm::Es256, [VerifyingKey::from_jwk(&rsa).unwrap()]).is_err()
        );
    }

    #[test]
    fn rfc7591_2_private_unknown_and_oversized_keys_are_refused() {
        let ed = SigningKey::generate(Algorithm::EdDsa).unwrap();
        let mut private = ed.verifying_key().to_jwk();
        private["d"] = json!("AAAA");
        assert_eq!(
            ClientKeys::from_json(&jwks(&[private]), Algorithm::EdDsa).unwrap_err(),
            KeyError::PrivateJwk
        );
        let unknown = json!({ "kty": "EC", "crv": "P-384", "x": "AA", "y": "AA" });
        assert_eq!(
            ClientKeys::from_json(&jwks(&[unknown]), Algorithm::Es256).unwrap_err(),
            KeyError::BadJwk
        );
        let small = json!({ "kty": "RSA", "n": "AQAB", "e": "AQAB" });
        assert_eq!(
            ClientKeys::from_json(&jwks(&[small]), Algorithm::Rs256).unwrap_err(),
            KeyError::BadJwk
        );
        for bad in [&b"{}"[..], b"{\"keys\":[]}", b"[]", b"nope"] {
            assert_eq!(
                ClientKeys::from_json(bad, Algorithm::EdDsa).unwrap_err(),
                KeyError::BadJwks
            );
        }
        let many: Vec<Value> = (0..=MAX_JWKS_KEYS)
            .map(|i| {
                let mut k = ed.verifying_key().to_jwk();
                k["kid"] = json!(format!("k{i}"));
                k
            })
            .collect();
        assert_eq!(
            ClientKeys::from_json(&jwks(&many), Algorithm::EdDsa).unwrap_err(),
            KeyError::BadJwks
        );
    }

    #[test]
    fn rfc7523_kid_is_required_when_several_keys_could_match() {
        let a = SigningKey::generate(Algorithm::Es256).unwrap();
        let b = SigningKey::generate(Algorithm::Es256).unwrap();
        let one = ClientKeys::new(Algorithm::Es256, [a.verifying_key().clone()]).unwrap();
        assert!(one.select(None).is_some());
        assert!(one.select(Some(a.kid())).is_some());
        assert!(one.select(Some("other")).is_none());
        let two = ClientKeys::new(
            Algorithm::Es256,
            [a.verifying_key().clone(), b.verifying_key().clone()],
        )
        .unwrap();
        assert!(two.select(None).is_none());
        assert_eq!(two.select(Some(b.kid())), Some(b.verifying_key()));
    }
}

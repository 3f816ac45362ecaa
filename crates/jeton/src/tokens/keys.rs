//! Signing keys, verification keys, key sets for rotation, and JWKS (RFC 7517).
//!
//! - [`SigningKey`]: a private key (ES256, EdDSA or RS256), loaded from PKCS#8 (PEM or DER) or
//!   generated. Its `Debug` prints the algorithm and `kid`, never key material; the PKCS#8 bytes
//!   it keeps for export are wiped on drop.
//! - [`VerifyingKey`]: a public key with its `kid` and algorithm, from a signing key or a JWK.
//! - [`KeySet`]: one active signing key and older (or not yet active) verification-only keys,
//!   so keys rotate with overlap.
//! - [`Jwks`]: the public keys as a JSON Web Key Set, rendered for a `jwks_uri` or parsed from
//!   one by a resource server.
//!
//! The `kid` defaults to the RFC 7638 JWK thumbprint (SHA-256, base64url): two different keys
//! never share one, and the same key always gets the same one.
//!
//! Randomness: key generation, ECDSA nonces and RSA blinding come from ring's own system random
//! source (ring accepts no other), the only place jeton uses a random source it was not handed.

use crate::tokens::algorithm::Algorithm;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use ring::signature::{self as sig, KeyPair as _};
use serde_json::{Value, json};
use std::fmt;

use zeroize::Zeroizing;

/// Signing failed (the key or the platform's random source refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("JWS signing failed")]
pub struct SignError;

/// A key could not be loaded, generated or added to a set.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The PEM text has no `-----BEGIN PRIVATE KEY-----` block, or its base64 is broken.
    #[error("not a PEM `PRIVATE KEY` block")]
    Pem,
    /// A PEM block of another kind (`RSA PRIVATE KEY`, `EC PRIVATE KEY`, `ENCRYPTED PRIVATE
    /// KEY`): convert with `openssl pkcs8 -topk8 -nocrypt`.
    #[error("not an unencrypted PKCS#8 key; convert it with `openssl pkcs8 -topk8 -nocrypt`")]
    NotPkcs8,
    /// The PKCS#8 document holds no P-256, Ed25519 or RSA (2048-8192 bits) key ring accepts.
    #[error("unsupported or invalid PKCS#8 key (expected P-256, Ed25519 or RSA 2048-8192 bits)")]
    Unsupported,
    /// RSA keys cannot be generated with ring; load one from PKCS#8 instead.
    #[error("RSA keys cannot be generated here; load one from PKCS#8")]
    GenerationUnsupported,
    /// The random source failed while generating a key.
    #[error("key generation failed")]
    Generation,
    /// A `kid` must be 1 to 256 printable ASCII characters.
    #[error("kid must be 1 to 256 printable ASCII characters")]
    BadKid,
    /// Two keys of one set share a `kid`.
    #[error("duplicate kid in key set")]
    DuplicateKid,
    /// A JWK was malformed, of an unsupported type, or inconsistent (`alg` against `kty`/`crv`).
    #[error("malformed or unsupported JWK")]
    BadJwk,
    /// A JWK in a public key set carries private material (`d`, `p`, ...): refused outright.
    #[error("a JWK in the set holds private key material")]
    PrivateJwk,
    /// A JWK set is not a JSON object with a `keys` array, or too large.
    #[error("malformed JWK set")]
    BadJwks,
}

/// The longest `kid` accepted.
const MAX_KID: usize = 256;
/// The most keys a parsed JWK set may hold.
pub(crate) const MAX_JWKS_KEYS: usize = 64;
/// The largest JWK set document parsed, in bytes.
pub(crate) const MAX_JWKS_BYTES: usize = 256 * 1024;

fn check_kid(kid: &str) -> Result<(), KeyError> {
    if kid.is_empty() || kid.len() > MAX_KID || !kid.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err(KeyError::BadKid);
    }
    Ok(())
}

/// Public key material.
#[derive(Clone, PartialEq, Eq)]
enum Public {
    /// The uncompressed P-256 point `04 || x || y` (65 bytes).
    Ec(Vec<u8>),
    /// The 32-byte Ed25519 public key.
    Ed(Vec<u8>),
    /// Modulus and exponent, big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

/// The `x` and `y` coordinates of an uncompressed point `04 || x || y`.
fn ec_xy(point: &[u8]) -> (&[u8], &[u8]) {
    let xy = point.get(1..).unwrap_or_default();
    xy.split_at(xy.len() / 2)
}

impl Public {
    /// RFC 7638 §3.2: the required members, in lexicographic order, no whitespace.
    fn thumbprint(&self) -> String {
        let canonical = match self {
            Self::Ec(point) => {
                let (x, y) = ec_xy(point);
                format!(
                    r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                    B64URL.encode(x),
                    B64URL.encode(y)
                )
            }
            Self::Ed(x) => format!(
                r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                B64URL.encode(x)
            ),
            Self::Rsa { n, e } => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                B64URL.encode(e),
                B64URL.encode(n)
            ),
        };
        B64URL.encode(ring::digest::digest(
            &ring::digest::SHA256,
            canonical.as_bytes(),
        ))
    }

    fn algorithm(&self) -> Algorithm {
        match self {
            Self::Ec(_) => Algorithm::Es256,
            Self::Ed(_) => Algorithm::EdDsa,
            Self::Rsa { .. } => Algorithm::Rs256,
        }
    }
}

/// A public key that verifies JWS signatures: algorithm, `kid` and key material.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    alg: Algorithm,
    kid: String,
    public: Public,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish()
    }
}

impl VerifyingKey {
    fn new(public: Public) -> Self {
        Self {
            alg: public.algorithm(),
            kid: public.thumbprint(),
            public,
        }
    }

    /// The algorithm this key verifies, and the only one (RFC 8725 §3.1: a key is never used
    /// with another algorithm, so an HMAC "signature" made with the public key never verifies).
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The same key with another `kid` (1 to 256 printable ASCII characters).
    pub fn with_kid(mut self, kid: impl Into<String>) -> Result<Self, KeyError> {
        let kid = kid.into();
        check_kid(&kid)?;
        self.kid = kid;
        Ok(self)
    }

    /// The same key pinned to `alg`, which must fit its key type: an RSA key verifies either
    /// RS256 or PS256 (RFC 7518 §6.3 does not tell them apart), every other key only its own
    /// algorithm. Another algorithm gives [`KeyError::BadJwk`].
    pub fn with_algorithm(mut self, alg: Algorithm) -> Result<Self, KeyError> {
        if alg == self.alg || (alg.is_rsa() && self.alg.is_rsa()) {
            self.alg = alg;
            Ok(self)
        } else {
            Err(KeyError::BadJwk)
        }
    }

    /// The RFC 7638 JWK thumbprint (SHA-256, base64url), the default `kid`.
    pub fn thumbprint(&self) -> String {
        self.public.thumbprint()
    }

    /// Whether `signature` is a valid signature of `message` under this key and its algorithm.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.public {
            Public::Ec(point) => sig::UnparsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, point)
                .verify(message, signature)
                .is_ok(),
            Public::Ed(x) => sig::UnparsedPublicKey::new(&sig::ED25519, x)
                .verify(message, signature)
                .is_ok(),
            // RFC 7518 §3.3 (RS256) and §3.5 (PS256): one RSA key type, two paddings; the
            // key's pinned algorithm picks the one, never the token.
            Public::Rsa { n, e } => {
                let params = if self.alg == Algorithm::Ps256 {
                    &sig::RSA_PSS_2048_8192_SHA256
                } else {
                    &sig::RSA_PKCS1_2048_8192_SHA256
                };
                sig::RsaPublicKeyComponents { n, e }
                    .verify(params, message, signature)
                    .is_ok()
            }
        }
    }

    /// This key as a public JWK (RFC 7517 §4; RFC 7518 §6.2, §6.3; RFC 8037 §2) with `kid`,
    /// `use: "sig"` and `alg`.
    pub fn to_jwk(&self) -> Value {
        let mut jwk = match &self.public {
            Public::Ec(point) => {
                let (x, y) = ec_xy(point);
                json!({ "kty": "EC", "crv": "P-256", "x": B64URL.encode(x), "y": B64URL.encode(y) })
            }
            Public::Ed(x) => json!({ "kty": "OKP", "crv": "Ed25519", "x": B64URL.encode(x) }),
            Public::Rsa { n, e } => {
                json!({ "kty": "RSA", "n": B64URL.encode(n), "e": B64URL.encode(e) })
            }
        };
        if let Some(m) = jwk.as_object_mut() {
            m.insert("kid".into(), Value::String(self.kid.clone()));
            m.insert("use".into(), Value::String("sig".into()));
            m.insert("alg".into(), Value::String(self.alg.as_str().into()));
        }
        jwk
    }

    /// Reads a public JWK. Total: malformed input is an error, never a panic.
    ///
    /// Accepted: `kty` `EC` with `crv` `P-256`, `OKP` with `Ed25519`, `RSA` with a 2048 to 8192
    /// bit modulus. `alg`, when present, must be the one the key type implies (`RS256` or
    /// `PS256` for RSA, which pins the key to it; RS256 otherwise); `use`, when
    /// present, must be `sig`. A missing `kid` becomes the thumbprint. Private members (`d`,
    /// `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`) are refused with [`KeyError::PrivateJwk`].
    pub fn from_jwk(jwk: &Value) -> Result<Self, KeyError> {
        let m = jwk.as_object().ok_or(KeyError::BadJwk)?;
        if ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]
            .iter()
            .any(|k| m.contains_key(*k))
        {
            return Err(KeyError::PrivateJwk);
        }
        let s = |name: &str| m.get(name).and_then(Value::as_str);
        let bytes = |name: &str| {
            s(name)
                .and_then(|v| B64URL.decode(v).ok())
                .ok_or(KeyError::BadJwk)
        };
        let public = match (s("kty"), s("crv")) {
            (Some("EC"), Some("P-256")) => {
                let (x, y) = (bytes("x")?, bytes("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(KeyError::BadJwk);
                }
                let mut point = Vec::with_capacity(65);
                point.push(4);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                Public::Ec(point)
            }
            (Some("OKP"), Some("Ed25519")) => {
                let x = bytes("x")?;
                if x.len() != 32 {
                    return Err(KeyError::BadJwk);
                }
                Public::Ed(x)
            }
            (Some("RSA"), _) => {
                let n = strip_zeros(bytes("n")?);
                let e = strip_zeros(bytes("e")?);
                if !(256..=1024).contains(&n.len()) || e.is_empty() || e.len() > 4 {
                    return Err(KeyError::BadJwk);
                }
                Public::Rsa { n, e }
            }
            _ => return Err(KeyError::BadJwk),
        };
        let mut key = Self::new(public);
        // RFC 7517 §4.4 and RFC 8725 §3.1: a key names at most one algorithm, of its type.
        match m.get("alg") {
            None => {}
            Some(Value::String(a)) => {
                let alg = Algorithm::from_name(a).ok_or(KeyError::BadJwk)?;
                key = key.with_algorithm(alg)?;
            }
            Some(_) => return Err(KeyError::BadJwk),
        }
        match m.get("use") {
            None => {}
            Some(Value::String(u)) if u == "sig" => {}
            Some(_) => return Err(KeyError::BadJwk),
        }
        match m.get("kid") {
            None => Ok(key),
            Some(Value::String(kid)) => key.with_kid(kid.as_str()),
            Some(_) => Err(KeyError::BadJwk),
        }
    }
}

fn strip_zeros(mut v: Vec<u8>) -> Vec<u8> {
    let zeros = v.iter().take_while(|b| **b == 0).count();
    v.drain(..zeros);
    v
}

enum Pair {
    Es256(sig::EcdsaKeyPair),
    EdDsa(sig::Ed25519KeyPair),
    Rs256(sig::RsaKeyPair),
}

/// A private signing key: ES256, EdDSA (Ed25519) or RS256.
///
/// `Debug` prints the algorithm and `kid` only. The PKCS#8 document is kept (for
/// [`SigningKey::to_pkcs8_pem`]) and wiped on drop.
pub struct SigningKey {
    pair: Pair,
    public: VerifyingKey,
    pkcs8: Zeroizing<Vec<u8>>,
    rng: ring::rand::SystemRandom,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.public.alg)
            .field("kid", &self.public.kid)
            .finish_non_exhaustive()
    }
}

const PEM_BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
const PEM_END: &str = "-----END PRIVATE KEY-----";

impl SigningKey {
    /// Generates a new key for `alg` (ES256 or EdDSA) from the system random source.
    ///
    /// RS256 gives [`KeyError::GenerationUnsupported`]: ring cannot generate RSA keys. Make one
    /// with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048` and load it.
    pub fn generate(alg: Algorithm) -> Result<Self, KeyError> {
        let rng = ring::rand::SystemRandom::new();
        let doc = match alg {
            Algorithm::Es256 => {
                sig::EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            }
            Algorithm::EdDsa => sig::Ed25519KeyPair::generate_pkcs8(&rng),
            Algorithm::Rs256 | Algorithm::Ps256 => return Err(KeyError::GenerationUnsupported),
        }
        .map_err(|_| KeyError::Generation)?;
        Self::from_pkcs8_der(doc.as_ref())
    }

    /// Loads an unencrypted PKCS#8 (RFC 5208 / RFC 5958) DER document, detecting the algorithm:
    /// Ed25519, then P-256, then RSA.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let rng = ring::rand::SystemRandom::new();
        let pair = if let Ok(k) = sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            Pair::EdDsa(k)
        } else if let Ok(k) =
            sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
        {
            Pair::Es256(k)
        } else if let Ok(k) = sig::RsaKeyPair::from_pkcs8(der) {
            Pair::Rs256(k)
        } else {
            return Err(KeyError::Unsupported);
        };
        let public = match &pair {
            Pair::Es256(k) => Public::Ec(k.public_key().as_ref().to_vec()),
            Pair::EdDsa(k) => Public::Ed(k.public_key().as_ref().to_vec()),
            Pair::Rs256(k) => {
                let c = sig::RsaPublicKeyComponents::<Vec<u8>>::from(k.public());
                Public::Rsa { n: c.n, e: c.e }
            }
        };
        Ok(Self {
            pair,
            public: VerifyingKey::new(public),
            pkcs8: Zeroizing::new(der.to_vec()),
            rng,
        })
    }

    /// Loads a PEM `PRIVATE KEY` block (PKCS#8, as `openssl genpkey` writes). Text around the
    /// block is ignored; other block types give [`KeyError::NotPkcs8`].
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        Self::from_pkcs8_der(&pem_decode(pem)?)
    }

    /// The same key with an explicit `kid` instead of its thumbprint.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Result<Self, KeyError> {
        self.public = self.public.with_kid(kid)?;
        Ok(self)
    }

    /// Its algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.public.alg
    }

    /// Its key id.
    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    /// Its public half.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    /// The private key as a PKCS#8 PEM `PRIVATE KEY` block, to store a generated key. Secret:
    /// the string is wiped on drop; never log it.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        let b64 = Zeroizing::new(B64.encode(&*self.pkcs8));
        let mut out = Zeroizing::new(String::with_capacity(b64.len() + b64.len() / 64 + 64));
        out.push_str(PEM_BEGIN);
        out.push('\n');
        for line in b64.as_bytes().chunks(64) {
            out.extend(line.iter().map(|&b| char::from(b)));
            out.push('\n');
        }
        out.push_str(PEM_END);
        out.push('\n');
        out
    }

    /// Signs `message` (the JWS signing input) with this key's algorithm.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Signature, SignError> {
        match &self.pair {
            // ring returns ECDSA and Ed25519 signatures by value: kept as they are rather than
            // copied into a `Vec`, since every JWT issued pays for this call.
            Pair::Es256(k) => k
                .sign(&self.rng, message)
                .map(Signature::Ring)
                .map_err(|_| SignError),
            Pair::EdDsa(k) => Ok(Signature::Ring(k.sign(message))),
            Pair::Rs256(k) => {
                let mut out = vec![0u8; k.public().modulus_len()];
                k.sign(&sig::RSA_PKCS1_SHA256, &self.rng, message, &mut out)
                    .map_err(|_| SignError)?;
                Ok(Signature::Rsa(out))
            }
        }
    }

    /// The length in bytes of this key's signatures, so a JWS can be sized before signing.
    pub(crate) fn signature_len(&self) -> usize {
        match &self.pair {
            // RFC 7518 §3.4: R || S, 32 bytes each for P-256; RFC 8032 §5.1.6: 64 bytes.
            Pair::Es256(_) | Pair::EdDsa(_) => 64,
            Pair::Rs256(k) => k.public().modulus_len(),
        }
    }
}

/// A signature made by a [`SigningKey`]: its bytes through `AsRef<[u8]>`.
pub(crate) enum Signature {
    /// ECDSA P-256 (fixed-width `R || S`) or Ed25519, as ring returns them (no allocation).
    Ring(sig::Signature),
    /// RSASSA-PKCS1-v1_5, the size of the modulus.
    Rsa(Vec<u8>),
}

impl AsRef<[u8]> for Signature {
    fn as_ref(&self) -> &[u8] {
        match self {
            Self::Ring(s) => s.as_ref(),
            Self::Rsa(s) => s,
        }
    }
}

/// Decodes the first PEM `PRIVATE KEY` block (RFC 7468 §10): base64 between the BEGIN and END
/// lines, whitespace ignored.
fn pem_decode(pem: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let mut lines = pem.lines().map(str::trim);
    let mut found = false;
    for line in lines.by_ref() {
        if line == PEM_BEGIN {
            found = true;
            break;
        }
        if line.starts_with("-----BEGIN ") {
            return Err(KeyError::NotPkcs8);
        }
    }
    if !found {
        return Err(KeyError::Pem);
    }
    let mut b64 = Zeroizing::new(String::with_capacity(pem.len()));
    for line in lines {
        if line == PEM_END {
            return B64
                .decode(b64.as_bytes())
                .map(Zeroizing::new)
                .map_err(|_| KeyError::Pem);
        }
        b64.extend(line.chars().filter(|c| !c.is_ascii_whitespace()));
    }
    Err(KeyError::Pem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::key_set::{Jwks, KeySet};

    #[test]
    fn rfc7638_3_1_kid_is_the_jwk_thumbprint() {
        // RFC 7638 §3.1 example key and thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let jwk = json!({ "kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256" });
        let key = VerifyingKey::from_jwk(&jwk).unwrap();
        assert_eq!(key.kid(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    #[test]
    fn rfc7517_4_jwk_round_trips_for_every_generated_alg() {
        for alg in [Algorithm::Es256, Algorithm::EdDsa] {
            let k = SigningKey::generate(alg).unwrap();
            let jwk = k.verifying_key().to_jwk();
            assert_eq!(jwk["use"], "sig");
            assert_eq!(jwk["alg"], alg.as_str());
            assert_eq!(jwk["kid"], k.kid());
            let back = VerifyingKey::from_jwk(&jwk).unwrap();
            assert_eq!(&back, k.verifying_key());
            let sig = k.sign(b"msg").unwrap();
            assert_eq!(sig.as_ref().len(), k.signature_len());
            assert!(back.verify(b"msg", sig.as_ref()));
            assert!(!back.verify(b"msh", sig.as_ref()));
        }
    }

    #[test]
    fn rfc7517_jwk_members_per_key_type() {
        let ec = SigningKey::generate(Algorithm::Es256).unwrap();
        let jwk = ec.verifying_key().to_jwk();
        assert_eq!(
            (jwk["kty"].as_str(), jwk["crv"].as_str()),
            (Some("EC"), Some("P-256"))
        );
        assert_eq!(B64URL.decode(jwk["x"].as_str().unwrap()).unwrap().len(), 32);
        assert_eq!(B64URL.decode(jwk["y"].as_str().unwrap()).unwrap().len(), 32);
        assert!(jwk.get("d").is_none());
        let ed = SigningKey::generate(Algorithm::EdDsa).unwrap();
        let jwk = ed.verifying_key().to_jwk();
        assert_eq!(
            (jwk["kty"].as_str(), jwk["crv"].as_str()),
            (Some("OKP"), Some("Ed25519"))
        );
        assert!(jwk.get("y").is_none() && jwk.get("d").is_none());
    }

    #[test]
    fn rsa_keys_cannot_be_generated() {
        assert_eq!(
            SigningKey::generate(Algorithm::Rs256).unwrap_err(),
            KeyError::GenerationUnsupported
        );
    }

    #[test]
    fn pkcs8_pem_round_trips_and_debug_hides_the_key() {
        let k = SigningKey::generate(Algorithm::Es256).unwrap();
        let pem = k.to_pkcs8_pem();
        assert!(pem.starts_with(PEM_BEGIN));
        let again = SigningKey::from_pkcs8_pem(&format!("comment\n{}", &*pem)).unwrap();
        assert_eq!(again.kid(), k.kid());
        let dbg = format!("{k:?} {:?}", KeySet::new(again));
        assert!(dbg.contains(k.kid()));
        let body: String = pem.lines().nth(1).unwrap().chars().take(20).collect();
        assert!(!dbg.contains(&body), "{dbg}");
    }

    #[test]
    fn pem_decoder_is_strict_about_block_type() {
        assert_eq!(SigningKey::from_pkcs8_pem("").unwrap_err(), KeyError::Pem);
        assert_eq!(
            SigningKey::from_pkcs8_pem(
                "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"
            )
            .unwrap_err(),
            KeyError::NotPkcs8
        );
        assert_eq!(
            SigningKey::from_pkcs8_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n").unwrap_err(),
            KeyError::Pem
        );
        assert_eq!(
            SigningKey::from_pkcs8_pem(
                "-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----"
            )
            .unwrap_err(),
            KeyError::Pem
        );
        assert_eq!(
            SigningKey::from_pkcs8_pem(
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"
            )
            .unwrap_err(),
            KeyError::Unsupported
        );
    }

    #[test]
    fn rfc9700_2_6_rotation_publishes_next_key_and_keeps_old_one() {
        let a = SigningKey::generate(Algorithm::Es256).unwrap();
        let b = SigningKey::generate(Algorithm::EdDsa).unwrap();
        let (ka, kb) = (a.kid().to_owned(), b.kid().to_owned());
        let set = KeySet::new(a)
            .with_verification_key(b.verifying_key().clone())
            .unwrap();
        assert_eq!(set.active().kid(), ka);
        assert!(
            set.jwks().get(&kb).is_some(),
            "next key published before use"
        );
        let mut set = set.rotate(b).unwrap();
        assert_eq!(set.active().kid(), kb);
        let jwks = set.jwks();
        assert_eq!(jwks.len(), 2);
        assert!(jwks.get(&ka).is_some(), "old key kept for verification");
        assert!(!set.retire(&kb), "the active key cannot be retired");
        assert!(set.retire(&ka));
        assert_eq!(set.jwks().len(), 1);
    }

    #[test]
    fn rfc9700_2_6_kid_is_unique_in_a_set() {
        let a = SigningKey::generate(Algorithm::Es256).unwrap();
        let pubkey = a.verifying_key().clone();
        let set = KeySet::new(a);
        assert_eq!(
            set.with_verification_key(pubkey.clone()).unwrap_err(),
            KeyError::DuplicateKid
        );
        assert_eq!(
            Jwks::new([pubkey.clone(), pubkey]).unwrap_err(),
            KeyError::DuplicateKid
        );
    }

    #[test]
    fn rfc7517_5_jwks_skips_unknown_keys_and_refuses_private_ones() {
        let k = SigningKey::generate(Algorithm::EdDsa).unwrap();
        let mut doc = KeySet::new(k).jwks().to_value();
        let keys = doc["keys"].as_array_mut().unwrap();
        keys.push(json!({ "kty": "EC", "crv": "P-384", "x": "AA", "y": "AA" }));
        keys.push(json!({ "kty": "oct", "k": "c2VjcmV0" , "use": "enc"}));
        // `k` is private material, so this set is refused as a whole.
        assert_eq!(
            Jwks::from_json(doc.to_string().as_bytes()).unwrap_err(),
            KeyError::PrivateJwk
        );
        doc["keys"].as_array_mut().unwrap().pop();
        assert_eq!(
            Jwks::from_json(doc.to_string().as_bytes()).unwrap().len(),
            1
        );
        for bad in [&b"[]"[..], b"{}", b"{\"keys\":1}", b"nope"] {
            assert_eq!(Jwks::from_json(bad).unwrap_err(), KeyError::BadJwks);
        }
    }

    #[test]
    fn rfc8725_3_1_jwk_alg_must_match_key_type() {
        let k = SigningKey::generate(Algorithm::Es256).unwrap();
        let mut jwk = k.verifying_key().to_jwk();
        jwk["alg"] = json!("HS256");
        assert_eq!(VerifyingKey::from_jwk(&jwk).unwrap_err(), KeyError::BadJwk);
        jwk["alg"] = json!("ES256");
        jwk["use"] = json!("enc");
        assert_eq!(VerifyingKey::from_jwk(&jwk).unwrap_err(), KeyError::BadJwk);
    }
}

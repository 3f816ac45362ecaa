//! Client-secret verifiers, secret generation and the random source.
//!
//! Secrets are stored only as a one-way verifier (RFC 6819 §5.1.4.1.3, RFC 9700 §2.5):
//!
//! | format | string form | for | cost |
//! |---|---|---|---|
//! | [`SecretVerifier::HmacSha256`] | `$hmac-sha256$<salt>$<tag>` | secrets from [`generate_secret`] (256 bits of entropy) | about a microsecond |
//! | [`SecretVerifier::Pbkdf2Sha256`] | `$pbkdf2-sha256$i=<iterations>$<salt>$<hash>` | secrets a human chose | tens to hundreds of milliseconds |
//!
//! Both compare in constant time (`ring::hmac::verify`, `ring::pbkdf2::verify`). A fast keyed
//! hash is enough for a secret with 256 bits of entropy: nothing can be brute-forced from it.
//! A human-chosen secret needs the slow KDF. There is no bcrypt and so no 72-byte truncation.

use crate::random::{RandomError, RandomSource};
use crate::types::ClientSecret;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ring::{digest, hmac, pbkdf2};
use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

/// The default PBKDF2-HMAC-SHA256 iteration count (OWASP Password Storage Cheat Sheet, 2023).
pub const PBKDF2_DEFAULT_ITERATIONS: u32 = 600_000;
const SALT_LEN: usize = 16;
const HASH_LEN: usize = 32;
/// The least PBKDF2 iteration count a verifier string may carry.
pub const PBKDF2_MIN_ITERATIONS: u32 = 1_000;

/// A one-way verifier for a client secret. Its `Debug` shows the format, never the hash.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretVerifier {
    /// HMAC-SHA256 keyed by a random salt, for high-entropy generated secrets.
    HmacSha256 {
        /// The per-verifier key.
        salt: [u8; SALT_LEN],
        /// HMAC-SHA256(salt, secret).
        tag: [u8; HASH_LEN],
    },
    /// PBKDF2-HMAC-SHA256, for human-chosen secrets.
    Pbkdf2Sha256 {
        /// Iteration count.
        iterations: NonZeroU32,
        /// Random salt.
        salt: [u8; SALT_LEN],
        /// Derived key.
        hash: [u8; HASH_LEN],
    },
}

impl fmt::Debug for SecretVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HmacSha256 { .. } => f.write_str("SecretVerifier(hmac-sha256)"),
            Self::Pbkdf2Sha256 { iterations, .. } => {
                write!(f, "SecretVerifier(pbkdf2-sha256, i={iterations})")
            }
        }
    }
}

/// A verifier string could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "malformed secret verifier (expected `$hmac-sha256$salt$tag` or `$pbkdf2-sha256$i=N$salt$hash`)"
)]
pub struct VerifierParseError;

impl SecretVerifier {
    /// A fast verifier for a high-entropy secret (one from [`generate_secret`]).
    pub fn hmac_sha256(secret: &str, rng: &dyn RandomSource) -> Result<Self, RandomError> {
        let mut salt = [0u8; SALT_LEN];
        rng.fill(&mut salt)?;
        Ok(Self::hmac_sha256_with_salt(secret, salt))
    }

    fn hmac_sha256_with_salt(secret: &str, salt: [u8; SALT_LEN]) -> Self {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &salt);
        let mut tag = [0u8; HASH_LEN];
        tag.copy_from_slice(hmac::sign(&key, secret.as_bytes()).as_ref());
        Self::HmacSha256 { salt, tag }
    }

    /// A slow verifier for a human-chosen secret.
    pub fn pbkdf2_sha256(
        secret: &str,
        iterations: NonZeroU32,
        rng: &dyn RandomSource,
    ) -> Result<Self, RandomError> {
        let mut salt = [0u8; SALT_LEN];
        rng.fill(&mut salt)?;
        let mut hash = [0u8; HASH_LEN];
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            iterations,
            &salt,
            secret.as_bytes(),
            &mut hash,
        );
        Ok(Self::Pbkdf2Sha256 {
            iterations,
            salt,
            hash,
        })
    }

    /// Checks a presented secret, in constant time with respect to the secret's content.
    ///
    /// An HMAC-SHA256 verifier derives its HMAC key from the salt on every call here (two of
    /// the four SHA-256 compressions); [`RegisteredSecret::verify`](crate::RegisteredSecret::verify)
    /// keeps the key prepared once and is what the engine uses.
    pub fn verify(&self, secret: &ClientSecret) -> bool {
        self.verify_prepared(None, secret)
    }

    /// The HMAC key of an HMAC-SHA256 verifier, for [`verify_prepared`](Self::verify_prepared);
    /// `None` for PBKDF2, whose salt and secret enter the derivation together, so there is
    /// nothing to compute ahead.
    pub(crate) fn prepare(&self) -> Option<PreparedKey> {
        match self {
            Self::HmacSha256 { salt, .. } => Some(PreparedKey {
                salt: *salt,
                key: hmac::Key::new(hmac::HMAC_SHA256, salt),
            }),
            Self::Pbkdf2Sha256 { .. } => None,
        }
    }

    /// [`verify`](Self::verify) with the HMAC key `prepared` ahead by [`prepare`](Self::prepare):
    /// two SHA-256 compressions instead of four. The same answer whatever `prepared` is: a key
    /// made for another salt (the verifier was replaced in place after preparing) is not used,
    /// and the key is derived afresh as `verify` does.
    pub(crate) fn verify_prepared(
        &self,
        prepared: Option<&PreparedKey>,
        secret: &ClientSecret,
    ) -> bool {
        match self {
            Self::HmacSha256 { salt, tag } => {
                let message = secret.expose().as_bytes();
                match prepared {
                    // The salt is not secret (it is in the stored string): comparing it leaks
                    // nothing, and the tag comparison stays `ring`'s constant-time one.
                    Some(p) if p.salt == *salt => hmac::verify(&p.key, message, tag).is_ok(),
                    _ => {
                        let key = hmac::Key::new(hmac::HMAC_SHA256, salt);
                        hmac::verify(&key, message, tag).is_ok()
                    }
                }
            }
            Self::Pbkdf2Sha256 {
                iterations,
                salt,
                hash,
            } => pbkdf2::verify(
                pbkdf2::PBKDF2_HMAC_SHA256,
                *iterations,
                salt,
                secret.expose().as_bytes(),
                hash,
            )
            .is_ok(),
        }
    }

    /// Whether this verifier is weaker than `target_iterations` asks for, so that the engine
    /// re-hashes the secret after the next successful verification. Only PBKDF2 verifiers with
    /// fewer iterations than the target are upgraded.
    pub fn needs_upgrade(&self, target_iterations: NonZeroU32) -> bool {
        matches!(self, Self::Pbkdf2Sha256 { iterations, .. } if *iterations < target_iterations)
    }

    /// The fixed decoy verified against when a client is unknown, so that an unknown client
    /// costs the same work as a wrong secret (RFC 6749 §10.10). Pass the format and cost of the
    /// verifiers your clients actually use.
    pub fn decoy(kind: DecoyKind) -> Self {
        let salt = *b"jeton-decoy-salt";
        match kind {
            DecoyKind::HmacSha256 => Self::hmac_sha256_with_salt("decoy", salt),
            DecoyKind::Pbkdf2Sha256(iterations) => {
                let mut hash = [0u8; HASH_LEN];
                pbkdf2::derive(
                    pbkdf2::PBKDF2_HMAC_SHA256,
                    iterations,
                    &salt,
                    b"decoy",
                    &mut hash,
                );
                Self::Pbkdf2Sha256 {
                    iterations,
                    salt,
                    hash,
                }
            }
        }
    }
}

/// The HMAC-SHA256 key of one [`SecretVerifier::HmacSha256`] salt, computed once.
///
/// `hmac::Key::new` hashes the key into the inner and outer pad blocks: two SHA-256
/// compressions that depend only on the salt, as many as the MAC of a secret itself. Keeping
/// the key halves the work of every verification. The salt it was made for is kept with it so
/// that a key is never used for a verifier it was not made from.
///
/// Its `Debug` shows neither the salt nor the key (`ring` prints only the algorithm, and this
/// prints nothing more).
#[derive(Clone)]
pub(crate) struct PreparedKey {
    salt: [u8; SALT_LEN],
    key: hmac::Key,
}

impl PreparedKey {
    /// Whether this key was made for `verifier`'s salt, so that verifying with it saves work.
    #[cfg(test)]
    pub(crate) fn is_for(&self, verifier: &SecretVerifier) -> bool {
        matches!(verifier, SecretVerifier::HmacSha256 { salt, .. } if *salt == self.salt)
    }
}

impl fmt::Debug for PreparedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PreparedKey(hmac-sha256)")
    }
}

/// Which verification work the unknown-client path imitates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecoyKind {
    /// One HMAC-SHA256, like [`SecretVerifier::HmacSha256`].
    HmacSha256,
    /// PBKDF2 with this many iterations, like [`SecretVerifier::Pbkdf2Sha256`].
    Pbkdf2Sha256(NonZeroU32),
}

impl fmt::Display for SecretVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HmacSha256 { salt, tag } => write!(
                f,
                "$hmac-sha256${}${}",
                B64URL.encode(salt),
                B64URL.encode(tag)
            ),
            Self::Pbkdf2Sha256 {
                iterations,
                salt,
                hash,
            } => write!(
                f,
                "$pbkdf2-sha256$i={iterations}${}${}",
                B64URL.encode(salt),
                B64URL.encode(hash)
            ),
        }
    }
}

fn decode_fixed<const N: usize>(s: &str) -> Result<[u8; N], VerifierParseError> {
    let v = B64URL.decode(s).map_err(|_| VerifierParseError)?;
    v.try_into().map_err(|_| VerifierParseError)
}

impl FromStr for SecretVerifier {
    type Err = VerifierParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split('$');
        if parts.next() != Some("") {
            return Err(VerifierParseError);
        }
        let v = match parts.next() {
            Some("hmac-sha256") => Self::HmacSha256 {
                salt: decode_fixed(parts.next().ok_or(VerifierParseError)?)?,
                tag: decode_fixed(parts.next().ok_or(VerifierParseError)?)?,
            },
            Some("pbkdf2-sha256") => {
                let i = parts
                    .next()
                    .and_then(|p| p.strip_prefix("i="))
                    .and_then(|n| n.parse::<u32>().ok())
                    .filter(|&n| n >= PBKDF2_MIN_ITERATIONS)
                    .and_then(NonZeroU32::new)
                    .ok_or(VerifierParseError)?;
                Self::Pbkdf2Sha256 {
                    iterations: i,
                    salt: decode_fixed(parts.next().ok_or(VerifierParseError)?)?,
                    hash: decode_fixed(parts.next().ok_or(VerifierParseError)?)?,
                }
            }
            _ => return Err(VerifierParseError),
        };
        if parts.next().is_some() {
            return Err(VerifierParseError);
        }
        Ok(v)
    }
}

impl serde::Serialize for SecretVerifier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SecretVerifier {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The prefix of every secret [`generate_secret`] makes, so leak scanners can spot one.
pub const SECRET_PREFIX: &str = "jcs_";
/// The prefix of every opaque access token jeton issues.
pub const TOKEN_PREFIX: &str = "jt_";
const RANDOM_BYTES: usize = 32;
const CHECKSUM_CHARS: usize = 6;

/// Makes `prefix` + base64url(32 random bytes) + a 6-character checksum.
///
/// The alphabet is RFC 3986 unreserved characters only, so form-encoding (and so Basic
/// encoding) leaves it unchanged. The checksum is base64url of the first 4 bytes of
/// SHA-256 over everything before it: scanners can tell a real token from look-alike text, and
/// jeton rejects garbage before touching a store.
pub(crate) fn prefixed_random(prefix: &str, rng: &dyn RandomSource) -> Result<String, RandomError> {
    let mut bytes = [0u8; RANDOM_BYTES];
    rng.fill(&mut bytes)?;
    let mut s = String::with_capacity(prefix.len() + 43 + CHECKSUM_CHARS);
    s.push_str(prefix);
    B64URL.encode_string(bytes, &mut s);
    let sum = checksum(&s);
    s.push_str(checksum_str(&sum));
    Ok(s)
}

/// The checksum characters of `body`: base64url of the first 4 bytes of its SHA-256, on the
/// stack (one less allocation per token).
fn checksum(body: &str) -> [u8; CHECKSUM_CHARS] {
    let d = digest::digest(&digest::SHA256, body.as_bytes());
    let mut sum = [0u8; CHECKSUM_CHARS];
    // 4 bytes are always 6 unpadded base64url characters.
    let _ = B64URL.encode_slice(&d.as_ref()[..4], &mut sum);
    sum
}

fn checksum_str(sum: &[u8; CHECKSUM_CHARS]) -> &str {
    std::str::from_utf8(sum).unwrap_or_default()
}

/// Whether `s` has the shape and a valid checksum of a value made with [`prefixed_random`].
pub(crate) fn is_well_formed(prefix: &str, s: &str) -> bool {
    let expected_len = prefix.len() + 43 + CHECKSUM_CHARS;
    if s.len() != expected_len || !s.starts_with(prefix) {
        return false;
    }
    // Not `split_at`: `s` is caller input and may have a multi-byte character across the split
    // (found by `cargo fuzz run scope`; seed `fuzz/seeds/scope/crash-opaque-token-char-boundary`).
    let Some((body, sum)) = s.split_at_checked(expected_len - CHECKSUM_CHARS) else {
        return false;
    };
    body[prefix.len()..]
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && checksum_str(&checksum(body)) == sum
}

/// Whether `s` looks like a secret from [`generate_secret`] (prefix, alphabet, checksum).
pub fn is_generated_secret(s: &str) -> bool {
    is_well_formed(SECRET_PREFIX, s)
}

/// Generates a new client secret (256 random bits, `jcs_` prefix, checksum) and its fast
/// verifier. Show the secret once, store only the verifier.
pub fn generate_secret(
    rng: &dyn RandomSource,
) -> Result<(ClientSecret, SecretVerifier), RandomError> {
    let s = prefixed_random(SECRET_PREFIX, rng)?;
    let verifier = SecretVerifier::hmac_sha256(&s, rng)?;
    let secret = ClientSecret::new(s).map_err(|_| RandomError)?;
    Ok((secret, verifier))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SystemRandom;

    pub(crate) struct Counter(std::sync::atomic::AtomicU8);
    impl RandomSource for Counter {
        fn fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
            for b in dest {
                *b = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        }
    }

    fn secret(s: &str) -> ClientSecret {
        ClientSecret::new(s).unwrap()
    }

    #[test]
    fn rfc6819_5_1_4_1_3_hmac_verifier_accepts_only_the_secret() {
        let rng = SystemRandom::new();
        let v = SecretVerifier::hmac_sha256("s3cret", &rng).unwrap();
        assert!(v.verify(&secret("s3cret")));
        assert!(!v.verify(&secret("s3creT")));
        assert!(!v.verify(&secret("s3cret ")));
    }

    #[test]
    fn rfc9700_2_5_pbkdf2_verifier_accepts_only_the_secret() {
        let rng = SystemRandom::new();
        let it = NonZeroU32::new(1000).unwrap();
        let v = SecretVerifier::pbkdf2_sha256("correct horse", it, &rng).unwrap();
        assert!(v.verify(&secret("correct horse")));
        assert!(!v.verify(&secret("correct horsE")));
        assert!(v.needs_upgrade(NonZeroU32::new(2000).unwrap()));
        assert!(!v.needs_upgrade(it));
    }

    #[test]
    fn long_secrets_are_not_truncated() {
        // bcrypt would truncate at 72 bytes; PBKDF2 and HMAC use every byte.
        let rng = SystemRandom::new();
        let long = "a".repeat(100);
        let it = NonZeroU32::new(1000).unwrap();
        for v in [
            SecretVerifier::hmac_sha256(&long, &rng).unwrap(),
            SecretVerifier::pbkdf2_sha256(&long, it, &rng).unwrap(),
        ] {
            let mut other = "a".repeat(99);
            other.push('b');
            assert!(v.verify(&secret(&long)));
            assert!(!v.verify(&secret(&other)));
        }
    }

    #[test]
    fn verifier_string_round_trips() {
        let rng = Counter(0.into());
        let it = NonZeroU32::new(1000).unwrap();
        for v in [
            SecretVerifier::hmac_sha256("x", &rng).unwrap(),
            SecretVerifier::pbkdf2_sha256("x", it, &rng).unwrap(),
        ] {
            let s = v.to_string();
            assert_eq!(s.parse::<SecretVerifier>().unwrap(), v);
            assert!(v.verify(&secret("x")));
        }
        for bad in [
            "",
            "hmac-sha256$a$b",
            "$hmac-sha256$AAAA$AAAA",
            "$pbkdf2-sha256$i=10$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$md5$x$y",
        ] {
            assert!(bad.parse::<SecretVerifier>().is_err(), "{bad}");
        }
    }

    #[test]
    fn verifier_debug_hides_the_hash() {
        let v = SecretVerifier::hmac_sha256("x", &SystemRandom::new()).unwrap();
        let d = format!("{v:?}");
        assert_eq!(d, "SecretVerifier(hmac-sha256)");
    }

    #[test]
    fn rfc6749_10_10_generated_secret_has_256_bits_prefix_and_checksum() {
        let (s, v) = generate_secret(&SystemRandom::new()).unwrap();
        let s = s.expose();
        assert!(s.starts_with("jcs_"));
        assert_eq!(s.len(), 4 + 43 + 6);
        assert!(is_generated_secret(s));
        assert!(v.verify(&secret(s)));
        // Basic encoding is the identity on the generated alphabet.
        assert_eq!(crate::form::encode_component(s), s);
        // Any single-character change breaks the checksum or the alphabet.
        let mut chars: Vec<char> = s.chars().collect();
        chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
        let changed: String = chars.into_iter().collect();
        assert!(!is_generated_secret(&changed));
    }

    #[test]
    fn rfc6749_10_10_non_ascii_look_alikes_are_refused_without_panic() {
        // 52 bytes, `jt_` prefix, a two-byte character across the body/checksum split.
        let s = format!("{TOKEN_PREFIX}{}\u{e9}AAAAA", "A".repeat(42));
        assert_eq!(s.len(), 52);
        assert!(!is_well_formed(TOKEN_PREFIX, &s));
        let s = format!("{SECRET_PREFIX}{}\u{e9}AAAAA", "A".repeat(42));
        assert_eq!(s.len(), 53);
        assert!(!is_generated_secret(&s));
    }

    #[test]
    fn two_generated_secrets_differ() {
        let rng = SystemRandom::new();
        let (a, _) = generate_secret(&rng).unwrap();
        let (b, _) = generate_secret(&rng).unwrap();
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn rfc6819_5_1_4_1_3_prepared_key_gives_the_tag_of_a_fresh_key() {
        // A verifier read back from its stored string, as every store does.
        let stored = SecretVerifier::hmac_sha256("x-secret-0123", &SystemRandom::new())
            .unwrap()
            .to_string();
        let v: SecretVerifier = stored.parse().unwrap();
        let SecretVerifier::HmacSha256 { salt, tag } = &v else {
            panic!("an hmac-sha256 verifier string")
        };
        let p = v.prepare().expect("an HMAC verifier has a key to prepare");
        assert!(p.is_for(&v));
        for message in [&b"x-secret-0123"[..], b"another message", b""] {
            let fresh = hmac::Key::new(hmac::HMAC_SHA256, salt);
            assert_eq!(
                hmac::sign(&p.key, message).as_ref(),
                hmac::sign(&fresh, message).as_ref()
            );
        }
        assert_eq!(hmac::sign(&p.key, b"x-secret-0123").as_ref(), tag);
        assert!(v.verify_prepared(Some(&p), &secret("x-secret-0123")));
        assert!(!v.verify_prepared(Some(&p), &secret("x-secret-0124")));
        assert_eq!(format!("{p:?}"), "PreparedKey(hmac-sha256)");
    }

    #[test]
    fn rfc6819_5_1_4_1_3_a_key_prepared_for_another_salt_is_not_used() {
        // Same secret, two salts: the key of one must not decide for the other.
        let rng = SystemRandom::new();
        let a = SecretVerifier::hmac_sha256("x-secret-0123", &rng).unwrap();
        let b = SecretVerifier::hmac_sha256("x-secret-0123", &rng).unwrap();
        let pb = b.prepare().unwrap();
        assert!(!pb.is_for(&a));
        assert!(a.verify_prepared(Some(&pb), &secret("x-secret-0123")));
        assert!(!a.verify_prepared(Some(&pb), &secret("x-secret-0124")));
        assert!(a.verify_prepared(None, &secret("x-secret-0123")));
    }

    #[test]
    fn pbkdf2_has_nothing_to_prepare() {
        let it = NonZeroU32::new(1000).unwrap();
        let v = SecretVerifier::pbkdf2_sha256("pw", it, &SystemRandom::new()).unwrap();
        assert!(v.prepare().is_none());
        let hmac_key = SecretVerifier::decoy(DecoyKind::HmacSha256).prepare();
        // Even a stray HMAC key leaves a PBKDF2 verifier's answer alone.
        assert!(v.verify_prepared(hmac_key.as_ref(), &secret("pw")));
        assert!(!v.verify_prepared(hmac_key.as_ref(), &secret("pW")));
    }

    #[test]
    fn decoy_never_verifies_a_real_secret() {
        let d = SecretVerifier::decoy(DecoyKind::HmacSha256);
        assert!(!d.verify(&secret("jcs_anything")));
    }
}

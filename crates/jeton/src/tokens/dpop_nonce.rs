//! Server-provided DPoP nonces (RFC 9449 §8, §9): the embedder's choice, behind a trait, with
//! a stateless default.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ring::hmac;
use time::{Duration, OffsetDateTime};

/// Where DPoP nonces come from: the value to send in `DPoP-Nonce`, and which values a proof's
/// `nonce` may hold. Pure functions of `now`; no I/O (a store-backed source would be a
/// different trait).
pub trait DpopNonces: Send + Sync {
    /// The nonce to send now (RFC 9449 §8.1: `1*NQCHAR`).
    fn current(&self, now: OffsetDateTime) -> String;

    /// Whether a proof made with `nonce` is accepted at `now`.
    fn accepts(&self, nonce: &str, now: OffsetDateTime) -> bool;
}

/// Stateless nonces: an HMAC-SHA-256 over the current time window, so every node sharing the
/// secret issues and accepts the same values without storing any.
///
/// A nonce is `base64url(window || HMAC(secret, window))`, where `window` is the number of
/// whole periods since the epoch; the current and the previous window are accepted, so a nonce
/// lives one to two periods. What it adds to `iat` (RFC 9449 §11.2): a proof cannot be made
/// ahead of time, whatever the client's clock says.
pub struct HmacDpopNonces {
    key: hmac::Key,
    period_secs: i64,
}

impl std::fmt::Debug for HmacDpopNonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HmacDpopNonces")
            .field("period_secs", &self.period_secs)
            .finish_non_exhaustive()
    }
}

/// The window counter's size in a nonce.
const WINDOW_BYTES: usize = 8;

impl HmacDpopNonces {
    /// Nonces keyed by `secret` (256 random bits, shared by the nodes of one deployment),
    /// changing every `period` (at least one second; five minutes is a good default).
    pub fn new(secret: &[u8; 32], period: Duration) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            period_secs: period.whole_seconds().max(1),
        }
    }

    fn window(&self, now: OffsetDateTime) -> i64 {
        now.unix_timestamp().div_euclid(self.period_secs)
    }

    fn nonce_for(&self, window: i64) -> String {
        let w = window.to_be_bytes();
        let tag = hmac::sign(&self.key, &w);
        let mut raw = Vec::with_capacity(WINDOW_BYTES + tag.as_ref().len());
        raw.extend_from_slice(&w);
        raw.extend_from_slice(tag.as_ref());
        B64URL.encode(raw)
    }
}

impl DpopNonces for HmacDpopNonces {
    fn current(&self, now: OffsetDateTime) -> String {
        self.nonce_for(self.window(now))
    }

    fn accepts(&self, nonce: &str, now: OffsetDateTime) -> bool {
        // Bounded: a nonce is 54 characters; anything longer is not ours.
        if nonce.len() > 64 {
            return false;
        }
        let Ok(raw) = B64URL.decode(nonce) else {
            return false;
        };
        let Some((w, tag)) = raw.split_first_chunk::<WINDOW_BYTES>() else {
            return false;
        };
        let window = i64::from_be_bytes(*w);
        let current = self.window(now);
        (window == current || Some(window) == current.checked_sub(1))
            && hmac::verify(&self.key, w, tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_767_225_600 + secs).unwrap()
    }

    #[test]
    fn rfc9449_8_nonce_is_accepted_for_its_window_and_the_next() {
        let n = HmacDpopNonces::new(&[7; 32], Duration::minutes(5));
        let nonce = n.current(t(0));
        assert!(
            nonce
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert!(n.accepts(&nonce, t(0)));
        assert!(n.accepts(&nonce, t(299)));
        assert!(n.accepts(&nonce, t(300)));
        assert!(!n.accepts(&nonce, t(600)));
        // Not before it was issued.
        assert!(!n.accepts(&nonce, t(-300)));
    }

    #[test]
    fn rfc9449_8_nonce_is_bound_to_the_secret_and_unforgeable() {
        let a = HmacDpopNonces::new(&[1; 32], Duration::minutes(5));
        let b = HmacDpopNonces::new(&[2; 32], Duration::minutes(5));
        assert!(!b.accepts(&a.current(t(0)), t(0)));
        for bad in ["", "x", "AAAAAAAAAAA", &"A".repeat(65), "!!"] {
            assert!(!a.accepts(bad, t(0)), "{bad}");
        }
        let mut forged = a.current(t(0)).into_bytes();
        let last = forged.len() - 2;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        assert!(!a.accepts(std::str::from_utf8(&forged).unwrap(), t(0)));
    }
}

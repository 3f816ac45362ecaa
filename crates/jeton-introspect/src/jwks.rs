//! A remote issuer's JWKS, refetched when a token names a key the validator does not know.

use crate::fetch_jwks;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jeton::BearerValidator;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The default shortest time between two refetches triggered by unknown `kid`s.
pub const DEFAULT_MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(30);

/// Keeps a [`BearerValidator`]'s keys in step with a remote issuer's `jwks_uri`.
///
/// Rotation (decided once, here): the JWKS is refetched when a JWT names a `kid` that the
/// validator's key set lacks, at most once per [`min_interval`](RemoteJwks::min_interval)
/// (default [`DEFAULT_MIN_REFRESH_INTERVAL`]), so a flood of tokens with made-up `kid`s costs
/// the issuer at most one request per interval. No periodic task: an issuer publishes a new key
/// before it signs with it, so the first token signed with it triggers the refetch; a key
/// removed at the issuer stays trusted here until the next refetch (retire keys after their
/// last token expired, as the issuer's docs say). The set held is one bounded JWKS
/// ([`Jwks::from_json`](jeton::Jwks::from_json) limits its size), replaced, never grown.
pub struct RemoteJwks {
    http: reqwest::Client,
    url: String,
    validator: Arc<BearerValidator>,
    limiter: RefreshLimiter,
}

impl std::fmt::Debug for RemoteJwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteJwks")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl RemoteJwks {
    /// Refreshes `validator`'s keys (made by [`BearerValidator::builder`] from a first
    /// [`fetch_jwks`]) from `url`, through `http`.
    pub fn new(
        http: reqwest::Client,
        url: impl Into<String>,
        validator: Arc<BearerValidator>,
    ) -> Self {
        Self {
            http,
            url: url.into(),
            validator,
            limiter: RefreshLimiter::new(DEFAULT_MIN_REFRESH_INTERVAL),
        }
    }

    /// The shortest time between two refetches.
    pub fn min_interval(mut self, interval: Duration) -> Self {
        self.limiter = RefreshLimiter::new(interval);
        self
    }

    /// Call before validating a request: when its `Authorization` value carries a JWT whose
    /// `kid` the validator lacks, refetch the JWKS (rate-limited). Returns whether the keys
    /// were replaced. A failed fetch changes nothing: the token is then refused as usual.
    pub async fn refresh_for(&self, authorization: &[u8]) -> bool {
        let Some(kid) = kid_of(authorization) else {
            return false;
        };
        if self.validator.keys().get(&kid).is_some() || !self.limiter.allow(Instant::now()) {
            return false;
        }
        match fetch_jwks(&self.http, &self.url).await {
            Ok(keys) => self.validator.replace_keys(keys),
            Err(_) => false,
        }
    }
}

/// The `kid` in the protected header of the JWT in a `Bearer` credential, if any.
fn kid_of(authorization: &[u8]) -> Option<String> {
    let value = std::str::from_utf8(authorization).ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let header = token.trim().split('.').next()?;
    if header.len() > 1024 {
        return None;
    }
    let json = URL_SAFE_NO_PAD.decode(header).ok()?;
    let header: serde_json::Value = serde_json::from_slice(&json).ok()?;
    Some(header.get("kid")?.as_str()?.to_owned())
}

/// At most one refetch per interval.
struct RefreshLimiter {
    interval: Duration,
    last: Mutex<Option<Instant>>,
}

impl RefreshLimiter {
    fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: Mutex::new(None),
        }
    }

    fn allow(&self, now: Instant) -> bool {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        match *last {
            Some(t) if now.saturating_duration_since(t) < self.interval => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refetches_are_rate_limited() {
        let limiter = RefreshLimiter::new(Duration::from_secs(30));
        let t0 = Instant::now();
        assert!(limiter.allow(t0));
        assert!(!limiter.allow(t0 + Duration::from_secs(1)));
        assert!(!limiter.allow(t0 + Duration::from_secs(29)));
        assert!(limiter.allow(t0 + Duration::from_secs(30)));
        assert!(!limiter.allow(t0 + Duration::from_secs(31)));
    }

    #[test]
    fn kid_is_read_from_bearer_jwts_only() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","kid":"k1"}"#);
        let jwt = format!("Bearer {header}.e30.sig");
        assert_eq!(kid_of(jwt.as_bytes()).as_deref(), Some("k1"));
        assert_eq!(kid_of(b"Bearer jt_opaque"), None);
        assert_eq!(kid_of(format!("Basic {header}.e30.sig").as_bytes()), None);
        assert_eq!(kid_of(b"Bearer !!!.e30.sig"), None);
    }
}

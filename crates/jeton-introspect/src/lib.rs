//! # jeton-introspect — a resource server's view of a remote jeton
//!
//! For an API in another process than its authorization server: [`RemoteIntrospector`] asks
//! the server's RFC 7662 endpoint about opaque tokens (an [`Introspector`] for
//! [`BearerValidator::introspecting`](jeton::BearerValidator::introspecting)), and
//! [`fetch_jwks`] gets its JWKS for offline JWT checks
//! ([`BearerValidator::builder`](jeton::BearerValidator::builder)), which [`RemoteJwks`] refetches
//! when a token names an unknown key (rate-limited). The HTTP lives here, so the core
//! stays free of it.
//!
//! The cache (decided once, here):
//! - only active answers are cached, keyed by the token's SHA-256 digest (never the token), for
//!   at most the configured TTL (default 30 s) and never past the token's `exp`: a revocation
//!   at the server is seen after at most the TTL;
//! - negative answers are not cached: a token issued a moment ago must not be refused for a
//!   TTL, and a refused token costs one round trip (put a rate limit in front of the API if
//!   floods of bad tokens are a concern);
//! - bounded in entries (default 1024): when full, expired entries go first, then the entry
//!   closest to its end.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use jeton;

mod jwks;
pub use jwks::{DEFAULT_MIN_REFRESH_INTERVAL, RemoteJwks};

use jeton::time::{Duration, OffsetDateTime};
use jeton::{
    ClientId, Introspector, Jwks, Resource, Scope, StoreError, TokenClaims, TokenDigest,
    encode_basic,
};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// The default time an active answer is reused.
pub const DEFAULT_TTL: Duration = Duration::seconds(30);
/// The default number of cached answers.
pub const DEFAULT_MAX_ENTRIES: usize = 1024;

/// Fetches a JWK Set document from `url` (a `jwks_uri`) and parses it ([`Jwks::from_json`]).
pub async fn fetch_jwks(http: &reqwest::Client, url: &str) -> Result<Jwks, StoreError> {
    let resp = http.get(url).send().await.map_err(StoreError::new)?;
    let resp = resp.error_for_status().map_err(StoreError::new)?;
    let bytes = resp.bytes().await.map_err(StoreError::new)?;
    Jwks::from_json(&bytes).map_err(StoreError::new)
}

/// An [`Introspector`] over a remote RFC 7662 endpoint, authenticating as a client that may
/// introspect (`client_secret_basic`), with a short bounded cache (see the crate docs).
pub struct RemoteIntrospector {
    http: reqwest::Client,
    url: String,
    authorization: String,
    cache: Cache,
}

impl std::fmt::Debug for RemoteIntrospector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteIntrospector")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl RemoteIntrospector {
    /// Introspects at `url` as `client_id` / `client_secret`, through `http`.
    pub fn new(
        http: reqwest::Client,
        url: impl Into<String>,
        client_id: &str,
        secret: &str,
    ) -> Self {
        Self {
            http,
            url: url.into(),
            authorization: encode_basic(client_id, secret),
            cache: Cache::new(DEFAULT_MAX_ENTRIES, DEFAULT_TTL),
        }
    }

    /// The cache's bounds: at most `max_entries` answers, each for at most `ttl` (zero
    /// entries or a zero TTL: no cache).
    pub fn cache(mut self, max_entries: usize, ttl: Duration) -> Self {
        self.cache = Cache::new(max_entries, ttl);
        self
    }

    async fn ask(&self, token: &str) -> Result<Option<TokenClaims>, StoreError> {
        let resp = self
            .http
            .post(&self.url)
            .header("authorization", &self.authorization)
            .form(&[("token", token)])
            .send()
            .await
            .map_err(StoreError::new)?;
        let resp = resp.error_for_status().map_err(StoreError::new)?;
        let body: Value = resp.json().await.map_err(StoreError::new)?;
        Ok(claims_of(&body))
    }
}

#[async_trait::async_trait]
impl Introspector for RemoteIntrospector {
    async fn introspect(&self, token: &str) -> Result<Option<TokenClaims>, StoreError> {
        let digest = TokenDigest::of(token);
        let now = OffsetDateTime::now_utc();
        if let Some(hit) = self.cache.get(&digest, now) {
            return Ok(Some(hit));
        }
        let found = self.ask(token).await?;
        if let Some(claims) = &found {
            self.cache
                .put(digest, claims.clone(), OffsetDateTime::now_utc());
        }
        Ok(found)
    }
}

/// The claims of an RFC 7662 §2.2 answer; `None` unless `active` is `true` and `client_id` and
/// `exp` are there (without `exp` a resource server cannot tell when to stop trusting it).
pub fn claims_of(body: &Value) -> Option<TokenClaims> {
    if body.get("active") != Some(&Value::Bool(true)) {
        return None;
    }
    let time = |name: &str| {
        body.get(name)
            .and_then(Value::as_i64)
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
    };
    let client_id = ClientId::new(body.get("client_id")?.as_str()?).ok()?;
    let expires_at = time("exp")?;
    let issued_at = time("iat").unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let subject = body
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or(client_id.as_str())
        .to_owned();
    let scope = match body.get("scope").and_then(Value::as_str) {
        Some(s) => Scope::parse(s).ok()?,
        None => Scope::default(),
    };
    let audience = match body.get("aud") {
        Some(Value::String(one)) => vec![Resource::new(one.as_str()).ok()?],
        Some(Value::Array(many)) => many
            .iter()
            .map(|a| Resource::new(a.as_str()?).ok())
            .collect::<Option<Vec<_>>>()?,
        _ => Vec::new(),
    };
    let claims = TokenClaims::new(client_id, subject, scope, audience, issued_at, expires_at);
    Some(match body.get("jti").and_then(Value::as_str) {
        Some(jti) => claims.with_jti(jti),
        None => claims,
    })
}

/// Active answers by token digest, each with the instant it stops being reused.
struct Cache {
    max_entries: usize,
    ttl: Duration,
    entries: Mutex<HashMap<TokenDigest, (TokenClaims, OffsetDateTime)>>,
}

impl Cache {
    fn new(max_entries: usize, ttl: Duration) -> Self {
        Self {
            max_entries,
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, digest: &TokenDigest, now: OffsetDateTime) -> Option<TokenClaims> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(digest) {
            Some((claims, until)) if now < *until => Some(claims.clone()),
            Some(_) => {
                entries.remove(digest);
                None
            }
            None => None,
        }
    }

    fn put(&self, digest: TokenDigest, claims: TokenClaims, now: OffsetDateTime) {
        // Never reused past the token's own expiry.
        let until = (now + self.ttl).min(claims.expires_at);
        if self.max_entries == 0 || until <= now {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.max_entries && !entries.contains_key(&digest) {
            entries.retain(|_, (_, u)| now < *u);
        }
        if entries.len() >= self.max_entries && !entries.contains_key(&digest) {
            let soonest = entries.iter().min_by_key(|(_, (_, u))| *u).map(|(d, _)| *d);
            if let Some(d) = soonest {
                entries.remove(&d);
            }
        }
        entries.insert(digest, (claims, until));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(exp: OffsetDateTime) -> TokenClaims {
        let now = jeton_testkit::now();
        TokenClaims::new(
            ClientId::new("c").unwrap(),
            "c".into(),
            Scope::default(),
            Vec::new(),
            now,
            exp,
        )
    }

    #[test]
    fn cache_is_bounded_in_entries() {
        let now = jeton_testkit::now();
        let cache = Cache::new(3, Duration::seconds(30));
        for i in 0..10 {
            let exp = now + Duration::minutes(5 + i);
            cache.put(TokenDigest::of(&i.to_string()), claims(exp), now);
            assert!(cache.len() <= 3);
        }
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn cache_never_outlives_the_ttl_or_the_token() {
        let now = jeton_testkit::now();
        let cache = Cache::new(8, Duration::seconds(30));
        let (long, short) = (TokenDigest::of("long"), TokenDigest::of("short"));
        cache.put(long, claims(now + Duration::hours(1)), now);
        cache.put(short, claims(now + Duration::seconds(5)), now);
        assert!(cache.get(&long, now + Duration::seconds(29)).is_some());
        assert!(cache.get(&long, now + Duration::seconds(30)).is_none());
        assert!(cache.get(&short, now + Duration::seconds(4)).is_some());
        assert!(cache.get(&short, now + Duration::seconds(5)).is_none());
        // An expired token is not cached at all.
        cache.put(TokenDigest::of("gone"), claims(now), now);
        assert!(cache.get(&TokenDigest::of("gone"), now).is_none());
    }

    #[test]
    fn rfc7662_2_2_only_active_answers_with_exp_give_claims() {
        assert_eq!(claims_of(&json!({"active": false})), None);
        assert_eq!(claims_of(&json!({"active": true, "client_id": "c"})), None);
        let c = claims_of(&json!({
            "active": true, "client_id": "c", "exp": 1_767_225_900, "iat": 1_767_225_600,
            "scope": "a b", "aud": "https://api.example.com/", "jti": "j",
        }))
        .unwrap();
        assert_eq!(c.scope, Scope::parse("a b").unwrap());
        assert_eq!(
            c.audience,
            [Resource::new("https://api.example.com/").unwrap()]
        );
        assert_eq!(c.jti.as_deref(), Some("j"));
        assert_eq!(c.subject, "c");
    }
}

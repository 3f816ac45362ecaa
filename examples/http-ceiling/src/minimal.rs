//! `http-ceiling minimal`: the cheapest client credentials endpoint one would write by hand, the
//! second yardstick of `scripts/load.sh` (issue 13's "hand-written minimal token endpoint").
//!
//! It does only the work no token endpoint can skip: read the Basic credentials, check the
//! secret against an HMAC-SHA256 verifier in constant time, read the form's `grant_type` and
//! `scope`, draw 256 random bits, keep the token in a map, and answer with the token's JSON.
//! Everything else RFC 6749 and jeton ask for is left out on purpose: percent-decoding, repeated
//! or unknown parameters, precise error codes and bodies, client and token limits, expiry
//! sweeps, rate limits, audit events, logs. What jeton costs above this floor is the price of
//! those checks, which is why `load.sh` reports it beside the bare HTTP ceiling.
//!
//! It is not an authorization server and must never be used as one.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// How many independently locked maps hold the tokens, so that two workers rarely wait on one
/// lock and no map grows (and rehashes) to the size of the whole store at once.
const SHARDS: usize = 64;
/// Seconds an issued token lives.
const LIFETIME: u64 = 600;

/// One client, its secret's verifier, and the issued tokens.
pub(crate) struct Minimal {
    client_id: Vec<u8>,
    key: hmac::Key,
    tag: Vec<u8>,
    rng: SystemRandom,
    tokens: Vec<Mutex<HashMap<[u8; 32], Grant>>>,
}

/// What the map keeps for a token: when it expires. (Nothing reads it: the endpoint has no
/// introspection; it is kept so that the insert is a real one.)
pub(crate) struct Grant {
    _expires_at: u64,
}

/// An answer: the status code and the `application/json` body.
pub(crate) struct Answer {
    /// The HTTP status code.
    pub(crate) status: u16,
    /// The JSON body.
    pub(crate) body: String,
}

impl Minimal {
    /// A client with this id and secret; only the secret's HMAC-SHA256 under a random salt is
    /// kept.
    pub(crate) fn new(client_id: &str, secret: &str) -> Result<Self, &'static str> {
        let rng = SystemRandom::new();
        let mut salt = [0u8; 16];
        rng.fill(&mut salt).map_err(|_| "no randomness")?;
        let key = hmac::Key::new(hmac::HMAC_SHA256, &salt);
        let tag = hmac::sign(&key, secret.as_bytes()).as_ref().to_vec();
        Ok(Self {
            client_id: client_id.as_bytes().to_vec(),
            key,
            tag,
            rng,
            tokens: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        })
    }

    /// The answer to `POST /token` with this `Authorization` header value and form body.
    pub(crate) fn answer(&self, authorization: Option<&[u8]>, body: &[u8]) -> Answer {
        if !self.authenticated(authorization) {
            return error(401, "invalid_client");
        }
        let (mut grant_type, mut scope) = (None, None);
        for pair in body.split(|&b| b == b'&') {
            let Some(eq) = pair.iter().position(|&b| b == b'=') else {
                continue;
            };
            match &pair[..eq] {
                b"grant_type" => grant_type = Some(&pair[eq + 1..]),
                b"scope" => scope = Some(&pair[eq + 1..]),
                _ => {}
            }
        }
        if grant_type != Some(b"client_credentials") {
            return error(400, "unsupported_grant_type");
        }
        if scope.is_some_and(|s| s != b"read") {
            return error(400, "invalid_scope");
        }
        let mut raw = [0u8; 32];
        if self.rng.fill(&mut raw).is_err() {
            return error(500, "server_error");
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let shard = &self.tokens[usize::from(raw[0]) % SHARDS];
        match shard.lock() {
            Ok(mut map) => {
                map.insert(
                    raw,
                    Grant {
                        _expires_at: now + LIFETIME,
                    },
                );
            }
            Err(_) => return error(500, "server_error"),
        }
        let token = URL_SAFE_NO_PAD.encode(raw);
        Answer {
            status: 200,
            body: format!(
                r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":{LIFETIME},"scope":"read"}}"#
            ),
        }
    }

    /// Whether `authorization` is `Basic` with this client's id and secret.
    fn authenticated(&self, authorization: Option<&[u8]>) -> bool {
        let Some(encoded) = authorization.and_then(|h| h.strip_prefix(b"Basic ")) else {
            return false;
        };
        let Ok(decoded) = STANDARD.decode(encoded) else {
            return false;
        };
        let Some(colon) = decoded.iter().position(|&b| b == b':') else {
            return false;
        };
        let (id, secret) = (&decoded[..colon], &decoded[colon + 1..]);
        // The secret is checked whatever the id, so that a wrong id costs what a wrong secret
        // does.
        let secret_ok = hmac::verify(&self.key, secret, &self.tag).is_ok();
        secret_ok && id == self.client_id.as_slice()
    }

    /// How many tokens the map holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.tokens
            .iter()
            .map(|s| s.lock().map_or(0, |m| m.len()))
            .sum()
    }
}

fn error(status: u16, code: &str) -> Answer {
    Answer {
        status,
        body: format!(r#"{{"error":"{code}"}}"#),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(id: &str, secret: &str) -> Vec<u8> {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))).into_bytes()
    }

    #[test]
    fn issues_a_token_to_the_client_and_keeps_it() {
        let m = Minimal::new("load", "s3cret").unwrap();
        let a = m.answer(
            Some(&basic("load", "s3cret")),
            b"grant_type=client_credentials&scope=read",
        );
        assert_eq!(a.status, 200, "{}", a.body);
        assert!(a.body.starts_with(r#"{"access_token":""#), "{}", a.body);
        let b = m.answer(
            Some(&basic("load", "s3cret")),
            b"grant_type=client_credentials",
        );
        assert_eq!(b.status, 200);
        assert_ne!(a.body, b.body, "each token is new");
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn refuses_wrong_credentials_and_bad_forms() {
        let m = Minimal::new("load", "s3cret").unwrap();
        let form = b"grant_type=client_credentials";
        for auth in [
            None,
            Some(basic("load", "wrong")),
            Some(basic("other", "s3cret")),
            Some(b"Bearer x".to_vec()),
            Some(b"Basic !!!".to_vec()),
        ] {
            assert_eq!(m.answer(auth.as_deref(), form).status, 401);
        }
        let auth = basic("load", "s3cret");
        assert_eq!(m.answer(Some(&auth), b"grant_type=password").status, 400);
        assert_eq!(m.answer(Some(&auth), b"").status, 400);
        let scope = m.answer(Some(&auth), b"grant_type=client_credentials&scope=write");
        assert_eq!(
            (scope.status, scope.body.as_str()),
            (400, r#"{"error":"invalid_scope"}"#)
        );
        assert_eq!(m.len(), 0);
    }
}

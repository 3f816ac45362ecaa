//! The opt-in reading of `Basic` credentials that were not form-encoded
//! ([`EngineBuilder::accept_raw_basic`](crate::EngineBuilder::accept_raw_basic)).
//!
//! RFC 6749 §2.3.1 says the client form-encodes its id and secret before Basic encoding, and
//! that reading stays the rule. Several client libraries (and `curl -u`) send `id:secret` raw,
//! so an id or secret holding `+` or `%` fails. With the setting on, the engine also considers
//! the raw reading, and still verifies **one** secret per request, so an attacker cannot double
//! the verification work:
//!
//! 1. the two readings agree (nothing to decode): one candidate;
//! 2. the ids differ: the engine reads both ids from the store (a read, no verification) and
//!    takes the reading whose id is registered; if both are registered (two different clients)
//!    the request fails as `invalid_client` (ambiguous); if neither, the RFC reading (the
//!    unknown-client path, with its decoy work);
//! 3. only the secrets differ: a form-encoding client never sends a raw `+` (secrets are
//!    `VSCHAR`, so there is no space to encode) nor a `%` that does not start an escape, so such
//!    a secret is the raw one; otherwise the RFC reading.

use crate::audit::AuthFailure;
use crate::basic::{Authorization, parse_authorization_raw};
use crate::client::ClientRecord;
use crate::server::authn::SecretCredentials;
use crate::server::engine::Engine;
use crate::server::rejection::Rejection;
use crate::types::{ClientId, ClientSecret};
use std::sync::Arc;

/// The raw reading of a Basic `value`, when it differs from the decoded `id` and `secret`.
pub(crate) fn raw_reading(
    value: &[u8],
    id: &ClientId,
    secret: &ClientSecret,
) -> Option<(ClientId, ClientSecret)> {
    let Ok(Authorization::Basic(raw)) = parse_authorization_raw(value) else {
        return None;
    };
    let raw_id = ClientId::new(raw.client_id).ok()?;
    if &raw_id == id && raw.secret.expose() == secret.expose() {
        return None;
    }
    Some((raw_id, raw.secret))
}

/// Whether a raw secret cannot be the output of form-encoding (item 3 above).
fn looks_raw(secret: &str) -> bool {
    let b = secret.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b'+'
            || (c == b'%'
                && !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)))
    })
}

impl Engine {
    /// Picks the one reading to verify, and reads its record (one store read, or two when the
    /// readings name different ids).
    pub(crate) async fn resolve_raw_basic(
        &self,
        mut creds: SecretCredentials,
    ) -> Result<(SecretCredentials, Option<Arc<ClientRecord>>), Rejection> {
        let record = self.lookup_client(&creds.id).await?;
        let Some((raw_id, raw_secret)) = creds.raw.take() else {
            return Ok((creds, record));
        };
        if raw_id == creds.id {
            if looks_raw(raw_secret.expose()) {
                creds.secret = raw_secret;
            }
            return Ok((creds, record));
        }
        let raw_record = self.lookup_client(&raw_id).await?;
        match (record, raw_record) {
            (Some(_), Some(_)) => Err(Rejection::auth(
                Some(creds.id),
                Some(creds.method),
                AuthFailure::MalformedCredentials,
            )),
            (None, Some(r)) => {
                creds.id = raw_id;
                creds.secret = raw_secret;
                Ok((creds, Some(r)))
            }
            (record, None) => Ok((creds, record)),
        }
    }

    /// The record of `id` (a shared reference, no copy); a store failure is `server_error`.
    async fn lookup_client(&self, id: &ClientId) -> Result<Option<Arc<ClientRecord>>, Rejection> {
        self.clients
            .client(id)
            .await
            .map_err(|e| Rejection::infra(Some(id.clone()), "client_lookup", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6749_2_3_1_only_unencodable_secrets_are_read_raw() {
        assert!(looks_raw("a+b"));
        assert!(looks_raw("100%"));
        assert!(looks_raw("%zz"));
        assert!(!looks_raw("a%2Bb"));
        assert!(!looks_raw("plain"));
    }
}

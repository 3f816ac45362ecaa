//! private_key_jwt at the token, introspection and revocation endpoints (RFC 7523 §2.2, §3;
//! RFC 7521 §4.2; draft-ietf-oauth-rfc7523bis): the engine's side of [`super::assertion`].
//!
//! The steps mirror a secret's: read the claimed client id (`peek_client_id`, no key, bounded),
//! the limiter, the store read, the keys (inline in the record, or the embedder's
//! [`ClientKeysResolver`] for a `jwks_uri`), the pure verification, then the single-use
//! insert of the `jti` in the [`ReplayStore`]. Every refusal is the same `401 invalid_client`
//! as a wrong secret; the audit event keeps the [`AssertionFailure`].

use crate::audit::{AssertionFailure, AuthFailure};
use crate::client::{AuthMethod, ClientRecord};
use crate::request::RawRequest;
use crate::server::assertion::{
    AssertionPolicy, ClientAssertion, DEFAULT_ASSERTION_LEEWAY, DEFAULT_MAX_ASSERTION_LIFETIME,
    decoy_verify, peek_client_id, verify_client_assertion,
};
use crate::server::authn::{AssertionCredentials, AuthenticatedClient};
use crate::server::engine::Engine;
use crate::server::limiter::RetryAfter;
use crate::server::rejection::Rejection;
use crate::store::{ClientKeysResolver, ReplayStore};
use crate::tokens::{ClientKeys, VerifyingKey};
use std::fmt;
use std::sync::{Arc, OnceLock};
use time::Duration;

/// The engine's settings for key-based client authentication (and the Basic reading rule).
#[derive(Clone)]
pub(crate) struct KeyAuthConfig {
    /// Where single-use `jti`s go. `None`: private_key_jwt is off (assertions are refused
    /// as an unsupported method, and metadata does not advertise it).
    pub(crate) replay: Option<Arc<dyn ReplayStore>>,
    /// Resolves `jwks_uri` registrations; `None`: such clients cannot authenticate.
    pub(crate) resolver: Option<Arc<dyn ClientKeysResolver>>,
    /// Accept the token endpoint URL as `aud` too (legacy; off by default).
    pub(crate) accept_token_endpoint_audience: bool,
    /// Clock-skew leeway for `exp`, `nbf`, `iat`.
    pub(crate) leeway: Duration,
    /// The longest assertion lifetime accepted.
    pub(crate) max_lifetime: Duration,
    /// Also accept Basic credentials that are not form-encoded (server/raw_basic.rs).
    pub(crate) accept_raw_basic: bool,
    /// Server nonces DPoP proofs must carry (RFC 9449 §8); `None`: no nonce required.
    pub(crate) dpop_nonces: Option<Arc<dyn crate::tokens::DpopNonces>>,
}

impl Default for KeyAuthConfig {
    fn default() -> Self {
        Self {
            replay: None,
            resolver: None,
            accept_token_endpoint_audience: false,
            leeway: DEFAULT_ASSERTION_LEEWAY,
            max_lifetime: DEFAULT_MAX_ASSERTION_LIFETIME,
            accept_raw_basic: false,
            dpop_nonces: None,
        }
    }
}

impl fmt::Debug for KeyAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyAuthConfig")
            .field("private_key_jwt", &self.replay.is_some())
            .field("jwks_uri_resolver", &self.resolver.is_some())
            .field(
                "accept_token_endpoint_audience",
                &self.accept_token_endpoint_audience,
            )
            .field("leeway", &self.leeway)
            .field("max_lifetime", &self.max_lifetime)
            .field("accept_raw_basic", &self.accept_raw_basic)
            .field("dpop_nonces", &self.dpop_nonces.is_some())
            .finish()
    }
}

/// Public keys nobody registered, one per algorithm: an assertion from an unknown client is
/// verified against the one of its `alg`, so it costs what a registered client's does.
const DECOY_JWKS: &str = r#"{"keys":[{"kty": "EC", "crv": "P-256", "x": "2cmBxO8ooXNO_S__BFEoR-D2QIwOlo7pl2Uf-UsPbIk", "y": "4vUaxyvpOCbZrQPMOxVP-OJOIFDs6m9KGRwYd9-cZRw", "kid": "decoy-es256"},{"kty": "OKP", "crv": "Ed25519", "x": "4b_ZRT0i9ZdzIai8nKVW9tz8b26dGIt_K2NVdMxaGyM", "kid": "decoy-eddsa"},{"kty": "RSA", "n": "ozh4WhTPahmuCTCj9cMSfD5ZKLW8rdIEWgdEyjgmjqVzN46fpPV8c_F5ogWtP_qp3SGL2afm0LJ1tCwl4TEa6qAeQkdJhUhsLaWM-L73hvrM-rJbmpmtu19cZu42EVk3ju3Y9MF-eRa8w2xiKLYMW5Vm9GV0_N9-BdQFc_IpZmPkwQ8K-QKqTYKpq4HlbnM6yDx_I05vxRA8MNN-wOu--b09LZPhuZTtNO9BLjzBd2K8BsRJDnrz1-mx1d-VdqUaIq43rLwnfcf9PuJhfFAyPUxYjEFsIjUdhtk5N2FGVV0if-IcY03ACv9OrqPIyQ7p_FLBlgdoQ81IjhM-lKiSsQ", "e": "AQAB", "kid": "decoy-rsa"}]}"#;

fn decoys() -> &'static [VerifyingKey] {
    static DECOYS: OnceLock<Vec<VerifyingKey>> = OnceLock::new();
    DECOYS.get_or_init(|| {
        let mut keys = Vec::new();
        if let Ok(set) = crate::tokens::Jwks::from_json(DECOY_JWKS.as_bytes()) {
            for k in set.iter() {
                if k.algorithm().is_rsa() {
                    keys.extend(k.clone().with_algorithm(crate::Algorithm::Ps256).ok());
                }
                keys.push(k.clone());
            }
        }
        keys
    })
}

impl Engine {
    /// Authenticates a `private_key_jwt` client (see the module documentation).
    pub(crate) async fn authenticate_assertion(
        &self,
        creds: AssertionCredentials,
        req: &RawRequest<'_>,
    ) -> Result<AuthenticatedClient, Rejection> {
        let ka = &self.config.keyauth;
        let claimed = creds
            .client_id
            .as_deref()
            .and_then(|i| crate::ClientId::new(i).ok());
        let method = Some(AuthMethod::PrivateKeyJwt);
        let Some(replay) = &ka.replay else {
            return Err(Rejection::auth(
                claimed,
                None,
                AuthFailure::UnsupportedMethod,
            ));
        };
        let ca = ClientAssertion {
            assertion_type: &creds.assertion_type,
            assertion: &creds.assertion,
            client_id: creds.client_id.as_deref(),
        };
        let id = peek_client_id(&ca)
            .map_err(|f| Rejection::auth(claimed, method, AuthFailure::Assertion(f)))?;
        let fail = |reason| Rejection::auth(Some(id.clone()), method, reason);
        let now = req.now;
        let source = self.limiter_source(req);
        let limiter = self.limiter();
        if let Err(retry_after) = limiter.may_attempt(source, &id, now) {
            return Err(Rejection::throttled(
                id.clone(),
                req.peer,
                source,
                retry_after,
            ));
        }
        let record = self
            .clients
            .client(&id)
            .await
            .map_err(|e| Rejection::infra(Some(id.clone()), "client_lookup", e))?;
        let keys = self.registered_keys(record.as_deref()).await?;
        let (Some(issuer), Some(endpoints)) = (&self.config.issuer, &self.config.endpoints) else {
            // The builder refuses a replay store without an issuer; kept total.
            return Err(fail(AuthFailure::UnsupportedMethod));
        };
        let policy = AssertionPolicy {
            issuer: issuer.as_str(),
            token_endpoint: endpoints.token.as_str(),
            accept_token_endpoint_audience: ka.accept_token_endpoint_audience,
            leeway: ka.leeway,
            max_lifetime: ka.max_lifetime,
        };
        // The signature work first, whatever the record says (equal cost).
        let verified = match &keys {
            Some(keys) => verify_client_assertion(&ca, &id, keys, &policy, now),
            None => {
                decoy_verify(&ca, decoys());
                Err(AssertionFailure::UnknownKey)
            }
        };
        let checked = match (record, verified) {
            (None, _) => Err(AuthFailure::UnknownClient),
            (Some(r), _) if !r.enabled => Err(AuthFailure::ClientDisabled),
            (Some(r), _) if !r.auth_methods.contains(&AuthMethod::PrivateKeyJwt) => {
                Err(AuthFailure::MethodNotAllowed)
            }
            (Some(_), Err(f)) => Err(AuthFailure::Assertion(f)),
            (Some(r), Ok(v)) => Ok((r, v)),
        };
        let (record, verified) = match checked {
            Ok(ok) => ok,
            Err(reason) => {
                limiter.record_failure(source, &id, now);
                return Err(fail(reason));
            }
        };
        // RFC 7523 §3 (7), RFC-CHECKLIST item 35: single use, atomically, until exp + leeway.
        match replay
            .insert_if_absent(
                &verified.replay_key(),
                verified.replay_until(ka.leeway),
                now,
            )
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                limiter.record_failure(source, &id, now);
                return Err(fail(AuthFailure::Assertion(AssertionFailure::Replayed)));
            }
            // Full of live entries: refuse (never accept unrecorded), as a capacity answer.
            Err(e) if e.capacity().is_some() => {
                return Err(Rejection::overloaded(
                    Some(id),
                    "replay_store",
                    RetryAfter::from_secs(1),
                ));
            }
            Err(e) => return Err(Rejection::infra(Some(id), "replay_store", e)),
        }
        limiter.record_success(source, &id, now);
        Ok(AuthenticatedClient { record })
    }

    /// The client's registered keys: inline, else resolved from its `jwks_uri`.
    async fn registered_keys(
        &self,
        record: Option<&ClientRecord>,
    ) -> Result<Option<ClientKeys>, Rejection> {
        let Some(r) = record else { return Ok(None) };
        if let Some(k) = &r.keys {
            return Ok(Some(k.clone()));
        }
        match (&r.jwks_uri, &self.config.keyauth.resolver) {
            (Some(uri), Some(resolver)) => resolver
                .client_keys(r, uri)
                .await
                .map_err(|e| Rejection::infra(Some(r.id.clone()), "jwks_uri", e)),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6749_10_10_decoy_keys_cover_every_assertion_algorithm() {
        for alg in crate::Algorithm::VERIFY {
            assert!(decoys().iter().any(|k| k.algorithm() == alg), "{alg:?}");
        }
    }
}

//! DPoP at the token endpoint (RFC 9449 §5): the proof in the request's `DPoP` header is
//! verified against this server's token endpoint URL (`htm` `POST`, `htu` the configured
//! [`Endpoints::token`](crate::Endpoints)), its `jti` is recorded once in the replay store, and
//! the token is bound to the proof's key (`cnf.jkt`, `token_type` `DPoP`).
//!
//! DPoP is on exactly when the engine has a replay store
//! ([`EngineBuilder::replay_store`](crate::EngineBuilder::replay_store)): without one a proof
//! could be replayed, so the header is ignored (a bearer token, as from a server that does not
//! know DPoP) and a client that `require_dpop`s is refused (fail closed).

use crate::client::ClientRecord;
use crate::request::RawRequest;
use crate::response::desc;
use crate::server::engine::Engine;
use crate::server::limiter::RetryAfter;
use crate::server::rejection::Rejection;
use crate::tokens::{Confirmation, DpopCheck, DpopFailure, verify_dpop_proof};

impl Engine {
    /// Whether the token endpoint reads DPoP proofs (a replay store is configured).
    pub fn dpop_enabled(&self) -> bool {
        self.config.keyauth.replay.is_some() && self.config.endpoints.is_some()
    }

    /// The `DPoP-Nonce` to send at `now`, when DPoP is on and the engine requires server nonces
    /// ([`EngineBuilder::dpop_nonces`](crate::EngineBuilder::dpop_nonces)): with a
    /// `use_dpop_nonce` refusal (RFC 9449 §8) and with every successful token response (§8.2),
    /// so a client learns the next nonce without a refusal.
    pub(crate) fn dpop_nonce(&self, now: time::OffsetDateTime) -> Option<String> {
        let nonces = self.config.keyauth.dpop_nonces.as_ref()?;
        self.dpop_enabled().then(|| nonces.current(now))
    }

    /// The key the token of `client`'s request is bound to: `Some` for a valid proof, `None`
    /// for a bearer token; a refusal for a bad or replayed proof, a missing or stale nonce, or a
    /// missing proof from a client that requires DPoP.
    pub(crate) async fn dpop_binding(
        &self,
        req: &RawRequest<'_>,
        client: &ClientRecord,
    ) -> Result<Option<Confirmation>, Rejection> {
        let id = &client.id;
        let refuse = |failure: DpopFailure, description| {
            Rejection::policy(id, failure.error_code(), description)
        };
        let ka = &self.config.keyauth;
        let (Some(replay), Some(endpoints)) = (&ka.replay, &self.config.endpoints) else {
            return if client.require_dpop {
                Err(refuse(DpopFailure::Missing, desc::DPOP_REQUIRED))
            } else {
                Ok(None)
            };
        };
        if req.dpop.count() == 0 {
            return if client.require_dpop {
                Err(refuse(DpopFailure::Missing, desc::DPOP_REQUIRED))
            } else {
                Ok(None)
            };
        }
        let check = DpopCheck {
            nonces: ka.dpop_nonces.as_deref(),
            ..DpopCheck::new("POST", endpoints.token.as_str())
        };
        let proof = match verify_dpop_proof(&req.dpop, &check, req.now) {
            Ok(proof) => proof,
            // RFC 9449 §8: `use_dpop_nonce`, with the nonce to use in `DPoP-Nonce`.
            Err(DpopFailure::UseNonce) => {
                let mut r = refuse(DpopFailure::UseNonce, desc::USE_DPOP_NONCE);
                r.dpop_nonce = self.dpop_nonce(req.now);
                return Err(r);
            }
            Err(f) => return Err(refuse(f, desc::INVALID_DPOP_PROOF)),
        };
        // RFC 9449 §11.1: each proof once, until it would be refused as stale anyway.
        match replay
            .insert_if_absent(
                &proof.replay_key(),
                proof.replay_until(check.iat_window),
                req.now,
            )
            .await
        {
            Ok(true) => Ok(Some(Confirmation::jkt(proof.jkt))),
            Ok(false) => Err(refuse(DpopFailure::Malformed, desc::DPOP_REPLAYED)),
            Err(e) if e.capacity().is_some() => Err(Rejection::overloaded(
                Some(id.clone()),
                "replay_store",
                RetryAfter::from_secs(1),
            )),
            Err(e) => Err(Rejection::infra(Some(id.clone()), "replay_store", e)),
        }
    }
}

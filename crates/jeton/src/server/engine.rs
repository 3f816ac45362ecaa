//! The engine and the token endpoint (RFC 6749 §4.4.2).

use crate::audit::AuditEvent;
use crate::client::GrantType;
use crate::error::ErrorCode;
use crate::issuer_id::IssuerId;
use crate::request::RawRequest;
use crate::resource::BearerValidatorBuilder;
use crate::response::{Outcome, Response, desc};
use crate::server::authn;
use crate::server::builder::Config;
use crate::server::intake::{parse_post_form, parse_resources};
use crate::server::rejection::Rejection;
use crate::server::routes::RouteKind;
use crate::server::token_body::TokenBody;
use crate::store::ClientStore;
use crate::tokens::{LocalValidation, TokenClaims, TokenIssuer};
use crate::transport::Transport;
use crate::types::{Resource, Scope};
use std::fmt;
use std::sync::Arc;

/// The jeton engine: a client store, a token issuer and the policy that joins them.
///
/// Cheap to share: wrap it in an `Arc` and hand it to every adapter.
pub struct Engine {
    pub(crate) clients: Arc<dyn ClientStore>,
    pub(crate) issuer: Arc<dyn TokenIssuer>,
    pub(crate) config: Config,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The smallest body limit of the introspection and revocation endpoints: the longest token
/// jeton judges, every byte percent-encoded (three bytes each), plus 2 KiB for the other
/// parameters (client credentials in the body, `token_type_hint`).
pub const TOKEN_ROUTE_BODY_BYTES: usize = 3 * crate::DEFAULT_MAX_TOKEN_BYTES + 2048;

impl Engine {
    /// The largest request body the engine accepts at the token endpoint (the builder's
    /// [`max_body_bytes`](crate::EngineBuilder::max_body_bytes)). Adapters read with
    /// [`Engine::max_body_bytes_for`], which is this for every route but introspection and
    /// revocation.
    pub fn max_body_bytes(&self) -> usize {
        self.config.max_body_bytes
    }

    /// The largest request body the engine accepts on `route`; adapters stop reading past it.
    /// Introspection and revocation take a token as a parameter, so their limit also fits the
    /// longest token jeton judges ([`DEFAULT_MAX_TOKEN_BYTES`](crate::DEFAULT_MAX_TOKEN_BYTES)),
    /// percent-encoded throughout, plus the client's credentials and a `token_type_hint`
    /// ([`TOKEN_ROUTE_BODY_BYTES`]): an over-long token is answered `{"active":false}` or
    /// `200`, as RFC 7662 §2.2 and RFC 7009 §2.2 ask, never `400` for its size.
    pub fn max_body_bytes_for(&self, route: RouteKind) -> usize {
        match route {
            RouteKind::Introspection | RouteKind::Revocation => {
                self.config.max_body_bytes.max(TOKEN_ROUTE_BODY_BYTES)
            }
            _ => self.config.max_body_bytes,
        }
    }

    /// The transport setting the engine decides TLS by.
    pub fn transport(&self) -> &Transport {
        &self.config.transport
    }

    /// The realm used in `WWW-Authenticate` challenges (a validator made with
    /// [`Engine::validator`](crate::Engine::validator) uses it too).
    pub fn realm(&self) -> &str {
        &self.config.realm
    }

    /// The issuer identifier, if configured.
    pub fn issuer_id(&self) -> Option<&IssuerId> {
        self.config.issuer.as_ref()
    }

    /// The audience of tokens for clients that name none and have no default of their own
    /// ([`EngineBuilder::default_audience`](crate::EngineBuilder::default_audience)).
    pub fn default_audience(&self) -> &[Resource] {
        &self.config.default_audience
    }

    /// A validator ([`BearerValidator`](crate::BearerValidator)) for the API this engine issues tokens for, in the same process: it shares
    /// the issuer's live state (a JWT issuer's key set and revocation list, so a rotation or a
    /// revocation is seen at once; an opaque issuer's token store), takes the issuer identifier,
    /// the realm and the audience (the first of [`Engine::default_audience`]) from the engine,
    /// and checks JWTs offline.
    ///
    /// [`build`](BearerValidatorBuilder::build) fails when this cannot work: no audience (set
    /// the engine's default audience or call
    /// [`audience`](BearerValidatorBuilder::audience)), no issuer identifier for opaque tokens,
    /// or an issuer that shares nothing (a custom [`TokenIssuer`]: add an
    /// [`introspector`](BearerValidatorBuilder::introspector)).
    pub fn validator(&self) -> BearerValidatorBuilder {
        let issuer = self.issuer_id().map_or("", IssuerId::as_str);
        let audience = self.default_audience().first().map_or("", Resource::as_str);
        let builder = match self.local_validation() {
            Some(local) => BearerValidatorBuilder::from_local(local, issuer, audience),
            None => BearerValidatorBuilder::new(issuer.to_owned(), audience.to_owned(), None),
        };
        let builder = builder.realm(self.realm()).clients(self.clients.clone());
        // RFC 9449 §11.1: DPoP proofs at the API are single-use in the same store as at the
        // token endpoint.
        match &self.config.keyauth.replay {
            Some(replay) => builder.replay_store(replay.clone()),
            None => builder,
        }
    }

    /// What a resource server in this process shares with the token issuer
    /// ([`TokenIssuer::local_validation`]).
    pub fn local_validation(&self) -> Option<LocalValidation> {
        self.issuer.local_validation()
    }

    /// Handles a token request (RFC 6749 §4.4.2) and returns the response, the audit event and,
    /// for infrastructure failures, a diagnostic.
    ///
    /// Deterministic given the stores, the issuer and `req.now`: the engine reads no clock, no
    /// RNG and no socket of its own.
    pub async fn handle_token_request(&self, req: &RawRequest<'_>) -> Outcome {
        match self.token(req).await {
            Ok(outcome) => outcome,
            Err(rejection) => rejection.into_outcome(&self.config.realm),
        }
    }

    async fn token(&self, req: &RawRequest<'_>) -> Result<Outcome, Rejection> {
        let form = parse_post_form(
            &self.config,
            req,
            self.max_body_bytes_for(RouteKind::Token),
            &["resource"],
        )?;

        // RFC 6749 §5.2: missing → invalid_request; present but unsupported →
        // unsupported_grant_type.
        match form.get("grant_type") {
            None => return Err(Rejection::request(desc::MISSING_GRANT_TYPE)),
            Some(g) if g == GrantType::ClientCredentials.as_str() => {}
            Some(_) => {
                return Err(Rejection::plain(
                    ErrorCode::UnsupportedGrantType,
                    desc::UNSUPPORTED_GRANT_TYPE,
                ));
            }
        }
        // RFC 6749 §3.3 syntax, checked before authentication: it reveals nothing.
        let requested_scope = form
            .get("scope")
            .map(Scope::parse)
            .transpose()
            .map_err(|_| Rejection::plain(ErrorCode::InvalidScope, desc::MALFORMED_SCOPE))?;
        let resources = parse_resources(&form, self.config.max_resources)?;

        let credentials =
            authn::extract_credentials(req, &form, self.config.keyauth.accept_raw_basic)?;
        let (client, upgrade_diag) = self.authenticate_client(credentials, req).await?;
        drop(form);
        // RFC 9449 §5: a valid proof binds the token to its key (server/dpop.rs).
        let confirmation = self.dpop_binding(req, &client.record).await?;

        let mut grant = self.authorize(client, requested_scope, resources, req.now)?;
        grant.claims.confirmation = confirmation;
        let mut token = self
            .issuer
            .issue(&grant)
            .await
            .map_err(|e| Rejection::infra(Some(grant.client_id().clone()), "issue_token", e))?;

        // RFC 6749 §3.3, §5.1: the granted scope is always returned when not empty, which covers
        // "MUST include if it differs from the requested one".
        let body = TokenBody {
            access_token: token.expose(),
            token_type: token.token_type().as_str(),
            expires_in: token.expires_in().whole_seconds(),
            scope: (!grant.scope().is_empty()).then_some(grant.scope()),
        }
        .render()
        .map_err(|e| Rejection::infra(Some(grant.client_id().clone()), "render", e))?;
        let jti = token.take_jti();
        // The audit event takes the grant's claims: moved, not copied.
        let TokenClaims {
            client_id,
            scope,
            audience,
            expires_at,
            ..
        } = grant.claims;
        let mut response = Response::json(200, body);
        if let Some(nonce) = self.dpop_nonce(req.now) {
            response = response.with_header("dpop-nonce", nonce);
        }
        Ok(Outcome {
            response,
            event: AuditEvent::TokenIssued {
                client_id,
                scope,
                audience,
                expires_at,
                jti,
            },
            diagnostic: upgrade_diag,
        })
    }
}

//! The client's policy (RFC 6749 §3.3, §4.4; RFC 8707 §2): what an authenticated client is granted.

use crate::client::{ClientRecord, DefaultScope, GrantType};
use crate::error::ErrorCode;
use crate::response::desc;
use crate::server::authn::AuthenticatedClient;
use crate::server::engine::Engine;
use crate::server::rejection::Rejection;
use crate::tokens::{Grant, TokenClaims};
use crate::types::{Resource, Scope};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

impl Engine {
    /// Applies the client's policy (RFC 6749 §3.3, §4.4; RFC 8707 §2) and builds the grant.
    pub(crate) fn authorize(
        &self,
        client: AuthenticatedClient,
        requested_scope: Option<Scope>,
        resources: Vec<Resource>,
        now: OffsetDateTime,
    ) -> Result<Grant, Rejection> {
        let record: Arc<ClientRecord> = client.record;
        let id = &record.id;
        // RFC 6749 §5.2 unauthorized_client: "not authorized to use this authorization grant
        // type".
        if !record.grant_types.contains(&GrantType::ClientCredentials) {
            return Err(Rejection::policy(
                id,
                ErrorCode::UnauthorizedClient,
                desc::GRANT_NOT_ALLOWED,
            ));
        }
        // RFC 6749 §3.3: requested scope within the allow-list; when omitted, "MUST either
        // process the request using a pre-defined default value or fail the request".
        let scope_requested = requested_scope.is_some();
        let scope = match requested_scope {
            // Granted as asked: the grant keeps it once, as the token's scope.
            Some(s) if s.is_subset_of(&record.allowed_scopes) => s,
            Some(_) => {
                return Err(Rejection::policy(
                    id,
                    ErrorCode::InvalidScope,
                    desc::SCOPE_NOT_ALLOWED,
                ));
            }
            None => match &record.default_scope {
                DefaultScope::Fixed(s) => Scope::from_tokens(
                    s.iter()
                        .filter(|t| record.allowed_scopes.contains(t))
                        .cloned(),
                ),
                DefaultScope::AllAllowed => record.allowed_scopes.clone(),
                // An audience-only token: no scope at all.
                DefaultScope::Empty => Scope::default(),
                _ => {
                    return Err(Rejection::policy(
                        id,
                        ErrorCode::InvalidScope,
                        desc::SCOPE_REQUIRED,
                    ));
                }
            },
        };
        // RFC 8707 §2: each resource on the client's allow-list, else invalid_target; the
        // audience is the requested resources, or a configured default, never the client id.
        let audience = if resources.is_empty() {
            if record.default_audience.is_empty() {
                self.config.default_audience.clone()
            } else {
                record.default_audience.clone()
            }
        } else {
            if !resources
                .iter()
                .all(|r| record.allowed_resources.contains(r))
            {
                return Err(Rejection::policy(
                    id,
                    ErrorCode::InvalidTarget,
                    desc::RESOURCE_NOT_ALLOWED,
                ));
            }
            resources
        };
        let lifetime = record
            .token_lifetime
            .filter(|d| *d > Duration::ZERO)
            .unwrap_or(self.config.default_token_lifetime)
            .min(self.config.max_token_lifetime);
        let prefix = &self.config.subject_prefix;
        let mut subject = String::with_capacity(prefix.len() + id.as_str().len());
        subject.push_str(prefix);
        subject.push_str(id.as_str());
        // The token's claims, built once: issuers borrow them, and only a store that keeps
        // them copies what it keeps.
        let claims = TokenClaims::new(id.clone(), subject, scope, audience, now, now + lifetime);
        Ok(Grant {
            client: record,
            claims,
            scope_requested,
        })
    }
}

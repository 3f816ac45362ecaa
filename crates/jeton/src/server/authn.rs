//! Client authentication (RFC 6749 §2.3), shared by every endpoint that authenticates clients.

use crate::audit::AuthFailure;
use crate::basic::{Authorization, parse_authorization};
use crate::client::{AuthMethod, ClientRecord};
use crate::form::Form;
use crate::request::RawRequest;
use crate::response::{Diagnostic, desc};
use crate::secret::SecretVerifier;
use crate::server::engine::Engine;
use crate::server::rejection::Rejection;
use crate::types::{ClientId, ClientSecret};
use time::OffsetDateTime;

/// A client that proved who it is. Only [`authenticate`] makes one.
#[derive(Debug)]
pub(crate) struct AuthenticatedClient {
    pub(crate) record: ClientRecord,
}

/// The credentials found in a request, not yet checked against a store.
pub(crate) struct Credentials {
    id: ClientId,
    secret: ClientSecret,
    method: AuthMethod,
}

impl Credentials {
    pub(crate) fn method(&self) -> AuthMethod {
        self.method
    }
}

/// Finds the one client authentication method the request uses (RFC 6749 §2.3: "The client
/// MUST NOT use more than one authentication method in each request").
pub(crate) fn extract_credentials(
    req: &RawRequest<'_>,
    form: &Form,
) -> Result<Credentials, Rejection> {
    let header = req.authorization.single();
    let body_secret = form.get("client_secret");
    let assertion =
        form.get("client_assertion").is_some() || form.get("client_assertion_type").is_some();
    let body_id = form.get("client_id");
    let methods =
        usize::from(header.is_some()) + usize::from(body_secret.is_some()) + usize::from(assertion);
    if methods > 1 {
        return Err(Rejection::request(desc::MULTIPLE_AUTH));
    }
    let claimed = || body_id.and_then(|i| ClientId::new(i).ok());

    if let Some(value) = header {
        let basic = match parse_authorization(value) {
            Ok(Authorization::Basic(c)) => c,
            Ok(_) => {
                return Err(Rejection::auth(
                    claimed(),
                    None,
                    AuthFailure::UnsupportedMethod,
                ));
            }
            Err(_) => {
                return Err(Rejection::auth(
                    claimed(),
                    Some(AuthMethod::ClientSecretBasic),
                    AuthFailure::MalformedCredentials,
                ));
            }
        };
        let Ok(id) = ClientId::new(basic.client_id.as_str()) else {
            return Err(Rejection::auth(
                None,
                Some(AuthMethod::ClientSecretBasic),
                AuthFailure::MalformedCredentials,
            ));
        };
        // RFC 6749 §3.2.1 / RFC 7521 §4.2: a body client_id must name the same client.
        if body_id.is_some_and(|b| b != id.as_str()) {
            return Err(Rejection::request(desc::CLIENT_ID_MISMATCH));
        }
        return Ok(Credentials {
            id,
            secret: basic.secret,
            method: AuthMethod::ClientSecretBasic,
        });
    }
    if let Some(secret) = body_secret {
        let Some(id) = body_id else {
            return Err(Rejection::auth(
                None,
                Some(AuthMethod::ClientSecretPost),
                AuthFailure::MissingCredentials,
            ));
        };
        // RFC 6749 Appendix A.1, A.2: client_id and client_secret are VSCHAR.
        let (Ok(id), Ok(secret)) = (ClientId::new(id), ClientSecret::new(secret)) else {
            return Err(Rejection::request(desc::BAD_CREDENTIAL_CHARS));
        };
        return Ok(Credentials {
            id,
            secret,
            method: AuthMethod::ClientSecretPost,
        });
    }
    if assertion {
        return Err(Rejection::auth(
            claimed(),
            None,
            AuthFailure::UnsupportedMethod,
        ));
    }
    // Only a client_id, or nothing: the `none` method, which client credentials never
    // accepts (RFC 6749 §4.4).
    let method = body_id.map(|_| AuthMethod::None);
    Err(Rejection::auth(
        claimed(),
        method,
        AuthFailure::MissingCredentials,
    ))
}

/// Checks credentials against the store.
///
/// RFC 6749 §5.2 / §10.10: unknown client, wrong secret, expired secret, disabled client, public
/// client and method not allowed all fail the same way, and the unknown path verifies against a
/// decoy so that it costs the same as a wrong secret. Returns a diagnostic if a best-effort hash
/// upgrade failed.
pub(crate) async fn authenticate(
    engine: &Engine,
    creds: Credentials,
    now: OffsetDateTime,
) -> Result<(AuthenticatedClient, Option<Diagnostic>), Rejection> {
    let Credentials { id, secret, method } = creds;
    let record = engine
        .clients
        .client(&id)
        .await
        .map_err(|e| Rejection::infra(Some(id.clone()), "client_lookup", e))?;
    let fail = |reason| Rejection::auth(Some(id.clone()), Some(method), reason);

    let Some(record) = record else {
        let _ = engine.config.decoy.verify(&secret);
        return Err(fail(AuthFailure::UnknownClient));
    };
    // Verify against every registered secret (active or not) so the work does not depend on
    // which one matches; a client with none still pays for the decoy.
    let mut active_match: Option<&SecretVerifier> = None;
    let mut expired_match = false;
    for s in &record.secrets {
        if s.verifier.verify(&secret) {
            if s.is_active(now) {
                active_match.get_or_insert(&s.verifier);
            } else {
                expired_match = true;
            }
        }
    }
    if record.secrets.is_empty() {
        let _ = engine.config.decoy.verify(&secret);
    }

    if !record.enabled {
        return Err(fail(AuthFailure::ClientDisabled));
    }
    if !record.is_confidential() {
        return Err(fail(AuthFailure::PublicClient));
    }
    let deployment_allows =
        method != AuthMethod::ClientSecretPost || engine.config.allow_client_secret_post;
    if !record.auth_methods.contains(&method) || !deployment_allows {
        return Err(fail(AuthFailure::MethodNotAllowed));
    }
    let Some(verifier) = active_match else {
        return Err(fail(if expired_match {
            AuthFailure::ExpiredSecret
        } else {
            AuthFailure::WrongSecret
        }));
    };

    let mut diagnostic = None;
    if let (Some(target), Some(rng)) = (engine.config.pbkdf2_target, &engine.config.rng)
        && verifier.needs_upgrade(target)
    {
        match SecretVerifier::pbkdf2_sha256(secret.expose(), target, &**rng) {
            Ok(new) => {
                if let Err(e) = engine.clients.upgrade_verifier(&id, verifier, new).await {
                    diagnostic = Some(Box::new(e) as Diagnostic);
                }
            }
            Err(e) => diagnostic = Some(Box::new(e) as Diagnostic),
        }
    }
    Ok((AuthenticatedClient { record }, diagnostic))
}

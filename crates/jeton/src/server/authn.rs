//! Client authentication (RFC 6749 §2.3), shared by every endpoint that authenticates clients.

use crate::audit::AuthFailure;
use crate::basic::{Authorization, parse_authorization};
use crate::client::{AuthMethod, ClientRecord};
use crate::form::Form;
use crate::request::RawRequest;
use crate::response::{Diagnostic, desc};
use crate::secret::SecretVerifier;
use crate::server::cost::CostModel;
use crate::server::engine::Engine;
use crate::server::limiter::{AuthLimiter, NoLimiter};
use crate::server::rejection::Rejection;
use crate::server::verify::{Inline, VerifyExecutor};
use crate::types::{ClientId, ClientSecret};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use time::OffsetDateTime;

/// A client that proved who it is. Only [`authenticate`] makes one.
#[derive(Debug)]
pub(crate) struct AuthenticatedClient {
    pub(crate) record: Arc<ClientRecord>,
}

/// The credentials found in a request, not yet checked against a store.
#[derive(Clone)]
pub(crate) enum Credentials {
    /// `client_secret_basic` or `client_secret_post`.
    Secret(SecretCredentials),
    /// `private_key_jwt` (server/authn_key.rs).
    Assertion(AssertionCredentials),
}

impl Credentials {
    pub(crate) fn method(&self) -> AuthMethod {
        match self {
            Self::Secret(c) => c.method,
            Self::Assertion(_) => AuthMethod::PrivateKeyJwt,
        }
    }
}

/// A client id and secret.
#[derive(Clone)]
pub(crate) struct SecretCredentials {
    pub(crate) id: ClientId,
    pub(crate) secret: ClientSecret,
    pub(crate) method: AuthMethod,
    /// With `accept_raw_basic`: the Basic credentials read without form-decoding, when that
    /// reading differs (server/raw_basic.rs decides which one is verified).
    pub(crate) raw: Option<(ClientId, ClientSecret)>,
}

/// A client assertion (RFC 7521 §4.2). No `Debug`: an assertion is a credential.
#[derive(Clone)]
pub(crate) struct AssertionCredentials {
    pub(crate) assertion_type: String,
    pub(crate) assertion: String,
    pub(crate) client_id: Option<String>,
}

/// Finds the one client authentication method the request uses (RFC 6749 §2.3: "The client
/// MUST NOT use more than one authentication method in each request").
pub(crate) fn extract_credentials(
    req: &RawRequest<'_>,
    form: &Form,
    accept_raw_basic: bool,
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
        let parsed = match parse_authorization(value) {
            Err(crate::basic::BasicError::BadEncoding | crate::basic::BasicError::BadChar)
                if accept_raw_basic =>
            {
                crate::basic::parse_authorization_raw(value)
            }
            other => other,
        };
        let basic = match parsed {
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
        let Ok(id) = ClientId::new(basic.client_id) else {
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
        let raw = if accept_raw_basic {
            crate::server::raw_basic::raw_reading(value, &id, &basic.secret)
        } else {
            None
        };
        return Ok(Credentials::Secret(SecretCredentials {
            id,
            secret: basic.secret,
            method: AuthMethod::ClientSecretBasic,
            raw,
        }));
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
        return Ok(Credentials::Secret(SecretCredentials {
            id,
            secret,
            method: AuthMethod::ClientSecretPost,
            raw: None,
        }));
    }
    if assertion {
        // RFC 7521 §4.2: both parameters, each once (the form parser refuses repeats).
        let (Some(assertion_type), Some(assertion)) = (
            form.get("client_assertion_type"),
            form.get("client_assertion"),
        ) else {
            return Err(Rejection::auth(
                claimed(),
                Some(AuthMethod::PrivateKeyJwt),
                AuthFailure::MissingCredentials,
            ));
        };
        return Ok(Credentials::Assertion(AssertionCredentials {
            assertion_type: assertion_type.to_owned(),
            assertion: assertion.to_owned(),
            client_id: body_id.map(str::to_owned),
        }));
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

/// What authentication needs from the engine's settings. Owned, so that the verification can
/// run as a job on the engine's [`VerifyExecutor`](crate::VerifyExecutor).
#[derive(Clone)]
pub(crate) struct AuthnPolicy {
    /// The fixed verification work every request makes (equal cost, RFC 6749 §10.10).
    pub(crate) cost: Arc<CostModel>,
    /// Whether `client_secret_post` is allowed deployment-wide.
    pub(crate) allow_client_secret_post: bool,
    /// Verifiers below this PBKDF2 iteration count are reported for upgrade.
    pub(crate) pbkdf2_target: Option<NonZeroU32>,
}

/// A successful authentication: the client, and the verifier that matched if it is weaker than
/// the engine's policy (the engine re-hashes the secret and writes the upgrade).
pub(crate) struct Authenticated {
    pub(crate) client: AuthenticatedClient,
    pub(crate) upgrade: Option<SecretVerifier>,
}

/// Checks credentials against the record the engine looked up (`None`: no such client). A pure
/// function: no store, no clock, no engine. All the slow work (the secret verification,
/// PBKDF2 for some verifiers) happens in this one call, which the engine runs on its
/// verification executor when it includes PBKDF2.
///
/// RFC 6749 §5.2 / §10.10: unknown client, wrong secret, expired secret, disabled client, public
/// client and method not allowed all fail the same way, and every request makes the same
/// verification work whatever the record ([`CostModel`]).
pub(crate) fn authenticate(
    creds: &SecretCredentials,
    record: Option<Arc<ClientRecord>>,
    policy: &AuthnPolicy,
    now: OffsetDateTime,
) -> Result<Authenticated, Rejection> {
    let SecretCredentials {
        id, secret, method, ..
    } = creds;
    let method = *method;
    let fail = |reason| Rejection::auth(Some(id.clone()), Some(method), reason);

    let verified = policy.cost.verify(id, record.as_deref(), secret, now);
    let (active_match, expired_match) = (verified.active.cloned(), verified.expired);
    let Some(record) = record else {
        return Err(fail(AuthFailure::UnknownClient));
    };

    if !record.enabled {
        return Err(fail(AuthFailure::ClientDisabled));
    }
    if !record.is_confidential() {
        return Err(fail(AuthFailure::PublicClient));
    }
    let deployment_allows =
        method != AuthMethod::ClientSecretPost || policy.allow_client_secret_post;
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
    let upgrade = policy
        .pbkdf2_target
        .filter(|target| verifier.needs_upgrade(*target))
        .map(|_| verifier);
    Ok(Authenticated {
        client: AuthenticatedClient { record },
        upgrade,
    })
}

impl Engine {
    /// The executor slow verification runs on: the engine's own if the builder set one, else
    /// the adapter's (on the request), else inline.
    pub(crate) fn executor<'a>(
        &'a self,
        req: &RawRequest<'a>,
    ) -> &'a (dyn VerifyExecutor + 'static) {
        match (&self.config.executor, req.executor) {
            (Some(e), _) => &**e,
            (None, Some(e)) => e,
            (None, None) => &Inline,
        }
    }

    /// Authenticates the client of a request: the limiter (before any work), the store read,
    /// the pure check ([`authenticate`], on the executor when it includes PBKDF2), the
    /// limiter's bookkeeping, then the best-effort verifier upgrade (a store write). Returns a
    /// diagnostic if the upgrade failed; it never fails the request.
    pub(crate) async fn authenticate_client(
        &self,
        creds: Credentials,
        req: &RawRequest<'_>,
    ) -> Result<(AuthenticatedClient, Option<Diagnostic>), Rejection> {
        match creds {
            Credentials::Secret(c) => self.authenticate_secret(c, req).await,
            Credentials::Assertion(a) => self
                .authenticate_assertion(a, req)
                .await
                .map(|client| (client, None)),
        }
    }

    /// The source address limits are kept by (an unknown source, from an embedder that
    /// passes no peer, shares one budget: failing closed, since every adapter passes the peer).
    pub(crate) fn limiter_source(&self, req: &RawRequest<'_>) -> IpAddr {
        self.config
            .transport
            .source(req)
            .unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED))
    }

    /// The limiter (always set once built; `NoLimiter` only to keep the type total).
    pub(crate) fn limiter(&self) -> &dyn AuthLimiter {
        self.config.limiter.as_deref().unwrap_or(&NoLimiter)
    }

    async fn authenticate_secret(
        &self,
        creds: SecretCredentials,
        req: &RawRequest<'_>,
    ) -> Result<(AuthenticatedClient, Option<Diagnostic>), Rejection> {
        let now = req.now;
        let source = self.limiter_source(req);
        let limiter = self.limiter();
        if let Err(retry_after) = limiter.may_attempt(source, &creds.id, now) {
            return Err(Rejection::throttled(
                creds.id.clone(),
                req.peer,
                source,
                retry_after,
            ));
        }
        let (creds, record) = self.resolve_raw_basic(creds).await?;
        let policy = AuthnPolicy {
            cost: Arc::clone(&self.config.cost),
            allow_client_secret_post: self.config.allow_client_secret_post,
            pbkdf2_target: self.config.pbkdf2_target,
        };
        let result = if policy.cost.is_slow(&creds.id, record.as_deref()) {
            let job_creds = creds.clone();
            self.executor(req)
                .execute(move || authenticate(&job_creds, record, &policy, now))
                .await
                .map_err(|o| {
                    Rejection::overloaded(Some(creds.id.clone()), "verify", o.retry_after())
                })?
        } else {
            authenticate(&creds, record, &policy, now)
        };
        let Authenticated { client, upgrade } = match result {
            Ok(a) => a,
            Err(r) => {
                limiter.record_failure(source, &creds.id, now);
                return Err(r);
            }
        };
        limiter.record_success(source, &creds.id, now);
        let mut diagnostic = None;
        if let (Some(old), Some(target), Some(rng)) =
            (upgrade, self.config.pbkdf2_target, &self.config.rng)
        {
            // Re-hashing is PBKDF2 too: it goes through the executor; refused, it waits for
            // the next successful authentication.
            let secret = creds.secret.clone();
            let rng = Arc::clone(rng);
            let hashed = self
                .executor(req)
                .execute(move || SecretVerifier::pbkdf2_sha256(secret.expose(), target, &*rng))
                .await;
            match hashed {
                Ok(Ok(new)) => {
                    if let Err(e) = self.clients.upgrade_verifier(&creds.id, &old, new).await {
                        diagnostic = Some(Box::new(e) as Diagnostic);
                    }
                }
                Ok(Err(e)) => diagnostic = Some(Box::new(e) as Diagnostic),
                Err(e) => diagnostic = Some(Box::new(e) as Diagnostic),
            }
        }
        Ok((client, diagnostic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SystemRandom;
    use crate::server::cost::CostProfile;

    fn creds(secret: &str) -> SecretCredentials {
        SecretCredentials {
            id: ClientId::new("billing").unwrap(),
            secret: ClientSecret::new(secret).unwrap(),
            method: AuthMethod::ClientSecretBasic,
            raw: None,
        }
    }

    fn reason(r: Result<Authenticated, Rejection>) -> Option<AuthFailure> {
        match r.err()?.kind {
            crate::server::rejection::RejectionKind::Auth { reason, .. } => Some(reason),
            _ => None,
        }
    }

    #[test]
    fn rfc6749_2_3_1_authentication_is_a_function_of_credentials_and_record() {
        let rng = SystemRandom::new();
        let verifier = SecretVerifier::hmac_sha256("s3cret-s3cret", &rng).unwrap();
        let record = ClientRecord::builder(ClientId::new("billing").unwrap())
            .secret(verifier)
            .build();
        let policy = AuthnPolicy {
            cost: Arc::new(CostModel::new(vec![CostProfile::hmac()], 2, None).unwrap()),
            allow_client_secret_post: true,
            pbkdf2_target: None,
        };
        let now = OffsetDateTime::UNIX_EPOCH;
        let ok = authenticate(
            &creds("s3cret-s3cret"),
            Some(Arc::new(record.clone())),
            &policy,
            now,
        );
        assert!(ok.is_ok_and(|a| a.client.record.id == record.id && a.upgrade.is_none()));
        let wrong = authenticate(&creds("guess-guess"), Some(Arc::new(record)), &policy, now);
        assert_eq!(reason(wrong), Some(AuthFailure::WrongSecret));
        let unknown = authenticate(&creds("s3cret-s3cret"), None, &policy, now);
        assert_eq!(reason(unknown), Some(AuthFailure::UnknownClient));
    }
}

//! The engine: configuration and the token endpoint.

use crate::audit::{AuditEvent, AuthFailure};
use crate::authn::{self, AuthenticatedClient};
use crate::client::{ClientRecord, DefaultScope, GrantType};
use crate::error::ErrorCode;
use crate::form::{self, Form, FormError, FormLimits};
use crate::issuer::{Grant, TokenIssuer};
use crate::metadata::{Endpoints, Issuer};
use crate::request::{BodyState, RawRequest};
use crate::response::{Diagnostic, Outcome, Response, desc};
use crate::secret::{DecoyKind, RandomSource, SecretVerifier};
use crate::store::ClientStore;
use crate::types::{ClientId, Resource, Scope};
use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// The parameter names that are never read from the URI query. A request carrying one of them
/// in its query is refused rather than merged (RFC 6749 §2.3.1, §3.2). Other query parameters
/// (for example one that is part of the configured endpoint URL) are ignored.
pub(crate) const PROTOCOL_PARAMS: &[&str] = &[
    "grant_type",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "scope",
    "resource",
    "audience",
    "token",
    "token_type_hint",
];

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

pub(crate) struct Config {
    pub(crate) realm: String,
    pub(crate) require_tls: bool,
    pub(crate) max_body_bytes: usize,
    pub(crate) form_limits: FormLimits,
    pub(crate) max_resources: usize,
    pub(crate) default_token_lifetime: Duration,
    pub(crate) max_token_lifetime: Duration,
    pub(crate) subject_prefix: String,
    pub(crate) default_audience: Vec<Resource>,
    pub(crate) decoy: SecretVerifier,
    pub(crate) pbkdf2_target: Option<NonZeroU32>,
    pub(crate) rng: Option<Arc<dyn RandomSource>>,
    pub(crate) allow_client_secret_post: bool,
    pub(crate) issuer: Option<Issuer>,
    pub(crate) endpoints: Option<Endpoints>,
    pub(crate) scopes_supported: Option<Scope>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("realm", &self.realm)
            .field("require_tls", &self.require_tls)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("default_token_lifetime", &self.default_token_lifetime)
            .field("max_token_lifetime", &self.max_token_lifetime)
            .field("subject_prefix", &self.subject_prefix)
            .field("default_audience", &self.default_audience)
            .field("decoy", &self.decoy)
            .field("allow_client_secret_post", &self.allow_client_secret_post)
            .field("issuer", &self.issuer)
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

/// An engine setting was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The realm must be printable ASCII without `"` or `\`.
    #[error("realm must be printable ASCII without '\"' or '\\'")]
    BadRealm,
    /// Lifetimes must be positive and the default within the maximum.
    #[error("token lifetimes must be positive, and the default at most the maximum")]
    BadLifetime,
    /// The body limit must be at least 64 bytes.
    #[error("max_body_bytes must be at least 64")]
    BadBodyLimit,
    /// The subject prefix must be `VSCHAR`.
    #[error("subject prefix must be printable ASCII")]
    BadSubjectPrefix,
    /// The issuer must be an `https` URL (or `http` on a loopback host) with no query, no
    /// fragment and no trailing `/` (RFC 8414 §2).
    #[error(
        "issuer must be an https URL (http only for localhost/127.0.0.1/[::1]) with no query, no fragment and no trailing '/'"
    )]
    BadIssuer,
    /// An endpoint URL must be absolute `http(s)` without fragment (RFC 6749 §3.1, §3.2).
    #[error("endpoint URLs must be absolute http(s) URLs without fragment")]
    BadEndpoint,
}

/// Builds an [`Engine`].
pub struct EngineBuilder {
    clients: Arc<dyn ClientStore>,
    issuer: Arc<dyn TokenIssuer>,
    config: Config,
}

impl fmt::Debug for EngineBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl EngineBuilder {
    /// The realm in `WWW-Authenticate: Basic realm="…"`. Default `jeton`.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.config.realm = realm.into();
        self
    }

    /// Whether requests must arrive over TLS (RFC 6749 §2.3.1, §3.2). Default `true`. Turn it
    /// off only for loopback development, or rely on the adapter's trusted-proxy setting.
    pub fn require_tls(mut self, yes: bool) -> Self {
        self.config.require_tls = yes;
        self
    }

    /// The largest body accepted. Default 8 KiB. Adapters enforce the same limit while reading.
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.config.max_body_bytes = n;
        self
    }

    /// The most form parameters accepted. Default 64.
    pub fn max_form_pairs(mut self, n: usize) -> Self {
        self.config.form_limits.max_pairs = n;
        self
    }

    /// Token lifetime for clients without their own. Default 15 minutes.
    pub fn default_token_lifetime(mut self, d: Duration) -> Self {
        self.config.default_token_lifetime = d;
        self
    }

    /// The longest lifetime any client gets, whatever its record says. Default 24 hours.
    pub fn max_token_lifetime(mut self, d: Duration) -> Self {
        self.config.max_token_lifetime = d;
        self
    }

    /// A prefix for the `sub` of issued tokens, so client subjects never collide with user
    /// subjects at APIs that also accept user tokens (RFC 9700 §4.15). Default none: `sub` is
    /// the client id (RFC 9068 §2.2).
    pub fn subject_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.subject_prefix = prefix.into();
        self
    }

    /// The audience of tokens for clients that request no resource and have no default audience
    /// of their own. Default empty (no `aud`); never the client id.
    pub fn default_audience(mut self, aud: impl IntoIterator<Item = Resource>) -> Self {
        self.config.default_audience = aud.into_iter().collect();
        self
    }

    /// Which verification the unknown-client path imitates (RFC 6749 §10.10). Default one
    /// HMAC-SHA256, matching secrets from [`crate::generate_secret`]. If your clients use
    /// PBKDF2 verifiers, pass their iteration count so an unknown client costs the same.
    pub fn decoy(mut self, kind: DecoyKind) -> Self {
        self.config.decoy = SecretVerifier::decoy(kind);
        self
    }

    /// Upgrade PBKDF2 verifiers below this iteration count after a successful verification,
    /// using `rng` for the new salt. Off by default.
    pub fn upgrade_pbkdf2_to(mut self, iterations: NonZeroU32, rng: Arc<dyn RandomSource>) -> Self {
        self.config.pbkdf2_target = Some(iterations);
        self.config.rng = Some(rng);
        self
    }

    /// Whether `client_secret_post` may be used at all (still opt-in per client). Default
    /// `true`; `false` refuses body credentials for every client and drops the method from
    /// metadata (RFC 6749 §2.3.1: NOT RECOMMENDED).
    pub fn allow_client_secret_post(mut self, yes: bool) -> Self {
        self.config.allow_client_secret_post = yes;
        self
    }

    /// The issuer identifier (RFC 8414 §2), the `iss` of introspection answers and the base of
    /// the metadata document. Endpoints default to [`Endpoints::under`] the issuer.
    pub fn issuer(mut self, issuer: Issuer) -> Self {
        if self.config.endpoints.is_none() {
            self.config.endpoints = Some(Endpoints::under(&issuer));
        }
        self.config.issuer = Some(issuer);
        self
    }

    /// The endpoint URLs advertised in metadata.
    pub fn endpoints(mut self, endpoints: Endpoints) -> Self {
        self.config.endpoints = Some(endpoints);
        self
    }

    /// The `scopes_supported` advertised in metadata (RFC 8414 §2). Not advertised by default.
    pub fn scopes_supported(mut self, scope: Scope) -> Self {
        self.config.scopes_supported = Some(scope);
        self
    }

    /// Checks the settings and builds the engine.
    pub fn build(self) -> Result<Engine, ConfigError> {
        let c = &self.config;
        if c.realm.is_empty()
            || !c
                .realm
                .bytes()
                .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\')
        {
            return Err(ConfigError::BadRealm);
        }
        if c.default_token_lifetime <= Duration::ZERO
            || c.max_token_lifetime < c.default_token_lifetime
        {
            return Err(ConfigError::BadLifetime);
        }
        if c.max_body_bytes < 64 {
            return Err(ConfigError::BadBodyLimit);
        }
        if !c.subject_prefix.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(ConfigError::BadSubjectPrefix);
        }
        if let Some(e) = &c.endpoints {
            e.validate()?;
        }
        Ok(Engine {
            clients: self.clients,
            issuer: self.issuer,
            config: self.config,
        })
    }
}

/// A refusal on its way to becoming a response.
pub(crate) struct Rejection {
    pub(crate) code: ErrorCode,
    pub(crate) description: &'static str,
    pub(crate) kind: RejectionKind,
}

pub(crate) enum RejectionKind {
    Plain,
    MethodNotAllowed,
    Auth {
        client_id: Option<ClientId>,
        method: Option<crate::client::AuthMethod>,
        reason: AuthFailure,
    },
    Policy(ClientId),
    Infrastructure {
        client_id: Option<ClientId>,
        stage: &'static str,
        cause: Diagnostic,
    },
}

impl Rejection {
    pub(crate) fn request(description: &'static str) -> Self {
        Self {
            code: ErrorCode::InvalidRequest,
            description,
            kind: RejectionKind::Plain,
        }
    }

    pub(crate) fn plain(code: ErrorCode, description: &'static str) -> Self {
        Self {
            code,
            description,
            kind: RejectionKind::Plain,
        }
    }

    pub(crate) fn auth(
        client_id: Option<ClientId>,
        method: Option<crate::client::AuthMethod>,
        reason: AuthFailure,
    ) -> Self {
        Self {
            code: ErrorCode::InvalidClient,
            description: desc::CLIENT_AUTH_FAILED,
            kind: RejectionKind::Auth {
                client_id,
                method,
                reason,
            },
        }
    }

    pub(crate) fn policy(client: &ClientId, code: ErrorCode, description: &'static str) -> Self {
        Self {
            code,
            description,
            kind: RejectionKind::Policy(client.clone()),
        }
    }

    pub(crate) fn infra(
        client_id: Option<ClientId>,
        stage: &'static str,
        cause: impl Into<Diagnostic>,
    ) -> Self {
        Self {
            code: ErrorCode::ServerError,
            description: desc::SERVER_ERROR,
            kind: RejectionKind::Infrastructure {
                client_id,
                stage,
                cause: cause.into(),
            },
        }
    }

    /// Renders the response and the audit event.
    pub(crate) fn into_outcome(self, realm: &str) -> Outcome {
        let mut response = Response::error(self.code, self.description);
        if self.code == ErrorCode::InvalidClient {
            // RFC 6749 §5.2: 401 with the scheme the client used; Basic is the only header
            // scheme jeton accepts, and an HTTP 401 always needs a challenge (RFC 9110 §15.5.2).
            response = response.with_header("www-authenticate", format!("Basic realm=\"{realm}\""));
        }
        let (event, diagnostic) = match self.kind {
            RejectionKind::Plain => (
                AuditEvent::RequestRejected {
                    client_id: None,
                    error: self.code,
                    reason: self.description,
                },
                None,
            ),
            RejectionKind::MethodNotAllowed => {
                response = response
                    .with_status(405)
                    .with_header("allow", "POST".to_owned());
                (
                    AuditEvent::RequestRejected {
                        client_id: None,
                        error: self.code,
                        reason: self.description,
                    },
                    None,
                )
            }
            RejectionKind::Auth {
                client_id,
                method,
                reason,
            } => (
                AuditEvent::ClientAuthenticationFailed {
                    client_id,
                    method,
                    reason,
                },
                None,
            ),
            RejectionKind::Policy(client_id) => (
                AuditEvent::RequestRejected {
                    client_id: Some(client_id),
                    error: self.code,
                    reason: self.description,
                },
                None,
            ),
            RejectionKind::Infrastructure {
                client_id,
                stage,
                cause,
            } => (AuditEvent::ServerError { client_id, stage }, Some(cause)),
        };
        Outcome {
            response,
            event,
            diagnostic,
        }
    }
}

/// Checks what every jeton POST endpoint checks before reading parameters: method, transport,
/// content type, body size, URI query and `Authorization` count; then parses the form and
/// refuses repeated parameters (except those in `repeatable`).
pub(crate) fn parse_post_form(
    config: &Config,
    req: &RawRequest<'_>,
    repeatable: &[&str],
) -> Result<Form, Rejection> {
    // RFC 6749 §3.2: "The client MUST use the HTTP "POST" method when making access token
    // requests."
    if req.method != "POST" {
        return Err(Rejection {
            code: ErrorCode::InvalidRequest,
            description: desc::METHOD,
            kind: RejectionKind::MethodNotAllowed,
        });
    }
    // RFC 6749 §3.2: "the authorization server MUST require the use of TLS".
    if config.require_tls && !req.secure {
        return Err(Rejection::request(desc::TLS_REQUIRED));
    }
    match req.content_type.single() {
        Some(ct) if is_form_content_type(ct) => {}
        _ => return Err(Rejection::request(desc::CONTENT_TYPE)),
    }
    match req.body_state {
        BodyState::TooLarge => return Err(Rejection::request(desc::BODY_TOO_LARGE)),
        BodyState::Unreadable => return Err(Rejection::request(desc::BODY_UNREADABLE)),
        BodyState::Complete if req.body.len() > config.max_body_bytes => {
            return Err(Rejection::request(desc::BODY_TOO_LARGE));
        }
        BodyState::Complete => {}
    }
    // RFC 6749 §2.3.1: client credentials "MUST NOT be included in the request URI"; parameters
    // are read from the body only, never merged from the query.
    if let Some(q) = req.query
        && query_has_protocol_params(q)
    {
        return Err(Rejection::request(desc::QUERY_PARAMS));
    }
    if req.authorization.count() > 1 {
        return Err(Rejection::request(desc::MANY_AUTHORIZATION));
    }
    let form = form::parse(req.body, config.form_limits).map_err(|e| match e {
        FormError::TooManyPairs => Rejection::request(desc::TOO_MANY_PARAMS),
        _ => Rejection::request(desc::MALFORMED_BODY),
    })?;
    // RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once."
    if form.first_repeated(repeatable).is_some() {
        return Err(Rejection::request(desc::REPEATED));
    }
    Ok(form)
}

/// `application/x-www-form-urlencoded`, case-insensitive, optionally with parameters; a
/// `charset` parameter, if any, must be UTF-8.
fn is_form_content_type(value: &[u8]) -> bool {
    let Ok(value) = std::str::from_utf8(value) else {
        return false;
    };
    let mut parts = value.split(';');
    let media = parts.next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return false;
    }
    parts.all(|p| {
        let Some((name, v)) = p.split_once('=') else {
            return p.trim().is_empty();
        };
        !name.trim().eq_ignore_ascii_case("charset")
            || v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
    })
}

fn query_has_protocol_params(query: &str) -> bool {
    query.split('&').any(|part| {
        let name = part.split_once('=').map_or(part, |(n, _)| n);
        form::decode_component(name.as_bytes())
            .map(|n| PROTOCOL_PARAMS.contains(&n.as_str()))
            .unwrap_or(false)
    })
}

impl Engine {
    /// Starts building an engine over a client store and a token issuer.
    pub fn builder(clients: Arc<dyn ClientStore>, issuer: Arc<dyn TokenIssuer>) -> EngineBuilder {
        EngineBuilder {
            clients,
            issuer,
            config: Config {
                realm: "jeton".to_owned(),
                require_tls: true,
                max_body_bytes: 8 * 1024,
                form_limits: FormLimits::default(),
                max_resources: 16,
                default_token_lifetime: Duration::minutes(15),
                max_token_lifetime: Duration::hours(24),
                subject_prefix: String::new(),
                default_audience: Vec::new(),
                decoy: SecretVerifier::decoy(DecoyKind::HmacSha256),
                pbkdf2_target: None,
                rng: None,
                allow_client_secret_post: true,
                issuer: None,
                endpoints: None,
                scopes_supported: None,
            },
        }
    }

    /// The largest request body the engine accepts; adapters stop reading past it.
    pub fn max_body_bytes(&self) -> usize {
        self.config.max_body_bytes
    }

    /// The realm used in `WWW-Authenticate` challenges.
    pub fn realm(&self) -> &str {
        &self.config.realm
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
        let form = parse_post_form(&self.config, req, &["resource"])?;

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

        let credentials = authn::extract_credentials(req, &form)?;
        let (client, upgrade_diag) = authn::authenticate(self, credentials, req.now).await?;
        drop(form);

        let grant = self.authorize(client, requested_scope, resources, req.now)?;
        let token = self
            .issuer
            .issue(&grant)
            .await
            .map_err(|e| Rejection::infra(Some(grant.client_id().clone()), "issue_token", e))?;

        #[derive(serde::Serialize)]
        struct Body<'a> {
            access_token: &'a str,
            token_type: &'static str,
            expires_in: i64,
            #[serde(skip_serializing_if = "Option::is_none")]
            scope: Option<String>,
        }
        // RFC 6749 §3.3, §5.1: the granted scope is always returned when not empty, which covers
        // "MUST include if it differs from the requested one".
        let body = Body {
            access_token: token.expose(),
            token_type: token.token_type().as_str(),
            expires_in: token.expires_in().whole_seconds(),
            scope: (!grant.scope.is_empty()).then(|| grant.scope.to_string()),
        };
        let body = serde_json::to_vec(&body)
            .map_err(|e| Rejection::infra(Some(grant.client_id().clone()), "render", e))?;
        let Grant {
            client,
            scope,
            audience,
            expires_at,
            ..
        } = grant;
        Ok(Outcome {
            response: Response::json(200, body),
            event: AuditEvent::TokenIssued {
                client_id: client.id,
                scope,
                audience,
                expires_at,
            },
            diagnostic: upgrade_diag,
        })
    }

    /// Applies the client's policy (RFC 6749 §3.3, §4.4; RFC 8707 §2) and builds the grant.
    fn authorize(
        &self,
        client: AuthenticatedClient,
        requested_scope: Option<Scope>,
        resources: Vec<Resource>,
        now: OffsetDateTime,
    ) -> Result<Grant, Rejection> {
        let record: ClientRecord = client.record;
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
        let scope = match &requested_scope {
            Some(s) if s.is_subset_of(&record.allowed_scopes) => s.clone(),
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
        let subject = format!("{}{}", self.config.subject_prefix, id);
        Ok(Grant {
            client: record,
            subject,
            scope,
            requested_scope,
            audience,
            issued_at: now,
            expires_at: now + lifetime,
        })
    }
}

fn parse_resources(form: &Form, max: usize) -> Result<Vec<Resource>, Rejection> {
    let mut out: Vec<Resource> = Vec::new();
    for value in form.get_all("resource") {
        let r = Resource::new(value)
            .map_err(|_| Rejection::plain(ErrorCode::InvalidTarget, desc::MALFORMED_RESOURCE))?;
        if !out.contains(&r) {
            if out.len() == max {
                return Err(Rejection::request(desc::TOO_MANY_RESOURCES));
            }
            out.push(r);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_rules() {
        for ok in [
            "application/x-www-form-urlencoded",
            "Application/X-WWW-Form-Urlencoded",
            "application/x-www-form-urlencoded; charset=UTF-8",
            "application/x-www-form-urlencoded;charset=\"utf-8\"",
        ] {
            assert!(is_form_content_type(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "application/json",
            "application/x-www-form-urlencoded; charset=latin1",
            "multipart/form-data",
            "",
            "application/x-www-form-urlencodedx",
        ] {
            assert!(!is_form_content_type(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn rfc6749_3_2_configured_query_is_not_request_parameters() {
        assert!(!query_has_protocol_params("tenant=acme"));
        assert!(query_has_protocol_params("tenant=acme&client_secret=x"));
        assert!(query_has_protocol_params("grant%5Ftype=client_credentials"));
        assert!(query_has_protocol_params("scope"));
    }
}

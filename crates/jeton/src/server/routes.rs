//! The route table every adapter mounts, and the dispatch from a route to the engine.

use crate::request::RawRequest;
use crate::response::{Outcome, Response};
use crate::server::engine::Engine;
use crate::server::metadata::Endpoints;
use crate::server::rejection::Rejection;

/// What answers a routed path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RouteKind {
    /// The token endpoint (RFC 6749 §3.2): a form `POST`, [`Engine::handle_token_request`].
    Token,
    /// The introspection endpoint (RFC 7662 §2): a form `POST`,
    /// [`Engine::handle_introspection_request`].
    Introspection,
    /// The revocation endpoint (RFC 7009 §2): a form `POST`,
    /// [`Engine::handle_revocation_request`].
    Revocation,
    /// The authorization-server metadata (RFC 8414 §3): a read-only document,
    /// [`Engine::metadata_document`].
    Metadata,
    /// The token issuer's JSON Web Key Set (RFC 7517): a read-only document,
    /// [`Engine::jwks_document`].
    Jwks,
}

impl RouteKind {
    /// A short name for log lines (the `endpoint` field of audit events): `token`,
    /// `introspection`, `revocation`, `metadata`, `jwks`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Introspection => "introspection",
            Self::Revocation => "revocation",
            Self::Metadata => "metadata",
            Self::Jwks => "jwks",
        }
    }

    /// Whether requests to this route are form `POST`s answered by [`Engine::handle`] (token,
    /// introspection, revocation), each with an audit event. Otherwise the route serves a
    /// read-only document, [`Engine::document`], that adapters answer to `GET` and `HEAD`
    /// only.
    pub fn is_form(self) -> bool {
        matches!(self, Self::Token | Self::Introspection | Self::Revocation)
    }
}

/// One entry of [`Engine::routes`]: a path, compared exactly with the request's path, and what
/// answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Route {
    /// The path (no query, no trailing-slash or case folding): `/token`,
    /// `/.well-known/oauth-authorization-server/tenant/a`, ...
    pub path: String,
    /// What answers it.
    pub kind: RouteKind,
}

impl Route {
    /// A route of `path` to `kind`.
    pub(crate) fn new(path: impl Into<String>, kind: RouteKind) -> Self {
        Self {
            path: path.into(),
            kind,
        }
    }
}

impl Engine {
    /// The paths adapters route to this engine, in matching order: the paths
    /// ([`Endpoints::path_of`]) of the token, introspection, revocation and JWKS URLs of
    /// [`Engine::endpoints`] where configured (`/token` alone for an engine without
    /// endpoints), then the metadata path [`IssuerId::metadata_path`](crate::IssuerId::metadata_path)
    /// (RFC 8414 §3) when an issuer is configured.
    ///
    /// Each path appears once: where two URLs share a path, the first in that order keeps it.
    /// The query of a configured URL is not part of its route; it reaches the engine with the
    /// request, which ignores it (RFC 6749 §3.2).
    pub fn routes(&self) -> Vec<Route> {
        let mut routes: Vec<Route> = Vec::new();
        let mut add = |path: &str, kind| {
            if !routes.iter().any(|r| r.path == path) {
                routes.push(Route::new(path, kind));
            }
        };
        match self.endpoints() {
            Some(e) => {
                add(Endpoints::path_of(&e.token), RouteKind::Token);
                let others = [
                    (&e.introspection, RouteKind::Introspection),
                    (&e.revocation, RouteKind::Revocation),
                    (&e.jwks, RouteKind::Jwks),
                ];
                for (url, kind) in others {
                    if let Some(url) = url {
                        add(Endpoints::path_of(url), kind);
                    }
                }
            }
            None => add("/token", RouteKind::Token),
        }
        if let Some(issuer) = self.issuer() {
            add(&issuer.metadata_path(), RouteKind::Metadata);
        }
        routes
    }

    /// Answers a request to the form endpoint `kind` ([`RouteKind::is_form`]): the token,
    /// introspection or revocation handler, so an adapter has one code path for all three.
    ///
    /// A document route is not a form endpoint: for one (an adapter's bug, never the client's)
    /// the answer is `500 server_error`, with a [`ServerError`](crate::AuditEvent::ServerError)
    /// event at stage `route` and a diagnostic saying so.
    pub async fn handle(&self, kind: RouteKind, req: &RawRequest<'_>) -> Outcome {
        match kind {
            RouteKind::Token => self.handle_token_request(req).await,
            RouteKind::Introspection => self.handle_introspection_request(req).await,
            RouteKind::Revocation => self.handle_revocation_request(req).await,
            RouteKind::Metadata | RouteKind::Jwks => {
                let cause = format!("{} is a document route, not a form endpoint", kind.name());
                Rejection::infra(None, "route", cause).into_outcome(&self.config.realm)
            }
        }
    }

    /// What answers `path` (compared exactly, as [`Engine::routes`] lists it), if anything.
    pub fn route(&self, path: &str) -> Option<RouteKind> {
        self.routes()
            .into_iter()
            .find(|r| r.path == path)
            .map(|r| r.kind)
    }

    /// The whole answer of a document route to a request with `method`: the document for
    /// `GET`; for `HEAD` its headers, with the `Content-Length` of the body, and no body (RFC
    /// 9110 §9.3.2); `405` with `Allow: GET, HEAD` for other methods; `404` when the engine has
    /// no such document (and for a form route, which is not a document).
    pub fn answer_document(&self, kind: RouteKind, method: &str) -> Response {
        match self.document(kind) {
            Some(doc) => doc.for_read_only(method),
            None => Response::not_found(),
        }
    }

    /// The read-only document of route `kind`: [`Engine::metadata_document`] or
    /// [`Engine::jwks_document`]. `None` when the engine has no such document (no issuer, an
    /// issuer without keys), and for a form endpoint.
    pub fn document(&self, kind: RouteKind) -> Option<Response> {
        match kind {
            RouteKind::Metadata => self.metadata_document(),
            RouteKind::Jwks => self.jwks_document(),
            RouteKind::Token | RouteKind::Introspection | RouteKind::Revocation => None,
        }
    }
}

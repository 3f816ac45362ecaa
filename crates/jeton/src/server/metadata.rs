//! Authorization-server metadata (RFC 8414), the endpoint URLs it advertises, and the JWKS
//! document.

use crate::client::{AuthMethod, GrantType};
use crate::error::ConfigError;
use crate::issuer_id::IssuerId;
use crate::response::Response;
use crate::server::engine::Engine;

/// The endpoint URLs advertised in metadata. Each must be an absolute URL without fragment
/// (RFC 6749 §3.1, §3.2); a query component is allowed and kept.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Endpoints {
    /// The token endpoint.
    pub token: String,
    /// The introspection endpoint, if served.
    pub introspection: Option<String>,
    /// The revocation endpoint, if served.
    pub revocation: Option<String>,
    /// The JWKS URL, if JWTs are issued.
    pub jwks: Option<String>,
}

impl Endpoints {
    /// The usual layout under an issuer: `/token`, `/introspect`, `/revoke`, `/jwks.json`.
    pub fn under(issuer: &IssuerId) -> Self {
        Self {
            token: issuer.join("/token"),
            introspection: Some(issuer.join("/introspect")),
            revocation: Some(issuer.join("/revoke")),
            jwks: Some(issuer.join("/jwks.json")),
        }
    }

    /// Explicit URLs.
    pub fn new(
        token: String,
        introspection: Option<String>,
        revocation: Option<String>,
        jwks: Option<String>,
    ) -> Self {
        Self {
            token,
            introspection,
            revocation,
            jwks,
        }
    }

    /// The path component of an endpoint URL (what an adapter routes on): everything after the
    /// authority, without the query; `/` when empty.
    pub fn path_of(url: &str) -> &str {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let path = rest.find('/').map_or("", |i| &rest[i..]);
        let path = path.split(['?', '#']).next().unwrap_or("");
        if path.is_empty() { "/" } else { path }
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let all = std::iter::once(&self.token)
            .chain(&self.introspection)
            .chain(&self.revocation)
            .chain(&self.jwks);
        for url in all {
            let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
            if !scheme_ok || url.contains('#') || !url.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
                return Err(ConfigError::BadEndpoint);
            }
        }
        Ok(())
    }
}

impl Engine {
    /// The issuer identifier, if configured.
    pub fn issuer(&self) -> Option<&IssuerId> {
        self.config.issuer.as_ref()
    }

    /// The endpoint URLs, if configured (by [`crate::EngineBuilder::issuer`] or
    /// [`crate::EngineBuilder::endpoints`]). Adapters route on their paths.
    pub fn endpoints(&self) -> Option<&Endpoints> {
        self.config.endpoints.as_ref()
    }

    /// The RFC 8414 metadata document, served at [`IssuerId::metadata_path`]. `None` when no
    /// issuer is configured.
    ///
    /// It advertises only what the engine does: `client_credentials`; the authentication
    /// methods it accepts (`client_secret_basic`, plus `client_secret_post` unless turned off
    /// deployment-wide); the introspection, revocation and JWKS endpoints only when configured
    /// (and JWKS only when the issuer publishes keys). `response_types_supported` is REQUIRED by
    /// RFC 8414 §2; jeton has no authorization endpoint, so it is the empty array.
    pub fn metadata_document(&self) -> Option<Response> {
        let issuer = self.config.issuer.as_ref()?;
        let endpoints = self.config.endpoints.as_ref()?;
        let mut methods = vec![AuthMethod::ClientSecretBasic.as_str()];
        if self.config.allow_client_secret_post {
            methods.push(AuthMethod::ClientSecretPost.as_str());
        }
        let key_auth = self.config.keyauth.replay.is_some();
        if key_auth {
            methods.push(AuthMethod::PrivateKeyJwt.as_str());
        }
        // RFC 8414 §2: the algorithms a client may register; never `none` (RFC-CHECKLIST 69).
        let algs: Vec<&str> = crate::Algorithm::VERIFY
            .iter()
            .map(|a| a.as_str())
            .collect();
        let mut doc = serde_json::Map::new();
        let mut put = |k: &str, v: serde_json::Value| {
            doc.insert(k.to_owned(), v);
        };
        put("issuer", issuer.as_str().into());
        put("token_endpoint", endpoints.token.as_str().into());
        put(
            "grant_types_supported",
            vec![GrantType::ClientCredentials.as_str()].into(),
        );
        put("response_types_supported", serde_json::Value::Array(vec![]));
        put(
            "token_endpoint_auth_methods_supported",
            methods.clone().into(),
        );
        if key_auth {
            put(
                "token_endpoint_auth_signing_alg_values_supported",
                algs.clone().into(),
            );
        }
        // RFC 9449 §5.1: DPoP is on with a replay store (server/dpop.rs).
        if key_auth {
            put("dpop_signing_alg_values_supported", algs.clone().into());
        }
        if let Some(url) = &endpoints.introspection {
            put("introspection_endpoint", url.as_str().into());
            put(
                "introspection_endpoint_auth_methods_supported",
                methods.clone().into(),
            );
            if key_auth {
                put(
                    "introspection_endpoint_auth_signing_alg_values_supported",
                    algs.clone().into(),
                );
            }
        }
        if let Some(url) = &endpoints.revocation {
            put("revocation_endpoint", url.as_str().into());
            put("revocation_endpoint_auth_methods_supported", methods.into());
            if key_auth {
                put(
                    "revocation_endpoint_auth_signing_alg_values_supported",
                    algs.into(),
                );
            }
        }
        if let (Some(url), true) = (&endpoints.jwks, self.issuer_publishes_keys()) {
            put("jwks_uri", url.as_str().into());
        }
        if let Some(scopes) = &self.config.scopes_supported {
            put(
                "scopes_supported",
                scopes.iter().map(|t| t.as_str()).collect::<Vec<_>>().into(),
            );
        }
        let body = serde_json::to_vec(&serde_json::Value::Object(doc)).ok()?;
        let mut r = Response::json(200, body);
        r.set_header("cache-control", "public, max-age=300");
        r.remove_header("pragma");
        Some(r)
    }

    fn issuer_publishes_keys(&self) -> bool {
        self.issuer.jwks().is_some()
    }

    /// The JSON Web Key Set of the token issuer (RFC 7517), if it signs tokens: the document
    /// served at the `jwks_uri`.
    pub fn jwks_document(&self) -> Option<Response> {
        let jwks = self.issuer.jwks()?;
        let body = serde_json::to_vec(&jwks).ok()?;
        let mut r = Response::json(200, body);
        r.set_header("cache-control", "public, max-age=300");
        r.remove_header("pragma");
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_paths() {
        assert_eq!(Endpoints::path_of("https://a.example/token?x=1"), "/token");
        assert_eq!(Endpoints::path_of("https://a.example"), "/");
        assert_eq!(
            Endpoints::path_of("http://127.0.0.1:8080/t/a/token"),
            "/t/a/token"
        );
    }

    #[test]
    fn rfc6749_3_1_endpoint_urls_have_no_fragment() {
        let i = IssuerId::new("https://as.example.com").unwrap();
        assert!(Endpoints::under(&i).validate().is_ok());
        let mut e = Endpoints::under(&i);
        e.token = "https://as.example.com/token#x".into();
        assert!(e.validate().is_err());
        e.token = "https://as.example.com/token?tenant=a".into();
        assert!(e.validate().is_ok());
    }
}

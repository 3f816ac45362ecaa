//! An API service in its own process that trusts a REMOTE jeton: it reads the jeton's metadata
//! (RFC 8414), verifies JWT access tokens offline with the keys at its `jwks_uri` (refetched
//! when a token names an unknown key, at most once per 30 s), and asks its introspection
//! endpoint (RFC 7662) about opaque tokens, with its own client credentials and a short cache.
//! `GET /api/orders` needs scope `orders:read`.
//!
//! When the jeton cannot answer an introspection (down, or it refuses this API's credentials)
//! the API answers `500` with an empty body and no challenge: RFC 6750 has no code for it, the
//! token is not at fault, and nothing internal leaves the process.

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use jeton_axum::jeton::time::Duration;
use jeton_axum::jeton::{BearerValidator, RequireScope, Scope};
use jeton_axum::{AccessTokenLayer, ValidatedToken};
use jeton_introspect::{RemoteIntrospector, RemoteJwks, fetch_jwks};
use serde_json::{Value, json};
use std::error::Error;
use std::sync::Arc;

/// Where the jeton is and who this API is.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The jeton's issuer identifier (`issuer` in its config), e.g. `http://127.0.0.1:8080`.
    pub issuer: String,
    /// This API's identifier: the `aud` its tokens must carry.
    pub audience: String,
    /// This API's own client at the jeton (`may_introspect = true`).
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// How long an active introspection answer is reused (zero: never; a revocation is then
    /// seen at the next request).
    pub cache_ttl: Duration,
    /// The scope `GET /api/orders` requires (`orders:read`).
    pub scope: String,
}

/// RFC 8414 §3: the metadata URL of `issuer` (the well-known segment before any path).
fn metadata_url(issuer: &str) -> String {
    let (scheme, rest) = issuer.split_once("://").unwrap_or(("https", issuer));
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let path = if path.is_empty() {
        String::new()
    } else {
        format!("/{path}")
    };
    format!("{scheme}://{host}/.well-known/oauth-authorization-server{path}")
}

/// Reads the jeton's metadata and builds the API. `http` should have timeouts and no redirects.
pub async fn app(settings: &Settings, http: reqwest::Client) -> Result<Router, Box<dyn Error>> {
    let meta: Value = http
        .get(metadata_url(&settings.issuer))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    // RFC 8414 §3.3: the document must name the issuer we asked for.
    if meta["issuer"] != settings.issuer.as_str() {
        return Err("the metadata names another issuer".into());
    }
    let introspection = meta["introspection_endpoint"]
        .as_str()
        .ok_or("no introspection_endpoint")?;
    let introspector = RemoteIntrospector::new(
        http.clone(),
        introspection,
        &settings.client_id,
        &settings.client_secret,
    )
    .cache(1024, settings.cache_ttl);
    let (iss, aud) = (settings.issuer.as_str(), settings.audience.as_str());

    // JWTs offline with the published keys, everything else by introspection.
    let (validator, jwks) = match meta["jwks_uri"].as_str() {
        Some(jwks_uri) => {
            let keys = fetch_jwks(&http, jwks_uri).await?;
            let validator = BearerValidator::builder(iss, aud, keys)
                .introspector(Arc::new(introspector))
                .build()?;
            let validator = Arc::new(validator);
            let jwks = RemoteJwks::new(http, jwks_uri, validator.clone());
            (validator, Some(Arc::new(jwks)))
        }
        None => {
            let validator = BearerValidator::introspecting(iss, aud, Arc::new(introspector));
            (Arc::new(validator.build()?), None)
        }
    };

    let read = RequireScope::new(validator, Scope::parse(&settings.scope)?);
    let mut api = Router::new()
        .route("/api/orders", get(orders))
        .route_layer(AccessTokenLayer::new(read));
    if let Some(jwks) = jwks {
        // Runs first: a JWT signed with a key published since the last fetch.
        api = api.route_layer(middleware::from_fn_with_state(jwks, refresh_keys));
    }
    Ok(api)
}

async fn refresh_keys(State(jwks): State<Arc<RemoteJwks>>, req: Request, next: Next) -> Response {
    if let Some(value) = req.headers().get("authorization") {
        jwks.refresh_for(value.as_bytes()).await;
    }
    next.run(req).await
}

async fn orders(ValidatedToken(claims): ValidatedToken) -> Json<Value> {
    Json(json!({ "client": claims.client_id.as_str(), "orders": [] }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn metadata_url_puts_the_well_known_segment_first() {
        let url = super::metadata_url;
        assert_eq!(
            url("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/.well-known/oauth-authorization-server"
        );
        assert_eq!(
            url("https://as.example.com/t1"),
            "https://as.example.com/.well-known/oauth-authorization-server/t1"
        );
    }
}

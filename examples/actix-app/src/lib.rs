//! An actix-web app that issues its own tokens and protects its API with them, in one process:
//! `POST /oauth/token` (client credentials), `GET /api/orders` (scope `orders:read`), and the
//! engine's other endpoints (`/revoke`, `/introspect`, `/jwks.json`, metadata) on their paths.
//!
//! JWT access tokens by default, opaque ones with [`TokenFormat::Opaque`]: the API code is the
//! same, because the validator comes from the engine ([`Engine::validator`]) and checks both.

use actix_web::HttpResponse;
use actix_web::web::{self, ServiceConfig};
use jeton_actix::jeton::{
    self, Algorithm, BatchedRandom, ClientId, ClientRecord, Engine, IssuerId, JwtIssuer, KeySet,
    OpaqueIssuer, RequireScope, Resource, Scope, SigningKey, SystemRandom, TokenFormat,
    TokenIssuer,
};
use jeton_actix::{AccessTokenMiddleware, Transport, ValidatedToken, configure, token_endpoint};
use jeton_memory::{MemoryClientStore, MemoryRevocationList, MemoryTokenStore, TokenLimits};
use serde_json::json;
use std::error::Error;
use std::sync::Arc;

/// The demo client's id.
pub const CLIENT_ID: &str = "shop";
/// The audience of the API's tokens.
pub const API: &str = "https://orders.example.com/";

/// What `main` prints: the client's secret, shown once (the store keeps only a verifier).
#[derive(Debug)]
pub struct Demo {
    /// The engine behind the token endpoint and the API.
    pub engine: Arc<Engine>,
    /// The demo client's secret.
    pub client_secret: String,
}

/// Builds the app for `base` (its own URL, the issuer identifier: `http` only on loopback):
/// what to pass to `App::configure`, and the demo client's secret.
pub fn app(
    base: &str,
    format: TokenFormat,
) -> Result<(impl Fn(&mut ServiceConfig) + Clone + Send + 'static, Demo), Box<dyn Error>> {
    // Token and `jti` randomness in per-thread batches of the OS generator: fine for a server
    // that never forks (a library that may be forked uses SystemRandom).
    let rng: Arc<BatchedRandom> = Arc::new(BatchedRandom::new());
    let (secret, verifier) = jeton::generate_secret(&*rng)?;
    let client = ClientRecord::builder(ClientId::new(CLIENT_ID)?)
        .secret(verifier)
        .scopes(Scope::parse("orders:read orders:write")?)
        .build();
    let issuer_id = IssuerId::new(base)?;
    let issuer: Arc<dyn TokenIssuer> = match format {
        TokenFormat::Opaque => Arc::new(OpaqueIssuer::new(
            Arc::new(MemoryTokenStore::with_limits(
                // scripts/load.sh raises the caps (a run issues more live tokens than a demo needs).
                std::env::var("JETON_MAX_TOKENS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .map_or_else(TokenLimits::default, |n| TokenLimits {
                        max_tokens: n,
                        max_per_client: n,
                    }),
            )),
            rng,
        )),
        _ => Arc::new(
            JwtIssuer::builder(
                issuer_id.clone(),
                KeySet::new(SigningKey::generate(Algorithm::Es256)?),
                rng,
            )
            // So that a revoked JWT is refused at once by the API below.
            .revocation_list(Arc::new(MemoryRevocationList::new()))
            .build()?,
        ),
    };
    let engine = Arc::new(
        Engine::builder(Arc::new(MemoryClientStore::with_clients([client])), issuer)
            // The key of the failed-authentication limiter.
            .random(Arc::new(SystemRandom::new()))
            .issuer(issuer_id)
            // The API's identifier: the `aud` of tokens, and what the validator checks.
            .default_audience([Resource::new(API)?])
            // DEVELOPMENT ONLY: plain HTTP. Behind TLS use Transport::Direct or BehindProxy.
            .transport(Transport::Plaintext)
            .build()?,
    );

    // The API: every route of this scope needs a token granting `orders:read`.
    let validator = Arc::new(engine.validator().build()?);
    let read = RequireScope::new(validator, Scope::parse("orders:read")?);
    let endpoints = configure(engine.clone());
    let token = engine.clone();
    let app = move |cfg: &mut ServiceConfig| {
        cfg.route("/oauth/token", token_endpoint(token.clone()));
        endpoints(cfg);
        cfg.service(
            web::scope("/api")
                .wrap(AccessTokenMiddleware::new(read.clone()))
                .route("/orders", web::get().to(orders)),
        );
    };
    let demo = Demo {
        engine,
        client_secret: secret.expose().to_owned(),
    };
    Ok((app, demo))
}

async fn orders(ValidatedToken(claims): ValidatedToken) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "client": claims.client_id.as_str(), "orders": [] }))
}

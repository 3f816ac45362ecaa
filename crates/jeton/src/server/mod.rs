//! The authorization server: the engine and its endpoints (token, introspection, revocation,
//! metadata), the route table, request intake, client authentication and policy.

pub(crate) mod assertion;
mod authn;
mod authn_key;
mod builder;
mod cost;
mod dpop;
mod engine;
mod intake;
mod introspection;
pub(crate) mod limiter;
mod metadata;
mod policy;
mod raw_basic;
mod rejection;
mod revocation;
mod routes;
mod token_body;
pub(crate) mod verify;

pub use builder::EngineBuilder;
pub use cost::CostProfile;
pub use engine::{Engine, TOKEN_ROUTE_BODY_BYTES};
pub use limiter::{AuthLimiter, BoundedLimiter, Budget, LimiterConfig, NoLimiter, RetryAfter};
pub use metadata::Endpoints;
pub use routes::{Route, RouteKind};
pub use verify::{Inline, Overloaded, VerifyExecutor, VerifyJob};

pub(crate) mod internal {
    use crate::random::RandomSource;
    use crate::store::TokenStore;
    use crate::tokens::{JwtConfigError, JwtIssuerBuilder, TokenFormat, TokenIssuer};
    use std::sync::Arc;

    /// The issuer for a configured token format (the standalone server's configuration).
    pub fn build_issuer(
        format: TokenFormat,
        store: Arc<dyn TokenStore>,
        rng: Arc<dyn RandomSource>,
        jwt: Option<JwtIssuerBuilder>,
    ) -> Result<Arc<dyn TokenIssuer>, JwtConfigError> {
        format.build_issuer(store, rng, jwt)
    }
}

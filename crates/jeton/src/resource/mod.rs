//! The resource server's checks: reading a bearer token (RFC 6750) or a DPoP-bound one
//! (RFC 9449 §7), validating a JWT access token (RFC 9068 §4) offline or any token through an
//! introspector, the scope a route requires, and the errors they answer.

mod authorization;
pub(crate) mod builder;
mod dpop;
mod errors;
mod introspect;
mod require;
mod token_checks;
mod validator;

pub use builder::{BearerValidatorBuilder, DEFAULT_LEEWAY, DEFAULT_REALM, MAX_LEEWAY};
pub use dpop::RequestParts;
pub use errors::{BearerConfigError, BearerError, BearerFailure};
pub use introspect::{Introspector, StoreIntrospector};
pub use require::RequireScope;
pub use validator::BearerValidator;

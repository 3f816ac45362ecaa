//! The resource server's checks: reading a bearer token (RFC 6750), validating a JWT access
//! token (RFC 9068 §4) or, through an introspector, an opaque one, and the errors they answer.

mod bearer;
mod dpop;
mod errors;
mod introspect;

pub use bearer::{BearerAuth, BearerValidator, BearerValidatorBuilder, DEFAULT_LEEWAY, MAX_LEEWAY};
pub use errors::{BearerConfigError, BearerError, BearerFailure};
pub use introspect::{Introspector, StoreIntrospector};

//! What a refused bearer request answers (RFC 6750 §3), and the validator's setting errors.

use crate::error::{ErrorCode, StoreError};
use crate::response::Response;
use crate::tokens::Algorithm;
use crate::tokens::dpop::DpopFailure;
use crate::tokens::jwt_verify::JwtFailure;
use crate::types::Scope;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// Why a request's bearer token was refused. For logs and tests; the wire shows only the
/// RFC 6750 code ([`BearerError::code`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BearerFailure {
    /// No `Authorization` header, or one with another scheme.
    MissingToken,
    /// More than one `Authorization` header.
    MultipleAuthorization,
    /// `Bearer` credentials that are not `1*SP b64token`.
    MalformedAuthorization,
    /// Longer than the validator's limit.
    TooLong,
    /// Not a JWS compact serialization, or a claim of the wrong JSON type.
    Malformed,
    /// The header `typ` is not `at+jwt` (RFC 9068 §4 step 1).
    WrongType,
    /// The header names a key by reference or value (`jku`, `x5u`, `jwk`, `x5c`) or has `crit`.
    ForbiddenHeader,
    /// `alg` is not on the allow-list (`none` and HMAC never are).
    DisallowedAlgorithm,
    /// `iss` is not the expected issuer.
    WrongIssuer,
    /// `aud` does not contain this resource server.
    WrongAudience,
    /// No key in the set matches `kid` and `alg`.
    UnknownKey,
    /// The signature does not verify.
    BadSignature,
    /// `exp` has passed (beyond the leeway).
    Expired,
    /// `nbf` is still ahead (beyond the leeway).
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    IssuedInFuture,
    /// A claim RFC 9068 §2.2 requires (`sub`, `client_id`, `iat`, `jti`, `exp`) is missing.
    MissingClaim,
    /// Introspection found no active token.
    Inactive,
    /// The token is bound to a DPoP key (`cnf.jkt`) and was presented as a bearer token
    /// (RFC 9449 §7.2): whoever holds it without the key must not use it. `invalid_token`.
    DpopBound,
    /// The token came with the `DPoP` scheme but is not DPoP-bound (no `cnf.jkt`): jeton
    /// refuses it rather than treat it as a bearer token (RFC 9449 §7.1 checks the proof's key
    /// against the token's binding, which an unbound token does not have). `invalid_token`.
    NotDpopBound,
    /// The token came with the `DPoP` scheme and its proof was refused (RFC 9449 §4.3, §7.1):
    /// missing, malformed, for another method or URL, stale, `ath` not the token's hash, or
    /// signed with a key other than the token's `cnf.jkt`. `401 invalid_dpop_proof`.
    DpopProof(DpopFailure),
    /// The token came with the `DPoP` scheme and its proof's `jti` was already used
    /// (RFC 9449 §11.1). `401 invalid_dpop_proof`.
    DpopReplayed,
    /// The token is valid but lacks a required scope.
    InsufficientScope,
    /// The introspection back end failed.
    Unavailable,
}

impl BearerFailure {
    /// The RFC 6750 §3.1 error code, if one is sent.
    pub const fn code(self) -> Option<ErrorCode> {
        match self {
            Self::MissingToken | Self::Unavailable => None,
            Self::MultipleAuthorization | Self::MalformedAuthorization => {
                Some(ErrorCode::InvalidRequest)
            }
            Self::InsufficientScope => Some(ErrorCode::InsufficientScope),
            Self::DpopProof(f) => Some(f.error_code()),
            Self::DpopReplayed => Some(ErrorCode::InvalidDpopProof),
            _ => Some(ErrorCode::InvalidToken),
        }
    }

    /// The HTTP status.
    pub const fn status(self) -> u16 {
        match self {
            Self::MissingToken => 401,
            Self::Unavailable => 500,
            // RFC 9449 §7.1: a refused proof at a resource server is 401 (400 is the token
            // endpoint's, §5).
            Self::DpopProof(_) | Self::DpopReplayed => 401,
            _ => match self.code() {
                Some(c) => c.http_status(),
                None => 401,
            },
        }
    }

    /// The `error_description`: static text only, never input.
    pub const fn description(self) -> Option<&'static str> {
        Some(match self {
            Self::MissingToken | Self::Unavailable => return None,
            Self::MultipleAuthorization => "more than one Authorization header",
            Self::MalformedAuthorization => "the Authorization header is malformed",
            Self::Expired => "the access token expired",
            Self::InsufficientScope => "the access token lacks a required scope",
            Self::NotDpopBound => "the access token is not DPoP-bound",
            Self::DpopProof(_) => "the DPoP proof is invalid",
            Self::DpopReplayed => "the DPoP proof was already used",
            _ => "the access token is invalid",
        })
    }
}

/// A refused bearer request: what to answer (status and `WWW-Authenticate`) and why.
pub struct BearerError {
    pub(crate) failure: BearerFailure,
    pub(crate) realm: Arc<str>,
    pub(crate) scope: Option<Scope>,
    pub(crate) diagnostic: Option<StoreError>,
    /// `Some` when the token came with the `DPoP` scheme: the challenge is then `DPoP`, with
    /// these algorithms in `algs` (RFC 9449 §7.1).
    pub(crate) dpop_algs: Option<Arc<[Algorithm]>>,
}

impl fmt::Debug for BearerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerError")
            .field("failure", &self.failure)
            .field("scope", &self.scope)
            .field("diagnostic", &self.diagnostic)
            .field("dpop", &self.dpop_algs.is_some())
            .finish()
    }
}

impl fmt::Display for BearerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code(), self.description()) {
            (Some(c), Some(d)) => write!(f, "{c}: {d}"),
            _ if self.failure == BearerFailure::Unavailable => {
                f.write_str("token introspection failed")
            }
            _ => f.write_str("no bearer token"),
        }
    }
}

impl StdError for BearerError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.diagnostic.as_ref().map(|d| d as _)
    }
}

impl BearerError {
    /// Why.
    pub fn failure(&self) -> BearerFailure {
        self.failure
    }

    /// The RFC 6750 error code; `None` when the request had no bearer token (§3.1) or the
    /// introspection back end failed.
    pub fn code(&self) -> Option<ErrorCode> {
        self.failure.code()
    }

    /// The HTTP status: 400, 401, 403, or 500 for a failed introspection back end.
    pub fn status(&self) -> u16 {
        self.failure.status()
    }

    /// The `error_description`, if any.
    pub fn description(&self) -> Option<&'static str> {
        self.failure.description()
    }

    /// The scope that was needed, for `insufficient_scope`.
    pub fn required_scope(&self) -> Option<&Scope> {
        self.scope.as_ref()
    }

    /// Whether the request presented its token with the `DPoP` scheme (RFC 9449 §7.1), so the
    /// challenge is `DPoP`.
    pub fn is_dpop(&self) -> bool {
        self.dpop_algs.is_some()
    }

    /// The back-end error behind [`BearerFailure::Unavailable`], for the application's logs.
    pub fn diagnostic(&self) -> Option<&StoreError> {
        self.diagnostic.as_ref()
    }

    /// The `WWW-Authenticate` value to send (RFC 6750 §3), or `None` for a 500.
    ///
    /// The scheme follows the request's: a token presented with `DPoP` is answered with a
    /// `DPoP` challenge carrying `algs` (RFC 9449 §7.1:
    /// `DPoP realm="…", error="invalid_dpop_proof", error_description="…", algs="ES256 …"`),
    /// every other refusal with `Bearer`.
    ///
    /// RFC 6750 §3.1: "If the request lacks any authentication information [...], the resource
    /// server SHOULD NOT include an error code or other error information": a missing token
    /// gives `Bearer realm="…"` alone. Values need no escaping: the realm is checked when the
    /// validator is built, descriptions are static and scope tokens are `NQCHAR`.
    pub fn www_authenticate(&self) -> Option<String> {
        if self.failure == BearerFailure::Unavailable {
            return None;
        }
        let scheme = if self.dpop_algs.is_some() {
            "DPoP"
        } else {
            "Bearer"
        };
        let mut v = format!("{scheme} realm=\"{}\"", self.realm);
        if let Some(code) = self.code() {
            v.push_str(&format!(", error=\"{code}\""));
        }
        if let Some(d) = self.description() {
            v.push_str(&format!(", error_description=\"{d}\""));
        }
        if let Some(s) = &self.scope {
            v.push_str(&format!(", scope=\"{s}\""));
        }
        if let Some(algs) = &self.dpop_algs {
            let names: Vec<&str> = algs.iter().map(|a| a.as_str()).collect();
            v.push_str(&format!(", algs=\"{}\"", names.join(" ")));
        }
        Some(v)
    }

    /// The whole RFC 6750 answer, to send as is: [`BearerError::status`], the
    /// [`www_authenticate`](BearerError::www_authenticate) challenge, `Cache-Control: no-store`,
    /// and the [`body`](BearerError::body) (`application/json`) when there is one.
    pub fn response(&self) -> Response {
        let mut r = match self.body() {
            Some(body) => Response::json(self.status(), body.into_bytes()),
            None => Response::empty(self.status()),
        };
        r.remove_header("pragma");
        if let Some(challenge) = self.www_authenticate() {
            r = r.with_header("www-authenticate", challenge);
        }
        r
    }

    /// The JSON body to send with [`BearerError::status`], content type `application/json`:
    /// `{"error":"…","error_description":"…"}` (RFC 6750 §3, with the RFC 6749 §5.2 members).
    /// `None` when there is no error code (no bearer token, §3.1; or a failed introspection
    /// back end): the answer then has no body.
    pub fn body(&self) -> Option<String> {
        #[derive(serde::Serialize)]
        struct Body {
            error: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            error_description: Option<&'static str>,
        }
        let body = Body {
            error: self.code()?.as_str(),
            error_description: self.description(),
        };
        serde_json::to_string(&body).ok()
    }
}

/// A validator setting was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BearerConfigError {
    /// The realm must be 1 or more printable ASCII characters without `"` or `\`.
    #[error("realm must be printable ASCII without '\"' or '\\'")]
    BadRealm,
    /// The leeway must be between zero and [`MAX_LEEWAY`](crate::MAX_LEEWAY), and the DPoP
    /// `iat` window above zero and at most that.
    #[error("leeway must be between 0 and 5 minutes")]
    BadLeeway,
    /// At least one algorithm must be accepted.
    #[error("no algorithm accepted")]
    NoAlgorithms,
    /// The issuer must be non-empty (configure the engine's issuer identifier).
    #[error("the issuer must be non-empty")]
    Empty,
    /// A validator needs the audience it accepts tokens for: give one, or configure the
    /// engine's default audience.
    #[error("no audience: configure the engine's default_audience or give the validator one")]
    NoAudience,
    /// A validator needs keys (JWTs) or an introspector (opaque tokens), or both.
    #[error("no way to check tokens: give keys, an introspector, or both")]
    NoTokenSource,
    /// The token limit must be at least 256 bytes.
    #[error("max_token_bytes must be at least 256")]
    BadTokenLimit,
}

impl From<JwtFailure> for BearerFailure {
    fn from(f: JwtFailure) -> Self {
        match f {
            JwtFailure::Malformed => Self::Malformed,
            JwtFailure::WrongType => Self::WrongType,
            JwtFailure::ForbiddenHeader => Self::ForbiddenHeader,
            JwtFailure::DisallowedAlgorithm => Self::DisallowedAlgorithm,
            JwtFailure::WrongIssuer => Self::WrongIssuer,
            JwtFailure::WrongAudience => Self::WrongAudience,
            JwtFailure::UnknownKey => Self::UnknownKey,
            JwtFailure::BadSignature => Self::BadSignature,
            JwtFailure::Expired => Self::Expired,
            JwtFailure::NotYetValid => Self::NotYetValid,
            JwtFailure::IssuedInFuture => Self::IssuedInFuture,
            JwtFailure::MissingClaim => Self::MissingClaim,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every failure, with one of each DPoP proof refusal's codes.
    const ALL: [BearerFailure; 24] = [
        BearerFailure::MissingToken,
        BearerFailure::MultipleAuthorization,
        BearerFailure::MalformedAuthorization,
        BearerFailure::TooLong,
        BearerFailure::Malformed,
        BearerFailure::WrongType,
        BearerFailure::ForbiddenHeader,
        BearerFailure::DisallowedAlgorithm,
        BearerFailure::WrongIssuer,
        BearerFailure::WrongAudience,
        BearerFailure::UnknownKey,
        BearerFailure::BadSignature,
        BearerFailure::Expired,
        BearerFailure::NotYetValid,
        BearerFailure::IssuedInFuture,
        BearerFailure::MissingClaim,
        BearerFailure::Inactive,
        BearerFailure::DpopBound,
        BearerFailure::NotDpopBound,
        BearerFailure::DpopProof(DpopFailure::BadSignature),
        BearerFailure::DpopProof(DpopFailure::UseNonce),
        BearerFailure::DpopReplayed,
        BearerFailure::InsufficientScope,
        BearerFailure::Unavailable,
    ];

    #[test]
    fn rfc6750_3_1_codes_and_statuses() {
        for f in ALL {
            let expected = match f {
                BearerFailure::MissingToken => (None, 401),
                BearerFailure::Unavailable => (None, 500),
                BearerFailure::MultipleAuthorization | BearerFailure::MalformedAuthorization => {
                    (Some(ErrorCode::InvalidRequest), 400)
                }
                BearerFailure::InsufficientScope => (Some(ErrorCode::InsufficientScope), 403),
                // RFC 9449 §7.1: a refused proof at a resource server is 401.
                BearerFailure::DpopProof(DpopFailure::UseNonce) => {
                    (Some(ErrorCode::UseDpopNonce), 401)
                }
                BearerFailure::DpopProof(_) | BearerFailure::DpopReplayed => {
                    (Some(ErrorCode::InvalidDpopProof), 401)
                }
                _ => (Some(ErrorCode::InvalidToken), 401),
            };
            assert_eq!((f.code(), f.status()), expected, "{f:?}");
        }
    }

    #[test]
    fn rfc6750_3_challenge_attributes_need_no_escaping() {
        // RFC 6750 §3: error_description uses %x20-21 / %x23-5B / %x5D-7E (no `"` or `\`).
        for f in ALL {
            if let Some(d) = f.description() {
                assert!(
                    d.bytes()
                        .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'),
                    "{d}"
                );
            }
        }
    }

    #[test]
    fn rfc6750_3_error_body_is_json_with_code_and_description() {
        for f in ALL {
            let e = BearerError {
                failure: f,
                realm: Arc::from("api"),
                scope: None,
                diagnostic: None,
                dpop_algs: None,
            };
            let Some(code) = f.code() else {
                assert_eq!(e.body(), None, "{f:?}");
                continue;
            };
            let body = e.body().unwrap_or_else(|| panic!("{f:?}"));
            let expected = match f.description() {
                Some(d) => format!(r#"{{"error":"{code}","error_description":"{d}"}}"#),
                None => format!(r#"{{"error":"{code}"}}"#),
            };
            assert_eq!(body, expected, "{f:?}");
        }
    }
}

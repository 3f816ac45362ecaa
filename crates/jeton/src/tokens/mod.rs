//! Token formats and keys: the token-issuer contract, opaque tokens, JWT access tokens (issuing
//! and verifying), JWS, algorithms and key sets, and the facts about one token.

pub(crate) mod algorithm;
pub(crate) mod claims;
pub(crate) mod client_keys;
pub(crate) mod dpop;
pub(crate) mod dpop_nonce;
pub(crate) mod issuer;
pub(crate) mod json;
pub(crate) mod jws;
pub(crate) mod jwt;
pub(crate) mod jwt_verify;
pub(crate) mod key_set;
pub(crate) mod keys;
pub(crate) mod opaque;
pub(crate) mod verified;

pub use algorithm::{Algorithm, UnknownAlgorithm};
pub use claims::{Confirmation, TokenClaims, TokenDigest, TokenRecord};
pub use client_keys::ClientKeys;
pub use dpop::{
    DEFAULT_DPOP_IAT_WINDOW, DPOP_JWT_TYPE, DpopCheck, DpopFailure, DpopProof,
    MAX_DPOP_PROOF_BYTES, access_token_hash, verify_dpop_proof,
};
pub use dpop_nonce::{DpopNonces, HmacDpopNonces};
pub use issuer::{
    AccessToken, Grant, LocalValidation, TokenHandle, TokenInfo, TokenIssuer, TokenType,
};
pub use jws::sign_jwt;
pub use jwt::{
    AT_JWT_TYPE, CustomClaims, JwtConfigError, JwtIssuer, JwtIssuerBuilder, REGISTERED_CLAIMS,
    TokenFormat, UnknownTokenFormat,
};
pub use jwt_verify::{AccessTokenClaims, DEFAULT_MAX_TOKEN_BYTES};
pub use key_set::{Jwks, KeySet, LiveKeys};
pub use keys::{KeyError, SignError, SigningKey, VerifyingKey};
pub use opaque::OpaqueIssuer;

pub(crate) mod internal {
    pub use super::jws::sign_compact;
    pub use super::opaque::opaque_token_digest;
}

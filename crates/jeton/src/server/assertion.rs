//! private_key_jwt client authentication: verifying a client assertion (RFC 7523 §2.2 and §3,
//! RFC 7521 §4.2) with the audience rule of draft-ietf-oauth-rfc7523bis.
//!
//! Two pure steps, around the store lookup the engine does between them:
//!
//! 1. [`peek_client_id`]: which client the assertion claims to come from (`iss` = `sub`, read
//!    unverified, bounded), so the engine knows which record to load;
//! 2. [`verify_client_assertion`]: every rule, against that record's [`ClientKeys`].
//!
//! Every failure is one [`AssertionFailure`]: the engine answers each with the same
//! `401 invalid_client` as a wrong secret, and keeps the reason for the audit event only.
//! The `jti` is single-use: the engine records [`VerifiedAssertion::replay_key`] in a
//! [`ReplayStore`](crate::ReplayStore) until [`VerifiedAssertion::replay_until`]; a replay is
//! `invalid_client` too (RFC-CHECKLIST item 35).

use crate::store::ReplayKey;
use crate::tokens::client_keys::ClientKeys;
use crate::tokens::json::object;
use crate::tokens::jws;
use crate::tokens::jwt_verify::{DEFAULT_MAX_TOKEN_BYTES, numeric_date};
use crate::types::ClientId;
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

/// The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const JWT_BEARER_ASSERTION_TYPE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The default clock-skew leeway for `exp`, `nbf` and `iat`: 30 seconds.
pub const DEFAULT_ASSERTION_LEEWAY: Duration = Duration::seconds(30);

/// The default cap on an assertion's lifetime (`exp - now`, and `exp - iat`): 5 minutes.
pub const DEFAULT_MAX_ASSERTION_LIFETIME: Duration = Duration::minutes(5);

/// The longest `client_assertion` read, in bytes (the access-token limit: an RSA-8192 signature
/// is about 1.4 KB).
pub const MAX_ASSERTION_BYTES: usize = DEFAULT_MAX_TOKEN_BYTES;

/// The longest `jti` accepted, in bytes.
const MAX_JTI_BYTES: usize = 256;

/// The `typ` values RFC-CHECKLIST item 36 allows (draft-ietf-oauth-rfc7523bis; RFC 8725 §3.11).
const ASSERTION_TYPES: [&str; 3] = [
    "client-authentication+jwt",
    "application/client-authentication+jwt",
    "JWT",
];

pub use crate::audit::AssertionFailure;

/// The form parameters of a JWT client authentication (RFC 7521 §4.2).
#[derive(Clone, Copy, Debug)]
pub struct ClientAssertion<'a> {
    /// `client_assertion_type`.
    pub assertion_type: &'a str,
    /// `client_assertion`.
    pub assertion: &'a str,
    /// `client_id`, when the request also sent one (RFC 7521 §4.2: then it must identify the
    /// same client).
    pub client_id: Option<&'a str>,
}

/// The deployment's settings for checking assertions.
#[derive(Clone, Copy, Debug)]
pub struct AssertionPolicy<'a> {
    /// This authorization server's issuer identifier (RFC 8414 §2): the one audience.
    pub issuer: &'a str,
    /// The token endpoint URL, accepted as audience only with `accept_token_endpoint_audience`.
    pub token_endpoint: &'a str,
    /// Accept the token endpoint URL as the single audience too. Off by default: RFC 7523 §3
    /// allowed it, and many client libraries still send it, but draft-ietf-oauth-rfc7523bis
    /// forbids it (an audience other than the issuer identifier is what made the 2025
    /// "audience injection" attacks, CVE-2025-27370/27371, possible).
    pub accept_token_endpoint_audience: bool,
    /// Clock-skew leeway for `exp`, `nbf`, `iat`.
    pub leeway: Duration,
    /// The longest lifetime accepted (`exp - now`, and `exp - iat` when `iat` is present).
    pub max_lifetime: Duration,
}

impl<'a> AssertionPolicy<'a> {
    /// The strict policy: audience = `issuer` only, [`DEFAULT_ASSERTION_LEEWAY`],
    /// [`DEFAULT_MAX_ASSERTION_LIFETIME`].
    pub fn new(issuer: &'a str, token_endpoint: &'a str) -> Self {
        Self {
            issuer,
            token_endpoint,
            accept_token_endpoint_audience: false,
            leeway: DEFAULT_ASSERTION_LEEWAY,
            max_lifetime: DEFAULT_MAX_ASSERTION_LIFETIME,
        }
    }
}

/// A verified assertion: who sent it, and what must be recorded so it is used once.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedAssertion {
    /// The authenticated client.
    pub client_id: ClientId,
    /// Its `jti`.
    pub jti: String,
    /// Its `exp`.
    pub expires_at: OffsetDateTime,
}

impl VerifiedAssertion {
    /// The replay-store key of this `jti` for this client.
    pub fn replay_key(&self) -> ReplayKey {
        ReplayKey::new(
            ReplayKey::CLIENT_ASSERTION,
            self.client_id.as_str(),
            &self.jti,
        )
    }

    /// Until when the `jti` must be remembered: `exp` + leeway (RFC-CHECKLIST item 35), from
    /// when the assertion is refused as expired anyway (`exp` is whole seconds, and an
    /// assertion is refused at exactly `exp` + leeway, so a store may forget it then).
    pub fn replay_until(&self, leeway: Duration) -> OffsetDateTime {
        self.expires_at
            .checked_add(leeway)
            .unwrap_or(self.expires_at)
    }
}

/// A parsed, unverified assertion.
struct Parsed<'a> {
    jws: jws::Compact<'a>,
    claims: Map<String, Value>,
    client: ClientId,
}

/// The checks that need no key: type, size, shape, and `iss` = `sub` (= `client_id`).
fn parse<'a>(a: &ClientAssertion<'a>) -> Result<Parsed<'a>, AssertionFailure> {
    // RFC 7523 §2.2: "The value of the "client_assertion_type" is
    // "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"." Exact comparison.
    if a.assertion_type != JWT_BEARER_ASSERTION_TYPE {
        return Err(AssertionFailure::WrongAssertionType);
    }
    if a.assertion.len() > MAX_ASSERTION_BYTES {
        return Err(AssertionFailure::TooLarge);
    }
    // RFC 7523 §2.2: "The value of the "client_assertion" parameter contains a single JWT."
    // Compact JWS only, canonical base64url, no duplicate members (tokens/jws.rs).
    let jws = jws::parse(a.assertion).map_err(|_| AssertionFailure::Malformed)?;
    let claims = object(&jws.payload).ok_or(AssertionFailure::Malformed)?;
    let string = |name: &str| match claims.get(name) {
        Some(Value::String(s)) => Ok(s.as_str()),
        Some(_) => Err(AssertionFailure::Malformed),
        None => Err(AssertionFailure::MissingClaim),
    };
    // RFC 7523 §3 (1): "The JWT MUST contain an "iss" (issuer) claim that contains a unique
    // identifier for the entity that issued the JWT." (2): "For client authentication, the
    // subject MUST be the "client_id" of the OAuth client." RFC-CHECKLIST item 32: both.
    let (iss, sub) = (string("iss")?, string("sub")?);
    if iss != sub {
        return Err(AssertionFailure::WrongClient);
    }
    // RFC 7521 §4.2: "client_id [...] is unnecessary [...] however, it MAY be included. If
    // present, the value of the "client_id" parameter MUST identify the same client as is
    // identified by the client assertion."
    if a.client_id.is_some_and(|id| id != sub) {
        return Err(AssertionFailure::WrongClient);
    }
    let client = ClientId::new(sub).map_err(|_| AssertionFailure::WrongClient)?;
    Ok(Parsed {
        jws,
        claims,
        client,
    })
}

/// The client an assertion claims to come from, read before its record is loaded.
///
/// Unverified: only says which record to verify against. Bounded and total: the type, the size
/// ([`MAX_ASSERTION_BYTES`]), the JWS shape and `iss` = `sub` (= `client_id` when sent) are
/// checked, nothing else.
pub fn peek_client_id(a: &ClientAssertion<'_>) -> Result<ClientId, AssertionFailure> {
    parse(a).map(|p| p.client)
}

/// The work of one signature verification against a decoy key of the assertion's own `alg`,
/// for an assertion from an unknown client (or one without keys): the answer is a failure
/// either way, but it takes as long as a real check, so timing does not tell which client ids
/// exist (RFC 6749 §10.10 spirit; the equal-cost rule of secrets).
pub(crate) fn decoy_verify(a: &ClientAssertion<'_>, decoys: &[crate::VerifyingKey]) {
    let Ok(p) = parse(a) else { return };
    let alg = p.jws.header.get("alg").and_then(Value::as_str);
    let key = decoys
        .iter()
        .find(|k| Some(k.algorithm().as_str()) == alg)
        .or(decoys.first());
    if let Some(key) = key {
        let _ = key.verify(p.jws.signing_input.as_bytes(), &p.jws.signature);
    }
}

/// Verifies a client assertion from `client` against its registered `keys` at `now`.
///
/// On success the caller must still record [`VerifiedAssertion::replay_key`] (single use).
pub fn verify_client_assertion(
    a: &ClientAssertion<'_>,
    client: &ClientId,
    keys: &ClientKeys,
    policy: &AssertionPolicy<'_>,
    now: OffsetDateTime,
) -> Result<VerifiedAssertion, AssertionFailure> {
    let Parsed {
        jws,
        mut claims,
        client: claimed,
    } = parse(a)?;
    if &claimed != client {
        return Err(AssertionFailure::WrongClient);
    }
    let header = &jws.header;
    // RFC-CHECKLIST item 36 (draft-ietf-oauth-rfc7523bis; RFC 8725 §3.11): `typ`, when
    // present, is `client-authentication+jwt` or `JWT`; an access token (`at+jwt`) or DPoP
    // proof (`dpop+jwt`) is never a client assertion. Media types compare case-insensitively.
    match header.get("typ") {
        None => {}
        Some(Value::String(t)) if ASSERTION_TYPES.iter().any(|a| t.eq_ignore_ascii_case(a)) => {}
        Some(_) => return Err(AssertionFailure::WrongType),
    }
    // RFC 8725 §3.10, RFC-CHECKLIST item 37: keys come only from the client's registration;
    // RFC 7515 §4.1.11: an unknown `crit` extension makes the JWS invalid.
    if jws::has_untrusted_header(header) {
        return Err(AssertionFailure::ForbiddenHeader);
    }
    // RFC-CHECKLIST item 31 (RFC 8725 §3.1): the algorithm is pinned per client; `none` and
    // `HS*` are not names jeton knows, so they never match.
    let alg_ok = header
        .get("alg")
        .and_then(Value::as_str)
        .is_some_and(|alg| alg == keys.algorithm().as_str());
    if !alg_ok {
        return Err(AssertionFailure::DisallowedAlgorithm);
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.as_str()),
        Some(_) => return Err(AssertionFailure::Malformed),
    };
    let key = keys.select(kid).ok_or(AssertionFailure::UnknownKey)?;
    // RFC 7523 §3 (9): "The JWT MUST be digitally signed or have a Message Authentication
    // Code (MAC) applied by the issuer. The authorization server MUST reject JWTs with an
    // invalid signature or MAC."
    if !key.verify(jws.signing_input.as_bytes(), &jws.signature) {
        return Err(AssertionFailure::BadSignature);
    }
    check_audience(claims.get("aud"), policy)?;
    let date = |claims: &mut Map<String, Value>, name: &str| {
        claims
            .remove(name)
            .as_ref()
            .map(numeric_date)
            .transpose()
            .map_err(|_| AssertionFailure::Malformed)
    };
    // RFC 7523 §3 (4): "The JWT MUST contain an "exp" (expiration time) claim that limits the
    // time window during which the JWT can be used. The authorization server MUST reject any
    // JWT with an expiration time that has passed, subject to allowable clock skew".
    let exp = date(&mut claims, "exp")?.ok_or(AssertionFailure::MissingClaim)?;
    let nbf = date(&mut claims, "nbf")?;
    let iat = date(&mut claims, "iat")?;
    let leeway = policy.leeway;
    if exp.checked_add(leeway).is_none_or(|limit| now >= limit) {
        return Err(AssertionFailure::Expired);
    }
    // RFC-CHECKLIST item 34: a cap on the lifetime, so a leaked assertion (or one made long
    // ago) is not a lasting credential, and the replay store holds each `jti` briefly.
    let cap = policy.max_lifetime.saturating_add(leeway);
    if exp - now > cap || iat.is_some_and(|iat| exp - iat > cap) {
        return Err(AssertionFailure::TooLongLived);
    }
    // RFC 7523 §3 (5): "The authorization server MUST reject any JWT with [an "nbf"] that has
    // not yet occurred, subject to allowable clock skew". (6): `iat` is honoured the same way.
    if nbf.is_some_and(|nbf| nbf.checked_sub(leeway).is_some_and(|t| t > now)) {
        return Err(AssertionFailure::NotYetValid);
    }
    if iat.is_some_and(|iat| iat.checked_sub(leeway).is_some_and(|t| t > now)) {
        return Err(AssertionFailure::IssuedInFuture);
    }
    // RFC 7523 §3 (7): "The JWT MAY contain a "jti" claim"; RFC-CHECKLIST item 35 (OIDC Core
    // §9) makes it required, as what makes the assertion single-use.
    let jti = match claims.remove("jti") {
        Some(Value::String(j)) if !j.is_empty() && j.len() <= MAX_JTI_BYTES => j,
        Some(_) => return Err(AssertionFailure::Malformed),
        None => return Err(AssertionFailure::MissingClaim),
    };
    Ok(VerifiedAssertion {
        client_id: claimed,
        jti,
        expires_at: exp,
    })
}

/// RFC 7523 §3 (3) as draft-ietf-oauth-rfc7523bis §4 updates it: "The authorization server
/// MUST reject any JWT that does not contain its issuer identifier as its sole audience value",
/// compared with Simple String Comparison (RFC 3986 §6.2.1). A one-element array holds it as
/// its sole value too (the draft asks clients for a string; servers refuse on the value). The
/// token endpoint URL, which RFC 7523 allowed, only behind the legacy flag.
fn check_audience(
    aud: Option<&Value>,
    policy: &AssertionPolicy<'_>,
) -> Result<(), AssertionFailure> {
    let single = match aud {
        None => return Err(AssertionFailure::MissingClaim),
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Array(items)) => match items.as_slice() {
            [Value::String(s)] => s.as_str(),
            [_] => return Err(AssertionFailure::Malformed),
            _ => return Err(AssertionFailure::WrongAudience),
        },
        Some(_) => return Err(AssertionFailure::Malformed),
    };
    let ok = single == policy.issuer
        || (policy.accept_token_endpoint_audience && single == policy.token_endpoint);
    if ok {
        Ok(())
    } else {
        Err(AssertionFailure::WrongAudience)
    }
}

#[cfg(test)]
#[path = "assertion_tests.rs"]
mod tests;

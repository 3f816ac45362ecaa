//! JWT access-token verification (RFC 9068 §4), shared by the issuer (recognising its own
//! tokens for introspection and revocation) and the resource server's validator.

use crate::tokens::algorithm::Algorithm;
use crate::tokens::claims::{Confirmation, TokenClaims};
use crate::tokens::jws;
use crate::tokens::jwt::AT_JWT_TYPE;
use crate::tokens::key_set::Jwks;
use crate::types::{ClientId, Resource, Scope};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

/// The default limit on a token's length, in bytes: one home for the issuer and the validator.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Why a JWT failed verification; the resource server maps each to a
/// [`BearerFailure`](crate::BearerFailure) of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JwtFailure {
    Malformed,
    WrongType,
    ForbiddenHeader,
    DisallowedAlgorithm,
    WrongIssuer,
    WrongAudience,
    UnknownKey,
    BadSignature,
    Expired,
    NotYetValid,
    IssuedInFuture,
    MissingClaim,
}

/// A validated access token: its [`TokenClaims`] (also reachable through `Deref`, so
/// `claims.client_id` reads as before), plus what only a JWT carries.
///
/// A JWT whose `client_id` is not a valid client identifier, or whose `aud` holds a value that is
/// not a resource indicator (an absolute URI, RFC 8707 §2, as RFC 9068 §3 makes `aud`), is
/// refused as malformed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct AccessTokenClaims {
    /// `iss`: the expected issuer (for an introspected opaque token, the validator's issuer).
    pub issuer: String,
    /// `sub`, `client_id`, `aud`, `scope`, `iat`, `exp` and `jti`.
    pub claims: TokenClaims,
    /// `nbf`, when present.
    pub not_before: Option<OffsetDateTime>,
    /// Every other claim (custom claims), unverified in meaning.
    pub extra: Map<String, Value>,
}

impl AccessTokenClaims {
    /// Claims known from outside a JWT (an introspected opaque token): no `nbf`, no extra claims.
    pub fn new(issuer: impl Into<String>, claims: TokenClaims) -> Self {
        Self {
            issuer: issuer.into(),
            claims,
            not_before: None,
            extra: Map::new(),
        }
    }
}

impl std::ops::Deref for AccessTokenClaims {
    type Target = TokenClaims;

    fn deref(&self) -> &TokenClaims {
        &self.claims
    }
}

/// A NumericDate claim (RFC 7519 §2): seconds since the epoch, possibly fractional.
pub(crate) fn numeric_date(v: &Value) -> Result<OffsetDateTime, JwtFailure> {
    let secs = match v.as_i64() {
        Some(s) => s,
        None => {
            let f = v.as_f64().ok_or(JwtFailure::Malformed)?;
            // Out-of-range and non-finite values fail the range check below.
            if !f.is_finite() || f.abs() > 1e15 {
                return Err(JwtFailure::Malformed);
            }
            f.floor() as i64
        }
    };
    OffsetDateTime::from_unix_timestamp(secs).map_err(|_| JwtFailure::Malformed)
}

/// Takes a required string claim out of `claims` (what is left becomes
/// [`AccessTokenClaims::extra`]).
fn string_claim(claims: &mut Map<String, Value>, name: &str) -> Result<String, JwtFailure> {
    match claims.remove(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(JwtFailure::Malformed),
        None => Err(JwtFailure::MissingClaim),
    }
}

/// Takes an optional NumericDate claim out of `claims`.
fn date_claim(
    claims: &mut Map<String, Value>,
    name: &str,
) -> Result<Option<OffsetDateTime>, JwtFailure> {
    claims.remove(name).as_ref().map(numeric_date).transpose()
}

/// RFC 7519 §4.1.4: "the current date/time MUST be before the expiration date/time", with
/// "some small leeway, usually no more than a few minutes, to account for clock skew".
pub(crate) fn check_expiry(
    exp: OffsetDateTime,
    now: OffsetDateTime,
    leeway: Duration,
) -> Result<(), JwtFailure> {
    match exp.checked_add(leeway) {
        Some(limit) if now >= limit => Err(JwtFailure::Expired),
        _ => Ok(()),
    }
}

/// What [`verify_jwt`] checks a token against.
pub(crate) struct JwtCheck<'a> {
    /// `iss` must equal this.
    pub(crate) issuer: &'a str,
    /// `aud` must contain this; `None` skips the check (the issuer inspecting its own tokens).
    pub(crate) audience: Option<&'a str>,
    /// The `alg` allow-list.
    pub(crate) algorithms: &'a [Algorithm],
    /// The keys.
    pub(crate) keys: &'a Jwks,
    /// Leeway for the time checks.
    pub(crate) leeway: Duration,
    /// The time to check `exp`, `nbf` and `iat` against; `None` skips those checks.
    pub(crate) now: Option<OffsetDateTime>,
}

/// The RFC 9068 §4 checks, in its order; any failure is `invalid_token`.
pub(crate) fn verify_jwt(
    token: &str,
    check: &JwtCheck<'_>,
) -> Result<AccessTokenClaims, JwtFailure> {
    let jws = jws::parse(token).map_err(|_| JwtFailure::Malformed)?;
    let header = &jws.header;

    // RFC 9068 §4 step 1 (and §2.1): "Resource servers MUST verify that the "typ" header
    // value is "at+jwt" or "application/at+jwt" and reject tokens carrying any other
    // value." Media types compare case-insensitively (RFC 7515 §4.1.9).
    let typ_ok = header.get("typ").and_then(Value::as_str).is_some_and(|t| {
        t.eq_ignore_ascii_case(AT_JWT_TYPE) || t.eq_ignore_ascii_case("application/at+jwt")
    });
    if !typ_ok {
        return Err(JwtFailure::WrongType);
    }
    // RFC 8725 §3.10: keys come only from the configured set;
    // `jku`, `x5u`, `jwk` and `x5c` are never fetched or trusted, so a token naming one is
    // refused. RFC 7515 §4.1.11: a `crit` extension jeton does not understand (it
    // understands none) "MUST" make the JWS invalid.
    if jws::has_untrusted_header(header) {
        return Err(JwtFailure::ForbiddenHeader);
    }
    // RFC 9068 §4 step 4 and RFC 8725 §3.1: the algorithm must be on the allow-list;
    // `none` and `HS*` are not algorithms jeton knows.
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(Algorithm::from_name)
        .filter(|a| check.algorithms.contains(a))
        .ok_or(JwtFailure::DisallowedAlgorithm)?;
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.as_str()),
        Some(_) => return Err(JwtFailure::Malformed),
    };

    let mut claims = crate::tokens::json::object(&jws.payload).ok_or(JwtFailure::Malformed)?;
    // RFC 9068 §4 step 2: "The issuer identifier for the authorization server [...] MUST
    // exactly match the value of the "iss" claim."
    let issuer = string_claim(&mut claims, "iss")?;
    if issuer != check.issuer {
        return Err(JwtFailure::WrongIssuer);
    }
    // RFC 9068 §4 step 3: "The resource server MUST validate that the "aud" claim contains
    // a resource indicator value corresponding to an identifier the resource server expects
    // for itself."
    let audience = match claims.remove("aud") {
        Some(Value::String(a)) => vec![a],
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(a) => Ok(a),
                _ => Err(JwtFailure::Malformed),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(JwtFailure::Malformed),
        None => return Err(JwtFailure::MissingClaim),
    };
    if let Some(ours) = check.audience
        && !audience.iter().any(|a| a == ours)
    {
        return Err(JwtFailure::WrongAudience);
    }
    // RFC 9068 §4 step 4: "The resource server MUST validate the signature of all incoming
    // JWT access tokens according to [RFC7515] using the algorithm specified in the JWT
    // "alg" Header Parameter." The key must be in the set, and of that algorithm.
    //
    // Keys are unique by `kid`, so a token naming one is tried against one key at most. A
    // token without `kid` is accepted only when exactly one key of its algorithm could match:
    // trying every key (64 RSA verifications per request) would let anyone multiply the
    // signature work (issue 9), and a set with several keys of one algorithm is exactly when
    // the issuer always sets `kid`.
    let mut candidates = check
        .keys
        .iter()
        .filter(|k| k.algorithm() == alg && kid.is_none_or(|kid| k.kid() == kid));
    let key = match (candidates.next(), candidates.next()) {
        (Some(key), None) => key,
        _ => return Err(JwtFailure::UnknownKey),
    };
    if !key.verify(jws.signing_input.as_bytes(), &jws.signature) {
        return Err(JwtFailure::BadSignature);
    }
    // RFC 9068 §4 step 5: "The current time MUST be before the time represented by the
    // "exp" claim. Implementers MAY provide for some small leeway".
    let expires_at = date_claim(&mut claims, "exp")?.ok_or(JwtFailure::MissingClaim)?;
    let not_before = date_claim(&mut claims, "nbf")?;
    let issued_at = date_claim(&mut claims, "iat")?.ok_or(JwtFailure::MissingClaim)?;
    if let Some(now) = check.now {
        check_expiry(expires_at, now, check.leeway)?;
        // RFC 7519 §4.1.5: not accepted before `nbf`, with the same leeway.
        if let Some(nbf) = not_before
            && nbf.checked_sub(check.leeway).is_some_and(|t| now < t)
        {
            return Err(JwtFailure::NotYetValid);
        }
        // A token issued in the future (beyond the leeway) is refused too.
        if now.checked_add(check.leeway).is_some_and(|t| issued_at > t) {
            return Err(JwtFailure::IssuedInFuture);
        }
    }
    // RFC 9068 §2.2: `iat`, `sub`, `client_id` and `jti` are REQUIRED.
    let subject = string_claim(&mut claims, "sub")?;
    let client_id = string_claim(&mut claims, "client_id")?;
    let jti = string_claim(&mut claims, "jti")?;
    // RFC 9068 §2.2.3: `scope` is a space-delimited string (RFC 8693 §4.2).
    let scope = match claims.remove("scope") {
        None => Scope::default(),
        Some(Value::String(s)) if s.is_empty() => Scope::default(),
        Some(Value::String(s)) => Scope::parse_claim(&s).map_err(|_| JwtFailure::Malformed)?,
        Some(_) => return Err(JwtFailure::Malformed),
    };
    // The shared claim types: a client id is VSCHAR, an audience a resource indicator.
    let client_id = ClientId::new(client_id).map_err(|_| JwtFailure::Malformed)?;
    let audience = audience
        .into_iter()
        .map(Resource::new)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| JwtFailure::Malformed)?;
    let mut token =
        TokenClaims::new(client_id, subject, scope, audience, issued_at, expires_at).with_jti(jti);
    // RFC 9449 §6.1 (RFC 7800 §3.1): a bound token's `cnf` holds the key's `jkt`. Other
    // confirmation methods are not jeton's; they stay in `extra` for the application.
    if let Some(Value::Object(cnf)) = claims.get("cnf")
        && let Some(jkt) = cnf.get("jkt")
    {
        let jkt = jkt.as_str().ok_or(JwtFailure::Malformed)?;
        token = token.with_confirmation(Confirmation::jkt(jkt));
        claims.remove("cnf");
    }
    Ok(AccessTokenClaims {
        issuer,
        claims: token,
        not_before,
        extra: claims,
    })
}

//! DPoP proof verification (RFC 9449 §4.3), one pure function shared by the token endpoint and
//! the resource server.
//!
//! [`verify_dpop_proof`] checks a `DPoP` header against the request (method and URL), the
//! allowed algorithms, the time window, an optional server nonce and, at a resource server, the
//! access token (`ath`) and its binding (`cnf.jkt`). It returns the proof's key thumbprint
//! (`jkt`) and its `jti`; the caller records [`DpopProof::replay_key`] in a
//! [`ReplayStore`](crate::ReplayStore) so each proof is used once (RFC 9449 §11.1).

use crate::error::ErrorCode;
use crate::request::HeaderValues;
use crate::store::ReplayKey;
use crate::tokens::algorithm::Algorithm;
use crate::tokens::dpop_nonce::DpopNonces;
use crate::tokens::json::object;
use crate::tokens::jws;
use crate::tokens::jwt_verify::{DEFAULT_MAX_TOKEN_BYTES, numeric_date};
use crate::tokens::keys::{KeyError, VerifyingKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

/// The `typ` of a DPoP proof (RFC 9449 §4.2).
pub const DPOP_JWT_TYPE: &str = "dpop+jwt";

/// The default window around `now` in which a proof's `iat` is accepted: 60 seconds each way.
pub const DEFAULT_DPOP_IAT_WINDOW: Duration = Duration::seconds(60);

/// The longest `DPoP` header value read, in bytes.
pub const MAX_DPOP_PROOF_BYTES: usize = DEFAULT_MAX_TOKEN_BYTES;

/// The longest `jti`, `htm`, `htu` or `nonce` accepted, in bytes.
const MAX_CLAIM_BYTES: usize = 2048;

/// Why a DPoP proof was refused. Every reason is `invalid_dpop_proof` on the wire except
/// [`DpopFailure::UseNonce`], which is `use_dpop_nonce` ([`DpopFailure::error_code`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DpopFailure {
    /// No `DPoP` header.
    Missing,
    /// More than one `DPoP` header (RFC 9449 §4.3 point 1).
    Multiple,
    /// Longer than [`MAX_DPOP_PROOF_BYTES`].
    TooLarge,
    /// Not one compact JWS with JSON header and claims, or a claim of the wrong type.
    Malformed,
    /// `typ` is not `dpop+jwt`.
    WrongType,
    /// `alg` is not on the allow-list (never `none` or HMAC).
    DisallowedAlgorithm,
    /// `jwk` is missing, malformed, of an unknown type, or does not fit `alg`.
    BadKey,
    /// `jwk` holds private key material.
    PrivateKey,
    /// A header the verifier never trusts (`jku`, `x5u`, `x5c`) or understands (`crit`).
    ForbiddenHeader,
    /// The signature does not verify with `jwk`.
    BadSignature,
    /// `jti`, `htm`, `htu` or `iat` is missing (or `ath` when a token is presented).
    MissingClaim,
    /// `htm` is not the request method.
    WrongMethod,
    /// `htu` is not the request URL (query and fragment ignored).
    WrongUrl,
    /// `iat` is outside the accepted window.
    Stale,
    /// The server requires a nonce and the proof has none, or not a current one.
    UseNonce,
    /// `ath` is not the hash of the presented access token.
    WrongTokenHash,
    /// The proof's key is not the one the access token is bound to (`cnf.jkt`).
    WrongKey,
}

impl DpopFailure {
    /// A stable name for logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Multiple => "multiple",
            Self::TooLarge => "too_large",
            Self::Malformed => "malformed",
            Self::WrongType => "wrong_type",
            Self::DisallowedAlgorithm => "disallowed_algorithm",
            Self::BadKey => "bad_key",
            Self::PrivateKey => "private_key",
            Self::ForbiddenHeader => "forbidden_header",
            Self::BadSignature => "bad_signature",
            Self::MissingClaim => "missing_claim",
            Self::WrongMethod => "wrong_method",
            Self::WrongUrl => "wrong_url",
            Self::Stale => "stale",
            Self::UseNonce => "use_nonce",
            Self::WrongTokenHash => "wrong_token_hash",
            Self::WrongKey => "wrong_key",
        }
    }

    /// The wire error: `use_dpop_nonce` (RFC 9449 §8) for [`DpopFailure::UseNonce`],
    /// `invalid_dpop_proof` (§5, §7.1) for everything else.
    pub const fn error_code(self) -> ErrorCode {
        match self {
            Self::UseNonce => ErrorCode::UseDpopNonce,
            _ => ErrorCode::InvalidDpopProof,
        }
    }
}

/// What a proof is checked against: the request, and the server's settings.
#[derive(Clone, Copy)]
pub struct DpopCheck<'a> {
    /// The request method, compared exactly with `htm`.
    pub method: &'a str,
    /// The URL the request was made to, as the server knows its own endpoint (not as the
    /// client claims it): compared with `htu` without query and fragment.
    pub url: &'a str,
    /// The allowed `alg` values (advertised as `dpop_signing_alg_values_supported`).
    pub algorithms: &'a [Algorithm],
    /// How far `iat` may be from `now`, either way.
    pub iat_window: Duration,
    /// The server's nonces, if it requires one (RFC 9449 §8, §9).
    pub nonces: Option<&'a dyn DpopNonces>,
    /// At a resource server: the access token presented with the proof, and the `jkt` it is
    /// bound to (`cnf.jkt`).
    pub access_token: Option<(&'a str, &'a str)>,
}

impl std::fmt::Debug for DpopCheck<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopCheck")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("algorithms", &self.algorithms)
            .field("iat_window", &self.iat_window)
            .field("nonces", &self.nonces.is_some())
            .field("access_token", &self.access_token.is_some())
            .finish()
    }
}

impl<'a> DpopCheck<'a> {
    /// A check for a proof of `method` `url`: every algorithm of [`Algorithm::VERIFY`],
    /// [`DEFAULT_DPOP_IAT_WINDOW`], no nonce, no access token (the token endpoint).
    pub fn new(method: &'a str, url: &'a str) -> Self {
        Self {
            method,
            url,
            algorithms: &Algorithm::VERIFY,
            iat_window: DEFAULT_DPOP_IAT_WINDOW,
            nonces: None,
            access_token: None,
        }
    }
}

/// A verified DPoP proof.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DpopProof {
    /// The RFC 7638 thumbprint of the proof's key: the `jkt` a token is bound to.
    pub jkt: String,
    /// Its `jti`.
    pub jti: String,
    /// Its `iat`.
    pub issued_at: OffsetDateTime,
}

impl DpopProof {
    /// The replay-store key of this proof's `jti`, for its key (RFC 9449 §11.1).
    pub fn replay_key(&self) -> ReplayKey {
        ReplayKey::new(ReplayKey::DPOP_PROOF, &self.jkt, &self.jti)
    }

    /// Until when the `jti` must be remembered: `iat` + the window + one second, from when the
    /// proof is refused as stale anyway.
    ///
    /// A proof is accepted up to and including `iat` + the window, and a
    /// [`ReplayStore`](crate::ReplayStore) may forget a key as soon as its time is not after
    /// `now`: handing it `iat` + the window would let the proof be replayed at that very
    /// instant. The extra second (not a nanosecond) keeps that true for stores that round to
    /// microseconds or whole seconds; `iat` is whole seconds.
    pub fn replay_until(&self, iat_window: Duration) -> OffsetDateTime {
        self.issued_at
            .checked_add(iat_window)
            .and_then(|t| t.checked_add(Duration::SECOND))
            .unwrap_or(self.issued_at)
    }
}

/// `base64url(SHA-256(ASCII(token)))`, the `ath` of a proof sent with `token` (RFC 9449 §4.2).
pub fn access_token_hash(token: &str) -> String {
    B64URL.encode(ring::digest::digest(
        &ring::digest::SHA256,
        token.as_bytes(),
    ))
}

/// Verifies the `DPoP` header values of a request (RFC 9449 §4.3) at `now`.
pub fn verify_dpop_proof(
    values: &HeaderValues<'_>,
    check: &DpopCheck<'_>,
    now: OffsetDateTime,
) -> Result<DpopProof, DpopFailure> {
    // §4.3 point 1: "There is not more than one DPoP HTTP request header field."
    let raw = match values.count() {
        0 => return Err(DpopFailure::Missing),
        1 => values.single().ok_or(DpopFailure::Multiple)?,
        _ => return Err(DpopFailure::Multiple),
    };
    if raw.len() > MAX_DPOP_PROOF_BYTES {
        return Err(DpopFailure::TooLarge);
    }
    let proof = std::str::from_utf8(raw).map_err(|_| DpopFailure::Malformed)?;
    // §4.3 point 2: "The DPoP HTTP request header field value is a single and well-formed
    // JWT." Compact JWS, canonical base64url, no duplicate members (tokens/jws.rs).
    let jws = jws::parse(proof).map_err(|_| DpopFailure::Malformed)?;
    let header = &jws.header;
    // §4.3 point 4: "The typ JOSE Header Parameter has the value dpop+jwt." Media types
    // compare case-insensitively (RFC 7515 §4.1.9).
    let typ_ok = header
        .get("typ")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case(DPOP_JWT_TYPE));
    if !typ_ok {
        return Err(DpopFailure::WrongType);
    }
    // §4.3 point 5: "The alg JOSE Header Parameter indicates a registered asymmetric digital
    // signature algorithm [...], is not none, is supported by the application, and is
    // acceptable per local policy." jeton names no symmetric algorithm at all.
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(Algorithm::from_name)
        .filter(|a| check.algorithms.contains(a))
        .ok_or(DpopFailure::DisallowedAlgorithm)?;
    // The key is `jwk` (§4.2); any other way of naming one, or an extension, is refused.
    if ["jku", "x5u", "x5c", "crit"]
        .iter()
        .any(|k| header.contains_key(*k))
    {
        return Err(DpopFailure::ForbiddenHeader);
    }
    // §4.3 point 7: "The jwk JOSE Header Parameter does not contain a private key."
    let key = match header.get("jwk") {
        Some(jwk) => VerifyingKey::from_jwk(jwk).map_err(|e| match e {
            KeyError::PrivateJwk => DpopFailure::PrivateKey,
            _ => DpopFailure::BadKey,
        })?,
        None => return Err(DpopFailure::BadKey),
    };
    let key = key.with_algorithm(alg).map_err(|_| DpopFailure::BadKey)?;
    // §4.3 point 6: "The JWT signature verifies with the public key contained in the jwk
    // JOSE Header Parameter."
    if !key.verify(jws.signing_input.as_bytes(), &jws.signature) {
        return Err(DpopFailure::BadSignature);
    }
    let claims = object(&jws.payload).ok_or(DpopFailure::Malformed)?;
    let string = |name: &str| match claims.get(name) {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_CLAIM_BYTES => Ok(s.as_str()),
        Some(_) => Err(DpopFailure::Malformed),
        None => Err(DpopFailure::MissingClaim),
    };
    // §4.3 point 3: "All required claims per Section 4.2 are contained in the JWT": `jti`,
    // `htm`, `htu`, `iat` (and `ath` with an access token).
    let jti = string("jti")?;
    let htm = string("htm")?;
    let htu = string("htu")?;
    let iat = claims
        .get("iat")
        .ok_or(DpopFailure::MissingClaim)
        .and_then(|v| numeric_date(v).map_err(|_| DpopFailure::Malformed))?;
    // §4.3 point 8: "The htm claim matches the HTTP method of the current request."
    if htm != check.method {
        return Err(DpopFailure::WrongMethod);
    }
    // §4.3 point 9: "The htu claim matches the HTTP URI value for the HTTP request in which
    // the JWT was received, ignoring any query and fragment parts."
    match (htu_normal(htu), htu_normal(check.url)) {
        (Some(a), Some(b)) if a == b => {}
        _ => return Err(DpopFailure::WrongUrl),
    }
    // §4.3 point 10: "If the server provided a nonce value to the client, the nonce claim
    // matches the server-provided nonce value." §8: a missing or stale one is answered with
    // `use_dpop_nonce` and a fresh `DPoP-Nonce`.
    if let Some(nonces) = check.nonces {
        let ok = matches!(claims.get("nonce"), Some(Value::String(n)) if nonces.accepts(n, now));
        if !ok {
            return Err(DpopFailure::UseNonce);
        }
    }
    // §4.3 point 11: "The creation time of the JWT, as determined by either the iat claim or
    // a server managed timestamp via the nonce claim, is within an acceptable window".
    let early = now.checked_sub(check.iat_window);
    let late = now.checked_add(check.iat_window);
    if early.is_some_and(|t| iat < t) || late.is_some_and(|t| iat > t) {
        return Err(DpopFailure::Stale);
    }
    let jkt = key.thumbprint();
    if let Some((token, bound)) = check.access_token {
        // §4.3 point 12: "if presented to a protected resource in conjunction with an access
        // token, ensure that the value of the ath claim equals the hash of that access token".
        let ath = string("ath")?;
        if ath != access_token_hash(token) {
            return Err(DpopFailure::WrongTokenHash);
        }
        // Point 12 continued: "confirm that the public key to which the access token is bound
        // matches the public key from the DPoP proof" (§6.1: by `cnf.jkt`).
        if jkt != bound {
            return Err(DpopFailure::WrongKey);
        }
    }
    Ok(DpopProof {
        jkt,
        jti: jti.to_owned(),
        issued_at: iat,
    })
}

/// The comparable form of an `http(s)` URI without query and fragment, or `None` if it is not
/// one: scheme and host lowercased and the default port dropped (RFC 9449 §4.3 point 9 allows
/// RFC 3986 §6.2.2 and §6.2.3 normalisation), an empty path as `/`. Userinfo is refused.
pub(crate) fn htu_normal(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let rest = rest.split(['#', '?']).next().unwrap_or_default();
    let (authority, path) = match rest.find('/').and_then(|i| rest.split_at_checked(i)) {
        Some(parts) => parts,
        None => (rest, "/"),
    };
    if authority.contains('@') {
        return None;
    }
    // A bracketed IPv6 literal may hold ':'; the port follows its ']'.
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port),
        _ => (authority, ""),
    };
    if host.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut out = format!("{scheme}://{}", host.to_ascii_lowercase());
    if !port.is_empty() && port != default_port {
        out.push(':');
        out.push_str(port);
    }
    out.push_str(path);
    Some(out)
}

#[cfg(test)]
#[path = "dpop_tests.rs"]
mod tests;

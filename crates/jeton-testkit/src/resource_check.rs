//! The resource-side request check (RFC 6750, RFC 9449 §7) under test: a validator for one
//! API, a DPoP-bound and a bearer token for it, proofs for them, and
//! [`check_resource_answer`], the one statement of what every answer must look like. The
//! property tests (`crates/jeton/tests/dpop_resource_properties.rs`) and the
//! `resource_request` fuzz target ([`crate::fuzzing::resource_request`]) both judge answers
//! with it, so the rule exists once.
//!
//! Everything is fixed, so a fuzz seed means the same thing in every process: the tokens are
//! signed with the committed ES256 test key ([`jwt_test_key`]), proofs with the committed
//! Ed25519 test key ([`proof_key`]), both at [`now`].

use crate::fuzzing::{JWT_AUDIENCE, JWT_ISSUER, ed25519_test_key, jwt_test_key};
use crate::now;
use jeton::{
    AccessTokenClaims, Algorithm, BearerError, BearerValidator, ErrorCode, Jwks, RequestParts,
    RequireScope, Scope, SigningKey,
};
use jeton_memory::MemoryReplayStore;
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};

/// The host the API is reached at.
pub const API_HOST: &str = "api.example.com";
/// The URL of the protected route the properties and seeds call.
pub const API_URL: &str = "https://api.example.com/orders";
/// The client both tokens were issued to.
pub const API_CLIENT: &str = "svc";
/// The scope both tokens grant.
pub const API_SCOPE: &str = "read";
/// The realm of every challenge (the validator's default).
pub const API_REALM: &str = jeton::DEFAULT_REALM;

/// The error codes a resource server answers with (RFC 6750 §3.1, RFC 9449 §7.1). Not
/// `use_dpop_nonce`: this validator asks for no nonce (§9 is optional).
pub const API_ERRORS: &[(ErrorCode, u16)] = &[
    (ErrorCode::InvalidRequest, 400),
    (ErrorCode::InvalidToken, 401),
    (ErrorCode::InsufficientScope, 403),
    (ErrorCode::InvalidDpopProof, 401),
];

/// The committed Ed25519 test key, which signs every DPoP proof here. It is not in the
/// validator's key set, so a proof can never pass as an access token.
pub fn proof_key() -> &'static SigningKey {
    ed25519_test_key()
}

/// The public JWK of [`proof_key`], as a proof header carries it.
pub fn proof_jwk() -> Value {
    proof_key().verifying_key().to_jwk()
}

/// An access token for the API signed with [`jwt_test_key`]; bound to [`proof_key`]
/// (`cnf.jkt`) when `bound`.
fn token(bound: bool) -> String {
    let t = now().unix_timestamp();
    let mut claims = json!({
        "iss": JWT_ISSUER, "aud": JWT_AUDIENCE, "sub": API_CLIENT, "client_id": API_CLIENT,
        "jti": if bound { "bound" } else { "bearer" }, "scope": API_SCOPE,
        "iat": t, "exp": t + 600,
    });
    if bound {
        claims["cnf"] = json!({ "jkt": proof_key().verifying_key().thumbprint() });
    }
    jeton::sign_jwt(jwt_test_key(), jeton::AT_JWT_TYPE, &claims).expect("signs")
}

/// The DPoP-bound token (RFC 9449 §6.1), made once per process.
pub fn bound_token() -> &'static str {
    static T: OnceLock<String> = OnceLock::new();
    T.get_or_init(|| token(true))
}

/// The bearer (unbound) token, made once per process.
pub fn bearer_token() -> &'static str {
    static T: OnceLock<String> = OnceLock::new();
    T.get_or_init(|| token(false))
}

/// A fresh validator for the API: the issuer's ES256 key, and a replay store of its own, so
/// one run's proofs never make another's look replayed (or fill the store).
pub fn api_validator() -> Arc<BearerValidator> {
    let keys = Jwks::new([jwt_test_key().verifying_key().clone()]).expect("jwks");
    let v = BearerValidator::builder(JWT_ISSUER, JWT_AUDIENCE, keys)
        .replay_store(Arc::new(MemoryReplayStore::with_capacity(8)))
        .build()
        .expect("validator");
    Arc::new(v)
}

/// [`api_validator`] requiring `required` on its routes.
pub fn api_route(required: Scope) -> RequireScope {
    RequireScope::new(api_validator(), required)
}

/// The header of a well-made proof: `typ`, `alg` and the public `jwk` of [`proof_key`].
pub fn proof_header() -> Value {
    json!({ "typ": jeton::DPOP_JWT_TYPE, "alg": proof_key().algorithm().as_str(), "jwk": proof_jwk() })
}

/// The claims of a well-made proof for `method` `url`, sent with `token` (its `ath`), at
/// [`now`].
pub fn proof_claims(method: &str, url: &str, jti: &str, token: &str) -> Value {
    json!({
        "jti": jti, "htm": method, "htu": url, "iat": now().unix_timestamp(),
        "ath": jeton::access_token_hash(token),
    })
}

/// Exactly these header and claims bytes, signed with [`proof_key`] (`None` only if the
/// signer refuses, which Ed25519 never does).
pub fn sign_proof(header: &[u8], claims: &[u8]) -> Option<String> {
    jeton::internal::sign_compact(proof_key(), header, claims).ok()
}

/// A well-made proof of `header` and `claims` (JSON values).
pub fn proof_of(header: &Value, claims: &Value) -> String {
    let bytes = |v: &Value| serde_json::to_vec(v).expect("JSON");
    sign_proof(&bytes(header), &bytes(claims)).expect("signs")
}

/// Whether RFC 9449 §7.1 has the refusal of `request` carry the `DPoP` challenge: exactly one
/// `Authorization` value, UTF-8, whose scheme (its first word, after surrounding spaces and
/// tabs) is `DPoP` in any case. Every other refusal is `Bearer` (RFC 6750 §3).
pub fn presented_as_dpop(request: &RequestParts<'_>) -> bool {
    if request.authorization.count() != 1 {
        return false;
    }
    let Some(value) = request
        .authorization
        .single()
        .and_then(|v| std::str::from_utf8(v).ok())
    else {
        return false;
    };
    let value = value.trim_matches([' ', '\t']);
    let scheme = value.split_once(' ').map_or(value, |(s, _)| s);
    scheme.eq_ignore_ascii_case("DPoP")
}

/// The RFC 6750 §3 `auth-param` value characters jeton may send: printable ASCII without `"`
/// and `\` (so no escaping is ever needed).
fn is_attr_char(b: u8) -> bool {
    (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'
}

/// Parses a challenge `Scheme realm="…", name="value", …` into its scheme and attributes;
/// panics unless it is exactly that shape.
fn parse_challenge(challenge: &str) -> (&str, Vec<(&str, &str)>) {
    let (scheme, mut rest) = challenge.split_once(' ').expect("scheme and attributes");
    let mut attrs = Vec::new();
    loop {
        let (name, after) = rest.split_once("=\"").expect("name=\"value\"");
        let (value, after) = after.split_once('"').expect("closing quote");
        assert!(
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "attribute name {name:?} in {challenge:?}"
        );
        assert!(value.bytes().all(is_attr_char), "{challenge:?}");
        attrs.push((name, value));
        if after.is_empty() {
            return (scheme, attrs);
        }
        rest = after
            .strip_prefix(", ")
            .expect("attributes separated by \", \"");
    }
}

/// The one shape of every answer to `request` on a route requiring `required`:
///
/// - accepted: the token's client is [`API_CLIENT`] and it grants `required`; presented as
///   `DPoP` it is bound to [`proof_key`] (`cnf.jkt`), presented as `Bearer` it is not bound;
/// - refused, no token (no `Authorization`, or another scheme): `401` and exactly
///   `Bearer realm="…"`, no error code and no body (RFC 6750 §3.1);
/// - refused otherwise: one code of [`API_ERRORS`] with its status (`403` only when a scope is
///   required), the challenge `DPoP` exactly when [`presented_as_dpop`] (with `algs` listing
///   the validator's DPoP algorithms, last) and else `Bearer`, `realm` first, `error` equal to
///   the body's, attribute values that need no escaping; `invalid_dpop_proof` only in a `DPoP`
///   challenge; the body exactly `{"error", "error_description"}`; `no-store`. Never `500`
///   (nothing here can fail).
pub fn check_resource_answer(
    request: &RequestParts<'_>,
    required: &Scope,
    answer: &Result<AccessTokenClaims, BearerError>,
) {
    let dpop = presented_as_dpop(request);
    let e = match answer {
        Ok(claims) => {
            assert_eq!(claims.client_id.as_str(), API_CLIENT);
            assert!(required.is_subset_of(&claims.scope));
            let jkt = claims.claims.confirmation.as_ref().map(|c| c.jkt.as_str());
            let expected = proof_key().verifying_key().thumbprint();
            assert_eq!(jkt, dpop.then_some(expected.as_str()), "binding");
            return;
        }
        Err(e) => e,
    };
    let response = e.response();
    assert_eq!(response.status(), e.status());
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let challenge = response.header("www-authenticate").expect("a challenge");
    assert_eq!(Some(challenge), e.www_authenticate().as_deref());
    let (scheme, attrs) = parse_challenge(challenge);
    assert_eq!(attrs[0], ("realm", API_REALM), "{challenge}");
    let attr = |name: &str| attrs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    let Some(code) = e.code() else {
        // RFC 6750 §3.1: no authentication information, no error information.
        assert_eq!(
            (e.status(), scheme, attrs.len()),
            (401, "Bearer", 1),
            "{challenge}"
        );
        assert!(response.body().is_empty());
        return;
    };
    let status = API_ERRORS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, s)| *s)
        .unwrap_or_else(|| panic!("{code} is not a resource-server error"));
    assert_eq!(e.status(), status, "{code}");
    assert!(
        status != 403 || !required.is_empty(),
        "403 with no scope required"
    );
    assert_eq!(attr("error"), Some(code.as_str()), "{challenge}");
    assert_eq!(scheme, if dpop { "DPoP" } else { "Bearer" }, "{challenge}");
    assert_eq!(e.is_dpop(), dpop);
    let algs: Vec<&str> = Algorithm::VERIFY.iter().map(|a| a.as_str()).collect();
    let algs = algs.join(" ");
    assert_eq!(
        attrs.last().filter(|(n, _)| *n == "algs").map(|(_, v)| *v),
        dpop.then_some(algs.as_str()),
        "{challenge}"
    );
    assert!(code != ErrorCode::InvalidDpopProof || dpop, "{challenge}");
    assert_eq!(response.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(response.body()).expect("JSON body");
    let body = body.as_object().expect("JSON object");
    assert_eq!(body["error"], code.as_str());
    assert!(
        body.keys()
            .all(|k| k == "error" || k == "error_description")
    );
    assert_eq!(
        body.get("error_description").and_then(Value::as_str),
        attr("error_description")
    );
}

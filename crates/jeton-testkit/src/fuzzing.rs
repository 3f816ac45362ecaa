//! The fuzz invariants, one copy shared by the cargo-fuzz targets in `fuzz/` and the seed replay
//! test (`crates/jeton/tests/fuzz_corpus.rs`).
//!
//! Each check takes arbitrary bytes, runs them through one part of jeton, and panics if an
//! invariant does not hold. A panic is a finding: the fuzzer reports it as a crash, the replay
//! test as a failure naming the seed file.
//!
//! | target | runs | asserts |
//! |---|---|---|
//! | [`form()`] | `form::parse`, `form::decode_component` | no empty values, pair limit, encode → parse gives the same pairs |
//! | [`basic`] | `basic::parse_authorization`, `encode_basic` | decoded credentials are `VSCHAR`; encode → parse gives id and secret back |
//! | [`scope`] | `Scope`, `Resource`, `ClientId`, `SecretVerifier`, `opaque_token_digest` | accepted values re-parse from their `Display` to equal values |
//! | [`token_request`] | `Engine::handle_token_request` over [`Fixture`](crate::Fixture) | status, `no-store`, body shape, challenge, audit event, stored token |
//! | [`keyauth`] | client-assertion peek and verification, DPoP proof verification (raw, and correctly signed with fuzzed header and claims), `ClientKeys::from_json` | never panics; refusals are `invalid_client` / `invalid_dpop_proof`; an accepted assertion is from `svc` with a `jti`; an accepted proof has the key's thumbprint |
//! | [`resource_request`] | `RequireScope::check_request` (`BearerValidator::validate_request`) on requests with fuzzed `Authorization` and `DPoP` values (raw, or proofs signed over fuzzed header and claims), methods, hosts and paths | never panics; every answer has the one shape of [`check_resource_answer`](crate::resource_check::check_resource_answer); an accepted `DPoP` request is refused when replayed |
//! | [`jwt`] | `BearerValidator::validate_token` (raw strings, and correctly signed tokens with fuzzed header and claims), `Jwks::from_json`, `SigningKey::from_pkcs8_pem`/`_der` | never panics; an accepted token has our `iss`, our `aud`, is unexpired and carries the required scope; an accepted JWKS re-parses from its JSON |

use crate::now;
use jeton::internal::basic::{
    Authorization, BasicError, MAX_AUTHORIZATION_LEN, parse_authorization,
};
use jeton::internal::form::{self, FormLimits};
use jeton::internal::opaque_token_digest;
use jeton::{ClientId, ErrorCode, Resource, Scope, SecretVerifier, TokenDigest, encode_basic};
use std::sync::OnceLock;

mod resource_request;
mod token_request;
pub use resource_request::{ResourceFuzzRequest, resource_request};
pub use token_request::{FuzzRequest, TOKEN_ERRORS, check_token_outcome, token_request};

/// A fuzz target's check: panics if an invariant does not hold.
pub type Check = fn(&[u8]);

/// Every target, by the name of its cargo-fuzz binary and of its seed directory.
pub const TARGETS: &[(&str, Check)] = &[
    ("form", form),
    ("basic", basic),
    ("scope", scope),
    ("token_request", token_request),
    ("jwt", jwt),
    ("keyauth", keyauth),
    ("resource_request", resource_request),
];

/// The committed seed inputs, one directory per target: `fuzz/seeds/<target>/`.
pub fn seeds_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds")
}

/// RFC 6749 Appendix A `VSCHAR`.
fn is_vschar(b: u8) -> bool {
    (0x20..=0x7e).contains(&b)
}

/// RFC 6749 Appendix A `NQCHAR`.
fn is_nqchar(b: u8) -> bool {
    b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b)
}

/// The characters RFC 6749 §5.2 allows in `error` and `error_description`.
fn is_error_char(b: u8) -> bool {
    b == 0x20 || is_nqchar(b)
}

/// What the Appendix B serializer may emit.
fn is_form_encoded_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._*+%".contains(&b)
}

/// `form::parse` is total, and every form it accepts survives a re-encode: encoding each decoded
/// pair with `encode_component` and parsing the result gives the same pairs in the same order.
pub fn form(data: &[u8]) {
    let limits = FormLimits::default();
    if let Ok(whole) = form::decode_component(data) {
        let encoded = form::encode_component(&whole);
        assert!(encoded.bytes().all(is_form_encoded_char), "{encoded:?}");
        assert_eq!(
            form::decode_component(encoded.as_bytes()).as_deref(),
            Ok(whole.as_str())
        );
    }
    let Ok(parsed) = form::parse(data, limits) else {
        return;
    };
    let pairs: Vec<(&str, &str)> = parsed.pairs().collect();
    assert!(pairs.len() <= limits.max_pairs);
    // RFC 6749 §3.2: empty values are treated as omitted.
    assert!(pairs.iter().all(|(_, v)| !v.is_empty()));
    let body = pairs
        .iter()
        .map(|(n, v)| {
            format!(
                "{}={}",
                form::encode_component(n),
                form::encode_component(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    let again = form::parse(body.as_bytes(), limits).expect("a re-encoded form parses");
    assert_eq!(again.pairs().collect::<Vec<_>>(), pairs);
    assert_eq!(again.first_repeated(&[]), parsed.first_repeated(&[]));
}

/// `basic::parse_authorization` is total and only hands out `VSCHAR` credentials that re-encode
/// to a header meaning the same; and for a `VSCHAR` id and secret derived from the input,
/// `encode_basic` then parse gives them back (or the documented refusal when they are too long).
pub fn basic(data: &[u8]) {
    match parse_authorization(data) {
        Ok(Authorization::Basic(c)) => {
            let secret = c.secret.expose();
            assert!(!c.client_id.is_empty() && c.client_id.bytes().all(is_vschar));
            assert!(!secret.is_empty() && secret.len() <= 1024 && secret.bytes().all(is_vschar));
            basic_round_trip(&c.client_id, secret);
        }
        Ok(_) => {
            let scheme = data.trim_ascii().split(|b| b.is_ascii_whitespace()).next();
            assert!(!scheme.is_some_and(|s| s.eq_ignore_ascii_case(b"basic")));
        }
        Err(_) => {}
    }
    // A second input read from the same bytes: id before the first newline, secret after it
    // (or the two halves), bytes outside VSCHAR folded into it.
    let (id, secret) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => data.split_at(data.len() / 2),
    };
    let vschar = |bytes: &[u8]| -> String {
        bytes
            .iter()
            .map(|&b| char::from(if is_vschar(b) { b } else { 0x20 + b % 95 }))
            .collect()
    };
    let (id, secret) = (vschar(id), vschar(secret));
    if !id.is_empty() && !secret.is_empty() {
        basic_round_trip(&id, &secret);
    }
}

fn basic_round_trip(id: &str, secret: &str) {
    let header = encode_basic(id, secret);
    let parsed = parse_authorization(header.as_bytes());
    if header.len() > MAX_AUTHORIZATION_LEN {
        assert_eq!(
            parsed.err(),
            Some(BasicError::Malformed),
            "over-long header"
        );
    } else if secret.len() > 1024 {
        assert_eq!(parsed.err(), Some(BasicError::BadChar), "over-long secret");
    } else {
        match parsed {
            Ok(Authorization::Basic(c)) => {
                assert_eq!(c.client_id, id);
                assert!(c.secret.expose() == secret, "secret did not round-trip");
            }
            other => panic!("encode_basic output did not parse: {other:?}"),
        }
    }
}

/// The protocol-word parsers are total, and whatever they accept comes back equal when its
/// `Display` (or serde form) is parsed again.
pub fn scope(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let s = s.as_ref();
    if let Ok(scope) = Scope::parse(s) {
        assert!(!scope.is_empty() && scope.len() <= Scope::MAX_TOKENS);
        assert!(scope.iter().all(|t| t.as_str().bytes().all(is_nqchar)));
        // RFC 6749 §3.3: split on single spaces; duplicates collapse, nothing else is lost.
        assert!(
            s.split(' ')
                .all(|part| scope.iter().any(|t| t.as_str() == part))
        );
        let wire = scope.to_string();
        assert_eq!(Scope::parse(&wire).as_ref(), Ok(&scope));
        let json = serde_json::to_string(&scope).expect("scope serializes");
        assert_eq!(
            serde_json::from_str::<Scope>(&json).expect("scope deserializes"),
            scope
        );
    }
    if let Ok(resource) = Resource::new(s) {
        assert_eq!(resource.as_str(), s);
        assert!(s.contains(':') && !s.contains('#') && !s.contains(' '));
        assert_eq!(Resource::new(resource.to_string()).as_ref(), Ok(&resource));
    }
    if let Ok(id) = ClientId::new(s) {
        assert_eq!(ClientId::new(id.to_string()).as_ref(), Ok(&id));
    }
    if let Ok(verifier) = s.parse::<SecretVerifier>() {
        // The string form is canonical (`i=0600000` prints as `i=600000`), so compare values.
        let again = verifier.to_string().parse::<SecretVerifier>();
        assert_eq!(again.as_ref(), Ok(&verifier));
    }
    if let Some(digest) = opaque_token_digest(s) {
        assert_eq!(digest, TokenDigest::of(s));
        assert!(s.len() == 52 && s.starts_with(jeton::TOKEN_PREFIX));
    }
}

/// `name: value` with `name` case-insensitive; one space after the colon is dropped.
fn header_value<'a>(line: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let head = line.get(..name.len())?;
    if !head.eq_ignore_ascii_case(name) {
        return None;
    }
    let value = &line[name.len()..];
    Some(value.strip_prefix(b" ").unwrap_or(value))
}

/// The issuer the [`jwt`] validator expects.
pub const JWT_ISSUER: &str = "https://as.example.com";
/// The audience the [`jwt`] validator expects.
pub const JWT_AUDIENCE: &str = "https://api.example.com/";

/// The committed ES256 test key (`crates/jeton/tests/data/`), so seeds signed with it stay
/// valid from run to run.
pub fn jwt_test_key() -> &'static jeton::SigningKey {
    static KEY: OnceLock<jeton::SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let pem = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../jeton/tests/data/es256-test-key.pem"
        ));
        jeton::SigningKey::from_pkcs8_pem(pem).expect("test key")
    })
}

/// The committed Ed25519 test key (`crates/jeton/tests/data/`).
pub fn ed25519_test_key() -> &'static jeton::SigningKey {
    static KEY: OnceLock<jeton::SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let pem = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../jeton/tests/data/ed25519-test-key.pem"
        ));
        jeton::SigningKey::from_pkcs8_pem(pem).expect("test key")
    })
}

fn jwt_validator() -> &'static jeton::BearerValidator {
    static V: OnceLock<jeton::BearerValidator> = OnceLock::new();
    V.get_or_init(|| {
        let jwks = jeton::Jwks::new([
            jwt_test_key().verifying_key().clone(),
            ed25519_test_key().verifying_key().clone(),
        ])
        .expect("jwks");
        jeton::BearerValidator::builder(JWT_ISSUER, JWT_AUDIENCE, jwks)
            .build()
            .expect("validator")
    })
}

/// JWT parsing and validation. The first byte picks the mode:
///
/// - `0`: the rest is a token string, validated as is;
/// - `1`: the rest is `header_len` (one byte), a JWS header and a payload, signed with
///   [`jwt_test_key`] and then validated, so the fuzzer explores claim checks behind a good
///   signature;
/// - `2`: the rest is a JWKS document;
/// - otherwise: the rest is a PKCS#8 key, as PEM and as DER.
///
/// Nothing may panic. A token that validates must have our issuer and audience, must not be
/// expired at [`now`] (beyond the leeway), and must carry the required scope `read`.
pub fn jwt(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let required = Scope::parse("read").expect("scope");
    let token = match mode {
        0 => match std::str::from_utf8(rest) {
            Ok(t) => t.to_owned(),
            Err(_) => return,
        },
        1 => {
            let Some((&hl, rest)) = rest.split_first() else {
                return;
            };
            let (header, payload) = rest.split_at(usize::from(hl).min(rest.len()));
            match jeton::internal::sign_compact(jwt_test_key(), header, payload) {
                Ok(t) => t,
                Err(_) => return,
            }
        }
        2 => {
            if let Ok(jwks) = jeton::Jwks::from_json(rest) {
                let again = jeton::Jwks::from_json(&jwks.to_json()).expect("re-parse");
                assert_eq!(again.len(), jwks.len());
            }
            return;
        }
        _ => {
            if let Ok(pem) = std::str::from_utf8(rest) {
                let _ = jeton::SigningKey::from_pkcs8_pem(pem);
            }
            let _ = jeton::SigningKey::from_pkcs8_der(rest);
            return;
        }
    };
    let v = jwt_validator();
    match v.validate_jwt(&token, now(), &required) {
        Ok(claims) => {
            assert_eq!(claims.issuer, JWT_ISSUER);
            assert!(claims.audience.iter().any(|a| a == JWT_AUDIENCE));
            assert!(claims.expires_at + jeton::MAX_LEEWAY > now());
            assert!(required.is_subset_of(&claims.scope));
        }
        Err(e) => {
            assert!([400, 401, 403].contains(&e.status()), "{}", e.status());
            assert!(e.www_authenticate().is_some());
        }
    }
}

/// The token endpoint URL the [`keyauth`] checks use.
pub const KEYAUTH_TOKEN_URL: &str = "https://as.example.com/token";

/// Client assertions (RFC 7523) and DPoP proofs (RFC 9449). The first byte picks the mode:
///
/// - `0`: the rest is a client assertion, peeked and verified as is for client `svc`;
/// - `1`: the rest is `header_len` (one byte), a JWS header and a payload, signed with
///   [`jwt_test_key`] and verified as an assertion (claim checks behind a good signature);
/// - `2`: the rest is a `DPoP` header value, verified as is;
/// - `3`: like `1`, verified as a DPoP proof (the header needs the key's `jwk` to pass);
/// - otherwise: the rest is a client JWK Set, parsed for ES256.
///
/// Nothing may panic. A refused assertion is `invalid_client`; a refused proof
/// `invalid_dpop_proof` or `use_dpop_nonce`. An accepted assertion comes from `svc`, with a
/// `jti`, unexpired at [`now`]; an accepted proof carries the test key's thumbprint.
pub fn keyauth(data: &[u8]) {
    use jeton::internal::assertion::{
        AssertionPolicy, ClientAssertion, JWT_BEARER_ASSERTION_TYPE, peek_client_id,
        verify_client_assertion,
    };
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let signed = |rest: &[u8]| {
        let (&hl, rest) = rest.split_first()?;
        let (header, payload) = rest.split_at(usize::from(hl).min(rest.len()));
        jeton::internal::sign_compact(jwt_test_key(), header, payload).ok()
    };
    let token = match mode {
        0 | 2 => match std::str::from_utf8(rest) {
            Ok(t) => t.to_owned(),
            Err(_) => return,
        },
        1 | 3 => match signed(rest) {
            Some(t) => t,
            None => return,
        },
        _ => {
            if let Ok(keys) = jeton::ClientKeys::from_json(rest, jeton::Algorithm::Es256) {
                assert!(!keys.keys().is_empty());
                assert!(
                    keys.keys()
                        .iter()
                        .all(|k| k.algorithm() == jeton::Algorithm::Es256)
                );
            }
            return;
        }
    };
    if mode < 2 {
        let a = ClientAssertion {
            assertion_type: JWT_BEARER_ASSERTION_TYPE,
            assertion: &token,
            client_id: None,
        };
        let keys = jeton::ClientKeys::new(
            jeton::Algorithm::Es256,
            [jwt_test_key().verifying_key().clone()],
        )
        .expect("client keys");
        let svc = ClientId::new("svc").expect("id");
        let policy = AssertionPolicy::new(JWT_ISSUER, KEYAUTH_TOKEN_URL);
        if let Err(e) = peek_client_id(&a) {
            assert_eq!(e.error_code(), ErrorCode::InvalidClient);
        }
        match verify_client_assertion(&a, &svc, &keys, &policy, now()) {
            Ok(v) => {
                assert_eq!(v.client_id, svc);
                assert!(!v.jti.is_empty());
                assert!(v.expires_at + jeton::time::Duration::seconds(30) > now());
            }
            Err(e) => assert_eq!(e.error_code(), ErrorCode::InvalidClient),
        }
    } else {
        let values: jeton::HeaderValues<'_> = std::iter::once(token.as_bytes()).collect();
        let check = jeton::DpopCheck::new("POST", KEYAUTH_TOKEN_URL);
        match jeton::verify_dpop_proof(&values, &check, now()) {
            Ok(p) => assert_eq!(p.jkt, jwt_test_key().verifying_key().thumbprint()),
            Err(e) => assert!(matches!(
                e.error_code(),
                ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce
            )),
        }
    }
}

//! Properties of the resource-side request check, `BearerValidator::validate_request` through
//! `RequireScope::check_request` (RFC 6750 §3, RFC 9449 §4.3, §7.1, §11.1), over generated
//! `Authorization` and `DPoP` values, methods and URLs:
//!
//! - whatever arrives, nothing panics and every answer has the one shape
//!   `jeton_testkit::resource_check::check_resource_answer` states (status, a code from the fixed
//!   set, a well-formed `Bearer` or `DPoP` challenge as the scheme says, the JSON body);
//! - a proof made correctly (by `jsonwebtoken`, not jeton) for the bound token is accepted, once;
//! - a valid proof with one byte or one claim changed, a proof for another token, method or URL,
//!   a token bound to another key, duplicated headers and oversized values are refused with the
//!   failure that names them.

mod jwt_common;

use jeton::time::Duration;
use jeton::{
    AccessTokenClaims, Algorithm, BearerError, BearerFailure, DEFAULT_DPOP_IAT_WINDOW,
    DEFAULT_MAX_TOKEN_BYTES, DpopFailure, HeaderValues, MAX_DPOP_PROOF_BYTES, RequestParts, Scope,
};
use jeton_testkit::fuzzing::{JWT_AUDIENCE, JWT_ISSUER, jwt_test_key};
use jeton_testkit::resource_check::{
    API_CLIENT, API_URL, api_route, bearer_token, bound_token, check_resource_answer, proof_claims,
    proof_header, proof_key, proof_of,
};
use jeton_testkit::{block_on, now};
use jsonwebtoken as jwt;
use jwt_common::{encoding_key, public_jwk_of};
use proptest::prelude::*;
use serde_json::{Value, json};

/// One request: its `Authorization` and `DPoP` values, method and URL.
#[derive(Debug, Clone)]
struct Request {
    authorization: Vec<Vec<u8>>,
    dpop: Vec<Vec<u8>>,
    method: String,
    url: String,
}

impl Request {
    /// `DPoP <token>` with one proof, `GET` [`API_URL`].
    fn dpop(token: &str, proof: String) -> Self {
        Self {
            authorization: vec![format!("DPoP {token}").into_bytes()],
            dpop: vec![proof.into_bytes()],
            method: "GET".into(),
            url: API_URL.into(),
        }
    }

    fn parts(&self) -> RequestParts<'_> {
        fn values(v: &[Vec<u8>]) -> HeaderValues<'_> {
            v.iter().map(Vec::as_slice).collect()
        }
        RequestParts {
            authorization: values(&self.authorization),
            dpop: values(&self.dpop),
            method: &self.method,
            url: &self.url,
        }
    }
}

/// Checks `request` on a fresh route requiring `required`, asserts the answer's shape and
/// returns it with the route, for a second request on the same replay store.
fn check_on(
    route: &jeton::RequireScope,
    request: &Request,
) -> Result<AccessTokenClaims, BearerError> {
    let parts = request.parts();
    let answer = block_on(route.check_request(&parts, now()));
    check_resource_answer(&parts, route.required(), &answer);
    answer
}

fn check(request: &Request, required: &Scope) -> Result<AccessTokenClaims, BearerError> {
    check_on(&api_route(required.clone()), request)
}

/// The failure of a refusal (panics on an acceptance).
fn refused(request: &Request) -> BearerFailure {
    match check(request, &Scope::default()) {
        Ok(_) => panic!("accepted: {request:?}"),
        Err(e) => e.failure(),
    }
}

/// A proof for the bound token, `GET` [`API_URL`], by jeton's signer.
fn valid_proof(jti: &str) -> String {
    proof_of(
        &proof_header(),
        &proof_claims("GET", API_URL, jti, bound_token()),
    )
}

/// A proof made by `jsonwebtoken` with the Ed25519 test key (the resource fixture's proof key).
fn jsonwebtoken_proof(claims: &Value) -> String {
    let mut h = jwt::Header::new(jwt::Algorithm::EdDSA);
    h.typ = Some("dpop+jwt".into());
    h.jwk = Some(serde_json::from_value(public_jwk_of(Algorithm::EdDsa)).expect("jwk"));
    jwt::encode(&h, claims, &encoding_key(Algorithm::EdDsa)).expect("signs")
}

/// `Authorization` values: a scheme (right, other case, other, none) and a token (bound,
/// bearer, garbage, oversized), or arbitrary bytes.
fn authorization_value() -> impl Strategy<Value = Vec<u8>> {
    let scheme = prop::sample::select(vec![
        "DPoP ", "dpop ", "DPOP  ", "Bearer ", "bearer ", "Basic ", "DPoP", " DPoP\t", "",
    ]);
    let token = prop_oneof![
        Just(bound_token().to_owned()),
        Just(bearer_token().to_owned()),
        "[A-Za-z0-9._~+/=-]{0,40}",
        (0..bound_token().len(), any::<u8>()).prop_map(|(i, b)| {
            let mut t = bound_token().as_bytes().to_vec();
            t[i] = b;
            String::from_utf8_lossy(&t).into_owned()
        }),
        Just("a".repeat(DEFAULT_MAX_TOKEN_BYTES + 1)),
    ];
    prop_oneof![
        4 => (scheme, token).prop_map(|(s, t)| format!("{s}{t}").into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..48),
    ]
}

/// `DPoP` values: valid proofs (for this request or another), proofs with one byte changed,
/// garbage, oversized values.
fn dpop_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => "[a-z0-9]{1,8}".prop_map(|jti| valid_proof(&jti).into_bytes()),
        2 => ("[a-z0-9]{1,8}", any::<prop::sample::Index>(), any::<u8>()).prop_map(|(jti, i, b)| {
            let mut p = valid_proof(&jti).into_bytes();
            let i = i.index(p.len());
            p[i] = b;
            p
        }),
        1 => (
            prop::sample::select(vec!["GET", "POST", "get"]),
            prop::sample::select(vec![API_URL, "https://api.example.com/other", "http://api.example.com/orders"]),
        )
            .prop_map(|(m, u)| proof_of(&proof_header(), &proof_claims(m, u, "other", bound_token())).into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => Just(vec![b'a'; MAX_DPOP_PROOF_BYTES + 1]),
    ]
}

fn request() -> impl Strategy<Value = Request> {
    (
        prop::collection::vec(authorization_value(), 0..3),
        prop::collection::vec(dpop_value(), 0..3),
        prop_oneof![
            3 => Just("GET".to_owned()),
            1 => Just("POST".to_owned()),
            1 => "[ -~]{0,8}",
        ],
        prop_oneof![
            3 => Just(API_URL.to_owned()),
            1 => Just(format!("{API_URL}?page=2#top")),
            1 => "https://api\\.example\\.com/[a-z]{0,8}",
            1 => "[ -~]{0,24}",
        ],
    )
        .prop_map(|(authorization, dpop, method, url)| Request {
            authorization,
            dpop,
            method,
            url,
        })
}

fn required() -> impl Strategy<Value = Scope> {
    prop::sample::select(vec!["", "read", "admin"])
        .prop_map(|s| Scope::parse(s).unwrap_or_default())
}

/// The claims of the proof [`changed_proof`] changes.
fn claims() -> Value {
    proof_claims("GET", API_URL, "changed", bound_token())
}

/// A proof whose claim `name` is `value` (removed when null).
fn with(name: &str, value: Value) -> String {
    let mut c = claims();
    if value.is_null() {
        c.as_object_mut().expect("object").remove(name);
    } else {
        c[name] = value;
    }
    proof_of(&proof_header(), &c)
}

/// A proof whose header member `name` is `value`.
fn header_with(name: &str, value: Value) -> String {
    let mut h = proof_header();
    h[name] = value;
    proof_of(&h, &claims())
}

/// One claim or header member of a valid proof changed, and the failure that must name it.
fn changed_proof() -> impl Strategy<Value = (String, DpopFailure)> {
    let window = DEFAULT_DPOP_IAT_WINDOW.whole_seconds();
    prop_oneof![
        "[A-Z]{1,7}"
            .prop_filter("another method", |m| m != "GET")
            .prop_map(|m| (with("htm", json!(m)), DpopFailure::WrongMethod)),
        "/[a-z]{1,8}".prop_map(|p| (
            with("htu", json!(format!("https://api.example.com{p}"))),
            DpopFailure::WrongUrl
        )),
        "[A-Za-z0-9_-]{1,43}".prop_map(|a| (with("ath", json!(a)), DpopFailure::WrongTokenHash)),
        Just((
            with("ath", json!(jeton::access_token_hash(bearer_token()))),
            DpopFailure::WrongTokenHash
        )),
        (window + 1..100_000i64, any::<bool>()).prop_map(|(d, late)| {
            let iat = now() + Duration::seconds(if late { d } else { -d });
            (with("iat", json!(iat.unix_timestamp())), DpopFailure::Stale)
        }),
        prop::sample::select(vec!["jti", "htm", "htu", "iat", "ath"])
            .prop_map(|c| (with(c, Value::Null), DpopFailure::MissingClaim)),
        prop::sample::select(vec!["JWT", "at+jwt", "dpop"])
            .prop_map(|t| (header_with("typ", json!(t)), DpopFailure::WrongType)),
        prop::sample::select(vec!["none", "HS256", "ES384"]).prop_map(|a| (
            header_with("alg", json!(a)),
            DpopFailure::DisallowedAlgorithm
        )),
        // Another key's JWK over this key's signature.
        Just((
            header_with("jwk", public_jwk_of(Algorithm::Es256)),
            DpopFailure::BadKey
        )),
        prop::sample::select(vec!["jku", "x5u", "x5c", "crit"])
            .prop_map(|m| (header_with(m, json!(["x"])), DpopFailure::ForbiddenHeader)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn rfc9449_7_1_every_answer_has_one_shape(req in request(), required in required()) {
        check(&req, &required).ok();
    }

    #[test]
    fn rfc9449_7_1_a_correctly_made_proof_for_a_bound_token_is_accepted_once(
        method in "[A-Z]{1,7}",
        path in "/[a-z0-9/]{0,16}",
        query in prop::option::of("[a-z=&]{1,12}"),
        jti in "[A-Za-z0-9_-]{1,32}",
        skew in -DEFAULT_DPOP_IAT_WINDOW.whole_seconds()..=DEFAULT_DPOP_IAT_WINDOW.whole_seconds(),
        scheme in prop::sample::select(vec!["DPoP", "dpop", "DPOP"]),
        read in any::<bool>(),
    ) {
        let url = format!("https://api.example.com{path}");
        let htu = match &query {
            Some(q) => format!("{url}?{q}"),
            None => url.clone(),
        };
        let proof = jsonwebtoken_proof(&json!({
            "jti": jti, "htm": method, "htu": htu,
            "iat": (now() + Duration::seconds(skew)).unix_timestamp(),
            "ath": jeton::access_token_hash(bound_token()),
        }));
        let req = Request {
            authorization: vec![format!("{scheme} {}", bound_token()).into_bytes()],
            dpop: vec![proof.into_bytes()],
            method,
            url,
        };
        let route = api_route(if read { Scope::parse("read").unwrap() } else { Scope::default() });
        let claims = check_on(&route, &req).expect("accepted");
        prop_assert_eq!(claims.client_id.as_str(), API_CLIENT);
        prop_assert_eq!(
            claims.claims.confirmation.map(|c| c.jkt),
            Some(proof_key().verifying_key().thumbprint())
        );
        // RFC 9449 §11.1: the same proof again is a replay.
        let again = check_on(&route, &req).expect_err("replayed");
        prop_assert_eq!(again.failure(), BearerFailure::DpopReplayed);
    }

    #[test]
    fn rfc9449_4_3_a_proof_with_one_byte_changed_is_refused(
        i in any::<prop::sample::Index>(),
        b in any::<u8>(),
    ) {
        let mut proof = valid_proof("one-byte").into_bytes();
        let i = i.index(proof.len());
        prop_assume!(proof[i] != b);
        proof[i] = b;
        let req = Request {
            dpop: vec![proof],
            ..Request::dpop(bound_token(), String::new())
        };
        prop_assert!(matches!(refused(&req), BearerFailure::DpopProof(_)));
    }

    #[test]
    fn rfc9449_4_3_a_proof_with_one_claim_changed_is_refused((proof, why) in changed_proof()) {
        let req = Request::dpop(bound_token(), proof);
        prop_assert_eq!(refused(&req), BearerFailure::DpopProof(why));
    }

    #[test]
    fn rfc9449_4_3_a_proof_for_another_method_or_url_is_refused(
        method in "[A-Z]{1,7}",
        path in "/[a-z]{0,8}",
    ) {
        let proof = valid_proof("request");
        let mut req = Request::dpop(bound_token(), proof);
        req.method = method.clone();
        req.url = format!("https://api.example.com{path}");
        let expected = if method != "GET" {
            DpopFailure::WrongMethod
        } else if req.url != API_URL {
            DpopFailure::WrongUrl
        } else {
            return Ok(());
        };
        prop_assert_eq!(refused(&req), BearerFailure::DpopProof(expected));
    }

    #[test]
    fn rfc6750_3_1_rfc9449_4_3_duplicated_headers_are_refused(
        extra_auth in prop::collection::vec(authorization_value(), 1..3),
        extra_proofs in 1..3usize,
    ) {
        // Two or more Authorization values: invalid_request, with the Bearer challenge
        // (which scheme would be the client's cannot be told).
        let mut req = Request::dpop(bound_token(), valid_proof("dup-auth"));
        req.authorization.extend(extra_auth);
        prop_assert_eq!(refused(&req), BearerFailure::MultipleAuthorization);
        // Two or more DPoP values, even each valid: invalid_dpop_proof.
        let mut req = Request::dpop(bound_token(), valid_proof("dup-proof"));
        for n in 0..extra_proofs {
            req.dpop.push(valid_proof(&format!("dup-{n}")).into_bytes());
        }
        prop_assert_eq!(refused(&req), BearerFailure::DpopProof(DpopFailure::Multiple));
    }

    #[test]
    fn rfc9449_4_3_oversized_tokens_and_proofs_are_refused(extra in 1..512usize) {
        let long = "a".repeat(DEFAULT_MAX_TOKEN_BYTES + extra);
        let req = Request::dpop(&long, valid_proof("long-token"));
        prop_assert_eq!(refused(&req), BearerFailure::TooLong);
        let req = Request::dpop(bound_token(), "a".repeat(MAX_DPOP_PROOF_BYTES + extra));
        prop_assert_eq!(refused(&req), BearerFailure::DpopProof(DpopFailure::TooLarge));
    }
}

/// A token bound to a key other than the proof's (`cnf.jkt` of the ES256 test key): its
/// proof is refused whatever else is right (RFC 9449 §4.3 point 12, §6.1).
#[test]
fn rfc9449_6_1_a_proof_by_a_key_other_than_cnf_jkt_is_refused() {
    let t = now().unix_timestamp();
    let elsewhere = jeton::sign_jwt(
        jwt_test_key(),
        jeton::AT_JWT_TYPE,
        &json!({
            "iss": JWT_ISSUER, "aud": JWT_AUDIENCE, "sub": API_CLIENT, "client_id": API_CLIENT,
            "jti": "elsewhere", "scope": "read", "iat": t, "exp": t + 600,
            "cnf": { "jkt": jwt_test_key().verifying_key().thumbprint() },
        }),
    )
    .expect("signs");
    let proof = proof_of(
        &proof_header(),
        &proof_claims("GET", API_URL, "elsewhere", &elsewhere),
    );
    assert_eq!(
        refused(&Request::dpop(&elsewhere, proof)),
        BearerFailure::DpopProof(DpopFailure::WrongKey)
    );
}

/// Found by `rfc9449_7_1_a_correctly_made_proof_for_a_bound_token_is_accepted_once`: a proof
/// whose `iat` is exactly the window's age is still accepted, and must still be remembered
/// then, though the replay stores forget a key once its time is not after `now`.
#[test]
fn rfc9449_11_1_a_proof_at_the_edge_of_its_iat_window_is_accepted_once() {
    let route = api_route(Scope::default());
    for (jti, age) in [
        ("edge", DEFAULT_DPOP_IAT_WINDOW),
        ("future", -DEFAULT_DPOP_IAT_WINDOW),
    ] {
        let mut claims = proof_claims("GET", API_URL, jti, bound_token());
        claims["iat"] = json!((now() - age).unix_timestamp());
        let req = Request::dpop(bound_token(), jsonwebtoken_proof(&claims));
        check_on(&route, &req).expect("within the window");
        let again = check_on(&route, &req).expect_err("replayed");
        assert_eq!(again.failure(), BearerFailure::DpopReplayed, "{jti}");
    }
}

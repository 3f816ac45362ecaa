//! Properties of the token endpoint over generated inputs (proptest).

use jeton::RawRequest;
use jeton::internal::basic::{Authorization, parse_authorization};
use jeton_testkit::strategies::*;
use jeton_testkit::*;
use proptest::prelude::*;

const ERRORS: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_target",
];

fn content_type() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop_oneof![
        4 => Just(vec![b"application/x-www-form-urlencoded".to_vec()]),
        1 => Just(vec![]),
        1 => Just(vec![b"application/json".to_vec()]),
        1 => Just(vec![b"application/x-www-form-urlencoded".to_vec(); 2]),
        1 => bytes().prop_map(|b| vec![b]),
    ]
}

#[derive(Debug, Clone)]
struct Input {
    method: String,
    query: Option<String>,
    content_type: Vec<Vec<u8>>,
    authorization: Vec<Vec<u8>>,
    body: Vec<u8>,
}

fn input() -> impl Strategy<Value = Input> {
    (
        method(),
        proptest::option::weighted(0.1, "[ -~]{0,20}"),
        content_type(),
        prop_oneof![
            4 => authorization().prop_map(|a| a.into_iter().collect::<Vec<_>>()),
            1 => proptest::collection::vec(bytes(), 2..3),
        ],
        prop_oneof![
            4 => form_body().prop_map(String::into_bytes),
            1 => bytes(),
        ],
    )
        .prop_map(|(method, query, content_type, authorization, body)| Input {
            method,
            query,
            content_type,
            authorization,
            body,
        })
}

fn run(f: &Fixture, i: &Input) -> jeton::Outcome {
    run_at(f, Endpoint::Token, i)
}

fn run_at(f: &Fixture, endpoint: Endpoint, i: &Input) -> jeton::Outcome {
    let mut req = RawRequest::new(&i.method, &i.body, now()).query(i.query.as_deref());
    for c in &i.content_type {
        req = req.content_type(c);
    }
    for a in &i.authorization {
        req = req.authorization(a);
    }
    match endpoint {
        Endpoint::Token => block_on(f.engine.handle_token_request(&req)),
        Endpoint::Introspection => block_on(f.engine.handle_introspection_request(&req)),
        Endpoint::Revocation => block_on(f.engine.handle_revocation_request(&req)),
    }
}

/// Inputs for introspection and revocation: the token endpoint's, with `token` parameters
/// (live, garbage, repeated) mixed into the body and the introspector's credentials sometimes.
fn endpoint_input() -> impl Strategy<Value = (Input, u8, bool)> {
    (input(), any::<u8>(), any::<bool>())
}

fn is_error_char(b: u8) -> bool {
    b == 0x20 || b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Totality and shape: every input gets a response with a known status, `no-store`, and a
    /// JSON body that is either a token or an RFC 6749 §5.2 error.
    #[test]
    fn every_request_gets_a_well_formed_response(i in input()) {
        let f = Fixture::new();
        let o = run(&f, &i);
        let r = &o.response;
        prop_assert!([200, 400, 401, 405].contains(&r.status()), "status {}", r.status());
        prop_assert_eq!(r.header("cache-control"), Some("no-store"));
        prop_assert_eq!(r.header("pragma"), Some("no-cache"));
        prop_assert_eq!(r.header("content-type"), Some("application/json"));
        let v: serde_json::Value = serde_json::from_slice(r.body()).expect("JSON");
        if r.status() == 200 {
            prop_assert!(v["access_token"].as_str().is_some_and(|t| jeton::internal::opaque_token_digest(t).is_some()));
            prop_assert_eq!(&v["token_type"], "Bearer");
            prop_assert!(v["expires_in"].as_i64().is_some_and(|e| e > 0));
            prop_assert!(v.get("refresh_token").is_none());
        } else {
            let e = v["error"].as_str().expect("error member");
            prop_assert!(ERRORS.contains(&e), "error {}", e);
            let d = v["error_description"].as_str().unwrap_or("");
            prop_assert!(d.bytes().all(is_error_char));
            prop_assert!(v.get("access_token").is_none());
            if e == "invalid_client" {
                prop_assert_eq!(r.status(), 401);
                prop_assert!(r.header("www-authenticate").is_some_and(|h| h.starts_with("Basic realm=")));
            }
            if r.status() == 405 {
                prop_assert_eq!(r.header("allow"), Some("POST"));
            }
        }
    }

    /// RFC 7662 / RFC 7009 totality: every input gets a known status, `no-store`, and either
    /// an error from the allowed set, an introspection answer, or (revocation) an empty 200.
    #[test]
    fn introspection_and_revocation_are_total((i, pick, introspector) in endpoint_input()) {
        let f = Fixture::new();
        let live = f.issue(ALL, "");
        let mut i = i;
        let token = match pick % 4 {
            0 => live.clone(),
            1 => "jt_garbage".to_owned(),
            2 => format!("{live}&token={live}"),
            _ => String::new(),
        };
        if !token.is_empty() {
            i.body.extend_from_slice(format!("&token={token}").as_bytes());
        }
        if introspector && i.authorization.is_empty() {
            i.authorization.push(jeton::encode_basic(INTROSPECTOR.id, INTROSPECTOR.secret).into_bytes());
        }
        for endpoint in [Endpoint::Introspection, Endpoint::Revocation] {
            let o = run_at(&f, endpoint, &i);
            let r = &o.response;
            prop_assert!([200, 400, 401, 405].contains(&r.status()), "status {}", r.status());
            prop_assert_eq!(r.header("cache-control"), Some("no-store"));
            if r.status() == 200 {
                if endpoint == Endpoint::Revocation {
                    prop_assert!(r.body().is_empty());
                } else {
                    let v: serde_json::Value = serde_json::from_slice(r.body()).expect("JSON");
                    prop_assert!(v["active"].is_boolean());
                    if v["active"] == false {
                        prop_assert_eq!(r.body(), br#"{"active":false}"#);
                    }
                }
            } else {
                let v: serde_json::Value = serde_json::from_slice(r.body()).expect("JSON");
                let e = v["error"].as_str().expect("error member");
                prop_assert!(ERRORS.contains(&e), "error {}", e);
                prop_assert!(v["error_description"].as_str().unwrap_or("").bytes().all(is_error_char));
                if r.status() == 401 {
                    prop_assert!(r.header("www-authenticate").is_some());
                }
            }
        }
    }

    /// RFC 6749 §10.3: neither the submitted secret nor the Authorization value comes back.
    #[test]
    fn no_echo_of_secret_or_authorization(i in input(), secret in "[A-Za-z0-9]{12,20}") {
        let f = Fixture::new();
        let mut i = i;
        i.body.extend_from_slice(format!("&client_secret={secret}").as_bytes());
        let o = run(&f, &i);
        let text = format!("{} {:?} {:?}", String::from_utf8_lossy(o.response.body()), o.event, o.response);
        prop_assert!(!text.contains(&secret));
        for a in &i.authorization {
            if a.len() >= 12 {
                prop_assert!(!text.contains(&*String::from_utf8_lossy(a)));
            }
        }
    }

    /// Deterministic given the stores, the issuer's RNG seed and `now`.
    #[test]
    fn same_input_same_response(i in input()) {
        let a = run(&Fixture::new(), &i);
        let b = run(&Fixture::new(), &i);
        prop_assert_eq!(a.response, b.response);
        prop_assert_eq!(a.event, b.event);
    }

    /// The order of form pairs does not matter.
    #[test]
    fn form_pair_order_is_irrelevant(body in form_body(), seed in any::<u64>()) {
        let mut pairs: Vec<&str> = body.split('&').collect();
        let n = pairs.len();
        if n > 1 {
            pairs.rotate_left((seed as usize) % n);
            pairs.swap(0, (seed as usize / 7) % n);
        }
        let shuffled = pairs.join("&");
        let auth = jeton::encode_basic(POST.id, POST.secret);
        let a = Fixture::new().token(&body, Some(&auth));
        let b = Fixture::new().token(&shuffled, Some(&auth));
        prop_assert_eq!(a.response, b.response);
    }

    /// RFC 6749 §2.3.1: encode (form-encode each half, base64) then decode is the identity.
    #[test]
    fn basic_encode_decode_round_trip(id in vschar_string(), secret in vschar_string()) {
        let h = jeton::encode_basic(&id, &secret);
        match parse_authorization(h.as_bytes()) {
            Ok(Authorization::Basic(c)) => {
                prop_assert_eq!(c.client_id, id);
                prop_assert_eq!(c.secret.expose(), secret.as_str());
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }

    /// The parsers are total on arbitrary bytes.
    #[test]
    fn parsers_never_panic(b in bytes()) {
        let _ = jeton::internal::form::parse(&b, jeton::internal::form::FormLimits::default());
        let _ = parse_authorization(&b);
        if let Ok(s) = std::str::from_utf8(&b) {
            let _ = jeton::Scope::parse(s);
            let _ = jeton::Resource::new(s);
            let _ = s.parse::<jeton::SecretVerifier>();
            let _ = jeton::internal::opaque_token_digest(s);
        }
    }
}

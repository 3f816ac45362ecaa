//! The token endpoint against the RFC rules (docs/conformance.md), one test per behaviour, named after the rule.

use jeton::{AuditEvent, AuthFailure, ClientId, Engine, RawRequest, TokenDigest, TokenStore};
use jeton_testkit::*;
use std::num::NonZeroU32;
use std::sync::Arc;

const CC: &str = "grant_type=client_credentials";

fn assert_error(o: &jeton::Outcome, status: u16, code: &str) {
    assert_eq!(
        o.response.status(),
        status,
        "body: {}",
        String::from_utf8_lossy(o.response.body())
    );
    assert_eq!(error_code(o).as_deref(), Some(code));
    assert!(json(o).get("access_token").is_none());
    assert_no_store(o);
}

fn assert_no_store(o: &jeton::Outcome) {
    assert_eq!(o.response.header("cache-control"), Some("no-store"));
    assert_eq!(o.response.header("pragma"), Some("no-cache"));
    assert_eq!(o.response.header("content-type"), Some("application/json"));
}

fn assert_issued(o: &jeton::Outcome) -> serde_json::Value {
    assert_eq!(
        o.response.status(),
        200,
        "body: {}",
        String::from_utf8_lossy(o.response.body())
    );
    assert_no_store(o);
    let v = json(o);
    assert!(
        v["access_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("jt_"))
    );
    assert_eq!(v["token_type"], "Bearer");
    v
}

fn raw<'a>(method: &'a str, body: &'a [u8]) -> RawRequest<'a> {
    RawRequest::new(method, body, now()).content_type(b"application/x-www-form-urlencoded")
}

fn send(f: &Fixture, req: &RawRequest<'_>) -> jeton::Outcome {
    block_on(f.engine.handle_token_request(req))
}

fn basic(c: FixtureClient) -> String {
    jeton::encode_basic(c.id, c.secret)
}

// --- Transport and HTTP framing ---

#[test]
fn rfc6749_3_2_only_post_is_accepted() {
    let f = Fixture::new();
    let auth = basic(BASIC);
    for m in ["GET", "PUT", "DELETE", "HEAD", "post"] {
        let o = send(
            &f,
            &raw(m, b"grant_type=client_credentials&scope=read").authorization(auth.as_bytes()),
        );
        assert_eq!(o.response.status(), 405, "{m}");
        assert_eq!(o.response.header("allow"), Some("POST"));
        assert_eq!(error_code(&o).as_deref(), Some("invalid_request"));
        assert_no_store(&o);
    }
}

#[test]
fn rfc6749_2_3_1_credentials_in_the_query_are_rejected_not_merged() {
    let f = Fixture::new();
    for q in [
        "client_secret=basic-secret-0123456789&client_id=basic-client",
        "grant_type=client_credentials",
        "scope=read",
        "client%5Fsecret=x",
    ] {
        let auth = basic(BASIC);
        let o = send(
            &f,
            &raw("POST", b"grant_type=client_credentials&scope=read")
                .authorization(auth.as_bytes())
                .query(Some(q)),
        );
        assert_error(&o, 400, "invalid_request");
    }
    // A body-less request with everything in the query never authenticates.
    let o = send(&f, &raw("POST", b"").query(Some("grant_type=client_credentials&client_id=post-client&client_secret=post-secret-0123456789")));
    assert_error(&o, 400, "invalid_request");
}

#[test]
fn rfc6749_3_2_configured_endpoint_query_is_kept_and_ignored() {
    let f = Fixture::new();
    let auth = basic(BASIC);
    let o = send(
        &f,
        &raw("POST", b"grant_type=client_credentials&scope=read")
            .authorization(auth.as_bytes())
            .query(Some("tenant=acme")),
    );
    assert_issued(&o);
}

#[test]
fn rfc6749_3_2_tls_is_required_unless_disabled() {
    let f = Fixture::with(|b| b);
    let auth = basic(BASIC);
    let body = b"grant_type=client_credentials&scope=read";
    let o = send(&f, &raw("POST", body).authorization(auth.as_bytes()));
    assert_error(&o, 400, "invalid_request");
    let o = send(
        &f,
        &raw("POST", body)
            .authorization(auth.as_bytes())
            .secure(true),
    );
    assert_issued(&o);
}

#[test]
fn rfc6749_3_2_content_type_must_be_form_urlencoded() {
    let f = Fixture::new();
    let auth = basic(BASIC);
    let body = b"grant_type=client_credentials&scope=read";
    for ct in [
        &b"application/json"[..],
        b"text/plain",
        b"application/x-www-form-urlencoded; charset=iso-8859-1",
    ] {
        let o = send(
            &f,
            &RawRequest::new("POST", body, now())
                .content_type(ct)
                .authorization(auth.as_bytes()),
        );
        assert_error(&o, 400, "invalid_request");
    }
    let o = send(
        &f,
        &RawRequest::new("POST", body, now()).authorization(auth.as_bytes()),
    );
    assert_error(&o, 400, "invalid_request");
    let o = send(
        &f,
        &raw("POST", body)
            .content_type(b"application/x-www-form-urlencoded")
            .authorization(auth.as_bytes()),
    );
    assert_error(&o, 400, "invalid_request");
    let o = send(
        &f,
        &RawRequest::new("POST", body, now())
            .content_type(b"application/x-www-form-urlencoded;charset=UTF-8")
            .authorization(auth.as_bytes()),
    );
    assert_issued(&o);
}

#[test]
fn rfc6749_5_2_oversize_body_is_invalid_request() {
    let f = Fixture::with(|b| b.transport(jeton::Transport::Plaintext).max_body_bytes(128));
    let auth = basic(BASIC);
    let mut body = b"grant_type=client_credentials&scope=read&pad=".to_vec();
    body.resize(129, b'a');
    let o = send(&f, &raw("POST", &body).authorization(auth.as_bytes()));
    assert_error(&o, 400, "invalid_request");
    body.truncate(128);
    let o = send(&f, &raw("POST", &body).authorization(auth.as_bytes()));
    assert_issued(&o);
    // An adapter that stopped reading at the limit says so; the answer is the same.
    let o = send(
        &f,
        &raw("POST", b"")
            .authorization(auth.as_bytes())
            .body_too_large(),
    );
    assert_error(&o, 400, "invalid_request");
    assert_eq!(
        json(&o)["error_description"],
        "the request body is too large"
    );
    // Method and transport checks still come first.
    let o = send(&f, &raw("GET", b"").body_too_large());
    assert_eq!(o.response.status(), 405);
    let o = send(
        &f,
        &raw("POST", b"")
            .authorization(auth.as_bytes())
            .body_unreadable(),
    );
    assert_error(&o, 400, "invalid_request");
}

#[test]
fn rfc6749_appendix_b_malformed_body_is_invalid_request() {
    let f = Fixture::new();
    let auth = basic(BASIC);
    for body in [
        &b"grant_type=client_credentials&scope=%ZZ"[..],
        b"grant_type=client_credentials&x=%FF",
        b"grant_type=\xff",
    ] {
        let o = send(&f, &raw("POST", body).authorization(auth.as_bytes()));
        assert_error(&o, 400, "invalid_request");
    }
}

// --- Parameter parsing ---

#[test]
fn rfc6749_3_2_repeated_parameters_are_invalid_request() {
    let f = Fixture::new();
    for p in [
        "grant_type=client_credentials",
        "scope=read",
        "client_id=post-client",
        "client_secret=post-secret-0123456789",
        "client_assertion=x",
        "client_assertion_type=x",
        "unknown=1",
    ] {
        let body = format!(
            "grant_type=client_credentials&scope=read&client_id=post-client&client_secret=post-secret-0123456789&{p}&{p}"
        );
        let o = f.token(&body, None);
        assert_error(&o, 400, "invalid_request");
        assert_eq!(
            json(&o)["error_description"],
            "a parameter was repeated",
            "{p}"
        );
    }
}

#[test]
fn rfc8707_2_resource_may_repeat() {
    let f = Fixture::new();
    let o = f.token_basic(
        RESOURCE,
        "grant_type=client_credentials&resource=https%3A%2F%2Fapi.example.com%2F&resource=https%3A%2F%2Fother.example.com%2F",
    );
    assert_issued(&o);
    let AuditEvent::TokenIssued { audience, .. } = &o.event else {
        panic!("{:?}", o.event)
    };
    assert_eq!(audience.len(), 2);
}

#[test]
fn rfc6749_3_2_empty_values_are_treated_as_absent() {
    let f = Fixture::new();
    // An empty scope means "omitted": POST's default scope applies.
    let o = f.token_basic(POST, "grant_type=client_credentials&scope=");
    assert_eq!(assert_issued(&o)["scope"], "read");
    // An empty client_secret beside Basic is not a second authentication method.
    let o = f.token_basic(
        BASIC,
        "grant_type=client_credentials&scope=read&client_secret=",
    );
    assert_issued(&o);
}

#[test]
fn rfc6749_3_2_unknown_parameters_are_ignored() {
    let f = Fixture::new();
    let o = f.token_basic(
        BASIC,
        "grant_type=client_credentials&scope=read&foo=bar&audience_hint=x",
    );
    assert_issued(&o);
}

#[test]
fn rfc6749_5_2_grant_type_missing_unsupported_unauthorized() {
    let f = Fixture::new();
    assert_error(&f.token_basic(BASIC, "scope=read"), 400, "invalid_request");
    for g in [
        "password",
        "authorization_code",
        "refresh_token",
        "CLIENT_CREDENTIALS",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ] {
        let o = f.token_basic(
            BASIC,
            &format!(
                "grant_type={}&scope=read",
                jeton::internal::form::encode_component(g)
            ),
        );
        assert_error(&o, 400, "unsupported_grant_type");
    }
    assert_error(&f.token_basic(NO_CC, CC), 400, "unauthorized_client");
}

#[test]
fn rfc6749_appendix_b_body_is_form_decoded() {
    let f = Fixture::new();
    let o = f.token_basic(BASIC, "grant%5Ftype=client%5Fcredentials&scope=read+write");
    assert_eq!(assert_issued(&o)["scope"], "read write");
    let o = f.token_basic(BASIC, "grant_type=client_credentials&scope=read%20write");
    assert_eq!(assert_issued(&o)["scope"], "read write");
}

#[test]
fn rfc6749_a_1_body_client_id_and_secret_must_be_vschar() {
    let f = Fixture::new();
    let o = f.token("grant_type=client_credentials&client_id=post%0Aclient&client_secret=post-secret-0123456789", None);
    assert_error(&o, 400, "invalid_request");
    let o = f.token(
        "grant_type=client_credentials&client_id=post-client&client_secret=post-secret-%C3%A9",
        None,
    );
    assert_error(&o, 400, "invalid_request");
}

#[test]
fn rfc6749_3_3_scope_syntax_and_case() {
    let f = Fixture::new();
    for s in [
        "read%20%20write",
        "%20read",
        "read%20",
        "read%22",
        "re%5Cad",
    ] {
        let o = f.token_basic(BASIC, &format!("grant_type=client_credentials&scope={s}"));
        assert_error(&o, 400, "invalid_scope");
    }
    assert_error(
        &f.token_basic(BASIC, "grant_type=client_credentials&scope=READ"),
        400,
        "invalid_scope",
    );
}

// --- Client authentication (general) ---

#[test]
fn rfc6749_2_3_more_than_one_authentication_method_is_invalid_request() {
    let f = Fixture::new();
    let auth = basic(POST);
    for extra in [
        "client_secret=post-secret-0123456789",
        "client_assertion=eyJ.x.y&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer",
    ] {
        let o = f.token(&format!("{CC}&scope=read&{extra}"), Some(&auth));
        assert_error(&o, 400, "invalid_request");
    }
    let o = f.token(
        "grant_type=client_credentials&client_id=post-client&client_secret=post-secret-0123456789&client_assertion=x",
        None,
    );
    assert_error(&o, 400, "invalid_request");
}

#[test]
fn rfc6749_3_2_1_body_client_id_must_match_basic() {
    let f = Fixture::new();
    let o = f.token_basic(
        BASIC,
        "grant_type=client_credentials&scope=read&client_id=basic-client",
    );
    assert_issued(&o);
    let o = f.token_basic(
        BASIC,
        "grant_type=client_credentials&scope=read&client_id=post-client",
    );
    assert_error(&o, 400, "invalid_request");
}

#[test]
fn rfc6749_4_4_public_clients_are_refused() {
    let f = Fixture::new();
    assert_error(&f.token_basic(PUBLIC, CC), 401, "invalid_client");
    // The `none` method: a client_id and no secret.
    assert_error(
        &f.token(
            "grant_type=client_credentials&client_id=public-client",
            None,
        ),
        401,
        "invalid_client",
    );
    assert_error(
        &f.token(
            "grant_type=client_credentials&client_id=basic-client&scope=read",
            None,
        ),
        401,
        "invalid_client",
    );
}

#[test]
fn rfc7591_2_unregistered_auth_method_is_invalid_client() {
    let f = Fixture::new();
    let o = f.token(
        "grant_type=client_credentials&scope=read&client_id=basic-client&client_secret=basic-secret-0123456789",
        None,
    );
    assert_error(&o, 401, "invalid_client");
    let AuditEvent::ClientAuthenticationFailed { reason, .. } = o.event else {
        panic!()
    };
    assert_eq!(reason, AuthFailure::MethodNotAllowed);
}

#[test]
fn rfc6749_5_2_every_authentication_failure_looks_the_same() {
    let f = Fixture::new();
    let cases = [
        (
            jeton::encode_basic("no-such-client", "whatever-secret"),
            AuthFailure::UnknownClient,
        ),
        (
            jeton::encode_basic(BASIC.id, "wrong-secret"),
            AuthFailure::WrongSecret,
        ),
        (basic(DISABLED), AuthFailure::ClientDisabled),
        (
            jeton::encode_basic(ROTATING.id, ROTATING_OLD_SECRET),
            AuthFailure::ExpiredSecret,
        ),
        (basic(PUBLIC), AuthFailure::PublicClient),
    ];
    let mut first: Option<jeton::Response> = None;
    for (auth, why) in cases {
        let o = f.token("grant_type=client_credentials&scope=read", Some(&auth));
        assert_error(&o, 401, "invalid_client");
        let AuditEvent::ClientAuthenticationFailed { reason, .. } = &o.event else {
            panic!("{:?}", o.event)
        };
        assert_eq!(*reason, why);
        match &first {
            None => first = Some(o.response.clone()),
            Some(r) => assert_eq!(r, &o.response, "responses differ for {why:?}"),
        }
    }
    // The same with body credentials, and with a method the client may not use.
    let body_fail = f.token("grant_type=client_credentials&scope=read&client_id=basic-client&client_secret=basic-secret-0123456789", None);
    assert_eq!(body_fail.response.body(), first.as_ref().unwrap().body());
    let unknown_body = f.token(
        "grant_type=client_credentials&scope=read&client_id=nobody&client_secret=x",
        None,
    );
    assert_eq!(unknown_body.response, body_fail.response);
}

/// RFC 6749 §10.10. With a PBKDF2 decoy the unknown-client path must
/// cost about what the wrong-secret path costs; without a decoy it would be ~1000x cheaper.
/// A ratio measured in one run, interleaved, with a wide tolerance: not a performance target.
#[test]
fn rfc6749_10_10_unknown_client_costs_the_same_as_a_wrong_secret() {
    let iterations = NonZeroU32::new(20_000).unwrap();
    let f = Fixture::with(|b| {
        b.transport(jeton::Transport::Plaintext)
            .decoy(jeton::DecoyKind::Pbkdf2Sha256(iterations))
    });
    // A PBKDF2 client with the same cost as the decoy.
    let rng = SeqRandom::new(1);
    let v = jeton::SecretVerifier::pbkdf2_sha256("the-real-secret", iterations, &rng).unwrap();
    f.clients.put(
        jeton::ClientRecord::builder(ClientId::new("slow-client").unwrap())
            .secret(v)
            .scopes(jeton::Scope::parse("read").unwrap())
            .build(),
    );
    let unknown = jeton::encode_basic("no-such-client", "wrong-secret");
    let wrong = jeton::encode_basic("slow-client", "wrong-secret");
    let time = |auth: &str| {
        let t = std::time::Instant::now();
        let o = f.token("grant_type=client_credentials&scope=read", Some(auth));
        assert_eq!(o.response.status(), 401);
        t.elapsed()
    };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        a.push(time(&unknown));
        b.push(time(&wrong));
    }
    a.sort();
    b.sort();
    let ratio = a[7].as_secs_f64() / b[7].as_secs_f64();
    assert!(
        (0.5..2.0).contains(&ratio),
        "unknown/wrong median ratio {ratio}"
    );
}

// --- client_secret_basic ---

#[test]
fn rfc6749_2_3_1_appendix_b_vector_authenticates() {
    let f = Fixture::new();
    let o = f.token(CC, Some(VECTOR_HEADER));
    assert_issued(&o);
    assert_eq!(o.event.client_id().unwrap().as_str(), VECTOR_ID);
}

#[test]
fn rfc7617_2_colon_in_client_id_works_when_encoded() {
    let f = Fixture::new();
    let rng = SeqRandom::new(3);
    f.clients.put(
        jeton::ClientRecord::builder(ClientId::new("urn:svc:a").unwrap())
            .secret(jeton::SecretVerifier::hmac_sha256("p:a:ss", &rng).unwrap())
            .default_scope(jeton::DefaultScope::AllAllowed)
            .build(),
    );
    assert_issued(&f.token(CC, Some(&jeton::encode_basic("urn:svc:a", "p:a:ss"))));
}

#[test]
fn rfc9110_11_1_basic_scheme_case_and_whitespace() {
    let f = Fixture::new();
    let token68 = basic(BASIC).trim_start_matches("Basic ").to_owned();
    for h in [
        format!("basic {token68}"),
        format!("BASIC {token68}"),
        format!("Basic   {token68} "),
    ] {
        assert_issued(&f.token("grant_type=client_credentials&scope=read", Some(&h)));
    }
}

#[test]
fn rfc9110_5_3_more_than_one_authorization_header_is_invalid_request() {
    let f = Fixture::new();
    let auth = basic(BASIC);
    let o = send(
        &f,
        &raw("POST", b"grant_type=client_credentials&scope=read")
            .authorization(auth.as_bytes())
            .authorization(auth.as_bytes()),
    );
    assert_error(&o, 400, "invalid_request");
}

#[test]
fn rfc6749_5_2_malformed_basic_is_invalid_client_with_basic_challenge() {
    let f = Fixture::new();
    for h in [
        "Basic !!!",
        "Basic",
        "Basic YQ==",
        "Basic OnNlY3JldA==",
        "Basic /w==",
        "Bearer abc",
        "Digest x=y",
    ] {
        let o = f.token("grant_type=client_credentials&scope=read", Some(h));
        assert_error(&o, 401, "invalid_client");
        assert_eq!(
            o.response.header("www-authenticate"),
            Some("Basic realm=\"jeton\""),
            "{h}"
        );
    }
}

#[test]
fn rfc6749_5_2_failed_basic_gets_401_with_basic_challenge() {
    let f = Fixture::with(|b| b.transport(jeton::Transport::Plaintext).realm("tokens"));
    let o = f.token(
        "grant_type=client_credentials&scope=read",
        Some(&jeton::encode_basic(BASIC.id, "nope")),
    );
    assert_error(&o, 401, "invalid_client");
    assert_eq!(
        o.response.header("www-authenticate"),
        Some("Basic realm=\"tokens\"")
    );
}

#[test]
fn rfc6749_5_2_invalid_client_without_header_is_never_unauthorized_client() {
    let f = Fixture::new();
    let o = f.token(
        "grant_type=client_credentials&client_id=post-client&client_secret=nope",
        None,
    );
    assert_error(&o, 401, "invalid_client");
    let o = f.token(CC, None);
    assert_error(&o, 401, "invalid_client");
}

// --- client_secret_post ---

#[test]
fn rfc6749_2_3_1_client_secret_post_is_opt_in() {
    let f = Fixture::new();
    let o = f.token(
        "grant_type=client_credentials&client_id=post-client&client_secret=post-secret-0123456789",
        None,
    );
    assert_eq!(assert_issued(&o)["scope"], "read");
    let o = f.token("grant_type=client_credentials&scope=read&client_id=basic-client&client_secret=basic-secret-0123456789", None);
    assert_error(&o, 401, "invalid_client");
}

// --- Grant processing and scope ---

#[test]
fn rfc6749_3_3_scope_outside_allow_list_is_invalid_scope() {
    let f = Fixture::new();
    assert_error(
        &f.token_basic(BASIC, "grant_type=client_credentials&scope=read+admin"),
        400,
        "invalid_scope",
    );
}

#[test]
fn rfc6749_3_3_omitted_scope_follows_the_client_policy() {
    let f = Fixture::new();
    assert_error(&f.token_basic(BASIC, CC), 400, "invalid_scope");
    assert_eq!(assert_issued(&f.token_basic(POST, CC))["scope"], "read");
    assert_eq!(
        assert_issued(&f.token_basic(ALL, CC))["scope"],
        "read write admin"
    );
}

#[test]
fn rfc6749_5_1_scope_is_returned_when_it_differs_from_the_request() {
    let f = Fixture::new();
    // Requested nothing, granted the default: scope must be present.
    let v = assert_issued(&f.token_basic(ALL, CC));
    assert_eq!(v["scope"], "read write admin");
    let v =
        assert_issued(&f.token_basic(ALL, "grant_type=client_credentials&scope=write+read+write"));
    assert_eq!(v["scope"], "write read");
}

#[test]
fn rfc6749_4_4_3_no_refresh_token() {
    let f = Fixture::new();
    let v = assert_issued(&f.token_basic(ALL, CC));
    assert!(v.get("refresh_token").is_none());
    let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["access_token", "expires_in", "scope", "token_type"]);
}

#[test]
fn rfc9700_4_15_subject_prefix_keeps_client_subjects_apart() {
    let f = Fixture::with(|b| {
        b.transport(jeton::Transport::Plaintext)
            .subject_prefix("client:")
    });
    let v = assert_issued(&f.token_basic(ALL, CC));
    let digest = TokenDigest::of(v["access_token"].as_str().unwrap());
    let rec = block_on(f.tokens.get(&digest)).unwrap().unwrap();
    assert_eq!(rec.claims.subject, "client:all-client");
    assert_eq!(rec.claims.client_id.as_str(), "all-client");
    // Without a prefix the subject is the client id (RFC 9068 §2.2).
    let f = Fixture::new();
    let v = assert_issued(&f.token_basic(ALL, CC));
    let rec = block_on(
        f.tokens
            .get(&TokenDigest::of(v["access_token"].as_str().unwrap())),
    )
    .unwrap()
    .unwrap();
    assert_eq!(rec.claims.subject, "all-client");
}

#[test]
fn rfc8707_2_resources_are_checked_and_become_the_audience() {
    let f = Fixture::new();
    let o = f.token_basic(
        RESOURCE,
        "grant_type=client_credentials&resource=https%3A%2F%2Fevil.example.com%2F",
    );
    assert_error(&o, 400, "invalid_target");
    let o = f.token_basic(
        RESOURCE,
        "grant_type=client_credentials&resource=https%3A%2F%2Fapi.example.com%2F%23frag",
    );
    assert_error(&o, 400, "invalid_target");
    let o = f.token_basic(
        RESOURCE,
        "grant_type=client_credentials&resource=%2Frelative",
    );
    assert_error(&o, 400, "invalid_target");
    let o = f.token_basic(RESOURCE, CC);
    assert_issued(&o);
    let AuditEvent::TokenIssued { audience, .. } = &o.event else {
        panic!()
    };
    assert_eq!(
        audience.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        ["https://api.example.com/"]
    );
    // A client with no default audience gets none, never its client id.
    let o = f.token_basic(ALL, CC);
    let AuditEvent::TokenIssued { audience, .. } = &o.event else {
        panic!()
    };
    assert!(audience.is_empty());
}

// --- Successful response ---

#[test]
fn rfc6749_5_1_success_shape() {
    let f = Fixture::new();
    let v = assert_issued(&f.token_basic(ALL, CC));
    assert_eq!(v["expires_in"], 300);
    let v = assert_issued(&f.token_basic(BASIC, "grant_type=client_credentials&scope=read"));
    assert_eq!(v["expires_in"], 900);
}

#[test]
fn rfc6749_10_10_tokens_are_random_prefixed_and_stored_only_as_digests() {
    let f = Fixture::new();
    let a = assert_issued(&f.token_basic(ALL, CC))["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = assert_issued(&f.token_basic(ALL, CC))["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(a, b);
    assert_eq!(a.len(), 52);
    assert!(jeton::internal::opaque_token_digest(&a).is_some());
    let rec = block_on(f.tokens.get(&TokenDigest::of(&a)))
        .unwrap()
        .unwrap();
    assert!(!format!("{rec:?}").contains(&a[3..]));
    assert_eq!(
        rec.claims.expires_at,
        now() + jeton::time::Duration::minutes(5)
    );
}

#[test]
fn rfc6749_10_3_secrets_never_echoed_in_body_or_event() {
    let f = Fixture::new();
    for (body, auth) in [
        ("grant_type=client_credentials&scope=read".to_owned(), Some(jeton::encode_basic(BASIC.id, "wrong-secret-zzz"))),
        ("grant_type=client_credentials&client_id=post-client&client_secret=wrong-secret-zzz".to_owned(), None),
        ("grant_type=client_credentials&client_id=post-client&client_secret=wrong-secret-zzz&scope=%ZZ".to_owned(), None),
    ] {
        let o = f.token(&body, auth.as_deref());
        let text = format!("{} {:?} {:?}", String::from_utf8_lossy(o.response.body()), o.event, o.response);
        assert!(!text.contains("wrong-secret-zzz"), "{text}");
        if let Some(a) = &auth {
            assert!(!text.contains(a.trim_start_matches("Basic ")));
        }
    }
    let o = f.token_basic(ALL, CC);
    let token = json(&o)["access_token"].as_str().unwrap().to_owned();
    assert!(!format!("{:?} {:?}", o.event, o.response).contains(&token));
}

// --- Error response / infrastructure ---

#[test]
fn rfc6749_5_2_store_failure_is_server_error_without_detail() {
    let tokens = Arc::new(jeton_memory::MemoryTokenStore::new());
    let engine = Engine::builder(
        Arc::new(FailingClientStore),
        Arc::new(jeton::OpaqueIssuer::new(
            tokens,
            Arc::new(SeqRandom::new(1)),
        )),
    )
    .random(std::sync::Arc::new(jeton::SystemRandom::new()))
    .transport(jeton::Transport::Plaintext)
    .build()
    .unwrap();
    let auth = basic(BASIC);
    let req =
        raw("POST", b"grant_type=client_credentials&scope=read").authorization(auth.as_bytes());
    let o = block_on(engine.handle_token_request(&req));
    assert_error(&o, 500, "server_error");
    let body = String::from_utf8_lossy(o.response.body()).into_owned();
    assert!(
        !body.contains("db-primary") && !body.contains("hunter2"),
        "{body}"
    );
    let diag = o.diagnostic.expect("diagnostic for the logs");
    let chain = format!("{diag} / {:?}", std::error::Error::source(&*diag));
    assert!(chain.contains("db-primary"));
    assert!(matches!(
        o.event,
        AuditEvent::ServerError {
            stage: "client_lookup",
            ..
        }
    ));
}

#[test]
fn rfc6749_5_2_issuer_failure_is_server_error_without_detail() {
    let clients = Arc::new(jeton_memory::MemoryClientStore::with_clients(
        fixture_clients(),
    ));
    let engine = Engine::builder(clients, Arc::new(FailingIssuer))
        .random(std::sync::Arc::new(jeton::SystemRandom::new()))
        .transport(jeton::Transport::Plaintext)
        .build()
        .unwrap();
    let auth = basic(BASIC);
    let req =
        raw("POST", b"grant_type=client_credentials&scope=read").authorization(auth.as_bytes());
    let o = block_on(engine.handle_token_request(&req));
    assert_error(&o, 500, "server_error");
    assert!(!String::from_utf8_lossy(o.response.body()).contains("hunter2"));
    assert!(o.diagnostic.is_some());
}

// --- Secret storage and lifecycle ---

#[test]
fn rfc9700_2_5_pbkdf2_verifiers_are_upgraded_on_successful_verify() {
    let target = NonZeroU32::new(2_000).unwrap();
    let f = Fixture::with(|b| {
        b.transport(jeton::Transport::Plaintext)
            .upgrade_pbkdf2_to(target, Arc::new(SeqRandom::new(9)))
    });
    let id = ClientId::new(PBKDF2.id).unwrap();
    let before = block_on(jeton::ClientStore::client(&*f.clients, &id))
        .unwrap()
        .unwrap();
    assert!(before.secrets[0].verifier.needs_upgrade(target));
    // A wrong secret upgrades nothing.
    assert_error(
        &f.token(CC, Some(&jeton::encode_basic(PBKDF2.id, "wrong"))),
        401,
        "invalid_client",
    );
    let same = block_on(jeton::ClientStore::client(&*f.clients, &id))
        .unwrap()
        .unwrap();
    assert_eq!(same, before);
    assert_issued(&f.token_basic(PBKDF2, CC));
    let after = block_on(jeton::ClientStore::client(&*f.clients, &id))
        .unwrap()
        .unwrap();
    assert!(!after.secrets[0].verifier.needs_upgrade(target));
    assert!(
        after.secrets[0]
            .verifier
            .to_string()
            .starts_with("$pbkdf2-sha256$i=2000$")
    );
    // The secret still works after the upgrade.
    assert_issued(&f.token_basic(PBKDF2, CC));
}

#[test]
fn rotation_old_expired_secret_fails_new_one_works() {
    let f = Fixture::new();
    assert_issued(&f.token_basic(ROTATING, CC));
    let o = f.token(
        CC,
        Some(&jeton::encode_basic(ROTATING.id, ROTATING_OLD_SECRET)),
    );
    assert_error(&o, 401, "invalid_client");
    let wrong = f.token(
        CC,
        Some(&jeton::encode_basic(ROTATING.id, "neither-secret")),
    );
    assert_eq!(o.response, wrong.response);
    // Before its expiry the old secret still worked (overlap).
    let auth = jeton::encode_basic(ROTATING.id, ROTATING_OLD_SECRET);
    let earlier = now() - jeton::time::Duration::hours(2);
    let req = RawRequest::new("POST", CC.as_bytes(), earlier)
        .content_type(b"application/x-www-form-urlencoded")
        .authorization(auth.as_bytes());
    assert_issued(&block_on(f.engine.handle_token_request(&req)));
}

#[test]
fn audit_event_for_issue_names_client_scope_and_expiry() {
    let f = Fixture::new();
    let o = f.token_basic(ALL, CC);
    let AuditEvent::TokenIssued {
        client_id,
        scope,
        expires_at,
        ..
    } = &o.event
    else {
        panic!()
    };
    assert_eq!(client_id.as_str(), "all-client");
    assert_eq!(scope.to_string(), "read write admin");
    assert_eq!(*expires_at, now() + jeton::time::Duration::minutes(5));
    assert_eq!(o.event.outcome(), "issued");
}

#[test]
fn engine_config_is_validated() {
    let b = || {
        Engine::builder(Arc::new(FailingClientStore), Arc::new(FailingIssuer))
            .random(std::sync::Arc::new(jeton::SystemRandom::new()))
    };
    assert!(b().realm("a\"b").build().is_err());
    assert!(b().realm("").build().is_err());
    assert!(b().max_body_bytes(10).build().is_err());
    assert!(
        b().default_token_lifetime(jeton::time::Duration::ZERO)
            .build()
            .is_err()
    );
    assert!(b().subject_prefix("a b").build().is_err());
    assert!(b().build().is_ok());
}

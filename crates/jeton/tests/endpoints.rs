//! Introspection (RFC 7662), revocation (RFC 7009) and metadata (RFC 8414) with opaque tokens.

use jeton::{AuditEvent, RouteKind};
use jeton_testkit::*;

fn introspect(f: &Fixture, caller: FixtureClient, token: &str) -> jeton::Outcome {
    let auth = jeton::encode_basic(caller.id, caller.secret);
    f.call(
        Endpoint::Introspection,
        &format!("token={token}"),
        Some(&auth),
    )
}

fn revoke(f: &Fixture, caller: FixtureClient, body: &str) -> jeton::Outcome {
    let auth = jeton::encode_basic(caller.id, caller.secret);
    f.call(Endpoint::Revocation, body, Some(&auth))
}

fn assert_inactive(o: &jeton::Outcome) {
    assert_eq!(o.response.status(), 200);
    assert_eq!(o.response.body(), br#"{"active":false}"#);
    assert_eq!(o.response.header("cache-control"), Some("no-store"));
}

// --- Introspection ---

#[test]
fn rfc7662_2_1_caller_must_authenticate() {
    let f = Fixture::new();
    let t = f.issue(ALL, "");
    for auth in [
        None,
        Some(jeton::encode_basic(INTROSPECTOR.id, "wrong")),
        Some(jeton::encode_basic("nobody", "x")),
    ] {
        let o = f.call(
            Endpoint::Introspection,
            &format!("token={t}"),
            auth.as_deref(),
        );
        assert_eq!(o.response.status(), 401);
        assert_eq!(error_code(&o).as_deref(), Some("invalid_client"));
        assert!(o.response.header("www-authenticate").is_some());
    }
}

#[test]
fn rfc7662_2_1_caller_must_be_allowed_to_introspect() {
    let f = Fixture::new();
    let t = f.issue(ALL, "");
    let denied = introspect(&f, BASIC, &t);
    assert_eq!(denied.response.status(), 401);
    assert_eq!(error_code(&denied).as_deref(), Some("invalid_client"));
    // Indistinguishable from a failed authentication.
    let wrong = f.call(
        Endpoint::Introspection,
        &format!("token={t}"),
        Some(&jeton::encode_basic(BASIC.id, "wrong")),
    );
    assert_eq!(denied.response, wrong.response);
    let AuditEvent::ClientAuthenticationFailed { reason, .. } = denied.event else {
        panic!()
    };
    assert_eq!(reason, jeton::AuthFailure::NotPermitted);
}

#[test]
fn rfc7662_2_2_active_token_answers_its_claims() {
    let f = Fixture::new();
    let t = f.issue(RESOURCE, "&resource=https%3A%2F%2Fapi.example.com%2F");
    let o = introspect(&f, INTROSPECTOR, &t);
    assert_eq!(o.response.status(), 200);
    assert_eq!(o.response.header("cache-control"), Some("no-store"));
    let v = json(&o);
    assert_eq!(v["active"], true);
    assert_eq!(v["scope"], "read");
    assert_eq!(v["client_id"], "resource-client");
    assert_eq!(v["sub"], "resource-client");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["aud"], "https://api.example.com/");
    assert_eq!(v["iss"], ISSUER);
    assert_eq!(v["iat"], now().unix_timestamp());
    assert_eq!(
        v["exp"],
        (now() + jeton::time::Duration::minutes(15)).unix_timestamp()
    );
    let AuditEvent::TokenIntrospected { active, .. } = o.event else {
        panic!()
    };
    assert!(active);
}

#[test]
fn rfc7662_2_2_several_audiences_are_an_array() {
    let f = Fixture::new();
    let t = f.issue(
        RESOURCE,
        "&resource=https%3A%2F%2Fapi.example.com%2F&resource=https%3A%2F%2Fother.example.com%2F",
    );
    let v = json(&introspect(&f, INTROSPECTOR, &t));
    assert_eq!(
        v["aud"],
        serde_json::json!(["https://api.example.com/", "https://other.example.com/"])
    );
}

#[test]
fn rfc7662_2_2_unknown_malformed_expired_revoked_are_just_inactive() {
    let f = Fixture::new();
    let t = f.issue(ALL, "");
    // Malformed, unknown (valid shape, never issued), garbage.
    let unknown = {
        let other = Fixture::seeded(7, |b| b.transport(jeton::Transport::Plaintext));
        other.issue(BASIC, "&scope=read")
    };
    for bad in ["x", "jt_nope", &unknown, "%E2%82%AC"] {
        assert_inactive(&introspect(&f, INTROSPECTOR, bad));
    }
    // Expired: introspect after its 5-minute lifetime.
    let auth = jeton::encode_basic(INTROSPECTOR.id, INTROSPECTOR.secret);
    let body = format!("token={t}");
    let later = now() + jeton::time::Duration::minutes(5);
    let req = jeton::RawRequest::new("POST", body.as_bytes(), later)
        .content_type(b"application/x-www-form-urlencoded")
        .authorization(auth.as_bytes());
    assert_inactive(&block_on(f.engine.handle_introspection_request(&req)));
    // Revoked.
    assert_eq!(
        revoke(&f, ALL, &format!("token={t}")).response.status(),
        200
    );
    assert_inactive(&introspect(&f, INTROSPECTOR, &t));
}

#[test]
fn rfc7662_4_callers_can_be_restricted_to_their_audience() {
    let f = Fixture::new();
    let rng = SeqRandom::new(5);
    f.clients.put(
        jeton::ClientRecord::builder(jeton::ClientId::new("api-rs").unwrap())
            .secret(jeton::SecretVerifier::hmac_sha256("api-rs-secret", &rng).unwrap())
            .may_introspect(true)
            .introspect_audiences([jeton::Resource::new("https://other.example.com/").unwrap()])
            .build(),
    );
    let rs = FixtureClient {
        id: "api-rs",
        secret: "api-rs-secret",
    };
    let for_api = f.issue(RESOURCE, "");
    let for_other = f.issue(RESOURCE, "&resource=https%3A%2F%2Fother.example.com%2F");
    assert_inactive(&introspect(&f, rs, &for_api));
    assert_eq!(json(&introspect(&f, rs, &for_other))["active"], true);
}

#[test]
fn rfc7662_2_1_token_parameter_is_required_and_single() {
    let f = Fixture::new();
    let auth = jeton::encode_basic(INTROSPECTOR.id, INTROSPECTOR.secret);
    let o = f.call(
        Endpoint::Introspection,
        "token_type_hint=access_token",
        Some(&auth),
    );
    assert_eq!(error_code(&o).as_deref(), Some("invalid_request"));
    let o = f.call(Endpoint::Introspection, "token=a&token=b", Some(&auth));
    assert_eq!(error_code(&o).as_deref(), Some("invalid_request"));
    // Unauthenticated comes first: 401 even without a token.
    let o = f.call(
        Endpoint::Introspection,
        "token_type_hint=access_token",
        None,
    );
    assert_eq!(o.response.status(), 401);
    let o = f.call(Endpoint::Revocation, "", None);
    assert_eq!(o.response.status(), 401);
}

// --- Revocation ---

#[test]
fn rfc7009_2_1_caller_must_authenticate_first() {
    let f = Fixture::new();
    let t = f.issue(ALL, "");
    for auth in [None, Some(jeton::encode_basic(ALL.id, "wrong"))] {
        let o = f.call(Endpoint::Revocation, &format!("token={t}"), auth.as_deref());
        assert_eq!(o.response.status(), 401);
        assert_eq!(error_code(&o).as_deref(), Some("invalid_client"));
    }
    // Still active.
    assert_eq!(json(&introspect(&f, INTROSPECTOR, &t))["active"], true);
}

#[test]
fn rfc7009_2_2_unknown_token_is_200_with_empty_body() {
    let f = Fixture::new();
    for body in [
        "token=garbage",
        "token=jt_x&token_type_hint=refresh_token",
        "token=x&token_type_hint=weird",
    ] {
        let o = revoke(&f, ALL, body);
        assert_eq!(o.response.status(), 200);
        assert!(o.response.body().is_empty());
        assert_eq!(o.response.header("cache-control"), Some("no-store"));
    }
}

#[test]
fn rfc7009_2_1_another_clients_token_is_refused_and_stays_active() {
    let f = Fixture::new();
    let t = f.issue(ALL, "");
    let o = revoke(&f, BASIC, &format!("token={t}"));
    assert_eq!(o.response.status(), 400);
    assert_eq!(error_code(&o).as_deref(), Some("unauthorized_client"));
    assert_eq!(json(&introspect(&f, INTROSPECTOR, &t))["active"], true);
}

#[test]
fn rfc7009_2_1_revoked_token_is_inactive_at_once_whatever_the_hint() {
    let f = Fixture::new();
    for hint in [
        "",
        "&token_type_hint=access_token",
        "&token_type_hint=refresh_token",
        "&token_type_hint=unknown",
    ] {
        let t = f.issue(ALL, "");
        let o = revoke(&f, ALL, &format!("token={t}{hint}"));
        assert_eq!(o.response.status(), 200, "{hint}");
        let AuditEvent::TokenRevoked { found, .. } = o.event else {
            panic!()
        };
        assert!(found);
        assert_inactive(&introspect(&f, INTROSPECTOR, &t));
        // Revoking again is still a success.
        assert_eq!(
            revoke(&f, ALL, &format!("token={t}")).response.status(),
            200
        );
    }
}

#[test]
fn rfc7009_2_1_revocation_is_post_only() {
    let f = Fixture::new();
    let auth = jeton::encode_basic(ALL.id, ALL.secret);
    let req = jeton::RawRequest::new("GET", b"", now()).authorization(auth.as_bytes());
    let o = block_on(f.engine.handle_revocation_request(&req));
    assert_eq!(o.response.status(), 405);
}

// --- Metadata ---

#[test]
fn rfc8414_2_metadata_matches_the_behaviour() {
    let f = Fixture::new();
    let r = f.engine.metadata_document().expect("issuer configured");
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
    assert_eq!(v["issuer"], ISSUER);
    assert_eq!(v["token_endpoint"], "https://as.example.com/token");
    assert_eq!(
        v["introspection_endpoint"],
        "https://as.example.com/introspect"
    );
    assert_eq!(v["revocation_endpoint"], "https://as.example.com/revoke");
    assert_eq!(
        v["grant_types_supported"],
        serde_json::json!(["client_credentials"])
    );
    let methods = serde_json::json!(["client_secret_basic", "client_secret_post"]);
    assert_eq!(v["token_endpoint_auth_methods_supported"], methods);
    assert_eq!(v["introspection_endpoint_auth_methods_supported"], methods);
    assert_eq!(v["revocation_endpoint_auth_methods_supported"], methods);
    // Opaque tokens: no keys, so no jwks_uri; never a signing-alg list for client auth.
    assert!(v.get("jwks_uri").is_none());
    assert!(
        v.get("token_endpoint_auth_signing_alg_values_supported")
            .is_none()
    );
    assert!(v.get("scopes_supported").is_none());
    assert_eq!(
        f.engine.issuer().unwrap().metadata_path(),
        "/.well-known/oauth-authorization-server"
    );
    assert!(f.engine.jwks_document().is_none());
}

#[test]
fn rfc8414_2_body_credentials_off_means_not_advertised_and_refused() {
    let f = Fixture::with(|b| {
        b.transport(jeton::Transport::Plaintext)
            .allow_client_secret_post(false)
            .scopes_supported(jeton::Scope::parse("read write").unwrap())
    });
    let v: serde_json::Value =
        serde_json::from_slice(f.engine.metadata_document().unwrap().body()).unwrap();
    assert_eq!(
        v["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic"])
    );
    assert_eq!(v["scopes_supported"], serde_json::json!(["read", "write"]));
    let o = f.token(
        "grant_type=client_credentials&client_id=post-client&client_secret=post-secret-0123456789",
        None,
    );
    assert_eq!(o.response.status(), 401);
}

#[test]
fn rfc8414_2_no_issuer_no_metadata() {
    let f = Fixture::new();
    let e = jeton::Engine::builder(f.clients.clone(), std::sync::Arc::new(FailingIssuer))
        .random(std::sync::Arc::new(jeton::SystemRandom::new()))
        .build()
        .unwrap();
    assert!(e.metadata_document().is_none());
}

// --- Routes ---

fn paths(routes: &[jeton::Route]) -> Vec<(&str, RouteKind)> {
    routes.iter().map(|r| (r.path.as_str(), r.kind)).collect()
}

#[test]
fn rfc8414_3_routes_follow_the_configured_endpoints_and_issuer_path() {
    let f = Fixture::new();
    assert_eq!(
        paths(&f.engine.routes()),
        [
            ("/token", RouteKind::Token),
            ("/introspect", RouteKind::Introspection),
            ("/revoke", RouteKind::Revocation),
            ("/jwks.json", RouteKind::Jwks),
            (
                "/.well-known/oauth-authorization-server",
                RouteKind::Metadata
            ),
        ]
    );
    let f = Fixture::with(|b| {
        b.issuer(jeton::IssuerId::new("https://as.example.com/tenant/a").unwrap())
            .endpoints(jeton::Endpoints::new(
                "https://as.example.com/tenant/a/token?x=1".into(),
                Some("https://as.example.com/tenant/a/introspect".into()),
                None,
                None,
            ))
    });
    assert_eq!(
        paths(&f.engine.routes()),
        [
            ("/tenant/a/token", RouteKind::Token),
            ("/tenant/a/introspect", RouteKind::Introspection),
            (
                "/.well-known/oauth-authorization-server/tenant/a",
                RouteKind::Metadata
            ),
        ]
    );
}

#[test]
fn an_engine_without_endpoints_is_routed_on_token_only() {
    let f = Fixture::new();
    let e = jeton::Engine::builder(f.clients.clone(), std::sync::Arc::new(FailingIssuer))
        .random(std::sync::Arc::new(jeton::SystemRandom::new()))
        .build()
        .unwrap();
    assert_eq!(paths(&e.routes()), [("/token", RouteKind::Token)]);
}

#[test]
fn rfc6749_3_1_a_path_shared_by_two_endpoints_goes_to_the_first() {
    let f = Fixture::with(|b| {
        b.endpoints(jeton::Endpoints::new(
            "https://as.example.com/oauth".into(),
            Some("https://as.example.com/oauth?introspect".into()),
            Some("https://as.example.com/revoke".into()),
            Some("https://as.example.com/.well-known/oauth-authorization-server".into()),
        ))
    });
    assert_eq!(
        paths(&f.engine.routes()),
        [
            ("/oauth", RouteKind::Token),
            ("/revoke", RouteKind::Revocation),
            ("/.well-known/oauth-authorization-server", RouteKind::Jwks),
        ]
    );
}

#[test]
fn handle_dispatches_each_form_endpoint_and_refuses_documents() {
    let f = Fixture::new();
    let t = f.issue(ALL, "");
    let body = format!("token={t}");
    let auth = jeton::encode_basic(INTROSPECTOR.id, INTROSPECTOR.secret);
    let req = jeton::RawRequest::new("POST", body.as_bytes(), now())
        .content_type(b"application/x-www-form-urlencoded")
        .authorization(auth.as_bytes());
    let o = block_on(f.engine.handle(RouteKind::Introspection, &req));
    assert_eq!(o.event.outcome(), "introspected");
    let direct = introspect(&f, INTROSPECTOR, &t);
    assert_eq!((o.response, o.event), (direct.response, direct.event));
    let o = block_on(f.engine.handle(RouteKind::Token, &req));
    assert_eq!(error_code(&o).as_deref(), Some("invalid_request"));
    let o = block_on(f.engine.handle(RouteKind::Revocation, &req));
    assert_eq!(o.event.outcome(), "rejected");
    assert_eq!(error_code(&o).as_deref(), Some("unauthorized_client"));

    for kind in [RouteKind::Metadata, RouteKind::Jwks] {
        assert!(!kind.is_form());
        let o = block_on(f.engine.handle(kind, &req));
        assert_eq!(o.response.status(), 500, "{kind:?}");
        assert_eq!(error_code(&o).as_deref(), Some("server_error"));
        assert!(matches!(
            o.event,
            AuditEvent::ServerError { stage: "route", .. }
        ));
        assert!(o.diagnostic.is_some());
    }
}

#[test]
fn rfc8414_3_documents_by_route() {
    let f = Fixture::new();
    assert_eq!(
        f.engine.document(RouteKind::Metadata),
        f.engine.metadata_document()
    );
    assert!(f.engine.document(RouteKind::Metadata).is_some());
    // Opaque tokens: no keys.
    assert_eq!(f.engine.document(RouteKind::Jwks), None);
    for kind in [
        RouteKind::Token,
        RouteKind::Introspection,
        RouteKind::Revocation,
    ] {
        assert!(kind.is_form());
        assert_eq!(f.engine.document(kind), None, "{kind:?}");
    }
    let names = [
        RouteKind::Token,
        RouteKind::Introspection,
        RouteKind::Revocation,
        RouteKind::Metadata,
        RouteKind::Jwks,
    ]
    .map(RouteKind::name);
    assert_eq!(
        names,
        ["token", "introspection", "revocation", "metadata", "jwks"]
    );
}

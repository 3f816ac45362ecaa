//! Replays every committed fuzz seed (`fuzz/seeds/<target>/*`) through the same checks the
//! cargo-fuzz targets run (`jeton_testkit::fuzzing`), so `cargo test` catches a regression on
//! any input the fuzzers were given or found, without nightly or cargo-fuzz.

use jeton_testkit::fuzzing::{Check, FuzzRequest, TARGETS, seeds_dir};
use jeton_testkit::{Fixture, block_on};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

/// The seed files of `target`, sorted. Fails if the directory is missing or empty: a replay
/// that finds nothing to replay must not pass.
fn seeds(target: &str) -> Vec<PathBuf> {
    let dir = seeds_dir().join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("seed directory {} unreadable: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    assert!(!files.is_empty(), "no seeds in {}", dir.display());
    files.sort();
    files
}

fn replay(target: &str) {
    let check: Check = TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, check)| *check)
        .unwrap_or_else(|| panic!("unknown target {target}"));
    let failed: Vec<String> = seeds(target)
        .into_iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("readable seed");
            catch_unwind(AssertUnwindSafe(|| check(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(failed.is_empty(), "seeds failing {target}: {failed:#?}");
}

#[test]
fn every_target_has_a_seed_directory() {
    for (target, _) in TARGETS {
        assert!(!seeds(target).is_empty());
    }
}

#[test]
fn form_seeds() {
    replay("form");
}

#[test]
fn basic_seeds() {
    replay("basic");
}

#[test]
fn scope_seeds() {
    replay("scope");
}

#[test]
fn jwt_seeds() {
    replay("jwt");
}

/// The valid JWT seed must still validate, or the fuzzer would lose the accepted path.
#[test]
fn jwt_valid_seed_is_accepted() {
    let data = std::fs::read(seeds_dir().join("jwt").join("valid-es256")).expect("seed");
    let (header, payload) = data[2..].split_at(usize::from(data[1]));
    let token =
        jeton::internal::sign_compact(jeton_testkit::fuzzing::jwt_test_key(), header, payload)
            .unwrap();
    let key = jeton_testkit::fuzzing::jwt_test_key()
        .verifying_key()
        .clone();
    let v = jeton::BearerValidator::builder(
        jeton_testkit::fuzzing::JWT_ISSUER,
        jeton_testkit::fuzzing::JWT_AUDIENCE,
        jeton::Jwks::new([key]).unwrap(),
    )
    .build()
    .unwrap();
    let read = jeton::Scope::parse("read").unwrap();
    assert!(v.validate_jwt(&token, jeton_testkit::now(), &read).is_ok());
}

#[test]
fn keyauth_seeds() {
    replay("keyauth");
}

/// The valid assertion and proof seeds must still be accepted, or the fuzzer would lose the
/// accepted paths.
#[test]
fn keyauth_valid_seeds_are_accepted() {
    use jeton::internal::assertion::{
        AssertionPolicy, ClientAssertion, JWT_BEARER_ASSERTION_TYPE, verify_client_assertion,
    };
    let key = jeton_testkit::fuzzing::jwt_test_key();
    let sign = |name: &str| {
        let data = std::fs::read(seeds_dir().join("keyauth").join(name)).expect("seed");
        let (header, payload) = data[2..].split_at(usize::from(data[1]));
        jeton::internal::sign_compact(key, header, payload).unwrap()
    };
    let assertion = sign("assertion-valid");
    let keys =
        jeton::ClientKeys::new(jeton::Algorithm::Es256, [key.verifying_key().clone()]).unwrap();
    let a = ClientAssertion {
        assertion_type: JWT_BEARER_ASSERTION_TYPE,
        assertion: &assertion,
        client_id: None,
    };
    let policy = AssertionPolicy::new(
        jeton_testkit::fuzzing::JWT_ISSUER,
        jeton_testkit::fuzzing::KEYAUTH_TOKEN_URL,
    );
    let svc = jeton::ClientId::new("svc").unwrap();
    verify_client_assertion(&a, &svc, &keys, &policy, jeton_testkit::now()).expect("assertion");
    let proof = sign("dpop-valid");
    let values: jeton::HeaderValues<'_> = std::iter::once(proof.as_bytes()).collect();
    let check = jeton::DpopCheck::new("POST", jeton_testkit::fuzzing::KEYAUTH_TOKEN_URL);
    jeton::verify_dpop_proof(&values, &check, jeton_testkit::now()).expect("proof");
}

#[test]
fn resource_request_seeds() {
    replay("resource_request");
}

/// The seeds of well-made requests must still be accepted, or the fuzzer would lose the
/// accepted paths (and the replay check behind them).
#[test]
fn resource_request_valid_seeds_are_accepted() {
    use jeton_testkit::fuzzing::ResourceFuzzRequest;
    use jeton_testkit::resource_check::{API_HOST, api_route};
    for name in [
        "dpop-valid",
        "dpop-valid-scope-required",
        "dpop-lowercase-scheme",
        "dpop-htu-query-ignored",
        "dpop-host-header",
        "bearer-valid",
    ] {
        let data = std::fs::read(seeds_dir().join("resource_request").join(name)).expect(name);
        let req = ResourceFuzzRequest::parse(&data);
        let route = api_route(req.required.clone());
        let url = route.request_url(req.host.as_deref(), Some(API_HOST), &req.path);
        let answer = block_on(route.check_request(&req.parts(&url), jeton_testkit::now()));
        assert!(answer.is_ok(), "{name}: {answer:?}");
    }
}

#[test]
fn token_request_seeds() {
    replay("token_request");
}

/// The success seeds must still succeed: if a fixture changes under them, the fuzzer would
/// silently lose the whole issuing path.
#[test]
fn token_request_success_seeds_issue_a_token() {
    let f = Fixture::with(|b| b.transport(jeton::Transport::Direct));
    for name in [
        "basic-ok",
        "rfc6749-vector",
        "post-credentials",
        "resources",
        "pbkdf2-client",
    ] {
        let data = std::fs::read(seeds_dir().join("token_request").join(name)).expect(name);
        let req = FuzzRequest::parse(&data);
        let outcome = block_on(f.engine.handle_token_request(&req.raw()));
        assert_eq!(outcome.response.status(), 200, "{name}");
    }
}

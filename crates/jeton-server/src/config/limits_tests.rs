//! `[limits]` (issue 9): every key read and resolved, bad values refused with file, line and
//! key; and no configuration error ever prints a secret.

use super::*;

const VERIFIER: &str =
    "$hmac-sha256$AAECAwQFBgcICQoLDA0ODw$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

fn check(text: &str) -> Result<Settings, String> {
    parse(Path::new("jeton.toml"), text, Path::new("."), None).map_err(|e| e.to_string())
}

fn with_limits(limits: &str) -> String {
    format!(
        "issuer = \"http://127.0.0.1:8080\"\n[[clients]]\nid = \"a\"\nsecrets = [\"{VERIFIER}\"]\n\
         [limits]\n{limits}"
    )
}

#[test]
fn every_limit_is_read_and_the_defaults_fill_the_rest() {
    let s = check(&with_limits("")).unwrap();
    assert_eq!(s.limits, LimitOptions::default());
    let s = check(&with_limits(
        "failures_per_source = 7\nfailures_per_client_source = 3\nfailure_window = \"2m\"\n\
         verify_pool = 4\nmax_tokens = 1000\nmax_tokens_per_client = 10\npurge_interval = \"1s\"\n\
         max_connections_per_peer = 8\nmin_body_rate = 100\nbody_grace = \"3s\"\n",
    ))
    .unwrap();
    let l = &s.limits;
    assert_eq!(
        (
            l.failures_per_source,
            l.failures_per_client_source,
            l.verify_pool
        ),
        (7, 3, 4)
    );
    assert_eq!(l.failure_window, std::time::Duration::from_secs(120));
    assert_eq!((l.max_tokens, l.max_tokens_per_client), (1000, 10));
    assert_eq!(l.purge_interval, std::time::Duration::from_secs(1));
    assert_eq!((l.max_connections_per_peer, l.min_body_rate), (8, 100));
    assert_eq!(l.body_grace, std::time::Duration::from_secs(3));
}

#[test]
fn bad_limits_are_refused_with_file_line_and_key() {
    let e = check(&with_limits("max_tokens = 0\n")).unwrap_err();
    assert!(
        e.starts_with("jeton.toml:6:14: limits.max_tokens: must be at least 1"),
        "{e}"
    );
    let e = check(&with_limits("min_body_rate = 0\nverify_pool = 0\n")).unwrap_err();
    assert!(
        e.contains("jeton.toml:6:17: limits.min_body_rate: must be at least 1"),
        "{e}"
    );
    assert!(
        e.contains("jeton.toml:7:15: limits.verify_pool: must be at least 1"),
        "{e}"
    );
    let e = check(&with_limits("body_grace = \"0s\"\n")).unwrap_err();
    assert!(
        e.starts_with("jeton.toml:6:14: limits.body_grace: a duration must be positive"),
        "{e}"
    );
    let e = check(&with_limits("max_tokens = -1\n")).unwrap_err();
    assert!(e.starts_with("jeton.toml:6:14: limits.max_tokens: "), "{e}");
    let e = check(&with_limits("max_conections_per_peer = 2\n")).unwrap_err();
    assert!(
        e.starts_with("jeton.toml:6:1: limits.max_conections_per_peer: unknown field"),
        "{e}"
    );
}

#[test]
fn issue_9_a_config_error_never_prints_a_secret() {
    let secret = "jcs_Q2xpZW50U2VjcmV0VGhhdElzTG9uZ0Vub3VnaF8xMjM0NTY3OA_abc";
    // A string where a list is expected: the toml error quotes the value it refused.
    for value in [
        format!("\"{secret}\""),
        format!("[\"{secret}\"]"),
        format!("[{{ verifier = \"{secret}\" }}]"),
        format!("[{{ verifier = 12, expires_at = \"{secret}\" }}]"),
        "\"hunter2-hunter2\"".to_owned(),
        "42".to_owned(),
    ] {
        let text = format!(
            "issuer = \"http://127.0.0.1:8080\"\n[[clients]]\nid = \"a\"\nsecrets = {value}\n"
        );
        let e = check(&text).unwrap_err();
        assert!(e.starts_with("jeton.toml:4:"), "{e}");
        assert!(!e.contains("Q2xpZW50"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
    }
    // A secret pasted anywhere else is not echoed either.
    for text in [
        format!("issuer = \"{secret}\"\n"),
        format!("issuer = \"http://127.0.0.1:8080\"\nsubject_prefix = [\"{secret}\"]\n"),
        format!("issuer = \"http://127.0.0.1:8080\"\n[limits]\nmax_tokens = \"{secret}\"\n"),
    ] {
        let e = check(&text).unwrap_err();
        assert!(!e.contains("Q2xpZW50"), "{e}");
    }
}

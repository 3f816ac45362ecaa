//! `[dpop]` and the rule that turns private_key_jwt and DPoP on: every key read, every bound,
//! the key file (never echoed), the rule per store, and what `config check` says.

use super::key_auth::*;
use super::tests::VERIFIER;
use super::*;
use jeton::time::OffsetDateTime;
const JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"2cmBxO8ooXNO_S__BFEoR-D2QIwOlo7pl2Uf-UsPbIk","y":"4vUaxyvpOCbZrQPMOxVP-OJOIFDs6m9KGRwYd9-cZRw","kid":"k1"}]}"#;
const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn check_in(dir: &Path, text: &str) -> Result<Settings, String> {
    parse(Path::new("jeton.toml"), text, dir, None).map_err(|e| e.to_string())
}

fn check(text: &str) -> Result<Settings, String> {
    check_in(Path::new("."), text)
}

/// A memory deployment with one secret client, then `extra` (tables at the end).
fn config(store: &str, extra: &str) -> String {
    format!(
        "issuer = \"http://127.0.0.1:8080\"\n[store]\nurl = \"{store}\"\n\
         [[clients]]\nid = \"a\"\nsecrets = [\"{VERIFIER}\"]\n{extra}"
    )
}

fn with_dpop(dpop: &str) -> String {
    config("memory", &format!("[dpop]\n{dpop}"))
}

#[test]
fn rfc9449_8_nonces_are_off_by_default_and_on_with_a_five_minute_period() {
    let s = check(&config("memory", "")).unwrap();
    assert_eq!(s.dpop, DpopOptions::default());
    assert!(s.dpop.nonces.is_none());
    let s = check(&with_dpop("nonces = true\n")).unwrap();
    let n = s.dpop.nonces.as_ref().expect("nonces");
    assert_eq!(n.period, Duration::minutes(5));
    assert_eq!(n.key, NonceKey::PerProcess);
    let s = check(&with_dpop("nonces = true\nnonce_period = \"90s\"\n")).unwrap();
    assert_eq!(s.dpop.nonces.unwrap().period, Duration::seconds(90));
}

#[test]
fn rfc9449_8_nonce_period_is_between_ten_seconds_and_one_hour() {
    for (period, ok) in [("9s", false), ("10s", true), ("1h", true), ("3601s", false)] {
        let r = check(&with_dpop(&format!(
            "nonces = true\nnonce_period = \"{period}\"\n"
        )));
        assert_eq!(r.is_ok(), ok, "{period}: {r:?}");
        if let Err(e) = r {
            assert!(
                e.contains("jeton.toml:9:16: dpop.nonce_period: must be between 10s and 1h"),
                "{e}"
            );
        }
    }
}

#[test]
fn nonce_settings_without_nonces_and_unknown_keys_are_refused() {
    let e = check(&with_dpop("nonce_period = \"1m\"\n")).unwrap_err();
    assert!(
        e.contains("dpop.nonces: nonce_period and nonce_key_file apply only with nonces = true"),
        "{e}"
    );
    let e = check(&with_dpop("nonce_key_file = \"k\"\n")).unwrap_err();
    assert!(e.contains("apply only with nonces = true"), "{e}");
    let e = check(&with_dpop("nonces = true\nnonce_key = \"x\"\n")).unwrap_err();
    assert!(
        e.contains("jeton.toml:9:1: dpop.nonce_key: unknown field"),
        "{e}"
    );
}

#[test]
fn rfc9449_8_the_nonce_key_file_holds_32_hex_bytes_and_is_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.key"), format!("{HEX_KEY}\n")).unwrap();
    let s = check_in(
        dir.path(),
        &with_dpop("nonces = true\nnonce_key_file = \"good.key\"\n"),
    )
    .unwrap();
    let n = s.dpop.nonces.as_ref().unwrap();
    let expected: Vec<u8> = (0u8..32).collect();
    match &n.key {
        NonceKey::File { path, key } => {
            assert_eq!(path, Path::new("good.key"));
            assert_eq!(key.0.to_vec(), expected);
            assert!(!format!("{key:?}").contains("01"), "Debug hides the key");
        }
        other => panic!("{other:?}"),
    }
    assert!(!format!("{s:?}").contains(HEX_KEY));

    let secret_looking = "deadbeefdeadbeefdeadbeef";
    for (name, content) in [
        ("short.key", secret_looking.to_owned()),
        ("long.key", format!("{HEX_KEY}00")),
        ("nothex.key", format!("{}zz", &HEX_KEY[..62])),
        (
            "b64.key",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned(),
        ),
    ] {
        std::fs::write(dir.path().join(name), &content).unwrap();
        let e = check_in(
            dir.path(),
            &with_dpop(&format!("nonces = true\nnonce_key_file = \"{name}\"\n")),
        )
        .unwrap_err();
        assert!(
            e.contains(&format!(
                "dpop.nonce_key_file: {name}: must hold 32 random bytes as 64 hexadecimal digits"
            )),
            "{e}"
        );
        assert!(!e.contains(&content), "never echoed: {e}");
    }
    // The file is read up to 1 KiB: a key with 960 bytes of trailing blanks is still read, a
    // larger file is refused unread.
    for (pad, ok) in [(1024 - 64, true), (1024 - 64 + 1, false)] {
        std::fs::write(
            dir.path().join("padded.key"),
            format!("{HEX_KEY}{}", " ".repeat(pad)),
        )
        .unwrap();
        let r = check_in(
            dir.path(),
            &with_dpop("nonces = true\nnonce_key_file = \"padded.key\"\n"),
        );
        assert_eq!(r.is_ok(), ok, "{pad}: {r:?}");
        if let Err(e) = r {
            assert!(e.contains("padded.key: file larger than 1024 bytes"), "{e}");
        }
    }
    let e = check_in(
        dir.path(),
        &with_dpop("nonces = true\nnonce_key_file = \"missing.key\"\n"),
    )
    .unwrap_err();
    assert!(
        e.contains("dpop.nonce_key_file: missing.key: cannot read"),
        "{e}"
    );
}

#[test]
fn rfc9449_8_nodes_with_one_key_file_make_the_same_nonces_others_do_not() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("n.key"), HEX_KEY).unwrap();
    let shared = check_in(
        dir.path(),
        &with_dpop("nonces = true\nnonce_key_file = \"n.key\"\n"),
    )
    .unwrap();
    let per_process = check(&with_dpop("nonces = true\n")).unwrap();
    let rng = jeton::SystemRandom::new();
    let now = OffsetDateTime::now_utc();
    let current = |s: &Settings| s.dpop_nonces(&rng).unwrap().expect("nonces").current(now);
    assert_eq!(current(&shared), current(&shared), "one key: one nonce");
    assert_ne!(
        current(&per_process),
        current(&per_process),
        "a key per process"
    );
    assert!(
        check(&config("memory", ""))
            .unwrap()
            .dpop_nonces(&rng)
            .unwrap()
            .is_none()
    );
}

#[test]
fn key_auth_is_on_for_sql_stores_key_clients_and_nonces_only() {
    let key_client = format!(
        "[[clients]]\nid = \"svc\"\nauth_methods = [\"private_key_jwt\"]\n\
         token_endpoint_auth_signing_alg = \"ES256\"\njwks = '{JWKS}'\n"
    );
    let dpop_client =
        format!("[[clients]]\nid = \"d\"\nsecrets = [\"{VERIFIER}\"]\nrequire_dpop = true\n");
    let cases = [
        (config("memory", ""), None),
        (config("memory", &key_client), Some(KeyAuth::FileClients)),
        (config("memory", &dpop_client), Some(KeyAuth::FileClients)),
        (with_dpop("nonces = true\n"), Some(KeyAuth::DpopNonces)),
        (
            config("sqlite:///tmp/jeton-never-opened.db", ""),
            Some(KeyAuth::SqlStore),
        ),
        (
            config("postgres://jeton@db/jeton", ""),
            Some(KeyAuth::SqlStore),
        ),
    ];
    for (text, expected) in cases {
        let mut s = check(&text).unwrap();
        assert_eq!(s.key_auth(), expected, "{text}");
        // The engine follows the rule: DPoP (and private_key_jwt) on exactly then.
        let memory = crate::store::Backend::memory(s.token_limits());
        let engine = s.build_engine(&memory).unwrap();
        assert_eq!(engine.dpop_enabled(), expected.is_some(), "{text}");
        let meta = engine.metadata_document().expect("metadata");
        let meta: serde_json::Value = serde_json::from_slice(meta.body()).unwrap();
        let methods = meta["token_endpoint_auth_methods_supported"].to_string();
        assert_eq!(
            methods.contains("private_key_jwt"),
            expected.is_some(),
            "{text}"
        );
        assert_eq!(
            meta.get("dpop_signing_alg_values_supported").is_some(),
            expected.is_some(),
            "{text}"
        );
    }
}

#[test]
fn config_check_summary_says_what_is_on_and_warns_about_per_process_keys_on_postgres() {
    let s = check(&config("memory", "")).unwrap();
    assert!(
        s.summary()
            .contains("key auth:        private_key_jwt and DPoP off"),
        "{}",
        s.summary()
    );
    let s = check(&config(
        "sqlite:///tmp/x.db",
        "[dpop]\nnonces = true\nnonce_period = \"2m\"\n",
    ))
    .unwrap();
    let summary = s.summary();
    assert!(
        summary.contains("key auth:        private_key_jwt and DPoP on (SQL store"),
        "{summary}"
    );
    assert!(
        summary.contains("dpop nonces:     required, new every 2m (a random key per process)"),
        "{summary}"
    );
    assert!(!summary.contains("warning"), "one SQLite node: {summary}");
    let s = check(&config(
        "postgres://jeton@db/jeton",
        "[dpop]\nnonces = true\n",
    ))
    .unwrap();
    assert!(
        s.summary().contains(
            "warning: [dpop] nonces without nonce_key_file: each process draws its own key"
        ),
        "{}",
        s.summary()
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("n.key"), HEX_KEY).unwrap();
    let s = check_in(
        dir.path(),
        &config(
            "postgres://jeton@db/jeton",
            "[dpop]\nnonces = true\nnonce_key_file = \"n.key\"\n",
        ),
    )
    .unwrap();
    let summary = s.summary();
    assert!(summary.contains("(key from n.key)"), "{summary}");
    assert!(!summary.contains("warning"), "{summary}");
}

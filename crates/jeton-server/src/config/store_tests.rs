//! The `[store]` table: shape, bounds, positions in errors, and no password in any message.

use super::*;

const VERIFIER: &str =
    "$hmac-sha256$AAECAwQFBgcICQoLDA0ODw$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

fn check(text: &str) -> Result<Settings, String> {
    parse(Path::new("jeton.toml"), text, Path::new("."), None).map_err(|e| e.to_string())
}

fn with_store(store: &str, clients: bool) -> String {
    let client = if clients {
        format!("[[clients]]\nid = \"a\"\nsecrets = [\"{VERIFIER}\"]\n")
    } else {
        String::new()
    };
    format!("issuer = \"http://127.0.0.1:8080\"\n\n[store]\n{store}\n{client}")
}

#[test]
fn store_defaults_to_memory_and_reads_sql_urls_and_pool_bounds() {
    let s = check(&with_store("", true)).unwrap();
    assert!(s.store.url.is_memory());
    let s = check(&with_store(
        "url = \"postgres://jeton:pw@db:5432/jeton\"\nmax_connections = 20\n\
         acquire_timeout = \"2s\"\npurge_batch = 500",
        false,
    ))
    .unwrap();
    assert_eq!(
        s.store.url.to_string(),
        "postgres://jeton:***@db:5432/jeton"
    );
    assert_eq!(s.store.pool.max_connections, 20);
    assert_eq!(
        s.store.pool.acquire_timeout,
        std::time::Duration::from_secs(2)
    );
    assert_eq!(s.store.purge_batch, 500);
    assert!(
        s.clients.is_empty(),
        "a SQL store may start without file clients"
    );
    assert!(!format!("{s:?}").contains("pw@"), "no password in Debug");
    assert!(
        s.summary()
            .contains("store:           postgres://jeton:***@db")
    );
    let s = check(&with_store(
        "url = \"sqlite:///var/lib/jeton/jeton.db\"",
        false,
    ))
    .unwrap();
    assert_eq!(s.store.url.to_string(), "sqlite:///var/lib/jeton/jeton.db");
}

#[test]
fn store_errors_have_positions_and_never_echo_the_url() {
    let e = check(&with_store("url = \"mysql://root:hunter2@db/x\"", true)).unwrap_err();
    assert!(
        e.starts_with("jeton.toml:4:7: store.url: expected \"memory\""),
        "{e}"
    );
    assert!(!e.contains("hunter2"), "{e}");
    let e = check(&with_store("url = \"memory\"\npool_size = 3", true)).unwrap_err();
    assert!(
        e.starts_with("jeton.toml:5:1: store.pool_size: unknown field"),
        "{e}"
    );
    let e = check(&with_store(
        "url = \"postgres://u:hunter2@db/x\"\nmax_connections = 0",
        false,
    ))
    .unwrap_err();
    assert!(
        e.starts_with("jeton.toml:5:19: store.max_connections: must be between"),
        "{e}"
    );
    assert!(!e.contains("hunter2"), "{e}");
    let e = check(&with_store("max_connections = 5", true)).unwrap_err();
    assert!(
        e.contains("store: pool settings apply to a SQL store only"),
        "{e}"
    );
    let e = check(&with_store("", false)).unwrap_err();
    assert!(
        e.contains("clients: at least one [[clients]] entry is needed with the memory store"),
        "{e}"
    );
}

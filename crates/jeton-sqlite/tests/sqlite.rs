//! What is particular to the SQLite store: migrations, restarts, and a database that fails.

use jeton::time::Duration;
use jeton::{ClientId, ClientRegistry, ClientStore, RevocationList, TokenDigest, TokenStore};
use jeton_sqlite::sqlx::sqlite::SqliteConnectOptions;
use jeton_sqlite::sqlx::{self, Connection, SqliteConnection};
use jeton_sqlite::{PoolSettings, SCHEMA_VERSION, SchemaError, SqliteStore};
use jeton_testkit::now;
use jeton_testkit::store_conformance::{self as table, token};
use std::error::Error as _;
use std::sync::Arc;

async fn open(path: &std::path::Path) -> SqliteStore {
    SqliteStore::open(path, &PoolSettings::default())
        .await
        .expect("open")
}

#[tokio::test]
async fn migrate_is_explicit_idempotent_and_versioned() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir.path().join("m.db")).await;
    assert_eq!(s.schema_version().await.unwrap(), 0);
    assert!(
        s.client(&ClientId::new("x").unwrap()).await.is_err(),
        "not migrated: an error, not a silent empty answer"
    );
    let r = s.migrate().await.unwrap();
    assert_eq!((r.from, r.to), (0, SCHEMA_VERSION));
    let r = s.migrate().await.unwrap();
    assert_eq!((r.from, r.to), (SCHEMA_VERSION, SCHEMA_VERSION));
    assert_eq!(s.schema_version().await.unwrap(), SCHEMA_VERSION);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM jeton_schema_version")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(rows, SCHEMA_VERSION);
}

#[tokio::test]
async fn a_newer_schema_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir.path().join("new.db")).await;
    s.migrate().await.unwrap();
    sqlx::query("INSERT INTO jeton_schema_version (version, name) VALUES (?1, 'from the future')")
        .bind(SCHEMA_VERSION + 1)
        .execute(s.pool())
        .await
        .unwrap();
    let e = s.migrate().await.unwrap_err();
    assert!(
        matches!(e, SchemaError::TooNew { found, known } if found == SCHEMA_VERSION + 1 && known == SCHEMA_VERSION),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("newer") && msg.contains("upgrade jeton"),
        "{msg}"
    );
    assert_eq!(
        s.schema_version().await.unwrap(),
        SCHEMA_VERSION + 1,
        "untouched"
    );
}

#[tokio::test]
async fn tokens_revocations_and_clients_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("restart.db");
    let s = open(&path).await;
    s.migrate().await.unwrap();
    let kept = table::write_before_restart(&s, &s, &s).await;
    s.close().await;
    let s = open(&path).await;
    s.migrate().await.unwrap();
    table::check_after_restart(&s, &s, &s, &kept).await;
}

#[tokio::test]
async fn a_locked_database_fails_cleanly_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.db");
    let options = SqliteStore::defaults(SqliteConnectOptions::new().filename(&path))
        .busy_timeout(std::time::Duration::from_millis(200));
    let s = SqliteStore::connect_with(options, &PoolSettings::default())
        .await
        .unwrap();
    s.migrate().await.unwrap();
    let (id, secret) = ("locked", "locked-client-secret");
    s.create_client(table::client_with_secret(id, secret))
        .await
        .unwrap();
    let engine = table::engine_on(Arc::new(s.clone()), Arc::new(s.clone()));
    assert_eq!(table::token_request(&engine, id, secret).await.0, 200);

    // Another process holds the write lock past the busy timeout.
    let mut holder = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::raw_sql("BEGIN EXCLUSIVE")
        .execute(&mut holder)
        .await
        .unwrap();

    let blocked = token("blocked", id, now(), Duration::hours(1));
    let e = s
        .insert(&blocked.digest, &blocked.claims)
        .await
        .expect_err("the write lock is held");
    assert_eq!(e.to_string(), "storage back end failed", "opaque");
    assert!(e.source().is_some(), "the cause is kept for the log");
    assert!(
        s.revoke_jti("j", now() + Duration::hours(1), now())
            .await
            .is_err()
    );
    table::assert_clean_500(&table::token_request(&engine, id, secret).await, "lock");
    // Reads go on meanwhile (WAL): the client is still found.
    assert!(
        s.client(&ClientId::new(id).unwrap())
            .await
            .unwrap()
            .is_some()
    );

    sqlx::raw_sql("ROLLBACK")
        .execute(&mut holder)
        .await
        .unwrap();
    drop(holder);
    assert_eq!(
        table::token_request(&engine, id, secret).await.0,
        200,
        "recovered"
    );
    let after = token("after", id, now(), Duration::hours(1));
    s.insert(&after.digest, &after.claims).await.unwrap();
    assert!(s.get(&TokenDigest::of("after")).await.unwrap().is_some());
}

#[tokio::test]
async fn a_file_that_is_not_a_database_fails_with_store_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.db");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    match SqliteStore::open(&path, &PoolSettings::default()).await {
        Err(e) => assert_eq!(e.to_string(), "storage back end failed"),
        Ok(s) => {
            assert!(matches!(s.migrate().await, Err(SchemaError::Store(_))));
            assert!(s.get(&TokenDigest::of("x")).await.is_err());
            assert!(s.client(&ClientId::new("x").unwrap()).await.is_err());
        }
    }
    let missing = dir.path().join("no-such-dir").join("x.db");
    assert!(
        SqliteStore::open(&missing, &PoolSettings::default())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn urls_are_accepted_and_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("url.db").display());
    let s = SqliteStore::connect(&url, &PoolSettings::default())
        .await
        .unwrap();
    s.migrate().await.unwrap();
    assert!(!format!("{s:?}").contains("url.db"));
}

#[tokio::test]
async fn a_version_1_database_migrates_to_2_keeping_its_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir.path().join("v1.db")).await;
    // A database as a version-1 build left it: its schema, its version row, a token.
    sqlx::raw_sql(
        "CREATE TABLE jeton_schema_version (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
         )",
    )
    .execute(s.pool())
    .await
    .unwrap();
    sqlx::raw_sql(include_str!("../migrations/0001_initial.sql"))
        .execute(s.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO jeton_schema_version (version, name) VALUES (1, 'initial')")
        .execute(s.pool())
        .await
        .unwrap();
    let old = token("v1-token", "old-client", now(), Duration::hours(1));
    sqlx::query(
        "INSERT INTO jeton_tokens
             (digest, client_id, subject, scope, audience, issued_at_us, expires_at_us, jti)
         VALUES (?1, 'old-client', 'old-client', 'read write',
                 'https://api.example.com/ urn:example:other', ?2, ?3, NULL)",
    )
    .bind(&old.digest.as_bytes()[..])
    .bind(jeton_sql_micros(old.claims.issued_at))
    .bind(jeton_sql_micros(old.claims.expires_at))
    .execute(s.pool())
    .await
    .unwrap();
    assert_eq!(s.schema_version().await.unwrap(), 1);

    let r = s.migrate().await.unwrap();
    assert_eq!((r.from, r.to), (1, 2));
    assert_eq!(SCHEMA_VERSION, 2);
    assert_eq!(
        s.get(&old.digest).await.unwrap(),
        Some(old),
        "v1 row, no binding"
    );
    let bound = table::token_dpop_bound("v2-token", "new-client", now());
    s.insert(&bound.digest, &bound.claims).await.unwrap();
    assert_eq!(s.get(&bound.digest).await.unwrap(), Some(bound));
    let r = s.migrate().await.unwrap();
    assert_eq!((r.from, r.to), (2, 2), "idempotent");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM jeton_schema_version")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(rows, 2);
}

fn jeton_sql_micros(t: jeton::time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap()
}

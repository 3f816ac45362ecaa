//! What is particular to the PostgreSQL store: migrations, restarts, and the database going
//! away mid-run.

mod common;

use jeton::time::Duration;
use jeton::{ClientId, ClientRegistry, ClientStore, RevocationList, TokenDigest, TokenStore};
use jeton_postgres::sqlx;
use jeton_postgres::{PoolSettings, PostgresStore, SCHEMA_VERSION, SchemaError};
use jeton_testkit::now;
use jeton_testkit::store_conformance::{self as table, token};
use std::error::Error as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[tokio::test]
async fn migrate_is_explicit_idempotent_and_versioned() {
    let Some(db) = common::db("migrate").await else {
        return;
    };
    let s = db.store().await;
    assert_eq!(s.schema_version().await.unwrap(), 0);
    assert!(
        s.client(&ClientId::new("x").unwrap()).await.is_err(),
        "not migrated: an error, not a silent empty answer"
    );
    // Two nodes starting at once: the advisory lock makes one migrate and the other find it
    // done.
    let other = db.store().await;
    let (a, b) = tokio::join!(s.migrate(), other.migrate());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.to, SCHEMA_VERSION);
    assert_eq!(b.to, SCHEMA_VERSION);
    assert_eq!(a.from.min(b.from), 0);
    assert_eq!(a.from.max(b.from), SCHEMA_VERSION);
    let r = s.migrate().await.unwrap();
    assert_eq!((r.from, r.to), (SCHEMA_VERSION, SCHEMA_VERSION));
    assert_eq!(s.schema_version().await.unwrap(), SCHEMA_VERSION);
    db.drop().await;
}

#[tokio::test]
async fn a_newer_schema_is_refused_and_left_alone() {
    let Some(db) = common::db("newer").await else {
        return;
    };
    let s = db.migrated().await;
    sqlx::query("INSERT INTO jeton_schema_version (version, name) VALUES ($1, 'future')")
        .bind(SCHEMA_VERSION + 1)
        .execute(s.pool())
        .await
        .unwrap();
    let e = s.migrate().await.unwrap_err();
    assert!(
        matches!(e, SchemaError::TooNew { found, known }
            if found == SCHEMA_VERSION + 1 && known == SCHEMA_VERSION),
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
    db.drop().await;
}

#[tokio::test]
async fn tokens_revocations_and_clients_survive_a_restart() {
    let Some(db) = common::db("restart").await else {
        return;
    };
    let s = db.migrated().await;
    let kept = table::write_before_restart(&s, &s, &s).await;
    s.close().await;
    let s = db.migrated().await;
    table::check_after_restart(&s, &s, &s, &kept).await;
    db.drop().await;
}

#[tokio::test]
async fn terminated_backends_are_replaced() {
    let Some(db) = common::db("terminate").await else {
        return;
    };
    let s = db.migrated().await;
    let t = token("t", "c", now(), Duration::hours(1));
    s.insert(&t.digest, &t.claims).await.unwrap();
    let mut admin = db.admin().await;
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(&db.schema)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(!killed.is_empty(), "the pool had a connection to kill");
    // The next call errors or reconnects (the pool tests a connection before use); it never
    // panics, and the calls after it succeed.
    let _ = s.get(&TokenDigest::of("t")).await;
    for _ in 0..3 {
        assert!(s.get(&TokenDigest::of("t")).await.unwrap().is_some());
    }
    db.drop().await;
}

/// A TCP relay between the store and the server, to cut the network and bring it back.
struct Relay {
    addr: SocketAddr,
    accept: JoinHandle<()>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(listen: SocketAddr, upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind(listen).await.expect("bind relay");
        let addr = listener.local_addr().unwrap();
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let l2 = links.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let link = tokio::spawn(async move {
                    if let Ok(mut out) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                l2.lock().unwrap().push(link);
            }
        });
        Self {
            addr,
            accept,
            links,
        }
    }

    /// Drops every connection and stops listening: the database is gone.
    async fn stop(self) -> SocketAddr {
        self.accept.abort();
        let _ = self.accept.await;
        let links = std::mem::take(&mut *self.links.lock().unwrap());
        for l in links {
            l.abort();
            let _ = l.await;
        }
        self.addr
    }
}

#[tokio::test]
async fn the_database_going_away_gives_clean_500s_and_recovery() {
    let Some(db) = common::db("outage").await else {
        return;
    };
    db.migrated().await;
    let upstream: SocketAddr = format!("{}:{}", db.options.get_host(), db.options.get_port())
        .parse()
        .expect("DATABASE_URL host is an IP address (the tests use 127.0.0.1)");
    let relay = Relay::start("127.0.0.1:0".parse().unwrap(), upstream).await;
    let options = db.options.clone().host("127.0.0.1").port(relay.addr.port());
    let pool = PoolSettings {
        max_connections: 3,
        acquire_timeout: std::time::Duration::from_secs(1),
        ..PoolSettings::default()
    };
    let s = PostgresStore::connect_with(options, &pool).await.unwrap();
    let (id, secret) = ("outage", "outage-client-secret");
    s.create_client(table::client_with_secret(id, secret))
        .await
        .unwrap();
    let engine = table::engine_on(Arc::new(s.clone()), Arc::new(s.clone()));
    assert_eq!(table::token_request(&engine, id, secret).await.0, 200);

    let addr = relay.stop().await;
    table::assert_clean_500(&table::token_request(&engine, id, secret).await, "connect");
    let e = s.get(&TokenDigest::of("x")).await.unwrap_err();
    assert_eq!(e.to_string(), "storage back end failed");
    assert!(e.source().is_some(), "the cause is kept for the log");
    assert!(
        s.revoke_jti("j", now() + Duration::hours(1), now())
            .await
            .is_err()
    );
    assert!(s.client(&ClientId::new(id).unwrap()).await.is_err());

    let relay = Relay::start(addr, upstream).await;
    let again = table::token_request(&engine, id, secret).await;
    assert_eq!(again.0, 200, "recovered without a restart");
    assert!(
        s.client(&ClientId::new(id).unwrap())
            .await
            .unwrap()
            .is_some()
    );
    relay.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn connection_errors_never_show_the_password() {
    if common::db("password").await.is_none() {
        return;
    }
    let pool = PoolSettings {
        acquire_timeout: std::time::Duration::from_millis(300),
        ..PoolSettings::default()
    };
    // Port 1 on loopback: nothing listens there.
    let e = PostgresStore::connect("postgres://jeton:hunter2@127.0.0.1:1/db", &pool)
        .await
        .unwrap_err();
    assert!(!format!("{e} {e:?}").contains("hunter2"), "{e:?}");
    let e = PostgresStore::connect("postgres://jeton:hunter2@[bad/db", &pool)
        .await
        .unwrap_err();
    assert!(!format!("{e} {e:?}").contains("hunter2"), "{e:?}");
}

#[tokio::test]
async fn a_version_1_database_migrates_to_2_keeping_its_tokens() {
    let Some(db) = common::db("v1_to_v2").await else {
        return;
    };
    let s = db.store().await;
    // A database as a version-1 build left it: its schema, its version row, a token.
    sqlx::raw_sql(
        "CREATE TABLE jeton_schema_version (
             version    BIGINT PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
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
    let old = table::token("v1-token", "old-client", now(), Duration::hours(1));
    let us =
        |t: jeton::time::OffsetDateTime| i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap();
    sqlx::query(
        "INSERT INTO jeton_tokens
             (digest, client_id, subject, scope, audience, issued_at_us, expires_at_us, jti)
         VALUES ($1, 'old-client', 'old-client', 'read write',
                 'https://api.example.com/ urn:example:other', $2, $3, NULL)",
    )
    .bind(&old.digest.as_bytes()[..])
    .bind(us(old.claims.issued_at))
    .bind(us(old.claims.expires_at))
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
    db.drop().await;
}

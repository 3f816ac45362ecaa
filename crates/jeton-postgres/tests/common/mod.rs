//! A schema of its own for each test, in the database `DATABASE_URL` names.
//!
//! Without `DATABASE_URL` the tests say how to run them and pass, except in CI (`CI` set),
//! where they fail: CI must never skip them.

#![allow(dead_code, unreachable_pub)]

use jeton_postgres::sqlx::postgres::PgConnectOptions;
use jeton_postgres::sqlx::{self, Connection, PgConnection};
use jeton_postgres::{PoolSettings, PostgresStore};
use std::sync::atomic::{AtomicU32, Ordering};

/// One test's schema and the options that point at it.
pub struct TestDb {
    pub url: String,
    pub schema: String,
    pub options: PgConnectOptions,
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The database for test `name`, or `None` (after saying how to run the test) when there is
/// no `DATABASE_URL` outside CI.
pub async fn db(name: &str) -> Option<TestDb> {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        if in_ci() {
            panic!(
                "CI is set but DATABASE_URL is not: the PostgreSQL tests must run in CI \
                 (.ci/run sources scripts/ci-postgres.sh to start a cluster)"
            );
        }
        eprintln!(
            "skipping {name}: DATABASE_URL is not set. To run the PostgreSQL tests:\n  \
             bash -c 'source scripts/ci-postgres.sh && cargo test -p jeton-postgres'\n\
             (or DATABASE_URL=postgres://user@127.0.0.1:5432/db for a server of your own; \
             each test makes and drops its own schema)"
        );
        return None;
    };
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!(
        "jt_{name}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = PgConnection::connect(&url)
        .await
        .expect("connect to DATABASE_URL");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .execute(&mut admin)
        .await
        .expect("create schema");
    let options: PgConnectOptions = url.parse().expect("DATABASE_URL");
    let options = options
        .options([("search_path", schema.as_str())])
        .application_name(&schema);
    Some(TestDb {
        url,
        schema,
        options,
    })
}

impl TestDb {
    /// A new handle (its own pool) on the schema.
    pub async fn store(&self) -> PostgresStore {
        self.store_with(&PoolSettings {
            max_connections: 5,
            ..PoolSettings::default()
        })
        .await
    }

    /// A new handle with these pool bounds.
    pub async fn store_with(&self, pool: &PoolSettings) -> PostgresStore {
        PostgresStore::connect_with(self.options.clone(), pool)
            .await
            .expect("connect")
    }

    /// A new, migrated handle.
    pub async fn migrated(&self) -> PostgresStore {
        let s = self.store().await;
        s.migrate().await.expect("migrate");
        s
    }

    /// A plain connection to the database (outside the schema), for what a test does behind
    /// the store's back.
    pub async fn admin(&self) -> PgConnection {
        PgConnection::connect(&self.url)
            .await
            .expect("admin connection")
    }

    /// Drops the schema.
    pub async fn drop(self) {
        let mut admin = self.admin().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA \"{}\" CASCADE",
            self.schema
        )))
        .execute(&mut admin)
        .await
        .expect("drop schema");
    }
}

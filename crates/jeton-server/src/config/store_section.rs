//! Pass 2 for `[store]`: the URL (already parsed in pass 1) and the pool's bounds.

use super::file::StoreSection;
use super::resolve::Bad;
use super::*;

/// The `[store]` table: the URL and the pool's bounds.
pub(super) fn store_settings(s: &StoreSection, bad: &mut Bad<'_>) -> StoreSettings {
    let d = StoreSettings::default();
    let std_dur = |v: Option<DurationValue>, default: std::time::Duration| {
        v.map_or(default, |v| {
            std::time::Duration::from_secs(v.0.whole_seconds().unsigned_abs())
        })
    };
    let max_connections = s.max_connections.unwrap_or(d.pool.max_connections);
    if max_connections == 0 || max_connections > 1000 {
        bad(
            "store.max_connections",
            "must be between 1 and 1000".to_owned(),
        );
    }
    let min_connections = s.min_connections.unwrap_or(d.pool.min_connections);
    if min_connections > max_connections {
        bad(
            "store.min_connections",
            format!("must be at most max_connections ({max_connections})"),
        );
    }
    let purge_batch = s.purge_batch.unwrap_or(d.purge_batch);
    if purge_batch == 0 || purge_batch > jeton_sql::MAX_PURGE_BATCH {
        bad(
            "store.purge_batch",
            format!("must be between 1 and {}", jeton_sql::MAX_PURGE_BATCH),
        );
    }
    if s.url.is_memory()
        && (s.max_connections.is_some()
            || s.min_connections.is_some()
            || s.acquire_timeout.is_some()
            || s.idle_timeout.is_some()
            || s.max_lifetime.is_some())
    {
        bad(
            "store",
            "pool settings apply to a SQL store only: set url = \"postgres://…\" or \"sqlite://…\""
                .to_owned(),
        );
    }
    StoreSettings {
        url: s.url.clone(),
        pool: jeton_postgres::PoolSettings {
            max_connections,
            min_connections,
            acquire_timeout: std_dur(s.acquire_timeout, d.pool.acquire_timeout),
            idle_timeout: std_dur(s.idle_timeout, d.pool.idle_timeout),
            max_lifetime: std_dur(s.max_lifetime, d.pool.max_lifetime),
        },
        purge_batch,
    }
}

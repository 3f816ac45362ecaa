//! The bounded limiter against an exact model: a collision in its fixed tables may make a key's
//! limit stricter, never looser (RFC 6749 §2.3.1 brute-force protection must hold whatever
//! else shares a slot).

use jeton::time::{Duration, OffsetDateTime};
use jeton::{AuthLimiter, BoundedLimiter, Budget, ClientId, LimiterConfig};
use proptest::prelude::*;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::num::{NonZeroU32, NonZeroUsize};

/// Exact leaky buckets, one per key, in integer units: a failure is `window_ms` units and
/// `failures` units leak per millisecond, so no rounding happens anywhere.
struct Exact {
    failures: u128,
    window_ms: u128,
    levels: HashMap<String, (u128, u128)>,
}

impl Exact {
    fn new(failures: u32, window_ms: u32) -> Self {
        Self {
            failures: failures.into(),
            window_ms: window_ms.into(),
            levels: HashMap::new(),
        }
    }

    fn level(&self, key: &str, t: u128) -> u128 {
        let (level, at) = self.levels.get(key).copied().unwrap_or((0, t));
        level.saturating_sub((t - at) * self.failures)
    }

    fn refuses(&self, key: &str, t: u128) -> bool {
        self.level(key, t) + self.window_ms > self.failures * self.window_ms
    }

    fn fail(&mut self, key: &str, t: u128) {
        let level = self.level(key, t) + self.window_ms;
        self.levels.insert(key.to_owned(), (level, t));
    }
}

#[derive(Debug, Clone)]
struct Op {
    client: u8,
    source: u8,
    advance_ms: u32,
    fail: bool,
}

fn op() -> impl Strategy<Value = Op> {
    (0u8..12, 0u8..6, 0u32..4000, any::<bool>()).prop_map(|(client, source, advance_ms, fail)| Op {
        client,
        source,
        advance_ms,
        fail,
    })
}

proptest! {
    #[test]
    fn limiter_never_allows_what_an_exact_limiter_refuses(
        ops in prop::collection::vec(op(), 1..300),
        slots in 1usize..64,
        key in any::<[u8; 32]>(),
        per_source in 1u32..30,
        per_pair in 1u32..10,
        window_s in 1i64..120,
    ) {
        let window = Duration::seconds(window_s);
        let window_ms = u32::try_from(window_s * 1000).unwrap();
        let limiter = BoundedLimiter::new(
            key,
            LimiterConfig::default()
                .per_source(Budget::new(NonZeroU32::new(per_source).unwrap(), window))
                .per_client_source(Budget::new(NonZeroU32::new(per_pair).unwrap(), window))
                .slots(NonZeroUsize::new(slots).unwrap()),
        );
        let mut by_source = Exact::new(per_source, window_ms);
        let mut by_pair = Exact::new(per_pair, window_ms);
        let start = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
        let mut t: u128 = 0;
        for op in ops {
            t += u128::from(op.advance_ms);
            let now = start + Duration::milliseconds(i64::try_from(t).unwrap());
            let src = IpAddr::V4(Ipv4Addr::new(198, 51, 100, op.source));
            let client = ClientId::new(format!("client-{}", op.client)).unwrap();
            let s_key = op.source.to_string();
            let p_key = format!("{}/{}", op.client, op.source);

            let exact_refuses = by_source.refuses(&s_key, t) || by_pair.refuses(&p_key, t);
            let allowed = limiter.may_attempt(src, &client, now).is_ok();
            prop_assert!(!(exact_refuses && allowed), "looser than exact at t={t}ms");
            if allowed && op.fail {
                limiter.record_failure(src, &client, now);
                by_source.fail(&s_key, t);
                by_pair.fail(&p_key, t);
            }
        }
    }
}

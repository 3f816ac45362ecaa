//! The limiter's rules: fairness between keys, decay, IPv6 prefixes and the memory bound.

use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap()
}

fn id(s: &str) -> ClientId {
    ClientId::new(s).unwrap()
}

fn v4(d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, d))
}

fn limiter() -> BoundedLimiter {
    BoundedLimiter::new([7; 32], LimiterConfig::default())
}

/// Fails `n` times at `now`, checking before each one as the engine will.
fn fail(l: &BoundedLimiter, src: IpAddr, c: &ClientId, n: usize, now: OffsetDateTime) {
    for i in 0..n {
        assert_eq!(l.may_attempt(src, c, now), Ok(()), "attempt {i} refused");
        l.record_failure(src, c, now);
    }
}

#[test]
fn rfc6749_2_3_1_one_id_from_one_address_is_refused_after_its_budget() {
    let l = limiter();
    let c = id("billing");
    fail(&l, v4(1), &c, 5, t0());
    // Five failures per minute per pair: the sixth attempt waits for one to leak (12 s).
    assert_eq!(
        l.may_attempt(v4(1), &c, t0()),
        Err(RetryAfter::from_secs(12))
    );
}

#[test]
fn the_same_client_from_another_address_is_not_locked_out() {
    let l = limiter();
    let c = id("billing");
    fail(&l, v4(1), &c, 5, t0());
    assert!(l.may_attempt(v4(1), &c, t0()).is_err());
    assert_eq!(l.may_attempt(v4(2), &c, t0()), Ok(()));
    assert_eq!(
        l.may_attempt(IpAddr::V6(Ipv6Addr::LOCALHOST), &c, t0()),
        Ok(())
    );
}

#[test]
fn other_clients_from_the_same_address_keep_the_source_budget() {
    let l = limiter();
    fail(&l, v4(1), &id("billing"), 5, t0());
    // 15 of the 20 per-source failures remain for every other id.
    fail(&l, v4(1), &id("reports"), 5, t0());
    fail(&l, v4(1), &id("ledger"), 5, t0());
    assert_eq!(l.may_attempt(v4(1), &id("audit"), t0()), Ok(()));
}

#[test]
fn many_ids_from_one_address_exhaust_the_source_budget_only_there() {
    let l = limiter();
    for i in 0..20 {
        fail(&l, v4(1), &id(&format!("guess-{i}")), 1, t0());
    }
    // The 21st unknown id from that address is refused before any verification...
    assert_eq!(
        l.may_attempt(v4(1), &id("guess-20"), t0()),
        Err(RetryAfter::from_secs(3))
    );
    // ...while the same ids from elsewhere are not.
    assert_eq!(l.may_attempt(v4(2), &id("guess-20"), t0()), Ok(()));
}

#[test]
fn failures_leak_away_at_the_budget_rate() {
    let l = limiter();
    let c = id("billing");
    fail(&l, v4(1), &c, 5, t0());
    let almost = t0() + Duration::milliseconds(11_999);
    assert_eq!(
        l.may_attempt(v4(1), &c, almost),
        Err(RetryAfter::from_secs(1))
    );
    // One failure leaks every 12 s: one more attempt fits, not two.
    let later = t0() + Duration::seconds(12);
    fail(&l, v4(1), &c, 1, later);
    assert!(l.may_attempt(v4(1), &c, later).is_err());
    // After a full window from the last failure the whole burst is back.
    fail(&l, v4(1), &c, 5, later + Duration::MINUTE);
}

#[test]
fn a_clock_going_backwards_never_loosens_the_limit() {
    let l = limiter();
    let c = id("billing");
    fail(&l, v4(1), &c, 5, t0());
    assert!(l.may_attempt(v4(1), &c, t0() - Duration::HOUR).is_err());
    assert!(l.may_attempt(v4(1), &c, t0()).is_err());
}

#[test]
fn ipv6_addresses_count_by_their_64_prefix() {
    let l = limiter();
    let a: Ipv6Addr = "2001:db8:1:2::".parse().unwrap();
    let base = u128::from(a);
    // 20 failures from 20 different addresses of one /64, one id each.
    for i in 0..20u128 {
        let src = IpAddr::V6(Ipv6Addr::from(base | (i * 0x1_0001)));
        fail(&l, src, &id(&format!("guess-{i}")), 1, t0());
    }
    let same_64 = IpAddr::V6("2001:db8:1:2:ffff::1".parse().unwrap());
    let next_64 = IpAddr::V6("2001:db8:1:3::1".parse().unwrap());
    assert!(l.may_attempt(same_64, &id("other"), t0()).is_err());
    assert_eq!(l.may_attempt(next_64, &id("other"), t0()), Ok(()));
}

#[test]
fn an_ipv4_mapped_ipv6_address_counts_as_its_ipv4_address() {
    let l = limiter();
    let c = id("billing");
    let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped());
    fail(&l, mapped, &c, 5, t0());
    assert!(l.may_attempt(v4(1), &c, t0()).is_err());
}

#[test]
fn budgets_are_settable() {
    let one_per_hour = Budget::new(NonZeroU32::MIN, Duration::HOUR);
    let l = BoundedLimiter::new(
        [1; 32],
        LimiterConfig::default().per_client_source(one_per_hour),
    );
    let c = id("billing");
    fail(&l, v4(1), &c, 1, t0());
    assert_eq!(
        l.may_attempt(v4(1), &c, t0()),
        Err(RetryAfter::from_secs(3600))
    );
    assert_eq!(one_per_hour.failures().get(), 1);
    assert_eq!(one_per_hour.window(), Duration::HOUR);
    // Out-of-range budgets are clamped, not refused.
    let wide = Budget::new(NonZeroU32::MAX, Duration::ZERO);
    assert_eq!(wide.failures().get(), Budget::MAX_FAILURES);
    assert_eq!(wide.window(), Duration::SECOND);
}

#[test]
fn success_does_not_reset_a_shared_slot() {
    let l = limiter();
    let c = id("billing");
    fail(&l, v4(1), &c, 5, t0());
    l.record_success(v4(1), &c, t0());
    assert!(l.may_attempt(v4(1), &c, t0()).is_err());
}

#[test]
fn the_tables_stay_the_same_size_under_a_million_distinct_keys() {
    let l = limiter();
    let before = l.table_bytes();
    assert_eq!(before, 2 * 2 * 16_384 * 8);
    // A million failures, each from a new address with a new id, spread over 1000 s: far
    // more keys than slots.
    for i in 0..1_000_000u32 {
        let src = IpAddr::V4(Ipv4Addr::from(i.wrapping_mul(2_654_435_761)));
        let now = t0() + Duration::milliseconds(i64::from(i));
        l.record_failure(src, &id(&format!("id-{i}")), now);
    }
    assert_eq!(l.table_bytes(), before);
    // And the sketch still tells keys apart: a fresh pair is not refused.
    let end = t0() + Duration::seconds(1000);
    assert_eq!(l.may_attempt(v4(1), &id("billing"), end), Ok(()));
}

#[test]
fn slots_round_up_to_a_power_of_two_and_are_capped() {
    let l = BoundedLimiter::new(
        [0; 32],
        LimiterConfig::default().slots(NonZeroUsize::new(1000).unwrap()),
    );
    assert_eq!(l.table_bytes(), 2 * 2 * 1024 * 8);
    let l = BoundedLimiter::new([0; 32], LimiterConfig::default().slots(NonZeroUsize::MAX));
    assert_eq!(l.table_bytes(), 2 * 2 * MAX_SLOTS * 8);
}

#[test]
fn no_limiter_never_refuses() {
    let c = id("billing");
    for _ in 0..100 {
        NoLimiter.record_failure(v4(1), &c, t0());
    }
    assert_eq!(NoLimiter.may_attempt(v4(1), &c, t0()), Ok(()));
}

#[test]
fn retry_after_renders_delay_seconds() {
    assert_eq!(RetryAfter::from_secs(0), RetryAfter::ONE_SECOND);
    assert_eq!(RetryAfter::from_secs(12).header_value(), "12");
    assert_eq!(RetryAfter::from_secs(12).to_string(), "12s");
}

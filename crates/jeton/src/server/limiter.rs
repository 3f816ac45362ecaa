//! Failed-authentication limits (RFC 6749 §2.3.1: "the authorization server MUST protect any
//! endpoint utilizing it against brute force attacks").
//!
//! The engine asks an [`AuthLimiter`] before any verification work
//! ([`may_attempt`](AuthLimiter::may_attempt)) and tells it about each failure
//! ([`record_failure`](AuthLimiter::record_failure)). A refusal is therefore cheap: no store
//! lookup result is used, no secret is hashed.
//!
//! [`BoundedLimiter`] is the in-memory implementation. It keeps two budgets:
//!
//! - **per source** (the peer address; an IPv6 address counts by its /64 prefix): stops one
//!   address from trying many ids, or from burning CPU on unknown ids;
//! - **per (client id, source)**: stops one address from guessing one client's secret, while
//!   the same client from any other address is untouched. Nobody can lock a client out by
//!   knowing its id.
//!
//! [`BoundedLimiter`]'s docs say how its memory stays bounded and why collisions are safe.

use crate::ClientId;
use crate::random::{RandomError, RandomSource};
use siphasher::sip128::{Hasher128 as _, SipHasher24};
use std::fmt;
use std::hash::Hasher as _;
use std::net::IpAddr;
use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::atomic::{AtomicU64, Ordering};
use time::{Duration, OffsetDateTime};

/// How long a refused caller should wait: the `Retry-After` of a `429` (RFC 6585 §4) or a
/// `503` (RFC 9110 §10.2.3), in whole seconds, at least one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RetryAfter(NonZeroU32);

impl RetryAfter {
    /// One second: the shortest wait, and the hint for a full verification pool.
    pub const ONE_SECOND: Self = Self(NonZeroU32::MIN);

    /// A wait of `seconds`, rounded up to one.
    pub fn from_secs(seconds: u32) -> Self {
        Self(NonZeroU32::new(seconds).unwrap_or(NonZeroU32::MIN))
    }

    /// The wait in seconds (at least one).
    pub fn as_secs(self) -> u32 {
        self.0.get()
    }

    /// The value of the `Retry-After` header (delay-seconds).
    pub fn header_value(self) -> String {
        self.0.to_string()
    }
}

impl fmt::Display for RetryAfter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.0)
    }
}

/// Decides whether a client authentication may be attempted, and learns from failures.
///
/// Called on every authentication at the token, introspection and revocation endpoints, so an
/// implementation must be cheap and synchronous: no I/O, no clock (`now` is given), no
/// unbounded memory. `source` is the peer address, or a forwarded one only from a trusted proxy
/// (the engine decides which); `client_id` is the id the request claims, known or not.
pub trait AuthLimiter: Send + Sync + fmt::Debug {
    /// Whether an authentication of `client_id` from `source` may be attempted at `now`; if not,
    /// how long to wait. Called before any verification work.
    fn may_attempt(
        &self,
        source: IpAddr,
        client_id: &ClientId,
        now: OffsetDateTime,
    ) -> Result<(), RetryAfter>;

    /// Records a failed authentication (unknown id, wrong or expired secret, ...).
    fn record_failure(&self, source: IpAddr, client_id: &ClientId, now: OffsetDateTime);

    /// Records a successful authentication. The default does nothing.
    fn record_success(&self, source: IpAddr, client_id: &ClientId, now: OffsetDateTime) {
        let _ = (source, client_id, now);
    }
}

/// A limiter that never refuses: for tests, or for embedders that limit elsewhere.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoLimiter;

impl AuthLimiter for NoLimiter {
    fn may_attempt(&self, _: IpAddr, _: &ClientId, _: OffsetDateTime) -> Result<(), RetryAfter> {
        Ok(())
    }

    fn record_failure(&self, _: IpAddr, _: &ClientId, _: OffsetDateTime) {}
}

/// A budget of failures: at most `failures` in a burst, refilled at `failures` per `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    failures: NonZeroU32,
    window: Duration,
}

impl Budget {
    /// The most failures a level may hold (the 16.16 fixed-point level must not overflow).
    pub const MAX_FAILURES: u32 = 60_000;

    /// `failures` per `window`. The window is clamped to 1 s ..= 1 day and `failures` to
    /// [`Budget::MAX_FAILURES`].
    pub fn new(failures: NonZeroU32, window: Duration) -> Self {
        let failures = failures.min(NonZeroU32::new(Self::MAX_FAILURES).unwrap_or(NonZeroU32::MIN));
        let window = window.clamp(Duration::SECOND, Duration::DAY);
        Self { failures, window }
    }

    /// How many failures fit in a burst.
    pub fn failures(&self) -> NonZeroU32 {
        self.failures
    }

    /// Over how long that many failures leak away.
    pub fn window(&self) -> Duration {
        self.window
    }

    fn window_ms(&self) -> u64 {
        u64::try_from(self.window.whole_milliseconds()).unwrap_or(1000)
    }
}

/// Settings of a [`BoundedLimiter`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimiterConfig {
    per_source: Budget,
    per_client_source: Budget,
    slots: NonZeroUsize,
}

impl Default for LimiterConfig {
    /// 20 failures per source per minute, 5 per (client id, source) per minute, 16 384 slots
    /// a row: 2 × 2 × 16 384 × 8 bytes = 512 KiB in all.
    fn default() -> Self {
        Self {
            per_source: Budget::new(nz(20), Duration::MINUTE),
            per_client_source: Budget::new(nz(5), Duration::MINUTE),
            slots: NonZeroUsize::new(16_384).unwrap_or(NonZeroUsize::MIN),
        }
    }
}

impl LimiterConfig {
    /// Sets the budget per source address (IPv6: per /64).
    pub fn per_source(mut self, budget: Budget) -> Self {
        self.per_source = budget;
        self
    }

    /// Sets the budget per (client id, source address).
    pub fn per_client_source(mut self, budget: Budget) -> Self {
        self.per_client_source = budget;
        self
    }

    /// Sets the slots of each row of each table, rounded up to a power of two, at most 2^20.
    /// Memory is `2 tables × 2 rows × slots × 8 bytes`, fixed at construction.
    pub fn slots(mut self, slots: NonZeroUsize) -> Self {
        self.slots = slots;
        self
    }
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// Rows of each sketch: two independent slots per key. More rows make an innocent collision
/// rarer but cost a CAS each; two already make it need both slots raised.
const ROWS: usize = 2;
const MAX_SLOTS: usize = 1 << 20;
/// One failure in the 16.16 fixed-point level.
const ONE: u64 = 1 << 16;

/// The bounded in-memory [`AuthLimiter`]: two count-min sketches of leaky buckets, one per
/// source address and one per (client id, source address). Lock-free (one CAS per row), fixed
/// memory, never allocates after [`new`](Self::new). Defaults: [`LimiterConfig::default`].
///
/// # Bounded memory: a count-min sketch of leaky buckets
///
/// Each budget is a fixed-size table (allocated once, never grown) of `ROWS` rows of leaky
/// buckets. A key (source, or client id + source) is hashed with SipHash-2-4 (128-bit output)
/// under a secret key the caller supplies; one digest gives the key's slot in every row. A
/// failure adds one to each of the key's slots, levels leak linearly at `failures / window`,
/// and a key's estimate is the smallest level of its slots.
///
/// Why collisions are acceptable: a slot's level is at least the level each key mapped to it
/// would have on its own (adding arrivals to a leaky bucket never lowers it, and decay is
/// rounded down), so the estimate of a key is never below its true count. A collision can only
/// make a key's limit *stricter*, never looser; this is checked against an exact model by a
/// property test. The key is secret and random, so an attacker cannot choose ids or addresses
/// that land on a victim's slots; to push an innocent pair over its budget by chance, they must
/// raise *every* row of the table, which the per-source budget makes cost many addresses.
/// Success is not used to reset a slot for the same reason: a slot is shared, and clearing it
/// would loosen the limit of whatever else maps there.
///
/// Why SipHash-2-4: it is the keyed pseudo-random function made for exactly this, placing
/// attacker-chosen keys in a table unpredictably without the secret, and its 128-bit output
/// yields the indices of both rows. Every request with credentials runs the limiter check, a
/// successful one included, so the hash is on the hot path: the two HMAC-SHA256s it used
/// before took about 0.4 µs of every token request in the server's profile (issue 13), SipHash
/// a small fraction of that.
///
/// Why IPv6 /64: one subscriber is routinely given a whole /64 and picks addresses from it at
/// will (RFC 4941 temporary addresses), so counting per full address would hand an attacker
/// 2^64 fresh budgets. A /64 is the smallest block that one party is assumed to control.
pub struct BoundedLimiter {
    key: [u8; 16],
    per_source: Sketch,
    per_client_source: Sketch,
}

impl fmt::Debug for BoundedLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedLimiter")
            .field("per_source", &self.per_source.budget)
            .field("per_client_source", &self.per_client_source.budget)
            .field("slots", &self.per_source.slots.len())
            .finish_non_exhaustive()
    }
}

impl BoundedLimiter {
    /// A limiter whose slot placement is keyed by `key`, which must be secret and random
    /// (see [`from_random`](Self::from_random)); the core never reads an RNG itself. SipHash
    /// takes 128 bits of it.
    pub fn new(key: [u8; 32], config: LimiterConfig) -> Self {
        let slots = config.slots.get().min(MAX_SLOTS).next_power_of_two();
        let mut sip = [0u8; 16];
        sip.copy_from_slice(&key[..16]);
        Self {
            key: sip,
            per_source: Sketch::new(config.per_source, slots),
            per_client_source: Sketch::new(config.per_client_source, slots),
        }
    }

    /// A limiter with a fresh key drawn from `rng`.
    pub fn from_random(rng: &dyn RandomSource, config: LimiterConfig) -> Result<Self, RandomError> {
        let mut key = [0u8; 32];
        rng.fill(&mut key)?;
        Ok(Self::new(key, config))
    }

    /// The bytes its tables use: fixed at construction, whatever it has seen since.
    pub fn table_bytes(&self) -> usize {
        (self.per_source.slots.len() + self.per_client_source.slots.len()) * size_of::<AtomicU64>()
    }

    fn indices(&self, source: IpAddr, client_id: &ClientId) -> ([usize; ROWS], [usize; ROWS]) {
        let mut src = [0u8; 17];
        let src = source_key(source, &mut src);
        let mut h = SipHasher24::new_with_key(&self.key);
        h.write(src);
        let by_source = self.per_source.indices(&h.finish128().as_bytes());
        // The pair key is `1 ‖ len(id) ‖ id ‖ source`: the tag and length keep it from
        // colliding by construction with a source key (which starts with 4 or 6) or another
        // split of the same bytes.
        let mut ctx = SipHasher24::new_with_key(&self.key);
        let id = client_id.as_str().as_bytes();
        ctx.write(&[1]);
        ctx.write(&u32::try_from(id.len()).unwrap_or(u32::MAX).to_be_bytes());
        ctx.write(id);
        ctx.write(src);
        let by_pair = self.per_client_source.indices(&ctx.finish128().as_bytes());
        (by_source, by_pair)
    }
}

/// The source's key bytes: `4 ‖ IPv4`, or `6 ‖ first 64 bits` of an IPv6 address. An
/// IPv4-mapped IPv6 address counts as the IPv4 address it carries.
fn source_key(source: IpAddr, buf: &mut [u8; 17]) -> &[u8] {
    let source = match source {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(source, IpAddr::V4),
        v4 => v4,
    };
    match source {
        IpAddr::V4(v4) => {
            buf[0] = 4;
            buf[1..5].copy_from_slice(&v4.octets());
            &buf[..5]
        }
        IpAddr::V6(v6) => {
            buf[0] = 6;
            buf[1..9].copy_from_slice(&v6.octets()[..8]);
            &buf[..9]
        }
    }
}

impl AuthLimiter for BoundedLimiter {
    fn may_attempt(
        &self,
        source: IpAddr,
        client_id: &ClientId,
        now: OffsetDateTime,
    ) -> Result<(), RetryAfter> {
        let (s, p) = self.indices(source, client_id);
        let t = millis(now);
        // Both are checked so that the longer wait is the one reported.
        match (
            self.per_source.check(&s, t),
            self.per_client_source.check(&p, t),
        ) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(a), Err(b)) => Err(a.max(b)),
            (Err(a), _) | (_, Err(a)) => Err(a),
        }
    }

    fn record_failure(&self, source: IpAddr, client_id: &ClientId, now: OffsetDateTime) {
        let (s, p) = self.indices(source, client_id);
        let t = millis(now);
        self.per_source.add(&s, t);
        self.per_client_source.add(&p, t);
    }
}

/// `now` as wrapping milliseconds. Wrapping (every 49.7 days) is harmless: only differences
/// between a slot's last update and `now` are used, and a slot untouched for longer than the
/// wrap has long leaked empty unless the wrapped difference is small, which can only make it
/// stricter, never looser.
fn millis(now: OffsetDateTime) -> u32 {
    // Truncation is the point: the value wraps.
    (now.unix_timestamp_nanos() / 1_000_000) as u32
}

/// One budget: `ROWS` rows of `slots` leaky buckets, each an `AtomicU64` packing a 16.16
/// fixed-point level (high half) and the wrapping millisecond of its last update (low half).
struct Sketch {
    budget: Budget,
    /// `ROWS * row_len` slots, row after row.
    slots: Box<[AtomicU64]>,
    row_len: usize,
}

impl Sketch {
    fn new(budget: Budget, row_len: usize) -> Self {
        Self {
            budget,
            slots: (0..ROWS * row_len).map(|_| AtomicU64::new(0)).collect(),
            row_len,
        }
    }

    fn indices(&self, digest: &[u8]) -> [usize; ROWS] {
        let mut out = [0usize; ROWS];
        for (row, (slot, chunk)) in out.iter_mut().zip(digest.chunks_exact(8)).enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            // row_len is a power of two: masking keeps the distribution uniform.
            let within = (u64::from_le_bytes(b) as usize) & (self.row_len - 1);
            *slot = row * self.row_len + within;
        }
        out
    }

    /// The level of a packed slot at `t`, leaked since its last update. The leak is rounded
    /// down, so the level never falls below the exact one.
    fn level_at(&self, packed: u64, t: u32) -> (u64, u32) {
        let level = packed >> 32;
        let at = packed as u32;
        let elapsed = t.wrapping_sub(at);
        if level == 0 {
            return (0, t);
        }
        // A `now` earlier than the last update (a concurrent request, a clock step) leaks
        // nothing and keeps the later instant.
        if (elapsed as i32) < 0 {
            return (level, at);
        }
        let leak = u64::from(elapsed) * u64::from(self.budget.failures.get()) * ONE
            / self.budget.window_ms();
        (level.saturating_sub(leak), t)
    }

    fn estimate(&self, idx: &[usize; ROWS], t: u32) -> u64 {
        idx.iter()
            .map(|&i| self.level_at(self.slots[i].load(Ordering::Relaxed), t).0)
            .min()
            .unwrap_or(0)
    }

    fn check(&self, idx: &[usize; ROWS], t: u32) -> Result<(), RetryAfter> {
        let level = self.estimate(idx, t);
        let limit = u64::from(self.budget.failures.get()) * ONE;
        if level + ONE <= limit {
            return Ok(());
        }
        // Time for the level to leak down to `limit - ONE`, so that one more failure fits.
        let excess = level + ONE - limit;
        let per_failure_ms = self.budget.window_ms() / u64::from(self.budget.failures.get());
        let ms = (excess * per_failure_ms).div_ceil(ONE);
        Err(RetryAfter::from_secs(
            u32::try_from(ms.div_ceil(1000)).unwrap_or(u32::MAX),
        ))
    }

    fn add(&self, idx: &[usize; ROWS], t: u32) {
        // Every slot of the key gains one failure. (A "conservative update", raising slots
        // only to the smallest plus one, overestimates less but loses counts when two
        // failures of one key race; a brute-force limit must not.)
        for &i in idx {
            let slot = &self.slots[i];
            let mut current = slot.load(Ordering::Relaxed);
            loop {
                let (level, at) = self.level_at(current, t);
                let level = (level + ONE).min(u64::from(u32::MAX));
                let new = (level << 32) | u64::from(at);
                match slot.compare_exchange_weak(current, new, Ordering::Relaxed, Ordering::Relaxed)
                {
                    Ok(_) => break,
                    Err(seen) => current = seen,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;

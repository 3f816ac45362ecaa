//! The server's two time limits, `header_read_timeout` and `request_timeout`, kept by one
//! timer per connection instead of two timers per request (issue 13).
//!
//! A per-request timer (hyper's header-read timer, a `tokio::time::timeout` around the
//! handler) costs a clock read, an allocation and a timer-wheel insert and removal on every
//! request: measurable next to a token request's whole cost. Here each connection has one
//! [`Interval`] that ticks every quarter of the shorter limit, and each request only bumps
//! counters in its connection's [`ConnClock`]. At each tick the watchdog compares what it sees
//! with the previous tick:
//!
//! - a request is in flight and it is the same one as before: once it has been seen for
//!   `request_timeout`, the request is expired ([`InFlight::run`] gives up, and the server
//!   answers `408`);
//! - no request is in flight and none started: the connection is idle or a request head is
//!   arriving; once that lasted `header_read_timeout`, the connection is closed (what hyper's
//!   header-read timeout did, idle keep-alive connections included).
//!
//! A limit is thus enforced between its length and its length plus one tick (a quarter of the
//! shorter limit). The ticks of an idle server are a few per connection per limit, never per
//! request.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Interval, MissedTickBehavior};

/// The two limits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// How long a request may take once its head has arrived.
    pub(crate) request: Duration,
    /// How long a connection may stay without a request in flight (idle, or a head arriving).
    pub(crate) header_read: Duration,
}

impl Limits {
    /// The watchdog's period: a quarter of the shorter limit, at least 10 ms.
    fn tick(self) -> Duration {
        (self.request.min(self.header_read) / 4).max(Duration::from_millis(10))
    }
}

/// What one connection's requests report to its watchdog. Requests of one connection run one
/// after another, so the counters are written by one request at a time; atomics only because
/// the watchdog may run on another thread.
#[derive(Debug, Default)]
pub(crate) struct ConnClock {
    /// Requests begun on this connection.
    begun: AtomicU64,
    /// Whether one is in flight.
    busy: AtomicBool,
    /// Set by the watchdog: the request in flight ran out of time.
    expired: AtomicBool,
}

/// What the watchdog compares from tick to tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seen {
    begun: u64,
    busy: bool,
}

impl ConnClock {
    /// Marks a request as begun; the returned guard marks it done when dropped.
    pub(crate) fn begin(self: Arc<Self>) -> InFlight {
        self.expired.store(false, Ordering::Relaxed);
        self.begun.fetch_add(1, Ordering::Relaxed);
        self.busy.store(true, Ordering::Release);
        InFlight(self)
    }

    fn seen(&self) -> Seen {
        Seen {
            busy: self.busy.load(Ordering::Acquire),
            begun: self.begun.load(Ordering::Relaxed),
        }
    }
}

/// A request in flight on a [`ConnClock`].
#[derive(Debug)]
pub(crate) struct InFlight(Arc<ConnClock>);

impl InFlight {
    /// Runs `fut` until it completes (`Some`) or the watchdog expires the request (`None`);
    /// the request is done when the returned future is dropped.
    pub(crate) fn run<F: Future>(self, fut: F) -> Run<F> {
        Run {
            fut,
            in_flight: self,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.busy.store(false, Ordering::Release);
    }
}

pin_project_lite::pin_project! {
    /// [`InFlight::run`]'s future. A struct rather than an `async fn`: an `async fn` taking a
    /// future keeps it twice in its state (once as the argument, once pinned), and this
    /// future is the bulk of every request's state, copied whenever hyper moves it.
    #[derive(Debug)]
    pub(crate) struct Run<F> {
        #[pin]
        fut: F,
        in_flight: InFlight,
    }
}

impl<F: Future> Future for Run<F> {
    type Output = Option<F::Output>;

    /// The watchdog runs in the connection's own task: when it expires a request it goes on
    /// to poll the connection, which polls this future, so no waker needs to be kept here.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if this.in_flight.0.expired.load(Ordering::Acquire) {
            return Poll::Ready(None);
        }
        this.fut.poll(cx).map(Some)
    }
}

/// Drives `conn` (a connection's future) under `limits`: its output, or `None` when the
/// connection was closed for staying too long without a request in flight.
pub(crate) async fn watch<F: Future>(
    conn: F,
    clock: &ConnClock,
    limits: Limits,
) -> Option<F::Output> {
    let tick = limits.tick();
    let mut ticks: Interval = tokio::time::interval_at(Instant::now() + tick, tick);
    // A late tick (a busy runtime) is not made up for with a burst.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut conn = std::pin::pin!(conn);
    let mut last = clock.seen();
    let mut unchanged = Duration::ZERO;
    loop {
        tokio::select! {
            biased;
            out = &mut conn => return Some(out),
            _ = ticks.tick() => {
                let now = clock.seen();
                if now != last {
                    last = now;
                    unchanged = Duration::ZERO;
                    continue;
                }
                unchanged += tick;
                if now.busy {
                    if unchanged >= limits.request {
                        // The next poll of `conn` polls the request, which answers `408`.
                        clock.expired.store(true, Ordering::Release);
                    }
                } else if unchanged >= limits.header_read {
                    return None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        request: Duration::from_secs(8),
        header_read: Duration::from_secs(4),
    };

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_closes_after_the_header_read_limit_and_not_before() {
        let clock = Arc::new(ConnClock::default());
        let start = Instant::now();
        let out = watch(std::future::pending::<()>(), &clock, LIMITS).await;
        assert_eq!(out, None);
        let waited = start.elapsed();
        assert!(waited >= LIMITS.header_read, "{waited:?}");
        assert!(waited <= LIMITS.header_read + LIMITS.tick(), "{waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_stuck_request_expires_after_the_request_limit_and_not_before() {
        let clock = Arc::new(ConnClock::default());
        let start = Instant::now();
        let conn = async {
            let request = clock.clone().begin();
            request.run(std::future::pending::<()>()).await
        };
        let out = watch(conn, &clock, LIMITS).await;
        assert_eq!(out, Some(None), "the request gave up");
        let waited = start.elapsed();
        assert!(waited >= LIMITS.request, "{waited:?}");
        assert!(waited <= LIMITS.request + LIMITS.tick(), "{waited:?}");
        assert!(!clock.seen().busy);
    }

    #[tokio::test(start_paused = true)]
    async fn requests_that_keep_coming_keep_the_connection_open() {
        let clock = Arc::new(ConnClock::default());
        // Twenty requests, each 1 s apart and 1 s long: 40 s, far past both limits.
        let conn = async {
            for _ in 0..20 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let request = clock.clone().begin();
                let done = request
                    .run(tokio::time::sleep(Duration::from_secs(1)))
                    .await;
                assert_eq!(done, Some(()));
            }
            "served"
        };
        assert_eq!(watch(conn, &clock, LIMITS).await, Some("served"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_finished_request_is_not_expired_by_a_late_tick() {
        let clock = Arc::new(ConnClock::default());
        {
            let request = clock.clone().begin();
            assert_eq!(request.run(async { 7 }).await, Some(7));
        }
        clock.expired.store(true, Ordering::Release);
        // The next request starts fresh.
        let request = clock.clone().begin();
        assert_eq!(request.run(async { 8 }).await, Some(8));
    }
}

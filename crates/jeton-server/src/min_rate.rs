//! A request body that must keep arriving (issue 9 point 6): after a grace period it must have
//! come at `min_body_rate` bytes per second on average, or reading it fails, the engine answers
//! `400` (an unreadable body) and the connection closes. Without it, one peer trickling a byte
//! every few seconds holds a connection slot for the whole request timeout.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// The minimum pace of a request body: `bytes_per_second` on average once `grace` has passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MinRate {
    /// Bytes per second, at least 1.
    pub(crate) bytes_per_second: u64,
    /// How long a body may take before its pace counts.
    pub(crate) grace: Duration,
}

impl MinRate {
    /// When the body must have delivered `received + 1` bytes, counted from `start`.
    fn deadline(self, start: Instant, received: u64) -> Instant {
        let paced = Duration::from_secs_f64((received + 1) as f64 / self.bytes_per_second as f64);
        start + self.grace + paced
    }
}

/// The error a body too slow ends with.
#[derive(Debug)]
pub(crate) struct TooSlow;

impl std::fmt::Display for TooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body arrived slower than the minimum rate")
    }
}

impl std::error::Error for TooSlow {}

/// `inner`, failing with [`TooSlow`] when its next bytes are later than the pace allows.
pub(crate) struct Paced<B> {
    inner: B,
    rate: MinRate,
    /// When the pace started: the first time the body kept us waiting (just after the
    /// request's head, for a body that does not come with it). The clock is read only then.
    start: Option<Instant>,
    received: u64,
    /// Made only when the body keeps us waiting: most bodies arrive with their headers, and
    /// then no timer is ever allocated or registered (issue 13).
    timer: Option<Pin<Box<Sleep>>>,
}

impl<B> Paced<B> {
    /// Paces `inner` from the first time it keeps the reader waiting.
    pub(crate) fn new(inner: B, rate: MinRate) -> Self {
        Self {
            inner,
            rate,
            start: None,
            received: 0,
            timer: None,
        }
    }
}

impl<B> Body for Paced<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                    if let (Some(timer), Some(start)) = (&mut this.timer, this.start) {
                        timer
                            .as_mut()
                            .reset(this.rate.deadline(start, this.received));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                let (rate, received) = (this.rate, this.received);
                let start = *this.start.get_or_insert_with(Instant::now);
                let timer = this.timer.get_or_insert_with(|| {
                    Box::pin(tokio::time::sleep_until(rate.deadline(start, received)))
                });
                ready!(timer.as_mut().poll(cx));
                Poll::Ready(Some(Err(Box::new(TooSlow))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// A body fed by a channel.
    struct Fed(tokio::sync::mpsc::Receiver<Bytes>);

    impl Body for Fed {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
        }
    }

    fn rate() -> MinRate {
        MinRate {
            bytes_per_second: 100,
            grace: Duration::from_secs(1),
        }
    }

    #[tokio::test]
    async fn a_trickle_is_cut_and_a_steady_body_is_not() {
        // One byte every 500 ms: 2 B/s against 100 B/s once the second of grace is over.
        let trickle = futures_stream(500, 50);
        let got = Paced::new(trickle, rate()).collect().await;
        assert!(got.is_err_and(|e| e.is::<TooSlow>()));
        // Ten bytes every 50 ms, all within the grace period.
        let steady = futures_stream(50, 40);
        let got = Paced::new(steady, rate()).collect().await;
        assert_eq!(got.expect("steady body").to_bytes().len(), 40);
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_never_comes_is_cut_after_the_grace() {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let started = Instant::now();
        let got = Paced::new(Fed(rx), rate()).collect().await;
        assert!(got.is_err_and(|e| e.is::<TooSlow>()));
        // Grace (1 s) plus one byte's pace (10 ms), counted from the first wait.
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(1010), "{waited:?}");
        assert!(waited < Duration::from_millis(1100), "{waited:?}");
        drop(tx);
    }

    #[tokio::test]
    async fn a_body_that_is_there_reads_no_clock_and_arms_no_timer() {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let mut body = Paced::new(Fed(rx), rate());
        // hyper hands over a body that came with the head before the handler first asks.
        tx.send(Bytes::from_static(b"grant_type=x")).await.unwrap();
        let first =
            std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut body).poll_frame(cx))).await;
        assert!(matches!(first, Poll::Ready(Some(Ok(_)))));
        assert!(body.timer.is_none() && body.start.is_none());
        drop(tx);
        assert!(body.collect().await.expect("end").to_bytes().is_empty());
    }

    #[tokio::test]
    async fn the_first_wait_starts_the_pace_and_arms_the_timer() {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let mut body = Paced::new(Fed(rx), rate());
        let polled =
            std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut body).poll_frame(cx))).await;
        assert!(polled.is_pending());
        assert!(body.timer.is_some() && body.start.is_some());
        drop(tx);
    }

    /// `n` frames of one byte (or ten for a short period), one every `every_ms`.
    fn futures_stream(every_ms: u64, n: usize) -> Fed {
        let chunk = if every_ms >= 500 { 1 } else { 10 };
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        tokio::spawn(async move {
            for _ in 0..n / chunk {
                tokio::time::sleep(Duration::from_millis(every_ms)).await;
                if tx.send(Bytes::from(vec![b'x'; chunk])).await.is_err() {
                    break;
                }
            }
        });
        Fed(rx)
    }
}

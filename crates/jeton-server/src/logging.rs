//! The server's log output: text or JSON lines on stderr, level from `RUST_LOG` (default
//! `info`).
//!
//! JSON lines keep tracing-subscriber's JSON shape (`timestamp`, `level`, `fields`, `target`)
//! but are written by [`JsonLines`], straight into the line buffer: tracing-subscriber's own
//! JSON formatter collects every field into a map of `serde_json::Value`s first, which made a
//! JSON request line cost about five times a text one (issue 13: a token request with JSON logs
//! cost 2.5× the bare HTTP stack against 2.0× with text logs). Text lines without colours are
//! tracing-subscriber's own bytes written by [`text::TextLines`] (its colour type painted every
//! field name even with colours off); a terminal gets tracing-subscriber's coloured lines.
//!
//! Lines are gathered in a buffer of [`FLUSH_BYTES`] and written to stderr together, whole
//! lines only, when it fills, at least every [`FLUSH_EVERY`] (the serve loop's flusher), at
//! once for an `ERROR` line, before `listening` is announced, and at shutdown, rather than
//! with one `write` system call per request on the request's own path (issue 13). What this
//! costs: a process killed without its shutdown (SIGKILL, an abort) loses at most the last
//! [`FLUSH_EVERY`] of lines, the trade every access log that buffers makes (nginx
//! `access_log … buffer= flush=`, Envoy's periodic flush).

use crate::config::LogFormat;
use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

mod decimal;
mod json;
mod text;
use json::JsonLines;
use text::TextLines;

/// Logs to stderr, text or JSON, level from `RUST_LOG` (default `info`).
pub(crate) fn init(format: LogFormat) {
    use tracing_subscriber::filter::EnvFilter;
    use tracing_subscriber::fmt;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let output = match format {
        LogFormat::Json => fmt::layer()
            .event_format(JsonLines)
            .with_writer(&STDERR)
            .with_filter(filter)
            .boxed(),
        // Colours for a terminal come from tracing-subscriber; plain lines from `TextLines`.
        LogFormat::Text if ansi => fmt::layer()
            .with_ansi(true)
            .with_timer(Timestamp)
            .with_writer(&STDERR)
            .with_filter(filter)
            .boxed(),
        LogFormat::Text => fmt::layer()
            .with_ansi(false)
            .event_format(TextLines::new())
            .with_writer(&STDERR)
            .with_filter(filter)
            .boxed(),
    };
    // Ignore the error of a second initialisation (there is none in the binary).
    let _ = tracing_subscriber::registry().with(output).try_init();
}

/// Lines are written when this many bytes are waiting.
pub(crate) const FLUSH_BYTES: usize = 32 * 1024;
/// The longest a line waits before it is written.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// The server's stderr, buffered: see the module documentation.
pub(crate) static STDERR: LineBuffer<std::io::Stderr> = LineBuffer::new(std::io::stderr);

/// Whole log lines gathered for one `write` to `out`, at most [`FLUSH_BYTES`] plus one line.
pub(crate) struct LineBuffer<W> {
    out: fn() -> W,
    pending: Mutex<Vec<u8>>,
    /// Held while a full buffer is written: taken before `pending` is let go, so that buffers
    /// are written in order while other threads go on adding lines to the next one.
    writing: Mutex<()>,
}

impl<W: std::io::Write> LineBuffer<W> {
    const fn new(out: fn() -> W) -> Self {
        Self {
            out,
            pending: Mutex::new(Vec::new()),
            writing: Mutex::new(()),
        }
    }

    /// Adds one formatted line (tracing-subscriber writes each event with one call); writes
    /// everything waiting when the buffer is full or `urgent`.
    fn push(&self, line: &[u8], urgent: bool) -> std::io::Result<()> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.extend_from_slice(line);
        if urgent || pending.len() >= FLUSH_BYTES {
            return self.write_out(pending);
        }
        Ok(())
    }

    /// Writes whatever is waiting.
    pub(crate) fn flush(&self) {
        let pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if !pending.is_empty() {
            let _ = self.write_out(pending);
        }
    }

    /// Writes the waiting lines: the writer's turn is taken before the buffer is let go, so
    /// lines keep their order, and the `write` runs without holding up threads adding lines.
    fn write_out(&self, mut pending: MutexGuard<'_, Vec<u8>>) -> std::io::Result<()> {
        let turn = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        let full = std::mem::replace(&mut *pending, Vec::with_capacity(FLUSH_BYTES + 1024));
        drop(pending);
        let r = (self.out)().write_all(&full);
        drop(turn);
        r
    }

    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// One event's writer: its line goes to the buffer.
pub(crate) struct LineSink<'a, W> {
    buffer: &'a LineBuffer<W>,
    urgent: bool,
}

impl<W: std::io::Write> std::io::Write for LineSink<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.push(buf, self.urgent)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a, W: std::io::Write + 'static> MakeWriter<'a> for &'static LineBuffer<W> {
    type Writer = LineSink<'static, W>;

    fn make_writer(&'a self) -> Self::Writer {
        LineSink {
            buffer: self,
            urgent: false,
        }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        LineSink {
            buffer: self,
            urgent: *meta.level() == tracing::Level::ERROR,
        }
    }
}

/// The time of a line, as `tracing_subscriber`'s `SystemTime` writes it (RFC 3339, UTC,
/// microseconds: `2026-11-28T16:27:23.660603Z`), but with the date and time of day formatted
/// once per second per thread instead of on every line: with a line per request, formatting
/// the whole instant was a tenth of the line's cost.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Timestamp;

impl FormatTime for Timestamp {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        write_timestamp(w, since.as_secs(), since.subsec_micros())
    }
}

/// Writes `secs` (since the Unix epoch) and `micros` past them; see [`Timestamp`].
fn write_timestamp(w: &mut dyn fmt::Write, secs: u64, micros: u32) -> fmt::Result {
    thread_local! {
        /// The second last formatted on this thread, and its text up to the seconds' digits.
        static SECOND: std::cell::RefCell<(u64, String)> =
            const { std::cell::RefCell::new((u64::MAX, String::new())) };
    }
    SECOND.with_borrow_mut(|(cached, text)| {
        if *cached != secs {
            text.clear();
            let t = i64::try_from(secs)
                .ok()
                .and_then(|s| jeton::time::OffsetDateTime::from_unix_timestamp(s).ok())
                .unwrap_or(jeton::time::OffsetDateTime::UNIX_EPOCH);
            write!(
                text,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )?;
            *cached = secs;
        }
        write!(w, "{text}.{micros:06}Z")
    })
}

thread_local! {
    /// A line being formatted, and room for one value's `Debug` text: kept from line to line.
    static BUFFERS: RefCell<(String, String)> = const { RefCell::new((String::new(), String::new())) };
}

/// Formats one line with `format` into this thread's reused buffers and writes it to `w` in
/// one piece, for [`JsonLines`] and [`TextLines`]. `None` from `format` writes nothing (the
/// caller has another writer for that event). A `Debug` impl that logs finds the buffers
/// taken and gets fresh ones.
fn write_line(
    w: &mut Writer<'_>,
    format: impl FnOnce(&mut String, &mut String) -> Option<()>,
) -> Option<fmt::Result> {
    BUFFERS.with(|buffers| {
        let mut fresh = (String::new(), String::new());
        let mut held = buffers.try_borrow_mut();
        let (line, scratch) = match held.as_deref_mut() {
            Ok(held) => (&mut held.0, &mut held.1),
            Err(_) => (&mut fresh.0, &mut fresh.1),
        };
        line.clear();
        format(line, scratch)?;
        Some(w.write_str(line))
    })
}

/// Collects what a subscriber writes: the tests of both formats compare lines with it.
#[cfg(test)]
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<Mutex<Vec<u8>>>);

#[cfg(test)]
impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::sync::Mutex;
    use tracing_subscriber::fmt::MakeWriter;

    /// What a [`LineBuffer`] wrote, write by write.
    static WRITES: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

    struct Recorder;

    impl std::io::Write for Recorder {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            WRITES.lock().unwrap().push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_written_whole_in_order_when_the_buffer_fills_on_error_and_on_flush() {
        let buffer: &'static LineBuffer<Recorder> =
            Box::leak(Box::new(LineBuffer::new(|| Recorder)));
        let line = |i: usize| format!("line {i:05} {}\n", "x".repeat(90));
        let writes = || WRITES.lock().unwrap().len();
        // Below the threshold nothing is written, and at most FLUSH_BYTES plus a line waits.
        let mut i = 0;
        while buffer.waiting() + line(i).len() < FLUSH_BYTES {
            buffer.make_writer().write_all(line(i).as_bytes()).unwrap();
            i += 1;
        }
        assert_eq!(writes(), 0);
        buffer.make_writer().write_all(line(i).as_bytes()).unwrap();
        assert_eq!(writes(), 1, "the line that fills the buffer writes it");
        assert_eq!(buffer.waiting(), 0);
        // An ERROR line is written at once, with what waited before it.
        buffer.make_writer().write_all(b"info\n").unwrap();
        let error = tracing::Metadata::new(
            "e",
            "t",
            tracing::Level::ERROR,
            None,
            None,
            None,
            tracing::field::FieldSet::new(&[], tracing::callsite::Identifier(&CALLSITE)),
            tracing::metadata::Kind::EVENT,
        );
        buffer
            .make_writer_for(&error)
            .write_all(b"error\n")
            .unwrap();
        assert_eq!(writes(), 2);
        buffer.make_writer().write_all(b"late\n").unwrap();
        buffer.flush();
        buffer.flush();
        assert_eq!(
            writes(),
            3,
            "flush writes what waits, and nothing when nothing does"
        );
        let all: Vec<u8> = WRITES.lock().unwrap().concat();
        let expected: String = (0..=i).map(line).collect::<String>() + "info\nerror\nlate\n";
        assert_eq!(String::from_utf8(all).unwrap(), expected);
        // Every write ends at a line's end.
        assert!(WRITES.lock().unwrap().iter().all(|w| w.ends_with(b"\n")));
    }

    struct Callsite;
    static CALLSITE: Callsite = Callsite;
    impl tracing::callsite::Callsite for Callsite {
        fn set_interest(&self, _: tracing::subscriber::Interest) {}
        fn metadata(&self) -> &tracing::Metadata<'_> {
            unreachable!("not registered")
        }
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_microseconds_across_seconds() {
        use jeton::time::format_description::well_known::Rfc3339;
        // Two instants in one second (the cached text), then other seconds and days.
        for (secs, micros) in [
            (1_795_865_804, 660_603),
            (1_795_865_804, 7),
            (1_795_865_805, 0),
            (0, 999_999),
            (951_782_400, 1), // 2000-02-29
            (4_102_444_799, 123_456),
        ] {
            let mut text = String::new();
            write_timestamp(&mut text, secs, micros).unwrap();
            let expected = jeton::time::OffsetDateTime::from_unix_timestamp(secs as i64).unwrap()
                + jeton::time::Duration::microseconds(micros.into());
            assert_eq!(text.len(), "2026-11-28T16:27:23.660603Z".len(), "{text}");
            assert_eq!(
                jeton::time::OffsetDateTime::parse(&text, &Rfc3339).unwrap(),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn timestamps_read_like_tracing_subscribers_own() {
        let mut ours = String::new();
        Timestamp.format_time(&mut Writer::new(&mut ours)).unwrap();
        let mut theirs = String::new();
        tracing_subscriber::fmt::time::SystemTime
            .format_time(&mut Writer::new(&mut theirs))
            .unwrap();
        assert_eq!(ours.len(), theirs.len(), "{ours} {theirs}");
        // The same shape, and the same instant to the second (or the next one).
        assert_eq!(ours.as_bytes()[10], b'T');
        assert!(ours.ends_with('Z') && theirs.ends_with('Z'));
        let whole = |t: &str| {
            jeton::time::OffsetDateTime::parse(
                t,
                &jeton::time::format_description::well_known::Rfc3339,
            )
            .unwrap()
        };
        assert!((whole(&theirs) - whole(&ours)).whole_seconds().abs() <= 1);
    }
}

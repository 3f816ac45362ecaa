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
use std::fmt::{self, Write as _};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

mod text;
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

/// One JSON object per event, on one line:
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

/// `{"timestamp":"…","level":"INFO","fields":{"message":"…",…},"target":"…"}`.
/// The server logs outside spans, so span fields are not written.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write_event(&mut w, event)
    }
}

fn write_event(w: &mut Writer<'_>, event: &Event<'_>) -> fmt::Result {
    let meta = event.metadata();
    w.write_str("{\"timestamp\":\"")?;
    Timestamp.format_time(w)?;
    write!(w, "\",\"level\":\"{}\",\"fields\":{{", meta.level())?;
    let mut fields = JsonFields {
        w: &mut *w,
        first: true,
        result: Ok(()),
        scratch: String::new(),
    };
    event.record(&mut fields);
    fields.result?;
    w.write_str("},\"target\":")?;
    json_str(w, meta.target())?;
    w.write_str("}\n")
}

/// Writes each field as `"name":value`, comma-separated.
struct JsonFields<'w> {
    w: &'w mut dyn fmt::Write,
    first: bool,
    result: fmt::Result,
    /// `Debug`/`Display` values are formatted here, then escaped.
    scratch: String,
}

impl JsonFields<'_> {
    fn field(&mut self, field: &Field, value: impl FnOnce(&mut dyn fmt::Write) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        let sep = if self.first { "" } else { "," };
        self.first = false;
        self.result = self
            .w
            .write_str(sep)
            .and_then(|()| json_str(self.w, field.name()))
            .and_then(|()| self.w.write_char(':'))
            .and_then(|()| value(self.w));
    }
}

impl Visit for JsonFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.field(field, |w| json_str(w, value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, |w| write!(w, "{value}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, |w| write!(w, "{value}"));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, |w| write!(w, "{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // JSON has no NaN or infinity: those become strings, as serde_json's Value would not
        // represent them at all.
        if value.is_finite() {
            self.field(field, |w| write!(w, "{value}"));
        } else {
            self.field(field, |w| write!(w, "\"{value}\""));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        if write!(scratch, "{value:?}").is_err() {
            self.result = Err(fmt::Error);
        }
        self.field(field, |w| json_str(w, &scratch));
        self.scratch = scratch;
    }
}

/// `s` as a JSON string (RFC 8259 §7): quotes, backslashes and control characters escaped.
fn json_str(w: &mut dyn fmt::Write, s: &str) -> fmt::Result {
    w.write_char('"')?;
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f | 0x7f => "",
            _ => continue,
        };
        w.write_str(&s[plain..i])?;
        if escape.is_empty() {
            write!(w, "\\u{b:04x}")?;
        } else {
            w.write_str(escape)?;
        }
        plain = i + 1;
    }
    w.write_str(&s[plain..])?;
    w.write_char('"')
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

    fn emit() {
        let path = "/to\"ken\\\n\u{1}é";
        tracing::warn!(
            target: "jeton::request",
            method = %"POST",
            path = %path,
            status = 401_u16,
            outcome = "refused",
            client_id = Some("svc"),
            reason = None::<&str>,
            latency_ms = 0.125_f64,
            negative = -3_i64,
            ok = false,
            nan = f64::NAN,
            "request"
        );
    }

    fn lines_of(json: bool) -> serde_json::Value {
        let out = Captured::default();
        let layer = tracing_subscriber::fmt::layer().with_writer(out.clone());
        let subscriber = tracing_subscriber::registry();
        if json {
            let layer = layer.event_format(JsonLines);
            tracing::subscriber::with_default(subscriber.with(layer), emit);
        } else {
            let layer = layer.json();
            tracing::subscriber::with_default(subscriber.with(layer), emit);
        }
        let bytes = out.0.lock().unwrap().clone();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(text.lines().count(), 1, "one line per event: {text}");
        assert!(text.ends_with('\n'));
        serde_json::from_str(text.trim_end()).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    #[test]
    fn json_lines_have_tracing_subscribers_shape_and_values() {
        let ours = lines_of(true);
        let theirs = lines_of(false);
        // Same keys and values but the instant of writing.
        let strip = |mut v: serde_json::Value| {
            let ts = v["timestamp"].take();
            assert!(
                ts.as_str()
                    .is_some_and(|t| t.ends_with('Z') && t.len() >= 20),
                "{ts}"
            );
            v
        };
        let (mut ours, mut theirs) = (strip(ours), strip(theirs));
        // serde_json's Value writes NaN as null; JSON has no NaN, we keep it readable.
        assert_eq!(ours["fields"]["nan"], "NaN");
        assert_eq!(theirs["fields"]["nan"], serde_json::Value::Null);
        ours["fields"]["nan"].take();
        theirs["fields"]["nan"].take();
        assert_eq!(ours, theirs);
        assert_eq!(ours["fields"]["path"], "/to\"ken\\\n\u{1}é");
        assert_eq!(ours["fields"]["status"], 401);
        assert_eq!(ours["level"], "WARN");
        assert_eq!(ours["target"], "jeton::request");
    }

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

    #[test]
    fn json_strings_escape_what_rfc_8259_requires() {
        let mut s = String::new();
        json_str(&mut s, "a\"b\\c\u{0}\u{1f}\u{7f}\t\r\nü").unwrap();
        assert_eq!(s, r#""a\"b\\c\u0000\u001f\u007f\t\r\nü""#);
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "a\"b\\c\u{0}\u{1f}\u{7f}\t\r\nü");
    }
}

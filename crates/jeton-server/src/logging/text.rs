//! Text lines without colours, byte for byte what tracing-subscriber's default ("full")
//! format writes, but written directly.
//!
//! tracing-subscriber paints every field name and `=` through its colour type even with
//! colours off, and formats each string through `Debug`; for the request line that was more
//! than half of its cost (callgrind: this writer takes 8,400 off the 15,000 instructions a
//! logged token request added, issue 13). Here the line is `{time} {LEVEL} {target}: {message} {name=value}…` written
//! straight into a reused buffer, with a string that `Debug` would leave unchanged copied
//! between quotes.
//!
//! Whatever this writer does not reproduce exactly goes to tracing-subscriber's own formatter,
//! so every line stays what it was: an event inside a span, one bridged from the `log` crate
//! (`log.*` fields), a field name still spelled `r#…` (tracing normally strips it), an error
//! value (its source chain), and a message that tracing-subscriber would escape (terminal
//! control characters). The tests hold
//! the two writers to the same bytes.

use super::{Timestamp, write_line};
use std::fmt::{self, Write as _};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{Format, Full, Writer};
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The text format, without colours (see the [module docs](self)).
#[derive(Debug)]
pub(crate) struct TextLines {
    /// tracing-subscriber's formatter, configured as the server's was: for the events this one
    /// leaves to it.
    full: Format<Full, Timestamp>,
}

impl TextLines {
    pub(crate) fn new() -> Self {
        Self {
            full: tracing_subscriber::fmt::format()
                .with_timer(Timestamp)
                .with_ansi(false),
        }
    }
}

impl<S, N> FormatEvent<S, N> for TextLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        if ctx.event_scope().is_none()
            && let Some(result) = write_line(&mut w, |line, _| text_line(line, event))
        {
            return result;
        }
        self.full.format_event(ctx, w, event)
    }
}

/// The line of `event`, or `None` if tracing-subscriber must write it.
fn text_line(line: &mut String, event: &Event<'_>) -> Option<()> {
    let meta = event.metadata();
    Timestamp.format_time(&mut Writer::new(line)).ok()?;
    line.push(' ');
    line.push_str(level(meta.level()));
    line.push(' ');
    line.push_str(meta.target());
    line.push_str(": ");
    let mut fields = Fields {
        line,
        first: true,
        exact: true,
    };
    event.record(&mut fields);
    if !fields.exact {
        return None;
    }
    line.push('\n');
    Some(())
}

/// The level as tracing-subscriber writes it: five characters, right-aligned.
fn level(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => " INFO",
        Level::WARN => " WARN",
        Level::ERROR => "ERROR",
    }
}

/// Writes the fields as tracing-subscriber's `DefaultVisitor` does: the message as it reads,
/// then `name=value` with the value's `Debug`, separated by spaces.
struct Fields<'a> {
    line: &'a mut String,
    first: bool,
    /// Cleared at a field this writer does not reproduce exactly.
    exact: bool,
}

impl Fields<'_> {
    /// Starts a field: the separating space and, but for the message, `name=`. `false` (and
    /// the line no longer exact) for a name tracing-subscriber treats apart.
    fn start(&mut self, field: &Field) -> bool {
        let name = field.name();
        if !self.exact || name.starts_with("log.") || name.starts_with("r#") {
            self.exact = false;
            return false;
        }
        if !self.first {
            self.line.push(' ');
        }
        self.first = false;
        if name != "message" {
            self.line.push_str(name);
            self.line.push('=');
        }
        true
    }

    /// The message as written from `start` on: tracing-subscriber escapes terminal control
    /// characters in it, and such a line is left to it.
    fn check_message(&mut self, start: usize) {
        let escaped = |c: char| {
            matches!(
                c,
                '\x1b' | '\x07' | '\x08' | '\x0c' | '\x7f' | '\u{80}'..='\u{9f}'
            )
        };
        if self.line[start..].contains(escaped) {
            self.exact = false;
        }
    }
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if !self.start(field) {
            return;
        }
        if field.name() == "message" {
            let start = self.line.len();
            self.line.push_str(value);
            self.check_message(start);
        } else if value
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
        {
            // What `Debug` writes for printable ASCII without quotes or backslashes.
            self.line.push('"');
            self.line.push_str(value);
            self.line.push('"');
        } else {
            self.write(format_args!("{value:?}"));
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.start(field) {
            self.line.push_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.start(field) {
            self.line.push_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if !self.start(field) {
            return;
        }
        // `{:?}`, tracing's own rendering of a float, for `latency_ms` without the float
        // formatter (see `decimal`).
        if super::decimal::push_millis(self.line, value, true).is_none() {
            self.write(format_args!("{value:?}"));
        }
    }

    fn record_error(&mut self, _: &Field, _: &(dyn std::error::Error + 'static)) {
        // tracing-subscriber writes the error's sources too.
        self.exact = false;
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if !self.start(field) {
            return;
        }
        let start = self.line.len();
        self.write(format_args!("{value:?}"));
        if field.name() == "message" {
            self.check_message(start);
        }
    }
}

impl Fields<'_> {
    fn write(&mut self, args: fmt::Arguments<'_>) {
        if self.line.write_fmt(args).is_err() {
            self.exact = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Captured;
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt as _;

    #[derive(Debug)]
    struct Failed;
    impl fmt::Display for Failed {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("store failed")
        }
    }
    impl std::error::Error for Failed {}

    /// Every kind of event the server writes, and the kinds this writer leaves to
    /// tracing-subscriber.
    fn events() {
        // A displayed value is written as it is (a line break in it would break the line: the
        // server displays only values that cannot hold one); a `Debug` one is escaped.
        let path = "/to\"ken\\é";
        let quoted = "/to\"ken\\\n\u{1}é\u{1b}";
        tracing::info!(
            target: "jeton::request",
            method = %"POST",
            path = %"/token",
            status = 200_u16,
            outcome = %"issued",
            client_id = Some("load"),
            reason = None::<&str>,
            scope = "read write",
            audience = "https://api.example.com",
            latency_ms = 0.212_f64,
            peer = %"127.0.0.1:40000",
            "request"
        );
        tracing::warn!(
            target: "jeton::request",
            path = %path,
            quoted,
            control = "a\tb\u{7f}\u{85}",
            unicode = "é ☃",
            negative = -3_i64,
            whole = 1.0_f64,
            nan = f64::NAN,
            ok = false,
            empty = "",
            "request"
        );
        tracing::error!(target: "jeton::diagnostic", error = %Failed, "cause");
        tracing::error!(
            error = &Failed as &(dyn std::error::Error + 'static),
            "a chain"
        );
        tracing::debug!(r#type = "raw", "raw identifier");
        tracing::trace!("message with {} and {:?}", "args", Some(1));
        tracing::info!("terminal \u{1b}[31m control");
        tracing::info!(message = "a message field", n = 7_u64);
        tracing::info!(count = 3_i64);
        let span = tracing::info_span!("conn", id = 7);
        span.in_scope(|| tracing::info!(inside = true, "in a span"));
    }

    /// The lines `events` gives under `layer`'s formatter, timestamps cut off.
    fn lines(ours: bool) -> Vec<String> {
        let out = Captured::default();
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_timer(Timestamp)
            .with_writer(out.clone());
        let filter = tracing_subscriber::filter::LevelFilter::TRACE;
        if ours {
            let layer = layer.event_format(TextLines::new());
            let subscriber = tracing_subscriber::registry().with(layer).with(filter);
            tracing::subscriber::with_default(subscriber, events);
        } else {
            let subscriber = tracing_subscriber::registry().with(layer).with(filter);
            tracing::subscriber::with_default(subscriber, events);
        }
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        text.split_inclusive('\n')
            .map(|l| {
                let stamp = "2026-11-28T16:27:23.660603Z".len();
                assert_eq!(&l[stamp - 1..stamp], "Z", "{l}");
                l[stamp..].to_owned()
            })
            .collect()
    }

    #[test]
    fn lines_are_tracing_subscribers_own_bytes() {
        let (ours, theirs) = (lines(true), lines(false));
        assert_eq!(ours.len(), 10, "{ours:#?}");
        assert_eq!(ours, theirs);
        assert_eq!(
            ours[0],
            "  INFO jeton::request: request method=POST path=/token status=200 outcome=issued \
             client_id=\"load\" scope=\"read write\" audience=\"https://api.example.com\" \
             latency_ms=0.212 peer=127.0.0.1:40000\n"
        );
    }

    /// Records, per event, whether [`text_line`] writes it (`false`: left to tracing-subscriber).
    struct Probe(Arc<Mutex<Vec<bool>>>);

    impl<S, N> FormatEvent<S, N> for Probe
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
        N: for<'a> FormatFields<'a> + 'static,
    {
        fn format_event(
            &self,
            _: &FmtContext<'_, S, N>,
            _: Writer<'_>,
            event: &Event<'_>,
        ) -> fmt::Result {
            let written = text_line(&mut String::new(), event).is_some();
            self.0.lock().unwrap().push(written);
            Ok(())
        }
    }

    #[test]
    fn what_is_not_reproduced_is_left_to_tracing_subscriber() {
        let found = Arc::new(Mutex::new(Vec::new()));
        let probe = tracing_subscriber::fmt::layer()
            .with_writer(Captured::default())
            .event_format(Probe(found.clone()));
        let subscriber = tracing_subscriber::registry()
            .with(probe)
            .with(tracing_subscriber::filter::LevelFilter::TRACE);
        tracing::subscriber::with_default(subscriber, events);
        // Written here: the two request lines, the displayed error, the raw identifier (tracing
        // names the field `type`), the formatted message, the message field, the count, and the
        // event in a span (whose span `format_event` checks first). Left: the error's chain and
        // the message with terminal control characters.
        assert_eq!(
            *found.lock().unwrap(),
            [true, true, true, false, true, true, false, true, true, true]
        );
    }
}

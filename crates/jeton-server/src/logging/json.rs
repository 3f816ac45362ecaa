//! JSON lines: `{"timestamp":"…","level":"INFO","fields":{"message":"…",…},"target":"…"}`,
//! tracing-subscriber's JSON shape written straight into a reused buffer (see the
//! [parent module](super)). The server logs outside spans, so span fields are not written.

use super::{Timestamp, write_line};
use std::fmt::{self, Write as _};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The JSON format (see the [module docs](self)).
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
        write_line(&mut w, |line, scratch| json_line(line, scratch, event))
            .unwrap_or(Err(fmt::Error))
    }
}

/// The line of `event`; `None` if a value's `Debug` failed.
fn json_line(line: &mut String, scratch: &mut String, event: &Event<'_>) -> Option<()> {
    let meta = event.metadata();
    line.push_str("{\"timestamp\":\"");
    Timestamp.format_time(&mut Writer::new(line)).ok()?;
    line.push_str("\",\"level\":\"");
    line.push_str(meta.level().as_str());
    line.push_str("\",\"fields\":{");
    let mut fields = JsonFields {
        line,
        scratch,
        first: true,
        ok: true,
    };
    event.record(&mut fields);
    if !fields.ok {
        return None;
    }
    line.push_str("},\"target\":");
    json_str(line, meta.target());
    line.push_str("}\n");
    Some(())
}

/// Writes each field as `"name":value`, comma-separated.
struct JsonFields<'a> {
    line: &'a mut String,
    /// `Debug` and `Display` values are formatted here, then escaped.
    scratch: &'a mut String,
    first: bool,
    ok: bool,
}

impl JsonFields<'_> {
    /// Starts a field: the separating comma and `"name":`.
    fn name(&mut self, field: &Field) {
        if !self.first {
            self.line.push(',');
        }
        self.first = false;
        json_str(self.line, field.name());
        self.line.push(':');
    }
}

impl Visit for JsonFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.name(field);
        json_str(self.line, value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.name(field);
        self.line.push_str(itoa::Buffer::new().format(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.name(field);
        self.line.push_str(itoa::Buffer::new().format(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.name(field);
        self.line.push_str(if value { "true" } else { "false" });
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.name(field);
        if super::decimal::push_millis(self.line, value, false).is_some() {
            return;
        }
        // JSON has no NaN or infinity: those become strings, as serde_json's Value would not
        // represent them at all.
        let written = if value.is_finite() {
            write!(self.line, "{value}")
        } else {
            write!(self.line, "\"{value}\"")
        };
        self.ok &= written.is_ok();
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.scratch.clear();
        self.ok &= write!(self.scratch, "{value:?}").is_ok();
        self.name(field);
        json_str(self.line, self.scratch);
    }
}

/// Appends `s` as a JSON string (RFC 8259 §7): quotes, backslashes and control characters
/// escaped. A string with none of them (nearly every one) is copied whole, found by a fold the
/// compiler runs over many bytes at a time.
fn json_str(line: &mut String, s: &str) {
    line.push('"');
    let needs_escape = |b: u8| b < 0x20 || b == b'"' || b == b'\\' || b == 0x7f;
    if !s.bytes().fold(false, |seen, b| seen | needs_escape(b)) {
        line.push_str(s);
        line.push('"');
        return;
    }
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
        line.push_str(&s[plain..i]);
        if escape.is_empty() {
            // Writing to a String cannot fail.
            let _ = write!(line, "\\u{b:04x}");
        } else {
            line.push_str(escape);
        }
        plain = i + 1;
    }
    line.push_str(&s[plain..]);
    line.push('"');
}

#[cfg(test)]
mod tests {
    use super::super::Captured;
    use super::*;
    use tracing_subscriber::layer::SubscriberExt as _;

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

    #[test]
    fn json_strings_escape_what_rfc_8259_requires() {
        let mut s = String::new();
        json_str(&mut s, "a\"b\\c\u{0}\u{1f}\u{7f}\t\r\nü");
        assert_eq!(s, r#""a\"b\\c\u0000\u001f\u007f\t\r\nü""#);
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "a\"b\\c\u{0}\u{1f}\u{7f}\t\r\nü");
    }

    #[test]
    fn plain_json_strings_are_copied_whole() {
        let mut s = String::new();
        json_str(&mut s, "https://api.example.com/ é ☃");
        assert_eq!(s, "\"https://api.example.com/ é ☃\"");
    }
}

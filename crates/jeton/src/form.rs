//! `application/x-www-form-urlencoded` parsing, exactly as RFC 6749 Appendix B asks.
//!
//! The parser is total: any byte string gives a [`Form`] or a [`FormError`], never a panic,
//! and its work is bounded by the input length and [`FormLimits`].

use std::fmt;
use zeroize::Zeroize;

/// Limits on a form body, set by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FormLimits {
    /// The most `name=value` pairs accepted.
    pub max_pairs: usize,
}

impl Default for FormLimits {
    fn default() -> Self {
        Self { max_pairs: 64 }
    }
}

/// Why a form body was refused. Every variant maps to `invalid_request`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormError {
    /// A `%` not followed by two hexadecimal digits.
    #[error("malformed percent-escape")]
    BadEscape,
    /// The decoded bytes are not UTF-8.
    #[error("parameter is not valid UTF-8")]
    NotUtf8,
    /// More pairs than [`FormLimits::max_pairs`].
    #[error("too many parameters")]
    TooManyPairs,
}

/// A decoded form: `(name, value)` pairs in body order.
///
/// Pairs whose value is empty are dropped while parsing: RFC 6749 §3.2 says "parameters sent
/// without a value MUST be treated as if they were omitted from the request". Decoded values are
/// wiped from memory when the form is dropped, since they may hold a client secret.
///
/// Every decoded name and value sits in one buffer, and the pairs are ranges into it: a token
/// request costs two allocations here, not two per parameter (issue 13).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Form {
    /// The decoded names and values, back to back.
    text: String,
    /// `(name, value)` as byte ranges of `text`, each on a character boundary.
    pairs: Vec<(Span, Span)>,
}

/// A byte range of [`Form::text`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
}

impl fmt::Debug for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names only: values may be secrets.
        f.debug_list()
            .entries(self.pairs.iter().map(|&(n, _)| self.at(n)))
            .finish()
    }
}

impl Drop for Form {
    fn drop(&mut self) {
        self.text.zeroize();
    }
}

impl Form {
    fn at(&self, span: Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or_default()
    }

    /// Whether the name at `span` is `name`. The lengths first: the engine asks for about
    /// seven names a token request, nearly all absent, and a length differs far more cheaply
    /// than a slice is taken and compared (issue 13).
    fn is(&self, span: Span, name: &str) -> bool {
        span.end - span.start == name.len() && self.at(span) == name
    }

    /// All pairs, in body order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|&(n, v)| (self.at(n), self.at(v)))
    }

    /// Every value of `name`, in body order.
    pub fn get_all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.pairs
            .iter()
            .filter(move |&&(n, _)| self.is(n, name))
            .map(|&(_, v)| self.at(v))
    }

    /// The first name that occurs more than once and is not in `repeatable`.
    pub fn first_repeated(&self, repeatable: &[&str]) -> Option<&str> {
        self.pairs().enumerate().find_map(|(i, (n, _))| {
            let repeated =
                !repeatable.contains(&n) && self.pairs().take(i).any(|(earlier, _)| earlier == n);
            repeated.then_some(n)
        })
    }

    /// The single value of `name`, if present. Callers reject repeats first with
    /// [`Form::first_repeated`]; this returns the first value.
    pub fn get(&self, name: &str) -> Option<&str> {
        let &(_, value) = self.pairs.iter().find(|&&(n, _)| self.is(n, name))?;
        Some(self.at(value))
    }
}

/// Parses a form body: split on `&`, split each part at the first `=`, decode both halves with
/// [`decode_component`]. Empty parts (`a=1&&b=2`) are skipped; a part without `=` is a name
/// with an empty value, so it is dropped like any empty value.
pub fn parse(body: &[u8], limits: FormLimits) -> Result<Form, FormError> {
    let mut text = Vec::with_capacity(body.len());
    let mut pairs = Vec::new();
    let result = (|| {
        for part in body.split(|&b| b == b'&') {
            if part.is_empty() {
                continue;
            }
            let (name, value) = match part.iter().position(|&b| b == b'=') {
                Some(i) => (&part[..i], &part[i + 1..]),
                None => (part, &b""[..]),
            };
            let mark = text.len();
            let name = decode_into(name, &mut text)?;
            let value = decode_into(value, &mut text)?;
            if value.start == value.end {
                text.truncate(mark);
                continue;
            }
            if pairs.len() == limits.max_pairs {
                return Err(FormError::TooManyPairs);
            }
            pairs.push((name, value));
        }
        Ok(())
    })();
    if let Err(e) = result {
        text.zeroize();
        return Err(e);
    }
    // Each part was checked as UTF-8 on its own, so the whole is UTF-8 too.
    match String::from_utf8(text) {
        Ok(text) => Ok(Form { text, pairs }),
        Err(e) => {
            e.into_bytes().zeroize();
            Err(FormError::NotUtf8)
        }
    }
}

/// Decodes one component onto the end of `out` (as [`decode_component`] does) and returns
/// where it landed. On an error `out` may hold part of it: the caller wipes `out`.
fn decode_into(input: &[u8], out: &mut Vec<u8>) -> Result<Span, FormError> {
    let start = out.len();
    unescape(input, out)?;
    let end = out.len();
    // ASCII, nearly every component, is UTF-8 on its own: no validation call.
    if !is_ascii(&out[start..end]) {
        std::str::from_utf8(&out[start..end]).map_err(|_| FormError::NotUtf8)?;
    }
    Ok(Span { start, end })
}

/// Whether every byte is ASCII. A fold with no early exit, which the compiler turns into a
/// check of many bytes at a time: on these short strings it costs less than `<[u8]>::is_ascii`
/// (callgrind: 300 instructions fewer per token request) and far less than `from_utf8`.
fn is_ascii(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |high, &b| high | b) < 0x80
}

/// Appends `input` to `out` with `+` and `%XX` undone; the bytes are not checked as UTF-8 here
/// (each caller checks once).
fn unescape(input: &[u8], out: &mut Vec<u8>) -> Result<(), FormError> {
    // memchr's vector search: a byte-wise `any` was the form's largest cost here (issue 13;
    // a 53-byte client secret goes through this too, in Basic credentials).
    if memchr::memchr2(b'+', b'%', input).is_none() {
        // Nothing to decode, the common case: one copy.
        out.extend_from_slice(input);
        return Ok(());
    }
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = input.get(i + 1).and_then(|&c| hex(c));
                let lo = input.get(i + 2).and_then(|&c| hex(c));
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push(h << 4 | l),
                    _ => return Err(FormError::BadEscape),
                }
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    Ok(())
}

/// Decodes one form component per RFC 6749 Appendix B: `+` becomes a space, `%XX` becomes the
/// byte `XX`, then the bytes are read as UTF-8. A stray `%` is an error.
pub fn decode_component(input: &[u8]) -> Result<String, FormError> {
    let mut out = Vec::with_capacity(input.len());
    if let Err(e) = unescape(input, &mut out) {
        out.zeroize();
        return Err(e);
    }
    String::from_utf8(out).map_err(|e| {
        e.into_bytes().zeroize();
        FormError::NotUtf8
    })
}

/// Encodes a string per RFC 6749 Appendix B (the `application/x-www-form-urlencoded`
/// serializer): unreserved bytes `A-Z a-z 0-9 - . _ *` are kept, space becomes `+`, every other
/// byte becomes `%XX`.
pub fn encode_component(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for &b in input.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
    out
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(body: &str) -> Result<Form, FormError> {
        parse(body.as_bytes(), FormLimits::default())
    }

    #[test]
    fn rfc6749_appendix_b_plus_is_space_and_escapes_decode() {
        let f = p("scope=a+b%20c&x=%E2%82%AC").unwrap();
        assert_eq!(f.get("scope"), Some("a b c"));
        assert_eq!(f.get("x"), Some("\u{20ac}"));
    }

    #[test]
    fn rfc6749_appendix_b_names_are_decoded_too() {
        let f = p("grant%5Ftype=client_credentials").unwrap();
        assert_eq!(f.get("grant_type"), Some("client_credentials"));
    }

    #[test]
    fn rfc6749_appendix_b_bad_escape_is_an_error() {
        assert_eq!(p("a=%G1"), Err(FormError::BadEscape));
        assert_eq!(p("a=%4"), Err(FormError::BadEscape));
        assert_eq!(p("a=%"), Err(FormError::BadEscape));
        assert_eq!(p("%zz=1"), Err(FormError::BadEscape));
    }

    #[test]
    fn rfc6749_appendix_b_invalid_utf8_after_decoding_is_an_error() {
        assert_eq!(p("a=%FF"), Err(FormError::NotUtf8));
        assert_eq!(
            parse(b"a=\xff", FormLimits::default()),
            Err(FormError::NotUtf8)
        );
    }

    #[test]
    fn rfc6749_3_2_empty_values_are_dropped() {
        let f = p("a=&b&c=1&&").unwrap();
        assert_eq!(f.pairs().collect::<Vec<_>>(), vec![("c", "1")]);
    }

    #[test]
    fn value_keeps_later_equals_signs() {
        let f = p("a=b=c").unwrap();
        assert_eq!(f.get("a"), Some("b=c"));
    }

    #[test]
    fn rfc6749_3_2_repeats_are_found() {
        let f = p("a=1&b=2&a=3").unwrap();
        assert_eq!(f.first_repeated(&[]), Some("a"));
        let f = p("resource=x&resource=y").unwrap();
        assert_eq!(f.first_repeated(&["resource"]), None);
    }

    #[test]
    fn pair_limit_is_enforced() {
        let body = "a=1&".repeat(65);
        assert_eq!(p(&body), Err(FormError::TooManyPairs));
        assert!(p(&"a=1&".repeat(64)).is_ok());
    }

    #[test]
    fn encode_then_decode_is_identity() {
        for s in ["", "a b", "z/tZ9:X=+", "\u{20ac}*.-_~"] {
            assert_eq!(decode_component(encode_component(s).as_bytes()).unwrap(), s);
        }
    }

    #[test]
    fn debug_never_prints_values() {
        let f = p("client_secret=hunter2").unwrap();
        assert!(!format!("{f:?}").contains("hunter2"));
    }
}

//! Configuration errors: every problem found, each rendered with file, line, column and key path.

use std::fmt;
use std::ops::Range;
use std::path::Path;

/// A configuration was refused. Its `Display` is one line per problem, ready for stderr.
#[derive(Debug)]
pub(crate) struct ConfigError(pub(super) Vec<String>);

impl ConfigError {
    /// An error not tied to a place in the file.
    pub(crate) fn plain(msg: impl Into<String>) -> Self {
        Self(vec![msg.into()])
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

impl std::error::Error for ConfigError {}

/// One problem found while checking meaning, at a key path such as `clients[1].secrets[0]`.
pub(super) struct Problem {
    pub(super) path: String,
    pub(super) message: String,
}

/// The file being read: its name (as given) and text.
pub(super) struct Source<'a> {
    pub(super) name: String,
    pub(super) text: &'a str,
    pub(super) tree: Option<toml::Spanned<toml::de::DeTable<'a>>>,
}

impl<'a> Source<'a> {
    pub(super) fn new(name: &Path, text: &'a str) -> Self {
        Self {
            name: name.display().to_string(),
            text,
            tree: toml::de::DeTable::parse(text).ok(),
        }
    }

    /// `file:line:col` for a byte offset.
    pub(super) fn position(&self, offset: usize) -> String {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        format!("{}:{line}:{col}", self.name)
    }

    /// Renders a `toml` deserialization error: position, key path, message.
    pub(super) fn render_toml(&self, e: &toml::de::Error) -> String {
        let path = e.span().and_then(|span| self.path_at(span.start));
        let message = redact(e.message().trim_end(), path.as_deref());
        match e.span() {
            Some(span) => match self.path_at(span.start) {
                Some(path) => format!("{}: {path}: {message}", self.position(span.start)),
                None => format!("{}: {message}", self.position(span.start)),
            },
            None => format!("{}: {message}", self.name),
        }
    }

    /// Renders a problem found while checking meaning.
    pub(super) fn render(&self, p: &Problem) -> String {
        let message = redact(&p.message, Some(&p.path));
        match self.span_of(&p.path) {
            Some(span) => format!("{}: {}: {message}", self.position(span.start), p.path),
            None => format!("{}: {}: {message}", self.name, p.path),
        }
    }

    /// The key path of the smallest key or value whose span holds `offset`.
    pub(super) fn path_at(&self, offset: usize) -> Option<String> {
        fn walk(
            table: &toml::de::DeTable<'_>,
            prefix: &str,
            offset: usize,
            best: &mut Option<(usize, String)>,
        ) {
            for (k, v) in table {
                let path = if prefix.is_empty() {
                    k.get_ref().to_string()
                } else {
                    format!("{prefix}.{}", k.get_ref())
                };
                consider(k.span(), &path, offset, best);
                walk_value(v, &path, offset, best);
            }
        }
        fn walk_value(
            v: &toml::Spanned<toml::de::DeValue<'_>>,
            path: &str,
            offset: usize,
            best: &mut Option<(usize, String)>,
        ) {
            consider(v.span(), path, offset, best);
            match v.get_ref() {
                toml::de::DeValue::Table(t) => walk(t, path, offset, best),
                toml::de::DeValue::Array(a) => {
                    for (i, item) in a.iter().enumerate() {
                        walk_value(item, &format!("{path}[{i}]"), offset, best);
                    }
                }
                _ => {}
            }
        }
        fn consider(
            span: Range<usize>,
            path: &str,
            offset: usize,
            best: &mut Option<(usize, String)>,
        ) {
            if span.contains(&offset) || (span.is_empty() && span.start == offset) {
                let len = span.len();
                if best.as_ref().is_none_or(|(l, _)| len <= *l) {
                    *best = Some((len, path.to_owned()));
                }
            }
        }
        let tree = self.tree.as_ref()?;
        let mut best = None;
        walk(tree.get_ref(), "", offset, &mut best);
        best.map(|(_, p)| p)
    }

    /// The span of the value at a key path (`a.b[2].c`).
    pub(super) fn span_of(&self, path: &str) -> Option<Range<usize>> {
        let tree = self.tree.as_ref()?;
        let mut table = tree.get_ref();
        let mut span = None;
        let mut segments = path.split('.').peekable();
        while let Some(seg) = segments.next() {
            let (key, indices) = match seg.find('[') {
                Some(i) => (&seg[..i], &seg[i..]),
                None => (seg, ""),
            };
            let (_, mut value) = table.iter().find(|(k, _)| k.get_ref() == key)?;
            for idx in indices
                .split(['[', ']'])
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<usize>())
            {
                let toml::de::DeValue::Array(a) = value.get_ref() else {
                    return None;
                };
                value = a.get(idx.ok()?)?;
            }
            span = Some(value.span());
            if segments.peek().is_some() {
                let toml::de::DeValue::Table(t) = value.get_ref() else {
                    return span;
                };
                table = t;
            }
        }
        span
    }
}

/// What stands for a value an error message must not echo.
pub(super) const REDACTED: &str = "[redacted]";

/// An error message as it may be printed (issue 9): the `toml` and serde messages quote the
/// value they refused (`invalid type: string "jcs_…", expected a sequence`), and the value of a
/// secret-like key may be a secret pasted in the wrong place. So every quoted value in a message
/// about a key whose path names a secret or a verifier is replaced by [`REDACTED`], and anything
/// shaped like a generated secret (`jcs_…`) or a verifier (`$hmac-sha256$…`,
/// `$pbkdf2-sha256$…`) is replaced wherever it appears, whatever the key.
pub(super) fn redact(message: &str, path: Option<&str>) -> String {
    let secret_key = path.is_some_and(|p| {
        let p = p.to_ascii_lowercase();
        ["secret", "verifier", "password"]
            .iter()
            .any(|k| p.contains(k))
    });
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while !rest.is_empty() {
        if secret_key && let Some(quoted) = rest.strip_prefix('"') {
            // A quoted value of a secret-like key: dropped up to its closing quote.
            let end = quoted.find('"').map_or(quoted.len(), |i| i + 1);
            out.push('"');
            out.push_str(REDACTED);
            out.push('"');
            rest = &quoted[end.min(quoted.len())..];
            continue;
        }
        if let Some(len) = secret_shaped(rest) {
            out.push_str(REDACTED);
            rest = &rest[len..];
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The length of the secret or verifier `s` starts with, if it starts with one.
fn secret_shaped(s: &str) -> Option<usize> {
    let body = |from: usize, extra: &[char]| {
        from + s[from..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || "_-".contains(c) || extra.contains(&c)))
            .unwrap_or(s.len() - from)
    };
    if s.starts_with(jeton::SECRET_PREFIX) {
        return Some(body(jeton::SECRET_PREFIX.len(), &[]));
    }
    ["$hmac-sha256$", "$pbkdf2-sha256$"]
        .iter()
        .find(|p| s.starts_with(*p))
        .map(|p| body(p.len(), &['$', '=', '+', '/', '.']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_9_secrets_and_verifiers_are_redacted_from_messages() {
        let secret = "jcs_AbCdEf0123456789_-xyz";
        let m = format!("invalid type: string \"{secret}\", expected a sequence");
        for path in [Some("clients[0].secrets"), Some("issuer"), None] {
            let out = redact(&m, path);
            assert!(!out.contains("AbCdEf"), "{out}");
            assert!(out.contains("expected a sequence"), "{out}");
        }
        let out = redact(
            "invalid type: string \"hunter2\"",
            Some("clients[1].secrets[0]"),
        );
        assert_eq!(out, "invalid type: string \"[redacted]\"");
        let verifier = "$pbkdf2-sha256$i=600000$c2FsdA$aGFzaA";
        assert!(!redact(&format!("bad {verifier} here"), None).contains("c2FsdA"));
        // Nothing else is touched.
        let plain = "unknown field `scopez`, expected one of `id`, \"x\"";
        assert_eq!(redact(plain, Some("clients[0].scopez")), plain);
    }
}

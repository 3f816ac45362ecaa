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
        let message = e.message().trim_end();
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
        match self.span_of(&p.path) {
            Some(span) => format!("{}: {}: {}", self.position(span.start), p.path, p.message),
            None => format!("{}: {}: {}", self.name, p.path, p.message),
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

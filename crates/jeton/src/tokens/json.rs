//! JSON objects as JOSE reads them: duplicate member names refused (RFC 7515 §5.2, RFC 7519
//! §4), so two parsers can never disagree about a claim; and the test that lets jeton write a
//! string of its own JSON without serde_json.

use crate::types::Scope;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Parses a JSON object whose top-level member names are all distinct (RFC 7515 §5.2 step 4,
/// RFC 7519 §7.2 step 10: "the JWT MUST be rejected" on duplicate names, or an attacker could
/// pick which copy a verifier reads).
pub(crate) fn object(bytes: &[u8]) -> Option<Map<String, Value>> {
    serde_json::from_slice::<UniqueObject>(bytes)
        .ok()
        .map(|o| o.0)
}

struct UniqueObject(Map<String, Value>);

impl<'de> Deserialize<'de> for UniqueObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UniqueObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object with distinct member names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<UniqueObject, A::Error> {
                let mut m = Map::new();
                while let Some(k) = a.next_key::<String>()? {
                    if m.contains_key(&k) {
                        return Err(de::Error::custom("duplicate member"));
                    }
                    let v: Value = a.next_value()?;
                    m.insert(k, v);
                }
                Ok(UniqueObject(m))
            }
        }
        d.deserialize_map(V)
    }
}

/// Whether serde_json writes `s` inside quotes unchanged: it escapes only control characters,
/// `"` and `\` (DEL and non-ASCII UTF-8 pass through). The token response and the JWT claims
/// are written directly when every string in them passes (`server/token_body.rs`,
/// `tokens/jwt.rs`), which is nearly always: tokens are base64url, scope tokens NQCHAR. A fold
/// rather than a search, so that the compiler checks many bytes at a time.
pub(crate) fn is_plain(s: &str) -> bool {
    s.bytes().fold(true, |plain, b| {
        plain & (b >= 0x20 && b != b'"' && b != b'\\')
    })
}

/// Appends `"s"`; the caller has checked `s` with [`is_plain`].
pub(crate) fn push_plain(out: &mut Vec<u8>, s: &str) {
    debug_assert!(is_plain(s));
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

/// Whether every token of `scope` passes [`is_plain`].
pub(crate) fn is_plain_scope(scope: &Scope) -> bool {
    scope.iter().all(|t| is_plain(t.as_str()))
}

/// Appends `scope` as serde_json writes it (its tokens joined by spaces, in quotes); the caller
/// has checked it with [`is_plain_scope`].
pub(crate) fn push_plain_scope(out: &mut Vec<u8>, scope: &Scope) {
    debug_assert!(is_plain_scope(scope));
    out.push(b'"');
    for (i, token) in scope.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(token.as_str().as_bytes());
    }
    out.push(b'"');
}

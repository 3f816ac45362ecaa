//! Newtypes for protocol words, validated when built.

use std::fmt;
use zeroize::Zeroize;

/// RFC 6749 Appendix A: `VSCHAR = %x20-7E`.
pub(crate) fn is_vschar(b: u8) -> bool {
    (0x20..=0x7e).contains(&b)
}

/// RFC 6749 Appendix A: `NQCHAR = %x21 / %x23-5B / %x5D-7E`.
pub(crate) fn is_nqchar(b: u8) -> bool {
    b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b)
}

/// The conversions every validated string newtype shares: `TryFrom<String>` (validating through
/// `new`), `From<Self> for String`, `Debug` in the given format, `Display` as the bare string,
/// and equality with a string (so that `claims.client_id == "billing"` reads naturally).
macro_rules! string_newtype_impls {
    ($name:ident, $debug:literal) => {
        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl From<$name> for String {
            fn from(c: $name) -> Self {
                c.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, $debug, self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

/// Why a protocol word was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidValue {
    /// Empty where a value is required.
    #[error("empty value")]
    Empty,
    /// Longer than allowed.
    #[error("value too long")]
    TooLong,
    /// A character outside the allowed set.
    #[error("character outside the allowed set")]
    BadChar,
    /// Not an absolute URI without fragment.
    #[error("not an absolute URI without fragment")]
    NotAbsoluteUri,
}

/// A client identifier: 1 to [`ClientId::MAX_LEN`] `VSCHAR` characters (RFC 6749 Appendix A.1).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    /// The longest client identifier accepted, in bytes.
    pub const MAX_LEN: usize = 255;

    /// Validates a client identifier.
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidValue> {
        let id = id.into();
        if id.is_empty() {
            return Err(InvalidValue::Empty);
        }
        if id.len() > Self::MAX_LEN {
            return Err(InvalidValue::TooLong);
        }
        if !id.bytes().all(is_vschar) {
            return Err(InvalidValue::BadChar);
        }
        Ok(Self(id))
    }

    /// The identifier as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(ClientId, "ClientId({:?})");

/// A client secret as presented by a client: `VSCHAR` only (RFC 6749 Appendix A.2).
///
/// Its `Debug` prints `***`, it has no `Display`, and its memory is wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Validates a presented secret: non-empty, `VSCHAR` only, at most 1024 bytes.
    pub fn new(secret: impl Into<String>) -> Result<Self, InvalidValue> {
        let mut secret = secret.into();
        let check = if secret.is_empty() {
            Err(InvalidValue::Empty)
        } else if secret.len() > 1024 {
            Err(InvalidValue::TooLong)
        } else if !secret.bytes().all(is_vschar) {
            Err(InvalidValue::BadChar)
        } else {
            Ok(())
        };
        match check {
            Ok(()) => Ok(Self(secret)),
            Err(e) => {
                secret.zeroize();
                Err(e)
            }
        }
    }

    /// The secret itself. Handle with care: never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for ClientSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(***)")
    }
}

/// One scope token: 1 or more `NQCHAR` (RFC 6749 §3.3, Appendix A.4). Case-sensitive.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ScopeToken(String);

impl ScopeToken {
    /// Validates a scope token.
    pub fn new(token: impl Into<String>) -> Result<Self, InvalidValue> {
        let token = token.into();
        if token.is_empty() {
            return Err(InvalidValue::Empty);
        }
        if token.len() > 256 {
            return Err(InvalidValue::TooLong);
        }
        if !token.bytes().all(is_nqchar) {
            return Err(InvalidValue::BadChar);
        }
        Ok(Self(token))
    }

    /// The token as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(ScopeToken, "{:?}");

/// A set of scope tokens, kept in first-seen order without duplicates.
///
/// Its wire form (RFC 6749 §3.3) is the tokens joined by single spaces.
#[derive(Clone, Default, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct Scope(Vec<ScopeToken>);

/// The wire form, as a string: written straight from the tokens ([`fmt::Display`]), with no
/// `String` of its own first (token responses and JWT claims carry it on every request).
impl serde::Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Scope {
    /// The most tokens one scope value may hold.
    pub const MAX_TOKENS: usize = 64;

    /// Parses the wire form. RFC 6749 §3.3: `scope-token *( SP scope-token )`; a leading,
    /// trailing or doubled space makes an empty token, which is refused. Duplicates collapse.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        Self::parse_at_most(value, Self::MAX_TOKENS)
    }

    /// Parses the `scope` claim of a token whose signature jeton checked: like [`Scope::parse`]
    /// but without the limit on tokens, because a client allowed more than
    /// [`Scope::MAX_TOKENS`] scopes with `DefaultScope::AllAllowed` is granted them all, and
    /// every token jeton issues must be introspectable and revocable (issue 9). The work stays
    /// bounded by the token's length, which is capped before its signature is checked.
    pub(crate) fn parse_claim(value: &str) -> Result<Self, InvalidValue> {
        Self::parse_at_most(value, usize::MAX)
    }

    fn parse_at_most(value: &str, max_tokens: usize) -> Result<Self, InvalidValue> {
        let mut scope = Scope::default();
        for part in value.split(' ') {
            let token = ScopeToken::new(part)?;
            if scope.0.len() == max_tokens {
                return Err(InvalidValue::TooLong);
            }
            scope.insert(token);
        }
        Ok(scope)
    }

    /// Builds a scope from tokens, dropping duplicates.
    pub fn from_tokens(tokens: impl IntoIterator<Item = ScopeToken>) -> Self {
        let mut scope = Scope::default();
        for t in tokens {
            scope.insert(t);
        }
        scope
    }

    /// Adds a token unless present.
    pub fn insert(&mut self, token: ScopeToken) {
        if !self.0.contains(&token) {
            self.0.push(token);
        }
    }

    /// Whether the token is in this scope. Exact, case-sensitive match.
    pub fn contains(&self, token: &ScopeToken) -> bool {
        self.0.contains(token)
    }

    /// Whether every token of `self` is in `other`.
    pub fn is_subset_of(&self, other: &Scope) -> bool {
        self.0.iter().all(|t| other.contains(t))
    }

    /// The tokens, in order.
    pub fn iter(&self) -> impl Iterator<Item = &ScopeToken> {
        self.0.iter()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of tokens.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl TryFrom<String> for Scope {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if s.is_empty() {
            return Ok(Self::default());
        }
        Self::parse(&s)
    }
}

impl From<Scope> for String {
    fn from(s: Scope) -> Self {
        s.to_string()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(t.as_str())?;
        }
        Ok(())
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({:?})", self.to_string())
    }
}

/// A resource indicator (RFC 8707 §2): an absolute URI with no fragment, `VSCHAR` only.
///
/// The check is syntactic: a scheme (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`) followed by
/// `:` and a non-empty remainder, no `#`, no space. Matching against allow-lists is exact.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Resource(String);

impl Resource {
    /// Validates a resource indicator.
    pub fn new(uri: impl Into<String>) -> Result<Self, InvalidValue> {
        let uri = uri.into();
        if uri.is_empty() {
            return Err(InvalidValue::Empty);
        }
        if uri.len() > 2048 {
            return Err(InvalidValue::TooLong);
        }
        if !uri.bytes().all(|b| is_vschar(b) && b != b' ') {
            return Err(InvalidValue::BadChar);
        }
        let Some((scheme, rest)) = uri.split_once(':') else {
            return Err(InvalidValue::NotAbsoluteUri);
        };
        let mut sb = scheme.bytes();
        let scheme_ok = sb.next().is_some_and(|b| b.is_ascii_alphabetic())
            && sb.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        if !scheme_ok || rest.is_empty() || uri.contains('#') {
            return Err(InvalidValue::NotAbsoluteUri);
        }
        Ok(Self(uri))
    }

    /// The URI as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(Resource, "Resource({:?})");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6749_a_1_client_id_is_vschar() {
        assert!(ClientId::new("a b~!").is_ok());
        assert_eq!(ClientId::new("a\u{e9}"), Err(InvalidValue::BadChar));
        assert_eq!(ClientId::new("a\n"), Err(InvalidValue::BadChar));
        assert_eq!(ClientId::new(""), Err(InvalidValue::Empty));
        assert_eq!(ClientId::new("x".repeat(256)), Err(InvalidValue::TooLong));
    }

    #[test]
    fn rfc6749_a_2_client_secret_is_vschar() {
        assert!(ClientSecret::new("a:b c").is_ok());
        assert_eq!(ClientSecret::new("\u{7f}"), Err(InvalidValue::BadChar));
        assert_eq!(ClientSecret::new("é"), Err(InvalidValue::BadChar));
    }

    #[test]
    fn client_secret_debug_is_redacted() {
        let s = ClientSecret::new("hunter2").unwrap();
        assert_eq!(format!("{s:?}"), "ClientSecret(***)");
    }

    #[test]
    fn rfc6749_3_3_scope_split_on_single_space() {
        let s = Scope::parse("read write").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s.to_string(), "read write");
    }

    #[test]
    fn rfc6749_3_3_empty_scope_tokens_are_invalid() {
        for bad in [" read", "read ", "read  write", " ", ""] {
            assert_eq!(Scope::parse(bad), Err(InvalidValue::Empty), "{bad:?}");
        }
    }

    #[test]
    fn rfc6749_a_4_scope_token_is_nqchar() {
        assert!(Scope::parse("a!#[]~").is_ok());
        assert_eq!(Scope::parse("a\"b"), Err(InvalidValue::BadChar));
        assert_eq!(Scope::parse("a\\b"), Err(InvalidValue::BadChar));
        assert_eq!(Scope::parse("a\tb"), Err(InvalidValue::BadChar));
        assert_eq!(Scope::parse("caf\u{e9}"), Err(InvalidValue::BadChar));
    }

    #[test]
    fn rfc6749_3_3_scope_matching_is_case_sensitive() {
        let allowed = Scope::parse("read").unwrap();
        assert!(!Scope::parse("READ").unwrap().is_subset_of(&allowed));
        assert!(Scope::parse("read").unwrap().is_subset_of(&allowed));
    }

    #[test]
    fn scope_duplicates_collapse() {
        assert_eq!(Scope::parse("a b a").unwrap().to_string(), "a b");
    }

    #[test]
    fn rfc8707_2_resource_is_absolute_without_fragment() {
        assert!(Resource::new("https://api.example.com/v1").is_ok());
        assert!(Resource::new("urn:example:api").is_ok());
        assert_eq!(
            Resource::new("/relative"),
            Err(InvalidValue::NotAbsoluteUri)
        );
        assert_eq!(
            Resource::new("https://a/#frag"),
            Err(InvalidValue::NotAbsoluteUri)
        );
        assert_eq!(
            Resource::new("1http://a"),
            Err(InvalidValue::NotAbsoluteUri)
        );
        assert_eq!(Resource::new("https://a b"), Err(InvalidValue::BadChar));
    }
}

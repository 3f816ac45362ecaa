//! The issuer identifier (RFC 8414 §2): the URL naming the authorization server.
//!
//! Named `IssuerId` so that it is never confused with [`TokenIssuer`](crate::TokenIssuer), the
//! trait that mints tokens.

use crate::error::ConfigError;
use std::fmt;

/// An issuer identifier (RFC 8414 §2): `https` (or `http` on a loopback host, for
/// development), no query, no fragment, and no trailing `/` (one canonical form, so that the
/// `iss` of tokens and the metadata `issuer` compare equal byte for byte).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IssuerId(String);

impl IssuerId {
    /// Validates an issuer identifier.
    pub fn new(url: impl Into<String>) -> Result<Self, ConfigError> {
        let url = url.into();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://").filter(|r| is_loopback(r)))
            .ok_or(ConfigError::BadIssuer)?;
        let host = rest.split('/').next().unwrap_or("");
        if host.is_empty()
            || url.contains(['?', '#'])
            || url.ends_with('/')
            || !url.bytes().all(|b| (0x21..=0x7e).contains(&b))
        {
            return Err(ConfigError::BadIssuer);
        }
        Ok(Self(url))
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where the metadata document is served (RFC 8414 §3: the well-known suffix is inserted
    /// between the host and any path of the issuer): `/.well-known/oauth-authorization-server`
    /// followed by the issuer's path.
    pub fn metadata_path(&self) -> String {
        let after_scheme = self.0.split_once("://").map_or("", |(_, r)| r);
        let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
        format!("/.well-known/oauth-authorization-server{path}")
    }

    /// `issuer` + `path`, for endpoint URLs.
    pub fn join(&self, path: &str) -> String {
        format!("{}{}", self.0, path)
    }
}

fn is_loopback(rest: &str) -> bool {
    let authority = rest.split('/').next().unwrap_or("");
    let host = authority
        .rsplit_once(':')
        .filter(|(h, port)| !h.ends_with(']') || !port.is_empty())
        .map_or(authority, |(h, _)| h);
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

impl fmt::Debug for IssuerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IssuerId({:?})", self.0)
    }
}

impl fmt::Display for IssuerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8414_2_issuer_is_https_without_query_fragment_or_trailing_slash() {
        assert!(IssuerId::new("https://as.example.com").is_ok());
        assert!(IssuerId::new("https://as.example.com/tenant/a").is_ok());
        assert!(IssuerId::new("http://127.0.0.1:8080").is_ok());
        assert!(IssuerId::new("http://localhost:8080").is_ok());
        for bad in [
            "http://as.example.com",
            "https://as.example.com/",
            "https://as.example.com?x=1",
            "https://as.example.com#f",
            "https://",
            "ftp://as.example.com",
            "https://as example.com",
            "http://127.0.0.1.evil.com",
        ] {
            assert!(IssuerId::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rfc8414_3_well_known_is_inserted_before_the_issuer_path() {
        let i = IssuerId::new("https://as.example.com").unwrap();
        assert_eq!(i.metadata_path(), "/.well-known/oauth-authorization-server");
        let i = IssuerId::new("https://as.example.com/tenant/a").unwrap();
        assert_eq!(
            i.metadata_path(),
            "/.well-known/oauth-authorization-server/tenant/a"
        );
    }
}

//! Whether a request arrived over TLS: the deployment's transport setting and the one rule for
//! forwarded headers, shared by every adapter.

use crate::request::HeaderValues;
use std::net::IpAddr;

/// How requests reach the process, which decides whether a request counts as sent over TLS
/// (RFC 6749 §2.3.1, §3.2: the token endpoint MUST require TLS; RFC 9700 §4.13: forwarded
/// headers are trusted only from configured proxies). RFC-CHECKLIST item 4.
///
/// Adapters take one of these, ask [`Transport::is_secure`] per request with the connection's
/// peer address and every `X-Forwarded-Proto` value, and pass the answer to
/// [`RawRequest::secure`](crate::RawRequest::secure).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// The application terminates TLS itself (hyper behind `tokio-rustls`, actix-web's
    /// `bind_rustls_0_23`, ...): every request is secure.
    Tls,
    /// A TLS-terminating reverse proxy forwards plain HTTP. A request is secure only if its
    /// peer is one of `trusted` **and** it carries exactly one `X-Forwarded-Proto` whose value
    /// is `https` (case-insensitive). Configure the proxy to overwrite, not append to, that
    /// header. `X-Forwarded-*` from any other peer (or an unknown peer) is ignored.
    BehindProxy {
        /// The proxies' addresses, as the peer address of the connection shows them
        /// (IPv4-mapped IPv6 addresses match their IPv4 form).
        trusted: Vec<IpAddr>,
    },
    /// Plain HTTP for loopback development. No request is marked secure, so an engine that
    /// requires TLS (the default) refuses everything with `400 invalid_request`: build the
    /// engine with [`EngineBuilder::require_tls`](crate::EngineBuilder::require_tls)`(false)`
    /// to use this, and never in production.
    Plaintext,
}

impl Transport {
    /// The header a TLS-terminating proxy sets, lower-case: adapters push each of its values
    /// into the [`HeaderValues`] they pass to [`Transport::is_secure`].
    pub const FORWARDED_PROTO: &'static str = "x-forwarded-proto";

    /// Whether a request from `peer` (the connection's remote address; `None` when unknown)
    /// carrying these `X-Forwarded-Proto` values arrived over TLS, by this setting.
    ///
    /// RFC 6749 §2.3.1: "The authorization server MUST require the use of TLS [...] when
    /// sending requests using password authentication"; §3.2: "the authorization server MUST
    /// require the use of TLS [...] when sending requests to the token endpoint".
    ///
    /// RFC 9700 §4.13: "A reverse proxy MUST therefore sanitize any inbound requests to ensure
    /// the authenticity and integrity of all header values relevant for the security of the
    /// application servers." Only a listed proxy does that, so the forwarded scheme counts only
    /// from a listed peer, and only as one unambiguous value: a repeated header or a list may
    /// carry a value the client sent past a proxy that appends.
    pub fn is_secure(&self, peer: Option<IpAddr>, forwarded_proto: &HeaderValues<'_>) -> bool {
        match self {
            Self::Tls => true,
            Self::Plaintext => false,
            Self::BehindProxy { trusted } => {
                let Some(peer) = peer.map(|p| p.to_canonical()) else {
                    return false;
                };
                trusted.iter().any(|t| t.to_canonical() == peer)
                    && forwarded_proto
                        .single()
                        .is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"https"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jeton_testkit::{FORWARDED_PROTO_CASES, TRUSTED_PROXY};
    use std::net::SocketAddr;

    fn proto<'a>(values: &[&'a str]) -> HeaderValues<'a> {
        values.iter().map(|v| v.as_bytes()).collect()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn rfc9700_4_13_forwarded_proto_trusted_only_from_listed_proxies() {
        let proxy = Transport::BehindProxy {
            trusted: vec![IpAddr::from(TRUSTED_PROXY)],
        };
        for &(peer, values, secure) in FORWARDED_PROTO_CASES {
            let peer_ip = peer.parse::<SocketAddr>().ok().map(|p| p.ip());
            assert!(peer_ip.is_some(), "{peer}");
            assert_eq!(
                proxy.is_secure(peer_ip, &proto(values)),
                secure,
                "{peer} {values:?}"
            );
        }
        assert!(!proxy.is_secure(None, &proto(&["https"])));
    }

    #[test]
    fn rfc9700_4_13_a_proxy_listed_as_ipv4_mapped_ipv6_matches_its_ipv4_peer() {
        let proxy = Transport::BehindProxy {
            trusted: vec![ip("::ffff:10.0.0.5").unwrap()],
        };
        assert!(proxy.is_secure(ip("10.0.0.5"), &proto(&["https"])));
        assert!(!proxy.is_secure(ip("10.0.0.6"), &proto(&["https"])));
    }

    #[test]
    fn rfc6749_3_2_tls_and_plaintext_settings() {
        assert!(Transport::Tls.is_secure(None, &proto(&[])));
        assert!(!Transport::Plaintext.is_secure(ip("127.0.0.1"), &proto(&["https"])));
    }
}

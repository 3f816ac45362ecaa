//! Whether a request arrived over TLS: the deployment's transport setting and the one rule for
//! forwarded headers. The engine holds the setting and decides per request, from the facts the
//! adapter puts on the [`RawRequest`](crate::RawRequest) (peer address, `X-Forwarded-Proto`
//! values, and whether the connection itself is TLS).

use crate::request::{HeaderValues, RawRequest};
use std::net::IpAddr;

/// How requests reach the process, which decides whether a request counts as sent over TLS
/// (RFC 6749 §2.3.1, §3.2: the token endpoint MUST require TLS; RFC 9700 §4.13: forwarded
/// headers are trusted only from configured proxies).
///
/// Set once, on the engine ([`EngineBuilder::transport`](crate::EngineBuilder::transport)).
/// Adapters decide nothing: they pass the connection's peer address
/// ([`RawRequest::peer`](crate::RawRequest::peer)) and every `X-Forwarded-Proto` value
/// ([`RawRequest::forwarded_proto`](crate::RawRequest::forwarded_proto)), and the engine applies
/// this setting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// The default: only a request whose connection the adapter (or the embedding code)
    /// reports as TLS with [`RawRequest::secure`](crate::RawRequest::secure) is secure;
    /// forwarded headers are never trusted. An adapter that knows nothing of the connection
    /// reports nothing, so every request is refused until the deployment says how TLS reaches
    /// it: refusing is the safe failure.
    #[default]
    Direct,
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
    /// Plain HTTP for loopback development: TLS is not required and every request is accepted
    /// without it. Never in production.
    Plaintext,
}

impl Transport {
    /// The header a TLS-terminating proxy sets, lower-case: adapters pass each of its values to
    /// [`RawRequest::forwarded_proto`](crate::RawRequest::forwarded_proto).
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
            Self::Plaintext | Self::Direct => false,
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

impl Transport {
    /// The header a proxy puts the client's address in, lower-case: adapters pass each of its
    /// values to [`RawRequest::forwarded_for`](crate::RawRequest::forwarded_for).
    pub const FORWARDED_FOR: &'static str = "x-forwarded-for";

    /// The source address of `req` for per-source limits: the peer, unless the peer is a
    /// trusted proxy ([`Transport::BehindProxy`]) and the request carries exactly one
    /// `X-Forwarded-For`; then the rightmost address of that list that is not a trusted proxy
    /// (addresses to its left were written by whoever the first untrusted hop was, so they
    /// cannot be believed). An unreadable entry stops the walk at the last trusted hop.
    /// `None` when the adapter did not report the peer.
    pub fn source(&self, req: &RawRequest<'_>) -> Option<IpAddr> {
        let peer = req.peer?.to_canonical();
        let Self::BehindProxy { trusted } = self else {
            return Some(peer);
        };
        let is_trusted = |a: IpAddr| trusted.iter().any(|t| t.to_canonical() == a);
        if !is_trusted(peer) {
            return Some(peer);
        }
        let Some(list) = req
            .forwarded_for
            .single()
            .and_then(|v| std::str::from_utf8(v).ok())
        else {
            return Some(peer);
        };
        let mut source = peer;
        for entry in list.rsplit(',') {
            match entry.trim().parse::<IpAddr>() {
                Ok(a) => {
                    source = a.to_canonical();
                    if !is_trusted(source) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        Some(source)
    }

    /// Whether the engine accepts `req` on an endpoint that requires TLS (RFC 6749 §3.2): always
    /// with [`Transport::Plaintext`]; otherwise when the connection itself is TLS or this
    /// setting finds the request secure.
    pub fn admits(&self, req: &RawRequest<'_>) -> bool {
        *self == Self::Plaintext || req.secure || self.is_secure(req.peer, &req.forwarded_proto)
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
    fn rfc6749_3_2_the_engine_admits_by_its_setting() {
        let now = time::OffsetDateTime::UNIX_EPOCH;
        let plain = RawRequest::new("POST", b"", now).peer(ip("127.0.0.1"));
        let forwarded = plain.clone().forwarded_proto(b"https");
        let tls = plain.clone().secure(true);
        assert!(Transport::Plaintext.admits(&plain));
        assert!(Transport::Tls.admits(&plain));
        assert!(!Transport::Direct.admits(&plain));
        assert!(!Transport::Direct.admits(&forwarded));
        assert!(Transport::Direct.admits(&tls));
        let proxy = Transport::BehindProxy {
            trusted: vec![ip("127.0.0.1").unwrap()],
        };
        assert!(!proxy.admits(&plain));
        assert!(proxy.admits(&forwarded));
        assert!(proxy.admits(&tls));
        assert_eq!(Transport::default(), Transport::Direct);
    }

    #[test]
    fn rfc6749_2_3_1_the_source_is_the_peer_or_what_a_trusted_proxy_forwards() {
        let now = time::OffsetDateTime::UNIX_EPOCH;
        let proxy = Transport::BehindProxy {
            trusted: vec![ip("10.0.0.1").unwrap(), ip("10.0.0.2").unwrap()],
        };
        let from = |peer: &str, xff: &[&'static str]| {
            let mut r = RawRequest::new("POST", b"", now).peer(ip(peer));
            for v in xff {
                r = r.forwarded_for(v.as_bytes());
            }
            r
        };
        // Untrusted peer: its forwarded header is ignored.
        assert_eq!(
            proxy.source(&from("192.0.2.9", &["198.51.100.1"])),
            ip("192.0.2.9")
        );
        // Trusted peer: the rightmost untrusted address, skipping trusted hops.
        assert_eq!(
            proxy.source(&from("10.0.0.1", &["1.1.1.1, 198.51.100.1, 10.0.0.2"])),
            ip("198.51.100.1")
        );
        // Garbage stops the walk at the last trusted hop; two headers are not believed.
        assert_eq!(
            proxy.source(&from("10.0.0.1", &["junk, 10.0.0.2"])),
            ip("10.0.0.2")
        );
        assert_eq!(
            proxy.source(&from("10.0.0.1", &["1.1.1.1", "2.2.2.2"])),
            ip("10.0.0.1")
        );
        // Direct: always the peer.
        assert_eq!(
            Transport::Direct.source(&from("10.0.0.1", &["1.1.1.1"])),
            ip("10.0.0.1")
        );
        assert_eq!(
            Transport::Direct.source(&RawRequest::new("POST", b"", now)),
            None
        );
    }

    #[test]
    fn rfc6749_3_2_tls_and_plaintext_settings() {
        assert!(Transport::Tls.is_secure(None, &proto(&[])));
        assert!(!Transport::Plaintext.is_secure(ip("127.0.0.1"), &proto(&["https"])));
    }
}

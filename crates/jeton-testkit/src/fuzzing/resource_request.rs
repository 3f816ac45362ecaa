//! The `resource_request` fuzz target: one request to a protected API route, checked by
//! [`RequireScope::check_request`](jeton::RequireScope::check_request) (RFC 6750, RFC 9449 §7),
//! judged by [`check_resource_answer`].

use super::header_value;
use crate::resource_check::{
    API_HOST, api_route, bearer_token, bound_token, check_resource_answer, presented_as_dpop,
    proof_jwk, sign_proof,
};
use crate::{block_on, now};
use jeton::{BearerFailure, HeaderValues, RequestParts, Scope};

/// The request [`resource_request`] reads from its input, HTTP-like so seeds stay readable:
///
/// ```text
/// GET                                   the method (first line)
/// authorization: DPoP {bound}           one line per occurrence
/// dpop: eyJ…                            one line per occurrence, as is
/// dpop-signed: {"typ":…}|{"jti":…}      one proof: header and claims signed with the proof key
/// host: api.example.com                 the Host header (else the URI authority, API_HOST)
/// path: /orders                         the request path (default /orders)
/// scope: read                           the scope the route requires (default none)
/// ```
///
/// In `authorization`, `dpop` and `dpop-signed` values, `{bound}` and `{bearer}` stand for the
/// DPoP-bound and the bearer token, `{ath}` for the bound token's hash, `{jwk}` for the proof
/// key's public JWK and `{now}` for the fixed time (Unix seconds), so seeds hold no signature or
/// token that would go stale. `DPoP` values keep their order. Other lines are ignored.
#[derive(Debug, Default)]
pub struct ResourceFuzzRequest {
    /// The method, lossily decoded.
    pub method: String,
    /// Every `Authorization` value, placeholders expanded.
    pub authorization: Vec<Vec<u8>>,
    /// Every `DPoP` value, placeholders expanded, signed ones signed.
    pub dpop: Vec<Vec<u8>>,
    /// The `Host` header value, if any.
    pub host: Option<Vec<u8>>,
    /// The request path, lossily decoded.
    pub path: String,
    /// The scope the route requires (empty when the line is missing or not a scope).
    pub required: Scope,
}

/// `value` with every placeholder replaced.
fn expand(value: &[u8]) -> Vec<u8> {
    let now = now().unix_timestamp().to_string();
    let ath = jeton::access_token_hash(bound_token());
    let jwk = proof_jwk().to_string();
    let mut out = value.to_vec();
    for (name, by) in [
        (&b"{bound}"[..], bound_token().as_bytes()),
        (b"{bearer}", bearer_token().as_bytes()),
        (b"{ath}", ath.as_bytes()),
        (b"{jwk}", jwk.as_bytes()),
        (b"{now}", now.as_bytes()),
    ] {
        out = replace_all(&out, name, by);
    }
    out
}

fn replace_all(haystack: &[u8], needle: &[u8], by: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(i) = rest.windows(needle.len()).position(|w| w == needle) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(by);
        rest = &rest[i + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

impl ResourceFuzzRequest {
    /// Reads a request from fuzz input (total: every byte string is some request).
    pub fn parse(data: &[u8]) -> Self {
        let mut req = Self {
            path: "/orders".to_owned(),
            ..Self::default()
        };
        for (n, line) in data.split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if n == 0 {
                req.method = String::from_utf8_lossy(line).into_owned();
            } else if let Some(v) = header_value(line, b"authorization:") {
                req.authorization.push(expand(v));
            } else if let Some(v) = header_value(line, b"dpop-signed:") {
                let v = expand(v);
                let (header, claims) = match v.iter().position(|&b| b == b'|') {
                    Some(i) => (&v[..i], &v[i + 1..]),
                    None => (&v[..], &b""[..]),
                };
                req.dpop
                    .extend(sign_proof(header, claims).map(String::into_bytes));
            } else if let Some(v) = header_value(line, b"dpop:") {
                req.dpop.push(expand(v));
            } else if let Some(v) = header_value(line, b"host:") {
                req.host = Some(v.to_vec());
            } else if let Some(v) = header_value(line, b"path:") {
                req.path = String::from_utf8_lossy(v).into_owned();
            } else if let Some(v) = header_value(line, b"scope:") {
                req.required = std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| Scope::parse(s).ok())
                    .unwrap_or_default();
            }
        }
        req
    }

    /// The validator's view of it, for a request made to `url`.
    pub fn parts<'a>(&'a self, url: &'a str) -> RequestParts<'a> {
        let values = |v: &'a [Vec<u8>]| v.iter().map(Vec::as_slice).collect::<HeaderValues<'a>>();
        RequestParts {
            authorization: values(&self.authorization),
            dpop: values(&self.dpop),
            method: &self.method,
            url,
        }
    }
}

/// One request to a route of the API (see [`ResourceFuzzRequest`] for the input), checked at
/// the fixed [`now`], its URL made by [`RequireScope::request_url`](jeton::RequireScope::request_url)
/// from the `host` line and the path; the answer must have the shape
/// [`check_resource_answer`] states. A request accepted with the `DPoP` scheme is sent again
/// and must then be refused as a replay (RFC 9449 §11.1).
pub fn resource_request(data: &[u8]) {
    let req = ResourceFuzzRequest::parse(data);
    let route = api_route(req.required.clone());
    let url = route.request_url(req.host.as_deref(), Some(API_HOST), &req.path);
    let parts = req.parts(&url);
    let answer = block_on(route.check_request(&parts, now()));
    check_resource_answer(&parts, route.required(), &answer);
    if answer.is_ok() && presented_as_dpop(&parts) {
        let again = block_on(route.check_request(&parts, now()));
        check_resource_answer(&parts, route.required(), &again);
        assert_eq!(
            again.err().map(|e| e.failure()),
            Some(BearerFailure::DpopReplayed)
        );
    }
}

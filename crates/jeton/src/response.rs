//! Framework-neutral responses and the error rendering.

use crate::audit::AuditEvent;
use crate::error::ErrorCode;
use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

/// An HTTP response for the adapter to send as is: status, headers (copied verbatim) and body.
///
/// Every response of a token, introspection or revocation endpoint carries
/// `Cache-Control: no-store` and `Pragma: no-cache`, errors included (RFC 6749 §5.1).
/// `Debug` prints the body length, never the body (it may hold a token).
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    status: u16,
    /// Fixed values (`no-store`, `application/json`) are borrowed, so a response costs no
    /// allocation per header and an adapter can hand them on without copying (issue 13).
    headers: Vec<Header>,
    body: Vec<u8>,
}

/// One response header: its lower-case name and its value (borrowed when fixed).
pub type Header = (&'static str, Cow<'static, str>);

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl Response {
    /// Every header name the core's responses carry, lower-case: an adapter can map them to its
    /// own header names once instead of parsing a name per response (a name it does not know
    /// still works, parsed).
    pub const HEADER_NAMES: &'static [&'static str] = &[
        "content-type",
        "cache-control",
        "pragma",
        "content-length",
        "www-authenticate",
        "allow",
        "retry-after",
        "dpop-nonce",
    ];

    /// A JSON response with the no-store headers.
    pub(crate) fn json(status: u16, body: Vec<u8>) -> Self {
        // Room for one more (`dpop-nonce`, `www-authenticate`, `retry-after`) without growing.
        let mut headers = Vec::with_capacity(4);
        headers.extend([
            ("content-type", Cow::Borrowed("application/json")),
            ("cache-control", Cow::Borrowed("no-store")),
            ("pragma", Cow::Borrowed("no-cache")),
        ]);
        Self {
            status,
            headers,
            body,
        }
    }

    /// A bodiless response with the no-store headers (RFC 7009 §2.2 success).
    pub(crate) fn empty(status: u16) -> Self {
        Self {
            status,
            headers: vec![
                ("cache-control", Cow::Borrowed("no-store")),
                ("pragma", Cow::Borrowed("no-cache")),
            ],
            body: Vec::new(),
        }
    }

    /// An OAuth error response (RFC 6749 §5.2) with the code's status.
    pub(crate) fn error(code: ErrorCode, description: &'static str) -> Self {
        #[derive(serde::Serialize)]
        struct Body {
            error: &'static str,
            error_description: &'static str,
        }
        let body = serde_json::to_vec(&Body {
            error: code.as_str(),
            error_description: description,
        })
        .unwrap_or_default();
        Self::json(code.http_status(), body)
    }

    /// `404 {"error":"not_found"}`, not cached: the answer to a path no route serves.
    pub fn not_found() -> Self {
        Self::small_json(404, br#"{"error":"not_found"}"#)
    }

    /// `200 {"status":"ok"}`, not cached: a liveness answer (it checks nothing but that the
    /// process answers).
    pub fn healthy() -> Self {
        Self::small_json(200, br#"{"status":"ok"}"#)
    }

    /// `500 {"error":"server_error"}`, not cached: what an adapter sends when it cannot
    /// carry a response (it never can fail to carry the engine's own).
    pub fn server_error() -> Self {
        Self::small_json(500, br#"{"error":"server_error"}"#)
    }

    /// A fixed JSON answer that is not part of an OAuth exchange (routing, liveness).
    pub(crate) fn small_json(status: u16, body: &'static [u8]) -> Self {
        Self::json(status, body.to_vec())
    }

    /// This read-only answer as given to `method`: as is for `GET`; for `HEAD` the same
    /// headers with the `Content-Length` of the body, and no body (RFC 9110 §9.3.2); for any
    /// other method `405 {"error":"method_not_allowed"}` with `Allow: GET, HEAD`.
    pub fn for_read_only(mut self, method: &str) -> Self {
        match method {
            "GET" => self,
            "HEAD" => {
                let len = self.body.len();
                self.set_header("content-length", len.to_string());
                self.body.clear();
                self
            }
            _ => Self::small_json(405, br#"{"error":"method_not_allowed"}"#)
                .with_header("allow", "GET, HEAD"),
        }
    }

    pub(crate) fn with_header(
        mut self,
        name: &'static str,
        value: impl Into<Cow<'static, str>>,
    ) -> Self {
        debug_assert!(
            Self::HEADER_NAMES.contains(&name),
            "{name} not in HEADER_NAMES"
        );
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn set_header(&mut self, name: &'static str, value: impl Into<Cow<'static, str>>) {
        debug_assert!(
            Self::HEADER_NAMES.contains(&name),
            "{name} not in HEADER_NAMES"
        );
        self.remove_header(name);
        self.headers.push((name, value.into()));
    }

    pub(crate) fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The headers, lower-case names, in order. A fixed value is borrowed
    /// ([`Cow::Borrowed`]), so an adapter can pass it on without a copy.
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// The first value of a header (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    /// The body bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Takes the parts.
    pub fn into_parts(self) -> (u16, Vec<Header>, Vec<u8>) {
        (self.status, self.headers, self.body)
    }
}

/// The cause of a `500 server_error`, for the application's logs; never in the body.
pub type Diagnostic = Box<dyn StdError + Send + Sync + 'static>;

/// What an endpoint handler returns: the response, one audit event, and for infrastructure
/// failures (and failed best-effort work such as a hash upgrade) a diagnostic.
#[derive(Debug)]
#[non_exhaustive]
pub struct Outcome {
    /// Send this.
    pub response: Response,
    /// Log this.
    pub event: AuditEvent,
    /// Log this too, if present: the internal cause of a failure.
    pub diagnostic: Option<Diagnostic>,
}

/// Every `error_description` the engine sends. Static text only: the engine never
/// interpolates input or internals into a description (RFC 6749 §5.2 charset: no `"` or `\`).
pub(crate) mod desc {
    pub(crate) const METHOD: &str = "the endpoint accepts only POST";
    pub(crate) const TLS_REQUIRED: &str = "TLS is required";
    pub(crate) const CONTENT_TYPE: &str =
        "the content type must be application/x-www-form-urlencoded";
    pub(crate) const BODY_TOO_LARGE: &str = "the request body is too large";
    pub(crate) const BODY_UNREADABLE: &str = "the request body could not be read";
    pub(crate) const QUERY_PARAMS: &str =
        "parameters must be sent in the request body, not the URI";
    pub(crate) const MANY_AUTHORIZATION: &str = "more than one Authorization header";
    pub(crate) const MALFORMED_BODY: &str = "the request body is not valid form encoding";
    pub(crate) const TOO_MANY_PARAMS: &str = "too many parameters";
    pub(crate) const REPEATED: &str = "a parameter was repeated";
    pub(crate) const MISSING_GRANT_TYPE: &str = "grant_type is required";
    pub(crate) const UNSUPPORTED_GRANT_TYPE: &str = "the grant type is not supported";
    pub(crate) const MALFORMED_SCOPE: &str = "scope is malformed";
    pub(crate) const MALFORMED_RESOURCE: &str = "resource must be an absolute URI without fragment";
    pub(crate) const TOO_MANY_RESOURCES: &str = "too many resource parameters";
    pub(crate) const DPOP_REQUIRED: &str = "this client's tokens must be DPoP-bound";
    pub(crate) const INVALID_DPOP_PROOF: &str = "the DPoP proof is invalid";
    pub(crate) const DPOP_REPLAYED: &str = "the DPoP proof was already used";
    pub(crate) const USE_DPOP_NONCE: &str = "the DPoP proof must carry the server's nonce";
    pub(crate) const MULTIPLE_AUTH: &str = "more than one client authentication method was used";
    pub(crate) const CLIENT_ID_MISMATCH: &str = "client_id does not match the authenticated client";
    pub(crate) const BAD_CREDENTIAL_CHARS: &str = "client_id and client_secret must be VSCHAR";
    pub(crate) const CLIENT_AUTH_FAILED: &str = "client authentication failed";
    pub(crate) const GRANT_NOT_ALLOWED: &str = "the client may not use this grant type";
    pub(crate) const SCOPE_REQUIRED: &str = "scope is required";
    pub(crate) const SCOPE_NOT_ALLOWED: &str = "the requested scope is not allowed";
    pub(crate) const RESOURCE_NOT_ALLOWED: &str = "the requested resource is not allowed";
    pub(crate) const SERVER_ERROR: &str = "the server could not process the request";
    pub(crate) const TOKEN_REQUIRED: &str = "token is required";
    pub(crate) const NOT_YOUR_TOKEN: &str = "the token was not issued to this client";
    pub(crate) const THROTTLED: &str = "too many failed authentications; retry later";
    pub(crate) const OVERLOADED: &str = "the server is busy; retry later";

    #[cfg(test)]
    pub(crate) const ALL: &[&str] = &[
        METHOD,
        TLS_REQUIRED,
        CONTENT_TYPE,
        BODY_TOO_LARGE,
        BODY_UNREADABLE,
        QUERY_PARAMS,
        MANY_AUTHORIZATION,
        MALFORMED_BODY,
        TOO_MANY_PARAMS,
        REPEATED,
        MISSING_GRANT_TYPE,
        UNSUPPORTED_GRANT_TYPE,
        MALFORMED_SCOPE,
        MALFORMED_RESOURCE,
        TOO_MANY_RESOURCES,
        MULTIPLE_AUTH,
        CLIENT_ID_MISMATCH,
        BAD_CREDENTIAL_CHARS,
        CLIENT_AUTH_FAILED,
        GRANT_NOT_ALLOWED,
        SCOPE_REQUIRED,
        SCOPE_NOT_ALLOWED,
        RESOURCE_NOT_ALLOWED,
        SERVER_ERROR,
        TOKEN_REQUIRED,
        NOT_YOUR_TOKEN,
        THROTTLED,
        OVERLOADED,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6749_5_2_descriptions_use_the_allowed_charset() {
        for d in desc::ALL {
            assert!(
                d.bytes().all(|b| b == 0x20
                    || b == 0x21
                    || (0x23..=0x5b).contains(&b)
                    || (0x5d..=0x7e).contains(&b)),
                "{d}"
            );
        }
    }

    #[test]
    fn header_names_list_what_the_responses_carry() {
        let responses = [
            Response::json(200, b"{}".to_vec()),
            Response::empty(200),
            Response::error(ErrorCode::InvalidRequest, desc::REPEATED),
            Response::healthy().for_read_only("HEAD"),
            Response::healthy().for_read_only("POST"),
        ];
        for r in &responses {
            for (name, _) in r.headers() {
                assert!(Response::HEADER_NAMES.contains(name), "{name}");
            }
        }
        for name in Response::HEADER_NAMES {
            assert_eq!(name.to_ascii_lowercase(), *name);
        }
    }

    #[test]
    fn rfc6749_5_1_error_responses_are_no_store() {
        let r = Response::error(ErrorCode::InvalidRequest, desc::REPEATED);
        assert_eq!(r.status(), 400);
        assert_eq!(r.header("Cache-Control"), Some("no-store"));
        assert_eq!(r.header("pragma"), Some("no-cache"));
        assert_eq!(r.header("content-type"), Some("application/json"));
        let v: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(v["error"], "invalid_request");
        assert_eq!(v["error_description"], desc::REPEATED);
    }
}

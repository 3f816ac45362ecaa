//! Intake of a form `POST`: the checks every endpoint makes before reading parameters, and the
//! parameter parsers shared by the endpoints.

use crate::error::ErrorCode;
use crate::form::{self, Form, FormError};
use crate::request::{BodyState, RawRequest};
use crate::response::desc;
use crate::server::builder::Config;
use crate::server::rejection::{Rejection, RejectionKind};
use crate::types::Resource;

/// The parameter names that are never read from the URI query. A request carrying one of them
/// in its query is refused rather than merged (RFC 6749 §2.3.1, §3.2). Other query parameters
/// (for example one that is part of the configured endpoint URL) are ignored.
pub(crate) const PROTOCOL_PARAMS: &[&str] = &[
    "grant_type",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "scope",
    "resource",
    "audience",
    "token",
    "token_type_hint",
];

/// Checks what every jeton POST endpoint checks before reading parameters: method, transport,
/// content type, body size, URI query and `Authorization` count; then parses the form and
/// refuses repeated parameters (except those in `repeatable`).
pub(crate) fn parse_post_form(
    config: &Config,
    req: &RawRequest<'_>,
    max_body_bytes: usize,
    repeatable: &[&str],
) -> Result<Form, Rejection> {
    // RFC 6749 §3.2: "The client MUST use the HTTP "POST" method when making access token
    // requests."
    if req.method != "POST" {
        return Err(Rejection {
            code: ErrorCode::InvalidRequest,
            description: desc::METHOD,
            kind: RejectionKind::MethodNotAllowed,
            dpop_nonce: None,
        });
    }
    // RFC 6749 §3.2: "the authorization server MUST require the use of TLS".
    if !config.transport.admits(req) {
        return Err(Rejection::request(desc::TLS_REQUIRED));
    }
    match req.content_type.single() {
        Some(ct) if is_form_content_type(ct) => {}
        _ => return Err(Rejection::request(desc::CONTENT_TYPE)),
    }
    match req.body_state {
        BodyState::TooLarge => return Err(Rejection::request(desc::BODY_TOO_LARGE)),
        BodyState::Unreadable => return Err(Rejection::request(desc::BODY_UNREADABLE)),
        BodyState::Complete if req.body.len() > max_body_bytes => {
            return Err(Rejection::request(desc::BODY_TOO_LARGE));
        }
        BodyState::Complete => {}
    }
    // RFC 6749 §2.3.1: client credentials "MUST NOT be included in the request URI"; parameters
    // are read from the body only, never merged from the query.
    if let Some(q) = req.query
        && query_has_protocol_params(q)
    {
        return Err(Rejection::request(desc::QUERY_PARAMS));
    }
    if req.authorization.count() > 1 {
        return Err(Rejection::request(desc::MANY_AUTHORIZATION));
    }
    let form = form::parse(req.body, config.form_limits).map_err(|e| match e {
        FormError::TooManyPairs => Rejection::request(desc::TOO_MANY_PARAMS),
        _ => Rejection::request(desc::MALFORMED_BODY),
    })?;
    // RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once."
    if form.first_repeated(repeatable).is_some() {
        return Err(Rejection::request(desc::REPEATED));
    }
    Ok(form)
}

/// `application/x-www-form-urlencoded`, case-insensitive, optionally with parameters; a
/// `charset` parameter, if any, must be UTF-8.
fn is_form_content_type(value: &[u8]) -> bool {
    let Ok(value) = std::str::from_utf8(value) else {
        return false;
    };
    let mut parts = value.split(';');
    let media = parts.next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return false;
    }
    parts.all(|p| {
        let Some((name, v)) = p.split_once('=') else {
            return p.trim().is_empty();
        };
        !name.trim().eq_ignore_ascii_case("charset")
            || v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
    })
}

fn query_has_protocol_params(query: &str) -> bool {
    query.split('&').any(|part| {
        let name = part.split_once('=').map_or(part, |(n, _)| n);
        form::decode_component(name.as_bytes())
            .map(|n| PROTOCOL_PARAMS.contains(&n.as_str()))
            .unwrap_or(false)
    })
}

pub(crate) fn parse_resources(form: &Form, max: usize) -> Result<Vec<Resource>, Rejection> {
    let mut out: Vec<Resource> = Vec::new();
    for value in form.get_all("resource") {
        let r = Resource::new(value)
            .map_err(|_| Rejection::plain(ErrorCode::InvalidTarget, desc::MALFORMED_RESOURCE))?;
        if !out.contains(&r) {
            if out.len() == max {
                return Err(Rejection::request(desc::TOO_MANY_RESOURCES));
            }
            out.push(r);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_rules() {
        for ok in [
            "application/x-www-form-urlencoded",
            "Application/X-WWW-Form-Urlencoded",
            "application/x-www-form-urlencoded; charset=UTF-8",
            "application/x-www-form-urlencoded;charset=\"utf-8\"",
        ] {
            assert!(is_form_content_type(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "application/json",
            "application/x-www-form-urlencoded; charset=latin1",
            "multipart/form-data",
            "",
            "application/x-www-form-urlencodedx",
        ] {
            assert!(!is_form_content_type(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn rfc6749_3_2_configured_query_is_not_request_parameters() {
        assert!(!query_has_protocol_params("tenant=acme"));
        assert!(query_has_protocol_params("tenant=acme&client_secret=x"));
        assert!(query_has_protocol_params("grant%5Ftype=client_credentials"));
        assert!(query_has_protocol_params("scope"));
    }
}

//! Reading a request's `Authorization` header (RFC 6750 §2.1, RFC 9449 §7.1): the scheme and
//! its `token68`, in one place, so `Bearer` and `DPoP` tokens are taken alike; and answering a
//! refusal in the challenge of the scheme the token came with.

use crate::request::HeaderValues;
use crate::resource::errors::{BearerError, BearerFailure};
use crate::resource::validator::BearerValidator;

/// The authentication scheme a token was presented with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// `Bearer` (RFC 6750 §2.1).
    Bearer,
    /// `DPoP` (RFC 9449 §7.1).
    Dpop,
}

/// RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

impl BearerValidator {
    /// The bearer token of a request, from its `Authorization` header values (RFC 6750 §2.1).
    ///
    /// No header, or a header with another scheme, is [`BearerFailure::MissingToken`] (RFC 6750
    /// §3.1: a request that "attempted using an unsupported authentication method" gets no
    /// error code). The scheme is case-insensitive (RFC 9110 §11.1).
    pub fn bearer_token<'a>(
        &self,
        authorization: &HeaderValues<'a>,
    ) -> Result<&'a str, BearerError> {
        self.credentials(authorization, false)
            .map(|(_, token)| token)
    }

    /// The scheme and token of a request's `Authorization` header: `Bearer` (RFC 6750 §2.1)
    /// always, `DPoP` (RFC 9449 §7.1, the same `token68` syntax) when `dpop` is set. The one
    /// place the header is parsed. A refusal after the scheme was read as `DPoP` carries the
    /// `DPoP` challenge.
    pub(crate) fn credentials<'a>(
        &self,
        authorization: &HeaderValues<'a>,
        dpop: bool,
    ) -> Result<(Scheme, &'a str), BearerError> {
        // RFC 6750 §3.1 invalid_request: "repeats the same parameter, uses more than one method
        // for including an access token, or is otherwise malformed".
        let raw = match (authorization.count(), authorization.single()) {
            (0, _) => return Err(self.fail(BearerFailure::MissingToken)),
            (1, Some(raw)) => raw,
            _ => return Err(self.fail(BearerFailure::MultipleAuthorization)),
        };
        let value = std::str::from_utf8(raw)
            .map_err(|_| self.fail(BearerFailure::MalformedAuthorization))?
            .trim_matches([' ', '\t']);
        let (name, rest) = value.split_once(' ').unwrap_or((value, ""));
        let scheme = if name.eq_ignore_ascii_case("Bearer") {
            Scheme::Bearer
        } else if dpop && name.eq_ignore_ascii_case("DPoP") {
            Scheme::Dpop
        } else {
            return Err(self.fail(BearerFailure::MissingToken));
        };
        let fail = |f| self.fail_as(scheme, f);
        // RFC 6750 §2.1: `credentials = "Bearer" 1*SP b64token`; RFC 9449 §7.1: the same with
        // `DPoP`.
        let token = rest.trim_start_matches(' ');
        if !is_b64token(token) {
            return Err(fail(BearerFailure::MalformedAuthorization));
        }
        if token.len() > self.max_token_bytes {
            return Err(fail(BearerFailure::TooLong));
        }
        Ok((scheme, token))
    }

    /// A refusal answered in `scheme`'s challenge.
    pub(crate) fn fail_as(&self, scheme: Scheme, failure: BearerFailure) -> BearerError {
        self.in_scheme(scheme, self.fail(failure))
    }

    /// `error` answered in `scheme`'s challenge (RFC 9449 §7.1 for `DPoP`).
    pub(crate) fn in_scheme(&self, scheme: Scheme, error: BearerError) -> BearerError {
        match scheme {
            Scheme::Bearer => error,
            Scheme::Dpop => BearerError {
                dpop_algs: Some(self.dpop_algorithms.clone()),
                ..error
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6750_2_1_b64token_grammar() {
        for ok in ["a", "a.b.c", "AZaz09-._~+/", "abc==", "a="] {
            assert!(is_b64token(ok), "{ok}");
        }
        for bad in ["", "=", "==a", "a=b", "a b", "a,b", "a\"", "é"] {
            assert!(!is_b64token(bad), "{bad}");
        }
    }
}

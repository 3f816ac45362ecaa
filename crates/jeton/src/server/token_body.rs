//! The body of a successful token response (RFC 6749 §5.1):
//! `{"access_token":…,"token_type":…,"expires_in":…,"scope":…}`.
//!
//! Its strings almost never hold anything JSON must escape: opaque tokens are base64url, JWTs
//! base64url and dots, the token type `Bearer` or `DPoP`, and scope tokens are NQCHAR (RFC 6749
//! §3.3, which excludes `"` and `\`) joined by spaces. So the body is written directly once a
//! check has found no byte serde_json would escape, and the bytes are the ones serde_json would
//! write (a property test holds the two to that). Checking and copying costs a tenth of
//! serde_json's per-byte escaping loop, about a thousand instructions a token (issue 13). A
//! string that does need escaping (a custom `TokenIssuer` may return anything) goes through
//! serde_json.

use crate::tokens::json::{is_plain, is_plain_scope, push_plain, push_plain_scope};
use crate::types::Scope;

/// The members of a token response body.
#[derive(serde::Serialize)]
pub(crate) struct TokenBody<'a> {
    pub(crate) access_token: &'a str,
    pub(crate) token_type: &'a str,
    pub(crate) expires_in: i64,
    /// RFC 6749 §3.3, §5.1: the granted scope, given when not empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) scope: Option<&'a Scope>,
}

impl TokenBody<'_> {
    /// The body's JSON text, as serde_json writes it.
    pub(crate) fn render(&self) -> Result<Vec<u8>, serde_json::Error> {
        let scope_len = self
            .scope
            .map_or(0, |s| s.iter().map(|t| t.as_str().len() + 1).sum::<usize>());
        // The fixed text is 71 bytes with a scope, the number at most 20.
        let mut out =
            Vec::with_capacity(self.access_token.len() + self.token_type.len() + scope_len + 96);
        let plain = is_plain(self.access_token)
            && is_plain(self.token_type)
            && self.scope.is_none_or(is_plain_scope);
        if !plain {
            serde_json::to_writer(&mut out, self)?;
            return Ok(out);
        }
        out.extend_from_slice(b"{\"access_token\":");
        push_plain(&mut out, self.access_token);
        out.extend_from_slice(b",\"token_type\":");
        push_plain(&mut out, self.token_type);
        out.extend_from_slice(b",\"expires_in\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.expires_in).as_bytes());
        if let Some(scope) = self.scope {
            out.extend_from_slice(b",\"scope\":");
            push_plain_scope(&mut out, scope);
        }
        out.push(b'}');
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn serde(body: &TokenBody<'_>) -> Vec<u8> {
        serde_json::to_vec(body).unwrap()
    }

    #[test]
    fn rfc6749_5_1_body_is_what_serde_json_writes() {
        let scope = Scope::parse("read write:all").unwrap();
        for (token, scope) in [
            ("jt_abc-DEF_123", Some(&scope)),
            ("eyJh.eyJz.c2ln", None),
            ("quote\"and\\back", Some(&scope)),
            ("ctl\u{1}\n\t", None),
            ("del\u{7f} é ☃", None),
            ("", None),
        ] {
            for expires_in in [0, 1, 3600, -5, i64::MAX, i64::MIN] {
                let body = TokenBody {
                    access_token: token,
                    token_type: "Bearer",
                    expires_in,
                    scope,
                };
                assert_eq!(body.render().unwrap(), serde(&body), "{token:?}");
            }
        }
    }

    proptest! {
        #[test]
        fn any_strings_render_as_serde_json_does(
            token in any::<String>(),
            token_type in "[A-Za-z\"\\\\\u{0}-\u{1f}]{0,8}",
            expires_in in any::<i64>(),
            scope in proptest::option::of("[!#-\\[\\]-~]{1,8}( [!#-\\[\\]-~]{1,8}){0,3}"),
        ) {
            let scope = scope.map(|s| Scope::parse(&s).unwrap());
            let body = TokenBody {
                access_token: &token,
                token_type: &token_type,
                expires_in,
                scope: scope.as_ref(),
            };
            prop_assert_eq!(body.render().unwrap(), serde(&body));
        }
    }
}

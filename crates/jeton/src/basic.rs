//! The `Authorization: Basic` credentials of `client_secret_basic` (RFC 6749 §2.3.1, RFC 7617).
//!
//! RFC 6749 §2.3.1: "The client identifier is encoded using the
//! `application/x-www-form-urlencoded` encoding algorithm per Appendix B, and the encoded value
//! is used as the username; the client password is encoded using the same algorithm and used
//! as the password." So the server base64-decodes, splits at the **first** `:`, then
//! form-decodes each half. Most servers skip the last step; jeton does not.

use crate::form::{decode_component, encode_component};
use crate::types::{ClientSecret, is_vschar};
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use zeroize::Zeroize;

/// Standard alphabet; padding optional on input (token68 allows it to be omitted).
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What an `Authorization` header value holds, as far as client authentication cares.
#[derive(Debug)]
#[non_exhaustive]
pub enum Authorization {
    /// `Basic` credentials, decoded.
    Basic(BasicCredentials),
    /// Another scheme (`Bearer`, `DPoP`, `Digest`, ...), which the token endpoint does not use
    /// for client authentication.
    OtherScheme,
}

/// Decoded `client_secret_basic` credentials.
#[derive(Debug)]
pub struct BasicCredentials {
    /// The decoded user-id (the client id). Not yet validated as a [`crate::ClientId`].
    pub client_id: String,
    /// The decoded password (the client secret).
    pub secret: ClientSecret,
}

/// Why `Basic` credentials could not be read. All of these are client-authentication failures
/// (`invalid_client`, 401) once the scheme is `Basic`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BasicError {
    /// The value is not `scheme SP token68`.
    #[error("malformed Authorization header")]
    Malformed,
    /// The token68 is not base64.
    #[error("credentials are not base64")]
    BadBase64,
    /// No `:` after decoding.
    #[error("credentials have no ':'")]
    NoColon,
    /// A half is not form-urlencoded UTF-8.
    #[error("credentials are not form-urlencoded UTF-8")]
    BadEncoding,
    /// The user-id is empty.
    #[error("empty client id")]
    EmptyUser,
    /// The password is empty or not `VSCHAR`, or the user-id is not `VSCHAR`.
    #[error("credentials use characters outside VSCHAR")]
    BadChar,
}

/// The most bytes of an `Authorization` value that are looked at.
pub const MAX_AUTHORIZATION_LEN: usize = 4096;

/// Parses one `Authorization` header value.
///
/// The scheme is case-insensitive (RFC 9110 §11.1). Between scheme and token68 one or more
/// spaces (or tabs) are accepted, and surrounding whitespace is ignored, as the field grammar
/// (RFC 9110 §5.5, §11.6.2) allows.
pub fn parse_authorization(value: &[u8]) -> Result<Authorization, BasicError> {
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Err(BasicError::Malformed);
    }
    let value = value.trim_ascii();
    let split = value.iter().position(|&b| b == b' ' || b == b'\t');
    let (scheme, rest) = match split {
        Some(i) => (&value[..i], value[i..].trim_ascii_start()),
        None => (value, &b""[..]),
    };
    if scheme.is_empty() || !scheme.iter().all(|&b| is_tchar(b)) {
        return Err(BasicError::Malformed);
    }
    if !scheme.eq_ignore_ascii_case(b"basic") {
        return Ok(Authorization::OtherScheme);
    }
    parse_basic_token68(rest).map(Authorization::Basic)
}

/// Like [`parse_authorization`], but the id and secret are taken as sent, without
/// form-decoding: the reading of clients that do not form-encode (opt-in,
/// `EngineBuilder::accept_raw_basic`). RFC 6749 §2.3.1 decoding stays the rule.
pub fn parse_authorization_raw(value: &[u8]) -> Result<Authorization, BasicError> {
    match parse_authorization(value) {
        Ok(Authorization::Basic(_)) | Err(BasicError::BadEncoding | BasicError::BadChar) => {}
        other => return other,
    }
    let value = value.trim_ascii();
    let token = value
        .iter()
        .position(|&b| b == b' ' || b == b'\t')
        .map_or(&b""[..], |i| value[i..].trim_ascii_start());
    let mut raw = B64.decode(token).map_err(|_| BasicError::BadBase64)?;
    let result = split_raw(&raw);
    raw.zeroize();
    result.map(Authorization::Basic)
}

fn split_raw(raw: &[u8]) -> Result<BasicCredentials, BasicError> {
    let colon = raw
        .iter()
        .position(|&b| b == b':')
        .ok_or(BasicError::NoColon)?;
    let user = std::str::from_utf8(&raw[..colon]).map_err(|_| BasicError::BadEncoding)?;
    let pass = std::str::from_utf8(&raw[colon + 1..]).map_err(|_| BasicError::BadEncoding)?;
    if user.is_empty() {
        return Err(BasicError::EmptyUser);
    }
    if !user.bytes().all(is_vschar) {
        return Err(BasicError::BadChar);
    }
    let secret = ClientSecret::new(pass.to_owned()).map_err(|_| BasicError::BadChar)?;
    Ok(BasicCredentials {
        client_id: user.to_owned(),
        secret,
    })
}

/// Credentials up to this many decoded bytes are decoded on the stack (a client id and secret
/// of usual length: no allocation per request); longer ones into a `Vec`.
const STACK_DECODED: usize = 256;

fn parse_basic_token68(token: &[u8]) -> Result<BasicCredentials, BasicError> {
    if token.is_empty() {
        return Err(BasicError::Malformed);
    }
    // Whatever the base64 decoder accepts is token68 (its alphabet, `=` only at the end), so
    // the token68 check is made only to name a failure: not a scan of every request's token.
    let refused = || {
        if token.iter().all(|&b| is_token68_char(b)) {
            BasicError::BadBase64
        } else {
            BasicError::Malformed
        }
    };
    let estimate = base64::decoded_len_estimate(token.len());
    if estimate > STACK_DECODED {
        let mut raw = B64.decode(token).map_err(|_| refused())?;
        let result = split_and_decode(&raw);
        raw.zeroize();
        return result;
    }
    let mut small = [0u8; STACK_DECODED];
    let result = match B64.decode_slice(token, &mut small) {
        Ok(n) => split_and_decode(&small[..n]),
        Err(_) => Err(refused()),
    };
    // A failed decode may have written part of the credentials too.
    small[..estimate].zeroize();
    result
}

fn split_and_decode(raw: &[u8]) -> Result<BasicCredentials, BasicError> {
    let colon = raw
        .iter()
        .position(|&b| b == b':')
        .ok_or(BasicError::NoColon)?;
    let user = decode_component(&raw[..colon]).map_err(|_| BasicError::BadEncoding)?;
    let mut pass = decode_component(&raw[colon + 1..]).map_err(|_| BasicError::BadEncoding)?;
    if user.is_empty() {
        pass.zeroize();
        return Err(BasicError::EmptyUser);
    }
    if !user.bytes().all(is_vschar) {
        pass.zeroize();
        return Err(BasicError::BadChar);
    }
    let secret = ClientSecret::new(pass).map_err(|_| BasicError::BadChar)?;
    Ok(BasicCredentials {
        client_id: user,
        secret,
    })
}

/// Builds the `Authorization` value a conforming client sends: `Basic ` +
/// base64(form-encode(id) `:` form-encode(secret)).
pub fn encode_basic(client_id: &str, secret: &str) -> String {
    let joined = format!(
        "{}:{}",
        encode_component(client_id),
        encode_component(secret)
    );
    format!("Basic {}", B64.encode(joined.as_bytes()))
}

/// RFC 9110 §5.6.2 `tchar`.
fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// RFC 9110 §11.2 `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_token68_char(b: u8) -> bool {
    TOKEN68[usize::from(b)]
}

/// The byte classes as tables: every byte of every `Authorization` value is checked, and a
/// lookup is one load where the list search was a loop per byte.
static TCHAR: [bool; 256] = class(b"!#$%&'*+-.^_`|~");
static TOKEN68: [bool; 256] = class(b"-._~+/=");

/// ALPHA, DIGIT and `extra`.
const fn class(extra: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] = true;
        i += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_class_tables_match_the_grammar() {
        for b in 0..=255u8 {
            let alnum = b.is_ascii_alphanumeric();
            assert_eq!(is_tchar(b), alnum || b"!#$%&'*+-.^_`|~".contains(&b), "{b}");
            assert_eq!(is_token68_char(b), alnum || b"-._~+/=".contains(&b), "{b}");
        }
    }

    fn basic(v: &str) -> Result<BasicCredentials, BasicError> {
        match parse_authorization(v.as_bytes())? {
            Authorization::Basic(c) => Ok(c),
            Authorization::OtherScheme => panic!("not basic"),
        }
    }

    const VECTOR_HEADER: &str = "Basic MVBwRyUyRlErMTp6JTJGdFo5VndGWnFBcG1JUSUyQlpIMUk1cExrJTJGdUI0dWQlM0FYMiUyRjhiTCUyQndmRlR0MXJGdyUzRA==";
    const VECTOR_ID: &str = "1PpG/Q 1";
    const VECTOR_SECRET: &str = "z/tZ9VwFZqApmIQ+ZH1I5pLk/uB4ud:X2/8bL+wfFTt1rFw=";

    #[test]
    fn rfc6749_2_3_1_basic_credentials_are_form_decoded() {
        let c = basic(VECTOR_HEADER).unwrap();
        assert_eq!(c.client_id, VECTOR_ID);
        assert_eq!(c.secret.expose(), VECTOR_SECRET);
    }

    #[test]
    fn rfc6749_2_3_1_basic_encoding_matches_the_vector() {
        assert_eq!(encode_basic(VECTOR_ID, VECTOR_SECRET), VECTOR_HEADER);
    }

    #[test]
    fn rfc7617_2_split_at_first_colon_raw_second_colon_stays_in_password() {
        let h = format!("Basic {}", B64.encode("id:pa:ss"));
        let c = basic(&h).unwrap();
        assert_eq!(c.client_id, "id");
        assert_eq!(c.secret.expose(), "pa:ss");
    }

    #[test]
    fn rfc6749_2_3_1_encoded_colon_in_client_id_works() {
        let h = encode_basic("urn:client:1", "s:e:c");
        let c = basic(&h).unwrap();
        assert_eq!(c.client_id, "urn:client:1");
        assert_eq!(c.secret.expose(), "s:e:c");
    }

    #[test]
    fn rfc9110_11_1_scheme_is_case_insensitive_and_whitespace_tolerated() {
        let tok = B64.encode("a:b");
        for h in [
            format!("basic {tok}"),
            format!("BASIC {tok}"),
            format!("  Basic   {tok}  "),
            format!("Basic\t{tok}"),
        ] {
            let c = basic(&h).unwrap();
            assert_eq!(c.client_id, "a");
        }
    }

    #[test]
    fn unpadded_base64_is_accepted() {
        let tok = B64.encode("ab:c").trim_end_matches('=').to_string();
        assert_eq!(basic(&format!("Basic {tok}")).unwrap().client_id, "ab");
    }

    #[test]
    fn rfc6749_5_2_malformed_basic_is_an_error_not_a_panic() {
        assert_eq!(basic("Basic").unwrap_err(), BasicError::Malformed);
        assert_eq!(basic("Basic !!!!").unwrap_err(), BasicError::Malformed);
        assert_eq!(basic("Basic abc$").unwrap_err(), BasicError::Malformed);
        assert_eq!(basic("Basic a").unwrap_err(), BasicError::BadBase64);
        assert_eq!(
            basic(&format!("Basic {}", B64.encode("nocolon"))).unwrap_err(),
            BasicError::NoColon
        );
        assert_eq!(
            basic(&format!("Basic {}", B64.encode(":secret"))).unwrap_err(),
            BasicError::EmptyUser
        );
        assert_eq!(
            basic(&format!("Basic {}", B64.encode(b"\xff:x"))).unwrap_err(),
            BasicError::BadEncoding
        );
        assert_eq!(
            basic(&format!("Basic {}", B64.encode("a:%ZZ"))).unwrap_err(),
            BasicError::BadEncoding
        );
        assert_eq!(
            basic(&format!("Basic {}", B64.encode("a:"))).unwrap_err(),
            BasicError::BadChar
        );
        assert_eq!(
            basic(&format!("Basic {}", B64.encode("a:%0A"))).unwrap_err(),
            BasicError::BadChar
        );
    }

    #[test]
    fn credentials_decode_alike_on_either_side_of_the_stack_buffer() {
        // Secrets whose decoded credentials are just under, at and over `STACK_DECODED` bytes
        // (the id and `:` take 7), and far over it; 1024 is a secret's longest.
        for len in [1, 200, 248, 249, 250, 251, 300, 1024] {
            let secret = "s".repeat(len);
            let c = basic(&encode_basic("client", &secret)).unwrap();
            assert_eq!(c.client_id, "client");
            assert_eq!(c.secret.expose(), secret, "{len}");
        }
        let long = format!("Basic {}", B64.encode(format!("client{}", "x".repeat(400))));
        assert_eq!(basic(&long).unwrap_err(), BasicError::NoColon);
        assert_eq!(
            basic(&format!("{long}$")).unwrap_err(),
            BasicError::Malformed
        );
    }

    proptest::proptest! {
        /// The token68 syntax is checked only once base64 has refused a token: the errors are
        /// those of checking it first, for any token, short or long.
        #[test]
        fn a_refused_token_is_malformed_exactly_when_it_is_not_token68(
            token in proptest::collection::vec(
                proptest::sample::select(b"AZaz09+/=-._~ $!%:".to_vec()), 1..400),
        ) {
            let as_checked_first = if !token.iter().all(|&b| is_token68_char(b)) {
                Err(BasicError::Malformed)
            } else {
                match B64.decode(&token) {
                    Err(_) => Err(BasicError::BadBase64),
                    Ok(raw) => split_and_decode(&raw),
                }
            };
            let got = parse_basic_token68(&token);
            proptest::prop_assert_eq!(
                got.as_ref().map(|c| (&c.client_id, c.secret.expose())).map_err(|e| *e),
                as_checked_first.as_ref().map(|c| (&c.client_id, c.secret.expose())).map_err(|e| *e)
            );
        }
    }

    #[test]
    fn other_schemes_are_reported_as_such() {
        assert!(matches!(
            parse_authorization(b"Bearer abc"),
            Ok(Authorization::OtherScheme)
        ));
        assert_eq!(
            parse_authorization(b"B@sic abc").unwrap_err(),
            BasicError::Malformed
        );
        assert_eq!(parse_authorization(b"").unwrap_err(), BasicError::Malformed);
    }
}

//! proptest strategies for jeton inputs.

use proptest::prelude::*;

/// Any HTTP method token, mostly `POST`.
pub fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just("POST".to_owned()),
        1 => Just("GET".to_owned()),
        1 => Just("post".to_owned()),
        1 => "[A-Z]{1,8}",
    ]
}

/// Form bodies built from protocol parameter names and awkward values.
pub fn form_body() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("grant_type"),
        Just("client_id"),
        Just("client_secret"),
        Just("scope"),
        Just("resource"),
        Just("client_assertion"),
        Just("client_assertion_type"),
        Just("x"),
    ];
    let value = prop_oneof![
        Just("client_credentials".to_owned()),
        Just(crate::BASIC.id.to_owned()),
        Just(crate::BASIC.secret.to_owned()),
        Just(crate::POST.id.to_owned()),
        Just(crate::POST.secret.to_owned()),
        Just("read".to_owned()),
        Just("read+write".to_owned()),
        Just("https%3A%2F%2Fapi.example.com%2F".to_owned()),
        "[ -~]{0,12}",
        "(%[0-9A-Fa-f]{0,2}){1,3}",
    ];
    proptest::collection::vec((name, value), 0..8).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

/// Arbitrary bytes, for totality properties.
pub fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..256)
}

/// `Authorization` values: valid Basic for fixture clients, broken Basic, other schemes, junk.
pub fn authorization() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        2 => Just(None),
        2 => Just(Some(jeton::encode_basic(crate::BASIC.id, crate::BASIC.secret).into_bytes())),
        1 => Just(Some(jeton::encode_basic(crate::BASIC.id, "wrong").into_bytes())),
        1 => Just(Some(b"Bearer abc".to_vec())),
        1 => "Basic [A-Za-z0-9+/=]{0,24}".prop_map(|s| Some(s.into_bytes())),
        1 => bytes().prop_map(Some),
    ]
}

/// Any string without `:`-free guarantees, VSCHAR only, 1 to 40 characters.
pub fn vschar_string() -> impl Strategy<Value = String> {
    "[ -~]{1,40}"
}

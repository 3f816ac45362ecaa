//! Unit tests of `jwt.rs`: issuance, verification, rotation and the byte-for-byte claims.

use super::*;
use crate::random::SystemRandom;
use crate::tokens::algorithm::Algorithm;
use crate::tokens::claims::{Confirmation, TokenClaims};
use crate::tokens::keys::SigningKey;
use crate::types::{ClientId, Resource, Scope};
use time::{Duration, OffsetDateTime};

fn grant(audience: &[&str], scope: &str) -> Grant {
    let client = ClientRecord::builder(ClientId::new("svc").unwrap()).build();
    let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
    let claims = TokenClaims::new(
        client.id.clone(),
        "client:svc".into(),
        if scope.is_empty() {
            Scope::default()
        } else {
            Scope::parse(scope).unwrap()
        },
        audience
            .iter()
            .map(|a| Resource::new(*a).unwrap())
            .collect(),
        now,
        now + Duration::minutes(5),
    );
    Grant {
        client: Arc::new(client),
        claims,
        scope_requested: false,
    }
}

fn issuer() -> JwtIssuerBuilder {
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    JwtIssuer::builder(
        IssuerId::new("https://as.example.com").unwrap(),
        KeySet::new(key),
        Arc::new(SystemRandom::new()),
    )
}

fn parts(token: &str) -> (Value, Value) {
    let mut it = token.split('.');
    let mut next = || -> Value {
        serde_json::from_slice(&B64URL.decode(it.next().unwrap()).unwrap()).unwrap()
    };
    (next(), next())
}

#[test]
fn rfc9068_2_1_header_has_typ_alg_and_kid() {
    let i = issuer().build().unwrap();
    let (t, jti) = i
        .mint(&grant(&["https://api.example.com/"], "read"))
        .unwrap();
    let (h, c) = parts(&t);
    // The jti the issuer reports (for the audit trail) is the one it signed.
    assert_eq!(c["jti"], jti.as_str());
    assert_eq!(h["typ"], "at+jwt");
    assert_eq!(h["alg"], "ES256");
    assert_eq!(h["kid"], i.keys().active().kid());
    assert!(i.jwk_set().get(h["kid"].as_str().unwrap()).is_some());
    assert_eq!(TokenIssuer::jwks(&i), Some(i.jwk_set().to_value()));
}

/// The header and claims as serde_json writes them from `Value`s: what `mint` wrote
/// before it borrowed from the grant and took the header from the key set.
fn reference_parts(i: &JwtIssuer, g: &Grant, jti: &str) -> (Vec<u8>, Vec<u8>) {
    #[derive(serde::Serialize)]
    struct Header<'a> {
        alg: &'static str,
        typ: &'a str,
        kid: &'a str,
    }
    #[derive(serde::Serialize)]
    struct Claims<'a> {
        iss: &'a str,
        sub: &'a str,
        aud: Value,
        exp: i64,
        iat: i64,
        jti: &'a str,
        client_id: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cnf: Option<Value>,
        #[serde(flatten)]
        extra: &'a Map<String, Value>,
    }
    let keys = i.keys();
    let header = Header {
        alg: keys.active().algorithm().as_str(),
        typ: AT_JWT_TYPE,
        kid: keys.active().kid(),
    };
    let aud = match g.audience() {
        [one] => Value::String(one.as_str().to_owned()),
        many => Value::Array(
            many.iter()
                .map(|r| Value::String(r.as_str().to_owned()))
                .collect(),
        ),
    };
    let extra = i
        .hook
        .as_ref()
        .map(|h| h.claims(g.client(), g))
        .unwrap_or_default();
    let claims = Claims {
        iss: i.issuer.as_str(),
        sub: g.subject(),
        aud,
        exp: g.expires_at().unix_timestamp(),
        iat: g.issued_at().unix_timestamp(),
        jti,
        client_id: g.client_id().as_str(),
        scope: (!g.scope().is_empty()).then(|| g.scope().to_string()),
        cnf: g.confirmation().map(Confirmation::to_value),
        extra: &extra,
    };
    (
        serde_json::to_vec(&header).unwrap(),
        serde_json::to_vec(&claims).unwrap(),
    )
}

/// Issue 13: the precomputed header and the borrowed claims are byte for byte what
/// serde_json writes from owned values, for every shape of `aud`, `scope`, `cnf` and custom
/// claims, with every algorithm, and the key set's header follows a rotation.
#[test]
fn minted_header_and_claims_are_the_serde_json_bytes() {
    let with_hook = |b: JwtIssuerBuilder| {
        b.custom_claims(|c: &ClientRecord, _: &Grant| {
            let mut m = Map::new();
            m.insert("tenant".into(), Value::String(format!("t\"{}\n", c.id)));
            m.insert("a_roles".into(), serde_json::json!(["x", 1, null]));
            m
        })
    };
    let mut dpop = grant(&["https://api.example.com/"], "read");
    dpop.claims.confirmation = Some(Confirmation::jkt(
        "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
    ));
    let grants = [
        grant(&["https://api.example.com/"], "read write"),
        grant(&["https://a.example/", "https://b.example/?q=\"x\""], ""),
        dpop,
    ];
    for alg in [Algorithm::Es256, Algorithm::EdDsa] {
        let key = || SigningKey::generate(alg).unwrap();
        let rng: Arc<dyn RandomSource> = Arc::new(SystemRandom::new());
        let iss = IssuerId::new("https://as.example.com/tenant-1").unwrap();
        let plain = JwtIssuer::builder(iss.clone(), KeySet::new(key()), rng.clone());
        let hooked = with_hook(JwtIssuer::builder(iss, KeySet::new(key()), rng));
        for i in [plain.build().unwrap(), hooked.build().unwrap()] {
            for round in 0..2 {
                for g in &grants {
                    let (token, jti) = i.mint(g).unwrap();
                    let (header, claims) = reference_parts(&i, g, &jti);
                    let mut it = token.split('.');
                    assert_eq!(B64URL.decode(it.next().unwrap()).unwrap(), header);
                    assert_eq!(B64URL.decode(it.next().unwrap()).unwrap(), claims);
                    let set = i.keys();
                    assert_eq!(set.at_jwt_header().unwrap(), B64URL.encode(&header));
                    let signing_input = token.rsplit_once('.').unwrap().0;
                    let signature = B64URL.decode(it.next().unwrap()).unwrap();
                    assert!(
                        set.active()
                            .verifying_key()
                            .verify(signing_input.as_bytes(), &signature)
                    );
                    assert_eq!(token.len(), token.capacity(), "sized once");
                }
                if round == 0 {
                    // A rotated set encodes its new active key's header, not the old one's.
                    let old = i.keys().active().kid().to_owned();
                    let rotated = KeySet::new(key())
                        .with_verification_key(i.keys().active().verifying_key().clone())
                        .unwrap();
                    i.replace_keys(rotated);
                    assert_ne!(i.keys().active().kid(), old);
                }
            }
        }
    }
    // `KeySet::rotate` on a set whose header was already encoded forgets it.
    let (a, b) = (
        SigningKey::generate(Algorithm::Es256).unwrap(),
        SigningKey::generate(Algorithm::EdDsa).unwrap(),
    );
    let set = KeySet::new(a);
    let first = set.at_jwt_header().unwrap().to_owned();
    let set = set.rotate(b).unwrap();
    assert_eq!(
        set.at_jwt_header().unwrap(),
        jws::encoded_header(set.active(), AT_JWT_TYPE).unwrap()
    );
    assert_ne!(set.at_jwt_header().unwrap(), first);
}

#[test]
fn rfc9068_2_2_required_claims_are_present() {
    let i = issuer().build().unwrap();
    let g = grant(&["https://api.example.com/"], "read write");
    let (_, c) = parts(&i.mint(&g).unwrap().0);
    assert_eq!(c["iss"], "https://as.example.com");
    assert_eq!(c["sub"], "client:svc");
    assert_eq!(c["client_id"], "svc");
    assert_eq!(c["aud"], "https://api.example.com/");
    assert_eq!(c["iat"], g.issued_at().unix_timestamp());
    assert_eq!(c["exp"], g.expires_at().unix_timestamp());
    assert_eq!(c["scope"], "read write");
    // 160 random bits, base64url.
    assert_eq!(c["jti"].as_str().unwrap().len(), 27);
}

#[test]
fn rfc9068_2_2_jti_is_unique_per_token() {
    let i = issuer().build().unwrap();
    let g = grant(&["https://api.example.com/"], "read");
    let (_, a) = parts(&i.mint(&g).unwrap().0);
    let (_, b) = parts(&i.mint(&g).unwrap().0);
    assert_ne!(a["jti"], b["jti"]);
}

#[test]
fn rfc7519_4_1_3_several_audiences_are_an_array() {
    let i = issuer().build().unwrap();
    let g = grant(&["https://a.example/", "https://b.example/"], "");
    let (_, c) = parts(&i.mint(&g).unwrap().0);
    assert_eq!(
        c["aud"],
        serde_json::json!(["https://a.example/", "https://b.example/"])
    );
    assert!(c.get("scope").is_none(), "empty scope is omitted");
}

#[test]
fn rfc9068_2_2_aud_is_required() {
    let g = grant(&[], "read");
    assert!(issuer().build().unwrap().mint(&g).is_err());
}

#[test]
fn live_keys_see_a_rotation_at_once() {
    let i = issuer().build().unwrap();
    let live = i.live_keys();
    let next = SigningKey::generate(Algorithm::Es256).unwrap();
    let kid = next.kid().to_owned();
    assert!(live.jwks().get(&kid).is_none());
    i.replace_keys(KeySet::new(next));
    assert!(live.jwks().get(&kid).is_some());
}

/// Issue 13: introspection remembers verified tokens, but only under the key set that
/// verified them: once the signing key is retired, a token it signed is unknown at once
/// even though it was just introspected, and one still published keeps verifying.
#[test]
fn a_remembered_token_is_forgotten_when_its_key_leaves_the_set() {
    jeton_testkit::block_on(remembered_token_is_forgotten());
}

async fn remembered_token_is_forgotten() {
    let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
    let i = issuer().build().unwrap();
    let token = i.issue(&grant(&["https://api.example.com/"], "read")).await;
    let token = token.unwrap().expose().to_owned();
    let first = i.inspect(&token, now).await.unwrap().expect("our token");
    assert_eq!(i.inspect(&token, now).await.unwrap(), Some(first.clone()));
    // Rotation keeping the old key published: still ours (verified again, same answer).
    let next = SigningKey::generate(Algorithm::Es256).unwrap();
    let old_kid = i.keys().active().kid().to_owned();
    let old = i.keys().active().verifying_key().clone();
    let rotated = KeySet::new(next).with_verification_key(old).unwrap();
    i.replace_keys(rotated);
    assert_eq!(i.inspect(&token, now).await.unwrap(), Some(first));
    // The old key retired: not ours any more, at once.
    i.replace_keys(KeySet::new(SigningKey::generate(Algorithm::Es256).unwrap()));
    assert!(!i.keys().contains(&old_kid));
    assert_eq!(i.inspect(&token, now).await.unwrap(), None);
    // A token changed by one character is never taken for the remembered one.
    let mut forged = token.clone();
    forged.pop();
    assert_eq!(i.inspect(&forged, now).await.unwrap(), None);
}

#[test]
fn rfc9068_2_2_custom_claims_cannot_override_registered_claims() {
    let g = grant(&["https://api.example.com/"], "read");
    let i = issuer()
        .custom_claims(|c: &ClientRecord, _: &Grant| {
            let mut m = Map::new();
            m.insert("tenant".into(), Value::String(c.id.to_string()));
            m
        })
        .build()
        .unwrap();
    let (_, c) = parts(&i.mint(&g).unwrap().0);
    assert_eq!(c["tenant"], "svc");
    for reserved in REGISTERED_CLAIMS {
        let i = issuer()
            .custom_claims(move |_: &ClientRecord, _: &Grant| {
                let mut m = Map::new();
                m.insert((*reserved).to_owned(), Value::String("forged".into()));
                m
            })
            .build()
            .unwrap();
        assert!(i.mint(&g).is_err(), "{reserved}");
    }
}

#[test]
fn token_format_is_chosen_by_name() {
    assert_eq!("jwt".parse::<TokenFormat>(), Ok(TokenFormat::Jwt));
    assert_eq!("opaque".parse::<TokenFormat>(), Ok(TokenFormat::Opaque));
    assert!("JWT".parse::<TokenFormat>().is_err());
    assert_eq!(TokenFormat::default(), TokenFormat::Opaque);
    assert_eq!(serde_json::to_string(&TokenFormat::Jwt).unwrap(), "\"jwt\"");
}

proptest::proptest! {
    /// The claims written directly are serde_json's bytes, for any strings (those that need
    /// escaping, and custom claims, take serde_json itself).
    #[test]
    fn claims_json_is_serde_jsons_for_any_strings(
        iss in proptest::prelude::any::<String>(),
        sub in "[ -~]{0,12}|\\PC{0,6}",
        jti in "[A-Za-z0-9_-]{27}|[\"\\\\\u{0}-\u{1f}a]{1,4}",
        client_id in "[!-~]{1,12}",
        exp in proptest::prelude::any::<i64>(),
        aud in proptest::collection::vec("https://a\\.example/[ -~]{0,8}", 0..3),
        scope in proptest::option::of("[!#-\\[\\]-~]{1,8}( [!#-\\[\\]-~]{1,8}){0,2}"),
        jkt in proptest::option::of("[A-Za-z0-9_\"-]{1,43}"),
        extra in proptest::option::of("[a-z]{1,6}"),
    ) {
        let aud: Vec<Resource> = aud.iter().filter_map(|a| Resource::new(a).ok()).collect();
        let scope = scope.map(|s| Scope::parse(&s).unwrap());
        let extra = extra.map(|k| {
            let mut m = Map::new();
            m.insert(k, Value::String("x\"y".into()));
            m
        });
        let claims = Claims {
            iss: &iss,
            sub: &sub,
            aud: Audience(&aud),
            exp,
            iat: exp.wrapping_sub(300),
            jti: &jti,
            client_id: &client_id,
            scope: scope.as_ref(),
            cnf: jkt.as_deref().map(|jkt| Cnf { jkt }),
            extra: extra.as_ref(),
        };
        proptest::prop_assert_eq!(claims.to_json().unwrap(), serde_json::to_vec(&claims).unwrap());
    }
}

//! A key client for a jeton token endpoint: it authenticates with a client assertion
//! (RFC 7523 `private_key_jwt`) signed by its private key, and optionally asks for a
//! DPoP-bound token with a DPoP proof (RFC 9449) made with the same key.
//!
//! The private key is a PKCS#8 PEM file (ES256 or EdDSA), as `jeton key new` writes it. jeton's
//! public API loads it and gives its public JWK ([`jeton::SigningKey::from_pkcs8_pem`],
//! [`jeton::VerifyingKey::to_jwk`]); the JWTs themselves are signed with the independent
//! `jsonwebtoken` crate, as any client would.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jeton::{Algorithm, SigningKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long a client assertion is valid, in seconds.
const ASSERTION_LIFETIME: u64 = 60;

/// A failure of the key client.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A client's private key: the PEM for signing and jeton's view of it for the public JWK.
pub struct ClientKey {
    key: SigningKey,
    encoding: jsonwebtoken::EncodingKey,
    alg: jsonwebtoken::Algorithm,
}

impl ClientKey {
    /// Reads a PKCS#8 PEM private key (ES256 or EdDSA).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, Error> {
        let key = SigningKey::from_pkcs8_pem(pem)?;
        let (encoding, alg) = match key.algorithm() {
            Algorithm::Es256 => (
                jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes())?,
                jsonwebtoken::Algorithm::ES256,
            ),
            Algorithm::EdDsa => (
                jsonwebtoken::EncodingKey::from_ed_pem(pem.as_bytes())?,
                jsonwebtoken::Algorithm::EdDSA,
            ),
            other => return Err(format!("{other} keys are not supported here").into()),
        };
        Ok(Self { key, encoding, alg })
    }

    /// The public key as a JWK (for the DPoP header).
    pub fn public_jwk(&self) -> Value {
        self.key.verifying_key().to_jwk()
    }

    /// The public JWK Set to register the client with (`jwks_file` in the server's config).
    pub fn public_jwks(&self) -> Value {
        json!({ "keys": [self.public_jwk()] })
    }

    fn sign(&self, header: jsonwebtoken::Header, claims: &Value) -> Result<String, Error> {
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }
}

/// What to ask the token endpoint.
#[derive(Debug, Clone)]
pub struct Request {
    /// The token endpoint URL, e.g. `http://127.0.0.1:8080/token`.
    pub token_url: String,
    /// The authorization server's issuer identifier: the assertion's `aud`.
    pub issuer: String,
    /// The client id: the assertion's `iss` and `sub`.
    pub client_id: String,
    /// Send a DPoP proof and ask for a DPoP-bound token.
    pub dpop: bool,
    /// The requested scope, if any.
    pub scope: Option<String>,
}

/// The token endpoint's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body (a token response or an error).
    pub body: Value,
}

fn now() -> Result<u64, Error> {
    Ok(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs())
}

/// A random `jti`: 128 bits, base64url.
fn jti() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| "no randomness")?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// A client assertion (RFC 7523 §3): `iss` = `sub` = the client id, `aud` = the issuer.
pub fn client_assertion(key: &ClientKey, client_id: &str, issuer: &str) -> Result<String, Error> {
    let now = now()?;
    let claims = json!({
        "iss": client_id,
        "sub": client_id,
        "aud": issuer,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME,
        "jti": jti()?,
    });
    let mut header = jsonwebtoken::Header::new(key.alg);
    header.typ = Some("JWT".into());
    key.sign(header, &claims)
}

/// A DPoP proof (RFC 9449 §4.2) for `POST` to `token_url`, the public key in its header.
pub fn dpop_proof(key: &ClientKey, token_url: &str) -> Result<String, Error> {
    let claims = json!({ "jti": jti()?, "htm": "POST", "htu": token_url, "iat": now()? });
    let mut header = jsonwebtoken::Header::new(key.alg);
    header.typ = Some("dpop+jwt".into());
    header.jwk = Some(serde_json::from_value(key.public_jwk())?);
    key.sign(header, &claims)
}

/// Asks the token endpoint for a token (client credentials grant) as a key client.
pub async fn request_token(
    http: &reqwest::Client,
    key: &ClientKey,
    req: &Request,
) -> Result<Answer, Error> {
    let assertion = client_assertion(key, &req.client_id, &req.issuer)?;
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion.as_str()),
    ];
    if let Some(scope) = &req.scope {
        form.push(("scope", scope));
    }
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut post = http
        .post(&req.token_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if req.dpop {
        post = post.header("DPoP", dpop_proof(key, &req.token_url)?);
    }
    let resp = post.send().await?;
    let status = resp.status().as_u16();
    let body = resp.json().await?;
    Ok(Answer { status, body })
}

/// `application/x-www-form-urlencoded` value encoding (unreserved characters kept).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

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
    /// The `DPoP-Nonce` header (RFC 9449 §8), when the server sent one: the nonce its next
    /// DPoP proof must carry.
    pub dpop_nonce: Option<String>,
}

impl Answer {
    /// Whether the server asks for a DPoP proof with its nonce (`400 use_dpop_nonce`, §8).
    pub fn wants_dpop_nonce(&self) -> bool {
        self.status == 400 && self.body["error"] == "use_dpop_nonce" && self.dpop_nonce.is_some()
    }
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
    dpop_proof_with_nonce(key, token_url, None)
}

/// [`dpop_proof`] carrying the server's `nonce` (RFC 9449 §8), if it gave one.
pub fn dpop_proof_with_nonce(
    key: &ClientKey,
    token_url: &str,
    nonce: Option<&str>,
) -> Result<String, Error> {
    let mut claims = json!({ "jti": jti()?, "htm": "POST", "htu": token_url, "iat": now()? });
    if let Some(nonce) = nonce {
        claims["nonce"] = nonce.into();
    }
    let mut header = jsonwebtoken::Header::new(key.alg);
    header.typ = Some("dpop+jwt".into());
    header.jwk = Some(serde_json::from_value(key.public_jwk())?);
    key.sign(header, &claims)
}

/// Asks the token endpoint for a token (client credentials grant) as a key client. With
/// `dpop`, a server that requires nonces answers the first proof with `use_dpop_nonce` and a
/// `DPoP-Nonce`: the request is made once more, with a fresh assertion (the first one was used)
/// and a proof carrying that nonce (RFC 9449 §8).
pub async fn request_token(
    http: &reqwest::Client,
    key: &ClientKey,
    req: &Request,
) -> Result<Answer, Error> {
    let mut nonce = None;
    loop {
        let assertion = client_assertion(key, &req.client_id, &req.issuer)?;
        let form = token_form(&assertion, req.scope.as_deref());
        let proof = req
            .dpop
            .then(|| dpop_proof_with_nonce(key, &req.token_url, nonce.as_deref()))
            .transpose()?;
        let answer = post_token(http, &req.token_url, &form, proof.as_deref()).await?;
        if req.dpop && nonce.is_none() && answer.wants_dpop_nonce() {
            nonce = answer.dpop_nonce;
            continue;
        }
        return Ok(answer);
    }
}

/// The form body of a client-credentials token request authenticated by `assertion`.
pub fn token_form(assertion: &str, scope: Option<&str>) -> String {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion),
    ];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    form.iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// POSTs a token request `form` to `token_url`, with a `DPoP` header if `dpop` is given.
pub async fn post_token(
    http: &reqwest::Client,
    token_url: &str,
    form: &str,
    dpop: Option<&str>,
) -> Result<Answer, Error> {
    let mut post = http
        .post(token_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned());
    if let Some(proof) = dpop {
        post = post.header("DPoP", proof);
    }
    let resp = post.send().await?;
    let status = resp.status().as_u16();
    let dpop_nonce = resp
        .headers()
        .get("dpop-nonce")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp.json().await?;
    Ok(Answer {
        status,
        body,
        dpop_nonce,
    })
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

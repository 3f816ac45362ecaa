//! The DPoP rows of the resource-server table (RFC 9449 §7.1, §7.2) over real HTTP: a token
//! bound at the engine's token endpoint (`/token` of the server under test) to
//! [`key_client_key`](crate::key_client_key), then the protected call with a fresh proof for
//! `GET` [`API_BASE`] + the path carrying the token's hash: `200`; the same token as `Bearer`:
//! `401 invalid_token` with the `Bearer` challenge; as `DPoP` without a proof: `401
//! invalid_dpop_proof` with the `DPoP` challenge and `algs`.

use crate::http::client;
use crate::resource::{API_BASE, ResourceFixture};
use crate::{ISSUER, RESOURCE, dpop_proof, dpop_proof_for_token};
use jeton::encode_basic;
use jeton::time::OffsetDateTime;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};

/// A proof `jti` never used before in this process.
fn fresh_jti(what: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!("{what}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// A DPoP-bound token for [`RESOURCE`] from the token endpoint of the server at `base`.
async fn bound_token(base: &str) -> String {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let proof = dpop_proof("POST", &format!("{ISSUER}/token"), &fresh_jti("token"), now);
    let resp = client()
        .post(format!("{base}/token"))
        .header("authorization", encode_basic(RESOURCE.id, RESOURCE.secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("dpop", proof)
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200, "bound token from {base}/token");
    let json: Value = resp.json().await.expect("json");
    assert_eq!(json["token_type"], "DPoP", "{json}");
    json["access_token"].as_str().expect("token").to_owned()
}

/// Runs the DPoP rows against `path` of the server at `base`; returns how many ran (3).
pub(crate) async fn dpop_rows_pass(base: &str, path: &str, fixture: &ResourceFixture) -> usize {
    let what = format!("DPoP ({}) at {base}{path}", fixture.format);
    let token = bound_token(base).await;
    let url = format!("{base}{path}");
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let htu = format!("{API_BASE}{path}");

    // RFC 9449 §7.1: a bound token with a fresh proof for this request.
    let proof = dpop_proof_for_token("GET", &htu, &fresh_jti("api"), now, &token);
    let resp = client()
        .get(&url)
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", proof)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200, "{what}: valid");
    assert_eq!(resp.text().await.expect("body"), RESOURCE.id, "{what}");

    // RFC 9449 §7.2: the same token as a bearer token.
    let resp = client()
        .get(&url)
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 401, "{what}: as Bearer");
    let challenge = resp.headers()["www-authenticate"].to_str().expect("ascii");
    assert!(
        challenge.starts_with(r#"Bearer realm="jeton", error="invalid_token""#),
        "{what}: {challenge}"
    );

    // RFC 9449 §7.1: no proof, the DPoP challenge.
    let resp = client()
        .get(&url)
        .header("authorization", format!("DPoP {token}"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 401, "{what}: no proof");
    assert_eq!(resp.headers()["cache-control"], "no-store", "{what}");
    let challenge = resp.headers()["www-authenticate"].to_str().expect("ascii");
    assert!(
        challenge.starts_with(r#"DPoP realm="jeton", error="invalid_dpop_proof""#)
            && challenge.contains(r#"algs=""#),
        "{what}: {challenge}"
    );
    let json: Value = resp.json().await.expect("json");
    assert_eq!(json["error"], "invalid_dpop_proof", "{what}");
    3
}

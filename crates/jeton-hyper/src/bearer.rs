//! Access-token protection for resource servers built on hyper (RFC 6750): the shared
//! [`AccessTokenLayer`](crate::AccessTokenLayer) middleware, or [`authorize_request`] inside a
//! service of your own.

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use jeton::{AccessTokenClaims, RequireScope};

/// Checks the access token of `req` (JWT or opaque, as `require`'s validator allows) at the
/// current time, requiring `require`'s scope.
///
/// On success returns the validated claims; on failure, the response to send as is: `401` with
/// `WWW-Authenticate: Bearer realm="…"` (and `error="invalid_token"` when a token was
/// presented), `400 invalid_request` for a malformed or repeated header, `403
/// insufficient_scope` with the `scope` needed (RFC 6750 §3, §3.1). Tokens are read from the
/// header only (RFC 6750 §2.1; the query method is never used).
///
/// ```no_run
/// # async fn demo(require: &jeton::RequireScope, req: http::Request<()>) {
/// match jeton_hyper::authorize_request(require, &req).await {
///     Ok(claims) => println!("called by {}", claims.client_id),
///     Err(response) => { /* return `response` */ }
/// }
/// # }
/// ```
#[allow(clippy::result_large_err)]
pub async fn authorize_request<B>(
    require: &RequireScope,
    req: &Request<B>,
) -> Result<AccessTokenClaims, Response<Full<Bytes>>> {
    jeton_http::check_access_token(require, req.method(), req.uri(), req.headers())
        .await
        .map_err(|e| jeton_http::to_http(&e.response()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
    use jeton::time::OffsetDateTime;
    use jeton::{Algorithm, BearerValidator, Jwks, Scope, SigningKey};
    use std::sync::Arc;

    #[allow(clippy::result_large_err)]
    fn authorize_bearer(
        v: &Arc<BearerValidator>,
        req: &Request<()>,
        scope: &Scope,
    ) -> Result<AccessTokenClaims, Response<Full<Bytes>>> {
        let require = RequireScope::new(v.clone(), scope.clone());
        jeton_testkit::block_on(authorize_request(&require, req))
    }

    fn setup() -> (SigningKey, Arc<BearerValidator>) {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let jwks = Jwks::new([key.verifying_key().clone()]).unwrap();
        let v =
            BearerValidator::builder("https://as.example.com", "https://api.example.com/", jwks)
                .build()
                .unwrap();
        (key, Arc::new(v))
    }

    fn token(key: &SigningKey, scope: &str) -> String {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let claims = serde_json::json!({
            "iss": "https://as.example.com", "aud": "https://api.example.com/",
            "sub": "svc", "client_id": "svc", "iat": now, "exp": now + 60,
            "jti": "j1", "scope": scope,
        });
        jeton::sign_jwt(key, "at+jwt", &claims).unwrap()
    }

    fn futures_body(r: Response<Full<Bytes>>) -> Vec<u8> {
        use http_body_util::BodyExt;
        let collected = jeton_testkit::block_on(r.into_body().collect()).unwrap();
        collected.to_bytes().to_vec()
    }

    fn req(auth: &[&str]) -> Request<()> {
        let mut b = Request::builder().uri("/invoices");
        for a in auth {
            b = b.header(AUTHORIZATION, *a);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn rfc6750_3_responses() {
        let (key, v) = setup();
        let read = Scope::parse("read").unwrap();
        let t = token(&key, "read");
        let ok = authorize_bearer(&v, &req(&[&format!("Bearer {t}")]), &read).unwrap();
        assert_eq!(ok.client_id, "svc");

        let missing = authorize_bearer(&v, &req(&[]), &read).unwrap_err();
        assert_eq!(missing.status(), 401);
        assert_eq!(
            missing.headers()[WWW_AUTHENTICATE],
            "Bearer realm=\"jeton\""
        );

        let bad = authorize_bearer(&v, &req(&["Bearer abc.def.ghi"]), &read).unwrap_err();
        assert_eq!(bad.status(), 401);
        assert!(
            bad.headers()[WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .contains("error=\"invalid_token\"")
        );

        let two = authorize_bearer(&v, &req(&["Bearer a", "Bearer b"]), &read).unwrap_err();
        assert_eq!(two.status(), 400);
        let body: serde_json::Value = serde_json::from_slice(&futures_body(two)).unwrap();
        assert_eq!(body["error"], "invalid_request");

        let write = Scope::parse("write").unwrap();
        let scope = authorize_bearer(&v, &req(&[&format!("Bearer {t}")]), &write).unwrap_err();
        assert_eq!(scope.status(), 403);
        let c = scope.headers()[WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            c.contains("error=\"insufficient_scope\"") && c.contains("scope=\"write\""),
            "{c}"
        );
    }
}

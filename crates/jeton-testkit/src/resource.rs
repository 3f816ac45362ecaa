//! The resource-server table every HTTP adapter runs over real sockets (feature `http`): one
//! engine per token format, the validator made from it ([`Engine::validator`]), and the rows a
//! protected route must answer alike through the adapter's middleware and through its
//! extractor.
//!
//! The adapter's test serves, on one server: `PROTECTED` behind its middleware, `EXTRACTED`
//! with its extractor alone (no middleware), both requiring [`API_SCOPE`] and answering `200`
//! with the caller's `client_id` as the body; and the engine's token endpoint at `/token`.
//! Tokens come from the engine with the real clock (the adapters read it). The engine has a
//! replay store, so its token endpoint binds tokens to DPoP proofs, and the validator made
//! from it checks `DPoP` tokens (RFC 9449 §7.1) against [`API_BASE`] + the path.

use crate::http::client;
use crate::{BASIC, FixtureClient, ISSUER, RESOURCE, SeqRandom, fixture_clients};
use jeton::time::{Duration, OffsetDateTime};
use jeton::{
    Algorithm, Engine, IssuerId, JwtIssuer, KeySet, OpaqueIssuer, RawRequest, RequireScope,
    Resource, Scope, SigningKey, TokenFormat, TokenIssuer, Transport, encode_basic,
};
use jeton_memory::{MemoryClientStore, MemoryReplayStore, MemoryRevocationList, MemoryTokenStore};
use serde_json::{Value, json};
use std::sync::Arc;

/// The audience of the protected API.
pub const API: &str = "https://api.example.com/";
/// The external base URL of the protected API ([`RequireScope::external_url`]): DPoP proofs
/// name it in `htu`, whatever socket the test server listens on.
pub const API_BASE: &str = "https://api.example.com";
/// The scope the protected routes require.
pub const API_SCOPE: &str = "read";
/// The path served behind the adapter's middleware.
pub const PROTECTED: &str = "/api/orders";
/// The path served with the adapter's extractor only.
pub const EXTRACTED: &str = "/ext/orders";

/// One engine of one token format, and what the table needs to make its tokens.
pub struct ResourceFixture {
    /// Opaque or JWT.
    pub format: TokenFormat,
    /// The engine (issuer [`ISSUER`], default audience [`API`], plain HTTP allowed).
    pub engine: Arc<Engine>,
    /// The JWT issuer, to rotate its keys and sign foreign tokens (JWT format only).
    pub jwt: Option<Arc<JwtIssuer>>,
    /// What the protected routes require: the engine's validator and [`API_SCOPE`].
    pub require: RequireScope,
}

impl std::fmt::Debug for ResourceFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceFixture")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

fn engine_with(issuer: Arc<dyn TokenIssuer>) -> Arc<Engine> {
    let clients = Arc::new(MemoryClientStore::with_clients(fixture_clients()));
    let engine = Engine::builder(clients, issuer)
        .random(Arc::new(SeqRandom::new(13)))
        .issuer(IssuerId::new(ISSUER).expect("issuer"))
        .default_audience([Resource::new(API).expect("api")])
        .transport(Transport::Plaintext)
        .replay_store(Arc::new(MemoryReplayStore::with_capacity(1024)))
        .build()
        .expect("engine");
    Arc::new(engine)
}

impl ResourceFixture {
    /// A fresh engine issuing `format` tokens, and its validator.
    pub fn new(format: TokenFormat) -> Self {
        Self::seeded(format, 11)
    }

    fn seeded(format: TokenFormat, seed: u64) -> Self {
        let rng = Arc::new(SeqRandom::new(seed));
        let (issuer, jwt): (Arc<dyn TokenIssuer>, _) = match format {
            TokenFormat::Jwt => {
                let key = SigningKey::generate(Algorithm::Es256).expect("key");
                let jwt = JwtIssuer::builder(
                    IssuerId::new(ISSUER).expect("issuer"),
                    KeySet::new(key),
                    rng,
                )
                .revocation_list(Arc::new(MemoryRevocationList::new()))
                .build()
                .expect("jwt issuer");
                let jwt = Arc::new(jwt);
                (jwt.clone(), Some(jwt))
            }
            _ => (
                Arc::new(OpaqueIssuer::new(Arc::new(MemoryTokenStore::new()), rng)),
                None,
            ),
        };
        let engine = engine_with(issuer);
        let validator = engine.validator().build().expect("validator");
        let require =
            RequireScope::new(Arc::new(validator), Scope::parse(API_SCOPE).expect("scope"))
                .external_url(API_BASE);
        Self {
            format,
            engine,
            jwt,
            require,
        }
    }

    /// A token issued by `engine` to `client` with the extra form parameters, at `now`.
    fn issue_from(
        engine: &Engine,
        client: FixtureClient,
        extra: &str,
        now: OffsetDateTime,
    ) -> String {
        let body = format!("grant_type=client_credentials{extra}");
        let auth = encode_basic(client.id, client.secret);
        let req = RawRequest::new("POST", body.as_bytes(), now)
            .content_type(b"application/x-www-form-urlencoded")
            .authorization(auth.as_bytes());
        let outcome = crate::block_on(engine.handle_token_request(&req));
        let json: Value = serde_json::from_slice(outcome.response.body()).expect("json");
        assert_eq!(outcome.response.status(), 200, "{json}");
        json["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// A token issued now to `client` with the extra form parameters.
    pub fn issue(&self, client: FixtureClient, extra: &str) -> String {
        Self::issue_from(&self.engine, client, extra, OffsetDateTime::now_utc())
    }

    /// Revokes `token` at the engine (RFC 7009) as [`RESOURCE`], its client.
    pub fn revoke(&self, token: &str) {
        let body = format!("token={token}");
        let auth = encode_basic(RESOURCE.id, RESOURCE.secret);
        let req = RawRequest::new("POST", body.as_bytes(), OffsetDateTime::now_utc())
            .content_type(b"application/x-www-form-urlencoded")
            .authorization(auth.as_bytes());
        let outcome = crate::block_on(self.engine.handle_revocation_request(&req));
        assert_eq!(outcome.response.status(), 200);
    }

    /// A JWT signed with the issuer's current key, with `claims` changed from a valid token's.
    fn forged(&self, jwt: &JwtIssuer, change: impl FnOnce(&mut Value)) -> String {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let mut claims = json!({
            "iss": ISSUER, "aud": API, "sub": RESOURCE.id, "client_id": RESOURCE.id,
            "iat": now, "exp": now + 300, "jti": format!("forged-{now}"), "scope": API_SCOPE,
        });
        change(&mut claims);
        jeton::sign_jwt(jwt.keys().active(), "at+jwt", &claims).expect("sign")
    }

    /// The `Authorization` values of `case`, or `None` when the case does not apply to this
    /// token format.
    pub fn authorization(&self, case: Case) -> Option<Vec<String>> {
        let bearer = |t: String| Some(vec![format!("Bearer {t}")]);
        let jwt = self.jwt.as_deref();
        match case {
            Case::Valid => bearer(self.issue(RESOURCE, "")),
            Case::NoToken => Some(Vec::new()),
            Case::MalformedHeader => Some(vec!["Bearer a b".to_owned()]),
            Case::TwoHeaders => {
                let t = self.issue(RESOURCE, "");
                Some(vec![format!("Bearer {t}"), format!("Bearer {t}")])
            }
            Case::WrongScheme => Some(vec![encode_basic(RESOURCE.id, RESOURCE.secret)]),
            Case::Expired => {
                let then = OffsetDateTime::now_utc() - Duration::hours(2);
                bearer(Self::issue_from(&self.engine, RESOURCE, "", then))
            }
            Case::WrongAudience => {
                bearer(self.issue(RESOURCE, "&resource=https%3A%2F%2Fother.example.com%2F"))
            }
            Case::WrongIssuer => match jwt {
                Some(jwt) => bearer(self.forged(jwt, |c| c["iss"] = json!("https://evil.example"))),
                // An opaque token is only known to the store that issued it: another jeton's.
                None => {
                    // Another seed: the same one would draw the very tokens this store holds.
                    let other = Self::seeded(self.format, 12);
                    bearer(other.issue(RESOURCE, ""))
                }
            },
            Case::InsufficientScope => bearer(self.issue(BASIC, "&scope=write")),
            Case::Revoked => {
                let t = self.issue(RESOURCE, "");
                self.revoke(&t);
                bearer(t)
            }
            Case::RotatedKey => {
                let jwt = jwt?;
                let old = jwt.keys().active().verifying_key().clone();
                let next = SigningKey::generate(Algorithm::Es256).expect("key");
                let keys = KeySet::new(next)
                    .with_verification_key(old)
                    .expect("distinct kids");
                jwt.replace_keys(keys);
                bearer(self.issue(RESOURCE, ""))
            }
            Case::RetiredKey => {
                let jwt = jwt?;
                let token = self.issue(RESOURCE, "");
                let next = SigningKey::generate(Algorithm::Es256).expect("key");
                jwt.replace_keys(KeySet::new(next));
                bearer(token)
            }
        }
    }
}

/// One row of the resource-server table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Case {
    /// A token just issued for the API with the scope: `200`.
    Valid,
    /// No `Authorization`: `401`, bare challenge, no body (RFC 6750 §3.1).
    NoToken,
    /// `Bearer a b`: `400 invalid_request`.
    MalformedHeader,
    /// Two `Authorization` headers: `400 invalid_request`.
    TwoHeaders,
    /// `Basic …`: `401`, bare challenge (an unsupported method, §3.1).
    WrongScheme,
    /// Expired: `401 invalid_token`.
    Expired,
    /// Issued for another resource: `401 invalid_token`.
    WrongAudience,
    /// From another issuer: `401 invalid_token`.
    WrongIssuer,
    /// Without the required scope: `403 insufficient_scope` with `scope="read"`.
    InsufficientScope,
    /// Revoked at the engine a moment before: `401 invalid_token` at once (RFC 7009).
    Revoked,
    /// JWT: signed by a key rotated in after the validator was built: `200` at once.
    RotatedKey,
    /// JWT: signed by a key since removed from the set: `401 invalid_token`.
    RetiredKey,
}

/// Every row with its expected status and error code.
pub const CASES: &[(Case, u16, Option<&str>)] = &[
    (Case::Valid, 200, None),
    (Case::NoToken, 401, None),
    (Case::MalformedHeader, 400, Some("invalid_request")),
    (Case::TwoHeaders, 400, Some("invalid_request")),
    (Case::WrongScheme, 401, None),
    (Case::Expired, 401, Some("invalid_token")),
    (Case::WrongAudience, 401, Some("invalid_token")),
    (Case::WrongIssuer, 401, Some("invalid_token")),
    (Case::InsufficientScope, 403, Some("insufficient_scope")),
    (Case::Revoked, 401, Some("invalid_token")),
    (Case::RotatedKey, 200, None),
    (Case::RetiredKey, 401, Some("invalid_token")),
];

/// Runs every row of [`CASES`] that applies to `fixture`'s format against `url` (the adapter's
/// middleware route or its extractor route); returns how many rows ran. Every refusal carries
/// `Cache-Control: no-store` and the core's challenge with realm `jeton`; a refusal without an
/// error code has no body and no `Content-Type`, the same in every adapter.
pub async fn resource_table_passes(url: &str, fixture: &ResourceFixture) -> usize {
    let mut ran = 0;
    for &(case, status, code) in CASES {
        let Some(values) = fixture.authorization(case) else {
            continue;
        };
        ran += 1;
        let mut req = client().get(url);
        for v in &values {
            req = req.header("authorization", v);
        }
        let resp = req.send().await.expect("send");
        let what = format!("{case:?} ({}) at {url}", fixture.format);
        assert_eq!(resp.status(), status, "{what}");
        if status == 200 {
            assert_eq!(resp.text().await.expect("body"), RESOURCE.id, "{what}");
            continue;
        }
        let headers = resp.headers().clone();
        assert_eq!(headers["cache-control"], "no-store", "{what}");
        let challenge = headers["www-authenticate"].to_str().expect("ascii");
        let body = resp.bytes().await.expect("body");
        match code {
            None => {
                assert_eq!(challenge, "Bearer realm=\"jeton\"", "{what}");
                assert!(body.is_empty(), "{what}");
                assert!(headers.get("content-type").is_none(), "{what}: {headers:?}");
            }
            Some(code) => {
                assert!(challenge.starts_with("Bearer realm=\"jeton\", "), "{what}");
                assert!(
                    challenge.contains(&format!("error=\"{code}\"")),
                    "{what}: {challenge}"
                );
                assert_eq!(
                    challenge.contains("scope=\"read\""),
                    status == 403,
                    "{what}"
                );
                assert_eq!(headers["content-type"], "application/json", "{what}");
                let json: Value = serde_json::from_slice(&body).expect("json");
                assert_eq!(json["error"], code, "{what}");
            }
        }
    }
    ran
}

/// The whole table for both formats through both routes of the servers `serve` starts:
/// `serve(fixture)` returns the base URL (`http://127.0.0.1:port`) of a server for that
/// fixture and a guard that keeps it running. Returns the number of rows run.
pub async fn resource_tables_pass<G>(serve: impl Fn(&ResourceFixture) -> (String, G)) -> usize {
    let mut ran = 0;
    for format in [TokenFormat::Jwt, TokenFormat::Opaque] {
        let fixture = ResourceFixture::new(format);
        let (base, _guard) = serve(&fixture);
        for path in [PROTECTED, EXTRACTED] {
            ran += resource_table_passes(&format!("{base}{path}"), &fixture).await;
            ran += crate::resource_dpop::dpop_rows_pass(&base, path, &fixture).await;
        }
    }
    // 12 rows for JWTs, 10 for opaque tokens, and 3 DPoP rows, each through two routes.
    assert_eq!(ran, 56);
    ran
}

/// A route behind the middleware cannot be reached without a valid token, whatever the method:
/// the handler never runs (it would answer `200`).
pub async fn protected_route_is_closed(base: &str) {
    for method in [
        reqwest::Method::GET,
        reqwest::Method::POST,
        reqwest::Method::DELETE,
    ] {
        let resp = client()
            .request(method.clone(), format!("{base}{PROTECTED}"))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 401, "{method}");
    }
}

/// Interop: a token obtained from the jeton token endpoint at `{base}/token` by the `oauth2`
/// crate (client credentials, `client_secret_basic`, scope [`API_SCOPE`]) as [`RESOURCE`].
pub async fn oauth2_crate_token(base: &str) -> String {
    use oauth2::basic::BasicClient;
    use oauth2::{ClientId, ClientSecret, TokenResponse, TokenUrl};
    let client = BasicClient::new(ClientId::new(RESOURCE.id.to_owned()))
        .set_client_secret(ClientSecret::new(RESOURCE.secret.to_owned()))
        .set_token_uri(TokenUrl::new(format!("{base}/token")).expect("token url"));
    // RFC 6749 §4.4.2: no redirects are followed at a token endpoint.
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let token = client
        .exchange_client_credentials()
        .add_scope(oauth2::Scope::new(API_SCOPE.to_owned()))
        .request_async(&http)
        .await
        .expect("oauth2 crate token request");
    token.access_token().secret().clone()
}

/// Interop: the `oauth2` crate's token ([`oauth2_crate_token`]) is accepted by the protected
/// route, through the middleware and through the extractor.
pub async fn oauth2_crate_token_is_accepted(base: &str) {
    let token = oauth2_crate_token(base).await;
    for path in [PROTECTED, EXTRACTED] {
        let resp = client()
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.text().await.expect("body"), RESOURCE.id);
    }
}

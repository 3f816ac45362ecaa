//! The README's curl lines, over real HTTP, for both token formats: token, 200, 401, 403
//! insufficient_scope, revoked → 401.

use jeton_axum::jeton::TokenFormat;
use std::net::SocketAddr;

async fn token(http: &reqwest::Client, base: &str, secret: &str, scope: &str) -> String {
    let resp = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(example_axum_app::CLIENT_ID, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", scope)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_curl_lines_answer_as_documented() {
    for format in [TokenFormat::Jwt, TokenFormat::Opaque] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (app, demo) = example_axum_app::app(&base, format).unwrap();
        let server = tokio::spawn(async move {
            let make = app.into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, make).await.unwrap();
        });
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let orders = format!("{base}/api/orders");

        let read = token(&http, &base, &demo.client_secret, "orders:read").await;
        let ok = http.get(&orders).bearer_auth(&read).send().await.unwrap();
        assert_eq!(ok.status(), 200, "{format}");

        let none = http.get(&orders).send().await.unwrap();
        assert_eq!(none.status(), 401);
        assert_eq!(none.headers()["www-authenticate"], "Bearer realm=\"jeton\"");

        let write = token(&http, &base, &demo.client_secret, "orders:write").await;
        let refused = http.get(&orders).bearer_auth(&write).send().await.unwrap();
        assert_eq!(refused.status(), 403);

        let revoke = http
            .post(format!("{base}/revoke"))
            .basic_auth(example_axum_app::CLIENT_ID, Some(&demo.client_secret))
            .form(&[("token", read.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(revoke.status(), 200);
        let revoked = http.get(&orders).bearer_auth(&read).send().await.unwrap();
        assert_eq!(revoked.status(), 401, "{format}");
        server.abort();
    }
}

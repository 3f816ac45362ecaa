//! `cargo run -p example-remote-api`: the API of the crate docs on `127.0.0.1:4000` (or
//! `API_ADDR`), trusting the jeton at `JETON_ISSUER` (default `http://127.0.0.1:8080`), as the
//! client `API_CLIENT_ID` / `API_CLIENT_SECRET`, for tokens meant for `API_AUDIENCE`. See the
//! README.

use example_remote_api::{Settings, app};
use jeton_axum::jeton::time::Duration;
use std::error::Error;
use std::net::SocketAddr;

fn var(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let settings = Settings {
        issuer: var("JETON_ISSUER", "http://127.0.0.1:8080"),
        audience: var("API_AUDIENCE", "https://orders.example.com/"),
        client_id: var("API_CLIENT_ID", "orders-api"),
        client_secret: std::env::var("API_CLIENT_SECRET")?,
        cache_ttl: Duration::seconds(30),
        scope: "orders:read".to_owned(),
    };
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let app = app(&settings, http).await?;
    let addr: SocketAddr = var("API_ADDR", "127.0.0.1:4000").parse()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("orders API on http://{addr}, trusting {}", settings.issuer);
    axum::serve(listener, app).await?;
    Ok(())
}

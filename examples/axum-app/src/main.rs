//! `cargo run -p example-axum-app [-- --opaque]`: the app of the crate docs on
//! `127.0.0.1:3000` (or `JETON_ADDR`), over plain HTTP for development. See the README.

use jeton_axum::jeton::TokenFormat;
use std::error::Error;
use std::net::SocketAddr;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let addr: SocketAddr = std::env::var("JETON_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3000".to_owned())
        .parse()?;
    let format = if std::env::args().any(|a| a == "--opaque") {
        TokenFormat::Opaque
    } else {
        TokenFormat::Jwt
    };
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (app, demo) = example_axum_app::app(&base, format)?;
    println!("{format} tokens; issuer {base}");
    println!("client id:     {}", example_axum_app::CLIENT_ID);
    println!("client secret: {} (shown once)", demo.client_secret);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}

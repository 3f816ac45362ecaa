//! `cargo run -p example-actix-app [-- --opaque]`: the app of the crate docs on
//! `127.0.0.1:3000` (or `JETON_ADDR`), over plain HTTP for development. See the README.

use actix_web::{App, HttpServer};
use jeton_actix::jeton::TokenFormat;
use std::error::Error;
use std::net::TcpListener;

#[actix_web::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // One audit line per token request (jeton_http::log_outcome), filtered by RUST_LOG.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let addr = std::env::var("JETON_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let format = if std::env::args().any(|a| a == "--opaque") {
        TokenFormat::Opaque
    } else {
        TokenFormat::Jwt
    };
    let listener = TcpListener::bind(addr)?;
    let base = format!("http://{}", listener.local_addr()?);
    let (app, demo) = example_actix_app::app(&base, format)?;
    println!("{format} tokens; issuer {base}");
    println!("client id:     {}", example_actix_app::CLIENT_ID);
    println!("client secret: {} (shown once)", demo.client_secret);
    HttpServer::new(move || App::new().configure(app.clone()))
        .listen(listener)?
        .run()
        .await?;
    Ok(())
}

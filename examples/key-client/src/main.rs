//! `key-client`: a token from a jeton token endpoint with a client assertion, optionally
//! DPoP-bound. See this example's README.

use clap::Parser;
use key_client::{ClientKey, Request, request_token};
use std::path::PathBuf;
use std::process::ExitCode;

/// Ask a jeton token endpoint for a token as a key client (private_key_jwt, optional DPoP).
#[derive(Debug, Parser)]
struct Args {
    /// The token endpoint URL, e.g. http://127.0.0.1:8080/token.
    #[arg(long, required_unless_present = "print_jwks")]
    token_url: Option<String>,
    /// The issuer identifier (the assertion's audience), e.g. http://127.0.0.1:8080.
    #[arg(long, required_unless_present = "print_jwks")]
    issuer: Option<String>,
    /// The client id.
    #[arg(long, required_unless_present = "print_jwks")]
    client_id: Option<String>,
    /// The client's PKCS#8 PEM private key (ES256 or EdDSA).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Send a DPoP proof and ask for a DPoP-bound token.
    #[arg(long)]
    dpop: bool,
    /// The scope to ask for.
    #[arg(long, value_name = "S")]
    scope: Option<String>,
    /// Print the key's public JWK Set (to register the client) and exit.
    #[arg(long)]
    print_jwks: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("key-client: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<bool, key_client::Error> {
    let pem =
        std::fs::read_to_string(&args.key).map_err(|e| format!("{}: {e}", args.key.display()))?;
    let key = ClientKey::from_pkcs8_pem(&pem)?;
    if args.print_jwks {
        println!("{}", serde_json::to_string_pretty(&key.public_jwks())?);
        return Ok(true);
    }
    let req = Request {
        token_url: args.token_url.unwrap_or_default(),
        issuer: args.issuer.unwrap_or_default(),
        client_id: args.client_id.unwrap_or_default(),
        dpop: args.dpop,
        scope: args.scope,
    };
    let http = reqwest::Client::builder().build()?;
    let answer = request_token(&http, &key, &req).await?;
    println!("HTTP {}", answer.status);
    println!("{}", serde_json::to_string_pretty(&answer.body)?);
    Ok(answer.status == 200)
}

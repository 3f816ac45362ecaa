//! The yardstick of `scripts/load.sh` (issue 13): what a request costs when nothing but the HTTP
//! stack runs.
//!
//! - `http-ceiling serve [ADDR]`: a bare hyper 1.x server on the same runtime, socket options
//!   and HTTP/1 settings as `jeton serve`, that reads each request's body and answers every
//!   request with a fixed token-shaped JSON body. It checks nothing. Every figure of `jeton`
//!   in the load script is a ratio to this one, measured in the same run on the same machine.
//! - `http-ceiling sign-cost [N]`: the CPU time of one ES256 signature with ring over a
//!   JWT-sized input, the unit of the JWT goal ("ceiling + 1.25 × one signature").
#![forbid(unsafe_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Request, Response};
use hyper_util::rt::TokioIo;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use std::convert::Infallible;
use std::net::SocketAddr;

/// The answer: the shape and size of a jeton opaque-token response.
const BODY: &[u8] = br#"{"access_token":"jat_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG","token_type":"Bearer","expires_in":3600,"scope":"read"}"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("serve") => {
            let addr: SocketAddr = args.next().as_deref().unwrap_or("127.0.0.1:0").parse()?;
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(serve(addr))
        }
        Some("sign-cost") => {
            let n = args
                .next()
                .map(|s| s.parse())
                .transpose()?
                .unwrap_or(20_000);
            println!("{:.2}", sign_cost_us(n)?);
            Ok(())
        }
        _ => Err("usage: http-ceiling serve [ADDR] | http-ceiling sign-cost [N]".into()),
    }
}

async fn serve(addr: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, "application/json".parse()?);
    headers.insert(CACHE_CONTROL, "no-store".parse()?);
    headers.insert(PRAGMA, "no-cache".parse()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let headers = headers.clone();
        let service = service_fn(move |req: Request<Incoming>| {
            let headers = headers.clone();
            async move {
                // Read the body as any endpoint must; its bytes are not looked at.
                let _ = req.into_body().collect().await;
                let mut resp = Response::new(Full::new(Bytes::from_static(BODY)));
                *resp.headers_mut() = headers;
                Ok::<_, Infallible>(resp)
            }
        });
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Microseconds of this thread's CPU time per ES256 signature over `n` signatures of a
/// JWT-sized signing input.
fn sign_cost_us(n: u32) -> Result<f64, Box<dyn std::error::Error>> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| "cannot generate a key")?;
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| "cannot load the key")?;
    let input = [b'a'; 330];
    for _ in 0..n / 10 {
        key.sign(&rng, &input).map_err(|_| "cannot sign")?;
    }
    let start = thread_cpu_ns()?;
    for _ in 0..n {
        key.sign(&rng, &input).map_err(|_| "cannot sign")?;
    }
    Ok((thread_cpu_ns()? - start) as f64 / 1e3 / f64::from(n))
}

/// This thread's CPU time (user + system) in nanoseconds: the first field of
/// `/proc/thread-self/schedstat` (Linux), read without `unsafe`.
fn thread_cpu_ns() -> Result<u64, Box<dyn std::error::Error>> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat")?;
    Ok(s.split_whitespace()
        .next()
        .ok_or("empty schedstat")?
        .parse()?)
}

//! The yardsticks of `scripts/load.sh` (issue 13): what a request costs when nothing but the
//! HTTP stack runs, and when nothing but the work no token endpoint can skip does.
//!
//! - `http-ceiling serve [ADDR]`: a bare hyper 1.x server on the same runtime, socket options
//!   and HTTP/1 settings as `jeton serve`, that reads each request's body and answers every
//!   request with a fixed token-shaped JSON body. It checks nothing. Every figure of `jeton`
//!   in the load script is a ratio to this one, measured in the same run on the same machine.
//! - `http-ceiling minimal ADDR CLIENT_ID`: the cheapest token endpoint one would write by hand
//!   (form, Basic, an HMAC-SHA256 secret check, 256 random bits, a map insert; see
//!   [`mod@minimal`]), on the same server loop, for the client whose secret is in the environment
//!   variable `CEILING_CLIENT_SECRET`. Not an authorization server: it skips nearly every check
//!   RFC 6749 asks for, which is what makes it a floor.
//! - `http-ceiling sign-cost [N]`: the CPU time of one ES256 signature with ring over a
//!   JWT-sized input, the unit of the JWT goal ("ceiling + 1.25 × one signature").
#![forbid(unsafe_code)]

mod minimal;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA, WWW_AUTHENTICATE};
use hyper::server::conn::http1;
use hyper::service::{Service, service_fn};
use hyper::{HeaderMap, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use minimal::Minimal;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

/// The answer: the shape and size of a jeton opaque-token response.
const BODY: &[u8] = br#"{"access_token":"jat_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG","token_type":"Bearer","expires_in":3600,"scope":"read"}"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("serve") => {
            let addr: SocketAddr = args.next().as_deref().unwrap_or("127.0.0.1:0").parse()?;
            runtime()?.block_on(ceiling(addr))
        }
        Some("minimal") => {
            let addr: SocketAddr = args.next().as_deref().unwrap_or("127.0.0.1:0").parse()?;
            let id = args.next().ok_or("minimal: the client id is missing")?;
            let secret = std::env::var("CEILING_CLIENT_SECRET")
                .map_err(|_| "minimal: set CEILING_CLIENT_SECRET to the client's secret")?;
            let endpoint = Arc::new(Minimal::new(&id, &secret)?);
            runtime()?.block_on(minimal(addr, endpoint))
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
        _ => Err(
            "usage: http-ceiling serve [ADDR] | http-ceiling minimal ADDR CLIENT_ID | \
             http-ceiling sign-cost [N]"
                .into(),
        ),
    }
}

/// The runtime `jeton serve` runs on: tokio's multi-threaded one, a worker per core.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// The ceiling: reads each request's body, answers with [`BODY`].
async fn ceiling(addr: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, "application/json".parse()?);
    headers.insert(CACHE_CONTROL, "no-store".parse()?);
    headers.insert(PRAGMA, "no-cache".parse()?);
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
    serve(addr, service).await
}

/// The minimal endpoint: reads each request's body and hands it, with the `Authorization`
/// header, to [`Minimal::answer`].
async fn minimal(
    addr: SocketAddr,
    endpoint: Arc<Minimal>,
) -> Result<(), Box<dyn std::error::Error>> {
    let service = service_fn(move |req: Request<Incoming>| {
        let endpoint = Arc::clone(&endpoint);
        async move {
            let (parts, body) = req.into_parts();
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let authorization = parts.headers.get(AUTHORIZATION).map(|v| v.as_bytes());
            let answer = endpoint.answer(authorization, &body);
            let status =
                StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut resp = Response::new(Full::new(Bytes::from(answer.body)));
            *resp.status_mut() = status;
            let headers = resp.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
            if status == StatusCode::UNAUTHORIZED {
                headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
            }
            Ok::<_, Infallible>(resp)
        }
    });
    serve(addr, service).await
}

/// Accepts connections on `addr` and serves each with a clone of `service`, HTTP/1 with
/// `TCP_NODELAY` as `jeton serve` does.
async fn serve<S>(addr: SocketAddr, service: S) -> Result<(), Box<dyn std::error::Error>>
where
    S: Service<Request<Incoming>, Response = Response<Full<Bytes>>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let service = service.clone();
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

//! Issue 9 point 6 against the real `jeton serve` process, over real HTTP on 127.0.0.1: one
//! peer cannot hold more than its share of connections while another peer is served, and a
//! body that trickles in slower than `min_body_rate` is cut while a normal one passes. Every
//! wait is bounded; the child process is killed when its handle drops.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_jeton");
const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// A running `jeton serve` on a config written to a temporary file: killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
    config: PathBuf,
}

impl Server {
    /// Registers one client (`jeton client new --id svc`), serves `extra` config after it, and
    /// returns the server and the client's `Authorization` value.
    fn start(name: &str, extra: &str) -> (Self, String) {
        let out = Command::new(BIN)
            .args(["client", "new", "--id", "svc", "--scope", "read"])
            .output()
            .expect("jeton client new");
        assert!(out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        let secret = stderr
            .lines()
            .find_map(|l| l.strip_prefix("client secret: "))
            .expect("secret")
            .trim()
            .to_owned();
        let basic = base64_basic("svc", &secret);
        let config =
            std::env::temp_dir().join(format!("jeton-limits-{}-{name}.toml", std::process::id()));
        let text = format!(
            "issuer = \"http://127.0.0.1:8080\"\n{}\n{extra}",
            String::from_utf8_lossy(&out.stdout)
        );
        std::fs::write(&config, text).unwrap();
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn jeton serve");
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(a) = line.strip_prefix("jeton listening on http://") {
                    let _ = tx.send(a.parse::<SocketAddr>().expect("address"));
                }
            }
        });
        let addr = rx.recv_timeout(IO_TIMEOUT).expect("server started");
        (
            Self {
                child,
                addr,
                config,
            },
            basic,
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}

fn base64_basic(id: &str, secret: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let raw = format!("{id}:{secret}").into_bytes();
    let mut out = String::from("Basic ");
    for c in raw.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A connection from `source` (any 127.x address) to `to`.
fn connect_from(source: [u8; 4], to: SocketAddr) -> TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stream = rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from((source, 0))).unwrap();
        socket.connect(to).await.unwrap()
    });
    let stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream
}

/// Sends a keep-alive `GET /healthz` on `conn` and reads one response's head: its status, or
/// `None` when the server closed the connection instead of answering.
fn health(conn: &mut TcpStream) -> Option<u16> {
    if conn
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .is_err()
    {
        return None;
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    // The health body is small: read it too, so the next request starts clean.
    let text = String::from_utf8_lossy(&buf).into_owned();
    let len: usize = text
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let head = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut have = buf.len() - head;
    while have < len {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => have += n,
        }
    }
    text.split(' ').nth(1)?.parse().ok()
}

#[test]
fn one_peer_holds_at_most_max_connections_per_peer_while_another_is_served() {
    let (server, _) = Server::start("peers", "[limits]\nmax_connections_per_peer = 2\n");
    let mut held: Vec<TcpStream> = (0..2)
        .map(|_| connect_from([127, 0, 0, 1], server.addr))
        .collect();
    for conn in &mut held {
        assert_eq!(health(conn), Some(200), "within the peer's share");
    }
    // The third from the same peer is closed before a byte is read.
    let mut third = connect_from([127, 0, 0, 1], server.addr);
    assert_eq!(health(&mut third), None, "past the peer's share");
    // Another peer is served meanwhile.
    let mut other = connect_from([127, 0, 0, 2], server.addr);
    assert_eq!(health(&mut other), Some(200), "another peer");
    // A closed connection gives its slot back (the server notices the close asynchronously:
    // bounded retries).
    drop(held.pop());
    let served = (0..100).any(|_| {
        let mut again = connect_from([127, 0, 0, 1], server.addr);
        let ok = health(&mut again) == Some(200);
        if !ok {
            std::thread::sleep(Duration::from_millis(50));
        }
        ok
    });
    assert!(served, "the slot came back");
}

/// Sends a token request whose body trickles in one byte every `every` on a thread; returns
/// the response and how many body bytes were sent before it came.
fn trickle(addr: SocketAddr, auth: &str, body: &'static str, every: Duration) -> (String, usize) {
    let mut conn = connect_from([127, 0, 0, 1], addr);
    write!(
        conn,
        "POST /token HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: {auth}\r\nContent-Type: \
         application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicBool::new(false));
    let mut writer = conn.try_clone().unwrap();
    let (s, a) = (sent.clone(), answered.clone());
    let feeder = std::thread::spawn(move || {
        for b in body.bytes() {
            if a.load(Ordering::SeqCst) || writer.write_all(&[b]).is_err() {
                return;
            }
            s.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(every);
        }
    });
    let mut response = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + IO_TIMEOUT * 3;
    while Instant::now() < deadline {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => response.extend_from_slice(&chunk[..n]),
        }
    }
    answered.store(true, Ordering::SeqCst);
    let at = sent.load(Ordering::SeqCst);
    feeder.join().unwrap();
    (String::from_utf8_lossy(&response).into_owned(), at)
}

#[test]
fn a_body_slower_than_min_body_rate_is_cut_and_a_normal_one_passes() {
    let (server, auth) = Server::start(
        "rate",
        "[server]\nrequest_timeout = 60\n[limits]\nmin_body_rate = 50\nbody_grace = 1\n",
    );
    // 40 bytes at one every 200 ms (5 B/s, 8 s in all): past the second of grace the pace
    // owed is 50 B/s, so the body is cut long before its end.
    let body = "grant_type=client_credentials&scope=read";
    let (response, sent) = trickle(server.addr, &auth, body, Duration::from_millis(200));
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    assert!(response.contains("invalid_request"), "{response}");
    assert!(sent < body.len(), "cut before the end ({sent} bytes sent)");
    // The same request sent at once is served.
    let (response, _) = trickle(server.addr, &auth, body, Duration::ZERO);
    assert!(response.starts_with("HTTP/1.1 200 "), "{response}");
}

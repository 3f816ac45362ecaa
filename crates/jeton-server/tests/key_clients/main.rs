//! Key clients (private_key_jwt, RFC 7523) and DPoP (RFC 9449) through the real `jeton serve`:
//! real processes, real config files and stores, HTTP on 127.0.0.1. Assertions and proofs are
//! made by the key-client example (the independent `jsonwebtoken` crate), keys by
//! `jeton key new --print-jwks`. Every wait is bounded; nothing is timed.
//!
//! - `nonces`: `[dpop] nonces = true` (RFC 9449 §8) over HTTP.
//! - `runtime`: a key client created with `jeton client create --jwks` against a running
//!   SQLite-backed server authenticates without a restart.
//! - `two_nodes`: two servers on one PostgreSQL refuse each other's replays, and share nonces
//!   through one nonce key file (`DATABASE_URL`; see `tests/store.rs`).
//! - `walkthrough`: examples/key-client/README.md, command by command.

#[path = "../common/mod.rs"]
mod common;

mod nonces;
mod runtime;
mod two_nodes;
mod walkthrough;

/// The issuer of these deployments. The servers listen elsewhere (`--listen 127.0.0.1:0`):
/// assertions name the issuer and DPoP proofs its token endpoint URL, whatever the socket.
const ISSUER: &str = "http://127.0.0.1:8080";

/// A `[[clients]]` entry for `client`: private_key_jwt only, its JWK Set file, audience-only
/// tokens when it asks for no scope.
fn key_client_entry(client: &common::KeyClient, alg: &str) -> String {
    format!(
        "\n[[clients]]\nid = \"{}\"\nauth_methods = [\"private_key_jwt\"]\n\
         token_endpoint_auth_signing_alg = \"{alg}\"\njwks_file = \"{}\"\n\
         default_scope = {{ fixed = [] }}\n",
        client.id,
        client.jwks.display()
    )
}

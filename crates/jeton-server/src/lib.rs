//! # jeton-server — the standalone `jeton` token server
//!
//! An OAuth 2.0 client-credentials authorization server (RFC 6749 §4.4) you run rather than
//! embed: the [`jeton`] engine behind the `jeton-hyper` router, configured by one TOML file.
//! This library is the binary's implementation; its one public function, [`run`], is the
//! binary's `main`.
//!
//! ```text
//! jeton serve [--config FILE] [--listen ADDR] [--log-format text|json]
//! jeton client new --id ID [--scope S]... [--resource URI]... [--may-introspect] [--jwks FILE]
//! jeton client create|update --config FILE --id ID [--scope S]... [--default-scope D]
//!                            [--resource URI]... [--may-introspect[=BOOL]] [--token-lifetime DUR]
//!                            [--jwks FILE] [--require-dpop[=BOOL]]
//! jeton client add-secret --config FILE --id ID [--expires-in DUR]
//! jeton client retire-secret --config FILE --id ID --secret-id SID [--overlap DUR]
//! jeton client remove-secret --config FILE --id ID --secret-id SID
//! jeton client disable|enable|delete --config FILE --id ID
//! jeton client list --config FILE
//! jeton secret hash [--pbkdf2] [--iterations N]      < secret
//! jeton key new [--alg ES256|EdDSA|RS256] --out FILE [--force] [--print-jwks]
//! jeton config check FILE
//! ```
//!
//! - `serve` answers the token, introspection (RFC 7662), revocation (RFC 7009), metadata
//!   (RFC 8414) and JWKS (RFC 7517) endpoints under the configured issuer, plus `GET /healthz`.
//!   Without `--config` it runs a **development default**: plain HTTP on 127.0.0.1:8080, an
//!   in-memory store, a fresh ES256 key, JWT access tokens, and one demo client whose secret is
//!   printed once with a working `curl` line. It checks everything (file, key files, engine)
//!   before binding, logs one line per request (client id, outcome, status, latency; never a
//!   secret or token), and on SIGINT/SIGTERM stops accepting, finishes the requests in flight
//!   and exits 0 (bounded by `drain_timeout`).
//! - `client new` prints a new client's secret once (stderr) and its `[[clients]]` entry with the
//!   secret's verifier (stdout). `secret hash` turns an existing secret into a verifier:
//!   HMAC-SHA256 for jeton's generated `jcs_` secrets, PBKDF2-HMAC-SHA256 (600 000 iterations)
//!   for anything else. `key new` writes a PKCS#8 PEM signing key with mode 0600 (RS256 keys
//!   cannot be generated with ring: the error gives the `openssl` command); with
//!   `--print-jwks` it prints the public key as a JWK Set, for a key client's `jwks_file`.
//!   `config check` loads a file as `serve` would, without binding.
//!
//! The configuration file is documented field by field in the repository's README and in
//! `examples/jeton.toml`. Every table refuses unknown keys, and every error names the file, the
//! line, the column and the key path (`jeton.toml:12:5: clients[0].scopez: unknown field
//! ...`); the config file holds secret verifiers only, and a plaintext-looking secret is refused
//! without being echoed.
//!
//! **Storage**: `[store] url` is `"memory"` (the default, and the development default's:
//! nothing survives a restart), `"sqlite:///path/jeton.db"` (one node that survives restarts)
//! or `"postgres://user@host:5432/db"` (any number of nodes sharing clients, tokens and
//! revocations). `serve` applies the embedded migrations at start (a schema newer than the
//! binary is refused, exit 1), upserts the file's `[[clients]]` (the file is the truth for the
//! clients it declares, secrets included), and purges expired rows every `[limits] purge_interval`. The
//! `client` commands other than `new` manage clients in that store: no node caches clients,
//! so a change applies to every node at its next request.
//!
//! **Key clients and DPoP**: private_key_jwt (RFC 7523) and DPoP (RFC 9449) need the store's
//! single-use values, and are on with a SQL store always (a key client may be created while the
//! server runs), on `memory` when a file client has keys or `require_dpop`, or with
//! `[dpop] nonces = true` (server nonces; every node of a deployment needs the same
//! `nonce_key_file`).
//!
//! What this server does not do: terminate TLS (run it behind a TLS-terminating proxy with
//! `transport.mode = "behind_proxy"`, or on loopback with `"plaintext"`).
//!
//! Exit status: 0 on success (and after a signal-initiated shutdown), 1 when anything is
//! refused or fails, 2 for a malformed command line.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod admin;
mod cli;
mod client_admin;
mod config;
mod logging;
mod min_rate;
mod peers;
mod purge;
mod serve;
mod store;
mod watchdog;

use clap::Parser as _;
use cli::{ClientCommand, Command, ConfigCommand, KeyCommand, SecretCommand};
use std::process::ExitCode;

/// Runs the `jeton` command line: parses the arguments, runs the command, and returns the exit
/// status (printing any error on stderr, one `error: ` line per problem).
pub fn run() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match &cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Client(ClientCommand::New(args)) => admin::client_new(args),
        Command::Client(ClientCommand::Create(args)) => client_admin::create(args),
        Command::Client(ClientCommand::Update(args)) => client_admin::update(args),
        Command::Client(ClientCommand::AddSecret(args)) => client_admin::add_secret(args),
        Command::Client(ClientCommand::RetireSecret(args)) => client_admin::retire_secret(args),
        Command::Client(ClientCommand::RemoveSecret(args)) => client_admin::remove_secret(args),
        Command::Client(ClientCommand::Disable(args)) => client_admin::set_enabled(args, false),
        Command::Client(ClientCommand::Enable(args)) => client_admin::set_enabled(args, true),
        Command::Client(ClientCommand::Delete(args)) => client_admin::delete(args),
        Command::Client(ClientCommand::List(args)) => client_admin::list(args),
        Command::Secret(SecretCommand::Hash(args)) => admin::secret_hash(args),
        Command::Key(KeyCommand::New(args)) => admin::key_new(args),
        Command::Config(ConfigCommand::Check { file }) => admin::config_check(file),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            for line in message.lines() {
                eprintln!("error: {line}");
            }
            ExitCode::FAILURE
        }
    }
}

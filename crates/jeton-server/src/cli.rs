//! The command line (clap derive).

use crate::config::{DurationValue, LogFormat, parse_listen};
use clap::{Args, Parser, Subcommand};
use jeton::Algorithm;
use std::net::SocketAddr;
use std::path::PathBuf;

/// jeton: an OAuth 2.0 client-credentials token server (RFC 6749 §4.4).
///
/// Without a config file `jeton serve` runs a development server on 127.0.0.1:8080 with one
/// demo client. See `examples/jeton.toml` for a documented configuration.
#[derive(Debug, Parser)]
#[command(name = "jeton", version, about, long_about)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the token server (token, introspection, revocation, metadata, JWKS, liveness).
    Serve(ServeArgs),
    /// Register clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Client-secret verifiers.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// JWT signing keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Configuration files.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// `jeton serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The TOML configuration file. Without one: the development default (in-memory, plain
    /// HTTP on loopback, one demo client printed at start).
    #[arg(long, short, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Listen on this IP:port instead of the file's `listen` (port 0 picks a free port; the
    /// bound address is printed on stdout).
    #[arg(long, value_name = "ADDR", value_parser = parse_listen)]
    pub(crate) listen: Option<SocketAddr>,
    /// Log format (overrides `[server] log_format`). The level comes from RUST_LOG (default
    /// `info`).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub(crate) log_format: Option<LogFormat>,
}

/// `jeton client ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ClientCommand {
    /// Register a client: generates its secret, prints the secret once (stderr) and the
    /// `[[clients]]` snippet with the secret's verifier (stdout, ready to append to the file).
    /// Needs no store.
    New(ClientNewArgs),
    /// Create a client in the configured store; prints its secret once (stdout).
    Create(ClientCreateArgs),
    /// Change a stored client's settings (only those given); its secrets are kept.
    Update(ClientUpdateArgs),
    /// Add a secret to a stored client (the first step of a rotation); prints it once (stdout).
    AddSecret(AddSecretArgs),
    /// Retire a secret: it keeps working for --overlap (default: none), then stops.
    RetireSecret(RetireSecretArgs),
    /// Remove a secret at once.
    RemoveSecret(SecretRefArgs),
    /// Disable a client: it fails authentication until enabled again.
    Disable(ClientRefArgs),
    /// Enable a disabled client.
    Enable(ClientRefArgs),
    /// Delete a client and its secrets (tokens already issued stay valid until they expire).
    Delete(ClientRefArgs),
    /// List the stored clients with their secret ids and expiries (never a secret).
    List(StoreArgs),
}

/// The store a `jeton client` command works on.
#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    /// The server's configuration file; its `[store] url` names the store (PostgreSQL or
    /// SQLite).
    #[arg(long, short, value_name = "FILE")]
    pub(crate) config: PathBuf,
}

/// A client in the configured store.
#[derive(Debug, Args)]
pub(crate) struct ClientRefArgs {
    /// The store.
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// The client id.
    #[arg(long)]
    pub(crate) id: String,
}

/// `jeton client create`.
#[derive(Debug, Args)]
pub(crate) struct ClientCreateArgs {
    /// The store and the client id.
    #[command(flatten)]
    pub(crate) client: ClientRefArgs,
    /// Scopes, resources, introspection, lifetime.
    #[command(flatten)]
    pub(crate) settings: ClientSettingsArgs,
}

/// Client settings given on the command line.
#[derive(Debug, Args)]
pub(crate) struct ClientSettingsArgs {
    /// An allowed scope; repeat the flag or give several space-separated. For `update`: the
    /// new scope set, replacing the old.
    #[arg(long = "scope", value_name = "SCOPE")]
    pub(crate) scopes: Vec<String>,
    /// What a request without `scope` gets: `deny`, `all`, or a space-separated scope.
    #[arg(long, value_name = "DEFAULT")]
    pub(crate) default_scope: Option<String>,
    /// An allowed resource (RFC 8707 audience URI); repeatable. The first is also the default
    /// audience. For `update`: the new set, replacing the old.
    #[arg(long = "resource", value_name = "URI")]
    pub(crate) resources: Vec<String>,
    /// Whether the client may call the introspection endpoint.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub(crate) may_introspect: Option<bool>,
    /// The client's token lifetime (`"15m"`, `"1h"`, seconds).
    #[arg(long, value_name = "DURATION", value_parser = parse_dur)]
    pub(crate) token_lifetime: Option<DurationValue>,
    /// A key client (private_key_jwt): its public JWK Set file, stored with the client and
    /// pinned to the keys' algorithm. `create`: no secret is generated. `update`: replaces the
    /// keys (adding private_key_jwt to the client's methods).
    #[arg(long, value_name = "FILE")]
    pub(crate) jwks: Option<PathBuf>,
    /// Whether the client's tokens must be DPoP-bound (RFC 9449).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub(crate) require_dpop: Option<bool>,
}

/// `jeton client update`.
#[derive(Debug, Args)]
pub(crate) struct ClientUpdateArgs {
    /// The store and the client id.
    #[command(flatten)]
    pub(crate) client: ClientRefArgs,
    /// What to change.
    #[command(flatten)]
    pub(crate) settings: ClientSettingsArgs,
}

/// `jeton client add-secret`.
#[derive(Debug, Args)]
pub(crate) struct AddSecretArgs {
    /// The store and the client id.
    #[command(flatten)]
    pub(crate) client: ClientRefArgs,
    /// The new secret stops working after this long (default: never).
    #[arg(long, value_name = "DURATION", value_parser = parse_dur)]
    pub(crate) expires_in: Option<DurationValue>,
}

/// A secret of a client in the configured store.
#[derive(Debug, Args)]
pub(crate) struct SecretRefArgs {
    /// The store and the client id.
    #[command(flatten)]
    pub(crate) client: ClientRefArgs,
    /// The secret's id, as `jeton client list` shows it (16 hex characters).
    #[arg(long, value_name = "SECRET_ID")]
    pub(crate) secret_id: String,
}

/// `jeton client retire-secret`.
#[derive(Debug, Args)]
pub(crate) struct RetireSecretArgs {
    /// The secret.
    #[command(flatten)]
    pub(crate) secret: SecretRefArgs,
    /// How long the old secret keeps working, so clients can move to the new one (`"1h"`).
    #[arg(long, value_name = "DURATION", value_parser = parse_dur)]
    pub(crate) overlap: Option<DurationValue>,
}

fn parse_dur(s: &str) -> Result<DurationValue, String> {
    crate::config::parse_duration(s).map(DurationValue)
}

/// `jeton client new`.
#[derive(Debug, Args)]
pub(crate) struct ClientNewArgs {
    /// The client id (1 to 255 printable ASCII characters).
    #[arg(long)]
    pub(crate) id: String,
    /// An allowed scope; repeat the flag or give several space-separated.
    #[arg(long = "scope", value_name = "SCOPE")]
    pub(crate) scopes: Vec<String>,
    /// An allowed resource (RFC 8707 audience URI); repeatable. The first is also the default
    /// audience.
    #[arg(long = "resource", value_name = "URI")]
    pub(crate) resources: Vec<String>,
    /// Let the client call the introspection endpoint.
    #[arg(long)]
    pub(crate) may_introspect: bool,
    /// A key client (private_key_jwt): its public JWK Set file. No secret is generated; the
    /// snippet names the file and the keys' algorithm.
    #[arg(long, value_name = "FILE")]
    pub(crate) jwks: Option<std::path::PathBuf>,
}

/// `jeton secret ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum SecretCommand {
    /// Read a client secret from stdin (first line) and print its verifier.
    ///
    /// A secret made by jeton (`jcs_...`, 256 random bits, checksum) gets the fast
    /// HMAC-SHA256 verifier; any other secret gets PBKDF2-HMAC-SHA256 with 600 000 iterations,
    /// since a human-chosen secret must be slow to guess.
    Hash(SecretHashArgs),
}

/// `jeton secret hash`.
#[derive(Debug, Args)]
pub(crate) struct SecretHashArgs {
    /// Use PBKDF2 even for a generated `jcs_` secret.
    #[arg(long)]
    pub(crate) pbkdf2: bool,
    /// PBKDF2 iteration count (default 600000; at least 1000).
    #[arg(long, value_name = "N")]
    pub(crate) iterations: Option<u32>,
}

/// `jeton key ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Generate a signing key and write it as a PKCS#8 PEM file (mode 0600): a JWT signing
    /// key for `[signing]`, or a key client's private key (with --print-jwks).
    New(KeyNewArgs),
}

/// `jeton key new`.
#[derive(Debug, Args)]
pub(crate) struct KeyNewArgs {
    /// The algorithm: ES256 (default), EdDSA. RS256 keys cannot be generated here (ring has
    /// no RSA key generation): make one with openssl, see the message.
    #[arg(long, default_value = "ES256", value_parser = parse_alg)]
    pub(crate) alg: Algorithm,
    /// Where to write the key. An existing file is not overwritten unless --force is given.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub(crate) force: bool,
    /// Print the public key as a JWK Set (JSON) on stdout instead of the `[signing]` snippet:
    /// a key client's `jwks` / `jwks_file` (`jeton client new --jwks`), or a set to publish.
    #[arg(long)]
    pub(crate) print_jwks: bool,
}

fn parse_alg(s: &str) -> Result<Algorithm, String> {
    s.parse::<Algorithm>().map_err(|e| e.to_string())
}

/// `jeton config ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Check a configuration file (and load its key files) without serving: exits 0 and
    /// prints a summary, or non-zero with every problem found.
    Check {
        /// The file.
        file: PathBuf,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_flags_parse() {
        let cli = Cli::try_parse_from(["jeton", "serve", "--listen", "127.0.0.1:0"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(args.listen, Some("127.0.0.1:0".parse().unwrap()));
        assert!(Cli::try_parse_from(["jeton", "serve", "--listen", "localhost:80"]).is_err());
        assert!(
            Cli::try_parse_from(["jeton", "key", "new", "--alg", "HS256", "--out", "k"]).is_err()
        );
    }
}

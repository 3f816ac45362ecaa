//! private_key_jwt and DPoP in the server: when it turns them on (both need the replay store
//! of single-use `jti`s), and the `[dpop]` table (RFC 9449 §8 server nonces).
//!
//! **The rule** ([`Settings::key_auth`]): on a SQLite or PostgreSQL store, always: clients
//! live in the database, and `jeton client create --jwks` (or require-DPoP) can add a key
//! client to a running server at any moment, which must then authenticate without a restart.
//! On `memory`, only the file declares clients, so only when one of them has keys or
//! `require_dpop`, or when `[dpop] nonces` asks for DPoP with nonces. When on, the metadata
//! document advertises `private_key_jwt`, the assertion algorithms and
//! `dpop_signing_alg_values_supported`: the server does accept them.
//!
//! **Nonces**: a nonce is `HMAC(key, time window)` ([`HmacDpopNonces`]), so a node accepts the
//! nonces of every node with the same key and nothing is stored. The key comes from
//! `nonce_key_file` (the same file on every node), or, without one, from the process's random
//! source at start: fine for one node, but nodes behind one load balancer would then refuse
//! each other's nonces (`config check` and the start say so on PostgreSQL).

use super::resolve::{Bad, warn_if_readable_by_others};
use super::*;
use jeton::{DpopNonces, HmacDpopNonces, RandomSource};

/// The shortest `nonce_period`: below it a client's retry could meet the next window.
pub(crate) const MIN_NONCE_PERIOD: Duration = Duration::seconds(10);
/// The longest `nonce_period`: a nonce is accepted for up to two periods.
pub(crate) const MAX_NONCE_PERIOD: Duration = Duration::hours(1);
/// The default `nonce_period`.
pub(crate) const DEFAULT_NONCE_PERIOD: Duration = Duration::minutes(5);
/// The largest nonce key file read (64 hex digits and a line end fit many times).
const MAX_NONCE_KEY_BYTES: u64 = 1024;

/// Why the server turns private_key_jwt and DPoP on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyAuth {
    /// A SQL store: `jeton client create` can add key clients while the server runs.
    SqlStore,
    /// A `[[clients]]` entry has keys or `require_dpop`.
    FileClients,
    /// `[dpop] nonces = true`.
    DpopNonces,
}

impl KeyAuth {
    /// Why, in the words of `config check`.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::SqlStore => {
                "SQL store: key clients may be added with `jeton client create --jwks`"
            }
            Self::FileClients => "a [[clients]] entry has keys or require_dpop",
            Self::DpopNonces => "[dpop] nonces = true",
        }
    }
}

/// `[dpop]` resolved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DpopOptions {
    /// Server nonces, if required.
    pub(crate) nonces: Option<NonceOptions>,
}

/// `[dpop] nonces = true`: how often the nonce changes, and its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NonceOptions {
    /// A nonce is accepted for one to two periods.
    pub(crate) period: Duration,
    /// Where the HMAC key comes from.
    pub(crate) key: NonceKey,
}

/// The key nonces are made with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NonceKey {
    /// Read from `nonce_key_file`: every node with the same file accepts the others' nonces.
    File {
        /// The file, as configured (for messages).
        path: PathBuf,
        /// Its 32 bytes.
        key: NonceSecret,
    },
    /// Drawn at start: this process only.
    PerProcess,
}

/// 32 secret bytes; `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct NonceSecret(pub(crate) [u8; 32]);

impl fmt::Debug for NonceSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NonceSecret([redacted])")
    }
}

impl Settings {
    /// Whether (and why) the server turns private_key_jwt and DPoP on: the one place this is
    /// decided (module docs).
    pub(crate) fn key_auth(&self) -> Option<KeyAuth> {
        if !self.store.url.is_memory() {
            Some(KeyAuth::SqlStore)
        } else if self
            .clients
            .iter()
            .any(|c| c.keys.is_some() || c.require_dpop)
        {
            Some(KeyAuth::FileClients)
        } else if self.dpop.nonces.is_some() {
            Some(KeyAuth::DpopNonces)
        } else {
            None
        }
    }

    /// The engine's DPoP nonces, if `[dpop] nonces` is on; the per-process key is drawn from
    /// `rng` here.
    pub(crate) fn dpop_nonces(
        &self,
        rng: &dyn RandomSource,
    ) -> Result<Option<Arc<dyn DpopNonces>>, String> {
        let Some(n) = &self.dpop.nonces else {
            return Ok(None);
        };
        let secret = match &n.key {
            NonceKey::File { key, .. } => key.0,
            NonceKey::PerProcess => {
                let mut key = [0u8; 32];
                rng.fill(&mut key)
                    .map_err(|e| format!("cannot draw a DPoP nonce key: {e}"))?;
                key
            }
        };
        Ok(Some(Arc::new(HmacDpopNonces::new(&secret, n.period))))
    }
}

/// Pass 2 for `[dpop]`: the period's bounds and the key file.
pub(super) fn dpop_options(s: &file::DpopSection, base: &Path, bad: &mut Bad<'_>) -> DpopOptions {
    if !s.nonces {
        if s.nonce_period.is_some() || s.nonce_key_file.is_some() {
            bad(
                "dpop.nonces",
                "nonce_period and nonce_key_file apply only with nonces = true".to_owned(),
            );
        }
        return DpopOptions::default();
    }
    let period = s.nonce_period.map_or(DEFAULT_NONCE_PERIOD, |d| d.0);
    if !(MIN_NONCE_PERIOD..=MAX_NONCE_PERIOD).contains(&period) {
        bad(
            "dpop.nonce_period",
            format!(
                "must be between {} and {}",
                fmt_duration(MIN_NONCE_PERIOD),
                fmt_duration(MAX_NONCE_PERIOD)
            ),
        );
    }
    let key = match &s.nonce_key_file {
        None => NonceKey::PerProcess,
        Some(file) => {
            let path = base.join(file);
            match read_nonce_key(&path) {
                Ok(key) => {
                    warn_if_readable_by_others(&path);
                    NonceKey::File {
                        path: file.clone(),
                        key,
                    }
                }
                Err(e) => {
                    bad("dpop.nonce_key_file", format!("{}: {e}", file.display()));
                    NonceKey::PerProcess
                }
            }
        }
    };
    DpopOptions {
        nonces: Some(NonceOptions { period, key }),
    }
}

/// 32 bytes written as 64 hexadecimal digits (surrounding white space ignored). The file's
/// content is never quoted in an error.
fn read_nonce_key(path: &Path) -> Result<NonceSecret, String> {
    let text = read_bounded(path, MAX_NONCE_KEY_BYTES)?;
    let hex = text.trim().as_bytes();
    let digit = |b: u8| char::from(b).to_digit(16);
    let mut key = [0u8; 32];
    let valid = hex.len() == 64
        && hex.chunks(2).zip(key.iter_mut()).all(|(pair, out)| {
            match (digit(pair[0]), digit(pair[1])) {
                (Some(hi), Some(lo)) => {
                    // Two hex digits are at most 255.
                    *out = u8::try_from(hi * 16 + lo).unwrap_or(0);
                    true
                }
                _ => false,
            }
        });
    if !valid {
        return Err(
            "must hold 32 random bytes as 64 hexadecimal digits (make one with \
                    `openssl rand -hex 32 > FILE` and chmod 600 it)"
                .to_owned(),
        );
    }
    Ok(NonceSecret(key))
}

impl Settings {
    /// The `[dpop]` and private_key_jwt lines of the summary (`config check`, start banner).
    pub(crate) fn key_auth_summary(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = match self.key_auth() {
            Some(why) => writeln!(
                s,
                "key auth:        private_key_jwt and DPoP on ({})",
                why.reason()
            ),
            None => writeln!(
                s,
                "key auth:        private_key_jwt and DPoP off (no key client, memory store)"
            ),
        };
        if let Some(n) = &self.dpop.nonces {
            let key = match &n.key {
                NonceKey::File { path, .. } => format!("key from {}", path.display()),
                NonceKey::PerProcess => "a random key per process".to_owned(),
            };
            let _ = writeln!(
                s,
                "dpop nonces:     required, new every {} ({key})",
                fmt_duration(n.period)
            );
        }
        if let Some(warning) = self.nonce_key_warning() {
            let _ = writeln!(s, "  warning: {warning}");
        }
        s
    }

    /// The warning for nonces with a per-process key on a store several nodes share.
    pub(crate) fn nonce_key_warning(&self) -> Option<&'static str> {
        let per_process = self
            .dpop
            .nonces
            .as_ref()
            .is_some_and(|n| n.key == NonceKey::PerProcess);
        (per_process && matches!(self.store.url, StoreUrl::Postgres(_))).then_some(
            "[dpop] nonces without nonce_key_file: each process draws its own key, so several \
             nodes on this PostgreSQL store refuse each other's DPoP nonces; give every node the \
             same nonce_key_file",
        )
    }
}

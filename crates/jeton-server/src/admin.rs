//! Admin commands: `client new`, `secret hash`, `key new`, `config check`.
//!
//! Each returns `Err(message)` for `main` to print and exit non-zero. Secrets are printed only
//! by `client new`, once, on stderr; stdout carries what belongs in the config file.

use crate::cli::{ClientNewArgs, KeyNewArgs, SecretHashArgs};
use crate::config;
use jeton::{
    Algorithm, ClientId, ClientSecret, KeyError, PBKDF2_MIN_ITERATIONS, Resource, Scope,
    SecretVerifier, SigningKey, SystemRandom,
};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::num::NonZeroU32;
use std::path::Path;

/// A TOML string literal for `s` (quoted and escaped).
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// A TOML array of string literals.
fn toml_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(toml_str).collect();
    format!("[{}]", items.join(", "))
}

/// A key client's public JWK Set from `file` (`--jwks`), checked the way the server loads it
/// and pinned to the algorithm its keys name (RSA without `alg`: RS256).
pub(crate) fn client_keys_file(file: &std::path::Path) -> Result<jeton::ClientKeys, String> {
    let json = std::fs::read(file).map_err(|e| format!("--jwks {}: {e}", file.display()))?;
    let set = jeton::Jwks::from_json(&json).map_err(|e| format!("--jwks: {e}"))?;
    let alg = set
        .iter()
        .next()
        .map(|k| k.algorithm())
        .ok_or("--jwks: no usable public key")?;
    jeton::ClientKeys::from_json(&json, alg).map_err(|e| format!("--jwks: {e}"))
}

/// The `[[clients]]` lines of a key client whose public JWK Set is in `file`.
fn key_client_lines(file: &std::path::Path) -> Result<String, String> {
    let alg = client_keys_file(file)?.algorithm();
    Ok(format!(
        "auth_methods = [\"private_key_jwt\"]\ntoken_endpoint_auth_signing_alg = {}\njwks_file = {}\n",
        toml_str(alg.as_str()),
        toml_str(&file.display().to_string())
    ))
}

/// `jeton client new`.
pub(crate) fn client_new(args: &ClientNewArgs) -> Result<(), String> {
    let id = ClientId::new(args.id.as_str()).map_err(|e| format!("--id: {e}"))?;
    let mut scope = Scope::default();
    for s in &args.scopes {
        for t in Scope::parse(s)
            .map_err(|e| format!("--scope \"{s}\": {e}"))?
            .iter()
        {
            scope.insert(t.clone());
        }
    }
    let resources = args
        .resources
        .iter()
        .map(|r| Resource::new(r.as_str()).map_err(|e| format!("--resource \"{r}\": {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = String::new();
    out.push_str(&format!("\n[[clients]]\nid = {}\n", toml_str(id.as_str())));
    let secret = match &args.jwks {
        Some(file) => {
            out.push_str(&key_client_lines(file)?);
            None
        }
        None => {
            let (secret, verifier) = jeton::generate_secret(&SystemRandom::new())
                .map_err(|e| format!("cannot generate a secret: {e}"))?;
            out.push_str(&format!(
                "secrets = [{}]\n",
                toml_str(&verifier.to_string())
            ));
            Some(secret)
        }
    };
    if !scope.is_empty() {
        out.push_str(&format!(
            "scopes = {}\n",
            toml_list(scope.iter().map(|t| t.as_str()))
        ));
    }
    if let Some(first) = resources.first() {
        out.push_str(&format!(
            "resources = {}\ndefault_audience = {}\n",
            toml_list(resources.iter().map(Resource::as_str)),
            toml_list([first.as_str()])
        ));
    }
    if args.may_introspect {
        out.push_str("may_introspect = true\n");
    }

    eprintln!("client id:     {id}");
    match secret {
        Some(secret) => {
            eprintln!("client secret: {}", secret.expose());
            eprintln!(
                "  Shown once: hand it to the client now. The config file keeps only its verifier."
            );
        }
        None => eprintln!("  A key client: it signs client assertions (private_key_jwt)."),
    }
    eprintln!("  Append the snippet below (stdout) to your config file's [[clients]].");
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))
}

/// The longest secret line read from stdin.
const MAX_SECRET_LINE: u64 = 4096;

/// `jeton secret hash`.
pub(crate) fn secret_hash(args: &SecretHashArgs) -> Result<(), String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!(
            "Type the secret and press Enter (it is echoed; prefer: printf %s \"$SECRET\" | jeton secret hash)"
        );
    }
    let mut line = String::new();
    stdin
        .lock()
        .take(MAX_SECRET_LINE)
        .read_line(&mut line)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    let verifier = hash_line(&line, args)?;
    println!("{verifier}");
    Ok(())
}

/// Picks the verifier format for one secret line and computes it.
fn hash_line(line: &str, args: &SecretHashArgs) -> Result<SecretVerifier, String> {
    let raw = line.strip_suffix('\n').unwrap_or(line);
    let raw = raw.strip_suffix('\r').unwrap_or(raw);
    let secret = ClientSecret::new(raw).map_err(|e| {
        format!(
            "the secret on stdin was refused ({e}): a client secret is 1 to 1024 printable ASCII \
             characters on one line"
        )
    })?;
    let rng = SystemRandom::new();
    let use_pbkdf2 = args.pbkdf2 || args.iterations.is_some() || !jeton::is_generated_secret(raw);
    if !use_pbkdf2 {
        eprintln!("generated jeton secret: fast HMAC-SHA256 verifier");
        return SecretVerifier::hmac_sha256(secret.expose(), &rng).map_err(|e| e.to_string());
    }
    let iterations = match args.iterations {
        Some(n) if n < PBKDF2_MIN_ITERATIONS => {
            return Err(format!(
                "--iterations must be at least {PBKDF2_MIN_ITERATIONS}"
            ));
        }
        Some(n) => NonZeroU32::new(n).ok_or("--iterations must be positive")?,
        None => config::default_iterations(),
    };
    if iterations.get() < jeton::PBKDF2_DEFAULT_ITERATIONS {
        eprintln!(
            "warning: {iterations} PBKDF2 iterations is below the recommended {}",
            jeton::PBKDF2_DEFAULT_ITERATIONS
        );
    }
    if !jeton::is_generated_secret(raw) {
        eprintln!(
            "not a generated jeton secret: PBKDF2-HMAC-SHA256 verifier, {iterations} iterations \
             (slow on purpose; prefer secrets from `jeton client new`)"
        );
    }
    SecretVerifier::pbkdf2_sha256(secret.expose(), iterations, &rng).map_err(|e| e.to_string())
}

/// `jeton key new`.
pub(crate) fn key_new(args: &KeyNewArgs) -> Result<(), String> {
    let key = match SigningKey::generate(args.alg) {
        Ok(k) => k,
        Err(KeyError::GenerationUnsupported) => {
            return Err(format!(
                "{} keys cannot be generated by jeton (ring, its crypto library, has no RSA key \
                 generation). Make one with OpenSSL and reference it in [[signing.keys]]:\n  \
                 openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out {}\n  \
                 chmod 600 {}\nor prefer ES256 (the default) or EdDSA.",
                args.alg,
                args.out.display(),
                args.out.display()
            ));
        }
        Err(e) => return Err(format!("cannot generate a key: {e}")),
    };
    write_private(&args.out, key.to_pkcs8_pem().as_bytes(), args.force)?;
    eprintln!(
        "wrote {} key to {} (mode 0600)",
        key.algorithm(),
        args.out.display()
    );
    if args.print_jwks {
        let jwks = jeton::Jwks::new([key.verifying_key().clone()])
            .map_err(|e| format!("cannot make the JWK Set: {e}"))?;
        let json = serde_json::to_string_pretty(&jwks.to_value())
            .map_err(|e| format!("cannot write the JWK Set: {e}"))?;
        eprintln!(
            "kid {} (RFC 7638 thumbprint). Its public JWK Set is on stdout: a key client's \
             jwks_file (`jeton client new --id ID --jwks FILE`, or `jeton client create … \
             --jwks FILE`), or a set to publish.",
            key.kid()
        );
        println!("{json}");
        return Ok(());
    }
    let note = match key.algorithm() {
        Algorithm::Es256 => "",
        _ => "\n# resource servers must accept this algorithm",
    };
    println!(
        "\n# kid {} (RFC 7638 thumbprint). To rotate, list the new key first as verification-only,\n\
         # and make it active once resource servers have fetched the new JWKS.{note}\n\
         [signing]\nactive = {}\n\n[[signing.keys]]\npath = {}",
        key.kid(),
        toml_str(key.kid()),
        toml_str(&args.out.display().to_string()),
    );
    Ok(())
}

/// Writes a private file with mode 0600, refusing to replace one unless `force`.
fn write_private(path: &Path, bytes: &[u8], force: bool) -> Result<(), String> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if force {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => format!(
            "{} exists; not overwriting a key (use --force to replace it)",
            path.display()
        ),
        _ => format!("cannot create {}: {e}", path.display()),
    })?;
    #[cfg(unix)]
    {
        // `mode` applies only to a new file; make a replaced one private too.
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("cannot chmod {}: {e}", path.display()))?;
    }
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// `jeton config check`.
pub(crate) fn config_check(file: &Path) -> Result<(), String> {
    let mut settings = config::load(file, None).map_err(|e| e.to_string())?;
    let summary = settings.summary();
    // The engine is built on memory stores: `config check` does not connect to the database.
    let memory = crate::store::Backend::memory(settings.token_limits());
    settings
        .build_engine(&memory)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    print!("{summary}");
    println!("{}: OK", file.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pbkdf2: bool, iterations: Option<u32>) -> SecretHashArgs {
        SecretHashArgs { pbkdf2, iterations }
    }

    #[test]
    fn rfc6819_5_1_4_1_3_generated_secrets_get_hmac_others_pbkdf2() {
        let (s, _) = jeton::generate_secret(&SystemRandom::new()).unwrap();
        let line = format!("{}\n", s.expose());
        let v = hash_line(&line, &args(false, None)).unwrap();
        assert!(matches!(v, SecretVerifier::HmacSha256 { .. }));
        assert!(v.verify(&s));
        let v = hash_line("correct horse\r\n", &args(false, Some(1000))).unwrap();
        assert!(matches!(v, SecretVerifier::Pbkdf2Sha256 { .. }));
        assert!(v.verify(&ClientSecret::new("correct horse").unwrap()));
        let v = hash_line(s.expose(), &args(true, Some(1000))).unwrap();
        assert!(matches!(v, SecretVerifier::Pbkdf2Sha256 { .. }));
    }

    #[test]
    fn bad_secret_lines_are_refused_without_echo() {
        for bad in ["", "\n", "tab\there\n"] {
            let e = hash_line(bad, &args(false, Some(1000))).unwrap_err();
            assert!(e.contains("refused"), "{e}");
        }
        let e = hash_line("x", &args(true, Some(10))).unwrap_err();
        assert!(e.contains("at least"), "{e}");
    }

    #[test]
    fn toml_literals_are_escaped() {
        for s in ["a\"b", "it's", "x\\y", "plain"] {
            let doc = format!("v = {}\nl = {}", toml_str(s), toml_list([s, "b"]));
            let t: toml::Table = doc.parse().unwrap();
            assert_eq!(t["v"].as_str(), Some(s));
            assert_eq!(t["l"][0].as_str(), Some(s));
        }
    }
}

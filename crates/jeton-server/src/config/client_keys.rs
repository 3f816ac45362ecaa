//! A client's `private_key_jwt` registration: `jwks` (inline JSON string or TOML table) or
//! `jwks_file`, pinned to `token_endpoint_auth_signing_alg`.

use super::file::ClientSection;
use super::resolve::Bad;
use jeton::{Algorithm, ClientKeys};
use std::path::Path;

/// The client's keys, or `None` with the problem reported.
pub(super) fn resolve(
    c: &ClientSection,
    base: &Path,
    key_client: bool,
    at: &dyn Fn(&str) -> String,
    bad: &mut Bad<'_>,
) -> Option<ClientKeys> {
    let given = c.jwks.is_some() || c.jwks_file.is_some();
    if !key_client {
        if given || c.token_endpoint_auth_signing_alg.is_some() {
            bad(
                &at("auth_methods"),
                "jwks, jwks_file and token_endpoint_auth_signing_alg need \"private_key_jwt\" in \
                 auth_methods"
                    .to_owned(),
            );
        }
        return None;
    }
    let Some(alg_name) = &c.token_endpoint_auth_signing_alg else {
        bad(
            &at("token_endpoint_auth_signing_alg"),
            "private_key_jwt needs the one algorithm the client signs with: ES256, EdDSA, RS256 \
             or PS256"
                .to_owned(),
        );
        return None;
    };
    let Some(alg) = Algorithm::from_name(alg_name) else {
        bad(
            &at("token_endpoint_auth_signing_alg"),
            format!("\"{alg_name}\" is not one of ES256, EdDSA, RS256, PS256 (never none or HS*)"),
        );
        return None;
    };
    let json = match (&c.jwks, &c.jwks_file) {
        (Some(_), Some(_)) | (None, None) => {
            bad(
                &at("jwks"),
                "private_key_jwt needs exactly one of jwks or jwks_file".to_owned(),
            );
            return None;
        }
        (Some(toml::Value::String(s)), None) => s.clone().into_bytes(),
        (Some(v), None) => match serde_json::to_vec(v) {
            Ok(j) => j,
            Err(e) => {
                bad(&at("jwks"), e.to_string());
                return None;
            }
        },
        (None, Some(file)) => match std::fs::read(base.join(file)) {
            Ok(j) => j,
            Err(e) => {
                bad(&at("jwks_file"), format!("{}: {e}", file.display()));
                return None;
            }
        },
    };
    match ClientKeys::from_json(&json, alg) {
        Ok(k) => Some(k),
        Err(e) => {
            bad(
                &at("jwks"),
                format!("not a usable public JWK Set for {alg_name}: {e}"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use jeton::{AuthMethod, DefaultScope};
    use std::path::Path;

    const JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"2cmBxO8ooXNO_S__BFEoR-D2QIwOlo7pl2Uf-UsPbIk","y":"4vUaxyvpOCbZrQPMOxVP-OJOIFDs6m9KGRwYd9-cZRw","kid":"k1"}]}"#;

    fn check(text: &str) -> Result<super::super::Settings, String> {
        super::super::parse(Path::new("jeton.toml"), text, Path::new("."), None)
            .map_err(|e| e.to_string())
    }

    fn key_client(extra: &str) -> String {
        format!(
            "issuer = \"http://127.0.0.1:8080\"\n\n[[clients]]\nid = \"svc\"\nauth_methods = [\"private_key_jwt\"]\n{extra}"
        )
    }

    #[test]
    fn rfc7591_2_a_key_client_registers_jwks_and_its_algorithm() {
        let inline = format!(
            "token_endpoint_auth_signing_alg = \"ES256\"\njwks = '{JWKS}'\nrequire_dpop = true\n"
        );
        let s = check(&key_client(&inline)).unwrap();
        let c = &s.clients[0];
        assert_eq!(c.auth_methods, vec![AuthMethod::PrivateKeyJwt]);
        assert_eq!(c.keys.as_ref().map(|k| k.keys().len()), Some(1));
        assert!(c.require_dpop);
        assert!(c.secrets.is_empty());
    }

    #[test]
    fn rfc8725_3_1_a_key_client_needs_a_pinned_algorithm_never_hs256() {
        let e = check(&key_client(&format!("jwks = '{JWKS}'\n"))).unwrap_err();
        assert!(e.contains("token_endpoint_auth_signing_alg"), "{e}");
        let hs = format!("token_endpoint_auth_signing_alg = \"HS256\"\njwks = '{JWKS}'\n");
        let e = check(&key_client(&hs)).unwrap_err();
        assert!(e.contains("never none or HS*"), "{e}");
        let wrong = format!("token_endpoint_auth_signing_alg = \"EdDSA\"\njwks = '{JWKS}'\n");
        assert!(check(&key_client(&wrong)).is_err());
    }

    #[test]
    fn rfc6749_3_3_fixed_empty_default_scope_is_an_audience_only_client() {
        let v = super::super::tests::VERIFIER;
        let text = format!(
            "issuer = \"http://127.0.0.1:8080\"\n\n[[clients]]\nid = \"svc\"\nsecrets = [\"{v}\"]\ndefault_scope = {{ fixed = [] }}\n"
        );
        let s = check(&text).unwrap();
        assert_eq!(s.clients[0].default_scope, DefaultScope::Empty);
    }
}

//! The resource server's answer to a refused DPoP request (RFC 9449 §7.1, §9).

use crate::tokens::Algorithm;
use crate::tokens::dpop::DpopFailure;

impl DpopFailure {
    /// The `WWW-Authenticate` challenge a resource server answers with, status 401 (RFC 9449
    /// §7.1: `DPoP error="invalid_dpop_proof", algs="ES256 EdDSA"`; §9: `use_dpop_nonce`, sent
    /// with a `DPoP-Nonce` header). Static text only: no input is echoed. `algs` lists the
    /// algorithms accepted.
    pub fn www_authenticate(self, algs: &[Algorithm]) -> String {
        let names: Vec<&str> = algs.iter().map(|a| a.as_str()).collect();
        format!(
            r#"DPoP error="{}", algs="{}""#,
            self.error_code().as_str(),
            names.join(" ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9449_7_1_challenge_names_the_error_and_the_algorithms() {
        assert_eq!(
            DpopFailure::BadSignature.www_authenticate(&[Algorithm::Es256, Algorithm::Ps256]),
            r#"DPoP error="invalid_dpop_proof", algs="ES256 PS256""#
        );
        assert_eq!(
            DpopFailure::UseNonce.www_authenticate(&[Algorithm::EdDsa]),
            r#"DPoP error="use_dpop_nonce", algs="EdDSA""#
        );
    }
}

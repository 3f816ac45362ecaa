//! The human summary of [`Settings`]: `config check` and the start banner.

use super::*;

impl Settings {
    /// A human summary (no secret, no verifier), for `config check` and the start banner.
    pub(crate) fn summary(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(s, "issuer:          {}", self.issuer);
        let _ = writeln!(s, "listen:          {}", self.listen);
        let transport = match &self.transport {
            Transport::Plaintext => "plaintext (no TLS; development only)".to_owned(),
            Transport::BehindProxy { trusted } => format!(
                "behind_proxy (trusted: {})",
                trusted
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            other => format!("{other:?}"),
        };
        let _ = writeln!(s, "transport:       {transport}");
        let _ = write!(s, "token format:    {}", self.format);
        if let Some(keys) = &self.keys {
            let active = keys.active();
            let _ = write!(
                s,
                " (signing with {} key \"{}\"; {} key(s) published)",
                active.algorithm(),
                active.kid(),
                keys.jwks().len()
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "token lifetime:  {} (max {})",
            fmt_duration(self.token_lifetime),
            fmt_duration(self.max_token_lifetime)
        );
        if !self.default_audience.is_empty() {
            let _ = writeln!(s, "default aud:     {}", join(&self.default_audience));
        }
        let e = Endpoints::under(&self.issuer);
        let _ = write!(
            s,
            "paths:           token {}, introspection {}, revocation {}",
            Endpoints::path_of(&e.token),
            e.introspection.as_deref().map_or("-", Endpoints::path_of),
            e.revocation.as_deref().map_or("-", Endpoints::path_of),
        );
        if self.format == TokenFormat::Jwt {
            let _ = write!(
                s,
                ", jwks {}",
                e.jwks.as_deref().map_or("-", Endpoints::path_of)
            );
        }
        let _ = writeln!(
            s,
            ", metadata {}, health {}",
            self.issuer.metadata_path(),
            self.server.health_path
        );
        let _ = writeln!(s, "store:           {}", self.store.url);
        s.push_str(&self.key_auth_summary());
        let _ = writeln!(s, "clients:         {} in the file", self.clients.len());
        for c in &self.clients {
            let methods: Vec<&str> = c.auth_methods.iter().map(|m| m.as_str()).collect();
            let default = match &c.default_scope {
                DefaultScope::Fixed(s) => format!("fixed \"{s}\""),
                DefaultScope::AllAllowed => "all".to_owned(),
                DefaultScope::Empty => "fixed [] (no scope)".to_owned(),
                _ => "deny".to_owned(),
            };
            let _ = writeln!(
                s,
                "  {}{}: scopes \"{}\", default {default}, auth {}, {} secret(s){}{}",
                c.id,
                if c.enabled { "" } else { " (disabled)" },
                c.allowed_scopes,
                methods.join("+"),
                c.secrets.len(),
                if c.may_introspect {
                    ", may introspect"
                } else {
                    ""
                },
                c.token_lifetime
                    .map(|d| format!(", lifetime {}", fmt_duration(d)))
                    .unwrap_or_default(),
            );
            if c.id.as_str().contains(['+', '%'])
                && c.auth_methods.contains(&AuthMethod::ClientSecretBasic)
            {
                let _ = writeln!(
                    s,
                    "  warning: client id \"{}\" holds '+' or '%', which Basic form-decoding \
                     changes (RFC 6749 §2.3.1): clients that send the id unencoded (curl -u, \
                     several libraries) fail unless accept_raw_basic_credentials = true",
                    c.id
                );
            }
        }
        s
    }
}

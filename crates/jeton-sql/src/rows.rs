//! Records ↔ rows. Every line that names a field of a jeton record is in this file.

use crate::corrupt;
use jeton::time::OffsetDateTime;
use jeton::{
    ClientId, ClientRecord, Confirmation, RegisteredSecret, Resource, Scope, SecretId, StoreError,
    TokenClaims, TokenDigest, TokenRecord,
};

/// An instant as stored: microseconds since the Unix epoch (saturating far outside ±290,000
/// years, which no token reaches).
pub fn micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap_or(if t.year() < 1970 {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// A stored instant back.
pub fn from_micros(us: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .map_err(|_| corrupt("stored instant out of range"))
}

/// The columns of a token row in the order every `SELECT` of the stores names them:
/// `digest, client_id, subject, scope, audience, issued_at_us, expires_at_us, jti, cnf_jkt`.
pub type TokenTuple = (
    Vec<u8>,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    Option<String>,
);

/// One opaque token as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRow {
    /// SHA-256 of the token value (32 bytes); the primary key.
    pub digest: Vec<u8>,
    /// The client it was issued to.
    pub client_id: String,
    /// Its subject.
    pub subject: String,
    /// Granted scope, wire form.
    pub scope: String,
    /// Audience URIs joined by spaces.
    pub audience: String,
    /// Issue instant, [`micros`].
    pub issued_at_us: i64,
    /// Expiry instant, [`micros`]; indexed for the purge.
    pub expires_at_us: i64,
    /// The token's `jti` ([`TokenClaims::jti`]), for records that carry one.
    pub jti: Option<String>,
    /// The DPoP key thumbprint the token is bound to ([`TokenClaims::confirmation`], RFC 9449
    /// §6), `None` for a Bearer token (schema version 2).
    pub cnf_jkt: Option<String>,
}

impl From<TokenTuple> for TokenRow {
    fn from(t: TokenTuple) -> Self {
        Self {
            digest: t.0,
            client_id: t.1,
            subject: t.2,
            scope: t.3,
            audience: t.4,
            issued_at_us: t.5,
            expires_at_us: t.6,
            jti: t.7,
            cnf_jkt: t.8,
        }
    }
}

/// One opaque token as an insert binds it: the columns of its [`TokenRow`], borrowed from the
/// digest and claims it is stored from, so that a store copies no string the claims already
/// hold. Only the scope and the audience, stored in a form the claims do not have, are written
/// out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTokenRow<'a> {
    /// SHA-256 of the token value (32 bytes); the primary key.
    pub digest: &'a [u8],
    /// The client it was issued to.
    pub client_id: &'a str,
    /// Its subject.
    pub subject: &'a str,
    /// Granted scope, wire form.
    pub scope: String,
    /// Audience URIs joined by spaces.
    pub audience: String,
    /// Issue instant, [`micros`].
    pub issued_at_us: i64,
    /// Expiry instant, [`micros`].
    pub expires_at_us: i64,
    /// The token's `jti` ([`TokenClaims::jti`]), for claims that carry one.
    pub jti: Option<&'a str>,
    /// The DPoP key thumbprint the token is bound to ([`TokenClaims::confirmation`]), `None`
    /// for a Bearer token.
    pub cnf_jkt: Option<&'a str>,
}

impl<'a> NewTokenRow<'a> {
    /// The row for a token's claims, stored under `digest`, its DPoP binding included.
    pub fn new(digest: &'a TokenDigest, c: &'a TokenClaims) -> Self {
        Self {
            digest: digest.as_bytes(),
            client_id: c.client_id.as_str(),
            subject: &c.subject,
            scope: c.scope.to_string(),
            audience: join(c.audience.iter().map(Resource::as_str)),
            issued_at_us: micros(c.issued_at),
            expires_at_us: micros(c.expires_at),
            jti: c.jti.as_deref(),
            cnf_jkt: c.confirmation.as_ref().map(|cnf| cnf.jkt.as_str()),
        }
    }
}

impl From<NewTokenRow<'_>> for TokenRow {
    fn from(r: NewTokenRow<'_>) -> Self {
        Self {
            digest: r.digest.to_vec(),
            client_id: r.client_id.to_owned(),
            subject: r.subject.to_owned(),
            scope: r.scope,
            audience: r.audience,
            issued_at_us: r.issued_at_us,
            expires_at_us: r.expires_at_us,
            jti: r.jti.map(str::to_owned),
            cnf_jkt: r.cnf_jkt.map(str::to_owned),
        }
    }
}

impl TokenRow {
    /// The row for a record, its DPoP binding included: [`NewTokenRow::new`], owned.
    pub fn from_record(r: &TokenRecord) -> Self {
        NewTokenRow::new(&r.digest, &r.claims).into()
    }

    /// The record for a row.
    pub fn into_record(self) -> Result<TokenRecord, StoreError> {
        let digest: [u8; 32] = self
            .digest
            .try_into()
            .map_err(|_| corrupt("stored token digest is not 32 bytes"))?;
        let client_id =
            ClientId::new(self.client_id).map_err(|_| corrupt("stored client id is invalid"))?;
        let scope =
            Scope::try_from(self.scope).map_err(|_| corrupt("stored token scope is invalid"))?;
        let mut claims = TokenClaims::new(
            client_id,
            self.subject,
            scope,
            resources(&self.audience)?,
            from_micros(self.issued_at_us)?,
            from_micros(self.expires_at_us)?,
        );
        if let Some(jti) = self.jti {
            claims = claims.with_jti(jti);
        }
        if let Some(jkt) = self.cnf_jkt {
            claims = claims.with_confirmation(Confirmation::jkt(jkt));
        }
        Ok(TokenRecord::new(TokenDigest::from_bytes(digest), claims))
    }
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(" ")
}

fn resources(s: &str) -> Result<Vec<Resource>, StoreError> {
    s.split(' ')
        .filter(|p| !p.is_empty())
        .map(|p| Resource::new(p).map_err(|_| corrupt("stored audience is invalid")))
        .collect()
}

/// One client secret as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretRow {
    /// [`SecretId::of`] the verifier, to name the secret in management calls.
    pub secret_id: String,
    /// The verifier's string form (`$hmac-sha256$…`, `$pbkdf2-sha256$…`): one-way, salted.
    pub verifier: String,
    /// When it stops working, [`micros`]; `None` for never.
    pub expires_at_us: Option<i64>,
}

impl std::fmt::Debug for SecretRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The verifier stays out of logs, like the core's own `SecretVerifier` Debug.
        f.debug_struct("SecretRow")
            .field("secret_id", &self.secret_id)
            .field("expires_at_us", &self.expires_at_us)
            .finish_non_exhaustive()
    }
}

/// The row for a registered secret.
pub fn secret_row(s: &RegisteredSecret) -> SecretRow {
    SecretRow {
        secret_id: SecretId::of(&s.verifier).to_string(),
        verifier: s.verifier.to_string(),
        expires_at_us: s.expires_at.map(micros),
    }
}

/// A client's settings as stored in its `settings` column: the client's own serialized form
/// without the fields that have columns of their own (`id`, `enabled`) or rows (`secrets`).
pub fn client_settings(c: &ClientRecord) -> Result<String, StoreError> {
    let mut v = serde_json::to_value(c).map_err(StoreError::new)?;
    if let Some(o) = v.as_object_mut() {
        for k in ["id", "enabled", "secrets"] {
            o.remove(k);
        }
    }
    Ok(v.to_string())
}

/// One row of the clients-left-join-secrets query both stores run, ordered by client id, then
/// secret position: `id, enabled, settings, verifier, secret expires_at_us`.
pub type ClientJoinRow = (String, bool, String, Option<String>, Option<i64>);

/// Clients from the joined rows (one row per secret, or one row with no secret).
pub fn clients_from_rows(rows: Vec<ClientJoinRow>) -> Result<Vec<ClientRecord>, StoreError> {
    let mut out: Vec<ClientRecord> = Vec::new();
    for (id, enabled, settings, verifier, expires_at_us) in rows {
        if out.last().is_none_or(|c| c.id.as_str() != id) {
            out.push(client_record(id, enabled, &settings)?);
        }
        if let (Some(v), Some(c)) = (verifier, out.last_mut()) {
            let verifier = v
                .parse()
                .map_err(|_| corrupt("stored secret verifier is malformed"))?;
            c.secrets.push(match expires_at_us {
                Some(us) => RegisteredSecret::expiring(verifier, from_micros(us)?),
                None => RegisteredSecret::new(verifier),
            });
        }
    }
    Ok(out)
}

fn client_record(id: String, enabled: bool, settings: &str) -> Result<ClientRecord, StoreError> {
    let mut v: serde_json::Value = serde_json::from_str(settings)
        .map_err(|_| corrupt("stored client settings are not JSON"))?;
    let o = v
        .as_object_mut()
        .ok_or(corrupt("stored client settings are not an object"))?;
    o.insert("id".into(), id.into());
    o.insert("enabled".into(), enabled.into());
    o.insert("secrets".into(), serde_json::Value::Array(Vec::new()));
    serde_json::from_value(v).map_err(|_| corrupt("stored client settings are unreadable"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jeton::{DefaultScope, SecretVerifier};

    fn at(us: i64) -> OffsetDateTime {
        from_micros(us).unwrap()
    }

    #[test]
    fn token_rows_round_trip() {
        let claims = TokenClaims::new(
            ClientId::new("c").unwrap(),
            "c".into(),
            Scope::parse("a b").unwrap(),
            vec![
                Resource::new("https://a.example").unwrap(),
                Resource::new("urn:b").unwrap(),
            ],
            at(1_893_456_000_000_001),
            at(1_893_459_600_000_000),
        );
        let r = TokenRecord::new(TokenDigest::of("t"), claims.clone());
        assert_eq!(TokenRow::from_record(&r).into_record().unwrap(), r);
        let borrowed = NewTokenRow::new(&r.digest, &r.claims);
        assert_eq!(borrowed.digest, r.digest.as_bytes());
        assert_eq!(TokenRow::from(borrowed), TokenRow::from_record(&r));
        let with_jti = TokenRecord::new(TokenDigest::of("j"), claims.with_jti("id-1"));
        let row = TokenRow::from_record(&with_jti);
        assert_eq!(row.jti.as_deref(), Some("id-1"));
        assert_eq!(row.into_record().unwrap(), with_jti);
        let bound = TokenRecord::new(
            TokenDigest::of("b"),
            with_jti
                .claims
                .clone()
                .with_confirmation(jeton::Confirmation::jkt("thumb")),
        );
        let row = TokenRow::from_record(&bound);
        assert_eq!(row.cnf_jkt.as_deref(), Some("thumb"));
        assert_eq!(row.into_record().unwrap(), bound, "the binding round-trips");
    }

    #[test]
    fn client_rows_round_trip_without_secrets_in_settings() {
        let v: SecretVerifier =
            "$hmac-sha256$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                .parse()
                .unwrap();
        let c = ClientRecord::builder(ClientId::new("c").unwrap())
            .secret(v.clone())
            .secret_expiring(v.clone(), at(1_893_456_000_000_000))
            .scopes(Scope::parse("a").unwrap())
            .default_scope(DefaultScope::AllAllowed)
            .enabled(false)
            .build();
        let settings = client_settings(&c).unwrap();
        assert!(!settings.contains("hmac"));
        let rows = c
            .secrets
            .iter()
            .map(|s| {
                let r = secret_row(s);
                (
                    "c".into(),
                    false,
                    settings.clone(),
                    Some(r.verifier),
                    r.expires_at_us,
                )
            })
            .collect();
        assert_eq!(clients_from_rows(rows).unwrap(), vec![c]);
    }
}

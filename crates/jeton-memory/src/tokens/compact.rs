//! A token's claims split into what is the token's own (digest, instants, DPoP key) and what it
//! shares with the other tokens of its client ([`Grant`]), and put back together on lookup.
//!
//! Thousands of live tokens of one client carry the same client id, subject, scope and
//! audience: the store keeps one [`Grant`] for them all, behind an `Arc`, and per token only a
//! fixed-size [`Entry`]. The claims come in borrowed, and their shared part is looked up as a
//! borrowed [`GrantKey`], so that a token like one already held costs no copy of its strings;
//! they are copied only into a new grant. The round trip is exact: a record comes back equal
//! to what was stored, to the nanosecond and with its UTC offsets.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jeton::time::{OffsetDateTime, UtcOffset};
use jeton::{ClientId, Confirmation, Resource, Scope, TokenClaims, TokenDigest, TokenRecord};
use std::hash::BuildHasher;
use std::sync::Arc;

/// What a token shares with every other token of the same client granted the same things.
#[derive(Debug)]
pub(super) struct Grant {
    /// The store's hash of every other field: the key of the grant table, kept so that a grant
    /// is found again for removal without hashing its strings a second time.
    pub(super) hash: u64,
    pub(super) client_id: ClientId,
    subject: String,
    scope: Scope,
    audience: Vec<Resource>,
    /// Opaque tokens from the engine have none; a record that has one keeps it (then the grant
    /// is that token's alone).
    jti: Option<String>,
    /// A confirmation that is not a canonical SHA-256 thumbprint, which the engine never makes
    /// (a thumbprint goes in [`Entry::jkt`] instead).
    confirmation: Option<Confirmation>,
    /// The UTC offsets of `issued_at` and `expires_at`: an instant is stored as seconds and
    /// nanoseconds, and the offset is nearly always the same (UTC) for every token.
    offsets: [UtcOffset; 2],
}

/// One stored token: 72 bytes on 64-bit targets (checked below), plus 32 on the heap for a
/// DPoP-bound one.
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) digest: TokenDigest,
    iat_secs: i64,
    exp_secs: i64,
    iat_nanos: u32,
    exp_nanos: u32,
    pub(super) grant: Arc<Grant>,
    /// `cnf.jkt` as the 32 bytes of the SHA-256 thumbprint it encodes (RFC 9449 §6.1), not its
    /// 43 base64url characters: DPoP keys are often one per client instance, so they are not
    /// shared like the grant.
    jkt: Option<Box<[u8; 32]>>,
}

// The figure the module docs and the memory test rely on; a new field must be worth its bytes.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(size_of::<Option<Entry>>() == 72);

/// An instant as the store orders it: seconds since the epoch, then nanoseconds past them.
pub(super) type Instant = (i64, u32);

/// The store's form of an instant (its offset aside).
pub(super) fn instant(t: OffsetDateTime) -> Instant {
    (t.unix_timestamp(), t.nanosecond())
}

fn date_time((secs, nanos): Instant, offset: UtcOffset) -> OffsetDateTime {
    // Every stored instant came from a valid `OffsetDateTime` with this offset, so each step
    // succeeds; the fallbacks are never taken.
    OffsetDateTime::from_unix_timestamp(secs)
        .and_then(|t| t.replace_nanosecond(nanos))
        .map_or(OffsetDateTime::UNIX_EPOCH, |t| {
            t.checked_to_offset(offset).unwrap_or(t)
        })
}

/// The 32 bytes of a canonical base64url SHA-256 thumbprint, or `None` for any other string.
fn thumbprint_bytes(jkt: &str) -> Option<[u8; 32]> {
    let mut bytes = [0u8; 32];
    let canonical = jkt.len() == 43 && URL_SAFE_NO_PAD.decode_slice(jkt, &mut bytes) == Ok(32) && {
        let mut again = [0u8; 43];
        URL_SAFE_NO_PAD.encode_slice(bytes, &mut again) == Ok(43) && again == jkt.as_bytes()
    };
    canonical.then_some(bytes)
}

/// A token's claims taken apart: its grant, borrowed and not yet shared, and what becomes its
/// [`Entry`] once the grant is.
pub(super) struct Split<'a> {
    pub(super) grant: GrantKey<'a>,
    pub(super) own: Own,
}

/// What a token shares with others ([`Grant`]), borrowed from its claims: hashed and compared
/// against the shared grants as it is, and copied into a [`Grant`] only when it is the first of
/// its kind.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct GrantKey<'a> {
    /// The store's hash of every other field; the new grant's [`Grant::hash`].
    pub(super) hash: u64,
    pub(super) client_id: &'a ClientId,
    subject: &'a str,
    scope: &'a Scope,
    audience: &'a [Resource],
    jti: Option<&'a str>,
    confirmation: Option<&'a Confirmation>,
    offsets: [UtcOffset; 2],
}

impl GrantKey<'_> {
    /// Whether `grant` is the one this key names: equal to what [`GrantKey::to_grant`] would
    /// build, compared without building it.
    pub(super) fn matches(&self, grant: &Grant) -> bool {
        // Destructured, so that a field added to `Grant` cannot be left out of the comparison.
        let Grant {
            hash,
            client_id,
            subject,
            scope,
            audience,
            jti,
            confirmation,
            offsets,
        } = grant;
        self.hash == *hash
            && self.client_id == client_id
            && self.subject == subject.as_str()
            && self.scope == scope
            && self.audience == audience.as_slice()
            && self.jti == jti.as_deref()
            && self.confirmation == confirmation.as_ref()
            && self.offsets == *offsets
    }

    /// The grant this key names, owned: the one place the store copies a token's strings.
    pub(super) fn to_grant(&self) -> Grant {
        #[cfg(test)]
        GRANTS_BUILT.with(|n| n.set(n.get() + 1));
        Grant {
            hash: self.hash,
            client_id: self.client_id.clone(),
            subject: self.subject.to_owned(),
            scope: self.scope.clone(),
            audience: self.audience.to_vec(),
            jti: self.jti.map(str::to_owned),
            confirmation: self.confirmation.cloned(),
            offsets: self.offsets,
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Grants built on this thread by [`GrantKey::to_grant`]: the tests count the copies an
    /// insert makes (per thread, as tests run side by side).
    pub(super) static GRANTS_BUILT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// What is a token's own: everything of its [`Entry`] but the grant.
pub(super) struct Own {
    digest: TokenDigest,
    /// When the token was issued: the store's clock for purging on insert.
    pub(super) issued_at: OffsetDateTime,
    iat: Instant,
    exp: Instant,
    jkt: Option<Box<[u8; 32]>>,
}

impl<'a> Split<'a> {
    /// Takes `claims` apart, borrowing their strings (no copy): the grant is hashed as it is.
    pub(super) fn new(
        digest: &TokenDigest,
        claims: &'a TokenClaims,
        hasher: &impl BuildHasher,
    ) -> Self {
        let TokenClaims {
            client_id,
            subject,
            scope,
            audience,
            issued_at,
            expires_at,
            jti,
            confirmation,
            ..
        } = claims;
        let (jkt, confirmation) = match confirmation {
            Some(c) => match thumbprint_bytes(&c.jkt) {
                Some(bytes) => (Some(Box::new(bytes)), None),
                None => (None, Some(c)),
            },
            None => (None, None),
        };
        let subject = subject.as_str();
        let audience = audience.as_slice();
        let jti = jti.as_deref();
        let offsets = [issued_at.offset(), expires_at.offset()];
        let hash = hasher.hash_one((
            client_id,
            subject,
            scope,
            audience,
            jti,
            confirmation,
            offsets,
        ));
        Self {
            grant: GrantKey {
                hash,
                client_id,
                subject,
                scope,
                audience,
                jti,
                confirmation,
                offsets,
            },
            own: Own {
                digest: *digest,
                issued_at: *issued_at,
                iat: instant(*issued_at),
                exp: instant(*expires_at),
                jkt,
            },
        }
    }
}

impl Own {
    /// The entry, once the grant is the shared one.
    pub(super) fn into_entry(self, grant: Arc<Grant>) -> Entry {
        Entry {
            digest: self.digest,
            iat_secs: self.iat.0,
            exp_secs: self.exp.0,
            iat_nanos: self.iat.1,
            exp_nanos: self.exp.1,
            grant,
            jkt: self.jkt,
        }
    }
}

/// A stored token's record without its DPoP key, and that key's bytes: the part that reads
/// shared data is done under the shard's lock, the encoding after it.
pub(super) struct Found {
    digest: TokenDigest,
    claims: TokenClaims,
    jkt: Option<[u8; 32]>,
}

impl Found {
    /// The record, exactly as it was inserted.
    pub(super) fn into_record(self) -> TokenRecord {
        let claims = match self.jkt {
            Some(bytes) => self
                .claims
                .with_confirmation(Confirmation::jkt(URL_SAFE_NO_PAD.encode(bytes))),
            None => self.claims,
        };
        TokenRecord::new(self.digest, claims)
    }
}

impl Entry {
    /// When it expires, as the expiry index orders it.
    pub(super) fn expires_at(&self) -> Instant {
        (self.exp_secs, self.exp_nanos)
    }

    /// Copies what a lookup returns out of the entry and its grant.
    pub(super) fn found(&self) -> Found {
        let g = &self.grant;
        let mut claims = TokenClaims::new(
            g.client_id.clone(),
            g.subject.clone(),
            g.scope.clone(),
            g.audience.clone(),
            date_time((self.iat_secs, self.iat_nanos), g.offsets[0]),
            date_time((self.exp_secs, self.exp_nanos), g.offsets[1]),
        );
        if let Some(jti) = &g.jti {
            claims = claims.with_jti(jti.clone());
        }
        if let Some(c) = &g.confirmation {
            claims = claims.with_confirmation(c.clone());
        }
        Found {
            digest: self.digest,
            claims,
            jkt: self.jkt.as_deref().copied(),
        }
    }

    /// Heap bytes of its own (the grant is counted once, by the grant table).
    pub(super) fn heap_bytes(&self) -> usize {
        self.jkt.as_ref().map_or(0, |_| size_of::<[u8; 32]>())
    }
}

impl Grant {
    /// Heap bytes of one shared grant: its `Arc` allocation and its strings.
    pub(super) fn heap_bytes(&self) -> usize {
        let strings = self.client_id.as_str().len()
            + self.subject.capacity()
            + self.scope.len() * size_of::<String>()
            + self.scope.iter().map(|t| t.as_str().len()).sum::<usize>()
            + self.audience.capacity() * size_of::<Resource>()
            + self
                .audience
                .iter()
                .map(|a| a.as_str().len())
                .sum::<usize>()
            + self.jti.as_ref().map_or(0, String::capacity)
            + self.confirmation.as_ref().map_or(0, |c| c.jkt.capacity());
        2 * size_of::<usize>() + size_of::<Self>() + strings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jeton::time::Duration;
    use std::hash::RandomState;

    fn claims(issued_at: OffsetDateTime) -> TokenClaims {
        TokenClaims::new(
            ClientId::new("billing").unwrap(),
            "svc:billing".into(),
            Scope::parse("read write").unwrap(),
            vec![Resource::new("https://api.example.com/").unwrap()],
            issued_at,
            issued_at + Duration::minutes(5),
        )
    }

    /// Stores and reads back, checking what `PartialEq` on `OffsetDateTime` does not: offsets.
    fn round_trip(record: TokenRecord) -> TokenRecord {
        let split = Split::new(&record.digest, &record.claims, &RandomState::new());
        let grant = Arc::new(split.grant.to_grant());
        assert!(
            split.grant.matches(&grant),
            "a new grant is found again by its key"
        );
        let back = split.own.into_entry(grant).found().into_record();
        assert_eq!(back, record);
        assert_eq!(
            back.claims.issued_at.offset(),
            record.claims.issued_at.offset()
        );
        assert_eq!(
            back.claims.expires_at.offset(),
            record.claims.expires_at.offset()
        );
        back
    }

    #[test]
    fn records_come_back_exactly() {
        let t = jeton_testkit::now() + Duration::nanoseconds(987_654_321);
        let d = TokenDigest::of("t");
        round_trip(TokenRecord::new(d, claims(t)));
        // Before the epoch, where seconds floor and nanoseconds count up.
        let old = OffsetDateTime::UNIX_EPOCH - Duration::nanoseconds(1_500_000_001);
        round_trip(TokenRecord::new(d, claims(old)));
        // Another offset, the extremes of the calendar, a jti, no scope or audience.
        let east = t.to_offset(UtcOffset::from_hms(5, 30, 15).unwrap());
        round_trip(TokenRecord::new(d, claims(east).with_jti("j-1")));
        let max = jeton::time::PrimitiveDateTime::MAX.assume_utc() - Duration::minutes(5);
        round_trip(TokenRecord::new(d, claims(max)));
        let min = jeton::time::PrimitiveDateTime::MIN.assume_utc();
        let empty = TokenClaims::new(
            ClientId::new("c").unwrap(),
            String::new(),
            Scope::default(),
            vec![],
            min,
            min,
        );
        round_trip(TokenRecord::new(d, empty));
    }

    #[test]
    fn rfc9449_6_1_a_thumbprint_is_kept_as_its_32_bytes_and_anything_else_as_given() {
        let t = jeton_testkit::now();
        let d = TokenDigest::of("t");
        let jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
        let bound = TokenRecord::new(d, claims(t).with_confirmation(Confirmation::jkt(jkt)));
        let split = Split::new(&bound.digest, &bound.claims, &RandomState::new());
        assert!(split.own.jkt.is_some() && split.grant.confirmation.is_none());
        round_trip(bound);
        // Not base64url of 32 bytes, non-canonical trailing bits, padding, too short: kept whole.
        for odd in [
            "not a thumbprint",
            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4J",
            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I=",
            "0ZcOCORZNYy",
            "",
        ] {
            let r = TokenRecord::new(d, claims(t).with_confirmation(Confirmation::jkt(odd)));
            let split = Split::new(&r.digest, &r.claims, &RandomState::new());
            assert!(split.own.jkt.is_none(), "{odd}");
            round_trip(r);
        }
    }

    #[test]
    fn equal_grants_hash_alike_and_instants_are_not_part_of_them() {
        let hasher = RandomState::new();
        let t = jeton_testkit::now();
        let (now, later) = (claims(t), claims(t + Duration::seconds(7)));
        let a = Split::new(&TokenDigest::of("a"), &now, &hasher);
        let b = Split::new(&TokenDigest::of("b"), &later, &hasher);
        assert_eq!(a.grant, b.grant);
        assert!(a.grant.matches(&b.grant.to_grant()));
        let other = claims(t).with_jti("j");
        let c = Split::new(&TokenDigest::of("c"), &other, &hasher);
        assert_ne!(a.grant, c.grant);
        assert!(!a.grant.matches(&c.grant.to_grant()));
        // Each field takes part: a grant differing in any one is another grant.
        let jkt = "not a thumbprint";
        let t0 = claims(t);
        for (i, differs) in [
            TokenClaims::new(
                ClientId::new("other").unwrap(),
                t0.subject.clone(),
                t0.scope.clone(),
                t0.audience.clone(),
                t,
                t0.expires_at,
            ),
            TokenClaims::new(
                t0.client_id.clone(),
                "svc:other".into(),
                t0.scope.clone(),
                t0.audience.clone(),
                t,
                t0.expires_at,
            ),
            TokenClaims::new(
                t0.client_id.clone(),
                t0.subject.clone(),
                Scope::parse("read").unwrap(),
                t0.audience.clone(),
                t,
                t0.expires_at,
            ),
            TokenClaims::new(
                t0.client_id.clone(),
                t0.subject.clone(),
                t0.scope.clone(),
                vec![],
                t,
                t0.expires_at,
            ),
            claims(t).with_confirmation(Confirmation::jkt(jkt)),
            claims(t.to_offset(UtcOffset::from_hms(1, 0, 0).unwrap())),
        ]
        .iter()
        .enumerate()
        {
            let d = Split::new(&TokenDigest::of("d"), differs, &hasher);
            assert!(!a.grant.matches(&d.grant.to_grant()), "field {i}");
            assert!(!d.grant.matches(&a.grant.to_grant()), "field {i}");
        }
    }
}

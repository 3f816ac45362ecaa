//! Equal cost of failed authentication (RFC 6749 §10.10): the verification work of a request
//! does not depend on whether the id exists, on its verifier kind or on how many secrets it has.
//!
//! # The rule
//!
//! A client's [`CostProfile`] is the list of PBKDF2 iteration counts of its secrets (HMAC
//! secrets cost about a microsecond; PBKDF2 ones are what an attacker can time). Every request
//! performs:
//!
//! - one PBKDF2 verification per entry of a profile (the client's own secrets; for an unknown
//!   id, the same number of decoys with the same iteration counts), then
//! - HMAC-SHA256 verifications (the client's HMAC secrets, then decoys) until the request has
//!   made [`verifications_per_request`](crate::EngineBuilder::verifications_per_request)
//!   verifications in all — unless one of the client's secrets matched: a success is told
//!   apart by its answer whatever it costs, so only failures are padded.
//!
//! An unknown id imitates one of the profiles in use, chosen by HMAC-SHA256 of the id under a
//! secret key: the same id always costs the same, and nobody without the key can tell which
//! profile an unknown id was given, so a timing says nothing about existence. The profiles in
//! use are declared to the engine ([`EngineBuilder::cost_profiles`](crate::EngineBuilder::cost_profiles));
//! the standalone server declares those of its configured clients.
//!
//! A client with more secrets than `verifications_per_request` costs more (each secret is
//! verified): the server raises the setting to its largest client; an embedder should too.

use crate::client::{ClientRecord, RegisteredSecret};
use crate::secret::{DecoyKind, SecretVerifier};
use crate::types::{ClientId, ClientSecret};
use ring::hmac;
use std::fmt;
use std::num::NonZeroU32;
use time::OffsetDateTime;

/// What a client's failed authentication costs: the PBKDF2 iteration count of each of its
/// secrets (HMAC secrets are cheap and padded to a fixed count). See the module rule in
/// [`EngineBuilder::cost_profiles`](crate::EngineBuilder::cost_profiles).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CostProfile {
    /// PBKDF2 iteration counts, largest first.
    pbkdf2: Vec<NonZeroU32>,
}

impl CostProfile {
    /// Clients whose secrets are all HMAC-SHA256 (generated secrets).
    pub fn hmac() -> Self {
        Self { pbkdf2: Vec::new() }
    }

    /// Clients with one PBKDF2 secret of `iterations` (and any HMAC ones).
    pub fn pbkdf2(iterations: NonZeroU32) -> Self {
        Self {
            pbkdf2: vec![iterations],
        }
    }

    /// The profile of a registered client (expired secrets included: they are verified too).
    pub fn of(record: &ClientRecord) -> Self {
        Self::of_verifiers(record.secrets.iter().map(|s| &s.verifier))
    }

    fn of_verifiers<'a>(verifiers: impl Iterator<Item = &'a SecretVerifier>) -> Self {
        let mut pbkdf2: Vec<NonZeroU32> = verifiers
            .filter_map(|v| match v {
                SecretVerifier::Pbkdf2Sha256 { iterations, .. } => Some(*iterations),
                _ => None,
            })
            .collect();
        pbkdf2.sort_unstable_by(|a, b| b.cmp(a));
        Self { pbkdf2 }
    }

    /// Whether the profile includes slow (PBKDF2) work, which runs on the verification executor.
    pub fn is_slow(&self) -> bool {
        !self.pbkdf2.is_empty()
    }

    /// How many verifications the profile has of its own.
    pub fn len(&self) -> usize {
        self.pbkdf2.len()
    }

    /// Whether it has none of its own (all-HMAC).
    pub fn is_empty(&self) -> bool {
        self.pbkdf2.is_empty()
    }
}

impl From<DecoyKind> for CostProfile {
    fn from(kind: DecoyKind) -> Self {
        match kind {
            DecoyKind::Pbkdf2Sha256(i) => Self::pbkdf2(i),
            _ => Self::hmac(),
        }
    }
}

/// A decoy as the engine holds it: a [`RegisteredSecret`], so that it is verified by the same
/// code, with its key prepared the same way, as a client's own secrets.
fn decoy(kind: DecoyKind) -> RegisteredSecret {
    RegisteredSecret::new(SecretVerifier::decoy(kind))
}

/// The engine's cost model: the profiles in use with their decoys, the padding count and the
/// key that places unknown ids. Built once; decoys are derived at build (PBKDF2 is slow).
///
/// The decoys are [`RegisteredSecret`]s, like a client's secrets, and are checked with the same
/// [`RegisteredSecret::verify`]: an HMAC decoy has its key prepared at build exactly as a real
/// HMAC secret has at registration, so a decoy verification does the work of a real one (two
/// SHA-256 compressions), never the four of an unprepared key.
pub(crate) struct CostModel {
    slots: usize,
    /// Profiles in use, sorted, deduplicated, each with one PBKDF2 decoy per entry.
    profiles: Vec<(CostProfile, Vec<RegisteredSecret>)>,
    hmac_decoy: RegisteredSecret,
    /// Present when there are at least two profiles to choose between.
    key: Option<hmac::Key>,
}

impl fmt::Debug for CostModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CostModel")
            .field("slots", &self.slots)
            .field(
                "profiles",
                &self.profiles.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// What the secrets said: a match among the active ones (the verifier), or only an expired one.
pub(crate) struct Verified<'r> {
    pub(crate) active: Option<&'r SecretVerifier>,
    pub(crate) expired: bool,
    /// How many verifications were made, decoys included.
    pub(crate) made: usize,
}

impl CostModel {
    /// `profiles` non-empty (the caller adds the all-HMAC one by default); `key` required when
    /// there is more than one distinct profile.
    pub(crate) fn new(
        mut profiles: Vec<CostProfile>,
        slots: usize,
        key: Option<[u8; 32]>,
    ) -> Option<Self> {
        profiles.sort();
        profiles.dedup();
        if profiles.is_empty() {
            profiles.push(CostProfile::hmac());
        }
        let key = match (profiles.len(), key) {
            (1, _) => None,
            (_, Some(k)) => Some(hmac::Key::new(hmac::HMAC_SHA256, &k)),
            (_, None) => return None,
        };
        let slots = slots.max(profiles.iter().map(CostProfile::len).max().unwrap_or(0));
        let profiles = profiles
            .into_iter()
            .map(|p| {
                let decoys = p
                    .pbkdf2
                    .iter()
                    .map(|&i| decoy(DecoyKind::Pbkdf2Sha256(i)))
                    .collect();
                (p, decoys)
            })
            .collect();
        Some(Self {
            slots,
            profiles,
            hmac_decoy: decoy(DecoyKind::HmacSha256),
            key,
        })
    }

    /// The model of an all-HMAC deployment (one profile, no key).
    pub(crate) fn hmac_only(slots: usize) -> Self {
        Self {
            slots,
            profiles: vec![(CostProfile::hmac(), Vec::new())],
            hmac_decoy: decoy(DecoyKind::HmacSha256),
            key: None,
        }
    }

    /// The profile an unknown id imitates: fixed per id, unpredictable without the key.
    fn profile_for_unknown(&self, id: &ClientId) -> &(CostProfile, Vec<RegisteredSecret>) {
        let i = match &self.key {
            None => 0,
            Some(key) => {
                let tag = hmac::sign(key, id.as_str().as_bytes());
                let mut b = [0u8; 8];
                b.copy_from_slice(&tag.as_ref()[..8]);
                // Modulo bias over 2^64 is negligible for a handful of profiles.
                (u64::from_le_bytes(b) % self.profiles.len() as u64) as usize
            }
        };
        &self.profiles[i]
    }

    /// Whether authenticating `id` (with `record`, if any) includes PBKDF2 work.
    pub(crate) fn is_slow(&self, id: &ClientId, record: Option<&ClientRecord>) -> bool {
        match record {
            Some(r) => r
                .secrets
                .iter()
                .any(|s| matches!(s.verifier, SecretVerifier::Pbkdf2Sha256 { .. })),
            None => self.profile_for_unknown(id).0.is_slow(),
        }
    }

    /// Verifies `secret` against every secret of `record`, padded to the fixed work; for an
    /// unknown id, the decoys of its profile. Returns what matched.
    pub(crate) fn verify<'r>(
        &self,
        id: &ClientId,
        record: Option<&'r ClientRecord>,
        secret: &ClientSecret,
        now: OffsetDateTime,
    ) -> Verified<'r> {
        let mut out = Verified {
            active: None,
            expired: false,
            made: 0,
        };
        match record {
            Some(r) => {
                for s in &r.secrets {
                    out.made += 1;
                    if s.verify(secret) {
                        if s.is_active(now) {
                            out.active.get_or_insert(&s.verifier);
                        } else {
                            out.expired = true;
                        }
                    }
                }
            }
            None => {
                for d in &self.profile_for_unknown(id).1 {
                    out.made += 1;
                    let _ = d.verify(secret);
                }
            }
        }
        // Padding hides which failure this is, so a failure always pays for it; a success is
        // told apart by its answer anyway, so padding it would buy nothing (issue 13: a decoy
        // HMAC is a tenth of an opaque token request's own work).
        if out.active.is_none() {
            let pad = self.slots.saturating_sub(out.made);
            for _ in 0..pad {
                let _ = self.hmac_decoy.verify(secret);
            }
            out.made += pad;
        }
        out
    }

    /// How many verifications every request makes (at least).
    #[cfg(test)]
    pub(crate) fn slots(&self) -> usize {
        self.slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SystemRandom;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn rfc6749_10_10_an_unknown_id_imitates_one_profile_in_use_always_the_same() {
        let m = CostModel::new(
            vec![CostProfile::hmac(), CostProfile::pbkdf2(nz(1000))],
            2,
            Some([7; 32]),
        )
        .unwrap();
        let mut seen = std::collections::HashSet::new();
        for n in 0..64 {
            let id = ClientId::new(format!("nobody-{n}")).unwrap();
            let a = m.profile_for_unknown(&id).0.clone();
            assert_eq!(a, m.profile_for_unknown(&id).0);
            seen.insert(a);
        }
        // Both profiles are used by unknown ids.
        assert_eq!(seen.len(), 2);
    }

    #[test]
    fn rfc6749_10_10_several_profiles_need_a_key() {
        let two = vec![CostProfile::hmac(), CostProfile::pbkdf2(nz(1000))];
        assert!(CostModel::new(two, 2, None).is_none());
        assert!(CostModel::new(vec![CostProfile::hmac(); 3], 2, None).is_some());
    }

    #[test]
    fn the_profile_of_a_client_is_its_pbkdf2_counts() {
        let rng = SystemRandom::new();
        let r = ClientRecord::builder(ClientId::new("c").unwrap())
            .secret(SecretVerifier::hmac_sha256("x-secret-0123", &rng).unwrap())
            .secret(SecretVerifier::pbkdf2_sha256("pw", nz(1000), &rng).unwrap())
            .build();
        assert_eq!(CostProfile::of(&r), CostProfile::pbkdf2(nz(1000)));
        let m = CostModel::new(vec![CostProfile::of(&r)], 2, None).unwrap();
        assert!(m.is_slow(&r.id, Some(&r)));
        assert_eq!(m.slots(), 2);
        let wrong = ClientSecret::new("nope").unwrap();
        let v = m.verify(&r.id, Some(&r), &wrong, OffsetDateTime::UNIX_EPOCH);
        assert!(v.active.is_none() && !v.expired);
    }

    #[test]
    fn rfc6749_10_10_failures_make_every_verification_a_success_only_its_own() {
        let rng = SystemRandom::new();
        let secret = ClientSecret::new("x-secret-0123").unwrap();
        let r = ClientRecord::builder(ClientId::new("c").unwrap())
            .secret(SecretVerifier::hmac_sha256(secret.expose(), &rng).unwrap())
            .build();
        let m = CostModel::new(vec![CostProfile::hmac()], 4, None).unwrap();
        let at = OffsetDateTime::UNIX_EPOCH;
        let wrong = ClientSecret::new("nope").unwrap();
        let unknown = ClientId::new("nobody").unwrap();
        // Every failure makes the same number of verifications, whoever asks.
        assert_eq!(m.verify(&r.id, Some(&r), &wrong, at).made, 4);
        assert_eq!(m.verify(&unknown, None, &wrong, at).made, 4);
        // A success is not padded: its answer tells it apart anyway.
        let ok = m.verify(&r.id, Some(&r), &secret, at);
        assert!(ok.active.is_some());
        assert_eq!(ok.made, 1);
    }

    #[test]
    fn rfc6749_10_10_decoys_are_prepared_like_real_secrets() {
        let m = CostModel::new(
            vec![CostProfile::hmac(), CostProfile::pbkdf2(nz(1000))],
            3,
            Some([7; 32]),
        )
        .unwrap();
        // The padding decoy does the work of a registered HMAC secret: its key is prepared.
        assert!(m.hmac_decoy.is_prepared());
        assert!(CostModel::hmac_only(2).hmac_decoy.is_prepared());
        let real = RegisteredSecret::new(
            SecretVerifier::hmac_sha256("x-secret-0123", &SystemRandom::new()).unwrap(),
        );
        assert_eq!(real.is_prepared(), m.hmac_decoy.is_prepared());
        // Profile decoys are PBKDF2 (nothing to prepare), one per entry, as before.
        for (p, decoys) in &m.profiles {
            assert_eq!(decoys.len(), p.len());
            for d in decoys {
                assert!(matches!(d.verifier, SecretVerifier::Pbkdf2Sha256 { .. }));
                assert!(!d.is_prepared());
            }
        }
    }

    #[test]
    fn rfc6749_10_10_wrong_unknown_and_expired_make_the_same_verifications() {
        let rng = SystemRandom::new();
        let secret = ClientSecret::new("x-secret-0123").unwrap();
        let at = OffsetDateTime::UNIX_EPOCH + time::Duration::days(1);
        let expired = ClientRecord::builder(ClientId::new("old").unwrap())
            .secret_expiring(
                SecretVerifier::hmac_sha256(secret.expose(), &rng).unwrap(),
                OffsetDateTime::UNIX_EPOCH,
            )
            .build();
        let current = ClientRecord::builder(ClientId::new("c").unwrap())
            .secret(SecretVerifier::hmac_sha256("y-secret-0123", &rng).unwrap())
            .secret(SecretVerifier::hmac_sha256("z-secret-0123", &rng).unwrap())
            .build();
        let m = CostModel::new(vec![CostProfile::hmac()], 3, None).unwrap();
        let unknown = ClientId::new("nobody").unwrap();
        let e = m.verify(&expired.id, Some(&expired), &secret, at);
        assert!(e.expired && e.active.is_none());
        assert_eq!(e.made, 3);
        assert_eq!(m.verify(&current.id, Some(&current), &secret, at).made, 3);
        assert_eq!(m.verify(&unknown, None, &secret, at).made, 3);
    }
}

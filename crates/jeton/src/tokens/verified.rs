//! A bounded memory of the JWTs an issuer has already verified, so that introspecting the same
//! token again costs a SHA-256 and a table lookup instead of a signature verification.
//!
//! Why: a client reuses its access token until it expires, so an API that introspects every
//! request asks about the same token over and over; verifying an ES256 signature costs about
//! 45 µs, three times the rest of the request (issue 13).
//!
//! What is remembered is the outcome of the checks that cannot change for a given token and key
//! set: signature, `typ`, `iss`, required claims. Everything that can change is still decided
//! on every request by the caller: expiry against `now`, the revocation list, the client's
//! state. An entry is used only while the issuer's key set is the very set it was verified with
//! (pointer identity through a `Weak`, which keeps the allocation's address from being reused
//! but not the keys themselves alive: a replaced set, private key included, is dropped at
//! once), so replacing the keys — a retired key above all — invalidates every entry at once.
//!
//! Bounded by construction: a fixed table of [`SLOTS`] slots, allocated once; a token's slot is
//! chosen by its SHA-256, and a newer token in the same slot replaces the older one. Nothing
//! grows, whatever is presented, and a flood of distinct tokens only evicts entries (each of
//! them first paid a full verification to get in).

use crate::tokens::issuer::TokenInfo;
use crate::tokens::key_set::KeySet;
use ring::digest;
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// How many verified tokens are remembered at most.
pub(crate) const SLOTS: usize = 4096;

struct Entry {
    digest: [u8; 32],
    keys: Weak<KeySet>,
    info: TokenInfo,
}

/// The table. See the module documentation.
pub(crate) struct VerifiedTokens {
    slots: Box<[Mutex<Option<Entry>>]>,
}

impl std::fmt::Debug for VerifiedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedTokens")
            .field("slots", &self.slots.len())
            .finish()
    }
}

/// A token's key in the table: its SHA-256.
pub(crate) struct TokenKey([u8; 32]);

impl TokenKey {
    pub(crate) fn of(token: &str) -> Self {
        let d = digest::digest(&digest::SHA256, token.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        Self(out)
    }

    fn slot(&self, slots: usize) -> usize {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.0[..8]);
        // SLOTS is a power of two: masking keeps the spread uniform.
        (u64::from_le_bytes(b) as usize) & (slots - 1)
    }
}

impl VerifiedTokens {
    pub(crate) fn new() -> Self {
        Self::with_slots(SLOTS)
    }

    fn with_slots(slots: usize) -> Self {
        let slots = slots.next_power_of_two();
        Self {
            slots: (0..slots).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// What was verified for this token under exactly this key set, if anything.
    pub(crate) fn get(&self, key: &TokenKey, keys: &Arc<KeySet>) -> Option<TokenInfo> {
        let slot = self.slots[key.slot(self.slots.len())]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Comparing digests leaks at most how much of a token's SHA-256 matches, which says
        // nothing usable about the token.
        slot.as_ref()
            .filter(|e| e.digest == key.0 && std::ptr::eq(e.keys.as_ptr(), Arc::as_ptr(keys)))
            .map(|e| e.info.clone())
    }

    /// Remembers a token that verified under `keys`.
    pub(crate) fn put(&self, key: TokenKey, keys: &Arc<KeySet>, info: &TokenInfo) {
        let entry = Entry {
            digest: key.0,
            keys: Arc::downgrade(keys),
            info: info.clone(),
        };
        // The old entry, if any, is dropped after the lock is released.
        let _old = self.slots[key.slot(self.slots.len())]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(entry);
    }

    /// How many entries are held now (tests: the bound).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.lock().unwrap_or_else(PoisonError::into_inner).is_some())
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::algorithm::Algorithm;
    use crate::tokens::claims::TokenClaims;
    use crate::tokens::issuer::TokenHandle;
    use crate::tokens::keys::SigningKey;
    use crate::types::{ClientId, Scope};
    use time::OffsetDateTime;

    fn info(jti: &str) -> TokenInfo {
        let now = OffsetDateTime::UNIX_EPOCH;
        let claims = TokenClaims::new(
            ClientId::new("svc").unwrap(),
            "svc".into(),
            Scope::default(),
            vec![],
            now,
            now,
        )
        .with_jti(jti);
        TokenInfo::new(claims, TokenHandle::Jti(jti.into()))
    }

    fn keys() -> Arc<KeySet> {
        Arc::new(KeySet::new(SigningKey::generate(Algorithm::Es256).unwrap()))
    }

    #[test]
    fn a_token_is_found_only_with_the_key_set_it_was_verified_under() {
        let cache = VerifiedTokens::new();
        let (a, b) = (keys(), keys());
        cache.put(TokenKey::of("t1"), &a, &info("j1"));
        assert_eq!(cache.get(&TokenKey::of("t1"), &a), Some(info("j1")));
        assert_eq!(cache.get(&TokenKey::of("t1"), &b), None, "another key set");
        assert_eq!(cache.get(&TokenKey::of("t2"), &a), None, "another token");
        assert_eq!(cache.get(&TokenKey::of("t1 "), &a), None, "one byte more");
        // A replaced set is gone (its weak reference dangles) and matches nothing new.
        drop(a);
        let c = keys();
        assert_eq!(cache.get(&TokenKey::of("t1"), &c), None);
    }

    #[test]
    fn the_table_never_holds_more_than_its_slots_whatever_is_put() {
        let cache = VerifiedTokens::with_slots(64);
        let k = keys();
        for i in 0..10_000 {
            cache.put(TokenKey::of(&format!("token-{i}")), &k, &info("j"));
        }
        assert_eq!(cache.slots.len(), 64);
        assert!(cache.len() <= 64);
        // Entries do not keep a key set (and its private key) alive.
        assert_eq!(Arc::strong_count(&k), 1);
        assert_eq!(VerifiedTokens::new().slots.len(), SLOTS);
    }
}

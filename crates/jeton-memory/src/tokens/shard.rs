//! One shard of the token store: entries in a slab, a hash index of slot numbers, and an
//! expiry index with lazy deletion.
//!
//! Per live token this costs one 72-byte slot, one 8-byte index slot (plus hashbrown's control
//! byte) and one 16-byte expiry entry, instead of a hash-map slot holding a whole record keyed
//! by its digest and a B-tree entry repeating the digest. The expiry index is not told about
//! removals: a revoked token's entry stays until it comes due or the index is rebuilt (when
//! stale entries outnumber live ones, see [`Shard::trim`]), and popping one that no longer
//! matches its slot is a no-op. Growth is by a quarter at a time past a small size, and a shard
//! left less than half full is rebuilt smaller, so memory follows the live tokens both ways.

use super::compact::{Entry, Instant};
use super::expiry::{Due, Expiry};
use hashbrown::{HashTable, hash_table};
use jeton::TokenDigest;

/// Stale expiry entries tolerated beyond one per live token before the index is rebuilt.
pub(super) const STALE_SLACK: usize = 64;
/// Below this many slots a shard doubles its room, like `Vec`; above it, it adds a quarter (and
/// never fewer than this many slots).
const SMALL: usize = 64;

impl Due {
    fn of(entry: &Entry, slot: u32) -> Self {
        let (secs, nanos) = entry.expires_at();
        Self { secs, nanos, slot }
    }
}

/// The index's 32-bit hash of a digest. Digests are SHA-256 of random values, so any bits would
/// do; folding all four words keeps structured digests (tests, `TokenDigest::from_bytes`)
/// spread, and the first byte, which picked the shard, is not left to decide the bucket alone.
fn hash32(digest: &TokenDigest) -> u32 {
    let b = digest.as_bytes();
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w)
    };
    let h = (word(0) ^ word(1).rotate_left(16) ^ word(2).rotate_left(32) ^ word(3).rotate_left(48))
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> 32) as u32
}

/// One index slot: a live slot number with its digest's [`hash32`].
///
/// The hash is kept beside the slot number so that neither a resize of the index nor a
/// candidate whose hash differs reads the slot itself. The slots of a large store are far
/// apart in memory: reading one per index entry at every resize cost more than the rest of an
/// insert (issue 13), for 4 bytes more per token here.
#[derive(Clone, Copy, Debug)]
struct Indexed {
    slot: u32,
    hash: u32,
}

impl Indexed {
    /// Whether this is the slot of `digest`, whose [`hash32`] is `hash`: the kept hash is
    /// compared first, so a mere tag match in the index never reads the slot.
    fn names(&self, hash: u32, digest: &TokenDigest, slots: &[Option<Entry>]) -> bool {
        self.hash == hash
            && slots[self.slot as usize]
                .as_ref()
                .is_some_and(|e| &e.digest == digest)
    }

    /// The full hash hashbrown wants, from the 32 bits kept: spread by a multiply, so that both
    /// the low bits (the bucket) and the top 7 (hashbrown's tag) depend on all of them.
    fn full(hash: u32) -> u64 {
        u64::from(hash).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ u64::from(hash)
    }
}

/// How much room to add to a full table of `len` elements: doubling while small, then a
/// quarter at a time, so that a large shard leaves at most a fifth of its room unused.
pub(super) fn growth(len: usize) -> usize {
    len.clamp(4, SMALL).max(len / 4)
}

/// A shard's tokens (see the [module docs](self)).
#[derive(Debug, Default)]
pub(super) struct Shard {
    /// `None` for a free slot, listed in `free`.
    slots: Vec<Option<Entry>>,
    free: Vec<u32>,
    /// Live slots, by the hash of their entry's digest.
    index: HashTable<Indexed>,
    /// Every live slot with its expiry, and stale entries for removed tokens.
    due: Expiry,
}

impl Shard {
    /// How many tokens it holds.
    pub(super) fn len(&self) -> usize {
        self.index.len()
    }

    fn slot_of(&self, digest: &TokenDigest) -> Option<u32> {
        let slots = &self.slots;
        let h = hash32(digest);
        self.index
            .find(Indexed::full(h), |x| x.names(h, digest, slots))
            .map(|x| x.slot)
    }

    /// The entry of `digest`, if held.
    pub(super) fn get(&self, digest: &TokenDigest) -> Option<&Entry> {
        let s = self.slot_of(digest)?;
        self.slots[s as usize].as_ref()
    }

    /// Adds `entry`, or replaces the entry of the same digest and returns it.
    ///
    /// One probe of the index either way: it finds the digest's slot, or where a new one goes.
    pub(super) fn insert(&mut self, entry: Entry) -> Option<Entry> {
        let slots = &self.slots;
        let h = hash32(&entry.digest);
        let found = self.index.entry(
            Indexed::full(h),
            |x| x.names(h, &entry.digest, slots),
            |x| Indexed::full(x.hash),
        );
        let vacant = match found {
            hash_table::Entry::Occupied(o) => {
                let s = o.get().slot;
                self.due.push(Due::of(&entry, s));
                let old = self.slots[s as usize].replace(entry);
                // The replaced entry's expiry entry is stale now.
                self.trim();
                return old;
            }
            hash_table::Entry::Vacant(v) => v,
        };
        let s = match self.free.pop() {
            Some(s) => s,
            None => {
                if self.slots.len() == self.slots.capacity() {
                    self.slots.reserve_exact(growth(self.slots.len()));
                }
                self.slots.push(None);
                // At most u32::MAX slots: the store's global cap (see `MAX_TOKENS`) is lower.
                (self.slots.len() - 1) as u32
            }
        };
        self.due.push(Due::of(&entry, s));
        self.slots[s as usize] = Some(entry);
        vacant.insert(Indexed { slot: s, hash: h });
        None
    }

    /// Removes the entry of `digest`, if held.
    pub(super) fn remove(&mut self, digest: &TokenDigest) -> Option<Entry> {
        let s = self.slot_of(digest)?;
        let removed = self.take(s);
        self.shrink();
        removed
    }

    /// Empties slot `s` (known to be live) and drops it from the index; leaves its expiry entry.
    fn take(&mut self, s: u32) -> Option<Entry> {
        let entry = self.slots[s as usize].take()?;
        let h = hash32(&entry.digest);
        if let Ok(found) = self.index.find_entry(Indexed::full(h), |x| x.slot == s) {
            found.remove();
        }
        self.free.push(s);
        Some(entry)
    }

    /// Drops entries expired at `now` (`expires_at <= now`) into `dropped`, taking at most
    /// `budget` entries, live or stale, out of the expiry index. Returns whether it stopped for
    /// the budget, so that more may have expired.
    pub(super) fn purge(&mut self, now: Instant, budget: usize, dropped: &mut Vec<Entry>) -> bool {
        let mut spent = 0;
        while spent < budget {
            let Some(d) = self.due.pop_due(now) else {
                break;
            };
            spent += 1;
            // A stale entry may name a slot since reused: only a token expiring at that very
            // instant matches, and it has expired too.
            let matches = self.slots[d.slot as usize]
                .as_ref()
                .is_some_and(|e| e.expires_at() == (d.secs, d.nanos));
            if matches {
                dropped.extend(self.take(d.slot));
            }
        }
        self.shrink();
        spent == budget
    }

    /// Rebuilds the expiry index from the live slots once stale entries exceed one per live token plus
    /// [`STALE_SLACK`]: linear, and paid for by that many removals since the last rebuild.
    fn trim(&mut self) {
        if self.due.len() > 2 * self.len() + STALE_SLACK {
            self.due = self.live_due(self.len());
        }
    }

    /// Rebuilds the whole shard, renumbered and at its live size, once it is less than half
    /// full: linear in its slots, like a hash-table resize, and paid for by the half of them
    /// removed since the shard last grew.
    fn shrink(&mut self) {
        if 2 * self.len() >= self.slots.len() {
            self.trim();
            return;
        }
        let live = self.len();
        let mut slots = Vec::with_capacity(live);
        slots.extend(self.slots.drain(..).filter(Option::is_some));
        self.slots = slots;
        self.free = Vec::new();
        let mut index = HashTable::with_capacity(live);
        let slots = &self.slots;
        for (s, e) in slots.iter().enumerate() {
            if let Some(e) = e {
                let hash = hash32(&e.digest);
                let x = Indexed {
                    slot: s as u32,
                    hash,
                };
                index.insert_unique(Indexed::full(hash), x, |x| Indexed::full(x.hash));
            }
        }
        self.index = index;
        self.due = self.live_due(live);
    }

    fn live_due(&self, live: usize) -> Expiry {
        let mut due = Vec::with_capacity(live);
        for (s, e) in self.slots.iter().enumerate() {
            if let Some(e) = e {
                due.push(Due::of(e, s as u32));
            }
        }
        Expiry::rebuild(due)
    }

    /// Bytes of its tables (not of the shared grants): slots, free list, index buckets with
    /// their control bytes, expiry entries, and the DPoP thumbprints of its entries.
    pub(super) fn approx_bytes(&self) -> usize {
        let buckets = (self.index.capacity() * 8).div_ceil(7).next_power_of_two();
        self.slots.capacity() * size_of::<Option<Entry>>()
            + self.free.capacity() * size_of::<u32>()
            + buckets * (size_of::<Indexed>() + 1)
            + self.due.approx_bytes()
            + self
                .slots
                .iter()
                .flatten()
                .map(Entry::heap_bytes)
                .sum::<usize>()
    }
}

#[cfg(test)]
impl Shard {
    /// Checks every invariant: the index finds each live slot, the free list names the others,
    /// each live slot has its expiry entry, stale expiry entries and empty slots stay within their
    /// bounds. Returns the number of live tokens.
    pub(super) fn check(&self) -> usize {
        let live = self.slots.iter().flatten().count();
        assert_eq!(self.index.len(), live);
        assert_eq!(self.slots.len() - self.free.len(), live);
        let due: std::collections::HashSet<Due> = self.due.iter().copied().collect();
        for (s, e) in self.slots.iter().enumerate() {
            if let Some(e) = e {
                assert_eq!(self.slot_of(&e.digest), Some(s as u32));
                let (secs, nanos) = e.expires_at();
                let slot = s as u32;
                assert!(
                    due.contains(&Due { secs, nanos, slot }),
                    "slot {s} not in the expiry index"
                );
            }
        }
        assert!(
            self.due.len() <= 2 * live + STALE_SLACK,
            "{} stale",
            self.due.len()
        );
        assert!(
            self.slots.len() <= 2 * live,
            "{} slots, {live} live",
            self.slots.len()
        );
        live
    }

    /// Heap entries, stale ones included.
    pub(super) fn due_len(&self) -> usize {
        self.due.len()
    }
}

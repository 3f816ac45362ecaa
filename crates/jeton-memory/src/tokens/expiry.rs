//! A shard's expiry index: which slot expires when, earliest first.
//!
//! Tokens of one lifetime are issued in time order, so their expiries come in order too: each
//! such run is kept in a FIFO lane, where adding and taking the earliest are O(1) and touch one
//! cache line, instead of a binary heap's O(log n) walk across the table. A new entry goes to
//! the lane whose last entry is the latest one not after it (best fit), which sorts each client
//! lifetime into a lane of its own without being told lifetimes. What fits no lane, once
//! [`LANES`] are in use (more lifetimes than that in one shard, a clock stepping back), goes to
//! a heap. The earliest entry is the least of the lanes' fronts and the heap's top.

use super::shard::growth;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// Lanes per shard: a handful of token lifetimes in use at once is the common case, and the
/// earliest entry is found by comparing every lane's front.
const LANES: usize = 8;

/// One index entry: a slot and when its token expires. 16 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Due {
    pub(super) secs: i64,
    pub(super) nanos: u32,
    pub(super) slot: u32,
}

/// Where the earliest entry is.
#[derive(Clone, Copy)]
enum Source {
    Lane(usize),
    Heap,
}

/// The index (see the [module docs](self)). Entries are never removed but by [`Expiry::pop`]:
/// the shard checks each popped entry against its slot.
#[derive(Debug, Default)]
pub(super) struct Expiry {
    /// Each in non-decreasing order, never empty.
    lanes: Vec<VecDeque<Due>>,
    heap: BinaryHeap<Reverse<Due>>,
    /// No entry expires before this (`None`: no entry at all). Every insert asks whether
    /// anything is due; this answers "no" without reading the lanes' fronts, which in a large
    /// store are cold: a cache miss per insert.
    soonest: Option<(i64, u32)>,
}

impl Expiry {
    /// Entries held, stale ones included.
    pub(super) fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(VecDeque::len).sum::<usize>()
    }

    /// Adds an entry.
    pub(super) fn push(&mut self, due: Due) {
        let at = (due.secs, due.nanos);
        if self.soonest.is_none_or(|s| at < s) {
            self.soonest = Some(at);
        }
        let mut best: Option<(usize, Due)> = None;
        for (i, lane) in self.lanes.iter().enumerate() {
            if let Some(&last) = lane.back()
                && last <= due
                && best.is_none_or(|(_, b)| last > b)
            {
                best = Some((i, last));
            }
        }
        match best {
            Some((i, _)) => {
                let lane = &mut self.lanes[i];
                if lane.len() == lane.capacity() {
                    lane.reserve_exact(growth(lane.len()));
                }
                lane.push_back(due);
            }
            None if self.lanes.len() < LANES => self.lanes.push(VecDeque::from([due])),
            None => {
                if self.heap.len() == self.heap.capacity() {
                    self.heap.reserve_exact(growth(self.heap.len()));
                }
                self.heap.push(Reverse(due));
            }
        }
    }

    fn earliest(&self) -> Option<(Due, Source)> {
        let mut min = self.heap.peek().map(|&Reverse(d)| (d, Source::Heap));
        for (i, lane) in self.lanes.iter().enumerate() {
            if let Some(&d) = lane.front()
                && min.is_none_or(|(m, _)| d < m)
            {
                min = Some((d, Source::Lane(i)));
            }
        }
        min
    }

    /// The earliest entry, if it is due at `now` (expires at or before it); taken out.
    pub(super) fn pop_due(&mut self, now: (i64, u32)) -> Option<Due> {
        if self.soonest.is_none_or(|s| s > now) {
            return None;
        }
        let Some((due, source)) = self.earliest() else {
            self.soonest = None;
            return None;
        };
        if (due.secs, due.nanos) > now {
            self.soonest = Some((due.secs, due.nanos));
            return None;
        }
        match source {
            Source::Heap => {
                self.heap.pop();
            }
            Source::Lane(i) => {
                self.lanes[i].pop_front();
                // A drained lane is dropped, freeing its buffer and its place for another run.
                if self.lanes[i].is_empty() {
                    self.lanes.swap_remove(i);
                }
            }
        }
        // The next one is no earlier than the one taken.
        self.soonest = Some((due.secs, due.nanos));
        Some(due)
    }

    /// An index of exactly these entries, in no particular order. Linear: they go to the heap,
    /// and the lanes form again from the next entries added.
    pub(super) fn rebuild(entries: Vec<Due>) -> Self {
        let soonest = entries.iter().map(|d| (d.secs, d.nanos)).min();
        Self {
            lanes: Vec::new(),
            heap: entries.into_iter().map(Reverse).collect(),
            soonest,
        }
    }

    /// Bytes of its buffers.
    pub(super) fn approx_bytes(&self) -> usize {
        let lanes: usize = self.lanes.iter().map(VecDeque::capacity).sum();
        (lanes + self.heap.capacity()) * size_of::<Due>()
            + self.lanes.capacity() * size_of::<VecDeque<Due>>()
    }

    /// Every entry, for tests.
    #[cfg(test)]
    pub(super) fn iter(&self) -> impl Iterator<Item = &Due> {
        self.heap
            .iter()
            .map(|Reverse(d)| d)
            .chain(self.lanes.iter().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(secs: i64, slot: u32) -> Due {
        Due {
            secs,
            nanos: 0,
            slot,
        }
    }

    fn drain(e: &mut Expiry) -> Vec<i64> {
        std::iter::from_fn(|| e.pop_due((i64::MAX, 0)).map(|d| d.secs)).collect()
    }

    #[test]
    fn interleaved_lifetimes_take_a_lane_each_and_come_out_in_order() {
        let mut e = Expiry::default();
        // Three clients with lifetimes 3600, 300 and 900, issuing in turn once a second.
        let mut all = Vec::new();
        for t in 0..1000 {
            for life in [3600, 300, 900] {
                e.push(due(t + life, 0));
                all.push(t + life);
            }
        }
        assert!(e.heap.is_empty(), "every run found a lane");
        assert!(e.lanes.len() <= 4, "{} lanes", e.lanes.len());
        all.sort();
        assert_eq!(drain(&mut e), all);
        assert!(e.lanes.is_empty() && e.heap.is_empty());
    }

    #[test]
    fn what_fits_no_lane_goes_to_the_heap_and_order_holds() {
        let mut e = Expiry::default();
        // Descending: every entry needs a lane of its own; past LANES, the heap.
        for (i, secs) in (0..100).rev().enumerate() {
            e.push(due(secs, i as u32));
        }
        assert_eq!(e.lanes.len(), LANES);
        assert_eq!(e.heap.len(), 100 - LANES);
        assert_eq!(e.len(), 100);
        assert_eq!(drain(&mut e), (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn the_soonest_bound_never_hides_a_due_entry() {
        // Entries in a scrambled order, popped at rising instants interleaved with pushes:
        // whatever is due comes out, whatever is not stays.
        let mut e = Expiry::default();
        let mut held: Vec<i64> = Vec::new();
        let mut x: i64 = 7;
        for now in 0..400 {
            x = (x * 1_103_515_245 + 12_345) % 1_000;
            let secs = now + x % 50;
            e.push(due(secs, 0));
            held.push(secs);
            let mut out = Vec::new();
            while let Some(d) = e.pop_due((now, 0)) {
                out.push(d.secs);
            }
            let mut expected: Vec<i64> = held.iter().copied().filter(|&s| s <= now).collect();
            expected.sort();
            held.retain(|&s| s > now);
            assert_eq!(out, expected, "at {now}");
        }
        assert_eq!(e.len(), held.len());
    }

    #[test]
    fn only_what_is_due_comes_out() {
        let mut e = Expiry::default();
        for secs in [5, 1, 3] {
            e.push(due(secs, 0));
        }
        assert_eq!(e.pop_due((2, 0)).map(|d| d.secs), Some(1));
        assert_eq!(e.pop_due((2, 0)), None);
        let late = Due {
            secs: 3,
            nanos: 1,
            slot: 0,
        };
        e.push(late);
        assert_eq!(e.pop_due((3, 0)).map(|d| d.secs), Some(3));
        assert_eq!(e.pop_due((3, 0)), None, "3 s + 1 ns is not due at 3 s");
        assert_eq!(e.pop_due((3, 1)), Some(late));
        let rebuilt = Expiry::rebuild(vec![due(9, 1), due(7, 2)]);
        assert_eq!(rebuilt.len(), 2);
        assert_eq!(drain(&mut { rebuilt }), vec![7, 9]);
    }
}

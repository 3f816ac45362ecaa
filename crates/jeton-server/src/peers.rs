//! How many connections one peer address may hold at once (`[limits]
//! max_connections_per_peer`), so that a single address cannot take every connection slot.

use std::sync::Arc;

/// Connections held per peer address, so that one peer cannot take every connection slot.
/// Entries exist only for peers with a live connection, so the table holds at most
/// `max_connections` entries.
#[derive(Debug, Default)]
pub(crate) struct PeerSlots {
    held: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
}

impl PeerSlots {
    /// Takes one slot for `peer` if it holds fewer than `max`; the guard gives it back.
    pub(crate) fn try_take(
        self: &Arc<Self>,
        peer: std::net::IpAddr,
        max: usize,
    ) -> Option<PeerSlot> {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = held.entry(peer).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(PeerSlot {
            slots: Arc::clone(self),
            peer,
        })
    }

    /// How many peers hold a connection now.
    #[cfg(test)]
    pub(crate) fn peers(&self) -> usize {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

/// One connection's hold on its peer's slots.
pub(crate) struct PeerSlot {
    slots: Arc<PeerSlots>,
    peer: std::net::IpAddr,
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut held = self
            .slots
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = held.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.peer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_peer_holds_at_most_its_share_of_connections_and_the_table_empties() {
        let slots = Arc::new(PeerSlots::default());
        let a: std::net::IpAddr = "192.0.2.1".parse().unwrap();
        let b: std::net::IpAddr = "192.0.2.2".parse().unwrap();
        let held: Vec<PeerSlot> = (0..3).filter_map(|_| slots.try_take(a, 3)).collect();
        assert_eq!(held.len(), 3);
        assert!(
            slots.try_take(a, 3).is_none(),
            "a fourth from the same peer"
        );
        let other = slots.try_take(b, 3);
        assert!(other.is_some(), "another peer is not affected");
        drop(held);
        drop(other);
        // Entries exist only for peers with a live connection: the table is bounded by them.
        assert_eq!(slots.peers(), 0);
        assert!(slots.try_take(a, 3).is_some());
    }
}

//! Slot → shard routing: the fixed table every shard builds at start-up.
//! Slots are striped over shards (slot `s` belongs to shard `s % N`), so every
//! shard gets an even share of any contiguous slot range a cluster node may be
//! given. Immutable after boot; each shard keeps its own copy.

use crate::cluster::slot::{key_hash_slot, Slot, SLOTS};

/// Index of a shard (one per core), ordered as the mesh orders executors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShardId(pub usize);

/// Owned by: each shard (a copy). Maps every slot to its owning shard.
#[derive(Clone, Debug)]
pub struct SlotMap {
    nshards: usize,
    owner: Box<[u16]>,
}

impl SlotMap {
    pub fn new(nshards: usize) -> SlotMap {
        let n = nshards.max(1);
        let owner = (0..SLOTS).map(|s| (s % n) as u16).collect();
        SlotMap { nshards: n, owner }
    }

    pub fn nshards(&self) -> usize {
        self.nshards
    }

    pub fn shard_of_slot(&self, slot: Slot) -> ShardId {
        ShardId(self.owner.get(slot.index()).copied().unwrap_or(0) as usize)
    }

    pub fn shard_of_key(&self, key: &[u8]) -> ShardId {
        if self.nshards == 1 {
            return ShardId(0);
        }
        self.shard_of_slot(key_hash_slot(key))
    }

    /// The slots shard `shard` owns, in increasing order.
    pub fn slots_of(&self, shard: ShardId) -> impl Iterator<Item = Slot> + '_ {
        self.owner
            .iter()
            .enumerate()
            .filter(move |(_, &o)| o as usize == shard.0)
            .map(|(s, _)| Slot(s as u16))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_range_is_shared_evenly() {
        let map = SlotMap::new(4);
        for shard in 0..4 {
            let owned = (1000..2000)
                .filter(|&s| map.shard_of_slot(Slot(s)) == ShardId(shard))
                .count();
            assert_eq!(owned, 250);
        }
        assert_eq!(map.slots_of(ShardId(1)).count(), SLOTS / 4);
    }

    #[test]
    fn one_shard_owns_everything() {
        let map = SlotMap::new(1);
        assert_eq!(map.shard_of_key(b"anything"), ShardId(0));
    }
}

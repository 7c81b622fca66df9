//! The shard side of a point-in-time snapshot (BGSAVE, SAVE, DEBUG RELOAD):
//! which slots of one database are already serialised, and the bytes of
//! slots serialised ahead of the walker. Owned by: each shard, one per `Db`
//! with a snapshot in progress. No files, no sockets: `persistence::snapshot`
//! walks the slots and writes the bytes out.
//!
//! Serialise-before-modify, slot by slot: when a snapshot begins, every
//! non-empty slot is pending. The walker serialises pending slots in order;
//! a write, delete or expiry that is about to touch a pending slot first
//! serialises that whole slot (`SlotSaver::save`) into `early`, so the file
//! gets every key as it was when the snapshot began. Keys created later land
//! in slots already saved, or in pending slots that are saved before the
//! write, so they never appear either.

use super::value::Entry;
use crate::cluster::slot::SLOTS;

const WORDS: usize = SLOTS / 64;

/// Owned by: the `Db` being saved.
pub struct SlotSaver {
    done: Box<[u64; WORDS]>,
    /// Serialised ahead of the walker (written before the walker's slots).
    pub early: Vec<u8>,
    /// Keys whose deadline had passed when the snapshot began are left out.
    pub began_ms: u64,
    compress: bool,
    /// Key and TTL counts when the snapshot began (RESIZEDB).
    pub keys: usize,
    pub expires: usize,
}

impl SlotSaver {
    /// A saver with every slot for which `empty(slot)` is false pending.
    pub fn new(
        empty: impl Fn(usize) -> bool,
        began_ms: u64,
        compress: bool,
        keys: usize,
        expires: usize,
    ) -> SlotSaver {
        let mut done = Box::new([0u64; WORDS]);
        for slot in 0..SLOTS {
            if empty(slot) {
                done[slot / 64] |= 1 << (slot % 64);
            }
        }
        SlotSaver {
            done,
            early: Vec::new(),
            began_ms,
            compress,
            keys,
            expires,
        }
    }

    #[inline]
    pub fn is_done(&self, slot: usize) -> bool {
        self.done
            .get(slot / 64)
            .is_none_or(|w| w & (1 << (slot % 64)) != 0)
    }

    /// Serialises `entries` (one slot's) into `out` and marks the slot done.
    pub fn save_into<'a>(
        &mut self,
        slot: usize,
        entries: impl Iterator<Item = (&'a [u8], &'a Entry)>,
        out: &mut Vec<u8>,
    ) -> usize {
        let mut n = 0;
        for (k, e) in entries {
            if e.expire_at != 0 && e.expire_at <= self.began_ms {
                continue;
            }
            crate::persistence::rdb::write_entry(out, k, e, self.compress);
            n += 1;
        }
        if let Some(w) = self.done.get_mut(slot / 64) {
            *w |= 1 << (slot % 64);
        }
        n
    }

    /// Serialises a pending slot ahead of a write to it, into `early`.
    pub fn save_early<'a>(
        &mut self,
        slot: usize,
        entries: impl Iterator<Item = (&'a [u8], &'a Entry)>,
    ) {
        let mut early = std::mem::take(&mut self.early);
        self.save_into(slot, entries, &mut early);
        self.early = early;
    }
}

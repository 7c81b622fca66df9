//! Key locks for cross-shard transactions. Owned by: each shard.
//!
//! A command whose keys span shards locks exactly those keys on every shard
//! involved — shared for reads, exclusive for writes — visiting shards in
//! ascending `ShardId` order, and on each shard taking all its keys at once.
//! Ordered acquisition means no deadlock and no global lock. Single-shard
//! commands on a locked key wait here too (as `Waiter`s), so nobody sees half
//! of a transaction. Waiters are served first in, first out per key.

use std::collections::{HashMap, HashSet, VecDeque};

use bytes::Bytes;

/// A locked key: database index and key.
pub type LockKey = (usize, Bytes);

/// Transaction id, unique per process (coordinator shard in the high bits).
pub type TxId = u64;

/// The database index of the one pseudo-key that stands for every key of
/// the shard: a snapshot's start takes it exclusively on every shard, so
/// the snapshot is one point in time for all of them (no transaction is
/// half in it).
const WHOLE_SHARD: usize = usize::MAX;

/// The lock on every key of the shard.
pub fn whole_shard() -> LockKey {
    (WHOLE_SHARD, Bytes::new())
}

fn is_whole(keys: &[LockKey]) -> bool {
    keys.iter().any(|k| k.0 == WHOLE_SHARD)
}

#[derive(Default, Debug)]
struct LockState {
    readers: u32,
    writer: bool,
}

/// Something waiting for keys: a lock request (`txid` set: the locks are taken
/// when it is released) or a plain command (`txid` none: it runs once no
/// transaction holds a conflicting lock).
pub struct Waiter<W> {
    pub keys: Vec<LockKey>,
    pub exclusive: bool,
    pub txid: Option<TxId>,
    pub payload: W,
}

/// Owned by: each shard.
pub struct LockTable<W> {
    keys: HashMap<LockKey, LockState, ahash::RandomState>,
    held: HashMap<TxId, (Vec<LockKey>, bool), ahash::RandomState>,
    waiters: VecDeque<Waiter<W>>,
}

impl<W> Default for LockTable<W> {
    fn default() -> Self {
        LockTable {
            keys: HashMap::default(),
            held: HashMap::default(),
            waiters: VecDeque::new(),
        }
    }
}

impl<W> LockTable<W> {
    /// No locks held and nobody waiting: the fast path for every command.
    pub fn is_idle(&self) -> bool {
        self.held.is_empty() && self.waiters.is_empty()
    }

    pub fn holds(&self, txid: TxId) -> bool {
        self.held.contains_key(&txid)
    }

    fn conflicts(&self, keys: &[LockKey], exclusive: bool) -> bool {
        if self.keys.contains_key(&whole_shard()) {
            return true;
        }
        if is_whole(keys) {
            return !self.keys.is_empty();
        }
        keys.iter().any(|k| match self.keys.get(k) {
            Some(s) => s.writer || (exclusive && s.readers > 0),
            None => false,
        })
    }

    /// True when `keys` can be used now: no conflicting lock and no earlier
    /// waiter on any of them (first come, first served).
    pub fn available(&self, keys: &[LockKey], exclusive: bool) -> bool {
        if self.is_idle() {
            return true;
        }
        if self.conflicts(keys, exclusive) {
            return false;
        }
        if is_whole(keys) {
            return self.waiters.is_empty();
        }
        !self
            .waiters
            .iter()
            .any(|w| is_whole(&w.keys) || w.keys.iter().any(|k| keys.contains(k)))
    }

    /// Takes the locks for `txid` (caller checked `available`).
    pub fn acquire(&mut self, txid: TxId, keys: Vec<LockKey>, exclusive: bool) {
        for k in &keys {
            let s = self.keys.entry(k.clone()).or_default();
            if exclusive {
                s.writer = true;
            } else {
                s.readers += 1;
            }
        }
        let entry = self
            .held
            .entry(txid)
            .or_insert_with(|| (Vec::new(), exclusive));
        entry.0.extend(keys);
        entry.1 |= exclusive;
    }

    pub fn wait(&mut self, waiter: Waiter<W>) {
        self.waiters.push_back(waiter);
    }

    /// Releases every lock of `txid`.
    pub fn release(&mut self, txid: TxId) {
        let Some((keys, exclusive)) = self.held.remove(&txid) else {
            return;
        };
        for k in keys {
            if let Some(s) = self.keys.get_mut(&k) {
                if exclusive {
                    s.writer = false;
                } else {
                    s.readers = s.readers.saturating_sub(1);
                }
                if !s.writer && s.readers == 0 {
                    self.keys.remove(&k);
                }
            }
        }
    }

    /// Removes and returns the waiters that can proceed now, in order; lock
    /// requests among them have been granted. A waiter never overtakes an
    /// earlier one that wants any of the same keys.
    pub fn take_ready(&mut self) -> Vec<W> {
        let mut ready = Vec::new();
        let mut blocked: HashSet<LockKey> = HashSet::new();
        // A whole-shard lock request waiting blocks everything behind it;
        // it waits behind anything blocked before it.
        let mut blocked_all = false;
        let mut keep = VecDeque::new();
        while let Some(w) = self.waiters.pop_front() {
            let whole = is_whole(&w.keys);
            let behind = blocked_all
                || (whole && !blocked.is_empty())
                || w.keys.iter().any(|k| blocked.contains(k));
            if behind || self.conflicts(&w.keys, w.exclusive) {
                blocked_all |= whole;
                blocked.extend(w.keys.iter().cloned());
                keep.push_back(w);
                continue;
            }
            if let Some(txid) = w.txid {
                self.acquire(txid, w.keys, w.exclusive);
            }
            ready.push(w.payload);
        }
        self.waiters = keep;
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> LockKey {
        (0, Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn shared_and_exclusive() {
        let mut t: LockTable<u32> = LockTable::default();
        assert!(t.is_idle());
        t.acquire(1, vec![k("a")], false);
        assert!(t.available(&[k("a")], false));
        assert!(!t.available(&[k("a")], true));
        t.acquire(2, vec![k("a")], false);
        t.release(1);
        assert!(!t.available(&[k("a")], true));
        t.release(2);
        assert!(t.available(&[k("a")], true));
        assert!(t.is_idle());
    }

    #[test]
    fn waiters_run_in_order_once_released() {
        let mut t: LockTable<u32> = LockTable::default();
        t.acquire(1, vec![k("a"), k("b")], true);
        t.wait(Waiter {
            keys: vec![k("a")],
            exclusive: false,
            txid: None,
            payload: 10,
        });
        t.wait(Waiter {
            keys: vec![k("a")],
            exclusive: true,
            txid: Some(2),
            payload: 11,
        });
        t.wait(Waiter {
            keys: vec![k("a")],
            exclusive: false,
            txid: None,
            payload: 12,
        });
        t.wait(Waiter {
            keys: vec![k("c")],
            exclusive: false,
            txid: None,
            payload: 13,
        });
        assert!(!t.available(&[k("a")], false));
        assert_eq!(t.take_ready(), vec![13]);
        t.release(1);
        // 10 runs, 11 takes the lock, 12 must wait behind 11.
        assert_eq!(t.take_ready(), vec![10, 11]);
        assert!(t.holds(2));
        assert_eq!(t.take_ready(), Vec::<u32>::new());
        t.release(2);
        assert_eq!(t.take_ready(), vec![12]);
        assert!(t.is_idle());
    }

    #[test]
    fn whole_shard_lock_waits_for_and_blocks_everyone() {
        let mut t: LockTable<u32> = LockTable::default();
        t.acquire(1, vec![k("a")], false);
        assert!(!t.available(&[whole_shard()], true));
        t.wait(Waiter {
            keys: vec![whole_shard()],
            exclusive: true,
            txid: Some(2),
            payload: 20,
        });
        // Nothing overtakes the waiting whole-shard request, even on other keys.
        assert!(!t.available(&[k("b")], false));
        t.wait(Waiter {
            keys: vec![k("b")],
            exclusive: false,
            txid: None,
            payload: 21,
        });
        assert_eq!(t.take_ready(), Vec::<u32>::new());
        t.release(1);
        assert_eq!(t.take_ready(), vec![20]);
        assert!(t.holds(2));
        assert!(!t.available(&[k("c")], false));
        t.release(2);
        assert_eq!(t.take_ready(), vec![21]);
        assert!(t.is_idle());
    }
}

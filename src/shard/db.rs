//! One logical database of one shard: keys grouped by hash slot, lazy expiry
//! on access, and a deadline index for the active expire cycle.
//! Owned by: each shard (never shared). No RESP, no sockets.
//!
//! Keys live in one hash map per slot, so the keys of a slot can be counted,
//! listed, scanned and (later) migrated in O(keys in slot), and no single huge
//! table ever rehashes in one go. A cross-shard transaction builds a small
//! "scratch" `Db` (one table) that records which keys its command wrote.

use std::collections::BTreeSet;

use ahash::RandomState;
use bytes::Bytes;
use hashbrown::hash_table::Entry as Slot;
use hashbrown::HashTable;

use super::snapshot::SlotSaver;
use super::types::MemberStep;
use super::value::{Entry, StrValue, Value};
use crate::cluster::slot::{key_hash_slot, SLOTS};
use crate::util::inline::InlineBytes;

/// One slot's keys. `HashTable` (not `HashMap`) so one probe can find an
/// entry, check its deadline and remove it or hand it out. Its buckets hold
/// pointers, not the nodes: a slot's table is a power of two of buckets and
/// often under half full, and 8 empty bytes cost far less than an empty
/// node (as Redis's dict buckets point at their dictEntry).
type Table = HashTable<Box<Node>>;

/// Keys `Db::prefetch` walks its passes over at a time: a pipeline's
/// look-ahead (`server::prefetch::BATCH`), so the first lines fetched are
/// still cached when the last pass comes.
const PREFETCH_WINDOW: usize = 32;

/// Prefetches every cache line of the `T` at `head` (a node spans two or
/// three lines, depending on where the allocator put it).
fn prefetch_lines<T>(head: *const u8) {
    for off in line_offsets(head as usize, std::mem::size_of::<T>()) {
        crate::util::prefetch_line(head.wrapping_add(off));
    }
}

/// Offsets from `addr` that fall on each 64-byte line of `[addr, addr +
/// len)`: 0, then the start of every later line.
fn line_offsets(addr: usize, len: usize) -> impl Iterator<Item = usize> {
    let first_line = addr & !63;
    let last_line = (addr + len.max(1) - 1) & !63;
    std::iter::once(0).chain(
        (first_line + 64..=last_line)
            .step_by(64)
            .map(move |l| l - addr),
    )
}

/// A key and its entry: 80 bytes, one allocator size class. The key's hash
/// is not kept: the table's tag byte already rules out all but about one
/// in 128 other keys, and growth, which rehashes, is rare.
struct Node {
    key: Key,
    entry: Entry,
}

const _: () = assert!(std::mem::size_of::<Node>() <= 80);

impl Node {
    #[inline]
    fn is(&self, key: &[u8]) -> bool {
        self.key.as_bytes() == key
    }

    #[inline]
    fn pair(&self) -> (&[u8], &Entry) {
        (self.key.as_bytes(), &self.entry)
    }
}

/// Longest key kept in its node (`Key::Inline`): what fits beside the
/// length and the tag in the 24 bytes a `Key` takes.
const INLINE_KEY: usize = 22;

/// A key as its node keeps it: a short one in the node itself (no
/// allocation of its own, and the compare of every lookup reads no other
/// line), a longer one in an exact-size allocation.
enum Key {
    Inline(InlineBytes<INLINE_KEY>),
    Heap(Box<[u8]>),
}

const _: () = assert!(std::mem::size_of::<Key>() <= 24);

impl Key {
    fn new(key: &[u8]) -> Key {
        match InlineBytes::new(key) {
            Some(k) => Key::Inline(k),
            None => Key::Heap(key.into()),
        }
    }

    #[inline]
    fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline(k) => k.as_bytes(),
            Key::Heap(b) => b,
        }
    }

    /// The key as `Bytes`, for the indexes that hold keys of their own
    /// (deadlines, logs) and for replies: a copy.
    fn to_bytes(&self) -> Bytes {
        Bytes::copy_from_slice(self.as_bytes())
    }
}

/// Hit/miss/expiry counters for INFO stats.
#[derive(Clone, Copy, Debug, Default)]
pub struct DbStats {
    pub hits: u64,
    pub misses: u64,
    pub expired: u64,
}

/// Owned by: each shard.
pub struct Db {
    s: Space,
    hits: u64,
    misses: u64,
}

/// The keys themselves; split from the hit/miss counters so a lookup can hand
/// out an entry and still count.
struct Space {
    hasher: RandomState,
    /// Empty until the first write; then `SLOTS` tables (or 1 for scratch).
    tables: Vec<Table>,
    scratch: bool,
    len: usize,
    /// (deadline ms, key) for every key with a TTL.
    deadlines: Deadlines,
    /// Keys written, when this is a scratch db of a transaction.
    written: Vec<Bytes>,
    expired: u64,
    /// WATCHed keys and how many times each was modified since it was
    /// first watched (the shard keeps who watches; see `Shard::watch`).
    watched: std::collections::HashMap<Bytes, u64, RandomState>,
    /// Keys expired since the shard last took them, for its replication
    /// stream (a DEL each).
    expired_log: Vec<Bytes>,
    /// A snapshot in progress: slots it still has to save before they change.
    snap: Option<Box<SlotSaver>>,
}

impl Default for Db {
    fn default() -> Self {
        Db::new()
    }
}

/// The deadline index, ordered for the active expire cycle, with the sum of
/// its deadlines so INFO's `avg_ttl` costs O(1) instead of a walk.
#[derive(Default)]
struct Deadlines {
    set: BTreeSet<(u64, Bytes)>,
    sum: u128,
}

impl Deadlines {
    fn insert(&mut self, item: (u64, Bytes)) {
        let at = item.0;
        if self.set.insert(item) {
            self.sum += u128::from(at);
        }
    }

    fn remove(&mut self, item: &(u64, Bytes)) {
        if self.set.remove(item) {
            self.sum -= u128::from(item.0);
        }
    }

    fn pop_first(&mut self) {
        if let Some((at, _)) = self.set.pop_first() {
            self.sum -= u128::from(at);
        }
    }

    fn first(&self) -> Option<&(u64, Bytes)> {
        self.set.first()
    }

    fn len(&self) -> usize {
        self.set.len()
    }

    fn clear(&mut self) {
        self.set.clear();
        self.sum = 0;
    }
}

fn is_expired(e: &Entry, now: u64) -> bool {
    e.expire_at != 0 && e.expire_at <= now
}

impl Space {
    /// The one probe behind every lookup: finds `key`, drops it if its
    /// deadline has passed (lazy expiry, as Redis's `expireIfNeeded`), and
    /// returns the live entry.
    fn live(&mut self, key: &[u8], now: u64) -> Option<&mut Entry> {
        let hash = self.hasher.hash_one(key);
        let idx = table_index(self.scratch, key);
        if self.snap.as_ref().is_some_and(|s| !s.is_done(idx)) {
            let expiring = self.tables.get(idx).and_then(|t| {
                t.find(hash, |n| n.is(key))
                    .map(|n| is_expired(&n.entry, now))
            });
            if expiring == Some(true) {
                self.guard(idx);
            }
        }
        let table = self.tables.get_mut(idx)?;
        let watched = &mut self.watched;
        match table.find_entry(hash, |n| n.is(key)) {
            Err(_) => None,
            Ok(occ) if is_expired(&occ.get().entry, now) => {
                let (node, _) = occ.remove();
                let Node { key, entry: e } = *node;
                let k = key.to_bytes();
                self.len -= 1;
                self.deadlines.remove(&(e.expire_at, k.clone()));
                self.expired += 1;
                if let Some(v) = watched.get_mut(&k) {
                    *v += 1;
                }
                if self.scratch {
                    self.written.push(k);
                } else {
                    self.expired_log.push(k);
                }
                None
            }
            Ok(occ) => Some(&mut occ.into_mut().entry),
        }
    }
}

impl Space {
    /// Before slot `idx` changes: a snapshot still waiting for that slot
    /// saves it first, as it was.
    #[inline]
    fn guard(&mut self, idx: usize) {
        if let Some(s) = self.snap.as_deref_mut() {
            if !s.is_done(idx) {
                let entries = self.tables.get(idx).into_iter().flat_map(|t| t.iter());
                s.save_early(idx, entries.map(|n| n.pair()));
            }
        }
    }

    /// Guards every slot (before FLUSHDB, FLUSHALL, SWAPDB).
    fn guard_all(&mut self) {
        if self.snap.is_some() {
            for idx in 0..self.tables.len() {
                self.guard(idx);
            }
        }
    }

    /// Guards the slot of `key` when a snapshot is in progress.
    #[inline]
    fn guard_key(&mut self, key: &[u8]) {
        if self.snap.is_some() {
            self.guard(table_index(self.scratch, key));
        }
    }

    /// Counts a modification of `key` if someone WATCHes it (Redis's
    /// `touchWatchedKey`); free when nothing is watched.
    fn touch(&mut self, key: &[u8]) {
        if !self.watched.is_empty() {
            if let Some(v) = self.watched.get_mut(key) {
                *v += 1;
            }
        }
    }
}

fn table_index(scratch: bool, key: &[u8]) -> usize {
    if scratch {
        0
    } else {
        key_hash_slot(key).index()
    }
}

/// One key for `Db::prefetch`: its slot, the key, and the member or field
/// the command looks up in it, if any.
pub type Prefetch<'a> = (usize, &'a [u8], Option<&'a [u8]>);

impl Db {
    pub fn new() -> Db {
        Db {
            s: Space {
                hasher: RandomState::new(),
                tables: Vec::new(),
                scratch: false,
                len: 0,
                deadlines: Deadlines::default(),
                written: Vec::new(),
                expired: 0,
                watched: Default::default(),
                expired_log: Vec::new(),
                snap: None,
            },
            hits: 0,
            misses: 0,
        }
    }

    /// A db for running one command of a cross-shard transaction on copies of
    /// its keys; it records every key written (see `take_written`).
    pub fn scratch() -> Db {
        let mut db = Db::new();
        db.s.scratch = true;
        db
    }

    fn table_index(&self, key: &[u8]) -> usize {
        table_index(self.s.scratch, key)
    }

    fn ensure_tables(&mut self) {
        if self.s.tables.is_empty() {
            let n = if self.s.scratch { 1 } else { SLOTS };
            self.s.tables = (0..n).map(|_| Table::new()).collect();
        }
    }

    pub fn len(&self) -> usize {
        self.s.len
    }

    pub fn is_empty(&self) -> bool {
        self.s.len == 0
    }

    pub fn expires_len(&self) -> usize {
        self.s.deadlines.len()
    }

    fn note_written(&mut self, key: &[u8]) {
        self.s.touch(key);
        if self.s.scratch {
            self.s.written.push(Bytes::copy_from_slice(key));
        }
    }

    /// Keys a scratch db's command wrote, deduplicated, in first-write order.
    pub fn take_written(&mut self) -> Vec<Bytes> {
        let mut seen = std::collections::HashSet::new();
        std::mem::take(&mut self.s.written)
            .into_iter()
            .filter(|k| seen.insert(k.clone()))
            .collect()
    }

    /// Looks a key up for reading (Redis's `lookupKeyRead`): lazy expiry,
    /// hit/miss counting and LRU touch.
    pub fn get(&mut self, key: &[u8], now: u64) -> Option<&Entry> {
        let lru = lru_clock(now);
        match self.s.live(key, now) {
            Some(e) => {
                e.lru = lru;
                self.hits += 1;
                Some(e)
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    pub fn stats(&self) -> DbStats {
        DbStats {
            hits: self.hits,
            misses: self.misses,
            expired: self.s.expired,
        }
    }

    /// Looks a key up without touching stats or LRU (`LOOKUP_NOTOUCH`), still
    /// expiring it lazily.
    pub fn peek(&mut self, key: &[u8], now: u64) -> Option<&Entry> {
        self.s.live(key, now).map(|e| &*e)
    }

    /// Looks a key up for writing (`lookupKeyWrite`); the caller modifies the
    /// value in place (the deadline only through `set_expire`).
    pub fn get_mut(&mut self, key: &[u8], now: u64) -> Option<&mut Entry> {
        if self.s.scratch && self.peek(key, now).is_some() {
            self.s.written.push(Bytes::copy_from_slice(key));
        }
        self.s.guard_key(key);
        let lru = lru_clock(now);
        self.s.live(key, now)?;
        self.s.touch(key);
        let e = self.s.live(key, now)?;
        e.lru = lru;
        Some(e)
    }

    pub fn contains(&mut self, key: &[u8], now: u64) -> bool {
        self.peek(key, now).is_some()
    }

    /// Sets `key` to `value` with deadline `expire_at` (0 = none), replacing any
    /// previous value and TTL. Returns the old live entry. The key is copied
    /// only when it is new (never pinning a request buffer).
    pub fn insert(&mut self, key: &[u8], value: Value, expire_at: u64, now: u64) -> Option<Entry> {
        let entry = Entry {
            value,
            expire_at,
            lru: lru_clock(now),
        };
        self.put(key, entry, now)
    }

    /// Stores a whole entry under `key` (transaction write-back,
    /// RENAME), replacing any previous one. Returns the old live entry.
    pub fn put_entry(&mut self, key: Bytes, entry: Entry, now: u64) -> Option<Entry> {
        self.put(&key, entry, now)
    }

    /// Brings what the coming lookups of `keys` (each with its slot, and the
    /// member or field the command looks up in it, if any) will touch into
    /// the CPU caches: the slot's table header, the probed control bytes and
    /// bucket, the node (stored key and entry), and a string's bytes or, for
    /// a set or a hash, the member's lines in its table (looked up and
    /// forgotten). In passes, one level of the chain per pass, so the loads
    /// of different keys overlap instead of each lookup waiting out its own
    /// chain of misses (the pipelined case, where the keys of a whole batch
    /// are known up front): table headers; then the candidate nodes of each
    /// probe (their addresses are in the buckets, so the nodes are not read
    /// yet); then the real lookups and what they lead to, a string's bytes
    /// or, level by level, a set's or hash's member (`MemberStep`). Changes
    /// nothing: no expiry, no hit/miss count, no snapshot guard.
    pub fn prefetch(&self, keys: &[Prefetch<'_>]) {
        if self.s.scratch || self.s.tables.is_empty() {
            return;
        }
        // A window at a time, each key hashed once for all the passes.
        for window in keys.chunks(PREFETCH_WINDOW) {
            let mut hashes = [0u64; PREFETCH_WINDOW];
            for (h, &(slot, key, _)) in hashes.iter_mut().zip(window) {
                *h = self.s.hasher.hash_one(key);
                if let Some(t) = self.s.tables.get(slot) {
                    crate::util::prefetch_line(std::ptr::from_ref(t).cast());
                }
            }
            self.prefetch_window(window, &hashes);
        }
    }

    /// `prefetch`'s passes after the table headers, for one window.
    fn prefetch_window(&self, keys: &[Prefetch<'_>], hashes: &[u64]) {
        for (&(slot, _, _), &hash) in keys.iter().zip(hashes) {
            let Some(t) = self.s.tables.get(slot) else {
                continue;
            };
            // Every node whose tag matches (nearly always just the one),
            // without comparing keys: that would wait for the node.
            let _ = t.find(hash, |n| {
                prefetch_lines::<Node>(std::ptr::from_ref::<Node>(n).cast());
                false
            });
        }
        let mut members = false;
        self.each_node(keys, hashes, |value, member| match (value, member) {
            (Value::Str(StrValue::Raw(b)), _) => crate::util::prefetch_line(b.as_ptr()),
            (Value::Set(s), Some(m)) => {
                s.prefetch(m, MemberStep::Table);
                members = true;
            }
            (Value::Hash(h), Some(m)) => {
                h.prefetch(m, MemberStep::Table);
                members = true;
            }
            _ => {}
        });
        if !members {
            return;
        }
        for step in [MemberStep::Entries, MemberStep::Bytes] {
            self.each_node(keys, hashes, |value, member| match (value, member) {
                (Value::Set(s), Some(m)) => s.prefetch(m, step),
                (Value::Hash(h), Some(m)) => h.prefetch(m, step),
                _ => {}
            });
        }
    }

    /// Calls `f` with the value and member of each of `keys` (with its
    /// hash) that exists, expired or not: a prefetch only reads.
    fn each_node(
        &self,
        keys: &[Prefetch<'_>],
        hashes: &[u64],
        mut f: impl FnMut(&Value, Option<&[u8]>),
    ) {
        for (&(slot, key, member), &hash) in keys.iter().zip(hashes) {
            let Some(t) = self.s.tables.get(slot) else {
                continue;
            };
            if let Some(node) = t.find(hash, |n| n.is(key)) {
                f(&node.entry.value, member);
            }
        }
    }

    /// One probe: replace the entry in place, or add a copy of the key.
    fn put(&mut self, key: &[u8], entry: Entry, now: u64) -> Option<Entry> {
        self.note_written(key);
        self.ensure_tables();
        let hash = self.s.hasher.hash_one(key);
        let idx = self.table_index(key);
        self.s.guard(idx);
        let (table, hasher) = (&mut self.s.tables[idx], &self.s.hasher);
        let new_deadline = entry.expire_at;
        let rehash = |n: &Node| hasher.hash_one(n.key.as_bytes());
        let (old, stored) = match table.entry(hash, |n| n.is(key), |n| rehash(n)) {
            Slot::Occupied(mut occ) => {
                let node = occ.get_mut();
                let old = std::mem::replace(&mut node.entry, entry);
                let k = (new_deadline != 0 || old.expire_at != 0).then(|| node.key.to_bytes());
                (Some(old), k)
            }
            Slot::Vacant(vac) => {
                let k = Key::new(key);
                let stored = (new_deadline != 0).then(|| k.to_bytes());
                vac.insert(Box::new(Node { key: k, entry }));
                (None, stored)
            }
        };
        if let Some(k) = &stored {
            if let Some(o) = &old {
                if o.expire_at != 0 && o.expire_at != new_deadline {
                    self.s.deadlines.remove(&(o.expire_at, k.clone()));
                }
            }
            if new_deadline != 0 {
                self.s.deadlines.insert((new_deadline, k.clone()));
            }
        }
        match old {
            Some(o) => (!is_expired(&o, now)).then_some(o),
            None => {
                self.s.len += 1;
                None
            }
        }
    }

    /// Replaces the value, keeping the TTL (SET KEEPTTL and friends).
    pub fn set_keep_ttl(&mut self, key: &[u8], value: Value, now: u64) {
        let ttl = self.peek(key, now).map(|e| e.expire_at).unwrap_or(0);
        self.insert(key, value, ttl, now);
    }

    pub fn remove(&mut self, key: &[u8], now: u64) -> Option<Entry> {
        self.s.guard_key(key);
        self.s.live(key, now)?;
        let hash = self.s.hasher.hash_one(key);
        let idx = self.table_index(key);
        let table = self.s.tables.get_mut(idx)?;
        let occ = table.find_entry(hash, |n| n.is(key)).ok()?;
        let (node, _) = occ.remove();
        let Node { key: k, entry: e } = *node;
        self.s.len -= 1;
        // A copy of the key only for the indexes that keep one.
        if e.expire_at != 0 {
            self.s.deadlines.remove(&(e.expire_at, k.to_bytes()));
        }
        self.s.touch(k.as_bytes());
        if self.s.scratch {
            self.s.written.push(k.to_bytes());
        }
        Some(e)
    }

    /// Sets the absolute deadline of an existing key (0 removes the TTL).
    /// Returns false when the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], expire_at: u64, now: u64) -> bool {
        self.s.guard_key(key);
        let Some(e) = self.s.live(key, now) else {
            return false;
        };
        let old = std::mem::replace(&mut e.expire_at, expire_at);
        let k = Bytes::copy_from_slice(key);
        if old != 0 {
            self.s.deadlines.remove(&(old, k.clone()));
        }
        if expire_at != 0 {
            self.s.deadlines.insert((expire_at, k));
        }
        self.note_written(key);
        true
    }

    /// Active expiry (Redis's `activeExpireCycle`, but exact: deadlines are
    /// kept in order). Removes at most `budget` expired keys; returns how many.
    pub fn expire_cycle(&mut self, now: u64, budget: usize) -> usize {
        let mut done = 0;
        while done < budget {
            match self.s.deadlines.first() {
                Some((deadline, key)) if *deadline <= now => {
                    let key = key.clone();
                    // `live` sees the deadline passed and removes key and index entry.
                    if self.s.live(&key, now).is_some() {
                        // Deadline index out of step with the entry: drop the stale pair.
                        self.s.deadlines.pop_first();
                    }
                    done += 1;
                }
                _ => break,
            }
        }
        done
    }

    /// Calls `f` on every live entry (DEBUG DIGEST).
    pub fn for_each(&self, now: u64, mut f: impl FnMut(&[u8], &Entry)) {
        for t in &self.s.tables {
            for (k, e) in t.iter().map(|n| n.pair()) {
                if !is_expired(e, now) {
                    f(k, e);
                }
            }
        }
    }

    /// Every live key (KEYS), filtered by `keep`.
    pub fn keys(&self, now: u64, mut keep: impl FnMut(&[u8], &Entry) -> bool) -> Vec<Bytes> {
        let mut out = Vec::new();
        for n in self.s.tables.iter().flat_map(|t| t.iter()) {
            if !is_expired(&n.entry, now) && keep(n.key.as_bytes(), &n.entry) {
                out.push(n.key.to_bytes());
            }
        }
        out
    }

    /// Live keys of one slot, filtered by `keep` (SCAN walks slot by slot).
    pub fn slot_keys(
        &self,
        slot: usize,
        now: u64,
        mut keep: impl FnMut(&[u8], &Entry) -> bool,
    ) -> Vec<Bytes> {
        let Some(t) = self.s.tables.get(slot) else {
            return Vec::new();
        };
        t.iter()
            .filter(|n| !is_expired(&n.entry, now) && keep(n.key.as_bytes(), &n.entry))
            .map(|n| n.key.to_bytes())
            .collect()
    }

    pub fn slot_len(&self, slot: usize) -> usize {
        self.s.tables.get(slot).map_or(0, |t| t.len())
    }

    /// A random live key (RANDOMKEY); `seed` picks the starting slot.
    pub fn random_key(&mut self, seed: u64, now: u64) -> Option<Bytes> {
        if self.s.len == 0 || self.s.tables.is_empty() {
            return None;
        }
        let n = self.s.tables.len();
        for attempt in 0..n {
            let i = (seed as usize).wrapping_add(attempt) % n;
            let candidate = match self.s.tables.get(i) {
                Some(t) if !t.is_empty() => {
                    let pick = (seed >> 16) as usize % t.len();
                    t.iter().nth(pick).map(|n| n.key.to_bytes())
                }
                _ => None,
            };
            if let Some(k) = candidate {
                if self.peek(&k, now).is_some() {
                    return Some(k);
                }
            }
        }
        None
    }

    /// Removes every key; returns how many there were. Watched keys that
    /// existed count as modified (`touchAllWatchedKeysInDb`).
    pub fn clear(&mut self) -> usize {
        // Time 0: every stored key counts, expired or not.
        self.touch_existing_watched(0);
        self.s.guard_all();
        let n = self.s.len;
        self.s.tables = Vec::new();
        self.s.deadlines.clear();
        self.s.len = 0;
        n
    }

    /// Replaces every key with those of `new` (a replica's full sync, parsed
    /// aside): as FLUSHDB then the new keys, for WATCH and a snapshot in
    /// progress alike; returns the keys dropped. The old keys are freed here.
    pub fn replace_with(&mut self, new: Db) -> usize {
        let n = self.clear();
        let Space {
            hasher,
            tables,
            len,
            deadlines,
            ..
        } = new.s;
        self.s.hasher = hasher;
        self.s.tables = tables;
        self.s.len = len;
        self.s.deadlines = deadlines;
        self.touch_existing_watched(0);
        n
    }

    /// The keys expired (lazily or actively) since the last call.
    pub fn take_expired(&mut self) -> Vec<Bytes> {
        if self.s.expired_log.is_empty() {
            return Vec::new();
        }
        std::mem::take(&mut self.s.expired_log)
    }

    /// Starts counting modifications of `key` (first watcher) and returns
    /// the count so far, and whether the key exists now.
    pub fn watch(&mut self, key: &Bytes, now: u64) -> (u64, bool) {
        let live = self.peek(key, now).is_some();
        (*self.s.watched.entry(key.clone()).or_insert(0), live)
    }

    /// Stops counting (last watcher gone).
    pub fn unwatch(&mut self, key: &[u8]) {
        self.s.watched.remove(key);
    }

    /// Modifications of a watched key so far.
    pub fn watch_count(&self, key: &[u8]) -> Option<u64> {
        self.s.watched.get(key).copied()
    }

    /// Counts a modification of every watched key that exists (live at
    /// `now`), for FLUSHDB / FLUSHALL / SWAPDB.
    pub fn touch_existing_watched(&mut self, now: u64) {
        if self.s.watched.is_empty() {
            return;
        }
        let keys: Vec<Bytes> = self.s.watched.keys().cloned().collect();
        for k in keys {
            if self.peek(&k, now).is_some() {
                self.s.touch(&k);
            }
        }
    }

    /// Swaps the watched-key counters of two dbs back after SWAPDB swapped
    /// their contents: watchers watch a db index, not its data.
    pub fn swap_watched(a: &mut Db, b: &mut Db) {
        std::mem::swap(&mut a.s.watched, &mut b.s.watched);
    }

    /// Starts a point-in-time snapshot of this db (`shard::snapshot`).
    /// Returns false, and starts nothing, when the db is empty.
    pub fn snapshot_begin(&mut self, now: u64, compress: bool) -> bool {
        if self.s.len == 0 {
            self.s.snap = None;
            return false;
        }
        let tables = &self.s.tables;
        self.s.snap = Some(Box::new(SlotSaver::new(
            |slot| tables.get(slot).is_none_or(|t| t.is_empty()),
            now,
            compress,
            self.s.len,
            self.s.deadlines.len(),
        )));
        true
    }

    /// Key and TTL counts when the snapshot began, if one is in progress.
    pub fn snapshot_counts(&self) -> Option<(usize, usize)> {
        self.s.snap.as_ref().map(|s| (s.keys, s.expires))
    }

    /// Saves pending slots from `from` on into `out` until `max` bytes were
    /// added; returns the next slot to look at (`SLOTS`: all done) and the
    /// number of keys saved.
    pub fn snapshot_step(&mut self, from: usize, out: &mut Vec<u8>, max: usize) -> (usize, usize) {
        let Some(snap) = self.s.snap.as_deref_mut() else {
            return (SLOTS, 0);
        };
        let mut keys = 0;
        let mut slot = from;
        let start = out.len();
        while slot < SLOTS && out.len() - start < max {
            if !snap.is_done(slot) {
                let entries = self.s.tables.get(slot).into_iter().flat_map(|t| t.iter());
                keys += snap.save_into(slot, entries.map(|n| n.pair()), out);
            }
            slot += 1;
        }
        (slot, keys)
    }

    /// The bytes saved ahead of the walker since the last call.
    pub fn snapshot_take_early(&mut self) -> Vec<u8> {
        self.s
            .snap
            .as_deref_mut()
            .map(|s| std::mem::take(&mut s.early))
            .unwrap_or_default()
    }

    /// Ends (or abandons) the snapshot.
    pub fn snapshot_end(&mut self) {
        self.s.snap = None;
    }

    /// SWAPDB during a snapshot: both dbs save everything first, then the
    /// snapshots stay with their index while the data swaps.
    pub fn snapshot_before_swap(a: &mut Db, b: &mut Db) {
        a.s.guard_all();
        b.s.guard_all();
        std::mem::swap(&mut a.s.snap, &mut b.s.snap);
    }

    /// Approximate bytes used, for INFO memory: the mean size of up to
    /// `SAMPLE` entries times the number of keys, so INFO never walks the
    /// whole keyspace on the shard's thread. COMPAT: Redis reports the
    /// allocator's exact figure.
    pub fn approx_memory(&self) -> usize {
        const SAMPLE: usize = 1024;
        let (mut seen, mut bytes) = (0usize, 0usize);
        for (k, e) in self
            .s
            .tables
            .iter()
            .flat_map(|t| t.iter())
            .take(SAMPLE)
            .map(|n| n.pair())
        {
            seen += 1;
            bytes += k.len() + e.value.approx_size() + 56;
        }
        match seen {
            0 => 0,
            n => bytes / n * self.s.len,
        }
    }

    /// Average remaining TTL (ms) of keys with a deadline, for INFO keyspace.
    pub fn avg_ttl(&self, now: u64) -> u64 {
        let n = self.s.deadlines.len() as u128;
        if n == 0 {
            return 0;
        }
        let mean = self.s.deadlines.sum / n;
        mean.saturating_sub(u128::from(now)) as u64
    }
}

/// Redis's LRU clock: seconds, wrapping at 24 bits.
pub fn lru_clock(now_ms: u64) -> u32 {
    ((now_ms / 1000) & 0xFF_FFFF) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::value::StrValue;

    fn s(v: &str) -> Value {
        Value::Str(StrValue::from_bytes(v.as_bytes()))
    }

    #[test]
    fn insert_get_remove() {
        let mut db = Db::new();
        assert!(db.insert(b"a", s("1"), 0, 1000).is_none());
        assert_eq!(db.len(), 1);
        assert!(db.get(b"a", 1000).is_some());
        assert!(db.remove(b"a", 1000).is_some());
        assert!(db.is_empty());
        assert_eq!(db.stats().hits, 1);
    }

    #[test]
    fn line_offsets_cover_each_line_once() {
        let offs = |a, l| line_offsets(a, l).collect::<Vec<_>>();
        assert_eq!(offs(0x1000, 80), vec![0, 64]);
        assert_eq!(offs(0x1000 + 60, 80), vec![0, 4, 68]);
        assert_eq!(offs(0x1000 + 48, 16), vec![0]);
        assert_eq!(offs(0x1000 + 48, 17), vec![0, 16]);
        assert_eq!(offs(0x1000, 1), vec![0]);
    }

    #[test]
    fn prefetches_change_nothing() {
        let mut db = Db::new();
        let mut set = crate::shard::types::set::Set::new_intset();
        let members: Vec<Vec<u8>> = (0..300).map(|i| format!("m{i}").into_bytes()).collect();
        for m in &members {
            set.add(m, 512);
        }
        let pairs = members
            .iter()
            .map(|m| (Bytes::from(m.clone()), Bytes::from_static(b"v")))
            .collect();
        db.insert(b"s", Value::Set(set), 0, 1000);
        db.insert(
            b"h",
            Value::Hash(crate::shard::types::hash::Hash::from_pairs(pairs, false)),
            0,
            1000,
        );
        db.insert(b"str", s("1"), 0, 1000);
        let slot = |k: &[u8]| key_hash_slot(k).index();
        let keys: Vec<Prefetch> = [b"s".as_slice(), b"h", b"str", b"none"]
            .into_iter()
            .flat_map(|k| [None, Some(b"m7".as_slice()), Some(b"absent")].map(|m| (slot(k), k, m)))
            .collect();
        db.prefetch(&keys);
        assert_eq!(db.len(), 3);
        assert_eq!((db.stats().hits, db.stats().misses), (0, 0));
        let Some(Entry {
            value: Value::Set(set),
            ..
        }) = db.get(b"s", 1000)
        else {
            panic!("set gone");
        };
        assert_eq!(set.len(), 300);
    }

    #[test]
    fn lazy_and_active_expiry() {
        let mut db = Db::new();
        db.insert(b"a", s("1"), 2000, 1000);
        db.insert(b"b", s("1"), 3000, 1000);
        assert_eq!(db.expires_len(), 2);
        assert!(db.get(b"a", 2000).is_none());
        assert_eq!(db.len(), 1);
        assert_eq!(db.expire_cycle(2999, 10), 0);
        assert_eq!(db.expire_cycle(3000, 10), 1);
        assert!(db.is_empty());
        assert_eq!(db.expires_len(), 0);
        assert_eq!(db.stats().expired, 2);
    }

    #[test]
    fn avg_ttl_follows_the_deadline_index() {
        let mut db = Db::new();
        db.insert(b"a", s("1"), 3000, 1000);
        db.insert(b"b", s("1"), 5000, 1000);
        assert_eq!(db.avg_ttl(1000), 3000);
        db.set_expire(b"b", 0, 1000);
        assert_eq!(db.avg_ttl(1000), 2000);
        db.remove(b"a", 1000);
        assert_eq!(db.avg_ttl(1000), 0);
        assert!(db.approx_memory() > 0);
    }

    #[test]
    fn overwrite_clears_old_deadline() {
        let mut db = Db::new();
        db.insert(b"a", s("1"), 5000, 1000);
        db.insert(b"a", s("2"), 0, 1000);
        assert_eq!(db.expires_len(), 0);
        assert_eq!(db.expire_cycle(9000, 10), 0);
        assert_eq!(db.len(), 1);
    }

    #[test]
    fn scratch_records_writes() {
        let mut db = Db::scratch();
        db.insert(b"a", s("1"), 0, 0);
        db.insert(b"a", s("2"), 0, 0);
        db.remove(b"a", 0);
        db.insert(b"b", s("2"), 0, 0);
        assert_eq!(db.take_written(), vec![Bytes::from("a"), Bytes::from("b")]);
    }
}

//! The hash value (Redis's `t_hash.c` data side): a map of field → value
//! byte strings in one of Redis 7.0's two encodings, plus the random and
//! scan walks HRANDFIELD / HSCAN need. Pure data type, no RESP, no
//! keyspace: key lookup, type checks, empty-key deletion and replies stay
//! with `commands/hash.rs`. Owned by: the shard whose keyspace holds the
//! value. Every operation is total: no panics on any input.
//!
//! Encodings, as Redis 7.0 (`hashTypeTryConversion`, `hashTypeSet`):
//! - `listpack`: fields and values alternating in insertion order in one
//!   `Packed` buffer, searched linearly (Redis scans its listpack the same
//!   way), so HGETALL and friends answer in Redis's order for small hashes.
//! - `hashtable`: the pairs in a `Vec` indexed by a `hashbrown::HashTable`
//!   of positions (an index map), so lookups are O(1) and HRANDFIELD can
//!   pick an entry by position in O(1). Removal swaps the last pair into the
//!   hole, so this order is arbitrary, as a Redis dict's is.
//!
//! A hash starts as a listpack and converts once, never back: when a field
//! or value longer than `hash-max-listpack-value` is about to be set, or
//! when the count goes past `hash-max-listpack-entries`.
//!
//! Fields and values are always copied out of request buffers, so a stored
//! hash never pins a network read buffer; reads hand out slices.

use bytes::Bytes;

use crate::util::rng::Rng;
use hashbrown::HashTable;

use super::packed::{self, Packed};
use super::scan::scan_step;
use super::Encodings;
use crate::persistence::rdb::listpack::entry_size as listpack_entry_size;
use crate::shard::value::memory;

/// Listpack header (total bytes + count) and end marker (`LP_HDR_SIZE`, `LP_EOF`).
const LP_HEADER: usize = 6;
const LP_END: usize = 1;
/// `LISTPACK_MAX_SAFETY_SIZE`: `lpSafeToAdd` refuses to grow a listpack past 1 GiB.
const LP_SAFETY_SIZE: usize = 1 << 30;
/// `DICT_HT_INITIAL_SIZE`.
const DICT_MIN_SLOTS: usize = 4;

/// A map of field → value byte strings. Never empty while stored in a key
/// (the commands delete the key with its last field).
#[derive(Clone, Debug)]
pub struct Hash {
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    /// Fields and values alternate, pairs in insertion order.
    Listpack(Packed),
    Table(Box<Table>),
}

/// The `hashtable` encoding: pairs plus an index of their positions.
/// Invariant: `index` holds exactly the positions `0..pairs.len()`, each
/// under the hash of its field.
#[derive(Clone, Debug)]
struct Table {
    pairs: Vec<(Bytes, Bytes)>,
    index: HashTable<usize>,
    hasher: ahash::RandomState,
}

impl Table {
    fn with_capacity(n: usize) -> Table {
        Table {
            pairs: Vec::with_capacity(n),
            index: HashTable::with_capacity(n),
            hasher: ahash::RandomState::new(),
        }
    }

    fn hash(&self, field: &[u8]) -> u64 {
        self.hasher.hash_one(field)
    }

    fn position(&self, field: &[u8]) -> Option<usize> {
        let pairs = &self.pairs;
        self.index
            .find(self.hash(field), |&i| {
                pairs.get(i).is_some_and(|(f, _)| f.as_ref() == field)
            })
            .copied()
    }

    /// Adds a pair whose field is not present yet.
    fn push(&mut self, field: Bytes, value: Bytes) {
        let h = self.hash(&field);
        let i = self.pairs.len();
        self.pairs.push((field, value));
        let Table {
            pairs,
            index,
            hasher,
        } = self;
        index.insert_unique(h, i, |&j| {
            pairs.get(j).map_or(0, |(f, _)| hasher.hash_one(f.as_ref()))
        });
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        let h = self.hash(field);
        let Table { pairs, index, .. } = self;
        let Ok(entry) = index.find_entry(h, |&i| {
            pairs.get(i).is_some_and(|(f, _)| f.as_ref() == field)
        }) else {
            return false;
        };
        let (i, _) = entry.remove();
        let last = self.pairs.len().saturating_sub(1);
        self.pairs.swap_remove(i);
        if i != last {
            // The former last pair now lives at `i`: repoint its index slot.
            if let Some((moved, _)) = self.pairs.get(i) {
                let mh = self.hasher.hash_one(moved.as_ref());
                if let Some(slot) = self.index.find_mut(mh, |&j| j == last) {
                    *slot = i;
                }
            }
        }
        true
    }
}

/// The offsets of `field`'s entry and of its value's in a listpack.
fn lp_find(p: &Packed, field: &[u8]) -> Option<(usize, usize)> {
    let mut it = p.entries();
    while let Some((foff, f)) = it.next() {
        let (voff, _) = it.next()?;
        if f == field {
            return Some((foff, voff));
        }
    }
    None
}

/// The listpack size Redis would allocate for these entries (header,
/// entries, end marker).
fn lp_bytes(p: &Packed) -> usize {
    LP_HEADER + p.iter().map(listpack_entry_size).sum::<usize>() + LP_END
}

/// The (field, value) pairs of a hash, in the encoding's order.
pub enum Pairs<'a> {
    Packed(packed::Iter<'a>),
    Table(std::slice::Iter<'a, (Bytes, Bytes)>),
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<(&'a [u8], &'a [u8])> {
        match self {
            Pairs::Packed(it) => {
                let f = it.next()?;
                Some((f, it.next()?))
            }
            Pairs::Table(it) => it.next().map(|(f, v)| (f.as_ref(), v.as_ref())),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match self {
            Pairs::Packed(it) => it.len() / 2,
            Pairs::Table(it) => it.len(),
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for Pairs<'_> {}

fn owned((f, v): (&[u8], &[u8])) -> (Bytes, Bytes) {
    (Bytes::copy_from_slice(f), Bytes::copy_from_slice(v))
}

impl Default for Hash {
    fn default() -> Hash {
        Hash::new()
    }
}

/// Equal when they hold the same pairs, whatever the order or encoding.
impl PartialEq for Hash {
    fn eq(&self, other: &Hash) -> bool {
        self.len() == other.len() && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

impl Hash {
    /// An empty hash in the `listpack` encoding (`createHashObject`).
    pub fn new() -> Hash {
        Hash {
            repr: Repr::Listpack(Packed::new()),
        }
    }

    /// A hash of these pairs (distinct fields) in the encoding given, as an
    /// RDB or RESTORE load builds it (the caller applies Redis's rule).
    pub fn from_pairs(pairs: Vec<(Bytes, Bytes)>, listpack: bool) -> Hash {
        if listpack {
            let entries = pairs.iter().flat_map(|(f, v)| [f.as_ref(), v.as_ref()]);
            return Hash {
                repr: Repr::Listpack(Packed::from_entries(entries)),
            };
        }
        let mut t = Table::with_capacity(pairs.len());
        for (f, v) in pairs {
            t.push(f, v);
        }
        Hash {
            repr: Repr::Table(Box::new(t)),
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(p) => p.len() / 2,
            Repr::Table(t) => t.pairs.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every (field, value) pair, in the encoding's order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &[u8])) {
        for (k, v) in self.iter() {
            f(k, v);
        }
    }

    /// The pairs in the encoding's order: insertion order for a listpack
    /// (what HGETALL / HKEYS / HVALS answer), arbitrary for a hashtable.
    pub fn iter(&self) -> Pairs<'_> {
        match &self.repr {
            Repr::Listpack(p) => Pairs::Packed(p.iter()),
            Repr::Table(t) => Pairs::Table(t.pairs.iter()),
        }
    }

    /// Brings one level of `field`'s lookup into the caches before a
    /// pipelined command needs it (`Db::prefetch`): a listpack's first
    /// line, or a level of a hashtable's lookup.
    pub fn prefetch(&self, field: &[u8], step: super::MemberStep) {
        match &self.repr {
            Repr::Listpack(p) if step == super::MemberStep::Table => {
                crate::util::prefetch_line(p.as_ptr());
            }
            Repr::Listpack(_) => {}
            Repr::Table(t) => {
                let table = std::ptr::from_ref::<Table>(t).cast();
                let hash = t.hash(field);
                super::prefetch_probe(table, &t.index, hash, &t.pairs, step, |(f, _)| f);
            }
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Listpack(_) => self.iter().find(|&(f, _)| f == field).map(|(_, v)| v),
            Repr::Table(t) => t
                .position(field)
                .and_then(|i| t.pairs.get(i))
                .map(|(_, v)| v.as_ref()),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Redis's `hashTypeTryConversion` over the arguments a command is about
    /// to store (HSET / HMSET / HSETNX): any of them longer than
    /// `hash-max-listpack-value`, or a total that would take the listpack
    /// past 1 GiB (`lpSafeToAdd`), converts to a hashtable up front.
    pub fn try_conversion(&mut self, args: &[Bytes], enc: &Encodings) {
        let Repr::Listpack(p) = &self.repr else {
            return;
        };
        let mut sum = 0usize;
        for a in args {
            if a.len() > enc.hash_max_listpack_value {
                self.convert();
                return;
            }
            sum = sum.saturating_add(a.len());
        }
        // A listpack entry takes at most 10 bytes more than its string
        // (and at least one more here), so only a big one needs the walk.
        let bound = p.encoded_len() + 10 * p.len() + LP_HEADER + LP_END;
        if bound.saturating_add(sum) > LP_SAFETY_SIZE
            && lp_bytes(p).saturating_add(sum) > LP_SAFETY_SIZE
        {
            self.convert();
        }
    }

    /// Sets `field` to `value` (`hashTypeSet` with `HASH_SET_COPY`); true
    /// when the field is new. Redis 7.0 converts a listpack first when the
    /// field or value is longer than `hash-max-listpack-value` (this is what
    /// converts on HINCRBY / HINCRBYFLOAT), and after the insertion when the
    /// count exceeds `hash-max-listpack-entries`.
    pub fn set(&mut self, field: &[u8], value: &[u8], enc: &Encodings) -> bool {
        if matches!(self.repr, Repr::Listpack(_))
            && (field.len() > enc.hash_max_listpack_value
                || value.len() > enc.hash_max_listpack_value)
        {
            self.convert();
        }
        let created = match &mut self.repr {
            Repr::Listpack(p) => match lp_find(p, field) {
                Some((_, voff)) => {
                    p.replace(voff, value);
                    false
                }
                None => {
                    p.push(field);
                    p.push(value);
                    true
                }
            },
            Repr::Table(t) => match t.position(field).and_then(|i| t.pairs.get_mut(i)) {
                Some((_, old)) => {
                    *old = Bytes::copy_from_slice(value);
                    false
                }
                None => {
                    t.push(Bytes::copy_from_slice(field), Bytes::copy_from_slice(value));
                    true
                }
            },
        };
        if matches!(self.repr, Repr::Listpack(_)) && self.len() > enc.hash_max_listpack_entries {
            self.convert();
        }
        created
    }

    /// Removes `field`; true when it was there (`hashTypeDelete`).
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(p) => match lp_find(p, field) {
                Some((foff, _)) => p.remove(foff, 2),
                None => false,
            },
            Repr::Table(t) => t.remove(field),
        }
    }

    /// `hashTypeConvertListpack`: the same pairs in a hashtable.
    fn convert(&mut self) {
        if let Repr::Listpack(_) = &self.repr {
            let mut t = Table::with_capacity(self.len());
            for (f, v) in self.iter().map(owned) {
                t.push(f, v);
            }
            self.repr = Repr::Table(Box::new(t));
        }
    }

    /// The pair at position `i` of the encoding's order.
    fn nth(&self, i: usize) -> Option<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Listpack(_) => self.iter().nth(i),
            Repr::Table(t) => t.pairs.get(i).map(|(f, v)| (f.as_ref(), v.as_ref())),
        }
    }

    /// One random pair (HRANDFIELD without a count), None when empty.
    pub fn random_pair(&self, rng: &mut Rng) -> Option<(&[u8], &[u8])> {
        if self.is_empty() {
            return None;
        }
        self.nth(rng.below(self.len()))
    }

    /// `count` pairs drawn independently, so repeats are possible (HRANDFIELD
    /// with a negative count, `hrandfieldWithCountCommand` case 1). Empty
    /// when the hash is. The caller bounds `count`.
    pub fn random_pairs_with_repeats(&self, count: usize, rng: &mut Rng) -> Vec<(Bytes, Bytes)> {
        let pairs: Vec<(&[u8], &[u8])> = self.iter().collect();
        if pairs.is_empty() {
            return Vec::new();
        }
        (0..count)
            .filter_map(|_| pairs.get(rng.below(pairs.len())).copied().map(owned))
            .collect()
    }

    /// `count` distinct pairs (HRANDFIELD with a positive count): the whole
    /// hash in its order when `count` covers it (case 2); otherwise a
    /// uniform sample in random order (cases 3 and 4).
    pub fn random_pairs_distinct(&self, count: usize, rng: &mut Rng) -> Vec<(Bytes, Bytes)> {
        let n = self.len();
        if count >= n {
            return self.iter().map(owned).collect();
        }
        let pairs: Vec<(&[u8], &[u8])> = self.iter().collect();
        let picked = rng.distinct_below(n, count);
        picked
            .into_iter()
            .filter_map(|i| pairs.get(i).copied().map(owned))
            .collect()
    }

    /// One HSCAN step (`scanGenericCommand`): a listpack answers every pair
    /// and cursor 0 whatever the cursor and count, as Redis; a hashtable
    /// walks the shared hash-ordered cursor of `scan.rs`.
    pub fn scan(&self, cursor: u64, count: usize) -> (Vec<(Bytes, Bytes)>, u64) {
        match &self.repr {
            Repr::Listpack(_) => (self.iter().map(owned).collect(), 0),
            Repr::Table(t) => {
                let (found, next) = scan_step(t.pairs.iter(), |p| p.0.as_ref(), cursor, count);
                (found.into_iter().cloned().collect(), next)
            }
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// MEMORY USAGE's value part (`objectComputeSize`): robj + the listpack
    /// allocation; or robj + dict + bucket array + the average of the first
    /// few entries (two exact-size sds and a `dictEntry`) times the count.
    // COMPAT: Redis's bucket count depends on the growth history (and
    // shrinks in the cron); this assumes the smallest power of two that
    // holds every entry.
    pub fn memory_usage(&self) -> usize {
        match &self.repr {
            Repr::Listpack(p) => memory::ROBJ + memory::alloc_size(lp_bytes(p)),
            Repr::Table(t) => {
                let n = t.pairs.len();
                let slots = n.next_power_of_two().max(DICT_MIN_SLOTS);
                let sample: Vec<usize> = t
                    .pairs
                    .iter()
                    .take(memory::SIZE_SAMPLES)
                    .map(|(f, v)| {
                        memory::Sds::exact(f.len()).malloc_size()
                            + memory::Sds::exact(v.len()).malloc_size()
                            + memory::DICT_ENTRY
                    })
                    .collect();
                let avg = sample.iter().sum::<usize>() / sample.len().max(1);
                memory::ROBJ + memory::DICT + 8 * slots + avg * n
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(entries: usize, value: usize) -> Encodings {
        Encodings {
            hash_max_listpack_entries: entries,
            hash_max_listpack_value: value,
            ..Encodings::default()
        }
    }

    fn hash(pairs: &[(&str, &str)], e: &Encodings) -> Hash {
        let mut h = Hash::new();
        for (f, v) in pairs {
            h.set(f.as_bytes(), v.as_bytes(), e);
        }
        h
    }

    fn fields(h: &Hash) -> Vec<String> {
        h.iter()
            .map(|(f, _)| String::from_utf8_lossy(f).into_owned())
            .collect()
    }

    #[test]
    fn set_get_remove_in_insertion_order() {
        let e = Encodings::default();
        let mut h = hash(&[("a", "1"), ("b", "2"), ("c", "3")], &e);
        assert_eq!(h.encoding(), "listpack");
        assert!(!h.set(b"b", b"20", &e));
        assert_eq!(h.get(b"b"), Some(&b"20"[..]));
        assert_eq!(fields(&h), ["a", "b", "c"]);
        assert!(h.remove(b"a"));
        assert!(!h.remove(b"a"));
        assert_eq!(fields(&h), ["b", "c"]);
        assert!(h.contains(b"c") && !h.contains(b"a"));
        assert!(h.remove(b"b") && h.remove(b"c"));
        assert!(h.is_empty());
        assert_eq!(h.memory_usage(), memory::ROBJ + 8);
    }

    #[test]
    fn converts_on_count_and_on_length() {
        let e = enc(2, 4);
        let mut h = hash(&[("a", "1"), ("b", "2")], &e);
        assert_eq!(h.encoding(), "listpack");
        h.set(b"c", b"3", &e);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 3);
        // Never back, even when small again.
        h.remove(b"a");
        h.remove(b"b");
        assert_eq!(h.encoding(), "hashtable");

        let mut h = hash(&[("a", "1")], &e);
        h.set(b"a", b"12345", &e);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"a"), Some(&b"12345"[..]));

        // try_conversion looks at every argument, even an existing field's.
        let mut h = hash(&[("a", "1")], &e);
        h.try_conversion(&[Bytes::from_static(b"a"), Bytes::from_static(b"2")], &e);
        assert_eq!(h.encoding(), "listpack");
        h.try_conversion(&[Bytes::from_static(b"longer")], &e);
        assert_eq!(h.encoding(), "hashtable");

        // Zero entries allowed: always a hashtable once anything is in.
        let h = hash(&[("a", "1")], &enc(0, 64));
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn table_index_survives_removals() {
        let e = enc(0, 64);
        let mut h = Hash::new();
        for i in 0..1000 {
            assert!(h.set(format!("f{i}").as_bytes(), format!("{i}").as_bytes(), &e));
        }
        for i in (0..1000).step_by(3) {
            assert!(h.remove(format!("f{i}").as_bytes()));
        }
        for i in 0..1000 {
            let got = h.get(format!("f{i}").as_bytes());
            if i % 3 == 0 {
                assert_eq!(got, None);
            } else {
                assert_eq!(got, Some(format!("{i}").as_bytes()));
            }
        }
        assert_eq!(h.len(), 666);
        let mut other = Hash::new();
        for (f, v) in h.iter() {
            other.set(f, v, &Encodings::default());
        }
        assert_eq!(other.encoding(), "hashtable");
        assert_eq!(h, other);
        other.set(b"f1", b"x", &e);
        assert_ne!(h, other);
    }

    #[test]
    fn random_picks() {
        let e = Encodings::default();
        let h = hash(&[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")], &e);
        let mut rng = Rng::from_seed(7);
        assert!(h.random_pair(&mut rng).is_some());
        assert!(Hash::new().random_pair(&mut rng).is_none());
        assert_eq!(h.random_pairs_with_repeats(10, &mut rng).len(), 10);
        assert!(Hash::new()
            .random_pairs_with_repeats(3, &mut rng)
            .is_empty());
        // Whole hash in order when the count covers it.
        let all = h.random_pairs_distinct(9, &mut rng);
        assert_eq!(all.len(), 4);
        assert_eq!(all[0].0, Bytes::from_static(b"a"));
        for count in 1..4 {
            let got = h.random_pairs_distinct(count, &mut rng);
            assert_eq!(got.len(), count);
            let names: std::collections::HashSet<&Bytes> = got.iter().map(|(f, _)| f).collect();
            assert_eq!(names.len(), count, "distinct");
        }
        // Large hashtable, small share: distinct too.
        let mut big = Hash::new();
        for i in 0..100 {
            big.set(format!("{i}").as_bytes(), b"v", &enc(0, 64));
        }
        let got = big.random_pairs_distinct(10, &mut rng);
        let set: std::collections::HashSet<_> = got.iter().map(|(f, _)| f.clone()).collect();
        assert_eq!(set.len(), 10);
        assert_eq!(rng.below(0), 0);
    }

    #[test]
    fn scans() {
        let h = hash(&[("a", "1"), ("b", "2")], &Encodings::default());
        let (got, next) = h.scan(12345, 1);
        assert_eq!((got.len(), next), (2, 0));
        let mut big = Hash::new();
        for i in 0..200 {
            big.set(format!("{i}").as_bytes(), b"v", &Encodings::default());
        }
        assert_eq!(big.encoding(), "listpack");
        let e = enc(100, 64);
        big.set(b"x", b"v", &e);
        assert_eq!(big.encoding(), "hashtable");
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            let (got, next) = big.scan(cursor, 10);
            for (f, _) in got {
                assert!(seen.insert(f));
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 201);
    }

    #[test]
    fn memory_like_redis() {
        // HSET m a b: MEMORY USAGE is 64 on Redis 7.0, 32 of it the key.
        let e = Encodings::default();
        assert_eq!(hash(&[("a", "b")], &e).memory_usage(), 32);
        // HSET m2 a b c d e 12345: 80.
        let h = hash(&[("a", "b"), ("c", "d"), ("e", "12345")], &e);
        assert_eq!(h.memory_usage(), 48);
        // hash-max-listpack-entries 0, HSET t a b: 176; then c d e f: 256.
        let t0 = enc(0, 64);
        let mut t = hash(&[("a", "b")], &t0);
        assert_eq!(t.memory_usage(), 144);
        t.set(b"c", b"d", &t0);
        t.set(b"e", b"f", &t0);
        assert_eq!(t.memory_usage(), 224);
    }
}

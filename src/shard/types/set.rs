//! The set value (Redis 7.0's `t_set.c` data side): the `intset` and
//! `hashtable` encodings, membership, random picks and the building blocks
//! of SINTER / SUNION / SDIFF. Pure data type, no RESP, no keyspace: key
//! lookup, type checks, empty-set deletion and replies stay with
//! `commands/set.rs`. Owned by: the shard whose keyspace holds the value.
//!
//! Encodings follow Redis 7.0 (no listpack sets, those came in 7.2): a set
//! starts as an intset when its first member is an integer `string2ll`
//! accepts, and becomes a hashtable for good as soon as a non-integer
//! member arrives or it holds more than `set-max-intset-entries` members
//! (`setTypeAdd`). It never converts back.
//!
//! Members are copied out of request buffers on insertion, so a stored set
//! never pins a network read buffer.

use ahash::RandomState;
use bytes::Bytes;

use crate::util::rng::Rng;
use hashbrown::HashTable;

use super::scan::scan_step;
use crate::shard::value::memory;
use crate::util::num;

/// `sizeof(intset)`: encoding and length, before the packed integers.
const INTSET_HEADER: usize = 8;

/// A set of byte strings, never stored empty.
#[derive(Clone, Debug)]
pub struct Set {
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    Ints(IntSet),
    Table(Box<Table>),
}

/// Redis's intset: sorted distinct integers packed as Redis packs them,
/// `width` little-endian bytes each (2, 4 or 8). Like Redis's the width
/// only ever grows, so MEMORY USAGE stays right after the widest member is
/// removed.
#[derive(Clone, Debug)]
struct IntSet {
    bytes: Vec<u8>,
    width: usize,
}

/// The hashtable encoding: members in a vector (so a fair random pick is
/// one index, as `dictGetFairRandomKey` intends) plus a hash index of their
/// positions. Removal swaps the last member into the hole.
#[derive(Clone, Debug)]
struct Table {
    members: Vec<Bytes>,
    index: HashTable<usize>,
    hasher: RandomState,
}

/// One member taken out of a set, in the form its encoding keeps it:
/// integers of an intset are formatted only when a reply needs them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Elem {
    Int(i64),
    Str(Bytes),
}

impl Elem {
    pub fn into_bytes(self) -> Bytes {
        match self {
            Elem::Int(v) => {
                let mut out = Vec::with_capacity(20);
                num::write_i64(v, &mut out);
                Bytes::from(out)
            }
            Elem::Str(b) => b,
        }
    }
}

/// Bytes per entry of the narrowest intset encoding holding `v`.
fn int_width(v: i64) -> usize {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

/// Appends `v` as `width` little-endian bytes (it fits: see `int_width`).
fn push_int(out: &mut Vec<u8>, v: i64, width: usize) {
    let b = v.to_le_bytes();
    out.extend_from_slice(b.get(..width).unwrap_or(&b));
}

impl IntSet {
    fn new() -> IntSet {
        IntSet {
            bytes: Vec::new(),
            width: 2,
        }
    }

    fn len(&self) -> usize {
        self.bytes.len() / self.width
    }

    fn get(&self, i: usize) -> Option<i64> {
        let at = i.checked_mul(self.width)?;
        let b = self.bytes.get(at..at + self.width)?;
        let mut a = if b.last().is_some_and(|l| l & 0x80 != 0) {
            [0xff; 8]
        } else {
            [0; 8]
        };
        for (d, s) in a.iter_mut().zip(b) {
            *d = *s;
        }
        Some(i64::from_le_bytes(a))
    }

    /// The members ascending.
    fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Where `v` is (Ok) or would go (Err), as `slice::binary_search`.
    fn search(&self, v: i64) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.get(mid).map(|x| x.cmp(&v)) {
                Some(std::cmp::Ordering::Less) => lo = mid + 1,
                Some(std::cmp::Ordering::Greater) => hi = mid,
                _ => return Ok(mid),
            }
        }
        Err(lo)
    }

    fn add(&mut self, v: i64) -> bool {
        let w = int_width(v);
        if w > self.width {
            // Widening: every member re-encoded (`intsetUpgradeAndAdd`).
            let items: Vec<i64> = self.iter().collect();
            self.width = w;
            self.bytes = Vec::with_capacity((items.len() + 1) * w);
            for x in items {
                push_int(&mut self.bytes, x, w);
            }
        }
        match self.search(v) {
            Ok(_) => false,
            Err(pos) => {
                let mut b = Vec::with_capacity(8);
                push_int(&mut b, v, self.width);
                let at = pos * self.width;
                self.bytes.splice(at..at, b);
                true
            }
        }
    }

    /// Removes and returns the member at position `i`.
    fn remove_at(&mut self, i: usize) -> Option<i64> {
        let v = self.get(i)?;
        let at = i * self.width;
        self.bytes.drain(at..at + self.width);
        Some(v)
    }

    fn remove(&mut self, v: i64) -> bool {
        match self.search(v) {
            Ok(pos) => self.remove_at(pos).is_some(),
            Err(_) => false,
        }
    }

    fn contains(&self, v: i64) -> bool {
        self.search(v).is_ok()
    }
}

impl Table {
    fn with_capacity(n: usize) -> Table {
        Table {
            members: Vec::with_capacity(n),
            index: HashTable::with_capacity(n),
            hasher: RandomState::new(),
        }
    }

    fn position(&self, m: &[u8]) -> Option<usize> {
        let hash = self.hasher.hash_one(m);
        let members = &self.members;
        self.index
            .find(hash, |&i| members.get(i).is_some_and(|x| x.as_ref() == m))
            .copied()
    }

    fn contains(&self, m: &[u8]) -> bool {
        self.position(m).is_some()
    }

    /// Adds `m` (copied only when new); false when already a member.
    fn add(&mut self, m: &[u8]) -> bool {
        if self.contains(m) {
            return false;
        }
        self.push(Bytes::copy_from_slice(m));
        true
    }

    /// Appends a member known to be absent.
    fn push(&mut self, m: Bytes) {
        let hash = self.hasher.hash_one(m.as_ref());
        let (members, hasher) = (&self.members, &self.hasher);
        self.index.insert_unique(hash, members.len(), |&i| {
            members.get(i).map_or(0, |x| hasher.hash_one(x.as_ref()))
        });
        self.members.push(m);
    }

    fn remove(&mut self, m: &[u8]) -> bool {
        let hash = self.hasher.hash_one(m);
        let members = &self.members;
        let Ok(entry) = self
            .index
            .find_entry(hash, |&i| members.get(i).is_some_and(|x| x.as_ref() == m))
        else {
            return false;
        };
        let (pos, _) = entry.remove();
        self.take_at(pos);
        true
    }

    /// Removes the member at `pos` (already gone from the index): the last
    /// member moves into its place and its index entry follows.
    fn take_at(&mut self, pos: usize) -> Bytes {
        let last = self.members.len() - 1;
        if pos != last {
            let hash = self.hasher.hash_one(self.members[last].as_ref());
            if let Some(slot) = self.index.find_mut(hash, |&i| i == last) {
                *slot = pos;
            }
        }
        self.members.swap_remove(pos)
    }

    /// Removes and returns the member at `pos`.
    fn remove_at(&mut self, pos: usize) -> Option<Bytes> {
        let hash = self.hasher.hash_one(self.members.get(pos)?.as_ref());
        let entry = self.index.find_entry(hash, |&i| i == pos).ok()?;
        entry.remove();
        Some(self.take_at(pos))
    }

    /// Buckets of Redis's dict for this many entries: it doubles to the next
    /// power of two once full, from 4 (`_dictExpandIfNeeded`), and shrinks
    /// back when under 10 % full (`htNeedsResize` after SREM).
    fn dict_slots(&self) -> usize {
        self.members.len().next_power_of_two().max(4)
    }
}

impl PartialEq for Set {
    /// Same members, whatever the encodings and orders.
    fn eq(&self, other: &Set) -> bool {
        self.len() == other.len() && self.elems().iter().all(|e| other.contains_elem(e))
    }
}

impl Set {
    /// An empty set that can take `first` (`setTypeCreate`): an intset when
    /// it is an integer, else a hashtable. Callers add `first` next.
    pub fn for_first(first: &[u8]) -> Set {
        if num::parse_i64(first).is_some() {
            Set::new_intset()
        } else {
            Set {
                repr: Repr::Table(Box::new(Table::with_capacity(1))),
            }
        }
    }

    /// An empty intset (`createIntsetObject`): where the results of SINTER /
    /// SUNION / SDIFF are built, so their encoding follows their contents.
    pub fn new_intset() -> Set {
        Set {
            repr: Repr::Ints(IntSet::new()),
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Ints(s) => s.len(),
            Repr::Table(t) => t.members.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every member, in the set's order (ascending for an intset).
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        match &self.repr {
            Repr::Ints(s) => {
                let mut scratch = Vec::with_capacity(20);
                for v in s.iter() {
                    scratch.clear();
                    num::write_i64(v, &mut scratch);
                    f(&scratch);
                }
            }
            Repr::Table(t) => t.members.iter().for_each(|m| f(m)),
        }
    }

    /// The members (ascending) and entry width in bytes of an intset, for
    /// its RDB blob; None for a hashtable.
    pub fn intset(&self) -> Option<(Vec<i64>, usize)> {
        match &self.repr {
            Repr::Ints(s) => Some((s.iter().collect(), s.width)),
            Repr::Table(_) => None,
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Ints(_) => "intset",
            Repr::Table(_) => "hashtable",
        }
    }

    /// MEMORY USAGE's value part (`objectComputeSize`): robj + the intset
    /// blob; or robj + dict + bucket array + the average of the first few
    /// entries (dictEntry + sds) times the size.
    pub fn memory_usage(&self) -> usize {
        match &self.repr {
            Repr::Ints(s) => memory::ROBJ + memory::alloc_size(INTSET_HEADER + s.bytes.len()),
            Repr::Table(t) => {
                let base = memory::ROBJ + memory::DICT + 8 * t.dict_slots();
                let sampled: Vec<usize> = t
                    .members
                    .iter()
                    .take(memory::SIZE_SAMPLES)
                    .map(|m| memory::DICT_ENTRY + memory::Sds::exact(m.len()).malloc_size())
                    .collect();
                if sampled.is_empty() {
                    return base;
                }
                let avg = sampled.iter().sum::<usize>() as f64 / sampled.len() as f64;
                base + (avg * t.members.len() as f64) as usize
            }
        }
    }

    /// Switches an intset to a hashtable (`setTypeConvert`), presized.
    fn convert(&mut self) {
        if let Repr::Ints(s) = &self.repr {
            let mut t = Table::with_capacity(s.len() + 1);
            for v in s.iter() {
                t.push(Elem::Int(v).into_bytes());
            }
            self.repr = Repr::Table(Box::new(t));
        }
    }

    /// Brings one level of `m`'s lookup into the caches before a
    /// pipelined command needs it (`Db::prefetch`); intsets and listpacks
    /// are too small to need it.
    pub fn prefetch(&self, m: &[u8], step: super::MemberStep) {
        if let Repr::Table(t) = &self.repr {
            let table = std::ptr::from_ref::<Table>(t).cast();
            let hash = t.hasher.hash_one(m);
            super::prefetch_probe(table, &t.index, hash, &t.members, step, |b| b);
        }
    }

    /// Adds `m` (`setTypeAdd`); false when it was already a member. An
    /// intset converts on a non-integer, or when it grows past `max_intset`.
    pub fn add(&mut self, m: &[u8], max_intset: usize) -> bool {
        if let Repr::Table(t) = &mut self.repr {
            return t.add(m);
        }
        match num::parse_i64(m) {
            Some(v) => self.add_int(v, max_intset),
            None => {
                self.convert();
                self.add(m, max_intset)
            }
        }
    }

    fn add_int(&mut self, v: i64, max_intset: usize) -> bool {
        match &mut self.repr {
            Repr::Ints(s) => {
                if !s.add(v) {
                    return false;
                }
                if s.len() > max_intset {
                    self.convert();
                }
                true
            }
            Repr::Table(t) => {
                let b = Elem::Int(v).into_bytes();
                if t.contains(&b) {
                    return false;
                }
                t.push(b);
                true
            }
        }
    }

    /// Adds a member taken from another set (no copy of stored bytes).
    pub fn add_elem(&mut self, e: Elem, max_intset: usize) -> bool {
        match e {
            Elem::Int(v) => self.add_int(v, max_intset),
            Elem::Str(b) => {
                if let Repr::Table(t) = &mut self.repr {
                    if t.contains(&b) {
                        return false;
                    }
                    t.push(b);
                    return true;
                }
                match num::parse_i64(&b) {
                    Some(v) => self.add_int(v, max_intset),
                    None => {
                        self.convert();
                        self.add_elem(Elem::Str(b), max_intset)
                    }
                }
            }
        }
    }

    /// Removes `m` (`setTypeRemove`); false when it was not a member.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Ints(s) => num::parse_i64(m).is_some_and(|v| s.remove(v)),
            Repr::Table(t) => t.remove(m),
        }
    }

    /// `setTypeIsMember`.
    pub fn contains(&self, m: &[u8]) -> bool {
        match &self.repr {
            Repr::Ints(s) => num::parse_i64(m).is_some_and(|v| s.contains(v)),
            Repr::Table(t) => t.contains(m),
        }
    }

    pub fn contains_elem(&self, e: &Elem) -> bool {
        match (&self.repr, e) {
            (Repr::Ints(s), Elem::Int(v)) => s.contains(*v),
            (_, Elem::Str(b)) => self.contains(b),
            (Repr::Table(t), Elem::Int(v)) => t.contains(&Elem::Int(*v).into_bytes()),
        }
    }

    fn elem_at(&self, i: usize) -> Option<Elem> {
        match &self.repr {
            Repr::Ints(s) => s.get(i).map(Elem::Int),
            Repr::Table(t) => t.members.get(i).map(|b| Elem::Str(b.clone())),
        }
    }

    /// Every member in the set's order (ascending for an intset).
    pub fn elems(&self) -> Vec<Elem> {
        match &self.repr {
            Repr::Ints(s) => s.iter().map(Elem::Int).collect(),
            Repr::Table(t) => t.members.iter().map(|b| Elem::Str(b.clone())).collect(),
        }
    }

    /// Every member as bytes, in the set's order.
    pub fn members(&self) -> Vec<Bytes> {
        match &self.repr {
            Repr::Ints(s) => s.iter().map(|v| Elem::Int(v).into_bytes()).collect(),
            Repr::Table(t) => t.members.clone(),
        }
    }

    /// One random member (`setTypeRandomElement`), None when empty.
    pub fn random(&self, rng: &mut Rng) -> Option<Bytes> {
        if self.is_empty() {
            return None;
        }
        let i = rng.below(self.len());
        self.elem_at(i).map(Elem::into_bytes)
    }

    /// Removes and returns one random member (SPOP).
    pub fn pop(&mut self, rng: &mut Rng) -> Option<Bytes> {
        if self.is_empty() {
            return None;
        }
        let i = rng.below(self.len());
        match &mut self.repr {
            Repr::Ints(s) => s.remove_at(i).map(|v| Elem::Int(v).into_bytes()),
            Repr::Table(t) => t.remove_at(i),
        }
    }

    /// Removes and returns `count` distinct random members, `count` below
    /// the size (SPOP with a count, cases 2 and 3), in random order.
    pub fn pop_many(&mut self, count: usize, rng: &mut Rng) -> Vec<Bytes> {
        let n = self.len();
        if count >= n {
            let all = self.members();
            *self = Set::new_intset();
            return all;
        }
        let picked = rng.distinct_below(n, count);
        match &mut self.repr {
            Repr::Ints(s) => {
                let mut gone = vec![false; n];
                let out = picked
                    .iter()
                    .filter_map(|&i| {
                        *gone.get_mut(i)? = true;
                        s.get(i).map(|v| Elem::Int(v).into_bytes())
                    })
                    .collect();
                let kept: Vec<i64> = s
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| !gone.get(i).copied().unwrap_or(false))
                    .map(|(_, v)| v)
                    .collect();
                s.bytes.clear();
                for v in kept {
                    push_int(&mut s.bytes, v, s.width);
                }
                out
            }
            Repr::Table(t) => {
                let out: Vec<Bytes> = picked
                    .iter()
                    .filter_map(|&i| t.members.get(i).cloned())
                    .collect();
                for m in &out {
                    t.remove(m);
                }
                out
            }
        }
    }

    /// `count` distinct random members, `count` below the size
    /// (SRANDMEMBER with a positive count), in random order.
    pub fn sample(&self, count: usize, rng: &mut Rng) -> Vec<Bytes> {
        let n = self.len();
        if count >= n {
            return self.members();
        }
        rng.distinct_below(n, count)
            .into_iter()
            .filter_map(|i| self.elem_at(i).map(Elem::into_bytes))
            .collect()
    }

    /// `count` members drawn independently (SRANDMEMBER with a negative
    /// count): repeats allowed; empty for an empty set.
    pub fn sample_with_repeats(&self, count: usize, rng: &mut Rng) -> Vec<Bytes> {
        if self.is_empty() {
            return Vec::new();
        }
        (0..count).filter_map(|_| self.random(rng)).collect()
    }

    /// One SSCAN step (`scanGenericCommand`): an intset answers everything
    /// with cursor 0; a hashtable goes through the shared hash-ordered
    /// cursor. MATCH is applied by the caller, after the step, as Redis does.
    pub fn scan(&self, cursor: u64, count: usize) -> (Vec<Bytes>, u64) {
        match &self.repr {
            Repr::Ints(_) => (self.members(), 0),
            Repr::Table(t) => {
                let (items, next) = scan_step(t.members.iter(), |b| b.as_ref(), cursor, count);
                (items.into_iter().cloned().collect(), next)
            }
        }
    }
}

/// Keeps the candidates that are members of `other`. SINTER takes the
/// smallest set's members as candidates and filters them by each other set
/// in turn (`sinterGenericCommand`), so the caller borrows one set of the
/// keyspace at a time.
pub fn filter_members(candidates: &mut Vec<Elem>, other: &Set) {
    candidates.retain(|e| other.contains_elem(e));
}

/// Removes from `candidates` the members of `other` (SDIFF).
pub fn remove_members(candidates: &mut Vec<Elem>, other: &Set) {
    candidates.retain(|e| !other.contains_elem(e));
}

/// Adds every member of `from` to `out` (SUNION builds its result so).
pub fn add_all(out: &mut Set, from: &Set, max_intset: usize) {
    match &from.repr {
        Repr::Ints(s) => {
            for v in s.iter() {
                out.add_int(v, max_intset);
            }
        }
        Repr::Table(t) => {
            for m in &t.members {
                out.add_elem(Elem::Str(m.clone()), max_intset);
            }
        }
    }
}

/// A new set of `elems`, built as Redis builds a SINTER / SUNION / SDIFF
/// result: from an empty intset, converting as members arrive.
pub fn build(elems: impl IntoIterator<Item = Elem>, max_intset: usize) -> Set {
    let mut s = Set::new_intset();
    for e in elems {
        s.add_elem(e, max_intset);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str], max: usize) -> Set {
        let mut s = Set::for_first(items[0].as_bytes());
        for i in items {
            s.add(i.as_bytes(), max);
        }
        s
    }

    fn strs(v: Vec<Bytes>) -> Vec<String> {
        v.into_iter()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect()
    }

    #[test]
    fn intset_packs_and_widens_like_redis() {
        let mut s = IntSet::new();
        for v in [5, -1, 32767, -32768] {
            assert!(s.add(v));
        }
        assert_eq!((s.width, s.bytes.len()), (2, 8));
        assert!(!s.add(-1));
        assert!(s.add(1 << 20));
        assert_eq!((s.width, s.len()), (4, 5));
        assert!(s.add(i64::MIN) && s.add(i64::MAX));
        assert_eq!(s.width, 8);
        let all: Vec<i64> = s.iter().collect();
        assert_eq!(all, [i64::MIN, -32768, -1, 5, 32767, 1 << 20, i64::MAX]);
        assert!(s.contains(-32768) && !s.contains(6));
        assert!(s.remove(i64::MIN) && !s.remove(i64::MIN));
        assert_eq!(s.remove_at(0), Some(-32768));
        assert_eq!(s.remove_at(9), None);
        // Never narrower again.
        assert_eq!((s.width, s.len()), (8, 5));
    }

    #[test]
    fn intset_until_a_string_or_too_many() {
        let mut s = set(&["3", "1", "2", "-5"], 4);
        assert_eq!(s.encoding(), "intset");
        assert_eq!(strs(s.members()), ["-5", "1", "2", "3"]);
        assert!(!s.add(b"2", 4));
        assert!(s.add(b"9", 4));
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 5);
        assert!(s.contains(b"9") && s.contains(b"-5"));
        // Never back to an intset.
        assert!(s.remove(b"9"));
        assert_eq!(s.encoding(), "hashtable");

        let mut t = set(&["1", "2"], 512);
        assert!(t.add(b"x", 512));
        assert_eq!(t.encoding(), "hashtable");
        for (m, is) in [("1", true), ("2", true), ("x", true), ("3", false)] {
            assert_eq!(t.contains(m.as_bytes()), is, "{m}");
        }
        // Not canonical integers: strings, and not members of an intset.
        for m in ["01", "-0", "+1", " 1", "9223372036854775808"] {
            assert_eq!(Set::for_first(m.as_bytes()).encoding(), "hashtable", "{m}");
            assert!(!set(&["1"], 512).contains(m.as_bytes()), "{m}");
        }
    }

    #[test]
    fn table_remove_keeps_index_right() {
        let items: Vec<String> = (0..100).map(|i| format!("m{i}")).collect();
        let refs: Vec<&str> = items.iter().map(String::as_str).collect();
        let mut s = set(&refs, 512);
        for i in (0..100).step_by(3) {
            assert!(s.remove(items[i].as_bytes()));
            assert!(!s.remove(items[i].as_bytes()));
        }
        for (i, m) in items.iter().enumerate() {
            assert_eq!(s.contains(m.as_bytes()), i % 3 != 0, "{m}");
        }
        assert_eq!(s.len(), 66);
    }

    #[test]
    fn pops_and_samples() {
        let mut rng = Rng::from_seed(7);
        for max in [512, 0] {
            let mut s = set(&["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"], max);
            let before = s.clone();
            let sample = s.sample(4, &mut rng);
            let distinct: std::collections::HashSet<_> = sample.iter().collect();
            assert_eq!(distinct.len(), 4);
            assert!(sample.iter().all(|m| s.contains(m)));
            assert_eq!(s.sample_with_repeats(25, &mut rng).len(), 25);
            let popped = s.pop_many(7, &mut rng);
            let distinct: std::collections::HashSet<_> = popped.iter().collect();
            assert_eq!((distinct.len(), s.len()), (7, 3));
            assert!(popped.iter().all(|m| before.contains(m) && !s.contains(m)));
            let one = s.pop(&mut rng).expect("a member");
            assert!(!s.contains(&one) && before.contains(&one));
            assert_eq!(s.pop_many(5, &mut rng).len(), 2);
            assert!(s.is_empty() && s.pop(&mut rng).is_none());
        }
    }

    #[test]
    fn results_are_built_like_redis() {
        // A hashtable of integers gives an intset result.
        let mut h = set(&["1", "x", "2"], 512);
        h.remove(b"x");
        let r = build(h.elems(), 512);
        assert_eq!(
            (r.encoding(), strs(r.members())),
            ("intset", vec!["1".into(), "2".into()])
        );
        assert_eq!(r, h);
        let mut c = h.elems();
        filter_members(&mut c, &set(&["2", "3"], 512));
        assert_eq!(c, [Elem::Str(Bytes::from_static(b"2"))]);
        assert_eq!(
            build(vec![Elem::Int(1), Elem::Int(2)], 1).encoding(),
            "hashtable"
        );
    }

    #[test]
    fn memory_like_object_compute_size() {
        // Checked against redis-server 7.0 (MEMORY USAGE minus the key's 32).
        assert_eq!(set(&["1", "2", "3"], 512).memory_usage(), 32);
        assert_eq!(set(&["1", "2", "300000"], 512).memory_usage(), 48);
        let mut wide = set(&["1", "2", "30000000000"], 512);
        wide.remove(b"30000000000");
        assert_eq!(wide.memory_usage(), 48);
        assert_eq!(set(&["a", "b", "c"], 512).memory_usage(), 200);
    }
}

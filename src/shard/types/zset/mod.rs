//! The sorted set value (Redis's `t_zset.c` data side): members with double
//! scores, ordered by (score, member). Pure data type, no RESP, no keyspace:
//! key lookup, type checks, empty-key deletion and replies stay with
//! `commands/zset/`. Owned by: the shard whose keyspace holds the value.
//!
//! Two encodings, named and switched as Redis 7.0 does:
//! - `listpack`: members and scores alternating in (score, member) order in
//!   one `Packed` buffer (a score as its 8 bytes), walked linearly like
//!   Redis's listpack; kept while the set has at
//!   most `zset-max-listpack-entries` members, none longer than
//!   `zset-max-listpack-value` bytes.
//! - `skiplist`: a member → score hash map plus an order-statistic tree
//!   (`tree.rs`) for O(log n) rank, select and range bounds.
//!
//! A set converts to `skiplist` when an add crosses a limit and never back,
//! except that store results (ZUNIONSTORE, ZRANGESTORE, …) are built in the
//! encoding their final contents call for (`zsetConvertToListpackIfNeeded`).
//! A listpack stores a score as its text, so `-0` comes back as `0` there.
//!
//! Members are copied out of request buffers when stored, so a set never
//! pins a network read buffer; reads hand out slices. Every operation is total: an out-of-range
//! rank gives nothing, never a panic.

pub mod range;
pub mod tree;

use std::collections::HashMap;

use bytes::Bytes;

use self::range::{LexRange, ScoreRange};
use self::tree::{cmp_entry, OrderTree};
use super::packed::{self, Packed};
use super::scan::scan_step;
use super::Encodings;
use crate::persistence::rdb::listpack::entry_size as listpack_entry_size;
use crate::shard::value::memory;

type Dict = HashMap<Bytes, f64, ahash::RandomState>;

/// The options of one ZADD element (`ZADD_IN_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

/// What `ZSet::add` did (`ZADD_OUT_*`), with the member's new score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AddOutcome {
    Added(f64),
    Updated(f64),
    /// The member exists with that score already (still "processed": ZADD
    /// INCR replies the score).
    Unchanged(f64),
    /// NX on an existing member, XX on a missing one, or GT / LT refused.
    Skipped,
    /// INCR would make the score NaN; nothing changed.
    Nan,
}

/// Members with scores, ordered by (score, member); never empty when stored
/// under a key.
#[derive(Clone, Debug)]
pub struct ZSet {
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    /// Member, score, member, score… ascending.
    Listpack(Packed),
    Skiplist(Box<Skiplist>),
}

#[derive(Clone, Debug)]
struct Skiplist {
    dict: Dict,
    tree: OrderTree,
}

/// A score as a listpack keeps it: Redis writes scores as text and reads
/// them back, which turns `-0` into `0`.
fn lp_score(score: f64) -> f64 {
    if score == 0.0 {
        0.0
    } else {
        score
    }
}

/// A score as a listpack entry: an integral score of magnitude below 2^53
/// as its shortest two's-complement little-endian bytes (1 to 7; a
/// timestamp in seconds takes 4 or 5), any other as its 8 `f64` bytes.
fn score_bytes(score: f64) -> ([u8; 8], usize) {
    if score.fract() == 0.0 && score.abs() < (1u64 << 53) as f64 {
        let i = score as i64;
        let bytes = i.to_le_bytes();
        // Enough bytes that the top bit of the last one is the sign.
        let n = (1..8)
            .find(|&n| (i << (64 - 8 * n)) >> (64 - 8 * n) == i)
            .unwrap_or(7);
        return (bytes, n);
    }
    (score.to_le_bytes(), 8)
}

/// The score a listpack score entry holds (see `score_bytes`).
fn score_of(b: &[u8]) -> f64 {
    if let Ok(a) = <[u8; 8]>::try_from(b) {
        return f64::from_le_bytes(a);
    }
    let Some(&last) = b.last() else {
        return 0.0;
    };
    let mut a = if last & 0x80 != 0 { [0xff; 8] } else { [0; 8] };
    for (d, s) in a.iter_mut().zip(b) {
        *d = *s;
    }
    i64::from_le_bytes(a) as f64
}

/// The (member, score) pairs of a listpack in order.
struct LpPairs<'a>(packed::Iter<'a>);

impl<'a> Iterator for LpPairs<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        let m = self.0.next()?;
        Some((m, score_of(self.0.next()?)))
    }
}

fn lp_pairs(p: &Packed) -> LpPairs<'_> {
    LpPairs(p.iter())
}

/// The rank of `member` in a listpack.
fn lp_rank(p: &Packed, member: &[u8]) -> Option<usize> {
    lp_pairs(p).position(|(m, _)| m == member)
}

/// Removes the pairs of ranks `start..end` of a listpack.
fn lp_remove(p: &mut Packed, start: usize, end: usize) {
    if let Some(off) = p.offset_of(2 * start) {
        p.remove(off, 2 * end.saturating_sub(start));
    }
}

/// Inserts into a sorted listpack at the (score, member) position.
fn lp_insert(p: &mut Packed, member: &[u8], score: f64) {
    let score = lp_score(score);
    let at = lp_pairs(p)
        .take_while(|&(m, s)| cmp_entry(s, m, score, member).is_lt())
        .count();
    if let Some(off) = p.offset_of(2 * at) {
        let (b, n) = score_bytes(score);
        p.insert(off, [member, b.get(..n).unwrap_or(&b)]);
    }
}

/// The expected allocation of one `zskiplistNode`: 24 bytes plus 16 per
/// level, levels drawn with p = 1/4 (48 bytes 3/4 of the time, 64 for
/// 3/16, …). Redis samples real nodes; we have none, so we use the mean.
const SKIPLIST_NODE: usize = 53;

fn random_seed() -> u64 {
    ahash::RandomState::new().hash_one(0x5eed_u64)
}

impl Skiplist {
    fn new() -> Skiplist {
        Skiplist {
            dict: Dict::default(),
            tree: OrderTree::new(random_seed()),
        }
    }

    fn insert(&mut self, member: Bytes, score: f64) {
        self.dict.insert(member.clone(), score);
        self.tree.insert(member, score);
    }

    /// Gives the map's memory back once it is mostly empty, as Redis's
    /// dict resizes down (the tree compacts itself likewise).
    fn shrink(&mut self) {
        if self.dict.capacity() > 64 && self.dict.len() * 4 < self.dict.capacity() {
            self.dict.shrink_to_fit();
        }
    }
}

impl PartialEq for ZSet {
    /// Same members with the same scores (whatever the encodings).
    fn eq(&self, other: &ZSet) -> bool {
        self.len() == other.len()
            && self
                .iter_from(0, false)
                .zip(other.iter_from(0, false))
                .all(|((m1, s1), (m2, s2))| m1 == m2 && s1.to_bits() == s2.to_bits())
    }
}

impl ZSet {
    /// The empty set ZADD creates for a missing key (`zaddGenericCommand`):
    /// `listpack`, unless listpacks are disabled (0 entries) or the first
    /// member given is already too long for one.
    pub fn new_for_add(enc: &Encodings, first_member_len: usize) -> ZSet {
        if enc.zset_max_listpack_entries == 0 || first_member_len > enc.zset_max_listpack_value {
            ZSet {
                repr: Repr::Skiplist(Box::new(Skiplist::new())),
            }
        } else {
            ZSet {
                repr: Repr::Listpack(Packed::new()),
            }
        }
    }

    /// A store result (ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE, ZRANGESTORE)
    /// from distinct members in any order, in the encoding its contents
    /// call for (`zsetConvertToListpackIfNeeded`).
    pub fn from_pairs(pairs: Vec<(Bytes, f64)>, enc: &Encodings) -> ZSet {
        let longest = pairs.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        let listpack =
            pairs.len() <= enc.zset_max_listpack_entries && longest <= enc.zset_max_listpack_value;
        ZSet::from_pairs_in(pairs, listpack)
    }

    /// Distinct members in any order, in the encoding given (an RDB or
    /// RESTORE load, whose caller applies Redis's rule for the type read).
    pub fn from_pairs_in(mut pairs: Vec<(Bytes, f64)>, listpack: bool) -> ZSet {
        if listpack {
            for p in &mut pairs {
                p.1 = lp_score(p.1);
            }
            pairs.sort_by(|a, b| cmp_entry(a.1, &a.0, b.1, &b.0));
            debug_assert!(pairs.windows(2).all(|w| w[0].0 != w[1].0));
            let mut p = Packed::new();
            for (m, s) in &pairs {
                p.push(m);
                let (b, n) = score_bytes(*s);
                p.push(b.get(..n).unwrap_or(&b));
            }
            p.shrink_to_fit();
            return ZSet {
                repr: Repr::Listpack(p),
            };
        }
        let mut sl = Skiplist::new();
        for (m, s) in pairs {
            sl.insert(m, s);
        }
        ZSet {
            repr: Repr::Skiplist(Box::new(sl)),
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(p) => p.len() / 2,
            Repr::Skiplist(sl) => sl.tree.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every (member, score), in (score, member) order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        for (m, s) in self.iter_from(0, false) {
            f(m, s);
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Skiplist(_) => "skiplist",
        }
    }

    /// MEMORY USAGE's value part, after `objectComputeSize`: the robj plus
    /// the listpack's bytes, or the zset, dict and skiplist structures plus
    /// the average entry of a five-entry sample times the count.
    pub fn memory_usage(&self) -> usize {
        match &self.repr {
            Repr::Listpack(v) => {
                // Header (total bytes + count) and end byte, then member and
                // score entries; a score is stored as its `d2string` text.
                let bytes = 7 + lp_pairs(v)
                    .map(|(m, s)| {
                        listpack_entry_size(m)
                            + listpack_entry_size(crate::protocol::format_double(s).as_bytes())
                    })
                    .sum::<usize>();
                memory::ROBJ + memory::alloc_size(bytes)
            }
            Repr::Skiplist(sl) => {
                // zset + zskiplist + dict structs, the bucket array and the
                // 32-level header node.
                let n = sl.tree.len();
                let slots = n.next_power_of_two().max(4);
                let fixed =
                    memory::ROBJ + 16 + 32 + 56 + 8 * slots + memory::alloc_size(24 + 32 * 16);
                let sample: Vec<usize> = self
                    .iter_from(0, false)
                    .take(5)
                    .map(|(m, _)| {
                        memory::Sds::exact(m.len()).malloc_size()
                            + memory::DICT_ENTRY
                            + SKIPLIST_NODE
                    })
                    .collect();
                let avg = sample.iter().sum::<usize>() / sample.len().max(1);
                fixed + avg * n
            }
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Listpack(p) => lp_pairs(p).find(|&(m, _)| m == member).map(|(_, s)| s),
            Repr::Skiplist(sl) => sl.dict.get(member).copied(),
        }
    }

    /// 0-based rank in ascending order (`zsetRank`).
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.repr {
            Repr::Listpack(p) => lp_rank(p, member),
            Repr::Skiplist(sl) => {
                let score = *sl.dict.get(member)?;
                sl.tree.rank(member, score)
            }
        }
    }

    /// ZADD / ZINCRBY on one member (`zsetAdd`). A new member may convert
    /// the set to `skiplist`; an existing one is re-scored in place.
    pub fn add(&mut self, member: &[u8], score: f64, f: AddFlags, enc: &Encodings) -> AddOutcome {
        let Some(cur) = self.score(member) else {
            if f.xx {
                return AddOutcome::Skipped;
            }
            self.insert_new(member, score, enc);
            return AddOutcome::Added(score);
        };
        if f.nx {
            return AddOutcome::Skipped;
        }
        let new = if f.incr { cur + score } else { score };
        if new.is_nan() {
            return AddOutcome::Nan;
        }
        if (f.lt && new >= cur) || (f.gt && new <= cur) {
            return AddOutcome::Skipped;
        }
        if new == cur {
            return AddOutcome::Unchanged(new);
        }
        match &mut self.repr {
            Repr::Listpack(p) => {
                if let Some(r) = lp_rank(p, member) {
                    lp_remove(p, r, r + 1);
                    lp_insert(p, member, new);
                }
            }
            Repr::Skiplist(sl) => {
                if let Some((m, s)) = sl.dict.get_key_value(member) {
                    let m = m.clone();
                    sl.tree.remove(&m, *s);
                    sl.insert(m, new);
                }
            }
        }
        AddOutcome::Updated(new)
    }

    /// Adds a member known to be absent, converting first when it would
    /// break a listpack limit.
    fn insert_new(&mut self, member: &[u8], score: f64, enc: &Encodings) {
        if let Repr::Listpack(_) = &self.repr {
            if self.len() + 1 > enc.zset_max_listpack_entries
                || member.len() > enc.zset_max_listpack_value
            {
                self.convert_to_skiplist();
            }
        }
        match &mut self.repr {
            Repr::Listpack(p) => lp_insert(p, member, score),
            Repr::Skiplist(sl) => sl.insert(Bytes::copy_from_slice(member), score),
        }
    }

    fn convert_to_skiplist(&mut self) {
        if let Repr::Listpack(p) = &self.repr {
            let pairs = lp_pairs(p)
                .map(|(m, s)| (Bytes::copy_from_slice(m), s))
                .collect();
            *self = ZSet::from_pairs_in(pairs, false);
        }
    }

    /// Removes a member (`zsetDel`); false when absent.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(p) => match lp_rank(p, member) {
                Some(r) => {
                    lp_remove(p, r, r + 1);
                    true
                }
                None => false,
            },
            Repr::Skiplist(sl) => match sl.dict.remove(member) {
                Some(s) => {
                    sl.shrink();
                    sl.tree.remove(member, s)
                }
                None => false,
            },
        }
    }

    /// Entries from rank `from` on, ascending (`rev`: from rank `from`
    /// down to rank 0). Empty when `from` is out of range.
    pub fn iter_from(&self, from: usize, rev: bool) -> Iter<'_> {
        match &self.repr {
            Repr::Listpack(p) if rev => {
                let n = if from < self.len() { from + 1 } else { 0 };
                Iter(IterRepr::Backward(lp_pairs(p).take(n).collect()))
            }
            Repr::Listpack(p) => Iter(IterRepr::Forward(LpPairs(p.iter_from(2 * from)))),
            Repr::Skiplist(sl) => Iter(IterRepr::Skiplist(sl.tree.iter_from(from, rev))),
        }
    }

    /// Up to `limit` entries from rank `from` (see `iter_from`), copied out.
    pub fn range(&self, from: usize, rev: bool, limit: usize) -> Vec<(Bytes, f64)> {
        self.iter_from(from, rev)
            .take(limit)
            .map(|(m, s)| (Bytes::copy_from_slice(m), s))
            .collect()
    }

    /// The ranks `lo..hi` of the members whose scores are in `r` (empty
    /// when `hi <= lo`); O(log n) with the skiplist encoding.
    pub fn score_span(&self, r: &ScoreRange) -> (usize, usize) {
        let (lo, hi) = match &self.repr {
            Repr::Listpack(p) => (
                lp_pairs(p).take_while(|&(_, s)| !r.gte_min(s)).count(),
                lp_pairs(p).take_while(|&(_, s)| r.lte_max(s)).count(),
            ),
            Repr::Skiplist(sl) => (
                sl.tree.partition_point(|_, s| !r.gte_min(s)),
                sl.tree.partition_point(|_, s| r.lte_max(s)),
            ),
        };
        (lo, hi.max(lo))
    }

    /// Rank of the first member in `r` (`zzlFirstInLexRange`,
    /// `zslFirstInLexRange`): none when the range is empty, the last member
    /// is below it or the first above it; else the first member at or above
    /// `min`, if it is not above `max`. Lex ranges assume equal scores; with
    /// mixed scores a listpack answers as Redis's linear walk does.
    /// COMPAT: with mixed scores Redis's skiplist answer depends on its
    /// random node levels; ours is a binary search, deterministic but not
    /// always the same member (Redis documents the result as unspecified).
    pub fn lex_first(&self, r: &LexRange) -> Option<usize> {
        if !self.lex_overlaps(r) {
            return None;
        }
        let first = match &self.repr {
            Repr::Listpack(p) => lp_pairs(p).position(|(m, _)| r.gte_min(m))?,
            Repr::Skiplist(sl) => sl.tree.partition_point(|m, _| !r.gte_min(m)),
        };
        let (m, _) = self.iter_from(first, false).next()?;
        r.lte_max(m).then_some(first)
    }

    /// Rank of the last member in `r` (`zzlLastInLexRange`), the mirror of
    /// `lex_first`.
    pub fn lex_last(&self, r: &LexRange) -> Option<usize> {
        if !self.lex_overlaps(r) {
            return None;
        }
        let last = match &self.repr {
            Repr::Listpack(p) => {
                lp_pairs(p)
                    .enumerate()
                    .filter(|(_, (m, _))| r.lte_max(m))
                    .last()?
                    .0
            }
            Repr::Skiplist(sl) => sl
                .tree
                .partition_point(|m, _| r.lte_max(m))
                .checked_sub(1)?,
        };
        let (m, _) = self.iter_from(last, false).next()?;
        r.gte_min(m).then_some(last)
    }

    /// `zzlIsInLexRange` / `zslIsInLexRange`.
    fn lex_overlaps(&self, r: &LexRange) -> bool {
        if r.is_empty() || self.is_empty() {
            return false;
        }
        let last = self.iter_from(self.len() - 1, false).next();
        let first = self.iter_from(0, false).next();
        matches!((first, last), (Some((f, _)), Some((l, _))) if r.gte_min(l) && r.lte_max(f))
    }

    /// ZLEXCOUNT: a walk from the first member in range for a listpack,
    /// the difference of two ranks for a skiplist (`zlexcountCommand`).
    pub fn lex_count(&self, r: &LexRange) -> usize {
        let Some(first) = self.lex_first(r) else {
            return 0;
        };
        match &self.repr {
            Repr::Listpack(_) => self
                .iter_from(first, false)
                .take_while(|(m, _)| r.lte_max(m))
                .count(),
            Repr::Skiplist(_) => self
                .lex_last(r)
                .map_or(self.len() - first, |last| (last + 1).saturating_sub(first)),
        }
    }

    /// Removes ranks `start..end` (clamped); returns how many went.
    pub fn remove_ranks(&mut self, start: usize, end: usize) -> usize {
        match &mut self.repr {
            Repr::Listpack(p) => {
                let end = end.min(p.len() / 2);
                if start >= end {
                    return 0;
                }
                lp_remove(p, start, end);
                end - start
            }
            Repr::Skiplist(sl) => {
                let dict = &mut sl.dict;
                let n = sl.tree.remove_range(start, end, |m, _| {
                    dict.remove(&m);
                });
                sl.shrink();
                n
            }
        }
    }

    /// Pops up to `count` members from the low (`max` false) or high end,
    /// in pop order (`genericZpopCommand`).
    pub fn pop(&mut self, max: bool, count: usize) -> Vec<(Bytes, f64)> {
        let n = count.min(self.len());
        if n == 0 {
            return Vec::new();
        }
        let from = if max { self.len() - 1 } else { 0 };
        let out = self.range(from, max, n);
        if max {
            let len = self.len();
            self.remove_ranks(len - n, len);
        } else {
            self.remove_ranks(0, n);
        }
        out
    }

    /// The entry at rank `i`, copied out.
    pub fn get(&self, i: usize) -> Option<(Bytes, f64)> {
        match &self.repr {
            Repr::Listpack(p) => lp_pairs(p)
                .nth(i)
                .map(|(m, s)| (Bytes::copy_from_slice(m), s)),
            Repr::Skiplist(sl) => sl.tree.get(i).map(|(m, s)| (m.clone(), s)),
        }
    }

    /// One ZSCAN step: a listpack answers everything at once with cursor 0
    /// (as Redis does for its compact encodings); a skiplist goes through
    /// the shared hash-ordered cursor (`types/scan.rs`).
    pub fn scan(&self, cursor: u64, count: usize) -> (Vec<(Bytes, f64)>, u64) {
        match &self.repr {
            Repr::Listpack(p) => (
                lp_pairs(p)
                    .map(|(m, s)| (Bytes::copy_from_slice(m), s))
                    .collect(),
                0,
            ),
            Repr::Skiplist(sl) => {
                let (items, next) = scan_step(sl.dict.iter(), |(m, _)| m.as_ref(), cursor, count);
                (
                    items.into_iter().map(|(m, s)| (m.clone(), *s)).collect(),
                    next,
                )
            }
        }
    }
}

/// Entries in order or reverse order; see `ZSet::iter_from`.
pub struct Iter<'a>(IterRepr<'a>);

enum IterRepr<'a> {
    Forward(LpPairs<'a>),
    /// The pairs up to the start, taken from the back (a listpack is
    /// walked forwards only).
    Backward(Vec<(&'a [u8], f64)>),
    Skiplist(tree::Iter<'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterRepr::Forward(it) => it.next(),
            IterRepr::Backward(v) => v.pop(),
            IterRepr::Skiplist(it) => it.next().map(|(m, s)| (m.as_ref(), s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn small() -> Encodings {
        Encodings {
            zset_max_listpack_entries: 4,
            zset_max_listpack_value: 8,
            ..Encodings::default()
        }
    }

    fn add(z: &mut ZSet, m: &str, s: f64) -> AddOutcome {
        z.add(m.as_bytes(), s, AddFlags::default(), &small())
    }

    fn members(z: &ZSet) -> Vec<String> {
        z.iter_from(0, false)
            .map(|(m, _)| String::from_utf8_lossy(m).into_owned())
            .collect()
    }

    #[test]
    fn conversions_follow_the_limits() {
        let enc = small();
        let mut z = ZSet::new_for_add(&enc, 1);
        for (i, m) in ["d", "c", "b", "a"].iter().enumerate() {
            assert_eq!(add(&mut z, m, i as f64), AddOutcome::Added(i as f64));
        }
        assert_eq!(z.encoding(), "listpack");
        assert_eq!(members(&z), ["d", "c", "b", "a"]);
        // Re-scoring an existing member never converts.
        assert_eq!(add(&mut z, "d", 9.0), AddOutcome::Updated(9.0));
        assert_eq!(z.encoding(), "listpack");
        assert_eq!(add(&mut z, "e", 0.5), AddOutcome::Added(0.5));
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(members(&z), ["e", "c", "b", "a", "d"]);
        // Never back, even when small again.
        z.pop(false, 4);
        assert_eq!((z.encoding(), z.len()), ("skiplist", 1));
        let mut z = ZSet::new_for_add(&enc, 1);
        add(&mut z, "123456789", 1.0);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(ZSet::new_for_add(&enc, 9).encoding(), "skiplist");
        let zero = Encodings {
            zset_max_listpack_entries: 0,
            ..enc
        };
        assert_eq!(ZSet::new_for_add(&zero, 1).encoding(), "skiplist");
        let pairs = |n: usize| {
            (0..n)
                .map(|i| (Bytes::from(format!("m{i}")), i as f64))
                .collect()
        };
        assert_eq!(ZSet::from_pairs(pairs(4), &enc).encoding(), "listpack");
        assert_eq!(ZSet::from_pairs(pairs(5), &enc).encoding(), "skiplist");
    }

    #[test]
    fn scores_pack_small_and_round_trip() {
        let cases = [
            (0.0, 1),
            (1.0, 1),
            (-4.0, 1),
            (127.0, 1),
            (128.0, 2),
            (-128.0, 1),
            (-129.0, 2),
            (1_700_000_000.0, 4),
            (3_000_000_000.0, 5),
            (1_700_000_000_123.0, 6),
            (9_007_199_254_740_991.0, 7),
            (-9_007_199_254_740_991.0, 7),
            (9_007_199_254_740_992.0, 8),
            (2.5, 8),
            (f64::INFINITY, 8),
            (f64::NEG_INFINITY, 8),
            (f64::MIN_POSITIVE, 8),
        ];
        for (score, len) in cases {
            let (b, n) = score_bytes(score);
            assert_eq!(n, len, "{score}");
            assert_eq!(score_of(&b[..n]).to_bits(), score.to_bits(), "{score}");
        }
    }

    #[test]
    fn add_flags() {
        let enc = small();
        let mut z = ZSet::new_for_add(&enc, 1);
        let f = |s: &str| AddFlags {
            nx: s.contains('n'),
            xx: s.contains('x'),
            gt: s.contains('g'),
            lt: s.contains('l'),
            incr: s.contains('i'),
        };
        assert_eq!(z.add(b"a", 1.0, f("x"), &enc), AddOutcome::Skipped);
        assert_eq!(z.add(b"a", 1.0, f("g"), &enc), AddOutcome::Added(1.0));
        assert_eq!(z.add(b"a", 5.0, f("n"), &enc), AddOutcome::Skipped);
        assert_eq!(z.add(b"a", 0.5, f("g"), &enc), AddOutcome::Skipped);
        assert_eq!(z.add(b"a", 2.0, f("l"), &enc), AddOutcome::Skipped);
        assert_eq!(z.add(b"a", 2.0, f("gi"), &enc), AddOutcome::Updated(3.0));
        assert_eq!(z.add(b"a", 3.0, f(""), &enc), AddOutcome::Unchanged(3.0));
        assert_eq!(
            z.add(b"a", f64::INFINITY, f("i"), &enc),
            AddOutcome::Updated(f64::INFINITY)
        );
        assert_eq!(
            z.add(b"a", f64::NEG_INFINITY, f("i"), &enc),
            AddOutcome::Nan
        );
        assert_eq!(z.score(b"a"), Some(f64::INFINITY));
        // -0 is kept as 0 by a listpack, as -0 by a skiplist.
        assert_eq!(z.add(b"z", -0.0, f(""), &enc), AddOutcome::Added(-0.0));
        assert!(z.score(b"z").is_some_and(|s| s.is_sign_positive()));
    }

    #[test]
    fn lex_on_mixed_scores_walks_like_a_listpack() {
        // b(1) a(2) c(3): Redis's linear walk, not a binary search.
        let enc = small();
        let mut z = ZSet::new_for_add(&enc, 1);
        for (m, s) in [("b", 1.0), ("a", 2.0), ("c", 3.0)] {
            add(&mut z, m, s);
        }
        let r = LexRange::parse(b"[a", b"[b").unwrap();
        assert_eq!(z.lex_first(&r), Some(0));
        assert_eq!(z.lex_count(&r), 2);
        let r = LexRange::parse(b"(b", b"+").unwrap();
        assert_eq!(z.lex_first(&r), Some(2));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(u8, i8),
        Remove(u8),
        Pop(bool, u8),
        RemoveRanks(u8, u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<u8>(), -3i8..3).prop_map(|(m, s)| Op::Add(m % 12, s)),
            2 => any::<u8>().prop_map(|m| Op::Remove(m % 12)),
            1 => (any::<bool>(), any::<u8>()).prop_map(|(x, n)| Op::Pop(x, n % 3)),
            1 => (any::<u8>(), any::<u8>()).prop_map(|(a, n)| Op::RemoveRanks(a % 12, n % 4)),
        ]
    }

    proptest! {
        /// Both encodings agree with a sorted Vec on contents, ranks, score
        /// spans and lex bounds (members all share one score for lex).
        #[test]
        fn encodings_match_model(ops in proptest::collection::vec(op(), 1..60)) {
            let enc = small();
            let mut z = ZSet::new_for_add(&enc, 1);
            let mut model: Vec<(Bytes, f64)> = Vec::new();
            for op in ops {
                match op {
                    Op::Add(m, s) => {
                        let m = Bytes::from(if m == 11 { "long-member".to_string() } else { format!("m{m}") });
                        let s = f64::from(s);
                        model.retain(|(x, _)| *x != m);
                        model.push((m.clone(), s));
                        add(&mut z, std::str::from_utf8(&m).unwrap(), s);
                    }
                    Op::Remove(m) => {
                        let m = format!("m{m}");
                        let had = model.iter().any(|(x, _)| x.as_ref() == m.as_bytes());
                        model.retain(|(x, _)| x.as_ref() != m.as_bytes());
                        prop_assert_eq!(z.remove(m.as_bytes()), had);
                    }
                    Op::Pop(max, n) => {
                        let got = z.pop(max, n as usize);
                        let k = (n as usize).min(model.len());
                        let want: Vec<(Bytes, f64)> = if max {
                            model.drain(model.len() - k..).rev().collect()
                        } else {
                            model.drain(..k).collect()
                        };
                        prop_assert_eq!(got, want);
                    }
                    Op::RemoveRanks(a, n) => {
                        let (a, e) = (a as usize, a as usize + n as usize);
                        let k = z.remove_ranks(a, e);
                        let want = model.drain(a.min(model.len())..e.min(model.len())).count();
                        prop_assert_eq!(k, want);
                    }
                }
                model.sort_by(|a, b| cmp_entry(a.1, &a.0, b.1, &b.0));
                prop_assert_eq!(z.range(0, false, usize::MAX), model.clone());
                for (r, (m, s)) in model.iter().enumerate() {
                    prop_assert_eq!(z.rank(m), Some(r));
                    prop_assert_eq!(z.score(m), Some(*s));
                }
                let sr = ScoreRange { min: -1.0, max: 1.0, minex: true, maxex: false };
                let lo = model.iter().filter(|(_, s)| *s <= -1.0).count();
                let hi = model.iter().filter(|(_, s)| *s <= 1.0).count();
                prop_assert_eq!(z.score_span(&sr), (lo, hi));
                if model.iter().all(|(_, s)| *s == model[0].1) {
                    let lr = LexRange::parse(b"(m2", b"[m7").unwrap();
                    let inside: Vec<usize> = (0..model.len())
                        .filter(|&i| lr.gte_min(&model[i].0) && lr.lte_max(&model[i].0))
                        .collect();
                    prop_assert_eq!(z.lex_first(&lr), inside.first().copied());
                    prop_assert_eq!(z.lex_last(&lr), inside.last().copied());
                    prop_assert_eq!(z.lex_count(&lr), inside.len());
                }
            }
        }
    }
}

//! The list value (Redis's `t_list.c` data side): a deque of element byte
//! strings, in chunks as Redis's quicklist is (`types::chunked`), plus the
//! bookkeeping Redis's memory reports need. Pure data type,
//! no RESP, no keyspace: key lookup, type checks, empty-list deletion and
//! replies stay with `commands/list.rs`. Owned by: the shard whose keyspace
//! holds the value. Every operation is total: out-of-range indexes are
//! answered (None / false / empty), never a panic.
//!
//! Elements are always copied out of request buffers on insertion, so a
//! stored list never pins a network read buffer; reads hand out slices.

use bytes::Bytes;

use super::chunked::Chunked;

use crate::persistence::rdb::listpack::entry_size as listpack_entry_size;
use crate::shard::value::memory;

/// Which end of a list (Redis's `LIST_HEAD` / `LIST_TAIL`; LEFT / RIGHT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Left,
    Right,
}

/// `list-max-listpack-size -2`: one quicklist node holds at most 8 KiB of
/// listpack (`SIZE_SAFETY_LIMIT`, `optimization_level[1]`).
pub const NODE_BYTES: usize = 8192;
/// Listpack header (total bytes + count) and end marker (`LP_HDR_SIZE`, `LP_EOF`).
const LP_HEADER: usize = 6;
const LP_END: usize = 1;
/// `sizeof(quicklist)` and `sizeof(quicklistNode)` on a 64-bit build.
const QUICKLIST: usize = 40;
const QUICKLIST_NODE: usize = 40;

/// A list of byte strings, boxed (as Redis's `quicklist` struct is its own
/// allocation) so that every keyspace entry stays small: the other values
/// fit in 32 bytes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct List {
    b: Box<Body>,
}

/// `bytes` tracks the listpack size of the elements (`lpEncode…` sizes
/// plus back-lengths) so MEMORY USAGE needs no walk.
#[derive(Clone, Debug, Default, PartialEq)]
struct Body {
    items: Chunked,
    bytes: usize,
}

/// Resolves Redis's inclusive `start..=end` with negative indexes
/// (`addListRangeReply`, `ltrimCommand`): `None` when the range is empty.
pub fn resolve_range(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let start = if start < 0 {
        len.saturating_add(start)
    } else {
        start
    }
    .max(0);
    let end = if end < 0 {
        len.saturating_add(end)
    } else {
        end
    };
    if start > end || start >= len {
        return None;
    }
    let end = end.min(len - 1);
    Some((start as usize, end as usize))
}

impl List {
    pub fn new() -> List {
        List::default()
    }

    /// A list of these elements, head first (an RDB or RESTORE load).
    pub fn from_items(items: Vec<Bytes>) -> List {
        let bytes = items.iter().map(|e| listpack_entry_size(e)).sum();
        List {
            b: Box::new(Body {
                items: Chunked::from_items(items.iter().map(Bytes::as_ref)),
                bytes,
            }),
        }
    }

    pub fn len(&self) -> usize {
        self.b.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.b.items.is_empty()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator {
        self.b.items.iter()
    }

    fn added(&mut self, e: &[u8]) {
        self.b.bytes += listpack_entry_size(e);
    }

    fn removed(&mut self, e: &[u8]) {
        self.b.bytes = self.b.bytes.saturating_sub(listpack_entry_size(e));
    }

    /// Pushes a copy of `e` at `end`.
    pub fn push(&mut self, end: End, e: &[u8]) {
        self.added(e);
        match end {
            End::Left => self.b.items.push_front(e),
            End::Right => self.b.items.push_back(e),
        }
    }

    pub fn pop(&mut self, end: End) -> Option<Bytes> {
        let e = match end {
            End::Left => self.b.items.pop_front(),
            End::Right => self.b.items.pop_back(),
        }?;
        self.removed(&e);
        Some(e)
    }

    /// Pops up to `count` elements from `end`, in pop order (LPOP/RPOP with
    /// a count, LMPOP).
    pub fn pop_many(&mut self, end: End, count: usize) -> Vec<Bytes> {
        let n = count.min(self.len());
        (0..n).filter_map(|_| self.pop(end)).collect()
    }

    /// Position of a Redis index (negative counts from the tail), if in range.
    fn position(&self, index: i64) -> Option<usize> {
        let len = i64::try_from(self.len()).ok()?;
        let i = if index < 0 {
            len.checked_add(index)?
        } else {
            index
        };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// LINDEX.
    pub fn get(&self, index: i64) -> Option<&[u8]> {
        self.b.items.get(self.position(index)?)
    }

    /// LSET: false when the index is out of range.
    pub fn set(&mut self, index: i64, e: &[u8]) -> bool {
        let Some(i) = self.position(index) else {
            return false;
        };
        let old = self.b.items.get(i).map_or(0, listpack_entry_size);
        if self.b.items.replace(i, e) {
            self.b.bytes = self.b.bytes.saturating_sub(old);
            self.added(e);
        }
        true
    }

    /// Elements `start..=end` (Redis indexes).
    pub fn range(&self, start: i64, end: i64) -> impl Iterator<Item = &[u8]> {
        let (s, n) = match resolve_range(self.len(), start, end) {
            Some((s, e)) => (s, e - s + 1),
            None => (self.len(), 0),
        };
        self.b.items.iter_from(s).take(n)
    }

    /// LINSERT: inserts `e` before or after the first `pivot` from the head.
    /// Returns false when there is no such pivot.
    pub fn insert(&mut self, after: bool, pivot: &[u8], e: &[u8]) -> bool {
        let Some(i) = self.b.items.iter().position(|x| x == pivot) else {
            return false;
        };
        self.added(e);
        self.b.items.insert(if after { i + 1 } else { i }, e);
        true
    }

    /// LREM: removes up to `count` elements equal to `e` (0 = all), from the
    /// head, or from the tail when `count` is negative. Returns how many.
    pub fn remove(&mut self, count: i64, e: &[u8]) -> usize {
        let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
        let from_tail = count < 0;
        let mut removed = 0;
        let n = self.b.items.len();
        let mut keep = vec![true; n];
        let equal = |&(_, x): &(usize, &[u8])| x == e;
        let matches: Box<dyn Iterator<Item = usize>> = if from_tail {
            Box::new(
                self.b
                    .items
                    .iter()
                    .enumerate()
                    .rev()
                    .filter(equal)
                    .map(|(i, _)| i),
            )
        } else {
            Box::new(
                self.b
                    .items
                    .iter()
                    .enumerate()
                    .filter(equal)
                    .map(|(i, _)| i),
            )
        };
        for i in matches {
            if limit != 0 && removed == limit {
                break;
            }
            keep[i] = false;
            removed += 1;
        }
        if removed > 0 {
            self.b
                .items
                .retain_by_index(|i| keep.get(i).copied().unwrap_or(true));
            self.b.bytes = self
                .b
                .bytes
                .saturating_sub(removed * listpack_entry_size(e));
        }
        removed
    }

    /// LTRIM: keeps only `start..=end` (Redis indexes); an empty range
    /// empties the list. Returns how many elements were removed.
    pub fn trim(&mut self, start: i64, end: i64) -> usize {
        let len = self.len();
        let (s, e) = match resolve_range(len, start, end) {
            Some(r) => r,
            None => {
                self.b.items.clear();
                self.b.bytes = 0;
                return len;
            }
        };
        for _ in 0..len - 1 - e {
            self.pop(End::Right);
        }
        for _ in 0..s {
            self.pop(End::Left);
        }
        len - self.len()
    }

    /// LPOS: indexes (from the head) of the matches of `e`. `rank` (≠ 0)
    /// skips to the rank-th match, counting from the tail when negative;
    /// `count` 0 = all matches; `maxlen` 0 = scan everything. Matches
    /// `lposCommand`.
    pub fn positions(&self, e: &[u8], rank: i64, count: usize, maxlen: usize) -> Vec<usize> {
        let skip = usize::try_from(rank.unsigned_abs().saturating_sub(1)).unwrap_or(usize::MAX);
        let scan = if maxlen == 0 { self.len() } else { maxlen };
        let len = self.len();
        let matches = |&(_, x): &(usize, &[u8])| x == e;
        let found: Box<dyn Iterator<Item = usize>> = if rank < 0 {
            Box::new(
                self.b
                    .items
                    .iter()
                    .rev()
                    .enumerate()
                    .take(scan)
                    .filter(matches)
                    .map(move |(i, _)| len - 1 - i),
            )
        } else {
            Box::new(
                self.b
                    .items
                    .iter()
                    .enumerate()
                    .take(scan)
                    .filter(matches)
                    .map(|(i, _)| i),
            )
        };
        let found = found.skip(skip);
        if count == 0 {
            found.collect()
        } else {
            found.take(count).collect()
        }
    }

    /// True while Redis would keep the whole list in one quicklist node
    /// (`list-max-listpack-size -2`: at most 8 KiB of listpack).
    pub fn fits_one_node(&self) -> bool {
        LP_HEADER + self.b.bytes + LP_END <= NODE_BYTES
    }

    /// OBJECT ENCODING. Redis 7.0 stores every list as a quicklist (the
    /// listpack encoding for small lists arrived in 7.2).
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// What `objectComputeSize` reports: robj + quicklist + per node the
    /// node struct and its listpack allocation.
    // COMPAT: Redis's node boundaries depend on the insertion history and it
    // samples 5 nodes; past one node this assumes full 8 KiB nodes.
    pub fn memory_usage(&self) -> usize {
        let base = memory::ROBJ + QUICKLIST;
        if self.fits_one_node() {
            return base + QUICKLIST_NODE + memory::alloc_size(LP_HEADER + self.b.bytes + LP_END);
        }
        let per_node = NODE_BYTES - LP_HEADER - LP_END;
        let nodes = self.b.bytes.div_ceil(per_node).max(1);
        let avg = (LP_HEADER + self.b.bytes / nodes + LP_END).min(NODE_BYTES);
        base + nodes * (QUICKLIST_NODE + memory::alloc_size(avg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> List {
        let mut l = List::new();
        for i in items {
            l.push(End::Right, i.as_bytes());
        }
        l
    }

    fn strs<B: AsRef<[u8]>>(v: impl IntoIterator<Item = B>) -> Vec<String> {
        v.into_iter()
            .map(|b| String::from_utf8_lossy(b.as_ref()).into_owned())
            .collect()
    }

    #[test]
    fn push_pop_both_ends() {
        let mut l = List::new();
        l.push(End::Left, b"b");
        l.push(End::Left, b"a");
        l.push(End::Right, b"c");
        assert_eq!(strs(l.range(0, -1)), ["a", "b", "c"]);
        assert_eq!(l.pop(End::Right).as_deref(), Some(&b"c"[..]));
        assert_eq!(strs(l.pop_many(End::Left, 5)), ["a", "b"]);
        assert!(l.is_empty());
        assert_eq!(l.b.bytes, 0);
        assert_eq!(l.pop(End::Left), None);
    }

    #[test]
    fn ranges_like_lrange() {
        let l = list(&["a", "b", "c", "d"]);
        assert_eq!(strs(l.range(1, 2)), ["b", "c"]);
        assert_eq!(strs(l.range(-2, -1)), ["c", "d"]);
        assert_eq!(strs(l.range(-100, 100)), ["a", "b", "c", "d"]);
        assert!(l.range(3, 1).next().is_none());
        assert!(l.range(4, 10).next().is_none());
        assert!(l.range(0, -5).next().is_none());
        assert!(l.range(i64::MIN, i64::MIN).next().is_none());
        assert_eq!(strs(l.range(i64::MIN, i64::MAX)).len(), 4);
    }

    #[test]
    fn index_set_insert() {
        let mut l = list(&["a", "b", "c"]);
        assert_eq!(l.get(-1), Some(&b"c"[..]));
        assert_eq!(l.get(3), None);
        assert_eq!(l.get(-4), None);
        assert_eq!(l.get(i64::MIN), None);
        assert!(l.set(-3, b"A"));
        assert!(!l.set(3, b"x"));
        assert!(l.insert(true, b"b", b"b2"));
        assert!(l.insert(false, b"A", b"first"));
        assert!(!l.insert(false, b"zz", b"x"));
        assert_eq!(strs(l.range(0, -1)), ["first", "A", "b", "b2", "c"]);
    }

    #[test]
    fn remove_counts() {
        let mut l = list(&["x", "a", "x", "b", "x"]);
        assert_eq!(l.remove(-2, b"x"), 2);
        assert_eq!(strs(l.range(0, -1)), ["x", "a", "b"]);
        let mut l = list(&["x", "a", "x", "b", "x"]);
        assert_eq!(l.remove(1, b"x"), 1);
        assert_eq!(strs(l.range(0, -1)), ["a", "x", "b", "x"]);
        assert_eq!(l.remove(0, b"x"), 2);
        assert_eq!(strs(l.range(0, -1)), ["a", "b"]);
        assert_eq!(l.remove(i64::MIN, b"a"), 1);
    }

    #[test]
    fn trims() {
        let mut l = list(&["a", "b", "c", "d", "e"]);
        assert_eq!(l.trim(1, -2), 2);
        assert_eq!(strs(l.range(0, -1)), ["b", "c", "d"]);
        assert_eq!(l.trim(5, 10), 3);
        assert!(l.is_empty());
        assert_eq!(l.b.bytes, 0);
    }

    #[test]
    fn lpos_options() {
        let l = list(&["a", "b", "c", "1", "2", "3", "c", "c"]);
        assert_eq!(l.positions(b"c", 1, 1, 0), [2]);
        assert_eq!(l.positions(b"c", 2, 1, 0), [6]);
        assert_eq!(l.positions(b"c", -1, 1, 0), [7]);
        assert_eq!(l.positions(b"c", 1, 0, 0), [2, 6, 7]);
        assert_eq!(l.positions(b"c", -2, 0, 0), [6, 2]);
        assert_eq!(l.positions(b"c", 1, 2, 0), [2, 6]);
        assert_eq!(l.positions(b"c", 1, 0, 3), [2]);
        assert_eq!(l.positions(b"c", -1, 0, 1), [7]);
        assert!(l.positions(b"z", 1, 0, 0).is_empty());
        assert!(l.positions(b"c", i64::MIN, 0, 0).is_empty());
    }

    #[test]
    fn listpack_sizes_and_memory() {
        assert_eq!(listpack_entry_size(b"a"), 3);
        assert_eq!(listpack_entry_size(b"12"), 2);
        assert_eq!(listpack_entry_size(b"1000"), 3);
        assert_eq!(listpack_entry_size(b"012"), 5);
        assert_eq!(listpack_entry_size(&[b'x'; 100]), 103);
        // RPUSH l a b c: MEMORY USAGE l is 144 on Redis 7.0 = 32 for the key.
        let l = list(&["a", "b", "c"]);
        assert_eq!(l.memory_usage(), 112);
        assert!(l.fits_one_node());
        assert_eq!(l.encoding(), "quicklist");
        let mut big = List::new();
        for _ in 0..100 {
            big.push(End::Left, &[b'v'; 100]);
        }
        assert!(!big.fits_one_node());
        assert!(big.memory_usage() > 10_000);
    }
}

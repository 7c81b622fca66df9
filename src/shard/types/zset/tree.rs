//! The ordered half of the `skiplist` encoding: an order-statistic treap
//! over (score, member), standing in for Redis's `zskiplist` with its span
//! counts. Pure data structure; owned by the sorted set that holds it (so by
//! the shard owning the key). Cloned whole for cross-shard scratch copies:
//! nodes live in one arena `Vec` linked by `u32` indexes, no `Rc`, no
//! `unsafe`.
//!
//! Every node carries the size of its subtree, which gives rank, select by
//! rank and the bounds of a score or lex range in O(log n) expected time, and
//! iteration from any rank in O(log n + k). Priorities come from a random
//! per-tree seed, so no insertion order chosen by a client can make the tree
//! degenerate (the recursive split / merge stay O(log n) deep).

use std::cmp::Ordering;

use bytes::Bytes;

/// "No node".
const NIL: u32 = u32::MAX;

#[derive(Clone, Debug)]
struct Node {
    member: Bytes,
    score: f64,
    left: u32,
    right: u32,
    /// Nodes in the subtree rooted here, this one included.
    size: u32,
    /// Heap priority: a parent's is never below its children's.
    prio: u32,
}

/// Where a subtree hangs: from the root, or as a node's left or right child.
#[derive(Clone, Copy)]
enum Link {
    Root,
    Left(u32),
    Right(u32),
}

/// The order of Redis's skiplist (`zslInsert`): by score, then by member
/// bytes (`sdscmp`, a shorter prefix first). Scores are never NaN.
pub fn cmp_entry(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    s1.partial_cmp(&s2)
        .unwrap_or(Ordering::Equal)
        .then_with(|| m1.cmp(m2))
}

/// Members with scores in (score, member) order; a member appears at most
/// once (the caller, `ZSet`, keeps the member → score map that ensures it).
#[derive(Clone, Debug)]
pub struct OrderTree {
    nodes: Vec<Node>,
    /// Arena slots of removed nodes, reused first.
    free: Vec<u32>,
    root: u32,
    /// xorshift64 state for priorities.
    rng: u64,
}

impl OrderTree {
    /// An empty tree whose priorities follow `seed` (any value; 0 is mapped
    /// to a non-zero state).
    pub fn new(seed: u64) -> OrderTree {
        OrderTree {
            nodes: Vec::new(),
            free: Vec::new(),
            root: NIL,
            rng: seed | 1,
        }
    }

    pub fn len(&self) -> usize {
        self.size(self.root)
    }

    pub fn is_empty(&self) -> bool {
        self.root == NIL
    }

    fn size(&self, t: u32) -> usize {
        if t == NIL {
            0
        } else {
            self.nodes[t as usize].size as usize
        }
    }

    fn left(&self, t: u32) -> u32 {
        self.nodes[t as usize].left
    }

    fn right(&self, t: u32) -> u32 {
        self.nodes[t as usize].right
    }

    fn update(&mut self, t: u32) {
        let size = 1 + self.size(self.left(t)) + self.size(self.right(t));
        self.nodes[t as usize].size = size as u32;
    }

    fn next_prio(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        (x >> 32) as u32
    }

    fn alloc(&mut self, member: Bytes, score: f64, prio: u32) -> u32 {
        let node = Node {
            member,
            score,
            left: NIL,
            right: NIL,
            size: 1,
            prio,
        };
        match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        }
    }

    /// Frees a slot, handing back its member.
    fn release(&mut self, t: u32) -> (Bytes, f64) {
        let n = &mut self.nodes[t as usize];
        let out = (std::mem::take(&mut n.member), n.score);
        n.left = NIL;
        n.right = NIL;
        self.free.push(t);
        out
    }

    /// Splits `t` into its first `k` nodes and the rest.
    fn split_at(&mut self, t: u32, k: usize) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let ls = self.size(self.left(t));
        if k <= ls {
            let (l, r) = self.split_at(self.left(t), k);
            self.nodes[t as usize].left = r;
            self.update(t);
            (l, t)
        } else {
            let (l, r) = self.split_at(self.right(t), k - ls - 1);
            self.nodes[t as usize].right = l;
            self.update(t);
            (t, r)
        }
    }

    /// Splits `t` into the nodes ordered before (`score`, `member`) and the
    /// rest.
    fn split_key(&mut self, t: u32, member: &[u8], score: f64) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let n = &self.nodes[t as usize];
        if cmp_entry(n.score, &n.member, score, member) == Ordering::Less {
            let (l, r) = self.split_key(n.right, member, score);
            self.nodes[t as usize].right = l;
            self.update(t);
            (t, r)
        } else {
            let (l, r) = self.split_key(n.left, member, score);
            self.nodes[t as usize].left = r;
            self.update(t);
            (l, t)
        }
    }

    fn set_link(&mut self, at: Link, t: u32) {
        match at {
            Link::Root => self.root = t,
            Link::Left(p) => self.nodes[p as usize].left = t,
            Link::Right(p) => self.nodes[p as usize].right = t,
        }
    }

    /// Joins two trees, every node of `a` before every node of `b`.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].prio >= self.nodes[b as usize].prio {
            let r = self.merge(self.right(a), b);
            self.nodes[a as usize].right = r;
            self.update(a);
            a
        } else {
            let l = self.merge(a, self.left(b));
            self.nodes[b as usize].left = l;
            self.update(b);
            b
        }
    }

    /// How many leading entries satisfy `pred`, which must hold for a prefix
    /// of the order and fail after it (a binary search down the tree).
    pub fn partition_point(&self, pred: impl Fn(&[u8], f64) -> bool) -> usize {
        let (mut t, mut count) = (self.root, 0);
        while t != NIL {
            let n = &self.nodes[t as usize];
            if pred(&n.member, n.score) {
                count += self.size(n.left) + 1;
                t = n.right;
            } else {
                t = n.left;
            }
        }
        count
    }

    /// Inserts a member that is not in the tree, in one walk down: every
    /// node passed gains a descendant, and the new node takes the place of
    /// the first one whose priority is below its own, that subtree split
    /// around it becoming its children (a small subtree, on average, so
    /// the split is short).
    pub fn insert(&mut self, member: Bytes, score: f64) {
        let prio = self.next_prio();
        let (mut at, mut t) = (Link::Root, self.root);
        while t != NIL && self.nodes[t as usize].prio >= prio {
            let n = &mut self.nodes[t as usize];
            n.size += 1;
            (at, t) = if cmp_entry(score, &member, n.score, &n.member) == Ordering::Less {
                (Link::Left(t), n.left)
            } else {
                (Link::Right(t), n.right)
            };
        }
        let (l, r) = self.split_key(t, &member, score);
        let node = self.alloc(member, score, prio);
        let n = &mut self.nodes[node as usize];
        (n.left, n.right) = (l, r);
        self.update(node);
        self.set_link(at, node);
    }

    /// 0-based rank of `member` with `score` (its current score), if present.
    pub fn rank(&self, member: &[u8], score: f64) -> Option<usize> {
        let (mut t, mut count) = (self.root, 0);
        while t != NIL {
            let n = &self.nodes[t as usize];
            match cmp_entry(n.score, &n.member, score, member) {
                Ordering::Less => {
                    count += self.size(n.left) + 1;
                    t = n.right;
                }
                Ordering::Greater => t = n.left,
                Ordering::Equal => return Some(count + self.size(n.left)),
            }
        }
        None
    }

    /// Removes `member` with `score` (its current score); false if absent.
    /// One walk down once it is known to be there (every node passed loses
    /// a descendant); its two subtrees, merged, take its place.
    pub fn remove(&mut self, member: &[u8], score: f64) -> bool {
        if self.rank(member, score).is_none() {
            return false;
        }
        let (mut at, mut t) = (Link::Root, self.root);
        while t != NIL {
            let n = &mut self.nodes[t as usize];
            (at, t) = match cmp_entry(n.score, &n.member, score, member) {
                Ordering::Equal => break,
                Ordering::Less => (Link::Right(t), n.right),
                Ordering::Greater => (Link::Left(t), n.left),
            };
            n.size -= 1;
        }
        let joined = self.merge(self.left(t), self.right(t));
        self.set_link(at, joined);
        self.release(t);
        self.after_removal();
        true
    }

    /// The entry at 0-based rank `i`.
    pub fn get(&self, mut i: usize) -> Option<(&Bytes, f64)> {
        let mut t = self.root;
        while t != NIL {
            let n = &self.nodes[t as usize];
            let ls = self.size(n.left);
            match i.cmp(&ls) {
                Ordering::Less => t = n.left,
                Ordering::Equal => return Some((&n.member, n.score)),
                Ordering::Greater => {
                    i -= ls + 1;
                    t = n.right;
                }
            }
        }
        None
    }

    /// Removes ranks `start..end`, handing each removed entry to `removed`
    /// in order. Returns how many went.
    pub fn remove_range(
        &mut self,
        start: usize,
        end: usize,
        mut removed: impl FnMut(Bytes, f64),
    ) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        let (l, rest) = self.split_at(self.root, start);
        let (mid, r) = self.split_at(rest, end - start);
        self.root = self.merge(l, r);
        // In-order walk of the cut-out subtree, freeing as it goes.
        let mut stack = Vec::new();
        let mut t = mid;
        let mut n = 0;
        while t != NIL || !stack.is_empty() {
            while t != NIL {
                stack.push(t);
                t = self.left(t);
            }
            let Some(top) = stack.pop() else { break };
            t = self.right(top);
            let (m, s) = self.release(top);
            removed(m, s);
            n += 1;
        }
        self.after_removal();
        n
    }

    /// Gives the arena back, or right-sizes it, when removals left most of
    /// it free.
    fn after_removal(&mut self) {
        if self.root == NIL {
            // Nothing left: give the arena back.
            self.nodes = Vec::new();
            self.free = Vec::new();
        } else if self.nodes.len() > 64 && self.len() * 4 < self.nodes.len() {
            self.compact();
        }
    }

    /// Rebuilds the tree in a right-sized arena once most slots are free
    /// (a set that shrank a lot should not keep its peak memory).
    /// O(n log n), after at least 3n removals: amortised O(log n) each.
    fn compact(&mut self) {
        let entries: Vec<(Bytes, f64)> = self
            .iter_from(0, false)
            .map(|(m, s)| (m.clone(), s))
            .collect();
        let mut fresh = OrderTree::new(self.rng);
        fresh.nodes.reserve_exact(entries.len());
        for (m, s) in entries {
            fresh.insert(m, s);
        }
        *self = fresh;
    }

    /// Arena slots in use or free (for tests of `compact`).
    #[cfg(test)]
    fn slots(&self) -> usize {
        self.nodes.len()
    }

    /// Entries from rank `from` on, in order (`rev`: from rank `from` down
    /// to rank 0). Empty when `from` is out of range.
    pub fn iter_from(&self, from: usize, rev: bool) -> Iter<'_> {
        let mut stack = Vec::new();
        let (mut t, mut i) = (self.root, from);
        if from < self.len() {
            while t != NIL {
                let n = &self.nodes[t as usize];
                let ls = self.size(n.left);
                match i.cmp(&ls) {
                    Ordering::Equal => {
                        stack.push(t);
                        break;
                    }
                    // Forward, the ancestors we pass on their left come
                    // after the start; backward, those on their right
                    // come after it.
                    Ordering::Less => {
                        if !rev {
                            stack.push(t);
                        }
                        t = n.left;
                    }
                    Ordering::Greater => {
                        if rev {
                            stack.push(t);
                        }
                        i -= ls + 1;
                        t = n.right;
                    }
                }
            }
        }
        Iter {
            tree: self,
            stack,
            rev,
        }
    }

    /// Checks heap order and subtree sizes below `t`; returns its size.
    #[cfg(test)]
    fn check(&self, t: u32) -> usize {
        if t == NIL {
            return 0;
        }
        let n = &self.nodes[t as usize];
        for c in [n.left, n.right] {
            if c != NIL {
                assert!(self.nodes[c as usize].prio <= n.prio, "heap order");
            }
        }
        let size = 1 + self.check(n.left) + self.check(n.right);
        assert_eq!(size, n.size as usize, "subtree size");
        size
    }
}

/// In-order (or reverse-order) walk from a rank; see `OrderTree::iter_from`.
pub struct Iter<'a> {
    tree: &'a OrderTree,
    stack: Vec<u32>,
    rev: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Bytes, f64);

    fn next(&mut self) -> Option<Self::Item> {
        let t = self.stack.pop()?;
        let nodes = &self.tree.nodes;
        let n = &nodes[t as usize];
        // Next: the nearest node of the subtree on the walking side.
        let mut c = if self.rev { n.left } else { n.right };
        while c != NIL {
            self.stack.push(c);
            let cn = &nodes[c as usize];
            c = if self.rev { cn.right } else { cn.left };
        }
        Some((&n.member, n.score))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn model_sorted(m: &mut [(Bytes, f64)]) {
        m.sort_by(|a, b| cmp_entry(a.1, &a.0, b.1, &b.0));
    }

    fn contents(t: &OrderTree) -> Vec<(Bytes, f64)> {
        t.iter_from(0, false).map(|(m, s)| (m.clone(), s)).collect()
    }

    #[test]
    fn basic_order_rank_select() {
        let mut t = OrderTree::new(7);
        for (m, s) in [("c", 2.0), ("a", 2.0), ("z", 1.0), ("b", f64::INFINITY)] {
            t.insert(b(m), s);
        }
        let names: Vec<&[u8]> = t.iter_from(0, false).map(|(m, _)| m.as_ref()).collect();
        assert_eq!(names, [&b"z"[..], b"a", b"c", b"b"]);
        assert_eq!(t.rank(b"c", 2.0), Some(2));
        assert_eq!(t.rank(b"c", 1.0), None);
        assert_eq!(t.get(3).map(|(m, _)| m.clone()), Some(b("b")));
        assert!(t.get(4).is_none());
        let back: Vec<&[u8]> = t.iter_from(2, true).map(|(m, _)| m.as_ref()).collect();
        assert_eq!(back, [&b"c"[..], b"a", b"z"]);
        assert_eq!(t.iter_from(4, false).count(), 0);
        assert!(t.remove(b"a", 2.0));
        assert!(!t.remove(b"a", 2.0));
        assert_eq!(t.len(), 3);
        let mut gone = Vec::new();
        assert_eq!(t.remove_range(0, 10, |m, _| gone.push(m)), 3);
        assert_eq!(gone, [b("z"), b("c"), b("b")]);
        assert!(t.is_empty());
    }

    #[test]
    fn sorted_insertion_stays_shallow() {
        // Ascending inserts would make an unbalanced BST a list; the treap's
        // random priorities keep it logarithmic.
        let mut t = OrderTree::new(0x1234_5678);
        for i in 0..100_000u32 {
            t.insert(Bytes::from(i.to_be_bytes().to_vec()), f64::from(i));
        }
        fn depth(t: &OrderTree, n: u32) -> usize {
            if n == NIL {
                0
            } else {
                1 + depth(t, t.left(n)).max(depth(t, t.right(n)))
            }
        }
        assert!(depth(&t, t.root) < 80, "depth {}", depth(&t, t.root));
        assert_eq!(t.check(t.root), 100_000);
        assert_eq!(t.rank(&77_777u32.to_be_bytes(), 77_777.0), Some(77_777));
    }

    #[test]
    fn shrinking_compacts_the_arena() {
        let mut t = OrderTree::new(99);
        for i in 0..1000u32 {
            t.insert(Bytes::from(format!("m{i:04}")), f64::from(i % 10));
        }
        assert_eq!(t.remove_range(0, 500, |_, _| {}), 500);
        assert_eq!(t.slots(), 1000);
        assert_eq!(t.remove_range(100, 400, |_, _| {}), 300);
        assert_eq!((t.len(), t.slots()), (200, 200));
        assert_eq!(t.check(t.root), 200);
        let got: Vec<f64> = t.iter_from(0, false).map(|(_, s)| s).collect();
        assert!(got.windows(2).all(|w| w[0] <= w[1]));
        t.insert(b("new"), 0.5);
        assert_eq!(t.rank(b"new", 0.5), Some(0));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, i8),
        Remove(u8),
        RemoveRange(u8, u8),
        Check(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<u8>(), -4i8..4).prop_map(|(m, s)| Op::Insert(m % 40, s)),
            2 => any::<u8>().prop_map(|m| Op::Remove(m % 40)),
            1 => (any::<u8>(), any::<u8>()).prop_map(|(a, n)| Op::RemoveRange(a % 40, n % 6)),
            2 => any::<u8>().prop_map(|i| Op::Check(i % 45)),
        ]
    }

    proptest! {
        /// The tree against a sorted Vec: contents, rank, select, partition
        /// points, range removal and iteration from every rank both ways.
        #[test]
        fn matches_sorted_vec(seed in any::<u64>(), ops in proptest::collection::vec(op(), 1..120)) {
            let mut t = OrderTree::new(seed);
            let mut model: Vec<(Bytes, f64)> = Vec::new();
            for op in ops {
                match op {
                    Op::Insert(m, s) => {
                        let m = Bytes::from(format!("m{m}"));
                        let s = f64::from(s) / 2.0;
                        if let Some(p) = model.iter().position(|(x, _)| *x == m) {
                            let old = model.remove(p).1;
                            prop_assert!(t.remove(&m, old));
                        }
                        model.push((m.clone(), s));
                        model_sorted(&mut model);
                        t.insert(m, s);
                    }
                    Op::Remove(m) => {
                        let m = format!("m{m}");
                        let p = model.iter().position(|(x, _)| x.as_ref() == m.as_bytes());
                        let score = p.map_or(0.0, |p| model[p].1);
                        prop_assert_eq!(t.remove(m.as_bytes(), score), p.is_some());
                        if let Some(p) = p {
                            model.remove(p);
                        }
                    }
                    Op::RemoveRange(a, n) => {
                        let (a, e) = (a as usize, a as usize + n as usize);
                        let mut got = Vec::new();
                        let k = t.remove_range(a, e, |m, s| got.push((m, s)));
                        let want: Vec<(Bytes, f64)> =
                            model.drain(a.min(model.len())..e.min(model.len())).collect();
                        prop_assert_eq!(k, want.len());
                        prop_assert_eq!(got, want);
                    }
                    Op::Check(i) => {
                        let i = i as usize;
                        let fwd: Vec<(Bytes, f64)> =
                            t.iter_from(i, false).map(|(m, s)| (m.clone(), s)).collect();
                        let want: Vec<(Bytes, f64)> = model.iter().skip(i).cloned().collect();
                        prop_assert_eq!(fwd, want);
                        let back: Vec<(Bytes, f64)> =
                            t.iter_from(i, true).map(|(m, s)| (m.clone(), s)).collect();
                        let want: Vec<(Bytes, f64)> = if i < model.len() {
                            model[..=i].iter().rev().cloned().collect()
                        } else {
                            Vec::new()
                        };
                        prop_assert_eq!(back, want);
                        prop_assert_eq!(t.get(i).map(|(m, s)| (m.clone(), s)), model.get(i).cloned());
                        let cut = f64::from(i as u32 % 9) / 2.0 - 2.0;
                        prop_assert_eq!(
                            t.partition_point(|_, s| s < cut),
                            model.partition_point(|(_, s)| *s < cut)
                        );
                    }
                }
                prop_assert_eq!(t.check(t.root), model.len());
                prop_assert_eq!(contents(&t), model.clone());
                for (r, (m, s)) in model.iter().enumerate() {
                    prop_assert_eq!(t.rank(m, *s), Some(r));
                }
            }
        }
    }
}

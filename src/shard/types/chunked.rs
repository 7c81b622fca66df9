//! A deque of byte strings in chunks, the shape of Redis's quicklist: each
//! chunk packs up to `CHUNK` elements (and about `CHUNK_BYTES` of them) in
//! one buffer with back-lengths (`Packed<true>`, Redis's listpack), so a
//! short element costs a few bytes instead of a handle and an allocation;
//! pushing and popping at either end touch one small chunk, a long list
//! never copies itself whole to grow, and an index is found by skipping
//! whole chunks. Pure data structure. Owned by: the list value that holds
//! it.

use std::collections::VecDeque;

use bytes::Bytes;

use super::packed::Packed;

/// Elements per chunk at most.
const CHUNK: usize = 128;
/// A chunk takes no more elements once its buffer is this big (Redis's
/// 8 KiB `list-max-listpack-size -2`); a bigger element has a chunk of
/// its own.
const CHUNK_BYTES: usize = 8192;

type Chunk = Packed<true>;

/// Whether `c` has room for one more element of `n` bytes.
fn has_room(c: &Chunk, n: usize) -> bool {
    c.len() < CHUNK && c.encoded_len() + n <= CHUNK_BYTES
}

#[derive(Clone, Debug, Default)]
pub struct Chunked {
    /// Never holds an empty chunk.
    chunks: VecDeque<Chunk>,
    len: usize,
}

impl Chunked {
    /// These elements in order, in chunks filled up to the limits.
    pub fn from_items<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Chunked {
        let mut out = Chunked::default();
        for e in items {
            out.push_back(e);
        }
        for c in &mut out.chunks {
            c.shrink_to_fit();
        }
        out
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn clear(&mut self) {
        self.chunks.clear();
        self.len = 0;
    }

    pub fn push_front(&mut self, e: &[u8]) {
        match self.chunks.front_mut() {
            Some(c) if has_room(c, e.len()) => c.push_front(e),
            _ => {
                let mut c = Chunk::new();
                c.push(e);
                self.reserve_chunk();
                self.chunks.push_front(c);
            }
        }
        self.len += 1;
    }

    pub fn push_back(&mut self, e: &[u8]) {
        match self.chunks.back_mut() {
            Some(c) if has_room(c, e.len()) => c.push(e),
            _ => {
                let mut c = Chunk::new();
                c.push(e);
                self.reserve_chunk();
                self.chunks.push_back(c);
            }
        }
        self.len += 1;
    }

    /// Room for one more chunk: exactly one for the first (most lists are
    /// short), doubling after that.
    fn reserve_chunk(&mut self) {
        if self.chunks.capacity() == 0 {
            self.chunks.reserve_exact(1);
        }
    }

    pub fn pop_front(&mut self) -> Option<Bytes> {
        let c = self.chunks.front_mut()?;
        let e = c.pop_front();
        if c.is_empty() {
            self.chunks.pop_front();
        }
        self.len = self.len.saturating_sub(1);
        e.map(Bytes::from)
    }

    pub fn pop_back(&mut self) -> Option<Bytes> {
        let c = self.chunks.back_mut()?;
        let e = c.pop_back();
        if c.is_empty() {
            self.chunks.pop_back();
        }
        self.len = self.len.saturating_sub(1);
        e.map(Bytes::from)
    }

    /// The chunk holding element `i` and the position in it, walking from
    /// the nearer end.
    fn locate(&self, i: usize) -> Option<(usize, usize)> {
        if i >= self.len {
            return None;
        }
        if i < self.len / 2 {
            let mut left = i;
            for (ci, c) in self.chunks.iter().enumerate() {
                if left < c.len() {
                    return Some((ci, left));
                }
                left -= c.len();
            }
        } else {
            let mut after = self.len - 1 - i;
            for (ci, c) in self.chunks.iter().enumerate().rev() {
                if after < c.len() {
                    return Some((ci, c.len() - 1 - after));
                }
                after -= c.len();
            }
        }
        None
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let (c, at) = self.locate(i)?;
        let c = self.chunks.get(c)?;
        // From the nearer end of the chunk.
        if at < c.len() / 2 {
            c.iter().nth(at)
        } else {
            c.iter().rev().nth(c.len() - 1 - at)
        }
    }

    /// Replaces element `i` with `e`; false when out of range.
    pub fn replace(&mut self, i: usize, e: &[u8]) -> bool {
        let Some((c, at)) = self.locate(i) else {
            return false;
        };
        let Some(chunk) = self.chunks.get_mut(c) else {
            return false;
        };
        match chunk.offset_of(at) {
            Some(off) => chunk.replace(off, e),
            None => false,
        }
    }

    /// Inserts `e` so it becomes element `i` (`i == len` appends). A full
    /// chunk is split in two first.
    pub fn insert(&mut self, i: usize, e: &[u8]) {
        let Some((mut c, mut at)) = self.locate(i) else {
            self.push_back(e);
            return;
        };
        if !self.chunks.get(c).is_some_and(|k| has_room(k, e.len())) {
            let Some(chunk) = self.chunks.get_mut(c) else {
                return;
            };
            let half = chunk.len() / 2;
            if half > 0 {
                let tail = chunk.split_off(half);
                self.chunks.insert(c + 1, tail);
                if at >= half {
                    c += 1;
                    at -= half;
                }
            }
        }
        if let Some(chunk) = self.chunks.get_mut(c) {
            if let Some(off) = chunk.offset_of(at) {
                chunk.insert(off, [e]);
                self.len += 1;
            }
        }
    }

    /// Keeps the elements for which `keep(index)` is true.
    pub fn retain_by_index(&mut self, mut keep: impl FnMut(usize) -> bool) {
        let mut i = 0;
        for c in &mut self.chunks {
            let kept: Vec<bool> = (0..c.len())
                .map(|_| {
                    let k = keep(i);
                    i += 1;
                    k
                })
                .collect();
            if kept.iter().all(|&k| k) {
                continue;
            }
            let mut flags = kept.iter();
            *c = Chunk::from_entries(c.iter().filter(|_| flags.next().copied().unwrap_or(true)));
        }
        self.chunks.retain(|c| !c.is_empty());
        self.len = self.chunks.iter().map(Chunk::len).sum();
    }

    /// Elements from the head, both ways, exact length.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: self.chunks.iter().flatten(),
            left: self.len,
        }
    }

    /// Elements `from..` (from ≤ len), found by skipping whole chunks.
    pub fn iter_from(&self, from: usize) -> impl Iterator<Item = &[u8]> {
        let (c, at) = self.locate(from).unwrap_or((self.chunks.len(), 0));
        self.chunks
            .range(c.min(self.chunks.len())..)
            .enumerate()
            .flat_map(move |(n, chunk)| chunk.iter_from(if n == 0 { at } else { 0 }))
    }

    /// Elements and encoded bytes of each chunk.
    #[cfg(test)]
    fn chunk_lens(&self) -> Vec<(usize, usize)> {
        self.chunks
            .iter()
            .map(|c| (c.len(), c.encoded_len()))
            .collect()
    }
}

impl PartialEq for Chunked {
    /// Equal elements in order, however they are chunked.
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

pub struct Iter<'a> {
    inner: std::iter::Flatten<std::collections::vec_deque::Iter<'a, Chunk>>,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let e = self.inner.next()?;
        self.left = self.left.saturating_sub(1);
        Some(e)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let e = self.inner.next_back()?;
        self.left = self.left.saturating_sub(1);
        Some(e)
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation against a plain `VecDeque`, across chunk boundaries
    /// and with elements big enough to end a chunk early.
    #[test]
    fn behaves_as_a_deque() {
        let mut c = Chunked::default();
        let mut d: VecDeque<Vec<u8>> = VecDeque::new();
        let mut x = 7u64;
        let mut step = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let elem = |n: u64, r: u64| -> Vec<u8> {
            let mut e = n.to_string().into_bytes();
            if r % 97 == 0 {
                e.resize(3000 + (r % 7000) as usize, b'x');
            }
            e
        };
        for n in 0..20_000u64 {
            let r = step();
            match r % 9 {
                0..=2 => {
                    let e = elem(n, r >> 8);
                    c.push_back(&e);
                    d.push_back(e);
                }
                3..=4 => {
                    let e = elem(n, r >> 8);
                    c.push_front(&e);
                    d.push_front(e);
                }
                5 => assert_eq!(c.pop_front().map(|b| b.to_vec()), d.pop_front()),
                6 => assert_eq!(c.pop_back().map(|b| b.to_vec()), d.pop_back()),
                7 => {
                    let i = (step() as usize) % (d.len() + 1);
                    let e = elem(n, r >> 8);
                    c.insert(i, &e);
                    d.insert(i, e);
                }
                _ => {
                    let i = (step() as usize) % (d.len() + 1);
                    assert_eq!(c.get(i), d.get(i).map(Vec::as_slice));
                    let e = elem(n + 1, r >> 8);
                    assert_eq!(c.replace(i, &e), i < d.len());
                    if let Some(slot) = d.get_mut(i) {
                        *slot = e;
                    }
                }
            }
            assert_eq!(c.len(), d.len());
        }
        assert!(c.iter().eq(d.iter().map(Vec::as_slice)));
        assert!(c.iter().rev().eq(d.iter().rev().map(Vec::as_slice)));
        assert_eq!(c.iter().len(), d.len());
        for from in [0, 1, 127, 128, 129, d.len() / 2, d.len() - 1, d.len()] {
            assert!(
                c.iter_from(from).eq(d.iter().skip(from).map(Vec::as_slice)),
                "from {from}"
            );
        }
        assert!(c.chunk_lens().iter().all(|&(n, _)| n > 0 && n <= CHUNK));
        c.retain_by_index(|i| i % 3 == 0);
        let kept: Vec<Vec<u8>> = d.iter().cloned().step_by(3).collect();
        assert!(c.iter().eq(kept.iter().map(Vec::as_slice)));
        assert_eq!(c.len(), kept.len());
        assert_eq!(Chunked::from_items(kept.iter().map(Vec::as_slice)), c);
        c.clear();
        assert!(c.is_empty() && c.iter().next().is_none() && c.pop_back().is_none());
    }

    #[test]
    fn chunks_close_at_their_byte_limit() {
        let e = vec![b'v'; 1000];
        let c = Chunked::from_items(std::iter::repeat_n(&e[..], 100));
        let lens = c.chunk_lens();
        assert!(lens
            .iter()
            .all(|&(n, bytes)| n == 8 || bytes <= CHUNK_BYTES));
        assert_eq!(lens.iter().map(|&(n, _)| n).sum::<usize>(), 100);
        let big = vec![b'b'; 20_000];
        let mut c = Chunked::from_items([&b"a"[..], b"b"]);
        c.push_back(&big);
        c.push_front(&big);
        assert_eq!(
            c.chunk_lens().iter().map(|&(n, _)| n).collect::<Vec<_>>(),
            [1, 2, 1]
        );
    }
}

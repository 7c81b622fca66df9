//! A deque in chunks of at most `CHUNK` elements, the shape of Redis's
//! quicklist: pushing and popping at either end touch one small chunk, so a
//! long list never copies itself whole to grow (one `VecDeque` of a million
//! elements moved 32 MB in one go, stalling every client of the shard), and
//! an index is found by skipping whole chunks. Pure data structure. Owned
//! by: the list value that holds it.

use std::collections::VecDeque;

/// Elements per chunk; a chunk only grows up to this, so small lists stay
/// small and a full one is 4 KiB of element handles.
const CHUNK: usize = 128;

#[derive(Clone, Debug)]
pub struct Chunked<T> {
    /// Never holds an empty chunk.
    chunks: VecDeque<VecDeque<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: VecDeque::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    /// Elements in order, in chunks of exactly `CHUNK` (the last shorter).
    pub fn from_vec(items: Vec<T>) -> Chunked<T> {
        let len = items.len();
        let mut chunks = VecDeque::with_capacity(len.div_ceil(CHUNK));
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            chunks.push_back(items.by_ref().take(CHUNK).collect());
        }
        Chunked { chunks, len }
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

    pub fn push_front(&mut self, e: T) {
        match self.chunks.front_mut() {
            Some(c) if c.len() < CHUNK => c.push_front(e),
            _ => {
                let mut c = VecDeque::with_capacity(self.new_chunk_capacity());
                c.push_back(e);
                self.chunks.push_front(c);
            }
        }
        self.len += 1;
    }

    pub fn push_back(&mut self, e: T) {
        match self.chunks.back_mut() {
            Some(c) if c.len() < CHUNK => c.push_back(e),
            _ => {
                let mut c = VecDeque::with_capacity(self.new_chunk_capacity());
                c.push_back(e);
                self.chunks.push_back(c);
            }
        }
        self.len += 1;
    }

    /// The first chunk grows as a `VecDeque` does (a short list stays
    /// short); the chunks after it start at full size.
    fn new_chunk_capacity(&self) -> usize {
        if self.chunks.is_empty() {
            1
        } else {
            CHUNK
        }
    }

    pub fn pop_front(&mut self) -> Option<T> {
        let c = self.chunks.front_mut()?;
        let e = c.pop_front();
        if c.is_empty() {
            self.chunks.pop_front();
        }
        self.len -= 1;
        e
    }

    pub fn pop_back(&mut self) -> Option<T> {
        let c = self.chunks.back_mut()?;
        let e = c.pop_back();
        if c.is_empty() {
            self.chunks.pop_back();
        }
        self.len -= 1;
        e
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

    pub fn get(&self, i: usize) -> Option<&T> {
        let (c, at) = self.locate(i)?;
        self.chunks.get(c)?.get(at)
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        let (c, at) = self.locate(i)?;
        self.chunks.get_mut(c)?.get_mut(at)
    }

    /// Inserts `e` so it becomes element `i` (`i == len` appends). A full
    /// chunk is split in two first.
    pub fn insert(&mut self, i: usize, e: T) {
        if i >= self.len {
            self.push_back(e);
            return;
        }
        let Some((mut c, mut at)) = self.locate(i) else {
            self.push_back(e);
            return;
        };
        if self.chunks[c].len() >= CHUNK {
            let tail = self.chunks[c].split_off(CHUNK / 2);
            self.chunks.insert(c + 1, tail);
            if at >= CHUNK / 2 {
                c += 1;
                at -= CHUNK / 2;
            }
        }
        self.chunks[c].insert(at, e);
        self.len += 1;
    }

    /// Keeps the elements for which `keep(index)` is true.
    pub fn retain_by_index(&mut self, mut keep: impl FnMut(usize) -> bool) {
        let mut i = 0;
        for c in &mut self.chunks {
            c.retain(|_| {
                let k = keep(i);
                i += 1;
                k
            });
        }
        self.chunks.retain(|c| !c.is_empty());
        self.len = self.chunks.iter().map(VecDeque::len).sum();
    }

    /// Elements from the head, both ways, exact length.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            inner: self.chunks.iter().flatten(),
            left: self.len,
        }
    }

    /// Elements `from..` (from ≤ len), found by skipping whole chunks.
    pub fn iter_from(&self, from: usize) -> impl Iterator<Item = &T> {
        let (c, at) = self.locate(from).unwrap_or((self.chunks.len(), 0));
        self.chunks
            .range(c.min(self.chunks.len())..)
            .enumerate()
            .flat_map(move |(n, chunk)| chunk.range(if n == 0 { at } else { 0 }..))
    }
}

impl<T: PartialEq> PartialEq for Chunked<T> {
    /// Equal elements in order, however they are chunked.
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

pub struct Iter<'a, T> {
    inner: std::iter::Flatten<std::collections::vec_deque::Iter<'a, VecDeque<T>>>,
    left: usize,
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        let e = self.inner.next()?;
        self.left -= 1;
        Some(e)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<T> DoubleEndedIterator for Iter<'_, T> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let e = self.inner.next_back()?;
        self.left -= 1;
        Some(e)
    }
}

impl<T> ExactSizeIterator for Iter<'_, T> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation against a plain `VecDeque`, across chunk boundaries.
    #[test]
    fn behaves_as_a_deque() {
        let mut c = Chunked::default();
        let mut d = VecDeque::new();
        let mut x = 7u64;
        let mut step = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in 0..20_000u64 {
            let r = step();
            match r % 9 {
                0..=2 => {
                    c.push_back(n);
                    d.push_back(n);
                }
                3..=4 => {
                    c.push_front(n);
                    d.push_front(n);
                }
                5 => assert_eq!(c.pop_front(), d.pop_front()),
                6 => assert_eq!(c.pop_back(), d.pop_back()),
                7 => {
                    let i = (step() as usize) % (d.len() + 1);
                    c.insert(i, n);
                    d.insert(i, n);
                }
                _ => {
                    let i = (step() as usize) % (d.len() + 1);
                    assert_eq!(c.get(i), d.get(i));
                    if let (Some(a), Some(b)) = (c.get_mut(i), d.get_mut(i)) {
                        *a += 1;
                        *b += 1;
                    }
                }
            }
            assert_eq!(c.len(), d.len());
        }
        assert!(c.iter().eq(d.iter()));
        assert!(c.iter().rev().eq(d.iter().rev()));
        assert_eq!(c.iter().len(), d.len());
        for from in [0, 1, 127, 128, 129, d.len() / 2, d.len() - 1, d.len()] {
            assert!(c.iter_from(from).eq(d.iter().skip(from)), "from {from}");
        }
        assert!(c.chunks.iter().all(|k| !k.is_empty() && k.len() <= CHUNK));
        c.retain_by_index(|i| i % 3 == 0);
        let kept: Vec<u64> = d.iter().copied().step_by(3).collect();
        assert!(c.iter().copied().eq(kept.iter().copied()));
        assert_eq!(c.len(), kept.len());
        assert_eq!(Chunked::from_vec(kept.clone()), c);
        c.clear();
        assert!(c.is_empty() && c.iter().next().is_none() && c.pop_back().is_none());
    }
}

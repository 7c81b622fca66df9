//! A sequence of short byte strings packed back to back in one allocation,
//! the role Redis's listpack plays for its small collections: each entry is
//! its length as a LEB128 varint, then its bytes. A small hash of five
//! pairs of two-byte strings takes 30 bytes here, where a `Vec` of `Bytes`
//! took a 32-byte handle plus an allocation per string. Walks are linear
//! (as a listpack's), so owners keep it for their small encodings only.
//! With `BACK` each entry also ends with its length, its varint bytes in
//! reverse order, so the sequence can be walked and popped from the back
//! too (lists; a listpack keeps such back-lengths for the same reason).
//! Pure data structure. Owned by: the collection value that holds it.
//! Offsets come from `entries`; every operation is total (an offset past
//! the end changes nothing, and none panics).

/// Entries in order; `count` is how many there are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Packed<const BACK: bool = false> {
    buf: Vec<u8>,
    count: u32,
}

/// Bytes of the varint that encodes `n`.
fn varint_len(n: usize) -> usize {
    let bits = usize::BITS - (n | 1).leading_zeros();
    bits.div_ceil(7) as usize
}

/// `n` as a LEB128 varint: the low seven bits first, the top bit set on
/// every byte but the last.
fn varint(mut n: usize) -> ([u8; 10], usize) {
    let mut out = [0u8; 10];
    let mut i = 0;
    while n >= 0x80 {
        out[i] = (n as u8) | 0x80;
        n >>= 7;
        i += 1;
    }
    out[i] = n as u8;
    (out, i + 1)
}

/// Decodes a varint from the bytes `at`, `step(at)`, …: its value and the
/// position after its last byte.
fn read_varint(
    buf: &[u8],
    mut at: usize,
    step: impl Fn(usize) -> Option<usize>,
) -> Option<(usize, usize)> {
    let mut n = 0usize;
    let mut shift = 0u32;
    loop {
        let b = *buf.get(at)?;
        n |= usize::from(b & 0x7f).checked_shl(shift)?;
        at = step(at)?;
        if b & 0x80 == 0 {
            return Some((n, at));
        }
        shift += 7;
        if shift >= usize::BITS {
            return None;
        }
    }
}

/// The entry that starts at `off`: its bytes and the offset after it.
fn entry_at<const BACK: bool>(buf: &[u8], off: usize) -> Option<(&[u8], usize)> {
    let (len, at) = read_varint(buf, off, |i| i.checked_add(1))?;
    let end = at.checked_add(len)?;
    let e = buf.get(at..end)?;
    let next = if BACK { end + varint_len(len) } else { end };
    (next <= buf.len()).then_some((e, next))
}

/// The entry that ends at `end` (with `BACK`): its bytes and its offset.
fn entry_before(buf: &[u8], end: usize) -> Option<(&[u8], usize)> {
    let last = end.checked_sub(1)?;
    let (len, _) = read_varint(buf, last, |i| i.checked_sub(1).or(Some(usize::MAX)))?;
    let stop = end.checked_sub(varint_len(len))?;
    let start = stop.checked_sub(len)?;
    let off = start.checked_sub(varint_len(len))?;
    Some((buf.get(start..stop)?, off))
}

impl<const BACK: bool> Packed<BACK> {
    pub fn new() -> Self {
        Packed {
            buf: Vec::new(),
            count: 0,
        }
    }

    /// These entries in order, in an allocation of exactly their size.
    pub fn from_entries<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut p = Packed::new();
        for e in items {
            p.push(e);
        }
        p.shrink_to_fit();
        p
    }

    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes of the encoded entries (what the allocation holds).
    pub fn encoded_len(&self) -> usize {
        self.buf.len()
    }

    /// The address of the first entry, for a cache prefetch.
    pub fn as_ptr(&self) -> *const u8 {
        self.buf.as_ptr()
    }

    /// The entries in order.
    pub fn iter(&self) -> Iter<'_, BACK> {
        Iter {
            buf: &self.buf,
            off: 0,
            end: self.buf.len(),
            left: self.len(),
        }
    }

    /// The entries in order with the offset each starts at (for `replace`,
    /// `remove` and `insert`).
    pub fn entries(&self) -> impl Iterator<Item = (usize, &[u8])> {
        let mut off = 0;
        std::iter::from_fn(move || {
            let (e, next) = entry_at::<BACK>(&self.buf, off)?;
            let at = off;
            off = next;
            Some((at, e))
        })
    }

    /// The entry at position `index`.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.iter().nth(index)
    }

    /// The offset entry `index` starts at: the encoded length for `index`
    /// equal to `len()`, None past that.
    pub fn offset_of(&self, index: usize) -> Option<usize> {
        if index == self.len() {
            return Some(self.buf.len());
        }
        self.entries().nth(index).map(|(off, _)| off)
    }

    /// The entries from position `index` on.
    pub fn iter_from(&self, index: usize) -> Iter<'_, BACK> {
        match self.offset_of(index) {
            Some(off) => Iter {
                buf: &self.buf,
                off,
                end: self.buf.len(),
                left: self.len() - index,
            },
            None => Iter {
                buf: &[],
                off: 0,
                end: 0,
                left: 0,
            },
        }
    }

    /// Gives back spare capacity (after a build by pushes).
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }

    /// Appends an entry.
    pub fn push(&mut self, e: &[u8]) {
        let end = self.buf.len();
        self.write_entry(end, end, e);
        self.count += 1;
    }

    /// Inserts `items` before the entry at `off` (at the end when `off` is
    /// the encoded length); false, changing nothing, when `off` is past it.
    pub fn insert<'a>(&mut self, off: usize, items: impl IntoIterator<Item = &'a [u8]>) -> bool {
        if off > self.buf.len() {
            return false;
        }
        let mut at = off;
        for e in items {
            at = self.write_entry(at, at, e);
            self.count += 1;
        }
        true
    }

    /// Replaces the entry at `off` with `e`; false when no entry starts there.
    pub fn replace(&mut self, off: usize, e: &[u8]) -> bool {
        let Some((_, end)) = entry_at::<BACK>(&self.buf, off) else {
            return false;
        };
        self.write_entry(off, end, e);
        true
    }

    /// Puts the encoding of `e` (its length, its bytes and, with `BACK`,
    /// its length again with the varint's bytes reversed) where the bytes
    /// `off..end` were (an empty range inserts), moving the rest once and allocating nothing beyond
    /// the buffer's growth; gives the offset after it.
    fn write_entry(&mut self, off: usize, end: usize, e: &[u8]) -> usize {
        let (v, n) = varint(e.len());
        let v = v.get(..n).unwrap_or(&[]);
        let size = if BACK { 2 * n } else { n } + e.len();
        let old = end - off;
        let len = self.buf.len();
        if size > old {
            self.buf.resize(len + size - old, 0);
            self.buf.copy_within(end..len, off + size);
        } else if size < old {
            self.buf.copy_within(end..len, off + size);
            self.buf.truncate(len - (old - size));
        }
        let slot = &mut self.buf[off..off + size];
        let (head, rest) = slot.split_at_mut(n);
        head.copy_from_slice(v);
        let (body, tail) = rest.split_at_mut(e.len());
        body.copy_from_slice(e);
        for (d, s) in tail.iter_mut().zip(v.iter().rev()) {
            *d = *s;
        }
        off + size
    }

    /// Removes `n` consecutive entries starting with the one at `off`;
    /// false, changing nothing, when fewer than `n` entries start there.
    pub fn remove(&mut self, off: usize, n: usize) -> bool {
        let mut end = off;
        for _ in 0..n {
            match entry_at::<BACK>(&self.buf, end) {
                Some((_, next)) => end = next,
                None => return false,
            }
        }
        self.buf.drain(off..end);
        self.count = self.count.saturating_sub(n as u32);
        if self.buf.capacity() > 64 && self.buf.len() * 2 < self.buf.capacity() {
            self.buf.shrink_to_fit();
        }
        true
    }
}

impl Packed<true> {
    /// Prepends an entry.
    pub fn push_front(&mut self, e: &[u8]) {
        self.insert(0, [e]);
    }

    /// Removes the first entry and gives its bytes.
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let (e, _) = entry_at::<true>(&self.buf, 0)?;
        let e = e.to_vec();
        self.remove(0, 1);
        Some(e)
    }

    /// Removes the last entry and gives its bytes.
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let (e, off) = entry_before(&self.buf, self.buf.len())?;
        let e = e.to_vec();
        self.buf.truncate(off);
        self.count = self.count.saturating_sub(1);
        Some(e)
    }

    /// Moves the entries from position `index` on into a new sequence.
    pub fn split_off(&mut self, index: usize) -> Packed<true> {
        let Some(off) = self.offset_of(index) else {
            return Packed::new();
        };
        let tail = self.buf.split_off(off);
        let moved = self.count.saturating_sub(index as u32);
        self.count -= moved;
        Packed {
            buf: tail,
            count: moved,
        }
    }
}

/// The entries of a `Packed` in order (and, with `BACK`, from the back).
#[derive(Clone, Debug)]
pub struct Iter<'a, const BACK: bool = false> {
    buf: &'a [u8],
    /// Where the next entry from the front starts.
    off: usize,
    /// Where the next entry from the back ends.
    end: usize,
    left: usize,
}

impl<'a, const BACK: bool> Iterator for Iter<'a, BACK> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        let (e, next) = entry_at::<BACK>(self.buf, self.off)?;
        self.off = next;
        self.left -= 1;
        Some(e)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<const BACK: bool> ExactSizeIterator for Iter<'_, BACK> {}

impl DoubleEndedIterator for Iter<'_, true> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let (e, off) = entry_before(self.buf, self.end)?;
        self.end = off;
        self.left -= 1;
        Some(e)
    }
}

impl<'a> IntoIterator for &'a Packed<true> {
    type Item = &'a [u8];
    type IntoIter = Iter<'a, true>;

    fn into_iter(self) -> Iter<'a, true> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items<const B: bool>(p: &Packed<B>) -> Vec<Vec<u8>> {
        p.iter().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn entries_of_every_length_class_round_trip() {
        let long = vec![7u8; 200];
        let longer = vec![9u8; 20_000];
        let list: Vec<&[u8]> = vec![b"", b"a", &long, b"bc", &longer];
        let p: Packed = Packed::from_entries(list.iter().copied());
        assert_eq!(p.len(), 5);
        assert_eq!(p.iter().len(), 5);
        assert_eq!(
            items(&p),
            list.iter().map(|e| e.to_vec()).collect::<Vec<_>>()
        );
        assert_eq!(p.encoded_len(), 1 + 2 + 200 + 1 + 1 + 3 + 20_000 + 1 + 2);
        assert_eq!(p.get(2), Some(&long[..]));
        assert_eq!(p.get(5), None);
        assert_eq!(p.offset_of(2), Some(3));
        assert_eq!(p.offset_of(5), Some(p.encoded_len()));
        assert_eq!(p.offset_of(6), None);
        assert_eq!(
            p.iter_from(3).collect::<Vec<_>>(),
            vec![&b"bc"[..], &longer[..]]
        );
        assert_eq!(p.iter_from(3).len(), 2);
        assert_eq!(p.iter_from(9).next(), None);
    }

    #[test]
    fn edits_keep_the_other_entries() {
        let mut p: Packed = Packed::new();
        for e in [&b"f1"[..], b"v1", b"f2", b"v2"] {
            p.push(e);
        }
        let offs: Vec<usize> = p.entries().map(|(o, _)| o).collect();
        assert_eq!(offs, vec![0, 3, 6, 9]);
        assert!(p.replace(3, &[b'x'; 300]));
        assert_eq!(p.get(1), Some(&[b'x'; 300][..]));
        assert_eq!(p.get(2), Some(&b"f2"[..]));
        assert!(p.remove(0, 2));
        assert_eq!(items(&p), vec![b"f2".to_vec(), b"v2".to_vec()]);
        assert!(p.insert(0, [&b"a"[..], b"b"]));
        assert!(p.insert(p.encoded_len(), [&b"z"[..]]));
        assert_eq!(p.len(), 5);
        assert_eq!(items(&p)[0], b"a".to_vec());
        assert_eq!(items(&p)[4], b"z".to_vec());
    }

    #[test]
    fn offsets_that_start_no_entry_change_nothing() {
        let mut p: Packed = Packed::from_entries([&b"abc"[..], b"de"]);
        let before = p.clone();
        assert!(!p.remove(0, 3));
        assert!(!p.remove(99, 1));
        assert!(!p.replace(99, b"x"));
        assert!(!p.insert(99, [&b"x"[..]]));
        assert_eq!(p, before);
    }

    #[test]
    fn back_lengths_walk_and_pop_from_both_ends() {
        let long = vec![3u8; 300];
        let list: Vec<&[u8]> = vec![b"a", b"", &long, b"xyz"];
        let mut p: Packed<true> = Packed::from_entries(list.iter().copied());
        assert_eq!(p.encoded_len(), 3 + 2 + (2 + 300 + 2) + 5);
        assert!(p.iter().rev().eq(list.iter().rev().copied()));
        let mut it = p.iter();
        assert_eq!(it.next(), Some(&b"a"[..]));
        assert_eq!(it.next_back(), Some(&b"xyz"[..]));
        assert_eq!(it.len(), 2);
        assert_eq!(it.next_back(), Some(&long[..]));
        assert_eq!(it.next(), Some(&b""[..]));
        assert_eq!((it.next(), it.next_back()), (None, None));
        p.push_front(b"first");
        assert_eq!(p.pop_back(), Some(b"xyz".to_vec()));
        assert_eq!(p.pop_front(), Some(b"first".to_vec()));
        let tail = p.split_off(1);
        assert_eq!(items(&p), vec![b"a".to_vec()]);
        assert_eq!(items(&tail), vec![b"".to_vec(), long.clone()]);
        assert!(p.replace(0, &long) && p.iter().rev().eq([&long[..]]));
        assert_eq!(p.pop_back(), Some(long.clone()));
        assert_eq!((p.pop_back(), p.pop_front(), p.len()), (None, None, 0));
    }
}

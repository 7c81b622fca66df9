//! A sequence of short byte strings packed back to back in one allocation,
//! the role Redis's listpack plays for its small collections: each entry is
//! its length as a LEB128 varint, then its bytes. A small hash of five
//! pairs of two-byte strings takes 30 bytes here, where a `Vec` of `Bytes`
//! took a 32-byte handle plus an allocation per string. Walks are linear
//! (as a listpack's), so owners keep it for their small encodings only.
//! Pure data structure. Owned by: the collection value that holds it.
//! Offsets come from `entries`; every operation is total (an offset past
//! the end changes nothing, and none panics).

/// Entries in order; `count` is how many there are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Packed {
    buf: Vec<u8>,
    count: u32,
}

/// Bytes of the varint that encodes `n`.
fn varint_len(n: usize) -> usize {
    let bits = usize::BITS - (n | 1).leading_zeros();
    bits.div_ceil(7) as usize
}

fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// The entry that starts at `off`: its bytes and the offset after it.
fn entry_at(buf: &[u8], off: usize) -> Option<(&[u8], usize)> {
    let mut len = 0usize;
    let mut shift = 0u32;
    let mut at = off;
    loop {
        let b = *buf.get(at)?;
        at += 1;
        len |= usize::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let end = at.checked_add(len)?;
    Some((buf.get(at..end)?, end))
}

/// The entry bytes of `items`, encoded.
fn encode<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> (Vec<u8>, u32) {
    let mut buf = Vec::new();
    let mut count = 0u32;
    for e in items {
        put_varint(&mut buf, e.len());
        buf.extend_from_slice(e);
        count += 1;
    }
    (buf, count)
}

impl Packed {
    pub fn new() -> Packed {
        Packed::default()
    }

    /// These entries in order, in an allocation of exactly their size.
    pub fn from_entries<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Packed {
        let (mut buf, count) = encode(items);
        buf.shrink_to_fit();
        Packed { buf, count }
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

    /// Bytes allocated, for memory accounting.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The address of the first entry, for a cache prefetch.
    pub fn as_ptr(&self) -> *const u8 {
        self.buf.as_ptr()
    }

    /// The entries in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            buf: &self.buf,
            off: 0,
            left: self.len(),
        }
    }

    /// The entries in order with the offset each starts at (for `replace`,
    /// `remove` and `insert`).
    pub fn entries(&self) -> impl Iterator<Item = (usize, &[u8])> {
        let mut off = 0;
        std::iter::from_fn(move || {
            let (e, next) = entry_at(&self.buf, off)?;
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
    pub fn iter_from(&self, index: usize) -> Iter<'_> {
        match self.offset_of(index) {
            Some(off) => Iter {
                buf: &self.buf,
                off,
                left: self.len() - index,
            },
            None => Iter {
                buf: &[],
                off: 0,
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
        put_varint(&mut self.buf, e.len());
        self.buf.extend_from_slice(e);
        self.count += 1;
    }

    /// Inserts `items` before the entry at `off` (at the end when `off` is
    /// the encoded length); false, changing nothing, when `off` is past it.
    pub fn insert<'a>(&mut self, off: usize, items: impl IntoIterator<Item = &'a [u8]>) -> bool {
        if off > self.buf.len() {
            return false;
        }
        let (bytes, n) = encode(items);
        self.buf.splice(off..off, bytes);
        self.count += n;
        true
    }

    /// Replaces the entry at `off` with `e`; false when no entry starts there.
    pub fn replace(&mut self, off: usize, e: &[u8]) -> bool {
        let Some((_, end)) = entry_at(&self.buf, off) else {
            return false;
        };
        let mut bytes = Vec::with_capacity(varint_len(e.len()) + e.len());
        put_varint(&mut bytes, e.len());
        bytes.extend_from_slice(e);
        self.buf.splice(off..end, bytes);
        true
    }

    /// Removes `n` consecutive entries starting with the one at `off`;
    /// false, changing nothing, when fewer than `n` entries start there.
    pub fn remove(&mut self, off: usize, n: usize) -> bool {
        let mut end = off;
        for _ in 0..n {
            match entry_at(&self.buf, end) {
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

/// The entries of a `Packed` in order.
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    buf: &'a [u8],
    off: usize,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (e, next) = entry_at(self.buf, self.off)?;
        self.off = next;
        self.left = self.left.saturating_sub(1);
        Some(e)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(p: &Packed) -> Vec<Vec<u8>> {
        p.iter().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn entries_of_every_length_class_round_trip() {
        let long = vec![7u8; 200];
        let longer = vec![9u8; 20_000];
        let list: Vec<&[u8]> = vec![b"", b"a", &long, b"bc", &longer];
        let p = Packed::from_entries(list.iter().copied());
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
        let mut p = Packed::new();
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
        let mut p = Packed::from_entries([&b"abc"[..], b"de"]);
        let before = p.clone();
        assert!(!p.remove(0, 3));
        assert!(!p.remove(99, 1));
        assert!(!p.replace(99, b"x"));
        assert!(!p.insert(99, [&b"x"[..]]));
        assert_eq!(p, before);
    }
}

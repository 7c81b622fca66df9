//! Short byte strings kept by value (in a keyspace node, a string value, a
//! reply) instead of behind a pointer: no allocation of their own, and
//! nothing else to load when they are read.

use std::fmt;

/// Up to `N` bytes (N < 256), by value; `N + 1` bytes in all.
#[derive(Clone, Copy)]
pub struct InlineBytes<const N: usize> {
    len: u8,
    buf: [u8; N],
}

impl<const N: usize> InlineBytes<N> {
    /// `None` when `b` is longer than `N`.
    #[inline]
    pub fn new(b: &[u8]) -> Option<Self> {
        let mut buf = [0u8; N];
        buf.get_mut(..b.len())?.copy_from_slice(b);
        Some(InlineBytes {
            len: u8::try_from(b.len()).ok()?,
            buf,
        })
    }

    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

impl<const N: usize> PartialEq for InlineBytes<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const N: usize> fmt::Debug for InlineBytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", bytes::Bytes::copy_from_slice(self.as_bytes()))
    }
}

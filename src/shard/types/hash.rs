//! The hash value (Redis's `t_hash.c` data side). Skeleton: the full type
//! (listpack / hashtable encodings) lands with the hash commands.

use bytes::Bytes;

/// A map of field → value byte strings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hash {
    pairs: Vec<(Bytes, Bytes)>,
}

impl Hash {
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Every (field, value) pair, in no particular order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &[u8])) {
        for (k, v) in &self.pairs {
            f(k, v);
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }

    /// MEMORY USAGE's value part (`objectComputeSize`).
    pub fn memory_usage(&self) -> usize {
        crate::shard::value::memory::ROBJ
    }
}

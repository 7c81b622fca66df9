//! The sorted set value (Redis's `t_zset.c` data side). Skeleton: the full
//! type (listpack / skiplist encodings) lands with the sorted set commands.

use bytes::Bytes;

/// Members with scores, ordered by (score, member).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZSet {
    members: Vec<(Bytes, f64)>,
}

impl ZSet {
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Every (member, score), in (score, member) order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        for (m, s) in &self.members {
            f(m, *s);
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

//! The set value (Redis's `t_set.c` data side). Skeleton: the full type
//! (intset / hashtable encodings) lands with the set commands.

use bytes::Bytes;

/// A set of byte strings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Set {
    members: Vec<Bytes>,
}

impl Set {
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Every member, in no particular order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        for m in &self.members {
            f(m);
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "intset"
    }

    /// MEMORY USAGE's value part (`objectComputeSize`).
    pub fn memory_usage(&self) -> usize {
        crate::shard::value::memory::ROBJ
    }
}

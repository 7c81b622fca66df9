//! Values stored in a shard's keyspace. Owned by: each shard. `Send` so that
//! cross-shard transactions can carry copies of entries over the mesh.

use bytes::Bytes;

use crate::util::inline::InlineBytes;

use super::types::hash::Hash;
use super::types::list::List;
use super::types::set::Set;
use super::types::zset::ZSet;

/// Longest string Redis stores with the `embstr` encoding
/// (`OBJ_ENCODING_EMBSTR_SIZE_LIMIT`).
pub const EMBSTR_LIMIT: usize = 44;

/// Below this, integers are Redis's shared objects (`OBJ_SHARED_INTEGERS`).
const SHARED_INTEGERS: i64 = 10_000;

/// Longest string kept in the key's entry itself (`StrValue::Inline`):
/// what fits beside the tag in the 40 bytes a `Bytes` variant takes anyway.
pub const INLINE_STR: usize = 38;

/// A string value. Integers are kept as integers, as Redis's `int` encoding.
#[derive(Clone, Debug)]
pub enum StrValue {
    Int(i64),
    /// A short string, in the entry: no allocation of its own and no cache
    /// miss to read it (why Redis's `embstr` sits next to its object).
    Inline(InlineBytes<INLINE_STR>),
    /// Immutable bytes (longer values): GET hands out a reference count.
    /// Redis's `embstr` up to 44 bytes, an exact-size `raw` sds above.
    Raw(Bytes),
    /// A string built or grown in place by APPEND / SETRANGE / SETBIT /
    /// BITOP (always `raw`), with the size Redis's sds would have. Boxed,
    /// so the common strings above keep every key's entry small.
    Buf(Box<(Vec<u8>, memory::Sds)>),
}

const _: () = assert!(std::mem::size_of::<StrValue>() <= 40);

/// Equal integers, or equal bytes in any of the other forms (the form is
/// how the string is kept, not what it is; an integer is another encoding).
impl PartialEq for StrValue {
    fn eq(&self, other: &StrValue) -> bool {
        match (self, other) {
            (StrValue::Int(a), StrValue::Int(b)) => a == b,
            (StrValue::Int(_), _) | (_, StrValue::Int(_)) => false,
            (a, b) => {
                let (mut x, mut y) = (Vec::new(), Vec::new());
                a.as_slice(&mut x) == b.as_slice(&mut y)
            }
        }
    }
}

impl StrValue {
    /// Stores `b` with the encoding Redis would choose (`tryObjectEncoding`):
    /// a canonical integer of ≤ 20 characters becomes `Int`.
    pub fn from_bytes(b: &[u8]) -> StrValue {
        if b.len() <= 20 {
            if let Some(i) = crate::util::num::parse_i64(b) {
                return StrValue::Int(i);
            }
        }
        match InlineBytes::new(b) {
            Some(s) => StrValue::Inline(s),
            None => StrValue::Raw(Bytes::copy_from_slice(b)),
        }
    }

    /// A new `raw` string of exactly these bytes (`sdsnewlen`), as SETRANGE,
    /// SETBIT and BITOP create.
    pub fn new_buf(v: Vec<u8>) -> StrValue {
        let sds = memory::Sds::exact(v.len());
        StrValue::Buf(Box::new((v, sds)))
    }

    pub fn to_bytes(&self) -> Bytes {
        match self {
            StrValue::Int(i) => Bytes::from(i.to_string()),
            StrValue::Inline(s) => Bytes::copy_from_slice(s.as_bytes()),
            StrValue::Raw(b) => b.clone(),
            StrValue::Buf(b) => Bytes::copy_from_slice(&b.0),
        }
    }

    /// Borrowed view; integers are formatted into `scratch`.
    pub fn as_slice<'a>(&'a self, scratch: &'a mut Vec<u8>) -> &'a [u8] {
        match self {
            StrValue::Int(i) => {
                scratch.clear();
                crate::util::num::write_i64(*i, scratch);
                scratch
            }
            StrValue::Inline(s) => s.as_bytes(),
            StrValue::Raw(b) => b,
            StrValue::Buf(b) => &b.0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn len(&self) -> usize {
        match self {
            StrValue::Int(i) => {
                let mut s = Vec::new();
                crate::util::num::write_i64(*i, &mut s);
                s.len()
            }
            StrValue::Inline(s) => s.as_bytes().len(),
            StrValue::Raw(b) => b.len(),
            StrValue::Buf(b) => b.0.len(),
        }
    }

    /// Turns the value into a growable buffer of at least `len` bytes (zero
    /// padded) and returns it, for APPEND / SETRANGE / SETBIT on an
    /// existing key. Tracks Redis's allocation: `dbUnshareStringValue` makes
    /// an int or embstr an exact-size raw sds, then `sdsMakeRoomFor` grows
    /// it greedily (doubling below 1 MiB).
    pub fn grow_to(&mut self, len: usize) -> &mut Vec<u8> {
        if !matches!(self, StrValue::Buf(..)) {
            let mut scratch = Vec::new();
            let v = self.as_slice(&mut scratch).to_vec();
            let sds = match self {
                // A SET raw value went through `trimStringObjectIfNeeded`.
                StrValue::Raw(b) if b.len() > EMBSTR_LIMIT => memory::Sds::trimmed(b.len()),
                _ => memory::Sds::exact(v.len()),
            };
            *self = StrValue::Buf(Box::new((v, sds)));
        }
        match self {
            StrValue::Buf(b) => {
                let (v, sds) = &mut **b;
                if len > v.len() {
                    sds.grow(v.len(), len);
                    v.resize(len, 0);
                }
                v
            }
            // Unreachable: converted just above.
            _ => unreachable!("grow_to converts to Buf"),
        }
    }

    /// True for the integers Redis stores as shared objects (OBJECT
    /// REFCOUNT reports `INT_MAX` for them).
    pub fn is_shared_integer(&self) -> bool {
        matches!(self, StrValue::Int(i) if (0..SHARED_INTEGERS).contains(i))
    }

    /// What `objectComputeSize` reports for this string: the robj alone
    /// for an int, one allocation for an embstr, robj + sds for a raw one.
    pub fn memory_usage(&self) -> usize {
        match self {
            StrValue::Int(_) => memory::ROBJ,
            StrValue::Buf(b) => memory::ROBJ + b.1.malloc_size(),
            // Inline or Raw: embstr up to its limit, an exact raw sds above.
            _ if self.len() <= EMBSTR_LIMIT => {
                memory::alloc_size(memory::ROBJ + memory::SDS8_HEADER + self.len() + 1)
            }
            _ => memory::ROBJ + memory::Sds::exact(self.len()).malloc_size(),
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            StrValue::Int(_) => "int",
            StrValue::Inline(_) | StrValue::Raw(_) if self.len() <= EMBSTR_LIMIT => "embstr",
            _ => "raw",
        }
    }
}

/// A value of any type.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(StrValue),
    /// Never empty: a command that empties a list deletes the key.
    List(List),
    /// Never empty, like every collection below.
    Hash(Hash),
    Set(Set),
    ZSet(ZSet),
}

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(m) => m.encoding(),
            Value::ZSet(z) => z.encoding(),
        }
    }

    /// Heap footprint in bytes as Redis would count it, for INFO memory.
    pub fn approx_size(&self) -> usize {
        self.memory_usage()
    }

    /// True for a small integer Redis would store as a shared object.
    pub fn is_shared_integer(&self) -> bool {
        match self {
            Value::Str(s) => s.is_shared_integer(),
            _ => false,
        }
    }

    /// The value's part of MEMORY USAGE (`objectComputeSize`).
    pub fn memory_usage(&self) -> usize {
        match self {
            Value::Str(s) => s.memory_usage(),
            Value::List(l) => l.memory_usage(),
            Value::Hash(h) => h.memory_usage(),
            Value::Set(m) => m.memory_usage(),
            Value::ZSet(z) => z.memory_usage(),
        }
    }
}

/// A value type a command can ask a key for (`checkType`): the variant's
/// contents, or `None` for a key of another type.
pub trait Typed {
    fn of(v: &Value) -> Option<&Self>;
    fn of_mut(v: &mut Value) -> Option<&mut Self>;
}

macro_rules! typed {
    ($t:ty, $variant:ident) => {
        impl Typed for $t {
            fn of(v: &Value) -> Option<&Self> {
                match v {
                    Value::$variant(x) => Some(x),
                    _ => None,
                }
            }
            fn of_mut(v: &mut Value) -> Option<&mut Self> {
                match v {
                    Value::$variant(x) => Some(x),
                    _ => None,
                }
            }
        }
    };
}

typed!(StrValue, Str);
typed!(List, List);
typed!(Hash, Hash);
typed!(Set, Set);
typed!(ZSet, ZSet);

impl Value {
    /// A collection with nothing left in it (its key must go).
    pub fn is_empty_collection(&self) -> bool {
        match self {
            Value::Str(_) => false,
            Value::List(l) => l.is_empty(),
            Value::Hash(h) => h.is_empty(),
            Value::Set(m) => m.is_empty(),
            Value::ZSet(z) => z.is_empty(),
        }
    }
}

/// One key's entry: value, absolute expiry (unix ms, 0 = persistent) and the
/// LRU clock of the last access (seconds), for OBJECT IDLETIME.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub value: Value,
    pub expire_at: u64,
    pub lru: u32,
}

// A keyspace node is a key (24 bytes) and an entry: 80 bytes in all.
const _: () = assert!(std::mem::size_of::<Value>() <= 40);
const _: () = assert!(std::mem::size_of::<Entry>() <= 56);

/// Redis's memory accounting, reproduced so MEMORY USAGE answers as
/// redis-server does: jemalloc size classes, sds headers and growth,
/// `robj` and `dictEntry` sizes (`object.c`, `sds.c`, 64-bit build).
pub mod memory {
    /// `sizeof(robj)`.
    pub const ROBJ: usize = 16;
    /// `sizeof(dictEntry)`.
    pub const DICT_ENTRY: usize = 24;
    /// `sizeof(dict)` on a 64-bit Redis 7.0 build (type, two tables, two
    /// counts, rehash index, pause counter, two size exponents).
    pub const DICT: usize = 56;
    /// `OBJ_COMPUTE_SIZE_DEF_SAMPLES`: MEMORY USAGE averages this many
    /// elements of a big collection.
    pub const SIZE_SAMPLES: usize = 5;
    /// `sizeof(struct sdshdr8)`, the header of an embstr.
    pub const SDS8_HEADER: usize = 3;
    /// `SDS_MAX_PREALLOC`: greedy growth doubles below this, adds it above.
    const MAX_PREALLOC: usize = 1024 * 1024;

    /// The usable size jemalloc gives for a request of `n` bytes: classes of
    /// 8, then multiples of 16 up to 128, then four classes per doubling.
    pub fn alloc_size(n: usize) -> usize {
        if n <= 8 {
            return 8;
        }
        if n <= 128 {
            return n.div_ceil(16) * 16;
        }
        let below = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
        let spacing = below / 4;
        n.div_ceil(spacing).saturating_mul(spacing)
    }

    /// (header bytes, largest alloc) of the sds type `sdsReqType` picks.
    fn sds_type(len: usize) -> (usize, usize) {
        match len {
            0..32 => (1, 31),
            32..256 => (3, 255),
            256..65_536 => (5, 65_535),
            _ if len < 1 << 32 => (9, (1 << 32) - 1),
            _ => (17, usize::MAX),
        }
    }

    /// MEMORY USAGE of a key's own part: its sds (`sdsdup`, so exact-size,
    /// header by length) and the dict entry pointing at it.
    pub fn key_usage(len: usize) -> usize {
        let (hdr, _) = sds_type(len);
        alloc_size(hdr + len + 1) + DICT_ENTRY
    }

    /// The allocation behind one sds string: header size, `alloc` (the
    /// capacity sds records; equal to the length for the header-less type 5)
    /// and the bytes malloc really gave.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Sds {
        hdr: usize,
        alloc: usize,
        msize: usize,
    }

    impl Sds {
        /// `sdsnewlen(len)`: type by length (8 for the empty string), and
        /// the allocator's slack recorded as free space.
        pub fn exact(len: usize) -> Sds {
            let (hdr, max) = if len == 0 {
                sds_type(32)
            } else {
                sds_type(len)
            };
            let msize = alloc_size(hdr + len + 1);
            let alloc = if hdr == 1 {
                len
            } else {
                (msize - hdr - 1).min(max)
            };
            Sds { hdr, alloc, msize }
        }

        /// A raw value stored by SET: `trimStringObjectIfNeeded` drops the
        /// free space when it is more than a tenth of the length.
        pub fn trimmed(len: usize) -> Sds {
            let mut s = Sds::exact(len);
            if s.alloc.saturating_sub(len) > len / 10 {
                s.alloc = len;
            }
            s
        }

        /// `sdsMakeRoomFor` (greedy) from `len` to `new_len` bytes.
        pub fn grow(&mut self, len: usize, new_len: usize) {
            let avail = if self.hdr == 1 {
                0
            } else {
                self.alloc.saturating_sub(len)
            };
            if new_len <= len || avail >= new_len - len {
                return;
            }
            let want = if new_len < MAX_PREALLOC {
                new_len.saturating_mul(2)
            } else {
                new_len.saturating_add(MAX_PREALLOC)
            };
            // Never type 5 for a string that grows: it cannot record space.
            let (hdr, max) = sds_type(want.max(32));
            let msize = alloc_size(hdr.saturating_add(want).saturating_add(1));
            *self = Sds {
                hdr,
                alloc: (msize - hdr - 1).min(max),
                msize,
            };
        }

        /// `sdsZmallocSize`.
        pub fn malloc_size(&self) -> usize {
            self.msize
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn jemalloc_classes() {
            let got: Vec<usize> = [
                1, 8, 9, 17, 25, 44, 49, 57, 128, 129, 149, 257, 1025, 16_385,
            ]
            .iter()
            .map(|&n| alloc_size(n))
            .collect();
            assert_eq!(
                got,
                [8, 8, 16, 32, 32, 48, 64, 64, 128, 160, 160, 320, 1280, 20_480]
            );
        }

        #[test]
        fn sds_sizes() {
            assert_eq!(key_usage(1), 8 + DICT_ENTRY);
            assert_eq!(key_usage(40), 48 + DICT_ENTRY);
            assert_eq!(Sds::exact(2).malloc_size(), 8);
            assert_eq!(Sds::exact(0).malloc_size(), 8);
            // 145 bytes: sdshdr8 + 145 + NUL = 149 -> 160.
            assert_eq!(Sds::exact(145).malloc_size(), 160);
            // Growing "ab" (type 5) by one byte: 2 * 3 = 6 bytes, type 8.
            let mut s = Sds::exact(2);
            s.grow(2, 3);
            assert_eq!(s.malloc_size(), 16);
            // Then it has room up to 12 bytes without reallocating.
            s.grow(3, 12);
            assert_eq!(s.malloc_size(), 16);
            s.grow(12, 13);
            assert_eq!(s.malloc_size(), 32);
        }
    }
}

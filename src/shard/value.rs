//! Values stored in a shard's keyspace. Owned by: each shard. `Send` so that
//! cross-shard transactions can carry copies of entries over the mesh.

use bytes::Bytes;

/// Longest string Redis stores with the `embstr` encoding
/// (`OBJ_ENCODING_EMBSTR_SIZE_LIMIT`).
pub const EMBSTR_LIMIT: usize = 44;

/// A string value. Integers are kept as integers, as Redis's `int` encoding.
#[derive(Clone, Debug, PartialEq)]
pub enum StrValue {
    Int(i64),
    /// Immutable bytes (most values): GET hands out a reference count.
    Raw(Bytes),
    /// A string being grown in place by APPEND / SETRANGE / SETBIT.
    Buf(Vec<u8>),
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
        StrValue::Raw(Bytes::copy_from_slice(b))
    }

    pub fn to_bytes(&self) -> Bytes {
        match self {
            StrValue::Int(i) => Bytes::from(i.to_string()),
            StrValue::Raw(b) => b.clone(),
            StrValue::Buf(v) => Bytes::copy_from_slice(v),
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
            StrValue::Raw(b) => b,
            StrValue::Buf(v) => v,
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
            StrValue::Raw(b) => b.len(),
            StrValue::Buf(v) => v.len(),
        }
    }

    /// Turns the value into a growable buffer and returns it (APPEND, SETRANGE).
    pub fn make_mut(&mut self) -> &mut Vec<u8> {
        if !matches!(self, StrValue::Buf(_)) {
            let mut scratch = Vec::new();
            let v = self.as_slice(&mut scratch).to_vec();
            *self = StrValue::Buf(v);
        }
        match self {
            StrValue::Buf(v) => v,
            // Unreachable: converted just above.
            _ => unreachable!("make_mut converts to Buf"),
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            StrValue::Int(_) => "int",
            StrValue::Raw(b) if b.len() <= EMBSTR_LIMIT => "embstr",
            _ => "raw",
        }
    }
}

/// A value of any type.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(StrValue),
}

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
        }
    }

    /// Rough heap footprint in bytes, for MEMORY USAGE and INFO memory.
    pub fn approx_size(&self) -> usize {
        match self {
            Value::Str(StrValue::Int(_)) => 8,
            Value::Str(StrValue::Raw(b)) => b.len() + 16,
            Value::Str(StrValue::Buf(v)) => v.capacity() + 16,
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

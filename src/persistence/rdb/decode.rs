//! Reading RDB: a cursor over bytes already in memory that knows its
//! offset (every error names it), lengths and strings (`rdbLoadLen`,
//! `rdbGenericLoadStringObject`), and every object type Redis 7.0 loads
//! (`rdbLoadObject`), built in the encoding Redis 7.0 would give it. Pure.
//!
//! The input is untrusted: no length read from it is used to allocate more
//! than the remaining input could hold, and nothing here panics on it.

use std::borrow::Cow;
use std::collections::HashSet;

use bytes::Bytes;

use super::listpack::Item;
use super::types::*;
use super::{intset, listpack, ziplist, zipmap, RdbError};
use crate::shard::types::hash::Hash;
use crate::shard::types::list::List;
use crate::shard::types::set::{Elem, Set};
use crate::shard::types::zset::ZSet;
use crate::shard::types::Encodings;
use crate::shard::value::{StrValue, Value};

/// LZF never expands one input byte to more than 88 output bytes (a
/// three-byte back-reference copies at most 264), so a claimed length
/// beyond that is corrupt and is refused before allocating it.
const LZF_MAX_RATIO: usize = 88;

/// A string read from RDB: integer encodings stay integers.
pub enum RdbStr<'a> {
    Int(i64),
    Bytes(Cow<'a, [u8]>),
}

impl RdbStr<'_> {
    pub fn into_bytes(self) -> Bytes {
        match self {
            RdbStr::Int(v) => Item::Int(v).to_bytes(),
            RdbStr::Bytes(Cow::Borrowed(b)) => Bytes::copy_from_slice(b),
            RdbStr::Bytes(Cow::Owned(v)) => Bytes::from(v),
        }
    }
}

/// A cursor over an RDB file or DUMP payload held in memory.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub fn err_at(at: usize, msg: impl Into<String>) -> RdbError {
        RdbError {
            offset: at,
            msg: msg.into(),
        }
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], RdbError> {
        let at = self.pos;
        let s = at
            .checked_add(n)
            .and_then(|end| self.data.get(at..end))
            .ok_or_else(|| {
                Reader::err_at(
                    at,
                    format!(
                        "unexpected end of data reading {n} bytes ({} left)",
                        self.remaining()
                    ),
                )
            })?;
        self.pos += n;
        Ok(s)
    }

    pub fn u8(&mut self) -> Result<u8, RdbError> {
        Ok(self.take(1)?[0])
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], RdbError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// A length or, after the `11` prefix, a string encoding number
    /// (`rdbLoadLenByRef`): `(value, is_encoding)`.
    fn len_or_enc(&mut self) -> Result<(u64, bool), RdbError> {
        let at = self.pos;
        let b = self.u8()?;
        match b >> 6 {
            LEN_ENCVAL => Ok((u64::from(b & 0x3F), true)),
            LEN_6BIT => Ok((u64::from(b & 0x3F), false)),
            LEN_14BIT => Ok(((u64::from(b & 0x3F) << 8) | u64::from(self.u8()?), false)),
            _ if b == LEN_32BIT => Ok((u64::from(u32::from_be_bytes(self.array()?)), false)),
            _ if b == LEN_64BIT => Ok((u64::from_be_bytes(self.array()?), false)),
            _ => Err(Reader::err_at(
                at,
                format!("unknown length encoding 0x{b:02x}"),
            )),
        }
    }

    /// A plain length.
    pub fn len(&mut self) -> Result<u64, RdbError> {
        let at = self.pos;
        match self.len_or_enc()? {
            (n, false) => Ok(n),
            (_, true) => Err(Reader::err_at(at, "string encoding where a length belongs")),
        }
    }

    /// A length used as a size in memory: it must fit `usize`.
    fn size(&mut self) -> Result<usize, RdbError> {
        let at = self.pos;
        let n = self.len()?;
        usize::try_from(n).map_err(|_| Reader::err_at(at, format!("length {n} too large")))
    }

    /// A count of things that follow, each at least one byte: also the
    /// most that may be preallocated for them.
    fn count(&mut self) -> Result<(usize, usize), RdbError> {
        let n = self.size()?;
        Ok((n, n.min(self.remaining())))
    }

    /// A string in any of its encodings (`rdbGenericLoadStringObject`).
    pub fn string(&mut self) -> Result<RdbStr<'a>, RdbError> {
        let at = self.pos;
        let (n, encoded) = self.len_or_enc()?;
        if !encoded {
            let n = usize::try_from(n)
                .map_err(|_| Reader::err_at(at, format!("string length {n} too large")))?;
            return Ok(RdbStr::Bytes(Cow::Borrowed(self.take(n)?)));
        }
        match n as u8 {
            ENC_INT8 => Ok(RdbStr::Int(i64::from(i8::from_le_bytes(self.array()?)))),
            ENC_INT16 => Ok(RdbStr::Int(i64::from(i16::from_le_bytes(self.array()?)))),
            ENC_INT32 => Ok(RdbStr::Int(i64::from(i32::from_le_bytes(self.array()?)))),
            ENC_LZF => self.lzf(at).map(|v| RdbStr::Bytes(Cow::Owned(v))),
            _ => Err(Reader::err_at(at, format!("unknown string encoding {n}"))),
        }
    }

    /// The body of an LZF string (`rdbLoadLzfStringObject`).
    fn lzf(&mut self, at: usize) -> Result<Vec<u8>, RdbError> {
        let clen = self.size()?;
        let len = self.size()?;
        let compressed = self.take(clen)?;
        if len == 0 || len > clen.saturating_mul(LZF_MAX_RATIO) {
            return Err(Reader::err_at(
                at,
                format!("invalid LZF string: {clen} bytes cannot hold {len}"),
            ));
        }
        match lzf::decompress(compressed, len) {
            Ok(v) if v.len() == len => Ok(v),
            _ => Err(Reader::err_at(at, "invalid LZF compressed string")),
        }
    }

    /// A string as bytes, integers formatted.
    pub fn bytes(&mut self) -> Result<Bytes, RdbError> {
        Ok(self.string()?.into_bytes())
    }

    /// A string whose bytes are needed only for a moment (a blob).
    fn blob(&mut self) -> Result<Cow<'a, [u8]>, RdbError> {
        Ok(match self.string()? {
            RdbStr::Int(v) => Cow::Owned(Item::Int(v).to_bytes().to_vec()),
            RdbStr::Bytes(b) => b,
        })
    }

    /// A textual double of a type-3 sorted set (`rdbLoadDoubleValue`).
    fn text_double(&mut self) -> Result<f64, RdbError> {
        let at = self.pos;
        match self.u8()? {
            DOUBLE_NAN => Ok(f64::NAN),
            DOUBLE_POS_INF => Ok(f64::INFINITY),
            DOUBLE_NEG_INF => Ok(f64::NEG_INFINITY),
            n => {
                let text = self.take(usize::from(n))?;
                parse_score(text).ok_or_else(|| Reader::err_at(at, "invalid double score"))
            }
        }
    }
}

/// A score stored as text (type 3, or a listpack string): what `strtod`
/// reads, without NaN.
fn parse_score(text: &[u8]) -> Option<f64> {
    crate::util::num::parse_f64_strict_score(text)
}

/// Refuses the types tessera cannot hold, before their key is read.
pub fn check_type(ty: u8, at: usize) -> Result<(), RdbError> {
    let why = match ty {
        TYPE_STRING..=TYPE_ZSET_2 | TYPE_HASH_ZIPMAP..=TYPE_LIST_QUICKLIST => return Ok(()),
        TYPE_HASH_LISTPACK..=TYPE_LIST_QUICKLIST_2 => return Ok(()),
        TYPE_MODULE | TYPE_MODULE_2 => {
            format!("module values are not supported by tessera (RDB type {ty})")
        }
        TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 | TYPE_STREAM_LISTPACKS_3 => {
            format!("stream values are not supported: tessera has no streams (RDB type {ty})")
        }
        TYPE_SET_LISTPACK => {
            format!("RDB type {ty} (a Redis 7.2+ listpack set) is newer than RDB version 10")
        }
        _ => format!("unknown RDB object type {ty}"),
    };
    Err(Reader::err_at(at, why))
}

/// Reads one value of type `ty` (already checked). `None` for an empty
/// collection, which Redis skips when loading a file and refuses in
/// RESTORE.
pub fn read_object(r: &mut Reader, ty: u8, enc: &Encodings) -> Result<Option<Value>, RdbError> {
    let at = r.pos();
    match ty {
        TYPE_STRING => Ok(Some(Value::Str(match r.string()? {
            RdbStr::Int(v) => StrValue::Int(v),
            RdbStr::Bytes(b) => StrValue::from_bytes(&b),
        }))),
        TYPE_LIST => read_plain_list(r),
        TYPE_SET => read_plain_set(r, enc),
        TYPE_ZSET | TYPE_ZSET_2 => read_plain_zset(r, ty, enc),
        TYPE_HASH => read_plain_hash(r, enc),
        TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => read_quicklist(r, ty),
        _ => {
            let blob = r.blob()?;
            read_blob_object(&blob, ty, enc).map_err(|msg| Reader::err_at(at, msg))
        }
    }
}

fn read_plain_list(r: &mut Reader) -> Result<Option<Value>, RdbError> {
    let (n, cap) = r.count()?;
    let mut items = Vec::with_capacity(cap);
    for _ in 0..n {
        items.push(r.bytes()?);
    }
    Ok((!items.is_empty()).then(|| Value::List(List::from_items(items))))
}

/// Members into a set the way Redis 7.0 loads one (an intset while every
/// member is an integer and there are at most `set-max-intset-entries`);
/// a repeated member is corrupt data.
fn set_of(elems: impl IntoIterator<Item = Elem>, enc: &Encodings) -> Result<Option<Set>, String> {
    let mut set = Set::new_intset();
    for e in elems {
        if !set.add_elem(e, enc.set_max_intset_entries) {
            return Err("duplicate set members".into());
        }
    }
    Ok((!set.is_empty()).then_some(set))
}

fn read_plain_set(r: &mut Reader, enc: &Encodings) -> Result<Option<Value>, RdbError> {
    let at = r.pos();
    let (n, cap) = r.count()?;
    let mut members = Vec::with_capacity(cap);
    for _ in 0..n {
        members.push(Elem::Str(r.bytes()?));
    }
    let set = set_of(members, enc).map_err(|m| Reader::err_at(at, m))?;
    Ok(set.map(Value::Set))
}

/// Checks a sorted set's members: no NaN score, no repeated member.
fn check_zset(pairs: &[(Bytes, f64)]) -> Result<(), String> {
    if pairs.iter().any(|(_, s)| s.is_nan()) {
        return Err("sorted set with a NaN score".into());
    }
    let mut seen = HashSet::with_capacity(pairs.len());
    if pairs.iter().any(|(m, _)| !seen.insert(m)) {
        return Err("duplicate sorted set members".into());
    }
    Ok(())
}

fn read_plain_zset(r: &mut Reader, ty: u8, enc: &Encodings) -> Result<Option<Value>, RdbError> {
    let at = r.pos();
    let (n, cap) = r.count()?;
    let mut pairs = Vec::with_capacity(cap);
    for _ in 0..n {
        let member = r.bytes()?;
        let score = if ty == TYPE_ZSET_2 {
            f64::from_le_bytes(r.array()?)
        } else {
            r.text_double()?
        };
        pairs.push((member, score));
    }
    check_zset(&pairs).map_err(|m| Reader::err_at(at, m))?;
    if pairs.is_empty() {
        return Ok(None);
    }
    // Converted after loading, by count and longest member (`rdbLoadObject`).
    Ok(Some(Value::ZSet(ZSet::from_pairs(pairs, enc))))
}

/// Checks that no field repeats.
fn check_fields(pairs: &[(Bytes, Bytes)]) -> Result<(), String> {
    let mut seen = HashSet::with_capacity(pairs.len());
    if pairs.iter().any(|(f, _)| !seen.insert(f)) {
        return Err("duplicate hash fields".into());
    }
    Ok(())
}

fn read_plain_hash(r: &mut Reader, enc: &Encodings) -> Result<Option<Value>, RdbError> {
    let at = r.pos();
    let (n, cap) = r.count()?;
    let mut pairs = Vec::with_capacity(cap / 2);
    for _ in 0..n {
        let f = r.bytes()?;
        let v = r.bytes()?;
        pairs.push((f, v));
    }
    check_fields(&pairs).map_err(|m| Reader::err_at(at, m))?;
    if pairs.is_empty() {
        return Ok(None);
    }
    let small = |b: &Bytes| b.len() <= enc.hash_max_listpack_value;
    let listpack = pairs.len() <= enc.hash_max_listpack_entries
        && pairs.iter().all(|(f, v)| small(f) && small(v));
    Ok(Some(Value::Hash(Hash::from_pairs(pairs, listpack))))
}

/// A quicklist (type 14: ziplist nodes; type 18: a container kind, then a
/// listpack or, for PLAIN, one element). Empty nodes are skipped as Redis
/// does; a list left empty is `None`.
fn read_quicklist(r: &mut Reader, ty: u8) -> Result<Option<Value>, RdbError> {
    let (n, _) = r.count()?;
    let mut items = Vec::new();
    for _ in 0..n {
        let at = r.pos();
        let container = if ty == TYPE_LIST_QUICKLIST_2 {
            r.len()?
        } else {
            CONTAINER_PACKED
        };
        if container != CONTAINER_PACKED && container != CONTAINER_PLAIN {
            return Err(Reader::err_at(
                at,
                format!("bad quicklist container {container}"),
            ));
        }
        let blob_at = r.pos();
        let blob = r.blob()?;
        if blob.is_empty() {
            return Err(Reader::err_at(blob_at, "empty quicklist node"));
        }
        if container == CONTAINER_PLAIN {
            items.push(Bytes::from(blob.into_owned()));
            continue;
        }
        let node = if ty == TYPE_LIST_QUICKLIST_2 {
            listpack::decode(&blob)
        } else {
            ziplist::decode(&blob)
        };
        let node = node.map_err(|m| Reader::err_at(blob_at, m))?;
        items.extend(node.into_iter().map(Item::to_bytes));
    }
    Ok((!items.is_empty()).then(|| Value::List(List::from_items(items))))
}

/// Element pairs of a ziplist or listpack (hash or sorted set).
fn pairs_of<'a>(items: Vec<Item<'a>>) -> Result<Vec<(Item<'a>, Item<'a>)>, String> {
    if items.len() % 2 != 0 {
        return Err("odd number of elements in a pairs blob".into());
    }
    Ok(items.chunks_exact(2).map(|p| (p[0], p[1])).collect())
}

fn item_score(item: Item) -> Result<f64, String> {
    match item {
        Item::Int(v) => Ok(v as f64),
        Item::Str(s) => parse_score(s).ok_or_else(|| "invalid score in a sorted set blob".into()),
    }
}

/// The value in a blob of type `ty` (9..=13, 16, 17), in the encoding
/// Redis 7.0 gives it on load: these convert by element count only (and a
/// zipmap also by length), never by the length of a listpack's elements.
fn read_blob_object(blob: &[u8], ty: u8, enc: &Encodings) -> Result<Option<Value>, String> {
    Ok(match ty {
        TYPE_HASH_ZIPMAP => {
            let raw = zipmap::decode(blob)?;
            let longest = raw.iter().map(|(f, v)| f.len().max(v.len())).max();
            let listpack = raw.len() <= enc.hash_max_listpack_entries
                && longest.unwrap_or(0) <= enc.hash_max_listpack_value;
            let pairs: Vec<(Bytes, Bytes)> = raw
                .into_iter()
                .map(|(f, v)| (Bytes::copy_from_slice(f), Bytes::copy_from_slice(v)))
                .collect();
            check_fields(&pairs)?;
            Some(Value::Hash(Hash::from_pairs(pairs, listpack)))
        }
        TYPE_LIST_ZIPLIST => {
            let items: Vec<Bytes> = ziplist::decode(blob)?
                .into_iter()
                .map(Item::to_bytes)
                .collect();
            (!items.is_empty()).then(|| Value::List(List::from_items(items)))
        }
        TYPE_SET_INTSET => {
            let (items, _) = intset::decode(blob)?;
            set_of(items.into_iter().map(Elem::Int), enc)?.map(Value::Set)
        }
        TYPE_ZSET_ZIPLIST | TYPE_ZSET_LISTPACK => {
            let items = if ty == TYPE_ZSET_ZIPLIST {
                ziplist::decode(blob)?
            } else {
                listpack::decode(blob)?
            };
            let mut pairs = Vec::with_capacity(items.len() / 2);
            for (m, s) in pairs_of(items)? {
                pairs.push((m.to_bytes(), item_score(s)?));
            }
            check_zset(&pairs)?;
            let listpack = pairs.len() <= enc.zset_max_listpack_entries;
            (!pairs.is_empty()).then(|| Value::ZSet(ZSet::from_pairs_in(pairs, listpack)))
        }
        TYPE_HASH_ZIPLIST | TYPE_HASH_LISTPACK => {
            let items = if ty == TYPE_HASH_ZIPLIST {
                ziplist::decode(blob)?
            } else {
                listpack::decode(blob)?
            };
            let pairs: Vec<(Bytes, Bytes)> = pairs_of(items)?
                .into_iter()
                .map(|(f, v)| (f.to_bytes(), v.to_bytes()))
                .collect();
            check_fields(&pairs)?;
            let listpack = pairs.len() <= enc.hash_max_listpack_entries;
            (!pairs.is_empty()).then(|| Value::Hash(Hash::from_pairs(pairs, listpack)))
        }
        _ => return Err(format!("unknown RDB object type {ty}")),
    })
}

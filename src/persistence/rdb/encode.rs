//! Writing RDB: lengths, strings (integer, LZF or verbatim, as
//! `rdbSaveRawString`), and each value in the type Redis 7.0 saves it as
//! (`rdbSaveObjectType` / `rdbSaveObject`). Pure: appends to a `Vec`.

use super::types::*;
use super::{intset, listpack};
use crate::shard::types::hash::Hash;
use crate::shard::types::list::{List, NODE_BYTES};
use crate::shard::types::set::Set;
use crate::shard::types::zset::ZSet;
use crate::shard::value::{StrValue, Value};

/// A length prefix (`rdbSaveLen`): 6, 14, 32 or 64 bits, big-endian.
pub fn write_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push((LEN_14BIT << 6) | (len >> 8) as u8);
        out.push(len as u8);
    } else if let Ok(l) = u32::try_from(len) {
        out.push(LEN_32BIT);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        out.push(LEN_64BIT);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

fn write_usize(out: &mut Vec<u8>, len: usize) {
    write_len(out, len as u64);
}

/// `v` in the 8, 16 or 32-bit integer string encoding, when it fits
/// (`rdbEncodeInteger`).
fn write_encoded_int(out: &mut Vec<u8>, v: i64) -> bool {
    let (enc, width) = if i8::try_from(v).is_ok() {
        (ENC_INT8, 1)
    } else if i16::try_from(v).is_ok() {
        (ENC_INT16, 2)
    } else if i32::try_from(v).is_ok() {
        (ENC_INT32, 4)
    } else {
        return false;
    };
    out.push((LEN_ENCVAL << 6) | enc);
    out.extend_from_slice(&v.to_le_bytes()[..width]);
    true
}

/// An integer string value (`rdbSaveLongLongAsStringObject`): encoded
/// when it fits 32 bits, else its decimal text.
fn write_int_string(out: &mut Vec<u8>, v: i64) {
    if !write_encoded_int(out, v) {
        let mut text = Vec::with_capacity(20);
        crate::util::num::write_i64(v, &mut text);
        write_usize(out, text.len());
        out.extend_from_slice(&text);
    }
}

/// `s` LZF-compressed when that saves at least four bytes
/// (`rdbSaveLzfStringObject`); false when it does not.
fn write_lzf(out: &mut Vec<u8>, s: &[u8]) -> bool {
    match super::lzf::compress(s) {
        Some(c) if c.len() + 4 <= s.len() => {
            out.push((LEN_ENCVAL << 6) | ENC_LZF);
            write_usize(out, c.len());
            write_usize(out, s.len());
            out.extend_from_slice(&c);
            true
        }
        _ => false,
    }
}

/// A string (`rdbSaveRawString`): a canonical integer of up to 11
/// characters that fits 32 bits is stored as one; with `compress`, one of
/// more than 20 bytes is LZF-compressed when that pays; otherwise length
/// and bytes.
pub fn write_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11 {
        if let Some(v) = crate::util::num::parse_i64(s) {
            if write_encoded_int(out, v) {
                return;
            }
        }
    }
    if compress && s.len() > 20 && write_lzf(out, s) {
        return;
    }
    write_usize(out, s.len());
    out.extend_from_slice(s);
}

/// The type byte Redis 7.0 saves a value under (`rdbSaveObjectType`).
pub fn value_type(v: &Value) -> u8 {
    match v {
        Value::Str(_) => TYPE_STRING,
        Value::List(_) => TYPE_LIST_QUICKLIST_2,
        Value::Set(s) if s.intset().is_some() => TYPE_SET_INTSET,
        Value::Set(_) => TYPE_SET,
        Value::Hash(h) if h.encoding() == "listpack" => TYPE_HASH_LISTPACK,
        Value::Hash(_) => TYPE_HASH,
        Value::ZSet(z) if z.encoding() == "listpack" => TYPE_ZSET_LISTPACK,
        Value::ZSet(_) => TYPE_ZSET_2,
    }
}

/// The value's body in the type `value_type` names (`rdbSaveObject`).
pub fn write_value(out: &mut Vec<u8>, v: &Value, compress: bool) {
    match v {
        Value::Str(StrValue::Int(i)) => write_int_string(out, *i),
        Value::Str(StrValue::Inline(s)) => write_string(out, s.as_bytes(), compress),
        Value::Str(StrValue::Raw(b)) => write_string(out, b, compress),
        Value::Str(StrValue::Buf(b)) => write_string(out, &b.0, compress),
        Value::List(l) => write_list(out, l, compress),
        Value::Set(s) => write_set(out, s, compress),
        Value::Hash(h) => write_hash(out, h, compress),
        Value::ZSet(z) => write_zset(out, z, compress),
    }
}

/// A quicklist of listpack nodes (type 18), cut where Redis's
/// `list-max-listpack-size -2` would start a new node while pushing at the
/// tail (`_quicklistNodeAllowInsert`: a node takes an element while its
/// bytes + the element's length + 8 stay within 8 KiB).
// COMPAT: elements of 1 GiB or more would be PLAIN nodes in Redis; such
// elements cannot reach tessera (proto-max-bulk-len is at most 512 MiB by
// default) and are written packed.
fn write_list(out: &mut Vec<u8>, l: &List, compress: bool) {
    const ESTIMATE_OVERHEAD: usize = 8;
    let mut nodes = Vec::new();
    let mut node = listpack::Builder::new();
    for e in l.iter() {
        if !node.is_empty() && node.bytes() + e.len() + ESTIMATE_OVERHEAD > NODE_BYTES {
            nodes.push(std::mem::take(&mut node).finish());
        }
        node.push(e);
    }
    if !node.is_empty() {
        nodes.push(node.finish());
    }
    write_usize(out, nodes.len());
    for n in &nodes {
        write_len(out, CONTAINER_PACKED);
        write_string(out, n, compress);
    }
}

fn write_set(out: &mut Vec<u8>, s: &Set, compress: bool) {
    if let Some((items, width)) = s.intset() {
        write_string(out, &intset::encode(&items, width), compress);
        return;
    }
    write_usize(out, s.len());
    s.for_each(|m| write_string(out, m, compress));
}

fn write_hash(out: &mut Vec<u8>, h: &Hash, compress: bool) {
    if h.encoding() == "listpack" {
        let mut lp = listpack::Builder::new();
        h.for_each(|f, v| {
            lp.push(f);
            lp.push(v);
        });
        write_string(out, &lp.finish(), compress);
        return;
    }
    write_usize(out, h.len());
    h.for_each(|f, v| {
        write_string(out, f, compress);
        write_string(out, v, compress);
    });
}

/// A listpack zset: member, score pairs ascending (type 17). A skiplist:
/// members from the highest score down with binary scores (type 5), the
/// order Redis saves in so that loading appends at the head.
fn write_zset(out: &mut Vec<u8>, z: &ZSet, compress: bool) {
    if z.encoding() == "listpack" {
        let mut lp = listpack::Builder::new();
        z.for_each(|m, score| {
            lp.push(m);
            lp.push_score(score);
        });
        write_string(out, &lp.finish(), compress);
        return;
    }
    write_usize(out, z.len());
    for (m, score) in z.iter_from(z.len().saturating_sub(1), true) {
        write_string(out, m, compress);
        out.extend_from_slice(&score.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &[u8], compress: bool) -> Vec<u8> {
        let mut out = Vec::new();
        write_string(&mut out, s, compress);
        out
    }

    #[test]
    fn lengths_like_rdb_save_len() {
        let enc = |n: u64| {
            let mut out = Vec::new();
            write_len(&mut out, n);
            out
        };
        assert_eq!(enc(0), [0]);
        assert_eq!(enc(63), [63]);
        assert_eq!(enc(64), [0x40, 64]);
        assert_eq!(enc(16_383), [0x7F, 0xFF]);
        assert_eq!(enc(16_384), [0x80, 0, 0, 0x40, 0]);
        assert_eq!(enc(1 << 32), [0x81, 0, 0, 0, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn strings_like_rdb_save_raw_string() {
        assert_eq!(string(b"12", true), [0xC0, 12]);
        assert_eq!(string(b"-200", true), [0xC1, 0x38, 0xFF]);
        assert_eq!(string(b"100000", true), [0xC2, 0xA0, 0x86, 1, 0]);
        // Not canonical, too long, or beyond 32 bits: verbatim.
        assert_eq!(string(b"012", true), b"\x03012");
        assert_eq!(string(b"4294967296", true), b"\x0a4294967296");
        assert_eq!(string(b"", true), [0]);
        // Compressible and longer than 20 bytes: LZF.
        let a = [b'a'; 40];
        let lzf = string(&a, true);
        assert_eq!(lzf[0], 0xC3);
        assert!(lzf.len() < 20);
        assert_eq!(string(&a, false)[..2], [40, b'a']);
        // Incompressible: verbatim even with compression on.
        let noise: Vec<u8> = (0..30u8).map(|i| i.wrapping_mul(97) ^ 0x5A).collect();
        assert_eq!(string(&noise, true)[0], 30);
        let mut out = Vec::new();
        write_int_string(&mut out, i64::MAX);
        assert_eq!(out, b"\x139223372036854775807");
    }
}

//! The Redis RDB format, sans-IO: writing a file piece by piece
//! (`write_header` … `write_eof`), loading a whole file held in memory
//! (`load`, record by record into a sink), and the DUMP / RESTORE payload
//! (`dump_payload`, `restore_payload`). Byte-compatible with Redis 7.0
//! (RDB version 10): what it writes Redis loads, and it loads every type
//! Redis 7.0 loads except modules and streams, which it refuses by name.
//!
//! Pure functions of their input; the caller (a shard for DUMP / RESTORE
//! and its snapshot, the control executor for a file) owns the I/O.
//! Files and payloads are untrusted: every failure is an `RdbError` naming
//! the byte offset where it was found, never a panic.

mod decode;
mod encode;
pub mod intset;
pub mod listpack;
mod lzf;
pub mod types;
pub mod ziplist;
pub mod zipmap;

#[cfg(test)]
mod tests;

use bytes::Bytes;

use self::decode::{check_type, read_object, Reader};
use self::types::*;
use crate::shard::types::Encodings;
use crate::shard::value::{Entry, Value};

pub use self::encode::{write_len, write_string};
pub use self::types::RDB_VERSION;

/// CRC-64/REDIS (Jones polynomial, reflected), slice-by-16 tables.
static CRC64: crc::Crc<u64, crc::Table<16>> =
    crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_REDIS);

/// Streaming CRC-64/REDIS, the checksum at the end of an RDB file and a
/// DUMP payload (`crc64`).
#[derive(Clone)]
pub struct Crc64 {
    digest: crc::Digest<'static, u64, crc::Table<16>>,
}

impl Default for Crc64 {
    fn default() -> Crc64 {
        Crc64::new()
    }
}

impl Crc64 {
    pub fn new() -> Crc64 {
        Crc64 {
            digest: CRC64.digest(),
        }
    }

    pub fn update(&mut self, b: &[u8]) {
        self.digest.update(b);
    }

    pub fn finish(&self) -> u64 {
        self.digest.clone().finalize()
    }
}

/// CRC-64/REDIS of `b` in one go.
pub fn crc64(b: &[u8]) -> u64 {
    CRC64.checksum(b)
}

/// Why an RDB file or payload could not be read, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RdbError {
    /// Byte offset in the file or payload.
    pub offset: usize,
    pub msg: String,
}

impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at offset {}", self.msg, self.offset)
    }
}

impl std::error::Error for RdbError {}

/// One thing an RDB file says, in file order.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// An AUX field (`redis-ver`, `ctime`, …); integer values as text.
    Aux { key: Bytes, value: Bytes },
    /// The size hint of the database selected at that point.
    ResizeDb { db: usize, keys: u64, expires: u64 },
    /// A key. Already expired keys are passed too: the caller decides.
    Entry { db: usize, key: Bytes, entry: Entry },
}

/// `REDIS0010`.
pub fn write_header(out: &mut Vec<u8>) {
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(format!("{RDB_VERSION:04}").as_bytes());
}

/// An AUX field (`rdbSaveAuxField`): both strings as `rdbSaveRawString`
/// writes them, so a canonical integer value is integer-encoded (as
/// `redis-bits`, `ctime`, `used-mem`, `aof-base` are). Not compressed.
pub fn write_aux(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    out.push(OP_AUX);
    write_string(out, key.as_bytes(), false);
    write_string(out, value, false);
}

pub fn write_select_db(out: &mut Vec<u8>, db: usize) {
    out.push(OP_SELECTDB);
    write_len(out, db as u64);
}

pub fn write_resize_db(out: &mut Vec<u8>, keys: usize, expires: usize) {
    out.push(OP_RESIZEDB);
    write_len(out, keys as u64);
    write_len(out, expires as u64);
}

/// One key (`rdbSaveKeyValuePair`): its deadline if it has one, the type
/// byte, the key, the value. `compress` is `rdbcompression`: strings of
/// more than 20 bytes are LZF-compressed when that saves space.
pub fn write_entry(out: &mut Vec<u8>, key: &[u8], entry: &Entry, compress: bool) {
    if entry.expire_at != 0 {
        out.push(OP_EXPIRETIME_MS);
        out.extend_from_slice(&entry.expire_at.to_le_bytes());
    }
    out.push(encode::value_type(&entry.value));
    write_string(out, key, compress);
    encode::write_value(out, &entry.value, compress);
}

/// The end marker only; the caller appends the CRC64 of everything before
/// it and of the marker, 8 bytes little-endian.
pub fn write_eof(out: &mut Vec<u8>) {
    out.push(OP_EOF);
}

/// The DUMP payload of a value (`createDumpPayload`): type byte, value
/// (compressed as with Redis's default `rdbcompression yes`), RDB version
/// (2 bytes LE), CRC64 of all that (8 bytes LE).
pub fn dump_payload(v: &Value) -> Vec<u8> {
    let mut out = vec![encode::value_type(v)];
    encode::write_value(&mut out, v, true);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Checks a DUMP payload's footer as `verifyDumpPayload` does: at least
/// the 10 footer bytes, a version no newer than ours, a matching CRC64.
/// Returns the object part.
pub fn verify_payload(p: &[u8]) -> Result<&[u8], RdbError> {
    let Some(body_len) = p.len().checked_sub(10) else {
        return Err(Reader::err_at(0, "DUMP payload shorter than its footer"));
    };
    let (body, footer) = p.split_at(body_len);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_VERSION {
        return Err(Reader::err_at(
            body_len,
            format!("DUMP payload RDB version {version} is newer than {RDB_VERSION}"),
        ));
    }
    let mut stored = [0u8; 8];
    stored.copy_from_slice(&footer[2..]);
    let stored = u64::from_le_bytes(stored);
    let computed = crc64(&p[..body_len + 2]);
    if stored != computed {
        return Err(Reader::err_at(
            body_len + 2,
            format!("DUMP payload CRC64 {stored:016x} does not match {computed:016x}"),
        ));
    }
    Ok(body)
}

/// The value in the object part of a verified DUMP payload (type byte +
/// value, as `rdbLoadObjectType` + `rdbLoadObject` read it).
pub fn decode_payload(body: &[u8], enc: &Encodings) -> Result<Value, RdbError> {
    let mut r = Reader::new(body);
    let ty = r.u8()?;
    check_type(ty, 0)?;
    read_object(&mut r, ty, enc)?.ok_or_else(|| Reader::err_at(1, "empty collection"))
}

/// RESTORE's reading of a payload: `verify_payload`, then `decode_payload`.
/// RESTORE answers "DUMP payload version or checksum are wrong" when the
/// first fails and "Bad data format" when the second does.
pub fn restore_payload(p: &[u8], enc: &Encodings) -> Result<Value, RdbError> {
    decode_payload(verify_payload(p)?, enc)
}

/// The LRU clock of a key last used `idle` seconds before `now_ms`, as
/// `objectSetLRUOrLFU` computes it (wrapping like Redis's 24-bit clock).
pub fn lru_with_idle(now_ms: u64, idle: u64) -> u32 {
    const LRU_CLOCK_MAX: i64 = 0xFF_FFFF;
    let clock = i64::from(crate::shard::db::lru_clock(now_ms));
    let idle = i64::try_from(idle).unwrap_or(i64::MAX);
    let mut abs = clock - idle;
    if abs < 0 {
        abs += LRU_CLOCK_MAX;
    }
    (abs as u64 & LRU_CLOCK_MAX as u64) as u32
}

/// Key attributes set by opcodes before a key (`rdbLoadRio`).
#[derive(Default)]
struct KeyAttrs {
    expire_at: u64,
    idle: Option<u64>,
}

/// Reads `REDIS` and the four version digits; returns the version.
fn read_header(r: &mut Reader) -> Result<u16, RdbError> {
    let head = r
        .take(9)
        .map_err(|_| Reader::err_at(0, "file shorter than the RDB header"))?;
    if &head[..5] != MAGIC {
        return Err(Reader::err_at(0, "wrong signature: not an RDB file"));
    }
    let digits = &head[5..];
    let version = std::str::from_utf8(digits)
        .ok()
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse::<u16>().ok())
        .ok_or_else(|| Reader::err_at(5, "bad RDB version digits"))?;
    if !(1..=RDB_VERSION).contains(&version) {
        return Err(Reader::err_at(
            5,
            format!("can't handle RDB format version {version}"),
        ));
    }
    Ok(version)
}

/// An absolute deadline in ms from a stored one: Redis's "no deadline"
/// sentinel -1 stays none; any other past value is an expired key (kept
/// non-zero, since 0 means persistent here).
fn deadline(ms: i64) -> u64 {
    if ms == -1 {
        0
    } else {
        u64::try_from(ms).unwrap_or(0).max(1)
    }
}

/// Loads a whole RDB file held in memory, calling `sink` for every record
/// in file order (`rdbLoadRio`). Checks the magic and version (1 to 10),
/// and with `verify_checksum` the CRC64 after the end marker unless it is
/// zero (saved with `rdbchecksum no`), as Redis does. Functions, module
/// data, modules and streams are refused. On an error the records already
/// passed to `sink` must be discarded. `entry.lru` is set from the IDLE
/// opcode when one precedes the key, else to now; FREQ is read and
/// ignored. Empty collections are skipped, as Redis skips them. Returns
/// the bytes the file took (an AOF's RDB preamble is followed by commands).
pub fn load(
    data: &[u8],
    enc: &Encodings,
    verify_checksum: bool,
    sink: &mut dyn FnMut(Record),
) -> Result<usize, RdbError> {
    let mut r = Reader::new(data);
    let version = read_header(&mut r)?;
    let now = crate::util::clock::now_ms();
    let mut db = 0usize;
    let mut attrs = KeyAttrs::default();
    loop {
        let at = r.pos();
        let op = r.u8()?;
        match op {
            OP_EXPIRETIME => {
                let secs = i64::from(i32::from_le_bytes(r.array()?));
                attrs.expire_at = deadline(secs.saturating_mul(1000));
            }
            OP_EXPIRETIME_MS => attrs.expire_at = deadline(i64::from_le_bytes(r.array()?)),
            OP_FREQ => {
                r.u8()?;
            }
            OP_IDLE => attrs.idle = Some(r.len()?),
            OP_EOF => break,
            OP_SELECTDB => {
                let n = r.len()?;
                db = usize::try_from(n)
                    .map_err(|_| Reader::err_at(at, format!("database {n} out of range")))?;
            }
            OP_RESIZEDB => {
                let keys = r.len()?;
                let expires = r.len()?;
                sink(Record::ResizeDb { db, keys, expires });
            }
            OP_AUX => {
                let key = r.bytes()?;
                let value = r.bytes()?;
                sink(Record::Aux { key, value });
            }
            OP_MODULE_AUX => {
                return Err(Reader::err_at(
                    at,
                    "module data is not supported by tessera",
                ))
            }
            OP_FUNCTION | OP_FUNCTION2 => {
                return Err(Reader::err_at(
                    at,
                    "functions (FUNCTION LOAD libraries) are not supported by tessera",
                ))
            }
            ty => {
                check_type(ty, at)?;
                let key = r.bytes()?;
                let value = read_object(&mut r, ty, enc)?;
                let attrs = std::mem::take(&mut attrs);
                if let Some(value) = value {
                    let lru = lru_with_idle(now, attrs.idle.unwrap_or(0));
                    let entry = Entry {
                        value,
                        expire_at: attrs.expire_at,
                        lru,
                    };
                    sink(Record::Entry { db, key, entry });
                }
            }
        }
    }
    // Version 5 and later end with the checksum of everything before it.
    if version >= 5 {
        let at = r.pos();
        let stored = u64::from_le_bytes(r.array()?);
        if verify_checksum && stored != 0 {
            let computed = crc64(data.get(..at).unwrap_or_default());
            if stored != computed {
                return Err(Reader::err_at(
                    at,
                    format!("RDB CRC64 {stored:016x} does not match {computed:016x}"),
                ));
            }
        }
    }
    Ok(r.pos())
}

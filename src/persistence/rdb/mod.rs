//! TEMPORARY STUB (strings only) until the real codec lands.
use bytes::Bytes;

use crate::shard::types::Encodings;
use crate::shard::value::{Entry, StrValue, Value};

pub const RDB_VERSION: u16 = 10;

pub struct Crc64(crc::Digest<'static, u64>);
static CRC: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);
impl Default for Crc64 {
    fn default() -> Self {
        Crc64::new()
    }
}
impl Crc64 {
    pub fn new() -> Crc64 {
        Crc64(CRC.digest())
    }
    pub fn update(&mut self, b: &[u8]) {
        self.0.update(b)
    }
    pub fn finish(&self) -> u64 {
        self.0.clone().finalize()
    }
}

fn len(out: &mut Vec<u8>, n: u64) {
    out.push(0x80);
    out.extend_from_slice(&(n as u32).to_be_bytes());
}
fn s(out: &mut Vec<u8>, b: &[u8]) {
    len(out, b.len() as u64);
    out.extend_from_slice(b);
}
pub fn write_header(out: &mut Vec<u8>) {
    out.extend_from_slice(b"REDIS0010");
}
pub fn write_aux(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    out.push(0xFA);
    s(out, key.as_bytes());
    s(out, value);
}
pub fn write_select_db(out: &mut Vec<u8>, db: usize) {
    out.push(0xFE);
    len(out, db as u64);
}
pub fn write_resize_db(out: &mut Vec<u8>, keys: usize, expires: usize) {
    out.push(0xFB);
    len(out, keys as u64);
    len(out, expires as u64);
}
pub fn write_entry(out: &mut Vec<u8>, key: &[u8], entry: &Entry, _compress: bool) {
    if entry.expire_at != 0 {
        out.push(0xFC);
        out.extend_from_slice(&entry.expire_at.to_le_bytes());
    }
    out.push(0);
    s(out, key);
    let mut scratch = Vec::new();
    if let Value::Str(v) = &entry.value {
        s(out, v.as_slice(&mut scratch));
    } else {
        s(out, b"?");
    }
}
pub fn write_eof(out: &mut Vec<u8>) {
    out.push(0xFF);
}
pub enum Record {
    Aux { key: Bytes, value: Bytes },
    ResizeDb { db: usize, keys: u64, expires: u64 },
    Entry { db: usize, key: Bytes, entry: Entry },
}
#[derive(Debug)]
pub struct RdbError {
    pub offset: usize,
    pub msg: String,
}
impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at offset {}", self.msg, self.offset)
    }
}
struct R<'a> {
    d: &'a [u8],
    p: usize,
}
impl R<'_> {
    fn err(&self, m: &str) -> RdbError {
        RdbError {
            offset: self.p,
            msg: m.into(),
        }
    }
    fn byte(&mut self) -> Result<u8, RdbError> {
        let b = *self
            .d
            .get(self.p)
            .ok_or_else(|| self.err("Unexpected EOF reading RDB file"))?;
        self.p += 1;
        Ok(b)
    }
    fn take(&mut self, n: usize) -> Result<&[u8], RdbError> {
        let end = self
            .p
            .checked_add(n)
            .filter(|&e| e <= self.d.len())
            .ok_or_else(|| self.err("Unexpected EOF reading RDB file"))?;
        let s = &self.d[self.p..end];
        self.p = end;
        Ok(s)
    }
    fn len(&mut self) -> Result<u64, RdbError> {
        if self.byte()? != 0x80 {
            return Err(self.err("bad len"));
        }
        Ok(u32::from_be_bytes(self.take(4)?.try_into().unwrap_or_default()) as u64)
    }
    fn s(&mut self) -> Result<Bytes, RdbError> {
        let n = self.len()? as usize;
        Ok(Bytes::copy_from_slice(self.take(n)?))
    }
}
pub fn load(
    data: &[u8],
    _enc: &Encodings,
    _verify: bool,
    sink: &mut dyn FnMut(Record),
) -> Result<(), RdbError> {
    let mut r = R { d: data, p: 0 };
    if r.take(9)? != b"REDIS0010" {
        return Err(r.err("Wrong signature trying to load DB from file"));
    }
    let mut db = 0;
    let mut exp = 0;
    loop {
        match r.byte()? {
            0xFA => {
                let key = r.s()?;
                let value = r.s()?;
                sink(Record::Aux { key, value });
            }
            0xFE => db = r.len()? as usize,
            0xFB => {
                let keys = r.len()?;
                let expires = r.len()?;
                sink(Record::ResizeDb { db, keys, expires });
            }
            0xFC => exp = u64::from_le_bytes(r.take(8)?.try_into().unwrap_or_default()),
            0xFF => return Ok(()),
            0 => {
                let key = r.s()?;
                let v = r.s()?;
                let entry = Entry {
                    value: Value::Str(StrValue::from_bytes(&v)),
                    expire_at: exp,
                    lru: 0,
                };
                exp = 0;
                sink(Record::Entry { db, key, entry });
            }
            _ => return Err(r.err("bad type")),
        }
    }
}

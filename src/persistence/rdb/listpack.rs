//! Redis's listpack (`listpack.c`): the blob small hashes, sorted sets and
//! quicklist nodes are saved as. Building one, reading one back with the
//! checks of `lpValidateIntegrity` (deep), and the size of one entry, which
//! the value types also use for their memory accounting. Pure; runs on
//! whichever executor calls it.
//!
//! Layout: total bytes (u32 LE), element count (u16 LE, 65535 = unknown),
//! the entries, then `0xFF`. An entry is an encoding byte (with the value
//! or the string length in it or after it), the data, then its
//! "back-length": the size of encoding + data in 1..5 bytes, 7 bits each,
//! most significant first, all but the first with the top bit set, so the
//! listpack can be walked from the tail.

use crate::util::num::parse_i64;

/// Total bytes (u32) and element count (u16) (`LP_HDR_SIZE`).
pub const HEADER: usize = 6;
/// The end marker (`LP_EOF`).
const END: u8 = 0xFF;
/// An element count too large for the header (`LP_HDR_NUMELE_UNKNOWN`).
const UNKNOWN_COUNT: u16 = u16::MAX;

/// Bytes of the encoding + data of integer `v`: the smallest of the 7-bit
/// unsigned, 13, 16, 24, 32 and 64-bit forms (`lpEncodeIntegerGetType`).
fn int_len(v: i64) -> usize {
    match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32_768..=32_767 => 3,
        -8_388_608..=8_388_607 => 4,
        -2_147_483_648..=2_147_483_647 => 5,
        _ => 9,
    }
}

/// Bytes of the encoding byte(s) in front of a string of `len` bytes.
fn str_header_len(len: usize) -> usize {
    if len < 64 {
        1
    } else if len < 4096 {
        2
    } else {
        5
    }
}

/// Bytes of the back-length of an entry of `l` bytes (`lpEncodeBacklen`).
fn backlen_len(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..16_383 => 2,
        16_383..2_097_151 => 3,
        2_097_151..268_435_455 => 4,
        _ => 5,
    }
}

/// Bytes one element takes in a listpack: encoding + data + back-length
/// (`lpEncodeGetType` / `lpEncodeBacklen`). Strings that `lpStringToInt64`
/// accepts are stored as integers.
pub fn entry_size(s: &[u8]) -> usize {
    let l = match parse_i64(s) {
        Some(v) => int_len(v),
        None => str_header_len(s.len()) + s.len(),
    };
    l + backlen_len(l)
}

/// Writes the back-length of an entry of `l` bytes.
fn push_backlen(out: &mut Vec<u8>, l: usize) {
    let n = backlen_len(l);
    // Seven bits per byte, most significant group first; every byte but
    // the first has the top bit set.
    for i in (0..n).rev() {
        let group = ((l >> (7 * i)) & 0x7F) as u8;
        out.push(if i + 1 == n { group } else { group | 0x80 });
    }
}

fn push_int(out: &mut Vec<u8>, v: i64) {
    let le = v.to_le_bytes();
    match int_len(v) {
        1 => out.push(v as u8),
        2 => {
            // 13-bit two's complement: 110xxxxx yyyyyyyy.
            let u = (v as u16) & 0x1FFF;
            out.push(0xC0 | (u >> 8) as u8);
            out.push(u as u8);
        }
        3 => {
            out.push(0xF1);
            out.extend_from_slice(&le[..2]);
        }
        4 => {
            out.push(0xF2);
            out.extend_from_slice(&le[..3]);
        }
        5 => {
            out.push(0xF3);
            out.extend_from_slice(&le[..4]);
        }
        _ => {
            out.push(0xF4);
            out.extend_from_slice(&le);
        }
    }
}

fn push_str(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    match str_header_len(len) {
        1 => out.push(0x80 | len as u8),
        2 => {
            out.push(0xE0 | (len >> 8) as u8);
            out.push(len as u8);
        }
        _ => {
            out.push(0xF0);
            // Entries are below 4 GiB: Redis refuses bigger listpacks.
            out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
        }
    }
    out.extend_from_slice(s);
}

/// A listpack being built by appending (`lpAppend`).
pub struct Builder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            buf: vec![0; HEADER],
            count: 0,
        }
    }

    /// Appends an element, as an integer when it is one.
    pub fn push(&mut self, s: &[u8]) {
        match parse_i64(s) {
            Some(v) => self.push_integer(v),
            None => self.push_entry(|out| push_str(out, s)),
        }
    }

    /// Appends an integer element (`lpAppendInteger`).
    pub fn push_integer(&mut self, v: i64) {
        self.push_entry(|out| push_int(out, v));
    }

    fn push_entry(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.buf.len();
        write(&mut self.buf);
        let l = self.buf.len() - start;
        push_backlen(&mut self.buf, l);
        self.count += 1;
    }

    /// Appends a sorted-set score the way `zzlInsertAt` stores it: as an
    /// integer when `double2ll` allows, else as its `%.17g` text.
    pub fn push_score(&mut self, score: f64) {
        match double_to_int(score) {
            Some(v) => self.push_integer(v),
            None => self.push(crate::protocol::format_double(score).as_bytes()),
        }
    }

    /// Size the finished listpack will have (`lpBytes`).
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The finished blob: header filled in, end marker appended.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(END);
        let total = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
        let count = u16::try_from(self.count).unwrap_or(UNKNOWN_COUNT);
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        self.buf[4..HEADER].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// Redis's `double2ll`: the integer a double is exactly, when it is within
/// ±2^62 (so a cast cannot overflow).
pub fn double_to_int(d: f64) -> Option<i64> {
    let limit = (i64::MAX / 2) as f64;
    if !(-limit..=limit).contains(&d) {
        return None;
    }
    let v = d as i64;
    (v as f64 == d).then_some(v)
}

/// One element read from a listpack or ziplist: integers stay integers
/// until someone needs their text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Item<'_> {
    pub fn to_bytes(self) -> bytes::Bytes {
        match self {
            Item::Int(v) => {
                let mut out = Vec::with_capacity(20);
                crate::util::num::write_i64(v, &mut out);
                bytes::Bytes::from(out)
            }
            Item::Str(s) => bytes::Bytes::copy_from_slice(s),
        }
    }
}

/// `len` bytes of `blob` from `at`, or an error naming what was cut.
fn slice(blob: &[u8], at: usize, len: usize) -> Result<&[u8], String> {
    at.checked_add(len)
        .and_then(|end| blob.get(at..end))
        .ok_or_else(|| format!("listpack entry at byte {at} runs past the end"))
}

/// A little-endian two's complement integer of 1 to 8 bytes (listpack,
/// ziplist and intset entries).
pub(super) fn le_int(b: &[u8]) -> i64 {
    let mut buf = [0u8; 8];
    for (d, s) in buf.iter_mut().zip(b) {
        *d = *s;
    }
    // Sign-extend from the width read.
    let shift = 64 - 8 * b.len().clamp(1, 8) as u32;
    (i64::from_le_bytes(buf) << shift) >> shift
}

/// Reads the entry at `at`: its element and its encoding + data length.
fn read_entry(blob: &[u8], at: usize) -> Result<(Item<'_>, usize), String> {
    let b = *blob.get(at).ok_or("listpack ends without its end marker")?;
    let (item, len) = if b & 0x80 == 0 {
        (Item::Int(i64::from(b & 0x7F)), 1)
    } else if b & 0xC0 == 0x80 {
        let n = usize::from(b & 0x3F);
        (Item::Str(slice(blob, at + 1, n)?), 1 + n)
    } else if b & 0xE0 == 0xC0 {
        let lo = slice(blob, at + 1, 1)?[0];
        let u = (u16::from(b & 0x1F) << 8) | u16::from(lo);
        // 13-bit two's complement.
        let v = if u >= 1 << 12 {
            i64::from(u) - (1 << 13)
        } else {
            i64::from(u)
        };
        (Item::Int(v), 2)
    } else if b & 0xF0 == 0xE0 {
        let lo = slice(blob, at + 1, 1)?[0];
        let n = (usize::from(b & 0x0F) << 8) | usize::from(lo);
        (Item::Str(slice(blob, at + 2, n)?), 2 + n)
    } else {
        match b {
            0xF1 => (Item::Int(le_int(slice(blob, at + 1, 2)?)), 3),
            0xF2 => (Item::Int(le_int(slice(blob, at + 1, 3)?)), 4),
            0xF3 => (Item::Int(le_int(slice(blob, at + 1, 4)?)), 5),
            0xF4 => (Item::Int(le_int(slice(blob, at + 1, 8)?)), 9),
            0xF0 => {
                let raw = slice(blob, at + 1, 4)?;
                let n = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize;
                (Item::Str(slice(blob, at + 5, n)?), n.saturating_add(5))
            }
            END => return Err(format!("listpack end marker at byte {at} before the end")),
            _ => {
                return Err(format!(
                    "bad listpack entry encoding 0x{b:02x} at byte {at}"
                ))
            }
        }
    };
    Ok((item, len))
}

/// Every element of a listpack blob, after checking it whole as Redis's
/// deep `lpValidateIntegrity` does: header size, every entry's encoding,
/// length and back-length, the element count, the end marker.
pub fn decode(blob: &[u8]) -> Result<Vec<Item<'_>>, String> {
    if blob.len() < HEADER + 1 {
        return Err("listpack shorter than its header".into());
    }
    let total = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    if total != blob.len() {
        return Err(format!(
            "listpack header says {total} bytes, blob has {}",
            blob.len()
        ));
    }
    let count = u16::from_le_bytes([blob[4], blob[5]]);
    let end = blob.len() - 1;
    if blob[end] != END {
        return Err("listpack does not end with its end marker".into());
    }
    // Each entry takes at least two bytes.
    let mut items = Vec::with_capacity((end - HEADER) / 2);
    let mut at = HEADER;
    while at < end {
        let (item, len) = read_entry(blob, at)?;
        let mut want = Vec::with_capacity(5);
        push_backlen(&mut want, len);
        let back_at = at.saturating_add(len);
        let back = back_at
            .checked_add(want.len())
            .filter(|&e| e <= end)
            .and_then(|e| blob.get(back_at..e))
            .ok_or_else(|| format!("listpack entry at byte {at} runs past the end"))?;
        if back != want.as_slice() {
            return Err(format!("bad listpack back-length at byte {back_at}"));
        }
        items.push(item);
        at = back_at + want.len();
    }
    if count != UNKNOWN_COUNT && usize::from(count) != items.len() {
        return Err(format!(
            "listpack header counts {count} elements, found {}",
            items.len()
        ));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(items: &[&[u8]]) -> Vec<u8> {
        let mut b = Builder::new();
        for i in items {
            b.push(i);
        }
        b.finish()
    }

    #[test]
    fn entry_encodings_match_listpack_c() {
        // Hand-assembled from listpack.c's encoding table.
        let lp = build(&[
            b"a",
            b"127",
            b"-1",
            b"1000",
            b"-32768",
            b"8388607",
            b"-2147483648",
        ]);
        let want: Vec<u8> = [
            &[0x21, 0, 0, 0, 7, 0][..],
            &[0x81, b'a', 2],                   // 6-bit string
            &[0x7F, 1],                         // 7-bit uint
            &[0xDF, 0xFF, 2],                   // 13-bit -1
            &[0xC3, 0xE8, 2],                   // 13-bit 1000
            &[0xF1, 0x00, 0x80, 3],             // 16-bit
            &[0xF2, 0xFF, 0xFF, 0x7F, 4],       // 24-bit
            &[0xF3, 0x00, 0x00, 0x00, 0x80, 5], // 32-bit
            &[0xFF],
        ]
        .concat();
        assert_eq!(lp, want);
        let items = decode(&lp).unwrap();
        assert_eq!(
            items,
            [
                Item::Str(b"a"),
                Item::Int(127),
                Item::Int(-1),
                Item::Int(1000),
                Item::Int(-32768),
                Item::Int(8_388_607),
                Item::Int(-2_147_483_648)
            ]
        );
    }

    #[test]
    fn long_entries_and_backlens() {
        let s100 = vec![b'x'; 100];
        let s5000 = vec![b'y'; 5000];
        let big = i64::MAX.to_string();
        let lp = build(&[&s100, &s5000, big.as_bytes(), b"012"]);
        // 12-bit string header, back-length of 102 fits one byte.
        assert_eq!(&lp[6..8], &[0xE0, 100]);
        assert_eq!(lp[6 + 102], 102);
        // 32-bit string of 5000 bytes: entry 5005 bytes, 2-byte back-length.
        let at = 6 + 103;
        assert_eq!(lp[at], 0xF0);
        assert_eq!(
            &lp[at + 5005..at + 5007],
            &[(5005 >> 7) as u8, (5005 & 127) as u8 | 128]
        );
        let items = decode(&lp).unwrap();
        assert_eq!(items[0], Item::Str(&s100));
        assert_eq!(items[1], Item::Str(&s5000));
        assert_eq!(items[2], Item::Int(i64::MAX));
        assert_eq!(items[3], Item::Str(b"012"));
        for s in [&s100[..], &s5000, big.as_bytes(), b"012", b"5", b"-100"] {
            let one = build(&[s]);
            assert_eq!(entry_size(s), one.len() - HEADER - 1, "{s:?}");
        }
    }

    #[test]
    fn scores_like_zzl_insert() {
        let mut b = Builder::new();
        b.push_score(1.0);
        b.push_score(-0.0);
        b.push_score(1.5);
        b.push_score(f64::INFINITY);
        b.push_score(1e300);
        let lp = b.finish();
        let items = decode(&lp).unwrap();
        assert_eq!(items[0], Item::Int(1));
        assert_eq!(items[1], Item::Int(0));
        assert_eq!(items[2], Item::Str(b"1.5"));
        assert_eq!(items[3], Item::Str(b"inf"));
        assert_eq!(items[4], Item::Str(b"1.0000000000000001e+300"));
        assert_eq!(double_to_int(4.7e18), None);
        assert_eq!(double_to_int(4.6e18), Some(4_600_000_000_000_000_000));
        assert_eq!(double_to_int(f64::NAN), None);
    }

    #[test]
    fn corrupt_listpacks_are_errors() {
        let lp = build(&[b"abc", b"12"]);
        assert!(decode(&lp).is_ok());
        let mut bad = lp.clone();
        bad[0] += 1;
        assert!(decode(&bad).is_err());
        let mut bad = lp.clone();
        bad[4] = 3;
        assert!(decode(&bad).is_err());
        let mut bad = lp.clone();
        bad[6] = 0xF5;
        assert!(decode(&bad).is_err());
        let mut bad = lp.clone();
        bad[10] = 9; // back-length of "abc"
        assert!(decode(&bad).is_err());
        let mut bad = lp.clone();
        *bad.last_mut().unwrap() = 0;
        assert!(decode(&bad).is_err());
        assert!(decode(&lp[..5]).is_err());
        // Every truncation and every single-byte change: no panic.
        for cut in 0..lp.len() {
            let _ = decode(&lp[..cut]);
        }
        for i in 0..lp.len() {
            for v in [0u8, 0x7F, 0x80, 0xC0, 0xE0, 0xF0, 0xF4, 0xFF] {
                let mut m = lp.clone();
                m[i] = v;
                let _ = decode(&m);
            }
        }
    }
}

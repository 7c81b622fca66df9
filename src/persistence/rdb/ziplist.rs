//! Redis's ziplist (`ziplist.c`), read only: how lists (RDB types 10 and
//! 14), sorted sets (12) and hashes (13) were saved before Redis 7.0. Pure.
//!
//! Layout: total bytes (u32 LE), offset of the last entry (u32 LE), count
//! (u16 LE, 65535 = unknown), entries, `0xFF`. An entry is the previous
//! entry's size (1 byte below 254, else 254 + u32 LE), an encoding, data:
//! - `00llllll`, `01llllll llllllll` (big-endian), `10000000` + u32 BE:
//!   a string of that length;
//! - `11000000` i16, `11010000` i32, `11100000` i64, `11110000` i24,
//!   `11111110` i8, all little-endian; `1111xxxx` (xxxx 1..13): xxxx - 1.

use super::listpack::{le_int, Item};

const HEADER: usize = 10;
const END: u8 = 0xFF;
const BIG_PREVLEN: u8 = 254;
const UNKNOWN_COUNT: u16 = u16::MAX;

fn cut(blob: &[u8], at: usize, len: usize) -> Result<&[u8], String> {
    at.checked_add(len)
        .and_then(|end| blob.get(at..end))
        .ok_or_else(|| format!("ziplist entry at byte {at} runs past the end"))
}

/// The element at `at` (just past the prevlen field) and its encoding +
/// data length.
fn read_value(blob: &[u8], at: usize) -> Result<(Item<'_>, usize), String> {
    let b = *blob.get(at).ok_or("ziplist ends inside an entry")?;
    let (header, len) = match b >> 6 {
        0 => (1, usize::from(b & 0x3F)),
        1 => {
            let lo = cut(blob, at + 1, 1)?[0];
            (2, (usize::from(b & 0x3F) << 8) | usize::from(lo))
        }
        2 if b == 0x80 => {
            let raw = cut(blob, at + 1, 4)?;
            (
                5,
                u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize,
            )
        }
        2 => {
            return Err(format!(
                "bad ziplist string encoding 0x{b:02x} at byte {at}"
            ))
        }
        _ => {
            let width = match b {
                0xC0 => 2,
                0xD0 => 4,
                0xE0 => 8,
                0xF0 => 3,
                0xFE => 1,
                0xF1..=0xFD => return Ok((Item::Int(i64::from(b & 0x0F) - 1), 1)),
                _ => return Err(format!("bad ziplist encoding 0x{b:02x} at byte {at}")),
            };
            let v = le_int(cut(blob, at + 1, width)?);
            return Ok((Item::Int(v), 1 + width));
        }
    };
    let s = cut(blob, at + header, len)?;
    Ok((Item::Str(s), header + len))
}

/// Every element of a ziplist blob, after checking it whole (as
/// `ziplistValidateIntegrity` does, deep): total size, every entry's
/// previous-length and encoding, the tail offset, the count, the end.
pub fn decode(blob: &[u8]) -> Result<Vec<Item<'_>>, String> {
    let Some((head, _)) = blob.split_first_chunk::<HEADER>() else {
        return Err("ziplist shorter than its header".into());
    };
    let total = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let tail = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
    let count = u16::from_le_bytes([head[8], head[9]]);
    if total != blob.len() {
        return Err(format!(
            "ziplist header says {total} bytes, blob has {}",
            blob.len()
        ));
    }
    let end = blob.len().saturating_sub(1);
    if end < HEADER || blob.get(end) != Some(&END) {
        return Err("ziplist does not end with its end marker".into());
    }
    // Each entry takes at least two bytes.
    let mut items = Vec::with_capacity((end - HEADER) / 2);
    let (mut at, mut prev_size, mut last) = (HEADER, 0usize, HEADER);
    while at < end {
        let b = blob[at];
        let (prevlen, field) = match b {
            END => return Err(format!("ziplist end marker at byte {at} before the end")),
            BIG_PREVLEN => {
                let raw = cut(blob, at + 1, 4)?;
                (
                    u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize,
                    5,
                )
            }
            _ => (usize::from(b), 1),
        };
        if prevlen != prev_size {
            return Err(format!("bad ziplist previous-entry length at byte {at}"));
        }
        let (item, len) = read_value(blob, at + field)?;
        let size = field + len;
        if at + size > end {
            return Err(format!("ziplist entry at byte {at} runs past the end"));
        }
        items.push(item);
        last = at;
        prev_size = size;
        at += size;
    }
    if tail != last {
        return Err(format!(
            "ziplist tail offset {tail} is not the last entry {last}"
        ));
    }
    if count != UNKNOWN_COUNT && usize::from(count) != items.len() {
        return Err(format!(
            "ziplist header counts {count} elements, found {}",
            items.len()
        ));
    }
    Ok(items)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A ziplist of these entries (each `(encoding + data)` given whole),
    /// laid out by hand from the format above.
    pub(crate) fn assemble(entries: &[&[u8]]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        let mut last = HEADER;
        for e in entries {
            last = HEADER + body.len();
            let start = body.len();
            if prev < 254 {
                body.push(prev as u8);
            } else {
                body.push(254);
                body.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            body.extend_from_slice(e);
            prev = body.len() - start;
        }
        let mut out = Vec::new();
        out.extend_from_slice(&((HEADER + body.len() + 1) as u32).to_le_bytes());
        out.extend_from_slice(&(last as u32).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&body);
        out.push(END);
        out
    }

    #[test]
    fn every_encoding() {
        let long = [&[0x41, 0x2C][..], &[b'z'; 300]].concat();
        let zl = assemble(&[
            b"\x03abc",
            &long,
            b"\xF1",
            b"\xFD",
            b"\xFE\x9C",
            b"\xC0\x18\xFC",
            b"\xF0\x00\x00\x80",
            b"\xD0\x00\x00\x00\x80",
            b"\xE0\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F",
            b"\x80\x00\x00\x00\x02hi",
        ]);
        let items = decode(&zl).unwrap();
        assert_eq!(items[0], Item::Str(b"abc"));
        assert_eq!(items[1], Item::Str(&[b'z'; 300]));
        assert_eq!(items[2], Item::Int(0));
        assert_eq!(items[3], Item::Int(12));
        assert_eq!(items[4], Item::Int(-100));
        assert_eq!(items[5], Item::Int(-1000));
        assert_eq!(items[6], Item::Int(-8_388_608));
        assert_eq!(items[7], Item::Int(i64::from(i32::MIN)));
        assert_eq!(items[8], Item::Int(i64::MAX));
        assert_eq!(items[9], Item::Str(b"hi"));
        // The entry after the 300-byte one has a 5-byte prevlen.
        assert_eq!(zl[HEADER + 5 + 303], 254);
    }

    #[test]
    fn corrupt_ziplists_are_errors() {
        let zl = assemble(&[b"\x01a", b"\xF2"]);
        assert_eq!(decode(&zl).unwrap(), [Item::Str(b"a"), Item::Int(1)]);
        let mut bad = zl.clone();
        bad[4] = 0; // tail offset
        assert!(decode(&bad).is_err());
        let mut bad = zl.clone();
        bad[HEADER + 3] = 1; // prevlen of the second entry
        assert!(decode(&bad).is_err());
        let mut bad = zl.clone();
        bad[8] = 5; // count
        assert!(decode(&bad).is_err());
        let mut bad = zl.clone();
        bad[HEADER + 1] = 0xC1;
        assert!(decode(&bad).is_err());
        assert!(decode(&zl[..zl.len() - 1]).is_err());
        for i in 0..zl.len() {
            for v in [0u8, 0x3F, 0x40, 0x80, 0xC0, 0xF0, 0xFE, 0xFF] {
                let mut m = zl.clone();
                m[i] = v;
                let _ = decode(&m);
            }
        }
    }
}

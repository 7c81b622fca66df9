//! Redis's zipmap (`zipmap.c`), read only: how small hashes were saved
//! before Redis 2.6 (RDB type 9). Pure.
//!
//! Layout: count (1 byte; 254 or more = unknown), then per pair: key
//! length, key, value length, one "free" byte, value, that many unused
//! bytes; then `0xFF`. A length is one byte below 254, else 254 + u32 LE.

/// A field and its value, borrowed from the blob.
pub type Pair<'a> = (&'a [u8], &'a [u8]);

const BIGLEN: u8 = 254;
const END: u8 = 0xFF;

/// Reads a length at `*at`, moving past it.
fn read_len(blob: &[u8], at: &mut usize) -> Result<usize, String> {
    let b = *blob.get(*at).ok_or("zipmap ends inside an entry")?;
    if b == END {
        return Err(format!("zipmap end marker inside an entry at byte {at}"));
    }
    if b < BIGLEN {
        *at += 1;
        return Ok(usize::from(b));
    }
    let raw = blob
        .get(*at + 1..*at + 5)
        .ok_or("zipmap ends inside a length")?;
    *at += 5;
    Ok(u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize)
}

fn take<'a>(blob: &'a [u8], at: &mut usize, len: usize) -> Result<&'a [u8], String> {
    let s = at
        .checked_add(len)
        .and_then(|end| blob.get(*at..end))
        .ok_or_else(|| format!("zipmap entry at byte {at} runs past the end"))?;
    *at += len;
    Ok(s)
}

/// The (field, value) pairs of a zipmap blob, checked as
/// `zipmapValidateIntegrity` (deep) does: every entry inside the blob, an
/// end marker, at least one pair, the count when the header has one.
pub fn decode(blob: &[u8]) -> Result<Vec<Pair<'_>>, String> {
    let (&count, _) = blob.split_first().ok_or("empty zipmap")?;
    if blob.last() != Some(&END) || blob.len() < 2 {
        return Err("zipmap does not end with its end marker".into());
    }
    let mut pairs = Vec::new();
    let mut at = 1;
    while blob.get(at) != Some(&END) {
        let klen = read_len(blob, &mut at)?;
        let key = take(blob, &mut at, klen)?;
        let vlen = read_len(blob, &mut at)?;
        let free = usize::from(*blob.get(at).ok_or("zipmap ends inside an entry")?);
        at += 1;
        let value = take(blob, &mut at, vlen)?;
        take(blob, &mut at, free)?;
        pairs.push((key, value));
    }
    if pairs.is_empty() {
        return Err("empty zipmap".into());
    }
    if count < BIGLEN && usize::from(count) != pairs.len() {
        return Err(format!(
            "zipmap header counts {count} pairs, found {}",
            pairs.len()
        ));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_with_free_space_and_big_lengths() {
        // {"foo": "bar", "hello": "world"} as zipmap.c documents it, the
        // second value with two free bytes.
        let zm = b"\x02\x03foo\x03\x00bar\x05hello\x05\x02worldxx\xff";
        assert_eq!(
            decode(zm).unwrap(),
            [(&b"foo"[..], &b"bar"[..]), (b"hello", b"world")]
        );
        let long = vec![b'v'; 300];
        let mut zm = vec![1, 1, b'k', 254];
        zm.extend_from_slice(&300u32.to_le_bytes());
        zm.push(0);
        zm.extend_from_slice(&long);
        zm.push(END);
        assert_eq!(decode(&zm).unwrap(), [(&b"k"[..], &long[..])]);
    }

    #[test]
    fn corrupt_zipmaps_are_errors() {
        assert!(decode(b"").is_err());
        assert!(decode(b"\x00\xff").is_err());
        assert!(decode(b"\x02\x01a\x01\x00b\xff").is_err());
        assert!(decode(b"\x01\x01a\x05\x00b\xff").is_err());
        assert!(decode(b"\x01\x01a\x01\x09b\xff").is_err());
        assert!(decode(b"\x01\x01a\x01\x00b").is_err());
        let zm = b"\x01\x01a\x01\x00b\xff";
        for i in 0..zm.len() {
            for v in [0u8, 1, 0xFE, 0xFF] {
                let mut m = zm.to_vec();
                m[i] = v;
                let _ = decode(&m);
            }
        }
    }
}

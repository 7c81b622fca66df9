//! Redis's intset blob (`intset.c`): how an `intset` set is saved (RDB type
//! 11). Layout: entry width in bytes (u32 LE: 2, 4 or 8), count (u32 LE),
//! then the members ascending, each `width` bytes little-endian. Pure.

/// The blob of `items` (ascending, distinct) at `width` bytes each.
pub fn encode(items: &[i64], width: usize) -> Vec<u8> {
    let width = match width {
        2 | 4 => width,
        _ => 8,
    };
    let mut out = Vec::with_capacity(8 + items.len() * width);
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&u32::try_from(items.len()).unwrap_or(u32::MAX).to_le_bytes());
    for v in items {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

/// The members of an intset blob and its width, after the checks of
/// `intsetValidateIntegrity` (deep): known width, size matching the count,
/// not empty, strictly ascending.
pub fn decode(blob: &[u8]) -> Result<(Vec<i64>, usize), String> {
    let (head, body) = blob
        .split_first_chunk::<8>()
        .ok_or("intset shorter than its header")?;
    let width = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err(format!("bad intset encoding {width}"));
    }
    let count = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
    if count.checked_mul(width) != Some(body.len()) {
        return Err(format!(
            "intset of {count} entries of {width} bytes in {} bytes",
            body.len()
        ));
    }
    if count == 0 {
        return Err("empty intset".into());
    }
    let items: Vec<i64> = body
        .chunks_exact(width)
        .map(super::listpack::le_int)
        .collect();
    if items.windows(2).any(|w| w[0] >= w[1]) {
        return Err("intset not in ascending order or with duplicates".into());
    }
    Ok((items, width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_layout() {
        let blob = encode(&[-2, 1, 300], 2);
        assert_eq!(blob, [2, 0, 0, 0, 3, 0, 0, 0, 0xFE, 0xFF, 1, 0, 0x2C, 0x01]);
        assert_eq!(decode(&blob).unwrap(), (vec![-2, 1, 300], 2));
        let wide = encode(&[i64::MIN, -70_000, 5, i64::MAX], 8);
        assert_eq!(decode(&wide).unwrap().0, [i64::MIN, -70_000, 5, i64::MAX]);
        let mid = encode(&[-70_000, 70_000], 4);
        assert_eq!(decode(&mid).unwrap(), (vec![-70_000, 70_000], 4));
    }

    #[test]
    fn corrupt_intsets_are_errors() {
        assert!(decode(&[2, 0, 0, 0]).is_err());
        assert!(decode(&encode(&[], 2)).is_err());
        assert!(decode(&encode(&[2, 1], 2)).is_err());
        assert!(decode(&encode(&[1, 1], 2)).is_err());
        let mut blob = encode(&[1, 2], 2);
        blob[0] = 3;
        assert!(decode(&blob).is_err());
        blob[0] = 2;
        blob[4] = 0xFF;
        assert!(decode(&blob).is_err());
        assert!(decode(&blob[..11]).is_err());
    }
}

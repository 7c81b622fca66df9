//! Pure byte-string algorithms behind the Redis string and bitmap commands:
//! GETRANGE / SETRANGE (`t_string.c`), GETBIT / SETBIT / BITCOUNT / BITPOS /
//! BITOP (`bitops.c`) and LCS (`t_string.c`). Used by shards: they operate on
//! the value bytes only; key lookup, type checks, argument parsing, size limits
//! (proto-max-bulk-len) and replies stay with the caller. Every function is
//! total: no panics on any input, whatever the offsets.

mod long_double;

pub use long_double::LongDouble;

/// Unit for BITCOUNT / BITPOS ranges (`[BYTE|BIT]`, default BYTE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BitUnit {
    #[default]
    Byte,
    Bit,
}

/// BITOP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// One IDX entry of an LCS reply: inclusive ranges in `a` and `b`, and the
/// match length (what WITHMATCHLEN prints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LcsMatch {
    pub a: (usize, usize),
    pub b: (usize, usize),
    pub len: usize,
}

/// Result of [`lcs`]: the LCS length (`LEN` / the `len` field of IDX), the LCS
/// text (plain reply), and the IDX matches in Redis's reply order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lcs {
    pub len: usize,
    pub text: Vec<u8>,
    pub matches: Vec<LcsMatch>,
}

fn len_i64(s: &[u8]) -> i64 {
    i64::try_from(s.len()).unwrap_or(i64::MAX)
}

/// Inclusive byte slice `s[start..=end]` for indexes already validated as
/// `0 <= start <= end < len`; empty if they are not (never panics).
fn slice_incl(s: &[u8], start: i64, end: i64) -> &[u8] {
    match (usize::try_from(start), usize::try_from(end)) {
        (Ok(a), Ok(b)) if a <= b => s.get(a..=b).unwrap_or(&[]),
        _ => &[],
    }
}

// ---------------------------------------------------------------------------
// GETRANGE / SETRANGE
// ---------------------------------------------------------------------------

/// GETRANGE semantics (`getrangeCommand`): negative indexes count from the
/// end, both ends are clamped into the string, and an inverted range is
/// empty. A missing key is the caller's business (Redis replies "").
///
/// Note the Redis special case: when both indexes are negative and
/// `start > end` the result is empty even if clamping would have produced a
/// valid range (`GETRANGE "abc" -5 -10` is "", not "a").
pub fn getrange(s: &[u8], start: i64, end: i64) -> &[u8] {
    if start < 0 && end < 0 && start > end {
        return &[];
    }
    let len = len_i64(s);
    // len >= 0 and the index is negative, so these additions cannot overflow.
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return &[];
    }
    slice_incl(s, start, end)
}

/// SETRANGE semantics (`setrangeCommand`): overwrite `buf` at `offset` with
/// `data`, zero-padding when `offset` is past the end. An empty `data` changes
/// nothing (Redis neither creates nor grows the key then; it just replies with
/// the current length, or 0 for a missing key — the caller must not create
/// the key in that case). The caller enforces proto-max-bulk-len
/// (`offset + data.len()`, checked for overflow) before calling; an offset
/// whose end does not fit in `usize` is ignored here rather than panicking.
pub fn setrange(buf: &mut Vec<u8>, offset: usize, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let Some(new_end) = offset.checked_add(data.len()) else {
        return;
    };
    if buf.len() < new_end {
        buf.resize(new_end, 0); // sdsgrowzero
    }
    if let Some(dst) = buf.get_mut(offset..new_end) {
        dst.copy_from_slice(data);
    }
}

// ---------------------------------------------------------------------------
// GETBIT / SETBIT
// ---------------------------------------------------------------------------

/// Splits a bit offset into (byte index, mask). Bit 0 is the MSB of byte 0,
/// as in Redis (`bit = 7 - (bitoffset & 0x7)`).
fn bit_location(offset: u64) -> (Option<usize>, u8) {
    let byte = usize::try_from(offset >> 3).ok();
    let mask = 0x80u8 >> (offset & 7);
    (byte, mask)
}

/// GETBIT: the bit at `offset`, 0 past the end of the string (the string is
/// an infinite run of zero bits to the right). Missing key: caller replies 0.
pub fn getbit(s: &[u8], offset: u64) -> u8 {
    let (byte, mask) = bit_location(offset);
    match byte.and_then(|b| s.get(b)) {
        Some(&v) => u8::from(v & mask != 0),
        None => 0,
    }
}

/// SETBIT: sets or clears the bit at `offset`, zero-growing `buf` so that the
/// byte exists (`lookupStringForBitCommand` -> `sdsgrowzero(byte+1)`), and
/// returns the previous bit. The caller checks the offset against
/// proto-max-bulk-len first (`(offset >> 3) >= limit` is an error in Redis);
/// an offset whose byte index does not fit in `usize` is left untouched.
pub fn setbit(buf: &mut Vec<u8>, offset: u64, on: bool) -> u8 {
    let (byte, mask) = bit_location(offset);
    let Some(byte) = byte else {
        return 0;
    };
    let Some(need) = byte.checked_add(1) else {
        return 0;
    };
    if buf.len() < need {
        buf.resize(need, 0);
    }
    match buf.get_mut(byte) {
        Some(v) => {
            let old = u8::from(*v & mask != 0);
            if on {
                *v |= mask;
            } else {
                *v &= !mask;
            }
            old
        }
        None => 0,
    }
}

// ---------------------------------------------------------------------------
// BITCOUNT / BITPOS
// ---------------------------------------------------------------------------

fn popcount(s: &[u8]) -> i64 {
    // Sum per 8-byte word: the compiler turns count_ones into POPCNT.
    let mut chunks = s.chunks_exact(8);
    let mut total: u64 = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        total += u64::from(u64::from_ne_bytes(w).count_ones());
    }
    for b in chunks.remainder() {
        total += u64::from(b.count_ones());
    }
    i64::try_from(total).unwrap_or(i64::MAX)
}

/// Converts a user range to clamped indexes the way BITCOUNT/BITPOS do: with
/// `BIT` the range is in bits, converted back to bytes plus masks for the
/// partial first/last bytes. Returns (start, end, first_byte_neg_mask,
/// last_byte_neg_mask); `start > end` means "empty".
fn clamp_bit_range(strlen: i64, start: i64, end: i64, isbit: bool) -> (i64, i64, u8, u8) {
    let totlen = if isbit {
        strlen.saturating_mul(8)
    } else {
        strlen
    };
    let mut start = if start < 0 {
        totlen.saturating_add(start)
    } else {
        start
    };
    let mut end = if end < 0 {
        totlen.saturating_add(end)
    } else {
        end
    };
    start = start.max(0);
    end = end.max(0);
    if end >= totlen {
        end = totlen - 1;
    }
    let (mut first_mask, mut last_mask) = (0u8, 0u8);
    if isbit && start <= end {
        // Masks of the bits *outside* the range in the edge bytes (Redis:
        // first_byte_neg_mask / last_byte_neg_mask).
        first_mask = !(0xffu8 >> (start & 7));
        last_mask = (1u8 << (7 - (end & 7))).wrapping_sub(1);
        start >>= 3;
        end >>= 3;
    }
    (start, end, first_mask, last_mask)
}

/// BITCOUNT (`bitcountCommand`): number of set bits in the whole string, or
/// in `start..=end` (inclusive, negative from the end, in bytes or bits).
/// As in Redis, both-negative with `start > end` is 0 before any clamping.
/// Missing key: caller replies 0 without calling this.
pub fn bitcount(s: &[u8], range: Option<(i64, i64, BitUnit)>) -> i64 {
    let strlen = len_i64(s);
    let (start, end, first_mask, last_mask) = match range {
        None => (0, strlen - 1, 0, 0),
        Some((start, end, unit)) => {
            if start < 0 && end < 0 && start > end {
                return 0;
            }
            clamp_bit_range(strlen, start, end, unit == BitUnit::Bit)
        }
    };
    if start > end {
        return 0;
    }
    let bytes = slice_incl(s, start, end);
    let mut count = popcount(bytes);
    // Remove the bits of the edge bytes that fall outside a BIT range.
    if let Some(first) = bytes.first() {
        count -= i64::from((first & first_mask).count_ones());
    }
    if let Some(last) = bytes.last() {
        count -= i64::from((last & last_mask).count_ones());
    }
    count
}

/// Redis `redisBitpos`: position of the first bit equal to `bit` in `s`.
/// Looking for 1 in an all-zero run gives -1; looking for 0 in an all-ones run
/// gives `8 * len`, i.e. the string is considered zero-padded on the right.
fn redis_bitpos(s: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0x00 } else { 0xff };
    match s.iter().position(|&b| b != skip) {
        Some(i) => {
            let b = s.get(i).copied().unwrap_or(skip);
            // Leading bits equal to `skip`'s bits before the first wanted bit.
            let within = if bit {
                b.leading_zeros()
            } else {
                b.leading_ones()
            };
            let i = i64::try_from(i).unwrap_or(i64::MAX);
            i.saturating_mul(8).saturating_add(i64::from(within))
        }
        None if bit => -1,
        None => len_i64(s).saturating_mul(8),
    }
}

/// What BITPOS replies for a key that does not exist: the key is an infinite
/// string of zeros, so the first clear bit is 0 and there is no set bit (-1).
/// Redis answers this before parsing the range, so the caller must use this
/// (not [`bitpos`] on an empty slice, which gives -1 for both — see below).
pub fn bitpos_missing_key(bit: bool) -> i64 {
    if bit {
        -1
    } else {
        0
    }
}

/// BITPOS (`bitposCommand`) on an existing string value.
///
/// * `start == None`: search the whole string (BITPOS key bit). `end`, `unit`
///   and `end_given` are then ignored, as Redis's syntax cannot give them.
/// * `start == Some(_)`: search `start..=end` with negative indexes from the
///   end, in `unit`s. If `end` is `None`, it defaults to the end of the string.
/// * `end_given` is Redis's flag for "END was on the command line" (normally
///   `end.is_some()`). When looking for a clear bit and none is in the range,
///   the result is -1 if `end_given`, otherwise the first bit past the string
///   (`8 * len`): BITPOS "\xff\xff\xff" 0 -> 24, but ... 0 0 -1 -> -1.
/// * An empty range (`start > end` after clamping) is -1, so an existing empty
///   string gives -1 for bit 0 and 1 alike; a *missing* key is different:
///   the caller replies [`bitpos_missing_key`] (0 for bit 0, -1 for bit 1).
pub fn bitpos(
    s: &[u8],
    bit: bool,
    start: Option<i64>,
    end: Option<i64>,
    unit: BitUnit,
    end_given: bool,
) -> i64 {
    let strlen = len_i64(s);
    let isbit = unit == BitUnit::Bit;
    let (mut start, end, first_mask, last_mask, end_given) = match start {
        None => (0, strlen - 1, 0u8, 0u8, false),
        Some(start) => {
            let end = end.unwrap_or(if isbit {
                strlen.saturating_mul(8).saturating_add(7)
            } else {
                strlen - 1
            });
            let (s0, e0, fm, lm) = clamp_bit_range(strlen, start, end, isbit);
            (s0, e0, fm, lm, end_given)
        }
    };
    if start > end {
        return -1; // an empty range contains neither a 0 nor a 1
    }
    let byte_at = |i: i64| {
        usize::try_from(i)
            .ok()
            .and_then(|i| s.get(i).copied())
            .unwrap_or(0)
    };
    // Forces the out-of-range bits of an edge byte to the value we are *not*
    // looking for, so they can never be reported.
    let hide = |b: u8, mask: u8| if bit { b & !mask } else { b | mask };

    let mut bytes = end - start + 1;
    let pos: i64 = 'found: {
        if first_mask != 0 {
            let mut tmp = hide(byte_at(start), first_mask);
            if last_mask != 0 && bytes == 1 {
                tmp = hide(tmp, last_mask); // single byte with both edges
            }
            let pos = redis_bitpos(&[tmp], bit);
            if bytes == 1 || (pos != -1 && pos != 8) {
                break 'found pos;
            }
            start += 1;
            bytes -= 1;
        }
        // Whole bytes, leaving out a partial last byte (handled below).
        let curbytes = bytes - i64::from(last_mask != 0);
        if curbytes > 0 {
            let chunk = slice_incl(s, start, start + curbytes - 1);
            let pos = redis_bitpos(chunk, bit);
            if bytes == curbytes || (pos != -1 && pos != curbytes.saturating_mul(8)) {
                break 'found pos;
            }
            start += curbytes;
            bytes -= curbytes;
        }
        redis_bitpos(&[hide(byte_at(end), last_mask)], bit)
    };

    // With an explicit END we may not treat the right of the range as zero
    // padding: "first bit past the range" means "no clear bit in range".
    if end_given && !bit && pos == bytes.saturating_mul(8) {
        return -1;
    }
    if pos != -1 {
        return pos.saturating_add(start.saturating_mul(8));
    }
    pos
}

// ---------------------------------------------------------------------------
// BITOP
// ---------------------------------------------------------------------------

/// BITOP (`bitopCommand`): combines the sources byte by byte. The result is as
/// long as the longest source; shorter sources (and missing keys, which the
/// caller passes as empty slices) are zero-padded. `Not` uses only the first
/// source (the caller rejects any other count with "BITOP NOT must be called
/// with a single source key."). An empty result means the caller deletes the
/// destination key and replies 0.
pub fn bitop(op: BitOp, srcs: &[&[u8]]) -> Vec<u8> {
    let Some((first, rest)) = srcs.split_first() else {
        return Vec::new();
    };
    let maxlen = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![0u8; maxlen];
    if let Some(dst) = out.get_mut(..first.len()) {
        dst.copy_from_slice(first);
    }
    match op {
        BitOp::Not => {
            // Redis NOTs the zero padding too (only reachable with extra srcs).
            out.iter_mut().for_each(|b| *b = !*b);
        }
        BitOp::And => {
            for src in rest {
                for (i, o) in out.iter_mut().enumerate() {
                    *o &= src.get(i).copied().unwrap_or(0);
                }
            }
        }
        BitOp::Or => {
            for src in rest {
                out.iter_mut().zip(src.iter()).for_each(|(o, b)| *o |= b);
            }
        }
        BitOp::Xor => {
            for src in rest {
                out.iter_mut().zip(src.iter()).for_each(|(o, b)| *o ^= b);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------

/// Redis refuses LCS with "String too long for LCS" when either string is
/// `>= UINT32_MAX - 1` bytes (its table holds `uint32_t`). Checked before
/// [`lcs_table_too_big`].
pub fn lcs_string_too_long(len: usize) -> bool {
    u64::try_from(len).map_or(true, |l| l >= u64::from(u32::MAX) - 1)
}

/// True when the LCS table, `(alen+1) * (blen+1)` `u32` cells, overflows or
/// needs more than `limit` bytes (Redis uses proto-max-bulk-len and replies
/// "ERR Insufficient memory, transient memory for LCS exceeds
/// proto-max-bulk-len"). Call before [`lcs`].
pub fn lcs_table_too_big(alen: usize, blen: usize, limit: u64) -> bool {
    let cells = u64::try_from(alen)
        .ok()
        .and_then(|a| a.checked_add(1))
        .zip(u64::try_from(blen).ok().and_then(|b| b.checked_add(1)))
        .and_then(|(a, b)| a.checked_mul(b));
    match cells.and_then(|c| c.checked_mul(4)) {
        Some(bytes) => bytes > limit || usize::try_from(bytes).is_err(),
        None => true,
    }
}

/// LCS (`lcsCommand`): classic O(alen*blen) dynamic programming, then a walk
/// back from the end of both strings, exactly as Redis does, so ties pick the
/// same LCS text and the same IDX ranges. `matches` (only filled when
/// `want_matches`) are in Redis's reply order — from the end of the strings
/// towards the start — and only ranges of at least `min_match_len` bytes are
/// kept (MINMATCHLEN; 0 keeps all; the caller maps negative values to 0).
///
/// The caller must check [`lcs_string_too_long`] and [`lcs_table_too_big`]
/// first. As a last line of defence, if the table cannot even be allocated
/// this returns an empty result instead of aborting.
pub fn lcs(a: &[u8], b: &[u8], min_match_len: usize, want_matches: bool) -> Lcs {
    let w = match b.len().checked_add(1) {
        Some(w) => w,
        None => return Lcs::default(),
    };
    let Some(cells) = a.len().checked_add(1).and_then(|h| h.checked_mul(w)) else {
        return Lcs::default();
    };
    let mut table: Vec<u32> = Vec::new();
    if table.try_reserve_exact(cells).is_err() {
        return Lcs::default();
    }
    // Row 0 (and column 0 of every row) is 0: LCS with an empty prefix.
    table.resize(cells, 0);

    // LCS(i, j) = length of the LCS of a[..i] and b[..j], row-major.
    let mut rows = table.chunks_exact_mut(w);
    if let Some(mut prev) = rows.next() {
        for (row, &ai) in rows.zip(a.iter()) {
            let mut left = 0u32; // LCS(i, j-1), starting with column 0
            let cells = row.iter_mut().skip(1);
            for ((cell, &bj), pair) in cells.zip(b.iter()).zip(prev.windows(2)) {
                let (diag, up) = match *pair {
                    [d, u] => (d, u),
                    _ => (0, 0),
                };
                let v = if ai == bj {
                    diag.saturating_add(1)
                } else {
                    up.max(left)
                };
                *cell = v;
                left = v;
            }
            prev = row;
        }
    }
    let at = |i: usize, j: usize| -> u32 {
        i.checked_mul(w)
            .and_then(|r| r.checked_add(j))
            .and_then(|k| table.get(k).copied())
            .unwrap_or(0)
    };

    let total = at(a.len(), b.len()) as usize;
    let mut text: Vec<u8> = Vec::with_capacity(total);
    let mut matches = Vec::new();
    // Current range being extended backwards; None = no range open
    // (Redis uses arange_start == alen as that sentinel).
    let mut range: Option<LcsMatch> = None;
    let (mut i, mut j) = (a.len(), b.len());
    while i > 0 && j > 0 {
        let (ai, bj) = (a.get(i - 1).copied(), b.get(j - 1).copied());
        let mut emit = false;
        if ai.is_some() && ai == bj {
            text.push(ai.unwrap_or(0));
            range = Some(match range {
                None => LcsMatch {
                    a: (i - 1, i - 1),
                    b: (j - 1, j - 1),
                    len: 1,
                },
                Some(r) if r.a.0 == i && r.b.0 == j => {
                    // Contiguous with the open range: extend it backwards.
                    LcsMatch {
                        a: (i - 1, r.a.1),
                        b: (j - 1, r.b.1),
                        len: r.len + 1,
                    }
                }
                Some(r) => {
                    // Redis emits the old range here (the new byte does not
                    // start a range). Unreachable in practice: after a match
                    // the walk always continues on the diagonal.
                    emit = true;
                    r
                }
            });
            // A range that reached the start of either string is complete.
            if range.is_some_and(|r| r.a.0 == 0 || r.b.0 == 0) {
                emit = true;
            }
            i -= 1;
            j -= 1;
        } else {
            // Walk towards the larger sub-LCS; Redis prefers j-- on ties.
            if at(i - 1, j) > at(i, j - 1) {
                i -= 1;
            } else {
                j -= 1;
            }
            if range.is_some() {
                emit = true;
            }
        }
        if emit {
            if let Some(r) = range.take() {
                if want_matches && r.len >= min_match_len {
                    matches.push(r);
                }
            }
        }
    }
    text.reverse();
    Lcs {
        len: total,
        text,
        matches,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // --- GETRANGE / SETRANGE -------------------------------------------------

    #[test]
    fn getrange_docs_and_tests() {
        let s = b"This is a string";
        assert_eq!(getrange(s, 0, 3), b"This");
        assert_eq!(getrange(s, -3, -1), b"ing");
        assert_eq!(getrange(s, 0, -1), s);
        assert_eq!(getrange(s, 10, 100), b"string");
        let h = b"Hello World";
        assert_eq!(getrange(h, 0, 3), b"Hell");
        assert_eq!(getrange(h, -4, -1), b"orld");
        assert_eq!(getrange(h, 5, 3), b"");
        assert_eq!(getrange(h, 5, 5000), b" World");
        assert_eq!(getrange(h, -5000, 10000), h);
        assert_eq!(getrange(b"1234", -3, -1), b"234");
        assert_eq!(getrange(b"1234", 3, 5000), b"4");
        assert_eq!(getrange(b"bar", 0, 4_294_967_297), b"bar");
    }

    #[test]
    fn getrange_edges() {
        assert_eq!(getrange(b"", 0, -1), b"");
        assert_eq!(getrange(b"", 0, 0), b"");
        assert_eq!(getrange(b"abc", -5, -10), b"", "both negative, start > end");
        assert_eq!(getrange(b"abc", -10, -5), b"a", "both clamp to 0");
        assert_eq!(getrange(b"abc", 3, 3), b"");
        assert_eq!(getrange(b"abc", 2, 2), b"c");
        assert_eq!(getrange(b"abc", i64::MIN, i64::MAX), b"abc");
        assert_eq!(getrange(b"abc", i64::MAX, i64::MIN), b"");
        assert_eq!(getrange(b"abc", i64::MIN, i64::MIN), b"a");
    }

    #[test]
    fn setrange_cases() {
        let mut v = b"Hello World".to_vec();
        setrange(&mut v, 6, b"Redis");
        assert_eq!(v, b"Hello Redis");
        let mut v = Vec::new();
        setrange(&mut v, 6, b"Redis");
        assert_eq!(v, b"\0\0\0\0\0\0Redis");
        let mut v = b"foo".to_vec();
        setrange(&mut v, 1, b"b");
        assert_eq!(v, b"fbo");
        setrange(&mut v, 4, b"bar");
        assert_eq!(v, b"fbo\0bar");
        // Empty data never grows or creates.
        let mut v = b"foo".to_vec();
        setrange(&mut v, 100, b"");
        assert_eq!(v, b"foo");
        let mut v = Vec::new();
        setrange(&mut v, usize::MAX, b"x");
        assert!(v.is_empty());
    }

    // --- GETBIT / SETBIT -----------------------------------------------------

    #[test]
    fn getbit_setbit() {
        let mut v = Vec::new();
        assert_eq!(setbit(&mut v, 7, true), 0);
        assert_eq!(v, b"\x01");
        assert_eq!(setbit(&mut v, 7, true), 1);
        assert_eq!(setbit(&mut v, 0, true), 0);
        assert_eq!(v, b"\x81");
        assert_eq!(setbit(&mut v, 7, false), 1);
        assert_eq!(v, b"\x80");
        // Clearing far away still grows the string (Redis: sdsgrowzero).
        assert_eq!(setbit(&mut v, 100, false), 0);
        assert_eq!(v.len(), 13);
        assert_eq!(getbit(&v, 0), 1);
        assert_eq!(getbit(&v, 1), 0);
        assert_eq!(getbit(&v, 1 << 40), 0);
        assert_eq!(getbit(&v, u64::MAX), 0);
        assert_eq!(getbit(b"", 0), 0);
        // "1" = 0x31 = 00110001
        let bits: Vec<u8> = (0..8).map(|i| getbit(b"1", i)).collect();
        assert_eq!(bits, [0, 0, 1, 1, 0, 0, 0, 1]);
    }

    // --- BITCOUNT ------------------------------------------------------------

    fn bits_of(s: &[u8]) -> Vec<u8> {
        s.iter()
            .flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1))
            .collect()
    }

    #[test]
    fn bitcount_docs() {
        let s = b"foobar";
        assert_eq!(bitcount(s, None), 26);
        assert_eq!(bitcount(s, Some((0, 0, BitUnit::Byte))), 4);
        assert_eq!(bitcount(s, Some((1, 1, BitUnit::Byte))), 6);
        assert_eq!(bitcount(s, Some((5, 30, BitUnit::Bit))), 17);
    }

    #[test]
    fn bitcount_redis_tests() {
        assert_eq!(bitcount(b"xxxx", Some((4, 10, BitUnit::Byte))), 0);
        assert_eq!(bitcount(b"xxxx", Some((32, 87, BitUnit::Bit))), 0);
        assert_eq!(bitcount(b"xxxx", Some((-6, -7, BitUnit::Byte))), 0);
        assert_eq!(bitcount(b"xxxx", Some((-6, -15, BitUnit::Bit))), 0);
        for v in [&b""[..], b"\xaa", b"\x00\x00\xff", b"foobar", b"123"] {
            let ones = bits_of(v).iter().filter(|b| **b == 1).count() as i64;
            assert_eq!(bitcount(v, None), ones);
            assert_eq!(bitcount(v, Some((0, -1, BitUnit::Bit))), ones);
        }
        let s = b"foobar";
        let count_bits = |x: &[u8]| bitcount(x, None);
        let range_bits = |a: usize, b: usize| {
            bits_of(s)
                .get(a..=b)
                .map_or(0, |r| r.iter().filter(|x| **x == 1).count() as i64)
        };
        assert_eq!(
            bitcount(s, Some((0, -1, BitUnit::Byte))),
            count_bits(b"foobar")
        );
        assert_eq!(
            bitcount(s, Some((1, -2, BitUnit::Byte))),
            count_bits(b"ooba")
        );
        assert_eq!(bitcount(s, Some((-2, 1, BitUnit::Byte))), 0);
        assert_eq!(bitcount(s, Some((0, 1000, BitUnit::Byte))), 26);
        assert_eq!(
            bitcount(s, Some((10, 14, BitUnit::Bit))),
            range_bits(10, 14)
        );
        assert_eq!(bitcount(s, Some((3, 14, BitUnit::Bit))), range_bits(3, 14));
        assert_eq!(bitcount(s, Some((3, 29, BitUnit::Bit))), range_bits(3, 29));
        assert_eq!(
            bitcount(s, Some((10, -34, BitUnit::Bit))),
            range_bits(10, 14)
        );
        assert_eq!(bitcount(s, Some((3, -34, BitUnit::Bit))), range_bits(3, 14));
        assert_eq!(bitcount(s, Some((3, -19, BitUnit::Bit))), range_bits(3, 29));
        assert_eq!(bitcount(s, Some((-2, 1, BitUnit::Bit))), 0);
        assert_eq!(bitcount(s, Some((0, 1000, BitUnit::Bit))), 26);
        assert_eq!(bitcount(b"ab", Some((1, -1, BitUnit::Byte))), 3);
        assert_eq!(
            bitcount(b"__PPxxxxxxxxxxxxxxxxRR__", Some((2, -3, BitUnit::Byte))),
            74
        );
        assert_eq!(
            bitcount(b"\x80", Some((0, 4_294_967_296, BitUnit::Byte))),
            1
        );
        assert_eq!(bitcount(b"", Some((0, -1, BitUnit::Byte))), 0);
        assert_eq!(
            bitcount(b"\xff", Some((i64::MIN, i64::MAX, BitUnit::Bit))),
            8
        );
        assert_eq!(
            bitcount(b"\xff", Some((i64::MAX, i64::MIN, BitUnit::Bit))),
            0
        );
    }

    proptest! {
        #[test]
        fn bitcount_matches_bit_model(s in proptest::collection::vec(any::<u8>(), 0..64),
                                      a in -600i64..600, b in -600i64..600) {
            let bits = bits_of(&s);
            let n = bits.len() as i64;
            let model = |a: i64, b: i64| -> i64 {
                if a < 0 && b < 0 && a > b { return 0; }
                let a = if a < 0 { (n + a).max(0) } else { a };
                let b = if b < 0 { (n + b).max(0) } else { b }.min(n - 1);
                if a > b { return 0; }
                bits[a as usize..=b as usize].iter().filter(|x| **x == 1).count() as i64
            };
            prop_assert_eq!(bitcount(&s, Some((a, b, BitUnit::Bit))), model(a, b));
        }
    }

    // --- BITPOS --------------------------------------------------------------

    fn bp(s: &[u8], bit: u8, start: Option<i64>, end: Option<i64>, unit: BitUnit) -> i64 {
        bitpos(s, bit == 1, start, end, unit, end.is_some())
    }
    use BitUnit::{Bit, Byte};

    #[test]
    fn bitpos_docs() {
        assert_eq!(bp(b"\xff\xf0\x00", 0, None, None, Byte), 12);
        let s = b"\x00\xff\xf0";
        assert_eq!(bp(s, 1, Some(0), None, Byte), 8);
        assert_eq!(bp(s, 1, Some(2), None, Byte), 16);
        assert_eq!(bp(s, 1, Some(2), Some(-1), Byte), 16);
        assert_eq!(bp(s, 1, Some(7), Some(15), Bit), 8);
        let z = b"\x00\x00\x00";
        assert_eq!(bp(z, 1, None, None, Byte), -1);
        assert_eq!(bp(z, 1, Some(7), Some(-3), Bit), -1);
    }

    #[test]
    fn bitpos_missing_and_empty() {
        assert_eq!(bitpos_missing_key(false), 0);
        assert_eq!(bitpos_missing_key(true), -1);
        // Existing empty string: empty range -> -1 for both bits.
        assert_eq!(bp(b"", 0, None, None, Byte), -1);
        assert_eq!(bp(b"", 1, None, None, Byte), -1);
        assert_eq!(bp(b"", 0, Some(0), Some(-1), Bit), -1);
        assert_eq!(bp(b"", 0, Some(0), None, Byte), -1);
    }

    #[test]
    fn bitpos_redis_tests() {
        assert_eq!(bp(b"\xff\xf0\x00", 0, None, None, Byte), 12);
        assert_eq!(bp(b"\xff\xf0\x00", 0, Some(0), Some(-1), Bit), 12);
        assert_eq!(bp(b"\x00\x0f\x00", 1, None, None, Byte), 12);
        assert_eq!(bp(b"\x00\x0f\x00", 1, Some(0), Some(-1), Bit), 12);
        assert_eq!(bp(b"\xff\xf0\x00", 0, Some(1), None, Byte), 12);
        assert_eq!(bp(b"\xff\xf0\x00", 0, Some(1), Some(-1), Bit), 12);
        assert_eq!(bp(b"\x00\x0f\xff", 1, Some(1), None, Byte), 12);
        assert_eq!(bp(b"\x00\x0f\xff", 1, Some(1), Some(-1), Bit), 12);

        // unaligned + full word + remainder
        let mut s = vec![0xffu8; 3 + 24];
        s.push(0x0f);
        for start in 0..=8 {
            assert_eq!(bp(&s, 0, Some(start), None, Byte), 216);
        }
        for start in [1, 9, 17, 25, 33, 41, 49, 57, 65] {
            assert_eq!(bp(&s, 0, Some(start), Some(-1), Bit), 216);
        }
        let mut s = vec![0u8; 3 + 24];
        s.push(0xf0);
        assert_eq!(bp(&s, 1, None, None, Byte), 216);
        for start in [1, 9, 17, 25, 33, 41, 49, 57, 65] {
            assert_eq!(bp(&s, 1, Some(start), Some(-1), Bit), 216);
        }

        // bit=1 returns -1 if all zeros
        for n in 0..20 {
            let z = vec![0u8; n];
            assert_eq!(bp(&z, 1, None, None, Byte), -1);
            assert_eq!(bp(&z, 1, Some(0), Some(-1), Bit), -1);
        }

        let s = b"\x00\xff\x00";
        assert_eq!(bp(s, 0, Some(0), Some(-1), Byte), 0);
        assert_eq!(bp(s, 0, Some(1), Some(-1), Byte), 16);
        assert_eq!(bp(s, 0, Some(2), Some(-1), Byte), 16);
        assert_eq!(bp(s, 0, Some(2), Some(200), Byte), 16);
        assert_eq!(bp(s, 0, Some(1), Some(1), Byte), -1);
        assert_eq!(bp(s, 0, Some(0), Some(-1), Bit), 0);
        assert_eq!(bp(s, 0, Some(8), Some(-1), Bit), 16);
        assert_eq!(bp(s, 0, Some(16), Some(-1), Bit), 16);
        assert_eq!(bp(s, 0, Some(16), Some(200), Bit), 16);
        assert_eq!(bp(s, 0, Some(8), Some(8), Bit), -1);

        assert_eq!(bp(s, 1, Some(0), Some(-1), Byte), 8);
        assert_eq!(bp(s, 1, Some(1), Some(-1), Byte), 8);
        assert_eq!(bp(s, 1, Some(2), Some(-1), Byte), -1);
        assert_eq!(bp(s, 1, Some(2), Some(200), Byte), -1);
        assert_eq!(bp(s, 1, Some(1), Some(1), Byte), 8);
        assert_eq!(bp(s, 1, Some(0), Some(-1), Bit), 8);
        assert_eq!(bp(s, 1, Some(8), Some(-1), Bit), 8);
        assert_eq!(bp(s, 1, Some(16), Some(-1), Bit), -1);
        assert_eq!(bp(s, 1, Some(16), Some(200), Bit), -1);
        assert_eq!(bp(s, 1, Some(8), Some(8), Bit), 8);

        // bit=0 changes behaviour if end is given
        let f = b"\xff\xff\xff";
        assert_eq!(bp(f, 0, None, None, Byte), 24);
        assert_eq!(bp(f, 0, Some(0), None, Byte), 24);
        assert_eq!(bp(f, 0, Some(0), Some(-1), Byte), -1);
        assert_eq!(bp(f, 0, Some(0), Some(-1), Bit), -1);
    }

    #[test]
    fn bitpos_edges() {
        assert_eq!(bp(b"\xff", 0, Some(i64::MIN), Some(i64::MAX), Bit), -1);
        assert_eq!(bp(b"\xfe", 0, Some(i64::MIN), Some(i64::MAX), Bit), 7);
        assert_eq!(bp(b"\x01", 1, Some(i64::MAX), None, Byte), -1);
        // Unlike BITCOUNT/GETRANGE, BITPOS has no "both negative and
        // start > end" shortcut: both clamp to byte 0.
        assert_eq!(bp(b"\x01", 1, Some(-100), Some(-200), Byte), 7);
        // Within a single byte, both masks apply.
        assert_eq!(bp(b"\x81", 1, Some(1), Some(6), Bit), -1);
        assert_eq!(bp(b"\x7e", 0, Some(1), Some(6), Bit), -1);
        assert_eq!(bp(b"\x7e", 0, Some(1), Some(7), Bit), 7);
        // end_given=false with a start: the clear bit past the string counts.
        assert_eq!(bitpos(b"\xff", false, Some(0), None, Byte, false), 8);
        assert_eq!(bitpos(b"\xff", false, Some(0), None, Byte, true), -1);
    }

    proptest! {
        #[test]
        fn bitpos_bit_unit_matches_model(s in proptest::collection::vec(
                                            prop_oneof![Just(0u8), Just(0xffu8), any::<u8>()], 0..40),
                                         bit in any::<bool>(),
                                         a in -400i64..400, b in -400i64..400) {
            // With an explicit bit range, BITPOS is just "first matching bit in
            // the clamped range, or -1".
            let bits = bits_of(&s);
            let n = bits.len() as i64;
            let a2 = if a < 0 { (n + a).max(0) } else { a };
            let b2 = if b < 0 { (n + b).max(0) } else { b }.min(n - 1);
            let want = if a2 > b2 {
                -1
            } else {
                (a2..=b2).find(|&i| bits[i as usize] == u8::from(bit)).unwrap_or(-1)
            };
            prop_assert_eq!(bitpos(&s, bit, Some(a), Some(b), Bit, true), want);
        }

        #[test]
        fn bitpos_byte_unit_matches_model(s in proptest::collection::vec(
                                            prop_oneof![Just(0u8), Just(0xffu8), any::<u8>()], 0..40),
                                          bit in any::<bool>(),
                                          a in -50i64..50, b in proptest::option::of(-50i64..50)) {
            let n = s.len() as i64;
            let a2 = if a < 0 { (n + a).max(0) } else { a };
            let b2 = match b { Some(b) => if b < 0 { (n + b).max(0) } else { b }, None => n - 1 }.min(n - 1);
            let want = if a2 > b2 {
                -1
            } else {
                let bits = bits_of(&s[a2 as usize..=b2 as usize]);
                match bits.iter().position(|&x| x == u8::from(bit)) {
                    Some(p) => a2 * 8 + p as i64,
                    None if !bit && b.is_none() => (b2 + 1) * 8,
                    None => -1,
                }
            };
            prop_assert_eq!(bitpos(&s, bit, Some(a), b, Byte, b.is_some()), want);
        }
    }

    // --- BITOP ---------------------------------------------------------------

    #[test]
    fn bitop_redis_tests() {
        assert_eq!(bitop(BitOp::Not, &[b""]), b"");
        assert_eq!(
            bitop(BitOp::Not, &[b"\xaa\x00\xff\x55"]),
            b"\x55\xff\x00\xaa"
        );
        let a: &[u8] = b"\x01\x02\xff";
        assert_eq!(bitop(BitOp::And, &[a]), a);
        assert_eq!(bitop(BitOp::Or, &[a]), a);
        assert_eq!(bitop(BitOp::Xor, &[a]), a);
        assert_eq!(bitop(BitOp::And, &[b"", a]), b"\0\0\0");
        assert_eq!(bitop(BitOp::Or, &[b"", a, b""]), a);
        assert_eq!(bitop(BitOp::Xor, &[b"", a]), a);
        let a: &[u8] = b"\x01\x02\xff\xff";
        let b: &[u8] = b"\x01\x02\xff";
        assert_eq!(bitop(BitOp::And, &[a, b]), b"\x01\x02\xff\x00");
        assert_eq!(bitop(BitOp::Or, &[a, b]), b"\x01\x02\xff\xff");
        assert_eq!(bitop(BitOp::Xor, &[a, b]), b"\x00\x00\x00\xff");
        // Integer-encoded sources are their decimal text.
        assert_eq!(bitop(BitOp::Xor, &[b"1", b"2", b"1"]), b"2");
        assert_eq!(bitop(BitOp::Or, &[&[0u8; 32], b""]).len(), 32);
        assert_eq!(bitop(BitOp::And, &[]), b"");
        assert_eq!(bitop(BitOp::And, &[b"", b""]), b"");
    }

    proptest! {
        #[test]
        fn bitop_matches_bytewise_model(srcs in proptest::collection::vec(
                                            proptest::collection::vec(any::<u8>(), 0..20), 1..5),
                                        op in prop_oneof![Just(BitOp::And), Just(BitOp::Or),
                                                          Just(BitOp::Xor), Just(BitOp::Not)]) {
            let refs: Vec<&[u8]> = srcs.iter().map(Vec::as_slice).collect();
            let maxlen = srcs.iter().map(Vec::len).max().unwrap_or(0);
            let want: Vec<u8> = (0..maxlen).map(|j| {
                let byte = |s: &Vec<u8>| s.get(j).copied().unwrap_or(0);
                let mut o = byte(&srcs[0]);
                if op == BitOp::Not { o = !o; }
                for s in &srcs[1..] {
                    match op {
                        BitOp::And => o &= byte(s),
                        BitOp::Or => o |= byte(s),
                        BitOp::Xor => o ^= byte(s),
                        BitOp::Not => {}
                    }
                }
                o
            }).collect();
            prop_assert_eq!(bitop(op, &refs), want);
        }
    }

    // --- LCS -----------------------------------------------------------------

    fn mm(a: (usize, usize), b: (usize, usize)) -> LcsMatch {
        LcsMatch {
            a,
            b,
            len: a.1 - a.0 + 1,
        }
    }

    #[test]
    fn lcs_docs_example() {
        let r = lcs(b"ohmytext", b"mynewtext", 0, true);
        assert_eq!(r.text, b"mytext");
        assert_eq!(r.len, 6);
        assert_eq!(r.matches, vec![mm((4, 7), (5, 8)), mm((2, 3), (0, 1))]);
        assert_eq!(r.matches[0].len, 4);
        assert_eq!(r.matches[1].len, 2);
        let r = lcs(b"ohmytext", b"mynewtext", 4, true);
        assert_eq!(r.matches, vec![mm((4, 7), (5, 8))]);
        assert_eq!(r.len, 6);
        let r = lcs(b"ohmytext", b"mynewtext", 0, false);
        assert!(r.matches.is_empty());
        assert_eq!(r.text, b"mytext");
    }

    #[test]
    fn lcs_redis_rna_test() {
        let rna1: &[u8] = b"CACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTTCGTCCGGGTGTG";
        let rna2: &[u8] = b"ATTAAAGGTTTATACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT";
        let rnalcs: &[u8] = b"ACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT";
        let r = lcs(rna1, rna2, 0, true);
        assert_eq!(r.text, rnalcs);
        assert_eq!(r.len, rnalcs.len());
        let want = vec![
            mm((238, 238), (239, 239)),
            mm((236, 236), (238, 238)),
            mm((229, 230), (236, 237)),
            mm((224, 224), (235, 235)),
            mm((1, 222), (13, 234)),
        ];
        assert_eq!(r.matches, want);
        assert_eq!(r.matches[2].len, 2);
        assert_eq!(r.matches[4].len, 222);
        let r = lcs(rna1, rna2, 5, true);
        assert_eq!(r.matches, vec![mm((1, 222), (13, 234))]);
    }

    #[test]
    fn lcs_edges() {
        assert_eq!(lcs(b"", b"", 0, true), Lcs::default());
        assert_eq!(lcs(b"abc", b"", 0, true), Lcs::default());
        assert_eq!(lcs(b"", b"abc", 0, true), Lcs::default());
        assert_eq!(lcs(b"abc", b"xyz", 0, true), Lcs::default());
        let r = lcs(b"abc", b"abc", 0, true);
        assert_eq!(r.text, b"abc");
        assert_eq!(r.matches, vec![mm((0, 2), (0, 2))]);
        let r = lcs(b"a", b"a", 2, true);
        assert_eq!(r.len, 1);
        assert!(r.matches.is_empty());
    }

    #[test]
    fn lcs_limits() {
        let limit = 512 * 1024 * 1024;
        assert!(!lcs_table_too_big(0, 0, limit));
        assert!(!lcs_table_too_big(10_000, 10_000, limit));
        assert!(lcs_table_too_big(20_000, 20_000, limit));
        assert!(lcs_table_too_big(usize::MAX, 1, u64::MAX));
        assert!(lcs_table_too_big(usize::MAX, usize::MAX, u64::MAX));
        assert!(!lcs_string_too_long(100));
        assert!(lcs_string_too_long(u32::MAX as usize - 1));
        assert!(!lcs_string_too_long(u32::MAX as usize - 2));
    }

    proptest! {
        #[test]
        fn lcs_is_common_subsequence(a in proptest::collection::vec(b'a'..=b'd', 0..30),
                                     b in proptest::collection::vec(b'a'..=b'd', 0..30)) {
            let r = lcs(&a, &b, 0, true);
            prop_assert_eq!(r.len, r.text.len());
            let is_subseq = |t: &[u8], s: &[u8]| {
                let mut it = s.iter();
                t.iter().all(|c| it.any(|x| x == c))
            };
            prop_assert!(is_subseq(&r.text, &a));
            prop_assert!(is_subseq(&r.text, &b));
            // Matches cover exactly the LCS bytes, in reverse order.
            let total: usize = r.matches.iter().map(|m| m.len).sum();
            prop_assert_eq!(total, r.len);
            for m in &r.matches {
                prop_assert_eq!(&a[m.a.0..=m.a.1], &b[m.b.0..=m.b.1]);
            }
        }
    }

    // --- GETRANGE model ------------------------------------------------------

    proptest! {
        #[test]
        fn getrange_matches_model(s in proptest::collection::vec(any::<u8>(), 0..40),
                                  start in prop_oneof![-60i64..60, any::<i64>()],
                                  end in prop_oneof![-60i64..60, any::<i64>()]) {
            // Reference model: resolve each index independently in i128 (no
            // overflow possible), then keep the bytes whose position is inside.
            let n = s.len() as i128;
            let resolve = |i: i64| {
                let i = i128::from(i);
                if i < 0 { (n + i).max(0) } else { i }
            };
            let want: Vec<u8> = if start < 0 && end < 0 && start > end {
                Vec::new()
            } else {
                let (lo, hi) = (resolve(start), resolve(end).min(n - 1));
                s.iter()
                    .enumerate()
                    .filter(|(i, _)| (lo..=hi).contains(&(*i as i128)))
                    .map(|(_, b)| *b)
                    .collect()
            };
            prop_assert_eq!(getrange(&s, start, end), &want[..]);
        }
    }
}

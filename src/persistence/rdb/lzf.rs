//! LZF compression for RDB strings (`rdbSaveLzfStringObject`), in liblzf's
//! format so Redis (and the `lzf` crate, which decodes) read it. Our own
//! compressor because the crate's allocates and zeroes a 512 KiB table on
//! every call (about 8 µs for a 30-byte string): here one 32 KiB table per
//! thread is reused, and a stale entry is harmless because every candidate
//! is checked against the input before it is used.
//!
//! Format: a control byte below 32 starts a run of `ctrl + 1` literal
//! bytes; otherwise its top 3 bits are the match length − 2 (7 means "add
//! the next byte"), its low 5 bits and the following byte the distance − 1
//! (up to 8 KiB back).

use std::cell::RefCell;

const HASH_BITS: u32 = 13;
const MAX_LITERAL: usize = 32;
const MAX_DISTANCE: usize = 1 << 13;
const MAX_MATCH: usize = 7 + 255 + 2;

thread_local! {
    static TABLE: RefCell<Vec<u32>> = RefCell::new(vec![0; 1 << HASH_BITS]);
}

fn hash(b: &[u8]) -> usize {
    let v = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
    (v.wrapping_mul(2_654_435_761) >> (32 - HASH_BITS)) as usize
}

fn flush_literals(out: &mut Vec<u8>, lit: &[u8]) {
    for run in lit.chunks(MAX_LITERAL) {
        out.push((run.len() - 1) as u8);
        out.extend_from_slice(run);
    }
}

/// `input` compressed, or `None` when that would not make it shorter.
pub fn compress(input: &[u8]) -> Option<Vec<u8>> {
    if input.len() < 4 {
        return None;
    }
    TABLE.with(|t| {
        let mut table = t.borrow_mut();
        let mut out = Vec::with_capacity(input.len());
        let mut lit_start = 0;
        let mut ip = 0;
        while ip + 2 < input.len() {
            let h = hash(&input[ip..]);
            let cand = table[h] as usize;
            table[h] = ip as u32;
            let usable = cand < ip
                && ip - cand <= MAX_DISTANCE
                && input[cand..cand + 3] == input[ip..ip + 3];
            if !usable {
                ip += 1;
                continue;
            }
            let max = (input.len() - ip).min(MAX_MATCH);
            let mut len = 3;
            while len < max && input[cand + len] == input[ip + len] {
                len += 1;
            }
            flush_literals(&mut out, &input[lit_start..ip]);
            let dist = ip - cand - 1;
            let l = len - 2;
            if l < 7 {
                out.push(((l as u8) << 5) | (dist >> 8) as u8);
            } else {
                out.push((7 << 5) | (dist >> 8) as u8);
                out.push((l - 7) as u8);
            }
            out.push(dist as u8);
            ip += len;
            lit_start = ip;
            if out.len() >= input.len() {
                return None;
            }
        }
        flush_literals(&mut out, &input[lit_start..]);
        (out.len() < input.len()).then_some(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(input: &[u8]) {
        if let Some(c) = compress(input) {
            assert!(c.len() < input.len());
            let back = lzf::decompress(&c, input.len()).expect("decodes");
            assert_eq!(back, input);
        }
    }

    #[test]
    fn compresses_repetitive_text_and_decodes_with_liblzf_format() {
        let s = "value:123456 value:123456 value:123456 value:123456".as_bytes();
        assert!(compress(s).is_some_and(|c| c.len() < s.len() / 2));
        round_trip(s);
        round_trip(&[b'a'; 10_000]);
        round_trip(b"abcabcabcabcabcabcabcabc");
        assert_eq!(compress(b"abc"), None);
    }

    #[test]
    fn random_inputs_round_trip() {
        let mut rng = crate::util::rng::Rng::from_seed(7);
        for n in 0..2000 {
            let len = rng.below(600);
            let alphabet = 1 + n % 8;
            let input: Vec<u8> = (0..len).map(|_| b'a' + rng.below(alphabet) as u8).collect();
            round_trip(&input);
        }
    }
}

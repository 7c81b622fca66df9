//! `Args`: a cursor over a command's arguments with Redis's parsing rules for
//! integers and floats and its error texts. Pure; used on every shard.

use bytes::Bytes;

use super::error::CmdError;
use crate::util::num;

/// Cursor over `argv[1..]` (the command name is skipped).
pub struct Args<'a> {
    argv: &'a [Bytes],
    pos: usize,
}

impl<'a> Args<'a> {
    pub fn new(argv: &'a [Bytes]) -> Args<'a> {
        Args { argv, pos: 1 }
    }

    pub fn remaining(&self) -> usize {
        self.argv.len().saturating_sub(self.pos)
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn rest(&self) -> &'a [Bytes] {
        self.argv.get(self.pos..).unwrap_or(&[])
    }

    /// Next argument, or a syntax error when there is none.
    pub fn arg(&mut self) -> Result<&'a Bytes, CmdError> {
        let a = self.argv.get(self.pos).ok_or(CmdError::Syntax)?;
        self.pos += 1;
        Ok(a)
    }

    pub fn peek(&self) -> Option<&'a Bytes> {
        self.argv.get(self.pos)
    }

    /// True (and consumed) when the next argument equals `word`, ignoring case.
    pub fn eat(&mut self, word: &str) -> bool {
        match self.peek() {
            Some(a) if a.eq_ignore_ascii_case(word.as_bytes()) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    pub fn next_i64(&mut self) -> Result<i64, CmdError> {
        parse_i64(self.arg()?)
    }

    pub fn next_f64(&mut self) -> Result<f64, CmdError> {
        parse_f64(self.arg()?)
    }
}

/// Matches `getLongLongFromObjectOrReply`.
pub fn parse_i64(b: &[u8]) -> Result<i64, CmdError> {
    num::parse_i64(b).ok_or(CmdError::NotInteger)
}

/// Matches `getLongDoubleFromObjectOrReply`.
pub fn parse_f64(b: &[u8]) -> Result<f64, CmdError> {
    num::parse_f64(b).ok_or(CmdError::NotFloat)
}

/// `getRangeLongFromObjectOrReply(min, LONG_MAX, msg)`: a non-integer and an
/// out-of-range value both reply `msg`.
pub fn ranged(raw: &[u8], min: i64, msg: &str) -> Result<i64, CmdError> {
    match num::parse_i64(raw) {
        Some(v) if v >= min => Ok(v),
        _ => Err(CmdError::err(msg)),
    }
}

/// A non-negative count as `usize` (saturating).
pub fn as_count(v: i64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// Upper-case text of an argument, for error messages and matching.
pub fn upper(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_ascii_uppercase()
}

pub fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The options of HSCAN / SSCAN / ZSCAN after the cursor: `MATCH pattern`
/// and `COUNT n` in any order, the last one winning (`scanGenericCommand`).
/// COUNT below 1 is a syntax error, as is any other word (TYPE included).
pub struct ScanOpts<'a> {
    /// None when absent or `*` (everything matches).
    pub pattern: Option<&'a [u8]>,
    pub count: usize,
}

impl<'a> ScanOpts<'a> {
    pub fn parse(opts: &'a [Bytes]) -> Result<ScanOpts<'a>, CmdError> {
        let mut out = ScanOpts {
            pattern: None,
            count: 10,
        };
        let mut i = 0;
        while i < opts.len() {
            let word = &opts[i];
            let value = opts.get(i + 1).ok_or(CmdError::Syntax)?;
            if word.eq_ignore_ascii_case(b"COUNT") {
                let c = parse_i64(value)?;
                if c < 1 {
                    return Err(CmdError::Syntax);
                }
                out.count = usize::try_from(c).unwrap_or(usize::MAX);
            } else if word.eq_ignore_ascii_case(b"MATCH") {
                out.pattern = (value.as_ref() != b"*").then_some(value.as_ref());
            } else {
                return Err(CmdError::Syntax);
            }
            i += 2;
        }
        Ok(out)
    }

    /// Whether an element passes MATCH.
    pub fn matches(&self, element: &[u8]) -> bool {
        self.pattern
            .is_none_or(|p| crate::util::glob::glob_match(p, element, false))
    }
}

/// A scan cursor argument (`parseScanCursorOrReply`, i.e. `strtoul`): an
/// optional sign and decimal digits; `-n` wraps around as in C; empty is 0;
/// leading space, other characters or overflow are `invalid cursor`.
pub fn scan_cursor(raw: &[u8]) -> Result<u64, CmdError> {
    let invalid = || CmdError::err("invalid cursor");
    let (neg, digits) = match raw.first() {
        Some(b'-') => (true, &raw[1..]),
        Some(b'+') => (false, &raw[1..]),
        _ => (false, raw),
    };
    if digits.is_empty() && !raw.is_empty() {
        return Err(invalid());
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(invalid());
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(c - b'0')))
            .ok_or_else(invalid)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

#[cfg(test)]
mod tests {
    use super::scan_cursor;

    #[test]
    fn cursors_as_strtoul() {
        assert_eq!(scan_cursor(b"0"), Ok(0));
        assert_eq!(scan_cursor(b"+7"), Ok(7));
        assert_eq!(scan_cursor(b"-1"), Ok(u64::MAX));
        assert_eq!(scan_cursor(b""), Ok(0));
        assert!(scan_cursor(b" 1").is_err());
        assert!(scan_cursor(b"1x").is_err());
        assert!(scan_cursor(b"-").is_err());
        assert!(scan_cursor(b"99999999999999999999").is_err());
    }
}

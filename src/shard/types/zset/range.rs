//! Score and lex intervals of the sorted set range commands, with Redis's
//! parsing (`zslParseRange`, `zslParseLexRange`) and membership tests
//! (`zslValueGteMin`, `zslLexValueGteMin`, …). Pure; used on every shard.

use std::cmp::Ordering;

use bytes::Bytes;

use crate::util::num;

/// `min..max` over scores, each end inclusive or exclusive (`(`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

/// What C's `strtod` makes of a whole argument, as `zslParseRange` uses it:
/// the text ends at a NUL byte, leading white space is skipped, the empty
/// string is 0, overflow gives ±inf and underflow 0 (no range check), NaN
/// is refused, and anything left unparsed fails.
fn strtod_whole(raw: &[u8]) -> Option<f64> {
    let text = raw.split(|&c| c == 0).next().unwrap_or_default();
    if text.is_empty() {
        // No conversion: the end pointer stays on the terminating NUL.
        return Some(0.0);
    }
    let start = text
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    let t = &text[start..];
    let v = num::parse_f64_strict_score(t).or_else(|| std::str::from_utf8(t).ok()?.parse().ok())?;
    (!v.is_nan()).then_some(v)
}

impl ScoreRange {
    /// Parses `min` and `max` (`zslParseRange`); None is Redis's "min or max
    /// is not a float".
    pub fn parse(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
        let end = |raw: &[u8]| match raw.strip_prefix(b"(") {
            Some(rest) => strtod_whole(rest).map(|v| (v, true)),
            None => strtod_whole(raw).map(|v| (v, false)),
        };
        let (min, minex) = end(min)?;
        let (max, maxex) = end(max)?;
        Some(ScoreRange {
            min,
            max,
            minex,
            maxex,
        })
    }

    /// `zslValueGteMin`.
    pub fn gte_min(&self, score: f64) -> bool {
        if self.minex {
            score > self.min
        } else {
            score >= self.min
        }
    }

    /// `zslValueLteMax`.
    pub fn lte_max(&self, score: f64) -> bool {
        if self.maxex {
            score < self.max
        } else {
            score <= self.max
        }
    }
}

/// One end of a lex range: `-` (below everything), `+` (above everything)
/// or a member (Redis's `shared.minstring` / `maxstring` / an sds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    Min,
    Max,
    Str(Bytes),
}

impl LexBound {
    /// `sdscmplex(value, bound)` for a member `value`.
    fn cmp_member(&self, value: &[u8]) -> Ordering {
        match self {
            LexBound::Min => Ordering::Greater,
            LexBound::Max => Ordering::Less,
            LexBound::Str(s) => value.cmp(s),
        }
    }

    /// `sdscmplex` between two bounds (for the empty-range test).
    fn cmp_bound(&self, other: &LexBound) -> Ordering {
        match (self, other) {
            (LexBound::Min, LexBound::Min) | (LexBound::Max, LexBound::Max) => Ordering::Equal,
            (LexBound::Min, _) | (_, LexBound::Max) => Ordering::Less,
            (LexBound::Max, _) | (_, LexBound::Min) => Ordering::Greater,
            (LexBound::Str(a), LexBound::Str(b)) => a.cmp(b),
        }
    }
}

/// A lex interval (`zlexrangespec`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
    pub minex: bool,
    pub maxex: bool,
}

/// `zslParseLexRangeItem`: `+` and `-` alone (the C string ends at a NUL,
/// so `+\0…` is `+` too), `(member` exclusive, `[member` inclusive.
fn lex_item(raw: &[u8]) -> Option<(LexBound, bool)> {
    let alone = raw.get(1).is_none_or(|&c| c == 0);
    match raw.first() {
        Some(b'+') if alone => Some((LexBound::Max, true)),
        Some(b'-') if alone => Some((LexBound::Min, true)),
        Some(b'(') => Some((LexBound::Str(Bytes::copy_from_slice(&raw[1..])), true)),
        Some(b'[') => Some((LexBound::Str(Bytes::copy_from_slice(&raw[1..])), false)),
        _ => None,
    }
}

impl LexRange {
    /// Parses `min` and `max` (`zslParseLexRange`); None is Redis's "min or
    /// max not valid string range item".
    pub fn parse(min: &[u8], max: &[u8]) -> Option<LexRange> {
        let (min, minex) = lex_item(min)?;
        let (max, maxex) = lex_item(max)?;
        Some(LexRange {
            min,
            max,
            minex,
            maxex,
        })
    }

    /// True when no member can be inside (`zslIsInLexRange`'s first test).
    pub fn is_empty(&self) -> bool {
        match self.min.cmp_bound(&self.max) {
            Ordering::Greater => true,
            Ordering::Equal => self.minex || self.maxex,
            Ordering::Less => false,
        }
    }

    /// `zslLexValueGteMin`.
    pub fn gte_min(&self, member: &[u8]) -> bool {
        let c = self.min.cmp_member(member);
        if self.minex {
            c == Ordering::Greater
        } else {
            c != Ordering::Less
        }
    }

    /// `zslLexValueLteMax`.
    pub fn lte_max(&self, member: &[u8]) -> bool {
        let c = self.max.cmp_member(member);
        if self.maxex {
            c == Ordering::Less
        } else {
            c != Ordering::Greater
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_ranges_parse_like_strtod() {
        let r = ScoreRange::parse(b"(1.5", b"+inf").unwrap();
        assert!(r.minex && !r.maxex && r.min == 1.5 && r.max == f64::INFINITY);
        assert!(!r.gte_min(1.5) && r.gte_min(1.6) && r.lte_max(f64::INFINITY));
        // strtod's leniency: empty is 0, leading blanks, overflow, hex.
        assert_eq!(
            ScoreRange::parse(b"", b"(").map(|r| (r.min, r.max)),
            Some((0.0, 0.0))
        );
        assert_eq!(
            ScoreRange::parse(b" 1", b"1e999").map(|r| (r.min, r.max)),
            Some((1.0, f64::INFINITY))
        );
        assert_eq!(
            ScoreRange::parse(b"0x10", b"1\0junk").map(|r| (r.min, r.max)),
            Some((16.0, 1.0))
        );
        for bad in [&b"nan"[..], b"1 ", b"  ", b"abc", b"((1", b"-nan"] {
            assert!(ScoreRange::parse(bad, b"1").is_none(), "{bad:?}");
        }
    }

    #[test]
    fn lex_ranges() {
        assert!(LexRange::parse(b"+a", b"+").is_none());
        assert!(LexRange::parse(b"a", b"+").is_none());
        assert!(LexRange::parse(b"", b"+").is_none());
        let all = LexRange::parse(b"-", b"+").unwrap();
        assert!(!all.is_empty() && all.gte_min(b"") && all.lte_max(b"\xff"));
        assert!(LexRange::parse(b"+", b"-").unwrap().is_empty());
        assert!(LexRange::parse(b"-", b"-").unwrap().is_empty());
        assert!(LexRange::parse(b"[a", b"(a").unwrap().is_empty());
        assert!(!LexRange::parse(b"[a", b"[a").unwrap().is_empty());
        let r = LexRange::parse(b"(b", b"[d").unwrap();
        assert!(!r.gte_min(b"b") && r.gte_min(b"ba") && r.lte_max(b"d") && !r.lte_max(b"da"));
        // The empty member is a valid bound.
        let r = LexRange::parse(b"[", b"(").unwrap();
        assert!(r.is_empty());
    }
}

//! Number parsing and formatting with Redis's exact acceptance rules: strict
//! integers (`string2ll`), long-double style floats for INCRBYFLOAT
//! (`string2ld`), double scores (`string2d`), the human float format of
//! `ld2string(LD_STR_HUMAN)`, and a fast integer writer. Pure functions, used
//! by shards and by command parsing.
//!
//! Redis uses `long double` (80-bit on x86-64) for INCRBYFLOAT; Tessera only
//! has `f64`. The parsers therefore accept exactly the strings Redis accepts,
//! but values that only fit a `long double` come back as `±inf` / `±0.0` (see
//! [`parse_f64`]), and [`format_f64_human`] prints the shortest `f64` digits.

use std::cmp::Ordering;

/// Redis `LONG_STR_SIZE` (21): `string2ll` rejects inputs of this length or more.
const LONG_STR_SIZE: usize = 21;

/// Redis `MAX_LONG_DOUBLE_CHARS` (5 * 1024): `string2ld` copies the input into a
/// buffer of this size and rejects anything that does not fit with its NUL.
const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

/// Parses a signed 64-bit integer exactly like Redis `string2ll`: optional
/// `-`, no `+`, no spaces, no leading zeros (`"0"` is fine, `"-0"` and `"01"`
/// are not), fewer than 21 bytes, and no overflow. Strictness matters because
/// Redis uses it to decide whether a value round-trips as an integer.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= LONG_STR_SIZE {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let v = parse_strict_digits(digits)?;
    if negative {
        // -(i64::MIN) == 2^63, which is exactly `i64::MIN.unsigned_abs()`.
        if v > i64::MIN.unsigned_abs() {
            return None;
        }
        Some(0i64.wrapping_sub_unsigned(v))
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses an unsigned 64-bit integer with the same strict grammar as
/// [`parse_i64`] (no sign at all, no leading zeros, < 21 bytes), accepting the
/// full `0..=u64::MAX` range.
///
/// Deviation: Redis `string2ull` falls back to `strtoull()`, which would also
/// accept `"+1"`, `" 1"`, `"007"` and even wrap `"-1"` to `u64::MAX`. We keep
/// the strict form; commands that need `strtoul` laxness (e.g. the SCAN
/// cursor) must not use this helper.
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() >= LONG_STR_SIZE {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    parse_strict_digits(s)
}

/// Digits `[1-9][0-9]*` into a u64 with overflow checks (the core of `string2ll`).
fn parse_strict_digits(digits: &[u8]) -> Option<u64> {
    let (first, rest) = digits.split_first()?;
    if !(b'1'..=b'9').contains(first) {
        return None;
    }
    let mut v = u64::from(first - b'0');
    for &c in rest {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(v)
}

/// Parses a float the way Redis `string2ld` does for INCRBYFLOAT and
/// HINCRBYFLOAT: `strtold()` must consume the whole input, which must be
/// 1..=5119 bytes, must not start with whitespace, and must not be NaN.
///
/// Accepted: `"1.5"`, `".5"`, `"5."`, `"1e3"`, `"-1E+3"`, `"+2"`, `"007"`,
/// `"inf"`, `"+inf"`, `"-Infinity"`, and C hex floats such as `"0x1p4"` (strtold
/// reads them, so Redis does too). Rejected: `""`, `" 1"`, `"1 "`, `"1e"`,
/// `"."`, `"nan"`, `"1\0"`.
///
/// Range: Redis rejects values that overflow or underflow to zero in a
/// *long double* (|x| >= ~1.19e4932 or < ~1.8e-4951) and we do the same. Values
/// inside the long-double range but outside `f64` come back as `±inf`
/// (overflow) or `±0.0` (underflow); INCRBYFLOAT then reports "increment would
/// produce NaN or Infinity" for the former, where Redis would have computed
/// with its wider type. (Acceptance, including these range edges, was
/// differential-tested against a Redis 7.0.15 build via INCRBYFLOAT.)
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS {
        return None;
    }
    let lit = scan_c_float(s)?;
    match lit.kind {
        Kind::Nan => None,
        Kind::Inf => Some(signed(f64::INFINITY, lit.negative)),
        Kind::Zero => Some(signed(0.0, lit.negative)),
        Kind::Decimal { exp10, sig } => {
            if dec_cmp(exp10, sig, LD_MAX_EXP10, LD_MAX_DIGITS) != Ordering::Less {
                return None; // strtold: ERANGE + HUGE_VALL
            }
            if dec_cmp(exp10, sig, LD_ZERO_EXP10, LD_ZERO_DIGITS) != Ordering::Greater {
                return None; // strtold: ERANGE + result 0
            }
            decimal_value(s)
        }
        Kind::Hex { mant, exp2, sticky } => {
            // Binary exponent of the leading bit: value in [2^top, 2^(top+1)).
            let top = exp2.saturating_add(63 - i64::from(mant.leading_zeros()));
            let exactly_zero_tie = top == LD_ZERO_EXP2 && mant.is_power_of_two() && !sticky;
            if !(LD_ZERO_EXP2..LD_MAX_EXP2).contains(&top) || exactly_zero_tie {
                return None;
            }
            Some(signed(make_f64(mant, exp2, sticky), lit.negative))
        }
    }
}

/// Parses a float the way Redis `string2d` / `getDoubleFromObject` does
/// (sorted-set scores and other `double` arguments): `strtod()` must consume
/// the whole non-empty input, no leading whitespace, no NaN, and no overflow
/// to `±HUGE_VAL` or underflow to zero (denormals are fine). `inf`, `+inf`,
/// `-inf` (and `infinity`) are accepted; so are hex floats. No length limit.
pub fn parse_f64_strict_score(s: &[u8]) -> Option<f64> {
    if s.is_empty() {
        return None;
    }
    let lit = scan_c_float(s)?;
    let v = match lit.kind {
        Kind::Nan => return None,
        Kind::Inf => return Some(signed(f64::INFINITY, lit.negative)),
        Kind::Zero => return Some(signed(0.0, lit.negative)),
        Kind::Decimal { .. } => decimal_value(s)?,
        Kind::Hex { mant, exp2, sticky } => signed(make_f64(mant, exp2, sticky), lit.negative),
    };
    // The literal is finite and non-zero, so an infinite or zero result means
    // strtod reported ERANGE with HUGE_VAL or 0, which Redis rejects.
    if v.is_infinite() || v == 0.0 || v.is_nan() {
        return None;
    }
    Some(v)
}

/// Formats an INCRBYFLOAT / HINCRBYFLOAT result like Redis
/// `ld2string(..., LD_STR_HUMAN)`: plain decimal, never exponent notation,
/// no trailing zeros, no trailing `.`, and `-0` printed as `0`.
///
/// Redis prints the long double with `%.17Lf` then trims zeros. With `f64`
/// we print the shortest digits that round-trip (so `1e20` is
/// `"100000000000000000000"` and `0.1 + 0.2` is `"0.30000000000000004"`),
/// except that, like `%.17Lf`, at most 17 digits follow the point: tiny values
/// are rounded there (`1e-20` prints `"0"`, as in Redis). Infinity and NaN
/// never reach this in practice (callers reject them first); they print as
/// `inf`, `-inf`, `nan` rather than panicking.
pub fn format_f64_human(v: f64) -> String {
    if v.is_nan() {
        return "nan".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    // Rust's `Display` for f64 never uses exponent notation and prints the
    // shortest round-tripping digits.
    let mut out = format!("{v}");
    let frac_digits = out.find('.').map_or(0, |dot| out.len() - dot - 1);
    if frac_digits > 17 {
        // Same cut as `%.17Lf`: round (exactly) to 17 fractional digits.
        out = format!("{v:.17}");
        let trimmed_len = out.trim_end_matches('0').trim_end_matches('.').len();
        out.truncate(trimmed_len);
    }
    if out == "-0" {
        out = "0".to_owned();
    }
    out
}

/// Appends the decimal text of `v` to `out` (hand-written itoa: two digits per
/// step from a lookup table, no allocation besides `out` growing).
pub fn write_i64(v: i64, out: &mut Vec<u8>) {
    const DIGITS: &[u8; 200] = b"00010203040506070809\
        10111213141516171819\
        20212223242526272829\
        30313233343536373839\
        40414243444546474849\
        50515253545556575859\
        60616263646566676869\
        70717273747576777879\
        80818283848586878889\
        90919293949596979899";
    let mut buf = [0u8; 20]; // u64::MAX has 20 digits
    let mut i = buf.len();
    let mut n = v.unsigned_abs();
    // Two digits per division: halves the number of (slow) 64-bit divisions.
    while n >= 100 {
        let d = (n % 100) as usize * 2; // < 200, cannot truncate
        n /= 100;
        i = i.saturating_sub(2);
        if let (Some(dst), Some(src)) = (buf.get_mut(i..i + 2), DIGITS.get(d..d + 2)) {
            dst.copy_from_slice(src);
        }
    }
    if n >= 10 {
        let d = n as usize * 2; // < 200
        i = i.saturating_sub(2);
        if let (Some(dst), Some(src)) = (buf.get_mut(i..i + 2), DIGITS.get(d..d + 2)) {
            dst.copy_from_slice(src);
        }
    } else {
        i = i.saturating_sub(1);
        if let Some(dst) = buf.get_mut(i) {
            *dst = b'0' + n as u8; // n < 10
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(buf.get(i..).unwrap_or(&[]));
}

// ---------------------------------------------------------------------------
// C float literal scanning (the subset of strtod/strtold syntax in the "C"
// locale that can consume a whole string).
// ---------------------------------------------------------------------------

/// Long double (x87 80-bit, 64-bit mantissa) range limits, written as
/// "0.DIGITS x 10^EXP10" (first 42 significant digits):
/// strtold overflows (ERANGE, HUGE_VALL) at and above the rounding boundary
/// just past LDBL_MAX, 2^16384 - 2^16319 = 1.18973149535723176505e+4932.
const LD_MAX_EXP10: i64 = 4933;
const LD_MAX_DIGITS: &[u8] = b"118973149535723176505351158982948866796625";
/// ... and returns 0 with ERANGE at and below half the smallest denormal,
/// 2^-16446 = 1.82259976594123730126e-4951 (a tie rounds to even, i.e. 0).
const LD_ZERO_EXP10: i64 = -4950;
const LD_ZERO_DIGITS: &[u8] = b"182259976594123730126420296680970990819952";
/// Same limits in binary: overflow from 2^16384, zero at or below 2^-16446.
const LD_MAX_EXP2: i64 = 16384;
const LD_ZERO_EXP2: i64 = -16446;

/// Exponents beyond this are far outside every float format; clamping keeps
/// all exponent arithmetic overflow-free.
const EXP_CLAMP: i64 = 1 << 40;

struct Literal<'a> {
    negative: bool,
    kind: Kind<'a>,
}

enum Kind<'a> {
    Nan,
    Inf,
    /// A finite literal whose digits are all zero.
    Zero,
    /// Decimal: value = 0.SIG x 10^exp10, `sig` starting at the first non-zero
    /// digit (it may still contain a '.', which comparisons skip).
    Decimal {
        exp10: i64,
        sig: &'a [u8],
    },
    /// Hex float: value = (mant + sticky) x 2^exp2, mant != 0.
    Hex {
        mant: u64,
        exp2: i64,
        sticky: bool,
    },
}

fn signed(v: f64, negative: bool) -> f64 {
    if negative {
        -v
    } else {
        v
    }
}

/// Recognises a complete C float literal: `[+-]` then `inf`/`infinity`,
/// `nan`/`nan(chars)`, a hex float `0x...[p[+-]d+]`, or a decimal
/// `d+[.d*]|.d+` with optional `e[+-]d+`. Anything left over means strtod
/// stopped early, which Redis treats as "not a float". Leading whitespace is
/// rejected outright (Redis checks `isspace(buf[0])`).
fn scan_c_float(s: &[u8]) -> Option<Literal<'_>> {
    let (negative, body) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some(Literal {
            negative,
            kind: Kind::Inf,
        });
    }
    if is_c_nan(body) {
        return Some(Literal {
            negative,
            kind: Kind::Nan,
        });
    }
    let kind = match body {
        [b'0', b'x' | b'X', hex @ ..] => scan_hex(hex)?,
        _ => scan_decimal(body)?,
    };
    Some(Literal { negative, kind })
}

/// `nan` or `nan(n-char-sequence)` with alphanumerics and `_` inside.
fn is_c_nan(body: &[u8]) -> bool {
    let (head, tail) = body.split_at(body.len().min(3));
    if !head.eq_ignore_ascii_case(b"nan") {
        return false;
    }
    match tail {
        [] => true,
        [b'(', inner @ .., b')'] => inner
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_'),
        _ => false,
    }
}

/// Parses `[+-]digits` exponents, saturating far outside any float range.
fn scan_exponent(e: &[u8]) -> Option<i64> {
    let (neg, digits) = match e.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, e),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        v = v
            .saturating_mul(10)
            .saturating_add(i64::from(d - b'0'))
            .min(EXP_CLAMP);
    }
    Some(if neg { -v } else { v })
}

fn scan_decimal(body: &[u8]) -> Option<Kind<'_>> {
    let mant_len = body
        .iter()
        .position(|c| !(c.is_ascii_digit() || *c == b'.'))
        .unwrap_or(body.len());
    let (mant, rest) = body.split_at(mant_len);
    let exp = match rest.split_first() {
        None => 0,
        Some((b'e' | b'E', e)) => scan_exponent(e)?,
        Some(_) => return None,
    };
    let dot = mant.iter().position(|c| *c == b'.');
    let n_digits = mant.len() - usize::from(dot.is_some());
    if n_digits == 0 || mant.iter().filter(|c| **c == b'.').count() > 1 {
        return None;
    }
    let int_len = i64::try_from(dot.unwrap_or(mant.len())).ok()?;
    let Some(first) = mant.iter().position(|c| matches!(c, b'1'..=b'9')) else {
        return Some(Kind::Zero);
    };
    let first_i = i64::try_from(first).ok()?;
    // Power of ten of the first significant digit, as "0.d x 10^exp10".
    let exp10 = if first_i < int_len {
        int_len - first_i
    } else {
        int_len - first_i + 1
    };
    Some(Kind::Decimal {
        exp10: exp10.saturating_add(exp).clamp(-EXP_CLAMP, EXP_CLAMP),
        sig: mant.get(first..).unwrap_or(&[]),
    })
}

fn scan_hex(hex: &[u8]) -> Option<Kind<'static>> {
    let mant_len = hex
        .iter()
        .position(|c| !(c.is_ascii_hexdigit() || *c == b'.'))
        .unwrap_or(hex.len());
    let (mant, rest) = hex.split_at(mant_len);
    let pexp = match rest.split_first() {
        None => 0,
        Some((b'p' | b'P', e)) => scan_exponent(e)?,
        Some(_) => return None,
    };
    if mant.iter().filter(|c| **c == b'.').count() > 1 || !mant.iter().any(u8::is_ascii_hexdigit) {
        return None;
    }
    // Keep the first 16 significant hex digits (64 bits) exactly; remember
    // whether anything non-zero was dropped so rounding stays correct.
    let mut m: u64 = 0;
    let mut exp2: i64 = 0;
    let mut kept = 0u32;
    let mut sticky = false;
    let mut in_frac = false;
    for &c in mant {
        if c == b'.' {
            in_frac = true;
            continue;
        }
        let d = match char::from(c).to_digit(16) {
            Some(d) => u64::from(d),
            None => return None,
        };
        let significant = m != 0 || d != 0;
        if significant && kept >= 16 {
            sticky |= d != 0;
            if !in_frac {
                exp2 += 4;
            }
            continue;
        }
        if significant {
            kept += 1;
        }
        m = (m << 4) | d;
        if in_frac {
            exp2 -= 4;
        }
    }
    if m == 0 {
        return Some(Kind::Zero);
    }
    Some(Kind::Hex {
        mant: m,
        exp2: exp2.saturating_add(pexp).clamp(-EXP_CLAMP, EXP_CLAMP),
        sticky,
    })
}

/// Compares the decimal 0.SIG x 10^exp10 with 0.LIMIT x 10^limit_exp10 (both
/// with a non-zero first digit), ignoring any '.' in `sig`.
fn dec_cmp(exp10: i64, sig: &[u8], limit_exp10: i64, limit: &[u8]) -> Ordering {
    match exp10.cmp(&limit_exp10) {
        Ordering::Equal => {}
        other => return other,
    }
    let mut digits = sig.iter().copied().filter(u8::is_ascii_digit);
    for &l in limit {
        match digits.next() {
            None => return Ordering::Less, // remaining digits are zeros
            Some(d) if d != l => return d.cmp(&l),
            Some(_) => {}
        }
    }
    if digits.any(|d| d != b'0') {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

/// Decimal value, correctly rounded like glibc's strtod. The literal was
/// validated by `scan_decimal`, and Rust's `f64` grammar accepts the same
/// decimal forms (`1.`, `.5`, `+1e-3`).
fn decimal_value(s: &[u8]) -> Option<f64> {
    std::str::from_utf8(s).ok()?.parse::<f64>().ok()
}

/// Rounds (mant + sticky) x 2^exp2 to the nearest f64, ties to even, handling
/// overflow to infinity and gradual underflow (denormals) exactly.
fn make_f64(mant: u64, exp2: i64, sticky: bool) -> f64 {
    if mant == 0 {
        return 0.0;
    }
    let lz = mant.leading_zeros();
    // Normalise so bit 63 is set; the sticky bit sits below every real bit.
    let m = (mant << lz) | u64::from(sticky);
    let e = exp2.saturating_sub(i64::from(lz));
    let top = e.saturating_add(63); // value in [2^top, 2^(top+1))
    if top > 1023 {
        return f64::INFINITY;
    }
    if top >= -1022 {
        // Normal: keep 53 bits.
        let q = m >> 11;
        let r = m & 0x7ff;
        let up = r > 0x400 || (r == 0x400 && q & 1 == 1);
        let q = q + u64::from(up); // in [2^52, 2^53]
                                   // The hidden bit (2^52) in q bumps the biased exponent by one, so add
                                   // q to (top + 1022) << 52; a carry to 2^53 correctly bumps it again,
                                   // up to the infinity pattern.
        let biased = u64::try_from(top + 1022).unwrap_or(0);
        return f64::from_bits((biased << 52) + q);
    }
    // Denormal: count in units of 2^-1074.
    let shift = u32::try_from(e.saturating_add(1074).saturating_neg()).unwrap_or(u32::MAX);
    if shift > 64 {
        return 0.0;
    }
    let wide = u128::from(m);
    let q = wide >> shift;
    let r = wide & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    let up = r > half || (r == half && q & 1 == 1);
    let bits = u64::try_from(q).unwrap_or(0) + u64::from(up);
    f64::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_i64_redis_cases() {
        // The cases from Redis's own test_string2ll().
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b"1 "), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"1"), Some(1));
        assert_eq!(parse_i64(b"99"), Some(99));
        assert_eq!(parse_i64(b"-99"), Some(-99));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"-9223372036854775809"), None);
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
    }

    #[test]
    fn parse_i64_edges() {
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"00",
            b"0x10",
            b"1.0",
            b"1e3",
            b"--1",
            b"1-",
            b"\x001",
            b"1\x00",
            b"18446744073709551616",
            b"99999999999999999999",
            b"000000000000000000001",
            b"-00000000000000000001",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(parse_i64(b"1234567890"), Some(1_234_567_890));
    }

    #[test]
    fn parse_u64_cases() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"9223372036854775808"), Some(1 << 63));
        for bad in [
            &b""[..],
            b"-1",
            b"-0",
            b"+1",
            b" 1",
            b"1 ",
            b"01",
            b"0x10",
            b"1.5",
        ] {
            assert_eq!(parse_u64(bad), None);
        }
    }

    #[test]
    fn parse_f64_accepts_strtold_forms() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        assert_eq!(parse_f64(b"5."), Some(5.0));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b"1E+3"), Some(1000.0));
        assert_eq!(parse_f64(b"-2.5e-1"), Some(-0.25));
        assert_eq!(parse_f64(b"+2"), Some(2.0));
        assert_eq!(parse_f64(b"007"), Some(7.0));
        assert_eq!(parse_f64(b"17179869184"), Some(17_179_869_184.0));
        assert_eq!(parse_f64(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"INF"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"0"), Some(0.0));
        assert!(parse_f64(b"-0").is_some_and(|v| v == 0.0 && v.is_sign_negative()));
        assert_eq!(parse_f64(b"0e999999999999999999999"), Some(0.0));
        // Hex floats, as strtold reads them.
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b"0x1p4"), Some(16.0));
        assert_eq!(parse_f64(b"0X.8"), Some(0.5));
        assert_eq!(parse_f64(b"-0x1.8p1"), Some(-3.0));
        assert_eq!(parse_f64(b"0x1P-2"), Some(0.25));
    }

    #[test]
    fn parse_f64_rejects() {
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b" 11 ",
            b"    11",
            b"11    ",
            b"\t1",
            b"1\x002",
            b"1\x00",
            b".",
            b"-",
            b"+",
            b"e5",
            b"1e",
            b"1e+",
            b"1.2.3",
            b"--1",
            b"+-1",
            b"nan",
            b"-nan",
            b"NaN",
            b"nan(123)",
            b"infin",
            b"infinityx",
            b"0x",
            b"0x.",
            b"0x1p",
            b"0xg",
            b"1_000",
            b"abc",
        ] {
            assert_eq!(parse_f64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        // Length limit: MAX_LONG_DOUBLE_CHARS (5120) including the NUL.
        let mut long = b"1.".to_vec();
        long.extend(std::iter::repeat_n(b'0', MAX_LONG_DOUBLE_CHARS - 3));
        assert_eq!(long.len(), 5119);
        assert!(parse_f64(&long).is_some());
        long.push(b'0');
        assert_eq!(parse_f64(&long), None);
    }

    #[test]
    fn parse_f64_long_double_range() {
        // Fits a long double but not an f64: accepted as +-inf.
        assert_eq!(parse_f64(b"1e400"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"-1e4932"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"0x1p16000"), Some(f64::INFINITY));
        // Overflows a long double too: strtold ERANGE -> rejected.
        assert_eq!(parse_f64(b"1.2e4932"), None);
        assert_eq!(parse_f64(b"1e5000"), None);
        assert_eq!(parse_f64(b"0x1p16384"), None);
        // Underflow: tiny long doubles become 0, true underflow is rejected.
        assert_eq!(parse_f64(b"1e-400"), Some(0.0));
        assert_eq!(parse_f64(b"1e-4951"), None);
        assert_eq!(parse_f64(b"1e-5000"), None);
        assert_eq!(parse_f64(b"0x1p-16500"), None);
        // Boundaries checked against a real Redis 7.0 build.
        assert_eq!(
            parse_f64(b"1.18973149535723176502e4932"),
            Some(f64::INFINITY)
        );
        assert_eq!(parse_f64(b"1.19e4932"), None);
        assert_eq!(parse_f64(b"1.8225997659412373012e-4951"), None);
        assert_eq!(parse_f64(b"1.8225997659412373013e-4951"), Some(0.0));
        assert_eq!(parse_f64(b"0x1p-16446"), None);
        assert_eq!(parse_f64(b"0x1.1p-16446"), Some(0.0));
        assert_eq!(parse_f64(b"0x1p16383"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"1.7976931348623157e308"), Some(f64::MAX));
    }

    #[test]
    fn parse_f64_strict_score_cases() {
        assert_eq!(parse_f64_strict_score(b"1.5"), Some(1.5));
        assert_eq!(parse_f64_strict_score(b"-1"), Some(-1.0));
        assert_eq!(parse_f64_strict_score(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64_strict_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64_strict_score(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64_strict_score(b"0"), Some(0.0));
        assert_eq!(parse_f64_strict_score(b"0x10"), Some(16.0));
        // Denormal results are fine; underflow to zero is not.
        assert_eq!(parse_f64_strict_score(b"5e-324"), Some(5e-324));
        assert_eq!(parse_f64_strict_score(b"2e-324"), None);
        assert_eq!(parse_f64_strict_score(b"1e-400"), None);
        // Overflow to HUGE_VAL is rejected.
        assert_eq!(parse_f64_strict_score(b"1e400"), None);
        assert_eq!(parse_f64_strict_score(b"-1e309"), None);
        for bad in [&b""[..], b"nan", b" 1", b"1 ", b"1a", b"(1", b"1\x00"] {
            assert_eq!(parse_f64_strict_score(bad), None);
        }
        // No length limit for string2d.
        let mut long = b"1.".to_vec();
        long.extend(std::iter::repeat_n(b'0', 10_000));
        assert_eq!(parse_f64_strict_score(&long), Some(1.0));
    }

    #[test]
    fn make_f64_rounding() {
        // 2^53 + 1 rounds to even (2^53); 2^53 + 3 rounds up.
        assert_eq!(
            parse_f64(b"0x20000000000001"),
            Some(9_007_199_254_740_992.0)
        );
        assert_eq!(
            parse_f64(b"0x20000000000003"),
            Some(9_007_199_254_740_996.0)
        );
        // Sticky digits beyond 16 hex digits break the tie upwards.
        assert_eq!(
            parse_f64_strict_score(b"0x20000000000001000001"),
            Some(9_007_199_254_740_994.0 * 16_777_216.0)
        );
        assert_eq!(parse_f64_strict_score(b"0x1p-1074"), Some(5e-324));
        assert_eq!(parse_f64_strict_score(b"0x1p-1075"), None); // tie -> even -> 0
        assert_eq!(parse_f64_strict_score(b"0x1.8p-1075"), Some(5e-324));
        assert_eq!(
            parse_f64_strict_score(b"0x1.fffffffffffffp1023"),
            Some(f64::MAX)
        );
        assert_eq!(parse_f64_strict_score(b"0x1.fffffffffffff8p1023"), None); // rounds to inf
        assert_eq!(
            parse_f64_strict_score(b"0x1p-1022"),
            Some(f64::MIN_POSITIVE)
        );
        assert_eq!(
            parse_f64_strict_score(b"0x0.fffffffffffff8p-1022"),
            Some(f64::MIN_POSITIVE)
        );
    }

    #[test]
    fn format_human() {
        assert_eq!(format_f64_human(10.5), "10.5");
        assert_eq!(format_f64_human(3.0), "3");
        assert_eq!(format_f64_human(17_179_869_185.5), "17179869185.5");
        assert_eq!(format_f64_human(34_359_738_368.0), "34359738368");
        assert_eq!(format_f64_human(1e20), "100000000000000000000");
        assert_eq!(format_f64_human(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_f64_human(-0.1), "-0.1");
        assert_eq!(format_f64_human(1.0 - 1.1), "-0.10000000000000009");
        assert_eq!(format_f64_human(-0.0), "0");
        assert_eq!(format_f64_human(0.0), "0");
        assert_eq!(format_f64_human(1e-7), "0.0000001");
        assert_eq!(format_f64_human(1.5e-17), "0.00000000000000002");
        assert_eq!(format_f64_human(1e-20), "0");
        assert_eq!(format_f64_human(-1e-20), "0");
        assert_eq!(format_f64_human(1.0 / 41.0 - 1.0 / 41.0), "0");
        assert!(!format_f64_human(f64::MAX).contains('e'));
        assert_eq!(format_f64_human(f64::INFINITY), "inf");
        assert_eq!(format_f64_human(f64::NEG_INFINITY), "-inf");
        assert_eq!(format_f64_human(f64::NAN), "nan");
    }

    #[test]
    fn write_i64_cases() {
        for v in [0, 1, -1, 9, 10, 99, 100, -100, 12345, i64::MAX, i64::MIN] {
            let mut out = b"x".to_vec();
            write_i64(v, &mut out);
            assert_eq!(out, format!("x{v}").into_bytes());
        }
    }

    proptest! {
        #[test]
        fn i64_roundtrip(v in any::<i64>()) {
            let mut out = Vec::new();
            write_i64(v, &mut out);
            prop_assert_eq!(out.clone(), v.to_string().into_bytes());
            prop_assert_eq!(parse_i64(&out), Some(v));
        }

        #[test]
        fn u64_roundtrip(v in any::<u64>()) {
            prop_assert_eq!(parse_u64(v.to_string().as_bytes()), Some(v));
        }

        #[test]
        fn parsers_never_panic(s in proptest::collection::vec(
            prop_oneof![Just(b'0'), Just(b'1'), Just(b'9'), Just(b'.'), Just(b'e'), Just(b'-'),
                        Just(b'+'), Just(b'x'), Just(b'p'), Just(b'f'), Just(b'n'), Just(b'i'),
                        any::<u8>()],
            0..40)) {
            let _ = parse_i64(&s);
            let _ = parse_u64(&s);
            let _ = parse_f64(&s);
            let _ = parse_f64_strict_score(&s);
        }

        #[test]
        fn f64_display_roundtrip(v in any::<f64>().prop_filter("finite", |v| v.is_finite())) {
            // Shortest round-trip text parses back to the same bits (incl. -0, denormals).
            let text = v.to_string();
            prop_assert_eq!(parse_f64_strict_score(text.as_bytes()).map(f64::to_bits), Some(v.to_bits()));
            prop_assert_eq!(parse_f64(text.as_bytes()).map(f64::to_bits), Some(v.to_bits()));
            let human = format_f64_human(v);
            prop_assert!(!human.contains('e'));
            prop_assert!(parse_f64(human.as_bytes()).is_some());
        }

        #[test]
        fn hex_matches_decimal(m in 1u64..(1u64 << 53), e in -1100i64..1100) {
            // m * 2^e via hex must equal the same value via Rust's own arithmetic
            // whenever that product is exact (normal range).
            let text = format!("0x{m:x}p{e}");
            let got = parse_f64_strict_score(text.as_bytes());
            // 2^e built from its bit pattern (exact for normal exponents);
            // m < 2^53 converts exactly, so the product is exact when normal.
            let pow2 = |e: i64| f64::from_bits(u64::try_from(e + 1023).unwrap_or(0) << 52);
            let exact = if (-1022..=1023).contains(&e) { (m as f64) * pow2(e) } else { 0.0 };
            if exact.is_finite() && exact >= f64::MIN_POSITIVE {
                prop_assert_eq!(got, Some(exact));
            }
        }
    }
}

//! Reply values and the protocol version they are encoded for (sans-IO codec,
//! runs on every shard).
//!
//! This file owns the [`Reply`] tree that command handlers build, the
//! [`RespVersion`] a connection negotiated (HELLO), and the Redis-exact text
//! form of doubles ([`format_double`], Redis's `"%.17g"`). Turning a reply into
//! bytes lives in `encode.rs`.

use bytes::Bytes;
use std::fmt;

/// The RESP dialect a connection speaks. Every connection starts in RESP2;
/// `HELLO 3` switches it to RESP3 (Redis `client->resp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RespVersion {
    #[default]
    Resp2,
    Resp3,
}

/// One reply, as built by a command handler. Each variant maps to one Redis
/// `addReply*` function; the doc on each variant says how it is written in
/// RESP2 and RESP3 (see `encode.rs`).
#[derive(Clone, Debug)]
pub enum Reply {
    /// `+OK` (`addReplyStatus`). Any `\r`/`\n` inside is written as `' '`
    /// so a status can never break framing.
    Simple(Bytes),
    /// Full error text after the `-`, e.g. `b"ERR syntax error"`. Any `\r` or
    /// `\n` inside is written as `' '` (as `addReplyErrorFormat` does).
    Error(Bytes),
    /// `:<n>` (`addReplyLongLong`).
    Integer(i64),
    /// `$<len>\r\n<data>\r\n` (`addReplyBulk`).
    Bulk(Bytes),
    /// The same, for a short string held in the reply itself: see
    /// [`Reply::stored`]. Equal to the `Bulk` of the same bytes.
    Inline(InlineBulk),
    /// Null bulk: RESP2 `$-1`, RESP3 `_` (`addReplyNull`).
    Nil,
    /// Null array: RESP2 `*-1`, RESP3 `_` (`addReplyNullArray`).
    NilArray,
    /// `*<n>` followed by the elements.
    Array(Vec<Reply>),
    /// RESP2: flat array of 2n elements; RESP3: `%<n>` (`addReplyMapLen`).
    Map(Vec<(Reply, Reply)>),
    /// Pairs such as (field, value) or (member, score): RESP2 a flat array
    /// of 2n elements, RESP3 an array of n two-element arrays (HRANDFIELD /
    /// ZRANDMEMBER / ZRANGE … WITHSCORES).
    Pairs(Vec<(Reply, Reply)>),
    /// RESP2: array; RESP3: `~<n>` (`addReplySetLen`).
    Set(Vec<Reply>),
    /// RESP2: bulk string; RESP3: `,<text>`; text is [`format_double`]
    /// (`addReplyDouble`).
    Double(f64),
    /// RESP2: `:1`/`:0`; RESP3: `#t`/`#f` (`addReplyBool`).
    Bool(bool),
    /// Verbatim string with a 3-byte format such as `*b"txt"`. RESP2: bulk of
    /// the text only; RESP3: `=<len+4>\r\n<fmt>:<text>\r\n`
    /// (`addReplyVerbatim`).
    Verbatim([u8; 3], Bytes),
    /// Out-of-band push (pub/sub, invalidation). RESP2: `*`; RESP3: `>`.
    Push(Vec<Reply>),
    /// Arbitrary-precision integer text. RESP2: bulk; RESP3: `(`
    /// (`addReplyBigNum`).
    BigNumber(Bytes),
    /// Bytes that are already valid RESP, copied as is (e.g. cached replies).
    Raw(Bytes),
}

const _: () = assert!(std::mem::size_of::<Reply>() <= 40);

/// Replies are equal when they encode the same, except that an `Inline` and
/// a `Bulk` of the same bytes are equal too.
impl PartialEq for Reply {
    fn eq(&self, other: &Reply) -> bool {
        use Reply::*;
        match (self, other) {
            (Bulk(_) | Inline(_), Bulk(_) | Inline(_)) => self.bulk_bytes() == other.bulk_bytes(),
            (Simple(a), Simple(b)) | (Error(a), Error(b)) => a == b,
            (BigNumber(a), BigNumber(b)) | (Raw(a), Raw(b)) => a == b,
            (Integer(a), Integer(b)) => a == b,
            (Nil, Nil) | (NilArray, NilArray) => true,
            (Array(a), Array(b)) | (Set(a), Set(b)) | (Push(a), Push(b)) => a == b,
            (Map(a), Map(b)) | (Pairs(a), Pairs(b)) => a == b,
            (Double(a), Double(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            (Verbatim(f, a), Verbatim(g, b)) => f == g && a == b,
            _ => false,
        }
    }
}

/// Longest bulk string a reply holds inline ([`Reply::Inline`]); the reply
/// stays as small as with a `Bytes`.
pub const INLINE_BULK: usize = 38;

/// A short bulk string held by value ([`Reply::Inline`]).
pub type InlineBulk = crate::util::inline::InlineBytes<INLINE_BULK>;

impl Reply {
    /// A bulk string of a value the keyspace keeps (GET, HGET, LINDEX):
    /// a short one is copied into the reply, a long one shared. Sharing a
    /// short one would cost more than copying it: the first clone of a
    /// `Bytes` the keyspace holds alone allocates a shared header, kept for
    /// as long as the value lives (+32 bytes per key read), and every later
    /// one is a reference count bumped and dropped.
    pub fn stored(b: &Bytes) -> Reply {
        if b.len() <= INLINE_BULK {
            Reply::copied(b)
        } else {
            Reply::Bulk(b.clone())
        }
    }

    /// A bulk string copied from borrowed bytes, inline when short.
    pub fn copied(b: &[u8]) -> Reply {
        match InlineBulk::new(b) {
            Some(i) => Reply::Inline(i),
            None => Reply::Bulk(Bytes::copy_from_slice(b)),
        }
    }

    /// The bytes of a `Bulk` or `Inline` reply.
    pub fn bulk_bytes(&self) -> Option<&[u8]> {
        match self {
            Reply::Bulk(b) => Some(b),
            Reply::Inline(i) => Some(i.as_bytes()),
            _ => None,
        }
    }

    /// `+OK`.
    pub fn ok() -> Reply {
        Reply::Simple(Bytes::from_static(b"OK"))
    }

    /// A status reply from a static string (no allocation).
    pub fn simple(s: &'static str) -> Reply {
        Reply::Simple(Bytes::from_static(s.as_bytes()))
    }

    /// An error reply; `msg` is the full text including the code, e.g.
    /// `"ERR syntax error"` or `"WRONGTYPE Operation against ..."`.
    pub fn error(msg: impl Into<String>) -> Reply {
        // `Bytes::from(String)` takes over the allocation, no copy.
        Reply::Error(Bytes::from(msg.into()))
    }

    /// A bulk string from anything convertible to `Bytes` (zero-copy for
    /// `Bytes`, `Vec<u8>`, `String`, `&'static [u8]`).
    pub fn bulk(b: impl Into<Bytes>) -> Reply {
        Reply::Bulk(b.into())
    }

    /// A bulk string copied from a borrowed `&str`.
    pub fn bulk_str(s: &str) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }
}

/// Text of a double exactly as Redis 7.0 `addReplyDouble` writes it:
/// `"inf"`/`"-inf"` for infinities, otherwise C's `"%.17g"` (17 significant
/// digits, `%e` or `%f` style chosen by the `%g` rule, trailing zeros
/// removed). NaN is written as glibc does, `"nan"` or `"-nan"`.
///
/// Examples: `1.5 -> "1.5"`, `3.0 -> "3"`, `0.1 -> "0.10000000000000001"`,
/// `1e20 -> "1e+20"`, `-0.0 -> "-0"`.
pub fn format_double(v: f64) -> String {
    let text = DoubleText::new(v);
    // All bytes are ASCII, so a byte-to-char map is exact.
    text.as_bytes().iter().map(|&b| char::from(b)).collect()
}

/// Stack buffer holding a formatted double, used by the encoder to avoid
/// allocating. The longest `%.17g` output is 24 bytes
/// (`-4.9406564584124654e-324`), so 32 is always enough.
pub(crate) struct DoubleText {
    buf: [u8; 32],
    len: usize,
}

impl DoubleText {
    pub(crate) fn new(v: f64) -> DoubleText {
        let mut out = DoubleText {
            buf: [0; 32],
            len: 0,
        };
        out.format(v);
        out
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    fn push(&mut self, b: u8) {
        // Capacity is proven sufficient above; dropping an impossible extra
        // byte is preferable to panicking on the reply path.
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn push_all(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.push(b);
        }
    }

    /// C `printf("%.17g", v)` (glibc), plus Redis's explicit `inf` handling.
    fn format(&mut self, v: f64) {
        const PRECISION: i32 = 17;
        if v.is_nan() {
            // glibc prints the sign bit of a NaN.
            self.push_all(if v.is_sign_negative() {
                b"-nan"
            } else {
                b"nan"
            });
            return;
        }
        if v.is_infinite() {
            // addReplyDouble special-cases infinities ("Hi Solaris!").
            self.push_all(if v > 0.0 { b"inf" } else { b"-inf" });
            return;
        }

        // 17 significant digits, correctly rounded from the exact binary
        // value with ties to even, which is what glibc's printf does. Rust's
        // `{:.16e}` gives exactly that digit string plus the decimal exponent
        // of the rounded value (the X of the C standard's %g rule).
        let mut sci = SciWriter {
            buf: [0; 32],
            len: 0,
        };
        // SciWriter never reports an error (it cannot overflow: the longest
        // `{:.16e}` of an f64 is 24 bytes).
        let _ = fmt::Write::write_fmt(&mut sci, format_args!("{v:.16e}"));
        let (digits, exp) = parse_sci(sci.as_bytes());

        if v.is_sign_negative() {
            self.push(b'-');
        }
        if (-4..PRECISION).contains(&exp) {
            // %f style with precision P-1-X, i.e. the same 17 digits laid out
            // positionally, then trailing fraction zeros removed.
            if exp >= 0 {
                let int_len = usize::try_from(exp).unwrap_or(0) + 1;
                let (int_part, frac) = digits.split_at(int_len.min(digits.len()));
                self.push_all(int_part);
                let frac = trim_zeros(frac);
                if !frac.is_empty() {
                    self.push(b'.');
                    self.push_all(frac);
                }
            } else {
                // 0.000ddd: -X-1 zeros after the point. digits[0] is non-zero
                // here (only 0.0 has a zero leading digit, and its X is 0).
                self.push_all(b"0.");
                for _ in 0..(-exp - 1) {
                    self.push(b'0');
                }
                self.push_all(trim_zeros(&digits));
            }
        } else {
            // %e style with precision P-1: d.ddde[+-]XX (at least 2 exponent
            // digits).
            let (first, rest) = digits.split_at(1);
            self.push_all(first);
            let frac = trim_zeros(rest);
            if !frac.is_empty() {
                self.push(b'.');
                self.push_all(frac);
            }
            self.push(b'e');
            self.push(if exp < 0 { b'-' } else { b'+' });
            let mag = exp.unsigned_abs();
            if mag >= 100 {
                self.push(b'0' + (mag / 100) as u8);
            }
            self.push(b'0' + (mag / 10 % 10) as u8);
            self.push(b'0' + (mag % 10) as u8);
        }
    }
}

/// Fixed-capacity `fmt::Write` target for the `{:.16e}` digit generation.
struct SciWriter {
    buf: [u8; 32],
    len: usize,
}

impl SciWriter {
    fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

impl fmt::Write for SciWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
        Ok(())
    }
}

/// Splits Rust's `-d.dddddddddddddddde-X` into its 17 digits and exponent.
fn parse_sci(s: &[u8]) -> ([u8; 17], i32) {
    let mut digits = [b'0'; 17];
    let mut n = 0;
    let mut exp: i32 = 0;
    let mut exp_negative = false;
    let mut in_exp = false;
    for &b in s {
        match b {
            b'e' => in_exp = true,
            b'-' if in_exp => exp_negative = true,
            b'0'..=b'9' if in_exp => exp = exp * 10 + i32::from(b - b'0'),
            b'0'..=b'9' => {
                if let Some(slot) = digits.get_mut(n) {
                    *slot = b;
                    n += 1;
                }
            }
            _ => {}
        }
    }
    (digits, if exp_negative { -exp } else { exp })
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let keep = s.iter().rposition(|&b| b != b'0').map_or(0, |i| i + 1);
    s.get(..keep).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// glibc's own `%.17g`, used only as a test oracle.
    fn c_format(v: f64) -> String {
        use std::ffi::{c_char, c_int};
        unsafe extern "C" {
            fn snprintf(buf: *mut c_char, n: usize, fmt: *const c_char, ...) -> c_int;
        }
        let mut buf = [0u8; 64];
        // SAFETY: buf is 64 bytes, the format is NUL-terminated and takes one
        // double; snprintf writes at most 64 bytes including the NUL.
        let n = unsafe { snprintf(buf.as_mut_ptr().cast(), buf.len(), c"%.17g".as_ptr(), v) };
        let n = usize::try_from(n).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn format_double_examples() {
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(3.0), "3");
        assert_eq!(format_double(0.1), "0.10000000000000001");
        assert_eq!(format_double(1e20), "1e+20");
        assert_eq!(format_double(-0.0), "-0");
        assert_eq!(format_double(0.0), "0");
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(f64::NEG_INFINITY), "-inf");
        assert_eq!(format_double(f64::NAN), "nan");
        assert_eq!(format_double(-f64::NAN), "-nan");
        assert_eq!(format_double(1e16), "10000000000000000");
        assert_eq!(format_double(1e17), "1e+17");
        assert_eq!(format_double(0.0001), "0.0001");
        assert_eq!(format_double(0.00001), "1.0000000000000001e-05");
        assert_eq!(format_double(123456789.125), "123456789.125");
        assert_eq!(format_double(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(format_double(5e-324), "4.9406564584124654e-324");
        assert_eq!(format_double(-2.5), "-2.5");
        // An exact tie at the 18th digit: glibc rounds half to even.
        assert_eq!(format_double(2f64.powi(-25)), "2.9802322387695312e-08");
    }

    #[test]
    fn format_double_matches_glibc_on_edges() {
        let mut cases = vec![
            0.0,
            -0.0,
            1.0,
            0.5,
            0.3,
            2.0 / 3.0,
            1e-4,
            1e-5,
            1e15,
            1e16,
            9.999999999999999e16,
            1e17,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            f64::MAX,
            f64::MIN,
            123.456,
            -1e-300,
        ];
        for e in -30..30 {
            cases.push(2f64.powi(e));
            cases.push(10f64.powi(e));
            cases.push(-(10f64.powi(e)) / 3.0);
        }
        // Neighbours of the %f/%e switch points, where rounding to 17
        // digits can bump the exponent.
        for edge in [1e-4, 1e-5, 1e16, 1e17, 1.0, 10.0] {
            let bits = f64::to_bits(edge);
            for d in 1..4 {
                cases.push(f64::from_bits(bits - d));
                cases.push(f64::from_bits(bits + d));
            }
        }
        cases.push(f64::NAN);
        cases.push(-f64::NAN);
        for v in cases {
            assert_eq!(format_double(v), c_format(v), "value {v:e}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Any bit pattern, NaNs included (glibc prints "nan"/"-nan").
        #[test]
        fn format_double_matches_glibc(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            prop_assert_eq!(format_double(v), c_format(v));
        }

        #[test]
        fn format_double_matches_glibc_human_range(v in -1e20f64..1e20) {
            prop_assert_eq!(format_double(v), c_format(v));
        }
    }

    #[test]
    fn constructors() {
        assert_eq!(Reply::ok(), Reply::Simple(Bytes::from_static(b"OK")));
        assert_eq!(
            Reply::simple("PONG"),
            Reply::Simple(Bytes::from_static(b"PONG"))
        );
        assert_eq!(
            Reply::error("ERR x"),
            Reply::Error(Bytes::from_static(b"ERR x"))
        );
        assert_eq!(
            Reply::bulk(vec![1u8, 2]),
            Reply::Bulk(Bytes::from_static(&[1, 2]))
        );
        assert_eq!(Reply::bulk_str("v"), Reply::Bulk(Bytes::from_static(b"v")));
        assert_eq!(RespVersion::default(), RespVersion::Resp2);
    }
}

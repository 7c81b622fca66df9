//! Reply encoder: [`Reply`] to RESP2 / RESP3 bytes (sans-IO codec, runs on
//! every shard).
//!
//! This file owns the exact bytes written for every reply kind in both
//! protocol versions, matching Redis 7.0's `addReply*` functions in
//! networking.c. It is on the hot path of every command, so it never
//! allocates: integers are formatted with a hand-rolled two-digits-at-a-time
//! itoa into a stack buffer, doubles into a stack buffer, and space is
//! reserved in the output before each write.

use super::frame::{DoubleText, Reply, RespVersion};
use bytes::{BufMut, BytesMut};

const CRLF: &[u8] = b"\r\n";

/// Appends the encoding of `reply` for a `version` connection to `out`.
pub fn encode(reply: &Reply, version: RespVersion, out: &mut BytesMut) {
    let resp3 = version == RespVersion::Resp3;
    match reply {
        // addReplyStatusLength. Redis trusts callers here; we map CR/LF to
        // spaces (as for errors) so a status can never desync the client.
        // The most common reply of all, written without scanning it.
        Reply::Simple(s) if s.as_ref() == b"OK" => out.put_slice(b"+OK\r\n"),
        Reply::Simple(s) => put_line(out, b'+', s),
        // addReplyErrorFormat: "\r\n" inside become spaces.
        Reply::Error(s) => put_line(out, b'-', s),
        // addReplyLongLong.
        Reply::Integer(n) => put_int_line(out, b':', *n),
        // addReplyBulk / addReplyBulkCBuffer.
        Reply::Bulk(b) => put_bulk(out, b),
        Reply::Inline(b) => put_bulk(out, b.as_bytes()),
        // addReplyNull.
        Reply::Nil => out.put_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" }),
        // addReplyNullArray: RESP3 has no null array, only the null type.
        Reply::NilArray => out.put_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" }),
        Reply::Array(items) => {
            put_len_line(out, b'*', items.len());
            for item in items {
                encode(item, version, out);
            }
        }
        // addReplyMapLen: RESP2 sends 2n flat elements.
        Reply::Map(pairs) => {
            if resp3 {
                put_len_line(out, b'%', pairs.len());
            } else {
                put_len_line(out, b'*', pairs.len().saturating_mul(2));
            }
            for (k, v) in pairs {
                encode(k, version, out);
                encode(v, version, out);
            }
        }
        // RESP2 flat, RESP3 nested pairs (`addReplyArrayLen(c, 2)` per pair).
        Reply::Pairs(pairs) => {
            put_len_line(
                out,
                b'*',
                if resp3 {
                    pairs.len()
                } else {
                    pairs.len().saturating_mul(2)
                },
            );
            for (k, v) in pairs {
                if resp3 {
                    put_len_line(out, b'*', 2);
                }
                encode(k, version, out);
                encode(v, version, out);
            }
        }
        // addReplySetLen.
        Reply::Set(items) => {
            put_len_line(out, if resp3 { b'~' } else { b'*' }, items.len());
            for item in items {
                encode(item, version, out);
            }
        }
        // addReplyDouble: RESP2 bulk of the %.17g text, RESP3 ','.
        Reply::Double(v) => {
            let text = DoubleText::new(*v);
            if resp3 {
                put_line(out, b',', text.as_bytes());
            } else {
                put_bulk(out, text.as_bytes());
            }
        }
        // addReplyBool: RESP2 uses shared.cone / shared.czero.
        Reply::Bool(b) => out.put_slice(match (resp3, *b) {
            (true, true) => b"#t\r\n",
            (true, false) => b"#f\r\n",
            (false, true) => b":1\r\n",
            (false, false) => b":0\r\n",
        }),
        // addReplyVerbatim: "=<len+4>\r\nfmt:<text>\r\n"; RESP2 plain bulk.
        Reply::Verbatim(format, text) => {
            if resp3 {
                out.reserve(text.len() + 32);
                put_len_line(out, b'=', text.len().saturating_add(4));
                out.put_slice(format);
                out.put_u8(b':');
                out.put_slice(text);
                out.put_slice(CRLF);
            } else {
                put_bulk(out, text);
            }
        }
        // addReplyPushLen: RESP2 has no push type, pub/sub uses arrays.
        Reply::Push(items) => {
            put_len_line(out, if resp3 { b'>' } else { b'*' }, items.len());
            for item in items {
                encode(item, version, out);
            }
        }
        // addReplyBigNum.
        Reply::BigNumber(n) => {
            if resp3 {
                put_line(out, b'(', n);
            } else {
                put_bulk(out, n);
            }
        }
        Reply::Raw(raw) => out.put_slice(raw),
    }
}

/// Payloads up to this size are assembled on the stack and copied into the
/// output with one `put_slice` (each `BytesMut` write re-checks capacity, so
/// one copy beats three for the common small reply).
const SMALL: usize = 64;

/// `<prefix><text>\r\n`, with any CR or LF in `text` written as a space.
fn put_line(out: &mut BytesMut, prefix: u8, text: &[u8]) {
    let clean = !text.iter().any(|&b| b == b'\r' || b == b'\n');
    if clean && text.len() <= SMALL {
        let mut tmp = [0u8; SMALL + 3];
        tmp[0] = prefix;
        let end = 1 + text.len();
        tmp[1..end].copy_from_slice(text);
        tmp[end..end + 2].copy_from_slice(CRLF);
        out.put_slice(&tmp[..end + 2]);
        return;
    }
    out.reserve(text.len() + 3);
    out.put_u8(prefix);
    if clean {
        out.put_slice(text);
    } else {
        for &b in text {
            out.put_u8(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
    }
    out.put_slice(CRLF);
}

/// `$<len>\r\n<data>\r\n`, reserving the whole element up front.
fn put_bulk(out: &mut BytesMut, data: &[u8]) {
    if data.len() <= SMALL {
        // "$" + at most 2 length digits + CRLF + data + CRLF.
        let mut tmp = [0u8; SMALL + 7];
        let n = data.len();
        let mut i = 0;
        tmp[i] = b'$';
        i += 1;
        if n >= 10 {
            tmp[i] = b'0' + (n / 10) as u8;
            i += 1;
        }
        tmp[i] = b'0' + (n % 10) as u8;
        tmp[i + 1..i + 3].copy_from_slice(CRLF);
        i += 3;
        tmp[i..i + n].copy_from_slice(data);
        i += n;
        tmp[i..i + 2].copy_from_slice(CRLF);
        out.put_slice(&tmp[..i + 2]);
        return;
    }
    out.reserve(data.len() + 1 + 20 + 4);
    put_len_line(out, b'$', data.len());
    out.put_slice(data);
    out.put_slice(CRLF);
}

/// `<prefix><n>\r\n` for an unsigned length (addReplyAggregateLen).
fn put_len_line(out: &mut BytesMut, prefix: u8, n: usize) {
    // usize is at most 64 bits on every supported target.
    let n = u64::try_from(n).unwrap_or(u64::MAX);
    let mut buf = [0u8; 24];
    let start = u64_digits(n, &mut buf);
    finish_line(out, prefix, &mut buf, start);
}

/// `<prefix><n>\r\n` for a signed integer (addReplyLongLongWithPrefix).
fn put_int_line(out: &mut BytesMut, prefix: u8, n: i64) {
    let mut buf = [0u8; 24];
    let mut start = u64_digits(n.unsigned_abs(), &mut buf);
    if n < 0 {
        start -= 1;
        buf[start] = b'-';
    }
    finish_line(out, prefix, &mut buf, start);
}

/// Writes `prefix`, `buf[start..DIGITS_END]` and CRLF as one slice copy.
/// `buf` layout: digits end at index 21, CRLF goes at 21..23, so the prefix
/// fits at `start - 1` (start >= 2 always: at most 19 digits plus a sign
/// or 20 digits for u64::MAX).
fn finish_line(out: &mut BytesMut, prefix: u8, buf: &mut [u8; 24], start: usize) {
    let start = start.saturating_sub(1);
    buf[start] = prefix;
    buf[DIGITS_END] = b'\r';
    buf[DIGITS_END + 1] = b'\n';
    out.put_slice(&buf[start..DIGITS_END + 2]);
}

/// Index one past the last digit written by [`u64_digits`].
const DIGITS_END: usize = 21;

/// "00" "01" .. "99": two digits per division halves the divisions.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes the decimal digits of `v` so they end just before
/// `buf[DIGITS_END]`; returns the index of the first digit (>= 1).
fn u64_digits(mut v: u64, buf: &mut [u8; 24]) -> usize {
    let mut i = DIGITS_END;
    while v >= 100 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if v >= 10 {
        let pair = v as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use proptest::prelude::*;

    fn enc(r: &Reply, v: RespVersion) -> Vec<u8> {
        let mut out = BytesMut::new();
        encode(r, v, &mut out);
        out.to_vec()
    }

    fn both(r: Reply, resp2: &[u8], resp3: &[u8]) {
        assert_eq!(
            enc(&r, RespVersion::Resp2),
            resp2,
            "RESP2 {r:?}: {:?}",
            String::from_utf8_lossy(&enc(&r, RespVersion::Resp2))
        );
        assert_eq!(
            enc(&r, RespVersion::Resp3),
            resp3,
            "RESP3 {r:?}: {:?}",
            String::from_utf8_lossy(&enc(&r, RespVersion::Resp3))
        );
    }

    fn b(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    #[test]
    fn simple_and_error() {
        both(Reply::ok(), b"+OK\r\n", b"+OK\r\n");
        both(Reply::Simple(b("a\r\nb")), b"+a  b\r\n", b"+a  b\r\n");
        both(
            Reply::error("ERR syntax error"),
            b"-ERR syntax error\r\n",
            b"-ERR syntax error\r\n",
        );
        both(
            Reply::error("ERR bad\r\nthing\n"),
            b"-ERR bad  thing \r\n",
            b"-ERR bad  thing \r\n",
        );
        both(Reply::error(""), b"-\r\n", b"-\r\n");
    }

    #[test]
    fn pairs_nest_only_in_resp3() {
        let p = Reply::Pairs(vec![(Reply::Bulk(b("a")), Reply::Double(1.5))]);
        both(
            p,
            b"*2\r\n$1\r\na\r\n$3\r\n1.5\r\n",
            b"*1\r\n*2\r\n$1\r\na\r\n,1.5\r\n",
        );
        both(Reply::Pairs(vec![]), b"*0\r\n", b"*0\r\n");
    }

    #[test]
    fn integers() {
        both(Reply::Integer(0), b":0\r\n", b":0\r\n");
        both(Reply::Integer(1), b":1\r\n", b":1\r\n");
        both(Reply::Integer(-1), b":-1\r\n", b":-1\r\n");
        both(Reply::Integer(10), b":10\r\n", b":10\r\n");
        both(Reply::Integer(99), b":99\r\n", b":99\r\n");
        both(Reply::Integer(100), b":100\r\n", b":100\r\n");
        both(
            Reply::Integer(i64::MAX),
            b":9223372036854775807\r\n",
            b":9223372036854775807\r\n",
        );
        both(
            Reply::Integer(i64::MIN),
            b":-9223372036854775808\r\n",
            b":-9223372036854775808\r\n",
        );
    }

    proptest! {
        #[test]
        fn integer_matches_std(n in any::<i64>()) {
            prop_assert_eq!(enc(&Reply::Integer(n), RespVersion::Resp2), format!(":{n}\r\n").into_bytes());
        }

        #[test]
        fn length_matches_std(n in any::<u64>()) {
            let mut out = BytesMut::new();
            put_len_line(&mut out, b'*', usize::try_from(n).unwrap_or(usize::MAX));
            prop_assert_eq!(out.to_vec(), format!("*{n}\r\n").into_bytes());
        }
    }

    #[test]
    fn bulk_and_nulls() {
        both(Reply::bulk_str("foo"), b"$3\r\nfoo\r\n", b"$3\r\nfoo\r\n");
        both(Reply::bulk_str(""), b"$0\r\n\r\n", b"$0\r\n\r\n");
        both(
            Reply::bulk(b("a\r\n\0b")),
            b"$5\r\na\r\n\0b\r\n",
            b"$5\r\na\r\n\0b\r\n",
        );
        both(Reply::Nil, b"$-1\r\n", b"_\r\n");
        both(Reply::NilArray, b"*-1\r\n", b"_\r\n");
    }

    #[test]
    fn aggregates() {
        both(Reply::Array(vec![]), b"*0\r\n", b"*0\r\n");
        both(
            Reply::Array(vec![Reply::Integer(1), Reply::bulk_str("x"), Reply::Nil]),
            b"*3\r\n:1\r\n$1\r\nx\r\n$-1\r\n",
            b"*3\r\n:1\r\n$1\r\nx\r\n_\r\n",
        );
        both(
            Reply::Map(vec![
                (Reply::bulk_str("a"), Reply::Integer(1)),
                (Reply::bulk_str("b"), Reply::Double(1.5)),
            ]),
            b"*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n$3\r\n1.5\r\n",
            b"%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n,1.5\r\n",
        );
        both(
            Reply::Set(vec![Reply::bulk_str("m")]),
            b"*1\r\n$1\r\nm\r\n",
            b"~1\r\n$1\r\nm\r\n",
        );
        both(
            Reply::Push(vec![Reply::bulk_str("message"), Reply::bulk_str("ch")]),
            b"*2\r\n$7\r\nmessage\r\n$2\r\nch\r\n",
            b">2\r\n$7\r\nmessage\r\n$2\r\nch\r\n",
        );
        both(
            Reply::Array(vec![Reply::Array(vec![Reply::Bool(true)]), Reply::NilArray]),
            b"*2\r\n*1\r\n:1\r\n*-1\r\n",
            b"*2\r\n*1\r\n#t\r\n_\r\n",
        );
    }

    #[test]
    fn scalars_resp3() {
        both(Reply::Double(1.5), b"$3\r\n1.5\r\n", b",1.5\r\n");
        both(Reply::Double(3.0), b"$1\r\n3\r\n", b",3\r\n");
        both(
            Reply::Double(0.1),
            b"$19\r\n0.10000000000000001\r\n",
            b",0.10000000000000001\r\n",
        );
        both(Reply::Double(1e20), b"$5\r\n1e+20\r\n", b",1e+20\r\n");
        both(Reply::Double(f64::INFINITY), b"$3\r\ninf\r\n", b",inf\r\n");
        both(
            Reply::Double(f64::NEG_INFINITY),
            b"$4\r\n-inf\r\n",
            b",-inf\r\n",
        );
        both(Reply::Bool(true), b":1\r\n", b"#t\r\n");
        both(Reply::Bool(false), b":0\r\n", b"#f\r\n");
        both(
            Reply::Verbatim(*b"txt", b("Some string")),
            b"$11\r\nSome string\r\n",
            b"=15\r\ntxt:Some string\r\n",
        );
        both(
            Reply::Verbatim(*b"mkd", b("")),
            b"$0\r\n\r\n",
            b"=4\r\nmkd:\r\n",
        );
        both(
            Reply::BigNumber(b("3492890328409238509324850943850943825024385")),
            b"$43\r\n3492890328409238509324850943850943825024385\r\n",
            b"(3492890328409238509324850943850943825024385\r\n",
        );
        both(Reply::Raw(b("+RAW\r\n")), b"+RAW\r\n", b"+RAW\r\n");
    }

    #[test]
    fn appends_to_existing_output() {
        let mut out = BytesMut::from(&b"+A\r\n"[..]);
        encode(&Reply::Integer(7), RespVersion::Resp2, &mut out);
        assert_eq!(&out[..], b"+A\r\n:7\r\n");
    }

    /// Minimal RESP reader used to check that encoder output re-parses into
    /// the same tree (round trip). Returns the reply and bytes consumed.
    fn read_reply(input: &[u8]) -> Option<(Reply, usize)> {
        let line_end = input.windows(2).position(|w| w == b"\r\n")?;
        let line = &input[1..line_end];
        let after = line_end + 2;
        let text = std::str::from_utf8(line).ok();
        let num = || text?.parse::<i64>().ok();
        let read_n = |n: i64, mut at: usize| -> Option<(Vec<Reply>, usize)> {
            let mut items = Vec::new();
            for _ in 0..n {
                let (r, used) = read_reply(&input[at..])?;
                items.push(r);
                at += used;
            }
            Some((items, at))
        };
        match input[0] {
            b'+' => Some((Reply::Simple(Bytes::copy_from_slice(line)), after)),
            b'-' => Some((Reply::Error(Bytes::copy_from_slice(line)), after)),
            b':' => Some((Reply::Integer(num()?), after)),
            b'$' => {
                let n = num()?;
                if n < 0 {
                    return Some((Reply::Nil, after));
                }
                let n = n as usize;
                Some((
                    Reply::Bulk(Bytes::copy_from_slice(&input[after..after + n])),
                    after + n + 2,
                ))
            }
            b'*' | b'~' | b'>' => {
                let n = num()?;
                if n < 0 {
                    return Some((Reply::NilArray, after));
                }
                let (items, at) = read_n(n, after)?;
                Some((
                    match input[0] {
                        b'*' => Reply::Array(items),
                        b'~' => Reply::Set(items),
                        _ => Reply::Push(items),
                    },
                    at,
                ))
            }
            b'%' => {
                let (items, at) = read_n(num()? * 2, after)?;
                let mut pairs = Vec::new();
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                Some((Reply::Map(pairs), at))
            }
            b'_' => Some((Reply::Nil, after)),
            b'#' => Some((Reply::Bool(line == b"t"), after)),
            b',' => Some((Reply::Double(text?.parse().ok()?), after)),
            b'(' => Some((Reply::BigNumber(Bytes::copy_from_slice(line)), after)),
            b'=' => {
                let n = num()? as usize;
                let body = &input[after..after + n];
                let mut fmt = [0u8; 3];
                fmt.copy_from_slice(&body[..3]);
                Some((
                    Reply::Verbatim(fmt, Bytes::copy_from_slice(&body[4..])),
                    after + n + 2,
                ))
            }
            _ => None,
        }
    }

    fn arb_reply() -> impl Strategy<Value = Reply> {
        let leaf = prop_oneof![
            "[a-zA-Z0-9 ]{0,12}".prop_map(|s| Reply::Simple(Bytes::from(s))),
            "[A-Z]{1,6} [a-z ]{0,12}".prop_map(|s| Reply::Error(Bytes::from(s))),
            any::<i64>().prop_map(Reply::Integer),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(|v| Reply::Bulk(Bytes::from(v))),
            Just(Reply::Nil),
            any::<bool>().prop_map(Reply::Bool),
            (-1e30f64..1e30).prop_map(Reply::Double),
            "[0-9]{1,40}".prop_map(|s| Reply::BigNumber(Bytes::from(s))),
            proptest::collection::vec(any::<u8>(), 0..40)
                .prop_map(|v| Reply::Verbatim(*b"txt", Bytes::from(v))),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Reply::Array),
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Reply::Set),
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Reply::Push),
                proptest::collection::vec((inner.clone(), inner), 0..4).prop_map(Reply::Map),
            ]
        })
    }

    proptest! {
        /// RESP3 keeps every type, so decoding the encoding gives the input
        /// back exactly (doubles included: 17 digits round-trip an f64).
        #[test]
        fn resp3_round_trip(r in arb_reply()) {
            let bytes = enc(&r, RespVersion::Resp3);
            let (back, used) = read_reply(&bytes).unwrap();
            prop_assert_eq!(used, bytes.len());
            prop_assert_eq!(back, r);
        }

        /// RESP2 output is always one well-formed RESP2 value.
        #[test]
        fn resp2_well_formed(r in arb_reply()) {
            let bytes = enc(&r, RespVersion::Resp2);
            let (_, used) = read_reply(&bytes).unwrap();
            prop_assert_eq!(used, bytes.len());
        }
    }

    #[test]
    fn round_trip_each_kind_resp3() {
        let kinds = vec![
            Reply::ok(),
            Reply::error("ERR x"),
            Reply::Integer(-42),
            Reply::bulk_str("hello"),
            Reply::Nil,
            Reply::Array(vec![Reply::Integer(1)]),
            Reply::Map(vec![(Reply::bulk_str("k"), Reply::bulk_str("v"))]),
            Reply::Set(vec![Reply::bulk_str("s")]),
            Reply::Double(-2.25),
            Reply::Bool(false),
            Reply::Verbatim(*b"txt", b("v")),
            Reply::Push(vec![Reply::bulk_str("p")]),
            Reply::BigNumber(b("12345678901234567890")),
        ];
        for r in kinds {
            let bytes = enc(&r, RespVersion::Resp3);
            let (back, used) = read_reply(&bytes).unwrap();
            assert_eq!(used, bytes.len());
            assert_eq!(back, r);
        }
    }
}

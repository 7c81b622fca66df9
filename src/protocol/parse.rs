//! Request decoder: client bytes to command argument vectors (sans-IO codec,
//! runs on every shard).
//!
//! This file owns request framing: choosing multibulk vs inline per command
//! (Redis `processInputBuffer`), the multibulk state machine
//! (`processMultibulkBuffer`), finding inline lines (`processInlineBuffer`;
//! splitting them is `inline.rs`), the size limits, and resumable progress so
//! a command that arrives over many reads is scanned once in total.

use super::error::ProtocolError;
use super::inline;
use bytes::{Buf, Bytes, BytesMut};

/// Redis `PROTO_INLINE_MAX_SIZE`.
const DEFAULT_MAX_INLINE: usize = 64 * 1024;
/// Redis's default `proto-max-bulk-len` (512 MiB).
const DEFAULT_MAX_BULK: u64 = 512 * 1024 * 1024;
/// `processMultibulkBuffer` rejects counts above `INT_MAX`.
const MAX_MULTIBULK: i64 = i32::MAX as i64;
/// Limits applied while `authRequired(c)` (CVE-2021-32675 hardening).
const UNAUTH_MAX_MULTIBULK: i64 = 10;
const UNAUTH_MAX_BULK: i64 = 16 * 1024;
/// Never trust a client-sent count for preallocation (Redis does the same:
/// `argv_len = min(multibulklen, 1024)`).
const PREALLOC_CAP: usize = 1024;
/// Span buffers above this capacity are released after the command, so one
/// huge command does not pin memory for the connection's lifetime.
const RETAINED_SPANS: usize = 4096;

/// Limits applied while decoding.
#[derive(Clone, Debug)]
pub struct Limits {
    /// `proto-max-bulk-len`: largest accepted `$<len>`. Default 512 MiB.
    pub proto_max_bulk_len: u64,
    /// `PROTO_INLINE_MAX_SIZE` (64 KiB): the most bytes buffered for an
    /// inline line without `\n`, or a `*N` / `$N` header without `\r`.
    pub max_inline_len: usize,
    /// `false` while the connection still has to AUTH (Redis `authRequired`):
    /// multibulk counts above 10 and bulk lengths above 16384 are refused.
    /// Default `true` (Redis's default user has no password).
    pub authenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            proto_max_bulk_len: DEFAULT_MAX_BULK,
            max_inline_len: DEFAULT_MAX_INLINE,
            authenticated: true,
        }
    }
}

/// Incremental request decoder; one per connection.
///
/// Contract with the caller: keep passing the same `BytesMut`, only
/// appending to it between calls (reallocation by `reserve` is fine). The
/// bytes of a command that is still incomplete stay at the front of the
/// buffer; the decoder remembers how far it has parsed them (and how far it
/// has searched for a line end), so each byte is examined once no matter how
/// many reads a command takes. After an `Err` the connection must be closed
/// (Redis sets `CLIENT_CLOSE_AFTER_REPLY`); the decoder resets itself and
/// leaves the buffer starting at the offending command (for an inline line
/// with unbalanced quotes: just after that line), e.g. for logging.
#[derive(Debug, Default)]
pub struct RequestDecoder {
    /// Arguments still to read in the current multibulk; 0 between commands.
    remaining: usize,
    /// Length of the argument whose `$<len>` header has been read but whose
    /// payload has not fully arrived (Redis `c->bulklen`).
    bulk_len: Option<usize>,
    /// Offset of the first unparsed byte of the current multibulk.
    pos: usize,
    /// Offset up to which a line terminator has been searched for in vain;
    /// the next search resumes here.
    scanned: usize,
    /// `(start, end)` offsets of the completed arguments of the current
    /// multibulk; reused across commands.
    spans: Vec<(usize, usize)>,
    /// Value reported by `bytes_wanted`.
    wanted: usize,
}

/// Redis `string2ll`: strict decimal `long long`. No sign other than a
/// leading `-`, no leading zeros (except "0" itself), no spaces, no `-0`,
/// and fewer than 21 bytes (`LONG_STR_SIZE`).
fn parse_strict_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let (&first, rest) = digits.split_first()?;
    if !(b'1'..=b'9').contains(&first) {
        return None;
    }
    let mut v = u64::from(first - b'0');
    for &d in rest {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        // Allows i64::MIN, whose magnitude is i64::MAX + 1.
        0i64.checked_sub_unsigned(v)
    } else {
        i64::try_from(v).ok()
    }
}

fn find_byte(buf: &[u8], from: usize, needle: u8) -> Option<usize> {
    buf.get(from..)?
        .iter()
        .position(|&b| b == needle)
        .map(|p| p + from)
}

/// Most arguments the fast path frames (`SET k v EX n NX GET` has 7; MSET
/// of 10 keys 21); longer commands take the general path.
const FAST_MAX_ARGS: usize = 24;

/// A `*<n>` or `$<n>` header at `at` in the fast path's narrow form: 1 to 9
/// digits, no sign, no leading zero (but "0" itself), then `\r` and at least
/// one more byte (skipped unchecked, as Redis does). Returns the number and
/// where the next line starts; `None` for anything else, including an
/// incomplete line (the general path then decides).
#[inline]
fn fast_header(buf: &[u8], at: usize, lead: u8) -> Option<(usize, usize)> {
    // One or two digits (nearly every header): no loop.
    if let Some(&[l, d0, b2, b3, ..]) = buf.get(at..) {
        let (v0, v1) = (d0.wrapping_sub(b'0'), b2.wrapping_sub(b'0'));
        if l == lead && v0 <= 9 {
            if b2 == b'\r' {
                return Some((usize::from(v0), at + 4));
            }
            if b3 == b'\r' && v1 <= 9 && v0 != 0 && at + 5 <= buf.len() {
                return Some((usize::from(v0) * 10 + usize::from(v1), at + 5));
            }
        }
    }
    header_digits(buf, at, lead)
}

/// `fast_header` for any number of digits, one at a time.
fn header_digits(buf: &[u8], at: usize, lead: u8) -> Option<(usize, usize)> {
    if *buf.get(at)? != lead {
        return None;
    }
    let digits = buf.get(at + 1..)?;
    let mut n = 0usize;
    let mut i = 0;
    loop {
        let d = *digits.get(i)?;
        if d == b'\r' {
            break;
        }
        let v = d.wrapping_sub(b'0');
        if v > 9 || i == 9 || (i == 1 && n == 0) {
            return None;
        }
        n = n * 10 + usize::from(v);
        i += 1;
    }
    let next = at + 1 + i + 2;
    (i > 0 && next <= buf.len()).then_some((n, next))
}

/// Frames one complete multibulk of at most `FAST_MAX_ARGS` arguments from
/// the front of `buf`, within the limits, or returns `None` and consumes
/// nothing (incomplete, malformed, oversized: the general path handles it
/// and produces the same result or error it always would).
/// `spans` is scratch space (the decoder's, left empty). Returns whether it
/// framed a command (its arguments appended to `args`).
fn complete_multibulk(
    buf: &mut BytesMut,
    limits: &Limits,
    spans: &mut Vec<(usize, usize)>,
    args: &mut Vec<Bytes>,
) -> bool {
    scan_multibulk(buf, limits, spans).is_some_and(|end| {
        let frame = buf.split_to(end).freeze();
        args.extend(spans.iter().map(|&(start, end)| frame.slice(start..end)));
        spans.clear();
        true
    })
}

/// The scan behind `complete_multibulk`: fills `spans` and returns the
/// command's length, or `None` (nothing consumed).
fn scan_multibulk(buf: &[u8], limits: &Limits, spans: &mut Vec<(usize, usize)>) -> Option<usize> {
    let (count, mut pos) = fast_header(buf, 0, b'*')?;
    if count == 0 || count > FAST_MAX_ARGS {
        return None;
    }
    if count as i64 > UNAUTH_MAX_MULTIBULK && !limits.authenticated {
        return None;
    }
    let max_bulk = if limits.authenticated {
        limits.proto_max_bulk_len
    } else {
        limits.proto_max_bulk_len.min(UNAUTH_MAX_BULK as u64)
    };
    spans.clear();
    for _ in 0..count {
        let (len, start) = fast_header(buf, pos, b'$')?;
        if len as u64 > max_bulk {
            return None;
        }
        let end = start + len;
        if end + 2 > buf.len() {
            return None;
        }
        spans.push((start, end));
        pos = end + 2;
    }
    Some(pos)
}

impl RequestDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many more bytes the argument currently being received needs
    /// (payload plus its trailing CRLF), or 0 when no bulk header is pending.
    /// Lets the caller `reserve` once for a big value instead of growing the
    /// read buffer step by step (Redis's `PROTO_MBULK_BIG_ARG` handling).
    ///
    /// This is a client-sent number (up to `proto_max_bulk_len`): Redis
    /// only pre-sizes for arguments of 32 KiB or more, and a caller may
    /// prefer to cap the reservation and let the buffer grow past it.
    pub fn bytes_wanted(&self) -> usize {
        self.wanted
    }

    /// Decodes the next complete command from the front of `buf`, consuming
    /// its bytes.
    ///
    /// `Ok(None)`: more bytes are needed (an incomplete command is never an
    /// error; its bytes stay in `buf`). Empty inline lines and `*0` / `*-N`
    /// multibulks are consumed and skipped, as Redis does. Arguments are
    /// zero-copy slices of the buffer: they keep the read buffer's
    /// allocation alive, so anything retained long-term (a stored value)
    /// should be copied rather than kept as the returned `Bytes`.
    pub fn decode(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let mut args = Vec::new();
        Ok(self.decode_into(buf, limits, &mut args)?.then_some(args))
    }

    /// `decode` into a caller's vector (cleared first), so a connection
    /// reuses one allocation for every command: `Ok(true)` when `args`
    /// holds the next command.
    pub fn decode_into(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
        args: &mut Vec<Bytes>,
    ) -> Result<bool, ProtocolError> {
        args.clear();
        // The saved offsets are only meaningful if the caller kept the
        // contract; if the buffer shrank, start over rather than misparse.
        if self.pos > buf.len() || self.scanned > buf.len() {
            self.reset();
        }
        // Between commands, a small multibulk that is already complete (the
        // pipelined common case) is framed in one pass.
        if self.remaining == 0
            && self.scanned == 0
            && complete_multibulk(buf, limits, &mut self.spans, args)
        {
            return Ok(true);
        }
        match self.decode_general(buf, limits)? {
            Some(decoded) => {
                *args = decoded;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Looks ahead without consuming: calls `f(name, first_arg, second_arg)` for each of
    /// the first `max` complete small multibulks at the front of `buf` (the
    /// commands the next `decode_into` calls will return), stopping at the
    /// first one the fast path would not frame. Nothing when the decoder is
    /// inside a command. Lets a connection prefetch the keys of a pipeline
    /// before running it; the commands are decoded again, for real, later.
    pub fn peek_ahead<'a>(
        &mut self,
        buf: &'a [u8],
        limits: &Limits,
        max: usize,
        mut f: impl FnMut(&'a [u8], Option<&'a [u8]>, Option<&'a [u8]>),
    ) {
        if self.remaining != 0 || self.scanned != 0 {
            return;
        }
        let mut at = 0;
        for _ in 0..max {
            let Some(rest) = buf.get(at..) else { break };
            let Some(len) = scan_multibulk(rest, limits, &mut self.spans) else {
                break;
            };
            let arg = |i: usize| self.spans.get(i).map(|&(s, e)| &rest[s..e]);
            if let Some(name) = arg(0) {
                f(name, arg(1), arg(2));
            }
            at += len;
        }
        self.spans.clear();
    }

    /// `decode` without the fast path (the resumable state machine alone).
    fn decode_general(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let result = self.decode_inner(buf, limits);
        match &result {
            Err(_) => self.reset(),
            Ok(_) => {
                self.wanted = match self.bulk_len {
                    Some(len) => self
                        .pos
                        .saturating_add(len)
                        .saturating_add(2)
                        .saturating_sub(buf.len()),
                    None => 0,
                };
            }
        }
        result
    }

    /// Forgets any partially parsed command (e.g. before reusing the decoder
    /// for a fresh buffer).
    pub fn reset(&mut self) {
        self.remaining = 0;
        self.bulk_len = None;
        self.pos = 0;
        self.scanned = 0;
        self.spans.clear();
        self.wanted = 0;
    }

    fn decode_inner(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        loop {
            if self.remaining == 0 {
                // Between commands (processInputBuffer picks the request
                // type from the first byte).
                let Some(&first) = buf.first() else {
                    return Ok(None);
                };
                if first != b'*' {
                    match self.decode_inline(buf, limits)? {
                        Some(args) if args.is_empty() => continue,
                        other => return Ok(other),
                    }
                }
                if !self.read_multibulk_count(buf, limits)? {
                    return Ok(None);
                }
                if self.remaining == 0 {
                    // "*0" / "*-1": consumed, nothing to run.
                    continue;
                }
            }
            return self.read_bulks(buf, limits);
        }
    }

    /// `processInlineBuffer`: one line ending at `\n` (a preceding `\r` is
    /// dropped). Returns `Some(vec![])` for a blank line.
    fn decode_inline(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let Some(newline) = find_byte(buf, self.scanned, b'\n') else {
            // Redis only errors when no newline is buffered yet; a longer
            // line whose newline arrived in the same read is accepted.
            if buf.len() > limits.max_inline_len {
                return Err(ProtocolError::TooBigInlineRequest);
            }
            self.scanned = buf.len();
            return Ok(None);
        };
        self.scanned = 0;
        let content_len = match newline.checked_sub(1) {
            Some(cr) if buf.get(cr) == Some(&b'\r') => cr,
            _ => newline,
        };
        if content_len == 0 {
            buf.advance(newline + 1);
            return Ok(Some(Vec::new()));
        }
        // `newline < buf.len()`, so this split is in bounds.
        let mut line = buf.split_to(newline + 1).freeze();
        line.truncate(content_len);
        inline::split_args(&line).map(Some)
    }

    /// Finds the `\r` that ends a header line starting at `start`, the way
    /// `processMultibulkBuffer` does: `strchr(..., '\r')`, then "buffer
    /// should also contain \n", which only checks that *some* byte follows
    /// the `\r` (that byte is skipped without being checked).
    ///
    /// `Ok(None)` means wait for more bytes; too long a line without `\r` is
    /// `too_big`.
    fn find_header_end(
        &mut self,
        buf: &[u8],
        start: usize,
        limits: &Limits,
        too_big: ProtocolError,
    ) -> Result<Option<usize>, ProtocolError> {
        match find_byte(buf, self.scanned.max(start), b'\r') {
            None => {
                if buf.len().saturating_sub(start) > limits.max_inline_len {
                    return Err(too_big);
                }
                self.scanned = buf.len();
                Ok(None)
            }
            Some(cr) if cr + 1 >= buf.len() => {
                // Re-examine the '\r' once the next byte is here.
                self.scanned = cr;
                Ok(None)
            }
            Some(cr) => Ok(Some(cr)),
        }
    }

    /// The `*<count>` header. Returns false if more bytes are needed. On
    /// success either starts a multibulk (`remaining > 0`) or, for a count
    /// <= 0, consumes the header and leaves `remaining == 0`.
    fn read_multibulk_count(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<bool, ProtocolError> {
        let Some(cr) = self.find_header_end(buf, 0, limits, ProtocolError::TooBigMbulkCount)?
        else {
            return Ok(false);
        };
        let count = buf
            .get(1..cr)
            .and_then(parse_strict_i64)
            .ok_or(ProtocolError::InvalidMultibulkLength)?;
        // Same order as Redis: range first, then the unauthenticated cap.
        if count > MAX_MULTIBULK {
            return Err(ProtocolError::InvalidMultibulkLength);
        }
        if count > UNAUTH_MAX_MULTIBULK && !limits.authenticated {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        let header_end = cr + 2;
        if count <= 0 {
            // Redis returns C_OK with argc == 0 and resets the client: any
            // non-positive count (even "*-10") is silently skipped.
            buf.advance(header_end);
            self.scanned = 0;
            return Ok(true);
        }
        let count = usize::try_from(count).map_err(|_| ProtocolError::InvalidMultibulkLength)?;
        self.remaining = count;
        self.pos = header_end;
        self.scanned = header_end;
        self.spans.clear();
        self.spans.reserve(count.min(PREALLOC_CAP));
        Ok(true)
    }

    /// The `$<len>\r\n<payload>\r\n` loop of `processMultibulkBuffer`,
    /// resuming where the previous call stopped.
    fn read_bulks(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        while self.remaining > 0 {
            let len = match self.bulk_len {
                Some(len) => len,
                None => {
                    let Some(cr) = self.find_header_end(
                        buf,
                        self.pos,
                        limits,
                        ProtocolError::TooBigBulkCount,
                    )?
                    else {
                        return Ok(None);
                    };
                    // Checked only once the whole header line is here, as
                    // in Redis.
                    match buf.get(self.pos) {
                        Some(b'$') => {}
                        Some(&other) => return Err(ProtocolError::ExpectedDollar(other)),
                        None => return Ok(None),
                    }
                    let len = buf
                        .get(self.pos + 1..cr)
                        .and_then(parse_strict_i64)
                        .ok_or(ProtocolError::InvalidBulkLength)?;
                    if len < 0 || len.unsigned_abs() > limits.proto_max_bulk_len {
                        return Err(ProtocolError::InvalidBulkLength);
                    }
                    if len > UNAUTH_MAX_BULK && !limits.authenticated {
                        return Err(ProtocolError::UnauthenticatedBulkLength);
                    }
                    let len = usize::try_from(len).map_err(|_| ProtocolError::InvalidBulkLength)?;
                    self.pos = cr + 2;
                    self.scanned = self.pos;
                    self.bulk_len = Some(len);
                    len
                }
            };
            // Payload plus two trailing bytes. Like Redis (`qb_pos +=
            // bulklen+2`) the two bytes are skipped without checking that
            // they are "\r\n".
            let end = self.pos.saturating_add(len);
            if buf.len() < end.saturating_add(2) {
                return Ok(None);
            }
            self.spans.push((self.pos, end));
            self.pos = end + 2;
            self.scanned = self.pos;
            self.bulk_len = None;
            self.remaining -= 1;
        }

        // Complete: detach the whole command once and hand out slices of it.
        // `pos <= buf.len()` (checked above) and every span lies below `pos`.
        let frame = buf.split_to(self.pos).freeze();
        let args = self
            .spans
            .iter()
            .map(|&(start, end)| frame.slice(start..end))
            .collect();
        self.spans.clear();
        if self.spans.capacity() > RETAINED_SPANS {
            self.spans.shrink_to(PREALLOC_CAP);
        }
        self.pos = 0;
        self.scanned = 0;
        Ok(Some(args))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::{Duration, Instant};

    type Cmd = Vec<Vec<u8>>;

    fn limits() -> Limits {
        Limits::default()
    }

    type Outcome = (Vec<Cmd>, Option<ProtocolError>, usize);
    type Step = fn(
        &mut RequestDecoder,
        &mut BytesMut,
        &Limits,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError>;

    /// Decodes everything currently decodable from `input` in one buffer.
    fn decode_all(input: &[u8], limits: &Limits) -> Outcome {
        decode_all_by(input, limits, RequestDecoder::decode)
    }

    /// `decode_all` through the general state machine only (no fast path).
    fn decode_all_general(input: &[u8], limits: &Limits) -> Outcome {
        decode_all_by(input, limits, RequestDecoder::decode_general)
    }

    fn decode_all_by(input: &[u8], limits: &Limits, step: Step) -> Outcome {
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(input);
        let mut cmds = Vec::new();
        loop {
            match step(&mut dec, &mut buf, limits) {
                Ok(Some(args)) => cmds.push(args.iter().map(|a| a.to_vec()).collect()),
                Ok(None) => return (cmds, None, buf.len()),
                Err(e) => return (cmds, Some(e), buf.len()),
            }
        }
    }

    /// Feeds `input` in the given chunk sizes, decoding after each chunk.
    fn decode_chunked(
        input: &[u8],
        chunks: &[usize],
        limits: &Limits,
    ) -> (Vec<Cmd>, Option<ProtocolError>) {
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::new();
        let mut cmds = Vec::new();
        let mut fed = 0;
        let mut sizes = chunks.iter().copied().cycle();
        while fed < input.len() {
            let n = sizes.next().unwrap_or(1).max(1).min(input.len() - fed);
            buf.extend_from_slice(&input[fed..fed + n]);
            fed += n;
            loop {
                let before = buf.len();
                match dec.decode(&mut buf, limits) {
                    Ok(Some(args)) => {
                        assert!(buf.len() < before, "a command must consume bytes");
                        cmds.push(args.iter().map(|a| a.to_vec()).collect());
                    }
                    Ok(None) => break,
                    Err(e) => return (cmds, Some(e)),
                }
            }
        }
        (cmds, None)
    }

    fn one(input: &[u8]) -> Result<Option<Cmd>, ProtocolError> {
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(input);
        dec.decode(&mut buf, &limits())
            .map(|o| o.map(|args| args.iter().map(|a| a.to_vec()).collect()))
    }

    fn cmd(parts: &[&[u8]]) -> Cmd {
        parts.iter().map(|p| p.to_vec()).collect()
    }

    fn multibulk(args: &[&[u8]]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    #[test]
    fn strict_integer_parsing() {
        assert_eq!(parse_strict_i64(b"0"), Some(0));
        assert_eq!(parse_strict_i64(b"12"), Some(12));
        assert_eq!(parse_strict_i64(b"-1"), Some(-1));
        assert_eq!(parse_strict_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_strict_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"00",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"1a",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"18446744073709551616",
            b"000000000000000000001",
        ] {
            assert_eq!(
                parse_strict_i64(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn simple_multibulk() {
        assert_eq!(
            one(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n"),
            Ok(Some(cmd(&[b"SET", b"k", b"value"])))
        );
        assert_eq!(one(b"*1\r\n$0\r\n\r\n"), Ok(Some(cmd(&[b""]))));
    }

    #[test]
    fn peek_ahead_sees_the_complete_commands_and_consumes_nothing() {
        let mut input = multibulk(&[b"SET", b"k1", b"v"]);
        input.extend(multibulk(&[b"PING"]));
        input.extend(multibulk(&[b"GET", b"k2"]));
        input.extend(b"*2\r\n$3\r\nGET\r\n$2\r\nk");
        let mut seen = Vec::new();
        let mut decoder = RequestDecoder::new();
        decoder.peek_ahead(&input, &limits(), 8, |name, first, second| {
            let owned = |a: Option<&[u8]>| a.map(<[u8]>::to_vec);
            seen.push((name.to_vec(), owned(first), owned(second)));
        });
        type Seen = (Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);
        let want: Vec<Seen> = vec![
            (b"SET".to_vec(), Some(b"k1".to_vec()), Some(b"v".to_vec())),
            (b"PING".to_vec(), None, None),
            (b"GET".to_vec(), Some(b"k2".to_vec()), None),
        ];
        assert_eq!(seen, want);
        // At most `max`, and the decoder then decodes from the start.
        let mut count = 0;
        decoder.peek_ahead(&input, &limits(), 2, |_, _, _| count += 1);
        assert_eq!(count, 2);
        let mut buf = BytesMut::from(&input[..]);
        let mut args = Vec::new();
        assert_eq!(
            decoder.decode_into(&mut buf, &limits(), &mut args),
            Ok(true)
        );
        assert_eq!(args, cmd(&[b"SET", b"k1", b"v"]));
        // Inside a partly received command, it looks at nothing.
        let mut partial = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n"[..]);
        assert_eq!(
            decoder.decode_into(&mut partial, &limits(), &mut args),
            Ok(false)
        );
        partial.extend_from_slice(&multibulk(&[b"GET", b"k"]));
        let mut any = false;
        decoder.peek_ahead(&partial, &limits(), 8, |_, _, _| any = true);
        assert!(!any);
    }

    #[test]
    fn incomplete_is_not_an_error() {
        let full = multibulk(&[b"SET", b"key", b"value"]);
        for cut in 0..full.len() {
            assert_eq!(one(&full[..cut]), Ok(None), "cut at {cut}");
        }
    }

    #[test]
    fn inline_commands() {
        assert_eq!(one(b"PING\r\n"), Ok(Some(cmd(&[b"PING"]))));
        assert_eq!(one(b"PING\n"), Ok(Some(cmd(&[b"PING"]))));
        assert_eq!(one(b"PING"), Ok(None));
        assert_eq!(
            one(b"SET k \"a b\"\r\n"),
            Ok(Some(cmd(&[b"SET", b"k", b"a b"])))
        );
        // Only one '\r' is stripped; a second is a blank.
        assert_eq!(one(b"GET k\r\r\n"), Ok(Some(cmd(&[b"GET", b"k"]))));
        assert_eq!(one(b"SET k \"v\r\n"), Err(ProtocolError::UnbalancedQuotes));
    }

    #[test]
    fn empty_lines_and_empty_multibulks_are_skipped() {
        let (cmds, err, rest) = decode_all(
            b"\r\n\n   \r\n*0\r\n*-1\r\n*-10\r\nPING\r\n*1\r\n$4\r\nPING\r\n",
            &limits(),
        );
        assert_eq!(err, None);
        assert_eq!(rest, 0);
        assert_eq!(cmds, vec![cmd(&[b"PING"]), cmd(&[b"PING"])]);
        // Skipped input is consumed even when nothing follows.
        let (cmds, err, rest) = decode_all(b"\r\n*0\r\n", &limits());
        assert_eq!((cmds.len(), err, rest), (0, None, 0));
    }

    #[test]
    fn multibulk_count_errors() {
        assert_eq!(one(b"*x\r\n"), Err(ProtocolError::InvalidMultibulkLength));
        assert_eq!(one(b"*\r\n"), Err(ProtocolError::InvalidMultibulkLength));
        assert_eq!(one(b"*01\r\n"), Err(ProtocolError::InvalidMultibulkLength));
        assert_eq!(one(b"*-0\r\n"), Err(ProtocolError::InvalidMultibulkLength));
        assert_eq!(one(b"*1 \r\n"), Err(ProtocolError::InvalidMultibulkLength));
        // Over INT_MAX (Redis's tests send *3000000000).
        assert_eq!(
            one(b"*3000000000\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(
            one(b"*99999999999999999999999\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        // INT_MAX itself is accepted (and nothing is preallocated for it).
        assert_eq!(one(b"*2147483647\r\n"), Ok(None));
        assert_eq!(
            one(b"*2147483648\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
    }

    #[test]
    fn too_big_count_strings() {
        let max = limits().max_inline_len;
        let mut header = b"*".to_vec();
        header.resize(max, b'1');
        // Exactly max bytes without '\r' is still "need more".
        assert_eq!(one(&header), Ok(None));
        header.push(b'1');
        assert_eq!(one(&header), Err(ProtocolError::TooBigMbulkCount));

        let mut bulk = b"*1\r\n$".to_vec();
        bulk.resize(4 + max, b'1');
        assert_eq!(one(&bulk), Ok(None));
        bulk.push(b'1');
        assert_eq!(one(&bulk), Err(ProtocolError::TooBigBulkCount));

        let mut inline = vec![b'a'; max];
        assert_eq!(one(&inline), Ok(None));
        inline.push(b'a');
        assert_eq!(one(&inline), Err(ProtocolError::TooBigInlineRequest));

        // Like Redis, a long line whose newline is already buffered passes
        // (the limit guards against waiting forever, not line length).
        let mut long_line = vec![b'a'; max + 10];
        long_line.extend_from_slice(b"\r\n");
        assert_eq!(one(&long_line).map(|c| c.map(|c| c.len())), Ok(Some(1)));
    }

    #[test]
    fn too_big_limit_is_configurable() {
        let small = Limits {
            max_inline_len: 8,
            ..Limits::default()
        };
        let (_, err, _) = decode_all(b"123456789", &small);
        assert_eq!(err, Some(ProtocolError::TooBigInlineRequest));
        let (_, err, _) = decode_all(b"*12345678", &small);
        assert_eq!(err, Some(ProtocolError::TooBigMbulkCount));
        let (_, err, _) = decode_all(b"*1\r\n$12345678", &small);
        assert_eq!(err, Some(ProtocolError::TooBigBulkCount));
    }

    #[test]
    fn expected_dollar() {
        // From Redis's own protocol tests.
        assert_eq!(
            one(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"),
            Err(ProtocolError::ExpectedDollar(b'f'))
        );
        assert_eq!(
            one(b"*1\r\n:1\r\n"),
            Err(ProtocolError::ExpectedDollar(b':'))
        );
        // An empty header line: the offending byte is the '\r' itself.
        assert_eq!(
            one(b"*1\r\n\r\n"),
            Err(ProtocolError::ExpectedDollar(b'\r'))
        );
        // Not reported until the header line is complete.
        assert_eq!(one(b"*1\r\nfoo"), Ok(None));
    }

    #[test]
    fn bulk_length_errors() {
        for bad in [
            &b"*1\r\n$-1\r\n"[..],
            b"*1\r\n$-10\r\n",
            b"*1\r\n$x\r\n",
            b"*1\r\n$\r\n",
            b"*1\r\n$01\r\n",
            b"*1\r\n$-0\r\n",
            b"*1\r\n$9223372036854775808\r\n",
            b"*1\r\n$-9223372036854775808\r\n",
        ] {
            assert_eq!(
                one(bad),
                Err(ProtocolError::InvalidBulkLength),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn bulk_at_and_above_proto_max_bulk_len() {
        let l = Limits {
            proto_max_bulk_len: 16,
            ..Limits::default()
        };
        let at = multibulk(&[&[b'v'; 16]]);
        let (cmds, err, _) = decode_all(&at, &l);
        assert_eq!(err, None);
        assert_eq!(cmds, vec![vec![vec![b'v'; 16]]]);
        let (_, err, _) = decode_all(b"*1\r\n$17\r\n", &l);
        assert_eq!(err, Some(ProtocolError::InvalidBulkLength));

        // Default limit: 512 MiB header accepted (payload awaited), one more
        // byte refused.
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&b"*1\r\n$536870912\r\n"[..]);
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
        assert_eq!(dec.bytes_wanted(), 536_870_912 + 2);
        assert_eq!(
            one(b"*1\r\n$536870913\r\n"),
            Err(ProtocolError::InvalidBulkLength)
        );
    }

    #[test]
    fn unauthenticated_limits() {
        let unauth = Limits {
            authenticated: false,
            ..Limits::default()
        };
        let ten: Vec<&[u8]> = vec![b"x"; 10];
        let (cmds, err, _) = decode_all(&multibulk(&ten), &unauth);
        assert_eq!((cmds.len(), err), (1, None));
        let (_, err, _) = decode_all(b"*11\r\n", &unauth);
        assert_eq!(err, Some(ProtocolError::UnauthenticatedMultibulkLength));
        // Range is checked before authentication.
        let (_, err, _) = decode_all(b"*3000000000\r\n", &unauth);
        assert_eq!(err, Some(ProtocolError::InvalidMultibulkLength));
        // Negative counts are still just skipped.
        let (_, err, rest) = decode_all(b"*-20\r\n", &unauth);
        assert_eq!((err, rest), (None, 0));

        let v = vec![b'v'; 16384];
        let (cmds, err, _) = decode_all(&multibulk(&[&v]), &unauth);
        assert_eq!((cmds.len(), err), (1, None));
        let (_, err, _) = decode_all(b"*1\r\n$16385\r\n", &unauth);
        assert_eq!(err, Some(ProtocolError::UnauthenticatedBulkLength));
        let (_, err, _) = decode_all(b"*1\r\n$-1\r\n", &unauth);
        assert_eq!(err, Some(ProtocolError::InvalidBulkLength));
        // Authenticated: same input is fine.
        assert_eq!(one(b"*11\r\n"), Ok(None));
        assert_eq!(one(b"*1\r\n$16385\r\n"), Ok(None));
    }

    #[test]
    fn terminators_are_not_validated_like_redis() {
        // processMultibulkBuffer skips the two bytes after a payload and the
        // byte after a header's '\r' without looking at them.
        assert_eq!(
            one(b"*2\r\n$3\r\nGETXY$1\r\nkZZ"),
            Ok(Some(cmd(&[b"GET", b"k"])))
        );
        assert_eq!(one(b"*1\rX$4\rYPING\r\n"), Ok(Some(cmd(&[b"PING"]))));
        // Payload present but its two trailing bytes are not: wait.
        assert_eq!(one(b"*1\r\n$4\r\nPING"), Ok(None));
        assert_eq!(one(b"*1\r\n$4\r\nPING\r"), Ok(None));
        // A header needs a byte after its '\r' before it is parsed.
        assert_eq!(one(b"*1\r"), Ok(None));
        // "\n" alone does not end a header line: Redis waits for '\r'.
        assert_eq!(one(b"*1\n$4\nPING\n"), Ok(None));
    }

    #[test]
    fn binary_safe_arguments() {
        let weird: &[u8] = b"a\r\nb\0c\r\n\x00\xff$*";
        let input = multibulk(&[b"SET", weird, b"\r\n"]);
        assert_eq!(one(&input), Ok(Some(cmd(&[b"SET", weird, b"\r\n"]))));
    }

    #[test]
    fn args_are_zero_copy_slices() {
        let mut buf = BytesMut::from(&multibulk(&[b"SET", b"key", b"value"])[..]);
        let base = buf.as_ptr() as usize;
        let args = RequestDecoder::new()
            .decode(&mut buf, &limits())
            .unwrap()
            .unwrap();
        // "*3\r\n$3\r\n" is 8 bytes; SET starts right after.
        assert_eq!(args[0].as_ptr() as usize, base + 8);
    }

    #[test]
    fn pipeline_of_10000_commands() {
        let mut input = Vec::new();
        for i in 0..10_000 {
            if i % 3 == 0 {
                input.extend_from_slice(format!("SET key{i} v{i}\r\n").as_bytes());
            } else {
                let k = format!("key{i}");
                let v = format!("v{i}");
                input.extend_from_slice(&multibulk(&[b"SET", k.as_bytes(), v.as_bytes()]));
            }
        }
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&input[..]);
        for i in 0..10_000 {
            let args = dec.decode(&mut buf, &limits()).unwrap().unwrap();
            assert_eq!(args.len(), 3);
            assert_eq!(&args[1][..], format!("key{i}").as_bytes());
            assert_eq!(&args[2][..], format!("v{i}").as_bytes());
        }
        assert!(buf.is_empty());
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
    }

    #[test]
    fn every_split_point_gives_same_result() {
        let mut input = multibulk(&[b"SET", b"k\r\n", b"", b"value"]);
        input.extend_from_slice(b"\r\nPING \"a b\"\r\n*0\r\n");
        input.extend_from_slice(&multibulk(&[b"GET", b"k"]));
        let want = vec![
            cmd(&[b"SET", b"k\r\n", b"", b"value"]),
            cmd(&[b"PING", b"a b"]),
            cmd(&[b"GET", b"k"]),
        ];
        let (whole, err, _) = decode_all(&input, &limits());
        assert_eq!((whole.clone(), err), (want.clone(), None));
        for cut in 0..=input.len() {
            let (got, err) = decode_chunked(&input, &[cut.max(1), input.len()], &limits());
            assert_eq!((got, err), (want.clone(), None), "split at {cut}");
        }
        // And byte by byte.
        assert_eq!(decode_chunked(&input, &[1], &limits()), (want, None));
    }

    #[test]
    fn huge_command_in_4k_chunks_is_linear() {
        fn run(n: usize) -> Duration {
            let mut input = format!("*{n}\r\n").into_bytes();
            for i in 0..n {
                let a = format!("arg{i}");
                input.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
            }
            let start = Instant::now();
            let mut dec = RequestDecoder::new();
            let mut buf = BytesMut::new();
            let mut got = None;
            for chunk in input.chunks(4096) {
                buf.extend_from_slice(chunk);
                if let Some(args) = dec.decode(&mut buf, &limits()).unwrap() {
                    got = Some(args);
                }
            }
            let elapsed = start.elapsed();
            let args = got.unwrap();
            assert_eq!(args.len(), n);
            assert_eq!(&args[n - 1][..], format!("arg{}", n - 1).as_bytes());
            assert!(buf.is_empty());
            elapsed
        }
        // Best of three, so a busy machine does not make a run look slow.
        let best = |n| (0..3).map(|_| run(n)).min().unwrap_or_default();
        let small = best(10_000);
        let big = best(100_000);
        // 10x the input must not take anywhere near 100x the time. Generous
        // bound to stay robust on a loaded CI machine.
        assert!(
            big < small * 40 + Duration::from_millis(50),
            "10k: {small:?}, 100k: {big:?}"
        );
    }

    #[test]
    fn big_bulk_in_many_reads_reports_bytes_wanted() {
        let value = vec![b'z'; 1 << 20];
        let input = multibulk(&[b"SET", b"k", &value]);
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::new();
        let mut fed = 0;
        let mut result = None;
        while fed < input.len() {
            let n = 1000.min(input.len() - fed);
            buf.extend_from_slice(&input[fed..fed + n]);
            fed += n;
            match dec.decode(&mut buf, &limits()).unwrap() {
                Some(args) => result = Some(args),
                None => {
                    if fed > 40 {
                        // Header of the value is parsed by now.
                        assert_eq!(dec.bytes_wanted(), input.len() - fed);
                    }
                }
            }
        }
        assert_eq!(dec.bytes_wanted(), 0);
        let args = result.unwrap();
        assert_eq!(args[2].len(), value.len());
    }

    #[test]
    fn error_resets_decoder() {
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&b"*2\r\n$1\r\na\r\n$x\r\n"[..]);
        assert_eq!(
            dec.decode(&mut buf, &limits()),
            Err(ProtocolError::InvalidBulkLength)
        );
        // Buffer left untouched; a fresh stream decodes normally.
        assert_eq!(buf.len(), 15);
        buf.clear();
        buf.extend_from_slice(b"PING\r\n");
        assert_eq!(
            dec.decode(&mut buf, &limits()).unwrap().unwrap(),
            vec![Bytes::from_static(b"PING")]
        );
    }

    #[test]
    fn fast_path_agrees_with_general_path() {
        let many: Vec<&[u8]> = vec![b"x"; FAST_MAX_ARGS + 1];
        let big = vec![b'v'; 20_000];
        let inputs: Vec<Vec<u8>> = vec![
            multibulk(&[b"SET", b"k", b"v"]),
            multibulk(&[b"GET", b""]),
            multibulk(&many),
            multibulk(&many[1..]),
            multibulk(&[b"SET", b"k", &big]),
            b"*01\r\n$1\r\na\r\n".to_vec(),
            b"*1\r\n$01\r\na\r\n".to_vec(),
            b"*1\r\n$-1\r\n".to_vec(),
            b"*1\r\n$1x\r\na\r\n".to_vec(),
            b"*1\r\n+1\r\na\r\n".to_vec(),
            b"*1\r\n$1234567890\r\n".to_vec(),
            b"*1\r\n$1\r\naXY*1\r\n$1\r\nb\r\n".to_vec(),
            b"*0\r\n*1\r\n$1\r\na\r\n".to_vec(),
            b"*1\r".to_vec(),
            b"*2\r\n$1\r\na\r\n$1\r".to_vec(),
        ];
        for authenticated in [true, false] {
            let l = Limits {
                authenticated,
                proto_max_bulk_len: 15_000,
                ..Limits::default()
            };
            for input in &inputs {
                assert_eq!(
                    decode_all(input, &l),
                    decode_all_general(input, &l),
                    "{:?}",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }

    #[test]
    fn shrunk_buffer_does_not_panic() {
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nfoo\r\n$3\r\nba"[..]);
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
        buf.clear();
        buf.extend_from_slice(b"*1\r\n$1\r\nx\r\n");
        assert_eq!(
            dec.decode(&mut buf, &limits()).unwrap().unwrap(),
            vec![Bytes::from_static(b"x")]
        );
    }

    fn arb_command() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 0..6)
                .prop_map(|args| {
                    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
                    multibulk(&refs)
                }),
            "[a-zA-Z \"'\\\\]{0,20}\r?\n".prop_map(|s| s.into_bytes()),
            Just(b"*0\r\n".to_vec()),
            Just(b"\r\n".to_vec()),
        ]
    }

    #[test]
    fn fast_header_shortcut_agrees_with_the_digit_loop() {
        let bytes = [b'*', b'$', b'0', b'1', b'9', b'\r', b'\n', b'x', b'-'];
        let mut input = Vec::new();
        // Every string of up to six of these bytes, at offsets 0 and 1.
        for len in 0..=6u32 {
            for mut code in 0..bytes.len().pow(len) {
                input.clear();
                for _ in 0..len {
                    input.push(bytes[code % bytes.len()]);
                    code /= bytes.len();
                }
                for at in 0..2 {
                    for lead in [b'*', b'$'] {
                        assert_eq!(
                            fast_header(&input, at, lead),
                            header_digits(&input, at, lead),
                            "{input:?} at {at}"
                        );
                    }
                }
            }
        }
    }

    proptest! {
        /// Arbitrary bytes with arbitrary splits: never panics, and chunked
        /// decoding agrees with one-shot decoding (inputs are far below the
        /// 64 KiB limits, whose outcome may legitimately depend on timing).
        #[test]
        fn arbitrary_bytes_never_panic(
            input in proptest::collection::vec(any::<u8>(), 0..300),
            chunks in proptest::collection::vec(1usize..40, 1..10),
        ) {
            let (whole, whole_err, _) = decode_all(&input, &limits());
            let (chunked, chunked_err) = decode_chunked(&input, &chunks, &limits());
            prop_assert_eq!(whole, chunked);
            prop_assert_eq!(whole_err, chunked_err);
        }

        /// Arbitrary bytes biased towards protocol-looking input.
        #[test]
        fn protocolish_bytes_never_panic(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just(b"*".to_vec()), Just(b"$".to_vec()), Just(b"\r\n".to_vec()),
                    Just(b"\r".to_vec()), Just(b"\n".to_vec()), Just(b"-1".to_vec()),
                    Just(b"0".to_vec()), Just(b"3".to_vec()), Just(b"\"".to_vec()),
                    Just(b"'".to_vec()), Just(b" ".to_vec()), Just(b"\\x".to_vec()),
                    proptest::collection::vec(any::<u8>(), 0..4),
                ],
                0..60,
            ),
            chunks in proptest::collection::vec(1usize..20, 1..10),
            authenticated in any::<bool>(),
        ) {
            let input: Vec<u8> = parts.concat();
            let l = Limits { max_inline_len: 1024, authenticated, ..Limits::default() };
            let (whole, whole_err, rest) = decode_all(&input, &l);
            let general = decode_all_general(&input, &l);
            prop_assert_eq!((&whole, &whole_err, rest), (&general.0, &general.1, general.2));
            let (chunked, chunked_err) = decode_chunked(&input, &chunks, &l);
            prop_assert_eq!(whole, chunked);
            prop_assert_eq!(whole_err, chunked_err);
        }

        /// Valid pipelines decode to exactly their commands at any split.
        #[test]
        fn valid_pipelines_round_trip(
            cmds in proptest::collection::vec(arb_command(), 0..12),
            chunks in proptest::collection::vec(1usize..64, 1..8),
        ) {
            let input: Vec<u8> = cmds.concat();
            let (whole, err, rest) = decode_all(&input, &limits());
            let general = decode_all_general(&input, &limits());
            prop_assert_eq!((&whole, &err, rest), (&general.0, &general.1, general.2));
            let (chunked, chunked_err) = decode_chunked(&input, &chunks, &limits());
            prop_assert_eq!(&whole, &chunked);
            prop_assert_eq!(&err, &chunked_err);
            // Multibulks are always valid; inline lines may have bad quotes.
            if err.is_none() {
                prop_assert_eq!(rest, 0);
            }
        }
    }
}

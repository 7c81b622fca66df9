//! Protocol errors raised while decoding client requests (sans-IO codec, runs
//! on every shard).
//!
//! This file owns the closed set of request-framing errors and their exact
//! Redis 7.0 reply texts. Each variant corresponds to one `addReplyError*`
//! call in `processInlineBuffer` / `processMultibulkBuffer` (networking.c).
//! As in Redis (`setProtocolError` sets `CLIENT_CLOSE_AFTER_REPLY`), the
//! connection must send the reply and then close: the stream cannot be
//! resynchronised after any of these.

use super::frame::Reply;
use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

/// Prefix shared by every protocol error reply.
const PREFIX: &str = "ERR Protocol error: ";

/// A malformed or over-limit request. The connection must reply with
/// [`ProtocolError::to_reply`] (or `reply_text`) and then be closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// Inline request: more than `max_inline_len` bytes buffered and no `\n`
    /// yet (`processInlineBuffer`).
    TooBigInlineRequest,
    /// Inline request: a quote is not closed, or a closing quote is followed
    /// by something other than a space (`sdssplitargs` returned NULL).
    UnbalancedQuotes,
    /// `*<count>` line: more than `max_inline_len` bytes buffered and no `\r`
    /// yet.
    TooBigMbulkCount,
    /// `*<count>` is not a strict integer (`string2ll`) or exceeds `INT_MAX`.
    InvalidMultibulkLength,
    /// `*<count>` above 10 from a client that still has to authenticate.
    UnauthenticatedMultibulkLength,
    /// `$<len>` line: more than `max_inline_len` bytes buffered and no `\r`
    /// yet.
    TooBigBulkCount,
    /// An argument header did not start with `$`; holds the offending byte.
    ExpectedDollar(u8),
    /// `$<len>` is not a strict integer, is negative, or exceeds
    /// `proto-max-bulk-len`.
    InvalidBulkLength,
    /// `$<len>` above 16384 from a client that still has to authenticate.
    UnauthenticatedBulkLength,
}

impl ProtocolError {
    /// The message after `"ERR Protocol error: "`, except for
    /// [`ExpectedDollar`](Self::ExpectedDollar) which is formatted separately.
    fn static_detail(&self) -> Option<&'static str> {
        Some(match self {
            ProtocolError::TooBigInlineRequest => "too big inline request",
            ProtocolError::UnbalancedQuotes => "unbalanced quotes in request",
            ProtocolError::TooBigMbulkCount => "too big mbulk count string",
            ProtocolError::InvalidMultibulkLength => "invalid multibulk length",
            ProtocolError::UnauthenticatedMultibulkLength => "unauthenticated multibulk length",
            ProtocolError::TooBigBulkCount => "too big bulk count string",
            ProtocolError::InvalidBulkLength => "invalid bulk length",
            ProtocolError::UnauthenticatedBulkLength => "unauthenticated bulk length",
            ProtocolError::ExpectedDollar(_) => return None,
        })
    }

    /// The byte Redis puts in `expected '$', got '%c'`: `addReplyErrorFormat`
    /// maps `\r` and `\n` to spaces so the error stays one line.
    fn shown_byte(b: u8) -> u8 {
        if b == b'\r' || b == b'\n' {
            b' '
        } else {
            b
        }
    }

    /// Full error text, e.g. `"ERR Protocol error: invalid multibulk length"`.
    ///
    /// For `ExpectedDollar` with a non-ASCII byte the byte is shown as the
    /// Unicode code point of the same value (Latin-1); [`to_reply`] carries
    /// the raw byte exactly as Redis sends it.
    ///
    /// [`to_reply`]: Self::to_reply
    pub fn reply_text(&self) -> String {
        match self {
            ProtocolError::ExpectedDollar(b) => {
                format!(
                    "{PREFIX}expected '$', got '{}'",
                    char::from(Self::shown_byte(*b))
                )
            }
            other => {
                let detail = other.static_detail().unwrap_or_default();
                let mut s = String::with_capacity(PREFIX.len() + detail.len());
                s.push_str(PREFIX);
                s.push_str(detail);
                s
            }
        }
    }

    /// The error reply exactly as Redis 7.0 writes it (raw offending byte for
    /// `ExpectedDollar`, since `%c` emits the byte itself).
    pub fn to_reply(&self) -> Reply {
        match self {
            ProtocolError::ExpectedDollar(b) => {
                let mut out = BytesMut::with_capacity(48);
                out.put_slice(PREFIX.as_bytes());
                out.put_slice(b"expected '$', got '");
                out.put_u8(Self::shown_byte(*b));
                out.put_u8(b'\'');
                Reply::Error(out.freeze())
            }
            other => Reply::Error(Bytes::from(other.reply_text())),
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reply_text())
    }
}

impl std::error::Error for ProtocolError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_text() {
        let cases = [
            (
                ProtocolError::TooBigInlineRequest,
                "ERR Protocol error: too big inline request",
            ),
            (
                ProtocolError::UnbalancedQuotes,
                "ERR Protocol error: unbalanced quotes in request",
            ),
            (
                ProtocolError::TooBigMbulkCount,
                "ERR Protocol error: too big mbulk count string",
            ),
            (
                ProtocolError::InvalidMultibulkLength,
                "ERR Protocol error: invalid multibulk length",
            ),
            (
                ProtocolError::UnauthenticatedMultibulkLength,
                "ERR Protocol error: unauthenticated multibulk length",
            ),
            (
                ProtocolError::TooBigBulkCount,
                "ERR Protocol error: too big bulk count string",
            ),
            (
                ProtocolError::ExpectedDollar(b'f'),
                "ERR Protocol error: expected '$', got 'f'",
            ),
            (
                ProtocolError::InvalidBulkLength,
                "ERR Protocol error: invalid bulk length",
            ),
            (
                ProtocolError::UnauthenticatedBulkLength,
                "ERR Protocol error: unauthenticated bulk length",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.reply_text(), text);
            assert_eq!(err.to_string(), text);
            assert_eq!(err.to_reply(), Reply::Error(Bytes::from(text)));
        }
    }

    #[test]
    fn expected_dollar_sanitises_newlines_and_keeps_raw_bytes() {
        assert_eq!(
            ProtocolError::ExpectedDollar(b'\r').reply_text(),
            "ERR Protocol error: expected '$', got ' '"
        );
        assert_eq!(
            ProtocolError::ExpectedDollar(b'\n').reply_text(),
            "ERR Protocol error: expected '$', got ' '"
        );
        assert_eq!(
            ProtocolError::ExpectedDollar(0xff).to_reply(),
            Reply::Error(Bytes::from_static(
                b"ERR Protocol error: expected '$', got '\xff'"
            ))
        );
    }

    #[test]
    fn is_std_error() {
        let e: Box<dyn std::error::Error> = Box::new(ProtocolError::InvalidBulkLength);
        assert_eq!(e.to_string(), "ERR Protocol error: invalid bulk length");
    }
}

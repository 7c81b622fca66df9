//! Replies as text: builders for the exact RESP2 bytes Redis sends
//! (`int`, `bulk`, `err`, `arr`, …) and `Client`, a raw connection whose
//! replies are compared byte for byte. Shared by the command test files.

use super::{RawConn, Server};

pub const OK: &str = "+OK\r\n";

pub const NIL: &str = "$-1\r\n";

pub const SYNTAX: &str = "-ERR syntax error\r\n";

pub const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";

pub const NOT_FLOAT: &str = "-ERR value is not a valid float\r\n";

pub const NIL_ARRAY: &str = "*-1\r\n";

pub const EMPTY: &str = "*0\r\n";

pub const WRONGTYPE: &str =
    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

pub const NOT_POSITIVE: &str = "-ERR value is out of range, must be positive\r\n";

pub fn int(n: i64) -> String {
    format!(":{n}\r\n")
}

pub fn bulk(s: &str) -> String {
    bulk_bytes(s.as_bytes())
}

pub fn bulk_bytes(b: &[u8]) -> String {
    format!("${}\r\n{}\r\n", b.len(), latin1(b))
}

/// Bytes as text, one char per byte, so binary replies compare exactly.
pub fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| char::from(c)).collect()
}

/// `-ERR <msg>`.
pub fn err(msg: &str) -> String {
    format!("-ERR {msg}\r\n")
}

pub fn arr(items: &[String]) -> String {
    let mut s = format!("*{}\r\n", items.len());
    for i in items {
        s.push_str(i);
    }
    s
}

/// An array of bulk strings.
pub fn bulks(items: &[&str]) -> String {
    let mut s = format!("*{}\r\n", items.len());
    for i in items {
        s.push_str(&bulk(i));
    }
    s
}

/// An array of integers.
pub fn ints(items: &[i64]) -> String {
    let mut s = format!("*{}\r\n", items.len());
    for i in items {
        s.push_str(&int(*i));
    }
    s
}

pub fn arity(cmd: &str) -> String {
    err(&format!("wrong number of arguments for '{cmd}' command"))
}

pub fn invalid_expire(cmd: &str) -> String {
    err(&format!("invalid expire time in '{cmd}' command"))
}

/// A raw connection whose replies are compared as text.
pub struct Client(pub RawConn);

impl Client {
    pub fn new(server: &Server) -> Client {
        Client(server.raw())
    }

    /// Sends a command given as whitespace-separated words.
    pub fn q(&mut self, line: &str) -> String {
        let words: Vec<&[u8]> = line.split_whitespace().map(str::as_bytes).collect();
        self.b(&words)
    }

    /// Sends a command without waiting for its reply (for a client that
    /// blocks); `read` takes the reply later.
    pub fn send(&mut self, line: &str) {
        let words: Vec<&[u8]> = line.split_whitespace().map(str::as_bytes).collect();
        self.0.send(&super::resp(&words));
    }

    /// The next reply, as text.
    pub fn read(&mut self) -> String {
        latin1(&self.0.read_reply())
    }

    /// One field of INFO (all sections), as text; empty when absent.
    pub fn info_field(&mut self, field: &str) -> String {
        let info = self.q("INFO everything");
        let prefix = format!("{field}:");
        info.split("\r\n")
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .unwrap_or_default()
            .to_string()
    }

    /// Sends a command given as exact arguments (binary, empty, spaces).
    pub fn b(&mut self, args: &[&[u8]]) -> String {
        latin1(&self.0.command(args))
    }

    /// Asserts the reply to `line` is exactly `want`.
    #[track_caller]
    pub fn is(&mut self, line: &str, want: &str) {
        let got = self.q(line);
        assert_eq!(got, want, "reply to `{line}`");
    }

    /// Asserts the reply to the exact arguments `args` is exactly `want`.
    #[track_caller]
    pub fn bis(&mut self, args: &[&[u8]], want: &str) {
        let got = self.b(args);
        let shown: Vec<String> = args.iter().map(|a| latin1(a)).collect();
        assert_eq!(got, want, "reply to {shown:?}");
    }

    /// The integer reply to `line`; panics on anything else.
    #[track_caller]
    pub fn int(&mut self, line: &str) -> i64 {
        let got = self.q(line);
        got.strip_prefix(':')
            .and_then(|s| s.strip_suffix("\r\n"))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("`{line}`: expected an integer reply, got {got:?}"))
    }

    /// Asserts the reply to `line` is an integer in `range`.
    #[track_caller]
    pub fn int_in(&mut self, line: &str, range: std::ops::RangeInclusive<i64>) {
        let n = self.int(line);
        assert!(range.contains(&n), "`{line}` = {n}, expected {range:?}");
    }

    /// The bulk strings of an array reply (RESP2), sorted.
    #[track_caller]
    pub fn sorted_list(&mut self, line: &str) -> Vec<String> {
        let got = self.q(line);
        let mut lines = got.split("\r\n");
        let n: usize = lines
            .next()
            .and_then(|h| h.strip_prefix('*'))
            .and_then(|h| h.parse().ok())
            .unwrap_or_else(|| panic!("`{line}`: expected an array, got {got:?}"));
        let mut out: Vec<String> = (0..n)
            .map(|_| {
                lines.next(); // $len
                lines.next().unwrap_or_default().to_string()
            })
            .collect();
        out.sort();
        out
    }
}

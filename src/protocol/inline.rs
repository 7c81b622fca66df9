//! Inline command splitting (sans-IO codec, runs on every shard).
//!
//! This file owns turning one inline request line (a request whose first
//! byte is not `*`, e.g. `PING` typed into telnet) into arguments, with the
//! quoting rules of Redis's `sdssplitargs` (sds.c) as used by
//! `processInlineBuffer` (networking.c). Finding the line and its length
//! limit is `parse.rs`'s job.

use super::error::ProtocolError;
use bytes::Bytes;

/// C `isspace` in the "C" locale. `sdssplitargs` uses it to skip blanks
/// between arguments and to check what follows a closing quote. Bytes >= 0x80
/// are not spaces (a negative `char` is not in the C-locale table).
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// The bytes that end an unquoted argument in `sdssplitargs`. Note this is a
/// narrower set than [`is_c_space`]: `"a\x0bb"` is one argument, while a
/// leading `\x0b` is skipped as a blank.
fn ends_unquoted(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

fn hex_value(b: Option<&u8>) -> Option<u8> {
    match b? {
        d @ b'0'..=b'9' => Some(d - b'0'),
        h @ b'a'..=b'f' => Some(h - b'a' + 10),
        h @ b'A'..=b'F' => Some(h - b'A' + 10),
        _ => None,
    }
}

/// A closing quote must be followed by a blank or the end of the line,
/// otherwise `sdssplitargs` fails (`"foo"bar`).
fn check_after_close(next: Option<&u8>) -> Result<(), ProtocolError> {
    match next {
        Some(&b) if !is_c_space(b) => Err(ProtocolError::UnbalancedQuotes),
        _ => Ok(()),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Double,
    Single,
}

/// Splits one inline line (without its trailing `\n` / `\r\n`) into
/// arguments, matching `sdssplitargs`:
///
/// * blanks (C `isspace`) separate arguments; an all-blank line gives none;
/// * `"double quotes"` support `\n \r \t \b \a`, `\xHH`, and `\<c>` for any
///   other `c` meaning `c` itself;
/// * `'single quotes'` support only `\'`;
/// * a quote may open in the middle of an argument (`a"b c"` is `ab c`), but
///   a closing quote must be followed by a blank or the end of the line;
/// * an unterminated quote is an error.
///
/// Errors are reported as [`ProtocolError::UnbalancedQuotes`], the reply
/// `processInlineBuffer` sends when `sdssplitargs` returns NULL.
///
/// Deviation: `sdssplitargs` works on a C string, so Redis would stop at a
/// NUL byte (in practice `processInlineBuffer`'s `strchr` never even finds the
/// newline past a NUL). Here NUL is an ordinary byte.
///
/// Arguments without quotes are zero-copy slices of `line`; quoted ones are
/// unescaped into fresh buffers.
pub(crate) fn split_args(line: &Bytes) -> Result<Vec<Bytes>, ProtocolError> {
    let s: &[u8] = line;
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        // Skip blanks between arguments.
        while s.get(i).is_some_and(|&b| is_c_space(b)) {
            i += 1;
        }
        if i >= s.len() {
            return Ok(args);
        }

        let start = i;
        // None while the argument is a verbatim run of `s[start..i]`; a quote
        // switches to an owned, unescaped buffer.
        let mut owned: Option<Vec<u8>> = None;
        let mut quote = Quote::None;
        loop {
            let c = s.get(i);
            match quote {
                Quote::None => match c {
                    None => break,
                    Some(&b) if ends_unquoted(b) => {
                        break;
                    }
                    Some(&b) if b == b'"' || b == b'\'' => {
                        quote = if b == b'"' {
                            Quote::Double
                        } else {
                            Quote::Single
                        };
                        if owned.is_none() {
                            owned = Some(s.get(start..i).unwrap_or_default().to_vec());
                        }
                        i += 1;
                    }
                    Some(&b) => {
                        if let Some(buf) = owned.as_mut() {
                            buf.push(b);
                        }
                        i += 1;
                    }
                },
                Quote::Double => {
                    let buf = owned.get_or_insert_with(Vec::new);
                    match c {
                        None => return Err(ProtocolError::UnbalancedQuotes),
                        Some(b'\\') if s.get(i + 1) == Some(&b'x') => {
                            match (hex_value(s.get(i + 2)), hex_value(s.get(i + 3))) {
                                (Some(hi), Some(lo)) => {
                                    buf.push(hi * 16 + lo);
                                    i += 4;
                                }
                                // Not a valid \xHH: "\x" is just 'x'.
                                _ => {
                                    buf.push(b'x');
                                    i += 2;
                                }
                            }
                        }
                        Some(b'\\') if i + 1 < s.len() => {
                            let e = s.get(i + 1).copied().unwrap_or(b'\\');
                            buf.push(match e {
                                b'n' => b'\n',
                                b'r' => b'\r',
                                b't' => b'\t',
                                b'b' => 0x08,
                                b'a' => 0x07,
                                other => other,
                            });
                            i += 2;
                        }
                        Some(b'"') => {
                            check_after_close(s.get(i + 1))?;
                            i += 1;
                            break;
                        }
                        // Includes a backslash that is the last byte: kept
                        // literally, then the missing close quote errors.
                        Some(&b) => {
                            buf.push(b);
                            i += 1;
                        }
                    }
                }
                Quote::Single => {
                    let buf = owned.get_or_insert_with(Vec::new);
                    match c {
                        None => return Err(ProtocolError::UnbalancedQuotes),
                        Some(b'\\') if s.get(i + 1) == Some(&b'\'') => {
                            buf.push(b'\'');
                            i += 2;
                        }
                        Some(b'\'') => {
                            check_after_close(s.get(i + 1))?;
                            i += 1;
                            break;
                        }
                        Some(&b) => {
                            buf.push(b);
                            i += 1;
                        }
                    }
                }
            }
        }
        args.push(match owned {
            Some(buf) => Bytes::from(buf),
            // `start < i <= s.len()` here, so the slice is in bounds.
            None => line.slice(start..i),
        });
        // The terminating blank (if any) is skipped by the blank loop.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &[u8]) -> Result<Vec<Vec<u8>>, ProtocolError> {
        split_args(&Bytes::copy_from_slice(s)).map(|v| v.into_iter().map(|b| b.to_vec()).collect())
    }

    fn ok(s: &[u8], want: &[&[u8]]) {
        let got = split(s).unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(s)));
        let want: Vec<Vec<u8>> = want.iter().map(|w| w.to_vec()).collect();
        assert_eq!(got, want, "input {:?}", String::from_utf8_lossy(s));
    }

    fn unbalanced(s: &[u8]) {
        assert_eq!(
            split(s),
            Err(ProtocolError::UnbalancedQuotes),
            "input {:?}",
            String::from_utf8_lossy(s)
        );
    }

    #[test]
    fn plain_words() {
        ok(b"", &[]);
        ok(b"   \t ", &[]);
        ok(b"PING", &[b"PING"]);
        ok(b"SET  key\tvalue ", &[b"SET", b"key", b"value"]);
        ok(b"\x0b\x0cGET k", &[b"GET", b"k"]);
        // \v and \f separate only as leading blanks, not inside a word.
        ok(b"a\x0bb c", &[b"a\x0bb", b"c"]);
        ok(b"a\rb", &[b"a", b"b"]);
        ok(b"\xff\xfe x", &[b"\xff\xfe", b"x"]);
        ok(b"a\0b", &[b"a\0b"]);
    }

    #[test]
    fn double_quotes() {
        ok(br#"SET k "hello world""#, &[b"SET", b"k", b"hello world"]);
        ok(br#""""#, &[b""]);
        ok(br#""" """#, &[b"", b""]);
        ok(br#""a\nb\rc\td\be\af""#, &[b"a\nb\rc\td\x08e\x07f"]);
        ok(br#""\x41\x7a\xff\x00""#, &[b"Az\xff\x00"]);
        ok(br#""\xZZ""#, &[b"xZZ"]);
        ok(br#""\x4""#, &[b"x4"]);
        ok(br#""\"\\\q""#, &[b"\"\\q"]);
        ok(br#"pre"mid dle" x"#, &[b"premid dle", b"x"]);
        ok(b"\"a\"\t\"b\"", &[b"a", b"b"]);
        ok(b"\"a\"\x0bb", &[b"a", b"b"]);
        ok(br#""it's""#, &[b"it's"]);
    }

    #[test]
    fn single_quotes() {
        ok(br"'hello world'", &[b"hello world"]);
        ok(br"'it\'s'", &[b"it's"]);
        ok(br"'a\nb'", &[b"a\\nb"]);
        ok(br#"'say "hi"'"#, &[b"say \"hi\""]);
        ok(br"''", &[b""]);
    }

    #[test]
    fn unbalanced_quotes() {
        unbalanced(br#""abc"#);
        unbalanced(br"'abc");
        unbalanced(br#""foo"bar"#);
        unbalanced(br"'foo'bar");
        unbalanced(br#""abc\"#);
        unbalanced(br#""abc\""#);
        unbalanced(br#"SET k "v"#);
        unbalanced(br#"a "b"c d"#);
    }

    #[test]
    fn unquoted_args_are_zero_copy() {
        let line = Bytes::from_static(b"SET key value");
        let args = split_args(&line).unwrap();
        assert_eq!(args.len(), 3);
        let base = line.as_ptr() as usize;
        assert_eq!(args[1].as_ptr() as usize, base + 4);
    }
}

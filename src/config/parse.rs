//! Reading configuration: the redis.conf format (lines, `#` comments,
//! quoting as Redis `sdssplitargs`), `include`, standard input, and the
//! `tessera [file] [--name value ...]` command line of Redis `main()`.
//! Also the small number parsers of Redis (`memtoull`, `string2ll`,
//! `strtoll`) that the value checks share.
//!
//! Runs once at start-up on the main thread, before any executor exists;
//! the resulting `Config` is then owned by the control executor. Config
//! files are untrusted input: every failure is a [`ConfigError`], never a
//! panic.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::table::{self, Special, DIRECTIVES, FILE_ONLY, MULTI_ARG};
use super::{Config, Origin};
use crate::util::glob::glob_match;

/// The Redis version named in fatal config errors (`REDIS_VERSION`).
const ERROR_VERSION: &str = "7.0";

/// Includes nested deeper than this are refused. COMPAT: Redis has no
/// limit and overflows its stack on an include cycle.
const MAX_INCLUDE_DEPTH: usize = 32;

/// Where a configuration line came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigSource {
    /// A config file or included file (absolute path).
    File(PathBuf),
    /// Standard input (`-` on the command line).
    Stdin,
    /// `--name value` options.
    CommandLine,
}

/// A fatal configuration error; `Display` renders it as Redis prints it
/// before exiting with status 1, naming the file as well.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    source: Option<ConfigSource>,
    /// 1-based line number and the trimmed line text.
    line: Option<(usize, String)>,
    reason: String,
    /// Redis logs a different message when a file cannot be opened.
    cannot_open: bool,
}

impl ConfigError {
    /// An error about a line of `source`.
    pub(super) fn at_line(source: &ConfigSource, line: usize, text: &[u8], reason: String) -> Self {
        ConfigError {
            source: Some(source.clone()),
            line: Some((line, String::from_utf8_lossy(text).into_owned())),
            reason,
            cannot_open: false,
        }
    }

    /// An error found after all lines were read (no line to show).
    pub(super) fn general(reason: String) -> Self {
        ConfigError {
            source: None,
            line: None,
            reason,
            cannot_open: false,
        }
    }

    fn cannot_open(path: &Path, err: &std::io::Error) -> Self {
        ConfigError {
            source: Some(ConfigSource::File(path.to_path_buf())),
            line: None,
            reason: strerror(err),
            cannot_open: true,
        }
    }

    /// The reason alone (`Bad directive or wrong number of arguments`, ...).
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// 1-based number of the offending line, if there is one.
    pub fn line(&self) -> Option<usize> {
        self.line.as_ref().map(|(n, _)| *n)
    }

    /// The file, stdin or command line the offending line came from.
    pub fn source(&self) -> Option<&ConfigSource> {
        self.source.as_ref()
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.cannot_open {
            let path = match &self.source {
                Some(ConfigSource::File(p)) => p.display().to_string(),
                _ => String::new(),
            };
            return write!(
                f,
                "Fatal error, can't open config file '{path}': {}",
                self.reason
            );
        }
        write!(
            f,
            "\n*** FATAL CONFIG FILE ERROR (Redis {ERROR_VERSION}) ***\n"
        )?;
        if let Some((n, text)) = &self.line {
            let origin = match &self.source {
                Some(ConfigSource::File(p)) => format!(" of {}", p.display()),
                Some(ConfigSource::Stdin) => " of standard input".to_string(),
                Some(ConfigSource::CommandLine) => " of the command line options".to_string(),
                None => String::new(),
            };
            write!(
                f,
                "Reading the configuration file, at line {n}{origin}\n>>> '{text}'\n"
            )?;
        }
        f.write_str(&self.reason)
    }
}

impl std::error::Error for ConfigError {}

/// What the command line asks for, as Redis `main()` reads it.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct ArgvPlan {
    /// The config file as written (first argument not starting with `-`).
    pub file: Option<String>,
    /// `-` as first or last argument: read config from standard input.
    pub stdin: bool,
    /// The `--name value` options rendered as config lines.
    pub options: String,
}

/// Turns the arguments after argv[0] into an [`ArgvPlan`], exactly like
/// Redis 7.0 `main()`: each `--name` starts a new line; the first argument
/// after a bare `--name` is always its value (even if it starts with
/// `--`); `--save` with no value means `save ""`.
pub(super) fn plan_argv(args: &[String]) -> ArgvPlan {
    let mut plan = ArgvPlan::default();
    let mut j = 0;
    if let Some(first) = args.first() {
        if !first.starts_with('-') {
            plan.file = Some(first.clone());
            j = 1;
        }
    }
    let last = args.len().saturating_sub(1);
    let mut handled_last = true;
    let opts = &mut plan.options;
    while let Some(arg) = args.get(j) {
        let next_is_option = args.get(j + 1).is_some_and(|n| n.starts_with("--"));
        if arg == "-" && (j == 0 || j == last) {
            plan.stdin = true;
        } else if handled_last && arg.starts_with("--") {
            if !opts.is_empty() {
                opts.push('\n');
            }
            opts.push_str(arg.get(2..).unwrap_or(""));
            opts.push(' ');
            let words = split_args(arg.as_bytes()).map_or(0, |w| w.len());
            if words == 1 {
                // A bare option name: its value follows.
                handled_last = false;
                let is_save = arg.eq_ignore_ascii_case("--save");
                let is_sentinel = arg.eq_ignore_ascii_case("--sentinel");
                if is_save && j != last && next_is_option {
                    opts.push_str("\"\"");
                    handled_last = true;
                } else if is_save && j == last {
                    opts.push_str("\"\"");
                } else if is_sentinel && j != last && next_is_option {
                    handled_last = true;
                }
            } else {
                // "--port 6380" as one argument carries its own value.
                handled_last = true;
            }
        } else {
            opts.push_str(&repr(arg.as_bytes()));
            opts.push(' ');
            handled_last = true;
        }
        j += 1;
    }
    plan
}

/// Loads the file, standard input and options named by `args` into `cfg`,
/// in that order (later lines win), as Redis `loadServerConfig`.
pub(super) fn load_argv(cfg: &mut Config, args: &[String], cwd: &Path) -> Result<(), ConfigError> {
    let plan = plan_argv(args);
    if let Some(file) = &plan.file {
        let path = absolute_path(cwd, file);
        cfg.config_file = Some(path.clone());
        let text = std::fs::read(&path).map_err(|e| ConfigError::cannot_open(&path, &e))?;
        load_text(cfg, &text, &ConfigSource::File(path), 0)?;
    }
    if plan.stdin {
        let mut text = Vec::new();
        std::io::stdin().read_to_end(&mut text).map_err(|e| {
            ConfigError::general(format!("Can't read config from stdin: {}", strerror(&e)))
        })?;
        load_text(cfg, &text, &ConfigSource::Stdin, 0)?;
    }
    if !plan.options.is_empty() {
        load_text(cfg, plan.options.as_bytes(), &ConfigSource::CommandLine, 0)?;
    }
    Ok(())
}

/// Applies every line of `text`, as Redis `loadServerConfigFromString`.
pub(super) fn load_text(
    cfg: &mut Config,
    text: &[u8],
    source: &ConfigSource,
    depth: usize,
) -> Result<(), ConfigError> {
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line = trim(raw);
        if line.is_empty() || line.first() == Some(&b'#') {
            continue;
        }
        let fail = |reason: String| ConfigError::at_line(source, i + 1, line, reason);
        let Some(words) = split_args(line) else {
            return Err(fail("Unbalanced quotes in configuration line".into()));
        };
        if words.is_empty() {
            continue;
        }
        let args = utf8_args(words).ok_or_else(|| fail(INVALID_UTF8.into()))?;
        match apply_line(cfg, args, depth) {
            Ok(()) => {}
            Err(LineError::Reason(r)) => return Err(fail(r)),
            Err(LineError::Nested(e)) => return Err(e),
        }
    }
    Ok(())
}

// COMPAT: Redis accepts any bytes; tessera keeps values as text.
const INVALID_UTF8: &str = "Invalid UTF-8 in configuration line";

fn utf8_args(words: Vec<Vec<u8>>) -> Option<Vec<String>> {
    words
        .into_iter()
        .map(|w| String::from_utf8(w).ok())
        .collect()
}

enum LineError {
    /// Reported against the current line.
    Reason(String),
    /// An error inside an included file, already located.
    Nested(ConfigError),
}

impl From<String> for LineError {
    fn from(s: String) -> Self {
        LineError::Reason(s)
    }
}

impl From<&str> for LineError {
    fn from(s: &str) -> Self {
        LineError::Reason(s.to_string())
    }
}

/// Names Redis 7.0 still accepts (with exactly one argument) and ignores.
const DEPRECATED: &[&str] = &[
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

/// One directive line; `args[0]` is the directive name.
fn apply_line(cfg: &mut Config, args: Vec<String>, depth: usize) -> Result<(), LineError> {
    let Some(name) = args.first().map(|n| n.to_ascii_lowercase()) else {
        return Ok(());
    };
    let rest = args.get(1..).unwrap_or(&[]);
    let found = table::lookup(name.as_bytes());
    if let Some((idx, _)) =
        found.filter(|&(i, _)| DIRECTIVES.get(i).is_some_and(|d| !d.has(FILE_ONLY)))
    {
        return apply_value(cfg, idx, rest);
    }
    if args.len() == 2 && DEPRECATED.contains(&name.as_str()) {
        return Ok(());
    }
    let special = found
        .and_then(|(i, _)| DIRECTIVES.get(i))
        .and_then(|d| match d.kind {
            table::Kind::Special(s) => Some(s),
            _ => None,
        });
    match (special, rest) {
        (Some(Special::Include), [path]) => {
            if depth >= MAX_INCLUDE_DEPTH {
                return Err("Too many nested include directives".into());
            }
            include(cfg, path, depth + 1).map_err(LineError::Nested)
        }
        (Some(Special::RenameCommand), [from, to]) => {
            cfg.rename_commands.push((from.clone(), to.clone()));
            Ok(())
        }
        (Some(Special::User), [_, ..]) => {
            cfg.users.push(rest.to_vec());
            Ok(())
        }
        (Some(Special::LoadModule), [_, ..]) => {
            cfg.loadmodules.push(rest.to_vec());
            Ok(())
        }
        _ if special.is_none() && name.contains('.') => {
            // A module's config; kept for the module (Redis
            // `module_configs_queue`, last one wins).
            if rest.is_empty() {
                return Err("Module config specified without value".into());
            }
            let value = rest.join(" ");
            match cfg.module_configs.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = value,
                None => cfg.module_configs.push((name, value)),
            }
            Ok(())
        }
        (Some(Special::Sentinel), _) => {
            // A bare `sentinel` only selects Sentinel mode (done by main).
            if !rest.is_empty() {
                if !cfg.sentinel_mode {
                    return Err("sentinel directive while not in sentinel mode".into());
                }
                cfg.sentinel_lines.push(rest.to_vec());
            }
            Ok(())
        }
        _ => Err("Bad directive or wrong number of arguments".into()),
    }
}

/// A line setting a directive of the table: one argument, or any number
/// for multi-argument ones (a single argument is split again, so
/// `--save "900 1"` and `bind "a b"` work).
fn apply_value(cfg: &mut Config, idx: usize, rest: &[String]) -> Result<(), LineError> {
    let multi = DIRECTIVES.get(idx).is_some_and(|d| d.has(MULTI_ARG));
    if !multi && rest.len() != 1 {
        return Err("wrong number of arguments".into());
    }
    let values = match rest {
        [one] if multi && !one.is_empty() => split_args(one.as_bytes())
            .map(utf8_args)
            .unwrap_or(Some(Vec::new()))
            .ok_or(INVALID_UTF8)?,
        _ => rest.to_vec(),
    };
    cfg.apply(idx, &values, Origin::File)
        .map_err(|e| e.into_owned().into())
}

/// `include <path>`: relative to the directory current at that point of
/// the load (Redis has done the chdir of any earlier `dir`). A path with
/// `*`, `?` or `[` is a glob: matching files are read in sorted order and
/// no match is not an error.
fn include(cfg: &mut Config, pattern: &str, depth: usize) -> Result<(), ConfigError> {
    let base = PathBuf::from(cfg.dir());
    let paths = if pattern.contains(['*', '?', '[']) {
        glob_paths(&base, pattern)
    } else {
        vec![base.join(pattern)]
    };
    for path in paths {
        let text = std::fs::read(&path).map_err(|e| ConfigError::cannot_open(&path, &e))?;
        load_text(cfg, &text, &ConfigSource::File(path), depth)?;
    }
    Ok(())
}

/// Expands a glob(3)-style pattern component by component; wildcards do
/// not match a leading `.` unless the component starts with one.
fn glob_paths(base: &Path, pattern: &str) -> Vec<PathBuf> {
    let mut current = vec![if pattern.starts_with('/') {
        PathBuf::from("/")
    } else {
        base.to_path_buf()
    }];
    for comp in pattern.split('/').filter(|c| !c.is_empty()) {
        let mut next = Vec::new();
        if comp.contains(['*', '?', '[']) {
            for dir in &current {
                let Ok(entries) = std::fs::read_dir(dir) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let name = entry.file_name();
                    let name = name.as_encoded_bytes();
                    let hidden = name.first() == Some(&b'.') && !comp.starts_with('.');
                    if !hidden && glob_match(comp.as_bytes(), name, false) {
                        next.push(entry.path());
                    }
                }
            }
        } else {
            next.extend(current.iter().map(|d| d.join(comp)));
        }
        current = next;
    }
    let mut found: Vec<PathBuf> = current.into_iter().filter(|p| p.exists()).collect();
    found.sort();
    found
}

/// Redis `getAbsolutePath`: trims blanks, keeps an absolute path, else
/// joins it to `cwd` folding leading `../` components.
pub(super) fn absolute_path(cwd: &Path, file: &str) -> PathBuf {
    let mut rel = file.trim_matches([' ', '\r', '\n', '\t']);
    if rel.starts_with('/') {
        return PathBuf::from(rel);
    }
    let mut abs = cwd.to_path_buf();
    while let Some(stripped) = rel.strip_prefix("../") {
        rel = stripped;
        abs.pop();
    }
    abs.join(rel)
}

/// The text of an I/O error as C `strerror` gives it (no "(os error N)").
pub(super) fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(cut) => text.get(..cut).unwrap_or(&text).to_string(),
        None => text,
    }
}

fn trim(line: &[u8]) -> &[u8] {
    let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = line.iter().position(|b| !blank(b)).unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|b| !blank(b))
        .map_or(start, |e| e + 1);
    line.get(start..end).unwrap_or(&[])
}

/// C `isspace` in the C locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits a line into arguments as Redis `sdssplitargs`: blanks separate,
/// `"..."` understands `\n \r \t \b \a \xHH` and `\<any>`, `'...'`
/// understands `\'`, a closing quote must be followed by a blank or the
/// end. `None` means unbalanced quotes. A NUL byte ends the line, as in C.
pub(super) fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let at = |k: usize| line.get(k).copied().unwrap_or(0);
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while at(i) != 0 && is_space(at(i)) {
            i += 1;
        }
        if at(i) == 0 {
            return Some(out);
        }
        let (mut in_double, mut in_single) = (false, false);
        let mut cur = Vec::new();
        loop {
            let c = at(i);
            let mut done = false;
            if in_double {
                let hex = (hex_value(at(i + 2)), hex_value(at(i + 3)));
                if let (b'\\', b'x', (Some(h), Some(l))) = (c, at(i + 1), hex) {
                    cur.push(h * 16 + l);
                    i += 3;
                } else if c == b'\\' && at(i + 1) != 0 {
                    i += 1;
                    cur.push(match at(i) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(i + 1) != 0 && !is_space(at(i + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else if in_single {
                if c == b'\\' && at(i + 1) == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if at(i + 1) != 0 && !is_space(at(i + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    _ => cur.push(c),
                }
            }
            if at(i) != 0 {
                i += 1;
            }
            if done {
                break;
            }
        }
        out.push(cur);
    }
}

/// Quotes bytes as Redis `sdscatrepr`, so [`split_args`] reads them back.
pub(super) fn repr(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('"');
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x07 => s.push_str("\\a"),
            0x08 => s.push_str("\\b"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    s
}

/// Redis `memtoull`: digits then an optional unit (`b`, `k` = 1000, `kb` =
/// 1024, `m`, `mb`, `g`, `gb`, any case). As in Redis an empty number
/// counts as 0 (`""` and `"mb"` parse). COMPAT: overflow is an error
/// instead of a wrapped value.
pub(super) fn memtoull(s: &str) -> Option<u64> {
    if s.starts_with('-') {
        return None;
    }
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = (s.get(..split)?, s.get(split..)?);
    let mul: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits.len() >= 128 {
        return None;
    }
    let value: u64 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    value.checked_mul(mul)
}

/// Redis `string2ll`: optional `-`, no `+`, no leading zeros, no blanks,
/// within `i64`.
pub(super) fn string2ll(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    let ok = match digits {
        [b'0'] => b.len() == 1,
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if ok {
        s.parse().ok()
    } else {
        None
    }
}

/// C `strtoll(s, &end, radix)` followed by Redis's `*end == '\0'` check:
/// leading blanks and a sign are allowed, an empty string is 0, overflow
/// saturates (the bool says it did, like `errno == ERANGE`).
pub(super) fn strtoll(s: &str, radix: u32) -> Option<(i64, bool)> {
    let body = s.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
    let (negative, digits) = match body.as_bytes().first() {
        Some(b'-') => (true, body.get(1..)?),
        Some(b'+') => (false, body.get(1..)?),
        _ => (false, body),
    };
    if digits.is_empty() {
        // No conversion: the end pointer is the start of the string.
        return s.is_empty().then_some((0, false));
    }
    let mut value: i128 = 0;
    let mut overflow = false;
    for c in digits.chars() {
        let d = c.to_digit(radix)?;
        value = value * i128::from(radix) + i128::from(d);
        if value > i128::from(i64::MAX) + 1 {
            overflow = true;
            value = i128::from(i64::MAX) + 1;
        }
    }
    let signed = if negative { -value } else { value };
    match i64::try_from(signed) {
        Ok(v) => Some((v, overflow)),
        Err(_) => Some((i64::MAX, true)),
    }
}

/// Redis `string2d`: a whole-string float, no leading blank, not NaN.
pub(super) fn string2d(s: &str) -> Option<f64> {
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii() && is_space(c as u8)) {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    (!v.is_nan()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Option<Vec<String>> {
        split_args(line.as_bytes()).map(|w| {
            w.into_iter()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .collect()
        })
    }

    #[test]
    fn split_args_like_sdssplitargs() {
        assert_eq!(words("save 900 1").unwrap(), ["save", "900", "1"]);
        assert_eq!(words("  a\t b  ").unwrap(), ["a", "b"]);
        assert_eq!(words(r#"x "a b" 'c d'"#).unwrap(), ["x", "a b", "c d"]);
        assert_eq!(words(r#"x "\x41\n\"""#).unwrap(), ["x", "A\n\""]);
        assert_eq!(words(r#"x 'it\'s'"#).unwrap(), ["x", "it's"]);
        assert_eq!(words(r#"x """#).unwrap(), ["x", ""]);
        assert_eq!(words(r#"x a"b c"d"#), None);
        assert_eq!(words(r#"x ab"c d""#).unwrap(), ["x", "abc d"]);
        assert_eq!(words(r#"x "open"#), None);
        assert_eq!(words("x 'open"), None);
        assert_eq!(words("").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn repr_round_trips() {
        for s in ["plain", "", "with space", "q\"uote\\", "\x01\x7f\u{e9}\n"] {
            let quoted = repr(s.as_bytes());
            let back = split_args(quoted.as_bytes()).unwrap();
            assert_eq!(back, vec![s.as_bytes().to_vec()], "{quoted}");
        }
        assert_eq!(repr(b"a\"b"), r#""a\"b""#);
    }

    #[test]
    fn memory_units() {
        assert_eq!(memtoull("100"), Some(100));
        assert_eq!(memtoull("1b"), Some(1));
        assert_eq!(memtoull("1k"), Some(1000));
        assert_eq!(memtoull("1kb"), Some(1024));
        assert_eq!(memtoull("1KB"), Some(1024));
        assert_eq!(memtoull("2m"), Some(2_000_000));
        assert_eq!(memtoull("2Mb"), Some(2 * 1024 * 1024));
        assert_eq!(memtoull("1g"), Some(1_000_000_000));
        assert_eq!(memtoull("1gB"), Some(1 << 30));
        assert_eq!(memtoull("-1"), None);
        assert_eq!(memtoull("1.5gb"), None);
        assert_eq!(memtoull("1 gb"), None);
        assert_eq!(memtoull("1tb"), None);
        assert_eq!(memtoull(""), Some(0));
        assert_eq!(memtoull("99999999999999999999"), None);
        assert_eq!(memtoull("18446744073709551615"), Some(u64::MAX));
        assert_eq!(memtoull("17179869184gb"), None);
    }

    #[test]
    fn integers() {
        assert_eq!(string2ll("0"), Some(0));
        assert_eq!(string2ll("-5"), Some(-5));
        assert_eq!(string2ll("+5"), None);
        assert_eq!(string2ll("05"), None);
        assert_eq!(string2ll("-0"), None);
        assert_eq!(string2ll(" 5"), None);
        assert_eq!(string2ll("9223372036854775808"), None);
        assert_eq!(strtoll("  -12", 10), Some((-12, false)));
        assert_eq!(strtoll("", 10), Some((0, false)));
        assert_eq!(strtoll(" ", 10), None);
        assert_eq!(strtoll("12x", 10), None);
        assert_eq!(strtoll("0777", 8), Some((511, false)));
        assert_eq!(strtoll("8", 8), None);
        assert_eq!(strtoll("99999999999999999999", 10), Some((i64::MAX, true)));
        assert_eq!(string2d("99.9"), Some(99.9));
        assert_eq!(string2d(" 1"), None);
        assert_eq!(string2d("nan"), None);
    }

    #[test]
    fn argv_like_redis_main() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let p = plan_argv(&args(&[
            "redis.conf",
            "--port",
            "7000",
            "--bind",
            "127.0.0.1",
            "::1",
        ]));
        assert_eq!(p.file.as_deref(), Some("redis.conf"));
        assert_eq!(p.options, "port \"7000\" \nbind \"127.0.0.1\" \"::1\" ");
        let p = plan_argv(&args(&["--save", "--port", "1"]));
        assert_eq!(p.file, None);
        assert_eq!(p.options, "save \"\"\nport \"1\" ");
        let p = plan_argv(&args(&["--port", "1", "--save"]));
        assert_eq!(p.options, "port \"1\" \nsave \"\"");
        // The first value after a bare name may itself start with "--".
        let p = plan_argv(&args(&["--requirepass", "--weird"]));
        assert_eq!(p.options, "requirepass \"--weird\" ");
        let p = plan_argv(&args(&["--port 6380"]));
        assert_eq!(p.options, "port 6380 ");
        let p = plan_argv(&args(&["-", "--port", "1"]));
        assert!(p.stdin && p.file.is_none());
        let p = plan_argv(&args(&["--port", "1", "-"]));
        assert!(p.stdin);
    }

    #[test]
    fn absolute_paths() {
        let cwd = Path::new("/a/b/c");
        assert_eq!(absolute_path(cwd, "x.conf"), Path::new("/a/b/c/x.conf"));
        assert_eq!(absolute_path(cwd, "../../x.conf"), Path::new("/a/x.conf"));
        assert_eq!(
            absolute_path(cwd, " /etc/r.conf\n"),
            Path::new("/etc/r.conf")
        );
    }

    #[test]
    fn random_lines_never_panic() {
        // Deterministic xorshift; tokens mix directive names, numbers,
        // units, quotes and escapes.
        let tokens: &[&str] = &[
            "save",
            "bind",
            "port",
            "maxmemory",
            "client-output-buffer-limit",
            "hz",
            "notify-keyspace-events",
            "replicaof",
            "shutdown-on-sigint",
            "unixsocketperm",
            "maxmemory-clients",
            "latency-tracking-info-percentiles",
            "oom-score-adj-values",
            "user",
            "rename-command",
            "m.x",
            "sentinel",
            "\"",
            "'",
            "\\x4",
            "\\",
            "\"\"",
            "-1",
            "0",
            "18446744073709551615",
            "99999999999999999999999",
            "1gb",
            "5%",
            "%",
            "normal",
            "pubsub",
            "no",
            "one",
            "yes",
            "A",
            "\t",
            " ",
            "\0",
            "\u{e9}",
            "{title}",
            "{",
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut cfg = Config::default();
        for _ in 0..20_000 {
            let n = next() % 6;
            let mut line = String::new();
            for _ in 0..=n {
                line.push_str(tokens[(next() % tokens.len() as u64) as usize]);
                if next() % 3 != 0 {
                    line.push(' ');
                }
            }
            let _ = load_text(&mut cfg, line.as_bytes(), &ConfigSource::CommandLine, 0);
        }
    }

    #[test]
    fn error_rendering() {
        let e = ConfigError::at_line(
            &ConfigSource::File(PathBuf::from("/etc/redis.conf")),
            3,
            b"foo bar",
            "Bad directive or wrong number of arguments".into(),
        );
        assert_eq!(
            e.to_string(),
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0) ***\n\
             Reading the configuration file, at line 3 of /etc/redis.conf\n\
             >>> 'foo bar'\n\
             Bad directive or wrong number of arguments"
        );
        let e = ConfigError::general("replicaof directive not allowed in cluster mode".into());
        assert_eq!(
            e.to_string(),
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0) ***\nreplicaof directive not allowed in cluster mode"
        );
    }
}

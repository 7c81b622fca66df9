//! Per-kind checks of directive values and their canonical CONFIG GET
//! text: Redis's `*ConfigSet` functions and the special parsers (`save`,
//! `client-output-buffer-limit`, `bind`, ...). Errors are Redis's reason
//! texts, which the callers wrap (config file error or CONFIG SET reply).
//!
//! Runs wherever the `Config` is: at start-up, then on the control
//! executor for CONFIG SET.

use std::borrow::Cow;
use std::path::Path;

use super::table::{Directive, Kind, Special, DIRECTIVES, MULTI_ARG};
use super::{parse, Config, Origin};

/// Redis `CONFIG_MIN_HZ` / `CONFIG_MAX_HZ`: `hz` is clamped to this range.
const HZ_RANGE: (i64, i64) = (1, 500);
/// Redis `CONFIG_BINDADDR_MAX`.
const MAX_BIND_ADDRESSES: usize = 16;

impl Config {
    /// Validates `args` for directive `idx` and stores the canonical text;
    /// the error is Redis's reason text.
    pub(super) fn apply(
        &mut self,
        idx: usize,
        args: &[String],
        origin: Origin,
    ) -> Result<(), Cow<'static, str>> {
        let d = DIRECTIVES.get(idx).ok_or("unknown directive")?;
        let text = match d.kind {
            Kind::Special(s) => self.parse_special(s, args, origin)?,
            Kind::Enum(values) => parse_enum(d, values, args)?,
            _ => {
                let [arg] = args else {
                    return Err("wrong number of arguments".into());
                };
                parse_scalar(d, arg)?
            }
        };
        if let Some(slot) = self.values.get_mut(idx) {
            *slot = text;
        }
        Ok(())
    }

    fn parse_special(
        &mut self,
        which: Special,
        args: &[String],
        origin: Origin,
    ) -> Result<String, Cow<'static, str>> {
        match which {
            Special::Dir => self.parse_dir(args),
            Special::Save => self.parse_save(args, origin),
            Special::ClientOutputBufferLimit => self.parse_obuf_limits(args),
            Special::OomScoreAdjValues => parse_oom_values(args),
            Special::NotifyKeyspaceEvents => match args {
                [one] => notify_flags_text(one)
                    .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into()),
                _ => Err("wrong number of arguments".into()),
            },
            Special::Bind => {
                if args.len() > MAX_BIND_ADDRESSES {
                    return Err("Too many bind addresses specified.".into());
                }
                Ok(args.join(" "))
            }
            Special::ReplicaOf => parse_replicaof(args),
            Special::LatencyTrackingInfoPercentiles => parse_percentiles(args),
            Special::Include
            | Special::RenameCommand
            | Special::User
            | Special::LoadModule
            | Special::Sentinel => Err("wrong number of arguments".into()),
        }
    }

    /// Redis chdirs at once; tessera stores the canonical absolute path
    /// (what Redis's getcwd would then report) and the server chdirs.
    fn parse_dir(&self, args: &[String]) -> Result<String, Cow<'static, str>> {
        let [dir] = args else {
            return Err("wrong number of arguments".into());
        };
        let target = Path::new(self.dir()).join(dir);
        let canonical = std::fs::canonicalize(&target).map_err(|e| parse::strerror(&e))?;
        if !canonical.is_dir() {
            return Err("Not a directory".into());
        }
        Ok(canonical.to_string_lossy().into_owned())
    }

    /// Redis `setConfigSaveOption`.
    fn parse_save(&mut self, args: &[String], origin: Origin) -> Result<String, Cow<'static, str>> {
        // `save ""` disables snapshotting, even after earlier file lines.
        let reset = matches!(args, [one] if one.is_empty());
        let args: &[String] = if reset { &[] } else { args };
        if args.len() % 2 != 0 {
            return Err("Invalid save parameters".into());
        }
        let mut pairs = Vec::new();
        for pair in args.chunks_exact(2) {
            let [secs, changes] = pair else { continue };
            let secs = strtol_exact(secs).filter(|&s| s >= 1);
            let changes = strtol_exact(changes).filter(|&c| c >= 0);
            let (Some(secs), Some(changes)) = (secs, changes) else {
                return Err("Invalid save parameters".into());
            };
            // Redis keeps `changes` in an int.
            pairs.push(format!("{secs} {}", changes as i32));
        }
        let mut all: Vec<String> = Vec::new();
        if origin == Origin::File && self.save_loaded && !reset {
            // Later `save` lines of a file add to the earlier ones.
            all.extend(
                self.text("save")
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            );
        }
        if origin == Origin::File {
            self.save_loaded = true;
        }
        all.extend(pairs);
        Ok(all.join(" "))
    }

    /// Redis `updateClientOutputBufferLimit`: classes not named keep their
    /// current limits.
    fn parse_obuf_limits(&self, args: &[String]) -> Result<String, Cow<'static, str>> {
        if args.len() % 4 != 0 {
            return Err("Wrong number of arguments in buffer limit configuration.".into());
        }
        let mut limits = obuf_limits(self.text("client-output-buffer-limit"));
        let mut updates = Vec::new();
        for group in args.chunks_exact(4) {
            let [class, hard, soft, secs] = group else {
                continue;
            };
            let slot = match class.to_ascii_lowercase().as_str() {
                "normal" => 0,
                "slave" | "replica" => 1,
                "pubsub" => 2,
                _ => {
                    return Err(
                        "Invalid client class specified in buffer limit configuration.".into(),
                    )
                }
            };
            let secs = strtol_exact(secs).map(|s| s as i32);
            match (parse::memtoull(hard), parse::memtoull(soft), secs) {
                (Some(h), Some(s), Some(t)) if t >= 0 => updates.push((slot, [h, s, t as u64])),
                _ => return Err(
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                        .into(),
                ),
            }
        }
        for (slot, v) in updates {
            if let Some(l) = limits.get_mut(slot) {
                *l = v;
            }
        }
        Ok(obuf_text(&limits))
    }
}

/// CONFIG SET's split of a multi-argument value (Redis `sdssplitlen` on
/// one space): "" is no argument, "a  b" has an empty one in the middle.
pub(super) fn split_spaces(value: &str) -> Vec<String> {
    if value.is_empty() {
        Vec::new()
    } else {
        value.split(' ').map(str::to_string).collect()
    }
}

/// `strtoll` base 10 that must consume the whole string.
fn strtol_exact(s: &str) -> Option<i64> {
    parse::strtoll(s, 10).map(|(v, _)| v)
}

/// Bool, numbers and strings: one argument.
fn parse_scalar(d: &Directive, arg: &str) -> Result<String, Cow<'static, str>> {
    let out_of_range =
        |min: &dyn std::fmt::Display, max: &dyn std::fmt::Display| -> Cow<'static, str> {
            format!("argument must be between {min} and {max} inclusive").into()
        };
    match d.kind {
        Kind::Bool => match arg.to_ascii_lowercase().as_str() {
            "yes" => Ok("yes".into()),
            "no" => Ok("no".into()),
            _ => Err("argument must be 'yes' or 'no'".into()),
        },
        Kind::Int { min, max } => {
            let v = parse::string2ll(arg).ok_or("argument couldn't be parsed into an integer")?;
            if v < min || v > max {
                return Err(out_of_range(&min, &max));
            }
            let v = if d.name == "hz" {
                v.clamp(HZ_RANGE.0, HZ_RANGE.1)
            } else {
                v
            };
            Ok(v.to_string())
        }
        Kind::Memory { min, max } => {
            let v = parse::memtoull(arg).ok_or("argument must be a memory value")?;
            if v < min || v > max {
                return Err(out_of_range(&min, &max));
            }
            Ok(v.to_string())
        }
        Kind::MemoryOrPercent { max, max_percent } => {
            if let Some(v) = parse::memtoull(arg) {
                if v > max {
                    return Err(out_of_range(&0, &max));
                }
                return Ok(v.to_string());
            }
            let pct = arg
                .strip_suffix('%')
                .filter(|p| !p.is_empty())
                .and_then(parse::string2ll)
                .filter(|&p| p >= 0)
                .ok_or("argument must be a memory or percent value")?;
            if pct.unsigned_abs() > max_percent {
                return Err(
                    format!("percentage argument must be less or equal to {max_percent}").into(),
                );
            }
            Ok(format!("{pct}%"))
        }
        Kind::Octal { max } => {
            let (v, overflow) = parse::strtoll(arg, 8)
                .filter(|&(_, o)| !o)
                .ok_or("argument couldn't be parsed as an octal number")?;
            let v = v as u64; // negative numbers fail the unsigned range check, as in Redis
            if overflow || v > max {
                return Err(format!("argument must be between 0 and {max:o} inclusive").into());
            }
            Ok(format!("{v:o}"))
        }
        Kind::String { check, .. } => {
            if let Some(check) = check {
                check(arg)?;
            }
            Ok(arg.to_string())
        }
        Kind::Enum(_) | Kind::Special(_) => Err("wrong number of arguments".into()),
    }
}

/// Redis `configEnumGetValue` + the SAVE/NOSAVE check of the shutdown
/// enums; returns the canonical name(s).
fn parse_enum(
    d: &Directive,
    values: &[(&str, u32)],
    args: &[String],
) -> Result<String, Cow<'static, str>> {
    let bitflags = d.has(MULTI_ARG);
    let mut value = 0u32;
    let mut ok = !args.is_empty() && (bitflags || args.len() == 1);
    for arg in args {
        match values.iter().find(|(n, _)| n.eq_ignore_ascii_case(arg)) {
            Some((_, v)) => value |= v,
            None => ok = false,
        }
    }
    if !ok {
        let names: Vec<&str> = values.iter().map(|(n, _)| *n).collect();
        let mut msg = format!(
            "argument(s) must be one of the following: {}",
            names.join(", ")
        );
        msg.truncate(255); // Redis LOADBUF_SIZE; the text is ASCII
        return Err(msg.into());
    }
    if bitflags && value & 1 != 0 && value & 2 != 0 {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
    }
    Ok(enum_name(values, value, bitflags))
}

/// Redis `configEnumGetName`: the first exact match, else (bit flags) the
/// names covering the bits in table order.
fn enum_name(values: &[(&str, u32)], value: u32, bitflags: bool) -> String {
    let mut names: Vec<&str> = Vec::new();
    let mut unmatched = value;
    for &(name, v) in values {
        if v == value {
            return name.to_string();
        }
        if bitflags && v != 0 && v == unmatched & v {
            names.push(name);
            unmatched &= !v;
        }
    }
    if names.is_empty() || unmatched != 0 {
        "unknown".to_string()
    } else {
        names.join(" ")
    }
}

fn parse_oom_values(args: &[String]) -> Result<String, Cow<'static, str>> {
    if args.len() != 3 {
        return Err("wrong number of arguments".into());
    }
    let mut out = Vec::new();
    for a in args {
        match strtol_exact(a) {
            Some(v) if (-2000..=2000).contains(&v) => out.push(v.to_string()),
            _ => {
                return Err(
                    "Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into(),
                )
            }
        }
    }
    Ok(out.join(" "))
}

/// Redis `setConfigReplicaOfOption`: `no one` clears it.
fn parse_replicaof(args: &[String]) -> Result<String, Cow<'static, str>> {
    let [host, port] = args else {
        return Err("wrong number of arguments".into());
    };
    if host.eq_ignore_ascii_case("no") && port.eq_ignore_ascii_case("one") {
        return Ok(String::new());
    }
    match strtol_exact(port) {
        Some(p) if (0..=65535).contains(&p) => Ok(format!("{host} {p}")),
        _ => Err("Invalid master port".into()),
    }
}

fn parse_percentiles(args: &[String]) -> Result<String, Cow<'static, str>> {
    let args: &[String] = match args {
        [one] if one.is_empty() => &[],
        _ => args,
    };
    let mut out = Vec::new();
    for a in args {
        let p = parse::string2d(a).ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&p) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .into(),
            );
        }
        out.push(format_percentile(p));
    }
    Ok(out.join(" "))
}

/// `%f` with trailing zeros (and dot) trimmed, as Redis `trimDoubleString`.
fn format_percentile(p: f64) -> String {
    let s = format!("{p:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Keyspace event classes in Redis `keyspaceEventsFlagsToString` order.
const NOTIFY_CLASSES: &[(char, u32)] = &[
    ('g', 1 << 2),
    ('$', 1 << 3),
    ('l', 1 << 4),
    ('s', 1 << 5),
    ('h', 1 << 6),
    ('z', 1 << 7),
    ('x', 1 << 8),
    ('e', 1 << 9),
    ('t', 1 << 10),
    ('d', 1 << 13),
    ('n', 1 << 14),
];
const NOTIFY_KEYSPACE: u32 = 1;
const NOTIFY_KEYEVENT: u32 = 1 << 1;
const NOTIFY_KEY_MISS: u32 = 1 << 11;
/// `A`: every class but `m` and `n`.
const NOTIFY_ALL: u32 = (1 << 2)
    | (1 << 3)
    | (1 << 4)
    | (1 << 5)
    | (1 << 6)
    | (1 << 7)
    | (1 << 8)
    | (1 << 9)
    | (1 << 10)
    | (1 << 13);

/// Parses event classes and renders them canonically (`A` folded), as
/// Redis `keyspaceEventsFlagsToString`. COMPAT: Redis keeps the flags and
/// only shows this text, so with `A` it still honours an `n` it does not
/// show; tessera keeps the text, so `An` becomes `A` (what Redis itself
/// gets back after CONFIG REWRITE and a restart).
fn notify_flags_text(classes: &str) -> Option<String> {
    let mut flags = 0u32;
    for c in classes.chars() {
        flags |= match c {
            'A' => NOTIFY_ALL,
            'K' => NOTIFY_KEYSPACE,
            'E' => NOTIFY_KEYEVENT,
            'm' => NOTIFY_KEY_MISS,
            _ => NOTIFY_CLASSES.iter().find(|(ch, _)| *ch == c)?.1,
        };
    }
    let mut out = String::new();
    if flags & NOTIFY_ALL == NOTIFY_ALL {
        out.push('A');
    } else {
        out.extend(
            NOTIFY_CLASSES
                .iter()
                .filter(|(_, f)| flags & f != 0)
                .map(|(c, _)| *c),
        );
    }
    for (c, f) in [
        ('K', NOTIFY_KEYSPACE),
        ('E', NOTIFY_KEYEVENT),
        ('m', NOTIFY_KEY_MISS),
    ] {
        if flags & f != 0 {
            out.push(c);
        }
    }
    Some(out)
}

/// `[hard, soft, seconds]` for normal, replica, pubsub, from CONFIG GET
/// text; defaults where the text is unreadable.
pub(super) fn obuf_limits(text: &str) -> [[u64; 3]; 3] {
    let mut limits = [
        [0, 0, 0],
        [256 << 20, 64 << 20, 60],
        [32 << 20, 8 << 20, 60],
    ];
    let words: Vec<&str> = text.split(' ').collect();
    for (slot, group) in words.chunks_exact(4).enumerate() {
        let nums: Vec<u64> = group
            .iter()
            .skip(1)
            .filter_map(|n| n.parse().ok())
            .collect();
        if let (Some(l), [h, s, t]) = (limits.get_mut(slot), nums.as_slice()) {
            *l = [*h, *s, *t];
        }
    }
    limits
}

fn obuf_text(limits: &[[u64; 3]; 3]) -> String {
    let names = ["normal", "slave", "pubsub"];
    names
        .iter()
        .zip(limits)
        .map(|(n, [h, s, t])| format!("{n} {h} {s} {t}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_names_like_redis() {
        let sig = &[
            ("default", 0),
            ("save", 1),
            ("nosave", 2),
            ("now", 4),
            ("force", 8),
        ];
        assert_eq!(enum_name(sig, 0, true), "default");
        assert_eq!(enum_name(sig, 1 | 4 | 8, true), "save now force");
        assert_eq!(enum_name(sig, 16, true), "unknown");
        let oom = &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)];
        assert_eq!(enum_name(oom, 1, false), "yes");
    }

    #[test]
    fn keyspace_event_flags() {
        assert_eq!(notify_flags_text("").as_deref(), Some(""));
        assert_eq!(notify_flags_text("KEA").as_deref(), Some("AKE"));
        assert_eq!(notify_flags_text("xeg$").as_deref(), Some("g$xe"));
        // Redis quirk: `n` is not part of `A`, yet is not shown next to it.
        assert_eq!(notify_flags_text("An").as_deref(), Some("A"));
        assert_eq!(notify_flags_text("gn").as_deref(), Some("gn"));
        assert_eq!(notify_flags_text("?"), None);
    }

    #[test]
    fn percentiles_and_limits() {
        assert_eq!(format_percentile(50.0), "50");
        assert_eq!(format_percentile(99.9), "99.9");
        assert_eq!(format_percentile(0.0001), "0.0001");
        assert_eq!(obuf_limits("garbage"), obuf_limits(""));
        assert_eq!(
            obuf_text(&obuf_limits("")),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
        assert_eq!(split_spaces(""), Vec::<String>::new());
        assert_eq!(split_spaces("a  b"), ["a", "", "b"]);
    }
}

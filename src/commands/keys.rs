//! Generic key commands that run on the shard owning the key(s) (Redis's
//! `db.c` and `expire.c`): DEL EXISTS TYPE RENAME COPY MOVE OBJECT TTL and the
//! EXPIRE family. Keyspace-wide commands (KEYS, SCAN, DBSIZE, FLUSH*) fan out
//! from the connection; their per-shard parts are the `op_*` functions here.

use bytes::Bytes;

use super::args::{lossy, parse_i64, upper, Args};
use super::error::CmdError;
use super::string::key_copy;
use super::{CmdResult, KeyCtx};
use crate::protocol::Reply;
use crate::shard::db::Db;
use crate::shard::value::{memory, Entry};
use crate::util::glob::glob_match;

pub fn del(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let now = ctx.now;
    let mut n = 0;
    for k in &argv[1..] {
        if ctx.db().remove(k, now).is_some() {
            n += 1;
        }
    }
    ctx.dirty += n;
    Ok(Reply::Integer(n as i64))
}

pub fn exists(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let now = ctx.now;
    let db = ctx.db();
    let n = argv[1..].iter().filter(|k| db.contains(k, now)).count();
    Ok(Reply::Integer(n as i64))
}

pub fn touch(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let now = ctx.now;
    let db = ctx.db();
    let n = argv[1..]
        .iter()
        .filter(|k| db.get(k, now).is_some())
        .count();
    Ok(Reply::Integer(n as i64))
}

pub fn type_(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let now = ctx.now;
    let name = ctx
        .db()
        .peek(&argv[1], now)
        .map_or("none", |e| e.value.type_name());
    Ok(Reply::simple(name))
}

/// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX|XX|GT|LT]
/// (matches `expireGenericCommand`).
fn expire_generic(ctx: &mut KeyCtx, argv: &[Bytes], unit_ms: i64, absolute: bool) -> CmdResult {
    let cmd = lossy(&argv[0]).to_ascii_lowercase();
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &argv[3..] {
        match upper(opt).as_str() {
            "NX" => nx = true,
            "XX" => xx = true,
            "GT" => gt = true,
            "LT" => lt = true,
            _ => return Err(CmdError::err(format!("Unsupported option {}", lossy(opt)))),
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CmdError::err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(CmdError::err(
            "GT and LT options at the same time are not compatible",
        ));
    }
    let invalid = || CmdError::InvalidExpire(cmd.clone());
    let when = parse_i64(&argv[2])?;
    let when = when.checked_mul(unit_ms).ok_or_else(invalid)?;
    let base = if absolute { 0 } else { ctx.now as i64 };
    let when = when.checked_add(base).ok_or_else(invalid)?;
    let now = ctx.now;
    let key = &argv[1];
    let Some(current) = ctx.db().peek(key, now).map(|e| e.expire_at) else {
        return Ok(Reply::Integer(0));
    };
    let persistent = current == 0;
    let refused = (nx && !persistent)
        || (xx && persistent)
        || (gt && (persistent || when <= current as i64))
        || (lt && !persistent && when >= current as i64);
    if refused {
        return Ok(Reply::Integer(0));
    }
    ctx.dirty += 1;
    if when <= now as i64 {
        ctx.db().remove(key, now);
    } else {
        ctx.db().set_expire(key, when as u64, now);
    }
    Ok(Reply::Integer(1))
}

pub fn expire(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    expire_generic(ctx, argv, 1000, false)
}

pub fn pexpire(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    expire_generic(ctx, argv, 1, false)
}

pub fn expireat(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    expire_generic(ctx, argv, 1000, true)
}

pub fn pexpireat(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    expire_generic(ctx, argv, 1, true)
}

/// TTL / PTTL / EXPIRETIME / PEXPIRETIME (matches `ttlGenericCommand`).
/// Deadlines go up to `i64::MAX` ms (PEXPIREAT accepts it), so the
/// rounding to seconds is done in u64 (Redis replies 9223372036854776 for
/// EXPIRETIME then, not an overflowed value).
fn ttl_generic(ctx: &mut KeyCtx, key: &[u8], ms: bool, absolute: bool) -> CmdResult {
    let now = ctx.now;
    let Some(at) = ctx.db().peek(key, now).map(|e| e.expire_at) else {
        return Ok(Reply::Integer(-2));
    };
    if at == 0 {
        return Ok(Reply::Integer(-1));
    }
    let t = if absolute { at } else { at.saturating_sub(now) };
    let t = if ms { t } else { t.saturating_add(500) / 1000 };
    Ok(Reply::Integer(i64::try_from(t).unwrap_or(i64::MAX)))
}

pub fn ttl(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &argv[1], false, false)
}

pub fn pttl(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &argv[1], true, false)
}

pub fn expiretime(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &argv[1], false, true)
}

pub fn pexpiretime(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &argv[1], true, true)
}

pub fn persist(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let now = ctx.now;
    let had = ctx.db().peek(&argv[1], now).map(|e| e.expire_at);
    if matches!(had, Some(at) if at != 0) {
        ctx.db().set_expire(&argv[1], 0, now);
        ctx.dirty += 1;
        return Ok(Reply::Integer(1));
    }
    Ok(Reply::Integer(0))
}

/// RENAME / RENAMENX (matches `renameGenericCommand`): the value keeps its TTL.
fn rename_generic(ctx: &mut KeyCtx, argv: &[Bytes], nx: bool) -> CmdResult {
    let (src, dst) = (&argv[1], &argv[2]);
    let now = ctx.now;
    if !ctx.db().contains(src, now) {
        return Err(CmdError::NoSuchKey);
    }
    if src == dst {
        return Ok(if nx { Reply::Integer(0) } else { Reply::ok() });
    }
    if nx && ctx.db().contains(dst, now) {
        return Ok(Reply::Integer(0));
    }
    let Some(entry) = ctx.db().remove(src, now) else {
        return Err(CmdError::NoSuchKey);
    };
    ctx.db().remove(dst, now);
    ctx.db().put_entry(key_copy(dst), entry, now);
    ctx.dirty += 1;
    Ok(if nx { Reply::Integer(1) } else { Reply::ok() })
}

pub fn rename(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    rename_generic(ctx, argv, false)
}

pub fn renamenx(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    rename_generic(ctx, argv, true)
}

/// Parses a database index argument as SELECT, MOVE and COPY do
/// (`getIntFromObjectOrReply`, then `selectDb`): not an integer, not an
/// `int`, or not an existing database are three different errors.
pub fn db_index(raw: &[u8], databases: usize) -> Result<usize, CmdError> {
    let n = parse_i64(raw)?;
    if i32::try_from(n).is_err() {
        return Err(CmdError::err(
            "value is out of range, value must between -2147483648 and 2147483647",
        ));
    }
    match usize::try_from(n) {
        Ok(n) if n < databases => Ok(n),
        _ => Err(CmdError::DbIndexOutOfRange),
    }
}

/// COPY source destination [DB destination-db] [REPLACE]
pub fn copy(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let mut args = Args::new(argv);
    let (src, dst) = (args.arg()?, args.arg()?);
    let mut target = ctx.db;
    let mut replace = false;
    while !args.is_empty() {
        if args.eat("REPLACE") {
            replace = true;
        } else if args.eat("DB") {
            target = db_index(args.arg()?, ctx.dbs.len())?;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if src == dst && target == ctx.db {
        return Err(CmdError::err("source and destination objects are the same"));
    }
    let now = ctx.now;
    let Some(entry) = ctx.db().peek(src, now).cloned() else {
        return Ok(Reply::Integer(0));
    };
    let dest_db = &mut ctx.dbs[target];
    if dest_db.contains(dst, now) {
        if !replace {
            return Ok(Reply::Integer(0));
        }
        dest_db.remove(dst, now);
    }
    dest_db.put_entry(key_copy(dst), entry, now);
    ctx.dirty += 1;
    Ok(Reply::Integer(1))
}

/// MOVE key db
pub fn move_(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let target = db_index(&argv[2], ctx.dbs.len())?;
    if target == ctx.db {
        return Err(CmdError::err("source and destination objects are the same"));
    }
    let now = ctx.now;
    let key = &argv[1];
    if !ctx.db().contains(key, now) || ctx.dbs[target].contains(key, now) {
        return Ok(Reply::Integer(0));
    }
    let Some(entry) = ctx.db().remove(key, now) else {
        return Ok(Reply::Integer(0));
    };
    ctx.dbs[target].put_entry(key_copy(key), entry, now);
    ctx.dirty += 1;
    Ok(Reply::Integer(1))
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// The reply of `<CMD> HELP` (`addReplyHelp`): `lines` as status replies.
pub fn help_reply(lines: &[&'static str]) -> Reply {
    Reply::Array(lines.iter().map(|l| Reply::simple(l)).collect())
}

/// Checks a container command's sub-command against its arity (Redis 7
/// has `object|encoding` etc. in the command table): an unknown one gets
/// "unknown subcommand", a known one with the wrong count of arguments
/// `wrong number of arguments for 'object|encoding' command`.
fn check_subcommand(argv: &[Bytes], container: &str, subs: &[(&str, i32)]) -> Result<(), CmdError> {
    let sub = lossy(&argv[1]).to_ascii_lowercase();
    let Some(&(name, arity)) = subs.iter().find(|(n, _)| *n == sub) else {
        return Err(CmdError::UnknownSubcommand(
            lossy(&argv[1]),
            container.to_ascii_uppercase(),
        ));
    };
    let argc = argv.len();
    let fits = if arity < 0 {
        argc >= arity.unsigned_abs() as usize
    } else {
        argc == arity as usize
    };
    if fits {
        Ok(())
    } else {
        Err(CmdError::WrongArity(format!("{container}|{name}")))
    }
}

/// Redis's `OBJ_SHARED_REFCOUNT`: the refcount OBJECT REFCOUNT reports for
/// the shared integers 0..10000 (`OBJ_SHARED_INTEGERS`) that SET, INCR and
/// friends store instead of a new object.
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key, OBJECT HELP
pub fn object(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    check_subcommand(
        argv,
        "object",
        &[
            ("help", 2),
            ("encoding", 3),
            ("refcount", 3),
            ("idletime", 3),
            ("freq", 3),
        ],
    )?;
    let sub = upper(&argv[1]);
    if sub == "HELP" {
        return Ok(help_reply(OBJECT_HELP));
    }
    let now = ctx.now;
    let lfu = ctx.lfu;
    let Some(e) = ctx.db().peek(&argv[2], now) else {
        return Ok(Reply::Nil);
    };
    Ok(match sub.as_str() {
        "ENCODING" => Reply::bulk_str(e.value.encoding()),
        // COMPAT: Redis does not share integers under an LRU/LFU
        // maxmemory-policy with maxmemory set, and COPY makes an unshared
        // duplicate; tessera reports every small integer as shared.
        "REFCOUNT" if e.value.is_shared_integer() => Reply::Integer(SHARED_REFCOUNT),
        "REFCOUNT" => Reply::Integer(1),
        "IDLETIME" => {
            if lfu {
                return Err(CmdError::err("An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
            }
            Reply::Integer(idle_seconds(e, now) as i64)
        }
        _ => {
            if !lfu {
                return Err(CmdError::err("An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
            }
            Reply::Integer(0)
        }
    })
}

fn idle_seconds(e: &Entry, now: u64) -> u32 {
    let clock = crate::shard::db::lru_clock(now);
    if clock >= e.lru {
        clock - e.lru
    } else {
        clock + (0xFF_FFFF - e.lru)
    }
}

/// MEMORY USAGE key [SAMPLES count] (matches `memoryCommand`: SAMPLES
/// must be a non-negative integer; the size is `objectComputeSize` plus
/// the key's sds and the dict entry, in jemalloc size classes).
pub fn memory_usage(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[2];
    let mut opts = argv[3..].iter();
    while let Some(opt) = opts.next() {
        match opts.next() {
            Some(n) if opt.eq_ignore_ascii_case(b"SAMPLES") => {
                if parse_i64(n)? < 0 {
                    return Err(CmdError::Syntax);
                }
            }
            _ => return Err(CmdError::Syntax),
        }
    }
    let now = ctx.now;
    Ok(match ctx.db().peek(key, now) {
        Some(e) => Reply::Integer(
            memory::key_usage(key.len()).saturating_add(e.value.memory_usage()) as i64,
        ),
        None => Reply::Nil,
    })
}

/// Filter of KEYS / SCAN: MATCH pattern and TYPE name.
#[derive(Clone, Debug, Default)]
pub struct KeyFilter {
    pub pattern: Option<Bytes>,
    pub type_name: Option<String>,
}

impl KeyFilter {
    pub fn keep(&self, key: &[u8], entry: &Entry) -> bool {
        if let Some(p) = &self.pattern {
            if !glob_match(p, key, false) {
                return false;
            }
        }
        match &self.type_name {
            Some(t) => t.eq_ignore_ascii_case(entry.value.type_name()),
            None => true,
        }
    }
}

/// This shard's part of KEYS.
pub fn op_keys(db: &Db, now: u64, filter: &KeyFilter) -> Vec<Bytes> {
    db.keys(now, |k, e| filter.keep(k, e))
}

/// This shard's part of one SCAN call: walks the shard's slots from
/// `from_slot` on, collecting whole slots until at least `count` keys were
/// looked at. Returns the keys and the next slot to visit (None = done).
/// A key that exists for the whole scan is in one slot the whole time, and
/// every slot is visited once, so it is returned exactly once.
pub fn op_scan(
    db: &Db,
    slots: &[u16],
    from_slot: u16,
    count: usize,
    now: u64,
    filter: &KeyFilter,
) -> (Vec<Bytes>, Option<u16>) {
    let mut out = Vec::new();
    let mut looked = 0;
    let start = slots.partition_point(|&s| s < from_slot);
    for (i, &slot) in slots.iter().enumerate().skip(start) {
        looked += db.slot_len(slot as usize);
        out.extend(db.slot_keys(slot as usize, now, |k, e| filter.keep(k, e)));
        if looked >= count {
            return (out, slots.get(i + 1).copied());
        }
    }
    (out, None)
}

const MEMORY_HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
];

/// MEMORY USAGE key [SAMPLES count], MEMORY HELP
pub fn memory(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    // COMPAT: MEMORY DOCTOR, STATS, MALLOC-STATS and PURGE are not
    // implemented: they are unknown sub-commands, and HELP omits them.
    check_subcommand(argv, "memory", &[("help", 2), ("usage", -3)])?;
    if upper(&argv[1]) == "HELP" {
        return Ok(help_reply(MEMORY_HELP));
    }
    memory_usage(ctx, argv)
}

//! String commands (Redis's `t_string.c` and `bitops.c`): parse on the
//! connection's shard, run on the shard that owns the key.
//! Every `op`/handler here takes a `KeyCtx` (one shard's databases, or a
//! transaction's scratch copies) and returns a typed reply or `CmdError`.

use bytes::Bytes;

use super::args::{parse_i64, Args};
use super::error::CmdError;
use super::{CmdResult, KeyCtx};
use crate::protocol::Reply;
use crate::shard::types::string::{self as strops, LongDouble};
use crate::shard::value::{StrValue, Value};
use crate::util::num;

fn str_reply(v: Option<&StrValue>) -> Reply {
    match v {
        Some(StrValue::Raw(b)) => Reply::stored(b),
        Some(s) => {
            let mut scratch = Vec::new();
            Reply::copied(s.as_slice(&mut scratch))
        }
        None => Reply::Nil,
    }
}

fn new_str(b: &[u8]) -> Value {
    Value::Str(StrValue::from_bytes(b))
}

/// How SET-family commands set the key's deadline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// Remove any TTL (plain SET).
    Clear,
    Keep,
    /// Absolute unix time in ms.
    At(u64),
}

/// Parses an EX/PX/EXAT/PXAT argument into an absolute ms deadline, with
/// Redis's checks (`getExpireMillisecondsOrReply`): not an integer →
/// NotInteger; ≤ 0 or overflowing → "invalid expire time".
pub fn expire_arg(
    raw: &[u8],
    unit_ms: i64,
    absolute: bool,
    now: u64,
    cmd: &str,
) -> Result<u64, CmdError> {
    let v = parse_i64(raw)?;
    let invalid = || CmdError::InvalidExpire(cmd.to_string());
    if v <= 0 {
        return Err(invalid());
    }
    let ms = v.checked_mul(unit_ms).ok_or_else(invalid)?;
    let at = if absolute {
        ms
    } else {
        ms.checked_add(now as i64).ok_or_else(invalid)?
    };
    Ok(at as u64)
}

/// Which time option a SET / GETEX carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TimeOpt {
    Ex,
    Px,
    ExAt,
    PxAt,
}

impl TimeOpt {
    /// (milliseconds per unit, absolute?)
    fn unit(self) -> (i64, bool) {
        match self {
            TimeOpt::Ex => (1000, false),
            TimeOpt::Px => (1, false),
            TimeOpt::ExAt => (1000, true),
            TimeOpt::PxAt => (1, true),
        }
    }
}

/// The options of SET (`NX XX GET KEEPTTL EX PX EXAT PXAT`) or GETEX
/// (`PERSIST EX PX EXAT PXAT`), parsed but with the time still raw.
#[derive(Default)]
struct StrOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    time: Option<(TimeOpt, &'a [u8])>,
}

impl StrOpts<'_> {
    /// The absolute deadline the time option asks for, if any
    /// (`getExpireMillisecondsOrReply`).
    fn deadline(&self, now: u64, cmd: &str) -> Result<Option<u64>, CmdError> {
        match self.time {
            None => Ok(None),
            Some((opt, raw)) => {
                let (unit, absolute) = opt.unit();
                expire_arg(raw, unit, absolute, now, cmd).map(Some)
            }
        }
    }
}

/// Matches `parseExtendedStringArgumentsOrReply`: every option word is
/// checked before any time value is parsed; a word may repeat (the last
/// time wins) but may not conflict with another (`EX` with `PX`, `NX` with
/// `XX`, `KEEPTTL`/`PERSIST` with a time), and a time option needs a value.
/// `set` selects SET's words (NX XX GET KEEPTTL) or GETEX's (PERSIST).
fn parse_str_opts(opts: &[Bytes], set: bool) -> Result<StrOpts<'_>, CmdError> {
    let mut o = StrOpts::default();
    let mut i = 0;
    while let Some(opt) = opts.get(i) {
        let next = opts.get(i + 1);
        let word = opt.to_ascii_uppercase();
        let time_ok = |t: TimeOpt, o: &StrOpts| {
            !o.keepttl && !o.persist && o.time.is_none_or(|(cur, _)| cur == t) && next.is_some()
        };
        let time = match word.as_slice() {
            b"EX" => Some(TimeOpt::Ex),
            b"PX" => Some(TimeOpt::Px),
            b"EXAT" => Some(TimeOpt::ExAt),
            b"PXAT" => Some(TimeOpt::PxAt),
            _ => None,
        };
        match (word.as_slice(), time, next) {
            (b"NX", _, _) if set && !o.xx => o.nx = true,
            (b"XX", _, _) if set && !o.nx => o.xx = true,
            (b"GET", _, _) if set => o.get = true,
            (b"KEEPTTL", _, _) if set && !o.persist && o.time.is_none() => o.keepttl = true,
            (b"PERSIST", _, _) if !set && !o.keepttl && o.time.is_none() => o.persist = true,
            (_, Some(t), Some(v)) if time_ok(t, &o) => {
                o.time = Some((t, v.as_ref()));
                i += 1;
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    Ok(o)
}

/// Stores `value` at `key` with `ttl`; a deadline already past deletes the key
/// (as `setGenericCommand` does).
fn store(ctx: &mut KeyCtx, key: &Bytes, value: Value, ttl: Ttl) {
    let now = ctx.now;
    ctx.dirty += 1;
    let db = ctx.db();
    match ttl {
        Ttl::Clear => {
            db.insert(key, value, 0, now);
        }
        Ttl::Keep => db.set_keep_ttl(key, value, now),
        Ttl::At(at) if at <= now => {
            db.remove(key, now);
        }
        Ttl::At(at) => {
            db.insert(key, value, at, now);
        }
    }
}

/// Keys are copied out of the request buffer so a stored key never pins a
/// whole network read buffer.
pub fn key_copy(key: &Bytes) -> Bytes {
    Bytes::copy_from_slice(key)
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
/// (matches `setCommand` / `setGenericCommand`).
pub fn set(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let (key, value) = (&argv[1], &argv[2]);
    let opts = parse_str_opts(&argv[3..], true)?;
    let ttl = match opts.deadline(ctx.now, "set")? {
        Some(at) => Ttl::At(at),
        None if opts.keepttl => Ttl::Keep,
        None => Ttl::Clear,
    };
    // With GET, the old value (or WRONGTYPE) is the reply whatever happens.
    let old = if opts.get {
        ctx.read::<StrValue>(key)?.map(StrValue::to_bytes)
    } else {
        None
    };
    let now = ctx.now;
    // Only NX / XX need to know whether the key exists (one probe less).
    let refused = (opts.nx || opts.xx) && {
        let exists = ctx.db().contains(key, now);
        (opts.nx && exists) || (opts.xx && !exists)
    };
    if !refused {
        store(ctx, key, new_str(value), ttl);
    }
    Ok(match (opts.get, refused) {
        (true, _) => old.map_or(Reply::Nil, Reply::Bulk),
        (false, true) => Reply::Nil,
        (false, false) => Reply::ok(),
    })
}

pub fn setnx(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let now = ctx.now;
    if ctx.db().contains(&argv[1], now) {
        return Ok(Reply::Integer(0));
    }
    store(ctx, &argv[1], new_str(&argv[2]), Ttl::Clear);
    Ok(Reply::Integer(1))
}

fn setex_generic(ctx: &mut KeyCtx, argv: &[Bytes], unit: i64, cmd: &str) -> CmdResult {
    let at = expire_arg(&argv[2], unit, false, ctx.now, cmd)?;
    store(ctx, &argv[1], new_str(&argv[3]), Ttl::At(at));
    Ok(Reply::ok())
}

pub fn setex(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    setex_generic(ctx, argv, 1000, "setex")
}

pub fn psetex(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    setex_generic(ctx, argv, 1, "psetex")
}

pub fn get(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    Ok(str_reply(ctx.read::<StrValue>(&argv[1])?))
}

pub fn getset(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let old = ctx.read::<StrValue>(&argv[1])?.map(StrValue::to_bytes);
    store(ctx, &argv[1], new_str(&argv[2]), Ttl::Clear);
    Ok(old.map_or(Reply::Nil, Reply::Bulk))
}

pub fn getdel(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let old = ctx.read::<StrValue>(&argv[1])?.map(StrValue::to_bytes);
    if old.is_some() {
        let now = ctx.now;
        ctx.db().remove(&argv[1], now);
        ctx.dirty += 1;
    }
    Ok(old.map_or(Reply::Nil, Reply::Bulk))
}

/// GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST] (matches `getexCommand`:
/// options first, then the key — a missing key is nil even with a bad time
/// — then the time; an absolute time already past deletes the key).
pub fn getex(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let opts = parse_str_opts(&argv[2..], false)?;
    let Some(val) = ctx.read::<StrValue>(key)?.map(StrValue::to_bytes) else {
        return Ok(Reply::Nil);
    };
    let now = ctx.now;
    match opts.deadline(now, "getex")? {
        Some(at) if at <= now => {
            ctx.db().remove(key, now);
            ctx.dirty += 1;
        }
        Some(at) => {
            ctx.db().set_expire(key, at, now);
            ctx.dirty += 1;
        }
        None if opts.persist => {
            let had_ttl = ctx.db().peek(key, now).is_some_and(|e| e.expire_at != 0);
            if had_ttl {
                ctx.db().set_expire(key, 0, now);
                ctx.dirty += 1;
            }
        }
        None => {}
    }
    Ok(Reply::Bulk(val))
}

pub fn mget(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let now = ctx.now;
    let db = ctx.db();
    let out = argv[1..]
        .iter()
        .map(|k| match db.get(k, now).map(|e| &e.value) {
            Some(Value::Str(s)) => Reply::Bulk(s.to_bytes()),
            _ => Reply::Nil,
        })
        .collect();
    Ok(Reply::Array(out))
}

fn check_pairs(argv: &[Bytes], name: &str) -> Result<(), CmdError> {
    if argv.len() % 2 == 0 {
        Err(CmdError::WrongArity(name.into()))
    } else {
        Ok(())
    }
}

pub fn mset(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    check_pairs(argv, "mset")?;
    for pair in argv[1..].chunks_exact(2) {
        store(ctx, &pair[0], new_str(&pair[1]), Ttl::Clear);
    }
    Ok(Reply::ok())
}

pub fn msetnx(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    check_pairs(argv, "msetnx")?;
    let now = ctx.now;
    if argv[1..]
        .chunks_exact(2)
        .any(|p| ctx.db().contains(&p[0], now))
    {
        return Ok(Reply::Integer(0));
    }
    for pair in argv[1..].chunks_exact(2) {
        store(ctx, &pair[0], new_str(&pair[1]), Ttl::Clear);
    }
    Ok(Reply::Integer(1))
}

/// Checks that a string of `len` bytes is allowed (`checkStringLength`).
fn check_len(ctx: &KeyCtx, len: u64) -> Result<(), CmdError> {
    if len > ctx.proto_max_bulk_len {
        Err(CmdError::StringTooLong)
    } else {
        Ok(())
    }
}

pub fn append(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let (key, extra) = (&argv[1], &argv[2]);
    let cur_len = ctx.read::<StrValue>(key)?.map(StrValue::len);
    let now = ctx.now;
    match cur_len {
        None => {
            // A new key stores the argument encoded (`tryObjectEncoding`):
            // APPEND to a missing key of "12" makes an int.
            ctx.dirty += 1;
            ctx.db().insert(key, new_str(extra), 0, now);
            Ok(Reply::Integer(extra.len() as i64))
        }
        Some(len) => {
            check_len(ctx, (len + extra.len()) as u64)?;
            ctx.dirty += 1;
            let Some(e) = ctx.db().get_mut(key, now) else {
                return Ok(Reply::Integer(0));
            };
            let Value::Str(s) = &mut e.value else {
                return Err(CmdError::WrongType);
            };
            let buf = s.grow_to(len + extra.len());
            buf.truncate(len);
            buf.extend_from_slice(extra);
            Ok(Reply::Integer(buf.len() as i64))
        }
    }
}

pub fn strlen(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(
        ctx.read::<StrValue>(&argv[1])?.map_or(0, StrValue::len) as i64,
    ))
}

/// INCR/DECR/INCRBY/DECRBY core (`incrDecrCommand`).
fn incr_by(ctx: &mut KeyCtx, key: &Bytes, delta: i64) -> CmdResult {
    let now = ctx.now;
    // One probe for an existing key (`lookupKeyWrite`, no hit/miss counting).
    if let Some(e) = ctx.db().get_mut(key, now) {
        let s = match &mut e.value {
            Value::Str(s) => s,
            _ => return Err(CmdError::WrongType),
        };
        let cur = match &*s {
            StrValue::Int(i) => *i,
            other => {
                let mut scratch = Vec::new();
                num::parse_i64(other.as_slice(&mut scratch)).ok_or(CmdError::NotInteger)?
            }
        };
        let new = cur.checked_add(delta).ok_or(CmdError::Overflow)?;
        *s = StrValue::Int(new);
        ctx.dirty += 1;
        return Ok(Reply::Integer(new));
    }
    ctx.dirty += 1;
    ctx.db()
        .insert(key, Value::Str(StrValue::Int(delta)), 0, now);
    Ok(Reply::Integer(delta))
}

pub fn incr(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    incr_by(ctx, &argv[1], 1)
}

pub fn decr(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    incr_by(ctx, &argv[1], -1)
}

pub fn incrby(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let d = parse_i64(&argv[2])?;
    incr_by(ctx, &argv[1], d)
}

pub fn decrby(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let d = parse_i64(&argv[2])?;
    if d == i64::MIN {
        return Err(CmdError::err("decrement would overflow"));
    }
    incr_by(ctx, &argv[1], -d)
}

/// INCRBYFLOAT key increment (matches `incrbyfloatCommand`): the stored
/// value, then the increment, parsed as `long double`; the sum must be
/// finite; the result is stored as text (never int-encoded) and keeps the
/// key's TTL.
pub fn incrbyfloat(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let cur = match ctx.read::<StrValue>(key)? {
        None => LongDouble::Finite {
            neg: false,
            mant: 0,
            exp: 0,
        },
        Some(s) => {
            let mut scratch = Vec::new();
            LongDouble::parse(s.as_slice(&mut scratch)).ok_or(CmdError::NotFloat)?
        }
    };
    let incr = LongDouble::parse(&argv[2]).ok_or(CmdError::NotFloat)?;
    let new = cur.checked_add(incr).ok_or(CmdError::NanOrInfinity)?;
    let text = Bytes::from(new.to_human());
    let now = ctx.now;
    ctx.dirty += 1;
    let value = Value::Str(StrValue::Raw(text.clone()));
    match ctx.db().get_mut(key, now) {
        Some(e) => e.value = value,
        None => {
            ctx.db().insert(key, value, 0, now);
        }
    }
    Ok(Reply::Bulk(text))
}

pub fn getrange(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let start = parse_i64(&argv[2])?;
    let end = parse_i64(&argv[3])?;
    let mut scratch = Vec::new();
    Ok(match ctx.read::<StrValue>(&argv[1])? {
        None => Reply::Bulk(Bytes::new()),
        Some(s) => Reply::Bulk(Bytes::copy_from_slice(strops::getrange(
            s.as_slice(&mut scratch),
            start,
            end,
        ))),
    })
}

pub fn setrange(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let offset = parse_i64(&argv[2])?;
    let data = &argv[3];
    if offset < 0 {
        return Err(CmdError::OffsetOutOfRange);
    }
    let offset = offset as u64;
    let cur_len = ctx.read::<StrValue>(key)?.map(StrValue::len);
    let now = ctx.now;
    match cur_len {
        None => {
            if data.is_empty() {
                return Ok(Reply::Integer(0));
            }
            check_len(ctx, offset + data.len() as u64)?;
            let mut buf = Vec::new();
            strops::setrange(&mut buf, offset as usize, data);
            let len = buf.len();
            ctx.dirty += 1;
            ctx.db()
                .insert(key, Value::Str(StrValue::new_buf(buf)), 0, now);
            Ok(Reply::Integer(len as i64))
        }
        Some(len) => {
            if data.is_empty() {
                return Ok(Reply::Integer(len as i64));
            }
            check_len(ctx, offset + data.len() as u64)?;
            ctx.dirty += 1;
            let Some(e) = ctx.db().get_mut(key, now) else {
                return Ok(Reply::Integer(0));
            };
            let Value::Str(s) = &mut e.value else {
                return Err(CmdError::WrongType);
            };
            // check_len bounded offset + data.len() by proto-max-bulk-len.
            let end = offset as usize + data.len();
            let buf = s.grow_to(len.max(end));
            strops::setrange(buf, offset as usize, data);
            Ok(Reply::Integer(buf.len() as i64))
        }
    }
}

/// Parses a bit offset (`getBitOffsetFromArgument`): 0 ..= 2^32-1 (512 MB).
fn bit_offset(raw: &[u8], ctx: &KeyCtx) -> Result<u64, CmdError> {
    let v = num::parse_i64(raw).ok_or(CmdError::BitOffset)?;
    let max = ctx.proto_max_bulk_len.saturating_mul(8);
    if v < 0 || (v as u64) >= max {
        return Err(CmdError::BitOffset);
    }
    Ok(v as u64)
}

pub fn setbit(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let offset = bit_offset(&argv[2], ctx)?;
    let on = match argv[3].as_ref() {
        b"1" => true,
        b"0" => false,
        _ => return Err(CmdError::BitValue),
    };
    let exists = ctx.read::<StrValue>(key)?.is_some();
    let now = ctx.now;
    ctx.dirty += 1;
    if !exists {
        let mut buf = Vec::new();
        strops::setbit(&mut buf, offset, on);
        ctx.db()
            .insert(key, Value::Str(StrValue::new_buf(buf)), 0, now);
        return Ok(Reply::Integer(0));
    }
    let Some(e) = ctx.db().get_mut(key, now) else {
        return Ok(Reply::Integer(0));
    };
    let Value::Str(s) = &mut e.value else {
        return Err(CmdError::WrongType);
    };
    // bit_offset bounded the offset by proto-max-bulk-len * 8.
    let need = (offset >> 3) as usize + 1;
    let len = s.len();
    let old = strops::setbit(s.grow_to(len.max(need)), offset, on);
    Ok(Reply::Integer(old as i64))
}

pub fn getbit(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let offset = bit_offset(&argv[2], ctx)?;
    let mut scratch = Vec::new();
    Ok(Reply::Integer(match ctx.read::<StrValue>(&argv[1])? {
        None => 0,
        Some(s) => strops::getbit(s.as_slice(&mut scratch), offset) as i64,
    }))
}

/// The `BYTE|BIT` word of BITCOUNT / BITPOS.
fn bit_unit(raw: &[u8]) -> Result<strops::BitUnit, CmdError> {
    if raw.eq_ignore_ascii_case(b"BIT") {
        Ok(strops::BitUnit::Bit)
    } else if raw.eq_ignore_ascii_case(b"BYTE") {
        Ok(strops::BitUnit::Byte)
    } else {
        Err(CmdError::Syntax)
    }
}

/// BITCOUNT key [start end [BYTE|BIT]] (matches `bitcountCommand`: a
/// missing key is 0 before any argument is looked at; start and end are
/// parsed before the unit, and both negative with start > end is 0 at once).
pub fn bitcount(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let mut scratch = Vec::new();
    let Some(s) = ctx.read::<StrValue>(&argv[1])? else {
        return Ok(Reply::Integer(0));
    };
    let s = s.as_slice(&mut scratch);
    let range = match argv {
        [_, _] => None,
        [_, _, start, end, unit @ ..] if unit.len() <= 1 => {
            let (start, end) = (parse_i64(start)?, parse_i64(end)?);
            if start < 0 && end < 0 && start > end {
                return Ok(Reply::Integer(0));
            }
            let unit = match unit.first() {
                Some(u) => bit_unit(u)?,
                None => strops::BitUnit::Byte,
            };
            Some((start, end, unit))
        }
        _ => return Err(CmdError::Syntax),
    };
    Ok(Reply::Integer(strops::bitcount(s, range)))
}

/// BITPOS key bit [start [end [BYTE|BIT]]] (matches `bitposCommand`: the
/// bit is parsed as an integer first, then a missing key answers at once;
/// the unit is checked before END is parsed).
pub fn bitpos(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let bit = match parse_i64(&argv[2])? {
        0 => false,
        1 => true,
        _ => return Err(CmdError::err("The bit argument must be 1 or 0.")),
    };
    let mut scratch = Vec::new();
    let Some(s) = ctx.read::<StrValue>(&argv[1])? else {
        return Ok(Reply::Integer(strops::bitpos_missing_key(bit)));
    };
    let s = s.as_slice(&mut scratch);
    let pos = match argv {
        [_, _, _] => strops::bitpos(s, bit, None, None, strops::BitUnit::Byte, false),
        [_, _, _, start, rest @ ..] if rest.len() <= 2 => {
            let start = parse_i64(start)?;
            let unit = match rest.get(1) {
                Some(u) => bit_unit(u)?,
                None => strops::BitUnit::Byte,
            };
            let end = rest.first().map(|e| parse_i64(e)).transpose()?;
            strops::bitpos(s, bit, Some(start), end, unit, end.is_some())
        }
        _ => return Err(CmdError::Syntax),
    };
    Ok(Reply::Integer(pos))
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]
pub fn bitop(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let op = match argv[1].to_ascii_uppercase().as_slice() {
        b"AND" => strops::BitOp::And,
        b"OR" => strops::BitOp::Or,
        b"XOR" => strops::BitOp::Xor,
        b"NOT" => strops::BitOp::Not,
        _ => return Err(CmdError::Syntax),
    };
    let dest = &argv[2];
    let srcs = &argv[3..];
    if matches!(op, strops::BitOp::Not) && srcs.len() != 1 {
        return Err(CmdError::err(
            "BITOP NOT must be called with a single source key.",
        ));
    }
    let mut values: Vec<Vec<u8>> = Vec::with_capacity(srcs.len());
    for k in srcs {
        let mut scratch = Vec::new();
        values.push(match ctx.read::<StrValue>(k)? {
            None => Vec::new(),
            Some(s) => s.as_slice(&mut scratch).to_vec(),
        });
    }
    let refs: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
    let out = strops::bitop(op, &refs);
    let now = ctx.now;
    ctx.dirty += 1;
    let len = out.len();
    if out.is_empty() {
        ctx.db().remove(dest, now);
    } else {
        ctx.db()
            .insert(dest, Value::Str(StrValue::new_buf(out)), 0, now);
    }
    Ok(Reply::Integer(len as i64))
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
pub fn lcs(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let mut args = Args::new(argv);
    let (k1, k2) = (args.arg()?, args.arg()?);
    let (mut want_len, mut idx, mut with_len) = (false, false, false);
    let mut min_len = 0usize;
    while !args.is_empty() {
        if args.eat("LEN") {
            want_len = true;
        } else if args.eat("IDX") {
            idx = true;
        } else if args.eat("WITHMATCHLEN") {
            with_len = true;
        } else if args.eat("MINMATCHLEN") {
            min_len = args.next_i64()?.max(0) as usize;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if want_len && idx {
        return Err(CmdError::err(
            "If you want both the length and indexes, please just use IDX.",
        ));
    }
    let mut s1 = Vec::new();
    let a = ctx
        .read::<StrValue>(k1)?
        .map(|s| s.as_slice(&mut s1).to_vec())
        .unwrap_or_default();
    let mut s2 = Vec::new();
    let b = ctx
        .read::<StrValue>(k2)?
        .map(|s| s.as_slice(&mut s2).to_vec())
        .unwrap_or_default();
    if strops::lcs_table_too_big(a.len(), b.len(), ctx.proto_max_bulk_len) {
        return Err(CmdError::err(
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let r = strops::lcs(&a, &b, min_len, idx);
    if want_len {
        return Ok(Reply::Integer(r.len as i64));
    }
    if !idx {
        return Ok(Reply::Bulk(Bytes::from(r.text)));
    }
    let matches = r
        .matches
        .iter()
        .map(|m| {
            let mut item = vec![
                Reply::Array(vec![
                    Reply::Integer(m.a.0 as i64),
                    Reply::Integer(m.a.1 as i64),
                ]),
                Reply::Array(vec![
                    Reply::Integer(m.b.0 as i64),
                    Reply::Integer(m.b.1 as i64),
                ]),
            ];
            if with_len {
                item.push(Reply::Integer(m.len as i64));
            }
            Reply::Array(item)
        })
        .collect();
    Ok(Reply::Map(vec![
        (Reply::bulk_str("matches"), Reply::Array(matches)),
        (Reply::bulk_str("len"), Reply::Integer(r.len as i64)),
    ]))
}

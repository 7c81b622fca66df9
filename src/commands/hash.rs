//! Hash commands (Redis's `t_hash.c`): HSET HSETNX HGET HMGET HMSET HDEL
//! HLEN HSTRLEN HEXISTS HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD
//! HSCAN. Parsed and run on the shard that owns the key. The data side
//! (encodings, conversions, random picks, scan steps) is in
//! `shard/types/hash.rs`; here are argument order, type checks, replies and
//! the rule that a key never holds an empty hash.

use bytes::Bytes;

use super::args::{parse_i64, scan_cursor, ScanOpts};
use super::error::CmdError;
use super::server::scan_reply;
use super::{CmdResult, KeyCtx};
use crate::protocol::Reply;
use crate::shard::types::hash::Hash;
use crate::shard::types::string::LongDouble;
use crate::shard::value::Value;
use crate::util::rng::Rng;

/// HRANDFIELD with a negative count builds its whole reply in memory; Redis
/// streams it and would take any count up to `LONG_MAX`.
// COMPAT: above this many picks we reply `value is out of range` instead of
// exhausting memory (one reply element costs ~40 bytes before encoding).
const MAX_RANDOM_REPEATS: u64 = 1 << 22;

/// `hashTypeLookupWriteOrCreate`: the hash at `key`, a new empty one when
/// missing. Callers store a field right after, so no empty key remains.
fn hash_or_create<'a>(ctx: &'a mut KeyCtx, key: &[u8]) -> Result<&'a mut Hash, CmdError> {
    if ctx.write::<Hash>(key)?.is_none() {
        let now = ctx.now;
        ctx.db().insert(key, Value::Hash(Hash::new()), 0, now);
    }
    ctx.write::<Hash>(key)?.ok_or(CmdError::NoSuchKey)
}

fn bulk_or_nil(v: Option<&[u8]>) -> Reply {
    v.map_or(Reply::Nil, Reply::copied)
}

/// Field/value pairs as HRANDFIELD WITHVALUES answers them.
/// (field, value) pairs: flat in RESP2, `[field, value]` arrays in RESP3.
fn pairs_reply(pairs: Vec<(Bytes, Bytes)>) -> Reply {
    Reply::Pairs(
        pairs
            .into_iter()
            .map(|(f, v)| (Reply::Bulk(f), Reply::Bulk(v)))
            .collect(),
    )
}

fn fields_reply(pairs: Vec<(Bytes, Bytes)>) -> Reply {
    Reply::Array(pairs.into_iter().map(|(f, _)| Reply::Bulk(f)).collect())
}

/// HSET / HMSET core (`hsetCommand`): the pair count is checked before the
/// key, then `hashTypeTryConversion` over every field and value, then the
/// pairs are set in order. Returns how many fields were new.
fn hset_generic(ctx: &mut KeyCtx, argv: &[Bytes], name: &str) -> Result<i64, CmdError> {
    if argv.len() < 4 || argv.len() % 2 != 0 {
        return Err(CmdError::WrongArity(name.into()));
    }
    let enc = ctx.enc;
    let h = hash_or_create(ctx, &argv[1])?;
    let args = &argv[2..];
    h.try_conversion(args, &enc);
    let mut created = 0;
    for pair in args.chunks_exact(2) {
        if h.set(&pair[0], &pair[1], &enc) {
            created += 1;
        }
    }
    ctx.dirty += (args.len() / 2) as u64;
    Ok(created)
}

/// HSET key field value [field value ...]: the number of new fields.
pub fn hset(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    hset_generic(ctx, argv, "hset").map(Reply::Integer)
}

/// HMSET key field value [field value ...]: OK.
pub fn hmset(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    hset_generic(ctx, argv, "hmset").map(|_| Reply::ok())
}

/// HSETNX key field value (`hsetnxCommand`): 1 when set, 0 when the field
/// exists (and then no conversion happens).
pub fn hsetnx(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let enc = ctx.enc;
    let h = hash_or_create(ctx, &argv[1])?;
    if h.contains(&argv[2]) {
        return Ok(Reply::Integer(0));
    }
    h.try_conversion(&argv[2..4], &enc);
    h.set(&argv[2], &argv[3], &enc);
    ctx.dirty += 1;
    Ok(Reply::Integer(1))
}

pub fn hget(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    Ok(bulk_or_nil(
        ctx.read::<Hash>(&argv[1])?.and_then(|h| h.get(&argv[2])),
    ))
}

/// HMGET key field [field ...]: a nil per missing field; a missing key is
/// all nils, another type WRONGTYPE.
pub fn hmget(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let h = ctx.read::<Hash>(&argv[1])?;
    Ok(Reply::Array(
        argv[2..]
            .iter()
            .map(|f| bulk_or_nil(h.and_then(|h| h.get(f))))
            .collect(),
    ))
}

/// HDEL key field [field ...] (`hdelCommand`): how many were removed; the
/// key goes with its last field.
pub fn hdel(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let Some(h) = ctx.write::<Hash>(key)? else {
        return Ok(Reply::Integer(0));
    };
    let mut deleted = 0i64;
    for f in &argv[2..] {
        if h.remove(f) {
            deleted += 1;
            if h.is_empty() {
                break;
            }
        }
    }
    let empty = h.is_empty();
    if empty {
        let now = ctx.now;
        ctx.db().remove(key, now);
    }
    ctx.dirty += deleted as u64;
    Ok(Reply::Integer(deleted))
}

pub fn hlen(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(
        ctx.read::<Hash>(&argv[1])?.map_or(0, Hash::len) as i64,
    ))
}

/// HSTRLEN key field: the value's length, 0 when missing.
pub fn hstrlen(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let len = ctx
        .read::<Hash>(&argv[1])?
        .and_then(|h| h.get(&argv[2]))
        .map_or(0, <[u8]>::len);
    Ok(Reply::Integer(len as i64))
}

pub fn hexists(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let found = ctx
        .read::<Hash>(&argv[1])?
        .is_some_and(|h| h.contains(&argv[2]));
    Ok(Reply::Integer(i64::from(found)))
}

/// HKEYS / HVALS / HGETALL (`genericHgetallCommand`): arrays, except that
/// HGETALL is a map (RESP3 `%`, empty map for a missing key).
pub fn hkeys(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Array(match ctx.read::<Hash>(&argv[1])? {
        Some(h) => h.iter().map(|(f, _)| Reply::copied(f)).collect(),
        None => Vec::new(),
    }))
}

pub fn hvals(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Array(match ctx.read::<Hash>(&argv[1])? {
        Some(h) => h.iter().map(|(_, v)| Reply::copied(v)).collect(),
        None => Vec::new(),
    }))
}

pub fn hgetall(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Map(match ctx.read::<Hash>(&argv[1])? {
        Some(h) => h
            .iter()
            .map(|(f, v)| (Reply::copied(f), Reply::copied(v)))
            .collect(),
        None => Vec::new(),
    }))
}

/// Stores `value` under `field` of the hash at `key` (created if needed),
/// as HINCRBY / HINCRBYFLOAT do once the new value is known.
fn store(ctx: &mut KeyCtx, key: &[u8], field: &[u8], value: &[u8]) -> Result<(), CmdError> {
    let enc = ctx.enc;
    hash_or_create(ctx, key)?.set(field, value, &enc);
    ctx.dirty += 1;
    Ok(())
}

/// HINCRBY key field increment (`hincrbyCommand`): the increment, then
/// the type, then the stored value must be a strict integer.
pub fn hincrby(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let incr = parse_i64(&argv[3])?;
    let cur = match ctx.write::<Hash>(&argv[1])?.and_then(|h| h.get(&argv[2])) {
        Some(v) => crate::util::num::parse_i64(v)
            .ok_or_else(|| CmdError::err("hash value is not an integer"))?,
        None => 0,
    };
    let new = cur.checked_add(incr).ok_or(CmdError::Overflow)?;
    store(ctx, &argv[1], &argv[2], new.to_string().as_bytes())?;
    Ok(Reply::Integer(new))
}

/// HINCRBYFLOAT key field increment (`hincrbyfloatCommand`): computed in
/// long double and printed like INCRBYFLOAT. An infinite increment is
/// refused before the key is looked at.
pub fn hincrbyfloat(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let incr = LongDouble::parse(&argv[3]).ok_or(CmdError::NotFloat)?;
    if matches!(incr, LongDouble::Inf { .. }) {
        return Err(CmdError::err("value is NaN or Infinity"));
    }
    let cur = match ctx.write::<Hash>(&argv[1])?.and_then(|h| h.get(&argv[2])) {
        Some(v) => {
            LongDouble::parse(v).ok_or_else(|| CmdError::err("hash value is not a float"))?
        }
        None => LongDouble::Finite {
            neg: false,
            mant: 0,
            exp: 0,
        },
    };
    let new = cur.checked_add(incr).ok_or(CmdError::NanOrInfinity)?;
    let text = Bytes::from(new.to_human());
    store(ctx, &argv[1], &argv[2], &text)?;
    Ok(Reply::Bulk(text))
}

/// HRANDFIELD key [count [WITHVALUES]] (`hrandfieldCommand`): the count and
/// options are checked before the key. Without a count: one field, nil for
/// a missing key.
pub fn hrandfield(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    if argv.len() >= 3 {
        let count = parse_i64(&argv[2])?;
        if count == i64::MIN {
            // getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX).
            return Err(CmdError::err(
                "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            ));
        }
        let withvalues = match argv.get(3) {
            None => false,
            Some(w) if argv.len() == 4 && w.eq_ignore_ascii_case(b"withvalues") => true,
            Some(_) => return Err(CmdError::Syntax),
        };
        if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
            return Err(CmdError::err("value is out of range"));
        }
        return hrandfield_count(ctx, &argv[1], count, withvalues);
    }
    let Some(h) = ctx.read::<Hash>(&argv[1])? else {
        return Ok(Reply::Nil);
    };
    let mut rng = Rng::new();
    Ok(bulk_or_nil(h.random_pair(&mut rng).map(|(f, _)| f)))
}

/// `hrandfieldWithCountCommand`: a negative count may repeat fields (and
/// answers exactly |count| of them), a positive one never does (and
/// answers at most the hash's size).
fn hrandfield_count(ctx: &mut KeyCtx, key: &[u8], count: i64, withvalues: bool) -> CmdResult {
    let Some(h) = ctx.read::<Hash>(key)? else {
        return Ok(Reply::Array(Vec::new()));
    };
    if count == 0 {
        return Ok(Reply::Array(Vec::new()));
    }
    let mut rng = Rng::new();
    let picked = if count < 0 {
        let n = count.unsigned_abs();
        if n > MAX_RANDOM_REPEATS {
            return Err(CmdError::err("value is out of range"));
        }
        h.random_pairs_with_repeats(n as usize, &mut rng)
    } else {
        h.random_pairs_distinct(usize::try_from(count).unwrap_or(usize::MAX), &mut rng)
    };
    Ok(if withvalues {
        pairs_reply(picked)
    } else {
        fields_reply(picked)
    })
}

/// HSCAN key cursor [MATCH pattern] [COUNT count] (`hscanCommand` +
/// `scanGenericCommand`): the cursor is checked first, then the key (a
/// missing one answers an empty scan whatever the options), then the
/// options. MATCH filters on the field and drops its value with it.
pub fn hscan(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let cursor = scan_cursor(&argv[2])?;
    let Some(h) = ctx.read::<Hash>(&argv[1])? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let opts = ScanOpts::parse(&argv[3..])?;
    let (found, next) = h.scan(cursor, opts.count);
    let items = found
        .into_iter()
        .filter(|(f, _)| opts.matches(f))
        .flat_map(|(f, v)| [f, v])
        .collect();
    Ok(scan_reply(next, items))
}

//! List commands (Redis's `t_list.c`), the non-blocking ones: LPUSH RPUSH
//! LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS
//! LMOVE RPOPLPUSH LMPOP. Parsed and run on the shard that owns the keys
//! (LMOVE / RPOPLPUSH / LMPOP over keys of several shards run as a
//! cross-shard transaction on scratch copies). The data operations are in
//! `shard/types/list.rs`; here are argument order, type checks, replies and
//! the rule that a key never holds an empty list.

use bytes::Bytes;

use super::args::{as_count, parse_i64, ranged};
use super::blocking::parse_timeout;
use super::error::CmdError;
use super::{CmdResult, KeyCtx};
use crate::protocol::Reply;
use crate::shard::types::list::{End, List};
use crate::shard::value::Value;

fn bulks(items: Vec<Bytes>) -> Reply {
    Reply::Array(items.into_iter().map(Reply::Bulk).collect())
}

/// `LEFT` / `RIGHT` (`getListPositionFromObjectOrReply`).
fn end_arg(raw: &[u8]) -> Result<End, CmdError> {
    if raw.eq_ignore_ascii_case(b"left") {
        Ok(End::Left)
    } else if raw.eq_ignore_ascii_case(b"right") {
        Ok(End::Right)
    } else {
        Err(CmdError::Syntax)
    }
}

/// LPUSH / RPUSH / LPUSHX / RPUSHX (`pushGenericCommand`): the new length;
/// the X forms answer 0 for a missing key.
fn push_generic(ctx: &mut KeyCtx, argv: &[Bytes], end: End, xx: bool) -> CmdResult {
    let key = &argv[1];
    let elems = &argv[2..];
    let len = match ctx.write::<List>(key)? {
        Some(l) => {
            for e in elems {
                l.push(end, e);
            }
            l.len()
        }
        None if xx => return Ok(Reply::Integer(0)),
        None => {
            let mut l = List::new();
            for e in elems {
                l.push(end, e);
            }
            let len = l.len();
            let now = ctx.now;
            ctx.db().insert(key, Value::List(l), 0, now);
            len
        }
    };
    ctx.dirty += elems.len() as u64;
    Ok(Reply::Integer(len as i64))
}

pub fn lpush(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    push_generic(ctx, argv, End::Left, false)
}

pub fn rpush(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    push_generic(ctx, argv, End::Right, false)
}

pub fn lpushx(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    push_generic(ctx, argv, End::Left, true)
}

pub fn rpushx(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    push_generic(ctx, argv, End::Right, true)
}

/// LPOP / RPOP key [count] (`popGenericCommand`): the count is checked
/// before the key; a missing key is a nil (nil array with a count); a count
/// of 0 on an existing list is an empty array.
fn pop_generic(ctx: &mut KeyCtx, argv: &[Bytes], end: End, name: &str) -> CmdResult {
    let count = match argv.len() {
        2 => None,
        3 => Some(as_count(ranged(
            &argv[2],
            0,
            "value is out of range, must be positive",
        )?)),
        _ => return Err(CmdError::WrongArity(name.into())),
    };
    let key = &argv[1];
    let Some(l) = ctx.write::<List>(key)? else {
        return Ok(if count.is_some() {
            Reply::NilArray
        } else {
            Reply::Nil
        });
    };
    let (reply, popped) = match count {
        Some(0) => return Ok(Reply::Array(Vec::new())),
        Some(n) => {
            let items = l.pop_many(end, n);
            let k = items.len();
            (bulks(items), k)
        }
        None => match l.pop(end) {
            Some(e) => (Reply::Bulk(e), 1),
            None => (Reply::Nil, 0),
        },
    };
    ctx.dirty += popped as u64;
    ctx.drop_if_empty(key);
    Ok(reply)
}

pub fn lpop(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    pop_generic(ctx, argv, End::Left, "lpop")
}

pub fn rpop(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    pop_generic(ctx, argv, End::Right, "rpop")
}

pub fn llen(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(
        ctx.read::<List>(&argv[1])?.map_or(0, List::len) as i64,
    ))
}

/// LRANGE key start stop: indexes first, then the key (`lrangeCommand`).
pub fn lrange(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let start = parse_i64(&argv[2])?;
    let end = parse_i64(&argv[3])?;
    Ok(match ctx.read::<List>(&argv[1])? {
        Some(l) => Reply::Array(l.range(start, end).map(Reply::copied).collect()),
        None => Reply::Array(Vec::new()),
    })
}

/// LINDEX key index: the key first (a missing key is nil whatever the
/// index), then the index (`lindexCommand`).
pub fn lindex(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let Some(l) = ctx.read::<List>(&argv[1])? else {
        return Ok(Reply::Nil);
    };
    let index = parse_i64(&argv[2])?;
    Ok(l.get(index).map_or(Reply::Nil, Reply::copied))
}

/// LSET key index element (`lsetCommand`): no such key, then the index.
pub fn lset(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let Some(l) = ctx.write::<List>(&argv[1])? else {
        return Err(CmdError::NoSuchKey);
    };
    let index = parse_i64(&argv[2])?;
    if !l.set(index, &argv[3]) {
        return Err(CmdError::IndexOutOfRange);
    }
    ctx.dirty += 1;
    Ok(Reply::ok())
}

/// LINSERT key BEFORE|AFTER pivot element (`linsertCommand`): the new
/// length, -1 without the pivot, 0 for a missing key.
pub fn linsert(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let after = if argv[2].eq_ignore_ascii_case(b"after") {
        true
    } else if argv[2].eq_ignore_ascii_case(b"before") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let Some(l) = ctx.write::<List>(&argv[1])? else {
        return Ok(Reply::Integer(0));
    };
    if !l.insert(after, &argv[3], &argv[4]) {
        return Ok(Reply::Integer(-1));
    }
    let len = l.len();
    ctx.dirty += 1;
    Ok(Reply::Integer(len as i64))
}

/// LREM key count element (`lremCommand`).
pub fn lrem(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let count = parse_i64(&argv[2])?;
    let Some(l) = ctx.write::<List>(&argv[1])? else {
        return Ok(Reply::Integer(0));
    };
    let removed = l.remove(count, &argv[3]);
    ctx.dirty += removed as u64;
    ctx.drop_if_empty(&argv[1]);
    Ok(Reply::Integer(removed as i64))
}

/// LTRIM key start stop (`ltrimCommand`): always OK.
pub fn ltrim(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let start = parse_i64(&argv[2])?;
    let end = parse_i64(&argv[3])?;
    let Some(l) = ctx.write::<List>(&argv[1])? else {
        return Ok(Reply::ok());
    };
    let removed = l.trim(start, end);
    ctx.dirty += removed as u64;
    ctx.drop_if_empty(&argv[1]);
    Ok(Reply::ok())
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
/// (`lposCommand`): options first, then the key.
pub fn lpos(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let (mut rank, mut count, mut maxlen) = (1i64, None, 0usize);
    let mut opts = argv[3..].iter();
    while let Some(opt) = opts.next() {
        let value = opts.as_slice().first();
        match value {
            Some(v) if opt.eq_ignore_ascii_case(b"RANK") => {
                rank = parse_i64(v)?;
                if rank == 0 {
                    return Err(CmdError::err(
                        "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                    ));
                }
            }
            Some(v) if opt.eq_ignore_ascii_case(b"COUNT") => {
                count = Some(as_count(ranged(v, 0, "COUNT can't be negative")?));
            }
            Some(v) if opt.eq_ignore_ascii_case(b"MAXLEN") => {
                maxlen = as_count(ranged(v, 0, "MAXLEN can't be negative")?);
            }
            _ => return Err(CmdError::Syntax),
        }
        opts.next();
    }
    let Some(l) = ctx.read::<List>(&argv[1])? else {
        return Ok(match count {
            Some(_) => Reply::Array(Vec::new()),
            None => Reply::Nil,
        });
    };
    let found = l.positions(&argv[2], rank, count.unwrap_or(1), maxlen);
    Ok(match count {
        Some(_) => Reply::Array(
            found
                .into_iter()
                .map(|i| Reply::Integer(i as i64))
                .collect(),
        ),
        None => found
            .first()
            .map_or(Reply::Nil, |&i| Reply::Integer(i as i64)),
    })
}

/// LMOVE / RPOPLPUSH core (`lmoveGenericCommand`): source nil or WRONGTYPE
/// first, then the destination's type; nothing moves on an error. The same
/// key rotates its list (and is never deleted on the way).
fn move_generic(ctx: &mut KeyCtx, src: &Bytes, dst: &Bytes, from: End, to: End) -> CmdResult {
    if ctx.write::<List>(src)?.is_none() {
        return Ok(Reply::Nil);
    }
    if src != dst {
        ctx.write::<List>(dst)?;
    }
    let Some(value) = ctx.write::<List>(src)?.and_then(|l| l.pop(from)) else {
        return Ok(Reply::Nil);
    };
    match ctx.write::<List>(dst)? {
        Some(l) => l.push(to, &value),
        None => {
            let mut l = List::new();
            l.push(to, &value);
            let now = ctx.now;
            ctx.db().insert(dst, Value::List(l), 0, now);
        }
    }
    ctx.dirty += 1;
    ctx.drop_if_empty(src);
    Ok(Reply::Bulk(value))
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
pub fn lmove(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let from = end_arg(&argv[3])?;
    let to = end_arg(&argv[4])?;
    move_generic(ctx, &argv[1], &argv[2], from, to)
}

/// RPOPLPUSH source destination = LMOVE source destination RIGHT LEFT.
pub fn rpoplpush(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    move_generic(ctx, &argv[1], &argv[2], End::Right, End::Left)
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
/// (`lmpopGenericCommand` + `mpopGenericCommand`): pops from the first
/// non-empty list; `[key, [elements]]`, or a nil array when all are missing.
/// The table marks LMPOP `MOVABLE_KEYS`, so routing and locking see exactly
/// the `numkeys` keys.
pub fn lmpop(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let numkeys = ranged(&argv[1], 1, "numkeys should be greater than 0")?;
    let where_idx = as_count(numkeys).saturating_add(2);
    let Some(where_arg) = argv.get(where_idx) else {
        return Err(CmdError::Syntax);
    };
    let end = end_arg(where_arg)?;
    let mut count = None;
    let mut opts = argv[where_idx + 1..].iter();
    while let Some(opt) = opts.next() {
        match opts.as_slice().first() {
            Some(v) if count.is_none() && opt.eq_ignore_ascii_case(b"COUNT") => {
                count = Some(as_count(ranged(v, 1, "count should be greater than 0")?));
                opts.next();
            }
            _ => return Err(CmdError::Syntax),
        }
    }
    let count = count.unwrap_or(1);
    for key in &argv[2..where_idx] {
        let Some(l) = ctx.write::<List>(key)? else {
            continue;
        };
        let items = l.pop_many(end, count);
        if items.is_empty() {
            continue;
        }
        ctx.dirty += items.len() as u64;
        ctx.drop_if_empty(key);
        return Ok(Reply::Array(vec![Reply::Bulk(key.clone()), bulks(items)]));
    }
    Ok(Reply::NilArray)
}

// --- blocking pops: the attempt before blocking ----------------------------
// Each runs once when the command arrives (and again on the owning shard
// whenever a key it waits on becomes ready); the null reply means "nothing
// yet" to `commands/blocking.rs`, which then blocks the client (or, inside
// MULTI, sends it as is).

/// BLPOP / BRPOP key [key ...] timeout (`blockingPopGenericCommand`): the
/// timeout first, then the keys in order; a key of another type is an error
/// even when a later key has elements.
fn bpop_generic(ctx: &mut KeyCtx, argv: &[Bytes], end: End) -> CmdResult {
    let last = argv.len() - 1;
    parse_timeout(&argv[last])?;
    for key in &argv[1..last] {
        let Some(e) = ctx.write::<List>(key)?.and_then(|l| l.pop(end)) else {
            continue;
        };
        ctx.dirty += 1;
        ctx.drop_if_empty(key);
        return Ok(Reply::Array(vec![Reply::Bulk(key.clone()), Reply::Bulk(e)]));
    }
    Ok(Reply::NilArray)
}

pub fn blpop(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    bpop_generic(ctx, argv, End::Left)
}

pub fn brpop(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    bpop_generic(ctx, argv, End::Right)
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout: directions,
/// then timeout (`blmoveCommand`), then LMOVE.
pub fn blmove(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let from = end_arg(&argv[3])?;
    let to = end_arg(&argv[4])?;
    parse_timeout(&argv[5])?;
    move_generic(ctx, &argv[1], &argv[2], from, to)
}

/// BRPOPLPUSH source destination timeout.
pub fn brpoplpush(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    parse_timeout(&argv[3])?;
    move_generic(ctx, &argv[1], &argv[2], End::Right, End::Left)
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]: the
/// timeout, then LMPOP's arguments.
pub fn blmpop(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    parse_timeout(&argv[1])?;
    // LMPOP reads numkeys at [1]: drop the name so the timeout stands in
    // for it.
    lmpop(ctx, &argv[1..])
}

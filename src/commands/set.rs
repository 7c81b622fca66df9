//! Set commands (Redis 7.0's `t_set.c`): SADD SREM SCARD SISMEMBER
//! SMISMEMBER SMEMBERS SPOP SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE
//! SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN. Parsed and run on the shard
//! that owns the keys (several keys over several shards run as a
//! cross-shard transaction on scratch copies). The data operations are in
//! `shard/types/set.rs`; here are argument order, type checks, replies,
//! `server.dirty` counts and the rule that a key never holds an empty set.
//!
//! Reply shapes as Redis 7.0: member lists of SMEMBERS / SINTER / SUNION /
//! SDIFF / SPOP with a count are sets (`~` in RESP3), SRANDMEMBER with a
//! count and SMISMEMBER are arrays.

use bytes::Bytes;

use super::args::{as_count, scan_cursor, ScanOpts};
use super::error::CmdError;
use super::server::scan_reply;
use super::{CmdResult, KeyCtx};
use crate::protocol::Reply;
use crate::shard::types::set::{self as ops, Set};
use crate::shard::value::Value;
use crate::util::num;
use crate::util::rng::Rng;

/// A set already looked up (and type-checked) by this command: no second
/// hit in the stats.
fn peek_set<'a>(ctx: &'a mut KeyCtx, key: &[u8]) -> Option<&'a Set> {
    let now = ctx.now;
    match ctx.db().peek(key, now).map(|e| &e.value) {
        Some(Value::Set(s)) => Some(s),
        _ => None,
    }
}

/// A fresh generator for one command's random picks.
fn rng(ctx: &KeyCtx) -> Rng {
    Rng::from_seed(ahash::RandomState::new().hash_one(ctx.now))
}

/// `addReplySetLen` + bulks: `*` in RESP2, `~` in RESP3.
fn set_reply(items: Vec<Bytes>) -> Reply {
    Reply::Set(items.into_iter().map(Reply::Bulk).collect())
}

fn array_reply(items: Vec<Bytes>) -> Reply {
    Reply::Array(items.into_iter().map(Reply::Bulk).collect())
}

/// SADD key member [member ...]: the number of new members. A new key's
/// encoding comes from its first member (`setTypeCreate`).
pub fn sadd(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let members = &argv[2..];
    let max = ctx.enc.set_max_intset_entries;
    let mut added = 0;
    match ctx.write::<Set>(key)? {
        Some(s) => {
            for m in members {
                added += usize::from(s.add(m, max));
            }
        }
        None => {
            let mut s = Set::for_first(&members[0]);
            for m in members {
                added += usize::from(s.add(m, max));
            }
            let now = ctx.now;
            ctx.db().insert(key, Value::Set(s), 0, now);
        }
    }
    ctx.dirty += added as u64;
    Ok(Reply::Integer(added as i64))
}

/// SREM key member [member ...]: the number removed; the key goes with its
/// last member (`sremCommand` stops there).
pub fn srem(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let Some(s) = ctx.write::<Set>(key)? else {
        return Ok(Reply::Integer(0));
    };
    let mut removed = 0;
    for m in &argv[2..] {
        if s.remove(m) {
            removed += 1;
            if s.is_empty() {
                break;
            }
        }
    }
    ctx.dirty += removed;
    ctx.drop_if_empty(key);
    Ok(Reply::Integer(removed as i64))
}

pub fn scard(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(
        ctx.read::<Set>(&argv[1])?.map_or(0, Set::len) as i64,
    ))
}

pub fn sismember(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let found = ctx
        .read::<Set>(&argv[1])?
        .is_some_and(|s| s.contains(&argv[2]));
    Ok(Reply::Integer(i64::from(found)))
}

/// SMISMEMBER key member [member ...]: 1 / 0 per member (integers in RESP3
/// too); a missing key is a set without members.
pub fn smismember(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let set = ctx.read::<Set>(&argv[1])?;
    Ok(Reply::Array(
        argv[2..]
            .iter()
            .map(|m| Reply::Integer(i64::from(set.is_some_and(|s| s.contains(m)))))
            .collect(),
    ))
}

/// SMOVE source destination member (`smoveCommand`): a missing source is 0
/// whatever the destination; then WRONGTYPE for either; the same key only
/// answers membership. The source goes with its last member.
pub fn smove(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let (src, dst, member) = (&argv[1], &argv[2], &argv[3]);
    let now = ctx.now;
    match ctx.db().get_mut(src, now).map(|e| &e.value) {
        None => return Ok(Reply::Integer(0)),
        Some(Value::Set(_)) => {}
        Some(_) => return Err(CmdError::WrongType),
    }
    ctx.write::<Set>(dst)?;
    if src == dst {
        let found = peek_set(ctx, src).is_some_and(|s| s.contains(member));
        return Ok(Reply::Integer(i64::from(found)));
    }
    if !ctx.write::<Set>(src)?.is_some_and(|s| s.remove(member)) {
        return Ok(Reply::Integer(0));
    }
    ctx.drop_if_empty(src);
    ctx.dirty += 1;
    let max = ctx.enc.set_max_intset_entries;
    let added = match ctx.write::<Set>(dst)? {
        Some(s) => s.add(member, max),
        None => {
            let mut s = Set::for_first(member);
            s.add(member, max);
            ctx.db().insert(dst, Value::Set(s), 0, now);
            true
        }
    };
    ctx.dirty += u64::from(added);
    Ok(Reply::Integer(1))
}

/// SPOP key [count] (`spopCommand`, `spopWithCountCommand`).
pub fn spop(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let count = match argv.get(2) {
        None => None,
        Some(_) if argv.len() > 3 => return Err(CmdError::Syntax),
        // Checked before the key; a non-integer gets the same text.
        Some(raw) => match num::parse_i64(raw) {
            Some(v) if v >= 0 => Some(v),
            _ => return Err(CmdError::err("value is out of range, must be positive")),
        },
    };
    let mut rng = rng(ctx);
    let max = ctx.enc.set_max_intset_entries;
    let Some(s) = ctx.write::<Set>(key)? else {
        return Ok(match count {
            Some(_) => set_reply(Vec::new()),
            None => Reply::Nil,
        });
    };
    let reply = match count {
        None => {
            let Some(m) = s.pop(&mut rng) else {
                return Ok(Reply::Nil);
            };
            ctx.dirty += 1;
            Reply::Bulk(m)
        }
        Some(0) => return Ok(set_reply(Vec::new())),
        Some(n) => {
            let n = as_count(n);
            // Redis counts the requested number, plus one for the command.
            let items = if n >= s.len() {
                // The whole set, ordered as SUNION of it would be.
                let all = ops::build(s.elems(), max).members();
                *s = Set::new_intset();
                all
            } else {
                s.pop_many(n, &mut rng)
            };
            ctx.dirty = ctx.dirty.saturating_add(n as u64).saturating_add(1);
            set_reply(items)
        }
    };
    ctx.drop_if_empty(key);
    Ok(reply)
}

/// SRANDMEMBER key [count] (`srandmemberCommand`,
/// `srandmemberWithCountCommand`): a positive count gives distinct members
/// (all of them when it is at least the size), a negative one allows
/// repeats. Replies are arrays, RESP3 included.
pub fn srandmember(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let Some(raw) = argv.get(2) else {
        let mut rng = rng(ctx);
        return Ok(ctx
            .read::<Set>(key)?
            .and_then(|s| s.random(&mut rng))
            .map_or(Reply::Nil, Reply::Bulk));
    };
    if argv.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = num::parse_i64(raw).ok_or(CmdError::NotInteger)?;
    if count == i64::MIN {
        return Err(range_error(i64::MAX));
    }
    let mut rng = rng(ctx);
    let max = ctx.enc.set_max_intset_entries;
    // COMPAT: Redis streams |count| repeated members however many that is
    // (up to LONG_MAX, running out of memory on the way); a reply here is
    // built whole, so repeats are capped at proto-max-bulk-len / 64 (8 Mi
    // members by default), past which the reply is Redis's range error
    // with that bound.
    let max_repeats = i64::try_from(ctx.proto_max_bulk_len / 64).unwrap_or(i64::MAX);
    let Some(s) = ctx.read::<Set>(key)? else {
        return Ok(Reply::Array(Vec::new()));
    };
    if count < -max_repeats {
        return Err(range_error(max_repeats));
    }
    let n = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let items = if count < 0 {
        s.sample_with_repeats(n, &mut rng)
    } else if n >= s.len() {
        ops::build(s.elems(), max).members()
    } else {
        s.sample(n, &mut rng)
    };
    Ok(array_reply(items))
}

/// `getRangeLongFromObjectOrReply`'s error for SRANDMEMBER's count.
fn range_error(low: i64) -> CmdError {
    CmdError::err(format!(
        "value is out of range, value must between -{low} and {}",
        i64::MAX
    ))
}

/// Looks every key up once, in order, as SINTER / SUNION / SDIFF do before
/// computing anything: the first wrong type is an error even after a
/// missing key. Returns each key's size, None when missing.
fn sizes(ctx: &mut KeyCtx, keys: &[Bytes]) -> Result<Vec<Option<usize>>, CmdError> {
    keys.iter()
        .map(|k| ctx.read::<Set>(k).map(|s| s.map(Set::len)))
        .collect()
}

/// What a SINTER-family command does with the intersection.
enum Inter<'a> {
    Reply,
    Card(usize),
    Store(&'a Bytes),
}

/// Stores `result` at `dst` (replacing any value and TTL), or deletes
/// `dst` when the result is empty. Returns the size and whether the
/// keyspace changed.
fn store(ctx: &mut KeyCtx, dst: &[u8], result: Set) -> (usize, bool) {
    let now = ctx.now;
    let n = result.len();
    if n > 0 {
        ctx.db().insert(dst, Value::Set(result), 0, now);
        (n, true)
    } else {
        (0, ctx.db().remove(dst, now).is_some())
    }
}

/// `sinterGenericCommand`: candidates are the smallest set's members, kept
/// if every other set has them; any missing key makes the result empty.
fn sinter_generic(ctx: &mut KeyCtx, keys: &[Bytes], mode: Inter) -> CmdResult {
    let sizes = sizes(ctx, keys)?;
    // The first of the smallest sets, unless a key is missing.
    let smallest = if sizes.iter().any(Option::is_none) {
        None
    } else {
        sizes
            .iter()
            .enumerate()
            .min_by_key(|(_, n)| **n)
            .map(|(i, _)| i)
    };
    let mut found = Vec::new();
    if let Some(first) = smallest {
        found = peek_set(ctx, &keys[first]).map_or_else(Vec::new, Set::elems);
        for (i, k) in keys.iter().enumerate() {
            if found.is_empty() {
                break;
            }
            if i == first || *k == keys[first] {
                continue;
            }
            if let Some(s) = peek_set(ctx, k) {
                ops::filter_members(&mut found, s);
            }
        }
    }
    match mode {
        Inter::Reply => Ok(set_reply(
            found.into_iter().map(ops::Elem::into_bytes).collect(),
        )),
        Inter::Card(limit) => {
            let n = found.len();
            Ok(Reply::Integer(
                (if limit > 0 { n.min(limit) } else { n }) as i64,
            ))
        }
        Inter::Store(dst) => {
            let result = ops::build(found, ctx.enc.set_max_intset_entries);
            let (n, changed) = store(ctx, dst, result);
            ctx.dirty += u64::from(changed);
            Ok(Reply::Integer(n as i64))
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Diff,
}

/// `sunionDiffGenericCommand`: the result is built as a new set (from an
/// intset, so its encoding and order follow its contents); missing keys
/// are empty sets.
fn union_diff(ctx: &mut KeyCtx, keys: &[Bytes], op: Op) -> Result<Set, CmdError> {
    let sizes = sizes(ctx, keys)?;
    let max = ctx.enc.set_max_intset_entries;
    let mut out = Set::new_intset();
    match op {
        Op::Union => {
            for (k, n) in keys.iter().zip(&sizes) {
                if n.is_some() {
                    if let Some(s) = peek_set(ctx, k) {
                        ops::add_all(&mut out, s, max);
                    }
                }
            }
        }
        Op::Diff => {
            let Some(first) = keys.first() else {
                return Ok(out);
            };
            let mut left = peek_set(ctx, first).map_or_else(Vec::new, Set::elems);
            for k in &keys[1..] {
                if left.is_empty() {
                    break;
                }
                if k == first {
                    left.clear();
                } else if let Some(s) = peek_set(ctx, k) {
                    ops::remove_members(&mut left, s);
                }
            }
            out = ops::build(left, max);
        }
    }
    Ok(out)
}

fn union_diff_reply(ctx: &mut KeyCtx, keys: &[Bytes], op: Op) -> CmdResult {
    Ok(set_reply(union_diff(ctx, keys, op)?.members()))
}

/// SUNIONSTORE / SDIFFSTORE: always one change for Redis's dirty count.
fn union_diff_store(ctx: &mut KeyCtx, argv: &[Bytes], op: Op) -> CmdResult {
    let result = union_diff(ctx, &argv[2..], op)?;
    let (n, _) = store(ctx, &argv[1], result);
    ctx.dirty += 1;
    Ok(Reply::Integer(n as i64))
}

/// SMEMBERS key: Redis 7.0 runs it as a one-key SINTER.
pub fn smembers(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    sinter_generic(ctx, &argv[1..2], Inter::Reply)
}

pub fn sinter(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    sinter_generic(ctx, &argv[1..], Inter::Reply)
}

pub fn sinterstore(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    sinter_generic(ctx, &argv[2..], Inter::Store(&argv[1]))
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit] (`sinterCardCommand`):
/// the table marks it `MOVABLE_KEYS`, so routing sees exactly the keys.
pub fn sintercard(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let numkeys = num::parse_i64(&argv[1])
        .filter(|&n| n > 0)
        .ok_or_else(|| CmdError::err("numkeys should be greater than 0"))?;
    let numkeys = as_count(numkeys);
    if numkeys > argv.len() - 2 {
        return Err(CmdError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    let mut limit = 0;
    let mut opts = argv[2 + numkeys..].iter();
    while let Some(opt) = opts.next() {
        match opts.as_slice().first() {
            Some(v) if opt.eq_ignore_ascii_case(b"LIMIT") => {
                limit = num::parse_i64(v)
                    .filter(|&l| l >= 0)
                    .map(as_count)
                    .ok_or_else(|| CmdError::err("LIMIT can't be negative"))?;
                opts.next();
            }
            _ => return Err(CmdError::Syntax),
        }
    }
    sinter_generic(ctx, &argv[2..2 + numkeys], Inter::Card(limit))
}

pub fn sunion(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    union_diff_reply(ctx, &argv[1..], Op::Union)
}

pub fn sunionstore(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    union_diff_store(ctx, argv, Op::Union)
}

pub fn sdiff(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    union_diff_reply(ctx, &argv[1..], Op::Diff)
}

pub fn sdiffstore(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    union_diff_store(ctx, argv, Op::Diff)
}

/// SSCAN key cursor [MATCH pattern] [COUNT count] (`sscanCommand`): the
/// cursor is parsed first, then the key (missing: an empty scan, whatever
/// the options), then the options; MATCH filters after the step.
pub fn sscan(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let cursor = scan_cursor(&argv[2])?;
    let Some(s) = ctx.read::<Set>(&argv[1])? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let opts = ScanOpts::parse(&argv[3..])?;
    let (items, next) = s.scan(cursor, opts.count);
    Ok(scan_reply(
        next,
        items.into_iter().filter(|m| opts.matches(m)).collect(),
    ))
}

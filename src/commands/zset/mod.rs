//! Sorted set commands (Redis's `t_zset.c`), the non-blocking ones. Parsed
//! and run on the shard that owns the keys; commands over keys of several
//! shards (ZUNIONSTORE, ZRANGESTORE, ZMPOP, …) run as a cross-shard
//! transaction on scratch copies, which only needs the table's key
//! positions to be right. The data operations are in
//! `shard/types/zset/`; here are argument order and error precedence (as
//! Redis checks them), type checks, replies and the rule that a key never
//! holds an empty set.
//!
//! - this file: ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK
//!   ZPOPMIN ZPOPMAX ZMPOP ZRANDMEMBER ZSCAN, and the pop API the blocking
//!   commands build on (`pop`, `mpop_first`);
//! - `range.rs`: ZRANGE and its older forms, ZRANGESTORE, ZCOUNT,
//!   ZLEXCOUNT, ZREMRANGEBYRANK / SCORE / LEX;
//! - `setops.rs`: ZUNION ZINTER ZDIFF (and their STORE forms), ZINTERCARD.

mod range;
mod setops;

pub use range::{
    zcount, zlexcount, zrange, zrangebylex, zrangebyscore, zrangestore, zremrangebylex,
    zremrangebyrank, zremrangebyscore, zrevrange, zrevrangebylex, zrevrangebyscore,
};
pub use setops::{zdiff, zdiffstore, zinter, zintercard, zinterstore, zunion, zunionstore};

use bytes::Bytes;

use super::args::{as_count, ranged, scan_cursor, ScanOpts};
use super::error::CmdError;
use super::server::scan_reply;
use super::{CmdResult, KeyCtx};
use crate::protocol::{format_double, Reply};
use crate::shard::types::zset::{AddFlags, AddOutcome, ZSet};
use crate::shard::value::Value;
use crate::util::num;

/// Stores a command's result set at `dst` (ZUNIONSTORE, ZRANGESTORE, …):
/// replaces whatever was there (TTL included) and answers its size; an
/// empty result deletes `dst` instead and answers 0
/// (`zrangeResultFinalizeStore`, end of `zunionInterDiffGenericCommand`).
fn store_result(ctx: &mut KeyCtx, dst: &[u8], pairs: Vec<(Bytes, f64)>) -> CmdResult {
    let now = ctx.now;
    if pairs.is_empty() {
        if ctx.db().remove(dst, now).is_some() {
            ctx.dirty += 1;
        }
        return Ok(Reply::Integer(0));
    }
    let z = ZSet::from_pairs(pairs, &ctx.enc);
    let n = z.len();
    ctx.db().insert(dst, Value::ZSet(z), 0, now);
    ctx.dirty += 1;
    Ok(Reply::Integer(n as i64))
}

/// Members, or (member, score) pairs: flat in RESP2, nested in RESP3
/// (`zrangeResultEmitCBufferForClient`).
fn members_reply(items: Vec<(Bytes, f64)>, withscores: bool) -> Reply {
    if withscores {
        Reply::Pairs(
            items
                .into_iter()
                .map(|(m, s)| (Reply::Bulk(m), Reply::Double(s)))
                .collect(),
        )
    } else {
        Reply::Array(items.into_iter().map(|(m, _)| Reply::Bulk(m)).collect())
    }
}

/// `[member, score]`, a two-element array in both protocols.
fn pair_array((m, s): (Bytes, f64)) -> Reply {
    Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)])
}

/// A score argument (`getDoubleFromObjectOrReply`, `string2d`): `inf`,
/// `-inf`, `+inf` are fine, NaN and trailing bytes are not.
fn score_arg(raw: &[u8]) -> Result<f64, CmdError> {
    num::parse_f64_strict_score(raw).ok_or(CmdError::NotFloat)
}

// --- ZADD, ZINCRBY (zaddGenericCommand) -------------------------------------

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
pub fn zadd(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    zadd_generic(ctx, argv, false)
}

/// ZINCRBY key increment member = ZADD key INCR increment member.
pub fn zincrby(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    zadd_generic(ctx, argv, true)
}

/// Options, then the pair count, then option conflicts, then every score,
/// then the key's type, in that order (`zaddGenericCommand`). Replies the
/// number added (CH: added or changed); with INCR the new score, or nil
/// when NX / XX / GT / LT held it back.
fn zadd_generic(ctx: &mut KeyCtx, argv: &[Bytes], incr: bool) -> CmdResult {
    let key = &argv[1];
    let mut f = AddFlags {
        incr,
        ..AddFlags::default()
    };
    let mut ch = false;
    let mut at = 2;
    while let Some(opt) = argv.get(at) {
        match opt.to_ascii_uppercase().as_slice() {
            b"NX" => f.nx = true,
            b"XX" => f.xx = true,
            b"GT" => f.gt = true,
            b"LT" => f.lt = true,
            b"CH" => ch = true,
            b"INCR" => f.incr = true,
            _ => break,
        }
        at += 1;
    }
    let rest = &argv[at..];
    if rest.is_empty() || rest.len() % 2 == 1 {
        return Err(CmdError::Syntax);
    }
    if f.nx && f.xx {
        return Err(CmdError::err(
            "XX and NX options at the same time are not compatible",
        ));
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err(CmdError::err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if f.incr && rest.len() > 2 {
        return Err(CmdError::err(
            "INCR option supports a single increment-element pair",
        ));
    }
    let scores = rest
        .chunks(2)
        .map(|p| score_arg(&p[0]))
        .collect::<Result<Vec<f64>, CmdError>>()?;
    let now = ctx.now;
    let enc = ctx.enc;
    if ctx.write::<ZSet>(key)?.is_none() {
        if f.xx {
            return Ok(if f.incr {
                Reply::Nil
            } else {
                Reply::Integer(0)
            });
        }
        let z = ZSet::new_for_add(&enc, rest[1].len());
        ctx.db().insert(key, Value::ZSet(z), 0, now);
    }
    let Some(z) = ctx.write::<ZSet>(key)? else {
        return Err(CmdError::err("internal error: sorted set vanished"));
    };
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0);
    let mut last = 0.0;
    let mut nan = false;
    for (pair, score) in rest.chunks(2).zip(scores) {
        match z.add(&pair[1], score, f, &enc) {
            AddOutcome::Added(s) => (added, last) = (added + 1, s),
            AddOutcome::Updated(s) => (updated, last) = (updated + 1, s),
            AddOutcome::Unchanged(s) => last = s,
            AddOutcome::Skipped => continue,
            AddOutcome::Nan => {
                nan = true;
                break;
            }
        }
        processed += 1;
    }
    ctx.dirty += (added + updated) as u64;
    ctx.drop_if_empty(key);
    if nan {
        return Err(CmdError::err("resulting score is not a number (NaN)"));
    }
    Ok(if f.incr {
        if processed > 0 {
            Reply::Double(last)
        } else {
            Reply::Nil
        }
    } else {
        Reply::Integer(if ch { added + updated } else { added })
    })
}

// --- ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK -------------------------------

/// ZREM key member [member ...]: how many were there.
pub fn zrem(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let Some(z) = ctx.write::<ZSet>(key)? else {
        return Ok(Reply::Integer(0));
    };
    let mut deleted = 0i64;
    for m in &argv[2..] {
        if z.remove(m) {
            deleted += 1;
            if z.is_empty() {
                break;
            }
        }
    }
    ctx.dirty += deleted as u64;
    ctx.drop_if_empty(key);
    Ok(Reply::Integer(deleted))
}

pub fn zcard(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Integer(
        ctx.read::<ZSet>(&argv[1])?.map_or(0, ZSet::len) as i64,
    ))
}

pub fn zscore(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    Ok(ctx
        .read::<ZSet>(&argv[1])?
        .and_then(|z| z.score(&argv[2]))
        .map_or(Reply::Nil, Reply::Double))
}

/// ZMSCORE key member [member ...]: a score or nil per member (all nil for
/// a missing key).
pub fn zmscore(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let z = ctx.read::<ZSet>(&argv[1])?;
    Ok(Reply::Array(
        argv[2..]
            .iter()
            .map(|m| z.and_then(|z| z.score(m)).map_or(Reply::Nil, Reply::Double))
            .collect(),
    ))
}

fn rank_generic(ctx: &mut KeyCtx, argv: &[Bytes], rev: bool) -> CmdResult {
    let Some(z) = ctx.read::<ZSet>(&argv[1])? else {
        return Ok(Reply::Nil);
    };
    Ok(match z.rank(&argv[2]) {
        Some(r) if rev => Reply::Integer((z.len() - 1 - r) as i64),
        Some(r) => Reply::Integer(r as i64),
        None => Reply::Nil,
    })
}

pub fn zrank(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    rank_generic(ctx, argv, false)
}

pub fn zrevrank(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    rank_generic(ctx, argv, true)
}

// --- pops (genericZpopCommand) ---------------------------------------------

/// Members popped, with their scores, in pop order.
pub type Popped = Vec<(Bytes, f64)>;

/// Which end a pop takes from: MIN (lowest scores) or MAX.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PopEnd {
    Min,
    Max,
}

/// Pops up to `count` members from the sorted set at `key`, lowest or
/// highest first, and returns them in pop order with their scores.
/// `Ok(None)`: no such key. `Err(WrongType)`: not a sorted set. A count of
/// 0 on an existing set pops nothing (`Ok(Some(vec![]))`). Counts the
/// writes in `ctx.dirty` and deletes the key once empty. For ZPOPMIN /
/// ZPOPMAX here and BZPOPMIN / BZPOPMAX (which call it once a key is
/// ready).
pub fn pop(
    ctx: &mut KeyCtx,
    key: &[u8],
    end: PopEnd,
    count: usize,
) -> Result<Option<Popped>, CmdError> {
    let Some(z) = ctx.write::<ZSet>(key)? else {
        return Ok(None);
    };
    let items = z.pop(end == PopEnd::Max, count);
    ctx.dirty += items.len() as u64;
    ctx.drop_if_empty(key);
    Ok(Some(items))
}

/// The walk of ZMPOP / BZMPOP / BZPOPMIN over their keys: the first key
/// that exists is popped (`count` members from `end`) and returned with
/// what it gave; a key of another type before it is a WRONGTYPE error
/// (keys after it are not looked at). `Ok(None)` when no key exists. Keys
/// never hold empty sets, so the first existing key always gives at least
/// one member when `count > 0`.
pub fn mpop_first(
    ctx: &mut KeyCtx,
    keys: &[Bytes],
    end: PopEnd,
    count: usize,
) -> Result<Option<(Bytes, Popped)>, CmdError> {
    for key in keys {
        if let Some(items) = pop(ctx, key, end, count)? {
            return Ok(Some((key.clone(), items)));
        }
    }
    Ok(None)
}

/// ZPOPMIN / ZPOPMAX key [count] (`zpopMinMaxCommand`): without a count a
/// flat [member, score] (empty for a missing key); with one, pairs (nested
/// in RESP3). The count is checked before the key.
fn zpop_generic(ctx: &mut KeyCtx, argv: &[Bytes], end: PopEnd) -> CmdResult {
    if argv.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = match argv.get(2) {
        Some(raw) => Some(as_count(ranged(
            raw,
            0,
            "value is out of range, must be positive",
        )?)),
        None => None,
    };
    let items = pop(ctx, &argv[1], end, count.unwrap_or(1))?.unwrap_or_default();
    Ok(match count {
        Some(_) => members_reply(items, true),
        None => Reply::Array(
            items
                .into_iter()
                .flat_map(|(m, s)| [Reply::Bulk(m), Reply::Double(s)])
                .collect(),
        ),
    })
}

pub fn zpopmin(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    zpop_generic(ctx, argv, PopEnd::Min)
}

pub fn zpopmax(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    zpop_generic(ctx, argv, PopEnd::Max)
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] (`zmpopGenericCommand`):
/// `[key, [[member, score], ...]]` from the first existing key, or a nil
/// array. The table marks ZMPOP `MOVABLE_KEYS`, so routing and locking see
/// exactly the `numkeys` keys.
pub fn zmpop(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let numkeys = ranged(&argv[1], 1, "numkeys should be greater than 0")?;
    let where_idx = as_count(numkeys).saturating_add(2);
    let Some(where_arg) = argv.get(where_idx) else {
        return Err(CmdError::Syntax);
    };
    let end = if where_arg.eq_ignore_ascii_case(b"MIN") {
        PopEnd::Min
    } else if where_arg.eq_ignore_ascii_case(b"MAX") {
        PopEnd::Max
    } else {
        return Err(CmdError::Syntax);
    };
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
    match mpop_first(ctx, &argv[2..where_idx], end, count.unwrap_or(1))? {
        Some((key, items)) => Ok(Reply::Array(vec![
            Reply::Bulk(key),
            Reply::Array(items.into_iter().map(pair_array).collect()),
        ])),
        None => Ok(Reply::NilArray),
    }
}

// --- ZRANDMEMBER (zrandmemberCommand) --------------------------------------

/// Largest repetition count (negative count) ZRANDMEMBER answers.
/// COMPAT: Redis 7.0 tries to build any size of reply; beyond this (an
/// answer of tens of millions of members) tessera replies "value is out of
/// range" instead of exhausting memory.
const MAX_RANDOM_REPEATS: u64 = 1 << 24;

/// A small xorshift generator, seeded per command from the process's random
/// hasher keys (Redis uses its own `random()`; the picks are random either
/// way).
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        Rng(ahash::RandomState::new().hash_one(0x7a5e_u64) | 1)
    }

    /// Uniform in `0..n` (n > 0), via a 128-bit multiply.
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((u128::from(self.0) * n as u128) >> 64) as usize
    }
}

/// ZRANDMEMBER key [count [WITHSCORES]]: the count and options first, then
/// the key. A negative count may repeat members; a positive one gives
/// distinct members (all of them, highest first, when it is at least the
/// size).
pub fn zrandmember(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let Some(raw) = argv.get(2) else {
        let Some(z) = ctx.read::<ZSet>(&argv[1])? else {
            return Ok(Reply::Nil);
        };
        let pick = Rng::new().below(z.len());
        return Ok(z.get(pick).map_or(Reply::Nil, |(m, _)| Reply::Bulk(m)));
    };
    let l = super::args::parse_i64(raw)?;
    if l == i64::MIN {
        return Err(CmdError::err(
            "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    let withscores = match argv.len() {
        3 => false,
        4 if argv[3].eq_ignore_ascii_case(b"WITHSCORES") => true,
        _ => return Err(CmdError::Syntax),
    };
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return Err(CmdError::err("value is out of range"));
    }
    if l < 0 && l.unsigned_abs() > MAX_RANDOM_REPEATS {
        return Err(CmdError::err("value is out of range"));
    }
    let Some(z) = ctx.read::<ZSet>(&argv[1])? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let size = z.len();
    let mut rng = Rng::new();
    let items: Vec<(Bytes, f64)> = if l < 0 || l == 1 {
        // With repetitions (or one pick).
        (0..l.unsigned_abs())
            .filter_map(|_| z.get(rng.below(size)))
            .collect()
    } else if as_count(l) >= size {
        // The whole set, highest first: Redis's `zuiNext` walks from the tail.
        z.range(size - 1, true, size)
    } else {
        // `count` distinct ranks (Floyd's sampling), in the order drawn.
        let count = as_count(l);
        let mut chosen = std::collections::HashSet::with_capacity(count);
        let mut order = Vec::with_capacity(count);
        for j in size - count..size {
            let t = rng.below(j + 1);
            let pick = if chosen.insert(t) { t } else { j };
            chosen.insert(pick);
            order.push(pick);
        }
        order.into_iter().filter_map(|i| z.get(i)).collect()
    };
    Ok(members_reply(items, withscores))
}

// --- ZSCAN -----------------------------------------------------------------

/// ZSCAN key cursor [MATCH pattern] [COUNT count] (`zscanCommand`): the
/// cursor is checked first, then the key, then the options. Scores are
/// bulk strings in both protocols. A listpack answers whole, cursor 0.
pub fn zscan(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let cursor = scan_cursor(&argv[2])?;
    let Some(z) = ctx.read::<ZSet>(&argv[1])? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let opts = ScanOpts::parse(&argv[3..])?;
    let (items, next) = z.scan(cursor, opts.count);
    let mut out = Vec::with_capacity(items.len() * 2);
    for (m, s) in items {
        if opts.matches(&m) {
            out.push(m);
            out.push(Bytes::from(format_double(s)));
        }
    }
    Ok(scan_reply(next, out))
}

// --- blocking pops: the attempt before blocking ----------------------------
// As the list ones (`commands/list.rs`): run when the command arrives and
// again on the owning shard when a key it waits on becomes ready; the null
// array tells `commands/blocking.rs` to block.

/// BZPOPMIN / BZPOPMAX key [key ...] timeout (`blockingGenericZpopCommand`):
/// the timeout, then the first non-empty key; `[key, member, score]`.
fn bzpop_generic(ctx: &mut KeyCtx, argv: &[Bytes], end: PopEnd) -> CmdResult {
    let last = argv.len() - 1;
    super::blocking::parse_timeout(&argv[last])?;
    match mpop_first(ctx, &argv[1..last], end, 1)? {
        Some((key, mut items)) if !items.is_empty() => {
            let (member, score) = items.swap_remove(0);
            Ok(Reply::Array(vec![
                Reply::Bulk(key),
                Reply::Bulk(member),
                Reply::Double(score),
            ]))
        }
        _ => Ok(Reply::NilArray),
    }
}

pub fn bzpopmin(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    bzpop_generic(ctx, argv, PopEnd::Min)
}

pub fn bzpopmax(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    bzpop_generic(ctx, argv, PopEnd::Max)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]: the timeout,
/// then ZMPOP's arguments.
pub fn bzmpop(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    super::blocking::parse_timeout(&argv[1])?;
    // ZMPOP reads numkeys at [1]: drop the name so the timeout stands in.
    zmpop(ctx, &argv[1..])
}

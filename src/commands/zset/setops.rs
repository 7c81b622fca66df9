//! Sorted set algebra: ZUNION ZINTER ZDIFF, their STORE forms and
//! ZINTERCARD (Redis's `zunionInterDiffGenericCommand`). Inputs may be
//! sorted sets or plain sets (every member scoring 1). Runs on the shard
//! owning the keys, or on scratch copies for keys of several shards.
//!
//! The keyspace hands out one entry at a time, so the inputs are read in
//! passes, one key at a time, never copied whole: union folds each input
//! into a member → score map; intersection starts from the smallest input
//! and looks its survivors up in each other input; difference strikes the
//! other inputs' members out of the first one's.

use std::collections::HashMap;

use bytes::Bytes;

use super::{members_reply, score_arg, store_result};
use crate::commands::args::parse_i64;
use crate::commands::error::CmdError;
use crate::commands::{CmdResult, KeyCtx};
use crate::protocol::Reply;
use crate::shard::value::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

/// AGGREGATE SUM|MIN|MAX.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// `zunionInterAggregate`: a sum of +inf and -inf is 0, not NaN; MIN / MAX
/// keep the current value when compared with NaN.
fn aggregate(target: &mut f64, val: f64, agg: Aggregate) {
    match agg {
        Aggregate::Sum => {
            *target += val;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// One input: its key, its size (0 when missing) and weight.
struct Source<'a> {
    key: &'a Bytes,
    len: usize,
    weight: f64,
}

/// Calls `f(member, score)` for every member of input `key` (a set's
/// members score 1); nothing for a missing key. Looks the key up without
/// touching stats: the type check already counted the hit.
fn for_each_member(ctx: &mut KeyCtx, key: &[u8], mut f: impl FnMut(&[u8], f64)) {
    let now = ctx.now;
    match ctx.db().peek(key, now).map(|e| &e.value) {
        Some(Value::ZSet(z)) => z.iter_from(0, false).for_each(|(m, s)| f(m, s)),
        Some(Value::Set(s)) => s.for_each(|m| f(m, 1.0)),
        _ => {}
    }
}

/// Scores in input `key` of each of `members` (a set's members score 1).
fn lookup_scores(ctx: &mut KeyCtx, key: &[u8], members: &[(Bytes, f64)]) -> Vec<Option<f64>> {
    let now = ctx.now;
    match ctx.db().peek(key, now).map(|e| &e.value) {
        Some(Value::ZSet(z)) => members.iter().map(|(m, _)| z.score(m)).collect(),
        Some(Value::Set(s)) => {
            let want: HashMap<&[u8], usize> = members
                .iter()
                .enumerate()
                .map(|(i, (m, _))| (m.as_ref(), i))
                .collect();
            let mut found = vec![None; members.len()];
            s.for_each(|m| {
                if let Some(&i) = want.get(m) {
                    found[i] = Some(1.0);
                }
            });
            found
        }
        _ => vec![None; members.len()],
    }
}

/// The options after the keys (`zunionInterDiffGenericCommand`): WEIGHTS
/// and AGGREGATE (not for ZDIFF / ZINTERCARD), WITHSCORES (not for the
/// STORE forms / ZINTERCARD), LIMIT (ZINTERCARD only).
struct Opts {
    aggregate: Aggregate,
    withscores: bool,
    limit: usize,
}

fn parse_opts(
    rest: &[Bytes],
    sources: &mut [Source],
    op: Op,
    store: bool,
    card: bool,
) -> Result<Opts, CmdError> {
    let mut o = Opts {
        aggregate: Aggregate::Sum,
        withscores: false,
        limit: 0,
    };
    let mut j = 0;
    while let Some(word) = rest.get(j) {
        let remaining = rest.len() - j;
        let algebra = op != Op::Diff && !card;
        if algebra && remaining > sources.len() && word.eq_ignore_ascii_case(b"WEIGHTS") {
            for (s, raw) in sources.iter_mut().zip(&rest[j + 1..]) {
                s.weight =
                    score_arg(raw).map_err(|_| CmdError::err("weight value is not a float"))?;
            }
            j += 1 + sources.len();
        } else if algebra && remaining >= 2 && word.eq_ignore_ascii_case(b"AGGREGATE") {
            let a = &rest[j + 1];
            o.aggregate = if a.eq_ignore_ascii_case(b"SUM") {
                Aggregate::Sum
            } else if a.eq_ignore_ascii_case(b"MIN") {
                Aggregate::Min
            } else if a.eq_ignore_ascii_case(b"MAX") {
                Aggregate::Max
            } else {
                return Err(CmdError::Syntax);
            };
            j += 2;
        } else if !store && !card && word.eq_ignore_ascii_case(b"WITHSCORES") {
            o.withscores = true;
            j += 1;
        } else if card && remaining >= 2 && word.eq_ignore_ascii_case(b"LIMIT") {
            let l = crate::util::num::parse_i64(&rest[j + 1])
                .filter(|&l| l >= 0)
                .ok_or_else(|| CmdError::err("LIMIT can't be negative"))?;
            o.limit = usize::try_from(l).unwrap_or(usize::MAX);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(o)
}

/// The shared body: numkeys (`numkeys_at`), the keys and their types, then
/// the options, then the algebra; the result is stored at `dst`, counted
/// (`card`) or returned.
fn setop_generic(
    ctx: &mut KeyCtx,
    argv: &[Bytes],
    name: &str,
    dst: Option<&Bytes>,
    numkeys_at: usize,
    op: Op,
    card: bool,
) -> CmdResult {
    let numkeys = parse_i64(&argv[numkeys_at])?;
    if numkeys < 1 {
        return Err(CmdError::err(format!(
            "at least 1 input key is needed for '{name}' command"
        )));
    }
    let keys_at = numkeys_at + 1;
    let numkeys = usize::try_from(numkeys).unwrap_or(usize::MAX);
    if numkeys > argv.len() - keys_at {
        return Err(CmdError::Syntax);
    }
    let now = ctx.now;
    let mut sources = Vec::with_capacity(numkeys);
    for key in &argv[keys_at..keys_at + numkeys] {
        // The STORE forms look their inputs up as writes (no hit / miss
        // stats), the others as reads (`lookupKeyWrite` / `lookupKeyRead`).
        // COMPAT: a write lookup here does not refresh the inputs' LRU
        // clock, as Redis's would; it saves copying them back after a
        // cross-shard run.
        let found = if dst.is_some() {
            ctx.db().peek(key, now)
        } else {
            ctx.db().get(key, now)
        };
        let len = match found.map(|e| &e.value) {
            None => 0,
            Some(Value::ZSet(z)) => z.len(),
            Some(Value::Set(s)) => s.len(),
            Some(_) => return Err(CmdError::WrongType),
        };
        sources.push(Source {
            key,
            len,
            weight: 1.0,
        });
    }
    let opts = parse_opts(
        &argv[keys_at + numkeys..],
        &mut sources,
        op,
        dst.is_some(),
        card,
    )?;
    if op != Op::Diff {
        // Smallest first, as Redis sorts its inputs (a stable sort: glibc's
        // qsort is a merge sort).
        sources.sort_by_key(|s| s.len);
    }
    let result = match op {
        Op::Union => union(ctx, &sources, opts.aggregate),
        Op::Inter => inter(ctx, &sources, opts.aggregate, card.then_some(opts.limit)),
        Op::Diff => diff(ctx, &sources),
    };
    if card {
        return Ok(Reply::Integer(result.len() as i64));
    }
    match dst {
        Some(dst) => store_result(ctx, dst, result),
        None => {
            let mut result = result;
            result.sort_by(|a, b| crate::shard::types::zset::tree::cmp_entry(a.1, &a.0, b.1, &b.0));
            Ok(members_reply(result, opts.withscores))
        }
    }
}

/// A weighted score; 0 instead of NaN (`inf * 0`), as Redis does for the
/// first score of each member.
fn weighted(score: f64, weight: f64) -> f64 {
    let v = score * weight;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

fn union(ctx: &mut KeyCtx, sources: &[Source], agg: Aggregate) -> Vec<(Bytes, f64)> {
    let mut acc: HashMap<Bytes, f64, ahash::RandomState> = HashMap::default();
    for src in sources.iter().filter(|s| s.len > 0) {
        for_each_member(ctx, src.key, |m, s| {
            let v = weighted(s, src.weight);
            match acc.get_mut(m) {
                Some(t) => aggregate(t, v, agg),
                None => {
                    acc.insert(Bytes::copy_from_slice(m), v);
                }
            }
        });
    }
    acc.into_iter().collect()
}

/// Intersection from the smallest input; `limit` (ZINTERCARD; 0 = none)
/// stops once that many members are known to be in every input.
fn inter(
    ctx: &mut KeyCtx,
    sources: &[Source],
    agg: Aggregate,
    limit: Option<usize>,
) -> Vec<(Bytes, f64)> {
    let Some((first, others)) = sources.split_first() else {
        return Vec::new();
    };
    if first.len == 0 {
        return Vec::new();
    }
    let mut alive: Vec<(Bytes, f64)> = Vec::with_capacity(first.len);
    for_each_member(ctx, first.key, |m, s| {
        alive.push((Bytes::copy_from_slice(m), weighted(s, first.weight)))
    });
    for src in others {
        let found = lookup_scores(ctx, src.key, &alive);
        let mut found = found.into_iter();
        alive.retain_mut(|(_, score)| match found.next().flatten() {
            Some(v) => {
                aggregate(score, v * src.weight, agg);
                true
            }
            None => false,
        });
        if alive.is_empty() {
            break;
        }
    }
    if let Some(l) = limit.filter(|&l| l > 0) {
        alive.truncate(l);
    }
    alive
}

/// Members of the first input found in no other, with their first scores.
fn diff(ctx: &mut KeyCtx, sources: &[Source]) -> Vec<(Bytes, f64)> {
    let Some((first, others)) = sources.split_first() else {
        return Vec::new();
    };
    let mut alive: Vec<(Bytes, f64)> = Vec::with_capacity(first.len);
    for_each_member(ctx, first.key, |m, s| {
        alive.push((Bytes::copy_from_slice(m), s))
    });
    for src in others.iter().filter(|s| s.len > 0) {
        if alive.is_empty() {
            break;
        }
        let found = lookup_scores(ctx, src.key, &alive);
        let mut found = found.into_iter();
        alive.retain(|_| found.next().flatten().is_none());
    }
    alive
}

/// ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub fn zunion(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    setop_generic(ctx, argv, "zunion", None, 1, Op::Union, false)
}

pub fn zinter(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    setop_generic(ctx, argv, "zinter", None, 1, Op::Inter, false)
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
pub fn zdiff(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    setop_generic(ctx, argv, "zdiff", None, 1, Op::Diff, false)
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE ...]
pub fn zunionstore(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    setop_generic(
        ctx,
        argv,
        "zunionstore",
        Some(&argv[1]),
        2,
        Op::Union,
        false,
    )
}

pub fn zinterstore(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    setop_generic(
        ctx,
        argv,
        "zinterstore",
        Some(&argv[1]),
        2,
        Op::Inter,
        false,
    )
}

pub fn zdiffstore(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    setop_generic(ctx, argv, "zdiffstore", Some(&argv[1]), 2, Op::Diff, false)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]: the intersection's size,
/// at most `limit` (0: no limit).
pub fn zintercard(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    setop_generic(ctx, argv, "zintercard", None, 1, Op::Inter, true)
}

//! Sorted set range commands: ZRANGE (by rank, BYSCORE, BYLEX, REV, LIMIT,
//! WITHSCORES) and the older forms ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE
//! ZRANGEBYLEX ZREVRANGEBYLEX, ZRANGESTORE, ZCOUNT, ZLEXCOUNT and
//! ZREMRANGEBYRANK / SCORE / LEX (Redis's `zrangeGenericCommand`,
//! `zremrangeGenericCommand`). Runs on the shard owning the key(s).

use bytes::Bytes;

use super::{members_reply, store_result};
use crate::commands::args::parse_i64;
use crate::commands::error::CmdError;
use crate::commands::{CmdResult, KeyCtx};
use crate::protocol::Reply;
use crate::shard::types::list::resolve_range;
use crate::shard::types::zset::range::{LexRange, ScoreRange};
use crate::shard::types::zset::ZSet;

/// How a ZRANGE-family command reads its min / max arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Rank,
    Score,
    Lex,
}

/// A parsed interval of one of the three kinds.
enum Bounds {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

fn score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    ScoreRange::parse(min, max).ok_or_else(|| CmdError::err("min or max is not a float"))
}

fn lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, CmdError> {
    LexRange::parse(min, max).ok_or_else(|| CmdError::err("min or max not valid string range item"))
}

/// The members a range selects, in reply order, with scores. `offset` /
/// `limit` apply to score and lex ranges (a negative offset selects
/// nothing, a negative limit means no limit), as Redis's skip-then-take
/// loops in `genericZrangebyscoreCommand` / `genericZrangebylexCommand`.
fn select(z: &ZSet, bounds: &Bounds, rev: bool, offset: i64, limit: i64) -> Vec<(Bytes, f64)> {
    let len = z.len();
    let Ok(offset) = usize::try_from(offset) else {
        return Vec::new();
    };
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    match bounds {
        Bounds::Rank(start, end) => {
            let Some((s, e)) = resolve_range(len, *start, *end) else {
                return Vec::new();
            };
            let from = if rev { len - 1 - s } else { s };
            z.range(from, rev, e - s + 1)
        }
        Bounds::Score(r) => {
            let (lo, hi) = z.score_span(r);
            if offset >= hi - lo {
                return Vec::new();
            }
            let n = (hi - lo - offset).min(limit);
            let from = if rev { hi - 1 - offset } else { lo + offset };
            z.range(from, rev, n)
        }
        Bounds::Lex(r) => {
            let start = if rev { z.lex_last(r) } else { z.lex_first(r) };
            let from = match start {
                Some(i) if rev => i.checked_sub(offset),
                Some(i) => i.checked_add(offset),
                None => None,
            };
            let Some(from) = from else {
                return Vec::new();
            };
            z.iter_from(from, rev)
                .take_while(|(m, _)| if rev { r.gte_min(m) } else { r.lte_max(m) })
                .take(limit)
                .map(|(m, s)| (Bytes::copy_from_slice(m), s))
                .collect()
        }
    }
}

/// `zrangeGenericCommand`: the options after `<src> <min> <max>` first
/// (WITHSCORES unless storing, LIMIT, and REV / BYSCORE / BYLEX where the
/// command leaves them open), then the conflicts, then the range (min and
/// max swap places for REV with BYSCORE / BYLEX), then the key. `src_at`
/// is the index of the source key; `dst` is ZRANGESTORE's destination.
fn zrange_generic(
    ctx: &mut KeyCtx,
    argv: &[Bytes],
    src_at: usize,
    dst: Option<&Bytes>,
    kind: Option<Kind>,
    rev: Option<bool>,
) -> CmdResult {
    let (mut kind_opt, mut rev_opt) = (kind, rev);
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = src_at + 3;
    while let Some(opt) = argv.get(j) {
        let left = argv.len() - j - 1;
        let word = opt.to_ascii_uppercase();
        match word.as_slice() {
            b"WITHSCORES" if dst.is_none() => withscores = true,
            b"LIMIT" if left >= 2 => {
                offset = parse_i64(&argv[j + 1])?;
                limit = parse_i64(&argv[j + 2])?;
                j += 2;
            }
            b"REV" if rev_opt.is_none() => rev_opt = Some(true),
            b"BYLEX" if kind_opt.is_none() => kind_opt = Some(Kind::Lex),
            b"BYSCORE" if kind_opt.is_none() => kind_opt = Some(Kind::Score),
            _ => return Err(CmdError::Syntax),
        }
        j += 1;
    }
    let rev = rev_opt.unwrap_or(false);
    let kind = kind_opt.unwrap_or(Kind::Rank);
    if limit != -1 && kind == Kind::Rank {
        return Err(CmdError::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && kind == Kind::Lex {
        return Err(CmdError::err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut min, mut max) = (&argv[src_at + 1], &argv[src_at + 2]);
    if rev && kind != Kind::Rank {
        std::mem::swap(&mut min, &mut max);
    }
    let bounds = match kind {
        Kind::Rank => Bounds::Rank(parse_i64(min)?, parse_i64(max)?),
        Kind::Score => Bounds::Score(score_range(min, max)?),
        Kind::Lex => Bounds::Lex(lex_range(min, max)?),
    };
    let items = match ctx.read::<ZSet>(&argv[src_at])? {
        Some(z) => select(z, &bounds, rev, offset, limit),
        None => Vec::new(),
    };
    match dst {
        Some(dst) => store_result(ctx, dst, items),
        None => Ok(members_reply(items, withscores)),
    }
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
pub fn zrange(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, None, None)
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]:
/// the result's size; an empty result deletes `dst`.
pub fn zrangestore(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 2, Some(&argv[1]), None, None)
}

pub fn zrevrange(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Some(Kind::Rank), Some(true))
}

pub fn zrangebyscore(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Some(Kind::Score), Some(false))
}

pub fn zrevrangebyscore(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Some(Kind::Score), Some(true))
}

pub fn zrangebylex(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Some(Kind::Lex), Some(false))
}

pub fn zrevrangebylex(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Some(Kind::Lex), Some(true))
}

/// ZCOUNT key min max: the range is parsed before the key is looked up.
pub fn zcount(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let r = score_range(&argv[2], &argv[3])?;
    Ok(Reply::Integer(ctx.read::<ZSet>(&argv[1])?.map_or(0, |z| {
        let (lo, hi) = z.score_span(&r);
        hi - lo
    }) as i64))
}

/// ZLEXCOUNT key min max (`zlexcountCommand`).
pub fn zlexcount(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let r = lex_range(&argv[2], &argv[3])?;
    Ok(Reply::Integer(
        ctx.read::<ZSet>(&argv[1])?.map_or(0, |z| z.lex_count(&r)) as i64,
    ))
}

/// `zremrangeGenericCommand`: range first, then the key (0 when missing);
/// answers how many went and deletes the key once empty.
fn zremrange_generic(ctx: &mut KeyCtx, argv: &[Bytes], kind: Kind) -> CmdResult {
    let bounds = match kind {
        Kind::Rank => Bounds::Rank(parse_i64(&argv[2])?, parse_i64(&argv[3])?),
        Kind::Score => Bounds::Score(score_range(&argv[2], &argv[3])?),
        Kind::Lex => Bounds::Lex(lex_range(&argv[2], &argv[3])?),
    };
    let key = &argv[1];
    let Some(z) = ctx.write::<ZSet>(key)? else {
        return Ok(Reply::Integer(0));
    };
    let (start, end) = match &bounds {
        Bounds::Rank(s, e) => match resolve_range(z.len(), *s, *e) {
            Some((s, e)) => (s, e + 1),
            None => (0, 0),
        },
        Bounds::Score(r) => z.score_span(r),
        // From the first member in range, while members stay below max
        // (`zzlDeleteRangeByLex`, `zslDeleteRangeByLex`).
        Bounds::Lex(r) => match z.lex_first(r) {
            Some(first) => {
                let n = z
                    .iter_from(first, false)
                    .take_while(|(m, _)| r.lte_max(m))
                    .count();
                (first, first + n)
            }
            None => (0, 0),
        },
    };
    let removed = z.remove_ranks(start, end);
    ctx.dirty += removed as u64;
    ctx.drop_if_empty(key);
    Ok(Reply::Integer(removed as i64))
}

pub fn zremrangebyrank(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    zremrange_generic(ctx, argv, Kind::Rank)
}

pub fn zremrangebyscore(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    zremrange_generic(ctx, argv, Kind::Score)
}

pub fn zremrangebylex(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    zremrange_generic(ctx, argv, Kind::Lex)
}

//! DUMP and RESTORE (Redis's `dumpCommand` / `restoreCommand` in
//! `cluster.c`): a key's value as an RDB payload, and a key made from one.
//! Keyed commands: both run on the shard that owns the key, and build or
//! read the payload there with the sans-IO codec of `persistence::rdb`.

use bytes::Bytes;

use super::args::{parse_i64, Args};
use super::error::CmdError;
use super::string::key_copy;
use super::{CmdResult, KeyCtx};
use crate::persistence::rdb;
use crate::protocol::Reply;
use crate::shard::value::Entry;

/// DUMP key: the payload, or nil for a missing key.
pub fn dump(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let now = ctx.now;
    Ok(match ctx.db().get(&argv[1], now) {
        Some(e) => Reply::bulk(rdb::dump_payload(&e.value)),
        None => Reply::Nil,
    })
}

/// RESTORE's options after the payload.
#[derive(Default)]
struct RestoreOpts {
    replace: bool,
    absttl: bool,
    /// IDLETIME seconds; excludes FREQ, as in Redis (whichever comes
    /// second is a syntax error).
    idle: Option<u64>,
    freq: Option<u8>,
}

/// Parses REPLACE, ABSTTL, IDLETIME s and FREQ f (in any order, after
/// key, ttl and payload), checking each value as it comes, as
/// `restoreCommand` does.
fn restore_opts(argv: &[Bytes]) -> Result<RestoreOpts, CmdError> {
    let mut o = RestoreOpts::default();
    let mut args = Args::new(argv);
    for _ in 0..3 {
        args.arg()?;
    }
    while !args.is_empty() {
        let has_value = args.remaining() >= 2;
        if args.eat("REPLACE") {
            o.replace = true;
        } else if args.eat("ABSTTL") {
            o.absttl = true;
        } else if has_value && o.freq.is_none() && args.eat("IDLETIME") {
            let v = args.next_i64()?;
            o.idle = Some(u64::try_from(v).map_err(|_| CmdError::InvalidIdleTime)?);
        } else if has_value && o.idle.is_none() && args.eat("FREQ") {
            let v = args.next_i64()?;
            o.freq = Some(u8::try_from(v).map_err(|_| CmdError::InvalidFreq)?);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(o)
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f].
/// Checks in Redis's order: options, existing key (BUSYKEY), ttl, payload
/// footer, payload object. A ttl of 0 means no expiry; with ABSTTL it is a
/// unix time in ms. A deadline already past creates nothing (and deletes
/// the key REPLACE would have replaced) and still answers OK.
pub fn restore(ctx: &mut KeyCtx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let opts = restore_opts(argv)?;
    let now = ctx.now;
    if !opts.replace && ctx.db().contains(key, now) {
        return Err(CmdError::BusyKey);
    }
    let ttl = parse_i64(&argv[2])?;
    if ttl < 0 {
        return Err(CmdError::InvalidTtl);
    }
    let body = rdb::verify_payload(&argv[3]).map_err(|_| CmdError::BadDumpPayload)?;
    let value = rdb::decode_payload(body, &ctx.enc).map_err(|_| CmdError::BadDataFormat)?;
    let deleted = opts.replace && ctx.db().remove(key, now).is_some();
    let now_ms = i64::try_from(now).unwrap_or(i64::MAX);
    let deadline = if ttl != 0 && !opts.absttl {
        ttl.saturating_add(now_ms)
    } else {
        ttl
    };
    if deadline != 0 && deadline <= now_ms {
        // `checkAlreadyExpired`: nothing is created; the replaced key's
        // deletion is the write (propagated as DEL).
        if deleted {
            ctx.dirty += 1;
        }
        return Ok(Reply::ok());
    }
    // COMPAT: FREQ is checked and then ignored: tessera keeps no LFU
    // counter (OBJECT FREQ answers 0).
    let _ = opts.freq;
    let entry = Entry {
        value,
        expire_at: deadline as u64,
        lru: rdb::lru_with_idle(now, opts.idle.unwrap_or(0)),
    };
    ctx.db().put_entry(key_copy(key), entry, now);
    ctx.dirty += 1;
    Ok(Reply::ok())
}

//! Transactions: MULTI EXEC DISCARD WATCH UNWATCH (Redis's `multi.c`).
//! Runs on: the client's shard, which coordinates EXEC.
//!
//! Queuing happens in dispatch (`queue`): after MULTI every command but
//! EXEC, DISCARD, MULTI, WATCH, QUIT and RESET is checked (name, arity,
//! auth) and queued. EXEC then takes exclusive locks on every key the queued
//! commands name, and on the watched keys, shard by shard in ascending order
//! (the order every cross-shard command uses, so no deadlock); checks the
//! watched keys under those locks; runs the commands in order (each on the
//! shard owning its keys, those spanning shards on scratch copies, all
//! without further locking); and unlocks. Other clients' commands on those
//! keys wait; every other key keeps being served.
//!
//! WATCH asks each key's shard for the key's modification count (counted by
//! the shard's `Db` for watched keys only) and whether it exists; EXEC fails
//! (null reply) if a count moved or a key that existed has expired.
//!
//! COMPAT: commands without keys (KEYS, SCAN, DBSIZE, FLUSHALL, INFO …)
//! inside EXEC run in order but are not isolated from other clients.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::table::{self, flags, CommandSpec, Handler};
use super::{BoxFut, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::server::client::{MultiState, WatchedKey};
use crate::server::connection::Conn;
use crate::server::context::ShardCtx;
use crate::server::hop::{ShardReply, ShardRequest};
use crate::server::tx;
use crate::shard::lock::{LockKey, TxId};

/// Dispatch's gate for a client inside MULTI: `None` when the command runs
/// now (not in MULTI, or one of the commands that act on the transaction),
/// else its reply (QUEUED, or the rejection that dooms the transaction).
pub fn queue(conn: &Conn, spec: &CommandSpec, argv: &[Bytes]) -> Option<Reply> {
    let mut multi = conn.client.multi.borrow_mut();
    let state = multi.as_mut()?;
    if matches!(
        spec.name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    ) {
        return None;
    }
    if spec.has(flags::NO_MULTI) {
        state.errored = true;
        return Some(CmdError::err("Command not allowed inside a transaction").reply());
    }
    state.queue.push(argv.to_vec());
    Some(Reply::Simple("QUEUED".into()))
}

/// A command rejected before queuing (unknown, arity, auth) dooms the
/// transaction (`flagTransaction`).
pub fn flag_error(conn: &Conn) {
    if let Some(state) = conn.client.multi.borrow_mut().as_mut() {
        state.errored = true;
    }
}

pub fn multi(conn: &Conn, _argv: &[Bytes]) -> CmdResult {
    let mut multi = conn.client.multi.borrow_mut();
    if multi.is_some() {
        return Err(CmdError::err("MULTI calls can not be nested"));
    }
    *multi = Some(MultiState::default());
    Ok(Reply::ok())
}

pub fn discard(conn: &Conn, _argv: &[Bytes]) -> CmdResult {
    if conn.client.multi.borrow_mut().take().is_none() {
        return Err(CmdError::err("DISCARD without MULTI"));
    }
    unwatch_all(conn);
    Ok(Reply::ok())
}

pub fn unwatch(conn: &Conn, _argv: &[Bytes]) -> CmdResult {
    unwatch_all(conn);
    Ok(Reply::ok())
}

/// Forgets every watched key of the client (UNWATCH, EXEC, DISCARD, RESET,
/// disconnect).
pub fn unwatch_all(conn: &Conn) {
    let watched = std::mem::take(&mut *conn.client.watched.borrow_mut());
    let mut by_shard: BTreeMap<usize, Vec<LockKey>> = BTreeMap::new();
    for w in watched {
        by_shard.entry(w.shard).or_default().push((w.db, w.key));
    }
    for (shard, keys) in by_shard {
        conn.ctx.tell(shard, ShardRequest::Unwatch { keys });
    }
}

/// WATCH key [key ...]
pub fn watch(conn: Conn, argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move {
        if conn.client.multi.borrow().is_some() {
            return Err(CmdError::err("WATCH inside MULTI is not allowed"));
        }
        let ctx = &conn.ctx;
        let db = conn.client.db.get();
        let mut by_shard: BTreeMap<usize, Vec<LockKey>> = BTreeMap::new();
        for key in &argv[1..] {
            let already = conn
                .client
                .watched
                .borrow()
                .iter()
                .any(|w| w.db == db && w.key == key);
            let keys = by_shard.entry(ctx.slots.shard_of_key(key).0).or_default();
            if !already && !keys.iter().any(|(_, k)| k == key) {
                keys.push((db, key.clone()));
            }
        }
        for (shard, keys) in by_shard {
            if keys.is_empty() {
                continue;
            }
            let req = ShardRequest::Watch { keys: keys.clone() };
            let ShardReply::Watched(seen) = ctx.hop(shard, req).await else {
                return Err(CmdError::err("internal error during WATCH"));
            };
            let mut watched = conn.client.watched.borrow_mut();
            for ((db, key), (seen, existed)) in keys.into_iter().zip(seen) {
                watched.push(WatchedKey {
                    shard,
                    db,
                    key,
                    seen,
                    existed,
                });
            }
        }
        Ok(Reply::ok())
    })
}

/// EXEC
pub fn exec(conn: Conn, _argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move {
        let Some(state) = conn.client.multi.borrow_mut().take() else {
            return Err(CmdError::err("EXEC without MULTI"));
        };
        if state.errored {
            unwatch_all(&conn);
            return Err(CmdError::ExecAbort);
        }
        let ctx = &conn.ctx;
        let plan = plan(ctx, &conn, state.queue);
        let mut locks: BTreeMap<usize, Vec<LockKey>> = BTreeMap::new();
        for (_, _, keys) in &plan {
            for key in keys {
                let shard = ctx.slots.shard_of_key(&key.1).0;
                locks.entry(shard).or_default().push(key.clone());
            }
        }
        let watched = std::mem::take(&mut *conn.client.watched.borrow_mut());
        let mut checks: BTreeMap<usize, Vec<(LockKey, u64, bool)>> = BTreeMap::new();
        for w in &watched {
            let key = (w.db, w.key.clone());
            locks.entry(w.shard).or_default().push(key.clone());
            checks
                .entry(w.shard)
                .or_default()
                .push((key, w.seen, w.existed));
        }
        let txid = ctx.next_txid();
        let mut locked = Vec::new();
        let mut failed = false;
        for (&shard, keys) in &locks {
            let req = ShardRequest::Lock {
                txid,
                keys: keys.clone(),
                exclusive: true,
            };
            match ctx.hop(shard, req).await {
                ShardReply::Done => locked.push(shard),
                _ => {
                    failed = true;
                    break;
                }
            }
        }
        let mut dirty = failed;
        for (shard, keys) in checks {
            if dirty {
                break;
            }
            dirty = !matches!(
                ctx.hop(shard, ShardRequest::WatchCheck { keys }).await,
                ShardReply::Count(0)
            );
        }
        conn.client.watched.borrow_mut().extend(watched);
        unwatch_all(&conn);
        let reply = if failed {
            Err(CmdError::err("internal error during EXEC"))
        } else if dirty {
            Ok(Reply::NilArray)
        } else {
            let mut out = Vec::with_capacity(plan.len());
            for (spec, argv, _) in plan {
                out.push(run_locked(&conn, txid, spec, argv).await);
                tx::test_delay(ctx).await;
            }
            Ok(Reply::Array(out))
        };
        tx::finish(ctx, txid, &locked).await;
        reply
    })
}

type Plan = Vec<(&'static CommandSpec, Vec<Bytes>, Vec<LockKey>)>;

/// Each queued command with the keys it will lock, in the database it will
/// run in (following the SELECTs queued before it).
fn plan(ctx: &ShardCtx, conn: &Conn, queue: Vec<Vec<Bytes>>) -> Plan {
    let mut db = conn.client.db.get();
    let databases = ctx.hot.get().databases;
    let mut out = Vec::with_capacity(queue.len());
    for argv in queue {
        let Some(spec) = argv.first().and_then(|n| table::lookup(n)) else {
            continue;
        };
        let keys = match spec.handler {
            Handler::Keyed(_) => ShardCtx::lock_keys(spec, db, &argv),
            _ => Vec::new(),
        };
        if spec.name == "select" {
            if let Some(n) = argv
                .get(1)
                .and_then(|a| super::keys::db_index(a, databases).ok())
            {
                db = n;
            }
        }
        out.push((spec, argv, keys));
    }
    out
}

/// Runs one queued command while EXEC holds its keys' locks.
async fn run_locked(
    conn: &Conn,
    txid: TxId,
    spec: &'static CommandSpec,
    argv: Vec<Bytes>,
) -> Reply {
    let ctx = &conn.ctx;
    let result = match spec.handler {
        Handler::Local(f) => f(conn, &argv),
        Handler::Async(f) => f(conn.clone(), argv).await,
        Handler::Keyed(handler) => {
            let db = conn.client.db.get();
            let by_shard = super::dispatch::keys_by_shard(ctx, spec, db, &argv);
            let mut shards = by_shard.keys();
            match (shards.next().copied(), shards.next()) {
                (None, _) => Ok(ctx.exec_keyed(spec, db, &argv, Some(txid))),
                (Some(s), None) if s == ctx.id.0 => Ok(ctx.exec_keyed(spec, db, &argv, Some(txid))),
                (Some(s), None) => match ctx.hop(s, ShardRequest::TxRun { txid, db, argv }).await {
                    ShardReply::Reply(r) => Ok(r),
                    _ => Err(CmdError::err("internal error during EXEC")),
                },
                _ => {
                    let exclusive = spec.has(flags::WRITE);
                    Ok(tx::execute(ctx, txid, handler, db, &argv, &by_shard, exclusive).await)
                }
            }
        }
    };
    result.unwrap_or_else(|e| e.reply())
}

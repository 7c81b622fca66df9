//! Dispatch: the ordered gates every command passes (as Redis's
//! `processCommand`), then routing to where it runs.
//! Runs on: the connection's shard.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::args::lossy;
use super::table::{self, flags, CommandSpec, Handler};
use super::CmdError;
use crate::server::connection::{Conn, Pending};
use crate::server::context::{Deferred, ShardCtx};
use crate::server::hop::{ReplyTo, ShardRequest};
use crate::server::tx;
use crate::shard::lock::{LockKey, Waiter};
use crate::util::clock::{coarse_micros, now_ms};

/// Checks and runs one command; the reply may still be on its way.
pub async fn dispatch(conn: &Conn, argv: Vec<Bytes>) -> Pending {
    let ctx = &conn.ctx;
    ctx.commands.set(ctx.commands.get() + 1);
    let spec = match check(conn, &argv) {
        Ok(spec) => spec,
        Err(e) => {
            super::multi::flag_error(conn);
            return Pending::Ready(e.reply());
        }
    };
    if let Some(queued) = super::multi::queue(conn, spec, &argv) {
        return Pending::Ready(queued);
    }
    pause_gate(ctx, spec).await;
    conn.client.last_cmd.set(spec.name);
    if table::is_container(spec.name) {
        *conn.client.last_sub.borrow_mut() = argv.get(1).cloned().unwrap_or_default();
    } else if !conn.client.last_sub.borrow().is_empty() {
        *conn.client.last_sub.borrow_mut() = Bytes::new();
    }
    if !spec.has(flags::SKIP_MONITOR | flags::ADMIN) {
        ctx.feed_monitors(&conn.client, &argv);
    }
    let slower_than = ctx.hot.get().slowlog_slower_than;
    if slower_than < 0 || spec.has(flags::SKIP_SLOWLOG) {
        return execute(conn, spec, argv).await.0;
    }
    let start = coarse_micros();
    let (pending, given_back) = execute(conn, spec, argv).await;
    let micros = coarse_micros().saturating_sub(start);
    // COMPAT: commands are timed with the coarse monotonic clock (a few ms of
    // resolution). One run on another shard is timed there and logged when
    // its reply arrives (`Pending::resolve`).
    if let (true, Some(logged)) = (micros as i64 >= slower_than, given_back) {
        ctx.log_slow(&conn.client, &logged, micros);
    }
    pending
}

async fn execute(
    conn: &Conn,
    spec: &'static CommandSpec,
    argv: Vec<Bytes>,
) -> (Pending, Option<Vec<Bytes>>) {
    match spec.handler {
        Handler::Local(f) => {
            let reply = f(conn, &argv).unwrap_or_else(|e| e.reply());
            (Pending::Ready(reply), Some(argv))
        }
        Handler::Async(f) => {
            let copy = argv.clone();
            let reply = f(conn.clone(), argv).await.unwrap_or_else(|e| e.reply());
            (Pending::Ready(reply), Some(copy))
        }
        Handler::Keyed(_) if spec.has(flags::BLOCKING) => {
            let copy = argv.clone();
            let run = super::blocking::run(conn.clone(), spec, argv);
            (Pending::Blocked(Box::pin(run)), Some(copy))
        }
        Handler::Keyed(_) => route_keyed(conn, spec, argv).await,
    }
}

/// The gates before execution: known command, arity, authentication.
fn check(conn: &Conn, argv: &[Bytes]) -> Result<&'static CommandSpec, CmdError> {
    let Some(name) = argv.first() else {
        return Err(CmdError::Syntax);
    };
    let Some(spec) = table::lookup(name) else {
        let args = argv.iter().skip(1).map(|a| lossy(a)).collect();
        return Err(CmdError::UnknownCommand(lossy(name), args));
    };
    if !spec.arity_ok(argv.len()) {
        return Err(CmdError::WrongArity(spec.name.to_string()));
    }
    if !conn.client.authenticated.get() && !spec.has(flags::NO_AUTH) {
        return Err(CmdError::NoAuth);
    }
    super::pubsub::subscribed_gate(conn, spec, argv)?;
    Ok(spec)
}

/// CLIENT PAUSE: hold the command until the pause ends (writes only, or all).
async fn pause_gate(ctx: &ShardCtx, spec: &CommandSpec) {
    loop {
        let until = ctx.paused_until.get();
        if until == 0 {
            return;
        }
        let now = now_ms();
        if until <= now {
            ctx.paused_until.set(0);
            return;
        }
        if ctx.pause_writes_only.get() && !spec.has(flags::WRITE) {
            return;
        }
        if spec.name == "client" {
            return;
        }
        let wait = (until - now).min(100);
        glommio::timer::sleep(std::time::Duration::from_millis(wait)).await;
    }
}

/// Keys of a keyed command grouped by owning shard (ascending).
pub fn keys_by_shard(
    ctx: &ShardCtx,
    spec: &CommandSpec,
    db: usize,
    argv: &[Bytes],
) -> BTreeMap<usize, Vec<LockKey>> {
    let mut by_shard: BTreeMap<usize, Vec<LockKey>> = BTreeMap::new();
    for key in ShardCtx::lock_keys(spec, db, argv) {
        let shard = ctx.slots.shard_of_key(&key.1).0;
        by_shard.entry(shard).or_default().push(key);
    }
    by_shard
}

async fn route_keyed(
    conn: &Conn,
    spec: &'static CommandSpec,
    argv: Vec<Bytes>,
) -> (Pending, Option<Vec<Bytes>>) {
    let ctx = &conn.ctx;
    let db = conn.client.db.get();
    let shard = match single_shard(ctx, spec, &argv) {
        Some(shard) => shard,
        None => {
            let by_shard = keys_by_shard(ctx, spec, db, &argv);
            let copy = argv.clone();
            let reply = tx::run(ctx, spec, db, argv, by_shard).await;
            return (Pending::Ready(reply), Some(copy));
        }
    };
    if shard != ctx.id.0 {
        let rx = ctx.mesh.request(shard, ShardRequest::Run { db, argv });
        return (Pending::Remote(rx), None);
    }
    match park_if_locked(ctx, spec, db, argv) {
        // Await here so later commands of this pipeline stay behind it.
        Err(rx) => (
            Pending::Ready(Pending::Remote(rx).resolve(conn).await),
            None,
        ),
        Ok(argv) => (Pending::Ready(ctx.exec_keyed(spec, db, &argv)), Some(argv)),
    }
}

/// The one shard owning every key of the command (this shard when it has
/// none), or `None` when the keys span shards. Allocation-free.
fn single_shard(ctx: &ShardCtx, spec: &CommandSpec, argv: &[Bytes]) -> Option<usize> {
    if ctx.nshards() == 1 {
        return Some(0);
    }
    let mut owner = None;
    for i in spec.key_indexes(argv) {
        let Some(k) = argv.get(i) else { continue };
        let s = ctx.slots.shard_of_key(k).0;
        match owner {
            None => owner = Some(s),
            Some(o) if o != s => return None,
            Some(_) => {}
        }
    }
    Some(owner.unwrap_or(ctx.id.0))
}

/// Parks the command behind a transaction's locks on its keys, if any;
/// otherwise hands `argv` back to run now.
fn park_if_locked(
    ctx: &ShardCtx,
    spec: &'static CommandSpec,
    db: usize,
    argv: Vec<Bytes>,
) -> Result<Vec<Bytes>, futures_channel::oneshot::Receiver<crate::server::hop::ShardReply>> {
    let mut locks = ctx.locks.borrow_mut();
    if locks.is_idle() {
        return Ok(argv);
    }
    let keys = ShardCtx::lock_keys(spec, db, &argv);
    let exclusive = spec.has(flags::WRITE);
    if locks.available(&keys, exclusive) {
        return Ok(argv);
    }
    let (tx, rx) = futures_channel::oneshot::channel();
    locks.wait(Waiter {
        keys,
        exclusive,
        txid: None,
        payload: Deferred::Run {
            spec,
            db,
            argv,
            to: ReplyTo::Local(tx),
        },
    });
    Err(rx)
}

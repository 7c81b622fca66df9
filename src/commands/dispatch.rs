//! Dispatch: the ordered gates every command passes (as Redis's
//! `processCommand`), then routing to where it runs.
//! Runs on: the connection's shard.

use std::cell::Cell;
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
///
/// `clock` carries the coarse clock (µs) between the commands of one batch:
/// the reading taken when a command ends is the start of the next one, so
/// timing costs one read per command, not two. 0 means "not read yet".
/// `argv` stays the caller's (a connection reuses it), emptied only when
/// the command had to leave with it (another shard, a lock queue).
pub async fn dispatch(conn: &Conn, argv: &mut Vec<Bytes>, clock: &mut u64) -> Pending {
    let ctx = &conn.ctx;
    ctx.commands.set(ctx.commands.get() + 1);
    let spec = match check(conn, argv) {
        Ok(spec) => spec,
        Err(e) => {
            super::multi::flag_error(conn);
            return Pending::Ready(e.reply());
        }
    };
    if let Some(queued) = super::multi::queue(conn, spec, argv) {
        return Pending::Ready(queued);
    }
    if pause_gate(ctx, spec).await {
        *clock = 0;
    }
    conn.client.last_cmd.set(spec.name);
    if table::is_container(spec.name) {
        *conn.client.last_sub.borrow_mut() = argv.get(1).cloned().unwrap_or_default();
    } else if !conn.client.last_sub.borrow().is_empty() {
        *conn.client.last_sub.borrow_mut() = Bytes::new();
    }
    if !spec.has(flags::SKIP_MONITOR | flags::ADMIN) {
        ctx.feed_monitors(&conn.client, argv);
    }
    let slower_than = ctx.hot.get().slowlog_slower_than;
    if slower_than < 0 || spec.has(flags::SKIP_SLOWLOG) {
        *clock = 0;
        return execute(conn, spec, argv).await.0;
    }
    let start = match *clock {
        0 => coarse_micros(),
        t => t,
    };
    let (pending, ran_here) = execute(conn, spec, argv).await;
    let end = coarse_micros();
    *clock = end;
    let micros = end.saturating_sub(start);
    // COMPAT: commands are timed with the coarse monotonic clock (a few ms of
    // resolution). One run on another shard is timed there and logged when
    // its reply arrives (`Pending::resolve`).
    if micros as i64 >= slower_than && ran_here {
        ctx.log_slow(&conn.client, argv, micros);
    }
    pending
}

/// Runs the command (or starts it); true when it ran here with `argv`
/// intact, so its slow-log entry is made here.
async fn execute(
    conn: &Conn,
    spec: &'static CommandSpec,
    argv: &mut Vec<Bytes>,
) -> (Pending, bool) {
    match spec.handler {
        Handler::Local(f) => {
            let reply = f(conn, argv).unwrap_or_else(|e| e.reply());
            (Pending::Ready(reply), true)
        }
        Handler::Async(f) => {
            let reply = f(conn.clone(), argv.clone())
                .await
                .unwrap_or_else(|e| e.reply());
            (Pending::Ready(reply), true)
        }
        Handler::Keyed(_) if spec.has(flags::BLOCKING) => {
            let run = super::blocking::run(conn.clone(), spec, argv.clone());
            (Pending::Blocked(Box::pin(run)), true)
        }
        Handler::Keyed(_) => route_keyed(conn, spec, argv).await,
    }
}

/// The gates before execution: known command, arity, authentication.
fn check(conn: &Conn, argv: &[Bytes]) -> Result<&'static CommandSpec, CmdError> {
    let Some(name) = argv.first() else {
        return Err(CmdError::Syntax);
    };
    let Some(spec) = lookup(name) else {
        let args = argv.iter().skip(1).map(|a| lossy(a)).collect();
        return Err(CmdError::UnknownCommand(lossy(name), args));
    };
    if !spec.arity_ok(argv.len()) {
        return Err(CmdError::WrongArity(spec.name.to_string()));
    }
    if !conn.client.authenticated.get() && !spec.has(flags::NO_AUTH) {
        return Err(CmdError::NoAuth);
    }
    if spec.has(flags::WRITE) {
        write_gates(conn)?;
    }
    super::pubsub::subscribed_gate(conn, spec, argv)?;
    stale_gate(conn, spec)?;
    Ok(spec)
}

/// Redis's `processCommand` checks for writes: a read-only replica refuses
/// them (but from its master), a master short of good replicas too.
fn write_gates(conn: &Conn) -> Result<(), CmdError> {
    let ctx = &conn.ctx;
    let hot = ctx.hot.get();
    if ctx.is_replica.get() {
        if hot.replica_read_only && !conn.client.is_master.get() {
            return Err(CmdError::ReadOnly);
        }
    } else if hot.min_replicas > 0 && ctx.good_replicas.get() < hot.min_replicas {
        return Err(CmdError::NoReplicas);
    }
    Ok(())
}

/// A replica cut off from its master with `replica-serve-stale-data no`
/// answers only the commands flagged `stale` (INFO, REPLICAOF, PING...).
fn stale_gate(conn: &Conn, spec: &CommandSpec) -> Result<(), CmdError> {
    let ctx = &conn.ctx;
    if ctx.is_replica.get()
        && !ctx.master_link_up.get()
        && !conn.client.is_master.get()
        && !ctx.hot.get().serve_stale_data
        && !spec.has(flags::STALE)
    {
        return Err(CmdError::MasterDown);
    }
    Ok(())
}

thread_local! {
    /// The command this shard looked up last: a pipeline mostly repeats one.
    static LAST_SPEC: Cell<Option<&'static CommandSpec>> = const { Cell::new(None) };
}

/// `table::lookup`, first trying the command looked up last.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    if let Some(spec) = LAST_SPEC.get() {
        if same_name(name, spec.name.as_bytes()) {
            return Some(spec);
        }
    }
    let spec = table::lookup(name)?;
    LAST_SPEC.set(Some(spec));
    Some(spec)
}

/// Whether `name` is `lower` (a table name: lower-case ASCII) in any case.
/// Cheaper than `eq_ignore_ascii_case`, which lower-cases both sides.
fn same_name(name: &[u8], lower: &[u8]) -> bool {
    name.len() == lower.len()
        && name.iter().zip(lower).all(|(&n, &l)| {
            if l.is_ascii_lowercase() {
                (n | 0x20) == l
            } else {
                n == l
            }
        })
}

/// CLIENT PAUSE: hold the command until the pause ends (writes only, or all).
/// Returns whether it held the command.
async fn pause_gate(ctx: &ShardCtx, spec: &CommandSpec) -> bool {
    let mut held = false;
    loop {
        let until = ctx.paused_until.get();
        if until == 0 {
            return held;
        }
        let now = now_ms();
        if until <= now {
            ctx.paused_until.set(0);
            return held;
        }
        if ctx.pause_writes_only.get() && !spec.has(flags::WRITE) {
            return held;
        }
        if spec.name == "client" {
            return held;
        }
        let wait = (until - now).min(100);
        glommio::timer::sleep(std::time::Duration::from_millis(wait)).await;
        held = true;
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
    argv: &mut Vec<Bytes>,
) -> (Pending, bool) {
    let ctx = &conn.ctx;
    let db = conn.client.db.get();
    let shard = match single_shard(ctx, spec, argv) {
        Some(shard) => shard,
        None => {
            let by_shard = keys_by_shard(ctx, spec, db, argv);
            let reply = tx::run(ctx, spec, db, argv.clone(), by_shard).await;
            return (Pending::Ready(reply), true);
        }
    };
    if shard != ctx.id.0 {
        let argv = std::mem::take(argv);
        let rx = ctx.mesh.request(shard, ShardRequest::Run { db, argv });
        return (Pending::Remote(rx), false);
    }
    match park_if_locked(ctx, spec, db, argv) {
        // Await here so later commands of this pipeline stay behind it.
        Some(rx) => (
            Pending::Ready(Pending::Remote(rx).resolve(conn).await),
            false,
        ),
        None => (Pending::Ready(ctx.exec_keyed(spec, db, argv, None)), true),
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

/// Parks the command behind a transaction's locks on its keys, if any
/// (taking `argv`; its reply comes on the receiver); `None`: run it now.
fn park_if_locked(
    ctx: &ShardCtx,
    spec: &'static CommandSpec,
    db: usize,
    argv: &mut Vec<Bytes>,
) -> Option<futures_channel::oneshot::Receiver<crate::server::hop::ShardReply>> {
    let mut locks = ctx.locks.borrow_mut();
    if locks.is_idle() {
        return None;
    }
    let keys = ShardCtx::lock_keys(spec, db, argv);
    let exclusive = spec.has(flags::WRITE);
    if locks.available(&keys, exclusive) {
        return None;
    }
    let argv = std::mem::take(argv);
    let (tx, rx) = futures_channel::oneshot::channel();
    locks.wait(Waiter {
        keys,
        exclusive,
        txid: None,
        payload: Deferred::Run {
            spec,
            db,
            argv,
            tx: None,
            to: ReplyTo::Local(tx),
        },
    });
    Some(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_name_ignores_case_of_letters_only() {
        assert!(same_name(b"SET", b"set"));
        assert!(same_name(b"sEt", b"set"));
        assert!(!same_name(b"SETX", b"set"));
        assert!(!same_name(b"SE", b"set"));
        assert!(same_name(b"RESTORE-ASKING", b"restore-asking"));
        // '\r' | 0x20 == '-': only letters compare case-insensitively.
        assert!(!same_name(b"RESTORE\rASKING", b"restore-asking"));
        assert!(!same_name(b"S@T", b"s`t"));
    }

    #[test]
    fn cached_lookup_follows_the_name() {
        assert_eq!(lookup(b"GET").map(|s| s.name), Some("get"));
        assert_eq!(lookup(b"get").map(|s| s.name), Some("get"));
        assert_eq!(lookup(b"SET").map(|s| s.name), Some("set"));
        assert_eq!(lookup(b"GETX").map(|s| s.name), None);
    }
}

//! Cross-shard transactions: one command whose keys live on several shards
//! (MGET, MSET, DEL, RENAME, COPY, BITOP, LCS, …) runs atomically.
//! Runs on: the connection's shard, which coordinates; the other shards only
//! serve hops (Lock, Fetch, Store, Unlock) and never await each other.
//!
//! Steps: (1) lock the keys on each shard in ascending shard order, shared
//! for read-only commands and exclusive for writes — ordered acquisition, so
//! no deadlock; (2) fetch copies of the entries; (3) run the command's normal
//! handler on scratch databases holding just those copies; (4) store back the
//! keys it wrote; (5) unlock everywhere. Until (5) nobody can read or write
//! those keys, so no one sees half of the command.
//!
//! Commands that are the union of their per-key effects (MGET, MSET, DEL,
//! UNLINK, EXISTS, TOUCH) take a shorter path: per shard, in the same
//! ascending order, one `LockRun` hop locks the keys and runs that shard's
//! share; the replies are merged and every shard unlocks at the end.
//!
//! While replicas are fed, a transaction's writes on each shard are kept
//! out of that shard's feed; before unlocking, `finish` collects them and
//! the control executor appends them as one MULTI/EXEC block, after what
//! each shard wrote before them. Conflicting writes wait for the locks, so
//! every key's history stays in order in the merged stream.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::context::ShardCtx;
use super::hop::{ShardReply, ShardRequest};
use crate::commands::table::{flags, CommandSpec, Handler};
use crate::commands::{CmdError, KeyCtx};
use crate::protocol::Reply;
use crate::shard::db::Db;
use crate::shard::lock::{LockKey, TxId};
use crate::shard::value::Entry;
use crate::util::clock::now_ms;

fn internal(what: &str) -> Reply {
    tracing::error!(what, "cross-shard transaction failed");
    CmdError::err(format!("internal error in cross-shard command: {what}")).reply()
}

/// How the per-shard replies of a command that splits by key combine.
enum Merge {
    /// MGET: one array, in the order the keys were given.
    InKeyOrder,
    /// DEL UNLINK EXISTS TOUCH: the sum of the counts.
    Sum,
    /// MSET: +OK.
    Ok,
}

/// Commands whose effect is the union of the same command on each shard's
/// keys; they run as one LockRun hop per shard instead of fetch + store.
fn split_kind(name: &str) -> Option<(Merge, usize)> {
    match name {
        "mget" => Some((Merge::InKeyOrder, 1)),
        "del" | "unlink" | "exists" | "touch" => Some((Merge::Sum, 1)),
        "mset" => Some((Merge::Ok, 2)),
        _ => None,
    }
}

/// Runs `argv` as a transaction over the shards in `by_shard`.
pub async fn run(
    ctx: &ShardCtx,
    spec: &'static CommandSpec,
    db: usize,
    argv: Vec<Bytes>,
    by_shard: BTreeMap<usize, Vec<LockKey>>,
) -> Reply {
    match split_kind(spec.name) {
        Some((merge, stride)) if argv.len() > 1 && (argv.len() - 1) % stride == 0 => {
            run_split(ctx, spec, db, argv, merge, stride).await
        }
        _ => run_generic(ctx, spec, db, argv, by_shard).await,
    }
}

/// The split path: each shard, in ascending order, locks its keys and runs
/// its share of the command in one hop (locks held); then all unlock. Same
/// ordered locking as the generic path, one round trip per shard.
async fn run_split(
    ctx: &ShardCtx,
    spec: &'static CommandSpec,
    db: usize,
    argv: Vec<Bytes>,
    merge: Merge,
    stride: usize,
) -> Reply {
    // Per shard: its sub-command and the positions of its keys in `argv`.
    let mut parts: BTreeMap<usize, (Vec<Bytes>, Vec<usize>)> = BTreeMap::new();
    for (n, group) in argv[1..].chunks(stride).enumerate() {
        let shard = ctx.slots.shard_of_key(&group[0]).0;
        let part = parts
            .entry(shard)
            .or_insert_with(|| (vec![argv[0].clone()], Vec::new()));
        part.0.extend(group.iter().cloned());
        part.1.push(n);
    }
    let txid = ctx.next_txid();
    let exclusive = spec.has(flags::WRITE);
    let mut replies = Vec::with_capacity(parts.len());
    let mut locked = Vec::new();
    for (&shard, (sub, _)) in &parts {
        let keys = sub[1..]
            .iter()
            .step_by(stride)
            .map(|k| (db, k.clone()))
            .collect();
        let req = ShardRequest::LockRun {
            txid,
            keys,
            exclusive,
            db,
            argv: sub.clone(),
        };
        let reply = ctx.hop(shard, req).await;
        test_delay(ctx).await;
        locked.push(shard);
        match reply {
            ShardReply::Reply(r) => replies.push(r),
            _ => {
                finish(ctx, txid, &locked).await;
                return internal("lock-run");
            }
        }
    }
    finish(ctx, txid, &locked).await;
    match merge {
        Merge::Ok => Reply::ok(),
        Merge::Sum => Reply::Integer(
            replies
                .iter()
                .map(|r| if let Reply::Integer(n) = r { *n } else { 0 })
                .sum(),
        ),
        Merge::InKeyOrder => {
            let total = (argv.len() - 1) / stride;
            let mut out = vec![Reply::Nil; total];
            for ((_, (_, positions)), reply) in parts.iter().zip(replies) {
                let Reply::Array(items) = reply else {
                    return internal("mget part");
                };
                for (pos, item) in positions.iter().zip(items) {
                    if let Some(slot) = out.get_mut(*pos) {
                        *slot = item;
                    }
                }
            }
            Reply::Array(out)
        }
    }
}

/// The generic path: lock, fetch copies, run on scratch, store back, unlock.
async fn run_generic(
    ctx: &ShardCtx,
    spec: &'static CommandSpec,
    db: usize,
    argv: Vec<Bytes>,
    by_shard: BTreeMap<usize, Vec<LockKey>>,
) -> Reply {
    let Handler::Keyed(handler) = spec.handler else {
        return internal("not a keyed command");
    };
    let txid = ctx.next_txid();
    let exclusive = spec.has(flags::WRITE);
    let mut locked = Vec::new();
    let mut failed = false;
    for (&shard, keys) in &by_shard {
        let req = ShardRequest::Lock {
            txid,
            keys: keys.clone(),
            exclusive,
        };
        match ctx.hop(shard, req).await {
            ShardReply::Done => locked.push(shard),
            _ => {
                failed = true;
                break;
            }
        }
    }
    let reply = if failed {
        internal("lock")
    } else {
        execute(ctx, txid, handler, db, &argv, &by_shard, exclusive).await
    };
    finish(ctx, txid, &locked).await;
    reply
}

/// Ends transaction `txid`, which holds locks on `locked`: while this
/// shard feeds replicas, its writes on every shard (this one too) go to
/// the merged stream as one MULTI/EXEC block first; then all unlock.
pub async fn finish(ctx: &ShardCtx, txid: TxId, locked: &[usize]) {
    if ctx.shard.borrow().repl.feeding() {
        let mut shards = locked.to_vec();
        if !shards.contains(&ctx.id.0) {
            shards.push(ctx.id.0);
        }
        let rxs: Vec<_> = shards
            .iter()
            .map(|&s| ctx.hop_start(s, ShardRequest::TxSeal { txid }))
            .collect();
        let mut parts = Vec::new();
        let mut fences = Vec::new();
        for (&shard, reply) in shards.iter().zip(super::hop::gather(rxs).await) {
            if let ShardReply::TxPart { bytes, fence } = reply {
                if !bytes.is_empty() {
                    parts.push(bytes);
                    fences.push((shard, fence));
                }
            }
        }
        if !parts.is_empty() {
            let req = ShardRequest::ReplBlock { parts, fences };
            ctx.hop(ctx.control_peer(), req).await;
        }
    }
    for &shard in locked {
        ctx.tell(shard, ShardRequest::Unlock { txid });
    }
}

/// Runs `handler` on scratch copies of the keys in `by_shard` and stores
/// the writes back; the caller holds the keys' locks (a cross-shard command,
/// or one command of an EXEC).
pub async fn execute(
    ctx: &ShardCtx,
    txid: TxId,
    handler: fn(&mut KeyCtx, &[Bytes]) -> crate::commands::CmdResult,
    db: usize,
    argv: &[Bytes],
    by_shard: &BTreeMap<usize, Vec<LockKey>>,
    exclusive: bool,
) -> Reply {
    // Fetch from every shard at once: all keys are locked already.
    let rxs: Vec<_> = by_shard
        .iter()
        .map(|(&shard, keys)| ctx.hop_start(shard, ShardRequest::Fetch { keys: keys.clone() }))
        .collect();
    let hot = ctx.hot.get();
    let mut dbs: Vec<Db> = (0..hot.databases).map(|_| Db::scratch()).collect();
    let now = now_ms();
    for ((_, keys), rx) in by_shard.iter().zip(rxs) {
        let Ok(ShardReply::Entries(entries)) = rx.await else {
            return internal("fetch");
        };
        for ((d, key), entry) in keys.iter().zip(entries) {
            if let (Some(e), Some(scratch)) = (entry, dbs.get_mut(*d)) {
                scratch.put_entry(key.clone(), e, now);
            }
        }
    }
    for scratch in &mut dbs {
        scratch.take_written();
    }
    let mut kctx = KeyCtx::new(&mut dbs, db, now, &hot);
    let reply = handler(&mut kctx, argv).unwrap_or_else(|e| e.reply());
    let dirty = kctx.dirty;
    if !exclusive || dirty == 0 {
        return reply;
    }
    // Group the written keys by owning shard and store them back.
    let mut writes: BTreeMap<usize, Vec<(LockKey, Option<Entry>)>> = BTreeMap::new();
    for (d, scratch) in dbs.iter_mut().enumerate() {
        for key in scratch.take_written() {
            let entry = scratch.peek(&key, now).cloned();
            let shard = ctx.slots.shard_of_key(&key).0;
            writes.entry(shard).or_default().push(((d, key), entry));
        }
    }
    let mut first = true;
    for (shard, writes) in writes {
        // Count the command's writes once, on the first shard stored to.
        let d = if first { dirty } else { 0 };
        first = false;
        if !matches!(
            ctx.hop(
                shard,
                ShardRequest::Store {
                    txid,
                    writes,
                    dirty: d,
                }
            )
            .await,
            ShardReply::Done
        ) {
            return internal("store");
        }
        test_delay(ctx).await;
    }
    reply
}

/// DEBUG SET-TX-DELAY: a pause between a transaction's per-shard steps, so
/// tests can show that the key locks (not timing) keep it atomic.
pub async fn test_delay(ctx: &ShardCtx) {
    let ms = ctx.tx_delay_ms.get();
    if ms > 0 {
        glommio::timer::sleep(std::time::Duration::from_millis(ms)).await;
    }
}

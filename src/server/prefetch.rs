//! Key prefetch for pipelined commands: before a connection runs the
//! commands it has just read, the keyspace lines their keys will touch are
//! requested from memory all at once, so a batch pays for its cache misses
//! roughly once instead of once per command (the idea of Redis 8's
//! `prefetch-batch-max-size`, done here on the shard that owns the keys).
//! Runs on: the connection's shard. Reads only; changes nothing.

use crate::cluster::slot::key_hash_slot;
use crate::commands::dispatch::lookup;
use bytes::Bytes;

use crate::commands::table::{flags, CommandSpec, Handler};
use crate::protocol::{Limits, RequestDecoder};
use crate::shard::db::{Db, Prefetch};

use super::connection::Conn;
use super::context::ShardCtx;
use super::hop::{MeshMsg, ShardRequest};

/// Most commands looked ahead at: enough for `-P 16` and beyond, few enough
/// that the first prefetched lines are still cached when their turn comes.
pub const BATCH: usize = 32;

/// Prefetches the first key of each single-key-first command at the front
/// of `buf` that lives on this shard.
pub fn pipeline(conn: &Conn, decoder: &mut RequestDecoder, buf: &[u8], limits: &Limits) {
    let mut keys = Keys::new(&conn.ctx);
    decoder.peek_ahead(buf, limits, BATCH, |name, first, second| {
        keys.offer(name, first, second)
    });
    keys.fetch(conn.client.db.get());
}

/// Prefetches the keys of one command that has several (MSET, MGET, DEL,
/// EXISTS…) before it runs, so the misses of its keys overlap as a
/// pipeline's do; its keys on other shards just find nothing here.
pub fn command(db: &Db, spec: &CommandSpec, argv: &[Bytes]) {
    let (first, last, _) = spec.keys;
    if first == last {
        return;
    }
    let mut keys: [Prefetch; BATCH] = [(0, &[], None); BATCH];
    let mut n = 0;
    for k in spec
        .key_indexes(argv)
        .filter_map(|i| argv.get(i))
        .take(BATCH)
    {
        keys[n].1 = k;
        n += 1;
    }
    // One key (DEL k, MGET k) has nothing to overlap with: no slot hash.
    if n < 2 {
        return;
    }
    for k in &mut keys[..n] {
        k.0 = key_hash_slot(k.1).index();
    }
    db.prefetch(&keys[..n]);
}

/// The same for a batch of hops from another shard: the commands it runs
/// for that shard's clients (`ShardRequest::Run`, those of the first one's
/// database).
pub fn hops(ctx: &ShardCtx, batch: &[MeshMsg]) {
    let mut keys = Keys::new(ctx);
    let mut db = None;
    for msg in batch.iter().take(BATCH) {
        if let MeshMsg::Request {
            req: ShardRequest::Run { db: d, argv },
            ..
        } = msg
        {
            if *db.get_or_insert(*d) == *d {
                if let Some(name) = argv.first() {
                    let arg = |i: usize| argv.get(i).map(|a| &a[..]);
                    keys.offer(name, arg(1), arg(2));
                }
            }
        }
    }
    if let Some(db) = db {
        keys.fetch(db);
    }
}

/// The same for commands already split into arguments (a replica applying
/// its master's stream): the first `BATCH` of `cmds`, in database `db`.
pub fn commands(ctx: &ShardCtx, db: usize, cmds: &[Vec<Bytes>]) {
    let mut keys = Keys::new(ctx);
    for argv in cmds.iter().take(BATCH) {
        if let Some(name) = argv.first() {
            let arg = |i: usize| argv.get(i).map(|a| &a[..]);
            keys.offer(name, arg(1), arg(2));
        }
    }
    keys.fetch(db);
}

/// Set and hash commands whose argument after the key is a member or field
/// they look up: a pipeline of them (one big set or hash, as
/// `redis-benchmark -t sadd,hset` sends) misses in the members' table, not
/// in the keyspace.
fn member_after_key(name: &str) -> bool {
    matches!(
        name,
        "sadd"
            | "srem"
            | "sismember"
            | "smismember"
            | "hset"
            | "hsetnx"
            | "hget"
            | "hmget"
            | "hexists"
            | "hdel"
            | "hincrby"
            | "hincrbyfloat"
            | "hstrlen"
    )
}

/// A command offered for prefetch: its name, key and the argument after it.
#[derive(Clone, Copy)]
struct Offered<'a> {
    name: &'a [u8],
    key: &'a [u8],
    after: Option<&'a [u8]>,
}

/// The commands offered for one prefetch; which of them to fetch is
/// decided only once there are several, so a lone unpipelined command
/// costs no lookup and no slot hash here.
struct Keys<'a> {
    ctx: &'a ShardCtx,
    cmds: [Offered<'a>; BATCH],
    n: usize,
    /// Commands offered, with or without an argument.
    seen: usize,
}

impl<'a> Keys<'a> {
    fn new(ctx: &'a ShardCtx) -> Self {
        Keys {
            ctx,
            cmds: [Offered {
                name: &[],
                key: &[],
                after: None,
            }; BATCH],
            n: 0,
            seen: 0,
        }
    }

    fn offer(&mut self, name: &'a [u8], first: Option<&'a [u8]>, second: Option<&'a [u8]>) {
        self.seen += 1;
        if let (Some(key), true) = (first, self.n < BATCH) {
            self.cmds[self.n] = Offered {
                name,
                key,
                after: second,
            };
            self.n += 1;
        }
    }

    /// Prefetches, in database `db`, the first argument of each command
    /// whose first key it is and that lives on this shard; nothing for
    /// fewer than two commands (a lone command has nothing to overlap with).
    fn fetch(&self, db: usize) {
        if self.seen < 2 || self.n == 0 {
            return;
        }
        let ctx = self.ctx;
        let mut keys: [Prefetch; BATCH] = [(0, &[], None); BATCH];
        let mut n = 0;
        for &Offered { name, key, after } in &self.cmds[..self.n] {
            let Some(spec) = lookup(name) else { continue };
            if !matches!(spec.handler, Handler::Keyed(_))
                || spec.keys.0 != 1
                || spec.has(flags::MOVABLE_KEYS | flags::DEST_NUMKEYS)
            {
                continue;
            }
            let slot = key_hash_slot(key);
            if ctx.nshards() > 1 && ctx.slots.shard_of_slot(slot).0 != ctx.id.0 {
                continue;
            }
            let member = after.filter(|_| member_after_key(spec.name));
            keys[n] = (slot.index(), key, member);
            n += 1;
        }
        let shard = ctx.shard.borrow();
        if let Some(db) = shard.dbs.get(db) {
            db.prefetch(&keys[..n]);
        }
    }
}

//! Key prefetch for pipelined commands: before a connection runs the
//! commands it has just read, the keyspace lines their keys will touch are
//! requested from memory all at once, so a batch pays for its cache misses
//! roughly once instead of once per command (the idea of Redis 8's
//! `prefetch-batch-max-size`, done here on the shard that owns the keys).
//! Runs on: the connection's shard. Reads only; changes nothing.

use crate::cluster::slot::key_hash_slot;
use crate::commands::dispatch::lookup;
use crate::commands::table::{flags, Handler};
use crate::protocol::{Limits, RequestDecoder};

use super::connection::Conn;
use super::context::ShardCtx;
use super::hop::{MeshMsg, ShardRequest};

/// Most commands looked ahead at: enough for `-P 16` and beyond, few enough
/// that the first prefetched lines are still cached when their turn comes.
const BATCH: usize = 32;

/// Prefetches the first key of each single-key-first command at the front
/// of `buf` that lives on this shard.
pub fn pipeline(conn: &Conn, decoder: &mut RequestDecoder, buf: &[u8], limits: &Limits) {
    let mut keys = Keys::new(&conn.ctx);
    decoder.peek_ahead(buf, limits, BATCH, |name, first| keys.offer(name, first));
    keys.fetch(conn.client.db.get());
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
                    keys.offer(name, argv.get(1).map(|k| &k[..]));
                }
            }
        }
    }
    if let Some(db) = db {
        keys.fetch(db);
    }
}

/// Keys (with their slots) gathered for one prefetch.
struct Keys<'a> {
    ctx: &'a ShardCtx,
    keys: [(usize, &'a [u8]); BATCH],
    n: usize,
    /// Commands offered, keyed or not.
    seen: usize,
}

impl<'a> Keys<'a> {
    fn new(ctx: &'a ShardCtx) -> Self {
        Keys {
            ctx,
            keys: [(0, &[]); BATCH],
            n: 0,
            seen: 0,
        }
    }

    /// Takes the command's first argument if it is its first key and lives
    /// on this shard.
    fn offer(&mut self, name: &[u8], first: Option<&'a [u8]>) {
        self.seen += 1;
        let (Some(key), Some(spec)) = (first, lookup(name)) else {
            return;
        };
        if self.n == BATCH
            || !matches!(spec.handler, Handler::Keyed(_))
            || spec.keys.0 != 1
            || spec.has(flags::MOVABLE_KEYS | flags::DEST_NUMKEYS)
        {
            return;
        }
        let slot = key_hash_slot(key);
        if self.ctx.nshards() > 1 && self.ctx.slots.shard_of_slot(slot).0 != self.ctx.id.0 {
            return;
        }
        self.keys[self.n] = (slot.index(), key);
        self.n += 1;
    }

    /// Prefetches in database `db`; nothing for fewer than two commands (a
    /// lone command has nothing to overlap with).
    fn fetch(&self, db: usize) {
        if self.seen < 2 || self.n == 0 {
            return;
        }
        let shard = self.ctx.shard.borrow();
        if let Some(db) = shard.dbs.get(db) {
            db.prefetch(&self.keys[..self.n]);
        }
    }
}

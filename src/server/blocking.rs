//! Clients blocked on keys (BLPOP, BLMOVE, BLMPOP, BZPOPMIN…), on the shard
//! that owns the keys. Owned by: each shard (`ShardCtx::blocked`); the
//! blocked client itself waits on its own shard (`commands/blocking.rs`).
//!
//! A waiter is registered by a `Block` hop and stays until it is served, its
//! client gives up (timeout, CLIENT UNBLOCK, disconnect: an `Unblock` hop),
//! or, for a `Notify` waiter, one of its keys becomes ready. Two kinds:
//! - `Serve`: every key of the command (destination included) lives here, so
//!   the command runs here the moment a key is ready, right after the write
//!   that made it ready, in FIFO order among the key's waiters, as Redis's
//!   `handleClientsBlockedOnKeys` does. No other command runs in between.
//! - `Notify`: the command's keys span shards. The waiter is woken (a
//!   `Woken` reply) and its client retries the command as a cross-shard
//!   transaction, blocking again if another client got there first.
//!
//! A key is ready when it holds a value of the type the command pops (list
//! or sorted set). A waiter is only ever waiting for keys that were missing
//! or empty, so readiness is checked after writes: every write on a shard
//! with waiters calls `ready_waiters`, which looks at each blocked key
//! (O(blocked keys), and nothing at all when no one is blocked).

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;

use super::context::ShardCtx;
use super::hop::{ReplyTo, ShardReply};
use crate::commands::table::{self, CommandSpec};
use crate::protocol::Reply;

/// What to do when a waiter's key is ready.
pub enum BlockKind {
    /// Run the command (its non-blocking attempt) here and reply the result.
    Serve {
        spec: &'static CommandSpec,
        argv: Vec<Bytes>,
    },
    /// Reply `Woken`; the client retries.
    Notify,
}

pub struct BlockWaiter {
    pub db: usize,
    /// The waiter's keys that live on this shard.
    pub keys: Vec<Bytes>,
    /// Type name a ready key must hold (`list`, `zset`).
    pub wants: &'static str,
    pub kind: BlockKind,
    pub to: ReplyTo,
}

/// The blocked clients of one shard, by client id (a client blocks on at
/// most one command at a time) and FIFO per key.
#[derive(Default)]
pub struct BlockedClients {
    by_key: HashMap<(usize, Bytes), VecDeque<u64>>,
    waiters: HashMap<u64, BlockWaiter>,
}

impl BlockedClients {
    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    pub fn len(&self) -> usize {
        self.waiters.len()
    }

    /// Queues `client` behind the clients already waiting on each key.
    pub fn add(&mut self, client: u64, w: BlockWaiter) {
        // A stale registration of the same client cannot exist (the client
        // waits for its reply before blocking again), but never keep two.
        self.remove(client);
        for k in &w.keys {
            self.by_key
                .entry((w.db, k.clone()))
                .or_default()
                .push_back(client);
        }
        self.waiters.insert(client, w);
    }

    /// Takes `client`'s waiter out of every key queue.
    pub fn remove(&mut self, client: u64) -> Option<BlockWaiter> {
        let w = self.waiters.remove(&client)?;
        for k in &w.keys {
            let slot = (w.db, k.clone());
            if let Some(q) = self.by_key.get_mut(&slot) {
                q.retain(|&c| c != client);
                if q.is_empty() {
                    self.by_key.remove(&slot);
                }
            }
        }
        Some(w)
    }

    /// The keys someone is blocked on.
    pub fn keys(&self) -> Vec<(usize, Bytes)> {
        self.by_key.keys().cloned().collect()
    }

    /// The clients waiting on `key`, first come first.
    pub fn queue(&self, db: usize, key: &Bytes) -> Vec<u64> {
        self.by_key
            .get(&(db, key.clone()))
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }

    pub fn get(&self, client: u64) -> Option<&BlockWaiter> {
        self.waiters.get(&client)
    }
}

/// Why a blocked client stops waiting before it is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnblockReason {
    /// The timeout passed, or CLIENT UNBLOCK … TIMEOUT: the null reply.
    Timeout,
    /// CLIENT UNBLOCK … ERROR: the `-UNBLOCKED` error.
    Error,
    /// The client went away, or stops waiting on this shard because another
    /// shard woke it.
    Cancel,
}

/// The error a client unblocked by CLIENT UNBLOCK … ERROR gets.
pub const UNBLOCKED_ERROR: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

/// The keys a blocking command waits on: every key but BLMOVE's and
/// BRPOPLPUSH's destination.
pub fn source_key_indexes(spec: &CommandSpec, argv: &[Bytes]) -> Vec<usize> {
    let dest = matches!(spec.name, "blmove" | "brpoplpush").then_some(2);
    spec.key_indexes(argv)
        .filter(|&i| Some(i) != dest && i < argv.len())
        .collect()
}

/// The type a blocking command pops.
pub fn wanted_type(spec: &CommandSpec) -> &'static str {
    if spec.group == "sortedset" {
        "zset"
    } else {
        "list"
    }
}

/// A reply that means "nothing to pop" (the non-blocking attempt's answer
/// on missing keys): nil or the nil array.
pub fn is_null(r: &Reply) -> bool {
    matches!(r, Reply::Nil | Reply::NilArray)
}

impl ShardCtx {
    /// A `Block` hop: run the command now if it can be served, else queue
    /// `client` on its keys of this shard.
    pub(super) fn on_block(
        &self,
        client: u64,
        db: usize,
        argv: Vec<Bytes>,
        notify: bool,
        to: ReplyTo,
    ) {
        let Some(spec) = argv.first().and_then(|n| table::lookup(n)) else {
            self.mesh.reply(
                to,
                ShardReply::Err("ERR internal: unknown command in hop".into()),
            );
            return;
        };
        self.tick();
        let now = self.now();
        let wants = wanted_type(spec);
        let keys: Vec<Bytes> = source_key_indexes(spec, &argv)
            .into_iter()
            .map(|i| argv[i].clone())
            .filter(|k| self.slots.shard_of_key(k) == self.id)
            .collect();
        let kind = if notify {
            if keys.iter().any(|k| self.holds(db, k, wants, now)) {
                self.mesh.reply(to, ShardReply::Woken);
                return;
            }
            BlockKind::Notify
        } else {
            let lock_keys = ShardCtx::lock_keys(spec, db, &argv);
            if self.locks.borrow().available(&lock_keys, true) {
                let r = self.exec_keyed(spec, db, &argv, None);
                if !is_null(&r) {
                    self.mesh.reply(to, ShardReply::Reply(r));
                    return;
                }
            }
            BlockKind::Serve { spec, argv }
        };
        let w = BlockWaiter {
            db,
            keys,
            wants,
            kind,
            to,
        };
        self.blocked.borrow_mut().add(client, w);
    }

    /// An `Unblock` hop: `client` stops waiting here; its waiter (if still
    /// queued: it may have been served already) gets the reason's reply.
    pub(super) fn on_unblock(&self, client: u64, reason: UnblockReason) {
        let waiter = self.blocked.borrow_mut().remove(client);
        let Some(w) = waiter else {
            return;
        };
        let reply = match reason {
            UnblockReason::Error => ShardReply::Reply(Reply::error(UNBLOCKED_ERROR)),
            UnblockReason::Timeout | UnblockReason::Cancel => ShardReply::TimedOut,
        };
        self.mesh.reply(w.to, reply);
    }

    /// Whether `key` holds a value of type `wants`.
    fn holds(&self, db: usize, key: &[u8], wants: &str, now: u64) -> bool {
        let mut shard = self.shard.borrow_mut();
        let Some(d) = shard.dbs.get_mut(db) else {
            return false;
        };
        d.peek(key, now)
            .is_some_and(|e| e.value.type_name() == wants)
    }

    /// Serves the waiters whose keys became ready (Redis's
    /// `handleClientsBlockedOnKeys`): for each blocked key holding the
    /// wanted type, its waiters in arrival order, until it runs dry. A
    /// served BLMOVE may make another key ready, so it repeats until nothing
    /// moves. Waiters whose keys a transaction holds wait for its unlock.
    pub fn ready_waiters(&self) {
        if self.blocked.borrow().is_empty() || self.serving_blocked.get() {
            return;
        }
        self.serving_blocked.set(true);
        let now = self.now();
        loop {
            let mut progress = false;
            let keys = self.blocked.borrow().keys();
            for (db, key) in keys {
                let queue = self.blocked.borrow().queue(db, &key);
                for client in queue {
                    if self.serve_waiter(client, db, &key, now) {
                        progress = true;
                    }
                }
            }
            if !progress {
                break;
            }
        }
        self.serving_blocked.set(false);
    }

    /// Tries one waiter on a key; true when it was served or woken.
    fn serve_waiter(&self, client: u64, db: usize, key: &Bytes, now: u64) -> bool {
        let run = {
            let blocked = self.blocked.borrow();
            let Some(w) = blocked.get(client) else {
                return false;
            };
            if !self.holds(db, key, w.wants, now) {
                return false;
            }
            match &w.kind {
                BlockKind::Notify => None,
                BlockKind::Serve { spec, argv } => Some((*spec, argv.clone())),
            }
        };
        let reply = match run {
            None => ShardReply::Woken,
            Some((spec, argv)) => {
                let lock_keys = ShardCtx::lock_keys(spec, db, &argv);
                if !self.locks.borrow().available(&lock_keys, true) {
                    return false;
                }
                let r = self.exec_keyed(spec, db, &argv, None);
                if is_null(&r) {
                    return false;
                }
                ShardReply::Reply(r)
            }
        };
        let waiter = self.blocked.borrow_mut().remove(client);
        if let Some(w) = waiter {
            self.mesh.reply(w.to, reply);
        }
        true
    }
}

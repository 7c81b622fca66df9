//! Replication with Redis's protocol (PSYNC2), for tessera and
//! `redis-server` peers alike. Runs on: the control executor.
//!
//! ```text
//!  shard 0 ─┐ feed chunks (ShardRequest::ReplFeed)
//!  shard 1 ─┼──► control: Backlog (replid, offset, bytes) ──► replica links
//!  shard N ─┘                                                 (primary.rs)
//!  master ──► control: MasterLink (replica.rs) ──► ApplyFromMaster on shard 0
//! ```
//!
//! As a master, each shard hands the control executor the chunks of its
//! replication stream (every write in effect form, each chunk starting
//! with its own SELECT); the control executor appends them, in arrival
//! order, to one backlog with one replication ID and byte offset. A key's
//! writes all come from its shard, in order, so the merged stream applies
//! every key's history in order. A transaction that spans shards arrives
//! as its parts (`ShardRequest::ReplBlock`, see `server/tx.rs`) and goes in
//! as one MULTI/EXEC block once every part's shard has fed what it wrote
//! before that part.
//!
//! As a replica, the master's stream is applied through shard 0's master
//! client (so cross-shard commands and MULTI/EXEC run as they would for a
//! client) and its bytes, verbatim, become this server's backlog: offsets
//! and IDs stay the master's, so replicas of this replica, and siblings
//! after a promotion, continue partially (PSYNC2).

pub mod backlog;
pub mod primary;
pub mod replica;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use backlog::Backlog;

/// The server's role (`role:` in INFO).
pub enum Role {
    Master,
    /// Replica of this master; the link task with the same generation runs it.
    Replica(Rc<replica::MasterLink>),
}

/// Replication state of the whole server. Owned by: the control executor.
pub struct Replication {
    pub role: RefCell<Role>,
    pub backlog: RefCell<Backlog>,
    /// Replicas attached to this server.
    pub peers: RefCell<Vec<Rc<primary::Peer>>>,
    /// Woken when the backlog grows or a peer changes.
    pub notify: crate::util::notify::Notify,
    /// The snapshot being made for replicas in full sync, if any.
    pub sync_job: RefCell<Option<Rc<primary::SyncJob>>>,
    /// Whether the shards feed their streams to the backlog.
    pub feeding: Cell<bool>,
    /// Since when a master with a backlog has had no replica (ms; 0: it
    /// has one, or no backlog), for `repl-backlog-ttl`.
    pub alone_since_ms: Cell<u64>,
    /// Bumped by every REPLICAOF: a link task of an older one stops.
    pub generation: Cell<u64>,
    pub sync_full: Cell<u64>,
    pub sync_partial_ok: Cell<u64>,
    pub sync_partial_err: Cell<u64>,
    next_peer: Cell<u64>,
    /// Feeds taken from each shard (`ReplFeed`), for `append_block`.
    fed: RefCell<Vec<u64>>,
}

impl Replication {
    pub fn new(backlog_size: usize) -> Replication {
        Replication {
            role: RefCell::new(Role::Master),
            backlog: RefCell::new(Backlog::new(backlog::random_id(), backlog_size)),
            peers: RefCell::new(Vec::new()),
            notify: Default::default(),
            sync_job: RefCell::new(None),
            feeding: Cell::new(false),
            alone_since_ms: Cell::new(0),
            generation: Cell::new(0),
            sync_full: Cell::new(0),
            sync_partial_ok: Cell::new(0),
            sync_partial_err: Cell::new(0),
            next_peer: Cell::new(0),
            fed: RefCell::new(Vec::new()),
        }
    }

    pub fn is_replica(&self) -> bool {
        matches!(*self.role.borrow(), Role::Replica(_))
    }

    pub fn link(&self) -> Option<Rc<replica::MasterLink>> {
        match &*self.role.borrow() {
            Role::Replica(l) => Some(l.clone()),
            Role::Master => None,
        }
    }

    /// A chunk of a shard's part of the snapshot being streamed to
    /// replicas; wakes their senders.
    pub fn take_chunk(&self, from: usize, bytes: Vec<u8>) {
        if let Some(job) = self.sync_job.borrow().as_ref() {
            job.take_chunk(from, bytes);
        }
        self.notify.wake_all();
    }

    /// Appends stream bytes (a shard's chunk, a PING, the master's
    /// stream) and wakes the replica senders.
    /// A feed from shard `from`: appended to the backlog while this
    /// master feeds replicas, and counted either way.
    pub fn take_feed(&self, from: usize, bytes: &[u8]) {
        {
            let mut fed = self.fed.borrow_mut();
            if fed.len() <= from {
                fed.resize(from + 1, 0);
            }
            fed[from] += 1;
        }
        if self.feeding.get() && !self.is_replica() {
            self.append(bytes);
        } else {
            self.notify.wake_all();
        }
    }

    /// One transaction's parts (each starting with its SELECT) as one
    /// MULTI/EXEC block, once each shard's feeds up to its fence are in:
    /// what a shard wrote before its part goes ahead of it. Nothing is
    /// appended if this server stopped feeding replicas meanwhile.
    pub async fn append_block(&self, parts: Vec<Vec<u8>>, fences: Vec<(usize, u64)>) {
        let fenced = || {
            let fed = self.fed.borrow();
            fences
                .iter()
                .all(|&(s, n)| fed.get(s).copied().unwrap_or(0) >= n)
        };
        let live = || self.feeding.get() && !self.is_replica();
        self.notify.until(|| !live() || fenced()).await;
        if !live() {
            return;
        }
        let len = parts.iter().map(Vec::len).sum::<usize>();
        let mut block = Vec::with_capacity(len + 32);
        block.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n");
        for p in &parts {
            block.extend_from_slice(p);
        }
        block.extend_from_slice(b"*1\r\n$4\r\nEXEC\r\n");
        self.append(&block);
    }

    pub fn append(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut b = self.backlog.borrow_mut();
        b.append(bytes);
        let keep = self.oldest_needed(b.offset());
        b.trim(keep, primary::hard_limit());
        let start = b.start();
        drop(b);
        primary::drop_overrun(&self.peers.borrow(), start);
        self.notify.wake_all();
    }

    /// The oldest offset a replica within the hard output buffer limit
    /// (at most that many bytes behind `offset`) still has to be sent.
    fn oldest_needed(&self, offset: u64) -> Option<u64> {
        let peers = self.peers.borrow();
        let job = self.sync_job.borrow().as_ref().and_then(|j| j.offset.get());
        let hard = primary::hard_limit() as u64;
        peers
            .iter()
            .filter_map(|p| p.sent.get())
            .chain(job)
            .filter(|&s| offset.saturating_sub(s) <= hard)
            .min()
    }

    pub fn next_peer_id(&self) -> u64 {
        let n = self.next_peer.get();
        self.next_peer.set(n + 1);
        n
    }

    /// INFO replication (Redis 7.0's fields, in its order).
    pub fn info(&self, now_ms: u64, cfg: &crate::config::Config) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        match &*self.role.borrow() {
            Role::Master => s.push_str("role:master\r\n"),
            Role::Replica(link) => {
                s.push_str("role:slave\r\n");
                link.info(&mut s, now_ms, &self.backlog.borrow(), cfg);
            }
        }
        let peers = self.peers.borrow();
        let _ = write!(s, "connected_slaves:{}\r\n", peers.len());
        for (i, p) in peers.iter().enumerate() {
            let _ = write!(
                s,
                "slave{i}:ip={},port={},state={},offset={},lag={}\r\n",
                p.ip,
                p.port,
                p.state.get().name(),
                p.ack.get(),
                now_ms.saturating_sub(p.last_ack_ms.get()) / 1000
            );
        }
        s.push_str("master_failover_state:no-failover\r\n");
        self.backlog.borrow().info(&mut s);
        s
    }
}

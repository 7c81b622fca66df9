//! `ShardCtx`: everything one shard's executor owns at run time — its
//! `Shard` (data), key locks, mesh end, config snapshot and clients — and
//! `serve`, which answers the hops other executors send it.
//! Runs on: each shard. Never shared across cores (`Rc`, `RefCell`, `Cell`);
//! no `RefCell` borrow is held across an `.await`.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use super::client::Client;
use super::hop::{Mesh, ReplyTo, ShardReply, ShardRequest};
use super::route::{ShardId, SlotMap};
use crate::commands::keys::{op_keys, op_scan};
use crate::commands::table::{self, CommandSpec, Handler};
use crate::commands::{CmdError, KeyCtx};
use crate::config::Config;
use crate::protocol::Reply;
use crate::shard::lock::{LockKey, LockTable, TxId, Waiter};
use crate::shard::slowlog::SlowLog;
use crate::shard::{digest_entry, Shard};
use crate::util::clock::now_ms;

/// Process-wide facts and counters that are not on any request path: read at
/// accept time, by INFO, or once at start-up.
pub struct Shared {
    pub clients: AtomicUsize,
    pub next_client_id: AtomicU64,
    pub start_ms: u64,
    pub run_id: String,
    pub executable: String,
}

/// The configuration values read on request paths, copied out of `Config`
/// (whose getters look names up) whenever a new configuration arrives.
#[derive(Clone, Copy, Debug)]
pub struct HotConfig {
    pub proto_max_bulk_len: u64,
    pub query_buffer_limit: u64,
    /// maxmemory-policy is an LFU policy.
    pub lfu: bool,
    pub databases: usize,
    pub maxclients: usize,
    pub auth_required: bool,
    pub hz: u32,
    /// slowlog-log-slower-than (µs; negative disables the slow log).
    pub slowlog_slower_than: i64,
    pub slowlog_max_len: usize,
    /// Idle client timeout in seconds (0 = never).
    pub timeout: u64,
    /// Compact-encoding limits for collections.
    pub enc: crate::shard::types::Encodings,
    /// client-output-buffer-limit of the pubsub class.
    pub pubsub_obuf: super::pubsub::ObufLimit,
    /// replica-read-only.
    pub replica_read_only: bool,
    /// replica-serve-stale-data.
    pub serve_stale_data: bool,
    /// min-replicas-to-write (0 when it or min-replicas-max-lag is 0).
    pub min_replicas: u64,
}

impl HotConfig {
    pub fn of(cfg: &Config) -> HotConfig {
        HotConfig {
            proto_max_bulk_len: cfg.proto_max_bulk_len(),
            query_buffer_limit: cfg.client_query_buffer_limit(),
            lfu: cfg
                .value("maxmemory-policy")
                .is_some_and(|p| p.contains("lfu")),
            databases: cfg.databases().max(1),
            maxclients: cfg.maxclients(),
            auth_required: cfg.requirepass().is_some(),
            hz: cfg.hz().clamp(1, 500),
            slowlog_slower_than: cfg.int("slowlog-log-slower-than").unwrap_or(10000),
            slowlog_max_len: cfg.int("slowlog-max-len").unwrap_or(128).max(0) as usize,
            timeout: cfg.timeout(),
            enc: crate::shard::types::Encodings::of(cfg),
            pubsub_obuf: super::pubsub::ObufLimit::of(cfg.value("client-output-buffer-limit")),
            replica_read_only: cfg.bool("replica-read-only").unwrap_or(true),
            serve_stale_data: cfg.bool("replica-serve-stale-data").unwrap_or(true),
            min_replicas: match cfg.int("min-replicas-max-lag").unwrap_or(10) {
                0 => 0,
                _ => cfg.int("min-replicas-to-write").unwrap_or(0).max(0) as u64,
            },
        }
    }
}

/// Work parked behind a transaction's locks.
pub enum Deferred {
    /// A command to run once its keys are free; for a LockRun the waiter
    /// carries the txid, so the locks are taken first (`take_ready`).
    Run {
        spec: &'static CommandSpec,
        db: usize,
        argv: Vec<Bytes>,
        /// The transaction it runs for (a LockRun), if any.
        tx: Option<TxId>,
        to: ReplyTo,
    },
    /// A lock request, granted (locks taken) when it comes out of the queue.
    Granted { to: ReplyTo },
}

/// Owned by: each shard.
pub struct ShardCtx {
    pub id: ShardId,
    pub slots: SlotMap,
    /// The slots this shard owns, ascending.
    pub my_slots: Vec<u16>,
    /// `Rc` so a snapshot's walker task can hold it.
    pub shard: Rc<RefCell<Shard>>,
    pub locks: RefCell<LockTable<Deferred>>,
    /// Clients blocked on keys of this shard (BLPOP…).
    pub blocked: RefCell<super::blocking::BlockedClients>,
    /// Set while `ready_waiters` runs, so the commands it runs don't recurse.
    pub serving_blocked: Cell<bool>,
    pub mesh: Rc<Mesh>,
    pub config: RefCell<Arc<Config>>,
    pub hot: Cell<HotConfig>,
    pub clients: RefCell<BTreeMap<u64, Rc<Client>>>,
    pub slowlog: RefCell<SlowLog>,
    /// MONITOR clients of the whole server: (their shard, client id).
    pub monitors: RefCell<Vec<(usize, u64)>>,
    /// This shard's Pub/Sub subscribers.
    pub pubsub: RefCell<super::pubsub::Registry>,
    pub shared: Arc<Shared>,
    pub commands: Cell<u64>,
    pub connections: Cell<u64>,
    pub rejected: Cell<u64>,
    pub net_input: Cell<u64>,
    pub net_output: Cell<u64>,
    next_txid: Cell<u64>,
    /// Feeds sent to the control executor (`ReplFeed`), for `feed_fence`.
    feeds_sent: Cell<u64>,
    /// CLIENT PAUSE: deadline (unix ms) and whether only writes are paused.
    pub paused_until: Cell<u64>,
    pub pause_writes_only: Cell<bool>,
    /// Unix ms read once per batch of work (a read's worth of pipelined
    /// commands, one hop), like Redis's per-command time snapshot.
    clock: Cell<u64>,
    /// DEBUG SET-TX-DELAY (ms): pause between a transaction's shard steps.
    pub tx_delay_ms: Cell<u64>,
    /// This shard's part of the snapshot being written, when one is.
    snapshot_job: RefCell<Option<SnapshotJob>>,
    /// `Shard::dirty` when the snapshot began.
    snapshot_dirty: Cell<u64>,
    /// This shard's append-only file (`appendonly yes`).
    pub aof: RefCell<Option<crate::persistence::aof::AofFile>>,
    /// The task queue snapshots run in (made on first use): fewer shares
    /// than clients, and a short latency bound so the executor goes back to
    /// its sockets at least every 200 µs while a snapshot runs.
    snapshot_tq: Cell<Option<glommio::TaskQueueHandle>>,
    /// This server is a replica (writes from clients refused per
    /// `replica-read-only`).
    pub is_replica: Cell<bool>,
    /// Replicas with a recent ACK (`min-replicas-to-write`).
    pub good_replicas: Cell<u64>,
    /// On a replica: its link to the master is up (`replica-serve-stale-data`).
    pub master_link_up: Cell<bool>,
    /// On shard 0 of a replica: the client the master's stream runs as.
    master_client: RefCell<Option<Rc<Client>>>,
    /// A replica's full sync: this shard's new databases, parsed aside.
    staged: RefCell<Option<Vec<crate::shard::db::Db>>>,
}

type SnapshotJob =
    futures_channel::oneshot::Receiver<Result<crate::persistence::snapshot::Part, String>>;

impl ShardCtx {
    pub fn new(
        id: ShardId,
        nshards: usize,
        config: Arc<Config>,
        shared: Arc<Shared>,
        mesh: Rc<Mesh>,
    ) -> ShardCtx {
        let slots = SlotMap::new(nshards);
        let my_slots = slots.slots_of(id).map(|s| s.0).collect();
        let databases = config.databases();
        let mut shard = Shard::new(databases);
        // DEBUG REPL-STREAM reads the kept stream; nothing else does.
        shard
            .repl
            .keep_record(config.enable_debug_command() != "no");
        ShardCtx {
            id,
            slots,
            my_slots,
            shard: Rc::new(RefCell::new(shard)),
            locks: RefCell::new(LockTable::default()),
            blocked: RefCell::new(Default::default()),
            serving_blocked: Cell::new(false),
            mesh,
            hot: Cell::new(HotConfig::of(&config)),
            config: RefCell::new(config),
            clients: RefCell::new(BTreeMap::new()),
            slowlog: RefCell::new(SlowLog::default()),
            monitors: RefCell::new(Vec::new()),
            pubsub: RefCell::default(),
            shared,
            commands: Cell::new(0),
            connections: Cell::new(0),
            rejected: Cell::new(0),
            net_input: Cell::new(0),
            net_output: Cell::new(0),
            next_txid: Cell::new(1),
            feeds_sent: Cell::new(0),
            paused_until: Cell::new(0),
            pause_writes_only: Cell::new(false),
            clock: Cell::new(now_ms()),
            tx_delay_ms: Cell::new(0),
            snapshot_job: RefCell::new(None),
            snapshot_dirty: Cell::new(0),
            aof: RefCell::new(None),
            snapshot_tq: Cell::new(None),
            is_replica: Cell::new(false),
            master_link_up: Cell::new(false),
            good_replicas: Cell::new(0),
            master_client: RefCell::new(None),
            staged: RefCell::new(None),
        }
    }

    /// Reads the wall clock into the shard's time snapshot.
    pub fn tick(&self) -> u64 {
        let now = now_ms();
        self.clock.set(now);
        now
    }

    /// The time snapshot of the current batch of work.
    pub fn now(&self) -> u64 {
        self.clock.get()
    }

    pub fn nshards(&self) -> usize {
        self.slots.nshards()
    }

    /// The control executor's place in the mesh (after every shard).
    pub fn control_peer(&self) -> usize {
        self.nshards()
    }

    pub fn config(&self) -> Arc<Config> {
        self.config.borrow().clone()
    }

    /// A transaction id unique in the process: counter and coordinator shard.
    pub fn next_txid(&self) -> TxId {
        let n = self.next_txid.get();
        self.next_txid.set(n + 1);
        (n << 16) | self.id.0 as u64
    }

    /// Sends `req` to `shard` (served inline when it is this shard) and waits
    /// for the reply.
    pub async fn hop(&self, shard: usize, req: ShardRequest) -> ShardReply {
        let rx = self.hop_start(shard, req);
        rx.await
            .unwrap_or_else(|_| ShardReply::Err("ERR internal hop failed".into()))
    }

    /// Sends `req` now; the reply arrives on the returned receiver.
    pub fn hop_start(
        &self,
        shard: usize,
        req: ShardRequest,
    ) -> futures_channel::oneshot::Receiver<ShardReply> {
        if shard == self.id.0 {
            let (tx, rx) = futures_channel::oneshot::channel();
            self.serve(req, ReplyTo::Local(tx));
            rx
        } else {
            self.mesh.request(shard, req)
        }
    }

    /// Sends `req` to `shard` with no reply wanted.
    pub fn tell(&self, shard: usize, req: ShardRequest) {
        if shard == self.id.0 {
            self.serve(req, ReplyTo::None);
        } else {
            self.mesh.tell(shard, req);
        }
    }

    /// Sends one request to every shard (all sent before any is awaited) and
    /// returns the replies in shard order.
    pub async fn fan_out(&self, mut make: impl FnMut(usize) -> ShardRequest) -> Vec<ShardReply> {
        let rxs: Vec<_> = (0..self.nshards())
            .map(|s| self.hop_start(s, make(s)))
            .collect();
        super::hop::gather(rxs).await
    }

    /// Runs a keyed command on this shard's data now (caller checked locks),
    /// for transaction `tx` if any (its writes go to the transaction's
    /// part of the replicas' stream).
    pub fn exec_keyed(
        &self,
        spec: &CommandSpec,
        db: usize,
        argv: &[Bytes],
        tx: Option<TxId>,
    ) -> Reply {
        let Handler::Keyed(f) = spec.handler else {
            return CmdError::err("internal: not a keyed command").reply();
        };
        let hot = self.hot.get();
        let (reply, wrote) = {
            let mut guard = self.shard.borrow_mut();
            let shard = &mut *guard;
            if let Some(d) = shard.dbs.get(db) {
                super::prefetch::command(d, spec, argv);
            }
            let now = self.clock.get();
            let mut kctx = KeyCtx::new(&mut shard.dbs, db, now, &hot);
            let reply = f(&mut kctx, argv).unwrap_or_else(|e| e.reply());
            let dirty = kctx.dirty;
            shard.dirty += dirty;
            // Expired keys first: they went during the command's lookups.
            let every_db = matches!(spec.name, "copy" | "move");
            shard.log_expired(if every_db { None } else { Some(db) });
            if dirty > 0 {
                let effect =
                    crate::commands::propagate::effect(argv, &reply, &mut shard.dbs[db], now);
                match effect {
                    Some(cmds) => shard.repl.append(tx, db, &cmds),
                    None => shard.repl.append_one(tx, db, argv),
                }
            }
            (reply, dirty > 0)
        };
        if wrote {
            self.aof_sync_if_always();
            self.ready_waiters();
        }
        reply
    }

    /// `appendfsync always`: the writes so far reach the disk before the
    /// reply to the command that made them leaves this shard.
    pub fn aof_sync_if_always(&self) {
        let mut aof = self.aof.borrow_mut();
        if let Some(f) = aof
            .as_mut()
            .filter(|f| f.policy == crate::persistence::aof::Fsync::Always)
        {
            let bytes = self.shard.borrow_mut().repl.take_aof();
            f.write(&bytes, true);
        }
    }

    /// Writes what the append-only file is owed; fsyncs per `appendfsync`.
    /// Returns a file to fsync on the blocking pool (`everysec`).
    pub fn aof_flush(&self) -> Option<std::fs::File> {
        let mut aof = self.aof.borrow_mut();
        let f = aof.as_mut()?;
        let bytes = self.shard.borrow_mut().repl.take_aof();
        let always = f.policy == crate::persistence::aof::Fsync::Always;
        f.write(&bytes, always && !bytes.is_empty());
        f.fsync_due()
    }

    /// Lock keys a keyed command uses on this shard.
    /// Keys are in the client's database, except COPY's destination when
    /// it names another one with `DB n` (the last DB option wins).
    pub fn lock_keys(spec: &CommandSpec, db: usize, argv: &[Bytes]) -> Vec<LockKey> {
        let mut dest_db = db;
        if spec.name == "copy" {
            let mut i = 3;
            while i + 1 < argv.len() {
                if argv[i].eq_ignore_ascii_case(b"DB") {
                    if let Some(n) = crate::util::num::parse_i64(&argv[i + 1]) {
                        dest_db = usize::try_from(n).unwrap_or(db);
                    }
                    i += 2;
                } else {
                    i += 1;
                }
            }
        }
        spec.key_indexes(argv)
            .filter_map(|i| argv.get(i).map(|k| (i, k)))
            .map(|(i, k)| (if i == 2 { dest_db } else { db }, k.clone()))
            .collect()
    }

    /// Serves one hop from the mesh: the requests that start a task of
    /// their own need the `Rc`; everything else is `serve`.
    pub fn serve_rc(me: &Rc<ShardCtx>, req: ShardRequest, to: ReplyTo) {
        match req {
            ShardRequest::ApplyFromMaster { cmds, fresh } => {
                let me = me.clone();
                glommio::spawn_local(async move {
                    me.apply_from_master(cmds, fresh).await;
                    me.mesh.reply(to, ShardReply::Done);
                })
                .detach();
            }
            ShardRequest::AofRewriteFinish { part, base } => {
                let me = me.clone();
                glommio::spawn_local(async move {
                    let mesh = me.mesh.clone();
                    let reply = match crate::persistence::aof::finish_rewrite(me, part, base).await
                    {
                        Ok(size) => ShardReply::Count(size),
                        Err(e) => ShardReply::Err(e),
                    };
                    mesh.reply(to, reply);
                })
                .detach();
            }
            req => me.serve(req, to),
        }
    }

    /// Runs the master's commands in order through the master client, as
    /// a connection runs a pipeline (replies are dropped).
    async fn apply_from_master(self: &Rc<Self>, cmds: Vec<Vec<Bytes>>, fresh: bool) {
        let client = {
            let mut slot = self.master_client.borrow_mut();
            if fresh || slot.is_none() {
                let id = self.shared.next_client_id.fetch_add(1, Ordering::Relaxed);
                let c = Client::new(id, String::new(), String::new(), -1, now_ms(), true);
                c.is_master.set(true);
                *slot = Some(Rc::new(c));
            }
            slot.clone()
        };
        let Some(client) = client else { return };
        let conn = super::connection::Conn {
            ctx: self.clone(),
            client,
        };
        let mut pending = Vec::with_capacity(cmds.len());
        let mut clock = 0;
        self.tick();
        // Prefetched a window at a time, as a client's pipeline is.
        let mut cmds = cmds.into_iter();
        loop {
            if pending.len() % super::prefetch::BATCH == 0 {
                super::prefetch::commands(self, conn.client.db.get(), cmds.as_slice());
            }
            let Some(mut argv) = cmds.next() else { break };
            pending.push(crate::commands::dispatch::dispatch(&conn, &mut argv, &mut clock).await);
        }
        for p in pending {
            let _ = p.resolve(&conn).await;
        }
    }

    /// Sends the replication feed written so far to the control executor.
    pub fn send_feed(&self) {
        let bytes = self.shard.borrow_mut().repl.take_feed();
        if !bytes.is_empty() {
            self.feeds_sent.set(self.feeds_sent.get() + 1);
            self.mesh.tell(
                self.control_peer(),
                ShardRequest::ReplFeed {
                    from: self.id.0,
                    bytes,
                },
            );
        }
    }

    /// Sends the feed written so far, and returns how many feeds the
    /// control executor must have taken from this shard to have all of it:
    /// one more than sent when a held feed keeps bytes back.
    pub fn feed_fence(&self) -> u64 {
        self.send_feed();
        let pending = self.shard.borrow().repl.feed_pending();
        self.feeds_sent.get() + pending as u64
    }

    /// Serves one hop (from the mesh, or from this shard itself).
    pub fn serve(&self, req: ShardRequest, to: ReplyTo) {
        let reply = match req {
            ShardRequest::Run { db, argv } => {
                self.tick();
                let Some(spec) = argv
                    .first()
                    .and_then(|n| crate::commands::dispatch::lookup(n))
                else {
                    self.mesh.reply(
                        to,
                        ShardReply::Reply(
                            CmdError::err("internal: unknown command in hop").reply(),
                        ),
                    );
                    return;
                };
                let mut locks = self.locks.borrow_mut();
                // No lock held (the common case): nothing to check, no keys
                // to copy.
                let keys = if locks.is_idle() {
                    Vec::new()
                } else {
                    Self::lock_keys(spec, db, &argv)
                };
                let exclusive = spec.has(table::flags::WRITE);
                if !locks.available(&keys, exclusive) {
                    locks.wait(Waiter {
                        keys,
                        exclusive,
                        txid: None,
                        payload: Deferred::Run {
                            spec,
                            db,
                            argv,
                            tx: None,
                            to,
                        },
                    });
                    return;
                }
                drop(locks);
                let slower_than = self.hot.get().slowlog_slower_than;
                if slower_than < 0 {
                    return self.mesh.reply(
                        to,
                        ShardReply::Reply(self.exec_keyed(spec, db, &argv, None)),
                    );
                }
                let start = crate::util::clock::coarse_micros();
                let reply = self.exec_keyed(spec, db, &argv, None);
                let micros = crate::util::clock::coarse_micros().saturating_sub(start);
                if micros as i64 >= slower_than {
                    ShardReply::SlowRun(reply, micros, argv)
                } else {
                    ShardReply::Reply(reply)
                }
            }
            ShardRequest::Lock {
                txid,
                keys,
                exclusive,
            } => {
                let mut locks = self.locks.borrow_mut();
                if locks.available(&keys, exclusive) {
                    locks.acquire(txid, keys, exclusive);
                    ShardReply::Done
                } else {
                    locks.wait(Waiter {
                        keys,
                        exclusive,
                        txid: Some(txid),
                        payload: Deferred::Granted { to },
                    });
                    return;
                }
            }
            ShardRequest::LockRun {
                txid,
                keys,
                exclusive,
                db,
                argv,
            } => {
                let Some(spec) = argv.first().and_then(|n| table::lookup(n)) else {
                    self.mesh.reply(
                        to,
                        ShardReply::Err("ERR internal: unknown command in hop".into()),
                    );
                    return;
                };
                let mut locks = self.locks.borrow_mut();
                if locks.available(&keys, exclusive) {
                    locks.acquire(txid, keys, exclusive);
                    drop(locks);
                    self.tick();
                    ShardReply::Reply(self.exec_keyed(spec, db, &argv, Some(txid)))
                } else {
                    let payload = Deferred::Run {
                        spec,
                        db,
                        argv,
                        tx: Some(txid),
                        to,
                    };
                    locks.wait(Waiter {
                        keys,
                        exclusive,
                        txid: Some(txid),
                        payload,
                    });
                    return;
                }
            }
            ShardRequest::Fetch { keys } => {
                let now = now_ms();
                let mut shard = self.shard.borrow_mut();
                let entries = keys
                    .iter()
                    .map(|(db, k)| shard.dbs.get_mut(*db).and_then(|d| d.get(k, now).cloned()))
                    .collect();
                ShardReply::Entries(entries)
            }
            ShardRequest::Store {
                txid,
                writes,
                dirty,
            } => {
                let now = now_ms();
                let mut shard = self.shard.borrow_mut();
                shard.dirty += dirty;
                // One record per db written: each key rebuilt (atomic when
                // several), since the command's own form spans shards.
                let mut records: BTreeMap<usize, Vec<Vec<Bytes>>> = BTreeMap::new();
                for ((db, key), entry) in writes {
                    let value = entry.as_ref().map(|e| (&e.value, e.expire_at));
                    let cmds = crate::commands::propagate::rebuild(&key, value);
                    let Some(d) = shard.dbs.get_mut(db) else {
                        continue;
                    };
                    records.entry(db).or_default().extend(cmds);
                    match entry {
                        Some(e) => {
                            d.put_entry(key, e, now);
                        }
                        None => {
                            d.remove(&key, now);
                        }
                    }
                }
                shard.log_expired(None);
                for (db, cmds) in records {
                    shard.repl.append(Some(txid), db, &cmds);
                }
                drop(shard);
                self.aof_sync_if_always();
                self.ready_waiters();
                ShardReply::Done
            }
            ShardRequest::Block {
                client,
                db,
                argv,
                notify,
            } => return self.on_block(client, db, argv, notify, to),
            ShardRequest::Unblock { client, reason } => {
                self.on_unblock(client, reason);
                return;
            }
            ShardRequest::ClientUnblock { id, reason } => {
                let client = self.clients.borrow().get(&id).cloned();
                ShardReply::Count(client.is_some_and(|c| c.unblock(reason)) as u64)
            }
            ShardRequest::TxRun { txid, db, argv } => {
                self.tick();
                match argv.first().and_then(|n| table::lookup(n)) {
                    Some(spec) => ShardReply::Reply(self.exec_keyed(spec, db, &argv, Some(txid))),
                    None => ShardReply::Err("ERR internal: unknown command in hop".into()),
                }
            }
            ShardRequest::Watch { keys } => {
                let now = now_ms();
                let mut shard = self.shard.borrow_mut();
                let seen = keys
                    .iter()
                    .map(|(db, k)| shard.watch(*db, k, now))
                    .collect();
                ShardReply::Watched(seen)
            }
            ShardRequest::Unwatch { keys } => {
                let mut shard = self.shard.borrow_mut();
                for (db, k) in &keys {
                    shard.unwatch(*db, k);
                }
                return;
            }
            ShardRequest::WatchCheck { keys } => {
                let now = now_ms();
                let mut shard = self.shard.borrow_mut();
                let dirty = keys.iter().any(|((db, k), seen, existed)| {
                    shard.watch_dirty(*db, k, *seen, *existed, now)
                });
                ShardReply::Count(dirty as u64)
            }
            ShardRequest::Unlock { txid } => {
                self.shard.borrow_mut().repl.release(txid);
                self.locks.borrow_mut().release(txid);
                self.run_ready();
                ShardReply::Done
            }
            ShardRequest::DbSize { db } => ShardReply::Count(
                self.shard
                    .borrow()
                    .dbs
                    .get(db)
                    .map_or(0, |d| d.len() as u64),
            ),
            ShardRequest::Keys { db, filter } => {
                let shard = self.shard.borrow();
                ShardReply::Keys(
                    shard
                        .dbs
                        .get(db)
                        .map(|d| op_keys(d, now_ms(), &filter))
                        .unwrap_or_default(),
                )
            }
            ShardRequest::Scan {
                db,
                from_slot,
                count,
                filter,
            } => {
                let shard = self.shard.borrow();
                match shard.dbs.get(db) {
                    Some(d) => {
                        let (keys, next) =
                            op_scan(d, &self.my_slots, from_slot, count, now_ms(), &filter);
                        ShardReply::Scan(keys, next)
                    }
                    None => ShardReply::Scan(Vec::new(), None),
                }
            }
            ShardRequest::RandomKey { db, seed } => {
                let mut shard = self.shard.borrow_mut();
                ShardReply::Key(
                    shard
                        .dbs
                        .get_mut(db)
                        .and_then(|d| d.random_key(seed, now_ms())),
                )
            }
            ShardRequest::Flush { db } => {
                let mut shard = self.shard.borrow_mut();
                let mut n = 0;
                for (i, d) in shard.dbs.iter_mut().enumerate() {
                    if db.is_none_or(|x| x == i) {
                        n += d.clear();
                    }
                }
                shard.dirty += n as u64;
                match db {
                    Some(d) => shard
                        .repl
                        .append(None, d, &[vec![Bytes::from_static(b"FLUSHDB")]]),
                    None => shard.repl.append_global(&[b"FLUSHALL"]),
                }
                drop(shard);
                self.aof_sync_if_always();
                ShardReply::Count(n as u64)
            }
            ShardRequest::SwapDb { a, b } => {
                let mut shard = self.shard.borrow_mut();
                shard.swap_dbs(a, b, now_ms());
                let (a, b) = (a.to_string(), b.to_string());
                shard
                    .repl
                    .append_global(&[b"SWAPDB", a.as_bytes(), b.as_bytes()]);
                drop(shard);
                self.aof_sync_if_always();
                self.ready_waiters();
                ShardReply::Done
            }
            ShardRequest::Stats => {
                let mut s = self.shard.borrow().stats(now_ms());
                s.commands = self.commands.get();
                s.connections = self.connections.get();
                s.rejected = self.rejected.get();
                s.clients = self.clients.borrow().len() as u64;
                s.blocked_clients = self
                    .clients
                    .borrow()
                    .values()
                    .filter(|c| c.is_blocked())
                    .count() as u64;
                s.net_input = self.net_input.get();
                s.net_output = self.net_output.get();
                ShardReply::Stats(Box::new(s))
            }
            ShardRequest::ClientList { ids, pubsub } => {
                let now = now_ms();
                let lines = self
                    .clients
                    .borrow()
                    .values()
                    .filter(|c| ids.is_empty() || ids.contains(&c.id))
                    .filter(|c| pubsub.is_none_or(|p| p == c.pubsub.is_active()))
                    .map(|c| c.info_line(now))
                    .collect();
                ShardReply::Lines(lines)
            }
            ShardRequest::ClientKill { filter } => {
                let now = now_ms();
                let victims: Vec<Rc<Client>> = self
                    .clients
                    .borrow()
                    .values()
                    .filter(|c| filter.matches(c, now))
                    .cloned()
                    .collect();
                // Gone from the table at once, as Redis frees a killed
                // client inside CLIENT KILL (CLIENT LIST, INFO, a second
                // KILL no longer see it); its task sees the hang-up later.
                let mut table = self.clients.borrow_mut();
                for c in &victims {
                    c.kill();
                    table.remove(&c.id);
                }
                ShardReply::Count(victims.len() as u64)
            }
            ShardRequest::ClientPause {
                until_ms,
                writes_only,
            } => {
                self.paused_until.set(until_ms);
                self.pause_writes_only.set(writes_only);
                ShardReply::Done
            }
            ShardRequest::NewConfig(cfg) => {
                self.hot.set(HotConfig::of(&cfg));
                if let Some(f) = self.aof.borrow_mut().as_mut() {
                    f.policy = crate::persistence::aof::Fsync::of(&cfg);
                }
                *self.config.borrow_mut() = cfg;
                ShardReply::Done
            }
            ShardRequest::ReplStream => {
                let shard = self.shard.borrow();
                ShardReply::Reply(Reply::Array(vec![
                    Reply::Integer(shard.repl.offset() as i64),
                    Reply::Bulk(Bytes::copy_from_slice(shard.repl.backlog())),
                ]))
            }
            ShardRequest::SetTxDelay(ms) => {
                self.tx_delay_ms.set(ms);
                ShardReply::Done
            }
            ShardRequest::SetActiveExpire(on) => {
                self.shard.borrow_mut().active_expire = on;
                ShardReply::Done
            }
            ShardRequest::Digest => ShardReply::Digest(self.shard.borrow().digest(now_ms())),
            ShardRequest::DebugKeys { db, keys, object } => {
                let now = now_ms();
                let mut shard = self.shard.borrow_mut();
                let lines = keys
                    .iter()
                    .map(|k| {
                        let e = shard.dbs.get_mut(db).and_then(|d| d.peek(k, now));
                        match (e, object) {
                            (None, true) => "ERR no such key".to_string(),
                            (None, false) => "0".repeat(40),
                            (Some(e), true) => format!(
                                "Value at:0x{:x} refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
                                e as *const _ as usize,
                                e.value.encoding(),
                                e.value.approx_size(),
                                e.lru,
                                crate::shard::db::lru_clock(now).wrapping_sub(e.lru) & 0xFF_FFFF
                            ),
                            (Some(e), false) => {
                                crate::shard::digest_hex(digest_entry(0, b"", &crate::shard::value::Entry { expire_at: 0, ..e.clone() }))
                            }
                        }
                    })
                    .collect();
                ShardReply::Lines(lines)
            }
            ShardRequest::SlowlogGet { count } => {
                ShardReply::Slow(self.slowlog.borrow().newest(count))
            }
            ShardRequest::SlowlogLen => ShardReply::Count(self.slowlog.borrow().len() as u64),
            ShardRequest::SlowlogReset => {
                self.slowlog.borrow_mut().reset();
                ShardReply::Done
            }
            ShardRequest::MonitorAdd { shard, client } => {
                self.monitors.borrow_mut().push((shard, client));
                ShardReply::Done
            }
            ShardRequest::MonitorRemove { client } => {
                self.monitors.borrow_mut().retain(|(_, c)| *c != client);
                ShardReply::Done
            }
            ShardRequest::MonitorLine { client, line } => {
                if let Some(c) = self.clients.borrow().get(&client) {
                    c.push_monitor(line);
                }
                ShardReply::Done
            }
            ShardRequest::Publish {
                kind,
                channel,
                message,
            } => {
                let limit = self.hot.get().pubsub_obuf;
                ShardReply::Count(
                    self.pubsub
                        .borrow()
                        .publish(kind, &channel, &message, limit),
                )
            }
            ShardRequest::PubsubNames { kind, pattern } => {
                ShardReply::Keys(self.pubsub.borrow().names(kind, pattern.as_deref()))
            }
            ShardRequest::PubsubNumSub { kind, names } => {
                ShardReply::Counts(self.pubsub.borrow().numsub(kind, &names))
            }
            ShardRequest::ResetStats => {
                self.slowlog.borrow_mut().reset();
                self.commands.set(0);
                self.connections.set(0);
                self.rejected.set(0);
                ShardReply::Done
            }
            ShardRequest::SnapshotBegin {
                path,
                compress,
                key_delay_us,
            } => {
                let streamed = path.is_none();
                let r = self.snapshot_begin(path, compress, key_delay_us);
                if streamed {
                    // Everything written before the point in time goes
                    // ahead of this reply; what follows waits for the offset.
                    self.send_feed();
                    self.shard.borrow_mut().repl.hold_feed(true);
                }
                r
            }
            ShardRequest::TxSeal { txid } => {
                let bytes = self.shard.borrow_mut().repl.seal(txid);
                ShardReply::TxPart {
                    bytes,
                    fence: self.feed_fence(),
                }
            }
            ShardRequest::FlushFeed => {
                self.send_feed();
                ShardReply::Done
            }
            ShardRequest::ReleaseFeed => {
                self.shard.borrow_mut().repl.hold_feed(false);
                return;
            }
            ShardRequest::FeedReplicas { on } => {
                self.shard.borrow_mut().repl.set_feed(on);
                ShardReply::Done
            }
            ShardRequest::SetRole { replica } => {
                self.is_replica.set(replica);
                self.master_link_up.set(false);
                if !replica {
                    self.master_client.borrow_mut().take();
                }
                ShardReply::Done
            }
            ShardRequest::GoodReplicas(n) => {
                self.good_replicas.set(n);
                return;
            }
            ShardRequest::MasterLinkUp(up) => {
                self.master_link_up.set(up);
                return;
            }
            ShardRequest::SnapshotCollect => return self.snapshot_collect(to),
            ShardRequest::SnapshotDone { ok } => {
                let mut shard = self.shard.borrow_mut();
                if ok {
                    shard.dirty = shard.dirty.saturating_sub(self.snapshot_dirty.get());
                }
                self.snapshot_dirty.set(0);
                ShardReply::Done
            }
            ShardRequest::LoadData { flush, dbs } => {
                let now = self.tick();
                crate::persistence::load::install(&mut self.shard.borrow_mut(), dbs, flush, now);
                ShardReply::Done
            }
            ShardRequest::StagePart { data, start, len } => {
                let now = self.tick();
                let dbs = self.shard.borrow().dbs.len();
                let enc = self.hot.get().enc;
                let me = self.id.0;
                match crate::persistence::load::stage_part(
                    dbs,
                    me,
                    &self.slots,
                    &data,
                    (start, len),
                    &enc,
                    now,
                ) {
                    Ok((new, keys, _)) => {
                        *self.staged.borrow_mut() = Some(new);
                        ShardReply::Count(keys)
                    }
                    Err(e) => ShardReply::Err(e),
                }
            }
            ShardRequest::SwapStaged(swap) => {
                let staged = self.staged.borrow_mut().take();
                if let (true, Some(new)) = (swap, staged) {
                    let mut shard = self.shard.borrow_mut();
                    for (db, n) in shard.dbs.iter_mut().zip(new) {
                        db.replace_with(n);
                    }
                }
                ShardReply::Done
            }
            ShardRequest::Dirty => ShardReply::Count(self.shard.borrow().dirty),
            ShardRequest::AofRewriteBegin {
                part,
                compress,
                key_delay_us,
            } => {
                let r = self.snapshot_begin(Some(part), compress, key_delay_us);
                if matches!(r, ShardReply::Done) {
                    self.shard.borrow_mut().repl.start_rewrite();
                }
                r
            }
            ShardRequest::AofRewriteAbandon => {
                self.shard.borrow_mut().repl.stop_rewrite();
                return;
            }
            ShardRequest::AofState => {
                let aof = self.aof.borrow();
                ShardReply::Counts(match aof.as_ref() {
                    Some(f) => vec![f.size, f.base_size, u64::from(f.write_failed)],
                    None => vec![0, 0, 0],
                })
            }
            ShardRequest::FlushAof => {
                if let Some(f) = self.aof_flush() {
                    let _ = f.sync_data();
                }
                if let Some(f) = self.aof.borrow_mut().as_mut() {
                    f.write(&[], true);
                }
                ShardReply::Done
            }
            ShardRequest::Populate {
                db,
                count,
                prefix,
                size,
            } => ShardReply::Count(self.populate(db, count, &prefix, size)),
            ShardRequest::ConfigSet { .. }
            | ShardRequest::ConfigRewrite
            | ShardRequest::Save { .. }
            | ShardRequest::RewriteAof
            | ShardRequest::AofRewriteFinish { .. }
            | ShardRequest::PersistenceInfo
            | ShardRequest::LastSave
            | ShardRequest::LoadCounts { .. }
            | ShardRequest::Shutdown { .. }
            | ShardRequest::Reload { .. }
            | ShardRequest::ReplFeed { .. }
            | ShardRequest::SnapshotChunk { .. }
            | ShardRequest::ReplBlock { .. }
            | ShardRequest::ApplyFromMaster { .. }
            | ShardRequest::AttachReplica(_)
            | ShardRequest::ReplicaOf { .. }
            | ShardRequest::ReplInfo
            | ShardRequest::Role
            | ShardRequest::Wait { .. }
            | ShardRequest::KillReplLinks { .. } => {
                ShardReply::Err("ERR internal: control request sent to a shard".into())
            }
        };
        self.mesh.reply(to, reply);
    }

    /// DEBUG POPULATE's share of this shard: `<prefix>:<i>` = `value:<i>`
    /// (zero-padded or cut to `size` bytes when given), existing keys kept.
    fn populate(&self, db: usize, count: u64, prefix: &[u8], size: Option<usize>) -> u64 {
        let now = self.tick();
        let mut shard = self.shard.borrow_mut();
        let Some(d) = shard.dbs.get_mut(db) else {
            return 0;
        };
        let mut added = 0;
        let mut key = Vec::new();
        for i in 0..count {
            key.clear();
            key.extend_from_slice(prefix);
            key.push(b':');
            crate::util::num::write_i64(i as i64, &mut key);
            if self.slots.shard_of_key(&key) != self.id || d.contains(&key, now) {
                continue;
            }
            let mut value = b"value:".to_vec();
            crate::util::num::write_i64(i as i64, &mut value);
            if let Some(n) = size {
                value.resize(n, 0);
            }
            let value =
                crate::shard::value::Value::Str(crate::shard::value::StrValue::from_bytes(&value));
            d.insert(&key, value, 0, now);
            added += 1;
        }
        added
    }

    /// Begins this shard's share of a snapshot (under the whole-shard lock)
    /// and starts its walker.
    fn snapshot_begin(
        &self,
        path: Option<std::path::PathBuf>,
        compress: bool,
        key_delay_us: u64,
    ) -> ShardReply {
        if self.snapshot_job.borrow().is_some() {
            return ShardReply::Err("a snapshot is already being written".into());
        }
        let now = self.tick();
        let dbs = {
            let mut shard = self.shard.borrow_mut();
            self.snapshot_dirty.set(shard.dirty);
            crate::persistence::snapshot::begin(&mut shard, now, compress)
        };
        let (tx, rx) = futures_channel::oneshot::channel();
        let shard = self.shard.clone();
        let tq = match self.snapshot_tq.get() {
            Some(tq) => tq,
            None => {
                let tq = glommio::executor().create_task_queue(
                    glommio::Shares::Static(250),
                    glommio::Latency::Matters(std::time::Duration::from_micros(200)),
                    "snapshot",
                );
                self.snapshot_tq.set(Some(tq));
                tq
            }
        };
        use crate::persistence::snapshot::{write_part, PartSink};
        let sink = match path {
            Some(p) => PartSink::File(p),
            None => {
                let (mesh, from, control) = (self.mesh.clone(), self.id.0, self.control_peer());
                PartSink::Stream(Box::new(move |bytes| {
                    mesh.tell(control, ShardRequest::SnapshotChunk { from, bytes })
                }))
            }
        };
        let walk = async move {
            let r = write_part(shard, dbs, sink, key_delay_us).await;
            let _ = tx.send(r);
        };
        match glommio::spawn_local_into(walk, tq) {
            Ok(t) => t.detach(),
            Err(e) => return ShardReply::Err(format!("cannot start the snapshot: {e}")),
        };
        *self.snapshot_job.borrow_mut() = Some(rx);
        ShardReply::Done
    }

    /// Replies with this shard's part once its walker is done.
    fn snapshot_collect(&self, to: ReplyTo) {
        let Some(rx) = self.snapshot_job.borrow_mut().take() else {
            return self
                .mesh
                .reply(to, ShardReply::Err("no snapshot is being written".into()));
        };
        let mesh = self.mesh.clone();
        glommio::spawn_local(async move {
            let reply = match rx.await {
                Ok(Ok(part)) => ShardReply::Part(part),
                Ok(Err(e)) => ShardReply::Err(e),
                Err(_) => ShardReply::Err("the snapshot walker stopped".into()),
            };
            mesh.reply(to, reply);
        })
        .detach();
    }

    /// Serves the waiters that released locks let through, in order.
    fn run_ready(&self) {
        self.tick();
        let ready = self.locks.borrow_mut().take_ready();
        for d in ready {
            match d {
                Deferred::Run {
                    spec,
                    db,
                    argv,
                    tx,
                    to,
                } => {
                    let r = self.exec_keyed(spec, db, &argv, tx);
                    self.mesh.reply(to, ShardReply::Reply(r));
                }
                Deferred::Granted { to } => self.mesh.reply(to, ShardReply::Done),
            }
        }
        // Waiters whose keys the transaction held.
        self.ready_waiters();
    }

    /// Adds a command to this shard's slow log, with its client's details.
    pub fn log_slow(&self, client: &Client, argv: &[Bytes], micros: u64) {
        let name = client.name.borrow().clone().unwrap_or_default();
        self.slowlog.borrow_mut().push(
            argv,
            micros,
            now_ms() / 1000,
            client.addr.clone(),
            name,
            self.hot.get().slowlog_max_len,
            self.nshards() as u64,
            self.id.0 as u64,
        );
    }

    /// Feeds one executed command to every MONITOR client (Redis's
    /// `replicationFeedMonitors`): `+<time> [<db> <addr>] "arg" ...`.
    pub fn feed_monitors(&self, client: &Client, argv: &[Bytes]) {
        let monitors = self.monitors.borrow();
        if monitors.is_empty() {
            return;
        }
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let mut line = format!(
            "{}.{:06} [{} {}]",
            d.as_secs(),
            d.subsec_micros(),
            client.db.get(),
            client.addr
        )
        .into_bytes();
        for a in argv {
            line.push(b' ');
            crate::util::repr::quote_into(a, &mut line);
        }
        let line = Bytes::from(line);
        for &(shard, id) in monitors.iter() {
            if id == client.id {
                continue;
            }
            self.tell(
                shard,
                ShardRequest::MonitorLine {
                    client: id,
                    line: line.clone(),
                },
            );
        }
    }

    /// Counts a process-wide client slot; false if `maxclients` is reached.
    pub fn admit_client(&self) -> bool {
        let max = self.hot.get().maxclients;
        let prev = self.shared.clients.fetch_add(1, Ordering::AcqRel);
        if prev >= max {
            self.shared.clients.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        true
    }

    pub fn release_client(&self) {
        self.shared.clients.fetch_sub(1, Ordering::AcqRel);
    }
}

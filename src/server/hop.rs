//! Hops: typed requests between shards (and the control executor) over the
//! glommio channel mesh, and their replies.
//!
//! Runs on: every shard and the control executor. Each executor has, per
//! peer, an outbox that a flusher task drains as one batch per mesh message
//! (so consecutive requests for one peer travel together), and a receiver
//! task that serves incoming requests and completes awaited replies. The
//! receiver never awaits a send (replies go through the outbox), so two
//! executors can never block on each other's full channels.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Poll, Waker};

use bytes::Bytes;
use futures_channel::oneshot;
use glommio::channels::channel_mesh::{Receivers, Senders};

use crate::commands::keys::KeyFilter;
use crate::config::Config;
use crate::protocol::Reply;
use crate::shard::lock::{LockKey, TxId};
use crate::shard::value::Entry;

/// A request to another executor, named for what it asks.
#[derive(Debug)]
pub enum ShardRequest {
    /// Run one command whose keys all live on the receiving shard.
    Run {
        db: usize,
        argv: Vec<Bytes>,
    },
    /// Lock keys for transaction `txid` (waits until they are free).
    Lock {
        txid: TxId,
        keys: Vec<LockKey>,
        exclusive: bool,
    },
    /// Lock keys for `txid` (waiting until free), then run `argv` — this
    /// shard's part of a command that splits per key (MGET, MSET, DEL…) —
    /// and keep the locks until `Unlock`.
    LockRun {
        txid: TxId,
        keys: Vec<LockKey>,
        exclusive: bool,
        db: usize,
        argv: Vec<Bytes>,
    },
    /// Copies of entries, for a transaction that holds their locks.
    Fetch {
        keys: Vec<LockKey>,
    },
    /// Write back a transaction's results (`None` deletes the key).
    Store {
        txid: TxId,
        writes: Vec<(LockKey, Option<Entry>)>,
        dirty: u64,
    },
    /// Block client `client` on the keys of blocking command `argv` that
    /// live here (`server/blocking.rs`): served here when every key does
    /// (`notify` false), else woken when one becomes ready.
    Block {
        client: u64,
        db: usize,
        argv: Vec<Bytes>,
        notify: bool,
    },
    /// Client `client` stops waiting here (no reply; its `Block` gets one).
    Unblock {
        client: u64,
        reason: crate::server::blocking::UnblockReason,
    },
    /// CLIENT UNBLOCK: wake client `id` if it is blocked and lives here.
    ClientUnblock {
        id: u64,
        reason: crate::server::blocking::UnblockReason,
    },
    /// Run one command of an EXEC whose transaction holds the keys' locks
    /// (so it skips the lock check).
    TxRun {
        txid: TxId,
        db: usize,
        argv: Vec<Bytes>,
    },
    /// WATCH these keys: replies `Watched` with (modification count,
    /// exists) per key.
    Watch {
        keys: Vec<LockKey>,
    },
    /// UNWATCH these keys (no reply).
    Unwatch {
        keys: Vec<LockKey>,
    },
    /// At EXEC, under the transaction's locks: replies `Count(1)` if any
    /// watched key changed since WATCH (`(key, count, existed)`), else 0.
    WatchCheck {
        keys: Vec<(LockKey, u64, bool)>,
    },
    /// Release every lock of `txid` (no reply).
    Unlock {
        txid: TxId,
    },
    DbSize {
        db: usize,
    },
    Keys {
        db: usize,
        filter: KeyFilter,
    },
    Scan {
        db: usize,
        from_slot: u16,
        count: usize,
        filter: KeyFilter,
    },
    RandomKey {
        db: usize,
        seed: u64,
    },
    /// FLUSHDB (`Some(db)`) or FLUSHALL (`None`).
    Flush {
        db: Option<usize>,
    },
    SwapDb {
        a: usize,
        b: usize,
    },
    /// Counters and sizes for INFO.
    Stats,
    /// Client list lines (CLIENT LIST), optionally only these ids, and only
    /// subscribed (`Some(true)`) or only other (`Some(false)`) clients.
    ClientList {
        ids: Vec<u64>,
        pubsub: Option<bool>,
    },
    /// Close clients matching the filter; replies with the count.
    ClientKill {
        filter: crate::server::client::KillFilter,
    },
    /// Pause or unpause clients until a deadline (CLIENT PAUSE/UNPAUSE).
    ClientPause {
        until_ms: u64,
        writes_only: bool,
    },
    /// A new configuration published by the control executor.
    NewConfig(Arc<Config>),
    /// DEBUG SET-ACTIVE-EXPIRE.
    SetActiveExpire(bool),
    /// DEBUG REPL-STREAM (tessera's own, for tests): this shard's stream
    /// offset and backlog.
    ReplStream,
    /// DEBUG SET-TX-DELAY (tessera's own, for tests).
    SetTxDelay(u64),
    /// DEBUG DIGEST: this shard's part of the dataset digest.
    Digest,
    /// DEBUG DIGEST-VALUE / DEBUG OBJECT on keys this shard owns.
    DebugKeys {
        db: usize,
        keys: Vec<Bytes>,
        object: bool,
    },
    /// SLOWLOG GET: the newest `count` entries.
    SlowlogGet {
        count: usize,
    },
    SlowlogLen,
    SlowlogReset,
    /// MONITOR: feed every command run here to client `client` on `shard`.
    MonitorAdd {
        shard: usize,
        client: u64,
    },
    MonitorRemove {
        client: u64,
    },
    /// One MONITOR line for a monitoring client of the receiving shard.
    MonitorLine {
        client: u64,
        line: Bytes,
    },
    /// To the control executor: CONFIG SET (validated and published there).
    ConfigSet {
        pairs: Vec<(Bytes, Bytes)>,
    },
    /// To the control executor: CONFIG REWRITE.
    ConfigRewrite,
    /// CONFIG RESETSTAT: zero this shard's counters and slow log.
    ResetStats,
    /// PUBLISH (`Kind::Channel`) or SPUBLISH (`Kind::Shard`): deliver to
    /// this shard's subscribers; replies `Count` of receivers.
    Publish {
        kind: crate::server::pubsub::Kind,
        channel: Bytes,
        message: Bytes,
    },
    /// PUBSUB CHANNELS / SHARDCHANNELS / NUMPAT, INFO: this shard's active
    /// names of `kind` (matching `pattern` if given); replies `Keys`.
    PubsubNames {
        kind: crate::server::pubsub::Kind,
        pattern: Option<Bytes>,
    },
    /// PUBSUB NUMSUB / SHARDNUMSUB: this shard's subscriber count of each
    /// name; replies `Counts`.
    PubsubNumSub {
        kind: crate::server::pubsub::Kind,
        names: Vec<Bytes>,
    },
    /// Begin this shard's share of a snapshot (sent while every shard holds
    /// the whole-shard lock) and start writing it to the part file `path`,
    /// or (`None`, for replicas in full sync) sending it to the control
    /// executor as `SnapshotChunk`s; then the replication feed so far is
    /// sent and the rest held until `ReleaseFeed`.
    SnapshotBegin {
        path: Option<std::path::PathBuf>,
        compress: bool,
        key_delay_us: u64,
    },
    /// Wait for this shard's part of the snapshot: replies `Part` or `Err`.
    SnapshotCollect,
    /// The snapshot was written (`ok`) or not; on success the writes made
    /// before it began no longer count as unsaved (no reply).
    SnapshotDone {
        ok: bool,
    },
    /// Add loaded keys (one list per db), after emptying every db if `flush`.
    LoadData {
        flush: bool,
        dbs: crate::persistence::load::ShardData,
    },
    /// A replica's full sync: parse this shard's part of the master's RDB
    /// (start, length) into databases set aside; replies `Count` (keys) or
    /// `Err`. The live data is untouched until `SwapStaged`.
    StagePart {
        data: std::sync::Arc<Vec<u8>>,
        start: usize,
        len: usize,
    },
    /// Swap the staged databases in (`true`) or drop them; replies `Done`.
    SwapStaged(bool),
    /// This shard's writes since the last save: replies `Count`.
    Dirty,
    /// Write and fsync what the append-only file is owed (before exit).
    FlushAof,
    /// An AOF rewrite's point in time (sent while every shard holds the
    /// whole-shard lock): begin a snapshot into the part file `part` and
    /// start copying writes aside for the new file.
    AofRewriteBegin {
        part: std::path::PathBuf,
        compress: bool,
        key_delay_us: u64,
    },
    /// This shard's snapshot `part` is written: make the new file from it
    /// and swap it in; replies `Count` (the new file's size) or `Err`.
    AofRewriteFinish {
        part: crate::persistence::snapshot::Part,
        base: crate::persistence::aof::Base,
    },
    /// The rewrite failed: stop copying writes aside (no reply).
    AofRewriteAbandon,
    /// This shard's append-only file: `Counts` [size, base size, 1 if the
    /// last write failed] (zeros without one).
    AofState,
    /// To the control executor: BGREWRITEAOF; replies `Reply` or `Err`.
    RewriteAof,
    /// DEBUG POPULATE: add the keys `<prefix>:<i>` (i < count) this shard
    /// owns and that do not exist yet; replies `Count` of keys added.
    Populate {
        db: usize,
        count: u64,
        prefix: Bytes,
        size: Option<usize>,
    },
    /// To the control executor: SAVE, or BGSAVE [SCHEDULE]; replies `Reply`.
    Save {
        background: bool,
        schedule: bool,
    },
    /// To the control executor: INFO persistence's save fields (`Lines`).
    PersistenceInfo,
    /// To the control executor: LASTSAVE (`Count`).
    LastSave,
    /// To the control executor, from each shard at start-up: keys it loaded
    /// and keys skipped as expired (INFO `rdb_last_load_keys_*`).
    LoadCounts {
        keys: u64,
        expired: u64,
    },
    /// To the control executor: SHUTDOWN; `save` `None` follows the save
    /// points. Replies only when the process does not exit (`Err`).
    Shutdown {
        save: Option<bool>,
    },
    /// To the control executor: DEBUG RELOAD [NOSAVE] [NOFLUSH].
    Reload {
        save: bool,
        flush: bool,
    },
    /// To the control executor (no reply): a chunk of a shard's
    /// replication stream for the replicas' backlog.
    ReplFeed {
        from: usize,
        bytes: Vec<u8>,
    },
    /// To the control executor (no reply): the next chunk of a shard's
    /// part of a snapshot streamed to replicas (`SnapshotBegin` without a
    /// path).
    SnapshotChunk {
        from: usize,
        bytes: Vec<u8>,
    },
    /// To the control executor: one transaction's parts, as one MULTI/EXEC
    /// block of the merged stream, once the control executor has taken at
    /// least `fences[i].1` feeds from shard `fences[i].0` (what each
    /// shard wrote before its part). Replies `Done` when appended; the
    /// transaction keeps its locks until then.
    ReplBlock {
        parts: Vec<Vec<u8>>,
        fences: Vec<(usize, u64)>,
    },
    /// Transaction `txid` is about to unlock: reply `TxPart` with its
    /// writes here (kept out of the feed) after sending the feed.
    TxSeal {
        txid: TxId,
    },
    /// Start (or stop) sending this shard's stream as `ReplFeed`s.
    FeedReplicas {
        on: bool,
    },
    /// The snapshot's offset is read: send the held feed (no reply).
    ReleaseFeed,
    /// Send the feed written so far now, then reply `Done` (WAIT).
    FlushFeed,
    /// The server became a replica (or a master): writes from clients are
    /// refused per `replica-read-only`.
    SetRole {
        replica: bool,
    },
    /// Replicas with a recent ACK, for `min-replicas-to-write` (no reply).
    GoodReplicas(u64),
    /// On a replica: the link to the master came up or went down, for
    /// `replica-serve-stale-data no` (no reply).
    MasterLinkUp(bool),
    /// To shard 0 on a replica: run the master's commands through the
    /// master client (`fresh`: a new one, after a full sync).
    ApplyFromMaster {
        cmds: Vec<Vec<Bytes>>,
        fresh: bool,
    },
    /// To the control executor (no reply): a replica's PSYNC or SYNC, with
    /// its socket.
    AttachReplica(crate::replication::primary::Attach),
    /// To the control executor: REPLICAOF host port (`None`: NO ONE).
    ReplicaOf {
        target: Option<(String, u16)>,
    },
    /// To the control executor: INFO replication's text, then the
    /// sync_full, sync_partial_ok and sync_partial_err counts (`Lines`).
    ReplInfo,
    /// To the control executor: ROLE (`Reply`).
    Role,
    /// To the control executor: WAIT numreplicas timeout (`Count`).
    Wait {
        replicas: u64,
        timeout_ms: u64,
    },
    /// To the control executor: CLIENT KILL TYPE master / replica (`Count`).
    KillReplLinks {
        master: bool,
        replicas: bool,
    },
}

/// A reply to a `ShardRequest`.
#[derive(Debug)]
pub enum ShardReply {
    Reply(Reply),
    /// A `Run` that took at least `slowlog-log-slower-than`: the reply, the
    /// time it took and its arguments, for the client's shard's slow log.
    SlowRun(Reply, u64, Vec<Bytes>),
    Done,
    Entries(Vec<Option<Entry>>),
    Count(u64),
    Counts(Vec<u64>),
    Keys(Vec<Bytes>),
    Scan(Vec<Bytes>, Option<u16>),
    Key(Option<Bytes>),
    Stats(Box<crate::shard::ShardStats>),
    Lines(Vec<String>),
    Digest([u64; 3]),
    Slow(Vec<crate::shard::slowlog::SlowEntry>),
    Err(String),
    Watched(Vec<(u64, bool)>),
    /// To a `Block { notify: true }`: a key is ready; retry the command.
    Woken,
    /// To a `Block`: the client stopped waiting before it was served.
    TimedOut,
    /// To `SnapshotCollect`: this shard's part, written.
    Part(crate::persistence::snapshot::Part),
    /// To `TxSeal`: the transaction's writes here, and the feed count that
    /// covers everything this shard wrote before them.
    TxPart {
        bytes: Vec<u8>,
        fence: u64,
    },
}

/// Awaits replies in order; a lost one becomes `Err`.
pub async fn gather(rxs: Vec<oneshot::Receiver<ShardReply>>) -> Vec<ShardReply> {
    let mut out = Vec::with_capacity(rxs.len());
    for rx in rxs {
        out.push(
            rx.await
                .unwrap_or_else(|_| ShardReply::Err("ERR internal hop failed".into())),
        );
    }
    out
}

/// One message on the mesh.
#[derive(Debug)]
pub enum MeshMsg {
    /// `id` 0 = no reply wanted.
    Request {
        id: u64,
        req: ShardRequest,
    },
    Reply {
        id: u64,
        reply: ShardReply,
    },
}

/// Where the reply to a request goes.
pub enum ReplyTo {
    None,
    Local(oneshot::Sender<ShardReply>),
    Remote { peer: usize, id: u64 },
}

struct Outbox {
    queue: RefCell<Vec<MeshMsg>>,
    waker: Cell<Option<Waker>>,
}

/// Owned by: each executor. This executor's end of the mesh.
pub struct Mesh {
    me: usize,
    outboxes: Vec<Outbox>,
    pending: RefCell<HashMap<u64, oneshot::Sender<ShardReply>, ahash::RandomState>>,
    next_id: Cell<u64>,
}

impl Mesh {
    pub fn new(me: usize, peers: usize) -> Mesh {
        Mesh {
            me,
            outboxes: (0..peers)
                .map(|_| Outbox {
                    queue: RefCell::new(Vec::new()),
                    waker: Cell::new(None),
                })
                .collect(),
            pending: RefCell::default(),
            next_id: Cell::new(1),
        }
    }

    pub fn me(&self) -> usize {
        self.me
    }

    fn push(&self, peer: usize, msg: MeshMsg) {
        let Some(out) = self.outboxes.get(peer) else {
            tracing::error!(peer, "hop to unknown peer dropped");
            return;
        };
        out.queue.borrow_mut().push(msg);
        if let Some(w) = out.waker.take() {
            w.wake();
        }
    }

    /// Sends `req` to `peer` and returns where its reply will arrive.
    pub fn request(&self, peer: usize, req: ShardRequest) -> oneshot::Receiver<ShardReply> {
        let (tx, rx) = oneshot::channel();
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        self.pending.borrow_mut().insert(id, tx);
        self.push(peer, MeshMsg::Request { id, req });
        rx
    }

    /// Sends `req` to `peer`, wanting no reply.
    pub fn tell(&self, peer: usize, req: ShardRequest) {
        self.push(peer, MeshMsg::Request { id: 0, req });
    }

    /// Delivers a reply, to a local waiter or back over the mesh.
    pub fn reply(&self, to: ReplyTo, reply: ShardReply) {
        match to {
            ReplyTo::None => {}
            ReplyTo::Local(tx) => {
                let _ = tx.send(reply);
            }
            ReplyTo::Remote { peer, id } => self.push(peer, MeshMsg::Reply { id, reply }),
        }
    }

    fn complete(&self, id: u64, reply: ShardReply) {
        if let Some(tx) = self.pending.borrow_mut().remove(&id) {
            let _ = tx.send(reply);
        }
    }
}

/// What a receiver calls before serving each window of an incoming batch,
/// with the rest of the batch: it looks at no more than the first
/// `PREFETCH_WINDOW` messages.
pub type Prefetch = Rc<dyn Fn(&[MeshMsg])>;

/// Messages served between two prefetch calls.
pub const PREFETCH_WINDOW: usize = crate::server::prefetch::BATCH;

/// Starts, on the current executor, one flusher and one receiver task per
/// peer. `serve` handles each incoming request; `prefetch` sees each
/// window of an incoming batch first (`server::prefetch::hops` on a shard).
pub fn start(
    mesh: Rc<Mesh>,
    senders: Senders<Vec<MeshMsg>>,
    mut receivers: Receivers<Vec<MeshMsg>>,
    serve: Rc<dyn Fn(ShardRequest, ReplyTo)>,
    prefetch: Prefetch,
) {
    let senders = Rc::new(senders);
    for peer in 0..mesh.outboxes.len() {
        if peer == mesh.me {
            continue;
        }
        let (mesh, senders) = (mesh.clone(), senders.clone());
        glommio::spawn_local(async move {
            loop {
                let batch = poll_fn(|cx| {
                    let out = &mesh.outboxes[peer];
                    let mut q = out.queue.borrow_mut();
                    if q.is_empty() {
                        out.waker.set(Some(cx.waker().clone()));
                        Poll::Pending
                    } else {
                        Poll::Ready(std::mem::take(&mut *q))
                    }
                })
                .await;
                if senders.send_to(peer, batch).await.is_err() {
                    tracing::debug!(peer, "mesh closed, flusher stops");
                    break;
                }
            }
        })
        .detach();
    }
    for (peer, rx) in receivers.streams() {
        let (mesh, serve, prefetch) = (mesh.clone(), serve.clone(), prefetch.clone());
        glommio::spawn_local(async move {
            while let Some(batch) = rx.recv().await {
                // A big batch (a replica's stream, many pipelines at once)
                // is prefetched a window at a time, each just before its
                // turn: lines fetched for all of it would be evicted again.
                let mut msgs = batch.into_iter();
                let mut served = 0usize;
                loop {
                    if served % PREFETCH_WINDOW == 0 {
                        prefetch(msgs.as_slice());
                    }
                    let Some(msg) = msgs.next() else { break };
                    served += 1;
                    match msg {
                        MeshMsg::Request { id, req } => {
                            let to = if id == 0 {
                                ReplyTo::None
                            } else {
                                ReplyTo::Remote { peer, id }
                            };
                            serve(req, to);
                        }
                        MeshMsg::Reply { id, reply } => mesh.complete(id, reply),
                    }
                }
                glommio::yield_if_needed().await;
            }
        })
        .detach();
    }
}

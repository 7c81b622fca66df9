//! The master side: replicas attached to this server. A replica connects
//! to the client port like any client; its PSYNC (or SYNC) hands the socket
//! to the control executor (`attach`), which answers `+CONTINUE` from the
//! backlog or `+FULLRESYNC` with a snapshot, then streams the backlog and
//! reads `REPLCONF ACK`s. Runs on: the control executor.
//!
//! A replica in full sync shares the snapshot being made, if one is
//! (`SyncJob`): the backlog keeps every byte from the snapshot's offset on
//! until the replica has been sent them, up to the replica class's hard
//! `client-output-buffer-limit`; a replica further behind is dropped and
//! resyncs, so a slow replica never grows the master without bound.

use std::cell::{Cell, RefCell};
use std::os::fd::FromRawFd;
use std::rc::Rc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;

use super::backlog::Psync;
use crate::protocol::{Limits, RequestDecoder};
use crate::server::control::ControlCtx;
use crate::server::hop::ShardRequest;
use crate::util::clock::now_ms;

/// Where a replica is (the `state=` of INFO's `slaveN` lines).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerState {
    /// Waiting for the snapshot of its full sync.
    WaitBgsave,
    /// Being sent the snapshot.
    SendBulk,
    /// Being streamed the backlog.
    Online,
}

impl PeerState {
    pub fn name(self) -> &'static str {
        match self {
            PeerState::WaitBgsave => "wait_bgsave",
            PeerState::SendBulk => "send_bulk",
            PeerState::Online => "online",
        }
    }
}

/// One attached replica. Owned by: the control executor.
pub struct Peer {
    pub id: u64,
    pub ip: String,
    /// Its `REPLCONF listening-port`.
    pub port: u16,
    fd: i32,
    pub state: Cell<PeerState>,
    /// Next backlog offset to send it (`None` before its sync has one).
    pub sent: Cell<Option<u64>>,
    /// Offset of its last `REPLCONF ACK`.
    pub ack: Cell<u64>,
    pub last_ack_ms: Cell<u64>,
    /// It has sent a `REPLCONF ACK` since it attached.
    acked: Cell<bool>,
    /// It came with SYNC: an old replica that never sends ACKs.
    pre_psync: bool,
    /// Since when it has been over the soft output buffer limit (0: not).
    soft_since_ms: Cell<u64>,
    pub closed: Cell<bool>,
}

impl Peer {
    /// Ends the link of a replica over its output buffer limits.
    fn drop_for_limits(&self) {
        tracing::warn!(
            "Client replica {}:{} scheduled to be closed ASAP for overcoming of output buffer limits.",
            self.ip,
            self.port
        );
        self.kill();
    }

    /// Ends the link: the socket is shut down, which wakes both tasks.
    pub fn kill(&self) {
        if !self.closed.replace(true) {
            // SAFETY: `fd` stays open until the writer task drops its
            // stream, after it has seen `closed`; shutdown frees nothing.
            unsafe {
                libc::shutdown(self.fd, libc::SHUT_RDWR);
            }
        }
    }
}

/// A snapshot streamed to replicas in full sync, as the shards make it
/// (`persistence::save::stream_for_replicas`). The RDB is kept whole until
/// the job ends, so a replica that joins late is still sent all of it.
#[derive(Default)]
pub struct SyncJob {
    /// Backlog offset at the snapshot's point in time, once fixed.
    pub offset: Cell<Option<u64>>,
    /// The RDB so far, in order: the header, then the shards' chunks (each
    /// behind its `tessera-chunk` aux field), at the end EOF and checksum.
    bytes: RefCell<Vec<Bytes>>,
    /// Chunks that came before the header was written.
    early: RefCell<Vec<(usize, Vec<u8>)>>,
    started: Cell<bool>,
    crc: RefCell<crate::persistence::rdb::Crc64>,
    /// Chunks taken, per shard.
    got: RefCell<Vec<u64>>,
    len: Cell<u64>,
    /// Set when the snapshot ends: the RDB's length, or why it failed.
    result: RefCell<Option<Result<u64, String>>>,
    /// The 40 characters that end the RDB when it is sent EOF-marked; one
    /// per snapshot, as Redis has one per child.
    mark: String,
}

impl SyncJob {
    fn put(&self, b: Bytes) {
        self.crc.borrow_mut().update(&b);
        self.len.set(self.len.get() + b.len() as u64);
        self.bytes.borrow_mut().push(b);
    }

    /// The RDB's header; the chunks that came before it follow it.
    pub fn start(&self, header: Vec<u8>) {
        self.put(header.into());
        self.started.set(true);
        for (from, bytes) in self.early.take() {
            self.frame(from, bytes);
        }
    }

    /// The next chunk of shard `from`'s part.
    pub fn take_chunk(&self, from: usize, bytes: Vec<u8>) {
        {
            let mut got = self.got.borrow_mut();
            if got.len() <= from {
                got.resize(from + 1, 0);
            }
            got[from] += 1;
        }
        if self.started.get() {
            self.frame(from, bytes);
        } else {
            self.early.borrow_mut().push((from, bytes));
        }
    }

    fn frame(&self, from: usize, bytes: Vec<u8>) {
        let mut head = Vec::with_capacity(32);
        crate::persistence::rdb::write_aux(
            &mut head,
            crate::persistence::load::CHUNK_AUX,
            format!("{from}:{}", bytes.len()).as_bytes(),
        );
        self.put(head.into());
        self.put(bytes.into());
    }

    /// Whether shard `s` has handed over `counts[s]` chunks, for every `s`.
    pub fn has_chunks(&self, counts: &[u64]) -> bool {
        let got = self.got.borrow();
        counts
            .iter()
            .enumerate()
            .all(|(s, &n)| got.get(s).copied().unwrap_or(0) == n)
    }

    /// Ends the RDB with EOF and its checksum (0 without `checksum`).
    pub fn finish(&self, checksum: bool) {
        let mut eof = Vec::with_capacity(9);
        crate::persistence::rdb::write_eof(&mut eof);
        self.put(eof.into());
        let sum = if checksum {
            self.crc.borrow().finish()
        } else {
            0
        };
        self.len.set(self.len.get() + 8);
        self.bytes
            .borrow_mut()
            .push(Bytes::copy_from_slice(&sum.to_le_bytes()));
        *self.result.borrow_mut() = Some(Ok(self.len.get()));
    }

    fn fail(&self, e: String) {
        self.result.borrow_mut().get_or_insert(Err(e));
    }

    /// Pieces `from..` made so far, and whether the RDB is whole.
    fn pieces(&self, from: usize) -> (Vec<Bytes>, bool) {
        let b = self.bytes.borrow();
        let done = matches!(*self.result.borrow(), Some(Ok(_)));
        (b.get(from..).unwrap_or_default().to_vec(), done)
    }
}

/// What a replica's PSYNC (or SYNC) asked, handed over with its socket.
#[derive(Debug)]
pub struct Attach {
    /// A duplicate of the connection's socket, now the control executor's.
    pub fd: i32,
    pub ip: String,
    pub port: u16,
    /// `PSYNC <replid> <offset>`; `None` for SYNC (no `+FULLRESYNC` line).
    pub psync: Option<(String, i64)>,
    /// It said `REPLCONF capa eof`: it can read an EOF-marked RDB.
    pub eof: bool,
}

thread_local! {
    /// `client-output-buffer-limit replica <hard>` (0 = no limit).
    static HARD_LIMIT: Cell<usize> = const { Cell::new(256 << 20) };
    /// `client-output-buffer-limit replica <hard> <soft> <seconds>`.
    static SOFT_LIMIT: Cell<(usize, u64)> = const { Cell::new((64 << 20, 60)) };
}

/// The most bytes the backlog keeps for a lagging replica.
pub fn hard_limit() -> usize {
    match HARD_LIMIT.get() {
        0 => usize::MAX,
        n => n,
    }
}

/// Reads the replica class of `client-output-buffer-limit`.
pub fn apply_config(cfg: &crate::config::Config) {
    let v = cfg.value("client-output-buffer-limit").unwrap_or("");
    let words: Vec<&str> = v.split_whitespace().collect();
    for w in words.chunks(4) {
        if let [class, hard, soft, secs] = w {
            if matches!(*class, "slave" | "replica") {
                if let Ok(n) = hard.parse::<usize>() {
                    HARD_LIMIT.set(n);
                }
                if let (Ok(n), Ok(t)) = (soft.parse::<usize>(), secs.parse::<u64>()) {
                    SOFT_LIMIT.set((n, t));
                }
            }
        }
    }
}

/// Drops the replicas that need bytes the backlog no longer has: they
/// went past the hard `client-output-buffer-limit` and resync when they
/// reconnect (Redis closes them "ASAP for overcoming of output buffer
/// limits"). Called after every trim.
pub fn drop_overrun(peers: &[Rc<Peer>], start: u64) {
    for p in peers {
        if p.sent.get().is_some_and(|s| s < start) && !p.closed.get() {
            p.drop_for_limits();
        }
    }
}

/// The soft `client-output-buffer-limit replica`: a replica more than
/// `soft` bytes behind for `seconds` in a row is dropped. Run by the cron.
pub fn check_soft_limit(ctl: &ControlCtx) {
    let (soft, secs) = SOFT_LIMIT.get();
    if soft == 0 || secs == 0 {
        return;
    }
    let now = now_ms();
    let offset = ctl.repl.backlog.borrow().offset();
    for p in ctl.repl.peers.borrow().iter() {
        let behind = p.sent.get().map_or(0, |s| offset.saturating_sub(s));
        if behind <= soft as u64 {
            p.soft_since_ms.set(0);
        } else if p.soft_since_ms.get() == 0 {
            p.soft_since_ms.set(now);
        } else if now - p.soft_since_ms.get() >= secs * 1000 && !p.closed.get() {
            p.drop_for_limits();
        }
    }
}

/// Takes over a replica's socket and serves it until the link ends.
pub fn attach(ctl: &Rc<ControlCtx>, a: Attach) {
    let ctl = ctl.clone();
    glommio::spawn_local(async move {
        let r = &ctl.repl;
        // SAFETY: the shard gave up this duplicate of the socket; from here
        // the stream owns it and closes it when dropped.
        let mut stream = unsafe { TcpStream::from_raw_fd(a.fd) };
        let linked = r
            .link()
            .map(|l| l.state.get() == super::replica::LinkState::Connected);
        if linked == Some(false) {
            let _ = stream
                .write_all(b"-NOMASTERLINK Can't SYNC while not connected with my master\r\n")
                .await;
            return;
        }
        let peer = Rc::new(Peer {
            id: r.next_peer_id(),
            ip: a.ip.clone(),
            port: a.port,
            fd: a.fd,
            state: Cell::new(PeerState::WaitBgsave),
            sent: Cell::new(None),
            ack: Cell::new(0),
            last_ack_ms: Cell::new(now_ms()),
            acked: Cell::new(false),
            pre_psync: a.psync.is_none(),
            soft_since_ms: Cell::new(0),
            closed: Cell::new(false),
        });
        start_feeding(&ctl).await;
        r.peers.borrow_mut().push(peer.clone());
        start_ack_reader(&ctl, &peer);
        let addr = format!("{}:{}", a.ip, a.port);
        match sync_and_stream(&ctl, &peer, &mut stream, &a).await {
            Ok(()) => tracing::info!("Connection with replica {addr} lost."),
            Err(e) => tracing::warn!("Replica {addr}: {e}; link closed"),
        }
        peer.kill();
        r.peers.borrow_mut().retain(|p| p.id != peer.id);
        r.notify.wake_all();
        drop(stream);
    })
    .detach();
}

/// The first replica (or one after a promotion) makes the shards feed
/// their streams to the backlog; waits until every shard does.
pub async fn start_feeding(ctl: &ControlCtx) {
    let r = &ctl.repl;
    if r.is_replica() {
        return;
    }
    r.backlog.borrow_mut().activate();
    if r.feeding.replace(true) {
        return;
    }
    crate::persistence::save::fan(ctl, |_| ShardRequest::FeedReplicas { on: true }).await;
}

async fn sync_and_stream(
    ctl: &Rc<ControlCtx>,
    peer: &Rc<Peer>,
    stream: &mut TcpStream,
    a: &Attach,
) -> Result<(), String> {
    let r = &ctl.repl;
    let io = |e: std::io::Error| e.to_string();
    let decision = match &a.psync {
        Some((id, off)) => r.backlog.borrow().psync(id, *off),
        None => Psync::Full {
            reason: "SYNC (not PSYNC) requested",
        },
    };
    let addr = format!("{}:{}", a.ip, a.port);
    match decision {
        Psync::Continue { from } => {
            let id = r.backlog.borrow().replid.clone();
            r.sync_partial_ok.set(r.sync_partial_ok.get() + 1);
            tracing::info!(
                "Partial resynchronization request from {addr} accepted. Sending {} bytes of backlog starting from offset {}.",
                r.backlog.borrow().offset() - from,
                from + 1
            );
            peer.sent.set(Some(from));
            peer.state.set(PeerState::Online);
            stream
                .write_all(format!("+CONTINUE {id}\r\n").as_bytes())
                .await
                .map_err(io)?;
        }
        Psync::Full { reason } => {
            if a.psync.as_ref().is_some_and(|(id, _)| id != "?") {
                r.sync_partial_err.set(r.sync_partial_err.get() + 1);
            }
            r.sync_full.set(r.sync_full.get() + 1);
            tracing::info!("Replica {addr} asks for synchronization; full resync: {reason}");
            let job = join_or_start_job(ctl);
            r.notify
                .until(|| job.offset.get().is_some() || job.result.borrow().is_some())
                .await;
            let Some(offset) = job.offset.get() else {
                return Err("the snapshot for the full sync failed".into());
            };
            peer.sent.set(Some(offset));
            if a.psync.is_some() {
                let id = r.backlog.borrow().replid.clone();
                stream
                    .write_all(format!("+FULLRESYNC {id} {offset}\r\n").as_bytes())
                    .await
                    .map_err(io)?;
            }
            let marked = send_rdb(ctl, peer, stream, &job, a.eof, &addr).await?;
            if peer.closed.get() {
                return Ok(());
            }
            peer.state.set(PeerState::Online);
            peer.last_ack_ms.set(now_ms());
            if marked {
                // The replica finds the end of an EOF-marked RDB by its last
                // 40 bytes, so nothing may follow them until it has loaded
                // the snapshot and says so with its first ACK (Redis's
                // repl_start_cmd_stream_on_ack). One that never does is
                // dropped after repl-timeout (`drop_timed_out`).
                r.notify
                    .until(|| peer.acked.get() || peer.closed.get())
                    .await;
                if peer.closed.get() {
                    return Ok(());
                }
            }
            tracing::info!("Synchronization with replica {addr} succeeded");
        }
    }
    stream_backlog(ctl, peer, stream).await
}

/// Sends a full sync's RDB as the job makes it: EOF-marked (`$EOF:<mark>`,
/// the bytes, the mark) to a replica that said `capa eof` while
/// `repl-diskless-sync` is yes, else as one bulk once the length is known.
/// True when it went EOF-marked.
async fn send_rdb(
    ctl: &ControlCtx,
    peer: &Peer,
    stream: &mut TcpStream,
    job: &SyncJob,
    capa_eof: bool,
    addr: &str,
) -> Result<bool, String> {
    let r = &ctl.repl;
    let io = |e: std::io::Error| e.to_string();
    let diskless = ctl
        .config
        .borrow()
        .bool("repl-diskless-sync")
        .unwrap_or(true);
    let mark = (diskless && capa_eof).then_some(&job.mark);
    if mark.is_none() {
        r.notify
            .until(|| job.result.borrow().is_some() || peer.closed.get())
            .await;
    }
    if peer.closed.get() {
        return Ok(false);
    }
    let failed = |job: &SyncJob| match job.result.borrow().as_ref() {
        Some(Err(e)) => Some(format!("snapshot failed: {e}")),
        _ => None,
    };
    if let Some(e) = failed(job) {
        return Err(e);
    }
    peer.state.set(PeerState::SendBulk);
    let head = match &mark {
        Some(m) => {
            tracing::info!("Streamed RDB transfer with replica {addr} started");
            format!("$EOF:{m}\r\n")
        }
        None => {
            let len = job.len.get();
            tracing::info!("Synchronization with replica {addr}: sending {len} bytes of RDB");
            format!("${len}\r\n")
        }
    };
    stream.write_all(head.as_bytes()).await.map_err(io)?;
    let mut next = 0;
    loop {
        let (pieces, done) = job.pieces(next);
        if pieces.is_empty() {
            if done {
                break;
            }
            if let Some(e) = failed(job) {
                return Err(e);
            }
            r.notify
                .until(|| {
                    job.bytes.borrow().len() > next
                        || job.result.borrow().is_some()
                        || peer.closed.get()
                })
                .await;
            if peer.closed.get() {
                return Ok(false);
            }
            continue;
        }
        for p in &pieces {
            stream.write_all(p).await.map_err(io)?;
        }
        next += pieces.len();
    }
    if let Some(m) = &mark {
        stream.write_all(m.as_bytes()).await.map_err(io)?;
    }
    Ok(mark.is_some())
}

/// Sends the backlog from `peer.sent` on, as it grows, until the link ends.
async fn stream_backlog(
    ctl: &ControlCtx,
    peer: &Peer,
    stream: &mut TcpStream,
) -> Result<(), String> {
    const MAX_WRITE: usize = 1 << 20;
    let r = &ctl.repl;
    loop {
        let Some(sent) = peer.sent.get() else {
            return Err("no stream position".into());
        };
        let chunk = {
            let b = r.backlog.borrow();
            match b.since(sent) {
                Some(s) => s[..s.len().min(MAX_WRITE)].to_vec(),
                None => {
                    return Err(
                        "replica fell behind the backlog (client-output-buffer-limit replica)"
                            .into(),
                    )
                }
            }
        };
        if chunk.is_empty() {
            r.notify
                .until(|| peer.closed.get() || r.backlog.borrow().offset() > sent)
                .await;
            if peer.closed.get() {
                return Ok(());
            }
            continue;
        }
        stream.write_all(&chunk).await.map_err(|e| e.to_string())?;
        peer.sent.set(Some(sent + chunk.len() as u64));
    }
}

/// The snapshot in progress for replicas, or a new one.
fn join_or_start_job(ctl: &Rc<ControlCtx>) -> Rc<SyncJob> {
    let r = &ctl.repl;
    if let Some(job) = r.sync_job.borrow().as_ref() {
        if job.result.borrow().is_none() {
            return job.clone();
        }
    }
    let job = Rc::new(SyncJob {
        mark: super::backlog::random_id(),
        ..SyncJob::default()
    });
    *r.sync_job.borrow_mut() = Some(job.clone());
    let (ctl, j) = (ctl.clone(), job.clone());
    glommio::spawn_local(async move {
        wait_for_more_replicas(&ctl).await;
        if let Err(e) = crate::persistence::save::stream_for_replicas(&ctl, &j).await {
            tracing::warn!("Snapshot for replicas failed: {e}");
            j.fail(e);
        }
        let r = &ctl.repl;
        let mine = r
            .sync_job
            .borrow()
            .as_ref()
            .is_some_and(|x| Rc::ptr_eq(x, &j));
        if mine {
            *r.sync_job.borrow_mut() = None;
        }
        r.notify.wake_all();
    })
    .detach();
    job
}

/// With `repl-diskless-sync`, waits `repl-diskless-sync-delay` seconds
/// before a snapshot starts, so replicas arriving together share it; or
/// less, once `repl-diskless-sync-max-replicas` (when not 0) are waiting.
async fn wait_for_more_replicas(ctl: &ControlCtx) {
    let (diskless, delay_s, max) = {
        let cfg = ctl.config.borrow();
        (
            cfg.bool("repl-diskless-sync").unwrap_or(true),
            cfg.int("repl-diskless-sync-delay").unwrap_or(5).max(0) as u64,
            cfg.int("repl-diskless-sync-max-replicas")
                .unwrap_or(0)
                .max(0) as usize,
        )
    };
    if !diskless || delay_s == 0 {
        return;
    }
    let deadline = now_ms() + delay_s * 1000;
    tracing::info!("Delay next BGSAVE for diskless SYNC");
    while now_ms() < deadline {
        let waiting = ctl
            .repl
            .peers
            .borrow()
            .iter()
            .filter(|p| p.state.get() == PeerState::WaitBgsave && !p.closed.get())
            .count();
        if max > 0 && waiting >= max {
            return;
        }
        glommio::timer::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads what the replica sends: `REPLCONF ACK <offset>` (and ignores
/// anything else, as Redis does for a replica client). Ends the link on
/// end of stream.
fn start_ack_reader(ctl: &Rc<ControlCtx>, peer: &Rc<Peer>) {
    // SAFETY: dup of an open socket; the new fd is owned by this stream.
    let fd = unsafe { libc::dup(peer.fd) };
    if fd < 0 {
        peer.kill();
        return;
    }
    let mut stream = unsafe { TcpStream::from_raw_fd(fd) };
    let (ctl, peer) = (ctl.clone(), peer.clone());
    glommio::spawn_local(async move {
        let mut buf = BytesMut::new();
        let mut chunk = vec![0u8; 4096];
        let mut decoder = RequestDecoder::new();
        let limits = Limits::default();
        loop {
            let n = match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            loop {
                match decoder.decode(&mut buf, &limits) {
                    Ok(Some(argv)) => {
                        if on_replica_command(&peer, &argv) {
                            ctl.repl.notify.wake_all();
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {
                        peer.kill();
                        break;
                    }
                }
            }
            if peer.closed.get() {
                break;
            }
        }
        peer.kill();
        ctl.repl.notify.wake_all();
    })
    .detach();
}

/// Takes a command from a replica; true on its first ACK.
fn on_replica_command(peer: &Peer, argv: &[Bytes]) -> bool {
    let is = |i: usize, w: &str| {
        argv.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(w.as_bytes()))
    };
    if is(0, "REPLCONF") && is(1, "ACK") {
        if let Some(off) = argv.get(2).and_then(|a| crate::util::num::parse_i64(a)) {
            peer.ack.set(off.max(0) as u64);
            peer.last_ack_ms.set(now_ms());
            return !peer.acked.replace(true);
        }
    }
    false
}

/// Drops online replicas that sent no ACK for `repl-timeout` seconds (not
/// those that came with SYNC: they never send one), as Redis's cron does.
pub fn drop_timed_out(ctl: &ControlCtx, timeout_s: u64) {
    let now = now_ms();
    let mut dropped = false;
    for p in ctl.repl.peers.borrow().iter() {
        if p.state.get() == PeerState::Online
            && !p.pre_psync
            && !p.closed.get()
            && now.saturating_sub(p.last_ack_ms.get()) > timeout_s * 1000
        {
            tracing::warn!(
                "Disconnecting timedout replica (streaming sync): {}:{}",
                p.ip,
                p.port
            );
            p.kill();
            dropped = true;
        }
    }
    if dropped {
        ctl.repl.notify.wake_all();
    }
}

/// `*3 REPLCONF GETACK *`, as Redis asks replicas for their offset.
const GETACK: &[u8] = b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";
/// What the master's cron sends every `repl-ping-replica-period`.
pub const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";

/// WAIT: how many replicas acknowledged every byte written so far, waiting
/// up to `timeout_ms` (0 = for ever) for `wanted` of them.
pub async fn wait(ctl: &ControlCtx, wanted: u64, timeout_ms: u64) -> u64 {
    let r = &ctl.repl;
    // Every shard hands over what it has written first, so the target
    // covers the caller's writes wherever they ran.
    crate::persistence::save::fan(ctl, |_| ShardRequest::FlushFeed).await;
    let target = r.backlog.borrow().offset();
    let count = || {
        r.peers
            .borrow()
            .iter()
            .filter(|p| p.state.get() == PeerState::Online && p.ack.get() >= target)
            .count() as u64
    };
    if count() >= wanted || r.peers.borrow().is_empty() {
        return count();
    }
    r.append(GETACK);
    let deadline = now_ms() + timeout_ms;
    loop {
        let n = count();
        if n >= wanted || (timeout_ms > 0 && now_ms() >= deadline) {
            return n;
        }
        glommio::timer::sleep(Duration::from_millis(5)).await;
    }
}

/// Ends every replica link (CLIENT KILL TYPE replica, a role change);
/// returns how many there were.
pub fn kill_peers(ctl: &ControlCtx) -> u64 {
    let peers = ctl.repl.peers.borrow();
    for p in peers.iter() {
        p.kill();
    }
    ctl.repl.notify.wake_all();
    peers.len() as u64
}

/// Replicas whose last ACK is at most `max_lag` seconds old (for
/// `min-replicas-to-write`).
pub fn good_replicas(ctl: &ControlCtx, max_lag_s: u64) -> usize {
    let now = now_ms();
    ctl.repl
        .peers
        .borrow()
        .iter()
        .filter(|p| {
            p.state.get() == PeerState::Online
                && now.saturating_sub(p.last_ack_ms.get()) / 1000 <= max_lag_s
        })
        .count()
}

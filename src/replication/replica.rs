//! The replica side: the link to this server's master (REPLICAOF). Runs
//! on: the control executor, one task per REPLICAOF, which stops when a
//! newer REPLICAOF replaces it.
//!
//! Link states, as Redis's `REPL_STATE_*`:
//! `Connect` (waiting to retry) → `Connecting` → `Handshake` (PING, AUTH,
//! REPLCONF listening-port / ip-address / capa eof psync2, PSYNC) →
//! `Transfer` (receiving the RDB after `+FULLRESYNC`) → `Connected`
//! (applying the stream, `REPLCONF ACK` every second). Any error goes back
//! to `Connect` and the link is retried a second later with PSYNC, so a
//! broken link resumes where it stopped when the master still has the bytes.
//!
//! The RDB is read whole and checked before anything is replaced: a master
//! that sends garbage, a short file or closes mid-transfer leaves the old
//! data in place (`repl-diskless-load disabled`, Redis's default).

use std::cell::Cell;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;

use crate::protocol::{Limits, RequestDecoder};
use crate::server::control::ControlCtx;
use crate::server::hop::{ShardReply, ShardRequest};
use crate::util::clock::now_ms;

/// Where the link is (Redis's `REPL_STATE_*`, as ROLE names them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    Connect,
    Connecting,
    Handshake,
    Transfer,
    Connected,
}

impl LinkState {
    fn role_name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Transfer => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// This server's link to its master. Owned by: the control executor.
pub struct MasterLink {
    pub host: String,
    pub port: u16,
    generation: u64,
    pub state: Cell<LinkState>,
    /// Unix ms of the last byte from the master.
    last_io_ms: Cell<u64>,
    /// Unix ms the link went down (0: it never was up).
    down_since_ms: Cell<u64>,
    /// The socket while connected (-1 otherwise), for CLIENT KILL.
    fd: Cell<i32>,
    /// Set by a snapshot for this server's own replicas: apply nothing
    /// until it has fixed its point in time.
    pub pause: Cell<bool>,
    /// A batch of the master's stream is being applied.
    pub applying: Cell<bool>,
    /// Whether a stream has been applied since the last full sync (ROLE
    /// shows -1 before).
    synced: Cell<bool>,
}

impl MasterLink {
    pub fn new(host: String, port: u16, generation: u64) -> MasterLink {
        MasterLink {
            host,
            port,
            generation,
            state: Cell::new(LinkState::Connect),
            last_io_ms: Cell::new(0),
            down_since_ms: Cell::new(0),
            fd: Cell::new(-1),
            pause: Cell::new(false),
            applying: Cell::new(false),
            synced: Cell::new(false),
        }
    }

    /// Ends the current connection (CLIENT KILL TYPE master); the task
    /// reconnects.
    pub fn kill(&self) -> bool {
        let fd = self.fd.replace(-1);
        if fd >= 0 {
            // SAFETY: the link task owns the socket and closes it only
            // after clearing `fd`; shutdown frees nothing.
            unsafe {
                libc::shutdown(fd, libc::SHUT_RDWR);
            }
        }
        fd >= 0
    }

    /// The replica lines of INFO replication (`role:slave` is written by the caller).
    pub fn info(
        &self,
        s: &mut String,
        now: u64,
        backlog: &super::backlog::Backlog,
        cfg: &crate::config::Config,
    ) {
        use std::fmt::Write;
        let up = self.state.get() == LinkState::Connected;
        let io = if self.fd.get() >= 0 && self.last_io_ms.get() > 0 {
            (now.saturating_sub(self.last_io_ms.get()) / 1000) as i64
        } else {
            -1
        };
        let _ = write!(
            s,
            "master_host:{}\r\nmaster_port:{}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:{io}\r\nmaster_sync_in_progress:{}\r\nslave_read_repl_offset:{}\r\nslave_repl_offset:{}\r\n",
            self.host,
            self.port,
            if up { "up" } else { "down" },
            u8::from(self.state.get() == LinkState::Transfer),
            backlog.offset(),
            backlog.offset(),
        );
        if !up {
            let since = match self.down_since_ms.get() {
                0 => -1,
                t => (now.saturating_sub(t) / 1000) as i64,
            };
            let _ = write!(s, "master_link_down_since_seconds:{since}\r\n");
        }
        let _ = write!(
            s,
            "slave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:{}\r\n",
            cfg.int("replica-priority").unwrap_or(100),
            u8::from(cfg.bool("replica-read-only").unwrap_or(true)),
            u8::from(cfg.bool("replica-announced").unwrap_or(true)),
        );
    }

    /// ROLE's reply for a replica: slave, host, port, state, offset.
    pub fn role(&self, offset: u64) -> crate::protocol::Reply {
        use crate::protocol::Reply;
        let off = if self.synced.get() { offset as i64 } else { -1 };
        Reply::Array(vec![
            Reply::Bulk(Bytes::from_static(b"slave")),
            Reply::Bulk(Bytes::from(self.host.clone())),
            Reply::Integer(self.port as i64),
            Reply::Bulk(Bytes::from_static(self.state.get().role_name().as_bytes())),
            Reply::Integer(off),
        ])
    }
}

/// Starts the link task of `link` (the current REPLICAOF).
pub fn start(ctl: &Rc<ControlCtx>, link: Rc<MasterLink>) {
    let ctl = ctl.clone();
    glommio::spawn_local(async move {
        let current = |ctl: &ControlCtx| ctl.repl.generation.get() == link.generation;
        tracing::info!("Connecting to MASTER {}:{}", link.host, link.port);
        while current(&ctl) {
            link.state.set(LinkState::Connecting);
            let r = run(&ctl, &link).await;
            link.fd.set(-1);
            if link.state.replace(LinkState::Connect) == LinkState::Connected {
                tell_link_up(&ctl, false);
            }
            if link.down_since_ms.get() == 0 || r.is_ok() {
                link.down_since_ms.set(now_ms());
            }
            if !current(&ctl) {
                break;
            }
            match r {
                Ok(()) => tracing::info!("Connection with master lost."),
                Err(e) => tracing::warn!("Master {}:{}: {e}", link.host, link.port),
            }
            glommio::timer::sleep(Duration::from_secs(1)).await;
            if current(&ctl) {
                tracing::info!("Reconnecting to MASTER {}:{}", link.host, link.port);
            }
        }
    })
    .detach();
}

/// Tells every shard whether the link is up (`replica-serve-stale-data`).
fn tell_link_up(ctl: &ControlCtx, up: bool) {
    for s in 0..ctl.nshards {
        ctl.mesh.tell(s, ShardRequest::MasterLinkUp(up));
    }
}

/// A connection to the master with a read buffer.
struct Wire {
    stream: TcpStream,
    buf: BytesMut,
    chunk: Vec<u8>,
}

impl Wire {
    async fn fill(&mut self) -> Result<usize, String> {
        match self.stream.read(&mut self.chunk).await {
            Ok(0) => Err("connection closed by the master".into()),
            Ok(n) => {
                self.buf.extend_from_slice(&self.chunk[..n]);
                Ok(n)
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// One reply line, without its line end.
    async fn line(&mut self) -> Result<String, String> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let line = self.buf.split_to(i + 1);
                let text = String::from_utf8_lossy(&line[..i]);
                return Ok(text.trim_end_matches('\r').to_string());
            }
            if self.buf.len() > 64 * 1024 {
                return Err("reply line too long".into());
            }
            self.fill().await?;
        }
    }

    async fn send(&mut self, parts: &[&[u8]]) -> Result<(), String> {
        let mut out = Vec::new();
        out.extend_from_slice(format!("*{}\r\n", parts.len()).as_bytes());
        for p in parts {
            out.extend_from_slice(format!("${}\r\n", p.len()).as_bytes());
            out.extend_from_slice(p);
            out.extend_from_slice(b"\r\n");
        }
        self.stream.write_all(&out).await.map_err(|e| e.to_string())
    }

    async fn call(&mut self, parts: &[&[u8]]) -> Result<String, String> {
        self.send(parts).await?;
        self.line().await
    }
}

/// One connection to the master, from connect to its end.
async fn run(ctl: &Rc<ControlCtx>, link: &Rc<MasterLink>) -> Result<(), String> {
    let cfg = ctl.config.borrow().clone();
    let timeout = Duration::from_secs(cfg.int("repl-timeout").unwrap_or(60).max(1) as u64);
    let addr = format!("{}:{}", link.host, link.port);
    let stream = TcpStream::connect_timeout(addr.as_str(), timeout)
        .await
        .map_err(|e| format!("Error condition on socket for SYNC: {e}"))?;
    let _ = stream.set_nodelay(true);
    link.fd.set(stream.as_raw_fd());
    link.state.set(LinkState::Handshake);
    tracing::info!("MASTER <-> REPLICA sync started");
    let mut w = Wire {
        stream,
        buf: BytesMut::new(),
        chunk: vec![0u8; 64 * 1024],
    };
    handshake(&mut w, &cfg).await?;
    let (id, off) = {
        let b = ctl.repl.backlog.borrow();
        (b.replid.clone(), b.offset() + 1)
    };
    let reply = w
        .call(&[b"PSYNC", id.as_bytes(), off.to_string().as_bytes()])
        .await?;
    if let Some(rest) = reply.strip_prefix("+FULLRESYNC ") {
        let mut it = rest.split_whitespace();
        let (Some(id), Some(off)) = (it.next(), it.next().and_then(|o| o.parse::<u64>().ok()))
        else {
            return Err(format!("Bad +FULLRESYNC reply: {reply}"));
        };
        tracing::info!("Full resync from master: {id}:{off}");
        link.state.set(LinkState::Transfer);
        full_sync(ctl, link, &mut w, id.to_string(), off).await?;
    } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        let new_id = rest.trim();
        tracing::info!("Successful partial resynchronization with master.");
        if !new_id.is_empty() && new_id != id {
            tracing::info!("Master replication ID changed to {new_id}");
            ctl.repl.backlog.borrow_mut().adopt_id(new_id.to_string());
            // Our replicas must learn the new ID: they reconnect and continue.
            super::primary::kill_peers(ctl);
        }
    } else {
        return Err(format!("Unexpected reply to PSYNC from master: {reply}"));
    }
    link.synced.set(true);
    link.state.set(LinkState::Connected);
    tell_link_up(ctl, true);
    link.last_io_ms.set(now_ms());
    tracing::info!("MASTER <-> REPLICA sync: Finished with success");
    stream_loop(ctl, link, &mut w, timeout).await
}

/// PING, AUTH, REPLCONF: Redis's `syncWithMaster` handshake.
async fn handshake(w: &mut Wire, cfg: &crate::config::Config) -> Result<(), String> {
    let pong = w.call(&[b"PING"]).await?;
    // Redis accepts an authentication error here: AUTH comes next.
    if pong.starts_with('-')
        && !pong.starts_with("-NOAUTH")
        && !pong.starts_with("-NOPERM")
        && !pong.starts_with("-ERR operation not permitted")
    {
        return Err(format!("Error reply to PING from master: '{pong}'"));
    }
    if let Some(pass) = cfg.value("masterauth").filter(|p| !p.is_empty()) {
        let reply = match cfg.value("masteruser").filter(|u| !u.is_empty()) {
            Some(user) => w.call(&[b"AUTH", user.as_bytes(), pass.as_bytes()]).await?,
            None => w.call(&[b"AUTH", pass.as_bytes()]).await?,
        };
        if reply.starts_with('-') {
            return Err(format!("Unable to AUTH to MASTER: {reply}"));
        }
    }
    let port = match cfg.int("replica-announce-port").unwrap_or(0) {
        0 => cfg.port() as i64,
        p => p,
    };
    let reply = w
        .call(&[b"REPLCONF", b"listening-port", port.to_string().as_bytes()])
        .await?;
    if reply.starts_with('-') {
        tracing::info!(
            "(Non critical) Master does not understand REPLCONF listening-port: {reply}"
        );
    }
    if let Some(ip) = cfg.value("replica-announce-ip").filter(|p| !p.is_empty()) {
        let reply = w.call(&[b"REPLCONF", b"ip-address", ip.as_bytes()]).await?;
        if reply.starts_with('-') {
            tracing::info!(
                "(Non critical) Master does not understand REPLCONF ip-address: {reply}"
            );
        }
    }
    let reply = w
        .call(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])
        .await?;
    if reply.starts_with('-') {
        tracing::info!("(Non critical) Master does not understand REPLCONF capa: {reply}");
    }
    Ok(())
}

/// Receives the RDB (`$<len>` or diskless `$EOF:<mark>`), checks and
/// parses it whole, then replaces the dataset with it.
async fn full_sync(
    ctl: &Rc<ControlCtx>,
    link: &MasterLink,
    w: &mut Wire,
    id: String,
    off: u64,
) -> Result<(), String> {
    // The master may send newlines while it prepares the snapshot.
    let preamble = loop {
        let line = w.line().await?;
        if !line.is_empty() {
            break line;
        }
    };
    if preamble.starts_with('-') {
        return Err(format!(
            "MASTER aborted replication with an error: {preamble}"
        ));
    }
    let Some(spec) = preamble.strip_prefix('$') else {
        return Err(format!(
            "Bad protocol from MASTER, the first byte is not '$' (we received '{preamble}')"
        ));
    };
    let cfg = std::sync::Arc::new(ctl.config.borrow().clone());
    let to_disk = cfg.value("repl-diskless-load").unwrap_or("disabled") == "disabled";
    let path = std::path::Path::new(cfg.dir()).join(format!(
        "temp-{}-replica-{}.rdb",
        std::process::id(),
        link.generation
    ));
    let mut sink = RdbSink::new(to_disk.then(|| path.clone()));
    let received = receive_rdb(link, w, spec, &mut sink).await;
    let rdb = match received {
        Ok(()) => sink.finish().await,
        Err(e) => Err(e),
    };
    let rdb = match rdb {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
    };
    tracing::info!(
        "MASTER <-> REPLICA sync: received {} bytes of RDB{}",
        sink.len,
        if to_disk { "" } else { " (diskless load)" }
    );
    let n = ctl.nshards;
    let prepared = glommio::executor()
        .spawn_blocking(move || prepare(rdb, &path, n, &cfg))
        .await
        .map_err(|e| format!("Failed trying to load the MASTER synchronization DB: {e}"))?;
    tracing::info!("MASTER <-> REPLICA sync: Flushing old data and loading the DB in memory");
    match prepared {
        Prepared::Parts(parts) => {
            // Each shard parses its own part aside, in parallel; all swap
            // in, or none does.
            let rxs: Vec<_> = parts
                .into_iter()
                .enumerate()
                .map(|(s, (data, start, len))| {
                    ctl.mesh
                        .request(s, ShardRequest::StagePart { data, start, len })
                })
                .collect();
            let mut failed = None;
            for rx in rxs {
                match rx.await {
                    Ok(ShardReply::Count(_)) => {}
                    Ok(ShardReply::Err(e)) => failed = failed.or(Some(e)),
                    _ => failed = failed.or(Some("a shard did not load its part".to_string())),
                }
            }
            let swap = failed.is_none();
            let rxs: Vec<_> = (0..n)
                .map(|s| ctl.mesh.request(s, ShardRequest::SwapStaged(swap)))
                .collect();
            crate::server::hop::gather(rxs).await;
            if let Some(e) = failed {
                return Err(format!(
                    "Failed trying to load the MASTER synchronization DB: {e}"
                ));
            }
        }
        Prepared::Loaded(loaded) => {
            let rxs: Vec<_> = loaded
                .shards
                .into_iter()
                .enumerate()
                .map(|(s, dbs)| {
                    ctl.mesh
                        .request(s, ShardRequest::LoadData { flush: true, dbs })
                })
                .collect();
            crate::server::hop::gather(rxs).await;
        }
    }
    // A new history: our own replicas must resync from it.
    super::primary::kill_peers(ctl);
    ctl.repl.backlog.borrow_mut().reset(id, off);
    apply(ctl, link, Vec::new(), true).await?;
    Ok(())
}

/// A received RDB, checked and ready for the shards.
enum Prepared {
    /// A tessera file or stream with one part per shard: each shard parses
    /// its own (bytes, start, length).
    Parts(Vec<crate::persistence::load::ShardPart>),
    /// Any other file, parsed here and split by shard.
    Loaded(crate::persistence::load::Loaded),
}

/// Off the executor: the RDB's bytes (`None`: in the temp file at `path`,
/// which is removed), checked, and split by part or parsed.
fn prepare(
    rdb: Option<Vec<u8>>,
    path: &std::path::Path,
    nshards: usize,
    cfg: &crate::config::Config,
) -> Result<Prepared, String> {
    use crate::persistence::load;
    let data = match rdb {
        Some(d) => d,
        None => {
            let d = std::fs::read(path);
            let _ = std::fs::remove_file(path);
            d.map_err(|e| format!("Can't read the temp file {}: {e}", path.display()))?
        }
    };
    let slots = crate::server::route::SlotMap::new(nshards);
    let enc = crate::shard::types::Encodings::of(cfg);
    let dbs = cfg.databases().max(1);
    let failed = |e: crate::persistence::rdb::RdbError| format!("Error loading the RDB file: {e}");
    match load::split(data, &slots, dbs, &enc, true, now_ms()).map_err(failed)? {
        Ok(parts) => Ok(Prepared::Parts(parts)),
        Err(data) => {
            load::read_bytes(path, &data, &slots, dbs, &enc, now_ms()).map(Prepared::Loaded)
        }
    }
}

/// Reads the RDB after `+FULLRESYNC` into `sink`: `$<len>` then that many
/// bytes, or diskless `$EOF:<40-byte mark>`, the bytes, the mark again.
async fn receive_rdb(
    link: &MasterLink,
    w: &mut Wire,
    spec: &str,
    sink: &mut RdbSink,
) -> Result<(), String> {
    const STEP: usize = 1 << 20;
    if let Some(mark) = spec.strip_prefix("EOF:") {
        let mark = mark.as_bytes().to_vec();
        if mark.len() != 40 {
            return Err("Bad EOF mark from MASTER".into());
        }
        loop {
            if w.buf.len() >= 40 && w.buf.ends_with(&mark) {
                let n = w.buf.len() - 40;
                sink.put(&w.buf.split_to(n)).await?;
                w.buf.clear();
                return Ok(());
            }
            // All but a possible start of the mark can go.
            if w.buf.len() > STEP + 40 {
                let n = w.buf.len() - 40;
                sink.put(&w.buf.split_to(n)).await?;
            }
            w.fill().await?;
            link.last_io_ms.set(now_ms());
        }
    }
    let mut left: usize = spec
        .parse()
        .map_err(|_| format!("Bad bulk length from MASTER: ${spec}"))?;
    loop {
        let n = left.min(w.buf.len());
        if n > 0 && (n == left || n >= STEP) {
            sink.put(&w.buf.split_to(n)).await?;
            left -= n;
        }
        if left == 0 {
            return Ok(());
        }
        w.fill().await?;
        link.last_io_ms.set(now_ms());
    }
}

/// Where a full sync's RDB goes as it arrives (`repl-diskless-load`): a
/// temp file in `dir` (`disabled`, Redis's default: the replica never
/// holds the transfer in memory), or memory (`on-empty-db`, `swapdb`).
/// Either way the old data stays until the new set is parsed whole.
struct RdbSink {
    path: Option<std::path::PathBuf>,
    file: Option<std::fs::File>,
    mem: Vec<u8>,
    len: usize,
}

impl RdbSink {
    /// Bytes kept in memory before they go to the file.
    const FLUSH_AT: usize = 8 << 20;

    fn new(path: Option<std::path::PathBuf>) -> RdbSink {
        RdbSink {
            path,
            file: None,
            mem: Vec::new(),
            len: 0,
        }
    }

    async fn put(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.mem.extend_from_slice(bytes);
        self.len += bytes.len();
        if self.path.is_some() && self.mem.len() >= Self::FLUSH_AT {
            self.flush().await?;
        }
        Ok(())
    }

    /// Appends what is in memory to the file (created on first use), off
    /// the executor.
    async fn flush(&mut self) -> Result<(), String> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        let (file, mut buf) = (self.file.take(), std::mem::take(&mut self.mem));
        let (file, buf) = glommio::executor()
            .spawn_blocking(move || {
                use std::io::Write;
                let mut f = match file {
                    Some(f) => f,
                    None => std::fs::File::create(&path)?,
                };
                f.write_all(&buf)?;
                buf.clear();
                Ok::<_, std::io::Error>((f, buf))
            })
            .await
            .map_err(|e| {
                format!("Opening the temp file needed for MASTER <-> REPLICA synchronization: {e}")
            })?;
        self.file = Some(file);
        self.mem = buf;
        Ok(())
    }

    /// The whole RDB: in memory (`Some`), or written to the file (`None`).
    async fn finish(&mut self) -> Result<Option<Vec<u8>>, String> {
        if self.path.is_none() {
            return Ok(Some(std::mem::take(&mut self.mem)));
        }
        self.flush().await?;
        self.file = None;
        Ok(None)
    }
}

/// Applies the master's stream until the link ends.
async fn stream_loop(
    ctl: &Rc<ControlCtx>,
    link: &MasterLink,
    w: &mut Wire,
    timeout: Duration,
) -> Result<(), String> {
    let _ = w.stream.set_read_timeout(Some(Duration::from_secs(1)));
    let limits = Limits {
        proto_max_bulk_len: u64::MAX >> 1,
        authenticated: true,
        ..Limits::default()
    };
    let mut decoder = RequestDecoder::new();
    let mut last_ack = 0u64;
    loop {
        // Every complete command read so far, in order; REPLCONF GETACK
        // is answered once everything before it is applied.
        let raw = w.buf.to_vec();
        let mut used = 0usize;
        let mut batch_from = 0usize;
        let mut batch = Vec::new();
        loop {
            let before = w.buf.len();
            let argv = match decoder.decode(&mut w.buf, &limits) {
                Ok(Some(argv)) => argv,
                Ok(None) => break,
                Err(e) => return Err(format!("protocol error in the master's stream: {e:?}")),
            };
            used += before - w.buf.len();
            let is = |i: usize, s: &str| {
                argv.get(i)
                    .is_some_and(|a| a.eq_ignore_ascii_case(s.as_bytes()))
            };
            if is(0, "REPLCONF") {
                if is(1, "GETACK") {
                    let upto = used - (before - w.buf.len());
                    apply(ctl, link, std::mem::take(&mut batch), false).await?;
                    ctl.repl.append(&raw[batch_from..upto]);
                    send_ack(ctl, w).await?;
                    last_ack = now_ms();
                    batch_from = upto;
                }
                continue;
            }
            if is(0, "PING") {
                continue;
            }
            batch.push(argv);
        }
        apply(ctl, link, batch, false).await?;
        ctl.repl.append(&raw[batch_from..used]);
        if now_ms().saturating_sub(last_ack) >= 1000 {
            send_ack(ctl, w).await?;
            last_ack = now_ms();
        }
        match w.stream.read(&mut w.chunk).await {
            Ok(0) => return Ok(()),
            Ok(n) => {
                w.buf.extend_from_slice(&w.chunk[..n]);
                link.last_io_ms.set(now_ms());
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                if now_ms().saturating_sub(link.last_io_ms.get()) > timeout.as_millis() as u64 {
                    return Err("MASTER timeout: no data nor PING received...".into());
                }
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

async fn send_ack(ctl: &ControlCtx, w: &mut Wire) -> Result<(), String> {
    let off = ctl.repl.backlog.borrow().offset().to_string();
    w.send(&[b"REPLCONF", b"ACK", off.as_bytes()]).await
}

/// Runs a batch of the master's commands through shard 0's master client
/// (`fresh`: a new client, after a full sync) and waits until it is done.
async fn apply(
    ctl: &ControlCtx,
    link: &MasterLink,
    cmds: Vec<Vec<Bytes>>,
    fresh: bool,
) -> Result<(), String> {
    if cmds.is_empty() && !fresh {
        return Ok(());
    }
    let r = &ctl.repl;
    r.notify.until(|| !link.pause.get()).await;
    link.applying.set(true);
    let reply = ctl
        .mesh
        .request(0, ShardRequest::ApplyFromMaster { cmds, fresh })
        .await;
    link.applying.set(false);
    r.notify.wake_all();
    match reply {
        Ok(ShardReply::Done) => Ok(()),
        _ => Err("applying the master's stream failed".into()),
    }
}

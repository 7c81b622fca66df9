//! Per-connection state: id, name, selected database, RESP version, auth,
//! reply mode, and what CLIENT LIST shows. Owned by: the shard whose listener
//! accepted the connection, for the connection's whole life.

use std::cell::{Cell, RefCell};

use bytes::Bytes;
use glommio::channels::local_channel::{self, LocalReceiver, LocalSender};

use futures_channel::oneshot;

use crate::protocol::RespVersion;
use crate::server::blocking::UnblockReason;

/// CLIENT REPLY mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Set by CLIENT REPLY SKIP: no reply to it, nor to the next command.
    SkipNext,
    /// Skip the reply of this command only, then back to `On`.
    Skip,
}

/// Owned by: the connection's shard.
pub struct Client {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub fd: i32,
    pub created_ms: u64,
    pub name: RefCell<Option<Bytes>>,
    pub db: Cell<usize>,
    pub resp: Cell<RespVersion>,
    pub authenticated: Cell<bool>,
    pub reply_mode: Cell<ReplyMode>,
    pub no_evict: Cell<bool>,
    pub last_interaction_ms: Cell<u64>,
    pub last_cmd: Cell<&'static str>,
    /// Sub-command of the last command when it is a container (CLIENT LIST …).
    pub last_sub: RefCell<Bytes>,
    pub lib_name: RefCell<Option<String>>,
    pub lib_ver: RefCell<Option<String>>,
    /// Set by QUIT or CLIENT KILL: close after flushing replies.
    pub closing: Cell<bool>,
    pub qbuf: Cell<usize>,
    /// MONITOR: lines to send (set once the client issued MONITOR).
    monitor_tx: RefCell<Option<LocalSender<Bytes>>>,
    monitor_rx: RefCell<Option<LocalReceiver<Bytes>>>,
    /// Set while the client waits in a blocking command: CLIENT UNBLOCK
    /// sends the reason through it.
    unblock: RefCell<Option<oneshot::Sender<UnblockReason>>>,
    /// MULTI: the queued commands (None outside a transaction).
    pub multi: RefCell<Option<MultiState>>,
    /// WATCHed keys, for EXEC's check.
    pub watched: RefCell<Vec<WatchedKey>>,
    /// Subscriptions and queued pushes (Pub/Sub).
    pub pubsub: super::pubsub::ClientPubsub,
    /// The master's stream runs as this client (on a replica): writes
    /// pass the read-only gate and nothing is replied.
    pub is_master: Cell<bool>,
    /// What a replica said in REPLCONF listening-port / ip-address.
    pub repl_port: Cell<u16>,
    pub repl_ip: RefCell<Option<String>>,
    /// It said `REPLCONF capa eof` (it reads an EOF-marked RDB).
    pub repl_capa_eof: Cell<bool>,
    /// PSYNC / SYNC gave the socket to the control executor: the
    /// connection ends without closing it.
    pub handed_over: Cell<bool>,
}

/// A transaction being queued (MULTI … EXEC).
#[derive(Default)]
pub struct MultiState {
    pub queue: Vec<Vec<Bytes>>,
    /// A command was rejected while queuing: EXEC answers EXECABORT.
    pub errored: bool,
}

/// One WATCHed key, with what its shard reported at WATCH time.
pub struct WatchedKey {
    pub shard: usize,
    pub db: usize,
    pub key: Bytes,
    /// The key's modification count then.
    pub seen: u64,
    /// Whether it existed then.
    pub existed: bool,
}

impl Client {
    pub fn new(
        id: u64,
        addr: String,
        laddr: String,
        fd: i32,
        now: u64,
        authenticated: bool,
    ) -> Client {
        Client {
            id,
            addr,
            laddr,
            fd,
            created_ms: now,
            name: RefCell::new(None),
            db: Cell::new(0),
            resp: Cell::new(RespVersion::Resp2),
            authenticated: Cell::new(authenticated),
            reply_mode: Cell::new(ReplyMode::On),
            no_evict: Cell::new(false),
            last_interaction_ms: Cell::new(now),
            last_cmd: Cell::new("NULL"),
            last_sub: RefCell::new(Bytes::new()),
            lib_name: RefCell::new(None),
            lib_ver: RefCell::new(None),
            closing: Cell::new(false),
            qbuf: Cell::new(0),
            monitor_tx: RefCell::new(None),
            monitor_rx: RefCell::new(None),
            unblock: RefCell::new(None),
            multi: RefCell::new(None),
            watched: RefCell::new(Vec::new()),
            pubsub: Default::default(),
            is_master: Cell::new(false),
            repl_port: Cell::new(0),
            repl_ip: RefCell::new(None),
            repl_capa_eof: Cell::new(false),
            handed_over: Cell::new(false),
        }
    }

    /// Marks the client blocked; the receiver yields a CLIENT UNBLOCK.
    pub fn start_blocking(&self) -> oneshot::Receiver<UnblockReason> {
        let (tx, rx) = oneshot::channel();
        *self.unblock.borrow_mut() = Some(tx);
        rx
    }

    pub fn end_blocking(&self) {
        self.unblock.borrow_mut().take();
    }

    pub fn is_blocked(&self) -> bool {
        self.unblock.borrow().is_some()
    }

    /// CLIENT UNBLOCK: true when the client was blocked (and is now woken).
    pub fn unblock(&self, reason: UnblockReason) -> bool {
        match self.unblock.borrow_mut().take() {
            Some(tx) => tx.send(reason).is_ok(),
            None => false,
        }
    }

    pub fn is_monitor(&self) -> bool {
        self.monitor_tx.borrow().is_some()
    }

    /// Turns this client into a MONITOR client; false if it already is one.
    pub fn start_monitor(&self) -> bool {
        if self.is_monitor() {
            return false;
        }
        let (tx, rx) = local_channel::new_unbounded();
        *self.monitor_tx.borrow_mut() = Some(tx);
        *self.monitor_rx.borrow_mut() = Some(rx);
        true
    }

    pub fn stop_monitor(&self) {
        *self.monitor_tx.borrow_mut() = None;
        *self.monitor_rx.borrow_mut() = None;
    }

    /// The receiving end of the MONITOR feed, for the connection loop.
    pub fn take_monitor_feed(&self) -> Option<LocalReceiver<Bytes>> {
        self.monitor_rx.borrow_mut().take()
    }

    pub fn push_monitor(&self, line: Bytes) {
        if let Some(tx) = self.monitor_tx.borrow().as_ref() {
            let _ = tx.try_send(line);
        }
    }

    /// Closes the connection from outside its task (CLIENT KILL): shutting the
    /// socket down wakes the pending read, which then sees end of stream.
    pub fn kill(&self) {
        self.closing.set(true);
        // SAFETY: `fd` is this connection's open socket; shutdown() does not
        // free it (the connection task closes it when it ends).
        unsafe {
            libc::shutdown(self.fd, libc::SHUT_RDWR);
        }
    }

    fn full_cmd_name(&self) -> String {
        let sub = self.last_sub.borrow();
        if sub.is_empty() {
            self.last_cmd.get().to_string()
        } else {
            format!(
                "{}|{}",
                self.last_cmd.get(),
                String::from_utf8_lossy(&sub).to_ascii_lowercase()
            )
        }
    }

    /// One CLIENT LIST / CLIENT INFO line, fields as Redis 7.0 prints them
    /// (`catClientInfoString`).
    pub fn info_line(&self, now: u64) -> String {
        let name = self
            .name
            .borrow()
            .as_ref()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();
        let age = now.saturating_sub(self.created_ms) / 1000;
        let idle = now.saturating_sub(self.last_interaction_ms.get()) / 1000;
        let resp = match self.resp.get() {
            RespVersion::Resp2 => 2,
            RespVersion::Resp3 => 3,
        };
        let subs = self.pubsub.counts();
        let mut flags = String::new();
        if self.is_monitor() {
            flags.push('O');
        }
        if self.pubsub.is_active() {
            flags.push('P');
        }
        if self.multi.borrow().is_some() {
            flags.push('x');
        }
        if self.is_blocked() {
            flags.push('b');
        }
        if self.no_evict.get() {
            flags.push('e');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} user=default redir=-1 resp={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            name,
            age,
            idle,
            flags,
            self.db.get(),
            subs.0,
            subs.1,
            subs.2,
            self.multi
                .borrow()
                .as_ref()
                .map_or(-1, |m| m.queue.len() as i64),
            self.qbuf.get(),
            self.full_cmd_name(),
            resp
        )
    }
}

/// CLIENT KILL filters (Redis 7.0 new-style, and the old `ip:port` form).
#[derive(Clone, Debug, Default)]
pub struct KillFilter {
    pub id: Option<u64>,
    pub addr: Option<String>,
    pub laddr: Option<String>,
    /// normal | master | replica | pubsub
    pub kind: Option<String>,
    pub user: Option<String>,
    /// Client to spare (SKIPME yes): the caller's id.
    pub skip: Option<u64>,
    pub max_age_s: Option<u64>,
}

impl KillFilter {
    pub fn matches(&self, c: &Client, now: u64) -> bool {
        if self.skip == Some(c.id) {
            return false;
        }
        if self.id.is_some_and(|id| id != c.id) {
            return false;
        }
        if self.addr.as_ref().is_some_and(|a| *a != c.addr) {
            return false;
        }
        if self.laddr.as_ref().is_some_and(|a| *a != c.laddr) {
            return false;
        }
        // Matches getClientType: a subscribed client is of type pubsub.
        match self.kind.as_deref() {
            None => {}
            Some("normal") if !c.pubsub.is_active() => {}
            Some("pubsub") if c.pubsub.is_active() => {}
            Some(_) => return false,
        }
        if self.user.as_ref().is_some_and(|u| u != "default") {
            return false;
        }
        if let Some(max) = self.max_age_s {
            if now.saturating_sub(c.created_ms) / 1000 < max {
                return false;
            }
        }
        true
    }
}

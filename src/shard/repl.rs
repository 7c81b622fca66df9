//! A shard's replication stream: every write the shard applies, in effect
//! form (what happened, not what was asked: a relative TTL as PXAT, a float
//! increment as the SET of its result, a blocked pop as the pop done, an
//! expired key as DEL), encoded as RESP commands exactly as a Redis master
//! feeds its replicas, with SELECT whenever the database changes.
//! Owned by: each shard.
//!
//! The stream is a byte offset and the newest bytes (the backlog, bounded
//! by `repl-backlog-size`). Its consumers: the append-only file
//! (`take_aof`), an append-only file rewrite in progress (`take_rewrite`:
//! the writes made since its point in time, for the new file), the control
//! executor's merged stream for replicas (`take_feed`, sent by the shard's
//! feeder task) and DEBUG REPL-STREAM.
//!
//! A write made for a transaction that spans shards (a cross-shard
//! command, or an EXEC) is kept out of the feed while replicas are fed:
//! it goes to that transaction's capture, which the coordinator collects
//! (`seal`) before it unlocks, so the control executor can put every
//! shard's part into one MULTI/EXEC block of the merged stream. A capture
//! not collected goes to the feed when the transaction unlocks (`release`).

use std::task::Waker;

use bytes::Bytes;

use super::lock::TxId;

/// Default `repl-backlog-size`.
const BACKLOG: usize = 1024 * 1024;

pub struct ReplStream {
    /// Whether the stream is kept in `backlog` for DEBUG REPL-STREAM
    /// (`keep_record`). Without it, and with no append-only file, rewrite
    /// or replica feed to copy writes to, a write is not encoded at all:
    /// nothing would read it (Redis likewise keeps no backlog until a
    /// replica attaches).
    record: bool,
    /// Bytes appended since the shard started (while recording).
    offset: u64,
    /// The newest bytes, at most `limit` of them (between `limit` and twice
    /// that before a trim).
    backlog: Vec<u8>,
    limit: usize,
    /// Database of the last command written (a SELECT precedes a change).
    db: Option<usize>,
    /// Bytes not yet written to the append-only file, when there is one.
    aof: Option<Vec<u8>>,
    /// While an AOF rewrite runs: the writes since its point in time, not
    /// yet appended to the new file (they go to the current file too).
    rewrite: Option<Vec<u8>>,
    /// Bytes not yet sent to the control executor for the replicas, while
    /// this server feeds replicas.
    feed: Option<Vec<u8>>,
    /// Database of the feed's last command: the feed skips captured
    /// writes, so it keeps its own (a SELECT precedes a change).
    feed_db: Option<usize>,
    /// The parts of transactions in progress, kept out of the feed.
    captures: Vec<Capture>,
    /// Held: a snapshot for a replica fixed its point in time and the
    /// control executor has not read the stream offset yet.
    feed_hold: bool,
    /// The feeder task, parked until there are bytes to send.
    feed_waker: Option<Waker>,
}

impl Default for ReplStream {
    fn default() -> Self {
        ReplStream {
            record: true,
            offset: 0,
            backlog: Vec::new(),
            limit: BACKLOG,
            db: None,
            aof: None,
            rewrite: None,
            feed: None,
            feed_db: None,
            captures: Vec::new(),
            feed_hold: false,
            feed_waker: None,
        }
    }
}

/// One transaction's writes on this shard, in stream form, each database
/// change with its SELECT (the first command has one).
struct Capture {
    txid: TxId,
    bytes: Vec<u8>,
    db: Option<usize>,
}

impl ReplStream {
    /// Appends one write: its commands, in `db`, made for transaction `tx`
    /// if any. Several commands (the parts of one cross-shard write) go
    /// inside MULTI / EXEC.
    pub fn append(&mut self, tx: Option<TxId>, db: usize, cmds: &[Vec<Bytes>]) {
        if self.unread() {
            return;
        }
        match cmds {
            [] => {}
            [one] => self.append_one(tx, db, one),
            _ => {
                let (start, selected) = self.begin(db);
                put(&mut self.backlog, &[b"MULTI".as_slice()]);
                for cmd in cmds {
                    put(&mut self.backlog, cmd);
                }
                put(&mut self.backlog, &[b"EXEC".as_slice()]);
                self.route(start, selected, Some(db), tx, cmds);
                self.end(start);
            }
        }
    }

    /// Appends one command as it was sent (the common case: the arguments
    /// are copied into the backlog and nowhere else).
    pub fn append_one(&mut self, tx: Option<TxId>, db: usize, argv: &[Bytes]) {
        if self.unread() {
            return;
        }
        let (start, selected) = self.begin(db);
        put(&mut self.backlog, argv);
        self.route(start, selected, Some(db), tx, &[argv]);
        self.end(start);
    }

    /// A command for every database (FLUSHALL, SWAPDB): no SELECT needed.
    pub fn append_global(&mut self, cmd: &[&[u8]]) {
        if self.unread() {
            return;
        }
        let start = self.backlog.len();
        put(&mut self.backlog, cmd);
        self.route::<&[Bytes]>(start, false, None, None, &[]);
        self.end(start);
    }

    /// Keeps (or stops keeping) the stream for DEBUG REPL-STREAM; set once
    /// at start-up, from `enable-debug-command`.
    pub fn keep_record(&mut self, on: bool) {
        self.record = on;
        if !on {
            self.backlog = Vec::new();
        }
    }

    /// True when no one would read this write: it is skipped, and the
    /// next one that is encoded starts with a SELECT.
    fn unread(&mut self) -> bool {
        let unread =
            !self.record && self.aof.is_none() && self.rewrite.is_none() && self.feed.is_none();
        if unread {
            self.db = None;
        }
        unread
    }

    /// Writes SELECT when the database changes; returns where the write
    /// starts and whether it wrote one.
    fn begin(&mut self, db: usize) -> (usize, bool) {
        let start = self.backlog.len();
        let change = self.db != Some(db);
        if change {
            put_select(&mut self.backlog, db);
            self.db = Some(db);
        }
        (start, change)
    }

    /// Copies the write that starts at `start` (with a SELECT there when
    /// `selected`) to the feed, or, when it was made for transaction `tx`,
    /// its commands to that transaction's capture. `db` is `None` for a
    /// command of every database.
    fn route<C: AsRef<[Bytes]>>(
        &mut self,
        start: usize,
        selected: bool,
        db: Option<usize>,
        tx: Option<TxId>,
        cmds: &[C],
    ) {
        let Some(feed) = &mut self.feed else {
            return;
        };
        if let (Some(txid), Some(db)) = (tx, db) {
            let at = match self.captures.iter().position(|c| c.txid == txid) {
                Some(at) => at,
                None => {
                    self.captures.push(Capture {
                        txid,
                        bytes: Vec::new(),
                        db: None,
                    });
                    self.captures.len() - 1
                }
            };
            let c = &mut self.captures[at];
            if c.db != Some(db) {
                put_select(&mut c.bytes, db);
                c.db = Some(db);
            }
            for cmd in cmds {
                put(&mut c.bytes, cmd.as_ref());
            }
            return;
        }
        if let Some(db) = db {
            if !selected && self.feed_db != Some(db) {
                put_select(feed, db);
            }
            self.feed_db = Some(db);
        }
        feed.extend_from_slice(&self.backlog[start..]);
        if let Some(w) = self.feed_waker.take() {
            w.wake();
        }
    }

    /// Transaction `txid`'s writes on this shard since it began (empty if
    /// none), for its MULTI/EXEC block; the capture ends.
    pub fn seal(&mut self, txid: TxId) -> Vec<u8> {
        match self.captures.iter().position(|c| c.txid == txid) {
            Some(at) => self.captures.swap_remove(at).bytes,
            None => Vec::new(),
        }
    }

    /// Transaction `txid` unlocks without its part sealed: its writes go
    /// to the feed after everything written so far (the transaction's
    /// locks kept every later write there off its keys).
    pub fn release(&mut self, txid: TxId) {
        let Some(at) = self.captures.iter().position(|c| c.txid == txid) else {
            return;
        };
        let c = self.captures.swap_remove(at);
        if let Some(feed) = &mut self.feed {
            feed.extend_from_slice(&c.bytes);
            self.feed_db = c.db;
            if let Some(w) = self.feed_waker.take() {
                w.wake();
            }
        }
    }

    /// Whether bytes wait in the feed (a held feed keeps them).
    pub fn feed_pending(&self) -> bool {
        self.feed.as_ref().is_some_and(|f| !f.is_empty())
    }

    /// Whether this shard feeds the replicas' stream.
    pub fn feeding(&self) -> bool {
        self.feed.is_some()
    }

    /// Starts copying every write for the append-only file (`take_aof`);
    /// the next write begins with a SELECT.
    pub fn enable_aof(&mut self) {
        self.aof = Some(Vec::new());
        self.db = None;
    }

    /// The bytes written since the last call, for the append-only file.
    pub fn take_aof(&mut self) -> Vec<u8> {
        self.aof.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Starts copying every write for an AOF rewrite's new file (called at
    /// the rewrite's point in time); the next write begins with a SELECT,
    /// since the new file's base leaves no database selected.
    pub fn start_rewrite(&mut self) {
        self.rewrite = Some(Vec::new());
        self.db = None;
    }

    /// The writes copied for the rewrite since the last call.
    pub fn take_rewrite(&mut self) -> Vec<u8> {
        self.rewrite
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Bytes waiting in `take_rewrite`.
    pub fn rewrite_pending(&self) -> usize {
        self.rewrite.as_ref().map_or(0, Vec::len)
    }

    /// The rewrite is over (swapped in or abandoned): stop copying.
    pub fn stop_rewrite(&mut self) {
        self.rewrite = None;
    }

    /// Starts (or stops) keeping the writes for the replicas' stream.
    pub fn set_feed(&mut self, on: bool) {
        self.feed = on.then(Vec::new);
        self.feed_db = None;
        self.captures.clear();
    }

    /// The bytes for the replicas' stream written since the last call
    /// (empty while held). The next write begins with a SELECT, so each
    /// taken chunk stands on its own when the control executor merges
    /// the shards' chunks.
    pub fn take_feed(&mut self) -> Vec<u8> {
        if self.feed_hold {
            return Vec::new();
        }
        match &mut self.feed {
            Some(f) if !f.is_empty() => {
                self.feed_db = None;
                std::mem::take(f)
            }
            _ => Vec::new(),
        }
    }

    /// Whether there are bytes for `take_feed`; if not, `waker` is woken
    /// when there are.
    pub fn feed_ready(&mut self, waker: &Waker) -> bool {
        let ready = !self.feed_hold && self.feed.as_ref().is_some_and(|f| !f.is_empty());
        if !ready {
            self.feed_waker = Some(waker.clone());
        }
        ready
    }

    /// Holds (or releases) the feed: see `feed_hold`.
    pub fn hold_feed(&mut self, hold: bool) {
        self.feed_hold = hold;
        if !hold {
            if let Some(w) = self.feed_waker.take() {
                w.wake();
            }
        }
    }

    /// Counts the bytes written since `start` and trims the backlog.
    fn end(&mut self, start: usize) {
        if let Some(aof) = &mut self.aof {
            aof.extend_from_slice(&self.backlog[start..]);
        }
        if let Some(rw) = &mut self.rewrite {
            rw.extend_from_slice(&self.backlog[start..]);
        }
        if !self.record {
            // Copied where it goes; the buffer keeps its capacity.
            self.backlog.clear();
            return;
        }
        self.offset += (self.backlog.len() - start) as u64;
        if self.backlog.len() > 2 * self.limit {
            let cut = self.backlog.len() - self.limit;
            self.backlog.drain(..cut);
        }
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The newest bytes of the stream (at most the backlog size).
    pub fn backlog(&self) -> &[u8] {
        let keep = self.backlog.len().min(self.limit);
        &self.backlog[self.backlog.len() - keep..]
    }
}

/// One command in RESP: `*<n>`, then `$<len>` and the bytes of each part.
/// Runs on every write, so lengths under 100 (nearly all headers) skip the
/// general number formatting and the buffer grows at most once. Also writes
/// the commands of an AOF rewrite's RESP base.
pub fn put<P: AsRef<[u8]>>(out: &mut Vec<u8>, parts: &[P]) {
    let payload: usize = parts.iter().map(|p| p.as_ref().len() + 16).sum();
    out.reserve(payload + 16);
    header(out, b'*', parts.len());
    for p in parts {
        let p = p.as_ref();
        header(out, b'$', p.len());
        out.extend_from_slice(p);
        out.extend_from_slice(b"\r\n");
    }
}

/// `SELECT <db>`.
fn put_select(out: &mut Vec<u8>, db: usize) {
    let n = db.to_string();
    put(out, &[b"SELECT".as_slice(), n.as_bytes()]);
}

/// `<lead><n>\r\n`.
fn header(out: &mut Vec<u8>, lead: u8, n: usize) {
    // Digits of n < 100 are computed, not formatted: `as u8` cannot truncate.
    match n {
        0..=9 => out.extend_from_slice(&[lead, b'0' + n as u8, b'\r', b'\n']),
        10..=99 => out.extend_from_slice(&[
            lead,
            b'0' + (n / 10) as u8,
            b'0' + (n % 10) as u8,
            b'\r',
            b'\n',
        ]),
        _ => {
            out.push(lead);
            crate::util::num::write_i64(n as i64, out);
            out.extend_from_slice(b"\r\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(parts: &[&str]) -> Vec<Bytes> {
        parts
            .iter()
            .map(|p| Bytes::copy_from_slice(p.as_bytes()))
            .collect()
    }

    #[test]
    fn select_on_db_change_and_multi_for_several() {
        let mut s = ReplStream::default();
        s.append(None, 0, &[cmd(&["SET", "k", "v"])]);
        s.append(None, 0, &[cmd(&["DEL", "k"])]);
        s.append(None, 2, &[cmd(&["DEL", "a"]), cmd(&["DEL", "b"])]);
        let text = String::from_utf8(s.backlog().to_vec()).unwrap();
        assert_eq!(
            text,
            "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n\
             *2\r\n$3\r\nDEL\r\n$1\r\nk\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n\
             *1\r\n$5\r\nMULTI\r\n*2\r\n$3\r\nDEL\r\n$1\r\na\r\n*2\r\n$3\r\nDEL\r\n$1\r\nb\r\n\
             *1\r\n$4\r\nEXEC\r\n"
        );
        assert_eq!(s.offset(), text.len() as u64);
    }

    #[test]
    fn headers_of_every_width() {
        let mut s = ReplStream::default();
        let long = "x".repeat(100);
        s.append_global(&[b"SET".as_slice(), b"0123456789", long.as_bytes(), b""]);
        let text = String::from_utf8(s.backlog().to_vec()).unwrap();
        assert_eq!(
            text,
            format!("*4\r\n$3\r\nSET\r\n$10\r\n0123456789\r\n$100\r\n{long}\r\n$0\r\n\r\n")
        );
    }

    #[test]
    fn unread_writes_are_not_kept() {
        let mut s = ReplStream::default();
        s.keep_record(false);
        s.append(None, 2, &[cmd(&["SET", "a", "1"])]);
        assert!(s.backlog().is_empty());
        assert_eq!(s.offset(), 0);
        // A consumer that starts later gets whole commands, SELECT first.
        s.set_feed(true);
        s.enable_aof();
        s.append(None, 2, &[cmd(&["SET", "b", "2"])]);
        let select_set = b"*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*3\r\n$3\r\nSET\r\n$1\r\nb";
        assert!(s.take_feed().starts_with(select_set));
        assert!(s.take_aof().starts_with(select_set));
        assert!(s.backlog().is_empty());
    }

    #[test]
    fn each_feed_chunk_selects_its_db() {
        let mut s = ReplStream::default();
        s.append(None, 1, &[cmd(&["SET", "a", "1"])]);
        assert!(s.take_feed().is_empty());
        s.set_feed(true);
        s.append(None, 1, &[cmd(&["SET", "a", "1"])]);
        let one = s.take_feed();
        s.append(None, 1, &[cmd(&["SET", "b", "2"])]);
        s.hold_feed(true);
        assert!(s.take_feed().is_empty());
        s.hold_feed(false);
        let two = s.take_feed();
        assert!(one.starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n*3"));
        assert!(two.starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n*3"));
    }

    #[test]
    fn transaction_writes_stay_out_of_the_feed_until_sealed_or_released() {
        let select0 = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n";
        let set = |k: &str| format!("*3\r\n$3\r\nSET\r\n$1\r\n{k}\r\n$1\r\nv\r\n");
        let mut s = ReplStream::default();
        s.set_feed(true);
        s.append(Some(7), 0, &[cmd(&["SET", "a", "v"])]);
        s.append(None, 0, &[cmd(&["SET", "z", "v"])]);
        s.append(
            Some(8),
            0,
            &[cmd(&["SET", "b", "v"]), cmd(&["SET", "c", "v"])],
        );
        // The feed selects its db although the backlog did for `a` only.
        assert_eq!(s.take_feed(), format!("{select0}{}", set("z")).as_bytes());
        assert_eq!(s.seal(7), format!("{select0}{}", set("a")).as_bytes());
        assert!(s.seal(7).is_empty());
        // A part never sealed joins the feed at unlock, without MULTI.
        s.release(8);
        assert_eq!(
            s.take_feed(),
            format!("{select0}{}{}", set("b"), set("c")).as_bytes()
        );
        // The backlog (and AOF) keep every write in place.
        let text = String::from_utf8(s.backlog().to_vec()).unwrap();
        assert!(text.starts_with(&format!(
            "{select0}{}{}*1\r\n$5\r\nMULTI",
            set("a"),
            set("z")
        )));
        // Not feeding: nothing captured.
        s.set_feed(false);
        s.append(Some(9), 0, &[cmd(&["SET", "d", "v"])]);
        assert!(s.seal(9).is_empty());
    }

    #[test]
    fn rewrite_copy_starts_with_select_and_stops() {
        let mut s = ReplStream::default();
        s.append(None, 3, &[cmd(&["SET", "a", "1"])]);
        assert!(s.take_rewrite().is_empty());
        s.start_rewrite();
        s.append(None, 3, &[cmd(&["SET", "b", "2"])]);
        let pending = s.rewrite_pending();
        let first = s.take_rewrite();
        assert_eq!(pending, first.len());
        assert!(first.starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*3"));
        s.append(None, 3, &[cmd(&["SET", "c", "3"])]);
        let tail = s.take_rewrite();
        assert!(tail.starts_with(b"*3\r\n$3\r\nSET\r\n$1\r\nc"));
        s.start_rewrite();
        s.append(None, 3, &[cmd(&["SET", "d", "4"])]);
        assert!(s
            .take_rewrite()
            .starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"));
        s.stop_rewrite();
        s.append(None, 3, &[cmd(&["SET", "e", "5"])]);
        assert!(s.take_rewrite().is_empty());
    }

    #[test]
    fn backlog_is_bounded() {
        let mut s = ReplStream {
            limit: 100,
            ..ReplStream::default()
        };
        for i in 0..100 {
            s.append(None, 0, &[cmd(&["SET", "key", &i.to_string()])]);
        }
        assert!(s.backlog().len() <= 100);
        assert!(s.offset() > 1000);
    }
}

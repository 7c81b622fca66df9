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

use std::task::Waker;

use bytes::Bytes;

/// Default `repl-backlog-size`.
const BACKLOG: usize = 1024 * 1024;

pub struct ReplStream {
    /// Bytes appended since the shard started.
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
    /// Held: a snapshot for a replica fixed its point in time and the
    /// control executor has not read the stream offset yet.
    feed_hold: bool,
    /// The feeder task, parked until there are bytes to send.
    feed_waker: Option<Waker>,
}

impl Default for ReplStream {
    fn default() -> Self {
        ReplStream {
            offset: 0,
            backlog: Vec::new(),
            limit: BACKLOG,
            db: None,
            aof: None,
            rewrite: None,
            feed: None,
            feed_hold: false,
            feed_waker: None,
        }
    }
}

impl ReplStream {
    /// Appends one write: its commands, in `db`. Several commands (the
    /// parts of one cross-shard write) go inside MULTI / EXEC.
    pub fn append(&mut self, db: usize, cmds: &[Vec<Bytes>]) {
        match cmds {
            [] => {}
            [one] => self.append_one(db, one),
            _ => {
                let start = self.begin(db);
                put(&mut self.backlog, &[b"MULTI".as_slice()]);
                for cmd in cmds {
                    put(&mut self.backlog, cmd);
                }
                put(&mut self.backlog, &[b"EXEC".as_slice()]);
                self.end(start);
            }
        }
    }

    /// Appends one command as it was sent (the common case: the arguments
    /// are copied into the backlog and nowhere else).
    pub fn append_one(&mut self, db: usize, argv: &[Bytes]) {
        let start = self.begin(db);
        put(&mut self.backlog, argv);
        self.end(start);
    }

    /// A command for every database (FLUSHALL, SWAPDB): no SELECT needed.
    pub fn append_global(&mut self, cmd: &[&[u8]]) {
        let start = self.backlog.len();
        put(&mut self.backlog, cmd);
        self.end(start);
    }

    /// Writes SELECT when the database changes; returns where the write starts.
    fn begin(&mut self, db: usize) -> usize {
        let start = self.backlog.len();
        if self.db != Some(db) {
            let n = db.to_string();
            put(&mut self.backlog, &[b"SELECT".as_slice(), n.as_bytes()]);
            self.db = Some(db);
        }
        start
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
        self.db = None;
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
                self.db = None;
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
        if let Some(feed) = &mut self.feed {
            feed.extend_from_slice(&self.backlog[start..]);
            if let Some(w) = self.feed_waker.take() {
                w.wake();
            }
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
        s.append(0, &[cmd(&["SET", "k", "v"])]);
        s.append(0, &[cmd(&["DEL", "k"])]);
        s.append(2, &[cmd(&["DEL", "a"]), cmd(&["DEL", "b"])]);
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
    fn each_feed_chunk_selects_its_db() {
        let mut s = ReplStream::default();
        s.append(1, &[cmd(&["SET", "a", "1"])]);
        assert!(s.take_feed().is_empty());
        s.set_feed(true);
        s.append(1, &[cmd(&["SET", "a", "1"])]);
        let one = s.take_feed();
        s.append(1, &[cmd(&["SET", "b", "2"])]);
        s.hold_feed(true);
        assert!(s.take_feed().is_empty());
        s.hold_feed(false);
        let two = s.take_feed();
        assert!(one.starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n*3"));
        assert!(two.starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n*3"));
    }

    #[test]
    fn rewrite_copy_starts_with_select_and_stops() {
        let mut s = ReplStream::default();
        s.append(3, &[cmd(&["SET", "a", "1"])]);
        assert!(s.take_rewrite().is_empty());
        s.start_rewrite();
        s.append(3, &[cmd(&["SET", "b", "2"])]);
        let pending = s.rewrite_pending();
        let first = s.take_rewrite();
        assert_eq!(pending, first.len());
        assert!(first.starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*3"));
        s.append(3, &[cmd(&["SET", "c", "3"])]);
        let tail = s.take_rewrite();
        assert!(tail.starts_with(b"*3\r\n$3\r\nSET\r\n$1\r\nc"));
        s.start_rewrite();
        s.append(3, &[cmd(&["SET", "d", "4"])]);
        assert!(s
            .take_rewrite()
            .starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"));
        s.stop_rewrite();
        s.append(3, &[cmd(&["SET", "e", "5"])]);
        assert!(s.take_rewrite().is_empty());
    }

    #[test]
    fn backlog_is_bounded() {
        let mut s = ReplStream {
            limit: 100,
            ..ReplStream::default()
        };
        for i in 0..100 {
            s.append(0, &[cmd(&["SET", "key", &i.to_string()])]);
        }
        assert!(s.backlog().len() <= 100);
        assert!(s.offset() > 1000);
    }
}

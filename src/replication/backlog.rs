//! The replication backlog of the whole server: the one PSYNC2 stream a
//! Redis-protocol replica sees — replication ID, byte offset, the newest
//! bytes — and the partial-resync decision (Redis's `masterTryPartialResynchronization`).
//! Owned by: the control executor. Sans-IO: bytes in, decisions out.
//!
//! Offsets are Redis's: `offset` counts every byte ever written to the
//! stream (`master_repl_offset`); a replica that has the bytes up to `o`
//! asks `PSYNC <replid> <o + 1>`. The buffer holds the bytes `start..offset`.

/// What PSYNC gets.
#[derive(Debug, PartialEq, Eq)]
pub enum Psync {
    /// `+CONTINUE`: send the stream from this offset (bytes already held).
    Continue { from: u64 },
    /// `+FULLRESYNC`: the replica needs a snapshot. `reason` is for the log.
    Full { reason: &'static str },
}

pub struct Backlog {
    pub replid: String,
    /// The ID this server's history had before the last promotion
    /// (`master_replid2`), valid up to `second_offset - 1`.
    pub replid2: String,
    /// `second_repl_offset`: -1 when there is no second ID.
    pub second_offset: i64,
    offset: u64,
    /// Offset of `buf[0]`.
    start: u64,
    buf: Vec<u8>,
    /// `repl-backlog-size`.
    pub size: usize,
    /// Created on the first replica (`repl_backlog_active`).
    pub active: bool,
}

pub const NO_ID: &str = "0000000000000000000000000000000000000000";

impl Backlog {
    pub fn new(replid: String, size: usize) -> Backlog {
        Backlog {
            replid,
            replid2: NO_ID.to_string(),
            second_offset: -1,
            offset: 0,
            start: 0,
            buf: Vec::new(),
            size: size.max(16 * 1024),
            active: false,
        }
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// First offset still held (`repl_backlog_first_byte_offset` - 1).
    pub fn start(&self) -> u64 {
        self.start
    }

    pub fn histlen(&self) -> u64 {
        self.offset - self.start
    }

    /// Appends stream bytes. Nothing is kept before the backlog is active,
    /// but the offset always counts.
    pub fn append(&mut self, bytes: &[u8]) {
        self.offset += bytes.len() as u64;
        if self.active {
            self.buf.extend_from_slice(bytes);
        } else {
            self.start = self.offset;
        }
    }

    /// Drops old bytes, keeping at least `size` of them, and everything from
    /// `keep_from` on (a replica still being sent them) while that stays
    /// under `hard_limit` bytes; past it the lagging replica loses out.
    pub fn trim(&mut self, keep_from: Option<u64>, hard_limit: usize) {
        let by_size = self.offset.saturating_sub(self.size as u64);
        let mut cut_to = by_size;
        if let Some(k) = keep_from {
            if self.offset - k <= hard_limit as u64 {
                cut_to = cut_to.min(k);
            }
        }
        let cut_to = cut_to.max(self.start);
        // Trim in big steps: draining the front of a Vec moves the rest.
        if cut_to - self.start > (self.size as u64 / 2).max(64 * 1024) {
            let n = (cut_to - self.start) as usize;
            self.buf.drain(..n);
            self.start = cut_to;
        }
    }

    /// The bytes from `from` to the end; `None` when they are gone.
    pub fn since(&self, from: u64) -> Option<&[u8]> {
        if from < self.start || from > self.offset {
            return None;
        }
        self.buf.get((from - self.start) as usize..)
    }

    /// Starts keeping bytes (the first replica arrived).
    pub fn activate(&mut self) {
        if !self.active {
            self.active = true;
            self.start = self.offset;
            self.buf.clear();
        }
    }

    /// `repl-backlog-ttl` ran out with no replica: the bytes go, and a new
    /// ID starts (nobody can continue a history that is not kept).
    pub fn free(&mut self, new_id: String) {
        self.replid = new_id;
        self.replid2 = NO_ID.to_string();
        self.second_offset = -1;
        self.start = self.offset;
        self.buf = Vec::new();
        self.active = false;
    }

    /// PSYNC `replid` `psync_offset`: partial when the replica's history is
    /// ours (the current ID, or the previous one up to where it ended) and
    /// the bytes it lacks are still held.
    pub fn psync(&self, replid: &str, psync_offset: i64) -> Psync {
        if replid == "?" || psync_offset < 0 {
            return Psync::Full {
                reason: "Full resync requested by replica",
            };
        }
        let same = replid == self.replid;
        let prev = replid == self.replid2 && psync_offset <= self.second_offset;
        if !same && !prev {
            return Psync::Full {
                reason: "Replication ID mismatch",
            };
        }
        // The replica has the bytes before `psync_offset` (1-based).
        let have = psync_offset as u64 - 1;
        if !self.active || have < self.start || have > self.offset {
            return Psync::Full {
                reason: "Requested offset is out of the backlog range",
            };
        }
        Psync::Continue { from: have }
    }

    /// A promotion (`shiftReplicationId`): the old ID stays valid up to the
    /// current offset, a new one starts.
    pub fn shift_id(&mut self, new_id: String) {
        self.replid2 = std::mem::replace(&mut self.replid, new_id);
        self.second_offset = self.offset as i64 + 1;
    }

    /// A full sync from a master: its ID and offset, nothing held before.
    pub fn reset(&mut self, replid: String, offset: u64) {
        self.replid = replid;
        self.replid2 = NO_ID.to_string();
        self.second_offset = -1;
        self.offset = offset;
        self.start = offset;
        self.buf.clear();
        self.active = true;
    }

    /// `+CONTINUE <new id>` from a master that was promoted since.
    pub fn adopt_id(&mut self, new_id: String) {
        if new_id != self.replid {
            self.shift_id(new_id);
        }
    }

    /// The backlog's INFO replication lines.
    pub fn info(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = write!(
            out,
            "master_replid:{}\r\nmaster_replid2:{}\r\nmaster_repl_offset:{}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\nrepl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{}\r\nrepl_backlog_histlen:{}\r\n",
            self.replid,
            self.replid2,
            self.offset,
            self.second_offset,
            u8::from(self.active),
            self.size,
            if self.active { self.start + 1 } else { 0 },
            self.histlen(),
        );
    }
}

/// 40 random hex digits (a replication ID or run ID).
pub fn random_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut s = String::with_capacity(40);
    let mut n = 0u64;
    while s.len() < 40 {
        let mut h = ahash::RandomState::new().build_hasher();
        h.write_u64(crate::util::clock::now_ms());
        h.write_u64(n);
        n += 1;
        s.push_str(&format!("{:016x}", h.finish()));
    }
    s.truncate(40);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active(size: usize) -> Backlog {
        let mut b = Backlog::new("a".repeat(40), size);
        b.activate();
        b
    }

    #[test]
    fn offsets_count_before_activation_but_bytes_are_not_kept() {
        let mut b = Backlog::new("a".repeat(40), 1 << 20);
        b.append(b"0123456789");
        assert_eq!(b.offset(), 10);
        assert_eq!(b.histlen(), 0);
        b.activate();
        b.append(b"abc");
        assert_eq!(b.since(10), Some(&b"abc"[..]));
        assert_eq!(b.since(9), None);
        let mut s = String::new();
        b.info(&mut s);
        assert!(s.contains("repl_backlog_first_byte_offset:11\r\n"));
        assert!(s.contains("repl_backlog_histlen:3\r\n"));
    }

    #[test]
    fn psync_decisions() {
        let id = "a".repeat(40);
        let mut b = active(1 << 20);
        b.append(&[b'x'; 100]);
        assert_eq!(b.psync(&id, 101), Psync::Continue { from: 100 });
        assert_eq!(b.psync(&id, 1), Psync::Continue { from: 0 });
        assert!(matches!(b.psync(&id, 102), Psync::Full { .. }));
        assert!(matches!(b.psync("?", -1), Psync::Full { .. }));
        assert!(matches!(b.psync(&"b".repeat(40), 50), Psync::Full { .. }));
        // After a promotion the old ID still continues up to the switch.
        b.shift_id("c".repeat(40));
        b.append(&[b'y'; 10]);
        assert_eq!(b.second_offset, 101);
        assert_eq!(b.psync(&id, 101), Psync::Continue { from: 100 });
        assert!(matches!(b.psync(&id, 105), Psync::Full { .. }));
        assert_eq!(b.psync(&"c".repeat(40), 111), Psync::Continue { from: 110 });
    }

    #[test]
    fn trim_keeps_the_size_and_what_a_replica_needs() {
        let mut b = active(16 * 1024);
        for _ in 0..100 {
            b.append(&[b'x'; 4096]);
            b.trim(None, 1 << 30);
        }
        assert!(b.histlen() >= 16 * 1024);
        assert!(b.histlen() < 200 * 1024);
        let keep = b.offset();
        for _ in 0..100 {
            b.append(&[b'y'; 4096]);
            b.trim(Some(keep), 1 << 30);
        }
        assert!(b.since(keep).is_some());
        // Over the hard limit the lagging replica's bytes go.
        for _ in 0..100 {
            b.append(&[b'z'; 4096]);
            b.trim(Some(keep), 300 * 1024);
        }
        assert!(b.since(keep).is_none());
    }
}

//! The slow log (Redis's `slowlog.c`): commands that ran longer than
//! `slowlog-log-slower-than` microseconds, newest first, at most
//! `slowlog-max-len` entries. Owned by: each shard (SLOWLOG GET merges the
//! shards' logs by time).

use std::collections::VecDeque;

use bytes::Bytes;

/// Arguments kept per entry (`SLOWLOG_ENTRY_MAX_ARGC`).
const MAX_ARGC: usize = 32;
/// Bytes kept per argument (`SLOWLOG_ENTRY_MAX_STRING`).
const MAX_STRING: usize = 128;

#[derive(Clone, Debug)]
pub struct SlowEntry {
    pub id: u64,
    /// Unix seconds.
    pub time: u64,
    pub micros: u64,
    pub args: Vec<Bytes>,
    pub addr: String,
    pub name: Bytes,
}

/// Owned by: each shard.
#[derive(Default)]
pub struct SlowLog {
    entries: VecDeque<SlowEntry>,
    next_id: u64,
}

impl SlowLog {
    /// Records a command, trimming its arguments as Redis's
    /// `slowlogCreateEntry` does. `id_stride`/`id_offset` make ids unique
    /// across shards.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        argv: &[Bytes],
        micros: u64,
        time: u64,
        addr: String,
        name: Bytes,
        max_len: usize,
        id_stride: u64,
        id_offset: u64,
    ) {
        let mut args = Vec::with_capacity(argv.len().min(MAX_ARGC));
        for (i, a) in argv.iter().enumerate() {
            if i == MAX_ARGC - 1 && argv.len() > MAX_ARGC {
                let more = argv.len() - MAX_ARGC + 1;
                args.push(Bytes::from(format!("... ({more} more arguments)")));
                break;
            }
            if a.len() > MAX_STRING {
                let mut s = a[..MAX_STRING].to_vec();
                s.extend_from_slice(
                    format!("... ({} more bytes)", a.len() - MAX_STRING).as_bytes(),
                );
                args.push(Bytes::from(s));
            } else {
                args.push(Bytes::copy_from_slice(a));
            }
        }
        let id = self.next_id * id_stride + id_offset;
        self.next_id += 1;
        self.entries.push_front(SlowEntry {
            id,
            time,
            micros,
            args,
            addr,
            name,
        });
        self.entries.truncate(max_len);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn reset(&mut self) {
        self.entries.clear();
    }

    /// The newest `count` entries.
    pub fn newest(&self, count: usize) -> Vec<SlowEntry> {
        self.entries.iter().take(count).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_like_redis() {
        let mut log = SlowLog::default();
        let argv: Vec<Bytes> = (0..40).map(|i| Bytes::from(format!("a{i}"))).collect();
        log.push(&argv, 5, 1, "a:1".into(), Bytes::new(), 2, 1, 0);
        let e = &log.newest(1)[0];
        assert_eq!(e.args.len(), 32);
        assert_eq!(e.args[31], Bytes::from("... (9 more arguments)"));
        let long = vec![Bytes::from(vec![b'x'; 130])];
        log.push(&long, 5, 1, "a:1".into(), Bytes::new(), 2, 1, 0);
        assert!(log.newest(1)[0].args[0].ends_with(b"... (2 more bytes)"));
        log.push(&long, 5, 1, "a:1".into(), Bytes::new(), 2, 1, 0);
        assert_eq!(log.len(), 2);
        assert_eq!(log.newest(5)[0].id, 2);
    }
}

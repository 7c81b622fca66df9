//! A shard's data: its logical databases (keys, values, expiry) and counters.
//! Owned by: each shard, one per core; never shared, never locked. No RESP,
//! no sockets: the server layer turns requests into calls on this.

pub mod db;
pub mod lock;
pub mod repl;
pub mod slowlog;
pub mod snapshot;
pub mod types;
pub mod value;

use db::Db;

/// Owned by: each shard.
pub struct Shard {
    pub dbs: Vec<Db>,
    /// Writes since the last save (`rdb_changes_since_last_save`).
    pub dirty: u64,
    /// Whether the active expire cycle runs (DEBUG SET-ACTIVE-EXPIRE).
    pub active_expire: bool,
    /// How many clients WATCH each (db, key) of this shard.
    watchers: std::collections::HashMap<(usize, bytes::Bytes), u32>,
    /// Every write applied here, in effect form.
    pub repl: repl::ReplStream,
}

impl Shard {
    pub fn new(databases: usize) -> Shard {
        Shard {
            dbs: (0..databases.max(1)).map(|_| Db::new()).collect(),
            dirty: 0,
            active_expire: true,
            watchers: Default::default(),
            repl: repl::ReplStream::default(),
        }
    }

    /// Puts a DEL on the replication stream for each key of db `db` that
    /// expired since the last call (`None`: every db).
    pub fn log_expired(&mut self, db: Option<usize>) {
        // One database (every keyed command but COPY / MOVE): index it
        // rather than walk all sixteen.
        let range = match db {
            Some(i) => i..i + 1,
            None => 0..self.dbs.len(),
        };
        for i in range {
            let Some(d) = self.dbs.get_mut(i) else {
                continue;
            };
            for k in d.take_expired() {
                let del = vec![bytes::Bytes::from_static(b"DEL"), k];
                self.repl.append(None, i, &[del]);
            }
        }
    }

    /// WATCH: one more watcher of `key`. Returns the key's modification
    /// count and whether it exists, for `watch_dirty` at EXEC.
    pub fn watch(&mut self, db: usize, key: &bytes::Bytes, now: u64) -> (u64, bool) {
        let Some(d) = self.dbs.get_mut(db) else {
            return (0, false);
        };
        *self.watchers.entry((db, key.clone())).or_insert(0) += 1;
        d.watch(key, now)
    }

    /// One watcher of `key` fewer (UNWATCH, EXEC, DISCARD, disconnect).
    pub fn unwatch(&mut self, db: usize, key: &bytes::Bytes) {
        let slot = (db, key.clone());
        let Some(n) = self.watchers.get_mut(&slot) else {
            return;
        };
        *n -= 1;
        if *n == 0 {
            self.watchers.remove(&slot);
            if let Some(d) = self.dbs.get_mut(db) {
                d.unwatch(key);
            }
        }
    }

    /// Whether a watched key changed since WATCH saw it at modification
    /// count `seen`: modified, or (Redis's `isWatchedKeyExpired`) it existed
    /// then and has expired since, even if nobody touched it.
    pub fn watch_dirty(
        &mut self,
        db: usize,
        key: &[u8],
        seen: u64,
        existed: bool,
        now: u64,
    ) -> bool {
        let Some(d) = self.dbs.get_mut(db) else {
            return true;
        };
        if d.watch_count(key) != Some(seen) {
            return true;
        }
        existed && d.peek(key, now).is_none()
    }

    /// SWAPDB: swaps the data; watchers stay with the index, and their keys
    /// that exist on either side count as modified.
    pub fn swap_dbs(&mut self, a: usize, b: usize, now: u64) {
        if a >= self.dbs.len() || b >= self.dbs.len() || a == b {
            return;
        }
        {
            let (lo, hi) = self.dbs.split_at_mut(a.max(b));
            Db::snapshot_before_swap(&mut lo[a.min(b)], &mut hi[0]);
        }
        self.dbs.swap(a, b);
        let (lo, hi) = self.dbs.split_at_mut(a.max(b));
        let (x, y) = (&mut lo[a.min(b)], &mut hi[0]);
        Db::swap_watched(x, y);
        x.touch_existing_watched(now);
        y.touch_existing_watched(now);
        // A key present only before the swap is now in the other db.
        Db::swap_watched(x, y);
        x.touch_existing_watched(now);
        y.touch_existing_watched(now);
        Db::swap_watched(x, y);
        self.dirty += 1;
    }

    /// One run of the active expire cycle over every database; returns the
    /// number of keys removed. `budget` bounds the work per run so a shard
    /// never stalls its clients (Redis's `ACTIVE_EXPIRE_CYCLE_*` limits).
    pub fn expire_cycle(&mut self, now: u64, budget: usize) -> usize {
        if !self.active_expire {
            return 0;
        }
        let mut done = 0;
        for db in &mut self.dbs {
            done += db.expire_cycle(now, budget.saturating_sub(done));
        }
        self.log_expired(None);
        done
    }

    /// An order-independent digest of this shard's data (DEBUG DIGEST): the
    /// XOR of a fixed-seed hash of every (db, key, value, deadline). Equal
    /// datasets give equal digests in any process; the shards' digests XOR
    /// together into the server's.
    pub fn digest(&self, now: u64) -> [u64; 3] {
        let mut acc = [0u64; 3];
        for (i, db) in self.dbs.iter().enumerate() {
            db.for_each(now, |k, e| {
                let h = digest_entry(i, k, e);
                for (a, x) in acc.iter_mut().zip(h) {
                    *a ^= x;
                }
            });
        }
        acc
    }

    pub fn stats(&self, now: u64) -> ShardStats {
        let mut s = ShardStats {
            dirty: self.dirty,
            ..ShardStats::default()
        };
        for db in &self.dbs {
            let st = db.stats();
            s.hits += st.hits;
            s.misses += st.misses;
            s.expired += st.expired;
            s.used_memory += db.approx_memory() as u64;
            s.keyspace.push(KeyspaceStats {
                keys: db.len() as u64,
                expires: db.expires_len() as u64,
                avg_ttl: db.avg_ttl(now),
            });
        }
        s
    }
}

/// Per-database sizes for INFO keyspace.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyspaceStats {
    pub keys: u64,
    pub expires: u64,
    pub avg_ttl: u64,
}

/// A snapshot of one shard's counters, summed over shards for INFO.
#[derive(Clone, Debug, Default)]
pub struct ShardStats {
    pub hits: u64,
    pub misses: u64,
    pub expired: u64,
    pub dirty: u64,
    pub used_memory: u64,
    pub commands: u64,
    pub connections: u64,
    pub rejected: u64,
    pub clients: u64,
    /// Clients waiting in a blocking command (INFO `blocked_clients`).
    pub blocked_clients: u64,
    pub net_input: u64,
    pub net_output: u64,
    pub keyspace: Vec<KeyspaceStats>,
}

impl ShardStats {
    /// Adds `other` into `self` (INFO sums every shard).
    pub fn add(&mut self, other: &ShardStats) {
        self.hits += other.hits;
        self.misses += other.misses;
        self.expired += other.expired;
        self.dirty += other.dirty;
        self.used_memory += other.used_memory;
        self.commands += other.commands;
        self.connections += other.connections;
        self.rejected += other.rejected;
        self.clients += other.clients;
        self.blocked_clients += other.blocked_clients;
        self.net_input += other.net_input;
        self.net_output += other.net_output;
        if self.keyspace.len() < other.keyspace.len() {
            self.keyspace
                .resize(other.keyspace.len(), KeyspaceStats::default());
        }
        for (a, b) in self.keyspace.iter_mut().zip(&other.keyspace) {
            // Weighted mean of the average TTLs.
            let total = a.expires + b.expires;
            if let Some(avg) = (a.avg_ttl * a.expires + b.avg_ttl * b.expires).checked_div(total) {
                a.avg_ttl = avg;
            }
            a.keys += b.keys;
            a.expires = total;
        }
    }
}

/// Fixed-seed hashes of one entry (same value in every process), for digests.
pub fn digest_entry(db: usize, key: &[u8], e: &value::Entry) -> [u64; 3] {
    use std::hash::{BuildHasher, Hasher};
    let mut out = [0u64; 3];
    for (i, o) in out.iter_mut().enumerate() {
        let seed = 0x7e55_e7a0 + i as u64;
        let mut h =
            ahash::RandomState::with_seeds(seed, seed * 3, seed * 5, seed * 7).build_hasher();
        h.write_usize(db);
        h.write(key);
        value_digest(&e.value, &mut h);
        h.write_u64(e.expire_at);
        *o = h.finish();
    }
    out
}

fn value_digest(v: &value::Value, h: &mut impl std::hash::Hasher) {
    match v {
        value::Value::Str(s) => {
            let mut scratch = Vec::new();
            h.write_u8(0);
            h.write(s.as_slice(&mut scratch));
        }
        value::Value::List(l) => {
            // Elements in order, each length-prefixed so ["ab"] != ["a","b"].
            h.write_u8(1);
            h.write_usize(l.len());
            for e in l.iter() {
                h.write_usize(e.len());
                h.write(e);
            }
        }
        // Unordered collections: the XOR of one hash per element, so the
        // digest does not depend on iteration order (as Redis's `xorDigest`).
        value::Value::Hash(m) => {
            h.write_u8(2);
            let mut acc = 0u64;
            m.for_each(|f, v| acc ^= element_hash(&[f, v]));
            h.write_u64(acc);
        }
        value::Value::Set(m) => {
            h.write_u8(3);
            let mut acc = 0u64;
            m.for_each(|e| acc ^= element_hash(&[e]));
            h.write_u64(acc);
        }
        value::Value::ZSet(z) => {
            h.write_u8(4);
            let mut acc = 0u64;
            z.for_each(|e, score| acc ^= element_hash(&[e, &score.to_bits().to_le_bytes()]));
            h.write_u64(acc);
        }
    }
}

/// Fixed-seed hash of one collection element's parts, length-prefixed.
fn element_hash(parts: &[&[u8]]) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = ahash::RandomState::with_seeds(1, 2, 3, 4).build_hasher();
    for p in parts {
        h.write_usize(p.len());
        h.write(p);
    }
    h.finish()
}

/// Renders a digest as DEBUG DIGEST does (40 hex digits, all zeros when empty).
pub fn digest_hex(d: [u64; 3]) -> String {
    let mut s = format!("{:016x}{:016x}{:016x}", d[0], d[1], d[2]);
    s.truncate(40);
    s
}

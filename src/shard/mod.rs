//! A shard's data: its logical databases (keys, values, expiry) and counters.
//! Owned by: each shard, one per core; never shared, never locked. No RESP,
//! no sockets: the server layer turns requests into calls on this.

pub mod db;
pub mod lock;
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
}

impl Shard {
    pub fn new(databases: usize) -> Shard {
        Shard {
            dbs: (0..databases.max(1)).map(|_| Db::new()).collect(),
            dirty: 0,
            active_expire: true,
        }
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
        done
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

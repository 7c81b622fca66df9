//! Loading an RDB file into the shards, at start-up (before any shard
//! serves, so the server never runs on half a dataset) and for DEBUG
//! RELOAD. The file is parsed in one pass; each key goes to the shard that
//! owns its slot. Runs on: the main thread at boot; the control executor's
//! blocking pool for DEBUG RELOAD.

use std::path::Path;
use std::time::Instant;

use bytes::Bytes;

use super::rdb::{self, Record};
use crate::server::route::SlotMap;
use crate::shard::types::Encodings;
use crate::shard::value::Entry;
use crate::shard::Shard;

/// Per database, the keys one shard gets.
pub type ShardData = Vec<Vec<(Bytes, Entry)>>;

/// A parsed file, split by owning shard.
pub struct Loaded {
    /// Indexed by shard, then database.
    pub shards: Vec<ShardData>,
    pub keys: u64,
    /// Keys left out because their deadline had passed.
    pub expired: u64,
}

/// Reads and parses `path`. `Ok(None)` when there is no such file.
pub fn read(
    path: &Path,
    slots: &SlotMap,
    databases: usize,
    enc: &Encodings,
    checksum: bool,
    now: u64,
) -> Result<Option<Loaded>, String> {
    let started = Instant::now();
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("Fatal error loading the DB: {e}. Exiting.")),
    };
    let mut loaded = Loaded {
        shards: (0..slots.nshards())
            .map(|_| (0..databases).map(|_| Vec::new()).collect())
            .collect(),
        keys: 0,
        expired: 0,
    };
    let mut too_many_dbs = false;
    let mut sink = |r: Record| match r {
        Record::Aux { key, value } => log_aux(&key, &value, now),
        Record::ResizeDb { .. } => {}
        Record::Entry { db, key, entry } => {
            if entry.expire_at != 0 && entry.expire_at <= now {
                loaded.expired += 1;
                return;
            }
            let shard = slots.shard_of_key(&key).0;
            match loaded.shards.get_mut(shard).and_then(|s| s.get_mut(db)) {
                Some(v) => {
                    v.push((key, entry));
                    loaded.keys += 1;
                }
                None => too_many_dbs = true,
            }
        }
    };
    rdb::load(&data, enc, checksum, &mut sink).map_err(|e| {
        format!(
            "Error loading the RDB file {}: {e}. The server will not start on part of a dataset.",
            path.display()
        )
    })?;
    if too_many_dbs {
        return Err(format!(
            "FATAL: Data file was created with a Redis server configured to handle more than {databases} databases. Exiting"
        ));
    }
    tracing::info!(
        "Done loading RDB, keys loaded: {}, keys expired: {}.",
        loaded.keys,
        loaded.expired
    );
    tracing::debug!(
        "RDB parsed in {:.3} seconds",
        started.elapsed().as_secs_f64()
    );
    Ok(Some(loaded))
}

fn log_aux(key: &[u8], value: &[u8], now: u64) {
    let v = String::from_utf8_lossy(value);
    match key {
        b"redis-ver" => tracing::info!("Loading RDB produced by version {v}"),
        b"ctime" => {
            if let Ok(t) = v.parse::<u64>() {
                tracing::info!("RDB age {} seconds", (now / 1000).saturating_sub(t));
            }
        }
        b"used-mem" => {
            if let Ok(m) = v.parse::<u64>() {
                tracing::info!(
                    "RDB memory usage when created {:.2} Mb",
                    m as f64 / (1024.0 * 1024.0)
                );
            }
        }
        _ => {}
    }
}

/// Puts one shard's share into its databases, after emptying them when
/// `flush` (DEBUG RELOAD). Nothing is propagated: this is not a write.
pub fn install(shard: &mut Shard, data: ShardData, flush: bool, now: u64) {
    if flush {
        for db in &mut shard.dbs {
            db.clear();
        }
    }
    for (db, entries) in shard.dbs.iter_mut().zip(data) {
        for (key, entry) in entries {
            db.put_entry(key, entry, now);
        }
    }
}

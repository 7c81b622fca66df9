//! A shard's share of a snapshot: `begin` marks every database's slots
//! pending (called while the shard is frozen by the whole-shard lock, so all
//! shards begin at one point in time), then `write_part` walks the slots and
//! writes this shard's records — SELECTDB, RESIZEDB and the keys of every
//! database — to a part file (or hands them over in chunks, for a diskless
//! transfer to replicas), while the shard keeps serving clients: writes
//! to a slot not yet saved save it first (`shard::snapshot`).
//! Runs on: each shard (file I/O on the executor's blocking thread pool).

use std::cell::RefCell;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use crate::cluster::slot::SLOTS;
use crate::persistence::rdb;
use crate::shard::Shard;

/// Bytes serialised per step, between which clients run (a few tens of
/// microseconds of work).
const STEP: usize = 16 * 1024;
/// Bytes gathered before one write to the part file.
const CHUNK: usize = 256 * 1024;

/// One shard's part, written.
#[derive(Clone, Debug, Default)]
pub struct Part {
    /// The part file; empty for a streamed part.
    pub path: PathBuf,
    pub bytes: u64,
    pub keys: u64,
    /// Chunks handed to a `PartSink::Stream`.
    pub chunks: u64,
}

/// Where a shard's part goes.
pub enum PartSink {
    /// The part file at this path.
    File(PathBuf),
    /// Chunks of whole records of one database, each starting with its
    /// SELECTDB, handed over as they are made (in order).
    Stream(Box<dyn Fn(Vec<u8>)>),
}

/// Starts a snapshot of every non-empty database of `shard`; returns their
/// indexes.
pub fn begin(shard: &mut Shard, now: u64, compress: bool) -> Vec<usize> {
    let mut dbs = Vec::new();
    for (i, db) in shard.dbs.iter_mut().enumerate() {
        if db.snapshot_begin(now, compress) {
            dbs.push(i);
        }
    }
    dbs
}

/// Abandons the snapshot on every database.
pub fn abandon(shard: &mut Shard) {
    for db in &mut shard.dbs {
        db.snapshot_end();
    }
}

/// Writes `bytes` to `file` on the blocking pool; gives the file back.
async fn write_out(file: File, bytes: Vec<u8>) -> (File, std::io::Result<()>) {
    glommio::executor()
        .spawn_blocking(move || {
            super::lower_priority();
            let mut file = file;
            let r = file.write_all(&bytes);
            (file, r)
        })
        .await
}

/// Walks the databases begun by `begin`, writing the part to `sink`.
/// `key_delay_us` (`rdb-key-save-delay`, for tests) slows the walk down.
/// On error the snapshot is abandoned and the part file removed.
pub async fn write_part(
    shard: Rc<RefCell<Shard>>,
    dbs: Vec<usize>,
    sink: PartSink,
    key_delay_us: u64,
) -> Result<Part, String> {
    let r = walk(&shard, &dbs, &sink, key_delay_us).await;
    if r.is_err() {
        abandon(&mut shard.borrow_mut());
        if let PartSink::File(path) = sink {
            glommio::executor()
                .spawn_blocking(move || std::fs::remove_file(path))
                .await
                .ok();
        }
    }
    r
}

async fn walk(
    shard: &RefCell<Shard>,
    dbs: &[usize],
    sink: &PartSink,
    key_delay_us: u64,
) -> Result<Part, String> {
    let mut part = Part::default();
    let mut file = None;
    if let PartSink::File(path) = sink {
        let p = path.clone();
        file = Some(
            glommio::executor()
                .spawn_blocking(move || File::create(p))
                .await
                .map_err(|e| {
                    format!(
                        "Failed opening the temp RDB file {} (in server root dir {}) for saving: {e}",
                        path.display(),
                        cwd()
                    )
                })?,
        );
        part.path = path.clone();
    }
    // With a delay, one slot per step so the delay is felt per key.
    let max = if key_delay_us > 0 { 1 } else { STEP };
    // Delay owed, slept off in steps of at least a millisecond (timers
    // are not finer than that).
    let mut owed_us = 0u64;
    for &d in dbs {
        let mut out = Vec::with_capacity(CHUNK + CHUNK / 4);
        {
            let mut sh = shard.borrow_mut();
            let Some(db) = sh.dbs.get_mut(d) else {
                continue;
            };
            let (keys, expires) = db.snapshot_counts().unwrap_or_default();
            rdb::write_select_db(&mut out, d);
            rdb::write_resize_db(&mut out, keys, expires);
        }
        let mut slot = 0;
        loop {
            let keys = {
                let mut sh = shard.borrow_mut();
                let Some(db) = sh.dbs.get_mut(d) else {
                    break;
                };
                out.extend_from_slice(&db.snapshot_take_early());
                let (next, keys) = db.snapshot_step(slot, &mut out, max);
                slot = next;
                if slot >= SLOTS {
                    // Every slot saved: nothing more can come early.
                    out.extend_from_slice(&db.snapshot_take_early());
                    db.snapshot_end();
                }
                keys
            };
            part.keys += keys as u64;
            if out.len() >= CHUNK || slot >= SLOTS {
                part.bytes += out.len() as u64;
                let bytes = std::mem::take(&mut out);
                if let PartSink::Stream(put) = sink {
                    put(bytes);
                    part.chunks += 1;
                    // The next chunk may follow another shard's.
                    rdb::write_select_db(&mut out, d);
                } else {
                    let Some(f) = file.take() else {
                        return Err("Write error saving DB on disk: no part file".into());
                    };
                    let (f, r) = write_out(f, bytes).await;
                    file = Some(f);
                    r.map_err(|e| format!("Write error saving DB on disk: {e}"))?;
                }
            }
            if slot >= SLOTS {
                break;
            }
            owed_us = owed_us.saturating_add(key_delay_us.saturating_mul(keys as u64));
            if owed_us >= 1000 {
                glommio::timer::sleep(Duration::from_micros(owed_us)).await;
                owed_us = 0;
            } else {
                // The walker's queue has a short latency bound: past it,
                // the executor serves sockets before the next step.
                glommio::yield_if_needed().await;
            }
        }
    }
    drop(file);
    Ok(part)
}

fn cwd() -> String {
    std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

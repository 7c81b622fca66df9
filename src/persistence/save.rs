//! Saving the dataset to one RDB file: SAVE, BGSAVE, save points, SHUTDOWN
//! and DEBUG RELOAD all come here. Runs on: the control executor, which
//! coordinates; the shards serialise their keys in parallel (`snapshot`).
//!
//! Steps: (1) take the whole-shard lock on every shard in ascending order,
//! as a transaction would, so no cross-shard transaction is half done;
//! (2) every shard begins its snapshot (slots pending, nothing copied);
//! (3) unlock — clients were held for two mesh round trips; (4) each shard
//! writes its part file while serving; (5) the control executor writes the
//! header and aux fields, appends the parts and the checksum into a temp
//! file, fsyncs it and renames it over `dbfilename` — one valid RDB.

use std::cell::Cell;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::rdb;
use super::snapshot::Part;
use crate::server::control::ControlCtx;
use crate::server::hop::{ShardReply, ShardRequest};
use crate::shard::lock::whole_shard;
use crate::util::clock::now_ms;

/// Redis's `CONFIG_BGSAVE_RETRY_DELAY`: after a failed save, save points
/// wait this long before trying again.
const RETRY_DELAY_SECS: u64 = 5;

/// Persistence state and counters (INFO persistence). Owned by: the
/// control executor.
pub struct SaveState {
    pub in_progress: Cell<bool>,
    /// Unix ms the current save started.
    started_ms: Cell<u64>,
    /// Unix seconds of the last successful save (start-up time before one).
    pub last_save: Cell<u64>,
    last_try: Cell<u64>,
    pub last_ok: Cell<bool>,
    last_secs: Cell<i64>,
    saves: Cell<u64>,
    keys_total: Cell<u64>,
    /// Keys loaded and keys skipped as expired by the last load.
    pub loaded_keys: Cell<u64>,
    pub loaded_expired: Cell<u64>,
    txids: Cell<u64>,
    /// The append-only file rewrites (BGREWRITEAOF), which use the same
    /// per-shard snapshots and so never run at the same time as a save.
    pub aof: super::rewrite::RewriteState,
}

impl SaveState {
    pub fn new() -> SaveState {
        SaveState {
            in_progress: Cell::new(false),
            started_ms: Cell::new(0),
            last_save: Cell::new(now_ms() / 1000),
            last_try: Cell::new(0),
            last_ok: Cell::new(true),
            last_secs: Cell::new(-1),
            saves: Cell::new(0),
            keys_total: Cell::new(0),
            loaded_keys: Cell::new(0),
            loaded_expired: Cell::new(0),
            txids: Cell::new(1),
            aof: super::rewrite::RewriteState::default(),
        }
    }

    /// A snapshot or a rewrite is running (Redis's `hasActiveChildProcess`).
    pub fn busy(&self) -> bool {
        self.in_progress.get() || self.aof.in_progress.get()
    }

    /// Waits until no rewrite runs: a save needs the shards' snapshots.
    async fn wait_for_rewrite(&self) {
        while self.aof.in_progress.get() {
            glommio::timer::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// The `rdb_*` fields of INFO persistence (`rdb_changes_since_last_save`
    /// comes from the shards).
    pub fn info_lines(&self) -> Vec<String> {
        let now = now_ms();
        let current = if self.in_progress.get() {
            (now.saturating_sub(self.started_ms.get()) / 1000) as i64
        } else {
            -1
        };
        vec![
            format!(
                "rdb_bgsave_in_progress:{}",
                u8::from(self.in_progress.get())
            ),
            format!("rdb_last_save_time:{}", self.last_save.get()),
            format!(
                "rdb_last_bgsave_status:{}",
                if self.last_ok.get() { "ok" } else { "err" }
            ),
            format!("rdb_last_bgsave_time_sec:{}", self.last_secs.get()),
            format!("rdb_current_bgsave_time_sec:{current}"),
            format!("rdb_saves:{}", self.saves.get()),
            format!("rdb_last_load_keys_expired:{}", self.loaded_expired.get()),
            format!("rdb_last_load_keys_loaded:{}", self.loaded_keys.get()),
            format!("current_save_keys_total:{}", self.keys_total.get()),
        ]
        .into_iter()
        .chain(self.aof.info_lines(now))
        .collect()
    }
}

impl Default for SaveState {
    fn default() -> Self {
        SaveState::new()
    }
}

/// BGSAVE while an AOF rewrite runs (Redis's `bgsaveCommand`): refused, or
/// with SCHEDULE started when the rewrite ends. `None`: go ahead.
pub fn bgsave_during_rewrite(
    st: &SaveState,
    background: bool,
    schedule: bool,
) -> Option<ShardReply> {
    if !background || !st.aof.in_progress.get() {
        return None;
    }
    if schedule {
        st.aof.bgsave_scheduled.set(true);
        return Some(ShardReply::Reply(crate::protocol::Reply::Simple(
            bytes::Bytes::from_static(b"Background saving scheduled"),
        )));
    }
    Some(ShardReply::Err("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.".into()))
}

/// Where the RDB lives: `dir` (absolute) joined with `dbfilename`.
pub fn rdb_path(cfg: &crate::config::Config) -> PathBuf {
    Path::new(cfg.dir()).join(cfg.value("dbfilename").unwrap_or("dump.rdb"))
}

/// Saves the whole dataset to `dbfilename`. Errors are logged and returned;
/// the state records success or failure either way. `began` is told once
/// every shard has begun (the snapshot's point in time), which is when
/// BGSAVE answers; it is dropped unsent when the save fails before that.
pub async fn save(
    ctl: &ControlCtx,
    background: bool,
    began: Option<futures_channel::oneshot::Sender<()>>,
) -> Result<(), String> {
    let st = &ctl.persist;
    // COMPAT: Redis's SAVE runs beside an AOF rewrite's child; here both
    // need the shards' snapshots, so a save waits for the rewrite.
    st.wait_for_rewrite().await;
    if st.in_progress.get() {
        return Err("Background save already in progress".into());
    }
    st.in_progress.set(true);
    let start = now_ms();
    st.started_ms.set(start);
    st.last_try.set(start / 1000);
    if background {
        tracing::info!("Background saving started");
    }
    let target = rdb_path(&ctl.config.borrow());
    let r = save_steps(ctl, began, &target).await;
    let ok = r.is_ok();
    for s in 0..ctl.nshards {
        ctl.mesh.tell(s, ShardRequest::SnapshotDone { ok });
    }
    st.in_progress.set(false);
    st.last_ok.set(ok);
    st.last_secs
        .set((now_ms().saturating_sub(start) / 1000) as i64);
    match &r {
        Ok(()) => {
            st.saves.set(st.saves.get() + 1);
            st.last_save.set(start / 1000);
            if background {
                tracing::info!("Background saving terminated with success");
            } else {
                tracing::info!("DB saved on disk");
            }
        }
        Err(e) => {
            tracing::warn!("{e}");
            if background {
                tracing::warn!("Background saving error");
            }
        }
    }
    r
}

/// A snapshot for replicas in full sync, streamed (Redis's diskless
/// replication): the shards hand their parts over in chunks as they walk
/// their slots, and `job` keeps the RDB as it grows (a header, the chunks
/// in the order they came, EOF and checksum); nothing touches the disk.
/// `job.offset` gets the backlog offset at the snapshot's point in time:
/// the stream from there on is what the snapshot does not hold. Counts as
/// a save in progress (BGSAVE waits its turn), not as a save.
pub async fn stream_for_replicas(
    ctl: &ControlCtx,
    job: &crate::replication::primary::SyncJob,
) -> Result<(), String> {
    let st = &ctl.persist;
    while st.busy() {
        glommio::timer::sleep(std::time::Duration::from_millis(10)).await;
    }
    st.in_progress.set(true);
    st.started_ms.set(now_ms());
    let r = stream_steps(ctl, job).await;
    st.in_progress.set(false);
    for s in 0..ctl.nshards {
        ctl.mesh.tell(s, ShardRequest::SnapshotDone { ok: false });
    }
    r
}

/// How an RDB is written, from the config: `rdbcompression`,
/// `rdbchecksum`, and `rdb-key-save-delay` (µs per key, for tests).
pub struct RdbOpts {
    pub compress: bool,
    pub checksum: bool,
    pub key_delay_us: u64,
}

impl RdbOpts {
    pub fn of(cfg: &crate::config::Config) -> RdbOpts {
        RdbOpts {
            compress: cfg.bool("rdbcompression").unwrap_or(true),
            checksum: cfg.bool("rdbchecksum").unwrap_or(true),
            key_delay_us: cfg.int("rdb-key-save-delay").unwrap_or(0).max(0) as u64,
        }
    }
}

async fn stream_steps(
    ctl: &ControlCtx,
    job: &crate::replication::primary::SyncJob,
) -> Result<(), String> {
    let cfg = ctl.config.borrow().clone();
    let n = ctl.nshards;
    let RdbOpts {
        compress,
        checksum,
        key_delay_us,
    } = RdbOpts::of(&cfg);
    let used_mem = used_memory(ctl).await;
    // A replica's own replicas: let the batch of the master's stream being
    // applied finish, and hold the next one until the offset is read.
    let link = ctl.repl.link();
    if let Some(l) = &link {
        l.pause.set(true);
        ctl.repl.notify.until(|| !l.applying.get()).await;
    }
    // (1)–(3): begin everywhere at one point in time; every shard sends
    // the feed written before it and holds what follows until the offset
    // is read.
    let begin = |_| ShardRequest::SnapshotBegin {
        path: None,
        compress,
        key_delay_us,
    };
    let (failed, point_offset) = begin_at_one_point(ctl, begin, |ok| {
        let point_offset = ctl.repl.backlog.borrow().offset();
        if ok {
            job.offset.set(Some(point_offset));
        }
        point_offset
    })
    .await;
    for s in 0..n {
        ctl.mesh.tell(s, ShardRequest::ReleaseFeed);
    }
    if let Some(l) = &link {
        l.pause.set(false);
        ctl.repl.notify.wake_all();
    }
    if failed.is_none() {
        let mut rest = Vec::new();
        for (k, v) in aux_fields(ctl, used_mem, Some(point_offset)) {
            rdb::write_aux(&mut rest, k, v.as_bytes());
        }
        let mut header = Vec::with_capacity(rest.len() + 64);
        rdb::write_header(&mut header);
        // First, so a tessera replica knows the chunks can be sorted out
        // by shard and parsed in parallel (`load::split`).
        rdb::write_aux(
            &mut header,
            super::load::STREAM_AUX,
            format!("{}{n}:{}", super::load::STREAM_PREFIX, rest.len()).as_bytes(),
        );
        header.extend_from_slice(&rest);
        job.start(header);
    }
    // (4): every shard has walked its slots; each chunk it sent came over
    // the mesh ahead of its reply.
    let parts = collect_parts(ctl, failed).await?;
    let counts: Vec<u64> = parts.iter().map(|p| p.chunks).collect();
    if !job.has_chunks(&counts) {
        return Err("a shard's snapshot chunk went missing".into());
    }
    job.finish(checksum);
    Ok(())
}

/// The steps of a snapshot into the file `target`.
async fn save_steps(
    ctl: &ControlCtx,
    began: Option<futures_channel::oneshot::Sender<()>>,
    target: &Path,
) -> Result<(), String> {
    let cfg = ctl.config.borrow().clone();
    let pid = std::process::id();
    let dir = PathBuf::from(cfg.dir());
    let RdbOpts {
        compress,
        checksum,
        key_delay_us,
    } = RdbOpts::of(&cfg);

    // (1)–(3): begin everywhere at one point in time.
    let seq = ctl.persist.txids.get();
    let begin = |s: usize| ShardRequest::SnapshotBegin {
        path: Some(dir.join(format!("temp-{pid}-{s}.rdb.part"))),
        compress,
        key_delay_us,
    };
    let (failed, point_offset) =
        begin_at_one_point(ctl, begin, |_| ctl.repl.backlog.borrow().offset()).await;
    if let (None, Some(tx)) = (&failed, began) {
        let _ = tx.send(());
    }
    // (4): every shard's part.
    let parts = collect_parts(ctl, failed).await?;
    // (5): one file.
    let mut header = Vec::new();
    rdb::write_header(&mut header);
    // First, so a loader finds it at a fixed place: where each shard's
    // part starts, so the parts can be parsed in parallel (`load`).
    let lens: Vec<String> = parts.iter().map(|p| p.bytes.to_string()).collect();
    rdb::write_aux(
        &mut header,
        super::load::PARTS_AUX,
        format!("{}{}", super::load::PARTS_PREFIX, lens.join(",")).as_bytes(),
    );
    let used_mem = used_memory(ctl).await;
    for (k, v) in aux_fields(ctl, used_mem, Some(point_offset)) {
        rdb::write_aux(&mut header, k, v.as_bytes());
    }
    let target = target.to_path_buf();
    let tmp = dir.join(format!("temp-{pid}-{seq}.rdb"));
    glommio::executor()
        .spawn_blocking(move || {
            super::lower_priority();
            assemble(&tmp, &target, &header, &parts, checksum)
        })
        .await
}

/// Steps (1)–(3) of every snapshot: the whole-shard lock on every shard in
/// ascending order, `begin(s)` to every shard (all begin while all are
/// held: one point in time), `at_point` (told whether every shard began)
/// while they are still held, then unlock. Returns the first failure and
/// what `at_point` returned.
pub(super) async fn begin_at_one_point<T>(
    ctl: &ControlCtx,
    begin: impl Fn(usize) -> ShardRequest,
    at_point: impl FnOnce(bool) -> T,
) -> (Option<String>, T) {
    let n = ctl.nshards;
    let txid = ctl.persist.txids.get();
    ctl.persist.txids.set(txid + 1);
    let txid = (txid << 16) | n as u64;
    let mut locked = Vec::new();
    let mut failed = None;
    for s in 0..n {
        let req = ShardRequest::Lock {
            txid,
            keys: vec![whole_shard()],
            exclusive: true,
        };
        match ctl.mesh.request(s, req).await {
            Ok(ShardReply::Done) => locked.push(s),
            _ => {
                failed = Some("a shard did not take the snapshot lock".to_string());
                break;
            }
        }
    }
    if failed.is_none() {
        let rxs: Vec<_> = (0..n).map(|s| ctl.mesh.request(s, begin(s))).collect();
        for rx in rxs {
            match rx.await {
                Ok(ShardReply::Done) => {}
                Ok(ShardReply::Err(e)) => failed = Some(e),
                _ => failed = Some("a shard did not begin its snapshot".into()),
            }
        }
    }
    let t = at_point(failed.is_none());
    for s in locked {
        ctl.mesh.tell(s, ShardRequest::Unlock { txid });
    }
    (failed, t)
}

/// Step (4): every shard's part, all collected even after a failure
/// (`failed`, or one here) so none is left running; then the parts are
/// removed and the failure returned.
pub(super) async fn collect_parts(
    ctl: &ControlCtx,
    mut failed: Option<String>,
) -> Result<Vec<Part>, String> {
    let rxs: Vec<_> = (0..ctl.nshards)
        .map(|s| ctl.mesh.request(s, ShardRequest::SnapshotCollect))
        .collect();
    let mut parts = Vec::new();
    for rx in rxs {
        match rx.await {
            Ok(ShardReply::Part(p)) => parts.push(p),
            Ok(ShardReply::Err(e)) => failed = failed.or(Some(e)),
            _ => failed = failed.or(Some("a shard lost its snapshot".into())),
        }
    }
    ctl.persist
        .keys_total
        .set(parts.iter().map(|p| p.keys).sum());
    match failed {
        Some(e) => {
            remove_parts(parts).await;
            Err(e)
        }
        None => Ok(parts),
    }
}

/// The shards' `used_memory`, summed (the `used-mem` aux field).
pub(super) async fn used_memory(ctl: &ControlCtx) -> u64 {
    let mut used_mem = 0;
    for r in fan(ctl, |_| ShardRequest::Stats).await {
        if let ShardReply::Stats(s) = r {
            used_mem += s.used_memory;
        }
    }
    used_mem
}

/// The aux fields Redis 7.0 writes (`rdbSaveInfoAuxFields`): with the
/// replication offset of the point in time for a save, or, for an AOF
/// rewrite's preamble (`repl` none), no replication fields and `aof-base` 1.
pub(super) fn aux_fields(
    ctl: &ControlCtx,
    used_mem: u64,
    repl: Option<u64>,
) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        (
            "redis-ver",
            crate::commands::connection::REDIS_VERSION.to_string(),
        ),
        ("redis-bits", "64".into()),
        ("ctime", (now_ms() / 1000).to_string()),
        ("used-mem", used_mem.to_string()),
    ];
    if let Some(offset) = repl {
        fields.push(("repl-stream-db", "0".into()));
        fields.push(("repl-id", ctl.repl.backlog.borrow().replid.clone()));
        fields.push(("repl-offset", offset.to_string()));
    }
    fields.push(("aof-base", u8::from(repl.is_none()).to_string()));
    fields
}

/// One request to every shard, replies in shard order.
pub async fn fan(ctl: &ControlCtx, make: impl Fn(usize) -> ShardRequest) -> Vec<ShardReply> {
    let rxs: Vec<_> = (0..ctl.nshards)
        .map(|s| ctl.mesh.request(s, make(s)))
        .collect();
    crate::server::hop::gather(rxs).await
}

async fn remove_parts(parts: Vec<Part>) {
    glommio::executor()
        .spawn_blocking(move || {
            for p in parts {
                let _ = std::fs::remove_file(&p.path);
            }
        })
        .await;
}

/// Header, then each part, then EOF and the CRC64 of everything before it
/// (0 when `rdbchecksum no`), into `tmp`; fsync; rename to `target`; fsync
/// the directory. Removes the parts (and `tmp` on failure).
fn assemble(
    tmp: &Path,
    target: &Path,
    header: &[u8],
    parts: &[Part],
    checksum: bool,
) -> Result<(), String> {
    let r = assemble_into(tmp, header, parts, checksum).and_then(|()| {
        std::fs::rename(tmp, target).map_err(|e| {
            format!(
                "Error moving temp DB file {} on the final destination {} (in server root dir {}): {e}",
                tmp.display(),
                target.display(),
                target.parent().map(|p| p.display().to_string()).unwrap_or_default()
            )
        })
    });
    for p in parts {
        let _ = std::fs::remove_file(&p.path);
    }
    match r {
        Ok(()) => {
            if let Some(dir) = target.parent() {
                if let Ok(d) = File::open(dir) {
                    let _ = d.sync_all();
                }
            }
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(tmp);
            Err(e)
        }
    }
}

pub(super) fn assemble_into(
    tmp: &Path,
    header: &[u8],
    parts: &[Part],
    checksum: bool,
) -> Result<(), String> {
    let werr = |e: std::io::Error| format!("Write error saving DB on disk: {e}");
    let mut f = File::create(tmp).map_err(|e| {
        format!(
            "Failed opening the temp RDB file {} (in server root dir {}) for saving: {e}",
            tmp.display(),
            tmp.parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        )
    })?;
    join_parts(&mut f, header, parts, checksum)?;
    f.sync_all().map_err(werr)?;
    Ok(())
}

/// Header, then each part's file, then EOF and the CRC64 of everything
/// before it (0 when `rdbchecksum no`), written to `out`.
fn join_parts(
    out: &mut impl Write,
    header: &[u8],
    parts: &[Part],
    checksum: bool,
) -> Result<(), String> {
    let werr = |e: std::io::Error| format!("Write error saving DB on disk: {e}");
    let mut crc = rdb::Crc64::new();
    let mut put = |f: &mut dyn Write, b: &[u8]| -> Result<(), String> {
        crc.update(b);
        f.write_all(b).map_err(werr)
    };
    let f = out;
    put(f, header)?;
    let mut buf = vec![0u8; 1 << 20];
    for p in parts {
        let mut r = File::open(&p.path).map_err(werr)?;
        loop {
            let n = r.read(&mut buf).map_err(werr)?;
            if n == 0 {
                break;
            }
            put(f, &buf[..n])?;
        }
    }
    let mut eof = Vec::new();
    rdb::write_eof(&mut eof);
    put(f, &eof)?;
    let sum = if checksum { crc.finish() } else { 0 };
    f.write_all(&sum.to_le_bytes()).map_err(werr)?;
    Ok(())
}

/// The save points (`save <secs> <changes> ...`) as pairs.
pub fn save_points(cfg: &crate::config::Config) -> Vec<(u64, u64)> {
    let words: Vec<u64> = cfg
        .value("save")
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    words.chunks_exact(2).map(|p| (p[0], p[1])).collect()
}

/// Serve-cron check (Redis's `serverCron`): the first save point reached
/// by `dirty` changes since the last save, unless the last attempt failed
/// less than `RETRY_DELAY_SECS` ago.
pub fn due(st: &SaveState, points: &[(u64, u64)], dirty: u64, now_secs: u64) -> Option<(u64, u64)> {
    if st.busy() {
        return None;
    }
    let since = now_secs.saturating_sub(st.last_save.get());
    let retry_ok =
        st.last_ok.get() || now_secs.saturating_sub(st.last_try.get()) > RETRY_DELAY_SECS;
    points
        .iter()
        .copied()
        .find(|&(secs, changes)| dirty >= changes && since > secs && retry_ok)
}

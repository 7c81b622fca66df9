//! The append-only file: one file per shard, fed by the shard's replication
//! stream (every write in effect form, RESP, SELECT on a database change),
//! and replayed into the shard at start-up. Runs on: each shard.
//!
//! Layout, under `dir`/`appenddirname`: `<appendfilename>.shard<N>.aof` for
//! each shard and `<appendfilename>.manifest`, which records the number of
//! shards the files were written by (a key's shard depends on it).
//!
//! `appendfsync always`: a write command's bytes are written and fsynced
//! before its reply leaves (`sync_if_always`). `everysec`: written every
//! few milliseconds, fsynced once a second on the blocking pool. `no`:
//! written, never fsynced by tessera.
//!
//! A file is either commands from its start, or (after a rewrite with
//! `aof-use-rdb-preamble yes`) an RDB image of the shard's keys followed by
//! commands, as Redis's `loadSingleAppendOnlyFile` reads it. The shard's
//! half of a rewrite (BGREWRITEAOF; coordinated by `persistence::rewrite`
//! on the control executor) is here too: `finish_rewrite` turns the shard's
//! snapshot part into the new file's base, appends the writes made since
//! the snapshot's point in time, and swaps the new file in.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::rdb;
use super::snapshot::Part;
use crate::commands::table::{self, Handler};
use crate::commands::KeyCtx;
use crate::config::Config;
use crate::protocol::{Limits, RequestDecoder};
use crate::server::context::{HotConfig, ShardCtx};
use crate::server::route::SlotMap;
use crate::shard::types::Encodings;
use crate::shard::Shard;

/// What the temp files of a rewrite start with (removed at start-up: a
/// rewrite cut short by an exit leaves them behind).
const TEMP_PREFIX: &str = "temp-rewriteaof-";
/// Writes made during a rewrite are appended to the new file off the
/// shard's thread while more than this many bytes wait; the rest at the
/// swap, on it.
const CATCH_UP: usize = 256 * 1024;
/// Catch-up rounds before the swap takes whatever is left.
const CATCH_UP_ROUNDS: usize = 8;

/// How often buffered writes reach the file (everysec / no).
pub const WRITE_EVERY: Duration = Duration::from_millis(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    Always,
    EverySec,
    No,
}

impl Fsync {
    pub fn of(cfg: &Config) -> Fsync {
        match cfg.value("appendfsync") {
            Some("always") => Fsync::Always,
            Some("no") => Fsync::No,
            _ => Fsync::EverySec,
        }
    }
}

fn dir_of(cfg: &Config) -> PathBuf {
    Path::new(cfg.dir()).join(cfg.value("appenddirname").unwrap_or("appendonlydir"))
}

fn base_name(cfg: &Config) -> String {
    cfg.value("appendfilename")
        .unwrap_or("appendonly.aof")
        .to_string()
}

/// Shard `shard`'s file.
pub fn file_path(cfg: &Config, shard: usize) -> PathBuf {
    dir_of(cfg).join(format!("{}.shard{shard}.aof", base_name(cfg)))
}

/// Where shard `shard` writes a rewrite's snapshot part (`ext` "part") and
/// its new file (`ext` "aof"), beside the files they replace so the rename
/// stays on one file system.
pub fn rewrite_temp_path(cfg: &Config, shard: usize, ext: &str) -> PathBuf {
    dir_of(cfg).join(format!("{TEMP_PREFIX}{}-{shard}.{ext}", std::process::id()))
}

/// Creates the directory and manifest, or checks that the files there
/// were written by as many shards as this process has. Called once at
/// start-up, before any shard opens its file.
pub fn prepare(cfg: &Config, nshards: usize) -> Result<(), String> {
    let dir = dir_of(cfg);
    std::fs::create_dir_all(&dir).map_err(|e| {
        format!(
            "Can't open or create append-only dir {}: {e}",
            dir.display()
        )
    })?;
    let manifest = dir.join(format!("{}.manifest", base_name(cfg)));
    let line = format!("tessera-aof shards {nshards}\n");
    match std::fs::read_to_string(&manifest) {
        Ok(text) if text == line => Ok(()),
        Ok(text) => Err(format!(
            "The append-only files in {} were written by a tessera with a different number of shards ({}); start it with that --shards",
            dir.display(),
            text.trim()
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::write(&manifest, line).map_err(|e| {
                format!("Can't write the AOF manifest {}: {e}", manifest.display())
            })
        }
        Err(e) => Err(format!("Can't read the AOF manifest {}: {e}", manifest.display())),
    }
}

/// Removes what rewrites cut short by an exit left in the directory.
pub fn remove_temp_files(cfg: &Config) {
    let Ok(entries) = std::fs::read_dir(dir_of(cfg)) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// A shard's open file. Owned by: the shard.
pub struct AofFile {
    file: File,
    pub policy: Fsync,
    last_fsync: Instant,
    /// A write to the file failed (INFO `aof_last_write_status`).
    pub write_failed: bool,
    /// Bytes in the file (INFO `aof_current_size`).
    pub size: u64,
    /// Bytes of the file's base: what the last rewrite wrote from the
    /// snapshot, or the whole file as it was at start-up (INFO
    /// `aof_base_size`; the automatic rewrite measures growth from it).
    pub base_size: u64,
}

impl AofFile {
    /// Opens (or creates) `path` for appending; its current length is its
    /// base.
    pub fn open(path: &Path, policy: Fsync) -> Result<AofFile, String> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("Can't open the append-only file {}: {e}", path.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(AofFile {
            file,
            policy,
            last_fsync: Instant::now(),
            write_failed: false,
            size,
            base_size: size,
        })
    }

    /// Writes `bytes` (blocking: page cache), and fsyncs them too when
    /// `sync`. A failure is logged and remembered.
    pub fn write(&mut self, bytes: &[u8], sync: bool) {
        if bytes.is_empty() && !sync {
            return;
        }
        let r =
            self.file
                .write_all(bytes)
                .and_then(|()| if sync { self.file.sync_data() } else { Ok(()) });
        match r {
            Ok(()) => {
                self.write_failed = false;
                self.size += bytes.len() as u64;
            }
            Err(e) => {
                if !self.write_failed {
                    tracing::warn!("Error writing to the AOF file: {e}");
                }
                self.write_failed = true;
            }
        }
    }

    /// For `everysec`: a handle to fsync on the blocking pool, once a second.
    pub fn fsync_due(&mut self) -> Option<File> {
        if self.policy != Fsync::EverySec || self.last_fsync.elapsed() < Duration::from_secs(1) {
            return None;
        }
        self.last_fsync = Instant::now();
        self.file.try_clone().ok()
    }
}

/// The shards' files together (INFO, the automatic rewrite), from their
/// `AofState` replies.
#[derive(Debug, Default)]
pub struct Totals {
    pub size: u64,
    pub base_size: u64,
    pub write_failed: bool,
}

impl Totals {
    pub fn of(replies: Vec<crate::server::hop::ShardReply>) -> Totals {
        let mut t = Totals::default();
        for r in replies {
            if let crate::server::hop::ShardReply::Counts(c) = r {
                t.size += c.first().copied().unwrap_or(0);
                t.base_size += c.get(1).copied().unwrap_or(0);
                t.write_failed |= c.get(2).is_some_and(|&f| f != 0);
            }
        }
        t
    }
}

/// What replaying a file did.
#[derive(Debug, Default)]
pub struct Replayed {
    pub commands: u64,
    /// Bytes of the file that held whole commands (a truncated tail starts
    /// here).
    pub valid_len: usize,
    pub truncated: bool,
}

/// Who replays a file: the shard (`me`, `slots` check an RDB preamble's
/// keys are its own) and its configuration.
pub struct ReplayTo<'a> {
    pub shard: &'a mut Shard,
    pub me: usize,
    pub slots: &'a SlotMap,
    pub hot: &'a HotConfig,
}

/// Replays one shard's file into `shard`: an RDB preamble (a file that
/// starts with `REDIS`) is loaded first, then every command is run through
/// the command table without being propagated. A truncated tail (or a
/// MULTI without its EXEC) is dropped when `load_truncated`, else refused;
/// bad bytes are refused.
pub fn replay(
    to: ReplayTo,
    data: Bytes,
    load_truncated: bool,
    now: u64,
) -> Result<Replayed, String> {
    let ReplayTo {
        shard,
        me,
        slots,
        hot,
    } = to;
    let total = data.len();
    let mut skip = 0;
    if data.starts_with(b"REDIS") {
        let (_, _, used) = super::load::install_image(
            &mut shard.dbs,
            me,
            slots,
            &data,
            &hot.enc,
            true,
            now,
            std::convert::identity,
        )
        .map_err(|e| format!("Bad RDB preamble in the append only file: {e}"))?;
        skip = used;
    }
    let mut buf = BytesMut::from(data.get(skip..).unwrap_or_default());
    let mut decoder = RequestDecoder::new();
    let limits = Limits::default();
    let mut db = 0usize;
    let mut out = Replayed::default();
    // Commands of an open MULTI, and where it began.
    let mut multi: Option<(usize, Vec<Vec<Bytes>>)> = None;
    loop {
        let at = total - buf.len();
        let argv = match decoder.decode(&mut buf, &limits) {
            Ok(Some(argv)) => argv,
            Ok(None) => break,
            Err(e) => {
                return Err(format!(
                    "Bad file format reading the append only file at offset {at}: {e:?}"
                ))
            }
        };
        let name = argv
            .first()
            .map(|n| n.to_ascii_uppercase())
            .unwrap_or_default();
        match name.as_slice() {
            b"MULTI" => multi = Some((at, Vec::new())),
            b"EXEC" => {
                for cmd in multi.take().map(|m| m.1).unwrap_or_default() {
                    run(shard, hot, &mut db, &cmd, now, at)?;
                    out.commands += 1;
                }
            }
            _ => match &mut multi {
                Some((_, cmds)) => cmds.push(argv),
                None => {
                    run(shard, hot, &mut db, &argv, now, at)?;
                    out.commands += 1;
                }
            },
        }
    }
    out.valid_len = match &multi {
        Some((start, _)) => *start,
        None => total - buf.len(),
    };
    for d in &mut shard.dbs {
        d.take_expired();
    }
    if out.valid_len < total {
        if !load_truncated {
            return Err(format!(
                "Unexpected end of file reading the append only file at offset {}. You can: 1) make a backup of the file and cut it at that offset, or 2) set 'aof-load-truncated yes' and restart the server.",
                out.valid_len
            ));
        }
        out.truncated = true;
    }
    Ok(out)
}

/// Runs one command of the file on the shard's data.
fn run(
    shard: &mut Shard,
    hot: &HotConfig,
    db: &mut usize,
    argv: &[Bytes],
    now: u64,
    at: usize,
) -> Result<(), String> {
    let bad = |what: &str| format!("{what} in the append only file at offset {at}");
    let name = argv
        .first()
        .map(|n| n.to_ascii_uppercase())
        .unwrap_or_default();
    let arg = |i: usize| {
        argv.get(i)
            .and_then(|a| crate::util::num::parse_i64(a))
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n < shard.dbs.len())
    };
    match name.as_slice() {
        b"SELECT" => *db = arg(1).ok_or_else(|| bad("Bad SELECT"))?,
        b"FLUSHALL" => shard.dbs.iter_mut().for_each(|d| {
            d.clear();
        }),
        b"FLUSHDB" => {
            if let Some(d) = shard.dbs.get_mut(*db) {
                d.clear();
            }
        }
        b"SWAPDB" => {
            let (a, b) = (arg(1), arg(2));
            let (Some(a), Some(b)) = (a, b) else {
                return Err(bad("Bad SWAPDB"));
            };
            shard.swap_dbs(a, b, now);
        }
        _ => {
            let spec = table::lookup(&argv[0]).ok_or_else(|| {
                bad(&format!(
                    "Unknown command '{}'",
                    String::from_utf8_lossy(&argv[0])
                ))
            })?;
            let Handler::Keyed(f) = spec.handler else {
                return Err(bad(&format!("Command '{}' not allowed", spec.name)));
            };
            if !spec.arity_ok(argv.len()) {
                return Err(bad(&format!("Wrong arity for '{}'", spec.name)));
            }
            let mut kctx = KeyCtx::new(&mut shard.dbs, *db, now, hot);
            // A command that fails here failed when it was logged too (Redis
            // logs only what ran); its error is not fatal.
            let _ = f(&mut kctx, argv);
        }
    }
    Ok(())
}

/// Cuts a file with a truncated tail back to its whole commands.
pub fn truncate(path: &Path, len: usize) -> Result<(), String> {
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| format!("Can't open {} to truncate it: {e}", path.display()))?;
    f.set_len(len as u64)
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("Can't truncate {}: {e}", path.display()))
}

/// What a rewrite's new file starts with (`aof-use-rdb-preamble`).
#[derive(Clone, Debug)]
pub enum Base {
    /// The shard's keys as an RDB file: `header` (magic, version, aux
    /// fields, made by the control executor), the part's records, EOF and
    /// the CRC64 (zero when not `checksum`).
    Rdb { header: Vec<u8>, checksum: bool },
    /// The shard's keys as the commands that rebuild them
    /// (`propagate::rebuild`), a SELECT before each database's.
    Commands,
}

/// Runs on: the shard (file work on the blocking pool). The second half of
/// this shard's rewrite, once its snapshot `part` is written: the base from
/// the part into a temp file, then the writes made since the snapshot's
/// point in time (copied aside by `ReplStream::start_rewrite`), then the
/// swap. Returns the new file's size. On error the current file is left as
/// it is (it has had every write all along) and the temp files are removed.
pub async fn finish_rewrite(ctx: Rc<ShardCtx>, part: Part, base: Base) -> Result<u64, String> {
    let cfg = ctx.config();
    let tmp = rewrite_temp_path(&cfg, ctx.id.0, "aof");
    let target = file_path(&cfg, ctx.id.0);
    let enc = ctx.hot.get().enc;
    let t = tmp.clone();
    let r = glommio::executor()
        .spawn_blocking(move || {
            super::lower_priority();
            let r = write_base(&t, &part, &base, &enc);
            let _ = std::fs::remove_file(&part.path);
            r
        })
        .await;
    let r = match r {
        Ok((file, base_size)) => catch_up(&ctx, file)
            .await
            .and_then(|file| swap(&ctx, file, &tmp, &target, base_size)),
        Err(e) => Err(e),
    };
    if r.is_err() {
        ctx.shard.borrow_mut().repl.stop_rewrite();
        let t = tmp.clone();
        glommio::executor()
            .spawn_blocking(move || std::fs::remove_file(t))
            .await
            .ok();
    } else if let Some(dir) = target.parent().map(Path::to_path_buf) {
        // The rename reaches the disk with the directory.
        glommio::executor()
            .spawn_blocking(move || File::open(dir).and_then(|d| d.sync_all()))
            .await
            .ok();
    }
    r
}

/// Writes the base into `tmp` and fsyncs it; returns the file, open for
/// appending, and the base's length.
fn write_base(
    tmp: &Path,
    part: &Part,
    base: &Base,
    enc: &Encodings,
) -> Result<(File, u64), String> {
    match base {
        Base::Rdb { header, checksum } => {
            super::save::assemble_into(tmp, header, std::slice::from_ref(part), *checksum)?;
        }
        Base::Commands => write_commands(tmp, part, enc)?,
    }
    let file = OpenOptions::new()
        .append(true)
        .open(tmp)
        .map_err(|e| format!("Can't reopen the rewritten AOF {}: {e}", tmp.display()))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok((file, len))
}

/// The part's keys as commands (`aof-use-rdb-preamble no`), as Redis's
/// `rewriteAppendOnlyFileRio` writes a base: per key what rebuilds it,
/// with its deadline as PEXPIREAT.
fn write_commands(tmp: &Path, part: &Part, enc: &Encodings) -> Result<(), String> {
    let werr =
        |e: std::io::Error| format!("Error writing the rewritten AOF {}: {e}", tmp.display());
    // The part as an RDB file of its own, for the loader.
    let mut image = Vec::new();
    rdb::write_header(&mut image);
    image.extend_from_slice(&std::fs::read(&part.path).map_err(werr)?);
    rdb::write_eof(&mut image);
    image.extend_from_slice(&[0; 8]);
    let mut f = File::create(tmp).map_err(werr)?;
    let mut out = Vec::with_capacity(1 << 20);
    let mut db = None;
    let mut failed = None;
    let mut sink = |r: rdb::Record| {
        let rdb::Record::Entry { db: d, key, entry } = r else {
            return;
        };
        if db != Some(d) {
            let n = d.to_string();
            crate::shard::repl::put(&mut out, &[b"SELECT".as_slice(), n.as_bytes()]);
            db = Some(d);
        }
        let cmds = crate::commands::propagate::rebuild(&key, Some((&entry.value, entry.expire_at)));
        // The DEL that `rebuild` starts with is for replicas; a base starts empty.
        for cmd in cmds.iter().skip(1) {
            crate::shard::repl::put(&mut out, cmd);
        }
        if out.len() >= 1 << 20 && failed.is_none() {
            failed = f.write_all(&out).err();
            out.clear();
        }
    };
    rdb::load(&image, enc, false, &mut sink)
        .map_err(|e| format!("Can't read back the snapshot part for the AOF rewrite: {e}"))?;
    if let Some(e) = failed {
        return Err(werr(e));
    }
    f.write_all(&out).and_then(|()| f.sync_all()).map_err(werr)
}

/// Appends the writes made since the point in time, off the shard's
/// thread, until few are left (or enough rounds went by).
async fn catch_up(ctx: &ShardCtx, file: File) -> Result<File, String> {
    let mut file = file;
    for _ in 0..CATCH_UP_ROUNDS {
        let tail = {
            let mut shard = ctx.shard.borrow_mut();
            if shard.repl.rewrite_pending() < CATCH_UP {
                break;
            }
            shard.repl.take_rewrite()
        };
        let (f, r) = glommio::executor()
            .spawn_blocking(move || {
                let mut f = file;
                let r = f.write_all(&tail);
                (f, r)
            })
            .await;
        file = f;
        r.map_err(|e| format!("Error appending to the rewritten AOF: {e}"))?;
    }
    Ok(file)
}

/// The swap, in one step on the shard's thread so no write falls between
/// the files: the current file gets what it is owed, the new one the last
/// writes (fsynced), the rename puts it in place, and the shard appends to
/// it from now on (through the handle opened before the rename).
fn swap(
    ctx: &ShardCtx,
    file: File,
    tmp: &Path,
    target: &Path,
    base_size: u64,
) -> Result<u64, String> {
    let _ = ctx.aof_flush();
    let tail = ctx.shard.borrow_mut().repl.take_rewrite();
    let mut file = file;
    file.write_all(&tail)
        .and_then(|()| file.sync_data())
        .map_err(|e| format!("Error appending to the rewritten AOF: {e}"))?;
    std::fs::rename(tmp, target).map_err(|e| {
        format!(
            "Error trying to rename the temporary AOF file {} into {}: {e}",
            tmp.display(),
            target.display()
        )
    })?;
    ctx.shard.borrow_mut().repl.stop_rewrite();
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if let Some(aof) = ctx.aof.borrow_mut().as_mut() {
        aof.file = file;
        aof.size = size;
        aof.base_size = base_size;
    }
    Ok(size)
}

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

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use crate::commands::table::{self, Handler};
use crate::commands::KeyCtx;
use crate::config::Config;
use crate::protocol::{Limits, RequestDecoder};
use crate::server::context::HotConfig;
use crate::shard::Shard;

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

/// A shard's open file. Owned by: the shard.
pub struct AofFile {
    file: File,
    pub policy: Fsync,
    last_fsync: Instant,
    /// A write to the file failed (INFO `aof_last_write_status`).
    pub write_failed: bool,
}

impl AofFile {
    pub fn open(path: &Path, policy: Fsync) -> Result<AofFile, String> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("Can't open the append-only file {}: {e}", path.display()))?;
        Ok(AofFile {
            file,
            policy,
            last_fsync: Instant::now(),
            write_failed: false,
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
            Ok(()) => self.write_failed = false,
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

/// What replaying a file did.
#[derive(Debug, Default)]
pub struct Replayed {
    pub commands: u64,
    /// Bytes of the file that held whole commands (a truncated tail starts
    /// here).
    pub valid_len: usize,
    pub truncated: bool,
}

/// Replays one shard's file into `shard`: every command is run through the
/// command table without being propagated. A truncated tail (or a MULTI
/// without its EXEC) is dropped when `load_truncated`, else refused; bad
/// bytes are refused.
pub fn replay(
    shard: &mut Shard,
    hot: &HotConfig,
    data: Bytes,
    load_truncated: bool,
    now: u64,
) -> Result<Replayed, String> {
    let total = data.len();
    let mut buf = BytesMut::from(&data[..]);
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

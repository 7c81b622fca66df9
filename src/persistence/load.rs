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
use crate::shard::db::Db;
use crate::shard::types::Encodings;
use crate::shard::value::Entry;
use crate::shard::Shard;

/// The aux field a tessera-written file starts with: the byte length of
/// each shard's part (`PARTS_PREFIX` then lengths joined by commas; the
/// prefix keeps the value from being stored as an integer). Redis skips
/// aux fields it does not know.
pub const PARTS_AUX: &str = "tessera-parts";
pub const PARTS_PREFIX: &str = "v1:";

/// The aux field a snapshot streamed to replicas starts with:
/// `STREAM_PREFIX`, the shard count, `:`, and the byte length of the aux
/// fields that follow it. Then come the shards' chunks in the order they
/// were made, each behind a `CHUNK_AUX` field ("<shard>:<length>"), each
/// starting with its SELECTDB; Redis skips both fields and reads the
/// chunks as any RDB body.
pub const STREAM_AUX: &str = "tessera-stream";
pub const STREAM_PREFIX: &str = "v1:";
pub const CHUNK_AUX: &str = "tessera-chunk";

/// Per database, the keys one shard gets.
pub type ShardData = Vec<Vec<(Bytes, Entry)>>;

/// A parsed file, split by owning shard.
pub struct Loaded {
    /// Indexed by shard, then database.
    pub shards: Vec<ShardData>,
    pub keys: u64,
    /// Keys left out because their deadline had passed.
    pub expired: u64,
    /// A key of a database this server does not have.
    too_many_dbs: bool,
}

/// What one shard loads at start-up.
pub enum ShardLoad {
    Nothing,
    /// Keys parsed for it, and keys skipped as expired (counted once, on
    /// shard 0).
    Data(ShardData, u64),
    /// Its own part of a tessera-written file (start, length), to parse
    /// and install on its own thread, in parallel with the other shards.
    Part(std::sync::Arc<Vec<u8>>, usize, usize),
}

/// Start-up: reads `path` and decides what each shard loads. A file
/// written by as many shards as this process has is split by its parts
/// (the checksum and header are checked here); any other file is parsed
/// here.
pub fn plan(
    path: &Path,
    slots: &SlotMap,
    databases: usize,
    enc: &Encodings,
    checksum: bool,
    now: u64,
) -> Result<Vec<ShardLoad>, String> {
    let nshards = slots.nshards();
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((0..nshards).map(|_| ShardLoad::Nothing).collect())
        }
        Err(e) => return Err(format!("Fatal error loading the DB: {e}. Exiting.")),
    };
    let fail = |e: rdb::RdbError| {
        format!(
            "Error loading the RDB file {}: {e}. The server will not start on part of a dataset.",
            path.display()
        )
    };
    match split(data, slots, databases, enc, checksum, now).map_err(fail)? {
        Ok(parts) => Ok(parts
            .into_iter()
            .map(|(data, from, len)| ShardLoad::Part(data, from, len))
            .collect()),
        Err(data) => {
            let l = parse(path, &data, slots, databases, enc, checksum, now)?;
            Ok(l.shards
                .into_iter()
                .enumerate()
                .map(|(i, d)| ShardLoad::Data(d, if i == 0 { l.expired } else { 0 }))
                .collect())
        }
    }
}

/// One shard's part of an RDB: the bytes it is in, where it starts and
/// its length.
pub type ShardPart = (std::sync::Arc<Vec<u8>>, usize, usize);

/// Where the shards' parts are in a tessera-made RDB.
enum Layout {
    /// A file: one part per shard, back to back from `.0`, these lengths.
    File(usize, Vec<usize>),
    /// A stream to replicas: chunks from this offset on.
    Stream(usize),
}

/// For an RDB that tessera wrote with one part per shard of this process
/// (a file, or a snapshot streamed to replicas): checks its checksum,
/// header and framing and returns each shard's part, for the shards to
/// parse in parallel. Any other RDB is handed back whole (`Err`).
pub fn split(
    data: Vec<u8>,
    slots: &SlotMap,
    databases: usize,
    enc: &Encodings,
    checksum: bool,
    now: u64,
) -> Result<Result<Vec<ShardPart>, Vec<u8>>, rdb::RdbError> {
    let n = slots.nshards();
    let layout = match parts_of(&data).filter(|(_, l)| l.len() == n) {
        Some((start, lens)) => Layout::File(start, lens),
        None => match stream_body(&data, n)? {
            Some(body) => Layout::Stream(body),
            None => return Ok(Err(data)),
        },
    };
    verify_crc(&data, checksum)?;
    let mut head = Loaded::empty(n, databases);
    let body = match &layout {
        Layout::File(start, _) => *start,
        Layout::Stream(body) => *body,
    };
    read_header(&data, body, &mut head, slots, enc, now)?;
    Ok(Ok(match layout {
        Layout::File(start, lens) => {
            let data = std::sync::Arc::new(data);
            let mut from = start;
            lens.iter()
                .map(|&len| {
                    from += len;
                    (data.clone(), from - len, len)
                })
                .collect()
        }
        Layout::Stream(body) => stream_chunks(&data, body, n)?
            .into_iter()
            .map(|p| {
                let len = p.len() - 9;
                (std::sync::Arc::new(p), 9, len)
            })
            .collect(),
    }))
}

fn bad_stream(offset: usize, msg: &str) -> rdb::RdbError {
    rdb::RdbError {
        offset,
        msg: format!("bad tessera stream: {msg}"),
    }
}

/// If `data` is a snapshot streamed by a tessera master with `n` shards:
/// where its chunks start (after the aux fields).
fn stream_body(data: &[u8], n: usize) -> Result<Option<usize>, rdb::RdbError> {
    let mut pos = 9;
    if data.get(pos) != Some(&0xFA) {
        return Ok(None);
    }
    pos += 1;
    if raw_string(data, &mut pos) != Some(STREAM_AUX.as_bytes()) {
        return Ok(None);
    }
    let spec = raw_string(data, &mut pos)
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| v.strip_prefix(STREAM_PREFIX))
        .and_then(|v| v.split_once(':'))
        .and_then(|(n, l)| Some((n.parse::<usize>().ok()?, l.parse::<usize>().ok()?)));
    let Some((shards, rest)) = spec else {
        return Err(bad_stream(pos, "unreadable stream field"));
    };
    if shards != n {
        return Ok(None);
    }
    pos.checked_add(rest)
        .filter(|&b| b <= data.len())
        .map(Some)
        .ok_or_else(|| bad_stream(pos, "header past the end"))
}

/// Sorts a streamed snapshot's chunks (from `body` on) out by shard: each
/// shard's image is magic and version, then its chunks in order.
fn stream_chunks(data: &[u8], body: usize, n: usize) -> Result<Vec<Vec<u8>>, rdb::RdbError> {
    let mut parts: Vec<Vec<u8>> = (0..n)
        .map(|_| data.get(..9).unwrap_or_default().to_vec())
        .collect();
    let mut pos = body;
    let end = data.len().saturating_sub(9);
    while pos < end {
        let at = pos;
        if data[pos] != 0xFA {
            return Err(bad_stream(at, "expected a chunk"));
        }
        pos += 1;
        if raw_string(data, &mut pos) != Some(CHUNK_AUX.as_bytes()) {
            return Err(bad_stream(at, "expected a chunk field"));
        }
        let chunk = raw_string(data, &mut pos)
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.split_once(':'))
            .and_then(|(s, l)| Some((s.parse::<usize>().ok()?, l.parse::<usize>().ok()?)));
        let Some((shard, len)) = chunk.filter(|&(s, _)| s < n) else {
            return Err(bad_stream(at, "unreadable chunk field"));
        };
        let bytes = pos
            .checked_add(len)
            .and_then(|e| data.get(pos..e).filter(|_| e <= end))
            .ok_or_else(|| bad_stream(at, "chunk past the end"))?;
        parts[shard].extend_from_slice(bytes);
        pos += len;
    }
    if pos != end || data.get(end) != Some(&0xFF) {
        return Err(bad_stream(pos, "no EOF after the chunks"));
    }
    Ok(parts)
}

/// A replica's full sync: parses this shard's part into new databases,
/// leaving the live ones alone until they are swapped in; returns them
/// with (keys loaded, keys expired).
pub fn stage_part(
    databases: usize,
    me: usize,
    slots: &SlotMap,
    data: &[u8],
    range: (usize, usize),
    enc: &Encodings,
    now: u64,
) -> Result<(Vec<Db>, u64, u64), String> {
    let mut dbs: Vec<Db> = (0..databases.max(1)).map(|_| Db::new()).collect();
    let (keys, expired) = part_into(&mut dbs, me, slots, data, range, enc, now)?;
    Ok((dbs, keys, expired))
}

/// Parses this shard's part of the file and installs its keys; returns
/// (keys loaded, keys expired). Every key must be this shard's.
pub fn load_part(
    shard: &mut Shard,
    me: usize,
    slots: &SlotMap,
    data: &[u8],
    (start, len): (usize, usize),
    enc: &Encodings,
    now: u64,
) -> Result<(u64, u64), String> {
    part_into(&mut shard.dbs, me, slots, data, (start, len), enc, now)
}

fn part_into(
    dbs: &mut [Db],
    me: usize,
    slots: &SlotMap,
    data: &[u8],
    (start, len): (usize, usize),
    enc: &Encodings,
    now: u64,
) -> Result<(u64, u64), String> {
    let file = standalone(data, start, len);
    // Offsets in the part as a file of its own, back to the real file's.
    let at = |offset: usize| (offset + start).saturating_sub(9);
    install_image(dbs, me, slots, &file, enc, false, now, at).map(|(k, e, _)| (k, e))
}

/// Installs the keys of the RDB image at the start of `file` (a part, or an
/// append-only file's preamble) into `shard`; every key must be this
/// shard's. Returns (keys loaded, keys expired, bytes the image took);
/// errors give offsets as `at` maps them.
#[allow(clippy::too_many_arguments)]
pub fn install_image(
    dbs: &mut [Db],
    me: usize,
    slots: &SlotMap,
    file: &[u8],
    enc: &Encodings,
    verify_checksum: bool,
    now: u64,
    at: impl Fn(usize) -> usize,
) -> Result<(u64, u64, usize), String> {
    let (mut keys, mut expired) = (0u64, 0u64);
    let mut stray = false;
    let databases = dbs.len();
    let mut too_many_dbs = false;
    let mut sink = |r: Record| {
        if let Record::Entry { db, key, entry } = r {
            if entry.expire_at != 0 && entry.expire_at <= now {
                expired += 1;
            } else if slots.shard_of_key(&key).0 != me {
                stray = true;
            } else if let Some(d) = dbs.get_mut(db) {
                d.put_entry(key, entry, now);
                keys += 1;
            } else {
                too_many_dbs = true;
            }
        }
    };
    let used = rdb::load(file, enc, verify_checksum, &mut sink).map_err(|mut e| {
        e.offset = at(e.offset);
        format!("Error loading the RDB file: {e}. The server will not start on part of a dataset.")
    })?;
    if too_many_dbs {
        return Err(format!(
            "FATAL: Data file was created with a Redis server configured to handle more than {databases} databases. Exiting"
        ));
    }
    if stray {
        return Err("Error loading the RDB file: a shard's part holds keys of another shard. The server will not start on part of a dataset.".into());
    }
    Ok((keys, expired, used))
}

/// One part as a file of its own: magic and version, the part, EOF and a
/// zero checksum (the whole file's was checked).
fn standalone(data: &[u8], start: usize, len: usize) -> Vec<u8> {
    let mut file = data.get(..9).unwrap_or_default().to_vec();
    file.extend_from_slice(data.get(start..start + len).unwrap_or_default());
    rdb::write_eof(&mut file);
    file.extend_from_slice(&[0; 8]);
    file
}

/// The header and aux fields (logged), as a file with no keys.
fn read_header(
    data: &[u8],
    start: usize,
    loaded: &mut Loaded,
    slots: &SlotMap,
    enc: &Encodings,
    now: u64,
) -> Result<(), rdb::RdbError> {
    let mut head = data.get(..start).unwrap_or_default().to_vec();
    rdb::write_eof(&mut head);
    head.extend_from_slice(&[0; 8]);
    read_all(&head, loaded, slots, enc, false, now)
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
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("Fatal error loading the DB: {e}. Exiting.")),
    };
    parse(path, &data, slots, databases, enc, checksum, now).map(Some)
}

/// Parses an RDB image held in memory (a replica's diskless load);
/// `name` stands for the file in errors.
pub fn read_bytes(
    name: &Path,
    data: &[u8],
    slots: &SlotMap,
    databases: usize,
    enc: &Encodings,
    now: u64,
) -> Result<Loaded, String> {
    parse(name, data, slots, databases, enc, true, now)
}

/// Parses a whole file already read from `path` (named in errors), in
/// parallel by parts when it has them.
fn parse(
    path: &Path,
    data: &[u8],
    slots: &SlotMap,
    databases: usize,
    enc: &Encodings,
    checksum: bool,
    now: u64,
) -> Result<Loaded, String> {
    let started = Instant::now();
    let loaded = match parts_of(data) {
        Some((start, lens)) => read_parts(data, start, &lens, slots, databases, enc, checksum, now),
        None => {
            let mut loaded = Loaded::empty(slots.nshards(), databases);
            read_all(data, &mut loaded, slots, enc, checksum, now).map(|()| loaded)
        }
    }
    .map_err(|e| {
        format!(
            "Error loading the RDB file {}: {e}. The server will not start on part of a dataset.",
            path.display()
        )
    })?;
    if loaded.too_many_dbs {
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
    Ok(loaded)
}

/// The whole file in one pass (a file Redis wrote, or one without parts).
fn read_all(
    data: &[u8],
    loaded: &mut Loaded,
    slots: &SlotMap,
    enc: &Encodings,
    checksum: bool,
    now: u64,
) -> Result<(), rdb::RdbError> {
    let mut sink = |r: Record| loaded.take(r, slots, now);
    rdb::load(data, enc, checksum, &mut sink).map(|_| ())
}

impl Loaded {
    fn empty(nshards: usize, databases: usize) -> Loaded {
        Loaded {
            shards: (0..nshards)
                .map(|_| (0..databases).map(|_| Vec::new()).collect())
                .collect(),
            keys: 0,
            expired: 0,
            too_many_dbs: false,
        }
    }

    /// One record: aux fields are logged, keys go to their shard.
    fn take(&mut self, r: Record, slots: &SlotMap, now: u64) {
        match r {
            Record::Aux { key, value } => log_aux(&key, &value, now),
            Record::ResizeDb { .. } => {}
            Record::Entry { db, key, entry } => {
                if entry.expire_at != 0 && entry.expire_at <= now {
                    self.expired += 1;
                    return;
                }
                let shard = slots.shard_of_key(&key).0;
                match self.shards.get_mut(shard).and_then(|s| s.get_mut(db)) {
                    Some(v) => {
                        v.push((key, entry));
                        self.keys += 1;
                    }
                    None => self.too_many_dbs = true,
                }
            }
        }
    }

    /// Adds another loader's keys.
    fn merge(&mut self, other: Loaded) {
        self.keys += other.keys;
        self.expired += other.expired;
        self.too_many_dbs |= other.too_many_dbs;
        for (mine, theirs) in self.shards.iter_mut().zip(other.shards) {
            for (m, t) in mine.iter_mut().zip(theirs) {
                if m.is_empty() {
                    *m = t;
                } else {
                    m.extend(t);
                }
            }
        }
    }
}

/// Reads the `tessera-parts` aux field if the file starts with one: where
/// the parts start and their lengths.
fn parts_of(data: &[u8]) -> Option<(usize, Vec<usize>)> {
    let mut pos = 9;
    if data.get(pos) != Some(&0xFA) {
        return None;
    }
    pos += 1;
    let key = raw_string(data, &mut pos)?;
    if key != PARTS_AUX.as_bytes() {
        return None;
    }
    let value = raw_string(data, &mut pos)?;
    let text = std::str::from_utf8(value)
        .ok()?
        .strip_prefix(PARTS_PREFIX)?;
    let lens: Option<Vec<usize>> = text.split(',').map(|n| n.parse().ok()).collect();
    let lens = lens?;
    // The rest of the header (other aux fields) comes before the parts:
    // the parts end right before EOF and the 8-byte checksum.
    let body: usize = lens.iter().try_fold(0usize, |a, &l| a.checked_add(l))?;
    let start = data.len().checked_sub(9)?.checked_sub(body)?;
    (start >= pos).then_some((start, lens))
}

/// An uncompressed RDB string at `pos` (the only kind the parts field uses).
fn raw_string<'a>(data: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let first = *data.get(*pos)?;
    let (len, hdr) = match first >> 6 {
        0 => (usize::from(first & 0x3f), 1),
        1 => (
            (usize::from(first & 0x3f) << 8) | usize::from(*data.get(*pos + 1)?),
            2,
        ),
        2 if first == 0x80 => {
            let b = data.get(*pos + 1..*pos + 5)?;
            (u32::from_be_bytes(b.try_into().ok()?) as usize, 5)
        }
        _ => return None,
    };
    let s = data.get(*pos + hdr..(*pos + hdr).checked_add(len)?)?;
    *pos += hdr + len;
    Some(s)
}

/// A tessera-written file: the header alone, then every part on its own
/// thread (each a stand-alone body), while this thread checks the CRC.
#[allow(clippy::too_many_arguments)]
fn read_parts(
    data: &[u8],
    start: usize,
    lens: &[usize],
    slots: &SlotMap,
    databases: usize,
    enc: &Encodings,
    checksum: bool,
    now: u64,
) -> Result<Loaded, rdb::RdbError> {
    let nshards = slots.nshards();
    let mut loaded = Loaded::empty(nshards, databases);
    read_header(data, start, &mut loaded, slots, enc, now)?;
    let results = std::thread::scope(|scope| {
        let mut from = start;
        let handles: Vec<_> = lens
            .iter()
            .map(|&len| {
                let offset = from;
                from += len;
                scope.spawn(move || {
                    let file = standalone(data, offset, len);
                    let hdr = 9;
                    let mut mine = Loaded::empty(nshards, databases);
                    read_all(&file, &mut mine, slots, enc, false, now)
                        .map(|()| mine)
                        .map_err(|mut e| {
                            // Report the offset in the real file.
                            e.offset = (e.offset + offset).saturating_sub(hdr);
                            e
                        })
                })
            })
            .collect();
        let crc = verify_crc(data, checksum);
        let parts: Vec<_> = handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(rdb::RdbError {
                        offset: start,
                        msg: "a loader thread failed".into(),
                    })
                })
            })
            .collect();
        (crc, parts)
    });
    let (crc, parts) = results;
    crc?;
    for p in parts {
        loaded.merge(p?);
    }
    Ok(loaded)
}

/// The trailing CRC64 against the rest of the file (skipped when zero or
/// `rdbchecksum no`), as the one-pass loader checks it.
fn verify_crc(data: &[u8], checksum: bool) -> Result<(), rdb::RdbError> {
    let at = data.len().saturating_sub(8);
    let stored = data
        .get(at..)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .unwrap_or(0);
    if data.get(at.saturating_sub(1)) != Some(&0xFF) {
        return Err(rdb::RdbError {
            offset: at.saturating_sub(1),
            msg: "RDB file does not end with the EOF marker".into(),
        });
    }
    if checksum && stored != 0 {
        let computed = rdb::crc64(data.get(..at).unwrap_or_default());
        if stored != computed {
            return Err(rdb::RdbError {
                offset: at,
                msg: format!("RDB CRC64 {stored:016x} does not match {computed:016x}"),
            });
        }
    }
    Ok(())
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

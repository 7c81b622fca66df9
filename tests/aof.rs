//! The append-only file: every write survives a restart (all types, several
//! databases, FLUSHDB/SWAPDB, cross-shard writes); with `appendfsync
//! always` every acknowledged write survives SIGKILL, with `everysec` at
//! most about a second is lost; a truncated tail loads with
//! `aof-load-truncated yes` and stops start-up otherwise. Rewrites
//! (BGREWRITEAOF, with and without the RDB preamble, and the automatic
//! one) shrink the files and keep the dataset, including every write
//! acknowledged while they ran; INFO tells their state as Redis does.

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::dataset::info_field;
use common::dataset::{dataset, fill, q};
use common::{testing_tessera, wait_until, Server};

fn args(fsync: &str) -> Vec<&str> {
    vec![
        "--enable-debug-command",
        "yes",
        "--appendonly",
        "yes",
        "--appendfsync",
        fsync,
    ]
}

/// The AOF files in the server's directory (tessera: one per shard).
fn aof_files(s: &Server) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(s.dir().join("appendonlydir"))
        .expect("appendonlydir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "aof"))
        .collect();
    v.sort();
    v
}

fn replay_everything(shards: usize) {
    let mut s = Server::start_with(shards, &args("everysec"));
    let mut c = s.client();
    fill(&mut c);
    // Cross-shard writes, a flushed db, swapped dbs, deleted and expired keys.
    let _: () = q(
        &mut c,
        &["MSET", "m1", "1", "m2", "2", "m3", "3", "m4", "4"],
    );
    let _: () = q(&mut c, &["RENAME", "m1", "renamed"]);
    let _: () = q(&mut c, &["SELECT", "5"]);
    let _: () = q(&mut c, &["SET", "gone", "1"]);
    let _: () = q(&mut c, &["FLUSHDB"]);
    let _: () = q(&mut c, &["SET", "in5", "1"]);
    let _: () = q(&mut c, &["SWAPDB", "5", "6"]);
    let _: () = q(&mut c, &["SELECT", "0"]);
    let _: () = q(&mut c, &["SET", "short", "1", "PX", "1"]);
    let _: () = q(&mut c, &["INCRBYFLOAT", "float", "2.5"]);
    let _: () = q(&mut c, &["DEL", "d0:int"]);
    std::thread::sleep(Duration::from_millis(20));
    let before = dataset(&mut c);
    assert!(before.contains_key(&(6, "in5".to_string())));
    s.restart(&args("everysec"));
    let mut c = s.client();
    assert_eq!(dataset(&mut c), before);
    let aof: i64 = q(&mut c, &["EXISTS", "short"]);
    assert_eq!(aof, 0);
}
per_shards!(replay_everything_on_restart, super::replay_everything);

/// Writes `SET k<i> <i>` one at a time (each acknowledged) until told to
/// stop; returns when each was acknowledged (index = i).
fn writer(s: &Server, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<Instant>> {
    let mut c = s.client();
    std::thread::spawn(move || {
        let mut acked = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let i = acked.len();
            let r: redis::RedisResult<()> =
                redis::cmd("SET").arg(format!("k{i}")).arg(i).query(&mut c);
            if r.is_err() {
                break;
            }
            acked.push(Instant::now());
        }
        acked
    })
}

/// Kills the server with SIGKILL while a client writes; returns when each
/// write was acknowledged and when the kill happened.
fn write_then_kill(s: &mut Server) -> (Vec<Instant>, Instant) {
    let stop = Arc::new(AtomicBool::new(false));
    let w = writer(s, stop.clone());
    std::thread::sleep(Duration::from_millis(1500));
    let killed = Instant::now();
    s.kill();
    stop.store(true, Ordering::Relaxed);
    (w.join().expect("writer"), killed)
}

/// The keys `<prefix><i>` (i < n) whose value is not `i`.
fn missing(c: &mut redis::Connection, prefix: &str, n: usize) -> Vec<usize> {
    let mut out = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let keys: Vec<String> = chunk.iter().map(|i| format!("{prefix}{i}")).collect();
        let vals: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query(c).unwrap();
        for (i, v) in chunk.iter().zip(vals) {
            if v.as_deref() != Some(i.to_string().as_str()) {
                out.push(*i);
            }
        }
    }
    out
}

#[test]
fn always_keeps_every_acknowledged_write_through_sigkill() {
    let mut s = Server::start_with(2, &args("always"));
    let (acked, _) = write_then_kill(&mut s);
    assert!(acked.len() > 100, "only {} writes", acked.len());
    s.restart(&args("always"));
    let lost = missing(&mut s.client(), "k", acked.len());
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes lost: {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(10)]
    );
}

#[test]
fn everysec_loses_at_most_about_a_second() {
    let mut s = Server::start_with(2, &args("everysec"));
    let (acked, killed) = write_then_kill(&mut s);
    assert!(acked.len() > 100, "only {} writes", acked.len());
    s.restart(&args("everysec"));
    let lost = missing(&mut s.client(), "k", acked.len());
    // Every write acknowledged more than ~a second before the kill is there.
    let horizon = killed - Duration::from_millis(1200);
    let old_lost: Vec<_> = lost.iter().filter(|&&i| acked[i] < horizon).collect();
    assert!(
        old_lost.is_empty(),
        "writes older than a second lost: {old_lost:?}"
    );
}

#[test]
fn truncated_tail_loads_or_stops_start_up() {
    if !testing_tessera() {
        return; // redis-server's AOF layout differs.
    }
    let mut s = Server::start_with(1, &args("always"));
    let mut c = s.client();
    for i in 0..100 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), "v"]);
    }
    s.stop();
    let files = aof_files(&s);
    assert_eq!(files.len(), 1, "{files:?}");
    let whole = std::fs::metadata(&files[0]).unwrap().len();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&files[0])
        .unwrap();
    f.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$5\r\nab")
        .unwrap();
    drop(f);
    let mut no = args("always");
    no.extend(["--aof-load-truncated", "no"]);
    let logs = s.try_restart(&no).expect_err("started on a truncated AOF");
    assert!(
        logs.contains("Unexpected end of file") && logs.contains(&format!("offset {whole}")),
        "{logs}"
    );
    s.restart(&args("always"));
    let mut c = s.client();
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 100);
    assert!(s
        .logs()
        .contains("AOF loaded anyway because aof-load-truncated is enabled"));
    // The bad tail was cut off, and new writes follow the good part.
    assert_eq!(std::fs::metadata(&files[0]).unwrap().len(), whole);
    let _: () = q(&mut c, &["SET", "after", "1"]);
    s.restart(&args("always"));
    let mut c = s.client();
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 101);
}

#[test]
fn other_shard_count_is_refused() {
    if !testing_tessera() {
        return;
    }
    let mut s = Server::start_with(2, &args("everysec"));
    let mut c = s.client();
    let _: () = q(&mut c, &["SET", "a", "1"]);
    s.stop();
    let mut one = args("everysec");
    one.extend(["--shards", "1"]);
    let logs = s
        .try_restart(&one)
        .expect_err("started with another shard count");
    assert!(logs.contains("different number of shards"), "{logs}");
}

/// Sends many commands in one pipeline (replies checked, then dropped).
fn pipe(c: &mut redis::Connection, cmds: impl Iterator<Item = Vec<String>>) {
    let mut p = redis::pipe();
    for cmd in cmds {
        let mut one = redis::cmd(&cmd[0]);
        for a in &cmd[1..] {
            one.arg(a);
        }
        p.add_command(one).ignore();
    }
    let _: () = p.query(c).expect("pipeline");
}

fn info_u64(c: &mut redis::Connection, field: &str) -> u64 {
    let v = info_field(c, field);
    v.parse()
        .unwrap_or_else(|_| panic!("{field}:{v} is not a count"))
}

/// Waits for the rewrite in progress (or scheduled) to end; asserts it
/// ended well and returns `aof_current_size` after it.
fn wait_rewritten(c: &mut redis::Connection, rewrites: u64) -> u64 {
    // One INFO for all three fields: read apart, a rewrite could start
    // between them.
    let done = wait_until(Duration::from_secs(60), || {
        let info: String = q(c, &["INFO", "persistence"]);
        let field = |name: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .map(str::to_string)
                .unwrap_or_default()
        };
        field("aof_rewrite_in_progress") == "0"
            && field("aof_rewrite_scheduled") == "0"
            && field("aof_rewrites").parse::<u64>().unwrap_or(0) >= rewrites
    });
    assert!(done, "the rewrite did not end in time");
    assert_eq!(info_field(c, "aof_last_bgrewrite_status"), "ok");
    info_u64(c, "aof_current_size")
}

/// Whether every shard's file starts with an RDB preamble (tessera only).
fn has_preamble(s: &Server) -> bool {
    aof_files(s).iter().all(|f| {
        std::fs::read(f)
            .map(|d| d.starts_with(b"REDIS"))
            .unwrap_or(false)
    })
}

/// Many overwrites of few keys, then BGREWRITEAOF: the files shrink to
/// about the dataset, which is the same after a restart, and writes after
/// the rewrite land in the new files.
fn rewrite_shrinks(shards: usize, preamble: &str) {
    let mut a = args("everysec");
    a.extend(["--aof-use-rdb-preamble", preamble]);
    let mut s = Server::start_with(shards, &a);
    let mut c = s.client();
    fill(&mut c);
    for round in 0..20 {
        pipe(
            &mut c,
            (0..1000).map(|i| {
                vec![
                    "SET".into(),
                    format!("over:{}", i % 50),
                    format!("{round}:{i}"),
                ]
            }),
        );
        pipe(
            &mut c,
            (0..200).map(|_| vec!["INCR".into(), "counter".into()]),
        );
    }
    let grown = wait_until(Duration::from_secs(10), || {
        info_u64(&mut c, "aof_current_size") > 500_000
    });
    assert!(grown, "the writes did not reach the files");
    let before = info_u64(&mut c, "aof_current_size");
    let r: String = q(&mut c, &["BGREWRITEAOF"]);
    assert_eq!(r, "Background append only file rewriting started");
    let after = wait_rewritten(&mut c, 1);
    eprintln!("aof_current_size {before} -> {after} ({shards} shards, preamble {preamble})");
    assert!(after * 4 < before, "{before} -> {after}");
    assert_eq!(info_u64(&mut c, "aof_base_size"), after);
    if testing_tessera() {
        assert_eq!(has_preamble(&s), preamble == "yes");
    }
    let _: () = q(&mut c, &["SET", "after-rewrite", "1"]);
    let _: () = q(&mut c, &["SELECT", "3"]);
    let _: () = q(&mut c, &["INCR", "counter3"]);
    let _: () = q(&mut c, &["SELECT", "0"]);
    let want = dataset(&mut c);
    assert!(want.contains_key(&(0, "after-rewrite".to_string())));
    s.restart(&a);
    let mut c = s.client();
    assert_eq!(dataset(&mut c), want);
    let n: i64 = q(&mut c, &["GET", "counter"]);
    assert_eq!(n, 4000);
}

fn rewrite_shrinks_with_preamble(shards: usize) {
    rewrite_shrinks(shards, "yes");
}
per_shards!(
    bgrewriteaof_with_preamble,
    super::rewrite_shrinks_with_preamble
);

fn rewrite_shrinks_without_preamble(shards: usize) {
    rewrite_shrinks(shards, "no");
}
per_shards!(
    bgrewriteaof_without_preamble,
    super::rewrite_shrinks_without_preamble
);

/// A writer does INCRs and SETs, each acknowledged, before, during and
/// after a slow rewrite; after SIGKILL (`appendfsync always`) and a restart
/// every acknowledged write is there.
fn writes_during_rewrite(shards: usize) {
    let mut a = args("always");
    a.extend([
        "--aof-use-rdb-preamble",
        if shards == 1 { "yes" } else { "no" },
    ]);
    let mut s = Server::start_with(shards, &a);
    let mut c = s.client();
    let _: () = q(&mut c, &["DEBUG", "POPULATE", "20000"]);
    // Slows the rewrite's walk to about a second.
    let _: () = q(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "60"]);
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let w = {
        let (stop, acked) = (stop.clone(), acked.clone());
        let mut c = s.client();
        std::thread::spawn(move || {
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let r: redis::RedisResult<i64> = redis::cmd("INCR")
                    .arg(format!("ctr:{}", n % 7))
                    .query(&mut c);
                if r.is_err() {
                    break;
                }
                let r: redis::RedisResult<()> =
                    redis::cmd("SET").arg(format!("w:{n}")).arg(n).query(&mut c);
                if r.is_err() {
                    break;
                }
                n += 1;
                acked.store(n, Ordering::Relaxed);
            }
            n
        })
    };
    assert!(wait_until(Duration::from_secs(10), || acked
        .load(Ordering::Relaxed)
        > 100));
    let r: String = q(&mut c, &["BGREWRITEAOF"]);
    assert_eq!(r, "Background append only file rewriting started");
    let at_start = acked.load(Ordering::Relaxed);
    wait_rewritten(&mut c, 1);
    let at_end = acked.load(Ordering::Relaxed);
    assert!(
        at_end > at_start + 50,
        "only {} writes during the rewrite",
        at_end - at_start
    );
    // And some after the swap, appended to the new files.
    let target = at_end + 200;
    assert!(wait_until(Duration::from_secs(10), || acked
        .load(Ordering::Relaxed)
        > target));
    stop.store(true, Ordering::Relaxed);
    let n = w.join().expect("writer");
    s.kill();
    s.restart(&a);
    let mut c = s.client();
    for k in 0..7 {
        let want = (0..n).filter(|i| i % 7 == k).count() as i64;
        let got: Option<i64> = q(&mut c, &["GET", &format!("ctr:{k}")]);
        assert_eq!(got.unwrap_or(0), want, "ctr:{k} after {n} writes");
    }
    let lost = missing(&mut c, "w:", n);
    assert!(
        lost.is_empty(),
        "{} of {n} lost: {:?}",
        lost.len(),
        &lost[..lost.len().min(10)]
    );
    let keys: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(keys as usize, 20000 + 7 + n);
}
per_shards!(
    acknowledged_writes_survive_a_rewrite,
    super::writes_during_rewrite
);

/// With `auto-aof-rewrite-min-size 1mb` and the default 100 %, writing a
/// little over a megabyte of overwrites starts a rewrite by itself.
#[test]
fn automatic_rewrite_on_growth() {
    let mut a = args("everysec");
    a.extend([
        "--auto-aof-rewrite-min-size",
        "1mb",
        "--auto-aof-rewrite-percentage",
        "100",
    ]);
    let mut s = Server::start_with(2, &a);
    let mut c = s.client();
    let value = "v".repeat(1000);
    pipe(
        &mut c,
        (0..800).map(|i| vec!["SET".into(), format!("k{}", i % 10), value.clone()]),
    );
    // 800 KB: below the minimum, so a few cron ticks start nothing.
    assert!(!wait_until(Duration::from_millis(300), || {
        info_u64(&mut c, "aof_rewrites") > 0
    }));
    pipe(
        &mut c,
        (0..400).map(|i| vec!["SET".into(), format!("k{}", i % 10), value.clone()]),
    );
    let after = wait_rewritten(&mut c, 1);
    assert!(
        after < 100_000,
        "aof_current_size {after} after the automatic rewrite"
    );
    assert!(
        s.logs().contains("Starting automatic rewriting of AOF on"),
        "{}",
        s.logs()
    );
    // The base is now the rewritten size: no second rewrite until it doubles.
    pipe(
        &mut c,
        (0..20).map(|i| vec!["SET".into(), format!("k{}", i % 10), value.clone()]),
    );
    assert!(!wait_until(Duration::from_millis(500), || info_u64(
        &mut c,
        "aof_rewrites"
    ) > 1));
    let before: String = q(&mut c, &["GET", "k3"]);
    s.restart(&a);
    let mut c = s.client();
    let got: String = q(&mut c, &["GET", "k3"]);
    assert_eq!(got, before);
}

/// INFO persistence's rewrite fields before, during and after a rewrite,
/// and how a rewrite and a save stand aside for each other.
#[test]
fn info_and_replies_around_a_rewrite() {
    let s = Server::start_with(2, &args("everysec"));
    let mut c = s.client();
    for (field, want) in [
        ("aof_enabled", "1"),
        ("aof_rewrite_in_progress", "0"),
        ("aof_rewrite_scheduled", "0"),
        ("aof_last_rewrite_time_sec", "-1"),
        ("aof_current_rewrite_time_sec", "-1"),
        ("aof_last_bgrewrite_status", "ok"),
        ("aof_rewrites", "0"),
        ("aof_base_size", "0"),
    ] {
        assert_eq!(info_field(&mut c, field), want, "{field}");
    }
    pipe(
        &mut c,
        (0..20000).map(|i| vec!["SET".into(), format!("key:{i}"), i.to_string()]),
    );
    assert!(wait_until(Duration::from_secs(5), || {
        info_u64(&mut c, "aof_current_size") > 0
    }));
    let _: () = q(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "100"]);
    let r: String = q(&mut c, &["BGREWRITEAOF"]);
    assert_eq!(r, "Background append only file rewriting started");
    assert_eq!(info_field(&mut c, "aof_rewrite_in_progress"), "1");
    assert!(info_u64(&mut c, "aof_current_rewrite_time_sec") < 10);
    let e = redis::cmd("BGREWRITEAOF")
        .query::<String>(&mut c)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "An error was signalled by the server - ResponseError: Background append only file rewriting already in progress"
    );
    let e = redis::cmd("BGSAVE").query::<String>(&mut c).unwrap_err();
    assert!(e.to_string().contains("Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."), "{e}");
    let r: String = q(&mut c, &["BGSAVE", "SCHEDULE"]);
    assert_eq!(r, "Background saving scheduled");
    let size = wait_rewritten(&mut c, 1);
    assert_eq!(info_u64(&mut c, "aof_base_size"), size);
    assert!(info_u64(&mut c, "aof_last_rewrite_time_sec") < 30);
    assert_eq!(info_field(&mut c, "aof_current_rewrite_time_sec"), "-1");
    // The scheduled BGSAVE runs once the rewrite is over.
    assert!(wait_until(Duration::from_secs(30), || {
        info_field(&mut c, "rdb_saves") == "1"
            && info_field(&mut c, "rdb_bgsave_in_progress") == "0"
    }));
    // BGREWRITEAOF during a BGSAVE is scheduled, then runs.
    let r: String = q(&mut c, &["BGSAVE"]);
    assert_eq!(r, "Background saving started");
    let r: String = q(&mut c, &["BGREWRITEAOF"]);
    assert_eq!(r, "Background append only file rewriting scheduled");
    assert_eq!(info_field(&mut c, "aof_rewrite_scheduled"), "1");
    let _: () = q(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    wait_rewritten(&mut c, 2);
    assert_eq!(info_field(&mut c, "aof_rewrites"), "2");
}

/// With `appendonly no` BGREWRITEAOF still writes the files (as Redis
/// does); a restart with `appendonly yes` loads them. INFO has no sizes.
#[test]
fn rewrite_with_appendonly_off_writes_loadable_files() {
    let off = [
        "--enable-debug-command",
        "yes",
        "--appendonly",
        "no",
        "--save",
        "",
    ];
    let mut s = Server::start_with(2, &off);
    let mut c = s.client();
    fill(&mut c);
    let want = dataset(&mut c);
    let info: String = q(&mut c, &["INFO", "persistence"]);
    assert!(
        info.contains("aof_enabled:0") && !info.contains("aof_current_size"),
        "{info}"
    );
    let r: String = q(&mut c, &["BGREWRITEAOF"]);
    assert_eq!(r, "Background append only file rewriting started");
    assert!(wait_until(Duration::from_secs(30), || {
        info_field(&mut c, "aof_rewrites") == "1"
            && info_field(&mut c, "aof_rewrite_in_progress") == "0"
    }));
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "ok");
    s.restart(&args("everysec"));
    let mut c = s.client();
    assert_eq!(dataset(&mut c), want);
}

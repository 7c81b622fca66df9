//! The append-only file: every write survives a restart (all types, several
//! databases, FLUSHDB/SWAPDB, cross-shard writes); with `appendfsync
//! always` every acknowledged write survives SIGKILL, with `everysec` at
//! most about a second is lost; a truncated tail loads with
//! `aof-load-truncated yes` and stops start-up otherwise.

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::dataset::{dataset, fill, q};
use common::{testing_tessera, Server};

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

fn missing(s: &Server, n: usize) -> Vec<usize> {
    let mut c = s.client();
    let mut out = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let keys: Vec<String> = chunk.iter().map(|i| format!("k{i}")).collect();
        let vals: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query(&mut c).unwrap();
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
    let lost = missing(&s, acked.len());
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
    let lost = missing(&s, acked.len());
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

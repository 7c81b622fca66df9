//! RDB snapshots end to end: SAVE, BGSAVE (point in time, while writes go
//! on), DEBUG RELOAD, save points, SHUTDOWN SAVE/NOSAVE and SIGTERM, loading
//! at start-up, refusing a corrupt or truncated file, INFO persistence.
//! Datasets are compared key by key: type, encoding, value digest and TTL.

mod common;

use std::time::{Duration, Instant};

use common::dataset::{dataset, fill, info_field, q};
use common::{testing_tessera, wait_until, Server};

const DEBUG: &[&str] = &["--enable-debug-command", "yes"];

fn save_restart_load(shards: usize) {
    let mut s = Server::start_with(shards, DEBUG);
    let mut c = s.client();
    fill(&mut c);
    let before = dataset(&mut c);
    assert_eq!(before.len(), 39, "{before:?}");
    let digest: String = q(&mut c, &["DEBUG", "DIGEST"]);
    let r: String = q(&mut c, &["SAVE"]);
    assert_eq!(r, "OK");
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    s.restart(DEBUG);
    let mut c = s.client();
    assert_eq!(dataset(&mut c), before);
    let after: String = q(&mut c, &["DEBUG", "DIGEST"]);
    assert_eq!(after, digest);
    let loaded: usize = info_field(&mut c, "rdb_last_load_keys_loaded")
        .parse()
        .unwrap();
    assert_eq!(loaded, before.len());
    // The TTLs came back as deadlines, not reset.
    let ttl: i64 = q(&mut c, &["TTL", "d0:ttl"]);
    assert!((99_000..=100_000).contains(&ttl), "{ttl}");
}
per_shards!(save_and_restart, super::save_restart_load);

fn reload_round_trip(shards: usize) {
    let s = Server::start_with(shards, DEBUG);
    let mut c = s.client();
    fill(&mut c);
    let before = dataset(&mut c);
    let r: String = q(&mut c, &["DEBUG", "RELOAD"]);
    assert_eq!(r, "OK");
    assert_eq!(dataset(&mut c), before);
    // NOSAVE loads the file as it is: later writes are gone.
    let _: () = q(&mut c, &["SET", "later", "1"]);
    let _: () = q(&mut c, &["DEL", "d0:int"]);
    let r: String = q(&mut c, &["DEBUG", "RELOAD", "NOSAVE"]);
    assert_eq!(r, "OK");
    assert_eq!(dataset(&mut c), before);
}
per_shards!(debug_reload, super::reload_round_trip);

/// BGSAVE answers once the snapshot's point in time is fixed; every write
/// after that — overwrites, deletes, new keys, cross-shard MSETs — is left
/// out of the file, and none is half in.
#[test]
fn bgsave_is_point_in_time_under_writes() {
    let mut s = Server::start_with(2, DEBUG);
    let mut c = s.client();
    let _: () = q(&mut c, &["DEBUG", "POPULATE", "20000"]);
    // Ten keys on different slots (so both shards), set together.
    let group: Vec<String> = (0..10).map(|i| format!("group:{i}")).collect();
    let mut mset = vec!["MSET"];
    for k in &group {
        mset.push(k);
        mset.push("0");
    }
    let _: () = q(&mut c, &mset);
    let before = {
        let digest: String = q(&mut c, &["DEBUG", "DIGEST"]);
        digest
    };
    // Slow the walk down so the writes below land while it runs.
    let _: () = q(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "50"]);
    let r: String = q(&mut c, &["BGSAVE"]);
    assert_eq!(r, "Background saving started");
    assert_eq!(info_field(&mut c, "rdb_bgsave_in_progress"), "1");
    // A second save is refused while this one runs.
    let e = redis::cmd("BGSAVE").query::<String>(&mut c).unwrap_err();
    assert!(
        e.to_string()
            .contains("Background save already in progress"),
        "{e}"
    );
    let e = redis::cmd("SAVE").query::<String>(&mut c).unwrap_err();
    assert!(
        e.to_string()
            .contains("Background save already in progress"),
        "{e}"
    );

    let writer = {
        let mut w = s.client();
        let group = group.clone();
        std::thread::spawn(move || {
            let mut n = 0u64;
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                n += 1;
                let v = n.to_string();
                let mut mset = redis::cmd("MSET");
                for k in &group {
                    mset.arg(k).arg(&v);
                }
                let _: () = mset.query(&mut w).unwrap();
                let i = n % 20000;
                let _: () = redis::cmd("SET")
                    .arg(format!("key:{i}"))
                    .arg("overwritten")
                    .query(&mut w)
                    .unwrap();
                let _: () = redis::cmd("DEL")
                    .arg(format!("key:{}", (i + 7) % 20000))
                    .query(&mut w)
                    .unwrap();
                let _: () = redis::cmd("SET")
                    .arg(format!("new:{n}"))
                    .arg("x")
                    .query(&mut w)
                    .unwrap();
                let done: String = redis::cmd("INFO").arg("persistence").query(&mut w).unwrap();
                if done.contains("rdb_bgsave_in_progress:0") || Instant::now() > deadline {
                    return n;
                }
            }
        })
    };
    let rounds = writer.join().expect("writer");
    assert!(
        rounds > 10,
        "the writes did not overlap the save ({rounds} rounds)"
    );
    assert!(wait_until(Duration::from_secs(30), || info_field(
        &mut c,
        "rdb_bgsave_in_progress"
    ) == "0"));
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    // Writes after the snapshot began are still unsaved.
    let dirty: u64 = info_field(&mut c, "rdb_changes_since_last_save")
        .parse()
        .unwrap();
    assert!(dirty >= rounds, "{dirty} < {rounds}");

    let _: () = q(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    // NOSAVE on exit: only the BGSAVE's file is on disk.
    let r: String = q(&mut c, &["DEBUG", "RELOAD", "NOSAVE"]);
    assert_eq!(r, "OK");
    let after: String = q(&mut c, &["DEBUG", "DIGEST"]);
    assert_eq!(
        after, before,
        "the file is not the dataset as it was at BGSAVE"
    );
    let values: Vec<String> = redis::cmd("MGET").arg(&group).query(&mut c).unwrap();
    assert!(values.iter().all(|v| v == "0"), "{values:?}");
    s.stop();
}

#[test]
fn save_points_start_a_bgsave() {
    let s = Server::start_with(2, DEBUG);
    let mut c = s.client();
    let before: u64 = q(&mut c, &["LASTSAVE"]);
    let _: () = q(&mut c, &["CONFIG", "SET", "save", "1 3"]);
    for i in 0..3 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), "v"]);
    }
    assert!(
        wait_until(Duration::from_secs(10), || info_field(&mut c, "rdb_saves")
            != "0"),
        "no save within 10 s"
    );
    assert!(s.dir().join("dump.rdb").exists());
    assert!(s.logs().contains("3 changes in 1 seconds. Saving...") || !testing_tessera());
    let after: u64 = q(&mut c, &["LASTSAVE"]);
    assert!(after >= before);
    assert!(wait_until(Duration::from_secs(10), || info_field(
        &mut c,
        "rdb_bgsave_in_progress"
    ) == "0"));
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
}

#[test]
fn shutdown_save_nosave_and_sigterm() {
    let mut s = Server::start_with(2, DEBUG);
    let mut c = s.client();
    let _: () = q(&mut c, &["SET", "a", "1"]);
    // With no save points, SHUTDOWN does not save...
    let _ = redis::cmd("SHUTDOWN").query::<()>(&mut c);
    assert!(wait_until(Duration::from_secs(10), || !s.is_running()));
    assert!(!s.dir().join("dump.rdb").exists());
    s.restart(DEBUG);
    let mut c = s.client();
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 0);
    // ...SHUTDOWN SAVE does.
    let _: () = q(&mut c, &["SET", "b", "2"]);
    let _ = redis::cmd("SHUTDOWN").arg("SAVE").query::<()>(&mut c);
    assert!(wait_until(Duration::from_secs(10), || !s.is_running()));
    // SIGTERM with save points set saves too.
    s.restart(&["--enable-debug-command", "yes", "--save", "3600 1"]);
    let mut c = s.client();
    let v: String = q(&mut c, &["GET", "b"]);
    assert_eq!(v, "2");
    let _: () = q(&mut c, &["SET", "c", "3"]);
    // SHUTDOWN NOSAVE overrides the save points.
    let _: () = q(&mut c, &["SET", "lost", "1"]);
    let _ = redis::cmd("SHUTDOWN").arg("NOSAVE").query::<()>(&mut c);
    assert!(wait_until(Duration::from_secs(10), || !s.is_running()));
    s.restart(&["--enable-debug-command", "yes", "--save", "3600 1"]);
    let mut c = s.client();
    let keys: Vec<String> = q(&mut c, &["KEYS", "*"]);
    assert_eq!(keys, vec!["b".to_string()]);
    let _: () = q(&mut c, &["SET", "c", "3"]);
    s.stop(); // SIGTERM
    s.restart(DEBUG);
    let mut c = s.client();
    let v: String = q(&mut c, &["GET", "c"]);
    assert_eq!(v, "3");
}

/// A damaged file stops start-up with a message naming where it is bad;
/// the server never runs on part of a dataset.
#[test]
fn corrupt_or_truncated_rdb_is_refused() {
    if !testing_tessera() {
        return; // redis-server's messages differ.
    }
    let mut s = Server::start_with(2, DEBUG);
    let mut c = s.client();
    let _: () = q(&mut c, &["DEBUG", "POPULATE", "1000"]);
    let _: () = q(&mut c, &["SAVE"]);
    s.stop();
    let path = s.dir().join("dump.rdb");
    let good = std::fs::read(&path).unwrap();

    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x5a;
    std::fs::write(&path, &flipped).unwrap();
    let logs = s.try_restart(DEBUG).expect_err("started on a corrupt file");
    assert!(logs.contains("offset"), "{logs}");

    std::fs::write(&path, &good[..good.len() * 2 / 3]).unwrap();
    let logs = s
        .try_restart(DEBUG)
        .expect_err("started on a truncated file");
    assert!(logs.contains("offset"), "{logs}");

    std::fs::write(&path, &good).unwrap();
    s.restart(DEBUG);
    let mut c = s.client();
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 1000);
}

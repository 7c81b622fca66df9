//! BGSAVE latency (issue 4): GETs on a shard keep being answered while it
//! snapshots a million keys. A test binary of its own, so no other test of
//! this suite loads the two CPUs while it measures.

mod common;

use std::time::{Duration, Instant};

use common::dataset::{info_field, q};
use common::Server;

const DEBUG: &[&str] = &["--enable-debug-command", "yes"];

/// GETs keep being answered quickly while a BGSAVE of a million keys runs.
#[test]
fn bgsave_of_a_million_keys_keeps_answering() {
    let s = Server::start_with(2, DEBUG);
    let mut c = s.client();
    let _: () = q(&mut c, &["DEBUG", "POPULATE", "1000000"]);
    let r: String = q(&mut c, &["BGSAVE"]);
    assert_eq!(r, "Background saving started");
    let mut g = s.client();
    let mut lat = Vec::new();
    let mut i = 0u64;
    loop {
        let t = Instant::now();
        let v: Option<String> = redis::cmd("GET")
            .arg(format!("key:{}", (i * 7919) % 1_000_000))
            .query(&mut g)
            .unwrap();
        lat.push(t.elapsed());
        assert!(v.is_some());
        i += 1;
        if i % 100 == 0 && info_field(&mut c, "rdb_bgsave_in_progress") == "0" {
            break;
        }
        assert!(i < 10_000_000, "BGSAVE never ended");
    }
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    lat.sort();
    let p99 = lat[lat.len() * 99 / 100];
    eprintln!(
        "{} GETs during BGSAVE, p99 {p99:?}, max {:?}",
        lat.len(),
        lat.last().unwrap()
    );
    assert!(
        lat.len() >= 100,
        "BGSAVE too short to measure ({} GETs)",
        lat.len()
    );
    assert!(p99 < Duration::from_millis(5), "p99 {p99:?}");
    let size = std::fs::metadata(s.dir().join("dump.rdb")).unwrap().len();
    assert!(size > 10_000_000, "{size}");
}

//! Replication (issue 5): full sync, streaming, partial resync after a
//! broken link, forced full sync past the backlog, promotion with PSYNC2,
//! chained replicas, WAIT, min-replicas-to-write, read-only replicas, and a
//! master that sends garbage; interop with redis-server in both directions.
//! Every test starts real processes on ports of its own.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::dataset::{contents, fill, q};
use common::{peer, wait_until, Server};

const SYNC_TIMEOUT: Duration = Duration::from_secs(60);

fn debug() -> Vec<&'static str> {
    vec!["--enable-debug-command", "yes"]
}

fn info(c: &mut redis::Connection, section: &str) -> String {
    q(c, &["INFO", section])
}

/// `name:value` of an INFO text.
fn field(info: &str, name: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
}

fn stat(c: &mut redis::Connection, name: &str) -> u64 {
    let s = info(c, "stats");
    field(&s, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in INFO stats"))
}

fn link_up(s: &Server) -> bool {
    let Ok(client) = redis::Client::open(format!("redis://{}/", s.addr())) else {
        return false;
    };
    let Ok(mut c) = client.get_connection_with_timeout(Duration::from_secs(2)) else {
        return false;
    };
    let Ok(i) = redis::cmd("INFO")
        .arg("replication")
        .query::<String>(&mut c)
    else {
        return false;
    };
    field(&i, "master_link_status").as_deref() == Some("up")
}

fn wait_link_up(replica: &Server) {
    assert!(
        wait_until(SYNC_TIMEOUT, || link_up(replica)),
        "replica never reached master_link_status:up\n{}",
        replica.logs()
    );
}

/// A tessera replica of `master` with `shards` shards, synced.
fn replica_of(master: &Server, shards: usize, extra: &[&str]) -> Server {
    let port = master.port.to_string();
    let mut args = debug();
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--replicaof", "127.0.0.1", &port]);
    let r = Server::start_with(shards, &args);
    wait_link_up(&r);
    r
}

fn digest(c: &mut redis::Connection) -> String {
    q(c, &["DEBUG", "DIGEST"])
}

/// Waits until both servers hold the same data (DEBUG DIGEST).
fn wait_same_digest(master: &Server, replica: &Server) {
    let (mut m, mut r) = (master.client(), replica.client());
    let mut last = (String::new(), String::new());
    let same = wait_until(SYNC_TIMEOUT, || {
        last = (digest(&mut m), digest(&mut r));
        last.0 == last.1
    });
    assert!(
        same,
        "digests differ: master {} replica {}\n{}",
        last.0,
        last.1,
        replica.logs()
    );
}

/// Writes acknowledged SETs and INCRs until `stop`; returns how many.
fn writer(
    master: &Server,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
) -> std::thread::JoinHandle<()> {
    let mut c = master.client();
    std::thread::spawn(move || {
        let mut i = 0u64;
        while !stop.load(Ordering::Relaxed) && i < 1_000_000 {
            let _: () = q(&mut c, &["SET", &format!("w:{i}"), &i.to_string()]);
            let _: i64 = q(&mut c, &["INCR", "w:counter"]);
            i += 1;
            done.store(i, Ordering::Relaxed);
        }
    })
}

fn full_sync_under_writes(master_shards: usize, replica_shards: usize, keys: u64, load: &str) {
    let master = Server::start_with(master_shards, &debug());
    let mut m = master.client();
    fill(&mut m);
    let _: () = q(&mut m, &["DEBUG", "POPULATE", &keys.to_string()]);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let w = writer(&master, stop.clone(), done.clone());
    let replica = replica_of(&master, replica_shards, &["--repl-diskless-load", load]);
    // Writes go on for a while after the sync, then stop.
    let at_sync = done.load(Ordering::Relaxed);
    wait_until(SYNC_TIMEOUT, || {
        w.is_finished() || done.load(Ordering::Relaxed) > at_sync + 500
    });
    stop.store(true, Ordering::Relaxed);
    w.join().expect("writer");
    let n = done.load(Ordering::Relaxed);
    wait_same_digest(&master, &replica);
    let mut r = replica.client();
    let count: u64 = q(&mut r, &["GET", "w:counter"]);
    assert_eq!(count, n);
    let size: u64 = q(&mut r, &["DBSIZE"]);
    let msize: u64 = q(&mut m, &["DBSIZE"]);
    assert_eq!(size, msize);
    assert!(size >= keys + n);
    // A key of each kind reads the same.
    let want = contents(&mut m);
    let got = contents(&mut r);
    assert_eq!(want.len(), got.len());
    for (k, v) in want
        .iter()
        .filter(|(k, _)| k.0 != 0 || !k.1.starts_with("key:"))
        .take(200)
    {
        assert_eq!(got.get(k), Some(v), "{k:?}");
    }
}

#[test]
fn full_sync_of_200k_keys_two_shards_under_writes() {
    full_sync_under_writes(2, 2, 200_000, "disabled");
}

#[test]
fn full_sync_between_shard_counts() {
    full_sync_under_writes(1, 2, 5_000, "disabled");
    full_sync_under_writes(2, 1, 5_000, "on-empty-db");
    full_sync_under_writes(2, 3, 5_000, "swapdb");
}

#[test]
fn info_and_role_on_both_sides() {
    let master = Server::start_with(2, &debug());
    let replica = replica_of(&master, 1, &[]);
    let (mut m, mut r) = (master.client(), replica.client());
    let _: () = q(&mut m, &["SET", "a", "1"]);
    let n: i64 = q(&mut m, &["WAIT", "1", "5000"]);
    assert_eq!(n, 1);
    let mi = info(&mut m, "replication");
    assert_eq!(field(&mi, "role").as_deref(), Some("master"));
    assert_eq!(field(&mi, "connected_slaves").as_deref(), Some("1"));
    let slave0 = field(&mi, "slave0").expect("slave0");
    assert!(
        slave0.starts_with(&format!(
            "ip=127.0.0.1,port={},state=online,offset=",
            replica.port
        )),
        "{slave0}"
    );
    assert_eq!(field(&mi, "repl_backlog_active").as_deref(), Some("1"));
    let ri = info(&mut r, "replication");
    for (k, v) in [
        ("role", "slave"),
        ("master_host", "127.0.0.1"),
        ("master_link_status", "up"),
        ("master_sync_in_progress", "0"),
        ("slave_read_only", "1"),
        ("slave_priority", "100"),
    ] {
        assert_eq!(field(&ri, k).as_deref(), Some(v), "{k} in\n{ri}");
    }
    assert_eq!(field(&ri, "master_port"), Some(master.port.to_string()));
    assert_eq!(field(&ri, "master_replid"), field(&mi, "master_replid"));
    // ROLE: master, offset, [[ip, port, offset]]; slave, host, port, state, offset.
    let role: redis::Value = q(&mut m, &["ROLE"]);
    let redis::Value::Array(items) = role else {
        panic!("{role:?}")
    };
    assert_eq!(items[0], redis::Value::BulkString(b"master".to_vec()));
    let redis::Value::Array(peers) = &items[2] else {
        panic!("{items:?}")
    };
    assert_eq!(peers.len(), 1);
    let role: (String, String, u16, String, i64) = q(&mut r, &["ROLE"]);
    assert_eq!(role.0, "slave");
    assert_eq!(role.2, master.port);
    assert_eq!(role.3, "connected");
    assert!(role.4 > 0);
    // A read-only replica refuses writes from clients, with Redis's text.
    let e = redis::cmd("SET")
        .arg("x")
        .arg("1")
        .query::<()>(&mut r)
        .unwrap_err();
    assert_eq!(e.code(), Some("READONLY"));
    assert_eq!(
        e.detail(),
        Some("You can't write against a read only replica.")
    );
    let e = redis::cmd("WAIT")
        .arg(0)
        .arg(0)
        .query::<i64>(&mut r)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("WAIT cannot be used with replica instances"),
        "{e}"
    );
    let _: () = q(&mut r, &["CONFIG", "SET", "replica-read-only", "no"]);
    let _: () = q(&mut r, &["SET", "local", "1"]);
    // Already connected to that master.
    let port = master.port.to_string();
    let ok: String = q(&mut r, &["REPLICAOF", "127.0.0.1", &port]);
    assert_eq!(ok, "OK Already connected to specified master");
    let e = redis::cmd("REPLICAOF")
        .arg("h")
        .arg("70000")
        .query::<()>(&mut r)
        .unwrap_err();
    assert_eq!(e.detail(), Some("Invalid master port"));
}

#[test]
fn partial_resync_after_the_link_breaks() {
    for shards in [1, 2] {
        let master = Server::start_with(shards, &debug());
        let replica = replica_of(&master, shards, &[]);
        let (mut m, mut r) = (master.client(), replica.client());
        for i in 0..100 {
            let _: () = q(&mut m, &["SET", &format!("k{i}"), "v"]);
        }
        wait_same_digest(&master, &replica);
        let (full, partial) = (stat(&mut m, "sync_full"), stat(&mut m, "sync_partial_ok"));
        // Broken from the replica's side, then from the master's.
        for kind in ["master", "replica"] {
            let con = if kind == "master" { &mut r } else { &mut m };
            let killed: i64 = q(con, &["CLIENT", "KILL", "TYPE", kind]);
            assert_eq!(killed, 1, "CLIENT KILL TYPE {kind}");
            for i in 0..1000 {
                let _: () = q(&mut m, &["SET", &format!("{kind}:{i}"), "x"]);
            }
            let _: i64 = q(&mut m, &["INCR", "n"]);
            wait_link_up(&replica);
            wait_same_digest(&master, &replica);
        }
        assert_eq!(stat(&mut m, "sync_full"), full, "no full sync expected");
        assert_eq!(stat(&mut m, "sync_partial_ok"), partial + 2);
    }
}

fn signal(s: &Server, sig: i32) {
    // SAFETY: kill(2) on the PID of our own running child.
    unsafe {
        libc::kill(s.pid() as libc::pid_t, sig);
    }
}

#[test]
fn writing_past_the_backlog_forces_a_full_sync() {
    let master = Server::start_with(
        2,
        &[&debug()[..], &["--repl-backlog-size", "16kb"]].concat(),
    );
    let replica = replica_of(&master, 2, &[]);
    let mut m = master.client();
    let _: () = q(&mut m, &["SET", "before", "1"]);
    wait_same_digest(&master, &replica);
    let full = stat(&mut m, "sync_full");
    // The replica is stopped, its link dropped, and far more than the
    // backlog is written before it can ask to continue.
    signal(&replica, libc::SIGSTOP);
    let killed: i64 = q(&mut m, &["CLIENT", "KILL", "TYPE", "replica"]);
    assert_eq!(killed, 1);
    let value = "v".repeat(1000);
    for i in 0..2000 {
        let _: () = q(&mut m, &["SET", &format!("big:{i}"), &value]);
    }
    signal(&replica, libc::SIGCONT);
    wait_link_up(&replica);
    wait_same_digest(&master, &replica);
    assert_eq!(stat(&mut m, "sync_full"), full + 1);
}

#[test]
fn a_replica_past_the_output_buffer_limit_is_dropped_and_resyncs() {
    let master = Server::start_with(
        2,
        &[
            &debug()[..],
            &["--repl-backlog-size", "16kb"],
            &["--client-output-buffer-limit", "replica", "2mb", "0", "0"],
        ]
        .concat(),
    );
    let replica = replica_of(&master, 1, &[]);
    let mut m = master.client();
    let _: () = q(&mut m, &["SET", "before", "1"]);
    wait_same_digest(&master, &replica);
    let full = stat(&mut m, "sync_full");
    // A stopped replica reads nothing: the master must drop it rather than
    // keep its 40 MB of stream.
    signal(&replica, libc::SIGSTOP);
    let value = "v".repeat(10_000);
    for batch in 0..40 {
        let mut pipe = redis::pipe();
        for i in 0..100 {
            pipe.cmd("SET")
                .arg(format!("big:{batch}:{i}"))
                .arg(&value)
                .ignore();
        }
        let _: () = pipe.query(&mut m).expect("pipelined SETs");
    }
    let dropped = wait_until(SYNC_TIMEOUT, || {
        let i = info(&mut m, "replication");
        field(&i, "connected_slaves").as_deref() == Some("0")
    });
    let logs = master.logs();
    signal(&replica, libc::SIGCONT);
    assert!(dropped, "the lagging replica was not dropped\n{logs}");
    assert!(
        logs.contains("overcoming of output buffer limits"),
        "no log line for the drop\n{logs}"
    );
    let i = info(&mut m, "replication");
    let histlen: u64 = field(&i, "repl_backlog_histlen")
        .and_then(|v| v.parse().ok())
        .expect("repl_backlog_histlen");
    assert!(histlen < 4 << 20, "backlog kept {histlen} bytes");
    wait_link_up(&replica);
    wait_same_digest(&master, &replica);
    assert_eq!(stat(&mut m, "sync_full"), full + 1);
}

#[test]
fn a_cut_off_replica_with_serve_stale_data_no_answers_masterdown() {
    let mut master = Server::start_with(1, &debug());
    let replica = replica_of(&master, 2, &["--replica-serve-stale-data", "no"]);
    let mut m = master.client();
    let _: () = q(&mut m, &["SET", "k", "old"]);
    wait_same_digest(&master, &replica);
    let mut r = replica.client();
    let v: String = q(&mut r, &["GET", "k"]);
    assert_eq!(v, "old");
    master.kill();
    assert!(
        wait_until(SYNC_TIMEOUT, || !link_up(&replica)),
        "the link stayed up"
    );
    // The same answers as redis-server 7.0 gives.
    for cmd in [&["GET", "k"][..], &["PING"], &["DBSIZE"], &["EXISTS", "k"]] {
        let e = redis::cmd(cmd[0])
            .arg(&cmd[1..])
            .query::<redis::Value>(&mut r)
            .unwrap_err();
        assert_eq!(e.code(), Some("MASTERDOWN"), "{cmd:?}");
        assert_eq!(
            e.detail(),
            Some("Link with MASTER is down and replica-serve-stale-data is set to 'no'."),
            "{cmd:?}"
        );
    }
    let e = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query::<()>(&mut r)
        .unwrap_err();
    assert_eq!(e.code(), Some("READONLY"));
    for cmd in [
        &["INFO", "replication"][..],
        &["ECHO", "x"],
        &["ROLE"],
        &["SELECT", "0"],
        &["CONFIG", "GET", "port"],
        &["CLIENT", "ID"],
    ] {
        redis::cmd(cmd[0])
            .arg(&cmd[1..])
            .query::<redis::Value>(&mut r)
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    }
    // Serving stale data again is one CONFIG SET away.
    let _: () = q(
        &mut r,
        &["CONFIG", "SET", "replica-serve-stale-data", "yes"],
    );
    let v: String = q(&mut r, &["GET", "k"]);
    assert_eq!(v, "old");
    let _: () = q(&mut r, &["CONFIG", "SET", "replica-serve-stale-data", "no"]);
    // With a master again, everything is served.
    let master2 = Server::start_with(1, &debug());
    let mut m2 = master2.client();
    let _: () = q(&mut m2, &["SET", "k", "new"]);
    let port = master2.port.to_string();
    let _: () = q(&mut r, &["REPLICAOF", "127.0.0.1", &port]);
    wait_link_up(&replica);
    wait_same_digest(&master2, &replica);
    let v: String = q(&mut r, &["GET", "k"]);
    assert_eq!(v, "new");
}

#[test]
fn promotion_lets_a_sibling_continue_and_chains_keep_the_id() {
    let master = Server::start_with(2, &debug());
    let a = replica_of(&master, 2, &[]);
    let b = replica_of(&master, 1, &[]);
    // A replica of a replica carries the top master's ID and stream.
    let c = replica_of(&a, 2, &[]);
    let mut m = master.client();
    for i in 0..200 {
        let _: () = q(&mut m, &["SET", &format!("k{i}"), &i.to_string()]);
    }
    let _: () = q(&mut m, &["MSET", "x1", "1", "x2", "2", "x3", "3"]);
    wait_same_digest(&master, &a);
    wait_same_digest(&master, &b);
    wait_same_digest(&master, &c);
    let id = field(&info(&mut m, "replication"), "master_replid");
    let mut cc = c.client();
    assert_eq!(field(&info(&mut cc, "replication"), "master_replid"), id);
    // A becomes a master; B follows it and continues partially.
    let mut ac = a.client();
    let _: () = q(&mut ac, &["REPLICAOF", "NO", "ONE"]);
    let ai = info(&mut ac, "replication");
    assert_eq!(field(&ai, "role").as_deref(), Some("master"));
    assert_eq!(field(&ai, "master_replid2"), id);
    assert_ne!(field(&ai, "master_replid"), id);
    let mut bc = b.client();
    let port = a.port.to_string();
    let _: () = q(&mut bc, &["REPLICAOF", "127.0.0.1", &port]);
    wait_link_up(&b);
    let _: () = q(&mut ac, &["SET", "after", "promotion"]);
    wait_same_digest(&a, &b);
    wait_same_digest(&a, &c);
    assert_eq!(
        stat(&mut ac, "sync_full"),
        1,
        "only C's first sync was full"
    );
    assert!(stat(&mut ac, "sync_partial_ok") >= 1);
    let got: String = q(&mut bc, &["GET", "after"]);
    assert_eq!(got, "promotion");
}

#[test]
fn wait_and_min_replicas_to_write() {
    let master = Server::start_with(2, &debug());
    let mut m = master.client();
    // No replicas: WAIT answers at once.
    let n: i64 = q(&mut m, &["WAIT", "1", "100"]);
    assert_eq!(n, 0);
    let mut replica = replica_of(&master, 1, &[]);
    for i in 0..50 {
        let _: () = q(&mut m, &["SET", &format!("k{i}"), "v"]);
    }
    let n: i64 = q(&mut m, &["WAIT", "1", "5000"]);
    assert_eq!(n, 1);
    let n: i64 = q(&mut m, &["WAIT", "2", "300"]);
    assert_eq!(n, 1, "one replica, timed out waiting for two");
    let e = redis::cmd("WAIT")
        .arg(1)
        .arg(-1)
        .query::<i64>(&mut m)
        .unwrap_err();
    assert_eq!(e.detail(), Some("timeout is negative"));
    let _: () = q(
        &mut m,
        &[
            "CONFIG",
            "SET",
            "min-replicas-to-write",
            "1",
            "min-replicas-max-lag",
            "2",
        ],
    );
    let _: () = q(&mut m, &["SET", "allowed", "1"]);
    replica.kill();
    let refused = wait_until(Duration::from_secs(15), || {
        redis::cmd("SET")
            .arg("k")
            .arg("v")
            .query::<()>(&mut m)
            .is_err_and(|e| e.code() == Some("NOREPLICAS"))
    });
    assert!(refused, "writes still accepted with no replica");
    let e = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query::<()>(&mut m)
        .unwrap_err();
    assert_eq!(e.detail(), Some("Not enough good replicas to write."));
    // Reads still work.
    let v: String = q(&mut m, &["GET", "allowed"]);
    assert_eq!(v, "1");
}

/// A fake master: answers the handshake, then misbehaves in `how` after
/// `+FULLRESYNC`. Returns how many times the replica came back.
fn bad_master(how: &'static str) -> (u16, std::thread::JoinHandle<usize>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    l.set_nonblocking(false).expect("blocking");
    let h = std::thread::spawn(move || {
        let mut conns = 0;
        // Two connections: the bad transfer and the retry after it.
        while conns < 2 {
            let Ok((s, _)) = l.accept() else { break };
            conns += 1;
            s.set_read_timeout(Some(Duration::from_secs(10)))
                .expect("timeout");
            let mut w = s.try_clone().expect("clone");
            let mut rd = BufReader::new(s);
            // PING, REPLCONF x2, PSYNC: answer each command.
            for answer in ["+PONG", "+OK", "+OK"] {
                if !skip_command(&mut rd) {
                    return conns;
                }
                let _ = w.write_all(format!("{answer}\r\n").as_bytes());
            }
            if !skip_command(&mut rd) {
                return conns;
            }
            let _ = w.write_all(format!("+FULLRESYNC {} 0\r\n", "f".repeat(40)).as_bytes());
            match how {
                "garbage" => {
                    let _ = w.write_all(b"$20\r\nthis is not an rdb!!");
                }
                "truncated" => {
                    let _ = w.write_all(b"$100000\r\nREDIS0010");
                }
                "diskless garbage" => {
                    let mark = "m".repeat(40);
                    let _ = w.write_all(format!("$EOF:{mark}\r\nREDIS0010junk{mark}").as_bytes());
                }
                _ => {
                    let _ = w.write_all(b"\n\n*3\r\n$3\r\nSET\r\n");
                }
            }
            let _ = w.flush();
            drop(w);
            drop(rd);
        }
        conns
    });
    (port, h)
}

/// Reads one RESP command (array of bulk strings) from `rd`.
fn skip_command(rd: &mut BufReader<std::net::TcpStream>) -> bool {
    let mut line = String::new();
    if rd.read_line(&mut line).unwrap_or(0) == 0 {
        return false;
    }
    let n: usize = line.trim().trim_start_matches('*').parse().unwrap_or(0);
    for _ in 0..n {
        line.clear();
        if rd.read_line(&mut line).unwrap_or(0) == 0 {
            return false;
        }
        let len: usize = line.trim().trim_start_matches('$').parse().unwrap_or(0);
        let mut buf = vec![0u8; len + 2];
        if rd.read_exact(&mut buf).is_err() {
            return false;
        }
    }
    true
}

#[test]
fn a_bad_master_leaves_the_old_data_and_is_retried() {
    let modes = ["disabled", "on-empty-db", "swapdb"];
    let cases = ["garbage", "truncated", "not a bulk", "diskless garbage"];
    for (i, how) in cases.into_iter().enumerate() {
        let load = modes[i % modes.len()];
        let replica =
            Server::start_with(2, &[&debug()[..], &["--repl-diskless-load", load]].concat());
        let mut r = replica.client();
        let _: () = q(&mut r, &["SET", "old", "data"]);
        let (port, fake) = bad_master(how);
        let port = port.to_string();
        let _: () = q(&mut r, &["REPLICAOF", "127.0.0.1", &port]);
        let conns = fake.join().expect("fake master");
        assert_eq!(conns, 2, "{how}: the replica did not retry");
        // Still up, still serving the old data.
        let v: String = q(&mut r, &["GET", "old"]);
        assert_eq!(v, "data", "{how}");
        let i = info(&mut r, "replication");
        assert_eq!(field(&i, "master_link_status").as_deref(), Some("down"));
        let _: () = q(&mut r, &["REPLICAOF", "NO", "ONE"]);
        let _: () = q(&mut r, &["SET", "writable", "again"]);
        let left: Vec<_> = std::fs::read_dir(replica.dir())
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("temp-"))
            .collect();
        assert!(left.is_empty(), "{how}/{load}: temp files left: {left:?}");
    }
}

// --- interop with redis-server ------------------------------------------------

/// Waits until both servers hold the same keys and values.
fn wait_same_contents(a: &Server, b: &Server) {
    let (mut x, mut y) = (a.client(), b.client());
    let mut last = Default::default();
    let same = wait_until(SYNC_TIMEOUT, || {
        let (cx, cy) = (contents(&mut x), contents(&mut y));
        let same = cx == cy;
        last = (cx.len(), cy.len());
        same
    });
    assert!(
        same,
        "datasets differ (keys {last:?})\n{}\n{}",
        a.logs(),
        b.logs()
    );
}

#[test]
fn redis_server_replica_of_tessera() {
    let Some(redis_server) = peer("redis-server") else {
        return;
    };
    let master = Server::start_with(2, &debug());
    let mut m = master.client();
    fill(&mut m);
    let port = master.port.to_string();
    let replica = Server::start_binary(&redis_server, &["--replicaof", "127.0.0.1", &port]);
    wait_link_up(&replica);
    wait_same_contents(&master, &replica);
    // Streamed writes, cross-shard ones and a transaction included.
    let _: () = q(&mut m, &["MSET", "a1", "1", "b2", "2", "c3", "3"]);
    let _: () = q(&mut m, &["SELECT", "7"]);
    let _: () = q(&mut m, &["LPUSH", "l7", "x", "y"]);
    let _: () = q(&mut m, &["SELECT", "0"]);
    let _: redis::Value = redis::pipe()
        .atomic()
        .cmd("INCR")
        .arg("t1")
        .cmd("INCRBYFLOAT")
        .arg("t2")
        .arg("1.5")
        .query(&mut m)
        .expect("MULTI/EXEC");
    let n: i64 = q(&mut m, &["WAIT", "1", "5000"]);
    assert_eq!(n, 1);
    wait_same_contents(&master, &replica);
    // A broken link continues partially.
    let partial = stat(&mut m, "sync_partial_ok");
    let killed: i64 = q(&mut m, &["CLIENT", "KILL", "TYPE", "replica"]);
    assert_eq!(killed, 1);
    for i in 0..300 {
        let _: () = q(&mut m, &["SET", &format!("after:{i}"), "v"]);
    }
    wait_link_up(&replica);
    wait_same_contents(&master, &replica);
    assert_eq!(stat(&mut m, "sync_partial_ok"), partial + 1);
}

#[test]
fn tessera_replica_of_redis_server() {
    let Some(redis_server) = peer("redis-server") else {
        return;
    };
    // The replica loads from a temp file, then from memory.
    for (diskless, load) in [("yes", "disabled"), ("no", "swapdb")] {
        let master = Server::start_binary(
            &redis_server,
            &[
                "--repl-diskless-sync",
                diskless,
                "--repl-diskless-sync-delay",
                "0",
            ],
        );
        let mut m = master.client();
        fill(&mut m);
        let replica = replica_of(&master, 2, &["--repl-diskless-load", load]);
        wait_same_contents(&master, &replica);
        let _: () = q(&mut m, &["MSET", "a1", "1", "b2", "2", "c3", "3"]);
        let _: () = q(&mut m, &["SADD", "s", "1", "2"]);
        let _: () = q(&mut m, &["EXPIRE", "s", "1000"]);
        let _: redis::Value = redis::pipe()
            .atomic()
            .cmd("RPUSH")
            .arg("tx")
            .arg("a")
            .cmd("RENAME")
            .arg("a1")
            .arg("moved")
            .query(&mut m)
            .expect("MULTI/EXEC");
        let n: i64 = q(&mut m, &["WAIT", "1", "5000"]);
        assert_eq!(n, 1);
        wait_same_contents(&master, &replica);
        // A broken link continues partially.
        let partial = stat(&mut m, "sync_partial_ok");
        let mut r = replica.client();
        let killed: i64 = q(&mut r, &["CLIENT", "KILL", "TYPE", "master"]);
        assert_eq!(killed, 1);
        for i in 0..300 {
            let _: () = q(&mut m, &["SET", &format!("after:{i}"), "v"]);
        }
        wait_link_up(&replica);
        wait_same_contents(&master, &replica);
        assert_eq!(
            stat(&mut m, "sync_partial_ok"),
            partial + 1,
            "diskless {diskless}"
        );
    }
}

/// A fake replica of `master`: sends PSYNC, skips the RDB, then hands
/// every streamed command (words joined by spaces, SELECT and PING left
/// out) to the returned channel.
fn stream_reader(master: &Server) -> std::sync::mpsc::Receiver<String> {
    let sock = std::net::TcpStream::connect(master.addr()).expect("connect");
    sock.set_read_timeout(Some(SYNC_TIMEOUT)).unwrap();
    let mut w = sock.try_clone().unwrap();
    w.write_all(&common::resp(&[b"REPLCONF", b"listening-port", b"1"]))
        .unwrap();
    w.write_all(&common::resp(&[b"PSYNC", b"?", b"-1"]))
        .unwrap();
    let mut rd = BufReader::new(sock);
    let mut line = String::new();
    // +OK, +FULLRESYNC, newlines while the snapshot is made, then $len.
    loop {
        line.clear();
        assert!(rd.read_line(&mut line).unwrap() > 0, "master closed");
        if let Some(len) = line.trim().strip_prefix('$') {
            let mut rdb = vec![0u8; len.parse().expect("RDB length")];
            rd.read_exact(&mut rdb).unwrap();
            break;
        }
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || loop {
        let mut line = String::new();
        if rd.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let n: usize = line.trim().trim_start_matches('*').parse().unwrap_or(0);
        let mut words = Vec::new();
        for _ in 0..n {
            line.clear();
            if rd.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let len: usize = line.trim().trim_start_matches('$').parse().unwrap_or(0);
            let mut buf = vec![0u8; len + 2];
            if rd.read_exact(&mut buf).is_err() {
                return;
            }
            words.push(String::from_utf8_lossy(&buf[..len]).into_owned());
        }
        let cmd = words.join(" ");
        if !matches!(words.first().map(String::as_str), Some("SELECT" | "PING"))
            && tx.send(cmd).is_err()
        {
            return;
        }
    });
    rx
}

/// Reads streamed commands until `last` (included).
fn stream_until(rx: &std::sync::mpsc::Receiver<String>, last: &str) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let cmd = rx
            .recv_timeout(SYNC_TIMEOUT)
            .unwrap_or_else(|_| panic!("no {last:?} in the stream; got {out:#?}"));
        let end = cmd == last;
        out.push(cmd);
        if end {
            return out;
        }
    }
}

#[test]
fn cross_shard_writes_reach_replicas_as_one_multi_exec() {
    if !common::testing_tessera() {
        eprintln!("skipped: the merge of shard streams is tessera's own");
        return;
    }
    // `a` and `b` live on different shards.
    let master = Server::start_with(2, &debug());
    let mut m = master.client();
    let rx = stream_reader(&master);
    let _: redis::Value = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("a")
        .arg("1")
        .cmd("SET")
        .arg("b")
        .arg("2")
        .query(&mut m)
        .expect("MULTI/EXEC");
    let _: () = q(&mut m, &["MSET", "a", "3", "b", "4"]);
    let _: () = q(&mut m, &["RENAME", "a", "b"]);
    let _: () = q(&mut m, &["SET", "done", "1"]);
    let got = stream_until(&rx, "SET done 1");
    // One block per transaction, each shard's part in shard order.
    let want = [
        "MULTI",
        "SET b 2",
        "SET a 1",
        "EXEC", //
        "MULTI",
        "MSET b 4",
        "MSET a 3",
        "EXEC", //
        "MULTI",
        "DEL b",
        "SET b 3",
        "DEL a",
        "EXEC", //
        "SET done 1",
    ];
    assert_eq!(got, want);
}

/// Transactions and cross-shard commands on the same keys from several
/// clients at once, with single-key writes between: the replica, applying
/// the merged stream, ends equal to the master, and every transaction
/// reached it whole (the pair it writes is equal there at every step).
#[test]
fn concurrent_cross_shard_transactions_replicate_in_order() {
    let master = Server::start_with(2, &debug());
    let replica = replica_of(&master, 2, &[]);
    let rounds = 300;
    let mut threads = Vec::new();
    for t in 0..3 {
        let mut c = master.client();
        threads.push(std::thread::spawn(move || {
            for i in 0..rounds {
                let v = format!("{t}:{i}");
                match t {
                    0 => {
                        let _: redis::Value = redis::pipe()
                            .atomic()
                            .cmd("SET")
                            .arg("a")
                            .arg(&v)
                            .cmd("SET")
                            .arg("b")
                            .arg(&v)
                            .cmd("INCR")
                            .arg("n")
                            .query(&mut c)
                            .expect("MULTI/EXEC");
                    }
                    1 => {
                        let _: () = q(&mut c, &["MSET", "a", &v, "b", &v]);
                        let _: () = q(&mut c, &["COPY", "a", "c", "REPLACE"]);
                    }
                    _ => {
                        let _: () = q(&mut c, &["SET", "c", &v]);
                        let _: i64 = q(&mut c, &["INCR", "n"]);
                    }
                }
            }
        }));
    }
    // Meanwhile on the replica: a and b always equal.
    let mut r = replica.client();
    let mut checks = 0;
    while threads.iter().any(|t| !t.is_finished()) {
        let (a, b): (Option<String>, Option<String>) = redis::pipe()
            .atomic()
            .cmd("GET")
            .arg("a")
            .cmd("GET")
            .arg("b")
            .query(&mut r)
            .expect("GET a b");
        assert_eq!(a, b, "the replica saw half a transaction");
        checks += 1;
    }
    for t in threads {
        t.join().expect("writer");
    }
    wait_same_digest(&master, &replica);
    let mut m = master.client();
    let n: i64 = q(&mut m, &["GET", "n"]);
    assert_eq!(n, 2 * rounds);
    assert!(checks > 0);
}

/// What a fake replica gets for `PSYNC ? -1`: the `+FULLRESYNC` line, the
/// line that opens the RDB (`$<len>` or `$EOF:<mark>`) and the RDB. With
/// `capa_eof` it first says `REPLCONF capa eof`.
struct FakeSync {
    rd: BufReader<std::net::TcpStream>,
    fullresync: String,
    head: String,
    rdb: Vec<u8>,
}

fn fake_sync(master: &Server, capa_eof: bool) -> FakeSync {
    let sock = std::net::TcpStream::connect(master.addr()).expect("connect");
    sock.set_read_timeout(Some(SYNC_TIMEOUT)).unwrap();
    let mut w = sock.try_clone().unwrap();
    if capa_eof {
        w.write_all(&common::resp(&[
            b"REPLCONF",
            b"capa",
            b"eof",
            b"capa",
            b"psync2",
        ]))
        .unwrap();
    }
    w.write_all(&common::resp(&[b"PSYNC", b"?", b"-1"]))
        .unwrap();
    let mut rd = BufReader::new(sock);
    let mut fullresync = String::new();
    let mut line = String::new();
    // +OK (for REPLCONF), +FULLRESYNC, keep-alive newlines, then the RDB.
    let head = loop {
        line.clear();
        assert!(rd.read_line(&mut line).unwrap() > 0, "master closed");
        let l = line.trim();
        if l.starts_with("+FULLRESYNC") {
            fullresync = l.to_string();
        } else if l.starts_with('$') {
            break l.to_string();
        }
    };
    let rdb = match head.strip_prefix("$EOF:") {
        Some(mark) => {
            assert_eq!(mark.len(), 40, "{head}");
            let mut rdb = Vec::new();
            let mut buf = [0u8; 1];
            // The master sends nothing after the mark before an ACK, so
            // the RDB ends where the mark does.
            while !rdb.ends_with(mark.as_bytes()) {
                rd.read_exact(&mut buf).expect("RDB");
                rdb.push(buf[0]);
            }
            rdb.truncate(rdb.len() - 40);
            rdb
        }
        None => {
            let mut rdb = vec![0u8; head[1..].parse().expect("RDB length")];
            rd.read_exact(&mut rdb).unwrap();
            rdb
        }
    };
    FakeSync {
        rd,
        fullresync,
        head,
        rdb,
    }
}

#[test]
fn diskless_sync_streams_an_eof_marked_rdb_to_replicas_that_can_read_it() {
    let master = Server::start_with(2, &[]);
    let mut m = master.client();
    for i in 0..2000 {
        let _: () = q(&mut m, &["SET", &format!("k:{i}"), "v"]);
    }
    // capa eof: streamed, EOF-marked; a whole RDB with its checksum.
    let s = fake_sync(&master, true);
    assert!(s.head.starts_with("$EOF:"), "{}", s.head);
    assert!(s.rdb.starts_with(b"REDIS0010"));
    assert!(s.rdb.len() > 2000 * 4, "{} bytes", s.rdb.len());
    assert_eq!(
        s.rdb[s.rdb.len() - 9],
        0xff,
        "EOF opcode before the checksum"
    );
    // Nothing follows the mark until the replica's first ACK.
    let FakeSync { mut rd, .. } = s;
    let _: () = q(&mut m, &["SET", "after", "1"]);
    rd.get_ref()
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut one = [0u8; 1];
    let early = rd.read(&mut one);
    assert!(
        early.is_err(),
        "master streamed before the first ACK: {early:?}"
    );
    rd.get_ref().set_read_timeout(Some(SYNC_TIMEOUT)).unwrap();
    rd.get_mut()
        .write_all(&common::resp(&[b"REPLCONF", b"ACK", b"0"]))
        .unwrap();
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains("after") {
        rd.read_exact(&mut one).expect("stream after the ACK");
        got.push(one[0]);
    }
    // No capa eof, or repl-diskless-sync no: a bulk of known length.
    let s = fake_sync(&master, false);
    assert!(!s.head.starts_with("$EOF:"), "{}", s.head);
    assert!(s.rdb.starts_with(b"REDIS0010"));
    let _: () = q(&mut m, &["CONFIG", "SET", "repl-diskless-sync", "no"]);
    let s = fake_sync(&master, true);
    assert!(!s.head.starts_with("$EOF:"), "{}", s.head);
    assert_eq!(s.head[1..].parse::<usize>().unwrap(), s.rdb.len());
}

#[test]
fn replicas_arriving_within_the_sync_delay_share_one_snapshot() {
    let master = Server::start_with(2, &["--repl-diskless-sync-delay", "1"]);
    let mut m = master.client();
    let _: () = q(&mut m, &["SET", "k", "v"]);
    let two = |master: &Server| {
        let t0 = std::time::Instant::now();
        let (a, b) = std::thread::scope(|sc| {
            let a = sc.spawn(|| fake_sync(master, true));
            let b = sc.spawn(|| fake_sync(master, true));
            (a.join().unwrap(), b.join().unwrap())
        });
        (t0.elapsed(), a, b)
    };
    let (took, a, b) = two(&master);
    assert!(
        took >= Duration::from_millis(900),
        "sync began after {took:?}"
    );
    // One snapshot: one point in time, one mark.
    assert_eq!(a.fullresync, b.fullresync);
    assert_eq!(a.head, b.head);
    assert!(a.head.starts_with("$EOF:"));
    // repl-diskless-sync-max-replicas cuts a long delay short.
    let _: () = q(&mut m, &["CONFIG", "SET", "repl-diskless-sync-delay", "30"]);
    let _: () = q(
        &mut m,
        &["CONFIG", "SET", "repl-diskless-sync-max-replicas", "2"],
    );
    let (took, a, b) = two(&master);
    assert!(took < Duration::from_secs(15), "sync began after {took:?}");
    assert_eq!(a.head, b.head);
}

#[test]
fn the_backlog_is_freed_after_repl_backlog_ttl_without_replicas() {
    let master = Server::start_with(2, &["--repl-backlog-ttl", "1"]);
    let mut m = master.client();
    let _: () = q(&mut m, &["SET", "k", "v"]);
    let replica = replica_of(&master, 2, &[]);
    wait_link_up(&replica);
    let before = info(&mut m, "replication");
    assert_eq!(field(&before, "repl_backlog_active").as_deref(), Some("1"));
    let id = field(&before, "master_replid").unwrap();
    // While a replica is attached the backlog stays past the TTL.
    std::thread::sleep(Duration::from_millis(1500));
    let still = info(&mut m, "replication");
    assert_eq!(field(&still, "repl_backlog_active").as_deref(), Some("1"));
    drop(replica);
    let freed = wait_until(Duration::from_secs(20), || {
        let i = info(&mut m, "replication");
        field(&i, "repl_backlog_active").as_deref() == Some("0")
    });
    assert!(freed, "backlog never freed");
    let after = info(&mut m, "replication");
    assert_ne!(field(&after, "master_replid").unwrap(), id);
    // A new replica gets a full sync and the same data.
    let replica = replica_of(&master, 2, &[]);
    wait_link_up(&replica);
    wait_same_contents(&master, &replica);
}

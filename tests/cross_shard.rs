//! Cross-shard guarantees, end to end: a command whose keys live on several
//! shards gives Redis's result and is atomic (runs as a locked transaction),
//! pipelined replies come back in request order whichever shard computed
//! them, and the keyspace-wide commands (SCAN, KEYS, DBSIZE, FLUSH*, SWAPDB,
//! active expiry, CLIENT LIST/KILL) see every shard.
//!
//! Where to put keys: big sets (64 keys and more) land on every shard anyway,
//! but small ones do not, because CRC16 is linear: `dx:0`..`dx:7` all hash to
//! shard 2 of 3, and `ra{p}`/`rb{p}` never cross shards with 3 shards. So the
//! small key sets and key pairs are chosen with `spread` and `cross_key`,
//! from the Redis Cluster key slot (CRC16-XMODEM mod 16384, no hash tags) and
//! tessera's striped slot table (`src/server/route.rs`: shard = slot mod N).
//! Under another table they are still valid keys, only perhaps less spread.
//! Each check runs with `--shards 1`, 2 and 3 (shards may exceed the CPUs).
//!
//! Every expectation was first checked against redis-server 7.0 with
//! `TESSERA_TEST_BIN=redis-server cargo test --test cross_shard`.
//!
//! No timing assertions: concurrent loops are bounded both in iterations and
//! in time, threads are joined with a deadline, and waiting for the server
//! (active expiry, a killed client) goes through `wait_until`.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{resp, slot, wait_until, Server, XorShift};
use redis::{Connection, Value};

/// Generates `shards_1`, `shards_2` and `shards_3` tests calling `check(shards)`.
macro_rules! per_shards3 {
    ($name:ident, $check:path) => {
        per_shards!($name, $check; shards_1 => 1, shards_2 => 2, shards_3 => 3);
    };
}

/// How long the whole group of threads of one check may take to finish.
const JOIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Iteration and time bounds of each thread of a concurrency check.
const STRESS_ITERATIONS: usize = 2000;
const STRESS_TIME: Duration = Duration::from_secs(3);

// --- helpers ---------------------------------------------------------------

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// `count` (at least 6) keys `<prefix><i>`, skipping indexes so that their
/// slots cover every residue mod 6: with a striped table they then land on
/// every shard for 1, 2 and 3 shards.
fn spread(prefix: &str, count: usize) -> Vec<String> {
    assert!(count >= 6);
    let mut keys: Vec<String> = Vec::new();
    let mut covered = [false; 6];
    for i in 0..10_000 {
        let k = format!("{prefix}{i}");
        let r = usize::from(slot(&k) % 6);
        // Take a key that covers a new residue, or any key once the residues
        // still missing fit in the places left.
        let missing = covered.iter().filter(|c| !**c).count();
        if !covered[r] || count - keys.len() > missing {
            covered[r] = true;
            keys.push(k);
            if keys.len() == count {
                return keys;
            }
        }
    }
    unreachable!("no spread of {count} keys for {prefix}");
}

/// A key `<base><j>` whose slot differs from `a`'s both mod 2 and mod 3, so
/// the two are on different shards with 2 and with 3 striped shards.
fn cross_key(a: &str, base: &str) -> String {
    let (sa2, sa3) = (slot(a) % 2, slot(a) % 3);
    (0..10_000)
        .map(|j| format!("{base}{j}"))
        .find(|b| slot(b) % 2 != sa2 && slot(b) % 3 != sa3)
        .expect("a partner key")
}

/// `n` key pairs `(<prefix><p>, <prefix><p>:<j>)` that each cross shards.
fn cross_pairs(prefix: &str, n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|p| {
            let a = format!("{prefix}{p}");
            let b = cross_key(&a, &format!("{a}:"));
            (a, b)
        })
        .collect()
}

/// The key choosers do what the checks rely on (no server needed).
#[test]
fn key_choice_spreads_over_shards() {
    // Golden values from the Redis Cluster spec and tessera's unit tests.
    assert_eq!(slot("123456789"), 12739);
    assert_eq!(slot("foo"), 12182);
    for n in [2u16, 3] {
        for prefix in ["atom:", "dx:"] {
            let shards: BTreeSet<u16> = spread(prefix, 8).iter().map(|k| slot(k) % n).collect();
            assert_eq!(shards.len(), usize::from(n), "{prefix} over {n} shards");
        }
        for (a, b) in cross_pairs("mv", 8) {
            assert_ne!(slot(&a) % n, slot(&b) % n, "{a} {b} with {n} shards");
        }
    }
}

fn query<T: redis::FromRedisValue>(con: &mut Connection, args: &[&str]) -> T {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
        .unwrap_or_else(|e| panic!("{}: {e}", args.join(" ")))
}

fn dbsize(con: &mut Connection) -> i64 {
    query(con, &["DBSIZE"])
}

/// Stops a loop after `left` iterations or at `until`, whichever comes first.
struct Budget {
    left: usize,
    until: Instant,
}

impl Budget {
    fn new(iterations: usize, time: Duration) -> Budget {
        Budget {
            left: iterations,
            until: Instant::now() + time,
        }
    }

    fn tick(&mut self) -> bool {
        if self.left == 0 || Instant::now() >= self.until {
            return false;
        }
        self.left -= 1;
        true
    }
}

/// Joins `handles` within `timeout`; a thread's panic is re-raised here.
fn join_within<T>(handles: Vec<JoinHandle<T>>, timeout: Duration) -> Vec<T> {
    let deadline = Instant::now() + timeout;
    for h in &handles {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            wait_until(left, || h.is_finished()),
            "a test thread did not finish within {timeout:?}"
        );
    }
    handles
        .into_iter()
        .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
        .collect()
}

/// Fisher–Yates shuffle of `0..n`, deterministic.
fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut rng = XorShift::new(seed);
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
    v
}

// RESP2 reply bytes, for exact comparisons on raw sockets.
fn ok() -> Vec<u8> {
    b"+OK\r\n".to_vec()
}
fn int(n: i64) -> Vec<u8> {
    format!(":{n}\r\n").into_bytes()
}
fn bulk(s: &str) -> Vec<u8> {
    format!("${}\r\n{s}\r\n", s.len()).into_bytes()
}
fn nil() -> Vec<u8> {
    b"$-1\r\n".to_vec()
}
fn array(items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", items.len()).into_bytes();
    for i in items {
        out.extend_from_slice(i);
    }
    out
}

/// A pipeline of commands with the exact reply expected for each.
#[derive(Default)]
struct Script {
    commands: Vec<Vec<String>>,
    expected: Vec<Vec<u8>>,
}

impl Script {
    fn push(&mut self, args: Vec<String>, expected: Vec<u8>) {
        self.commands.push(args);
        self.expected.push(expected);
    }

    /// Sends every command in one write, then checks the replies one by one,
    /// in request order.
    fn run(&self, server: &Server) {
        let mut raw = server.raw();
        let mut bytes = Vec::new();
        for c in &self.commands {
            let args: Vec<&[u8]> = c.iter().map(|a| a.as_bytes()).collect();
            bytes.extend_from_slice(&resp(&args));
        }
        raw.send(&bytes);
        for (i, (c, want)) in self.commands.iter().zip(&self.expected).enumerate() {
            let got = raw.read_reply();
            assert_eq!(
                text(&got),
                text(want),
                "reply #{i} of the pipeline, to `{}`",
                c.join(" ")
            );
        }
    }
}

fn cmd(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

fn cmd_keys(name: &str, keys: &[String]) -> Vec<String> {
    let mut v = vec![name.to_string()];
    v.extend(keys.iter().cloned());
    v
}

// --- 1. pipelining ---------------------------------------------------------

/// 10 000 SETs in one pipeline, then GETs in a shuffled order and MGETs in
/// chunks (reversed order, a missing key in each chunk), all pipelined: every
/// value matches its key, so every reply came back in request order.
fn check_pipeline_10k(shards: usize) {
    let server = Server::start(shards);
    let mut con = server.client();
    let n = 10_000;
    let key = |i: usize| format!("pipe:{i}");
    let val = |i: usize| format!("value-{i}-{}", i * 7919 % 10_007);

    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.cmd("SET").arg(key(i)).arg(val(i));
    }
    let replies: Vec<Value> = pipe.query(&mut con).expect("pipelined SETs");
    assert_eq!(replies.len(), n);
    for (i, r) in replies.iter().enumerate() {
        assert_eq!(*r, Value::Okay, "reply to SET {}", key(i));
    }
    assert_eq!(dbsize(&mut con), n as i64);

    let order = shuffled(n, 0x5eed);
    let mut pipe = redis::pipe();
    for &i in &order {
        pipe.cmd("GET").arg(key(i));
    }
    let got: Vec<Option<String>> = pipe.query(&mut con).expect("pipelined GETs");
    assert_eq!(got.len(), n);
    for (j, &i) in order.iter().enumerate() {
        assert_eq!(got[j], Some(val(i)), "reply #{j} (GET {})", key(i));
    }

    // MGET in chunks of 97 keys, taken in reverse order, each with a missing key
    // in the middle.
    let rev: Vec<usize> = (0..n).rev().collect();
    let chunks: Vec<&[usize]> = rev.chunks(97).collect();
    let mut pipe = redis::pipe();
    for (c, chunk) in chunks.iter().enumerate() {
        let mut args: Vec<String> = chunk.iter().map(|&i| key(i)).collect();
        args.insert(chunk.len() / 2, format!("pipe:missing:{c}"));
        pipe.cmd("MGET").arg(args);
    }
    let got: Vec<Vec<Option<String>>> = pipe.query(&mut con).expect("pipelined MGETs");
    assert_eq!(got.len(), chunks.len());
    for (c, (chunk, reply)) in chunks.iter().zip(&got).enumerate() {
        let mut want: Vec<Option<String>> = chunk.iter().map(|&i| Some(val(i))).collect();
        want.insert(chunk.len() / 2, None);
        assert_eq!(*reply, want, "MGET chunk #{c}");
    }
}
per_shards3!(pipeline_10k_set_get_mget, super::check_pipeline_10k);

/// One write carrying SET/GET/INCR/DEL/MGET/EXISTS on keys of every shard;
/// the exact reply sequence is checked in order.
fn check_raw_pipeline_mixed(shards: usize) {
    let server = Server::start(shards);
    let rk = names("rk", 16);
    let ctr = names("ctr", 16);
    let x = |i: usize| format!("x{i}");
    let mut s = Script::default();
    for (i, k) in rk.iter().enumerate() {
        s.push(cmd(&["SET", k, &x(i)]), ok());
    }
    for round in 0..30usize {
        for (i, c) in ctr.iter().enumerate() {
            s.push(cmd(&["INCR", c]), int(round as i64 + 1));
            let j = (i * 7 + round) % 16;
            s.push(cmd(&["GET", &rk[j]]), bulk(&x(j)));
        }
        // MGET in reverse order plus a missing key.
        let mut keys: Vec<String> = rk.iter().rev().cloned().collect();
        keys.push("rk:none".into());
        let mut want: Vec<Vec<u8>> = (0..16).rev().map(|i| bulk(&x(i))).collect();
        want.push(nil());
        s.push(cmd_keys("MGET", &keys), array(&want));
        s.push(
            cmd(&[
                "EXISTS",
                &rk[round % 16],
                &rk[round % 16],
                &ctr[3],
                "rk:none",
            ]),
            int(3),
        );
    }
    s.push(cmd(&["DEL", &rk[3], &rk[9], "rk:none", &rk[3]]), int(2));
    s.push(cmd(&["EXISTS", &rk[3], &rk[9], &rk[4]]), int(1));
    s.push(
        cmd(&["MGET", &rk[3], &rk[4], &rk[9]]),
        array(&[nil(), bulk("x4"), nil()]),
    );
    s.push(cmd(&["GET", &rk[3]]), nil());
    s.push(cmd(&["SET", &rk[3], "y"]), ok());
    s.push(cmd(&["GET", &rk[3]]), bulk("y"));
    s.push(cmd(&["GET", &ctr[11]]), bulk("30"));
    s.push(cmd_keys("DEL", &ctr), int(16));
    s.push(cmd_keys("EXISTS", &ctr), int(0));
    s.push(cmd(&["INCR", &ctr[5]]), int(1));
    s.push(
        cmd(&["MGET", &ctr[5], &rk[5], &ctr[6]]),
        array(&[bulk("1"), bulk("x5"), nil()]),
    );
    s.push(cmd_keys("EXISTS", &rk), int(15));
    s.push(cmd(&["DBSIZE"]), int(16));
    s.run(&server);
}
per_shards3!(
    raw_pipeline_mixed_reply_order,
    super::check_raw_pipeline_mixed
);

// --- 2. multi-key commands ---------------------------------------------------

/// MGET / MSET / EXISTS / TOUCH / DEL / UNLINK over key0..key63, with
/// duplicates and missing keys.
fn check_multi_key_basics(shards: usize) {
    let server = Server::start(shards);
    let keys = names("key", 64);
    let v = |i: usize| format!("v{i}");
    let mut s = Script::default();
    let mut mset = vec!["MSET".to_string()];
    for (i, k) in keys.iter().enumerate() {
        mset.push(k.clone());
        mset.push(v(i));
    }
    s.push(mset, ok());
    s.push(
        cmd_keys("MGET", &keys),
        array(&(0..64).map(|i| bulk(&v(i))).collect::<Vec<_>>()),
    );
    s.push(
        cmd(&["MGET", "key5", "nokey", "key5", "key60", "key0"]),
        array(&[bulk("v5"), nil(), bulk("v5"), bulk("v60"), bulk("v0")]),
    );
    s.push(cmd_keys("EXISTS", &keys), int(64));
    // A key named twice counts twice (existsCommand counts per argument).
    s.push(cmd(&["EXISTS", "key1", "key1", "nokey", "key2"]), int(3));
    s.push(cmd(&["EXISTS", "nokey", "nokey2"]), int(0));
    let mut touch = keys.clone();
    touch.push("nokey".into());
    s.push(cmd_keys("TOUCH", &touch), int(64));
    s.push(cmd(&["TOUCH", "key7", "key7", "key40"]), int(3));
    // DEL counts each key once: the second key1 is already gone.
    s.push(
        cmd(&["DEL", "key0", "key1", "key1", "nokey", "key63"]),
        int(3),
    );
    s.push(
        cmd(&["UNLINK", "key2", "key3", "key3", "key62", "nokey"]),
        int(3),
    );
    s.push(
        cmd(&["EXISTS", "key0", "key1", "key2", "key3", "key62", "key63"]),
        int(0),
    );
    s.push(cmd(&["DBSIZE"]), int(58));
    s.push(
        cmd(&["MGET", "key0", "key4", "key63", "key61"]),
        array(&[nil(), bulk("v4"), nil(), bulk("v61")]),
    );
    // MSET with a key named twice: the last value wins.
    s.push(cmd(&["MSET", "d1", "a", "key30", "b", "d1", "c"]), ok());
    s.push(
        cmd(&["MGET", "d1", "key30"]),
        array(&[bulk("c"), bulk("b")]),
    );
    // DEL of every key, across shards, in one command.
    let mut all = keys.clone();
    all.push("d1".into());
    s.push(cmd_keys("DEL", &all), int(59));
    s.push(cmd(&["DBSIZE"]), int(0));
    s.run(&server);
}
per_shards3!(multi_key_basics, super::check_multi_key_basics);

/// MSETNX is all or nothing across shards.
fn check_msetnx(shards: usize) {
    let server = Server::start(shards);
    let new = names("nx", 32);
    let mut s = Script::default();
    s.push(cmd(&["SET", "nx17", "old"]), ok());
    let mut args = vec!["MSETNX".to_string()];
    for k in &new {
        args.push(k.clone());
        args.push(format!("{k}-val"));
    }
    // One key (nx17) exists: nothing is set.
    s.push(args.clone(), int(0));
    s.push(cmd_keys("EXISTS", &new), int(1));
    s.push(cmd(&["GET", "nx17"]), bulk("old"));
    s.push(cmd(&["DEL", "nx17"]), int(1));
    s.push(args.clone(), int(1));
    s.push(cmd_keys("EXISTS", &new), int(32));
    s.push(
        cmd_keys("MGET", &new),
        array(
            &new.iter()
                .map(|k| bulk(&format!("{k}-val")))
                .collect::<Vec<_>>(),
        ),
    );
    // Now every key exists: 0 and nothing changes.
    s.push(cmd(&["MSETNX", "fresh", "1", "nx0", "2"]), int(0));
    s.push(
        cmd(&["MGET", "fresh", "nx0"]),
        array(&[nil(), bulk("nx0-val")]),
    );
    // A key named twice in a fresh MSETNX: set, and the last value wins.
    s.push(
        cmd(&["MSETNX", "dup", "x", "fresh", "f", "dup", "y"]),
        int(1),
    );
    s.push(
        cmd(&["MGET", "dup", "fresh"]),
        array(&[bulk("y"), bulk("f")]),
    );
    s.run(&server);
}
per_shards3!(msetnx_all_or_nothing, super::check_msetnx);

/// Keys of round `i` of `check_rename_copy`: source, destination, RENAMENX
/// target, COPY target; each one after the source is on another shard than
/// the destination.
fn rename_keys(i: usize) -> (String, String, String, String) {
    let src = format!("rs{i}");
    let dst = cross_key(&src, &format!("rd{i}:"));
    let other = cross_key(&dst, &format!("ro{i}:"));
    let copy = cross_key(&dst, &format!("rc{i}:"));
    (src, dst, other, copy)
}

/// RENAME / RENAMENX / COPY between keys on different shards: value and TTL
/// move, the source disappears, errors as Redis.
fn check_rename_copy(shards: usize) {
    let server = Server::start(shards);
    let mut s = Script::default();
    for i in 0..16 {
        let (src, dst, other, copy) = rename_keys(i);
        let val = format!("val{i}");
        s.push(cmd(&["SET", &src, &val, "PX", "1000000"]), ok());
        if i % 2 == 0 {
            s.push(cmd(&["SET", &dst, "old"]), ok());
        }
        s.push(cmd(&["RENAME", &src, &dst]), ok());
        s.push(cmd(&["MGET", &src, &dst]), array(&[nil(), bulk(&val)]));
        s.push(cmd(&["EXISTS", &src, &dst]), int(1));
        s.push(
            cmd(&["RENAME", &src, &dst]),
            b"-ERR no such key\r\n".to_vec(),
        );
        // Renaming back and forth keeps the value.
        s.push(cmd(&["RENAME", &dst, &src]), ok());
        s.push(cmd(&["RENAME", &src, &dst]), ok());
        // RENAMENX onto an existing key: 0; onto a free key: 1.
        s.push(cmd(&["SET", &other, "o"]), ok());
        s.push(cmd(&["RENAMENX", &dst, &other]), int(0));
        s.push(cmd(&["DEL", &other]), int(1));
        s.push(cmd(&["RENAMENX", &dst, &other]), int(1));
        s.push(cmd(&["MGET", &dst, &other]), array(&[nil(), bulk(&val)]));
        s.push(cmd(&["RENAME", &other, &dst]), ok());
        // COPY: 1, then 0 onto an existing key, 1 with REPLACE.
        s.push(cmd(&["COPY", &dst, &copy]), int(1));
        s.push(
            cmd(&["MGET", &dst, &copy]),
            array(&[bulk(&val), bulk(&val)]),
        );
        s.push(cmd(&["SET", &dst, "changed"]), ok());
        s.push(cmd(&["COPY", &dst, &copy]), int(0));
        s.push(cmd(&["GET", &copy]), bulk(&val));
        s.push(cmd(&["COPY", &dst, &copy, "REPLACE"]), int(1));
        s.push(cmd(&["GET", &copy]), bulk("changed"));
        s.push(cmd(&["COPY", "nokey", &copy, "REPLACE"]), int(0));
        s.push(cmd(&["GET", &copy]), bulk("changed"));
        // COPY into another database.
        s.push(cmd(&["COPY", &dst, &copy, "DB", "1"]), int(1));
        s.push(cmd(&["SELECT", "1"]), ok());
        s.push(
            cmd(&["MGET", &dst, &copy]),
            array(&[nil(), bulk("changed")]),
        );
        s.push(cmd(&["SELECT", "0"]), ok());
    }
    s.push(cmd(&["DBSIZE"]), int(32));
    s.run(&server);

    // The TTL moved with the value; SET without options cleared it.
    let mut con = server.client();
    for i in 0..16 {
        let (src, dst, _, copy) = rename_keys(i);
        let _: () = query(&mut con, &["SET", &src, "t", "PX", "1000000"]);
        let _: () = query(&mut con, &["RENAME", &src, &dst]);
        let pttl: i64 = query(&mut con, &["PTTL", &dst]);
        assert!(
            pttl > 900_000 && pttl <= 1_000_000,
            "PTTL {dst} after RENAME {src} {dst}: {pttl}"
        );
        let _: i64 = query(&mut con, &["COPY", &dst, &copy, "REPLACE"]);
        let pttl: i64 = query(&mut con, &["PTTL", &copy]);
        assert!(
            pttl > 900_000 && pttl <= 1_000_000,
            "PTTL {copy} after COPY {dst} {copy}: {pttl}"
        );
    }
}
per_shards3!(rename_renamenx_copy, super::check_rename_copy);

fn bitop(op: &str, srcs: &[Vec<u8>]) -> Vec<u8> {
    let len = srcs.iter().map(Vec::len).max().unwrap_or(0);
    (0..len)
        .map(|i| {
            let bytes = srcs.iter().map(|s| s.get(i).copied().unwrap_or(0));
            match op {
                "AND" => bytes.fold(0xff, |a, b| a & b),
                "OR" => bytes.fold(0, |a, b| a | b),
                "XOR" => bytes.fold(0, |a, b| a ^ b),
                _ => unreachable!("{op}"),
            }
        })
        .collect()
}

/// BITOP with sources and destination on different shards: the result is
/// the bitwise operation with zero padding, missing sources count as empty.
fn check_bitop(shards: usize) {
    let server = Server::start(shards);
    let mut con = server.client();
    let mut rng = XorShift::new(42);
    let keys = names("bk", 16);
    let vals: Vec<Vec<u8>> = (0..16)
        .map(|i| {
            let mut v = rng.bytes(5 + i % 7);
            // Keep AND from being all zeros too often.
            for b in &mut v {
                *b |= (rng.next_u64() & 0xf0) as u8;
            }
            v
        })
        .collect();
    for (k, v) in keys.iter().zip(&vals) {
        let _: () = redis::cmd("SET")
            .arg(k)
            .arg(v)
            .query(&mut con)
            .expect("SET");
    }
    for (j, op) in ["AND", "OR", "XOR"].iter().enumerate() {
        // All sources, then pairs of sources, each into several destinations.
        for d in 0..4 {
            let dest = format!("bdest{j}{d}");
            let srcs: Vec<usize> = if d == 0 {
                (0..16).collect()
            } else {
                vec![d, d * 3 + 1, 15 - d]
            };
            let mut c = redis::cmd("BITOP");
            c.arg(*op).arg(&dest);
            for &i in &srcs {
                c.arg(&keys[i]);
            }
            let want = bitop(
                op,
                &srcs.iter().map(|&i| vals[i].clone()).collect::<Vec<_>>(),
            );
            let len: i64 = c.query(&mut con).expect("BITOP");
            assert_eq!(len, want.len() as i64, "BITOP {op} {dest} {srcs:?}");
            let got: Vec<u8> = redis::cmd("GET").arg(&dest).query(&mut con).expect("GET");
            assert_eq!(got, want, "BITOP {op} {dest} {srcs:?}");
        }
    }
    // A missing source counts as an empty string (zeros).
    let len: i64 = query(&mut con, &["BITOP", "OR", "bmiss", "bk3", "nokey", "bk9"]);
    let want = bitop("OR", &[vals[3].clone(), vals[9].clone()]);
    assert_eq!(len, want.len() as i64);
    let got: Vec<u8> = redis::cmd("GET").arg("bmiss").query(&mut con).expect("GET");
    assert_eq!(got, want);
    let len: i64 = query(&mut con, &["BITOP", "AND", "bmiss", "bk3", "nokey"]);
    assert_eq!(len, vals[3].len() as i64);
    let got: Vec<u8> = redis::cmd("GET").arg("bmiss").query(&mut con).expect("GET");
    assert_eq!(got, vec![0u8; vals[3].len()]);
    // NOT of a key on another shard.
    for i in [2usize, 7, 11] {
        let dest = format!("bnot{i}");
        let len: i64 = query(&mut con, &["BITOP", "NOT", &dest, &keys[i]]);
        assert_eq!(len, vals[i].len() as i64);
        let got: Vec<u8> = redis::cmd("GET").arg(&dest).query(&mut con).expect("GET");
        let want: Vec<u8> = vals[i].iter().map(|b| !b).collect();
        assert_eq!(got, want, "BITOP NOT {dest} {}", keys[i]);
    }
    // Only missing sources: the destination is deleted, the result is 0.
    for d in 0..4 {
        let dest = format!("bdest0{d}");
        let len: i64 = query(&mut con, &["BITOP", "OR", &dest, "nokey1", "nokey2"]);
        assert_eq!(len, 0);
        let exists: i64 = query(&mut con, &["EXISTS", &dest]);
        assert_eq!(exists, 0, "BITOP with only missing sources left {dest}");
    }
}
per_shards3!(bitop_across_shards, super::check_bitop);

/// LCS over 8 key pairs on different shards: string, LEN, IDX with MINMATCHLEN/WITHMATCHLEN (the
/// example from Redis's docs), and a missing key as the empty string.
fn check_lcs(shards: usize) {
    let server = Server::start(shards);
    let mut s = Script::default();
    let idx = array(&[
        bulk("matches"),
        array(&[array(&[
            array(&[int(4), int(7)]),
            array(&[int(5), int(8)]),
            int(4),
        ])]),
        bulk("len"),
        int(6),
    ]);
    for i in 0..8 {
        let a = format!("la{i}");
        let b = cross_key(&a, &format!("lb{i}:"));
        s.push(cmd(&["MSET", &a, "ohmytext", &b, "mynewtext"]), ok());
        s.push(cmd(&["LCS", &a, &b]), bulk("mytext"));
        s.push(cmd(&["LCS", &a, &b, "LEN"]), int(6));
        s.push(
            cmd(&["LCS", &a, &b, "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]),
            idx.clone(),
        );
        s.push(cmd(&["LCS", &a, "nokey"]), bulk(""));
        s.push(cmd(&["LCS", "nokey", &b, "LEN"]), int(0));
    }
    s.run(&server);
}
per_shards3!(lcs_across_shards, super::check_lcs);

// --- 3. atomicity under concurrency -----------------------------------------

/// Threads of each kind in a race, and commands per pipelined round trip:
/// bursts keep several transactions in flight per connection, so readers
/// and writers overlap as much as possible.
const RACERS: usize = 3;
const BURST: usize = 8;

/// One side of a race: called with (thread index, connection, round); runs
/// one round trip and checks its replies (panics on a violation).
type Racer = Arc<dyn Fn(usize, &mut Connection, usize) + Send + Sync>;

/// Runs `RACERS` writer threads and `RACERS` reader threads, each on its own
/// connection, until their budgets are spent (readers also stop once every
/// writer is done). Returns the rounds each thread ran.
fn race(server: &Server, writer: Racer, reader: Racer) -> (Vec<usize>, Vec<usize>) {
    let done = Arc::new(AtomicBool::new(false));
    let spawn = |f: Racer, stop: Option<Arc<AtomicBool>>, t: usize| {
        let mut con = server.client();
        std::thread::spawn(move || {
            let mut budget = Budget::new(STRESS_ITERATIONS / BURST, STRESS_TIME);
            let mut round = 0;
            while !stop.as_ref().is_some_and(|s| s.load(Ordering::Relaxed)) && budget.tick() {
                f(t, &mut con, round);
                round += 1;
            }
            round
        })
    };
    // Noise: single-shard writes (a hash tag per MSET) on every shard keep
    // all shards busy, so they serve the transactions' hops interleaved
    // finely instead of in the same order at each wake-up.
    let noise: Racer = Arc::new(|t, con, round| {
        let pipe = burst(|i, p| {
            let c = p.cmd("MSET").ignore();
            for k in 0..8 {
                c.arg(format!("{{noise:{t}:{i}}}:{k}")).arg(round);
            }
        });
        let () = pipe.query(con).expect("noise");
    });
    let noisy: Vec<_> = (0..RACERS)
        .map(|t| spawn(noise.clone(), Some(done.clone()), t))
        .collect();
    let writers: Vec<_> = (0..RACERS)
        .map(|t| spawn(writer.clone(), None, t))
        .collect();
    let readers: Vec<_> = (0..RACERS)
        .map(|t| spawn(reader.clone(), Some(done.clone()), t))
        .collect();
    let written = join_within(writers, JOIN_TIMEOUT);
    done.store(true, Ordering::Relaxed);
    join_within(noisy, JOIN_TIMEOUT);
    (written, join_within(readers, JOIN_TIMEOUT))
}

/// A pipeline of `BURST` commands built by `each(i)`.
fn burst(mut each: impl FnMut(usize, &mut redis::Pipeline)) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    for i in 0..BURST {
        each(i, &mut pipe);
    }
    pipe
}

/// Writers MSET 8 keys (on every shard) to one per-command value while
/// readers MGET them: every MGET sees all 8 equal, never half of an MSET.
fn check_atomic_mset_mget(shards: usize) {
    let server = Server::start(shards);
    let keys = Arc::new(spread("atom:", 8));
    let mut con = server.client();
    mset_n(&mut con, &keys, "init");
    let k = keys.clone();
    let writer: Racer = Arc::new(move |w, con, round| {
        let pipe = burst(|i, p| {
            let c = p.cmd("MSET");
            for key in k.iter() {
                c.arg(key).arg(format!("w{w}:{round}:{i}"));
            }
        });
        let () = pipe.query(con).expect("MSET");
    });
    let k = keys.clone();
    let reader: Racer = Arc::new(move |_, con, _| {
        let pipe = burst(|_, p| {
            p.cmd("MGET").arg(&*k);
        });
        let replies: Vec<Vec<Option<String>>> = pipe.query(con).expect("MGET");
        for got in replies {
            assert!(
                got[0].is_some() && got.iter().all(|v| *v == got[0]),
                "MGET saw a partial MSET: {got:?}"
            );
        }
    });
    let (written, read) = race(&server, writer, reader);
    eprintln!("MSET rounds {written:?}, MGET rounds {read:?} (x{BURST} commands)");
    let got: Vec<Option<String>> = redis::cmd("MGET")
        .arg(&*keys)
        .query(&mut con)
        .expect("MGET");
    assert!(got.iter().all(|v| *v == got[0]), "final state: {got:?}");
}
per_shards3!(atomic_mset_vs_mget, super::check_atomic_mset_mget);

/// Writers MSET then DEL 8 keys (DEL answers 0 or 8) while readers check
/// EXISTS (0 or 8) and MGET (all missing or all equal).
fn check_atomic_del_exists(shards: usize) {
    let server = Server::start(shards);
    let keys = Arc::new(spread("dx:", 8));
    let k = keys.clone();
    let writer: Racer = Arc::new(move |w, con, round| {
        let pipe = burst(|i, p| {
            if i % 2 == 0 {
                let c = p.cmd("MSET");
                for key in k.iter() {
                    c.arg(key).arg(format!("w{w}:{round}:{i}"));
                }
                c.ignore();
            } else {
                p.cmd("DEL").arg(&*k);
            }
        });
        let deleted: Vec<i64> = pipe.query(con).expect("MSET/DEL");
        for n in deleted {
            assert!(n == 0 || n == 8, "DEL of 8 keys deleted {n}");
        }
    });
    let k = keys.clone();
    let reader: Racer = Arc::new(move |_, con, _| {
        let pipe = burst(|_, p| {
            p.cmd("EXISTS").arg(&*k);
            p.cmd("MGET").arg(&*k);
        });
        let replies: Vec<(i64, Vec<Option<String>>)> = pipe.query(con).expect("EXISTS/MGET");
        for (n, got) in replies {
            assert!(n == 0 || n == 8, "EXISTS of 8 keys counted {n}");
            assert!(
                got.iter().all(|v| *v == got[0]),
                "MGET saw a partial MSET or DEL: {got:?}"
            );
        }
    });
    let (written, read) = race(&server, writer, reader);
    eprintln!("MSET+DEL rounds {written:?}, EXISTS+MGET rounds {read:?} (x{BURST})");
}
per_shards3!(atomic_del_vs_exists, super::check_atomic_del_exists);

/// Renamers move 8 values back and forth between key pairs on different
/// shards while readers MGET all 16 keys: in every reply exactly one key of
/// each pair exists, holding the pair's value; EXISTS of a pair is always 1.
fn check_atomic_rename_mget(shards: usize) {
    let server = Server::start(shards);
    // Renamer t owns pairs t, t + RACERS, …: one renamer per pair, so every
    // RENAME finds its source.
    let pairs = Arc::new(cross_pairs("mv", 8));
    let all: Arc<Vec<String>> = Arc::new(
        pairs
            .iter()
            .flat_map(|(a, b)| [a.clone(), b.clone()])
            .collect(),
    );
    let mut con = server.client();
    for (p, (a, _)) in pairs.iter().enumerate() {
        let () = query(&mut con, &["SET", a, &format!("pair{p}")]);
    }
    let ps = pairs.clone();
    let writer: Racer = Arc::new(move |t, con, _| {
        // BURST renames per round trip: an even number, so each round ends
        // with the values where it found them.
        let mine: Vec<&(String, String)> = ps.iter().skip(t).step_by(RACERS).collect();
        let pipe = burst(|i, p| {
            for (a, b) in &mine {
                let (from, to) = if i % 2 == 0 { (a, b) } else { (b, a) };
                p.cmd("RENAME").arg(from).arg(to).ignore();
            }
        });
        let () = pipe.query(con).expect("RENAME");
    });
    let a = all.clone();
    let reader: Racer = Arc::new(move |_, con, round| {
        let pipe = burst(|i, p| {
            p.cmd("MGET").arg(&*a);
            let q = (round * BURST + i) % 8;
            p.cmd("EXISTS").arg(&a[2 * q]).arg(&a[2 * q + 1]);
        });
        let replies: Vec<(Vec<Option<String>>, i64)> = pipe.query(con).expect("MGET/EXISTS");
        for (got, exists) in replies {
            for (p, pair) in got.chunks(2).enumerate() {
                let want = Some(format!("pair{p}"));
                assert!(
                    (pair[0] == want && pair[1].is_none())
                        || (pair[0].is_none() && pair[1] == want),
                    "pair {p} mid-RENAME: {pair:?} (whole MGET {got:?})"
                );
            }
            assert_eq!(exists, 1, "EXISTS of a pair mid-RENAME");
        }
    });
    let (renamed, read) = race(&server, writer, reader);
    eprintln!("RENAME rounds {renamed:?}, MGET+EXISTS rounds {read:?} (x{BURST})");
    let exists: i64 = redis::cmd("EXISTS")
        .arg(&*all)
        .query(&mut con)
        .expect("EXISTS");
    assert_eq!(exists, 8, "after the race, one key of each pair");
}
per_shards3!(atomic_rename_vs_mget, super::check_atomic_rename_mget);

/// Single-key INCRs (which run inline on their shard, parked behind any
/// transaction's locks) race with COPY a b REPLACE across shards: `b` is
/// always a past copy of a counter that only grows, so every MGET sees
/// b <= a for each pair.
fn check_atomic_copy_incr_mget(shards: usize) {
    let server = Server::start(shards);
    let pairs = Arc::new(cross_pairs("cp", 4));
    let mut con = server.client();
    for (a, b) in pairs.iter() {
        let () = query(&mut con, &["MSET", a, "0", b, "0"]);
    }
    let ps = pairs.clone();
    // Writer 0 copies, the others increment.
    let writer: Racer = Arc::new(move |t, con, _| {
        let pipe = burst(|i, p| {
            let (a, b) = &ps[i % ps.len()];
            if t == 0 {
                p.cmd("COPY").arg(a).arg(b).arg("REPLACE").ignore();
            } else {
                p.cmd("INCR").arg(a).ignore();
            }
        });
        let () = pipe.query(con).expect("COPY/INCR");
    });
    let ps = pairs.clone();
    let reader: Racer = Arc::new(move |_, con, _| {
        let keys: Vec<&String> = ps.iter().flat_map(|(a, b)| [a, b]).collect();
        let pipe = burst(|_, p| {
            p.cmd("MGET").arg(&keys);
        });
        let replies: Vec<Vec<i64>> = pipe.query(con).expect("MGET");
        for got in replies {
            for (p, ab) in got.chunks(2).enumerate() {
                assert!(
                    ab[1] <= ab[0],
                    "pair {p}: copy {} ahead of its source {} (MGET {got:?})",
                    ab[1],
                    ab[0]
                );
            }
        }
    });
    let (written, read) = race(&server, writer, reader);
    eprintln!("COPY/INCR rounds {written:?}, MGET rounds {read:?} (x{BURST})");
    let incrs: usize = written.iter().skip(1).sum::<usize>() * BURST;
    let mut total = 0;
    for (a, _) in pairs.iter() {
        let n: i64 = query(&mut con, &["GET", a]);
        total += n;
    }
    assert_eq!(total, incrs as i64, "every INCR counted once");
}
per_shards3!(atomic_copy_incr_vs_mget, super::check_atomic_copy_incr_mget);

// --- 4. SCAN ------------------------------------------------------------------

/// One SCAN call: (next cursor, keys).
fn scan_once(con: &mut Connection, cursor: &str, extra: &[&str]) -> (String, Vec<String>) {
    let mut c = redis::cmd("SCAN");
    c.arg(cursor);
    for a in extra {
        c.arg(*a);
    }
    c.query(con)
        .unwrap_or_else(|e| panic!("SCAN {cursor} {extra:?}: {e}"))
}

/// Upper bound on SCAN calls per full iteration, so a cursor that never
/// returns to 0 fails instead of looping.
const SCAN_MAX_CALLS: usize = 100_000;
const SCAN_MAX_TIME: Duration = Duration::from_secs(20);

/// A full SCAN; calls `between` after each call. Returns (keys with
/// repetitions, number of calls).
fn full_scan(
    con: &mut Connection,
    extra: &[&str],
    mut between: impl FnMut(&mut Connection, usize),
) -> (Vec<String>, usize) {
    let mut cursor = "0".to_string();
    let mut keys = Vec::new();
    let mut calls = 0;
    let mut budget = Budget::new(SCAN_MAX_CALLS, SCAN_MAX_TIME);
    loop {
        assert!(
            budget.tick(),
            "SCAN {extra:?} did not return cursor 0 after {calls} calls"
        );
        let (next, page) = scan_once(con, &cursor, extra);
        calls += 1;
        keys.extend(page);
        if next == "0" {
            return (keys, calls);
        }
        between(con, calls);
        cursor = next;
    }
}

const SCAN_KEYS: usize = 5000;

fn fill_scan_keys(con: &mut Connection) -> BTreeSet<String> {
    let keys = names("scan:", SCAN_KEYS);
    for chunk in keys.chunks(500) {
        let mut c = redis::cmd("MSET");
        for k in chunk {
            c.arg(k).arg("v");
        }
        let () = c.query(con).expect("MSET");
    }
    keys.into_iter().collect()
}

/// A full SCAN with COUNT 1, 10, 100, 1000 returns every key (and nothing
/// else), ends at cursor 0, in a number of calls that honours COUNT.
fn check_scan_counts(shards: usize) {
    let server = Server::start(shards);
    let mut con = server.client();
    let all = fill_scan_keys(&mut con);
    for count in [1usize, 10, 100, 1000] {
        let c = count.to_string();
        let (keys, calls) = full_scan(&mut con, &["COUNT", &c], |_, _| {});
        let seen: BTreeSet<String> = keys.into_iter().collect();
        assert_eq!(seen.len(), all.len(), "SCAN COUNT {count}: distinct keys");
        assert!(seen == all, "SCAN COUNT {count} returned other keys");
        let limit = 4 * SCAN_KEYS / count + 30;
        assert!(
            calls <= limit,
            "SCAN COUNT {count} took {calls} calls for {SCAN_KEYS} keys (limit {limit})"
        );
        eprintln!("SCAN COUNT {count}: {calls} calls");
    }
    // Without COUNT (default 10) too.
    let (keys, _) = full_scan(&mut con, &[], |_, _| {});
    assert_eq!(keys.into_iter().collect::<BTreeSet<_>>(), all);
}
per_shards3!(scan_full_with_counts, super::check_scan_counts);

/// MATCH and TYPE filters select exactly the matching keys.
fn check_scan_filters(shards: usize) {
    let server = Server::start(shards);
    let mut con = server.client();
    let all = fill_scan_keys(&mut con);
    let ones: BTreeSet<String> = all
        .iter()
        .filter(|k| k.starts_with("scan:1"))
        .cloned()
        .collect();
    let sevens: BTreeSet<String> = all.iter().filter(|k| k.ends_with('7')).cloned().collect();
    for count in ["10", "1000"] {
        let (keys, _) = full_scan(&mut con, &["MATCH", "scan:1*", "COUNT", count], |_, _| {});
        assert_eq!(
            keys.into_iter().collect::<BTreeSet<_>>(),
            ones,
            "MATCH scan:1*"
        );
        let (keys, _) = full_scan(&mut con, &["MATCH", "*7", "COUNT", count], |_, _| {});
        assert_eq!(
            keys.into_iter().collect::<BTreeSet<_>>(),
            sevens,
            "MATCH *7"
        );
        let (keys, _) = full_scan(&mut con, &["TYPE", "string", "COUNT", count], |_, _| {});
        assert_eq!(
            keys.into_iter().collect::<BTreeSet<_>>(),
            all,
            "TYPE string"
        );
        let (keys, _) = full_scan(&mut con, &["TYPE", "list", "COUNT", count], |_, _| {});
        assert!(keys.is_empty(), "TYPE list returned {} keys", keys.len());
        let (keys, _) = full_scan(
            &mut con,
            &["MATCH", "*7", "TYPE", "string", "COUNT", count],
            |_, _| {},
        );
        assert_eq!(
            keys.into_iter().collect::<BTreeSet<_>>(),
            sevens,
            "MATCH+TYPE"
        );
        let (keys, _) = full_scan(&mut con, &["MATCH", "nomatch*", "COUNT", count], |_, _| {});
        assert!(keys.is_empty());
    }
}
per_shards3!(scan_match_and_type, super::check_scan_filters);

/// Keys added and deleted between SCAN calls do not make SCAN miss a key that
/// was present the whole time; only existing-or-churned keys come back.
fn check_scan_under_mutation(shards: usize) {
    let server = Server::start(shards);
    let mut con = server.client();
    let stable = fill_scan_keys(&mut con);
    let mut churn_all = HashSet::new();
    for count in ["10", "100", "1000"] {
        let mut next_tmp = 0usize;
        let mut live: Vec<String> = Vec::new();
        let (keys, calls) = full_scan(&mut con, &["COUNT", count], |con, call| {
            // Add 20 keys, delete the 10 oldest churn keys.
            let mut c = redis::cmd("MSET");
            for _ in 0..20 {
                let k = format!("tmp:{count}:{next_tmp}");
                next_tmp += 1;
                c.arg(&k).arg(call);
                churn_all.insert(k.clone());
                live.push(k);
            }
            let () = c.query(con).expect("MSET churn");
            let old: Vec<String> = live.drain(..10.min(live.len())).collect();
            let _: i64 = redis::cmd("DEL").arg(&old).query(con).expect("DEL churn");
        });
        let seen: HashSet<String> = keys.into_iter().collect();
        let missed: Vec<&String> = stable.iter().filter(|k| !seen.contains(*k)).collect();
        assert!(
            missed.is_empty(),
            "SCAN COUNT {count} with churn ({calls} calls) missed {} stable keys, e.g. {:?}",
            missed.len(),
            &missed[..missed.len().min(5)]
        );
        let strange: Vec<&String> = seen
            .iter()
            .filter(|k| !stable.contains(*k) && !churn_all.contains(*k))
            .collect();
        assert!(strange.is_empty(), "SCAN returned unknown keys {strange:?}");
        let _: i64 = redis::cmd("DEL").arg(&live).query(&mut con).unwrap_or(0);
    }
    assert_eq!(dbsize(&mut con), SCAN_KEYS as i64);
}
per_shards3!(scan_under_mutation, super::check_scan_under_mutation);

/// A cursor that is not an unsigned number: `-ERR invalid cursor`
/// (`parseScanCursorOrReply`), the connection stays usable.
fn check_scan_invalid_cursor(shards: usize) {
    let server = Server::start(shards);
    let mut raw = server.raw();
    for bad in ["abc", "12x", " 1", "1 ", "99999999999999999999999"] {
        let got = raw.command(&[b"SCAN", bad.as_bytes()]);
        assert_eq!(text(&got), "-ERR invalid cursor\r\n", "SCAN {bad:?}");
    }
    let got = raw.command(&[b"SCAN", b"abc", b"COUNT", b"10"]);
    assert_eq!(text(&got), "-ERR invalid cursor\r\n");
    assert_eq!(text(&raw.command(&[b"PING"])), "+PONG\r\n");
}
per_shards3!(scan_invalid_cursor, super::check_scan_invalid_cursor);

// --- 5. keyspace-wide commands -----------------------------------------------

fn keys_star(con: &mut Connection, pattern: &str) -> BTreeSet<String> {
    let keys: Vec<String> = query(con, &["KEYS", pattern]);
    let n = keys.len();
    let set: BTreeSet<String> = keys.into_iter().collect();
    assert_eq!(set.len(), n, "KEYS {pattern} returned a key twice");
    set
}

/// Number of keys `INFO keyspace` reports for `db`, or None without a line.
fn info_keys(con: &mut Connection, db: usize) -> Option<i64> {
    let info: String = query(con, &["INFO", "keyspace"]);
    let prefix = format!("db{db}:keys=");
    info.lines().find_map(|l| {
        l.strip_prefix(&prefix)
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.parse().ok())
    })
}

fn mset_n(con: &mut Connection, keys: &[String], value: &str) {
    let mut c = redis::cmd("MSET");
    for k in keys {
        c.arg(k).arg(value);
    }
    let () = c.query(con).expect("MSET");
}

/// DBSIZE, KEYS *, INFO keyspace, SWAPDB, FLUSHDB, FLUSHALL agree across
/// shards and across connections (which may live on different shards).
fn check_keyspace_totals(shards: usize) {
    let server = Server::start(shards);
    let mut cons: Vec<Connection> = (0..6).map(|_| server.client()).collect();
    let a = names("ka:", 500);
    let b = names("kb:", 300);
    mset_n(&mut cons[0], &a, "a");
    let () = query(&mut cons[1], &["SELECT", "1"]);
    mset_n(&mut cons[1], &b, "b");
    let a_set: BTreeSet<String> = a.iter().cloned().collect();
    let b_set: BTreeSet<String> = b.iter().cloned().collect();
    for (i, con) in cons.iter_mut().enumerate() {
        let want = if i == 1 { 300 } else { 500 };
        assert_eq!(dbsize(con), want, "DBSIZE on connection {i}");
        let want_set = if i == 1 { &b_set } else { &a_set };
        assert_eq!(&keys_star(con, "*"), want_set, "KEYS * on connection {i}");
        assert_eq!(info_keys(con, 0), Some(500));
        assert_eq!(info_keys(con, 1), Some(300));
    }
    let ones: BTreeSet<String> = a
        .iter()
        .filter(|k| k.starts_with("ka:1"))
        .cloned()
        .collect();
    assert_eq!(keys_star(&mut cons[2], "ka:1*"), ones);
    assert!(keys_star(&mut cons[2], "kb:*").is_empty());

    // SWAPDB is seen by every connection, whatever its shard.
    let () = query(&mut cons[3], &["SWAPDB", "0", "1"]);
    for (i, con) in cons.iter_mut().enumerate() {
        let (want, want_set) = if i == 1 { (500, &a_set) } else { (300, &b_set) };
        assert_eq!(dbsize(con), want, "DBSIZE after SWAPDB on connection {i}");
        assert_eq!(&keys_star(con, "*"), want_set, "KEYS * after SWAPDB ({i})");
        assert_eq!(info_keys(con, 0), Some(300));
        assert_eq!(info_keys(con, 1), Some(500));
    }
    let exists: i64 = redis::cmd("EXISTS")
        .arg(&b)
        .query(&mut cons[0])
        .expect("EXISTS");
    assert_eq!(exists, 300);
    let exists: i64 = redis::cmd("EXISTS")
        .arg(&a)
        .query(&mut cons[0])
        .expect("EXISTS");
    assert_eq!(exists, 0);
    let () = query(&mut cons[4], &["SWAPDB", "1", "0"]);
    assert_eq!(dbsize(&mut cons[5]), 500);
    assert_eq!(keys_star(&mut cons[5], "*"), a_set);

    // FLUSHDB empties only the connection's database, on every shard.
    let () = query(&mut cons[1], &["FLUSHDB"]);
    for (i, con) in cons.iter_mut().enumerate() {
        let want = if i == 1 { 0 } else { 500 };
        assert_eq!(dbsize(con), want, "DBSIZE after FLUSHDB of db1 ({i})");
        assert_eq!(info_keys(con, 1), None);
    }
    let () = query(&mut cons[1], &["SELECT", "2"]);
    mset_n(&mut cons[1], &b, "c");
    assert_eq!(info_keys(&mut cons[0], 2), Some(300));
    let () = query(&mut cons[5], &["FLUSHALL"]);
    for (i, con) in cons.iter_mut().enumerate() {
        assert_eq!(dbsize(con), 0, "DBSIZE after FLUSHALL ({i})");
        assert!(keys_star(con, "*").is_empty());
    }
    let info: String = query(&mut cons[0], &["INFO", "keyspace"]);
    assert!(
        !info.lines().any(|l| l.starts_with("db")),
        "INFO keyspace after FLUSHALL: {info:?}"
    );
    // FLUSHALL ASYNC / FLUSHDB SYNC take effect at once too.
    mset_n(&mut cons[0], &a, "a");
    let () = query(&mut cons[2], &["FLUSHDB", "SYNC"]);
    assert_eq!(dbsize(&mut cons[0]), 0);
    mset_n(&mut cons[0], &a, "a");
    let () = query(&mut cons[2], &["FLUSHALL", "ASYNC"]);
    let mut con = server.client();
    assert!(
        wait_until(Duration::from_secs(5), || dbsize(&mut con) == 0),
        "FLUSHALL ASYNC left keys"
    );
}
per_shards3!(keyspace_totals, super::check_keyspace_totals);

// --- 6. expiry ------------------------------------------------------------------

/// 1000 keys with PX 200, never touched: DBSIZE (which does not expire keys)
/// reaches 0, so every shard's active expire cycle ran; then INFO keyspace has
/// no db0 line and INFO stats counts them as expired.
fn check_active_expiry(shards: usize) {
    let server = Server::start(shards);
    let mut con = server.client();
    let mut pipe = redis::pipe();
    for i in 0..1000 {
        pipe.cmd("SET")
            .arg(format!("exp:{i}"))
            .arg(i)
            .arg("PX")
            .arg(200);
    }
    let replies: Vec<Value> = pipe.query(&mut con).expect("pipelined SET PX");
    assert!(replies.iter().all(|r| *r == Value::Okay));
    let mut last = -1;
    let drained = wait_until(Duration::from_secs(5), || {
        last = dbsize(&mut con);
        last == 0
    });
    assert!(
        drained,
        "DBSIZE still {last} 5 s after 1000 keys with PX 200 expired"
    );
    assert_eq!(info_keys(&mut con, 0), None, "INFO keyspace still has db0");
    let stats: String = query(&mut con, &["INFO", "stats"]);
    let expired: i64 = stats
        .lines()
        .find_map(|l| l.strip_prefix("expired_keys:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no expired_keys in INFO stats: {stats}"));
    assert_eq!(expired, 1000, "INFO stats expired_keys");
}
per_shards3!(active_expiry_every_shard, super::check_active_expiry);

/// TTL/PTTL/EXPIRE/PERSIST of keys on every shard from one connection.
fn check_ttl_across_shards(shards: usize) {
    let server = Server::start(shards);
    let mut con = server.client();
    let keys = names("ttl:", 32);
    for k in &keys {
        let () = query(&mut con, &["SET", k, "v", "EX", "1000"]);
    }
    for k in &keys {
        let ttl: i64 = query(&mut con, &["TTL", k]);
        assert!((990..=1000).contains(&ttl), "TTL {k}: {ttl}");
        let pttl: i64 = query(&mut con, &["PTTL", k]);
        assert!((990_000..=1_000_000).contains(&pttl), "PTTL {k}: {pttl}");
    }
    // Read back from other connections, which may be on other shards.
    for _ in 0..4 {
        let mut other = server.client();
        for k in &keys {
            let ttl: i64 = query(&mut other, &["TTL", k]);
            assert!(
                (990..=1000).contains(&ttl),
                "TTL {k} from another connection: {ttl}"
            );
        }
    }
    for (i, k) in keys.iter().enumerate() {
        if i % 2 == 0 {
            let n: i64 = query(&mut con, &["PERSIST", k]);
            assert_eq!(n, 1, "PERSIST {k}");
        } else {
            let n: i64 = query(&mut con, &["EXPIRE", k, "50"]);
            assert_eq!(n, 1, "EXPIRE {k} 50");
        }
    }
    for (i, k) in keys.iter().enumerate() {
        let ttl: i64 = query(&mut con, &["TTL", k]);
        if i % 2 == 0 {
            assert_eq!(ttl, -1, "TTL {k} after PERSIST");
        } else {
            assert!((40..=50).contains(&ttl), "TTL {k} after EXPIRE 50: {ttl}");
        }
    }
    let ttl: i64 = query(&mut con, &["TTL", "ttl:missing"]);
    assert_eq!(ttl, -2);
    assert_eq!(info_keys(&mut con, 0), Some(32));
    let info: String = query(&mut con, &["INFO", "keyspace"]);
    assert!(
        info.lines()
            .any(|l| l.starts_with("db0:keys=32,expires=16,")),
        "INFO keyspace: {info:?}"
    );
}
per_shards3!(ttl_across_shards, super::check_ttl_across_shards);

// --- 7. many connections --------------------------------------------------------

/// What the main thread tells a client thread once it has looked at CLIENT LIST.
enum Verdict {
    /// Your connection was killed: check that it is closed.
    Killed,
    /// Carry on.
    Live,
}

/// CLIENT LIST ids.
fn client_ids(con: &mut Connection) -> Vec<u64> {
    let list: String = query(con, &["CLIENT", "LIST"]);
    list.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|f| f.strip_prefix("id="))
        .map(|id| id.parse().expect("numeric client id"))
        .collect()
}

/// 50 clients, each on its own connection (spread over the shards by
/// SO_REUSEPORT), run a pipelined workload; CLIENT LIST shows them all while
/// they are connected; CLIENT KILL ID closes clients whatever their shard.
fn check_many_connections(shards: usize) {
    const CLIENTS: usize = 50;
    let server = Server::start(shards);
    let mut main = server.client();
    // Each client thread reports (its index, its CLIENT ID) once its workload
    // is done, then waits, still connected, for its verdict.
    let (ready_tx, ready_rx) = mpsc::channel::<(usize, u64)>();
    let mut verdicts = Vec::new();
    let mut handles = Vec::new();
    for c in 0..CLIENTS {
        let mut con = server.client();
        let ready_tx = ready_tx.clone();
        let (verdict_tx, verdict_rx) = mpsc::channel::<Verdict>();
        verdicts.push(verdict_tx);
        handles.push(std::thread::spawn(move || {
            client_workload(c, &mut con, &ready_tx, &verdict_rx)
        }));
    }
    drop(ready_tx);
    let mut ids = vec![0u64; CLIENTS];
    let deadline = Instant::now() + JOIN_TIMEOUT;
    for n in 0..CLIENTS {
        let left = deadline.saturating_duration_since(Instant::now());
        match ready_rx.recv_timeout(left) {
            Ok((c, id)) => ids[c] = id,
            Err(_) => {
                // A client thread failed: release the others, re-raise its panic.
                drop(verdicts);
                join_within(handles, JOIN_TIMEOUT);
                panic!("only {n} of {CLIENTS} clients got ready");
            }
        }
    }
    // While every client is connected, CLIENT LIST shows them all.
    let main_id: u64 = query(&mut main, &["CLIENT", "ID"]);
    let listed = client_ids(&mut main);
    let missing: Vec<u64> = ids
        .iter()
        .chain([&main_id])
        .filter(|id| !listed.contains(id))
        .copied()
        .collect();
    assert!(
        missing.is_empty(),
        "CLIENT LIST lacks ids {missing:?}: {listed:?}"
    );
    let distinct: HashSet<u64> = listed.iter().copied().collect();
    assert_eq!(distinct.len(), listed.len(), "CLIENT LIST repeats an id");
    let counter: i64 = query(&mut main, &["GET", "conns:counter"]);
    assert_eq!(counter, (CLIENTS * 20) as i64);

    // Kill every fifth client: connections were accepted by whichever shard
    // SO_REUSEPORT chose, so the victims are spread over the shards.
    let victims: Vec<usize> = (0..CLIENTS).step_by(5).collect();
    for &c in &victims {
        let id = ids[c].to_string();
        let n: i64 = query(&mut main, &["CLIENT", "KILL", "ID", &id]);
        assert_eq!(n, 1, "CLIENT KILL ID {id}");
    }
    let gone = wait_until(Duration::from_secs(5), || {
        let listed = client_ids(&mut main);
        victims.iter().all(|&c| !listed.contains(&ids[c]))
    });
    assert!(gone, "killed clients still in CLIENT LIST");
    let again = ids[victims[0]].to_string();
    let n: i64 = query(&mut main, &["CLIENT", "KILL", "ID", &again]);
    assert_eq!(n, 0, "CLIENT KILL ID of a client already killed");
    for (c, v) in verdicts.iter().enumerate() {
        let verdict = if victims.contains(&c) {
            Verdict::Killed
        } else {
            Verdict::Live
        };
        v.send(verdict).expect("client thread alive");
    }
    join_within(handles, JOIN_TIMEOUT);
    // The threads dropped their connections: only this one remains.
    let mut listed = Vec::new();
    let alone = wait_until(Duration::from_secs(5), || {
        listed = client_ids(&mut main);
        listed == [main_id]
    });
    assert!(alone, "CLIENT LIST after every client left: {listed:?}");
}
per_shards3!(many_connections, super::check_many_connections);

/// One client of `check_many_connections`: a pipelined workload, report
/// ready, then check the verdict (closed if killed, still served if not).
fn client_workload(
    c: usize,
    con: &mut Connection,
    ready: &mpsc::Sender<(usize, u64)>,
    verdict: &mpsc::Receiver<Verdict>,
) {
    let keys = names(&format!("conn{c}:"), 20);
    let values: Vec<i64> = (0..20).collect();
    let mut pipe = redis::pipe();
    for (k, v) in keys.iter().zip(&values) {
        pipe.cmd("SET").arg(k).arg(v);
        pipe.cmd("INCR").arg("conns:counter").ignore();
    }
    pipe.cmd("MGET").arg(&keys);
    pipe.cmd("CLIENT").arg("ID");
    let replies: Vec<Value> = pipe.query(con).expect("pipeline");
    assert_eq!(replies.len(), 22, "client {c}: {replies:?}");
    assert!(
        replies[..20].iter().all(|r| *r == Value::Okay),
        "client {c}: {replies:?}"
    );
    let mget: Vec<i64> = redis::from_redis_value(&replies[20]).expect("MGET reply");
    assert_eq!(mget, values, "client {c} MGET");
    let id: u64 = redis::from_redis_value(&replies[21]).expect("CLIENT ID reply");
    ready.send((c, id)).expect("report ready");
    match verdict.recv_timeout(JOIN_TIMEOUT) {
        Ok(Verdict::Killed) => {
            let closed = wait_until(Duration::from_secs(5), || {
                redis::cmd("PING").query::<String>(con).is_err()
            });
            assert!(
                closed,
                "client {c} (id {id}) still served after CLIENT KILL"
            );
        }
        Ok(Verdict::Live) => {
            let pong: String = redis::cmd("PING").query(con).expect("PING");
            assert_eq!(pong, "PONG");
            let got: Vec<i64> = redis::cmd("MGET").arg(&keys).query(con).expect("MGET");
            assert_eq!(got, values, "client {c} MGET at the end");
        }
        // The main thread gave up (its own assertion failed): just end.
        Err(_) => {}
    }
}

// --- 8. the locks themselves ------------------------------------------------

/// With `DEBUG SET-TX-DELAY` a cross-shard command pauses between its
/// per-shard steps, so only the key locks can keep readers from seeing half
/// of it: MSET/MGET and RENAME/MGET races must still never show a torn state.
/// Tessera only (the delay is tessera's own DEBUG subcommand).
fn check_locks_hold_under_delay(shards: usize) {
    if !common::testing_tessera() {
        eprintln!("skipped: DEBUG SET-TX-DELAY is tessera's own (not redis-server's)");
        return;
    }
    let server = Server::start_with(shards, &["--enable-debug-command", "yes"]);
    let mut con = server.client();
    let _: () = query(&mut con, &["DEBUG", "SET-TX-DELAY", "5"]);
    let a = "lockdelay:a".to_string();
    let b = cross_key(&a, "lockdelay:b");
    let _: () = query(&mut con, &["MSET", &a, "0", &b, "0"]);
    let deadline = Instant::now() + Duration::from_secs(3);
    let writer = {
        let (mut w, a, b) = (server.client(), a.clone(), b.clone());
        std::thread::spawn(move || {
            let mut i = 1;
            while i <= 100 && Instant::now() < deadline {
                let v = i.to_string();
                let _: () = query(&mut w, &["MSET", &a, &v, &b, &v]);
                i += 1;
            }
            i
        })
    };
    let reader = {
        let (mut r, a, b) = (server.client(), a.clone(), b.clone());
        std::thread::spawn(move || {
            let mut reads = 0;
            while reads < 300 && Instant::now() < deadline {
                let got: Vec<String> = query(&mut r, &["MGET", &a, &b]);
                assert_eq!(got[0], got[1], "MGET saw half of an MSET: {got:?}");
                reads += 1;
            }
            reads
        })
    };
    let done = join_within(vec![writer, reader], JOIN_TIMEOUT);
    assert!(done.iter().all(|n| *n > 1), "no progress: {done:?}");
    // RENAME between the two shards: exactly one of the keys exists.
    let _: () = query(&mut con, &["DEL", &a, &b]);
    let _: () = query(&mut con, &["SET", &a, "v"]);
    let renamer = {
        let (mut w, a, b) = (server.client(), a.clone(), b.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while n < 60 && Instant::now() < deadline + Duration::from_secs(2) {
                let (from, to) = if n % 2 == 0 { (&a, &b) } else { (&b, &a) };
                let _: () = query(&mut w, &["RENAME", from, to]);
                n += 1;
            }
            n
        })
    };
    let mut r = server.client();
    for _ in 0..100 {
        let n: i64 = query(&mut r, &["EXISTS", &a, &b]);
        assert_eq!(n, 1, "EXISTS saw a RENAME half done");
    }
    let done = join_within(vec![renamer], JOIN_TIMEOUT);
    assert!(done[0] > 0);
    let _: () = query(&mut con, &["DEBUG", "SET-TX-DELAY", "0"]);
}
per_shards!(locks_hold_under_delay, super::check_locks_hold_under_delay; shards_2 => 2, shards_3 => 3);

/// MULTI/EXEC over keys of two shards is atomic and isolated: a transfer
/// (INCR one key, DECR the other) is never seen half done, by MGET nor by
/// another transaction, even with a pause between the EXEC's commands
/// (DEBUG SET-TX-DELAY, tessera only).
fn check_multi_exec_atomic(shards: usize) {
    let server = Server::start_with(shards, &["--enable-debug-command", "yes"]);
    let mut con = server.client();
    if common::testing_tessera() {
        let _: () = query(&mut con, &["DEBUG", "SET-TX-DELAY", "2"]);
    }
    let a = "multi:a".to_string();
    let b = cross_key(&a, "multi:b");
    let _: () = query(&mut con, &["MSET", &a, "0", &b, "0"]);
    let deadline = Instant::now() + STRESS_TIME;
    let writer = {
        let (mut w, a, b) = (server.client(), a.clone(), b.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while n < 200 && Instant::now() < deadline {
                let (r1, r2): (i64, i64) = redis::pipe()
                    .atomic()
                    .cmd("INCR")
                    .arg(&a)
                    .cmd("DECR")
                    .arg(&b)
                    .query(&mut w)
                    .expect("MULTI/EXEC");
                assert_eq!(r1 + r2, 0, "one EXEC saw another half done");
                n += 1;
            }
            n
        })
    };
    let reader = {
        let (mut r, a, b) = (server.client(), a.clone(), b.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while n < 300 && Instant::now() < deadline {
                let got: Vec<i64> = query(&mut r, &["MGET", &a, &b]);
                assert_eq!(got[0] + got[1], 0, "MGET saw half of an EXEC: {got:?}");
                let (x, y): (i64, i64) = redis::pipe()
                    .atomic()
                    .cmd("GET")
                    .arg(&a)
                    .cmd("GET")
                    .arg(&b)
                    .query(&mut r)
                    .expect("MULTI/EXEC");
                assert_eq!(x + y, 0, "an EXEC read half of another");
                n += 1;
            }
            n
        })
    };
    let done = join_within(vec![writer, reader], JOIN_TIMEOUT);
    assert!(done.iter().all(|n| *n > 1), "no progress: {done:?}");
    let total: Vec<i64> = query(&mut con, &["MGET", &a, &b]);
    assert_eq!(total[0], done[0] as i64);
}
per_shards!(multi_exec_atomic, super::check_multi_exec_atomic; shards_1 => 1, shards_2 => 2, shards_3 => 3);

/// LMOVE between two shards is atomic: an element is always in exactly one
/// of the lists, as seen by an isolated reader (MULTI LLEN LLEN EXEC), with
/// a pause inside every cross-shard step (DEBUG SET-TX-DELAY, tessera only).
fn check_lmove_atomic(shards: usize) {
    let server = Server::start_with(shards, &["--enable-debug-command", "yes"]);
    let mut con = server.client();
    if common::testing_tessera() {
        let _: () = query(&mut con, &["DEBUG", "SET-TX-DELAY", "1"]);
    }
    let a = "lmove:a".to_string();
    let b = cross_key(&a, "lmove:b");
    const N: i64 = 8;
    let items: Vec<String> = (0..N).map(|i| i.to_string()).collect();
    let _: () = redis::cmd("RPUSH")
        .arg(&a)
        .arg(&items)
        .query(&mut con)
        .expect("RPUSH");
    let deadline = Instant::now() + STRESS_TIME;
    let mover = {
        let (mut w, a, b) = (server.client(), a.clone(), b.clone());
        std::thread::spawn(move || {
            let mut moves = 0;
            let (mut from, mut to) = (a, b);
            while moves < 300 && Instant::now() < deadline {
                let moved: Option<String> = query(&mut w, &["LMOVE", &from, &to, "RIGHT", "LEFT"]);
                if moved.is_none() {
                    std::mem::swap(&mut from, &mut to);
                }
                moves += 1;
            }
            moves
        })
    };
    let reader = {
        let (mut r, a, b) = (server.client(), a.clone(), b.clone());
        std::thread::spawn(move || {
            let mut reads = 0;
            while reads < 300 && Instant::now() < deadline {
                let (x, y): (i64, i64) = redis::pipe()
                    .atomic()
                    .cmd("LLEN")
                    .arg(&a)
                    .cmd("LLEN")
                    .arg(&b)
                    .query(&mut r)
                    .expect("MULTI/EXEC");
                assert_eq!(x + y, N, "an element in neither or both lists");
                reads += 1;
            }
            reads
        })
    };
    let done = join_within(vec![mover, reader], JOIN_TIMEOUT);
    assert!(done.iter().all(|n| *n > 1), "no progress: {done:?}");
}
per_shards!(lmove_atomic, super::check_lmove_atomic; shards_1 => 1, shards_2 => 2, shards_3 => 3);

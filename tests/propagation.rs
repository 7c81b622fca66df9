//! Every write lands on its shard's replication stream in effect form
//! (`src/commands/propagate.rs`), read back with DEBUG REPL-STREAM, a
//! tessera-only hook: relative TTLs as PXAT / PEXPIREAT, float increments as
//! the SET of their result, blocked pops as the pop done, expired keys as
//! DEL, SELECT on a database change, a cross-shard write as a MULTI/EXEC of
//! rebuilt keys on each shard it wrote, reads not at all.

mod common;

use std::time::{Duration, Instant};

use common::text::*;
use common::{testing_tessera, wait_until, Server};

/// Each shard's stream as commands (words joined by spaces).
fn streams(c: &mut Client) -> Vec<Vec<String>> {
    let raw = c.0.command(&[b"DEBUG", b"REPL-STREAM"]);
    let parts = common::split_replies(&raw).expect("one reply");
    assert_eq!(parts.len(), 1);
    // *N of *2 [:offset, $bytes]
    let body = &parts[0];
    let inner = common::split_replies(&body[body.iter().position(|&b| b == b'\n').unwrap() + 1..])
        .expect("shard replies");
    inner
        .iter()
        .map(|shard| {
            let lines: Vec<&[u8]> = shard.split(|&b| b == b'\n').collect();
            // lines: "*2\r", ":off\r", "$len\r", stream..., so cut the prefix.
            let header = lines[0].len() + lines[1].len() + lines[2].len() + 3;
            let stream = &shard[header..shard.len() - 2];
            commands(stream)
        })
        .collect()
}

/// RESP arrays of bulks → "WORD WORD ...".
fn commands(stream: &[u8]) -> Vec<String> {
    common::split_replies(stream)
        .expect("whole commands")
        .iter()
        .map(|cmd| {
            let text = String::from_utf8_lossy(cmd).into_owned();
            text.split("\r\n")
                .skip(1)
                .filter(|l| !l.starts_with('$') && !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The absolute deadline in `cmd`'s last word, as ms from now.
fn ms_ahead(cmd: &str) -> i64 {
    let at: i64 = cmd.rsplit(' ').next().unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    at - now
}

#[test]
fn effects_on_one_shard() {
    if !testing_tessera() {
        eprintln!("skipped: DEBUG REPL-STREAM is tessera's own");
        return;
    }
    let server = Server::start_with(1, &["--enable-debug-command", "yes"]);
    let mut c = Client::new(&server);
    c.is("SET k v EX 100", OK);
    c.is("GET k", &bulk("v"));
    c.is("SET plain v", OK);
    c.is("INCRBYFLOAT f 1.5", &bulk("1.5"));
    c.is("EXPIRE k 50", &int(1));
    c.is("GETDEL plain", &bulk("v"));
    c.is("HINCRBYFLOAT h f 2.5", &bulk("2.5"));
    c.is("RPUSH l a b", &int(2));
    c.is("BLPOP l 0", &bulks(&["l", "a"]));
    c.is("SELECT 3", OK);
    c.is("SET z 1", OK);
    c.is("SELECT 0", OK);
    c.is("SET e v PX 1", OK);
    let start = Instant::now();
    assert!(wait_until(Duration::from_secs(5), || start.elapsed()
        > Duration::from_millis(20)));
    c.is("GET e", NIL);
    c.is("EXPIRE nokey 10", &int(0));
    let s = &streams(&mut c)[0];
    let expect_prefix = [
        "SELECT 0",
        "SET k v PXAT",
        "SET plain v",
        "SET f 1.5 KEEPTTL",
        "PEXPIREAT k",
        "DEL plain",
        "HSET h f 2.5",
        "RPUSH l a b",
        "LPOP l",
        "SELECT 3",
        "SET z 1",
        "SELECT 0",
        "SET e v PXAT",
        "DEL e",
    ];
    assert_eq!(s.len(), expect_prefix.len(), "{s:#?}");
    for (got, want) in s.iter().zip(expect_prefix) {
        assert!(got.starts_with(want), "{got:?} is not {want:?}: {s:#?}");
    }
    assert!((90_000..=100_000).contains(&ms_ahead(&s[1])), "{}", s[1]);
    assert!((40_000..=50_000).contains(&ms_ahead(&s[4])), "{}", s[4]);

    // A blocked client served by a push: the push, then the pop done.
    let mut blocked = Client::new(&server);
    blocked.send("BRPOP q 0");
    assert!(wait_until(Duration::from_secs(10), || c
        .info_field("blocked_clients")
        == "1"));
    c.is("RPUSH q x", &int(1));
    assert_eq!(blocked.read(), bulks(&["q", "x"]));
    c.is("FLUSHALL", OK);
    let s = &streams(&mut c)[0];
    let tail: Vec<&str> = s[s.len() - 3..].iter().map(String::as_str).collect();
    assert_eq!(tail, ["RPUSH q x", "RPOP q", "FLUSHALL"]);

    // A random pop is the removal of what it popped.
    c.is("SADD s m", &int(1));
    c.is("SPOP s", &bulk("m"));
    c.is("ZADD zz 1 m", &int(1));
    c.is("BZPOPMIN zz 0", &bulks(&["zz", "m", "1"]));
    let s = &streams(&mut c)[0];
    let tail: Vec<&str> = s[s.len() - 4..].iter().map(String::as_str).collect();
    assert_eq!(tail, ["SADD s m", "SREM s m", "ZADD zz 1 m", "ZPOPMIN zz"]);
}

#[test]
fn cross_shard_writes_rebuild_keys() {
    if !testing_tessera() {
        eprintln!("skipped: DEBUG REPL-STREAM is tessera's own");
        return;
    }
    let server = Server::start_with(2, &["--enable-debug-command", "yes"]);
    let mut c = Client::new(&server);
    // `a` and `b` live on different shards.
    c.is("RPUSH a x y", &int(2));
    c.is("RENAME a b", OK);
    let all: Vec<String> = streams(&mut c).into_iter().flatten().collect();
    assert!(all.contains(&"DEL a".to_string()), "{all:#?}");
    let multi = all.iter().position(|s| s == "MULTI").expect("a MULTI");
    assert_eq!(
        all[multi..multi + 4],
        ["MULTI", "DEL b", "RPUSH b x y", "EXEC"],
        "{all:#?}"
    );
}

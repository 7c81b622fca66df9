//! DUMP and RESTORE, reply byte for byte: every type and encoding through
//! a payload and back (OBJECT ENCODING kept), RESTORE's TTL, ABSTTL,
//! REPLACE, IDLETIME and FREQ, BUSYKEY, corrupt payloads, and the
//! propagated form of a RESTORE with a relative TTL.
//!
//! Interop with redis-server 7.0 (a peer, see `common::peer`): payloads
//! from Redis restored into tessera and back; a `dump.rdb` Redis saved
//! read with `tessera::persistence::rdb::load`; and an RDB file written
//! with the crate's writer loaded by Redis at start-up.
//!
//! Every expected reply was checked against redis-server 7.0 with
//! `TESSERA_TEST_BIN=redis-server cargo test --test dump` (the
//! propagation check is tessera's own and skips there).

mod common;

use std::collections::BTreeMap;

use bytes::Bytes;
use common::text::*;
use common::{peer, testing_tessera, Server};
use redis::Connection;
use tessera::persistence::rdb::{self, Record};
use tessera::shard::types::Encodings;
use tessera::shard::value::{Entry, Value};

// --- data of every type and encoding ---------------------------------------

/// Runs one command, panicking with its text on an error.
fn run(con: &mut Connection, args: &[&[u8]]) -> redis::Value {
    let mut cmd = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(con)
        .unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(args[0])))
}

/// Keys of every type and encoding, and the encoding each has.
fn populate(con: &mut Connection) -> Vec<(String, &'static str)> {
    let mut keys = Vec::new();
    let mut add = |con: &mut Connection, key: &str, enc: &'static str, cmds: Vec<Vec<Vec<u8>>>| {
        for c in cmds {
            let args: Vec<&[u8]> = c.iter().map(Vec::as_slice).collect();
            run(con, &args);
        }
        keys.push((key.to_string(), enc));
    };
    let v =
        |words: &[&str]| -> Vec<Vec<u8>> { words.iter().map(|w| w.as_bytes().to_vec()).collect() };
    let many = |cmd: &str, key: &str, items: Vec<String>| -> Vec<Vec<u8>> {
        let mut c = vec![cmd.as_bytes().to_vec(), key.as_bytes().to_vec()];
        c.extend(items.into_iter().map(String::into_bytes));
        c
    };
    add(con, "s:int", "int", vec![v(&["SET", "s:int", "12345"])]);
    add(con, "s:neg", "int", vec![v(&["SET", "s:neg", "-7"])]);
    add(
        con,
        "s:big",
        "int",
        vec![v(&["SET", "s:big", "9223372036854775807"])],
    );
    add(
        con,
        "s:embstr",
        "embstr",
        vec![v(&["SET", "s:embstr", "hello world"])],
    );
    add(con, "s:zero", "embstr", vec![v(&["SET", "s:zero", "0123"])]);
    let raw = "x".repeat(100);
    add(con, "s:raw", "raw", vec![v(&["SET", "s:raw", &raw])]);
    let binary: Vec<u8> = (0..=255u8).collect();
    add(
        con,
        "s:bin",
        "raw",
        vec![vec![b"SET".to_vec(), b"s:bin".to_vec(), binary]],
    );
    add(
        con,
        "s:append",
        "raw",
        vec![
            v(&["SET", "s:append", "ab"]),
            v(&["APPEND", "s:append", &"cd".repeat(30)]),
        ],
    );
    add(
        con,
        "l:small",
        "quicklist",
        vec![v(&["RPUSH", "l:small", "a", "b", "1", "-2"])],
    );
    let items: Vec<String> = (0..3000).map(|i| format!("item-{i}")).collect();
    add(
        con,
        "l:big",
        "quicklist",
        vec![many("RPUSH", "l:big", items)],
    );
    add(
        con,
        "st:int16",
        "intset",
        vec![v(&["SADD", "st:int16", "1", "2", "3", "-100"])],
    );
    add(
        con,
        "st:int32",
        "intset",
        vec![v(&["SADD", "st:int32", "70000", "1"])],
    );
    add(
        con,
        "st:int64",
        "intset",
        vec![v(&["SADD", "st:int64", "9000000000", "1"])],
    );
    add(
        con,
        "st:table",
        "hashtable",
        vec![v(&["SADD", "st:table", "a", "b", "c", "1"])],
    );
    let ints: Vec<String> = (0..600).map(|i| i.to_string()).collect();
    add(
        con,
        "st:bigint",
        "hashtable",
        vec![many("SADD", "st:bigint", ints)],
    );
    add(
        con,
        "h:small",
        "listpack",
        vec![v(&["HSET", "h:small", "f", "v", "n", "42"])],
    );
    let pairs: Vec<String> = (0..600)
        .flat_map(|i| [format!("f{i}"), i.to_string()])
        .collect();
    add(
        con,
        "h:big",
        "hashtable",
        vec![many("HSET", "h:big", pairs)],
    );
    add(
        con,
        "h:long",
        "hashtable",
        vec![v(&["HSET", "h:long", "f", &raw])],
    );
    add(
        con,
        "z:small",
        "listpack",
        vec![v(&[
            "ZADD", "z:small", "1", "a", "1.5", "b", "inf", "c", "-inf", "d", "-0.25", "e",
        ])],
    );
    let members: Vec<String> = (0..200)
        .flat_map(|i| [format!("{}", f64::from(i) / 3.0), format!("m{i}")])
        .collect();
    add(
        con,
        "z:big",
        "skiplist",
        vec![many("ZADD", "z:big", members)],
    );
    add(
        con,
        "z:long",
        "skiplist",
        vec![v(&["ZADD", "z:long", "2", &raw])],
    );
    keys
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn strings(v: redis::Value) -> Vec<String> {
    match v {
        redis::Value::Array(items) => items
            .into_iter()
            .map(|i| match i {
                redis::Value::BulkString(b) => text(&b),
                other => format!("{other:?}"),
            })
            .collect(),
        other => vec![format!("{other:?}")],
    }
}

/// A key as (type, encoding, contents) read through commands; sets and
/// hashes sorted.
fn read_key(con: &mut Connection, key: &str) -> (String, String, Vec<String>) {
    let ty: String = redis::cmd("TYPE").arg(key).query(con).unwrap();
    let enc: String = redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg(key)
        .query(con)
        .unwrap();
    let mut contents = match ty.as_str() {
        "string" => {
            let v: Vec<u8> = redis::cmd("GET").arg(key).query(con).unwrap();
            vec![text(&v)]
        }
        "list" => strings(run(con, &[b"LRANGE", key.as_bytes(), b"0", b"-1"])),
        "set" => strings(run(con, &[b"SMEMBERS", key.as_bytes()])),
        "hash" => strings(run(con, &[b"HGETALL", key.as_bytes()]))
            .chunks(2)
            .map(|p| p.join("="))
            .collect(),
        "zset" => strings(run(
            con,
            &[b"ZRANGE", key.as_bytes(), b"0", b"-1", b"WITHSCORES"],
        ))
        .chunks(2)
        .map(|p| p.join("="))
        .collect(),
        other => panic!("type {other}"),
    };
    if matches!(ty.as_str(), "set" | "hash") {
        contents.sort();
    }
    (ty, enc, contents)
}

/// A loaded value as `read_key` reads a key (scores as Redis replies them).
fn read_value(v: &Value) -> (String, String, Vec<String>) {
    let mut out = Vec::new();
    match v {
        Value::Str(s) => out.push(text(&s.to_bytes())),
        Value::List(l) => out.extend(l.iter().map(text)),
        Value::Set(s) => s.for_each(|m| out.push(text(m))),
        Value::Hash(h) => h.for_each(|f, v| out.push(format!("{}={}", text(f), text(v)))),
        Value::ZSet(z) => z.for_each(|m, s| {
            out.push(format!(
                "{}={}",
                text(m),
                tessera::protocol::format_double(s)
            ))
        }),
    }
    if matches!(v, Value::Set(_) | Value::Hash(_)) {
        out.sort();
    }
    (v.type_name().into(), v.encoding().into(), out)
}

fn dump(con: &mut Connection, key: &str) -> Vec<u8> {
    redis::cmd("DUMP").arg(key).query(con).unwrap()
}

fn restore(con: &mut Connection, key: &str, ttl: &str, payload: &[u8], opts: &[&str]) -> String {
    let r: redis::RedisResult<String> = redis::cmd("RESTORE")
        .arg(key)
        .arg(ttl)
        .arg(payload)
        .arg(opts)
        .query(con);
    match r {
        Ok(s) => s,
        Err(e) => format!("ERR {e}"),
    }
}

// --- DUMP / RESTORE on one server ------------------------------------------

fn check_round_trip_every_type(shards: usize) {
    let server = Server::start(shards);
    let mut con = server.client();
    for (key, enc) in populate(&mut con) {
        let before = read_key(&mut con, &key);
        assert_eq!(before.1, enc, "{key} before");
        let payload = dump(&mut con, &key);
        let copy = format!("copy:{key}");
        assert_eq!(restore(&mut con, &copy, "0", &payload, &[]), "OK");
        assert_eq!(read_key(&mut con, &copy), before, "{key}");
        // Over the original, with REPLACE.
        assert_eq!(restore(&mut con, &key, "0", &payload, &["REPLACE"]), "OK");
        assert_eq!(read_key(&mut con, &key), before, "{key} replaced");
    }
}
per_shards!(round_trip_every_type, super::check_round_trip_every_type);

fn check_restore_options(shards: usize) {
    let server = Server::start(shards);
    let mut con = server.client();
    let mut c = Client::new(&server);
    c.is("SET src value", OK);
    let p = dump(&mut con, "src");
    let r = |con: &mut Connection, key: &str, ttl: &str, opts: &[&str]| {
        restore(con, key, ttl, &p, opts)
    };
    // DUMP of a missing key is nil; arity.
    c.is("DUMP nokey", NIL);
    c.is("DUMP", &arity("dump"));
    c.is("DUMP a b", &arity("dump"));
    c.is("RESTORE k 0", &arity("restore"));
    // Existing key without REPLACE: BUSYKEY, before the TTL is looked at.
    c.bis(
        &[b"RESTORE", b"src", b"-1", &p],
        "-BUSYKEY Target key name already exists.\r\n",
    );
    // TTL: relative ms, 0 = none, ABSTTL = unix ms.
    assert_eq!(r(&mut con, "k1", "100000", &[]), "OK");
    c.int_in("PTTL k1", 90_000..=100_000);
    assert_eq!(r(&mut con, "k2", "0", &[]), "OK");
    c.is("PTTL k2", &int(-1));
    assert_eq!(r(&mut con, "k3", "4000000000000", &["ABSTTL"]), "OK");
    c.is("PEXPIRETIME k3", &int(4_000_000_000_000));
    c.is("GET k3", &bulk("value"));
    // A deadline in the past: OK, and no key (the replaced one is deleted).
    assert_eq!(r(&mut con, "k4", "1", &["ABSTTL"]), "OK");
    c.is("EXISTS k4", &int(0));
    assert_eq!(r(&mut con, "k2", "1000", &["ABSTTL", "REPLACE"]), "OK");
    c.is("EXISTS k2", &int(0));
    // IDLETIME sets the LRU clock OBJECT IDLETIME reads; FREQ is accepted.
    assert_eq!(r(&mut con, "k5", "0", &["IDLETIME", "1000"]), "OK");
    c.int_in("OBJECT IDLETIME k5", 1000..=1002);
    assert_eq!(r(&mut con, "k6", "0", &["freq", "100", "replace"]), "OK");
    c.int_in("OBJECT IDLETIME k6", 0..=2);
    // Option errors, in Redis's order and texts.
    let e = |c: &mut Client, ttl: &str, opts: &[&str]| {
        let mut args: Vec<&[u8]> = vec![b"RESTORE", b"new", ttl.as_bytes(), &p];
        args.extend(opts.iter().map(|o| o.as_bytes()));
        c.b(&args)
    };
    let syntax = SYNTAX.to_string();
    assert_eq!(e(&mut c, "0", &["IDLETIME", "1", "FREQ", "1"]), syntax);
    assert_eq!(e(&mut c, "0", &["FREQ", "1", "IDLETIME", "1"]), syntax);
    assert_eq!(e(&mut c, "0", &["IDLETIME"]), syntax);
    assert_eq!(e(&mut c, "0", &["BOGUS"]), syntax);
    assert_eq!(
        e(&mut c, "0", &["IDLETIME", "-1"]),
        err("Invalid IDLETIME value, must be >= 0")
    );
    assert_eq!(e(&mut c, "0", &["IDLETIME", "x"]), NOT_INT);
    assert_eq!(
        e(&mut c, "0", &["FREQ", "256"]),
        err("Invalid FREQ value, must be >= 0 and <= 255")
    );
    assert_eq!(
        e(&mut c, "0", &["FREQ", "-1"]),
        err("Invalid FREQ value, must be >= 0 and <= 255")
    );
    assert_eq!(e(&mut c, "-1", &[]), err("Invalid TTL value, must be >= 0"));
    assert_eq!(e(&mut c, "x", &[]), NOT_INT);
    // The options are checked before the TTL.
    assert_eq!(e(&mut c, "-1", &["BOGUS"]), syntax);
    c.is("EXISTS new", &int(0));
}
per_shards!(restore_options, super::check_restore_options);

/// A payload around an object part, with the given RDB version.
fn payload(body: &[u8], version: u16) -> Vec<u8> {
    let mut p = body.to_vec();
    p.extend_from_slice(&version.to_le_bytes());
    let crc = rdb::crc64(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

fn check_bad_payloads(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("RPUSH l a b c", &int(3));
    let mut raw = server.raw();
    let p = {
        let reply = raw.command(&[b"DUMP", b"l"]);
        let start = reply.iter().position(|&b| b == b'\n').unwrap() + 1;
        reply[start..reply.len() - 2].to_vec()
    };
    let wrong = err("DUMP payload version or checksum are wrong");
    let bad = err("Bad data format");
    let restore = |c: &mut Client, p: &[u8]| c.b(&[b"RESTORE", b"k", b"0", p]);
    for i in [0, p.len() / 2, p.len() - 9, p.len() - 1] {
        let mut flipped = p.clone();
        flipped[i] ^= 0x01;
        assert_eq!(restore(&mut c, &flipped), wrong, "byte {i} flipped");
    }
    assert_eq!(restore(&mut c, &p[..p.len() - 1]), wrong);
    assert_eq!(restore(&mut c, &p[..5]), wrong);
    assert_eq!(restore(&mut c, b""), wrong);
    let body = &p[..p.len() - 10];
    assert_eq!(restore(&mut c, &payload(body, 11)), wrong);
    assert_eq!(restore(&mut c, &payload(body, 9)), OK);
    c.is("LRANGE k 0 -1", &bulks(&["a", "b", "c"]));
    c.is("DEL k", &int(1));
    // Right footer, wrong object: cut short, unknown type, empty list.
    for body in [
        &body[..body.len() - 3],
        &b"\x0f\x00"[..],
        b"\x08",
        b"\x12\x00",
        b"",
    ] {
        assert_eq!(restore(&mut c, &payload(body, 10)), bad, "{body:?}");
    }
    c.is("EXISTS k", &int(0));
}
per_shards!(bad_payloads, super::check_bad_payloads);

/// The commands in a replication stream, binary-safe.
fn stream_commands(stream: &[u8]) -> Vec<Vec<Vec<u8>>> {
    common::split_replies(stream)
        .expect("whole commands")
        .iter()
        .map(|cmd| {
            let mut args = Vec::new();
            let mut rest = &cmd[cmd.iter().position(|&b| b == b'\n').unwrap() + 1..];
            while !rest.is_empty() {
                let nl = rest.iter().position(|&b| b == b'\n').unwrap();
                let len: usize = text(&rest[1..nl - 1]).parse().unwrap();
                args.push(rest[nl + 1..nl + 1 + len].to_vec());
                rest = &rest[nl + 3 + len..];
            }
            args
        })
        .collect()
}

#[test]
fn restore_propagates_absolute_ttl() {
    if !testing_tessera() {
        eprintln!("skipped: DEBUG REPL-STREAM is tessera's own");
        return;
    }
    let server = Server::start_with(1, &["--enable-debug-command", "yes"]);
    let mut con = server.client();
    let mut c = Client::new(&server);
    c.is("SET src v", OK);
    let p = dump(&mut con, "src");
    assert_eq!(
        restore(&mut con, "rel", "100000", &p, &["IDLETIME", "5"]),
        "OK"
    );
    assert_eq!(
        restore(&mut con, "abs", "4000000000000", &p, &["ABSTTL"]),
        "OK"
    );
    assert_eq!(restore(&mut con, "none", "0", &p, &[]), "OK");
    assert_eq!(
        restore(&mut con, "src", "1", &p, &["ABSTTL", "REPLACE"]),
        "OK"
    );
    assert_eq!(restore(&mut con, "gone", "1", &p, &["ABSTTL"]), "OK");
    let raw = c.0.command(&[b"DEBUG", b"REPL-STREAM"]);
    // *1 of *2 [:offset, $stream]
    let body = &raw[raw.iter().position(|&b| b == b'\n').unwrap() + 1..];
    let shard = &common::split_replies(body).unwrap()[0];
    let parts =
        common::split_replies(&shard[shard.iter().position(|&b| b == b'\n').unwrap() + 1..])
            .unwrap();
    let stream = &parts[1];
    let stream = &stream[stream.iter().position(|&b| b == b'\n').unwrap() + 1..stream.len() - 2];
    let cmds = stream_commands(stream);
    let words = |c: &[Vec<u8>]| -> Vec<String> { c.iter().map(|a| text(a)).collect() };
    let restores: Vec<&Vec<Vec<u8>>> = cmds
        .iter()
        .filter(|c| c[0] == b"RESTORE" || c[0] == b"DEL")
        .collect();
    assert_eq!(
        restores.len(),
        4,
        "{:?}",
        cmds.iter().map(|c| words(c)).collect::<Vec<_>>()
    );
    let rel = words(restores[0]);
    assert_eq!(rel.len(), 7);
    assert_eq!(
        (&rel[1][..], &rel[4][..], &rel[5][..], &rel[6][..]),
        ("rel", "IDLETIME", "5", "ABSTTL")
    );
    assert_eq!(restores[0][3], p);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let at: i64 = rel[2].parse().unwrap();
    assert!((90_000..=100_000).contains(&(at - now)), "{at}");
    // Already absolute or persistent: as sent. A replaced key that the
    // past deadline deleted: DEL. Nothing for a key never created.
    assert_eq!(words(restores[1])[2..3], ["4000000000000"]);
    assert_eq!(words(restores[1]).len(), 5);
    assert_eq!(words(restores[2])[2], "0");
    assert_eq!(words(restores[3]), ["DEL", "src"]);
}

// --- interop with redis-server ------------------------------------------------

fn check_payloads_cross_servers(shards: usize) {
    let Some(redis_server) = peer("redis-server") else {
        return;
    };
    let redis = Server::start_binary(&redis_server, &[]);
    let tessera = Server::start(shards);
    let (mut r, mut t) = (redis.client(), tessera.client());
    let keys = populate(&mut r);
    populate(&mut t);
    for (key, enc) in &keys {
        let want = read_key(&mut r, key);
        assert_eq!(want.1, *enc, "{key} in redis");
        // Redis → tessera.
        let from_redis = dump(&mut r, key);
        let copy = format!("from-redis:{key}");
        assert_eq!(restore(&mut t, &copy, "0", &from_redis, &[]), "OK", "{key}");
        assert_eq!(read_key(&mut t, &copy), want, "{key} restored in tessera");
        // Tessera → Redis.
        let from_tessera = dump(&mut t, key);
        let copy = format!("from-tessera:{key}");
        assert_eq!(
            restore(&mut r, &copy, "0", &from_tessera, &[]),
            "OK",
            "{key}"
        );
        assert_eq!(read_key(&mut r, &copy), want, "{key} restored in redis");
    }
}
per_shards!(payloads_cross_servers, super::check_payloads_cross_servers);

/// An RDB file's entries by (db, key).
type Keys = BTreeMap<(usize, String), Entry>;

/// The AUX fields and every entry of an RDB file.
fn load_file(data: &[u8]) -> (Vec<(Bytes, Bytes)>, Keys) {
    let mut aux = Vec::new();
    let mut keys = BTreeMap::new();
    rdb::load(data, &Encodings::default(), true, &mut |r| match r {
        Record::Aux { key, value } => aux.push((key, value)),
        Record::ResizeDb { .. } => {}
        Record::Entry { db, key, entry } => {
            assert!(
                keys.insert((db, text(&key)), entry).is_none(),
                "duplicate key"
            );
        }
    })
    .unwrap_or_else(|e| panic!("load: {e}"));
    (aux, keys)
}

#[test]
fn rdb_files_between_redis_and_tessera() {
    let Some(redis_server) = peer("redis-server") else {
        return;
    };
    let redis = Server::start_binary(&redis_server, &[]);
    let mut r = redis.client();
    let keys = populate(&mut r);
    redis::cmd("SELECT").arg(3).query::<()>(&mut r).unwrap();
    let keys3 = populate(&mut r);
    // Deadlines: far future in db 3, seconds and ms in db 0.
    redis::cmd("PEXPIREAT")
        .arg("s:int")
        .arg(4_000_000_000_123u64)
        .query::<i64>(&mut r)
        .unwrap();
    redis::cmd("PEXPIREAT")
        .arg("l:big")
        .arg(4_000_000_000_000u64)
        .query::<i64>(&mut r)
        .unwrap();
    redis::cmd("SELECT").arg(0).query::<()>(&mut r).unwrap();
    redis::cmd("EXPIREAT")
        .arg("z:small")
        .arg(4_000_000_001u64)
        .query::<i64>(&mut r)
        .unwrap();
    let _: () = redis::cmd("SAVE").query(&mut r).unwrap();
    let data = std::fs::read(redis.dir().join("dump.rdb")).expect("dump.rdb");
    let (aux, loaded) = load_file(&data);
    let aux_keys: Vec<String> = aux.iter().map(|(k, _)| text(k)).collect();
    for k in ["redis-ver", "redis-bits", "ctime", "used-mem", "aof-base"] {
        assert!(aux_keys.contains(&k.to_string()), "{aux_keys:?}");
    }
    assert!(aux.contains(&(Bytes::from("redis-bits"), Bytes::from("64"))));
    assert_eq!(loaded.len(), keys.len() + keys3.len());
    for (db, list) in [(0, &keys), (3, &keys3)] {
        redis::cmd("SELECT").arg(db).query::<()>(&mut r).unwrap();
        for (key, _) in list.iter() {
            let e = &loaded[&(db, key.clone())];
            assert_eq!(read_value(&e.value), read_key(&mut r, key), "db {db} {key}");
            let at: i64 = redis::cmd("PEXPIRETIME").arg(key).query(&mut r).unwrap();
            assert_eq!(e.expire_at as i64, at.max(0), "db {db} {key}");
        }
    }
    assert_eq!(loaded[&(3, "s:int".into())].expire_at, 4_000_000_000_123);
    assert_eq!(loaded[&(0, "z:small".into())].expire_at, 4_000_000_001_000);

    // Written back by tessera (into dbs 1 and 5), loaded by Redis.
    let dir = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    rdb::write_header(&mut out);
    rdb::write_aux(&mut out, "redis-ver", b"7.0.15");
    rdb::write_aux(&mut out, "redis-bits", b"64");
    rdb::write_aux(&mut out, "ctime", b"1700000000");
    for (from, to) in [(0, 1), (3, 5)] {
        let mine: Vec<(&String, &Entry)> = loaded
            .iter()
            .filter(|((db, _), _)| *db == from)
            .map(|((_, k), e)| (k, e))
            .collect();
        rdb::write_select_db(&mut out, to);
        let expires = mine.iter().filter(|(_, e)| e.expire_at != 0).count();
        rdb::write_resize_db(&mut out, mine.len(), expires);
        for (k, e) in mine {
            rdb::write_entry(&mut out, k.as_bytes(), e, true);
        }
    }
    rdb::write_eof(&mut out);
    let crc = rdb::crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    std::fs::write(dir.path().join("written.rdb"), &out).unwrap();
    let dir_arg = dir.path().to_string_lossy().into_owned();
    let reloaded = Server::start_binary(
        &redis_server,
        &["--dir", &dir_arg, "--dbfilename", "written.rdb"],
    );
    let mut w = reloaded.client();
    for (from, to, list) in [(0, 1, &keys), (3, 5, &keys3)] {
        for (key, _) in list.iter() {
            redis::cmd("SELECT").arg(from).query::<()>(&mut r).unwrap();
            let want = read_key(&mut r, key);
            let at: i64 = redis::cmd("PEXPIRETIME").arg(key).query(&mut r).unwrap();
            redis::cmd("SELECT").arg(to).query::<()>(&mut w).unwrap();
            assert_eq!(read_key(&mut w, key), want, "db {to} {key}");
            let got: i64 = redis::cmd("PEXPIRETIME").arg(key).query(&mut w).unwrap();
            assert_eq!(got, at, "db {to} {key}");
        }
    }
    let dbsize: i64 = redis::cmd("DBSIZE").query(&mut w).unwrap();
    assert_eq!(dbsize as usize, keys3.len());
}

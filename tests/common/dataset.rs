//! Datasets for the persistence tests: `fill` writes keys of every type in
//! every encoding, in several databases, some with TTLs; `dataset` reads a
//! server's whole dataset back key by key for comparison. `fill_mixed` is the
//! large mixed dataset the end-to-end benches (`benches/persistence.rs`,
//! `benches/replication.rs`) give tessera and redis-server alike.

use std::collections::BTreeMap;

use redis::Connection;

pub fn q<T: redis::FromRedisValue>(c: &mut Connection, args: &[&str]) -> T {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

pub fn info_field(c: &mut Connection, field: &str) -> String {
    let info: String = q(c, &["INFO", "persistence"]);
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {field} in INFO"))
        .to_string()
}

/// One key as compared: type, encoding, DEBUG DIGEST-VALUE, has a TTL.
pub type KeyState = (String, String, String, bool);

/// Every key of every database, by (db, key).
pub fn dataset(c: &mut Connection) -> BTreeMap<(usize, String), KeyState> {
    let mut out = BTreeMap::new();
    for db in 0..16 {
        let _: () = q(c, &["SELECT", &db.to_string()]);
        let keys: Vec<String> = q(c, &["KEYS", "*"]);
        for k in keys {
            let t: String = q(c, &["TYPE", &k]);
            let enc: String = q(c, &["OBJECT", "ENCODING", &k]);
            let d: Vec<String> = q(c, &["DEBUG", "DIGEST-VALUE", &k]);
            let ttl: i64 = q(c, &["PTTL", &k]);
            out.insert((db, k), (t, enc, d.concat(), ttl > 0));
        }
    }
    let _: () = q(c, &["SELECT", "0"]);
    out
}

/// Keys of every type in every encoding, in several databases, some with
/// TTLs far in the future.
pub fn fill(c: &mut Connection) {
    for db in [0usize, 3, 15] {
        let _: () = q(c, &["SELECT", &db.to_string()]);
        let p = format!("d{db}");
        let _: () = q(c, &["SET", &format!("{p}:int"), "12345"]);
        let _: () = q(c, &["SET", &format!("{p}:neg"), "-9000000000"]);
        let _: () = q(c, &["SET", &format!("{p}:embstr"), "hello"]);
        let _: () = q(c, &["SET", &format!("{p}:raw"), &"x".repeat(300)]);
        let _: () = q(c, &["SET", &format!("{p}:ttl"), "v", "EX", "100000"]);
        for i in 0..5 {
            let _: () = q(
                c,
                &[
                    "RPUSH",
                    &format!("{p}:list"),
                    &format!("e{i}"),
                    &i.to_string(),
                ],
            );
        }
        for i in 0..2000 {
            let _: () = q(
                c,
                &["RPUSH", &format!("{p}:biglist"), &format!("element-{i}")],
            );
        }
        let _: () = q(
            c,
            &["SADD", &format!("{p}:intset"), "1", "2", "-3", "70000"],
        );
        let _: () = q(c, &["SADD", &format!("{p}:set"), "a", "b", "c"]);
        let _: () = q(c, &["HSET", &format!("{p}:hash"), "f1", "v1", "f2", "22"]);
        let long = "y".repeat(100);
        let _: () = q(c, &["HSET", &format!("{p}:bighash"), "f", &long, "g", "1"]);
        let _: () = q(
            c,
            &[
                "ZADD",
                &format!("{p}:zset"),
                "1.5",
                "a",
                "-2",
                "b",
                "inf",
                "c",
            ],
        );
        for i in 0..200 {
            let _: () = q(
                c,
                &[
                    "ZADD",
                    &format!("{p}:bigzset"),
                    &i.to_string(),
                    &format!("m{i}"),
                ],
            );
        }
        let _: () = q(c, &["PEXPIRE", &format!("{p}:hash"), "90000000"]);
    }
    let _: () = q(c, &["SELECT", "0"]);
}

/// `total` keys in database 0, through commands both tessera and
/// redis-server take (DEBUG POPULATE needs `enable-debug-command`): 70%
/// strings (DEBUG POPULATE: `key:<n>` = `value:<n>`), then lists, hashes,
/// sets of integers and sorted sets of five elements each, 7.5% / 10% /
/// 7.5% / 5%, sent in pipelines of 5000 commands.
pub fn fill_mixed(c: &mut Connection, total: usize) {
    let strings = total * 70 / 100;
    let _: () = q(c, &["DEBUG", "POPULATE", &strings.to_string()]);
    let kinds = [
        ("list", total * 75 / 1000),
        ("hash", total * 100 / 1000),
        ("set", total * 75 / 1000),
        ("zset", total * 50 / 1000),
    ];
    for (kind, n) in kinds {
        let mut pipe = redis::pipe();
        for i in 0..n {
            let key = format!("{kind}:{i}");
            match kind {
                "list" => pipe
                    .cmd("RPUSH")
                    .arg(&key)
                    .arg(&["a", "bb", "ccc", "1", "22"]),
                "hash" => pipe
                    .cmd("HSET")
                    .arg(&key)
                    .arg(&["f1", "v1", "f2", "v2", "f3", "33", "f4", "v4", "f5", "v5"]),
                "set" => pipe
                    .cmd("SADD")
                    .arg(&key)
                    .arg(&["1", "2", "3", "400", "50000"]),
                _ => pipe
                    .cmd("ZADD")
                    .arg(&key)
                    .arg(&["1", "a", "2.5", "b", "3", "c", "-4", "d", "5", "e"]),
            };
            pipe.ignore();
            if i % 5000 == 4999 || i + 1 == n {
                let _: () = pipe.query(c).expect("fill_mixed");
                pipe = redis::pipe();
            }
        }
    }
}

/// One key as a server-independent value: type, elements (sorted for sets
/// and hashes; `field=value`, `member=score`), has a TTL. Unlike
/// `KeyState` it does not use DEBUG DIGEST-VALUE, so it compares tessera
/// with redis-server.
pub type KeyContents = (String, Vec<String>, bool);

/// The value of `key` as `KeyContents` reads it (type and elements).
pub fn value_of(c: &mut Connection, key: &str) -> (String, Vec<String>) {
    let t: String = q(c, &["TYPE", key]);
    let lossy = |v: Vec<Vec<u8>>| -> Vec<String> {
        v.iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    };
    let pairs = |v: Vec<String>| -> Vec<String> { v.chunks(2).map(|p| p.join("=")).collect() };
    let mut items = match t.as_str() {
        "string" => {
            let v: Vec<u8> = q(c, &["GET", key]);
            vec![String::from_utf8_lossy(&v).into_owned()]
        }
        "list" => lossy(q(c, &["LRANGE", key, "0", "-1"])),
        "set" => lossy(q(c, &["SMEMBERS", key])),
        "hash" => pairs(lossy(q(c, &["HGETALL", key]))),
        "zset" => pairs(lossy(q(c, &["ZRANGE", key, "0", "-1", "WITHSCORES"]))),
        other => panic!("{key}: type {other}"),
    };
    if matches!(t.as_str(), "set" | "hash") {
        items.sort();
    }
    (t, items)
}

/// Every key of every database as `KeyContents`, by (db, key).
pub fn contents(c: &mut Connection) -> BTreeMap<(usize, String), KeyContents> {
    let mut out = BTreeMap::new();
    for db in 0..16 {
        let _: () = q(c, &["SELECT", &db.to_string()]);
        let keys: Vec<String> = q(c, &["KEYS", "*"]);
        for k in keys {
            let (t, items) = value_of(c, &k);
            let ttl: i64 = q(c, &["PTTL", &k]);
            out.insert((db, k), (t, items, ttl > 0));
        }
    }
    let _: () = q(c, &["SELECT", "0"]);
    out
}

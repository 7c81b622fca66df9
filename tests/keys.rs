//! Generic key commands, reply byte for byte: DEL UNLINK EXISTS TOUCH TYPE,
//! the EXPIRE family with NX XX GT LT, TTL PTTL EXPIRETIME PEXPIRETIME
//! PERSIST, RENAME RENAMENX COPY MOVE, SELECT SWAPDB DBSIZE FLUSHDB
//! FLUSHALL, KEYS patterns, RANDOMKEY, OBJECT and MEMORY USAGE errors, and
//! keys expiring by themselves. Mirrors what Redis's `tests/unit/keyspace.tcl`
//! and `expire.tcl` check.
//!
//! Every expected reply here was checked against redis-server 7.0 with
//! `TESSERA_TEST_BIN=redis-server cargo test --test keys`; the Redis function
//! that produces it (`db.c`, `expire.c`, `object.c`) is named where the
//! behaviour is not obvious. Each check runs with `--shards 1` and
//! `--shards 2`; with two shards the keys `a` and `b` live on different
//! shards, so multi-key commands on them run as cross-shard transactions.

mod common;

use common::text::*;

use std::time::Duration;

use common::{wait_until, Server};

// --- reply builders and a client that checks replies ------------------------

const NOT_INT32: &str =
    "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n";
const DB_RANGE: &str = "-ERR DB index is out of range\r\n";
const SAME: &str = "-ERR source and destination objects are the same\r\n";

fn status(s: &str) -> String {
    format!("+{s}\r\n")
}

// --- DEL UNLINK EXISTS TOUCH TYPE ------------------------------------------------

fn check_del_exists_touch_type(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("MSET a 1 b 2 c 3 {x}1 4", OK);
    // EXISTS counts every argument, duplicates included.
    c.is("EXISTS a", &int(1));
    c.is("EXISTS a a b nokey b", &int(4));
    c.is("EXISTS nokey", &int(0));
    c.is("TOUCH a b nokey a", &int(3));
    // DEL counts keys actually removed: a duplicate is gone the second time.
    c.is("DEL a a nokey", &int(1));
    c.is("EXISTS a", &int(0));
    c.is("UNLINK b b {x}1", &int(2));
    c.is("DEL nokey", &int(0));
    c.is("DBSIZE", &int(1));
    c.is("TYPE c", &status("string"));
    c.is("TYPE nokey", &status("none"));
    c.is("DEL", &arity("del"));
    c.is("UNLINK", &arity("unlink"));
    c.is("EXISTS", &arity("exists"));
    c.is("TOUCH", &arity("touch"));
    c.is("TYPE", &arity("type"));
    c.is("TYPE a b", &arity("type"));
    // A key past its deadline does not exist for any of them.
    c.is("SET gone v PX 1", OK);
    let expired = wait_until(Duration::from_secs(5), || c.q("EXISTS gone") == int(0));
    assert!(expired, "PX 1 key still exists after 5 s");
    c.is("TYPE gone", &status("none"));
    c.is("DEL gone", &int(0));
}
per_shards!(del_exists_touch_type, super::check_del_exists_touch_type);

// --- EXPIRE PEXPIRE EXPIREAT PEXPIREAT (expireGenericCommand) -----------------------

fn check_expire_options(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("SET k v", OK);
    // Option conflicts (parseExtendedExpireArgumentsOrReply).
    let nx_conflict = err("NX and XX, GT or LT options at the same time are not compatible");
    let gt_lt = err("GT and LT options at the same time are not compatible");
    c.is("EXPIRE k 100 NX XX", &nx_conflict);
    c.is("EXPIRE k 100 NX GT", &nx_conflict);
    c.is("EXPIRE k 100 LT NX", &nx_conflict);
    c.is("EXPIRE k 100 GT LT", &gt_lt);
    c.is("PEXPIRE k 100 XX GT LT", &gt_lt);
    c.is("EXPIRE k 100 foo", &err("Unsupported option foo"));
    c.is("EXPIRE k 100 NX foo", &err("Unsupported option foo"));
    // Options are checked before the time is parsed.
    c.is("EXPIRE k abc foo", &err("Unsupported option foo"));
    c.is("EXPIRE k abc", NOT_INT);
    c.is("EXPIRE k 1.5", NOT_INT);
    c.is("EXPIRE k", &arity("expire"));
    c.is("TTL k", &int(-1));

    // No TTL yet: XX and GT refuse, NX and LT (TTL counts as infinite) set.
    c.is("EXPIRE k 100 XX", &int(0));
    c.is("EXPIRE k 100 GT", &int(0));
    c.is("TTL k", &int(-1));
    c.is("EXPIRE k 100 NX", &int(1));
    c.int_in("TTL k", 95..=100);
    c.is("EXPIRE k 200 NX", &int(0));
    c.is("EXPIRE k 200 xx", &int(1));
    c.int_in("TTL k", 195..=200);
    c.is("EXPIRE k 100 GT", &int(0));
    c.is("EXPIRE k 300 gt", &int(1));
    c.is("EXPIRE k 400 LT", &int(0));
    c.is("EXPIRE k 50 LT", &int(1));
    c.int_in("TTL k", 45..=50);
    c.is("EXPIRE k 60 XX GT", &int(1));
    c.is("EXPIRE k 600 XX LT", &int(0));
    c.is("PERSIST k", &int(1));
    c.is("EXPIRE k 100 LT", &int(1));
    c.is("EXPIRE k 100 NX NX", &int(0));
    c.int_in("TTL k", 95..=100);

    // The other units.
    c.is("PEXPIRE k 100000", &int(1));
    c.int_in("PTTL k", 95_000..=100_000);
    c.is("EXPIREAT k 4000000000", &int(1));
    c.is("EXPIRETIME k", &int(4_000_000_000));
    c.is("PEXPIREAT k 4000000000999", &int(1));
    c.is("PEXPIRETIME k", &int(4_000_000_000_999));
    c.is("EXPIREAT k 4000000001 GT", &int(1));
    c.is("EXPIREAT k 4000000002 LT", &int(0));
    c.is("EXPIRETIME k", &int(4_000_000_001));
    c.is("PEXPIREAT k 9223372036854775807", &int(1));
    c.is("PEXPIRETIME k", &int(i64::MAX));
    c.is("EXPIRETIME k", &int(9_223_372_036_854_776));
    c.int_in("TTL k", 9_223_370_000_000_000..=9_223_372_036_854_776);

    // Overflow while converting or adding the clock is an error.
    for (cmd, name) in [
        ("EXPIRE k 9223372036854775807", "expire"),
        ("EXPIRE k 9223372036854776", "expire"),
        ("EXPIRE k -9223372036854775808", "expire"),
        ("PEXPIRE k 9223372036854775807", "pexpire"),
        ("EXPIREAT k 9223372036854775807", "expireat"),
        ("EXPIREAT k -9223372036854775808", "expireat"),
    ] {
        c.is(cmd, &invalid_expire(name));
    }
    // The error names the command in lower case, as sent.
    c.is("pExpire k 9223372036854775807", &invalid_expire("pexpire"));
    c.is("EXISTS k", &int(1));

    // A missing key is 0, whatever the options.
    c.is("EXPIRE nokey 100", &int(0));
    c.is("PEXPIRE nokey 100 NX", &int(0));
    c.is("EXPIREAT nokey 1", &int(0));
    // ... but a bad time is still an error.
    c.is("EXPIRE nokey abc", NOT_INT);
    c.is(
        "EXPIRE nokey 9223372036854775807",
        &invalid_expire("expire"),
    );

    // A time in the past deletes the key (and replies 1).
    for cmd in [
        "EXPIRE k 0",
        "EXPIRE k -1",
        "PEXPIRE k -100",
        "PEXPIRE k -9223372036854775808",
        "EXPIREAT k 1",
        "PEXPIREAT k 0",
        "EXPIREAT k -10",
    ] {
        c.is("SET k v", OK);
        c.is(cmd, &int(1));
        c.is("EXISTS k", &int(0));
    }
    // ... unless the options refuse: NX on a volatile key, XX or GT on a
    // persistent one.
    c.is("SET k v", OK);
    c.is("EXPIRE k -1 XX", &int(0));
    c.is("EXPIRE k -1 GT", &int(0));
    c.is("EXISTS k", &int(1));
    c.is("EXPIRE k -1 LT", &int(1));
    c.is("EXISTS k", &int(0));
    c.is("SET k v EX 100", OK);
    c.is("EXPIRE k -1 NX", &int(0));
    c.is("EXPIRE k -1 GT", &int(0));
    c.is("EXISTS k", &int(1));
    c.is("EXPIRE k -1 XX", &int(1));
    c.is("EXISTS k", &int(0));
}
per_shards!(expire_options, super::check_expire_options);

// --- TTL PTTL EXPIRETIME PEXPIRETIME PERSIST (ttlGenericCommand) -----------------------

fn check_ttl_persist(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        c.is(&format!("{cmd} nokey"), &int(-2));
    }
    c.is("SET k v", OK);
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        c.is(&format!("{cmd} k"), &int(-1));
        c.is(cmd, &arity(&cmd.to_ascii_lowercase()));
    }
    c.is("PEXPIREAT k 4000000000499", &int(1));
    // Seconds are rounded to the nearest.
    c.is("EXPIRETIME k", &int(4_000_000_000));
    c.is("PEXPIREAT k 4000000000500", &int(1));
    c.is("EXPIRETIME k", &int(4_000_000_001));
    c.is("PEXPIRETIME k", &int(4_000_000_000_500));
    c.is("PEXPIRE k 10500", &int(1));
    c.int_in("TTL k", 10..=11);
    c.int_in("PTTL k", 1..=10_500);
    // PERSIST: 1 only when a TTL was removed.
    c.is("PERSIST k", &int(1));
    c.is("TTL k", &int(-1));
    c.is("PERSIST k", &int(0));
    c.is("PERSIST nokey", &int(0));
    c.is("PERSIST", &arity("persist"));
    // Overwriting drops the TTL.
    c.is("EXPIRE k 100", &int(1));
    c.is("SET k v2", OK);
    c.is("TTL k", &int(-1));
}
per_shards!(ttl_persist, super::check_ttl_persist);

// --- RENAME RENAMENX (renameGenericCommand) ---------------------------------------------

fn check_rename(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    let no_such_key = err("no such key");
    c.is("RENAME nokey x", &no_such_key);
    c.is("RENAMENX nokey x", &no_such_key);
    c.is("RENAME nokey nokey", &no_such_key);
    c.is("SET a 1", OK);
    // The same key: OK / 0, and nothing changes.
    c.is("RENAME a a", OK);
    c.is("RENAMENX a a", &int(0));
    c.is("GET a", &bulk("1"));
    // Across shards, with the TTL carried over.
    c.is("EXPIRE a 100", &int(1));
    c.is("RENAME a b", OK);
    c.is("EXISTS a", &int(0));
    c.is("GET b", &bulk("1"));
    c.int_in("TTL b", 95..=100);
    // Over an existing key: its value and TTL are replaced.
    c.is("SET c 3 EX 1000", OK);
    c.is("SET d 4", OK);
    c.is("RENAME d c", OK);
    c.is("GET c", &bulk("4"));
    c.is("TTL c", &int(-1));
    // RENAMENX refuses an existing destination.
    c.is("RENAMENX b c", &int(0));
    c.is("GET b", &bulk("1"));
    c.is("RENAMENX b {x}new", &int(1));
    c.is("GET {x}new", &bulk("1"));
    c.int_in("TTL {x}new", 95..=100);
    c.is("EXISTS b", &int(0));
    c.is("DBSIZE", &int(2));
    c.is("RENAME a", &arity("rename"));
    c.is("RENAMENX a", &arity("renamenx"));
}
per_shards!(rename, super::check_rename);

// --- COPY (copyCommand) ---------------------------------------------------------------

fn check_copy(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("SET a 1 EX 100", OK);
    c.is("COPY a a", SAME);
    c.is("COPY a a DB 0", SAME);
    c.is("COPY nokey b", &int(0));
    // Across shards, TTL included; the source stays.
    c.is("COPY a b", &int(1));
    c.is("GET b", &bulk("1"));
    c.int_in("TTL b", 95..=100);
    c.is("GET a", &bulk("1"));
    c.is("OBJECT ENCODING b", &bulk("int"));
    // An existing destination needs REPLACE.
    c.is("SET c new", OK);
    c.is("COPY c b", &int(0));
    c.is("GET b", &bulk("1"));
    c.is("COPY c b REPLACE", &int(1));
    c.is("GET b", &bulk("new"));
    c.is("TTL b", &int(-1));
    c.is("COPY c b replace REPLACE", &int(1));
    // Into another database, under the same name too.
    c.is("COPY a a DB 1", &int(1));
    c.is("COPY a a DB 1", &int(0));
    c.is("COPY a a DB 1 REPLACE", &int(1));
    c.is("SELECT 1", OK);
    c.is("GET a", &bulk("1"));
    c.int_in("TTL a", 95..=100);
    c.is("COPY a a DB 0", &int(0));
    c.is("SELECT 0", OK);
    // Errors: options first, then the same-object check, then the key.
    c.is("COPY a b DB 16", DB_RANGE);
    c.is("COPY a b DB -1", DB_RANGE);
    c.is("COPY nokey b DB 16", DB_RANGE);
    c.is("COPY a b DB abc", NOT_INT);
    c.is("COPY a b DB 4294967296", NOT_INT32);
    c.is("COPY a b DB", SYNTAX);
    c.is("COPY a b foo", SYNTAX);
    c.is("COPY a b REPLACE foo", SYNTAX);
    c.is("COPY a", &arity("copy"));
}
per_shards!(copy, super::check_copy);

/// COPY into another database when the destination key lives on another
/// shard than the source: the destination's existing value must be seen.
fn check_copy_db_across_shards(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("SELECT 1", OK);
    c.is("SET b old", OK);
    c.is("SELECT 0", OK);
    c.is("SET a 1", OK);
    c.is("COPY a b DB 1", &int(0));
    c.is("SELECT 1", OK);
    c.is("GET b", &bulk("old"));
    c.is("SELECT 0", OK);
    c.is("COPY a b DB 1 REPLACE", &int(1));
    c.is("SELECT 1", OK);
    c.is("GET b", &bulk("1"));
}

#[test]
fn copy_db_across_shards_1() {
    check_copy_db_across_shards(1)
}

#[test]
fn copy_db_across_shards_2() {
    check_copy_db_across_shards(2)
}

// --- MOVE SELECT SWAPDB ---------------------------------------------------------------

fn check_move_select_swapdb(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    // SELECT (getIntFromObjectOrReply, then selectDb).
    c.is("SELECT 15", OK);
    c.is("SELECT 16", DB_RANGE);
    c.is("SELECT -1", DB_RANGE);
    c.is("SELECT 2147483647", DB_RANGE);
    c.is("SELECT 2147483648", NOT_INT32);
    c.is("SELECT abc", NOT_INT);
    c.is("SELECT 01", NOT_INT);
    c.is("SELECT", &arity("select"));
    c.is("SELECT 0", OK);

    // MOVE.
    c.is("SET k v EX 100", OK);
    c.is("MOVE k 0", SAME);
    c.is("MOVE k 16", DB_RANGE);
    c.is("MOVE k -1", DB_RANGE);
    c.is("MOVE k 4294967296", NOT_INT32);
    c.is("MOVE k abc", NOT_INT);
    c.is("MOVE nokey 1", &int(0));
    c.is("MOVE k 1", &int(1));
    c.is("EXISTS k", &int(0));
    c.is("SELECT 1", OK);
    c.is("GET k", &bulk("v"));
    c.int_in("TTL k", 95..=100);
    // An existing key in the target database blocks the move.
    c.is("SELECT 0", OK);
    c.is("SET k other", OK);
    c.is("MOVE k 1", &int(0));
    c.is("GET k", &bulk("other"));
    c.is("MOVE k", &arity("move"));

    // SWAPDB: the databases trade contents, TTLs included.
    c.is("MSET a 0 b 0", OK);
    c.is("SELECT 1", OK);
    c.is("MSET a 1 {x}1 1", OK);
    c.is("DBSIZE", &int(3));
    c.is("SWAPDB 0 1", OK);
    c.is("DBSIZE", &int(3));
    c.is("GET k", &bulk("other"));
    c.is("GET b", &bulk("0"));
    c.is("SELECT 0", OK);
    c.is("GET k", &bulk("v"));
    c.int_in("TTL k", 95..=100);
    c.is("GET a", &bulk("1"));
    c.is("SWAPDB 1 0", OK);
    c.is("GET a", &bulk("0"));
    c.is("SWAPDB 0 0", OK);
    c.is("SWAPDB 0 16", DB_RANGE);
    c.is("SWAPDB -1 0", DB_RANGE);
    c.is("SWAPDB abc 0", &err("invalid first DB index"));
    c.is("SWAPDB 0 abc", &err("invalid second DB index"));
    c.is("SWAPDB 0", &arity("swapdb"));
}
per_shards!(move_select_swapdb, super::check_move_select_swapdb);

// --- DBSIZE FLUSHDB FLUSHALL ---------------------------------------------------------

fn check_dbsize_flush(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("DBSIZE", &int(0));
    for i in 0..50 {
        c.is(&format!("SET key:{i} v"), OK);
    }
    c.is("DBSIZE", &int(50));
    c.is("DBSIZE x", &arity("dbsize"));
    c.is("SELECT 1", OK);
    c.is("MSET a 1 b 2", OK);
    c.is("DBSIZE", &int(2));
    // FLUSHDB empties the selected database only.
    c.is("FLUSHDB", OK);
    c.is("DBSIZE", &int(0));
    c.is("SELECT 0", OK);
    c.is("DBSIZE", &int(50));
    c.is("FLUSHDB foo", SYNTAX);
    c.is("FLUSHDB ASYNC SYNC", SYNTAX);
    c.is("FLUSHDB async", OK);
    c.is("DBSIZE", &int(0));
    c.is("MSET a 1 b 2", OK);
    c.is("FLUSHDB SYNC", OK);
    c.is("DBSIZE", &int(0));
    // FLUSHALL empties every database.
    c.is("MSET a 1 b 2", OK);
    c.is("SELECT 2", OK);
    c.is("SET c 3", OK);
    c.is("FLUSHALL foo", SYNTAX);
    c.is("FLUSHALL SYNC ASYNC", SYNTAX);
    c.is("DBSIZE", &int(1));
    c.is("FLUSHALL", OK);
    c.is("DBSIZE", &int(0));
    c.is("SELECT 0", OK);
    c.is("DBSIZE", &int(0));
    c.is("SET a 1", OK);
    c.is("FLUSHALL ASYNC", OK);
    c.is("EXISTS a", &int(0));
    c.is("SET a 1", OK);
    c.is("flushall sync", OK);
    c.is("DBSIZE", &int(0));
}
per_shards!(dbsize_flush, super::check_dbsize_flush);

// --- KEYS (stringmatchlen) -------------------------------------------------------------

fn check_keys_patterns(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("KEYS *", "*0\r\n");
    let keys = [
        "hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h?llo", "h[a]llo", "h\\llo", "ab",
        "a-b", "a]b", "{x}1", "{x}2",
    ];
    for k in keys {
        c.b(&[b"SET", k.as_bytes(), b"v"]);
    }
    let list = |v: &[&str]| {
        let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    };
    let mut all = list(&keys);
    all.sort();
    assert_eq!(c.sorted_list("KEYS *"), all);
    for (pattern, want) in [
        (
            "h?llo",
            &["hello", "hallo", "hxllo", "h*llo", "h?llo", "h\\llo"][..],
        ),
        (
            "h*llo",
            &[
                "hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h?llo", "h[a]llo",
                "h\\llo",
            ],
        ),
        ("h[ae]llo", &["hello", "hallo"]),
        ("h[^e]llo", &["hallo", "hxllo", "h*llo", "h?llo", "h\\llo"]),
        ("h[!e]llo", &["hello"]),
        ("h[a-b]llo", &["hallo"]),
        ("h[b-a]llo", &["hallo"]),
        ("h\\*llo", &["h*llo"]),
        ("h\\?llo", &["h?llo"]),
        ("h\\[a]llo", &["h[a]llo"]),
        ("h\\\\llo", &["h\\llo"]),
        ("a[-]b", &["a-b"]),
        ("a[\\]]b", &["a]b"]),
        ("{x}*", &["{x}1", "{x}2"]),
        ("*b", &["ab", "a-b", "a]b"]),
        ("?", &[]),
        ("h[a", &[]),
        ("hello\\", &[]),
        ("HELLO", &[]),
    ] {
        assert_eq!(
            c.sorted_list(&format!("KEYS {pattern}")),
            list(want),
            "KEYS {pattern}"
        );
    }
    assert_eq!(c.b(&[b"KEYS", b""]), "*0\r\n", "KEYS \"\"");
    // Only the selected database, and never expired keys.
    c.is("SELECT 1", OK);
    c.is("KEYS *", "*0\r\n");
    c.is("SET other v", OK);
    c.is("SET gone v PX 1", OK);
    let expired = wait_until(Duration::from_secs(5), || {
        c.sorted_list("KEYS *") == list(&["other"])
    });
    assert!(expired, "KEYS still lists a PX 1 key after 5 s");
    c.is("KEYS", &arity("keys"));
    c.is("KEYS a b", &arity("keys"));
}
per_shards!(keys_patterns, super::check_keys_patterns);

// --- RANDOMKEY ---------------------------------------------------------------------------

fn check_randomkey(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("RANDOMKEY", NIL);
    c.is("SET a 1", OK);
    c.is("RANDOMKEY", &bulk("a"));
    c.is("DEL a", &int(1));
    c.is("RANDOMKEY", NIL);
    let keys = ["a", "b", "c", "{x}1", "{x}2"];
    for k in keys {
        c.is(&format!("SET {k} v"), OK);
    }
    let mut seen = std::collections::HashSet::new();
    for _ in 0..100 {
        let r = c.q("RANDOMKEY");
        let key = keys
            .iter()
            .find(|k| r == bulk(k))
            .unwrap_or_else(|| panic!("RANDOMKEY gave {r:?}"));
        seen.insert(*key);
    }
    assert!(seen.len() > 1, "100 RANDOMKEY calls all gave {seen:?}");
    c.is("SELECT 1", OK);
    c.is("RANDOMKEY", NIL);
    c.is("RANDOMKEY x", &arity("randomkey"));
}
per_shards!(randomkey, super::check_randomkey);

// --- OBJECT and MEMORY errors (objectCommand, memoryCommand) -----------------------------

fn check_object_memory(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    let help = [
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ];
    let help: Vec<String> = help.iter().map(|l| status(l)).collect();
    c.is("OBJECT HELP", &arr(&help));
    c.is("object help", &arr(&help));
    c.is("OBJECT", &arity("object"));
    c.is(
        "OBJECT foo",
        &err("unknown subcommand 'foo'. Try OBJECT HELP."),
    );
    c.is(
        "OBJECT foo k",
        &err("unknown subcommand 'foo'. Try OBJECT HELP."),
    );
    c.is("OBJECT HELP x", &arity("object|help"));
    c.is("OBJECT ENCODING", &arity("object|encoding"));
    c.is("OBJECT encoding k extra", &arity("object|encoding"));
    c.is("OBJECT REFCOUNT", &arity("object|refcount"));
    c.is("OBJECT IDLETIME", &arity("object|idletime"));
    c.is("OBJECT FREQ", &arity("object|freq"));
    for sub in ["ENCODING", "REFCOUNT", "IDLETIME", "FREQ"] {
        c.is(&format!("OBJECT {sub} nokey"), NIL);
    }
    c.is("SET k hello", OK);
    c.is("OBJECT ENCODING k", &bulk("embstr"));
    c.is("OBJECT REFCOUNT k", &int(1));
    c.int_in("OBJECT IDLETIME k", 0..=10);
    c.is(
        "OBJECT FREQ k",
        &err(
            "An LFU maxmemory policy is not selected, access frequency not tracked. \
              Please note that when switching between policies at runtime LRU and LFU \
              data will take some time to adjust.",
        ),
    );
    // Integers below 10000 are shared objects (OBJ_SHARED_REFCOUNT).
    c.is("SET n 5", OK);
    c.is("OBJECT REFCOUNT n", &int(2_147_483_647));
    c.is("INCR n", &int(6));
    c.is("OBJECT REFCOUNT n", &int(2_147_483_647));
    c.is("SET n 10000", OK);
    c.is("OBJECT REFCOUNT n", &int(1));
    c.is("SET n -1", OK);
    c.is("OBJECT REFCOUNT n", &int(1));

    c.is("MEMORY USAGE nokey", NIL);
    c.is("MEMORY USAGE n", &int(48));
    c.is("MEMORY USAGE", &arity("memory|usage"));
    c.is("MEMORY", &arity("memory"));
    c.is("MEMORY USAGE n SAMPLES", SYNTAX);
    c.is("MEMORY USAGE n SAMPLES -1", SYNTAX);
    c.is("MEMORY USAGE n SAMPLES x", NOT_INT);
    c.is("MEMORY USAGE n COUNT 1", SYNTAX);
    c.is(
        "MEMORY foo",
        &err("unknown subcommand 'foo'. Try MEMORY HELP."),
    );
}
per_shards!(object_memory, super::check_object_memory);

// --- keys expire by themselves (activeExpireCycle) ------------------------------------------

/// Keys given short TTLs by EXPIRE, PEXPIRE and PEXPIREAT vanish without
/// being touched (DBSIZE does not touch keys), across databases and shards;
/// their TTL then reads -2.
fn check_active_expiry(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("MSET a 1 b 2 c 3 {x}1 4 keep 5", OK);
    c.is("PEXPIRE a 100", &int(1));
    c.is("PEXPIRE b 150", &int(1));
    c.is("EXPIRE c 1", &int(1));
    c.is("SELECT 3", OK);
    c.is("SET d 1 PX 100", OK);
    c.is("SET keep3 1", OK);
    c.is("SELECT 0", OK);
    let gone = wait_until(Duration::from_secs(5), || c.q("DBSIZE") == int(2));
    assert!(gone, "expiring keys still there: DBSIZE {}", c.q("DBSIZE"));
    c.is("TTL a", &int(-2));
    c.is("PTTL b", &int(-2));
    c.is("EXISTS a b c", &int(0));
    c.is("SELECT 3", OK);
    let gone = wait_until(Duration::from_secs(5), || c.q("DBSIZE") == int(1));
    assert!(gone, "expiring key in db 3 still there");
    c.is("GET keep3", &bulk("1"));
}
per_shards!(active_expiry, super::check_active_expiry);

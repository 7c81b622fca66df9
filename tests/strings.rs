//! String and bitmap commands, reply byte for byte (RESP2, and RESP3 where
//! the shape differs): GET SET and every SET option, SETNX SETEX PSETEX
//! GETSET GETDEL GETEX, MGET MSET MSETNX, APPEND STRLEN, the INCR family,
//! INCRBYFLOAT, GETRANGE SUBSTR SETRANGE, SETBIT GETBIT BITCOUNT BITPOS
//! BITOP, LCS, OBJECT ENCODING transitions and MEMORY USAGE of strings.
//! Mirrors what Redis's `tests/unit/type/string.tcl`, `type/incr.tcl` and
//! `bitops.tcl` check.
//!
//! Every expected reply here was checked against redis-server 7.0 with
//! `TESSERA_TEST_BIN=redis-server cargo test --test strings`; the Redis
//! function that produces it (`t_string.c`, `bitops.c`) is named where the
//! behaviour is not obvious. Each check runs with `--shards 1` and
//! `--shards 2`; with two shards the keys `a` and `b` live on different
//! shards, so multi-key commands on them run as cross-shard transactions.

mod common;

use common::text::*;

use std::time::Duration;

use common::{wait_until, Server};

// --- reply builders and a client that checks replies ------------------------

// --- SET and its options (setCommand, parseExtendedStringArgumentsOrReply) --

fn check_set_options(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("SET", &arity("set"));
    c.is("SET k", &arity("set"));
    c.is("GET k", NIL);
    c.is("SET k v", OK);
    c.is("GET k", &bulk("v"));
    c.is("GET k extra", &arity("get"));

    // NX / XX.
    c.is("SET k v2 NX", NIL);
    c.is("SET k v2 XX", OK);
    c.is("SET fresh v XX", NIL);
    c.is("EXISTS fresh", &int(0));
    c.is("SET fresh v NX", OK);
    c.is("GET fresh", &bulk("v"));
    // Options are case-insensitive and may repeat.
    c.is("set k v3 xx XX", OK);
    c.is("SET k v3 nx NX", NIL);

    // GET returns the old value (nil if none), also when NX/XX refuse.
    c.is("SET k v4 GET", &bulk("v3"));
    c.is("SET new1 x GET", NIL);
    c.is("GET new1", &bulk("x"));
    c.is("SET k v5 NX GET", &bulk("v4"));
    c.is("GET k", &bulk("v4"));
    c.is("SET new2 x XX GET", NIL);
    c.is("EXISTS new2", &int(0));
    c.is("SET k v5 XX GET", &bulk("v4"));
    c.is("SET new3 x NX GET", NIL);
    c.is("GET new3", &bulk("x"));
    c.is("SET k v6 GET GET", &bulk("v5"));

    // Conflicting options are a syntax error, as is an unknown word or a
    // missing time.
    for bad in [
        "SET k v NX XX",
        "SET k v XX NX",
        "SET k v NX GET XX",
        "SET k v EX 10 PX 100",
        "SET k v PX 100 EX 10",
        "SET k v EX 10 EXAT 9999999999",
        "SET k v PXAT 9999999999999 EXAT 9999999999",
        "SET k v KEEPTTL EX 10",
        "SET k v EX 10 KEEPTTL",
        "SET k v PX 10 KEEPTTL",
        "SET k v PERSIST",
        "SET k v EX",
        "SET k v PX",
        "SET k v foo",
        "SET k v EX 10 foo",
    ] {
        c.is(bad, SYNTAX);
    }
    // Options are parsed before the time is: a bad word wins over a bad time.
    c.is("SET k v EX abc NX XX", SYNTAX);
    c.is("SET k v EX 0 foo", SYNTAX);
    c.is("GET k", &bulk("v6"));

    // Repeating the same time option is allowed; the last one counts.
    c.is("SET k v EX 10 EX 1000", OK);
    c.int_in("TTL k", 990..=1000);
    c.is("SET k v KEEPTTL KEEPTTL", OK);
    c.int_in("TTL k", 990..=1000);

    // Invalid times (getExpireMillisecondsOrReply).
    for (cmd, reply) in [
        ("SET k v EX 0", invalid_expire("set")),
        ("SET k v EX -1", invalid_expire("set")),
        ("SET k v PX 0", invalid_expire("set")),
        ("SET k v PX -100", invalid_expire("set")),
        ("SET k v EXAT 0", invalid_expire("set")),
        ("SET k v PXAT -1", invalid_expire("set")),
        // Seconds that overflow once turned into milliseconds.
        ("SET k v EX 9223372036854775", invalid_expire("set")),
        ("SET k v EXAT 9223372036854776", invalid_expire("set")),
        // A relative time that overflows once the clock is added.
        ("SET k v PX 9223372036854775000", invalid_expire("set")),
        ("SET k v EX abc", NOT_INT.to_string()),
        ("SET k v EX 1.5", NOT_INT.to_string()),
        ("SET k v PX 99999999999999999999", NOT_INT.to_string()),
    ] {
        c.is(cmd, &reply);
    }
    // The failed SETs left the value and TTL alone.
    c.is("GET k", &bulk("v"));
    c.int_in("TTL k", 990..=1000);

    // Each TTL option sets the TTL; a plain SET clears it; KEEPTTL keeps it.
    c.is("SET k v EX 100", OK);
    c.int_in("TTL k", 95..=100);
    c.is("SET k v PX 100000", OK);
    c.int_in("PTTL k", 95_000..=100_000);
    c.is("SET k v EXAT 4000000000", OK);
    c.is("EXPIRETIME k", &int(4_000_000_000));
    c.is("SET k v PXAT 4000000000123", OK);
    c.is("PEXPIRETIME k", &int(4_000_000_000_123));
    c.is("SET k v2 KEEPTTL", OK);
    c.is("PEXPIRETIME k", &int(4_000_000_000_123));
    c.is("SET k v3 KEEPTTL GET", &bulk("v2"));
    c.is("PEXPIRETIME k", &int(4_000_000_000_123));
    c.is("SET k v4 GET", &bulk("v3"));
    c.is("TTL k", &int(-1));
    c.is("SET k v5 XX EX 100 GET", &bulk("v4"));
    c.int_in("TTL k", 95..=100);
    // The largest absolute time is accepted (and TTL does not overflow).
    c.is("SET k v PXAT 9223372036854775807", OK);
    c.is("PEXPIRETIME k", &int(i64::MAX));
    c.is("EXPIRETIME k", &int(9_223_372_036_854_776));
    c.is("SET k v EXAT 9223372036854775", OK);
    c.is("EXPIRETIME k", &int(9_223_372_036_854_775));

    // An absolute time in the past stores nothing: the key is gone,
    // and GET still reports the old value.
    c.is("SET k v EXAT 1", OK);
    c.is("EXISTS k", &int(0));
    c.is("SET k v", OK);
    c.is("SET k v2 PXAT 1 GET", &bulk("v"));
    c.is("EXISTS k", &int(0));
    c.is("SET k v2 PXAT 1 XX", NIL);

    // Binary-safe keys and values, and the empty string.
    c.bis(&[b"SET", b"", b""], OK);
    c.bis(&[b"GET", b""], &bulk(""));
    c.bis(&[b"SET", b"k\r\n\0", b"v \r\n\0"], OK);
    c.bis(&[b"GET", b"k\r\n\0"], &bulk("v \r\n\0"));
}
per_shards!(set_options, super::check_set_options);

// --- SETNX SETEX PSETEX GETSET GETDEL -----------------------------------------

fn check_set_variants(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("SETNX k v", &int(1));
    c.is("SETNX k v2", &int(0));
    c.is("GET k", &bulk("v"));
    c.is("SETNX k", &arity("setnx"));

    c.is("SETEX k 100 v3", OK);
    c.int_in("TTL k", 95..=100);
    c.is("GET k", &bulk("v3"));
    // SETNX does not touch an existing key's TTL.
    c.is("SETNX k v4", &int(0));
    c.int_in("TTL k", 95..=100);
    c.is("SETEX k 0 v", &invalid_expire("setex"));
    c.is("SETEX k -10 v", &invalid_expire("setex"));
    c.is("SETEX k abc v", NOT_INT);
    c.is("SETEX k 9223372036854775 v", &invalid_expire("setex"));
    c.is("SETEX k 10", &arity("setex"));
    c.is("PSETEX k 100000 v5", OK);
    c.int_in("PTTL k", 95_000..=100_000);
    c.is("GET k", &bulk("v5"));
    c.is("PSETEX k 0 v", &invalid_expire("psetex"));
    c.is("PSETEX k -1 v", &invalid_expire("psetex"));
    c.is("PSETEX k 1e3 v", NOT_INT);
    c.is("GET k", &bulk("v5"));

    // GETSET returns the old value and clears the TTL.
    c.is("GETSET k v6", &bulk("v5"));
    c.is("TTL k", &int(-1));
    c.is("GETSET nokey v", NIL);
    c.is("GET nokey", &bulk("v"));
    c.is("GETSET k", &arity("getset"));

    // GETDEL.
    c.is("GETDEL k", &bulk("v6"));
    c.is("EXISTS k", &int(0));
    c.is("GETDEL k", NIL);
    c.is("GETDEL", &arity("getdel"));
}
per_shards!(set_variants, super::check_set_variants);

// --- GETEX (getexCommand) ------------------------------------------------------

fn check_getex(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("SET k v", OK);
    c.is("GETEX k", &bulk("v"));
    c.is("TTL k", &int(-1));
    c.is("GETEX k EX 100", &bulk("v"));
    c.int_in("TTL k", 95..=100);
    c.is("GETEX k PERSIST", &bulk("v"));
    c.is("TTL k", &int(-1));
    c.is("GETEX k PX 100000", &bulk("v"));
    c.int_in("PTTL k", 95_000..=100_000);
    c.is("GETEX k EXAT 4000000000", &bulk("v"));
    c.is("EXPIRETIME k", &int(4_000_000_000));
    c.is("GETEX k PXAT 4000000000001", &bulk("v"));
    c.is("PEXPIRETIME k", &int(4_000_000_000_001));
    // No option: the TTL is left alone.
    c.is("GETEX k", &bulk("v"));
    c.is("PEXPIRETIME k", &int(4_000_000_000_001));
    // PERSIST on a key without TTL, options repeated, any case.
    c.is("getex k persist", &bulk("v"));
    c.is("GETEX k PERSIST PERSIST", &bulk("v"));
    c.is("TTL k", &int(-1));
    c.is("GETEX k EX 10 EX 1000", &bulk("v"));
    c.int_in("TTL k", 990..=1000);

    // Conflicts and words GETEX does not take (SET's NX XX GET KEEPTTL).
    for bad in [
        "GETEX k EX 10 PX 100",
        "GETEX k PERSIST EX 10",
        "GETEX k EX 10 PERSIST",
        "GETEX k PXAT 10 EXAT 10",
        "GETEX k KEEPTTL",
        "GETEX k NX",
        "GETEX k XX",
        "GETEX k GET",
        "GETEX k EX",
        "GETEX k foo",
    ] {
        c.is(bad, SYNTAX);
    }
    c.is("GETEX k EX 0", &invalid_expire("getex"));
    c.is("GETEX k PX -1", &invalid_expire("getex"));
    c.is("GETEX k EXAT 0", &invalid_expire("getex"));
    c.is("GETEX k EX 9223372036854775", &invalid_expire("getex"));
    c.is("GETEX k EX abc", NOT_INT);
    c.int_in("TTL k", 990..=1000);

    // A missing key is nil, even with a bad time: the key is looked up
    // before the time is checked (syntax errors still come first).
    c.is("GETEX nokey", NIL);
    c.is("GETEX nokey EX 0", NIL);
    c.is("GETEX nokey EX abc", NIL);
    c.is("GETEX nokey EX 10", NIL);
    c.is("GETEX nokey EX 10 PX 10", SYNTAX);
    c.is("EXISTS nokey", &int(0));

    // An absolute time in the past deletes the key, after replying.
    c.is("GETEX k EXAT 1", &bulk("v"));
    c.is("EXISTS k", &int(0));
    c.is("SET k v", OK);
    c.is("GETEX k PXAT 1", &bulk("v"));
    c.is("EXISTS k", &int(0));
    c.is("GETEX", &arity("getex"));
}
per_shards!(getex, super::check_getex);

// --- MGET MSET MSETNX (also across shards) ------------------------------------

fn check_mget_mset(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("MSET a 1 b 2 {x}1 3", OK);
    c.is(
        "MGET a b {x}1 nokey a",
        &arr(&[bulk("1"), bulk("2"), bulk("3"), NIL.to_string(), bulk("1")]),
    );
    c.is("MGET nokey", &arr(&[NIL.to_string()]));
    c.is("MGET", &arity("mget"));
    c.is("MSET", &arity("mset"));
    c.is("MSET a", &arity("mset"));
    c.is("MSET a 1 b", &arity("mset"));
    c.is("MSETNX a", &arity("msetnx"));
    c.is("MSETNX a 1 b", &arity("msetnx"));
    // The last of duplicate keys wins; MSET clears TTLs.
    c.is("EXPIRE a 100", &int(1));
    c.is("MSET a x b y a z", OK);
    c.is("MGET a b", &arr(&[bulk("z"), bulk("y")]));
    c.is("TTL a", &int(-1));

    // MSETNX: all or nothing.
    c.is("MSETNX a 1 c 2", &int(0));
    c.is("EXISTS c", &int(0));
    c.is("MSETNX c 1 d 2", &int(1));
    c.is("MGET c d", &arr(&[bulk("1"), bulk("2")]));
    // The same new key twice: set, last value wins.
    c.is("MSETNX e 1 e 2", &int(1));
    c.is("GET e", &bulk("2"));
    c.is("DBSIZE", &int(6));
}
per_shards!(mget_mset, super::check_mget_mset);

// --- APPEND STRLEN and OBJECT ENCODING ------------------------------------------

fn check_append_strlen_encoding(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("APPEND k hello", &int(5));
    c.is("APPEND k _world", &int(11));
    c.is("GET k", &bulk("hello_world"));
    c.is("STRLEN k", &int(11));
    c.is("STRLEN nokey", &int(0));
    c.bis(&[b"APPEND", b"k", b""], &int(11));
    c.bis(&[b"APPEND", b"empty", b""], &int(0));
    c.is("EXISTS empty", &int(1));
    c.is("OBJECT ENCODING k", &bulk("raw"));

    // tryObjectEncoding: canonical integers of at most 20 chars are `int`,
    // other strings up to 44 bytes are `embstr`, longer ones `raw`.
    let forty_four = "x".repeat(44);
    let forty_five = "x".repeat(45);
    for (value, enc) in [
        ("12", "int"),
        ("-1", "int"),
        ("0", "int"),
        ("9223372036854775807", "int"),
        ("-9223372036854775808", "int"),
        ("9223372036854775808", "embstr"),
        ("012", "embstr"),
        ("+1", "embstr"),
        ("-0", "embstr"),
        ("1.5", "embstr"),
        ("abc", "embstr"),
        (forty_four.as_str(), "embstr"),
        (forty_five.as_str(), "raw"),
    ] {
        c.bis(&[b"SET", b"e", value.as_bytes()], OK);
        c.is("OBJECT ENCODING e", &bulk(enc));
        c.bis(&[b"STRLEN", b"e"], &int(value.len() as i64));
        c.is("GET e", &bulk(value));
    }
    c.bis(&[b"SET", b"e", b""], OK);
    c.is("OBJECT ENCODING e", &bulk("embstr"));
    c.is("STRLEN e", &int(0));

    // APPEND to an int or embstr makes it raw, and INCR makes it int again.
    c.is("SET n 123", OK);
    c.is("OBJECT ENCODING n", &bulk("int"));
    c.is("STRLEN n", &int(3));
    c.is("APPEND n 4", &int(4));
    c.is("OBJECT ENCODING n", &bulk("raw"));
    c.is("GET n", &bulk("1234"));
    c.is("INCR n", &int(1235));
    c.is("OBJECT ENCODING n", &bulk("int"));
    c.is("SET s abc", OK);
    c.is("APPEND s d", &int(4));
    c.is("OBJECT ENCODING s", &bulk("raw"));
    // APPEND to a missing key stores the argument encoded: "123" is int.
    c.is("APPEND new 123", &int(3));
    c.is("OBJECT ENCODING new", &bulk("int"));
    c.is("APPEND new2 abc", &int(3));
    c.is("OBJECT ENCODING new2", &bulk("embstr"));
    // Every SET-like command encodes its value the same way.
    for cmd in [
        "SETNX i1 123",
        "SETEX i2 100 123",
        "PSETEX i3 100000 123",
        "GETSET i4 123",
        "MSET i5 123 {i5}x 77",
        "MSETNX i6 123",
        "SET i7 123 EX 100",
    ] {
        c.q(cmd);
        let key = cmd.split_whitespace().nth(1).unwrap_or_default();
        c.is(&format!("OBJECT ENCODING {key}"), &bulk("int"));
    }
    // SETRANGE and SETBIT build raw strings; INCRBYFLOAT stores text.
    c.is("SETRANGE r1 0 12", &int(2));
    c.is("OBJECT ENCODING r1", &bulk("raw"));
    c.is("SETBIT r2 1 1", &int(0));
    c.is("OBJECT ENCODING r2", &bulk("raw"));
    c.is("INCRBYFLOAT f 1", &bulk("1"));
    c.is("OBJECT ENCODING f", &bulk("embstr"));
    c.is("INCR f", &int(2));
    c.is("OBJECT ENCODING f", &bulk("int"));
    // APPEND keeps the TTL.
    c.is("SET t v EX 100", OK);
    c.is("APPEND t w", &int(2));
    c.int_in("TTL t", 95..=100);
    c.is("APPEND k", &arity("append"));
    c.is("STRLEN", &arity("strlen"));
}
per_shards!(append_strlen_encoding, super::check_append_strlen_encoding);

// --- INCR DECR INCRBY DECRBY (incrDecrCommand) ---------------------------------

fn check_incr_decr(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("INCR n", &int(1));
    c.is("INCR n", &int(2));
    c.is("DECR n", &int(1));
    c.is("INCRBY n 10", &int(11));
    c.is("DECRBY n 20", &int(-9));
    c.is("INCRBY n -1", &int(-10));
    c.is("DECRBY n -10", &int(0));
    c.is("DECR fresh", &int(-1));
    c.is("INCRBY fresh2 5", &int(5));
    c.is("DECRBY fresh3 5", &int(-5));
    c.is("GET n", &bulk("0"));

    // Increments must be strict integers (string2ll).
    for bad in ["abc", "1.5", "+1", "01", "1e3", "9223372036854775808", ""] {
        c.bis(&[b"INCRBY", b"n", bad.as_bytes()], NOT_INT);
        c.bis(&[b"DECRBY", b"n", bad.as_bytes()], NOT_INT);
    }
    c.bis(&[b"INCRBY", b"n", b" 1"], NOT_INT);
    c.bis(&[b"INCRBY", b"n", b"1 "], NOT_INT);

    // So must the stored value.
    for stored in [
        "abc",
        "1.5",
        "+1",
        "01",
        " 1",
        "1 ",
        "",
        "12345678901234567890",
    ] {
        c.bis(&[b"SET", b"s", stored.as_bytes()], OK);
        c.is("INCR s", NOT_INT);
        c.is("DECR s", NOT_INT);
        c.is("INCRBY s 1", NOT_INT);
        c.bis(&[b"GET", b"s"], &bulk(stored));
    }
    // A numeric string that is not int-encoded (built by APPEND) is fine.
    c.is("SET s 1", OK);
    c.is("APPEND s 0", &int(2));
    c.is("INCR s", &int(11));

    // Overflow.
    c.is("SET big 9223372036854775807", OK);
    c.is("INCR big", &err("increment or decrement would overflow"));
    c.is(
        "INCRBY big 1",
        &err("increment or decrement would overflow"),
    );
    c.is(
        "DECRBY big -1",
        &err("increment or decrement would overflow"),
    );
    c.is("GET big", &bulk("9223372036854775807"));
    c.is("SET small -9223372036854775808", OK);
    c.is("DECR small", &err("increment or decrement would overflow"));
    c.is(
        "INCRBY small -1",
        &err("increment or decrement would overflow"),
    );
    c.is("INCRBY small 9223372036854775807", &int(-1));
    // DECRBY of LLONG_MIN cannot be negated (decrbyCommand).
    c.is(
        "DECRBY small -9223372036854775808",
        &err("decrement would overflow"),
    );
    c.is(
        "DECRBY nokey -9223372036854775808",
        &err("decrement would overflow"),
    );
    c.is("EXISTS nokey", &int(0));
    c.is("DECRBY small 9223372036854775807", &int(i64::MIN));

    // INCR keeps the TTL.
    c.is("SET t 5 EX 100", OK);
    c.is("INCR t", &int(6));
    c.int_in("TTL t", 95..=100);
    c.is("INCR", &arity("incr"));
    c.is("INCRBY n", &arity("incrby"));
    c.is("DECR n 1", &arity("decr"));
}
per_shards!(incr_decr, super::check_incr_decr);

// --- INCRBYFLOAT (incrbyfloatCommand) --------------------------------------------

fn check_incrbyfloat(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("INCRBYFLOAT f 10.5", &bulk("10.5"));
    c.is("INCRBYFLOAT f 0.1", &bulk("10.6"));
    c.is("INCRBYFLOAT f -10.6", &bulk("0"));
    c.is("INCRBYFLOAT f 3", &bulk("3"));
    c.is("INCRBYFLOAT f 1.5", &bulk("4.5"));
    c.is("INCRBYFLOAT f -5", &bulk("-0.5"));
    // Redis adds in x87 long double and prints with %.17Lf: 0.1 + 0.2 is
    // exactly "0.3", and doubles overflow only far beyond 1e308.
    c.is("INCRBYFLOAT g 0.1", &bulk("0.1"));
    c.is("INCRBYFLOAT g 0.2", &bulk("0.3"));
    c.is("INCRBYFLOAT g 1e-30", &bulk("0.3"));
    c.is("SET g 1e308", OK);
    let two_e308 = c.q("INCRBYFLOAT g 1e308");
    assert!(
        two_e308.starts_with("$309\r\n19999999999999999999337175931169129"),
        "1e308 + 1e308: {two_e308:?}"
    );
    c.is("INCRBYFLOAT h 0x10", &bulk("16"));
    c.is("INCRBYFLOAT h 0x1.8p1", &bulk("19"));
    // Exponents and the stored form: always plain decimal, no trailing zeros.
    c.is("SET f 5.0e3", OK);
    c.is("INCRBYFLOAT f 0", &bulk("5000"));
    c.is("INCRBYFLOAT f 2.0e2", &bulk("5200"));
    c.is("INCRBYFLOAT f 1e20", &bulk("100000000000000005200"));
    c.is("SET f 3", OK);
    c.is("INCRBYFLOAT f 1.25e-1", &bulk("3.125"));
    c.is("INCRBYFLOAT f .875", &bulk("4"));
    c.is("INCRBYFLOAT f -.5E1", &bulk("-1"));
    c.is("GET f", &bulk("-1"));
    // An int-encoded value is a fine float.
    c.is("SET i 17", OK);
    c.is("INCRBYFLOAT i 0.5", &bulk("17.5"));
    // INCRBYFLOAT keeps the TTL.
    c.is("SET t 1 EX 100", OK);
    c.is("INCRBYFLOAT t 1", &bulk("2"));
    c.int_in("TTL t", 95..=100);

    // Bad increments and bad stored values.
    for bad in ["abc", "nan", "1.5x", "", "1..2"] {
        c.bis(&[b"INCRBYFLOAT", b"f", bad.as_bytes()], NOT_FLOAT);
    }
    c.bis(&[b"INCRBYFLOAT", b"f", b" 1"], NOT_FLOAT);
    c.bis(&[b"INCRBYFLOAT", b"f", b"1 "], NOT_FLOAT);
    for stored in ["abc", "1.5.5", " 1", ""] {
        c.bis(&[b"SET", b"s", stored.as_bytes()], OK);
        c.is("INCRBYFLOAT s 1", NOT_FLOAT);
    }
    // Infinity is parsed, but a result that is not finite is refused.
    let inf = err("increment would produce NaN or Infinity");
    c.is("INCRBYFLOAT f inf", &inf);
    c.is("INCRBYFLOAT f -inf", &inf);
    c.is("INCRBYFLOAT f +inf", &inf);
    c.is("SET s inf", OK);
    c.is("INCRBYFLOAT s 1", &inf);
    c.is("INCRBYFLOAT nokey inf", &inf);
    c.is("EXISTS nokey", &int(0));
    c.is("GET f", &bulk("-1"));
    c.is("INCRBYFLOAT f", &arity("incrbyfloat"));
}
per_shards!(incrbyfloat, super::check_incrbyfloat);

// --- GETRANGE SUBSTR SETRANGE -------------------------------------------------------

fn check_getrange_setrange(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("SET s Hello_World", OK);
    for (range, want) in [
        ("0 3", "Hell"),
        ("-3 -1", "rld"),
        ("0 -1", "Hello_World"),
        ("0 0", "H"),
        ("10 100", "d"),
        ("11 100", ""),
        ("5 3", ""),
        ("-1 -5", ""),
        ("-100 -50", "H"),
        ("-100 2", "Hel"),
        ("-5 -10", ""),
        ("3 -100", ""),
        ("0 9223372036854775807", "Hello_World"),
        ("-9223372036854775808 -9223372036854775808", "H"),
    ] {
        c.is(&format!("GETRANGE s {range}"), &bulk(want));
        c.is(&format!("SUBSTR s {range}"), &bulk(want));
    }
    c.is("GETRANGE nokey 0 -1", &bulk(""));
    c.is("GETRANGE s a 1", NOT_INT);
    c.is("GETRANGE s 0 1.5", NOT_INT);
    c.is("GETRANGE s 0", &arity("getrange"));
    // An int-encoded value is ranged over its decimal text.
    c.is("SET n 1234", OK);
    c.is("GETRANGE n 1 2", &bulk("23"));
    c.is("GETRANGE n -1 -1", &bulk("4"));
    c.bis(&[b"SET", b"e", b""], OK);
    c.is("GETRANGE e 0 -1", &bulk(""));

    // SETRANGE pads with zero bytes.
    c.is("SETRANGE p 5 abc", &int(8));
    c.is("GET p", &bulk_bytes(b"\0\0\0\0\0abc"));
    c.is("SETRANGE p 0 XY", &int(8));
    c.is("SETRANGE p 7 Z12", &int(10));
    c.is("GET p", &bulk_bytes(b"XY\0\0\0abZ12"));
    c.is("SETRANGE n 1 x", &int(4));
    c.is("GET n", &bulk("1x34"));
    c.is("OBJECT ENCODING n", &bulk("raw"));
    // An empty value on a missing key creates nothing and replies 0; on an
    // existing key it replies the length, whatever the offset.
    c.bis(&[b"SETRANGE", b"none", b"0", b""], &int(0));
    c.bis(&[b"SETRANGE", b"none", b"100", b""], &int(0));
    c.is("EXISTS none", &int(0));
    c.bis(&[b"SETRANGE", b"p", b"1000", b""], &int(10));
    c.bis(&[b"SETRANGE", b"p", b"536870912", b""], &int(10));
    c.is("STRLEN p", &int(10));
    // Offsets: negative is out of range; the end may not pass 512 MB.
    c.is("SETRANGE p -1 x", &err("offset is out of range"));
    c.is("SETRANGE nokey -1 x", &err("offset is out of range"));
    let too_long = err("string exceeds maximum allowed size (proto-max-bulk-len)");
    c.is("SETRANGE p 536870912 x", &too_long);
    c.is("SETRANGE p 536870911 xy", &too_long);
    c.is("SETRANGE nokey 536870912 x", &too_long);
    c.is("EXISTS nokey", &int(0));
    c.is("SETRANGE p abc x", NOT_INT);
    c.is("SETRANGE p 1", &arity("setrange"));
    // SETRANGE keeps the TTL.
    c.is("SET t abc EX 100", OK);
    c.is("SETRANGE t 1 X", &int(3));
    c.is("GET t", &bulk("aXc"));
    c.int_in("TTL t", 95..=100);
}
per_shards!(getrange_setrange, super::check_getrange_setrange);

// --- SETBIT GETBIT (getBitOffsetFromArgument) -------------------------------------

fn check_setbit_getbit(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("SETBIT b 7 1", &int(0));
    c.is("GET b", &bulk_bytes(b"\x01"));
    c.is("SETBIT b 7 1", &int(1));
    c.is("SETBIT b 0 1", &int(0));
    c.is("GET b", &bulk_bytes(b"\x81"));
    c.is("SETBIT b 7 0", &int(1));
    c.is("GETBIT b 0", &int(1));
    c.is("GETBIT b 7", &int(0));
    c.is("GETBIT b 100", &int(0));
    c.is("GETBIT nokey 0", &int(0));
    // Growing pads with zero bytes.
    c.is("SETBIT b 23 1", &int(0));
    c.is("GET b", &bulk_bytes(b"\x80\x00\x01"));
    c.is("STRLEN b", &int(3));
    // Bits of an int-encoded value are those of its text ("1" = 0x31).
    c.is("SET n 1", OK);
    c.is("GETBIT n 2", &int(1));
    c.is("GETBIT n 3", &int(1));
    c.is("GETBIT n 4", &int(0));
    c.is("SETBIT n 6 1", &int(0));
    c.is("GET n", &bulk("3"));
    c.is("OBJECT ENCODING n", &bulk("raw"));

    let bad_offset = err("bit offset is not an integer or out of range");
    let bad_bit = err("bit is not an integer or out of range");
    for off in ["-1", "abc", "4294967296", "1.5", "+1"] {
        c.is(&format!("SETBIT b {off} 1"), &bad_offset);
        c.is(&format!("GETBIT b {off}"), &bad_offset);
    }
    c.is("GETBIT b 4294967295", &int(0));
    for bit in ["2", "-1", "a", "01", ""] {
        c.bis(&[b"SETBIT", b"b", b"1", bit.as_bytes()], &bad_bit);
    }
    // The offset is checked before the value.
    c.is("SETBIT b -1 2", &bad_offset);
    c.is("SETBIT nokey 4294967296 1", &bad_offset);
    c.is("EXISTS nokey", &int(0));
    c.is("GET b", &bulk_bytes(b"\x80\x00\x01"));
    c.is("SETBIT b 1", &arity("setbit"));
    c.is("GETBIT b", &arity("getbit"));
    // SETBIT keeps the TTL.
    c.is("SET t a EX 100", OK);
    c.is("SETBIT t 0 1", &int(0));
    c.int_in("TTL t", 95..=100);
}
per_shards!(setbit_getbit, super::check_setbit_getbit);

// --- BITCOUNT BITPOS (bitcountCommand, bitposCommand) -----------------------------

fn check_bitcount(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("SET s foobar", OK);
    c.is("BITCOUNT s", &int(26));
    for (args, want) in [
        ("0 0", 4),
        ("1 1", 6),
        ("1 1 BYTE", 6),
        ("1 1 byte", 6),
        ("-1 -1", 4),
        ("-2 -1", 7),
        ("0 -1", 26),
        ("-100 100", 26),
        ("-1 -2", 0),
        ("2 1", 0),
        ("6 100", 0),
        ("5 30 BIT", 17),
        ("5 30 bit", 17),
        ("0 -1 BIT", 26),
        ("-2 -1 BIT", 1),
        ("0 0 BIT", 0),
        ("1 1 BIT", 1),
        ("0 7 BIT", 4),
        ("40 47 BIT", 4),
        ("-1 -2 BIT", 0),
        // Both negative with start > end is 0 before the unit is checked.
        ("-1 -2 foo", 0),
    ] {
        c.is(&format!("BITCOUNT s {args}"), &int(want));
    }
    c.is("BITCOUNT s 0", SYNTAX);
    c.is("BITCOUNT s 0 1 foo", SYNTAX);
    c.is("BITCOUNT s 0 1 BIT extra", SYNTAX);
    c.is("BITCOUNT s a b BIT extra", SYNTAX);
    c.is("BITCOUNT s a 1", NOT_INT);
    c.is("BITCOUNT s 0 b", NOT_INT);
    c.is("BITCOUNT s a 1 BIT", NOT_INT);
    // A missing key is 0 whatever the arguments (looked up first).
    c.is("BITCOUNT nokey", &int(0));
    c.is("BITCOUNT nokey 0", &int(0));
    c.is("BITCOUNT nokey a b", &int(0));
    c.is("BITCOUNT nokey 0 1 foo", &int(0));
    c.is("BITCOUNT", &arity("bitcount"));
    // Int-encoded: "1234" is 0x31 0x32 0x33 0x34.
    c.is("SET n 1234", OK);
    c.is("BITCOUNT n", &int(13));
    c.bis(&[b"SET", b"e", b""], OK);
    c.is("BITCOUNT e", &int(0));
    c.is("BITCOUNT e 0 -1", &int(0));
    c.is("BITCOUNT e 0 -1 BIT", &int(0));
}
per_shards!(bitcount, super::check_bitcount);

fn check_bitpos(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.bis(&[b"SET", b"a", b"\xff\xf0\x00"], OK);
    c.is("BITPOS a 0", &int(12));
    c.is("BITPOS a 1", &int(0));
    c.bis(&[b"SET", b"b", b"\x00\xff\xf0"], OK);
    for (args, want) in [
        ("1", 8),
        ("0", 0),
        ("1 0", 8),
        ("1 2", 16),
        ("1 2 -1", 16),
        ("1 2 -1 BYTE", 16),
        ("1 7 15 BIT", 8),
        ("1 7 15 bit", 8),
        ("0 8 -1 BIT", 20),
        ("1 100", -1),
        ("1 -1", 16),
        ("1 -100 -200", -1),
        ("1 0 0", -1),
        ("0 1 1", -1),
        ("0 2", 20),
        ("0 8 15 BIT", -1),
        ("0 8 19 BIT", -1),
        ("0 8 20 BIT", 20),
    ] {
        c.is(&format!("BITPOS b {args}"), &int(want));
    }
    c.bis(&[b"SET", b"z", b"\x00\x00\x00"], OK);
    c.is("BITPOS z 1", &int(-1));
    c.is("BITPOS z 1 7 -3 BIT", &int(-1));
    c.is("BITPOS z 0", &int(0));
    c.is("BITPOS z 0 1", &int(8));
    // Looking for 0 in all-ones: the string is padded with zeros on the
    // right, unless an end was given.
    c.bis(&[b"SET", b"f", b"\xff\xff\xff"], OK);
    c.is("BITPOS f 0", &int(24));
    c.is("BITPOS f 0 0", &int(24));
    c.is("BITPOS f 0 1", &int(24));
    c.is("BITPOS f 0 0 -1", &int(-1));
    c.is("BITPOS f 0 0 -1 BIT", &int(-1));
    c.is("BITPOS f 0 0 -1 BYTE", &int(-1));
    c.is("BITPOS f 1 -1", &int(16));
    // A missing key is all zeros: 0 for a clear bit, -1 for a set bit,
    // whatever the range (the range is not even parsed).
    c.is("BITPOS nokey 0", &int(0));
    c.is("BITPOS nokey 1", &int(-1));
    c.is("BITPOS nokey 0 5 10", &int(0));
    c.is("BITPOS nokey 1 5 10 BIT", &int(-1));
    c.is("BITPOS nokey 0 a", &int(0));
    c.is("BITPOS nokey 0 1 2 foo", &int(0));
    // An existing empty string: an empty range holds neither bit.
    c.bis(&[b"SET", b"e", b""], OK);
    c.is("BITPOS e 0", &int(-1));
    c.is("BITPOS e 1", &int(-1));
    c.is("BITPOS e 0 0 -1 BIT", &int(-1));
    // The bit argument is an integer first, then 0 or 1.
    let bad_bit = err("The bit argument must be 1 or 0.");
    c.is("BITPOS b 2", &bad_bit);
    c.is("BITPOS b -1", &bad_bit);
    c.is("BITPOS nokey 2", &bad_bit);
    c.is("BITPOS b abc", NOT_INT);
    c.is("BITPOS b 01", NOT_INT);
    c.is("BITPOS nokey abc", NOT_INT);
    // Range errors; BYTE|BIT is checked before END is parsed.
    c.is("BITPOS b 1 a", NOT_INT);
    c.is("BITPOS b 1 0 a", NOT_INT);
    c.is("BITPOS b 1 0 a foo", SYNTAX);
    c.is("BITPOS b 1 0 1 foo", SYNTAX);
    c.is("BITPOS b 1 0 1 BIT extra", SYNTAX);
    c.is("BITPOS b 1 a 1 BIT", NOT_INT);
    c.is("BITPOS b", &arity("bitpos"));
    // Int-encoded: "1" is 0x31 = 00110001.
    c.is("SET n 1", OK);
    c.is("BITPOS n 1", &int(2));
    c.is("BITPOS n 0", &int(0));
}
per_shards!(bitpos, super::check_bitpos);

// --- BITOP (bitopCommand), with sources on different shards ------------------------

fn check_bitop(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.bis(&[b"SET", b"a", b"\x01\x02\xff\xff"], OK);
    c.bis(&[b"SET", b"b", b"\x01\x02\xff"], OK);
    c.is("BITOP AND dest a b", &int(4));
    c.is("GET dest", &bulk_bytes(b"\x01\x02\xff\x00"));
    c.is("BITOP OR dest a b", &int(4));
    c.is("GET dest", &bulk_bytes(b"\x01\x02\xff\xff"));
    c.is("BITOP XOR dest a b", &int(4));
    c.is("GET dest", &bulk_bytes(b"\x00\x00\x00\xff"));
    c.is("bitop xor dest a b a", &int(4));
    c.is("GET dest", &bulk_bytes(b"\x01\x02\xff\x00"));
    c.is("BITOP NOT dest b", &int(3));
    c.is("GET dest", &bulk_bytes(b"\xfe\xfd\x00"));
    c.is("OBJECT ENCODING dest", &bulk("raw"));
    // The destination may be a source.
    c.is("BITOP NOT a a", &int(4));
    c.is("GET a", &bulk_bytes(b"\xfe\xfd\x00\x00"));
    // Missing keys are empty strings, i.e. zero padding.
    c.is("BITOP AND dest a nokey", &int(4));
    c.is("GET dest", &bulk_bytes(b"\x00\x00\x00\x00"));
    c.is("BITOP OR dest nokey b", &int(3));
    c.is("GET dest", &bulk_bytes(b"\x01\x02\xff"));
    // An int-encoded source is its text.
    c.is("SET n 1", OK);
    c.is("BITOP XOR dest n", &int(1));
    c.is("GET dest", &bulk("1"));
    // An empty result deletes the destination.
    c.is("BITOP OR dest nokey nokey2", &int(0));
    c.is("EXISTS dest", &int(0));
    c.is("SET dest x EX 100", OK);
    c.bis(&[b"SET", b"e", b""], OK);
    c.is("BITOP NOT dest e", &int(0));
    c.is("EXISTS dest", &int(0));
    // A new result has no TTL.
    c.is("SET dest x EX 100", OK);
    c.is("BITOP OR dest b", &int(3));
    c.is("TTL dest", &int(-1));
    // Errors.
    c.is(
        "BITOP NOT dest a b",
        &err("BITOP NOT must be called with a single source key."),
    );
    c.is("BITOP NOT dest", &arity("bitop"));
    c.is("BITOP AND dest", &arity("bitop"));
    c.is("BITOP NAND dest a", SYNTAX);
    c.is("BITOP ANDX dest a", SYNTAX);
}
per_shards!(bitop, super::check_bitop);

// --- LCS (lcsCommand) ---------------------------------------------------------------

fn range(a: i64, b: i64) -> String {
    arr(&[int(a), int(b)])
}

/// An LCS IDX reply (RESP2): `matches`, the match list, `len`, the length.
fn lcs_idx(matches: &[&str], len: i64) -> String {
    let matches: Vec<String> = matches.iter().map(|m| m.to_string()).collect();
    arr(&[bulk("matches"), arr(&matches), bulk("len"), int(len)])
}

fn check_lcs(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("MSET a ohmytext b mynewtext", OK);
    c.is("LCS a b", &bulk("mytext"));
    c.is("LCS b a", &bulk("mytext"));
    c.is("LCS a b LEN", &int(6));
    c.is("lcs a b len", &int(6));
    // Matches from the end of the strings: a[4..7] = b[5..8] "text", then
    // a[2..3] = b[0..1] "my".
    let m1 = arr(&[range(4, 7), range(5, 8)]);
    let m2 = arr(&[range(2, 3), range(0, 1)]);
    let m1_len = arr(&[range(4, 7), range(5, 8), int(4)]);
    let m2_len = arr(&[range(2, 3), range(0, 1), int(2)]);
    c.is("LCS a b IDX", &lcs_idx(&[&m1, &m2], 6));
    c.is("LCS a b IDX MINMATCHLEN 4", &lcs_idx(&[&m1], 6));
    c.is("LCS a b IDX WITHMATCHLEN", &lcs_idx(&[&m1_len, &m2_len], 6));
    c.is(
        "LCS a b WITHMATCHLEN MINMATCHLEN 3 IDX",
        &lcs_idx(&[&m1_len], 6),
    );
    // A negative MINMATCHLEN is 0; WITHMATCHLEN without IDX is ignored.
    c.is("LCS a b IDX MINMATCHLEN -5", &lcs_idx(&[&m1, &m2], 6));
    c.is("LCS a b WITHMATCHLEN", &bulk("mytext"));
    c.is("LCS a b LEN WITHMATCHLEN", &int(6));
    c.is("LCS a b MINMATCHLEN 10", &bulk("mytext"));
    // Missing keys are empty strings.
    c.is("LCS a nokey", &bulk(""));
    c.is("LCS nokey nokey2 LEN", &int(0));
    c.is("LCS nokey a IDX", &lcs_idx(&[], 0));
    c.is("SET n 12345", OK);
    c.is("SET m 2x4", OK);
    c.is("LCS n m", &bulk("24"));
    // Errors.
    c.is(
        "LCS a b LEN IDX",
        &err("If you want both the length and indexes, please just use IDX."),
    );
    c.is("LCS a b foo", SYNTAX);
    c.is("LCS a b MINMATCHLEN", SYNTAX);
    c.is("LCS a b MINMATCHLEN abc", NOT_INT);
    c.is("LCS a", &arity("lcs"));
}
per_shards!(lcs, super::check_lcs);

// --- RESP3 reply shapes ---------------------------------------------------------------

fn check_resp3_shapes(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    let hello = c.q("HELLO 3");
    assert!(hello.starts_with("%7\r\n"), "HELLO 3: {hello:?}");
    // Null is `_` in RESP3: GET, SET NX refused, GETEX, GETDEL, MGET holes.
    c.is("GET nokey", "_\r\n");
    c.is("SET k v", OK);
    c.is("SET k v NX", "_\r\n");
    c.is("SET k2 v XX GET", "_\r\n");
    c.is("GETEX nokey", "_\r\n");
    c.is("GETDEL nokey", "_\r\n");
    c.is("GETSET nokey2 v", "_\r\n");
    c.is("MGET k nokey", &arr(&[bulk("v"), "_\r\n".to_string()]));
    c.is("OBJECT ENCODING nokey", "_\r\n");
    // LCS IDX is a map.
    c.is("MSET a ohmytext b mynewtext", OK);
    c.is(
        "LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN",
        &format!(
            "%2\r\n{}{}{}{}",
            bulk("matches"),
            arr(&[arr(&[range(4, 7), range(5, 8), int(4)])]),
            bulk("len"),
            int(6)
        ),
    );
    // Strings stay blobs, integers stay integers.
    c.is("INCRBYFLOAT f 1.5", &bulk("1.5"));
    c.is("INCR n", &int(1));
}
per_shards!(resp3_shapes, super::check_resp3_shapes);

// --- expiry of strings, lazily and actively ---------------------------------------------

/// Keys with short TTLs set by SET PX, SETEX, PSETEX, GETEX and SET EXAT
/// disappear by themselves (the active expire cycle; DBSIZE does not touch
/// them), and a key read after its deadline is gone (lazy expiry).
fn check_string_expiry(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("SET a v PX 100", OK);
    c.is("PSETEX b 100 v", OK);
    c.is("SET c v", OK);
    c.is("GETEX c PX 100", &bulk("v"));
    c.is("SET {x}d v", OK);
    c.is("SET keep v", OK);
    let gone = wait_until(Duration::from_secs(5), || c.q("DBSIZE") == int(2));
    assert!(
        gone,
        "keys with PX 100 still there: DBSIZE {}",
        c.q("DBSIZE")
    );
    c.is("GET keep", &bulk("v"));
    c.is("MGET a b c", &arr(&[NIL.into(), NIL.into(), NIL.into()]));
    // SETEX 1: gone within 5 s, and a GET after that is nil.
    c.is("SETEX e 1 v", OK);
    let gone = wait_until(Duration::from_secs(5), || c.q("EXISTS e") == int(0));
    assert!(gone, "SETEX 1 key still there after 5 s");
    c.is("GET e", NIL);
    c.is("TTL e", &int(-2));
    // KEEPTTL carries a short TTL over to the new value.
    c.is("SET f v PX 200", OK);
    c.is("SET f v2 KEEPTTL", OK);
    let gone = wait_until(Duration::from_secs(5), || c.q("DBSIZE") == int(2));
    assert!(gone, "KEEPTTL key still there after 5 s");
}
per_shards!(string_expiry, super::check_string_expiry);

// --- MEMORY USAGE of strings (objectComputeSize with jemalloc size classes) -------------

fn check_memory_usage(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    let long_key = "k".repeat(40);
    let raw53 = "a".repeat(53);
    let raw145 = "a".repeat(145);
    for (key, value, usage) in [
        // robj (16) + key sds "x" (8) + dictEntry (24).
        ("x", "1", 48),
        ("x", "-123456789", 48),
        // embstr: one allocation of robj + sdshdr8 + value + NUL.
        ("x", "", 64),
        ("x", "hello", 64),
        ("x", "a", 64),
        ("x", "0123456789abcdef", 80),
        ("x", "0123456789abcdefghijklmnopqrst", 96),
        // raw: robj + a separate sds.
        ("x", raw53.as_str(), 112),
        ("x", raw145.as_str(), 208),
        // A key of 32 or more bytes needs an sdshdr8.
        (long_key.as_str(), "1", 88),
    ] {
        c.b(&[b"DEL", key.as_bytes()]);
        c.bis(&[b"SET", key.as_bytes(), value.as_bytes()], OK);
        c.bis(&[b"MEMORY", b"USAGE", key.as_bytes()], &int(usage));
    }
    c.is("MEMORY USAGE x SAMPLES 5", &int(208));
    c.is("MEMORY USAGE x SAMPLES 0", &int(208));
    c.is("MEMORY USAGE nokey", NIL);
    // APPEND on a missing key stores an encoded value.
    c.is("APPEND ap 123", &int(3));
    c.is("MEMORY USAGE ap", &int(48));
    // SETRANGE / SETBIT on a missing key allocate the exact size.
    c.is("SETRANGE sr 0 12", &int(2));
    c.is("MEMORY USAGE sr", &int(56));
    c.is("SETBIT sb 1 1", &int(0));
    c.is("MEMORY USAGE sb", &int(56));
    c.is("MEMORY USAGE x SAMPLES", SYNTAX);
    c.is("MEMORY USAGE x SAMPLES -1", SYNTAX);
    c.is("MEMORY USAGE x SAMPLES abc", NOT_INT);
    c.is("MEMORY USAGE x foo", SYNTAX);
    c.is("MEMORY USAGE", &arity("memory|usage"));
    c.is(
        "MEMORY nosuch",
        &err("unknown subcommand 'nosuch'. Try MEMORY HELP."),
    );
}
per_shards!(memory_usage, super::check_memory_usage);

// --- size limits under a small proto-max-bulk-len (checkStringLength) ---------------

/// With `proto-max-bulk-len 1mb`: APPEND, SETRANGE and SETBIT may not make
/// a string longer than 1 MiB, and LCS refuses a DP table bigger than it.
fn check_size_limits(shards: usize) {
    let server = Server::start_with(shards, &["--proto-max-bulk-len", "1mb"]);
    let mut c = Client::new(&server);
    let too_long = err("string exceeds maximum allowed size (proto-max-bulk-len)");
    let half = vec![b'x'; 512 * 1024];
    c.bis(&[b"SET", b"s", &half], OK);
    c.bis(&[b"APPEND", b"s", &half], &int(1024 * 1024));
    c.is("APPEND s y", &too_long);
    c.is("STRLEN s", &int(1024 * 1024));
    c.is("SETRANGE s 1048575 z", &int(1024 * 1024));
    c.is("SETRANGE s 1048576 z", &too_long);
    c.is("SETRANGE new 1048576 z", &too_long);
    c.is("EXISTS new", &int(0));
    c.is("SETBIT bits 8388607 1", &int(0));
    c.is("STRLEN bits", &int(1024 * 1024));
    c.is(
        "SETBIT bits 8388608 1",
        &err("bit offset is not an integer or out of range"),
    );
    c.is(
        "GETBIT bits 8388608",
        &err("bit offset is not an integer or out of range"),
    );
    // LCS needs (len+1)^2 four-byte cells: 600 bytes each is over 1 MiB.
    let a = vec![b'a'; 600];
    c.bis(&[b"MSET", b"a", &a, b"b", &a], OK);
    c.is(
        "LCS a b LEN",
        &err("Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"),
    );
    c.bis(&[b"SET", b"b", &a[..200]], OK);
    c.is("LCS a b LEN", &int(200));
}
per_shards!(size_limits, super::check_size_limits);

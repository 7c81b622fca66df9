//! List commands (the non-blocking ones), reply byte for byte (RESP2, and
//! RESP3 where the shape differs): LPUSH RPUSH LPUSHX RPUSHX, LPOP RPOP with
//! and without a count, LLEN LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS,
//! LMOVE RPOPLPUSH LMPOP, empty-list deletion, TYPE / OBJECT ENCODING and
//! WRONGTYPE in both directions between strings and lists. Mirrors what
//! Redis's `tests/unit/type/list.tcl` checks.
//!
//! Every expected reply here was checked against redis-server 7.0 with
//! `TESSERA_TEST_BIN=redis-server cargo test --test lists`; the Redis
//! function that produces it (`t_list.c`) is named where the behaviour is
//! not obvious. Each check runs with `--shards 1` and `--shards 2`; with two
//! shards the keys `a` and `b` live on different shards, so LMOVE /
//! RPOPLPUSH / LMPOP on them run as cross-shard transactions.

mod common;

use common::text::*;

use common::Server;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::collections::{BTreeMap, VecDeque};

// --- push / pop (pushGenericCommand, popGenericCommand) ---------------------

fn check_push_pop(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("LPUSH", &arity("lpush"));
    c.is("LPUSH l", &arity("lpush"));
    c.is("RPUSH l", &arity("rpush"));
    c.is("LPUSH l a", &int(1));
    c.is("LPUSH l b c", &int(3));
    c.is("RPUSH l x y", &int(5));
    c.is("LRANGE l 0 -1", &bulks(&["c", "b", "a", "x", "y"]));
    c.is("TYPE l", "+list\r\n");
    c.is("OBJECT ENCODING l", &bulk("quicklist"));

    // The X forms only push onto an existing list.
    c.is("LPUSHX nolist a", &int(0));
    c.is("RPUSHX nolist a b", &int(0));
    c.is("EXISTS nolist", &int(0));
    c.is("LPUSHX l h1 h2", &int(7));
    c.is("RPUSHX l t1", &int(8));
    c.is(
        "LRANGE l 0 -1",
        &bulks(&["h2", "h1", "c", "b", "a", "x", "y", "t1"]),
    );

    // Single pops are bulks; a missing key is nil.
    c.is("LPOP l", &bulk("h2"));
    c.is("RPOP l", &bulk("t1"));
    c.is("LPOP nolist", NIL);
    c.is("RPOP nolist", NIL);
    // With a count: an array in pop order; a missing key is a nil array.
    c.is("LPOP l 2", &bulks(&["h1", "c"]));
    c.is("RPOP l 2", &bulks(&["y", "x"]));
    c.is("LPOP l 0", EMPTY);
    c.is("LPOP nolist 0", NIL_ARRAY);
    c.is("RPOP nolist 3", NIL_ARRAY);
    c.is("LLEN l", &int(2));
    // The count is checked before the key (getPositiveLongFromObjectOrReply).
    c.is("LPOP l -1", NOT_POSITIVE);
    c.is("LPOP nolist -1", NOT_POSITIVE);
    c.is("RPOP l abc", NOT_POSITIVE);
    c.is("LPOP l 1 2", &arity("lpop"));
    c.is("RPOP l 1 2", &arity("rpop"));
    // More than there is: all of it, then the key is gone.
    c.is("RPOP l 10", &bulks(&["a", "b"]));
    c.is("EXISTS l", &int(0));
    c.is("LLEN l", &int(0));
    c.is("TYPE l", "+none\r\n");

    // The last single pop deletes the key too.
    c.is("RPUSH one v", &int(1));
    c.is("RPOP one", &bulk("v"));
    c.is("EXISTS one", &int(0));
    // Integers come back as they were sent.
    c.is("RPUSH nums 1 -2 300000 99999999999", &int(4));
    c.is(
        "LRANGE nums 0 -1",
        &bulks(&["1", "-2", "300000", "99999999999"]),
    );
}
per_shards!(push_pop, super::check_push_pop);

// --- LRANGE, LINDEX, LSET (addListRangeReply, lindexCommand, lsetCommand) ---

fn check_range_index_set(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("RPUSH l a b c d e", &int(5));
    c.is("LRANGE l 1 3", &bulks(&["b", "c", "d"]));
    c.is("LRANGE l -2 -1", &bulks(&["d", "e"]));
    c.is("LRANGE l -100 100", &bulks(&["a", "b", "c", "d", "e"]));
    c.is("LRANGE l 3 1", EMPTY);
    c.is("LRANGE l 5 10", EMPTY);
    c.is("LRANGE l 0 -6", EMPTY);
    c.is("LRANGE l -1 -2", EMPTY);
    c.is("LRANGE nolist 0 -1", EMPTY);
    c.is("LRANGE l x 1", NOT_INT);
    c.is("LRANGE nolist 0 y", NOT_INT);
    c.is("LRANGE l 0", &arity("lrange"));

    c.is("LINDEX l 0", &bulk("a"));
    c.is("LINDEX l -1", &bulk("e"));
    c.is("LINDEX l -5", &bulk("a"));
    c.is("LINDEX l 5", NIL);
    c.is("LINDEX l -6", NIL);
    c.is("LINDEX l abc", NOT_INT);
    // The key is looked up before the index is parsed.
    c.is("LINDEX nolist abc", NIL);

    c.is("LSET l 0 A", OK);
    c.is("LSET l -1 E", OK);
    c.is("LSET l 2 C", OK);
    c.is("LRANGE l 0 -1", &bulks(&["A", "b", "C", "d", "E"]));
    c.is("LSET l 5 x", &err("index out of range"));
    c.is("LSET l -6 x", &err("index out of range"));
    c.is("LSET l abc x", NOT_INT);
    c.is("LSET nolist 0 x", &err("no such key"));
    c.is("LSET nolist abc x", &err("no such key"));
    c.is("EXISTS nolist", &int(0));
}
per_shards!(range_index_set, super::check_range_index_set);

// --- LINSERT, LREM, LTRIM --------------------------------------------------

fn check_insert_rem_trim(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("RPUSH l a b c b", &int(4));
    c.is("LINSERT l BEFORE b x", &int(5));
    c.is("LINSERT l after b y", &int(6));
    c.is("LRANGE l 0 -1", &bulks(&["a", "x", "b", "y", "c", "b"]));
    c.is("LINSERT l BEFORE zz v", &int(-1));
    c.is("LINSERT nolist BEFORE a v", &int(0));
    c.is("EXISTS nolist", &int(0));
    // The position word is checked first (linsertCommand).
    c.is("LINSERT l MIDDLE b v", SYNTAX);
    c.is("LINSERT nolist MIDDLE b v", SYNTAX);
    c.is("LINSERT l BEFORE b", &arity("linsert"));

    c.is("DEL l", &int(1));
    c.is("RPUSH l x a x b x c x", &int(7));
    c.is("LREM l 2 x", &int(2));
    c.is("LRANGE l 0 -1", &bulks(&["a", "b", "x", "c", "x"]));
    c.is("LREM l -1 x", &int(1));
    c.is("LRANGE l 0 -1", &bulks(&["a", "b", "x", "c"]));
    c.is("LREM l 0 x", &int(1));
    c.is("LREM l 0 nothere", &int(0));
    c.is("LREM nolist 0 x", &int(0));
    c.is("LREM l abc x", NOT_INT);
    c.is("LREM nolist abc x", NOT_INT);
    c.is("LREM l 0 a", &int(1));
    c.is("LREM l 0 b", &int(1));
    c.is("LREM l 0 c", &int(1));
    c.is("EXISTS l", &int(0));

    c.is("RPUSH t a b c d e", &int(5));
    c.is("LTRIM t 1 -2", OK);
    c.is("LRANGE t 0 -1", &bulks(&["b", "c", "d"]));
    c.is("LTRIM t -100 100", OK);
    c.is("LRANGE t 0 -1", &bulks(&["b", "c", "d"]));
    c.is("LTRIM t 1 1", OK);
    c.is("LRANGE t 0 -1", &bulks(&["c"]));
    c.is("LTRIM t abc 1", NOT_INT);
    c.is("LTRIM nolist 0 1", OK);
    c.is("EXISTS nolist", &int(0));
    // An empty range empties the list, and the key goes away.
    c.is("LTRIM t 5 10", OK);
    c.is("EXISTS t", &int(0));
    c.is("RPUSH t a b", &int(2));
    c.is("LTRIM t 1 0", OK);
    c.is("EXISTS t", &int(0));
}
per_shards!(insert_rem_trim, super::check_insert_rem_trim);

// --- LPOS (lposCommand) ----------------------------------------------------

fn check_lpos(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("RPUSH l a b c 1 2 3 c c", &int(8));
    c.is("LPOS l c", &int(2));
    c.is("LPOS l zz", NIL);
    c.is("LPOS l c RANK 2", &int(6));
    c.is("LPOS l c RANK -1", &int(7));
    c.is("LPOS l c RANK -3", &int(2));
    c.is("LPOS l c RANK 4", NIL);
    c.is("LPOS l c COUNT 0", &ints(&[2, 6, 7]));
    c.is("LPOS l c COUNT 2", &ints(&[2, 6]));
    c.is("LPOS l c RANK 2 COUNT 0", &ints(&[6, 7]));
    c.is("LPOS l c RANK -1 COUNT 2", &ints(&[7, 6]));
    c.is("LPOS l zz COUNT 0", EMPTY);
    c.is("LPOS l c MAXLEN 3", &int(2));
    c.is("LPOS l c MAXLEN 2", NIL);
    c.is("LPOS l c COUNT 0 MAXLEN 7", &ints(&[2, 6]));
    c.is("LPOS l c RANK -1 MAXLEN 1", &int(7));
    c.is("LPOS l c rank 1 count 1 maxlen 0", &ints(&[2]));
    c.is("LPOS nolist c", NIL);
    c.is("LPOS nolist c COUNT 1", EMPTY);
    // Errors, all before the key is looked up.
    c.is(
        "LPOS l c RANK 0",
        &err("RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"),
    );
    c.is("LPOS l c RANK abc", NOT_INT);
    c.is("LPOS l c COUNT -1", &err("COUNT can't be negative"));
    c.is("LPOS l c COUNT abc", &err("COUNT can't be negative"));
    c.is("LPOS l c MAXLEN -1", &err("MAXLEN can't be negative"));
    c.is("LPOS nolist c MAXLEN x", &err("MAXLEN can't be negative"));
    c.is("LPOS l c RANK", SYNTAX);
    c.is("LPOS l c FOO 1", SYNTAX);
    c.is("LPOS l", &arity("lpos"));
}
per_shards!(lpos, super::check_lpos);

// --- LMOVE, RPOPLPUSH (lmoveGenericCommand) --------------------------------

fn check_lmove(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    // `a` and `b` are on different shards with 2 shards; `{t}a` and `{t}b`
    // share one.
    for (src, dst) in [("a", "b"), ("{t}a", "{t}b")] {
        c.is(&format!("RPUSH {src} 1 2 3"), &int(3));
        c.is(&format!("LMOVE {src} {dst} RIGHT LEFT"), &bulk("3"));
        c.is(&format!("LMOVE {src} {dst} left right"), &bulk("1"));
        c.is(&format!("LRANGE {src} 0 -1"), &bulks(&["2"]));
        c.is(&format!("LRANGE {dst} 0 -1"), &bulks(&["3", "1"]));
        c.is(&format!("TYPE {dst}"), "+list\r\n");
        // The last element moves: the source key goes away.
        c.is(&format!("RPOPLPUSH {src} {dst}"), &bulk("2"));
        c.is(&format!("EXISTS {src}"), &int(0));
        c.is(&format!("LRANGE {dst} 0 -1"), &bulks(&["2", "3", "1"]));
        c.is(&format!("RPOPLPUSH {src} {dst}"), NIL);
        c.is(&format!("LMOVE {src} {dst} LEFT LEFT"), NIL);
        c.is(&format!("LMOVE {dst} {src} RIGHT RIGHT"), &bulk("1"));
        c.is(&format!("LRANGE {src} 0 -1"), &bulks(&["1"]));
        // The destination's type is checked before anything moves.
        c.is(&format!("SET {dst} str"), OK);
        c.is(&format!("LMOVE {src} {dst} LEFT LEFT"), WRONGTYPE);
        c.is(&format!("RPOPLPUSH {src} {dst}"), WRONGTYPE);
        c.is(&format!("LRANGE {src} 0 -1"), &bulks(&["1"]));
        c.is(&format!("RPOPLPUSH {dst} {src}"), WRONGTYPE);
        // A missing source is nil whatever the destination holds.
        c.is(&format!("RPOPLPUSH nosrc {dst}"), NIL);
        c.is(&format!("DEL {src} {dst}"), &int(2));
    }
    // Same key: rotates; a one-element list survives.
    c.is("RPUSH r 1 2 3", &int(3));
    c.is("RPOPLPUSH r r", &bulk("3"));
    c.is("LRANGE r 0 -1", &bulks(&["3", "1", "2"]));
    c.is("LMOVE r r LEFT RIGHT", &bulk("3"));
    c.is("LRANGE r 0 -1", &bulks(&["1", "2", "3"]));
    c.is("LMOVE r r LEFT LEFT", &bulk("1"));
    c.is("LRANGE r 0 -1", &bulks(&["1", "2", "3"]));
    c.is("RPUSH single x", &int(1));
    c.is("LMOVE single single LEFT RIGHT", &bulk("x"));
    c.is("LRANGE single 0 -1", &bulks(&["x"]));
    // Direction words are checked first.
    c.is("LMOVE r r UP LEFT", SYNTAX);
    c.is("LMOVE nolist r LEFT DOWN", SYNTAX);
    c.is("LMOVE r r LEFT", &arity("lmove"));
    c.is("RPOPLPUSH r", &arity("rpoplpush"));
}
per_shards!(lmove, super::check_lmove);

// --- LMPOP (lmpopGenericCommand, mpopGenericCommand) -----------------------

fn check_lmpop(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("RPUSH b 1 2 3 4", &int(4));
    c.is("LMPOP 2 a b LEFT", "*2\r\n$1\r\nb\r\n*1\r\n$1\r\n1\r\n");
    c.is(
        "LMPOP 2 a b RIGHT COUNT 2",
        "*2\r\n$1\r\nb\r\n*2\r\n$1\r\n4\r\n$1\r\n3\r\n",
    );
    c.is("RPUSH a x", &int(1));
    c.is(
        "LMPOP 2 a b left count 10",
        "*2\r\n$1\r\na\r\n*1\r\n$1\r\nx\r\n",
    );
    c.is("EXISTS a", &int(0));
    c.is(
        "LMPOP 1 b RIGHT COUNT 5",
        "*2\r\n$1\r\nb\r\n*1\r\n$1\r\n2\r\n",
    );
    c.is("EXISTS b", &int(0));
    c.is("LMPOP 2 a b LEFT", NIL_ARRAY);
    // Keys named like the options are just keys.
    c.is("RPUSH LEFT v", &int(1));
    c.is("LMPOP 1 LEFT LEFT", "*2\r\n$4\r\nLEFT\r\n*1\r\n$1\r\nv\r\n");
    // A wrong type stops the scan (it is not skipped).
    c.is("SET s str", OK);
    c.is("RPUSH c 1", &int(1));
    c.is("LMPOP 2 s c LEFT", WRONGTYPE);
    c.is("LMPOP 2 nolist s LEFT", WRONGTYPE);
    c.is("LMPOP 2 c s LEFT", "*2\r\n$1\r\nc\r\n*1\r\n$1\r\n1\r\n");
    // Errors.
    c.is("LMPOP 0 a LEFT", &err("numkeys should be greater than 0"));
    c.is("LMPOP -1 a LEFT", &err("numkeys should be greater than 0"));
    c.is("LMPOP x a LEFT", &err("numkeys should be greater than 0"));
    c.is("LMPOP 3 a b LEFT", SYNTAX);
    c.is("LMPOP 1 a MIDDLE", SYNTAX);
    c.is(
        "LMPOP 1 a LEFT COUNT 0",
        &err("count should be greater than 0"),
    );
    c.is(
        "LMPOP 1 a LEFT COUNT x",
        &err("count should be greater than 0"),
    );
    c.is("LMPOP 1 a LEFT COUNT 1 COUNT 1", SYNTAX);
    c.is("LMPOP 1 a LEFT COUNT", SYNTAX);
    c.is("LMPOP 1 a LEFT FOO", SYNTAX);
    c.is("LMPOP 1 a", &arity("lmpop"));
    // COMMAND GETKEYS sees exactly the numkeys keys.
    c.is(
        "COMMAND GETKEYS LMPOP 2 a b LEFT COUNT 3",
        &bulks(&["a", "b"]),
    );
}
per_shards!(lmpop, super::check_lmpop);

// --- types, WRONGTYPE, RESP3 shapes, big lists ------------------------------

fn check_wrongtype(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("RPUSH l a", &int(1));
    for cmd in [
        "GET l",
        "APPEND l x",
        "INCR l",
        "INCRBY l 2",
        "INCRBYFLOAT l 1.5",
        "STRLEN l",
        "GETRANGE l 0 1",
        "SETRANGE l 0 x",
        "GETSET l x",
        "GETDEL l",
        "SETBIT l 0 1",
        "BITCOUNT l",
    ] {
        c.is(cmd, WRONGTYPE);
    }
    // MGET answers nil for a non-string, SET overwrites any type.
    c.is("MGET l", "*1\r\n$-1\r\n");
    c.is("SET s v", OK);
    for cmd in [
        "LPUSH s a",
        "RPUSH s a",
        "LPUSHX s a",
        "RPUSHX s a",
        "LPOP s",
        "RPOP s 2",
        "LLEN s",
        "LRANGE s 0 -1",
        "LINDEX s 0",
        "LSET s 0 x",
        "LINSERT s BEFORE a b",
        "LREM s 0 a",
        "LTRIM s 0 1",
        "LPOS s a",
        "LMPOP 1 s LEFT",
    ] {
        c.is(cmd, WRONGTYPE);
    }
    c.is("GET s", &bulk("v"));
    c.is("SET l v", OK);
    c.is("TYPE l", "+string\r\n");
    c.is("RPUSH l2 a b", &int(2));
    c.is("RENAME l2 l3", OK);
    c.is("LRANGE l3 0 -1", &bulks(&["a", "b"]));
    c.is("COPY l3 l4", &int(1));
    c.is("RPUSH l4 c", &int(3));
    c.is("LLEN l3", &int(2));
    c.is("EXPIRE l3 100", &int(1));
    c.is("RPUSH l3 c", &int(3));
    c.is("TTL l3", &int(100));
    // SCAN and KEYS filter on the type name.
    let mut con = server.client();
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut con).expect("KEYS");
    keys.sort();
    assert_eq!(keys, ["l", "l3", "l4", "s"]);
    // A full SCAN iteration (tessera walks shard by shard).
    let mut lists = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, batch): (String, Vec<String>) = redis::cmd("SCAN")
            .arg(&cursor)
            .arg("TYPE")
            .arg("list")
            .query(&mut con)
            .expect("SCAN");
        lists.extend(batch);
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    lists.sort();
    assert_eq!(lists, ["l3", "l4"]);
}
per_shards!(wrongtype, super::check_wrongtype);

fn check_resp3_shapes(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    let hello = c.q("HELLO 3");
    assert!(hello.starts_with("%7\r\n"), "HELLO 3: {hello:?}");
    c.is("LPOP nolist", "_\r\n");
    c.is("LPOP nolist 2", "_\r\n");
    c.is("LINDEX nolist 0", "_\r\n");
    c.is("LPOS nolist a", "_\r\n");
    c.is("LMPOP 1 nolist LEFT", "_\r\n");
    c.is("RPOPLPUSH nolist x", "_\r\n");
    c.is("RPUSH l a", &int(1));
    c.is("LINDEX l 5", "_\r\n");
    c.is("LPOP l 0", EMPTY);
}
per_shards!(resp3_shapes, super::check_resp3_shapes);

/// Large lists (past one 8 KiB quicklist node): order, counts, trims.
fn check_big_list(shards: usize) {
    let server = Server::start(shards);
    let mut con = server.client();
    let big = "v".repeat(500);
    for i in 0..200 {
        let _: i64 = redis::cmd("RPUSH")
            .arg("big")
            .arg(format!("{i}:{big}"))
            .query(&mut con)
            .expect("RPUSH");
    }
    let enc: String = redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg("big")
        .query(&mut con)
        .expect("OBJECT ENCODING");
    assert_eq!(enc, "quicklist");
    let len: i64 = redis::cmd("LLEN").arg("big").query(&mut con).expect("LLEN");
    assert_eq!(len, 200);
    let mid: String = redis::cmd("LINDEX")
        .arg("big")
        .arg(-101)
        .query(&mut con)
        .expect("LINDEX");
    assert_eq!(mid, format!("99:{big}"));
    let usage: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("big")
        .query(&mut con)
        .expect("MEMORY USAGE");
    assert!((100_000..130_000).contains(&usage), "MEMORY USAGE {usage}");
    let popped: Vec<String> = redis::cmd("LPOP")
        .arg("big")
        .arg(150)
        .query(&mut con)
        .expect("LPOP");
    assert_eq!(popped.len(), 150);
    assert_eq!(popped[149], format!("149:{big}"));
    let () = redis::cmd("LTRIM")
        .arg("big")
        .arg(0)
        .arg(9)
        .query(&mut con)
        .expect("LTRIM");
    let rest: Vec<String> = redis::cmd("LRANGE")
        .arg("big")
        .arg(0)
        .arg(-1)
        .query(&mut con)
        .expect("LRANGE");
    assert_eq!(rest.len(), 10);
    assert_eq!(rest[0], format!("150:{big}"));
    // A small list's MEMORY USAGE is exact: `RPUSH l a b c` is 144 bytes.
    let _: i64 = redis::cmd("RPUSH")
        .arg("l")
        .arg(&["a", "b", "c"])
        .query(&mut con)
        .expect("RPUSH");
    let usage: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("l")
        .query(&mut con)
        .expect("MEMORY USAGE");
    assert_eq!(usage, 144);
}
per_shards!(big_list, super::check_big_list);

// --- property test: random command sequences against a model ---------------

/// Keys: `a` and `b` on different shards with 2 shards.
const KEYS: &[&str] = &["a", "b"];
const ITEMS: &[&str] = &["x", "y", "z", "1", "22"];

#[derive(Clone, Debug)]
enum Op {
    Push(usize, bool, Vec<usize>),
    Pop(usize, bool, Option<usize>),
    Move(usize, usize, bool, bool),
    Range(usize, i64, i64),
    Index(usize, i64),
    Set(usize, i64, usize),
    Rem(usize, i64, usize),
    Trim(usize, i64, i64),
    Insert(usize, bool, usize, usize),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let key = 0..KEYS.len();
    let item = 0..ITEMS.len();
    let index = -6..6i64;
    prop_oneof![
        4 => (key.clone(), any::<bool>(), prop::collection::vec(item.clone(), 1..4))
            .prop_map(|(k, l, v)| Op::Push(k, l, v)),
        2 => (key.clone(), any::<bool>(), prop::option::of(0..4usize))
            .prop_map(|(k, l, n)| Op::Pop(k, l, n)),
        2 => (key.clone(), key.clone(), any::<bool>(), any::<bool>())
            .prop_map(|(s, d, f, t)| Op::Move(s, d, f, t)),
        2 => (key.clone(), index.clone(), index.clone()).prop_map(|(k, a, b)| Op::Range(k, a, b)),
        1 => (key.clone(), index.clone()).prop_map(|(k, i)| Op::Index(k, i)),
        1 => (key.clone(), index.clone(), item.clone()).prop_map(|(k, i, v)| Op::Set(k, i, v)),
        1 => (key.clone(), -3..3i64, item.clone()).prop_map(|(k, n, v)| Op::Rem(k, n, v)),
        1 => (key.clone(), index.clone(), index).prop_map(|(k, a, b)| Op::Trim(k, a, b)),
        1 => (key, any::<bool>(), item.clone(), item)
            .prop_map(|(k, after, p, v)| Op::Insert(k, after, p, v)),
    ]
}

/// Redis's index normalisation: `start..=end` clamped, or empty.
fn span(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    let n = len as i64;
    let s = if start < 0 { (n + start).max(0) } else { start };
    let e = if end < 0 { n + end } else { end.min(n - 1) };
    (s <= e && s < n && e >= 0).then_some((s as usize, e as usize))
}

fn at(len: usize, i: i64) -> Option<usize> {
    let i = if i < 0 { len as i64 + i } else { i };
    (0..len as i64).contains(&i).then_some(i as usize)
}

fn bulk_values(items: &[String]) -> redis::Value {
    redis::Value::Array(
        items
            .iter()
            .map(|s| redis::Value::BulkString(s.as_bytes().to_vec()))
            .collect(),
    )
}

fn bulk_value(s: Option<&String>) -> redis::Value {
    s.map_or(redis::Value::Nil, |s| {
        redis::Value::BulkString(s.as_bytes().to_vec())
    })
}

/// Applies one op to the model and returns the reply Redis gives (`None`:
/// an error reply).
fn model_apply(m: &mut BTreeMap<&'static str, VecDeque<String>>, op: &Op) -> Option<redis::Value> {
    use redis::Value as V;
    let ok = || V::Okay;
    let out = match op {
        Op::Push(k, left, items) => {
            let l = m.entry(KEYS[*k]).or_default();
            for &i in items {
                if *left {
                    l.push_front(ITEMS[i].to_string());
                } else {
                    l.push_back(ITEMS[i].to_string());
                }
            }
            V::Int(l.len() as i64)
        }
        Op::Pop(k, left, count) => {
            let l = m.entry(KEYS[*k]).or_default();
            let existed = !l.is_empty();
            let mut take = || if *left { l.pop_front() } else { l.pop_back() };
            match count {
                None => bulk_value(take().as_ref()),
                Some(_) if !existed => V::Nil,
                Some(n) => bulk_values(&(0..*n).map_while(|_| take()).collect::<Vec<_>>()),
            }
        }
        Op::Move(s, d, from_left, to_left) => {
            let v = m.entry(KEYS[*s]).or_default();
            let popped = if *from_left {
                v.pop_front()
            } else {
                v.pop_back()
            };
            if let Some(e) = &popped {
                let dst = m.entry(KEYS[*d]).or_default();
                if *to_left {
                    dst.push_front(e.clone());
                } else {
                    dst.push_back(e.clone());
                }
            }
            bulk_value(popped.as_ref())
        }
        Op::Range(k, a, b) => {
            let l = m.entry(KEYS[*k]).or_default();
            let items: Vec<String> = span(l.len(), *a, *b)
                .map(|(s, e)| l.range(s..=e).cloned().collect())
                .unwrap_or_default();
            bulk_values(&items)
        }
        Op::Index(k, i) => {
            let l = m.entry(KEYS[*k]).or_default();
            bulk_value(at(l.len(), *i).map(|i| &l[i]))
        }
        Op::Set(k, i, v) => {
            let l = m.entry(KEYS[*k]).or_default();
            // No such key, or index out of range: an error.
            let i = at(l.len(), *i)?;
            l[i] = ITEMS[*v].to_string();
            ok()
        }
        Op::Rem(k, n, v) => {
            let l = m.entry(KEYS[*k]).or_default();
            let target = ITEMS[*v];
            let limit = if *n == 0 {
                usize::MAX
            } else {
                n.unsigned_abs() as usize
            };
            let mut removed = 0;
            if *n >= 0 {
                let mut i = 0;
                while i < l.len() && removed < limit {
                    if l[i] == target {
                        l.remove(i);
                        removed += 1;
                    } else {
                        i += 1;
                    }
                }
            } else {
                let mut i = l.len();
                while i > 0 && removed < limit {
                    i -= 1;
                    if l[i] == target {
                        l.remove(i);
                        removed += 1;
                    }
                }
            }
            V::Int(removed as i64)
        }
        Op::Trim(k, a, b) => {
            let l = m.entry(KEYS[*k]).or_default();
            let kept: VecDeque<String> = span(l.len(), *a, *b)
                .map(|(s, e)| l.range(s..=e).cloned().collect())
                .unwrap_or_default();
            *l = kept;
            ok()
        }
        Op::Insert(k, after, p, v) => {
            let l = m.entry(KEYS[*k]).or_default();
            if l.is_empty() {
                V::Int(0)
            } else {
                match l.iter().position(|e| e == ITEMS[*p]) {
                    Some(i) => {
                        l.insert(if *after { i + 1 } else { i }, ITEMS[*v].to_string());
                        V::Int(l.len() as i64)
                    }
                    None => V::Int(-1),
                }
            }
        }
    };
    m.retain(|_, l| !l.is_empty());
    Some(out)
}

fn op_args(op: &Op) -> Vec<String> {
    let side = |left: bool| if left { "LEFT" } else { "RIGHT" }.to_string();
    let s = |v: &str| v.to_string();
    match op {
        Op::Push(k, left, items) => {
            let mut a = vec![s(if *left { "LPUSH" } else { "RPUSH" }), s(KEYS[*k])];
            a.extend(items.iter().map(|&i| s(ITEMS[i])));
            a
        }
        Op::Pop(k, left, count) => {
            let mut a = vec![s(if *left { "LPOP" } else { "RPOP" }), s(KEYS[*k])];
            a.extend(count.map(|n| n.to_string()));
            a
        }
        Op::Move(src, dst, f, t) => {
            vec![s("LMOVE"), s(KEYS[*src]), s(KEYS[*dst]), side(*f), side(*t)]
        }
        Op::Range(k, a, b) => vec![s("LRANGE"), s(KEYS[*k]), a.to_string(), b.to_string()],
        Op::Index(k, i) => vec![s("LINDEX"), s(KEYS[*k]), i.to_string()],
        Op::Set(k, i, v) => vec![s("LSET"), s(KEYS[*k]), i.to_string(), s(ITEMS[*v])],
        Op::Rem(k, n, v) => vec![s("LREM"), s(KEYS[*k]), n.to_string(), s(ITEMS[*v])],
        Op::Trim(k, a, b) => vec![s("LTRIM"), s(KEYS[*k]), a.to_string(), b.to_string()],
        Op::Insert(k, after, p, v) => vec![
            s("LINSERT"),
            s(KEYS[*k]),
            s(if *after { "AFTER" } else { "BEFORE" }),
            s(ITEMS[*p]),
            s(ITEMS[*v]),
        ],
    }
}

fn run_ops(con: &mut redis::Connection, ops: &[Op]) -> Result<(), TestCaseError> {
    let _: () = redis::cmd("FLUSHALL").query(con).expect("FLUSHALL");
    let mut model: BTreeMap<&'static str, VecDeque<String>> = BTreeMap::new();
    for op in ops {
        let want = model_apply(&mut model, op);
        let args = op_args(op);
        let got = redis::cmd(&args[0])
            .arg(&args[1..])
            .query::<redis::Value>(con)
            .ok();
        prop_assert_eq!(&got, &want, "{:?}", op);
        for k in KEYS {
            let items: Vec<String> = redis::cmd("LRANGE")
                .arg(*k)
                .arg(0)
                .arg(-1)
                .query(con)
                .expect("LRANGE");
            let model_items: Vec<String> = model
                .get(k)
                .map(|l| l.iter().cloned().collect())
                .unwrap_or_default();
            prop_assert_eq!(items, model_items, "{} after {:?}", k, op);
        }
    }
    Ok(())
}

fn check_model(shards: usize) {
    let server = Server::start(shards);
    let con = std::cell::RefCell::new(server.client());
    common::check_model(
        prop::collection::vec(op_strategy(), 1..12),
        |ops| run_ops(&mut con.borrow_mut(), &ops),
        "lists",
    );
}
per_shards!(model, super::check_model);

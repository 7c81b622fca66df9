//! Sorted set commands, reply byte for byte (RESP2, and RESP3 where the
//! shape differs): ZADD (NX XX GT LT CH INCR) ZINCRBY ZREM ZCARD ZSCORE
//! ZMSCORE ZRANK ZREVRANK ZCOUNT ZLEXCOUNT, ZRANGE in all its forms and
//! ZRANGESTORE, ZREMRANGEBYRANK / SCORE / LEX, ZPOPMIN ZPOPMAX ZMPOP,
//! ZRANDMEMBER, ZUNION ZINTER ZDIFF and their STORE forms, ZINTERCARD,
//! ZSCAN; score parsing and formatting (inf, NaN, -0, 17 digits), range
//! syntax, empty-key deletion, WRONGTYPE both ways, OBJECT ENCODING across
//! both thresholds and after CONFIG SET, COMMAND INFO / GETKEYS of the
//! movable-key commands. Mirrors what Redis's `tests/unit/type/zset.tcl`
//! checks. Then a property test (random command sequences against an
//! in-test model) and a cross-shard atomicity race.
//!
//! Every expected reply here was checked against redis-server 7.0 with
//! `TESSERA_TEST_BIN=redis-server cargo test --release --test zsets`; the
//! Redis function that produces it (`t_zset.c`) is named where the
//! behaviour is not obvious. Each check runs with `--shards 1` and
//! `--shards 2`; with two shards `a` and `b` live on different shards, so
//! the multi-key commands on them run as cross-shard transactions.

mod common;

use std::collections::BTreeMap;

use common::text::*;
use common::{slot, Server};

/// A score as RESP2 sends it (a bulk string).
fn dbl(s: &str) -> String {
    bulk(s)
}

/// (member, score) pairs, flat: RESP2's WITHSCORES shape.
fn flat(pairs: &[(&str, &str)]) -> String {
    let mut s = format!("*{}\r\n", pairs.len() * 2);
    for (m, v) in pairs {
        s.push_str(&bulk(m));
        s.push_str(&bulk(v));
    }
    s
}

/// (member, score) pairs nested with RESP3 doubles: RESP3's shape.
fn nested(pairs: &[(&str, &str)]) -> String {
    let mut s = format!("*{}\r\n", pairs.len());
    for (m, v) in pairs {
        s.push_str(&format!("*2\r\n{},{v}\r\n", bulk(m)));
    }
    s
}

const NOT_RANGE_FLOAT: &str = "-ERR min or max is not a float\r\n";
const NOT_LEX: &str = "-ERR min or max not valid string range item\r\n";

// --- ZADD, ZINCRBY (zaddGenericCommand, zsetAdd) ----------------------------

fn check_zadd(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("ZADD", &arity("zadd"));
    c.is("ZADD z", &arity("zadd"));
    c.is("ZADD z 1", &arity("zadd"));
    c.is("ZADD z 1 a 2", SYNTAX);
    c.is("ZADD z NX", &arity("zadd"));
    c.is("ZADD z NX 1", SYNTAX);
    c.is("ZADD z NX XX 1", SYNTAX);
    c.is("ZADD z 1 a 2 b 3 c", &int(3));
    c.is("ZADD z 1 a 4 b", &int(0));
    c.is(
        "ZRANGE z 0 -1 WITHSCORES",
        &flat(&[("a", "1"), ("c", "3"), ("b", "4")]),
    );
    c.is("TYPE z", "+zset\r\n");
    c.is("OBJECT ENCODING z", &bulk("listpack"));
    // CH counts changed scores as well.
    c.is("ZADD z CH 1 a 5 b 6 d", &int(2));
    c.is("ZADD z ch 5 b", &int(0));
    // NX only adds, XX only updates.
    c.is("ZADD z NX 9 a 7 e", &int(1));
    c.is("ZSCORE z a", &dbl("1"));
    c.is("ZADD z XX 9 a 8 f", &int(0));
    c.is("ZSCORE z a", &dbl("9"));
    c.is("ZSCORE z f", NIL);
    c.is("ZADD z XX CH 10 a 8 f", &int(1));
    c.is("ZADD nokey XX 1 a", &int(0));
    c.is("EXISTS nokey", &int(0));
    // GT / LT only move scores one way, and still add new members.
    c.is("ZADD z GT CH 1 a 11 b 1 g", &int(2));
    c.is("ZMSCORE z a b g", &arr(&[dbl("10"), dbl("11"), dbl("1")]));
    c.is("ZADD z LT CH 20 a 0 b", &int(1));
    c.is("ZMSCORE z a b", &arr(&[dbl("10"), dbl("0")]));
    c.is("ZADD z XX GT CH 30 a 30 nothere", &int(1));
    c.is("ZCARD z", &int(6));
    // Option conflicts, in Redis's order, before any score is parsed.
    let xxnx = err("XX and NX options at the same time are not compatible");
    let gtltnx = err("GT, LT, and/or NX options at the same time are not compatible");
    c.is("ZADD z NX XX 1 a", &xxnx);
    c.is("ZADD z NX XX GT x a", &xxnx);
    c.is("ZADD z GT LT 1 a", &gtltnx);
    c.is("ZADD z NX GT 1 a", &gtltnx);
    c.is("ZADD z NX LT 1 a", &gtltnx);
    c.is("ZADD z GT LT INCR x a 1 b", &gtltnx);
    c.is(
        "ZADD z INCR 1 a 2 b",
        &err("INCR option supports a single increment-element pair"),
    );
    c.is(
        "ZADD z INCR x a 2 b",
        &err("INCR option supports a single increment-element pair"),
    );
    // Every score is parsed before anything is added.
    c.is("ZADD z 1 x1 nan x2", NOT_FLOAT);
    c.is("ZADD z 1 x1 abc x2", NOT_FLOAT);
    c.is("ZADD z 1 x1 1.5x x2", NOT_FLOAT);
    c.is("ZADD z 1 x1 '' x2", NOT_FLOAT);
    c.is("ZSCORE z x1", NIL);
    c.bis(&[b"ZADD", b"z", b"", b"x"], NOT_FLOAT);
    c.bis(&[b"ZADD", b"z", b" 1", b"x"], NOT_FLOAT);
    c.bis(&[b"ZADD", b"z", b"1\0", b"x"], NOT_FLOAT);
    c.is("ZADD z 1e400 x", NOT_FLOAT);
    // INCR replies the new score, or nil when held back.
    c.is("ZADD z INCR 5 a", &dbl("35"));
    c.is("ZADD z INCR -5.5 newm", &dbl("-5.5"));
    c.is("ZADD z NX INCR 1 a", NIL);
    c.is("ZADD z XX INCR 1 nothere", NIL);
    c.is("ZADD z GT INCR -1 a", NIL);
    c.is("ZADD z LT INCR -1 a", &dbl("34"));
    c.is("ZADD z INCR 0 a", &dbl("34"));
    c.is("ZADD nokey XX INCR 1 a", NIL);
    c.is("EXISTS nokey", &int(0));
    // Members are binary-safe.
    c.bis(&[b"ZADD", b"bin", b"1", b"a\0b", b"2", b""], &int(2));
    c.bis(
        &[b"ZRANGE", b"bin", b"0", b"-1"],
        &format!("*2\r\n{}{}", bulk_bytes(b"a\0b"), bulk("")),
    );
}
per_shards!(zadd, super::check_zadd);

fn check_incr_and_scores(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("ZINCRBY z", &arity("zincrby"));
    c.is("ZINCRBY z 1 a b", &arity("zincrby"));
    c.is("ZINCRBY z 1 a", &dbl("1"));
    c.is("ZINCRBY z 2.5 a", &dbl("3.5"));
    c.is("ZINCRBY z -10 a", &dbl("-6.5"));
    c.is("ZINCRBY z x a", NOT_FLOAT);
    c.is("ZINCRBY z nan a", NOT_FLOAT);
    c.is("ZINCRBY z NX a", SYNTAX);
    // inf is a score; inf - inf is not.
    c.is("ZINCRBY z +inf a", &dbl("inf"));
    c.is("ZINCRBY z 1 a", &dbl("inf"));
    c.is(
        "ZINCRBY z -inf a",
        &err("resulting score is not a number (NaN)"),
    );
    c.is(
        "ZADD z INCR -inf a",
        &err("resulting score is not a number (NaN)"),
    );
    c.is("ZSCORE z a", &dbl("inf"));
    c.is("ZADD z -inf b -Infinity c", &int(2));
    c.is(
        "ZRANGE z 0 -1 WITHSCORES",
        &flat(&[("b", "-inf"), ("c", "-inf"), ("a", "inf")]),
    );
    // Scores are written as %.17g (addReplyDouble).
    c.is(
        "ZADD f 0.1 a 1e20 b 3 c 1.5 d 123456789012345678 e -2.25e-5 g",
        &int(6),
    );
    c.is(
        "ZRANGE f 0 -1 WITHSCORES",
        &flat(&[
            ("g", "-2.2500000000000001e-05"),
            ("a", "0.10000000000000001"),
            ("d", "1.5"),
            ("c", "3"),
            ("e", "1.2345678901234568e+17"),
            ("b", "1e+20"),
        ]),
    );
    c.is("ZADD f 0x10 h", &int(1));
    c.is("ZSCORE f h", &dbl("16"));
    // -0: a listpack keeps it as 0; the reply to the INCR is still -0.
    c.is("ZADD neg INCR -0 a", &dbl("-0"));
    c.is("ZSCORE neg a", &dbl("0"));
    c.is("ZINCRBY neg -0 a", &dbl("0"));
    c.is("CONFIG SET zset-max-listpack-entries 0", OK);
    c.is("ZADD negsl -0 a", &int(1));
    c.is("OBJECT ENCODING negsl", &bulk("skiplist"));
    c.is("ZSCORE negsl a", &dbl("-0"));
    c.is("ZINCRBY negsl -0 a", &dbl("-0"));
    c.is("ZSCAN negsl 0", &arr(&[bulk("0"), bulks(&["a", "-0"])]));
    // -0 and 0 are the same score: no update.
    c.is("ZADD negsl CH 0 a", &int(0));
}
per_shards!(incr_and_scores, super::check_incr_and_scores);

// --- ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK -------------------------------

fn check_rem_card_score_rank(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("ZREM z", &arity("zrem"));
    c.is("ZCARD", &arity("zcard"));
    c.is("ZCARD z x", &arity("zcard"));
    c.is("ZSCORE z", &arity("zscore"));
    c.is("ZMSCORE z", &arity("zmscore"));
    c.is("ZRANK z", &arity("zrank"));
    c.is("ZRANK z a b", &arity("zrank"));
    c.is("ZREVRANK z", &arity("zrevrank"));
    c.is("ZADD z 1 a 2 b 3 c 3 d", &int(4));
    c.is("ZCARD z", &int(4));
    c.is("ZCARD nokey", &int(0));
    c.is("ZSCORE z c", &dbl("3"));
    c.is("ZSCORE z x", NIL);
    c.is("ZSCORE nokey x", NIL);
    c.is("ZMSCORE z a x d", &arr(&[dbl("1"), NIL.into(), dbl("3")]));
    c.is("ZMSCORE nokey a b", &arr(&[NIL.into(), NIL.into()]));
    c.is("ZRANK z a", &int(0));
    c.is("ZRANK z d", &int(3));
    c.is("ZREVRANK z a", &int(3));
    c.is("ZREVRANK z d", &int(0));
    c.is("ZRANK z x", NIL);
    c.is("ZRANK nokey x", NIL);
    c.is("ZREVRANK nokey x", NIL);
    c.is("ZREM z a x a", &int(1));
    c.is("ZREM nokey a", &int(0));
    c.is("ZREM z b c d", &int(3));
    c.is("EXISTS z", &int(0));
    c.is("ZCARD z", &int(0));
    c.is("TYPE z", "+none\r\n");
}
per_shards!(rem_card_score_rank, super::check_rem_card_score_rank);

// --- ZRANGE and friends (zrangeGenericCommand) ------------------------------

fn check_range_by_rank(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("ZRANGE z 0", &arity("zrange"));
    c.is("ZREVRANGE z 0", &arity("zrevrange"));
    c.is("ZADD z 1 a 2 b 3 c 4 d", &int(4));
    c.is("ZRANGE z 0 -1", &bulks(&["a", "b", "c", "d"]));
    c.is("ZRANGE z 1 2", &bulks(&["b", "c"]));
    c.is("ZRANGE z -2 -1", &bulks(&["c", "d"]));
    c.is("ZRANGE z -100 100", &bulks(&["a", "b", "c", "d"]));
    c.is("ZRANGE z 2 1", EMPTY);
    c.is("ZRANGE z 4 10", EMPTY);
    c.is("ZRANGE z 0 -5", EMPTY);
    c.is("ZRANGE nokey 0 -1", EMPTY);
    c.is("ZRANGE z 0 0 WITHSCORES", &flat(&[("a", "1")]));
    c.is("ZRANGE z 0 1 REV", &bulks(&["d", "c"]));
    c.is(
        "ZRANGE z 0 -1 REV WITHSCORES",
        &flat(&[("d", "4"), ("c", "3"), ("b", "2"), ("a", "1")]),
    );
    c.is("ZREVRANGE z 0 1", &bulks(&["d", "c"]));
    c.is("ZREVRANGE z -1 -1 withscores", &flat(&[("a", "1")]));
    c.is("ZREVRANGE z 1 0", EMPTY);
    c.is("ZRANGE z x 1", NOT_INT);
    c.is("ZRANGE z 0 1.5", NOT_INT);
    c.is("ZRANGE nokey x 1", NOT_INT);
    // Option errors come before the indexes are parsed.
    c.is(
        "ZRANGE z 0 -1 LIMIT 0 1",
        &err("syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"),
    );
    c.is(
        "ZRANGE z x y LIMIT 0 1",
        &err("syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"),
    );
    // LIMIT x -1 is "no limit", so it passes with a rank range.
    c.is("ZRANGE z 0 0 LIMIT 5 -1", &bulks(&["a"]));
    c.is("ZRANGE z 0 -1 LIMIT x 1", NOT_INT);
    c.is("ZRANGE z 0 -1 LIMIT 0", SYNTAX);
    c.is("ZRANGE z 0 -1 FOO", SYNTAX);
    c.is("ZRANGE z 0 -1 REV REV", SYNTAX);
    c.is("ZRANGE z 0 -1 BYSCORE BYLEX", SYNTAX);
    c.is("ZREVRANGE z 0 -1 REV", SYNTAX);
    c.is("ZREVRANGE z 0 -1 BYSCORE", SYNTAX);
    c.is("ZRANGEBYSCORE z 0 1 BYSCORE", SYNTAX);
}
per_shards!(range_by_rank, super::check_range_by_rank);

fn check_range_by_score(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("ZRANGEBYSCORE z 0", &arity("zrangebyscore"));
    c.is("ZREVRANGEBYSCORE z 0", &arity("zrevrangebyscore"));
    c.is("ZADD z -inf ninf 1 a 2 b 2 b2 3 c 4 d +inf pinf", &int(7));
    c.is("ZRANGEBYSCORE z 2 3", &bulks(&["b", "b2", "c"]));
    c.is("ZRANGEBYSCORE z (2 3", &bulks(&["c"]));
    c.is("ZRANGEBYSCORE z 2 (3", &bulks(&["b", "b2"]));
    c.is("ZRANGEBYSCORE z (2 (3", EMPTY);
    c.is("ZRANGEBYSCORE z (2 (2", EMPTY);
    c.is("ZRANGEBYSCORE z 2 2", &bulks(&["b", "b2"]));
    c.is("ZRANGEBYSCORE z 3 2", EMPTY);
    c.is(
        "ZRANGEBYSCORE z -inf +inf",
        &bulks(&["ninf", "a", "b", "b2", "c", "d", "pinf"]),
    );
    c.is(
        "ZRANGEBYSCORE z (-inf (+inf",
        &bulks(&["a", "b", "b2", "c", "d"]),
    );
    c.is(
        "ZRANGEBYSCORE z -inf 1 WITHSCORES",
        &flat(&[("ninf", "-inf"), ("a", "1")]),
    );
    c.is("ZRANGEBYSCORE z 1 3 LIMIT 1 2", &bulks(&["b", "b2"]));
    c.is("ZRANGEBYSCORE z 1 3 LIMIT 1 -1", &bulks(&["b", "b2", "c"]));
    c.is("ZRANGEBYSCORE z 1 3 LIMIT 0 0", EMPTY);
    c.is("ZRANGEBYSCORE z 1 3 LIMIT -1 2", EMPTY);
    c.is("ZRANGEBYSCORE z 1 3 LIMIT 4 2", EMPTY);
    c.is("ZRANGEBYSCORE z 1 3 LIMIT 100 2", EMPTY);
    c.is(
        "ZRANGEBYSCORE z 1 3 WITHSCORES LIMIT 1 1",
        &flat(&[("b", "2")]),
    );
    c.is("ZRANGEBYSCORE z 1 3 LIMIT 1 1 LIMIT 0 1", &bulks(&["a"]));
    c.is("ZREVRANGEBYSCORE z 3 1", &bulks(&["c", "b2", "b", "a"]));
    c.is("ZREVRANGEBYSCORE z (3 1 LIMIT 1 5", &bulks(&["b", "a"]));
    c.is("ZREVRANGEBYSCORE z 1 3", EMPTY);
    c.is(
        "ZREVRANGEBYSCORE z +inf (4 WITHSCORES",
        &flat(&[("pinf", "inf")]),
    );
    c.is("ZRANGE z 1 3 BYSCORE", &bulks(&["a", "b", "b2", "c"]));
    c.is("ZRANGE z 3 1 BYSCORE REV LIMIT 0 2", &bulks(&["c", "b2"]));
    c.is("ZRANGE z (1 3 BYSCORE REV", EMPTY);
    c.is("ZRANGE z 0 (2 BYSCORE WITHSCORES", &flat(&[("a", "1")]));
    // strtod's leniency for range ends: empty is 0, leading blanks, hex,
    // overflow to inf (zslParseRange); NaN and trailing bytes are errors.
    c.is("ZRANGEBYSCORE z ( 1", &bulks(&["a"]));
    c.bis(&[b"ZRANGEBYSCORE", b"z", b"", b"1"], &bulks(&["a"]));
    c.bis(&[b"ZRANGEBYSCORE", b"z", b" 1", b"\t1"], &bulks(&["a"]));
    c.bis(
        &[b"ZRANGEBYSCORE", b"z", b"0x1", b"2\0junk"],
        &bulks(&["a", "b", "b2"]),
    );
    c.is("ZRANGEBYSCORE z 4 1e999", &bulks(&["d", "pinf"]));
    c.is("ZRANGEBYSCORE z nan 1", NOT_RANGE_FLOAT);
    c.is("ZRANGEBYSCORE z 1 (nan", NOT_RANGE_FLOAT);
    c.is("ZRANGEBYSCORE z a 1", NOT_RANGE_FLOAT);
    c.is("ZRANGEBYSCORE z ((1 2", NOT_RANGE_FLOAT);
    c.bis(&[b"ZRANGEBYSCORE", b"z", b"1 ", b"2"], NOT_RANGE_FLOAT);
    c.bis(&[b"ZRANGEBYSCORE", b"z", b"  ", b"2"], NOT_RANGE_FLOAT);
    c.is("ZRANGEBYSCORE nokey a b", NOT_RANGE_FLOAT);
    c.is("ZRANGEBYSCORE nokey 1 2", EMPTY);
    c.is("ZRANGEBYSCORE z 1 2 LIMIT 0 x", NOT_INT);
    c.is("ZRANGEBYSCORE z 1 2 LIMIT 0", SYNTAX);
    c.is("ZRANGEBYSCORE z 1 2 WITHSCORES x", SYNTAX);
}
per_shards!(range_by_score, super::check_range_by_score);

fn check_range_by_lex(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("ZRANGEBYLEX z -", &arity("zrangebylex"));
    c.is("ZREVRANGEBYLEX z -", &arity("zrevrangebylex"));
    c.is("ZLEXCOUNT z -", &arity("zlexcount"));
    c.is("ZADD z 0 a 0 b 0 c 0 d 0 e 0 ee", &int(6));
    c.is(
        "ZRANGEBYLEX z - +",
        &bulks(&["a", "b", "c", "d", "e", "ee"]),
    );
    c.is("ZRANGEBYLEX z + -", EMPTY);
    c.is("ZRANGEBYLEX z - -", EMPTY);
    c.is("ZRANGEBYLEX z + +", EMPTY);
    c.is("ZRANGEBYLEX z [b (d", &bulks(&["b", "c"]));
    c.is("ZRANGEBYLEX z (b [d", &bulks(&["c", "d"]));
    c.is("ZRANGEBYLEX z [e +", &bulks(&["e", "ee"]));
    c.is("ZRANGEBYLEX z (e +", &bulks(&["ee"]));
    c.is("ZRANGEBYLEX z [c [c", &bulks(&["c"]));
    c.is("ZRANGEBYLEX z (c [c", EMPTY);
    c.is("ZRANGEBYLEX z [d [b", EMPTY);
    c.is("ZRANGEBYLEX z [ (b", &bulks(&["a"]));
    c.is("ZRANGEBYLEX z - + LIMIT 1 2", &bulks(&["b", "c"]));
    c.is("ZRANGEBYLEX z - + LIMIT 5 10", &bulks(&["ee"]));
    c.is("ZRANGEBYLEX z - + LIMIT -1 1", EMPTY);
    c.is(
        "ZRANGEBYLEX z - + LIMIT 0 -1",
        &bulks(&["a", "b", "c", "d", "e", "ee"]),
    );
    c.is(
        "ZREVRANGEBYLEX z + -",
        &bulks(&["ee", "e", "d", "c", "b", "a"]),
    );
    c.is("ZREVRANGEBYLEX z [d (a LIMIT 1 2", &bulks(&["c", "b"]));
    c.is("ZRANGE z [d (a BYLEX REV", &bulks(&["d", "c", "b"]));
    c.is("ZRANGE z - [b BYLEX", &bulks(&["a", "b"]));
    c.is("ZRANGE z - + BYLEX LIMIT 2 1", &bulks(&["c"]));
    c.is("ZLEXCOUNT z - +", &int(6));
    c.is("ZLEXCOUNT z (a [c", &int(2));
    c.is("ZLEXCOUNT z [x +", &int(0));
    c.is("ZLEXCOUNT nokey - +", &int(0));
    for bad in ["a +", "- b", "+a +", "- -x", "'' +"] {
        c.is(&format!("ZRANGEBYLEX z {bad}"), NOT_LEX);
        c.is(&format!("ZLEXCOUNT z {bad}"), NOT_LEX);
    }
    c.bis(&[b"ZRANGEBYLEX", b"z", b"", b"+"], NOT_LEX);
    c.is("ZRANGEBYLEX nokey a b", NOT_LEX);
    let ws = err("syntax error, WITHSCORES not supported in combination with BYLEX");
    c.is("ZRANGEBYLEX z - + WITHSCORES", &ws);
    c.is("ZRANGE z - + BYLEX WITHSCORES", &ws);
    c.is("ZRANGEBYLEX z - + LIMIT 0", SYNTAX);
    // Mixed scores: a listpack is walked as Redis walks it (first member at
    // or above min, then on while at or below max), b(1) a(2) c(3).
    c.is("ZADD m 1 b 2 a 3 c", &int(3));
    c.is("ZRANGEBYLEX m [a [b", &bulks(&["b", "a"]));
    c.is("ZRANGEBYLEX m [b [c", &bulks(&["b", "a", "c"]));
    c.is("ZRANGEBYLEX m (b +", &bulks(&["c"]));
    c.is("ZLEXCOUNT m [a [b", &int(2));
    c.is("ZREVRANGEBYLEX m [c [a", &bulks(&["c", "a", "b"]));
    c.is("ZREVRANGEBYLEX m [b -", &bulks(&["a", "b"]));
    c.is("ZREMRANGEBYLEX m [a [b", &int(2));
    c.is("ZRANGE m 0 -1", &bulks(&["c"]));
}
per_shards!(range_by_lex, super::check_range_by_lex);

fn check_zcount(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("ZCOUNT z 0", &arity("zcount"));
    c.is("ZADD z 1 a 2 b 3 c 4 d", &int(4));
    c.is("ZCOUNT z -inf +inf", &int(4));
    c.is("ZCOUNT z 2 3", &int(2));
    c.is("ZCOUNT z (2 3", &int(1));
    c.is("ZCOUNT z (2 (3", &int(0));
    c.is("ZCOUNT z 3 2", &int(0));
    c.is("ZCOUNT z 5 +inf", &int(0));
    c.is("ZCOUNT z x 1", NOT_RANGE_FLOAT);
    c.is("ZCOUNT nokey x 1", NOT_RANGE_FLOAT);
    c.is("ZCOUNT nokey 0 1", &int(0));
}
per_shards!(zcount, super::check_zcount);

fn check_rangestore(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("ZRANGESTORE d a 0", &arity("zrangestore"));
    c.is("ZADD a 1 x 2 y 3 z", &int(3));
    c.is("ZRANGESTORE b a 0 1", &int(2));
    c.is("ZRANGE b 0 -1 WITHSCORES", &flat(&[("x", "1"), ("y", "2")]));
    c.is("OBJECT ENCODING b", &bulk("listpack"));
    c.is("ZRANGESTORE b a 3 2 BYSCORE REV", &int(2));
    c.is("ZRANGE b 0 -1 WITHSCORES", &flat(&[("y", "2"), ("z", "3")]));
    // BYLEX on mixed scores walks from the first member at or above min.
    c.is("ZRANGESTORE b a [y + BYLEX", &int(2));
    c.is("ZRANGE b 0 -1 WITHSCORES", &flat(&[("y", "2"), ("z", "3")]));
    c.is("ZADD lex 0 p 0 q 0 r", &int(3));
    c.is("ZRANGESTORE b lex (p + BYLEX LIMIT 0 1", &int(1));
    c.is("ZRANGE b 0 -1 WITHSCORES", &flat(&[("q", "0")]));
    // An empty result deletes the destination; so does a missing source.
    c.is("ZRANGESTORE b a 5 10", &int(0));
    c.is("EXISTS b", &int(0));
    c.is("SET b str", OK);
    c.is("EXPIRE b 100", &int(1));
    c.is("ZRANGESTORE b a 0 0", &int(1));
    c.is("TYPE b", "+zset\r\n");
    c.is("TTL b", &int(-1));
    c.is("SET b str", OK);
    c.is("ZRANGESTORE b nokey 0 -1", &int(0));
    c.is("EXISTS b", &int(0));
    // The destination's type does not matter; the source's does.
    c.is("SET s str", OK);
    c.is("ZRANGESTORE b s 0 -1", WRONGTYPE);
    c.is("ZRANGESTORE s a 0 -1", &int(3));
    c.is("ZRANGESTORE b a 0 -1 WITHSCORES", SYNTAX);
    c.is(
        "ZRANGESTORE b a 0 -1 LIMIT 0 1",
        &err("syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"),
    );
    // Storing into the source itself.
    c.is("ZRANGESTORE a a 1 -1", &int(2));
    c.is("ZRANGE a 0 -1", &bulks(&["y", "z"]));
}
per_shards!(rangestore, super::check_rangestore);

// --- ZREMRANGEBY* (zremrangeGenericCommand) ---------------------------------

fn check_remrange(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("ZREMRANGEBYRANK z 0", &arity("zremrangebyrank"));
    c.is("ZREMRANGEBYSCORE z 0", &arity("zremrangebyscore"));
    c.is("ZREMRANGEBYLEX z 0", &arity("zremrangebylex"));
    c.is("ZADD z 1 a 2 b 3 c 4 d 5 e", &int(5));
    c.is("ZREMRANGEBYRANK z 1 2", &int(2));
    c.is("ZRANGE z 0 -1", &bulks(&["a", "d", "e"]));
    c.is("ZREMRANGEBYRANK z -1 -1", &int(1));
    c.is("ZREMRANGEBYRANK z 5 10", &int(0));
    c.is("ZREMRANGEBYRANK z 1 0", &int(0));
    c.is("ZREMRANGEBYRANK z x 0", NOT_INT);
    c.is("ZREMRANGEBYRANK nokey x 0", NOT_INT);
    c.is("ZREMRANGEBYRANK nokey 0 1", &int(0));
    c.is("ZREMRANGEBYRANK z -100 100", &int(2));
    c.is("EXISTS z", &int(0));

    c.is("ZADD z 1 a 2 b 3 c 4 d 5 e", &int(5));
    c.is("ZREMRANGEBYSCORE z (1 3", &int(2));
    c.is("ZRANGE z 0 -1", &bulks(&["a", "d", "e"]));
    c.is("ZREMRANGEBYSCORE z 10 +inf", &int(0));
    c.is("ZREMRANGEBYSCORE z 5 1", &int(0));
    c.is("ZREMRANGEBYSCORE z x 1", NOT_RANGE_FLOAT);
    c.is("ZREMRANGEBYSCORE nokey x 1", NOT_RANGE_FLOAT);
    c.is("ZREMRANGEBYSCORE nokey 0 1", &int(0));
    c.is("ZREMRANGEBYSCORE z -inf +inf", &int(3));
    c.is("EXISTS z", &int(0));

    c.is("ZADD z 0 a 0 b 0 c 0 d 0 e", &int(5));
    c.is("ZREMRANGEBYLEX z (a [c", &int(2));
    c.is("ZRANGE z 0 -1", &bulks(&["a", "d", "e"]));
    c.is("ZREMRANGEBYLEX z [x +", &int(0));
    c.is("ZREMRANGEBYLEX z + -", &int(0));
    c.is("ZREMRANGEBYLEX z x +", NOT_LEX);
    c.is("ZREMRANGEBYLEX nokey x +", NOT_LEX);
    c.is("ZREMRANGEBYLEX nokey - +", &int(0));
    c.is("ZREMRANGEBYLEX z - +", &int(3));
    c.is("EXISTS z", &int(0));
}
per_shards!(remrange, super::check_remrange);

// --- ZPOPMIN ZPOPMAX ZMPOP (genericZpopCommand, zmpopGenericCommand) --------

fn check_pops(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("ZPOPMIN", &arity("zpopmin"));
    c.is("ZPOPMAX", &arity("zpopmax"));
    c.is("ZADD z 1 a 2 b 3 c 4 d 5 e", &int(5));
    c.is("ZPOPMIN z", &flat(&[("a", "1")]));
    c.is("ZPOPMAX z", &flat(&[("e", "5")]));
    c.is("ZPOPMIN z 2", &flat(&[("b", "2"), ("c", "3")]));
    c.is("ZPOPMIN z 0", EMPTY);
    c.is("ZPOPMIN nokey", EMPTY);
    c.is("ZPOPMIN nokey 3", EMPTY);
    c.is("ZPOPMIN nokey 0", EMPTY);
    // The count is checked before the key; more than one is a syntax error.
    let positive = "-ERR value is out of range, must be positive\r\n";
    c.is("ZPOPMIN z -1", positive);
    c.is("ZPOPMIN z x", positive);
    c.is("ZPOPMIN nokey x", positive);
    c.is("ZPOPMIN z 1 2", SYNTAX);
    c.is("ZPOPMAX z 10", &flat(&[("d", "4")]));
    c.is("EXISTS z", &int(0));

    c.is("ZMPOP 1", &arity("zmpop"));
    c.is("ZMPOP 1 a", &arity("zmpop"));
    c.is("ZADD a 1 x 2 y 3 z", &int(3));
    c.is("ZADD b 10 p", &int(1));
    c.is(
        "ZMPOP 2 nokey a MIN",
        &arr(&[bulk("a"), arr(&[arr(&[bulk("x"), dbl("1")])])]),
    );
    c.is(
        "ZMPOP 2 a b max COUNT 5",
        &arr(&[
            bulk("a"),
            arr(&[arr(&[bulk("z"), dbl("3")]), arr(&[bulk("y"), dbl("2")])]),
        ]),
    );
    c.is("EXISTS a", &int(0));
    c.is(
        "ZMPOP 2 a b MIN",
        &arr(&[bulk("b"), arr(&[arr(&[bulk("p"), dbl("10")])])]),
    );
    c.is("ZMPOP 2 a b MIN", NIL_ARRAY);
    // A key of another type before the first set is an error, after it not.
    c.is("SET s str", OK);
    c.is("ZADD c 1 m1 2 m2", &int(2));
    c.is("ZMPOP 2 s c MIN", WRONGTYPE);
    c.is("ZMPOP 2 nokey s MIN", WRONGTYPE);
    c.is(
        "ZMPOP 2 c s MIN",
        &arr(&[bulk("c"), arr(&[arr(&[bulk("m1"), dbl("1")])])]),
    );
    let numkeys = err("numkeys should be greater than 0");
    c.is("ZMPOP 0 c MIN", &numkeys);
    c.is("ZMPOP -1 c MIN", &numkeys);
    c.is("ZMPOP x c MIN", &numkeys);
    c.is("ZMPOP 3 c d MIN", SYNTAX);
    c.is("ZMPOP 1 c MIDDLE", SYNTAX);
    c.is("ZMPOP 1 c MIN COUNT", SYNTAX);
    c.is("ZMPOP 1 c MIN FOO 1", SYNTAX);
    c.is("ZMPOP 1 c MIN COUNT 1 COUNT 1", SYNTAX);
    let count = err("count should be greater than 0");
    c.is("ZMPOP 1 c MIN COUNT 0", &count);
    c.is("ZMPOP 1 c MIN COUNT -1", &count);
    c.is("ZMPOP 1 c MIN COUNT x", &count);
    c.is("ZCARD c", &int(1));
}
per_shards!(pops, super::check_pops);

// --- ZRANDMEMBER (zrandmemberCommand) ----------------------------------------

fn check_randmember(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("ZRANDMEMBER", &arity("zrandmember"));
    c.is("ZRANDMEMBER nokey", NIL);
    c.is("ZRANDMEMBER nokey 1", EMPTY);
    c.is("ZRANDMEMBER nokey -3 WITHSCORES", EMPTY);
    c.is("ZRANDMEMBER nokey x", NOT_INT);
    c.is("ZRANDMEMBER nokey 1 2", SYNTAX);
    c.is("ZADD z 1 a 2 b 3 c", &int(3));
    c.is("ZRANDMEMBER z 1 2 3", SYNTAX);
    c.is("ZRANDMEMBER z 1 foo", SYNTAX);
    c.is("ZRANDMEMBER z x y", NOT_INT);
    c.is(
        "ZRANDMEMBER z -9223372036854775808",
        &err("value is out of range, value must between -9223372036854775807 and 9223372036854775807"),
    );
    c.is(
        "ZRANDMEMBER z 9223372036854775807 WITHSCORES",
        &err("value is out of range"),
    );
    c.is(
        "ZRANDMEMBER z -9223372036854775807 WITHSCORES",
        &err("value is out of range"),
    );
    c.is("ZRANDMEMBER z 0", EMPTY);
    c.is("ZRANDMEMBER z 0 WITHSCORES", EMPTY);
    // Count at least the size: the whole set, highest first.
    c.is(
        "ZRANDMEMBER z 3 WITHSCORES",
        &flat(&[("c", "3"), ("b", "2"), ("a", "1")]),
    );
    c.is("ZRANDMEMBER z 100", &bulks(&["c", "b", "a"]));
    let one = c.q("ZRANDMEMBER z");
    assert!(["a", "b", "c"].iter().any(|m| one == bulk(m)), "{one:?}");
    // Fewer than the size: distinct members.
    for _ in 0..20 {
        let got = c.sorted_list("ZRANDMEMBER z 2");
        assert_eq!(got.len(), 2);
        assert_ne!(got[0], got[1]);
        assert!(got.iter().all(|m| ["a", "b", "c"].contains(&m.as_str())));
    }
    // Negative: that many, repeats allowed, every member eventually.
    let got = c.sorted_list("ZRANDMEMBER z -300");
    assert_eq!(got.len(), 300);
    for m in ["a", "b", "c"] {
        assert!(got.iter().any(|g| g == m), "{m} never drawn");
    }
    let got = c.q("ZRANDMEMBER z -2 WITHSCORES");
    assert!(got.starts_with("*4\r\n"), "{got:?}");
    // A big set (skiplist): distinct members, within the set.
    let mut con = server.client();
    let members: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
    let mut cmd = redis::cmd("ZADD");
    cmd.arg("big");
    for (i, m) in members.iter().enumerate() {
        cmd.arg(i).arg(m);
    }
    let added: i64 = cmd.query(&mut con).expect("ZADD");
    assert_eq!(added, 300);
    let got: Vec<String> = redis::cmd("ZRANDMEMBER")
        .arg("big")
        .arg(400)
        .query(&mut con)
        .expect("ZRANDMEMBER");
    let mut rev = members.clone();
    rev.reverse();
    assert_eq!(got, rev, "the whole skiplist, highest first");
    let got: Vec<String> = redis::cmd("ZRANDMEMBER")
        .arg("big")
        .arg(250)
        .query(&mut con)
        .expect("ZRANDMEMBER");
    let distinct: std::collections::BTreeSet<&String> = got.iter().collect();
    assert_eq!((got.len(), distinct.len()), (250, 250));
    assert!(got.iter().all(|m| members.contains(m)));
    let got: Vec<String> = redis::cmd("ZRANDMEMBER")
        .arg("big")
        .arg(5)
        .query(&mut con)
        .expect("ZRANDMEMBER");
    let distinct: std::collections::BTreeSet<&String> = got.iter().collect();
    assert_eq!(distinct.len(), 5);
}
per_shards!(randmember, super::check_randmember);

// --- ZUNION ZINTER ZDIFF, STORE forms, ZINTERCARD ---------------------------

fn check_setops(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    for cmd in ["zunion", "zinter", "zdiff", "zintercard"] {
        c.is(&format!("{cmd} 1"), &arity(cmd));
    }
    for cmd in ["zunionstore", "zinterstore", "zdiffstore"] {
        c.is(&format!("{cmd} d 1"), &arity(cmd));
    }
    c.is("ZADD a 1 x 2 y 3 z", &int(3));
    c.is("ZADD b 10 y 20 z 30 w", &int(3));
    c.is("ZUNION 2 a b", &bulks(&["x", "y", "z", "w"]));
    c.is(
        "ZUNION 2 a b WITHSCORES",
        &flat(&[("x", "1"), ("y", "12"), ("z", "23"), ("w", "30")]),
    );
    c.is(
        "ZUNION 2 a b WEIGHTS 2 -1 WITHSCORES",
        &flat(&[("w", "-30"), ("z", "-14"), ("y", "-6"), ("x", "2")]),
    );
    c.is(
        "ZUNION 2 a b AGGREGATE MIN WITHSCORES",
        &flat(&[("x", "1"), ("y", "2"), ("z", "3"), ("w", "30")]),
    );
    c.is(
        "ZUNION 2 a b aggregate max withscores",
        &flat(&[("x", "1"), ("y", "10"), ("z", "20"), ("w", "30")]),
    );
    c.is(
        "ZINTER 2 a b WITHSCORES",
        &flat(&[("y", "12"), ("z", "23")]),
    );
    c.is(
        "ZINTER 2 a b WEIGHTS 1 0.5 AGGREGATE MAX WITHSCORES",
        &flat(&[("y", "5"), ("z", "10")]),
    );
    c.is("ZINTER 3 a b nokey", EMPTY);
    c.is(
        "ZINTER 2 a a WITHSCORES",
        &flat(&[("x", "2"), ("y", "4"), ("z", "6")]),
    );
    c.is("ZDIFF 2 a b WITHSCORES", &flat(&[("x", "1")]));
    c.is("ZDIFF 2 b a", &bulks(&["w"]));
    c.is("ZDIFF 1 a", &bulks(&["x", "y", "z"]));
    c.is("ZDIFF 2 nokey a", EMPTY);
    c.is("ZDIFF 2 a nokey", &bulks(&["x", "y", "z"]));
    c.is("ZUNION 2 nokey nokey2", EMPTY);
    c.is("ZINTERCARD 2 a b", &int(2));
    c.is("ZINTERCARD 2 a b LIMIT 1", &int(1));
    c.is("ZINTERCARD 2 a b LIMIT 0", &int(2));
    c.is("ZINTERCARD 1 a LIMIT 10", &int(3));
    c.is("ZINTERCARD 2 a nokey", &int(0));
    // inf * 0 is 0, inf + -inf is 0 (zunionInterAggregate).
    c.is("ZADD i1 inf m 1 n", &int(2));
    c.is("ZADD i2 -inf m 2 n", &int(2));
    c.is(
        "ZUNION 2 i1 i2 WITHSCORES",
        &flat(&[("m", "0"), ("n", "3")]),
    );
    c.is(
        "ZINTER 2 i1 i2 WITHSCORES",
        &flat(&[("m", "0"), ("n", "3")]),
    );
    c.is(
        "ZUNION 1 i1 WEIGHTS 0 WITHSCORES",
        &flat(&[("m", "0"), ("n", "0")]),
    );
    c.is(
        "ZUNION 2 i1 i2 AGGREGATE MIN WITHSCORES",
        &flat(&[("m", "-inf"), ("n", "1")]),
    );
    // STORE forms: size of the result; an empty one deletes the destination.
    c.is("ZUNIONSTORE d 2 a b", &int(4));
    c.is(
        "ZRANGE d 0 -1 WITHSCORES",
        &flat(&[("x", "1"), ("y", "12"), ("z", "23"), ("w", "30")]),
    );
    c.is("ZINTERSTORE d 2 a b AGGREGATE MIN", &int(2));
    c.is("ZRANGE d 0 -1 WITHSCORES", &flat(&[("y", "2"), ("z", "3")]));
    c.is("ZDIFFSTORE d 2 b a", &int(1));
    c.is("ZRANGE d 0 -1 WITHSCORES", &flat(&[("w", "30")]));
    c.is("ZINTERSTORE d 2 a nokey", &int(0));
    c.is("EXISTS d", &int(0));
    c.is("SET d str", OK);
    c.is("EXPIRE d 100", &int(1));
    c.is("ZUNIONSTORE d 1 a", &int(3));
    c.is("TTL d", &int(-1));
    c.is("ZDIFFSTORE d 2 a a", &int(0));
    c.is("EXISTS d", &int(0));
    // The destination may be an input.
    c.is("ZUNIONSTORE a 2 a b WEIGHTS 1 0", &int(4));
    c.is(
        "ZRANGE a 0 -1 WITHSCORES",
        &flat(&[("w", "0"), ("x", "1"), ("y", "2"), ("z", "3")]),
    );
    // Errors: numkeys, then key types, then options.
    for (cmd, dst) in [("zunion", ""), ("zunionstore", "d "), ("zintercard", "")] {
        let up = cmd.to_uppercase();
        let at_least = err(&format!(
            "at least 1 input key is needed for '{cmd}' command"
        ));
        c.is(&format!("{up} {dst}0 a"), &at_least);
        c.is(&format!("{up} {dst}-1 a"), &at_least);
        c.is(&format!("{up} {dst}x a"), NOT_INT);
        c.is(&format!("{up} {dst}3 a b"), SYNTAX);
    }
    c.is(
        "ZINTER 0 a",
        &err("at least 1 input key is needed for 'zinter' command"),
    );
    c.is(
        "ZDIFFSTORE d 0 a",
        &err("at least 1 input key is needed for 'zdiffstore' command"),
    );
    c.is("SET s str", OK);
    c.is("ZUNION 2 a s", WRONGTYPE);
    c.is("ZUNION 2 a s WEIGHTS x", WRONGTYPE);
    c.is("ZUNIONSTORE d 2 s a FOO", WRONGTYPE);
    c.is("ZINTERCARD 2 nokey s", WRONGTYPE);
    c.is("ZUNIONSTORE s 1 a", &int(4));
    c.is("ZUNION 2 a b WEIGHTS 1", SYNTAX);
    c.is(
        "ZUNION 2 a b WEIGHTS 1 x",
        &err("weight value is not a float"),
    );
    c.is(
        "ZUNION 2 a b WEIGHTS 1 nan",
        &err("weight value is not a float"),
    );
    c.is("ZUNION 2 a b WEIGHTS 1 2 3", SYNTAX);
    c.is("ZUNION 2 a b AGGREGATE AVG", SYNTAX);
    c.is("ZUNION 2 a b AGGREGATE", SYNTAX);
    c.is("ZUNION 2 a b FOO", SYNTAX);
    c.is(
        "ZUNION 1 a WITHSCORES WITHSCORES",
        &bulks(&["w", "0", "x", "1", "y", "2", "z", "3"]),
    );
    c.is("ZUNIONSTORE d 1 a WITHSCORES", SYNTAX);
    c.is("ZDIFF 1 a WEIGHTS 1", SYNTAX);
    c.is("ZDIFF 1 a AGGREGATE SUM", SYNTAX);
    c.is("ZINTERCARD 1 a WITHSCORES", SYNTAX);
    c.is("ZINTERCARD 1 a WEIGHTS 1", SYNTAX);
    c.is("ZINTERCARD 1 a LIMIT", SYNTAX);
    c.is("ZINTERCARD 1 a LIMIT -1", &err("LIMIT can't be negative"));
    c.is("ZINTERCARD 1 a LIMIT x", &err("LIMIT can't be negative"));
}
per_shards!(setops, super::check_setops);

/// Plain sets as inputs score 1 (`zuiNext` on a set).
fn check_setops_with_sets(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("SADD s x y q", &int(3));
    c.is("ZADD a 5 x 7 y 9 z", &int(3));
    c.is(
        "ZUNION 2 a s WITHSCORES",
        &flat(&[("q", "1"), ("x", "6"), ("y", "8"), ("z", "9")]),
    );
    c.is("ZINTER 2 s a WITHSCORES", &flat(&[("x", "6"), ("y", "8")]));
    c.is(
        "ZINTER 2 s a WEIGHTS 3 1 WITHSCORES",
        &flat(&[("x", "8"), ("y", "10")]),
    );
    c.is("ZDIFF 2 s a WITHSCORES", &flat(&[("q", "1")]));
    c.is("ZDIFF 2 a s", &bulks(&["z"]));
    c.is("ZINTERCARD 2 a s", &int(2));
    c.is("ZUNIONSTORE d 1 s", &int(3));
    c.is(
        "ZRANGE d 0 -1 WITHSCORES",
        &flat(&[("q", "1"), ("x", "1"), ("y", "1")]),
    );
}
per_shards!(setops_with_sets, super::check_setops_with_sets);

// --- ZSCAN -----------------------------------------------------------------

fn check_zscan(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("ZSCAN z", &arity("zscan"));
    c.is("ZSCAN nokey 0", &arr(&[bulk("0"), EMPTY.into()]));
    c.is("ZSCAN nokey x", &err("invalid cursor"));
    // Options are only looked at for an existing key.
    c.is("ZSCAN nokey 0 COUNT 0", &arr(&[bulk("0"), EMPTY.into()]));
    c.is("ZADD z 1 a 2.5 b 0.1 c", &int(3));
    // A listpack answers whole (COUNT is ignored), scores as bulk strings.
    c.is(
        "ZSCAN z 0 COUNT 1",
        &arr(&[
            bulk("0"),
            bulks(&["c", "0.10000000000000001", "a", "1", "b", "2.5"]),
        ]),
    );
    c.is(
        "ZSCAN z 0 MATCH [ab]",
        &arr(&[bulk("0"), bulks(&["a", "1", "b", "2.5"])]),
    );
    c.is("ZSCAN z 0 COUNT 0", SYNTAX);
    c.is("ZSCAN z 0 FOO bar", SYNTAX);
    c.is("ZSCAN z 0 COUNT", SYNTAX);
    c.is("SET s v", OK);
    c.is("ZSCAN s 0", WRONGTYPE);
    // A skiplist: every member exactly once over the cursor walk.
    let mut con = server.client();
    let mut cmd = redis::cmd("ZADD");
    cmd.arg("big");
    for i in 0..500 {
        cmd.arg(i).arg(format!("m{i}"));
    }
    let _: i64 = cmd.query(&mut con).expect("ZADD");
    let mut seen = BTreeMap::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let (next, items): (String, Vec<String>) = redis::cmd("ZSCAN")
            .arg("big")
            .arg(&cursor)
            .arg("COUNT")
            .arg(20)
            .query(&mut con)
            .expect("ZSCAN");
        for pair in items.chunks(2) {
            let want = pair[0].trim_start_matches('m').to_string();
            assert_eq!(pair[1], want, "score of {}", pair[0]);
            *seen.entry(pair[0].clone()).or_insert(0) += 1;
        }
        calls += 1;
        cursor = next;
        if cursor == "0" || calls > 1000 {
            break;
        }
    }
    assert_eq!(cursor, "0");
    assert!(calls > 5, "a skiplist is scanned in steps ({calls} calls)");
    assert_eq!(seen.len(), 500);
    assert!(seen.values().all(|&n| n == 1) || !common::testing_tessera());
    let (_, items): (String, Vec<String>) = redis::cmd("ZSCAN")
        .arg("big")
        .arg(0)
        .arg("MATCH")
        .arg("m4?9")
        .arg("COUNT")
        .arg(1000)
        .query(&mut con)
        .expect("ZSCAN");
    let mut got: Vec<&String> = items.iter().step_by(2).collect();
    got.sort();
    let want: Vec<String> = (0..10).map(|d| format!("m4{d}9")).collect();
    assert_eq!(got, want.iter().collect::<Vec<_>>());
}
per_shards!(zscan, super::check_zscan);

// --- encodings (zsetAdd, zsetConvertToListpackIfNeeded) ---------------------

/// `ZADD key 1 m0 1 m1 …` with `n` members named `<prefix><i>`.
fn zadd_n(c: &mut Client, key: &str, prefix: &str, n: usize) -> String {
    let mut line = format!("ZADD {key}");
    for i in 0..n {
        line.push_str(&format!(" {i} {prefix}{i}"));
    }
    c.q(&line)
}

fn check_encodings(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is(
        "CONFIG GET zset-max-listpack-entries",
        &bulks(&["zset-max-listpack-entries", "128"]),
    );
    // 128 members stay a listpack; the 129th converts.
    assert_eq!(zadd_n(&mut c, "z", "m", 128), int(128));
    c.is("OBJECT ENCODING z", &bulk("listpack"));
    c.is("ZADD z 0 m0", &int(0));
    c.is("OBJECT ENCODING z", &bulk("listpack"));
    c.is("ZADD z 1 one-more", &int(1));
    c.is("OBJECT ENCODING z", &bulk("skiplist"));
    // Never back, even when small again.
    c.is("ZREMRANGEBYRANK z 0 -3", &int(127));
    c.is("OBJECT ENCODING z", &bulk("skiplist"));
    c.is("ZRANGE z 0 -1", &bulks(&["m126", "m127"]));
    // A member of 64 bytes fits, 65 does not.
    let m64 = "x".repeat(64);
    let m65 = "y".repeat(65);
    c.is(&format!("ZADD v 1 {m64}"), &int(1));
    c.is("OBJECT ENCODING v", &bulk("listpack"));
    c.is(&format!("ZADD v 2 {m65}"), &int(1));
    c.is("OBJECT ENCODING v", &bulk("skiplist"));
    // A new key is created for its first member only (Redis 7.0 has no size
    // hint): 129 repeats of one member stay a listpack, a long first member
    // makes a skiplist at once.
    let mut line = "ZADD rep".to_string();
    for _ in 0..129 {
        line.push_str(" 1 a");
    }
    c.is(&line, &int(1));
    c.is("OBJECT ENCODING rep", &bulk("listpack"));
    c.is(&format!("ZADD long1 1 {m65} 2 a"), &int(2));
    c.is("OBJECT ENCODING long1", &bulk("skiplist"));
    c.is(&format!("ZINCRBY long2 1 {m65}"), &dbl("1"));
    c.is("OBJECT ENCODING long2", &bulk("skiplist"));
    c.is(&format!("ZADD long3 1 a 2 {m65}"), &int(2));
    c.is("OBJECT ENCODING long3", &bulk("skiplist"));
    // CONFIG SET applies to the next add; existing sets are left alone
    // until then, and re-scoring an existing member never converts.
    c.is("ZADD small 1 a 2 b 3 c", &int(3));
    c.is("CONFIG SET zset-max-listpack-entries 2", OK);
    c.is("OBJECT ENCODING small", &bulk("listpack"));
    c.is("ZADD small 5 a", &int(0));
    c.is("OBJECT ENCODING small", &bulk("listpack"));
    c.is("ZADD small 4 d", &int(1));
    c.is("OBJECT ENCODING small", &bulk("skiplist"));
    c.is("ZADD two 1 a 2 b", &int(2));
    c.is("OBJECT ENCODING two", &bulk("listpack"));
    c.is("CONFIG SET zset-max-ziplist-value 3", OK);
    c.is(
        "CONFIG GET zset-max-listpack-value",
        &bulks(&["zset-max-listpack-value", "3"]),
    );
    c.is("ZADD val 1 abc", &int(1));
    c.is("OBJECT ENCODING val", &bulk("listpack"));
    c.is("ZADD val 1 abcd", &int(1));
    c.is("OBJECT ENCODING val", &bulk("skiplist"));
    c.is("CONFIG SET zset-max-listpack-entries 0", OK);
    c.is("ZADD zero 1 a", &int(1));
    c.is("OBJECT ENCODING zero", &bulk("skiplist"));
    c.is("CONFIG SET zset-max-listpack-entries 128", OK);
    c.is("CONFIG SET zset-max-listpack-value 64", OK);
    // Store results take the encoding their contents call for, even from
    // skiplist inputs.
    c.is("ZUNIONSTORE d1 1 z", &int(2));
    c.is("OBJECT ENCODING d1", &bulk("listpack"));
    c.is("ZRANGESTORE d2 z 0 0", &int(1));
    c.is("OBJECT ENCODING d2", &bulk("listpack"));
    c.is("ZDIFFSTORE d3 1 v", &int(2));
    c.is("OBJECT ENCODING d3", &bulk("skiplist"));
    c.is("ZINTERSTORE d4 2 v v", &int(2));
    c.is("OBJECT ENCODING d4", &bulk("skiplist"));
    assert_eq!(zadd_n(&mut c, "big", "m", 200), int(200));
    c.is("ZUNIONSTORE d5 1 big", &int(200));
    c.is("OBJECT ENCODING d5", &bulk("skiplist"));
    c.is("ZRANGESTORE d6 big 0 127", &int(128));
    c.is("OBJECT ENCODING d6", &bulk("listpack"));
    c.is("ZRANGESTORE d7 big 0 128", &int(129));
    c.is("OBJECT ENCODING d7", &bulk("skiplist"));
    c.is("ZRANGESTORE d8 big (10 +inf BYSCORE LIMIT 0 5", &int(5));
    c.is("OBJECT ENCODING d8", &bulk("listpack"));
    // MEMORY USAGE of a small listpack is exact (key + robj + listpack).
    c.is("ZADD mem 1 a 2 b 3 c", &int(3));
    c.int_in("MEMORY USAGE mem", 80..=80);
    c.is("ZADD memf 0.1 a 1e20 b", &int(2));
    c.int_in("MEMORY USAGE memf", 96..=96);
    c.int_in("MEMORY USAGE big", 15_000..=28_000);
}
per_shards!(encodings, super::check_encodings);

/// A set past the listpack limits (a skiplist), where equal scores still
/// order by member: ranks, ranges and removals against a model.
fn check_big_skiplist(shards: usize) {
    let server = Server::start(shards);
    let mut con = server.client();
    // 1000 members, scores 0..99 ten times over.
    let mut model: Vec<(f64, String)> = (0..1000)
        .map(|i| (f64::from(i % 100), format!("m{i:04}")))
        .collect();
    let mut cmd = redis::cmd("ZADD");
    cmd.arg("big");
    for (s, m) in model.iter().rev() {
        cmd.arg(*s).arg(m);
    }
    let n: i64 = cmd.query(&mut con).expect("ZADD");
    assert_eq!(n, 1000);
    model.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let q = |con: &mut redis::Connection, args: &[&str]| -> redis::Value {
        let mut c = redis::cmd(args[0]);
        for a in &args[1..] {
            c.arg(*a);
        }
        c.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    };
    let strs = |v: redis::Value| -> Vec<String> { redis::from_redis_value(&v).expect("strings") };
    let enc: String =
        redis::from_redis_value(&q(&mut con, &["OBJECT", "ENCODING", "big"])).unwrap();
    assert_eq!(enc, "skiplist");
    for probe in [0usize, 1, 9, 10, 499, 998, 999] {
        let m = &model[probe].1;
        let r: i64 = redis::from_redis_value(&q(&mut con, &["ZRANK", "big", m])).unwrap();
        assert_eq!(r as usize, probe, "ZRANK {m}");
        let r: i64 = redis::from_redis_value(&q(&mut con, &["ZREVRANK", "big", m])).unwrap();
        assert_eq!(r as usize, 999 - probe, "ZREVRANK {m}");
    }
    fn names(model: &[(f64, String)], range: std::ops::Range<usize>) -> Vec<String> {
        model[range].iter().map(|(_, m)| m.clone()).collect()
    }
    assert_eq!(
        strs(q(&mut con, &["ZRANGE", "big", "100", "109"])),
        names(&model, 100..110)
    );
    let mut rev = names(&model, 990..1000);
    rev.reverse();
    assert_eq!(strs(q(&mut con, &["ZREVRANGE", "big", "0", "9"])), rev);
    // Scores 5 < s <= 7: 20 members; skip 3, take 4.
    assert_eq!(
        strs(q(
            &mut con,
            &["ZRANGEBYSCORE", "big", "(5", "7", "LIMIT", "3", "4"]
        )),
        names(&model, 63..67)
    );
    let mut rev = names(&model, 76..80);
    rev.reverse();
    assert_eq!(
        strs(q(
            &mut con,
            &["ZREVRANGEBYSCORE", "big", "7", "(5", "LIMIT", "0", "4"]
        )),
        rev
    );
    let n: i64 = redis::from_redis_value(&q(&mut con, &["ZCOUNT", "big", "(5", "7"])).unwrap();
    assert_eq!(n, 20);
    let n: i64 =
        redis::from_redis_value(&q(&mut con, &["ZREMRANGEBYRANK", "big", "10", "19"])).unwrap();
    assert_eq!(n, 10);
    model.drain(10..20);
    let n: i64 =
        redis::from_redis_value(&q(&mut con, &["ZREMRANGEBYSCORE", "big", "(90", "+inf"])).unwrap();
    assert_eq!(n, 90);
    model.retain(|(s, _)| *s <= 90.0);
    assert_eq!(
        strs(q(&mut con, &["ZRANGE", "big", "0", "-1"])),
        names(&model, 0..model.len())
    );
    let popped = strs(q(&mut con, &["ZPOPMAX", "big", "3"]));
    let want: Vec<String> = model
        .iter()
        .rev()
        .take(3)
        .flat_map(|(s, m)| [m.clone(), s.to_string()])
        .collect();
    assert_eq!(popped, want);
    // Lex ranges over a skiplist of equal scores.
    let mut cmd = redis::cmd("ZADD");
    cmd.arg("lex");
    for i in 0..300 {
        cmd.arg(0).arg(format!("k{i:03}"));
    }
    let _: i64 = cmd.query(&mut con).expect("ZADD");
    assert_eq!(
        strs(q(&mut con, &["ZRANGEBYLEX", "lex", "(k100", "[k105"])),
        (101..=105).map(|i| format!("k{i:03}")).collect::<Vec<_>>()
    );
    assert_eq!(
        strs(q(
            &mut con,
            &["ZREVRANGEBYLEX", "lex", "+", "[k297", "LIMIT", "1", "2"]
        )),
        ["k298", "k297"]
    );
    let n: i64 =
        redis::from_redis_value(&q(&mut con, &["ZLEXCOUNT", "lex", "[k100", "(k200"])).unwrap();
    assert_eq!(n, 100);
    let n: i64 =
        redis::from_redis_value(&q(&mut con, &["ZREMRANGEBYLEX", "lex", "-", "(k150"])).unwrap();
    assert_eq!(n, 150);
    let n: i64 = redis::from_redis_value(&q(&mut con, &["ZCARD", "lex"])).unwrap();
    assert_eq!(n, 150);
    let n: i64 =
        redis::from_redis_value(&q(&mut con, &["ZREMRANGEBYRANK", "lex", "0", "-1"])).unwrap();
    assert_eq!(n, 150);
    let n: i64 = redis::from_redis_value(&q(&mut con, &["EXISTS", "lex"])).unwrap();
    assert_eq!(n, 0);
}
per_shards!(big_skiplist, super::check_big_skiplist);

// --- WRONGTYPE both ways, RESP3 shapes, COMMAND -------------------------------

fn check_wrongtype(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("SET s v", OK);
    for line in [
        "ZADD s 1 a",
        "ZINCRBY s 1 a",
        "ZREM s a",
        "ZCARD s",
        "ZSCORE s a",
        "ZMSCORE s a",
        "ZRANK s a",
        "ZREVRANK s a",
        "ZCOUNT s 0 1",
        "ZLEXCOUNT s - +",
        "ZRANGE s 0 -1",
        "ZREVRANGE s 0 -1",
        "ZRANGEBYSCORE s 0 1",
        "ZREVRANGEBYSCORE s 1 0",
        "ZRANGEBYLEX s - +",
        "ZREVRANGEBYLEX s + -",
        "ZRANGESTORE d s 0 -1",
        "ZREMRANGEBYRANK s 0 1",
        "ZREMRANGEBYSCORE s 0 1",
        "ZREMRANGEBYLEX s - +",
        "ZPOPMIN s",
        "ZPOPMAX s 2",
        "ZMPOP 1 s MIN",
        "ZRANDMEMBER s",
        "ZRANDMEMBER s 2",
        "ZUNION 1 s",
        "ZINTER 1 s",
        "ZDIFF 1 s",
        "ZINTERCARD 1 s",
        "ZUNIONSTORE d 1 s",
        "ZINTERSTORE d 1 s",
        "ZDIFFSTORE d 1 s",
        "ZSCAN s 0",
    ] {
        c.is(line, WRONGTYPE);
    }
    c.is("RPUSH l x", &int(1));
    c.is("ZADD l 1 a", WRONGTYPE);
    c.is("ZUNION 2 nokey l", WRONGTYPE);
    c.is("ZADD z 1 a", &int(1));
    for line in [
        "GET z",
        "INCR z",
        "APPEND z x",
        "LPUSH z x",
        "LRANGE z 0 -1",
        "LPOP z",
    ] {
        c.is(line, WRONGTYPE);
    }
    c.is("SET z v", OK);
    c.is("GET z", &bulk("v"));
    c.is("EXISTS d", &int(0));
}
per_shards!(wrongtype, super::check_wrongtype);

fn check_resp3_shapes(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    let hello = c.q("HELLO 3");
    assert!(hello.starts_with("%7\r\n"), "HELLO 3: {hello:?}");
    c.is("ZADD z 1 a 2.5 b 3 c", &int(3));
    c.is("ZSCORE z b", ",2.5\r\n");
    c.is("ZSCORE z nope", "_\r\n");
    c.is("ZMSCORE z a nope", "*2\r\n,1\r\n_\r\n");
    c.is("ZINCRBY z 1 a", ",2\r\n");
    c.is("ZADD z INCR 1 a", ",3\r\n");
    c.is("ZADD z NX INCR 1 a", "_\r\n");
    c.is("ZRANK z nope", "_\r\n");
    c.is("ZRANGE z 0 -1", &bulks(&["b", "a", "c"]));
    let all = nested(&[("b", "2.5"), ("a", "3"), ("c", "3")]);
    c.is("ZRANGE z 0 -1 WITHSCORES", &all);
    c.is("ZRANGEBYSCORE z -inf +inf WITHSCORES", &all);
    c.is(
        "ZRANGE z +inf -inf BYSCORE REV WITHSCORES",
        &nested(&[("c", "3"), ("a", "3"), ("b", "2.5")]),
    );
    c.is("ZUNION 1 z WITHSCORES", &all);
    c.is(
        "ZRANDMEMBER z 5 WITHSCORES",
        &nested(&[("c", "3"), ("a", "3"), ("b", "2.5")]),
    );
    c.is("ZRANGE nokey 0 -1 WITHSCORES", EMPTY);
    c.is("ZADD inf +inf p -inf n", &int(2));
    c.is(
        "ZRANGE inf 0 -1 WITHSCORES",
        &nested(&[("n", "-inf"), ("p", "inf")]),
    );
    // ZSCAN's scores stay bulk strings.
    c.is(
        "ZSCAN inf 0",
        &arr(&[bulk("0"), bulks(&["n", "-inf", "p", "inf"])]),
    );
    // ZPOPMIN without a count is flat even in RESP3; with one, nested.
    c.is("ZPOPMIN z", "*2\r\n$1\r\nb\r\n,2.5\r\n");
    c.is("ZPOPMIN z 1", &nested(&[("a", "3")]));
    c.is("ZPOPMIN nokey", EMPTY);
    c.is("ZPOPMIN nokey 2", EMPTY);
    c.is(
        "ZMPOP 1 z MAX",
        &format!("*2\r\n{}{}", bulk("z"), nested(&[("c", "3")])),
    );
    c.is("ZMPOP 1 nokey MAX", "_\r\n");
    c.is("ZRANDMEMBER nokey", "_\r\n");
    c.is("ZRANDMEMBER nokey 1", EMPTY);
    c.is("ZSCAN nokey 0", &arr(&[bulk("0"), EMPTY.into()]));
}
per_shards!(resp3_shapes, super::check_resp3_shapes);

/// COMMAND INFO's first seven fields (name, arity, flags, legacy key range,
/// ACL categories) are Redis 7.0's; ZUNIONSTORE & co show their
/// destination as the legacy range and `movablekeys`. COMMAND GETKEYS
/// finds the destination and the numkeys keys.
fn check_command_table(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    let info = |name: &str, arity: i64, flags: &[&str], range: (i64, i64, i64), cats: &[&str]| {
        let mut s = format!("*1\r\n*10\r\n{}{}", bulk(name), int(arity));
        s.push_str(&format!("*{}\r\n", flags.len()));
        for f in flags {
            s.push_str(&format!("+{f}\r\n"));
        }
        s.push_str(&int(range.0));
        s.push_str(&int(range.1));
        s.push_str(&int(range.2));
        s.push_str(&format!("*{}\r\n", cats.len()));
        for cat in cats {
            s.push_str(&format!("+{cat}\r\n"));
        }
        s
    };
    let w = ["@write", "@sortedset", "@slow"];
    let rf = ["@read", "@sortedset", "@fast"];
    for (name, arity, flags, range, cats) in [
        (
            "zunionstore",
            -4,
            &["write", "denyoom", "movablekeys"][..],
            (1, 1, 1),
            &w[..],
        ),
        (
            "zinterstore",
            -4,
            &["write", "denyoom", "movablekeys"],
            (1, 1, 1),
            &w,
        ),
        (
            "zdiffstore",
            -4,
            &["write", "denyoom", "movablekeys"],
            (1, 1, 1),
            &w,
        ),
        (
            "zunion",
            -3,
            &["readonly", "movablekeys"],
            (0, 0, 0),
            &["@read", "@sortedset", "@slow"],
        ),
        (
            "zintercard",
            -3,
            &["readonly", "movablekeys"],
            (0, 0, 0),
            &["@read", "@sortedset", "@slow"],
        ),
        ("zmpop", -4, &["write", "movablekeys"], (0, 0, 0), &w),
        ("zrangestore", -5, &["write", "denyoom"], (1, 2, 1), &w),
        (
            "zadd",
            -4,
            &["write", "denyoom", "fast"],
            (1, 1, 1),
            &["@write", "@sortedset", "@fast"],
        ),
        ("zscore", 3, &["readonly", "fast"], (1, 1, 1), &rf),
        (
            "zrange",
            -4,
            &["readonly"],
            (1, 1, 1),
            &["@read", "@sortedset", "@slow"],
        ),
    ] {
        let got = c.q(&format!("COMMAND INFO {name}"));
        let want = info(name, arity, flags, range, cats);
        assert!(
            got.starts_with(&want),
            "COMMAND INFO {name}:\n got {got:?}\nwant {want:?}…"
        );
    }
    c.is(
        "COMMAND GETKEYS ZUNIONSTORE d 2 a b WEIGHTS 1 2",
        &bulks(&["d", "a", "b"]),
    );
    c.is("COMMAND GETKEYS ZDIFFSTORE d 1 a", &bulks(&["d", "a"]));
    c.is(
        "COMMAND GETKEYS ZUNION 2 a b WITHSCORES",
        &bulks(&["a", "b"]),
    );
    c.is(
        "COMMAND GETKEYS ZMPOP 2 a b MIN COUNT 1",
        &bulks(&["a", "b"]),
    );
    c.is("COMMAND GETKEYS ZRANGESTORE d s 0 -1", &bulks(&["d", "s"]));
}
per_shards!(command_table, super::check_command_table);

// --- property test: random command sequences against a model ---------------

mod model {
    //! A plain model of sorted sets (a sorted Vec per key plus the encoding
    //! Redis would pick) that answers each command with the exact RESP2
    //! bytes Redis sends. The property test runs random sequences against
    //! the server and this model and requires the same replies.

    use std::collections::BTreeMap;

    use super::common::text::*;
    use proptest::prelude::*;

    /// Limits the test server runs with, so both encodings show up.
    pub const MAX_ENTRIES: usize = 4;
    pub const MAX_VALUE: usize = 8;
    pub const KEYS: [&str; 3] = ["a", "b", "c"];
    const MEMBERS: [&str; 6] = ["m0", "m1", "m2", "m3", "m4", "longmember"];
    const LEX: [&str; 6] = ["ma", "mb", "mc", "md", "me", "mf"];
    const SCORES: [f64; 11] = [
        f64::NEG_INFINITY,
        -2.0,
        -1.5,
        -1.0,
        -0.5,
        0.0,
        0.5,
        1.0,
        1.5,
        2.0,
        f64::INFINITY,
    ];
    const ADD_FLAGS: [&str; 14] = [
        "", "", "NX", "XX", "GT", "LT", "CH", "XX GT CH", "INCR", "NX INCR", "XX INCR", "GT INCR",
        "NX XX", "GT LT",
    ];

    /// Scores print as Rust prints these values ("1.5", "-2", "inf"),
    /// which is also Redis's %.17g for them.
    fn fmt(s: f64) -> String {
        format!("{s}")
    }

    #[derive(Clone, Copy, Debug)]
    pub struct Bound {
        score: usize,
        excl: bool,
    }

    impl Bound {
        fn text(self) -> String {
            format!(
                "{}{}",
                if self.excl { "(" } else { "" },
                fmt(SCORES[self.score])
            )
        }
        fn above_min(self, s: f64) -> bool {
            if self.excl {
                s > SCORES[self.score]
            } else {
                s >= SCORES[self.score]
            }
        }
        fn below_max(self, s: f64) -> bool {
            if self.excl {
                s < SCORES[self.score]
            } else {
                s <= SCORES[self.score]
            }
        }
    }

    /// A lex bound: 0 is `-`, 7 is `+`, else `[` or `(` before LEX[i-1].
    #[derive(Clone, Copy, Debug)]
    pub struct LexBound {
        at: usize,
        excl: bool,
    }

    impl LexBound {
        fn text(self) -> String {
            match self.at {
                0 => "-".into(),
                7 => "+".into(),
                i => format!("{}{}", if self.excl { "(" } else { "[" }, LEX[i - 1]),
            }
        }
        fn above_min(self, m: &str) -> bool {
            match self.at {
                0 => true,
                7 => false,
                i if self.excl => m > LEX[i - 1],
                i => m >= LEX[i - 1],
            }
        }
        fn below_max(self, m: &str) -> bool {
            match self.at {
                0 => false,
                7 => true,
                i if self.excl => m < LEX[i - 1],
                i => m <= LEX[i - 1],
            }
        }
    }

    #[derive(Clone, Debug)]
    pub enum Op {
        Add(usize, usize, usize, usize),
        Incr(usize, usize, usize),
        Rem(usize, usize),
        Range(usize, i8, i8, bool, bool),
        ByScore(usize, Bound, Bound, bool, Option<(i8, i8)>, bool),
        Rank(usize, usize, bool),
        Score(usize, usize),
        Card(usize),
        Count(usize, Bound, Bound),
        Pop(usize, bool, u8),
        RemRank(usize, i8, i8),
        RemScore(usize, Bound, Bound),
        Store(u8, usize, usize, usize, u8),
        LexAdd(usize),
        LexRem(usize),
        Lex(LexBound, LexBound, bool, Option<(i8, i8)>),
        LexCount(LexBound, LexBound),
        LexRemRange(LexBound, LexBound),
        Encoding(usize),
    }

    fn bound() -> impl Strategy<Value = Bound> {
        (0..SCORES.len(), any::<bool>()).prop_map(|(score, excl)| Bound { score, excl })
    }

    fn lex_bound() -> impl Strategy<Value = LexBound> {
        (0usize..8, any::<bool>()).prop_map(|(at, excl)| LexBound { at, excl })
    }

    fn limit() -> impl Strategy<Value = Option<(i8, i8)>> {
        proptest::option::of((-1i8..5, -1i8..5))
    }

    pub fn op() -> impl Strategy<Value = Op> {
        let k = 0..KEYS.len();
        let m = 0..MEMBERS.len();
        // Scores mostly finite: index 1..=9.
        let s = prop_oneof![9 => 1usize..10, 1 => Just(0usize), 1 => Just(10usize)];
        prop_oneof![
            8 => (k.clone(), 0..ADD_FLAGS.len(), s.clone(), m.clone()).prop_map(|(k, f, s, m)| Op::Add(k, f, s, m)),
            2 => (k.clone(), s, m.clone()).prop_map(|(k, s, m)| Op::Incr(k, s, m)),
            3 => (k.clone(), m.clone()).prop_map(|(k, m)| Op::Rem(k, m)),
            2 => (k.clone(), -6i8..6, -6i8..6, any::<bool>(), any::<bool>()).prop_map(|(k, a, b, w, r)| Op::Range(k, a, b, w, r)),
            2 => (k.clone(), bound(), bound(), any::<bool>(), limit(), any::<bool>()).prop_map(|(k, a, b, r, l, w)| Op::ByScore(k, a, b, r, l, w)),
            2 => (k.clone(), m.clone(), any::<bool>()).prop_map(|(k, m, r)| Op::Rank(k, m, r)),
            1 => (k.clone(), m).prop_map(|(k, m)| Op::Score(k, m)),
            1 => k.clone().prop_map(Op::Card),
            1 => (k.clone(), bound(), bound()).prop_map(|(k, a, b)| Op::Count(k, a, b)),
            1 => (k.clone(), any::<bool>(), 0u8..3).prop_map(|(k, x, n)| Op::Pop(k, x, n)),
            1 => (k.clone(), -6i8..6, -6i8..6).prop_map(|(k, a, b)| Op::RemRank(k, a, b)),
            1 => (k.clone(), bound(), bound()).prop_map(|(k, a, b)| Op::RemScore(k, a, b)),
            2 => (0u8..3, k.clone(), k.clone(), k.clone(), 0u8..3).prop_map(|(o, d, a, b, g)| Op::Store(o, d, a, b, g)),
            3 => (0..LEX.len()).prop_map(Op::LexAdd),
            1 => (0..LEX.len()).prop_map(Op::LexRem),
            2 => (lex_bound(), lex_bound(), any::<bool>(), limit()).prop_map(|(a, b, r, l)| Op::Lex(a, b, r, l)),
            1 => (lex_bound(), lex_bound()).prop_map(|(a, b)| Op::LexCount(a, b)),
            1 => (lex_bound(), lex_bound()).prop_map(|(a, b)| Op::LexRemRange(a, b)),
            1 => k.prop_map(Op::Encoding),
        ]
    }

    #[derive(Clone, Debug, Default)]
    struct Z {
        items: Vec<(String, f64)>,
        skiplist: bool,
    }

    impl Z {
        fn sort(&mut self) {
            self.items
                .sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap().then_with(|| a.0.cmp(&b.0)));
        }
        fn score(&self, m: &str) -> Option<f64> {
            self.items.iter().find(|(x, _)| x == m).map(|p| p.1)
        }
        fn from_result(mut items: Vec<(String, f64)>) -> Z {
            let skiplist =
                items.len() > MAX_ENTRIES || items.iter().any(|(m, _)| m.len() > MAX_VALUE);
            for p in &mut items {
                if !skiplist && p.1 == 0.0 {
                    p.1 = 0.0;
                }
            }
            let mut z = Z { items, skiplist };
            z.sort();
            z
        }
    }

    /// The model: key → sorted set (never empty).
    #[derive(Default)]
    pub struct Model {
        keys: BTreeMap<String, Z>,
    }

    fn pairs_reply(items: &[(String, f64)], withscores: bool) -> String {
        if withscores {
            let mut s = format!("*{}\r\n", items.len() * 2);
            for (m, v) in items {
                s.push_str(&bulk(m));
                s.push_str(&bulk(&fmt(*v)));
            }
            s
        } else {
            let names: Vec<&str> = items.iter().map(|(m, _)| m.as_str()).collect();
            bulks(&names)
        }
    }

    /// Redis's rank sanitising (`genericZrangebyrankCommand`).
    fn ranks(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
        let len = len as i64;
        let start = if start < 0 {
            (len + start).max(0)
        } else {
            start
        };
        let end = if end < 0 { len + end } else { end };
        if start > end || start >= len {
            return None;
        }
        Some((start as usize, end.min(len - 1) as usize))
    }

    /// Skip `offset` (negative: everything), then take `limit` (negative:
    /// all), as Redis's LIMIT loops do.
    fn offset_limit<T: Clone>(items: Vec<T>, l: Option<(i8, i8)>) -> Vec<T> {
        match l {
            None => items,
            Some((o, _)) if o < 0 => Vec::new(),
            Some((o, c)) => {
                let it = items.into_iter().skip(o as usize);
                if c < 0 {
                    it.collect()
                } else {
                    it.take(c as usize).collect()
                }
            }
        }
    }

    fn limit_text(l: Option<(i8, i8)>) -> String {
        l.map_or(String::new(), |(o, c)| format!(" LIMIT {o} {c}"))
    }

    impl Model {
        fn drop_empty(&mut self, key: &str) {
            if self.keys.get(key).is_some_and(|z| z.items.is_empty()) {
                self.keys.remove(key);
            }
        }

        /// `zsetAdd` on the model; returns the reply.
        fn add(&mut self, key: &str, flags: &str, score: f64, m: &str) -> String {
            let has = |f: &str| flags.split(' ').any(|x| x == f);
            let (nx, xx, gt, lt, ch, incr) = (
                has("NX"),
                has("XX"),
                has("GT"),
                has("LT"),
                has("CH"),
                has("INCR"),
            );
            if nx && xx {
                return err("XX and NX options at the same time are not compatible");
            }
            if (nx && (gt || lt)) || (gt && lt) {
                return err("GT, LT, and/or NX options at the same time are not compatible");
            }
            let nil_or_zero = if incr { NIL.to_string() } else { int(0) };
            if !self.keys.contains_key(key) {
                if xx {
                    return nil_or_zero;
                }
                let z = Z {
                    items: Vec::new(),
                    skiplist: m.len() > MAX_VALUE,
                };
                self.keys.insert(key.to_string(), z);
            }
            let z = self.keys.get_mut(key).unwrap();
            let reply = match z.score(m) {
                None if xx => nil_or_zero,
                None => {
                    if !z.skiplist && (z.items.len() + 1 > MAX_ENTRIES || m.len() > MAX_VALUE) {
                        z.skiplist = true;
                    }
                    z.items.push((m.to_string(), score));
                    if incr {
                        bulk(&fmt(score))
                    } else {
                        int(1)
                    }
                }
                Some(_) if nx => nil_or_zero,
                Some(cur) => {
                    let new = if incr { cur + score } else { score };
                    if new.is_nan() {
                        return err("resulting score is not a number (NaN)");
                    }
                    if (lt && new >= cur) || (gt && new <= cur) {
                        nil_or_zero
                    } else {
                        let changed = new != cur;
                        if changed {
                            z.items.retain(|(x, _)| x != m);
                            z.items.push((m.to_string(), new));
                        }
                        if incr {
                            bulk(&fmt(new))
                        } else {
                            int(i64::from(ch && changed))
                        }
                    }
                }
            };
            z.sort();
            reply
        }

        fn get(&self, key: &str) -> Vec<(String, f64)> {
            self.keys
                .get(key)
                .map(|z| z.items.clone())
                .unwrap_or_default()
        }

        fn set_result(&mut self, dst: &str, items: Vec<(String, f64)>) -> String {
            let n = items.len();
            if n == 0 {
                self.keys.remove(dst);
            } else {
                self.keys.insert(dst.to_string(), Z::from_result(items));
            }
            int(n as i64)
        }

        fn remove_where(
            &mut self,
            key: &str,
            mut gone: impl FnMut(usize, &(String, f64)) -> bool,
        ) -> String {
            let Some(z) = self.keys.get_mut(key) else {
                return int(0);
            };
            let before = z.items.len();
            let mut i = 0;
            z.items.retain(|p| {
                let g = gone(i, p);
                i += 1;
                !g
            });
            let n = before - z.items.len();
            self.drop_empty(key);
            int(n as i64)
        }

        /// Applies `op`: the command line to send and the reply Redis gives.
        pub fn apply(&mut self, op: &Op) -> (String, String) {
            match *op {
                Op::Add(k, f, s, m) => {
                    let (key, flags, score, m) = (KEYS[k], ADD_FLAGS[f], SCORES[s], MEMBERS[m]);
                    (
                        format!("ZADD {key} {flags} {} {m}", fmt(score)),
                        self.add(key, flags, score, m),
                    )
                }
                Op::Incr(k, s, m) => {
                    let (key, score, m) = (KEYS[k], SCORES[s], MEMBERS[m]);
                    (
                        format!("ZINCRBY {key} {} {m}", fmt(score)),
                        self.add(key, "INCR", score, m),
                    )
                }
                Op::Rem(k, m) => {
                    let (key, m) = (KEYS[k], MEMBERS[m]);
                    (
                        format!("ZREM {key} {m}"),
                        self.remove_where(key, |_, p| p.0 == m),
                    )
                }
                Op::Range(k, a, b, withscores, rev) => {
                    let key = KEYS[k];
                    let mut items = self.get(key);
                    if rev {
                        items.reverse();
                    }
                    let sel = match ranks(items.len(), a.into(), b.into()) {
                        Some((s, e)) => items[s..=e].to_vec(),
                        None => Vec::new(),
                    };
                    let opts = format!(
                        "{}{}",
                        if rev { " REV" } else { "" },
                        if withscores { " WITHSCORES" } else { "" }
                    );
                    (
                        format!("ZRANGE {key} {a} {b}{opts}"),
                        pairs_reply(&sel, withscores),
                    )
                }
                Op::ByScore(k, min, max, rev, l, withscores) => {
                    let key = KEYS[k];
                    let mut items: Vec<(String, f64)> = self
                        .get(key)
                        .into_iter()
                        .filter(|(_, s)| min.above_min(*s) && max.below_max(*s))
                        .collect();
                    if rev {
                        items.reverse();
                    }
                    let sel = offset_limit(items, l);
                    let ws = if withscores { " WITHSCORES" } else { "" };
                    let line = if rev {
                        format!(
                            "ZREVRANGEBYSCORE {key} {} {}{ws}{}",
                            max.text(),
                            min.text(),
                            limit_text(l)
                        )
                    } else {
                        format!(
                            "ZRANGEBYSCORE {key} {} {}{ws}{}",
                            min.text(),
                            max.text(),
                            limit_text(l)
                        )
                    };
                    (line, pairs_reply(&sel, withscores))
                }
                Op::Rank(k, m, rev) => {
                    let (key, m) = (KEYS[k], MEMBERS[m]);
                    let items = self.get(key);
                    let reply = match items.iter().position(|(x, _)| x == m) {
                        Some(r) if rev => int((items.len() - 1 - r) as i64),
                        Some(r) => int(r as i64),
                        None => NIL.into(),
                    };
                    (
                        format!("{} {key} {m}", if rev { "ZREVRANK" } else { "ZRANK" }),
                        reply,
                    )
                }
                Op::Score(k, m) => {
                    let (key, m) = (KEYS[k], MEMBERS[m]);
                    let reply = self
                        .keys
                        .get(key)
                        .and_then(|z| z.score(m))
                        .map_or(NIL.to_string(), |s| bulk(&fmt(s)));
                    (format!("ZSCORE {key} {m}"), reply)
                }
                Op::Card(k) => (
                    format!("ZCARD {}", KEYS[k]),
                    int(self.get(KEYS[k]).len() as i64),
                ),
                Op::Count(k, min, max) => {
                    let key = KEYS[k];
                    let n = self
                        .get(key)
                        .iter()
                        .filter(|(_, s)| min.above_min(*s) && max.below_max(*s))
                        .count();
                    (
                        format!("ZCOUNT {key} {} {}", min.text(), max.text()),
                        int(n as i64),
                    )
                }
                Op::Pop(k, max, n) => {
                    let key = KEYS[k];
                    let mut items = self.get(key);
                    if max {
                        items.reverse();
                    }
                    let taken: Vec<(String, f64)> = items.into_iter().take(n.into()).collect();
                    let line = format!("{} {key} {n}", if max { "ZPOPMAX" } else { "ZPOPMIN" });
                    self.remove_where(key, |_, p| taken.iter().any(|t| t.0 == p.0));
                    (line, pairs_reply(&taken, true))
                }
                Op::RemRank(k, a, b) => {
                    let key = KEYS[k];
                    let sel = ranks(self.get(key).len(), a.into(), b.into());
                    let reply = self
                        .remove_where(key, |i, _| sel.is_some_and(|(s, e)| (s..=e).contains(&i)));
                    (format!("ZREMRANGEBYRANK {key} {a} {b}"), reply)
                }
                Op::RemScore(k, min, max) => {
                    let key = KEYS[k];
                    let reply =
                        self.remove_where(key, |_, p| min.above_min(p.1) && max.below_max(p.1));
                    (
                        format!("ZREMRANGEBYSCORE {key} {} {}", min.text(), max.text()),
                        reply,
                    )
                }
                Op::Store(o, d, a, b, g) => self.store(o, d, a, b, g),
                Op::LexAdd(m) => {
                    let m = LEX[m];
                    (format!("ZADD lex 0 {m}"), self.add("lex", "", 0.0, m))
                }
                Op::LexRem(m) => {
                    let m = LEX[m];
                    (
                        format!("ZREM lex {m}"),
                        self.remove_where("lex", |_, p| p.0 == m),
                    )
                }
                Op::Lex(min, max, rev, l) => {
                    let mut items: Vec<(String, f64)> = self
                        .get("lex")
                        .into_iter()
                        .filter(|(m, _)| min.above_min(m) && max.below_max(m))
                        .collect();
                    if rev {
                        items.reverse();
                    }
                    let sel = offset_limit(items, l);
                    let line = if rev {
                        format!(
                            "ZREVRANGEBYLEX lex {} {}{}",
                            max.text(),
                            min.text(),
                            limit_text(l)
                        )
                    } else {
                        format!(
                            "ZRANGEBYLEX lex {} {}{}",
                            min.text(),
                            max.text(),
                            limit_text(l)
                        )
                    };
                    (line, pairs_reply(&sel, false))
                }
                Op::LexCount(min, max) => {
                    let n = self
                        .get("lex")
                        .iter()
                        .filter(|(m, _)| min.above_min(m) && max.below_max(m))
                        .count();
                    (
                        format!("ZLEXCOUNT lex {} {}", min.text(), max.text()),
                        int(n as i64),
                    )
                }
                Op::LexRemRange(min, max) => {
                    let reply =
                        self.remove_where("lex", |_, p| min.above_min(&p.0) && max.below_max(&p.0));
                    (
                        format!("ZREMRANGEBYLEX lex {} {}", min.text(), max.text()),
                        reply,
                    )
                }
                Op::Encoding(k) => {
                    let key = KEYS[k];
                    let reply = match self.keys.get(key) {
                        Some(z) => bulk(if z.skiplist { "skiplist" } else { "listpack" }),
                        None => NIL.into(),
                    };
                    (format!("OBJECT ENCODING {key}"), reply)
                }
            }
        }

        /// ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE dst 2 a b [AGGREGATE].
        fn store(&mut self, o: u8, d: usize, a: usize, b: usize, g: u8) -> (String, String) {
            let (dst, ka, kb) = (KEYS[d], KEYS[a], KEYS[b]);
            let (sa, sb) = (self.get(ka), self.get(kb));
            let agg = ["SUM", "MIN", "MAX"][usize::from(g)];
            let fold = |t: &mut f64, v: f64| match agg {
                "SUM" => {
                    *t += v;
                    if t.is_nan() {
                        *t = 0.0;
                    }
                }
                "MIN" => *t = t.min(v),
                _ => *t = t.max(v),
            };
            let (name, result): (&str, Vec<(String, f64)>) = match o {
                0 => {
                    let mut acc: Vec<(String, f64)> = Vec::new();
                    for (m, s) in sa.iter().chain(sb.iter()) {
                        match acc.iter_mut().find(|(x, _)| x == m) {
                            Some((_, t)) => fold(t, *s),
                            None => acc.push((m.clone(), *s)),
                        }
                    }
                    ("ZUNIONSTORE", acc)
                }
                1 => {
                    let mut out = Vec::new();
                    for (m, s) in &sa {
                        if let Some((_, s2)) = sb.iter().find(|(x, _)| x == m) {
                            let mut t = *s;
                            fold(&mut t, *s2);
                            out.push((m.clone(), t));
                        }
                    }
                    ("ZINTERSTORE", out)
                }
                _ => {
                    let out = sa
                        .into_iter()
                        .filter(|(m, _)| !sb.iter().any(|(x, _)| x == m))
                        .collect();
                    ("ZDIFFSTORE", out)
                }
            };
            let opt = if o < 2 {
                format!(" AGGREGATE {agg}")
            } else {
                String::new()
            };
            let line = format!("{name} {dst} 2 {ka} {kb}{opt}");
            (line, self.set_result(dst, result))
        }
    }
}

fn check_model(shards: usize) {
    let entries = model::MAX_ENTRIES.to_string();
    let value = model::MAX_VALUE.to_string();
    let server = Server::start_with(
        shards,
        &[
            "--zset-max-listpack-entries",
            &entries,
            "--zset-max-listpack-value",
            &value,
        ],
    );
    let client = std::cell::RefCell::new(Client::new(&server));
    let ops = proptest::collection::vec(model::op(), 1..25);
    common::check_model(
        ops,
        |ops| {
            let mut c = client.borrow_mut();
            proptest::prop_assert_eq!(c.q("FLUSHALL"), OK);
            let mut m = model::Model::default();
            for op in &ops {
                let (line, want) = m.apply(op);
                let got = c.q(&line);
                proptest::prop_assert_eq!(got, want, "reply to `{}`", line);
            }
            Ok(())
        },
        "sorted sets",
    );
}
per_shards!(model_agrees, super::check_model);

// --- cross-shard atomicity --------------------------------------------------

fn query<T: redis::FromRedisValue>(con: &mut redis::Connection, args: &[&str]) -> T {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
        .unwrap_or_else(|e| panic!("{}: {e}", args.join(" ")))
}

/// Writer threads each add their own members `w<t>:<i>` (score i) to `a`
/// and then to `b`, one command at a time, so at every instant `b` is a
/// subset of `a` and `a` has at most one member per writer that `b` lacks;
/// `a` and `b` live on different shards. Meanwhile:
/// - a merger loops `ZUNIONSTORE a 2 a b AGGREGATE MAX`, which leaves `a`
///   as it is when atomic; run as read a, read b, write a without the
///   locks, a writer's ZADD landing in between would be lost (and `b`
///   would then hold a member `a` lacks, and the final count would be
///   short);
/// - checkers run ZDIFFSTORE / ZDIFF both ways: `b - a` must be empty and
///   `a - b` at most WRITERS members; reading `b` before `a` (or `a` before
///   `b`) with writes in between breaks one of the two.
///
/// With tessera, DEBUG SET-TX-DELAY makes every cross-shard write hold its
/// locks longer, so more single-key writes queue up behind them.
fn check_atomic_zdiffstore(shards: usize) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    const WRITERS: usize = 3;
    const ROUNDS: usize = 500;
    let tessera = common::testing_tessera();
    let server = if tessera {
        Server::start_with(shards, &["--enable-debug-command", "yes"])
    } else {
        Server::start(shards)
    };
    assert_ne!(
        slot("a") % 2,
        slot("b") % 2,
        "a and b must be on different shards"
    );
    let mut con = server.client();
    if tessera {
        let () = query(&mut con, &["DEBUG", "SET-TX-DELAY", "1"]);
    }
    let deadline = Instant::now() + Duration::from_secs(8);
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|t| {
            let mut w = server.client();
            std::thread::spawn(move || {
                let mut i = 0;
                while i < ROUNDS && Instant::now() < deadline {
                    let m = format!("w{t}:{i}");
                    let s = i.to_string();
                    let _: i64 = query(&mut w, &["ZADD", "a", &s, &m]);
                    let _: i64 = query(&mut w, &["ZADD", "b", &s, &m]);
                    i += 1;
                }
                i
            })
        })
        .collect();
    let merger = {
        let mut m = server.client();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut n = 0;
            while !done.load(Ordering::Relaxed) && Instant::now() < deadline {
                let size: i64 = query(
                    &mut m,
                    &["ZUNIONSTORE", "a", "2", "a", "b", "AGGREGATE", "MAX"],
                );
                assert!(size >= 0);
                n += 1;
            }
            n
        })
    };
    let checkers: Vec<_> = (0..3)
        .map(|t| {
            let mut r = server.client();
            let done = done.clone();
            std::thread::spawn(move || {
                let mut n = 0;
                while !done.load(Ordering::Relaxed) && Instant::now() < deadline {
                    if t == 0 {
                        let ahead: i64 = query(&mut r, &["ZDIFFSTORE", "d1", "2", "a", "b"]);
                        assert!(ahead <= WRITERS as i64, "ZDIFFSTORE a-b gave {ahead}");
                        let behind: i64 = query(&mut r, &["ZDIFFSTORE", "d2", "2", "b", "a"]);
                        assert_eq!(behind, 0, "ZDIFFSTORE b-a saw b ahead of a");
                    } else {
                        let ahead: Vec<String> = query(&mut r, &["ZDIFF", "2", "a", "b"]);
                        assert!(ahead.len() <= WRITERS, "ZDIFF a-b gave {ahead:?}");
                        let behind: Vec<String> = query(&mut r, &["ZDIFF", "2", "b", "a"]);
                        assert!(behind.is_empty(), "ZDIFF b-a gave {behind:?}");
                        let stored: i64 = query(&mut r, &["ZCARD", "d1"]);
                        assert!(stored <= WRITERS as i64, "d1 holds {stored}");
                    }
                    n += 1;
                }
                n
            })
        })
        .collect();
    let wait = |h: &std::thread::JoinHandle<usize>| {
        assert!(
            common::wait_until(Duration::from_secs(30), || h.is_finished()),
            "a test thread did not finish"
        );
    };
    writers.iter().for_each(wait);
    let written: Vec<usize> = writers
        .into_iter()
        .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
        .collect();
    done.store(true, Ordering::Relaxed);
    wait(&merger);
    let merged = merger
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
    checkers.iter().for_each(wait);
    let checked: Vec<usize> = checkers
        .into_iter()
        .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
        .collect();
    eprintln!("writer rounds {written:?}, merges {merged}, checker rounds {checked:?}");
    assert!(checked.iter().all(|&n| n > 0) && merged > 0, "no progress");
    // Afterwards a and b hold the same members: every write, none lost.
    let total: usize = written.iter().sum();
    let n: i64 = query(&mut con, &["ZCARD", "a"]);
    assert_eq!(n as usize, total, "members of a lost to a merge");
    let diff: i64 = query(&mut con, &["ZDIFFSTORE", "d1", "2", "a", "b"]);
    assert_eq!(diff, 0);
    let same: i64 = query(&mut con, &["ZINTERCARD", "2", "a", "b"]);
    assert_eq!(same as usize, total);
    if tessera {
        let () = query(&mut con, &["DEBUG", "SET-TX-DELAY", "0"]);
    }
}
per_shards!(atomic_zdiffstore, super::check_atomic_zdiffstore; shards_2 => 2);

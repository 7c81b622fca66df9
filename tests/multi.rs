//! Transactions: MULTI EXEC DISCARD WATCH UNWATCH, reply byte for byte:
//! queuing, EXECABORT after a rejected command, runtime errors inside the
//! result, WATCH seeing changes from other clients, expiry, FLUSHALL and
//! SWAPDB, blocking commands inside MULTI, RESP3 shapes and CLIENT LIST's
//! `multi=` field. Mirrors Redis's `tests/unit/multi.tcl`.
//!
//! Every expected reply was checked against redis-server 7.0 with
//! `TESSERA_TEST_BIN=redis-server cargo test --test multi`. With two shards
//! the keys `a` and `b` live on different shards, so the transactions here
//! span shards. Atomicity under concurrency is in `tests/cross_shard.rs`.

mod common;

use std::time::{Duration, Instant};

use common::text::*;
use common::{wait_until, Server};

const QUEUED: &str = "+QUEUED\r\n";
const EXECABORT: &str = "-EXECABORT Transaction discarded because of previous errors.\r\n";

fn check_queue_and_exec(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    let mut other = Client::new(&server);
    c.is("EXEC", &err("EXEC without MULTI"));
    c.is("DISCARD", &err("DISCARD without MULTI"));
    c.is("MULTI x", &arity("multi"));
    c.is("MULTI", OK);
    c.is("MULTI", &err("MULTI calls can not be nested"));
    c.is("SET a 1", QUEUED);
    c.is("INCR a", QUEUED);
    c.is("RPUSH b x y", QUEUED);
    c.is("MSET a 5 b2 6", QUEUED);
    c.is("MGET a b2", QUEUED);
    c.is("PING", QUEUED);
    assert!(other.q("CLIENT LIST").contains(" multi=6 "));
    c.is(
        "EXEC",
        &arr(&[
            OK.into(),
            int(2),
            int(2),
            OK.into(),
            bulks(&["5", "6"]),
            "+PONG\r\n".into(),
        ]),
    );
    assert!(c.q("CLIENT LIST").contains(" multi=-1 "));
    // Runtime errors are results; the other commands still run.
    c.is("MULTI", OK);
    c.is("INCR b", QUEUED);
    c.is("SET a 7", QUEUED);
    c.is("EXEC", &arr(&[WRONGTYPE.into(), OK.into()]));
    c.is("GET a", &bulk("7"));
    // Empty transaction.
    c.is("MULTI", OK);
    c.is("EXEC", EMPTY);
    // DISCARD drops the queue.
    c.is("MULTI", OK);
    c.is("SET a 100", QUEUED);
    c.is("DISCARD", OK);
    c.is("GET a", &bulk("7"));
    // SELECT inside MULTI moves the following commands.
    c.is("MULTI", OK);
    c.is("SELECT 1", QUEUED);
    c.is("SET a in1", QUEUED);
    c.is("SELECT 0", QUEUED);
    c.is("EXEC", &arr(&[OK.into(), OK.into(), OK.into()]));
    c.is("GET a", &bulk("7"));
    c.is("SELECT 1", OK);
    c.is("GET a", &bulk("in1"));
    c.is("SELECT 0", OK);
}

fn check_execabort(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("MULTI", OK);
    c.is("SET a 1", QUEUED);
    c.is("SET a", &arity("set"));
    c.is("EXEC", EXECABORT);
    c.is("EXISTS a", &int(0));
    c.is("MULTI", OK);
    c.is(
        "NOSUCHCMD x",
        &err("unknown command 'NOSUCHCMD', with args beginning with: 'x' "),
    );
    c.is("SET a 1", QUEUED);
    c.is("EXEC", EXECABORT);
    c.is("EXISTS a", &int(0));
    // WATCH inside MULTI is refused but does not doom the transaction.
    c.is("MULTI", OK);
    c.is("WATCH a", &err("WATCH inside MULTI is not allowed"));
    c.is("SET a 2", QUEUED);
    c.is("EXEC", &arr(&[OK.into()]));
}

fn check_watch(shards: usize) {
    let server = Server::start_with(shards, &["--enable-debug-command", "yes"]);
    let mut c = Client::new(&server);
    let mut other = Client::new(&server);
    c.is("WATCH", &arity("watch"));
    c.is("SET a 1", OK);
    // Modified by another client: EXEC fails.
    c.is("WATCH a b", OK);
    other.is("SET a 2", OK);
    c.is("MULTI", OK);
    c.is("SET b x", QUEUED);
    c.is("EXEC", NIL_ARRAY);
    c.is("EXISTS b", &int(0));
    // EXEC unwatches: the next transaction runs.
    other.is("SET a 3", OK);
    c.is("MULTI", OK);
    c.is("SET b x", QUEUED);
    c.is("EXEC", &arr(&[OK.into()]));
    // Unchanged: it runs. Touched by the same client before MULTI: fails.
    c.is("WATCH a", OK);
    c.is("MULTI", OK);
    c.is("GET a", QUEUED);
    c.is("EXEC", &arr(&[bulk("3")]));
    c.is("WATCH a", OK);
    c.is("SET a 4", OK);
    c.is("MULTI", OK);
    c.is("GET a", QUEUED);
    c.is("EXEC", NIL_ARRAY);
    // UNWATCH and DISCARD forget the watched keys.
    c.is("WATCH a", OK);
    other.is("SET a 5", OK);
    c.is("UNWATCH", OK);
    c.is("MULTI", OK);
    c.is("GET a", QUEUED);
    c.is("EXEC", &arr(&[bulk("5")]));
    c.is("WATCH a", OK);
    c.is("MULTI", OK);
    c.is("DISCARD", OK);
    other.is("SET a 6", OK);
    c.is("MULTI", OK);
    c.is("GET a", QUEUED);
    c.is("EXEC", &arr(&[bulk("6")]));
    // A key that did not exist and still does not: not touched.
    c.is("WATCH nokey", OK);
    other.is("DEL nokey", &int(0));
    c.is("MULTI", OK);
    c.is("PING", QUEUED);
    c.is("EXEC", &arr(&["+PONG\r\n".into()]));
    // FLUSHALL touches watched keys that exist, not the missing ones.
    c.is("WATCH a", OK);
    other.is("FLUSHALL", OK);
    c.is("MULTI", OK);
    c.is("PING", QUEUED);
    c.is("EXEC", NIL_ARRAY);
    c.is("WATCH a", OK);
    other.is("FLUSHALL", OK);
    c.is("MULTI", OK);
    c.is("PING", QUEUED);
    c.is("EXEC", &arr(&["+PONG\r\n".into()]));
    // SWAPDB touches a key present on either side.
    other.is("SELECT 1", OK);
    other.is("SET a in1", OK);
    c.is("WATCH a", OK);
    other.is("SWAPDB 0 1", OK);
    c.is("MULTI", OK);
    c.is("PING", QUEUED);
    c.is("EXEC", NIL_ARRAY);
    // A watched key that expires (no one touching it) fails EXEC.
    c.is("DEBUG SET-ACTIVE-EXPIRE 0", OK);
    c.is("SET e v PX 50", OK);
    c.is("WATCH e", OK);
    let start = Instant::now();
    assert!(wait_until(Duration::from_secs(5), || start.elapsed()
        > Duration::from_millis(120)));
    c.is("MULTI", OK);
    c.is("PING", QUEUED);
    c.is("EXEC", NIL_ARRAY);
    c.is("DEBUG SET-ACTIVE-EXPIRE 1", OK);
}

fn check_blocking_and_resp3(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    // Inside MULTI nothing blocks: an empty source gives the null reply.
    c.is("MULTI", OK);
    c.is("BLPOP empty 0", QUEUED);
    c.is("BLMOVE empty b LEFT LEFT 0", QUEUED);
    c.is("RPUSH a v", QUEUED);
    c.is("BRPOP a 0", QUEUED);
    c.is(
        "EXEC",
        &arr(&[NIL_ARRAY.into(), NIL.into(), int(1), bulks(&["a", "v"])]),
    );
    assert!(c.q("HELLO 3").starts_with('%'));
    let mut other = Client::new(&server);
    c.is("WATCH a", OK);
    other.is("SET a 1", OK);
    c.is("MULTI", OK);
    c.is("PING", QUEUED);
    c.is("EXEC", "_\r\n");
    c.is("MULTI", OK);
    c.is("GET a", QUEUED);
    c.is("EXEC", &arr(&[bulk("1")]));
    // RESET leaves MULTI.
    c.is("MULTI", OK);
    c.is("RESET", "+RESET\r\n");
    c.is("EXEC", &err("EXEC without MULTI"));
}

per_shards!(queue_and_exec, super::check_queue_and_exec);
per_shards!(execabort, super::check_execabort);
per_shards!(watch, super::check_watch);
per_shards!(blocking_and_resp3, super::check_blocking_and_resp3);

//! Blocking list commands: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP and CLIENT
//! UNBLOCK. Immediate answers, timeouts (sub-second), errors, clients served
//! by a push from another connection in arrival order, blocking on keys of
//! several shards, a key changing type, a blocked client going away, and
//! pipelines around a blocking command.
//!
//! The expected replies were checked against redis-server 7.0 with
//! `TESSERA_TEST_BIN=redis-server cargo test --test blocking`. "Blocked" is
//! observed through INFO `blocked_clients`, never by sleeping. With two
//! shards the keys `a` and `b` live on different shards, and connections
//! land on either shard, so blocked clients are served across shards.

mod common;

use std::time::{Duration, Instant};

use common::text::*;
use common::{wait_until, Server};

const WAIT: Duration = Duration::from_secs(10);

/// Waits until the server reports `n` blocked clients.
#[track_caller]
fn await_blocked(c: &mut Client, n: usize) {
    let want = n.to_string();
    assert!(
        wait_until(WAIT, || c.info_field("blocked_clients") == want),
        "blocked_clients never reached {n}"
    );
}

fn pair(key: &str, value: &str) -> String {
    bulks(&[key, value])
}

fn check_immediate_and_errors(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("BLPOP", &arity("blpop"));
    c.is("BLPOP l", &arity("blpop"));
    c.is("BLMOVE a b LEFT RIGHT", &arity("blmove"));
    c.is("BLMPOP 0 1 l", &arity("blmpop"));
    c.is("RPUSH l x y z", &int(3));
    c.is("BLPOP l 0", &pair("l", "x"));
    c.is("BRPOP l 0", &pair("l", "z"));
    c.is("BLPOP missing l 1", &pair("l", "y"));
    c.is("EXISTS l", &int(0));
    c.is(
        "BLPOP l abc",
        &err("timeout is not a float or out of range"),
    );
    c.is("BLPOP l -1", &err("timeout is negative"));
    c.is("BLPOP l inf", &err("timeout is negative"));
    c.is("SET s v", OK);
    c.is("BLPOP s 0", WRONGTYPE);
    c.is("RPUSH l2 v", &int(1));
    c.is("BLPOP s l2 0", WRONGTYPE);
    c.is("BLPOP l2 s 0", &pair("l2", "v"));
    c.is("BLMOVE a b UP RIGHT 0", SYNTAX);
    c.is(
        "BLMOVE a b LEFT RIGHT x",
        &err("timeout is not a float or out of range"),
    );
    c.is("RPUSH a 1 2", &int(2));
    c.is("BLMOVE a b LEFT RIGHT 0", &bulk("1"));
    c.is("BRPOPLPUSH a b 0", &bulk("2"));
    c.is("LRANGE b 0 -1", &bulks(&["2", "1"]));
    c.is("BLMOVE b s LEFT LEFT 0", WRONGTYPE);
    c.is(
        "BLMPOP 0 0 b LEFT",
        &err("numkeys should be greater than 0"),
    );
    c.is(
        "BLMPOP x 1 b LEFT",
        &err("timeout is not a float or out of range"),
    );
    c.is(
        "BLMPOP 0 2 missing b RIGHT COUNT 5",
        &arr(&[bulk("b"), bulks(&["1", "2"])]),
    );
}

fn check_timeouts(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    let start = Instant::now();
    c.is("BLPOP none 0.05", NIL_ARRAY);
    c.is("BLMOVE none b LEFT LEFT 0.05", NIL_ARRAY);
    c.is("BLMPOP 0.05 1 none LEFT", NIL_ARRAY);
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(150), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(c.q("HELLO 3").starts_with("%"));
    c.is("BRPOP none 0.01", "_\r\n");
    c.is("BRPOPLPUSH none b 0.01", "_\r\n");
    // A pipeline: the reply before the blocking command is not held back,
    // and the one after it waits for it.
    c.0.send(b"RPUSH p 1\r\nBLPOP none 0.05\r\nPING\r\n");
    assert_eq!(c.read(), int(1));
    assert_eq!(c.read(), "_\r\n");
    assert_eq!(c.read(), "+PONG\r\n");
}

fn check_served_by_push(shards: usize) {
    let server = Server::start(shards);
    let mut admin = Client::new(&server);
    // Several blocked clients on one key, from connections on any shard,
    // served one element each in the order they blocked.
    let mut blocked: Vec<Client> = Vec::new();
    for i in 0..6 {
        let mut b = Client::new(&server);
        b.send("BLPOP a 0");
        await_blocked(&mut admin, i + 1);
        blocked.push(b);
    }
    let mut pushers: Vec<Client> = (0..3).map(|_| Client::new(&server)).collect();
    pushers[0].is("RPUSH a e0 e1", &int(2));
    pushers[1].is("RPUSH a e2", &int(1));
    pushers[2].is("RPUSH a e3 e4 e5 e6", &int(4));
    for (i, b) in blocked.iter_mut().enumerate() {
        assert_eq!(b.read(), pair("a", &format!("e{i}")));
    }
    admin.is("LRANGE a 0 -1", &bulks(&["e6"]));
    await_blocked(&mut admin, 0);

    // BLMOVE is served by a push and leaves the element at its destination;
    // a client waiting on that destination is served in turn.
    let mut mover = Client::new(&server);
    mover.send("BLMOVE src b RIGHT LEFT 0");
    await_blocked(&mut admin, 1);
    let mut waiter = Client::new(&server);
    waiter.send("BRPOP b 0");
    await_blocked(&mut admin, 2);
    admin.is("LPUSH src v", &int(1));
    assert_eq!(mover.read(), bulk("v"));
    assert_eq!(waiter.read(), pair("b", "v"));
    admin.is("EXISTS src b", &int(0));

    // BLMPOP with COUNT pops several at once.
    let mut m = Client::new(&server);
    m.send("BLMPOP 0 2 a2 b LEFT COUNT 2");
    await_blocked(&mut admin, 1);
    admin.is("RPUSH b 1 2 3", &int(3));
    assert_eq!(m.read(), arr(&[bulk("b"), bulks(&["1", "2"])]));
    admin.is("LRANGE b 0 -1", &bulks(&["3"]));
}

fn check_keys_on_several_shards(shards: usize) {
    let server = Server::start(shards);
    let mut admin = Client::new(&server);
    // `a` and `b` are on different shards when there are two.
    let mut c = Client::new(&server);
    c.send("BLPOP a b 0");
    await_blocked(&mut admin, 1);
    admin.is("RPUSH b x", &int(1));
    assert_eq!(c.read(), pair("b", "x"));
    c.send("BRPOP a b 0");
    await_blocked(&mut admin, 1);
    admin.is("RPUSH a y", &int(1));
    assert_eq!(c.read(), pair("a", "y"));
    // BLMOVE between shards.
    c.send("BLMOVE a b LEFT LEFT 0");
    await_blocked(&mut admin, 1);
    admin.is("RPUSH a z", &int(1));
    assert_eq!(c.read(), bulk("z"));
    admin.is("LRANGE b 0 -1", &bulks(&["z"]));
    admin.is("EXISTS a", &int(0));
}

fn check_unblock_type_change_and_disconnect(shards: usize) {
    let server = Server::start(shards);
    let mut admin = Client::new(&server);
    let mut c = Client::new(&server);
    let id = c.int("CLIENT ID");
    admin.is(&format!("CLIENT UNBLOCK {id}"), &int(0));
    admin.is(
        &format!("CLIENT UNBLOCK {id} MAYBE"),
        &err("CLIENT UNBLOCK reason should be TIMEOUT or ERROR"),
    );
    admin.is("CLIENT UNBLOCK x", NOT_INT);
    c.send("BLPOP k 0");
    await_blocked(&mut admin, 1);
    assert!(admin.q("CLIENT LIST").contains("flags=b"));
    admin.is(&format!("CLIENT UNBLOCK {id}"), &int(1));
    assert_eq!(c.read(), NIL_ARRAY);
    c.send("BLMOVE k d LEFT LEFT 0");
    await_blocked(&mut admin, 1);
    admin.is(&format!("CLIENT UNBLOCK {id} ERROR"), &int(1));
    assert_eq!(
        c.read(),
        "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    );
    await_blocked(&mut admin, 0);

    // A key that becomes another type does not serve the client; it stays
    // blocked until a list appears.
    c.send("BLPOP k 0");
    await_blocked(&mut admin, 1);
    admin.is("SET k str", OK);
    admin.is("PING", "+PONG\r\n");
    await_blocked(&mut admin, 1);
    admin.is("DEL k", &int(1));
    admin.is("RPUSH k v", &int(1));
    assert_eq!(c.read(), pair("k", "v"));

    // A blocked client that disconnects is forgotten: a later push stays.
    let mut gone = Client::new(&server);
    gone.send("BLPOP q 0");
    await_blocked(&mut admin, 1);
    drop(gone);
    await_blocked(&mut admin, 0);
    admin.is("RPUSH q v", &int(1));
    admin.is("LLEN q", &int(1));
}

fn check_sorted_sets(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("BZPOPMIN z", &arity("bzpopmin"));
    c.is(
        "BZPOPMIN z x",
        &err("timeout is not a float or out of range"),
    );
    c.is("ZADD z 1 a 2 b 3 c", &int(3));
    c.is("BZPOPMIN nokey z 0", &bulks(&["z", "a", "1"]));
    c.is("BZPOPMAX z 0", &bulks(&["z", "c", "3"]));
    c.is("SET s v", OK);
    c.is("BZPOPMIN s z 0", WRONGTYPE);
    c.is(
        "BZMPOP 0 2 nokey z MIN COUNT 5",
        &arr(&[bulk("z"), arr(&[bulks(&["b", "2"])])]),
    );
    c.is("BZPOPMAX z 0.01", NIL_ARRAY);
    c.is("BZMPOP 0.01 1 z MAX", NIL_ARRAY);
    // Served by a ZADD from another connection, in arrival order.
    let mut admin = Client::new(&server);
    let mut first = Client::new(&server);
    first.send("BZPOPMIN a b 0");
    await_blocked(&mut admin, 1);
    let mut second = Client::new(&server);
    second.send("BZMPOP 0 1 b MAX COUNT 2");
    await_blocked(&mut admin, 2);
    admin.is("ZADD b 1 x 2 y 3 z", &int(3));
    assert_eq!(first.read(), bulks(&["b", "x", "1"]));
    assert_eq!(
        second.read(),
        arr(&[bulk("b"), arr(&[bulks(&["z", "3"]), bulks(&["y", "2"])])])
    );
    admin.is("EXISTS b", &int(0));
    // RESP3: the score is a double.
    assert!(c.q("HELLO 3").starts_with('%'));
    c.is("ZADD z 1.5 m", &int(1));
    c.is("BZPOPMIN z 0", "*3\r\n$1\r\nz\r\n$1\r\nm\r\n,1.5\r\n");
}

per_shards!(sorted_sets, super::check_sorted_sets);
per_shards!(immediate_and_errors, super::check_immediate_and_errors);
per_shards!(timeouts, super::check_timeouts);
per_shards!(served_by_push, super::check_served_by_push);
per_shards!(keys_on_several_shards, super::check_keys_on_several_shards);
per_shards!(
    unblock_type_change_and_disconnect,
    super::check_unblock_type_change_and_disconnect
);

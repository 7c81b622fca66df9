//! Pub/Sub, reply byte for byte in RESP2 and RESP3: SUBSCRIBE UNSUBSCRIBE
//! PSUBSCRIBE PUNSUBSCRIBE SSUBSCRIBE SUNSUBSCRIBE confirmations (with the
//! nil-channel form), message / pmessage / smessage frames, PUBLISH and
//! SPUBLISH receiver counts, the RESP2 subscribed mode (its error, PING),
//! RESP3 clients running commands while subscribed, PUBSUB sub-commands,
//! RESET and disconnects dropping subscriptions, CLIENT LIST / INFO fields,
//! `client-output-buffer-limit pubsub`, and the acceptance test: many
//! publishers and subscribers spread over shards, every message delivered
//! to every subscriber, each publisher's messages in order.
//!
//! Every expected reply here was checked against redis-server 7.0 with
//! `TESSERA_TEST_BIN=redis-server cargo test --test pubsub`. Each check
//! runs with `--shards 1` and `--shards 2`; with two shards, connections
//! land on either shard, so publisher and subscriber are often on
//! different shards.

mod common;

use std::time::Duration;

use common::text::*;
use common::{wait_until, RawConn, Server};

// --- frame builders -----------------------------------------------------------

/// A RESP2 pub/sub array (`*`) or RESP3 push (`>`) of the given items.
fn frame(push: bool, items: &[String]) -> String {
    let mut s = format!("{}{}\r\n", if push { '>' } else { '*' }, items.len());
    for i in items {
        s.push_str(i);
    }
    s
}

/// `[word, channel, count]` in RESP2.
fn conf(word: &str, channel: &str, count: i64) -> String {
    frame(false, &[bulk(word), bulk(channel), int(count)])
}

/// The nil-channel confirmation of an UNSUBSCRIBE with nothing to drop.
fn conf_nil(word: &str, count: i64) -> String {
    frame(false, &[bulk(word), NIL.to_string(), int(count)])
}

fn message(channel: &str, payload: &str) -> String {
    frame(false, &[bulk("message"), bulk(channel), bulk(payload)])
}

fn pmessage(pattern: &str, channel: &str, payload: &str) -> String {
    frame(
        false,
        &[
            bulk("pmessage"),
            bulk(pattern),
            bulk(channel),
            bulk(payload),
        ],
    )
}

fn smessage(channel: &str, payload: &str) -> String {
    frame(false, &[bulk("smessage"), bulk(channel), bulk(payload)])
}

/// The same frame as a RESP3 push.
fn push(resp2: &str) -> String {
    format!(">{}", &resp2[1..])
}

const CONTEXT_ERR: &str =
    "only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context";

fn not_in_context(cmd: &str) -> String {
    err(&format!("Can't execute '{cmd}': {CONTEXT_ERR}"))
}

/// Sends `line` and reads `n` replies (a multi-channel confirmation).
fn replies(c: &mut Client, line: &str, n: usize) -> String {
    let words: Vec<&[u8]> = line.split_whitespace().map(str::as_bytes).collect();
    c.0.send(&common::resp(&words));
    read_n(c, n)
}

fn read_n(c: &mut Client, n: usize) -> String {
    (0..n).map(|_| latin1(&c.0.read_reply())).collect()
}

/// Reads one reply and checks it is exactly `want`.
#[track_caller]
fn next_is(c: &mut Client, want: &str) {
    assert_eq!(latin1(&c.0.read_reply()), want);
}

/// The confirmations of an UNSUBSCRIBE-all (of `word`) dropping `names`:
/// one per name in any order (Redis walks a hash table), the counts going
/// down from `names.len() - 1 + rest` to `rest`.
#[track_caller]
fn check_unsubscribe_all(c: &mut Client, line: &str, word: &str, names: &[&str], rest: i64) {
    let got: Vec<String> = {
        let words: Vec<&[u8]> = line.split_whitespace().map(str::as_bytes).collect();
        c.0.send(&common::resp(&words));
        (0..names.len())
            .map(|_| latin1(&c.0.read_reply()))
            .collect()
    };
    let mut seen = Vec::new();
    for (i, f) in got.iter().enumerate() {
        let count = rest + (names.len() - 1 - i) as i64;
        let name = names
            .iter()
            .find(|n| *f == conf(word, n, count))
            .unwrap_or_else(|| panic!("unexpected confirmation {f:?} (#{i}) to `{line}`"));
        seen.push(*name);
    }
    seen.sort();
    let mut want = names.to_vec();
    want.sort();
    assert_eq!(seen, want, "names unsubscribed by `{line}`");
}

/// The bulk strings of an array reply, sorted.
fn sorted(c: &mut Client, line: &str) -> Vec<String> {
    c.sorted_list(line)
}

// --- confirmations (addReplyPubsubSubscribed / Unsubscribed) -------------------

fn check_confirmations(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("SUBSCRIBE", &arity("subscribe"));
    c.is("PSUBSCRIBE", &arity("psubscribe"));
    c.is("SSUBSCRIBE", &arity("ssubscribe"));
    // Nothing subscribed: the nil-channel form, count 0.
    c.is("UNSUBSCRIBE", &conf_nil("unsubscribe", 0));
    c.is("PUNSUBSCRIBE", &conf_nil("punsubscribe", 0));
    c.is("SUNSUBSCRIBE", &conf_nil("sunsubscribe", 0));
    // One confirmation per channel, each with the count after it.
    assert_eq!(
        replies(&mut c, "SUBSCRIBE a b", 2),
        conf("subscribe", "a", 1) + &conf("subscribe", "b", 2)
    );
    // Again: the same count, no duplicate.
    c.is("SUBSCRIBE a", &conf("subscribe", "a", 2));
    // Patterns share the count with channels.
    assert_eq!(
        replies(&mut c, "PSUBSCRIBE p* q?", 2),
        conf("psubscribe", "p*", 3) + &conf("psubscribe", "q?", 4)
    );
    // Shard channels have a count of their own.
    assert_eq!(
        replies(&mut c, "SSUBSCRIBE s1 s2 s1", 3),
        conf("ssubscribe", "s1", 1) + &conf("ssubscribe", "s2", 2) + &conf("ssubscribe", "s1", 2)
    );
    // Unsubscribing a name never subscribed still confirms it.
    assert_eq!(
        replies(&mut c, "UNSUBSCRIBE nope a", 2),
        conf("unsubscribe", "nope", 4) + &conf("unsubscribe", "a", 3)
    );
    c.is("PUNSUBSCRIBE p*", &conf("punsubscribe", "p*", 2));
    c.is("SUNSUBSCRIBE s2", &conf("sunsubscribe", "s2", 1));
    // Without names: every subscription of that kind; the other kinds count.
    c.is("UNSUBSCRIBE", &conf("unsubscribe", "b", 1));
    c.is("UNSUBSCRIBE", &conf_nil("unsubscribe", 1));
    c.is("PUNSUBSCRIBE", &conf("punsubscribe", "q?", 0));
    c.is("PUNSUBSCRIBE", &conf_nil("punsubscribe", 0));
    // Still subscribed to a shard channel: still in subscribed mode.
    c.is("GET x", &not_in_context("get"));
    c.is("SUNSUBSCRIBE", &conf("sunsubscribe", "s1", 0));
    c.is("SUNSUBSCRIBE", &conf_nil("sunsubscribe", 0));
    c.is("GET x", NIL);

    // Several at once, in any order.
    assert_eq!(
        replies(&mut c, "SUBSCRIBE x y z", 3),
        conf("subscribe", "x", 1) + &conf("subscribe", "y", 2) + &conf("subscribe", "z", 3)
    );
    check_unsubscribe_all(&mut c, "UNSUBSCRIBE", "unsubscribe", &["x", "y", "z"], 0);
    assert_eq!(
        replies(&mut c, "SSUBSCRIBE {a}1 b2 c3", 3),
        conf("ssubscribe", "{a}1", 1) + &conf("ssubscribe", "b2", 2) + &conf("ssubscribe", "c3", 3)
    );
    check_unsubscribe_all(
        &mut c,
        "SUNSUBSCRIBE",
        "sunsubscribe",
        &["{a}1", "b2", "c3"],
        0,
    );
    c.is("PING", "+PONG\r\n");
}
per_shards!(confirmations, super::check_confirmations);

// --- messages in RESP2 (pubsubPublishMessage) -----------------------------------

fn check_messages(shards: usize) {
    let server = Server::start(shards);
    let mut p = Client::new(&server);
    let mut s = Client::new(&server);
    let mut t = Client::new(&server);
    p.is("PUBLISH", &arity("publish"));
    p.is("PUBLISH ch", &arity("publish"));
    p.is("PUBLISH ch a b", &arity("publish"));
    p.is("SPUBLISH ch", &arity("spublish"));
    p.is("PUBLISH ch nobody", &int(0));
    p.is("SPUBLISH ch nobody", &int(0));

    s.is("SUBSCRIBE ch", &conf("subscribe", "ch", 1));
    p.is("PUBLISH ch hello", &int(1));
    next_is(&mut s, &message("ch", "hello"));
    // A channel and a matching pattern: two messages, counted twice.
    s.is("PSUBSCRIBE c*", &conf("psubscribe", "c*", 2));
    t.is("PSUBSCRIBE c?", &conf("psubscribe", "c?", 1));
    p.is("PUBLISH ch m2", &int(3));
    next_is(&mut s, &message("ch", "m2"));
    next_is(&mut s, &pmessage("c*", "ch", "m2"));
    next_is(&mut t, &pmessage("c?", "ch", "m2"));
    // Only the pattern matches.
    p.is("PUBLISH cat m3", &int(1));
    next_is(&mut s, &pmessage("c*", "cat", "m3"));
    // Shard channels are a namespace of their own: no patterns, no
    // channel subscribers.
    s.is("SSUBSCRIBE ch", &conf("ssubscribe", "ch", 1));
    p.is("SPUBLISH ch m4", &int(1));
    next_is(&mut s, &smessage("ch", "m4"));
    p.is("PUBLISH ch m5", &int(3));
    next_is(&mut s, &message("ch", "m5"));
    next_is(&mut s, &pmessage("c*", "ch", "m5"));
    next_is(&mut t, &pmessage("c?", "ch", "m5"));
    // Shard channels of different slots are fine without cluster mode.
    s.is("SSUBSCRIBE other", &conf("ssubscribe", "other", 2));
    p.is("SPUBLISH other m6", &int(1));
    next_is(&mut s, &smessage("other", "m6"));

    // Binary channel and payload, empty payload.
    let mut b = Client::new(&server);
    b.bis(
        &[b"SUBSCRIBE", b"bin\x00\r\n"],
        &frame(
            false,
            &[bulk("subscribe"), bulk_bytes(b"bin\x00\r\n"), int(1)],
        ),
    );
    p.bis(&[b"PUBLISH", b"bin\x00\r\n", b"\xff\x00 x\r\n"], &int(1));
    next_is(
        &mut b,
        &frame(
            false,
            &[
                bulk("message"),
                bulk_bytes(b"bin\x00\r\n"),
                bulk_bytes(b"\xff\x00 x\r\n"),
            ],
        ),
    );
    p.bis(&[b"PUBLISH", b"bin\x00\r\n", b""], &int(1));
    next_is(
        &mut b,
        &frame(
            false,
            &[bulk("message"), bulk_bytes(b"bin\x00\r\n"), bulk("")],
        ),
    );

    // Unsubscribed: no more messages (the next reply is PING's).
    s.is("UNSUBSCRIBE ch", &conf("unsubscribe", "ch", 1));
    p.is("PUBLISH ch m7", &int(2));
    next_is(&mut t, &pmessage("c?", "ch", "m7"));
    next_is(&mut s, &pmessage("c*", "ch", "m7"));
    s.is("PING", &frame(false, &[bulk("pong"), bulk("")]));
}
per_shards!(messages, super::check_messages);

// --- RESP3: pushes, any command while subscribed ---------------------------------

fn check_resp3(shards: usize) {
    let server = Server::start(shards);
    let mut p = Client::new(&server);
    let mut s = Client::new(&server);
    assert!(s.q("HELLO 3").starts_with("%7\r\n"));
    s.is("SUBSCRIBE ch", &push(&conf("subscribe", "ch", 1)));
    s.is("PSUBSCRIBE c*", &push(&conf("psubscribe", "c*", 2)));
    s.is("SSUBSCRIBE sh", &push(&conf("ssubscribe", "sh", 1)));
    // Any command runs, with its usual RESP3 reply.
    s.is("GET x", "_\r\n");
    s.is("PING", "+PONG\r\n");
    s.is("PING hi", &bulk("hi"));
    s.is("SET x 1", OK);
    s.is("PUBSUB NUMSUB ch", &arr(&[bulk("ch"), int(1)]));
    p.is("PUBLISH ch hello", &int(2));
    next_is(&mut s, &push(&message("ch", "hello")));
    next_is(&mut s, &push(&pmessage("c*", "ch", "hello")));
    p.is("SPUBLISH sh hi", &int(1));
    next_is(&mut s, &push(&smessage("sh", "hi")));
    // Publishing to itself: the pushes come before the PUBLISH reply.
    s.0.send(&common::resp(&[b"PUBLISH", b"ch", b"self"]));
    next_is(&mut s, &push(&message("ch", "self")));
    next_is(&mut s, &push(&pmessage("c*", "ch", "self")));
    next_is(&mut s, &int(2));
    // Unsubscribe confirmations are pushes too; the nil channel is `_`.
    s.is("UNSUBSCRIBE ch", &push(&conf("unsubscribe", "ch", 1)));
    s.is("UNSUBSCRIBE", ">3\r\n$11\r\nunsubscribe\r\n_\r\n:1\r\n");
    s.is("PUNSUBSCRIBE", &push(&conf("punsubscribe", "c*", 0)));
    s.is("PUNSUBSCRIBE", ">3\r\n$12\r\npunsubscribe\r\n_\r\n:0\r\n");
    s.is("SUNSUBSCRIBE", &push(&conf("sunsubscribe", "sh", 0)));
    s.is("SUNSUBSCRIBE", ">3\r\n$12\r\nsunsubscribe\r\n_\r\n:0\r\n");
    p.is("PUBLISH ch gone", &int(0));
    s.is("GET x", &bulk("1"));
    // Pipelined commands and messages from another client stay well framed.
    s.is("SUBSCRIBE ch", &push(&conf("subscribe", "ch", 1)));
    p.is("PUBLISH ch a", &int(1));
    next_is(&mut s, &push(&message("ch", "a")));
    s.0.send(
        &[
            common::resp(&[b"INCR", b"x"]),
            common::resp(&[b"GET", b"x"]),
        ]
        .concat(),
    );
    next_is(&mut s, &int(2));
    next_is(&mut s, &bulk("2"));
}
per_shards!(resp3, super::check_resp3);

// --- RESP2 subscribed mode (processCommand, pingCommand) -------------------------

fn check_subscribed_mode(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("PSUBSCRIBE p*", &conf("psubscribe", "p*", 1));
    c.is("GET x", &not_in_context("get"));
    c.is("SET x 1", &not_in_context("set"));
    c.is("PUBLISH p1 x", &not_in_context("publish"));
    c.is("CLIENT LIST", &not_in_context("client|list"));
    c.is("PUBSUB NUMSUB p", &not_in_context("pubsub|numsub"));
    c.is("HELLO 2", &not_in_context("hello"));
    // Unknown commands and wrong arity are checked first.
    c.is(
        "FOOBAR",
        &err("unknown command 'FOOBAR', with args beginning with: "),
    );
    c.is("GET", &arity("get"));
    c.is("PING a b", &arity("ping"));
    // PING answers in the pub/sub shape.
    c.is("PING", &frame(false, &[bulk("pong"), bulk("")]));
    c.is("ping hello", &frame(false, &[bulk("pong"), bulk("hello")]));
    // Allowed: all the (un)subscribe commands.
    c.is("SUBSCRIBE a", &conf("subscribe", "a", 2));
    c.is("SSUBSCRIBE s", &conf("ssubscribe", "s", 1));
    c.is("SUNSUBSCRIBE s", &conf("sunsubscribe", "s", 0));
    c.is("UNSUBSCRIBE a", &conf("unsubscribe", "a", 1));
    c.is("PUNSUBSCRIBE", &conf("punsubscribe", "p*", 0));
    // Out of subscribed mode.
    c.is("GET x", NIL);
    c.is("PING", "+PONG\r\n");

    // RESET leaves subscribed mode and drops every subscription.
    let mut p = Client::new(&server);
    c.is("SUBSCRIBE a", &conf("subscribe", "a", 1));
    c.is("SSUBSCRIBE s", &conf("ssubscribe", "s", 1));
    c.is("RESET", "+RESET\r\n");
    c.is("GET x", NIL);
    p.is("PUBLISH a x", &int(0));
    p.is("SPUBLISH s x", &int(0));
    p.is("PUBSUB NUMSUB a", &arr(&[bulk("a"), int(0)]));
    // RESP3 after RESET is back to RESP2.
    assert!(c.q("HELLO 3").starts_with("%7\r\n"));
    c.is("SUBSCRIBE a", &push(&conf("subscribe", "a", 1)));
    c.is("RESET", "+RESET\r\n");
    c.is("SUBSCRIBE a", &conf("subscribe", "a", 1));
    c.is("GET x", &not_in_context("get"));
    // QUIT works while subscribed, and closing drops the subscription.
    c.is("QUIT", OK);
    assert!(c.0.expect_closed());
    assert!(
        wait_until(Duration::from_secs(10), || p.q("PUBSUB NUMSUB a")
            == arr(&[bulk("a"), int(0)])),
        "subscription of a closed client still counted"
    );
    p.is("PUBLISH a x", &int(0));
}
per_shards!(subscribed_mode, super::check_subscribed_mode);

// --- PUBSUB (pubsubCommand) --------------------------------------------------------

const PUBSUB_HELP: &[&str] = &[
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

fn check_pubsub_command(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("PUBSUB", &arity("pubsub"));
    c.is("PUBSUB CHANNELS", EMPTY);
    c.is("PUBSUB SHARDCHANNELS", EMPTY);
    c.is("PUBSUB NUMPAT", &int(0));
    c.is("PUBSUB NUMSUB", EMPTY);
    c.is("PUBSUB SHARDNUMSUB", EMPTY);
    c.is("PUBSUB NUMSUB a", &arr(&[bulk("a"), int(0)]));
    let help: Vec<String> = PUBSUB_HELP.iter().map(|l| format!("+{l}\r\n")).collect();
    c.is("PUBSUB HELP", &arr(&help));
    c.is("pubsub help", &arr(&help));
    c.is("PUBSUB HELP x", &arity("pubsub|help"));
    c.is("PUBSUB NUMPAT x", &arity("pubsub|numpat"));
    c.is(
        "PUBSUB foo",
        &err("unknown subcommand 'foo'. Try PUBSUB HELP."),
    );
    c.is(
        "PUBSUB channels a b",
        &err("unknown subcommand or wrong number of arguments for 'channels'. Try PUBSUB HELP."),
    );
    c.is(
        "PUBSUB SHARDCHANNELS a b",
        &err(
            "unknown subcommand or wrong number of arguments for 'SHARDCHANNELS'. Try PUBSUB HELP.",
        ),
    );

    // Subscribers on several connections (so, with two shards, usually on
    // both shards): counts are summed, names listed once.
    let mut subs: Vec<Client> = (0..6).map(|_| Client::new(&server)).collect();
    for (i, s) in subs.iter_mut().enumerate() {
        s.is("SUBSCRIBE news", &conf("subscribe", "news", 1));
        if i % 2 == 0 {
            s.is("SUBSCRIBE sports", &conf("subscribe", "sports", 2));
            s.is("PSUBSCRIBE n*", &conf("psubscribe", "n*", 3));
        } else {
            s.is("PSUBSCRIBE s*", &conf("psubscribe", "s*", 2));
        }
        if i < 2 {
            s.is("SSUBSCRIBE {x}a", &conf("ssubscribe", "{x}a", 1));
        }
        s.is(
            "SSUBSCRIBE b",
            &conf("ssubscribe", "b", if i < 2 { 2 } else { 1 }),
        );
    }
    assert_eq!(sorted(&mut c, "PUBSUB CHANNELS"), ["news", "sports"]);
    assert_eq!(sorted(&mut c, "PUBSUB CHANNELS n*"), ["news"]);
    assert_eq!(sorted(&mut c, "PUBSUB CHANNELS x*"), Vec::<String>::new());
    assert_eq!(sorted(&mut c, "PUBSUB SHARDCHANNELS"), ["b", "{x}a"]);
    assert_eq!(sorted(&mut c, "PUBSUB SHARDCHANNELS {*"), ["{x}a"]);
    // Distinct patterns.
    c.is("PUBSUB NUMPAT", &int(2));
    c.is(
        "PUBSUB NUMSUB news sports n* none news",
        &arr(&[
            bulk("news"),
            int(6),
            bulk("sports"),
            int(3),
            bulk("n*"),
            int(0),
            bulk("none"),
            int(0),
            bulk("news"),
            int(6),
        ]),
    );
    c.is(
        "PUBSUB SHARDNUMSUB b {x}a news",
        &arr(&[
            bulk("b"),
            int(6),
            bulk("{x}a"),
            int(2),
            bulk("news"),
            int(0),
        ]),
    );
    // PUBLISH counts: 6 channel subscribers + 3 of `n*`.
    c.is("PUBLISH news x", &int(9));
    c.is("SPUBLISH b x", &int(6));
    // RESP3 shapes are the same (arrays).
    let mut r3 = Client::new(&server);
    assert!(r3.q("HELLO 3").starts_with("%7\r\n"));
    r3.is("PUBSUB NUMSUB sports", &arr(&[bulk("sports"), int(3)]));
    r3.is("PUBSUB NUMPAT", &int(2));

    // Disconnected subscribers are forgotten.
    drop(subs);
    assert!(
        wait_until(Duration::from_secs(10), || c.q("PUBSUB CHANNELS") == EMPTY),
        "channels of closed clients still listed"
    );
    c.is("PUBSUB NUMPAT", &int(0));
    c.is("PUBSUB SHARDCHANNELS", EMPTY);
    c.is("PUBLISH news x", &int(0));
}
per_shards!(pubsub_command, super::check_pubsub_command);

// --- CLIENT LIST / INFO / KILL, INFO stats ------------------------------------------

/// The value of `field=` in a CLIENT LIST / INFO line.
fn field<'a>(line: &'a str, name: &str) -> &'a str {
    // A RESP3 verbatim reply starts with `txt:`.
    line.split_whitespace()
        .map(|f| f.strip_prefix("txt:").unwrap_or(f))
        .find_map(|f| f.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
}

/// The value of `name:` in INFO text.
fn info_field(info: &str, name: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name}: in INFO"))
        .trim()
        .to_string()
}

fn check_client_fields(shards: usize) {
    let server = Server::start(shards);
    let mut s = Client::new(&server);
    let mut c = Client::new(&server);
    assert!(s.q("HELLO 3").starts_with("%7\r\n"));
    s.is("SUBSCRIBE a b", &push(&conf("subscribe", "a", 1)));
    next_is(&mut s, &push(&conf("subscribe", "b", 2)));
    s.is("PSUBSCRIBE p*", &push(&conf("psubscribe", "p*", 3)));
    s.is("SSUBSCRIBE x y z", &push(&conf("ssubscribe", "x", 1)));
    read_n(&mut s, 2);
    let line = s.q("CLIENT INFO");
    assert_eq!(field(&line, "flags"), "P");
    assert_eq!(field(&line, "sub"), "2");
    assert_eq!(field(&line, "psub"), "1");
    assert_eq!(field(&line, "ssub"), "3");
    let mine = c.q("CLIENT INFO");
    assert_eq!(field(&mine, "flags"), "N");
    assert_eq!(field(&mine, "sub"), "0");

    // CLIENT LIST TYPE: a subscribed client is of type pubsub.
    let sid = field(&line, "id").to_string();
    let cid = field(&mine, "id").to_string();
    let pubsub = c.q("CLIENT LIST TYPE pubsub");
    assert!(pubsub.contains(&format!("id={sid} ")), "{pubsub}");
    assert!(!pubsub.contains(&format!("id={cid} ")), "{pubsub}");
    let normal = c.q("CLIENT LIST TYPE normal");
    assert!(normal.contains(&format!("id={cid} ")), "{normal}");
    assert!(!normal.contains(&format!("id={sid} ")), "{normal}");

    let info = c.q("INFO stats");
    assert_eq!(info_field(&info, "pubsub_channels"), "2");
    assert_eq!(info_field(&info, "pubsub_patterns"), "1");
    assert_eq!(info_field(&info, "pubsubshard_channels"), "3");
    // Distinct names: another subscriber of the same ones changes nothing.
    let mut s2 = Client::new(&server);
    s2.is("SUBSCRIBE a", &conf("subscribe", "a", 1));
    s2.is("PSUBSCRIBE p*", &conf("psubscribe", "p*", 2));
    let info = c.q("INFO stats");
    assert_eq!(info_field(&info, "pubsub_channels"), "2");
    assert_eq!(info_field(&info, "pubsub_patterns"), "1");

    // CLIENT KILL TYPE pubsub closes only the subscribers.
    c.is("CLIENT KILL TYPE pubsub", &int(2));
    assert!(s.0.expect_closed());
    assert!(s2.0.expect_closed());
    c.is("PING", "+PONG\r\n");
    assert!(wait_until(Duration::from_secs(10), || {
        let info = c.q("INFO stats");
        info_field(&info, "pubsub_channels") == "0"
            && info_field(&info, "pubsub_patterns") == "0"
            && info_field(&info, "pubsubshard_channels") == "0"
    }));
}
per_shards!(client_fields, super::check_client_fields);

// --- client-output-buffer-limit pubsub ------------------------------------------------

/// Publishes `payload` to `channel` until it has no subscriber any more
/// (the slow one was closed) or `max` messages were sent.
fn publish_until_dropped(p: &mut Client, channel: &str, payload: &[u8], max: usize) -> bool {
    for i in 0..max {
        let _ = p.b(&[b"PUBLISH", channel.as_bytes(), payload]);
        if i % 8 == 0 && p.q(&format!("PUBSUB NUMSUB {channel}")) == arr(&[bulk(channel), int(0)]) {
            return true;
        }
    }
    false
}

fn check_output_buffer_limit(shards: usize) {
    let server = Server::start(shards);
    let mut p = Client::new(&server);
    // Hard limit: 256 KiB of unsent pushes closes the subscriber.
    let set_limit = |p: &mut Client, value: &str| {
        p.bis(
            &[
                b"CONFIG",
                b"SET",
                b"client-output-buffer-limit",
                value.as_bytes(),
            ],
            OK,
        )
    };
    set_limit(&mut p, "pubsub 262144 0 0");
    let mut slow = Client::new(&server);
    slow.is("SUBSCRIBE big", &conf("subscribe", "big", 1));
    let mut fast = Client::new(&server);
    fast.is("SUBSCRIBE small", &conf("subscribe", "small", 1));
    // The slow subscriber never reads; kernel socket buffers absorb a few
    // MB before the server's queue grows.
    let payload = vec![b'x'; 64 * 1024];
    assert!(
        publish_until_dropped(&mut p, "big", &payload, 4000),
        "a subscriber that does not read was never closed"
    );
    assert!(slow.0.expect_closed());
    // Others are not affected.
    p.is("PUBLISH small hi", &int(1));
    next_is(&mut fast, &message("small", "hi"));

    // Soft limit: over 64 KiB for more than a second.
    set_limit(&mut p, "pubsub 0 65536 1");
    let mut slow = Client::new(&server);
    slow.is("SUBSCRIBE big", &conf("subscribe", "big", 1));
    let mut dropped = false;
    let mut sent = 0;
    let closed = wait_until(Duration::from_secs(20), || {
        // Enough to stay over the soft limit the whole time, bounded.
        if sent < 2000 {
            dropped = publish_until_dropped(&mut p, "big", &payload, 16);
            sent += 16;
        } else {
            dropped = p.q("PUBSUB NUMSUB big") == arr(&[bulk("big"), int(0)]);
        }
        dropped
    });
    assert!(closed, "soft limit never closed the subscriber");
    assert!(slow.0.expect_closed());
    p.is("PUBLISH small hi", &int(1));
    next_is(&mut fast, &message("small", "hi"));
}
per_shards!(output_buffer_limit, super::check_output_buffer_limit);

// --- idle timeout (clientsCronHandleTimeout) ----------------------------------------

/// Subscribed clients are never closed for being idle; once unsubscribed
/// from everything they are again.
fn check_idle_timeout(shards: usize) {
    let server = Server::start_with(shards, &["--timeout", "1"]);
    let mut sub = Client::new(&server);
    sub.is("SUBSCRIBE ch", &conf("subscribe", "ch", 1));
    let mut idle = Client::new(&server);
    idle.is("PING", "+PONG\r\n");
    // `idle` was closed after a second or two; `sub` was idle as long.
    assert!(idle.0.expect_closed(), "idle client not closed");
    let mut p = Client::new(&server);
    p.is("PUBLISH ch still-here", &int(1));
    next_is(&mut sub, &message("ch", "still-here"));
    sub.is("UNSUBSCRIBE", &conf("unsubscribe", "ch", 0));
    assert!(sub.0.expect_closed(), "unsubscribed idle client not closed");
}
per_shards!(idle_timeout, super::check_idle_timeout);

// --- acceptance: many publishers and subscribers over two shards ----------------------

const PUBLISHERS: usize = 20;
const PER_PUBLISHER: usize = 50;

/// The payload of a message frame (its last bulk string).
fn payload(frame: &[u8]) -> String {
    let text = latin1(frame);
    let mut parts: Vec<&str> = text.split("\r\n").collect();
    parts.pop(); // after the last CRLF
    parts.pop().unwrap_or_default().to_string()
}

/// Reads `total` message frames of `kind` and checks that every publisher's
/// messages arrived, each publisher's in order.
fn receive_all(mut conn: RawConn, kind: &str, total: usize) -> Result<(), String> {
    let mut next = [0usize; PUBLISHERS];
    for n in 0..total {
        let frame = conn
            .try_read_reply()
            .map_err(|e| format!("after {n} messages: {e}"))?;
        let text = latin1(&frame);
        if !text.contains(&format!("\r\n{kind}\r\n")) {
            return Err(format!("not a {kind}: {text:?}"));
        }
        let body = payload(&frame);
        let (publisher, seq) = body
            .split_once(':')
            .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)))
            .ok_or_else(|| format!("bad payload {body:?}"))?;
        let want = next
            .get_mut(publisher)
            .ok_or_else(|| format!("bad publisher {publisher}"))?;
        if seq != *want {
            return Err(format!(
                "publisher {publisher}: got #{seq}, expected #{want}"
            ));
        }
        *want += 1;
    }
    Ok(())
}

#[test]
fn acceptance_many_publishers_and_subscribers() {
    let server = Server::start(2);
    // (RESP3?, subscribe command, frame kind)
    let subscribers: &[(bool, &str, &str)] = &[
        (false, "SUBSCRIBE news", "message"),
        (true, "SUBSCRIBE news", "message"),
        (false, "PSUBSCRIBE ne*", "pmessage"),
        (true, "PSUBSCRIBE n?ws", "pmessage"),
        (false, "SUBSCRIBE news", "message"),
        (true, "PSUBSCRIBE *", "pmessage"),
    ];
    let total = PUBLISHERS * PER_PUBLISHER;
    let mut readers = Vec::new();
    for &(resp3, cmd, kind) in subscribers {
        let mut c = Client::new(&server);
        if resp3 {
            assert!(c.q("HELLO 3").starts_with("%7\r\n"));
        }
        let reply = c.q(cmd);
        assert!(reply.ends_with(":1\r\n"), "{cmd}: {reply:?}");
        let conn = c.0;
        readers.push(std::thread::spawn(move || receive_all(conn, kind, total)));
    }
    let nsubs = subscribers.len() as i64;
    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|i| {
            let mut c = Client::new(&server);
            std::thread::spawn(move || {
                // Pipelined: all of them, then all the replies.
                let mut out = Vec::new();
                for seq in 0..PER_PUBLISHER {
                    let msg = format!("{i}:{seq}");
                    out.extend(common::resp(&[b"PUBLISH", b"news", msg.as_bytes()]));
                }
                c.0.send(&out);
                for seq in 0..PER_PUBLISHER {
                    let got = latin1(&c.0.read_reply());
                    if got != int(nsubs) {
                        return Err(format!("publisher {i} #{seq}: PUBLISH replied {got:?}"));
                    }
                }
                Ok(())
            })
        })
        .collect();
    for p in publishers {
        p.join().expect("publisher thread").unwrap();
    }
    for (i, r) in readers.into_iter().enumerate() {
        r.join()
            .expect("subscriber thread")
            .unwrap_or_else(|e| panic!("subscriber {i}: {e}"));
    }
}

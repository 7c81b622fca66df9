//! RESP protocol edge cases over raw sockets, no peers needed: malformed
//! framing (exact `-ERR Protocol error: …` text, then close, while other
//! clients keep being served), the size limits (inline 64 KiB,
//! `proto-max-bulk-len`, `client-query-buffer-limit`, `maxclients`), exact
//! command-error texts, pipelining order, the inline protocol and binary
//! garbage. Mirrors what Redis's `tests/unit/protocol.tcl` checks.
//!
//! Every expected reply here was checked against redis-server 7.0 with
//! `TESSERA_TEST_BIN=redis-server cargo test --test protocol`; the Redis
//! function that produces it is named next to it (`networking.c` unless said).

mod common;

use common::{resp, split_replies, wait_until, Server, XorShift, IO_TIMEOUT};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `-ERR Protocol error: <detail>\r\n`, as `addReplyError` sends it.
fn protocol_error(detail: &str) -> String {
    format!("-ERR Protocol error: {detail}\r\n")
}

/// Asserts Redis's handling of a framing error (`setProtocolError`): the
/// exact error reply, then the server closes the connection; a client that
/// connected before the bad one still gets `+PONG`, and the server is alive.
fn assert_protocol_error(server: &mut Server, payload: &[u8], expected: &str) {
    let mut bystander = server.raw();
    assert_eq!(text(&bystander.command(&[b"PING"])), "+PONG\r\n");
    let mut bad = server.raw();
    // The server may refuse the payload half-way and close: the write can
    // then fail with EPIPE/ECONNRESET, which is expected.
    let _ = bad.try_send(payload);
    assert_eq!(text(&bad.read_reply()), expected);
    assert!(
        bad.expect_closed(),
        "server did not close after `{expected}`"
    );
    assert_eq!(text(&bystander.command(&[b"PING"])), "+PONG\r\n");
    assert!(server.is_running(), "server died:\n{}", server.logs());
}

fn check_protocol_error(shards: usize, payload: &[u8], expected: &str) {
    let mut server = Server::start(shards);
    assert_protocol_error(&mut server, payload, expected);
}

// --- malformed multibulk headers (processMultibulkBuffer) -----------------

fn check_non_number_multibulk_length(shards: usize) {
    check_protocol_error(
        shards,
        b"*abc\r\n",
        &protocol_error("invalid multibulk length"),
    );
}
per_shards!(
    non_number_multibulk_length,
    super::check_non_number_multibulk_length
);

/// Counts above `INT_MAX` are refused before any allocation.
fn check_out_of_range_multibulk_length(shards: usize) {
    check_protocol_error(
        shards,
        b"*3000000000\r\n",
        &protocol_error("invalid multibulk length"),
    );
}
per_shards!(
    out_of_range_multibulk_length,
    super::check_out_of_range_multibulk_length
);

fn check_negative_bulk_length(shards: usize) {
    check_protocol_error(
        shards,
        b"*1\r\n$-5\r\n",
        &protocol_error("invalid bulk length"),
    );
}
per_shards!(negative_bulk_length, super::check_negative_bulk_length);

/// Above `proto-max-bulk-len` (512 MiB by default).
fn check_out_of_range_bulk_length(shards: usize) {
    check_protocol_error(
        shards,
        b"*1\r\n$999999999999\r\n",
        &protocol_error("invalid bulk length"),
    );
}
per_shards!(
    out_of_range_bulk_length,
    super::check_out_of_range_bulk_length
);

fn check_non_number_bulk_length(shards: usize) {
    check_protocol_error(
        shards,
        b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n",
        &protocol_error("invalid bulk length"),
    );
}
per_shards!(non_number_bulk_length, super::check_non_number_bulk_length);

fn check_multibulk_without_bulk(shards: usize) {
    check_protocol_error(
        shards,
        b"*1\r\nfoo\r\n",
        &protocol_error("expected '$', got 'f'"),
    );
}
per_shards!(multibulk_without_bulk, super::check_multibulk_without_bulk);

/// The same error in the middle of a command (protocol.tcl "Wrong multibulk
/// payload header").
fn check_wrong_bulk_header_mid_command(shards: usize) {
    check_protocol_error(
        shards,
        b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n",
        &protocol_error("expected '$', got 'f'"),
    );
}
per_shards!(
    wrong_bulk_header_mid_command,
    super::check_wrong_bulk_header_mid_command
);

// --- the 64 KiB line limit (PROTO_INLINE_MAX_SIZE) --------------------------

/// A line longer than 64 KiB with no newline yet (processInlineBuffer).
fn check_too_big_inline_request(shards: usize) {
    check_protocol_error(
        shards,
        &vec![b'a'; 70_000],
        &protocol_error("too big inline request"),
    );
}
per_shards!(too_big_inline_request, super::check_too_big_inline_request);

/// A 1 MB inline line, newline included: refused all the same, since the
/// limit applies while the line is still unterminated.
fn check_one_megabyte_inline_line(shards: usize) {
    let mut line = b"SET k ".to_vec();
    line.resize(1_000_000, b'v');
    line.extend_from_slice(b"\r\n");
    check_protocol_error(shards, &line, &protocol_error("too big inline request"));
}
per_shards!(
    one_megabyte_inline_line,
    super::check_one_megabyte_inline_line
);

fn check_too_big_mbulk_count_string(shards: usize) {
    let mut payload = b"*".to_vec();
    payload.resize(70_001, b'1');
    check_protocol_error(
        shards,
        &payload,
        &protocol_error("too big mbulk count string"),
    );
}
per_shards!(
    too_big_mbulk_count_string,
    super::check_too_big_mbulk_count_string
);

fn check_too_big_bulk_count_string(shards: usize) {
    let mut payload = b"*1\r\n$".to_vec();
    payload.resize(70_005, b'1');
    check_protocol_error(
        shards,
        &payload,
        &protocol_error("too big bulk count string"),
    );
}
per_shards!(
    too_big_bulk_count_string,
    super::check_too_big_bulk_count_string
);

// --- inline protocol (processInlineBuffer, sdssplitargs) --------------------

fn check_unbalanced_quotes(shards: usize) {
    check_protocol_error(
        shards,
        b"SET \"a b\r\n",
        &protocol_error("unbalanced quotes in request"),
    );
}
per_shards!(unbalanced_quotes, super::check_unbalanced_quotes);

fn check_inline_commands(shards: usize) {
    let server = Server::start(shards);
    let mut c = server.raw();
    c.send(b"PING\r\n");
    assert_eq!(text(&c.read_reply()), "+PONG\r\n");
    c.send(b"SET a b\r\n");
    assert_eq!(text(&c.read_reply()), "+OK\r\n");
    c.send(b"GET a\r\n");
    assert_eq!(text(&c.read_reply()), "$1\r\nb\r\n");
    // A bare LF ends a line too.
    c.send(b"PING\n");
    assert_eq!(text(&c.read_reply()), "+PONG\r\n");
    // Quoting and escapes as in sdssplitargs: "\x41" is 'A', '…' is literal.
    c.send(b"SET \"k 1\" \"v\\x41\\n\"\r\nGET \"k 1\"\r\nGET 'k 1'\r\n");
    assert_eq!(text(&c.read_reply()), "+OK\r\n");
    assert_eq!(text(&c.read_reply()), "$3\r\nvA\n\r\n");
    assert_eq!(text(&c.read_reply()), "$3\r\nvA\n\r\n");
    // Inline and multibulk can alternate on one connection.
    c.send(&resp(&[b"GET", b"a"]));
    assert_eq!(text(&c.read_reply()), "$1\r\nb\r\n");
}
per_shards!(inline_commands, super::check_inline_commands);

/// Empty inline lines and multibulk counts <= 0 are skipped without a reply
/// (protocol.tcl "Handle an empty query", "Negative multibulk length").
fn check_empty_queries_are_ignored(shards: usize) {
    let server = Server::start(shards);
    let mut c = server.raw();
    c.send(b"\r\n\n*0\r\n*-10\r\nPING\r\n");
    assert_eq!(text(&c.read_reply()), "+PONG\r\n");
}
per_shards!(
    empty_queries_are_ignored,
    super::check_empty_queries_are_ignored
);

// --- robustness ---------------------------------------------------------------

/// Deterministic binary garbage, some of it starting like a multibulk: the
/// server either errors and closes or replies, but never emits malformed
/// RESP, never dies, and keeps serving another client.
fn check_binary_garbage(shards: usize) {
    let mut server = Server::start(shards);
    let mut bystander = server.raw();
    let mut rng = XorShift::new(0x7E55_E7A0_0000_0001);
    for round in 0..24 {
        let mut garbage = rng.bytes(4096);
        match round % 3 {
            1 => garbage[0] = b'*',
            2 => garbage[..9].copy_from_slice(b"*2\r\n$100\r"),
            _ => {}
        }
        let mut conn = server.raw();
        let _ = conn.try_send(&garbage);
        // EOF from our side makes the server close once it has answered.
        conn.shutdown_write();
        let received = conn
            .read_to_close()
            .unwrap_or_else(|| panic!("round {round}: connection not closed after EOF"));
        if let Err(e) = split_replies(&received) {
            panic!("round {round}: malformed output: {e}");
        }
        assert_eq!(text(&bystander.command(&[b"PING"])), "+PONG\r\n");
    }
    assert!(server.is_running(), "server died:\n{}", server.logs());
}
per_shards!(binary_garbage, super::check_binary_garbage);

/// Bulk strings are binary safe: all 256 byte values, CR LF included.
fn check_binary_safe_values(shards: usize) {
    let server = Server::start(shards);
    let mut c = server.raw();
    let value: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    assert_eq!(
        text(&c.command(&[b"SET", b"bin\r\n\0key", &value])),
        "+OK\r\n"
    );
    let mut expected = b"$4096\r\n".to_vec();
    expected.extend_from_slice(&value);
    expected.extend_from_slice(b"\r\n");
    assert_eq!(c.command(&[b"GET", b"bin\r\n\0key"]), expected);
    assert_eq!(c.command(&[b"ECHO", &value]), expected);
}
per_shards!(binary_safe_values, super::check_binary_safe_values);

/// One command with 100 000 arguments (a multi-key DEL that spans every
/// shard).
fn check_hundred_thousand_arguments(shards: usize) {
    let server = Server::start(shards);
    let mut c = server.raw();
    for key in ["key:1", "key:50000", "key:99999"] {
        assert_eq!(text(&c.command(&[b"SET", key.as_bytes(), b"v"])), "+OK\r\n");
    }
    let keys: Vec<String> = (0..100_000).map(|i| format!("key:{i}")).collect();
    let mut args: Vec<&[u8]> = vec![b"DEL"];
    args.extend(keys.iter().map(|k| k.as_bytes()));
    assert_eq!(text(&c.command(&args)), ":3\r\n");
    assert_eq!(text(&c.command(&args)), ":0\r\n");
    assert_eq!(text(&c.command(&[b"DBSIZE"])), ":0\r\n");
}
per_shards!(
    hundred_thousand_arguments,
    super::check_hundred_thousand_arguments
);

// --- configurable limits ------------------------------------------------------

/// `proto-max-bulk-len 1mb`: a bulk of exactly 1 MiB is accepted, a 2 MiB
/// one is a protocol error as soon as its header arrives.
fn check_proto_max_bulk_len(shards: usize) {
    let mut server = Server::start_with(shards, &["--proto-max-bulk-len", "1mb"]);
    let mut c = server.raw();
    let value = vec![b'x'; 1024 * 1024];
    assert_eq!(text(&c.command(&[b"SET", b"k", &value])), "+OK\r\n");
    assert_eq!(text(&c.command(&[b"STRLEN", b"k"])), ":1048576\r\n");
    assert_protocol_error(
        &mut server,
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2097152\r\n",
        &protocol_error("invalid bulk length"),
    );
}
per_shards!(proto_max_bulk_len, super::check_proto_max_bulk_len);

/// `client-query-buffer-limit 1mb`. Redis 7.0 (`readQueryFromClient`) checks
/// the query buffer length after every read and closes the client, with no
/// reply, once it exceeds the limit. A big bulk argument is read straight into
/// the query buffer, so the partial body of a 2 MiB argument counts as well:
/// the connection is closed before the command completes. Smaller commands
/// are unaffected.
fn check_client_query_buffer_limit(shards: usize) {
    let mut server = Server::start_with(shards, &["--client-query-buffer-limit", "1mb"]);
    let mut bystander = server.raw();
    assert_eq!(text(&bystander.command(&[b"PING"])), "+PONG\r\n");

    let mut big = server.raw();
    let _ = big.try_send(b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$2097152\r\n");
    let _ = big.try_send(&vec![b'x'; 1536 * 1024]);
    let received = big
        .read_to_close()
        .expect("connection over client-query-buffer-limit must be closed");
    assert_eq!(text(&received), "", "closed without a reply");

    let mut c = server.raw();
    let value = vec![b'y'; 512 * 1024];
    assert_eq!(text(&c.command(&[b"SET", b"small", &value])), "+OK\r\n");
    assert_eq!(text(&c.command(&[b"EXISTS", b"big"])), ":0\r\n");
    assert_eq!(text(&bystander.command(&[b"PING"])), "+PONG\r\n");
    assert!(server.is_running());
}
per_shards!(
    client_query_buffer_limit,
    super::check_client_query_buffer_limit
);

/// `maxclients 5`: the 6th connection gets the error before sending anything
/// and is closed (`acceptCommonHandler`); a freed slot can be used again.
fn check_maxclients(shards: usize) {
    let server = Server::start_with(shards, &["--maxclients", "5"]);
    // The readiness probe's connection may not be reaped yet: retry each
    // admission until it answers PING.
    let mut admitted = Vec::new();
    for i in 0..5 {
        let mut conn = None;
        let ok = wait_until(IO_TIMEOUT, || {
            let mut c = server.raw();
            c.send(&resp(&[b"PING"]));
            match c.try_read_reply() {
                Ok(r) if r == b"+PONG\r\n" => {
                    conn = Some(c);
                    true
                }
                _ => false,
            }
        });
        assert!(ok, "client {} of 5 was not admitted", i + 1);
        admitted.extend(conn);
    }
    let mut sixth = server.raw();
    assert_eq!(
        text(&sixth.read_reply()),
        "-ERR max number of clients reached\r\n"
    );
    assert!(sixth.expect_closed(), "6th connection not closed");
    for c in &mut admitted {
        assert_eq!(text(&c.command(&[b"PING"])), "+PONG\r\n");
    }
    // Free one slot: a new client gets in once the server has seen the close.
    drop(admitted.pop());
    let readmitted = wait_until(IO_TIMEOUT, || {
        let mut c = server.raw();
        c.send(&resp(&[b"PING"]));
        matches!(c.try_read_reply(), Ok(r) if r == b"+PONG\r\n")
    });
    assert!(readmitted, "no client admitted after one disconnected");
}
per_shards!(maxclients, super::check_maxclients);

// --- command errors (processCommand, t_string.c): replies, connection stays --

fn check_command_error_texts(shards: usize) {
    let server = Server::start(shards);
    let mut c = server.raw();
    let cases: &[(&[&[u8]], &str)] = &[
        (
            &[b"GET"],
            "-ERR wrong number of arguments for 'get' command\r\n",
        ),
        (
            &[b"ping", b"x", b"y", b"z"],
            "-ERR wrong number of arguments for 'ping' command\r\n",
        ),
        (
            &[b"FOOBAR", b"x"],
            "-ERR unknown command 'FOOBAR', with args beginning with: 'x' \r\n",
        ),
        (
            &[b"foobar"],
            "-ERR unknown command 'foobar', with args beginning with: \r\n",
        ),
        (&[b"SET", b"n", b"abc"], "+OK\r\n"),
        (
            &[b"INCR", b"n"],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (&[b"SET", b"k", b"v", b"XX", b"NX"], "-ERR syntax error\r\n"),
    ];
    for (args, expected) in cases {
        assert_eq!(
            text(&c.command(args)),
            *expected,
            "for {:?}",
            text(&resp(args))
        );
    }
    assert_eq!(text(&c.command(&[b"PING"])), "+PONG\r\n");
}
per_shards!(command_error_texts, super::check_command_error_texts);

// --- pipelining -------------------------------------------------------------

fn check_pipelined_pings(shards: usize) {
    let server = Server::start(shards);
    let mut c = server.raw();
    const N: usize = 10_000;
    c.send(&resp(&[b"PING"]).repeat(N));
    for i in 0..N {
        assert_eq!(text(&c.read_reply()), "+PONG\r\n", "reply {i}");
    }
}
per_shards!(pipelined_pings, super::check_pipelined_pings);

/// Replies come in request order even when consecutive keys live on
/// different shards.
fn check_pipelined_replies_in_order(shards: usize) {
    let server = Server::start(shards);
    let mut c = server.raw();
    const N: usize = 1_000;
    let mut batch = Vec::new();
    for i in 0..N {
        batch.extend(resp(&[
            b"SET",
            format!("key:{i}").as_bytes(),
            i.to_string().as_bytes(),
        ]));
    }
    c.send(&batch);
    for i in 0..N {
        assert_eq!(text(&c.read_reply()), "+OK\r\n", "SET reply {i}");
    }
    let mut batch = Vec::new();
    for i in 0..N {
        batch.extend(resp(&[b"GET", format!("key:{i}").as_bytes()]));
        batch.extend(resp(&[b"INCR", b"counter"]));
    }
    c.send(&batch);
    for i in 0..N {
        let v = i.to_string();
        assert_eq!(text(&c.read_reply()), format!("${}\r\n{v}\r\n", v.len()));
        assert_eq!(text(&c.read_reply()), format!(":{}\r\n", i + 1));
    }
}
per_shards!(
    pipelined_replies_in_order,
    super::check_pipelined_replies_in_order
);

/// WRONGTYPE's exact text (`shared.wrongtypeerr`), and the connection stays
/// usable after it.
fn check_wrongtype_error_text(shards: usize) {
    let server = Server::start(shards);
    let mut c = server.raw();
    assert_eq!(text(&c.command(&[b"LPUSH", b"l", b"a"])), ":1\r\n");
    assert_eq!(
        text(&c.command(&[b"GET", b"l"])),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        text(&c.command(&[b"APPEND", b"l", b"x"])),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(text(&c.command(&[b"PING"])), "+PONG\r\n");
}
per_shards!(wrongtype_error_text, super::check_wrongtype_error_text);

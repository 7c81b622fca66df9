//! Server commands, reply byte for byte where Redis defines the bytes:
//! SLOWLOG, MONITOR, DEBUG (DIGEST DIGEST-VALUE OBJECT PROTOCOL
//! SET-ACTIVE-EXPIRE), CLIENT (ID SETNAME GETNAME LIST INFO KILL REPLY),
//! HELLO and AUTH, INFO, CONFIG (GET SET RESETSTAT REWRITE), COMMAND (COUNT
//! INFO GETKEYS), SHUTDOWN and SIGTERM, and the idle-client `timeout`.
//!
//! Every expected reply here was checked against redis-server 7.0 with
//! `TESSERA_TEST_BIN=redis-server cargo test --test server`; the few
//! assertions on tessera-only behaviour are guarded by
//! `common::testing_tessera()`. Each check runs with `--shards 1` and
//! `--shards 2`.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::time::Duration;

use common::{wait_until, RawConn, Server};

// --- reply builders, a RESP reader and a client that checks replies -----------

const OK: &str = "+OK\r\n";
const NIL: &str = "$-1\r\n";
const ZERO_DIGEST: &str = "0000000000000000000000000000000000000000";

fn int(n: i64) -> String {
    format!(":{n}\r\n")
}

fn bulk(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

/// `-ERR <msg>`.
fn err(msg: &str) -> String {
    format!("-ERR {msg}\r\n")
}

/// One parsed RESP2/RESP3 reply; enough structure for the checks below.
#[derive(Debug, Clone, PartialEq)]
enum V {
    /// `+`, `-` (kept with its text), `,`, `#`, `(`, `_` as their line.
    Line(u8, String),
    Int(i64),
    Bulk(Option<String>),
    /// `*`, `~`, `>` with their items; `%` and `|` flattened key, value, ….
    Agg(u8, Vec<V>),
}

impl V {
    fn parse(bytes: &[u8]) -> V {
        let (v, used) = V::parse_at(bytes);
        assert_eq!(used, bytes.len(), "trailing bytes after reply {bytes:?}");
        v
    }

    fn parse_at(b: &[u8]) -> (V, usize) {
        let nl = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .unwrap_or_else(|| panic!("no CRLF in {:?}", String::from_utf8_lossy(b)));
        let head = String::from_utf8_lossy(&b[1..nl]).into_owned();
        let after = nl + 2;
        let num = || -> i64 {
            head.parse()
                .unwrap_or_else(|_| panic!("bad length or integer {head:?}"))
        };
        match b[0] {
            b':' => (V::Int(num()), after),
            b'$' | b'=' | b'!' => {
                let n = num();
                if n < 0 {
                    return (V::Bulk(None), after);
                }
                let end = after + n as usize;
                let s = String::from_utf8_lossy(&b[after..end]).into_owned();
                (V::Bulk(Some(s)), end + 2)
            }
            k @ (b'*' | b'~' | b'>' | b'%' | b'|') => {
                let n = num();
                if n < 0 {
                    return (V::Bulk(None), after);
                }
                let items = if matches!(k, b'%' | b'|') { n * 2 } else { n };
                let mut pos = after;
                let mut out = Vec::new();
                for _ in 0..items {
                    let (v, used) = V::parse_at(&b[pos..]);
                    out.push(v);
                    pos += used;
                }
                (V::Agg(k, out), pos)
            }
            k => (V::Line(k, head), after),
        }
    }

    /// The text of a bulk or simple string; panics on anything else.
    #[track_caller]
    fn text(&self) -> &str {
        match self {
            V::Bulk(Some(s)) | V::Line(b'+', s) => s,
            other => panic!("expected a string, got {other:?}"),
        }
    }

    #[track_caller]
    fn items(&self) -> &[V] {
        match self {
            V::Agg(_, items) => items,
            other => panic!("expected an aggregate, got {other:?}"),
        }
    }

    #[track_caller]
    fn int(&self) -> i64 {
        match self {
            V::Int(n) => *n,
            other => panic!("expected an integer, got {other:?}"),
        }
    }

    /// The value under `key` in a flattened map (or RESP2 key/value array).
    #[track_caller]
    fn get(&self, key: &str) -> &V {
        self.items()
            .chunks(2)
            .find(|kv| kv[0].text() == key)
            .map(|kv| &kv[1])
            .unwrap_or_else(|| panic!("no `{key}` in {self:?}"))
    }
}

/// A raw connection whose replies are compared as text.
struct Client(RawConn);

impl Client {
    fn new(server: &Server) -> Client {
        Client(server.raw())
    }

    /// Sends a command given as whitespace-separated words.
    fn q(&mut self, line: &str) -> String {
        let words: Vec<&[u8]> = line.split_whitespace().map(str::as_bytes).collect();
        self.b(&words)
    }

    /// Sends a command given as exact arguments.
    fn b(&mut self, args: &[&[u8]]) -> String {
        String::from_utf8_lossy(&self.0.command(args)).into_owned()
    }

    /// The parsed reply to `line`.
    fn v(&mut self, line: &str) -> V {
        V::parse(self.q(line).as_bytes())
    }

    /// Asserts the reply to `line` is exactly `want`.
    #[track_caller]
    fn is(&mut self, line: &str, want: &str) {
        let got = self.q(line);
        assert_eq!(got, want, "reply to `{line}`");
    }

    /// The integer reply to `line`; panics on anything else.
    #[track_caller]
    fn int(&mut self, line: &str) -> i64 {
        self.v(line).int()
    }

    /// The bulk-string reply to `line` (INFO, CLIENT LIST, …).
    #[track_caller]
    fn text(&mut self, line: &str) -> String {
        self.v(line).text().to_string()
    }

    /// One `field:value` of `INFO <section>`.
    #[track_caller]
    fn info_field(&mut self, section: &str, field: &str) -> String {
        let info = self.text(&format!("INFO {section}"));
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .unwrap_or_else(|| panic!("no `{field}:` in INFO {section}:\n{info}"))
            .to_string()
    }

    /// `addr=` of this connection, from CLIENT INFO.
    fn addr(&mut self) -> String {
        let info = self.text("CLIENT INFO");
        field(&info, "addr").to_string()
    }
}

/// The value of ` name=value` in a CLIENT LIST / CLIENT INFO line.
#[track_caller]
fn field<'a>(line: &'a str, name: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no `{name}=` in {line:?}"))
}

fn start_debug(shards: usize) -> Server {
    Server::start_with(shards, &["--enable-debug-command", "yes"])
}

// --- SLOWLOG ------------------------------------------------------------------------

/// The args of a SLOWLOG GET entry: `[id, time, micros, [args], addr, name]`.
fn entry_args(entry: &V) -> Vec<String> {
    entry.items()[3]
        .items()
        .iter()
        .map(|a| a.text().to_string())
        .collect()
}

fn check_slowlog(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("CLIENT SETNAME slowclient", OK);
    c.is("CONFIG SET slowlog-log-slower-than 0", OK);
    // A keyless command runs on the connection's own shard; `slowlog_keyed`
    // covers keys on another shard.
    c.is("ECHO slowecho", &bulk("slowecho"));
    let got = c.v("SLOWLOG GET 1");
    let entries = got.items();
    assert_eq!(entries.len(), 1, "SLOWLOG GET 1: {got:?}");
    let entry = entries[0].items();
    assert_eq!(entry.len(), 6, "entry: {got:?}");
    assert!(entry[0].int() >= 0 && entry[1].int() > 0 && entry[2].int() >= 0);
    assert_eq!(entry_args(&entries[0]), ["ECHO", "slowecho"]);
    let addr = c.addr();
    assert!(addr.starts_with("127.0.0.1:"), "addr {addr}");
    assert_eq!(entry[4].text(), addr, "client addr of the entry");
    assert_eq!(entry[5].text(), "slowclient", "client name of the entry");
    assert!(c.int("SLOWLOG LEN") >= 1);

    // RESET empties the log, and is then logged itself (slowlogPushCurrentCommand
    // runs after the command, with the threshold still 0).
    c.is("SLOWLOG RESET", OK);
    c.is("SLOWLOG LEN", &int(1));
    // Newest first: the LEN just run, then the RESET.
    let got = c.v("SLOWLOG GET");
    let args: Vec<Vec<String>> = got.items().iter().map(entry_args).collect();
    assert_eq!(args, [["SLOWLOG", "LEN"], ["SLOWLOG", "RESET"]]);

    c.is(
        "SLOWLOG GET -2",
        &err("count should be greater than or equal to -1"),
    );
    let help = c.v("SLOWLOG HELP");
    assert!(help.items().len() > 3, "SLOWLOG HELP: {help:?}");
    assert!(help.items()[0].text().starts_with("SLOWLOG"), "{help:?}");

    // -1 disables the log.
    c.is("CONFIG SET slowlog-log-slower-than -1", OK);
    c.is("SLOWLOG RESET", OK);
    c.is("SET a 1", OK);
    c.is("GET a", &bulk("1"));
    c.is("SLOWLOG LEN", &int(0));
    c.is("SLOWLOG GET", "*0\r\n");
}
per_shards!(slowlog, super::check_slowlog);

/// Key commands are logged whichever shard owns the key (with two shards
/// some of these keys live on the other one).
fn check_slowlog_keyed(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("CONFIG SET slowlog-log-slower-than 0", OK);
    let keys = ["a", "b", "c", "d", "e", "f", "g", "h"];
    for k in keys {
        c.is(&format!("SET {k} v"), OK);
        let got = c.v("SLOWLOG GET 1");
        let entries = got.items();
        assert_eq!(entries.len(), 1, "after SET {k}: {got:?}");
        assert_eq!(entry_args(&entries[0]), ["SET", k, "v"], "after SET {k}");
    }
}
per_shards!(slowlog_keyed, super::check_slowlog_keyed);

// --- MONITOR ------------------------------------------------------------------------

/// Asserts `line` is `+<secs>.<6 digits> [0 <addr>] <args>\r\n`.
#[track_caller]
fn assert_monitor_line(line: &[u8], addr: &str, args: &str) {
    let line = String::from_utf8_lossy(line);
    let rest = line
        .strip_prefix('+')
        .and_then(|l| l.strip_suffix("\r\n"))
        .unwrap_or_else(|| panic!("not a status line: {line:?}"));
    let (time, rest) = rest.split_once(' ').expect("time then space");
    let (secs, micros) = time.split_once('.').expect("secs.micros");
    assert!(
        !secs.is_empty() && secs.bytes().all(|b| b.is_ascii_digit()),
        "{line:?}"
    );
    assert!(
        micros.len() == 6 && micros.bytes().all(|b| b.is_ascii_digit()),
        "{line:?}"
    );
    assert_eq!(rest, format!("[0 {addr}] {args}"), "monitor line {line:?}");
}

fn check_monitor(shards: usize) {
    let server = Server::start(shards);
    let mut monitor = server.raw();
    assert_eq!(monitor.command(&[b"MONITOR"]), b"+OK\r\n");
    let mut c = Client::new(&server);
    let addr = c.addr();
    c.is("SET foo bar", OK);
    c.is("get foo", &bulk("bar"));
    // Admin commands are not fed to monitors.
    c.is("CONFIG SET slowlog-max-len 200", OK);
    c.is(
        "CONFIG GET slowlog-max-len",
        "*2\r\n$15\r\nslowlog-max-len\r\n$3\r\n200\r\n",
    );
    c.is("PING", "+PONG\r\n");
    // The CLIENT INFO that read `addr` ran after MONITOR: it is the first line.
    assert_monitor_line(&monitor.read_reply(), &addr, "\"CLIENT\" \"INFO\"");
    assert_monitor_line(&monitor.read_reply(), &addr, "\"SET\" \"foo\" \"bar\"");
    assert_monitor_line(&monitor.read_reply(), &addr, "\"get\" \"foo\"");
    assert_monitor_line(&monitor.read_reply(), &addr, "\"PING\"");

    monitor.send(&common::resp(&[b"QUIT"]));
    let rest = monitor.read_to_close().expect("monitor closed after QUIT");
    assert_eq!(String::from_utf8_lossy(&rest), OK, "reply to QUIT");
}
per_shards!(monitor, super::check_monitor);

// --- DEBUG --------------------------------------------------------------------------

fn load_same_keys(c: &mut Client) {
    c.is("MSET a 1 b 2 c hello {x}d 12345678901234567890", OK);
    c.is("SET e world", OK);
}

fn check_debug_digest(shards: usize) {
    let server = start_debug(shards);
    let mut c = Client::new(&server);
    c.is("DEBUG DIGEST", &format!("+{ZERO_DIGEST}\r\n"));
    c.is(
        "DEBUG DIGEST-VALUE nokey",
        &format!("*1\r\n+{ZERO_DIGEST}\r\n"),
    );
    load_same_keys(&mut c);
    let digest = c.q("DEBUG DIGEST");
    assert_ne!(digest, format!("+{ZERO_DIGEST}\r\n"));
    assert_eq!(digest.len(), 1 + 40 + 2, "{digest:?}");
    // Another server with the other shard count and the same keys agrees.
    let other = start_debug(3 - shards);
    let mut o = Client::new(&other);
    load_same_keys(&mut o);
    assert_eq!(
        o.q("DEBUG DIGEST"),
        digest,
        "digest with {} shards",
        3 - shards
    );
    let values = c.v("DEBUG DIGEST-VALUE a nokey");
    assert_eq!(values.items().len(), 2);
    assert_ne!(values.items()[0].text(), ZERO_DIGEST);
    assert_eq!(values.items()[1].text(), ZERO_DIGEST);
    // Any write changes it.
    c.is("SET a 2", OK);
    assert_ne!(c.q("DEBUG DIGEST"), digest);
    c.is("SET a 1", OK);
    assert_eq!(c.q("DEBUG DIGEST"), digest, "same data, same digest");
}
per_shards!(debug_digest, super::check_debug_digest);

fn check_debug_object(shards: usize) {
    let server = start_debug(shards);
    let mut c = Client::new(&server);
    c.is("DEBUG OBJECT nokey", &err("no such key"));
    c.is("SET k hello", OK);
    let got = c.q("DEBUG OBJECT k");
    assert!(got.starts_with("+Value at:"), "{got:?}");
    assert!(got.contains(" encoding:embstr "), "{got:?}");
    c.is("SET n 123", OK);
    let got = c.q("DEBUG OBJECT n");
    assert!(got.contains(" encoding:int "), "{got:?}");
}
per_shards!(debug_object, super::check_debug_object);

fn check_debug_protocol(shards: usize) {
    let server = start_debug(shards);
    let mut c = Client::new(&server);
    let hello = c.q("HELLO 3");
    assert!(hello.starts_with('%'), "{hello:?}");
    c.is(
        "DEBUG PROTOCOL map",
        "%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n",
    );
    c.is("DEBUG PROTOCOL set", "~3\r\n:0\r\n:1\r\n:2\r\n");
    c.is("DEBUG PROTOCOL double", ",3.141\r\n");
    c.is("DEBUG PROTOCOL true", "#t\r\n");
    c.is("DEBUG PROTOCOL false", "#f\r\n");
    c.is("DEBUG PROTOCOL null", "_\r\n");
    c.is(
        "DEBUG PROTOCOL verbatim",
        "=29\r\ntxt:This is a verbatim\nstring\r\n",
    );
    c.is(
        "DEBUG PROTOCOL bignum",
        "(1234567999999999999999999999999999999\r\n",
    );
    // The same commands in RESP2.
    c.q("HELLO 2");
    c.is("DEBUG PROTOCOL true", &int(1));
    c.is("DEBUG PROTOCOL null", NIL);
}
per_shards!(debug_protocol, super::check_debug_protocol);

fn check_debug_active_expire(shards: usize) {
    let server = start_debug(shards);
    let mut c = Client::new(&server);
    c.is("DEBUG SET-ACTIVE-EXPIRE 0", OK);
    c.is("SET k v PX 1", OK);
    c.is("SET probe v PX 1", OK);
    // `probe` was set after `k`: once it has expired (lazily, on EXISTS), so
    // has `k`, but nothing deleted `k` yet.
    let gone = wait_until(Duration::from_secs(5), || c.q("EXISTS probe") == int(0));
    assert!(gone, "PX 1 key still exists after 5 s");
    c.is("DBSIZE", &int(1));
    c.is("GET k", NIL);
    c.is("DBSIZE", &int(0));

    c.is("DEBUG SET-ACTIVE-EXPIRE 1", OK);
    c.is("SET k v PX 1", OK);
    let gone = wait_until(Duration::from_secs(10), || c.q("DBSIZE") == int(0));
    assert!(gone, "active expiry did not delete a PX 1 key in 10 s");
}
per_shards!(debug_active_expire, super::check_debug_active_expire);

fn check_debug_disabled(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is(
        "DEBUG DIGEST",
        &err(
            "DEBUG command not allowed. If the enable-debug-command option is set to \"local\", \
             you can run it from a local connection, otherwise you need to set this option \
             in the configuration file, and then restart the server.",
        ),
    );
}
per_shards!(debug_disabled, super::check_debug_disabled);

// --- CLIENT -------------------------------------------------------------------------

fn check_client(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    let id = c.int("CLIENT ID");
    assert!(id > 0);
    c.is("CLIENT GETNAME", NIL);
    c.is("CLIENT SETNAME myname", OK);
    c.is("CLIENT GETNAME", &bulk("myname"));
    assert_eq!(
        c.b(&[b"CLIENT", b"SETNAME", b"a b"]),
        err("Client names cannot contain spaces, newlines or special characters.")
    );
    c.is("CLIENT GETNAME", &bulk("myname"));

    let info = c.text("CLIENT INFO");
    assert!(
        info.starts_with(&format!("id={id} addr=127.0.0.1:")),
        "{info:?}"
    );
    assert_eq!(field(&info, "name"), "myname");
    assert!(!field(&info, "cmd").is_empty());

    let mut other = Client::new(&server);
    let other_id = other.int("CLIENT ID");
    assert_ne!(other_id, id);
    let list = c.text("CLIENT LIST");
    let mine = list
        .lines()
        .find(|l| l.starts_with(&format!("id={id} ")))
        .unwrap_or_else(|| panic!("no id={id} in CLIENT LIST:\n{list}"));
    assert_eq!(field(mine, "name"), "myname");
    assert!(field(mine, "cmd").starts_with("client"), "{mine}");
    let theirs = list
        .lines()
        .find(|l| l.starts_with(&format!("id={other_id} ")))
        .unwrap_or_else(|| panic!("no id={other_id} in CLIENT LIST:\n{list}"));
    assert!(field(theirs, "cmd").starts_with("client"), "{theirs}");

    c.is(&format!("CLIENT KILL ID {other_id}"), &int(1));
    // Gone at once, as in Redis, even before its connection has closed.
    let list = c.text("CLIENT LIST");
    assert!(
        !list.contains(&format!("id={other_id} ")),
        "killed client still listed:\n{list}"
    );
    let info = c.text("INFO clients");
    assert!(info.contains("connected_clients:1\r\n"), "{info}");
    assert!(other.0.expect_closed(), "killed connection still open");
    c.is(&format!("CLIENT KILL ID {other_id}"), &int(0));
    c.is("PING", "+PONG\r\n");
}
per_shards!(client, super::check_client);

/// `cmd=` names a subcommand as `container|sub` (Redis 7.0 `getFullCommandName`).
fn check_client_list_cmd(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    let info = c.text("CLIENT INFO");
    assert_eq!(field(&info, "cmd"), "client|info");
    c.is("GET k", NIL);
    let list = c.text("CLIENT LIST");
    assert_eq!(field(&list, "cmd"), "client|list");
}
mod client_list_cmd {
    #[test]
    fn shards_1() {
        super::check_client_list_cmd(1)
    }
    #[test]
    fn shards_2() {
        super::check_client_list_cmd(2)
    }
}

fn check_client_reply(shards: usize) {
    let server = Server::start(shards);
    let mut raw = server.raw();
    raw.send(&common::resp(&[b"CLIENT", b"REPLY", b"OFF"]));
    raw.send(&common::resp(&[b"SET", b"a", b"1"]));
    raw.send(&common::resp(&[b"GET", b"a"]));
    raw.send(&common::resp(&[b"NOSUCHCOMMAND"]));
    // ON is answered; nothing before it was.
    assert_eq!(raw.command(&[b"CLIENT", b"REPLY", b"ON"]), b"+OK\r\n");
    assert_eq!(raw.command(&[b"GET", b"a"]), b"$1\r\n1\r\n");
    // SKIP: no reply to itself nor to the next command, then normal again.
    raw.send(&common::resp(&[b"CLIENT", b"REPLY", b"SKIP"]));
    raw.send(&common::resp(&[b"SET", b"a", b"2"]));
    assert_eq!(raw.command(&[b"GET", b"a"]), b"$1\r\n2\r\n");
    assert_eq!(raw.command(&[b"PING"]), b"+PONG\r\n");
}
per_shards!(client_reply, super::check_client_reply);

// --- HELLO and AUTH -----------------------------------------------------------------

fn check_hello(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    let id = c.int("CLIENT ID");
    let hello = c.q("HELLO 3");
    assert!(hello.starts_with("%7\r\n"), "{hello:?}");
    let map = V::parse(hello.as_bytes());
    let keys: Vec<&str> = map.items().chunks(2).map(|kv| kv[0].text()).collect();
    assert_eq!(
        keys,
        ["server", "version", "proto", "id", "mode", "role", "modules"]
    );
    assert_eq!(map.get("server").text(), "redis");
    assert!(map.get("version").text().starts_with("7."), "{map:?}");
    assert_eq!(map.get("proto").int(), 3);
    assert_eq!(map.get("id").int(), id);
    assert_eq!(map.get("mode").text(), "standalone");
    assert_eq!(map.get("role").text(), "master");
    assert_eq!(map.get("modules"), &V::Agg(b'*', vec![]));
    c.is("HELLO 4", "-NOPROTO unsupported protocol version\r\n");
    let resp2 = c.q("HELLO 2");
    assert!(resp2.starts_with("*14\r\n"), "{resp2:?}");
    c.is(
        "AUTH secret",
        &err(
            "AUTH <password> called without any password configured for the default user. \
             Are you sure your configuration is correct?",
        ),
    );
}
per_shards!(hello, super::check_hello);

fn check_auth(shards: usize) {
    // The harness waits for PING to answer +PONG, so the password is set
    // once the server is up; it applies to connections opened afterwards.
    let server = Server::start(shards);
    let mut admin = Client::new(&server);
    admin.is("CONFIG SET requirepass secret", OK);
    let mut c = Client::new(&server);
    let noauth = "-NOAUTH Authentication required.\r\n";
    c.is("GET x", noauth);
    c.is("SET x 1", noauth);
    c.is(
        "AUTH wrong",
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    c.is("GET x", noauth);
    c.is("AUTH secret", OK);
    c.is("SET x 1", OK);
    c.is("GET x", &bulk("1"));
    // HELLO can authenticate too.
    let mut h = Client::new(&server);
    let got = h.q("HELLO 3 AUTH default secret");
    assert!(got.starts_with("%7\r\n"), "{got:?}");
    h.is("GET x", &bulk("1"));
}
per_shards!(auth, super::check_auth);

// --- INFO ---------------------------------------------------------------------------

fn check_info(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    let info = c.text("INFO");
    for want in [
        "# Server\r\n",
        "\r\nredis_version:",
        "# Clients\r\n",
        "\r\nconnected_clients:",
        "# Keyspace\r\n",
    ] {
        assert!(info.contains(want), "no {want:?} in INFO:\n{info}");
    }
    if common::testing_tessera() {
        assert_eq!(c.info_field("server", "shards"), shards.to_string());
    }
    c.is("INFO keyspace", &bulk("# Keyspace\r\n"));
    c.is("MSET a 1 b 2 c 3 d 4", OK);
    c.is("SET e 5 EX 1000", OK);
    c.is("SET f 6 EX 2000", OK);
    let db0 = c.info_field("keyspace", "db0");
    assert!(db0.starts_with("keys=6,expires=2,avg_ttl="), "db0:{db0}");

    let n1: u64 = c
        .info_field("stats", "total_commands_processed")
        .parse()
        .unwrap();
    for _ in 0..5 {
        c.is("PING", "+PONG\r\n");
    }
    let n2: u64 = c
        .info_field("stats", "total_commands_processed")
        .parse()
        .unwrap();
    assert!(n2 >= n1 + 6, "total_commands_processed {n1} then {n2}");
}
per_shards!(info, super::check_info);

// --- CONFIG -------------------------------------------------------------------------

fn check_config(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is(
        "CONFIG GET maxmemory",
        "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n",
    );
    let all = c.v("CONFIG GET max*");
    let names: Vec<&str> = all.items().chunks(2).map(|kv| kv[0].text()).collect();
    assert!(all.items().len() % 2 == 0);
    for want in ["maxmemory", "maxclients", "maxmemory-policy"] {
        assert!(
            names.contains(&want),
            "no {want} in CONFIG GET max*: {names:?}"
        );
    }
    assert!(names.iter().all(|n| n.starts_with("max")), "{names:?}");
    c.is("CONFIG SET maxmemory 100mb", OK);
    c.is(
        "CONFIG GET maxmemory",
        "*2\r\n$9\r\nmaxmemory\r\n$9\r\n104857600\r\n",
    );
    c.is(
        "CONFIG SET nosuchoption 1",
        &err("Unknown option or number of arguments for CONFIG SET - 'nosuchoption'"),
    );
    c.is(
        "CONFIG SET databases 4",
        &err(
            "CONFIG SET failed (possibly related to argument 'databases') - \
             can't set immutable config",
        ),
    );
    c.is(
        "CONFIG REWRITE",
        &err("The server is running without a config file"),
    );

    for _ in 0..20 {
        c.is("PING", "+PONG\r\n");
    }
    let before: u64 = c
        .info_field("stats", "total_commands_processed")
        .parse()
        .unwrap();
    assert!(before > 20);
    c.is("CONFIG RESETSTAT", OK);
    let after: u64 = c
        .info_field("stats", "total_commands_processed")
        .parse()
        .unwrap();
    assert!(
        after <= 2,
        "total_commands_processed {after} after RESETSTAT"
    );
}
per_shards!(config, super::check_config);

fn check_config_rewrite(shards: usize) {
    let conf_dir = tempfile::tempdir().expect("temp dir");
    let conf = conf_dir.path().join("tessera.conf");
    std::fs::write(&conf, "# written by tests/server.rs\nmaxmemory 2mb\n").unwrap();
    let conf_arg = conf.to_str().unwrap();
    let server = Server::start_with(shards, &[conf_arg]);
    let mut c = Client::new(&server);
    c.is(
        "CONFIG GET maxmemory",
        "*2\r\n$9\r\nmaxmemory\r\n$7\r\n2097152\r\n",
    );
    c.is("CONFIG SET maxmemory 1mb", OK);
    c.is("CONFIG REWRITE", OK);
    let text = std::fs::read_to_string(&conf).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&"maxmemory 1mb"), "rewritten file:\n{text}");
    assert!(!lines.contains(&"maxmemory 2mb"), "rewritten file:\n{text}");
    assert!(
        lines.contains(&"# written by tests/server.rs"),
        "comment lost:\n{text}"
    );
}
per_shards!(config_rewrite, super::check_config_rewrite);

// --- COMMAND ------------------------------------------------------------------------

fn check_command(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    let count = c.int("COMMAND COUNT");
    assert!(count > 50, "COMMAND COUNT {count}");
    let info = c.v("COMMAND INFO get");
    let get = &info.items()[0];
    assert_eq!(get.items()[0].text(), "get");
    assert_eq!(get.items()[1].int(), 2);
    let flags: Vec<&str> = get.items()[2].items().iter().map(V::text).collect();
    assert!(
        flags.contains(&"readonly") && flags.contains(&"fast"),
        "{flags:?}"
    );
    assert_eq!(get.items()[3].int(), 1, "first key");
    assert_eq!(get.items()[4].int(), 1, "last key");
    assert_eq!(get.items()[5].int(), 1, "step");
    c.is(
        "COMMAND GETKEYS MSET a 1 b 2",
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
    );
    c.is(
        "COMMAND GETKEYS ECHO hello",
        &err("The command has no key arguments"),
    );
    c.is(
        "COMMAND GETKEYS nosuch a",
        &err("Invalid command specified"),
    );
}
per_shards!(command, super::check_command);

/// An unknown name in COMMAND INFO is a null bulk in RESP2 (`addReplyNull`);
/// COMMAND GETKEYS checks its own arity (-3) before looking at the command.
fn check_command_edge_replies(shards: usize) {
    let server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is(
        "COMMAND GETKEYS PING",
        &err("wrong number of arguments for 'command|getkeys' command"),
    );
    c.is("COMMAND INFO nosuchcommand", "*1\r\n$-1\r\n");
    let get = c.q("COMMAND INFO get");
    let want = format!("*2\r\n{}$-1\r\n", &get[4..]);
    c.is("COMMAND INFO get nosuchcommand", &want);
}
mod command_edge_replies {
    #[test]
    fn shards_1() {
        super::check_command_edge_replies(1)
    }
    #[test]
    fn shards_2() {
        super::check_command_edge_replies(2)
    }
}

// --- SHUTDOWN, SIGTERM, timeout ----------------------------------------------------

fn check_shutdown_nosave(shards: usize) {
    let mut server = Server::start(shards);
    let mut raw = server.raw();
    raw.send(&common::resp(&[b"SHUTDOWN", b"NOSAVE"]));
    let gone = wait_until(Duration::from_secs(10), || !server.is_running());
    assert!(gone, "still running 10 s after SHUTDOWN NOSAVE");
    let status = server.stop().expect("exit status");
    assert!(status.success(), "exit status {status}");
    assert!(raw.expect_closed());
}
per_shards!(shutdown_nosave, super::check_shutdown_nosave);

fn check_sigterm(shards: usize) {
    let mut server = Server::start(shards);
    let mut c = Client::new(&server);
    c.is("SET a 1", OK);
    let status = server.stop().expect("exit status");
    assert!(status.success(), "exit status {status} after SIGTERM");
    let logs = server.logs().to_lowercase();
    assert!(logs.contains("ready to exit"), "{logs}");
}
per_shards!(sigterm, super::check_sigterm);

fn check_idle_timeout(shards: usize) {
    let server = Server::start_with(shards, &["--timeout", "1"]);
    let mut c = Client::new(&server);
    c.is("CONFIG GET timeout", "*2\r\n$7\r\ntimeout\r\n$1\r\n1\r\n");
    let mut idle = TcpStream::connect(server.addr()).expect("connect");
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 16];
    match idle.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("idle connection not closed within 5 s: {other:?}"),
    }
}
per_shards!(idle_timeout, super::check_idle_timeout);

/// `THP_enabled` of a process's /proc status (0: PR_SET_THP_DISABLE is set).
fn thp_enabled(pid: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("THP_enabled:"))
        .unwrap_or_else(|| panic!("no THP_enabled in /proc/{pid}/status (Linux 5.0+)"))
        .trim()
        .to_string()
}

/// `disable-thp yes`, the default: the server turns transparent huge pages
/// off for itself (huge-page faults stall a shard for milliseconds); with
/// `no` it keeps what it inherited.
#[test]
fn disable_thp_turns_huge_pages_off_for_the_process() {
    let server = Server::start(1);
    let mut c = Client::new(&server);
    c.is(
        "CONFIG GET disable-thp",
        "*2\r\n$11\r\ndisable-thp\r\n$3\r\nyes\r\n",
    );
    assert_eq!(thp_enabled(&server.pid().to_string()), "0");
    let kept = Server::start_with(1, &["--disable-thp", "no"]);
    assert_eq!(
        thp_enabled(&kept.pid().to_string()),
        thp_enabled("self"),
        "with disable-thp no the server keeps the THP setting it started with"
    );
}

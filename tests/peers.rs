//! Interop with Redis's own client tools: `redis-cli` (argument mode, stdin
//! mode, `--pipe` mass insertion) and `redis-benchmark` (CSV output, no error
//! replies, exact side effects), each against tessera with 1 and 2 shards.
//! Also checks that the preset `tuning/tessera-fast.conf` only uses directives
//! that Redis 7.0 knows, and that tessera starts with it.
//!
//! Peers are looked up with `common::peer`: with `TESSERA_PEERS=1` a missing
//! one fails the test, otherwise the test says "skipped: …" and returns.

mod common;

use common::{peer, run_bounded, Server};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// Upper bound for one run of a peer program.
const PEER_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs `prog -h 127.0.0.1 -p <port> args...` with `stdin`, bounded in time.
fn run(prog: &Path, server: &Server, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let port = server.port.to_string();
    let mut cmd = Command::new(prog);
    cmd.args(["-h", "127.0.0.1", "-p", &port]).args(args);
    run_bounded(&mut cmd, stdin, PEER_TIMEOUT)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts exit 0 and returns stdout.
fn ok_stdout(what: &str, out: &Output) -> String {
    assert!(
        out.status.success(),
        "{what}: exit {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn check_cli_ping(shards: usize) {
    let Some(cli) = peer("redis-cli") else { return };
    let server = Server::start(shards);
    let out = run(&cli, &server, &["ping"], None);
    assert_eq!(ok_stdout("redis-cli ping", &out), "PONG\n");
}
per_shards!(cli_ping, super::check_cli_ping);

fn check_cli_set_get(shards: usize) {
    let Some(cli) = peer("redis-cli") else { return };
    let server = Server::start(shards);
    let out = run(&cli, &server, &["set", "greeting", "hello world"], None);
    assert_eq!(ok_stdout("redis-cli set", &out), "OK\n");
    let out = run(&cli, &server, &["get", "greeting"], None);
    assert_eq!(ok_stdout("redis-cli get", &out), "hello world\n");
    // A missing key: redis-cli prints an empty line for a nil in raw mode.
    let out = run(&cli, &server, &["get", "nosuchkey"], None);
    assert_eq!(ok_stdout("redis-cli get missing", &out), "\n");
}
per_shards!(cli_set_get, super::check_cli_set_get);

/// `echo "SET a b" | redis-cli`: redis-cli reads one command per stdin line
/// (split like the inline protocol) and prints each reply.
fn check_cli_stdin(shards: usize) {
    let Some(cli) = peer("redis-cli") else { return };
    let server = Server::start(shards);
    let script =
        b"SET a b\nGET a\nSET \"key with space\" \"v 1\"\nGET \"key with space\"\nINCR n\nINCR n\n";
    let out = run(&cli, &server, &[], Some(script));
    assert_eq!(
        ok_stdout("redis-cli < script", &out),
        "OK\nb\nOK\nv 1\n1\n2\n"
    );
}
per_shards!(cli_stdin, super::check_cli_stdin);

/// Mass insertion as documented by Redis: RESP on stdin to `redis-cli --pipe`.
fn check_cli_pipe(shards: usize) {
    let Some(cli) = peer("redis-cli") else { return };
    let server = Server::start(shards);
    const N: usize = 10_000;
    let mut input = Vec::new();
    for i in 0..N {
        let key = format!("key:{i}");
        let val = format!("value:{i}");
        input.extend_from_slice(&common::resp(&[b"SET", key.as_bytes(), val.as_bytes()]));
    }
    let out = run(&cli, &server, &["--pipe"], Some(&input));
    let stdout = ok_stdout("redis-cli --pipe", &out);
    assert!(
        stdout.contains(&format!("errors: 0, replies: {N}")),
        "unexpected --pipe summary:\n{stdout}"
    );
    let mut con = server.client();
    let dbsize: usize = redis::cmd("DBSIZE").query(&mut con).expect("DBSIZE");
    assert_eq!(dbsize, N);
    let v: String = redis::cmd("GET")
        .arg("key:9999")
        .query(&mut con)
        .expect("GET");
    assert_eq!(v, "value:9999");
}
per_shards!(cli_pipe, super::check_cli_pipe);

/// Runs redis-benchmark with `-n n -P 16 -q --csv` for `tests`; asserts exit 0,
/// nothing on stderr (so also no "WARNING: Could not fetch server CONFIG": a
/// drop-in answers `CONFIG GET save`/`appendonly`), and one row per title.
fn benchmark(server: &Server, tests: &str, n: usize, titles: &[&str]) -> Vec<common::BenchRow> {
    let bench = peer("redis-benchmark").expect("checked by caller");
    let n_arg = n.to_string();
    let out = run(
        &bench,
        server,
        &["-t", tests, "-n", &n_arg, "-P", "16", "-q", "--csv"],
        None,
    );
    let stdout = ok_stdout("redis-benchmark", &out);
    let stderr = text(&out.stderr);
    assert!(
        stderr.trim().is_empty(),
        "redis-benchmark stderr:\n{stderr}"
    );
    assert!(
        !stdout.contains("ERR") && !stdout.to_lowercase().contains("error"),
        "redis-benchmark reported errors:\n{stdout}"
    );
    let rows = common::parse_benchmark_csv(&stdout).unwrap_or_else(|e| panic!("{e}\n{stdout}"));
    let got: Vec<&str> = rows.iter().map(|r| r.test.as_str()).collect();
    assert_eq!(got, titles, "tests in CSV output:\n{stdout}");
    for row in &rows {
        assert!(row.rps > 0.0, "zero throughput: {row:?}");
    }
    rows
}

/// Requests redis-benchmark issues for `-n n -P p`: whole pipelines, so `n`
/// rounded up to a multiple of `p`.
fn issued(n: usize, pipeline: usize) -> usize {
    n.div_ceil(pipeline) * pipeline
}

fn check_benchmark(shards: usize) {
    if peer("redis-benchmark").is_none() {
        return;
    }
    let server = Server::start(shards);
    const N: usize = 100_000;
    benchmark(
        &server,
        "set,get,incr,mset",
        N,
        &["SET", "GET", "INCR", "MSET (10 keys)"],
    );
    // Without -r, redis-benchmark uses the literal key names: every INCR hit
    // the one key `counter:__rand_int__`, every SET/MSET `key:__rand_int__`.
    let mut con = server.client();
    let counter: i64 = redis::cmd("GET")
        .arg("counter:__rand_int__")
        .query(&mut con)
        .expect("GET counter");
    assert_eq!(counter, issued(N, 16) as i64);
    // redis-benchmark 7.0 sends random 3-byte values (default `-d 3`).
    let value: Vec<u8> = redis::cmd("GET")
        .arg("key:__rand_int__")
        .query(&mut con)
        .expect("GET key");
    assert_eq!(value.len(), 3, "value {value:?}");
    let dbsize: usize = redis::cmd("DBSIZE").query(&mut con).expect("DBSIZE");
    assert_eq!(dbsize, 2);
}
per_shards!(benchmark_strings, super::check_benchmark);

fn preset_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tuning/tessera-fast.conf")
}

/// Every directive in the preset except `shards` must be one Redis 7.0 knows:
/// `redis-server` refuses to start on an unknown one.
#[test]
fn tuning_preset_is_valid_for_redis_server() {
    let Some(redis_server) = peer("redis-server") else {
        return;
    };
    let preset = std::fs::read_to_string(preset_path()).expect("read tuning/tessera-fast.conf");
    let is_shards = |l: &str| l.split_whitespace().next() == Some("shards");
    assert!(preset.lines().any(is_shards), "the preset sets `shards`");
    let without_shards: String = preset
        .lines()
        .filter(|l| !is_shards(l))
        .map(|l| format!("{l}\n"))
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let conf = dir.path().join("redis-fast.conf");
    std::fs::write(&conf, without_shards).expect("write conf");
    let mut server = Server::start_binary(&redis_server, &[conf.to_str().expect("utf-8 path")]);
    let mut con = server.client();
    let hz: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("hz")
        .query(&mut con)
        .expect("CONFIG GET hz");
    assert_eq!(hz, ["hz", "10"]);
    assert!(server.is_running());
}

/// tessera starts from the preset as its config file (`--shards` on the
/// command line overrides the preset's `shards 0`). tessera only: the preset
/// is not a valid redis.conf because of `shards`.
#[test]
fn tuning_preset_starts_tessera() {
    if !common::testing_tessera() {
        eprintln!("skipped: the preset's `shards` directive needs tessera, not TESSERA_TEST_BIN");
        return;
    }
    let preset = preset_path();
    let server = Server::start_with(1, &[preset.to_str().expect("utf-8 path")]);
    let mut con = server.client();
    let backlog: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("tcp-backlog")
        .query(&mut con)
        .expect("CONFIG GET tcp-backlog");
    assert_eq!(backlog, ["tcp-backlog", "4096"]);
}

fn check_benchmark_lpush(shards: usize) {
    if peer("redis-benchmark").is_none() {
        return;
    }
    let server = Server::start(shards);
    const N: usize = 100_000;
    benchmark(&server, "lpush", N, &["LPUSH"]);
    let mut con = server.client();
    let len: usize = redis::cmd("LLEN")
        .arg("mylist")
        .query(&mut con)
        .expect("LLEN");
    assert_eq!(len, issued(N, 16));
}
per_shards!(benchmark_lpush, super::check_benchmark_lpush);

/// Every list test of redis-benchmark: pushes, pops and the LRANGE reads of
/// 100..600 elements (after its own LPUSH fill); pops leave what they did
/// not take.
fn check_benchmark_lists(shards: usize) {
    if peer("redis-benchmark").is_none() {
        return;
    }
    let server = Server::start(shards);
    const N: usize = 10_000;
    benchmark(
        &server,
        "lpush,rpush,lpop,rpop,lrange",
        N,
        &[
            "LPUSH",
            "RPUSH",
            "LPOP",
            "RPOP",
            "LPUSH (needed to benchmark LRANGE)",
            "LRANGE_100 (first 100 elements)",
            "LRANGE_300 (first 300 elements)",
            "LRANGE_500 (first 500 elements)",
            "LRANGE_600 (first 600 elements)",
        ],
    );
    // LPUSH + RPUSH added 2n, LPOP + RPOP took 2n; then the LRANGE fill
    // pushed n more.
    let mut con = server.client();
    let len: usize = redis::cmd("LLEN")
        .arg("mylist")
        .query(&mut con)
        .expect("LLEN");
    assert_eq!(len, issued(N, 16));
}
per_shards!(benchmark_lists, super::check_benchmark_lists);

/// redis-benchmark's set, hash and sorted set tests (no `-r`: one member,
/// one field).
fn check_benchmark_collections(shards: usize) {
    if peer("redis-benchmark").is_none() {
        return;
    }
    let server = Server::start(shards);
    benchmark(
        &server,
        "sadd,hset,spop,zadd,zpopmin",
        10_000,
        &["SADD", "HSET", "SPOP", "ZADD", "ZPOPMIN"],
    );
    let mut con = server.client();
    let fields: usize = redis::cmd("HLEN")
        .arg("myhash")
        .query(&mut con)
        .expect("HLEN");
    assert_eq!(fields, 1);
    let members: usize = redis::cmd("SCARD")
        .arg("myset")
        .query(&mut con)
        .expect("SCARD");
    assert_eq!(members, 0, "SPOP took the one member SADD added");
    let members: usize = redis::cmd("ZCARD")
        .arg("myzset")
        .query(&mut con)
        .expect("ZCARD");
    assert_eq!(members, 0, "ZPOPMIN took the one member ZADD added");
}
per_shards!(benchmark_collections, super::check_benchmark_collections);

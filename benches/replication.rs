//! Replication end to end, tessera→tessera against redis-server→redis-server
//! in the same run, both given the same data and the same load:
//!
//! 1. **Full sync**: a master holding `REPL_KEYS` keys of the mixed dataset
//!    (`common::dataset::fill_mixed`) and an empty replica sent `REPLICAOF`;
//!    the time from sending it until the replica reports
//!    `master_link_status:up`, `master_sync_in_progress:0` and the master's
//!    DBSIZE (polled every 5 ms). Each round syncs a fresh replica from the
//!    same master.
//! 2. **Write cost of a replica**: `redis-benchmark -t set -n 1000000 -P 16
//!    -c 50 -r 100000 --csv` (vs_redis's clients, key space and pipeline)
//!    against a master that never had a replica, then against the same master
//!    with a replica attached and in sync; rps both ways and with/without. An
//!    unmeasured run first creates the 100 000 keys, so both measured runs
//!    overwrite keys that exist and the replica's full sync copies them.
//! 3. **Lag** during the run with the replica: every 10 ms the master's
//!    `master_repl_offset`, then the replica's `slave_repl_offset`, over two
//!    connections of their own; master − replica in bytes (the master is read
//!    first, so a sample errs low by what the replica applies in between).
//!    Samples start when the master's offset first moves and stop when
//!    redis-benchmark exits; then the time the replica takes to reach the
//!    master's offset, and a DBSIZE check.
//!
//! Figures 2 and 3 use a pair of servers of their own per round, without the
//! mixed dataset, so the "no replica" master has never fed a backlog.
//! Masters get `--repl-diskless-sync-delay 0` (Redis 7.0 otherwise waits 5 s
//! for more replicas before it starts a sync); both keep the default
//! `repl-diskless-sync yes` and stream the snapshot as it is written. Replicas of
//! both load through a temp file (`repl-diskless-load disabled`, the default).
//! Rounds alternate tessera and redis; the fastest sync and the highest rps
//! of each are kept, lag samples are pooled over the rounds and the slowest
//! catch-up is shown.
//!
//! Run: `cargo bench --bench replication`. Needs `redis-server` and
//! `redis-benchmark` in PATH; without them the bench says so and exits 0.
//! Prints the table, also written to `target/replication.txt`. Environment:
//!
//! | variable      | default          | meaning                                    |
//! |---------------|------------------|--------------------------------------------|
//! | `REPL_KEYS`   | 1000000          | keys on the master for the full sync       |
//! | `REPL_SHARDS` | unset            | tessera `--shards` (unset: flag omitted, so one shard per CPU) |
//! | `REPL_ROUNDS` | 2                | rounds per figure and server               |
//! | `REPL_N`      | 1000000          | SET requests per redis-benchmark run (`-n`) |
//!
//! Caveat: on a small machine redis-benchmark, the master, the replica and
//! the lag poller share the cores, and tessera's shards run on all of them,
//! so the write figures say more about the cost of a replica than about
//! either server's peak.

#[path = "../tests/common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::dataset::{fill_mixed, q};
use common::{parse_benchmark_csv, which, BenchRow, Server};

/// Poll interval while waiting for a full sync to finish.
const SYNC_POLL: Duration = Duration::from_millis(5);
/// Interval between two lag samples.
const LAG_TICK: Duration = Duration::from_millis(10);
/// Upper bound for one full sync, one catch-up, one redis-benchmark run.
const SYNC_TIMEOUT: Duration = Duration::from_secs(180);
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(60);
const RUN_TIMEOUT: Duration = Duration::from_secs(300);
/// redis-benchmark settings, as `benches/vs_redis.rs` uses them.
const CLIENTS: usize = 50;
const PIPELINE: usize = 16;
const KEYSPACE: usize = 100_000;

/// Settings read from the environment.
struct Settings {
    keys: usize,
    shards: Option<usize>,
    rounds: usize,
    requests: usize,
}

impl Settings {
    fn from_env() -> Settings {
        let num = |var: &str| -> Option<usize> {
            let v = std::env::var(var).ok()?;
            let n = v.trim().parse().ok().filter(|&n: &usize| n > 0);
            Some(n.unwrap_or_else(|| panic!("{var}={v}: expected a positive integer")))
        };
        Settings {
            keys: num("REPL_KEYS").unwrap_or(1_000_000),
            shards: num("REPL_SHARDS"),
            rounds: num("REPL_ROUNDS").unwrap_or(2),
            requests: num("REPL_N").unwrap_or(1_000_000),
        }
    }
}

/// How to start one kind of server: binary and arguments, the same for
/// masters and replicas.
struct Kind {
    name: &'static str,
    bin: PathBuf,
    args: Vec<String>,
}

impl Kind {
    fn start(&self) -> Server {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        Server::start_binary(&self.bin, &args)
    }
}

/// A connection for polling: any failure is "no answer yet", and a broken
/// connection is opened again on the next query.
struct Probe {
    addr: String,
    con: Option<redis::Connection>,
}

impl Probe {
    fn new(s: &Server) -> Probe {
        Probe {
            addr: s.addr(),
            con: None,
        }
    }

    fn query<T: redis::FromRedisValue>(&mut self, args: &[&str]) -> Option<T> {
        if self.con.is_none() {
            let client = redis::Client::open(format!("redis://{}/", self.addr)).ok()?;
            let con = client
                .get_connection_with_timeout(Duration::from_secs(2))
                .ok()?;
            con.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
            self.con = Some(con);
        }
        let con = self.con.as_mut()?;
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        match cmd.query(con) {
            Ok(v) => Some(v),
            Err(e) => {
                // -LOADING and other error replies leave the link usable.
                if e.is_unrecoverable_error() || e.is_timeout() || e.is_io_error() {
                    self.con = None;
                }
                None
            }
        }
    }

    fn replication(&mut self) -> Option<String> {
        self.query(&["INFO", "replication"])
    }

    fn master_offset(&mut self) -> Option<u64> {
        field(&self.replication()?, "master_repl_offset")?
            .parse()
            .ok()
    }

    /// The replica's applied offset (`slave_repl_offset`; a replica that
    /// lacks it reports the stream position as `master_repl_offset`).
    fn replica_offset(&mut self) -> Option<u64> {
        let info = self.replication()?;
        field(&info, "slave_repl_offset")
            .or_else(|| field(&info, "master_repl_offset"))?
            .parse()
            .ok()
    }

    /// Link up, no sync in progress and `keys` keys.
    fn in_sync(&mut self, keys: u64) -> bool {
        let Some(info) = self.replication() else {
            return false;
        };
        field(&info, "master_link_status") == Some("up")
            && field(&info, "master_sync_in_progress") == Some("0")
            && self.query::<u64>(&["DBSIZE"]) == Some(keys)
    }
}

/// `name:value` of an INFO text.
fn field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

/// Calls `f` every `every` (from the start of one call to the next) until it
/// returns true or `timeout` passes; returns its last result.
fn poll_every(every: Duration, timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    let mut next = Instant::now();
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        next += every;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
}

/// Sends `REPLICAOF` for `master` to `replica` and waits until the replica
/// holds the master's `keys` keys with the link up; returns the time taken.
fn sync_replica(master: &Server, replica: &Server, keys: u64) -> Duration {
    let mut r = replica.client();
    let mut probe = Probe::new(replica);
    let port = master.port.to_string();
    let t = Instant::now();
    let _: () = q(&mut r, &["REPLICAOF", "127.0.0.1", &port]);
    let synced = poll_every(SYNC_POLL, SYNC_TIMEOUT, || probe.in_sync(keys));
    let took = t.elapsed();
    assert!(
        synced,
        "replica of {} did not sync {keys} keys within {SYNC_TIMEOUT:?}\nmaster:\n{}\nreplica:\n{}",
        master.addr(),
        master.logs(),
        replica.logs()
    );
    took
}

fn dbsize(s: &Server) -> u64 {
    q(&mut s.client(), &["DBSIZE"])
}

/// Figure 1: the fastest full sync of `master`'s data to a fresh replica.
fn full_sync(kind: &Kind, master: &Server) -> Duration {
    let keys = dbsize(master);
    let replica = kind.start();
    let took = sync_replica(master, &replica, keys);
    println!(
        "  full sync  {:<7} {keys} keys {:>8.0} ms",
        kind.name,
        ms(took)
    );
    took
}

/// Figures 2 and 3 of one round.
struct Load {
    alone: BenchRow,
    with_replica: BenchRow,
    lag: Vec<u64>,
    catch_up: Duration,
}

/// Runs the SET load on a fresh master alone, then with a replica attached.
fn write_load(kind: &Kind, bench: &Path, requests: usize) -> Load {
    let master = kind.start();
    run_set(bench, &master, requests); // creates the keys
    let alone = run_set(bench, &master, requests);
    let replica = kind.start();
    sync_replica(&master, &replica, dbsize(&master));

    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample_lag(&master, &replica, stop.clone());
    let with_replica = run_set(bench, &master, requests);
    stop.store(true, Ordering::Relaxed);
    let lag = sampler.join().expect("lag sampler");

    let (mut m, mut r) = (Probe::new(&master), Probe::new(&replica));
    let target = m.master_offset().expect("master_repl_offset");
    let t = Instant::now();
    let caught_up = poll_every(Duration::from_millis(1), CATCH_UP_TIMEOUT, || {
        r.replica_offset().is_some_and(|o| o >= target)
    });
    let catch_up = t.elapsed();
    assert!(
        caught_up,
        "{} replica stuck at offset {:?}, master at {target}, {CATCH_UP_TIMEOUT:?} after the load\n\
         master:\n{}\nreplica:\n{}",
        kind.name,
        r.replica_offset(),
        master.logs(),
        replica.logs()
    );
    let (mk, rk) = (dbsize(&master), dbsize(&replica));
    assert_eq!(mk, rk, "{}: master and replica DBSIZE differ", kind.name);

    let mut sorted = lag.clone();
    sorted.sort_unstable();
    println!(
        "  SET load   {:<7} alone {:>9.0} rps  with replica {:>9.0} rps  \
         lag p50/p99/max {}/{}/{} B ({} samples)  catch-up {:.1} ms",
        kind.name,
        alone.rps,
        with_replica.rps,
        percentile(&sorted, 50.0),
        percentile(&sorted, 99.0),
        sorted.last().copied().unwrap_or(0),
        sorted.len(),
        ms(catch_up)
    );
    Load {
        alone,
        with_replica,
        lag,
        catch_up,
    }
}

/// Samples master − replica offset every `LAG_TICK` until `stop`, from the
/// first sample at which the master's offset has moved.
fn sample_lag(master: &Server, replica: &Server, stop: Arc<AtomicBool>) -> JoinHandle<Vec<u64>> {
    let (mut m, mut r) = (Probe::new(master), Probe::new(replica));
    let start = m.master_offset().expect("master_repl_offset");
    std::thread::spawn(move || {
        let mut lag = Vec::new();
        let mut moving = false;
        let mut next = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            if let Some(mo) = m.master_offset() {
                moving |= mo > start;
                if let (true, Some(ro)) = (moving, r.replica_offset()) {
                    lag.push(mo.saturating_sub(ro));
                }
            }
            next += LAG_TICK;
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
        lag
    })
}

/// One `redis-benchmark -t set` run against `server`. Waits on the process
/// itself (polled every millisecond) so the lag sampler stops when the load
/// does; panics if the run fails or has no SET row.
fn run_set(bench: &Path, server: &Server, requests: usize) -> BenchRow {
    let dir = tempfile::tempdir().expect("temp dir");
    let (out_path, err_path) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut cmd = Command::new(bench);
    cmd.args(["-h", "127.0.0.1", "-p", &server.port.to_string()])
        .args(["-t", "set", "-n", &requests.to_string()])
        .args(["-r", &KEYSPACE.to_string(), "-c", &CLIENTS.to_string()])
        .args(["-P", &PIPELINE.to_string(), "--csv"])
        .stdin(std::process::Stdio::null())
        .stdout(File::create(&out_path).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"));
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let mut status = None;
    poll_every(Duration::from_millis(1), RUN_TIMEOUT, || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    });
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{cmd:?} did not finish within {RUN_TIMEOUT:?}");
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    assert!(
        status.success(),
        "{cmd:?}: {status}\n{stdout}\n{stderr}\n{}",
        server.logs()
    );
    let rows = parse_benchmark_csv(&stdout).unwrap_or_else(|e| panic!("{e}\n{stdout}"));
    rows.into_iter()
        .find(|r| r.test == "SET")
        .unwrap_or_else(|| panic!("no SET row in:\n{stdout}"))
}

/// Nearest-rank percentile of sorted samples (0 when there are none).
fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.saturating_sub(1))
        .copied()
        .unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The best figures of one server kind over the rounds.
#[derive(Default)]
struct Best {
    sync: Option<Duration>,
    alone_rps: f64,
    with_rps: f64,
    lag: Vec<u64>,
    catch_up: Duration,
}

impl Best {
    fn add_load(&mut self, l: Load) {
        self.alone_rps = self.alone_rps.max(l.alone.rps);
        self.with_rps = self.with_rps.max(l.with_replica.rps);
        self.lag.extend(l.lag);
        self.catch_up = self.catch_up.max(l.catch_up);
    }

    /// Throughput with a replica as a share of the throughput without.
    fn kept(&self) -> f64 {
        self.with_rps / self.alone_rps
    }
}

fn main() {
    let (Some(redis_server), Some(bench)) = (which("redis-server"), which("redis-benchmark"))
    else {
        println!(
            "replication bench: skipped: redis-server and redis-benchmark must be in PATH \
             (Debian: apt-get install redis-server redis-tools)"
        );
        return;
    };
    let s = Settings::from_env();
    let common_args = [
        "--enable-debug-command",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
    ]
    .map(String::from);
    let mut tessera_args = common_args.to_vec();
    if let Some(n) = s.shards {
        tessera_args.extend(["--shards".to_string(), n.to_string()]);
    }
    let kinds = [
        Kind {
            name: "tessera",
            bin: PathBuf::from(env!("CARGO_BIN_EXE_tessera")),
            args: tessera_args,
        },
        Kind {
            name: "redis",
            bin: redis_server,
            args: common_args.to_vec(),
        },
    ];
    let mut best = [Best::default(), Best::default()];

    // Figure 1: both masters hold the dataset; each round syncs a new replica.
    let masters: Vec<Server> = kinds
        .iter()
        .map(|k| {
            let m = k.start();
            let t = Instant::now();
            fill_mixed(&mut m.client(), s.keys);
            println!(
                "  fill       {:<7} {} keys {:>8.0} ms",
                k.name,
                s.keys,
                ms(t.elapsed())
            );
            m
        })
        .collect();
    for _ in 0..s.rounds {
        for (k, (m, b)) in kinds.iter().zip(masters.iter().zip(best.iter_mut())) {
            let took = full_sync(k, m);
            b.sync = Some(b.sync.map_or(took, |d| d.min(took)));
        }
    }
    drop(masters);

    // Figures 2 and 3: fresh servers per round.
    for _ in 0..s.rounds {
        for (k, b) in kinds.iter().zip(best.iter_mut()) {
            b.add_load(write_load(k, &bench, s.requests));
        }
    }

    let report = table(&s, &kinds[1].bin, &best);
    println!("\n{report}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/replication.txt");
    match std::fs::write(&path, &report) {
        Ok(()) => println!("written to {}", path.display()),
        Err(e) => eprintln!("could not write {}: {e}", path.display()),
    }
}

/// The report: settings, one row per figure, and the targets.
fn table(s: &Settings, redis_server: &Path, best: &[Best; 2]) -> String {
    let [t, r] = best;
    let shards = s.shards.map_or_else(
        || {
            let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
            format!("default ({cpus} CPUs)")
        },
        |n| n.to_string(),
    );
    let version = Command::new(redis_server)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Replication, tessera --shards {shards} vs {version}, best of {} round(s)\n\
         full sync: {} keys (mixed), REPLICAOF until link up + DBSIZE equal\n\
         load: redis-benchmark -t set -n {} -P {PIPELINE} -c {CLIENTS} -r {KEYSPACE}; \
         lag sampled every {} ms\n",
        s.rounds,
        s.keys,
        s.requests,
        LAG_TICK.as_millis()
    );
    out += "| figure | tessera | redis | tessera better by |\n\
            | ------ | ------- | ----- | ----------------- |\n";
    let ratio = |better: f64, worse: f64| {
        if better > 0.0 && worse.is_finite() {
            format!("{:.2}x", worse / better)
        } else {
            "n/a".to_string()
        }
    };
    let (ts, rs) = (t.sync.map_or(0.0, ms), r.sync.map_or(0.0, ms));
    let _ = writeln!(
        out,
        "| full sync ms | {ts:.0} | {rs:.0} | {} |",
        ratio(ts, rs)
    );
    let _ = writeln!(
        out,
        "| SET rps, no replica | {:.0} | {:.0} | {} |",
        t.alone_rps,
        r.alone_rps,
        ratio(r.alone_rps, t.alone_rps)
    );
    let _ = writeln!(
        out,
        "| SET rps, replica attached | {:.0} | {:.0} | {} |",
        t.with_rps,
        r.with_rps,
        ratio(r.with_rps, t.with_rps)
    );
    let _ = writeln!(
        out,
        "| with/without replica | {:.3} | {:.3} | {} |",
        t.kept(),
        r.kept(),
        ratio(r.kept(), t.kept())
    );
    let (mut tl, mut rl) = (t.lag.clone(), r.lag.clone());
    tl.sort_unstable();
    rl.sort_unstable();
    for (label, p) in [("p50", 50.0), ("p99", 99.0), ("max", 100.0)] {
        let (a, b) = (percentile(&tl, p), percentile(&rl, p));
        let _ = writeln!(
            out,
            "| lag {label} bytes | {a} | {b} | {} |",
            ratio(a as f64, b as f64)
        );
    }
    let _ = writeln!(out, "| lag samples | {} | {} | |", tl.len(), rl.len());
    let (tc, rc) = (ms(t.catch_up), ms(r.catch_up));
    let _ = writeln!(
        out,
        "| catch-up after the load ms | {tc:.1} | {rc:.1} | {} |",
        ratio(tc, rc)
    );
    let met = |ok: bool| if ok { "met" } else { "missed" };
    let speed_up = rs / ts;
    let cost = |b: &Best| (1.0 - b.kept()) * 100.0;
    let _ = writeln!(
        out,
        "\nTargets: full sync >= 1.5x faster than redis: {speed_up:.2}x ({}); \
         a replica costs < 10% of SET throughput: tessera {:.1}% ({}), redis {:.1}%",
        met(speed_up >= 1.5),
        cost(t),
        met(cost(t) < 10.0),
        cost(r)
    );
    out
}

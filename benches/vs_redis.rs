//! End-to-end comparison of tessera and redis-server under `redis-benchmark`.
//!
//! Measures requests per second and p50/p99 latency for each workload below,
//! unpipelined and with `-P 16`, `-c 50` clients, `-r 100000` random keys.
//! Starts tessera (`--shards` = CPUs available, `--save "" --appendonly no`)
//! and `redis-server` (same persistence flags) side by side on free 127.0.0.1
//! ports and runs redis-benchmark against them in alternation (tessera, redis,
//! tessera, redis, …) so drift in machine load hits both alike; the best round
//! of each is reported. Prints each figure as it comes, then a table with the
//! ratio, also written to `target/vs_redis.txt`.
//!
//! Run: `cargo bench --bench vs_redis` (builds tessera in release). Needs
//! `redis-server` and `redis-benchmark` in PATH; without them it says why and
//! exits 0. Environment:
//!
//! | variable              | default         | meaning                                   |
//! |-----------------------|-----------------|-------------------------------------------|
//! | `VS_REDIS_ROUNDS`     | 2               | rounds per workload and server            |
//! | `VS_REDIS_N`          | 200000          | requests per run (`-n`)                   |
//! | `VS_REDIS_SHARDS`     | CPUs available  | tessera `--shards`                        |
//! | `VS_REDIS_THREADS`    | max(1, CPUs/4)  | redis-benchmark `--threads` (if > 1)      |
//! | `VS_REDIS_SERVER_CPUS`| unset           | CPU list (`2-7`) both servers run on      |
//! | `VS_REDIS_CLIENT_CPUS`| unset           | CPU list redis-benchmark runs on          |
//! | `VS_REDIS_TESTS`      | all             | `-t` names to run (`lpush,sadd`)          |
//!
//! Caveats. redis-benchmark runs on the same machine and competes with the
//! server for CPU: on a 2-core box, tessera with 2 shards shares both cores
//! with the client while single-threaded Redis leaves one to it, so the
//! figures there say little about multi-core scaling. redis-benchmark 7.0
//! has `--threads N` (multi-threaded client); one client thread saturates
//! before a many-shard tessera does, hence the default of a quarter of the
//! CPUs. For figures worth publishing, give the servers and the client
//! disjoint cores (`VS_REDIS_SERVER_CPUS`, `VS_REDIS_CLIENT_CPUS`; the servers
//! never run at the same time) after `tuning/apply.sh`, and record hardware,
//! commit and command line with the results (`tuning/README.md`).

#[path = "../tests/common/mod.rs"]
mod common;

use common::{parse_benchmark_csv, run_bounded, which, BenchRow, Server};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// One redis-benchmark test: its `-t` name and the title it prints in CSV.
struct Workload {
    test: &'static str,
    title: &'static str,
}

/// The workloads, run in this order (GET after SET so keys exist). To add one,
/// append its `-t` name and CSV title; for the `lrange_*` tests the title is
/// the LRANGE row (redis-benchmark also prints an "LPUSH (needed to benchmark
/// LRANGE)" row first, which is skipped).
const WORKLOADS: &[Workload] = &[
    Workload {
        test: "set",
        title: "SET",
    },
    Workload {
        test: "get",
        title: "GET",
    },
    Workload {
        test: "incr",
        title: "INCR",
    },
    Workload {
        test: "mset",
        title: "MSET (10 keys)",
    },
    Workload {
        test: "lpush",
        title: "LPUSH",
    },
    Workload {
        test: "lpop",
        title: "LPOP",
    },
    Workload {
        test: "sadd",
        title: "SADD",
    },
    Workload {
        test: "hset",
        title: "HSET",
    },
    Workload {
        test: "zadd",
        title: "ZADD",
    },
    Workload {
        test: "lrange_100",
        title: "LRANGE_100 (first 100 elements)",
    },
];

/// Pipeline depths (`-P`): 1 = one request per round trip.
const PIPELINES: &[usize] = &[1, 16];
/// Parallel client connections (`-c`).
const CLIENTS: usize = 50;
/// Random key space (`-r`).
const KEYSPACE: usize = 100_000;
/// Upper bound for one redis-benchmark run.
const RUN_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Clone, Copy, PartialEq)]
enum Target {
    Tessera,
    Redis,
}

/// Settings read from the environment.
struct Settings {
    rounds: usize,
    requests: usize,
    shards: usize,
    threads: usize,
    server_cpus: Option<Vec<usize>>,
    client_cpus: Option<Vec<usize>>,
}

/// Best round (highest rps) per workload, pipeline and target.
struct Best {
    workload: &'static str,
    pipeline: usize,
    tessera: Option<BenchRow>,
    redis: Option<BenchRow>,
}

fn main() {
    let (Some(redis_server), Some(redis_benchmark)) =
        (which("redis-server"), which("redis-benchmark"))
    else {
        println!(
            "vs_redis: skipped: redis-server and redis-benchmark must be in PATH \
             (Debian: apt-get install redis-server redis-tools)"
        );
        return;
    };
    let settings = Settings::from_env();
    let tessera_bin = PathBuf::from(env!("CARGO_BIN_EXE_tessera"));

    if let Some(cpus) = &settings.server_cpus {
        set_own_affinity(cpus); // inherited by both servers
    }
    let shards = settings.shards.to_string();
    let tessera = Server::start_binary(&tessera_bin, &["--shards", &shards]);
    let redis = Server::start_binary(&redis_server, &[]);
    if let Some(cpus) = &settings.client_cpus {
        set_own_affinity(cpus); // inherited by every redis-benchmark run
    }

    let header = header_lines(&settings, &redis_server, &redis_benchmark);
    println!("{header}");
    let mut results = Vec::new();
    let only = std::env::var("VS_REDIS_TESTS").ok();
    let chosen = WORKLOADS.iter().filter(|w| {
        only.as_deref()
            .is_none_or(|list| list.split(',').any(|t| t.trim() == w.test))
    });
    for workload in chosen {
        for &pipeline in PIPELINES {
            let mut best = Best {
                workload: workload.title,
                pipeline,
                tessera: None,
                redis: None,
            };
            for round in 1..=settings.rounds {
                for target in [Target::Tessera, Target::Redis] {
                    let server = match target {
                        Target::Tessera => &tessera,
                        Target::Redis => &redis,
                    };
                    let row =
                        run_benchmark(&redis_benchmark, server, workload, pipeline, &settings);
                    println!(
                        "  {:<16} -P {:<2} round {round} {:<7} {:>12.0} rps  p50 {:.3} ms  p99 {:.3} ms",
                        workload.title,
                        pipeline,
                        name(target),
                        row.rps,
                        row.p50_ms,
                        row.p99_ms
                    );
                    let slot = match target {
                        Target::Tessera => &mut best.tessera,
                        Target::Redis => &mut best.redis,
                    };
                    if slot.as_ref().is_none_or(|b| row.rps > b.rps) {
                        *slot = Some(row);
                    }
                }
            }
            results.push(best);
        }
    }
    drop(tessera);
    drop(redis);

    let report = format!("{header}\n{}", table(&results));
    println!("\n{report}");
    let out = target_dir().join("vs_redis.txt");
    match std::fs::create_dir_all(target_dir()).and_then(|()| std::fs::write(&out, &report)) {
        Ok(()) => println!("written to {}", out.display()),
        Err(e) => eprintln!("could not write {}: {e}", out.display()),
    }
}

fn name(target: Target) -> &'static str {
    match target {
        Target::Tessera => "tessera",
        Target::Redis => "redis",
    }
}

/// One redis-benchmark run; panics if it fails or reports an error (figures
/// from a server that answers errors are meaningless).
fn run_benchmark(
    bench: &Path,
    server: &Server,
    workload: &Workload,
    pipeline: usize,
    settings: &Settings,
) -> BenchRow {
    let mut cmd = Command::new(bench);
    cmd.args(["-h", "127.0.0.1", "-p", &server.port.to_string()])
        .args(["-t", workload.test])
        .args(["-n", &settings.requests.to_string()])
        .args(["-r", &KEYSPACE.to_string()])
        .args(["-c", &CLIENTS.to_string()])
        .args(["-P", &pipeline.to_string()])
        .arg("--csv");
    if settings.threads > 1 {
        cmd.args(["--threads", &settings.threads.to_string()]);
    }
    let out = run_bounded(&mut cmd, None, RUN_TIMEOUT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        panic!(
            "{cmd:?} against {}: {}\n{stdout}\n{stderr}\n{}",
            server.binary().display(),
            out.status,
            server.logs()
        );
    }
    if !stderr.trim().is_empty() {
        eprintln!(
            "redis-benchmark stderr ({}): {stderr}",
            server.binary().display()
        );
    }
    let rows = parse_benchmark_csv(&stdout).unwrap_or_else(|e| panic!("{e}\n{stdout}"));
    rows.into_iter()
        .find(|r| r.test == workload.title)
        .unwrap_or_else(|| panic!("no `{}` row in:\n{stdout}", workload.title))
}

fn table(results: &[Best]) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{:<16} {:>3} {:>12} {:>12} {:>7} {:>19} {:>19}",
        "test", "-P", "tessera rps", "redis rps", "ratio", "tessera p50/p99 ms", "redis p50/p99 ms"
    );
    for b in results {
        let (Some(t_row), Some(r_row)) = (&b.tessera, &b.redis) else {
            continue;
        };
        let ratio = if r_row.rps > 0.0 {
            t_row.rps / r_row.rps
        } else {
            f64::NAN
        };
        let _ = writeln!(
            t,
            "{:<16} {:>3} {:>12.0} {:>12.0} {:>6.2}x {:>19} {:>19}",
            b.workload,
            b.pipeline,
            t_row.rps,
            r_row.rps,
            ratio,
            format!("{:.3}/{:.3}", t_row.p50_ms, t_row.p99_ms),
            format!("{:.3}/{:.3}", r_row.p50_ms, r_row.p99_ms),
        );
    }
    t
}

/// Date, commit, hardware and the exact settings, for the results log.
fn header_lines(s: &Settings, redis_server: &Path, redis_benchmark: &Path) -> String {
    let version = |bin: &Path| {
        Command::new(bin)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let commit = Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "rev-parse",
            "--short",
            "HEAD",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let threads = if s.threads > 1 {
        format!(" --threads {}", s.threads)
    } else {
        String::new()
    };
    let cpus = |c: &Option<Vec<usize>>| match c {
        Some(list) => format!("{list:?}"),
        None => "any".into(),
    };
    format!(
        "vs_redis {date} commit {commit}\n\
         host: {ncpu} CPUs ({model}), {kernel}\n\
         tessera --shards {shards} | {redis} | {bench}\n\
         redis-benchmark -c {CLIENTS} -n {n} -r {KEYSPACE}{threads} --csv; best of {rounds} rounds; \
         server CPUs {scpu}, client CPUs {ccpu}",
        date = utc_now(),
        ncpu = available_cpus(),
        model = cpu_model(),
        kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|k| format!("Linux {}", k.trim()))
            .unwrap_or_default(),
        shards = s.shards,
        redis = version(redis_server),
        bench = version(redis_benchmark),
        n = s.requests,
        rounds = s.rounds,
        scpu = cpus(&s.server_cpus),
        ccpu = cpus(&s.client_cpus),
    )
}

impl Settings {
    fn from_env() -> Settings {
        let num = |var: &str, default: usize| -> usize {
            match std::env::var(var) {
                Ok(v) => v
                    .trim()
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .unwrap_or_else(|| panic!("{var}={v}: expected a positive integer")),
                Err(_) => default,
            }
        };
        let list = |var: &str| {
            std::env::var(var).ok().map(|v| {
                parse_cpu_list(&v)
                    .unwrap_or_else(|| panic!("{var}={v}: expected a CPU list like 0-3,6"))
            })
        };
        let server_cpus = list("VS_REDIS_SERVER_CPUS");
        let client_cpus = list("VS_REDIS_CLIENT_CPUS");
        let cpus = available_cpus();
        Settings {
            rounds: num("VS_REDIS_ROUNDS", 2),
            requests: num("VS_REDIS_N", 200_000),
            shards: num(
                "VS_REDIS_SHARDS",
                server_cpus.as_ref().map_or(cpus, Vec::len),
            ),
            threads: num("VS_REDIS_THREADS", (cpus / 4).max(1)),
            server_cpus,
            client_cpus,
        }
    }
}

fn available_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Parses a Linux CPU list (`0-3,6`).
fn parse_cpu_list(s: &str) -> Option<Vec<usize>> {
    let mut cpus = Vec::new();
    for part in s.trim().split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (a.parse().ok()?, b.parse().ok()?);
                if a > b {
                    return None;
                }
                cpus.extend(a..=b);
            }
            None => cpus.push(part.parse().ok()?),
        }
    }
    (!cpus.is_empty()).then_some(cpus)
}

/// Restricts this (single-threaded) process to `cpus`; children started
/// afterwards inherit the mask.
fn set_own_affinity(cpus: &[usize]) {
    // SAFETY: cpu_set_t is plain data; CPU_SET bounds-checks nothing, so the
    // indices are checked against CPU_SETSIZE first.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cpus {
            assert!(c < libc::CPU_SETSIZE as usize, "CPU {c} out of range");
            libc::CPU_SET(c, &mut set);
        }
        let rc = libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        assert_eq!(
            rc,
            0,
            "sched_setaffinity({cpus:?}): {}",
            std::io::Error::last_os_error()
        );
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// `target/` of this build (`CARGO_TARGET_DIR` if set).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// Current UTC time as `YYYY-MM-DD HH:MM UTC` (civil-from-days, no date crate).
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

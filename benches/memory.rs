//! Memory per key, tessera against redis-server in the same run: each server
//! starts fresh, is given one dataset, and the growth of its resident set
//! (`VmRSS` in `/proc/<pid>/status`, before and after) is divided by the
//! keys it holds. Datasets, through commands both servers take:
//!
//! * **strings**: `DEBUG POPULATE n` (`key:<i>` = `value:<i>`), the shape of
//!   a cache of small values;
//! * **mixed**: `common::dataset::fill_mixed` (70% such strings, then small
//!   lists, hashes, sets and sorted sets), as the persistence and
//!   replication benches load.
//!
//! Also prints each server's own `used_memory` (INFO memory), which for
//! tessera is an estimate in Redis's terms, not what it allocated.
//!
//! Run: `cargo bench --bench memory`. Needs `redis-server` in PATH; without
//! it the bench says so and exits 0. Prints the table, also written to
//! `target/memory.txt`. Environment:
//!
//! | variable     | default   | meaning                                      |
//! |--------------|-----------|----------------------------------------------|
//! | `MEM_KEYS`   | 1000000   | keys per dataset                             |
//! | `MEM_SHARDS` | unset     | tessera `--shards` (unset: one per CPU)      |

#[path = "../tests/common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::dataset::{fill_mixed, q};
use common::{which, Server};

/// The resident set of `pid` in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/status: {e}"));
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"));
    kb * 1024
}

fn used_memory(s: &Server) -> u64 {
    let info: String = q(&mut s.client(), &["INFO", "memory"]);
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// What one server used for one dataset.
struct Usage {
    keys: u64,
    rss_growth: u64,
    used_memory: u64,
}

impl Usage {
    fn per_key(&self) -> f64 {
        self.rss_growth as f64 / self.keys.max(1) as f64
    }
}

fn measure(bin: &Path, args: &[&str], dataset: &str, keys: usize) -> Usage {
    let server = Server::start_binary(bin, args);
    let mut c = server.client();
    let before = rss(server.pid());
    match dataset {
        "strings" => {
            let _: () = q(&mut c, &["DEBUG", "POPULATE", &keys.to_string()]);
        }
        _ => fill_mixed(&mut c, keys),
    }
    let held: u64 = q(&mut c, &["DBSIZE"]);
    let after = rss(server.pid());
    Usage {
        keys: held,
        rss_growth: after.saturating_sub(before),
        used_memory: used_memory(&server),
    }
}

fn main() {
    let Some(redis_server) = which("redis-server") else {
        println!(
            "memory bench: skipped: redis-server must be in PATH \
             (Debian: apt-get install redis-server)"
        );
        return;
    };
    let keys = std::env::var("MEM_KEYS")
        .ok()
        .map(|v| {
            v.trim()
                .parse()
                .ok()
                .filter(|&n: &usize| n > 0)
                .unwrap_or_else(|| panic!("MEM_KEYS={v}: expected a positive integer"))
        })
        .unwrap_or(1_000_000);
    let shards = std::env::var("MEM_SHARDS").ok();
    let mut tessera_args = vec!["--enable-debug-command", "yes"];
    if let Some(n) = shards.as_deref() {
        tessera_args.extend(["--shards", n]);
    }
    let redis_args = ["--enable-debug-command", "yes"];
    let tessera = PathBuf::from(env!("CARGO_BIN_EXE_tessera"));

    let mut table = String::new();
    let _ = writeln!(
        table,
        "Memory per key, tessera --shards {} vs redis-server, {keys} keys per dataset\n",
        shards.as_deref().unwrap_or("default")
    );
    let _ = writeln!(
        table,
        "| dataset | tessera RSS B/key | redis RSS B/key | tessera/redis | tessera used_memory | redis used_memory |"
    );
    let _ = writeln!(table, "| ------- | ----- | ----- | ----- | ----- | ----- |");
    for dataset in ["strings", "mixed"] {
        let t = measure(&tessera, &tessera_args, dataset, keys);
        let r = measure(&redis_server, &redis_args, dataset, keys);
        assert_eq!(
            t.keys, r.keys,
            "{dataset}: both servers must hold the same keys"
        );
        println!(
            "  {dataset:<8} tessera {:>6.1} B/key  redis {:>6.1} B/key",
            t.per_key(),
            r.per_key()
        );
        let _ = writeln!(
            table,
            "| {dataset} | {:.1} | {:.1} | {:.2}x | {} | {} |",
            t.per_key(),
            r.per_key(),
            t.per_key() / r.per_key().max(1.0),
            t.used_memory,
            r.used_memory
        );
    }
    println!("\n{table}");
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/memory.txt");
    if std::fs::write(&out, &table).is_ok() {
        println!("written to {}", out.display());
    }
}

//! RDB save and load, tessera against redis-server on the same data in the
//! same run: SAVE wall time, file size, and load time (process start until
//! it answers PING, with the file in place), for a mixed dataset.
//!
//! Dataset (`PERSIST_KEYS` keys in all, default 1 000 000): 70% strings
//! (DEBUG POPULATE, `value:<n>`), then lists, hashes, sets of integers and
//! sorted sets of five elements each, 7.5% / 10% / 7.5% / 5%. Both servers
//! get it through the same pipelined commands (`common::dataset::fill_mixed`).
//!
//! Run: `cargo bench --bench persistence`. Needs `redis-server` in PATH;
//! without it the bench says so and exits 0. `PERSIST_SHARDS` sets tessera's
//! `--shards` (default: CPUs available), `PERSIST_ROUNDS` the rounds (best
//! kept, default 2). Writes the table to `target/persistence.txt` too.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::dataset::fill_mixed;
use common::{which, Server};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Figures {
    save: Duration,
    bytes: u64,
    load: Duration,
}

/// SAVE, then restart and time until the server answers PING.
fn measure(s: &mut Server, rounds: usize) -> Figures {
    let mut best = Figures {
        save: Duration::MAX,
        bytes: 0,
        load: Duration::MAX,
    };
    for _ in 0..rounds {
        let mut c = s.client();
        let t = Instant::now();
        let _: () = redis::cmd("SAVE").query(&mut c).expect("SAVE");
        best.save = best.save.min(t.elapsed());
        best.bytes = std::fs::metadata(s.dir().join("dump.rdb"))
            .map(|m| m.len())
            .unwrap_or(0);
        drop(c);
        s.stop();
        let t = Instant::now();
        s.restart(&["--enable-debug-command", "yes"]);
        best.load = best.load.min(t.elapsed());
    }
    best
}

fn main() {
    let Some(redis_server) = which("redis-server") else {
        println!("persistence bench: redis-server not found in PATH; skipped");
        return;
    };
    let total = env_usize("PERSIST_KEYS", 1_000_000);
    let rounds = env_usize("PERSIST_ROUNDS", 2).max(1);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let shards = env_usize("PERSIST_SHARDS", cpus);
    let debug = ["--enable-debug-command", "yes"];

    let mut tessera = Server::start_with(shards, &debug);
    fill_mixed(&mut tessera.client(), total);
    let t = measure(&mut tessera, rounds);
    tessera.stop();
    drop(tessera);

    let mut redis = Server::start_binary(&redis_server, &debug);
    fill_mixed(&mut redis.client(), total);
    let r = measure(&mut redis, rounds);
    redis.stop();

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut out = format!(
        "RDB save/load, {total} keys (mixed), tessera --shards {shards} vs redis-server, best of {rounds}\n\n\
         | figure | tessera | redis | tessera speed-up (redis/tessera) |\n\
         | ------ | ------- | ----- | -------------------------------- |\n"
    );
    out += &format!(
        "| SAVE ms | {:.0} | {:.0} | {:.2}x |\n",
        ms(t.save),
        ms(r.save),
        ms(r.save) / ms(t.save)
    );
    out += &format!(
        "| load ms (start to PING) | {:.0} | {:.0} | {:.2}x |\n",
        ms(t.load),
        ms(r.load),
        ms(r.load) / ms(t.load)
    );
    out += &format!(
        "| RDB bytes | {} | {} | {:.2}x |\n",
        t.bytes,
        r.bytes,
        r.bytes as f64 / t.bytes.max(1) as f64
    );
    out += &format!(
        "\nTarget: save and load faster than Redis by shards x 0.7 = {:.1}x\n",
        shards as f64 * 0.7
    );
    println!("{out}");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/persistence.txt");
    let _ = std::fs::write(path, &out);
}

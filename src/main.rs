//! `tessera [path/to/redis.conf] [--directive value ...]`: loads the
//! configuration like `redis-server` does, then runs the server.

/// mimalloc: its per-thread free lists suit thread-per-core shards, and a
/// write's malloc/free pairs (argument copies, replaced values) cost less
/// than glibc's arena malloc, whose `free` also stalls on the cold chunk
/// header of every replaced value (tuning/README.md, section 8).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-v" || a == "--version") {
        println!(
            "Tessera server v={} (Redis {} compatible)",
            env!("CARGO_PKG_VERSION"),
            tessera::commands::connection::REDIS_VERSION
        );
        return;
    }
    let config = match tessera::config::Config::load(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = tessera::server::boot::start(config) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

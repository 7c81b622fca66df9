//! Boot: builds one glommio executor per shard (pinned to its CPU), one
//! control executor, and the channel mesh between all of them; then waits for
//! SIGTERM/SIGINT on the main thread. Runs on: the main thread.

use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use glommio::channels::channel_mesh::MeshBuilder;
use glommio::{LocalExecutorBuilder, Placement, Shares};
use tracing_subscriber::filter::LevelFilter;

use super::context::{ShardCtx, Shared};
use super::control::ControlCtx;
use super::hop::{self, Mesh, MeshMsg, ShardRequest};
use super::listener::{self, BindAddr};
use super::route::ShardId;
use super::shutdown;
use crate::config::Config;
use crate::util::clock::now_ms;

/// Messages per mesh channel (each message is a batch).
const MESH_CAPACITY: usize = 1024;

/// Keys the active expire cycle may remove per run before yielding.
const EXPIRE_BATCH: usize = 1000;

/// CPUs this process may run on (`sched_getaffinity`), in order.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: sched_getaffinity fills the cpu_set_t we pass.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let ok =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) }
            == 0;
    let cpus: Vec<usize> = if ok {
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
            .collect()
    } else {
        Vec::new()
    };
    if cpus.is_empty() {
        (0..std::thread::available_parallelism().map_or(1, |n| n.get())).collect()
    } else {
        cpus
    }
}

type LogHandle = tracing_subscriber::reload::Handle<LevelFilter, tracing_subscriber::Registry>;
static LOG_LEVEL: OnceLock<LogHandle> = OnceLock::new();

fn level_of(cfg: &Config) -> LevelFilter {
    match cfg.loglevel() {
        "debug" => LevelFilter::DEBUG,
        "verbose" => LevelFilter::DEBUG,
        "warning" => LevelFilter::WARN,
        "nothing" => LevelFilter::OFF,
        _ => LevelFilter::INFO,
    }
}

/// Sets up logging from `loglevel` and `logfile` (`""` = stdout), once.
pub fn init_logging(cfg: &Config) -> Result<(), String> {
    use tracing_subscriber::prelude::*;
    let (filter, handle) = tracing_subscriber::reload::Layer::new(level_of(cfg));
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(false);
    let registry = tracing_subscriber::registry().with(filter);
    if cfg.logfile().is_empty() {
        registry.with(fmt.with_writer(std::io::stdout)).init();
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(cfg.logfile())
            .map_err(|e| format!("Can't open the log file: {e}"))?;
        registry
            .with(fmt.with_writer(std::sync::Mutex::new(file)))
            .init();
    }
    let _ = LOG_LEVEL.set(handle);
    Ok(())
}

/// Applies a changed `loglevel` (CONFIG SET) to the running process.
pub fn apply_log_level(cfg: &Config) {
    if let Some(h) = LOG_LEVEL.get() {
        let _ = h.modify(|f| *f = level_of(cfg));
    }
}

/// The whole start-up as `redis-server` does it: chdir to `dir`, logging,
/// pidfile, warnings for directives without effect, then `run`.
pub fn start(config: Config) -> Result<(), String> {
    std::env::set_current_dir(config.dir())
        .map_err(|e| format!("Can't chdir to '{}': {e}", config.dir()))?;
    init_logging(&config)?;
    let pid = std::process::id();
    tracing::info!(
        "Tessera version={}, Redis {} compatible, bits=64, pid={pid}, just started",
        env!("CARGO_PKG_VERSION"),
        crate::commands::connection::REDIS_VERSION
    );
    for name in config.ignored_in_use() {
        tracing::warn!("Config directive '{name}' is accepted but has no effect in tessera");
    }
    disable_thp(&config);
    if !config.pidfile().is_empty() {
        if let Err(e) = std::fs::write(config.pidfile(), format!("{pid}\n")) {
            tracing::warn!("Failed to write PID file: {e}");
        }
    }
    tracing::info!(
        "Running mode=standalone, port={}, shards={}. PID: {pid}",
        config.port(),
        match config.shards() {
            0 => allowed_cpus().len().max(1),
            n => n,
        }
    );
    run(config)
}

/// `disable-thp yes` (the default): no transparent huge pages for this
/// process, as redis-server does it. With them, a page fault that grows the
/// heap may zero, and first compact, a whole 2 MB page: a stall of several
/// milliseconds for every client of the shard that took it (LPUSH -P16 had
/// a p99 of 5 ms against Redis's 0.9 ms from these).
fn disable_thp(config: &Config) {
    if !config.bool("disable-thp").unwrap_or(true) {
        return;
    }
    // SAFETY: PR_SET_THP_DISABLE takes only integers and sets a flag of
    // this process's memory map.
    let r = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    if r != 0 {
        tracing::warn!(
            "Failed to disable transparent huge pages: {}",
            std::io::Error::last_os_error()
        );
    }
}

fn random_run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut s = String::with_capacity(40);
    while s.len() < 40 {
        let mut h = ahash::RandomState::new().build_hasher();
        h.write_u64(now_ms());
        s.push_str(&format!("{:016x}", h.finish()));
    }
    s.truncate(40);
    s
}

/// Starts every executor and serves until a signal or SHUTDOWN ends the
/// process. Returns only on a start-up error.
pub fn run(config: Config) -> Result<(), String> {
    let cpus = allowed_cpus();
    let nshards = match config.shards() {
        0 => cpus.len().max(1),
        n => n,
    };
    let addrs = listener::bind_addrs(&config.bind(), config.port())?;
    let addrs = listener::probe(&addrs)?;
    shutdown::block_signals();

    let shared = Arc::new(Shared {
        clients: AtomicUsize::new(0),
        next_client_id: AtomicU64::new(1),
        start_ms: now_ms(),
        run_id: random_run_id(),
        executable: std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    });
    let config = Arc::new(config);
    // The dataset, loaded before any shard serves: a bad file stops start-up.
    let load_started = std::time::Instant::now();
    // With `appendonly yes` the append-only files win over the RDB, as in
    // Redis; each shard replays its own file before it serves.
    let aof_on = config.bool("appendonly").unwrap_or(false);
    let mut data = if aof_on {
        crate::persistence::aof::prepare(&config, nshards)?;
        crate::persistence::aof::remove_temp_files(&config);
        Vec::new()
    } else {
        load_dataset(&config, nshards)?
    };
    let had_data = data
        .iter()
        .any(|d| !matches!(d, crate::persistence::load::ShardLoad::Nothing));
    let mesh = MeshBuilder::<Vec<MeshMsg>, _>::full(nshards + 1, MESH_CAPACITY);
    let (ready_tx, ready_rx) = crossbeam::channel::unbounded::<Result<(), String>>();

    // Shards take the last `nshards` CPUs of the mask; CPUs left over in
    // front of them (if any) are the control executor's.
    let spare = cpus.len().saturating_sub(nshards);
    let (control_cpus, shard_cpus) = cpus.split_at(spare);
    let mut handles = Vec::new();
    for i in 0..nshards {
        let cpu = shard_cpus.get(i).copied().unwrap_or(0);
        let (mesh, config, shared, ready, addrs) = (
            mesh.clone(),
            config.clone(),
            shared.clone(),
            ready_tx.clone(),
            addrs.clone(),
        );
        let data = data
            .get_mut(i)
            .map(|d| std::mem::replace(d, crate::persistence::load::ShardLoad::Nothing))
            .unwrap_or(crate::persistence::load::ShardLoad::Nothing);
        let builder = LocalExecutorBuilder::new(if nshards <= shard_cpus.len() {
            Placement::Fixed(cpu)
        } else {
            Placement::Unbound
        })
        .name(&format!("shard-{i}"))
        .io_memory(1 << 20);
        let h = builder
            .spawn(move || async move {
                shard_main(mesh, nshards, config, shared, addrs, data, ready).await
            })
            .map_err(|e| format!("cannot start shard {i}: {e}"))?;
        handles.push(h);
    }
    {
        let (mesh, config, shared) = (mesh.clone(), (*config).clone(), shared.clone());
        let placement = if control_cpus.is_empty() {
            Placement::Unbound
        } else {
            let set = glommio::CpuSet::online()
                .map_err(|e| format!("cannot read the CPU set: {e}"))?
                .filter(|l| control_cpus.contains(&l.cpu));
            Placement::Fenced(set)
        };
        let builder = LocalExecutorBuilder::new(placement)
            .name("control")
            .io_memory(1 << 20);
        let h = builder
            .spawn(move || async move { control_main(mesh, nshards, config, shared).await })
            .map_err(|e| format!("cannot start the control executor: {e}"))?;
        handles.push(h);
    }
    drop(ready_tx);
    for _ in 0..nshards {
        match ready_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err("shards did not start in time".into()),
        }
    }
    if aof_on {
        tracing::info!(
            "DB loaded from append only file: {:.3} seconds",
            load_started.elapsed().as_secs_f64()
        );
    } else if had_data {
        // Every shard has installed its keys by now.
        tracing::info!(
            "DB loaded from disk: {:.3} seconds",
            load_started.elapsed().as_secs_f64()
        );
    }
    tracing::info!("Ready to accept connections tcp");
    loop {
        let sig = shutdown::wait_for_signal();
        if shutdown::requested() && sig == "SIGINT" {
            tracing::warn!("You insist... exiting now.");
            std::process::exit(1);
        }
        tracing::warn!("Received {sig} scheduling shutdown...");
        // The control executor saves if it must, then exits the process.
        shutdown::request();
    }
}

/// Reads `dbfilename` if it exists: what each shard loads.
fn load_dataset(
    config: &Config,
    nshards: usize,
) -> Result<Vec<crate::persistence::load::ShardLoad>, String> {
    crate::persistence::load::plan(
        &crate::persistence::save::rdb_path(config),
        &super::route::SlotMap::new(nshards),
        config.databases().max(1),
        &crate::shard::types::Encodings::of(config),
        config.bool("rdbchecksum").unwrap_or(true),
        now_ms(),
    )
}

/// Installs this shard's share of the dataset; returns (keys, expired).
fn load_shard(
    ctx: &ShardCtx,
    data: crate::persistence::load::ShardLoad,
) -> Result<(u64, u64), String> {
    use crate::persistence::load::{self, ShardLoad};
    let now = now_ms();
    let mut shard = ctx.shard.borrow_mut();
    match data {
        ShardLoad::Nothing => Ok((0, 0)),
        ShardLoad::Data(d, expired) => {
            let keys = d.iter().map(|db| db.len() as u64).sum();
            load::install(&mut shard, d, false, now);
            Ok((keys, expired))
        }
        ShardLoad::Part(file, start, len) => load::load_part(
            &mut shard,
            ctx.id.0,
            &ctx.slots,
            &file,
            (start, len),
            &ctx.hot.get().enc,
            now,
        ),
    }
}

async fn shard_main(
    mesh: MeshBuilder<Vec<MeshMsg>, glommio::channels::channel_mesh::Full>,
    nshards: usize,
    config: Arc<Config>,
    shared: Arc<Shared>,
    addrs: Vec<BindAddr>,
    data: crate::persistence::load::ShardLoad,
    ready: crossbeam::channel::Sender<Result<(), String>>,
) {
    let (senders, receivers) = match mesh.join().await {
        Ok(x) => x,
        Err(e) => {
            let _ = ready.send(Err(format!("mesh join failed: {e}")));
            return;
        }
    };
    let id = senders.peer_id();
    let backlog = config.tcp_backlog();
    let m = Rc::new(Mesh::new(id, nshards + 1));
    let ctx = Rc::new(ShardCtx::new(
        ShardId(id),
        nshards,
        config,
        shared,
        m.clone(),
    ));
    let counts = match load_shard(&ctx, data) {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    if ctx.config().bool("appendonly").unwrap_or(false) {
        if let Err(e) = start_aof(&ctx).await {
            let _ = ready.send(Err(e));
            return;
        }
    }
    let serve_ctx = ctx.clone();
    let prefetch_ctx = ctx.clone();
    hop::start(
        m,
        senders,
        receivers,
        Rc::new(move |req, to| ShardCtx::serve_rc(&serve_ctx, req, to)),
        Rc::new(move |batch: &[hop::MeshMsg]| super::prefetch::hops(&prefetch_ctx, batch)),
    );
    start_feeder(&ctx);
    let (keys, expired) = counts;
    ctx.mesh.tell(
        ctx.control_peer(),
        ShardRequest::LoadCounts { keys, expired },
    );
    let poller = match super::socket::Poller::new() {
        Ok(p) => p,
        Err(e) => {
            let _ = ready.send(Err(format!("epoll_create failed: {e}")));
            return;
        }
    };
    glommio::spawn_local(poller.clone().run()).detach();
    for a in &addrs {
        if let Err(e) = listener::start(ctx.clone(), &poller, a.addr, backlog) {
            let _ = ready.send(Err(format!(
                "Could not create server TCP listening socket {}: {e}",
                a.addr
            )));
            return;
        }
    }
    let _ = ready.send(Ok(()));
    // Background work gets fewer shares than client I/O.
    let tq = glommio::executor().create_task_queue(
        Shares::Static(100),
        glommio::Latency::NotImportant,
        "expire",
    );
    let expire_ctx = ctx.clone();
    let _ = glommio::spawn_local_into(
        async move {
            loop {
                let hz = expire_ctx.hot.get().hz as u64;
                // Twice per Redis cron period, so a key outlives its deadline
                // by at most about half a period (50 ms at hz 10).
                glommio::timer::sleep(Duration::from_millis(500 / hz)).await;
                loop {
                    let done = expire_ctx
                        .shard
                        .borrow_mut()
                        .expire_cycle(now_ms(), EXPIRE_BATCH);
                    if done < EXPIRE_BATCH {
                        break;
                    }
                    glommio::yield_if_needed().await;
                }
            }
        },
        tq,
    )
    .map(|t| t.detach());
    std::future::pending::<()>().await;
}

/// The task that sends this shard's replication stream to the control
/// executor, chunk by chunk, while replicas are fed (`ReplStream::take_feed`).
fn start_feeder(ctx: &Rc<ShardCtx>) {
    let ctx = ctx.clone();
    glommio::spawn_local(async move {
        loop {
            std::future::poll_fn(|cx| {
                if ctx.shard.borrow_mut().repl.feed_ready(cx.waker()) {
                    std::task::Poll::Ready(())
                } else {
                    std::task::Poll::Pending
                }
            })
            .await;
            ctx.send_feed();
            glommio::yield_if_needed().await;
        }
    })
    .detach();
}

/// Replays this shard's append-only file, opens it for appending and
/// starts the task that writes (and, for `everysec`, fsyncs) it.
async fn start_aof(ctx: &Rc<ShardCtx>) -> Result<(), String> {
    use crate::persistence::aof;
    let cfg = ctx.config();
    let path = aof::file_path(&cfg, ctx.id.0);
    let p = path.clone();
    let data = glommio::executor()
        .spawn_blocking(move || std::fs::read(p))
        .await;
    let data = match data {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            return Err(format!(
                "Can't read the append-only file {}: {e}",
                path.display()
            ))
        }
    };
    if !data.is_empty() {
        let hot = ctx.hot.get();
        let load_truncated = cfg.bool("aof-load-truncated").unwrap_or(true);
        let to = aof::ReplayTo {
            shard: &mut ctx.shard.borrow_mut(),
            me: ctx.id.0,
            slots: &ctx.slots,
            hot: &hot,
        };
        let r = aof::replay(to, bytes::Bytes::from(data), load_truncated, now_ms())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if r.truncated {
            tracing::warn!(
                "!!! Warning: short read while loading the AOF file {}!!! AOF loaded anyway because aof-load-truncated is enabled (cut at offset {})",
                path.display(),
                r.valid_len
            );
            aof::truncate(&path, r.valid_len)?;
        }
        tracing::info!(
            "Shard {}: {} commands replayed from {}",
            ctx.id.0,
            r.commands,
            path.display()
        );
    }
    let file = aof::AofFile::open(&path, aof::Fsync::of(&cfg))?;
    *ctx.aof.borrow_mut() = Some(file);
    ctx.shard.borrow_mut().repl.enable_aof();
    let c = ctx.clone();
    glommio::spawn_local(async move {
        loop {
            glommio::timer::sleep(aof::WRITE_EVERY).await;
            if let Some(f) = c.aof_flush() {
                let _ = glommio::executor()
                    .spawn_blocking(move || f.sync_data())
                    .await;
            }
        }
    })
    .detach();
    Ok(())
}

async fn control_main(
    mesh: MeshBuilder<Vec<MeshMsg>, glommio::channels::channel_mesh::Full>,
    nshards: usize,
    config: Config,
    shared: Arc<Shared>,
) {
    let Ok((senders, receivers)) = mesh.join().await else {
        tracing::error!("control executor could not join the mesh");
        return;
    };
    let id = senders.peer_id();
    debug_assert_eq!(id, nshards, "control must be the last mesh peer");
    let m = Rc::new(Mesh::new(id, nshards + 1));
    crate::replication::primary::apply_config(&config);
    let backlog_size = config.int("repl-backlog-size").unwrap_or(1 << 20).max(0) as usize;
    let replicaof = config.replicaof();
    let ctl = Rc::new(ControlCtx {
        mesh: m.clone(),
        nshards,
        config: std::cell::RefCell::new(config),
        shared,
        persist: crate::persistence::save::SaveState::new(),
        repl: crate::replication::Replication::new(backlog_size),
    });
    glommio::spawn_local(ctl.clone().cron()).detach();
    let serve_ctl = ctl.clone();
    hop::start(
        m,
        senders,
        receivers,
        Rc::new(move |req, to| serve_ctl.serve(req, to)),
        Rc::new(|_: &[hop::MeshMsg]| {}),
    );
    if let Some(target) = replicaof {
        // `replicaof` in the config: the shards learn their role before
        // they serve (the ready message waits for nothing else).
        let _ = ctl.replicaof(Some(target)).await;
    }
    std::future::pending::<()>().await;
}

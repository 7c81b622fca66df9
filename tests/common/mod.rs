//! Shared harness for tessera's integration tests (and `benches/vs_redis.rs`,
//! which includes this file with `#[path]`).
//!
//! Runs in the test process, owns no server state: it starts a real server
//! process (`tessera`, or `redis-server` for interop and for checking that our
//! expectations are Redis's) on a 127.0.0.1 port picked at run time, with its
//! own temp dir, captures its stdout/stderr into files in that dir, waits for
//! `PING` to answer `+PONG`, and stops it by PID on drop (SIGTERM, then SIGKILL
//! after a timeout). It also offers `RawConn`, a RESP-aware raw socket for
//! protocol edge cases, the `peer()` lookup for external programs, and
//! `wait_until`, the only way tests wait for anything.
//!
//! Charter rules enforced here: loopback only (`--bind 127.0.0.1`), no fixed
//! ports, every wait bounded, processes stopped by PID only.
//!
//! `TESSERA_TEST_BIN=redis-server cargo test` runs the same tests against a
//! real `redis-server` (looked up in `PATH` when not a path; `--shards` is not
//! passed to a binary whose name does not start with `tessera`). That is how the
//! expected replies in `tests/protocol.rs` were checked to be Redis 7.0's.
#![allow(dead_code)]

pub mod dataset;
pub mod text;

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a server may take from spawn to answering `PING`.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a server may take to exit after SIGTERM before it gets SIGKILL.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Read/write timeout of every socket the tests open.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// How many fresh ports `launch` tries when the picked one was taken meanwhile.
const PORT_ATTEMPTS: usize = 5;

/// Polls `f` until it returns true or `timeout` passes; returns the last result.
/// The sleeps between polls are back-off, never synchronisation: the condition
/// decides.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Finds `name` in `PATH` (or takes it as a path when it contains a `/`).
pub fn which(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return is_executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Looks up a peer program (`redis-cli`, `redis-benchmark`, `redis-server`, …).
///
/// With `TESSERA_PEERS=1` a missing peer is a test failure (panic). Without it
/// the caller gets `None` after "skipped: <peer> not installed" is printed to
/// stderr, and should return.
pub fn peer(name: &str) -> Option<PathBuf> {
    if let Some(p) = which(name) {
        return Some(p);
    }
    if std::env::var("TESSERA_PEERS").as_deref() == Ok("1") {
        panic!("TESSERA_PEERS=1 but peer `{name}` is not installed (not found in PATH)");
    }
    eprintln!("skipped: {name} not installed");
    None
}

/// Ports handed out by this process, so two parallel tests never get the same
/// one even if the kernel gives it out twice between bind and server start.
fn handed_out() -> &'static Mutex<HashSet<u16>> {
    static PORTS: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    PORTS.get_or_init(|| Mutex::new(HashSet::new()))
}

/// Picks a free 127.0.0.1 port: bind port 0, read it, drop the listener.
pub fn pick_port() -> u16 {
    for _ in 0..100 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local_addr").port();
        drop(listener);
        let mut seen = handed_out().lock().unwrap_or_else(|e| e.into_inner());
        if seen.insert(port) {
            return port;
        }
    }
    panic!("could not pick a fresh port in 100 tries");
}

/// The server binary under test: tessera, unless `TESSERA_TEST_BIN` names
/// another (see the module docs).
pub fn server_binary() -> PathBuf {
    match std::env::var("TESSERA_TEST_BIN") {
        Ok(name) if !name.is_empty() => {
            which(&name).unwrap_or_else(|| panic!("TESSERA_TEST_BIN={name}: not an executable"))
        }
        _ => PathBuf::from(env!("CARGO_BIN_EXE_tessera")),
    }
}

/// True when the tests run against tessera (not `TESSERA_TEST_BIN=redis-server`).
pub fn testing_tessera() -> bool {
    takes_shards(&server_binary())
}

/// True when `bin` is tessera (takes `--shards`), false for `redis-server`.
fn takes_shards(bin: &Path) -> bool {
    bin.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("tessera"))
}

/// One running server process. Stopped (SIGTERM, then SIGKILL) on drop.
pub struct Server {
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
    bin: PathBuf,
    shards: Option<usize>,
    stdout_log: PathBuf,
    stderr_log: PathBuf,
    status: Option<ExitStatus>,
}

/// Why one start attempt did not give a ready server.
enum StartFailure {
    /// The process exited during start-up; the port may have been taken.
    Exited(ExitStatus),
    /// It never answered PING within `READY_TIMEOUT`.
    NotReady,
}

impl Server {
    /// Starts tessera with `--shards shards`.
    pub fn start(shards: usize) -> Server {
        Server::start_with(shards, &[])
    }

    /// Starts tessera with `--shards shards` and extra arguments: `--directive
    /// value` pairs (they come after the harness's own, so they win), optionally
    /// preceded by a config file path, which is passed first as redis.conf is.
    pub fn start_with(shards: usize, extra_args: &[&str]) -> Server {
        let bin = server_binary();
        let shards = takes_shards(&bin).then_some(shards);
        Server::launch(&bin, shards, extra_args)
    }

    /// Starts any Redis-compatible binary (`redis-server`) with the harness's
    /// standard arguments plus `args` (same rules as `start_with`).
    pub fn start_binary(path: &Path, args: &[&str]) -> Server {
        Server::launch(path, None, args)
    }

    fn launch(bin: &Path, shards: Option<usize>, extra_args: &[&str]) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("tessera-test-")
            .tempdir()
            .expect("create temp dir");
        let (port, child, stdout_log, stderr_log) =
            spawn_ready(bin, shards, extra_args, dir.path()).unwrap_or_else(|e| panic!("{e}"));
        Server {
            port,
            child,
            dir,
            bin: bin.to_path_buf(),
            shards,
            stdout_log,
            stderr_log,
            status: None,
        }
    }

    /// Stops the server (SIGTERM, as an operator would) and starts the same
    /// binary again in the same directory (so it finds its data files), with
    /// the harness's arguments plus `extra_args`, on a new port.
    pub fn restart(&mut self, extra_args: &[&str]) {
        self.try_restart(extra_args)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// As `restart`, but returns the logs when the server does not start
    /// (for example on a bad data file) instead of panicking.
    pub fn try_restart(&mut self, extra_args: &[&str]) -> Result<(), String> {
        self.stop();
        let (port, child, stdout_log, stderr_log) =
            spawn_ready(&self.bin, self.shards, extra_args, self.dir.path())?;
        self.port = port;
        self.child = child;
        self.stdout_log = stdout_log;
        self.stderr_log = stderr_log;
        self.status = None;
        Ok(())
    }

    /// SIGKILL: the process dies with no chance to save anything.
    pub fn kill(&mut self) {
        if self.is_running() {
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
        }
    }

    /// A `redis` crate connection with 10 s read/write timeouts.
    pub fn client(&self) -> redis::Connection {
        let client = redis::Client::open(format!("redis://{}/", self.addr())).expect("client");
        let con = client
            .get_connection_with_timeout(IO_TIMEOUT)
            .unwrap_or_else(|e| panic!("connect to {}: {e}\n{}", self.addr(), self.logs()));
        con.set_read_timeout(Some(IO_TIMEOUT))
            .expect("read timeout");
        con.set_write_timeout(Some(IO_TIMEOUT))
            .expect("write timeout");
        con
    }

    /// A raw RESP socket to this server.
    pub fn raw(&self) -> RawConn {
        RawConn::connect(self.port)
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The temp dir the server runs in (`--dir`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The binary this server runs.
    pub fn binary(&self) -> &Path {
        &self.bin
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        if self.status.is_some() {
            return false;
        }
        match self.child.try_wait() {
            Ok(Some(status)) => {
                self.status = Some(status);
                false
            }
            _ => true,
        }
    }

    /// The captured stdout and stderr of the server, for failure messages.
    pub fn logs(&self) -> String {
        read_logs(&self.bin, &self.stdout_log, &self.stderr_log)
    }

    /// SIGTERM, wait up to `STOP_TIMEOUT`, then SIGKILL. Idempotent. Returns
    /// the exit status.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if self.is_running() {
            self.status = stop_child(&mut self.child);
        }
        self.status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!(
                "server on port {} (test failed):\n{}",
                self.port,
                self.logs()
            );
        }
    }
}

/// Waits until the child answers PING or exits.
fn wait_ready(child: &mut Child, port: u16) -> Result<(), StartFailure> {
    let mut exited = None;
    let ready = wait_until(READY_TIMEOUT, || {
        if let Ok(Some(status)) = child.try_wait() {
            exited = Some(status);
            return true;
        }
        ping_once(port)
    });
    match exited {
        Some(status) => Err(StartFailure::Exited(status)),
        // A PONG from a process while ours died was not ours.
        None if ready => match child.try_wait() {
            Ok(Some(status)) => Err(StartFailure::Exited(status)),
            _ => Ok(()),
        },
        None => Err(StartFailure::NotReady),
    }
}

/// SIGTERM, wait up to `STOP_TIMEOUT`, then SIGKILL; returns the exit status.
/// Only ever signals our own, not yet reaped child, so the PID is its own.
fn stop_child(child: &mut Child) -> Option<ExitStatus> {
    if let Ok(Some(status)) = child.try_wait() {
        return Some(status);
    }
    let pid = child.id() as libc::pid_t;
    // SAFETY: kill(2) on the PID of our own unreaped child.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let mut status = None;
    wait_until(STOP_TIMEOUT, || match child.try_wait() {
        Ok(Some(s)) => {
            status = Some(s);
            true
        }
        Ok(None) => false,
        Err(_) => true,
    });
    if status.is_none() {
        eprintln!("server pid {pid} ignored SIGTERM for {STOP_TIMEOUT:?}; sending SIGKILL");
        let _ = child.kill();
        status = child.wait().ok();
    }
    status
}

fn read_logs(bin: &Path, stdout_log: &Path, stderr_log: &Path) -> String {
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    format!(
        "--- {} stdout ---\n{}\n--- stderr ---\n{}\n--- end ---",
        bin.display(),
        tail(&read(stdout_log), 16 * 1024),
        tail(&read(stderr_log), 16 * 1024)
    )
}

/// Starts `bin` in `dir` on a free port and waits until it answers PING;
/// retries on another port when the chosen one was taken. `Err` carries the
/// reason and the server's logs.
fn spawn_ready(
    bin: &Path,
    shards: Option<usize>,
    extra_args: &[&str],
    dir: &Path,
) -> Result<(u16, Child, PathBuf, PathBuf), String> {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let mut last_logs = String::new();
    for _ in 0..PORT_ATTEMPTS {
        let run = RUNS.fetch_add(1, Ordering::Relaxed);
        let port = pick_port();
        let stdout_log = dir.join(format!("stdout.{run}.log"));
        let stderr_log = dir.join(format!("stderr.{run}.log"));
        let args = server_args(port, dir, shards, extra_args);
        let mut child = Command::new(bin)
            .args(&args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(File::create(&stdout_log).expect("create stdout log"))
            .stderr(File::create(&stderr_log).expect("create stderr log"))
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
        let result = wait_ready(&mut child, port);
        let logs = || read_logs(bin, &stdout_log, &stderr_log);
        match result {
            Ok(()) => return Ok((port, child, stdout_log, stderr_log)),
            // Another process took the port between pick and bind: retry.
            Err(StartFailure::Exited(_)) if logs().contains("in use") => last_logs = logs(),
            Err(StartFailure::Exited(status)) => {
                return Err(format!(
                    "{} exited during start-up ({status}); args {args:?}\n{}",
                    bin.display(),
                    logs()
                ))
            }
            Err(StartFailure::NotReady) => {
                stop_child(&mut child);
                return Err(format!(
                    "{} did not answer PING on port {port} within {READY_TIMEOUT:?}; \
                     args {args:?}\n{}",
                    bin.display(),
                    logs()
                ));
            }
        }
    }
    Err(format!(
        "server could not bind a free port in {PORT_ATTEMPTS} attempts\n{last_logs}"
    ))
}

/// The harness's standard arguments: a config file first if `extra` starts
/// with one, then port/bind/dir/persistence, then `--shards`, then `extra`.
fn server_args(port: u16, dir: &Path, shards: Option<usize>, extra: &[&str]) -> Vec<String> {
    let (conf, extra) = match extra.split_first() {
        Some((first, rest)) if !first.starts_with("--") => (Some(*first), rest),
        _ => (None, extra),
    };
    let mut args: Vec<String> = conf.into_iter().map(String::from).collect();
    let port = port.to_string();
    let dir = dir.to_string_lossy().into_owned();
    for a in [
        "--port",
        &port,
        "--bind",
        "127.0.0.1",
        "--dir",
        &dir,
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        // Both servers wait 5 s by default before a diskless full sync, for
        // more replicas to join it; tests that measure that set it again.
        "--repl-diskless-sync-delay",
        "0",
    ] {
        args.push(a.to_string());
    }
    if let Some(n) = shards {
        args.push("--shards".into());
        args.push(n.to_string());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn tail(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// One readiness probe: connect, send `PING`, expect exactly `+PONG\r\n`.
/// A `-LOADING` or any other answer means "not yet".
fn ping_once(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
    if s.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    while got.len() < 7 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
        if got.contains(&b'\n') {
            break;
        }
    }
    got == b"+PONG\r\n"
}

/// Encodes one command as a RESP multibulk.
pub fn resp(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Length of the complete RESP2/RESP3 reply at the start of `buf`:
/// `Ok(None)` if it is incomplete, `Err` if `buf` does not start with a reply.
pub fn reply_len(buf: &[u8]) -> Result<Option<usize>, String> {
    let Some(nl) = buf.windows(2).position(|w| w == b"\r\n") else {
        return Ok(None);
    };
    let head = &buf[1..nl];
    let after = nl + 2;
    let Some(&kind) = buf.first() else {
        return Ok(None);
    };
    let count = || -> Result<i64, String> {
        std::str::from_utf8(head)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or_else(|| format!("bad length {:?}", String::from_utf8_lossy(head)))
    };
    match kind {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Ok(Some(after)),
        b'$' | b'!' | b'=' => {
            let n = count()?;
            if n < 0 {
                return Ok(Some(after));
            }
            let end = after + n as usize + 2;
            if buf.len() < end {
                Ok(None)
            } else if &buf[end - 2..end] != b"\r\n" {
                Err("bulk string not terminated by CRLF".into())
            } else {
                Ok(Some(end))
            }
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = count()?;
            let items = if matches!(kind, b'%' | b'|') {
                n * 2
            } else {
                n
            };
            let mut pos = after;
            for _ in 0..items.max(0) {
                match reply_len(&buf[pos..])? {
                    Some(len) => pos += len,
                    None => return Ok(None),
                }
            }
            Ok(Some(pos))
        }
        other => Err(format!(
            "not a RESP reply type byte: {:?} in {:?}",
            other as char,
            String::from_utf8_lossy(&buf[..buf.len().min(80)])
        )),
    }
}

/// A raw TCP connection speaking RESP by hand, for protocol edge cases.
/// Reads and writes time out after `IO_TIMEOUT`.
pub struct RawConn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl RawConn {
    pub fn connect(port: u16) -> RawConn {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
            .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        stream
            .set_read_timeout(Some(IO_TIMEOUT))
            .expect("read timeout");
        stream
            .set_write_timeout(Some(IO_TIMEOUT))
            .expect("write timeout");
        let _ = stream.set_nodelay(true);
        RawConn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Writes all of `bytes`; panics on error.
    pub fn send(&mut self, bytes: &[u8]) {
        self.try_send(bytes)
            .unwrap_or_else(|e| panic!("send {} bytes: {e}", bytes.len()));
    }

    /// Writes all of `bytes`; for payloads the server may refuse half-way
    /// (it closes the connection and the write fails with EPIPE/ECONNRESET).
    pub fn try_send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Sends one command as RESP and returns its reply.
    pub fn command(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.send(&resp(args));
        self.read_reply()
    }

    /// Half-closes the connection: the server reads EOF.
    pub fn shutdown_write(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Reads exactly one complete reply (any RESP2/RESP3 type, aggregates
    /// recursively) and returns its raw bytes; panics on EOF, timeout or
    /// bytes that are not RESP.
    pub fn read_reply(&mut self) -> Vec<u8> {
        self.try_read_reply()
            .unwrap_or_else(|e| panic!("read reply: {e}"))
    }

    pub fn try_read_reply(&mut self) -> io::Result<Vec<u8>> {
        let deadline = Instant::now() + IO_TIMEOUT;
        loop {
            match reply_len(&self.buf) {
                Ok(Some(len)) => return Ok(self.buf.drain(..len).collect()),
                Ok(None) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "no complete reply within {IO_TIMEOUT:?}; have {:?}",
                        self.shown()
                    ),
                ));
            }
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk)? {
                0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("server closed; have {:?}", self.shown()),
                    ))
                }
                n => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Reads until the server closes the connection, within `IO_TIMEOUT`.
    /// Returns everything received (including what was buffered), or `None`
    /// if the connection was still open at the deadline. A reset counts as
    /// closed: a server that closes with unread input in its socket sends RST.
    pub fn read_to_close(&mut self) -> Option<Vec<u8>> {
        let deadline = Instant::now() + IO_TIMEOUT;
        let mut chunk = [0u8; 64 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            let _ = self.stream.set_read_timeout(Some(left));
            match self.stream.read(&mut chunk) {
                Ok(0) => return Some(std::mem::take(&mut self.buf)),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if is_closed(&e) => return Some(std::mem::take(&mut self.buf)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return None,
            }
        }
    }

    /// True if the server closes the connection within `IO_TIMEOUT` (any
    /// further bytes it sends first are discarded).
    pub fn expect_closed(&mut self) -> bool {
        self.read_to_close().is_some()
    }

    fn shown(&self) -> String {
        String::from_utf8_lossy(&self.buf[..self.buf.len().min(200)]).into_owned()
    }
}

fn is_closed(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

/// Splits `bytes` into complete RESP replies; `Err` if they are not a whole
/// number of well-formed replies.
pub fn split_replies(mut bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        match reply_len(bytes)? {
            Some(len) => {
                out.push(bytes[..len].to_vec());
                bytes = &bytes[len..];
            }
            None => {
                return Err(format!(
                    "incomplete trailing reply: {:?}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                ))
            }
        }
    }
    Ok(out)
}

/// Runs a peer program to completion with `stdin` fed to it, killing it (by
/// PID) if it takes longer than `timeout`. Output goes through temp files so a
/// chatty program never blocks on a full pipe.
pub fn run_bounded(
    cmd: &mut Command,
    stdin: Option<&[u8]>,
    timeout: Duration,
) -> std::process::Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    let in_path = dir.path().join("stdin");
    std::fs::write(&in_path, stdin.unwrap_or_default()).expect("write stdin file");
    let mut child = cmd
        .stdin(File::open(&in_path).expect("open stdin file"))
        .stdout(File::create(&out_path).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let mut status = None;
    wait_until(timeout, || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    });
    let status = match status {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{cmd:?} did not finish within {timeout:?}; stdout so far:\n{}",
                std::fs::read_to_string(&out_path).unwrap_or_default()
            );
        }
    };
    std::process::Output {
        status,
        stdout: std::fs::read(&out_path).unwrap_or_default(),
        stderr: std::fs::read(&err_path).unwrap_or_default(),
    }
}

/// Deterministic pseudo-random bytes (xorshift64*), for garbage input.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> XorShift {
        XorShift(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next_u64() >> 56) as u8).collect()
    }
}

/// The header line `redis-benchmark --csv` prints (Redis 7.0).
pub const BENCH_CSV_HEADER: &str = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\
\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"";

/// One row of `redis-benchmark --csv` output; latencies in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchRow {
    pub test: String,
    pub rps: f64,
    pub avg_ms: f64,
    pub min_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Parses `redis-benchmark --csv` stdout: the header, then one row per test
/// (`"SET","123.45","0.1",…`). Any other line (such as an error) is an `Err`.
pub fn parse_benchmark_csv(stdout: &str) -> Result<Vec<BenchRow>, String> {
    let mut lines = stdout.lines().filter(|l| !l.trim().is_empty());
    match lines.next() {
        Some(h) if h == BENCH_CSV_HEADER => {}
        other => return Err(format!("expected the CSV header, got {other:?}")),
    }
    lines
        .map(|line| {
            let inner = line
                .strip_prefix('"')
                .and_then(|l| l.strip_suffix('"'))
                .ok_or_else(|| format!("not a CSV row: {line}"))?;
            let cols: Vec<&str> = inner.split("\",\"").collect();
            let [test, nums @ ..] = cols.as_slice() else {
                return Err(format!("empty CSV row: {line}"));
            };
            let nums: Vec<f64> = nums
                .iter()
                .map(|c| c.parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|e| format!("bad number in {line}: {e}"))?;
            let [rps, avg_ms, min_ms, p50_ms, p95_ms, p99_ms, max_ms] = nums.as_slice() else {
                return Err(format!("expected 8 columns: {line}"));
            };
            Ok(BenchRow {
                test: test.to_string(),
                rps: *rps,
                avg_ms: *avg_ms,
                min_ms: *min_ms,
                p50_ms: *p50_ms,
                p95_ms: *p95_ms,
                p99_ms: *p99_ms,
                max_ms: *max_ms,
            })
        })
        .collect()
}

/// Generates one test per shard count calling `check(shards)`: `shards_1`
/// and `shards_2` by default, or the names and counts given after `;`.
#[macro_export]
macro_rules! per_shards {
    ($name:ident, $check:path) => {
        $crate::per_shards!($name, $check; shards_1 => 1, shards_2 => 2);
    };
    ($name:ident, $check:path; $($test:ident => $n:expr),+) => {
        mod $name {
            $(
                #[test]
                fn $test() {
                    $check($n)
                }
            )+
        }
    };
}

/// Redis Cluster's key slot (`keyHashSlot`) of a key without a `{hash tag}`.
pub fn slot(key: &str) -> u16 {
    let mut crc: u16 = 0;
    for &b in key.as_bytes() {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc & 0x3fff
}

/// Every key SCAN returns with these extra arguments (`TYPE hash`, …),
/// following the cursor to the end.
pub fn scan_all(con: &mut redis::Connection, extra: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, batch): (String, Vec<String>) = redis::cmd("SCAN")
            .arg(&cursor)
            .arg(extra)
            .query(con)
            .expect("SCAN");
        out.extend(batch);
        cursor = next;
        if cursor == "0" {
            return out;
        }
    }
}

/// Runs a model property test: 200 random command sequences (no failure
/// files), each through `check`; panics with the shrunk failing sequence.
pub fn check_model<S: proptest::strategy::Strategy>(
    sequences: S,
    check: impl Fn(S::Value) -> Result<(), proptest::test_runner::TestCaseError>,
    what: &str,
) {
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 200,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    });
    if let Err(e) = runner.run(&sequences, check) {
        panic!("{what} disagree with the model: {e}");
    }
}

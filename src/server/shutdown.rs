//! Process exit: SIGTERM/SIGINT (waited for on the main thread) and SHUTDOWN
//! end here. Nothing is persisted yet, so a clean stop is: log, remove the
//! pidfile, exit 0 (the kernel closes every socket).

use crate::config::Config;

/// Blocks SIGTERM and SIGINT in the calling thread (and the threads it starts
/// afterwards), so that only `wait_for_signal` receives them.
pub fn block_signals() {
    // SAFETY: plain libc signal-mask calls on a local sigset.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Waits for SIGTERM or SIGINT; returns its name.
pub fn wait_for_signal() -> &'static str {
    // SAFETY: as above; sigwait writes the signal number into `sig`.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        let mut sig: libc::c_int = 0;
        libc::sigwait(&set, &mut sig);
        if sig == libc::SIGINT {
            "SIGINT"
        } else {
            "SIGTERM"
        }
    }
}

/// Ends the process cleanly (Redis's `prepareForShutdown` + exit).
pub fn exit_now(config: &Config) -> ! {
    let pidfile = config.pidfile();
    if !pidfile.is_empty() {
        let _ = std::fs::remove_file(pidfile);
    }
    tracing::warn!("Redis is now ready to exit, bye bye...");
    std::process::exit(0)
}

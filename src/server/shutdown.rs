//! Process exit: SIGTERM/SIGINT are waited for on the main thread, which
//! asks the control executor to stop (it saves first when save points are
//! set, as Redis does); SHUTDOWN goes to the control executor directly. A
//! clean stop ends in `exit_now`: log, remove the pidfile, exit 0 (the
//! kernel closes every socket).

use std::sync::atomic::{AtomicBool, Ordering};

use crate::config::Config;

/// Set by the main thread on SIGTERM/SIGINT; the control executor's cron
/// sees it within 100 ms.
static REQUESTED: AtomicBool = AtomicBool::new(false);

pub fn request() {
    REQUESTED.store(true, Ordering::Release);
}

pub fn requested() -> bool {
    REQUESTED.load(Ordering::Acquire)
}

/// The stop failed (the final save did); a later signal tries again.
pub fn clear_request() {
    REQUESTED.store(false, Ordering::Release);
}

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

//! Persistence: the RDB codec (`rdb`), point-in-time snapshots taken by every
//! shard in parallel without fork (`snapshot`, shard side; `save`, control
//! side), loading a file into the shards (`load`), the append-only file
//! (`aof`, shard side) and its rewrite (`rewrite`, control side).

pub mod aof;
pub mod load;
pub mod rdb;
pub mod rewrite;
pub mod save;
pub mod snapshot;

/// Lowers the calling thread's scheduling priority (nice 10), for the
/// blocking-pool threads that write and join snapshot files: on a machine
/// whose cores all run shards, the shards' clients come first.
pub fn lower_priority() {
    // SAFETY: plain syscalls on the calling thread's id.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

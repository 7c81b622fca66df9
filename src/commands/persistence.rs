//! SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE, SHUTDOWN and DEBUG RELOAD: thin
//! handlers that ask the control executor, which coordinates every save
//! (`persistence::save`) and append-only file rewrite (`persistence::rewrite`).
//! Runs on: the client's shard.

use bytes::Bytes;

use super::{BoxFut, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::server::connection::Conn;
use crate::server::hop::{ShardReply, ShardRequest};

/// Sends `req` to the control executor and maps its reply.
pub(super) async fn ask_control(conn: &Conn, req: ShardRequest) -> CmdResult {
    let control = conn.ctx.control_peer();
    match conn.ctx.hop(control, req).await {
        ShardReply::Reply(r) => Ok(r),
        ShardReply::Done => Ok(Reply::ok()),
        ShardReply::Count(n) => Ok(Reply::Integer(n as i64)),
        ShardReply::Err(e) => Err(CmdError::Coded(e)),
        _ => Err(CmdError::err(
            "internal error talking to the control executor",
        )),
    }
}

/// SAVE: writes the RDB file and replies once it is on disk. Other clients
/// keep being served meanwhile (no fork, no stop).
pub fn save(conn: Conn, _argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move {
        let req = ShardRequest::Save {
            background: false,
            schedule: false,
        };
        ask_control(&conn, req).await
    })
}

/// BGSAVE [SCHEDULE]
pub fn bgsave(conn: Conn, argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move {
        let schedule = match argv.get(1) {
            None => false,
            Some(a) if argv.len() == 2 && a.eq_ignore_ascii_case(b"SCHEDULE") => true,
            Some(_) => return Err(CmdError::Syntax),
        };
        let req = ShardRequest::Save {
            background: true,
            schedule,
        };
        ask_control(&conn, req).await
    })
}

/// BGREWRITEAOF: rewrites every shard's append-only file in the background.
pub fn bgrewriteaof(conn: Conn, _argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move { ask_control(&conn, ShardRequest::RewriteAof).await })
}

/// LASTSAVE: unix time of the last successful save (start-up time before).
pub fn lastsave(conn: Conn, _argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move { ask_control(&conn, ShardRequest::LastSave).await })
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
pub fn shutdown(conn: Conn, argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move {
        let mut save = None;
        let mut abort = false;
        for a in &argv[1..] {
            match a.to_ascii_uppercase().as_slice() {
                b"NOSAVE" => save = Some(false),
                b"SAVE" => save = Some(true),
                b"NOW" | b"FORCE" => {}
                b"ABORT" => abort = true,
                _ => return Err(CmdError::Syntax),
            }
        }
        if abort {
            return Err(CmdError::err("No shutdown in progress."));
        }
        tracing::warn!("User requested shutdown...");
        // Returns only when the final save failed.
        ask_control(&conn, ShardRequest::Shutdown { save }).await
    })
}

/// DEBUG RELOAD [NOSAVE] [NOFLUSH] (Redis 7.0 also has MERGE; not here).
pub async fn debug_reload(conn: &Conn, argv: &[Bytes]) -> CmdResult {
    let (mut save, mut flush) = (true, true);
    for a in argv.get(2..).unwrap_or_default() {
        match a.to_ascii_uppercase().as_slice() {
            b"NOSAVE" => save = false,
            b"NOFLUSH" => flush = false,
            _ => {
                return Err(CmdError::err(
                    "DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
                ))
            }
        }
    }
    ask_control(conn, ShardRequest::Reload { save, flush }).await
}

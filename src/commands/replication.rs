//! Replication commands: REPLICAOF / SLAVEOF, ROLE, WAIT, and what a
//! replica sends its master — REPLCONF, PSYNC, SYNC. Run on: the client's
//! shard; the replication state is the control executor's, so all but
//! REPLCONF ask it (`replication/`).

use bytes::Bytes;

use super::persistence::ask_control;
use super::{BoxFut, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::replication::primary::Attach;
use crate::server::client::ReplyMode;
use crate::server::connection::Conn;
use crate::server::hop::ShardRequest;

/// REPLICAOF host port | NO ONE (also SLAVEOF).
pub fn replicaof(conn: Conn, argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move {
        let (host, port) = (&argv[1], &argv[2]);
        let target = if host.eq_ignore_ascii_case(b"no") && port.eq_ignore_ascii_case(b"one") {
            None
        } else {
            // Matches getRangeLongFromObjectOrReply(0..65535, "Invalid master port").
            let port = crate::util::num::parse_i64(port)
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| CmdError::err("Invalid master port"))?;
            Some((String::from_utf8_lossy(host).into_owned(), port))
        };
        ask_control(&conn, ShardRequest::ReplicaOf { target }).await
    })
}

/// ROLE.
pub fn role(conn: Conn, _argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move { ask_control(&conn, ShardRequest::Role).await })
}

/// WAIT numreplicas timeout.
pub fn wait(conn: Conn, argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move {
        let replicas = crate::util::num::parse_i64(&argv[1]).ok_or(CmdError::NotInteger)?;
        let timeout = crate::util::num::parse_i64(&argv[2])
            .ok_or_else(|| CmdError::err("timeout is not an integer or out of range"))?;
        if timeout < 0 {
            return Err(CmdError::err("timeout is negative"));
        }
        let req = ShardRequest::Wait {
            replicas: replicas.max(0) as u64,
            timeout_ms: timeout as u64,
        };
        ask_control(&conn, req).await
    })
}

/// REPLCONF option value [option value ...], as `replconfCommand`: what a
/// replica tells its master before PSYNC. ACK and GETACK travel on the
/// replication link itself (the control executor reads them there), so
/// here they are accepted and ignored.
pub fn replconf(conn: &Conn, argv: &[Bytes]) -> CmdResult {
    if argv.len() % 2 == 0 {
        return Err(CmdError::Syntax);
    }
    for pair in argv[1..].chunks(2) {
        let [opt, value] = pair else {
            return Err(CmdError::Syntax);
        };
        let lower = opt.to_ascii_lowercase();
        match lower.as_slice() {
            b"listening-port" => {
                let port = crate::util::num::parse_i64(value)
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or(CmdError::NotInteger)?;
                conn.client.repl_port.set(port);
            }
            b"ip-address" => {
                *conn.client.repl_ip.borrow_mut() =
                    Some(String::from_utf8_lossy(value).into_owned());
            }
            b"capa" => {
                if value.eq_ignore_ascii_case(b"eof") {
                    conn.client.repl_capa_eof.set(true);
                }
            }
            b"rdb-only" | b"rdb-filter-only" => {}
            // No reply to these, as in Redis.
            b"ack" | b"getack" => {
                conn.client.reply_mode.set(ReplyMode::Skip);
                return Ok(Reply::ok());
            }
            _ => {
                return Err(CmdError::err(format!(
                    "Unrecognized REPLCONF option: {}",
                    String::from_utf8_lossy(opt)
                )))
            }
        }
    }
    Ok(Reply::ok())
}

/// PSYNC replid offset.
pub fn psync(conn: &Conn, argv: &[Bytes]) -> CmdResult {
    let offset = crate::util::num::parse_i64(&argv[2]).ok_or(CmdError::NotInteger)?;
    let replid = String::from_utf8_lossy(&argv[1]).into_owned();
    hand_over(conn, Some((replid, offset)))
}

/// SYNC: a full sync without the `+FULLRESYNC` line (old replicas,
/// `redis-cli --rdb`).
pub fn sync(conn: &Conn, _argv: &[Bytes]) -> CmdResult {
    hand_over(conn, None)
}

/// Gives the connection's socket to the control executor, which answers
/// and then streams to it; this connection ends without a reply.
fn hand_over(conn: &Conn, psync: Option<(String, i64)>) -> CmdResult {
    let c = &conn.client;
    if c.is_master.get() {
        return Err(CmdError::err("Replica can't be a master of its own master"));
    }
    // SAFETY: dup of this connection's open socket; the copy goes to the
    // control executor, which owns it from here.
    let fd = unsafe { libc::dup(c.fd) };
    if fd < 0 {
        return Err(CmdError::err("cannot hand the connection to replication"));
    }
    let ip = match c.repl_ip.borrow().clone() {
        Some(ip) => ip,
        None => c
            .addr
            .rsplit_once(':')
            .map(|(h, _)| h.trim_matches(['[', ']']).to_string())
            .unwrap_or_default(),
    };
    let a = Attach {
        fd,
        ip,
        port: c.repl_port.get(),
        psync,
        eof: c.repl_capa_eof.get(),
    };
    conn.ctx
        .tell(conn.ctx.control_peer(), ShardRequest::AttachReplica(a));
    c.handed_over.set(true);
    c.closing.set(true);
    c.reply_mode.set(ReplyMode::Off);
    Ok(Reply::ok())
}

//! Connection commands (Redis's `networking.c` / `server.c` parts): PING ECHO
//! QUIT RESET HELLO AUTH SELECT CLIENT. Run on the connection's shard; CLIENT
//! LIST/KILL/PAUSE fan out to every shard.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;

use super::args::{lossy, parse_i64, upper, Args};
use super::error::CmdError;
use super::keys::{db_index, help_reply};
use super::CmdResult;
use crate::protocol::{Reply, RespVersion};
use crate::server::blocking::UnblockReason;
use crate::server::client::{KillFilter, ReplyMode};
use crate::server::connection::Conn;
use crate::server::hop::{ShardReply, ShardRequest};
use crate::util::clock::now_ms;

/// Version reported to clients (HELLO, INFO): the Redis release whose
/// behaviour tessera matches.
pub const REDIS_VERSION: &str = "7.0.15";

pub fn ping(conn: &Conn, argv: &[Bytes]) -> CmdResult {
    // Matches pingCommand: a RESP2 subscriber gets `[pong, <arg or "">]`.
    if conn.client.pubsub.is_active() && conn.client.resp.get() == RespVersion::Resp2 {
        if argv.len() > 2 {
            return Err(CmdError::WrongArity("ping".into()));
        }
        let arg = argv.get(1).cloned().unwrap_or_default();
        return Ok(Reply::Array(vec![
            Reply::bulk_str("pong"),
            Reply::Bulk(arg),
        ]));
    }
    match argv.len() {
        1 => Ok(Reply::simple("PONG")),
        2 => Ok(Reply::Bulk(argv[1].clone())),
        _ => Err(CmdError::WrongArity("ping".into())),
    }
}

pub fn echo(_conn: &Conn, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Bulk(argv[1].clone()))
}

pub fn quit(conn: &Conn, _argv: &[Bytes]) -> CmdResult {
    conn.client.closing.set(true);
    Ok(Reply::ok())
}

pub fn reset(conn: &Conn, _argv: &[Bytes]) -> CmdResult {
    let c = &conn.client;
    conn.ctx.pubsub.borrow_mut().drop_client(c);
    c.db.set(0);
    c.resp.set(RespVersion::Resp2);
    *c.name.borrow_mut() = None;
    c.reply_mode.set(ReplyMode::On);
    c.no_evict.set(false);
    c.multi.borrow_mut().take();
    super::multi::unwatch_all(conn);
    let needs_auth = conn.ctx.hot.get().auth_required;
    c.authenticated.set(!needs_auth);
    Ok(Reply::simple("RESET"))
}

/// Checks a password for the default user (`ACLCheckUserCredentials`).
fn check_password(conn: &Conn, user: Option<&[u8]>, pass: &[u8]) -> Result<(), CmdError> {
    let cfg = conn.ctx.config();
    let ok = match cfg.requirepass() {
        Some(p) => p.as_bytes() == pass,
        None => true,
    };
    if user.is_some_and(|u| u != b"default") || !ok {
        return Err(CmdError::Coded(
            "WRONGPASS invalid username-password pair or user is disabled.".into(),
        ));
    }
    conn.client.authenticated.set(true);
    Ok(())
}

/// AUTH [username] password
pub fn auth(conn: &Conn, argv: &[Bytes]) -> CmdResult {
    if argv.len() > 3 {
        return Err(CmdError::Syntax);
    }
    if argv.len() == 2 && !conn.ctx.hot.get().auth_required {
        return Err(CmdError::err("AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"));
    }
    let (user, pass) = if argv.len() == 3 {
        (Some(argv[1].as_ref()), &argv[2])
    } else {
        (None, &argv[1])
    };
    check_password(conn, user, pass)?;
    Ok(Reply::ok())
}

/// HELLO [protover [AUTH username password] [SETNAME name]]
pub fn hello(conn: &Conn, argv: &[Bytes]) -> CmdResult {
    let mut args = Args::new(argv);
    let mut version = None;
    if let Some(v) = args.peek() {
        let v = parse_i64(v)
            .map_err(|_| CmdError::err("Protocol version is not an integer or out of range"))?;
        args.arg()?;
        version = Some(match v {
            2 => RespVersion::Resp2,
            3 => RespVersion::Resp3,
            _ => {
                return Err(CmdError::Coded(
                    "NOPROTO unsupported protocol version".into(),
                ))
            }
        });
    }
    let mut name = None;
    while !args.is_empty() {
        if args.eat("AUTH") && args.remaining() >= 2 {
            let user = args.arg()?.clone();
            let pass = args.arg()?.clone();
            check_password(conn, Some(&user), &pass)?;
        } else if args.eat("SETNAME") && !args.is_empty() {
            let n = args.arg()?.clone();
            validate_name(&n)?;
            name = Some(n);
        } else {
            return Err(CmdError::err(format!(
                "Syntax error in HELLO option '{}'",
                lossy(args.peek().map_or(&b""[..], |a| a.as_ref()))
            )));
        }
    }
    if !conn.client.authenticated.get() {
        return Err(CmdError::Coded("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into()));
    }
    if let Some(v) = version {
        conn.client.resp.set(v);
    }
    if let Some(n) = name {
        *conn.client.name.borrow_mut() = (!n.is_empty()).then_some(n);
    }
    let proto = match conn.client.resp.get() {
        RespVersion::Resp2 => 2,
        RespVersion::Resp3 => 3,
    };
    Ok(Reply::Map(vec![
        (Reply::bulk_str("server"), Reply::bulk_str("redis")),
        (Reply::bulk_str("version"), Reply::bulk_str(REDIS_VERSION)),
        (Reply::bulk_str("proto"), Reply::Integer(proto)),
        (Reply::bulk_str("id"), Reply::Integer(conn.client.id as i64)),
        (Reply::bulk_str("mode"), Reply::bulk_str("standalone")),
        (Reply::bulk_str("role"), Reply::bulk_str("master")),
        (Reply::bulk_str("modules"), Reply::Array(vec![])),
    ]))
}

pub fn select(conn: &Conn, argv: &[Bytes]) -> CmdResult {
    let databases = conn.ctx.hot.get().databases;
    let db = db_index(&argv[1], databases)?;
    conn.client.db.set(db);
    Ok(Reply::ok())
}

/// Client names may not contain spaces, newlines or special characters
/// (`clientSetNameOrReply`).
fn validate_name(name: &[u8]) -> Result<(), CmdError> {
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(CmdError::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok(())
}

const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "    * MAXAGE <maxage>",
    "      Kill connections older than the specified age.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "HELP",
    "    Prints this help.",
];

pub fn client(conn: Conn, argv: Vec<Bytes>) -> Pin<Box<dyn Future<Output = CmdResult>>> {
    Box::pin(async move { client_cmd(&conn, &argv).await })
}

async fn client_cmd(conn: &Conn, argv: &[Bytes]) -> CmdResult {
    let sub = upper(&argv[1]);
    let c = &conn.client;
    let n = argv.len();
    let unknown = || CmdError::UnknownSubcommand(lossy(&argv[1]), "CLIENT".into());
    match sub.as_str() {
        "ID" if n == 2 => Ok(Reply::Integer(c.id as i64)),
        "GETNAME" if n == 2 => Ok(c.name.borrow().clone().map_or(Reply::Nil, Reply::Bulk)),
        "SETNAME" if n == 3 => {
            validate_name(&argv[2])?;
            *c.name.borrow_mut() = (!argv[2].is_empty()).then(|| argv[2].clone());
            Ok(Reply::ok())
        }
        "SETINFO" if n == 4 => {
            let v = lossy(&argv[3]);
            match upper(&argv[2]).as_str() {
                "LIB-NAME" => *c.lib_name.borrow_mut() = Some(v),
                "LIB-VER" => *c.lib_ver.borrow_mut() = Some(v),
                _ => {
                    return Err(CmdError::err(format!(
                        "Unrecognized option '{}'",
                        lossy(&argv[2])
                    )))
                }
            }
            Ok(Reply::ok())
        }
        "INFO" if n == 2 => Ok(Reply::Verbatim(
            *b"txt",
            Bytes::from(c.info_line(now_ms()) + "\n"),
        )),
        "LIST" => client_list(conn, argv).await,
        "KILL" if n >= 3 => client_kill(conn, argv).await,
        "PAUSE" if n == 3 || n == 4 => {
            let ms = parse_i64(&argv[2])
                .map_err(|_| CmdError::err("timeout is not an integer or out of range"))?;
            if ms < 0 {
                return Err(CmdError::err("timeout is negative"));
            }
            let writes_only = match argv.get(3).map(|a| upper(a)) {
                None => false,
                Some(m) if m == "ALL" => false,
                Some(m) if m == "WRITE" => true,
                Some(_) => return Err(CmdError::Syntax),
            };
            let until = now_ms().saturating_add(ms as u64);
            conn.ctx
                .fan_out(|_| ShardRequest::ClientPause {
                    until_ms: until,
                    writes_only,
                })
                .await;
            Ok(Reply::ok())
        }
        "UNPAUSE" if n == 2 => {
            conn.ctx
                .fan_out(|_| ShardRequest::ClientPause {
                    until_ms: 0,
                    writes_only: false,
                })
                .await;
            Ok(Reply::ok())
        }
        "REPLY" if n == 3 => match upper(&argv[2]).as_str() {
            "ON" => {
                c.reply_mode.set(ReplyMode::On);
                Ok(Reply::ok())
            }
            "OFF" => {
                c.reply_mode.set(ReplyMode::Off);
                Ok(Reply::ok())
            }
            "SKIP" => {
                c.reply_mode.set(ReplyMode::SkipNext);
                Ok(Reply::ok())
            }
            _ => Err(CmdError::Syntax),
        },
        "NO-EVICT" if n == 3 => match upper(&argv[2]).as_str() {
            "ON" => {
                c.no_evict.set(true);
                Ok(Reply::ok())
            }
            "OFF" => {
                c.no_evict.set(false);
                Ok(Reply::ok())
            }
            _ => Err(CmdError::Syntax),
        },
        "UNBLOCK" if n == 3 || n == 4 => {
            let id = parse_i64(&argv[2])?;
            let reason = match argv.get(3).map(|a| upper(a)) {
                None => UnblockReason::Timeout,
                Some(r) if r == "TIMEOUT" => UnblockReason::Timeout,
                Some(r) if r == "ERROR" => UnblockReason::Error,
                Some(_) => {
                    return Err(CmdError::err(
                        "CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
                    ))
                }
            };
            let Ok(id) = u64::try_from(id) else {
                return Ok(Reply::Integer(0));
            };
            let replies = conn
                .ctx
                .fan_out(|_| ShardRequest::ClientUnblock { id, reason })
                .await;
            let n = replies
                .iter()
                .map(|r| match r {
                    ShardReply::Count(n) => *n as i64,
                    _ => 0,
                })
                .sum();
            Ok(Reply::Integer(n))
        }
        "GETREDIR" if n == 2 => Ok(Reply::Integer(-1)),
        "HELP" if n == 2 => Ok(help_reply(CLIENT_HELP)),
        _ => Err(unknown()),
    }
}

/// CLIENT LIST [TYPE type] [ID id ...]
async fn client_list(conn: &Conn, argv: &[Bytes]) -> CmdResult {
    let mut ids = Vec::new();
    // TYPE NORMAL / PUBSUB filter on subscriptions (getClientType); MASTER
    // and REPLICA list nothing.
    let mut only_normal = true;
    let mut pubsub = None;
    let mut i = 2;
    while i < argv.len() {
        match upper(&argv[i]).as_str() {
            "TYPE" if i + 1 < argv.len() => {
                let t = upper(&argv[i + 1]);
                match t.as_str() {
                    "NORMAL" => pubsub = Some(false),
                    "PUBSUB" => pubsub = Some(true),
                    "MASTER" | "REPLICA" | "SLAVE" => only_normal = false,
                    _ => {
                        return Err(CmdError::err(format!(
                            "Unknown client type '{}'",
                            lossy(&argv[i + 1])
                        )))
                    }
                }
                i += 2;
            }
            "ID" if i + 1 < argv.len() => {
                i += 1;
                while i < argv.len() {
                    let id = parse_i64(&argv[i]).map_err(|_| CmdError::err("Invalid client ID"))?;
                    if id <= 0 {
                        return Err(CmdError::err("Invalid client ID"));
                    }
                    ids.push(id as u64);
                    i += 1;
                }
            }
            _ => return Err(CmdError::Syntax),
        }
    }
    let mut lines = Vec::new();
    if only_normal {
        for r in conn
            .ctx
            .fan_out(|_| ShardRequest::ClientList {
                ids: ids.clone(),
                pubsub,
            })
            .await
        {
            if let ShardReply::Lines(l) = r {
                lines.extend(l);
            }
        }
    }
    lines.sort_by_key(|l| {
        l.split_whitespace()
            .next()
            .and_then(|f| f.strip_prefix("id="))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    });
    let mut text = String::new();
    for l in lines {
        text.push_str(&l);
        text.push('\n');
    }
    Ok(Reply::Verbatim(*b"txt", Bytes::from(text)))
}

/// CLIENT KILL ip:port | CLIENT KILL <filter> <value> ...
async fn client_kill(conn: &Conn, argv: &[Bytes]) -> CmdResult {
    let mut f = KillFilter::default();
    let old_style = argv.len() == 3;
    if old_style {
        f.addr = Some(lossy(&argv[2]));
    } else {
        f.skip = Some(conn.client.id);
        if argv.len() % 2 != 0 {
            return Err(CmdError::Syntax);
        }
        for pair in argv[2..].chunks_exact(2) {
            let v = lossy(&pair[1]);
            match upper(&pair[0]).as_str() {
                "ID" => {
                    let id = parse_i64(&pair[1])
                        .map_err(|_| CmdError::err("client-id should be greater than 0"))?;
                    if id <= 0 {
                        return Err(CmdError::err("client-id should be greater than 0"));
                    }
                    f.id = Some(id as u64);
                }
                "ADDR" => f.addr = Some(v),
                "LADDR" => f.laddr = Some(v),
                "USER" => f.user = Some(v),
                "TYPE" => {
                    let t = v.to_ascii_lowercase();
                    let t = if t == "slave" {
                        "replica".to_string()
                    } else {
                        t
                    };
                    if !matches!(t.as_str(), "normal" | "master" | "replica" | "pubsub") {
                        return Err(CmdError::err(format!("Unknown client type '{v}'")));
                    }
                    f.kind = Some(t);
                }
                "SKIPME" => match v.to_ascii_lowercase().as_str() {
                    "yes" => f.skip = Some(conn.client.id),
                    "no" => f.skip = None,
                    _ => return Err(CmdError::Syntax),
                },
                "MAXAGE" => f.max_age_s = Some(parse_i64(&pair[1])?.max(0) as u64),
                _ => return Err(CmdError::Syntax),
            }
        }
    }
    let mut killed = 0;
    // The master link and replica links are the control executor's.
    // COMPAT: only the TYPE filter selects them (not ID or ADDR).
    if let Some(t @ ("master" | "replica")) = f.kind.as_deref() {
        let req = ShardRequest::KillReplLinks {
            master: t == "master",
            replicas: t == "replica",
        };
        if let ShardReply::Count(n) = conn.ctx.hop(conn.ctx.control_peer(), req).await {
            killed += n;
        }
    }
    for r in conn
        .ctx
        .fan_out(|_| ShardRequest::ClientKill { filter: f.clone() })
        .await
    {
        if let ShardReply::Count(n) = r {
            killed += n;
        }
    }
    if old_style {
        if killed == 0 {
            return Err(CmdError::err("No such client"));
        }
        return Ok(Reply::ok());
    }
    Ok(Reply::Integer(killed as i64))
}

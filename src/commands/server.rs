//! Server and keyspace-wide commands (Redis's `server.c`, `db.c`, `config.c`
//! parts): INFO CONFIG COMMAND TIME LASTSAVE SHUTDOWN DEBUG, and KEYS SCAN
//! RANDOMKEY DBSIZE FLUSHDB FLUSHALL SWAPDB, which fan out to every shard.
//! Run on: the connection's shard; CONFIG SET/REWRITE hop to the control
//! executor, which owns the configuration.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::args::{lossy, parse_i64, upper, Args};
use super::connection::REDIS_VERSION;
use super::error::CmdError;
use super::keys::{db_index, help_reply, KeyFilter};
use super::table::{self, flags, CommandSpec, COMMANDS};
use super::CmdResult;
use crate::protocol::Reply;
use crate::server::connection::Conn;
use crate::server::hop::{ShardReply, ShardRequest};
use crate::shard::ShardStats;
use crate::util::clock::now_ms;

use super::BoxFut;

pub fn keys(conn: Conn, argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move {
        let db = conn.client.db.get();
        let filter = KeyFilter {
            pattern: Some(argv[1].clone()),
            type_name: None,
        };
        let mut out = Vec::new();
        for r in conn
            .ctx
            .fan_out(|_| ShardRequest::Keys {
                db,
                filter: filter.clone(),
            })
            .await
        {
            if let ShardReply::Keys(k) = r {
                out.extend(k.into_iter().map(Reply::Bulk));
            }
        }
        Ok(Reply::Array(out))
    })
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]. The cursor encodes
/// (shard, next slot of that shard): shard * 16384 + slot.
pub fn scan(conn: Conn, argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move {
        let cursor = super::args::scan_cursor(&argv[1])?;
        let mut args = Args::new(&argv[1..]);
        let mut filter = KeyFilter::default();
        let mut count = 10usize;
        while !args.is_empty() {
            if args.eat("MATCH") {
                let p = args.arg()?.clone();
                // "*" matches everything: skip the matching work.
                filter.pattern = (p.as_ref() != b"*").then_some(p);
            } else if args.eat("COUNT") {
                let c = args.next_i64()?;
                if c < 1 {
                    return Err(CmdError::Syntax);
                }
                count = c as usize;
            } else if args.eat("TYPE") {
                filter.type_name = Some(lossy(args.arg()?));
            } else {
                return Err(CmdError::Syntax);
            }
        }
        let nshards = conn.ctx.nshards() as u64;
        let slots = crate::cluster::slot::SLOTS as u64;
        let shard = cursor / slots;
        if shard >= nshards {
            // A cursor from elsewhere: like Redis, an unknown cursor just ends.
            return Ok(scan_reply(0, Vec::new()));
        }
        let from_slot = (cursor % slots) as u16;
        let db = conn.client.db.get();
        let reply = conn
            .ctx
            .hop(
                shard as usize,
                ShardRequest::Scan {
                    db,
                    from_slot,
                    count,
                    filter,
                },
            )
            .await;
        let ShardReply::Scan(keys, next) = reply else {
            return Err(CmdError::err("internal error during SCAN"));
        };
        let next = match next {
            Some(slot) => shard * slots + slot as u64,
            None if shard + 1 < nshards => (shard + 1) * slots,
            None => 0,
        };
        Ok(scan_reply(next, keys))
    })
}

/// The two-element reply of every SCAN-family command (items are bulks in
/// RESP2 and RESP3 alike, ZSCAN scores included).
pub fn scan_reply(cursor: u64, keys: Vec<Bytes>) -> Reply {
    Reply::Array(vec![
        Reply::Bulk(Bytes::from(cursor.to_string())),
        Reply::Array(keys.into_iter().map(Reply::Bulk).collect()),
    ])
}

pub fn randomkey(conn: Conn, _argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move {
        let n = conn.ctx.nshards();
        let seed = random_seed();
        let db = conn.client.db.get();
        for i in 0..n {
            let shard = (seed as usize + i) % n;
            let r = conn
                .ctx
                .hop(
                    shard,
                    ShardRequest::RandomKey {
                        db,
                        seed: seed.rotate_left(i as u32),
                    },
                )
                .await;
            if let ShardReply::Key(Some(k)) = r {
                return Ok(Reply::Bulk(k));
            }
        }
        Ok(Reply::Nil)
    })
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = ahash::RandomState::new().build_hasher();
    h.write_u64(now_ms());
    h.finish()
}

async fn sum_counts(conn: &Conn, make: impl FnMut(usize) -> ShardRequest) -> u64 {
    conn.ctx
        .fan_out(make)
        .await
        .into_iter()
        .map(|r| if let ShardReply::Count(n) = r { n } else { 0 })
        .sum()
}

pub fn dbsize(conn: Conn, _argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move {
        let db = conn.client.db.get();
        Ok(Reply::Integer(
            sum_counts(&conn, |_| ShardRequest::DbSize { db }).await as i64,
        ))
    })
}

fn flush_mode(argv: &[Bytes]) -> Result<(), CmdError> {
    match argv.get(1).map(|a| upper(a)) {
        None => Ok(()),
        Some(m) if (m == "ASYNC" || m == "SYNC") && argv.len() == 2 => Ok(()),
        Some(_) => Err(CmdError::Syntax),
    }
}

pub fn flushdb(conn: Conn, argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move {
        flush_mode(&argv)?;
        let db = Some(conn.client.db.get());
        sum_counts(&conn, |_| ShardRequest::Flush { db }).await;
        Ok(Reply::ok())
    })
}

pub fn flushall(conn: Conn, argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move {
        flush_mode(&argv)?;
        sum_counts(&conn, |_| ShardRequest::Flush { db: None }).await;
        Ok(Reply::ok())
    })
}

pub fn swapdb(conn: Conn, argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move {
        let databases = conn.ctx.hot.get().databases;
        // Matches swapdbCommand: anything that is not a 32-bit integer.
        let int32 = |a: &[u8]| parse_i64(a).ok().filter(|n| i32::try_from(*n).is_ok());
        int32(&argv[1]).ok_or_else(|| CmdError::err("invalid first DB index"))?;
        int32(&argv[2]).ok_or_else(|| CmdError::err("invalid second DB index"))?;
        let a = db_index(&argv[1], databases)?;
        let b = db_index(&argv[2], databases)?;
        if a != b {
            conn.ctx.fan_out(|_| ShardRequest::SwapDb { a, b }).await;
        }
        Ok(Reply::ok())
    })
}

pub fn time(_conn: &Conn, _argv: &[Bytes]) -> CmdResult {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Ok(Reply::Array(vec![
        Reply::Bulk(Bytes::from(d.as_secs().to_string())),
        Reply::Bulk(Bytes::from(d.subsec_micros().to_string())),
    ]))
}

const DEBUG_HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "OBJECT <key>",
    "    Show low level info about the `key` and associated value.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Add string keys <prefix>:0 .. <prefix>:<count-1> (prefix 'key') holding",
    "    value:<n>, padded or cut to <size> bytes when given. Existing keys stay;",
    "    nothing is propagated.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [NOSAVE] [NOFLUSH]",
    "    Write the RDB file, empty every database and load the file back.",
    "    NOSAVE loads the file already on disk; NOFLUSH keeps the current keys.",
    "REPL-STREAM",
    "    (tessera) Each shard's replication stream: its offset and newest bytes.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SET-TX-DELAY <ms>",
    "    (tessera) Pause between the per-shard steps of cross-shard commands, to",
    "    test that key locks keep them atomic. 0 turns it off.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "HELP",
    "    Prints this help.",
];

/// DEBUG, behind `enable-debug-command` (SLEEP, SET-ACTIVE-EXPIRE, HELP).
pub fn debug(conn: Conn, argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move {
        let allowed = match conn.ctx.config.borrow().enable_debug_command() {
            "yes" => true,
            "local" => {
                conn.client.addr.starts_with("127.") || conn.client.addr.starts_with("[::1]")
            }
            _ => false,
        };
        if !allowed {
            return Err(CmdError::err("DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."));
        }
        match upper(&argv[1]).as_str() {
            "HELP" => Ok(help_reply(DEBUG_HELP)),
            "SLEEP" if argv.len() == 3 => {
                let secs = crate::util::num::parse_f64(&argv[2]).ok_or(CmdError::NotFloat)?;
                // Matches Redis: the whole shard stops (a blocking sleep).
                std::thread::sleep(std::time::Duration::from_secs_f64(secs.clamp(0.0, 3600.0)));
                Ok(Reply::ok())
            }
            "DIGEST" if argv.len() == 2 => {
                let mut acc = [0u64; 3];
                for r in conn.ctx.fan_out(|_| ShardRequest::Digest).await {
                    if let ShardReply::Digest(d) = r {
                        for (a, x) in acc.iter_mut().zip(d) {
                            *a ^= x;
                        }
                    }
                }
                let hex = if acc == [0; 3] {
                    "0".repeat(40)
                } else {
                    crate::shard::digest_hex(acc)
                };
                Ok(Reply::Simple(Bytes::from(hex)))
            }
            "DIGEST-VALUE" => {
                let mut out = Vec::new();
                for k in &argv[2..] {
                    let lines = debug_keys(&conn, k, false).await;
                    out.push(Reply::Simple(Bytes::from(lines)));
                }
                Ok(Reply::Array(out))
            }
            "OBJECT" if argv.len() == 3 => {
                let line = debug_keys(&conn, &argv[2], true).await;
                if line.starts_with("ERR ") {
                    return Err(CmdError::NoSuchKey);
                }
                Ok(Reply::Simple(Bytes::from(line)))
            }
            "PROTOCOL" if argv.len() == 3 => debug_protocol(&argv[2]),
            "RELOAD" => super::persistence::debug_reload(&conn, &argv).await,
            "POPULATE" if (3..=5).contains(&argv.len()) => {
                let count = parse_i64(&argv[2])?;
                let count = u64::try_from(count)
                    .map_err(|_| CmdError::err("value is out of range, must be positive"))?;
                let prefix = argv
                    .get(3)
                    .cloned()
                    .unwrap_or_else(|| Bytes::from_static(b"key"));
                let size =
                    match argv.get(4) {
                        Some(a) => Some(usize::try_from(parse_i64(a)?).map_err(|_| {
                            CmdError::err("value is out of range, must be positive")
                        })?),
                        None => None,
                    };
                let db = conn.client.db.get();
                conn.ctx
                    .fan_out(|_| ShardRequest::Populate {
                        db,
                        count,
                        prefix: prefix.clone(),
                        size,
                    })
                    .await;
                Ok(Reply::ok())
            }
            "SET-TX-DELAY" if argv.len() == 3 => {
                let ms = parse_i64(&argv[2])?.clamp(0, 10_000) as u64;
                conn.ctx.fan_out(|_| ShardRequest::SetTxDelay(ms)).await;
                Ok(Reply::ok())
            }
            "REPL-STREAM" if argv.len() == 2 => {
                // Each shard's [offset, newest bytes of its stream].
                let parts = conn.ctx.fan_out(|_| ShardRequest::ReplStream).await;
                Ok(Reply::Array(
                    parts
                        .into_iter()
                        .map(|r| match r {
                            ShardReply::Reply(r) => r,
                            _ => Reply::Nil,
                        })
                        .collect(),
                ))
            }
            "SET-ACTIVE-EXPIRE" if argv.len() == 3 => {
                let on = parse_i64(&argv[2])? != 0;
                conn.ctx
                    .fan_out(|_| ShardRequest::SetActiveExpire(on))
                    .await;
                Ok(Reply::ok())
            }
            _ => Err(CmdError::UnknownSubcommand(lossy(&argv[1]), "DEBUG".into())),
        }
    })
}

/// DEBUG DIGEST-VALUE / OBJECT for one key, on the shard that owns it.
async fn debug_keys(conn: &Conn, key: &Bytes, object: bool) -> String {
    let shard = conn.ctx.slots.shard_of_key(key).0;
    let db = conn.client.db.get();
    let req = ShardRequest::DebugKeys {
        db,
        keys: vec![key.clone()],
        object,
    };
    match conn.ctx.hop(shard, req).await {
        ShardReply::Lines(mut l) => l.pop().unwrap_or_default(),
        _ => String::new(),
    }
}

/// DEBUG PROTOCOL <type>: one sample reply of each RESP type (Redis's
/// `debugCommand` "protocol"), for client tests.
fn debug_protocol(kind: &[u8]) -> CmdResult {
    Ok(match upper(kind).as_str() {
        "STRING" => Reply::bulk_str("Hello World"),
        "INTEGER" => Reply::Integer(12345),
        // The sample value Redis itself sends.
        #[allow(clippy::approx_constant)]
        "DOUBLE" => Reply::Double(3.141),
        "BIGNUM" => Reply::BigNumber(Bytes::from_static(b"1234567999999999999999999999999999999")),
        "NULL" => Reply::Nil,
        "ARRAY" => Reply::Array((0..3).map(Reply::Integer).collect()),
        "SET" => Reply::Set((0..3).map(Reply::Integer).collect()),
        "MAP" => Reply::Map((0..3).map(|i| (Reply::Integer(i), Reply::Bool(i == 1))).collect()),
        "PUSH" => Reply::Push(vec![Reply::Integer(0), Reply::Integer(1), Reply::Integer(2)]),
        "VERBATIM" => Reply::Verbatim(*b"txt", Bytes::from_static(b"This is a verbatim\nstring")),
        "TRUE" => Reply::Bool(true),
        "FALSE" => Reply::Bool(false),
        _ => {
            return Err(CmdError::err(
                "Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
            ))
        }
    })
}

const SLOWLOG_HELP: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

/// SLOWLOG GET [count] | LEN | RESET | HELP: the shards' logs merged by time.
pub fn slowlog(conn: Conn, argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move {
        let n = argv.len();
        match upper(&argv[1]).as_str() {
            "GET" if n <= 3 => {
                let count = match argv.get(2) {
                    None => 10,
                    Some(c) => {
                        let c = parse_i64(c)?;
                        if c < -1 {
                            return Err(CmdError::err(
                                "count should be greater than or equal to -1",
                            ));
                        }
                        if c == -1 {
                            usize::MAX
                        } else {
                            c as usize
                        }
                    }
                };
                let mut all = Vec::new();
                for r in conn
                    .ctx
                    .fan_out(|_| ShardRequest::SlowlogGet { count })
                    .await
                {
                    if let ShardReply::Slow(e) = r {
                        all.extend(e);
                    }
                }
                all.sort_by_key(|e| std::cmp::Reverse((e.time, e.id)));
                all.truncate(count);
                Ok(Reply::Array(
                    all.into_iter()
                        .map(|e| {
                            Reply::Array(vec![
                                Reply::Integer(e.id as i64),
                                Reply::Integer(e.time as i64),
                                Reply::Integer(e.micros as i64),
                                Reply::Array(e.args.into_iter().map(Reply::Bulk).collect()),
                                Reply::bulk_str(&e.addr),
                                Reply::Bulk(e.name),
                            ])
                        })
                        .collect(),
                ))
            }
            "LEN" if n == 2 => Ok(Reply::Integer(
                sum_counts(&conn, |_| ShardRequest::SlowlogLen).await as i64,
            )),
            "RESET" if n == 2 => {
                conn.ctx.fan_out(|_| ShardRequest::SlowlogReset).await;
                Ok(Reply::ok())
            }
            "HELP" if n == 2 => Ok(help_reply(SLOWLOG_HELP)),
            _ => Err(CmdError::UnknownSubcommand(
                lossy(&argv[1]),
                "SLOWLOG".into(),
            )),
        }
    })
}

/// MONITOR: from now on this connection receives every command the server
/// runs (the connection loop switches to feed mode after the +OK).
pub fn monitor(conn: Conn, _argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move {
        if conn.client.start_monitor() {
            let (shard, client) = (conn.ctx.id.0, conn.client.id);
            conn.ctx
                .fan_out(|_| ShardRequest::MonitorAdd { shard, client })
                .await;
        }
        Ok(Reply::ok())
    })
}

const CONFIG_HELP: &[&str] = &[
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
];

pub fn config(conn: Conn, argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move {
        let n = argv.len();
        let sub = upper(&argv[1]);
        match sub.as_str() {
            "GET" if n >= 3 => {
                let cfg = conn.ctx.config();
                let patterns: Vec<&[u8]> = argv[2..].iter().map(|p| p.as_ref()).collect();
                let pairs = cfg
                    .get(&patterns)
                    .into_iter()
                    .map(|(k, v)| (Reply::bulk_str(&k), Reply::bulk_str(&v)))
                    .collect();
                Ok(Reply::Map(pairs))
            }
            "SET" if n >= 4 && n % 2 == 0 => {
                let pairs = argv[2..]
                    .chunks_exact(2)
                    .map(|p| (p[0].clone(), p[1].clone()))
                    .collect();
                let control = conn.ctx.control_peer();
                match conn
                    .ctx
                    .hop(control, ShardRequest::ConfigSet { pairs })
                    .await
                {
                    ShardReply::Done => Ok(Reply::ok()),
                    ShardReply::Err(e) => Err(CmdError::Coded(e)),
                    _ => Err(CmdError::err("internal error during CONFIG SET")),
                }
            }
            "REWRITE" if n == 2 => {
                let control = conn.ctx.control_peer();
                match conn.ctx.hop(control, ShardRequest::ConfigRewrite).await {
                    ShardReply::Done => Ok(Reply::ok()),
                    ShardReply::Err(e) => Err(CmdError::Coded(e)),
                    _ => Err(CmdError::err("internal error during CONFIG REWRITE")),
                }
            }
            "RESETSTAT" if n == 2 => {
                conn.ctx.fan_out(|_| ShardRequest::ResetStats).await;
                Ok(Reply::ok())
            }
            "HELP" if n == 2 => Ok(help_reply(CONFIG_HELP)),
            "SET" | "GET" => Err(CmdError::WrongArity(format!(
                "config|{}",
                sub.to_ascii_lowercase()
            ))),
            _ => Err(CmdError::UnknownSubcommand(
                lossy(&argv[1]),
                "CONFIG".into(),
            )),
        }
    })
}

/// COMMAND INFO entry (Redis 7.0's 10-element form).
fn command_info(c: &CommandSpec) -> Reply {
    // Movable keys have no legacy range (Redis shows 0 0 0 for LMPOP).
    let legacy = if c.has(flags::MOVABLE_KEYS) {
        (0, 0, 0)
    } else {
        c.keys
    };
    let flag_names = flags::NAMES
        .iter()
        .filter(|(f, _)| c.has(*f))
        .map(|(_, n)| Reply::simple(n))
        .collect();
    let cats = c
        .categories()
        .into_iter()
        .map(|s| Reply::Simple(Bytes::from(s)))
        .collect();
    Reply::Array(vec![
        Reply::bulk_str(c.name),
        Reply::Integer(c.arity as i64),
        Reply::Set(flag_names),
        Reply::Integer(legacy.0 as i64),
        Reply::Integer(legacy.1 as i64),
        Reply::Integer(legacy.2 as i64),
        Reply::Set(cats),
        Reply::Array(vec![]),
        Reply::Array(vec![]),
        Reply::Array(vec![]),
    ])
}

const COMMAND_HELP: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "HELP",
    "    Prints this help.",
];

pub fn command(_conn: &Conn, argv: &[Bytes]) -> CmdResult {
    if argv.len() == 1 {
        return Ok(Reply::Array(COMMANDS.iter().map(command_info).collect()));
    }
    let sub = upper(&argv[1]);
    match sub.as_str() {
        "COUNT" if argv.len() == 2 => Ok(Reply::Integer(COMMANDS.len() as i64)),
        "LIST" => Ok(Reply::Array(
            COMMANDS.iter().map(|c| Reply::bulk_str(c.name)).collect(),
        )),
        "INFO" => {
            if argv.len() == 2 {
                return Ok(Reply::Array(COMMANDS.iter().map(command_info).collect()));
            }
            Ok(Reply::Array(
                argv[2..]
                    .iter()
                    .map(|n| table::lookup(n).map_or(Reply::Nil, command_info))
                    .collect(),
            ))
        }
        "DOCS" => {
            let specs: Vec<&CommandSpec> = if argv.len() == 2 {
                COMMANDS.iter().collect()
            } else {
                argv[2..].iter().filter_map(|n| table::lookup(n)).collect()
            };
            Ok(Reply::Map(
                specs
                    .into_iter()
                    .map(|c| {
                        (
                            Reply::bulk_str(c.name),
                            Reply::Map(vec![
                                (Reply::bulk_str("summary"), Reply::bulk_str("")),
                                (Reply::bulk_str("since"), Reply::bulk_str("1.0.0")),
                                (Reply::bulk_str("group"), Reply::bulk_str(c.group)),
                            ]),
                        )
                    })
                    .collect(),
            ))
        }
        "GETKEYS" if argv.len() < 4 => Err(CmdError::WrongArity("command|getkeys".into())),
        "GETKEYS" => {
            let cmd_argv = &argv[2..];
            let Some(spec) = table::lookup(&cmd_argv[0]) else {
                return Err(CmdError::err("Invalid command specified"));
            };
            if !spec.arity_ok(cmd_argv.len()) {
                return Err(CmdError::err(
                    "Invalid number of arguments specified for command",
                ));
            }
            // Pub/Sub channels are `not_key` key specs: not keys here.
            let keys: Vec<Reply> = spec
                .key_indexes(cmd_argv)
                .filter(|_| !spec.has(flags::PUBSUB))
                .filter_map(|i| cmd_argv.get(i))
                .map(|k| Reply::Bulk(k.clone()))
                .collect();
            if keys.is_empty() {
                return Err(CmdError::err("The command has no key arguments"));
            }
            Ok(Reply::Array(keys))
        }
        "HELP" if argv.len() == 2 => Ok(help_reply(COMMAND_HELP)),
        _ => Err(CmdError::UnknownSubcommand(
            lossy(&argv[1]),
            "COMMAND".into(),
        )),
    }
}

fn human_bytes(n: u64) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{}B", n as u64)
    } else if n < 1024.0 * 1024.0 {
        format!("{:.2}K", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", n / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", n / (1024.0 * 1024.0 * 1024.0))
    }
}

fn rusage() -> (f64, f64) {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(ru.ru_stime), t(ru.ru_utime))
}

/// INFO [section ...]: Redis 7.0 section and field names.
pub fn info(conn: Conn, argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move {
        let wanted: Vec<String> = argv[1..]
            .iter()
            .map(|a| lossy(a).to_ascii_lowercase())
            .collect();
        let all = wanted.is_empty()
            || wanted
                .iter()
                .any(|w| w == "all" || w == "everything" || w == "default");
        let want = |s: &str| all || wanted.iter().any(|w| w == s);
        let mut total = ShardStats::default();
        for r in conn.ctx.fan_out(|_| ShardRequest::Stats).await {
            if let ShardReply::Stats(s) = r {
                total.add(&s);
            }
        }
        let cfg = conn.ctx.config();
        let shared = &conn.ctx.shared;
        let now = now_ms();
        let uptime = now.saturating_sub(shared.start_ms) / 1000;
        let mut out = String::new();
        let mut section = |name: &str, body: String| {
            if !out.is_empty() {
                out.push_str("\r\n");
            }
            let _ = write!(out, "# {name}\r\n{body}");
        };
        if want("server") {
            let mut s = String::new();
            let _ = write!(
                s,
                "redis_version:{REDIS_VERSION}\r\ntessera_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{} {}\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:io_uring\r\natomicvar_api:c11-builtin\r\nprocess_id:{}\r\nprocess_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:{}\r\nconfig_file:{}\r\nio_threads_active:0\r\nshards:{}\r\n",
                env!("CARGO_PKG_VERSION"),
                std::env::consts::OS,
                std::env::consts::ARCH,
                std::process::id(),
                shared.run_id,
                cfg.port(),
                now * 1000,
                uptime,
                uptime / 86400,
                cfg.hz(),
                cfg.hz(),
                crate::shard::db::lru_clock(now),
                shared.executable,
                cfg.config_file().map(|p| p.display().to_string()).unwrap_or_default(),
                conn.ctx.nshards(),
            );
            section("Server", s);
        }
        if want("clients") {
            section(
                "Clients",
                format!(
                    "connected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:{}\r\ntracking_clients:0\r\nclients_in_timeout_table:0\r\n",
                    total.clients,
                    cfg.maxclients(),
                    total.blocked_clients
                ),
            );
        }
        if want("memory") {
            let used = total.used_memory;
            let maxmem = cfg.maxmemory();
            section(
                "Memory",
                format!(
                    "used_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{used}\r\nused_memory_rss_human:{}\r\nused_memory_peak:{used}\r\nused_memory_peak_human:{}\r\nused_memory_dataset:{used}\r\nmaxmemory:{maxmem}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nmem_fragmentation_ratio:1.00\r\nmem_allocator:libc\r\nlazyfree_pending_objects:0\r\n",
                    human_bytes(used),
                    human_bytes(used),
                    human_bytes(used),
                    human_bytes(maxmem),
                    cfg.value("maxmemory-policy").unwrap_or("noeviction"),
                ),
            );
        }
        if want("persistence") {
            let control = conn.ctx.control_peer();
            let lines = match conn.ctx.hop(control, ShardRequest::PersistenceInfo).await {
                ShardReply::Lines(l) => l,
                _ => Vec::new(),
            };
            // The control executor's `field:value` lines, by field.
            let field = |name: &str| {
                lines
                    .iter()
                    .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                    .unwrap_or("0")
                    .to_string()
            };
            let mut s = String::from("loading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\n");
            let _ = write!(
                s,
                "current_save_keys_total:{}\r\nrdb_changes_since_last_save:{}\r\n",
                field("current_save_keys_total"),
                total.dirty
            );
            for name in [
                "rdb_bgsave_in_progress",
                "rdb_last_save_time",
                "rdb_last_bgsave_status",
                "rdb_last_bgsave_time_sec",
                "rdb_current_bgsave_time_sec",
                "rdb_saves",
            ] {
                let _ = write!(s, "{name}:{}\r\n", field(name));
            }
            s.push_str("rdb_last_cow_size:0\r\n");
            for name in ["rdb_last_load_keys_expired", "rdb_last_load_keys_loaded"] {
                let _ = write!(s, "{name}:{}\r\n", field(name));
            }
            let aof_on = cfg.bool("appendonly").unwrap_or(false);
            let _ = write!(s, "aof_enabled:{}\r\n", u8::from(aof_on));
            for name in [
                "aof_rewrite_in_progress",
                "aof_rewrite_scheduled",
                "aof_last_rewrite_time_sec",
                "aof_current_rewrite_time_sec",
                "aof_last_bgrewrite_status",
                "aof_rewrites",
                "aof_rewrites_consecutive_failures",
            ] {
                let _ = write!(s, "{name}:{}\r\n", field(name));
            }
            // The shards' files, summed (Redis has one).
            let files = crate::persistence::aof::Totals::of(
                conn.ctx.fan_out(|_| ShardRequest::AofState).await,
            );
            let _ = write!(
                s,
                "aof_last_write_status:{}\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
                if files.write_failed { "err" } else { "ok" }
            );
            if aof_on {
                let _ = write!(
                    s,
                    "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:0\r\naof_buffer_length:0\r\naof_pending_bio_fsync:0\r\naof_delayed_fsync:0\r\n",
                    files.size, files.base_size
                );
            }
            section("Persistence", s);
        }
        let repl = if want("stats") || want("replication") {
            match conn
                .ctx
                .hop(conn.ctx.control_peer(), ShardRequest::ReplInfo)
                .await
            {
                crate::server::hop::ShardReply::Lines(l) => l,
                _ => Vec::new(),
            }
        } else {
            Vec::new()
        };
        let repl_field = |i: usize| repl.get(i).cloned().unwrap_or_else(|| "0".into());
        if want("stats") {
            let [channels, patterns, shard_channels] = super::pubsub::info_counts(&conn.ctx).await;
            section(
                "Stats",
                format!(
                    "total_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:0\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\nsync_full:{}\r\nsync_partial_ok:{}\r\nsync_partial_err:{}\r\nexpired_keys:{}\r\nexpired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\nevicted_keys:0\r\nevicted_clients:0\r\ntotal_eviction_exceeded_time:0\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\nlatest_fork_usec:0\r\ntotal_forks:0\r\nmigrate_cached_sockets:0\r\ntotal_active_defrag_time:0\r\ntracking_total_keys:0\r\ntotal_error_replies:0\r\ntotal_reads_processed:0\r\ntotal_writes_processed:0\r\n",
                    total.connections,
                    total.commands,
                    total.net_input,
                    total.net_output,
                    total.rejected,
                    repl_field(1),
                    repl_field(2),
                    repl_field(3),
                    total.expired,
                    total.hits,
                    total.misses,
                    channels,
                    patterns,
                    shard_channels
                ),
            );
        }
        if want("replication") {
            section("Replication", repl.first().cloned().unwrap_or_default());
        }
        if want("cpu") {
            let (sys, user) = rusage();
            section(
                "CPU",
                format!(
                    "used_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\nused_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\n"
                ),
            );
        }
        if want("modules") {
            section("Modules", String::new());
        }
        if want("errorstats") {
            section("Errorstats", String::new());
        }
        if want("cluster") {
            section("Cluster", "cluster_enabled:0\r\n".into());
        }
        if want("keyspace") {
            let mut s = String::new();
            for (i, k) in total.keyspace.iter().enumerate() {
                if k.keys > 0 {
                    let _ = write!(
                        s,
                        "db{i}:keys={},expires={},avg_ttl={}\r\n",
                        k.keys, k.expires, k.avg_ttl
                    );
                }
            }
            section("Keyspace", s);
        }
        Ok(Reply::Verbatim(*b"txt", Bytes::from(out)))
    })
}

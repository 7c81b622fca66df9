//! THE command table: every command tessera knows, with Redis 7.0's arity,
//! flags, key positions and ACL categories, and its handler. COMMAND, COMMAND
//! GETKEYS, routing and dispatch all read it; nothing else lists commands.
//! Immutable; each shard reads it.

use std::collections::HashMap;
use std::sync::OnceLock;

use bytes::Bytes;

use super::{
    connection as conn, dump, keys, list as l, multi, persistence, pubsub as ps,
    replication as repl, server as srv, string as s, zset as z,
};
use super::{CmdResult, KeyCtx};
use crate::server::connection::{AsyncHandler, Conn};

/// Command flags, as in Redis's `CMD_*` (names as COMMAND INFO shows them).
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MULTI: u32 = 1 << 14;
    pub const ALLOW_BUSY: u32 = 1 << 15;
    pub const SENTINEL: u32 = 1 << 16;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 17;
    /// The key count is an argument (LMPOP): `argv[first - 1]` is numkeys
    /// and the keys are the `numkeys` arguments from `first` on. COMMAND
    /// INFO shows the legacy range as 0 0 0, as Redis does.
    pub const MOVABLE_KEYS: u32 = 1 << 18;
    /// The other shape of movable keys (ZUNIONSTORE, ZINTERSTORE,
    /// ZDIFFSTORE): `argv[1]` is a destination key, `argv[2]` is numkeys
    /// and the keys are the `numkeys` arguments after it. The spec's
    /// `keys` is Redis's legacy range for them, (1, 1, 1), which COMMAND
    /// INFO shows as it is, with the flag named `movablekeys` (Redis 7.0
    /// derives both from the key specs). Code asking "are the keys
    /// movable?" tests `has(MOVABLE_KEYS | DEST_NUMKEYS)`.
    pub const DEST_NUMKEYS: u32 = 1 << 19;

    /// (flag, name in COMMAND INFO), in Redis's order.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (DEST_NUMKEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
        (SENTINEL, "sentinel"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
    ];
}

use flags::*;

/// How a command runs.
pub enum Handler {
    /// Runs on the shard owning its keys (inline when that is this shard, by
    /// hop otherwise; as a locked transaction when the keys span shards).
    Keyed(fn(&mut KeyCtx, &[Bytes]) -> CmdResult),
    /// Runs on the connection's shard, synchronously (PING, ECHO, SELECT…).
    Local(fn(&Conn, &[Bytes]) -> CmdResult),
    /// Runs on the connection's shard and may hop (DBSIZE, KEYS, CONFIG…).
    Async(AsyncHandler),
}

pub struct CommandSpec {
    /// Lower-case name.
    pub name: &'static str,
    /// Redis convention: N = exactly N args (with the name), -N = at least N.
    pub arity: i32,
    pub flags: u32,
    /// Key positions (first, last, step); last -1 = to the end; 0,0,0 = none.
    pub keys: (i32, i32, i32),
    /// ACL category of the command family (`string`, `keyspace`, …).
    pub group: &'static str,
    pub handler: Handler,
}

impl CommandSpec {
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a >= 0 && argc == a as usize) || (a < 0 && argc >= a.unsigned_abs() as usize)
    }

    /// Indexes of the key arguments in `argv` (Redis's `getKeysFromCommand`
    /// for the legacy first/last/step spec). Positions past the end are
    /// ignored, so `OBJECT HELP` has no keys. With `MOVABLE_KEYS` the
    /// numkeys argument before `first` bounds the range (`lmpopGetKeys`); an
    /// invalid numkeys gives no keys (the handler then replies the error).
    /// With `DEST_NUMKEYS` the keys are `argv[1]` and the `numkeys` ones
    /// after `argv[2]` (`zunionInterDiffStoreGetKeys`); a numkeys below 1
    /// or beyond the arguments gives no keys at all, as Redis's getkeys
    /// fails then (and the handler replies the error).
    pub fn key_indexes(&self, argv: &[Bytes]) -> impl Iterator<Item = usize> {
        let (dest, keys, step) = self.key_layout(argv);
        dest.into_iter().chain(keys.step_by(step))
    }

    /// `key_indexes` as (a lone destination key, then a range with a step).
    fn key_layout(&self, argv: &[Bytes]) -> (Option<usize>, std::ops::Range<usize>, usize) {
        let argc = argv.len();
        if self.has(DEST_NUMKEYS) {
            let numkeys = argv
                .get(2)
                .and_then(|n| crate::util::num::parse_i64(n))
                .and_then(|n| usize::try_from(n).ok())
                .filter(|&n| n > 0 && n <= argc.saturating_sub(3))
                .unwrap_or(0);
            return ((numkeys > 0).then_some(1), 3..3 + numkeys, 1);
        }
        let (first, mut last, step) = self.keys;
        if self.has(MOVABLE_KEYS) && first > 0 {
            let numkeys = argv
                .get(first as usize - 1)
                .and_then(|n| crate::util::num::parse_i64(n))
                .filter(|&n| n > 0)
                .unwrap_or(0);
            last = i32::try_from(numkeys.saturating_add(first as i64 - 1)).unwrap_or(i32::MAX);
            if numkeys == 0 {
                last = first - 1;
            }
        }
        let (first, step) = (first.max(0) as usize, step.max(1) as usize);
        let last = if last < 0 {
            (argc as i64 + last as i64).max(0) as usize
        } else {
            last as usize
        };
        let end = if first == 0 {
            0
        } else {
            last.min(argc.saturating_sub(1)) + 1
        };
        (None, first..end.max(first), step)
    }

    /// ACL categories as COMMAND INFO lists them.
    pub fn categories(&self) -> Vec<String> {
        let mut c = Vec::new();
        if self.has(WRITE) {
            c.push("@write".to_string());
        }
        if self.has(READONLY) {
            c.push("@read".to_string());
        }
        c.push(format!("@{}", self.group));
        c.push(if self.has(FAST) { "@fast" } else { "@slow" }.to_string());
        if self.has(ADMIN) {
            c.push("@admin".to_string());
            c.push("@dangerous".to_string());
        }
        c
    }
}

const fn cmd(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: (i32, i32, i32),
    group: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        keys,
        group,
        handler,
    }
}

use Handler::{Async, Keyed, Local};

const K1: (i32, i32, i32) = (1, 1, 1);
const KALL: (i32, i32, i32) = (1, -1, 1);
const KPAIRS: (i32, i32, i32) = (1, -1, 2);
const K12: (i32, i32, i32) = (1, 2, 1);
const NOKEYS: (i32, i32, i32) = (0, 0, 0);
/// With `MOVABLE_KEYS`: numkeys at `argv[1]`, the keys from `argv[2]`.
const K_NUMKEYS: (i32, i32, i32) = (2, -1, 1);
const RO: u32 = READONLY;
const RW: u32 = WRITE;
const RWD: u32 = WRITE | DENYOOM;
const SRV: u32 = ADMIN | NOSCRIPT | LOADING | STALE;
const CONN: u32 = NOSCRIPT | LOADING | STALE;
const PS: u32 = PUBSUB | LOADING | STALE;

pub static COMMANDS: &[CommandSpec] = &[
    // Strings.
    cmd("get", 2, RO | FAST, K1, "string", Keyed(s::get)),
    cmd("set", -3, RWD, K1, "string", Keyed(s::set)),
    cmd("setnx", 3, RWD | FAST, K1, "string", Keyed(s::setnx)),
    cmd("setex", 4, RWD, K1, "string", Keyed(s::setex)),
    cmd("psetex", 4, RWD, K1, "string", Keyed(s::psetex)),
    cmd("getset", 3, RWD | FAST, K1, "string", Keyed(s::getset)),
    cmd("getdel", 2, RW | FAST, K1, "string", Keyed(s::getdel)),
    cmd("getex", -2, RW | FAST, K1, "string", Keyed(s::getex)),
    cmd("mget", -2, RO | FAST, KALL, "string", Keyed(s::mget)),
    cmd("mset", -3, RWD, KPAIRS, "string", Keyed(s::mset)),
    cmd("msetnx", -3, RWD, KPAIRS, "string", Keyed(s::msetnx)),
    cmd("append", 3, RWD | FAST, K1, "string", Keyed(s::append)),
    cmd("strlen", 2, RO | FAST, K1, "string", Keyed(s::strlen)),
    cmd("incr", 2, RWD | FAST, K1, "string", Keyed(s::incr)),
    cmd("decr", 2, RWD | FAST, K1, "string", Keyed(s::decr)),
    cmd("incrby", 3, RWD | FAST, K1, "string", Keyed(s::incrby)),
    cmd("decrby", 3, RWD | FAST, K1, "string", Keyed(s::decrby)),
    cmd(
        "incrbyfloat",
        3,
        RWD | FAST,
        K1,
        "string",
        Keyed(s::incrbyfloat),
    ),
    cmd("getrange", 4, RO, K1, "string", Keyed(s::getrange)),
    cmd("substr", 4, RO, K1, "string", Keyed(s::getrange)),
    cmd("setrange", 4, RWD, K1, "string", Keyed(s::setrange)),
    cmd("lcs", -3, RO, K12, "string", Keyed(s::lcs)),
    // Bitmaps.
    cmd("setbit", 4, RWD, K1, "bitmap", Keyed(s::setbit)),
    cmd("getbit", 3, RO | FAST, K1, "bitmap", Keyed(s::getbit)),
    cmd("bitcount", -2, RO, K1, "bitmap", Keyed(s::bitcount)),
    cmd("bitpos", -3, RO, K1, "bitmap", Keyed(s::bitpos)),
    cmd("bitop", -4, RWD, (2, -1, 1), "bitmap", Keyed(s::bitop)),
    // Lists (non-blocking).
    cmd("lpush", -3, RWD | FAST, K1, "list", Keyed(l::lpush)),
    cmd("rpush", -3, RWD | FAST, K1, "list", Keyed(l::rpush)),
    cmd("lpushx", -3, RWD | FAST, K1, "list", Keyed(l::lpushx)),
    cmd("rpushx", -3, RWD | FAST, K1, "list", Keyed(l::rpushx)),
    cmd("lpop", -2, RW | FAST, K1, "list", Keyed(l::lpop)),
    cmd("rpop", -2, RW | FAST, K1, "list", Keyed(l::rpop)),
    cmd("llen", 2, RO | FAST, K1, "list", Keyed(l::llen)),
    cmd("lrange", 4, RO, K1, "list", Keyed(l::lrange)),
    cmd("lindex", 3, RO, K1, "list", Keyed(l::lindex)),
    cmd("lset", 4, RWD, K1, "list", Keyed(l::lset)),
    cmd("linsert", 5, RWD, K1, "list", Keyed(l::linsert)),
    cmd("lrem", 4, RW, K1, "list", Keyed(l::lrem)),
    cmd("ltrim", 4, RW, K1, "list", Keyed(l::ltrim)),
    cmd("lpos", -3, RO, K1, "list", Keyed(l::lpos)),
    cmd("lmove", 5, RWD, K12, "list", Keyed(l::lmove)),
    cmd("rpoplpush", 3, RWD, K12, "list", Keyed(l::rpoplpush)),
    cmd(
        "lmpop",
        -4,
        RW | MOVABLE_KEYS,
        (2, -1, 1),
        "list",
        Keyed(l::lmpop),
    ),
    // Lists, blocking (commands/blocking.rs runs them; these are the
    // attempts).
    cmd(
        "blpop",
        -3,
        RW | NOSCRIPT | BLOCKING,
        (1, -2, 1),
        "list",
        Keyed(l::blpop),
    ),
    cmd(
        "brpop",
        -3,
        RW | NOSCRIPT | BLOCKING,
        (1, -2, 1),
        "list",
        Keyed(l::brpop),
    ),
    cmd(
        "blmove",
        6,
        RWD | NOSCRIPT | BLOCKING,
        K12,
        "list",
        Keyed(l::blmove),
    ),
    cmd(
        "brpoplpush",
        4,
        RWD | NOSCRIPT | BLOCKING,
        K12,
        "list",
        Keyed(l::brpoplpush),
    ),
    cmd(
        "blmpop",
        -5,
        RW | BLOCKING | MOVABLE_KEYS,
        (3, -1, 1),
        "list",
        Keyed(l::blmpop),
    ),
    // Hashes (commands/hash.rs).
    cmd("hset", -4, RWD | FAST, K1, "hash", Keyed(super::hash::hset)),
    cmd(
        "hsetnx",
        4,
        RWD | FAST,
        K1,
        "hash",
        Keyed(super::hash::hsetnx),
    ),
    cmd("hget", 3, RO | FAST, K1, "hash", Keyed(super::hash::hget)),
    cmd(
        "hmget",
        -3,
        RO | FAST,
        K1,
        "hash",
        Keyed(super::hash::hmget),
    ),
    cmd(
        "hmset",
        -4,
        RWD | FAST,
        K1,
        "hash",
        Keyed(super::hash::hmset),
    ),
    cmd("hdel", -3, RW | FAST, K1, "hash", Keyed(super::hash::hdel)),
    cmd("hlen", 2, RO | FAST, K1, "hash", Keyed(super::hash::hlen)),
    cmd(
        "hstrlen",
        3,
        RO | FAST,
        K1,
        "hash",
        Keyed(super::hash::hstrlen),
    ),
    cmd(
        "hexists",
        3,
        RO | FAST,
        K1,
        "hash",
        Keyed(super::hash::hexists),
    ),
    cmd("hkeys", 2, RO, K1, "hash", Keyed(super::hash::hkeys)),
    cmd("hvals", 2, RO, K1, "hash", Keyed(super::hash::hvals)),
    cmd("hgetall", 2, RO, K1, "hash", Keyed(super::hash::hgetall)),
    cmd(
        "hincrby",
        4,
        RWD | FAST,
        K1,
        "hash",
        Keyed(super::hash::hincrby),
    ),
    cmd(
        "hincrbyfloat",
        4,
        RWD | FAST,
        K1,
        "hash",
        Keyed(super::hash::hincrbyfloat),
    ),
    cmd(
        "hrandfield",
        -2,
        RO,
        K1,
        "hash",
        Keyed(super::hash::hrandfield),
    ),
    cmd("hscan", -3, RO, K1, "hash", Keyed(super::hash::hscan)),
    // Sets (commands/set.rs).
    cmd("sadd", -3, RWD | FAST, K1, "set", Keyed(super::set::sadd)),
    cmd("srem", -3, RW | FAST, K1, "set", Keyed(super::set::srem)),
    cmd("scard", 2, RO | FAST, K1, "set", Keyed(super::set::scard)),
    cmd(
        "sismember",
        3,
        RO | FAST,
        K1,
        "set",
        Keyed(super::set::sismember),
    ),
    cmd(
        "smismember",
        -3,
        RO | FAST,
        K1,
        "set",
        Keyed(super::set::smismember),
    ),
    cmd("smembers", 2, RO, K1, "set", Keyed(super::set::smembers)),
    cmd("spop", -2, RW | FAST, K1, "set", Keyed(super::set::spop)),
    cmd(
        "srandmember",
        -2,
        RO,
        K1,
        "set",
        Keyed(super::set::srandmember),
    ),
    cmd("smove", 4, RW | FAST, K12, "set", Keyed(super::set::smove)),
    cmd("sinter", -2, RO, KALL, "set", Keyed(super::set::sinter)),
    cmd(
        "sintercard",
        -3,
        RO | MOVABLE_KEYS,
        (2, -1, 1),
        "set",
        Keyed(super::set::sintercard),
    ),
    cmd(
        "sinterstore",
        -3,
        RWD,
        KALL,
        "set",
        Keyed(super::set::sinterstore),
    ),
    cmd("sunion", -2, RO, KALL, "set", Keyed(super::set::sunion)),
    cmd(
        "sunionstore",
        -3,
        RWD,
        KALL,
        "set",
        Keyed(super::set::sunionstore),
    ),
    cmd("sdiff", -2, RO, KALL, "set", Keyed(super::set::sdiff)),
    cmd(
        "sdiffstore",
        -3,
        RWD,
        KALL,
        "set",
        Keyed(super::set::sdiffstore),
    ),
    cmd("sscan", -3, RO, K1, "set", Keyed(super::set::sscan)),
    // Sorted sets (commands/zset.rs).
    cmd("zadd", -4, RWD | FAST, K1, "sortedset", Keyed(z::zadd)),
    cmd("zincrby", 4, RWD | FAST, K1, "sortedset", Keyed(z::zincrby)),
    cmd("zrem", -3, RW | FAST, K1, "sortedset", Keyed(z::zrem)),
    cmd("zcard", 2, RO | FAST, K1, "sortedset", Keyed(z::zcard)),
    cmd("zscore", 3, RO | FAST, K1, "sortedset", Keyed(z::zscore)),
    cmd("zmscore", -3, RO | FAST, K1, "sortedset", Keyed(z::zmscore)),
    cmd("zrank", 3, RO | FAST, K1, "sortedset", Keyed(z::zrank)),
    cmd(
        "zrevrank",
        3,
        RO | FAST,
        K1,
        "sortedset",
        Keyed(z::zrevrank),
    ),
    cmd("zcount", 4, RO | FAST, K1, "sortedset", Keyed(z::zcount)),
    cmd(
        "zlexcount",
        4,
        RO | FAST,
        K1,
        "sortedset",
        Keyed(z::zlexcount),
    ),
    cmd("zrange", -4, RO, K1, "sortedset", Keyed(z::zrange)),
    cmd(
        "zrangestore",
        -5,
        RWD,
        K12,
        "sortedset",
        Keyed(z::zrangestore),
    ),
    cmd("zrevrange", -4, RO, K1, "sortedset", Keyed(z::zrevrange)),
    cmd(
        "zrangebyscore",
        -4,
        RO,
        K1,
        "sortedset",
        Keyed(z::zrangebyscore),
    ),
    cmd(
        "zrevrangebyscore",
        -4,
        RO,
        K1,
        "sortedset",
        Keyed(z::zrevrangebyscore),
    ),
    cmd(
        "zrangebylex",
        -4,
        RO,
        K1,
        "sortedset",
        Keyed(z::zrangebylex),
    ),
    cmd(
        "zrevrangebylex",
        -4,
        RO,
        K1,
        "sortedset",
        Keyed(z::zrevrangebylex),
    ),
    cmd(
        "zremrangebyrank",
        4,
        RW,
        K1,
        "sortedset",
        Keyed(z::zremrangebyrank),
    ),
    cmd(
        "zremrangebyscore",
        4,
        RW,
        K1,
        "sortedset",
        Keyed(z::zremrangebyscore),
    ),
    cmd(
        "zremrangebylex",
        4,
        RW,
        K1,
        "sortedset",
        Keyed(z::zremrangebylex),
    ),
    cmd("zpopmin", -2, RW | FAST, K1, "sortedset", Keyed(z::zpopmin)),
    cmd("zpopmax", -2, RW | FAST, K1, "sortedset", Keyed(z::zpopmax)),
    cmd(
        "zmpop",
        -4,
        RW | MOVABLE_KEYS,
        K_NUMKEYS,
        "sortedset",
        Keyed(z::zmpop),
    ),
    cmd(
        "zrandmember",
        -2,
        RO,
        K1,
        "sortedset",
        Keyed(z::zrandmember),
    ),
    cmd(
        "zunion",
        -3,
        RO | MOVABLE_KEYS,
        K_NUMKEYS,
        "sortedset",
        Keyed(z::zunion),
    ),
    cmd(
        "zinter",
        -3,
        RO | MOVABLE_KEYS,
        K_NUMKEYS,
        "sortedset",
        Keyed(z::zinter),
    ),
    cmd(
        "zdiff",
        -3,
        RO | MOVABLE_KEYS,
        K_NUMKEYS,
        "sortedset",
        Keyed(z::zdiff),
    ),
    cmd(
        "zunionstore",
        -4,
        RWD | DEST_NUMKEYS,
        K1,
        "sortedset",
        Keyed(z::zunionstore),
    ),
    cmd(
        "zinterstore",
        -4,
        RWD | DEST_NUMKEYS,
        K1,
        "sortedset",
        Keyed(z::zinterstore),
    ),
    cmd(
        "zdiffstore",
        -4,
        RWD | DEST_NUMKEYS,
        K1,
        "sortedset",
        Keyed(z::zdiffstore),
    ),
    cmd(
        "zintercard",
        -3,
        RO | MOVABLE_KEYS,
        K_NUMKEYS,
        "sortedset",
        Keyed(z::zintercard),
    ),
    cmd("zscan", -3, RO, K1, "sortedset", Keyed(z::zscan)),
    // Sorted sets, blocking (commands/blocking.rs runs them).
    cmd(
        "bzpopmin",
        -3,
        RW | NOSCRIPT | BLOCKING | FAST,
        (1, -2, 1),
        "sortedset",
        Keyed(z::bzpopmin),
    ),
    cmd(
        "bzpopmax",
        -3,
        RW | NOSCRIPT | BLOCKING | FAST,
        (1, -2, 1),
        "sortedset",
        Keyed(z::bzpopmax),
    ),
    cmd(
        "bzmpop",
        -5,
        RW | BLOCKING | MOVABLE_KEYS,
        (3, -1, 1),
        "sortedset",
        Keyed(z::bzmpop),
    ),
    // Pub/Sub (commands/pubsub.rs). Redis 7.0 gives the shard commands
    // their channels as (not_key) key positions; they still run here, on the
    // connection's shard, as only `Keyed` handlers are routed by key.
    cmd(
        "publish",
        3,
        PS | FAST,
        NOKEYS,
        "pubsub",
        Async(ps::publish),
    ),
    cmd("spublish", 3, PS | FAST, K1, "pubsub", Async(ps::spublish)),
    cmd(
        "subscribe",
        -2,
        PS | NOSCRIPT,
        NOKEYS,
        "pubsub",
        Local(ps::subscribe),
    ),
    cmd(
        "unsubscribe",
        -1,
        PS | NOSCRIPT,
        NOKEYS,
        "pubsub",
        Local(ps::unsubscribe),
    ),
    cmd(
        "psubscribe",
        -2,
        PS | NOSCRIPT,
        NOKEYS,
        "pubsub",
        Local(ps::psubscribe),
    ),
    cmd(
        "punsubscribe",
        -1,
        PS | NOSCRIPT,
        NOKEYS,
        "pubsub",
        Local(ps::punsubscribe),
    ),
    cmd(
        "ssubscribe",
        -2,
        PS | NOSCRIPT,
        KALL,
        "pubsub",
        Local(ps::ssubscribe),
    ),
    cmd(
        "sunsubscribe",
        -1,
        PS | NOSCRIPT,
        KALL,
        "pubsub",
        Local(ps::sunsubscribe),
    ),
    cmd("pubsub", -2, PS, NOKEYS, "pubsub", Async(ps::pubsub)),
    // Transactions (commands/multi.rs).
    cmd(
        "multi",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        NOKEYS,
        "transaction",
        Local(multi::multi),
    ),
    cmd(
        "exec",
        1,
        NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
        NOKEYS,
        "transaction",
        Async(multi::exec),
    ),
    cmd(
        "discard",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        NOKEYS,
        "transaction",
        Local(multi::discard),
    ),
    cmd(
        "watch",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        KALL,
        "transaction",
        Async(multi::watch),
    ),
    cmd(
        "unwatch",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        NOKEYS,
        "transaction",
        Local(multi::unwatch),
    ),
    // Generic key commands.
    cmd("del", -2, RW, KALL, "keyspace", Keyed(keys::del)),
    cmd("unlink", -2, RW | FAST, KALL, "keyspace", Keyed(keys::del)),
    cmd(
        "exists",
        -2,
        RO | FAST,
        KALL,
        "keyspace",
        Keyed(keys::exists),
    ),
    cmd("touch", -2, RO | FAST, KALL, "keyspace", Keyed(keys::touch)),
    cmd("type", 2, RO | FAST, K1, "keyspace", Keyed(keys::type_)),
    cmd("expire", -3, RW | FAST, K1, "keyspace", Keyed(keys::expire)),
    cmd(
        "pexpire",
        -3,
        RW | FAST,
        K1,
        "keyspace",
        Keyed(keys::pexpire),
    ),
    cmd(
        "expireat",
        -3,
        RW | FAST,
        K1,
        "keyspace",
        Keyed(keys::expireat),
    ),
    cmd(
        "pexpireat",
        -3,
        RW | FAST,
        K1,
        "keyspace",
        Keyed(keys::pexpireat),
    ),
    cmd("ttl", 2, RO | FAST, K1, "keyspace", Keyed(keys::ttl)),
    cmd("pttl", 2, RO | FAST, K1, "keyspace", Keyed(keys::pttl)),
    cmd(
        "expiretime",
        2,
        RO | FAST,
        K1,
        "keyspace",
        Keyed(keys::expiretime),
    ),
    cmd(
        "pexpiretime",
        2,
        RO | FAST,
        K1,
        "keyspace",
        Keyed(keys::pexpiretime),
    ),
    cmd(
        "persist",
        2,
        RW | FAST,
        K1,
        "keyspace",
        Keyed(keys::persist),
    ),
    cmd("rename", 3, RW, K12, "keyspace", Keyed(keys::rename)),
    cmd(
        "renamenx",
        3,
        RW | FAST,
        K12,
        "keyspace",
        Keyed(keys::renamenx),
    ),
    cmd("copy", -3, RWD, K12, "keyspace", Keyed(keys::copy)),
    cmd("move", 3, RW | FAST, K1, "keyspace", Keyed(keys::move_)),
    cmd("object", -2, RO, (2, 2, 1), "keyspace", Keyed(keys::object)),
    cmd("memory", -2, RO, (2, 2, 1), "keyspace", Keyed(keys::memory)),
    cmd("dump", 2, RO, K1, "keyspace", Keyed(dump::dump)),
    cmd("restore", -4, RWD, K1, "keyspace", Keyed(dump::restore)),
    cmd("keys", 2, RO, NOKEYS, "keyspace", Async(srv::keys)),
    cmd("scan", -2, RO, NOKEYS, "keyspace", Async(srv::scan)),
    cmd(
        "randomkey",
        1,
        RO,
        NOKEYS,
        "keyspace",
        Async(srv::randomkey),
    ),
    cmd(
        "dbsize",
        1,
        RO | FAST,
        NOKEYS,
        "keyspace",
        Async(srv::dbsize),
    ),
    cmd("flushdb", -1, RW, NOKEYS, "keyspace", Async(srv::flushdb)),
    cmd("flushall", -1, RW, NOKEYS, "keyspace", Async(srv::flushall)),
    cmd(
        "swapdb",
        3,
        RW | FAST,
        NOKEYS,
        "keyspace",
        Async(srv::swapdb),
    ),
    // Connection.
    cmd(
        "ping",
        -1,
        FAST | SENTINEL,
        NOKEYS,
        "connection",
        Local(conn::ping),
    ),
    cmd(
        "echo",
        2,
        LOADING | STALE | FAST,
        NOKEYS,
        "connection",
        Local(conn::echo),
    ),
    cmd(
        "quit",
        -1,
        ALLOW_BUSY | NO_AUTH | CONN | FAST,
        NOKEYS,
        "connection",
        Local(conn::quit),
    ),
    cmd(
        "reset",
        1,
        NO_AUTH | CONN | FAST,
        NOKEYS,
        "connection",
        Local(conn::reset),
    ),
    cmd(
        "hello",
        -1,
        NO_AUTH | CONN | FAST | SENTINEL,
        NOKEYS,
        "connection",
        Local(conn::hello),
    ),
    cmd(
        "auth",
        -2,
        NO_AUTH | CONN | FAST | SENTINEL,
        NOKEYS,
        "connection",
        Local(conn::auth),
    ),
    cmd(
        "select",
        2,
        LOADING | STALE | FAST,
        NOKEYS,
        "connection",
        Local(conn::select),
    ),
    cmd(
        "client",
        -2,
        CONN | SENTINEL,
        NOKEYS,
        "connection",
        Async(conn::client),
    ),
    // Server.
    cmd(
        "info",
        -1,
        LOADING | STALE | SENTINEL,
        NOKEYS,
        "server",
        Async(srv::info),
    ),
    cmd("config", -2, SRV, NOKEYS, "server", Async(srv::config)),
    cmd(
        "command",
        -1,
        LOADING | STALE | SENTINEL,
        NOKEYS,
        "connection",
        Local(srv::command),
    ),
    cmd(
        "time",
        1,
        LOADING | STALE | FAST,
        NOKEYS,
        "server",
        Local(srv::time),
    ),
    cmd(
        "lastsave",
        1,
        LOADING | STALE | FAST,
        NOKEYS,
        "server",
        Async(persistence::lastsave),
    ),
    cmd(
        "shutdown",
        -1,
        SRV | NO_MULTI | ALLOW_BUSY | SENTINEL,
        NOKEYS,
        "server",
        Async(persistence::shutdown),
    ),
    cmd(
        "save",
        1,
        ADMIN | NOSCRIPT | NO_MULTI,
        NOKEYS,
        "server",
        Async(persistence::save),
    ),
    cmd(
        "bgsave",
        -1,
        ADMIN | NOSCRIPT,
        NOKEYS,
        "server",
        Async(persistence::bgsave),
    ),
    cmd(
        "bgrewriteaof",
        1,
        ADMIN | NOSCRIPT,
        NOKEYS,
        "server",
        Async(persistence::bgrewriteaof),
    ),
    cmd("debug", -2, SRV, NOKEYS, "server", Async(srv::debug)),
    cmd(
        "slowlog",
        -2,
        ADMIN | LOADING | STALE,
        NOKEYS,
        "server",
        Async(srv::slowlog),
    ),
    cmd(
        "monitor",
        1,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        Async(srv::monitor),
    ),
    // Replication.
    cmd(
        "replicaof",
        3,
        ADMIN | NOSCRIPT | STALE,
        NOKEYS,
        "server",
        Async(repl::replicaof),
    ),
    cmd(
        "slaveof",
        3,
        ADMIN | NOSCRIPT | STALE,
        NOKEYS,
        "server",
        Async(repl::replicaof),
    ),
    cmd(
        "role",
        1,
        NOSCRIPT | LOADING | STALE | FAST | SENTINEL,
        NOKEYS,
        "server",
        Async(repl::role),
    ),
    cmd("wait", 3, NOSCRIPT, NOKEYS, "connection", Async(repl::wait)),
    cmd(
        "replconf",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        NOKEYS,
        "server",
        Local(repl::replconf),
    ),
    cmd(
        "psync",
        -3,
        ADMIN | NOSCRIPT | NO_MULTI,
        NOKEYS,
        "server",
        Local(repl::psync),
    ),
    cmd(
        "sync",
        1,
        ADMIN | NOSCRIPT | NO_MULTI,
        NOKEYS,
        "server",
        Local(repl::sync),
    ),
];

/// Container commands: their sub-command is part of the name CLIENT LIST
/// shows (`cmd=client|list`), as Redis 7.0's `fullname`.
pub fn is_container(name: &str) -> bool {
    matches!(
        name,
        "client" | "command" | "config" | "memory" | "object" | "pubsub" | "slowlog"
    )
}

/// Finds a command by name, ignoring case. O(1): a map built once.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    static INDEX: OnceLock<HashMap<Vec<u8>, &'static CommandSpec, ahash::RandomState>> =
        OnceLock::new();
    let index = INDEX.get_or_init(|| {
        COMMANDS
            .iter()
            .map(|c| (c.name.as_bytes().to_vec(), c))
            .collect()
    });
    if name.len() > 32 {
        return None;
    }
    let mut buf = [0u8; 32];
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    index.get(&lower[..]).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_ignores_case() {
        assert_eq!(lookup(b"GeT").map(|c| c.name), Some("get"));
        assert!(lookup(b"nosuchcommand").is_none());
    }

    #[test]
    fn key_positions() {
        let keys = |name: &str, argv: &str| {
            let argv: Vec<Bytes> = argv
                .split_whitespace()
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect();
            lookup(name.as_bytes()).map(|c| c.key_indexes(&argv).collect::<Vec<_>>())
        };
        assert_eq!(keys("mset", "mset a 1 b 2"), Some(vec![1, 3]));
        assert_eq!(keys("bitop", "bitop and d a b"), Some(vec![2, 3, 4]));
        assert_eq!(keys("object", "object help"), Some(vec![]));
        assert_eq!(keys("ping", "ping x"), Some(vec![]));
        // LMPOP: numkeys bounds the keys; LEFT / COUNT n are not keys.
        assert_eq!(keys("lmpop", "lmpop 2 a b left count 3"), Some(vec![2, 3]));
        assert_eq!(keys("lmpop", "lmpop 1 a right"), Some(vec![2]));
        assert_eq!(keys("lmpop", "lmpop 9 a b left"), Some(vec![2, 3, 4]));
        assert_eq!(keys("lmpop", "lmpop 0 a left"), Some(vec![]));
        assert_eq!(keys("lmpop", "lmpop x a left"), Some(vec![]));
        // ZUNIONSTORE & co: the destination, then numkeys keys; WEIGHTS are
        // not keys; a bad numkeys gives no keys at all (Redis's getkeys
        // fails).
        let zu = "zunionstore d 2 a b weights 1 2";
        assert_eq!(keys("zunionstore", zu), Some(vec![1, 3, 4]));
        assert_eq!(keys("zinterstore", "zinterstore d 1 a"), Some(vec![1, 3]));
        assert_eq!(
            keys("zdiffstore", "zdiffstore d 3 a b c"),
            Some(vec![1, 3, 4, 5])
        );
        assert_eq!(keys("zunionstore", "zunionstore d 3 a b"), Some(vec![]));
        assert_eq!(keys("zunionstore", "zunionstore d 0 a"), Some(vec![]));
        assert_eq!(keys("zunionstore", "zunionstore d x a"), Some(vec![]));
        assert_eq!(keys("zunionstore", "zunionstore d -1 a"), Some(vec![]));
        assert_eq!(keys("zunion", "zunion 2 a b withscores"), Some(vec![2, 3]));
        assert_eq!(keys("zintercard", "zintercard 1 a limit 5"), Some(vec![2]));
        assert_eq!(keys("zmpop", "zmpop 2 a b min count 2"), Some(vec![2, 3]));
        assert_eq!(
            keys("zrangestore", "zrangestore d s 0 -1"),
            Some(vec![1, 2])
        );
        let zus = lookup(b"zunionstore").expect("zunionstore");
        assert!(zus.has(MOVABLE_KEYS | DEST_NUMKEYS) && !zus.has(MOVABLE_KEYS));
        assert_eq!(zus.keys, (1, 1, 1));
    }

    #[test]
    fn names_are_unique_and_lowercase() {
        let mut seen = std::collections::HashSet::new();
        for c in COMMANDS {
            assert_eq!(c.name, c.name.to_ascii_lowercase());
            assert!(seen.insert(c.name), "duplicate {}", c.name);
        }
    }
}

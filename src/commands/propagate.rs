//! What a write command puts on its shard's replication stream
//! (`shard/repl.rs`): the command as sent, unless replaying it would not
//! give the same result, in which case its effect (Redis's
//! `rewriteClientCommandVector` / `alsoPropagate` cases):
//! - a relative TTL becomes absolute: SET … EX/PX, SETEX, PSETEX → SET k v
//!   PXAT t; EXPIRE / PEXPIRE → PEXPIREAT k t; GETEX → PEXPIREAT / PERSIST;
//!   and a key those commands removed becomes DEL k;
//! - a result that depends on float rounding: INCRBYFLOAT → SET k v KEEPTTL,
//!   HINCRBYFLOAT → HSET k f v;
//! - GETDEL → DEL k;
//! - RESTORE with a relative TTL → the same with the absolute deadline and
//!   ABSTTL (or DEL k when it replaced a key with one already past);
//! - a random or blocking pop becomes the pop done: SPOP → SREM, BLPOP /
//!   BRPOP → LPOP / RPOP k, BLMOVE → LMOVE, BRPOPLPUSH → RPOPLPUSH, BLMPOP →
//!   LPOP / RPOP k count, BZPOPMIN / BZPOPMAX / BZMPOP → ZPOPMIN / ZPOPMAX.
//!
//! Derived after the command ran, from its reply and the key's new state.
//! Pure apart from reading the db; runs on the shard that ran the command.

use bytes::Bytes;

use crate::protocol::Reply;
use crate::shard::db::Db;
use crate::shard::value::Value;

fn b(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

fn num(n: impl ToString) -> Bytes {
    Bytes::from(n.to_string())
}

fn has_option(argv: &[Bytes], from: usize, names: &[&str]) -> bool {
    argv.iter()
        .skip(from)
        .any(|a| names.iter().any(|n| a.eq_ignore_ascii_case(n.as_bytes())))
}

/// The commands to propagate for `argv` (which wrote something), given its
/// reply and the db it ran in; `None` = `argv` itself.
pub fn effect(argv: &[Bytes], reply: &Reply, db: &mut Db, now: u64) -> Option<Vec<Vec<Bytes>>> {
    let name = argv.first()?;
    // Lower-cased on the stack: this runs for every write.
    let mut buf = [0u8; 16];
    let lower = buf.get_mut(..name.len())?;
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    let lower: &[u8] = lower;
    let key = argv.get(1)?;
    let one = |cmd: Vec<Bytes>| Some(vec![cmd]);
    match lower {
        b"set" if has_option(argv, 3, &["EX", "PX"]) => string_state(key, db, now),
        b"setex" | b"psetex" | b"incrbyfloat" => string_state(key, db, now),
        b"expire" | b"pexpire" => ttl_state(key, db, now),
        b"getex" if has_option(argv, 2, &["EX", "PX", "EXAT", "PXAT", "PERSIST"]) => {
            ttl_state(key, db, now)
        }
        b"getdel" => one(vec![b("DEL"), key.clone()]),
        b"restore" => restore_state(argv, key, db, now),
        b"hincrbyfloat" => {
            let Reply::Bulk(v) = reply else { return None };
            one(vec![
                b("HSET"),
                key.clone(),
                argv.get(2)?.clone(),
                v.clone(),
            ])
        }
        b"spop" => {
            let members = match reply {
                Reply::Bulk(m) => vec![m.clone()],
                Reply::Array(items) | Reply::Set(items) => items
                    .iter()
                    .filter_map(|r| match r {
                        Reply::Bulk(m) => Some(m.clone()),
                        _ => None,
                    })
                    .collect(),
                _ => return None,
            };
            let mut cmd = vec![b("SREM"), key.clone()];
            cmd.extend(members);
            one(cmd)
        }
        b"blpop" | b"brpop" | b"bzpopmin" | b"bzpopmax" => {
            let Reply::Array(items) = reply else {
                return None;
            };
            let Some(Reply::Bulk(k)) = items.first() else {
                return None;
            };
            let pop = match lower {
                b"blpop" => "LPOP",
                b"brpop" => "RPOP",
                b"bzpopmin" => "ZPOPMIN",
                _ => "ZPOPMAX",
            };
            one(vec![b(pop), k.clone()])
        }
        b"blmove" => one(vec![
            b("LMOVE"),
            key.clone(),
            argv.get(2)?.clone(),
            argv.get(3)?.clone(),
            argv.get(4)?.clone(),
        ]),
        b"brpoplpush" => one(vec![b("RPOPLPUSH"), key.clone(), argv.get(2)?.clone()]),
        b"blmpop" | b"bzmpop" => {
            // [key, popped]: the pop from that key, that many.
            let Reply::Array(items) = reply else {
                return None;
            };
            let Some(Reply::Bulk(k)) = items.first() else {
                return None;
            };
            let count = match items.get(1) {
                Some(Reply::Array(v)) => v.len(),
                Some(Reply::Pairs(p)) => p.len(),
                _ => return None,
            };
            let numkeys = crate::util::num::parse_i64(argv.get(2)?)?;
            let at = usize::try_from(numkeys).ok()?.checked_add(3)?;
            let left = argv
                .get(at)
                .is_some_and(|w| w.eq_ignore_ascii_case(b"LEFT") || w.eq_ignore_ascii_case(b"MIN"));
            let pop = match (lower, left) {
                (b"blmpop", true) => "LPOP",
                (b"blmpop", false) => "RPOP",
                (_, true) => "ZPOPMIN",
                (_, false) => "ZPOPMAX",
            };
            one(vec![b(pop), k.clone(), num(count)])
        }
        _ => None,
    }
}

/// The string's state as one command: SET k v [PXAT t], or DEL k when the
/// command left no key.
fn string_state(key: &Bytes, db: &mut Db, now: u64) -> Option<Vec<Vec<Bytes>>> {
    let Some(e) = db.peek(key, now) else {
        return Some(vec![vec![b("DEL"), key.clone()]]);
    };
    let Value::Str(s) = &e.value else {
        return None;
    };
    let mut cmd = vec![b("SET"), key.clone(), s.to_bytes()];
    if e.expire_at != 0 {
        cmd.push(b("PXAT"));
        cmd.push(num(e.expire_at));
    } else {
        cmd.push(b("KEEPTTL"));
    }
    Some(vec![cmd])
}

/// RESTORE with a relative TTL as `restoreCommand` rewrites it: the
/// absolute deadline in place of the ttl and ABSTTL appended; DEL k when
/// the deadline had passed and only the replaced key's deletion remains.
fn restore_state(argv: &[Bytes], key: &Bytes, db: &mut Db, now: u64) -> Option<Vec<Vec<Bytes>>> {
    let Some(e) = db.peek(key, now) else {
        return Some(vec![vec![b("DEL"), key.clone()]]);
    };
    if e.expire_at == 0 || has_option(argv, 4, &["ABSTTL"]) {
        return None;
    }
    let mut cmd = argv.to_vec();
    *cmd.get_mut(2)? = num(e.expire_at);
    cmd.push(b("ABSTTL"));
    Some(vec![cmd])
}

/// The key's deadline as one command: PEXPIREAT k t, PERSIST k, or DEL k.
fn ttl_state(key: &Bytes, db: &mut Db, now: u64) -> Option<Vec<Vec<Bytes>>> {
    let cmd = match db.peek(key, now) {
        None => vec![b("DEL"), key.clone()],
        Some(e) if e.expire_at == 0 => vec![b("PERSIST"), key.clone()],
        Some(e) => vec![b("PEXPIREAT"), key.clone(), num(e.expire_at)],
    };
    Some(vec![cmd])
}

/// Commands that rebuild one key from scratch (the effect of a cross-shard
/// write on each shard it stored to, and later the AOF rewrite): DEL, then
/// the value, then its deadline.
pub fn rebuild(key: &Bytes, value: Option<(&Value, u64)>) -> Vec<Vec<Bytes>> {
    let mut out = vec![vec![b("DEL"), key.clone()]];
    let Some((value, expire_at)) = value else {
        return out;
    };
    const CHUNK: usize = 64;
    match value {
        Value::Str(s) => out.push(vec![b("SET"), key.clone(), s.to_bytes()]),
        Value::List(l) => {
            let items: Vec<Bytes> = l.iter().map(Bytes::copy_from_slice).collect();
            for part in items.chunks(CHUNK) {
                let mut cmd = vec![b("RPUSH"), key.clone()];
                cmd.extend_from_slice(part);
                out.push(cmd);
            }
        }
        Value::Hash(h) => {
            let mut pairs = Vec::new();
            h.for_each(|f, v| pairs.push((Bytes::copy_from_slice(f), Bytes::copy_from_slice(v))));
            for part in pairs.chunks(CHUNK) {
                let mut cmd = vec![b("HSET"), key.clone()];
                for (f, v) in part {
                    cmd.push(f.clone());
                    cmd.push(v.clone());
                }
                out.push(cmd);
            }
        }
        Value::Set(set) => {
            let mut members = Vec::new();
            set.for_each(|m| members.push(Bytes::copy_from_slice(m)));
            for part in members.chunks(CHUNK) {
                let mut cmd = vec![b("SADD"), key.clone()];
                cmd.extend_from_slice(part);
                out.push(cmd);
            }
        }
        Value::ZSet(z) => {
            let mut members = Vec::new();
            z.for_each(|m, score| members.push((Bytes::copy_from_slice(m), score)));
            for part in members.chunks(CHUNK) {
                let mut cmd = vec![b("ZADD"), key.clone()];
                for (m, score) in part {
                    cmd.push(Bytes::from(crate::protocol::format_double(*score)));
                    cmd.push(m.clone());
                }
                out.push(cmd);
            }
        }
    }
    if expire_at != 0 {
        out.push(vec![b("PEXPIREAT"), key.clone(), num(expire_at)]);
    }
    out
}

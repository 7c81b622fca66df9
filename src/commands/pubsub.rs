//! Pub/Sub commands (Redis's `pubsub.c`): SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE
//! PUNSUBSCRIBE SSUBSCRIBE SUNSUBSCRIBE PUBLISH SPUBLISH PUBSUB, and the
//! RESP2 subscribed-mode gate of dispatch.
//! Run on: the connection's shard. (Un)subscribing only touches this shard's
//! registry (`server/pubsub.rs`); PUBLISH delivers here and hops to every
//! other shard; PUBSUB fans out and merges.
//!
//! Shard channels: without cluster mode Redis 7.0 accepts SSUBSCRIBE to
//! channels of any slots and SPUBLISH reaches every shard subscriber, so
//! here they are a namespace of their own with the same fan-out as PUBLISH.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;

use bytes::{Bytes, BytesMut};

use super::args::{lossy, upper};
use super::error::CmdError;
use super::keys::help_reply;
use super::table::{self, CommandSpec};
use super::CmdResult;
use crate::protocol::{encode, Reply, RespVersion};
use crate::server::connection::Conn;
use crate::server::context::ShardCtx;
use crate::server::hop::{ShardReply, ShardRequest};
use crate::server::pubsub::{confirmation, Kind};

type BoxFut = Pin<Box<dyn Future<Output = CmdResult>>>;

/// Matches `processCommand`: a RESP2 client with subscriptions may only run
/// (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT and RESET. RESP3 clients
/// may run anything.
#[inline]
pub fn subscribed_gate(conn: &Conn, spec: &CommandSpec, argv: &[Bytes]) -> Result<(), CmdError> {
    if !conn.client.pubsub.is_active() || conn.client.resp.get() == RespVersion::Resp3 {
        return Ok(());
    }
    if matches!(
        spec.name,
        "subscribe"
            | "unsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "ssubscribe"
            | "sunsubscribe"
            | "ping"
            | "quit"
            | "reset"
    ) {
        return Ok(());
    }
    // Redis names a container's sub-command too (`client|list`).
    let name = match argv.get(1) {
        Some(sub) if table::is_container(spec.name) => {
            format!("{}|{}", spec.name, lossy(sub).to_ascii_lowercase())
        }
        _ => spec.name.to_string(),
    };
    Err(CmdError::err(format!(
        "Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    )))
}

pub fn subscribe(conn: &Conn, argv: &[Bytes]) -> CmdResult {
    subscribe_to(conn, argv, Kind::Channel)
}

pub fn psubscribe(conn: &Conn, argv: &[Bytes]) -> CmdResult {
    subscribe_to(conn, argv, Kind::Pattern)
}

pub fn ssubscribe(conn: &Conn, argv: &[Bytes]) -> CmdResult {
    subscribe_to(conn, argv, Kind::Shard)
}

pub fn unsubscribe(conn: &Conn, argv: &[Bytes]) -> CmdResult {
    unsubscribe_from(conn, argv, Kind::Channel)
}

pub fn punsubscribe(conn: &Conn, argv: &[Bytes]) -> CmdResult {
    unsubscribe_from(conn, argv, Kind::Pattern)
}

pub fn sunsubscribe(conn: &Conn, argv: &[Bytes]) -> CmdResult {
    unsubscribe_from(conn, argv, Kind::Shard)
}

/// One confirmation per name, each with the count after it (Redis's
/// `addReplyPubsubSubscribed`), encoded now in the client's protocol.
fn subscribe_to(conn: &Conn, argv: &[Bytes], kind: Kind) -> CmdResult {
    let resp = conn.client.resp.get();
    let mut out = BytesMut::new();
    let mut registry = conn.ctx.pubsub.borrow_mut();
    for name in argv.iter().skip(1) {
        let count = registry.subscribe(kind, name, &conn.client);
        let reply = confirmation(kind.subscribe_word(), Some(name.clone()), count);
        encode(&reply, resp, &mut out);
    }
    Ok(Reply::Raw(out.freeze()))
}

/// With names: one confirmation per name, subscribed or not. Without: one
/// per subscription dropped, or a single one with a nil name when there
/// was none (Redis's `pubsubUnsubscribeAllChannels`).
fn unsubscribe_from(conn: &Conn, argv: &[Bytes], kind: Kind) -> CmdResult {
    let resp = conn.client.resp.get();
    let word = kind.unsubscribe_word();
    let mut out = BytesMut::new();
    let mut registry = conn.ctx.pubsub.borrow_mut();
    if argv.len() > 1 {
        for name in &argv[1..] {
            let count = registry.unsubscribe(kind, name, &conn.client);
            encode(
                &confirmation(word, Some(name.clone()), count),
                resp,
                &mut out,
            );
        }
        return Ok(Reply::Raw(out.freeze()));
    }
    let dropped = registry.unsubscribe_all(kind, &conn.client);
    if dropped.is_empty() {
        let (c, p, s) = conn.client.pubsub.counts();
        let count = if kind == Kind::Shard { s } else { c + p };
        return Ok(confirmation(word, None, count));
    }
    for (name, count) in dropped {
        encode(&confirmation(word, Some(name), count), resp, &mut out);
    }
    Ok(Reply::Raw(out.freeze()))
}

pub fn publish(conn: Conn, argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move { publish_to(&conn, &argv, Kind::Channel).await })
}

pub fn spublish(conn: Conn, argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move { publish_to(&conn, &argv, Kind::Shard).await })
}

/// Delivers to this shard's subscribers, then sends one `Publish` hop to
/// every other shard and sums the receivers. Per-peer FIFO of the mesh keeps
/// a publisher's messages in order for every subscriber; a subscriber only
/// ever gets a message by one of the two paths (its own shard's).
async fn publish_to(conn: &Conn, argv: &[Bytes], kind: Kind) -> CmdResult {
    let ctx = &conn.ctx;
    let (channel, message) = (&argv[1], &argv[2]);
    let limit = ctx.hot.get().pubsub_obuf;
    let mut receivers = ctx.pubsub.borrow().publish(kind, channel, message, limit);
    let others: Vec<_> = (0..ctx.nshards())
        .filter(|&s| s != ctx.id.0)
        .map(|s| {
            let req = ShardRequest::Publish {
                kind,
                channel: channel.clone(),
                message: message.clone(),
            };
            ctx.mesh.request(s, req)
        })
        .collect();
    for rx in others {
        if let Ok(ShardReply::Count(n)) = rx.await {
            receivers += n;
        }
    }
    Ok(Reply::Integer(receivers as i64))
}

const PUBSUB_HELP: &[&str] = &[
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

pub fn pubsub(conn: Conn, argv: Vec<Bytes>) -> BoxFut {
    Box::pin(async move { pubsub_cmd(&conn.ctx, &argv).await })
}

/// PUBSUB CHANNELS | SHARDCHANNELS | NUMSUB | SHARDNUMSUB | NUMPAT | HELP.
async fn pubsub_cmd(ctx: &ShardCtx, argv: &[Bytes]) -> CmdResult {
    let n = argv.len();
    // addReplySubcommandSyntaxError: the sub-command as sent, cut at 128.
    let syntax = || {
        let sub: String = lossy(&argv[1]).chars().take(128).collect();
        CmdError::err(format!(
            "unknown subcommand or wrong number of arguments for '{sub}'. Try PUBSUB HELP."
        ))
    };
    match upper(&argv[1]).as_str() {
        "CHANNELS" | "SHARDCHANNELS" if n > 3 => Err(syntax()),
        "CHANNELS" => names_reply(ctx, Kind::Channel, argv.get(2)).await,
        "SHARDCHANNELS" => names_reply(ctx, Kind::Shard, argv.get(2)).await,
        "NUMSUB" => numsub_reply(ctx, Kind::Channel, &argv[2..]).await,
        "SHARDNUMSUB" => numsub_reply(ctx, Kind::Shard, &argv[2..]).await,
        "NUMPAT" if n == 2 => Ok(Reply::Integer(
            names(ctx, Kind::Pattern, None).await.len() as i64
        )),
        "HELP" if n == 2 => Ok(help_reply(PUBSUB_HELP)),
        "NUMPAT" | "HELP" => Err(CmdError::WrongArity(format!(
            "pubsub|{}",
            lossy(&argv[1]).to_ascii_lowercase()
        ))),
        _ => Err(CmdError::UnknownSubcommand(
            lossy(&argv[1]),
            "PUBSUB".into(),
        )),
    }
}

/// Active names of `kind` on every shard, each once.
async fn names(ctx: &ShardCtx, kind: Kind, pattern: Option<&Bytes>) -> Vec<Bytes> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let replies = ctx
        .fan_out(|_| ShardRequest::PubsubNames {
            kind,
            pattern: pattern.cloned(),
        })
        .await;
    for r in replies {
        if let ShardReply::Keys(names) = r {
            for name in names {
                if seen.insert(name.clone()) {
                    out.push(name);
                }
            }
        }
    }
    out
}

async fn names_reply(ctx: &ShardCtx, kind: Kind, pattern: Option<&Bytes>) -> CmdResult {
    let names = names(ctx, kind, pattern).await;
    Ok(Reply::Array(names.into_iter().map(Reply::Bulk).collect()))
}

/// `[name, count, ...]` with the counts summed over the shards.
async fn numsub_reply(ctx: &ShardCtx, kind: Kind, channels: &[Bytes]) -> CmdResult {
    let mut totals = vec![0u64; channels.len()];
    if !channels.is_empty() {
        let replies = ctx
            .fan_out(|_| ShardRequest::PubsubNumSub {
                kind,
                names: channels.to_vec(),
            })
            .await;
        for r in replies {
            if let ShardReply::Counts(counts) = r {
                for (t, c) in totals.iter_mut().zip(counts) {
                    *t += c;
                }
            }
        }
    }
    let mut out = Vec::with_capacity(channels.len() * 2);
    for (name, count) in channels.iter().zip(totals) {
        out.push(Reply::Bulk(name.clone()));
        out.push(Reply::Integer(count as i64));
    }
    Ok(Reply::Array(out))
}

/// INFO's `pubsub_channels`, `pubsub_patterns` and `pubsubshard_channels`:
/// distinct names over all shards.
pub async fn info_counts(ctx: &ShardCtx) -> [usize; 3] {
    [
        names(ctx, Kind::Channel, None).await.len(),
        names(ctx, Kind::Pattern, None).await.len(),
        names(ctx, Kind::Shard, None).await.len(),
    ]
}

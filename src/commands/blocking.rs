//! Blocking commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP, and the sorted
//! set ones), the client's side: try the command, and when there is nothing
//! to pop, wait on the shard(s) owning its keys until served, timed out,
//! unblocked (CLIENT UNBLOCK) or disconnected. Runs on: the client's shard.
//! The waiting itself lives with the keys (`server/blocking.rs`).
//!
//! Each blocking command's table handler is its non-blocking attempt (pop
//! from the first non-empty key, or the null reply); the table marks it
//! `BLOCKING`, and dispatch sends it here unless it runs inside MULTI.

use std::collections::BTreeSet;
use std::future::poll_fn;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_channel::oneshot;

use super::table::CommandSpec;
use super::CmdError;
use crate::protocol::Reply;
use crate::server::blocking::{is_null, source_key_indexes, UnblockReason, UNBLOCKED_ERROR};
use crate::server::connection::Conn;
use crate::server::hop::{ShardReply, ShardRequest};
use crate::server::tx;
use crate::util::num;

/// How often a blocked client checks that its peer is still there.
const PEER_CHECK: Duration = Duration::from_millis(100);

/// A timeout argument in seconds, as a float (`getTimeoutFromObjectOrReply`
/// with `UNIT_SECONDS`): milliseconds, 0 = forever.
pub fn parse_timeout(raw: &[u8]) -> Result<u64, CmdError> {
    let secs = num::parse_f64(raw)
        .ok_or_else(|| CmdError::err("timeout is not a float or out of range"))?;
    let ms = (secs * 1000.0).trunc();
    // Redis converts to a long long: ±inf and anything past its range come
    // out as LLONG_MIN, so they are "negative" too.
    if !(0.0..9.223_372_036_854_775e18).contains(&ms) {
        return Err(CmdError::err("timeout is negative"));
    }
    let ms = ms as u64;
    if ms > i64::MAX as u64 - crate::util::clock::now_ms() {
        return Err(CmdError::err("timeout is out of range"));
    }
    Ok(ms)
}

/// Where the timeout argument is: first for BLMPOP / BZMPOP, last otherwise.
pub fn timeout_arg<'a>(spec: &CommandSpec, argv: &'a [Bytes]) -> &'a [u8] {
    match spec.name {
        "blmpop" | "bzmpop" => &argv[1],
        _ => &argv[argv.len() - 1],
    }
}

/// Runs a blocking command for `conn`'s client.
pub async fn run(conn: Conn, spec: &'static CommandSpec, argv: Vec<Bytes>) -> Reply {
    let timeout = match parse_timeout(timeout_arg(spec, &argv)) {
        Ok(t) => t,
        Err(e) => return e.reply(),
    };
    let deadline = (timeout > 0).then(|| Instant::now() + Duration::from_millis(timeout));
    let ctx = &conn.ctx;
    let db = conn.client.db.get();
    let owners: BTreeSet<usize> = spec
        .key_indexes(&argv)
        .filter_map(|i| argv.get(i))
        .map(|k| ctx.slots.shard_of_key(k).0)
        .collect();
    if owners.len() <= 1 {
        // Every key on one shard: that shard tries, and serves the client
        // itself when a key becomes ready.
        let shard = owners.first().copied().unwrap_or(ctx.id.0);
        let req = ShardRequest::Block {
            client: conn.client.id,
            db,
            argv,
            notify: false,
        };
        let rx = ctx.hop_start(shard, req);
        return match wait(&conn, vec![(shard, rx)], deadline).await {
            Woke::Reply(r) => r,
            Woke::Retry | Woke::Timeout => Reply::NilArray,
        };
    }
    // Keys on several shards: try as a transaction, else wait to be told a
    // key is ready and try again.
    let sources: BTreeSet<usize> = source_key_indexes(spec, &argv)
        .into_iter()
        .map(|i| ctx.slots.shard_of_key(&argv[i]).0)
        .collect();
    loop {
        let by_shard = crate::commands::dispatch::keys_by_shard(ctx, spec, db, &argv);
        let r = tx::run(ctx, spec, db, argv.clone(), by_shard).await;
        if !is_null(&r) {
            return r;
        }
        let rxs = sources
            .iter()
            .map(|&s| {
                let req = ShardRequest::Block {
                    client: conn.client.id,
                    db,
                    argv: argv.clone(),
                    notify: true,
                };
                (s, ctx.hop_start(s, req))
            })
            .collect();
        match wait(&conn, rxs, deadline).await {
            Woke::Reply(r) => return r,
            Woke::Retry => continue,
            Woke::Timeout => return Reply::NilArray,
        }
    }
}

/// How a wait ended. A timeout replies the null array, BLMOVE's included
/// (`replyToBlockedClientTimedOut`).
enum Woke {
    Reply(Reply),
    /// A key is ready (notify mode): try again.
    Retry,
    Timeout,
}

/// Waits for the first of the shards' answers, the deadline, CLIENT
/// UNBLOCK or the peer closing. Whatever ends the wait, every other shard
/// is told to drop its waiter and its answer is awaited, so no waiter
/// outlives the call and an answer that raced a timeout (an element
/// already popped for this client) is still delivered.
async fn wait(
    conn: &Conn,
    mut rxs: Vec<(usize, oneshot::Receiver<ShardReply>)>,
    deadline: Option<Instant>,
) -> Woke {
    let ctx = &conn.ctx;
    let client = &conn.client;
    let mut unblock = client.start_blocking();
    let mut first: Option<ShardReply> = None;
    let mut reason = UnblockReason::Cancel;
    enum Event {
        Answer(ShardReply),
        Unblock(UnblockReason),
        Tick,
    }
    loop {
        let step = deadline.map_or(PEER_CHECK, |d| {
            d.saturating_duration_since(Instant::now()).min(PEER_CHECK)
        });
        let event = futures_lite::future::or(
            async { Event::Answer(first_answer(&mut rxs).await) },
            futures_lite::future::or(
                async {
                    match (&mut unblock).await {
                        Ok(r) => Event::Unblock(r),
                        Err(_) => futures_lite::future::pending().await,
                    }
                },
                async {
                    glommio::timer::sleep(step).await;
                    Event::Tick
                },
            ),
        )
        .await;
        match event {
            Event::Answer(r) => {
                first = Some(r);
                break;
            }
            Event::Unblock(r) => {
                reason = r;
                break;
            }
            Event::Tick => {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    reason = UnblockReason::Timeout;
                    break;
                }
                if peer_closed(client.fd) {
                    break;
                }
            }
        }
    }
    client.end_blocking();
    // Stop waiting everywhere else; collect what comes back.
    for (shard, _) in &rxs {
        let req = ShardRequest::Unblock {
            client: client.id,
            reason,
        };
        ctx.tell(*shard, req);
    }
    let mut answers: Vec<ShardReply> = first.into_iter().collect();
    for (_, rx) in rxs {
        answers.push(rx.await.unwrap_or(ShardReply::TimedOut));
    }
    let mut woke = match reason {
        UnblockReason::Error => Woke::Reply(Reply::error(UNBLOCKED_ERROR)),
        _ => Woke::Timeout,
    };
    for a in answers {
        match a {
            ShardReply::Reply(r) => return Woke::Reply(r),
            ShardReply::Woken => woke = Woke::Retry,
            _ => {}
        }
    }
    woke
}

/// The first answer among `rxs`, removed from it.
async fn first_answer(rxs: &mut Vec<(usize, oneshot::Receiver<ShardReply>)>) -> ShardReply {
    poll_fn(|cx| {
        for i in 0..rxs.len() {
            if let Poll::Ready(r) = Pin::new(&mut rxs[i].1).poll(cx) {
                let _answered = rxs.swap_remove(i);
                return Poll::Ready(r.unwrap_or(ShardReply::TimedOut));
            }
        }
        Poll::Pending
    })
    .await
}

/// True when the peer closed its side (a zero-byte peek).
fn peer_closed(fd: i32) -> bool {
    let mut byte = 0u8;
    // SAFETY: a one-byte peek into a local buffer on the client's socket.
    let n = unsafe {
        libc::recv(
            fd,
            (&mut byte as *mut u8).cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    n == 0
}

//! One client connection: read → parse → dispatch → write, with pipelining.
//! Runs on: the shard that accepted the connection, for its whole life.
//!
//! All commands parsed from one read are dispatched in order before any reply
//! is awaited: commands for this shard run inline, commands for another shard
//! leave as hops (and, being consecutive, travel in one mesh batch). Replies
//! are then written in request order.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use super::socket::Socket;
use bytes::{Bytes, BytesMut};
use futures_channel::oneshot;
use futures_lite::{AsyncReadExt, AsyncWriteExt};

use super::client::{Client, ReplyMode};
use super::context::ShardCtx;
use super::hop::{ShardReply, ShardRequest};
use crate::commands::dispatch::dispatch;
use crate::commands::CmdResult;
use crate::protocol::{encode, Limits, Reply, RequestDecoder};
use crate::util::clock::now_ms;

/// A connection handler's view: the shard and the client.
#[derive(Clone)]
pub struct Conn {
    pub ctx: Rc<ShardCtx>,
    pub client: Rc<Client>,
}

/// Handler type of commands that may hop (boxed: they are not on the hot path).
pub type AsyncHandler = fn(Conn, Vec<Bytes>) -> Pin<Box<dyn Future<Output = CmdResult>>>;

/// A reply that is ready, or will arrive from another shard.
pub enum Pending {
    Ready(Reply),
    Remote(oneshot::Receiver<ShardReply>),
    /// A blocking command (BLPOP…), started when its turn comes: commands
    /// after it in the pipeline wait, replies before it are sent first.
    Blocked(Pin<Box<dyn Future<Output = Reply>>>),
}

impl Pending {
    pub async fn resolve(self, conn: &Conn) -> Reply {
        match self {
            Pending::Ready(r) => r,
            Pending::Remote(rx) => match rx.await {
                Ok(ShardReply::Reply(r)) => r,
                Ok(ShardReply::SlowRun(r, micros, argv)) => {
                    conn.ctx.log_slow(&conn.client, &argv, micros);
                    r
                }
                Ok(ShardReply::Err(e)) => Reply::error(e),
                _ => Reply::error("ERR internal error: hop failed"),
            },
            Pending::Blocked(f) => f.await,
        }
    }
}

const READ_CHUNK: usize = 64 * 1024;

/// Serves one accepted connection until it closes.
pub async fn serve(ctx: Rc<ShardCtx>, mut stream: Socket) {
    let _ = stream.set_nodelay(true);
    // `timeout`: an idle client is closed (Redis's clientsCronHandleTimeout).
    let idle = ctx.hot.get().timeout;
    if idle > 0 {
        stream.set_read_timeout(Some(std::time::Duration::from_secs(idle)));
    }
    let addr = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let laddr = stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&stream);
    if !ctx.admit_client() {
        ctx.rejected.set(ctx.rejected.get() + 1);
        let _ = stream
            .write_all(b"-ERR max number of clients reached\r\n")
            .await;
        let _ = stream.close().await;
        return;
    }
    let id = ctx
        .shared
        .next_client_id
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let needs_auth = ctx.hot.get().auth_required;
    let client = Rc::new(Client::new(id, addr, laddr, fd, now_ms(), !needs_auth));
    ctx.connections.set(ctx.connections.get() + 1);
    ctx.clients.borrow_mut().insert(id, client.clone());
    let conn = Conn {
        ctx: ctx.clone(),
        client: client.clone(),
    };
    let span = tracing::debug_span!("conn", shard = ctx.id.0, conn = id);
    let _enter = span.enter();
    run(&conn, &mut stream).await;
    if client.is_monitor() {
        for shard in 0..ctx.nshards() {
            ctx.tell(shard, ShardRequest::MonitorRemove { client: id });
        }
    }
    crate::commands::multi::unwatch_all(&conn);
    ctx.pubsub.borrow_mut().drop_client(&client);
    ctx.clients.borrow_mut().remove(&id);
    ctx.release_client();
    // A replica's socket now belongs to the control executor (a duplicate
    // fd): dropping ours leaves it open, close() would shut it down.
    if !client.handed_over.get() {
        let _ = stream.close().await;
    }
}

async fn run(conn: &Conn, stream: &mut Socket) {
    let ctx = &conn.ctx;
    let client = &conn.client;
    let mut rbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut wbuf = BytesMut::with_capacity(16 * 1024);
    let mut chunk = vec![0u8; READ_CHUNK];
    let mut decoder = RequestDecoder::new();
    // One argument vector for every command of the connection.
    let mut argv = Vec::new();
    let mut pending: Vec<(Pending, bool)> = Vec::new();
    // False after a blocking command: what is already buffered runs first.
    let mut need_read = true;
    loop {
        if need_read {
            // A subscriber also waits for pushes (server/pubsub.rs).
            let read = if client.pubsub.needs_push_loop() {
                super::pubsub::read_or_push(conn, stream, &mut chunk).await
            } else {
                stream.read(&mut chunk).await
            };
            let n = match read {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            ctx.net_input.set(ctx.net_input.get() + n as u64);
            rbuf.extend_from_slice(&chunk[..n]);
        }
        need_read = true;
        let hot = ctx.hot.get();
        let qlimit = hot.query_buffer_limit;
        let limits = Limits {
            proto_max_bulk_len: hot.proto_max_bulk_len,
            authenticated: client.authenticated.get(),
            ..Limits::default()
        };
        // Matches readQueryFromClient: a query buffer over the limit closes
        // the client without a reply.
        if rbuf.len() as u64 > qlimit {
            tracing::warn!(
                client = client.id,
                "Closing client that reached max query buffer length"
            );
            return;
        }
        client.qbuf.set(rbuf.len());
        let mut protocol_error = None;
        client.last_interaction_ms.set(ctx.tick());
        let mut clock = 0;
        super::prefetch::pipeline(conn, &mut decoder, &rbuf, &limits);
        loop {
            match decoder.decode_into(&mut rbuf, &limits, &mut argv) {
                Ok(true) => {
                    let p = dispatch(conn, &mut argv, &mut clock).await;
                    // Release the read buffer now; keep the allocation
                    // unless one huge command grew it.
                    argv.clear();
                    if argv.capacity() > 1024 {
                        argv = Vec::new();
                    }
                    let send = take_reply_mode(client);
                    let blocked = matches!(p, Pending::Blocked(_));
                    // Pushes queued so far go before this reply.
                    let pushes = super::pubsub::take_all_pushes(client);
                    match p {
                        // Nothing is waiting ahead of it: encode it now (as
                        // Redis does, in the client's protocol of the moment).
                        Pending::Ready(reply) if pending.is_empty() => {
                            if let Some(pushes) = pushes {
                                encode(&pushes, client.resp.get(), &mut wbuf);
                            }
                            if send {
                                encode(&reply, client.resp.get(), &mut wbuf);
                            }
                        }
                        p => {
                            if let Some(pushes) = pushes {
                                pending.push((Pending::Ready(pushes), true));
                            }
                            pending.push((p, send));
                        }
                    }
                    if client.closing.get() {
                        break;
                    }
                    if blocked {
                        need_read = false;
                        break;
                    }
                }
                Ok(false) => break,
                Err(e) => {
                    protocol_error = Some(e);
                    break;
                }
            }
        }
        for (p, send) in pending.drain(..) {
            if matches!(p, Pending::Blocked(_)) && !wbuf.is_empty() {
                ctx.net_output.set(ctx.net_output.get() + wbuf.len() as u64);
                if stream.write_all(&wbuf).await.is_err() {
                    return;
                }
                wbuf.clear();
            }
            let reply = p.resolve(conn).await;
            if send {
                encode(&reply, client.resp.get(), &mut wbuf);
            }
        }
        if let Some(e) = &protocol_error {
            // Matches setProtocolError: reply, then close after writing.
            tracing::debug!(client = client.id, error = %e, "protocol error");
            encode(&Reply::error(e.reply_text()), client.resp.get(), &mut wbuf);
        }
        if !wbuf.is_empty() {
            ctx.net_output.set(ctx.net_output.get() + wbuf.len() as u64);
            if stream.write_all(&wbuf).await.is_err() {
                return;
            }
            wbuf.clear();
            if wbuf.capacity() > 1 << 20 {
                wbuf = BytesMut::with_capacity(16 * 1024);
            }
        }
        if protocol_error.is_some() || client.closing.get() {
            return;
        }
        client.qbuf.set(rbuf.len());
        if let Some(feed) = client.take_monitor_feed() {
            if !monitor_loop(conn, stream, feed, &mut decoder, &mut rbuf).await {
                return;
            }
        }
    }
}

/// A MONITOR client: forwards every fed line; of what the client sends only
/// QUIT (close) and RESET (back to a normal client: returns true) count.
async fn monitor_loop(
    conn: &Conn,
    stream: &mut Socket,
    feed: glommio::channels::local_channel::LocalReceiver<Bytes>,
    decoder: &mut RequestDecoder,
    rbuf: &mut BytesMut,
) -> bool {
    enum Event {
        Line(Option<Bytes>),
        Read(std::io::Result<usize>),
    }
    let mut chunk = vec![0u8; 4096];
    let mut out = BytesMut::new();
    loop {
        let event = futures_lite::future::or(async { Event::Line(feed.recv().await) }, async {
            Event::Read(stream.read(&mut chunk).await)
        })
        .await;
        match event {
            Event::Line(None) => return false,
            Event::Line(Some(line)) => {
                out.clear();
                out.extend_from_slice(b"+");
                out.extend_from_slice(&line);
                out.extend_from_slice(b"\r\n");
                if stream.write_all(&out).await.is_err() {
                    return false;
                }
            }
            Event::Read(Ok(0)) | Event::Read(Err(_)) => return false,
            Event::Read(Ok(n)) => {
                rbuf.extend_from_slice(&chunk[..n]);
                while let Ok(Some(argv)) = decoder.decode(rbuf, &Limits::default()) {
                    let name = argv
                        .first()
                        .map(|a| a.to_ascii_uppercase())
                        .unwrap_or_default();
                    if name == b"QUIT" {
                        let _ = stream.write_all(b"+OK\r\n").await;
                        return false;
                    }
                    if name == b"RESET" {
                        conn.client.stop_monitor();
                        for shard in 0..conn.ctx.nshards() {
                            conn.ctx.tell(
                                shard,
                                ShardRequest::MonitorRemove {
                                    client: conn.client.id,
                                },
                            );
                        }
                        let _ = crate::commands::connection::reset(conn, &argv);
                        return stream.write_all(b"+RESET\r\n").await.is_ok();
                    }
                }
            }
        }
        if conn.client.closing.get() {
            return false;
        }
    }
}

/// Whether the reply of the command just dispatched is sent (CLIENT REPLY).
fn take_reply_mode(client: &Client) -> bool {
    match client.reply_mode.get() {
        ReplyMode::On => true,
        ReplyMode::Off => false,
        ReplyMode::SkipNext => {
            client.reply_mode.set(ReplyMode::Skip);
            false
        }
        ReplyMode::Skip => {
            client.reply_mode.set(ReplyMode::On);
            false
        }
    }
}

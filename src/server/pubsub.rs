//! Pub/Sub state of one shard: the registry of this shard's subscribers
//! (channel → local clients, pattern → local clients, shard channel → local
//! clients), each client's own subscriptions and queue of pushes not yet
//! written, and the connection-side helpers that write those pushes.
//! Runs on: each shard. Subscriptions belong to the subscriber's shard;
//! PUBLISH delivers on its own shard and sends one `ShardRequest::Publish`
//! hop to every other shard, which delivers here (`Registry::publish`).
//!
//! Delivery puts an encoded push frame in the subscriber's queue and wakes
//! its connection task, which writes it (in order with the replies) while
//! waiting for the socket to be readable (`read_or_push`). Queued unsent
//! bytes count against `client-output-buffer-limit pubsub` (Redis's
//! `checkClientOutputBufferLimits`): over the hard limit, or over the soft
//! limit for longer than its seconds, the subscriber is closed.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet, VecDeque};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use super::socket::Socket;
use bytes::{Bytes, BytesMut};
use futures_lite::{AsyncReadExt, AsyncWriteExt};

use super::client::Client;
use super::connection::Conn;
use crate::protocol::{encode, Reply, RespVersion};
use crate::util::clock::now_ms;
use crate::util::glob::glob_match;

type Set = HashSet<Bytes, ahash::RandomState>;
type Subscribers = HashMap<u64, Rc<Client>, ahash::RandomState>;

/// The three namespaces of subscriptions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// SUBSCRIBE / PUBLISH, delivered as `message`.
    Channel = 0,
    /// PSUBSCRIBE, matched against PUBLISH channels, delivered as `pmessage`.
    Pattern = 1,
    /// SSUBSCRIBE / SPUBLISH, delivered as `smessage`.
    Shard = 2,
}

impl Kind {
    fn index(self) -> usize {
        self as usize
    }

    /// The first element of a subscribe confirmation.
    pub fn subscribe_word(self) -> &'static str {
        match self {
            Kind::Channel => "subscribe",
            Kind::Pattern => "psubscribe",
            Kind::Shard => "ssubscribe",
        }
    }

    /// The first element of an unsubscribe confirmation.
    pub fn unsubscribe_word(self) -> &'static str {
        match self {
            Kind::Channel => "unsubscribe",
            Kind::Pattern => "punsubscribe",
            Kind::Shard => "sunsubscribe",
        }
    }
}

/// `client-output-buffer-limit pubsub <hard> <soft> <soft seconds>`; 0 = none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObufLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_secs: u64,
}

impl Default for ObufLimit {
    /// Redis's default for the pubsub class: 32mb 8mb 60.
    fn default() -> ObufLimit {
        ObufLimit {
            hard: 32 << 20,
            soft: 8 << 20,
            soft_secs: 60,
        }
    }
}

impl ObufLimit {
    /// The pubsub class of a `client-output-buffer-limit` value (the config
    /// keeps it as `normal h s t slave h s t pubsub h s t`).
    pub fn of(value: Option<&str>) -> ObufLimit {
        let words: Vec<&str> = value.unwrap_or_default().split(' ').collect();
        words
            .chunks_exact(4)
            .find(|g| g[0].eq_ignore_ascii_case("pubsub"))
            .and_then(|g| {
                Some(ObufLimit {
                    hard: g[1].parse().ok()?,
                    soft: g[2].parse().ok()?,
                    soft_secs: g[3].parse().ok()?,
                })
            })
            .unwrap_or_default()
    }
}

/// A client's own subscriptions and the pushes queued for it.
/// Owned by: the client's shard (a field of `Client`).
#[derive(Default)]
pub struct ClientPubsub {
    /// Names subscribed to, by `Kind`.
    sets: RefCell<[Set; 3]>,
    /// At least one subscription of any kind (Redis's `CLIENT_PUBSUB`).
    active: Cell<bool>,
    /// The connection reads through `read_or_push`: set by a subscription
    /// or a queued push, cleared there once neither is left.
    attention: Cell<bool>,
    queue: RefCell<VecDeque<Bytes>>,
    queued_bytes: Cell<usize>,
    waker: Cell<Option<Waker>>,
    /// When the queue went over the soft limit (unix s; 0 = it is not).
    soft_since: Cell<u64>,
    /// Closed for going over the output buffer limit: pushes are dropped.
    overflowed: Cell<bool>,
}

impl ClientPubsub {
    /// True while subscribed to anything (RESP2 subscribed mode).
    #[inline]
    pub fn is_active(&self) -> bool {
        self.active.get()
    }

    /// True when the connection must read through `read_or_push`.
    #[inline]
    pub fn needs_push_loop(&self) -> bool {
        self.attention.get()
    }

    /// (channels, patterns, shard channels) for CLIENT LIST.
    pub fn counts(&self) -> (usize, usize, usize) {
        let sets = self.sets.borrow();
        (sets[0].len(), sets[1].len(), sets[2].len())
    }

    /// The count a (un)subscribe confirmation of `kind` shows: channels plus
    /// patterns, or shard channels (Redis's `clientSubscriptionsCount` and
    /// `clientShardSubscriptionsCount`).
    fn count_for(&self, kind: Kind) -> usize {
        let (c, p, s) = self.counts();
        match kind {
            Kind::Channel | Kind::Pattern => c + p,
            Kind::Shard => s,
        }
    }

    fn update_active(&self) {
        let (c, p, s) = self.counts();
        let active = c + p + s > 0;
        self.active.set(active);
        if active {
            self.attention.set(true);
        }
    }

    /// Queues one push frame; closes the client when the queue goes over
    /// the limits.
    fn push(&self, client: &Client, frame: Bytes, limit: ObufLimit) {
        if self.overflowed.get() {
            return;
        }
        let bytes = self.queued_bytes.get() + frame.len();
        self.queued_bytes.set(bytes);
        self.queue.borrow_mut().push_back(frame);
        self.attention.set(true);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
        if over_limit(self, bytes as u64, limit) {
            tracing::warn!(
                client = client.id,
                addr = %client.addr,
                "Client scheduled to be closed ASAP for overcoming of output buffer limits."
            );
            self.overflowed.set(true);
            self.queue.borrow_mut().clear();
            self.queued_bytes.set(0);
            client.kill();
        }
    }

    /// Takes queued pushes, about `max` bytes of them (at least one frame),
    /// as one buffer; they still count as queued until `sent`.
    fn take(&self, max: usize) -> Option<Bytes> {
        let mut q = self.queue.borrow_mut();
        let first = q.pop_front()?;
        if q.is_empty() || first.len() >= max {
            return Some(first);
        }
        let mut out = BytesMut::with_capacity(max.min(self.queued_bytes.get()));
        out.extend_from_slice(&first);
        while let Some(f) = q.front() {
            if out.len() + f.len() > max {
                break;
            }
            out.extend_from_slice(f);
            q.pop_front();
        }
        Some(out.freeze())
    }

    /// `n` bytes taken by `take` were written (or handed to the reply path).
    fn sent(&self, n: usize) {
        let left = self.queued_bytes.get().saturating_sub(n);
        self.queued_bytes.set(left);
        if left == 0 {
            self.soft_since.set(0);
        }
    }
}

/// Redis's `checkClientOutputBufferLimits` for the pubsub class.
fn over_limit(ps: &ClientPubsub, bytes: u64, limit: ObufLimit) -> bool {
    if limit.hard > 0 && bytes >= limit.hard {
        return true;
    }
    if limit.soft == 0 || bytes < limit.soft {
        ps.soft_since.set(0);
        return false;
    }
    // Whole seconds, as Redis's `server.unixtime`: closed once the queue
    // has stayed over the soft limit for more than `soft_secs`.
    let now = now_ms() / 1000;
    match ps.soft_since.get() {
        0 => {
            ps.soft_since.set(now);
            false
        }
        since => now.saturating_sub(since) > limit.soft_secs,
    }
}

/// One shard's subscribers. Owned by: each shard (`ShardCtx::pubsub`).
#[derive(Default)]
pub struct Registry {
    /// By `Kind`: name → the local clients subscribed to it.
    maps: [HashMap<Bytes, Subscribers, ahash::RandomState>; 3],
}

impl Registry {
    /// Subscribes `client` to `name`; returns the confirmation's count.
    pub fn subscribe(&mut self, kind: Kind, name: &Bytes, client: &Rc<Client>) -> usize {
        let ps = &client.pubsub;
        if ps.sets.borrow_mut()[kind.index()].insert(name.clone()) {
            self.maps[kind.index()]
                .entry(name.clone())
                .or_default()
                .insert(client.id, client.clone());
            ps.update_active();
        }
        ps.count_for(kind)
    }

    /// Unsubscribes `client` from `name` (subscribed or not); returns the
    /// confirmation's count.
    pub fn unsubscribe(&mut self, kind: Kind, name: &[u8], client: &Client) -> usize {
        let ps = &client.pubsub;
        if ps.sets.borrow_mut()[kind.index()].remove(name) {
            self.forget(kind, name, client.id);
            ps.update_active();
        }
        ps.count_for(kind)
    }

    /// Unsubscribes `client` from every name of `kind`; returns each name
    /// with the count after its removal, as the confirmations show them.
    pub fn unsubscribe_all(&mut self, kind: Kind, client: &Client) -> Vec<(Bytes, usize)> {
        let ps = &client.pubsub;
        let names = std::mem::take(&mut ps.sets.borrow_mut()[kind.index()]);
        ps.update_active();
        let base = ps.count_for(kind);
        let n = names.len();
        names
            .into_iter()
            .enumerate()
            .map(|(i, name)| {
                self.forget(kind, &name, client.id);
                (name, base + n - 1 - i)
            })
            .collect()
    }

    /// Drops every subscription of `client` (RESET, connection closed).
    pub fn drop_client(&mut self, client: &Client) {
        if !client.pubsub.is_active() {
            return;
        }
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            self.unsubscribe_all(kind, client);
        }
    }

    fn forget(&mut self, kind: Kind, name: &[u8], id: u64) {
        let map = &mut self.maps[kind.index()];
        if let Some(subs) = map.get_mut(name) {
            subs.remove(&id);
            if subs.is_empty() {
                map.remove(name);
            }
        }
    }

    /// Delivers a PUBLISH (`Kind::Channel`, also to matching patterns) or an
    /// SPUBLISH (`Kind::Shard`) to this shard's subscribers; returns how
    /// many received it (Redis's `pubsubPublishMessage`).
    pub fn publish(&self, kind: Kind, channel: &Bytes, message: &Bytes, limit: ObufLimit) -> u64 {
        let mut receivers = 0;
        let word = match kind {
            Kind::Shard => "smessage",
            _ => "message",
        };
        if let Some(subs) = self.maps[kind.index()].get(channel) {
            let mut frames = Frames::new(|| {
                vec![
                    Reply::bulk_str(word),
                    Reply::Bulk(channel.clone()),
                    Reply::Bulk(message.clone()),
                ]
            });
            for c in subs.values() {
                c.pubsub.push(c, frames.get(c), limit);
                receivers += 1;
            }
        }
        if kind != Kind::Channel {
            return receivers;
        }
        for (pattern, subs) in &self.maps[Kind::Pattern.index()] {
            if !glob_match(pattern, channel, false) {
                continue;
            }
            let mut frames = Frames::new(|| {
                vec![
                    Reply::bulk_str("pmessage"),
                    Reply::Bulk(pattern.clone()),
                    Reply::Bulk(channel.clone()),
                    Reply::Bulk(message.clone()),
                ]
            });
            for c in subs.values() {
                c.pubsub.push(c, frames.get(c), limit);
                receivers += 1;
            }
        }
        receivers
    }

    /// This shard's active names of `kind`, those matching `pattern` only
    /// when one is given (PUBSUB CHANNELS / SHARDCHANNELS, NUMPAT, INFO).
    pub fn names(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        self.maps[kind.index()]
            .keys()
            .filter(|n| pattern.is_none_or(|p| glob_match(p, n, false)))
            .cloned()
            .collect()
    }

    /// Local subscriber counts of `names` (PUBSUB NUMSUB / SHARDNUMSUB).
    pub fn numsub(&self, kind: Kind, names: &[Bytes]) -> Vec<u64> {
        let map = &self.maps[kind.index()];
        names
            .iter()
            .map(|n| map.get(n).map_or(0, |s| s.len() as u64))
            .collect()
    }
}

/// One push encoded at most once per RESP version.
struct Frames<F: Fn() -> Vec<Reply>> {
    items: F,
    resp2: Option<Bytes>,
    resp3: Option<Bytes>,
}

impl<F: Fn() -> Vec<Reply>> Frames<F> {
    fn new(items: F) -> Self {
        Frames {
            items,
            resp2: None,
            resp3: None,
        }
    }

    fn get(&mut self, client: &Client) -> Bytes {
        let version = client.resp.get();
        let slot = match version {
            RespVersion::Resp2 => &mut self.resp2,
            RespVersion::Resp3 => &mut self.resp3,
        };
        slot.get_or_insert_with(|| {
            let mut out = BytesMut::new();
            encode(&Reply::Push((self.items)()), version, &mut out);
            out.freeze()
        })
        .clone()
    }
}

/// A subscribe / unsubscribe confirmation: `[word, name or nil, count]`.
pub fn confirmation(word: &'static str, name: Option<Bytes>, count: usize) -> Reply {
    Reply::Push(vec![
        Reply::bulk_str(word),
        name.map_or(Reply::Nil, Reply::Bulk),
        Reply::Integer(count as i64),
    ])
}

/// Every push queued for `client`, as one raw reply to send before the
/// reply of the command just run (a push its own PUBLISH caused comes
/// first, as in Redis). `None`, cheaply, when nothing is queued.
#[inline]
pub fn take_all_pushes(client: &Client) -> Option<Reply> {
    if client.pubsub.queued_bytes.get() == 0 {
        return None;
    }
    let bytes = client.pubsub.take(usize::MAX)?;
    client.pubsub.sent(bytes.len());
    Some(Reply::Raw(bytes))
}

/// Pushes written to the socket at a time.
const PUSH_CHUNK: usize = 64 * 1024;

/// The read of a connection that has (or had) subscriptions: writes queued
/// pushes as they come while waiting for the socket to be readable, and
/// returns the read's result. Subscribed clients are exempt from the idle
/// `timeout`, as in Redis's `clientsCronHandleTimeout`; once nothing is
/// subscribed or queued any more the connection is a plain one again.
pub async fn read_or_push(
    conn: &Conn,
    stream: &mut Socket,
    buf: &mut [u8],
) -> std::io::Result<usize> {
    enum Event {
        Push,
        Read(std::io::Result<usize>),
    }
    let ps = &conn.client.pubsub;
    let idle = conn.ctx.hot.get().timeout;
    if !ps.is_active() && ps.queued_bytes.get() == 0 {
        ps.attention.set(false);
        if idle > 0 {
            stream.set_read_timeout(Some(std::time::Duration::from_secs(idle)));
        }
        return stream.read(buf).await;
    }
    if idle > 0 {
        stream.set_read_timeout(None);
    }
    loop {
        while let Some(frames) = ps.take(PUSH_CHUNK) {
            stream.write_all(&frames).await?;
            ps.sent(frames.len());
            let ctx = &conn.ctx;
            ctx.net_output
                .set(ctx.net_output.get() + frames.len() as u64);
        }
        if conn.client.closing.get() {
            return Ok(0);
        }
        let wait_push = poll_fn(|cx| {
            if ps.queue.borrow().is_empty() {
                ps.waker.set(Some(cx.waker().clone()));
                Poll::Pending
            } else {
                Poll::Ready(Event::Push)
            }
        });
        let read = async { Event::Read(stream.read(buf).await) };
        match futures_lite::future::or(wait_push, read).await {
            Event::Push => continue,
            Event::Read(r) => return r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: u64) -> Rc<Client> {
        // fd -1: `kill` (output buffer limit) shuts down nothing.
        Rc::new(Client::new(id, String::new(), String::new(), -1, 0, true))
    }

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn queued(c: &Client) -> String {
        let q = c.pubsub.queue.borrow();
        q.iter().map(|f| String::from_utf8_lossy(f)).collect()
    }

    #[test]
    fn counts_follow_redis() {
        let mut r = Registry::default();
        let c = client(1);
        assert_eq!(r.subscribe(Kind::Channel, &b("a"), &c), 1);
        assert_eq!(r.subscribe(Kind::Channel, &b("a"), &c), 1);
        assert_eq!(r.subscribe(Kind::Pattern, &b("p*"), &c), 2);
        // Shard channels count on their own.
        assert_eq!(r.subscribe(Kind::Shard, &b("s"), &c), 1);
        assert!(c.pubsub.is_active());
        assert_eq!(r.unsubscribe(Kind::Channel, b"nope", &c), 2);
        assert_eq!(r.unsubscribe_all(Kind::Channel, &c), vec![(b("a"), 1)]);
        assert_eq!(r.unsubscribe_all(Kind::Pattern, &c), vec![(b("p*"), 0)]);
        assert!(c.pubsub.is_active());
        assert_eq!(r.names(Kind::Shard, None), vec![b("s")]);
        r.drop_client(&c);
        assert!(!c.pubsub.is_active());
        assert!(r.maps.iter().all(|m| m.is_empty()));
    }

    #[test]
    fn publish_reaches_channels_and_patterns() {
        let mut r = Registry::default();
        let (c1, c2) = (client(1), client(2));
        c2.resp.set(RespVersion::Resp3);
        r.subscribe(Kind::Channel, &b("news"), &c1);
        r.subscribe(Kind::Pattern, &b("n*"), &c1);
        r.subscribe(Kind::Pattern, &b("n*"), &c2);
        r.subscribe(Kind::Shard, &b("news"), &c2);
        let limit = ObufLimit::default();
        assert_eq!(r.publish(Kind::Channel, &b("news"), &b("hi"), limit), 3);
        assert_eq!(
            queued(&c1),
            "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n\
             *4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
        );
        assert_eq!(
            queued(&c2),
            ">4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
        );
        // SPUBLISH: shard subscribers only, no patterns.
        assert_eq!(r.publish(Kind::Shard, &b("news"), &b("x"), limit), 1);
        assert_eq!(r.publish(Kind::Channel, &b("other"), &b("x"), limit), 0);
        assert_eq!(r.numsub(Kind::Channel, &[b("news"), b("n*")]), vec![1, 0]);
        // Taking everything empties the queue and its byte count.
        assert!(take_all_pushes(&c1).is_some());
        assert!(take_all_pushes(&c1).is_none());
        assert!(!c1.closing.get());
    }

    #[test]
    fn hard_limit_closes_the_subscriber() {
        let mut r = Registry::default();
        let c = client(1);
        r.subscribe(Kind::Channel, &b("ch"), &c);
        let limit = ObufLimit {
            hard: 100,
            soft: 0,
            soft_secs: 0,
        };
        r.publish(Kind::Channel, &b("ch"), &b("small"), limit);
        assert!(!c.closing.get());
        r.publish(
            Kind::Channel,
            &b("ch"),
            &Bytes::from(vec![b'x'; 100]),
            limit,
        );
        assert!(c.closing.get());
        // Dropped, and nothing more is queued.
        assert!(take_all_pushes(&c).is_none());
        r.publish(Kind::Channel, &b("ch"), &b("more"), limit);
        assert!(take_all_pushes(&c).is_none());
    }

    #[test]
    fn obuf_limit_parses_the_pubsub_class() {
        assert_eq!(
            ObufLimit::of(Some(
                "normal 0 0 0 slave 268435456 67108864 60 pubsub 1024 512 7"
            )),
            ObufLimit {
                hard: 1024,
                soft: 512,
                soft_secs: 7
            }
        );
        assert_eq!(ObufLimit::of(None), ObufLimit::default());
        assert_eq!(ObufLimit::of(Some("pubsub x 1 1")), ObufLimit::default());
    }
}

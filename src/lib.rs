//! Tessera: a Redis-compatible in-memory database server, thread-per-core and
//! shared-nothing on glommio (io_uring).
//!
//! ```text
//!  clients ──► shard 0 (core 0)    shard 1 (core 1)   …   shard N-1
//!  (SO_REUSEPORT) keyspace, expiry   keyspace, expiry        …
//!                     ▲ ▲──── channel mesh (batched hops) ───▲
//!                     └───────────────┬──────────────────────┘
//!                              control executor
//!                 (config owner, cron, saves; later cluster bus, Sentinel)
//! ```
//!
//! Module map and ownership:
//! - [`protocol`]: RESP2/RESP3 codec, sans-IO; imports nothing else from the crate.
//! - [`config`]: the one table of directives, redis.conf/argv parsing, CONFIG
//!   GET/SET/REWRITE. Owned by the control executor; shards get `Arc` copies.
//! - [`server`]: boot (executors + mesh), listeners, client sockets (one
//!   epoll instance per shard, waited on through glommio), connections, hops,
//!   cross-shard transactions, blocked clients (on the keys' shard), pub/sub
//!   subscriptions (on the subscriber's shard), the control executor.
//! - [`shard`]: one core's data — databases, values, expiry, key locks,
//!   WATCH counters, the replication stream, slots a snapshot still owes. No RESP, no sockets; never
//!   shared between cores.
//! - [`commands`]: the one command table, dispatch gates, one file per family.
//! - [`persistence`]: per-shard point-in-time snapshots
//!   (shard side) joined into one file by the control executor, loading,
//!   the per-shard append-only file; the RDB codec (files, DUMP / RESTORE
//!   payloads) is sans-IO.
//! - [`replication`]: PSYNC2 with Redis-protocol peers, on the control
//!   executor: the backlog merged from the shards' streams, replicas
//!   attached here, the link to this server's master.
//! - [`cluster`]: key → slot (used in standalone mode too).
//! - [`util`]: small generic helpers (clock, glob, numbers).
//!
//! Rules: a key's slot decides its shard; a command whose keys are on one
//! shard runs there with no locks; one whose keys span shards runs as a
//! transaction (`server::tx`). No `Mutex`/`RwLock` on any request path.

#![deny(clippy::await_holding_refcell_ref)]

pub mod cluster;
pub mod commands;
pub mod config;
pub mod persistence;
pub mod protocol;
pub mod replication;
pub mod server;
pub mod shard;
pub mod util;

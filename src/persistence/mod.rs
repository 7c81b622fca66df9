//! Persistence: Redis-compatible formats for data at rest and in transit.
//! Pure codecs here, no I/O of their own: the shard or control executor
//! that calls them owns the files and sockets.
//!
//! - [`rdb`]: the RDB object codec (Redis 7.0, RDB version 10), whole-file
//!   loading, and the DUMP / RESTORE payload.

pub mod rdb;

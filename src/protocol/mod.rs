//! RESP wire protocol for Tessera: a sans-IO codec that runs on every shard.
//!
//! This module owns turning client bytes into commands ([`RequestDecoder`],
//! RESP2 multibulk and inline requests, with Redis 7.0's exact protocol
//! errors) and turning [`Reply`] values into RESP2 or RESP3 bytes
//! ([`encode`]). It performs no I/O and holds no global state: the connection
//! task owns the read/write buffers and one decoder per connection, and calls
//! into this module. It depends only on `bytes` and `std`.
//!
//! Behaviour follows Redis 7.0 `src/networking.c` (`processInputBuffer`,
//! `processInlineBuffer`, `processMultibulkBuffer`, the `addReply*` family)
//! and `src/sds.c` (`sdssplitargs`); each function names the Redis function
//! whose behaviour it reproduces.

mod encode;
mod error;
mod frame;
mod inline;
mod parse;

pub use encode::encode;
pub use error::ProtocolError;
pub use frame::{format_double, Reply, RespVersion};
pub use parse::{Limits, RequestDecoder};

//! The server: executors and mesh (boot), listeners, connections, hops
//! between shards, cross-shard transactions, and the control executor.

pub mod blocking;
pub mod boot;
pub mod client;
pub mod connection;
pub mod context;
pub mod control;
pub mod hop;
pub mod listener;
pub mod prefetch;
pub mod pubsub;
pub mod route;
pub mod shutdown;
pub mod socket;
pub mod tx;

pub use boot::run;

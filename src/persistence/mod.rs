//! Persistence: the RDB codec (`rdb`), point-in-time snapshots taken by every
//! shard in parallel without fork (`snapshot`, shard side; `save`, control
//! side), and loading a file into the shards (`load`).

pub mod aof;
pub mod load;
pub mod rdb;
pub mod save;
pub mod snapshot;

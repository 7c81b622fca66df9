//! Commands: the one command table, dispatch gates, argument parsing, error
//! texts, and one file per command family. Keyed handlers run on the shard
//! that owns their keys; connection handlers run on the client's shard.

pub mod args;
pub mod blocking;
pub mod connection;
pub mod dispatch;
pub mod dump;
pub mod error;
pub mod hash;
pub mod keys;
pub mod list;
pub mod multi;
pub mod persistence;
pub mod propagate;
pub mod pubsub;
pub mod replication;
pub mod server;
pub mod set;
pub mod string;
pub mod table;
pub mod zset;

use crate::protocol::Reply;
use crate::server::context::HotConfig;
use crate::shard::db::Db;
use crate::shard::types::Encodings;
use crate::shard::value::Typed;
pub use error::CmdError;

pub type CmdResult = Result<Reply, CmdError>;

/// What an `Async` command handler returns.
pub type BoxFut = std::pin::Pin<Box<dyn std::future::Future<Output = CmdResult>>>;

/// What a keyed command handler works on: the databases of the shard that
/// owns its keys (or, for a command whose keys span shards, scratch copies
/// of exactly those keys), the client's selected database and the clock.
pub struct KeyCtx<'a> {
    pub dbs: &'a mut [Db],
    pub db: usize,
    /// Unix time in ms, fixed for the whole command (Redis's command time snapshot).
    pub now: u64,
    pub proto_max_bulk_len: u64,
    /// maxmemory-policy is an LFU policy (OBJECT FREQ vs IDLETIME).
    pub lfu: bool,
    /// Number of writes done, for `rdb_changes_since_last_save`.
    pub dirty: u64,
    /// Compact-encoding limits (listpack / intset sizes) from the config.
    pub enc: Encodings,
}

impl<'a> KeyCtx<'a> {
    /// A context over `dbs` for one command, with the settings of `hot`.
    pub fn new(dbs: &'a mut [Db], db: usize, now: u64, hot: &HotConfig) -> KeyCtx<'a> {
        KeyCtx {
            dbs,
            db,
            now,
            proto_max_bulk_len: hot.proto_max_bulk_len,
            lfu: hot.lfu,
            dirty: 0,
            enc: hot.enc,
        }
    }

    /// The value of type `T` at `key` for reading (`lookupKeyRead` +
    /// `checkType`): `Ok(None)` when missing, WRONGTYPE for another type.
    pub fn read<T: Typed>(&mut self, key: &[u8]) -> Result<Option<&T>, CmdError> {
        let now = self.now;
        match self.db().get(key, now) {
            None => Ok(None),
            Some(e) => T::of(&e.value).map(Some).ok_or(CmdError::WrongType),
        }
    }

    /// The same for writing (`lookupKeyWrite` + `checkType`).
    pub fn write<T: Typed>(&mut self, key: &[u8]) -> Result<Option<&mut T>, CmdError> {
        let now = self.now;
        match self.db().get_mut(key, now) {
            None => Ok(None),
            Some(e) => T::of_mut(&mut e.value).map(Some).ok_or(CmdError::WrongType),
        }
    }

    /// Deletes `key` if it holds an emptied collection: no key ever holds an
    /// empty list, hash, set or sorted set.
    pub fn drop_if_empty(&mut self, key: &[u8]) {
        let now = self.now;
        if self
            .db()
            .peek(key, now)
            .is_some_and(|e| e.value.is_empty_collection())
        {
            self.db().remove(key, now);
        }
    }

    pub fn db(&mut self) -> &mut Db {
        // `db` is checked against the number of databases by SELECT.
        &mut self.dbs[self.db]
    }
}

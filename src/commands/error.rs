//! `CmdError`: every error a command can reply with, and its exact Redis 7.0
//! text. The text lives here and nowhere else; tests assert it byte for byte.
//! Pure; used on every shard.

use crate::protocol::Reply;

/// A command's error reply. The connection stays open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CmdError {
    /// `-ERR <msg>`.
    Err(String),
    /// A reply with its own error code, text given whole (e.g. `NOPROTO ...`).
    Coded(String),
    WrongType,
    Syntax,
    NotInteger,
    NotFloat,
    /// Lower-case full command name, as Redis's `c->cmd->fullname`.
    WrongArity(String),
    /// Command name as sent, and the first arguments.
    UnknownCommand(String, Vec<String>),
    /// Sub-command as sent, and the container command (upper-case) for the HELP hint.
    UnknownSubcommand(String, String),
    Overflow,
    NoSuchKey,
    IndexOutOfRange,
    DbIndexOutOfRange,
    /// Command name, lower-case.
    InvalidExpire(String),
    StringTooLong,
    BitOffset,
    BitValue,
    OffsetOutOfRange,
    NanOrInfinity,
    MaxClients,
    /// RESTORE onto an existing key without REPLACE.
    BusyKey,
    /// RESTORE's ttl, IDLETIME and FREQ out of range.
    InvalidTtl,
    InvalidIdleTime,
    InvalidFreq,
    /// RESTORE: the payload's footer (RDB version or CRC64) is wrong.
    BadDumpPayload,
    /// RESTORE: the payload's object cannot be read.
    BadDataFormat,
    ExecAbort,
    Busy,
    NoAuth,
    Oom,
    ReadOnly,
    /// A replica whose master link is down, with `replica-serve-stale-data no`.
    MasterDown,
    /// `min-replicas-to-write` is not met.
    NoReplicas,
    Loading,
    CrossSlot,
    TryAgain,
    ClusterDown,
    /// `-MOVED slot host:port`.
    Moved(u16, String),
    /// `-ASK slot host:port`.
    Ask(u16, String),
}

impl CmdError {
    /// The full error line without the leading `-`.
    pub fn text(&self) -> String {
        use CmdError::*;
        match self {
            Err(m) => format!("ERR {m}"),
            Coded(m) => m.clone(),
            WrongType => "WRONGTYPE Operation against a key holding the wrong kind of value".into(),
            Syntax => "ERR syntax error".into(),
            NotInteger => "ERR value is not an integer or out of range".into(),
            NotFloat => "ERR value is not a valid float".into(),
            WrongArity(name) => format!("ERR wrong number of arguments for '{name}' command"),
            UnknownCommand(name, args) => {
                // Matches `processCommand`: name cut at 128 chars, then each
                // argument quoted and followed by a space, up to 128 chars in all.
                let mut s = format!(
                    "ERR unknown command '{}', with args beginning with: ",
                    truncate(name, 128)
                );
                let mut room = 128usize;
                for a in args {
                    if room == 0 {
                        break;
                    }
                    let a = truncate(a, room);
                    room = room.saturating_sub(a.chars().count());
                    s.push_str(&format!("'{a}' "));
                }
                s
            }
            UnknownSubcommand(sub, container) => format!(
                "ERR unknown subcommand '{}'. Try {} HELP.",
                truncate(sub, 128),
                container
            ),
            Overflow => "ERR increment or decrement would overflow".into(),
            NoSuchKey => "ERR no such key".into(),
            IndexOutOfRange => "ERR index out of range".into(),
            DbIndexOutOfRange => "ERR DB index is out of range".into(),
            InvalidExpire(cmd) => format!("ERR invalid expire time in '{cmd}' command"),
            StringTooLong => "ERR string exceeds maximum allowed size (proto-max-bulk-len)".into(),
            BitOffset => "ERR bit offset is not an integer or out of range".into(),
            BitValue => "ERR bit is not an integer or out of range".into(),
            OffsetOutOfRange => "ERR offset is out of range".into(),
            NanOrInfinity => "ERR increment would produce NaN or Infinity".into(),
            MaxClients => "ERR max number of clients reached".into(),
            BusyKey => "BUSYKEY Target key name already exists.".into(),
            InvalidTtl => "ERR Invalid TTL value, must be >= 0".into(),
            InvalidIdleTime => "ERR Invalid IDLETIME value, must be >= 0".into(),
            InvalidFreq => "ERR Invalid FREQ value, must be >= 0 and <= 255".into(),
            BadDumpPayload => "ERR DUMP payload version or checksum are wrong".into(),
            BadDataFormat => "ERR Bad data format".into(),
            ExecAbort => "EXECABORT Transaction discarded because of previous errors.".into(),
            Busy => "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.".into(),
            NoAuth => "NOAUTH Authentication required.".into(),
            Oom => "OOM command not allowed when used memory > 'maxmemory'.".into(),
            ReadOnly => "READONLY You can't write against a read only replica.".into(),
            MasterDown => "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.".into(),
            NoReplicas => "NOREPLICAS Not enough good replicas to write.".into(),
            Loading => "LOADING Redis is loading the dataset in memory".into(),
            CrossSlot => "CROSSSLOT Keys in request don't hash to the same slot".into(),
            TryAgain => "TRYAGAIN Multiple keys request during rehashing of slot".into(),
            ClusterDown => "CLUSTERDOWN The cluster is down".into(),
            Moved(slot, addr) => format!("MOVED {slot} {addr}"),
            Ask(slot, addr) => format!("ASK {slot} {addr}"),
        }
    }

    pub fn err(msg: impl Into<String>) -> CmdError {
        CmdError::Err(msg.into())
    }

    pub fn reply(&self) -> Reply {
        Reply::error(self.text())
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

impl From<CmdError> for Reply {
    fn from(e: CmdError) -> Reply {
        e.reply()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_texts() {
        assert_eq!(
            CmdError::WrongArity("get".into()).text(),
            "ERR wrong number of arguments for 'get' command"
        );
        assert_eq!(
            CmdError::UnknownCommand("FOOBAR".into(), vec!["x".into()]).text(),
            "ERR unknown command 'FOOBAR', with args beginning with: 'x' "
        );
        assert_eq!(
            CmdError::UnknownCommand("foo".into(), vec![]).text(),
            "ERR unknown command 'foo', with args beginning with: "
        );
        assert_eq!(
            CmdError::BusyKey.text(),
            "BUSYKEY Target key name already exists."
        );
        assert_eq!(
            CmdError::UnknownSubcommand("bar".into(), "CONFIG".into()).text(),
            "ERR unknown subcommand 'bar'. Try CONFIG HELP."
        );
    }
}

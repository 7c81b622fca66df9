//! THE table of configuration directives: every directive Redis 7.0 knows
//! (the `standardConfig static_configs[]` table of Redis `src/config.c`,
//! TLS ones included), tessera's own `shards`, and the directives that only
//! exist in a config file (`include`, `rename-command`, `user`,
//! `loadmodule`, `sentinel`).
//!
//! Pure static data, owned by nobody. The control executor's [`Config`]
//! reads it to parse redis.conf and argv, to answer CONFIG GET/SET and to
//! write CONFIG REWRITE; nothing else lists directives. Shards never read
//! it: they receive copies of the values they use.
//!
//! `default` is the value exactly as CONFIG GET shows it in Redis 7.0
//! (memory in bytes, booleans `yes`/`no`, enums lower-case), except where a
//! `// COMPAT:` comment says tessera differs. `effective` says whether
//! tessera honours the directive; flip it with `.honoured()` on the entry.
//!
//! [`Config`]: super::Config

/// Flag: can only be set at start-up (CONFIG SET answers "can't set
/// immutable config").
pub const IMMUTABLE: u16 = 1 << 0;
/// Flag: the value is a secret; the server redacts it from logs/MONITOR.
pub const SENSITIVE: u16 = 1 << 1;
/// Flag: listed in Redis's DEBUG config dump (informational).
pub const DEBUG: u16 = 1 << 2;
/// Flag: takes several arguments (`save 3600 1 300 100`); CONFIG SET
/// splits its value on spaces.
pub const MULTI_ARG: u16 = 1 << 3;
/// Flag: CONFIG GET only shows it when asked for by exact name.
pub const HIDDEN: u16 = 1 << 4;
/// Flag: CONFIG SET needs `enable-protected-configs` yes (or local and a
/// local client).
pub const PROTECTED: u16 = 1 << 5;
/// Flag: CONFIG SET is refused with -LOADING while a dataset loads (the
/// server checks this; [`Config`](super::Config) does not know).
pub const DENY_LOADING: u16 = 1 << 6;
/// Flag: only valid in a config file or argv; unknown to CONFIG GET/SET.
pub const FILE_ONLY: u16 = 1 << 7;

const INT_MIN: i64 = i32::MIN as i64;
const INT_MAX: i64 = i32::MAX as i64;
const UINT_MAX: i64 = u32::MAX as i64;
const LONG_MAX: i64 = i64::MAX;

/// A validity check run on a string value before it is stored.
pub type StrCheck = fn(&str) -> Result<(), &'static str>;

/// How a directive's arguments are parsed, validated and shown.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// `yes` / `no`, case-insensitive on input.
    Bool,
    /// A plain integer (Redis `string2ll`: no sign `+`, no leading zeros),
    /// bounds inclusive.
    Int { min: i64, max: i64 },
    /// Bytes, with the units of Redis `memtoull` (`1k` = 1000, `1kb` =
    /// 1024, `m`, `mb`, `g`, `gb`, case-insensitive); bounds inclusive.
    Memory { min: u64, max: u64 },
    /// Bytes as [`Kind::Memory`], or `N%` (`maxmemory-clients`); Redis
    /// stores a percentage as a negative number.
    MemoryOrPercent { max: u64, max_percent: u64 },
    /// An octal number (`unixsocketperm`), shown in octal without prefix.
    Octal { max: u64 },
    /// One of a fixed set of names. Several names may share a value
    /// (`oom-score-adj` yes/relative): CONFIG GET shows the first. With
    /// [`MULTI_ARG`] the values are bit flags and several names combine.
    Enum(&'static [(&'static str, u32)]),
    /// Free text. `null_if_empty` mirrors Redis `EMPTY_STRING_IS_NULL`:
    /// an empty value means "unset" (and CONFIG REWRITE drops the line).
    String {
        null_if_empty: bool,
        check: Option<StrCheck>,
    },
    /// A directive with its own parser (see [`Special`]).
    Special(Special),
}

/// Directives whose values are not a single scalar, or that are not
/// values at all (the `FILE_ONLY` ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    /// Working directory; stored absolute. The server does the chdir.
    Dir,
    /// `save <seconds> <changes> [...]`; `save ""` disables snapshots.
    Save,
    /// `client-output-buffer-limit <class> <hard> <soft> <seconds> ...`.
    ClientOutputBufferLimit,
    /// `oom-score-adj-values <primary> <replica> <bgchild>`.
    OomScoreAdjValues,
    /// Keyspace event classes, `Ag$lshzxeKEtmdn`.
    NotifyKeyspaceEvents,
    /// Up to 16 listen addresses (`-` prefix: optional).
    Bind,
    /// `replicaof <host> <port>` or `replicaof no one`.
    ReplicaOf,
    /// Percentiles reported by INFO latencystats.
    LatencyTrackingInfoPercentiles,
    /// `include <path or glob>` (file-only).
    Include,
    /// `rename-command <name> <new-name>` (file-only).
    RenameCommand,
    /// `user <name> <rules...>` (file-only).
    User,
    /// `loadmodule <path> [args...]` (file-only).
    LoadModule,
    /// `sentinel ...` lines (file-only, Sentinel mode).
    Sentinel,
}

/// One configuration directive.
#[derive(Debug)]
pub struct Directive {
    /// Canonical lower-case name, as CONFIG GET and REWRITE show it.
    pub name: &'static str,
    /// Legacy second name (`slaveof` for `replicaof`), accepted everywhere.
    pub alias: Option<&'static str>,
    pub kind: Kind,
    /// Default in CONFIG GET form. `dir` has "" here: its default is the
    /// working directory at start-up.
    pub default: &'static str,
    /// Bit set of the flag constants of this module.
    pub flags: u16,
    /// Whether tessera honours it. Directives that are not honoured are
    /// still parsed, validated, stored and shown, and the server logs one
    /// warning for each one set to a non-default value.
    pub effective: bool,
}

impl Directive {
    /// Marks the entry as honoured by tessera (builder used in the table).
    pub const fn honoured(self) -> Self {
        Directive {
            effective: true,
            ..self
        }
    }

    /// Whether the entry carries `flag`.
    pub fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }
}

const fn entry(
    name: &'static str,
    alias: Option<&'static str>,
    flags: u16,
    kind: Kind,
    default: &'static str,
) -> Directive {
    Directive {
        name,
        alias,
        kind,
        default,
        flags,
        effective: false,
    }
}

const fn boolean(
    name: &'static str,
    alias: Option<&'static str>,
    flags: u16,
    default: bool,
) -> Directive {
    let text = if default { "yes" } else { "no" };
    entry(name, alias, flags, Kind::Bool, text)
}

const fn int(
    name: &'static str,
    alias: Option<&'static str>,
    flags: u16,
    min: i64,
    max: i64,
    default: &'static str,
) -> Directive {
    entry(name, alias, flags, Kind::Int { min, max }, default)
}

const fn memory(
    name: &'static str,
    alias: Option<&'static str>,
    flags: u16,
    min: u64,
    max: u64,
    default: &'static str,
) -> Directive {
    entry(name, alias, flags, Kind::Memory { min, max }, default)
}

const fn string(
    name: &'static str,
    alias: Option<&'static str>,
    flags: u16,
    default: &'static str,
    check: Option<StrCheck>,
) -> Directive {
    let kind = Kind::String {
        null_if_empty: false,
        check,
    };
    entry(name, alias, flags, kind, default)
}

/// A string whose empty value means "unset" (Redis default NULL).
const fn nullable(name: &'static str, alias: Option<&'static str>, flags: u16) -> Directive {
    let kind = Kind::String {
        null_if_empty: true,
        check: None,
    };
    entry(name, alias, flags, kind, "")
}

const fn enumeration(
    name: &'static str,
    flags: u16,
    values: &'static [(&'static str, u32)],
    default: &'static str,
) -> Directive {
    entry(name, None, flags, Kind::Enum(values), default)
}

const fn special(
    name: &'static str,
    alias: Option<&'static str>,
    flags: u16,
    which: Special,
    default: &'static str,
) -> Directive {
    entry(name, alias, flags, Kind::Special(which), default)
}

const MAXMEMORY_POLICY: &[(&str, u32)] = &[
    ("volatile-lru", 0),
    ("volatile-lfu", 1),
    ("volatile-random", 2),
    ("volatile-ttl", 3),
    ("allkeys-lru", 4),
    ("allkeys-lfu", 5),
    ("allkeys-random", 6),
    ("noeviction", 7),
];
const SYSLOG_FACILITY: &[(&str, u32)] = &[
    ("user", 0),
    ("local0", 1),
    ("local1", 2),
    ("local2", 3),
    ("local3", 4),
    ("local4", 5),
    ("local5", 6),
    ("local6", 7),
    ("local7", 8),
];
const LOGLEVEL: &[(&str, u32)] = &[("debug", 0), ("verbose", 1), ("notice", 2), ("warning", 3)];
const SUPERVISED: &[(&str, u32)] = &[("upstart", 0), ("systemd", 1), ("auto", 2), ("no", 3)];
const APPENDFSYNC: &[(&str, u32)] = &[("everysec", 0), ("always", 1), ("no", 2)];
/// Bit flags, combined with [`MULTI_ARG`]; `default` is the empty set.
const SHUTDOWN_ON_SIG: &[(&str, u32)] = &[
    ("default", 0),
    ("save", 1),
    ("nosave", 2),
    ("now", 4),
    ("force", 8),
];
const REPL_DISKLESS_LOAD: &[(&str, u32)] = &[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)];
const TLS_AUTH_CLIENTS: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("optional", 2)];
/// `yes` and `relative` are the same value; CONFIG GET shows `yes`.
const OOM_SCORE_ADJ: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)];
const ACL_PUBSUB_DEFAULT: &[(&str, u32)] = &[("allchannels", 1), ("resetchannels", 0)];
const SANITIZE_DUMP_PAYLOAD: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("clients", 2)];
/// `enable-protected-configs`, `enable-debug-command`, `enable-module-command`.
const PROTECTED_ACTION: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("local", 2)];
const ENDPOINT_TYPE: &[(&str, u32)] = &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)];
const PROPAGATION_ERROR: &[(&str, u32)] = &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)];

const NO: u16 = 0;

/// Every directive, in Redis's table order (booleans, strings, enums,
/// numbers, TLS, special), then tessera's own, then the file-only ones.
pub static DIRECTIVES: &[Directive] = &[
    // Booleans.
    boolean("rdbchecksum", None, IMMUTABLE, true).honoured(),
    // Only `no` (the default) is honoured: `yes` is reported as ignored.
    boolean("daemonize", None, IMMUTABLE, false),
    boolean("io-threads-do-reads", None, DEBUG | IMMUTABLE, false),
    boolean("always-show-logo", None, IMMUTABLE, false),
    boolean("protected-mode", None, NO, true),
    boolean("rdbcompression", None, NO, true).honoured(),
    boolean("rdb-del-sync-files", None, NO, false),
    boolean("activerehashing", None, NO, true),
    boolean("stop-writes-on-bgsave-error", None, NO, true),
    boolean("set-proc-title", None, IMMUTABLE, true),
    boolean("dynamic-hz", None, NO, true),
    boolean("lazyfree-lazy-eviction", None, DEBUG, false),
    boolean("lazyfree-lazy-expire", None, DEBUG, false),
    boolean("lazyfree-lazy-server-del", None, DEBUG, false),
    boolean("lazyfree-lazy-user-del", None, DEBUG, false),
    boolean("lazyfree-lazy-user-flush", None, DEBUG, false),
    boolean("repl-disable-tcp-nodelay", None, NO, false),
    boolean("repl-diskless-sync", None, DEBUG, true).honoured(),
    boolean("aof-rewrite-incremental-fsync", None, NO, true),
    boolean("no-appendfsync-on-rewrite", None, NO, false),
    boolean("cluster-require-full-coverage", None, NO, true),
    boolean("rdb-save-incremental-fsync", None, NO, true),
    boolean("aof-load-truncated", None, NO, true).honoured(),
    boolean("aof-use-rdb-preamble", None, NO, true).honoured(),
    boolean("aof-timestamp-enabled", None, NO, false),
    boolean(
        "cluster-replica-no-failover",
        Some("cluster-slave-no-failover"),
        NO,
        false,
    ),
    boolean("replica-lazy-flush", Some("slave-lazy-flush"), NO, false),
    boolean(
        "replica-serve-stale-data",
        Some("slave-serve-stale-data"),
        NO,
        true,
    )
    .honoured(),
    boolean("replica-read-only", Some("slave-read-only"), DEBUG, true).honoured(),
    boolean(
        "replica-ignore-maxmemory",
        Some("slave-ignore-maxmemory"),
        NO,
        true,
    ),
    boolean("jemalloc-bg-thread", None, NO, true),
    boolean("activedefrag", None, DEBUG, false),
    boolean("syslog-enabled", None, IMMUTABLE, false),
    boolean("cluster-enabled", None, IMMUTABLE, false),
    boolean("appendonly", None, DENY_LOADING, false).honoured(),
    boolean("cluster-allow-reads-when-down", None, NO, false),
    boolean("cluster-allow-pubsubshard-when-down", None, NO, true),
    boolean("crash-log-enabled", None, NO, true),
    boolean("crash-memcheck-enabled", None, NO, true),
    boolean("use-exit-on-panic", None, HIDDEN, false),
    boolean("disable-thp", None, IMMUTABLE, true).honoured(),
    boolean("cluster-allow-replica-migration", None, NO, true),
    boolean("replica-announced", None, NO, true),
    boolean("latency-tracking", None, NO, true),
    boolean("aof-disable-auto-gc", None, NO, false),
    boolean("replica-ignore-disk-write-errors", None, NO, false),
    // Strings.
    string("aclfile", None, IMMUTABLE, "", None),
    nullable("unixsocket", None, IMMUTABLE),
    nullable("pidfile", None, IMMUTABLE).honoured(),
    nullable("replica-announce-ip", Some("slave-announce-ip"), NO).honoured(),
    nullable("masteruser", None, SENSITIVE).honoured(),
    nullable("cluster-announce-ip", None, NO),
    string("cluster-config-file", None, IMMUTABLE, "nodes.conf", None),
    entry(
        "cluster-announce-hostname",
        None,
        NO,
        Kind::String {
            null_if_empty: true,
            check: Some(check_hostname),
        },
        "",
    ),
    string("syslog-ident", None, IMMUTABLE, "redis", None),
    string(
        "dbfilename",
        None,
        PROTECTED,
        "dump.rdb",
        Some(check_dbfilename),
    )
    .honoured(),
    string(
        "appendfilename",
        None,
        IMMUTABLE,
        "appendonly.aof",
        Some(check_appendfilename),
    )
    .honoured(),
    string(
        "appenddirname",
        None,
        IMMUTABLE,
        "appendonlydir",
        Some(check_appenddirname),
    )
    .honoured(),
    nullable("server_cpulist", None, IMMUTABLE),
    nullable("bio_cpulist", None, IMMUTABLE),
    nullable("aof_rewrite_cpulist", None, IMMUTABLE),
    nullable("bgsave_cpulist", None, IMMUTABLE),
    string("ignore-warnings", None, NO, "", None),
    string(
        "proc-title-template",
        None,
        NO,
        "{title} {listen-addr} {server-mode}",
        Some(check_proc_title_template),
    ),
    nullable("bind-source-addr", None, NO),
    string("logfile", None, IMMUTABLE, "", None).honoured(),
    nullable("masterauth", None, SENSITIVE).honoured(),
    nullable("requirepass", None, SENSITIVE).honoured(),
    // Enums.
    enumeration("supervised", IMMUTABLE, SUPERVISED, "no"),
    enumeration("syslog-facility", IMMUTABLE, SYSLOG_FACILITY, "local0"),
    enumeration(
        "repl-diskless-load",
        DEBUG | DENY_LOADING,
        REPL_DISKLESS_LOAD,
        "disabled",
    ),
    enumeration("loglevel", NO, LOGLEVEL, "notice").honoured(),
    enumeration("maxmemory-policy", NO, MAXMEMORY_POLICY, "noeviction"),
    enumeration("appendfsync", NO, APPENDFSYNC, "everysec").honoured(),
    enumeration("oom-score-adj", NO, OOM_SCORE_ADJ, "no"),
    enumeration(
        "acl-pubsub-default",
        NO,
        ACL_PUBSUB_DEFAULT,
        "resetchannels",
    ),
    enumeration("sanitize-dump-payload", DEBUG, SANITIZE_DUMP_PAYLOAD, "no"),
    enumeration(
        "enable-protected-configs",
        IMMUTABLE,
        PROTECTED_ACTION,
        "no",
    ),
    enumeration("enable-debug-command", IMMUTABLE, PROTECTED_ACTION, "no").honoured(),
    enumeration("enable-module-command", IMMUTABLE, PROTECTED_ACTION, "no"),
    enumeration("cluster-preferred-endpoint-type", NO, ENDPOINT_TYPE, "ip"),
    enumeration(
        "propagation-error-behavior",
        NO,
        PROPAGATION_ERROR,
        "ignore",
    ),
    enumeration("shutdown-on-sigint", MULTI_ARG, SHUTDOWN_ON_SIG, "default"),
    enumeration("shutdown-on-sigterm", MULTI_ARG, SHUTDOWN_ON_SIG, "default"),
    // Integers (int).
    int("databases", None, IMMUTABLE, 1, INT_MAX, "16").honoured(),
    // Mutable in Redis 7.0: CONFIG SET port makes the server re-listen.
    int("port", None, NO, 0, 65535, "6379").honoured(),
    int("io-threads", None, DEBUG | IMMUTABLE, 1, 128, "1"),
    int("auto-aof-rewrite-percentage", None, NO, 0, INT_MAX, "100").honoured(),
    int(
        "cluster-replica-validity-factor",
        Some("cluster-slave-validity-factor"),
        NO,
        0,
        INT_MAX,
        "10",
    ),
    int(
        "list-max-listpack-size",
        Some("list-max-ziplist-size"),
        NO,
        INT_MIN,
        INT_MAX,
        "-2",
    ),
    int("tcp-keepalive", None, NO, 0, INT_MAX, "300"),
    int("cluster-migration-barrier", None, NO, 0, INT_MAX, "1"),
    int("active-defrag-cycle-min", None, NO, 1, 99, "1"),
    int("active-defrag-cycle-max", None, NO, 1, 99, "25"),
    int("active-defrag-threshold-lower", None, NO, 0, 1000, "10"),
    int("active-defrag-threshold-upper", None, NO, 0, 1000, "100"),
    int("lfu-log-factor", None, NO, 0, INT_MAX, "10"),
    int("lfu-decay-time", None, NO, 0, INT_MAX, "1"),
    int(
        "replica-priority",
        Some("slave-priority"),
        NO,
        0,
        INT_MAX,
        "100",
    ),
    int("repl-diskless-sync-delay", None, NO, 0, INT_MAX, "5").honoured(),
    int("maxmemory-samples", None, NO, 1, INT_MAX, "5"),
    int("maxmemory-eviction-tenacity", None, NO, 0, 100, "10"),
    int("timeout", None, NO, 0, INT_MAX, "0").honoured(),
    int(
        "replica-announce-port",
        Some("slave-announce-port"),
        NO,
        0,
        65535,
        "0",
    )
    .honoured(),
    int("tcp-backlog", None, IMMUTABLE, 0, INT_MAX, "511").honoured(),
    int("cluster-port", None, IMMUTABLE, 0, 65535, "0"),
    int("cluster-announce-bus-port", None, NO, 0, 65535, "0"),
    int("cluster-announce-port", None, NO, 0, 65535, "0"),
    int("cluster-announce-tls-port", None, NO, 0, 65535, "0"),
    int("repl-timeout", None, NO, 1, INT_MAX, "60").honoured(),
    int(
        "repl-ping-replica-period",
        Some("repl-ping-slave-period"),
        NO,
        1,
        INT_MAX,
        "10",
    )
    .honoured(),
    int("list-compress-depth", None, DEBUG, 0, INT_MAX, "0"),
    int("rdb-key-save-delay", None, HIDDEN, INT_MIN, INT_MAX, "0").honoured(),
    int("key-load-delay", None, HIDDEN, INT_MIN, INT_MAX, "0"),
    int("active-expire-effort", None, NO, 1, 10, "1"),
    // Any value is accepted, then clamped to 1..=500 (Redis `updateHZ`).
    int("hz", None, NO, 0, INT_MAX, "10").honoured(),
    int(
        "min-replicas-to-write",
        Some("min-slaves-to-write"),
        NO,
        0,
        INT_MAX,
        "0",
    )
    .honoured(),
    int(
        "min-replicas-max-lag",
        Some("min-slaves-max-lag"),
        NO,
        0,
        INT_MAX,
        "10",
    )
    .honoured(),
    int("watchdog-period", None, HIDDEN, 0, INT_MAX, "0"),
    int("shutdown-timeout", None, NO, 0, INT_MAX, "10"),
    int("repl-diskless-sync-max-replicas", None, NO, 0, INT_MAX, "0").honoured(),
    // Integers (unsigned int, unsigned long).
    int("maxclients", None, NO, 1, UINT_MAX, "10000").honoured(),
    entry(
        "unixsocketperm",
        None,
        IMMUTABLE,
        Kind::Octal { max: 0o777 },
        "0",
    ),
    int("socket-mark-id", None, IMMUTABLE, 0, UINT_MAX, "0"),
    int(
        "active-defrag-max-scan-fields",
        None,
        NO,
        1,
        LONG_MAX,
        "1000",
    ),
    int("slowlog-max-len", None, NO, 0, LONG_MAX, "128").honoured(),
    int("acllog-max-len", None, NO, 0, LONG_MAX, "128"),
    // Integers (long long) and memory sizes.
    int(
        "busy-reply-threshold",
        Some("lua-time-limit"),
        NO,
        0,
        LONG_MAX,
        "5000",
    ),
    int("cluster-node-timeout", None, NO, 0, LONG_MAX, "15000"),
    int("slowlog-log-slower-than", None, NO, -1, LONG_MAX, "10000").honoured(),
    int("latency-monitor-threshold", None, NO, 0, LONG_MAX, "0"),
    memory(
        "proto-max-bulk-len",
        None,
        DEBUG,
        1024 * 1024,
        LONG_MAX as u64,
        "536870912",
    )
    .honoured(),
    int("stream-node-max-entries", None, NO, 0, LONG_MAX, "100"),
    memory("repl-backlog-size", None, NO, 1, LONG_MAX as u64, "1048576").honoured(),
    memory("maxmemory", None, NO, 0, u64::MAX, "0"),
    memory("cluster-link-sendbuf-limit", None, NO, 0, u64::MAX, "0"),
    int(
        "hash-max-listpack-entries",
        Some("hash-max-ziplist-entries"),
        NO,
        0,
        LONG_MAX,
        "512",
    )
    .honoured(),
    int("set-max-intset-entries", None, NO, 0, LONG_MAX, "512").honoured(),
    int(
        "zset-max-listpack-entries",
        Some("zset-max-ziplist-entries"),
        NO,
        0,
        LONG_MAX,
        "128",
    )
    .honoured(),
    memory(
        "active-defrag-ignore-bytes",
        None,
        NO,
        1,
        LONG_MAX as u64,
        "104857600",
    ),
    memory(
        "hash-max-listpack-value",
        Some("hash-max-ziplist-value"),
        NO,
        0,
        LONG_MAX as u64,
        "64",
    )
    .honoured(),
    memory(
        "stream-node-max-bytes",
        None,
        NO,
        0,
        LONG_MAX as u64,
        "4096",
    ),
    memory(
        "zset-max-listpack-value",
        Some("zset-max-ziplist-value"),
        NO,
        0,
        LONG_MAX as u64,
        "64",
    )
    .honoured(),
    memory("hll-sparse-max-bytes", None, NO, 0, LONG_MAX as u64, "3000"),
    int("tracking-table-max-keys", None, NO, 0, LONG_MAX, "1000000"),
    memory(
        "client-query-buffer-limit",
        None,
        DEBUG,
        1024 * 1024,
        LONG_MAX as u64,
        "1073741824",
    )
    .honoured(),
    entry(
        "maxmemory-clients",
        None,
        NO,
        Kind::MemoryOrPercent {
            max: LONG_MAX as u64,
            max_percent: 100,
        },
        "0",
    ),
    int("repl-backlog-ttl", None, NO, 0, LONG_MAX, "3600").honoured(),
    memory(
        "auto-aof-rewrite-min-size",
        None,
        NO,
        0,
        LONG_MAX as u64,
        "67108864",
    )
    .honoured(),
    int(
        "loading-process-events-interval-bytes",
        None,
        HIDDEN,
        1024,
        INT_MAX,
        "2097152",
    ),
    // TLS (present in Redis builds with BUILD_TLS=yes).
    int("tls-port", None, NO, 0, 65535, "0"),
    int("tls-session-cache-size", None, NO, 0, INT_MAX, "20480"),
    int("tls-session-cache-timeout", None, NO, 0, INT_MAX, "300"),
    boolean("tls-cluster", None, NO, false),
    boolean("tls-replication", None, NO, false),
    enumeration("tls-auth-clients", NO, TLS_AUTH_CLIENTS, "yes"),
    boolean("tls-prefer-server-ciphers", None, NO, false),
    boolean("tls-session-caching", None, NO, true),
    nullable("tls-cert-file", None, NO),
    nullable("tls-key-file", None, NO),
    nullable("tls-key-file-pass", None, NO),
    nullable("tls-client-cert-file", None, NO),
    nullable("tls-client-key-file", None, NO),
    nullable("tls-client-key-file-pass", None, NO),
    nullable("tls-dh-params-file", None, NO),
    nullable("tls-ca-cert-file", None, NO),
    nullable("tls-ca-cert-dir", None, NO),
    nullable("tls-protocols", None, NO),
    nullable("tls-ciphers", None, NO),
    nullable("tls-ciphersuites", None, NO),
    // Special.
    special("dir", None, PROTECTED | DENY_LOADING, Special::Dir, "").honoured(),
    special(
        "save",
        None,
        MULTI_ARG,
        Special::Save,
        "3600 1 300 100 60 10000",
    )
    .honoured(),
    special(
        "client-output-buffer-limit",
        None,
        MULTI_ARG,
        Special::ClientOutputBufferLimit,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
    ),
    special(
        "oom-score-adj-values",
        None,
        MULTI_ARG,
        Special::OomScoreAdjValues,
        "0 200 800",
    ),
    special(
        "notify-keyspace-events",
        None,
        NO,
        Special::NotifyKeyspaceEvents,
        "",
    ),
    // COMPAT: Redis 7.0 defaults to "* -::*" (all interfaces); tessera
    // listens on loopback only unless told otherwise.
    special("bind", None, MULTI_ARG, Special::Bind, "127.0.0.1 -::1").honoured(),
    special(
        "replicaof",
        Some("slaveof"),
        IMMUTABLE | MULTI_ARG,
        Special::ReplicaOf,
        "",
    )
    .honoured(),
    special(
        "latency-tracking-info-percentiles",
        None,
        MULTI_ARG,
        Special::LatencyTrackingInfoPercentiles,
        "50 99 99.9",
    ),
    // Tessera's own: number of shard executors, 0 = one per CPU the
    // process may use.
    int("shards", None, IMMUTABLE, 0, 1024, "0").honoured(),
    // File-only directives: not values, never seen by CONFIG GET/SET.
    special("include", None, FILE_ONLY, Special::Include, "").honoured(),
    special(
        "rename-command",
        None,
        FILE_ONLY,
        Special::RenameCommand,
        "",
    ),
    special("user", None, FILE_ONLY, Special::User, ""),
    special("loadmodule", None, FILE_ONLY, Special::LoadModule, ""),
    special("sentinel", None, FILE_ONLY, Special::Sentinel, ""),
];

/// Index in [`DIRECTIVES`] of the directive called `name` (canonical or
/// alias, ASCII case-insensitive), and whether `name` was the alias.
pub fn lookup(name: &[u8]) -> Option<(usize, bool)> {
    DIRECTIVES.iter().enumerate().find_map(|(i, d)| {
        if d.name.as_bytes().eq_ignore_ascii_case(name) {
            Some((i, false))
        } else if d
            .alias
            .is_some_and(|a| a.as_bytes().eq_ignore_ascii_case(name))
        {
            Some((i, true))
        } else {
            None
        }
    })
}

/// Redis `pathIsBaseName`: no `/` and no `\`.
fn is_base_name(v: &str) -> bool {
    !v.contains('/') && !v.contains('\\')
}

fn check_dbfilename(v: &str) -> Result<(), &'static str> {
    if is_base_name(v) {
        Ok(())
    } else {
        Err("dbfilename can't be a path, just a filename")
    }
}

fn check_appendfilename(v: &str) -> Result<(), &'static str> {
    if v.is_empty() {
        Err("appendfilename can't be empty")
    } else if !is_base_name(v) {
        Err("appendfilename can't be a path, just a filename")
    } else {
        Ok(())
    }
}

fn check_appenddirname(v: &str) -> Result<(), &'static str> {
    if v.is_empty() {
        Err("appenddirname can't be empty")
    } else if !is_base_name(v) {
        Err("appenddirname can't be a path, just a dirname")
    } else {
        Ok(())
    }
}

/// Matches Redis `isValidAnnouncedHostname` (NET_HOST_STR_LEN is 256).
fn check_hostname(v: &str) -> Result<(), &'static str> {
    if v.len() >= 256 {
        return Err("Hostnames must be less than 256 characters");
    }
    if v.bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
    {
        Ok(())
    } else {
        Err("Hostnames may only contain alphanumeric characters, hyphens or dots")
    }
}

/// Matches Redis `validateProcTitleTemplate`: only known `{variables}`,
/// `{{` for a literal brace, and a non-blank expansion. Redis expands with
/// the live server state; here variables that are never empty in practice
/// stand in as "x".
fn check_proc_title_template(v: &str) -> Result<(), &'static str> {
    const ERR: &str = "template format is invalid or contains unknown variables";
    let mut expanded = String::new();
    let mut rest = v;
    while let Some(open) = rest.find('{') {
        expanded.push_str(rest.get(..open).unwrap_or(""));
        let after = rest.get(open + 1..).unwrap_or("");
        if after.is_empty() {
            return Err(ERR);
        }
        if let Some(tail) = after.strip_prefix('{') {
            expanded.push('{');
            rest = tail;
            continue;
        }
        let close = after.find('}').ok_or(ERR)?;
        let var = after.get(..close).unwrap_or("");
        match var {
            "title" | "server-mode" | "unixsocket" => {}
            "listen-addr" | "config-file" | "port" | "tls-port" => expanded.push('x'),
            _ => return Err(ERR),
        }
        rest = after.get(close + 1..).unwrap_or("");
    }
    expanded.push_str(rest);
    if expanded.trim_matches(' ').is_empty() {
        Err(ERR)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_lower_case() {
        let mut seen = std::collections::HashSet::new();
        for d in DIRECTIVES {
            for n in std::iter::once(d.name).chain(d.alias) {
                assert_eq!(n, n.to_ascii_lowercase(), "{n}");
                assert!(seen.insert(n), "duplicate {n}");
            }
        }
    }

    #[test]
    fn covers_redis_table() {
        // 178 entries in Redis 7.0 `static_configs` (TLS included), plus
        // `shards` and the 5 file-only directives.
        assert_eq!(DIRECTIVES.len(), 178 + 1 + 5);
        let aliases = DIRECTIVES.iter().filter(|d| d.alias.is_some()).count();
        assert_eq!(aliases, 19);
    }

    #[test]
    fn lookup_by_alias_and_case() {
        let (i, alias) = lookup(b"SlaveOf").unwrap();
        assert!(alias);
        assert_eq!(DIRECTIVES[i].name, "replicaof");
        assert!(lookup(b"no-such-thing").is_none());
    }

    #[test]
    fn string_checks() {
        assert!(check_dbfilename("dump.rdb").is_ok());
        assert_eq!(
            check_dbfilename("a/b.rdb"),
            Err("dbfilename can't be a path, just a filename")
        );
        assert_eq!(check_appenddirname(""), Err("appenddirname can't be empty"));
        assert!(check_hostname("my-host.example").is_ok());
        assert!(check_hostname("bad_host").is_err());
        assert!(check_proc_title_template("{title} {listen-addr} {server-mode}").is_ok());
        assert!(check_proc_title_template("{title}").is_err());
        assert!(check_proc_title_template("{nope}").is_err());
        assert!(check_proc_title_template("x {{").is_ok());
        assert!(check_proc_title_template("x {").is_err());
    }
}

//! Tessera's configuration: every Redis 7.0 directive plus tessera's own,
//! loaded from redis.conf and the command line like `redis-server`, and
//! served to CONFIG GET / SET / REWRITE.
//!
//! Owned by: the control executor. It holds the one live [`Config`];
//! CONFIG SET and REWRITE run there. Shards never see this type: they
//! receive copies of the values they use (port, databases, limits, ...)
//! at boot and, for mutable ones, in a message after a CONFIG SET changed
//! them (the names returned by [`Config::set`]).
//!
//! Layout: `table.rs` is the list of directives (names, kinds, defaults,
//! flags), `parse.rs` reads files and argv, `value.rs` checks values and
//! renders their canonical text, `rewrite.rs` writes CONFIG
//! REWRITE, and this file holds the values and the public API.

mod parse;
mod rewrite;
pub mod table;
mod value;

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use bytes::Bytes;

pub use parse::{ConfigError, ConfigSource};
pub use table::{Directive, Kind, Special, DIRECTIVES};

use table::{FILE_ONLY, HIDDEN, IMMUTABLE, MULTI_ARG, PROTECTED};

/// Where a value being applied comes from. Only `save` cares: lines in a
/// config file accumulate (the first one replaces the defaults), while
/// CONFIG SET replaces the whole list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    File,
    Set,
}

/// The current value of every directive, in CONFIG GET form, plus the
/// file-only directives.
///
/// Owned by: the control executor.
#[derive(Clone, Debug)]
pub struct Config {
    /// Parallel to [`DIRECTIVES`]; canonical CONFIG GET text.
    values: Vec<String>,
    /// Absolute path of the config file, if started with one.
    config_file: Option<PathBuf>,
    /// Started as Sentinel (`--sentinel`): `sentinel` lines are accepted.
    sentinel_mode: bool,
    /// A `save` line was already read from a file (Redis `save_loaded`).
    save_loaded: bool,
    rename_commands: Vec<(String, String)>,
    users: Vec<Vec<String>>,
    loadmodules: Vec<Vec<String>>,
    /// `module.name value` lines, lower-case name, last one wins.
    module_configs: Vec<(String, String)>,
    sentinel_lines: Vec<Vec<String>>,
}

impl Default for Config {
    /// The embedded defaults; `dir` is the current working directory.
    fn default() -> Self {
        let mut values: Vec<String> = DIRECTIVES.iter().map(|d| d.default.to_string()).collect();
        if let Some((idx, _)) = table::lookup(b"dir") {
            let cwd = std::env::current_dir().unwrap_or_default();
            if let Some(v) = values.get_mut(idx) {
                *v = cwd.to_string_lossy().into_owned();
            }
        }
        Config {
            values,
            config_file: None,
            sentinel_mode: false,
            save_loaded: false,
            rename_commands: Vec::new(),
            users: Vec::new(),
            loadmodules: Vec::new(),
            module_configs: Vec::new(),
            sentinel_lines: Vec::new(),
        }
    }
}

impl Config {
    /// Loads the configuration from the arguments after argv[0], as
    /// `redis-server [/path/to/redis.conf] [-] [--name value ...]`: file,
    /// then standard input (`-`), then the options, later lines winning.
    /// `--sentinel` anywhere selects Sentinel mode. `--version`, `--help`,
    /// `--test-memory` are main()'s business and are not handled here.
    pub fn load(args: &[String]) -> Result<Config, ConfigError> {
        let mut cfg = Config {
            sentinel_mode: args.iter().any(|a| a == "--sentinel"),
            ..Config::default()
        };
        let cwd = std::env::current_dir().unwrap_or_default();
        parse::load_argv(&mut cfg, args, &cwd)?;
        cfg.finish_load()?;
        Ok(cfg)
    }

    /// Checks Redis makes once every line is read.
    fn finish_load(&self) -> Result<(), ConfigError> {
        let logfile = self.logfile();
        if !logfile.is_empty() {
            // Redis opens the log file here so it can fail early.
            let path = Path::new(self.dir()).join(logfile);
            let opened = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(path);
            if let Err(e) = opened {
                let msg = format!("Can't open the log file: {}", parse::strerror(&e));
                return Err(ConfigError::general(msg));
            }
        }
        if self.bool("cluster-enabled") == Some(true) && !self.text("replicaof").is_empty() {
            let msg = "replicaof directive not allowed in cluster mode";
            return Err(ConfigError::general(msg.into()));
        }
        if !self.module_configs.is_empty() && self.loadmodules.is_empty() {
            let msg = "Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting";
            return Err(ConfigError::general(msg.into()));
        }
        Ok(())
    }

    /// Absolute path of the config file; `None` when started without one.
    pub fn config_file(&self) -> Option<&Path> {
        self.config_file.as_deref()
    }

    /// Whether `--sentinel` was given.
    pub fn sentinel_mode(&self) -> bool {
        self.sentinel_mode
    }

    /// CONFIG GET with one or more glob patterns, as Redis 7.0
    /// `configGetCommand`: a pattern without `*?[` is an exact,
    /// case-insensitive lookup that also finds aliases and hidden
    /// directives and is answered under the name as given; a glob matches
    /// canonical names and aliases (not hidden ones). No name twice.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        for pattern in patterns {
            if !pattern.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
                let key = String::from_utf8_lossy(pattern).into_owned();
                if seen.contains(&key.to_ascii_lowercase()) {
                    continue;
                }
                if let Some(idx) = Self::settable(pattern).map(|(i, _)| i) {
                    seen.insert(key.to_ascii_lowercase());
                    out.push((key, self.value_at(idx).to_string()));
                }
                continue;
            }
            for (idx, d) in DIRECTIVES.iter().enumerate() {
                if d.has(HIDDEN) || d.has(FILE_ONLY) {
                    continue;
                }
                for name in std::iter::once(d.name).chain(d.alias) {
                    if !seen.contains(name)
                        && crate::util::glob::glob_match(pattern, name.as_bytes(), true)
                    {
                        seen.insert(name.to_string());
                        out.push((name.to_string(), self.value_at(idx).to_string()));
                    }
                }
            }
        }
        out
    }

    /// CONFIG SET from a client that is not local (see
    /// [`Config::set_with_origin`]).
    pub fn set(&mut self, pairs: &[(Bytes, Bytes)]) -> Result<Vec<&'static str>, String> {
        self.set_with_origin(pairs, false)
    }

    /// CONFIG SET name value [name value ...], all or nothing, as Redis
    /// 7.0 `configSetCommand`. `client_is_local` matters only with
    /// `enable-protected-configs local` (for `dir`, `dbfilename`).
    /// Returns the canonical names whose value changed, so the server can
    /// apply them (re-listen, resize, tell the shards). If applying fails,
    /// the server restores a clone taken before the call and answers
    /// Redis's apply error itself (e.g. "Unable to listen on this port").
    pub fn set_with_origin(
        &mut self,
        pairs: &[(Bytes, Bytes)],
        client_is_local: bool,
    ) -> Result<Vec<&'static str>, String> {
        let protected_ok = match self.text("enable-protected-configs") {
            "yes" => true,
            "local" => client_is_local,
            _ => false,
        };
        let targets = Self::set_targets(pairs, protected_ok)?;
        // Second pass: apply to a copy, commit only if every value is good.
        let mut next = self.clone();
        for (&(idx, alias), (_, value)) in targets.iter().zip(pairs) {
            let Some(d) = DIRECTIVES.get(idx) else {
                continue;
            };
            let registered = if alias {
                d.alias.unwrap_or(d.name)
            } else {
                d.name
            };
            let value = std::str::from_utf8(value)
                .map_err(|_| set_failed(registered, "argument must be valid UTF-8 text"))?;
            let args: Vec<String> = if d.has(MULTI_ARG) {
                value::split_spaces(value)
            } else {
                vec![value.to_string()]
            };
            next.apply(idx, &args, Origin::Set)
                .map_err(|e| set_failed(registered, &e))?;
        }
        let mut changed: Vec<&'static str> = Vec::new();
        for &(idx, _) in &targets {
            let Some(d) = DIRECTIVES.get(idx) else {
                continue;
            };
            if next.value_at(idx) != self.value_at(idx) && !changed.contains(&d.name) {
                changed.push(d.name);
            }
        }
        *self = next;
        Ok(changed)
    }

    /// CONFIG SET's first pass, over names only: each pair's directive
    /// index and whether it was named by its alias. The first problem is
    /// the error, as in Redis.
    fn set_targets(
        pairs: &[(Bytes, Bytes)],
        protected_ok: bool,
    ) -> Result<Vec<(usize, bool)>, String> {
        let mut targets: Vec<(usize, bool)> = Vec::with_capacity(pairs.len());
        let mut error: Option<String> = None;
        for (name, _) in pairs {
            let shown = String::from_utf8_lossy(name);
            let Some((idx, alias)) = Self::settable(name) else {
                if error.is_none() {
                    error = Some(format!(
                        "ERR Unknown option or number of arguments for CONFIG SET - '{shown}'"
                    ));
                }
                continue;
            };
            if error.is_some() {
                continue;
            }
            let Some(d) = DIRECTIVES.get(idx) else {
                continue;
            };
            let why = if d.has(IMMUTABLE) {
                Some("can't set immutable config")
            } else if d.has(PROTECTED) && !protected_ok {
                Some("can't set protected config")
            } else if targets.contains(&(idx, alias)) {
                Some("duplicate parameter")
            } else {
                None
            };
            if let Some(why) = why {
                error = Some(set_failed(&shown, why));
            }
            targets.push((idx, alias));
        }
        match error {
            Some(e) => Err(e),
            None => Ok(targets),
        }
    }

    /// Sets a directive bypassing the immutable/protected rules, for
    /// commands that own one (REPLICAOF → `replicaof`). `args` as they
    /// would follow the name on a config line.
    pub fn set_internal(&mut self, name: &str, args: &[&str]) -> Result<(), String> {
        let (idx, _) =
            Self::settable(name.as_bytes()).ok_or_else(|| format!("unknown directive '{name}'"))?;
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        self.apply(idx, &args, Origin::Set).map_err(Cow::into_owned)
    }

    /// CONFIG REWRITE (see `rewrite.rs`).
    pub fn rewrite(&self) -> Result<(), String> {
        rewrite::rewrite(self)
    }

    /// Directives set to a non-default value that tessera does not
    /// honour (`effective: false`), so the server can warn once for each;
    /// file-only ones are listed when present at all.
    pub fn ignored_in_use(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for (idx, d) in DIRECTIVES.iter().enumerate() {
            if d.effective {
                continue;
            }
            let in_use = match d.kind {
                Kind::Special(Special::RenameCommand) => !self.rename_commands.is_empty(),
                Kind::Special(Special::User) => !self.users.is_empty(),
                Kind::Special(Special::LoadModule) => !self.loadmodules.is_empty(),
                Kind::Special(Special::Sentinel) => !self.sentinel_lines.is_empty(),
                _ if d.has(FILE_ONLY) => false,
                _ => self.value_at(idx) != d.default,
            };
            if in_use {
                out.push(d.name);
            }
        }
        out
    }

    // ---- Generic accessors ----

    /// The CONFIG GET text of a directive (canonical name or alias).
    pub fn value(&self, name: &str) -> Option<&str> {
        Self::settable(name.as_bytes()).map(|(idx, _)| self.value_at(idx))
    }

    /// A boolean directive's value.
    pub fn bool(&self, name: &str) -> Option<bool> {
        let (idx, _) = Self::settable(name.as_bytes())?;
        match DIRECTIVES.get(idx)?.kind {
            Kind::Bool => Some(self.value_at(idx) == "yes"),
            _ => None,
        }
    }

    /// A numeric directive's value (integer, memory, octal; a percentage
    /// of `maxmemory-clients` is negative, as Redis stores it). `None` for
    /// other kinds or a memory value above `i64::MAX`.
    pub fn int(&self, name: &str) -> Option<i64> {
        let (idx, _) = Self::settable(name.as_bytes())?;
        let text = self.value_at(idx);
        match DIRECTIVES.get(idx)?.kind {
            Kind::Int { .. } | Kind::Memory { .. } => text.parse().ok(),
            Kind::Octal { .. } => i64::from_str_radix(text, 8).ok(),
            Kind::MemoryOrPercent { .. } => match text.strip_suffix('%') {
                Some(p) => p.parse::<i64>().ok().and_then(i64::checked_neg),
                None => text.parse().ok(),
            },
            _ => None,
        }
    }

    // ---- Typed getters for what tessera honours ----

    pub fn port(&self) -> u16 {
        self.text("port").parse().unwrap_or(6379)
    }

    /// Listen addresses; a `-` prefix marks an optional one (Redis 7).
    pub fn bind(&self) -> Vec<String> {
        self.text("bind")
            .split(' ')
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect()
    }

    pub fn databases(&self) -> usize {
        self.text("databases").parse().unwrap_or(16)
    }

    /// Number of shards; 0 means one per CPU the process may use.
    pub fn shards(&self) -> usize {
        self.text("shards").parse().unwrap_or(0)
    }

    pub fn maxclients(&self) -> usize {
        self.text("maxclients").parse().unwrap_or(10000)
    }

    pub fn proto_max_bulk_len(&self) -> u64 {
        self.text("proto-max-bulk-len")
            .parse()
            .unwrap_or(512 * 1024 * 1024)
    }

    pub fn client_query_buffer_limit(&self) -> u64 {
        self.text("client-query-buffer-limit")
            .parse()
            .unwrap_or(1 << 30)
    }

    /// `debug`, `verbose`, `notice` or `warning`.
    pub fn loglevel(&self) -> &str {
        self.text("loglevel")
    }

    /// Empty: log to standard output.
    pub fn logfile(&self) -> &str {
        self.text("logfile")
    }

    /// Absolute working directory; the server chdirs there.
    pub fn dir(&self) -> &str {
        self.text("dir")
    }

    /// Already clamped to 1..=500.
    pub fn hz(&self) -> u32 {
        self.text("hz").parse().unwrap_or(10)
    }

    /// `no`, `yes` or `local`.
    pub fn enable_debug_command(&self) -> &str {
        self.text("enable-debug-command")
    }

    /// `None` when no password is required.
    pub fn requirepass(&self) -> Option<&str> {
        Some(self.text("requirepass")).filter(|p| !p.is_empty())
    }

    /// Client idle timeout in seconds; 0 = never.
    pub fn timeout(&self) -> u64 {
        self.text("timeout").parse().unwrap_or(0)
    }

    pub fn tcp_backlog(&self) -> u32 {
        self.text("tcp-backlog").parse().unwrap_or(511)
    }

    /// Empty: no pid file.
    pub fn pidfile(&self) -> &str {
        self.text("pidfile")
    }

    pub fn maxmemory(&self) -> u64 {
        self.text("maxmemory").parse().unwrap_or(0)
    }

    /// `(seconds, changes)` snapshot points; empty when saving is off.
    pub fn save_params(&self) -> Vec<(i64, i64)> {
        let nums: Vec<i64> = self
            .text("save")
            .split(' ')
            .filter_map(|n| n.parse().ok())
            .collect();
        nums.chunks_exact(2)
            .filter_map(|p| match p {
                [s, c] => Some((*s, *c)),
                _ => None,
            })
            .collect()
    }

    /// `rename-command` lines, in order; the command table applies them.
    pub fn rename_commands(&self) -> &[(String, String)] {
        &self.rename_commands
    }

    /// `user` lines (arguments after `user`), for the ACL module.
    pub fn users(&self) -> &[Vec<String>] {
        &self.users
    }

    /// `loadmodule` lines (path, then arguments).
    pub fn loadmodules(&self) -> &[Vec<String>] {
        &self.loadmodules
    }

    /// `sentinel ...` lines (arguments after `sentinel`), Sentinel mode.
    pub fn sentinel_lines(&self) -> &[Vec<String>] {
        &self.sentinel_lines
    }

    // ---- Internals ----

    /// Index of a directive CONFIG GET/SET know (not file-only).
    fn settable(name: &[u8]) -> Option<(usize, bool)> {
        table::lookup(name).filter(|&(i, _)| DIRECTIVES.get(i).is_some_and(|d| !d.has(FILE_ONLY)))
    }

    fn value_at(&self, idx: usize) -> &str {
        self.values.get(idx).map_or("", String::as_str)
    }

    /// `replicaof <host> <port>`, if set (not `no one`).
    pub fn replicaof(&self) -> Option<(String, u16)> {
        let v = self.text("replicaof");
        let mut it = v.split_whitespace();
        let host = it.next()?;
        let port = it.next()?.parse().ok()?;
        if host.eq_ignore_ascii_case("no") {
            return None;
        }
        Some((host.to_string(), port))
    }

    /// Value of a directive known to exist in the table.
    fn text(&self, name: &str) -> &str {
        self.value(name).unwrap_or("")
    }
}

fn set_failed(name: &str, why: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(kv: &[(&str, &str)]) -> Vec<(Bytes, Bytes)> {
        kv.iter()
            .map(|(k, v)| (Bytes::from(k.to_string()), Bytes::from(v.to_string())))
            .collect()
    }

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn get1(cfg: &Config, name: &str) -> String {
        cfg.value(name).unwrap().to_string()
    }

    fn set_err(kv: &[(&str, &str)]) -> String {
        Config::default().set(&pairs(kv)).unwrap_err()
    }

    /// Loads `text` as a config file in a fresh temp dir, plus `extra` args.
    fn load_text(text: &str, extra: &[&str]) -> (tempfile::TempDir, Result<Config, ConfigError>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("redis.conf");
        std::fs::write(&path, text).unwrap();
        let mut a = vec![path.to_string_lossy().into_owned()];
        a.extend(args(extra));
        let cfg = Config::load(&a);
        (dir, cfg)
    }

    #[test]
    fn defaults_as_config_get_shows_them() {
        let cfg = Config::default();
        let expect = [
            ("port", "6379"),
            ("databases", "16"),
            ("shards", "0"),
            ("save", "3600 1 300 100 60 10000"),
            ("bind", "127.0.0.1 -::1"),
            ("maxmemory", "0"),
            ("proto-max-bulk-len", "536870912"),
            ("client-query-buffer-limit", "1073741824"),
            ("maxclients", "10000"),
            ("hz", "10"),
            ("loglevel", "notice"),
            ("logfile", ""),
            ("enable-debug-command", "no"),
            ("appendonly", "no"),
            ("appendfsync", "everysec"),
            ("unixsocketperm", "0"),
            ("maxmemory-clients", "0"),
            ("oom-score-adj-values", "0 200 800"),
            ("latency-tracking-info-percentiles", "50 99 99.9"),
            ("shutdown-on-sigint", "default"),
            ("acl-pubsub-default", "resetchannels"),
            ("proc-title-template", "{title} {listen-addr} {server-mode}"),
            (
                "client-output-buffer-limit",
                "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
            ),
        ];
        for (name, value) in expect {
            assert_eq!(get1(&cfg, name), value, "{name}");
        }
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(cfg.dir(), cwd.to_string_lossy());
        assert_eq!(cfg.port(), 6379);
        assert_eq!(cfg.bind(), ["127.0.0.1", "-::1"]);
        assert_eq!(cfg.requirepass(), None);
        assert_eq!(cfg.save_params(), [(3600, 1), (300, 100), (60, 10000)]);
        assert!(cfg.config_file().is_none());
        assert!(cfg.ignored_in_use().is_empty());
        // Every default passes its own check.
        for (idx, d) in DIRECTIVES.iter().enumerate() {
            // Specials with an empty default (replicaof) are never "set" to it.
            if d.has(FILE_ONLY) || d.name == "dir" || (d.has(MULTI_ARG) && d.default.is_empty()) {
                continue;
            }
            let mut c = Config::default();
            let a = if d.has(MULTI_ARG) {
                value::split_spaces(d.default)
            } else {
                vec![d.default.to_string()]
            };
            c.apply(idx, &a, Origin::Set).unwrap();
            assert_eq!(c.value_at(idx), d.default, "{}", d.name);
        }
    }

    #[test]
    fn loads_a_real_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let extra = dir.path().join("extra.conf");
        std::fs::write(&extra, "maxclients 50\n# included comment\nhz 20\n").unwrap();
        let text = format!(
            "# Redis configuration file example.\n\
             \n\
             ################################## NETWORK #####\n\
             bind 127.0.0.1 ::1\n\
             PORT 7001\n\
             \ttimeout 30   \r\n\
             save 900 1\n\
             save \"300 10\"\n\
             requirepass \"pa ss\\x21\"\n\
             masterauth 'it\\'s'\n\
             slave-read-only no\n\
             maxmemory 2GB\n\
             include {}\n\
             hz 15\n\
             client-output-buffer-limit replica 512mb 128mb 30\n\
             notify-keyspace-events Ex\n\
             list-max-ziplist-entries 512\n\
             rename-command FLUSHALL \"\"\n\
             user bob on >pw ~* +@all\n\
             appendonly yes\n",
            extra.display()
        );
        let path = dir.path().join("redis.conf");
        std::fs::write(&path, text).unwrap();
        let cfg = Config::load(&args(&[
            path.to_str().unwrap(),
            "--port",
            "7002",
            "--save",
            "60",
            "5",
        ]))
        .unwrap();
        assert_eq!(cfg.config_file(), Some(path.as_path()));
        assert_eq!(cfg.port(), 7002);
        assert_eq!(cfg.bind(), ["127.0.0.1", "::1"]);
        assert_eq!(cfg.timeout(), 30);
        // File `save` lines accumulate; argv lines are appended too.
        assert_eq!(get1(&cfg, "save"), "900 1 300 10 60 5");
        assert_eq!(cfg.requirepass(), Some("pa ss!"));
        assert_eq!(get1(&cfg, "masterauth"), "it's");
        assert_eq!(get1(&cfg, "replica-read-only"), "no");
        assert_eq!(cfg.maxmemory(), 2 << 30);
        assert_eq!(cfg.maxclients(), 50);
        assert_eq!(cfg.hz(), 15, "lines after the include win");
        assert_eq!(
            get1(&cfg, "client-output-buffer-limit"),
            "normal 0 0 0 slave 536870912 134217728 30 pubsub 33554432 8388608 60"
        );
        assert_eq!(get1(&cfg, "notify-keyspace-events"), "xE");
        assert_eq!(
            cfg.rename_commands(),
            [("FLUSHALL".to_string(), String::new())]
        );
        assert_eq!(cfg.users(), [args(&["bob", "on", ">pw", "~*", "+@all"])]);
        assert_eq!(cfg.bool("appendonly"), Some(true));
        assert_eq!(
            cfg.ignored_in_use(),
            [
                "maxmemory",
                "client-output-buffer-limit",
                "notify-keyspace-events",
                "rename-command",
                "user"
            ]
        );
    }

    #[test]
    fn argv_only() {
        let cfg = Config::load(&args(&[
            "--port",
            "7000",
            "--bind",
            "127.0.0.1",
            "::1",
            "--save",
            "--maxmemory",
            "1mb",
        ]))
        .unwrap();
        assert_eq!(cfg.port(), 7000);
        assert_eq!(cfg.bind(), ["127.0.0.1", "::1"]);
        assert_eq!(get1(&cfg, "save"), "");
        assert_eq!(cfg.maxmemory(), 1 << 20);
        let cfg = Config::load(&args(&["--save", "", "--shards", "4", "--save 30 2"])).unwrap();
        assert_eq!(get1(&cfg, "save"), "30 2");
        assert_eq!(cfg.shards(), 4);
        let (_d, r) = load_text("save 900 1\nsave 300 10\n", &["--save", ""]);
        assert_eq!(get1(&r.unwrap(), "save"), "");
        let (_d, r) = load_text("save 900 1\nsave \"\"\nsave 60 5\n", &[]);
        assert_eq!(get1(&r.unwrap(), "save"), "60 5");
        let (_d, r) = load_text("port 1\n", &[]);
        assert_eq!(get1(&r.unwrap(), "save"), "3600 1 300 100 60 10000");
        let cfg = Config::load(&args(&["--bind", "10.0.0.1 10.0.0.2"])).unwrap();
        assert_eq!(cfg.bind(), ["10.0.0.1", "10.0.0.2"]);
        let e = Config::load(&args(&["--no-such", "1"])).unwrap_err();
        assert_eq!(e.reason(), "Bad directive or wrong number of arguments");
        assert_eq!(e.source(), Some(&ConfigSource::CommandLine));
        assert_eq!(e.line(), Some(1));
        assert!(e.to_string().contains(">>> 'no-such \"1\"'"), "{e}");
    }

    #[test]
    fn unknown_directive_names_file_and_line() {
        let (dir, r) = load_text("port 1\n\n# c\nbogus-directive yes\n", &[]);
        let e = r.unwrap_err();
        let path = dir.path().join("redis.conf");
        assert_eq!(e.line(), Some(4));
        assert_eq!(e.source(), Some(&ConfigSource::File(path.clone())));
        assert_eq!(
            e.to_string(),
            format!(
                "\n*** FATAL CONFIG FILE ERROR (Redis 7.0) ***\n\
                 Reading the configuration file, at line 4 of {}\n\
                 >>> 'bogus-directive yes'\n\
                 Bad directive or wrong number of arguments",
                path.display()
            )
        );
        // Errors inside an included file name that file.
        let dir2 = tempfile::tempdir().unwrap();
        let inc = dir2.path().join("inc.conf");
        std::fs::write(&inc, "\nport 99999\n").unwrap();
        let (_d, r) = load_text(&format!("include {}\n", inc.display()), &[]);
        let e = r.unwrap_err();
        assert_eq!(e.source(), Some(&ConfigSource::File(inc)));
        assert_eq!(e.line(), Some(2));
        assert_eq!(e.reason(), "argument must be between 0 and 65535 inclusive");
    }

    #[test]
    fn file_errors_like_redis() {
        let cases = [
            ("port", "wrong number of arguments"),
            ("port 1 2", "wrong number of arguments"),
            ("port abc", "argument couldn't be parsed into an integer"),
            ("daemonize maybe", "argument must be 'yes' or 'no'"),
            ("maxmemory 1tb", "argument must be a memory value"),
            (
                "loglevel loud",
                "argument(s) must be one of the following: debug, verbose, notice, warning",
            ),
            ("save 900", "Invalid save parameters"),
            ("save 0 1", "Invalid save parameters"),
            (
                "requirepass \"open",
                "Unbalanced quotes in configuration line",
            ),
            ("include", "Bad directive or wrong number of arguments"),
            (
                "rename-command GET",
                "Bad directive or wrong number of arguments",
            ),
            ("mymodule.opt", "Module config specified without value"),
            (
                "sentinel monitor m 127.0.0.1 6379 2",
                "sentinel directive while not in sentinel mode",
            ),
            ("dir /no/such/dir/anywhere", "No such file or directory"),
            (
                "dbfilename a/b.rdb",
                "dbfilename can't be a path, just a filename",
            ),
            (
                "notify-keyspace-events Q",
                "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
            ),
            (
                "client-output-buffer-limit master 1 1 1",
                "Invalid client class specified in buffer limit configuration.",
            ),
            ("oom-score-adj-values 1 2", "wrong number of arguments"),
            ("replicaof host port", "Invalid master port"),
            (
                "shutdown-on-sigterm save nosave",
                "shutdown options SAVE and NOSAVE can't be used simultaneously",
            ),
        ];
        for (line, reason) in cases {
            let (_d, r) = load_text(line, &[]);
            let e = r.expect_err(line);
            assert_eq!(e.reason(), reason, "{line}");
            assert_eq!(e.line(), Some(1), "{line}");
        }
        let (_d, r) = load_text("cluster-enabled yes\nreplicaof 1.2.3.4 6379\n", &[]);
        assert_eq!(
            r.unwrap_err().reason(),
            "replicaof directive not allowed in cluster mode"
        );
        let (_d, r) = load_text("logfile /no/such/dir/x.log\n", &[]);
        assert_eq!(
            r.unwrap_err().reason(),
            "Can't open the log file: No such file or directory"
        );
        let e = Config::load(&args(&["/no/such/redis.conf"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Fatal error, can't open config file '/no/such/redis.conf': No such file or directory"
        );
    }

    #[test]
    fn include_glob_and_cycles() {
        let dir = tempfile::tempdir().unwrap();
        let confd = dir.path().join("conf.d");
        std::fs::create_dir(&confd).unwrap();
        std::fs::write(confd.join("b.conf"), "hz 30\n").unwrap();
        std::fs::write(confd.join("a.conf"), "hz 20\nmaxclients 7\n").unwrap();
        std::fs::write(confd.join(".hidden.conf"), "hz 99\n").unwrap();
        let (_d, r) = load_text(
            &format!(
                "include {}/*.conf\ninclude {}/none-*.conf\n",
                confd.display(),
                confd.display()
            ),
            &[],
        );
        let cfg = r.unwrap();
        assert_eq!(cfg.hz(), 30, "sorted: b.conf after a.conf, hidden skipped");
        assert_eq!(cfg.maxclients(), 7);
        // Relative includes follow `dir`, as Redis has chdir'ed by then.
        let (_d, r) = load_text(
            &format!("dir {}\ninclude conf.d/a.conf\n", dir.path().display()),
            &[],
        );
        assert_eq!(r.unwrap().maxclients(), 7);
        let looping = dir.path().join("loop.conf");
        std::fs::write(&looping, format!("include {}\n", looping.display())).unwrap();
        let e = Config::load(&args(&[looping.to_str().unwrap()])).unwrap_err();
        assert_eq!(e.reason(), "Too many nested include directives");
    }

    #[test]
    fn config_get_patterns_and_aliases() {
        let cfg = Config::default();
        let got = cfg.get(&[b"maxmemory*"]);
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "maxmemory-policy",
                "maxmemory-samples",
                "maxmemory-eviction-tenacity",
                "maxmemory",
                "maxmemory-clients"
            ]
        );
        // Globs see aliases too, and ignore case.
        let got = cfg.get(&[b"*SLAVE-READ*"]);
        assert_eq!(got, [("slave-read-only".to_string(), "yes".to_string())]);
        let got = cfg.get(&[b"replica-read-only", b"slave-read-only"]);
        assert_eq!(got.len(), 2);
        // An exact name is answered under the name as given, once.
        let got = cfg.get(&[b"PORT", b"port", b"p?rt"]);
        assert_eq!(got, [("PORT".to_string(), "6379".to_string())]);
        // Hidden ones only by exact name; file-only ones never.
        assert!(cfg.get(&[b"watchdog*"]).is_empty());
        assert_eq!(cfg.get(&[b"watchdog-period"]).len(), 1);
        assert!(cfg.get(&[b"include"]).is_empty());
        assert!(cfg.get(&[b"nonexistent"]).is_empty());
        let all = cfg.get(&[b"*"]);
        let mut keys: Vec<&str> = all.iter().map(|(k, _)| k.as_str()).collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n, "no duplicates");
        assert!(keys.contains(&"slaveof") && keys.contains(&"shards") && keys.contains(&"dir"));
        assert!(!keys.contains(&"watchdog-period"));
        assert_eq!(cfg.get(&[b"*", b"port"]).len(), n);
    }

    #[test]
    fn config_set_errors_like_redis() {
        assert_eq!(
            set_err(&[("foo", "1")]),
            "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
        );
        assert_eq!(
            set_err(&[("include", "x")]),
            "ERR Unknown option or number of arguments for CONFIG SET - 'include'"
        );
        assert_eq!(
            set_err(&[("maxmemory", "lots")]),
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
        );
        assert_eq!(
            set_err(&[("Databases", "4")]),
            "ERR CONFIG SET failed (possibly related to argument 'Databases') - can't set immutable config"
        );
        assert_eq!(
            set_err(&[("dir", "/tmp")]),
            "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"
        );
        assert_eq!(
            set_err(&[("hz", "1"), ("HZ", "2")]),
            "ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter"
        );
        // Failures in values name the directive as registered (alias kept).
        assert_eq!(
            set_err(&[("slave-priority", "-1")]),
            "ERR CONFIG SET failed (possibly related to argument 'slave-priority') - argument must be between 0 and 2147483647 inclusive"
        );
        // The first problem wins.
        assert_eq!(
            set_err(&[("port", "1"), ("shards", "2"), ("nope", "3")]),
            "ERR CONFIG SET failed (possibly related to argument 'shards') - can't set immutable config"
        );
        let cases = [
            ("appendonly", "maybe", "argument must be 'yes' or 'no'"),
            ("timeout", "1.5", "argument couldn't be parsed into an integer"),
            ("maxclients", "0", "argument must be between 1 and 4294967295 inclusive"),
            ("proto-max-bulk-len", "1kb", "argument must be between 1048576 and 9223372036854775807 inclusive"),
            ("maxmemory-clients", "x", "argument must be a memory or percent value"),
            ("maxmemory-clients", "101%", "percentage argument must be less or equal to 100"),
            ("maxmemory-policy", "lru", "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"),
            ("shutdown-on-sigint", "", "argument(s) must be one of the following: default, save, nosave, now, force"),
            ("save", "100", "Invalid save parameters"),
            ("save", "100  1", "Invalid save parameters"),
            ("client-output-buffer-limit", "normal 1 1", "Wrong number of arguments in buffer limit configuration."),
            ("client-output-buffer-limit", "normal 1 1 -1", "Error in hard, soft or soft_seconds setting in buffer limit configuration."),
            ("oom-score-adj-values", "0 200 3000", "Invalid oom-score-adj-values, elements must be between -2000 and 2000."),
            ("latency-tracking-info-percentiles", "50 abc", "Invalid latency-tracking-info-percentiles parameters"),
            ("latency-tracking-info-percentiles", "101", "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"),
            ("bind", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", "Too many bind addresses specified."),
            ("cluster-announce-hostname", "a_b", "Hostnames may only contain alphanumeric characters, hyphens or dots"),
            ("proc-title-template", "{bogus}", "template format is invalid or contains unknown variables"),
        ];
        for (name, value, why) in cases {
            assert_eq!(
                set_err(&[(name, value)]),
                format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"),
                "{name} {value}"
            );
        }
    }

    #[test]
    fn config_set_is_atomic() {
        let mut cfg = Config::default();
        let before = cfg.get(&[b"*"]);
        let err = cfg
            .set(&pairs(&[
                ("maxmemory", "10mb"),
                ("timeout", "5"),
                ("hz", "bad"),
            ]))
            .unwrap_err();
        assert!(err.contains("'hz'"), "{err}");
        assert_eq!(cfg.get(&[b"*"]), before);
        let changed = cfg
            .set(&pairs(&[
                ("maxmemory", "10mb"),
                ("timeout", "0"),
                ("slave-read-only", "no"),
            ]))
            .unwrap();
        assert_eq!(changed, ["maxmemory", "replica-read-only"]);
        assert_eq!(cfg.maxmemory(), 10 << 20);
        assert_eq!(get1(&cfg, "replica-read-only"), "no");
    }

    #[test]
    fn config_set_values() {
        let mut cfg = Config::default();
        let set = |cfg: &mut Config, k: &str, v: &str| {
            cfg.set(&pairs(&[(k, v)])).unwrap();
            get1(cfg, k)
        };
        assert_eq!(set(&mut cfg, "maxmemory", "1k"), "1000");
        assert_eq!(set(&mut cfg, "maxmemory", "1KB"), "1024");
        assert_eq!(set(&mut cfg, "maxmemory", "3m"), "3000000");
        assert_eq!(set(&mut cfg, "maxmemory", "3mb"), "3145728");
        assert_eq!(set(&mut cfg, "maxmemory", "1g"), "1000000000");
        assert_eq!(set(&mut cfg, "maxmemory", "1Gb"), "1073741824");
        assert_eq!(set(&mut cfg, "maxmemory-clients", "5%"), "5%");
        assert_eq!(cfg.int("maxmemory-clients"), Some(-5));
        assert_eq!(set(&mut cfg, "maxmemory-clients", "64mb"), "67108864");
        assert_eq!(set(&mut cfg, "appendonly", "YES"), "yes");
        assert_eq!(set(&mut cfg, "loglevel", "WARNING"), "warning");
        assert_eq!(set(&mut cfg, "oom-score-adj", "relative"), "yes");
        assert_eq!(set(&mut cfg, "shutdown-on-sigint", "now save"), "save now");
        assert_eq!(set(&mut cfg, "shutdown-on-sigint", "default"), "default");
        assert_eq!(set(&mut cfg, "notify-keyspace-events", "Kgx$lshzetd"), "AK");
        assert_eq!(set(&mut cfg, "notify-keyspace-events", "EmKn"), "nKEm");
        assert_eq!(set(&mut cfg, "save", "100 1 200 2"), "100 1 200 2");
        assert_eq!(set(&mut cfg, "save", "50 5"), "50 5");
        assert_eq!(set(&mut cfg, "save", ""), "");
        assert_eq!(set(&mut cfg, "bind", "0.0.0.0 ::"), "0.0.0.0 ::");
        assert_eq!(set(&mut cfg, "bind", ""), "");
        assert_eq!(
            set(
                &mut cfg,
                "client-output-buffer-limit",
                "pubsub 1mb 1kb 5 normal 1 2 3"
            ),
            "normal 1 2 3 slave 268435456 67108864 60 pubsub 1048576 1024 5"
        );
        assert_eq!(
            set(
                &mut cfg,
                "latency-tracking-info-percentiles",
                "50.0 99.990 100"
            ),
            "50 99.99 100"
        );
        assert_eq!(set(&mut cfg, "latency-tracking-info-percentiles", ""), "");
        assert_eq!(set(&mut cfg, "hz", "1000"), "500");
        assert_eq!(set(&mut cfg, "hz", "0"), "1");
        assert_eq!(set(&mut cfg, "requirepass", "secret"), "secret");
        assert_eq!(cfg.requirepass(), Some("secret"));
        assert_eq!(set(&mut cfg, "list-max-ziplist-size", "-1"), "-1");
        assert_eq!(set(&mut cfg, "port", "0"), "0");
        // replicaof belongs to the REPLICAOF command.
        cfg.set_internal("replicaof", &["127.0.0.1", "6380"])
            .unwrap();
        assert_eq!(get1(&cfg, "slaveof"), "127.0.0.1 6380");
        cfg.set_internal("replicaof", &["NO", "ONE"]).unwrap();
        assert_eq!(get1(&cfg, "replicaof"), "");
    }

    #[test]
    fn config_sanity_set_every_value_to_itself() {
        // Redis introspection.tcl "CONFIG sanity".
        let mut cfg = Config::default();
        let before = cfg.get(&[b"*"]);
        for (k, v) in &before {
            let Some((idx, _)) = table::lookup(k.as_bytes()) else {
                panic!("{k}")
            };
            if DIRECTIVES[idx].has(IMMUTABLE) || DIRECTIVES[idx].has(PROTECTED) {
                continue;
            }
            cfg.set(&pairs(&[(k, v)]))
                .unwrap_or_else(|e| panic!("{k} {v}: {e}"));
        }
        assert_eq!(cfg.get(&[b"*"]), before);
    }

    #[test]
    fn redis_argv_test_cases() {
        let (_d, r) = load_text(
            "save 900 1\n",
            &[
                "--proc-title-template",
                "--save",
                "--save",
                "",
                "--loglevel",
                "verbose",
            ],
        );
        let cfg = r.unwrap();
        assert_eq!(get1(&cfg, "proc-title-template"), "--save");
        assert_eq!(get1(&cfg, "save"), "");
        assert_eq!(cfg.loglevel(), "verbose");
        let cfg = Config::load(&args(&[
            "--shutdown-on-sigint",
            "nosave",
            "force",
            "now",
            "--shutdown-on-sigterm",
            "nosave force",
        ]))
        .unwrap();
        assert_eq!(get1(&cfg, "shutdown-on-sigint"), "nosave now force");
        assert_eq!(get1(&cfg, "shutdown-on-sigterm"), "nosave force");
        let mut cfg = Config::default();
        let err = cfg
            .set(&pairs(&[
                ("maxmemory", "10000001"),
                ("maxmemory-clients", "200%"),
                ("client-query-buffer-limit", "invalid"),
            ]))
            .unwrap_err();
        assert_eq!(err, "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100");
        assert_eq!(cfg.maxmemory(), 0);
    }

    #[test]
    fn protected_configs() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().to_str().unwrap().to_string();
        let mut cfg = Config::load(&args(&["--enable-protected-configs", "local"])).unwrap();
        assert!(cfg.set(&pairs(&[("dir", &target)])).is_err());
        let changed = cfg
            .set_with_origin(&pairs(&[("dir", &target)]), true)
            .unwrap();
        assert_eq!(changed, ["dir"]);
        assert_eq!(
            Path::new(cfg.dir()),
            std::fs::canonicalize(dir.path()).unwrap()
        );
        let mut cfg = Config::load(&args(&["--enable-protected-configs", "yes"])).unwrap();
        let err = cfg
            .set(&pairs(&[("dir", "/definitely/not/here")]))
            .unwrap_err();
        assert_eq!(err, "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory");
        cfg.set(&pairs(&[("dbfilename", "x.rdb")])).unwrap();
    }

    #[test]
    fn octal_and_typed_accessors() {
        let cfg = Config::load(&args(&[
            "--unixsocketperm",
            "0770",
            "--shards",
            "2",
            "--timeout",
            "9",
        ]))
        .unwrap();
        assert_eq!(get1(&cfg, "unixsocketperm"), "770");
        assert_eq!(cfg.int("unixsocketperm"), Some(0o770));
        assert_eq!(cfg.int("timeout"), Some(9));
        assert_eq!(cfg.int("loglevel"), None);
        assert_eq!(cfg.bool("daemonize"), Some(false));
        assert_eq!(cfg.bool("port"), None);
        assert_eq!(cfg.value("no-such"), None);
        assert_eq!(cfg.shards(), 2);
        let e = Config::load(&args(&["--unixsocketperm", "999"])).unwrap_err();
        assert_eq!(e.reason(), "argument couldn't be parsed as an octal number");
        let e = Config::load(&args(&["--unixsocketperm", "1000"])).unwrap_err();
        assert_eq!(e.reason(), "argument must be between 0 and 777 inclusive");
        let e = Config::load(&args(&["--shards", "-1"])).unwrap_err();
        assert_eq!(e.reason(), "argument must be between 0 and 1024 inclusive");
    }

    #[test]
    fn ignored_directives_are_reported() {
        let cfg = Config::load(&args(&[
            "--daemonize",
            "yes",
            "--activedefrag",
            "no",
            "--port",
            "7000",
            "--io-threads",
            "4",
        ]))
        .unwrap();
        assert_eq!(cfg.ignored_in_use(), ["daemonize", "io-threads"]);
    }

    #[test]
    fn deprecated_and_module_lines() {
        let (_d, r) = load_text(
            "lua-replicate-commands yes\nloadmodule /m.so\nm.x 1 2\n",
            &[],
        );
        let cfg = r.unwrap();
        assert_eq!(cfg.loadmodules(), [args(&["/m.so"])]);
        let (_d, r) = load_text("m.x 1\n", &[]);
        assert!(r
            .unwrap_err()
            .reason()
            .starts_with("Module Configuration detected"));
        let cfg = Config::load(&args(&["--sentinel", "--port", "26379"])).unwrap();
        assert!(cfg.sentinel_mode());
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let junk: &[&[u8]] = &[
            b"\"\\x",
            b"'",
            b"\0port 1",
            b"port \xff\xfe",
            b"save \"\\x4\"",
            b"bind \"",
            b"\"\"",
            b"\x01\x02 \x03",
        ];
        for j in junk {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("r.conf");
            std::fs::write(&path, j).unwrap();
            let _ = Config::load(&[path.to_string_lossy().into_owned()]);
        }
        let mut cfg = Config::default();
        let _ = cfg.set(&[(Bytes::from_static(b"\xff"), Bytes::from_static(b"\xff"))]);
        let _ = cfg.set(&[(
            Bytes::from_static(b"requirepass"),
            Bytes::from_static(b"\xff"),
        )]);
        let _ = cfg.get(&[b"[", b"\\", b"*["]);
    }
}

//! The control executor: owns the live configuration (CONFIG SET validates
//! and applies it here, then publishes an immutable copy to every shard),
//! coordinates saves (SAVE, BGSAVE, save points, SHUTDOWN, DEBUG RELOAD) and
//! runs the periodic jobs. Later it will run the cluster bus, Sentinel and
//! the replication handshakes. Runs on: the control executor only.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::context::Shared;
use super::hop::{Mesh, ReplyTo, ShardReply, ShardRequest};
use crate::config::Config;
use crate::persistence::save::{self, SaveState};
use crate::protocol::Reply;
use crate::util::clock::now_ms;

/// Owned by: the control executor.
pub struct ControlCtx {
    pub mesh: Rc<Mesh>,
    pub nshards: usize,
    pub config: RefCell<Config>,
    pub shared: Arc<Shared>,
    pub persist: SaveState,
    pub repl: crate::replication::Replication,
}

impl ControlCtx {
    /// Serves a request from a shard; each runs as its own task because it
    /// waits for the shards.
    pub fn serve(self: &Rc<Self>, req: ShardRequest, to: ReplyTo) {
        // In arrival order, before any later request of the same shard
        // (a WAIT, a snapshot's begin reply) is looked at.
        let req = match req {
            ShardRequest::ReplFeed { from, bytes } => {
                self.repl.take_feed(from, &bytes);
                return;
            }
            ShardRequest::SnapshotChunk { from, bytes } => {
                self.repl.take_chunk(from, bytes);
                return;
            }
            ShardRequest::AttachReplica(a) => {
                crate::replication::primary::attach(self, a);
                return;
            }
            other => other,
        };
        let me = self.clone();
        glommio::spawn_local(async move {
            let reply = match req {
                ShardRequest::ConfigSet { pairs } => me.config_set(pairs).await,
                ShardRequest::ConfigRewrite => match me.config.borrow().rewrite() {
                    Ok(()) => ShardReply::Done,
                    Err(e) => ShardReply::Err(e),
                },
                ShardRequest::Save {
                    background,
                    schedule,
                } => me.save_command(background, schedule).await,
                ShardRequest::RewriteAof => crate::persistence::rewrite::command(&me).await,
                ShardRequest::PersistenceInfo => ShardReply::Lines(me.persist.info_lines()),
                ShardRequest::LastSave => ShardReply::Count(me.persist.last_save.get()),
                ShardRequest::LoadCounts { keys, expired } => {
                    let p = &me.persist;
                    p.loaded_keys.set(p.loaded_keys.get() + keys);
                    p.loaded_expired.set(p.loaded_expired.get() + expired);
                    ShardReply::Done
                }
                ShardRequest::Shutdown { save } => me.shutdown(save).await,
                ShardRequest::Reload { save, flush } => me.reload(save, flush).await,
                ShardRequest::ReplicaOf { target } => me.replicaof(target).await,
                ShardRequest::ReplInfo => {
                    let r = &me.repl;
                    let text = r.info(now_ms(), &me.config.borrow());
                    ShardReply::Lines(vec![
                        text,
                        r.sync_full.get().to_string(),
                        r.sync_partial_ok.get().to_string(),
                        r.sync_partial_err.get().to_string(),
                    ])
                }
                ShardRequest::Role => ShardReply::Reply(me.role()),
                ShardRequest::ReplBlock { parts, fences } => {
                    me.repl.append_block(parts, fences).await;
                    ShardReply::Done
                }
                ShardRequest::Wait {
                    replicas,
                    timeout_ms,
                } => {
                    if me.repl.is_replica() {
                        ShardReply::Err("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.".into())
                    } else {
                        ShardReply::Count(
                            crate::replication::primary::wait(&me, replicas, timeout_ms).await,
                        )
                    }
                }
                ShardRequest::KillReplLinks { master, replicas } => {
                    let mut n = 0;
                    if master {
                        n += me.repl.link().is_some_and(|l| l.kill()) as u64;
                    }
                    if replicas {
                        n += crate::replication::primary::kill_peers(&me);
                    }
                    ShardReply::Count(n)
                }
                other => ShardReply::Err(format!("ERR internal: control cannot serve {other:?}")),
            };
            me.mesh.reply(to, reply);
        })
        .detach();
    }

    async fn config_set(&self, pairs: Vec<(bytes::Bytes, bytes::Bytes)>) -> ShardReply {
        let mut next = self.config.borrow().clone();
        let changed = match next.set(&pairs) {
            Ok(changed) => changed,
            Err(e) => return ShardReply::Err(e),
        };
        // COMPAT: Redis re-listens when port/bind change; tessera cannot yet,
        // so it refuses rather than pretending (nothing is applied).
        if let Some(name) = changed.iter().find(|n| matches!(**n, "port" | "bind")) {
            return ShardReply::Err(format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - tessera cannot change the listening address at run time yet"
            ));
        }
        if changed.contains(&"appendonly") {
            return ShardReply::Err(
                "ERR CONFIG SET failed (possibly related to argument 'appendonly') - tessera turns the append-only file on or off only at start-up yet".into(),
            );
        }
        crate::server::boot::apply_log_level(&next);
        crate::replication::primary::apply_config(&next);
        if let Some(n) = next.int("repl-backlog-size") {
            self.repl.backlog.borrow_mut().size = (n.max(0) as usize).max(16 * 1024);
        }
        let published = Arc::new(next.clone());
        *self.config.borrow_mut() = next;
        let rxs: Vec<_> = (0..self.nshards)
            .map(|s| {
                self.mesh
                    .request(s, ShardRequest::NewConfig(published.clone()))
            })
            .collect();
        for rx in rxs {
            let _ = rx.await;
        }
        ShardReply::Done
    }

    /// SAVE waits for the file; BGSAVE answers at once and saves in the
    /// background (Redis's `saveCommand` / `bgsaveCommand` replies).
    async fn save_command(self: &Rc<Self>, background: bool, schedule: bool) -> ShardReply {
        if let Some(refused) = save::bgsave_during_rewrite(&self.persist, background, schedule) {
            return refused;
        }
        if self.persist.in_progress.get() {
            return ShardReply::Err("ERR Background save already in progress".into());
        }
        if !background {
            return match save::save(self, false, None).await {
                Ok(()) => ShardReply::Reply(Reply::ok()),
                Err(_) => ShardReply::Err("ERR".into()),
            };
        }
        let (tx, rx) = futures_channel::oneshot::channel();
        let me = self.clone();
        glommio::spawn_local(async move {
            let _ = save::save(&me, true, Some(tx)).await;
        })
        .detach();
        // Answer once the snapshot's point in time is fixed, as Redis
        // answers after the fork.
        match rx.await {
            Ok(()) => ShardReply::Reply(Reply::Simple(Bytes::from_static(
                b"Background saving started",
            ))),
            Err(_) => ShardReply::Err("ERR Background saving failed, check the server logs".into()),
        }
    }

    /// REPLICAOF host port / NO ONE (Redis's `replicaofCommand`).
    pub async fn replicaof(self: &Rc<Self>, target: Option<(String, u16)>) -> ShardReply {
        use crate::replication::{primary, replica, Role};
        let r = &self.repl;
        let Some((host, port)) = target else {
            if !r.is_replica() {
                return ShardReply::Reply(Reply::ok());
            }
            r.generation.set(r.generation.get() + 1);
            if let Some(l) = r.link() {
                l.kill();
            }
            *r.role.borrow_mut() = Role::Master;
            // Our history goes on under a new ID; the old one stays valid
            // up to here, so the old master's other replicas continue.
            let new_id = crate::replication::backlog::random_id();
            r.backlog.borrow_mut().shift_id(new_id);
            primary::kill_peers(self);
            save::fan(self, |_| ShardRequest::SetRole { replica: false }).await;
            r.feeding.set(false);
            r.notify.wake_all();
            if r.backlog.borrow().active {
                primary::start_feeding(self).await;
            }
            let _ = self
                .config
                .borrow_mut()
                .set_internal("replicaof", &["no", "one"]);
            tracing::info!("MASTER MODE enabled (user request)");
            return ShardReply::Reply(Reply::ok());
        };
        if let Some(l) = r.link() {
            if l.host == host && l.port == port {
                tracing::info!("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
                return ShardReply::Reply(Reply::Simple(Bytes::from_static(
                    b"OK Already connected to specified master",
                )));
            }
            l.kill();
        }
        let generation = r.generation.get() + 1;
        r.generation.set(generation);
        let was_master = !r.is_replica();
        let link = Rc::new(replica::MasterLink::new(host.clone(), port, generation));
        *r.role.borrow_mut() = Role::Replica(link.clone());
        if was_master {
            // Our own history is what we ask the new master to continue
            // (Redis's `replicationCacheMasterUsingMyself`).
            r.backlog.borrow_mut().activate();
            save::fan(self, |_| ShardRequest::SetRole { replica: true }).await;
            if r.feeding.replace(false) {
                // Blocks waiting for their fences are dropped (`append_block`).
                r.notify.wake_all();
                save::fan(self, |_| ShardRequest::FeedReplicas { on: false }).await;
            }
        }
        primary::kill_peers(self);
        let _ = self
            .config
            .borrow_mut()
            .set_internal("replicaof", &[host.as_str(), &port.to_string()]);
        tracing::info!("REPLICAOF {host}:{port} enabled (user request from client)");
        replica::start(self, link);
        ShardReply::Reply(Reply::ok())
    }

    /// ROLE.
    fn role(&self) -> Reply {
        let r = &self.repl;
        let offset = r.backlog.borrow().offset();
        if let Some(link) = r.link() {
            return link.role(offset);
        }
        let peers = r
            .peers
            .borrow()
            .iter()
            .filter(|p| p.state.get() == crate::replication::primary::PeerState::Online)
            .map(|p| {
                Reply::Array(vec![
                    Reply::Bulk(Bytes::from(p.ip.clone())),
                    Reply::Bulk(Bytes::from(p.port.to_string())),
                    Reply::Bulk(Bytes::from(p.ack.get().to_string())),
                ])
            })
            .collect();
        Reply::Array(vec![
            Reply::Bulk(Bytes::from_static(b"master")),
            Reply::Integer(offset as i64),
            Reply::Array(peers),
        ])
    }

    /// Replication's part of the cron: PING to replicas every
    /// `repl-ping-replica-period`, and the count of replicas with a recent
    /// ACK for `min-replicas-to-write`, sent to the shards when it changes.
    async fn repl_cron(&self, tick: u64, last_good: &mut Option<u64>) {
        let cfg = self.config.borrow().clone();
        let r = &self.repl;
        let period = cfg.int("repl-ping-replica-period").unwrap_or(10).max(1) as u64;
        if !r.is_replica() && !r.peers.borrow().is_empty() && tick % (period * 10) == 0 {
            r.append(crate::replication::primary::PING);
        }
        crate::replication::primary::check_soft_limit(self);
        let timeout = cfg.int("repl-timeout").unwrap_or(60).max(1) as u64;
        crate::replication::primary::drop_timed_out(self, timeout);
        let ttl_s = cfg.int("repl-backlog-ttl").unwrap_or(3600).max(0) as u64;
        self.free_idle_backlog(ttl_s).await;
        let lag = cfg.int("min-replicas-max-lag").unwrap_or(10).max(0) as u64;
        let good = crate::replication::primary::good_replicas(self, lag) as u64;
        if *last_good != Some(good) {
            *last_good = Some(good);
            for s in 0..self.nshards {
                self.mesh.tell(s, ShardRequest::GoodReplicas(good));
            }
        }
    }

    /// `repl-backlog-ttl` (0: never): a master that has had no replica for
    /// that long frees its backlog and takes a new replication ID, as
    /// Redis's replicationCron does. A replica keeps its backlog.
    async fn free_idle_backlog(&self, ttl_s: u64) {
        let r = &self.repl;
        let alone = !r.is_replica() && r.backlog.borrow().active && r.peers.borrow().is_empty();
        if !alone {
            r.alone_since_ms.set(0);
            return;
        }
        let now = now_ms();
        if r.alone_since_ms.get() == 0 {
            r.alone_since_ms.set(now);
        }
        if ttl_s == 0 || now - r.alone_since_ms.get() < ttl_s * 1000 {
            return;
        }
        r.alone_since_ms.set(0);
        r.backlog
            .borrow_mut()
            .free(crate::replication::backlog::random_id());
        tracing::info!(
            "Replication backlog freed after {ttl_s} seconds without connected replicas."
        );
        if r.feeding.replace(false) {
            r.notify.wake_all();
            save::fan(self, |_| ShardRequest::FeedReplicas { on: false }).await;
        }
    }

    /// Waits for a save in progress to end.
    async fn wait_for_save(&self) {
        while self.persist.in_progress.get() {
            glommio::timer::sleep(Duration::from_millis(10)).await;
        }
    }

    /// SHUTDOWN and the stop on SIGTERM/SIGINT (Redis's
    /// `prepareForShutdown`): save when asked or when save points are set,
    /// then exit. Returns only when the save failed.
    pub async fn shutdown(&self, save: Option<bool>) -> ShardReply {
        let cfg = self.config.borrow().clone();
        let wanted = save.unwrap_or_else(|| !save::save_points(&cfg).is_empty());
        if wanted {
            self.wait_for_save().await;
            tracing::info!("Saving the final RDB snapshot before exiting.");
            if save::save(self, false, None).await.is_err() {
                tracing::warn!("Error trying to save the DB, can't exit.");
                return ShardReply::Err("ERR Errors trying to SHUTDOWN. Check logs.".into());
            }
        }
        if cfg.bool("appendonly").unwrap_or(false) {
            save::fan(self, |_| ShardRequest::FlushAof).await;
        }
        crate::server::shutdown::exit_now(&cfg)
    }

    /// DEBUG RELOAD: save (unless NOSAVE), empty every db (unless NOFLUSH)
    /// and load the file back.
    async fn reload(&self, save: bool, flush: bool) -> ShardReply {
        if save {
            self.wait_for_save().await;
            if save::save(self, false, None).await.is_err() {
                return ShardReply::Err("ERR Error trying to save the DB".into());
            }
        }
        let cfg = Arc::new(self.config.borrow().clone());
        let n = self.nshards;
        let now = now_ms();
        let loaded = glommio::executor()
            .spawn_blocking(move || {
                let slots = super::route::SlotMap::new(n);
                let enc = crate::shard::types::Encodings::of(&cfg);
                crate::persistence::load::read(
                    &save::rdb_path(&cfg),
                    &slots,
                    cfg.databases().max(1),
                    &enc,
                    cfg.bool("rdbchecksum").unwrap_or(true),
                    now,
                )
            })
            .await;
        let loaded = match loaded {
            Ok(Some(l)) => l,
            Ok(None) => {
                tracing::warn!("DEBUG RELOAD: no RDB file to load");
                return ShardReply::Err(
                    "ERR Error trying to load the RDB dump, check server logs.".into(),
                );
            }
            Err(e) => {
                tracing::warn!("{e}");
                return ShardReply::Err(
                    "ERR Error trying to load the RDB dump, check server logs.".into(),
                );
            }
        };
        self.persist.loaded_keys.set(loaded.keys);
        self.persist.loaded_expired.set(loaded.expired);
        let rxs: Vec<_> = loaded
            .shards
            .into_iter()
            .enumerate()
            .map(|(s, dbs)| self.mesh.request(s, ShardRequest::LoadData { flush, dbs }))
            .collect();
        for rx in rxs {
            let _ = rx.await;
        }
        ShardReply::Reply(Reply::ok())
    }

    /// The periodic jobs, every 100 ms: a stop requested by a signal, and
    /// the save points.
    pub async fn cron(self: Rc<Self>) {
        let mut tick = 0u64;
        let mut last_good = None;
        loop {
            glommio::timer::sleep(Duration::from_millis(100)).await;
            tick += 1;
            self.repl_cron(tick, &mut last_good).await;
            crate::persistence::rewrite::cron(&self).await;
            if crate::server::shutdown::requested() {
                let _ = self.shutdown(None).await;
                // The save failed: keep serving, as Redis does.
                crate::server::shutdown::clear_request();
            }
            let points = save::save_points(&self.config.borrow());
            if points.is_empty() || self.persist.in_progress.get() {
                continue;
            }
            let mut dirty = 0;
            for r in save::fan(&self, |_| ShardRequest::Dirty).await {
                if let ShardReply::Count(n) = r {
                    dirty += n;
                }
            }
            if let Some((secs, changes)) = save::due(&self.persist, &points, dirty, now_ms() / 1000)
            {
                tracing::info!("{changes} changes in {secs} seconds. Saving...");
                let me = self.clone();
                glommio::spawn_local(async move {
                    let _ = save::save(&me, true, None).await;
                })
                .detach();
            }
        }
    }
}

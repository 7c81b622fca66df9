//! The control executor: owns the live configuration (CONFIG SET validates
//! and applies it here, then publishes an immutable copy to every shard) and
//! runs periodic jobs. Later it will run the cluster bus, Sentinel and the
//! replication handshakes. Runs on: the control executor only.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::hop::{Mesh, ReplyTo, ShardReply, ShardRequest};
use crate::config::Config;

/// Owned by: the control executor.
pub struct ControlCtx {
    pub mesh: Rc<Mesh>,
    pub nshards: usize,
    pub config: RefCell<Config>,
}

impl ControlCtx {
    /// Serves a request from a shard; each runs as its own task because it
    /// waits for every shard to take the new configuration.
    pub fn serve(self: &Rc<Self>, req: ShardRequest, to: ReplyTo) {
        let me = self.clone();
        glommio::spawn_local(async move {
            let reply = match req {
                ShardRequest::ConfigSet { pairs } => me.config_set(pairs).await,
                ShardRequest::ConfigRewrite => match me.config.borrow().rewrite() {
                    Ok(()) => ShardReply::Done,
                    Err(e) => ShardReply::Err(e),
                },
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
        crate::server::boot::apply_log_level(&next);
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
}

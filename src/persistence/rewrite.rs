//! Append-only file rewrite (BGREWRITEAOF and the automatic rewrite), the
//! coordinating half. Runs on: the control executor; each shard rewrites
//! its own file (`aof::finish_rewrite`).
//!
//! Steps: (1) every shard begins a snapshot at one point in time, as a save
//! does (`save::begin_at_one_point`), and from that moment also copies its
//! writes aside for the new file (`ReplStream::start_rewrite`) while it
//! keeps appending them to its current file; (2) each shard writes its
//! snapshot part while serving; (3) each shard turns its part into the new
//! file's base (an RDB image with `aof-use-rdb-preamble yes`, else
//! commands), appends the copied writes and renames the new file over the
//! old one. The files are independent, so a shard that fails leaves its
//! old, complete file while the others swap theirs.
//!
//! A rewrite and a save both use the shards' snapshots, so they never run
//! together: BGREWRITEAOF during a save is scheduled (Redis's
//! `aof_rewrite_scheduled`) and starts from the cron once the save is done.

use std::cell::Cell;
use std::rc::Rc;

use bytes::Bytes;

use super::aof::{self, Base};
use super::rdb;
use super::save;
use crate::protocol::Reply;
use crate::server::control::ControlCtx;
use crate::server::hop::{ShardReply, ShardRequest};
use crate::util::clock::now_ms;

/// Consecutive failures after which automatic and scheduled rewrites wait
/// (Redis's `aofRewriteLimited`: 1 minute, doubling up to an hour).
const LIMIT_AFTER_FAILURES: u64 = 3;
const LIMIT_MAX_MINUTES: u64 = 60;

/// Rewrite state and counters (INFO persistence `aof_*`). Owned by: the
/// control executor.
#[derive(Default)]
pub struct RewriteState {
    pub in_progress: Cell<bool>,
    /// Asked for while a save ran; starts when none does.
    pub scheduled: Cell<bool>,
    /// Unix ms the current rewrite started.
    started_ms: Cell<u64>,
    /// Seconds the last rewrite took (`None` before the first).
    last_secs: Cell<Option<u64>>,
    last_failed: Cell<bool>,
    /// Rewrites started (Redis counts them when they start).
    rewrites: Cell<u64>,
    failures: Cell<u64>,
    /// While limited: the unix second before which no automatic or
    /// scheduled rewrite starts, and the delay that set it.
    retry_at: Cell<u64>,
    delay_minutes: Cell<u64>,
    /// BGSAVE SCHEDULE during a rewrite: a save starts when it ends.
    pub bgsave_scheduled: Cell<bool>,
}

impl RewriteState {
    /// The `aof_*` fields of INFO persistence that the control executor
    /// knows (the sizes come from the shards).
    pub fn info_lines(&self, now: u64) -> Vec<String> {
        let current = match self.in_progress.get() {
            true => (now.saturating_sub(self.started_ms.get()) / 1000) as i64,
            false => -1,
        };
        let last = self.last_secs.get().map_or(-1, |s| s as i64);
        vec![
            format!(
                "aof_rewrite_in_progress:{}",
                u8::from(self.in_progress.get())
            ),
            format!("aof_rewrite_scheduled:{}", u8::from(self.scheduled.get())),
            format!("aof_last_rewrite_time_sec:{last}"),
            format!("aof_current_rewrite_time_sec:{current}"),
            format!(
                "aof_last_bgrewrite_status:{}",
                if self.last_failed.get() { "err" } else { "ok" }
            ),
            format!("aof_rewrites:{}", self.rewrites.get()),
            format!("aof_rewrites_consecutive_failures:{}", self.failures.get()),
        ]
    }

    /// Whether repeated failures hold automatic and scheduled rewrites back
    /// at `now_secs`. The first call past the threshold sets the next
    /// delay (1 minute, then twice the last, at most an hour); a call after
    /// the delay lets one attempt through.
    fn limited(&self, now_secs: u64) -> bool {
        if self.failures.get() < LIMIT_AFTER_FAILURES {
            self.delay_minutes.set(0);
            self.retry_at.set(0);
            return false;
        }
        match self.retry_at.get() {
            0 => {}
            at if now_secs < at => return true,
            _ => {
                self.retry_at.set(0);
                return false;
            }
        }
        let minutes = (self.delay_minutes.get() * 2).clamp(1, LIMIT_MAX_MINUTES);
        self.delay_minutes.set(minutes);
        self.retry_at.set(now_secs + minutes * 60);
        tracing::warn!(
            "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {minutes} minutes"
        );
        true
    }
}

/// The automatic rewrite's test (Redis's `serverCron`): the files' total
/// `current` size is above `min_size` and has grown by at least `percent`
/// over the size of their bases (a zero base counts as one byte). Returns
/// the growth in percent when due.
pub fn auto_due(current: u64, base: u64, percent: u64, min_size: u64) -> Option<u64> {
    if percent == 0 || current <= min_size {
        return None;
    }
    let growth = (current.saturating_mul(100) / base.max(1)).saturating_sub(100);
    (growth >= percent).then_some(growth)
}

/// BGREWRITEAOF (Redis's `bgrewriteaofCommand`): answers once the point in
/// time is fixed. Rewrites whether `appendonly` is on or not, as Redis does.
pub async fn command(ctl: &Rc<ControlCtx>) -> ShardReply {
    let st = &ctl.persist.aof;
    if st.in_progress.get() {
        return ShardReply::Err(
            "ERR Background append only file rewriting already in progress".into(),
        );
    }
    if ctl.persist.in_progress.get() {
        st.scheduled.set(true);
        return ShardReply::Reply(Reply::Simple(Bytes::from_static(
            b"Background append only file rewriting scheduled",
        )));
    }
    let (tx, rx) = futures_channel::oneshot::channel();
    start(ctl, Some(tx));
    match rx.await {
        Ok(()) => ShardReply::Reply(Reply::Simple(Bytes::from_static(
            b"Background append only file rewriting started",
        ))),
        Err(_) => ShardReply::Err(
            "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.".into(),
        ),
    }
}

/// The rewrite's part of the cron (every 100 ms): a scheduled rewrite once
/// no save runs, else the automatic rewrite when the files have grown
/// enough (`auto-aof-rewrite-percentage`, `auto-aof-rewrite-min-size`;
/// only with `appendonly yes`).
pub async fn cron(ctl: &Rc<ControlCtx>) {
    let st = &ctl.persist.aof;
    if ctl.persist.busy() {
        return;
    }
    let now_secs = now_ms() / 1000;
    if st.scheduled.get() {
        if !st.limited(now_secs) {
            start(ctl, None);
        }
        return;
    }
    let (on, percent, min_size) = {
        let cfg = ctl.config.borrow();
        (
            cfg.bool("appendonly").unwrap_or(false),
            cfg.int("auto-aof-rewrite-percentage").unwrap_or(100).max(0) as u64,
            cfg.int("auto-aof-rewrite-min-size")
                .unwrap_or(64 << 20)
                .max(0) as u64,
        )
    };
    if !on || percent == 0 {
        return;
    }
    let files = aof::Totals::of(save::fan(ctl, |_| ShardRequest::AofState).await);
    // A save or a rewrite may have begun while the shards answered.
    if ctl.persist.busy() {
        return;
    }
    if let Some(growth) = auto_due(files.size, files.base_size, percent, min_size) {
        if !st.limited(now_secs) {
            tracing::info!("Starting automatic rewriting of AOF on {growth}% growth");
            start(ctl, None);
        }
    }
}

/// Starts a rewrite in its own task; `began` is told once every shard has
/// begun (dropped unsent when the rewrite fails before that).
fn start(ctl: &Rc<ControlCtx>, began: Option<futures_channel::oneshot::Sender<()>>) {
    let st = &ctl.persist.aof;
    st.in_progress.set(true);
    st.scheduled.set(false);
    st.rewrites.set(st.rewrites.get() + 1);
    let started = now_ms();
    st.started_ms.set(started);
    let me = ctl.clone();
    glommio::spawn_local(async move {
        let r = rewrite(&me, began).await;
        let st = &me.persist.aof;
        if r.is_err() {
            for s in 0..me.nshards {
                me.mesh.tell(s, ShardRequest::AofRewriteAbandon);
            }
        }
        // Not a save: what changed before the point in time is still unsaved.
        for s in 0..me.nshards {
            me.mesh.tell(s, ShardRequest::SnapshotDone { ok: false });
        }
        st.last_secs
            .set(Some(now_ms().saturating_sub(started) / 1000));
        st.last_failed.set(r.is_err());
        match &r {
            Ok(size) => {
                st.failures.set(0);
                tracing::info!(
                    "Background AOF rewrite terminated with success ({size} bytes in {} files)",
                    me.nshards
                );
                tracing::info!("Background AOF rewrite finished successfully");
            }
            Err(e) => {
                st.failures.set(st.failures.get() + 1);
                tracing::warn!("{e}");
                tracing::warn!("Background AOF rewrite terminated with error");
            }
        }
        st.in_progress.set(false);
        if st.bgsave_scheduled.replace(false) {
            let _ = save::save(&me, true, None).await;
        }
    })
    .detach();
}

/// The steps; returns the new files' total size.
async fn rewrite(
    ctl: &ControlCtx,
    began: Option<futures_channel::oneshot::Sender<()>>,
) -> Result<u64, String> {
    let cfg = ctl.config.borrow().clone();
    let n = ctl.nshards;
    let preamble = cfg.bool("aof-use-rdb-preamble").unwrap_or(true);
    let super::save::RdbOpts {
        compress,
        checksum,
        key_delay_us,
    } = super::save::RdbOpts::of(&cfg);
    // With `appendonly no` the directory may not exist yet.
    let prep = cfg.clone();
    glommio::executor()
        .spawn_blocking(move || aof::prepare(&prep, n))
        .await?;
    tracing::info!("Background append only file rewriting started");
    // (1): one point in time.
    let begin = |s: usize| ShardRequest::AofRewriteBegin {
        part: aof::rewrite_temp_path(&cfg, s, "part"),
        compress,
        key_delay_us,
    };
    let (failed, ()) = save::begin_at_one_point(ctl, begin, |_| ()).await;
    if let (None, Some(tx)) = (&failed, began) {
        let _ = tx.send(());
    }
    // (2): the parts.
    let parts = save::collect_parts(ctl, failed).await?;
    // (3): every shard's new file, in parallel.
    let base = if preamble {
        let mut header = Vec::new();
        rdb::write_header(&mut header);
        let used_mem = save::used_memory(ctl).await;
        for (k, v) in save::aux_fields(ctl, used_mem, None) {
            rdb::write_aux(&mut header, k, v.as_bytes());
        }
        Base::Rdb { header, checksum }
    } else {
        Base::Commands
    };
    let rxs: Vec<_> = parts
        .into_iter()
        .enumerate()
        .map(|(s, part)| {
            let base = base.clone();
            ctl.mesh
                .request(s, ShardRequest::AofRewriteFinish { part, base })
        })
        .collect();
    let mut total = 0;
    let mut failed = None;
    for rx in rxs {
        match rx.await {
            Ok(ShardReply::Count(size)) => total += size,
            Ok(ShardReply::Err(e)) => failed = failed.or(Some(e)),
            _ => failed = failed.or(Some("a shard did not finish its AOF rewrite".into())),
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(total),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_rewrite_needs_min_size_and_growth() {
        let mb = 1 << 20;
        // Above the minimum with no base yet: the growth is huge.
        assert!(auto_due(2 * mb, 0, 100, mb).is_some());
        assert_eq!(auto_due(mb, 0, 100, mb), None, "not above the minimum");
        assert_eq!(auto_due(2 * mb, 2 * mb, 100, mb), None, "no growth");
        assert_eq!(auto_due(4 * mb, 2 * mb, 100, mb), Some(100));
        assert_eq!(auto_due(4 * mb - 1, 2 * mb, 100, mb), None);
        assert_eq!(auto_due(3 * mb, 2 * mb, 50, mb), Some(50));
        assert_eq!(auto_due(100 * mb, mb, 0, mb), None, "percentage 0: off");
    }

    #[test]
    fn repeated_failures_delay_retries() {
        let st = RewriteState::default();
        st.failures.set(2);
        assert!(!st.limited(1000));
        st.failures.set(3);
        assert!(st.limited(1000), "the third failure starts a delay");
        assert!(st.limited(1059));
        assert!(!st.limited(1060), "one attempt after a minute");
        assert!(st.limited(1061), "then two minutes");
        assert!(st.limited(1061 + 119));
        assert!(!st.limited(1061 + 120));
        st.delay_minutes.set(40);
        assert!(st.limited(5000));
        assert_eq!(st.retry_at.get(), 5000 + 60 * 60, "at most an hour");
        st.failures.set(0);
        assert!(!st.limited(5001));
        assert_eq!(st.retry_at.get(), 0);
    }
}

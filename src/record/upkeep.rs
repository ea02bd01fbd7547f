//! Upkeep after an event is stored: at a session's end, a bounded step of index merging and
//! the configured retention of that session's project; after a call, a background sync of
//! the databases that took an event, when one is due.
//!
//! Owns only what is bounded enough for a hook call; failures are logged, never fatal (the
//! event itself is already stored). It must not wait on the network: a sync is only spawned.

use super::Recorder;
use crate::store::Store;
use crate::time::Time;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

impl Recorder {
    /// In sync mode, starts a background sync of each database that took an event, when one
    /// is due (see `sync::spawn_if_due`). Only spawns: a hook call never waits on the network.
    pub fn sync_if_due(&self) {
        let mut done = BTreeSet::new();
        for (_, to) in &self.resolved {
            if self.healthy.contains(&to.db) && done.insert(&to.db) {
                crate::sync::spawn_if_due(to, self.ended_session);
            }
        }
    }
}

/// Upkeep at the end of a session, bounded so the SessionEnd hook stays fast: a step of
/// full-text index merging, and the configured retention of the ending session's `project`
/// (a shared database holds other projects' sessions, which are theirs to keep). Failures
/// are logged, never fatal: the event itself is already stored.
pub(super) async fn maintain(
    store: &Store,
    config: &crate::config::Config,
    project: &str,
    at: DateTime<Utc>,
) {
    let retention = &config.retention;
    if let Err(e) = store.merge_indexes(64).await {
        tracing::warn!("index merge skipped: {e}");
    }
    if retention.older_than_days == 0 {
        return;
    }
    let Some(cutoff) = Time::before(
        at,
        chrono::TimeDelta::try_days(retention.older_than_days.into()),
    ) else {
        tracing::warn!(
            "retention skipped: retention.older_than_days = {} is out of range",
            retention.older_than_days
        );
        return;
    };
    // In sync mode, what the team server lacks of the projects shared stays until a sync has
    // sent it.
    let shared = match crate::sync::share::shared_in(config, store, None).await {
        Ok(shared) => shared.map(|s| serde_json::to_string(&s).expect("strings")),
        Err(e) => {
            tracing::warn!("retention skipped: {e}");
            return;
        }
    };
    match store
        .prune(
            &cutoff,
            Some(project),
            retention.sessions_per_run,
            false,
            false,
            shared.as_deref(),
        )
        .await
    {
        Ok(p) if p.sessions > 0 => {
            tracing::info!("retention pruned {} sessions before {cutoff}", p.sessions)
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("retention skipped: {e}"),
    }
}

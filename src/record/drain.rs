//! The spool's drain: events a database could not take earlier, stored by a later call as
//! its own (the same `Recorder`, so a drained event is what a hook call would have made of
//! it), oldest first. A hook call drains a bounded part after its own event, and starts a
//! drain without a hook's time limit in the background for entries too heavy for it.
//!
//! Owns claiming entries and bringing their sessions up to date; it runs with no watchdog
//! (a drained event is already kept on disk) and must not answer: no agent waits on it.

use super::understand::{Bound, Heard, Understood, ignored};
use super::{Origin, Recorder};
use crate::event::Event;
use crate::event::flags::Invocation;
use crate::input::Received;
use crate::spool;
use crate::time::Time;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Spooled events a hook call stores after its own, at most, and the time it may spend.
const DRAIN_COUNT: usize = 8;
const DRAIN_TIME: Duration = Duration::from_millis(150);
/// How long the drain a hook call starts in the background may run, at most (see `detach`).
const DETACHED_DRAIN_TIME: Duration = Duration::from_secs(300);

impl Origin {
    /// A spooled event's. A database that was only the call's first guess (it ended before
    /// reading the payload) is left to the payload to decide.
    pub(super) fn of(entry: &spool::Entry) -> Origin {
        Origin {
            cwd: entry.cwd.clone(),
            project_dir: entry.project_dir.as_ref().map(PathBuf::from),
            session: entry.session_env.clone(),
            db: (!entry.db_guessed).then(|| entry.db.clone()),
        }
    }
}

impl Recorder {
    /// After the event: stores a bounded part of the spool of the databases that took this
    /// call's event (oldest first, never more than [`DRAIN_COUNT`] events or
    /// [`DRAIN_TIME`]), and brings up to date the sessions those late events belong to.
    pub async fn settle(&mut self) {
        let dbs: Vec<PathBuf> = self.healthy.iter().cloned().collect();
        let started = Instant::now();
        let mut stored = 0;
        for db in dbs {
            for file in spool::pending(&db) {
                if stored >= DRAIN_COUNT || started.elapsed() > DRAIN_TIME {
                    return;
                }
                stored += usize::from(self.drain_one(&file, true, Some(&db)).await);
            }
        }
        if !spool::held().is_empty() && spool::detached_drain_due() {
            // Entries too heavy for a hook call are stored by a drain without a hook's time
            // limit, in the background, bounded by its own.
            if let Err(e) = crate::detach::spawn(&["spool", "--drain"], None, DETACHED_DRAIN_TIME) {
                tracing::warn!("cannot start the spool's drain: {e}");
            }
        }
    }

    /// Stores the spooled event at `file` if no other process is storing it; whether it was
    /// stored. `limited`: a hook call's drain, which holds aside an entry tried too often.
    /// `db`: the database the caller knows, for an entry whose database path was redacted.
    pub async fn drain_one(&mut self, file: &Path, limited: bool, db: Option<&Path>) -> bool {
        let claimed = match spool::claim(file, limited) {
            spool::Claim::Taken(c) => c,
            spool::Claim::Held => {
                tracing::warn!(
                    "{} failed too often to be stored by a hook call; held aside for \
                     `flowhook spool --drain`",
                    file.display()
                );
                return false;
            }
            spool::Claim::Busy => return false,
            spool::Claim::Unreadable(why) => {
                tracing::warn!("spool entry {} is unreadable: {why}", file.display());
                return false;
            }
        };
        let entry = &claimed.entry;
        let received = Received::complete(claimed.payload.clone());
        let inv = Invocation::from_args(&entry.args).unwrap_or_else(Invocation::stdin_only);
        let mut origin = Origin::of(entry);
        if entry.db_redacted() && !entry.db_guessed {
            match db.filter(|db| spool::belongs_to(file, db)) {
                Some(db) => origin.db = Some(db.to_path_buf()),
                None => {
                    claimed.failed(
                        "its database's path held a secret: a hook call of that database \
                         stores it",
                        false,
                    );
                    return false;
                }
            }
        }
        let at = DateTime::parse_from_rfc3339(&entry.received_at)
            .map_or_else(|_| Utc::now(), |t| t.with_timezone(&Utc));
        let u = self.understand(&received, &inv, &origin);
        let written = match &u {
            Understood::Ignored(what) => Ok(ignored(what)),
            // A spooled warning could never be shown.
            Understood::BeforeEdit(before) => Ok(ignored(&before.what)),
            Understood::Bound(Bound::Event(heard)) => {
                match self.prepare(heard, &received, at, false).await {
                    Ok(ready) => self.store_event(&ready, at, false).await,
                    Err(e) => Err(e),
                }
            }
            Understood::Bound(Bound::Rejected(refused)) => {
                self.quarantine(refused, &received, &inv, at).await
            }
        };
        match written {
            Ok(_) => {
                if let Understood::Bound(Bound::Event(Heard { n, to, .. })) = &u
                    && !matches!(n.event, Event::SessionEnd { .. })
                    && let Ok(store) = self.store(to).await
                    && let Err(e) = store.catch_up(&n.ctx.session_id, &Time::at(at)).await
                {
                    tracing::warn!("session {} not brought up to date: {e}", n.ctx.session_id);
                }
                tracing::info!("stored spooled event {}", claimed.path.display());
                claimed.done();
                true
            }
            Err(e) => {
                tracing::debug!("spooled event not stored yet: {e}");
                // Another writer's lock is no fault of the entry's: that try does not count.
                claimed.failed(&e.to_string(), !e.busy());
                false
            }
        }
    }
}

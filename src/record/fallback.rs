//! When the database cannot take an event: try again while the watchdog's budget allows (a
//! busy database is another process migrating, checkpointing or writing), then keep the
//! event in the spool, and when the spool has no room either, a minimal record of it in the
//! spool's `lost` file, saying what was lost.
//!
//! Owns that policy, and the handshake with the watchdog so that the event is spooled once,
//! by the call or by the watchdog, never by both and never by neither. It must not write to
//! a database.

use super::understand::{Bound, Heard};
use super::{Origin, Outcome, Recorder};
use crate::event::Event;
use crate::event::flags::Invocation;
use crate::input::Received;
use crate::spool;
use crate::store::StoreError;
use crate::time::Time;
use chrono::{DateTime, Utc};
use std::path::Path;
use std::time::{Duration, Instant};

/// Tries again on a busy database while the budget allows: under a burst of writers,
/// waiting beats spooling. The budget is three quarters of the watchdog's limit, at most 10 s.
pub(super) struct Retry {
    started: Instant,
    budget: Duration,
}

impl Retry {
    pub fn new(limit_ms: u64) -> Retry {
        Retry {
            started: Instant::now(),
            budget: Duration::from_millis((limit_ms / 4 * 3).min(10_000)),
        }
    }

    /// Whether to try again after `e`.
    pub fn again(&self, e: &StoreError) -> bool {
        let again = e.busy && self.started.elapsed() < self.budget;
        if again {
            tracing::debug!("{e}; trying again");
        }
        again
    }
}

impl Recorder {
    /// The database could not take this call's event: keep it in the spool, and say so; if
    /// the spool has no room either, keep a minimal record of it, and say what was lost.
    pub(super) fn spool(
        &self,
        bound: &Bound,
        received: &Received,
        inv: &Invocation,
        origin: &Origin,
        at: DateTime<Utc>,
        error: StoreError,
    ) -> Outcome {
        let label = bound.label();
        let to = bound.to();
        let db = &to.db;
        if !crate::watchdog::begin_spool() {
            // The watchdog took it and is spooling it; it ends the process once written.
            crate::watchdog::await_exit();
            return Outcome::Spooled {
                label,
                reason: error.to_string(),
                file: spool::dirs()[0].clone(),
            };
        }
        let entry = spool::Entry {
            reason: error.to_string(),
            ..origin.entry(db, false, &inv.args, at)
        };
        let outcome = match spool::save(&entry, &received.bytes, &to.patterns) {
            Ok(file) => {
                tracing::warn!("{error}; {label} spooled to {}", file.display());
                Outcome::Spooled {
                    label,
                    reason: error.to_string(),
                    file,
                }
            }
            Err(e) => {
                let lost = lost_record(bound, db, at, &format!("{error}; spool: {e}"));
                let kept = if spool::record_lost(&lost) {
                    "a minimal record of it is in the spool's `lost` file (flowhook spool)"
                } else {
                    "no record of it could be kept"
                };
                tracing::error!("{error}; spooling failed too ({e}): {label} is lost; {kept}");
                Outcome::Lost {
                    reason: format!("{label} lost: {error}; spool: {e}; {kept}"),
                }
            }
        };
        crate::watchdog::end_spool();
        outcome
    }
}

/// What is kept of an event that neither the database nor the spool could take.
fn lost_record(bound: &Bound, db: &Path, at: DateTime<Utc>, reason: &str) -> spool::Lost {
    let mut lost = spool::Lost {
        at: Time::at(at).into_string(),
        db: db.to_path_buf(),
        what: "rejected payload".to_owned(),
        session: None,
        file: None,
        lines: None,
        reason: reason.to_owned(),
    };
    if let Bound::Event(Heard { n, .. }) = bound {
        lost.what = n.label();
        lost.session = Some(n.ctx.session_id.clone());
        if let Event::Edit(e) = &n.event {
            lost.file = Some(e.facts.file.clone());
            lost.lines = Some((e.facts.lines_added, e.facts.lines_removed));
        }
    }
    lost
}

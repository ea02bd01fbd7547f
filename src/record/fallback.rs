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
use crate::watchdog::Deadline;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
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
        let again = self.allows(e.busy());
        if again {
            tracing::debug!("{e}; trying again");
        }
        again
    }

    /// Whether a failure (`busy` or not) is tried again now.
    fn allows(&self, busy: bool) -> bool {
        busy && self.started.elapsed() < self.budget
    }
}

impl Recorder {
    /// The database could not take this call's event: keep it in the spool, and say so; if
    /// the spool has no room either, keep a minimal record of it, and say what was lost.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn spool(
        &self,
        bound: &Bound,
        received: &Received,
        inv: &Invocation,
        origin: &Origin,
        at: DateTime<Utc>,
        deadline: &dyn Deadline,
        error: StoreError,
    ) -> Outcome {
        let to = bound.to();
        let entry = spool::Entry {
            reason: error.to_string(),
            ..origin.entry(&to.db, false, &inv.args, at)
        };
        keep(
            deadline,
            bound.label(),
            &error,
            || spool::save(&entry, &received.bytes, &to.patterns),
            |why| spool::record_lost(&lost_record(bound, &to.db, at, why)),
        )
    }
}

/// Keeps an event the database could not take (`error`): in the spool (`save`), else as a
/// minimal record (`record_lost`, given the reason; whether it could be kept). Unless the
/// watchdog already took it: then it is the watchdog's to spool, and this waits for it.
fn keep(
    deadline: &dyn Deadline,
    label: String,
    error: &dyn std::fmt::Display,
    save: impl FnOnce() -> std::io::Result<PathBuf>,
    record_lost: impl FnOnce(&str) -> bool,
) -> Outcome {
    if !deadline.begin_spool() {
        // The watchdog took it and is spooling it; it ends the process once written.
        deadline.await_exit();
        return Outcome::Spooled {
            label,
            reason: error.to_string(),
            file: spool::dirs()[0].clone(),
        };
    }
    let outcome = match save() {
        Ok(file) => {
            tracing::warn!("{error}; {label} spooled to {}", file.display());
            Outcome::Spooled {
                label,
                reason: error.to_string(),
                file,
            }
        }
        Err(e) => {
            let kept = if record_lost(&format!("{error}; spool: {e}")) {
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
    deadline.end_spool();
    outcome
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};

    /// A watchdog that never fires on its own: the test says whether it took the event, and
    /// it records the handshake.
    #[derive(Default)]
    struct FakeDeadline {
        limit_ms: u64,
        took: bool,
        calls: RefCell<Vec<&'static str>>,
        spooling: Cell<bool>,
    }

    impl Deadline for FakeDeadline {
        fn limit_ms(&self) -> u64 {
            self.limit_ms
        }
        fn set_limit(&self, _: u64) {}
        fn retarget(&self, _: &Path) {}
        fn disarm(&self) {
            self.calls.borrow_mut().push("disarm");
        }
        fn begin_spool(&self) -> bool {
            self.calls.borrow_mut().push("begin_spool");
            self.spooling.set(!self.took);
            !self.took
        }
        fn end_spool(&self) {
            assert!(self.spooling.get(), "end_spool without begin_spool");
            self.calls.borrow_mut().push("end_spool");
        }
        fn await_exit(&self) {
            self.calls.borrow_mut().push("await_exit");
        }
    }

    fn fake(limit_ms: u64, took: bool) -> FakeDeadline {
        FakeDeadline {
            limit_ms,
            took,
            ..FakeDeadline::default()
        }
    }

    #[test]
    fn a_busy_database_is_tried_again_within_three_quarters_of_the_limit() {
        let d = fake(400, false);
        let retry = Retry::new(d.limit_ms());
        assert_eq!(retry.budget, Duration::from_millis(300));
        assert!(retry.allows(true), "busy, within the budget: again");
        assert!(!retry.allows(false), "another failure is never tried again");
        // No budget (a limit under 2 ms): a busy database is spooled at once.
        assert!(!Retry::new(1).allows(true));
        // Without a watchdog (replay), the wait is bounded all the same.
        assert_eq!(Retry::new(u64::MAX).budget, Duration::from_secs(10));
    }

    #[test]
    fn a_busy_database_is_not_tried_again_once_the_budget_is_spent() {
        let retry = Retry::new(20);
        assert!(retry.allows(true));
        std::thread::sleep(Duration::from_millis(20));
        assert!(!retry.allows(true));
    }

    #[test]
    fn the_spool_takes_what_the_database_refused() {
        let d = fake(1000, false);
        let file = PathBuf::from("/spool/x.json");
        let out = keep(
            &d,
            "edit".into(),
            &"database is locked",
            || Ok(file.clone()),
            |_| panic!("nothing is lost"),
        );
        match out {
            Outcome::Spooled {
                label,
                reason,
                file: f,
            } => {
                assert_eq!(
                    (label.as_str(), reason.as_str()),
                    ("edit", "database is locked")
                );
                assert_eq!(f, file);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(*d.calls.borrow(), ["begin_spool", "end_spool"]);
    }

    #[test]
    fn what_the_spool_cannot_take_is_recorded_as_lost_and_said() {
        for recorded in [true, false] {
            let d = fake(1000, false);
            let seen = RefCell::new(String::new());
            let out = keep(
                &d,
                "edit".into(),
                &"disk I/O error",
                || Err(std::io::Error::other("no space left")),
                |why| {
                    *seen.borrow_mut() = why.to_owned();
                    recorded
                },
            );
            let Outcome::Lost { reason } = out else {
                panic!("{out:?}")
            };
            assert_eq!(*seen.borrow(), "disk I/O error; spool: no space left");
            assert!(reason.starts_with("edit lost: disk I/O error; spool: no space left"));
            let said = match recorded {
                true => "a minimal record of it is in the spool's `lost` file",
                false => "no record of it could be kept",
            };
            assert!(reason.contains(said), "{reason}");
            assert_eq!(*d.calls.borrow(), ["begin_spool", "end_spool"]);
        }
    }

    #[test]
    fn an_event_the_watchdog_took_is_not_spooled_twice() {
        let d = fake(1000, true);
        let out = keep(
            &d,
            "edit".into(),
            &"database is locked",
            || panic!("the watchdog spools it, not the call"),
            |_| panic!("nothing is lost"),
        );
        assert!(matches!(out, Outcome::Spooled { .. }), "{out:?}");
        // The call waits for the watchdog to write it and end the process, and does not
        // settle a handshake it lost.
        assert_eq!(*d.calls.borrow(), ["begin_spool", "await_exit"]);
    }
}

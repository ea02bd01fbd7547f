//! The hot path: one hook event, from bytes to a stored row.
//!
//! `read → parse → normalise → store`, in that order, each step able to say "not for us"
//! (cheap: an ignored event never opens the database) or "cannot" (the payload is quarantined
//! in `rejected_events`, or spooled when the database itself is the problem). Then, once the
//! answer is printed, [`Recorder::settle`]: what recall handed out is marked as given, and a
//! bounded part of the spool is stored. `flowhook replay` and the spool's drain drive the
//! same [`Recorder`], so what they show is what a hook call does.
//!
//! This file owns the `Recorder`'s caches (resolutions, open stores, warnings said) and
//! [`Recorder::handle`], which runs the steps, each in its own file: `understand`, `stage`
//! (understood to ready to written), `quarantine`, `fallback` (busy, spool, lost), `drain`
//! and `upkeep`. Nothing below the hot path imports this room: it is reached from `cmd` only.

mod drain;
mod fallback;
mod quarantine;
mod stage;
mod understand;
mod upkeep;
mod warn;

pub use understand::understand_only;

use crate::answer::Answer;
use crate::event::Event;
use crate::event::flags::Invocation;
use crate::input::Received;
use crate::resolve::{Overrides, Resolved};
use crate::spool;
use crate::store::{Store, StoreError, Written};
use crate::time::Time;
use crate::watchdog::Deadline;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;
use understand::{Bound, Understood};

/// The WAL size past which a hook call checkpoints it (see `finish_without_closing`).
const WAL_LIMIT: u64 = 256 * 1024;

/// What became of one event.
#[derive(Debug)]
pub enum Outcome {
    Stored {
        label: String,
        written: Written,
        detail: String,
        /// What the hook prints: context for a pre-task, when there is relevant prior work.
        answer: Option<Answer>,
    },
    /// Not an event flowhook records (a Read, a Notification, ...).
    Ignored { what: String },
    /// Could not be understood; kept in `rejected_events` (or the spool).
    Rejected { reason: String, kept: String },
    /// Understood but not storable now; kept in the spool for a later call.
    Spooled {
        label: String,
        reason: String,
        file: PathBuf,
    },
    /// Neither the database nor any spool directory could take it (said on stderr).
    Lost { reason: String },
}

/// Where a call ran: what an event that names no directory or session of its own belongs
/// to. A spooled event keeps its call's, so that any later process stores it the same way.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The working directory.
    pub cwd: Option<String>,
    /// `CLAUDE_PROJECT_DIR`.
    pub project_dir: Option<PathBuf>,
    /// `CLAUDE_CODE_SESSION_ID`, for calls that carry no payload.
    pub session: Option<String>,
    /// The database the event goes to whatever the configuration says (`--db`,
    /// `FLOWHOOK_DB`, or the spool entry's).
    pub db: Option<PathBuf>,
}

impl Origin {
    /// This process's: its working directory and environment, and `db` or `FLOWHOOK_DB`.
    pub fn here(db: Option<PathBuf>) -> Origin {
        let o = Overrides::from_env(db, None);
        Origin {
            cwd: std::env::current_dir()
                .ok()
                .map(|d| d.to_string_lossy().into_owned()),
            project_dir: o.project_dir,
            session: std::env::var("CLAUDE_CODE_SESSION_ID").ok(),
            db: o.db,
        }
    }

    /// The spool entry this call's event would become (the reason filled in by whoever
    /// spools it).
    pub fn entry(
        &self,
        db: &Path,
        guessed: bool,
        args: &[String],
        at: DateTime<Utc>,
    ) -> spool::Entry {
        spool::Entry {
            db: db.to_path_buf(),
            db_guessed: guessed,
            received_at: Time::at(at).into_string(),
            reason: String::new(),
            args: args.to_vec(),
            cwd: self.cwd.clone(),
            project_dir: self
                .project_dir
                .as_ref()
                .map(|p| p.to_string_lossy().into_owned()),
            session_env: self.session.clone(),
        }
    }
}

/// Records events into the right databases, opening each lazily (an ignored event never
/// opens one) and keeping it open across calls (replay, the drain).
pub struct Recorder {
    config_override: Option<PathBuf>,
    /// Keep rejected payloads in `rejected_events`. Off for a person typing a hook command,
    /// who gets the error instead.
    pub quarantine: bool,
    /// A replay: a payload quarantined before is a recorded line replayed again, whenever
    /// it was (a line that names no session has no recorded time to know it by).
    pub replay: bool,
    /// Resolutions already made, by directory and origin.
    resolved: Vec<(ResolvedFor, Rc<Resolved>)>,
    stores: Vec<Store>,
    /// Warnings already said in this process (one per call, not one per event).
    warned: BTreeSet<String>,
    /// Databases that took an event in this process: only those are drained (a database
    /// that just failed would only fail the backlog too).
    healthy: BTreeSet<PathBuf>,
    /// Whether an event stored in this process ended a session (a sync may be due).
    ended_session: bool,
}

/// What a resolution depends on: the directory, `CLAUDE_PROJECT_DIR` and the database given.
type ResolvedFor = (String, Option<PathBuf>, Option<PathBuf>);

impl Recorder {
    pub fn new(config_override: Option<PathBuf>) -> Recorder {
        Recorder {
            config_override,
            quarantine: true,
            replay: false,
            resolved: Vec::new(),
            stores: Vec::new(),
            warned: BTreeSet::new(),
            healthy: BTreeSet::new(),
            ended_session: false,
        }
    }

    /// Everything about the project `dir` is in, for an event of `origin` (resolved once per
    /// project and origin). An invalid configuration is said, once, and the defaults apply.
    pub fn resolved(&mut self, dir: &str, origin: &Origin) -> Rc<Resolved> {
        let key = (
            dir.to_owned(),
            origin.project_dir.clone(),
            origin.db.clone(),
        );
        if let Some((_, r)) = self.resolved.iter().find(|(k, _)| *k == key) {
            return r.clone();
        }
        let overrides = Overrides {
            db: origin.db.clone(),
            config: self.config_override.clone(),
            project_dir: origin.project_dir.clone(),
        };
        let r = Rc::new(crate::resolve::resolve_lenient(Path::new(dir), &overrides));
        if let Err(e) = crate::log::set_file(r.log.clone(), &r.config().log.level, &r.patterns) {
            self.warn_once(format!("configuration: {e}"));
        }
        if let Some(e) = &r.config_error {
            self.warn_once(format!("{e}; using the defaults"));
        }
        for e in &r.pattern_errors {
            self.warn_once(format!("configuration: {e}; pattern skipped"));
        }
        if let Some(ignored) = &r.loaded.ignored {
            self.warn_once(ignored.warning());
        }
        for m in &r.loaded.misplaced {
            self.warn_once(m.clone());
        }
        self.resolved.push((key, r.clone()));
        r
    }

    fn warn_once(&mut self, message: String) {
        if self.warned.insert(message.clone()) {
            tracing::warn!("{message}");
        }
    }

    /// Handles this call's own event end to end: recall (a pre-task's), then `on_answer`
    /// with the answer, if there is one (it prints it, and says whether it did), then the
    /// write, which also records what the printed answer handed out. Never fails: every
    /// outcome is described, and an event the database cannot take is spooled. `deadline`:
    /// the call's watchdog (`NoDeadline` for replay), which bounds the retries and keeps the
    /// event if time runs out.
    pub async fn handle(
        &mut self,
        received: &Received,
        inv: &Invocation,
        origin: &Origin,
        at: DateTime<Utc>,
        deadline: &dyn Deadline,
        on_answer: &mut dyn FnMut(&Answer) -> bool,
    ) -> Outcome {
        let bound = match self.understand(received, inv, origin) {
            Understood::Ignored(what) => {
                deadline.disarm();
                return understand::ignored(&what);
            }
            Understood::BeforeEdit(before) => {
                deadline.disarm();
                self.warn_before_edit(&before, at, on_answer).await;
                return understand::ignored(&before.what);
            }
            Understood::Bound(bound) => bound,
        };
        let to = bound.to().clone();
        deadline.set_limit(to.config().hook.timeout_ms);
        deadline.retarget(&to.db);
        let retry = fallback::Retry::new(deadline.limit_ms());
        let result = match &bound {
            Bound::Event(heard) => {
                let ready = loop {
                    match self.prepare(heard, received, at, true).await {
                        Err(e) if retry.again(&e) => {}
                        Err(e) => {
                            return self.spool(&bound, received, inv, origin, at, deadline, e);
                        }
                        Ok(ready) => break ready,
                    }
                };
                // The answer goes out before the write: the agent waits for nothing else.
                let answered = ready.answer.as_ref().is_some_and(&mut *on_answer);
                loop {
                    match self.store_event(&ready, at, answered).await {
                        Err(e) if retry.again(&e) => {}
                        other => break other,
                    }
                }
            }
            Bound::Rejected(refused) => loop {
                match self.quarantine(refused, received, inv, at).await {
                    Err(e) if retry.again(&e) => {}
                    other => break other,
                }
            },
        };
        match result {
            Ok(outcome) => {
                deadline.disarm();
                self.healthy.insert(to.db.clone());
                if let Bound::Event(heard) = &bound {
                    self.ended_session |= matches!(heard.n.event, Event::SessionEnd { .. });
                }
                outcome
            }
            Err(e) => self.spool(&bound, received, inv, origin, at, deadline, e),
        }
    }

    /// Ends a hook call without closing the database: closing the last connection to a WAL
    /// database checkpoints it, copying this call's pages into the main file with two fsyncs,
    /// which was more than half of a post-edit's time. The commit is already in the WAL; the
    /// next process reads it there. So the connections are left to the process's exit, and
    /// the WAL is checkpointed here only when it has grown past `WAL_LIMIT`, one call in many.
    pub async fn finish_without_closing(mut self) {
        for store in &self.stores {
            if let Err(e) = store.checkpoint_if_larger(WAL_LIMIT).await {
                tracing::debug!("checkpoint postponed: {e}");
            }
        }
        std::mem::forget(std::mem::take(&mut self.stores));
    }

    /// Ends replay: derived state the hooks' time budgets left behind is brought up to
    /// date, since no agent is waiting.
    pub async fn settle_derived(&self) -> Result<(), StoreError> {
        for store in &self.stores {
            store.settle(&Time::now()).await?;
        }
        Ok(())
    }

    /// The store of `to`, opened once per process and kept open.
    pub(super) async fn store(&mut self, to: &Resolved) -> Result<&Store, StoreError> {
        if let Some(i) = self.stores.iter().position(|s| s.path() == to.db) {
            return Ok(&self.stores[i]);
        }
        if let Some(why) = &to.db_refused {
            return Err(StoreError::refused(&to.db, why.clone()));
        }
        let busy = Duration::from_millis(to.config().database.busy_timeout_ms);
        let store = Store::open(&to.db, busy).await?;
        if self.stores.is_empty() {
            spool::ensure_reserve();
        }
        self.stores.push(store);
        Ok(self.stores.last().expect("just pushed"))
    }
}

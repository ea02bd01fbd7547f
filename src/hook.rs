//! The hot path: one hook event, from bytes to a stored row.
//!
//! `read → parse → normalise → store`, in that order, each step able to say "not for us"
//! (cheap: an ignored event never opens the database) or "cannot" (the payload is quarantined
//! in `rejected_events`, or spooled when the database itself is the problem). Then, once the
//! answer is printed, [`Recorder::settle`]: what recall handed out is marked as given, and a
//! bounded part of the spool is stored. `flowhook replay` and the spool's drain drive the
//! same [`Recorder`], so what they show is what a hook call does.

use crate::answer::Answer;
use crate::event::flags::Invocation;
use crate::event::wire::Payload;
use crate::event::{self, Event, Normalised};
use crate::input::Received;
use crate::recall::{self, Scope};
use crate::resolve::{Overrides, Resolved};
use crate::spool;
use crate::store::{Rejected, Stamp, Store, StoreError, Written};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// The WAL size past which a hook call checkpoints it (see `finish_without_closing`).
const WAL_LIMIT: u64 = 256 * 1024;
/// Spooled events a hook call stores after its own, at most, and the time it may spend.
const DRAIN_COUNT: usize = 8;
const DRAIN_TIME: Duration = Duration::from_millis(150);
/// How long the drain a hook call starts in the background may run, at most (see `detach`).
const DETACHED_DRAIN_TIME: Duration = Duration::from_secs(300);

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

    /// A spooled event's. A database that was only the call's first guess (it ended before
    /// reading the payload) is left to the payload to decide.
    fn of(entry: &spool::Entry) -> Origin {
        Origin {
            cwd: entry.cwd.clone(),
            project_dir: entry.project_dir.as_ref().map(PathBuf::from),
            session: entry.session_env.clone(),
            db: (!entry.db_guessed).then(|| entry.db.clone()),
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
            received_at: stamp(at),
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

/// What an event needs before it is written, computed once, outside the retries: where it
/// is filed, and for this call's own pre-task, what recall found and the answer.
struct Prepared {
    project: String,
    root: PathBuf,
    recalled: recall::Recalled,
    answer: Option<Answer>,
    usage: Option<crate::transcript::Usage>,
}

/// What a payload means, before anything is written.
enum Understood {
    Ignored(String),
    Event {
        n: Box<Normalised>,
        to: Rc<Resolved>,
        /// Whether the payload named its directory (else the session's project counts).
        cwd_given: bool,
    },
    Rejected {
        reason: String,
        to: Rc<Resolved>,
    },
}

impl Understood {
    fn target(&self) -> Option<&Rc<Resolved>> {
        match self {
            Understood::Event { to, .. } | Understood::Rejected { to, .. } => Some(to),
            Understood::Ignored(_) => None,
        }
    }
}

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
    /// outcome is described, and an event the database cannot take is spooled.
    pub async fn handle(
        &mut self,
        received: &Received,
        inv: &Invocation,
        origin: &Origin,
        at: DateTime<Utc>,
        on_answer: &mut dyn FnMut(&Answer) -> bool,
    ) -> Outcome {
        let understood = self.understand(received, inv, origin);
        if let Some(to) = understood.target() {
            crate::watchdog::set_limit(to.config().hook.timeout_ms);
            crate::watchdog::retarget(&to.db);
        }
        // A reader or writer that waited `busy_timeout` (another process migrating,
        // checkpointing or writing) tries again while the watchdog's budget allows: under a
        // burst of writers, waiting beats spooling.
        let started = Instant::now();
        let budget = Duration::from_millis((crate::watchdog::limit_ms() / 4 * 3).min(10_000));
        let again = |e: &StoreError| {
            let again = e.busy() && started.elapsed() < budget;
            if again {
                tracing::debug!("{e}; trying again");
            }
            again
        };
        let prepared = loop {
            match self.prepare(&understood, received, at, true).await {
                Err(e) if again(&e) => {}
                Err(e) => return self.spool(&understood, received, inv, origin, at, e),
                Ok(p) => break p,
            }
        };
        // The answer goes out before the write: the agent waits for nothing else.
        let answered = prepared
            .as_ref()
            .and_then(|p| p.answer.as_ref())
            .is_some_and(on_answer);
        let result = loop {
            match self
                .write(&understood, prepared.as_ref(), received, inv, at, answered)
                .await
            {
                Err(e) if again(&e) => {}
                other => break other,
            }
        };
        match result {
            Ok(outcome) => {
                crate::watchdog::disarm();
                if let Some(to) = understood.target() {
                    self.healthy.insert(to.db.clone());
                }
                if let Understood::Event { n, .. } = &understood {
                    self.ended_session |= matches!(n.event, Event::SessionEnd { .. });
                }
                outcome
            }
            Err(e) => self.spool(&understood, received, inv, origin, at, e),
        }
    }

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
        let written = match self.prepare(&u, &received, at, false).await {
            Ok(prepared) => {
                self.write(&u, prepared.as_ref(), &received, &inv, at, false)
                    .await
            }
            Err(e) => Err(e),
        };
        match written {
            Ok(_) => {
                if let Understood::Event { n, to, .. } = &u
                    && !matches!(n.event, Event::SessionEnd { .. })
                    && let Ok(store) = self.store(to).await
                    && let Err(e) = store.catch_up(&n.ctx.session_id, &stamp(at)).await
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
            store.settle(&stamp(Utc::now())).await?;
        }
        Ok(())
    }

    /// What the payload means. A payload refused as it is gets one more reading, as its
    /// sender meant it: cut at the size limit, its whole members (see
    /// `input::complete_prefix`); else as JavaScript reads it (`input::repaired`). The
    /// refusal stands when that reading is refused too.
    fn understand(&mut self, received: &Received, inv: &Invocation, origin: &Origin) -> Understood {
        let first = self.understand_bytes(&received.bytes, received.too_large, inv, origin);
        let Understood::Rejected { reason, .. } = &first else {
            return first;
        };
        let again = match received.too_large {
            true => crate::input::complete_prefix(&received.bytes),
            false => crate::input::repaired(&received.bytes),
        };
        match again.map(|bytes| self.understand_bytes(&bytes, false, inv, origin)) {
            Some(Understood::Rejected { .. }) | None => first,
            Some(u) => {
                tracing::info!("read leniently, after: {reason}");
                u
            }
        }
    }

    fn understand_bytes(
        &mut self,
        bytes: &[u8],
        too_large: bool,
        inv: &Invocation,
        origin: &Origin,
    ) -> Understood {
        let parsed = parse(bytes, too_large);
        let payload_cwd = match &parsed {
            Ok(Some(p)) => p.cwd.clone().filter(|c| !c.is_empty()),
            _ => None,
        };
        let dir = payload_cwd
            .clone()
            .or_else(|| origin.cwd.clone())
            .unwrap_or_else(|| ".".to_owned());
        let to = self.resolved(&dir, origin);
        let env = event::Env::new(
            &to.config().limits,
            origin.session.clone(),
            origin.cwd.clone(),
            to.patterns.clone(),
        );
        let payload = match parsed {
            Ok(p) => p,
            Err(reason) => return Understood::Rejected { reason, to },
        };
        match event::normalise(payload.as_ref(), inv, &env) {
            Ok(Some(n)) => Understood::Event {
                n: Box::new(n),
                to,
                cwd_given: payload_cwd.is_some(),
            },
            Ok(None) => Understood::Ignored(describe(payload.as_ref(), inv)),
            Err(reason) => Understood::Rejected { reason, to },
        }
    }

    async fn store(&mut self, to: &Resolved) -> Result<&Store, StoreError> {
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

    /// What an event needs before it is written (`None` for one that is not stored as an
    /// event). `live`: this call's own event, the only one recall answers (a spooled
    /// prompt's answer could never be shown).
    async fn prepare(
        &mut self,
        u: &Understood,
        received: &Received,
        at: DateTime<Utc>,
        live: bool,
    ) -> Result<Option<Prepared>, StoreError> {
        let Understood::Event { n, to, cwd_given } = u else {
            return Ok(None);
        };
        let store = self.store(to).await?;
        let sid = n.ctx.session_id.as_str();
        let known = match *cwd_given {
            true => None,
            false => store.session_project(sid).await?,
        };
        let (project, root) = match known {
            Some((project, root)) => (
                project,
                root.map_or_else(|| to.project.base.clone(), PathBuf::from),
            ),
            None => (to.project.id.clone(), to.project.base.clone()),
        };
        // The root is stored (`session_summaries.root`) and file paths, already redacted, are
        // made relative to it: it is redacted the same way.
        let root = PathBuf::from(
            crate::redact::redact(&root.to_string_lossy(), &to.patterns).into_owned(),
        );
        // Recall and the transcript are read before the write transaction, so that writers
        // never wait on them.
        let recalled = match recall_request(n, &project) {
            Some((text, scope)) if live && to.config().recall.enabled => {
                recall::gather(store, &text, scope, to.config().recall.budget_chars, at)
                    .await
                    .unwrap_or_else(|e| {
                        tracing::warn!("recall failed, the event is stored anyway: {e}");
                        recall::Recalled::default()
                    })
            }
            _ => recall::Recalled::default(),
        };
        let usage = match &n.event {
            Event::SessionEnd { .. } => store
                .transcript_state(&n.ctx)
                .await?
                .map(|(path, so_far)| crate::transcript::read(Path::new(&path), &so_far)),
            _ => None,
        };
        let answer = (!recalled.text.is_empty()).then(|| {
            let updated = to
                .config()
                .recall
                .subagent_prompt
                .then(|| subagent_input(received, &recalled.text))
                .flatten();
            Answer::context(&n.ctx.hook_event, recalled.text.clone(), updated)
        });
        Ok(Some(Prepared {
            project,
            root,
            recalled,
            answer,
            usage,
        }))
    }

    /// Writes one understood event, with what its printed answer (`answered`) handed out.
    async fn write(
        &mut self,
        u: &Understood,
        prepared: Option<&Prepared>,
        received: &Received,
        inv: &Invocation,
        at: DateTime<Utc>,
        answered: bool,
    ) -> Result<Outcome, StoreError> {
        let now = &stamp(at);
        match (u, prepared) {
            (Understood::Ignored(what), _) => {
                tracing::debug!("ignored: {what}");
                Ok(Outcome::Ignored { what: what.clone() })
            }
            (Understood::Event { n, to, .. }, Some(p)) => {
                let store = self.store(to).await?;
                let stamp = Stamp {
                    project: &p.project,
                    root: &p.root,
                    now,
                };
                let w = store.write().await?;
                let written = w.event(n, &stamp, p.usage.as_ref()).await?;
                if answered {
                    w.mark_given(&n.ctx.session_id, &p.project, &p.recalled.given(), now)
                        .await?;
                }
                w.commit().await?;
                if n.ctx.hook_event == "SessionEnd" {
                    maintain(store, to.config(), &p.project, at).await;
                }
                let detail = detail(n);
                tracing::debug!(?written, "{} {detail}", n.label());
                Ok(Outcome::Stored {
                    label: n.label(),
                    written,
                    detail,
                    answer: p.answer.clone(),
                })
            }
            (Understood::Event { .. }, None) => unreachable!("every event is prepared"),
            (Understood::Rejected { reason, .. }, _) if !self.quarantine => Ok(Outcome::Rejected {
                reason: reason.clone(),
                kept: String::new(),
            }),
            (Understood::Rejected { reason, to }, _) => {
                let raw = String::from_utf8_lossy(&received.bytes);
                let limit = to.config().limits.rejected_bytes;
                // Secrets go first: a bound must not leave half of one (see `redact`).
                let (head, cut) = crate::text::truncate(&raw, limit + 4096);
                let clean =
                    crate::redact::redact_raw(head, &to.patterns, cut || received.too_large);
                let (kept, cut_again) = crate::text::truncate(&clean, limit);
                let args: Vec<String> = inv
                    .args
                    .iter()
                    .map(|a| crate::redact::redact(a, &to.patterns).into_owned())
                    .collect();
                let reason = crate::redact::redact(reason, &to.patterns);
                let key = event::key_of(&[&String::from_utf8_lossy(&received.bytes)]);
                let once = self.replay;
                let store = self.store(to).await?;
                store
                    .reject(
                        &Rejected {
                            reason: &reason,
                            args: &args,
                            payload: kept,
                            key: &key,
                            payload_bytes: received.total,
                            truncated: cut || cut_again || received.too_large,
                            once,
                        },
                        now,
                    )
                    .await?;
                let kept = format!("{} (rejected_events)", store.path().display());
                tracing::warn!("rejected hook payload: {reason}; kept in {kept}");
                Ok(Outcome::Rejected {
                    reason: reason.into_owned(),
                    kept,
                })
            }
        }
    }

    /// The database could not take this call's event: keep it in the spool, and say so; if
    /// the spool has no room either, keep a minimal record of it, and say what was lost.
    fn spool(
        &self,
        u: &Understood,
        received: &Received,
        inv: &Invocation,
        origin: &Origin,
        at: DateTime<Utc>,
        error: StoreError,
    ) -> Outcome {
        let (label, to) = match u {
            Understood::Event { n, to, .. } => (n.label(), to),
            Understood::Rejected { reason, to } => (format!("rejected payload ({reason})"), to),
            Understood::Ignored(_) => unreachable!("ignored events never reach the database"),
        };
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
                let lost = lost_record(u, db, at, &format!("{error}; spool: {e}"));
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
fn lost_record(u: &Understood, db: &Path, at: DateTime<Utc>, reason: &str) -> spool::Lost {
    let mut lost = spool::Lost {
        at: stamp(at),
        db: db.to_path_buf(),
        what: "rejected payload".to_owned(),
        session: None,
        file: None,
        lines: None,
        reason: reason.to_owned(),
    };
    if let Understood::Event { n, .. } = u {
        lost.what = n.label();
        lost.session = Some(n.ctx.session_id.clone());
        if let Event::Edit(e) = &n.event {
            lost.file = Some(e.facts.file.clone());
            lost.lines = Some((e.facts.lines_added, e.facts.lines_removed));
        }
    }
    lost
}

/// What a hook call would make of `stdin` and `inv`, without configuration, database or
/// side effects: `Ok(true)` an event to store, `Ok(false)` not one of ours, `Err` the reason
/// it would be quarantined. For the fuzzer and the property tests.
pub fn understand_only(stdin: &[u8], inv: &Invocation) -> Result<bool, String> {
    let env = event::Env::new(
        &crate::config::Limits::default(),
        None,
        Some("/".to_owned()),
        Vec::new(),
    );
    let once = |bytes: &[u8]| -> Result<bool, String> {
        let payload = parse(bytes, false)?;
        Ok(event::normalise(payload.as_ref(), inv, &env)?.is_some())
    };
    once(stdin).or_else(|e| match crate::input::repaired(stdin) {
        Some(bytes) => once(&bytes).map_err(|_| e),
        None => Err(e),
    })
}

/// The payload, `None` for an empty stdin, or what is wrong with it.
fn parse(bytes: &[u8], too_large: bool) -> Result<Option<Payload<'_>>, String> {
    if too_large {
        return Err(format!(
            "payload larger than limits.max_payload_bytes ({} bytes read)",
            bytes.len()
        ));
    }
    let start = bytes.trim_ascii_start();
    let Some(first) = start.first() else {
        return Ok(None);
    };
    let kind = match first {
        b'{' => None,
        b'[' => Some("a JSON array"),
        b'"' => Some("a JSON string"),
        b'-' | b'0'..=b'9' => Some("a JSON number"),
        _ if [&b"true"[..], b"false", b"null"]
            .iter()
            .any(|l| start.starts_with(l)) =>
        {
            Some("a JSON literal")
        }
        _ => Some("not JSON"),
    };
    if let Some(kind) = kind {
        return Err(format!("stdin is {kind}, not a hook payload object"));
    }
    let mut de = serde_json::Deserializer::from_slice(start);
    serde_path_to_error::deserialize(&mut de)
        .map(Some)
        .map_err(|e| match e.path().to_string().as_str() {
            "." => format!(
                "invalid JSON payload: {}",
                crate::input::describe_error(e.inner())
            ),
            path => format!(
                "invalid JSON payload at {path}: {}",
                crate::input::describe_error(e.inner())
            ),
        })
}

/// A one-line description of an ignored event.
fn describe(p: Option<&Payload>, inv: &Invocation) -> String {
    match p.and_then(|p| p.hook_event_name.as_deref()) {
        Some(name) => match p.and_then(|p| p.tool_name.as_deref()) {
            Some(tool) => format!("{name}({tool})"),
            None => name.to_owned(),
        },
        None => format!("{:?}", inv.command),
    }
}

/// What was stored, for people: the file and line counts, or the task text.
fn detail(n: &Normalised) -> String {
    match &n.event {
        Event::Edit(e) => format!(
            "{} {} (+{} -{})",
            e.facts.kind, e.facts.file, e.facts.lines_added, e.facts.lines_removed
        ),
        Event::Task(t) => format!("{:?}", crate::text::truncate(&t.text, 60).0),
        Event::SessionStart { source, .. } => source.clone(),
        Event::SessionEnd { reason, .. } => reason.clone().unwrap_or_default(),
        Event::Subagent(a) => {
            let who = a
                .agent_type
                .as_deref()
                .or(a.agent_id.as_deref())
                .unwrap_or("");
            format!("{who} {}", a.status.as_deref().unwrap_or(""))
                .trim()
                .to_owned()
        }
    }
}

/// Upkeep at the end of a session, bounded so the SessionEnd hook stays fast: a step of
/// full-text index merging, and the configured retention of the ending session's `project`
/// (a shared database holds other projects' sessions, which are theirs to keep). Failures
/// are logged, never fatal: the event itself is already stored.
async fn maintain(store: &Store, config: &crate::config::Config, project: &str, at: DateTime<Utc>) {
    let retention = &config.retention;
    if let Err(e) = store.merge_indexes(64).await {
        tracing::warn!("index merge skipped: {e}");
    }
    if retention.older_than_days == 0 {
        return;
    }
    let Some(cutoff) = before(
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

/// A time as stored: RFC 3339 UTC with milliseconds.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `age` before `at`, as stored; `None` when the age (a user's number) is out of range or
/// the result leaves the years flowhook stores (0000 to 9999, which sort as text).
pub fn before(at: DateTime<Utc>, age: Option<chrono::TimeDelta>) -> Option<String> {
    let t = at.checked_sub_signed(age?)?;
    (0..=9999)
        .contains(&chrono::Datelike::year(&t))
        .then(|| stamp(t))
}

/// Whether an event asks for recall (a pre-task Claude Code can be answered for), with the
/// text to match and whose work to look at.
fn recall_request<'a>(n: &'a Normalised, project: &'a str) -> Option<(String, Scope<'a>)> {
    let session = Some(n.ctx.session_id.as_str());
    let others = Scope {
        project,
        session_id: session,
        own_session: false,
    };
    // A claude-flow flag call names no Claude Code event: there is nothing to answer.
    if n.ctx.hook_event.starts_with("cli:") {
        return None;
    }
    match &n.event {
        Event::Task(t) => Some((t.text.clone(), others)),
        // After a resume or a compaction the session's own work so far is what it needs; a
        // new session has said nothing yet to match prior work against.
        Event::SessionStart { source, .. } if source == "resume" || source == "compact" => Some((
            String::new(),
            Scope {
                own_session: true,
                ..others
            },
        )),
        _ => None,
    }
}

/// The Agent tool's input with the context prepended to the subagent's prompt
/// (`recall.subagent_prompt`). Every other field is passed through as received.
fn subagent_input(received: &Received, context: &str) -> Option<serde_json::Value> {
    let payload: Payload = serde_json::from_slice(&received.bytes).ok()?;
    if !matches!(payload.tool_name.as_deref(), Some("Agent" | "Task")) {
        return None;
    }
    let mut input: serde_json::Value = serde_json::from_str(payload.tool_input?.get()).ok()?;
    let prompt = input.get("prompt")?.as_str()?;
    let joined = format!("{context}\n\n{prompt}");
    input["prompt"] = serde_json::Value::String(joined);
    Some(input)
}

//! The hot path: one hook event, from bytes to a stored row.
//!
//! `read → parse → normalise → store`, in that order, each step able to say "not for us"
//! (cheap: an ignored event never opens the database) or "cannot" (the payload is quarantined
//! in `rejected_events`, or spooled when the database itself is the problem). `flowhook replay`
//! drives the same [`Recorder`], so what it shows is what a hook call does.

use crate::answer::Answer;
use crate::config::Config;
use crate::event::flags::Invocation;
use crate::event::wire::Payload;
use crate::event::{self, Event, Normalised};
use crate::recall;
use crate::spool;
use crate::store::{Rejected, Scope, Stamp, Store, StoreError, Written};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::time::Duration;

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

/// Records events into the right database, opening it lazily (an ignored event never opens
/// it) and keeping it open across calls (replay).
pub struct Recorder {
    /// `--db` / `FLOWHOOK_DB`, or replay's database: wins over configuration.
    db_override: Option<PathBuf>,
    config_override: Option<PathBuf>,
    /// The process's working directory and session, for events that carry none.
    process_cwd: Option<String>,
    env_session: Option<String>,
    /// Drain the spool after a successful write (hook calls, replay).
    pub drain: bool,
    /// Keep rejected payloads in `rejected_events`. Off for a person typing a hook command,
    /// who gets the error instead.
    pub quarantine: bool,
    /// Configuration per project, with its compiled redaction patterns.
    configs: Vec<(PathBuf, Config, Vec<regex_lite::Regex>)>,
    stores: Vec<Store>,
}

/// What a payload means, before anything is written.
enum Understood {
    Ignored(String),
    Event {
        n: Box<Normalised>,
        to: Target,
        project: String,
    },
    Rejected {
        reason: String,
        to: Target,
    },
}

/// The database an event goes to, with the settings that apply to it.
struct Target {
    db: PathBuf,
    busy_timeout: Duration,
    rejected_bytes: usize,
    recall: crate::config::Recall,
    retention: crate::config::Retention,
    /// Redaction patterns added in hooks.toml, beside the built-in ones.
    patterns: Vec<regex_lite::Regex>,
}

impl Recorder {
    pub fn new(db_override: Option<PathBuf>, config_override: Option<PathBuf>) -> Recorder {
        Recorder {
            db_override: db_override.or_else(crate::paths::database_from_env),
            config_override,
            process_cwd: std::env::current_dir()
                .ok()
                .map(|d| d.to_string_lossy().into_owned()),
            env_session: std::env::var("CLAUDE_CODE_SESSION_ID").ok(),
            drain: true,
            quarantine: true,
            configs: Vec::new(),
            stores: Vec::new(),
        }
    }

    /// Handles one event end to end. Never fails: every outcome is described.
    pub async fn handle(&mut self, received: &crate::input::Received, inv: &Invocation) -> Outcome {
        let now = Utc::now();
        let understood = self.understand(received, inv);
        if let Understood::Event { to, .. } | Understood::Rejected { to, .. } = &understood {
            crate::watchdog::arm(crate::watchdog::Armed {
                db: to.db.clone(),
                args: inv.args.clone(),
                received_at: stamp(now),
                payload: received.bytes.clone(),
            });
        }
        // A writer that waited `busy_timeout` for the lock tries again while the watchdog's
        // budget allows: under a burst of writers, waiting beats spooling.
        let started = std::time::Instant::now();
        let budget = Duration::from_millis((crate::watchdog::limit_ms() / 4 * 3).min(10_000));
        let result = loop {
            match self.commit(&understood, received, inv, now).await {
                Err(e) if e.busy && started.elapsed() < budget => {
                    tracing::debug!("{e}; trying again");
                }
                other => break other,
            }
        };
        crate::watchdog::disarm();
        match result {
            Ok(outcome) => {
                if self.drain && !matches!(outcome, Outcome::Ignored { .. }) {
                    if let Understood::Event { to, .. } | Understood::Rejected { to, .. } =
                        &understood
                    {
                        self.drain_spool(&to.db).await;
                    }
                }
                outcome
            }
            Err(e) => self.spool(&understood, received, inv, &stamp(now), e),
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

    /// Takes a configuration already discovered for `project` (the hook's own directory), so
    /// that an event of that project does not look for it again.
    pub fn remember_config(&mut self, project: &Path, config: Config) {
        if !self.configs.iter().any(|(p, _, _)| p == project) {
            self.add_config(project, config);
        }
    }

    fn config(&mut self, project: &Path) -> (Config, Vec<regex_lite::Regex>) {
        if let Some((_, c, r)) = self.configs.iter().find(|(p, _, _)| p == project) {
            return (c.clone(), r.clone());
        }
        let config = match Config::discover(self.config_override.as_deref(), project) {
            Ok((c, _)) => c,
            Err(e) => {
                // A hook never fails over configuration: say so, and use the defaults.
                tracing::warn!("{e}; using the defaults");
                Config::default()
            }
        };
        self.add_config(project, config)
    }

    fn add_config(&mut self, project: &Path, config: Config) -> (Config, Vec<regex_lite::Regex>) {
        let (patterns, errors) = config.redact.compile();
        for e in errors {
            tracing::warn!("configuration: {e}; pattern skipped");
        }
        self.configs
            .push((project.to_path_buf(), config.clone(), patterns.clone()));
        (config, patterns)
    }

    fn understand(&mut self, received: &crate::input::Received, inv: &Invocation) -> Understood {
        let parsed = parse(received);
        let cwd = match &parsed {
            Ok(Some(p)) => p.cwd.clone(),
            _ => None,
        }
        .or_else(|| self.process_cwd.clone())
        .unwrap_or_else(|| ".".to_owned());
        let project = crate::paths::project_root(Path::new(&cwd));
        let (config, patterns) = self.config(&project);
        crate::watchdog::set_limit(config.hook.timeout_ms);
        let db = crate::paths::database(
            self.db_override.as_deref(),
            config.database.path.as_deref(),
            &project,
        );
        let log_file = config
            .log
            .file
            .clone()
            .unwrap_or_else(|| db.with_file_name("flowhook.log"));
        if let Err(e) = crate::log::set_file(log_file, &config.log.level) {
            tracing::warn!("configuration: {e}");
        }
        let to = Target {
            db,
            busy_timeout: Duration::from_millis(config.database.busy_timeout_ms),
            rejected_bytes: config.limits.rejected_bytes,
            recall: config.recall.clone(),
            retention: config.retention.clone(),
            patterns,
        };
        let env = event::Env::new(
            &config.limits,
            self.env_session.clone(),
            self.process_cwd.clone(),
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
                project: project.to_string_lossy().into_owned(),
            },
            Ok(None) => Understood::Ignored(describe(payload.as_ref(), inv)),
            Err(reason) => Understood::Rejected { reason, to },
        }
    }

    async fn store(&mut self, to: &Target) -> Result<&Store, StoreError> {
        if let Some(i) = self.stores.iter().position(|s| s.path() == to.db) {
            return Ok(&self.stores[i]);
        }
        let store = Store::open(&to.db, to.busy_timeout).await?;
        self.stores.push(store);
        Ok(self.stores.last().expect("just pushed"))
    }

    async fn commit(
        &mut self,
        u: &Understood,
        received: &crate::input::Received,
        inv: &Invocation,
        at: DateTime<Utc>,
    ) -> Result<Outcome, StoreError> {
        let now = &stamp(at);
        match u {
            Understood::Ignored(what) => {
                tracing::debug!("ignored: {what}");
                Ok(Outcome::Ignored { what: what.clone() })
            }
            Understood::Event { n, to, project } => {
                let store = self.store(to).await?;
                // Recall reads before the write transaction, so writers never wait on it.
                let recalled = match recall_request(n, project) {
                    Some((text, scope)) if to.recall.enabled => {
                        recall::gather(store, &text, scope, to.recall.budget_chars, at)
                            .await
                            .unwrap_or_else(|e| {
                                tracing::warn!("recall failed, the event is stored anyway: {e}");
                                recall::Recalled::default()
                            })
                    }
                    _ => recall::Recalled::default(),
                };
                let written = store
                    .record(n, &Stamp { project, now }, &recalled.given())
                    .await?;
                let answer = (!recalled.text.is_empty()).then(|| {
                    let updated = to
                        .recall
                        .subagent_prompt
                        .then(|| subagent_input(received, &recalled.text))
                        .flatten();
                    Answer::context(&n.ctx.hook_event, recalled.text.clone(), updated)
                });
                if n.ctx.hook_event == "SessionEnd" {
                    maintain(store, &to.retention, at).await;
                }
                let detail = detail(n);
                tracing::debug!(?written, "{} {detail}", n.label());
                Ok(Outcome::Stored {
                    label: n.label(),
                    written,
                    detail,
                    answer,
                })
            }
            Understood::Rejected { reason, .. } if !self.quarantine => Ok(Outcome::Rejected {
                reason: reason.clone(),
                kept: String::new(),
            }),
            Understood::Rejected { reason, to } => {
                let raw = String::from_utf8_lossy(&received.bytes);
                let (head, cut) = crate::text::truncate(&raw, to.rejected_bytes);
                let kept = crate::redact::redact_raw(head, &to.patterns, cut);
                let (payload, truncated) = (kept.as_ref(), cut);
                let store = self.store(to).await?;
                store
                    .reject(
                        &Rejected {
                            reason,
                            args: &inv.args,
                            payload,
                            payload_bytes: received.total,
                            truncated: truncated || received.too_large,
                        },
                        now,
                    )
                    .await?;
                let kept = format!("{} (rejected_events)", store.path().display());
                tracing::warn!("rejected hook payload: {reason}; kept in {kept}");
                Ok(Outcome::Rejected {
                    reason: reason.clone(),
                    kept,
                })
            }
        }
    }

    /// The database could not take the event: keep it in the spool, and say so.
    fn spool(
        &self,
        u: &Understood,
        received: &crate::input::Received,
        inv: &Invocation,
        now: &str,
        error: StoreError,
    ) -> Outcome {
        let (label, db) = match u {
            Understood::Event { n, to, .. } => (n.label(), &to.db),
            Understood::Rejected { reason, to } => (format!("rejected payload ({reason})"), &to.db),
            Understood::Ignored(_) => unreachable!("ignored events never reach the database"),
        };
        let entry = spool::Entry {
            db: db.clone(),
            received_at: now.to_owned(),
            reason: error.to_string(),
            args: inv.args.clone(),
            payload: String::from_utf8_lossy(&received.bytes).into_owned(),
        };
        match spool::save(&entry) {
            Ok(file) => {
                tracing::warn!("{error}; {label} spooled to {}", file.display());
                Outcome::Spooled {
                    label,
                    reason: error.to_string(),
                    file,
                }
            }
            Err(e) => {
                tracing::error!("{error}; spooling failed too ({e}): {label} is lost");
                Outcome::Lost {
                    reason: format!("{error}; spool: {e}"),
                }
            }
        }
    }

    /// Stores what earlier calls spooled for `db`, oldest first, stopping at the first failure.
    async fn drain_spool(&mut self, db: &Path) {
        for file in spool::pending(db) {
            let Ok(entry) = spool::load(&file) else {
                continue; // unreadable: left for `flowhook spool` to show
            };
            let received = crate::input::Received::complete(entry.payload.into_bytes());
            let inv = Invocation::from_args(&entry.args).unwrap_or_else(Invocation::stdin_only);
            let u = self.understand(&received, &inv);
            let at = DateTime::parse_from_rfc3339(&entry.received_at)
                .map_or_else(|_| Utc::now(), |t| t.with_timezone(&Utc));
            match self.commit(&u, &received, &inv, at).await {
                Ok(_) => {
                    let _ = std::fs::remove_file(&file);
                    tracing::info!("stored spooled event {}", file.display());
                }
                Err(e) => {
                    tracing::debug!("spool not drained: {e}");
                    break;
                }
            }
        }
    }
}

/// What a hook call would make of `stdin` and `inv`, without configuration, database or
/// side effects: `Ok(true)` an event to store, `Ok(false)` not one of ours, `Err` the reason
/// it would be quarantined. For the fuzzer and the property tests.
pub fn understand_only(stdin: &[u8], inv: &Invocation) -> Result<bool, String> {
    let received = crate::input::Received::complete(stdin.to_vec());
    let payload = parse(&received)?;
    let env = event::Env::new(
        &crate::config::Limits::default(),
        None,
        Some("/".to_owned()),
        Vec::new(),
    );
    Ok(event::normalise(payload.as_ref(), inv, &env)?.is_some())
}

/// The payload, `None` for an empty stdin, or what is wrong with it.
fn parse(received: &crate::input::Received) -> Result<Option<Payload<'_>>, String> {
    if received.too_large {
        return Err(format!(
            "payload larger than limits.max_payload_bytes ({} bytes read)",
            received.bytes.len()
        ));
    }
    let start = received.bytes.trim_ascii_start();
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
            "." => format!("invalid JSON payload: {}", e.inner()),
            path => format!("invalid JSON payload at {path}: {}", e.inner()),
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
        event::Event::Edit(e) => format!(
            "{} {} (+{} -{})",
            e.facts.kind, e.facts.file, e.facts.lines_added, e.facts.lines_removed
        ),
        event::Event::Task(t) => format!("{:?}", crate::text::truncate(&t.text, 60).0),
        event::Event::SessionStart { source, .. } => source.clone(),
        event::Event::SessionEnd { reason, .. } => reason.clone().unwrap_or_default(),
        event::Event::Subagent(a) => {
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
/// full-text index merging, and the configured retention. Failures are logged, never fatal:
/// the event itself is already stored.
async fn maintain(store: &Store, retention: &crate::config::Retention, at: DateTime<Utc>) {
    if let Err(e) = store.merge_indexes(64).await {
        tracing::warn!("index merge skipped: {e}");
    }
    if retention.older_than_days == 0 {
        return;
    }
    let cutoff = stamp(at - chrono::Duration::days(i64::from(retention.older_than_days)));
    match store
        .prune(&cutoff, retention.sessions_per_run, false, false)
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

/// Whether an event asks for recall (a pre-task Claude Code can be answered for), with the
/// text to match and whose work to look at.
fn recall_request<'a>(n: &'a Normalised, project: &'a str) -> Option<(String, Scope<'a>)> {
    let session = Some(n.ctx.session_id.as_str());
    let others = Scope {
        project,
        session_id: session,
        own_session: false,
    };
    match &n.event {
        Event::Task(t) if !n.ctx.hook_event.starts_with("cli:") => Some((t.text.clone(), others)),
        // After a resume or a compaction the session's own work so far is what it needs.
        Event::SessionStart { source, .. } if source == "resume" || source == "compact" => Some((
            String::new(),
            Scope {
                own_session: true,
                ..others
            },
        )),
        Event::SessionStart { .. } => Some((String::new(), others)),
        _ => None,
    }
}

/// The Agent tool's input with the context prepended to the subagent's prompt
/// (`recall.subagent_prompt`). Every other field is passed through as received.
fn subagent_input(received: &crate::input::Received, context: &str) -> Option<serde_json::Value> {
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

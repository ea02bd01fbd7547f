//! Staging an event: from understood (`Heard`) to ready (`Ready`: its project and root, what
//! recall found and the answer, a session end's transcript usage), then written.
//!
//! Owns the event's own write and what is read for it beforehand (outside the write
//! transaction, so writers never wait on recall). It must not spool, quarantine or retry:
//! failures go back to the `Recorder`, which decides.

use super::understand::Heard;
use super::{Outcome, Recorder};
use crate::answer::Answer;
use crate::event::wire::Payload;
use crate::event::{Event, Name, Normalised};
use crate::input::Received;
use crate::recall::Scope;
use crate::store::{Stamp, StoreError};
use crate::time::Time;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// An event ready to write: what it needs, computed once, outside the retries: where it is
/// filed, and for this call's own pre-task, what recall found and the answer.
pub(super) struct Ready<'a> {
    pub heard: &'a Heard,
    pub project: String,
    pub root: PathBuf,
    pub recalled: crate::gather::Recalled,
    pub answer: Option<Answer>,
    pub usage: Option<crate::transcript::Usage>,
}

impl Recorder {
    /// An understood event made ready to write. `live`: this call's own event, the only one
    /// recall answers (a spooled prompt's answer could never be shown).
    pub(super) async fn prepare<'a>(
        &mut self,
        heard: &'a Heard,
        received: &Received,
        at: DateTime<Utc>,
        live: bool,
    ) -> Result<Ready<'a>, StoreError> {
        let Heard { n, to, cwd_given } = heard;
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
                crate::gather::gather(store, &text, scope, to.config().recall.budget_chars, at)
                    .await
                    .unwrap_or_else(|e| {
                        tracing::warn!("recall failed, the event is stored anyway: {e}");
                        crate::gather::Recalled::default()
                    })
            }
            _ => crate::gather::Recalled::default(),
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
        // Another agent reads context under its own event name, or not at all.
        let answer = match n.ctx.agent {
            crate::event::Agent::ClaudeCode => answer,
            agent => answer.and_then(|a| a.for_agent(agent)),
        };
        Ok(Ready {
            heard,
            project,
            root,
            recalled,
            answer,
            usage,
        })
    }

    /// Writes a ready event, with what its printed answer (`answered`) handed out.
    pub(super) async fn store_event(
        &mut self,
        p: &Ready<'_>,
        at: DateTime<Utc>,
        answered: bool,
    ) -> Result<Outcome, StoreError> {
        let Heard { n, to, .. } = p.heard;
        let now = &Time::at(at);
        let store = self.store(to).await?;
        let stamp = Stamp {
            project: &p.project,
            root: &p.root,
            now,
        };
        let w = store.write().await?;
        let written = w.event(n, &stamp, p.usage.as_ref()).await?;
        for edit in &n.more {
            let also = Normalised {
                ctx: n.ctx.clone(),
                event: Event::Edit(edit.clone()),
                more: Vec::new(),
            };
            w.event(&also, &stamp, None).await?;
        }
        store.record_agent(&n.ctx).await?;
        if answered {
            w.mark_given(&n.ctx.session_id, &p.project, &p.recalled.given(), now)
                .await?;
        }
        w.commit().await?;
        if n.ctx.name() == Name::SessionEnd {
            super::upkeep::maintain(store, to.config(), &p.project, at).await;
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
                .swarm
                .agent_type
                .as_deref()
                .or(a.swarm.agent_id.as_deref())
                .unwrap_or("");
            format!("{who} {}", a.swarm.status.as_deref().unwrap_or(""))
                .trim()
                .to_owned()
        }
    }
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

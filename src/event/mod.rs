//! From a hook call (JSON payload and/or claude-flow flags) to the one internal event we store.
//!
//! [`normalise`] is pure: it decides what an input *means* (hook contract §2) and nothing
//! else. "Not for us" (a `Read`, a `Notification`, an event a newer client added) is
//! `Ok(None)`, not an error. An error means the input is not a hook event at all, or claims
//! to be one of ours but cannot be understood; it gets quarantined. A field that some real
//! client version leaves out (`agent_id`, `tool_use_id`, `prompt_id`, `cwd`, ...) is never
//! a reason to reject.
//!
//! One plain function per event family: [`prompt`] (UserPromptSubmit), [`tool`] (Pre/PostToolUse),
//! [`lifecycle`] (sessions and subagents starting and stopping), [`cli`] (claude-flow flags
//! without a payload). Every text an event will store is redacted here, before it is
//! bounded, so that a bound never keeps part of a secret.

pub mod agent;
mod cli;
pub mod edit;
pub mod flags;
mod lifecycle;
mod name;
#[cfg(feature = "agents")]
mod patch;
mod prompt;
mod refusal;
mod tool;
pub mod wire;

pub use agent::Agent;
use edit::EditFacts;
use flags::{Command, Invocation};
pub use name::Name;

/// See [`tool::about_to_edit`].
pub fn about_to_edit(p: &wire::Payload) -> Option<String> {
    let name = Name::parse(p.hook_event_name.as_deref()?);
    tool::about_to_edit(name, p.tool_name.as_deref()?, p)
}
pub use refusal::Refusal;
use sha2::{Digest, Sha256};
use wire::Payload;

/// Who and where: fields every stored event carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    pub session_id: String,
    pub cwd: Option<String>,
    pub transcript_path: Option<String>,
    pub agent_id: Option<String>,
    pub agent_type: Option<String>,
    pub prompt_id: Option<String>,
    /// The hook event as Claude Code named it (`PostToolUse`), or `cli:<word>` for flags only.
    /// Another agent's event is named by its Claude Code equivalent.
    pub hook_event: String,
    /// The coding agent that sent it.
    pub agent: Agent,
}

impl Context {
    /// The hook event as named ([`Name::Unknown`] for a flag call's `cli:<word>`).
    pub fn name(&self) -> Name {
        Name::parse(&self.hook_event)
    }
}

/// The events flowhook records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// pre-task: a user's prompt, a subagent launch, or claude-flow's `pre-task`.
    Task(Task),
    /// pre-task too: a session starts (recall happens here; the session row is opened).
    SessionStart {
        source: String,
        model: Option<String>,
    },
    /// post-edit.
    Edit(Edit),
    /// session-end: `SessionEnd`, and the per-turn `Stop` / `PreCompact` (claude-flow v2 wiring).
    SessionEnd {
        reason: Option<String>,
        /// Stop's `last_assistant_message`: how the turn ended (bounded).
        last_message: Option<String>,
    },
    /// The swarm: a subagent starts, stops, or reports its result (PostToolUse of Agent, or a
    /// background agent's `<task-notification>` prompt, which is not a user's task).
    Subagent(Subagent),
}

/// How a stored event is told apart from a second delivery of the same one (a plugin copy
/// and a settings copy of a hook both run; a spooled copy is stored later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// Claude Code's own id (`tool_use_id`, `prompt_id`) or claude-flow's `--task-id`: the
    /// same id is the same event, whenever it arrives.
    Natural(String),
    /// A hash of the content, for events without an id (older clients, flag calls): the same
    /// content again is the same event only when it arrives within moments and nothing
    /// happened in the session in between; otherwise it was done again (a user typing
    /// "continue" twice).
    Content(String),
}

impl Key {
    /// The natural id when there is one, else a hash of `parts`.
    pub fn new(natural: Option<&str>, parts: &[&str]) -> Key {
        match natural.filter(|id| !id.is_empty()) {
            Some(id) => Key::Natural(id.to_owned()),
            None => Key::Content(key_of(parts)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Idempotency key within the session.
    pub key: Key,
    /// tool_use_id, prompt_id or claude-flow's `--task-id`, when one was given.
    pub task_id: Option<String>,
    pub text: String,
    pub subagent_type: Option<String>,
}

impl Task {
    /// A task whose key is `id` when there is one, else its kind and text.
    fn new(kind: &str, id: Option<&str>, text: String, subagent_type: Option<String>) -> Task {
        Task {
            key: Key::new(id, &[kind, &text]),
            task_id: id.map(str::to_owned),
            text,
            subagent_type,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub key: Key,
    pub tool_use_id: Option<String>,
    pub tool: String,
    pub facts: EditFacts,
    pub duration_ms: Option<u64>,
}

impl Edit {
    fn new(tool_use_id: Option<String>, tool: &str, facts: EditFacts, ms: Option<u64>) -> Edit {
        // Without a tool_use_id (old clients, claude-flow flags) the edit's own content is its
        // identity.
        let key = Key::new(
            tool_use_id.as_deref(),
            &["edit", tool, &facts.file, &facts.content_hash],
        );
        Edit {
            key,
            tool_use_id,
            tool: tool.to_owned(),
            facts,
            duration_ms: ms,
        }
    }
}

/// What one start, stop or result says of a subagent: recorded from an event (in a
/// [`Subagent`]) and read back from `swarm_coordination` for its session's summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct Swarm {
    /// `start`, `stop` or `result` (a pulled row: whatever another machine sent).
    pub kind: String,
    pub agent_id: Option<String>,
    pub agent_type: Option<String>,
    /// The Agent tool call that launched it: links it to its launch in task_log.
    pub tool_use_id: Option<String>,
    /// completed, async_launched, killed, failed, ...
    pub status: Option<String>,
    pub duration_ms: Option<u64>,
    pub tokens: Option<u64>,
}

impl Swarm {
    fn new(kind: &str) -> Swarm {
        Swarm {
            kind: kind.to_owned(),
            ..Swarm::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subagent {
    /// Idempotency key within the session.
    pub key: Key,
    pub swarm: Swarm,
    pub tool_count: Option<u64>,
    /// The subagent's last message or the notification's summary (bounded).
    pub detail: Option<String>,
}

/// A normalised event with its context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalised {
    pub ctx: Context,
    pub event: Event,
    /// More edits of the same call: a Codex `apply_patch` edits several files at once (the
    /// first is `event`). Stored with it, in the same transaction.
    pub more: Vec<Edit>,
}

impl Normalised {
    /// A short name for logs and replay output: `post-edit (Edit)`, `pre-task (prompt)`.
    pub fn label(&self) -> String {
        match &self.event {
            Event::Task(_) => format!("pre-task ({})", self.ctx.hook_event),
            Event::SessionStart { source, .. } => format!("pre-task (SessionStart {source})"),
            Event::Edit(e) => format!("post-edit ({})", e.tool),
            Event::SessionEnd { .. } => format!("session-end ({})", self.ctx.hook_event),
            Event::Subagent(a) => format!("subagent {} ({})", a.swarm.kind, self.ctx.hook_event),
        }
    }
}

/// What normalising needs besides the input: values from the environment, bounds, and the
/// redaction patterns of the configuration.
#[derive(Debug, Clone)]
pub struct Env {
    /// `CLAUDE_CODE_SESSION_ID`, for calls that carry no payload.
    pub session_id: Option<String>,
    /// The working directory, for calls whose payload names none.
    pub cwd: Option<String>,
    /// The agent that sent the payload (see [`agent::detect`]).
    pub agent: Agent,
    pub task_chars: usize,
    pub diff_bytes: usize,
    /// `redact.extra_patterns`, compiled.
    pub patterns: Vec<regex_lite::Regex>,
}

impl Env {
    /// The bounds of `limits`, with the environment's session and working directory.
    pub fn new(
        limits: &crate::config::Limits,
        session_id: Option<String>,
        cwd: Option<String>,
        patterns: Vec<regex_lite::Regex>,
    ) -> Env {
        Env {
            session_id,
            cwd,
            agent: Agent::ClaudeCode,
            task_chars: limits.task_chars,
            diff_bytes: limits.diff_bytes,
            patterns,
        }
    }

    /// `text` with its secrets removed, then bounded to `max` bytes.
    fn clean(&self, text: &str, max: usize) -> String {
        crate::redact::redact_bounded(text, max, &self.patterns)
    }

    /// A task's text, clean and bounded.
    fn task_text(&self, text: &str) -> String {
        self.clean(text, self.task_chars)
    }

    /// A last message, a subagent's result or an error, clean and bounded.
    fn message(&self, text: &str) -> String {
        self.clean(text, MESSAGE_CHARS)
    }

    fn redact(&self, text: &mut String) {
        crate::redact::redact_in_place(text, &self.patterns);
    }
}

/// Bytes kept of a last message, a subagent's result or an error.
const MESSAGE_CHARS: usize = 500;

/// The session of a claude-flow flag call that names none. The store files it under a
/// session of this machine, project and day (see `Store::flag_session`): the same task ids
/// sent by every machine running one workflow never meet in one session.
pub const UNKNOWN_SESSION: &str = "unknown-session";

/// What `payload` (if any) and the command line mean, or why they cannot be understood.
pub fn normalise(
    payload: Option<&Payload>,
    inv: &Invocation,
    env: &Env,
) -> Result<Option<Normalised>, Refusal> {
    let empty = Payload::default();
    let p = payload.unwrap_or(&empty);

    // stdin wins over flags; flags over the environment.
    let event_name = match (&p.hook_event_name, &inv.command) {
        (Some(name), _) => name.clone(),
        (None, Command::Hook(word)) => format!("cli:{}", word.name()),
        (None, Command::Other(word)) => {
            tracing::debug!(word, "claude-flow hook we do not record");
            return Ok(None);
        }
        (None, Command::FromStdin) if payload.is_some() => return Err(Refusal::NoEventName),
        (None, Command::FromStdin) => return Err(Refusal::Empty),
    };
    let from_cli = p.hook_event_name.is_none();
    if !from_cli && !is_event_name(&event_name) {
        return Err(Refusal::NotAnEventName(
            crate::text::truncate(&event_name, 80).0.to_owned(),
        ));
    }

    let session_id = p
        .session_id
        .clone()
        .or_else(|| inv.flags.session_id.clone())
        .or_else(|| from_cli.then(|| env.session_id.clone()).flatten())
        .filter(|s| !s.is_empty());
    let Some(session_id) = session_id.or_else(|| from_cli.then(|| UNKNOWN_SESSION.to_owned()))
    else {
        return Err(Refusal::NoSessionId(event_name));
    };
    let ctx = Context {
        session_id,
        // Loggers add `"agent_id": "unknown"`: no client sends it for a real agent.
        agent_id: p
            .agent_id
            .clone()
            .or_else(|| inv.flags.agent_id.clone())
            .filter(|a| !a.is_empty() && a != "unknown"),
        agent_type: p.agent_type.clone().filter(|t| !t.is_empty()),
        cwd: p.cwd.clone().filter(|c| !c.is_empty()),
        // Another agent's transcript is in its own format, which the reader would misread.
        transcript_path: p
            .transcript_path
            .clone()
            .filter(|_| env.agent == Agent::ClaudeCode),
        prompt_id: p.prompt_id.clone(),
        hook_event: event_name.clone(),
        agent: env.agent,
    };
    let tool = p.tool_name.as_deref().unwrap_or("");
    let mut more = Vec::new();

    let event = match Name::parse(&event_name) {
        Name::UserPromptSubmit => prompt::prompt(p, env)?,
        name @ (Name::PreToolUse | Name::PostToolUse | Name::PostToolUseFailure) => {
            if p.tool_name.is_none() {
                return Err(Refusal::NoToolName(event_name));
            }
            tool::tool(name, tool, p, env, &mut more)?
        }
        name @ (Name::SessionStart
        | Name::SessionEnd
        | Name::Stop
        | Name::PreCompact
        | Name::SubagentStart
        | Name::SubagentStop) => lifecycle::lifecycle(name, p, env),
        Name::Ignored(_) => None,
        Name::Unknown if event_name.starts_with("cli:") => {
            cli::flags_only(&event_name, &inv.flags, &ctx, env)?
        }
        Name::Unknown => {
            tracing::info!(
                event = event_name,
                "an event of a newer client; not recorded"
            );
            None
        }
    };
    let Some(event) = event else {
        tracing::debug!(event = event_name, tool, "not an event flowhook records");
        return Ok(None);
    };
    let mut n = Normalised { ctx, event, more };
    n.redact_fields(env);
    Ok(Some(n))
}

impl Normalised {
    /// Ids, names and paths are stored too, and any of them can hold a secret (`--task-id
    /// ghp_…`, a cwd with `token=…`): each is redacted like the texts. A natural key whose id
    /// held one becomes a hash of it: the same id is still the same event.
    fn redact_fields(&mut self, env: &Env) {
        let ctx = &mut self.ctx;
        let optional = [
            &mut ctx.cwd,
            &mut ctx.transcript_path,
            &mut ctx.agent_id,
            &mut ctx.agent_type,
            &mut ctx.prompt_id,
        ];
        let mut fields = vec![&mut ctx.session_id];
        let mut key = None;
        fields.extend(optional.into_iter().flatten());
        match &mut self.event {
            Event::Task(t) => {
                key = Some(&mut t.key);
                fields.extend([&mut t.task_id, &mut t.subagent_type].into_iter().flatten());
            }
            Event::SessionStart { source, model } => {
                fields.push(source);
                fields.extend(model.as_mut());
            }
            Event::Edit(e) => {
                key = Some(&mut e.key);
                fields.push(&mut e.tool);
                fields.extend(e.tool_use_id.as_mut());
            }
            Event::SessionEnd { reason, .. } => fields.extend(reason.as_mut()),
            Event::Subagent(a) => {
                key = Some(&mut a.key);
                let optional = [
                    &mut a.swarm.agent_id,
                    &mut a.swarm.agent_type,
                    &mut a.swarm.tool_use_id,
                    &mut a.swarm.status,
                ];
                fields.extend(optional.into_iter().flatten());
            }
        }
        for f in fields {
            env.redact(f);
        }
        let keys = key.into_iter().chain(self.more.iter_mut().map(|e| {
            env.redact(&mut e.tool);
            e.tool_use_id.iter_mut().for_each(|id| env.redact(id));
            &mut e.key
        }));
        for key in keys {
            if let Key::Natural(id) = key
                && crate::redact::redact(id, &env.patterns) != id.as_str()
            {
                *key = Key::Content(key_of(&[id]));
            }
        }
    }
}

/// `PostToolUse`, `TaskCompleted`: an event's name has that shape, whatever the version.
fn is_event_name(name: &str) -> bool {
    (3..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Parses one of the tool fields into the tool's type, naming the field path on error.
/// The message never quotes the offending value: it could hold a secret.
fn parse_tool<T: serde::de::DeserializeOwned>(
    field: &'static str,
    raw: Option<&serde_json::value::RawValue>,
) -> Result<Option<T>, Refusal> {
    let Some(raw) = raw.filter(|r| r.get() != "null") else {
        return Ok(None);
    };
    let mut de = serde_json::Deserializer::from_str(raw.get());
    serde_path_to_error::deserialize(&mut de)
        .map(Some)
        .map_err(|e| Refusal::ToolField {
            field,
            path: e.path().to_string(),
            source: e.into_inner(),
        })
}

/// A stable idempotency key for content without a natural id.
pub fn key_of(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    format!("h:{}", &crate::text::hex(&h.finalize())[..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn env() -> Env {
        Env {
            session_id: None,
            cwd: Some("/w".into()),
            agent: Agent::ClaudeCode,
            task_chars: 100,
            diff_bytes: 4096,
            patterns: Vec::new(),
        }
    }

    /// What `raw` and `args` mean, or the refusal as it is stored.
    pub(super) fn norm(raw: &str, args: &[&str]) -> Result<Option<Normalised>, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let inv = Invocation::from_args(&args).unwrap();
        let p: Option<Payload> = (!raw.is_empty()).then(|| serde_json::from_str(raw).unwrap());
        normalise(p.as_ref(), &inv, &env()).map_err(|e| e.to_string())
    }

    #[test]
    fn other_events_are_not_ours() {
        let raw = r#"{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Read","tool_input":"odd"}"#;
        assert_eq!(norm(raw, &[]).unwrap(), None);
        let raw = r#"{"session_id":"s","hook_event_name":"Notification"}"#;
        assert_eq!(norm(raw, &[]).unwrap(), None);
        // A newer client's event is a real payload: ignored, not rejected.
        let raw = r#"{"session_id":"s","hook_event_name":"BrandNewEvent"}"#;
        assert_eq!(norm(raw, &[]).unwrap(), None);
        let raw = r#"{"session_id":"s","hook_event_name":"no such thing!"}"#;
        assert!(
            norm(raw, &[])
                .unwrap_err()
                .contains("not a hook event name")
        );
        let raw = r#"{"session_id":"s","hook_event_name":"PostToolUse","tool_input":{}}"#;
        assert!(norm(raw, &[]).unwrap_err().contains("no tool_name"));
    }

    #[test]
    fn wrong_types_in_fields_we_use_name_the_field_not_the_value() {
        let raw = r#"{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Edit","tool_input":"sk-ant-api03-secretsecretsecretsecret"}"#;
        let e = norm(raw, &[]).unwrap_err();
        assert!(e.starts_with("tool_input") && !e.contains("secret"), "{e}");
        let raw = r#"{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Edit",
            "tool_input":{"file_path":"/a"},"tool_response":{"structuredPatch":[{"lines":[1]}]}}"#;
        let e = norm(raw, &[]).unwrap_err();
        assert!(
            e.starts_with("tool_response.structuredPatch[0].lines[0]"),
            "{e}"
        );
    }

    #[test]
    fn stdin_wins_over_flags() {
        let raw = r#"{"session_id":"s","hook_event_name":"SessionEnd","reason":"clear"}"#;
        let n = norm(raw, &["pre-task", "--description", "x"])
            .unwrap()
            .unwrap();
        assert_eq!(
            n.event,
            Event::SessionEnd {
                reason: Some("clear".into()),
                last_message: None,
            }
        );
    }

    #[test]
    fn loggers_unknown_agent_is_no_agent() {
        let raw = r#"{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":"hi",
            "agent_id":"unknown","logged_at":"2026-02-12T05:17:06.893706"}"#;
        let n = norm(raw, &[]).unwrap().unwrap();
        assert_eq!(n.ctx.agent_id, None);
    }

    #[test]
    fn paths_lose_their_secrets() {
        let raw = r#"{"session_id":"s","hook_event_name":"Stop","cwd":"/w/token=ghp_abcdefghijklmnopqrstuvwxyz0123456789"}"#;
        let n = norm(raw, &[]).unwrap().unwrap();
        assert!(!n.ctx.cwd.unwrap().contains("abcdefghij"));
    }
}

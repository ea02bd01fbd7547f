//! From a hook call (JSON payload and/or claude-flow flags) to the one internal event we store.
//!
//! `normalise` is pure: it decides what an input *means* (hook contract §2) and nothing else.
//! "Not for us" (a `Read`, a `Notification`) is `Ok(None)`, not an error; an error means the
//! input claims to be one of our events but cannot be understood, and it gets quarantined.

pub mod edit;
pub mod flags;
pub mod wire;

use edit::EditFacts;
use flags::{Command, Invocation};
use sha2::{Digest, Sha256};
use wire::{AgentInput, AgentResponse, EditInput, EditResponse, Payload};

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
    pub hook_event: String,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Idempotency key within the session: the natural id, else a hash of the content.
    pub key: String,
    /// tool_use_id, prompt_id or claude-flow's `--task-id`, when one was given.
    pub task_id: Option<String>,
    pub text: String,
    pub subagent_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub key: String,
    pub tool_use_id: Option<String>,
    pub tool: String,
    pub facts: EditFacts,
    pub duration_ms: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subagent {
    /// Idempotency key within the session.
    pub key: String,
    /// `start`, `stop` or `result`.
    pub kind: &'static str,
    pub agent_id: Option<String>,
    pub agent_type: Option<String>,
    /// The Agent tool call that launched it: links it to its launch in task_log.
    pub tool_use_id: Option<String>,
    /// completed, async_launched, killed, failed, ...
    pub status: Option<String>,
    pub duration_ms: Option<u64>,
    pub tokens: Option<u64>,
    pub tool_count: Option<u64>,
    /// The subagent's last message or the notification's summary (bounded).
    pub detail: Option<String>,
}

/// A normalised event with its context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalised {
    pub ctx: Context,
    pub event: Event,
}

impl Normalised {
    /// Removes secrets from every text this event would store (see `redact`).
    pub fn redact(&mut self, extra: &[regex_lite::Regex]) {
        use crate::redact::redact_in_place as r;
        for path in [&mut self.ctx.cwd, &mut self.ctx.transcript_path]
            .into_iter()
            .flatten()
        {
            r(path, extra);
        }
        match &mut self.event {
            Event::Task(t) => r(&mut t.text, extra),
            Event::Edit(e) => {
                r(&mut e.facts.file, extra);
                r(&mut e.facts.diff, extra);
            }
            Event::SessionEnd { last_message, .. } => {
                if let Some(m) = last_message {
                    r(m, extra);
                }
            }
            Event::Subagent(a) => {
                if let Some(d) = &mut a.detail {
                    r(d, extra);
                }
            }
            Event::SessionStart { .. } => {}
        }
    }

    /// A short name for logs and replay output: `post-edit (Edit)`, `pre-task (prompt)`.
    pub fn label(&self) -> String {
        match &self.event {
            Event::Task(_) => format!("pre-task ({})", self.ctx.hook_event),
            Event::SessionStart { source, .. } => format!("pre-task (SessionStart {source})"),
            Event::Edit(e) => format!("post-edit ({})", e.tool),
            Event::SessionEnd { .. } => format!("session-end ({})", self.ctx.hook_event),
            Event::Subagent(a) => format!("subagent {} ({})", a.kind, self.ctx.hook_event),
        }
    }
}

/// What normalising needs besides the input: values from the environment, and bounds.
#[derive(Debug, Clone)]
pub struct Env {
    /// `CLAUDE_CODE_SESSION_ID`, for calls that carry no payload.
    pub session_id: Option<String>,
    /// The process's working directory, for calls that carry no payload.
    pub cwd: Option<String>,
    pub task_chars: usize,
    pub diff_bytes: usize,
}

impl Env {
    /// The bounds of `limits`, with the environment's session and working directory.
    pub fn new(
        limits: &crate::config::Limits,
        session_id: Option<String>,
        cwd: Option<String>,
    ) -> Env {
        Env {
            session_id,
            cwd,
            task_chars: limits.task_chars,
            diff_bytes: limits.diff_bytes,
        }
    }
}

/// Every hook event of Claude Code 2.1.x: the ones flowhook does not record are ignored, any
/// other name is quarantined as unknown.
const KNOWN_EVENTS: &[&str] = &[
    "SessionStart",
    "Setup",
    "UserPromptSubmit",
    "UserPromptExpansion",
    "PreToolUse",
    "PermissionRequest",
    "PermissionDenied",
    "PostToolUse",
    "PostToolUseFailure",
    "PostToolBatch",
    "Notification",
    "Stop",
    "StopFailure",
    "SubagentStart",
    "SubagentStop",
    "PreCompact",
    "PostCompact",
    "Elicitation",
    "ElicitationResult",
    "TeammateIdle",
    "TaskCreated",
    "TaskCompleted",
    "InstructionsLoaded",
    "CwdChanged",
    "FileChanged",
    "ConfigChange",
    "WorktreeCreate",
    "WorktreeRemove",
    "SessionEnd",
    "PreModelSwitch",
    "PostModelSwitch",
    "MessageDisplay",
    "DirectoryAdded",
];

/// Characters kept of a last message, a subagent's result or an error.
const MESSAGE_CHARS: usize = 500;

/// The tools whose PostToolUse is a post-edit.
const EDIT_TOOLS: &[&str] = &["Write", "Edit", "MultiEdit", "NotebookEdit"];

/// What `payload` (if any) and the command line mean, or why they cannot be understood.
pub fn normalise(
    payload: Option<&Payload>,
    inv: &Invocation,
    env: &Env,
) -> Result<Option<Normalised>, String> {
    let empty = Payload::default();
    let p = payload.unwrap_or(&empty);
    let flags = &inv.flags;

    // stdin wins over flags; flags over the environment.
    let event_name = match (&p.hook_event_name, &inv.command) {
        (Some(name), _) => name.clone(),
        (None, Command::PreTask) => "cli:pre-task".to_owned(),
        (None, Command::PostEdit) => "cli:post-edit".to_owned(),
        (None, Command::SessionEnd) => "cli:session-end".to_owned(),
        (None, Command::Other(word)) => {
            tracing::debug!(word, "claude-flow hook we do not record");
            return Ok(None);
        }
        (None, Command::FromStdin) if payload.is_some() => {
            return Err(
                "the payload has no hook_event_name and no event was named on the \
                        command line (flowhook pre-task|post-edit|session-end)"
                    .to_owned(),
            );
        }
        (None, Command::FromStdin) => return Err("empty stdin and no event named".to_owned()),
    };
    let from_cli = p.hook_event_name.is_none();

    let session_id = p
        .session_id
        .clone()
        .or_else(|| flags.session_id.clone())
        .or_else(|| from_cli.then(|| env.session_id.clone()).flatten())
        .filter(|s| !s.is_empty());
    let Some(session_id) = session_id.or_else(|| from_cli.then(|| "unknown-session".to_owned()))
    else {
        return Err(format!("{event_name} payload has no session_id"));
    };
    let ctx = Context {
        session_id,
        cwd: p.cwd.clone().or_else(|| env.cwd.clone()),
        transcript_path: p.transcript_path.clone(),
        agent_id: p.agent_id.clone().or_else(|| flags.agent_id.clone()),
        agent_type: p.agent_type.clone().filter(|t| !t.is_empty()),
        prompt_id: p.prompt_id.clone(),
        hook_event: event_name.clone(),
    };
    let tool = p.tool_name.as_deref().unwrap_or("");

    let event = match event_name.as_str() {
        "UserPromptSubmit" => {
            let prompt = p
                .prompt
                .as_deref()
                .ok_or("UserPromptSubmit payload has no prompt")?;
            if let Some(result) = task_notification(prompt) {
                Event::Subagent(result)
            } else {
                let key = p
                    .prompt_id
                    .clone()
                    .unwrap_or_else(|| key_of(&["prompt", prompt]));
                Event::Task(Task {
                    key,
                    task_id: p.prompt_id.clone(),
                    text: bounded(prompt, env.task_chars),
                    subagent_type: None,
                })
            }
        }
        "PreToolUse" if matches!(tool, "Agent" | "Task") => {
            let input: AgentInput = parse_tool("tool_input", p.tool_input)?.unwrap_or_default();
            let text = match (input.description.as_deref(), input.prompt.as_deref()) {
                (Some(d), Some(pr)) => format!("{d}: {pr}"),
                (Some(t), None) | (None, Some(t)) => t.to_owned(),
                (None, None) => {
                    return Err(format!("{tool} tool_input has no description or prompt"));
                }
            };
            let key = p
                .tool_use_id
                .clone()
                .unwrap_or_else(|| key_of(&["agent", &text]));
            Event::Task(Task {
                key,
                task_id: p.tool_use_id.clone(),
                text: bounded(&text, env.task_chars),
                subagent_type: input.subagent_type,
            })
        }
        "PostToolUse" if EDIT_TOOLS.contains(&tool) => {
            let input: EditInput = parse_tool("tool_input", p.tool_input)?
                .ok_or_else(|| format!("{tool} payload has no tool_input"))?;
            let response: Option<EditResponse> = parse_tool("tool_response", p.tool_response)?;
            let facts = edit::facts(tool, &input, response.as_ref(), env.diff_bytes)?;
            Event::Edit(edit_event(
                p.tool_use_id.clone(),
                tool,
                facts,
                p.duration_ms,
            ))
        }
        "SessionStart" => Event::SessionStart {
            source: p.source.clone().unwrap_or_else(|| "startup".to_owned()),
            model: p.model.clone(),
        },
        "SessionEnd" => Event::SessionEnd {
            reason: p.reason.clone(),
            last_message: None,
        },
        "Stop" | "PreCompact" => Event::SessionEnd {
            reason: None,
            last_message: p
                .last_assistant_message
                .as_deref()
                .map(|m| bounded(m, MESSAGE_CHARS)),
        },
        "SubagentStart" | "SubagentStop" => {
            let kind = if event_name == "SubagentStart" {
                "start"
            } else {
                "stop"
            };
            let agent = p
                .agent_id
                .clone()
                .ok_or_else(|| format!("{event_name} payload has no agent_id"))?;
            let detail = p
                .last_assistant_message
                .as_deref()
                .map(|m| bounded(m, MESSAGE_CHARS));
            // A resumed agent stops again: each distinct stop is kept.
            let key = key_of(&[kind, &agent, detail.as_deref().unwrap_or("")]);
            Event::Subagent(Subagent {
                key,
                kind,
                agent_id: Some(agent),
                agent_type: ctx.agent_type.clone(),
                detail,
                ..Subagent::default()
            })
        }
        "PostToolUse" | "PostToolUseFailure" if matches!(tool, "Agent" | "Task") => {
            let r: AgentResponse =
                parse_tool("tool_response", p.tool_response)?.unwrap_or_default();
            let failed = event_name == "PostToolUseFailure";
            let key = p.tool_use_id.clone().map_or_else(
                || {
                    key_of(&[
                        "result",
                        r.agent_id.as_deref().unwrap_or(""),
                        p.tool_input.map_or("", |i| i.get()),
                    ])
                },
                |id| format!("result:{id}"),
            );
            Event::Subagent(Subagent {
                key,
                kind: "result",
                agent_id: r.agent_id,
                agent_type: r.agent_type,
                tool_use_id: p.tool_use_id.clone(),
                status: if failed {
                    Some("failed".to_owned())
                } else {
                    r.status
                },
                duration_ms: r.total_duration_ms.or(p.duration_ms),
                tokens: r.total_tokens,
                tool_count: r.total_tool_use_count,
                detail: p.error.as_deref().map(|e| bounded(e, MESSAGE_CHARS)),
            })
        }
        "cli:pre-task" => {
            let text = flags
                .description
                .as_deref()
                .ok_or("pre-task needs --description (or a JSON payload on stdin)")?;
            let key = flags
                .task_id
                .clone()
                .unwrap_or_else(|| key_of(&["cli", text]));
            Event::Task(Task {
                key,
                task_id: flags.task_id.clone(),
                text: bounded(text, env.task_chars),
                subagent_type: None,
            })
        }
        "cli:post-edit" => {
            let file = flags
                .file
                .clone()
                .ok_or("post-edit needs --file (or a JSON payload on stdin)")?;
            let file = absolute(&file, ctx.cwd.as_deref());
            let facts = edit::facts(
                "cli",
                &EditInput {
                    file_path: Some(file),
                    ..EditInput::default()
                },
                None,
                env.diff_bytes,
            )?;
            Event::Edit(edit_event(
                None,
                "cli",
                EditFacts {
                    kind: "edit",
                    ..facts
                },
                None,
            ))
        }
        "cli:session-end" => Event::SessionEnd {
            reason: None,
            last_message: None,
        },
        "PreToolUse" | "PostToolUse" | "PostToolUseFailure" if p.tool_name.is_none() => {
            return Err(format!("{event_name} payload has no tool_name"));
        }
        known if KNOWN_EVENTS.contains(&known) => {
            tracing::debug!(event = known, tool, "not an event flowhook records");
            return Ok(None);
        }
        // Quarantined rather than silently dropped: a new event of a newer client shows up
        // in rejected_events, where a maintainer sees it.
        other => return Err(format!("unknown hook event {other:?}")),
    };
    Ok(Some(Normalised { ctx, event }))
}

fn edit_event(tool_use_id: Option<String>, tool: &str, facts: EditFacts, ms: Option<u64>) -> Edit {
    // Without a tool_use_id (old clients, claude-flow flags) the edit's own content is its
    // identity: the same payload delivered twice is still stored once.
    let key = tool_use_id
        .clone()
        .unwrap_or_else(|| key_of(&["edit", tool, &facts.file, &facts.content_hash]));
    Edit {
        key,
        tool_use_id,
        tool: tool.to_owned(),
        facts,
        duration_ms: ms,
    }
}

/// Parses one of the tool fields into the tool's type, naming the field path on error.
fn parse_tool<T: serde::de::DeserializeOwned>(
    field: &str,
    raw: Option<&serde_json::value::RawValue>,
) -> Result<Option<T>, String> {
    let Some(raw) = raw.filter(|r| r.get() != "null") else {
        return Ok(None);
    };
    let mut de = serde_json::Deserializer::from_str(raw.get());
    serde_path_to_error::deserialize(&mut de)
        .map(Some)
        .map_err(|e| match e.path().to_string().as_str() {
            "." => format!("{field}: {}", e.inner()),
            path => format!("{field}.{path}: {}", e.inner()),
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

fn bounded(text: &str, max: usize) -> String {
    let (head, cut) = crate::text::truncate(text, max);
    if cut {
        format!("{head}…")
    } else {
        head.to_owned()
    }
}

/// A path made absolute against `cwd` (claude-flow passes what the agent typed).
fn absolute(path: &str, cwd: Option<&str>) -> String {
    let is_abs = path.starts_with('/') || path.starts_with('\\') || path.get(1..3) == Some(":\\");
    match cwd {
        Some(cwd) if !is_abs => format!("{}/{}", cwd.trim_end_matches('/'), path),
        _ => path.to_owned(),
    }
}

/// The fields of a `<task-notification>` prompt (contract §7), or `None` for a user's prompt.
/// For a background agent, `<task-id>` is its agent_id and `<tool-use-id>` its launch.
fn task_notification(prompt: &str) -> Option<Subagent> {
    let body = prompt.trim_start().strip_prefix("<task-notification>")?;
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = body.find(&open)? + open.len();
        let len = body[start..].find(&close)?;
        Some(body[start..start + len].trim().to_owned())
    };
    let task_id = tag("task-id");
    let status = tag("status");
    let summary = tag("summary").or_else(|| tag("result")).unwrap_or_default();
    // The same agent may notify again after being resumed: one row per status.
    let key = key_of(&[
        "notification",
        task_id.as_deref().unwrap_or(prompt),
        status.as_deref().unwrap_or(""),
    ]);
    Some(Subagent {
        key,
        kind: "result",
        agent_id: task_id,
        tool_use_id: tag("tool-use-id"),
        status,
        detail: Some(bounded(&summary, MESSAGE_CHARS)),
        ..Subagent::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env {
            session_id: None,
            cwd: Some("/w".into()),
            task_chars: 100,
            diff_bytes: 4096,
        }
    }

    fn norm(raw: &str, args: &[&str]) -> Result<Option<Normalised>, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let inv = Invocation::from_args(&args).unwrap();
        let p: Option<Payload> = (!raw.is_empty()).then(|| serde_json::from_str(raw).unwrap());
        normalise(p.as_ref(), &inv, &env())
    }

    #[test]
    fn prompt_is_a_task_keyed_by_prompt_id() {
        let n = norm(
            r#"{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":"fix it","prompt_id":"p1"}"#,
            &[],
        )
        .unwrap()
        .unwrap();
        let Event::Task(t) = n.event else { panic!() };
        assert_eq!((t.key.as_str(), t.text.as_str()), ("p1", "fix it"));
    }

    #[test]
    fn task_notification_is_a_subagent_result() {
        let prompt = "<task-notification>\n<task-id>b38aed5</task-id>\n<status>killed</status>\n\
                      <summary>Background command was stopped</summary>\n</task-notification>\nRead it";
        let raw = serde_json::json!({"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":prompt});
        let n = norm(&raw.to_string(), &[]).unwrap().unwrap();
        let Event::Subagent(r) = n.event else {
            panic!()
        };
        assert_eq!(r.agent_id.as_deref(), Some("b38aed5"));
        assert_eq!(r.status.as_deref(), Some("killed"));
    }

    #[test]
    fn agent_and_legacy_task_launches_are_tasks_but_task_create_is_not() {
        for tool in ["Agent", "Task"] {
            let raw = format!(
                r#"{{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"{tool}","tool_use_id":"t",
                "tool_input":{{"description":"Audit","prompt":"look","subagent_type":"Bash"}}}}"#
            );
            let Event::Task(t) = norm(&raw, &[]).unwrap().unwrap().event else {
                panic!()
            };
            assert_eq!(
                (t.text.as_str(), t.subagent_type.as_deref()),
                ("Audit: look", Some("Bash"))
            );
        }
        let raw = r#"{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"TaskCreate","tool_input":{}}"#;
        assert_eq!(norm(raw, &[]).unwrap(), None);
    }

    #[test]
    fn other_events_are_not_ours() {
        let raw = r#"{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Read","tool_input":"odd"}"#;
        assert_eq!(norm(raw, &[]).unwrap(), None);
        let raw = r#"{"session_id":"s","hook_event_name":"Notification"}"#;
        assert_eq!(norm(raw, &[]).unwrap(), None);
        let raw = r#"{"session_id":"s","hook_event_name":"BrandNewEvent"}"#;
        assert_eq!(
            norm(raw, &[]).unwrap_err(),
            "unknown hook event \"BrandNewEvent\""
        );
        let raw = r#"{"session_id":"s","hook_event_name":"PostToolUse","tool_input":{}}"#;
        assert!(norm(raw, &[]).unwrap_err().contains("no tool_name"));
    }

    #[test]
    fn wrong_types_in_fields_we_use_name_the_field() {
        let raw = r#"{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Edit","tool_input":"x"}"#;
        assert!(norm(raw, &[]).unwrap_err().starts_with("tool_input"));
        let raw = r#"{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Edit",
            "tool_input":{"file_path":"/a"},"tool_response":{"structuredPatch":[{"lines":[1]}]}}"#;
        let e = norm(raw, &[]).unwrap_err();
        assert!(
            e.starts_with("tool_response.structuredPatch[0].lines[0]"),
            "{e}"
        );
    }

    #[test]
    fn flags_only_calls_use_the_environment() {
        let n = norm("", &["hooks", "post-edit", "--file", "src/a.rs"])
            .unwrap()
            .unwrap();
        assert_eq!(n.ctx.session_id, "unknown-session");
        let Event::Edit(e) = n.event else { panic!() };
        assert_eq!(e.facts.file, "/w/src/a.rs");
        assert!(norm("", &["pre-task"]).is_err());
        assert!(norm("", &[]).is_err());
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
}

//! Which coding agent sent a hook call, and (feature `agents`) its payload in Claude Code's
//! words, so that one `normalise` serves every agent.
//!
//! The agent comes from `--agent codex|gemini|cursor|copilot` (what `install --agent` writes)
//! and, without it, from the payload's shape. What each agent sends and reads, as verified
//! (December 2026) against its source or published reference:
//!
//! - **Codex CLI** (`codex-rs/hooks/schema/generated/*.command.input.schema.json`, codex-cli
//!   0.171.0): Claude Code's event names and snake_case fields plus `turn_id` and `model`;
//!   edits are `PostToolUse` of `apply_patch` whose `tool_input.command` is the patch text
//!   (see [`super::patch`]); no `SessionEnd` (its `Stop` ends each turn). Its output schemas
//!   set `additionalProperties: false`: only `hookEventName` and `additionalContext` go in
//!   `hookSpecificOutput`. `transcript_path` is its own rollout format, not read.
//! - **Gemini CLI** (`docs/hooks/reference.md`; payloads recorded from the real client
//!   0.61.0, fixtures/agents/gemini-0.61.0.jsonl): `BeforeAgent` (`prompt`; context through
//!   `hookSpecificOutput.additionalContext`, appended to the prompt), `AfterTool`
//!   (`write_file` {file_path, content}, `replace` {file_path, old_string, new_string,
//!   allow_multiple}; `file_path` as the model wrote it, often relative; `tool_response`
//!   holds the applied `returnDisplay.fileDiff`, or `error` when the tool failed, which fires
//!   AfterTool too), `AfterAgent` (`prompt_response`, once per turn), `SessionStart` (context
//!   too), `SessionEnd` (not awaited). `PreCompress` fires before every model request, not
//!   only before a compression: it is not read as Claude Code's PreCompact. Every payload
//!   has `timestamp`; stdout must be JSON only; timeouts in ms.
//! - **Cursor** (hooks reference, `hooks.json` version 1): camelCase event names in
//!   `hook_event_name`, `conversation_id`, `generation_id`, `workspace_roots`;
//!   `beforeSubmitPrompt` (`prompt`; its output has no context field), `afterFileEdit`
//!   (`file_path`, `edits[]` of {old_string, new_string}), `stop` (`status`), `sessionEnd`.
//! - **GitHub Copilot CLI** (docs.github.com CLI hooks reference; payloads recorded from
//!   the real client 1.0.102, fixtures/agents/copilot-1.0.102.jsonl): camelCase
//!   configuration gives camelCase payloads without an event name (`sessionId`, `timestamp`
//!   in ms, `cwd`, `prompt` | `toolName` + `toolArgs` + `toolResult` | `reason` |
//!   `stopReason` | `source`); PascalCase configuration gives Claude Code's snake_case
//!   fields. Tools `create` {path, file_text} and `edit` {path, old_str, new_str} (a Claude
//!   model), or `apply_patch` whose `toolArgs` is the patch text (a GPT-5 model); a failed
//!   tool has no `postToolUse`. `sessionStart` and `userPromptSubmitted` read a top-level
//!   `additionalContext` (contrary to the reference, which says their output is ignored).

/// A coding agent whose hooks flowhook records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Agent {
    /// Claude Code, and claude-flow's hook lines inside it.
    #[default]
    ClaudeCode,
    Codex,
    Gemini,
    Cursor,
    Copilot,
}

impl Agent {
    /// The agents `install --agent` and `--agent` name (Claude Code is the default).
    pub const OTHERS: [Agent; 4] = [Agent::Codex, Agent::Gemini, Agent::Cursor, Agent::Copilot];

    /// The name stored in `session_summaries.agent` and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "claude-code",
            Agent::Codex => "codex",
            Agent::Gemini => "gemini",
            Agent::Cursor => "cursor",
            Agent::Copilot => "copilot",
        }
    }

    pub fn parse(name: &str) -> Option<Agent> {
        [Agent::ClaudeCode]
            .into_iter()
            .chain(Agent::OTHERS)
            .find(|a| a.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether the agent reads `hookSpecificOutput.additionalContext` for this (Claude Code
    /// named) event, and under which event name it must be answered.
    pub fn answers(self, event: &str) -> Option<&'static str> {
        match (self, event) {
            (Agent::ClaudeCode, _) => None,
            (Agent::Codex | Agent::Gemini, "SessionStart") => Some("SessionStart"),
            (Agent::Codex, "UserPromptSubmit") => Some("UserPromptSubmit"),
            (Agent::Gemini, "UserPromptSubmit") => Some("BeforeAgent"),
            // Copilot reads a top-level `additionalContext` (see `Answer::for_agent`).
            (Agent::Copilot, "SessionStart") => Some("sessionStart"),
            (Agent::Copilot, "UserPromptSubmit") => Some("userPromptSubmitted"),
            _ => None,
        }
    }
}

impl std::fmt::Display for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Gemini CLI's own event names (the ones Claude Code does not share).
#[cfg(feature = "agents")]
const GEMINI_EVENTS: &[&str] = &[
    "BeforeAgent",
    "AfterAgent",
    "BeforeTool",
    "AfterTool",
    "BeforeModel",
    "AfterModel",
    "BeforeToolSelection",
    "PreCompress",
];

/// The agent a payload comes from: `explicit` when given, else its shape says.
#[cfg(feature = "agents")]
pub fn detect(explicit: Option<Agent>, p: &super::wire::Payload) -> Agent {
    if let Some(a) = explicit {
        return a;
    }
    let name = p.hook_event_name.as_deref().unwrap_or("");
    if p.conversation_id.is_some() || name.starts_with(|c: char| c.is_ascii_lowercase()) {
        Agent::Cursor
    } else if GEMINI_EVENTS.contains(&name) {
        Agent::Gemini
    } else if p.turn_id.is_some() {
        Agent::Codex
    } else if p.session_id_camel.is_some() {
        Agent::Copilot
    } else {
        Agent::ClaudeCode
    }
}

/// Without the feature every payload is read as Claude Code's.
#[cfg(not(feature = "agents"))]
pub fn detect(_explicit: Option<Agent>, _p: &super::wire::Payload) -> Agent {
    Agent::ClaudeCode
}

/// `bytes` rewritten in Claude Code's words when `agent` speaks others, `None` when they are
/// Claude Code's already (Codex's and Claude Code's own) or are not a JSON object. Pure.
#[cfg(feature = "agents")]
pub fn translate(agent: Agent, bytes: &[u8]) -> Option<Vec<u8>> {
    use serde_json::{Map, Value};
    // Codex speaks Claude Code's words (its `apply_patch` is read in `tool.rs`).
    if matches!(agent, Agent::ClaudeCode | Agent::Codex) {
        return None;
    }
    let Value::Object(mut p) = serde_json::from_slice::<Value>(bytes).ok()? else {
        return None;
    };
    let take = |p: &mut Map<String, Value>, k: &str| p.remove(k).filter(|v| !v.is_null());
    match agent {
        Agent::ClaudeCode | Agent::Codex => {}
        Agent::Gemini => {
            let event = p
                .get("hook_event_name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let renamed = match event {
                "BeforeAgent" => "UserPromptSubmit",
                "AfterTool" => "PostToolUse",
                "AfterAgent" => "Stop",
                other => other,
            }
            .to_owned();
            if let Some(reply) = take(&mut p, "prompt_response") {
                p.insert("last_assistant_message".into(), reply);
            }
            p.insert("hook_event_name".into(), renamed.into());
            rename_tool(&mut p, &[("write_file", "Write"), ("replace", "Edit")]);
            gemini_result(&mut p);
        }
        Agent::Cursor => {
            if let Some(c) = take(&mut p, "conversation_id") {
                p.entry("session_id").or_insert(c);
            }
            if let Some(g) = take(&mut p, "generation_id") {
                p.insert("prompt_id".into(), g);
            }
            let root = p
                .get("workspace_roots")
                .and_then(|r| r.get(0))
                .filter(|r| r.is_string())
                .cloned();
            if let Some(root) = root {
                p.entry("cwd").or_insert(root);
            }
            let event = p
                .get("hook_event_name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let renamed = match event {
                "beforeSubmitPrompt" => "UserPromptSubmit",
                "afterFileEdit" | "afterTabFileEdit" => {
                    let input = Value::Object(
                        ["file_path", "edits"]
                            .into_iter()
                            .filter_map(|k| Some((k.to_owned(), take(&mut p, k)?)))
                            .collect(),
                    );
                    p.insert("tool_name".into(), "MultiEdit".into());
                    p.insert("tool_input".into(), input);
                    "PostToolUse"
                }
                "stop" => "Stop",
                "sessionStart" => "SessionStart",
                "sessionEnd" => "SessionEnd",
                "preCompact" => "PreCompact",
                // Cursor's other events are not ours: a name no client records.
                _ => "CursorEvent",
            };
            p.insert("hook_event_name".into(), renamed.into());
        }
        Agent::Copilot => copilot(&mut p),
    }
    serde_json::to_vec(&Value::Object(p)).ok()
}

/// Gemini CLI's tool result in Claude Code's words. A failed tool (`tool_response.error`,
/// AfterTool fires for it too) is a PostToolUseFailure: its edit never happened. A done
/// edit's result is the unified diff the client applied (`returnDisplay.fileDiff`, 0.61.0),
/// read as `structuredPatch`, so that an overwrite or a replace of several occurrences counts
/// what changed, not what was sent. Nothing else of its result is read as Claude Code's.
#[cfg(feature = "agents")]
fn gemini_result(p: &mut serde_json::Map<String, serde_json::Value>) {
    use serde_json::{Value, json};
    let Some(r) = p.remove("tool_response") else {
        return;
    };
    if r.get("error")
        .is_some_and(|e| e.is_object() || e.as_str().is_some_and(|e| !e.is_empty()))
    {
        p.insert("hook_event_name".into(), "PostToolUseFailure".into());
        return;
    }
    let display = r.get("returnDisplay");
    let Some(diff) = display
        .and_then(|d| d.get("fileDiff"))
        .and_then(Value::as_str)
    else {
        return;
    };
    // A new file's diff is all of it: counted from its content, as Claude Code's create.
    let result = if display.and_then(|d| d.get("isNewFile")) == Some(&Value::Bool(true)) {
        json!({"type": "create"})
    } else {
        json!({"type": "update", "structuredPatch": hunks(diff)})
    };
    p.insert("tool_response".into(), result);
}

/// A unified diff's hunks as `structuredPatch` entries: each `@@ -a,b +c,d @@` header with
/// the ` `/`-`/`+` lines after it (the file headers before the first hunk are not lines).
#[cfg(feature = "agents")]
fn hunks(diff: &str) -> Vec<serde_json::Value> {
    use serde_json::{Value, json};
    // `a,b`, or `a` alone for one line.
    let range = |r: &str| match r.split_once(',') {
        Some((start, n)) => (start.parse::<u64>().ok(), n.parse::<u64>().ok()),
        None => (r.parse().ok(), Some(1)),
    };
    let mut out: Vec<Value> = Vec::new();
    for line in diff.lines() {
        let header = line.strip_prefix("@@ -").and_then(|h| {
            let (old, rest) = h.split_once(" +")?;
            let (new, _) = rest.split_once(" @@")?;
            Some((range(old), range(new)))
        });
        if let Some(((os, ol), (ns, nl))) = header {
            out.push(
                json!({"oldStart": os, "oldLines": ol, "newStart": ns, "newLines": nl,
                "lines": []}),
            );
        } else if let Some(Value::Array(lines)) = out.last_mut().map(|h| &mut h["lines"])
            && line.starts_with([' ', '-', '+'])
        {
            lines.push(line.into());
        }
    }
    out
}

/// Copilot CLI: camelCase payloads (no event name: the shape says which) into snake_case,
/// and its tools into Claude Code's.
#[cfg(feature = "agents")]
fn copilot(p: &mut serde_json::Map<String, serde_json::Value>) {
    use serde_json::Value;
    for (camel, snake) in [
        ("sessionId", "session_id"),
        ("toolName", "tool_name"),
        ("toolArgs", "tool_input"),
        ("toolResult", "tool_response"),
        ("transcriptPath", "transcript_path"),
    ] {
        if let Some(v) = p.remove(camel) {
            p.entry(snake).or_insert(v);
        }
    }
    if !p.contains_key("hook_event_name") {
        let has = |k: &str| p.contains_key(k);
        let event = if has("prompt") {
            "UserPromptSubmit"
        } else if has("tool_name") && has("tool_response") {
            "PostToolUse"
        } else if has("tool_name") && has("error") {
            "PostToolUseFailure"
        } else if has("tool_name") {
            "PreToolUse"
        } else if has("stopReason") {
            "Stop"
        } else if has("source") {
            "SessionStart"
        } else if has("reason") {
            "SessionEnd"
        } else {
            "CopilotEvent"
        };
        p.insert("hook_event_name".into(), event.into());
    }
    // `toolArgs` is a JSON string in some versions, an object in others.
    if let Some(Value::String(args)) = p.get("tool_input")
        && let Ok(parsed @ Value::Object(_)) = serde_json::from_str::<Value>(args)
    {
        p.insert("tool_input".into(), parsed);
    }
    if let Some(Value::Object(args)) = p.get_mut("tool_input") {
        for (theirs, ours) in [
            ("path", "file_path"),
            ("file_text", "content"),
            ("old_str", "old_string"),
            ("new_str", "new_string"),
        ] {
            if let Some(v) = args.remove(theirs) {
                args.entry(ours).or_insert(v);
            }
        }
    }
    // With a GPT-5 model its edits are Codex's `apply_patch` (`toolArgs`: the patch text).
    rename_tool(
        p,
        &[
            ("create", "Write"),
            ("edit", "Edit"),
            ("apply_patch", "apply_patch"),
        ],
    );
    // Its tool results are not Claude Code's: the edit is counted from its input.
    p.remove("tool_response");
}

/// Renames the agent's edit tools to Claude Code's; any other tool keeps its name (and is
/// not recorded). A tool named like one of Claude Code's but not in `map` (Gemini has no
/// `Write`) is renamed away, so that its arguments are never read as Claude Code's.
#[cfg(feature = "agents")]
fn rename_tool(p: &mut serde_json::Map<String, serde_json::Value>, map: &[(&str, &'static str)]) {
    let Some(tool) = p.get("tool_name").and_then(|t| t.as_str()) else {
        return;
    };
    let renamed = match map.iter().find(|(theirs, _)| *theirs == tool) {
        Some((_, ours)) => (*ours).to_owned(),
        None => format!("other:{tool}"),
    };
    p.insert("tool_name".into(), renamed.into());
}

#[cfg(all(test, feature = "agents"))]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn translated(agent: Agent, v: Value) -> Value {
        serde_json::from_slice(&translate(agent, v.to_string().as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn names_read_back() {
        for a in Agent::OTHERS.into_iter().chain([Agent::ClaudeCode]) {
            assert_eq!(Agent::parse(a.as_str()), Some(a));
        }
        assert_eq!(Agent::parse("vim"), None);
    }

    #[test]
    fn cursor_edit_becomes_a_multiedit_in_its_workspace() {
        let v = translated(
            Agent::Cursor,
            json!({"hook_event_name":"afterFileEdit","conversation_id":"c1","generation_id":"g1",
                "workspace_roots":["/w"],"file_path":"/w/a.rs",
                "edits":[{"old_string":"a","new_string":"b\nc"}]}),
        );
        assert_eq!(v["hook_event_name"], "PostToolUse");
        assert_eq!(v["tool_name"], "MultiEdit");
        assert_eq!(v["session_id"], "c1");
        assert_eq!(v["cwd"], "/w");
        assert_eq!(v["tool_input"]["file_path"], "/w/a.rs");
    }

    #[test]
    fn copilot_camel_case_is_told_apart_by_shape() {
        let v = translated(
            Agent::Copilot,
            json!({"sessionId":"s","timestamp":1,"cwd":"/w","toolName":"edit",
                "toolArgs":"{\"path\":\"/w/a\",\"old_str\":\"x\",\"new_str\":\"y\"}",
                "toolResult":{"resultType":"success","textResultForLlm":"ok"}}),
        );
        assert_eq!(v["hook_event_name"], "PostToolUse");
        assert_eq!(v["tool_name"], "Edit");
        assert_eq!(v["tool_input"]["file_path"], "/w/a");
        let v = translated(
            Agent::Copilot,
            json!({"sessionId":"s","timestamp":1,"cwd":"/w","reason":"complete"}),
        );
        assert_eq!(v["hook_event_name"], "SessionEnd");
    }

    #[test]
    fn gemini_results_say_what_changed_and_failures_are_no_edits() {
        let diff = "Index: a\n===\n--- a\tOriginal\n+++ a\tWritten\n@@ -1,2 +1,3 @@\n alpha\n-beta\n+BETA\n+gamma\n@@ -9 +10 @@\n--x\n++y\n\\ No newline at end of file\n";
        let v = translated(
            Agent::Gemini,
            json!({"hook_event_name":"AfterTool","session_id":"s","tool_name":"write_file",
                "tool_input":{"file_path":"a","content":"x"},
                "tool_response":{"llmContent":"ok","returnDisplay":{"fileDiff":diff,"isNewFile":false}}}),
        );
        assert_eq!(
            v["tool_response"],
            json!({"type":"update","structuredPatch":[
                {"oldStart":1,"oldLines":2,"newStart":1,"newLines":3,
                 "lines":[" alpha","-beta","+BETA","+gamma"]},
                {"oldStart":9,"oldLines":1,"newStart":10,"newLines":1,"lines":["--x","++y"]}]})
        );
        let v = translated(
            Agent::Gemini,
            json!({"hook_event_name":"AfterTool","session_id":"s","tool_name":"replace",
                "tool_response":{"llmContent":"no","returnDisplay":"Error","error":{"message":"no"}}}),
        );
        assert_eq!(v["hook_event_name"], "PostToolUseFailure");
        assert!(v.get("tool_response").is_none());
    }

    #[test]
    fn a_foreign_tool_named_like_claude_codes_is_not_read_as_it() {
        let v = translated(
            Agent::Gemini,
            json!({"hook_event_name":"AfterTool","session_id":"s","tool_name":"Write"}),
        );
        assert_eq!(v["tool_name"], "other:Write");
    }
}

//! PreToolUse and PostToolUse: a subagent launch (Agent, or Task before 2.1.63), an edit
//! (Write, Edit, MultiEdit, NotebookEdit), a subagent's result. Other tools are not ours.

use super::wire::{AgentInput, AgentResponse, EditInput, EditResponse, Payload};
use super::{Edit, Env, Event, Key, Name, Refusal, Subagent, Swarm, Task, edit, parse_tool};

/// The tools whose PostToolUse is a post-edit.
const EDIT_TOOLS: &[&str] = &["Write", "Edit", "MultiEdit", "NotebookEdit"];

pub(super) fn tool(
    name: Name,
    tool: &str,
    p: &Payload,
    env: &Env,
    more: &mut Vec<Edit>,
) -> Result<Option<Event>, Refusal> {
    let agent_tool = matches!(tool, "Agent" | "Task");
    #[cfg(feature = "agents")]
    if name == Name::PostToolUse && tool == "apply_patch" {
        let mut edits = patched(p, env)?.into_iter();
        let first = edits.next();
        more.extend(edits);
        return Ok(first.map(Event::Edit));
    }
    #[cfg(not(feature = "agents"))]
    let _ = more;
    Ok(Some(match name {
        Name::PreToolUse if agent_tool => Event::Task(launch(tool, p, env)?),
        Name::PostToolUse if EDIT_TOOLS.contains(&tool) => Event::Edit(edited(tool, p, env)?),
        Name::PostToolUse | Name::PostToolUseFailure if agent_tool => {
            Event::Subagent(result(name, p, env)?)
        }
        _ => return Ok(None),
    }))
}

/// The file a PreToolUse of an edit tool is about to change: what the warning before an edit
/// looks up (nothing is recorded for it). Only the path is read of the input, which may hold a
/// whole file.
pub fn about_to_edit(name: Name, tool: &str, p: &Payload) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Target {
        file_path: Option<String>,
        notebook_path: Option<String>,
    }
    if name != Name::PreToolUse || !EDIT_TOOLS.contains(&tool) {
        return None;
    }
    let t: Target = parse_tool("tool_input", p.tool_input).ok()??;
    t.file_path.or(t.notebook_path).filter(|f| !f.is_empty())
}

/// A subagent launch: the task it was given.
fn launch(tool: &str, p: &Payload, env: &Env) -> Result<Task, Refusal> {
    let input: AgentInput = parse_tool("tool_input", p.tool_input)?.unwrap_or_default();
    let text = match (input.description.as_deref(), input.prompt.as_deref()) {
        (Some(d), Some(pr)) => format!("{d}: {pr}"),
        (Some(t), None) | (None, Some(t)) => t.to_owned(),
        // Still a launch: recorded under its type, so that it is counted.
        (None, None) => format!(
            "{tool} launch ({})",
            input.subagent_type.as_deref().unwrap_or("general-purpose")
        ),
    };
    Ok(Task::new(
        "agent",
        p.tool_use_id.as_deref(),
        env.task_text(&text),
        input.subagent_type,
    ))
}

fn edited(tool: &str, p: &Payload, env: &Env) -> Result<Edit, Refusal> {
    let input: EditInput = parse_tool("tool_input", p.tool_input)?.unwrap_or_default();
    let response: Option<EditResponse> = parse_tool("tool_response", p.tool_response)?;
    let mut facts = edit::facts(tool, &input, response.as_ref(), env.diff_bytes)?;
    anchor(&mut facts.file, p.cwd.as_deref());
    env.redact(&mut facts.file);
    env.redact(&mut facts.diff);
    Ok(Edit::new(p.tool_use_id.clone(), tool, facts, p.duration_ms))
}

/// A relative edit path (Codex's patch paths, the `file_path` Gemini's model chose) is
/// relative to the session's directory: stored absolute, as Claude Code's are, so that recall
/// finds the same file under one name and its name in the project is known.
fn anchor(file: &mut String, cwd: Option<&str>) {
    if let Some(cwd) = cwd.filter(|_| !file.starts_with('/')) {
        *file = std::path::Path::new(cwd)
            .join(&*file)
            .to_string_lossy()
            .into_owned();
    }
}

/// Codex's `apply_patch`: one edit per file of the patch. Its `tool_input` is the patch
/// text, or an object holding it in `command` (codex-cli 0.171), `patch` or `input`.
#[cfg(feature = "agents")]
fn patched(p: &Payload, env: &Env) -> Result<Vec<Edit>, Refusal> {
    let input: Option<serde_json::Value> = parse_tool("tool_input", p.tool_input)?;
    let text = match &input {
        Some(serde_json::Value::String(s)) => Some(s.as_str()),
        Some(serde_json::Value::Object(o)) => ["command", "patch", "input"]
            .iter()
            .find_map(|k| o.get(*k).and_then(|v| v.as_str())),
        _ => None,
    };
    let Some(text) = text else {
        return Err(Refusal::Missing(
            "apply_patch tool_input holds no patch text",
        ));
    };
    let files = super::patch::edits(text, env.diff_bytes);
    Ok(files
        .into_iter()
        .enumerate()
        .map(|(i, mut facts)| {
            anchor(&mut facts.file, p.cwd.as_deref());
            env.redact(&mut facts.file);
            env.redact(&mut facts.diff);
            // One call, several files: each file's edit has its own id.
            let id = p.tool_use_id.as_ref().map(|id| match i {
                0 => id.clone(),
                _ => format!("{id}#{i}"),
            });
            Edit::new(id, "apply_patch", facts, p.duration_ms)
        })
        .collect())
}

/// What the Agent tool returned: the subagent's outcome (or its failure), linked to its
/// launch by tool_use_id.
fn result(name: Name, p: &Payload, env: &Env) -> Result<Subagent, Refusal> {
    let r: AgentResponse = parse_tool("tool_response", p.tool_response)?.unwrap_or_default();
    let failed = name == Name::PostToolUseFailure;
    let key = match &p.tool_use_id {
        Some(id) => Key::Natural(format!("result:{id}")),
        None => Key::Content(super::key_of(&[
            "result",
            r.agent_id.as_deref().unwrap_or(""),
            p.tool_input.map_or("", |i| i.get()),
        ])),
    };
    // The launch's type, for a result whose launch was never seen (PreToolUse not wired).
    let input: AgentInput = parse_tool("tool_input", p.tool_input)
        .ok()
        .flatten()
        .unwrap_or_default();
    Ok(Subagent {
        key,
        swarm: Swarm {
            kind: "result".to_owned(),
            agent_id: r.agent_id,
            agent_type: r.agent_type.or(input.subagent_type),
            tool_use_id: p.tool_use_id.clone(),
            status: if failed {
                Some("failed".to_owned())
            } else {
                r.status
            },
            duration_ms: r.total_duration_ms.or(p.duration_ms),
            tokens: r.total_tokens,
        },
        tool_count: r.total_tool_use_count,
        detail: p.error.as_deref().map(|e| env.message(e)),
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::norm;
    use super::super::*;

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
    fn a_launch_without_text_is_still_a_launch() {
        let raw = r#"{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"Agent","tool_input":{"subagent_type":"Explore"}}"#;
        let Event::Task(t) = norm(raw, &[]).unwrap().unwrap().event else {
            panic!()
        };
        assert_eq!(t.subagent_type.as_deref(), Some("Explore"));
    }

    #[test]
    fn a_result_carries_its_launch_and_type() {
        let raw = r#"{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Task","tool_use_id":"toolu_1",
            "tool_input":{"description":"d","prompt":"p","subagent_type":"researcher"},
            "tool_response":{"status":"completed","totalDurationMs":5}}"#;
        let Event::Subagent(a) = norm(raw, &[]).unwrap().unwrap().event else {
            panic!()
        };
        assert_eq!(
            (
                a.swarm.tool_use_id.as_deref(),
                a.swarm.agent_type.as_deref()
            ),
            (Some("toolu_1"), Some("researcher"))
        );
    }
}

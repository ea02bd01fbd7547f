//! UserPromptSubmit: a user's task, or, when the "prompt" is a `<task-notification>` block
//! the client wrote itself (hook contract §7), a background agent's result.

use super::{Env, Event, Key, Refusal, Subagent, Swarm, Task, wire::Payload};

pub(super) fn prompt(p: &Payload, env: &Env) -> Result<Option<Event>, Refusal> {
    let prompt = p
        .prompt
        .as_deref()
        .ok_or(Refusal::Missing("UserPromptSubmit payload has no prompt"))?;
    if let Some(notification) = prompt.trim_start().strip_prefix("<task-notification>") {
        return Ok(task_notification(notification, prompt, env).map(Event::Subagent));
    }
    Ok(Some(Event::Task(Task::new(
        "prompt",
        p.prompt_id.as_deref(),
        env.task_text(prompt),
        None,
    ))))
}

/// The fields of a `<task-notification>` block. For a background agent, `<task-id>` is its
/// agent_id and `<tool-use-id>` its launch. The same block also reports background shell
/// commands (`Background command "…" was stopped`, task ids starting with `b`): those are
/// not agents, and not recorded.
fn task_notification(body: &str, prompt: &str, env: &Env) -> Option<Subagent> {
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = body.find(&open)? + open.len();
        let len = body[start..].find(&close)?;
        Some(body[start..start + len].trim().to_owned())
    };
    let task_id = tag("task-id");
    let summary = tag("summary").or_else(|| tag("result")).unwrap_or_default();
    let is_command = summary.starts_with("Background command")
        || task_id.as_deref().is_some_and(|t| t.starts_with('b'));
    if is_command {
        tracing::debug!(task_id, "a background command's notification; not an agent");
        return None;
    }
    let status = tag("status");
    // The same agent may notify again after being resumed: one row per status.
    let key = Key::Content(super::key_of(&[
        "notification",
        task_id.as_deref().unwrap_or(prompt),
        status.as_deref().unwrap_or(""),
    ]));
    Some(Subagent {
        key,
        swarm: Swarm {
            agent_id: task_id,
            tool_use_id: tag("tool-use-id"),
            status,
            ..Swarm::new("result")
        },
        tool_count: None,
        detail: Some(env.message(&summary)),
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::norm;
    use super::super::*;

    #[test]
    fn prompt_is_a_task_keyed_by_prompt_id_else_by_content() {
        let n = norm(
            r#"{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":"fix it","prompt_id":"p1"}"#,
            &[],
        )
        .unwrap()
        .unwrap();
        let Event::Task(t) = n.event else { panic!() };
        assert_eq!(
            (t.key, t.text.as_str()),
            (Key::Natural("p1".into()), "fix it")
        );
        let n = norm(
            r#"{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":"fix it"}"#,
            &[],
        )
        .unwrap()
        .unwrap();
        let Event::Task(t) = n.event else { panic!() };
        assert!(matches!(t.key, Key::Content(_)));
    }

    #[test]
    fn an_agents_notification_is_a_result_and_a_commands_is_nothing() {
        let agent = "<task-notification>\n<task-id>a0b5099</task-id>\n<status>failed</status>\n\
                     <summary>Agent \"x\" failed</summary>\n</task-notification>";
        let raw = serde_json::json!({"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":agent});
        let Event::Subagent(r) = norm(&raw.to_string(), &[]).unwrap().unwrap().event else {
            panic!()
        };
        assert_eq!(
            (r.swarm.agent_id.as_deref(), r.swarm.status.as_deref()),
            (Some("a0b5099"), Some("failed"))
        );
        let command = "<task-notification>\n<task-id>b38aed5</task-id>\n<status>killed</status>\n\
                      <summary>Background command \"npm run dev\" was stopped</summary>\n</task-notification>\nRead it";
        let raw = serde_json::json!({"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":command});
        assert_eq!(norm(&raw.to_string(), &[]).unwrap(), None);
    }

    #[test]
    fn secrets_go_before_the_bound() {
        // The bound (100 bytes in these tests) falls inside the key.
        let prompt = format!(
            "{}use sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123",
            "x".repeat(80)
        );
        let raw = serde_json::json!({"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":prompt});
        let Event::Task(t) = norm(&raw.to_string(), &[]).unwrap().unwrap().event else {
            panic!()
        };
        assert!(!t.text.contains("AbCd"), "{}", t.text);
    }
}

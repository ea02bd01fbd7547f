//! Sessions and subagents starting and stopping: SessionStart, SessionEnd, the per-turn Stop
//! and PreCompact, SubagentStart and SubagentStop.

use super::{Env, Event, Key, Name, Subagent, Swarm, wire::Payload};

pub(super) fn lifecycle(name: Name, p: &Payload, env: &Env) -> Option<Event> {
    Some(match name {
        Name::SessionStart => Event::SessionStart {
            source: p.source.clone().unwrap_or_else(|| "startup".to_owned()),
            model: p.model.clone(),
        },
        Name::SessionEnd => Event::SessionEnd {
            reason: p.reason.clone(),
            last_message: None,
        },
        Name::Stop | Name::PreCompact => Event::SessionEnd {
            reason: None,
            last_message: p.last_assistant_message.as_deref().map(|m| env.message(m)),
        },
        Name::SubagentStart => Event::Subagent(subagent("start", p, env)),
        _ => Event::Subagent(subagent("stop", p, env)),
    })
}

/// A subagent starting or stopping. Clients before 2.0.x send SubagentStop with no
/// `agent_id` and no `agent_type`: it is the end of a subagent of that session whose agent is
/// unknown, stored with an empty agent (the store links it to the session's one open launch
/// when there is exactly one).
fn subagent(kind: &str, p: &Payload, env: &Env) -> Subagent {
    let agent = p
        .agent_id
        .clone()
        .filter(|a| !a.is_empty() && a != "unknown");
    let detail = p.last_assistant_message.as_deref().map(|m| env.message(m));
    // A resumed agent stops again: each distinct stop is kept.
    let key = Key::Content(super::key_of(&[
        kind,
        agent.as_deref().unwrap_or(""),
        detail.as_deref().unwrap_or(""),
    ]));
    Subagent {
        key,
        swarm: Swarm {
            agent_id: agent,
            agent_type: p.agent_type.clone().filter(|t| !t.is_empty()),
            ..Swarm::new(kind)
        },
        tool_count: None,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::norm;
    use super::super::*;

    #[test]
    fn an_old_clients_subagent_stop_is_a_stop_of_an_unknown_agent() {
        let raw = r#"{"session_id":"s","transcript_path":"/t.jsonl","cwd":"/w","permission_mode":"default",
            "hook_event_name":"SubagentStop","stop_hook_active":false}"#;
        let n = norm(raw, &[]).unwrap().unwrap();
        let Event::Subagent(a) = n.event else {
            panic!()
        };
        assert_eq!((a.swarm.kind.as_str(), a.swarm.agent_id), ("stop", None));
    }

    #[test]
    fn sessions_start_and_end() {
        let raw = r#"{"session_id":"s","hook_event_name":"SessionStart"}"#;
        assert!(matches!(
            norm(raw, &[]).unwrap().unwrap().event,
            Event::SessionStart { source, .. } if source == "startup"
        ));
    }
}

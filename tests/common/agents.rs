//! What the other coding agents' sessions stored, and a Claude Code session to recall
//! (tests/agents.rs, tests/agents_real.rs).

use super::*;
use std::path::Path;

/// An edit as stored: the file relative to the project, lines added, lines removed.
pub type Edit = (String, String, String);

pub fn e(file: &str, added: u32, removed: u32) -> Edit {
    (file.to_owned(), added.to_string(), removed.to_string())
}

/// The session's agent, prompts and edits (file relative to the project, +, -), in order.
pub fn recorded(w: &World, session: &str) -> (String, Vec<String>, Vec<Edit>) {
    let agent = w.query(&format!(
        "SELECT coalesce(agent, 'NULL') FROM session_summaries WHERE session_id = '{session}'"
    ));
    let prompts = w
        .query(&format!(
            "SELECT task FROM task_log WHERE session_id = '{session}' ORDER BY created_at, rowid"
        ))
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let edits = w
        .query(&format!(
            "SELECT rel_path, lines_added, lines_removed FROM edit_history
             WHERE session_id = '{session}' ORDER BY created_at, rowid"
        ))
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
        .collect();
    (
        agent.first().map_or("none".into(), |r| r[0].clone()),
        prompts,
        edits,
    )
}

/// A Claude Code session's prompt and edit in `dir`.
pub fn claude_session(w: &World, session: &str, text: &str, file: &Path) {
    let out = w.hook(
        &[],
        &prompt_with_id(session, &format!("{session}-p"), w.project(), text),
    );
    assert_hook_contract(&out, text);
    let mut edit = edit_template();
    edit["session_id"] = session.into();
    edit["cwd"] = w.project().to_string_lossy().as_ref().into();
    edit["tool_use_id"] = format!("{session}-t").into();
    edit["prompt_id"] = format!("{session}-p").into();
    edit["tool_input"]["file_path"] = file.to_string_lossy().as_ref().into();
    let out = w.hook(&[], edit.to_string().as_bytes());
    assert_hook_contract(&out, "edit");
}

/// The context flowhook gives a Claude Code prompt `text` of `session` in the project, which
/// must keep the hook contract and be given some.
pub fn given_to_claude(w: &World, session: &str, text: &str) -> String {
    let out = w.hook(
        &[],
        &prompt_with_id(session, &format!("{session}-p"), w.project(), text),
    );
    assert_hook_contract(&out, text);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no context for Claude Code's {text:?}"));
    v["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap()
        .to_owned()
}

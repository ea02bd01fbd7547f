//! Real input is never bad input: payloads of older clients (fields that arrived in later
//! versions missing), events with no directory of their own, and quarantined payloads that
//! hold secrets behind JSON escapes. Each through the built binary.

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The payload of a SubagentStop as clients before 2.0 sent it: nothing more.
fn old_subagent_stop(session: &str) -> String {
    json!({"session_id": session, "transcript_path": "/home/dev/.claude/projects/p/x.jsonl",
        "cwd": "/home/dev/proj", "permission_mode": "default",
        "hook_event_name": "SubagentStop", "stop_hook_active": false})
    .to_string()
}

#[test]
fn an_old_clients_subagent_stop_is_the_end_of_its_sessions_open_launch() {
    let w = World::new();
    let launch = json!({"session_id": "old", "cwd": "/home/dev/proj", "hook_event_name": "PreToolUse",
        "tool_name": "Task", "tool_use_id": "toolu_1",
        "tool_input": {"description": "Audit", "prompt": "look", "subagent_type": "researcher"}});
    for line in [launch.to_string(), old_subagent_stop("old")] {
        let out = w.hook(&[], line.as_bytes());
        assert_hook_contract(&out, &line);
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(w.count("SELECT count(*) FROM rejected_events"), 0);
    assert_eq!(
        w.query("SELECT event, agent_id, tool_use_id, agent_type FROM swarm_coordination"),
        rows![["stop", "NULL", "toolu_1", "researcher"]]
    );
    let end = json!({"session_id": "old", "cwd": "/home/dev/proj", "hook_event_name": "Stop"});
    assert_hook_contract(&w.hook(&[], end.to_string().as_bytes()), "stop");
    let m: Value =
        serde_json::from_str(&w.query("SELECT metrics FROM session_summaries")[0][0]).unwrap();
    assert_eq!(m["subagent_launches"], json!({"researcher": 1}));
    assert_eq!(m["agents"][0]["status"], "completed");
    assert_eq!(m["agents"][0]["tool_use_id"], "toolu_1");

    // With two launches open it cannot tell which: stored, linked to neither.
    let w = World::new();
    for id in ["toolu_a", "toolu_b"] {
        let mut l = launch.clone();
        l["session_id"] = "two".into();
        l["tool_use_id"] = id.into();
        assert_hook_contract(&w.hook(&[], l.to_string().as_bytes()), "launch");
    }
    assert_hook_contract(&w.hook(&[], old_subagent_stop("two").as_bytes()), "stop");
    assert_eq!(
        w.query("SELECT event, tool_use_id FROM swarm_coordination"),
        rows![["stop", "NULL"]]
    );
}

/// The fields that arrived in different client versions: a payload without any of them is
/// still a real payload.
const LATE_FIELDS: &[&str] = &[
    "agent_id",
    "agent_type",
    "tool_use_id",
    "prompt_id",
    "cwd",
    "transcript_path",
    "permission_mode",
];

/// The corpus with `fields` taken out of every payload, written as a directory of files.
fn corpus_without(dir: &Path, fields: &[&str]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    for e in std::fs::read_dir(corpus()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "jsonl") {
            continue;
        }
        let mut out = String::new();
        for line in std::fs::read_to_string(&p).unwrap().lines() {
            let mut v: Value = serde_json::from_str(line).unwrap();
            for f in fields {
                v.as_object_mut().unwrap().remove(*f);
            }
            out.push_str(&v.to_string());
            out.push('\n');
        }
        std::fs::write(dir.join(p.file_name().unwrap()), out).unwrap();
    }
    dir.to_path_buf()
}

#[test]
fn no_field_that_some_client_version_omits_is_a_reason_to_reject() {
    let w = World::new();
    let mut variants: Vec<Vec<&str>> = LATE_FIELDS.iter().map(|f| vec![*f]).collect();
    variants.push(LATE_FIELDS.to_vec());
    for (i, fields) in variants.iter().enumerate() {
        let dir = corpus_without(&w.path().join(format!("variant-{i}")), fields);
        let db = w.path().join(format!("variant-{i}.db"));
        let out = succeeded(
            w.cmd(&["replay", "--json", "--db", &db.to_string_lossy()])
                .arg(&dir),
        );
        let totals: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(totals["rejected"], 0, "without {fields:?}: {totals}");
        assert_eq!(
            query(&db, "SELECT count(*) FROM rejected_events"),
            rows![[0]],
            "{fields:?}"
        );
        assert!(
            query(&db, "SELECT count(*) FROM edit_history")[0][0]
                .parse::<u32>()
                .unwrap()
                > 100
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("WARN") && !stderr.contains("ERROR"),
            "{stderr}"
        );
    }
}

#[test]
fn events_without_a_directory_belong_to_their_sessions_project() {
    let w = World::new();
    let project = "/home/dev/shop";
    let prompt = json!({"session_id": "k", "cwd": project, "hook_event_name": "UserPromptSubmit",
        "prompt": "refactor the knowledge store in knowledge_db.py"});
    let mut e = edit_template();
    e["session_id"] = "k".into();
    e["cwd"] = project.into();
    e["tool_input"]["file_path"] = format!("{project}/knowledge_db.py").into();
    // The session's later events carry no cwd (an older client, a claude-flow flag call),
    // and are stored by a process running elsewhere.
    let mut late = e.clone();
    late["tool_use_id"] = "late-edit".into();
    late.as_object_mut().unwrap().remove("cwd");
    let end = json!({"session_id": "k", "hook_event_name": "SessionEnd", "reason": "other"});
    let elsewhere = w.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    for line in [prompt, e, late, end] {
        let mut c = w.cmd(&[]);
        c.current_dir(&elsewhere);
        let out = run_with_stdin(c, line.to_string().as_bytes());
        assert_hook_contract(&out, &line.to_string());
    }
    assert_eq!(
        w.query("SELECT DISTINCT project FROM edit_history"),
        rows![[project]]
    );
    assert_eq!(
        w.query("SELECT project, file, sessions, edits FROM knowledge_base"),
        rows![[project, "knowledge_db.py", 1, 2]]
    );
}

#[test]
fn a_truncated_payload_keeps_no_secret_behind_an_escape() {
    let w = World::new();
    let credentials = "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\
                       aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY\n\
                       token = \"tok_9f8e7d6c5b4a3f2e1d0c\"\n";
    let write =
        json!({"session_id": "t", "cwd": "/home/dev/proj", "hook_event_name": "PostToolUse",
        "tool_name": "Write", "tool_use_id": "w",
        "tool_input": {"file_path": "/home/dev/.aws/credentials", "content": credentials}})
        .to_string();
    // Cut in the middle of the payload (and once inside the secret key itself).
    let at = write.find("wJalr").unwrap();
    for cut in [write.len() - 40, at + 12] {
        let out = w.hook(&[], &write.as_bytes()[..cut]);
        assert_hook_contract(&out, "truncated");
    }
    let kept = w.query("SELECT group_concat(payload, char(10)) FROM rejected_events");
    assert_eq!(w.count("SELECT count(*) FROM rejected_events"), 2);
    for secret in ["wJalrXUtnF", "IOSFODNN7", "tok_9f8e7d6c"] {
        assert!(!kept[0][0].contains(secret), "{secret} in {}", kept[0][0]);
    }
    assert!(kept[0][0].contains("[REDACTED]"));
}

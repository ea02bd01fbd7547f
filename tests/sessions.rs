//! Session-end: one exact summary row per session, the swarm view, knowledge, transcripts,
//! and the commands that show and prune them.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

/// The session's metrics JSON.
fn metrics(w: &World, session_prefix: &str) -> Value {
    let rows = w.query(&format!(
        "SELECT metrics FROM session_summaries WHERE session_id LIKE '{session_prefix}%'"
    ));
    assert_eq!(rows.len(), 1, "one row for {session_prefix}");
    serde_json::from_str(&rows[0][0]).unwrap()
}

/// A fixture's lines with their transcript paths pointing at the recorded transcripts.
fn with_transcripts(hooks: &Path, transcripts: &Path) -> String {
    let dir = transcripts.to_str().unwrap();
    std::fs::read_to_string(hooks)
        .unwrap()
        .replace("/home/dev/.claude/projects/-home-dev-proj", dir)
}

fn feed(w: &World, lines: &str) {
    for line in lines.lines() {
        assert_hook_contract(&w.hook(&[], line.as_bytes()), line);
    }
}

#[test]
fn a_swarm_session_has_exact_metrics_and_its_agents_linked_to_their_launches() {
    let w = World::new();
    w.hook_lines(&fixture(
        "recorded/claude-code-2.1.328__parallel-agents.jsonl",
    ));
    let m = metrics(&w, "");
    assert_eq!(m["prompts"], 1);
    assert_eq!(
        m["subagent_launches"],
        serde_json::json!({"general-purpose": 2})
    );
    assert_eq!(
        (m["edits"].as_u64(), m["files_touched"].as_u64()),
        (Some(4), Some(2))
    );
    assert_eq!(
        (m["files_created"].as_u64(), m["files_updated"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(
        (m["lines_added"].as_u64(), m["lines_removed"].as_u64()),
        (Some(4), Some(0))
    );
    assert_eq!(
        m["edits_by_tool"],
        serde_json::json!({"Edit": 2, "Write": 2})
    );
    assert_eq!(m["end_reason"], "other");
    let agents = m["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 2);
    for a in agents {
        assert_eq!(a["status"], "completed");
        assert_eq!(a["edits"], 2);
        assert_eq!(a["agent_type"], "general-purpose");
        assert!(a["tool_use_id"].as_str().unwrap().starts_with("toolu_"));
        assert!(a["duration_ms"].as_u64().unwrap() > 0);
    }
    let summary = &w.query("SELECT summary FROM session_summaries")[0][0];
    assert!(
        summary.contains("1 prompt, 2 subagents, 4 edits to 2 files (+4 -0), 2 created."),
        "{summary}"
    );
    assert!(
        summary.contains("- Subagents: 2 general-purpose (completed 2)"),
        "{summary}"
    );

    // `show` draws each agent's events under its launch.
    let sid = &w.query("SELECT session_id FROM session_summaries")[0][0];
    let out = succeeded(&mut w.cmd(&["show", &sid[..8]]));
    let show = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        show.matches("  ├─ edit ").count() + show.matches("  └─ edit ").count(),
        4,
        "{show}"
    );
    assert_eq!(show.matches("└─ result").count(), 2, "{show}");
}

#[test]
fn a_background_agent_is_linked_through_its_task_notification() {
    let w = World::new();
    w.hook_lines(&fixture("recorded/claude-code-2.1.328__subagent-bg.jsonl"));
    let m = metrics(&w, "");
    assert_eq!(m["prompts"], 1, "the notification is not a prompt");
    let a = &m["agents"][0];
    assert_eq!(
        (a["status"].as_str(), a["edits"].as_u64()),
        (Some("completed"), Some(2))
    );
    assert_eq!(
        w.query("SELECT event, status FROM swarm_coordination ORDER BY rowid"),
        rows![
            ["start", "NULL"],
            ["result", "async_launched"],
            ["stop", "NULL"],
            ["result", "completed"]
        ]
    );
}

#[test]
fn ten_stops_then_a_session_end_leave_one_row_with_the_final_values() {
    let w = World::new();
    let text = std::fs::read_to_string(fixture("demo-session.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let stop = lines.iter().find(|l| l.contains("\"Stop\"")).unwrap();
    for line in &lines[..lines.len() - 2] {
        assert_hook_contract(&w.hook(&[], line.as_bytes()), line);
    }
    for _ in 0..10 {
        assert_hook_contract(&w.hook(&[], stop.as_bytes()), stop);
    }
    let before = w.query("SELECT summary, metrics FROM session_summaries");
    assert_eq!(
        w.query("SELECT end_reason, last_event FROM session_summaries"),
        rows![["NULL", "Stop"]]
    );
    assert_hook_contract(&w.hook(&[], lines[lines.len() - 1].as_bytes()), "end");
    assert_eq!(w.count("SELECT count(*) FROM session_summaries"), 1);
    assert_eq!(
        w.query("SELECT end_reason, last_event, prompts, edits, lines_added, lines_removed FROM session_summaries"),
        rows![["other", "SessionEnd", 1, 3, 7, 1]]
    );
    // Nothing but the ending changed: the Stops had the counts right already.
    let after = w.query("SELECT summary FROM session_summaries");
    assert_eq!(
        before[0][0].replace(", ended: other", ""),
        after[0][0].replace(", ended: other", "")
    );
}

#[test]
fn a_session_without_edits_and_one_that_never_ended() {
    let w = World::new();
    w.hook_lines(&corpus().join("claude-code-2.1.328__bash-fail.jsonl"));
    let m = metrics(&w, "c5054e26");
    assert_eq!(
        (m["edits"].as_u64(), m["prompts"].as_u64()),
        (Some(0), Some(1))
    );
    let summary =
        &w.query("SELECT summary FROM session_summaries WHERE session_id LIKE 'c5054e26%'")[0][0];
    assert!(summary.contains("1 prompt, no edits."), "{summary}");
    assert!(
        summary.contains(
            "Last reply: \"The first command failed with exit code 3; the second printed ok.\""
        ),
        "{summary}"
    );

    // An old client's session: Stops, never a SessionEnd. Summarised from its Stops.
    w.hook_lines(&fixture("old-client.jsonl"));
    assert_eq!(
        w.query(
            "SELECT end_reason, last_event, prompts, edits, lines_added, summary IS NOT NULL
             FROM session_summaries WHERE session_id LIKE '0d49cf6b%'"
        ),
        rows![["NULL", "Stop", 2, 1, 6, 1]]
    );
    let out = w.cmd(&["sessions"]).output().unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("(no SessionEnd)") && table.contains("0d49cf6b"),
        "{table}"
    );
}

#[test]
fn a_resumed_session_that_ends_three_times_is_one_row() {
    let w = World::new();
    w.hook_lines(&fixture("recorded/claude-code-2.1.328__resume-clear.jsonl"));
    assert_eq!(w.count("SELECT count(*) FROM session_summaries"), 1);
    let m = metrics(&w, "");
    assert_eq!(
        (m["prompts"].as_u64(), m["end_reason"].as_str()),
        (Some(3), Some("clear"))
    );
    assert_eq!(m["edits"], 3);
}

#[test]
fn tokens_and_model_come_from_the_transcript_counted_once_per_message() {
    let w = World::new();
    let dir = fixture("transcripts/claude-code-2.1.328__write-edit");
    feed(
        &w,
        &with_transcripts(
            &fixture("transcripts/claude-code-2.1.328__write-edit.hooks.jsonl"),
            &dir,
        ),
    );
    let m = metrics(&w, "");
    assert_eq!(m["model"], "claude-opus-5-5");
    let u = &m["usage"];
    // The transcript README's totals for this file (distinct message ids).
    assert_eq!(
        (
            u["messages"].as_u64(),
            u["input_tokens"].as_u64(),
            u["output_tokens"].as_u64()
        ),
        (Some(4), Some(43), Some(244))
    );
    assert_eq!(
        (
            u["cache_creation_input_tokens"].as_u64(),
            u["cache_read_input_tokens"].as_u64()
        ),
        (Some(3131), Some(47116))
    );
    let summary = &w.query("SELECT summary FROM session_summaries")[0][0];
    assert!(
        summary.contains(
            "- Model: claude-opus-5-5; tokens: 43 in, 244 out, 47116 cache read, 3131 cache written"
        ),
        "{summary}"
    );

    // A transcript that grows across three processes (resume) is read incrementally.
    let w = World::new();
    let dir = fixture("transcripts/claude-code-2.1.328__resume-clear");
    feed(
        &w,
        &with_transcripts(
            &fixture("recorded/claude-code-2.1.328__resume-clear.jsonl"),
            &dir,
        ),
    );
    let u = &metrics(&w, "")["usage"];
    assert_eq!(
        [
            &u["messages"],
            &u["input_tokens"],
            &u["output_tokens"],
            &u["cache_creation_input_tokens"],
            &u["cache_read_input_tokens"]
        ],
        [6, 80, 245, 3592, 75356]
    );
}

#[test]
fn a_missing_truncated_or_huge_transcript_never_fails_the_session_end() {
    let w = World::new();
    let event = |sid: &str, path: &str| {
        serde_json::json!({"session_id": sid, "cwd": "/p", "transcript_path": path,
                           "hook_event_name": "SessionEnd", "reason": "other"})
        .to_string()
    };
    // Missing.
    let out = w.hook(&[], event("s-missing", "/nonexistent/t.jsonl").as_bytes());
    assert_hook_contract(&out, "missing");
    assert_eq!(metrics(&w, "s-missing")["usage"], Value::Null);

    // Truncated: the half-written last line is not counted (yet).
    let line = |id: &str| {
        format!(
            r#"{{"type":"assistant","message":{{"id":"{id}","model":"m","usage":{{"input_tokens":10,"output_tokens":1}}}}}}"#
        ) + "\n"
    };
    let truncated = w.path().join("truncated.jsonl");
    std::fs::write(&truncated, line("a") + &line("b")[..25]).unwrap();
    let out = w.hook(
        &[],
        event("s-trunc", truncated.to_str().unwrap()).as_bytes(),
    );
    assert_hook_contract(&out, "truncated");
    assert_eq!(metrics(&w, "s-trunc")["usage"]["input_tokens"], 10);

    // Huge: 40 MB. Read within its bounds, the hook still ends fast, and says it is partial.
    let huge = w.path().join("huge.jsonl");
    let filler = format!(
        "{{\"type\":\"user\",\"message\":{{\"content\":\"{}\"}}}}\n",
        "x".repeat(1000)
    );
    let mut body = line("first");
    while body.len() < 40 * 1024 * 1024 {
        body.push_str(&filler);
    }
    std::fs::write(&huge, body).unwrap();
    let start = std::time::Instant::now();
    let out = w.hook(&[], event("s-huge", huge.to_str().unwrap()).as_bytes());
    assert_hook_contract(&out, "huge");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    let u = &metrics(&w, "s-huge")["usage"];
    assert_eq!(
        (u["messages"].as_u64(), u["partial"].as_bool()),
        (Some(1), Some(true))
    );
}

#[test]
fn knowledge_base_learns_files_across_sessions_and_recall_uses_it() {
    let w = World::new();
    w.hook_lines(&fixture("demo-session.jsonl"));
    w.hook_lines(&fixture("write-create-update.jsonl"));
    assert_eq!(
        w.query("SELECT file, sessions, edits, lines_added, lines_removed, co_edited FROM knowledge_base ORDER BY file"),
        rows![
            ["notes.md", 2, 4, 9, 2, r#"[["src/lib.rs",1]]"#],
            ["src/lib.rs", 1, 1, 3, 0, r#"[["notes.md",1]]"#],
        ]
    );
    // Replaying the same sessions again changes nothing (idempotent).
    w.hook_lines(&fixture("demo-session.jsonl"));
    assert_eq!(
        w.count("SELECT sessions FROM knowledge_base WHERE file = 'notes.md'"),
        2
    );

    let used = "SELECT usage_count FROM knowledge_base WHERE file = 'notes.md'";
    let before = w.count(used);
    let prompt = serde_json::json!({"session_id": "s-k", "cwd": "/home/dev/proj",
        "hook_event_name": "UserPromptSubmit", "prompt": "notes.md needs a fourth line"});
    let out = w.hook(&[], prompt.to_string().as_bytes());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ctx = v["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap();
    assert!(
        ctx.contains("- notes.md: edited in 2 sessions, last "),
        "{ctx}"
    );
    assert!(ctx.contains("usually with src/lib.rs (1)"), "{ctx}");
    assert_eq!(w.count(used), before + 1);
}

#[test]
fn export_and_show_json_agree_and_unknown_sessions_are_clear_errors() {
    let w = World::new();
    w.hook_lines(&fixture("demo-session.jsonl"));
    let md = w
        .cmd(&["export", "2c52", "--format", "md"])
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(
        md.starts_with("# Session 2c52ce67-4d3d-46ef-9d06-bfbb391c716e"),
        "{md}"
    );
    assert!(
        md.contains("## Timeline") && md.contains("  edit     Edit notes.md  +1 -1"),
        "{md}"
    );
    let json = w
        .cmd(&["export", "2c52", "--format", "json"])
        .output()
        .unwrap();
    let show = w.cmd(&["show", "2c52", "--json"]).output().unwrap();
    assert_eq!(json.stdout, show.stdout);
    let t: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(t["metrics"]["edits"], 3);
    assert_eq!(t["events"].as_array().unwrap().len(), 4);

    let out = w.cmd(&["show", "zzz"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no session starts with \"zzz\""));
    let empty = World::new();
    let out = empty.cmd(&["sessions"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no database at"));
}

#[test]
fn prune_is_a_dry_run_unless_told_and_then_removes_everything_of_old_sessions() {
    let w = World::new();
    w.hook_lines(&fixture("demo-session.jsonl"));
    w.hook_lines(&fixture("old-client.jsonl"));
    // The recorded sessions are another directory's project's: --all-projects.
    let dry = w
        .cmd(&["prune", "--older-than", "0d", "--json", "--all-projects"])
        .output()
        .unwrap();
    let dry: Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(
        (dry["sessions"].as_i64(), dry["edits"].as_i64()),
        (Some(2), Some(4))
    );
    assert_eq!(w.count("SELECT count(*) FROM edit_history"), 4);

    let mine = w
        .cmd(&["prune", "--older-than", "0d", "--json"])
        .output()
        .unwrap();
    let mine: Value = serde_json::from_slice(&mine.stdout).unwrap();
    assert_eq!(mine["sessions"].as_i64(), Some(0));
    let out = succeeded(&mut w.cmd(&["prune", "--older-than", "0d", "--yes", "--all-projects"]));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Deleted 2 sessions"));
    for table in [
        "session_summaries",
        "task_log",
        "edit_history",
        "swarm_coordination",
        "knowledge_base",
        "file_sessions",
    ] {
        assert_eq!(
            w.count(&format!("SELECT count(*) FROM {table}")),
            0,
            "{table}"
        );
    }
    // The full-text entries went with their rows.
    assert_eq!(
        w.count("SELECT count(*) FROM edit_fts WHERE edit_fts MATCH 'notes'"),
        0
    );
    assert_eq!(
        w.count("SELECT count(*) FROM task_fts WHERE task_fts MATCH 'notes'"),
        0
    );
    assert_eq!(w.query("PRAGMA integrity_check"), rows![["ok"]]);
    let bad = w.cmd(&["prune", "--older-than", "90"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn retention_prunes_at_session_end_when_configured() {
    let w = World::new();
    w.hook_lines(&fixture("old-client.jsonl"));
    // Age that session: it ended in 2000.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = libsql::Builder::new_local(w.db()).build().await.unwrap();
        let conn = db.connect().unwrap();
        conn.execute(
            "UPDATE session_summaries SET ended_at = '2000-01-01T00:00:00.000Z'",
            (),
        )
        .await
        .unwrap();
    });
    let end = serde_json::json!({"session_id": "s-now", "cwd": "/p",
                                 "hook_event_name": "SessionEnd", "reason": "other"})
    .to_string();
    // Retention off (the default): nothing goes.
    assert_hook_contract(&w.hook(&[], end.as_bytes()), "no retention");
    assert_eq!(w.count("SELECT count(*) FROM session_summaries"), 2);

    let config = w.path().join("retention.toml");
    std::fs::write(&config, "[retention]\nolder_than_days = 30\n").unwrap();
    // Retention is the ending project's: the old session's.
    let end = end.replace("\"/p\"", "\"/home/dev/proj\"");
    let mut c = w.cmd(&[]);
    c.env("FLOWHOOK_CONFIG", &config);
    assert_hook_contract(&run_with_stdin(c, end.as_bytes()), "retention");
    assert_eq!(
        w.query("SELECT session_id FROM session_summaries"),
        rows![["s-now"]]
    );
    assert_eq!(w.count("SELECT count(*) FROM edit_history"), 0);
}

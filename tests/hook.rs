//! The hook as Claude Code runs it: one process per event, payload on stdin, and the rows
//! it leaves in a real database file.

mod common;

use common::*;
use serde_json::{Value, json};
use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn demo_session_stores_exact_rows_and_answers_nothing() {
    let w = World::new();
    assert_eq!(w.hook_lines(&fixture("demo-session.jsonl")), 10);
    assert_eq!(
        w.query(
            "SELECT file, rel_path, tool, kind, lines_added, lines_removed, diff_truncated
             FROM edit_history ORDER BY id"
        ),
        rows![
            [
                "/home/dev/proj/notes.md",
                "notes.md",
                "Write",
                "create",
                3,
                0,
                0
            ],
            [
                "/home/dev/proj/notes.md",
                "notes.md",
                "Edit",
                "edit",
                1,
                1,
                0
            ],
            [
                "/home/dev/proj/src/lib.rs",
                "src/lib.rs",
                "Write",
                "create",
                3,
                0,
                0
            ],
        ]
    );
    // The Edit's stored diff is its hunk, context lines included.
    let diff = &w.query("SELECT diff FROM edit_history WHERE tool = 'Edit'")[0][0];
    assert!(
        diff.starts_with("@@ -1,3 +1,3 @@\n # Notes\n-line two: draft\n+line two: final\n"),
        "{diff}"
    );
    assert_eq!(
        w.query("SELECT source_event, task_id IS NOT NULL, task FROM task_log"),
        rows![[
            "UserPromptSubmit",
            1,
            "Create notes.md with three lines, change the second line, then add src/lib.rs."
        ]]
    );
    assert_eq!(
        w.query(
            "SELECT start_source, end_reason, last_event, prompts, tasks, edits, files_touched,
                    lines_added, lines_removed, ended_at >= started_at
             FROM session_summaries"
        ),
        rows![["startup", "other", "SessionEnd", 1, 0, 3, 2, 7, 1, 1]]
    );
    assert_eq!(w.count("SELECT count(*) FROM rejected_events"), 0);
}

#[test]
fn whole_files_are_never_stored() {
    let w = World::new();
    w.hook_lines(&fixture("task-legacy-post.jsonl"));
    // The 80-line Write create: counted, hashed, and only a bounded preview kept.
    let rows = w.query("SELECT lines_added, length(diff), length(content_hash) FROM edit_history");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], "80");
    // The preview is the content's first 2 KiB as `+` lines (one `+` per line).
    assert!(
        rows[0][1].parse::<usize>().unwrap() <= 2048 + 80,
        "{rows:?}"
    );
    assert_eq!(rows[0][2], "64");
}

#[test]
fn the_same_payload_twice_is_stored_once() {
    let w = World::new();
    let line = std::fs::read_to_string(fixture("demo-session.jsonl")).unwrap();
    let edit = line.lines().nth(5).unwrap();
    assert!(edit.contains("\"PostToolUse\""));
    for _ in 0..2 {
        assert_hook_contract(&w.hook(&[], edit.as_bytes()), edit);
    }
    assert_eq!(w.count("SELECT count(*) FROM edit_history"), 1);
    // Old clients have no tool_use_id: each payload delivered twice at once (a plugin copy
    // and a settings copy of the hook) is stored once, by its content.
    let text = std::fs::read_to_string(fixture("old-client.jsonl")).unwrap();
    for line in text.lines() {
        let copies: Vec<_> = (0..2).map(|_| w.spawn_hook(line.as_bytes())).collect();
        for mut c in copies {
            assert!(c.wait().unwrap().success());
        }
    }
    assert_eq!(
        w.count("SELECT count(*) FROM edit_history WHERE tool_use_id IS NULL"),
        1
    );
    assert_eq!(
        w.count("SELECT count(*) FROM task_log WHERE session_id LIKE '0d49cf6b%'"),
        2
    );
}

/// Most recorded prompts carry no prompt_id: a user who repeats themselves ("continue",
/// then something else, then "continue") is not a second copy of the same delivery.
#[test]
fn a_repeated_prompt_without_prompt_id_is_stored_each_time() {
    let w = World::new();
    let prompt = |text: &str| {
        json!({"session_id": "rep", "cwd": "/home/dev/proj", "hook_event_name": "UserPromptSubmit", "prompt": text})
            .to_string()
    };
    let edit_of = |id: &str, file: &str| {
        let mut e: Value = serde_json::from_slice(&edit("rep", id, file)).unwrap();
        e.as_object_mut().unwrap().remove("prompt_id");
        e.to_string()
    };
    for line in [
        prompt("continue"),
        edit_of("e1", "/home/dev/proj/a.rs"),
        prompt("now fix the lexer"),
        edit_of("e2", "/home/dev/proj/lexer.rs"),
        prompt("continue"),
        edit_of("e3", "/home/dev/proj/b.rs"),
    ] {
        assert_hook_contract(&w.hook(&[], line.as_bytes()), &line);
    }
    assert_eq!(
        w.query("SELECT task FROM task_log WHERE session_id = 'rep' ORDER BY id"),
        rows![["continue"], ["now fix the lexer"], ["continue"]]
    );
    // Each edit is filed under the prompt it followed.
    assert_eq!(
        w.query(
            "SELECT e.rel_path, t.task FROM edit_history e JOIN task_log t
             ON t.session_id = e.session_id AND t.task_ref = e.task_ref ORDER BY e.id"
        ),
        rows![
            ["a.rs", "continue"],
            ["lexer.rs", "now fix the lexer"],
            ["b.rs", "continue"]
        ]
    );
    assert_eq!(
        w.count("SELECT count(DISTINCT task_ref) FROM edit_history WHERE session_id = 'rep'"),
        3
    );
}

#[test]
fn resumed_session_ending_three_times_has_one_summary() {
    let w = World::new();
    w.hook_lines(&fixture("session-start-sources.jsonl"));
    assert_eq!(
        w.query(
            "SELECT start_source, end_reason, prompts, edits, lines_added, lines_removed
             FROM session_summaries"
        ),
        rows![["startup", "other", 2, 2, 3, 1]]
    );
}

#[test]
fn duplicated_session_end_and_stop_are_idempotent() {
    let w = World::new();
    w.hook_lines(&fixture("session-end-clear.jsonl"));
    assert_eq!(
        w.query("SELECT end_reason, transcript_path IS NOT NULL FROM session_summaries"),
        rows![["clear", 1]]
    );
}

#[test]
fn subagent_launches_are_tasks_and_notifications_are_results() {
    let w = World::new();
    w.hook_lines(&fixture("agent-task.jsonl"));
    assert_eq!(
        w.query("SELECT source_event, subagent_type, task FROM task_log ORDER BY id"),
        rows![
            [
                "UserPromptSubmit",
                "NULL",
                "Delegate writing sub.txt to a general-purpose subagent and wait for it."
            ],
            [
                "PreToolUse",
                "general-purpose",
                "Write sub file: SUBAGENT-TASK-7: create sub.txt in the project root containing one line."
            ],
        ]
    );
    // The subagent's own edit carries its agent_id.
    assert_eq!(
        w.query("SELECT agent_id, agent_type, rel_path FROM edit_history"),
        rows![["ac3fbc8d6ac7afdd9", "general-purpose", "sub.txt"]]
    );

    let w = World::new();
    w.hook_lines(&fixture("task-notification.jsonl"));
    assert_eq!(w.count("SELECT count(*) FROM task_log"), 3);
    assert!(w.count("SELECT count(*) FROM task_log WHERE task LIKE '%task-notification%'") == 0);
    // Both notifications report background shell commands ("Background command ... was
    // stopped", task ids b...): not subagents, so not recorded as any.
    assert_eq!(w.count("SELECT count(*) FROM swarm_coordination"), 0);
}

#[test]
fn legacy_task_tool_launches_are_tasks() {
    let w = World::new();
    w.hook_lines(&fixture("task-legacy.jsonl"));
    assert_eq!(
        w.count("SELECT count(*) FROM task_log WHERE source_event = 'PreToolUse'"),
        3
    );
}

#[test]
fn notebook_edits_count_cell_lines() {
    let w = World::new();
    w.hook_lines(&fixture(
        "recorded/claude-code-2.1.328__notebook-edit.jsonl",
    ));
    assert_eq!(
        w.query(
            "SELECT tool, kind, lines_added, lines_removed FROM edit_history
             WHERE tool = 'NotebookEdit' ORDER BY id"
        ),
        rows![
            ["NotebookEdit", "edit", 2, 2],
            ["NotebookEdit", "edit", 2, 0],
            ["NotebookEdit", "edit", 0, 2],
        ]
    );
}

#[test]
fn windows_paths_are_kept_as_given() {
    let w = World::new();
    w.hook_lines(&fixture("windows-paths.jsonl"));
    w.hook_lines(&fixture("windows-edit.jsonl"));
    let cwd = &w.query("SELECT DISTINCT cwd FROM task_log")[0][0];
    assert_eq!(cwd, r"E:\Claude Code\proj");
    assert_eq!(w.count("SELECT count(*) FROM rejected_events"), 0);
}

#[test]
fn every_invocation_style_is_understood() {
    let w = World::new();
    let prompt = br#"{"session_id":"s1","hook_event_name":"UserPromptSubmit","prompt":"a","prompt_id":"p1"}"#;
    // (a) bare binary, (b) an event word with stdin, and `hook`.
    assert_hook_contract(&w.hook(&[], prompt), "bare");
    let prompt2 = br#"{"session_id":"s1","hook_event_name":"UserPromptSubmit","prompt":"b","prompt_id":"p2"}"#;
    assert_hook_contract(&w.hook(&["pre-task"], prompt2), "pre-task");
    let prompt3 = br#"{"session_id":"s1","hook_event_name":"UserPromptSubmit","prompt":"c","prompt_id":"p3"}"#;
    assert_hook_contract(&w.hook(&["hook"], prompt3), "hook");
    // (c) claude-flow v2 flags, stdin empty as in its xargs pipelines, unknown flags ignored.
    let out = w.hook(
        &[
            "hooks",
            "post-edit",
            "--file",
            "src/x.rs",
            "--format",
            "true",
            "--update-memory",
            "true",
        ],
        b"",
    );
    assert_hook_contract(&out, "v2 post-edit");
    let out = w.hook(
        &[
            "hooks",
            "pre-task",
            "--description",
            "refactor auth",
            "--task-id",
            "T-9",
            "--agent-id",
            "coder",
        ],
        b"",
    );
    assert_hook_contract(&out, "v2 pre-task");
    // (d) claude-flow v3 flags.
    let out = w.hook(
        &[
            "pre-task",
            "-i",
            "T-10",
            "-d",
            "write docs",
            "--format",
            "json",
        ],
        b"",
    );
    assert_hook_contract(&out, "v3 pre-task");
    let out = w.hook(&["hooks", "session-end", "--generate-summary", "true"], b"");
    assert_hook_contract(&out, "v2 session-end");
    // Other claude-flow hooks: accepted, nothing stored.
    let out = w.hook(
        &[
            "hooks",
            "post-command",
            "--command",
            "ls",
            "--success",
            "true",
        ],
        b"",
    );
    assert_hook_contract(&out, "post-command");

    // Flag calls without a session are one session of this machine, project and day.
    let flags = w.query("SELECT DISTINCT session_id FROM edit_history")[0][0].clone();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert!(
        flags.starts_with(&format!("unknown-session-{today}-")),
        "{flags}"
    );
    assert_eq!(
        w.query("SELECT session_id, task_id, agent_id, task FROM task_log ORDER BY id"),
        rows![
            ["s1", "p1", "NULL", "a"],
            ["s1", "p2", "NULL", "b"],
            ["s1", "p3", "NULL", "c"],
            [&flags, "T-9", "coder", "refactor auth"],
            [&flags, "T-10", "NULL", "write docs"],
        ]
    );
    let project = w.project().to_string_lossy().into_owned();
    assert_eq!(
        w.query("SELECT file, rel_path, tool, lines_added FROM edit_history"),
        rows![[format!("{project}/src/x.rs"), "src/x.rs", "cli", 0]]
    );
    assert_eq!(w.count("SELECT count(*) FROM rejected_events"), 0);
}

#[test]
fn the_session_id_of_flag_calls_comes_from_the_environment() {
    let w = World::new();
    let out = run_with_stdin(
        {
            let mut c = w.cmd(&["pre-task", "--description", "x"]);
            c.env("CLAUDE_CODE_SESSION_ID", "from-env");
            c
        },
        b"",
    );
    assert_hook_contract(&out, "pre-task");
    assert_eq!(
        w.query("SELECT session_id FROM task_log"),
        rows![["from-env"]]
    );
}

#[test]
fn bad_input_is_quarantined_with_a_reason() {
    let w = World::new();
    let cases: &[(&[u8], &str)] = &[
        (b"", "empty stdin"),
        (b"not json", "not JSON"),
        (b"[1,2]", "a JSON array"),
        (br#"{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Edit","tool_input":"x"}"#, "tool_input"),
        (br#"{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":"a""#, "EOF"),
    ];
    for (input, reason) in cases {
        let out = w.hook(&[], input);
        assert_eq!(out.status.code(), Some(0));
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(reason), "{reason}: {stderr}");
    }
    let rows = w.query("SELECT reason FROM rejected_events ORDER BY id");
    assert_eq!(rows.len(), cases.len());
    for (row, (_, reason)) in rows.iter().zip(cases) {
        assert!(row[0].contains(reason), "{row:?} should mention {reason}");
    }
}

#[test]
fn a_person_typing_a_hook_command_gets_an_error_not_a_quarantine() {
    // stdin is not a terminal in tests; a flags-only call that lacks its flag is the nearest
    // thing, and must still exit 0 in hook mode.
    let w = World::new();
    let out = w.hook(&["pre-task"], b"");
    assert_hook_contract(&out, "pre-task without flags");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--description"));
}

#[test]
fn stdin_that_never_closes_is_read_up_to_the_first_value() {
    let w = World::new();
    let mut child = w
        .cmd(&[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(
            br#"{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":"open pipe"}"#,
        )
        .unwrap();
    // Keep the pipe open: the hook must not wait for EOF.
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(w.query("SELECT task FROM task_log"), rows![["open pipe"]]);
}

#[test]
fn the_watchdog_ends_a_call_whose_stdin_hangs() {
    let w = World::new();
    let start = Instant::now();
    let mut child = w
        .cmd(&[])
        .env("FLOWHOOK_CONFIG", w.path().join("c.toml"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(br#"{"session_id":"s","hook_eve"#).unwrap();
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("timed out"));
}

#[test]
fn an_invalid_configuration_never_fails_a_hook() {
    let w = World::new();
    let bad = w.path().join("bad.toml");
    std::fs::write(&bad, "[limits]\ndiff_bytes = \"lots\"\n").unwrap();
    let mut c = w.cmd(&[]);
    c.env("FLOWHOOK_CONFIG", &bad);
    let out = run_with_stdin(
        c,
        br#"{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":"still stored"}"#,
    );
    assert_hook_contract(&out, "bad config");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.toml") && stderr.contains("diff_bytes"),
        "{stderr}"
    );
    assert_eq!(
        w.query("SELECT task FROM task_log"),
        rows![["still stored"]]
    );

    // A person gets an error naming the file, line and key, and a non-zero exit.
    let out = w
        .cmd(&[
            "replay",
            "--config",
            bad.to_str().unwrap(),
            fixture("demo-session.jsonl").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.toml") && stderr.contains("line 2") && stderr.contains("diff_bytes"),
        "{stderr}"
    );
}

#[test]
fn configured_limits_bound_what_is_stored() {
    let w = World::new();
    let config = w.project().join(".claude");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("flowhook.toml"), "[limits]\ntask_chars = 10\n").unwrap();
    let mut c = w.cmd(&[]);
    c.env("CLAUDE_PROJECT_DIR", w.project());
    let out = run_with_stdin(
        c,
        br#"{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":"0123456789abcdef"}"#,
    );
    assert_hook_contract(&out, "limits");
    assert_eq!(w.query("SELECT task FROM task_log"), rows![["0123456789…"]]);
}

#[test]
fn the_default_database_lives_in_the_project() {
    let w = World::new();
    std::fs::create_dir_all(w.project().join(".git")).unwrap();
    let sub = w.project().join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    let payload = format!(
        r#"{{"session_id":"s","cwd":"{}","hook_event_name":"UserPromptSubmit","prompt":"where"}}"#,
        sub.display()
    );
    let mut c = w.cmd(&[]);
    c.env_remove("FLOWHOOK_DB");
    let out = run_with_stdin(c, payload.as_bytes());
    assert_hook_contract(&out, "default db");
    let db = w.project().join(".swarm/flowhook.db");
    assert_eq!(query(&db, "SELECT task FROM task_log"), rows![["where"]]);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let mode = std::fs::metadata(db.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o700);
}

#[test]
fn an_unwritable_database_spools_the_event_and_the_next_call_stores_it() {
    let w = World::new();
    // A directory where the database file should be: opening it fails.
    std::fs::create_dir_all(w.db()).unwrap();
    let out = w.hook(
        &[],
        br#"{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":"kept"}"#,
    );
    assert_hook_contract(&out, "spool");
    assert!(String::from_utf8_lossy(&out.stderr).contains("spooled"));
    let listed = w.cmd(&["spool", "--json"]).output().unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(listed.lines().count(), 1, "{listed}");

    std::fs::remove_dir(w.db()).unwrap();
    let out = w.hook(
        &[],
        br#"{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":"next"}"#,
    );
    assert_hook_contract(&out, "drain");
    assert_eq!(
        w.query("SELECT task FROM task_log ORDER BY task"),
        rows![["kept"], ["next"]]
    );
    let listed = w.cmd(&["spool", "--json"]).output().unwrap();
    assert!(listed.stdout.is_empty());
}

/// Puts `bytes` where the database is, sends an event, and checks that it was spooled with
/// a message naming `problem` and that the file was left exactly as it was.
fn assert_damaged_database_left_alone(w: &World, bytes: &[u8], problem: &str) {
    std::fs::create_dir_all(w.db().parent().unwrap()).unwrap();
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", w.db().display()));
    }
    std::fs::write(w.db(), bytes).unwrap();
    let out = w.hook(
        &[],
        br#"{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":"x"}"#,
    );
    assert_hook_contract(&out, problem);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("spooled") && stderr.contains(problem),
        "{stderr}"
    );
    assert_eq!(std::fs::read(w.db()).unwrap(), bytes);
}

#[test]
fn a_file_that_is_not_a_database_is_never_overwritten() {
    let w = World::new();
    let junk = b"this is not a database, and it is someone's file".repeat(100);
    assert_damaged_database_left_alone(&w, &junk, "not a database");
}

#[test]
fn a_corrupted_database_is_reported_spooled_and_left_alone() {
    let w = World::new();
    w.hook_lines(&fixture("demo-session.jsonl"));
    // Keep the header, scramble the pages after it: the schema can no longer be read.
    let mut bytes = std::fs::read(w.db()).unwrap();
    for b in bytes.iter_mut().skip(100) {
        *b = b.wrapping_mul(31).wrapping_add(7);
    }
    assert_damaged_database_left_alone(&w, &bytes, "malformed");
}

#[test]
fn schema_names_the_payload_and_answer_fields() {
    let w = World::new();
    let out = w.cmd(&["schema"]).output().unwrap();
    assert!(out.status.success());
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for name in [
        "payload",
        "edit-input",
        "edit-response",
        "agent-input",
        "answer",
        "config",
    ] {
        assert!(all.get(name).is_some(), "{name}");
    }
    assert!(
        all["payload"]["properties"]
            .get("hook_event_name")
            .is_some()
    );
    // Claude Code's answer (Codex's, Gemini's), and Copilot's top-level one.
    let forms: Vec<Vec<&String>> = all["answer"]["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"].as_object().unwrap().keys().collect())
        .collect();
    assert_eq!(forms, [["hookSpecificOutput"], ["additionalContext"]]);
    let out = w.cmd(&["schema", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("answer"));
}

#[test]
fn every_command_has_help_with_an_example() {
    let w = World::new();
    for cmd in [
        "hook",
        "pre-task",
        "post-edit",
        "session-end",
        "replay",
        "schema",
        "spool",
    ] {
        let out = w.cmd(&[cmd, "--help"]).output().unwrap();
        assert!(out.status.success(), "{cmd}");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains("Example"),
            "{cmd} --help has no example:\n{help}"
        );
    }
}

/// Hook calls exit without closing the database (no checkpoint per call), so the WAL must be
/// truncated now and then by the calls themselves, or the next process to open it reads an
/// ever longer WAL (a regression once made every call 3x slower).
#[test]
fn the_wal_stays_small_over_many_calls() {
    let w = World::new();
    for i in 0..150 {
        let payload = edit("wal", &format!("t-{i}"), "/home/dev/proj/src/lib.rs");
        assert_hook_contract(&w.hook(&[], &payload), "edit");
    }
    let wal = std::fs::metadata(format!("{}-wal", w.db().display())).map_or(0, |m| m.len());
    assert!(wal < 1024 * 1024, "WAL is {wal} bytes after 150 calls");
    assert_eq!(w.count("SELECT count(*) FROM edit_history"), 150);
}

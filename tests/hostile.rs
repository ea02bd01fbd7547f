//! Input an attacker or an odd client can hand flowhook that is valid, or nearly so: a
//! project file whose retention would delete another project's memory, out-of-range ages, a
//! committed database with someone else's schema, payloads that stall halfway, carry lone
//! surrogates or duplicate keys, a Write too large to arrive twice, `--help` as a flag's
//! value, and a recording replayed twice. Every test runs the built binary.

mod common;

use common::*;
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A second project in the world, beside `w.project()`.
fn other_project(w: &World, name: &str) -> PathBuf {
    let p = w.path().join(name);
    std::fs::create_dir_all(p.join(".claude")).unwrap();
    p
}

/// A hook call run in `dir` (its project), with `stdin` piped and closed.
fn hook_in(w: &World, dir: &Path, stdin: &[u8]) -> std::process::Output {
    let mut c = w.cmd(&[]);
    c.current_dir(dir).env("CLAUDE_PROJECT_DIR", dir);
    let out = run_with_stdin(c, stdin);
    assert_hook_contract(&out, &String::from_utf8_lossy(stdin));
    out
}

/// A session of `dir` replayed as it happened long ago (its lines carry `logged_at`): a
/// prompt, an edit and its end.
fn old_session(w: &World, dir: &Path, session: &str) {
    let at = "2020-01-01T00:00:00.000000";
    let mut edit = edit_template();
    edit["session_id"] = session.into();
    edit["cwd"] = dir.to_string_lossy().as_ref().into();
    edit["tool_use_id"] = format!("t-{session}").into();
    edit["tool_input"]["file_path"] = dir.join("a.rs").to_string_lossy().as_ref().into();
    edit["logged_at"] = at.into();
    let lines = [
        json!({"session_id": session, "cwd": dir, "hook_event_name": "UserPromptSubmit",
               "prompt": format!("work of {session}"), "logged_at": at}),
        edit,
        json!({"session_id": session, "cwd": dir, "hook_event_name": "SessionEnd",
               "reason": "other", "logged_at": at}),
    ];
    let file = w.path().join(format!("{session}.jsonl"));
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&file, text.join("\n")).unwrap();
    let mut c = w.cmd(&["replay", "--quiet", &file.to_string_lossy()]);
    c.current_dir(dir);
    succeeded(&mut c);
}

fn session_end(dir: &Path, session: &str) -> Vec<u8> {
    json!({"session_id": session, "cwd": dir, "hook_event_name": "SessionEnd", "reason": "other"})
        .to_string()
        .into_bytes()
}

fn sessions_of(w: &World) -> Vec<Vec<String>> {
    w.query("SELECT session_id FROM session_summaries ORDER BY 1")
}

#[test]
fn retention_in_an_untrusted_project_file_deletes_nothing_of_anyone() {
    for (i, text) in [
        "[retention]\nolder_than_days = 1\n",
        "[retention]\nolder_than_days = 30\nsessions_per_run = 1000\n",
        "[recall]\nbudget_chars = 500\n[retention]\nolder_than_days = 2\n",
    ]
    .into_iter()
    .enumerate()
    {
        let w = World::new();
        let victim = w.project();
        let attacker = other_project(&w, "cloned");
        old_session(&w, &victim, "victim-1");
        old_session(&w, &victim, "victim-2");
        old_session(&w, &attacker, "own-old");
        std::fs::write(attacker.join(".claude/flowhook.toml"), text).unwrap();
        let out = hook_in(&w, &attacker, &session_end(&attacker, &format!("s{i}")));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("retention.") && stderr.contains("flowhook trust"),
            "{stderr}"
        );
        // Nothing was pruned: not the other project's sessions, not even its own.
        assert_eq!(
            sessions_of(&w),
            rows![["own-old"], [format!("s{i}")], ["victim-1"], ["victim-2"]]
        );
        assert_eq!(w.count("SELECT count(*) FROM edit_history"), 3);
        assert_eq!(w.count("SELECT count(*) FROM task_log"), 3);
    }
}

#[test]
fn trusted_retention_prunes_the_ending_project_only() {
    let w = World::new();
    let victim = w.project();
    let own = other_project(&w, "mine");
    old_session(&w, &victim, "victim-1");
    old_session(&w, &own, "own-old-1");
    old_session(&w, &own, "own-old-2");
    let file = own.join(".claude/flowhook.toml");
    std::fs::write(&file, "[retention]\nolder_than_days = 7\n").unwrap();
    succeeded(w.cmd(&["trust", &file.to_string_lossy()]).current_dir(&own));
    let out = hook_in(&w, &own, &session_end(&own, "today"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("not trusted"));
    assert_eq!(sessions_of(&w), rows![["today"], ["victim-1"]]);
    assert_eq!(w.count("SELECT count(*) FROM edit_history"), 1);
    assert_eq!(
        w.query("SELECT task FROM task_log"),
        rows![["work of victim-1"]]
    );
}

fn prune(w: &World, dir: &Path, args: &[&str]) -> (Option<i32>, Value, String) {
    let mut all = vec!["prune", "--json"];
    all.extend_from_slice(args);
    let out = w.cmd(&all).current_dir(dir).output().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code(),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn prune_acts_on_the_current_project_unless_asked_for_all() {
    let w = World::new();
    let a = w.project();
    let b = other_project(&w, "b");
    let c = other_project(&w, "c");
    for (dir, s) in [(&a, "a1"), (&a, "a2"), (&b, "b1"), (&c, "c1")] {
        old_session(&w, dir, s);
    }
    // A dry run counts the current project's sessions only.
    let (code, v, _) = prune(&w, &b, &["--older-than", "1d"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        (v["sessions"].as_i64(), v["edits"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(sessions_of(&w).len(), 4);
    let (code, v, _) = prune(&w, &a, &["--older-than", "1d", "--yes"]);
    assert_eq!((code, v["sessions"].as_i64()), (Some(0), Some(2)));
    assert_eq!(sessions_of(&w), rows![["b1"], ["c1"]]);
    let (code, v, _) = prune(&w, &a, &["--older-than", "2w", "--yes", "--all-projects"]);
    assert_eq!((code, v["sessions"].as_i64()), (Some(0), Some(2)));
    assert!(sessions_of(&w).is_empty());
    assert_eq!(w.count("SELECT count(*) FROM edit_history"), 0);
}

#[test]
fn out_of_range_ages_are_refused_with_a_message_naming_them() {
    let w = World::new();
    old_session(&w, &w.project(), "old");
    for age in [
        "99999999d",
        "36526d",
        "5219w",
        "876601h",
        "18446744073709551615h",
        "99999999999999999999999d",
        "-1d",
    ] {
        let (code, _, stderr) = prune(&w, &w.project(), &["--older-than", age, "--yes"]);
        assert_eq!(code, Some(2), "{age}: {stderr}");
        assert!(
            stderr.contains("--older-than") && !stderr.contains("panicked"),
            "{age}: {stderr}"
        );
    }
    assert_eq!(sessions_of(&w), rows![["old"]]);
    let (code, v, _) = prune(&w, &w.project(), &["--older-than", "36525d"]);
    assert_eq!((code, v["sessions"].as_i64()), (Some(0), Some(0)));
    let (code, v, _) = prune(&w, &w.project(), &["--older-than", "1h"]);
    assert_eq!((code, v["sessions"].as_i64()), (Some(0), Some(1)));

    // In a configuration: the hook stores its event and says which key is wrong (once per
    // call, not a re-spooled event per SessionEnd); a debugging command stops with it.
    for days in [100_000_000_u64, 36_526, 4_294_967_295] {
        let dir = w.home().join(".config/flowhook");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("hooks.toml"),
            format!("[retention]\nolder_than_days = {days}\n"),
        )
        .unwrap();
        let session = format!("end-{days}");
        let out = hook_in(&w, &w.project(), &session_end(&w.project(), &session));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("retention.older_than_days") && stderr.contains("out of range"),
            "{stderr}"
        );
        assert_eq!(
            w.count(&format!(
                "SELECT count(*) FROM session_summaries WHERE session_id = '{session}' \
                 AND end_reason = 'other'"
            )),
            1
        );
        assert!(w.spool().is_empty(), "{:?}", w.spool());
        let out = w.cmd(&["sessions"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("retention.older_than_days"));
    }
    assert_eq!(w.count("SELECT count(*) FROM session_summaries"), 4);
}

/// A project whose `.swarm/flowhook.db` is a genuine flowhook database (made by a hook
/// call) that `tamper` then changed, as a repository could carry it.
fn committed_db(tamper: &str) -> (World, PathBuf) {
    let w = World::new();
    let db = w.project().join(".swarm/flowhook.db");
    let mut c = w.cmd_in_project(&[]);
    c.env("CLAUDE_PROJECT_DIR", w.project());
    let out = run_with_stdin(c, &prompt_in("s0", &w.project(), "the first prompt"));
    assert_hook_contract(&out, "first prompt");
    sqlite(&db, tamper);
    sqlite(&db, "PRAGMA wal_checkpoint(TRUNCATE)");
    (w, db)
}

/// An Edit of `dir/a.rs` in `dir`, with its own tool_use_id.
fn edit_in(dir: &Path, id: &str) -> Vec<u8> {
    let mut e = edit_template();
    e["session_id"] = "s1".into();
    e["cwd"] = dir.to_string_lossy().as_ref().into();
    e["tool_use_id"] = id.into();
    e["tool_input"]["file_path"] = dir.join("a.rs").to_string_lossy().as_ref().into();
    serde_json::to_vec(&e).unwrap()
}

/// flowhook processes still running in this world (detached ones included).
fn running_in(w: &World) -> Vec<String> {
    let home = format!("HOME={}", w.home().display());
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(env) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        if env.split(|b| *b == 0).any(|v| v == home.as_bytes())
            && String::from_utf8_lossy(&cmd).contains("flowhook")
        {
            found.push(String::from_utf8_lossy(&cmd).replace('\0', " "));
        }
    }
    found
}

#[test]
fn a_committed_database_with_someone_elses_schema_is_refused_at_once() {
    let slow = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c \
                WHERE x < 3000000) SELECT count(*) FROM c";
    for (tamper, named) in [
        (
            format!("CREATE TRIGGER slow AFTER INSERT ON edit_history BEGIN {slow}; END;"),
            "trigger slow",
        ),
        (
            "CREATE TRIGGER wipe AFTER INSERT ON task_log BEGIN DELETE FROM task_log; END;"
                .to_owned(),
            "trigger wipe",
        ),
        (
            "CREATE VIEW recent AS SELECT * FROM task_log".to_owned(),
            "view recent",
        ),
        (
            "CREATE INDEX edit_history_everything ON edit_history (diff, file, project)".to_owned(),
            "index edit_history_everything",
        ),
        ("CREATE TABLE notes (x TEXT)".to_owned(), "table notes"),
        (
            "ALTER TABLE edit_history ADD COLUMN extra TEXT DEFAULT 'x'".to_owned(),
            "table edit_history",
        ),
        (
            "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = replace(sql, \
             'task           TEXT NOT NULL', 'task TEXT NOT NULL CHECK (length(task) < 0)') \
             WHERE name = 'task_log'; PRAGMA writable_schema = OFF;"
                .to_owned(),
            "table task_log",
        ),
    ] {
        let (w, db) = committed_db(&tamper);
        let before = std::fs::read(&db).unwrap();
        let started = Instant::now();
        let mut c = w.cmd_in_project(&[]);
        c.env("CLAUDE_PROJECT_DIR", w.project());
        let out = run_with_stdin(c, &edit_in(&w.project(), "t1"));
        let took = started.elapsed();
        assert_hook_contract(&out, &tamper);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("schema is not flowhook's") && stderr.contains(named),
            "{tamper}: {stderr}"
        );
        assert!(took < Duration::from_millis(1500), "{tamper}: {took:?}");
        assert_eq!(std::fs::read(&db).unwrap(), before, "{tamper}");
        let spool = w.spool();
        assert_eq!(spool.len(), 1, "{tamper}: {spool:?}");
        assert_eq!(spool[0]["state"], "waiting");
        // A debugging command stops with the reason.
        let out = w.cmd_in_project(&["sessions"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains(named));
        // Nothing keeps running.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !running_in(&w).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(running_in(&w), Vec::<String>::new(), "{tamper}");
    }
}

#[test]
fn a_committed_database_as_flowhook_made_it_is_used() {
    let (w, db) = committed_db("SELECT 1");
    let mut c = w.cmd_in_project(&[]);
    c.env("CLAUDE_PROJECT_DIR", w.project());
    let out = run_with_stdin(c, &prompt_in("s1", &w.project(), "the second prompt"));
    assert_hook_contract(&out, "second prompt");
    assert_eq!(query(&db, "SELECT count(*) FROM task_log"), rows![[2]]);
    assert!(w.spool().is_empty());
}

/// Starts a hook call, writes `head` to its stdin and leaves it open until the call ends.
fn stalled(w: &World, head: &[u8]) -> (std::process::Output, Duration) {
    let started = Instant::now();
    let mut child = w
        .cmd(&[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(head).unwrap();
    stdin.flush().unwrap();
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    (out, started.elapsed())
}

#[test]
fn half_a_payload_on_a_stdin_left_open_is_quarantined() {
    let w = World::new();
    let full = String::from_utf8(edit_in(&w.project(), "t1")).unwrap();
    let heads = [
        full[..full.len() / 2].to_owned(),
        r#"{"session_id":"s1","hook_event_name":"UserPromptSubmit","prompt":"fix the lo"#
            .to_owned(),
        r#"{"session_id":"s1","hook_event_name":"UserPromptSubmit","prompt":"cut \u00"#.to_owned(),
        "{".to_owned(),
        r#"[{"a":1},"#.to_owned(),
    ];
    for head in &heads {
        let (out, took) = stalled(&w, head.as_bytes());
        assert_hook_contract(&out, head);
        assert!(took < Duration::from_secs(5), "{took:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("nothing to store"), "{stderr}");
    }
    // The next call stores what waited: each head, quarantined as it arrived.
    let out = w.hook(&[], &prompt_in("s2", &w.project(), "next"));
    assert_hook_contract(&out, "next");
    let kept = w.query("SELECT payload FROM rejected_events ORDER BY received_at");
    let kept: Vec<&str> = kept.iter().map(|r| r[0].as_str()).collect();
    let heads: Vec<&str> = heads.iter().map(String::as_str).collect();
    assert_eq!(kept, heads);
    assert_eq!(w.count("SELECT count(*) FROM task_log"), 1);
    assert!(w.spool().is_empty());
}

#[test]
fn a_timeout_of_zero_or_one_still_keeps_every_prompt() {
    for (how, ms) in [("project", 0), ("project", 1), ("user", 0), ("user", 1)] {
        let w = World::new();
        let text = format!("[hook]\ntimeout_ms = {ms}\n");
        match how {
            "project" => std::fs::write(w.project().join(".claude/flowhook.toml"), text),
            _ => {
                let dir = w.home().join(".config/flowhook");
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(dir.join("hooks.toml"), text)
            }
        }
        .unwrap();
        for i in 0..3 {
            let out = w.hook(&[], &prompt_in("s1", &w.project(), &format!("prompt {i}")));
            assert_hook_contract(&out, "prompt");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!stderr.contains("nothing to store"), "{how} {ms}: {stderr}");
        }
        // Stored, or (on a slow machine) waiting in the spool for the next call: never lost.
        let stored = w.count("SELECT count(*) FROM task_log");
        let waiting = w.spool().iter().filter(|e| e["state"] == "waiting").count();
        assert_eq!(stored + waiting as i64, 3, "{how} {ms}");
    }
}

#[test]
fn lone_surrogates_and_duplicate_keys_are_stored_as_javascript_reads_them() {
    let w = World::new();
    let cwd = w.project().display().to_string();
    let prompts = [
        (
            format!(
                r#"{{"session_id":"s1","cwd":"{cwd}","hook_event_name":"UserPromptSubmit","prompt":"cut emoji \ud83d"}}"#
            ),
            "cut emoji \u{fffd}",
        ),
        (
            format!(
                r#"{{"session_id":"s1","cwd":"{cwd}","hook_event_name":"UserPromptSubmit","prompt":"\udc00 low first, then a pair \ud83d\ude00"}}"#
            ),
            "\u{fffd} low first, then a pair \u{1f600}",
        ),
        (
            format!(
                r#"{{"session_id":"s1","cwd":"{cwd}","hook_event_name":"UserPromptSubmit","prompt":"first","prompt":"last wins"}}"#
            ),
            "last wins",
        ),
        (
            format!(
                r#"{{"session_id":"other","cwd":"{cwd}","session_id":"s1","hook_event_name":"UserPromptSubmit","prompt":"dup session \uD800 and \\ud83d stays"}}"#
            ),
            "dup session \u{fffd} and \\ud83d stays",
        ),
    ];
    for (payload, _) in &prompts {
        let out = w.hook(&[], payload.as_bytes());
        assert_hook_contract(&out, payload);
    }
    let want: Vec<Vec<String>> = prompts
        .iter()
        .map(|(_, t)| vec!["s1".to_owned(), t.to_string()])
        .collect();
    assert_eq!(
        w.query("SELECT session_id, task FROM task_log ORDER BY id"),
        want
    );

    // In a tool's input, at depth, and both at once.
    let mut e = edit_template();
    e["session_id"] = "s1".into();
    e["cwd"] = cwd.as_str().into();
    e["tool_use_id"] = "t-dup".into();
    e["tool_input"]["file_path"] = "/w/PLACEHOLDER".into();
    let base = serde_json::to_string(&e).unwrap();
    let dup = base.replace(
        r#""file_path":"/w/PLACEHOLDER""#,
        r#""file_path":"/w/first.rs","file_path":"/w/last.rs""#,
    );
    let lone = base
        .replace("/w/PLACEHOLDER", r"/w/caf\ud83d.rs")
        .replace("t-dup", "t-lone");
    let both = base
        .replace(
            r#""file_path":"/w/PLACEHOLDER""#,
            r#""file_path":"/w/x","file_path":"/w/\udfff.rs""#,
        )
        .replace("t-dup", "t-both");
    for payload in [&dup, &lone, &both] {
        let out = w.hook(&[], payload.as_bytes());
        assert_hook_contract(&out, payload);
    }
    assert_eq!(
        w.query("SELECT tool_use_id, file FROM edit_history ORDER BY tool_use_id"),
        rows![
            ["t-both", "/w/\u{fffd}.rs"],
            ["t-dup", "/w/last.rs"],
            ["t-lone", "/w/caf\u{fffd}.rs"]
        ]
    );
    assert_eq!(w.count("SELECT count(*) FROM rejected_events"), 0);
}

/// A Write of `content` as Claude Code sends it: the content in tool_input and again in
/// tool_response.
fn big_write(dir: &Path, file: &str, content: &str) -> Vec<u8> {
    let mut v = template("Write");
    v["session_id"] = "s1".into();
    v["cwd"] = dir.to_string_lossy().as_ref().into();
    v["tool_use_id"] = format!("t-{file}").into();
    v["tool_input"] = json!({"file_path": file, "content": content});
    v["tool_response"] = json!({"type": "create", "filePath": file, "content": content,
                                "structuredPatch": [], "originalFile": null});
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn a_write_too_large_to_arrive_twice_is_stored_as_an_edit() {
    let w = World::new();
    let dir = w.home().join(".config/flowhook");
    std::fs::create_dir_all(&dir).unwrap();
    // A debug build hashes slowly: the watchdog is not what is tested here.
    std::fs::write(dir.join("hooks.toml"), "[hook]\ntimeout_ms = 60000\n").unwrap();
    for (file, line, mib) in [
        ("/w/big.txt", "x".repeat(99), 33),
        ("/w/wide.csv", "a,b;".repeat(1000), 40),
    ] {
        let mut content = String::with_capacity((mib << 20) + line.len() + 1);
        let mut lines = 0;
        while content.len() < mib << 20 {
            content.push_str(&line);
            content.push('\n');
            lines += 1;
        }
        let payload = big_write(&w.project(), file, &content);
        assert!(payload.len() > 64 << 20);
        let out = w.hook(&[], &payload);
        assert_hook_contract(&out, file);
        assert_eq!(
            w.query(&format!(
                "SELECT kind, lines_added, lines_removed, diff_truncated, length(diff) <= 16384 \
                 FROM edit_history WHERE file = '{file}'"
            )),
            rows![["create", lines, 0, 1, 1]],
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(w.count("SELECT count(*) FROM rejected_events"), 0);

    // Cut in the tool's input itself, nothing says what was done: rejected, as before.
    let mut e = edit_template();
    e["cwd"] = w.project().to_string_lossy().as_ref().into();
    e["tool_use_id"] = "t-huge-edit".into();
    e["tool_input"]["old_string"] = "y".repeat(70 << 20).into();
    let out = w.hook(&[], &serde_json::to_vec(&e).unwrap());
    assert_hook_contract(&out, "huge edit");
    assert_eq!(
        w.count("SELECT count(*) FROM edit_history WHERE tool_use_id = 't-huge-edit'"),
        0
    );
    assert_eq!(
        w.query("SELECT truncated, reason LIKE '%max_payload_bytes%' FROM rejected_events"),
        rows![[1, 1]]
    );
}

#[test]
fn help_and_version_as_a_flags_value_are_hook_calls() {
    let w = World::new();
    for (i, asks) in ["--help", "-V", "--version", "-h"].into_iter().enumerate() {
        let task = format!("T{i}");
        let out = w.hook(
            &[
                "hooks",
                "pre-task",
                "--task-id",
                &task,
                "--description",
                asks,
            ],
            b"",
        );
        assert_hook_contract(&out, asks);
        assert!(out.stdout.is_empty(), "{asks}");
        let out = w.hook(
            &["hooks", "post-edit", "--file", asks, "--format", "true"],
            b"",
        );
        assert_hook_contract(&out, asks);
        // As a flag of its own, after the event word: skipped, like any unknown flag.
        let out = w.hook(
            &["hooks", "session-end", asks, "--generate-summary", "true"],
            b"",
        );
        assert_hook_contract(&out, asks);
        assert!(out.stdout.is_empty(), "{asks}");
    }
    assert_eq!(
        w.query("SELECT task FROM task_log ORDER BY task_id"),
        rows![["--help"], ["-V"], ["--version"], ["-h"]]
    );
    assert_eq!(
        w.query("SELECT rel_path FROM edit_history ORDER BY file"),
        rows![["--help"], ["--version"], ["-V"], ["-h"]]
    );
    // Asked first, it is still the help and the version.
    let out = w.cmd(&["--version"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("flowhook"));
}

const TABLES: [&str; 8] = [
    "task_log",
    "edit_history",
    "swarm_coordination",
    "session_summaries",
    "rejected_events",
    "file_sessions",
    "knowledge_base",
    "recall_log",
];

fn counts(w: &World) -> Vec<i64> {
    if !w.db().exists() {
        return vec![0; TABLES.len()]; // a recording of events flowhook does not record
    }
    TABLES
        .iter()
        .map(|t| w.count(&format!("SELECT count(*) FROM {t}")))
        .collect()
}

fn replay(w: &World, file: &Path) {
    succeeded(&mut w.cmd(&["replay", "--quiet", &file.to_string_lossy()]));
}

#[test]
fn replaying_a_recording_twice_stores_nothing_new() {
    let mut files = Vec::new();
    for e in std::fs::read_dir(corpus()).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "jsonl") {
            files.push(e.path());
        }
    }
    files.sort();
    assert!(files.len() > 10);
    // A recording of our own: events without any id, repeated on purpose, with an ignored
    // event first.
    let w = World::new();
    let own = w.path().join("own.jsonl");
    let cwd = w.project().display().to_string();
    let prompt = format!(
        r#"{{"session_id":"r1","cwd":"{cwd}","hook_event_name":"UserPromptSubmit","prompt":"continue"}}"#
    );
    let mut e = edit_template();
    e["session_id"] = "r1".into();
    e["cwd"] = cwd.as_str().into();
    e.as_object_mut().unwrap().remove("tool_use_id");
    let edit = e.to_string();
    let read = format!(
        r#"{{"session_id":"r1","cwd":"{cwd}","hook_event_name":"PostToolUse","tool_name":"Read","tool_input":{{}}}}"#
    );
    // Seconds apart (a recorded time): each repeat was done again. Without any time (r2,
    // whose first line is ignored), the session runs on the replay's clock.
    let at = |line: &str, t: &str| line.replacen('{', &format!(r#"{{"logged_at":"{t}","#), 1);
    let lines = [
        read.clone(),
        at(&prompt, "2026-03-01T10:00:00"),
        edit.clone(),
        at(&prompt, "2026-03-01T10:00:10"),
        edit.clone(),
        read.replace("r1", "r2"),
        at(&prompt, "2026-03-01T10:00:20"),
        prompt.replace("r1", "r2"),
        edit.replace("r1", "r2"),
        // Rejected, with no session (so no recorded time) to know them by.
        "not json at all".to_owned(),
        r#"{"hook_event_name":"UserPromptSubmit","prompt":"whose?"}"#.to_owned(),
    ];
    std::fs::write(&own, lines.join("\n")).unwrap();
    files.push(own.clone());
    for file in &files {
        let w = World::new();
        replay(&w, file);
        let once = counts(&w);
        if file == &own {
            // Past the window in which a second copy of a payload counts as the same one.
            std::thread::sleep(Duration::from_millis(1100));
        }
        replay(&w, file);
        assert_eq!(counts(&w), once, "{}", file.display());
        // In one database with others.
        replay(&w, &own);
        let more = counts(&w);
        replay(&w, file);
        replay(&w, &own);
        assert_eq!(counts(&w), more, "{}", file.display());
    }
    // Each repeat was a new event the first time.
    let w = World::new();
    replay(&w, &own);
    assert_eq!(
        w.count("SELECT count(*) FROM task_log WHERE session_id = 'r1'"),
        3
    );
    assert_eq!(
        w.count("SELECT count(*) FROM edit_history WHERE session_id = 'r1'"),
        2
    );
    assert_eq!(
        w.count("SELECT count(*) FROM task_log WHERE session_id = 'r2'"),
        1
    );
    assert_eq!(w.count("SELECT count(*) FROM rejected_events"), 2);
}

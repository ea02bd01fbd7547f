//! Reliability and security, proven on the real binary: many writers at once, bad input of
//! every kind, a person at a terminal, faults (a full disk, kill -9), file modes, secrets.

mod common;

use common::*;
use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn every_kind_of_bad_input_is_quarantined_with_one_clear_line() {
    let w = World::new();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut invalid_utf8 =
        br#"{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":"bad "#.to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe]);
    invalid_utf8.extend_from_slice(br#""}"#);
    let nul =
        b"{\"session_id\":\"s\",\"hook_event_name\":\"UserPromptSubmit\",\"prompt\":\"a\0b\"}"
            .to_vec();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"".to_vec(), "empty stdin"),
        (b"  \n\t ".to_vec(), "empty stdin"),
        (b"not json at all".to_vec(), "not JSON"),
        (br#"{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":"cut"#.to_vec(), "EOF"),
        (b"[1, 2, 3]".to_vec(), "a JSON array"),
        (b"42".to_vec(), "a JSON number"),
        (br#""a string""#.to_vec(), "a JSON string"),
        (br#"{"session_id":"s","cwd":"/p"}"#.to_vec(), "no hook_event_name"),
        (br#"{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Edit","tool_input":"rm -rf"}"#.to_vec(), "tool_input"),
        (br#"{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Edit","tool_input":{"file_path":"/a"},"tool_response":{"structuredPatch":{"lines":[]}}}"#.to_vec(), "structuredPatch"),
        (br#"{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Edit","tool_input":{"file_path":"/a"},"tool_response":{"structuredPatch":[{"lines":[1,2]}]}}"#.to_vec(), "lines[0]"),
        (br#"{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Edit","duration_ms":"89","tool_input":{"file_path":"/a"}}"#.to_vec(), "duration_ms"),
        (br#"{"session_id":"s","hook_event_name":"<script>","cwd":"/p"}"#.to_vec(), "not a hook event name"),
        (br#"{"session_id":"s","hook_event_name":"PostToolUse","tool_input":{"file_path":"/a"}}"#.to_vec(), "no tool_name"),
        (invalid_utf8, "invalid unicode"),
        (nul, "control character"),
        (deep.into_bytes(), "a JSON array"),
        (br#"{"a":"#.to_vec().into_iter().chain(std::iter::repeat_n(b'[', 100_000)).collect(), "EOF"),
        (
            format!(r#"{{"session_id":"s","deep":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
            "no hook_event_name",
        ),
    ];
    for (i, (input, reason)) in cases.iter().enumerate() {
        let out = w.hook(&[], input);
        assert_eq!(out.status.code(), Some(0), "case {i}");
        assert!(out.stdout.is_empty(), "case {i}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "case {i}: {stderr}");
        assert!(
            stderr.contains(reason),
            "case {i} should say {reason:?}: {stderr}"
        );
        assert_eq!(
            w.count("SELECT count(*) FROM rejected_events") as usize,
            i + 1,
            "case {i}"
        );
    }
    assert_eq!(w.query("PRAGMA integrity_check"), rows![["ok"]]);
    // Nothing else was stored.
    assert_eq!(
        w.count("SELECT count(*) FROM task_log") + w.count("SELECT count(*) FROM edit_history"),
        0
    );

    // An unknown tool is a tool flowhook does not record (MCP servers add new ones), and an
    // event a newer client added is a real payload: neither is bad input, and neither makes
    // noise.
    for payload in [
        &br#"{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"mcp__x__y","tool_input":{}}"#[..],
        br#"{"session_id":"s","hook_event_name":"SomethingNew","cwd":"/p","new_field":{"x":1}}"#,
    ] {
        let out = w.hook(&[], payload);
        assert_hook_contract(&out, "not ours");
        assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(
        w.count("SELECT count(*) FROM rejected_events") as usize,
        cases.len()
    );
}

#[test]
fn quarantined_payloads_are_bounded_and_redacted() {
    let w = World::new();
    let secret = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
    let mut big =
        format!(r#"{{"session_id":"s","hook_event_name":"Bogus!","key":"{secret}","x":""#)
            .into_bytes();
    big.extend(std::iter::repeat_n(b'x', 1_000_000));
    big.extend_from_slice(b"\"}");
    assert_hook_contract(&w.hook(&[], &big), "big bogus");
    assert_eq!(
        w.query("SELECT length(payload) <= 65536, truncated, payload_bytes, instr(payload, 'sk-ant-…[REDACTED]') > 0, instr(payload, 'AbCdEf') FROM rejected_events"),
        rows![[1, 1, big.len(), 1, 0]]
    );
}

#[test]
fn huge_and_strange_edits_are_counted_exactly_with_bounded_storage() {
    let w = World::new();
    // A Write of a 100,000-line file, with its original file: about 50 MB of payload.
    let content: String = (0..100_000)
        .map(|i| format!("line {i:06} of a generated file {}\n", "x".repeat(220)))
        .collect();
    let write = json!({"session_id": "big", "cwd": "/home/dev/proj", "hook_event_name": "PostToolUse",
        "tool_name": "Write", "tool_use_id": "t-big",
        "tool_input": {"file_path": "/home/dev/proj/gen.txt", "content": content},
        "tool_response": {"type": "create", "filePath": "/home/dev/proj/gen.txt", "content": content,
                          "structuredPatch": [], "originalFile": null}});
    let payload = serde_json::to_vec(&write).unwrap();
    assert!(payload.len() > 45_000_000, "{}", payload.len());
    // A debug build parses 50 MB slower than the default watchdog allows.
    let slow = w.path().join("slow.toml");
    std::fs::write(&slow, "[hook]\ntimeout_ms = 20000\n").unwrap();
    let mut c = w.cmd(&[]);
    c.env("FLOWHOOK_CONFIG", &slow);
    let (out, rss_kb) = run_measured(&c, &payload);
    assert_eq!(out, Some(0));
    assert_eq!(
        w.query("SELECT lines_added, lines_removed, length(diff) < 4096, diff_truncated FROM edit_history"),
        rows![[100_000, 0, 1, 1]]
    );
    // Bounded memory: the payload once, not a copy of each whole-file field on top.
    // The payload is held once, and the one Write content being hashed is unescaped once;
    // originalFile-sized fields are skipped without a copy.
    assert!(
        rss_kb * 1024 < payload.len() as i64 * 2,
        "peak RSS {rss_kb} KB for {} bytes",
        payload.len()
    );

    // Paths with a newline, unicode and `..`.
    for (id, path) in [
        ("p1", "/home/dev/proj/we\nird.rs"),
        ("p2", "/home/dev/proj/ünïcødé/файл.rs"),
        ("p3", "/home/dev/proj/../escape.rs"),
    ] {
        assert_hook_contract(&w.hook(&[], &edit("paths", id, path)), path);
    }
    assert_eq!(
        w.query("SELECT file, rel_path FROM edit_history WHERE session_id = 'paths' ORDER BY tool_use_id"),
        rows![
            ["/home/dev/proj/we\nird.rs", "we\nird.rs"],
            ["/home/dev/proj/ünïcødé/файл.rs", "ünïcødé/файл.rs"],
            ["/home/dev/proj/../escape.rs", "NULL"],
        ]
    );

    // A legacy MultiEdit of 10,000 edits, each one line for two.
    let edits: Vec<Value> = (0..10_000).map(|i| json!({"old_string": format!("old {i}"), "new_string": format!("new {i}\nmore {i}")})).collect();
    let multi = json!({"session_id": "multi", "cwd": "/home/dev/proj", "hook_event_name": "PostToolUse",
        "tool_name": "MultiEdit", "tool_use_id": "t-multi",
        "tool_input": {"file_path": "/home/dev/proj/m.rs", "edits": edits}});
    let start = Instant::now();
    assert_hook_contract(
        &w.hook(&[], &serde_json::to_vec(&multi).unwrap()),
        "multiedit",
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(
        w.query("SELECT lines_added, lines_removed, diff_truncated FROM edit_history WHERE session_id = 'multi'"),
        rows![[20_000, 10_000, 1]]
    );
}

#[test]
fn a_person_at_a_terminal_gets_errors_not_panics() {
    // `script` gives the command a real terminal as stdin, as a person typing it would.
    let w = World::new();
    let in_terminal = |cmd: &str| {
        let out = Command::new("script")
            .args(["-qec", &format!("{BIN} {cmd}"), "/dev/null"])
            .env("FLOWHOOK_DB", w.db())
            .env("HOME", w.home())
            .env_remove("CLAUDE_CODE_SESSION_ID")
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, text) = in_terminal("post-edit --file x.rs");
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("is a hook") && text.contains("flowhook sessions"),
        "{text}"
    );
    let (code, text) = in_terminal("hook");
    assert_eq!(code, Some(2), "{text}");
    w.hook_lines(&fixture("demo-session.jsonl"));
    let (code, text) = in_terminal("show nope");
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("no session starts with \"nope\""), "{text}");
    let (code, text) = in_terminal("");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("Usage:"), "{text}");
    let (_, broken) = in_terminal("replay /nonexistent.jsonl");
    for t in [&text, &broken] {
        assert!(!t.contains("panicked") && !t.contains("backtrace"), "{t}");
    }
    assert!(
        broken.contains("/nonexistent.jsonl: No such file"),
        "{broken}"
    );
}

#[test]
fn a_full_disk_spools_the_event_and_the_next_call_stores_it() {
    let w = World::new();
    w.hook_lines(&fixture("demo-session.jsonl"));
    let payload = edit("full", "t-full", "/home/dev/proj/src/full.rs");
    // A file-size limit below the database's size: every write past it fails (EFBIG), as on
    // a full disk.
    let script = format!("ulimit -f 16; exec {BIN}");
    let mut sh = Command::new("sh");
    sh.args(["-c", &script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", w.home())
        .env("FLOWHOOK_DB", w.db());
    let out = run_with_stdin(sh, &payload);
    assert_hook_contract(&out, "full disk");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("spooled"), "{stderr}");
    let listed = w.cmd(&["spool"]).output().unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains("1 events wait in the spool"));

    // Space again: the next call stores its own event and the spooled one.
    assert_hook_contract(
        &w.hook(&[], &edit("full", "t-next", "/home/dev/proj/src/next.rs")),
        "next",
    );
    assert_eq!(
        w.query("SELECT tool_use_id FROM edit_history WHERE session_id = 'full' ORDER BY 1"),
        rows![["t-full"], ["t-next"]]
    );
    assert_eq!(w.query("PRAGMA integrity_check"), rows![["ok"]]);
}

#[test]
fn kill_minus_nine_at_random_moments_never_loses_a_confirmed_event() {
    let w = World::new();
    w.hook_lines(&fixture("demo-session.jsonl"));
    let mut confirmed = Vec::new();
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    for round in 0..100 {
        let children: Vec<_> = (0..3)
            .map(|j| {
                let id = format!("k-{round}-{j}");
                let child = w.spawn_hook(&edit("kill", &id, "/home/dev/proj/src/k.rs"));
                (id, child)
            })
            .collect();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_micros(seed % 8000));
        for (id, mut child) in children {
            // SAFETY: sending SIGKILL to our own child.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
            let status = child.wait().unwrap();
            if status.code() == Some(0) {
                confirmed.push(id);
            }
        }
    }
    assert_eq!(w.query("PRAGMA integrity_check"), rows![["ok"]]);
    for id in &confirmed {
        assert_eq!(
            w.count(&format!(
                "SELECT count(*) FROM edit_history WHERE tool_use_id = '{id}'"
            )),
            1,
            "{id} exited 0 but is missing"
        );
    }
    // Some finished and some were killed, or the test proved nothing.
    assert!(
        !confirmed.is_empty() && confirmed.len() < 300,
        "{} of 300 finished",
        confirmed.len()
    );
}

#[test]
fn files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new();
    w.hook_lines(&fixture("demo-session.jsonl"));
    // A warning is logged (an invalid log level), so the log file exists.
    let bad = w.path().join("c.toml");
    std::fs::write(&bad, "[log]\nlevel = \"loud\"\n").unwrap();
    let mut c = w.cmd(&[]);
    c.env("FLOWHOOK_CONFIG", &bad).env("FLOWHOOK_LOG", "debug");
    assert_hook_contract(
        &run_with_stdin(c, &edit("m", "t-m", "/home/dev/proj/a.rs")),
        "log",
    );
    // And an event is spooled, so a spool file exists.
    std::fs::create_dir_all(w.path().join("blocked")).unwrap();
    let mut c = w.cmd(&[]);
    c.env("FLOWHOOK_DB", w.path().join("blocked"));
    assert_hook_contract(
        &run_with_stdin(c, &edit("m", "t-s", "/home/dev/proj/a.rs")),
        "spool",
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let spool = w.home().join(".local/state/flowhook/spool");
    let spooled = std::fs::read_dir(&spool)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for (path, want) in [
        (w.db(), 0o600),
        (w.db().with_file_name("flowhook.log"), 0o600),
        (w.db().parent().unwrap().to_path_buf(), 0o700),
        (spooled, 0o600),
        (spool, 0o700),
    ] {
        assert_eq!(mode(&path), want, "{}", path.display());
    }
}

#[test]
fn secrets_never_reach_the_database() {
    let w = World::new();
    let lines = std::fs::read_to_string(repo().join("tests/data/secrets.tsv")).unwrap();
    for (i, line) in lines.lines().filter(|l| !l.starts_with('#')).enumerate() {
        let (text, secret) = line.split_once('\t').unwrap();
        let prompt = json!({"session_id": "sec", "cwd": "/home/dev/proj", "hook_event_name": "UserPromptSubmit",
                            "prompt_id": format!("sec-{i}"), "prompt": text});
        assert_hook_contract(&w.hook(&[], prompt.to_string().as_bytes()), text);
        // The same secret in an edit's diff.
        let mut e = edit_template();
        e["session_id"] = "sec".into();
        e["tool_use_id"] = format!("sec-e{i}").into();
        e["tool_response"]["structuredPatch"][0]["lines"] = json!([format!("+{text}")]);
        assert_hook_contract(&w.hook(&[], e.to_string().as_bytes()), text);
        let leaked = w.count(&format!(
            "SELECT (SELECT count(*) FROM task_log WHERE instr(task, '{s}')) +
                    (SELECT count(*) FROM edit_history WHERE instr(diff, '{s}'))",
            s = secret.replace('\'', "''")
        ));
        assert_eq!(leaked, 0, "{text}");
    }
    assert!(w.count("SELECT count(*) FROM task_log WHERE instr(task, '[REDACTED]')") >= 20);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

    /// Whatever bytes arrive, parsing and normalising never panics.
    #[test]
    fn any_bytes_are_understood_or_rejected(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
        let _ = flowhook::understand(&bytes, &[]);
    }

    /// Payload-shaped JSON with arbitrary values where Claude Code puts its fields.
    #[test]
    fn any_json_in_payload_fields_never_panics(
        event in proptest::sample::select(vec!["PostToolUse", "PreToolUse", "UserPromptSubmit", "SessionStart",
            "SessionEnd", "Stop", "SubagentStart", "SubagentStop", "PostToolUseFailure", "X"]),
        tool in proptest::sample::select(vec!["Write", "Edit", "MultiEdit", "NotebookEdit", "Agent", "Task", "Read"]),
        input in json_value(), response in json_value(), prompt in json_value(),
        args in proptest::collection::vec("[a-z-]{0,12}", 0..4),
    ) {
        let payload = json!({"session_id": "p", "hook_event_name": event, "tool_name": tool,
            "tool_input": input, "tool_response": response, "prompt": prompt});
        let _ = flowhook::understand(payload.to_string().as_bytes(), &args);
    }
}

fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("file_path".to_owned()),
                    Just("structuredPatch".to_owned()),
                    Just("lines".to_owned()),
                    Just("content".to_owned()),
                    Just("edits".to_owned()),
                    Just("type".to_owned()),
                    "[a-z_]{1,10}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn random_payloads_through_the_binary_always_exit_zero() {
    use proptest::strategy::{Strategy, ValueTree};
    let w = World::new();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..40 {
        let v = json_value().new_tree(&mut runner).unwrap().current();
        let payload = json!({"session_id": "r", "hook_event_name": "PostToolUse", "tool_name": "Edit",
                             "tool_input": v.clone(), "tool_response": v});
        let out = w.hook(&[], payload.to_string().as_bytes());
        assert_eq!(out.status.code(), Some(0), "{payload}");
        assert!(out.stdout.is_empty());
    }
}

//! `flowhook mcp` as its own process, driven over stdio with real MCP messages, against a
//! database filled by replaying recorded sessions.

#![cfg(feature = "mcp")]

mod common;

use common::mcp::Client;
use common::*;
use serde_json::{Value, json};
use std::time::Duration;

/// A world whose database holds the demo session, stored by the hook.
fn filled() -> World {
    let w = World::new();
    assert_eq!(w.hook_lines(&fixture("demo-session.jsonl")), 10);
    w
}

#[test]
fn every_tool_answers_over_stdio_and_bad_requests_leave_it_running() {
    let w = filled();
    // The demo session's project is not the one the server runs in.
    let (mut c, first_answer) = Client::start(&w, &["--any-project"]);
    eprintln!("start to first answer: {first_answer:?}");

    let tools = c.request("tools/list", json!({}));
    let mut names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "file_history",
            "forget",
            "get_session",
            "list_sessions",
            "recall_key",
            "recent_context",
            "remember",
            "search_memory"
        ]
    );
    for t in tools["result"]["tools"].as_array().unwrap() {
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
        assert!(t["description"].as_str().unwrap().len() > 60, "{t}");
    }

    // The demo session (project /home/dev/proj) as the tools see it.
    let found = c
        .call(
            "search_memory",
            json!({"query": "change the second line of notes.md", "project": "/home/dev/proj"}),
        )
        .unwrap();
    assert!(
        found.contains("notes.md") && found.contains("2c52ce67"),
        "{found}"
    );
    let sessions = c
        .call("list_sessions", json!({"project": "/home/dev/proj"}))
        .unwrap();
    assert!(
        sessions.starts_with("2c52ce67-4d3d-46ef-9d06-bfbb391c716e "),
        "{sessions}"
    );
    assert!(sessions.contains("3 edits (+7 -1)"), "{sessions}");
    let session = c
        .call(
            "get_session",
            json!({"id": "2c52", "project": "/home/dev/proj"}),
        )
        .unwrap();
    assert!(
        session.starts_with("Session 2c52ce67-4d3d-46ef-9d06-bfbb391c716e"),
        "{session}"
    );
    let history = c
        .call(
            "file_history",
            json!({"path": "notes.md", "project": "/home/dev/proj"}),
        )
        .unwrap();
    let lines: Vec<&str> = history.lines().filter(|l| !l.starts_with("  ")).collect();
    assert_eq!(lines.len(), 2, "{history}");
    assert!(
        lines[0].contains("Edit edit notes.md (+1 -1)")
            && lines[1].contains("Write create notes.md (+3 -0)"),
        "{history}"
    );
    assert!(
        history.contains("-line two: draft +line two: final"),
        "{history}"
    );
    let context = c
        .call(
            "recent_context",
            json!({"project": "/home/dev/proj", "task": "fix notes.md again"}),
        )
        .unwrap();
    assert!(
        context.starts_with("Prior work in this project, from flowhook's memory"),
        "{context}"
    );

    // Agent memory: stored redacted, read back, found by search, forgotten.
    let stored = c
        .call("remember", json!({"key": "deploy", "namespace": "ops",
            "value": "release with make release; CI token ghp_abcdefghijklmnopqrstuvwxyz0123456789"}))
        .unwrap();
    assert!(stored.starts_with("stored ops/deploy"), "{stored}");
    let back = c
        .call("recall_key", json!({"key": "deploy", "namespace": "ops"}))
        .unwrap();
    assert!(
        back.starts_with("release with make release") && !back.contains("abcdefghijklmnop"),
        "{back}"
    );
    assert!(back.contains("[REDACTED]"), "{back}");
    let found = c
        .call("search_memory", json!({"query": "how do we release"}))
        .unwrap();
    assert!(found.contains("stored [ops/deploy]"), "{found}");
    assert_eq!(
        w.query("SELECT count(*) FROM agent_memory WHERE instr(value, 'abcdefghijklmnop') > 0"),
        rows![[0]]
    );
    assert!(
        c.call("forget", json!({"key": "deploy", "namespace": "ops"}))
            .unwrap()
            .starts_with("forgot 1")
    );
    assert!(
        c.call("recall_key", json!({"key": "deploy", "namespace": "ops"}))
            .unwrap()
            .starts_with("nothing stored")
    );

    // Errors are MCP errors; the server goes on.
    assert!(
        c.call("no_such_tool", json!({}))
            .unwrap_err()
            .contains("not found")
    );
    assert!(
        c.call("get_session", json!({})).is_err(),
        "a missing argument"
    );
    assert!(
        c.call("get_session", json!({"id": "ffffffff"}))
            .unwrap_err()
            .contains("no session starts with")
    );
    c.send("this is not json {");
    assert_eq!(c.receive()["error"]["code"], -32700);
    // A database that disappears: a clear error, then the server is still there.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", w.db().display()));
    }
    let gone = c.call("list_sessions", json!({})).unwrap_err();
    assert!(gone.contains("no database at"), "{gone}");
    assert!(c.request("tools/list", json!({}))["result"]["tools"].is_array());
}

/// get_session's errors say whose they are: an id that names no session is the caller's
/// (invalid params, -32602); a database that fails while it reads is the server's (internal
/// error, -32603), and the server goes on.
#[test]
fn get_session_tells_a_wrong_id_from_a_failing_database() {
    let w = filled();
    let code = |w: &World| {
        let (mut c, _) = Client::start(w, &["--any-project"]);
        let v = c.request(
            "tools/call",
            json!({"name": "get_session", "arguments": {"id": "ffffffff", "all_projects": true}}),
        );
        assert!(c.request("tools/list", json!({}))["result"]["tools"].is_array());
        v
    };
    let wrong = code(&w);
    assert_eq!(wrong["error"]["code"], -32602, "{wrong}");
    // The sessions table's pages, and its index's, made unreadable: the file still opens
    // (its schema is intact on page 1), every read of the table fails.
    w.query("PRAGMA wal_checkpoint(TRUNCATE)");
    let size: u64 = w.query("PRAGMA page_size")[0][0].parse().unwrap();
    let roots = w.query(
        "SELECT rootpage FROM sqlite_master WHERE tbl_name = 'session_summaries' AND rootpage > 1",
    );
    assert!(!roots.is_empty());
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(w.db())
        .unwrap();
    for root in roots {
        let page: u64 = root[0].parse().unwrap();
        std::os::unix::fs::FileExt::write_all_at(&file, &[0xff; 8], (page - 1) * size).unwrap();
    }
    drop(file);
    let failing = code(&w);
    assert_eq!(failing["error"]["code"], -32603, "{failing}");
    assert!(
        failing["error"]["message"]
            .as_str()
            .unwrap()
            .contains("malformed"),
        "{failing}"
    );
}

#[test]
fn read_only_leaves_out_the_writing_tools() {
    let w = filled();
    let (mut c, _) = Client::start(&w, &["--read-only"]);
    let tools = c.request("tools/list", json!({}));
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 6, "{names:?}");
    assert!(!names.contains(&"remember") && !names.contains(&"forget"));
    assert!(
        c.call("remember", json!({"key": "k", "value": "v"}))
            .is_err()
    );
}

#[test]
fn memory_on_the_command_line_is_the_same_store() {
    let w = filled();
    let run =
        |args: &[&str]| String::from_utf8_lossy(&succeeded(&mut w.cmd(args)).stdout).into_owned();
    run(&[
        "memory",
        "set",
        "--namespace",
        "api",
        "style",
        "errors are enums, never strings",
    ]);
    assert_eq!(
        run(&["memory", "get", "--namespace", "api", "style"]),
        "errors are enums, never strings\n"
    );
    run(&["memory", "set", "--ttl", "1", "short", "gone soon"]);
    let listed: Value = serde_json::from_str(&run(&["memory", "list", "--json"])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    std::thread::sleep(Duration::from_millis(1100));
    let listed: Value = serde_json::from_str(&run(&["memory", "list", "--json"])).unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        1,
        "an expired value is never read"
    );
    let (mut c, _) = Client::start(&w, &[]);
    assert_eq!(
        c.call("recall_key", json!({"key": "style", "namespace": "api"}))
            .unwrap()
            .split(" (stored")
            .next(),
        Some("errors are enums, never strings")
    );
    drop(c);
    assert!(run(&["memory", "delete", "--namespace", "api", "style"]).starts_with("deleted 1"));
    let out = w
        .cmd(&["memory", "get", "--namespace", "api", "style"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

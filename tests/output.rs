//! What flowhook hands back: MCP answers (every request answered, numbers checked, one
//! project's rows only), terminal output (no control or bidi character reaches a terminal,
//! `--json` keeps the text exact) and debugging commands that fail (never silently).

mod common;

use common::mcp::Client;
use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A Write-then-Edit style PostToolUse Edit of `file` (under `cwd`) in `session`, changing
/// `old` into `new`.
fn edit_in(session: &str, id: &str, cwd: &Path, file: &str, old: &str, new: &str) -> Vec<u8> {
    let mut v = edit_template();
    let path = cwd.join(file);
    v["session_id"] = session.into();
    v["cwd"] = json!(cwd);
    v["tool_use_id"] = id.into();
    v["tool_input"]["file_path"] = json!(path);
    v["tool_input"]["old_string"] = old.into();
    v["tool_input"]["new_string"] = new.into();
    v["tool_response"]["filePath"] = json!(path);
    v["tool_response"]["oldString"] = old.into();
    v["tool_response"]["newString"] = new.into();
    v["tool_response"]["originalFile"] = format!("{old}\n").into();
    v["tool_response"]["structuredPatch"] = json!([{"oldStart": 1, "oldLines": 1,
        "newStart": 1, "newLines": 1, "lines": [format!("-{old}"), format!("+{new}")]}]);
    serde_json::to_vec(&v).unwrap()
}

fn session_end(session: &str, cwd: &Path) -> Vec<u8> {
    json!({"session_id": session, "cwd": cwd, "hook_event_name": "SessionEnd",
        "reason": "other"})
    .to_string()
    .into_bytes()
}

/// Stores a prompt, an edit and a session end of `session` in `cwd`.
fn record(w: &World, session: &str, cwd: &Path, prompt: &str, file: &str, old: &str, new: &str) {
    for payload in [
        prompt_in(session, cwd, prompt),
        edit_in(session, &format!("toolu_{session}"), cwd, file, old, new),
        session_end(session, cwd),
    ] {
        assert_hook_contract(&w.hook(&[], &payload), &String::from_utf8_lossy(&payload));
    }
}

// ---------------------------------------------------------------------------------------
// Item 7: MCP

#[test]
fn remember_answers_every_ttl_and_what_it_stores_reads_back() {
    let w = World::new();
    let (mut c, _) = Client::start(&w, &[]);
    let century = 3_155_760_000u64;
    // Each is answered (Client::receive fails after 10 s) with a refusal naming the range.
    let refused: [Value; 10] = [
        json!(10_000_000_000_000u64),
        json!(1_000_000_000_000_000_000u64),
        json!(u64::MAX),
        json!(-1),
        json!(i64::MIN),
        json!(0),
        json!(1e13),
        json!(1.5),
        json!(century + 1),
        json!(1e300),
    ];
    for ttl in &refused {
        let e = c
            .call(
                "remember",
                json!({"key": "k", "value": "v", "ttl_seconds": ttl}),
            )
            .unwrap_err();
        assert!(
            e.contains("ttl_seconds must be a whole number from 1 to 3155760000"),
            "{ttl}: {e}"
        );
    }
    // A number too long for any integer type, as raw JSON.
    c.send(
        r#"{"jsonrpc":"2.0","id":900,"method":"tools/call","params":{"name":"remember","arguments":{"key":"k","value":"v","ttl_seconds":100000000000000000000000000000}}}"#,
    );
    let big = c.receive();
    assert_eq!(big["id"], 900, "{big}");
    assert!(
        big.get("error").is_some() || big["result"]["isError"] == true,
        "{big}"
    );

    // The longest TTL allowed is stored with a four-digit year and read back.
    let stored = c
        .call(
            "remember",
            json!({"key": "long", "value": "kept a century", "ttl_seconds": century}),
        )
        .unwrap();
    let until = stored.split(" until ").nth(1).unwrap().to_owned();
    assert!(until.len() == 24 && until.starts_with("21"), "{stored}");
    assert_eq!(
        w.count("SELECT count(*) FROM agent_memory WHERE key = 'k'"),
        0,
        "nothing refused was stored"
    );
    assert!(
        c.call("recall_key", json!({"key": "long"}))
            .unwrap()
            .starts_with("kept a century"),
    );
    // The same on the command line: refused with a message, or stored and readable.
    for ttl in ["10000000000000", "18446744073709551615", "-1", "0", "1e13"] {
        let out = w
            .cmd(&["memory", "set", "--ttl", ttl, "cli", "v"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--ttl {ttl}");
        assert!(!out.stderr.is_empty(), "--ttl {ttl}");
    }
    succeeded(&mut w.cmd(&["memory", "set", "--ttl", &century.to_string(), "cli", "v"]));
    assert_eq!(
        succeeded(&mut w.cmd(&["memory", "get", "cli"])).stdout,
        b"v\n"
    );

    // Expiry is compared as a time: a year past 9999 (what older versions stored) and an
    // offset are read as what they mean; a past one is gone.
    let project = w.query("SELECT project FROM agent_memory LIMIT 1")[0][0].clone();
    for (key, expires) in [
        ("far", "+33715-09-02T04:24:42.487Z"),
        ("offset", "2999-01-01T00:00:00+05:00"),
        ("past", "2001-01-01T00:00:00.000Z"),
        ("past-offset", "1999-12-31T23:00:00-02:00"),
    ] {
        sqlite(
            &w.db(),
            &format!(
                "INSERT INTO agent_memory (id, project, namespace, key, agent_id, value,
                     created_at, updated_at, expires_at, version)
                 VALUES ('{key}', '{project}', 'default', '{key}', 'system', 'value of {key}',
                     '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', '{expires}', 1)"
            ),
        );
    }
    for (key, live) in [
        ("far", true),
        ("offset", true),
        ("past", false),
        ("past-offset", false),
    ] {
        let back = c.call("recall_key", json!({"key": key})).unwrap();
        assert_eq!(
            back.starts_with(&format!("value of {key}")),
            live,
            "{key}: {back}"
        );
    }
    // A session end deletes only what really expired.
    let end = session_end("s-ttl", &w.project());
    assert_hook_contract(&w.hook(&[], &end), "session end");
    let mut left: Vec<String> = w
        .query("SELECT key FROM agent_memory ORDER BY key")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    left.sort();
    assert_eq!(left, ["cli", "far", "long", "offset"]);
}

#[test]
fn a_tool_that_panics_answers_with_an_error_and_the_server_goes_on() {
    let w = World::new();
    // Read inside each call, in debug builds only (what tests run).
    let (mut c, _) = Client::start_env(&w, &[], &[("FLOWHOOK_TEST_PANIC", "mcp")]);
    for (tool, args) in [
        ("list_sessions", json!({})),
        ("remember", json!({"key": "k", "value": "v"})),
        ("search_memory", json!({"query": "x"})),
    ] {
        let e = c.call(tool, args).unwrap_err();
        assert!(
            e.contains("internal error") && e.contains("injected by FLOWHOOK_TEST_PANIC"),
            "{tool}: {e}"
        );
    }
    assert!(c.request("tools/list", json!({}))["result"]["tools"].is_array());
}

/// Two projects in one database (a shared `FLOWHOOK_DB`): the server started in A.
struct TwoProjects {
    w: World,
    b: PathBuf,
    b_session: String,
}

const B_TEXT: &str = "zebrafinch";

fn two_projects() -> TwoProjects {
    let w = World::new();
    let b = w.path().join("other");
    std::fs::create_dir_all(b.join(".claude")).unwrap();
    let b_session = "bbbbbbbb-0000-4000-8000-000000000002".to_owned();
    record(
        &w,
        "aaaaaaaa-0000-4000-8000-000000000001",
        &w.project(),
        "fix the parser in shared.rs",
        "shared.rs",
        "let parser = old();",
        "let parser = new();",
    );
    record(
        &w,
        &b_session,
        &b,
        &format!("fix the parser in shared.rs, {B_TEXT} edition"),
        "shared.rs",
        "let parser = old();",
        &format!("let parser = {B_TEXT}();"),
    );
    // Agent memory of B, stored from B.
    succeeded(
        w.cmd(&["memory", "set", "secret", &format!("the {B_TEXT} plan")])
            .current_dir(&b),
    );
    assert_eq!(
        w.count("SELECT count(DISTINCT project) FROM session_summaries"),
        2
    );
    assert_eq!(
        w.count(&format!(
            "SELECT count(*) FROM edit_history WHERE instr(diff, '{B_TEXT}') > 0"
        )),
        1,
        "B's diff is stored"
    );
    TwoProjects { w, b, b_session }
}

#[test]
fn mcp_tools_answer_about_their_own_project_only() {
    let t = two_projects();
    let (mut c, _) = Client::start(&t.w, &[]);
    // Every tool, with arguments that would find B's rows if it looked there.
    let calls: Vec<(&str, Value)> = vec![
        (
            "search_memory",
            json!({"query": format!("parser shared.rs {B_TEXT} plan secret")}),
        ),
        ("list_sessions", json!({"limit": 200})),
        ("get_session", json!({"id": t.b_session})),
        ("get_session", json!({"id": "bbbb"})),
        ("file_history", json!({"path": "shared.rs"})),
        ("file_history", json!({"path": t.b.join("shared.rs")})),
        (
            "recent_context",
            json!({"task": format!("fix the parser in shared.rs {B_TEXT}")}),
        ),
        ("recent_context", json!({})),
        ("recall_key", json!({"key": "secret"})),
        ("forget", json!({"key": "secret"})),
        ("remember", json!({"key": "secret", "value": "A's own"})),
    ];
    let tools = c.request("tools/list", json!({}));
    for tool in tools["result"]["tools"].as_array().unwrap() {
        let name = tool["name"].as_str().unwrap();
        assert!(
            calls.iter().any(|(n, _)| *n == name),
            "{name} is not checked"
        );
        let description = tool["description"].as_str().unwrap();
        assert!(
            description.contains("this project"),
            "{name}: {description}"
        );
    }
    for (tool, args) in &calls {
        let mut answer = match c.call(tool, args.clone()) {
            Ok(text) | Err(text) => text,
        };
        // An answer may repeat what was asked (as JSON text for quoted strings); nothing
        // else of B's.
        for asked in args.as_object().unwrap().values().filter_map(Value::as_str) {
            let quoted = format!("{:?}", asked);
            answer = answer.replace(&quoted, "").replace(asked, "");
        }
        assert!(
            !answer.contains(B_TEXT) && !answer.contains(t.b.to_str().unwrap()),
            "{tool} {args} answered with B's rows: {answer}"
        );
    }
    // B's value is intact: A's forget and remember touched A's slot only.
    assert_eq!(
        t.w.query("SELECT value FROM agent_memory WHERE instr(project, 'other') > 0"),
        rows![[format!("the {B_TEXT} plan")]]
    );
    // Asked for explicitly, the other project is there.
    let session = c
        .call("get_session", json!({"id": "bbbb", "all_projects": true}))
        .unwrap();
    assert!(session.contains(B_TEXT), "{session}");
    let history = c
        .call("file_history", json!({"path": "shared.rs", "project": t.b}))
        .unwrap();
    assert!(history.contains(B_TEXT), "{history}");
    let all = c
        .call("list_sessions", json!({"all_projects": true}))
        .unwrap();
    assert!(
        all.contains("bbbbbbbb") && all.contains("aaaaaaaa"),
        "{all}"
    );
    let own = c.call("list_sessions", json!({})).unwrap();
    assert!(
        own.contains("aaaaaaaa") && !own.contains("bbbbbbbb") && own.ends_with("(1 of 1 sessions)"),
        "{own}"
    );
}

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
    // Asked for explicitly, the other project is refused: the agent may be following a
    // repository's instructions. Refused by name, with nothing of B's.
    for (tool, args) in [
        ("get_session", json!({"id": "bbbb", "all_projects": true})),
        ("file_history", json!({"path": "shared.rs", "project": t.b})),
        ("list_sessions", json!({"all_projects": true})),
        ("search_memory", json!({"query": B_TEXT, "project": t.b})),
        ("recent_context", json!({"task": B_TEXT, "project": t.b})),
        (
            "search_memory",
            json!({"query": B_TEXT, "project": "/home/dev/other"}),
        ),
    ] {
        let e = c.call(tool, args.clone()).unwrap_err();
        assert!(
            e.contains("flowhook mcp --any-project"),
            "{tool} {args}: {e}"
        );
        assert!(!e.replace(B_TEXT, "").contains("bbbb"), "{e}");
    }
    // Naming its own project is not asking for another.
    let own = c
        .call("list_sessions", json!({"project": t.w.project()}))
        .unwrap();
    assert!(
        own.contains("aaaaaaaa") && !own.contains("bbbbbbbb"),
        "{own}"
    );
    drop(c);
    // A server the user started with --any-project reads them.
    let (mut c, _) = Client::start(&t.w, &["--any-project"]);
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
    // `since` is a time, checked like the numbers.
    assert_eq!(
        c.call("list_sessions", json!({"since": "2999-01-01"}))
            .unwrap(),
        "(0 of 1 sessions)"
    );
    assert!(
        c.call("list_sessions", json!({"since": "yesterday"}))
            .unwrap_err()
            .contains("since must be a time")
    );
    for limit in [json!(0), json!(201), json!(-3), json!(2.5), json!(1e13)] {
        let e = c
            .call("file_history", json!({"path": "shared.rs", "limit": limit}))
            .unwrap_err();
        assert!(
            e.contains("limit must be a whole number from 1 to 200"),
            "{limit}: {e}"
        );
    }
    let own = c.call("list_sessions", json!({})).unwrap();
    assert!(
        own.contains("aaaaaaaa") && !own.contains("bbbbbbbb") && own.ends_with("(1 of 1 sessions)"),
        "{own}"
    );
}

// ---------------------------------------------------------------------------------------
// Item 8: terminal output

/// What stored text may hold to drive a terminal: clear the screen, write the clipboard
/// (OSC 52), reverse the line (U+202E), an 8-bit CSI (U+009B), a bell, and more of the same
/// classes: an isolate (U+2067), a DCS query, a tag character, a carriage return that
/// overwrites the line, NEL (U+0085), DEL.
const HOSTILE: &[&str] = &[
    "\x1b[2J",
    "\x1b]52;c;ZXZpbA==\x07",
    "\u{202e}",
    "\u{9b}31m",
    "\x07",
    "\u{2067}",
    "\x1bP1$r\x1b\\",
    "\u{e0041}",
    "\r",
    "\u{85}",
    "\x7f",
];

/// Whether a character would act on a terminal instead of being read.
fn acts(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{061c}' | '\u{200b}' | '\u{200e}' | '\u{200f}'
            | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}'
            | '\u{e0000}'..='\u{e007f}')
}

/// Output for a person: valid UTF-8 (no lone 8-bit C1 byte) with nothing that acts.
fn assert_inert(bytes: &[u8], what: &str) {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{what}: not UTF-8: {e}"));
    let found: Vec<String> = text
        .chars()
        .filter(|&c| acts(c))
        .map(|c| format!("U+{:04X}", u32::from(c)))
        .collect();
    assert!(found.is_empty(), "{what} printed {found:?}:\n{text}");
}

#[test]
fn nothing_stored_reaches_a_terminal_raw_and_json_keeps_it_exact() {
    let w = World::new();
    let all: String = HOSTILE.concat();
    // A directory whose name holds all of it: the project's path, the database's, the file's.
    let here = w.path().join(format!("evil{all}"));
    let project = here.join("proj");
    std::fs::create_dir_all(project.join(".claude")).unwrap();
    std::fs::create_dir_all(project.join("src")).unwrap();
    let db = here.join("db").join("flowhook.db");
    let cmd = |args: &[&str]| {
        let mut c = w.cmd(args);
        c.env("FLOWHOOK_DB", &db).current_dir(&project);
        c
    };
    let session = "5e55e55e-0000-4000-8000-00000000e5c0";
    let prompt = format!("deploy the widget {all} now");
    let file = format!("w{all}.rs");
    let key = format!("k{all}");
    let value = format!("v{all}\nsecond line");
    for payload in [
        prompt_in(session, &project, &prompt),
        edit_in(
            session,
            "toolu_e5c",
            &project,
            &format!("src/{file}"),
            "a",
            &all,
        ),
        session_end(session, &project),
    ] {
        assert_hook_contract(
            &run_with_stdin(cmd(&[]), &payload),
            &String::from_utf8_lossy(&payload),
        );
    }
    succeeded(&mut cmd(&["memory", "set", &key, &value]));
    // A project file to trust, a recorded file to replay, an event in the spool.
    std::fs::write(project.join(".claude/flowhook.toml"), "").unwrap();
    succeeded(&mut cmd(&["trust"]));
    let recorded = here.join(format!("recorded{all}.jsonl"));
    std::fs::write(&recorded, prompt_in("replayed", &project, &prompt)).unwrap();
    std::fs::write(here.join("not-a-dir"), "").unwrap();
    let mut spooled = cmd(&[]);
    spooled.env(
        "FLOWHOOK_DB",
        here.join("not-a-dir").join(format!("x{all}.db")),
    );
    assert_hook_contract(
        &run_with_stdin(spooled, &prompt_in("s", &project, &prompt)),
        "spool",
    );
    assert_eq!(w.spool().len(), 1, "one event waits");

    let recorded = recorded.to_str().unwrap();
    let human: Vec<Vec<&str>> = vec![
        vec!["sessions"],
        vec!["sessions", "--all", "--project", project.to_str().unwrap()],
        vec!["show", "5e55"],
        vec!["export", "5e55", "--format", "md"],
        vec!["context", "deploy the widget"],
        vec!["context", "deploy the widget", "--explain"],
        vec!["memory", "list"],
        vec!["memory", "get", &key],
        vec!["memory", "set", &key, &value],
        vec!["doctor"],
        vec!["spool"],
        vec!["trust", "--list"],
        vec!["sync", "--status"],
        vec!["replay", recorded],
        vec!["rebuild"],
        vec!["prune", "--older-than", "1d"],
        vec!["show", &all],
        vec!["memory", "delete", "--namespace", &all, &key],
    ];
    for args in &human {
        let out = cmd(args).output().unwrap();
        let what = format!("{args:?}");
        assert_inert(&out.stdout, &format!("stdout of {what}"));
        assert_inert(&out.stderr, &format!("stderr of {what}"));
        // Shown, not dropped (but where nothing stored is said): the escapes are there.
        let both = String::from_utf8_lossy(&[out.stdout, out.stderr].concat()).into_owned();
        let says_nothing_stored = matches!(args[0], "sync" | "prune");
        assert!(
            says_nothing_stored || both.contains("\\x1b[2J") || both.contains("\\u{1b}[2J"),
            "{what} shows nothing stored:\n{both}"
        );
    }
    let shown = String::from_utf8(succeeded(&mut cmd(&["show", "5e55"])).stdout).unwrap();
    for escaped in [
        "\\x1b[2J",
        "\\x1b]52;c;ZXZpbA==\\x07",
        "\\u{202e}",
        "\\u{9b}31m",
    ] {
        assert!(shown.contains(escaped), "{escaped} in\n{shown}");
    }
    let listed = String::from_utf8(succeeded(&mut cmd(&["memory", "list"])).stdout).unwrap();
    assert_eq!(listed.lines().count(), 1, "one value, one line: {listed}");
    assert!(listed.contains("\\x0asecond line"), "{listed}");
    let got = String::from_utf8(succeeded(&mut cmd(&["memory", "get", &key])).stdout).unwrap();
    assert!(
        got.ends_with("\nsecond line\n"),
        "a value's own lines stay: {got}"
    );

    // JSON keeps the text exact. serde_json escapes C0 (\u001b) and DEL is left as is, like
    // C1 and bidi characters: valid JSON, for a program, not a terminal.
    let json = |args: &[&str]| -> Vec<Value> {
        let out = succeeded(&mut cmd(args)).stdout;
        assert!(
            !out.iter().any(|&b| b < 0x20 && b != b'\n'),
            "{args:?}: raw C0 in JSON"
        );
        let text = String::from_utf8(out).unwrap();
        serde_json::Deserializer::from_str(&text)
            .into_iter::<Value>()
            .map(Result::unwrap)
            .collect()
    };
    let strings = |v: &Value| -> Vec<String> {
        fn walk(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
                Value::Object(o) => o.values().for_each(|x| walk(x, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(v, &mut out);
        out
    };
    let project_text = project.to_str().unwrap().to_owned();
    for (args, expected) in [
        (
            vec!["show", "5e55", "--json"],
            vec![prompt.clone(), project_text.clone()],
        ),
        (
            vec!["export", "5e55", "--format", "json"],
            vec![prompt.clone()],
        ),
        (vec!["sessions", "--json"], vec![project_text.clone()]),
        (
            vec!["memory", "list", "--json"],
            vec![key.clone(), value.clone()],
        ),
        (vec!["memory", "get", &key, "--json"], vec![value.clone()]),
    ] {
        let found: Vec<String> = json(&args).iter().flat_map(strings).collect();
        for e in &expected {
            assert!(found.contains(e), "{args:?}: {e:?} not in {found:?}");
        }
    }
    let answer = json(&["context", "deploy the widget", "--json"]);
    let context = answer[0]["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap();
    assert!(context.contains("\u{202e}"), "{context}");
}

// ---------------------------------------------------------------------------------------
// Item 12: debugging commands that fail

#[test]
fn a_debugging_command_that_panics_says_so_on_stderr() {
    let w = World::new();
    assert_eq!(w.hook_lines(&fixture("demo-session.jsonl")), 10);
    for args in [
        vec!["sessions"],
        vec!["show", "2c52"],
        vec!["memory", "list"],
        vec!["doctor"],
        vec!["schema"],
    ] {
        let out = w
            .cmd(&args)
            .env("FLOWHOOK_TEST_PANIC", "command")
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(101), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("flowhook: internal error: ")
                && stderr.contains("injected by FLOWHOOK_TEST_PANIC")
                && stderr.ends_with(" (please report)\n"),
            "{args:?}: {stderr}"
        );
    }
    // A hook call with the same variable set is still a hook call: exit 0, nothing said.
    let p = prompt_in("quiet", &w.project(), "a prompt");
    let mut hook = w.cmd(&[]);
    hook.env("FLOWHOOK_TEST_PANIC", "command");
    assert_hook_contract(&run_with_stdin(hook, &p), "hook");
}

#[test]
fn token_totals_saturate_instead_of_wrapping() {
    let w = World::new();
    let session = "70ce0000-0000-4000-8000-000000000001";
    // Three messages whose counts add up past u64::MAX (debug builds panicked in `replay`,
    // release builds wrapped to a small number).
    let transcript = w.path().join("transcript.jsonl");
    let big = u64::MAX - 5;
    let lines: String = (0..3)
        .map(|i| {
            json!({"type": "assistant", "message": {"id": format!("m{i}"), "model": "opus",
                "usage": {"input_tokens": big, "output_tokens": big / 2,
                    "cache_read_input_tokens": big, "cache_creation_input_tokens": 1}}})
            .to_string()
                + "\n"
        })
        .collect();
    std::fs::write(&transcript, lines).unwrap();
    // A subagent's result with more tokens than an SQL integer holds.
    let mut agent: Value = serde_json::from_str(
        std::fs::read_to_string(fixture(
            "recorded/claude-code-2.1.328__parallel-agents.jsonl",
        ))
        .unwrap()
        .lines()
        .find(|l| l.contains("\"PostToolUse\"") && l.contains("totalTokens"))
        .unwrap(),
    )
    .unwrap();
    agent["session_id"] = session.into();
    agent["cwd"] = json!(w.project());
    agent["tool_response"]["totalTokens"] = json!(u64::MAX);
    let end = json!({"session_id": session, "cwd": w.project(), "hook_event_name": "SessionEnd",
        "reason": "other", "transcript_path": transcript});
    let recorded = w.path().join("events.jsonl");
    std::fs::write(
        &recorded,
        format!(
            "{}\n{agent}\n{end}\n",
            String::from_utf8(prompt_in(session, &w.project(), "count the tokens")).unwrap()
        ),
    )
    .unwrap();
    succeeded(&mut w.cmd(&["replay", recorded.to_str().unwrap()]));
    let shown: Value =
        serde_json::from_slice(&succeeded(&mut w.cmd(&["show", "70ce", "--json"])).stdout).unwrap();
    let usage = &shown["metrics"]["usage"];
    assert_eq!(usage["messages"], 3, "{usage}");
    assert_eq!(usage["input_tokens"], u64::MAX, "{usage}");
    assert_eq!(usage["output_tokens"], u64::MAX, "{usage}");
    assert_eq!(usage["cache_read_input_tokens"], u64::MAX, "{usage}");
    assert_eq!(usage["cache_creation_input_tokens"], 3, "{usage}");
    assert_eq!(
        w.query("SELECT tokens FROM swarm_coordination WHERE tokens IS NOT NULL"),
        rows![[i64::MAX]]
    );
    let agents = shown["metrics"]["agents"].as_array().unwrap();
    assert!(agents.iter().any(|a| a["tokens"] == i64::MAX), "{agents:?}");
    let text = String::from_utf8(succeeded(&mut w.cmd(&["show", "70ce"])).stdout).unwrap();
    assert!(text.contains(&u64::MAX.to_string()), "{text}");
}

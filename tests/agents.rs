//! Every coding agent, one memory (issue 25): Codex CLI, Gemini CLI, Cursor and Copilot CLI
//! payloads through the built binary, as each agent calls it. The Codex, Gemini and Copilot
//! payloads in fixtures/agents/ were recorded from the real clients (codex-0.171.0 by
//! `codex_real_client_end_to_end`, gemini-0.61.0 and copilot-1.0.102 by
//! tools/record/record_agent.py; tests/agents_real.rs drives them end to end); Cursor's and
//! Copilot's PascalCase ones are built from the published reference.
//! Each fixture is fed with `--agent` (what `install --agent` writes) and without it (the
//! payload's shape says which agent), and what was stored is checked row by row.

mod common;

use common::agents::*;
use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A fixture's lines with its recorded project directory replaced by `dir`.
fn lines(name: &str, dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(fixture(&format!("agents/{name}"))).unwrap();
    let dir = dir.to_string_lossy();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.replace("/work/proj", &dir)
                .replace("/tmp/cx/proj", &dir)
                .replace("/home/dev/proj", &dir)
        })
        .collect()
}

/// Every line of `name` as its own hook call with `args`; each must keep the hook contract.
/// Returns each call's stdout.
fn feed(w: &World, name: &str, args: &[&str]) -> Vec<String> {
    lines(name, &w.project())
        .iter()
        .map(|l| {
            let out = w.hook(args, l.as_bytes());
            assert_hook_contract(&out, l);
            String::from_utf8(out.stdout).unwrap()
        })
        .collect()
}

/// A fixture, the session it records, its agent, its prompts and its edits.
type Expected = (
    &'static str,
    &'static str,
    &'static str,
    Vec<&'static str>,
    Vec<Edit>,
);

/// The sessions recorded from the real Gemini and Copilot CLIs (tools/record/record_agent.py).
const GEMINI: &str = "eba14ebf-00c9-46b4-ac3e-328a05af7181";
const COPILOT: &str = "62110bbd-0eb0-43ff-9e04-a7b76d88ee8f";

/// What each agent's fixture must store.
fn expected() -> Vec<Expected> {
    vec![
        (
            "codex-0.171.0.jsonl",
            "01a24a9d-3781-7ff2-a6de-ab3b7cfea5b9",
            "codex",
            vec!["add notes"],
            // One apply_patch call, two files: a new one and a changed one.
            vec![e("notes.md", 2, 0), e("a.txt", 1, 1)],
        ),
        (
            "gemini-0.61.0.jsonl",
            GEMINI,
            "gemini",
            vec!["rename the parser module"],
            // A new file (a relative path), its overwrite, a failed replace (no edit), a
            // replace of two occurrences; the read_file is no edit either.
            vec![
                e("src/parser.rs", 2, 0),
                e("src/parser.rs", 2, 1),
                e("src/parser.rs", 2, 2),
            ],
        ),
        (
            "cursor-docs.jsonl",
            "cur-1",
            "cursor",
            vec!["speed up the tokenizer"],
            vec![e("src/tokenizer.rs", 3, 3)],
        ),
        (
            "copilot-1.0.102.jsonl",
            COPILOT,
            "copilot",
            vec!["fix the login bug"],
            // A create, an edit, and an edit that failed (no postToolUse).
            vec![e("src/login.rs", 2, 0), e("src/login.rs", 2, 1)],
        ),
        (
            "copilot-docs-pascal.jsonl",
            "cop-2",
            "copilot",
            vec!["tidy the config loader"],
            vec![e("src/config.rs", 1, 1)],
        ),
    ]
}

#[test]
fn each_agents_session_is_recorded_with_its_agent() {
    for (file, session, agent, prompts, edits) in expected() {
        let w = World::new();
        feed(&w, file, &["hook", "--agent", agent]);
        let (got_agent, got_prompts, got_edits) = recorded(&w, session);
        assert_eq!(got_agent, agent, "{file}");
        assert_eq!(got_prompts, prompts, "{file}");
        assert_eq!(got_edits, edits, "{file}");
        assert_eq!(w.count("SELECT count(*) FROM rejected_events"), 0, "{file}");
    }
}

#[test]
fn each_agent_is_told_apart_by_shape_without_the_flag() {
    for (file, session, agent, prompts, edits) in expected() {
        // Copilot's PascalCase payloads are Claude Code's in shape: only the flag tells.
        if file == "copilot-docs-pascal.jsonl" {
            continue;
        }
        let w = World::new();
        feed(&w, file, &[]);
        let (got_agent, got_prompts, got_edits) = recorded(&w, session);
        assert_eq!(got_agent, agent, "{file}");
        assert_eq!(got_prompts, prompts, "{file}");
        assert_eq!(got_edits, edits, "{file}");
    }
}

#[test]
fn a_session_ends_as_each_agent_can_end_it() {
    let w = World::new();
    for (file, _, agent, _, _) in expected() {
        feed(&w, file, &["hook", "--agent", agent]);
    }
    // Codex and Cursor end turns (Stop, stop), Gemini and Copilot their sessions.
    let ended = w.query(
        "SELECT session_id, last_event FROM session_summaries WHERE ended_at IS NOT NULL
         ORDER BY session_id",
    );
    assert_eq!(
        ended,
        rows![
            ["01a24a9d-3781-7ff2-a6de-ab3b7cfea5b9", "Stop"],
            [COPILOT, "SessionEnd"],
            ["cop-2", "SessionEnd"],
            ["cur-1", "Stop"],
            [GEMINI, "SessionEnd"],
        ]
    );
}

/// The Copilot hook each payload of copilot-1.0.102.jsonl came from, in order: the recorder
/// (tools/record/record_agent.py) wired every event and logged the payloads, which carry no
/// event name. The turn ends with `agentStop` (`stopReason`), the session with `sessionEnd`.
const COPILOT_EVENTS: [&str; 9] = [
    "sessionStart",
    "userPromptSubmitted",
    "preToolUse",
    "postToolUse",
    "preToolUse",
    "postToolUse",
    "preToolUse",
    "agentStop",
    "sessionEnd",
];

#[test]
fn a_copilot_turn_ends_as_install_wires_it_and_its_summary_is_recomputed() {
    let w = World::new();
    let project = w.project().to_string_lossy().into_owned();
    succeeded(&mut w.cmd(&["install", "--agent", "copilot", "--project", &project]));
    let file = w.project().join(".github/hooks/flowhook.json");
    let wired: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    // What Copilot runs for `event`, if anything: the `bash` line, through a shell.
    let run = |event: &str, payload: &str| -> Option<String> {
        let line = wired["hooks"].get(event)?[0]["bash"].as_str()?;
        let hook = w.cmd(&[]);
        let mut sh = std::process::Command::new("sh");
        sh.arg("-c").arg(line).env_clear();
        for (k, v) in hook.get_envs() {
            sh.env(k, v.unwrap());
        }
        sh.current_dir(hook.get_current_dir().unwrap());
        let out = run_with_stdin(sh, payload.as_bytes());
        assert_hook_contract(&out, payload);
        Some(String::from_utf8(out.stdout).unwrap())
    };
    let payloads = lines("copilot-1.0.102.jsonl", &w.project());
    assert_eq!(payloads.len(), COPILOT_EVENTS.len());
    let (turn, end) = payloads.split_at(8);
    for (event, payload) in COPILOT_EVENTS.iter().zip(turn) {
        let answer = run(event, payload);
        if *event == "agentStop" {
            assert!(payload.contains("\"stopReason\""), "{payload}");
            // Copilot reads `decision: block` there to keep the agent going: nothing is said.
            assert_eq!(answer.as_deref(), Some(""), "agentStop is not wired");
        }
    }
    // The turn ended: the session's summary is recomputed from its rows, as at Claude
    // Code's Stop, though the session goes on.
    let summary = "SELECT last_event, end_reason IS NULL, prompts, edits, lines_added,
             summary IS NOT NULL, summarised_rows, ended_at IS NOT NULL
         FROM session_summaries";
    assert_eq!(w.query(summary), rows![["Stop", 1, 1, 2, 4, 1, 3, 1]]);
    assert_eq!(run("sessionEnd", &end[0]).as_deref(), Some(""));
    assert_eq!(w.query(summary), rows![["SessionEnd", 0, 1, 2, 4, 1, 3, 1]]);
}

/// A prompt of `agent` in its own words, in the world's project.
fn prompt_of(agent: &str, w: &World, session: &str, text: &str) -> Value {
    let dir = w.project().to_string_lossy().into_owned();
    match agent {
        "codex" => json!({"session_id": session, "turn_id": "t1", "transcript_path": null,
            "cwd": dir, "hook_event_name": "UserPromptSubmit", "model": "gpt-5.5",
            "permission_mode": "default", "prompt": text}),
        "gemini" => json!({"session_id": session, "transcript_path": "/t", "cwd": dir,
            "hook_event_name": "BeforeAgent", "timestamp": "2026-12-01T10:00:00Z", "prompt": text}),
        "cursor" => json!({"conversation_id": session, "generation_id": "g1",
            "workspace_roots": [dir], "hook_event_name": "beforeSubmitPrompt", "prompt": text}),
        "copilot" => json!({"sessionId": session, "timestamp": 1, "cwd": dir, "prompt": text}),
        _ => json!({"session_id": session, "cwd": dir, "hook_event_name": "UserPromptSubmit",
            "prompt": text}),
    }
}

#[test]
fn claude_codes_work_is_recalled_in_each_agents_own_answer() {
    let w = World::new();
    let file = w.project().join("src/tokenizer.rs");
    claude_session(&w, "claude-1", "make the tokenizer handle unicode", &file);
    for agent in ["codex", "gemini", "cursor", "copilot"] {
        let session = format!("{agent}-recall");
        let p = prompt_of(agent, &w, &session, "tokenizer.rs breaks on unicode again");
        let out = w.hook(&["hook", "--agent", agent], p.to_string().as_bytes());
        assert_hook_contract(&out, agent);
        let stdout = String::from_utf8(out.stdout).unwrap();
        match agent {
            // Codex's output schema has additionalProperties: false at both levels: exactly
            // these keys.
            "codex" | "gemini" => {
                let v: Value = serde_json::from_str(&stdout)
                    .unwrap_or_else(|e| panic!("{agent}: {e}: {stdout:?}"));
                let event = if agent == "codex" {
                    "UserPromptSubmit"
                } else {
                    "BeforeAgent"
                };
                let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
                assert_eq!(keys, ["hookSpecificOutput"], "{agent}: {stdout}");
                let inner = v["hookSpecificOutput"].as_object().unwrap();
                let keys: Vec<&String> = inner.keys().collect();
                assert_eq!(keys, ["hookEventName", "additionalContext"], "{agent}");
                assert_eq!(inner["hookEventName"], event, "{agent}");
                let context = inner["additionalContext"].as_str().unwrap();
                assert!(
                    context.contains("make the tokenizer handle unicode"),
                    "{context}"
                );
                assert!(context.contains("src/tokenizer.rs"), "{context}");
            }
            // Copilot's userPromptSubmitted reads exactly a top-level additionalContext
            // (copilot 1.0.102, tests/agents_real.rs).
            "copilot" => {
                let v: Value = serde_json::from_str(&stdout).unwrap();
                let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
                assert_eq!(keys, ["additionalContext"], "{stdout}");
                let context = v["additionalContext"].as_str().unwrap();
                assert!(context.contains("src/tokenizer.rs"), "{context}");
            }
            // Cursor's beforeSubmitPrompt reads no context.
            _ => assert_eq!(stdout, "", "{agent}"),
        }
        assert_eq!(recorded(&w, &session).0, agent);
    }
}

#[test]
fn each_agents_work_is_recalled_in_claude_code_and_says_whose_it_was() {
    for (file, _, agent, prompts, edits) in expected() {
        let w = World::new();
        feed(&w, file, &["hook", "--agent", agent]);
        // A Claude Code prompt naming the file the agent edited.
        let edited = &edits[0].0;
        let text = format!("{} — look at {edited} again", prompts[0]);
        let context = given_to_claude(&w, "claude-2", &text);
        assert!(context.contains(prompts[0]), "{file}: {context}");
        assert!(context.contains(edited.as_str()), "{file}: {context}");
        assert!(
            context.contains(&format!("{agent} session")),
            "{file}: the agent is not said: {context}"
        );
    }
}

#[test]
fn sessions_and_show_say_which_agent() {
    let w = World::new();
    feed(&w, "gemini-0.61.0.jsonl", &["hook", "--agent", "gemini"]);
    claude_session(&w, "claude-1", "something else", &w.project().join("x.rs"));
    let out = succeeded(&mut w.cmd(&["sessions", "--json"]));
    let agents: Vec<(String, Value)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| {
            (
                v["session_id"].as_str().unwrap().to_owned(),
                v["agent"].clone(),
            )
        })
        .collect();
    assert!(
        agents.contains(&(GEMINI.into(), json!("gemini"))),
        "{agents:?}"
    );
    assert!(
        agents.contains(&("claude-1".into(), json!("claude-code"))),
        "{agents:?}"
    );
    let table = String::from_utf8(succeeded(&mut w.cmd(&["sessions"])).stdout).unwrap();
    assert!(
        table.contains("AGENT") && table.contains("gemini"),
        "{table}"
    );
    let show = String::from_utf8(succeeded(&mut w.cmd(&["show", GEMINI])).stdout).unwrap();
    assert!(show.contains("agent gemini"), "{show}");
}

#[test]
fn a_codex_session_start_without_its_mark_is_claimed_by_the_codex_events_after_it() {
    // Codex's SessionStart carries no turn_id: without --agent it reads as Claude Code's,
    // and the session's later events, which do, say it is Codex's.
    let w = World::new();
    feed(&w, "codex-0.171.0.jsonl", &[]);
    assert_eq!(
        recorded(&w, "01a24a9d-3781-7ff2-a6de-ab3b7cfea5b9").0,
        "codex"
    );
}

#[test]
fn codex_transcripts_are_not_read_as_claude_codes() {
    let w = World::new();
    let rollout = w.path().join("rollout.jsonl");
    // A Codex rollout line that would count as usage if read as Claude Code's transcript.
    std::fs::write(
        &rollout,
        r#"{"type":"assistant","message":{"model":"x","usage":{"input_tokens":999,"output_tokens":999}}}"#,
    )
    .unwrap();
    for l in lines("codex-0.171.0.jsonl", &w.project()) {
        let mut v: Value = serde_json::from_str(&l).unwrap();
        v["transcript_path"] = rollout.to_string_lossy().as_ref().into();
        let out = w.hook(&["hook", "--agent", "codex"], v.to_string().as_bytes());
        assert_hook_contract(&out, &l);
    }
    assert_eq!(
        w.query("SELECT coalesce(transcript_path, 'none') FROM session_summaries"),
        rows![["none"]]
    );
}

/// Hostile and odd inputs per agent: each keeps the hook contract, hurts nothing, and a
/// foreign tool named like Claude Code's is not read as Claude Code's.
#[test]
fn hostile_payloads_of_each_agent_never_hurt_it() {
    let w = World::new();
    let dir = w.project().to_string_lossy().into_owned();
    let cases: Vec<(&str, Value)> = vec![
        (
            "codex",
            json!({"session_id": "h1", "turn_id": "t", "cwd": dir, "hook_event_name": "PostToolUse",
            "tool_name": "apply_patch", "tool_input": {"command": 42}, "tool_use_id": "c1"}),
        ),
        (
            "codex",
            json!({"session_id": "h1", "turn_id": "t", "cwd": dir, "hook_event_name": "PostToolUse",
            "tool_name": "apply_patch", "tool_input": "*** Begin Patch\n*** End Patch", "tool_use_id": "c2"}),
        ),
        (
            "codex",
            json!({"session_id": "h1", "turn_id": "t", "cwd": dir, "hook_event_name": "PostToolUse",
            "tool_name": "apply_patch", "tool_input": {"command": "*** Update File: ../../etc/passwd\n+root::0:0\n"},
            "tool_use_id": "c3"}),
        ),
        (
            "gemini",
            json!({"session_id": "h2", "cwd": dir, "hook_event_name": "AfterTool",
            "tool_name": "Write", "tool_input": {"file_path": "/etc/x", "content": "x"}}),
        ),
        (
            "gemini",
            json!({"session_id": "h2", "cwd": dir, "hook_event_name": "BeforeAgent", "prompt": 7}),
        ),
        // A relative path out of the project, and a failed tool claiming a diff.
        (
            "gemini",
            json!({"session_id": "h5", "cwd": dir, "hook_event_name": "AfterTool",
            "tool_name": "write_file", "tool_input": {"file_path": "../../x", "content": "x"},
            "tool_response": {"returnDisplay": {"fileDiff": 5, "isNewFile": "yes"}}}),
        ),
        (
            "gemini",
            json!({"session_id": "h5", "cwd": dir, "hook_event_name": "AfterTool",
            "tool_name": "replace", "tool_input": {"file_path": "a", "old_string": "a", "new_string": "b"},
            "tool_response": {"error": {"message": "no"},
                "returnDisplay": {"fileDiff": "@@ -1 +1 @@\n-a\n+b\n"}}}),
        ),
        (
            "cursor",
            json!({"conversation_id": ["x"], "hook_event_name": "afterFileEdit", "edits": "no"}),
        ),
        (
            "cursor",
            json!({"conversation_id": "h3", "workspace_roots": [], "hook_event_name": "afterFileEdit",
            "file_path": dir.clone() + "/a", "edits": [{"old_string": null, "new_string": {"x": 1}}]}),
        ),
        (
            "cursor",
            json!({"conversation_id": "h3", "hook_event_name": "beforeSubmitPrompt"}),
        ),
        (
            "copilot",
            json!({"sessionId": "h4", "toolName": "edit", "toolArgs": "{not json", "toolResult": {}}),
        ),
        (
            "copilot",
            json!({"sessionId": "h4", "toolName": "create", "toolArgs": [1, 2], "toolResult": {}}),
        ),
        ("copilot", json!({"sessionId": 5, "prompt": "x"})),
        ("copilot", json!({})),
    ];
    for (agent, v) in &cases {
        for args in [vec!["hook", "--agent", agent], vec![]] {
            let input = v.to_string();
            let out = w.hook(&args, input.as_bytes());
            assert_hook_contract(&out, &input);
            assert_eq!(out.stdout, b"", "{agent} {input}");
        }
    }
    // Not a byte outside the project was written, and no foreign Write was read as one.
    assert_eq!(
        w.count(
            "SELECT count(*) FROM edit_history
             WHERE file = '/etc/x' OR (tool = 'Write' AND session_id <> 'h5')"
        ),
        0
    );
    // The relative path is the project's only when it stays inside it; the failed tool is
    // no edit.
    assert_eq!(
        w.query(
            "SELECT coalesce(rel_path, 'none'), tool FROM edit_history WHERE session_id = 'h5'"
        ),
        rows![["none", "Write"]]
    );
    // Non-JSON and truncated input with the flag: the contract holds too.
    for agent in ["codex", "gemini", "cursor", "copilot"] {
        for input in [
            &b"not json"[..],
            b"{\"sessionId\": \"x\", \"prompt\": ",
            b"[1,2]",
            b"",
        ] {
            let out = w.hook(&["hook", "--agent", agent], input);
            assert_hook_contract(&out, &String::from_utf8_lossy(input));
            assert_eq!(out.stdout, b"");
        }
    }
}

#[test]
fn an_agent_word_that_is_no_agent_stays_claude_flows_agent_id() {
    let w = World::new();
    let out = w.hook(
        &["hook", "--agent", "coder-7"],
        &prompt_with_id("s1", "p1", w.project(), "do the thing"),
    );
    assert_hook_contract(&out, "prompt");
    assert_eq!(
        w.query("SELECT agent_id, (SELECT agent FROM session_summaries) FROM task_log"),
        rows![["coder-7", "claude-code"]]
    );
}

/// The Codex CLI at the version tools/install-codex.sh pins, in .tools/codex (`CODEX=…`
/// runs another one).
fn codex() -> Option<PathBuf> {
    clients::client(
        "CODEX",
        ".tools/codex/node_modules/.bin/codex",
        "tools/install-codex.sh",
    )
}

/// The scripted Responses-API server (tools/record/fake_responses.py) playing `turns`.
fn responses(dir: &Path, turns: Value) -> clients::ScriptedModel {
    clients::ScriptedModel::start("fake_responses.py", dir, turns)
}

/// `codex exec PROMPT` in the world's project against `model`, with flowhook installed the
/// way a user installs it (`flowhook install --agent codex --user`). Hook trust is bypassed
/// for this one invocation (a person trusts the hook once, with /hooks).
fn run_codex(w: &World, codex: &Path, model: &clients::ScriptedModel, prompt: &str) {
    let home = w.path().join("codex-home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join("config.toml"),
        format!(
            "model = \"gpt-5.5\"\nmodel_provider = \"scripted\"\napproval_policy = \"never\"\n\
             sandbox_mode = \"danger-full-access\"\n[model_providers.scripted]\nname = \"scripted\"\n\
             base_url = \"http://127.0.0.1:{}/v1\"\nwire_api = \"responses\"\n\
             env_key = \"SCRIPTED_KEY\"\n[features]\nhooks = true\n",
            model.server.port
        ),
    )
    .unwrap();
    let mut install = w.cmd(&["install", "--agent", "codex", "--user"]);
    install.env("CODEX_HOME", &home);
    succeeded(&mut install);
    let out = clients::in_world(w, codex)
        .args([
            "exec",
            "--dangerously-bypass-hook-trust",
            "--skip-git-repo-check",
            prompt,
        ])
        .env("CODEX_HOME", &home)
        .env("SCRIPTED_KEY", "offline")
        .output()
        .expect("run codex");
    assert!(
        out.status.success(),
        "codex failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The real Codex CLI, offline: its own hook calls store its session (the prompt, one edit
/// per file of its apply_patch), Claude Code is given that work, and Codex's next request to
/// the model carries what Claude Code did in between, injected by flowhook.
#[test]
fn codex_real_client_end_to_end() {
    let Some(codex) = codex() else { return };
    let w = World::new();
    let patch = "*** Begin Patch\n*** Add File: src/tokenizer.rs\n+pub fn tokens() {}\n+// unicode\n\
                 *** Add File: notes.md\n+done\n*** End Patch\n";
    let model = responses(
        &w.path().join("model-1"),
        json!([{"call": {"name": "apply_patch", "custom": true, "input": patch}}, {"text": "Done."}]),
    );
    run_codex(&w, &codex, &model, "make the tokenizer handle unicode");
    assert!(
        w.project().join("src/tokenizer.rs").is_file(),
        "codex applied no patch"
    );
    let sessions = w.query("SELECT session_id, agent, prompts, edits FROM session_summaries");
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let codex_session = sessions[0][0].clone();
    assert_eq!(sessions[0][1..], ["codex", "1", "2"], "{sessions:?}");
    let (_, prompts, edits) = recorded(&w, &codex_session);
    assert_eq!(prompts, ["make the tokenizer handle unicode"]);
    assert_eq!(edits, [e("src/tokenizer.rs", 2, 0), e("notes.md", 1, 0)]);

    // Claude Code in the same project is given Codex's work, and says whose it was.
    let context = given_to_claude(&w, "claude-1", "tokenizer.rs breaks on unicode");
    assert!(
        context.contains("codex session") && context.contains("src/tokenizer.rs (+2 -0)"),
        "{context}"
    );

    // Claude Code's own work, then Codex again: its request to the model carries it.
    claude_session(
        &w,
        "claude-2",
        "rewrite the lexer tables",
        &w.project().join("src/lexer.rs"),
    );
    let model = responses(&w.path().join("model-2"), json!([{"text": "Looked."}]));
    run_codex(&w, &codex, &model, "lexer.rs tables look wrong");
    let requests = model.requests();
    assert!(
        requests.contains("rewrite the lexer tables") && requests.contains("src/lexer.rs"),
        "the injected context did not reach the model: {requests}"
    );
}

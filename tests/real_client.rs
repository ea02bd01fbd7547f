//! End to end under the real Claude Code client: `flowhook install --project` into a
//! temporary project, then `claude -p` against the scripted model server of tools/record (on
//! loopback, no network) making a Write, an Edit and a subagent. What the client's own hook
//! calls stored is checked row by row; a second session's request to the model must carry the
//! context flowhook injected.
//!
//! The client is the npm package @anthropic-ai/claude-code at the version tools/install-claude.sh
//! pins (2.1.328), in .tools/cc; `CLAUDE=/path/to/claude` runs another one. Without a client
//! the test fails under CI=true and is skipped, loudly, elsewhere.

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn claude() -> Option<PathBuf> {
    clients::client(
        "CLAUDE",
        ".tools/cc/node_modules/.bin/claude",
        "tools/install-claude.sh",
    )
}

/// The scripted model server, playing `rules` (tools/record/fake_anthropic.py's format).
struct Model {
    server: clients::ModelServer,
    bodies: PathBuf,
}

impl Model {
    fn start(dir: &Path, project: &Path, home: &Path, rules: Value) -> Model {
        let script = dir.join("script.json");
        std::fs::write(&script, json!({"rules": rules}).to_string()).unwrap();
        let port_file = dir.join("port");
        let bodies = dir.join("bodies.jsonl");
        let args: [&std::ffi::OsStr; 10] = [
            "--script".as_ref(),
            script.as_ref(),
            "--port-file".as_ref(),
            port_file.as_ref(),
            "--bodies".as_ref(),
            bodies.as_ref(),
            "--cwd".as_ref(),
            project.as_ref(),
            "--home".as_ref(),
            home.as_ref(),
        ];
        let server = clients::ModelServer::start("fake_anthropic.py", args, &port_file);
        Model { server, bodies }
    }

    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.bodies)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// One `claude -p` session in the project, as tools/record/record.sh runs it.
fn session(w: &World, claude: &Path, model: &Model, prompt: &str) {
    let path = format!(
        "{}:{}",
        claude.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(claude)
        .args(["--dangerously-skip-permissions", "-p", prompt])
        .env_clear()
        .env("PATH", path)
        .env("HOME", w.home())
        .env("TMPDIR", w.path().join("tmp"))
        .env("LANG", "C.UTF-8")
        .env("USER", "dev")
        .env("SHELL", "/bin/bash")
        .env("IS_SANDBOX", "1")
        .env(
            "ANTHROPIC_BASE_URL",
            format!("http://127.0.0.1:{}", model.server.port),
        )
        .env("ANTHROPIC_API_KEY", "sk-ant-fake-key-for-offline-recording")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .current_dir(w.project())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "claude -p failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(path: &str, content: &str) -> Value {
    json!({"name": "Write", "input": {"file_path": format!("{{CWD}}/{path}"), "content": content}})
}

#[test]
fn the_real_client_records_a_session_and_the_next_one_is_handed_it() {
    let Some(claude) = claude() else { return };
    let w = World::new();
    std::fs::create_dir_all(w.project().join(".git")).unwrap();
    std::fs::create_dir_all(w.home().join(".claude")).unwrap();
    let project = std::fs::canonicalize(w.project()).unwrap();
    // First-run dialogs answered, as tools/record does.
    std::fs::write(
        w.home().join(".claude.json"),
        json!({"hasCompletedOnboarding": true, "bypassPermissionsModeAccepted": true,
            "projects": {project.to_string_lossy(): {"hasTrustDialogAccepted": true}}})
        .to_string(),
    )
    .unwrap();

    // Installed as a user would, with the client on PATH: the exec form is chosen.
    let mut install = w.cmd_in_project(&["install", "--project", ".", "--mcp"]);
    install.env(
        "PATH",
        format!(
            "{}:{}",
            claude.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    let out = install.output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && report.contains("exec form: Claude Code"),
        "{report}"
    );

    // The project's .mcp.json servers run without asking, as a user who approved them.
    std::fs::write(
        project.join(".claude/settings.local.json"),
        json!({"enableAllProjectMcpServers": true}).to_string(),
    )
    .unwrap();

    let first = "Create notes.md with three lines, change the second line, then delegate sub.txt to a subagent.";
    let model = Model::start(
        w.path(),
        &project,
        &w.home(),
        json!([
            {"key": "we", "match": first, "turns": [
                {"tool_uses": [write("notes.md", "# Notes\nline two: draft\nline three\n")]},
                {"tool_uses": [{"name": "Edit", "input": {"file_path": "{CWD}/notes.md",
                    "old_string": "line two: draft", "new_string": "line two: final"}}]},
                {"tool_uses": [{"name": "Agent", "input": {"description": "Write sub file",
                    "prompt": "SUBAGENT-TASK-7: create sub.txt in the project root.",
                    "subagent_type": "general-purpose", "run_in_background": false}}]},
                {"text": "Done: notes.md has three lines and the subagent wrote sub.txt."}
            ]},
            {"key": "sub", "match": "SUBAGENT-TASK-7", "turns": [
                {"tool_uses": [write("sub.txt", "written by the subagent\n")]},
                {"text": "Created sub.txt."}
            ]},
            {"key": "again", "match": "the second line of notes.md", "turns": [
                {"text": "It reads line two: final."}
            ]},
            {"key": "ask", "match": "Look it up in flowhook's memory", "turns": [
                {"tool_uses": [{"name": "mcp__flowhook__search_memory",
                    "input": {"query": "second line of notes.md"}}]},
                {"text": "Found it."}
            ]}
        ]),
    );
    session(&w, &claude, &model, first);

    let db = project.join(".swarm/flowhook.db");
    assert_eq!(
        query(
            &db,
            "SELECT rel_path, tool, kind, lines_added, lines_removed, agent_id IS NOT NULL
             FROM edit_history ORDER BY id"
        ),
        rows![
            ["notes.md", "Write", "create", 3, 0, 0],
            ["notes.md", "Edit", "edit", 1, 1, 0],
            ["sub.txt", "Write", "create", 1, 0, 1]
        ]
    );
    assert_eq!(
        query(&db, "SELECT source_event, task FROM task_log ORDER BY id"),
        rows![
            ["UserPromptSubmit", first],
            [
                "PreToolUse",
                "Write sub file: SUBAGENT-TASK-7: create sub.txt in the project root."
            ]
        ]
    );
    assert_eq!(
        query(
            &db,
            "SELECT count(*), sum(prompts), sum(edits), sum(tasks), sum(ended_at IS NOT NULL)
             FROM session_summaries"
        ),
        rows![[1, 1, 3, 1, 1]]
    );

    // The next session asks about that work: the model must be handed it.
    let before = model.requests().len();
    session(
        &w,
        &claude,
        &model,
        "What does the second line of notes.md say now?",
    );
    let handed = model.requests()[before..].iter().any(|r| {
        r.to_string()
            .contains("Prior work in this project, from flowhook's memory")
    });
    assert!(
        handed,
        "no request of the second session carried flowhook's context"
    );
    assert_eq!(
        query(&db, "SELECT count(*) FROM session_summaries"),
        rows![[2]]
    );

    // A model turn that calls flowhook's MCP tool through Claude Code itself: the tool's
    // answer, sent back to the model, names the first session's work.
    let sessions = query(
        &db,
        "SELECT session_id FROM session_summaries ORDER BY started_at",
    );
    let first_session = sessions[0][0].clone();
    let before = model.requests().len();
    session(
        &w,
        &claude,
        &model,
        "Look it up in flowhook's memory: what changed in notes.md?",
    );
    let answered = model.requests()[before..].iter().any(|r| {
        let blocks = r["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default());
        blocks
            .filter(|b| b["type"] == "tool_result")
            .map(|b| b["content"].to_string())
            .any(|c| c.contains(&first_session[..8]) && c.contains("notes.md"))
    });
    assert!(
        answered,
        "no tool_result of mcp__flowhook__search_memory naming the first session reached the model"
    );
}

//! `flowhook install`, `uninstall` and `doctor` on real settings files: claude-flow v2's and
//! v3's own `init` output and another tool's hooks (tests/data/settings), in a temporary
//! project and HOME. Then the hook commands installed are run exactly as written.

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// flowhook install, replacing claude-flow's entries, in exec form.
const REPLACING: &[&str] = &[
    "install",
    "--project",
    ".",
    "--replace-claude-flow",
    "--form",
    "exec",
];

fn settings_fixture(name: &str) -> String {
    std::fs::read_to_string(repo().join("tests/data/settings").join(name)).unwrap()
}

fn project_settings(w: &World) -> PathBuf {
    w.project().join(".claude/settings.json")
}

fn put(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn flowhook(w: &World, args: &[&str]) -> Output {
    let out = w.cmd_in_project(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn backups(dir: &Path) -> Vec<PathBuf> {
    let mut b: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".bak"))
        .collect();
    b.sort();
    b
}

/// The handlers of `settings` Claude Code runs for a payload: the event's groups whose matcher
/// takes the tool (letters, digits and `|`: an exact list; else an unanchored regex).
fn handlers_for(settings: &Value, payload: &Value) -> Vec<Value> {
    let event = payload["hook_event_name"].as_str().unwrap();
    let tool = payload["tool_name"].as_str();
    let mut out = Vec::new();
    for g in settings["hooks"][event].as_array().into_iter().flatten() {
        let m = g["matcher"].as_str().unwrap_or("");
        let takes = match tool {
            None => true,
            Some(_) if m.is_empty() || m == "*" => true,
            Some(t) if m.chars().all(|c| c.is_ascii_alphanumeric() || c == '|') => {
                m.split('|').any(|x| x == t)
            }
            Some(t) => regex_lite::Regex::new(m).unwrap().is_match(t),
        };
        if takes {
            out.extend(g["hooks"].as_array().unwrap().iter().cloned());
        }
    }
    out
}

/// Runs one handler as Claude Code does: the exec form without a shell, a shell line
/// through `sh -c`, the payload on stdin, in the project.
fn run_handler(w: &World, h: &Value, payload: &[u8]) -> Output {
    let command = h["command"].as_str().unwrap();
    let mut c = match h.get("args") {
        Some(args) => {
            let mut c = Command::new(command);
            c.args(args.as_array().unwrap().iter().map(|a| a.as_str().unwrap()));
            c
        }
        None => {
            let mut c = Command::new("sh");
            c.args(["-c", command]);
            c
        }
    };
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", w.home())
        .env("TMPDIR", w.path().join("tmp"))
        .env("CLAUDE_PROJECT_DIR", w.project())
        .current_dir(w.project());
    run_with_stdin(c, payload)
}

#[test]
fn installing_over_claude_flow_v3_and_another_tool_keeps_theirs_and_replaces_claude_flows() {
    let w = World::new();
    // claude-flow v3's settings, with another tool's hooks and keys merged in.
    let mut start: Value = serde_json::from_str(&settings_fixture("claude-flow-v3.json")).unwrap();
    let other: Value = serde_json::from_str(&settings_fixture("other-tool.json")).unwrap();
    for (k, v) in other.as_object().unwrap() {
        if k != "hooks" {
            start[k] = v.clone();
        }
    }
    for (event, groups) in other["hooks"].as_object().unwrap() {
        let list = start["hooks"][event]
            .as_array()
            .cloned()
            .unwrap_or_default();
        start["hooks"][event] = Value::Array(
            list.into_iter()
                .chain(groups.as_array().unwrap().iter().cloned())
                .collect(),
        );
    }
    let original = serde_json::to_string_pretty(&start).unwrap();
    let file = project_settings(&w);
    put(&file, &original);

    let out = flowhook(&w, REPLACING);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = stdout(&out);
    // Each of claude-flow v3's 16 handlers is reported.
    assert_eq!(
        report
            .lines()
            .filter(|l| l.starts_with("replaced "))
            .count(),
        16,
        "{report}"
    );
    assert!(report.contains("hook-handler.cjs\" route"), "{report}");

    let after = read(&file);
    let bin = std::fs::canonicalize(BIN).unwrap();
    let ours = |matcher: Option<&str>, timeout: u64| {
        let mut g = json!({"hooks": [{"type": "command", "command": bin, "args": ["hook"], "timeout": timeout}]});
        if let Some(m) = matcher {
            g = json!({"matcher": m, "hooks": g["hooks"].clone()});
        }
        g
    };
    // The other tool's hooks, untouched and first; flowhook's after them; claude-flow's gone.
    assert_eq!(
        after["hooks"]["PreToolUse"],
        json!([other["hooks"]["PreToolUse"][0], ours(Some("Agent|Task"), 5)])
    );
    assert_eq!(
        after["hooks"]["PostToolUse"],
        json!([
            other["hooks"]["PostToolUse"][0],
            ours(Some("Write|Edit|MultiEdit|NotebookEdit|Agent|Task"), 5)
        ])
    );
    assert_eq!(
        after["hooks"]["Notification"], other["hooks"]["Notification"],
        "claude-flow's notify goes, the other tool's stays"
    );
    for event in [
        "SessionStart",
        "UserPromptSubmit",
        "SubagentStart",
        "SubagentStop",
        "Stop",
        "PreCompact",
    ] {
        assert_eq!(after["hooks"][event], json!([ours(None, 5)]), "{event}");
    }
    assert_eq!(after["hooks"]["SessionEnd"], json!([ours(None, 2)]));
    assert!(!after.to_string().contains("hook-handler.cjs"));
    // Every other key as it was, in its order.
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&after), keys(&start));
    for k in keys(&start).iter().filter(|k| *k != "hooks") {
        assert_eq!(after[k], start[k], "{k}");
    }
    // The backup is the file as it was, byte for byte.
    let b = backups(&w.project().join(".claude"));
    assert_eq!(b.len(), 1);
    assert_eq!(std::fs::read_to_string(&b[0]).unwrap(), original);

    // Twice: nothing changes, no new backup.
    let bytes = std::fs::read(&file).unwrap();
    let again = flowhook(&w, REPLACING);
    assert!(
        stdout(&again).contains("already wired"),
        "{}",
        stdout(&again)
    );
    assert_eq!(std::fs::read(&file).unwrap(), bytes);
    assert_eq!(backups(&w.project().join(".claude")).len(), 1);

    // Uninstall takes out flowhook's and nothing else.
    let out = flowhook(&w, &["uninstall", "--project", "."]);
    assert!(out.status.success());
    assert_eq!(
        stdout(&out)
            .lines()
            .filter(|l| l.starts_with("removed "))
            .count(),
        9
    );
    let left = read(&file);
    assert_eq!(left["hooks"], other["hooks"]);
    assert_eq!(left["statusLine"], start["statusLine"]);
}

#[test]
fn the_installed_commands_run_as_written_record_a_session() {
    for form in ["exec", "shell"] {
        let w = World::new();
        put(
            &project_settings(&w),
            &settings_fixture("claude-flow-v2.json"),
        );
        let out = flowhook(&w, &["install", "--replace-claude-flow", "--form", form]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let settings = read(&project_settings(&w));
        // v2's jq pipelines are gone; its PreCompact guidance (plain echo lines) stays.
        assert!(!settings.to_string().contains("claude-flow@alpha"));
        assert_eq!(settings["hooks"]["PreCompact"].as_array().unwrap().len(), 3);

        let text = std::fs::read_to_string(fixture("demo-session.jsonl")).unwrap();
        let mut ran = 0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let payload: Value = serde_json::from_str(line).unwrap();
            for h in handlers_for(&settings, &payload)
                .iter()
                .filter(|h| h["command"].as_str().unwrap().contains("flowhook"))
            {
                let out = run_handler(&w, h, line.as_bytes());
                assert_hook_contract(&out, line);
                ran += 1;
            }
        }
        // Ten events, three of them PreToolUse(Write), which flowhook does not hook.
        assert_eq!(ran, 7, "{form}: one flowhook call per event it hooks");
        // The database the project's own hooks wrote: the demo session's exact rows.
        let db = w.project().join(".swarm/flowhook.db");
        assert_eq!(
            query(
                &db,
                "SELECT file, tool, lines_added, lines_removed FROM edit_history ORDER BY id"
            ),
            query_replayed(&w)
        );
        assert_eq!(
            query(&db, "SELECT count(*) FROM session_summaries"),
            rows![[1]]
        );
        assert_eq!(query(&db, "SELECT count(*) FROM task_log"), rows![[1]]);
    }
}

/// The demo session's edit rows as `flowhook replay` stores them.
fn query_replayed(w: &World) -> Vec<Vec<String>> {
    let db = w.path().join("replayed.db");
    let out = w
        .cmd(&[
            "replay",
            "--quiet",
            "--db",
            &db.to_string_lossy(),
            &fixture("demo-session.jsonl").to_string_lossy(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let rows = query(
        &db,
        "SELECT file, tool, lines_added, lines_removed FROM edit_history ORDER BY id",
    );
    assert_eq!(rows.len(), 3, "the demo session's Write, Edit and Write");
    rows
}

#[test]
fn dry_run_user_mode_and_a_broken_file() {
    let w = World::new();
    let user = w.home().join(".claude/settings.json");
    put(&user, "{\n  \"model\": \"opus\"\n}\n");
    let out = flowhook(&w, &["install", "--user", "--dry-run"]);
    assert!(out.status.success());
    let diff = stdout(&out);
    assert!(
        diff.contains("+  \"hooks\": {") && diff.contains(" \"model\": \"opus\","),
        "{diff}"
    );
    assert_eq!(
        std::fs::read_to_string(&user).unwrap(),
        "{\n  \"model\": \"opus\"\n}\n"
    );
    let out = flowhook(&w, &["install", "--user"]);
    assert!(out.status.success());
    assert_eq!(read(&user)["model"], "opus");
    assert_eq!(read(&user)["hooks"].as_object().unwrap().len(), 9);

    // --local writes settings.local.json; the broken file is left alone with a clear error.
    let local = w.project().join(".claude/settings.local.json");
    put(&local, "{ \"hooks\": ");
    let out = flowhook(&w, &["install", "--local"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not valid JSON"));
    assert_eq!(std::fs::read_to_string(&local).unwrap(), "{ \"hooks\": ");
    // Uninstalling where nothing is installed writes nothing.
    let out = flowhook(&w, &["uninstall", "--project", "."]);
    assert!(out.status.success());
    assert!(!project_settings(&w).exists());
}

/// doctor's report on the project's settings, with `path` as PATH.
fn doctor(w: &World, path: &str) -> (Option<i32>, String, Value) {
    let mut c = w.cmd_in_project(&["doctor"]);
    c.env("PATH", path);
    let out = c.output().unwrap();
    let mut c = w.cmd_in_project(&["doctor", "--json"]);
    c.env("PATH", path);
    let json: Value = serde_json::from_slice(&c.output().unwrap().stdout).unwrap();
    (out.status.code(), stdout(&out), json)
}

#[test]
fn doctor_names_every_broken_setup() {
    let w = World::new();
    // claude-flow v3 as written: timeouts in ms, claude-flow hooks, flowhook not wired.
    put(
        &project_settings(&w),
        &settings_fixture("claude-flow-v3.json"),
    );
    let (code, text, json) = doctor(&w, "/nonexistent");
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("timeout 10000 is in seconds"), "{text}");
    assert!(text.contains("a claude-flow hook"), "{text}");
    assert!(
        text.contains("no flowhook hook for UserPromptSubmit"),
        "{text}"
    );
    assert!(
        json["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["level"] == "error")
    );

    // claude-flow v2 with flowhook dropped into its pipelines, where jq is not installed.
    let v2 = settings_fixture("claude-flow-v2.json").replace("npx claude-flow@alpha", "flowhook");
    put(&project_settings(&w), &v2);
    let (_, text, _) = doctor(&w, "/nonexistent");
    assert!(
        text.contains("a pipeline needing jq and xargs, which is not installed"),
        "{text}"
    );

    // A command that points at nothing, a bare Task matcher, the same hook twice.
    let bin = std::fs::canonicalize(BIN).unwrap();
    let h = |cmd: &str| json!({"type": "command", "command": cmd, "args": ["hook"], "timeout": 5});
    let settings = json!({"hooks": {
        "UserPromptSubmit": [{"hooks": [h("/gone/flowhook")]}],
        "PostToolUse": [{"matcher": "Task.*|Write|Edit|MultiEdit|NotebookEdit|Agent", "hooks": [h(&bin.to_string_lossy())]}],
        "PreToolUse": [{"matcher": "Task", "hooks": [h(&bin.to_string_lossy())]}],
        "SessionEnd": [{"hooks": [h(&bin.to_string_lossy())]}],
    }});
    put(&project_settings(&w), &settings.to_string());
    put(
        &w.home().join(".claude/settings.json"),
        &json!({"hooks": {"SessionEnd": settings["hooks"]["SessionEnd"]}}).to_string(),
    );
    let (code, text, _) = doctor(&w, "/nonexistent");
    assert_eq!(code, Some(1));
    assert!(text.contains("/gone/flowhook does not exist"), "{text}");
    assert!(text.contains("also catches TaskCreate"), "{text}");
    assert!(text.contains("has Task but not Agent"), "{text}");
    assert!(text.contains("the same flowhook hook is also at"), "{text}");

    // The exec form on a client too old for it: a `claude` that says it is 2.1.100.
    let bin_dir = w.path().join("bin");
    put(
        &bin_dir.join("claude"),
        "#!/bin/sh\necho '2.1.100 (Claude Code)'\n",
    );
    let mut p = std::fs::metadata(bin_dir.join("claude"))
        .unwrap()
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut p, 0o755);
    std::fs::set_permissions(bin_dir.join("claude"), p).unwrap();
    let (_, text, _) = doctor(&w, &bin_dir.to_string_lossy());
    assert!(
        text.contains("exec form (args) on Claude Code 2.1.100"),
        "{text}"
    );

    // Installed as `flowhook install` does it: nothing is wrong.
    std::fs::remove_file(project_settings(&w)).unwrap();
    std::fs::remove_file(w.home().join(".claude/settings.json")).unwrap();
    assert!(
        flowhook(&w, &["install", "--form", "exec"])
            .status
            .success()
    );
    let (code, text, _) = doctor(&w, "/nonexistent");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("no problem found"), "{text}");
}

#[test]
fn the_plugins_hooks_are_what_install_writes() {
    let w = World::new();
    assert!(
        flowhook(&w, &["install", "--form", "exec"])
            .status
            .success()
    );
    let mut installed = read(&project_settings(&w))["hooks"].clone();
    // The plugin runs the flowhook on PATH; install writes this binary's absolute path.
    let bin = std::fs::canonicalize(BIN).unwrap();
    let text = installed
        .to_string()
        .replace(&serde_json::to_string(&bin).unwrap(), "\"flowhook\"");
    installed = serde_json::from_str(&text).unwrap();
    let plugin = read(&repo().join("hooks/hooks.json"));
    assert_eq!(plugin["hooks"], installed);
    let manifest = read(&repo().join(".claude-plugin/plugin.json"));
    assert_eq!(manifest["name"], "flowhook");
    assert_eq!(
        manifest["version"].as_str(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    let market = read(&repo().join(".claude-plugin/marketplace.json"));
    assert_eq!(market["plugins"][0]["name"], "flowhook");
}

#[test]
fn the_mcp_server_is_registered_beside_others_and_taken_out_again() {
    let w = World::new();
    let mcp = w.project().join(".mcp.json");
    put(
        &mcp,
        &json!({"mcpServers": {"other": {"command": "other-server"}}}).to_string(),
    );
    let out = flowhook(&w, &["install", "--project", ".", "--mcp"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = std::fs::canonicalize(BIN).unwrap();
    assert_eq!(
        read(&mcp),
        json!({"mcpServers": {"other": {"command": "other-server"},
            "flowhook": {"type": "stdio", "command": bin, "args": ["mcp"]}}})
    );
    let again = flowhook(&w, &["install", "--project", ".", "--mcp"]);
    assert!(stdout(&again).contains("unchanged"), "{}", stdout(&again));
    assert!(
        flowhook(&w, &["uninstall", "--project", ".", "--mcp"])
            .status
            .success()
    );
    assert_eq!(
        read(&mcp),
        json!({"mcpServers": {"other": {"command": "other-server"}}})
    );
    assert!(read(&project_settings(&w)).get("hooks").is_none());
}

#[test]
fn from_a_subdirectory_the_projects_own_settings_are_changed() {
    let w = World::new();
    std::fs::create_dir_all(w.project().join(".git")).unwrap();
    let sub = w.project().join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    let mut c = w.cmd_in_project(&["install", "--form", "shell"]);
    c.current_dir(&sub);
    succeeded(&mut c);
    assert!(project_settings(&w).exists());
    assert!(!sub.join(".claude").exists());
}

#[test]
fn replacing_claude_flow_beside_an_existing_install_says_the_file_changed() {
    let w = World::new();
    assert!(flowhook(&w, REPLACING).status.success());
    // claude-flow's init runs again afterwards and adds its entries back.
    let mut settings = read(&project_settings(&w));
    let v3: Value = serde_json::from_str(&settings_fixture("claude-flow-v3.json")).unwrap();
    settings["hooks"]["Notification"] = v3["hooks"]["Notification"].clone();
    put(&project_settings(&w), &settings.to_string());
    let out = flowhook(&w, REPLACING);
    let report = stdout(&out);
    assert!(report.contains("replaced  Notification"), "{report}");
    assert!(
        report.contains("wired: ") && !report.contains("already wired"),
        "{report}"
    );
    assert!(
        !read(&project_settings(&w))
            .to_string()
            .contains("hook-handler.cjs")
    );
}

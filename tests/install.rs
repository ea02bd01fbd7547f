//! `flowhook install`, `uninstall` and `doctor` on real settings files: claude-flow v2's and
//! v3's own `init` output and another tool's hooks (tests/data/settings), in a temporary
//! project and HOME. Then the hook commands installed are run exactly as written.
//!
//! Then the files as an attacker and a dotfiles manager set them up: symlinked user files
//! (written through, the link kept), project files that are links out of the project
//! (refused, nothing read or written), links planted at the temporary and backup names,
//! read-only files, another writer racing installs, and what is not flowhook's (empty lists,
//! unknown keys, layout) kept byte for byte.

mod common;

use common::*;
use serde_json::{Value, json};
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

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
        json!([
            other["hooks"]["PreToolUse"][0],
            ours(Some("Agent|Task|Write|Edit|MultiEdit|NotebookEdit"), 5)
        ])
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
        // Ten events, three of them PreToolUse(Write), which flowhook hooks with team memory
        // only (the warning before an edit).
        let hooked = if cfg!(feature = "team") { 10 } else { 7 };
        assert_eq!(ran, hooked, "{form}: one flowhook call per event it hooks");
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

const SECRET: &str = "sk-ant-oat01-SECRETSECRETSECRET";

/// `~/.claude.json` as Claude Code keeps it: an account and an MCP server's token.
fn home_secrets() -> String {
    serde_json::to_string_pretty(&json!({
        "oauthAccount": {"accountUuid": "0f0f", "emailAddress": "dev@example.com"},
        "mcpServers": {"github": {"command": "gh-mcp", "env": {"TOKEN": SECRET}}},
        "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "echo home"}]}]}
    }))
    .unwrap()
        + "\n"
}

/// Runs the binary in the world's project, killed (and the test failed) after 20 s: a FIFO
/// read without care would block forever.
fn flowhook(w: &World, args: &[&str]) -> Output {
    run_cmd(w.cmd_in_project(args))
}

fn run_cmd(mut c: Command) -> Output {
    let mut child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("{:?} did not end in 20 s", c.get_args().collect::<Vec<_>>());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    out
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every file below `dir` (links not followed), with its bytes.
fn files_below(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        let m = std::fs::symlink_metadata(&p).unwrap();
        if m.is_dir() {
            out.extend(files_below(&p));
        } else if m.is_file() {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

/// The flowhook handlers of a settings file, per event.
fn ours(settings: &Value) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (event, groups) in settings["hooks"].as_object().into_iter().flatten() {
        let n = groups
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["hooks"].as_array().cloned().unwrap_or_default())
            .filter(|h| h.to_string().contains("flowhook"))
            .count();
        if n > 0 {
            out.push((event.clone(), n));
        }
    }
    out
}

fn wired_once(settings: &Value) {
    let o = ours(settings);
    assert_eq!(o.len(), 9, "{settings:#}");
    assert!(o.iter().all(|(_, n)| *n == 1), "{o:?}");
}

#[test]
fn a_users_symlinked_settings_are_written_through_and_stay_links() {
    let original = serde_json::to_string_pretty(&json!({
        "model": "opus", "permissions": {"allow": ["Bash(ls:*)"]},
        "hooks": {"Notification": [{"hooks": [{"type": "command", "command": "notify-send hi"}]}]}
    }))
    .unwrap()
        + "\n";

    // 1. ~/.claude/settings.json -> ../dotfiles/claude/settings.json (relative), then the
    //    same file uninstalled through the link: back to its bytes.
    let w = World::new();
    let real = w.home().join("dotfiles/claude/settings.json");
    put(&real, &original);
    std::fs::create_dir_all(w.home().join(".claude")).unwrap();
    let link = w.home().join(".claude/settings.json");
    symlink("../dotfiles/claude/settings.json", &link).unwrap();
    let out = ok(&flowhook(&w, &["install", "--user", "--form", "exec"]));
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("../dotfiles/claude/settings.json"),
        "the link is kept as it was"
    );
    let after = read(&real);
    wired_once(&after);
    assert_eq!(after["model"], "opus");
    assert_eq!(
        after["hooks"]["Notification"][0]["hooks"][0]["command"],
        "notify-send hi"
    );
    // The backup sits beside the real file, holding its old bytes; no temporary file stays.
    let b = backups(real.parent().unwrap());
    assert_eq!(b.len(), 1, "{out}");
    assert_eq!(std::fs::read_to_string(&b[0]).unwrap(), original);
    assert!(out.contains(&b[0].display().to_string()), "{out}");
    assert_eq!(names_in(&w.home().join(".claude")), ["settings.json"]);
    ok(&flowhook(&w, &["uninstall", "--user"]));
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(std::fs::read_to_string(&real).unwrap(), original);

    // 2. ~/.claude itself a link (absolute) to a dotfiles directory.
    let w = World::new();
    let dir = w.home().join("dots/claude-config");
    put(&dir.join("settings.json"), &original);
    symlink(&dir, w.home().join(".claude")).unwrap();
    ok(&flowhook(&w, &["install", "--user"]));
    assert!(
        std::fs::symlink_metadata(w.home().join(".claude"))
            .unwrap()
            .is_symlink()
    );
    wired_once(&read(&dir.join("settings.json")));

    // 3. A chain of two links, the last dangling: the file is made where the chain ends.
    let w = World::new();
    std::fs::create_dir_all(w.home().join(".claude")).unwrap();
    std::fs::create_dir_all(w.home().join("a")).unwrap();
    std::fs::create_dir_all(w.home().join("b")).unwrap();
    symlink(
        w.home().join("a/hop.json"),
        w.home().join(".claude/settings.json"),
    )
    .unwrap();
    symlink("../b/settings.json", w.home().join("a/hop.json")).unwrap();
    ok(&flowhook(&w, &["install", "--user"]));
    assert!(
        std::fs::symlink_metadata(w.home().join("a/hop.json"))
            .unwrap()
            .is_symlink()
    );
    wired_once(&read(&w.home().join("b/settings.json")));
    assert_eq!(names_in(&w.home().join("b")), ["settings.json"]);

    // 4. ~/.claude.json (user MCP servers) linked into dotfiles: its other keys are kept.
    let w = World::new();
    let real = w.home().join("dotfiles/claude.json");
    put(&real, &home_secrets());
    symlink(&real, w.home().join(".claude.json")).unwrap();
    ok(&flowhook(&w, &["install", "--user", "--mcp"]));
    assert!(
        std::fs::symlink_metadata(w.home().join(".claude.json"))
            .unwrap()
            .is_symlink()
    );
    let cfg = read(&real);
    assert_eq!(cfg["mcpServers"]["github"]["env"]["TOKEN"], SECRET);
    assert_eq!(cfg["mcpServers"]["flowhook"]["args"], json!(["mcp"]));
    ok(&flowhook(&w, &["uninstall", "--user", "--mcp"]));
    assert_eq!(std::fs::read_to_string(&real).unwrap(), home_secrets());
}

/// A project whose settings are links (or hard links, FIFOs) out of it: every command is
/// refused, the target is neither read into the project nor written, no backup is made.
#[test]
fn a_project_settings_link_out_of_the_project_is_refused_and_its_target_untouched() {
    struct Case {
        name: &'static str,
        args: &'static [&'static str],
        /// Sets the project up; returns the file(s) outside it that must stay as they are.
        plant: fn(&World) -> Vec<PathBuf>,
        says: &'static str,
    }
    let cases = [
        Case {
            name: "settings.json -> ../../home/.claude.json (relative, into HOME)",
            args: &["--project", "."],
            plant: |w| {
                let t = w.home().join(".claude.json");
                put(&t, &home_secrets());
                symlink(
                    "../../home/.claude.json",
                    w.project().join(".claude/settings.json"),
                )
                .unwrap();
                vec![t]
            },
            says: "is a symbolic link",
        },
        Case {
            name: ".claude -> ../home/.claude (the directory leaves the project)",
            args: &[],
            plant: |w| {
                let t = w.home().join(".claude/settings.json");
                put(&t, &home_secrets());
                std::fs::remove_dir(w.project().join(".claude")).unwrap();
                symlink("../home/.claude", w.project().join(".claude")).unwrap();
                vec![t]
            },
            says: "is a symbolic link",
        },
        Case {
            name: "settings.local.json -> an absolute path in HOME",
            args: &["--local"],
            plant: |w| {
                let t = w.home().join(".config/gh/hosts.yml");
                put(&t, &format!("github.com:\n  oauth_token: {SECRET}\n"));
                symlink(&t, w.project().join(".claude/settings.local.json")).unwrap();
                vec![t]
            },
            says: "is a symbolic link",
        },
        Case {
            name: ".mcp.json -> ~/.claude.json",
            args: &["--mcp"],
            plant: |w| {
                let t = w.home().join(".claude.json");
                put(&t, &home_secrets());
                symlink(&t, w.project().join(".mcp.json")).unwrap();
                vec![t]
            },
            says: "is a symbolic link",
        },
        Case {
            name: "a dangling link: the file it names must not be created",
            args: &[],
            plant: |w| {
                symlink(
                    w.home().join(".bashrc.d/flowhook.json"),
                    w.project().join(".claude/settings.json"),
                )
                .unwrap();
                std::fs::create_dir_all(w.home().join(".bashrc.d")).unwrap();
                vec![]
            },
            says: "is a symbolic link",
        },
        Case {
            name: "a link whose text carries terminal escapes (clear screen, OSC 52)",
            args: &[],
            plant: |w| {
                symlink(
                    "../../home/\x1b[2J\x1b]52;c;ZWNobyBodA==\x07",
                    w.project().join(".claude/settings.json"),
                )
                .unwrap();
                vec![]
            },
            says: "is a symbolic link",
        },
        Case {
            name: "a link to a file inside the project is refused as well",
            args: &[],
            plant: |w| {
                let t = w.project().join("config/claude.json");
                put(&t, &home_secrets());
                symlink(
                    "../config/claude.json",
                    w.project().join(".claude/settings.json"),
                )
                .unwrap();
                vec![t]
            },
            says: "is a symbolic link",
        },
        Case {
            name: "a hard link to ~/.claude.json",
            args: &[],
            plant: |w| {
                let t = w.home().join(".claude.json");
                put(&t, &home_secrets());
                std::fs::hard_link(&t, w.project().join(".claude/settings.json")).unwrap();
                vec![t]
            },
            says: "has other hard links",
        },
        Case {
            name: "a FIFO in place of the settings",
            args: &[],
            plant: |w| {
                let p = w.project().join(".claude/settings.json");
                let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
                // SAFETY: a valid NUL-terminated path.
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
                vec![]
            },
            says: "is not a regular file",
        },
    ];
    for case in &cases {
        // doctor reads the same files: it says what is wrong, without reading through.
        let w = World::new();
        (case.plant)(&w);
        let out = flowhook(&w, &["doctor"]);
        let all = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {all}", case.name);
        assert!(
            !all.contains(SECRET) && !all.contains('\x1b'),
            "{}: {all}",
            case.name
        );
        if !case.args.contains(&"--mcp") {
            assert!(all.contains(case.says), "{}: {all}", case.name);
        }
        for verb in [
            &["install"][..],
            &["install", "--dry-run"],
            &["uninstall"],
            &["install", "--replace-claude-flow", "--form", "shell"],
        ] {
            let w = World::new();
            let outside = (case.plant)(&w);
            let before: Vec<_> = outside.iter().map(|p| std::fs::read(p).unwrap()).collect();
            let home_before = files_below(&w.home());
            let mut args = verb.to_vec();
            args.extend_from_slice(case.args);
            let out = flowhook(&w, &args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            let what = format!("{} / {args:?}: {stderr} {stdout}", case.name);
            assert_eq!(out.status.code(), Some(2), "{what}");
            assert!(stderr.contains(case.says), "{what}");
            assert!(
                !stderr.contains('\x1b') && !stderr.contains('\x07'),
                "{what}"
            );
            assert!(
                !stdout.contains(SECRET) && !stderr.contains(SECRET),
                "{what}"
            );
            for (p, b) in outside.iter().zip(&before) {
                assert_eq!(&std::fs::read(p).unwrap(), b, "{what}");
            }
            assert_eq!(files_below(&w.home()), home_before, "{what}");
            // Nothing of the target came into the project, and nothing was added there.
            let inode = |p: &Path| {
                let m = std::fs::metadata(p).unwrap();
                (m.dev(), m.ino())
            };
            for (p, bytes) in files_below(&w.project()) {
                // A target inside the project, or the hard link itself, holds it already.
                let outside_file = outside.iter().any(|o| inode(o) == inode(&p));
                assert!(
                    outside_file || !String::from_utf8_lossy(&bytes).contains(SECRET),
                    "{} holds the secret: {what}",
                    p.display()
                );
                assert!(!p.to_string_lossy().ends_with(".bak"), "{what}");
                assert!(!p.to_string_lossy().ends_with(".tmp"), "{what}");
            }
            assert!(!w.home().join(".bashrc.d/flowhook.json").exists(), "{what}");
        }
    }
}

/// Links planted where flowhook puts its temporary file and its backups: never written
/// through, never followed; the install still happens, with the backup under a free name.
#[test]
fn links_planted_at_the_temporary_and_backup_names_are_not_written_through() {
    for user in [false, true] {
        let w = World::new();
        let dir = if user {
            w.home().join(".claude")
        } else {
            w.project().join(".claude")
        };
        let settings = dir.join("settings.json");
        let original = "{\n  \"model\": \"opus\"\n}\n";
        put(&settings, original);
        let victim = w.home().join(".bashrc");
        put(&victim, "# my shell\n");
        let mut planted = vec![dir.join(".settings.json.flowhook.tmp")];
        // Backups are named by the second: every name of the next minute, and the
        // numbered ones after a clash.
        let now = chrono::Utc::now();
        for s in 0..60 {
            let stamp = (now + chrono::Duration::seconds(s)).format("%Y%m%dT%H%M%S");
            planted.push(dir.join(format!("settings.json.flowhook-{stamp}.bak")));
            planted.push(dir.join(format!("settings.json.flowhook-{stamp}-2.bak")));
        }
        for (i, p) in planted.iter().enumerate() {
            if i % 2 == 0 {
                symlink(&victim, p).unwrap();
            } else {
                // A dangling one: following it would create a file outside.
                symlink(w.home().join(format!("made-{i}")), p).unwrap();
            }
        }
        let args: &[&str] = if user {
            &["install", "--user"]
        } else {
            &["install"]
        };
        let out = ok(&flowhook(&w, args));
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "# my shell\n");
        assert!(
            names_in(&w.home()).iter().all(|n| !n.starts_with("made-")),
            "{:?}",
            names_in(&w.home())
        );
        for p in &planted {
            assert!(std::fs::symlink_metadata(p).unwrap().is_symlink());
        }
        wired_once(&read(&settings));
        // The one real backup: a regular file with the old bytes, named in the report.
        let real: Vec<_> = backups(&dir)
            .into_iter()
            .filter(|b| std::fs::symlink_metadata(b).unwrap().is_file())
            .collect();
        assert_eq!(real.len(), 1, "{out}");
        assert_eq!(std::fs::read_to_string(&real[0]).unwrap(), original);
        assert!(out.contains(&real[0].display().to_string()), "{out}");
    }
}

#[test]
fn a_read_only_settings_file_is_left_as_it_is() {
    let text = "{\n  \"model\": \"opus\"\n}\n";
    let cases: [(&str, &[&str], u32); 5] = [
        (".claude/settings.json", &["install"], 0o444),
        (
            ".claude/settings.local.json",
            &["install", "--local"],
            0o400,
        ),
        (".mcp.json", &["install", "--mcp"], 0o444),
        (
            "../home/.claude/settings.json",
            &["install", "--user"],
            0o444,
        ),
        ("../home/dots/settings.json", &["install", "--user"], 0o555),
    ];
    for (rel, args, mode) in cases {
        let w = World::new();
        let file = w.project().join(rel);
        put(&file, text);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        if rel.contains("dots") {
            // Read-only behind a dotfiles link: the target's mode is what counts.
            std::fs::create_dir_all(w.home().join(".claude")).unwrap();
            symlink(&file, w.home().join(".claude/settings.json")).unwrap();
        }
        let out = flowhook(&w, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{rel}: {stderr}");
        assert!(
            stderr.contains("is read-only; flowhook install changes nothing"),
            "{rel}: {stderr}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text, "{rel}");
        let m = std::fs::symlink_metadata(&file).unwrap();
        assert_eq!(m.permissions().mode() & 0o7777, mode, "{rel}");
        assert!(backups(file.parent().unwrap()).is_empty(), "{rel}");
        assert_eq!(
            names_in(file.parent().unwrap())
                .iter()
                .filter(|n| n.contains("flowhook"))
                .count(),
            0,
            "{rel}"
        );
    }

    // Wired, then made read-only: install has nothing to change and says so; uninstall
    // would change it, and refuses.
    let w = World::new();
    let file = w.project().join(".claude/settings.json");
    ok(&flowhook(&w, &["install"]));
    let wired = std::fs::read(&file).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).unwrap();
    assert!(ok(&flowhook(&w, &["install"])).contains("already wired"));
    let out = flowhook(&w, &["uninstall"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("is read-only; flowhook uninstall changes nothing")
    );
    assert_eq!(std::fs::read(&file).unwrap(), wired);
}

/// 40 installs at once (each rewriting every entry: the forms alternate) while another
/// program, which takes no lock, adds 76 hooks of its own one after another by replacing the
/// file: none of its additions is lost, and each event has exactly one flowhook entry.
#[test]
fn forty_concurrent_installs_beside_another_writer_lose_nothing() {
    let w = World::new();
    let file = w.project().join(".claude/settings.json");
    put(&file, "{\n  \"model\": \"opus\"\n}\n");
    let writer = {
        let file = file.clone();
        std::thread::spawn(move || {
            for n in 0..76 {
                // As an editor or Claude Code would: read, change, write beside, rename.
                let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
                    .expect("the file is always whole JSON");
                let list = v["hooks"]["Notification"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let mut list = list;
                list.push(
                    json!({"hooks": [{"type": "command", "command": format!("other-tool {n}")}]}),
                );
                v["hooks"]["Notification"] = Value::Array(list);
                let tmp = file.with_file_name(format!("other-writer-{n}.tmp"));
                std::fs::write(&tmp, serde_json::to_string_pretty(&v).unwrap()).unwrap();
                std::fs::rename(&tmp, &file).unwrap();
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let installs: Vec<_> = (0..40)
        .map(|i| {
            let form = if i % 2 == 0 { "exec" } else { "shell" };
            w.cmd_in_project(&["install", "--form", form])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in installs {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    writer.join().unwrap();
    // The other writer may have put back a file without the last install's change (it
    // takes no lock): one more install, then everything must be there.
    ok(&flowhook(&w, &["install", "--form", "exec"]));
    let v = read(&file);
    let theirs: Vec<String> = v["hooks"]["Notification"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["hooks"][0]["command"].as_str().unwrap().to_owned())
        .collect();
    let want: Vec<String> = (0..76).map(|n| format!("other-tool {n}")).collect();
    let lost: Vec<_> = want.iter().filter(|c| !theirs.contains(c)).collect();
    assert!(lost.is_empty(), "lost {} additions: {lost:?}", lost.len());
    assert_eq!(theirs.len(), 76);
    wired_once(&v);
    assert_eq!(v["model"], "opus");
    // No temporary file of flowhook's is left behind.
    assert!(
        names_in(file.parent().unwrap())
            .iter()
            .all(|n| !n.ends_with(".tmp")),
        "{:?}",
        names_in(file.parent().unwrap())
    );
}

/// What is not flowhook's comes back byte for byte after install and uninstall: empty hook
/// lists and groups, unknown keys in their order, the indentation and the final newline.
#[test]
fn install_then_uninstall_gives_back_the_file_byte_for_byte() {
    let four = "{\n    \"$schema\": \"https://json.schemastore.org/claude-code-settings.json\",\n    \"hooks\": {\n        \"Notification\": [],\n        \"PreToolUse\": [\n            {\n                \"matcher\": \"Bash\",\n                \"hooks\": []\n            }\n        ],\n        \"Stop\": [\n            {\n                \"hooks\": [\n                    {\n                        \"type\": \"command\",\n                        \"command\": \"say done ✓\",\n                        \"statusMessage\": \"é\"\n                    }\n                ]\n            }\n        ]\n    },\n    \"zeta\": 0.5,\n    \"alpha\": {\n        \"nested\": []\n    }\n}";
    let tabs = "{\n\t\"model\": \"opus\",\n\t\"hooks\": {\n\t\t\"PostToolUseFailure\": [],\n\t\t\"PermissionRequest\": []\n\t},\n\t\"env\": {}\n}\n";
    let two = "{\n  \"b\": 1,\n  \"a\": 2,\n  \"c\": [\n    3\n  ]\n}\n";
    for (name, text) in [("four spaces", four), ("tabs", tabs), ("two", two)] {
        let w = World::new();
        let file = w.project().join(".claude/settings.json");
        put(&file, text);
        ok(&flowhook(&w, &["install", "--form", "exec"]));
        let on = std::fs::read_to_string(&file).unwrap();
        wired_once(&serde_json::from_str(&on).unwrap());
        let before: Value = serde_json::from_str(text).unwrap();
        let after: Value = serde_json::from_str(&on).unwrap();
        // Other tools' lists, including empty ones, and every other key, as they were.
        for (event, list) in before["hooks"].as_object().into_iter().flatten() {
            let kept: Vec<Value> = after["hooks"][event]
                .as_array()
                .unwrap()
                .iter()
                .filter(|g| !g.to_string().contains("flowhook"))
                .cloned()
                .collect();
            assert_eq!(&Value::Array(kept), list, "{name}: {event}");
        }
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            keys(&after)[..keys(&before).len()],
            keys(&before)[..],
            "{name}"
        );
        // The layout is the file's: same indentation unit, same ending.
        let unit = text.lines().nth(1).unwrap();
        let unit = &unit[..unit.len() - unit.trim_start().len()];
        assert!(on.lines().nth(1).unwrap().starts_with(unit), "{name}: {on}");
        assert_eq!(on.ends_with('\n'), text.ends_with('\n'), "{name}");
        ok(&flowhook(&w, &["uninstall"]));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text, "{name}");
    }

    // .mcp.json: the servers' order is kept when flowhook's goes.
    let w = World::new();
    let mcp = w.project().join(".mcp.json");
    let text = "{\n  \"mcpServers\": {\n    \"a\": {\n      \"command\": \"a\"\n    },\n    \"b\": {\n      \"command\": \"b\"\n    },\n    \"c\": {\n      \"command\": \"c\"\n    }\n  },\n  \"x\": 1,\n  \"y\": 2\n}\n";
    put(&mcp, text);
    ok(&flowhook(&w, &["install", "--mcp"]));
    ok(&flowhook(&w, &["uninstall", "--mcp"]));
    assert_eq!(std::fs::read_to_string(&mcp).unwrap(), text);
    // And from nothing, back to nothing (no file made by uninstall, none left empty).
    let w = World::new();
    let file = w.project().join(".claude/settings.json");
    put(
        &file,
        "{\n  \"model\": \"opus\",\n  \"x\": 1,\n  \"y\": 2\n}\n",
    );
    ok(&flowhook(&w, &["install"]));
    ok(&flowhook(&w, &["uninstall"]));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "{\n  \"model\": \"opus\",\n  \"x\": 1,\n  \"y\": 2\n}\n"
    );
}

/// Each other agent's hook file (issue 25), as a user may already have it: four-space
/// indentation, another tool's hook on an event flowhook wires, and keys flowhook does not know.
fn agent_files() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        (
            "codex",
            ".codex/hooks.json",
            "{\n    \"hooks\": {\n        \"Stop\": [\n            {\n                \"hooks\": [\n                    {\n                        \"type\": \"command\",\n                        \"command\": \"notify-send done\"\n                    }\n                ]\n            }\n        ],\n        \"PreToolUse\": []\n    }\n}\n",
        ),
        (
            "gemini",
            ".gemini/settings.json",
            "{\n    \"theme\": \"GitHub\",\n    \"hooks\": {\n        \"AfterTool\": [\n            {\n                \"matcher\": \"run_shell_command\",\n                \"hooks\": [\n                    {\n                        \"type\": \"command\",\n                        \"command\": \"./audit.sh\"\n                    }\n                ]\n            }\n        ]\n    },\n    \"mcpServers\": {}\n}\n",
        ),
        (
            "cursor",
            ".cursor/hooks.json",
            "{\n    \"version\": 1,\n    \"hooks\": {\n        \"afterFileEdit\": [\n            {\n                \"command\": \"./format.sh\"\n            }\n        ]\n    }\n}\n",
        ),
        (
            "copilot",
            ".github/hooks/flowhook.json",
            "{\n    \"version\": 1,\n    \"hooks\": {\n        \"sessionEnd\": [\n            {\n                \"type\": \"command\",\n                \"bash\": \"./cleanup.sh\",\n                \"timeoutSec\": 10\n            }\n        ]\n    }\n}\n",
        ),
    ]
}

/// The command lines flowhook wired into an agent's file (Copilot's `bash`, others' `command`).
fn agent_lines(v: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (event, list) in v["hooks"].as_object().into_iter().flatten() {
        for entry in list.as_array().into_iter().flatten() {
            let handlers = match entry.get("hooks") {
                Some(h) => h.as_array().unwrap().clone(),
                None => vec![entry.clone()],
            };
            for h in handlers {
                let line = h.get("command").or(h.get("bash")).and_then(Value::as_str);
                if let Some(line) = line.filter(|l| l.contains("flowhook")) {
                    out.push((event.clone(), line.to_owned()));
                }
            }
        }
    }
    out
}

#[test]
fn each_agents_file_is_wired_once_kept_otherwise_and_given_back_byte_for_byte() {
    for (agent, rel, text) in agent_files() {
        let w = World::new();
        let file = w.project().join(rel);
        put(&file, text);
        // A dry run shows the change and writes nothing.
        let dry = ok(&flowhook(&w, &["install", "--agent", agent, "--dry-run"]));
        assert!(
            dry.contains("+") && dry.contains("--agent"),
            "{agent}: {dry}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text, "{agent}");
        assert!(backups(file.parent().unwrap()).is_empty(), "{agent}");

        let said = ok(&flowhook(&w, &["install", "--agent", agent]));
        assert!(said.contains("wired"), "{agent}: {said}");
        // What the agent asks before it runs the hook, said where it asks anything.
        let trust = said.lines().find(|l| l.contains("trust"));
        assert_eq!(trust.is_some(), agent != "cursor", "{agent}: {said}");
        assert!(trust.is_none_or(|l| !l.contains("  ")), "{agent}: {said}");
        let on = std::fs::read_to_string(&file).unwrap();
        let after: Value = serde_json::from_str(&on).unwrap();
        let before: Value = serde_json::from_str(text).unwrap();
        // Theirs kept, in place; ours once per event, naming the agent.
        for (event, list) in before["hooks"].as_object().unwrap() {
            let kept: Vec<Value> = after["hooks"][event]
                .as_array()
                .unwrap()
                .iter()
                .filter(|g| !g.to_string().contains("flowhook"))
                .cloned()
                .collect();
            assert_eq!(&Value::Array(kept), list, "{agent}: {event}");
        }
        let lines = agent_lines(&after);
        assert!(lines.len() >= 3, "{agent}: {on}");
        let mut events: Vec<&String> = lines.iter().map(|(e, _)| e).collect();
        events.dedup();
        assert_eq!(events.len(), lines.len(), "{agent}: wired twice: {on}");
        assert!(
            lines
                .iter()
                .all(|(_, l)| l.ends_with(&format!("hook --agent {agent}"))),
            "{agent}: {lines:?}"
        );
        assert!(
            on.lines().nth(1).unwrap().starts_with("    "),
            "{agent}: {on}"
        );
        assert_eq!(backups(file.parent().unwrap()).len(), 1, "{agent}");

        // Idempotent: nothing to change, no new backup.
        assert!(ok(&flowhook(&w, &["install", "--agent", agent])).contains("already wired"));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), on, "{agent}");
        assert_eq!(backups(file.parent().unwrap()).len(), 1, "{agent}");

        // Uninstall takes only flowhook's entries out: the file is as it was.
        ok(&flowhook(&w, &["uninstall", "--agent", agent]));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text, "{agent}");
    }
}

#[test]
fn each_agents_installed_command_runs_as_written_and_records_that_agent() {
    let payloads = [
        (
            "codex",
            json!({"session_id": "s-codex", "turn_id": "t", "hook_event_name": "UserPromptSubmit",
            "prompt": "codex task", "model": "m", "permission_mode": "default"}),
        ),
        (
            "gemini",
            json!({"session_id": "s-gemini", "hook_event_name": "BeforeAgent",
            "prompt": "gemini task", "timestamp": "2026-12-01T00:00:00Z"}),
        ),
        (
            "cursor",
            json!({"conversation_id": "s-cursor", "hook_event_name": "beforeSubmitPrompt",
            "prompt": "cursor task"}),
        ),
        (
            "copilot",
            json!({"sessionId": "s-copilot", "timestamp": 1, "prompt": "copilot task"}),
        ),
    ];
    let w = World::new();
    for (agent, payload) in &payloads {
        ok(&flowhook(&w, &["install", "--agent", agent]));
        let (_, rel, _) = agent_files()
            .into_iter()
            .find(|(a, _, _)| a == agent)
            .unwrap();
        let lines = agent_lines(&read(&w.project().join(rel)));
        let prompt_event = [
            "UserPromptSubmit",
            "BeforeAgent",
            "beforeSubmitPrompt",
            "userPromptSubmitted",
        ];
        let (_, line) = lines
            .iter()
            .find(|(e, _)| prompt_event.contains(&e.as_str()))
            .unwrap();
        // The agents run the line through a shell, in the project, with the payload on stdin.
        let mut payload = payload.clone();
        payload["cwd"] = w.project().to_string_lossy().as_ref().into();
        let out = run_handler(
            &w,
            &json!({"command": line}),
            payload.to_string().as_bytes(),
        );
        assert_hook_contract(&out, agent);
    }
    let db = w.project().join(".swarm/flowhook.db");
    assert_eq!(
        query(
            &db,
            "SELECT session_id, agent FROM session_summaries ORDER BY session_id"
        ),
        rows![
            ["s-codex", "codex"],
            ["s-copilot", "copilot"],
            ["s-cursor", "cursor"],
            ["s-gemini", "gemini"],
        ]
    );
}

#[test]
fn an_agents_file_that_leaves_the_project_or_is_read_only_is_left_as_it_is() {
    for (agent, rel, text) in agent_files() {
        // A link out of the project, at the file or at its directory.
        for at_dir in [false, true] {
            let w = World::new();
            let target = w.home().join("elsewhere.json");
            put(&target, text);
            let file = w.project().join(rel);
            let link = if at_dir {
                file.parent().unwrap().to_path_buf()
            } else {
                file.clone()
            };
            std::fs::create_dir_all(link.parent().unwrap()).unwrap();
            if at_dir {
                std::fs::create_dir_all(w.home().join("dir")).unwrap();
                put(&w.home().join("dir").join(file.file_name().unwrap()), text);
                symlink(w.home().join("dir"), &link).unwrap();
            } else {
                symlink(&target, &link).unwrap();
            }
            let before = files_below(&w.home());
            let out = flowhook(&w, &["install", "--agent", agent]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{agent} {rel}: {stderr}");
            assert!(stderr.contains("symbolic link"), "{agent}: {stderr}");
            assert_eq!(files_below(&w.home()), before, "{agent}: written through");
        }
        // Read-only: nothing changes, no backup, no temporary file.
        let w = World::new();
        let file = w.project().join(rel);
        put(&file, text);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).unwrap();
        let out = flowhook(&w, &["install", "--agent", agent]);
        assert_eq!(out.status.code(), Some(2), "{agent}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("is read-only"));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text, "{agent}");
        assert!(backups(file.parent().unwrap()).is_empty(), "{agent}");
    }
}

#[test]
fn user_files_of_each_agent_and_doctor_over_them() {
    let w = World::new();
    for agent in ["codex", "gemini", "cursor"] {
        ok(&flowhook(&w, &["install", "--agent", agent, "--user"]));
    }
    for rel in [
        ".codex/hooks.json",
        ".gemini/settings.json",
        ".cursor/hooks.json",
    ] {
        assert!(!agent_lines(&read(&w.home().join(rel))).is_empty(), "{rel}");
    }
    // Codex's home moves with CODEX_HOME.
    let mut c = w.cmd_in_project(&["install", "--agent", "codex", "--user"]);
    c.env("CODEX_HOME", w.path().join("ch"));
    ok(&run_cmd(c));
    assert!(w.path().join("ch/hooks.json").is_file());
    // Copilot reads no user file: said, nothing written.
    let out = flowhook(&w, &["install", "--agent", "copilot", "--user"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--project"));

    // Doctor names them; an event taken out and a binary gone are problems.
    let (_, text, json) = doctor(&w, ".");
    assert!(text.contains(".gemini/settings.json"), "{text}");
    assert_eq!(json["agents"].as_array().unwrap().len(), 3, "{json}");
    let gemini = w.home().join(".gemini/settings.json");
    let mut v = read(&gemini);
    v["hooks"]
        .as_object_mut()
        .unwrap()
        .shift_remove("BeforeAgent");
    put(&gemini, &v.to_string());
    let cursor = w.home().join(".cursor/hooks.json");
    let (_, line) = agent_lines(&read(&cursor)).remove(0);
    let bin = line.split('\'').nth(1).unwrap().to_owned();
    let moved = std::fs::read_to_string(&cursor)
        .unwrap()
        .replace(&bin, "/nowhere/flowhook");
    put(&cursor, &moved);
    let (_, text, json) = doctor(&w, ".");
    let problems = json["problems"].to_string();
    assert!(
        problems.contains("gemini's BeforeAgent not wired"),
        "{text}"
    );
    assert!(problems.contains("/nowhere/flowhook"), "{text}");
    assert!(
        problems.contains("flowhook install --agent cursor --user"),
        "{text}"
    );
}

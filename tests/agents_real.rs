//! The other agents' real clients, offline (issue 25): each is installed into a temporary
//! project with `flowhook install --agent …`, driven headless against a scripted model
//! server of tools/record on loopback, and what its own hook calls stored is checked row by
//! row; the context flowhook injected must reach the model's request. (Codex's is
//! `codex_real_client_end_to_end` in tests/agents.rs.)
//!
//! - Gemini CLI: npm @google/gemini-cli at the version tools/install-gemini.sh pins (0.61.0),
//!   in .tools/gemini (`GEMINI=…` runs another one), against tools/record/fake_gemini.py.
//! - GitHub Copilot CLI: npm @github/copilot at the version tools/install-copilot.sh pins
//!   (1.0.102), in .tools/copilot (`COPILOT=…`), in its offline mode with a BYOK provider (no
//!   GitHub sign-in), against tools/record/fake_responses.py.
//!
//! A client that is not installed fails its test under CI=true and skips it, loudly,
//! elsewhere.

mod common;

use common::agents::*;
use common::clients::{ScriptedModel, client, in_world};
use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn gemini() -> Option<PathBuf> {
    client(
        "GEMINI",
        ".tools/gemini/node_modules/.bin/gemini",
        "tools/install-gemini.sh",
    )
}

/// `gemini -p PROMPT --yolo` in the world's project against `model`. The user's own
/// settings (~/.gemini) pick the API-key sign-in and turn off update checks and usage
/// statistics: nothing leaves the machine. The workspace is trusted for this one run, as
/// in a CI job.
fn run_gemini(w: &World, gemini: &Path, model: &ScriptedModel, prompt: &str) -> String {
    let settings = w.home().join(".gemini/settings.json");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    std::fs::write(
        &settings,
        json!({"security": {"auth": {"selectedType": "gemini-api-key"}},
            "general": {"enableAutoUpdate": false, "enableAutoUpdateNotification": false},
            "privacy": {"usageStatisticsEnabled": false}})
        .to_string(),
    )
    .unwrap();
    let out = in_world(w, gemini)
        .args(["-p", prompt, "--yolo"])
        .env("GEMINI_API_KEY", "offline")
        .env("GEMINI_CLI_TRUST_WORKSPACE", "true")
        // One node process instead of two: half a second less, nothing else changes.
        .env("GEMINI_CLI_NO_RELAUNCH", "true")
        .env(
            "GOOGLE_GEMINI_BASE_URL",
            format!("http://127.0.0.1:{}", model.server.port),
        )
        .output()
        .expect("run gemini");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "gemini failed: {stderr}");
    // What the client says of a hook that printed text, failed or timed out.
    for complaint in [
        "Hook system message",
        "failed for event",
        "Hook execution error",
    ] {
        assert!(!stderr.contains(complaint), "{complaint}: {stderr}");
    }
    stderr
}

/// The main conversation's requests (the client's side questions to its router carry a
/// `responseJsonSchema`), in order.
fn conversation(model: &ScriptedModel) -> Vec<Value> {
    model
        .requests()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| {
            r["path"]
                .as_str()
                .unwrap()
                .contains(":streamGenerateContent")
        })
        .map(|r| r["body"].clone())
        .collect()
}

/// The real Gemini CLI, offline, installed with `flowhook install --agent gemini --project`:
/// a Claude Code session's work reaches Gemini's first request to the model; Gemini's own
/// hook calls store its session (the prompt; a write_file with a relative path, a replace,
/// and a replace that failed, which is no edit); and Claude Code is given Gemini's work.
#[test]
fn gemini_real_client_end_to_end() {
    let Some(gemini) = gemini() else { return };
    let w = World::new();
    let tokenizer = w.project().join("src/tokenizer.rs");
    claude_session(
        &w,
        "claude-1",
        "make the tokenizer handle unicode",
        &tokenizer,
    );

    let project = w.project().to_string_lossy().into_owned();
    let out = succeeded(&mut w.cmd(&["install", "--agent", "gemini", "--project", &project]));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("gemini: 5 events"), "{report}");

    let prompt = "tokenizer.rs breaks on unicode again";
    let model = ScriptedModel::start(
        "fake_gemini.py",
        &w.path().join("model"),
        json!([
            {"call": {"name": "write_file", "args": {"file_path": "src/tokenizer.rs",
                "content": "pub fn tokens() {}\n// unicode\n"}}},
            {"call": {"name": "replace", "args": {"file_path": tokenizer.to_string_lossy(),
                "old_string": "// unicode\n", "new_string": "// unicode, NFC\n",
                "instruction": "say which normal form"}}},
            {"call": {"name": "replace", "args": {"file_path": "src/tokenizer.rs",
                "old_string": "not in the file", "new_string": "x", "instruction": "x"}}},
            {"text": "Done."}
        ]),
    );
    let stderr = run_gemini(&w, &gemini, &model, prompt);
    // The project's hooks were the installer's, under its name.
    assert!(stderr.contains("  - flowhook"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&tokenizer).unwrap(),
        "pub fn tokens() {}\n// unicode, NFC\n",
        "gemini did not edit the file"
    );

    // The Claude Code session's work reached the model, in Gemini's first request.
    let requests = conversation(&model);
    assert_eq!(requests.len(), 4, "one request per scripted turn");
    let first = requests[0]["contents"].to_string();
    assert!(
        first.contains("make the tokenizer handle unicode") && first.contains("src/tokenizer.rs"),
        "flowhook's context did not reach the model: {first}"
    );

    let sessions = w.query(
        "SELECT session_id, agent, prompts, edits, ended_at IS NOT NULL FROM session_summaries
         WHERE session_id <> 'claude-1'",
    );
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0][1..], ["gemini", "1", "2", "1"], "{sessions:?}");
    let (_, prompts, edits) = recorded(&w, &sessions[0][0]);
    assert_eq!(prompts, [prompt]);
    assert_eq!(
        edits,
        [e("src/tokenizer.rs", 2, 0), e("src/tokenizer.rs", 1, 1)]
    );

    // Claude Code in the same project is given Gemini's work, and says whose it was.
    let context = given_to_claude(&w, "claude-2", "is tokenizer.rs normalised now?");
    assert!(
        context.contains("gemini session") && context.contains(prompt),
        "{context}"
    );
}

fn copilot() -> Option<PathBuf> {
    client(
        "COPILOT",
        ".tools/copilot/node_modules/.bin/copilot",
        "tools/install-copilot.sh",
    )
}

/// `copilot -p PROMPT --allow-all-tools` in the world's project against `model`, offline:
/// `COPILOT_OFFLINE` with a BYOK provider needs no GitHub sign-in and reaches nothing else.
/// `COPILOT_ALLOW_ALL=true` trusts the folder (its hooks) for the run. `llm` picks the tools
/// Copilot offers: a Claude model gets `create` and `edit`, a GPT-5 one `apply_patch`.
fn run_copilot(w: &World, copilot: &Path, model: &ScriptedModel, llm: &str, prompt: &str) {
    let out = in_world(w, copilot)
        .args(["-p", prompt, "--allow-all-tools"])
        .env("COPILOT_OFFLINE", "true")
        .env(
            "COPILOT_PROVIDER_BASE_URL",
            format!("http://127.0.0.1:{}/v1", model.server.port),
        )
        .env("COPILOT_PROVIDER_WIRE_API", "responses")
        .env("COPILOT_PROVIDER_API_KEY", "offline")
        .env("COPILOT_MODEL", llm)
        .env("COPILOT_ALLOW_ALL", "true")
        .output()
        .expect("run copilot");
    assert!(
        out.status.success(),
        "copilot failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The first request of a Responses-API session.
fn first_request(model: &ScriptedModel) -> String {
    let requests = model.requests();
    let first = requests
        .lines()
        .next()
        .expect("no request reached the model");
    let v: Value = serde_json::from_str(first).unwrap();
    v["body"]["input"].to_string()
}

/// The real Copilot CLI, offline, installed with `flowhook install --agent copilot
/// --project`: Claude Code's work reaches its first request (its userPromptSubmitted reads a
/// top-level additionalContext); its create, edit and failed edit, then in a second session
/// (a GPT-5 model) its apply_patch, are stored as edits of a copilot session each.
#[test]
fn copilot_real_client_end_to_end() {
    let Some(copilot) = copilot() else { return };
    let w = World::new();
    let login = w.project().join("src/login.rs");
    std::fs::create_dir_all(login.parent().unwrap()).unwrap();
    claude_session(&w, "claude-1", "check the token expiry at login", &login);

    let project = w.project().to_string_lossy().into_owned();
    let out = succeeded(&mut w.cmd(&["install", "--agent", "copilot", "--project", &project]));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("copilot: 5 events"), "{report}");

    let prompt = "login.rs lets expired tokens in";
    let file = login.to_string_lossy();
    let model = ScriptedModel::start(
        "fake_responses.py",
        &w.path().join("model-1"),
        json!([
            {"call": {"name": "create", "arguments": {"path": file,
                "file_text": "fn login() {}\n// todo\n"}}},
            {"call": {"name": "edit", "arguments": {"path": file, "old_str": "// todo",
                "new_str": "// checks\n// the expiry"}}},
            {"call": {"name": "edit", "arguments": {"path": file, "old_str": "not in the file",
                "new_str": "x"}}},
            {"text": "Fixed."}
        ]),
    );
    run_copilot(&w, &copilot, &model, "claude-sonnet-4.5", prompt);
    assert_eq!(
        std::fs::read_to_string(&login).unwrap(),
        "fn login() {}\n// checks\n// the expiry\n",
        "copilot did not edit the file"
    );
    let first = first_request(&model);
    assert!(
        first.contains("check the token expiry at login") && first.contains("src/login.rs"),
        "flowhook's context did not reach the model: {first}"
    );

    let sessions = || {
        w.query(
            "SELECT session_id, agent, prompts, edits FROM session_summaries
             WHERE session_id NOT LIKE 'claude-%' ORDER BY started_at",
        )
    };
    let s = sessions();
    assert_eq!(s.len(), 1, "{s:?}");
    assert_eq!(s[0][1..], ["copilot", "1", "2"], "{s:?}");
    let (_, prompts, edits) = recorded(&w, &s[0][0]);
    assert_eq!(prompts, [prompt]);
    assert_eq!(edits, [e("src/login.rs", 2, 0), e("src/login.rs", 2, 1)]);

    // A GPT-5 model: Copilot edits with apply_patch, its path relative to the project.
    let patch = "*** Begin Patch\n*** Update File: src/login.rs\n@@\n-// the expiry\n+// the expiry, in UTC\n*** End Patch\n";
    let model = ScriptedModel::start(
        "fake_responses.py",
        &w.path().join("model-2"),
        json!([{"call": {"name": "apply_patch", "custom": true, "input": patch}}, {"text": "Done."}]),
    );
    run_copilot(
        &w,
        &copilot,
        &model,
        "gpt-5.5",
        "login.rs: compare the expiry in UTC",
    );
    assert!(
        std::fs::read_to_string(&login)
            .unwrap()
            .ends_with("// the expiry, in UTC\n"),
        "copilot applied no patch"
    );
    let s = sessions();
    assert_eq!(s.len(), 2, "{s:?}");
    assert_eq!(s[1][1..], ["copilot", "1", "1"], "{s:?}");
    assert_eq!(recorded(&w, &s[1][0]).2, [e("src/login.rs", 1, 1)]);
    // Its first request carries the first Copilot session's work.
    let first = first_request(&model);
    assert!(first.contains(prompt), "{first}");
}

//! The build's cargo features through the built binary: a build without `team` records every
//! event exactly as in local mode and never reaches a server; one without `mcp` serves no MCP.
//! Both kinds of build run this file (`cargo test --no-default-features --test features`).

mod common;

use common::server::BlackHole;
use common::*;
use std::time::{Duration, Instant};

/// A world whose project is `github.com/acme/shop`, shared with a team server in the user's
/// own hooks.toml: a server that takes connections and never answers.
fn shared_with(server: &BlackHole) -> World {
    let w = World::new();
    common::team::clone_with_user_config(
        &w,
        Some("https://github.com/acme/shop.git"),
        &format!(
            "[database]\nmode = \"sync\"\nurl = \"{}\"\ntoken_env = \"HOME\"\n\
             [sync]\nshare = [\"github.com/acme/*\"]\ntimeout_secs = 2\n\
             request_timeout_ms = 500\n",
            server.url()
        ),
    );
    w
}

#[test]
fn in_sync_mode_every_event_is_recorded_and_only_a_team_build_calls_the_server() {
    let server = BlackHole::new();
    let w = shared_with(&server);
    let session = [
        prompt_in("s1", &w.project(), "fix the login bug"),
        edit("s1", "t1", &w.project().join("src/a.rs").to_string_lossy()),
        serde_json::to_vec(&serde_json::json!({"session_id": "s1", "cwd": w.project(),
            "hook_event_name": "SessionEnd", "reason": "logout"}))
        .unwrap(),
    ];
    for payload in &session {
        let out = w.hook(&[], payload);
        assert_hook_contract(&out, &String::from_utf8_lossy(payload));
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        w.query(
            "SELECT project, (SELECT count(*) FROM task_log), (SELECT count(*) FROM edit_history),
                    ended_at IS NOT NULL
             FROM session_summaries"
        ),
        rows![["github.com/acme/shop", 1, 1, 1]]
    );
    assert!(w.spool().is_empty(), "{:?}", w.spool());
    // A team build starts a sync after the SessionEnd, which connects; a build without team
    // memory has nothing to start.
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.connections() == 0 && cfg!(feature = "team") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if !cfg!(feature = "team") {
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(server.connections() > 0, cfg!(feature = "team"));
    assert_eq!(w.state().join("sync").exists(), cfg!(feature = "team"));
}

/// `flowhook sync` and `flowhook mcp` say what this build lacks, and fail, having touched
/// nothing.
#[test]
#[cfg(not(feature = "team"))]
fn without_team_memory_sync_says_so_and_sends_nothing() {
    let server = BlackHole::new();
    let w = shared_with(&server);
    for args in [&["sync"][..], &["sync", "--status"], &["sync", "--enable"]] {
        let out = w.cmd_in_project(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with("flowhook: error: this flowhook was built without team memory"),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.connections(), 0);
    assert!(!w.state().join("shared.json").exists());
    assert!(!w.db().exists() && !w.project().join(".swarm").exists());
}

#[test]
#[cfg(not(feature = "mcp"))]
fn without_mcp_neither_the_server_nor_its_registration_is_there() {
    let w = World::new();
    let out = run_with_stdin(w.cmd(&["mcp"]), b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("built without the MCP server"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    // Refused before anything is written: neither .mcp.json nor the hooks.
    let out = w
        .cmd(&["install", "--project", ".", "--mcp"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!w.project().join(".mcp.json").exists());
    assert!(!w.project().join(".claude/settings.json").exists());
}

//! Team memory shares only what the user chose (issue 21): which projects leave the machine,
//! what a database takes in, what the server may be, what a row carries. Against a real
//! libSQL server (sqld, tests/common/server.rs), through the built binary.

mod common;

use common::server::Sqld;
use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Output;

/// A machine in sync mode with `url`; its project a clone whose `origin` is `remote`.
/// `sync_extra` goes into its own hooks.toml's `[sync]` section.
fn machine(label: &str, url: &str, remote: Option<&str>, sync_extra: &str) -> World {
    let w = World::new();
    if let Some(remote) = remote {
        set_origin(&w.project(), remote);
    }
    write_config(
        &w,
        &format!(
            "[database]\nmode = \"sync\"\nurl = \"{url}\"\n\
             [sync]\nafter_session_end = false\ninterval_minutes = 0\nlabel = \"{label}\"\n\
             {sync_extra}\n"
        ),
    );
    w
}

fn set_origin(dir: &Path, remote: &str) {
    let git = dir.join(".git");
    std::fs::create_dir_all(&git).unwrap();
    std::fs::write(
        git.join("config"),
        format!("[core]\n\tbare = false\n[remote \"origin\"]\n\turl = {remote}\n"),
    )
    .unwrap();
}

fn write_config(w: &World, text: &str) {
    let dir = w.home().join(".config/flowhook");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hooks.toml"), text).unwrap();
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn doctor_runs_in_every_mode_and_says_whether_the_project_is_shared() {
    let server = Sqld::start();
    let w = machine(
        "ana@laptop",
        &server.url(),
        Some("git@github.com:acme/shop.git"),
        "",
    );
    w.hook(&[], &prompt_in("s1", &w.project(), "hello"));
    let out = w.cmd(&["doctor", "--json"]).output().unwrap();
    // Not 101 (a panic): 0, or 1 for a problem of the set-up (no hooks installed here).
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    let sync = &report["sync"];
    assert_eq!(sync["project"], "github.com/acme/shop", "{sync}");
    assert_eq!(sync["identity"], "remote", "{sync}");
    assert_eq!(sync["server"], server.url().as_str(), "{sync}");
    assert!(
        sync["shared"].is_boolean() && sync["why"].is_string(),
        "{sync}"
    );
    assert!(sync["answers_in_ms"].is_u64(), "{sync}");
    assert!(sync["status"]["pending"]["task_log"].is_i64(), "{sync}");
    let text = w.cmd(&["doctor"]).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("github.com/acme/shop (from its git remote"),
        "{text}"
    );
    assert!(text.contains("rows to push"), "{text}");

    // A server that is not there: a clear problem, exit 1, not a panic.
    let gone = machine("ana@laptop", "http://127.0.0.1:9", None, "");
    let out = gone.cmd(&["doctor"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("does not answer") && text.contains("shared     no:"),
        "{text}"
    );

    // Local mode: doctor says so too.
    let local = World::new();
    let out = local.cmd(&["doctor", "--json"]).output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)));
    let report = json_of(&out);
    assert_eq!(report["sync"]["shared"], false);
    assert!(
        report["sync"]["why"].as_str().unwrap().contains("local"),
        "{report}"
    );
}

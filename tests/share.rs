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

/// A repository `name` of world `w` whose `origin` is `remote`.
fn repo_of(w: &World, name: &str, remote: &str) -> std::path::PathBuf {
    let dir = w.path().join("repos").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    set_origin(&dir, remote);
    dir
}

/// `flowhook ARGS` run in `dir`, with the database the configuration says (the project's).
fn run_in(w: &World, dir: &Path, args: &[&str]) -> Output {
    let mut c = w.cmd_in_project(args);
    c.current_dir(dir);
    c.output().unwrap()
}

fn ok_in(w: &World, dir: &Path, args: &[&str]) -> Output {
    let out = run_in(w, dir, args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A prompt recorded by a hook call in `dir`.
fn prompt_at(w: &World, dir: &Path, session: &str, text: &str) {
    let mut c = w.cmd_in_project(&[]);
    c.current_dir(dir);
    let out = run_with_stdin(c, &prompt_in(session, dir, text));
    assert_hook_contract(&out, text);
}

fn status_in(w: &World, dir: &Path) -> Value {
    json_of(&ok_in(w, dir, &["sync", "--status", "--json"]))
}

#[test]
fn only_the_projects_the_user_chose_leave_the_machine() {
    let server = Sqld::start();
    let w = machine("ana@laptop", &server.url(), None, "");
    let shop = repo_of(&w, "shop", "git@github.com:acme/shop.git");
    let dotfiles = repo_of(&w, "dotfiles", "git@github.com:ana/dotfiles.git");
    let oss = repo_of(&w, "oss", "https://github.com/rust-lang/regex");
    prompt_at(&w, &shop, "s-shop", "Add the invoice export");
    prompt_at(
        &w,
        &dotfiles,
        "s-dot",
        "my private notes about my landlord dispute",
    );
    prompt_at(&w, &oss, "s-oss", "Speed up the lazy DFA");

    // Sync mode alone shares nothing: the server is not even contacted.
    for dir in [&shop, &dotfiles, &oss] {
        let report = json_of(&ok_in(&w, dir, &["sync", "--json"]));
        assert!(
            report["not_shared"]
                .as_str()
                .unwrap()
                .contains("not chosen"),
            "{report}"
        );
        assert_eq!(status_in(&w, dir)["shared"], false);
    }
    assert_eq!(server.count("SELECT count(*) FROM sqlite_master"), 0);

    // One project chosen by hand: only its rows reach the server.
    ok_in(&w, &shop, &["sync", "--enable"]);
    let s = status_in(&w, &shop);
    assert_eq!(
        (&s["shared"], &s["project"]),
        (&Value::Bool(true), &Value::from("github.com/acme/shop")),
        "{s}"
    );
    assert!(s["why"].as_str().unwrap().contains("--enable"), "{s}");
    assert_eq!(s["pending"]["task_log"], 1, "{s}");
    for dir in [&shop, &dotfiles, &oss] {
        ok_in(&w, dir, &["sync", "--json"]);
    }
    assert_eq!(
        server.query(
            "SELECT DISTINCT project FROM task_log UNION SELECT project FROM session_summaries"
        ),
        vec![vec![Value::from("github.com/acme/shop")]]
    );
    assert_eq!(server.count("SELECT count(*) FROM task_log"), 1);
    let st = status_in(&w, &dotfiles);
    assert_eq!(st["shared"], false);
    assert!(
        st["why"]
            .as_str()
            .unwrap()
            .contains("flowhook sync --enable"),
        "{st}"
    );
    assert_eq!(st["pending"]["task_log"], 0, "{st}");

    // A pattern in the user's own file chooses too; --disable wins over it.
    write_config(
        &w,
        &format!(
            "[database]\nmode = \"sync\"\nurl = \"{}\"\n[sync]\ninterval_minutes = 0\n\
             after_session_end = false\nshare = [\"github.com/Rust-Lang/*\"]\n",
            server.url()
        ),
    );
    assert_eq!(status_in(&w, &oss)["shared"], true);
    ok_in(&w, &oss, &["sync", "--disable"]);
    let st = status_in(&w, &oss);
    assert_eq!(st["shared"], false, "{st}");
    assert!(st["why"].as_str().unwrap().contains("--disable"), "{st}");
    ok_in(&w, &oss, &["sync"]);
    assert_eq!(server.count("SELECT count(*) FROM task_log"), 1);

    // A project's own file never decides it, trusted or not.
    std::fs::create_dir_all(dotfiles.join(".claude")).unwrap();
    let file = dotfiles.join(".claude/flowhook.toml");
    std::fs::write(&file, "[sync]\nshare = [\"*\"]\n").unwrap();
    assert_eq!(status_in(&w, &dotfiles)["shared"], false);
    ok_in(&w, &dotfiles, &["trust", file.to_str().unwrap()]);
    let out = ok_in(&w, &dotfiles, &["sync", "--json"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("sync.share counts only in your own"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(status_in(&w, &dotfiles)["shared"], false);
    assert_eq!(server.count("SELECT count(*) FROM task_log"), 1);
    let everything = format!("{:?}", server.query("SELECT * FROM task_log"));
    assert!(!everything.contains("landlord"), "{everything}");
}

#[test]
fn project_id_in_the_users_own_file_names_no_directory_and_ids_pin_one() {
    let server = Sqld::start();
    let w = machine("ana@laptop", &server.url(), None, "share = [\"*\"]");
    let notes = w.path().join("notes");
    let other = w.path().join("other");
    for d in [&notes, &other] {
        std::fs::create_dir_all(d.join(".claude")).unwrap();
    }
    let config = std::fs::read_to_string(w.home().join(".config/flowhook/hooks.toml")).unwrap();
    write_config(&w, &format!("[project]\nid = \"everything\"\n{config}"));
    // Ignored, and said: both directories keep their paths, and nothing is shared.
    for d in [&notes, &other] {
        let out = ok_in(&w, d, &["sync", "--status", "--json"]);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("project.id would name every directory")
        );
        let s = json_of(&out);
        assert_eq!(
            (&s["identity"], &s["shared"]),
            (&Value::from("path"), &Value::Bool(false)),
            "{s}"
        );
    }
    let out = run_in(&w, &notes, &["sync", "--enable"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[project.ids]"));

    // One directory pinned: it alone has that identity.
    write_config(
        &w,
        &format!(
            "[project.ids]\n\"{}\" = \"notes\"\n{config}",
            notes.display()
        ),
    );
    let s = json_of(&ok_in(&w, &notes, &["sync", "--status", "--json"]));
    assert_eq!(
        (&s["project"], &s["identity"], &s["shared"]),
        (
            &Value::from("notes"),
            &Value::from("pinned"),
            &Value::Bool(true)
        ),
        "{s}"
    );
    let s = json_of(&ok_in(&w, &other, &["sync", "--status", "--json"]));
    assert_eq!(s["identity"], "path", "{s}");
}

//! A repository's files may not lead flowhook's writes out of the project or its state
//! directory: no file it creates, writes or appends to is reached through a symlink in any
//! component below the project root or the state directory (whatever key or default named
//! it), none has a second hard link, no directory is made that nobody asked for, and
//! configuration is read only from bounded regular files. Each refusal keeps the event
//! (spooled or stored), exits 0, and leaves the bytes outside as they were.

mod common;

use common::*;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

/// A git project without FLOWHOOK_DB (its database is `.swarm/flowhook.db`), a HOME with
/// files an attacker would like written, and another project beside it with its memory.
struct Clone {
    w: World,
    env: Vec<(String, String)>,
}

impl Clone {
    fn new() -> Clone {
        let w = World::new();
        std::fs::create_dir_all(w.project().join(".git")).unwrap();
        std::fs::create_dir_all(w.home().join(".ssh")).unwrap();
        std::fs::write(w.home().join(".bashrc"), "export PATH=$HOME/bin:$PATH\n").unwrap();
        Clone { w, env: vec![] }
    }

    fn p(&self, rel: &str) -> PathBuf {
        self.w.project().join(rel)
    }

    fn home(&self, rel: &str) -> PathBuf {
        self.w.home().join(rel)
    }

    fn own_db(&self) -> PathBuf {
        self.p(".swarm/flowhook.db")
    }

    fn set(&mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) {
        let value = value.as_ref().to_string_lossy().into_owned();
        self.env.push((key.to_owned(), value));
    }

    fn project_config(&self, text: &str) {
        std::fs::write(self.p(".claude/flowhook.toml"), text).unwrap();
    }

    fn user_config(&self, text: &str) {
        let dir = self.home(".config/flowhook");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("hooks.toml"), text).unwrap();
    }

    fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = self.w.cmd_in_project(args);
        c.env("CLAUDE_PROJECT_DIR", self.w.project());
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// A hook call as Claude Code makes it: the contract holds, and it ends well within
    /// the watchdog's reach.
    fn hook(&self, payload: &[u8]) -> (String, Output) {
        let started = Instant::now();
        let out = run_with_stdin(self.cmd(&[]), payload);
        assert_hook_contract(&out, &String::from_utf8_lossy(payload));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
        (String::from_utf8_lossy(&out.stderr).into_owned(), out)
    }

    fn prompt(&self, text: &str) -> Vec<u8> {
        prompt_in("s1", &self.w.project(), text)
    }

    fn trust(&self) {
        succeeded(&mut self.cmd(&["trust"]));
    }

    /// The events waiting in the spool, with why.
    fn spooled(&self) -> Vec<String> {
        let out = succeeded(&mut self.cmd(&["spool", "--json"]));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v["state"] == "waiting")
            .map(|v| v["entry"]["reason"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    fn tasks(&self, db: &Path) -> Vec<Vec<String>> {
        query(db, "SELECT task FROM task_log ORDER BY id")
    }
}

/// Every file below `dir` with a digest of its bytes (flowhook's own state and the user's
/// configuration left out): what must not change.
fn snapshot(dir: &Path) -> Vec<(PathBuf, u64)> {
    use std::hash::{Hash, Hasher};
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.ends_with(".local/state/flowhook") || p.ends_with(".config/flowhook") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                std::fs::read(&p).unwrap_or_default().hash(&mut h);
                out.push((p, h.finish()));
            }
        }
    }
    out.sort();
    out
}

/// Another project with memory of its own: its files are a target.
fn other_project(c: &Clone) -> PathBuf {
    let other = c.w.path().join("other");
    std::fs::create_dir_all(other.join(".git")).unwrap();
    let mut cmd = c.w.cmd_in_project(&[]);
    cmd.current_dir(&other).env("CLAUDE_PROJECT_DIR", &other);
    let out = run_with_stdin(cmd, &prompt_in("o1", &other, "the other project's own"));
    assert_hook_contract(&out, "other");
    assert_eq!(
        query(
            &other.join(".swarm/flowhook.db"),
            "SELECT count(*) FROM task_log"
        ),
        rows![[1]]
    );
    other
}

/// The event was refused its database for a link, and waits in the spool saying so.
fn spooled_for_a_link(c: &Clone, stderr: &str) {
    assert!(
        stderr.contains("symbolic link") && stderr.contains("spooled"),
        "{stderr}"
    );
    let spooled = c.spooled();
    assert_eq!(spooled.len(), 1, "{spooled:?}");
    assert!(spooled[0].contains("symbolic link"), "{spooled:?}");
}

#[test]
fn an_untrusted_database_path_through_a_linked_directory_is_ignored() {
    // `cache -> ~/.ssh` and `database.path = "cache/authorized_keys2"`: inside by name.
    for (link, target, path) in [
        ("cache", "../home/.ssh", "cache/authorized_keys2"),
        ("cache", "/ABS/.ssh", "cache/authorized_keys2"),
        ("vendor/lib", "../../home/.ssh", "vendor/lib/x/y/keys.db"),
        ("data", "../home", ".././proj/data/.bashrc"),
    ] {
        let c = Clone::new();
        let target = target.replace("/ABS", &c.w.home().to_string_lossy());
        let link = c.p(link);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        symlink(&target, &link).unwrap();
        let before = snapshot(&c.w.home());
        c.project_config(&format!("[database]\npath = \"{path}\"\n"));
        let (stderr, _) = c.hook(&c.prompt("key in the diff"));
        assert!(
            stderr.contains("database.path") && stderr.contains("not trusted"),
            "{path}: {stderr}"
        );
        assert_eq!(snapshot(&c.w.home()), before, "{path}");
        assert_eq!(c.tasks(&c.own_db()), rows![["key in the diff"]], "{path}");
    }
}

#[test]
fn a_trusted_or_explicit_database_path_through_a_linked_directory_is_refused() {
    enum Named {
        TrustedProjectFile,
        UserFile,
        FlowhookDb,
    }
    for (named, link_target) in [
        (Named::TrustedProjectFile, "../home/.ssh"),
        (Named::UserFile, "../home/.ssh"),
        (Named::FlowhookDb, "../home/.ssh"),
        (Named::TrustedProjectFile, "../other/.swarm"),
        (Named::UserFile, "../other/.swarm"),
    ] {
        let mut c = Clone::new();
        let other = other_project(&c);
        let other_before = snapshot(&other);
        let home_before = snapshot(&c.w.home());
        symlink(link_target, c.p("cache")).unwrap();
        let inside = c.p("cache/flowhook.db");
        match named {
            Named::TrustedProjectFile => {
                c.project_config("[database]\npath = \"cache/flowhook.db\"\n");
                c.trust();
            }
            Named::UserFile => {
                c.user_config(&format!("[database]\npath = \"{}\"\n", inside.display()))
            }
            Named::FlowhookDb => c.set("FLOWHOOK_DB", &inside),
        }
        let (stderr, _) = c.hook(&c.prompt("for the other project"));
        spooled_for_a_link(&c, &stderr);
        assert_eq!(snapshot(&other), other_before, "{link_target}");
        assert_eq!(snapshot(&c.w.home()), home_before, "{link_target}");
    }
}

#[test]
fn a_linked_swarm_or_a_linked_directory_inside_it_is_refused() {
    // `.swarm` itself to another project's; then a real `.swarm` whose subdirectory links
    // out (named by the user's own configuration).
    let c = Clone::new();
    let other = other_project(&c);
    let before = snapshot(&other);
    symlink("../other/.swarm", c.p(".swarm")).unwrap();
    let (stderr, _) = c.hook(&c.prompt("into the other memory"));
    spooled_for_a_link(&c, &stderr);
    assert_eq!(snapshot(&other), before);

    let c = Clone::new();
    std::fs::create_dir_all(c.p(".swarm")).unwrap();
    symlink(c.w.home(), c.p(".swarm/data")).unwrap();
    c.user_config("[database]\npath = \".swarm/data/flowhook.db\"\n");
    let before = snapshot(&c.w.home());
    let (stderr, _) = c.hook(&c.prompt("into home"));
    spooled_for_a_link(&c, &stderr);
    assert_eq!(snapshot(&c.w.home()), before);
    // The spooled event is stored once the link is gone.
    std::fs::remove_file(c.p(".swarm/data")).unwrap();
    let out = succeeded(&mut c.cmd(&["spool", "--drain"]));
    assert!(out.status.success());
    assert_eq!(
        c.tasks(&c.p(".swarm/data/flowhook.db")),
        rows![["into home"]]
    );
}

#[test]
fn a_log_file_in_a_linked_directory_gets_nothing() {
    for trusted in [false, true] {
        let c = Clone::new();
        symlink("../home", c.p("logs")).unwrap();
        let text = "[log]\nfile = \"logs/.bashrc\"\nlevel = \"debug\"\n";
        if trusted {
            c.project_config(text);
            c.trust();
        } else {
            c.user_config(text);
        }
        let before = snapshot(&c.w.home());
        let (stderr, _) = c.hook(&c.prompt("log me"));
        assert!(
            stderr.contains("no log file") && stderr.contains("symbolic link"),
            "{stderr}"
        );
        assert_eq!(snapshot(&c.w.home()), before);
        assert_eq!(c.tasks(&c.own_db()), rows![["log me"]]);
    }
}

#[test]
fn a_hard_linked_log_or_database_gets_nothing() {
    // The log beside the database, linked to the shell profile (and lines to write).
    let c = Clone::new();
    c.user_config("[log]\nlevel = \"debug\"\n");
    std::fs::create_dir_all(c.p(".swarm")).unwrap();
    std::fs::hard_link(c.home(".bashrc"), c.p(".swarm/flowhook.log")).unwrap();
    let before = std::fs::read(c.home(".bashrc")).unwrap();
    let (stderr, _) = c.hook(&c.prompt("quietly"));
    assert!(stderr.contains("hard link"), "{stderr}");
    assert_eq!(std::fs::read(c.home(".bashrc")).unwrap(), before);
    assert_eq!(c.tasks(&c.own_db()), rows![["quietly"]]);

    // The database, linked to another project's.
    let c = Clone::new();
    let other = other_project(&c);
    std::fs::create_dir_all(c.p(".swarm")).unwrap();
    std::fs::hard_link(other.join(".swarm/flowhook.db"), c.own_db()).unwrap();
    let before = snapshot(&other);
    let (stderr, _) = c.hook(&c.prompt("into the other memory"));
    assert!(
        stderr.contains("hard link") && stderr.contains("spooled"),
        "{stderr}"
    );
    assert_eq!(snapshot(&other), before);
    assert_eq!(c.spooled().len(), 1);

    // The fallback log in the state directory.
    let c = Clone::new();
    symlink("../home/.ssh", c.p(".swarm")).unwrap();
    let state = c.w.state();
    std::fs::create_dir_all(&state).unwrap();
    std::fs::hard_link(c.home(".bashrc"), state.join("flowhook.log")).unwrap();
    let before = std::fs::read(c.home(".bashrc")).unwrap();
    let (stderr, _) = c.hook(&c.prompt("refused twice"));
    assert!(stderr.contains("hard link"), "{stderr}");
    assert_eq!(std::fs::read(c.home(".bashrc")).unwrap(), before);
    assert_eq!(c.spooled().len(), 1);
}

/// A clone whose state directory (`FLOWHOOK_STATE_DIR`) has `name` linked to a directory
/// of the home, which is returned with it.
fn state_with_link(name: &str) -> (Clone, PathBuf, PathBuf) {
    let mut c = Clone::new();
    let state = c.w.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    c.set("FLOWHOOK_STATE_DIR", &state);
    let victim = c.home("victim");
    std::fs::create_dir_all(&victim).unwrap();
    symlink(&victim, state.join(name)).unwrap();
    (c, state, victim)
}

#[test]
fn a_linked_directory_in_the_state_directory_is_not_written_through() {
    // The spool itself linked out: the event goes to the other spool, not there.
    let (c, _, victim) = state_with_link("spool");
    symlink("../home/.ssh", c.p(".swarm")).unwrap();
    let (stderr, _) = c.hook(&c.prompt("spool me"));
    assert!(stderr.contains("spooled"), "{stderr}");
    assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(c.home(".ssh")).unwrap().count(), 0);
    assert_eq!(c.spooled().len(), 1);

    // A log the user's configuration puts in a directory of the state directory that
    // links out.
    let (c, state, victim) = state_with_link("logs");
    c.user_config(&format!(
        "[log]\nlevel = \"debug\"\nfile = \"{}/logs/flowhook.log\"\n",
        state.display()
    ));
    let (stderr, _) = c.hook(&c.prompt("logged nowhere"));
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 0);
    assert_eq!(c.tasks(&c.own_db()), rows![["logged nowhere"]]);

    // Both spools linked out: the event cannot be kept, and nothing is written there.
    let (c, _, victim) = state_with_link("spool");
    let temp_state = c.w.path().join("tmp").join(format!("flowhook-{}", uid()));
    std::fs::create_dir_all(&temp_state).unwrap();
    symlink(&victim, temp_state.join("spool")).unwrap();
    symlink("../home/.ssh", c.p(".swarm")).unwrap();
    let (stderr, _) = c.hook(&c.prompt("nowhere to go"));
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 0);
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status();
    assert!(status.unwrap().success());
}

fn uid() -> u32 {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() }
}

#[test]
fn a_working_directory_that_is_gone_is_not_made_again() {
    // The payload's cwd (a removed worktree), then CLAUDE_PROJECT_DIR itself.
    let c = Clone::new();
    let gone = c.w.path().join("worktree-removed");
    let mut cmd = c.w.cmd_in_project(&[]);
    cmd.current_dir(c.w.path());
    let out = run_with_stdin(cmd, &prompt_in("s1", &gone, "where was I"));
    assert_hook_contract(&out, "gone");
    assert!(!gone.exists());
    assert_eq!(c.spooled().len(), 1);

    let mut c = Clone::new();
    let gone = c.w.path().join("project-removed");
    c.set("CLAUDE_PROJECT_DIR", &gone);
    let (stderr, _) = c.hook(&prompt_in("s1", &gone, "still here"));
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(!gone.exists());
    assert_eq!(c.spooled().len(), 1);
}

/// A configuration that is not a bounded regular file: refused, said, and the event stored
/// on the defaults (the payload intact, the call quick).
fn unreadable_config(c: &Clone, why: &str) {
    let payload = c.prompt("on the defaults");
    let (stderr, _) = c.hook(&payload);
    assert!(
        stderr.contains(why) && stderr.contains("using the defaults"),
        "{why}: {stderr}"
    );
    assert_eq!(c.tasks(&c.own_db()), rows![["on the defaults"]], "{why}");
}

#[test]
fn a_project_configuration_that_is_not_a_small_regular_file_is_not_read() {
    let config = |c: &Clone| c.p(".claude/flowhook.toml");
    for (target, why) in [
        ("/dev/zero", "leads out of the project"),
        ("/dev/stdin", "leads out of the project"),
        ("../../home/.bashrc", "leads out of the project"),
    ] {
        let c = Clone::new();
        symlink(target, config(&c)).unwrap();
        unreadable_config(&c, why);
    }
    // A FIFO nobody writes, a directory, 2 MiB of comments.
    let c = Clone::new();
    let fifo = config(&c);
    mkfifo(&fifo);
    unreadable_config(&c, "not a regular file");
    let c = Clone::new();
    std::fs::create_dir_all(config(&c)).unwrap();
    unreadable_config(&c, "not a regular file");
    let c = Clone::new();
    let huge = "# padding\n".repeat(210_000) + "[recall]\nenabled = false\n";
    std::fs::write(config(&c), huge).unwrap();
    unreadable_config(&c, "larger than 1024 KiB");
    // A link that stays inside the project is read (and decides only harmless keys).
    let c = Clone::new();
    std::fs::write(c.p("flowhook.toml"), "[hook]\ntimeout_ms = 9999999\n").unwrap();
    symlink("../flowhook.toml", config(&c)).unwrap();
    let (stderr, _) = c.hook(&c.prompt("linked inside"));
    assert!(stderr.contains("hook.timeout_ms"), "{stderr}");
    assert_eq!(c.tasks(&c.own_db()), rows![["linked inside"]]);
}

#[test]
fn the_users_configuration_is_read_only_from_a_small_regular_file() {
    for target in ["/dev/zero", "/dev/stdin", "/dev/urandom"] {
        let c = Clone::new();
        std::fs::create_dir_all(c.home(".config/flowhook")).unwrap();
        symlink(target, c.home(".config/flowhook/hooks.toml")).unwrap();
        unreadable_config(&c, "not a regular file");
    }
    let mut c = Clone::new();
    c.set("FLOWHOOK_CONFIG", "/dev/zero");
    unreadable_config(&c, "not a regular file");
    // The user's own file may be a link (dotfiles): followed, and read.
    let c = Clone::new();
    std::fs::create_dir_all(c.home(".config/flowhook")).unwrap();
    std::fs::write(c.home("dotfiles.toml"), "[recall]\nbudget_chars = 100\n").unwrap();
    symlink(
        c.home("dotfiles.toml"),
        c.home(".config/flowhook/hooks.toml"),
    )
    .unwrap();
    let (stderr, _) = c.hook(&c.prompt("dotfiles"));
    assert!(!stderr.contains("defaults"), "{stderr}");
    assert_eq!(c.tasks(&c.own_db()), rows![["dotfiles"]]);
}

#[test]
fn without_openat2_each_component_is_checked_the_same() {
    // An old kernel or a seccomp filter: `openat(O_NOFOLLOW)` component by component.
    let fallback = |c: &mut Clone| c.set("FLOWHOOK_TEST_NO_OPENAT2", "1");
    let mut c = Clone::new();
    fallback(&mut c);
    symlink("../home/.ssh", c.p("cache")).unwrap();
    c.user_config(&format!(
        "[database]\npath = \"{}\"\n",
        c.p("cache/deeper/authorized_keys2").display()
    ));
    let (stderr, _) = c.hook(&c.prompt("no openat2"));
    spooled_for_a_link(&c, &stderr);
    assert_eq!(std::fs::read_dir(c.home(".ssh")).unwrap().count(), 0);

    let mut c = Clone::new();
    fallback(&mut c);
    std::fs::create_dir_all(c.p(".swarm")).unwrap();
    symlink(c.home(".ssh"), c.p(".swarm/data")).unwrap();
    c.user_config("[database]\npath = \".swarm/data/flowhook.db\"\n");
    let (stderr, _) = c.hook(&c.prompt("nested"));
    spooled_for_a_link(&c, &stderr);
    assert_eq!(std::fs::read_dir(c.home(".ssh")).unwrap().count(), 0);

    let mut c = Clone::new();
    fallback(&mut c);
    symlink("/dev/zero", c.p(".claude/flowhook.toml")).unwrap();
    unreadable_config(&c, "leads out of the project");
    // A plain project still works.
    let mut c = Clone::new();
    fallback(&mut c);
    c.project_config("[recall]\nbudget_chars = 100\n");
    let (stderr, _) = c.hook(&c.prompt("plain"));
    assert!(!stderr.contains("warning"), "{stderr}");
    assert_eq!(c.tasks(&c.own_db()), rows![["plain"]]);
}

#[test]
fn install_writes_no_settings_through_a_linked_directory() {
    // `.claude` linked to another project's (or the user's) Claude directory.
    for target in ["../home/.claude", "../other/.claude"] {
        let c = Clone::new();
        let victim = c.w.path().join(target.trim_start_matches("../"));
        std::fs::create_dir_all(&victim).unwrap();
        std::fs::write(victim.join("settings.json"), "{\"model\": \"opus\"}\n").unwrap();
        std::fs::remove_dir_all(c.p(".claude")).unwrap();
        symlink(target, c.p(".claude")).unwrap();
        let before = snapshot(&victim);
        let out = c.cmd(&["install", "--project", "."]).output().unwrap();
        assert_ne!(out.status.code(), Some(0), "{target}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("symbolic link"), "{target}: {stderr}");
        assert_eq!(snapshot(&victim), before, "{target}");
    }
    // A real `.claude` is written as before.
    let c = Clone::new();
    succeeded(&mut c.cmd(&["install", "--project", "."]));
    let settings = std::fs::read_to_string(c.p(".claude/settings.json")).unwrap();
    assert!(settings.contains("flowhook"), "{settings}");
}

#[test]
fn debugging_commands_and_trust_refuse_an_unbounded_configuration_quickly() {
    let c = Clone::new();
    let fifo = c.w.path().join("fifo.toml");
    mkfifo(&fifo);
    for config in [Path::new("/dev/zero"), fifo.as_path()] {
        let started = Instant::now();
        let out = c
            .cmd(&["sessions", "--config", &config.to_string_lossy()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{config:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("not a regular file"), "{stderr}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    // `flowhook trust` of a project file that is a device: refused, nothing trusted.
    symlink("/dev/zero", c.p(".claude/flowhook.toml")).unwrap();
    let out = c.cmd(&["trust"]).output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"));
    assert!(!c.w.state().join("trusted.json").exists());
}

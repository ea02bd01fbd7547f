//! Machines of a team for the team-memory tests: each a world of its own (HOME, user
//! configuration in sync mode with one server, database, a clone of github.com/acme/shop at
//! its own path), whose clock may be off by a fixed amount: every command then runs under
//! libfaketime's `faketime` (Debian package faketime; `tools/install-faketime.sh`).

use super::server::Sqld;
use super::*;
use serde_json::Value;
use std::process::{Command, Output};

/// The remote every clone of the team's project has.
pub const SHOP: &str = "git@github.com:acme/shop.git";

/// A machine of the team.
pub struct Machine {
    pub w: World,
    pub label: String,
    /// How far its clock is off, as faketime takes it (`+1h`, `-30m`, `+1d`); `None`: true.
    pub skew: Option<String>,
}

/// Makes `w`'s project a clone whose `origin` is `remote` (none: no git at all), and writes
/// the user's hooks.toml.
pub fn clone_with_user_config(w: &World, remote: Option<&str>, hooks_toml: &str) {
    if let Some(remote) = remote {
        let git = w.project().join(".git");
        std::fs::create_dir_all(&git).unwrap();
        std::fs::write(
            git.join("config"),
            format!("[core]\n\tbare = false\n[remote \"origin\"]\n\turl = {remote}\n"),
        )
        .unwrap();
    }
    let config = w.home().join(".config/flowhook");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("hooks.toml"), hooks_toml).unwrap();
}

impl Machine {
    /// A clone of github.com/acme/shop labelled `label`, in sync mode with `url`, sharing it,
    /// synced by hand only (no live follower: `tests/live.rs` turns it on).
    pub fn new(label: &str, url: &str, skew: Option<&str>) -> Machine {
        let w = World::new();
        clone_with_user_config(
            &w,
            Some(SHOP),
            &format!(
                "[database]\nmode = \"sync\"\nurl = \"{url}\"\n\
                 [sync]\nafter_session_end = false\ninterval_minutes = 0\nlive = false\n\
                 label = \"{label}\"\n\
                 share = [\"github.com/acme/*\"]\n"
            ),
        );
        Machine {
            w,
            label: label.to_owned(),
            skew: skew.map(str::to_owned),
        }
    }

    /// A machine as [`Machine::new`] with the live follower on and the settings `extra`
    /// added to its `[sync]` section.
    pub fn live(label: &str, url: &str, extra: &str) -> Machine {
        let m = Machine::new(label, url, None);
        let file = m.w.home().join(".config/flowhook/hooks.toml");
        let text = std::fs::read_to_string(&file)
            .unwrap()
            .replace("live = false\n", &format!("live = true\n{extra}"));
        std::fs::write(&file, text).unwrap();
        m
    }

    /// A PostToolUse of Edit on `file` (relative to the project) by `session`.
    pub fn edit_of(&self, session: &str, id: &str, file: &str) -> Vec<u8> {
        let mut v: Value = serde_json::from_slice(&edit(
            session,
            id,
            &self.w.project().join(file).to_string_lossy(),
        ))
        .unwrap();
        v["cwd"] = self.w.project().to_string_lossy().into();
        serde_json::to_vec(&v).unwrap()
    }

    /// `flowhook args` on this machine, by its clock.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let c = self.w.cmd(args);
        let Some(skew) = &self.skew else {
            return c;
        };
        assert!(
            Command::new("faketime").arg("--version").output().is_ok(),
            "faketime is not installed: run tools/install-faketime.sh (Debian package faketime)"
        );
        let mut f = Command::new("faketime");
        f.arg("-f")
            .arg(skew)
            .arg(c.get_program())
            .args(c.get_args());
        f.env_clear();
        for (k, v) in c.get_envs() {
            if let Some(v) = v {
                f.env(k, v);
            }
        }
        // Timeouts and the watchdog measure with the monotonic clock: it stays true.
        f.env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
        f.current_dir(c.get_current_dir().unwrap());
        f
    }

    /// A hook call with `stdin`, which must keep the hook contract.
    pub fn hook(&self, stdin: &[u8]) {
        let out = run_with_stdin(self.cmd(&[]), stdin);
        assert_hook_contract(&out, &String::from_utf8_lossy(stdin));
    }

    /// `flowhook memory args`, which must succeed: what it printed.
    pub fn memory(&self, args: &[&str]) -> String {
        let mut all = vec!["memory"];
        all.extend_from_slice(args);
        String::from_utf8_lossy(&succeeded(&mut self.cmd(&all)).stdout)
            .trim()
            .to_owned()
    }

    /// The live value of `key` (namespace default), if any.
    pub fn value(&self, key: &str) -> Option<String> {
        let out = self.cmd(&["memory", "get", key]).output().unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// `flowhook sync args --json`, as it ended.
    pub fn sync(&self, args: &[&str]) -> Output {
        let mut all = vec!["sync", "--json"];
        all.extend_from_slice(args);
        self.cmd(&all).output().unwrap()
    }

    /// A sync that must succeed: its report.
    pub fn synced(&self, args: &[&str]) -> Value {
        let out = self.sync(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            self.label,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// `flowhook sync --status --json`.
    pub fn status(&self) -> Value {
        serde_json::from_slice(&succeeded(&mut self.cmd(&["sync", "--status", "--json"])).stdout)
            .unwrap()
    }

    /// Its id on the team server.
    pub fn id(&self) -> String {
        self.status()["machine"].as_str().unwrap().to_owned()
    }
}

/// The pids of the live followers of `db` running now.
pub fn followers(db: &Path) -> Vec<u32> {
    let db = db.to_string_lossy();
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let state = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // A zombie (`Z`) has ended; its parent, the test, has not reaped it.
        let zombie = state.split(") ").nth(1).is_some_and(|s| s.starts_with('Z'));
        if !zombie && args.iter().any(|a| a == "--follow") && args.iter().any(|a| *a == db) {
            pids.push(pid);
        }
    }
    pids
}

/// Ends the followers of `m` (kill -9).
pub fn stop_followers(m: &Machine) {
    drop(StopFollowers(vec![m.w.db()]));
}

/// Ends the live followers of its machines' databases when dropped (kill -9), whatever the
/// test did: none outlives its test.
pub struct StopFollowers(Vec<PathBuf>);

impl Drop for StopFollowers {
    fn drop(&mut self) {
        for db in &self.0 {
            for pid in followers(db) {
                // SAFETY: kill has no memory preconditions; a pid gone meanwhile gets ESRCH.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            }
        }
    }
}

/// Two machines of the team on one fresh libSQL server, ana@desk and bo@laptop, each with
/// the live follower on ([`Machine::live`], no extra settings), and what ends their
/// followers. `None` where sqld is not installed: the test then checks nothing, as every
/// server test does.
pub fn two_machines() -> Option<(Sqld, Machine, Machine, StopFollowers)> {
    if !server::sqld_available() {
        return None;
    }
    let server = Sqld::start();
    let ana = Machine::live("ana@desk", &server.url(), "");
    let bo = Machine::live("bo@laptop", &server.url(), "");
    let stop = StopFollowers(vec![ana.w.db(), bo.w.db()]);
    Some((server, ana, bo, stop))
}

//! Test harness: the real binary, a fresh temporary home and database per test, and SQL
//! queries against the real libSQL file it wrote.
#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod agents;
pub mod clients;
pub mod mcp;
pub mod recall;
pub mod server;
pub mod team;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_flowhook");

/// The repository root (fixtures/ lives here) and the shared corpus beside it.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn corpus() -> PathBuf {
    repo().join("../shared/corpus")
}

pub fn fixture(name: &str) -> PathBuf {
    repo().join("fixtures").join(name)
}

/// One isolated world: its own HOME (so spool, state and user config are private), a
/// project directory, and a database path.
pub struct World {
    pub dir: tempfile::TempDir,
}

impl World {
    pub fn new() -> World {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        // A marker makes proj the project's root wherever the temp dir is: under a home
        // with `.claude` (a CI runner's), the walk up would otherwise stop there.
        std::fs::create_dir_all(dir.path().join("proj/.claude")).unwrap();
        std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
        World { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.path().join("home")
    }

    pub fn project(&self) -> PathBuf {
        self.path().join("proj")
    }

    pub fn db(&self) -> PathBuf {
        self.path().join("db").join("flowhook.db")
    }

    /// A command for the binary with a clean environment pointing at this world.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("TMPDIR", self.path().join("tmp"))
            .env("FLOWHOOK_DB", self.db())
            .current_dir(self.project());
        c
    }

    /// A command for the binary in this world without `FLOWHOOK_DB`: the database is the
    /// project's default (or what the configuration says).
    pub fn cmd_in_project(&self, args: &[&str]) -> Command {
        let mut c = self.cmd(args);
        c.env_remove("FLOWHOOK_DB");
        c
    }

    /// Runs a hook call with `stdin` piped in and closed, as Claude Code does.
    pub fn hook(&self, args: &[&str], stdin: &[u8]) -> Output {
        run_with_stdin(self.cmd(args), stdin)
    }

    /// The same with more environment variables.
    pub fn hook_env(&self, env: &[(&str, &str)], stdin: &[u8]) -> Output {
        let mut c = self.cmd(&[]);
        for (k, v) in env {
            c.env(k, v);
        }
        run_with_stdin(c, stdin)
    }

    /// The state directory of this world (spool, trust, fallback log).
    pub fn state(&self) -> PathBuf {
        self.home().join(".local/state/flowhook")
    }

    /// The spool's files, by state (`flowhook spool --json`).
    pub fn spool(&self) -> Vec<serde_json::Value> {
        let out = self.cmd(&["spool", "--json"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Feeds every line of a JSONL file to its own hook process; asserts the contract
    /// (exit 0, empty stdout) for each.
    pub fn hook_lines(&self, file: &Path) -> usize {
        let text = std::fs::read_to_string(file).unwrap();
        let mut n = 0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let out = self.hook(&[], line.as_bytes());
            assert_hook_contract(&out, line);
            n += 1;
        }
        n
    }

    /// Starts a hook call with `stdin` written and closed, without waiting for it.
    pub fn spawn_hook(&self, stdin: &[u8]) -> std::process::Child {
        let mut child = self
            .cmd(&[])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn flowhook");
        // The hook may stop reading early (one JSON value): a broken pipe is fine.
        let _ = child.stdin.take().unwrap().write_all(stdin);
        child
    }

    pub fn query(&self, sql: &str) -> Vec<Vec<String>> {
        query(&self.db(), sql)
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.query(sql)[0][0].parse().unwrap()
    }
}

/// Runs `cmd` to its end and asserts it succeeded, showing its stderr when it did not.
pub fn succeeded(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        cmd.get_args().collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn run_with_stdin(mut cmd: Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn flowhook");
    let mut pipe = child.stdin.take().unwrap();
    // The hook may stop reading early (one JSON value): a broken pipe is fine.
    let _ = pipe.write_all(stdin);
    drop(pipe);
    child.wait_with_output().unwrap()
}

/// Hook contract §3: exit 0, and stdout empty or exactly one JSON object; and no panic
/// inside (a caught panic still exits 0, so stderr is checked too).
pub fn assert_hook_contract(out: &Output, input: &str) {
    let shown: String = input.chars().take(200).collect();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("internal error") && !stderr.contains("panicked"),
        "a panic for {shown}: {stderr}"
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "exit code for {shown}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.stdout.is_empty() {
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}) for {shown}"));
        assert!(v.is_object(), "stdout is not an object for {shown}");
    }
}

/// Runs the hook with stdin piped under GNU time: its exit code and peak RSS (KB). Not
/// wait4 from here: a child spawned from this test process (which holds the 50 MB payload)
/// inherits the test's peak RSS in its own rusage.
pub fn run_measured(cmd: &Command, stdin: &[u8]) -> (Option<i32>, i64) {
    let mut timed = Command::new("/usr/bin/time");
    timed
        .env_clear()
        .arg("-f")
        .arg("%M")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    timed.current_dir(cmd.get_current_dir().unwrap_or(std::path::Path::new(".")));
    let out = run_with_stdin(timed, stdin);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let kb = stderr
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(i64::MAX);
    (out.status.code(), kb)
}

/// Rows of a query as text (NULL as "NULL"), read from the real database file.
pub fn query(db: &Path, sql: &str) -> Vec<Vec<String>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = libsql::Builder::new_local(db).build().await.unwrap();
        let conn = db.connect().unwrap();
        let mut rows = conn
            .query(sql, ())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let mut out = Vec::new();
        while let Some(r) = rows.next().await.unwrap() {
            out.push(
                (0..r.column_count())
                    .map(|i| match r.get_value(i).unwrap() {
                        libsql::Value::Null => "NULL".to_owned(),
                        libsql::Value::Integer(v) => v.to_string(),
                        libsql::Value::Real(v) => v.to_string(),
                        libsql::Value::Text(v) => v,
                        libsql::Value::Blob(v) => format!("{v:?}"),
                    })
                    .collect(),
            );
        }
        out
    })
}

/// Runs SQL statements on a database file, as another program would (a foreign database).
pub fn sqlite(db: &Path, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = libsql::Builder::new_local(db).build().await.unwrap();
        db.connect().unwrap().execute_batch(sql).await.unwrap();
    });
}

/// The spool's name for a database's entries (`paths::db_key`): written here from its
/// definition, so that a change of the name the binary uses fails the tests that plant
/// entries under it.
pub fn spool_key(db: &Path) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(db.as_os_str().as_encoded_bytes());
    d[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// A prompt of `session` in directory `cwd`, with its `prompt_id` (Claude Code's, which
/// tells a repeated prompt from the same one sent twice).
pub fn prompt_with_id(session: &str, id: &str, cwd: impl AsRef<Path>, text: &str) -> Vec<u8> {
    serde_json::json!({"session_id": session, "cwd": cwd.as_ref(),
        "hook_event_name": "UserPromptSubmit", "prompt_id": id, "prompt": text})
    .to_string()
    .into_bytes()
}

/// A prompt of `session` in directory `cwd`.
pub fn prompt_in(session: &str, cwd: &Path, text: &str) -> Vec<u8> {
    serde_json::json!({"session_id": session, "cwd": cwd, "hook_event_name": "UserPromptSubmit",
        "prompt": text})
    .to_string()
    .into_bytes()
}

/// The recorded PostToolUse payload of `tool` in the demo session, as a template.
pub fn template(tool: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture("demo-session.jsonl")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["hook_event_name"] == "PostToolUse" && v["tool_name"] == tool)
        .unwrap()
}

/// The recorded Edit payload of the demo session, as a template.
pub fn edit_template() -> serde_json::Value {
    template("Edit")
}

/// That Edit as another session's, with its own tool_use_id and file.
pub fn edit(session: &str, id: &str, file: &str) -> Vec<u8> {
    let mut v = edit_template();
    v["session_id"] = session.into();
    v["tool_use_id"] = id.into();
    v["tool_input"]["file_path"] = file.into();
    serde_json::to_vec(&v).unwrap()
}

/// `rows![["a", "1"], ["b", "2"]]` as owned strings, to compare with `query`.
#[macro_export]
macro_rules! rows {
    ($([$($v:expr),* $(,)?]),* $(,)?) => {
        vec![$(vec![$($v.to_string()),*]),*] as Vec<Vec<String>>
    };
}

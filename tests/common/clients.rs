//! The real coding-agent clients the end-to-end tests drive (tests/real_client.rs,
//! tests/agents_real.rs) and the scripted model servers of tools/record they talk to, on
//! loopback: no network.

use super::repo;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The client at `$var`, else at `installed` below the repository (where `installer` puts
/// it). A missing client fails the test under CI=true and is a loud skip (`None`) elsewhere:
/// a test never passes without running.
pub fn client(var: &str, installed: &str, installer: &str) -> Option<PathBuf> {
    let c = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(installed));
    if !c.exists() {
        let why = format!(
            "no client at {}: run {installer} (or set {var})",
            c.display()
        );
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        eprintln!("SKIPPED: {why}");
        return None;
    }
    // Not canonicalised: a package's bin may link `claude` to `claude.exe`, and PATH must
    // find `claude`.
    Some(std::path::absolute(c).unwrap())
}

/// A scripted model server of tools/record, killed when dropped.
pub struct ModelServer {
    child: Child,
    pub port: u16,
}

impl ModelServer {
    /// `python3 tools/record/<script> <args>`, once it has written its port to `port_file`.
    pub fn start<I, A>(script: &str, args: I, port_file: &Path) -> ModelServer
    where
        I: IntoIterator<Item = A>,
        A: AsRef<OsStr>,
    {
        let child = Command::new("python3")
            .arg(repo().join("tools/record").join(script))
            .args(args)
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 for the model server");
        let started = Instant::now();
        let port = loop {
            if let Some(p) = std::fs::read_to_string(port_file)
                .ok()
                .and_then(|p| p.trim().parse().ok())
            {
                break p;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the model server {script} did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        ModelServer { child, port }
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scripted model server that takes `SCRIPT LOG PORT_FILE` (tools/record's
/// fake_responses.py, fake_gemini.py) playing `turns`, and every request it was sent.
pub struct ScriptedModel {
    pub server: ModelServer,
    requests: PathBuf,
}

impl ScriptedModel {
    pub fn start(server: &str, dir: &Path, turns: serde_json::Value) -> ScriptedModel {
        std::fs::create_dir_all(dir).unwrap();
        let script = dir.join("script.json");
        std::fs::write(&script, turns.to_string()).unwrap();
        let (requests, port_file) = (dir.join("requests.jsonl"), dir.join("port"));
        let server = ModelServer::start(server, [&script, &requests, &port_file], &port_file);
        ScriptedModel { server, requests }
    }

    /// Every request the client sent (`{"path", "body"}` per line), as text.
    pub fn requests(&self) -> String {
        std::fs::read_to_string(&self.requests).unwrap_or_default()
    }
}

/// A client run in the world's project as the tests run each agent: a clean environment with
/// the world's HOME, TMPDIR and database (`FLOWHOOK_DB`, which the hooks inherit), no stdin.
pub fn in_world(w: &super::World, client: &Path) -> Command {
    let mut c = Command::new(client);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", w.home())
        .env("TMPDIR", w.path().join("tmp"))
        .env("FLOWHOOK_DB", w.db())
        .current_dir(w.project())
        .stdin(Stdio::null());
    c
}

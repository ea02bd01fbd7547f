//! The benchmark: hook calls measured as whole processes (spawn, stdin piped, exit), the way
//! Claude Code runs them, at several history sizes, beside reference points measured in the
//! same run. Writes a Markdown table.
//!
//!     cargo bench --bench hook                  # sizes 0, 10k, 100k, 1M; 200 runs each
//!     cargo bench --profile dev --bench hook -- --smoke   # CI: on the test build; gross limits only
//!     cargo bench --bench hook -- --sizes 0,100000 --runs 300 --out bench/results.md
//!     cargo bench --bench hook -- --bin ~/.local/bin/flowhook   # the binary install.sh made
//!     cargo bench --bench hook -- --keep-histories  # reuse target/bench-work/history-N.db
//!
//! Seeding a million rows takes about half an hour here: `--keep-histories` measures on the
//! histories a previous run (or `flowhook bench seed --rows N --long-session 5000`) left.
//!
//! Histories come from `flowhook bench seed` (recorded fixture shapes, 50 sessions over two
//! projects, plus one session of 5,000 events for the session-end case), and from the corpus
//! of real sessions replayed ten times over (large diffs, README.md edited in many sessions).
//! Every run of a post-edit or pre-task carries fresh ids, so each one really writes.

#[path = "../tests/common/mod.rs"]
mod common;

use common::{query, run_measured, template};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Options {
    /// The binary measured: cargo's own build, or `--bin` (install.sh links it statically,
    /// which saves about half a millisecond a call).
    bin: String,
    sizes: Vec<usize>,
    runs: usize,
    smoke: bool,
    out: Option<PathBuf>,
    keep_histories: bool,
}

/// The command line, as `cargo bench --bench hook -- ...` passes it.
#[derive(clap::Parser)]
#[command(about = "Hook calls measured as whole processes (see benches/hook.rs)")]
struct Args {
    /// Small sizes, few runs, gross limits only (CI)
    #[arg(long)]
    smoke: bool,
    /// History sizes, comma-separated [default: 0,10000,100000,1000000; 0,10000 with --smoke]
    #[arg(long, value_delimiter = ',')]
    sizes: Vec<usize>,
    /// Runs per case [default: 200; 30 with --smoke]
    #[arg(long)]
    runs: Option<usize>,
    /// The binary to measure instead of cargo's own build
    #[arg(long)]
    bin: Option<String>,
    /// Where to write the Markdown table
    #[arg(long)]
    out: Option<PathBuf>,
    /// Reuse target/bench-work/history-N.db
    #[arg(long)]
    keep_histories: bool,
    /// Passed by `cargo bench` itself
    #[arg(long, hide = true)]
    bench: bool,
}

fn options() -> Options {
    let a = <Args as clap::Parser>::parse();
    let sizes = match (a.sizes.is_empty(), a.smoke) {
        (false, _) => a.sizes,
        (true, true) => vec![0, 10_000],
        (true, false) => vec![0, 10_000, 100_000, 1_000_000],
    };
    Options {
        bin: a.bin.unwrap_or_else(|| common::BIN.to_owned()),
        sizes,
        runs: a.runs.unwrap_or(if a.smoke { 30 } else { 200 }),
        smoke: a.smoke,
        out: a.out,
        keep_histories: a.keep_histories,
    }
}

/// One measured process: wall time (and its peak RSS, read elsewhere: see `peak_rss`).
struct Sample {
    wall: Duration,
}

/// Spawns `cmd` with `stdin` piped and waits: the wall time of the whole process.
fn run(cmd: &mut Command, stdin: &[u8]) -> Sample {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    {
        let mut pipe = child.stdin.take().expect("piped");
        let _ = pipe.write_all(stdin);
    }
    let status = child.wait().expect("wait");
    let wall = start.elapsed();
    assert!(status.success(), "{cmd:?} failed");
    Sample { wall }
}

#[derive(Clone)]
struct Stats {
    p50: f64,
    p95: f64,
    p99: f64,
    rss_mb: f64,
}

fn stats(samples: &[Sample]) -> Stats {
    let mut ms: Vec<f64> = samples
        .iter()
        .map(|s| s.wall.as_secs_f64() * 1000.0)
        .collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    Stats {
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
        rss_mb: f64::NAN,
    }
}

/// Peak RSS (MB) of five runs under GNU time.
fn peak_rss(cmd: Command, stdin: impl Fn(usize) -> Vec<u8>) -> f64 {
    let peak = (0..5)
        .map(|i| run_measured(&cmd, &stdin(1_000_000 + i)).1)
        .max()
        .unwrap_or(0);
    if peak == i64::MAX {
        return f64::NAN; // no GNU time on this machine
    }
    peak as f64 / 1024.0
}

/// The binary measured (see `Options::bin`).
static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn bin() -> &'static str {
    BIN.get().map_or(common::BIN, String::as_str)
}

fn hook(db: &Path) -> Command {
    let mut c = Command::new(bin());
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", db.parent().unwrap())
        .env("FLOWHOOK_DB", db)
        .current_dir(db.parent().unwrap());
    c
}

fn edit_payload(t: &serde_json::Value, i: usize) -> Vec<u8> {
    let mut v = t.clone();
    v["session_id"] = "bench-edit".into();
    v["cwd"] = "/bench/alpha".into();
    v["tool_use_id"] = format!("toolu_bench_{i}").into();
    v["tool_input"]["file_path"] = format!("/bench/alpha/src/m{}/f{}.rs", i % 40, i % 2000).into();
    serde_json::to_vec(&v).unwrap()
}

/// A Write of about 1 MB: the recorded Write's shape with a 1 MB file in both copies.
fn big_write_payload(t: &serde_json::Value, i: usize) -> Vec<u8> {
    let mut v = t.clone();
    let content: String = (0..18_000)
        .map(|n| format!("line {n:05}: the quick brown fox jumps over the dog\n"))
        .collect();
    v["session_id"] = "bench-write".into();
    v["cwd"] = "/bench/alpha".into();
    v["tool_use_id"] = format!("toolu_bench_w{i}").into();
    v["tool_input"]["content"] = content.clone().into();
    v["tool_response"]["content"] = content.into();
    serde_json::to_vec(&v).unwrap()
}

fn prompt_payload(i: usize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "session_id": format!("bench-prompt-{i}"), "cwd": "/bench/alpha",
        "hook_event_name": "UserPromptSubmit", "prompt_id": format!("bench-p-{i}"),
        "prompt": "The token refresh in src/m3/f1043.rs fails after the orchestrator update"
    }))
    .unwrap()
}

fn session_end_payload() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "session_id": "seed-long", "cwd": "/bench/alpha",
        "hook_event_name": "SessionEnd", "reason": "other"
    }))
    .unwrap()
}

/// The corpus's recorded sessions, in name order.
fn corpus_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(common::corpus())
        .expect("../shared/corpus")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    files
}

/// A history of the corpus's real sessions replayed `times` over, each copy with its own
/// session and tool ids: large diffs, common files (README.md, CLAUDE.md) edited in many
/// sessions. Returns the database and its project.
fn corpus_history(dir: &Path, times: usize) -> PathBuf {
    let copies = dir.join(format!("corpus-x{times}"));
    let _ = std::fs::remove_dir_all(&copies);
    std::fs::create_dir_all(&copies).unwrap();
    let files = corpus_files();
    for k in 0..times {
        for f in &files {
            let mut out = String::new();
            for line in std::fs::read_to_string(f).unwrap().lines() {
                let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
                for field in ["session_id", "tool_use_id", "prompt_id"] {
                    if let Some(id) = v[field].as_str() {
                        v[field] = format!("{id}-{k}").into();
                    }
                }
                out.push_str(&v.to_string());
                out.push('\n');
            }
            let name = f.file_name().unwrap().to_string_lossy();
            std::fs::write(copies.join(format!("{k:02}-{name}")), out).unwrap();
        }
    }
    let db = dir.join(format!("history-corpus-x{times}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let status = Command::new(bin())
        .args(["replay", "--quiet", "--db"])
        .arg(&db)
        .arg(&copies)
        .stdout(Stdio::null())
        .status()
        .expect("replay");
    assert!(status.success(), "replaying the corpus failed");
    db
}

/// A prompt in the corpus's largest project that names two of its often-edited files.
fn corpus_prompt_payload(i: usize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "session_id": format!("bench-corpus-prompt-{i}"),
        "cwd": "/Users/tomkwon/Documents/claude-agentic-framework",
        "hook_event_name": "UserPromptSubmit", "prompt_id": format!("bench-cp-{i}"),
        "prompt": "Update README.md and CLAUDE.md to describe the new caddy orchestrator hooks"
    }))
    .unwrap()
}

fn corpus_edit_payload(t: &serde_json::Value, i: usize) -> Vec<u8> {
    let mut v = t.clone();
    v["session_id"] = "bench-corpus-edit".into();
    v["cwd"] = "/Users/tomkwon/Documents/claude-agentic-framework".into();
    v["tool_use_id"] = format!("toolu_bench_c{i}").into();
    v["tool_input"]["file_path"] =
        "/Users/tomkwon/Documents/claude-agentic-framework/README.md".into();
    serde_json::to_vec(&v).unwrap()
}

/// The edit each other agent's recorded session (fixtures/agents) sends after a tool ran.
fn agent_edits() -> Vec<(&'static str, serde_json::Value)> {
    [
        ("codex", "codex-0.171.0.jsonl"),
        ("gemini", "gemini-0.61.0.jsonl"),
        ("cursor", "cursor-docs.jsonl"),
        ("copilot", "copilot-1.0.102.jsonl"),
    ]
    .into_iter()
    .map(|(agent, name)| {
        let text = std::fs::read_to_string(common::fixture(&format!("agents/{name}"))).unwrap();
        let edit = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| {
                matches!(
                    v["hook_event_name"].as_str(),
                    Some("PostToolUse" | "AfterTool")
                ) && v["tool_name"] != "read_file"
                    || v["hook_event_name"] == "afterFileEdit"
                    || v["toolResult"].is_object() && v["toolName"] == "edit"
            })
            .unwrap_or_else(|| panic!("no edit in {name}"));
        (agent, edit)
    })
    .collect()
}

/// The tool of an agent's edit payload, as the benchmark's row names it.
fn edit_tool(v: &serde_json::Value) -> &str {
    v["tool_name"]
        .as_str()
        .or(v["toolName"].as_str())
        .unwrap_or("afterFileEdit")
}

/// The `i`th call of an agent's edit: a session of its own, in the corpus's project (where the
/// fixture was recorded: `/tmp/cx/proj`, `/work/proj` or `/home/dev/proj`).
fn agent_edit(t: &serde_json::Value, i: usize) -> Vec<u8> {
    let project = "/Users/tomkwon/Documents/claude-agentic-framework";
    let text = t
        .to_string()
        .replace("/tmp/cx/proj", project)
        .replace("/work/proj", project)
        .replace("/home/dev/proj", project);
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in ["session_id", "conversation_id", "sessionId"] {
        if v.get(key).is_some() {
            v[key] = format!("bench-agent-{i}").into();
        }
    }
    serde_json::to_vec(&v).unwrap()
}

fn seed(db: &Path, rows: usize) {
    seed_as(db, rows, 5000, None, None);
}

/// `home`: the HOME the seed runs with; a database is this machine's (its rows pushed by a
/// sync) only for the state directory it was first opened with.
fn seed_as(
    db: &Path,
    rows: usize,
    long_session: usize,
    project: Option<&str>,
    home: Option<&Path>,
) {
    let mut c = Command::new(bin());
    c.args([
        "bench",
        "seed",
        "--rows",
        &rows.to_string(),
        "--long-session",
        &long_session.to_string(),
        "--db",
    ])
    .arg(db)
    .arg("--from")
    .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"))
    .stderr(Stdio::null());
    if let Some(p) = project {
        c.args(["--project", p]);
    }
    if let Some(h) = home {
        c.env("HOME", h);
    }
    assert!(c.status().expect("seed").success(), "seeding failed");
}

fn measure(runs: usize, mut one: impl FnMut(usize) -> Sample) -> Stats {
    for i in 0..runs.min(10) {
        one(usize::MAX - i); // warm-up, not counted
    }
    let samples: Vec<Sample> = (0..runs).map(&mut one).collect();
    stats(&samples)
}

/// Team memory over loopback with a real sqld: seconds to push `rows` rows (and the sessions
/// they belong to) from one machine, and to pull them into another's empty database; and the
/// rows that arrived. `None` without sqld (tools/install-sqld.sh).
/// `encrypt`: with `[sync] encrypt = true` and a team key (each run has a server of its own).
fn sync_bench(dir: &Path, rows: usize, encrypt: bool) -> Option<(f64, f64, i64)> {
    if !common::server::sqld_available() {
        eprintln!("bench: no sqld (tools/install-sqld.sh): team memory not measured");
        return None;
    }
    let dir = &dir.join(if encrypt { "sync-sealed" } else { "sync-plain" });
    std::fs::create_dir_all(dir).unwrap();
    let server = common::server::Sqld::start();
    let config = dir.join("sync.toml");
    std::fs::write(
        &config,
        format!(
            // Sync mode says where; which projects go is the user's choice (`share`).
            "[database]\nmode = \"sync\"\nurl = \"{}\"\n[sync]\ninterval_minutes = 0\n\
             share = [\"github.com/acme/bench\"]\nencrypt = {encrypt}\n",
            server.url()
        ),
    )
    .unwrap();
    let (a, b) = (dir.join("sync-a.db"), dir.join("sync-b.db"));
    for db in [&a, &b] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    }
    seed_as(&a, rows, 0, Some("github.com/acme/bench"), Some(dir));
    // Both syncs run in a clone of that project: a database takes in the rows of the
    // projects shared from where it is used.
    let clone = dir.join("bench-clone");
    std::fs::create_dir_all(clone.join(".git")).unwrap();
    std::fs::write(
        clone.join(".git/config"),
        "[remote \"origin\"]\n\turl = https://github.com/acme/bench.git\n",
    )
    .unwrap();
    let timed = |db: &Path, way: &str| {
        let started = Instant::now();
        let status = Command::new(bin())
            .current_dir(&clone)
            .args(["sync", way, "--db"])
            .arg(db)
            .env("FLOWHOOK_CONFIG", &config)
            .env("FLOWHOOK_TEAM_KEY", "5e".repeat(32))
            .env("HOME", dir)
            .stdout(Stdio::null())
            .status()
            .expect("sync");
        assert!(status.success(), "sync {way} failed");
        started.elapsed().as_secs_f64()
    };
    let push = timed(&a, "--push");
    let pull = timed(&b, "--pull");
    let arrived = query(
        &b,
        "SELECT (SELECT count(*) FROM task_log) + (SELECT count(*) FROM edit_history)",
    )[0][0]
        .parse()
        .unwrap_or(0);
    Some((push, pull, arrived))
}

/// Live team memory, measured as a teammate sees it.
struct Live {
    /// Seconds from a post-edit on machine A returning to its row in B's local database.
    fresh_p50: f64,
    fresh_p95: f64,
    edits: usize,
    /// Requests a minute of B's follower while its session is idle.
    idle_per_minute: f64,
    /// Post-edit p50 (ms) on A, live, and in local mode interleaved with it.
    live_p50: f64,
    local_p50: f64,
}

/// Two machines on one sqld over loopback, both followers running (B's through a proxy that
/// counts its requests): `edits` post-edits on A, each after a pause of up to `pause_ms`
/// (a fixed sequence: some find B's follower looking every second, some at its idle pace),
/// each timed until B has the row; then B idle for `idle_secs`. `None` without sqld.
fn live_bench(edits: usize, pause_ms: u64, idle_secs: u64) -> Option<Live> {
    use common::team::Machine;
    if !common::server::sqld_available() {
        return None;
    }
    let server = common::server::Sqld::start();
    let proxy = common::server::Proxy::new(server.port, "never matches", 0);
    let a = Machine::live("ana@desk", &server.url(), "");
    let b = Machine::live("bo@laptop", &proxy.url(), "");
    let local = common::World::new();
    let call = |c: Command, stdin: &[u8]| run(&mut { c }, stdin);
    call(
        b.cmd(&[]),
        &common::prompt_in("sb", &b.w.project(), "Review"),
    );
    call(
        a.cmd(&[]),
        &common::prompt_in("sa", &a.w.project(), "Write"),
    );
    let (mut fresh, mut live, mut here) = (Vec::new(), Vec::new(), Vec::new());
    let mut seed: u64 = 23;
    for i in 0..edits {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(Duration::from_millis((seed >> 33) % pause_ms.max(1)));
        let path = local.project().join(format!("l{i}.py"));
        here.push(call(
            local.cmd(&[]),
            &common::edit("sl", &format!("l{i}"), &path.to_string_lossy()),
        ));
        let file = format!("src/h{i}.py");
        live.push(call(a.cmd(&[]), &a.edit_of("sa", &format!("t{i}"), &file)));
        let returned = Instant::now();
        let sql = format!(
            "SELECT count(*) FROM edit_history WHERE origin IS NOT NULL AND rel_path = '{file}'"
        );
        while query(&b.w.db(), &sql)[0][0] != "1" {
            assert!(
                returned.elapsed() < Duration::from_secs(60),
                "live: edit {i} never reached the other machine"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        fresh.push(Sample {
            wall: returned.elapsed(),
        });
    }
    // B's session stays active without hook calls: its follower settles to its idle pace.
    std::thread::sleep(Duration::from_secs(8));
    let counted = || proxy.requests.load(std::sync::atomic::Ordering::SeqCst);
    let before = counted();
    std::thread::sleep(Duration::from_secs(idle_secs));
    let idle = counted() - before;
    for m in [&a, &b] {
        // The followers end with their databases (sync/live.rs), which the worlds remove.
        let _ = std::fs::remove_file(m.w.db());
    }
    let fresh = stats(&fresh);
    Some(Live {
        fresh_p50: fresh.p50 / 1000.0,
        fresh_p95: fresh.p95 / 1000.0,
        edits,
        idle_per_minute: idle as f64 * 60.0 / idle_secs as f64,
        live_p50: stats(&live).p50,
        local_p50: stats(&here).p50,
    })
}

/// `flowhook mcp` on a history: ms from spawn to the answer to `initialize`, and the p50 of
/// `search_memory` round trips (each a different query).
fn mcp_bench(db: &Path, runs: usize) -> (f64, f64) {
    use std::io::{BufRead, BufReader};
    let started = Instant::now();
    // The seeded history is under made-up project paths, not the bench's working directory.
    let mut child = Command::new(bin())
        .args(["mcp", "--any-project", "--db"])
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("flowhook mcp");
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    fn ask(stdin: &mut impl Write, out: &mut impl BufRead, line: String) {
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let mut answer = String::new();
        out.read_line(&mut answer).unwrap();
        assert!(answer.contains("\"result\""), "mcp: {answer}");
    }
    ask(
        &mut stdin,
        &mut out,
        serde_json::json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "bench", "version": "1"}}})
        .to_string(),
    );
    let first = started.elapsed().as_secs_f64() * 1000.0;
    writeln!(
        stdin,
        "{}",
        serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
    )
    .unwrap();
    let topics = [
        "parser error handling",
        "login redirect bug",
        "README install section",
        "database migration",
        "flaky test timeout",
    ];
    let samples: Vec<Sample> = (0..runs + 5)
        .map(|i| {
            let t = Instant::now();
            ask(&mut stdin, &mut out, serde_json::json!({"jsonrpc": "2.0", "id": i + 1, "method": "tools/call",
                "params": {"name": "search_memory", "arguments": {
                    "query": format!("{} {i}", topics[i % topics.len()]), "project": "/bench/alpha"}}})
            .to_string());
            Sample { wall: t.elapsed() }
        })
        .skip(5)
        .collect();
    drop(stdin);
    let _ = child.wait();
    (first, stats(&samples).p50)
}

/// `flowhook ui` on a history: ms from spawn to its address printed, and each page's p95
/// server time (its Server-Timing header) over `runs` requests.
fn ui_bench(db: &Path, runs: usize) -> (f64, Vec<(&'static str, f64)>) {
    use std::io::{BufRead, BufReader, Read};
    let started = Instant::now();
    let mut child = Command::new(bin())
        .args(["ui", "--no-open", "--port", "0", "--db"])
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("flowhook ui");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let first = started.elapsed().as_secs_f64() * 1000.0;
    let url = line
        .trim()
        .trim_start_matches("flowhook ui: http://127.0.0.1:");
    let (port, rest) = url.split_once('/').expect("an address");
    let cookie = format!(
        "flowhook_ui_{port}={}",
        rest.split_once("token=").unwrap().1
    );
    let get = |path: &str| -> (String, f64) {
        let mut s = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(
            out.starts_with("HTTP/1.1 200"),
            "ui {path}: {}",
            &out[..out.len().min(300)]
        );
        let ms = out
            .lines()
            .find_map(|l| l.strip_prefix("server-timing: app;dur="))
            .and_then(|v| v.trim().parse().ok())
            .expect("server-timing");
        (out.split_once("\r\n\r\n").unwrap().1.to_owned(), ms)
    };
    let json = |path: &str| -> serde_json::Value { serde_json::from_str(&get(path).0).unwrap() };
    let project = "%2Fbench%2Falpha";
    let sessions = json(&format!("/api/sessions?project={project}&sort=edits"));
    let longest = sessions["sessions"][0]["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let typical = sessions["sessions"][25]["session_id"]
        .as_str()
        .unwrap_or(&longest)
        .to_owned();
    let overview = json(&format!("/api/overview?project={project}"));
    let file = overview["top_files"][0]["file"]
        .as_str()
        .unwrap_or("README.md")
        .to_owned();
    let enc = |v: &str| v.replace('/', "%2F");
    let pages: Vec<(&'static str, String)> = vec![
        ("projects", "/".into()),
        ("overview", format!("/overview?project={project}")),
        ("sessions", format!("/sessions?project={project}")),
        (
            "sessions, text filter",
            format!("/sessions?q=parser+error&project={project}"),
        ),
        (
            "sessions, sorted, page 20",
            "/sessions?sort=lines_added&page=20".into(),
        ),
        ("a session", format!("/session?id={}", enc(&typical))),
        (
            "the longest session",
            format!("/session?id={}", enc(&longest)),
        ),
        (
            "why (explain)",
            format!("/explain?id={}&n=0", enc(&typical)),
        ),
        (
            "a file",
            format!("/file?project={project}&path={}", enc(&file)),
        ),
        ("agent memory", format!("/memory?project={project}")),
        ("team", "/team".into()),
        ("search", "/search?q=login+redirect".into()),
    ];
    let timed = pages
        .into_iter()
        .map(|(name, path)| {
            let mut ms: Vec<f64> = (0..runs + 2).map(|_| get(&path).1).skip(2).collect();
            ms.sort_by(f64::total_cmp);
            (name, ms[(ms.len() * 95 / 100).min(ms.len() - 1)])
        })
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    (first, timed)
}

/// 16 writers at once, 200 post-edits each (fewer in smoke mode): events per second, and rows
/// lost (must be 0).
fn concurrency(dir: &Path, per_writer: usize, template: &serde_json::Value) -> (f64, i64) {
    let db = dir.join("concurrent.db");
    let _ = std::fs::remove_file(&db);
    let writers = 16;
    let start = Instant::now();
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let db = db.clone();
            let t = template.clone();
            std::thread::spawn(move || {
                for i in 0..per_writer {
                    let payload = edit_payload(&t, w * 100_000 + i);
                    run(&mut hook(&db), &payload);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("writer");
    }
    let secs = start.elapsed().as_secs_f64();
    let stored: i64 = query(&db, "SELECT count(*) FROM edit_history")[0][0]
        .parse()
        .unwrap();
    let expected = (writers * per_writer) as f64;
    (expected / secs, expected as i64 - stored)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!("{cores} cores, {cpu}")
}

/// How the measured binary is linked: a dynamic ELF file has a `PT_INTERP` program header
/// (its loader); elsewhere, assume dynamic.
fn linkage(bin: &str) -> &'static str {
    let elf = std::fs::read(bin).unwrap_or_default();
    let at = |o: usize, n: usize| {
        elf.get(o..o + n)
            .map(|b| b.iter().rev().fold(0usize, |a, x| a << 8 | *x as usize))
    };
    let interp = match (
        elf.starts_with(b"\x7fELF\x02\x01"),
        at(0x20, 8),
        at(0x36, 2),
        at(0x38, 2),
    ) {
        (true, Some(off), Some(size), Some(count)) => {
            (0..count).any(|i| at(off + i * size, 4) == Some(3))
        }
        _ => true,
    };
    if interp {
        "dynamically linked"
    } else {
        "statically linked"
    }
}

/// Redaction in process, in µs per KB: of ordinary text (the corpus's prompts, written
/// files and diffs) and of secret-dense text (tests/data/secrets.tsv over and over), and the
/// one-time cost a hook call pays at its first text (the keyword index, and the regexes
/// of the rules whose keywords that text holds).
struct RedactionCost {
    ordinary: f64,
    dense: f64,
    setup_us: f64,
    ordinary_kb: usize,
}

fn redaction_cost(smoke: bool) -> RedactionCost {
    let mut ordinary = String::new();
    let limit = if smoke { 128 } else { 1024 } * 1024;
    let files = corpus_files();
    'files: for f in &files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let input = &v["tool_input"];
            let lines = v["tool_response"]["structuredPatch"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|h| h["lines"].as_array().into_iter().flatten());
            for text in [&v["prompt"], &input["content"], &input["new_string"]]
                .into_iter()
                .chain(lines)
                .filter_map(|t| t.as_str())
            {
                ordinary.push_str(text);
                ordinary.push('\n');
                if ordinary.len() >= limit {
                    break 'files;
                }
            }
        }
    }
    let secrets = std::fs::read_to_string(common::repo().join("tests/data/secrets.tsv")).unwrap();
    let one: String = secrets
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .map(|(text, _)| format!("{text}\n"))
        .collect();
    let dense = one.repeat(64 * 1024 / one.len() + 1);
    // The first call pays the setup; the same text again does not.
    let cut = (0..=16 * 1024)
        .rev()
        .find(|i| ordinary.is_char_boundary(*i))
        .unwrap_or(0);
    let head = &ordinary[..cut];
    let first = Instant::now();
    std::hint::black_box(flowhook::redact(head));
    let first = first.elapsed();
    let again = Instant::now();
    std::hint::black_box(flowhook::redact(head));
    let setup_us = first.saturating_sub(again.elapsed()).as_secs_f64() * 1e6;
    let rounds = if smoke { 3 } else { 20 };
    let per_kb = |text: &str| {
        let started = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(flowhook::redact(std::hint::black_box(text)));
        }
        started.elapsed().as_secs_f64() * 1e6 / rounds as f64 / (text.len() as f64 / 1024.0)
    };
    RedactionCost {
        ordinary: per_kb(&ordinary),
        dense: per_kb(&dense),
        setup_us,
        ordinary_kb: ordinary.len() / 1024,
    }
}

fn main() {
    let o = options();
    BIN.set(o.bin.clone()).expect("set once");
    // First, in a process that has redacted nothing yet.
    let redaction = redaction_cost(o.smoke);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-work");
    std::fs::create_dir_all(&dir).unwrap();
    let (edit_t, write_t) = (template("Edit"), template("Write"));
    let mut table = String::new();
    let mut failures = Vec::new();

    // Reference points, in this same run.
    let edit = edit_payload(&edit_t, 0);
    let mut truth = measure(o.runs, |_| run(&mut Command::new("/bin/true"), &edit));
    truth.rss_mb = peak_rss(Command::new("/bin/true"), |_| Vec::new());
    let wal = dir.join("reference.db");
    let _ = std::fs::remove_file(&wal);
    let sqlite = Command::new("sqlite3")
        .arg(&wal)
        .arg("PRAGMA journal_mode=WAL; CREATE TABLE t (x TEXT)")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        .then(|| {
            let insert = || {
                let mut c = Command::new("sqlite3");
                c.arg(&wal).arg("INSERT INTO t VALUES ('x')");
                c
            };
            let mut s = measure(o.runs, |_| run(&mut insert(), b""));
            s.rss_mb = peak_rss(insert(), |_| Vec::new());
            s
        });

    let _ = writeln_table_header(&mut table);
    let row = |table: &mut String, what: &str, size: &str, s: &Stats| {
        let vs_sqlite = sqlite
            .as_ref()
            .map_or("-".to_owned(), |q| format!("{:.2}×", s.p50 / q.p50));
        // Not measured (no GNU time, or a row timed for its latency only): a dash.
        let rss = if s.rss_mb.is_nan() {
            "-".to_owned()
        } else {
            format!("{:.1}", s.rss_mb)
        };
        table.push_str(&format!(
            "| {what} | {size} | {:.2} | {:.2} | {:.2} | {rss} | {:.2}× | {vs_sqlite} |\n",
            s.p50,
            s.p95,
            s.p99,
            s.p50 / truth.p50
        ));
    };
    row(&mut table, "`/bin/true` (reference)", "-", &truth);
    if let Some(s) = &sqlite {
        row(&mut table, "`sqlite3` one insert, WAL (reference)", "-", s);
    }

    let mut by_size: Vec<(usize, [Stats; 4])> = Vec::new();
    for &size in &o.sizes {
        let db = dir.join(format!("history-{size}.db"));
        if o.keep_histories && db.exists() {
            eprintln!("bench: reusing {}", db.display());
        } else {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
            eprintln!("bench: seeding {size} rows (+ a 5,000-event session)...");
            seed(&db, size);
        }
        let label = if size >= 1_000_000 {
            format!("{}M", size / 1_000_000)
        } else if size >= 1000 {
            format!("{}k", size / 1000)
        } else {
            size.to_string()
        };
        eprintln!("bench: measuring at {label} rows...");
        let mut s = [
            measure(o.runs, |i| run(&mut hook(&db), &edit_payload(&edit_t, i))),
            measure(o.runs.min(100), |i| {
                run(&mut hook(&db), &big_write_payload(&write_t, i))
            }),
            measure(o.runs, |i| run(&mut hook(&db), &prompt_payload(i))),
            measure(o.runs.min(100), |_| {
                run(&mut hook(&db), &session_end_payload())
            }),
        ];
        s[0].rss_mb = peak_rss(hook(&db), |i| edit_payload(&edit_t, i));
        s[1].rss_mb = peak_rss(hook(&db), |i| big_write_payload(&write_t, i));
        s[2].rss_mb = peak_rss(hook(&db), prompt_payload);
        s[3].rss_mb = peak_rss(hook(&db), |_| session_end_payload());
        row(&mut table, "post-edit (Edit)", &label, &s[0]);
        row(&mut table, "post-edit (1 MB Write)", &label, &s[1]);
        row(&mut table, "pre-task with context", &label, &s[2]);
        row(
            &mut table,
            "session-end, 5,000-event session",
            &label,
            &s[3],
        );
        by_size.push((size, s));
    }

    // Real sessions, ten times over.
    eprintln!("bench: replaying the corpus ten times over...");
    let db = corpus_history(&dir, 10);
    let edits = query(&db, "SELECT count(*) FROM edit_history")[0][0].clone();
    let label = format!("corpus ×10 ({edits} edits)");
    let mut corpus = [
        measure(o.runs, |i| {
            run(&mut hook(&db), &corpus_edit_payload(&edit_t, i))
        }),
        measure(o.runs, |i| run(&mut hook(&db), &corpus_prompt_payload(i))),
    ];
    corpus[0].rss_mb = peak_rss(hook(&db), |i| corpus_edit_payload(&edit_t, i));
    corpus[1].rss_mb = peak_rss(hook(&db), corpus_prompt_payload);
    row(&mut table, "post-edit (Edit)", &label, &corpus[0]);
    row(&mut table, "pre-task naming two files", &label, &corpus[1]);

    // The same post-edits in sync mode, interleaved with local ones: a hook call in sync mode
    // writes the local file exactly as in local mode (the server here is a closed port).
    let sync_mode = dir.join("sync-mode.toml");
    std::fs::write(
        &sync_mode,
        "[database]\nmode = \"sync\"\nurl = \"http://127.0.0.1:9\"\n",
    )
    .unwrap();
    // Both read a configuration file, so that only the mode differs.
    let local_mode = dir.join("local-mode.toml");
    std::fs::write(&local_mode, "[database]\nmode = \"local\"\n").unwrap();
    let (mut local, mut synced) = (Vec::new(), Vec::new());
    for i in 0..o.runs + 10 {
        let mut c = hook(&db);
        c.env("FLOWHOOK_CONFIG", &local_mode);
        let a = run(&mut c, &corpus_edit_payload(&edit_t, 2_000_000 + i));
        let mut c = hook(&db);
        c.env("FLOWHOOK_CONFIG", &sync_mode);
        let b = run(&mut c, &corpus_edit_payload(&edit_t, 3_000_000 + i));
        if i >= 10 {
            local.push(a);
            synced.push(b);
        }
    }
    let (local, synced) = (stats(&local), stats(&synced));
    row(&mut table, "post-edit (Edit), local mode", &label, &local);
    row(&mut table, "post-edit (Edit), sync mode", &label, &synced);
    let sync_overhead = synced.p50 / local.p50 - 1.0;

    // Each agent's own post-edit, recorded from its real client (Cursor's from its reference)
    // and run as its installer wires it (`hook --agent X`), interleaved with Claude Code's on
    // the same history.
    let agents = agent_edits();
    let mut per_agent: Vec<Vec<Sample>> = (0..=agents.len()).map(|_| Vec::new()).collect();
    for i in 0..o.runs + 10 {
        let mut these = vec![run(
            &mut hook(&db),
            &corpus_edit_payload(&edit_t, 4_000_000 + i),
        )];
        for (agent, payload) in &agents {
            let mut c = hook(&db);
            c.args(["hook", "--agent", agent]);
            these.push(run(&mut c, &agent_edit(payload, i)));
        }
        if i >= 10 {
            for (k, sample) in these.into_iter().enumerate() {
                per_agent[k].push(sample);
            }
        }
    }
    let per_agent: Vec<(String, Stats)> = std::iter::once("Claude Code Edit".to_owned())
        .chain(agents.iter().map(|(a, p)| format!("{a} {}", edit_tool(p))))
        .zip(per_agent.iter().map(|s| stats(s)))
        .collect();
    for (what, s) in &per_agent {
        row(&mut table, &format!("post-edit ({what})"), &label, s);
    }

    let per_writer = if o.smoke { 20 } else { 200 };
    let (rate, lost) = concurrency(&dir, per_writer, &edit_t);
    let team = [false, true].map(|encrypt| (encrypt, sync_bench(&dir, 10_000, encrypt)));
    // Smoke: 20 edits a second or less apart and 15 s idle (about 40 s in all).
    let live = if o.smoke {
        live_bench(20, 1000, 15)
    } else {
        live_bench(50, 4000, 60)
    };
    // The MCP server on the largest history up to 100k rows.
    let mcp_size = o
        .sizes
        .iter()
        .copied()
        .filter(|n| *n <= 100_000)
        .max()
        .unwrap_or(0);
    let (mcp_first, mcp_search) =
        mcp_bench(&dir.join(format!("history-{mcp_size}.db")), o.runs.min(100));
    let (ui_first, ui_pages) = ui_bench(
        &dir.join(format!("history-{mcp_size}.db")),
        if o.smoke { 5 } else { 50 },
    );
    let mut report = format!(
        "Machine: {}. {} binary ({}), {} runs per row (100 for the 1 MB Write and \
         session-end), whole processes with stdin piped. Times in ms; RSS is the peak of 5 runs \
         under GNU time.\n\n{table}\n\
         Concurrency: 16 writers × {per_writer} post-edits at once: {rate:.0} events/s, {lost} rows lost.\n",
        machine(),
        // CI's smoke runs on the test build (`--profile dev`): say so, so its numbers are never
        // quoted as the release's.
        if cfg!(debug_assertions) {
            "Test (dev profile)"
        } else {
            "Release"
        },
        linkage(&o.bin),
        o.runs
    );
    report.push_str(&format!(
        "Hook latency in sync mode (p50, interleaved with local mode): {:+.1} %.\n",
        sync_overhead * 100.0
    ));
    report.push_str(&format!(
        "Redaction, in process: {:.1} µs per KB of ordinary text ({} KB of the corpus's \
         prompts, files and diffs), {:.1} µs per KB of secret-dense text; {:.0} µs once per \
         process (the keyword index and the regexes its first text needs).\n",
        redaction.ordinary, redaction.ordinary_kb, redaction.dense, redaction.setup_us
    ));
    report.push_str(&format!(
        "MCP server at {mcp_size} rows: start to first answer {mcp_first:.1} ms; search_memory \
         p50 {mcp_search:.1} ms.\n"
    ));
    report.push_str(&format!(
        "Web viewer (`flowhook ui`) at {mcp_size} rows: address printed {ui_first:.1} ms after \
         spawn; p95 server time per page (ms): {}.\n",
        ui_pages
            .iter()
            .map(|(n, ms)| format!("{n} {ms:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    for (encrypt, (push, pull, arrived)) in team.iter().filter_map(|(e, t)| Some((e, (*t)?))) {
        report.push_str(&format!(
            "Team memory, sqld on loopback, encryption {}: 10,000 rows pushed in {push:.2} s, \
             pulled into an empty database in {pull:.2} s ({arrived} rows arrived).\n",
            if *encrypt { "on" } else { "off" }
        ));
    }
    if let Some(l) = &live {
        report.push_str(&format!(
            "Live team memory, sqld on loopback, followers running: a post-edit on machine A \
             is in B's local database after {:.2} s p50, {:.2} s p95 ({} edits); an idle \
             session's follower makes {:.1} requests a minute; post-edit p50 {:.1} ms live, \
             {:.1} ms in local mode ({:+.1} %).\n",
            l.fresh_p50,
            l.fresh_p95,
            l.edits,
            l.idle_per_minute,
            l.live_p50,
            l.local_p50,
            (l.live_p50 / l.local_p50 - 1.0) * 100.0
        ));
    }
    if let (Some((_, small)), Some((_, large))) = (
        by_size.iter().find(|(n, _)| *n == 10_000),
        by_size.iter().find(|(n, _)| *n == 1_000_000),
    ) {
        let names = [
            "post-edit (Edit)",
            "post-edit (1 MB Write)",
            "pre-task",
            "session-end",
        ];
        let ratios: Vec<String> = (0..4)
            .map(|i| format!("{} {:.2}×", names[i], large[i].p50 / small[i].p50))
            .collect();
        report.push_str(&format!(
            "Latency at 1M rows over 10k rows (p50): {}.\n",
            ratios.join(", ")
        ));
    }
    print!("{report}");
    if let Some(out) = &o.out {
        std::fs::write(out, &report).expect("--out");
    }

    // Gross regressions only: a noisy machine must not fail CI, a broken hot path must.
    let mut checks = 1;
    for (what, s) in &per_agent {
        checks += 1;
        if s.p50 > 50.0 {
            failures.push(format!(
                "post-edit ({what}) p50 {:.2} ms (limit 50 ms)",
                s.p50
            ));
        }
    }
    if lost > 0 {
        failures.push(format!("{lost} rows lost under concurrency"));
    }
    for (encrypt, (push, pull, arrived)) in team.iter().filter_map(|(e, t)| Some((e, (*t)?))) {
        checks += 1;
        let limit = if o.smoke { 10.0 } else { 2.0 };
        if push > limit || pull > limit || arrived != 10_000 {
            failures.push(format!(
                "team memory (encryption {}): push {push:.2} s, pull {pull:.2} s of 10,000 \
                 rows (limit {limit} s), {arrived} arrived",
                if *encrypt { "on" } else { "off" }
            ));
        }
    }
    if let Some(l) = &live {
        checks += 1;
        // The bar is 5 s at p95 and 12 requests a minute; smoke's limits are gross.
        let limit = if o.smoke { 10.0 } else { 5.0 };
        // A window of `idle_secs` may catch one look more than its share at its edges.
        let idle_limit = 12.0 + if o.smoke { 4.0 } else { 1.0 };
        if l.fresh_p95 > limit || l.idle_per_minute > idle_limit {
            failures.push(format!(
                "live team memory: freshness p95 {:.2} s (limit {limit} s), {:.1} idle \
                 requests a minute (limit {idle_limit})",
                l.fresh_p95, l.idle_per_minute
            ));
        }
    }
    checks += 1;
    let (first_limit, search_limit) = if o.smoke {
        (250.0, 100.0)
    } else {
        (50.0, 20.0)
    };
    if mcp_first > first_limit || mcp_search > search_limit {
        failures.push(format!(
            "MCP: first answer {mcp_first:.1} ms (limit {first_limit}), search_memory p50 \
             {mcp_search:.1} ms (limit {search_limit})"
        ));
    }
    checks += 1;
    let page_limit = if o.smoke { 500.0 } else { 100.0 };
    if let Some((name, ms)) = ui_pages.iter().find(|(_, ms)| *ms > page_limit) {
        failures.push(format!(
            "ui: {name} served in {ms:.1} ms p95 (limit {page_limit})"
        ));
    }
    checks += 1;
    if redaction.ordinary > 200.0 || redaction.dense > 2000.0 {
        failures.push(format!(
            "redaction: {:.1} µs/KB ordinary (limit 200), {:.1} µs/KB secret-dense (limit 2000)",
            redaction.ordinary, redaction.dense
        ));
    }
    if o.smoke {
        checks += 1;
        if corpus[1].p50 > 100.0 {
            failures.push(format!(
                "pre-task p50 {:.1} ms on the corpus history exceeds 100 ms",
                corpus[1].p50
            ));
        }
    }
    for (size, s) in by_size.iter().filter(|_| o.smoke) {
        for (what, stat, limit) in [
            ("post-edit", &s[0], 50.0),
            ("pre-task", &s[2], 100.0),
            ("session-end", &s[3], 250.0),
        ] {
            checks += 1;
            if stat.p50 > limit {
                failures.push(format!(
                    "{what} p50 {:.1} ms at {size} rows exceeds {limit} ms",
                    stat.p50
                ));
            }
        }
    }
    for f in &failures {
        eprintln!("bench: FAILED: {f}");
    }
    println!(
        "bench: {} passed, {} failed",
        checks - failures.len(),
        failures.len()
    );
    if !failures.is_empty() {
        std::process::exit(1);
    }
}

fn writeln_table_header(table: &mut String) -> std::fmt::Result {
    use std::fmt::Write;
    writeln!(
        table,
        "| hook call | history rows | p50 | p95 | p99 | peak RSS (MB) | p50 / `true` | p50 / `sqlite3` |"
    )?;
    writeln!(table, "|---|---|---|---|---|---|---|---|")
}

//! `flowhook doctor`: the whole set-up checked, each problem with what to do about it. It
//! reads what the hook would read (the resolver, the database, the settings files Claude
//! Code reads) and changes nothing but a database's schema, which opening brings up to date.

use super::{say_part, tell};
use crate::cli::DoctorArgs;
use crate::config::Mode;
use crate::install::check::{self, Finding, Level, Machine, Source};
use crate::install::file::Place;
use crate::project::IdKind;
use crate::store::Store;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What doctor found: printed as text, or as JSON with `--json`.
#[derive(Serialize)]
struct Report {
    binary: Binary,
    client: Option<String>,
    project: ProjectInfo,
    config: ConfigInfo,
    database: Database,
    hooks: Vec<String>,
    /// Other agents' hook files that run flowhook (feature `agents`).
    agents: Vec<String>,
    spooled: usize,
    recent_log: Vec<String>,
    sync: SyncInfo,
    problems: Vec<Finding>,
}

#[derive(Serialize)]
struct Binary {
    path: PathBuf,
    version: &'static str,
}

#[derive(Serialize)]
struct ProjectInfo {
    id: String,
    root: PathBuf,
}

#[derive(Serialize)]
struct ConfigInfo {
    files: Vec<PathBuf>,
    /// An untrusted project file's keys that were ignored.
    ignored: Vec<String>,
}

#[derive(Serialize)]
struct Database {
    path: PathBuf,
    mode: Mode,
    exists: bool,
    size_bytes: Option<u64>,
    schema_version: Option<i64>,
    /// Rows per recorded table; `None` when the file could not be read.
    rows: Option<BTreeMap<&'static str, i64>>,
}

/// The team server and the current project, in every mode.
#[derive(Serialize)]
struct SyncInfo {
    /// Whether the current project is shared, and why.
    #[serde(flatten)]
    sharing: crate::sync::share::Sharing,
    /// How to pin the project's identity, whatever git says.
    pin: String,
    #[cfg(feature = "team")]
    server: Option<String>,
    /// Where the sync stands; `None` when the database could not tell.
    #[cfg(feature = "team")]
    status: Option<crate::sync::Status>,
    /// How long the server took to answer a trivial request; `None`: it did not.
    #[cfg(feature = "team")]
    answers_in_ms: Option<u128>,
}

pub fn run(args: DoctorArgs) -> ExitCode {
    let report = match super::Setup::resolve_lenient(&args.common) {
        // Its ping needs a runtime with timers (the hook's has none).
        Ok(setup) => match super::network_runtime() {
            Ok(rt) => rt.block_on(report(&setup)),
            Err(e) => {
                tell!("flowhook: error: {e}");
                return ExitCode::from(2);
            }
        },
        Err(e) => {
            tell!("flowhook: error: {e}");
            return ExitCode::from(2);
        }
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("plain data")
        );
    } else {
        say_part!("{}", text(&report));
    }
    if report.problems.iter().any(|p| p.level == Level::Error) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

async fn report(setup: &super::Setup) -> Report {
    let r = &setup.resolved;
    let mut problems = Vec::new();
    let this_bin = std::env::current_exe().unwrap_or_default();
    let client = super::install::client_version();

    let config = ConfigInfo {
        files: r.loaded.files.clone(),
        ignored: r
            .loaded
            .ignored
            .iter()
            .flat_map(|i| i.keys.clone())
            .collect(),
    };
    if let Some(i) = &r.loaded.ignored {
        problems.push(Finding {
            level: Level::Warning,
            at: i.file.display().to_string(),
            problem: i.warning(),
            fix: format!("flowhook trust {}", i.file.display()),
        });
    }
    for m in &r.loaded.misplaced {
        problems.push(Finding {
            level: Level::Warning,
            at: "configuration".into(),
            problem: m.clone(),
            fix: "take the key out of that file (see hooks.toml)".into(),
        });
    }
    for e in r.config_error.iter().chain(&r.pattern_errors) {
        problems.push(Finding {
            level: Level::Error,
            at: "configuration".into(),
            problem: e.clone(),
            fix: "fix the file: hook calls use the defaults until then".into(),
        });
    }

    // Opened once, when it exists: doctor never creates a database.
    let store = match setup.db().exists() {
        true => Some(setup.open().await),
        false => None,
    };
    let database = database(setup, store.as_ref(), &mut problems).await;
    problems.extend(tracked_by_git(setup.db(), &r.project.root));
    let sync = sync(setup, store.as_ref(), &mut problems).await;

    let sources = sources(&r.project.root, &mut problems);
    let which = |name: &str| which(name);
    problems.extend(check::check(
        &sources,
        &Machine {
            this_bin: &this_bin,
            client,
            which: &which,
        },
    ));

    #[cfg(feature = "agents")]
    let agents = {
        let (found, findings) = crate::install::agents::doctor(&r.project.root);
        problems.extend(findings);
        found.iter().map(|p| p.display().to_string()).collect()
    };
    #[cfg(not(feature = "agents"))]
    let agents = Vec::new();
    let spooled = crate::spool::pending(&r.db).len();
    if spooled > 0 {
        problems.push(Finding {
            level: Level::Warning,
            at: "spool".into(),
            problem: format!("{spooled} events wait to be stored"),
            fix: "`flowhook spool` says why; the next hook call stores them".into(),
        });
    }
    Report {
        binary: Binary {
            path: this_bin,
            version: env!("CARGO_PKG_VERSION"),
        },
        client: client.map(|(a, b, c)| format!("{a}.{b}.{c}")),
        project: ProjectInfo {
            id: r.project.id.clone(),
            root: r.project.root.clone(),
        },
        config,
        database,
        hooks: sources
            .iter()
            .map(|s| s.path.display().to_string())
            .collect(),
        agents,
        spooled,
        recent_log: recent_warnings(&r.log),
        sync,
        problems,
    }
}

async fn database(
    setup: &super::Setup,
    store: Option<&Result<Store, crate::setup::SetupError>>,
    problems: &mut Vec<Finding>,
) -> Database {
    let db = setup.db();
    let mut out = Database {
        path: db.to_path_buf(),
        mode: setup.config().database.mode,
        exists: store.is_some(),
        size_bytes: None,
        schema_version: None,
        rows: None,
    };
    let Some(store) = store else {
        return out;
    };
    out.size_bytes = std::fs::metadata(db).map(|m| m.len()).ok();
    let overview = match store {
        Ok(store) => store.overview().await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match overview {
        Ok((schema, rows)) => {
            out.schema_version = Some(schema);
            out.rows = Some(rows.into_iter().collect());
        }
        Err(e) => problems.push(Finding {
            level: Level::Error,
            at: db.display().to_string(),
            problem: e,
            fix: "hook calls spool their events meanwhile (`flowhook spool`)".into(),
        }),
    }
    out
}

async fn sync(
    setup: &super::Setup,
    store: Option<&Result<Store, crate::setup::SetupError>>,
    problems: &mut Vec<Finding>,
) -> SyncInfo {
    let p = &setup.resolved.project;
    let pin = format!(
        "[project.ids] \"{}\" = \"{}\" in your own hooks.toml",
        p.root.display(),
        if p.kind == IdKind::Path {
            "its-name"
        } else {
            &p.id
        }
    );
    let host = p.id.split('/').next().unwrap_or_default();
    if p.kind == IdKind::Remote && !host.contains('.') && !host.starts_with("localhost") {
        problems.push(Finding {
            level: Level::Warning,
            at: "project".into(),
            problem: format!(
                "the project's identity {} names the host `{host}`, which looks like an SSH \
                 alias flowhook could not resolve (no HostName for it in ~/.ssh/config): a \
                 teammate's clone may get another identity, and the two are not one project",
                p.id
            ),
            fix: format!("pin it: {}", pin.replace(&p.id, "github.com/owner/name")),
        });
    }
    let info = SyncInfo {
        pin,
        sharing: crate::sync::share::sharing(&setup.resolved),
        #[cfg(feature = "team")]
        server: crate::sync::shown_server(&setup.resolved),
        #[cfg(feature = "team")]
        status: None,
        #[cfg(feature = "team")]
        answers_in_ms: None,
    };
    if setup.config().database.mode != Mode::Sync {
        return info;
    }
    #[cfg(not(feature = "team"))]
    {
        let _ = store;
        problems.push(Finding {
            level: Level::Warning,
            at: "sync".into(),
            problem: "database.mode is \"sync\" but this flowhook was built without team \
                      memory: hook calls record locally, nothing is sent"
                .into(),
            fix: "use a build with the `team` feature; it sends what waits here".into(),
        });
        info
    }
    #[cfg(feature = "team")]
    {
        team_checks(setup, store, problems, info).await
    }
}

/// The sync's state and whether the server answers.
#[cfg(feature = "team")]
async fn team_checks(
    setup: &super::Setup,
    store: Option<&Result<Store, crate::setup::SetupError>>,
    problems: &mut Vec<Finding>,
    mut info: SyncInfo,
) -> SyncInfo {
    info.status = match store {
        Some(Ok(store)) => crate::sync::status(&setup.resolved, Some(store)).await.ok(),
        _ => None,
    };
    let refused: i64 = info.status.iter().flat_map(|s| s.refused.values()).sum();
    if refused > 0 {
        problems.push(Finding {
            level: Level::Warning,
            at: "sync".into(),
            problem: format!(
                "the server sent {refused} rows that are not of a project shared here (another \
                 project's, or one claiming a session of another project); they were refused"
            ),
            fix: "nothing to do here; if it goes on, look at who pushes them to the server".into(),
        });
    }
    match crate::sync::ping(&setup.resolved).await {
        Ok(took) => info.answers_in_ms = Some(took.as_millis()),
        Err(e) => problems.push(Finding {
            level: Level::Error,
            at: "sync".into(),
            problem: e.to_string(),
            fix: "hooks keep recording locally; the next sync sends it all".into(),
        }),
    }
    info
}

/// A warning when the database inside the project is tracked by git: committed, the team's
/// memory (prompts, diffs) goes wherever the repository goes. Asks git itself (doctor only:
/// a hook call never runs git).
fn tracked_by_git(db: &Path, root: &Path) -> Option<Finding> {
    let rel = db.strip_prefix(root).ok()?;
    let tracked = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "--error-unmatch", "--"])
        .arg(rel)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    tracked.then(|| Finding {
        level: Level::Warning,
        at: db.display().to_string(),
        problem: format!(
            "{} is tracked by git: every prompt and diff in it goes wherever the repository \
             goes",
            rel.display()
        ),
        fix: format!(
            "git rm --cached {} and add `{}` to .gitignore",
            rel.display(),
            rel.parent().map_or(rel, |p| p).display()
        ),
    })
}

/// The files Claude Code reads hooks from: the user's and the project's settings, and every
/// installed plugin's `hooks/hooks.json`. They are read as `install` reads them (bounded, no
/// FIFO); a project's file that is a link out of it is not read, and is a problem.
fn sources(root: &Path, problems: &mut Vec<Finding>) -> Vec<Source> {
    let mut files = Vec::new();
    if let Ok(home) = super::install::claude_home() {
        files.push(home.join("settings.json"));
        plugin_hooks(&home.join("plugins"), 0, &mut files);
    }
    let source = |path: PathBuf, bytes: Vec<u8>| Source {
        json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        path,
    };
    let mut out: Vec<Source> = files
        .iter()
        .filter_map(|path| {
            let bytes = Place::user(path).and_then(|p| p.contents()).ok()??;
            Some(source(path.clone(), bytes))
        })
        .collect();
    for name in ["settings.json", "settings.local.json"] {
        let path = root.join(".claude").join(name);
        if files.contains(&path) {
            continue; // the project is the home directory: these are the user's settings
        }
        match Place::project(root, &[".claude", name]).and_then(|p| p.contents()) {
            Ok(Some(bytes)) => out.push(source(path, bytes)),
            Ok(None) => {}
            Err(e) => problems.push(Finding {
                level: Level::Error,
                at: path.display().to_string(),
                problem: e.to_string(),
                fix: "put the settings file itself there (or remove it)".into(),
            }),
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn plugin_hooks(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > 6 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            plugin_hooks(&p, depth + 1, out);
        } else if p.ends_with("hooks/hooks.json") {
            out.push(p);
        }
    }
}

/// A command name found on PATH.
fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The last warnings and errors of the log (its last 64 KiB).
fn recent_warnings(log: &Path) -> Vec<String> {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(log) else {
        return Vec::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
    let mut tail = Vec::new();
    let _ = f.read_to_end(&mut tail);
    let tail = String::from_utf8_lossy(&tail);
    let lines: Vec<String> = tail
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .map(str::to_owned)
        .collect();
    lines[lines.len().saturating_sub(5)..].to_vec()
}

fn text(r: &Report) -> String {
    let mut out = String::new();
    let mut line = |k: &str, v: String| out.push_str(&format!("{k:<10} {v}\n"));
    line(
        "binary",
        format!(
            "flowhook {} at {}",
            r.binary.version,
            r.binary.path.display()
        ),
    );
    line(
        "client",
        r.client
            .as_ref()
            .map_or("no `claude` on PATH".into(), |v| format!("Claude Code {v}")),
    );
    line(
        "project",
        format!(
            "{} (root {})",
            super::identity_text(&r.sync.sharing),
            r.project.root.display()
        ),
    );
    line("shared", super::shared_text(&r.sync.sharing));
    line("pin", format!("to fix this identity: {}", r.sync.pin));
    line(
        "config",
        if r.config.files.is_empty() {
            "built-in defaults".into()
        } else {
            let files: Vec<String> = r
                .config
                .files
                .iter()
                .map(|f| f.display().to_string())
                .collect();
            files.join(", ")
        },
    );
    let d = &r.database;
    let path = d.path.display();
    line(
        "database",
        match (&d.rows, d.exists) {
            (Some(rows), _) => format!(
                "{path} ({} mode, schema {}, {:.1} MB): {}",
                match d.mode {
                    Mode::Local => "local",
                    Mode::Sync => "sync",
                },
                d.schema_version.unwrap_or_default(),
                d.size_bytes.unwrap_or_default() as f64 / 1e6,
                rows.iter()
                    .map(|(t, n)| format!("{t} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (None, false) => format!("{path} (not created yet: the first hook call creates it)"),
            (None, true) => format!("{path} (unreadable)"),
        },
    );
    #[cfg(feature = "ui")]
    if d.rows.is_some() {
        line(
            "browse",
            "flowhook ui (sessions, files, subagents and the team in your browser)".into(),
        );
    }
    line(
        "hooks",
        if r.hooks.is_empty() {
            "no settings file or plugin with hooks".into()
        } else {
            r.hooks.join(", ")
        },
    );
    if !r.agents.is_empty() {
        line("agents", r.agents.join(", "));
    }
    line("spool", format!("{} waiting", r.spooled));
    #[cfg(feature = "team")]
    if r.database.mode == Mode::Sync {
        let s = &r.sync;
        let status = s.status.as_ref();
        let pending: i64 = status.map_or(0, |s| s.pending.values().sum());
        line(
            "sync",
            format!(
                "{} ({}), {pending} rows to push, last push {}, last pull {}",
                s.server.as_deref().unwrap_or("(database.url not set)"),
                s.answers_in_ms
                    .map_or("does not answer".into(), |ms| format!("answers in {ms} ms")),
                status
                    .and_then(|s| s.last_push.as_deref())
                    .unwrap_or("never"),
                status
                    .and_then(|s| s.last_pull.as_deref())
                    .unwrap_or("never")
            ),
        );
    }
    for l in &r.recent_log {
        line("log", l.clone());
    }
    if r.problems.is_empty() {
        out.push_str("\nno problem found\n");
    }
    for p in &r.problems {
        let mark = match p.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        out.push_str(&format!(
            "\n{mark}: {}\n  at:  {}\n  fix: {}\n",
            p.problem, p.at, p.fix
        ));
    }
    out
}

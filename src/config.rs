//! `hooks.toml`: every setting with its documented default.
//!
//! Each struct's `Default` *is* the documented default (the repository's `hooks.toml` lists
//! the same values, and a test keeps the two in step). Unknown keys are errors, so a typo is
//! reported instead of silently ignored.
//!
//! Where settings come from ([`Config::load`]): `--config` or `FLOWHOOK_CONFIG` alone, when
//! given; else the user's own `$XDG_CONFIG_HOME/flowhook/hooks.toml` (else
//! `~/.config/flowhook/hooks.toml`), with the project's `.claude/flowhook.toml` over it. A
//! project file comes with the repository, from anywhere: its [`GUARDED`] keys, which decide
//! where data is written or sent, what is deleted or how long a call may take, count only
//! once the user has trusted that file (`flowhook trust`, see `trust.rs`); until then they
//! are ignored, and said so.
//!
//! A configuration file is read only if it is a regular file of at most [`MAX_BYTES`],
//! opened without waiting (a committed link to `/dev/zero`, `/dev/stdin` or a FIFO is
//! refused, not read); the project's file only from inside the project (a link of it that
//! leads out is refused). A hook call then runs on the defaults and says why.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub project: ProjectSection,
    pub database: Database,
    pub hook: Hook,
    pub limits: Limits,
    pub recall: Recall,
    pub retention: Retention,
    pub redact: Redact,
    pub log: Log,
    pub sync: Sync,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ProjectSection {
    /// The project's identity when it has no git `origin` remote: the same string on every
    /// machine makes their clones one project. Counts only in the project's own (trusted)
    /// `.claude/flowhook.toml`, for that project: in the user's file it would name every
    /// directory without a remote (use `ids` there). Unset: the remote, else the path.
    pub id: Option<String>,
    /// Identities by project root (`"/home/me/notes" = "notes"`, `~/` allowed), in the
    /// user's own file only: each pins its directory's identity, over the git remote too.
    pub ids: std::collections::BTreeMap<PathBuf, String>,
}

impl ProjectSection {
    /// The identity `ids` pins for the project at `root`.
    pub fn pinned(&self, root: &Path) -> Option<&str> {
        if self.ids.is_empty() {
            return None;
        }
        let canonical = std::fs::canonicalize(root).ok();
        self.ids
            .iter()
            .find(|(dir, _)| {
                let dir = crate::paths::expand_home(dir);
                dir == root || canonical.as_deref() == Some(dir.as_path())
            })
            .map(|(_, id)| id.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Database {
    /// The database file. Relative paths are relative to the project root. Unset: the
    /// per-project default `<project>/.swarm/flowhook.db`.
    pub path: Option<PathBuf>,
    /// How long a writer waits for another one's lock before giving up and spooling the
    /// event. Keep it below `hook.timeout_ms`.
    pub busy_timeout_ms: u64,
    /// `local`: this file only. `sync`: the same file, plus a team server that `flowhook
    /// sync` pushes to and pulls from (never a hook call itself).
    pub mode: Mode,
    /// The server: `libsql://<db>.turso.io`, `https://...`, or `http://...` for a local one.
    pub url: Option<String>,
    /// The environment variable holding the server's token. Unset: `FLOWHOOK_AUTH_TOKEN`,
    /// then `TURSO_AUTH_TOKEN`.
    pub token_env: Option<String>,
    /// A file holding the token, readable by its owner only (Claude Code may scrub tokens
    /// from a hook's environment; a sync started by a hook reads this instead).
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Local,
    Sync,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Sync {
    /// Start a sync in the background after each SessionEnd.
    pub after_session_end: bool,
    /// Also start one from any hook call when the last one is older than this (minutes; 0:
    /// only after SessionEnd and by hand).
    pub interval_minutes: u64,
    /// The whole sync gives up after this long (seconds); the next one resumes.
    pub timeout_secs: u64,
    /// Each request to the server gives up after this long (milliseconds).
    pub request_timeout_ms: u64,
    /// Rows per request, each way.
    pub batch_rows: usize,
    /// How this machine's sessions are labelled on the others (`user@host`). Unset: `$USER`
    /// and the host name.
    pub label: Option<String>,
    /// The projects shared with the team, as identity patterns (`github.com/acme/*`; `*` is
    /// any text, case is ignored), besides those chosen with `flowhook sync --enable`. Only
    /// from the user's own file: a project's file never decides what leaves the machine.
    pub share: Vec<String>,
    /// Seal what leaves this machine with the team key (XChaCha20-Poly1305): the server keeps
    /// ids, order, times and a keyed hash of the project, and cannot read the rest.
    pub encrypt: bool,
    /// The team key's file (64 hex digits, readable by its owner only), when
    /// `FLOWHOOK_TEAM_KEY` is not set. Unset: `~/.config/flowhook/team.key`.
    pub key_file: Option<PathBuf>,
    /// Live team memory: while a session here is active, a follower in the background pushes
    /// what hook calls record within a second or two and pulls the team's rows within
    /// seconds (sync/live.rs).
    pub live: bool,
    /// The follower ends after this long without a hook call (seconds).
    pub live_idle_secs: u64,
    /// The longest pause between two looks at the server while nothing changes
    /// (milliseconds; 5000: at most 12 requests a minute). Right after a change it looks
    /// again within a second, doubling up to this.
    pub live_poll_ms: u64,
}

impl Default for Sync {
    fn default() -> Self {
        Sync {
            after_session_end: true,
            interval_minutes: 30,
            timeout_secs: 120,
            request_timeout_ms: 10_000,
            batch_rows: 500,
            label: None,
            share: Vec::new(),
            encrypt: false,
            key_file: None,
            live: true,
            live_idle_secs: 30 * 60,
            live_poll_ms: 5_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Hook {
    /// The watchdog: a hook call that has not finished after this long exits 0 anyway,
    /// spooling its event first. At least 100 (`watchdog::MIN_LIMIT_MS`).
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Task text kept per task_log row (bytes, cut on a character boundary).
    pub task_chars: usize,
    /// Diff kept per edit_history row (bytes, cut on a line boundary).
    pub diff_bytes: usize,
    /// Raw payload kept per rejected_events row (bytes).
    pub rejected_bytes: usize,
    /// Largest payload read from stdin. Of a larger one, its whole members before the limit
    /// are read if they say what happened (a Write carries its content twice); else it is
    /// rejected (its head quarantined).
    pub max_payload_bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Recall {
    /// Hand prior work to the agent on pre-task events.
    pub enabled: bool,
    /// Characters of context per pre-task answer (whole items only). Capped at 9,500:
    /// Claude Code cuts longer context at 10,000.
    pub budget_chars: usize,
    /// Also prepend the context to a subagent's own prompt (PreToolUse Agent), through
    /// `updatedInput`. Off by default: see hooks.toml.
    pub subagent_prompt: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    /// The ending project's sessions that ended more than this many days ago are pruned at
    /// its SessionEnd. 0 keeps everything (prune by hand with `flowhook prune`); at most
    /// [`MAX_AGE_DAYS`].
    pub older_than_days: u32,
    /// Sessions pruned per SessionEnd at most, so that the hook stays fast.
    pub sessions_per_run: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            older_than_days: 0,
            sessions_per_run: 20,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Redact {
    /// Regular expressions (Rust regex syntax) whose matches are replaced by `[REDACTED]`
    /// before anything is stored, in addition to the built-in secret shapes.
    pub extra_patterns: Vec<String>,
}

impl Redact {
    /// The extra patterns, compiled; an invalid one is reported and skipped.
    pub fn compile(&self) -> (Vec<regex_lite::Regex>, Vec<String>) {
        let mut ok = Vec::new();
        let mut errors = Vec::new();
        for p in &self.extra_patterns {
            match regex_lite::Regex::new(p) {
                Ok(re) => ok.push(re),
                Err(e) => errors.push(format!("redact.extra_patterns {p:?}: {e}")),
            }
        }
        (ok, errors)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Log {
    /// Level of the log file beside the database: error, warn, info, debug, trace.
    /// `FLOWHOOK_LOG` overrides it (and then applies to stderr as well).
    pub level: String,
    /// The log file. Unset: `flowhook.log` beside the database.
    pub file: Option<PathBuf>,
}

impl Default for Database {
    fn default() -> Self {
        Database {
            path: None,
            busy_timeout_ms: 500,
            mode: Mode::Local,
            url: None,
            token_env: None,
            token_file: None,
        }
    }
}

impl Default for Hook {
    fn default() -> Self {
        Hook { timeout_ms: 800 }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            task_chars: 4000,
            diff_bytes: 16 * 1024,
            rejected_bytes: 64 * 1024,
            max_payload_bytes: 64 * 1024 * 1024,
        }
    }
}

impl Default for Recall {
    fn default() -> Self {
        Recall {
            enabled: true,
            budget_chars: 4000,
            subagent_prompt: false,
        }
    }
}

impl Default for Log {
    fn default() -> Self {
        Log {
            level: "info".to_owned(),
            file: None,
        }
    }
}

/// Keys of a project's file that count only once the user trusted it: where data is written
/// (`database.path` outside the project, `log.file`) or sent (`database.mode`, `url`, the
/// token's source), whose memory a project reads (`project.id`), what is deleted
/// (`retention`: in a shared database, another project's sessions too), and how long a call
/// may take (`hook.timeout_ms` above [`UNTRUSTED_TIMEOUT_MS`]). A key added later of the same
/// kind belongs here.
pub const GUARDED: &[&str] = &[
    "database.path",
    "database.mode",
    "database.url",
    "database.token_env",
    "database.token_file",
    "log.file",
    "project.id",
    "hook.timeout_ms",
    "retention",
    "sync",
];

/// The oldest cutoff retention and `flowhook prune` accept, in days (a century): past it the
/// date arithmetic leaves the calendar.
pub const MAX_AGE_DAYS: u32 = 36_525;

/// Keys a project's file never sets, trusted or not: which projects leave the machine, and
/// what a directory is called, are the user's own choice.
pub const USER_ONLY: &[&str] = &["sync.share", "project.ids"];

/// The longest watchdog an untrusted project file may ask for.
pub const UNTRUSTED_TIMEOUT_MS: u64 = 2000;

/// A configuration file that exists but cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration {}: {why}", .path.display())]
pub struct ConfigError {
    pub path: PathBuf,
    #[source]
    pub why: Invalid,
}

/// Why a configuration file cannot be used; a message never quotes a value (it may be a
/// token).
#[derive(Debug, thiserror::Error)]
pub enum Invalid {
    #[error("no such file")]
    Missing,
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(
        "not a regular file (a device, a FIFO or a directory); configuration is read from \
         regular files only"
    )]
    NotAFile,
    #[error("larger than {} KiB; not read", MAX_BYTES / 1024)]
    TooLarge,
    #[error("not UTF-8 text")]
    NotUtf8,
    /// TOML that does not parse, or does not fit the settings: where, and why without the
    /// value (see `toml_error`).
    #[error("{0}")]
    Toml(String),
    #[error(
        "retention.older_than_days = {0} is out of range: at most {max} (a century; 0 keeps \
         everything)",
        max = MAX_AGE_DAYS
    )]
    Age(u32),
}

/// The configuration in effect, and where it came from.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub config: Config,
    /// The files read, in order (a later one wins).
    pub files: Vec<PathBuf>,
    /// An untrusted project file's guarded keys that were ignored.
    pub ignored: Option<Ignored>,
    /// Keys ignored where they may not be set (see [`USER_ONLY`], `project.id`), each said
    /// in one line.
    pub misplaced: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    pub file: PathBuf,
    pub keys: Vec<String>,
}

impl Ignored {
    /// One line for the log and doctor: what was ignored and how to allow it.
    pub fn warning(&self) -> String {
        format!(
            "{} is not trusted, so its {} {} ignored; if you wrote it, run `flowhook trust {}`",
            self.file.display(),
            self.keys.join(", "),
            if self.keys.len() == 1 { "is" } else { "are" },
            self.file.display()
        )
    }
}

impl Config {
    /// The configuration for the project at `root` (see the module doc).
    pub fn load(explicit: Option<&Path>, root: &Path) -> Result<Loaded, ConfigError> {
        let explicit = explicit
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("FLOWHOOK_CONFIG").map(PathBuf::from));
        let mut loaded = Loaded::default();
        if let Some(path) = explicit {
            let (_, mut table) = read_file(&path, None)?.ok_or_else(|| ConfigError {
                path: path.clone(),
                why: Invalid::Missing,
            })?;
            loaded.misplaced.extend(no_global_id(&mut table, &path));
            loaded.config = from_table(table, &path)?;
            loaded.files.push(path);
            return Ok(loaded);
        }
        let mut merged = toml::Table::new();
        if let Some(user) = user_config_dir().map(|d| d.join("flowhook").join("hooks.toml"))
            && let Some((_, mut table)) = read_file(&user, None)?
        {
            loaded.misplaced.extend(no_global_id(&mut table, &user));
            merged = table;
            loaded.files.push(user);
        }
        let project = root.join(".claude").join("flowhook.toml");
        if let Some((text, mut table)) = read_file(&project, Some(root))? {
            for key in USER_ONLY {
                if remove_key(&mut table, key) {
                    loaded.misplaced.push(format!(
                        "{}: {key} counts only in your own hooks.toml, never in a \
                         project's file; it is ignored",
                        project.display()
                    ));
                }
            }
            let keys = guarded_keys(&table, root);
            if !keys.is_empty() && !crate::trust::is_trusted(&project, text.as_bytes()) {
                for key in &keys {
                    remove_key(&mut table, key);
                }
                loaded.ignored = Some(Ignored {
                    file: project.clone(),
                    keys,
                });
            }
            merge(&mut merged, table);
            loaded.files.push(project.clone());
        }
        let last = loaded.files.last().cloned().unwrap_or_default();
        loaded.config = from_table(merged, &last)?;
        Ok(loaded)
    }

    /// Parses a file's text; the error names the line, column and key.
    pub fn parse(text: &str) -> Result<Config, Invalid> {
        let config: Config =
            toml::from_str(text).map_err(|e| Invalid::Toml(toml_error(text, &e)))?;
        config.check()?;
        Ok(config)
    }

    /// Values the types allow but flowhook cannot use; the error names the key.
    fn check(&self) -> Result<(), Invalid> {
        let days = self.retention.older_than_days;
        if days > MAX_AGE_DAYS {
            return Err(Invalid::Age(days));
        }
        Ok(())
    }
}

/// The most a configuration file may hold: far more than any real one needs.
pub const MAX_BYTES: u64 = 1024 * 1024;

/// The text of the configuration file at `path`, `None` when it does not exist: read only
/// from a regular file of at most [`MAX_BYTES`], without waiting on a FIFO; `project`: the
/// root the file is in, which it may not leave (see `paths::open_in_project`).
pub fn read_text(path: &Path, project: Option<&Path>) -> Result<Option<String>, Invalid> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let opened = match project {
        Some(root) => crate::paths::open_in_project(root, path),
        None => std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path),
    };
    let file = match opened {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Invalid::NotAFile);
    }
    if meta.len() > MAX_BYTES {
        return Err(Invalid::TooLarge);
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(Invalid::TooLarge);
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| Invalid::NotUtf8)
}

/// A file's text and table, `None` when it does not exist; the error names the file, line
/// and key (each file is checked on its own, so that a mistake is reported where it is).
fn read_file(
    path: &Path,
    project: Option<&Path>,
) -> Result<Option<(String, toml::Table)>, ConfigError> {
    let err = |why| ConfigError {
        path: path.to_path_buf(),
        why,
    };
    let Some(text) = read_text(path, project).map_err(err)? else {
        return Ok(None);
    };
    Config::parse(&text).map_err(err)?;
    let table = text
        .parse::<toml::Table>()
        .map_err(|e| err(Invalid::Toml(toml_error(&text, &e))))?;
    Ok(Some((text, table)))
}

/// Where a file's TOML went wrong and why, without quoting a value: toml's own message shows
/// the line, and serde's quotes a mistyped string, while a settings value may be a token
/// (`url = "libsql://…?authToken=…`). Keys stay (they are quoted with backticks).
fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let message: String = e
        .message()
        .trim_end()
        .split('"')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { "\"…\"" } else { part })
        .collect();
    let Some(span) = e.span() else {
        return message;
    };
    let before = &text.as_bytes()[..span.start.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = before.len() - start + 1;
    // The key of that line, when it is one (never the value after `=`).
    let key = text[start..]
        .split(['=', '\n'])
        .next()
        .map(str::trim)
        .filter(|k| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        })
        .map(|k| format!(" ({k})"))
        .unwrap_or_default();
    format!("line {line}, column {column}{key}: {message}")
}

fn from_table(table: toml::Table, path: &Path) -> Result<Config, ConfigError> {
    let err = |why| ConfigError {
        path: path.to_path_buf(),
        why,
    };
    let config = Config::deserialize(table)
        .map_err(|e| err(Invalid::Toml(e.to_string().trim_end().to_owned())))?;
    config.check().map_err(err)?;
    Ok(config)
}

/// The guarded keys a project file sets (see [`GUARDED`]), as `section.key`.
fn guarded_keys(table: &toml::Table, root: &Path) -> Vec<String> {
    let mut keys = Vec::new();
    for guarded in GUARDED {
        let (section, key) = guarded.split_once('.').unwrap_or((guarded, ""));
        let Some(section_table) = table.get(section).and_then(|v| v.as_table()) else {
            continue;
        };
        if key.is_empty() {
            keys.extend(section_table.keys().map(|k| format!("{section}.{k}")));
            continue;
        }
        let Some(value) = section_table.get(key) else {
            continue;
        };
        let harmless = match *guarded {
            // Inside the project, a database path is the project's own business; inside by
            // the kernel's reckoning, not the string's (`cache/x` with `cache -> ~/.ssh`).
            "database.path" => value
                .as_str()
                .is_some_and(|p| crate::paths::beneath(root, &root.join(p))),
            "hook.timeout_ms" => value
                .as_integer()
                .is_some_and(|ms| (0..=UNTRUSTED_TIMEOUT_MS as i64).contains(&ms)),
            _ => false,
        };
        if !harmless {
            keys.push(guarded.to_string());
        }
    }
    keys
}

/// Removes `section.key`; whether it was there.
fn remove_key(table: &mut toml::Table, dotted: &str) -> bool {
    let (section, key) = dotted.split_once('.').unwrap_or((dotted, ""));
    match table.get_mut(section) {
        Some(toml::Value::Table(t)) => t.remove(key).is_some(),
        _ => false,
    }
}

/// `project.id` in a file that applies to every project would silently make every directory
/// without a remote one project (and share them as one): it is ignored there, and said.
fn no_global_id(table: &mut toml::Table, path: &Path) -> Option<String> {
    remove_key(table, "project.id").then(|| {
        format!(
            "{}: project.id would name every directory without a git remote; it is ignored \
             here: pin one directory with [project.ids] \"/path/to/it\" = \"its-id\", or set \
             project.id in that project's .claude/flowhook.toml",
            path.display()
        )
    })
}

/// `over` laid on `base`, table by table.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

pub fn user_config_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_hooks_toml_is_exactly_the_defaults() {
        let text = include_str!("../hooks.toml");
        assert_eq!(Config::parse(text).unwrap(), Config::default());
    }

    #[test]
    fn a_toml_error_names_its_line_and_never_quotes_a_value() {
        let token = "eyJhbGciOiJFZERTQSJ9.c2VjcmV0LXRva2Vu.c2lnbmF0dXJl";
        for text in [
            format!("[database]\nmode = \"sync\"\nurl = \"libsql://db.example?authToken={token}\n"),
            format!("[database]\nurl = libsql://{token}\n"),
            format!("[sync]\nshare = \"{token}\"\n"),
            format!("log = \"{token}\"\n"),
        ] {
            let err = Config::parse(&text).unwrap_err().to_string();
            assert!(!err.contains(&token[..12]), "{err}");
            assert!(err.starts_with("line "), "{err}");
        }
        let err = Config::parse("[hook]\n\ntimeout_ms = \"soon\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("line 3, column 14 (timeout_ms): "), "{err}");
    }

    #[test]
    fn an_empty_file_is_the_defaults() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn an_untrusted_project_file_decides_only_harmless_things() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let table: toml::Table = toml::from_str(
            "[database]\npath = \"../../home/me/app.db\"\nbusy_timeout_ms = 100\n\
             [log]\nfile = \"/home/me/.bashrc\"\n[hook]\ntimeout_ms = 60000\n\
             [recall]\nbudget_chars = 100\n[retention]\nolder_than_days = 1\n",
        )
        .unwrap();
        assert_eq!(
            guarded_keys(&table, root),
            [
                "database.path",
                "log.file",
                "hook.timeout_ms",
                "retention.older_than_days"
            ]
        );
        let inside: toml::Table =
            toml::from_str("[database]\npath = \"data/f.db\"\n[hook]\ntimeout_ms = 500\n").unwrap();
        assert!(guarded_keys(&inside, root).is_empty());
        // Inside as a string, elsewhere on disk: a linked directory on the way.
        std::os::unix::fs::symlink("/tmp", root.join("data")).unwrap();
        assert_eq!(guarded_keys(&inside, root), ["database.path"]);
        let deeper: toml::Table = toml::from_str("[database]\npath = \"data/new/f.db\"\n").unwrap();
        assert_eq!(guarded_keys(&deeper, root), ["database.path"]);
    }

    #[test]
    fn errors_name_the_line_and_key() {
        let e = Config::parse("[limits]\ndiff_bytes = \"big\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("diff_bytes"), "{e}");
        let e = Config::parse("[hook]\ntimeout = 5\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("timeout"), "{e}");
        let e = Config::parse("[retention]\nolder_than_days = 100000000\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("retention.older_than_days"), "{e}");
    }
}

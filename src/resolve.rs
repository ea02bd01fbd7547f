//! One resolver for everything a call needs to know before it touches data: the project and
//! its identity, the configuration in effect and where it came from (with the trust rule of
//! `config.rs` applied), the database and whether it may be written, the log, the redaction
//! patterns. The hook, the debugging commands, doctor, install, sync and MCP all ask here,
//! so that they agree.

use crate::config::{Config, ConfigError, Loaded};
use crate::project::Project;
use std::path::{Path, PathBuf};

/// What the caller decided, over the configuration.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--db`, else `FLOWHOOK_DB`.
    pub db: Option<PathBuf>,
    /// `--config` (else `FLOWHOOK_CONFIG`, read by `Config::load`).
    pub config: Option<PathBuf>,
    /// `CLAUDE_PROJECT_DIR` (for a spooled event: as it was when the event arrived).
    pub project_dir: Option<PathBuf>,
}

impl Overrides {
    /// The overrides of this process: `db` or `FLOWHOOK_DB`, `config`, and the environment's
    /// `CLAUDE_PROJECT_DIR`.
    pub fn from_env(db: Option<PathBuf>, config: Option<PathBuf>) -> Overrides {
        Overrides {
            db: db.or_else(crate::paths::database_from_env),
            config,
            project_dir: std::env::var_os("CLAUDE_PROJECT_DIR")
                .filter(|d| !d.is_empty())
                .map(PathBuf::from),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Resolved {
    pub project: Project,
    pub loaded: Loaded,
    /// The configuration could not be read (a hook then runs on the defaults and says so).
    pub config_error: Option<String>,
    pub db: PathBuf,
    /// Why the database may not be written (a symlink, another user's file, a `.swarm` that
    /// leads out of the project): events are spooled instead, and the reason said.
    pub db_refused: Option<String>,
    pub log: PathBuf,
    pub patterns: Vec<regex_lite::Regex>,
    /// `redact.extra_patterns` that did not compile.
    pub pattern_errors: Vec<String>,
}

impl Resolved {
    pub fn config(&self) -> &Config {
        &self.loaded.config
    }
}

/// Everything for the project `dir` is in; an invalid configuration file is an error (a
/// debugging command stops with it).
pub fn resolve(dir: &Path, o: &Overrides) -> Result<Resolved, ConfigError> {
    let root = project_root(dir, o);
    let loaded = Config::load(o.config.as_deref(), &root)?;
    Ok(finish(root, loaded, None, o))
}

/// The same for a hook call, which never fails over configuration: an invalid file is
/// reported and the defaults apply.
pub fn resolve_lenient(dir: &Path, o: &Overrides) -> Resolved {
    let root = project_root(dir, o);
    match Config::load(o.config.as_deref(), &root) {
        Ok(loaded) => finish(root, loaded, None, o),
        Err(e) => finish(root, Loaded::default(), Some(e.to_string()), o),
    }
}

/// The project's root, known to `paths` from now on: what flowhook writes below it is
/// reached from it without symlinks.
fn project_root(dir: &Path, o: &Overrides) -> PathBuf {
    let root = crate::project::root(dir, o.project_dir.as_deref());
    crate::paths::register_root(&root);
    root
}

fn finish(root: PathBuf, loaded: Loaded, config_error: Option<String>, o: &Overrides) -> Resolved {
    let config = &loaded.config;
    let project = Project::at(
        root.clone(),
        config.project.pinned(&root),
        config.project.id.as_deref(),
    );
    let (db, db_refused) = database(&project.root, o.db.as_deref(), config);
    let log = match (&config.log.file, &db_refused) {
        (Some(file), _) => project.root.join(file),
        // A refused database's directory is no place for the log either.
        (None, Some(_)) => crate::paths::state_dir().join("flowhook.log"),
        (None, None) => db.with_file_name("flowhook.log"),
    };
    let (patterns, pattern_errors) = config.redact.compile();
    Resolved {
        project,
        config_error,
        db,
        db_refused,
        log,
        patterns,
        pattern_errors,
        loaded,
    }
}

/// The database: `--db` / `FLOWHOOK_DB`, else `database.path` (relative to the project),
/// else `<project>/.swarm/flowhook.db`; and why it may not be used, if so: a path that goes
/// through a symlink below the project root (a committed `.swarm -> ~/.ssh`, or `cache ->
/// ../other/.swarm` under a `database.path`) is refused by the kernel (`paths.rs`), whoever
/// named it.
fn database(root: &Path, explicit: Option<&Path>, config: &Config) -> (PathBuf, Option<String>) {
    let db = match (explicit, &config.database.path) {
        (Some(p), _) => p.to_path_buf(),
        (None, Some(p)) => root.join(p),
        (None, None) => root.join(".swarm").join("flowhook.db"),
    };
    // The form that is checked is the one SQLite opens.
    let db = crate::paths::normal(&db);
    let refused = crate::paths::check_database(&db).err().map(|e| {
        format!(
            "{e} (to keep the database elsewhere, set database.path in your own \
             ~/.config/flowhook/hooks.toml)"
        )
    });
    (db, refused)
}

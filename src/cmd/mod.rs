//! One module per command. Hook calls go through `hook`; the rest are for people.

pub mod bench;
pub mod context;
pub mod doctor;
pub mod hook;
pub mod install;
pub mod memory;
pub mod prune;
pub mod rebuild;
pub mod replay;
pub mod schema;
pub mod sessions;
pub mod spool;
#[cfg(feature = "team")]
pub mod sync;
pub mod trust;

/// `println!` for a person: the whole line goes through [`crate::text::Shown`], so that no
/// stored text (a prompt, a path, a memory value) reaches the terminal raw. JSON output uses
/// `println!`: serde escapes what JSON must, and a program reads it.
macro_rules! say {
    ($($t:tt)*) => { println!("{}", $crate::text::Shown::text(format_args!($($t)*))) };
}

/// `print!` for a person (text that brings its own line breaks), as `say!`.
macro_rules! say_part {
    ($($t:tt)*) => { print!("{}", $crate::text::Shown::text(format_args!($($t)*))) };
}

/// `eprintln!` for a person, as `say!`.
macro_rules! tell {
    ($($t:tt)*) => { eprintln!("{}", $crate::text::Shown::text(format_args!($($t)*))) };
}

pub(crate) use {say, say_part, tell};

/// A debugging command's failure: printed as one line, exit code 2.
pub type Result = std::result::Result<(), String>;

/// The error of a command this binary was built without (`cargo build --no-default-features`).
#[cfg(not(all(feature = "team", feature = "mcp")))]
pub fn without(what: &str, feature: &str) -> String {
    format!(
        "this flowhook was built without {what} (cargo feature `{feature}`): hook calls record \
         locally as always; use a build with it"
    )
}

/// A current-thread runtime: one event needs no more, and it starts in microseconds.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime without drivers cannot fail to build")
}

/// A runtime with its I/O and timer drivers, for what talks to a server (sync, doctor's
/// ping): the hook's own runtime has none, and a deadline without a timer panics.
pub fn network_runtime() -> std::result::Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

/// The current project's identity and where it comes from, for a person.
pub fn identity_text(s: &crate::sync::share::Sharing) -> String {
    use crate::project::IdKind;
    let from = match s.identity {
        IdKind::Pinned => "pinned by [project.ids] in your hooks.toml",
        IdKind::Remote => "from its git remote `origin`",
        IdKind::Configured => "from project.id",
        IdKind::Path => "its path: this machine only",
    };
    format!("{} ({from})", s.project)
}

/// Whether the current project is shared, and why, for a person.
pub fn shared_text(s: &crate::sync::share::Sharing) -> String {
    format!("{}: {}", if s.shared { "yes" } else { "no" }, s.why)
}

/// A progress line for a person: redrawn in place on a terminal, silent in a pipe or a log.
pub struct Progress {
    live: bool,
}

impl Progress {
    pub fn new(wanted: bool) -> Progress {
        use std::io::IsTerminal;
        Progress {
            live: wanted && std::io::stderr().is_terminal(),
        }
    }

    pub fn show(&self, line: &str) {
        if self.live {
            eprint!("\r\x1b[Kflowhook: {line}");
        }
    }

    /// Clears the line before the command's own output.
    pub fn done(&self) {
        if self.live {
            eprint!("\r\x1b[K");
        }
    }
}

/// The project a `--project` value names: a directory's identity (its git remote, say), or
/// the value itself, taken as an identity as stored.
pub fn project_named(value: &str) -> String {
    let path = std::path::Path::new(value);
    if path.is_dir() {
        let root = crate::project::root(path, None);
        if let Ok(r) = crate::resolve::resolve(&root, &crate::resolve::Overrides::default()) {
            return r.project.id;
        }
    }
    value.trim_end_matches('/').to_owned()
}

/// What a debugging command works on: everything the resolver says about the current
/// directory's project (an invalid configuration is an error here), with `--db` and
/// `--config`.
pub struct Setup {
    pub resolved: crate::resolve::Resolved,
}

impl Setup {
    pub fn resolve(common: &crate::cli::Common) -> std::result::Result<Setup, String> {
        Setup::resolve_with(common, |here, o| {
            crate::resolve::resolve(here, o).map_err(|e| e.to_string())
        })
    }

    /// As a hook call resolves: an unusable configuration file is reported in
    /// `config_error` and the defaults apply (doctor diagnoses it instead of stopping).
    pub fn resolve_lenient(common: &crate::cli::Common) -> std::result::Result<Setup, String> {
        Setup::resolve_with(common, |here, o| {
            Ok(crate::resolve::resolve_lenient(here, o))
        })
    }

    fn resolve_with(
        common: &crate::cli::Common,
        resolve: impl FnOnce(
            &std::path::Path,
            &crate::resolve::Overrides,
        ) -> std::result::Result<crate::resolve::Resolved, String>,
    ) -> std::result::Result<Setup, String> {
        let here = std::env::current_dir()
            .map_err(|e| format!("cannot read the current directory: {e}"))?;
        let overrides =
            crate::resolve::Overrides::from_env(common.db.clone(), common.config.clone());
        let resolved = resolve(&here, &overrides)?;
        if let Some(ignored) = &resolved.loaded.ignored {
            tell!("flowhook: warning: {}", ignored.warning());
        }
        for m in &resolved.loaded.misplaced {
            eprintln!("flowhook: warning: {m}");
        }
        Ok(Setup { resolved })
    }

    pub fn db(&self) -> &std::path::Path {
        &self.resolved.db
    }

    pub fn config(&self) -> &crate::config::Config {
        self.resolved.config()
    }

    /// `text` without its secrets (the built-in shapes and the configuration's patterns).
    pub fn redact(&self, text: &str) -> String {
        crate::redact::redact(text, &self.resolved.patterns).into_owned()
    }

    /// The project's identity (what its rows are filed under).
    pub fn project(&self) -> &str {
        &self.resolved.project.id
    }

    /// Opens the database; a missing one is an error, not a new empty file.
    pub async fn open_existing(&self) -> std::result::Result<crate::store::Store, String> {
        if !self.db().exists() && self.resolved.db_refused.is_none() {
            return Err(format!(
                "no database at {} (nothing recorded yet? try `flowhook replay FILE` or --db)",
                self.db().display()
            ));
        }
        self.open().await
    }

    /// Opens the database, creating it when missing.
    pub async fn open(&self) -> std::result::Result<crate::store::Store, String> {
        if let Some(why) = &self.resolved.db_refused {
            return Err(why.clone());
        }
        let busy = std::time::Duration::from_millis(self.config().database.busy_timeout_ms);
        crate::store::Store::open(self.db(), busy)
            .await
            .map_err(|e| e.to_string())
    }
}

//! What a debugging command or the MCP server works on: the current directory's project as
//! the resolver sees it, with `--db` and `--config`, and the database it names.
//!
//! Owns turning command-line options into a resolution; it prints warnings about the
//! configuration and nothing else, and knows nothing of the commands that use it.

use crate::config::ConfigError;
use crate::resolve::{Overrides, Resolved};
use crate::store::{Store, StoreError};
use std::path::{Path, PathBuf};

/// Why a command has nothing to work on.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot read the current directory: {0}")]
    CurrentDir(#[source] std::io::Error),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "no database at {} (nothing recorded yet? try `flowhook replay FILE` or --db)",
        .0.display()
    )]
    NoDatabase(PathBuf),
    /// The resolver refused the database's path (what it said).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
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
    pub fn resolve(common: &crate::cli::Common) -> Result<Setup, SetupError> {
        Setup::resolve_with(common, |here, o| Ok(crate::resolve::resolve(here, o)?))
    }

    /// As a hook call resolves: an unusable configuration file is reported in
    /// `config_error` and the defaults apply (doctor diagnoses it instead of stopping).
    pub fn resolve_lenient(common: &crate::cli::Common) -> Result<Setup, SetupError> {
        Setup::resolve_with(common, |here, o| {
            Ok(crate::resolve::resolve_lenient(here, o))
        })
    }

    fn resolve_with(
        common: &crate::cli::Common,
        resolve: impl FnOnce(&Path, &Overrides) -> Result<Resolved, SetupError>,
    ) -> Result<Setup, SetupError> {
        let here = std::env::current_dir().map_err(SetupError::CurrentDir)?;
        let overrides =
            crate::resolve::Overrides::from_env(common.db.clone(), common.config.clone());
        let resolved = resolve(&here, &overrides)?;
        if let Some(ignored) = &resolved.loaded.ignored {
            // As `cmd`'s `tell!`: what a file says reaches the terminal only through `Shown`.
            let warning = ignored.warning();
            let line = format_args!("flowhook: warning: {warning}");
            eprintln!("{}", crate::text::Shown::text(line));
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

    /// After this command wrote what a sync carries (agent memory set or forgotten, outside a
    /// hook call): in sync mode, what a hook call does after its write, the live follower
    /// nudged (started when none runs) and a background sync started when one is due. Only
    /// spawns: never waits on the network.
    pub fn wrote(&self) {
        crate::sync::spawn_if_due(&self.resolved, false);
    }

    /// Opens the database; a missing one is an error, not a new empty file.
    pub async fn open_existing(&self) -> Result<Store, SetupError> {
        if !self.db().exists() && self.resolved.db_refused.is_none() {
            return Err(SetupError::NoDatabase(self.db().to_owned()));
        }
        self.open().await
    }

    /// Opens the database, creating it when missing.
    pub async fn open(&self) -> Result<Store, SetupError> {
        if let Some(why) = &self.resolved.db_refused {
            return Err(SetupError::Refused(why.clone()));
        }
        let busy = std::time::Duration::from_millis(self.config().database.busy_timeout_ms);
        Ok(Store::open(self.db(), busy).await?)
    }
}

//! One module per command. Hook calls go through `hook`; the rest are for people.

pub mod bench;
pub mod context;
pub mod hook;
pub mod prune;
pub mod replay;
pub mod schema;
pub mod sessions;
pub mod spool;

/// A debugging command's failure: printed as one line, exit code 2.
pub type Result = std::result::Result<(), String>;

/// A current-thread runtime: one event needs no more, and it starts in microseconds.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime without drivers cannot fail to build")
}

/// What a debugging command works on: the project of the current directory, its
/// configuration (an invalid file is an error here), and its database.
pub struct Setup {
    pub project: std::path::PathBuf,
    pub config: crate::config::Config,
    pub db: std::path::PathBuf,
}

impl Setup {
    pub fn resolve(common: &crate::cli::Common) -> std::result::Result<Setup, String> {
        let here = std::env::current_dir()
            .map_err(|e| format!("cannot read the current directory: {e}"))?;
        let project = crate::paths::project_root(&here);
        let (config, _) = crate::config::Config::discover(common.config.as_deref(), &project)
            .map_err(|e| e.to_string())?;
        let db = crate::paths::database(
            common
                .db
                .clone()
                .or_else(crate::paths::database_from_env)
                .as_deref(),
            config.database.path.as_deref(),
            &project,
        );
        Ok(Setup {
            project,
            config,
            db,
        })
    }

    /// Opens the database for reading; a missing one is an error, not a new empty file.
    pub async fn open_existing(&self) -> std::result::Result<crate::store::Store, String> {
        if !self.db.exists() {
            return Err(format!(
                "no database at {} (nothing recorded yet? try `flowhook replay FILE` or --db)",
                self.db.display()
            ));
        }
        let busy = std::time::Duration::from_millis(self.config.database.busy_timeout_ms);
        crate::store::Store::open(&self.db, busy)
            .await
            .map_err(|e| e.to_string())
    }
}

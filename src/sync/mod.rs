//! Team memory: this machine's rows pushed to a team server (a Turso database, any libSQL
//! server), the other machines' pulled from it, local-first. A hook call never comes here but
//! to start a sync in the background ([`spawn_if_due`]): it writes the local file, exactly as
//! in local mode, and returns.
//!
//! Push sends what this machine recorded and the server lacks, in batches, in the order of
//! this machine's stream (store/stream.rs: a number per recorded row or new version, never
//! reused, and only rows recorded in this file on this machine): past the lower of what was
//! sent (kept after the server took it: sent again after a kill, it is ignored, ids being
//! global) and what the server says it holds (a server that lost rows gets them again).
//! Pull takes what the others pushed, page by page in the server's order, each page stored
//! a few rows at a time, each few with its cursor in one short local transaction (a hook
//! never waits long on a pull). Pulled rows keep their origin and are never pushed back;
//! derived data (full-text entries, file facts, every session's summary, from all machines'
//! rows of it) is built from them here.
//!
//! Not embedded replicas, nor libsql's offline writes: their state is guarded inside one
//! process, while dozens of hook processes share this file.

mod link;
pub mod live;
mod remote;
pub mod seal;
pub mod share;
mod token;

use crate::config::Mode;
use crate::resolve::Resolved;
use crate::store::{Column, SHARED, Shared, Store, StoreError};
use link::{Link, Table, cursor, push_key};
use remote::Server;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

/// Why a sync, its status or a ping failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(
        "database.mode is \"local\" for {}: set mode = \"sync\" and url in hooks.toml \
         (see the README, \"Team memory with Turso\")",
        .0.display()
    )]
    LocalMode(PathBuf),
    #[error("database.mode is \"sync\" but database.url is not set")]
    NoUrl,
    #[error(transparent)]
    Token(#[from] token::TokenError),
    #[error(transparent)]
    Seal(#[from] seal::SealError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// What the server said, or why it could not be asked (`remote` says it in words).
    #[error("{0}")]
    Server(String),
    #[error("the sync took more than sync.timeout_secs ({0} s); the next one goes on")]
    Timeout(u64),
    #[error("cannot open the sync lock {}: {source}", .path.display())]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct What {
    pub push: bool,
    pub pull: bool,
}

/// Whether a sync ran, in a word a script can match on (`status` of the JSON report).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ran {
    /// It pushed and pulled what there was.
    #[default]
    Synced,
    /// No project of this database is shared: the server was not contacted.
    NotShared,
    /// Another sync of this database held its lock: nothing was done here.
    Busy,
}

/// What a sync did.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub status: Ran,
    /// Why nothing was synced, unless it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    pub server: String,
    pub machine: String,
    /// The projects of this database that were synced: those shared.
    pub projects: Vec<String>,
    /// Why nothing was, when no project of this database is shared (the server was not
    /// contacted): `why` of [`Ran::NotShared`], under the name it had before `status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_shared: Option<String>,
    /// Rows the server took, per table.
    pub pushed: BTreeMap<&'static str, u64>,
    /// Values sent that the server held a later version of (another machine's write that
    /// wins), per table: that version was taken here instead. Not counted as pushed.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub superseded: BTreeMap<&'static str, u64>,
    /// Rows stored here, per table.
    pub pulled: BTreeMap<&'static str, u64>,
    /// Pulled rows refused, per table: of a project not shared here, or claiming another
    /// project's session.
    pub refused: BTreeMap<&'static str, u64>,
    /// The machines whose rows are here, by label.
    pub machines: Vec<String>,
    pub elapsed_ms: u128,
    /// Each shared table's last sequence on the server when the sync began, in `SHARED`'s
    /// order: what the live follower asks the server about next (sync/live.rs).
    #[serde(skip)]
    pub heads: Vec<i64>,
}

/// Where a sync stands, for `flowhook sync --status`.
#[derive(Debug, Serialize)]
pub struct Status {
    pub mode: Mode,
    pub server: Option<String>,
    /// The current project: whether it is shared, and why.
    #[serde(flatten)]
    pub sharing: share::Sharing,
    /// This machine's id on the server (`None` before its database exists).
    pub machine: Option<String>,
    pub label: String,
    /// Rows recorded here the server lacks, per table.
    pub pending: BTreeMap<&'static str, i64>,
    /// Pulled rows this database refused, set aside in `sync_quarantine`, and the newest reason.
    pub quarantined: i64,
    pub quarantine_reason: Option<String>,
    pub last_push: Option<String>,
    pub last_pull: Option<String>,
    pub last_error: Option<String>,
    /// Pulled rows refused so far, per table (see [`Report::refused`]).
    pub refused: BTreeMap<&'static str, i64>,
    /// Whether a sync is running now.
    pub running: bool,
}

/// The server and token of a resolved configuration, or what is missing.
fn server_of(to: &Resolved) -> Result<(String, String), SyncError> {
    let db = &to.config().database;
    if db.mode != Mode::Sync {
        return Err(SyncError::LocalMode(to.db.clone()));
    }
    let url = db
        .url
        .clone()
        .filter(|u| !u.trim().is_empty())
        .ok_or(SyncError::NoUrl)?;
    let token = token::find(db, &url)?;
    Ok((url, token))
}

/// The server as flowhook says it (never a token written into its URL).
pub fn shown_server(to: &Resolved) -> Option<String> {
    to.config().database.url.as_deref().map(token::shown)
}

/// This machine's label on the others: `sync.label`, else `$USER@host`.
fn label(to: &Resolved) -> String {
    if let Some(l) = &to.config().sync.label {
        return l.clone();
    }
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| format!("uid{}", crate::paths::euid()));
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{user}@{host}")
}

/// Pushes and pulls once, holding the database's sync lock; [`Ran::Busy`] (nothing done)
/// when another sync holds it. `progress` hears what is done as it goes.
pub async fn run(
    to: &Resolved,
    store: &Store,
    what: What,
    progress: &mut dyn FnMut(&str),
) -> Result<Report, SyncError> {
    let started = Instant::now();
    let Some(_lock) = Lock::take(&to.db)? else {
        return Ok(Report {
            status: Ran::Busy,
            why: Some(format!("another sync of {} is running", to.db.display())),
            server: shown_server(to).unwrap_or_default(),
            // Said when known; the other sync says what is wrong with this file.
            machine: store
                .machine()
                .map(|s| s.machine.clone())
                .unwrap_or_default(),
            elapsed_ms: started.elapsed().as_millis(),
            ..Report::default()
        });
    };
    let (url, token) = server_of(to)?;
    let projects = shared_projects(to, store).await?;
    if projects.is_empty() {
        let why = share::sharing(to).why;
        return Ok(Report {
            status: Ran::NotShared,
            why: Some(why.clone()),
            server: token::shown(&url),
            not_shared: Some(why),
            ..Report::default()
        });
    }
    let c = &to.config().sync;
    // A missing or malformed key is an error before anything is sent.
    let seal = seal::Seal::load(c)?;
    let outcome = tokio::time::timeout(
        Duration::from_secs(c.timeout_secs),
        exchange(
            to,
            store,
            (&url, &token),
            seal.as_ref(),
            &projects,
            what,
            progress,
        ),
    )
    .await
    .unwrap_or(Err(SyncError::Timeout(c.timeout_secs)));
    let now = crate::time::Time::now().into_string();
    let state = |e: &Result<Report, SyncError>| -> Vec<(&'static str, String)> {
        match e {
            Ok(_) => vec![("last_error", String::new())],
            Err(message) => vec![("last_error", format!("{now} {message}"))],
        }
    };
    // The outcome is said in the state even when the sync failed halfway.
    let _ = store.set_sync_state(&state(&outcome)).await;
    let mut report = outcome?;
    report.server = token::shown(&url);
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

/// The projects of this database that are shared: the current one and those of the rows
/// recorded here (a database may be one file for several projects), as the user chose.
async fn shared_projects(to: &Resolved, store: &Store) -> Result<Vec<String>, SyncError> {
    Ok(share::shared_in(to.config(), store, Some(&to.project.id))
        .await?
        .unwrap_or_default())
}

/// The push and the pull of the `projects` shared.
async fn exchange(
    to: &Resolved,
    store: &Store,
    (url, token): (&str, &str),
    seal: Option<&seal::Seal>,
    projects: &[String],
    what: What,
    progress: &mut dyn FnMut(&str),
) -> Result<Report, SyncError> {
    let c = &to.config().sync;
    let server = Server::new(url, token, Duration::from_millis(c.request_timeout_ms))
        .await
        .map_err(SyncError::Server)?;
    let stream = store.machine()?.clone();
    let (tables, on_server) = columns(store, seal).await?;
    let now = crate::time::Time::now();
    // Two requests when there is nothing to do: this one, and the survey.
    let look = server
        .look(
            &on_server,
            &stream.machine,
            &label(to),
            &now,
            seal.map(|s| s.check()).as_deref(),
        )
        .await
        .map_err(SyncError::Server)?;
    let (server_id, generation) = identify(&server, &on_server, &look).await?;
    store
        .set_sync_state(&[("server", server_id.clone())])
        .await?;
    let projects_json = serde_json::to_string(projects).expect("strings");
    let server_projects = match seal {
        Some(s) => {
            serde_json::to_string(&projects.iter().map(|p| s.project(p)).collect::<Vec<_>>())
                .expect("strings")
        }
        None => projects_json.clone(),
    };
    let mut link = Link {
        store,
        server: &server,
        server_id: &server_id,
        generation,
        stream: &stream,
        projects: projects_json,
        server_projects,
        list: projects,
        seal,
        batch: c.batch_rows.max(1),
    };
    let survey = link.survey(&on_server).await?;
    let mut report = Report {
        machine: stream.machine.clone(),
        projects: projects.to_vec(),
        heads: survey.iter().map(|s| s.last).collect(),
        ..Report::default()
    };
    let tables: Vec<Table> = tables
        .iter()
        .zip(&on_server)
        .map(|((t, here), (_, there))| (t, here.as_slice(), there.as_slice()))
        .collect();
    if what.push {
        link.push_all(&tables, &survey, &mut report, progress)
            .await?;
        store
            .set_sync_state(&[("last_push", now.to_string())])
            .await?;
    }
    if what.pull {
        store.store_machines(&look.machines, &now).await?;
        link.pull_all(&tables, survey, &mut report, progress)
            .await?;
        store.derive_pulled(&crate::time::Time::now()).await?;
        report.machines = look
            .machines
            .into_iter()
            .filter(|(id, _)| *id != stream.machine)
            .map(|(_, l)| l)
            .collect();
        store
            .set_sync_state(&[("last_pull", now.to_string())])
            .await?;
    }
    Ok(report)
}

/// Each shared table's columns here, and on the server (sealed: fewer, and the sealed part).
type Columns = Vec<(Shared, Vec<Column>)>;

async fn columns(
    store: &Store,
    seal: Option<&seal::Seal>,
) -> Result<(Columns, Columns), SyncError> {
    let (mut here, mut there) = (Vec::new(), Vec::new());
    for t in SHARED {
        let columns = store.shared_columns(t).await?;
        there.push((
            *t,
            match seal {
                Some(_) => seal::Seal::server_columns(t, &columns),
                None => columns.clone(),
            },
        ));
        here.push((*t, columns));
    }
    Ok((here, there))
}

/// The server's id and generation, from what the first request found; a server whose tables
/// are incomplete gets what is missing, and one whose tables were made anew a new generation
/// (they hold none of the rows the others pulled: they start over).
async fn identify(
    server: &Server,
    on_server: &[(Shared, Vec<Column>)],
    look: &remote::Look,
) -> Result<(String, String), SyncError> {
    if let Some(id) = &look.id {
        return Ok((id.clone(), look.generation.clone()));
    }
    let (id, created) = server.prepare(on_server).await.map_err(SyncError::Server)?;
    let generation = match created {
        true => server.new_generation().await.map_err(SyncError::Server)?,
        false => look.generation.clone(),
    };
    Ok((id, generation))
}

/// Where a sync of this database stands; without a database (nothing recorded yet), only
/// whether the project is shared.
pub async fn status(to: &Resolved, store: Option<&Store>) -> Result<Status, SyncError> {
    let mut status = Status {
        mode: to.config().database.mode,
        server: shown_server(to),
        sharing: share::sharing(to),
        machine: None,
        label: label(to),
        pending: SHARED.iter().map(|t| (t.name, 0)).collect(),
        quarantined: 0,
        quarantine_reason: None,
        last_push: None,
        last_pull: None,
        last_error: None,
        refused: BTreeMap::new(),
        running: Lock::held(&to.db),
    };
    let Some(store) = store else {
        return Ok(status);
    };
    let projects = serde_json::to_string(&shared_projects(to, store).await?).expect("strings");
    let server_id = store.sync_state("server").await?.unwrap_or_default();
    let stream = store.machine()?;
    for t in SHARED {
        let columns = store.shared_columns(t).await?;
        let after = cursor(store, &push_key(&server_id, stream, &projects, t))
            .await?
            .max(stream.from);
        let n = store.pending(t, &columns, &projects, after).await?;
        status.pending.insert(t.name, n);
        let refused = cursor(store, &format!("refused.{}", t.name)).await?;
        if refused > 0 {
            status.refused.insert(t.name, refused);
        }
    }
    (status.quarantined, status.quarantine_reason) = store.quarantined().await?;
    let state = |k: &'static str| async move {
        store
            .sync_state(k)
            .await
            .map(|v| v.filter(|v| !v.is_empty()))
    };
    status.machine = Some(stream.machine.clone());
    status.last_push = state("last_push").await?;
    status.last_pull = state("last_pull").await?;
    status.last_error = state("last_error").await?;
    Ok(status)
}

/// Whether the server answers a trivial request, and how fast: for doctor, never for a hook.
pub async fn ping(to: &Resolved) -> Result<Duration, SyncError> {
    let (url, token) = server_of(to)?;
    let started = Instant::now();
    let deadline = Duration::from_millis(to.config().sync.request_timeout_ms);
    Server::new(&url, &token, deadline)
        .await
        .map_err(SyncError::Server)?
        .ping()
        .await
        .map_err(SyncError::Server)?;
    Ok(started.elapsed())
}

/// In sync mode, starts `flowhook sync` in the background after a SessionEnd, or when the
/// last sync began longer ago than `sync.interval_minutes`: the hook returns at once and
/// never waits on the network. The lock file's time is when the last one began.
pub fn spawn_if_due(to: &Resolved, session_end: bool) {
    let c = to.config();
    if c.database.mode != Mode::Sync || c.database.url.is_none() {
        return;
    }
    live::nudge(to);
    let path = crate::paths::sync_lock(&to.db);
    let interval = Duration::from_secs(c.sync.interval_minutes.saturating_mul(60));
    let last = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
    let stale = c.sync.interval_minutes > 0
        && last.is_none_or(|t| SystemTime::now().duration_since(t).unwrap_or_default() > interval);
    if !(stale || session_end && c.sync.after_session_end) {
        return;
    }
    // Marked before the start, so that the calls that follow do not start another (nor read
    // again, until the next is due, whether the project is shared).
    Lock::touch(&path);
    if !share::sharing(to).shared {
        return;
    }
    let db = to.db.to_string_lossy().into_owned();
    // The sync gives up after sync.timeout_secs; the process ends a little later whatever
    // it waits on.
    let limit = Duration::from_secs(c.sync.timeout_secs.saturating_add(30));
    if let Err(e) = crate::detach::spawn(
        &["sync", "--auto", "--db", &db],
        Some(&to.project.root),
        limit,
    ) {
        tracing::warn!("cannot start a background sync: {e}");
    }
}

/// One sync per database at a time: an exclusive lock on a file in the state directory,
/// released when the process ends, however it ends.
struct Lock(#[allow(dead_code)] std::fs::File);

impl Lock {
    fn touch(path: &std::path::Path) {
        if let Some(dir) = path.parent() {
            let _ = crate::paths::private_dir(dir);
        }
        if let Ok(f) = crate::paths::open_append(path) {
            let _ = f.set_modified(SystemTime::now());
        }
    }

    /// The lock, or `None` when another process holds it.
    fn take(db: &std::path::Path) -> Result<Option<Lock>, SyncError> {
        Lock::take_at(&crate::paths::sync_lock(db))
    }

    /// The lock of the file `path` (its time set to now), or `None` when another process
    /// holds it.
    fn take_at(path: &std::path::Path) -> Result<Option<Lock>, SyncError> {
        Lock::touch(path);
        let file = match crate::paths::open_append(path) {
            Ok(file) => file,
            Err(source) => {
                return Err(SyncError::Lock {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Ok(crate::paths::try_lock(&file).then_some(Lock(file)))
    }

    fn held(db: &std::path::Path) -> bool {
        Lock::held_at(&crate::paths::sync_lock(db))
    }

    fn held_at(path: &std::path::Path) -> bool {
        crate::paths::open_append(path).is_ok_and(|f| !crate::paths::try_lock(&f))
    }
}

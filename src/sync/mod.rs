//! Team memory: this machine's rows pushed to a team server (a Turso database, any libSQL
//! server), the other machines' pulled from it, local-first. A hook call never comes here but
//! to start a sync in the background ([`spawn_if_due`]): it writes the local file, exactly as
//! in local mode, and returns.
//!
//! Push sends what this machine recorded and the server lacks, in batches: rows that only
//! arrive past the largest local rowid sent (kept after the server took them: sent again
//! after a kill, they are ignored, ids being global), summaries whose version was not sent.
//! Pull takes what the others pushed, page by page in the server's order, each page stored
//! with its cursor in one local transaction. Pulled rows keep their origin and are never
//! pushed back; derived data (full-text entries, file facts) is built from them here.
//!
//! Not embedded replicas, nor libsql's offline writes: their state is guarded inside one
//! process, while dozens of hook processes share this file.

mod remote;
pub mod seal;
pub mod share;
mod token;

use crate::config::Mode;
use crate::resolve::Resolved;
use crate::store::{Column, SHARED, Shared, Store, cursor_key};
use remote::Server;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct What {
    pub push: bool,
    pub pull: bool,
}

/// What a sync did.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub server: String,
    pub machine: String,
    /// The projects of this database that were synced: those shared.
    pub projects: Vec<String>,
    /// Why nothing was, when no project of this database is shared (the server was not
    /// contacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_shared: Option<String>,
    /// Rows the server took, per table.
    pub pushed: BTreeMap<&'static str, u64>,
    /// Rows stored here, per table.
    pub pulled: BTreeMap<&'static str, u64>,
    /// Pulled rows refused, per table: of a project not shared here, or claiming another
    /// project's session.
    pub refused: BTreeMap<&'static str, u64>,
    /// The machines whose rows are here, by label.
    pub machines: Vec<String>,
    pub elapsed_ms: u128,
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
    pub last_push: Option<String>,
    pub last_pull: Option<String>,
    pub last_error: Option<String>,
    /// Pulled rows refused so far, per table (see [`Report::refused`]).
    pub refused: BTreeMap<&'static str, i64>,
    /// Whether a sync is running now.
    pub running: bool,
}

/// The server and token of a resolved configuration, or what is missing.
fn server_of(to: &Resolved) -> Result<(String, String), String> {
    let db = &to.config().database;
    if db.mode != Mode::Sync {
        return Err(format!(
            "database.mode is \"local\" for {}: set mode = \"sync\" and url in hooks.toml \
             (see the README, \"Team memory with Turso\")",
            to.db.display()
        ));
    }
    let url = db
        .url
        .clone()
        .filter(|u| !u.trim().is_empty())
        .ok_or("database.mode is \"sync\" but database.url is not set")?;
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

/// Pushes and pulls once, holding the database's sync lock; `None` when another sync holds
/// it. `progress` hears what is done as it goes.
pub async fn run(
    to: &Resolved,
    store: &Store,
    what: What,
    progress: &mut dyn FnMut(&str),
) -> Result<Option<Report>, String> {
    let Some(_lock) = Lock::take(&to.db)? else {
        return Ok(None);
    };
    let started = Instant::now();
    let (url, token) = server_of(to)?;
    let projects = shared_projects(to, store).await?;
    if projects.is_empty() {
        return Ok(Some(Report {
            server: token::shown(&url),
            not_shared: Some(share::sharing(to).why),
            ..Report::default()
        }));
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
    .unwrap_or_else(|_| {
        Err(format!(
            "the sync took more than sync.timeout_secs ({} s); the next one goes on",
            c.timeout_secs
        ))
    });
    let now = crate::hook::stamp(chrono::Utc::now());
    let state = |e: &Result<Report, String>| -> Vec<(&'static str, String)> {
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
    Ok(Some(report))
}

/// The projects of this database that are shared: the current one and those of the rows
/// recorded here (a database may be one file for several projects), as the user chose.
async fn shared_projects(to: &Resolved, store: &Store) -> Result<Vec<String>, String> {
    share::shared_in(to.config(), store, Some(&to.project.id))
        .await
        .map(Option::unwrap_or_default)
        .map_err(|e| e.to_string())
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
) -> Result<Report, String> {
    let c = &to.config().sync;
    let server = Server::new(url, token, Duration::from_millis(c.request_timeout_ms)).await?;
    let err = |e: crate::store::StoreError| e.to_string();
    let machine = store.machine_id().await.map_err(err)?;
    // Each table's columns here, and on the server (sealed: fewer, and the sealed part).
    let mut tables: Vec<(Shared, Vec<Column>)> = Vec::new();
    let mut on_server: Vec<(Shared, Vec<Column>)> = Vec::new();
    for t in SHARED {
        let columns = store.shared_columns(t).await.map_err(err)?;
        on_server.push((
            *t,
            match seal {
                Some(_) => seal::Seal::server_columns(t, &columns),
                None => columns.clone(),
            },
        ));
        tables.push((*t, columns));
    }
    let server_id = server
        .prepare(&on_server, seal.map(|s| s.check()).as_deref())
        .await?;
    store.use_server(&server_id).await.map_err(err)?;
    let now = crate::hook::stamp(chrono::Utc::now());
    server.register(&machine, &label(to), &now).await?;
    let mut report = Report {
        machine: machine.clone(),
        projects: projects.to_vec(),
        ..Report::default()
    };
    let link = Link {
        store,
        server: &server,
        server_id: &server_id,
        machine: &machine,
        projects: serde_json::to_string(projects).expect("strings"),
        list: projects,
        seal,
        batch: c.batch_rows.max(1),
    };
    let tables: Vec<_> = tables
        .iter()
        .zip(&on_server)
        .map(|((t, here), (_, there))| (t, here.as_slice(), there.as_slice()))
        .collect();
    if what.push {
        for (t, here, there) in &tables {
            let n = link.push(t, here, there, progress).await?;
            report.pushed.insert(t.name, n);
        }
        store
            .set_sync_state(&[("last_push", now.clone())])
            .await
            .map_err(err)?;
    }
    if what.pull {
        let machines = server.machines().await?;
        store.store_machines(&machines, &now).await.map_err(err)?;
        for (t, here, there) in &tables {
            let (n, refused) = link.pull(t, here, there, progress).await?;
            report.pulled.insert(t.name, n);
            if refused > 0 {
                tracing::warn!(
                    "refused {refused} {} rows from the server: not of a project shared here",
                    t.name
                );
                report.refused.insert(t.name, refused);
            }
        }
        store
            .fold_pulled(&crate::hook::stamp(chrono::Utc::now()))
            .await
            .map_err(err)?;
        report.machines = machines
            .into_iter()
            .filter(|(id, _)| *id != machine)
            .map(|(_, l)| l)
            .collect();
        store
            .set_sync_state(&[("last_pull", now.clone())])
            .await
            .map_err(err)?;
    }
    Ok(report)
}

/// This machine, its database and one server, for the push and pull of each table.
struct Link<'a> {
    store: &'a Store,
    server: &'a Server,
    server_id: &'a str,
    machine: &'a str,
    /// The projects shared, as a JSON array, and as they are.
    projects: String,
    list: &'a [String],
    seal: Option<&'a seal::Seal>,
    batch: usize,
}

impl Link<'_> {
    /// The projects as the server knows them: sealed, by their keyed hashes.
    fn server_projects(&self) -> String {
        match self.seal {
            Some(s) => {
                serde_json::to_string(&self.list.iter().map(|p| s.project(p)).collect::<Vec<_>>())
                    .expect("strings")
            }
            None => self.projects.clone(),
        }
    }

    /// `columns` here, `on_server` there.
    async fn push(
        &self,
        t: &Shared,
        columns: &[Column],
        on_server: &[Column],
        progress: &mut dyn FnMut(&str),
    ) -> Result<u64, String> {
        let err = |e: crate::store::StoreError| e.to_string();
        let key = cursor_key(self.server_id, "push", t);
        let mut after = cursor(self.store, &key).await?;
        let (mut sent, mut taken) = (0usize, 0u64);
        loop {
            let u = self
                .store
                .unpushed(t, columns, &self.projects, after, self.batch)
                .await
                .map_err(err)?;
            let Some(&(last, _)) = u.rows.last() else {
                break;
            };
            let objects: Vec<&str> = u.rows.iter().map(|(_, o)| o.as_str()).collect();
            let mut rows = format!("[{}]", objects.join(","));
            if let Some(s) = self.seal {
                rows = s.seal(t, &rows)?;
            }
            taken += self.server.push(t, on_server, &rows, self.machine).await?;
            // Only once the server has them: a sync killed before this sends them again, and
            // the server ignores what it has.
            if t.versioned {
                let versions: Vec<i64> = u.rows.iter().map(|(v, _)| *v).collect();
                self.store
                    .mark_pushed(t, &u.keys, &versions)
                    .await
                    .map_err(err)?;
            } else {
                after = last;
                self.store
                    .set_sync_state(&[(key.as_str(), after.to_string())])
                    .await
                    .map_err(err)?;
            }
            sent += u.rows.len();
            progress(&format!("pushed {sent} {} rows", t.name));
            if u.rows.len() < self.batch {
                break;
            }
        }
        Ok(taken)
    }

    async fn pull(
        &self,
        t: &Shared,
        columns: &[Column],
        on_server: &[Column],
        progress: &mut dyn FnMut(&str),
    ) -> Result<(u64, u64), String> {
        let server_projects = self.server_projects();
        // Per set of projects shared: a project shared later is pulled from the start.
        let set = &crate::trust::digest(self.projects.as_bytes())[..16];
        let key = format!("{}#{set}", cursor_key(self.server_id, "pull", t));
        let mut after = cursor(self.store, &key).await?;
        let (mut stored, mut refused) = (0, 0);
        while let Some((last, rows)) = self
            .server
            .pull(
                t,
                on_server,
                &server_projects,
                after,
                self.machine,
                self.batch,
            )
            .await?
        {
            let rows = match self.seal {
                Some(s) => s.open(t, &rows, self.list)?,
                None => rows,
            };
            let (s, r) = self
                .store
                .store_pulled(t, columns, &self.projects, &rows, (&key, last))
                .await
                .map_err(|e| e.to_string())?;
            (stored, refused) = (stored + s, refused + r);
            after = last;
            progress(&format!("pulled {stored} {} rows", t.name));
        }
        Ok((stored, refused))
    }
}

async fn cursor(store: &Store, key: &str) -> Result<i64, String> {
    Ok(store
        .sync_state(key)
        .await
        .map_err(|e| e.to_string())?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// Where a sync of this database stands; without a database (nothing recorded yet), only
/// whether the project is shared.
pub async fn status(to: &Resolved, store: Option<&Store>) -> Result<Status, String> {
    let mut status = Status {
        mode: to.config().database.mode,
        server: shown_server(to),
        sharing: share::sharing(to),
        machine: None,
        label: label(to),
        pending: SHARED.iter().map(|t| (t.name, 0)).collect(),
        last_push: None,
        last_pull: None,
        last_error: None,
        refused: BTreeMap::new(),
        running: Lock::held(&to.db),
    };
    let Some(store) = store else {
        return Ok(status);
    };
    let err = |e: crate::store::StoreError| e.to_string();
    let projects = serde_json::to_string(&shared_projects(to, store).await?).expect("strings");
    let server_id = store
        .sync_state("server")
        .await
        .map_err(err)?
        .unwrap_or_default();
    for t in SHARED {
        let columns = store.shared_columns(t).await.map_err(err)?;
        let after = cursor(store, &cursor_key(&server_id, "push", t)).await?;
        let n = store
            .pending(t, &columns, &projects, after)
            .await
            .map_err(err)?;
        status.pending.insert(t.name, n);
        let refused = cursor(store, &format!("refused.{}", t.name)).await?;
        if refused > 0 {
            status.refused.insert(t.name, refused);
        }
    }
    let state = |k: &'static str| async move {
        store
            .sync_state(k)
            .await
            .map(|v| v.filter(|v| !v.is_empty()))
            .map_err(err)
    };
    status.machine = Some(store.machine_id().await.map_err(err)?);
    status.last_push = state("last_push").await?;
    status.last_pull = state("last_pull").await?;
    status.last_error = state("last_error").await?;
    Ok(status)
}

/// Whether the server answers a trivial request, and how fast: for doctor, never for a hook.
pub async fn ping(to: &Resolved) -> Result<Duration, String> {
    let (url, token) = server_of(to)?;
    let started = Instant::now();
    let deadline = Duration::from_millis(to.config().sync.request_timeout_ms);
    Server::new(&url, &token, deadline).await?.ping().await?;
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
    let path = Lock::path(&to.db);
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
    fn path(db: &std::path::Path) -> PathBuf {
        crate::paths::state_dir()
            .join("sync")
            .join(format!("{}.lock", crate::paths::db_key(db)))
    }

    fn touch(path: &std::path::Path) {
        if let Some(dir) = path.parent() {
            let _ = crate::paths::private_dir(dir);
        }
        if let Ok(f) = crate::paths::open_append(path) {
            let _ = f.set_modified(SystemTime::now());
        }
    }

    /// The lock, or `None` when another process holds it.
    fn take(db: &std::path::Path) -> Result<Option<Lock>, String> {
        let path = Lock::path(db);
        Lock::touch(&path);
        let file = crate::paths::open_append(&path)
            .map_err(|e| format!("cannot open the sync lock {}: {e}", path.display()))?;
        Ok(crate::paths::try_lock(&file).then_some(Lock(file)))
    }

    fn held(db: &std::path::Path) -> bool {
        crate::paths::open_append(&Lock::path(db)).is_ok_and(|f| !crate::paths::try_lock(&f))
    }
}

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

pub mod live;
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
    let now = crate::time::Time::now().into_string();
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
    let stream = store.machine().map_err(err)?.clone();
    let machine = stream.machine.clone();
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
    let now = crate::time::Time::now();
    // Two requests when there is nothing to do: this one, and the survey.
    let look = server
        .look(
            &on_server,
            &machine,
            &label(to),
            &now,
            seal.map(|s| s.check()).as_deref(),
        )
        .await?;
    let (server_id, mut generation) = match look.id {
        Some(id) => (id, look.generation),
        None => {
            let (id, created) = server.prepare(&on_server).await?;
            // A table made anew holds none of the rows the others pulled: they start over.
            let generation = if created {
                server.new_generation().await?
            } else {
                look.generation
            };
            (id, generation)
        }
    };
    store
        .set_sync_state(&[("server", server_id.clone())])
        .await
        .map_err(err)?;
    let projects_json = serde_json::to_string(projects).expect("strings");
    let server_projects = match seal {
        Some(s) => {
            serde_json::to_string(&projects.iter().map(|p| s.project(p)).collect::<Vec<_>>())
                .expect("strings")
        }
        None => projects_json.clone(),
    };
    let mut cursors = Vec::new();
    for (t, _) in &tables {
        let key = pull_key(&server_id, &generation, &projects_json, t);
        cursors.push(pull_cursor(store, &key).await?);
    }
    let batch = c.batch_rows.max(1);
    let after: Vec<i64> = cursors.iter().map(|(seq, _)| *seq).collect();
    let mut survey = server
        .survey(&on_server, &server_projects, &machine, &after, batch)
        .await?;
    // Rows this machine pulled are gone from the server (a dropped table, a restore from an
    // earlier copy): rows sent since may sit below its cursors, here and on every machine.
    // A new generation makes every machine pull everything again.
    let lost = tables
        .iter()
        .zip(&survey)
        .zip(&cursors)
        .any(|(((t, _), s), (after, key))| {
            *after > 0
                && (s.last < *after
                    // A row that only arrives is never removed from the server; a summary
                    // moves to the end when it changes.
                    || !t.versioned && key.is_some() && s.at_cursor != *key)
        });
    if lost {
        generation = server.new_generation().await?;
        for s in &mut survey {
            s.page = None;
        }
    }
    let mut report = Report {
        machine: machine.clone(),
        projects: projects.to_vec(),
        heads: survey.iter().map(|s| s.last).collect(),
        ..Report::default()
    };
    let link = Link {
        store,
        server: &server,
        server_id: &server_id,
        generation: &generation,
        stream: &stream,
        projects: projects_json,
        server_projects,
        list: projects,
        seal,
        batch,
    };
    let tables: Vec<_> = tables
        .iter()
        .zip(&on_server)
        .map(|((t, here), (_, there))| (t, here.as_slice(), there.as_slice()))
        .collect();
    if what.push {
        // What the server holds of this machine's stream: less than was sent (a dropped
        // table, a restore from an earlier copy) is sent again.
        for ((t, here, there), s) in tables.iter().zip(&survey) {
            let (n, superseded) = link.push(t, here, there, s.held, progress).await?;
            report.pushed.insert(t.name, n);
            if superseded > 0 {
                report.superseded.insert(t.name, superseded);
            }
        }
        store
            .set_sync_state(&[("last_push", now.to_string())])
            .await
            .map_err(err)?;
    }
    if what.pull {
        store
            .store_machines(&look.machines, &now)
            .await
            .map_err(err)?;
        for ((t, here, there), s) in tables.iter().zip(survey) {
            let (n, refused) = link.pull(t, here, there, s.page, progress).await?;
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
            .derive_pulled(&crate::time::Time::now())
            .await
            .map_err(err)?;
        report.machines = look
            .machines
            .into_iter()
            .filter(|(id, _)| *id != machine)
            .map(|(_, l)| l)
            .collect();
        store
            .set_sync_state(&[("last_pull", now.to_string())])
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
    generation: &'a str,
    stream: &'a crate::store::Stream,
    /// The projects shared, as a JSON array, as the server knows them (sealed: by their
    /// keyed hashes), and as they are.
    projects: String,
    server_projects: String,
    list: &'a [String],
    seal: Option<&'a seal::Seal>,
    batch: usize,
}

impl Link<'_> {
    /// Sends this machine's rows of `t` (`columns` here, `on_server` there) past what the
    /// server `held` of its stream and past what was sent before (the lower of the two: a
    /// server that lost rows gets them again; one claiming more than was sent is not
    /// believed), batch by batch. A value the server holds a later version of is replaced
    /// here by that version at once. Returns the rows the server took, and those superseded.
    async fn push(
        &self,
        t: &Shared,
        columns: &[Column],
        on_server: &[Column],
        held: i64,
        progress: &mut dyn FnMut(&str),
    ) -> Result<(u64, u64), String> {
        let err = |e: crate::store::StoreError| e.to_string();
        let key = push_key(self.server_id, self.stream, &self.projects, t);
        let mut after = cursor(self.store, &key)
            .await?
            .min(held)
            .max(self.stream.from);
        let (mut sent, mut taken, mut superseded) = (0usize, 0u64, 0u64);
        loop {
            let rows = self
                .store
                .unpushed(t, columns, &self.projects, after, self.batch)
                .await
                .map_err(err)?;
            let Some(&(last, _)) = rows.last() else {
                break;
            };
            let objects: Vec<&str> = rows.iter().map(|(_, o)| o.as_str()).collect();
            let mut objects = format!("[{}]", objects.join(","));
            if let Some(s) = self.seal {
                objects = s.seal(t, &objects)?;
            }
            let pushed = self
                .server
                .push(t, on_server, &objects, &self.stream.machine)
                .await?;
            taken += pushed.taken;
            // Stored before the cursor moves: a sync killed in between sends the value again,
            // and learns again that it lost.
            if let Some(winners) = pushed.superseded {
                let rows = match self.seal {
                    Some(s) => s.open(t, &winners.rows, self.list)?,
                    None => winners.rows,
                };
                self.store
                    .store_pulled(
                        t,
                        columns,
                        &self.projects,
                        &rows,
                        None,
                        &mut crate::store::Pace::default(),
                    )
                    .await
                    .map_err(err)?;
                superseded += winners.rows_count as u64;
            }
            // Only once the server has them: a sync killed before this sends them again, and
            // the server ignores what it has.
            after = last;
            self.store
                .set_sync_state(&[(key.as_str(), after.to_string())])
                .await
                .map_err(err)?;
            sent += rows.len();
            progress(&format!("pushed {sent} {} rows", t.name));
            if rows.len() < self.batch {
                break;
            }
        }
        Ok((taken, superseded))
    }

    /// Takes the other machines' rows of `t`, from `first` (the survey's page) on, page by
    /// page, each stored with the cursor past it.
    async fn pull(
        &self,
        t: &Shared,
        columns: &[Column],
        on_server: &[Column],
        first: Option<Option<remote::Page>>,
        progress: &mut dyn FnMut(&str),
    ) -> Result<(u64, u64), String> {
        let key = pull_key(self.server_id, self.generation, &self.projects, t);
        let (mut after, _) = pull_cursor(self.store, &key).await?;
        let (mut stored, mut refused) = (0, 0);
        let mut pace = crate::store::Pace::default();
        let mut next = first;
        loop {
            let page = match next.take() {
                Some(page) => page,
                None => {
                    self.server
                        .pull(
                            t,
                            on_server,
                            &self.server_projects,
                            after,
                            &self.stream.machine,
                            self.batch,
                        )
                        .await?
                }
            };
            let Some(p) = page else {
                break;
            };
            let (last, last_key) = &p.last;
            let rows = match self.seal {
                Some(s) => s.open(t, &p.rows, self.list)?,
                None => p.rows,
            };
            let (s, r) = self
                .store
                .store_pulled(
                    t,
                    columns,
                    &self.projects,
                    &rows,
                    Some((&key, format!("{last} {last_key}"))),
                    &mut pace,
                )
                .await
                .map_err(|e| e.to_string())?;
            (stored, refused) = (stored + s, refused + r);
            after = *last;
            progress(&format!("pulled {stored} {} rows", t.name));
            // A page short of a batch was the last.
            if p.rows_count < self.batch {
                break;
            }
        }
        Ok((stored, refused))
    }
}

/// Where this machine's push of `t` to the server `server_id` stands, for the set of
/// `projects` shared (see [`crate::store::push_scope`]).
fn push_key(server_id: &str, stream: &crate::store::Stream, projects: &str, t: &Shared) -> String {
    let scope = crate::store::push_scope(server_id, &stream.machine, projects);
    cursor_key(&scope, "push", t)
}

/// Where this machine's pull of `t` from the server `server_id` stands, in its generation,
/// for the set of `projects` shared (a JSON array): a project shared later is pulled from the
/// start.
fn pull_key(server_id: &str, generation: &str, projects: &str, t: &Shared) -> String {
    let scope = if generation.is_empty() {
        server_id.to_owned()
    } else {
        format!("{server_id}/{generation}")
    };
    let set = &crate::trust::digest(projects.as_bytes())[..16];
    format!("{}#{set}", cursor_key(&scope, "pull", t))
}

/// A pull cursor: the server's sequence of the last row pulled, and that row's key (absent
/// in a cursor written before keys were kept).
async fn pull_cursor(store: &Store, key: &str) -> Result<(i64, Option<String>), String> {
    let value = store
        .sync_state(key)
        .await
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    let (seq, row) = match value.split_once(' ') {
        Some((seq, row)) => (seq, Some(row.to_owned())),
        None => (value.as_str(), None),
    };
    Ok((seq.parse().unwrap_or(0), row))
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
    let err = |e: crate::store::StoreError| e.to_string();
    let projects = serde_json::to_string(&shared_projects(to, store).await?).expect("strings");
    let server_id = store
        .sync_state("server")
        .await
        .map_err(err)?
        .unwrap_or_default();
    let stream = store.machine().map_err(err)?;
    for t in SHARED {
        let columns = store.shared_columns(t).await.map_err(err)?;
        let after = cursor(store, &push_key(&server_id, stream, &projects, t))
            .await?
            .max(stream.from);
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
    (status.quarantined, status.quarantine_reason) = store.quarantined().await.map_err(err)?;
    let state = |k: &'static str| async move {
        store
            .sync_state(k)
            .await
            .map(|v| v.filter(|v| !v.is_empty()))
            .map_err(err)
    };
    status.machine = Some(stream.machine.clone());
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
    fn take(db: &std::path::Path) -> Result<Option<Lock>, String> {
        Lock::take_at(&crate::paths::sync_lock(db))
    }

    /// The lock of the file `path` (its time set to now), or `None` when another process
    /// holds it.
    fn take_at(path: &std::path::Path) -> Result<Option<Lock>, String> {
        Lock::touch(path);
        let file = crate::paths::open_append(path)
            .map_err(|e| format!("cannot open the lock {}: {e}", path.display()))?;
        Ok(crate::paths::try_lock(&file).then_some(Lock(file)))
    }

    fn held(db: &std::path::Path) -> bool {
        Lock::held_at(&crate::paths::sync_lock(db))
    }

    fn held_at(path: &std::path::Path) -> bool {
        crate::paths::open_append(path).is_ok_and(|f| !crate::paths::try_lock(&f))
    }
}

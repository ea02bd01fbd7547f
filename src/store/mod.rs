//! The database: the only module that speaks SQL.
//!
//! Opening is cheap and safe for many processes at once: `busy_timeout` is set before the first
//! statement, the schema version (`PRAGMA user_version`) is one read on every call, and
//! migrations run inside an IMMEDIATE transaction that re-checks the version, so concurrent
//! first calls migrate once. Every write is one IMMEDIATE transaction.
//!
//! Durability: WAL with `synchronous = NORMAL`. A commit survives the process being killed
//! (the WAL is in the OS's hands when `COMMIT` returns); only a power loss can take back the
//! last few commits. That is the trade that keeps a hook call in the low milliseconds.

mod recall;
mod session;

pub use recall::Scope;
pub use session::{SessionRow, Timeline, TimelineEvent};

use crate::event::{Context, Edit, Event, Normalised, Task};
use crate::transcript::Usage;
use libsql::{Connection, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The migrations, in order; `user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_recall.sql"),
    include_str!("migrations/0003_sessions.sql"),
];

/// A failure of the database, with the file it concerns.
#[derive(Debug)]
pub struct StoreError {
    pub path: PathBuf,
    pub message: String,
    /// Another writer held the lock past `busy_timeout`: worth another try.
    pub busy: bool,
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "database {}: {}", self.path.display(), self.message)
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Inserted,
    /// The same event was stored before (same session and natural key).
    Duplicate,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// Where and when an event is stored.
pub struct Stamp<'a> {
    pub project: &'a str,
    pub now: &'a str,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// An existing file that is not a database is an error and is left untouched.
    pub async fn open(path: &Path, busy_timeout: Duration) -> Result<Store> {
        let err = |message: String| StoreError {
            path: path.to_path_buf(),
            message,
            busy: false,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::paths::create_private_dir(dir)
                .map_err(|e| err(format!("cannot create its directory: {e}")))?;
        }
        crate::paths::touch_private(path).map_err(|e| err(format!("cannot create it: {e}")))?;
        let db = libsql::Builder::new_local(path)
            .build()
            .await
            .map_err(|e| err(e.to_string()))?;
        let conn = db.connect().map_err(|e| err(e.to_string()))?;
        conn.busy_timeout(busy_timeout)
            .map_err(|e| err(e.to_string()))?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.migrate().await?;
        // Per connection: see the module doc for why NORMAL is durable enough here.
        store
            .exec("PRAGMA synchronous = NORMAL; PRAGMA mmap_size = 268435456")
            .await?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checkpoints the WAL into the database file, and truncates it, once it has grown past
    /// `limit` bytes. A hook call leaves its connection open at exit (see `hook.rs`), so
    /// nothing else does, and the next process reads the whole WAL on open: it must stay
    /// small. Only a TRUNCATE does that (after a PASSIVE one, the next opener's recovery
    /// forgets what was copied and the WAL grows without end), and it must not wait: with no
    /// busy timeout it gives up at once when another process is busy, and a later call does
    /// it instead.
    pub async fn checkpoint_if_larger(&self, limit: u64) -> Result<()> {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        if std::fs::metadata(&wal).is_ok_and(|m| m.len() > limit) {
            self.conn
                .busy_timeout(Duration::ZERO)
                .map_err(|e| self.error(e))?;
            self.exec("PRAGMA wal_checkpoint(TRUNCATE)").await?;
        }
        Ok(())
    }

    fn error(&self, e: libsql::Error) -> StoreError {
        // SQLITE_BUSY (5) and SQLITE_LOCKED (6), extended codes included.
        let busy =
            matches!(&e, libsql::Error::SqliteFailure(code, _) if matches!(code & 0xff, 5 | 6));
        StoreError {
            path: self.path.clone(),
            message: match e {
                libsql::Error::SqliteFailure(code, msg) => format!("{msg} (SQLite code {code})"),
                other => other.to_string(),
            },
            busy,
        }
    }

    async fn exec(&self, sql: &str) -> Result<()> {
        self.conn
            .execute_batch(sql)
            .await
            .map(drop)
            .map_err(|e| self.error(e))
    }

    async fn user_version(&self) -> Result<usize> {
        let mut rows = self
            .conn
            .query("PRAGMA user_version", ())
            .await
            .map_err(|e| self.error(e))?;
        let row = rows.next().await.map_err(|e| self.error(e))?;
        let v: i64 = row.map_or(Ok(0), |r| r.get(0)).map_err(|e| self.error(e))?;
        Ok(v as usize)
    }

    /// Applies missing migrations. The common case is one `PRAGMA user_version` read.
    async fn migrate(&self) -> Result<()> {
        let version = self.user_version().await?;
        if version == MIGRATIONS.len() {
            return Ok(());
        }
        if version > MIGRATIONS.len() {
            return Err(StoreError {
                busy: false,
                path: self.path.clone(),
                message: format!(
                    "schema version {version} is newer than this flowhook ({}); upgrade flowhook",
                    MIGRATIONS.len()
                ),
            });
        }
        // WAL and incremental vacuum (prune gives pages back without rewriting the file) are
        // properties of the file; auto_vacuum can only be set before the first table exists.
        if version == 0 {
            self.exec("PRAGMA auto_vacuum = INCREMENTAL").await?;
        }
        self.exec("PRAGMA journal_mode = WAL").await?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .await
            .map_err(|e| self.error(e))?;
        // Another process may have migrated while we waited for the lock.
        let version = self.user_version().await?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            tx.execute_batch(sql).await.map_err(|e| self.error(e))?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
                .await
                .map_err(|e| self.error(e))?;
        }
        tx.commit().await.map_err(|e| self.error(e))
    }

    /// Stores one event in one IMMEDIATE transaction: its row, the session's row, and the
    /// recall items handed to the agent with it (`given`, ids of `recall::ItemKey`).
    pub async fn record(
        &self,
        n: &Normalised,
        at: &Stamp<'_>,
        given: &[String],
    ) -> Result<Written> {
        // The transcript is read before the write lock is taken: it may be megabytes.
        let usage = match &n.event {
            Event::SessionEnd { .. } => self.transcript_usage(&n.ctx).await?,
            _ => None,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .await
            .map_err(|e| self.error(e))?;
        let written = self.write_event(n, at, usage.as_ref()).await?;
        if matches!(&n.event, Event::SessionStart { source, .. } if source == "compact") {
            // Compaction dropped what the session was given: it may be given again.
            self.run(
                "DELETE FROM recall_log WHERE session_id = ?1",
                params![n.ctx.session_id.as_str()],
            )
            .await?;
        }
        if !given.is_empty() {
            // One statement for all of them: `json_each` spreads the list into rows.
            self.run(
                "INSERT INTO recall_log (session_id, item, given_at)
                 SELECT ?1, value, ?3 FROM json_each(?2) WHERE true
                 ON CONFLICT DO NOTHING",
                params![
                    n.ctx.session_id.as_str(),
                    serde_json::to_string(given).expect("strings"),
                    at.now
                ],
            )
            .await?;
        }
        for item in given {
            if let Some(file) = item.strip_prefix("fact:") {
                self.run(
                    "UPDATE knowledge_base SET usage_count = usage_count + 1
                     WHERE project = ?1 AND file = ?2",
                    params![at.project, file],
                )
                .await?;
            }
        }
        tx.commit().await.map_err(|e| self.error(e))?;
        Ok(written)
    }

    /// Merges the full-text indexes' segments into one. Each hook call adds a small segment;
    /// queries slow down with their number, so maintenance (and a seeded history) ends here.
    pub async fn optimize_indexes(&self) -> Result<()> {
        self.exec(
            "INSERT INTO task_fts (task_fts) VALUES ('optimize');
             INSERT INTO edit_fts (edit_fts) VALUES ('optimize');",
        )
        .await
    }

    /// A bounded step of the same merging (about `pages` pages of work), cheap enough for a
    /// SessionEnd hook: segments then never pile up between manual optimisations.
    pub async fn merge_indexes(&self, pages: u32) -> Result<()> {
        self.exec(&format!(
            "INSERT INTO task_fts (task_fts, rank) VALUES ('merge', {pages});
             INSERT INTO edit_fts (edit_fts, rank) VALUES ('merge', {pages});"
        ))
        .await
    }

    /// Stores many events in one transaction (seeding a benchmark history), each as `record`
    /// stores it. Returns how many were new.
    pub async fn record_many(&self, events: &[(Normalised, Stamp<'_>)]) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .await
            .map_err(|e| self.error(e))?;
        let mut inserted = 0;
        for (n, at) in events {
            inserted += usize::from(self.write_event(n, at, None).await? == Written::Inserted);
        }
        tx.commit().await.map_err(|e| self.error(e))?;
        Ok(inserted)
    }

    async fn write_event(
        &self,
        n: &Normalised,
        at: &Stamp<'_>,
        usage: Option<&Usage>,
    ) -> Result<Written> {
        let ctx = &n.ctx;
        self.open_session(ctx, at, None).await?;
        let changed = match &n.event {
            Event::Task(t) => self.insert_task(ctx, t, at).await?,
            Event::Edit(e) => self.insert_edit(ctx, e, at).await?,
            Event::Subagent(a) => self.insert_subagent(ctx, a, at).await?,
            Event::SessionStart { source, model } => {
                self.open_session(ctx, at, Some(source)).await?;
                self.run(
                    "UPDATE session_summaries SET model = coalesce(?2, model) WHERE session_id = ?1",
                    params![ctx.session_id.as_str(), model.as_deref()],
                )
                .await?
            }
            Event::SessionEnd {
                reason,
                last_message,
            } => {
                self.end_session(ctx, reason.as_deref(), last_message.as_deref(), usage, at)
                    .await?
            }
        };
        Ok(if changed > 0 {
            Written::Inserted
        } else {
            Written::Duplicate
        })
    }

    /// All rows of a query, as values.
    async fn rows(
        &self,
        sql: &str,
        values: impl libsql::params::IntoParams,
    ) -> Result<Vec<Vec<libsql::Value>>> {
        let mut rows = self
            .conn
            .query(sql, values)
            .await
            .map_err(|e| self.error(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().await.map_err(|e| self.error(e))? {
            let n = row.column_count();
            out.push(
                (0..n)
                    .map(|i| row.get_value(i).unwrap_or(libsql::Value::Null))
                    .collect(),
            );
        }
        Ok(out)
    }

    async fn run(&self, sql: &str, values: impl libsql::params::IntoParams) -> Result<u64> {
        self.conn
            .execute(sql, values)
            .await
            .map_err(|e| self.error(e))
    }

    /// The session's row, opened by its first event (`started_at` = first event seen).
    async fn open_session(
        &self,
        ctx: &Context,
        at: &Stamp<'_>,
        source: Option<&str>,
    ) -> Result<u64> {
        self.run(
            "INSERT INTO session_summaries
                 (session_id, project, cwd, transcript_path, start_source, started_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
             ON CONFLICT (session_id) DO UPDATE SET
                 start_source = coalesce(start_source, excluded.start_source),
                 transcript_path = coalesce(transcript_path, excluded.transcript_path)
             WHERE excluded.start_source IS NOT NULL AND start_source IS NULL",
            params![
                ctx.session_id.as_str(),
                at.project,
                ctx.cwd.as_deref(),
                ctx.transcript_path.as_deref(),
                source,
                at.now
            ],
        )
        .await
    }

    async fn insert_task(&self, ctx: &Context, t: &Task, at: &Stamp<'_>) -> Result<u64> {
        self.run(
            // A prompt is its own group (task_ref); a subagent launch joins its prompt's.
            "INSERT INTO task_log (id, session_id, task_key, task_id, source_event, agent_id,
                 agent_type, subagent_type, task, project, cwd, created_at, task_ref)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,
                 CASE WHEN ?5 = 'PreToolUse'
                      THEN coalesce(?13, (SELECT task_ref FROM task_log
                                          WHERE session_id = ?2 AND source_event <> 'PreToolUse'
                                          ORDER BY rowid DESC LIMIT 1))
                      ELSE ?3 END)
             ON CONFLICT (session_id, task_key) DO NOTHING",
            params![
                new_id(),
                ctx.session_id.as_str(),
                t.key.as_str(),
                t.task_id.as_deref(),
                ctx.hook_event.as_str(),
                ctx.agent_id.as_deref(),
                ctx.agent_type.as_deref(),
                t.subagent_type.as_deref(),
                t.text.as_str(),
                at.project,
                ctx.cwd.as_deref(),
                at.now,
                ctx.prompt_id.as_deref()
            ],
        )
        .await
    }

    async fn insert_edit(&self, ctx: &Context, e: &Edit, at: &Stamp<'_>) -> Result<u64> {
        let f = &e.facts;
        let rel = crate::paths::relative_to(&f.file, Path::new(at.project));
        self.run(
            // The edit belongs to the prompt it was made for (task_ref): the payload's prompt_id,
            // else the session's latest prompt.
            "INSERT INTO edit_history (id, session_id, edit_key, tool_use_id, agent_id, agent_type,
                 file, rel_path, tool, kind, lines_added, lines_removed, diff, diff_truncated,
                 content_hash, duration_ms, project, cwd, created_at, basename, task_ref)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18, ?19, ?20,
                 coalesce(?21, (SELECT task_ref FROM task_log
                                WHERE session_id = ?2 AND source_event <> 'PreToolUse'
                                ORDER BY rowid DESC LIMIT 1)))
             ON CONFLICT (session_id, edit_key) DO NOTHING",
            params![
                new_id(),
                ctx.session_id.as_str(),
                e.key.as_str(),
                e.tool_use_id.as_deref(),
                ctx.agent_id.as_deref(),
                ctx.agent_type.as_deref(),
                f.file.as_str(),
                rel,
                e.tool.as_str(),
                f.kind,
                f.lines_added as i64,
                f.lines_removed as i64,
                f.diff.as_str(),
                f.diff_truncated,
                f.content_hash.as_str(),
                e.duration_ms.map(|d| d as i64),
                at.project,
                ctx.cwd.as_deref(),
                at.now,
                basename(&f.file),
                ctx.prompt_id.as_deref()
            ],
        )
        .await
    }

    /// Keeps a payload that could not be understood, with the reason.
    pub async fn reject(&self, r: &Rejected<'_>, now: &str) -> Result<()> {
        self.run(
            "INSERT INTO rejected_events (id, received_at, reason, args, payload, payload_bytes,
                 truncated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                new_id(),
                now,
                r.reason,
                serde_json::to_string(r.args).unwrap_or_default(),
                r.payload,
                r.payload_bytes as i64,
                r.truncated
            ],
        )
        .await
        .map(drop)
    }
}

/// A payload kept in `rejected_events`.
pub struct Rejected<'a> {
    pub reason: &'a str,
    pub args: &'a [String],
    /// Already bounded and made valid UTF-8.
    pub payload: &'a str,
    pub payload_bytes: usize,
    pub truncated: bool,
}

/// The last component of a path, Unix or Windows.
pub(crate) fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// A new globally unique, time-ordered row id.
fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

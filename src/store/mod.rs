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

//!
//! One file per job: `write` (an event's rows, quarantine, what recall handed out),
//! `ending` (a session's summary), `knowledge` (facts per file), `read` (what the debugging
//! commands show), `recall` (recall's candidates), `maintain` (retention, index merging,
//! checkpoints, rebuilding what is derived), `row` (reading a row by column name).
//!
//! Every statement binds named parameters (`:session`, `:now`) and reads its columns by name
//! into typed rows: a column that does not hold what its Rust type says is an error naming it.
//!
//! Recorded tables hold what happened: task_log, edit_history, swarm_coordination,
//! rejected_events, recall_log, and session_summaries' recorded columns (when and how it
//! started and ended, its transcript's usage). Derived tables can be rebuilt from them
//! (`flowhook rebuild`): the full-text indexes, file_sessions, knowledge_base (but for
//! usage_count, which counts what recall handed out), and session_summaries' counts, metrics
//! and summary.

mod agents;
#[cfg(feature = "ui")]
pub mod browse;
mod ending;
mod knowledge;
mod live;
mod maintain;
mod memory;
mod presence;
mod read;
mod recall;
mod row;
mod stream;
// The local half of team memory. Retention needs `held_projects` in every build; the rest
// serves `sync` alone, which a build without the `team` feature leaves out.
#[cfg_attr(not(feature = "team"), allow(dead_code))]
mod sync;
mod write;

pub use live::{TeamEdit, TeamTask};
#[cfg(feature = "team")]
pub use memory::LATEST_VERSION;
pub use memory::{MAX_TTL_SECONDS, Memory, Slot, expiry};
#[cfg(feature = "ui")]
pub use read::FileChange;
pub use read::{SessionRow, Timeline, TimelineEvent};
pub use row::ColumnError;
pub use stream::Stream;
#[cfg(feature = "team")]
pub use sync::{Column, Pace, SHARED, Shared, cursor_key, push_scope};
pub use write::{Rejected, Stamp};

use crate::time::Time;
use libsql::{Connection, TransactionBehavior};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The migrations, in order; `user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_recall.sql"),
    include_str!("migrations/0003_sessions.sql"),
    include_str!("migrations/0004_order_and_keys.sql"),
    include_str!("migrations/0005_covering_basename.sql"),
    include_str!("migrations/0006_team.sql"),
    include_str!("migrations/0007_agent_memory.sql"),
    include_str!("migrations/0008_agent_memory_sync.sql"),
    include_str!("migrations/0009_stream.sql"),
    include_str!("migrations/0010_memory_clock.sql"),
    include_str!("migrations/0011_agent.sql"),
];

/// The schema version that brought the stream (0009): a file migrated from before it may be
/// adopted as this machine's (see `stream`).
const STREAM_VERSION: usize = 9;

/// `PRAGMA application_id` of the databases flowhook creates ("FlHk"): a database holding
/// tables without it is another program's.
pub const APPLICATION_ID: i64 = 0x466C_486B;

/// SHA-256 of the schema [`MIGRATIONS`] make (see [`SCHEMA_SQL`]): checked on every open, one
/// read of `sqlite_schema`. A database can come with a repository (a committed
/// `.swarm/flowhook.db`), marked as flowhook's and with a trigger, a view or a changed table
/// of someone else's, which would run on flowhook's writes: one whose schema differs is
/// refused. A new migration changes it (the test `the_schema_hash_is_what_the_migrations_make`
/// prints the new value).
const SCHEMA_SHA256: &str = "b53620085ecbc85bacb3532322794ea4a16e862ebf17a01b0641f7f557e24f8a";

/// The schema as compared: every object's type, name, table and SQL, in a fixed order.
const SCHEMA_SQL: &str = "SELECT coalesce(group_concat(type || char(31) || name || char(31) ||
     tbl_name || char(31) || coalesce(sql, ''), char(30)), '')
     FROM (SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name)";

/// A failure of the database, with the file it concerns.
#[derive(Debug, thiserror::Error)]
#[error("database {}: {why}", .path.display())]
pub struct StoreError {
    pub path: PathBuf,
    #[source]
    pub why: Why,
}

/// Why the database failed.
#[derive(Debug, thiserror::Error)]
pub enum Why {
    /// libSQL's own error, kept as it came.
    #[error("{}", sqlite_text(.0))]
    Sqlite(#[source] libsql::Error),
    /// flowhook will not use the file (not a database of its own, a path it refuses, ...).
    #[error("{0}")]
    Refused(String),
    /// A row read does not hold what its column should (a NULL where a number is
    /// required: the schema is not what this flowhook reads).
    #[error("{0}")]
    Column(#[source] ColumnError),
}

/// SQLite's message with its code, which says more than its text.
fn sqlite_text(e: &libsql::Error) -> String {
    match e {
        libsql::Error::SqliteFailure(code, msg) => format!("{msg} (SQLite code {code})"),
        other => other.to_string(),
    }
}

impl StoreError {
    pub fn refused(path: &Path, message: String) -> StoreError {
        StoreError {
            path: path.to_path_buf(),
            why: Why::Refused(message),
        }
    }

    /// Another writer held the lock past `busy_timeout` (SQLITE_BUSY or SQLITE_LOCKED,
    /// extended codes included): worth another try.
    pub fn busy(&self) -> bool {
        matches!(&self.why, Why::Sqlite(libsql::Error::SqliteFailure(code, _))
            if matches!(code & 0xff, 5 | 6))
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Inserted,
    /// The same event was stored before (see `write` for what "the same" means).
    Duplicate,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// This machine's part of the file's stream, or why it has none (then nothing is pushed).
    stream: std::result::Result<Stream, String>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// An existing file that is not a database, or a database flowhook did not create, is an
    /// error and is left untouched; so is a path that is a symlink or another user's file.
    pub async fn open(path: &Path, busy_timeout: Duration) -> Result<Store> {
        let err = |message: String| StoreError::refused(path, message);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::paths::data_dir(dir)
                .map_err(|e| err(format!("cannot create its directory: {e}")))?;
        }
        crate::paths::check_database(path).map_err(|e| err(e.to_string()))?;
        // Created empty and owner-only (SQLite then gives its WAL and shared-memory files the
        // same mode); its identity says whose stream it holds.
        let file =
            crate::paths::open_append(path).map_err(|e| err(format!("cannot create it: {e}")))?;
        let identity = stream::identity(&file).map_err(|e| e.to_string());
        drop(file);
        let db = libsql::Builder::new_local(path)
            .build()
            .await
            .map_err(|e| err(e.to_string()))?;
        let conn = db.connect().map_err(|e| err(e.to_string()))?;
        conn.busy_timeout(busy_timeout)
            .map_err(|e| err(e.to_string()))?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            stream: Err(String::new()),
        };
        // Per connection, before anything is read: functions with side effects never run
        // from the schema (a belt to the schema check's braces); see the module doc for why
        // NORMAL is durable enough here.
        store
            .exec(
                "PRAGMA trusted_schema = OFF; PRAGMA synchronous = NORMAL;
                 PRAGMA mmap_size = 268435456",
            )
            .await?;
        let before = store.migrate().await?;
        let adopt = (1..STREAM_VERSION).contains(&before) && stream::synced_here_before(path);
        store.stream = match identity {
            Ok(id) => store.bind(&id, adopt).await.map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, e: libsql::Error) -> StoreError {
        StoreError {
            path: self.path.clone(),
            why: Why::Sqlite(e),
        }
    }

    async fn exec(&self, sql: &str) -> Result<()> {
        self.conn
            .execute_batch(sql)
            .await
            .map(drop)
            .map_err(|e| self.error(e))
    }

    /// The schema version, flowhook's mark, and the schema ([`SCHEMA_SQL`]): one read.
    async fn marks(&self) -> Result<Marks> {
        let marks = self
            .first(
                &format!(
                    "SELECT (SELECT user_version FROM pragma_user_version) AS version,
                            (SELECT application_id FROM pragma_application_id) AS app,
                            ({SCHEMA_SQL}) AS schema"
                ),
                (),
            )
            .await?;
        Ok(marks.unwrap_or_default())
    }

    /// Refuses a schema that is not what the migrations up to `version` make, naming what
    /// differs. The current version is compared by hash (the hot path); an older one, on
    /// the way to a migration, with an in-memory database migrated as far.
    async fn check_schema(&self, version: usize, schema: &str) -> Result<()> {
        match version {
            0 if schema.is_empty() => return Ok(()),
            v if v == MIGRATIONS.len() && schema_hash(schema) == SCHEMA_SHA256 => return Ok(()),
            _ => {}
        }
        let expected = expected_schema(version)
            .await
            .map_err(|e| self.refuse(format!("cannot build the expected schema: {e}")))?;
        if schema == expected {
            return Ok(());
        }
        Err(self.refuse(format!(
            "its schema is not flowhook's ({}); flowhook leaves it untouched (a database \
             that came with a repository can run someone else's triggers): move it aside, \
             or point FLOWHOOK_DB or database.path at another file",
            schema_differences(schema, &expected)
        )))
    }

    fn refuse(&self, message: String) -> StoreError {
        StoreError::refused(&self.path, message)
    }

    /// Applies missing migrations. The common case is one read of the marks. A database that
    /// holds tables but not flowhook's mark is another program's: it is never migrated or
    /// written (databases made by flowhook before the mark existed are recognised by their
    /// tables and marked). Returns the version the file had.
    async fn migrate(&self) -> Result<usize> {
        let Marks {
            version,
            app,
            schema,
        } = self.marks().await?;
        if app == APPLICATION_ID && version == MIGRATIONS.len() {
            self.check_schema(version, &schema).await?;
            return Ok(version);
        }
        let has_tables = !schema.is_empty();
        if app != APPLICATION_ID && has_tables && !self.is_unmarked_flowhook(version).await? {
            return Err(self.refuse(format!(
                "not a flowhook database (it holds another program's tables{}); flowhook \
                 leaves it untouched: point FLOWHOOK_DB or database.path at another file",
                if app != 0 {
                    format!(", application_id {app:#x}")
                } else {
                    String::new()
                }
            )));
        }
        if version > MIGRATIONS.len() {
            return Err(self.refuse(format!(
                "schema version {version} is newer than this flowhook ({}); upgrade flowhook",
                MIGRATIONS.len()
            )));
        }
        self.check_schema(version, &schema).await?;
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
        let Marks {
            version, schema, ..
        } = self.marks().await?;
        self.check_schema(version, &schema).await?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            tx.execute_batch(sql).await.map_err(|e| self.error(e))?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
                .await
                .map_err(|e| self.error(e))?;
        }
        tx.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID}"))
            .await
            .map_err(|e| self.error(e))?;
        tx.commit().await.map_err(|e| self.error(e))?;
        Ok(version)
    }

    /// A database of an earlier flowhook, from before databases were marked: its version is
    /// one of ours and it holds our four first tables.
    async fn is_unmarked_flowhook(&self, version: usize) -> Result<bool> {
        if !(1..=3).contains(&version) {
            return Ok(false);
        }
        let ours = self
            .value::<i64>(
                "SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table' AND name IN
                     ('task_log', 'edit_history', 'session_summaries', 'rejected_events')",
                (),
                "n",
            )
            .await?;
        Ok(ours == Some(4))
    }

    async fn run(&self, sql: &str, values: impl Named) -> Result<u64> {
        #[cfg(debug_assertions)]
        self.check_names(sql, &values).await;
        self.conn
            .execute(sql, values)
            .await
            .map_err(|e| self.error(e))
    }

    /// What `read` makes of each row of a query, up to `limit` rows.
    async fn each<T>(
        &self,
        sql: &str,
        values: impl Named,
        limit: usize,
        read: impl Fn(&libsql::Row) -> std::result::Result<T, ColumnError>,
    ) -> Result<Vec<T>> {
        #[cfg(debug_assertions)]
        self.check_names(sql, &values).await;
        let mut rows = self
            .conn
            .query(sql, values)
            .await
            .map_err(|e| self.error(e))?;
        let mut out = Vec::new();
        while out.len() < limit
            && let Some(row) = rows.next().await.map_err(|e| self.error(e))?
        {
            out.push(read(&row).map_err(|e| StoreError {
                path: self.path.clone(),
                why: Why::Column(e),
            })?);
        }
        Ok(out)
    }

    /// Every row of a query as `T`, by column name (see `row`).
    async fn typed<T: DeserializeOwned>(&self, sql: &str, values: impl Named) -> Result<Vec<T>> {
        self.each(sql, values, usize::MAX, row::from_row).await
    }

    /// The first row of a query as `T`, by column name.
    async fn first<T: DeserializeOwned>(&self, sql: &str, values: impl Named) -> Result<Option<T>> {
        Ok(self.each(sql, values, 1, row::from_row).await?.pop())
    }

    /// The column `name` of every row of a query.
    async fn column<T: DeserializeOwned>(
        &self,
        sql: &str,
        values: impl Named,
        name: &str,
    ) -> Result<Vec<T>> {
        self.each(sql, values, usize::MAX, |r| row::column(r, name))
            .await
    }

    /// The column `name` of the first row of a query.
    async fn value<T: DeserializeOwned>(
        &self,
        sql: &str,
        values: impl Named,
        name: &str,
    ) -> Result<Option<T>> {
        Ok(self
            .each(sql, values, 1, |r| row::column(r, name))
            .await?
            .pop())
    }

    /// Whether a query returns a row.
    async fn exists(&self, sql: &str, values: impl Named) -> Result<bool> {
        Ok(!self.each(sql, values, 1, |_| Ok(())).await?.is_empty())
    }

    /// That every parameter of `sql` is given a value, in a debug build (the tests): a
    /// misspelt name would bind NULL without a word. A statement that does not prepare is
    /// left to fail where it runs.
    #[cfg(debug_assertions)]
    async fn check_names(&self, sql: &str, values: &impl Named) {
        let Ok(stmt) = self.conn.prepare(sql).await else {
            return;
        };
        let given = values.names();
        for i in 1..=stmt.parameter_count() as i32 {
            let name = stmt.parameter_name(i);
            assert!(
                name.is_some_and(|n| given.contains(&n)),
                "no value for the parameter {name:?} of {sql}"
            );
        }
    }

    /// One IMMEDIATE transaction: the write lock is taken at once, so a writer waits for it
    /// in `busy_timeout`, never halfway through.
    async fn begin(&self) -> Result<libsql::Transaction> {
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .await
            .map_err(|e| self.error(e))
    }

    async fn commit(&self, tx: libsql::Transaction) -> Result<()> {
        tx.commit().await.map_err(|e| self.error(e))
    }
}

/// The values of a statement's named parameters: `named_params!`, a list of (name, value)
/// made for the statement, or none.
trait Named: libsql::params::IntoParams {
    /// The names given (see [`Store::check_names`]).
    #[cfg_attr(not(debug_assertions), allow(dead_code))]
    fn names(&self) -> Vec<&str>;
}

impl Named for () {
    fn names(&self) -> Vec<&str> {
        Vec::new()
    }
}

impl<T: libsql::params::IntoValue, const N: usize> Named for [(&str, T); N] {
    fn names(&self) -> Vec<&str> {
        self.iter().map(|(n, _)| *n).collect()
    }
}

impl Named for Vec<(String, libsql::Value)> {
    fn names(&self) -> Vec<&str> {
        self.iter().map(|(n, _)| n.as_str()).collect()
    }
}

/// What a database says it is (see [`Store::marks`]).
#[derive(Default, serde::Deserialize)]
struct Marks {
    version: usize,
    app: i64,
    /// [`SCHEMA_SQL`]: empty for a database without any object.
    schema: String,
}

fn schema_hash(schema: &str) -> String {
    use sha2::Digest;
    crate::text::hex(&sha2::Sha256::digest(schema.as_bytes()))
}

/// The schema ([`SCHEMA_SQL`]) the first `version` migrations make, in a database in memory.
async fn expected_schema(version: usize) -> std::result::Result<String, Why> {
    let db = libsql::Builder::new_local(":memory:")
        .build()
        .await
        .map_err(Why::Sqlite)?;
    let conn = db.connect().map_err(Why::Sqlite)?;
    for sql in &MIGRATIONS[..version.min(MIGRATIONS.len())] {
        conn.execute_batch(sql).await.map_err(Why::Sqlite)?;
    }
    let mut rows = conn
        .query(&format!("SELECT ({SCHEMA_SQL}) AS schema"), ())
        .await
        .map_err(Why::Sqlite)?;
    match rows.next().await.map_err(Why::Sqlite)? {
        Some(row) => row::column(&row, "schema").map_err(Why::Column),
        None => Ok(String::new()),
    }
}

/// What a schema has that `expected` has not, and the other way round, by object.
fn schema_differences(schema: &str, expected: &str) -> String {
    let objects = |s: &str| -> Vec<(String, String)> {
        s.split('\u{1e}')
            .filter(|o| !o.is_empty())
            .map(|o| {
                let mut f = o.split('\u{1f}');
                let (kind, name) = (f.next().unwrap_or(""), f.next().unwrap_or(""));
                (format!("{kind} {name}"), o.to_owned())
            })
            .collect()
    };
    let (have, want) = (objects(schema), objects(expected));
    let named = |list: &[(String, String)], name: &str| list.iter().any(|(n, _)| n == name);
    let mut out = Vec::new();
    for (name, object) in &have {
        if !named(&want, name) {
            out.push(format!("{name} is not flowhook's"));
        } else if !want.iter().any(|(_, o)| o == object) {
            out.push(format!("{name} is changed"));
        }
    }
    for (name, _) in &want {
        if !named(&have, name) {
            out.push(format!("{name} is missing"));
        }
    }
    let shown: Vec<String> = out
        .iter()
        .take(5)
        .map(|d| crate::text::truncate(d, 120).0.to_owned())
        .collect();
    match out.len() {
        n if n > 5 => format!("{}, and {} more", shown.join(", "), n - 5),
        _ => shown.join(", "),
    }
}

/// The last component of a path, Unix or Windows.
pub(crate) fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// A new globally unique row id made from the time of the event it belongs to: a UUIDv7 whose 48-bit time is the event's, so that ids sort by when things
/// happened, also for rows stored late. Ids made in one process for one millisecond carry an
/// 18-bit counter (seeded at random in the lower half) in the bits after the time, so they
/// still sort in the order they were made; the rest is random. (uuid's own context would
/// move an earlier time forward to stay monotonic: a spooled event must keep its time.)
fn new_id(at: &Time) -> String {
    static LAST: std::sync::Mutex<(u64, u32)> = std::sync::Mutex::new((0, 0));
    let ms = at.millis().max(0) as u64;
    let random = *uuid::Uuid::new_v4().as_bytes();
    let counter = {
        let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
        if last.0 == ms {
            last.1 = last.1.wrapping_add(1);
        } else {
            *last = (
                ms,
                u32::from_be_bytes([0, random[0] & 0x01, random[1], random[2]]),
            );
        }
        last.1
    };
    let mut bytes = [0u8; 10];
    bytes[0] = ((counter >> 14) & 0x0F) as u8;
    bytes[1] = ((counter >> 6) & 0xFF) as u8;
    bytes[2] = (counter & 0x3F) as u8;
    bytes[3..].copy_from_slice(&random[3..10]);
    uuid::Builder::from_unix_timestamp_millis(ms, &bytes)
        .into_uuid()
        .to_string()
}

/// A time is bound as it is stored.
impl From<&Time> for libsql::Value {
    fn from(t: &Time) -> libsql::Value {
        libsql::Value::Text(t.as_str().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_hash_is_what_the_migrations_make() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let schema = rt.block_on(expected_schema(MIGRATIONS.len())).unwrap();
        assert_eq!(
            schema_hash(&schema),
            SCHEMA_SHA256,
            "a migration changed the schema: SCHEMA_SHA256 is now this"
        );
    }

    #[test]
    fn a_locked_database_is_busy_and_keeps_libsqls_error() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("t.db");
            let store = Store::open(&db, Duration::ZERO).await.unwrap();
            let other = Store::open(&db, Duration::ZERO).await.unwrap();
            other.exec("BEGIN IMMEDIATE").await.unwrap();
            let e = store.exec("BEGIN IMMEDIATE").await.unwrap_err();
            assert!(e.busy(), "{e}");
            let source = std::error::Error::source(&e).and_then(std::error::Error::source);
            assert!(
                matches!(
                    source.and_then(|s| s.downcast_ref::<libsql::Error>()),
                    Some(libsql::Error::SqliteFailure(5, _))
                ),
                "{source:?}"
            );
            assert!(e.to_string().ends_with("(SQLite code 5)"), "{e}");
            let refused = StoreError::refused(&db, "not ours".into());
            assert!(!refused.busy() && std::error::Error::source(&refused).is_some());
        });
    }

    #[test]
    fn a_null_where_a_number_is_required_is_an_error_naming_the_column() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("t.db");
            let store = Store::open(&db, Duration::from_secs(1)).await.unwrap();
            let e = store
                .typed::<std::collections::HashMap<String, i64>>(
                    "SELECT max(started_at) AS n FROM session_summaries",
                    (),
                )
                .await
                .unwrap_err();
            assert!(
                matches!(&e.why, Why::Column(c) if c.column.as_deref() == Some("n")),
                "{e:?}"
            );
            assert!(!e.busy());
            assert_eq!(
                e.to_string(),
                format!(
                    "database {}: column n: holds NULL, where i64 is required",
                    db.display()
                )
            );
            let e = store
                .value::<i64>(
                    "SELECT session_id AS n FROM session_summaries
                     UNION ALL SELECT :text",
                    libsql::named_params! {":text": "seven"},
                    "n",
                )
                .await
                .unwrap_err();
            assert!(
                e.to_string()
                    .ends_with("column n: holds string \"seven\", where i64 is required"),
                "{e}"
            );
        });
    }

    /// A database at `version` as flowhook made it, with `extra` run on it afterwards.
    async fn at_version(path: &Path, version: usize, extra: &str) {
        let db = libsql::Builder::new_local(path).build().await.unwrap();
        let conn = db.connect().unwrap();
        for sql in &MIGRATIONS[..version] {
            conn.execute_batch(sql).await.unwrap();
        }
        conn.execute_batch(&format!(
            "PRAGMA user_version = {version}; PRAGMA application_id = {APPLICATION_ID}; {extra}"
        ))
        .await
        .unwrap();
    }

    #[test]
    fn an_older_database_is_migrated_unless_someone_added_to_it() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let busy = Duration::from_secs(1);
            let ok = dir.path().join("ok.db");
            at_version(&ok, MIGRATIONS.len() - 1, "").await;
            Store::open(&ok, busy).await.unwrap();
            let marks = Store::open(&ok, busy).await.unwrap().marks().await.unwrap();
            assert_eq!(marks.version, MIGRATIONS.len());
            let bad = dir.path().join("bad.db");
            at_version(
                &bad,
                MIGRATIONS.len() - 1,
                "CREATE TRIGGER t AFTER INSERT ON task_log BEGIN SELECT 1; END;",
            )
            .await;
            let e = Store::open(&bad, busy).await.err().unwrap();
            assert!(e.to_string().contains("trigger t is not flowhook's"), "{e}");
        });
    }

    #[test]
    fn schema_differences_name_the_objects() {
        let want = "table\u{1f}t\u{1f}t\u{1f}CREATE TABLE t (a)\u{1e}index\u{1f}i\u{1f}t\u{1f}CREATE INDEX i ON t (a)";
        let have = "table\u{1f}t\u{1f}t\u{1f}CREATE TABLE t (a, b)\u{1e}trigger\u{1f}x\u{1f}t\u{1f}CREATE TRIGGER x";
        assert_eq!(
            schema_differences(have, want),
            "table t is changed, trigger x is not flowhook's, index i is missing"
        );
    }

    #[test]
    fn ids_sort_by_the_events_time_not_by_when_they_were_made() {
        let at = |s: &str| Time::at(chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc());
        let late = new_id(&at("2026-11-22T10:00:00.000Z"));
        let early = new_id(&at("2026-11-22T09:00:00.000Z"));
        assert!(early < late);
        let nine = at("2026-11-22T09:00:00.000Z");
        let same: Vec<String> = (0..100).map(|_| new_id(&nine)).collect();
        let mut sorted = same.clone();
        sorted.sort();
        assert_eq!(same, sorted);
    }
}

//! The local side of team memory (see `sync/`): which rows this machine has not pushed yet,
//! rows pulled from the server, and sync's own state. Rows travel as JSON objects, one per
//! row, made and read by SQLite itself (`json_object`, `json_each`), so that the column lists
//! come from the tables and a new column needs no code.

use super::{Result, Store};
use crate::time::Time;
use libsql::{Value, named_params};
use serde::Deserialize;

/// A table shared with the team.
#[derive(Debug, Clone, Copy)]
pub struct Shared {
    pub name: &'static str,
    /// Its key on the server: one row per value.
    pub key: &'static str,
    /// Columns that mean something on this machine only.
    pub local_only: &'static [&'static str],
    /// Whether its rows change after they are written (a session's summary) or only arrive.
    pub versioned: bool,
    /// Whether any machine may write a row (an agent memory slot), the newest version winning
    /// everywhere; else only the machine that recorded it changes it (a session's summary).
    pub any_writer: bool,
    /// Columns sent as another expression: a path as the project-relative one.
    pub sent_as: &'static [(&'static str, &'static str)],
}

/// The tables shared, parents first. Derived tables (full-text indexes, file_sessions,
/// knowledge_base) are rebuilt from these on each machine; the quarantine, the recall log and
/// sync's own state stay local.
pub const SHARED: &[Shared] = &[
    Shared {
        name: "session_summaries",
        key: "session_id",
        // The transcript is a file on the machine that recorded the session; its directories
        // are this machine's paths: none leaves it.
        local_only: &[
            "origin",
            "cwd",
            "root",
            "transcript_path",
            "transcript",
            "recall_since",
            "summarised_rows",
            "pushed_version",
        ],
        versioned: true,
        any_writer: false,
        sent_as: &[],
    },
    Shared {
        name: "task_log",
        key: "id",
        local_only: &["origin", "cwd"],
        versioned: false,
        any_writer: false,
        sent_as: &[],
    },
    Shared {
        name: "edit_history",
        key: "id",
        local_only: &["origin", "cwd"],
        versioned: false,
        any_writer: false,
        // The file as the project knows it; one outside the project by its name alone.
        sent_as: &[("file", "coalesce(r.rel_path, r.basename, '')")],
    },
    Shared {
        name: "swarm_coordination",
        key: "id",
        local_only: &["origin"],
        versioned: false,
        any_writer: false,
        sent_as: &[],
    },
    Shared {
        name: "agent_memory",
        key: "id",
        local_only: &["origin", "pushed_version"],
        versioned: true,
        any_writer: true,
        sent_as: &[],
    },
];

/// Whether the project `p` (an SQL expression) may leave this machine: one whose identity is
/// its path (`/home/ana/x`, `C:\x`) means nothing on another machine, and its rows are never
/// pushed.
fn shareable(p: &str) -> String {
    format!("substr({p}, 1, 1) NOT IN ('/', '\\') AND {p} NOT GLOB '[A-Za-z]:*'")
}

/// The rows `r` of `t` this machine recorded past stream number `:after` (see `stream`), of
/// the projects shared (`:projects`, a JSON array of identities), with their entry `s`: a row
/// pulled from elsewhere is never pushed back.
fn unpushed_from(t: &Shared, columns: &[Column]) -> String {
    let of = |p: &str| {
        format!(
            "{} AND {p} IN (SELECT value FROM json_each(:projects))",
            shareable(p)
        )
    };
    // Rows without a project column belong to their session's.
    let project = if columns.iter().any(|(c, _)| c == "project") {
        of("r.project")
    } else {
        format!(
            "EXISTS (SELECT 1 FROM session_summaries p WHERE p.session_id = r.session_id AND {})",
            of("p.project")
        )
    };
    format!(
        "FROM stream s JOIN {table} r ON r.{key} = s.id
         WHERE s.tbl = '{table}' AND s.seq > :after AND r.origin IS NULL AND {project}",
        table = t.name,
        key = t.key
    )
}

/// Where a push or pull of `t` stands, kept in `sync_state`: `scope` is the server and this
/// machine for a push (how far its stream was sent), the server and its generation for a pull.
pub fn cursor_key(scope: &str, way: &str, t: &Shared) -> String {
    format!("{scope}/{way}.{}", t.name)
}

/// The scope of this `machine`'s push cursors to `server` for the set of `projects` shared
/// (a JSON array): a project shared later is pushed from the start of the stream (the server
/// ignores what it has).
pub fn push_scope(server: &str, machine: &str, projects: &str) -> String {
    let set = &crate::trust::digest(projects.as_bytes())[..16];
    format!("{server}/{machine}#{set}")
}

/// A column of a shared table: name and declared type.
pub type Column = (String, String);

impl Store {
    /// The columns of `t` that travel, in table order.
    pub async fn shared_columns(&self, t: &Shared) -> Result<Vec<Column>> {
        #[derive(Deserialize)]
        struct Declared {
            name: String,
            #[serde(rename = "type")]
            declared: String,
        }
        let declared: Vec<Declared> = self
            .typed(
                "SELECT name, type FROM pragma_table_info(:table) ORDER BY cid",
                named_params! {":table": t.name},
            )
            .await?;
        Ok(declared
            .into_iter()
            .filter(|c| !t.local_only.contains(&c.name.as_str()))
            .map(|c| (c.name, c.declared))
            .collect())
    }

    /// Up to `limit` rows of `t` this machine recorded past stream number `after`, of the
    /// `projects` shared (a JSON array), in stream order, as (stream number, JSON object with
    /// `stream`). A row with several new versions is sent once, at its latest.
    pub async fn unpushed(
        &self,
        t: &Shared,
        columns: &[Column],
        projects: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String)>> {
        #[derive(Deserialize)]
        struct Unpushed {
            seq: i64,
            object: String,
            id: String,
        }
        let sql = format!(
            "SELECT s.seq, {object} AS object, s.id {from} ORDER BY s.seq LIMIT {limit}",
            object = json_object(columns, t.sent_as, "'stream', s.seq"),
            from = unpushed_from(t, columns)
        );
        let rows: Vec<Unpushed> = self
            .typed(&sql, named_params! {":after": after, ":projects": projects})
            .await?;
        let mut latest: std::collections::HashMap<String, usize> = Default::default();
        let mut out: Vec<Option<(i64, String)>> = Vec::with_capacity(rows.len());
        for r in rows {
            if let Some(earlier) = latest.insert(r.id, out.len()) {
                out[earlier] = None;
            }
            out.push(Some((r.seq, r.object)));
        }
        // The last entry read is always kept (only earlier repeats go): the batch ends there.
        Ok(out.into_iter().flatten().collect())
    }

    /// A query for the sessions holding rows this machine recorded of the `projects` shared
    /// (a JSON array) and has not pushed to the server it last used (before a first sync: all
    /// of them). Retention keeps these in sync mode: deleting them would lose them for the
    /// team too.
    pub(super) async fn unsent_sessions(&self, projects: &str) -> Result<String> {
        let Ok(stream) = self.machine() else {
            // Nothing here is this machine's to push.
            return Ok("SELECT NULL WHERE false".to_owned());
        };
        let server = self.sync_state("server").await?.unwrap_or_default();
        let scope = push_scope(&server, &stream.machine, projects);
        let mut parts = Vec::new();
        for t in SHARED {
            let columns = self.shared_columns(t).await?;
            if !columns.iter().any(|(c, _)| c == "session_id") {
                continue;
            }
            // The cursor is read here and written in as a number: nothing the server said
            // reaches the SQL.
            let after: i64 = self
                .sync_state(&cursor_key(&scope, "push", t))
                .await?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
                .max(stream.from);
            // The projects too, as a literal (quotes doubled): the query is run with others'
            // parameters.
            let from = unpushed_from(t, &columns)
                .replace(":after", &after.to_string())
                .replace(":projects", &format!("'{}'", projects.replace('\'', "''")));
            parts.push(format!("SELECT r.session_id {from}"));
        }
        Ok(parts.join(" UNION "))
    }

    /// Drops the stream entries that can never be pushed again: their row is gone, or a later
    /// entry stands for it. The largest stays, so that no number is handed out again.
    pub(super) async fn trim_stream(&self) -> Result<u64> {
        let gone: Vec<String> = SHARED
            .iter()
            .map(|t| {
                format!(
                    "(tbl = '{name}' AND NOT EXISTS (SELECT 1 FROM {name} WHERE {key} = stream.id))",
                    name = t.name,
                    key = t.key
                )
            })
            .collect();
        self.run(
            &format!(
                "DELETE FROM stream WHERE seq < (SELECT max(seq) FROM stream) AND ({}
                     OR seq NOT IN (SELECT max(seq) FROM stream GROUP BY tbl, id))",
                gone.join(" OR ")
            ),
            (),
        )
        .await
    }

    /// How many rows of `t` this machine recorded past stream number `after`, of the
    /// `projects` shared.
    pub async fn pending(
        &self,
        t: &Shared,
        columns: &[Column],
        projects: &str,
        after: i64,
    ) -> Result<i64> {
        let sql = format!(
            "SELECT count(DISTINCT s.id) AS n {}",
            unpushed_from(t, columns)
        );
        let n = self
            .value(
                &sql,
                named_params! {":after": after, ":projects": projects},
                "n",
            )
            .await?;
        Ok(n.unwrap_or(0))
    }

    /// Stores rows pulled from the server (`rows`: a JSON array of objects, each with the
    /// shared columns, `origin` and the server's `seq`), a few at a time (as many as `pace`
    /// says fit in [`SLICE`]), each few in one transaction with the pull's cursor past them
    /// (`cursor`: its key, and the value past the whole page; none for the values a push
    /// found superseded), so that a hook never waits
    /// long on the pull and a sync killed at any moment neither loses nor repeats a row.
    /// Only rows that belong here are taken (see [`belongs`]; `projects`: those shared, a
    /// JSON array); the others are refused and counted. A row already here is kept (ids are
    /// global); a pulled summary replaces an older pulled one, never a session of this
    /// machine, and is summarised again from the rows here. The sessions that gained rows are
    /// marked, to be derived from at the end ([`Store::derive_pulled`]). Returns the rows
    /// stored and those refused.
    pub async fn store_pulled(
        &self,
        t: &Shared,
        columns: &[Column],
        projects: &str,
        rows: &str,
        cursor: Option<(&str, String)>,
        pace: &mut Pace,
    ) -> Result<(u64, u64)> {
        let pull = Pull {
            t,
            columns,
            projects,
            machine: self
                .machine()
                .map(|s| s.machine.clone())
                .unwrap_or_default(),
            insert: pulled_insert(t, columns),
        };
        let all: Vec<Box<serde_json::value::RawValue>> = serde_json::from_str(rows)
            .map_err(|e| self.refuse(format!("rows pulled for {}: {e}", t.name)))?;
        let (mut stored, mut refused) = (0, 0);
        let mut done = 0;
        while done < all.len() {
            let end = (done + pace.rows).min(all.len());
            let part: Vec<&str> = all[done..end].iter().map(|r| r.get()).collect();
            let past = cursor.as_ref().map(|(key, last)| match end == all.len() {
                true => (*key, last.clone()),
                false => (*key, position(t, part[part.len() - 1])),
            });
            let began = std::time::Instant::now();
            let (s, r) = self
                .store_slice(&pull, &format!("[{}]", part.join(",")), past)
                .await?;
            let took = began.elapsed();
            pace.took(end - done, took);
            breathe(took).await;
            (stored, refused) = (stored + s, refused + r);
            done = end;
        }
        Ok((stored, refused))
    }

    /// One transaction of a pull: the rows of `rows` (a JSON array) that belong here stored,
    /// those that do not counted, the pull's cursor moved `past` them, and the sessions that
    /// gained rows marked. Returns the rows stored and those refused.
    async fn store_slice(
        &self,
        pull: &Pull<'_>,
        rows: &str,
        past: Option<(&str, String)>,
    ) -> Result<(u64, u64)> {
        let (t, belongs) = (pull.t, belongs(pull.columns));
        let tx = self.begin().await?;
        let refused: i64 = self
            .value(
                &format!("SELECT count(*) AS n FROM json_each(:rows) AS j WHERE NOT ({belongs})"),
                pull.values(rows),
                "n",
            )
            .await?
            .unwrap_or(0);
        if refused > 0 {
            self.run(
                "INSERT INTO sync_state (key, value) VALUES (:key, :n)
                 ON CONFLICT DO UPDATE SET value = value + excluded.value",
                named_params! {":key": format!("refused.{}", t.name), ":n": refused},
            )
            .await?;
        }
        let stored = match self.run(&pull.insert, pull.values(rows)).await {
            Ok(n) => n,
            // A row this schema refuses must not hold back the others, nor every later
            // pull: each is tried alone, and those refused are set aside with the reason.
            Err(_) => self.store_each(pull, rows).await?,
        };
        if let Some((key, past)) = past {
            self.run(
                "INSERT INTO sync_state (key, value) VALUES (:key, :value)
                 ON CONFLICT DO UPDATE SET value = excluded.value",
                named_params! {":key": key, ":value": past},
            )
            .await?;
        }
        if !t.versioned && pull.columns.iter().any(|(c, _)| c == "session_id") {
            // Marked with the rows: a sync killed before the end leaves them to the next.
            self.run(
                &format!(
                    "INSERT INTO sync_state (key, value)
                     SELECT DISTINCT '{DERIVE}' || (j.value ->> 'session_id'), ''
                     FROM json_each(:rows) AS j WHERE {belongs}
                     ON CONFLICT DO NOTHING"
                ),
                pull.values(rows),
            )
            .await?;
        }
        self.commit(tx).await?;
        Ok((stored, refused as u64))
    }

    /// After a pull (and after one stopped halfway): what this machine derives from the
    /// rows, brought up to date for the sessions that gained some, each step its own short
    /// transaction: the sessions' file rows, their summaries (from every machine's rows of
    /// them), then the facts of the files that changed. How many sessions.
    pub async fn derive_pulled(&self, now: &Time) -> Result<usize> {
        let marked: Vec<String> = self
            .column(
                "SELECT key FROM sync_state WHERE key >= :prefix AND key < :prefix || char(1114111)",
                named_params! {":prefix": DERIVE},
                "key",
            )
            .await?;
        let mut touched = Vec::new();
        for key in marked {
            touched.push(key[DERIVE.len()..].to_owned());
            let tx = self.begin().await?;
            let began = std::time::Instant::now();
            self.session_file_rows(&key[DERIVE.len()..]).await?;
            self.run(
                "DELETE FROM sync_state WHERE key = :key",
                named_params! {":key": key},
            )
            .await?;
            self.commit(tx).await?;
            breathe(began.elapsed()).await;
        }
        // Pulled rows came since the summary was made, or a pulled version replaced it (only
        // those: a session recorded in this file elsewhere gets no new version here).
        let stale: Vec<String> = self
            .column(
                "SELECT session_id FROM session_summaries
                 WHERE summarised_rows = -1
                    OR session_id IN (SELECT value FROM json_each(:touched))",
                named_params! {":touched": serde_json::to_string(&touched).expect("strings")},
                "session_id",
            )
            .await?;
        for sid in &stale {
            // Outside a transaction: the rows are read first, and the summary is one write.
            if self.refresh_summary(sid).await? {
                self.dirty_files_of(sid).await?;
            }
        }
        self.fold_dirty(now, Some(SLICE)).await?;
        Ok(stale.len())
    }

    /// Stores pulled rows one by one (see `store_pulled`); a row refused for what it holds
    /// (a wrong type, a NULL where a value is required, a value out of range, too big) goes
    /// to `sync_quarantine`. Any other failure (the disk) is the pull's.
    async fn store_each(&self, pull: &Pull<'_>, rows: &str) -> Result<u64> {
        let t = pull.t;
        let all: Vec<Box<serde_json::value::RawValue>> = serde_json::from_str(rows)
            .map_err(|e| self.refuse(format!("rows pulled for {}: {e}", t.name)))?;
        let now = Time::now();
        let mut stored = 0;
        for row in &all {
            let one = format!("[{}]", row.get());
            let reason = match self.conn.execute(&pull.insert, pull.values(&one)).await {
                Ok(n) => {
                    stored += n;
                    continue;
                }
                // TOOBIG, CONSTRAINT (NOT NULL, CHECK, a STRICT column's type), MISMATCH.
                Err(libsql::Error::SqliteFailure(code, msg)) if matches!(code & 0xff, 18..=20) => {
                    msg
                }
                Err(e) => return Err(self.error(e)),
            };
            self.run(
                "INSERT INTO sync_quarantine (tbl, server_seq, origin, reason, row, received_at)
                 VALUES (:table, coalesce(:row ->> 'seq', 0), :row ->> 'origin', :reason,
                     substr(:row, 1, 65536), :now)
                 ON CONFLICT DO NOTHING",
                named_params! {
                    ":table": t.name,
                    ":row": row.get(),
                    ":reason": reason,
                    ":now": &now,
                },
            )
            .await?;
        }
        Ok(stored)
    }

    /// The pulled rows set aside, and the newest reason.
    pub async fn quarantined(&self) -> Result<(i64, Option<String>)> {
        #[derive(Deserialize)]
        struct Quarantined {
            n: i64,
            newest: Option<String>,
        }
        let q: Option<Quarantined> = self
            .first(
                "SELECT count(*) AS n, (SELECT tbl || ': ' || reason FROM sync_quarantine
                                        ORDER BY received_at DESC LIMIT 1) AS newest
                 FROM sync_quarantine",
                (),
            )
            .await?;
        Ok(q.map_or((0, None), |q| (q.n, q.newest)))
    }

    /// A value of sync's state.
    pub async fn sync_state(&self, key: &str) -> Result<Option<String>> {
        self.value(
            "SELECT value FROM sync_state WHERE key = :key",
            named_params! {":key": key},
            "value",
        )
        .await
    }

    /// Sets values of sync's state, in one transaction.
    pub async fn set_sync_state(&self, pairs: &[(&str, String)]) -> Result<()> {
        let tx = self.begin().await?;
        for (k, v) in pairs {
            self.run(
                "INSERT INTO sync_state (key, value) VALUES (:key, :value)
                 ON CONFLICT DO UPDATE SET value = excluded.value",
                named_params! {":key": *k, ":value": v.as_str()},
            )
            .await?;
        }
        self.commit(tx).await
    }

    /// The projects this database holds: those of the rows recorded here.
    pub async fn held_projects(&self) -> Result<Vec<String>> {
        self.column(
            "SELECT project FROM session_summaries WHERE origin IS NULL
             UNION SELECT project FROM task_log WHERE origin IS NULL
             UNION SELECT project FROM edit_history WHERE origin IS NULL
             UNION SELECT project FROM agent_memory WHERE origin IS NULL",
            (),
            "project",
        )
        .await
    }

    /// The machines the server knows (id, label), as pulled.
    pub async fn store_machines(&self, machines: &[(String, String)], now: &Time) -> Result<()> {
        for (id, label) in machines {
            self.run(
                "INSERT INTO machines (id, label, seen_at) VALUES (:id, :label, :now)
                 ON CONFLICT DO UPDATE SET label = excluded.label, seen_at = excluded.seen_at",
                named_params! {":id": id.as_str(), ":label": label.as_str(), ":now": now},
            )
            .await?;
        }
        Ok(())
    }
}

/// A pull of one table's rows: what every transaction of it binds.
struct Pull<'a> {
    t: &'a Shared,
    columns: &'a [Column],
    /// The projects shared here, a JSON array.
    projects: &'a str,
    /// This machine's id (a tie between two values of one version goes to the greater).
    machine: String,
    /// [`pulled_insert`] of the table.
    insert: String,
}

impl Pull<'_> {
    /// The parameters of the pull's statements for `rows`, a JSON array of pulled rows.
    fn values(&self, rows: &str) -> Vec<(String, Value)> {
        vec![
            (":rows".to_owned(), rows.into()),
            (":projects".to_owned(), self.projects.into()),
            (":machine".to_owned(), self.machine.as_str().into()),
        ]
    }
}

/// The statement storing the pulled rows of `t` that belong here (`:rows`, see [`Pull`]). A
/// pulled row always has an origin: one without would pass for this machine's. A pulled
/// summary, new here or replacing one, is made again from the rows here
/// (`summarised_rows = -1`: see `derive_pulled`), which may have come before it.
fn pulled_insert(t: &Shared, columns: &[Column]) -> String {
    let names: Vec<&str> = columns.iter().map(|(c, _)| c.as_str()).collect();
    let values: Vec<String> = names.iter().map(|c| format!("j.value ->> '{c}'")).collect();
    let (remade, as_remade) = match t.local_only.contains(&"summarised_rows") {
        true => (", summarised_rows", ", -1"),
        false => ("", ""),
    };
    let mut sql = format!(
        "INSERT INTO {table} ({list}, origin{remade})
         SELECT {values}, coalesce(j.value ->> 'origin', '?'){as_remade}
         FROM json_each(:rows) AS j WHERE {belongs}",
        table = t.name,
        list = names.join(", "),
        values = values.join(", "),
        belongs = belongs(columns)
    );
    if !t.versioned {
        sql.push_str(" ON CONFLICT DO NOTHING");
        return sql;
    }
    let mut set: Vec<String> = names
        .iter()
        .filter(|c| **c != t.key)
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    if t.local_only.contains(&"summarised_rows") {
        set.push("summarised_rows = -1".to_owned());
    }
    // A session of this machine is only ever changed here; a memory slot takes the newest
    // value, whoever wrote it.
    let whose = if t.any_writer {
        String::new()
    } else {
        format!("{}.origin IS NOT NULL AND ", t.name)
    };
    // Of two values of one version, the one of the greater machine id wins (`:machine`, this
    // machine's, for a value written here), as on the server.
    let tie = if t.any_writer {
        format!(
            "OR excluded.version = {table}.version
                AND excluded.origin > coalesce({table}.origin, :machine)",
            table = t.name
        )
    } else {
        String::new()
    };
    sql.push_str(&format!(
        " ON CONFLICT ({key}) DO UPDATE SET {set}, origin = excluded.origin
          WHERE {whose}(excluded.version > {table}.version {tie})",
        key = t.key,
        set = set.join(", "),
        table = t.name
    ));
    sql
}

/// How long a write transaction of a pull takes, about: a hook waiting for the database
/// waits no longer (its whole budget is 800 ms).
pub const SLICE: std::time::Duration = std::time::Duration::from_millis(20);

/// A pause after a sync's write transaction as long as it took: a hook waiting for the lock
/// polls for it (SQLite's busy handler, every 25 ms or so once it has waited a while), and
/// would miss it if the next one began at once. (A third as long let hooks wait 100 to
/// 180 ms; this, 40 ms at most, for a pull twice as long.)
pub(super) async fn breathe(took: std::time::Duration) {
    tokio::time::sleep(took.max(std::time::Duration::from_millis(2))).await;
}

/// The `sync_state` keys of sessions that gained pulled rows, not yet derived from.
const DERIVE: &str = "derive/";

/// How many pulled rows one transaction stores: as many as took [`SLICE`] the last time,
/// growing at most twofold a step (a first few rows measure how fast this machine is).
#[derive(Debug)]
pub struct Pace {
    rows: usize,
}

impl Default for Pace {
    fn default() -> Self {
        Pace { rows: 16 }
    }
}

impl Pace {
    fn took(&mut self, rows: usize, took: std::time::Duration) {
        let per_row = took.as_secs_f64() / rows.max(1) as f64;
        let fit = (SLICE.as_secs_f64() / per_row.max(1e-6)) as usize;
        self.rows = fit.clamp(1, self.rows.saturating_mul(2).min(2_000));
    }
}

/// The pull cursor past the pulled row `row` (a JSON object): its server sequence and key.
fn position(t: &Shared, row: &str) -> String {
    use serde_json::Value;
    let v: Value = serde_json::from_str(row).unwrap_or_default();
    // As the server's survey says a key (`remote::key_text`), to be compared with it.
    let key = match &v[t.key] {
        Value::String(k) => k.clone(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => n.as_f64().unwrap_or_default().to_string(),
        },
        _ => String::new(),
    };
    format!("{} {key}", v["seq"].as_i64().unwrap_or(0))
}

/// Whether a pulled row `j` (of a table with `columns`) belongs in this database: its project
/// (its session's, for a table without one) is one of the projects shared here (`:projects`,
/// a JSON array), never a path; and a session it names that is here is of that same project.
/// A row that claims a project this database does not hold, or moves a session of one
/// project into another, is refused.
fn belongs(columns: &[Column]) -> String {
    let has = |c: &str| columns.iter().any(|(n, _)| n == c);
    let shared = "IN (SELECT value FROM json_each(:projects))";
    if !has("project") {
        return format!(
            "EXISTS (SELECT 1 FROM session_summaries s
                     WHERE s.session_id = j.value ->> 'session_id' AND s.project {shared})"
        );
    }
    let project = "(j.value ->> 'project')";
    let mut cond = format!("{project} {shared} AND {}", shareable(project));
    if has("session_id") {
        cond.push_str(&format!(
            " AND NOT EXISTS (SELECT 1 FROM session_summaries s
                             WHERE s.session_id = j.value ->> 'session_id'
                               AND s.project IS NOT {project})"
        ));
    }
    cond
}

/// `json_object('a', r.a, 'b', r.b, ..., more)` over the columns of the row `r`, each as
/// `sent_as` says.
fn json_object(columns: &[Column], sent_as: &[(&str, &str)], more: &str) -> String {
    let pairs: Vec<String> = columns
        .iter()
        .map(|(c, _)| match sent_as.iter().find(|(name, _)| name == c) {
            Some((_, e)) => format!("'{c}', {e}"),
            None => format!("'{c}', r.{c}"),
        })
        .collect();
    format!("json_object({}, {more})", pairs.join(", "))
}

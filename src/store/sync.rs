//! The local side of team memory (see `sync/`): which rows this machine has not pushed yet,
//! rows pulled from the server, and sync's own state. Rows travel as JSON objects, one per
//! row, made and read by SQLite itself (`json_object`, `json_each`), so that the column lists
//! come from the tables and a new column needs no code.

use super::{Result, Store, int, text};
use libsql::params;

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
        sent_as: &[("file", "coalesce(rel_path, basename, '')")],
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

/// The rows of `t` recorded here that the server lacks, of the projects shared (`?2`, a
/// JSON array of identities): past rowid `?1` for rows that only arrive; for versioned ones,
/// those whose version was not pushed.
fn unpushed_where(t: &Shared, columns: &[Column]) -> String {
    let of = |p: &str| {
        format!(
            "{} AND {p} IN (SELECT value FROM json_each(?2))",
            shareable(p)
        )
    };
    // Rows without a project column belong to their session's.
    let project = if columns.iter().any(|(c, _)| c == "project") {
        of("project")
    } else {
        format!(
            "EXISTS (SELECT 1 FROM session_summaries s WHERE s.session_id = {}.session_id AND {})",
            t.name,
            of("s.project")
        )
    };
    let which = if t.versioned {
        "version <> pushed_version AND ?1 = ?1"
    } else {
        "rowid > ?1"
    };
    format!("origin IS NULL AND {which} AND {project}")
}

/// Where a push or pull of `t` stands with a server, kept in `sync_state` under its id.
pub fn cursor_key(server_id: &str, way: &str, t: &Shared) -> String {
    format!("{server_id}/{way}.{}", t.name)
}

/// Rows of a table to push, as JSON objects: the local rowid (or version) and the object.
pub struct Unpushed {
    pub rows: Vec<(i64, String)>,
    /// The sessions of versioned rows, in order (to mark them pushed).
    pub keys: Vec<String>,
}

/// A column of a shared table: name and declared type.
pub type Column = (String, String);

impl Store {
    /// The columns of `t` that travel, in table order.
    pub async fn shared_columns(&self, t: &Shared) -> Result<Vec<Column>> {
        let rows = self
            .rows(
                "SELECT name, type FROM pragma_table_info(?1) ORDER BY cid",
                params![t.name],
            )
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| Some((text(&r[0])?, text(&r[1]).unwrap_or_default())))
            .filter(|(name, _)| !t.local_only.contains(&name.as_str()))
            .collect())
    }

    /// Up to `limit` rows of `t` recorded here that the server lacks, of the `projects`
    /// shared (a JSON array; see `unpushed_where`), oldest first.
    pub async fn unpushed(
        &self,
        t: &Shared,
        columns: &[Column],
        projects: &str,
        after: i64,
        limit: usize,
    ) -> Result<Unpushed> {
        let object = json_object(columns, t.sent_as);
        let sql = format!(
            "SELECT {first}, {object}, {key} FROM {table} WHERE {cond}
             ORDER BY rowid LIMIT {limit}",
            first = if t.versioned { "version" } else { "rowid" },
            key = t.key,
            table = t.name,
            cond = unpushed_where(t, columns)
        );
        let rows = self.rows(&sql, params![after, projects]).await?;
        Ok(Unpushed {
            keys: if t.versioned {
                rows.iter().filter_map(|r| text(&r[2])).collect()
            } else {
                Vec::new()
            },
            rows: rows
                .iter()
                .map(|r| (int(&r[0]), text(&r[1]).unwrap_or_default()))
                .collect(),
        })
    }

    /// A query for the sessions holding rows this machine recorded of the `projects` shared
    /// (a JSON array) and has not pushed to the server it last used (before a first sync: all
    /// of them). Retention keeps these in sync mode: deleting them would lose them for the
    /// team too.
    pub(super) async fn unsent_sessions(&self, projects: &str) -> Result<String> {
        let server = self.sync_state("server").await?.unwrap_or_default();
        let mut parts = Vec::new();
        for t in SHARED {
            let columns = self.shared_columns(t).await?;
            if !columns.iter().any(|(c, _)| c == "session_id") {
                continue;
            }
            // The cursor is read here and written in as a number: nothing the server said
            // reaches the SQL.
            let after: i64 = self
                .sync_state(&cursor_key(&server, "push", t))
                .await?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            // The projects too, as a literal (quotes doubled): the query is run with others'
            // parameters.
            let cond = unpushed_where(t, &columns)
                .replace("?1", &after.to_string())
                .replace("?2", &format!("'{}'", projects.replace('\'', "''")));
            parts.push(format!("SELECT session_id FROM {} WHERE {cond}", t.name));
        }
        Ok(parts.join(" UNION "))
    }

    /// How many rows of `t` recorded here, of the `projects` shared, the server lacks.
    pub async fn pending(
        &self,
        t: &Shared,
        columns: &[Column],
        projects: &str,
        after: i64,
    ) -> Result<i64> {
        let sql = format!(
            "SELECT count(*) FROM {} WHERE {}",
            t.name,
            unpushed_where(t, columns)
        );
        let rows = self.rows(&sql, params![after, projects]).await?;
        Ok(rows.first().map_or(0, |r| int(&r[0])))
    }

    /// After a push: these versions of rows of `t` are on the server.
    pub async fn mark_pushed(&self, t: &Shared, keys: &[String], versions: &[i64]) -> Result<()> {
        let pairs: Vec<serde_json::Value> = keys
            .iter()
            .zip(versions)
            .map(|(k, v)| serde_json::json!([k, v]))
            .collect();
        self.run(
            &format!(
                "UPDATE {table} SET pushed_version = j.value ->> 1
                 FROM json_each(?1) AS j WHERE {table}.{key} = j.value ->> 0",
                table = t.name,
                key = t.key
            ),
            params![serde_json::Value::Array(pairs).to_string()],
        )
        .await
        .map(drop)
    }

    /// Stores rows pulled from the server (`rows`: a JSON array of objects, each with the
    /// shared columns and `origin`) and, in the same transaction, the pull's cursor, so that a
    /// sync killed at any moment neither loses nor repeats a row. Only rows that belong here
    /// are taken (see [`belongs`]); the others are refused and counted. A row already here is
    /// kept (ids are global); a pulled summary replaces an older pulled one, never a session
    /// of this machine. The sessions that gained rows get their file rows rebuilt (their
    /// facts are folded at the end: [`Store::fold_pulled`]). Returns the rows stored and
    /// those refused.
    pub async fn store_pulled(
        &self,
        t: &Shared,
        columns: &[Column],
        projects: &str,
        rows: &str,
        cursor: (&str, i64),
    ) -> Result<(u64, u64)> {
        let names: Vec<&str> = columns.iter().map(|(c, _)| c.as_str()).collect();
        let values: Vec<String> = names.iter().map(|c| format!("j.value ->> '{c}'")).collect();
        let belongs = belongs(columns);
        let mut sql = format!(
            "INSERT INTO {table} ({list}, origin) SELECT {values}, j.value ->> 'origin'
             FROM json_each(?1) AS j WHERE {belongs}",
            table = t.name,
            list = names.join(", "),
            values = values.join(", ")
        );
        if t.versioned {
            let set: Vec<String> = names
                .iter()
                .filter(|c| **c != t.key)
                .map(|c| format!("{c} = excluded.{c}"))
                .collect();
            // A session of this machine is only ever changed here; a memory slot takes the
            // newest value, whoever wrote it.
            let whose = if t.any_writer {
                String::new()
            } else {
                format!("{}.origin IS NOT NULL AND ", t.name)
            };
            sql.push_str(&format!(
                " ON CONFLICT ({key}) DO UPDATE SET {set}, origin = excluded.origin
                  WHERE {whose}excluded.version > {table}.version",
                key = t.key,
                set = set.join(", "),
                table = t.name
            ));
        } else {
            sql.push_str(" ON CONFLICT DO NOTHING");
        }
        let tx = self.begin().await?;
        let refused = self
            .rows(
                &format!("SELECT count(*) FROM json_each(?1) AS j WHERE NOT ({belongs})"),
                params![rows, projects],
            )
            .await?;
        let refused = refused.first().map_or(0, |r| int(&r[0])) as u64;
        let stored = self.run(&sql, params![rows, projects]).await?;
        if refused > 0 {
            self.run(
                "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
                 ON CONFLICT DO UPDATE SET value = value + excluded.value",
                params![format!("refused.{}", t.name), refused as i64],
            )
            .await?;
        }
        self.run(
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
             ON CONFLICT DO UPDATE SET value = excluded.value",
            params![cursor.0, cursor.1.to_string()],
        )
        .await?;
        if !t.versioned {
            let sessions = self
                .rows(
                    &format!(
                        "SELECT DISTINCT j.value ->> 'session_id' FROM json_each(?1) AS j
                         WHERE {belongs}"
                    ),
                    params![rows, projects],
                )
                .await?;
            for s in sessions.iter().filter_map(|r| text(&r[0])) {
                self.session_file_rows(&s).await?;
            }
        }
        self.commit(tx).await?;
        Ok((stored, refused))
    }

    /// After a pull: the facts of the files that pulled rows changed (marked dirty as each
    /// page arrived, so that a pull stopped halfway leaves them for the next fold).
    pub async fn fold_pulled(&self, now: &str) -> Result<usize> {
        let tx = self.begin().await?;
        let n = self.fold_dirty(now).await?;
        self.commit(tx).await?;
        Ok(n)
    }

    /// A value of sync's state.
    pub async fn sync_state(&self, key: &str) -> Result<Option<String>> {
        let rows = self
            .rows("SELECT value FROM sync_state WHERE key = ?1", params![key])
            .await?;
        Ok(rows.first().and_then(|r| text(&r[0])))
    }

    /// Sets values of sync's state, in one transaction.
    pub async fn set_sync_state(&self, pairs: &[(&str, String)]) -> Result<()> {
        let tx = self.begin().await?;
        for (k, v) in pairs {
            self.run(
                "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
                 ON CONFLICT DO UPDATE SET value = excluded.value",
                params![*k, v.as_str()],
            )
            .await?;
        }
        self.commit(tx).await
    }

    /// Sync talks to the server `id` now: when it is another than last time, every versioned
    /// row of this machine is sent again (cursors are kept per server; a summary's pushed version
    /// is one column).
    pub async fn use_server(&self, id: &str) -> Result<()> {
        if self.sync_state("server").await?.as_deref() == Some(id) {
            return Ok(());
        }
        let tx = self.begin().await?;
        for t in SHARED.iter().filter(|t| t.versioned) {
            self.run(&format!("UPDATE {} SET pushed_version = 0", t.name), ())
                .await?;
        }
        self.run(
            "INSERT INTO sync_state (key, value) VALUES ('server', ?1)
             ON CONFLICT DO UPDATE SET value = excluded.value",
            params![id],
        )
        .await?;
        self.commit(tx).await
    }

    /// This machine's id on the team server: made once, kept in the database (a copy of the
    /// file on another machine is the same machine to the server, as it holds the same rows).
    pub async fn machine_id(&self) -> Result<String> {
        if let Some(id) = self.sync_state("machine").await? {
            return Ok(id);
        }
        let id = uuid::Uuid::new_v4().to_string();
        self.run(
            "INSERT INTO sync_state (key, value) VALUES ('machine', ?1) ON CONFLICT DO NOTHING",
            params![id.as_str()],
        )
        .await?;
        Ok(self.sync_state("machine").await?.unwrap_or(id))
    }

    /// The projects this database holds: those of the rows recorded here.
    pub async fn held_projects(&self) -> Result<Vec<String>> {
        let rows = self
            .rows(
                "SELECT project FROM session_summaries WHERE origin IS NULL
                 UNION SELECT project FROM task_log WHERE origin IS NULL
                 UNION SELECT project FROM edit_history WHERE origin IS NULL
                 UNION SELECT project FROM agent_memory WHERE origin IS NULL",
                (),
            )
            .await?;
        Ok(rows.iter().filter_map(|r| text(&r[0])).collect())
    }

    /// The machines the server knows (id, label), as pulled.
    pub async fn store_machines(&self, machines: &[(String, String)], now: &str) -> Result<()> {
        for (id, label) in machines {
            self.run(
                "INSERT INTO machines (id, label, seen_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO UPDATE SET label = excluded.label, seen_at = excluded.seen_at",
                params![id.as_str(), label.as_str(), now],
            )
            .await?;
        }
        Ok(())
    }
}

/// Whether a pulled row `j` (of a table with `columns`) belongs in this database: its project
/// (its session's, for a table without one) is one of the projects shared here (`?2`, a JSON
/// array), never a path; and a session it names that is here is of that same project. A
/// row that claims a project this database does not hold, or moves a session of one project
/// into another, is refused.
fn belongs(columns: &[Column]) -> String {
    let has = |c: &str| columns.iter().any(|(n, _)| n == c);
    let shared = "IN (SELECT value FROM json_each(?2))";
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

/// `json_object('a', a, 'b', b, ...)` over the columns, each as `sent_as` says.
fn json_object(columns: &[Column], sent_as: &[(&str, &str)]) -> String {
    let pairs: Vec<String> = columns
        .iter()
        .map(|(c, _)| {
            let value = sent_as
                .iter()
                .find(|(name, _)| name == c)
                .map_or(c.as_str(), |(_, e)| e);
            format!("'{c}', {value}")
        })
        .collect();
    format!("json_object({})", pairs.join(", "))
}

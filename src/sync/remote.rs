//! The team server: a Turso database or any libSQL server, over Hrana (HTTP), through the
//! libsql crate's `remote` connection. Every request has a deadline; every error names what
//! failed and never the token.
//!
//! The server's tables keep flowhook's names and columns, so that a person can read the
//! team's memory with `turso db shell`; each adds `seq`, the order rows reached the server
//! (what pulls page by: clocks skew, and a machine that was offline pushes late), `origin`,
//! the machine that recorded the row, and `stream`, its number in that machine's stream. The schema is created and extended on first
//! sync; its version is kept in `flowhook_meta`, since Turso refuses `PRAGMA user_version`.

use crate::store::{Column, Shared};
use libsql::Value;
use std::time::Duration;

/// The version of the server schema this flowhook writes.
const SCHEMA: i64 = 1;

pub struct Server {
    db: libsql::Database,
    url: String,
    token: String,
    deadline: Duration,
}

/// A failure talking to the server, said plainly.
pub type Result<T> = std::result::Result<T, String>;

impl Server {
    /// A handle on the server at `url` (`libsql://`, `https://`, `http://`). No request yet.
    pub async fn new(url: &str, token: &str, deadline: Duration) -> Result<Server> {
        let db = libsql::Builder::new_remote(url.to_owned(), token.to_owned())
            .build()
            .await
            .map_err(|e| format!("cannot use {url}: {e}"))?;
        Ok(Server {
            db,
            url: url.to_owned(),
            token: token.to_owned(),
            deadline,
        })
    }

    /// `what` for `step`, within the deadline; the error says which and why.
    async fn within<T>(
        &self,
        step: &str,
        work: impl Future<Output = std::result::Result<T, libsql::Error>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.deadline, work).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.explain(step, &e.to_string())),
            Err(_) => Err(format!(
                "{step}: {} did not answer within {} s",
                self.url,
                self.deadline.as_secs_f64()
            )),
        }
    }

    /// An error as a person can act on it, without the token.
    fn explain(&self, step: &str, e: &str) -> String {
        let e = if self.token.len() >= 8 {
            e.replace(&self.token, "[token]")
        } else {
            e.to_owned()
        };
        let url = &self.url;
        if e.contains("status=401") || e.contains("status=403") {
            format!(
                "{step}: {url} refused the token ({e}); check FLOWHOOK_AUTH_TOKEN, \
                 database.token_env or database.token_file"
            )
        } else if e.contains("dns error") {
            format!("{step}: cannot reach {url}: its host name does not resolve ({e})")
        } else if e.to_ascii_lowercase().contains("connection refused") {
            format!("{step}: cannot reach {url}: nothing listens there ({e})")
        } else if e.contains("error trying to connect") {
            format!("{step}: cannot reach {url} ({e})")
        } else {
            format!("{step}: {url}: {e}")
        }
    }

    /// A connection for one unit of work: libsql keeps a stream open after a query, which
    /// the server expires; a fresh connection per unit never meets a stale one.
    fn conn(&self) -> Result<libsql::Connection> {
        self.db
            .connect()
            .map_err(|e| self.explain("connect", &e.to_string()))
    }

    async fn execute(&self, step: &str, sql: &str, values: Vec<Value>) -> Result<u64> {
        let conn = self.conn()?;
        self.within(step, conn.execute(sql, values)).await
    }

    async fn query(&self, step: &str, sql: &str, values: Vec<Value>) -> Result<Vec<Vec<Value>>> {
        let conn = self.conn()?;
        self.within(step, async {
            let mut rows = conn.query(sql, values).await?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().await? {
                let n = row.column_count();
                out.push(
                    (0..n)
                        .map(|i| row.get_value(i))
                        .collect::<libsql::Result<_>>()?,
                );
            }
            Ok(out)
        })
        .await
    }

    /// Creates what is missing: flowhook's tables with their columns (a column this version
    /// knows and the server lacks is added), the machines, the schema version, the server's
    /// own id. Refuses a server written by a newer flowhook. Returns the server's id: what
    /// this machine's cursors are kept under (a new server starts from nothing).
    pub async fn prepare(&self, tables: &[(Shared, Vec<Column>)]) -> Result<String> {
        let conn = self.conn()?;
        self.within(
            "create flowhook_meta",
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS flowhook_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS flowhook_machines (
                     id TEXT PRIMARY KEY, label TEXT NOT NULL, seen_at TEXT NOT NULL);",
            ),
        )
        .await?;
        let version = self
            .query(
                "read the schema version",
                "SELECT value FROM flowhook_meta WHERE key = 'schema'",
                Vec::new(),
            )
            .await?;
        let version = match version.first().and_then(|r| r.first()) {
            Some(Value::Text(v)) => v.parse::<i64>().unwrap_or(i64::MAX),
            _ => 0,
        };
        if version > SCHEMA {
            return Err(format!(
                "{}: its tables were made by a newer flowhook (schema {version}, this one \
                 writes {SCHEMA}); upgrade flowhook on this machine",
                self.url
            ));
        }
        for (t, columns) in tables {
            // `stream`: where the row stands in its machine's stream (see `held`).
            let columns: Vec<Column> = columns
                .iter()
                .cloned()
                .chain([("stream".to_owned(), "INTEGER".to_owned())])
                .collect();
            let defs: Vec<String> = columns.iter().map(|(c, ty)| format!("{c} {ty}")).collect();
            let conn = self.conn()?;
            self.within(
                &format!("create {}", t.name),
                conn.execute_batch(&format!(
                    "CREATE TABLE IF NOT EXISTS {name} (seq INTEGER PRIMARY KEY AUTOINCREMENT, \
                     {defs}, origin TEXT NOT NULL);
                     CREATE UNIQUE INDEX IF NOT EXISTS {name}_key ON {name} ({key});",
                    name = t.name,
                    defs = defs.join(", "),
                    key = t.key
                )),
            )
            .await?;
            let have = self
                .query(
                    &format!("read the columns of {}", t.name),
                    "SELECT name FROM pragma_table_info(?1)",
                    vec![Value::from(t.name)],
                )
                .await?;
            for (c, ty) in &columns {
                let known = have
                    .iter()
                    // Column names are case-insensitive, and sqld may give a keyword-named
                    // column (`key`) back in capitals.
                    .any(
                        |r| matches!(r.first(), Some(Value::Text(n)) if n.eq_ignore_ascii_case(c)),
                    );
                if !known {
                    self.execute(
                        &format!("add {}.{c}", t.name),
                        &format!("ALTER TABLE {} ADD COLUMN {c} {ty}", t.name),
                        Vec::new(),
                    )
                    .await?;
                }
            }
            self.execute(
                &format!("index {}.stream", t.name),
                &format!(
                    "CREATE INDEX IF NOT EXISTS {name}_stream ON {name} (origin, stream)",
                    name = t.name
                ),
                Vec::new(),
            )
            .await?;
        }
        self.execute(
            "write the schema version",
            "INSERT INTO flowhook_meta (key, value) VALUES ('schema', ?1), ('id', ?2)
             ON CONFLICT DO UPDATE SET value = excluded.value WHERE key = 'schema'",
            vec![
                Value::from(SCHEMA.to_string()),
                Value::from(uuid::Uuid::new_v4().to_string()),
            ],
        )
        .await?;
        let id = self
            .query(
                "read the server's id",
                "SELECT value FROM flowhook_meta WHERE key = 'id'",
                Vec::new(),
            )
            .await?;
        match id.first().and_then(|r| r.first()) {
            Some(Value::Text(id)) => Ok(id.clone()),
            _ => Err(format!("{}: flowhook_meta holds no id", self.url)),
        }
    }

    /// One trivial request: whether the server answers, and accepts the token.
    pub async fn ping(&self) -> Result<()> {
        self.query("answer", "SELECT 1", Vec::new()).await.map(drop)
    }

    /// Says who this machine is, for the others' `sessions`.
    pub async fn register(&self, machine: &str, label: &str, now: &str) -> Result<()> {
        self.execute(
            "register this machine",
            "INSERT INTO flowhook_machines (id, label, seen_at) VALUES (?1, ?2, ?3)
             ON CONFLICT DO UPDATE SET label = excluded.label, seen_at = excluded.seen_at",
            vec![machine.into(), label.into(), now.into()],
        )
        .await
        .map(drop)
    }

    /// Every machine the server knows: (id, label).
    pub async fn machines(&self) -> Result<Vec<(String, String)>> {
        let rows = self
            .query(
                "read the machines",
                "SELECT id, label FROM flowhook_machines",
                Vec::new(),
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| match (r.first(), r.get(1)) {
                (Some(Value::Text(id)), Some(Value::Text(label))) => {
                    Some((id.clone(), label.clone()))
                }
                _ => None,
            })
            .collect())
    }

    /// Sends rows (`rows`: a JSON array of objects) recorded on `machine`. A row the server
    /// has is left as it is, so that sending again is harmless; a summary replaces the
    /// server's only when its version is higher (it moves to the end of the sequence, so
    /// that the others pull it again). Returns the rows the server took.
    pub async fn push(
        &self,
        t: &Shared,
        columns: &[Column],
        rows: &str,
        machine: &str,
    ) -> Result<u64> {
        let names: Vec<&str> = columns.iter().map(|(c, _)| c.as_str()).collect();
        let values: Vec<String> = names.iter().map(|c| format!("j.value ->> '{c}'")).collect();
        // A row this machine sent before it numbered its stream gets its number.
        let insert = format!(
            "INSERT INTO {table} ({list}, origin, stream)
             SELECT {values}, ?2, j.value ->> 'stream' FROM json_each(?1) AS j WHERE true
             ON CONFLICT ({key}) DO UPDATE SET stream = excluded.stream
             WHERE {table}.origin = excluded.origin AND {table}.stream IS NULL",
            table = t.name,
            key = t.key,
            list = names.join(", "),
            values = values.join(", ")
        );
        let args = || vec![Value::from(rows), Value::from(machine)];
        let step = format!("push {}", t.name);
        if !t.versioned {
            return self.execute(&step, &insert, args()).await;
        }
        let conn = self.conn()?;
        self.within(&step, async {
            let tx = conn.transaction().await?;
            tx.execute(
                &format!(
                    "DELETE FROM {table} WHERE {whose} EXISTS (
                         SELECT 1 FROM json_each(?1) AS j
                         WHERE j.value ->> '{key}' = {table}.{key}
                           AND j.value ->> 'version' > {table}.version)",
                    table = t.name,
                    key = t.key,
                    // A summary is replaced only by its own machine; a memory slot by anyone's
                    // newer value (?2 is then unused but for the insert).
                    whose = if t.any_writer {
                        "?2 = ?2 AND"
                    } else {
                        "origin = ?2 AND"
                    }
                ),
                args(),
            )
            .await?;
            let n = tx.execute(&insert, args()).await?;
            tx.commit().await?;
            Ok(n)
        })
        .await
    }

    /// How far the server holds `machine`'s stream, per table: the largest stream number of
    /// its rows there (0: none). One request.
    pub async fn held(&self, machine: &str) -> Result<std::collections::BTreeMap<String, i64>> {
        let parts: Vec<String> = crate::store::SHARED
            .iter()
            .map(|t| {
                format!(
                    "SELECT '{name}', coalesce(max(stream), 0) FROM {name} WHERE origin = ?1",
                    name = t.name
                )
            })
            .collect();
        let rows = self
            .query(
                "read what the server holds of this machine",
                &parts.join(" UNION ALL "),
                vec![Value::from(machine)],
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| match (r.first(), r.get(1)) {
                (Some(Value::Text(t)), Some(Value::Integer(n))) => Some((t.clone(), *n)),
                _ => None,
            })
            .collect())
    }

    /// Up to `limit` rows other machines pushed, after sequence `after`: (the last sequence,
    /// the rows as a JSON array of objects with `origin`).
    pub async fn pull(
        &self,
        t: &Shared,
        columns: &[Column],
        after: i64,
        machine: &str,
        limit: usize,
    ) -> Result<Option<(i64, String)>> {
        let mut pairs: Vec<String> = columns.iter().map(|(c, _)| format!("'{c}', {c}")).collect();
        pairs.push("'origin', origin".to_owned());
        let rows = self
            .query(
                &format!("pull {}", t.name),
                &format!(
                    "SELECT seq, json_object({}) FROM {} WHERE seq > ?1 AND origin <> ?2
                     ORDER BY seq LIMIT {limit}",
                    pairs.join(", "),
                    t.name
                ),
                vec![Value::from(after), Value::from(machine)],
            )
            .await?;
        let Some(last) = rows.last().and_then(|r| match r.first() {
            Some(Value::Integer(seq)) => Some(*seq),
            _ => None,
        }) else {
            return Ok(None);
        };
        let objects: Vec<&str> = rows
            .iter()
            .filter_map(|r| match r.get(1) {
                Some(Value::Text(o)) => Some(o.as_str()),
                _ => None,
            })
            .collect();
        Ok(Some((last, format!("[{}]", objects.join(",")))))
    }
}

//! The team server: a Turso database or any libSQL server, over Hrana (HTTP), through the
//! libsql crate's `remote` connection. Every request has a deadline; every error names what
//! failed and never the token.
//!
//! The server's tables keep flowhook's names and columns, so that a person can read the
//! team's memory with `turso db shell`; each adds `seq`, the order rows reached the server
//! (what pulls page by: clocks skew, and a machine that was offline pushes late), `origin`,
//! the machine that recorded the row, and `stream`, its number in that machine's stream. The
//! schema is created and extended on first sync; its version is kept in `flowhook_meta`,
//! since Turso refuses `PRAGMA user_version`, with the mark that the database is flowhook's
//! (`application`): a database holding anything else is another application's, and is never
//! written.

use crate::store::{Column, LATEST_VERSION, Shared};
use crate::time::Time;
use libsql::Value;
use std::time::Duration;

/// The version of the server schema this flowhook writes.
const SCHEMA: i64 = 1;

pub struct Server {
    db: libsql::Database,
    /// As said in messages: without a token written into it.
    url: String,
    /// As configured, to be taken out of an error that quotes it.
    raw_url: String,
    token: String,
    deadline: Duration,
}

/// A failure talking to the server, said plainly.
pub type Result<T> = std::result::Result<T, String>;

/// Values of a statement's named parameters (`:name`), which Hrana binds by name.
type Named = Vec<(String, Value)>;

fn named(name: &str, value: impl Into<Value>) -> (String, Value) {
    (name.to_owned(), value.into())
}

impl Server {
    /// A handle on the server at `url` (`libsql://`, `https://`, `http://`). No request yet.
    pub async fn new(url: &str, token: &str, deadline: Duration) -> Result<Server> {
        let db = libsql::Builder::new_remote(url.to_owned(), token.to_owned())
            .build()
            .await
            .map_err(|e| {
                let shown = super::token::shown(url);
                format!("cannot use {shown}: {}", e.to_string().replace(url, &shown))
            })?;
        Ok(Server {
            db,
            url: super::token::shown(url),
            raw_url: url.to_owned(),
            token: token.to_owned(),
            deadline,
        })
    }

    /// `work` for `step` on a fresh connection, within the deadline; the error says which and
    /// why. A server busy with other writers (SQLITE_BUSY: many machines syncing at once) is
    /// tried again on a new connection after a jittered, growing pause, until it answers or
    /// the sync's own time bound (`sync.timeout_secs`, around the whole sync) ends it.
    async fn within<T, F, Fut>(&self, step: &str, work: F) -> Result<T>
    where
        F: Fn(libsql::Connection) -> Fut,
        Fut: Future<Output = std::result::Result<T, libsql::Error>>,
    {
        let mut pause = Duration::from_millis(20);
        loop {
            let conn = self.conn()?;
            match tokio::time::timeout(self.deadline, work(conn)).await {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) if busy(&e) => {
                    tokio::time::sleep(jitter(pause)).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                Ok(Err(e)) => return Err(self.explain(step, &e.to_string())),
                Err(_) => {
                    return Err(format!(
                        "{step}: {} did not answer within {} s",
                        self.url,
                        self.deadline.as_secs_f64()
                    ));
                }
            }
        }
    }

    /// An error as a person can act on it, without the token.
    fn explain(&self, step: &str, e: &str) -> String {
        let e = e.replace(&self.raw_url, &self.url);
        let e = if self.token.len() >= 8 {
            e.replace(&self.token, "[token]")
        } else {
            e
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

    async fn execute(&self, step: &str, sql: &str, values: Named) -> Result<u64> {
        self.within(step, |conn| {
            let values = values.clone();
            async move { conn.execute(sql, values).await }
        })
        .await
    }

    async fn query(&self, step: &str, sql: &str, values: Named) -> Result<Vec<Vec<Value>>> {
        self.within(step, |conn| {
            let values = values.clone();
            async move { collect(conn.query(sql, values).await?).await }
        })
        .await
    }

    /// Several statements in one request (a Hrana batch): the rows of each, in order. Values
    /// are written into the SQL as literals (see [`lit`]).
    async fn batch(&self, step: &str, sql: &str) -> Result<Vec<Vec<Vec<Value>>>> {
        self.within(step, |conn| async move {
            let mut batch = conn.execute_batch(sql).await?;
            let mut out = Vec::new();
            while let Some(rows) = batch.next_stmt_row() {
                out.push(match rows {
                    Some(rows) => collect(rows).await?,
                    None => Vec::new(),
                });
            }
            Ok(out)
        })
        .await
    }

    /// The first requests of a sync: reads what the server holds (refusing another
    /// application's database before a single write), then, in one batch, says who this
    /// machine is and reads what the server is (its schema version, refused when newer, its id
    /// and generation, whether flowhook's tables are complete, whether its memory is sealed
    /// with this machine's key: `key_check`) and which machines it knows.
    pub async fn look(
        &self,
        tables: &[(Shared, Vec<Column>)],
        machine: &str,
        label: &str,
        now: &Time,
        key_check: Option<&str>,
    ) -> Result<Look> {
        let owner = self.check_owner(tables).await?;
        let marked = "EXISTS (SELECT 1 FROM flowhook_meta
                              WHERE key = 'application' AND value = 'flowhook' OR key = 'id')";
        // Nothing is created in a database that is not flowhook's: an empty one becomes
        // flowhook's; one that holds flowhook_meta is first read for the mark.
        let create = if owner.empty {
            "CREATE TABLE IF NOT EXISTS flowhook_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS flowhook_machines (
                 id TEXT PRIMARY KEY, label TEXT NOT NULL, seen_at TEXT NOT NULL);"
        } else if !owner.machines {
            self.require_mark(marked).await?;
            "SELECT 1;
             CREATE TABLE IF NOT EXISTS flowhook_machines (
                 id TEXT PRIMARY KEY, label TEXT NOT NULL, seen_at TEXT NOT NULL);"
        } else {
            "SELECT 1; SELECT 1;"
        };
        let names: Vec<String> = tables.iter().map(|(t, _)| lit(t.name)).collect();
        let results = self
            .batch(
                "read the server",
                &format!(
                    "{create}
                     SELECT id, label FROM flowhook_machines;
                     INSERT INTO flowhook_machines (id, label, seen_at) SELECT {}, {}, {}
                         WHERE {marked_or_new}
                           AND coalesce((SELECT value FROM flowhook_meta WHERE key = 'encryption'),
                                        '') IN ('', {check})
                         ON CONFLICT DO UPDATE SET label = excluded.label, seen_at = excluded.seen_at;
                     SELECT key, value FROM flowhook_meta;
                     SELECT m.name, p.name FROM sqlite_schema AS m, pragma_table_info(m.name) AS p
                         WHERE m.type = 'table' AND m.name IN ({names});
                     SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name IN ({names});",
                    lit(machine),
                    lit(label),
                    lit(now.as_str()),
                    marked_or_new = if owner.empty { "true" } else { marked },
                    check = lit(key_check.unwrap_or_default()),
                    names = names.join(", ")
                ),
            )
            .await?;
        let texts = |i: usize| -> Vec<(String, String)> {
            results
                .get(i)
                .into_iter()
                .flatten()
                .filter_map(|r| match (r.first(), r.get(1)) {
                    (Some(Value::Text(a)), Some(Value::Text(b))) => Some((a.clone(), b.clone())),
                    _ => None,
                })
                .collect()
        };
        let meta: std::collections::BTreeMap<String, String> = texts(4).into_iter().collect();
        let have = texts(5);
        let indexes: Vec<String> = results
            .get(6)
            .into_iter()
            .flatten()
            .filter_map(|r| match r.first() {
                Some(Value::Text(n)) => Some(n.clone()),
                _ => None,
            })
            .collect();
        // Complete: every column this version writes, and the indexes it makes, are there.
        let complete = tables.iter().all(|(t, columns)| {
            columns
                .iter()
                .map(|(c, _)| c.as_str())
                .chain(["seq", "origin", "stream"])
                .all(|c| {
                    have.iter()
                        .any(|(tn, cn)| tn == t.name && cn.eq_ignore_ascii_case(c))
                })
                && ["key", "stream"]
                    .iter()
                    .all(|i| indexes.contains(&format!("{}_{i}", t.name)))
        });
        let schema = meta
            .get("schema")
            .map_or(0, |v| v.parse().unwrap_or(i64::MAX));
        if schema > SCHEMA {
            return Err(format!(
                "{}: its tables were made by a newer flowhook (schema {schema}, this one \
                 writes {SCHEMA}); upgrade flowhook on this machine",
                self.url
            ));
        }
        if !owner.empty
            && !meta.contains_key("id")
            && meta.get("application").map(String::as_str) != Some("flowhook")
        {
            return Err(owner.refusal(&self.url));
        }
        let machines = texts(2);
        self.check_sealed(meta.get("encryption"), !machines.is_empty(), key_check)
            .await?;
        Ok(Look {
            id: meta.get("id").cloned().filter(|_| complete),
            generation: meta.get("generation").cloned().unwrap_or_default(),
            machines,
        })
    }

    /// A new generation of the server's rows: every machine pulls everything again (what it
    /// has is kept once). Written when a table had to be made anew, or a machine found rows
    /// it had pulled gone (a dropped table, a restore from an earlier copy).
    pub async fn new_generation(&self) -> Result<String> {
        let generation = uuid::Uuid::new_v4().to_string();
        self.execute(
            "start a new generation",
            "INSERT INTO flowhook_meta (key, value) VALUES ('generation', :generation)
             ON CONFLICT DO UPDATE SET value = excluded.value",
            vec![named(":generation", generation.as_str())],
        )
        .await?;
        Ok(generation)
    }

    /// The second request of a sync, per table: how far the server holds `machine`'s stream,
    /// its last sequence, the key of its row at this machine's pull cursor, and the first page
    /// of the pull.
    pub async fn survey(
        &self,
        tables: &[(Shared, Vec<Column>)],
        projects: &str,
        machine: &str,
        cursors: &[i64],
        limit: usize,
    ) -> Result<Vec<Survey>> {
        let mut sql = String::new();
        for ((t, columns), after) in tables.iter().zip(cursors) {
            sql.push_str(&format!(
                "SELECT (SELECT coalesce(max(stream), 0) FROM {name} WHERE origin = {m}),
                        (SELECT coalesce(max(seq), 0) FROM {name}),
                        (SELECT {key} FROM {name} WHERE seq = {after});
                 {page};",
                name = t.name,
                key = t.key,
                m = lit(machine),
                page = pull_sql(t, columns, projects, *after, machine, limit)
            ));
        }
        let results = self.batch("survey the server", &sql).await?;
        let int = |v: Option<&Value>| match v {
            Some(Value::Integer(n)) => *n,
            _ => 0,
        };
        Ok(results
            .chunks(2)
            .map(|pair| {
                let head = pair.first().and_then(|r| r.first());
                Survey {
                    held: int(head.and_then(|r| r.first())),
                    last: int(head.and_then(|r| r.get(1))),
                    at_cursor: head
                        .and_then(|r| r.get(2))
                        .filter(|v| !matches!(v, Value::Null))
                        .map(|v| key_text(Some(v))),
                    page: pair.get(1).map(|rows| page(rows)),
                }
            })
            .collect())
    }

    /// Creates what is missing (after [`Server::look`] found the tables incomplete):
    /// flowhook's tables with their columns (a column this version knows and the server lacks
    /// is added) and indexes, the schema version, the server's own id. Returns the server's id (what this machine's cursors are
    /// kept under: a new server starts from nothing) and whether a table was made anew.
    pub async fn prepare(&self, tables: &[(Shared, Vec<Column>)]) -> Result<(String, bool)> {
        let mut created = false;
        for (t, columns) in tables {
            // `stream`: where the row stands in its machine's stream (see `survey`).
            let columns: Vec<Column> = columns
                .iter()
                .cloned()
                .chain([("stream".to_owned(), "INTEGER".to_owned())])
                .collect();
            let defs: Vec<String> = columns.iter().map(|(c, ty)| format!("{c} {ty}")).collect();
            let existed = self
                .query(
                    &format!("look for {}", t.name),
                    "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = :table",
                    vec![named(":table", t.name)],
                )
                .await?;
            created |= existed.is_empty();
            let ddl = format!(
                "CREATE TABLE IF NOT EXISTS {name} (seq INTEGER PRIMARY KEY AUTOINCREMENT, \
                 {defs}, origin TEXT NOT NULL);
                 CREATE UNIQUE INDEX IF NOT EXISTS {name}_key ON {name} ({key});",
                name = t.name,
                defs = defs.join(", "),
                key = t.key
            );
            let ddl = ddl.as_str();
            self.within(&format!("create {}", t.name), |conn| async move {
                conn.execute_batch(ddl).await
            })
            .await?;
            let have = self
                .query(
                    &format!("read the columns of {}", t.name),
                    "SELECT name FROM pragma_table_info(:table)",
                    vec![named(":table", t.name)],
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
            "INSERT INTO flowhook_meta (key, value)
             VALUES ('schema', :schema), ('id', :id), ('application', 'flowhook')
             ON CONFLICT DO UPDATE SET value = excluded.value WHERE key = 'schema'",
            vec![
                named(":schema", SCHEMA.to_string()),
                named(":id", uuid::Uuid::new_v4().to_string()),
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
            Some(Value::Text(id)) => Ok((id.clone(), created)),
            _ => Err(format!("{}: flowhook_meta holds no id", self.url)),
        }
    }

    /// Whether the server's database may be flowhook's: empty, or holding nothing but
    /// flowhook's tables (`flowhook_*` and the shared ones) and indexes on them, with
    /// `flowhook_meta` (whose mark, an `application` key or, before the mark existed, an `id`,
    /// [`Server::look`] checks before it writes). Anything else is another application's
    /// database, refused before a single write, so that its schema stays as it is.
    async fn check_owner(&self, tables: &[(Shared, Vec<Column>)]) -> Result<Owner> {
        // A batch of one: one request, where a query takes three.
        let objects = self
            .batch(
                "read the schema",
                "SELECT type, name, tbl_name FROM sqlite_master
                 WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
                   AND name NOT LIKE 'libsql\\_%' ESCAPE '\\'
                   AND name NOT LIKE '\\_litestream%' ESCAPE '\\'",
            )
            .await?
            .into_iter()
            .next()
            .unwrap_or_default();
        let text = |v: Option<&Value>| match v {
            Some(Value::Text(t)) => t.clone(),
            _ => String::new(),
        };
        let ours = |table: &str| {
            table.starts_with("flowhook_") || tables.iter().any(|(t, _)| t.name == table)
        };
        let foreign: Vec<String> = objects
            .iter()
            .filter(|r| {
                let (kind, name) = (text(r.first()), text(r.get(1)));
                match kind.as_str() {
                    "table" => !ours(&name),
                    "index" => !ours(&text(r.get(2))),
                    _ => true,
                }
            })
            .map(|r| format!("{} {}", text(r.first()), text(r.get(1))))
            .collect();
        let has = |name: &str| objects.iter().any(|r| text(r.get(1)) == name);
        let owner = Owner {
            empty: objects.is_empty(),
            machines: has("flowhook_machines"),
            foreign,
        };
        if owner.empty || owner.foreign.is_empty() && has("flowhook_meta") {
            return Ok(owner);
        }
        Err(owner.refusal(&self.url))
    }

    /// Refuses a database whose `flowhook_meta` does not say it is flowhook's (`marked`, an
    /// SQL condition), before anything is created in it.
    async fn require_mark(&self, marked: &str) -> Result<()> {
        let rows = self
            .query(
                "read flowhook_meta",
                &format!("SELECT {marked}"),
                Vec::new(),
            )
            .await?;
        match rows.first().and_then(|r| r.first()) {
            Some(Value::Integer(1)) => Ok(()),
            _ => Err(Owner::default().refusal(&self.url)),
        }
    }

    /// A server's memory is all sealed with one team key, or all plain: `flowhook_meta`
    /// keeps the key's check value (`found`, see `seal.rs`). A machine with another key, or
    /// without one, is refused before it writes anything; the first machine with a key marks
    /// a server no machine has used yet (`used`: machines registered before this sync).
    async fn check_sealed(
        &self,
        found: Option<&String>,
        used: bool,
        key_check: Option<&str>,
    ) -> Result<()> {
        let url = &self.url;
        let mut found = found.cloned();
        if let (None, Some(check)) = (&found, key_check) {
            if used {
                return Err(format!(
                    "{url} holds the team's memory unencrypted: sealed rows cannot join it; \
                     use a new database for encrypted memory, or set sync.encrypt = false"
                ));
            }
            self.execute(
                "mark the server encrypted",
                "INSERT INTO flowhook_meta (key, value) VALUES ('encryption', :check)
                 ON CONFLICT DO NOTHING",
                vec![named(":check", check)],
            )
            .await?;
            let rows = self
                .query(
                    "read the encryption mark",
                    "SELECT value FROM flowhook_meta WHERE key = 'encryption'",
                    Vec::new(),
                )
                .await?;
            found = match rows.first().and_then(|r| r.first()) {
                Some(Value::Text(v)) => Some(v.clone()),
                _ => None,
            };
        }
        match (found, key_check) {
            (Some(m), Some(c)) if m == c => Ok(()),
            (Some(_), Some(_)) => Err(format!(
                "{url}: the team's memory there is sealed with another key than this machine's \
                 (FLOWHOOK_TEAM_KEY or sync.key_file); nothing was sent"
            )),
            (Some(_), None) => Err(format!(
                "{url}: the team's memory there is encrypted: set sync.encrypt = true and the \
                 team's key (FLOWHOOK_TEAM_KEY or sync.key_file); nothing was sent"
            )),
            (None, _) => Ok(()),
        }
    }

    /// One request, the live follower's look: whether another machine than `machine` pushed
    /// a row of a table past its sequence in `heads` (the last a sync saw). A range of the
    /// primary key from there: what it reads is what arrived since, not the table.
    pub async fn changed_since(&self, heads: &[(Shared, i64)], machine: &str) -> Result<bool> {
        let m = lit(machine);
        let any: Vec<String> = heads
            .iter()
            .map(|(t, after)| {
                format!(
                    "EXISTS (SELECT 1 FROM {} WHERE seq > {after} AND origin <> {m})",
                    t.name
                )
            })
            .collect();
        // A batch is one HTTP request; a query is two (its statement is described first).
        let results = self
            .batch(
                "look for the team's new rows",
                &format!("SELECT {};", any.join(" OR ")),
            )
            .await?;
        Ok(matches!(
            results.first().and_then(|r| r.first()).and_then(|r| r.first()),
            Some(Value::Integer(n)) if *n != 0
        ))
    }

    /// One trivial request: whether the server answers, and accepts the token.
    pub async fn ping(&self) -> Result<()> {
        self.query("answer", "SELECT 1", Vec::new()).await.map(drop)
    }

    /// Sends rows (`rows`: a JSON array of objects) recorded on `machine`. A row the server
    /// has is left as it is, so that sending again is harmless; a summary replaces the
    /// server's only when its version is higher (it moves to the end of the sequence, so
    /// that the others pull it again). A memory value the server holds a later version of
    /// (another machine's) is never dropped unsaid: the server answers with that version, in
    /// the same transaction, for this machine to take.
    pub async fn push(
        &self,
        t: &Shared,
        columns: &[Column],
        rows: &str,
        machine: &str,
    ) -> Result<Pushed> {
        let names: Vec<&str> = columns.iter().map(|(c, _)| c.as_str()).collect();
        let values: Vec<String> = names.iter().map(|c| format!("j.value ->> '{c}'")).collect();
        // A row this machine sent before it numbered its stream gets its number.
        let insert = format!(
            "INSERT INTO {table} ({list}, origin, stream)
             SELECT {values}, :machine, j.value ->> 'stream' FROM json_each(:rows) AS j WHERE true
             ON CONFLICT ({key}) DO UPDATE SET stream = excluded.stream
             WHERE {table}.origin = excluded.origin AND {table}.stream IS NULL",
            table = t.name,
            key = t.key,
            list = names.join(", "),
            values = values.join(", ")
        );
        let args = || vec![named(":rows", rows), named(":machine", machine)];
        let step = format!("push {}", t.name);
        if !t.versioned {
            let taken = self.execute(&step, &insert, args()).await?;
            return Ok(Pushed {
                taken,
                superseded: None,
            });
        }
        let replace = format!(
            "DELETE FROM {table} WHERE {whose} EXISTS (
                         SELECT 1 FROM json_each(:rows) AS j
                         WHERE j.value ->> '{key}' = {table}.{key}
                           AND (j.value ->> 'version' > {table}.version {tie}))",
            table = t.name,
            key = t.key,
            // A summary is replaced only by its own machine; a memory slot by anyone's newer
            // value, and of two values of one version, the one of the greater machine id wins,
            // here as on every machine (store_pulled), so that a tie never leaves them apart.
            // A version no machine takes (not a number, past the year 9999: written on the
            // server by hand) is replaced by any.
            whose = if t.any_writer {
                ""
            } else {
                "origin = :machine AND"
            },
            tie = if t.any_writer {
                format!(
                    "OR j.value ->> 'version' = {table}.version AND :machine > {table}.origin
                     OR typeof({table}.version) <> 'integer' OR {table}.version > {LATEST_VERSION}",
                    table = t.name
                )
            } else {
                String::new()
            }
        );
        // What stands of the slots sent, where this machine's value did not win.
        let superseded = t.any_writer.then(|| {
            format!(
                "SELECT seq, {key}, {object} FROM {table}
                 WHERE origin <> :machine
                   AND {key} IN (SELECT j.value ->> '{key}' FROM json_each(:rows) AS j)
                 ORDER BY seq",
                table = t.name,
                key = t.key,
                object = row_object(columns)
            )
        });
        let (replace, insert, superseded) =
            (replace.as_str(), insert.as_str(), superseded.as_deref());
        self.within(&step, |conn| async move {
            let tx = conn.transaction().await?;
            tx.execute(replace, args()).await?;
            let taken = tx.execute(insert, args()).await?;
            let lost = match superseded {
                Some(sql) => collect(tx.query(sql, args()).await?).await?,
                None => Vec::new(),
            };
            tx.commit().await?;
            Ok(Pushed {
                taken,
                superseded: page(&lost),
            })
        })
        .await
    }

    /// Up to `limit` rows other machines pushed of the `projects` (a JSON array; a row
    /// without a project column: of its session's), after sequence `after`. The team's other
    /// projects stay on the server.
    pub async fn pull(
        &self,
        t: &Shared,
        columns: &[Column],
        projects: &str,
        after: i64,
        machine: &str,
        limit: usize,
    ) -> Result<Option<Page>> {
        // A batch of one: one request, where a query takes three.
        let rows = self
            .batch(
                &format!("pull {}", t.name),
                &pull_sql(t, columns, projects, after, machine, limit),
            )
            .await?;
        Ok(rows.first().and_then(|rows| page(rows)))
    }
}

/// What the server's schema says of its owner (see [`Server::check_owner`]).
#[derive(Default)]
struct Owner {
    /// Nothing there yet: it becomes flowhook's.
    empty: bool,
    /// `flowhook_machines` exists.
    machines: bool,
    /// What flowhook did not create.
    foreign: Vec<String>,
}

impl Owner {
    /// Why flowhook leaves the database at `url` alone.
    fn refusal(&self, url: &str) -> String {
        let what = if self.foreign.is_empty() {
            "tables of flowhook's names, but no flowhook_meta saying flowhook made them".to_owned()
        } else {
            format!("what flowhook did not create ({})", self.foreign.join(", "))
        };
        format!(
            "{url}: this database holds {what}: it belongs to another application, and flowhook \
             leaves it untouched; point database.url at a database of flowhook's own (a new, \
             empty one)"
        )
    }
}

/// What the server made of a push.
pub struct Pushed {
    /// The rows it took.
    pub taken: u64,
    /// Of the memory values sent, those it holds a later version of, as a pull gives them.
    pub superseded: Option<Page>,
}

/// What the first request of a sync found.
pub struct Look {
    /// The server's id, when its tables are complete (else `prepare` makes what is missing).
    pub id: Option<String>,
    /// Its generation ("" before any was written).
    pub generation: String,
    /// The machines it knows: (id, label).
    pub machines: Vec<(String, String)>,
}

/// What the second request found of one table.
pub struct Survey {
    /// The largest stream number of this machine's rows there.
    pub held: i64,
    /// The table's last sequence.
    pub last: i64,
    /// The key of the row at this machine's pull cursor.
    pub at_cursor: Option<String>,
    /// The first page of the pull (`Some(None)`: nothing to pull; `None`: not read).
    pub page: Option<Option<Page>>,
}

/// A page of pulled rows.
pub struct Page {
    /// The sequence of its last row, and that row's key.
    pub last: (i64, String),
    /// The rows, a JSON array of objects with `origin` and the server's `seq`, and how many.
    pub rows: String,
    pub rows_count: usize,
}

/// Whether the server refused for being busy with another writer.
fn busy(e: &libsql::Error) -> bool {
    let m = e.to_string();
    m.contains("SQLITE_BUSY") || m.contains("database is locked")
}

/// Between half and all of `pause`, at random: machines that met a busy server together do
/// not all come back together.
fn jitter(pause: Duration) -> Duration {
    let r = uuid::Uuid::new_v4().as_u128() % 1000;
    pause / 2 + pause * r as u32 / 2000
}

/// `s` as an SQL string literal.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The pull of up to `limit` rows of `t` after sequence `after`, other machines' only, of the
/// `projects` (a JSON array; a row without a project column: of its session's): the sequence,
/// key and JSON object of each.
fn pull_sql(
    t: &Shared,
    columns: &[Column],
    projects: &str,
    after: i64,
    machine: &str,
    limit: usize,
) -> String {
    let of = format!("IN (SELECT value FROM json_each({}))", lit(projects));
    let which = if columns.iter().any(|(c, _)| c == "project") {
        format!("project {of}")
    } else {
        format!(
            "EXISTS (SELECT 1 FROM session_summaries s
                     WHERE s.session_id = {}.session_id AND s.project {of})",
            t.name
        )
    };
    format!(
        "SELECT seq, {key}, {object} FROM {name}
         WHERE seq > {after} AND origin <> {m} AND {which} ORDER BY seq LIMIT {limit}",
        key = t.key,
        object = row_object(columns),
        name = t.name,
        m = lit(machine)
    )
}

/// A row of a table with `columns` as the JSON object a pull gives: its columns, `origin`
/// and the server's `seq`.
fn row_object(columns: &[Column]) -> String {
    let mut pairs: Vec<String> = columns.iter().map(|(c, _)| format!("'{c}', {c}")).collect();
    pairs.push("'origin', origin, 'seq', seq".to_owned());
    format!("json_object({})", pairs.join(", "))
}

/// The rows of a query, their values as they came.
async fn collect(mut rows: libsql::Rows) -> libsql::Result<Vec<Vec<Value>>> {
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        out.push(
            (0..row.column_count())
                .map(|i| row.get_value(i))
                .collect::<libsql::Result<_>>()?,
        );
    }
    Ok(out)
}

/// A key as text, whatever its type on the server (a row there may be anyone's).
fn key_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::Text(k)) => k.clone(),
        Some(Value::Integer(n)) => n.to_string(),
        Some(Value::Real(r)) => r.to_string(),
        _ => String::new(),
    }
}

fn page(rows: &[Vec<Value>]) -> Option<Page> {
    let last = rows.last()?;
    let Some(Value::Integer(seq)) = last.first() else {
        return None;
    };
    let key = key_text(last.get(1));
    let objects: Vec<&str> = rows
        .iter()
        .filter_map(|r| match r.get(2) {
            Some(Value::Text(o)) => Some(o.as_str()),
            _ => None,
        })
        .collect();
    Some(Page {
        last: (*seq, key),
        rows: format!("[{}]", objects.join(",")),
        rows_count: rows.len(),
    })
}
